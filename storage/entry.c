/*
 * entry.c - encoding, strict decoding and Ed25519 verification of log
 * entries. The format is specified in entry.h and docs/protocol.md.
 *
 * Decoding never trusts the input: it bounds the size, requires the exact
 * key order and types, checks names, UTF-8 and nesting depth, and requires
 * the msgpack value to span exactly the given bytes. Verification covers the
 * bytes as received, so nothing is ever re-encoded before it is checked.
 */
#include "storage/entry.h"
#include "lib/mpjson.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const entry_keys[12] = {"v",    "origin", "seq", "prev", "hlc", "unit",
                                           "coll", "id",     "op",  "body", "to",  "sig"};

/* The fixed tail before the signature bytes: fixstr "sig", bin8 of 64. */
static const uint8_t sig_prefix[6] = {0xa3, 's', 'i', 'g', 0xc4, 0x40};
/* The fixed head: fixmap 12, "v": 1, "origin": bin8 of 32. */
static const uint8_t head_prefix[13] = {0x8c, 0xa1, 'v', 0x01, 0xa6, 'o', 'r',
                                        'i',  'g',  'i', 'n',  0xc4, 0x20};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool name_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_';
}

bool entry_unit_valid(const char *s, size_t len)
{
    if (len == 0 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

bool entry_coll_valid(const char *s, size_t len)
{
    if (len == 0 || len > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return true;
}

bool entry_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > ENTRY_MAX_NAME || !mpjson_utf8_valid(s, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool to_item_valid(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return false;
    const char *s = o->via.str.ptr;
    size_t n = o->via.str.size;
    if (n == 1 && s[0] == '*')
        return true;
    if (n > 1 && s[n - 1] == '*')
        n--;
    return entry_unit_valid(s, n);
}

const char *entry_op_name(entry_op op)
{
    switch (op) {
    case ENTRY_OP_PUT: return "put";
    case ENTRY_OP_PATCH: return "patch";
    case ENTRY_OP_DELETE: return "delete";
    }
    return "?";
}

entry_op entry_op_parse(const char *s, size_t len)
{
    for (int op = ENTRY_OP_PUT; op <= ENTRY_OP_DELETE; op++) {
        const char *n = entry_op_name((entry_op)op);
        if (strlen(n) == len && !memcmp(n, s, len))
            return (entry_op)op;
    }
    return 0;
}

static bool is_bin(const msgpack_object *o, size_t n)
{
    return o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == n;
}

static bool is_uint(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

/* A record keeps a field's value three levels down ({"f": {key: [hlc,
 * origin, value]}}) and msgpack-c unpacks at most 32 levels, so a body
 * (counted as level 1) may nest at most 30 levels: a deeper value would be
 * accepted here but its record could never be read back. */
#define BODY_MAX_DEPTH 30

/* Levels of arrays and maps in o (0 for a scalar). */
static int nesting(const msgpack_object *o)
{
    int deepest = 0;
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int d = nesting(&o->via.array.ptr[i]);
            deepest = d > deepest ? d : deepest;
        }
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            int d = nesting(&o->via.map.ptr[i].val);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

void entry_view_free(entry_view *v)
{
    if (v->bytes)
        msgpack_unpacked_destroy(&v->unpacked);
    memset(v, 0, sizeof *v);
}

/* entry_decode, or with full false entry_decode_held: the walks over the
 * bytes and the body (msgpack validity, UTF-8, names, depth) are skipped. */
static int decode(const uint8_t *bytes, size_t len, entry_view *v, bool full, char *err,
                  size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (len > ENTRY_MAX_BYTES)
        return fail(err, errlen,
                    "entry is %zu bytes, over the %d-byte limit: store large content as a blob "
                    "and reference its hash",
                    len, ENTRY_MAX_BYTES);
    if (len < sizeof head_prefix + ENTRY_SIG_TAIL)
        return fail(err, errlen, "entry is %zu bytes, too short to be an entry", len);
    if (memcmp(bytes, head_prefix, sizeof head_prefix))
        return fail(err, errlen,
                    "entry does not start with the version-1 header (map of 12, \"v\": 1, "
                    "\"origin\")");
    if (memcmp(bytes + len - ENTRY_SIG_TAIL, sig_prefix, sizeof sig_prefix))
        return fail(err, errlen, "entry does not end with a 64-byte \"sig\"");

    size_t used;
    char why[160];
    if (full && mpjson_scan(bytes, len, &used, why, sizeof why))
        return fail(err, errlen, "entry is not valid msgpack: %s", why);
    if (full && used != len)
        return fail(err, errlen, "entry has %zu trailing bytes after its map", len - used);
    msgpack_unpacked_init(&v->unpacked);
    v->bytes = bytes;
    v->len = len;
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&v->unpacked, (const char *)bytes, len, &off);
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
        entry_view_free(v);
        return fail(err, errlen, "entry is not one complete msgpack value (%s)",
                    r == MSGPACK_UNPACK_CONTINUE  ? "truncated"
                    : r == MSGPACK_UNPACK_SUCCESS ? "trailing bytes"
                                                  : "malformed or nested too deeply");
    }
    const msgpack_object *root = &v->unpacked.data;
    if (root->type != MSGPACK_OBJECT_MAP || root->via.map.size != 12) {
        entry_view_free(v);
        return fail(err, errlen, "entry must be a map of exactly 12 fields");
    }
    const msgpack_object_kv *kv = root->via.map.ptr;
    for (int i = 0; i < 12; i++) {
        const msgpack_object *k = &kv[i].key;
        size_t kl = strlen(entry_keys[i]);
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != kl ||
            memcmp(k->via.str.ptr, entry_keys[i], kl)) {
            entry_view_free(v);
            return fail(err, errlen, "entry field %d must be \"%s\"", i + 1, entry_keys[i]);
        }
    }
    const char *bad = NULL;
    const msgpack_object *o = &kv[2].val;
    if (!is_uint(o) || o->via.u64 == 0)
        bad = "seq must be an unsigned integer >= 1";
    else if (!is_bin(&kv[3].val, ENTRY_HASH_BYTES))
        bad = "prev must be 32 bytes of binary";
    else if (!is_uint(&kv[4].val))
        bad = "hlc must be an unsigned integer";
    else if (kv[5].val.type != MSGPACK_OBJECT_STR ||
             !entry_unit_valid(kv[5].val.via.str.ptr, kv[5].val.via.str.size))
        bad = "unit must be a unit code (1-32 letters, digits, '-' or '_')";
    else if (kv[6].val.type != MSGPACK_OBJECT_STR ||
             !entry_coll_valid(kv[6].val.via.str.ptr, kv[6].val.via.str.size))
        bad = "coll must be a collection name (lower-case letter, then a-z 0-9 _ ., at most 64)";
    else if (kv[7].val.type != MSGPACK_OBJECT_STR ||
             !entry_id_valid(kv[7].val.via.str.ptr, kv[7].val.via.str.size))
        bad = "id must be 1-128 bytes of UTF-8 text without control characters";
    else if (kv[8].val.type != MSGPACK_OBJECT_STR ||
             !entry_op_parse(kv[8].val.via.str.ptr, kv[8].val.via.str.size))
        bad = "op must be \"put\", \"patch\" or \"delete\"";
    else if (kv[9].val.type != MSGPACK_OBJECT_MAP)
        bad = "body must be a map";
    else if (kv[10].val.type != MSGPACK_OBJECT_ARRAY || kv[10].val.via.array.size > ENTRY_MAX_TO)
        bad = "to must be an array of at most 64 addressees";
    else if (!is_bin(&kv[11].val, ENTRY_SIG_BYTES))
        bad = "sig must be 64 bytes of binary";
    if (bad) {
        entry_view_free(v);
        return fail(err, errlen, "%s", bad);
    }
    for (uint32_t i = 0; full && i < kv[10].val.via.array.size; i++) {
        if (!to_item_valid(&kv[10].val.via.array.ptr[i])) {
            entry_view_free(v);
            return fail(err, errlen,
                        "to[%u] must be a unit code, a unit code followed by '*', or \"*\"", i);
        }
    }
    for (uint32_t i = 0; full && i < kv[9].val.via.map.size; i++) {
        const msgpack_object *key = &kv[9].val.via.map.ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR || key->via.str.size == 0 ||
            key->via.str.size > ENTRY_MAX_NAME) {
            entry_view_free(v);
            return fail(err, errlen, "body keys must be strings of 1-128 bytes");
        }
        if (key->via.str.size == 2 && !memcmp(key->via.str.ptr, "id", 2)) {
            entry_view_free(v);
            return fail(err, errlen, "body must not hold \"id\": the record id is the entry's id");
        }
    }
    if (full && mpjson_check(&kv[9].val, why, sizeof why)) {
        entry_view_free(v);
        return fail(err, errlen, "body: %s", why);
    }
    int depth = full ? nesting(&kv[9].val) : 0;
    if (depth > BODY_MAX_DEPTH) {
        entry_view_free(v);
        return fail(err, errlen, "body nests %d levels deep, more than the %d a record can hold",
                    depth, BODY_MAX_DEPTH);
    }
    v->origin = (const uint8_t *)kv[1].val.via.bin.ptr;
    v->seq = kv[2].val.via.u64;
    v->prev = (const uint8_t *)kv[3].val.via.bin.ptr;
    v->hlc = kv[4].val.via.u64;
    v->unit = kv[5].val.via.str;
    v->coll = kv[6].val.via.str;
    v->id = kv[7].val.via.str;
    v->op = entry_op_parse(kv[8].val.via.str.ptr, kv[8].val.via.str.size);
    v->body = kv[9].val.via.map;
    v->to = kv[10].val.via.array;
    v->sig = (const uint8_t *)kv[11].val.via.bin.ptr;
    return 0;
}

int entry_decode(const uint8_t *bytes, size_t len, entry_view *v, char *err, size_t errlen)
{
    return decode(bytes, len, v, true, err, errlen);
}

int entry_decode_held(const uint8_t *bytes, size_t len, entry_view *v)
{
    return decode(bytes, len, v, false, NULL, 0);
}

bool entry_verify(const entry_view *v)
{
    return crypto_sign_verify_detached(v->sig, v->bytes, v->len - ENTRY_SIG_TAIL, v->origin) == 0;
}

bool entry_verify_bytes(const uint8_t *bytes, size_t len)
{
    if (len > ENTRY_MAX_BYTES || len < sizeof head_prefix + ENTRY_KEY_BYTES + ENTRY_SIG_TAIL)
        return false;
    if (memcmp(bytes, head_prefix, sizeof head_prefix) ||
        memcmp(bytes + len - ENTRY_SIG_TAIL, sig_prefix, sizeof sig_prefix))
        return false;
    return crypto_sign_verify_detached(bytes + len - ENTRY_SIG_BYTES, bytes, len - ENTRY_SIG_TAIL,
                                       bytes + sizeof head_prefix) == 0;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_bin(msgpack_packer *pk, const uint8_t *b, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, b, n);
}

int entry_encode(const entry_fields *f, const uint8_t sk[ENTRY_SECRET_BYTES], uint8_t **out,
                 size_t *outlen, char *err, size_t errlen)
{
    static const uint8_t zeros[ENTRY_HASH_BYTES];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    msgpack_pack_map(&pk, 12);
    pack_str(&pk, "v");
    msgpack_pack_uint8(&pk, ENTRY_VERSION);
    pack_str(&pk, "origin");
    pack_bin(&pk, f->origin, ENTRY_KEY_BYTES);
    pack_str(&pk, "seq");
    msgpack_pack_uint64(&pk, f->seq);
    pack_str(&pk, "prev");
    pack_bin(&pk, f->prev ? f->prev : zeros, ENTRY_HASH_BYTES);
    pack_str(&pk, "hlc");
    msgpack_pack_uint64(&pk, f->hlc);
    pack_str(&pk, "unit");
    pack_str(&pk, f->unit);
    pack_str(&pk, "coll");
    pack_str(&pk, f->coll);
    pack_str(&pk, "id");
    pack_str(&pk, f->id);
    pack_str(&pk, "op");
    pack_str(&pk, entry_op_name(f->op));
    pack_str(&pk, "body");
    if (f->body && f->body_len)
        msgpack_sbuffer_write(&sb, (const char *)f->body, f->body_len);
    else
        msgpack_pack_map(&pk, 0);
    pack_str(&pk, "to");
    msgpack_pack_array(&pk, f->to_count);
    for (size_t i = 0; i < f->to_count; i++)
        pack_str(&pk, f->to[i]);

    uint8_t sig[ENTRY_SIG_BYTES];
    crypto_sign_detached(sig, NULL, (const uint8_t *)sb.data, sb.size, sk);
    pack_str(&pk, "sig");
    pack_bin(&pk, sig, ENTRY_SIG_BYTES);

    entry_view v;
    if (entry_decode((const uint8_t *)sb.data, sb.size, &v, err, errlen)) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    entry_view_free(&v);
    /* the sbuffer grows in 8 KiB steps: hand back only the entry's bytes */
    uint8_t *fit = realloc(sb.data, sb.size);
    *out = fit ? fit : (uint8_t *)sb.data;
    *outlen = sb.size;
    return 0;
}

void entry_hash(const uint8_t *bytes, size_t len, uint8_t out[ENTRY_HASH_BYTES])
{
    crypto_generichash(out, ENTRY_HASH_BYTES, bytes, len, NULL, 0);
}

bool entry_is_membership(const entry_view *e)
{
    const msgpack_object_str *c = &e->coll;
    return (c->size == 5 && (!memcmp(c->ptr, "units", 5) || !memcmp(c->ptr, "certs", 5))) ||
           (c->size == 7 && !memcmp(c->ptr, "network", 7));
}
