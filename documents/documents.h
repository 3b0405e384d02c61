/*
 * documents.h - official documents (văn bản): numbered per issuing unit,
 * type and year, sent to recipient units at any tier, with each
 * recipient's state flowing back to the sender (docs/documents.md).
 *
 * A document is a record of collection "documents", id
 * "<unit>-<year>-<type>-<number>" (e.g. "40-2026-CV-12", notation
 * "12/CV-UBND"), written by the issuing unit's node and addressed to the
 * issuing unit and every recipient, or, past DOC_ADDRESS_MAX recipients,
 * to its groups of the lowest tier ("X*": all units below X) and the
 * recipients no such group holds (the record's "address"), so routing
 * (replication/route.h) carries it to the recipients and the units above
 * them, and to no one else.
 *
 * A receipt is a record of collection "doc_receipts", id "<doc id>/<unit>",
 * written by the recipient's node and addressed to the recipient and the
 * issuing unit: the sender sees one line per recipient.
 *
 * The collection "documents" is also used by older tools with arbitrary
 * bodies (lienthong import --collection documents): a record without the
 * fields of a document is held and replicated as before, and the domain
 * skips it (never listed, 404 by id).
 *
 * Every function that can fail fills *e (lib/error.h) with a machine code
 * ("document.not_found", ...) and a message saying what to do; nothing is
 * stored on error. Calls run on the node's loop thread.
 */
#ifndef LT_DOCUMENTS_H
#define LT_DOCUMENTS_H

#include "lib/error.h"
#include "node/env/config.h"
#include "node/people/accounts.h"
#include "replication/unit_tree.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define DOC_COLL "documents"                  /* id: unit-year-type-number */
#define DOC_RECEIPT_COLL "doc_receipts"       /* id: document id/recipient unit */
#define DOC_SIGNER_COLL "doc_signers"         /* id: unit/user/first 16 hex of the key */
#define DOC_FILE_COLL "doc_files"             /* id: document id/attachment hash hex/chunk number */
#define DOC_TASK_COLL "doc_tasks"             /* id: unit-T-number */
#define DOC_TASKPROG_COLL "doc_task_progress" /* id: task id/assignee unit */
#define DOC_REGISTER_COLL "doc_registers"     /* id: unit (its numbering register) */
#define DOC_TYPE_COLL "doc_types"             /* id: type code (top tiers write it) */
#define DOC_TYPE_CODE_MAX 8                   /* letters of a type code */
#define DOC_CERT_ID_MAX (2 * NODE_CODE_MAX + 64)

#define DOC_SUBJECT_MAX 1000       /* bytes of the subject (trích yếu) */
#define DOC_BODY_MAX (20u * 1024u) /* bytes of the body text */
#define DOC_RECIPIENTS_MAX 1000    /* recipients of one document, groups expanded */
#define DOC_ADDRESS_MAX                                                                            \
    48 /* addressees of one entry besides its unit (ENTRY_MAX_TO bounds them)                      \
        */
#define DOC_RECORD_MAX (24u * 1024u) /* bytes of a new record before its attachments are listed */
#define DOC_NOTE_MAX 1000            /* bytes of a receipt's note */
#define DOC_FILE_MAX (20u * 1024u * 1024u)       /* bytes of one attachment in an edXML message */
#define DOC_FILE_MAX_DEFAULT ((size_t)200 << 20) /* bytes of one attachment: documents_file_max */
#define DOC_FILES_MAX 10                         /* attachments of one document */
#define DOC_CHUNK (24u * 1024u)                  /* bytes of attachment per chunk entry */

typedef struct documents documents;

/* An attachment: its file name, content type (as sent; the stored type
 * comes from its bytes), bytes. */
typedef struct {
    char *name;
    char *type;
    uint8_t *data;
    size_t len;
} doc_file;

/* Who acts: a user of a unit with a role. */
typedef struct {
    const char *user;
    const char *unit;
    account_role role;
} doc_actor;

/* A context over store s for the node of config c (both outlive it).
 * NULL when out of memory. */
documents *documents_new(store *s, const node_config *c);

/* Frees the context. NULL is ignored. */
void documents_free(documents *d);

/* The collections only the top tiers write (DOC_TYPE_COLL), for the
 * store's write authority (node/domains.c). */
const char *const *documents_top_tier_collections(size_t *n);

/* The document types {code, symbol, name_vi, name_en, active, source
 * ("builtin" or "network")}: the defaults as the network replaced them,
 * then the types it added; a new array. */
json_t *documents_types(documents *d);

