/*
 * doc_index.c - the index of documents (doc_index.h), kept by the store
 * inside every transaction that changes a record of "documents", and its
 * reads.
 *
 * A record that is not a document (a generic record of the collection,
 * written by `lienthong import` or the simulator, or one this code cannot
 * read) contributes nothing: the update never fails on a record's
 * content, since a failing update would abort the transaction and with
 * it replication.
 */
#include "documents/doc_index.h"
#include "documents/doc_internal.h"
#include "lib/fold.h"
#include "replication/unit_place.h"
#include "storage/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 511
#define TOKENS_MAX 256 /* distinct words of one document indexed for search */
#define DATE_LEN 10
#define SORT_LEN (DATE_LEN + 8) /* date then be64(created_at) */

static const char *const doc_index_dbs[] = {"docbox", "docnum", "doctok"};

/* The keys one record contributes, as a growing list: docbox (kind 0x00
 * unit 0x00 be64 created_at id; kind "o" for the issuing unit, "i" for
 * each recipient and the unit that imported it), docnum (unit 0x00 type
 * 0x00 year 0x00 be64 number id) and doctok (word 0x00 kind 0x00 unit 0x00
 * be64 created_at id, for every box key and every distinct folded word of
 * notation, subject and body, at most TOKENS_MAX). */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
    size_t *off; /* key i is buf[off[i] .. off[i+1]) */
    int *db;
    size_t n, ncap;
    bool failed;
} doc_keys;

static void key_add(doc_keys *k, int db, const char *const *parts, size_t nparts, const uint8_t *be,
                    size_t belen, const char *id, size_t idlen)
{
    size_t need = belen + idlen;
    for (size_t i = 0; i < nparts; i++)
        need += strlen(parts[i]) + 1;
    if (need > KEY_MAX || k->failed)
        return;
    if (k->len + need > k->cap || k->n + 2 > k->ncap) {
        size_t cap = (k->cap + need) * 2, ncap = k->ncap * 2 + 16;
        uint8_t *b = realloc(k->buf, cap);
        size_t *o = b ? realloc(k->off, ncap * sizeof *o) : NULL;
        int *d = o ? realloc(k->db, ncap * sizeof *d) : NULL;
        if (b)
            k->buf = b, k->cap = cap;
        if (o)
            k->off = o;
        if (d)
            k->db = d, k->ncap = ncap;
        if (!d) {
            k->failed = true;
            return;
        }
    }
    uint8_t *out = k->buf + k->len;
    size_t len = 0;
    for (size_t i = 0; i < nparts; i++) {
        size_t l = strlen(parts[i]);
        memcpy(out + len, parts[i], l);
        len += l;
        out[len++] = 0;
    }
    memcpy(out + len, be, belen);
    memcpy(out + len + belen, id, idlen);
    k->off[k->n] = k->len;
    k->db[k->n++] = db;
    k->len += need;
    k->off[k->n] = k->len;
}

typedef struct {
    char tok[TOKENS_MAX][FOLD_TOKEN_MAX + 1];
    size_t n;
} token_set;

static int token_add(void *ctx, const char *tok, size_t len)
{
    token_set *t = ctx;
    if (t->n == TOKENS_MAX || !len || len > FOLD_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->tok[i]) == len && !memcmp(t->tok[i], tok, len))
            return 0;
    memcpy(t->tok[t->n], tok, len);
    t->tok[t->n++][len] = '\0';
    return 0;
}

/* The sort key of a document: its date (YYYY-MM-DD; zeros when it is not
 * ten bytes) then be64(created_at), so a date range is a key range. */
static void sort_key(uint8_t out[SORT_LEN], const char *date, uint64_t created_at)
{
    if (strlen(date) == DATE_LEN)
        memcpy(out, date, DATE_LEN);
    else
        memset(out, '0', DATE_LEN);
    store_be64(out + DATE_LEN, created_at);
}

/* The filter tokens of doc (type and urgency, doc_index.h) into ts. */
static void filter_tokens(const json_t *doc, token_set *ts)
{
    static const struct {
        const char *field, *tag;
    } f[] = {{"type", DOC_TOKEN_TYPE}, {"urgency", DOC_TOKEN_URGENCY}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        const char *v = doc_str(doc, f[i].field);
        char tok[FOLD_TOKEN_MAX + 1];
        int n = v ? snprintf(tok, sizeof tok, "%s%s", f[i].tag, v) : -1;
        if (n > 2 && n <= FOLD_TOKEN_MAX)
            token_add(ts, tok, (size_t)n);
    }
}

