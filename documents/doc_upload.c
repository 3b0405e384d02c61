/*
 * doc_upload.c - attachments streamed in (documents.h, "streamed
 * attachments"): checked, hashed and staged as their bytes come, then
 * written as chunk entries (doc_files.c's layout: "<document id>/<hash
 * hex>/<n>" of DOC_FILE_COLL) a batch per transaction, the document
 * record last. A staging file is unlinked as soon as it is made, so
 * nothing of an upload outlives its process or its doc_upload.
 */
#include "documents/doc_internal.h"
#include "lib/hex.h"
#include "lib/mpjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD_LEN 8     /* bytes that tell a file's type */
#define CHUNK_BATCH 64 /* chunk entries per transaction (1.5 MiB) */

static size_t file_max = DOC_FILE_MAX_DEFAULT;

size_t documents_file_max(void)
{
    return file_max;
}

void documents_set_file_max(size_t bytes)
{
    file_max = bytes;
}

typedef struct {
    char name[256], type[128], hash[65];
    uint64_t size;
    uint8_t head[HEAD_LEN];
    size_t headlen;
    crypto_generichash_state st;
    int fd;
} staged;

struct doc_upload {
    documents *d;
    staged f[DOC_FILES_MAX];
    size_t n;
    bool open; /* f[n - 1] is still being written */
};

doc_upload *doc_upload_new(documents *d)
{
    doc_upload *u = calloc(1, sizeof *u);
    if (u)
        u->d = d;
    return u;
}

void doc_upload_free(doc_upload *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++)
        close(u->f[i].fd);
    free(u);
}

/* An unnamed file in the node's directory (the temporary directory for a
 * context without one), or -1. */