/* Defines type code (1..8 Latin letters) from in {symbol, name_vi,
 * name_en, active} as who (an admin of a top-tier node): a record of
 * DOC_TYPE_COLL addressed to every node, adding a type or replacing a
 * default; active false stops new documents of the type. Returns 0, or -1
 * with *e (document.type_field, auth.admin_required, top_tier.required). */
int documents_type_put(documents *d, const char *code, const json_t *in, const doc_actor *who,
                       lt_error *e);

/* Issues a document with attachments files[0..nfiles) (PDF, DOCX, XLSX,
 * PNG, JPEG; documents_file_max() bytes each, at most DOC_FILES_MAX; held
 * in memory: an upload streams through documents_create_upload) from in {type, subject, body,
 * recipients: ["16681", "412*"], urgency (thuong|khan|thuong_khan|hoa_toc), security
 * (thuong|mat|toi_mat|tuyet_mat), due "YYYY-MM-DD", place, signer {name,
 * position}, answers (a document id)} as who (staff of this node's unit):
 * allocates the next number of (unit, type, year), writes the record and
 * the attachments' chunk entries in one transaction and returns {id,
 * notation, number, files} (new reference), or NULL with *e. tree holds
 * the units a recipient may name. */
json_t *documents_create(documents *d, const json_t *in, const doc_file *files, size_t nfiles,
                         const doc_actor *who, const unit_tree *tree, lt_error *e);

/* The most bytes one attachment may have: DOC_FILE_MAX_DEFAULT unless
 * documents_set_file_max changed it (`lienthong serve --attachment-max`). */
size_t documents_file_max(void);

/* Sets the limit of documents_file_max for the process (before serving). */
void documents_set_file_max(size_t bytes);

/* ---- streamed attachments (doc_upload.c) ---- */

/* The attachments of a document being uploaded: each is checked (type by
 * its first bytes, size against documents_file_max) and hashed
 * (BLAKE2b-256) as its bytes come, and staged in an unnamed temporary file
 * of the node's directory (never in memory whole: a buffer of one chunk);
 * doc_upload_free removes every trace of an upload not stored. One
 * thread at a time. */
typedef struct doc_upload doc_upload;

/* An empty upload for documents of d. NULL when out of memory. */
doc_upload *doc_upload_new(documents *d);

/* Starts the next attachment, called name (a file name, UTF-8). Returns
 * 0, or -1 with *e (document.files_too_many, document.field). */
int doc_upload_file_begin(doc_upload *u, const char *name, lt_error *e);

/* Adds the next len bytes of the current attachment. Returns 0, or -1
 * with *e: document.file_too_large past documents_file_max,
 * document.file_type when its first bytes are no known type, a storage
 * error when the staging file cannot be written. */
int doc_upload_file_write(doc_upload *u, const uint8_t *data, size_t len, lt_error *e);

/* Ends the current attachment. Returns 0, or -1 with *e (an empty or
 * too short file: document.file_type). */
int doc_upload_file_end(doc_upload *u, lt_error *e);

/* documents_create with the attachments of upload u: every check of
 * documents_create, then the chunk entries written from the staging files
 * a batch per transaction (the bytes pass through a buffer of a few
 * chunks) and the record last, so a node that holds the record holds every
 * chunk. Returns {id, notation, number, files}, or NULL with *e. */
json_t *documents_create_upload(documents *d, const json_t *in, doc_upload *u, const doc_actor *who,
                                const unit_tree *tree, lt_error *e);

/* Frees u and its staging files. NULL is ignored. */
void doc_upload_free(doc_upload *u);

/* An attachment as the document lists it. */
typedef struct {
    char name[256], type[128], hash[65];
    uint64_t size;
    size_t chunks;
} doc_file_info;

/* The attachment hash (hex) of document id as a user of unit sees it, into
 * *out, once this node holds its last chunk. Returns 0, or -1 with *e
 * (document.not_found, document.file_not_found,
 * document.file_incomplete). */
int documents_file_info(documents *d, const char *id, const char *hash, const char *unit,
                        const unit_tree *tree, doc_file_info *out, lt_error *e);

/* Calls fn with the bytes of chunk n of attachment hash of document id.
 * Returns fn's result, 1 when the chunk is absent or unreadable, -1 on a
 * storage error. */
int documents_file_chunk(documents *d, const char *id, const char *hash, size_t n,
                         int (*fn)(void *ctx, const uint8_t *data, size_t len), void *ctx);

/* Attachment hash (hex) of document id as a user of unit sees it, joined
 * from its chunks, into *out (name, type and data malloc'd: the caller
 * frees them). Returns 0, or -1 with *e (document.file_not_found,
 * document.file_incomplete while its chunks are still arriving). */
