/*
 * doc_internal.h - what the files of the documents domain share: the
 * context and the record helpers of documents.c.
 */
#ifndef LT_DOC_INTERNAL_H
#define LT_DOC_INTERNAL_H

#include "documents/documents.h"

#include <msgpack.h>
#include <sodium.h>

struct documents {
    store *s;
    const node_config *c;
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
};

/* A document type: its code (in ids), symbol (in notations), names. */
typedef struct {
    const char *code, *symbol, *vi, *en;
} doc_type;

/* The type of code (or of its Vietnamese name), or NULL. */
const doc_type *doc_type_find(const char *code);

/* The urgencies (thuong, khan, thuong_khan, hoa_toc: edXML priorities 0-3)
 * and security levels. */
extern const char *const doc_urgencies[4];
extern const char *const doc_securities[4];

/* Today in Vietnam (UTC+7) as YYYY-MM-DD, by the context's clock. */
void doc_today(documents *d, char out[11]);

/* True when s is a real calendar date YYYY-MM-DD. */
bool doc_date_valid(const char *s);

/* Writes document record rec as id with the chunk entries of files, all
 * addressed to to[0..nto), in one transaction; sets rec's "files". Returns
 * 0, or -1 with *e. */
int doc_store(documents *d, const char *id, json_t *rec, const doc_file *files, size_t nfiles,
              const char *const *to, size_t nto, lt_error *e);

/* The string at key of object in, or NULL. */
const char *doc_str(const json_t *in, const char *key);

/* Writes one entry of coll/id (fields packed as its body) addressed to
 * to[0..nto) as this node. Returns 0, or -1 with *e (document.authority
 * when write authority refuses). */
int doc_write(documents *d, const char *coll, const char *id, entry_op op, const json_t *fields,
              const char *const *to, size_t nto, lt_error *e);

/* The stored record of document id as JSON (recipients as unit codes), or
 * NULL with *why: 1 absent or not a document (a generic record of the
 * collection), -1 a storage error. */
json_t *doc_load(documents *d, const char *id, int *why);

/* The addressees of a document record: its unit, then its recipients;
 * to has room for DOC_RECIPIENTS_MAX + 1. Returns how many. */
size_t doc_to(const json_t *doc, const char **to);

/* True when a user of unit may see the document record doc. */
bool doc_visible(const json_t *doc, const char *unit, const unit_tree *tree);

/* Fills *e with document.not_found for id and returns NULL. */
json_t *doc_not_found(const char *id, lt_error *e);

/* Entries to write in one transaction, owning their ids and bodies. */
typedef struct {
    store_write *w;
    char (*ids)[ENTRY_MAX_NAME + 1];
    uint8_t **bodies;
    size_t n, cap;
} doc_writes;

/* Appends a write of coll/id taking body (malloc'd; freed with the list,
 * or at once on failure). Returns 0, or -1 when out of memory. */
int doc_writes_add(doc_writes *w, const char *coll, const char *id, entry_op op, uint8_t *body,
                   size_t len, const char *const *to, size_t nto);

/* Frees what the list owns. */
void doc_writes_free(doc_writes *w);

/* ---- attachments (doc_files.c) ---- */

/* Checks attachments f[0..n): count, size, type by content, name. */
int doc_files_check(const doc_file *f, size_t n, lt_error *e);

/* Adds the chunk entries of f[0..n) of document doc_id addressed to
 * to[0..nto) to w and their {hash, name, type, size, chunks} to list. */
int doc_files_entries(doc_writes *w, const char *doc_id, const doc_file *f, size_t n, json_t *list,
                      const char *const *to, size_t nto, lt_error *e);

/* Calls fn with the bytes of chunk n of attachment hex of document
 * doc_id. Returns fn's result, 1 when the chunk is absent or unreadable,
 * -1 on error. */
int doc_chunk_read(documents *d, const char *doc_id, const char *hex, size_t n,
                   int (*fn)(void *ctx, const uint8_t *data, size_t len), void *ctx);

/* Feeds st with the hash of every attachment of doc recomputed from the
 * chunks held ("missing" for an incomplete one). */
void doc_files_hash(documents *d, const json_t *doc, crypto_generichash_state *st);

/* documents_create, or with the attachments of upload up (staged by
 * doc_upload.c) instead of files when up is set. */
json_t *doc_create(documents *d, const json_t *in, const doc_file *files, size_t nfiles,
                   const doc_upload *up, const doc_actor *who, const unit_tree *tree, lt_error *e);

/* Writes the staged attachments of up as chunk entries of document id
 * (addressed to to[0..nto)), a batch of them per transaction, then record
 * rec with its "files". Returns 0, or -1 with *e. */
int doc_upload_store(documents *d, const char *id, json_t *rec, const doc_upload *up,
                     const char *const *to, size_t nto, lt_error *e);

/* The content type of an attachment by its first bytes head[0..len) (at
 * least 8 when the file has them) and its name, or NULL when it is not a
 * PDF, DOCX, XLSX, PNG or JPEG file. */
const char *doc_file_kind(const char *name, const uint8_t *head, size_t len);

/* Fills *e with document.file_too_large for attachment name of size
 * bytes and returns -1. */
int doc_file_too_large(const char *name, uint64_t size, lt_error *e);

/* Packs chunk n of of (data[0..len)) as an entry body into sb. */
int doc_chunk_pack(msgpack_sbuffer *sb, const uint8_t *data, size_t len, size_t n, size_t of);

/* ---- signatures (doc_sign.c) ---- */

/* The BLAKE2b-256 of what a signature covers: the signed fields of doc
 * and the recomputed hash of every attachment. */
int doc_content_hash(documents *d, const json_t *doc, uint8_t out[32], lt_error *e);

#endif
