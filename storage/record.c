/*
 * record.c - per-field last-writer-wins merge of entries into canonical
 * records. The rules and the encoding are in record.h.
 */
#include "storage/record.h"
#include "lib/mpjson.h"
#include "lib/mpread.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hlc;
    const uint8_t *origin; /* ENTRY_KEY_BYTES */
} stamp;

typedef struct {
    const char *key;
    uint32_t klen;
    stamp st;
    const msgpack_object *val;
} field;

typedef struct {
    bool has_creator, has_reset, deleted;
    stamp creator, reset;
    msgpack_object_str creator_unit;
    field *fields;
    size_t nfields;
    msgpack_unpacked up; /* owns the old record's objects */
} record;

static int stamp_cmp(stamp a, stamp b)
{
    if (a.hlc != b.hlc)
        return a.hlc < b.hlc ? -1 : 1;
    return memcmp(a.origin, b.origin, ENTRY_KEY_BYTES);
}

static int key_cmp(const char *a, uint32_t al, const char *b, uint32_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static int field_cmp(const void *a, const void *b)
{
    const field *x = a, *y = b;
    return key_cmp(x->key, x->klen, y->key, y->klen);
}

static bool read_stamp(const msgpack_object *arr, stamp *st)
{
    if (arr->type != MSGPACK_OBJECT_ARRAY || arr->via.array.size < 2)
        return false;
    const msgpack_object *h = &arr->via.array.ptr[0], *o = &arr->via.array.ptr[1];
    if (h->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->type != MSGPACK_OBJECT_BIN ||
        o->via.bin.size != ENTRY_KEY_BYTES)
        return false;
    st->hlc = h->via.u64;
    st->origin = (const uint8_t *)o->via.bin.ptr;
    return true;
}

static bool key_is(const msgpack_object *k, const char *s)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
           !memcmp(k->via.str.ptr, s, k->via.str.size);
}

/* Decodes a canonical record; r->fields has room for `extra` more. */
static int record_decode(const uint8_t *b, size_t len, record *r, size_t extra)
{
    memset(r, 0, sizeof *r);
    msgpack_unpacked_init(&r->up);
    if (!b || !len) {
        r->fields = calloc(extra ? extra : 1, sizeof(field));
        return r->fields ? 0 : -1;
    }
    size_t off = 0;
    if (msgpack_unpack_next(&r->up, (const char *)b, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != len)
        return -1;
    const msgpack_object *root = &r->up.data;
    if (root->type != MSGPACK_OBJECT_MAP || root->via.map.size != 3)
        return -1;
    const msgpack_object_kv *kv = root->via.map.ptr;
    if (!key_is(&kv[0].key, "c") || !key_is(&kv[1].key, "f") || !key_is(&kv[2].key, "r"))
        return -1;
    const msgpack_object *c = &kv[0].val;
    if (!read_stamp(c, &r->creator) || c->via.array.size != 3 ||
        c->via.array.ptr[2].type != MSGPACK_OBJECT_STR)
        return -1;
    r->has_creator = true;
    r->creator_unit = c->via.array.ptr[2].via.str;
    if (kv[2].val.type != MSGPACK_OBJECT_NIL) {
        const msgpack_object *rr = &kv[2].val;
        if (!read_stamp(rr, &r->reset) || rr->via.array.size != 3 ||
            rr->via.array.ptr[2].type != MSGPACK_OBJECT_BOOLEAN)
            return -1;
        r->has_reset = true;
        r->deleted = rr->via.array.ptr[2].via.boolean;
    }
    if (kv[1].val.type != MSGPACK_OBJECT_MAP)
        return -1;
    const msgpack_object_map *fm = &kv[1].val.via.map;
    r->fields = calloc(fm->size + extra + 1, sizeof(field));
    if (!r->fields)
        return -1;
    for (uint32_t i = 0; i < fm->size; i++) {
        const msgpack_object *v = &fm->ptr[i].val;
        if (fm->ptr[i].key.type != MSGPACK_OBJECT_STR || !read_stamp(v, &r->fields[i].st) ||
            v->via.array.size != 3)
            return -1;
        r->fields[i].key = fm->ptr[i].key.via.str.ptr;
        r->fields[i].klen = fm->ptr[i].key.via.str.size;
        r->fields[i].val = &v->via.array.ptr[2];
    }
    r->nfields = fm->size;
    return 0;
}

static void record_release(record *r)
{
    free(r->fields);
    msgpack_unpacked_destroy(&r->up);
}

static void pack_stamp(msgpack_packer *pk, stamp st, size_t n)
{
    msgpack_pack_array(pk, n);
    msgpack_pack_uint64(pk, st.hlc);
    msgpack_pack_bin(pk, ENTRY_KEY_BYTES);
    msgpack_pack_bin_body(pk, st.origin, ENTRY_KEY_BYTES);
}

static void record_pack(const record *r, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "c", 1);
    pack_stamp(&pk, r->creator, 3);
    msgpack_pack_str_with_body(&pk, r->creator_unit.ptr, r->creator_unit.size);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_map(&pk, r->nfields);
    for (size_t i = 0; i < r->nfields; i++) {
        const field *f = &r->fields[i];
        msgpack_pack_str_with_body(&pk, f->key, f->klen);
        pack_stamp(&pk, f->st, 3);
        msgpack_pack_object(&pk, *f->val);
    }
    msgpack_pack_str_with_body(&pk, "r", 1);
    if (r->has_reset) {
        pack_stamp(&pk, r->reset, 3);
        if (r->deleted)
            msgpack_pack_true(&pk);
        else
            msgpack_pack_false(&pk);
    } else {
        msgpack_pack_nil(&pk);
    }
}