/* The box keys (kind, unit) of doc into boxes; how many. */
static size_t boxes_of(const json_t *doc, const char *(*boxes)[2])
{
    size_t n = 0, i;
    const char *src = doc_str(doc, "source"), *rby = doc_str(doc, "received_by");
    if (!(src && !strcmp(src, "edxml"))) {
        boxes[n][0] = "o";
        boxes[n++][1] = doc_str(doc, "unit");
    }
    const json_t *v;
    json_array_foreach(json_object_get(doc, "recipients"), i, v)
    {
        if (json_is_string(v) && n < DOC_RECIPIENTS_MAX + 1) {
            boxes[n][0] = "i";
            boxes[n++][1] = json_string_value(v);
        }
    }
    if (rby) {
        boxes[n][0] = "i";
        boxes[n++][1] = rby;
    }
    return n;
}

/* Adds to boxes, for every box of a unit merged away, the same box of its
 * live successor (its name into succ): the successor holds the merged
 * unit's documents, and the old unit's box still finds them. Returns 0 or
 * -1 on a storage error. */
static int boxes_succeed(const unit_place_src *src, const char *(*boxes)[2], size_t *n,
                         char (*succ)[UNIT_CODE_CAP])
{
    size_t held = *n;
    for (size_t i = 0; i < held; i++) {
        int rc = boxes[i][1] ? unit_place_successor(src, boxes[i][1], succ[i]) : 0;
        if (rc < 0)
            return -1;
        if (rc) {
            boxes[*n][0] = boxes[i][0];
            boxes[(*n)++][1] = succ[i];
        }
    }
    return 0;
}

/* The keys of record rec of id, its boxes placed in the tree of src. */
static void keys_of(doc_keys *k, token_set *ts, const char *id, size_t idlen, const uint8_t *rec,
                    size_t len, const unit_place_src *tree)
{
    k->n = k->len = 0;
    k->failed = false;
    if (!rec || record_is_deleted(rec, len))
        return;
    json_t *doc = record_to_json(rec, len, id, idlen, NULL, 0);
    const char *unit = doc ? doc_str(doc, "unit") : NULL, *type = doc ? doc_str(doc, "type") : NULL;
    const char *date = doc ? doc_str(doc, "date") : NULL,
               *src = doc ? doc_str(doc, "source") : NULL;
    const json_t *number = json_object_get(doc, "number"), *at = json_object_get(doc, "created_at");
    if (unit && type && date && strlen(date) >= 4 && json_is_integer(number) &&
        json_is_integer(at) && json_is_array(json_object_get(doc, "recipients")) &&
        doc_str(doc, "notation")) {
        uint8_t be[SORT_LEN], nb[8];
        sort_key(be, date, (uint64_t)json_integer_value(at));
        store_be64(nb, (uint64_t)json_integer_value(number));
        const char *boxes[2 * (DOC_RECIPIENTS_MAX + 2)][2];
        char succ[DOC_RECIPIENTS_MAX + 2][UNIT_CODE_CAP];
        size_t nb_ = boxes_of(doc, boxes);
        if (boxes_succeed(tree, boxes, &nb_, succ))
            k->failed = true;
        for (size_t i = 0; i < nb_; i++)
            key_add(k, 0, boxes[i], 2, be, SORT_LEN, id, idlen);
        char year[5] = {date[0], date[1], date[2], date[3], 0};
        const char *num[] = {unit, type, year};
        if (!(src && !strcmp(src, "edxml")))
            key_add(k, 1, num, 3, nb, 8, id, idlen);
        ts->n = 0;
        filter_tokens(doc, ts);
        static const char *const fields[] = {"notation", "subject", "body"};
        for (size_t f = 0; f < 3; f++) {
            const char *text = doc_str(doc, fields[f]);
            if (text)
                fold_tokens(text, strlen(text), token_add, ts);
        }
        for (size_t t = 0; t < ts->n; t++)
            for (size_t i = 0; i < nb_; i++) {
                const char *parts[] = {ts->tok[t], boxes[i][0], boxes[i][1]};
                key_add(k, 2, parts, 3, be, SORT_LEN, id, idlen);
            }
    }
    json_decref(doc);
}

/* Moves the keys of document id from record old placed in tree src_old
 * to record rec placed in tree src_new. */
