/*
 * mpjson.c - conversion between JSON (jansson) and msgpack. See mpjson.h.
 *
 * Both directions recurse at most MPJSON_MAX_DEPTH container levels, so
 * the C stack stays small whatever the input. Error messages carry a path
 * ("place.name", "tags[2]") built in a fixed buffer as the walk descends.
 */
#include "lib/mpjson.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- error paths ---------------------------------------------------- */

#define PATH_CAP 160

typedef struct {
    char buf[PATH_CAP];
    size_t len;
    bool full; /* "..." was appended; further parts are dropped */
} mp_path;

typedef struct {
    size_t len;
    bool full;
} mp_mark;

static void path_init(mp_path *p)
{
    p->buf[0] = 0;
    p->len = 0;
    p->full = false;
}

static mp_mark path_mark(const mp_path *p)
{
    return (mp_mark){p->len, p->full};
}

static void path_reset(mp_path *p, mp_mark m)
{
    p->len = m.len;
    p->full = m.full;
    p->buf[p->len] = 0;
}

/* Appends s[0..n); when it does not fit, cuts it at a character boundary
 * and ends the path with "...". */
static void path_append(mp_path *p, const char *s, size_t n)
{
    if (p->full)
        return;
    size_t room = PATH_CAP - 4 - p->len; /* keep "..." and the NUL */
    if (n <= room) {
        if (n)
            memcpy(p->buf + p->len, s, n);
        p->len += n;
    } else {
        size_t cut = room;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            cut--;
        memcpy(p->buf + p->len, s, cut);
        memcpy(p->buf + p->len + cut, "...", 3);
        p->len += cut + 3;
        p->full = true;
    }
    p->buf[p->len] = 0;
}

/* Appends ".key" (or "key" at the root); control characters show as '?'. */
static void path_push_key(mp_path *p, const char *k, size_t n)
{
    if (p->len)
        path_append(p, ".", 1);
    size_t from = p->len;
    path_append(p, k, n);
    for (size_t i = from; i < p->len; i++)
        if ((unsigned char)p->buf[i] < 0x20 || p->buf[i] == 0x7f)
            p->buf[i] = '?';
}

static void path_push_index(mp_path *p, size_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
    path_append(p, tmp, (size_t)n);
}

/* Drops a UTF-8 sequence cut short at the end of s, so a truncated
 * message stays valid UTF-8 (it may end up in a JSON reply). */
static void trim_partial_char(char *s)
{
    size_t len = strlen(s), i = len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (want > 1 && back + 1 < want)
        s[i - 1] = 0;
}

static void fail(char *err, size_t errlen, const mp_path *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t errlen, const mp_path *p, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n;
    if (p && p->len)
        n = snprintf(err, errlen, "field \"%s\": %s", p->buf, msg);
    else
        n = snprintf(err, errlen, "%s", msg);
    if (n >= 0 && (size_t)n >= errlen)
        trim_partial_char(err);
}

/* ---- UTF-8 and base64 ----------------------------------------------- */

bool mpjson_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t r =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (r <= 0)
            return false;
        i += (size_t)r;
    }
    return true;
}

/* A new JSON string holding p[0..n) in standard, padded base64. */
static json_t *base64_string(const char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *in = (const unsigned char *)p;
    size_t olen = (n + 2) / 3 * 4;
    char *s = malloc(olen + 1);
    if (!s)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        s[o++] = tab[w >> 18];
        s[o++] = tab[(w >> 12) & 63];
        s[o++] = tab[(w >> 6) & 63];
        s[o++] = tab[w & 63];
    }
    if (n - i == 1) {
        uint32_t w = (uint32_t)in[i] << 16;
        s[o++] = tab[w >> 18];
        s[o++] = tab[(w >> 12) & 63];
        s[o++] = '=';
        s[o++] = '=';
    } else if (n - i == 2) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        s[o++] = tab[w >> 18];
        s[o++] = tab[(w >> 12) & 63];
        s[o++] = tab[(w >> 6) & 63];
        s[o++] = '=';
    }
    s[o] = 0;
    json_t *j = json_stringn_nocheck(s, o);
    free(s);
    return j;
}

/* ---- JSON -> msgpack ------------------------------------------------ */

typedef struct {
    const char *key;
    size_t len;
    json_t *val;
} kv_ref;