/* Orders two values by their packed bytes: the tie-break between writes
 * with one stamp (only an origin that reuses an HLC makes them), so that
 * the merge stays a join whatever order they arrive in. */
static int value_cmp(const msgpack_object *a, const msgpack_object *b)
{
    msgpack_sbuffer sa, sb;
    msgpack_packer pa, pb;
    msgpack_sbuffer_init(&sa);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pa, &sa, msgpack_sbuffer_write);
    msgpack_packer_init(&pb, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pa, *a);
    msgpack_pack_object(&pb, *b);
    int c = key_cmp(sa.data, (uint32_t)sa.size, sb.data, (uint32_t)sb.size);
    msgpack_sbuffer_destroy(&sa);
    msgpack_sbuffer_destroy(&sb);
    return c;
}

/* Sets field k to val at st unless a newer write holds it. */
static void record_set_field(record *r, const msgpack_object_str *k, stamp st,
                             const msgpack_object *val)
{
    for (size_t i = 0; i < r->nfields; i++) {
        field *f = &r->fields[i];
        if (!key_cmp(f->key, f->klen, k->ptr, k->size)) {
            int c = stamp_cmp(st, f->st);
            if (c > 0 || (c == 0 && value_cmp(val, f->val) > 0)) {
                f->st = st;
                f->val = val;
            }
            return;
        }
    }
    r->fields[r->nfields++] = (field){k->ptr, k->size, st, val};
}

int record_merge(const uint8_t *old, size_t oldlen, const entry_view *e, msgpack_sbuffer *out,
                 char *err, size_t errlen)
{
    record r;
    if (record_decode(old, oldlen, &r, e->body.size)) {
        record_release(&r);
        snprintf(err, errlen, "stored record is not in the canonical record format");
        return -1;
    }
    stamp st = {e->hlc, e->origin};
    /* Ties of equal stamps (one origin reusing an HLC) are broken by the
     * lower unit for the creator and by delete over put, as for fields by
     * value, so that any arrival order gives the same record. */
    int cc = r.has_creator ? stamp_cmp(st, r.creator) : -1;
    if (cc < 0 || (cc == 0 && key_cmp(e->unit.ptr, e->unit.size, r.creator_unit.ptr,
                                      r.creator_unit.size) < 0)) {
        r.has_creator = true;
        r.creator = st;
        r.creator_unit = e->unit;
    }
    bool replaces = e->op == ENTRY_OP_PUT || e->op == ENTRY_OP_DELETE;
    int rc = r.has_reset ? stamp_cmp(st, r.reset) : 1;
    if (replaces && (rc > 0 || (rc == 0 && e->op == ENTRY_OP_DELETE && !r.deleted))) {
        r.has_reset = true;
        r.reset = st;
        r.deleted = e->op == ENTRY_OP_DELETE;
        size_t kept = 0;
        for (size_t i = 0; i < r.nfields; i++)
            if (stamp_cmp(r.fields[i].st, st) >= 0)
                r.fields[kept++] = r.fields[i];
        r.nfields = kept;
    }
    bool live = !r.has_reset || stamp_cmp(st, r.reset) >= 0;
    if (live && e->op != ENTRY_OP_DELETE)
        for (uint32_t i = 0; i < e->body.size; i++)
            record_set_field(&r, &e->body.ptr[i].key.via.str, st, &e->body.ptr[i].val);
    qsort(r.fields, r.nfields, sizeof(field), field_cmp);
    record_pack(&r, out);
    record_release(&r);
    return 0;
}