int documents_file_get(documents *d, const char *id, const char *hash, const char *unit,
                       const unit_tree *tree, doc_file *out, lt_error *e);

/* The document id as a user of unit sees it: its fields and
 * "recipients": [{unit, status, code, note, at, by}] (status "sent" while
 * no receipt has come back), "overdue". NULL with *e: 404 when absent,
 * not a document, or not visible to unit. */
json_t *documents_get(documents *d, const char *id, const char *unit, const unit_tree *tree,
                      lt_error *e);

/* A list query. */
typedef struct {
    const char *box;       /* "in" (addressed to unit), "out" (issued by it), NULL: both */
    const char *status;    /* "sent", "recalled", or a receipt status of unit's own */
    const char *q;         /* words searched, folded, in notation, subject and body */
    const char *type;      /* a type code */
    const char *urgency;   /* an urgency */
    const char *from, *to; /* promulgation dates YYYY-MM-DD, inclusive */
    bool overdue;          /* due date passed and a recipient not done */
    size_t limit;          /* at most this many (0: 50), newest first */
    bool all;              /* every match, limit ignored (the CSV export) */
} doc_query;

/* {"documents": [summaries], "total": n} of the documents a user of unit
 * sees that match q, newest first, or NULL with *e. */
json_t *documents_list(documents *d, const char *unit, const doc_query *q, const unit_tree *tree,
                       lt_error *e);

/* Records the state of document id at the caller's unit (a recipient):
 * status delivered|received|assigned|in_process|done|returned (returned
 * needs a note: the reason), note. Returns 0, or -1 with *e. */
int documents_receipt(documents *d, const char *id, const char *status, const char *note,
                      const doc_actor *who, const unit_tree *tree, lt_error *e);

/* Writes the receipt "delivered" (01) of this node's unit, as the node
 * (by "lienthong"), for every document addressed to it that arrived since
 * the last run and has no receipt of the unit yet (none after a recall):
 * at most a few hundred per call, the position kept node-local, so each
 * document gets it once, across restarts. *written counts them. Returns 0,
 * or -1 with *e. Reads and writes the store: run it on the thread pool. */
int documents_deliver(documents *d, const unit_tree *tree, size_t *written, lt_error *e);

/* Recalls document id (staff of its issuing unit) with a reason: its
 * status becomes "recalled", visible to every recipient. Returns 0, or -1
 * with *e. */
int documents_recall(documents *d, const char *id, const char *reason, const doc_actor *who,
                     lt_error *e);

/* Figures of the documents issued in unit's subtree with created_at in
 * [from_ms, to_ms): issued, signed, acknowledged (every recipient sent a
 * receipt back: exchanged electronically end to end). Returns 0 or -1. */
typedef struct {
    uint64_t issued, signed_, acknowledged;
} doc_shares;
int documents_shares(documents *d, const char *unit, const unit_tree *tree, uint64_t from_ms,
                     uint64_t to_ms, doc_shares *out);

/* ---- the numbering register (doc_register.c) ---- */

/* The numbering register of the node's unit: {unit, holder (node key),
 * this_node, held_here, holder_lost, how ("first_server", "handover",
 * "takeover"), from, reason, by, at, last: {"TYPE/YEAR": n}, servers:
 * [{node, name, certified_at, live}]}, or NULL with *e. */
json_t *documents_register_get(documents *d, lt_error *e);

/* Hands the register over from this node (its holder) to server to (the
 * node key of another live server of the unit), as who (an admin of the
 * unit), with a reason: a record of DOC_REGISTER_COLL naming the new
 * holder and carrying the last number of every series, so the new holder
 * continues after them even before the documents reach it. This node
 * allocates no number afterwards. Returns 0, or -1 with *e. */
int documents_register_handover(documents *d, const char *to, const char *reason,
                                const doc_actor *who, lt_error *e);

/* Takes the register over to this node without its holder (lost,
 * unreachable), as who (an admin of the unit), with a reason. Risk: numbers
 * the old holder allocated that never reached this node are allocated
 * again (docs/documents.md). Returns 0, or -1 with *e. */
int documents_register_takeover(documents *d, const char *reason, const doc_actor *who,
                                lt_error *e);

/* ---- directives and tasks (doc_tasks.c) ---- */

/* Assigns a task from in {title, detail, due "YYYY-MM-DD", assignees:
 * [unit codes], doc (a document id, may be left out)} as who (a leader of
 * this node's unit): record "<unit>-T-<n>" of DOC_TASK_COLL addressed to
 * the unit and the assignees. Returns {id}, or NULL with *e (task.*). */
