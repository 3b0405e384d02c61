/*
 * doc_internal.h - what the files of the documents domain share: the
 * context and the record helpers of documents.c.
 */
#ifndef LT_DOC_INTERNAL_H
#define LT_DOC_INTERNAL_H

#include "documents/documents.h"

#include <msgpack.h>
#include <sodium.h>
#include <uv.h>

struct documents {
    store *s;
    const node_config *c;
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    uv_mutex_t numbering; /* a number's allocation against a hand-over of the register */
};

/* A document type: its code (in ids), symbol (in notations), names, and
 * whether documents may be issued with it. */
typedef struct {
    char code[DOC_TYPE_CODE_MAX + 1], symbol[17], vi[129], en[129];
    bool active;
} doc_type;

/* The active type of code (or of its Vietnamese name) into *out, from the
 * replicated list and the defaults (doc_types.c); false when none. */
bool doc_type_find(documents *d, const char *code, doc_type *out);

/* The urgencies (thuong, khan, thuong_khan, hoa_toc: edXML priorities 0-3)
 * and security levels. */
extern const char *const doc_urgencies[4];
extern const char *const doc_securities[4];

/* Today in Vietnam (UTC+7) as YYYY-MM-DD, by the context's clock. */
void doc_today(documents *d, char out[11]);

/* True when s is a real calendar date YYYY-MM-DD. */
bool doc_date_valid(const char *s);

typedef struct doc_writes doc_writes;

/* Writes document record rec as id with the chunk entries of files, all
 * addressed to to[0..nto), and the writes w holds already (may be NULL),
 * in one transaction; sets rec's "files"; frees what w holds. Returns 0,
 * or -1 with *e. */
int doc_store(documents *d, const char *id, json_t *rec, const doc_file *files, size_t nfiles,
              const char *const *to, size_t nto, doc_writes *w, lt_error *e);

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

/* The addressees of a document record's entries: its unit, then its
 * "address" (recipient groups "X*" and the units no such group covers)
 * when it has one, else its recipients; to has room for DOC_ADDRESS_MAX +
 * 1. Returns how many. */
size_t doc_to(const json_t *doc, const char **to);

/* True when a user of unit may see the document record doc. */
bool doc_visible(const json_t *doc, const char *unit, const unit_tree *tree);

/* The receipt of recipient unit for document id (new reference), or NULL. */
json_t *doc_receipt_load(documents *d, const char *id, const char *unit);

/* The codes of the array field of j (recipients or assignees: codes, or
 * lines {unit, ...}) that a user of unit acts for, into out (at most max):
 * unit itself, first, when it is one, and every one merged away into unit
 * (access_became: its live successor is unit). Returns how many. The
 * pointers live as long as j. */
size_t doc_acting_for(const json_t *j, const char *field, const char *unit, const unit_tree *tree,
                      const char **out, size_t max);

/* The operation that writes record coll/id of a merged-away unit (merged
 * true) or of the writer's own: a patch when a successor changes a record
 * its predecessor's node created (it stays that record's creation and
 * owner), else a put. */
entry_op doc_merged_op(documents *d, const char *coll, const char *id, bool merged);

/* Writes the receipt status (with note) of recipient for document doc of
 * id on behalf of who: "unit" is recipient, and "by_unit" who's unit when
 * that differs (the successor of a recipient merged away). No checks but
 * the status. Returns 0 or -1 with *e. */
int doc_receipt_put(documents *d, const json_t *doc, const char *id, const char *recipient,
                    const char *status, const char *note, const doc_actor *who, lt_error *e);

/* Fills *e with document.not_found for id and returns NULL. */
json_t *doc_not_found(const char *id, lt_error *e);

/* Entries to write in one transaction, owning their ids and bodies. */
struct doc_writes {
    store_write *w;
    char (*ids)[ENTRY_MAX_NAME + 1];
    uint8_t **bodies;
    size_t n, cap;
};

/* Appends a write of coll/id taking body (malloc'd; freed with the list,
 * or at once on failure). Returns 0, or -1 when out of memory. */
