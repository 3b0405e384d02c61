/*
 * report_query.c - see report_query.h.
 *
 * A newest/oldest list walks candidate positions (inv(created) id) in
 * order from one of three sources: the posting lists of the query's
 * tokens, intersected by leapfrogging (each list seeks with MDB_SET_RANGE
 * to the furthest position of the others); the status rows of the unit,
 * merged; or the unit's scope rows. Each candidate is then looked up in the
 * unit's scope rows (which also proves it is in the subtree) and the
 * filters are checked on that summary, so the record itself is read only
 * for the reports returned. A deadline list walks the open-deadline rows.
 * One page looks one match ahead to tell whether a next page exists.
 *
 * A page does at most REPORT_QUERY_STEPS index reads (seeks and steps of a
 * list, lookups of a candidate): a search whose words
 * are common but rarely together, or a filter few reports pass, stops
 * there with a shorter page and a cursor at the frontier it reached (an
 * upper-case sort letter: resume at that position, not after it), so every
 * page answers in bounded time and following the cursors finds everything.
 */
#include "lib/fold.h"
#include "reports/report_index.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 8
#define MAX_STREAMS (MAX_TOKENS > REPORT_NSTATUS ? MAX_TOKENS : REPORT_NSTATUS)
#define KEY_MAX (REPORT_UNIT_MAX + REPORT_USER_MAX + 2 + REPORT_POS_MAX)

/* One ordered list of positions: the keys of db under prefix. */
typedef struct {
    MDB_cursor *cur;
    uint8_t prefix[FOLD_TOKEN_MAX + REPORT_UNIT_MAX + REPORT_USER_MAX + 2];
    size_t plen;
    bool back, done;
    const uint8_t *pos;
    size_t poslen;
} stream;

static int pos_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al < bl ? -1 : al > bl);
}

/* Takes the cursor's key k as the current position, or ends the stream. */
static int stream_take(stream *st, int rc, const MDB_val *k)
{
    if (rc == MDB_NOTFOUND ||
        (!rc && (k->mv_size < st->plen || memcmp(k->mv_data, st->prefix, st->plen)))) {
        st->done = true;
        return 0;
    }
    if (rc)
        return rc;
    st->pos = (const uint8_t *)k->mv_data + st->plen;
    st->poslen = k->mv_size - st->plen;
    return 0;
}

/* Moves to the first position >= target (backwards: the last <= target). */
static int stream_seek(stream *st, const uint8_t *target, size_t tlen)
{
    uint8_t key[KEY_MAX + FOLD_TOKEN_MAX];
    memcpy(key, st->prefix, st->plen);
    memcpy(key + st->plen, target, tlen);
    MDB_val k = {st->plen + tlen, key}, v;
    int rc = mdb_cursor_get(st->cur, &k, &v, MDB_SET_RANGE);
    if (st->back) {
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(st->cur, &k, &v, MDB_LAST);
        else if (!rc && pos_cmp(k.mv_data, k.mv_size, key, st->plen + tlen) > 0)
            rc = mdb_cursor_get(st->cur, &k, &v, MDB_PREV);
    }
    return stream_take(st, rc, &k);
}

static int stream_next(stream *st)
{
    MDB_val k, v;
    return stream_take(st, mdb_cursor_get(st->cur, &k, &v, st->back ? MDB_PREV : MDB_NEXT), &k);
}

/* Moves forward (in the stream's order) to the first position at or past
 * target: a few steps first, which are much cheaper than a seek from the
 * root when the target is near, as it often is in an intersection. */
static int stream_advance(stream *st, const uint8_t *target, size_t tlen)
{
    int dir = st->back ? -1 : 1;
    for (int i = 0; i < 8; i++) {
        if (st->done || pos_cmp(st->pos, st->poslen, target, tlen) * dir >= 0)
            return 0;
        int rc = stream_next(st);
        if (rc)
            return rc;
    }
    if (st->done || pos_cmp(st->pos, st->poslen, target, tlen) * dir >= 0)
        return 0;
    return stream_seek(st, target, tlen);
}