/* Bytewise order; a key that is a prefix of another sorts first. */
static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int kv_ref_cmp(const void *a, const void *b)
{
    const kv_ref *x = a, *y = b;
    return key_cmp(x->key, x->len, y->key, y->len);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

typedef struct {
    msgpack_packer *pk;
    mp_path path;
    char *err;
    size_t errlen;
} pack_ctx;

static int pack_write_failed(pack_ctx *c)
{
    fail(c->err, c->errlen, &c->path, "msgpack write failed");
    return -1;
}

static int pack_str(pack_ctx *c, const char *s, size_t n)
{
    if (!mpjson_utf8_valid(s, n)) {
        fail(c->err, c->errlen, &c->path, "invalid UTF-8 in string");
        return -1;
    }
    if (n > UINT32_MAX) {
        fail(c->err, c->errlen, &c->path, "string too long for msgpack");
        return -1;
    }
    if (msgpack_pack_str(c->pk, n) || msgpack_pack_str_body(c->pk, s, n))
        return pack_write_failed(c);
    return 0;
}

/* depth: how many containers enclose v. */
static int pack_value(pack_ctx *c, const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_NULL: return msgpack_pack_nil(c->pk) ? pack_write_failed(c) : 0;
    case JSON_TRUE: return msgpack_pack_true(c->pk) ? pack_write_failed(c) : 0;
    case JSON_FALSE: return msgpack_pack_false(c->pk) ? pack_write_failed(c) : 0;
    case JSON_INTEGER:
        return msgpack_pack_int64(c->pk, (int64_t)json_integer_value(v)) ? pack_write_failed(c) : 0;
    case JSON_REAL:
        return msgpack_pack_double(c->pk, json_real_value(v)) ? pack_write_failed(c) : 0;
    case JSON_STRING: return pack_str(c, json_string_value(v), json_string_length(v));
    case JSON_ARRAY:
    case JSON_OBJECT: break;
    }

    if (depth >= MPJSON_MAX_DEPTH) {
        fail(c->err, c->errlen, &c->path, "JSON nested deeper than %d levels", MPJSON_MAX_DEPTH);
        return -1;
    }

    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if (n > UINT32_MAX) {
            fail(c->err, c->errlen, &c->path, "array too long for msgpack");
            return -1;
        }
        if (msgpack_pack_array(c->pk, n))
            return pack_write_failed(c);
        for (size_t i = 0; i < n; i++) {
            mp_mark m = path_mark(&c->path);
            path_push_index(&c->path, i);
            int r = pack_value(c, json_array_get(v, i), depth + 1);
            path_reset(&c->path, m);
            if (r)
                return -1;
        }
        return 0;
    }

    /* Object: gather the pairs and write them in key order. */
    json_t *obj = (json_t *)v; /* jansson's iterators take non-const */
    size_t n = json_object_size(obj);
    if (n > UINT32_MAX) {
        fail(c->err, c->errlen, &c->path, "object too large for msgpack");
        return -1;
    }
    kv_ref *kv = NULL;
    if (n) {
        kv = malloc(n * sizeof *kv);
        if (!kv) {
            fail(c->err, c->errlen, &c->path, "out of memory");
            return -1;
        }
    }
    size_t k = 0;
    for (void *it = json_object_iter(obj); it && k < n; it = json_object_iter_next(obj, it)) {
        kv[k].key = json_object_iter_key(it);
        kv[k].len = json_object_iter_key_len(it);
        kv[k].val = json_object_iter_value(it);
        k++;
    }
    if (k > 1)
        qsort(kv, k, sizeof *kv, kv_ref_cmp);
    int rc = 0;
    if (msgpack_pack_map(c->pk, k)) {
        rc = pack_write_failed(c);
    }
    for (size_t i = 0; rc == 0 && i < k; i++) {
        if (!mpjson_utf8_valid(kv[i].key, kv[i].len)) {
            fail(c->err, c->errlen, &c->path, "invalid UTF-8 in object key");
            rc = -1;
            break;
        }
        mp_mark m = path_mark(&c->path);
        path_push_key(&c->path, kv[i].key, kv[i].len);
        if (msgpack_pack_str(c->pk, kv[i].len) ||
            msgpack_pack_str_body(c->pk, kv[i].key, kv[i].len))
            rc = pack_write_failed(c);
        else
            rc = pack_value(c, kv[i].val, depth + 1);
        path_reset(&c->path, m);
    }
    free(kv);
    return rc;
}

