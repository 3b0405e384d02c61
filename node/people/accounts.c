/*
 * accounts.c - accounts, sessions and tokens in the store's node-local
 * tables (see accounts.h and docs/security.md):
 *
 *   accounts   name -> {"unit", "role", "hash", "created", "disabled"} (JSON)
 *   sessions   BLAKE2b-256(secret) -> {"user", "csrf", "created", "seen"}
 *   tokens     BLAKE2b-256(secret) -> {"user", "created"}
 */
#include "node/people/accounts.h"
#include "lib/hex.h"
#include "lib/pwgate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET_BYTES 32
#define TOKEN_PREFIX "lt_"
#define SEEN_GRANULARITY_MS 60000u

static const char *const role_names[] = {"", "viewer", "staff", "leader", "admin"};

const char *account_role_name(account_role r)
{
    return r >= ROLE_NONE && r <= ROLE_ADMIN ? role_names[r] : "";
}

account_role account_role_parse(const char *s)
{
    for (int r = ROLE_VIEWER; s && r <= ROLE_ADMIN; r++)
        if (!strcmp(s, role_names[r]))
            return (account_role)r;
    return ROLE_NONE;
}

bool account_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > ACCOUNT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("._-", c)))
            return false;
    }
    return true;
}

uint64_t account_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int account_hash_password(const char *pw, size_t len, char out[ACCOUNT_HASH_MAX])
{
    pwgate_enter();
    int rc = crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    pwgate_leave();
    return rc ? -1 : 0;
}

const char *account_dummy_hash(void)
{
    return "$argon2id$v=19$m=65536,t=2,p=1$zuxz3Q388T79VNIgbgMTCw$"
           "s0J8uQpg2lWVL3nQ911G9jvr2TmbqFOBmsld9hjKLKM";
}

bool account_password_matches(const char *hash, const char *pw, size_t len)
{
    pwgate_enter();
    bool ok = crypto_pwhash_str_verify(hash, pw, len) == 0;
    pwgate_leave();
    return ok;
}

/* ---- accounts ------------------------------------------------------------ */

int account_put(store *s, const account *a, char *err, size_t errlen)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:I, s:b}", "unit", a->unit, "role", account_role_name(a->role),
                  "hash", a->hash, "created", (json_int_t)a->created_ms, "disabled", a->disabled);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc =
        store_local_put(s, "accounts", a->name, strlen(a->name), text, strlen(text), err, errlen);
    free(text);
    return rc;
}

/* Fills a from its stored JSON. Returns 0, or -1 when damaged. */
static int account_parse(const char *name, size_t nlen, const uint8_t *v, size_t vlen, account *a)
{
    memset(a, 0, sizeof *a);
    json_t *j = json_loadb((const char *)v, vlen, 0, NULL);
    const char *unit = NULL, *role = NULL, *hash = NULL;
    json_int_t created = 0;
    int disabled = 0;
    int rc = -1;
    if (j && nlen <= ACCOUNT_NAME_MAX &&
        !json_unpack(j, "{s:s, s:s, s:s, s:I, s:b}", "unit", &unit, "role", &role, "hash", &hash,
                     "created", &created, "disabled", &disabled) &&
        strlen(unit) < sizeof a->unit && strlen(hash) < sizeof a->hash) {
        memcpy(a->name, name, nlen);
        snprintf(a->unit, sizeof a->unit, "%s", unit);
        snprintf(a->hash, sizeof a->hash, "%s", hash);
        a->role = account_role_parse(role);
        a->created_ms = (uint64_t)created;
        a->disabled = disabled;
        rc = a->role == ROLE_NONE ? -1 : 0;
    }
    json_decref(j);
    return rc;
}

int account_get(store *s, const char *name, account *a)
{
    uint8_t *v;
    size_t vlen;
    if (!account_name_valid(name))
        return 1;
    int rc = store_local_get(s, "accounts", name, strlen(name), &v, &vlen);
    if (rc == 0)
        rc = account_parse(name, strlen(name), v, vlen, a);
    free(v);
    return rc;
}

typedef struct {
    int (*fn)(void *ctx, const account *a);
    void *ctx;
} account_walk;

static int account_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    account_walk *w = ctx;
    account a;
    if (account_parse((const char *)key, klen, val, vlen, &a))
        return 0; /* a damaged row is skipped, not fatal */
    return w->fn(w->ctx, &a);
}

int account_list(store *s, int (*fn)(void *ctx, const account *a), void *ctx)
{
    account_walk w = {fn, ctx};
    return store_local_scan(s, "accounts", account_one, &w);
}

int account_del(store *s, const char *name)
{
    if (!account_name_valid(name))
        return 1;
    int rc = store_local_del(s, "accounts", name, strlen(name));
    if (rc)
        return rc;
    return cred_purge(s, CRED_SESSION, name, 0) < 0 || cred_purge(s, CRED_TOKEN, name, 0) < 0 ? -1
                                                                                              : 0;
}

/* ---- sessions and tokens ------------------------------------------------- */

static const char *cred_table(cred_kind k)
{
    return k == CRED_SESSION ? "sessions" : "tokens";
}

static void cred_key(const char *secret, uint8_t key[32])
{
    crypto_generichash(key, 32, (const uint8_t *)secret, strlen(secret), NULL, 0);
}