/* ---- the query's state ------------------------------------------------- */

typedef struct {
    report_dbs dbs;
    const report_dbs *s; /* &dbs */
    MDB_txn *txn;
    const report_query *q;
    report_fn fn;
    void *ctx;
    uint8_t unit[REPORT_UNIT_MAX + 1];
    size_t ulen;
    char tokens[MAX_TOKENS][FOLD_TOKEN_MAX + 1];
    size_t ntokens;
    bool status_ok[REPORT_NSTATUS];
    uint8_t person[2][1 + REPORT_USER_MAX]; /* rperson prefixes of assignee, created_by */
    size_t personlen[2];                    /* 0: no such filter */
    stream st[MAX_STREAMS];
    size_t nst;
    bool intersect;
    size_t emitted;
    uint8_t last[8 + REPORT_POS_MAX]; /* the last position emitted, or the frontier */
    size_t lastlen;
    bool more, frontier; /* frontier: last is where to resume, inclusive */
    size_t steps;        /* index reads left */
} run;

/* Counts one index read; false when the page's budget is spent. */
static bool step(run *r)
{
    if (!r->steps)
        return false;
    r->steps--;
    return true;
}

/* Ends the page at position pos, to resume there (included). */
static void stop_at(run *r, const uint8_t *pos, size_t plen)
{
    memcpy(r->last, pos, plen);
    r->lastlen = plen;
    r->more = r->frontier = true;
}

static int token_take(void *ctx, const char *tok, size_t len)
{
    run *r = ctx;
    for (size_t i = 0; i < r->ntokens; i++)
        if (strlen(r->tokens[i]) == len && !memcmp(r->tokens[i], tok, len))
            return 0;
    if (r->ntokens == MAX_TOKENS)
        return 1;
    memcpy(r->tokens[r->ntokens], tok, len);
    r->tokens[r->ntokens++][len] = '\0';
    return 0;
}

static bool summary_ok(const run *r, const MDB_val *v)
{
    const report_query *q = r->q;
    if (v->mv_size < 9)
        return false;
    const uint8_t *b = v->mv_data;
    int status = b[0] < REPORT_NSTATUS ? b[0] : -1;
    if (status < 0 || (q->nstatuses && !r->status_ok[status]))
        return false;
    if (q->category &&
        (v->mv_size - 9 != strlen(q->category) || memcmp(b + 9, q->category, v->mv_size - 9)))
        return false;
    if (q->overdue) {
        uint64_t deadline = store_get_be64(b + 1);
        if (!deadline || deadline >= q->now_ms || report_status_processed(report_statuses[status]))
            return false;
    }
    return true;
}

