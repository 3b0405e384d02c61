/*
 * geocode.c - see geocode.h.
 */
#include "node/geocode.h"
#include "lib/fold.h"
#include "node/env/env.h"
#include "node/map_api.h"
#include "node/streets.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLDED_MAX 1024

/* The words naming a unit's kind, folded: not needed in an address. */
static const char *const kind_words[] = {"tinh", "thanh", "pho",  "quan",  "huyen",
                                         "thi",  "xa",    "tran", "phuong"};

typedef struct {
    json_t *hit;  /* {"unit", "name", "lat", "lon"[, "street"]} */
    int in_named; /* a street of a unit the query names too */
    int words;    /* words of the name matched */
    double area;  /* of the ring's bounding box, degrees²; 0 for a street */
} candidate;

static bool kind_word(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof kind_words / sizeof *kind_words; i++)
        if (strlen(kind_words[i]) == n && !memcmp(kind_words[i], w, n))
            return true;
    return false;
}

/* The number of words of folded name (not kind words when skip_kind)
 * when every one is a word of padded query " q ", else 0. */
static int name_words_in(const char *name, const char *padded, bool skip_kind)
{
    int n = 0;
    for (const char *w = name; *w;) {
        size_t len = strcspn(w, " ");
        if (!skip_kind || !kind_word(w, len)) {
            char probe[FOLD_TOKEN_MAX + 3];
            snprintf(probe, sizeof probe, " %.*s ", (int)len, w);
            if (!strstr(padded, probe))
                return 0;
            n++;
        }
        w += len + (w[len] == ' ');
    }
    return n;
}

/* The first outer ring of a Polygon or MultiPolygon geometry, or NULL. */
static const json_t *first_ring(const json_t *geom)
{
    const char *type = json_string_value(json_object_get(geom, "type"));
    const json_t *c = json_object_get(geom, "coordinates");
    if (type && !strcmp(type, "MultiPolygon"))
        c = json_array_get(c, 0);
    else if (!type || strcmp(type, "Polygon"))
        return NULL;
    return json_array_get(c, 0);
}

/* The point and bounding-box area of a ring; false when it has no vertex. */
static bool ring_point(const json_t *ring, double *lat, double *lon, double *area)
{
    double sx = 0, sy = 0, w = 1e9, e = -1e9, s = 1e9, n = -1e9;
    size_t i, count = 0;
    json_t *p;
    size_t last = json_array_size(ring) - 1; /* a closed ring repeats its first vertex */
    json_array_foreach(ring, i, p)
    {
        if (i == last && i > 0 && json_equal(p, json_array_get(ring, 0)))
            break;
        double x = json_number_value(json_array_get(p, 0)),
               y = json_number_value(json_array_get(p, 1));
        sx += x, sy += y, count++;
        w = x < w ? x : w, e = x > e ? x : e, s = y < s ? y : s, n = y > n ? y : n;
    }
    if (!count)
        return false;
    *lon = sx / (double)count, *lat = sy / (double)count, *area = (e - w) * (n - s);
    return true;
}

static int candidate_cmp(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    bool xs = json_object_get(x->hit, "street"), ys = json_object_get(y->hit, "street");
    if (xs != ys)
        return ys - xs;
    if (x->in_named != y->in_named)
        return y->in_named - x->in_named;
    if (x->words != y->words)
        return y->words - x->words;
    return (x->area > y->area) - (x->area < y->area);
}

/* The words of text (a name) matched in padded query, or 0. */
static int text_words(const char *text, const char *padded, bool skip_kind)
{
    char name[FOLDED_MAX];
    fold_text(text, strlen(text), name, sizeof name);
    return name_words_in(name, padded, skip_kind);
}

/* Appends to c the units whose name padded names; returns their number. */
static size_t match_units(const json_t *boundaries, const char *padded, candidate *c)
{
    const json_t *fs = json_object_get(boundaries, "features"), *f;
    size_t i, nc = 0;
    json_array_foreach(fs, i, f)
    {
        const json_t *props = json_object_get(f, "properties");
        const char *label = json_string_value(json_object_get(props, "name"));
        const char *unit = json_string_value(json_object_get(props, "unit"));
        double lat, lon, area;
        if (!label || !unit)
            continue;
        int words = text_words(label, padded, true);
        const json_t *ring = first_ring(json_object_get(f, "geometry"));
        if (!words || !ring || !ring_point(ring, &lat, &lon, &area))
            continue;
        c[nc++] = (candidate){
            json_pack("{s:s, s:s, s:f, s:f}", "unit", unit, "name", label, "lat", lat, "lon", lon),
            0, words, area};
    }
    return nc;
}

