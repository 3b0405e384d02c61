/*
 * streets.c - see streets.h.
 */
#include "node/streets.h"
#include "lib/mpjson.h"
#include "node/env/live_record.h"
#include "replication/unit_tree.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int street_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    char err[128];
    if (record_is_deleted(rec, reclen))
        return 0;
    json_t *j = record_to_json(rec, reclen, id, idlen, err, sizeof err);
    if (j && json_is_string(json_object_get(j, "name")) &&
        json_is_string(json_object_get(j, "unit")) && json_is_number(json_object_get(j, "lat")) &&
        json_is_number(json_object_get(j, "lon")))
        json_array_append(ctx, j);
    json_decref(j);
    return 0;
}

json_t *streets_load(store *s)
{
    json_t *out = json_array();
    if (out)
        store_records(s, STREETS_COLL, street_one, out);
    return out;
}

typedef struct {
    store *s;
    const node_config *c;
    unit_tree *t;
} streets_import;

void *streets_import_open(store *s, const node_config *c)
{
    streets_import *im = calloc(1, sizeof *im);
    if (im && (im->t = unit_tree_new()) && !unit_tree_load(im->t, s)) {
        im->s = s;
        im->c = c;
        return im;
    }
    if (im)
        unit_tree_free(im->t);
    free(im);
    return NULL;
}

void streets_import_close(void *ctx)
{
    streets_import *im = ctx;
    unit_tree_free(im->t);
    free(im);
}

/* Number field key of line inside [lo, hi] into *v; false with e. */
static bool check_degrees(const json_t *line, const char *key, double lo, double hi, double *v,
                          lt_error *e)
{
    const json_t *j = json_object_get(line, key);
    *v = json_number_value(j);
    if (json_is_number(j) && *v >= lo && *v <= hi)
        return true;
    lt_error_set(e, LT_EINVAL, NULL,
                 "must be a number of degrees between %g and %g (inside Vietnam), e.g. %g", lo, hi,
                 (lo + hi) / 2);
    return false;
}

/* The optional "aliases": an array of non-empty strings; false with e. */
static bool check_aliases(const json_t *a, lt_error *e)
{
    size_t i;
    const json_t *v;
    if (!a)
        return true;
    bool ok = json_is_array(a);
    json_array_foreach(a, i, v) ok = ok && json_is_string(v) && json_string_length(v) > 0;
    if (!ok)
        lt_error_set(e, LT_EINVAL, NULL,
                     "must be an array of the street's other names, e.g. [\"Đường Lê Lợi\"]");
    return ok;
}

int streets_import_check(void *ctx, const json_t *line, json_t **fields,
                         char id[ENTRY_MAX_NAME + 1], const char **field, lt_error *e)
{
    streets_import *im = ctx;
    const json_t *jid = json_object_get(line, "id"), *name = json_object_get(line, "name");
    const char *unit = json_string_value(json_object_get(line, "unit"));
    double lat, lon;
    *field = "id";
    if (!json_is_string(jid) || !entry_id_valid(json_string_value(jid), json_string_length(jid)))
        return lt_error_set(e, LT_EINVAL, NULL,
                            "must be the street's slug: a string of 1-128 bytes, e.g. "
                            "\"16681-le-loi\"");
    *field = "name";
    if (!json_is_string(name) || !json_string_length(name))
        return lt_error_set(e, LT_EINVAL, NULL, "must be the street's name, e.g. \"Lê Lợi\"");
    *field = "unit";
    if (!unit || !unit_tree_known(im->t, unit, strlen(unit)) ||
        !unit_tree_within(im->t, unit, strlen(unit), im->c->unit, strlen(im->c->unit)))
        return lt_error_set(e, LT_EINVAL, NULL,
                            "must be the code of a unit known to this node, %s or under it "
                            "(lienthong unit list shows them)",
                            im->c->unit);
    *field = "lat";
    if (!check_degrees(line, "lat", STREETS_LAT_MIN, STREETS_LAT_MAX, &lat, e))
        return -1;
    *field = "lon";
    if (!check_degrees(line, "lon", STREETS_LON_MIN, STREETS_LON_MAX, &lon, e))
        return -1;
    *field = "aliases";
    const json_t *aliases = json_object_get(line, "aliases");
    if (!check_aliases(aliases, e))
        return -1;
    *field = "";
    snprintf(id, ENTRY_MAX_NAME + 1, "%s", json_string_value(jid));
    *fields = json_pack("{s:s, s:O, s:s, s:f, s:f}", "id", id, "name", name, "unit", unit, "lat",
                        lat, "lon", lon);
    if (*fields && aliases)
        json_object_set(*fields, "aliases", (json_t *)aliases);
    return *fields ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
}