int mpjson_pack(msgpack_packer *pk, const json_t *v, char *err, size_t errlen)
{
    pack_ctx c = {.pk = pk, .err = err, .errlen = errlen};
    path_init(&c.path);
    if (!v) {
        fail(err, errlen, NULL, "no JSON value");
        return -1;
    }
    return pack_value(&c, v, 0);
}

int mpjson_pack_object(const json_t *v, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (!v || !json_is_object(v)) {
        fail(err, errlen, NULL, "expected a JSON object, got %s",
             v ? json_type_name(v) : "nothing");
        return -1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (mpjson_pack(&pk, v, err, errlen) < 0) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    *len = sb.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&sb);
    return 0;
}

/* ---- msgpack -> JSON ------------------------------------------------ */

static const char *mp_type_name(msgpack_object_type t)
{
    switch (t) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "float";
    case MSGPACK_OBJECT_STR: return "str";
    case MSGPACK_OBJECT_ARRAY: return "array";
    case MSGPACK_OBJECT_MAP: return "map";
    case MSGPACK_OBJECT_BIN: return "bin";
    case MSGPACK_OBJECT_EXT: return "ext";
    }
    return "unknown";
}

typedef struct {
    mp_path path;
    char *err;
    size_t errlen;
} walk_ctx;

static int walk_oom(walk_ctx *c)
{
    fail(c->err, c->errlen, &c->path, "out of memory");
    return -1;
}

static int str_cmp(const void *a, const void *b)
{
    const msgpack_object_str *x = *(const msgpack_object_str *const *)a;
    const msgpack_object_str *y = *(const msgpack_object_str *const *)b;
    return key_cmp(x->ptr, x->size, y->ptr, y->size);
}

/* Finds a repeated key in a map whose keys are all str. Returns 0 when
 * keys are unique, 1 with *dup set, -1 when out of memory. */
static int find_duplicate_key(const msgpack_object_map *m, const msgpack_object_str **dup)
{
    uint32_t n = m->size;
    if (n < 2)
        return 0;
    if (n <= 16) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++) {
                const msgpack_object_str *a = &m->ptr[i].key.via.str, *b = &m->ptr[j].key.via.str;
                if (key_cmp(a->ptr, a->size, b->ptr, b->size) == 0) {
                    *dup = a;
                    return 1;
                }
            }
        return 0;
    }
    const msgpack_object_str **keys = malloc((size_t)n * sizeof *keys);
    if (!keys)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        keys[i] = &m->ptr[i].key.via.str;
    qsort(keys, n, sizeof *keys, str_cmp);
    int found = 0;
    for (uint32_t i = 1; i < n && !found; i++)
        if (str_cmp(&keys[i - 1], &keys[i]) == 0) {
            *dup = keys[i];
            found = 1;
        }
    free(keys);
    return found;
}

/* Checks o and, when out is not NULL, builds its JSON form into *out.
 * depth: how many containers enclose o. */
