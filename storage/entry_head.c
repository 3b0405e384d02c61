/*
 * entry_head.c - reading the fields of a held entry without unpacking it
 * (entry_head_read in entry.h): the header is walked byte by byte, the
 * body skipped by mpjson_scan, and "to" kept in the caller's array. No
 * allocation, so the routing and feed walks that look at every entry of a
 * log pay a few hundred nanoseconds for it, not a msgpack zone.
 */
#include "lib/mpjson.h"
#include "storage/entry.h"

#include <string.h>

typedef struct {
    const uint8_t *p, *end;
} reader;

static bool rd_key(reader *r, const char *key)
{
    size_t n = strlen(key);
    if ((size_t)(r->end - r->p) < 1 + n || r->p[0] != (0xa0 | n) || memcmp(r->p + 1, key, n))
        return false;
    r->p += 1 + n;
    return true;
}

static bool rd_be(reader *r, size_t n, uint64_t *v)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = *v << 8 | r->p[i];
    r->p += n;
    return true;
}

static bool rd_uint(reader *r, uint64_t *v)
{
    if (r->p >= r->end)
        return false;
    uint8_t t = *r->p++;
    if (t <= 0x7f) {
        *v = t;
        return true;
    }
    if (t < 0xcc || t > 0xcf)
        return false;
    return rd_be(r, (size_t)1 << (t - 0xcc), v);
}

static bool rd_bin(reader *r, uint8_t n, const uint8_t **out)
{
    if (r->end - r->p < 2 + n || r->p[0] != 0xc4 || r->p[1] != n)
        return false;
    *out = r->p + 2;
    r->p += 2 + n;
    return true;
}

static bool rd_str(reader *r, msgpack_object_str *s)
{
    if (r->p >= r->end)
        return false;
    uint8_t t = *r->p++;
    uint64_t n;
    if ((t & 0xe0) == 0xa0)
        n = t & 0x1f;
    else if (t < 0xd9 || t > 0xdb || !rd_be(r, (size_t)1 << (t - 0xd9), &n))
        return false;
    if ((uint64_t)(r->end - r->p) < n)
        return false;
    s->ptr = (const char *)r->p;
    s->size = (uint32_t)n;
    r->p += n;
    return true;
}

static bool rd_array(reader *r, uint64_t *n)
{
    if (r->p >= r->end)
        return false;
    uint8_t t = *r->p++;
    if ((t & 0xf0) == 0x90) {
        *n = t & 0x0f;
        return true;
    }
    return (t == 0xdc || t == 0xdd) && rd_be(r, t == 0xdc ? 2 : 4, n);
}

int entry_head_read(const uint8_t *bytes, size_t len, entry_head *h)
{
    entry_view *v = &h->v;
    memset(v, 0, sizeof *v);
    if (len < ENTRY_ORIGIN_OFFSET + ENTRY_KEY_BYTES + ENTRY_SIG_TAIL || bytes[0] != 0x8c)
        return -1;
    reader r = {bytes + ENTRY_ORIGIN_OFFSET - 2, bytes + len};
    uint64_t op = 0, nto = 0;
    msgpack_object_str ops;
    if (!rd_bin(&r, ENTRY_KEY_BYTES, &v->origin) || !rd_key(&r, "seq") || !rd_uint(&r, &v->seq) ||
        !rd_key(&r, "prev") || !rd_bin(&r, ENTRY_HASH_BYTES, &v->prev) || !rd_key(&r, "hlc") ||
        !rd_uint(&r, &v->hlc) || !rd_key(&r, "unit") || !rd_str(&r, &v->unit) ||
        !rd_key(&r, "coll") || !rd_str(&r, &v->coll) || !rd_key(&r, "id") || !rd_str(&r, &v->id) ||
        !rd_key(&r, "op") || !rd_str(&r, &ops) || !(op = entry_op_parse(ops.ptr, ops.size)) ||
        !rd_key(&r, "body"))
        return -1;
    size_t used;
    if (r.p >= r.end || !((*r.p & 0xf0) == 0x80 || *r.p == 0xde || *r.p == 0xdf) ||
        mpjson_scan(r.p, (size_t)(r.end - r.p), &used, NULL, 0))
        return -1;
    r.p += used;
    if (!rd_key(&r, "to") || !rd_array(&r, &nto) || nto > ENTRY_MAX_TO)
        return -1;
    for (uint64_t i = 0; i < nto; i++) {
        h->to[i].type = MSGPACK_OBJECT_STR;
        if (!rd_str(&r, &h->to[i].via.str))
            return -1;
    }
    if (r.end - r.p != ENTRY_SIG_TAIL || !rd_key(&r, "sig") ||
        !rd_bin(&r, ENTRY_SIG_BYTES, &v->sig))
        return -1;
    v->op = (entry_op)op;
    v->to.size = (uint32_t)nto;
    v->to.ptr = h->to;
    v->bytes = bytes; /* v->unpacked has no zone: entry_view_free is a no-op */
    v->len = len;
    return 0;
}
