/*
 * entry_head.c - reading the fields of a held entry without unpacking it
 * (entry_head_read in entry.h): the header is read in place (mpread.h),
 * the body skipped, and "to" kept in the caller's array. No allocation, so
 * the routing and feed walks that look at every entry of a log pay a
 * fraction of a msgpack unpack for it.
 */
#include "lib/mpread.h"
#include "storage/entry.h"

#include <string.h>

static bool read_str(mpread *r, msgpack_object_str *s)
{
    return mpread_str(r, &s->ptr, &s->size);
}

int entry_head_read(const uint8_t *bytes, size_t len, entry_head *h)
{
    entry_view *v = &h->v;
    memset(v, 0, sizeof *v);
    if (len < ENTRY_ORIGIN_OFFSET + ENTRY_KEY_BYTES + ENTRY_SIG_TAIL || bytes[0] != 0x8c)
        return -1;
    mpread r = {bytes + 1, bytes + len};
    uint64_t version;
    uint32_t nto = 0;
    msgpack_object_str op;
    if (!mpread_key(&r, "v") || !mpread_uint(&r, &version) || version != ENTRY_VERSION ||
        !mpread_key(&r, "origin") || !mpread_bin(&r, ENTRY_KEY_BYTES, &v->origin) ||
        !mpread_key(&r, "seq") || !mpread_uint(&r, &v->seq) || !mpread_key(&r, "prev") ||
        !mpread_bin(&r, ENTRY_HASH_BYTES, &v->prev) || !mpread_key(&r, "hlc") ||
        !mpread_uint(&r, &v->hlc) || !mpread_key(&r, "unit") || !read_str(&r, &v->unit) ||
        !mpread_key(&r, "coll") || !read_str(&r, &v->coll) || !mpread_key(&r, "id") ||
        !read_str(&r, &v->id) || !mpread_key(&r, "op") || !read_str(&r, &op) ||
        !(v->op = entry_op_parse(op.ptr, op.size)) || !mpread_key(&r, "body"))
        return -1;
    uint32_t nbody;
    if (!mpread_map_skip(&r, &nbody) || !mpread_key(&r, "to") || !mpread_array(&r, &nto) ||
        nto > ENTRY_MAX_TO)
        return -1;
    for (uint32_t i = 0; i < nto; i++) {
        h->to[i].type = MSGPACK_OBJECT_STR;
        if (!read_str(&r, &h->to[i].via.str))
            return -1;
    }
    if (r.end - r.p != ENTRY_SIG_TAIL || !mpread_key(&r, "sig") ||
        !mpread_bin(&r, ENTRY_SIG_BYTES, &v->sig))
        return -1;
    v->to.size = nto;
    v->to.ptr = h->to;
    v->bytes = bytes; /* v->unpacked has no zone: entry_view_free is a no-op */
    v->len = len;
    return 0;
}
