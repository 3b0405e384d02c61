/*
 * chain.c - certificate chains: verification for the handshake and
 * collection from the local log. See chain.h.
 */
#include "replication/chain.h"
#include "lib/hex.h"
#include "storage/record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int chain_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int chain_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Commune clocks can be hours wrong: a certificate is accepted this long
 * before its not_before, or a node whose clock is behind could not join
 * until hours after its parent (or itself) was certified. Expiry is not
 * relaxed. Found by the simulator (tests/sim: communes 1-5 h behind). */
#define CHAIN_NOT_BEFORE_GRACE_MS (24ull * 3600 * 1000)

static const msgpack_object *body_get(const msgpack_object_map *m, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < m->size; i++)
        if (m->ptr[i].key.via.str.size == kl && !memcmp(m->ptr[i].key.via.str.ptr, key, kl))
            return &m->ptr[i].val;
    return NULL;
}

static bool str_is(const msgpack_object_str *s, const char *v)
{
    return s->size == strlen(v) && !memcmp(s->ptr, v, s->size);
}

/* Checks one certificate entry for subject; fills unit and validity. */
static int cert_check(const entry_view *e, const uint8_t *subject, char *unit, uint64_t now_ms,
                      char *err, size_t errlen)
{
    char hex[65];
    hex_encode(subject, 32, hex);
    if (!str_is(&e->coll, "certs") || !str_is(&e->id, hex) || e->op != ENTRY_OP_PUT)
        return chain_fail(err, errlen, "entry is not the certificate of node %.16s…", hex);
    const msgpack_object *key = body_get(&e->body, "key"), *u = body_get(&e->body, "unit");
    const msgpack_object *nb = body_get(&e->body, "not_before");
    const msgpack_object *na = body_get(&e->body, "not_after");
    if (!key || key->type != MSGPACK_OBJECT_STR || !str_is(&key->via.str, hex) || !u ||
        u->type != MSGPACK_OBJECT_STR || u->via.str.size == 0 || u->via.str.size > 32 || !nb ||
        nb->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !na ||
        na->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return chain_fail(err, errlen, "certificate of %.16s… lacks key, unit or validity", hex);
    if (now_ms + CHAIN_NOT_BEFORE_GRACE_MS < nb->via.u64 || now_ms > na->via.u64)
        return chain_fail(err, errlen,
                          "certificate of %.16s… (unit %.*s) is expired or not yet valid: "
                          "renew it at its parent",
                          hex, (int)u->via.str.size, u->via.str.ptr);
    memcpy(unit, u->via.str.ptr, u->via.str.size);
    unit[u->via.str.size] = '\0';
    return 0;
}

int chain_verify(const store_input *certs, size_t n, const uint8_t subject[ENTRY_KEY_BYTES],
                 const uint8_t root_key[ENTRY_KEY_BYTES], uint64_t now_ms, char *unit, char *err,
                 size_t errlen)
{
    if (n == 0 || n > CHAIN_MAX)
        return chain_fail(err, errlen,
                          "a certificate chain of 1 to %d certificates is needed, "
                          "got %zu: enrol the node first",
                          CHAIN_MAX, n);
    uint8_t cur[ENTRY_KEY_BYTES];
    memcpy(cur, subject, ENTRY_KEY_BYTES);
    for (size_t i = 0; i < n; i++) {
        entry_view e;
        char why[STORE_ERR_LEN], u[33];
        if (entry_decode(certs[i].bytes, certs[i].len, &e, why, sizeof why))
            return chain_fail(err, errlen, "certificate %zu is malformed: %s", i, why);
        int rc = 0;
        if (!entry_verify(&e))
            rc = chain_fail(err, errlen, "certificate %zu has a bad signature", i);
        else
            rc = cert_check(&e, cur, u, now_ms, err, errlen);
        bool self_signed = !rc && !memcmp(e.origin, cur, ENTRY_KEY_BYTES);
        if (!rc && i == 0)
            memcpy(unit, u, sizeof u);
        if (!rc && i == n - 1 && (!self_signed || memcmp(cur, root_key, ENTRY_KEY_BYTES)))
            rc = chain_fail(err, errlen,
                            "the chain does not end at this network's trust root: the node "
                            "belongs to another network or is not enrolled");
        if (!rc && i < n - 1 && self_signed)
            rc = chain_fail(err, errlen, "certificate %zu is self-signed but not the root's", i);
        memcpy(cur, e.origin, ENTRY_KEY_BYTES);
        entry_view_free(&e);
        if (rc)
            return -1;
    }
    return 0;
}

typedef struct {
    char id[65];
    uint8_t *bytes;
    size_t len;
} find_cert;

static int find_cert_one(void *ctx, const uint8_t *bytes, size_t len)
{
    find_cert *f = ctx;
    entry_view e;
    if (entry_decode(bytes, len, &e, NULL, 0))
        return 0;
    bool hit = str_is(&e.coll, "certs") && str_is(&e.id, f->id) && e.op == ENTRY_OP_PUT;
    entry_view_free(&e);
    if (!hit)
        return 0;
    free(f->bytes); /* keep the newest (highest seq) certificate */
    f->bytes = malloc(len);
    if (!f->bytes)
        return -1;
    memcpy(f->bytes, bytes, len);
    f->len = len;
    return 0;
}

int chain_collect(store *s, const uint8_t subject[ENTRY_KEY_BYTES], store_input *certs, char *err,
                  size_t errlen)
{
    uint8_t cur[ENTRY_KEY_BYTES];
    memcpy(cur, subject, ENTRY_KEY_BYTES);
    size_t n = 0;
    for (; n < CHAIN_MAX; n++) {
        uint8_t *rec;
        size_t len;
        char id[65];
        hex_encode(cur, 32, id);
        if (store_record_get(s, "certs", id, &rec, &len) != 0)
            break;
        uint8_t writer[ENTRY_KEY_BYTES];
        int bad = record_last_putter(rec, len, writer);
        free(rec);
        /* the newest certificate was written by its issuer: scan its log */
        find_cert f = {.bytes = NULL};
        memcpy(f.id, id, sizeof id);
        if (bad || store_log_scan(s, writer, find_cert_one, &f) || !f.bytes) {
            free(f.bytes);
            break;
        }
        certs[n] = (store_input){f.bytes, f.len};
        uint8_t issuer[ENTRY_KEY_BYTES];
        memcpy(issuer, f.bytes + 13, ENTRY_KEY_BYTES); /* origin at its fixed offset */
        if (!memcmp(issuer, cur, ENTRY_KEY_BYTES)) {
            n++;
            return (int)n;
        }
        memcpy(cur, issuer, ENTRY_KEY_BYTES);
    }
    for (size_t i = 0; i < n; i++)
        free((void *)certs[i].bytes);
    snprintf(err, errlen,
             "no certificate chain up to the trust root is held for this node: "
             "enrol it (lienthong enroll)");
    return -1;
}