int record_summary(const uint8_t *rec, size_t len, bool *deleted, char *owner, size_t cap)
{
    /* read in place (every index update asks twice per entry applied): the
     * three pairs of a canonical record, the fields map only counted */
    if (!rec || !len) {
        *deleted = false;
        if (cap)
            owner[0] = '\0';
        return cap ? 0 : -1;
    }
    mpread r = {rec, rec + len};
    uint32_t n, nf;
    uint64_t hlc;
    const uint8_t *origin;
    const char *unit;
    uint32_t ul;
    bool del = false;
    if (!mpread_map(&r, &n) || n != 3 || !mpread_key(&r, "c") || !mpread_array(&r, &n) || n != 3 ||
        !mpread_uint(&r, &hlc) || !mpread_bin(&r, ENTRY_KEY_BYTES, &origin) ||
        !mpread_str(&r, &unit, &ul) || !mpread_key(&r, "f") || !mpread_map_skip(&r, &nf) ||
        !mpread_key(&r, "r"))
        return -1;
    if (!mpread_nil(&r) && (!mpread_array(&r, &n) || n != 3 || !mpread_uint(&r, &hlc) ||
                            !mpread_bin(&r, ENTRY_KEY_BYTES, &origin) || !mpread_bool(&r, &del)))
        return -1;
    if (r.p != r.end || ul >= cap)
        return -1;
    *deleted = del && nf == 0;
    memcpy(owner, unit, ul);
    owner[ul] = '\0';
    return 0;
}

bool record_is_deleted(const uint8_t *rec, size_t len)
{
    bool deleted;
    char owner[ENTRY_MAX_NAME + 1];
    return !record_summary(rec, len, &deleted, owner, sizeof owner) && deleted;
}

int record_owner(const uint8_t *rec, size_t len, char *unit, size_t cap)
{
    bool deleted;
    return record_summary(rec, len, &deleted, unit, cap);
}

int record_creation(const uint8_t *rec, size_t len, bool *has_put, uint64_t *hlc,
                    uint8_t origin[ENTRY_KEY_BYTES])
{
    record r;
    int rc = -1;
    if (!record_decode(rec, len, &r, 0) && r.has_creator) {
        *has_put = r.has_reset;
        *hlc = r.creator.hlc;
        memcpy(origin, r.creator.origin, ENTRY_KEY_BYTES);
        rc = 0;
    }
    record_release(&r);
    return rc;
}

int record_last_putter(const uint8_t *rec, size_t len, uint8_t origin[ENTRY_KEY_BYTES])
{
    record r;
    int rc = -1;
    if (!record_decode(rec, len, &r, 0)) {
        memcpy(origin, r.has_reset ? r.reset.origin : r.creator.origin, ENTRY_KEY_BYTES);
        rc = 0;
    }
    record_release(&r);
    return rc;
}

int record_field_str(const uint8_t *rec, size_t len, const char *name, char *out, size_t cap)
{
    record r;
    int rc = -1;
    if (!record_decode(rec, len, &r, 0)) {
        rc = 1;
        size_t nl = strlen(name);
        for (size_t i = 0; i < r.nfields; i++) {
            const field *f = &r.fields[i];
            if (f->klen != nl || memcmp(f->key, name, nl))
                continue;
            if (f->val->type == MSGPACK_OBJECT_STR && f->val->via.str.size < cap) {
                memcpy(out, f->val->via.str.ptr, f->val->via.str.size);
                out[f->val->via.str.size] = '\0';
                rc = 0;
            }
            break;
        }
    }
    record_release(&r);
    return rc;
}

int record_field_u64(const uint8_t *rec, size_t len, const char *name, uint64_t *out)
{
    record r;
    int rc = -1;
    if (!record_decode(rec, len, &r, 0)) {
        rc = 1;
        size_t nl = strlen(name);
        for (size_t i = 0; i < r.nfields; i++)
            if (r.fields[i].klen == nl && !memcmp(r.fields[i].key, name, nl) &&
                r.fields[i].val->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                *out = r.fields[i].val->via.u64;
                rc = 0;
            }
    }
    record_release(&r);
    return rc;
}

bool record_field_newer(const uint8_t *rec, size_t len, const char *name, uint64_t hlc,
                        const uint8_t origin[ENTRY_KEY_BYTES])
{
    record r;
    bool newer = false;
    if (!record_decode(rec, len, &r, 0)) {
        newer = true;
        size_t nl = strlen(name);
        stamp st = {hlc, origin};
        for (size_t i = 0; i < r.nfields; i++)
            if (r.fields[i].klen == nl && !memcmp(r.fields[i].key, name, nl))
                newer = stamp_cmp(st, r.fields[i].st) > 0;
    }
    record_release(&r);
    return newer;
}

json_t *record_to_json(const uint8_t *rec, size_t len, const char *id, size_t idlen, char *err,
                       size_t errlen)
{
    record r;
    if (record_decode(rec, len, &r, 0)) {
        record_release(&r);
        snprintf(err, errlen, "stored record is not in the canonical record format");
        return NULL;
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_stringn(id, idlen));
    for (size_t i = 0; i < r.nfields; i++) {
        const field *f = &r.fields[i];
        if (f->val->type == MSGPACK_OBJECT_NIL)
            continue;
        json_t *v = mpjson_to_json(f->val, err, errlen);
        if (!v) {
            json_decref(obj);
            record_release(&r);
            return NULL;
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)f->klen, f->key);
        json_object_set_new(obj, key, v);
    }
    record_release(&r);
    return obj;
}
