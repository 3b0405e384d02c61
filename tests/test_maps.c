/*
 * test_maps.c - the pure parts of the maps offline: basemap_range_parse
 * (node/basemap.h) takes one satisfiable byte range and nothing else, and
 * geocode_match (node/geocode.h) finds units by folded name words, most
 * specific first, nothing for an address naming no unit; streets
 * imported into a real store (node/streets.h, the importer of `lienthong
 * import --collection streets`) are checked field by field, refused
 * whole, and found before units, those of a unit the query names first.
 */
#include "lib/mpjson.h"
#include "node/basemap.h"
#include "node/domains.h"
#include "node/geocode.h"
#include "node/streets.h"
#include "tests/check.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

static void ranges(void)
{
    uint64_t off = 99, len = 99;
    CHECK(basemap_range_parse("bytes=0-126", 1000, &off, &len) == 0 && off == 0 && len == 127);
    CHECK(basemap_range_parse("bytes=900-", 1000, &off, &len) == 0 && off == 900 && len == 100);
    CHECK(basemap_range_parse("bytes=990-5000", 1000, &off, &len) == 0 && off == 990 && len == 10);
    CHECK(basemap_range_parse("bytes=-10", 1000, &off, &len) == 0 && off == 990 && len == 10);
    CHECK(basemap_range_parse("bytes=-5000", 1000, &off, &len) == 0 && off == 0 && len == 1000);
    off = len = 7;
    CHECK(basemap_range_parse("bytes=1000-", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=5-4", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=0-1,5-6", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=a-b", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=-0", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=--1", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("items=0-1", 1000, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=0-0", 0, &off, &len) == -1);
    CHECK(basemap_range_parse("bytes=18446744073709551616-", 1000, &off, &len) == -1);
    CHECK(off == 7 && len == 7); /* a refused range leaves the outputs alone */
}

static json_t *square(const char *unit, const char *name, double w, double s, double e, double n)
{
    return json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:[[[f,f],[f,f],[f,f],[f,f],[f,f]]]}}", "type",
                     "Feature", "properties", "unit", unit, "name", name, "geometry", "type",
                     "Polygon", "coordinates", w, s, e, s, e, n, w, n, w, s);
}

static const char *unit_at(json_t *r, size_t i)
{
    return json_string_value(json_object_get(json_array_get(r, i), "unit"));
}

static void geocoding(void)
{
    json_t *fc = json_pack("{s:s, s:[o,o,o]}", "type", "FeatureCollection", "features",
                           square("412", "Thành phố Vinh", 105.6, 18.6, 105.8, 18.8),
                           square("16681", "Phường Bến Thủy", 105.66, 18.65, 105.72, 18.71),
                           square("16684", "Xã Nghi Liên", 105.61, 18.71, 105.66, 18.76));
    json_t *r = geocode_match(fc, NULL, "ben thuy");
    CHECK(json_array_size(r) == 1 && !strcmp(unit_at(r, 0), "16681"));
    double lat = json_number_value(json_object_get(json_array_get(r, 0), "lat"));
    double lon = json_number_value(json_object_get(json_array_get(r, 0), "lon"));
    CHECKF(lat > 18.679 && lat < 18.681 && lon > 105.689 && lon < 105.691, "%f %f", lat, lon);
    json_decref(r);
    r = geocode_match(fc, NULL, "Số 12 Hồ Tùng Mậu, PHƯỜNG BẾN THỦY, TP. Vinh, Nghệ An");
    CHECK(json_array_size(r) == 2 && !strcmp(unit_at(r, 0), "16681") &&
          !strcmp(unit_at(r, 1), "412"));
    json_decref(r);
    r = geocode_match(fc, NULL, "Bến"); /* every word of the name, not a part */
    CHECK(json_array_size(r) == 0);
    json_decref(r);
    r = geocode_match(fc, NULL,
                      "Phường Hàng Bạc, Hà Nội"); /* the kind word alone matches nothing */
    CHECK(json_array_size(r) == 0);
    json_decref(r);
    r = geocode_match(fc, NULL, "nghi lien");
    CHECK(json_array_size(r) == 1 && !strcmp(unit_at(r, 0), "16684"));
    json_decref(r);
    json_decref(fc);
}

static void add_unit(store *s, const node_config *c, const char *code, const char *parent,
                     const char *tier)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "code", code, "name", code, "tier", tier,
                          "parent", parent);
    uint8_t *body;
    size_t len;
    REQUIRE(mpjson_pack_object(j, &body, &len, err, sizeof err) == 0);
    json_decref(j);
    store_write w = {"units", code, ENTRY_OP_PUT, body, len, NULL, 0};
    store_author a = node_author(c);
    CHECKF(store_write_local(s, &a, &w, 1, NULL, err, sizeof err) == 0, "%s", err);
    free(body);
}

/* The field check names for line (JSON text), or NULL when it passes. */
static const char *refused_field(void *im, const char *line)
{
    json_t *j = json_loads(line, 0, NULL), *fields = NULL;
    char id[ENTRY_MAX_NAME + 1];
    const char *field = NULL;
    lt_error e = {0};
    int rc = streets_import_check(im, j, &fields, id, &field, &e);
    json_decref(j);
    json_decref(fields);
    if (rc)
        CHECKF(e.kind == LT_EINVAL && *e.message, "%s", e.message);
    return rc ? field : NULL;
}