static int cred_store(store *s, cred_kind k, const uint8_t key[32], const credential *c, char *err,
                      size_t errlen)
{
    json_t *j = json_pack("{s:s, s:I}", "user", c->user, "created", (json_int_t)c->created_ms);
    if (j && k == CRED_SESSION) {
        json_object_set_new(j, "csrf", json_string(c->csrf));
        json_object_set_new(j, "seen", json_integer((json_int_t)c->seen_ms));
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = store_local_put(s, cred_table(k), key, 32, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

static int cred_parse(const uint8_t *v, size_t vlen, credential *c)
{
    memset(c, 0, sizeof *c);
    json_t *j = json_loadb((const char *)v, vlen, 0, NULL);
    const char *user = NULL, *csrf = "";
    json_int_t created = 0, seen = 0;
    int rc = j &&
                     !json_unpack(j, "{s:s, s:I, s?:s, s?:I}", "user", &user, "created", &created,
                                  "csrf", &csrf, "seen", &seen) &&
                     strlen(user) <= ACCOUNT_NAME_MAX && strlen(csrf) < sizeof c->csrf
                 ? 0
                 : -1;
    if (!rc) {
        snprintf(c->user, sizeof c->user, "%s", user);
        snprintf(c->csrf, sizeof c->csrf, "%s", csrf);
        c->created_ms = (uint64_t)created;
        c->seen_ms = (uint64_t)seen;
    }
    json_decref(j);
    return rc;
}

static void random_hex(char *out, size_t bytes)
{
    uint8_t b[SECRET_BYTES];
    randombytes_buf(b, bytes);
    hex_encode(b, bytes, out);
    sodium_memzero(b, sizeof b);
}

int cred_create(store *s, cred_kind k, const char *user, uint64_t now_ms,
                char secret[ACCOUNT_SECRET_MAX], credential *out, char *err, size_t errlen)
{
    credential c;
    memset(&c, 0, sizeof c);
    snprintf(c.user, sizeof c.user, "%s", user);
    c.created_ms = c.seen_ms = now_ms;
    if (k == CRED_SESSION)
        random_hex(c.csrf, SECRET_BYTES);
    size_t pre = k == CRED_TOKEN ? strlen(TOKEN_PREFIX) : 0;
    memcpy(secret, TOKEN_PREFIX, pre);
    random_hex(secret + pre, SECRET_BYTES);
    uint8_t key[32];
    cred_key(secret, key);
    if (cred_store(s, k, key, &c, err, errlen))
        return -1;
    if (out)
        *out = c;
    return 0;
}

static bool session_expired(const credential *c, uint64_t now_ms)
{
    return now_ms > c->created_ms + ACCOUNT_SESSION_MAX_MS ||
           now_ms > c->seen_ms + ACCOUNT_SESSION_IDLE_MS;
}

int cred_lookup(store *s, cred_kind k, const char *secret, uint64_t now_ms, credential *out)
{
    uint8_t key[32], *v;
    size_t vlen;
    char err[STORE_ERR_LEN];
    size_t n = strlen(secret);
    if (n < 2 * SECRET_BYTES || n >= ACCOUNT_SECRET_MAX)
        return 1;
    cred_key(secret, key);
    int rc = store_local_get(s, cred_table(k), key, 32, &v, &vlen);
    if (rc == 0)
        rc = cred_parse(v, vlen, out) ? 1 : 0;
    free(v);
    if (rc || k != CRED_SESSION)
        return rc;
    if (session_expired(out, now_ms)) {
        store_local_del(s, cred_table(k), key, 32);
        return 1;
    }
    if (now_ms >= out->seen_ms + SEEN_GRANULARITY_MS) {
        out->seen_ms = now_ms;
        if (cred_store(s, k, key, out, err, sizeof err))
            return -1;
    }
    return 0;
}

int cred_delete(store *s, cred_kind k, const char *secret)
{
    uint8_t key[32];
    cred_key(secret, key);
    return store_local_del(s, cred_table(k), key, 32);
}

typedef struct {
    cred_kind k;
    const char *user;
    uint64_t now_ms;
    uint8_t (*keys)[32];
    size_t n, cap;
} purge_walk;

static int purge_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    purge_walk *w = ctx;
    credential c;
    bool bad = klen != 32 || cred_parse(val, vlen, &c);
    bool hit = bad || (w->user && !strcmp(c.user, w->user)) ||
               (w->k == CRED_SESSION && w->now_ms && session_expired(&c, w->now_ms));
    if (!hit || klen != 32)
        return 0;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        void *p = realloc(w->keys, cap * sizeof *w->keys);
        if (!p)
            return -1;
        w->keys = p;
        w->cap = cap;
    }
    memcpy(w->keys[w->n++], key, 32);
    return 0;
}

long cred_purge(store *s, cred_kind k, const char *user, uint64_t now_ms)
{
    purge_walk w = {k, user, now_ms, NULL, 0, 0};
    long rc = store_local_scan(s, cred_table(k), purge_one, &w);
    for (size_t i = 0; !rc && i < w.n; i++)
        if (store_local_del(s, cred_table(k), w.keys[i], 32) < 0)
            rc = -1;
    free(w.keys);
    return rc ? -1 : (long)w.n;
}