static int doc_reindex(const store_index_txn *t, const char *id, size_t idlen, const uint8_t *old,
                       size_t oldlen, const unit_place_src *src_old, const uint8_t *rec,
                       size_t reclen, const unit_place_src *src_new)
{
    doc_keys k = {0};
    token_set *ts = malloc(sizeof *ts);
    int rc = ts ? 0 : ENOMEM;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        keys_of(&k, ts, id, idlen, pass ? rec : old, pass ? reclen : oldlen,
                pass ? src_new : src_old);
        if (k.failed)
            rc = ENOMEM;
        for (size_t i = 0; i < k.n && !rc; i++) {
            MDB_val key = {k.off[i + 1] - k.off[i], k.buf + k.off[i]}, val = {0, ""};
            if (pass) {
                rc = mdb_put(t->txn, t->dbs[k.db[i]], &key, &val, 0);
            } else {
                rc = mdb_del(t->txn, t->dbs[k.db[i]], &key, NULL);
                rc = rc == MDB_NOTFOUND ? 0 : rc;
            }
        }
    }
    free(ts);
    free(k.buf);
    free(k.off);
    free(k.db);
    return rc;
}

static int doc_index_update(const store_index_txn *t, const char *id, size_t idlen,
                            const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    unit_place_src src = {t->txn, t->records, NULL, NULL, 0};
    return doc_reindex(t, id, idlen, old, oldlen, &src, rec, reclen, &src);
}

static size_t prefix_of(uint8_t *out, const char *const *parts, size_t n);

/* The ids of the documents in the boxes of unit (kind "o" and "i"), into
 * ids. */
static int doc_boxes_ids(const store_index_txn *t, const char *unit, unit_place_ids *ids)
{
    int rc = 0;
    for (int kind = 0; kind < 2 && !rc; kind++) {
        const char *parts[] = {kind ? "i" : "o", unit};
        uint8_t prefix[KEY_MAX + 1];
        size_t plen = prefix_of(prefix, parts, 2), sort = SORT_LEN;
        if (!plen)
            break;
        rc = unit_place_ids_scan(t, t->dbs[0], prefix, plen, unit_place_key_tail, &sort, ids);
    }
    return rc;
}

/* The store's call (store_index.watched) when the "units" record of unit
 * code changes: the documents in its boxes are placed again, so the index
 * stays what a rebuild from the records gives. */
static int doc_index_units_changed(const store_index_txn *t, const char *code, size_t codelen,
                                   const uint8_t *old, size_t oldlen, const uint8_t *rec,
                                   size_t reclen)
{
    return unit_place_watched(t, code, codelen, old, oldlen, rec, reclen, DOC_COLL, doc_boxes_ids,
                              doc_reindex);
}

const store_index doc_index = {
    .name = DOC_COLL,
    .version = 4,
    .collection = DOC_COLL,
    .dbs = doc_index_dbs,
    .ndbs = 3,
    .update = doc_index_update,
    .watch = "units",
    .watched = doc_index_units_changed,
};

/* ---- reads ---- */

/* The prefix parts[0] 0x00 ... parts[n-1] 0x00 into out; its length. */
static size_t prefix_of(uint8_t *out, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        if (len + l + 1 > KEY_MAX)
            return 0;
        memcpy(out + len, parts[i], l);
        len += l;
        out[len++] = 0;
    }
    return len;
}

int doc_index_walk(store *s, const char *kind, const char *unit,
                   int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx)
{
    doc_search q = {.kind = kind, .unit = unit};
    return doc_index_search(s, &q, fn, ctx);
}

