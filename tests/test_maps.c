/*
 * test_maps.c - the pure parts of the maps offline: basemap_range_parse
 * (node/basemap.h) takes one satisfiable byte range and nothing else, and
 * geocode_match (node/geocode.h) finds units by folded name words, most
 * specific first, nothing for an address naming no unit.
 */
#include "node/basemap.h"
#include "node/geocode.h"
#include "tests/check.h"

#include <jansson.h>
#include <string.h>

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
    r = geocode_match(fc, NULL, "Phường Hàng Bạc, Hà Nội"); /* the kind word alone matches nothing */
    CHECK(json_array_size(r) == 0);
    json_decref(r);
    r = geocode_match(fc, NULL, "nghi lien");
    CHECK(json_array_size(r) == 1 && !strcmp(unit_at(r, 0), "16684"));
    json_decref(r);
    json_decref(fc);
}

int main(void)
{
    ranges();
    geocoding();
    return check_done();
}
