/*
 * doc_deliver.c - the automatic receipt "delivered" (edXML 01): the node of
 * a recipient unit writes it itself when it first holds a document
 * addressed to that unit, so the sender sees delivery without anyone
 * acting (docs/documents.md, "Receipts").
 */
#include "documents/doc_internal.h"
#include "lib/log.h"
#include "storage/entry.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELIVER_TABLE "doc_delivery" /* key "arrival": the last arrival looked at */
#define DELIVER_BATCH 256            /* documents looked at per run */

typedef struct {
    char (*ids)[ENTRY_MAX_NAME + 1];
    size_t n;
    uint64_t last; /* arrival position of the last entry looked at */
} arrivals;

static int arrival_one(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    arrivals *a = ctx;
    if (a->n == DELIVER_BATCH)
        return 1; /* the rest on the next run */
    a->last = pos;
    entry_head h; /* from the store: the head says what it is */
    if (entry_head_read(bytes, len, &h))
        return 0;
    const entry_view *v = &h.v;
    if (v->op != ENTRY_OP_DELETE && v->coll.size == strlen(DOC_COLL) &&
        !memcmp(v->coll.ptr, DOC_COLL, v->coll.size) && v->id.size <= ENTRY_MAX_NAME) {
        memcpy(a->ids[a->n], v->id.ptr, v->id.size);
        a->ids[a->n++][v->id.size] = '\0';
    }
    return 0;
}

/* Writes "delivered" for document id for each of its recipients this
 * node's unit acts for (itself, and the units merged into it:
 * doc_acting_for) that has no receipt yet; *written counts them. Returns
 * -1 (the batch is tried again) only when the store failed; a receipt the
 * rules refuse is logged and skipped. */
static int deliver_one(documents *d, const char *id, const unit_tree *tree, size_t *written,
                       lt_error *e)
{
    int why;
    json_t *doc = doc_load(d, id, &why);
    const char *st = doc ? doc_str(doc, "status") : NULL, *as[DOC_RECIPIENTS_MAX];
    int rc =
        !doc && why < 0 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read document %s", id) : 0;
    size_t nas = doc && !(st && !strcmp(st, "recalled"))
                     ? doc_acting_for(doc, "recipients", d->c->unit, tree, as, DOC_RECIPIENTS_MAX)
                     : 0;
    for (size_t i = 0; i < nas && !rc; i++) {
        json_t *r = doc_receipt_load(d, id, as[i]);
        doc_actor node = {"lienthong", d->c->unit, ROLE_STAFF};
        lt_error we = {0};
        int wrc = r ? 0 : doc_receipt_put(d, doc, id, as[i], "delivered", "", &node, &we);
        if (!r && !wrc)
            (*written)++;
        else if (wrc && we.kind == LT_ESTORAGE)
            rc = lt_error_set(e, LT_ESTORAGE, NULL, "%s", we.message);
        else if (wrc)
            log_write(LOG_WARN, "document.deliver", "doc=%s recipient=%s error=\"%s\"", id, as[i],
                      we.message);
        json_decref(r);
    }
    json_decref(doc);
    return rc;
}

/* One batch: the documents among the arrivals after the mark, delivered,
 * the mark moved. Returns 1 when more arrivals wait, 0, or -1. */
static int deliver_batch(documents *d, const unit_tree *tree, arrivals *a, size_t *written,
                         lt_error *e)
{
    uint8_t *val = NULL;
    size_t vlen;
    uint64_t after = 0;
    if (!store_local_get(d->s, DELIVER_TABLE, "arrival", 7, &val, &vlen))
        after = strtoull((const char *)val, NULL, 10);
    free(val);
    a->n = 0;
    a->last = after;
    int more = store_arrivals(d->s, after, arrival_one, a);
    if (more < 0)
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the arrivals of the store");
    for (size_t i = 0; i < a->n; i++)
        if (deliver_one(d, a->ids[i], tree, written, e))
            return -1;
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64, a->last);
    if (a->last != after && store_local_put(d->s, DELIVER_TABLE, "arrival", 7, num, (size_t)n,
                                            e->message, sizeof e->message))
        return lt_error_mark(e, LT_ESTORAGE, NULL);
    return more == 1;
}

int documents_deliver(documents *d, const unit_tree *tree, size_t *written, lt_error *e)
{
    *written = 0;
    arrivals a = {.ids = malloc(DELIVER_BATCH * sizeof *a.ids)};
    if (!a.ids)
        return lt_error_set(e, LT_EUNAVAILABLE, NULL, "out of memory");
    int rc;
    while ((rc = deliver_batch(d, tree, &a, written, e)) == 1) {
    }
    free(a.ids);
    return rc;
}
