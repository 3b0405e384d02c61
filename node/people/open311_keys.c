/*
 * open311_keys.c - see open311_keys.h. A key's row: BLAKE2b-256 of the
 * secret -> {"id", "name", "unit", "created"}; the id is the first 8 bytes
 * of that hash in hex, so it names a key without giving it away.
 */
#include "node/people/open311_keys.h"
#include "lib/hex.h"
#include "node/people/access.h"
#include "node/people/auth.h"

#include <stdlib.h>
#include <string.h>

#define KEYS_TABLE "open_keys" /* table names are a-z and _ only */

static void key_hash(const char *secret, uint8_t h[32])
{
    crypto_generichash(h, 32, (const uint8_t *)secret, strlen(secret), NULL, 0);
}

static int key_parse(const uint8_t *h, const uint8_t *v, size_t vlen, open311_key *k)
{
    json_t *j = json_loadb((const char *)v, vlen, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *unit = json_string_value(json_object_get(j, "unit"));
    if (!name || !unit) {
        json_decref(j);
        return -1;
    }
    memset(k, 0, sizeof *k);
    char hex[65];
    snprintf(k->id, sizeof k->id, "%s", hex_encode(h, OPEN311_KEY_ID / 2, hex));
    snprintf(k->name, sizeof k->name, "%s", name);
    snprintf(k->unit, sizeof k->unit, "%s", unit);
    k->created_ms = (uint64_t)json_integer_value(json_object_get(j, "created"));
    json_decref(j);
    return 0;
}

int open311_key_create(store *s, const char *name, const char *unit, uint64_t now_ms,
                       char secret[ACCOUNT_SECRET_MAX], open311_key *out, lt_error *e)
{
    if (!account_name_valid(name))
        return lt_error_set(e, LT_EINVAL, NULL,
                            "the key's name must be 1 to 64 characters of a-z 0-9 . _ - "
                            "starting with a letter or digit");
    uint8_t raw[32], h[32];
    char hex[65];
    randombytes_buf(raw, sizeof raw);
    snprintf(secret, ACCOUNT_SECRET_MAX, "%s%s", OPEN311_KEY_PREFIX, hex_encode(raw, 32, hex));
    sodium_memzero(raw, sizeof raw);
    key_hash(secret, h);
    json_t *row =
        json_pack("{s:s, s:s, s:I}", "name", name, "unit", unit, "created", (json_int_t)now_ms);
    char *text = row ? json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(row);
    int rc = text ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    if (!rc &&
        store_local_put(s, KEYS_TABLE, h, 32, text, strlen(text), e->message, sizeof e->message))
        rc = lt_error_mark(e, LT_ESTORAGE, NULL);
    if (!rc && out && key_parse(h, (const uint8_t *)text, strlen(text), out))
        rc = lt_error_set(e, LT_EINTERNAL, NULL, "the stored key %s cannot be read back", name);
    free(text);
    return rc;
}

int open311_key_check(store *s, const char *secret, open311_key *out)
{
    uint8_t h[32], *v = NULL;
    size_t vlen = 0;
    if (strncmp(secret, OPEN311_KEY_PREFIX, strlen(OPEN311_KEY_PREFIX)))
        return 1;
    key_hash(secret, h);
    int rc = store_local_get(s, KEYS_TABLE, h, 32, &v, &vlen);
    if (rc == 0)
        rc = key_parse(h, v, vlen, out);
    free(v);
    return rc;
}

typedef struct {
    int (*fn)(void *ctx, const open311_key *k);
    void *ctx;
    const char *id; /* open311_key_find: the one sought */
    open311_key found;
    uint8_t hash[32];
} keys_walk;

static int key_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    keys_walk *w = ctx;
    open311_key k;
    if (klen != 32 || key_parse(key, val, vlen, &k))
        return 0; /* not a key row: skipped */
    if (w->fn)
        return w->fn(w->ctx, &k);
    if (strcmp(k.id, w->id))
        return 0;
    w->found = k;
    memcpy(w->hash, key, 32);
    return 1;
}

int open311_key_list(store *s, int (*fn)(void *ctx, const open311_key *k), void *ctx)
{
    keys_walk w = {.fn = fn, .ctx = ctx};
    return store_local_scan(s, KEYS_TABLE, key_one, &w) < 0 ? -1 : 0;
}

/* Finds id: 1 with w->found and w->hash, 0 when none, -1 on error. */
static int key_find(store *s, const char *id, keys_walk *w)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    return store_local_scan(s, KEYS_TABLE, key_one, w);
}