/* True when every query token indexes pos (for lists not walked by token). */
static int tokens_ok(run *r, const uint8_t *pos, size_t plen, bool *ok)
{
    *ok = true;
    for (size_t i = 0; i < r->ntokens && *ok; i++) {
        uint8_t key[FOLD_TOKEN_MAX + 1 + REPORT_POS_MAX];
        size_t n = strlen(r->tokens[i]) + 1;
        memcpy(key, r->tokens[i], n);
        memcpy(key + n, pos, plen);
        MDB_val k = {n + plen, key}, v;
        int rc = mdb_get(r->txn, r->s->rtext, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        *ok = !rc;
    }
    return 0;
}

/* True when every person filter of the query has a row for pos. */
static int persons_ok(run *r, const uint8_t *pos, size_t plen, bool *ok)
{
    *ok = true;
    for (size_t i = 0; i < 2 && *ok; i++) {
        if (!r->personlen[i])
            continue;
        uint8_t key[1 + REPORT_USER_MAX + REPORT_POS_MAX];
        memcpy(key, r->person[i], r->personlen[i]);
        memcpy(key + r->personlen[i], pos, plen);
        MDB_val k = {r->personlen[i] + plen, key}, v;
        int rc = mdb_get(r->txn, r->s->rperson, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        *ok = !rc;
    }
    return 0;
}

/* Checks the candidate pos and, when it matches, emits it (or notes that
 * there is more after a full page). Returns an LMDB code, or 1 to stop. */
static int candidate(run *r, const uint8_t *pos, size_t plen, bool check_tokens)
{
    uint8_t key[KEY_MAX];
    memcpy(key, r->unit, r->ulen);
    memcpy(key + r->ulen, pos, plen);
    MDB_val k = {r->ulen + plen, key}, v;
    int rc = mdb_get(r->txn, r->s->rscope, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    if (!summary_ok(r, &v))
        return 0;
    bool ok = true;
    if (check_tokens && (rc = tokens_ok(r, pos, plen, &ok)))
        return rc;
    if (ok && (rc = persons_ok(r, pos, plen, &ok)))
        return rc;
    if (!ok)
        return 0;
    if (r->emitted == r->q->limit) {
        r->more = true;
        return 1;
    }
    const char *id = (const char *)pos + 8;
    size_t idlen = plen - 8;
    uint8_t rk[300];
    MDB_val rkv = {store_record_key(rk, REPORT_COLL, strlen(REPORT_COLL), id, idlen), rk}, rv;
    rc = mdb_get(r->txn, r->s->records, &rkv, &rv);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    r->emitted++;
    if (!r->fn(r->ctx, id, idlen, rv.mv_data, rv.mv_size))
        return 0;
    r->more = true; /* stopped by fn: the cursor goes on after this one */
    return 1;
}

/* ---- cursors ------------------------------------------------------------- */

static const char sort_letter[] = {'n', 'o', 'd'};

/* The cursor after position pos: sort letter, 16 hex digits of the first 8
 * bytes (inv created, or the deadline), then the id. */
static void cursor_make(char next[REPORT_CURSOR_MAX], report_sort sort, bool inclusive,
                        const uint8_t *pos, size_t plen)
{
    size_t idlen = plen - 8;
    if (18 + idlen > REPORT_CURSOR_MAX) {
        next[0] = '\0';
        return;
    }
    snprintf(next, REPORT_CURSOR_MAX, "%c%016llx%.*s",
             inclusive ? sort_letter[sort] - 'a' + 'A' : sort_letter[sort],
             (unsigned long long)store_get_be64(pos), (int)idlen, (const char *)pos + 8);
}

static int cursor_parse(const report_query *q, uint8_t *pos, size_t *plen, bool *inclusive,
                        char *err, size_t errlen)
{
    const char *c = q->cursor;
    size_t n = strlen(c);
    *inclusive = c[0] == sort_letter[q->sort] - 'a' + 'A';
    bool ok = n > 17 && n < REPORT_CURSOR_MAX && (c[0] == sort_letter[q->sort] || *inclusive);
    for (size_t i = 1; ok && i < 17; i++)
        ok = isxdigit((unsigned char)c[i]);
    for (size_t i = 17; ok && i < n; i++)
        ok = c[i] > ' ' && c[i] < 0x7f;
    if (!ok) {
        snprintf(err, errlen,
                 "cursor \"%.40s\" is not a cursor of this list and sort order: pass the "
                 "\"next\" of the previous page, or leave it out for the first page",
                 c);
        return 1;
    }
    char hex[17];
    memcpy(hex, c + 1, 16);
    hex[16] = '\0';
    store_be64(pos, strtoull(hex, NULL, 16));
    memcpy(pos + 8, c + 17, n - 17);
    *plen = 8 + n - 17;
    return 0;
}

/* ---- walks ------------------------------------------------------------- */

/* The position where a created-ordered walk starts. */
static size_t walk_start(const report_query *q, bool back, uint8_t *pos)
{
    if (!back) {
        store_be64(pos, q->to_ms ? ~(q->to_ms - 1) : 0);
        return 8;
    }
    store_be64(pos, ~q->from_ms);
    memset(pos + 8, 0xff, REPORT_POS_MAX - 8);
    return REPORT_POS_MAX;
}

static bool past_range(const report_query *q, const uint8_t *pos)
{
    uint64_t created = ~store_get_be64(pos);
    return created < q->from_ms || (q->to_ms && created >= q->to_ms);
}

/* The current candidate of the streams: for a union the first in order,
 * for an intersection a position all agree on (seeking until they do).
 * Returns the stream index holding it, -1 when exhausted, or -2 - rc on a
 * storage error. */
static int streams_current(run *r)
{
    int dir = r->st[0].back ? -1 : 1;
    for (;;) {
        int best = -1;
        bool agree = true;
        for (size_t i = 0; i < r->nst; i++) {
            stream *st = &r->st[i];
            if (st->done) {
                if (r->intersect)
                    return -1;
                continue;
            }
            if (best < 0) {
                best = (int)i;
                continue;
            }
            int c = pos_cmp(st->pos, st->poslen, r->st[best].pos, r->st[best].poslen) * dir;
            if (c)
                agree = false;
            if ((r->intersect && c > 0) || (!r->intersect && c < 0))
                best = (int)i;
        }
        if (best < 0 || !r->intersect || agree)
            return best;
        uint8_t target[REPORT_POS_MAX];
        size_t tlen = r->st[best].poslen;
        memcpy(target, r->st[best].pos, tlen);
        if (tlen < 8 || past_range(r->q, target))
            return -1;
        for (size_t i = 0; i < r->nst; i++) {
            if (pos_cmp(r->st[i].pos, r->st[i].poslen, target, tlen) == 0)
                continue;
            if (!step(r)) {
                stop_at(r, target, tlen); /* nothing before target is in every list */
                return -1;
            }
            int rc = stream_advance(&r->st[i], target, tlen);
            if (rc)
                return -2 - rc;
        }
    }
}

static int walk_created(run *r, const uint8_t *from, size_t flen, bool skip_from)
{
    for (size_t i = 0; i < r->nst; i++) {
        int rc = stream_seek(&r->st[i], from, flen);
        if (rc)
            return rc;
    }
    for (;;) {
        int cur = streams_current(r);
        if (cur == -1)
            return 0;
        if (cur < -1)
            return -2 - cur;
        stream *st = &r->st[cur];
        if (st->poslen < 8 || st->poslen > REPORT_POS_MAX || past_range(r->q, st->pos))
            return 0;
        if (!step(r)) {
            stop_at(r, st->pos, st->poslen);
            return 0;
        }
        if (!(skip_from && !pos_cmp(st->pos, st->poslen, from, flen))) {
            uint8_t pos[REPORT_POS_MAX];
            size_t plen = st->poslen, before = r->emitted;
            memcpy(pos, st->pos, plen);
            int rc = candidate(r, pos, plen, !r->intersect);
            if (r->emitted > before) {
                memcpy(r->last, pos, plen);
                r->lastlen = plen;
            }
            if (rc)
                return rc == 1 ? 0 : rc;
        }
        /* advance: the chosen stream (a union), or every one (an intersection) */
        for (size_t i = 0; i < r->nst; i++)
            if (r->intersect || (int)i == cur) {
                int rc = stream_next(&r->st[i]);
                if (rc)
                    return rc;
            }
    }
}

static int walk_deadline(run *r, const uint8_t *from, size_t flen, bool skip_from)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, r->s->rdue, &c);
    if (rc)
        return rc;
    MDB_val k = {flen, (void *)from}, v;
    rc = mdb_cursor_get(c, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST);
    if (!rc && skip_from && k.mv_size == flen && !memcmp(k.mv_data, from, flen))
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    for (; !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= 8 || k.mv_size > REPORT_POS_MAX || v.mv_size != 8)
            continue;
        uint64_t deadline = store_get_be64(k.mv_data);
        if (r->q->overdue && deadline >= r->q->now_ms)
            break;
        uint8_t pos[REPORT_POS_MAX];
        memcpy(pos, v.mv_data, 8);
        memcpy(pos + 8, (const uint8_t *)k.mv_data + 8, k.mv_size - 8);
        if (!step(r)) {
            stop_at(r, k.mv_data, k.mv_size);
            break;
        }
        if (past_range(r->q, pos))
            continue;
        size_t before = r->emitted;
        rc = candidate(r, pos, k.mv_size, true);
        if (r->emitted > before) {
            memcpy(r->last, k.mv_data, k.mv_size);
            r->lastlen = k.mv_size;
        }
        if (rc)
            break;
    }
    mdb_cursor_close(c);
    return rc == 1 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Opens the one stream of a person's reports (the first person filter). */
static int plan_person(run *r, bool back)
{
    size_t i = r->personlen[0] ? 0 : 1;
    stream *st = &r->st[0];
    memset(st, 0, sizeof *st);
    st->back = back;
    memcpy(st->prefix, r->person[i], r->personlen[i]);
    st->plen = r->personlen[i];
    int rc = mdb_cursor_open(r->txn, r->s->rperson, &st->cur);
    if (!rc)
        r->nst = 1;
    return rc;
}

/* Opens the streams of the plan: tokens, a person's reports, statuses, or
 * the unit's scope. */
static int plan_streams(run *r, bool back)
{
    const report_query *q = r->q;
    if (!r->ntokens && (r->personlen[0] || r->personlen[1]))
        return plan_person(r, back);
    r->intersect = r->ntokens > 0;
    size_t n = r->ntokens                                      ? r->ntokens
               : q->nstatuses && q->nstatuses < REPORT_NSTATUS ? REPORT_NSTATUS
                                                               : 1;
    for (size_t i = 0; i < n; i++) {
        stream *st = &r->st[r->nst];
        memset(st, 0, sizeof *st);
        st->back = back;
        MDB_dbi db = r->s->rscope;
        if (r->ntokens) {
            db = r->s->rtext;
            st->plen = strlen(r->tokens[i]) + 1;
            memcpy(st->prefix, r->tokens[i], st->plen);
        } else {
            memcpy(st->prefix, r->unit, r->ulen);
            st->plen = r->ulen;
            if (n > 1) {
                if (!r->status_ok[i])
                    continue;
                db = r->s->rstatus;
                st->prefix[st->plen++] = (uint8_t)i;
            }
        }
        int rc = mdb_cursor_open(r->txn, db, &st->cur);
        if (rc)
            return rc;
        r->nst++;
    }
    return 0;
}

static int query_check(run *r, const report_query *q, char *err, size_t errlen)
{
    if (!q->unit || !*q->unit || strlen(q->unit) >= REPORT_UNIT_MAX) {
        snprintf(err, errlen, "a unit code is required (at most %d characters)",
                 REPORT_UNIT_MAX - 1);
        return 1;
    }
    if (q->limit < 1 || q->limit > REPORT_QUERY_LIMIT_MAX) {
        snprintf(err, errlen, "limit must be 1..%d", REPORT_QUERY_LIMIT_MAX);
        return 1;
    }
    if (q->to_ms && q->to_ms <= q->from_ms) {
        snprintf(err, errlen, "the end of the date range must be after its start");
        return 1;
    }
    for (size_t i = 0; i < q->nstatuses; i++) {
        int k = report_status_index(q->statuses[i]);
        if (k < 0) {
            snprintf(err, errlen,
                     "unknown status \"%.40s\": use new, received, assigned, in_progress, "
                     "resolved, closed, rejected, duplicate, transferred or reopened",
                     q->statuses[i]);
            return 1;
        }
        r->status_ok[k] = true;
    }
    r->ulen = strlen(q->unit) + 1;
    memcpy(r->unit, q->unit, r->ulen);
    const char *who[2] = {q->assignee, q->created_by};
    const char role[2] = {REPORT_PERSON_ASSIGNEE, REPORT_PERSON_CREATOR};
    for (int i = 0; i < 2; i++) {
        if (!who[i] || !*who[i])
            continue;
        if (strlen(who[i]) >= REPORT_USER_MAX) {
            snprintf(err, errlen, "a user name has at most %d characters", REPORT_USER_MAX - 1);
            return 1;
        }
        r->personlen[i] = report_person_prefix(r->person[i], role[i], who[i]);
    }
    if (q->q && fold_tokens(q->q, strlen(q->q), token_take, r) == 1) {
        snprintf(err, errlen, "the search text has more than %d words: use fewer", MAX_TOKENS);
        return 1;
    }
    return 0;
}

int report_query_run(store *s, const report_query *q, report_fn fn, void *ctx,
                     char next[REPORT_CURSOR_MAX], char *err, size_t errlen)
{
    next[0] = '\0';
    run *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *r = (run){.q = q, .fn = fn, .ctx = ctx, .steps = q->steps ? q->steps : REPORT_QUERY_STEPS};
    uint8_t from[8 + REPORT_POS_MAX];
    size_t flen = 0;
    bool inclusive = false;
    int ret = query_check(r, q, err, errlen);
    if (!ret && q->cursor && *q->cursor)
        ret = cursor_parse(q, from, &flen, &inclusive, err, errlen);
    if (ret) {
        free(r);
        return ret;
    }
    store_index_txn t;
    int rc = store_index_read(s, REPORT_COLL, &t);
    if (!rc) {
        r->txn = t.txn;
        r->dbs = report_dbs_of(&t);
        r->s = &r->dbs;
    }
    bool back = q->sort == REPORT_SORT_OLDEST;
    if (!rc && q->sort == REPORT_SORT_DEADLINE) {
        rc = walk_deadline(r, from, flen, flen && !inclusive);
    } else if (!rc) {
        bool skip = flen > 0 && !inclusive;
        if (!flen)
            flen = walk_start(q, back, from);
        rc = plan_streams(r, back);
        if (!rc)
            rc = walk_created(r, from, flen, skip);
    }
    for (size_t i = 0; i < r->nst; i++)
        mdb_cursor_close(r->st[i].cur);
    if (r->txn)
        store_index_end(s, &t);
    if (!rc && r->more)
        cursor_make(next, q->sort, r->frontier, r->last, r->lastlen);
    if (rc)
        snprintf(err, errlen, "cannot read the report indexes: %s", mdb_strerror(rc));
    free(r);
    return rc ? -1 : 0;
}

int report_query_overdue(store *s, uint64_t now_ms, report_fn fn, void *ctx)
{
    store_index_txn t;
    if (store_index_read(s, REPORT_COLL, &t))
        return -1;
    MDB_txn *txn = t.txn;
    report_dbs dbs = report_dbs_of(&t);
    MDB_cursor *c = NULL;
    int ret = 0, rc = mdb_cursor_open(txn, dbs.rdue, &c);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc && !ret;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= 8 || store_get_be64(k.mv_data) >= now_ms)
            break;
        const char *id = (const char *)k.mv_data + 8;
        size_t idlen = k.mv_size - 8;
        uint8_t rk[300];
        MDB_val rkv = {store_record_key(rk, REPORT_COLL, strlen(REPORT_COLL), id, idlen), rk}, rv;
        if (idlen <= ENTRY_MAX_NAME && !mdb_get(txn, dbs.records, &rkv, &rv))
            ret = fn(ctx, id, idlen, rv.mv_data, rv.mv_size);
    }
    if (c)
        mdb_cursor_close(c);
    store_index_end(s, &t);
    if (rc && rc != MDB_NOTFOUND)
        return -1;
    return ret;
}
