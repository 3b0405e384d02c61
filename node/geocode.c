/*
 * geocode.c - see geocode.h.
 */
#include "node/geocode.h"
#include "lib/fold.h"
#include "node/env/env.h"
#include "node/map_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLDED_MAX 1024

/* The words naming a unit's kind, folded: not needed in an address. */
static const char *const kind_words[] = {"tinh", "thanh", "pho",  "quan",  "huyen",
                                         "thi",  "xa",    "tran", "phuong"};

typedef struct {
    json_t *hit; /* {"unit", "name", "lat", "lon"} */
    int words;   /* words of the name matched */
    double area; /* of the ring's bounding box, degrees² */
} candidate;

static bool kind_word(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof kind_words / sizeof *kind_words; i++)
        if (strlen(kind_words[i]) == n && !memcmp(kind_words[i], w, n))
            return true;
    return false;
}

/* The number of words of folded name (not kind words) when every one is
 * a word of padded query " q ", else 0. */
static int name_words_in(const char *name, const char *padded)
{
    int n = 0;
    for (const char *w = name; *w;) {
        size_t len = strcspn(w, " ");
        if (!kind_word(w, len)) {
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
    if (x->words != y->words)
        return y->words - x->words;
    return (x->area > y->area) - (x->area < y->area);
}

json_t *geocode_match(const json_t *boundaries, const char *q)
{
    char padded[FOLDED_MAX + 2] = " ", name[FOLDED_MAX];
    size_t qn = fold_text(q, strlen(q), padded + 1, FOLDED_MAX - 1);
    strcpy(padded + 1 + qn, " ");
    const json_t *fs = json_object_get(boundaries, "features"), *f;
    size_t i, nc = 0;
    candidate *c = calloc(json_array_size(fs) + 1, sizeof *c);
    json_array_foreach(fs, i, f)
    {
        const json_t *props = json_object_get(f, "properties");
        const char *label = json_string_value(json_object_get(props, "name"));
        const char *unit = json_string_value(json_object_get(props, "unit"));
        double lat, lon, area;
        if (!c || !label || !unit)
            continue;
        fold_text(label, strlen(label), name, sizeof name);
        int words = name_words_in(name, padded);
        const json_t *ring = first_ring(json_object_get(f, "geometry"));
        if (!words || !ring || !ring_point(ring, &lat, &lon, &area))
            continue;
        c[nc++] = (candidate){
            json_pack("{s:s, s:s, s:f, s:f}", "unit", unit, "name", label, "lat", lat, "lon", lon),
            words, area};
    }
    json_t *out = json_array();
    if (c)
        qsort(c, nc, sizeof *c, candidate_cmp);
    for (size_t k = 0; k < nc; k++) {
        if (k < GEOCODE_MAX)
            json_array_append(out, c[k].hit);
        json_decref(c[k].hit);
    }
    free(c);
    return out;
}

static void answer_geocode(json_t *fc, const char *q, http_response *res)
{
    http_respond_json(res, 200, json_pack("{s:o}", "results", geocode_match(fc, q)));
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
