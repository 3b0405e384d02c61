/*
 * doc_files.c - attachments of documents: checked (PDF, DOCX, XLSX, PNG,
 * JPEG; at most documents_file_max() bytes each), stored as chunk entries of
 * collection "doc_files" with id "<document id>/<BLAKE2b-256 hex>/<n>"
 * (owned and addressed like their document, so the same file in two
 * documents of different units never collides) (body {"data":
 * bin, "n", "of"}, at most DOC_CHUNK bytes each) addressed like their
 * document, listed in the document's "files" [{hash, name, type, size,
 * chunks}], read back chunk by chunk for download and for the signature
 * check (documents.h).
 */
#include "documents/doc_internal.h"
#include "lib/hex.h"
#include "lib/mpjson.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *type, *magic;
    size_t len;
} kinds[] = {
    {"application/pdf", "%PDF-", 5},
    {"image/png", "\x89PNG\r\n\x1a\n", 8},
    {"image/jpeg", "\xff\xd8\xff", 3},
};

/* A ZIP container is an Office document, named by the extension of name. */
const char *doc_file_kind(const char *name, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (len >= kinds[i].len && !memcmp(data, kinds[i].magic, kinds[i].len))
            return kinds[i].type;
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (len < 4 || memcmp(data, "PK\x03\x04", 4) || !dot)
        return NULL;
    if (!strcasecmp(dot, ".docx"))
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    if (!strcasecmp(dot, ".xlsx"))
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    return NULL;
}

int doc_file_too_large(const char *name, uint64_t size, lt_error *e)
{
    return lt_error_set(e, LT_ETOOLARGE, "document.file_too_large",
                        "attachment %s is %llu bytes or more; at most %zu bytes (%zu MiB) are "
                        "allowed per attachment: split or compress it",
                        name, (unsigned long long)size, documents_file_max(),
                        documents_file_max() >> 20);
}

int doc_files_check(const doc_file *f, size_t n, lt_error *e)
{
    if (n > DOC_FILES_MAX)
        return lt_error_set(e, LT_EINVAL, "document.files_too_many",
                            "a document has at most %d attachments", DOC_FILES_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *name = f[i].name && *f[i].name ? f[i].name : "(no name)";
        if (f[i].len > documents_file_max())
            return doc_file_too_large(name, f[i].len, e);
        if (!f[i].len || !doc_file_kind(f[i].name, f[i].data, f[i].len))
            return lt_error_set(e, LT_EINVAL, "document.file_type",
                                "attachment %s is not a PDF, DOCX, XLSX, PNG or JPEG file", name);
        if (strlen(name) > 200 || !mpjson_utf8_valid(name, strlen(name)))
            return lt_error_set(e, LT_EINVAL, "document.field",
                                "the name of attachment %zu is not UTF-8 text of at most 200 "
                                "bytes",
                                i + 1);
    }
    return 0;
}

int doc_chunk_pack(msgpack_sbuffer *sb, const uint8_t *data, size_t len, size_t n, size_t of)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "data", 4);
    msgpack_pack_bin_with_body(&pk, data, len);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_uint64(&pk, n);
    msgpack_pack_str_with_body(&pk, "of", 2);
    msgpack_pack_uint64(&pk, of);
    return sb->data ? 0 : -1;
}

int doc_files_entries(doc_writes *w, const char *doc_id, const doc_file *f, size_t n, json_t *list,
                      const char *const *to, size_t nto, lt_error *e)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t hash[32];
        char hex[65];
        crypto_generichash(hash, sizeof hash, f[i].data, f[i].len, NULL, 0);
        hex_encode(hash, sizeof hash, hex);
        size_t of = (f[i].len + DOC_CHUNK - 1) / DOC_CHUNK;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I}", "hash", hex, "name",
                                              f[i].name && *f[i].name ? f[i].name : hex, "type",
                                              doc_file_kind(f[i].name, f[i].data, f[i].len), "size",
                                              (json_int_t)f[i].len, "chunks", (json_int_t)of));
        for (size_t c = 0; c < of; c++) {
            size_t off = c * DOC_CHUNK,
                   part = f[i].len - off < DOC_CHUNK ? f[i].len - off : DOC_CHUNK;
            char id[ENTRY_MAX_NAME + 1];
            snprintf(id, sizeof id, "%s/%s/%zu", doc_id, hex, c);
            msgpack_sbuffer sb;
            if (doc_chunk_pack(&sb, f[i].data + off, part, c, of) ||
                doc_writes_add(w, DOC_FILE_COLL, id, ENTRY_OP_PUT, (uint8_t *)sb.data, sb.size, to,
                               nto)) {
                msgpack_sbuffer_destroy(&sb);
                return lt_error_set(e, LT_EUNAVAILABLE, NULL,
                                    "out of memory storing attachments; retry later");
            }
        }
    }
    return 0;
}

/* The data of chunk record rec (bin, or str written by a generic import),
 * or NULL. */
static const msgpack_object *chunk_data(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 1 ||
            kv->key.via.str.ptr[0] != 'f' || kv->val.type != MSGPACK_OBJECT_MAP)
            continue;
        for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
            const msgpack_object_kv *f = &kv->val.via.map.ptr[j];
            if (f->key.type == MSGPACK_OBJECT_STR && f->key.via.str.size == 4 &&
                !memcmp(f->key.via.str.ptr, "data", 4) && f->val.type == MSGPACK_OBJECT_ARRAY &&
                f->val.via.array.size == 3)
                return &f->val.via.array.ptr[2];
        }
    }
    return NULL;
}