/* True when record id is stored with exactly fields (id aside). */
static bool street_unchanged(store *s, const char *id, const json_t *fields)
{
    json_t *j = live_record_read(s, STREETS_COLL, id, NULL);
    bool same = j && json_equal(j, fields);
    json_decref(j);
    return same;
}

/* Packs fields (id left out) into w, addressed to the street's unit. */
static int street_entry(const json_t *fields, store_write *w, const char **to, uint8_t **body,
                        lt_error *e)
{
    json_t *f = json_deep_copy(fields);
    size_t len = 0;
    int rc = f ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    if (!rc) {
        json_object_del(f, "id");
        rc = mpjson_pack_object(f, body, &len, e->message, sizeof e->message)
                 ? lt_error_mark(e, LT_EINVAL, NULL)
                 : 0;
    }
    json_decref(f);
    *to = json_string_value(json_object_get(fields, "unit"));
    *w = (store_write){STREETS_COLL,
                       json_string_value(json_object_get(fields, "id")),
                       ENTRY_OP_PUT,
                       *body,
                       len,
                       to,
                       1};
    return rc;
}

int streets_import_write(void *ctx, json_t *const *fields, size_t n, size_t *written,
                         size_t *unchanged, lt_error *e)
{
    streets_import *im = ctx;
    store_write *w = calloc(n + 1, sizeof *w);
    const char **to = calloc(n + 1, sizeof *to);
    uint8_t **bodies = calloc(n + 1, sizeof *bodies);
    size_t k = 0;
    int rc = w && to && bodies ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        const char *id = json_string_value(json_object_get(fields[i], "id"));
        if (street_unchanged(im->s, id, fields[i]))
            (*unchanged)++;
        else if (!(rc = street_entry(fields[i], &w[k], &to[k], &bodies[k], e)))
            k++;
    }
    store_author a = node_author(im->c);
    int wrc =
        rc || !k ? 0 : store_write_local(im->s, &a, w, k, NULL, e->message, sizeof e->message);
    if (wrc)
        rc = lt_error_mark(e, store_write_errkind(wrc), NULL);
    else if (!rc)
        *written += k;
    for (size_t i = 0; bodies && i < n; i++)
        free(bodies[i]);
    free(bodies);
    free(to);
    free(w);
    return rc;
}

json_t *streets_export_line(const json_t *rec)
{
    return json_deep_copy(rec);
}

/* The demo network's streets: real names of Vinh, points inside the demo
 * boundaries of node/map_demo.c. */
static const struct {
    const char *id, *unit, *name;
    double lat, lon;
} demo_streets[] = {
    {"16681-le-loi", "16681", "Lê Lợi", 18.6790, 105.6780},
    {"16681-quang-trung", "16681", "Quang Trung", 18.6720, 105.6850},
    {"16681-nguyen-du", "16681", "Nguyễn Du", 18.6600, 105.6950},
    {"16681-dai-lo-le-nin", "16681", "Đại lộ Lê Nin", 18.6930, 105.6700},
    {"16681-truong-thi", "16681", "Trường Thi", 18.6650, 105.7050},
    {"16684-nguyen-trai", "16684", "Nguyễn Trãi", 18.7300, 105.6350},
    {"16684-quoc-lo-1a", "16684", "Quốc lộ 1A", 18.7450, 105.6300},
    {"16684-nghi-lien", "16684", "Đường Nghi Liên", 18.7200, 105.6450},
};

int streets_demo_seed(store *s, const node_config *c, char *err, size_t errlen)
{
    lt_error e = {0};
    size_t written = 0, unchanged = 0;
    json_t *fields[sizeof demo_streets / sizeof *demo_streets];
    size_t n = 0;
    for (size_t i = 0; i < sizeof demo_streets / sizeof *demo_streets; i++)
        if (!strcmp(demo_streets[i].unit, c->unit))
            fields[n++] = json_pack("{s:s, s:s, s:s, s:f, s:f}", "id", demo_streets[i].id, "name",
                                    demo_streets[i].name, "unit", demo_streets[i].unit, "lat",
                                    demo_streets[i].lat, "lon", demo_streets[i].lon);
    streets_import im = {s, c, NULL};
    int rc = n ? streets_import_write(&im, fields, n, &written, &unchanged, &e) : 0;
    for (size_t i = 0; i < n; i++)
        json_decref(fields[i]);
    if (rc)
        snprintf(err, errlen, "the demo streets of %s: %s", c->unit, e.message);
    return rc;
}