/* Checks and writes the lines; returns how many were written. */
static size_t import(void *im, const char *const *lines, size_t n)
{
    json_t *fields[8];
    char id[ENTRY_MAX_NAME + 1];
    const char *field;
    lt_error e = {0};
    size_t written = 0, unchanged = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_loads(lines[i], 0, NULL);
        CHECKF(streets_import_check(im, j, &fields[i], id, &field, &e) == 0, "%s: %s", field,
               e.message);
        json_decref(j);
    }
    CHECKF(streets_import_write(im, fields, n, &written, &unchanged, &e) == 0, "%s", e.message);
    CHECK(written + unchanged == n);
    for (size_t i = 0; i < n; i++)
        json_decref(fields[i]);
    return written;
}

static const char *street_at(json_t *r, size_t i)
{
    return json_string_value(json_object_get(json_array_get(r, i), "street"));
}

static void streets(void)
{
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    snprintf(c.unit, sizeof c.unit, "D1");
    snprintf(c.tier, sizeof c.tier, "district");
    crypto_sign_keypair(c.pk, c.sk);
    store *s = NULL;
    store_options o = {0};
    domains_store_options(&o);
    CHECKF(store_open(&s, check_tmpdir(), &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s);
    add_unit(s, &c, "VN", "", "national");
    add_unit(s, &c, "P", "VN", "province");
    add_unit(s, &c, "D1", "P", "district");
    add_unit(s, &c, "D2", "P", "district");
    add_unit(s, &c, "C1", "D1", "commune");
    add_unit(s, &c, "C2", "D1", "commune");
    add_unit(s, &c, "C3", "D2", "commune");
    void *im = streets_import_open(s, &c);
    REQUIRE(im);
    const char *bad[][2] = {
        {"{\"id\":\"x\",\"name\":\"\",\"unit\":\"C1\",\"lat\":18.7,\"lon\":105.7}", "name"},
        {"{\"id\":\"x\",\"unit\":\"C1\",\"lat\":18.7,\"lon\":105.7}", "name"},
        {"{\"id\":\"x\",\"name\":\"A\",\"unit\":\"C9\",\"lat\":18.7,\"lon\":105.7}", "unit"},
        {"{\"id\":\"x\",\"name\":\"A\",\"unit\":\"C3\",\"lat\":18.7,\"lon\":105.7}", "unit"},
        {"{\"id\":\"x\",\"name\":\"A\",\"unit\":\"C1\",\"lat\":48.7,\"lon\":105.7}", "lat"},
        {"{\"id\":\"x\",\"name\":\"A\",\"unit\":\"C1\",\"lat\":18.7,\"lon\":\"105.7\"}", "lon"},
        {"{\"id\":\"x\",\"name\":\"A\",\"unit\":\"C1\",\"lat\":18.7,\"lon\":105.7,"
         "\"aliases\":[\"\"]}",
         "aliases"},
        {"{\"name\":\"A\",\"unit\":\"C1\",\"lat\":18.7,\"lon\":105.7}", "id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *f = refused_field(im, bad[i][0]);
        CHECKF(f && !strcmp(f, bad[i][1]), "line %zu: %s instead of %s", i, f ? f : "(passed)",
               bad[i][1]);
    }
    json_t *none = streets_load(s);
    CHECK(json_array_size(none) == 0); /* checks write nothing */
    json_decref(none);
    const char *lines[] = {
        "{\"id\":\"c1-qt\",\"name\":\"Quang Trung\",\"unit\":\"C1\",\"lat\":18.68,\"lon\":105.69}",
        "{\"id\":\"c2-qt\",\"name\":\"Quang Trung\",\"unit\":\"C2\",\"lat\":18.73,\"lon\":105.63}",
        "{\"id\":\"c1-tt\",\"name\":\"Trường Thi\",\"unit\":\"C1\",\"lat\":18.66,\"lon\":105.70,"
        "\"aliases\":[\"Đường Trường Thi Mới\"]}",
    };
    CHECK(import(im, lines, 3) == 3);
    CHECK(import(im, lines, 3) == 0); /* the same again: unchanged */
    streets_import_close(im);
    json_t *st = streets_load(s);
    CHECK(json_array_size(st) == 3);
    json_t *fc = json_pack("{s:s, s:[o,o]}", "type", "FeatureCollection", "features",
                           square("C1", "Phường Bến Thủy", 105.66, 18.65, 105.72, 18.71),
                           square("C2", "Xã Nghi Liên", 105.61, 18.71, 105.66, 18.76));
    json_t *r = geocode_match(fc, st, "12 Quang Trung, Bến Thủy");
    CHECK(json_array_size(r) == 3 && !strcmp(street_at(r, 0), "Quang Trung") &&
          !strcmp(unit_at(r, 0), "C1") && !strcmp(unit_at(r, 1), "C2") &&
          !strcmp(unit_at(r, 2), "C1") && !street_at(r, 2));
    CHECK(json_number_value(json_object_get(json_array_get(r, 0), "lat")) == 18.68);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(r, 0), "name")),
                  "Quang Trung, Phường Bến Thủy"));
    json_decref(r);
    r = geocode_match(fc, st, "số 3 quang trung, XÃ NGHI LIÊN");
    CHECK(json_array_size(r) == 3 && !strcmp(unit_at(r, 0), "C2") && street_at(r, 0));
    json_decref(r);
    r = geocode_match(fc, st, "Quang Trung"); /* no unit named: both streets, no unit */
    CHECK(json_array_size(r) == 2 && street_at(r, 0) && street_at(r, 1));
    json_decref(r);
    r = geocode_match(fc, st, "Trường"); /* every word, the kind word "thi" too */
    CHECK(json_array_size(r) == 0);
    json_decref(r);
    r = geocode_match(fc, st, "đường trường thi mới"); /* an alias */
    CHECK(json_array_size(r) == 1 && !strcmp(street_at(r, 0), "Trường Thi"));
    json_decref(r);
    json_decref(fc);
    json_decref(st);
    store_close(s);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    domains_install();
    ranges();
    geocoding();
    streets();
    return check_done();
}