int doc_chunk_read(documents *d, const char *doc_id, const char *hex, size_t n,
                   int (*fn)(void *ctx, const uint8_t *data, size_t len), void *ctx)
{
    char id[ENTRY_MAX_NAME + 1];
    snprintf(id, sizeof id, "%s/%s/%zu", doc_id, hex, n);
    uint8_t *rec;
    size_t rlen;
    int rc = store_record_get(d->s, DOC_FILE_COLL, id, &rec, &rlen);
    if (rc)
        return rc;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    rc = 1;
    if (msgpack_unpack_next(&u, (const char *)rec, rlen, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *v = chunk_data(&u.data);
        if (v && v->type == MSGPACK_OBJECT_BIN)
            rc = fn(ctx, (const uint8_t *)v->via.bin.ptr, v->via.bin.size);
        else if (v && v->type == MSGPACK_OBJECT_STR)
            rc = fn(ctx, (const uint8_t *)v->via.str.ptr, v->via.str.size);
    }
    msgpack_unpacked_destroy(&u);
    free(rec);
    return rc;
}

static int hash_chunk(void *ctx, const uint8_t *data, size_t len)
{
    crypto_generichash_update(ctx, data, len);
    return 0;
}

/* The BLAKE2b-256 (hex) of the chunks of file f as this node holds them:
 * "missing" when a chunk is absent or unreadable. */
static void file_rehash(documents *d, const char *doc_id, const json_t *f, char out[65])
{
    const char *hex = doc_str(f, "hash");
    json_int_t of = json_integer_value(json_object_get(f, "chunks"));
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    for (json_int_t c = 0; hex && c < of; c++)
        if (doc_chunk_read(d, doc_id, hex, (size_t)c, hash_chunk, &st)) {
            strcpy(out, "missing");
            return;
        }
    uint8_t h[32];
    crypto_generichash_final(&st, h, sizeof h);
    hex_encode(h, sizeof h, out);
}

void doc_files_hash(documents *d, const json_t *doc, crypto_generichash_state *st)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f)
    {
        char h[65];
        file_rehash(d, doc_str(doc, "id"), f, h);
        crypto_generichash_update(st, (const uint8_t *)h, strlen(h));
    }
}

/* ---- download ---- */

static int chunk_seen(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
    return 0;
}

int documents_file_chunk(documents *d, const char *id, const char *hash, size_t n,
                         int (*fn)(void *ctx, const uint8_t *data, size_t len), void *ctx)
{
    return doc_chunk_read(d, id, hash, n, fn, ctx);
}

int documents_file_info(documents *d, const char *id, const char *hash, const char *unit,
                        const unit_tree *tree, doc_file_info *out, lt_error *e)
{
    int why;
    json_t *doc = doc_load(d, id, &why);
    if (!doc || !doc_visible(doc, unit, tree)) {
        json_decref(doc);
        return why < 0 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", id)
                       : (doc_not_found(id, e), -1);
    }
    const json_t *f = NULL, *v;
    size_t i;
    json_array_foreach(json_object_get(doc, "files"), i, v)
    {
        if (doc_str(v, "hash") && !strcmp(doc_str(v, "hash"), hash))
            f = v;
    }
    json_int_t size = json_integer_value(json_object_get(f, "size"));
    json_int_t of = json_integer_value(json_object_get(f, "chunks"));
    int rc = 0;
    if (!f || size < 0 || of < 0 || strlen(hash) != 64)
        rc = lt_error_set(e, LT_ENOTFOUND, "document.file_not_found",
                          "document %s has no attachment %s", id, hash);
    else if (of && doc_chunk_read(d, id, hash, (size_t)of - 1, chunk_seen, NULL))
        rc = lt_error_set(e, LT_EUNAVAILABLE, "document.file_incomplete",
                          "this node does not hold all of attachment %s yet: retry when "
                          "replication has caught up",
                          hash);
    if (!rc) {
        *out = (doc_file_info){.size = (uint64_t)size, .chunks = (size_t)of};
        snprintf(out->name, sizeof out->name, "%s", doc_str(f, "name") ? doc_str(f, "name") : hash);
        snprintf(out->type, sizeof out->type, "%s",
                 doc_str(f, "type") ? doc_str(f, "type") : "application/octet-stream");
        snprintf(out->hash, sizeof out->hash, "%s", hash);
    }
    json_decref(doc);
    return rc;
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} grow_buf;

static int append_chunk(void *ctx, const uint8_t *data, size_t len)
{
    grow_buf *g = ctx;
    if (g->len + len > g->cap)
        return -1;
    memcpy(g->buf + g->len, data, len);
    g->len += len;
    return 0;
}

int documents_file_get(documents *d, const char *id, const char *hash, const char *unit,
                       const unit_tree *tree, doc_file *out, lt_error *e)
{
    doc_file_info fi;
    if (documents_file_info(d, id, hash, unit, tree, &fi, e))
        return -1;
    grow_buf g = {.buf = fi.size <= documents_file_max() ? malloc(fi.size + 1) : NULL,
                  .cap = fi.size};
    if (!g.buf)
        return lt_error_set(e, LT_EUNAVAILABLE, NULL,
                            "attachment %s of %llu bytes cannot be read whole into memory; "
                            "download it alone (GET .../files/%s)",
                            hash, (unsigned long long)fi.size, hash);
    for (size_t c = 0; c < fi.chunks; c++)
        if (doc_chunk_read(d, id, hash, c, append_chunk, &g)) {
            free(g.buf);
            return lt_error_set(e, LT_EUNAVAILABLE, "document.file_incomplete",
                                "this node does not hold all of attachment %s yet (chunk %zu of "
                                "%zu): retry when replication has caught up",
                                hash, c + 1, fi.chunks);
        }
    *out = (doc_file){strdup(fi.name), strdup(fi.type), g.buf, g.len};
    return 0;
}