json_t *documents_task_create(documents *d, const json_t *in, const doc_actor *who,
                              const unit_tree *tree, lt_error *e);

/* Task id as a user of unit sees it, with "progress" (one line per
 * assignee: percent, note, done, done_on, at, by), "done", "overdue" and
 * "on_time"; NULL with *e (task.not_found). */
json_t *documents_task_get(documents *d, const char *id, const char *unit, const unit_tree *tree,
                           lt_error *e);

/* {"tasks": [...], "total"} visible to unit: assigned in its subtree or
 * to it, so an overdue task shows at the assigner and every unit above;
 * only those of assignee (NULL: all), only overdue ones. */
json_t *documents_task_list(documents *d, const char *unit, const char *assignee, bool overdue,
                            const unit_tree *tree, lt_error *e);

/* Posts the progress of who's unit (an assignee) on task id from in
 * {percent 0..100, note, done}: record "<task id>/<unit>" addressed to the
 * unit and the assigner. Returns 0, or -1 with *e. */
int documents_task_progress(documents *d, const char *id, const json_t *in, const doc_actor *who,
                            const unit_tree *tree, lt_error *e);

/* Of the tasks assigned in unit's subtree due in [from, to] (dates) and
 * done by every assignee: how many, and how many by their due date. */
int documents_tasks_on_time(documents *d, const char *unit, const unit_tree *tree, const char *from,
                            const char *to, uint64_t *done, uint64_t *on_time);

/* ---- edXML (doc_edxml.c) ---- */

/* Document id as a user of unit sees it, as an edXML message (QCVN
 * 102:2016 envelope; attachments in base64 in the body): malloc'd UTF-8
 * text of *len bytes, or NULL with *e. Reads every attachment: run it on
 * the thread pool. */
char *documents_edxml_export(documents *d, const char *id, const char *unit, const unit_tree *tree,
                             size_t *len, lt_error *e);

/* Reads edXML message xml[0..len) as an incoming document of this node
 * (source "edxml", received_by this node's unit: in its in-box, never in
 * the sender's out-box; id "<node unit>-IN-<hash of sender, notation, date>",
 * so a second import of one message is refused with document.exists),
 * addressed to this node's unit and the recipients the network knows,
 * with its attachments; as who. Returns {id, notation}, or NULL with *e:
 * document.edxml naming the element at fault, nothing stored. */
json_t *documents_edxml_import(documents *d, const char *xml, size_t len, const doc_actor *who,
                               const unit_tree *tree, lt_error *e);

/* ---- official signatures (doc_sign.c) ---- */

/* Creates a personal Ed25519 signing key for account user of this node,
 * in position (e.g. "Chủ tịch UBND xã"): the secret key is kept node-local
 * (table doc_signer_keys, never replicated), encrypted with
 * crypto_secretbox under a key derived from pw by Argon2id; the node
 * certifies the public key with a record of DOC_SIGNER_COLL {user, unit,
 * position, pk, certified_at} addressed to every node ("*"), signed by the
 * node's key whose certificate chain reaches the trust root. A second key
 * for the same user replaces the first for signing; documents signed with
 * the first still verify. Its record id into cert_id. Returns 0, or -1
 * with *e. Slow (Argon2id): never on the loop. */
int documents_signer_add(documents *d, const char *user, const char *position, const char *pw,
                         size_t pwlen, char cert_id[DOC_CERT_ID_MAX], lt_error *e);

/* Signs document id as user, unlocking the user's key with pw: the
 * signature covers the BLAKE2b-256 of the document's content (every field
 * but its status) and of every attachment, and records who, in which
 * position and unit, and when. Only a signer of the issuing unit signs,
 * once. Returns 0, or -1 with *e (document.signer_password for a wrong
 * password, nothing stored). Slow (Argon2id): never on the loop. */
int documents_sign(documents *d, const char *id, const char *user, const char *pw, size_t pwlen,
                   lt_error *e);

/* Checks document id as a user of unit sees it: {signed, valid, changed,
 * signer: {user, position, unit}, at, certificate, certified_by,
 * problems: [text]}: valid only when the signature matches the key of a
 * certificate of the issuing unit written by a node of that unit or above
 * it, and the content and every attachment hash as when signed. NULL with
 * *e (404 when unit does not see it). Reads every attachment: run it on the
 * thread pool. */
json_t *documents_verify(documents *d, const char *id, const char *unit, const unit_tree *tree,
                         lt_error *e);

#endif