static int staging_open(documents *d)
{
    char path[NODE_PATH_MAX + 32];
    const char *dir = d->c->dir[0] ? d->c->dir : P_tmpdir;
    snprintf(path, sizeof path, "%s/.upload-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

int doc_upload_file_begin(doc_upload *u, const char *name, lt_error *e)
{
    if (u->open && doc_upload_file_end(u, e))
        return -1;
    if (u->n == DOC_FILES_MAX)
        return lt_error_set(e, LT_EINVAL, "document.files_too_many",
                            "a document has at most %d attachments", DOC_FILES_MAX);
    if (!name || strlen(name) > 200 || !mpjson_utf8_valid(name, strlen(name)))
        return lt_error_set(e, LT_EINVAL, "document.field",
                            "the name of attachment %zu is not UTF-8 text of at most 200 bytes",
                            u->n + 1);
    staged *f = &u->f[u->n];
    *f = (staged){.fd = staging_open(u->d)};
    if (f->fd < 0)
        return lt_error_set(e, LT_ESTORAGE, NULL,
                            "cannot stage attachment %s in %s (%s); check the node's disk", name,
                            u->d->c->dir, strerror(errno));
    snprintf(f->name, sizeof f->name, "%s", name);
    crypto_generichash_init(&f->st, NULL, 0, 32);
    u->n++;
    u->open = true;
    return 0;
}

/* Sets f's type from its first bytes; -1 with *e when they are no known
 * type. */
static int staged_type(staged *f, lt_error *e)
{
    const char *t = f->headlen ? doc_file_kind(f->name, f->head, f->headlen) : NULL;
    if (!t)
        return lt_error_set(e, LT_EINVAL, "document.file_type",
                            "attachment %s is not a PDF, DOCX, XLSX, PNG or JPEG file",
                            f->name[0] ? f->name : "(no name)");
    snprintf(f->type, sizeof f->type, "%s", t);
    return 0;
}

int doc_upload_file_write(doc_upload *u, const uint8_t *data, size_t len, lt_error *e)
{
    if (!u->open)
        return lt_error_set(e, LT_EINVAL, "document.field", "no attachment is open");
    staged *f = &u->f[u->n - 1];
    if (f->size + len > documents_file_max())
        return doc_file_too_large(f->name, f->size + len, e);
    bool typed = f->headlen == HEAD_LEN;
    size_t h = len < HEAD_LEN - f->headlen ? len : HEAD_LEN - f->headlen;
    memcpy(f->head + f->headlen, data, h);
    f->headlen += h;
    if (!typed && f->headlen == HEAD_LEN && staged_type(f, e))
        return -1;
    crypto_generichash_update(&f->st, data, len);
    f->size += len;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(f->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return lt_error_set(e, LT_ESTORAGE, NULL,
                                "cannot stage attachment %s (%s); check the node's disk", f->name,
                                strerror(errno));
        off += (size_t)w;
    }
    return 0;
}

int doc_upload_file_end(doc_upload *u, lt_error *e)
{
    if (!u->open)
        return 0;
    staged *f = &u->f[u->n - 1];
    u->open = false;
    if (f->headlen < HEAD_LEN && staged_type(f, e))
        return -1;
    uint8_t h[32];
    crypto_generichash_final(&f->st, h, sizeof h);
    hex_encode(h, sizeof h, f->hash);
    return 0;
}

json_t *documents_create_upload(documents *d, const json_t *in, doc_upload *u, const doc_actor *who,
                                const unit_tree *tree, lt_error *e)
{
    if (u->open && doc_upload_file_end(u, e))
        return NULL;
    return doc_create(d, in, NULL, 0, u, who, tree, e);
}

/* Writes the entries of w in one transaction and empties it. */
static int writes_flush(documents *d, doc_writes *w, lt_error *e)
{
    store_author a = node_author(d->c);
    int rc =
        w->n ? store_write_local(d->s, &a, w->w, w->n, NULL, e->message, sizeof e->message) : 0;
    doc_writes_free(w);
    return rc ? lt_error_mark(e, store_write_errkind(rc),
                              rc == STORE_REFUSED ? "document.authority" : NULL)
              : 0;
}

/* Adds the chunk entries of staged file f of document id to w, flushing
 * every CHUNK_BATCH. */
static int staged_chunks(documents *d, const char *id, const staged *f, doc_writes *w,
                         const char *const *to, size_t nto, uint8_t *buf, lt_error *e)
{
    size_t of = (size_t)((f->size + DOC_CHUNK - 1) / DOC_CHUNK);
    for (size_t c = 0; c < of; c++) {
        size_t want = c + 1 < of ? DOC_CHUNK : (size_t)(f->size - (uint64_t)c * DOC_CHUNK);
        ssize_t got = pread(f->fd, buf, want, (off_t)c * DOC_CHUNK);
        if (got != (ssize_t)want)
            return lt_error_set(e, LT_ESTORAGE, NULL,
                                "cannot read back staged attachment %s; check the node's disk",
                                f->name);
        char cid[ENTRY_MAX_NAME + 1];
        snprintf(cid, sizeof cid, "%s/%s/%zu", id, f->hash, c);
        msgpack_sbuffer sb;
        if (doc_chunk_pack(&sb, buf, want, c, of)) {
            msgpack_sbuffer_destroy(&sb);
            return lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
        }
        if (doc_writes_add(w, DOC_FILE_COLL, cid, ENTRY_OP_PUT, (uint8_t *)sb.data, sb.size, to,
                           nto)) /* it freed the body */
            return lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
        if (w->n == CHUNK_BATCH && writes_flush(d, w, e))
            return -1;
    }
    return 0;
}

int doc_upload_store(documents *d, const char *id, json_t *rec, const doc_upload *up,
                     const char *const *to, size_t nto, doc_writes *more, lt_error *e)
{
    doc_writes w = {0};
    json_t *list = json_array();
    uint8_t *buf = malloc(DOC_CHUNK);
    int rc = buf && list ? 0 : lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory; retry later");
    for (size_t i = 0; !rc && i < up->n; i++) {
        const staged *f = &up->f[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I}", "hash", f->hash, "name",
                                              f->name[0] ? f->name : f->hash, "type", f->type,
                                              "size", (json_int_t)f->size, "chunks",
                                              (json_int_t)((f->size + DOC_CHUNK - 1) / DOC_CHUNK)));
        rc = staged_chunks(d, id, f, &w, to, nto, buf, e);
    }
    free(buf);
    if (!rc)
        rc = writes_flush(d, &w, e);
    doc_writes_free(&w);
    if (up->n)
        json_object_set(rec, "files", list);
    json_decref(list);
    return rc ? rc : doc_store(d, id, rec, NULL, 0, to, nto, more, e); /* the record, last */
}