int doc_index_max_number(store *s, const char *unit, const char *type, const char *year,
                         uint64_t *max)
{
    *max = 0;
    store_index_txn t;
    if (store_index_read(s, DOC_COLL, &t))
        return -1;
    uint8_t pre[KEY_MAX + 1];
    const char *parts[] = {unit, type, year};
    size_t plen = prefix_of(pre, parts, 3);
    MDB_cursor *c = NULL;
    int rc = plen ? mdb_cursor_open(t.txn, t.dbs[1], &c) : -1;
    MDB_val k = {plen + 1, pre}, v;
    pre[plen] = 0xff;
    if (!rc) {
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
                                : mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    if (!rc && k.mv_size >= plen + 8 && !memcmp(k.mv_data, pre, plen))
        *max = store_get_be64((const uint8_t *)k.mv_data + plen);
    if (c)
        mdb_cursor_close(c);
    store_index_end(s, &t);
    return rc && rc != MDB_NOTFOUND ? -1 : 0;
}

/* Moves c to the largest key of prefix pre (plen bytes) whose suffix is at
 * most cand (clen bytes; below it when strict) and copies that suffix into
 * out (*olen). Returns 0, MDB_NOTFOUND when none, or an LMDB code. */
static int seek_le(MDB_cursor *c, const uint8_t *pre, size_t plen, const uint8_t *cand, size_t clen,
                   bool strict, uint8_t *out, size_t *olen)
{
    uint8_t key[2 * KEY_MAX + 2];
    memcpy(key, pre, plen);
    memcpy(key + plen, cand, clen);
    size_t klen = plen + clen;
    MDB_val k = {klen, key}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    bool exact = !rc && k.mv_size == klen && !memcmp(k.mv_data, key, klen);
    if (!exact || strict)
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
                                : mdb_cursor_get(c, &k, &v, MDB_PREV);
    if (rc)
        return rc;
    if (k.mv_size <= plen + SORT_LEN || memcmp(k.mv_data, pre, plen) || k.mv_size - plen > KEY_MAX)
        return MDB_NOTFOUND;
    *olen = k.mv_size - plen;
    memcpy(out, (const uint8_t *)k.mv_data + plen, *olen);
    return 0;
}

static int suffix_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : alen < blen ? -1 : alen > blen;
}

/* The posting lists a search joins: the box (docbox) when it names no
 * token, else one doctok list per token. */
typedef struct {
    MDB_cursor *c[DOC_SEARCH_TOKENS];
    uint8_t pre[DOC_SEARCH_TOKENS][KEY_MAX + 1];
    size_t plen[DOC_SEARCH_TOKENS], n;
} postings;

static int postings_open(const store_index_txn *t, const doc_search *q, postings *p)
{
    p->n = q->ntokens ? q->ntokens : 1;
    for (size_t i = 0; i < p->n; i++) {
        const char *parts[] = {q->ntokens ? q->tokens[i] : q->kind, q->kind, q->unit};
        size_t skip = q->ntokens ? 0 : 1;
        p->plen[i] = prefix_of(p->pre[i], parts + skip, 3 - skip);
        int rc = p->plen[i] ? mdb_cursor_open(t->txn, t->dbs[q->ntokens ? 2 : 0], &p->c[i])
                            : MDB_NOTFOUND;
        if (rc)
            return rc;
    }
    return 0;
}

static void postings_close(postings *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->c[i])
            mdb_cursor_close(p->c[i]);
}

/* The largest suffix at most cand (below it when strict) that every list
 * holds, into cand (a leapfrog: each list seeks to the candidate; one
 * below it lowers the candidate for all). Returns 0, MDB_NOTFOUND, or an
 * LMDB code. */
static int postings_agree(postings *p, uint8_t *cand, size_t *clen, bool strict)
{
    uint8_t got[KEY_MAX + 1];
    size_t glen, agree = 0, i = 0;
    while (agree < p->n) {
        int rc = seek_le(p->c[i], p->pre[i], p->plen[i], cand, *clen, strict, got, &glen);
        strict = false;
        if (rc)
            return rc;
        if (suffix_cmp(got, glen, cand, *clen)) {
            memcpy(cand, got, glen);
            *clen = glen;
            agree = 1;
        } else {
            agree++;
        }
        i = (i + 1) % p->n;
    }
    return 0;
}

int doc_index_search(store *s, const doc_search *q,
                     int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx)
{
    if (q->ntokens > DOC_SEARCH_TOKENS)
        return -1;
    store_index_txn t;
    if (store_index_read(s, DOC_COLL, &t))
        return -1;
    postings p = {0};
    uint8_t cand[KEY_MAX + 1];
    size_t clen = 0;
    int rc = postings_open(&t, q, &p), ret = 0;
    /* newest first from the last day of the range: "to" then 0xff */
    if (q->to && strlen(q->to) == DATE_LEN)
        memcpy(cand, q->to, (clen = DATE_LEN));
    cand[clen++] = 0xff;
    for (bool strict = false; !rc && !ret; strict = true) {
        if ((rc = postings_agree(&p, cand, &clen, strict)) ||
            (q->from && strlen(q->from) == DATE_LEN && memcmp(cand, q->from, DATE_LEN) < 0))
            break;
        ret = fn(ctx, (const char *)cand + SORT_LEN, clen - SORT_LEN);
    }
    postings_close(&p);
    store_index_end(s, &t);
    return rc && rc != MDB_NOTFOUND ? -1 : ret;
}