int doc_writes_add(doc_writes *w, const char *coll, const char *id, entry_op op, uint8_t *body,
                   size_t len, const char *const *to, size_t nto);

/* Frees what the list owns. */
void doc_writes_free(doc_writes *w);

/* ---- update and replace (doc_links.c) ---- */

/* The document a new one updates or replaces. */
typedef struct {
    size_t kind;                         /* 0 updates (edXML 15), 1 replaces (16) */
    const char *old_id;                  /* NULL: neither */
    json_t *old;                         /* its record */
    const char *to[DOC_ADDRESS_MAX + 1]; /* its addressees (the patch's, kept alive) */
    size_t nto;
} doc_link;

/* Reads "updates" or "replaces" of in (at most one): the document named
 * must be held, issued by this node's unit (not imported), neither
 * recalled nor replaced; in gets its recipients when it names none.
 * Returns 0 (l->old_id NULL when in names none), or -1 with *e. */
int doc_link_check(documents *d, json_t *in, doc_link *l, lt_error *e);

/* Sets the link of l on the new document's record rec. */
void doc_link_record(const doc_link *l, json_t *rec);

/* Adds to w the patch of the old document: status "updated" (15, its
 * "updated_by" list grown by new_id) or "replaced" (16, "replaced_by"),
 * when and by whom, addressed to the old document's addressees. */
int doc_link_write(documents *d, doc_link *l, const char *new_id, const doc_actor *who,
                   doc_writes *w, lt_error *e);

/* Frees what doc_link_check loaded. */
void doc_link_free(doc_link *l);

/* ---- recipient groups (doc_groups.c) ---- */

/* Expands spec "X*" (every unit of the lowest tier below unit X: "all
 * communes of X") or "X*TIER" (every unit of tier TIER below X) against
 * the units the store holds and tree, appending the codes list lacks (not
 * the issuing unit) to list and {spec, of, tier, units: [codes]} to
 * groups (and of_name, X's name, when the store holds X's record). Returns
 * 0, or -1 with *e (document.recipient_unknown for an
 * unknown X, document.recipients for a bad tier or an empty group). */
int doc_group_expand(documents *d, const char *spec, const unit_tree *tree, json_t *list,
                     json_t *groups, lt_error *e);

/* The addressees of a document with recipients list (expanded) and groups
 * (of doc_group_expand) when they are more than DOC_ADDRESS_MAX, appended
 * to address (left empty when the list fits in an entry as it is): "X*"
 * for each group of the lowest tier (its entries then travel into X's
 * subtree: those units and the units between them and X), then every
 * recipient no such group holds. Returns 0, or -1 with *e
 * (document.recipients) when even so they are more than DOC_ADDRESS_MAX. */
int doc_group_address(documents *d, const json_t *list, const json_t *groups, json_t *address,
                      lt_error *e);

/* The recipients of document record doc as its sender named them: the
 * spec of each of its groups, then every recipient no group holds (a new
 * array). */
json_t *doc_group_named(const json_t *doc);

/* ---- the numbering register (doc_register.c) ---- */

/* Who holds the numbering register of the node's unit. */
typedef struct {
    char holder[65]; /* node key, hex */
    bool recorded;   /* named by a register record (else: the unit's first server) */
    bool lost;       /* the holder's certificate ended with no successor */
    bool here;       /* this node holds it */
} doc_holder;

/* Checks that this node holds the numbering register of its unit (else
 * document.register_elsewhere, 409, naming the holder) and gives in *floor
 * the last number of series type/year handed over with the register (0:
 * none). Call with d->numbering held. Returns 0, or -1 with *e. */
int doc_register_claim(documents *d, const char *type, const char *year, uint64_t *floor,
                       lt_error *e);

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
 * rec with its "files" and the writes more holds (may be NULL) in one
 * transaction, as doc_store. Returns 0, or -1 with *e. */
int doc_upload_store(documents *d, const char *id, json_t *rec, const doc_upload *up,
                     const char *const *to, size_t nto, doc_writes *more, lt_error *e);

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