static int walk(walk_ctx *c, const msgpack_object *o, int depth, json_t **out)
{
    json_t *j = NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        if (out)
            j = json_null();
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        if (out)
            j = json_boolean(o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            fail(c->err, c->errlen, &c->path,
                 "integer %llu is above the JSON integer range (int64)",
                 (unsigned long long)o->via.u64);
            return -1;
        }
        if (out)
            j = json_integer((json_int_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        if (out)
            j = json_integer((json_int_t)o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64)) {
            fail(c->err, c->errlen, &c->path, "NaN or infinity has no JSON form");
            return -1;
        }
        if (out)
            j = json_real(o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        if (!mpjson_utf8_valid(o->via.str.ptr, o->via.str.size)) {
            fail(c->err, c->errlen, &c->path, "invalid UTF-8");
            return -1;
        }
        if (out)
            j = json_stringn_nocheck(o->via.str.size ? o->via.str.ptr : "", o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        if (out)
            j = base64_string(o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_EXT:
        fail(c->err, c->errlen, &c->path, "msgpack ext (type %d) has no JSON form",
             (int)o->via.ext.type);
        return -1;
    case MSGPACK_OBJECT_ARRAY:
    case MSGPACK_OBJECT_MAP:
        if (depth >= MPJSON_MAX_DEPTH) {
            fail(c->err, c->errlen, &c->path, "msgpack nested deeper than %d levels",
                 MPJSON_MAX_DEPTH);
            return -1;
        }
        break;
    default: fail(c->err, c->errlen, &c->path, "unknown msgpack type %d", (int)o->type); return -1;
    }

    if (o->type == MSGPACK_OBJECT_ARRAY) {
        if (out && !(j = json_array()))
            return walk_oom(c);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            mp_mark m = path_mark(&c->path);
            path_push_index(&c->path, i);
            json_t *item = NULL;
            int r = walk(c, &o->via.array.ptr[i], depth + 1, out ? &item : NULL);
            if (r == 0 && out && json_array_append_new(j, item))
                r = walk_oom(c);
            path_reset(&c->path, m);
            if (r) {
                json_decref(j);
                return -1;
            }
        }
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *map = &o->via.map;
        /* Keys first: all str, all valid UTF-8, all distinct. */
        for (uint32_t i = 0; i < map->size; i++) {
            const msgpack_object *key = &map->ptr[i].key;
            if (key->type != MSGPACK_OBJECT_STR) {
                fail(c->err, c->errlen, &c->path, "map key is not a string (%s)",
                     mp_type_name(key->type));
                return -1;
            }
            if (!mpjson_utf8_valid(key->via.str.ptr, key->via.str.size)) {
                fail(c->err, c->errlen, &c->path, "invalid UTF-8 in map key");
                return -1;
            }
        }
        const msgpack_object_str *dup = NULL;
        int d = find_duplicate_key(map, &dup);
        if (d < 0)
            return walk_oom(c);
        if (d > 0) {
            mp_mark m = path_mark(&c->path);
            path_push_key(&c->path, dup->ptr, dup->size);
            fail(c->err, c->errlen, &c->path, "duplicate map key");
            path_reset(&c->path, m);
            return -1;
        }
        if (out && !(j = json_object()))
            return walk_oom(c);
        for (uint32_t i = 0; i < map->size; i++) {
            const msgpack_object_str *k = &map->ptr[i].key.via.str;
            const char *kp = k->size ? k->ptr : "";
            mp_mark m = path_mark(&c->path);
            path_push_key(&c->path, kp, k->size);
            json_t *val = NULL;
            int r = walk(c, &map->ptr[i].val, depth + 1, out ? &val : NULL);
            if (r == 0 && out && json_object_setn_new_nocheck(j, kp, k->size, val))
                r = walk_oom(c);
            path_reset(&c->path, m);
            if (r) {
                json_decref(j);
                return -1;
            }
        }
    }

    if (out) {
        if (!j)
            return walk_oom(c);
        *out = j;
    }
    return 0;
}

json_t *mpjson_to_json(const msgpack_object *o, char *err, size_t errlen)
{
    walk_ctx c = {.err = err, .errlen = errlen};
    path_init(&c.path);
    json_t *j = NULL;
    if (walk(&c, o, 0, &j) < 0)
        return NULL;
    return j;
}

int mpjson_check(const msgpack_object *o, char *err, size_t errlen)
{
    walk_ctx c = {.err = err, .errlen = errlen};
    path_init(&c.path);
    return walk(&c, o, 0, NULL);
}

/* ---- raw msgpack structure ------------------------------------------ */

static uint64_t read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

enum { K_FIXED, K_PAYLOAD, K_EXT, K_ARRAY, K_MAP };

int mpjson_scan(const uint8_t *b, size_t len, size_t *used, char *err, size_t errlen)
{
    uint64_t left[MPJSON_MAX_DEPTH + 1]; /* items still due in each open container */
    int depth = 0;
    uint64_t pending = 0; /* sum of left[1..depth] */
    size_t p = 0;
    *used = 0;
    if (len == 0) {
        fail(err, errlen, NULL, "truncated msgpack (empty input)");
        return -1;
    }
    do {
        if (depth > 0) {
            left[depth]--;
            pending--;
        }
        if (p >= len) {
            fail(err, errlen, NULL, "truncated msgpack");
            return -1;
        }
        size_t at = p;
        uint8_t c = b[p++];
        int kind = K_FIXED;
        uint64_t n = 0; /* payload bytes (K_FIXED, K_PAYLOAD) or item count */
        size_t hdr = 0; /* length bytes that follow the type byte */
        if (c <= 0x7f || c >= 0xe0)
            n = 0;
        else if (c <= 0x8f)
            kind = K_MAP, n = c & 0x0f;
        else if (c <= 0x9f)
            kind = K_ARRAY, n = c & 0x0f;
        else if (c <= 0xbf)
            n = c & 0x1f;
        else {
            switch (c) {
            case 0xc0:
            case 0xc2:
            case 0xc3: break;
            case 0xc1:
                fail(err, errlen, NULL, "malformed msgpack (byte 0xc1 at offset %zu)", at);
                return -1;
            case 0xc4: kind = K_PAYLOAD, hdr = 1; break;
            case 0xc5: kind = K_PAYLOAD, hdr = 2; break;
            case 0xc6: kind = K_PAYLOAD, hdr = 4; break;
            case 0xc7: kind = K_EXT, hdr = 1; break;
            case 0xc8: kind = K_EXT, hdr = 2; break;
            case 0xc9: kind = K_EXT, hdr = 4; break;
            case 0xca: n = 4; break;
            case 0xcb: n = 8; break;
            case 0xcc:
            case 0xd0: n = 1; break;
            case 0xcd:
            case 0xd1: n = 2; break;
            case 0xce:
            case 0xd2: n = 4; break;
            case 0xcf:
            case 0xd3: n = 8; break;
            case 0xd4: n = 2; break;
            case 0xd5: n = 3; break;
            case 0xd6: n = 5; break;
            case 0xd7: n = 9; break;
            case 0xd8: n = 17; break;
            case 0xd9: kind = K_PAYLOAD, hdr = 1; break;
            case 0xda: kind = K_PAYLOAD, hdr = 2; break;
            case 0xdb: kind = K_PAYLOAD, hdr = 4; break;
            case 0xdc: kind = K_ARRAY, hdr = 2; break;
            case 0xdd: kind = K_ARRAY, hdr = 4; break;
            case 0xde: kind = K_MAP, hdr = 2; break;
            case 0xdf: kind = K_MAP, hdr = 4; break;
            }
        }
        if (hdr) {
            if (hdr > len - p) {
                fail(err, errlen, NULL, "truncated msgpack");
                return -1;
            }
            n = read_be(b + p, hdr);
            p += hdr;
            if (kind == K_EXT)
                n += 1; /* the ext type byte */
        }
        if (kind == K_ARRAY || kind == K_MAP) {
            if (depth >= MPJSON_MAX_DEPTH) {
                fail(err, errlen, NULL, "msgpack nested deeper than %d levels", MPJSON_MAX_DEPTH);
                return -1;
            }
            uint64_t items = kind == K_MAP ? 2 * n : n;
            /* Every item takes at least one byte: a larger claim is
             * truncated input, and refusing it here bounds what the
             * unpacker allocates to O(len). */
            pending += items;
            if (pending > len - p) {
                fail(err, errlen, NULL, "truncated msgpack (%s at offset %zu claims %llu items)",
                     kind == K_MAP ? "map" : "array", at, (unsigned long long)n);
                return -1;
            }
            if (items)
                left[++depth] = items;
        } else {
            if (n > len - p) {
                fail(err, errlen, NULL, "truncated msgpack");
                return -1;
            }
            p += (size_t)n;
        }
        while (depth > 0 && left[depth] == 0)
            depth--;
    } while (depth > 0);
    *used = p;
    return 0;
}

json_t *mpjson_decode(const uint8_t *bytes, size_t len, char *err, size_t errlen)
{
    size_t used;
    if (mpjson_scan(bytes, len, &used, err, errlen) < 0)
        return NULL;
    if (used != len) {
        fail(err, errlen, NULL, "trailing bytes after the msgpack value (%zu extra)", len - used);
        return NULL;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)bytes, len, &off);
    json_t *j = NULL;
    if (r == MSGPACK_UNPACK_SUCCESS && off == len)
        j = mpjson_to_json(&u.data, err, errlen);
    else if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        fail(err, errlen, NULL, "out of memory");
    else
        fail(err, errlen, NULL, "malformed msgpack");
    msgpack_unpacked_destroy(&u);
    return j;
}
