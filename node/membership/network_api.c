/*
 * network_api.c - see network_api.h.
 */
#include "node/membership/network_api.h"
#include "lib/hex.h"
#include "node/links/repl_link.h"
#include "node/membership/network.h"
#include "node/people/auth.h"
#include "storage/entry.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const unit_tree *tree;
    const char *unit; /* the caller's */
    json_t *units;
} units_ctx;

/* True when a is the caller's unit, inside its subtree or one of its ancestors. */
static bool unit_in_view(const unit_tree *t, const char *caller, const char *a)
{
    return unit_tree_within(t, a, strlen(a), caller, strlen(caller)) ||
           unit_tree_within(t, caller, strlen(caller), a, strlen(a));
}

static int units_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    units_ctx *u = ctx;
    char code[UNIT_CODE_CAP], err[128];
    if (idlen >= sizeof code || record_is_deleted(rec, len))
        return 0;
    memcpy(code, id, idlen);
    code[idlen] = 0;
    if (!unit_in_view(u->tree, u->unit, code))
        return 0;
    json_t *r = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (!r)
        return 0;
    json_t *o =
        json_pack("{s:s, s:O?, s:O?, s:O?}", "code", code, "name", json_object_get(r, "name"),
                  "tier", json_object_get(r, "tier"), "parent", json_object_get(r, "parent"));
    json_array_append_new(u->units, o);
    json_decref(r);
    return 0;
}

typedef struct {
    node_env *d;
    const unit_tree *tree;
    const char *unit;
    json_t *origins;
} origins_ctx;

static int origins_one(void *ctx, const store_origin *o)
{
    origins_ctx *oc = ctx;
    char key[65], unit[NODE_CODE_MAX];
    if (network_unit_of_key(oc->d->store, o->origin, unit) ||
        !unit_in_view(oc->tree, oc->unit, unit))
        return 0;
    hex_encode(o->origin, ENTRY_KEY_BYTES, key);
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint64_t last_ms = 0;
    entry_view v;
    char err[128];
    if (store_entry_get(oc->d->store, o->origin, o->max_seq, &bytes, &len) == 0 &&
        entry_decode(bytes, len, &v, err, sizeof err) == 0) {
        last_ms = v.hlc >> 16;
        entry_view_free(&v);
    }
    free(bytes);
    json_array_append_new(oc->origins,
                          json_pack("{s:s, s:s, s:I, s:I, s:I}", "node", key, "unit", unit,
                                    "max_seq", (json_int_t)o->max_seq, "count",
                                    (json_int_t)o->count, "last_ms", (json_int_t)last_ms));
    return 0;
}

void network_api_get(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    auth_caller c;
    if (!http_path_exact(req, res, "/api/v1/network", NULL))
        return;
    if (auth_require(d->auth, req, res, ROLE_VIEWER, &c))
        return;
    const unit_tree *tree = auth_tree(d->auth);
    units_ctx uc = {tree, c.unit, json_array()};
    origins_ctx oc = {d, tree, c.unit, json_array()};
    if (store_records(d->store, "units", units_one, &uc) < 0 ||
        store_origins(d->store, origins_one, &oc) < 0) {
        json_decref(uc.units);
        json_decref(oc.origins);
        http_respond_error(res, 500, "the node could not read its store; check its log");
        return;
    }
    http_respond_json(res, 200,
                      json_pack("{s:s, s:s, s:o, s:o, s:o}", "unit", d->config->unit, "caller_unit",
                                c.unit, "units", uc.units, "origins", oc.origins, "sync",
                                repl_links_status(d->links)));
}