int open311_key_find(store *s, const char *id, open311_key *out)
{
    keys_walk w;
    int rc = key_find(s, id, &w);
    if (rc == 1 && out)
        *out = w.found;
    return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

int open311_key_revoke(store *s, const char *id)
{
    keys_walk w;
    int rc = key_find(s, id, &w);
    if (rc != 1)
        return rc < 0 ? -1 : 1;
    return store_local_del(s, KEYS_TABLE, w.hash, 32);
}

/* ---- HTTP ----------------------------------------------------------------- */

static json_t *key_json(const open311_key *k)
{
    return json_pack("{s:s, s:s, s:s, s:I}", "id", k->id, "name", k->name, "unit", k->unit,
                     "created", (json_int_t)k->created_ms);
}

typedef struct {
    node_env *d;
    const auth_caller *me;
    json_t *list;
} keys_listing;

static bool may_manage(node_env *d, const auth_caller *me, const char *unit)
{
    return access_may_manage(auth_tree(d->auth), me->unit, me->role, unit, ROLE_STAFF);
}

static int list_one(void *ctx, const open311_key *k)
{
    keys_listing *l = ctx;
    if (may_manage(l->d, l->me, k->unit))
        json_array_append_new(l->list, key_json(k));
    return 0;
}

static void keys_create(node_env *d, const http_request *req, http_response *res,
                        const auth_caller *me)
{
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *unit = json_string_value(json_object_get(body, "unit"));
    char secret[ACCOUNT_SECRET_MAX];
    open311_key k;
    lt_error e;
    if (!name) {
        http_respond_error(res, 400, "send a JSON object {\"name\": NAME, \"unit\"?: CODE}");
    } else if (!may_manage(d, me, unit ? unit : me->unit)) {
        http_respond_error(res, 403,
                           "%s may make Open311 keys for unit %s and the units below "
                           "it only, not for unit %s",
                           me->user, me->unit, unit ? unit : me->unit);
    } else if (open311_key_create(d->store, name, unit ? unit : me->unit, account_now_ms(), secret,
                                  &k, &e)) {
        http_respond_lt(res, &e);
    } else {
        json_t *j = key_json(&k);
        json_object_set_new(j, "key", json_string(secret));
        sodium_memzero(secret, sizeof secret);
        http_response_header(res, "Cache-Control", "no-store");
        http_respond_json(res, 201, j);
    }
    json_decref(body);
}

static void keys_revoke(node_env *d, http_response *res, const auth_caller *me, const char *id)
{
    open311_key k;
    int rc = open311_key_find(d->store, id, &k);
    if (rc == 0 && !may_manage(d, me, k.unit)) {
        http_respond_error(res, 403,
                           "the Open311 key %s belongs to unit %s, outside %s's unit "
                           "%s: ask an admin of a unit above",
                           id, k.unit, me->user, me->unit);
        return;
    }
    if (rc == 0)
        rc = open311_key_revoke(d->store, id);
    if (rc)
        http_respond_error(res, rc > 0 ? 404 : 500, "%s",
                           rc > 0 ? "no such Open311 key: GET "
                                    "/api/v1/open311/keys lists "
                                    "them"
                                  : "the key could not be "
                                    "revoked; check the log");
    else
        http_respond_json(res, 200, json_pack("{s:s}", "revoked", id));
}

void open311_keys_api(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    auth_caller me;
    if (auth_require(d->auth, req, res, ROLE_ADMIN, &me))
        return;
    const char *rest = req->path + strlen("/api/v1/open311/keys");
    const char *id = *rest == '/' ? rest + 1 : NULL;
    if (*rest && (!id || !*id || strchr(id, '/'))) {
        http_respond_error(res, 404, "no resource at %s: use /api/v1/open311/keys[/ID]", req->path);
    } else if (!id && !strcmp(req->method, "GET")) {
        keys_listing l = {d, &me, json_array()};
        if (open311_key_list(d->store, list_one, &l)) {
            json_decref(l.list);
            http_respond_error(res, 500, "the node could not read its Open311 keys; check its log");
        } else {
            http_respond_json(res, 200, json_pack("{s:o}", "keys", l.list));
        }
    } else if (!id && !strcmp(req->method, "POST")) {
        keys_create(d, req, res, &me);
    } else if (id && !strcmp(req->method, "DELETE")) {
        keys_revoke(d, res, &me, id);
    } else {
        http_response_header(res, "Allow", id ? "DELETE" : "GET, POST");
        http_respond_error(res, 405, "%s is not allowed on %s", req->method, req->path);
    }
}
