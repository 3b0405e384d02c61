/*
 * open311_keys.h - the keys city apps send as Open311's api_key: scoped to
 * Open311 (an account's API token is refused there), each acting as a
 * staff member of one unit for Open311 only. Node-local (store_local_*,
 * table "open_keys"): never replicated. The secret ("o311_" and 64 hex
 * digits) is shown once; the node keeps BLAKE2b-256 of it.
 *
 *   POST   /api/v1/open311/keys        {"name", "unit"?} -> 201 {"id", "name",
 *                                      "unit", "created", "key"}; unit
 *                                      defaults to the caller's
 *   GET    /api/v1/open311/keys        {"keys": [{"id", "name", "unit",
 *                                      "created"}]} (no secrets)
 *   DELETE /api/v1/open311/keys/{id}   -> {"revoked": id}
 *
 * Admins only, and only for keys of their unit's subtree
 * (access_may_manage with role staff). CLI: lienthong open311-key.
 */
#ifndef LT_OPEN311_KEYS_H
#define LT_OPEN311_KEYS_H

#include "node/env/env.h"
#include "node/http/http.h"
#include "node/people/accounts.h"

#define OPEN311_KEY_PREFIX "o311_"
#define OPEN311_KEY_ID 16 /* hex digits of the id */
#define OPEN311_KEY_NAME_MAX 64

typedef struct {
    char id[OPEN311_KEY_ID + 1];
    char name[OPEN311_KEY_NAME_MAX + 1];
    char unit[NODE_CODE_MAX];
    uint64_t created_ms;
} open311_key;

/* Makes a key called name (1..64 characters of a-z 0-9 . _ -) for unit:
 * secret receives the text to hand out, once; *out the stored key.
 * Returns 0, or -1 with *e (LT_EINVAL for a bad name, LT_ESTORAGE when the
 * store failed). */
int open311_key_create(store *s, const char *name, const char *unit, uint64_t now_ms,
                       char secret[ACCOUNT_SECRET_MAX], open311_key *out, lt_error *e);

/* The key whose secret is secret into *out. Returns 0, 1 when unknown, -1
 * on a storage error. Store reads only: safe on a uv pool thread. */
int open311_key_check(store *s, const char *secret, open311_key *out);

/* Calls fn for every key; stops when fn returns non-zero. Returns 0 or -1. */
int open311_key_list(store *s, int (*fn)(void *ctx, const open311_key *k), void *ctx);

/* The key with id into *out (may be NULL). Returns 0, 1 when none, -1. */
int open311_key_find(store *s, const char *id, open311_key *out);

/* Deletes the key with id. Returns 0, 1 when none, -1 on error. */
int open311_key_revoke(store *s, const char *id);

/* The handler of the three routes above (ctx: the node_env). */
void open311_keys_api(void *ctx, const http_request *req, http_response *res);

#endif
