/*
 * photos.c - report photos, checked by photo_check.c, stored as entries of
 * collection "photos" with id "<hash hex>/<n>" (chunks of at most
 * PHOTO_CHUNK bytes, body {"data": bin, "n", "of", "type"}), addressed
 * like their report, and joined again for download.
 */
#include "lib/hex.h"
#include "reports/reports_internal.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void write_list_free(write_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->bodies[i]);
    free(l->w);
    free(l->bodies);
    free(l->ids);
    memset(l, 0, sizeof *l);
}

static int write_list_grow(write_list *l)
{
    if (l->n < l->cap)
        return 0;
    size_t cap = l->cap ? 2 * l->cap : 16;
    store_write *w = realloc(l->w, cap * sizeof *w);
    if (w)
        l->w = w;
    uint8_t **b = realloc(l->bodies, cap * sizeof *b);
    if (b)
        l->bodies = b;
    char(*ids)[ENTRY_MAX_NAME + 1] = realloc(l->ids, cap * sizeof *ids);
    if (ids)
        l->ids = ids;
    if (!w || !b || !ids)
        return -1;
    for (size_t i = 0; i < l->n; i++) /* ids moved: point the writes at them again */
        l->w[i].id = l->ids[i];
    l->cap = cap;
    return 0;
}

int photo_entries(write_list *l, const photo_info *p, const char *const *to, size_t nto, char *err,
                  size_t errlen)
{
    char hex[65];
    hex_encode(p->hash, 32, hex);
    size_t of = (p->len + PHOTO_CHUNK - 1) / PHOTO_CHUNK;
    for (size_t n = 0; n < of; n++) {
        if (write_list_grow(l)) {
            snprintf(err, errlen, "out of memory storing a photo");
            return -1;
        }
        size_t off = n * PHOTO_CHUNK,
               part = p->len - off < PHOTO_CHUNK ? p->len - off : PHOTO_CHUNK;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 4);
        msgpack_pack_str_with_body(&pk, "data", 4);
        msgpack_pack_bin_with_body(&pk, p->data + off, part);
        msgpack_pack_str_with_body(&pk, "n", 1);
        msgpack_pack_uint64(&pk, n);
        msgpack_pack_str_with_body(&pk, "of", 2);
        msgpack_pack_uint64(&pk, of);
        msgpack_pack_str_with_body(&pk, "type", 4);
        msgpack_pack_str_with_body(&pk, p->mime, strlen(p->mime));
        snprintf(l->ids[l->n], ENTRY_MAX_NAME + 1, "%s/%zu", hex, n);
        l->bodies[l->n] = (uint8_t *)sb.data;
        l->w[l->n] = (store_write){PHOTO_COLL, l->ids[l->n], ENTRY_OP_PUT, (uint8_t *)sb.data,
                                   sb.size,    to,           nto};
        l->n++;
    }
    return 0;
}

/* Reads chunk n of photo hex: its data appended to *buf, of and type. */
static int chunk_read(reports *r, const char *hex, size_t n, uint8_t **buf, size_t *len, size_t *of,
                      const char **type)
{
    char id[ENTRY_MAX_NAME + 1];
    snprintf(id, sizeof id, "%s/%zu", hex, n);
    uint8_t *rec;
    size_t rlen;
    int rc = store_record_get(r->s, PHOTO_COLL, id, &rec, &rlen);
    if (rc)
        return rc;
    /* the record: {"c": ..., "f": {field: [hlc, origin, value]}, "r": ...} */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    rc = -1;
    if (msgpack_unpack_next(&u, (const char *)rec, rlen, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 1 ||
                kv->key.via.str.ptr[0] != 'f' || kv->val.type != MSGPACK_OBJECT_MAP)
                continue;
            for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
                msgpack_object_kv *f = &kv->val.via.map.ptr[j];
                if (f->val.type != MSGPACK_OBJECT_ARRAY || f->val.via.array.size != 3)
                    continue;
                const msgpack_object *v = &f->val.via.array.ptr[2];
                msgpack_object_str k = f->key.via.str;
                if (k.size == 4 && !memcmp(k.ptr, "data", 4) && v->type == MSGPACK_OBJECT_BIN) {
                    uint8_t *nb = realloc(*buf, *len + v->via.bin.size + 1);
                    if (!nb)
                        goto done;
                    memcpy(nb + *len, v->via.bin.ptr, v->via.bin.size);
                    *buf = nb;
                    *len += v->via.bin.size;
                    rc = 0;
                } else if (k.size == 2 && !memcmp(k.ptr, "of", 2) &&
                           v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                    *of = (size_t)v->via.u64;
                } else if (k.size == 4 && !memcmp(k.ptr, "type", 4) &&
                           v->type == MSGPACK_OBJECT_STR) {
                    *type = v->via.str.size == 9 && !memcmp(v->via.str.ptr, "image/png", 9)
                                ? "image/png"
                            : v->via.str.size == 10 && !memcmp(v->via.str.ptr, "image/webp", 10)
                                ? "image/webp"
                                : "image/jpeg";
                }
            }
        }
    }
done:
    msgpack_unpacked_destroy(&u);
    free(rec);
    return rc;
}

static int photo_get_locked(reports *r, const char *code, const char *hash, uint8_t **data,
                            size_t *len, const char **type)
{
    int status;
    json_t *rep = report_load(r, code, &status);
    if (!rep)
        return status == 404 ? 1 : -1;
    bool listed = false;
    size_t i;
    json_t *ph;
    json_array_foreach(json_object_get(rep, "photos"), i, ph) listed =
        listed || !strcmp(report_str(ph, "hash"), hash);
    json_array_foreach(json_object_get(rep, "resolution_photos"), i, ph) listed =
        listed || !strcmp(report_str(ph, "hash"), hash);
    json_decref(rep);
    if (!listed)
        return 1;
    *data = NULL;
    *len = 0;
    *type = "image/jpeg";
    size_t of = 1;
    for (size_t n = 0; n < of; n++) {
        int rc = chunk_read(r, hash, n, data, len, &of, type);
        if (rc) {
            free(*data);
            *data = NULL;
            return rc;
        }
    }
    return 0;
}

int reports_photo_get(reports *r, const char *code, const char *hash, uint8_t **data, size_t *len,
                      const char **type)
{
    reports_lock(r);
    int rc = photo_get_locked(r, code, hash, data, len, type);
    reports_unlock(r);
    return rc;
}
