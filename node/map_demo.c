/*
 * map_demo.c - see map_demo.h.
 */
#include "node/map_demo.h"
#include "node/map_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_MAX 24

typedef struct {
    const char *unit, *name;
    double ring[RING_MAX][2]; /* lon, lat; closed by the seed */
    size_t n;
} demo_boundary;

/* The communes hold the demo's sample reports (18.66-18.70 N, 105.66-105.70 E). */
static const demo_boundary demo_boundaries[] = {
    {"40",
     "Tỉnh Nghệ An", /* the Lao border from Natural Earth, the rest sketched */
     {{105.14, 18.60}, {105.04, 18.70}, {104.71, 18.80}, {104.50, 18.97}, {104.26, 19.10},
      {103.92, 19.26}, {103.97, 19.40}, {104.09, 19.50}, {104.07, 19.66}, {104.34, 19.68},
      {104.58, 19.62}, {104.78, 19.78}, {104.87, 19.97}, {105.15, 19.95}, {105.45, 19.65},
      {105.80, 19.32}, {105.70, 19.05}, {105.77, 18.76}, {105.75, 18.62}, {105.62, 18.56},
      {105.40, 18.54}},
     21},
    {"412",
     "Thành phố Vinh",
     {{105.600, 18.700},
      {105.640, 18.770},
      {105.720, 18.765},
      {105.745, 18.690},
      {105.725, 18.625},
      {105.650, 18.620}},
     6},
    {"16681",
     "Phường Bến Thủy",
     {{105.655, 18.650}, {105.715, 18.648}, {105.718, 18.705}, {105.660, 18.708}},
     4},
    {"16684",
     "Xã Nghi Liên",
     {{105.612, 18.712},
      {105.652, 18.714},
      {105.660, 18.760},
      {105.640, 18.766},
      {105.615, 18.745}},
     5},
};

static json_t *demo_feature(const demo_boundary *b)
{
    json_t *ring = json_array();
    for (size_t i = 0; i <= b->n; i++) {
        const double *p = b->ring[i % b->n];
        json_array_append_new(ring, json_pack("[f,f]", p[0], p[1]));
    }
    return json_pack("{s:s, s:{s:s}, s:{s:s, s:[o]}}", "type", "Feature", "properties", "name",
                     b->name, "geometry", "type", "Polygon", "coordinates", ring);
}

int map_demo_seed(store *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof demo_boundaries / sizeof *demo_boundaries; i++) {
        const demo_boundary *b = &demo_boundaries[i];
        json_t *f = demo_feature(b);
        char *text = f ? json_dumps(f, JSON_COMPACT) : NULL;
        json_decref(f);
        int rc = text ? store_local_put(s, MAP_BOUNDARIES_TABLE, b->unit, strlen(b->unit), text,
                                        strlen(text), err, errlen)
                      : -1;
        free(text);
        if (rc) {
            if (!text)
                snprintf(err, errlen, "out of memory writing the demo boundary of %s", b->unit);
            return -1;
        }
    }
    return 0;
}
