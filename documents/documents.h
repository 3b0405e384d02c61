/*
 * documents.h - official documents (văn bản): numbered per issuing unit,
 * type and year, sent to recipient units at any tier, with each
 * recipient's state flowing back to the sender (docs/documents.md).
 *
 * A document is a record of collection "documents", id
 * "<unit>-<year>-<type>-<number>" (e.g. "40-2026-CV-12", notation
 * "12/CV-UBND"), written by the issuing unit's node and addressed to the
 * issuing unit and every recipient ("U" or "U*" for all units below U), so
 * routing (replication/route.h) carries it to the recipients and the units
 * above them, and to no one else.
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

#define DOC_COLL "documents"        /* id: unit-year-type-number */
#define DOC_RECEIPT_COLL "doc_receipts" /* id: document id/recipient unit */

#define DOC_SUBJECT_MAX 1000    /* bytes of the subject (trích yếu) */
#define DOC_BODY_MAX (20u * 1024u) /* bytes of the body text */
#define DOC_RECIPIENTS_MAX 48   /* recipients of one document */
#define DOC_NOTE_MAX 1000       /* bytes of a receipt's note */

typedef struct documents documents;

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

/* Replaces the wall clock (ms since the epoch); for tests. */
void documents_set_clock(documents *d, uint64_t (*now_ms)(void *ctx), void *ctx);

/* The document types {code, symbol, name_vi, name_en}, as a new array. */
json_t *documents_types(void);

/* Issues a document from in {type, subject, body, recipients: ["16681",
 * "412*"], urgency (thuong|khan|thuong_khan|hoa_toc), security
 * (thuong|mat|toi_mat|tuyet_mat), due "YYYY-MM-DD", place, signer {name,
 * position}, answers (a document id)} as who (staff of this node's unit):
 * allocates the next number of (unit, type, year), writes the record and
 * returns {id, notation, number} (new reference), or NULL with *e. tree
 * holds the units a recipient may name. */
json_t *documents_create(documents *d, const json_t *in, const doc_actor *who,
                         const unit_tree *tree, lt_error *e);

/* The document id as a user of unit sees it: its fields and
 * "recipients": [{unit, status, code, note, at, by}] (status "sent" while
 * no receipt has come back), "overdue". NULL with *e: 404 when absent,
 * not a document, or not visible to unit. */
json_t *documents_get(documents *d, const char *id, const char *unit, const unit_tree *tree,
                      lt_error *e);

/* A list query. */
typedef struct {
    const char *box;     /* "in" (addressed to unit), "out" (issued by it), NULL: both */
    const char *status;  /* "sent", "recalled", or a receipt status of unit's own */
    const char *q;       /* words searched, folded, in notation, subject and body */
    const char *type;    /* a type code */
    const char *urgency; /* an urgency */
    const char *from, *to; /* promulgation dates YYYY-MM-DD, inclusive */
    bool overdue;        /* due date passed and a recipient not done */
    size_t limit;        /* at most this many (0: 50), newest first */
} doc_query;

/* {"documents": [summaries], "total": n} of the documents a user of unit
 * sees that match q, newest first, or NULL with *e. */
json_t *documents_list(documents *d, const char *unit, const doc_query *q,
                       const unit_tree *tree, lt_error *e);

/* Records the state of document id at the caller's unit (a recipient):
 * status delivered|received|assigned|in_process|done|returned (returned
 * needs a note: the reason), note. Returns 0, or -1 with *e. */
int documents_receipt(documents *d, const char *id, const char *status, const char *note,
                      const doc_actor *who, const unit_tree *tree, lt_error *e);

/* Recalls document id (staff of its issuing unit) with a reason: its
 * status becomes "recalled", visible to every recipient. Returns 0, or -1
 * with *e. */
int documents_recall(documents *d, const char *id, const char *reason, const doc_actor *who,
                     lt_error *e);

#endif
