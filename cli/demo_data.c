/*
 * demo_data.c - the demo network's sample records. See demo_data.h.
 */
#include "cli/demo_data.h"
#include "lib/mpjson.h"
#include "lib/splitmix.h"
#include "node/domains.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_MAX_ROWS 64

typedef struct {
    store_write w[DEMO_MAX_ROWS];
    uint8_t *bodies[DEMO_MAX_ROWS];
    char ids[DEMO_MAX_ROWS][48];
    size_t n;
} demo_batch;

static int demo_add(demo_batch *b, const char *coll, json_t *body, const char *const *to,
                    size_t nto, char *err, size_t errlen)
{
    size_t len;
    if (b->n == DEMO_MAX_ROWS) {
        json_decref(body);
        snprintf(err, errlen, "too many demo rows");
        return -1;
    }
    int rc = mpjson_pack_object(body, &b->bodies[b->n], &len, err, errlen);
    json_decref(body);
    if (rc)
        return -1;
    b->w[b->n] = (store_write){coll, b->ids[b->n], ENTRY_OP_PUT, b->bodies[b->n], len, to, nto};
    b->n++;
    return 0;
}

static int demo_cameras(demo_batch *b, const node_config *c, uint64_t *rng, char *err,
                        size_t errlen)
{
    static const char *const fields[] = {"security", "traffic", "public_service"};
    for (int i = 0; i < 12; i++) {
        snprintf(b->ids[b->n], sizeof b->ids[0], "CAM-%s-%02d", c->unit, i + 1);
        json_t *cam =
            json_pack("{s:s, s:s, s:b, s:f, s:f, s:s}", "name", b->ids[b->n], "field",
                      fields[i % 3], "online", splitmix_next(rng) % 6 != 0, "lat",
                      18.67 + (double)(splitmix_next(rng) % 300) / 10000.0, "lon",
                      105.67 + (double)(splitmix_next(rng) % 300) / 10000.0, "unit", c->unit);
        if (demo_add(b, "cameras", cam, NULL, 0, err, errlen))
            return -1;
    }
    return 0;
}

int demo_data_write(const node_config *c, store *s, char *err, size_t errlen)
{
    demo_batch *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t rng = 0;
    for (const char *p = c->unit; *p; p++)
        rng = rng * 131 + (uint8_t)*p;
    int tier = node_tier_index(c, c->tier), rc = 0;
    bool leaf = tier == (int)c->ntiers - 1;
    if (!leaf && !c->root)
        rc = demo_cameras(b, c, &rng, err, errlen);
    if (!rc) {
        store_author a = node_author(c);
        rc = b->n ? store_write_local(s, &a, b->w, b->n, NULL, err, errlen) : 0;
    }
    if (!rc)
        rc = domains_demo_seed(s, c, &rng, err, errlen);
    for (size_t i = 0; i < b->n; i++)
        free(b->bodies[i]);
    free(b);
    return rc;
}