/* The most words of street s's name or an alias matched in padded, or 0. */
static int street_words(const json_t *s, const char *padded)
{
    int best = text_words(json_string_value(json_object_get(s, "name")), padded, false);
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(s, "aliases"), i, a)
    {
        int w = json_is_string(a) ? text_words(json_string_value(a), padded, false) : 0;
        best = w > best ? w : best;
    }
    return best;
}

/* The name of unit in boundaries, or NULL. */
static const char *unit_label(const json_t *boundaries, const char *unit)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(boundaries, "features"), i, f)
    {
        const json_t *props = json_object_get(f, "properties");
        const char *u = json_string_value(json_object_get(props, "unit"));
        if (u && !strcmp(u, unit))
            return json_string_value(json_object_get(props, "name"));
    }
    return NULL;
}

/* Appends to c (after the nu unit matches) the streets padded names;
 * returns their number. */
static size_t match_streets(const json_t *boundaries, const json_t *streets, const char *padded,
                            candidate *c, size_t nu)
{
    size_t i, nc = 0;
    const json_t *s;
    json_array_foreach(streets, i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *unit = json_string_value(json_object_get(s, "unit"));
        int words = name && unit ? street_words(s, padded) : 0;
        if (!words)
            continue;
        int in_named = 0;
        for (size_t k = 0; k < nu; k++)
            in_named |= !strcmp(json_string_value(json_object_get(c[k].hit, "unit")), unit);
        const char *ul = unit_label(boundaries, unit);
        char label[FOLDED_MAX];
        snprintf(label, sizeof label, "%s%s%s", name, ul ? ", " : "", ul ? ul : "");
        c[nu + nc++] = (candidate){json_pack("{s:s, s:s, s:s, s:O, s:O}", "street", name, "unit",
                                             unit, "name", label, "lat", json_object_get(s, "lat"),
                                             "lon", json_object_get(s, "lon")),
                                   in_named, words, 0};
    }
    return nc;
}

json_t *geocode_match(const json_t *boundaries, const json_t *streets, const char *q)
{
    char padded[FOLDED_MAX + 2] = " ";
    size_t qn = fold_text(q, strlen(q), padded + 1, FOLDED_MAX - 1);
    strcpy(padded + 1 + qn, " ");
    size_t cap =
        json_array_size(json_object_get(boundaries, "features")) + json_array_size(streets) + 1;
    candidate *c = calloc(cap, sizeof *c);
    json_t *out = json_array();
    if (!c)
        return out;
    size_t nu = match_units(boundaries, padded, c);
    size_t nc = nu + match_streets(boundaries, streets, padded, c, nu);
    qsort(c, nc, sizeof *c, candidate_cmp);
    for (size_t k = 0; k < nc; k++) {
        if (k < GEOCODE_MAX && c[k].hit)
            json_array_append(out, c[k].hit);
        json_decref(c[k].hit);
    }
    free(c);
    return out;
}

/* On the pool: the node's streets read beside the boundaries. */
static void answer_geocode(store *s, json_t *fc, const char *q, http_response *res)
{
    json_t *streets = streets_load(s);
    http_respond_json(res, 200, json_pack("{s:o}", "results", geocode_match(fc, streets, q)));
    json_decref(streets);
}

void geocode_api(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    if (!http_path_exact(req, res, "/api/v1/public/geocode", NULL))
        return;
    const char *q = http_request_query_param(req, "q");
    if (!q || !*q || strlen(q) > GEOCODE_Q_MAX) {
        http_respond_error(res, 400,
                           "q must be an address of 1 to %d bytes, e.g. "
                           "q=Phường Bến Thủy, Vinh",
                           GEOCODE_Q_MAX);
        return;
    }
    map_boundaries_offload(d, req, res, answer_geocode, q);
}
