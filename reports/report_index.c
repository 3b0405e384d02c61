/*
 * report_index.c - see report_index.h.
 *
 * A record is read into a ix_view (the fields the indexes use); a
 * record without created_ms or with an unknown status, or a deleted one,
 * contributes nothing. An update removes the old view's rows and counter
 * contributions and adds the new view's, so the result depends only on
 * the final record whatever the history. Counters that reach zero are
 * deleted, so equal records leave equal bytes.
 */
#include "reports/report_index.h"
#include "lib/fold.h"
#include "replication/unit_place.h"
#include "storage/record.h"

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define VIEW_UNITS 32
#define VIEW_TEXTS 4
#define DAY_MS 86400000ull
#define ZONE_MS (7ull * 3600000ull)

const char *const report_statuses[REPORT_NSTATUS] = {
    "new",    "received", "assigned",  "in_progress", "resolved",
    "closed", "rejected", "duplicate", "transferred", "reopened"};

int report_status_index(const char *status)
{
    for (int i = 0; i < REPORT_NSTATUS; i++)
        if (status && !strcmp(status, report_statuses[i]))
            return i;
    return -1;
}

bool report_status_processed(const char *status)
{
    int i = report_status_index(status);
    return i >= 4 && i <= 7;
}

bool report_status_open(const char *status)
{
    return report_status_index(status) >= 0 && !report_status_processed(status);
}

uint64_t report_hist_upper_ms(unsigned b)
{
    uint64_t u = 60000; /* bucket 0: up to a minute; each next one 25% wider */
    for (unsigned i = 0; i < b && u < UINT64_MAX / 5; i++)
        u = u * 5 / 4;
    return u;
}

unsigned report_hist_bucket(uint64_t ms)
{
    unsigned b = 0;
    for (uint64_t u = 60000; ms > u && b < REPORT_HIST_BUCKETS - 1; b++)
        u = u * 5 / 4;
    return b;
}

size_t report_person_prefix(uint8_t *out, char role, const char *user)
{
    size_t n = strlen(user);
    out[0] = (uint8_t)role;
    memcpy(out + 1, user, n);
    out[1 + n] = 0;
    return n + 2;
}

size_t report_pos(uint8_t *out, uint64_t created_ms, const char *id, size_t idlen)
{
    store_be64(out, ~created_ms);
    memcpy(out + 8, id, idlen);
    return 8 + idlen;
}

uint32_t report_day(uint64_t ms)
{
    return (uint32_t)((ms + ZONE_MS) / DAY_MS);
}

int report_counters_decode(const MDB_val *v, uint64_t c[RC_COUNT])
{
    memset(c, 0, sizeof(uint64_t) * RC_COUNT);
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    while (p < end) {
        unsigned idx = *p++;
        uint64_t val = 0;
        unsigned shift = 0;
        for (;;) {
            if (p >= end || shift > 63 || idx >= RC_COUNT)
                return MDB_CORRUPTED;
            val |= (uint64_t)(*p & 0x7f) << shift;
            shift += 7;
            if (!(*p++ & 0x80))
                break;
        }
        c[idx] = val;
    }
    return 0;
}

/* Encodes the non-zero counters; returns the length (out >= RC_COUNT*11). */
static size_t counters_encode(const uint64_t c[RC_COUNT], uint8_t *out)
{
    size_t n = 0;
    for (unsigned i = 0; i < RC_COUNT; i++) {
        if (!c[i])
            continue;
        out[n++] = (uint8_t)i;
        uint64_t v = c[i];
        do {
            out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
    }
    return n;
}

/* ---- the view of a record ---------------------------------------------- */

typedef struct {
    bool indexed;
    uint64_t created, deadline, resolved;
    int status;
    char category[REPORT_CATEGORY_MAX + 1];
    char owner[REPORT_UNIT_MAX];
    char rating[16];
    char assignee[REPORT_USER_MAX], creator[REPORT_USER_MAX]; /* user names, "" when none */
    char units[VIEW_UNITS][REPORT_UNIT_MAX]; /* the units it is counted under, sorted */
    size_t nunits;
    const msgpack_object *paths[2]; /* area_path, owner_path as written (into up) */
    const char *text[VIEW_TEXTS];   /* title, description, address (into up) */
    size_t textlen[VIEW_TEXTS];
    msgpack_unpacked up;
} ix_view;

static bool key_eq(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, s, n);
}

static void copy_str(const msgpack_object *v, char *out, size_t cap)
{
    if (v->type == MSGPACK_OBJECT_STR && v->via.str.size < cap) {
        memcpy(out, v->via.str.ptr, v->via.str.size);
        out[v->via.str.size] = '\0';
    }
}

static int unit_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void add_path(ix_view *v, const msgpack_object *arr)
{
    if (arr->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (uint32_t i = 0; i < arr->via.array.size && v->nunits < VIEW_UNITS; i++) {
        const msgpack_object *u = &arr->via.array.ptr[i];
        if (u->type != MSGPACK_OBJECT_STR || !u->via.str.size ||
            u->via.str.size >= REPORT_UNIT_MAX || memchr(u->via.str.ptr, 0, u->via.str.size))
            continue;
        copy_str(u, v->units[v->nunits++], REPORT_UNIT_MAX);
    }
}

static void sort_units(ix_view *v)
{
    qsort(v->units, v->nunits, REPORT_UNIT_MAX, unit_cmp);
    size_t n = 0;
    for (size_t i = 0; i < v->nunits; i++)
        if (!n || strcmp(v->units[n - 1], v->units[i]))
            memmove(v->units[n++], v->units[i], REPORT_UNIT_MAX);
    v->nunits = n;
}

/* Adds unit to v's units. */
static void add_unit(ix_view *v, const char *unit)
{
    if (unit[0] && strlen(unit) < REPORT_UNIT_MAX && v->nunits < VIEW_UNITS)
        snprintf(v->units[v->nunits++], REPORT_UNIT_MAX, "%s", unit);
}

/* The last unit of a path as written, into out ("" when none). */
static void path_leaf(const msgpack_object *arr, char out[REPORT_UNIT_MAX])
{
    out[0] = '\0';
    if (arr && arr->type == MSGPACK_OBJECT_ARRAY && arr->via.array.size)
        copy_str(&arr->via.array.ptr[arr->via.array.size - 1], out, REPORT_UNIT_MAX);
}

/* Adds the units a unit as written is counted under: itself (so a search
 * by an old code finds it) and its live successor's current path; the
 * path as written when the tree here does not know the unit. Sets
 * *successor to the live successor (unit itself when unknown). Returns 0
 * or MDB_CORRUPTED (a storage error). */
static int place_unit(ix_view *v, const unit_place_src *src, const char *unit,
                      const msgpack_object *written, char successor[REPORT_UNIT_MAX])
{
    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP];
    bool complete;
    snprintf(successor, REPORT_UNIT_MAX, "%s", unit);
    int n = src && unit[0] ? unit_place_path(src, unit, path, &complete) : 0;
    if (n < 0)
        return MDB_CORRUPTED;
    if (!n) {
        if (written)
            add_path(v, written);
        return 0;
    }
    add_unit(v, unit);
    for (int i = 0; i < n; i++)
        add_unit(v, path[i]);
    snprintf(successor, REPORT_UNIT_MAX, "%s", path[n - 1]);
    return 0;
}

/* Fills v->units from the record's area and owner, placed in the tree of
 * src (docs/reports.md, "Counting after a tree change"), and turns v->owner
 * into its live successor. */
static int view_place(ix_view *v, const unit_place_src *src)
{
    char area[REPORT_UNIT_MAX], owner[REPORT_UNIT_MAX], succ[REPORT_UNIT_MAX];
    path_leaf(v->paths[0], area);
    if (v->owner[0])
        snprintf(owner, sizeof owner, "%s", v->owner);
    else
        path_leaf(v->paths[1], owner);
    int rc = place_unit(v, src, area, v->paths[0], succ);
    if (!rc && (owner[0] || v->paths[1]))
        rc = place_unit(v, src, owner, v->paths[1], succ);
    if (!rc && v->owner[0])
        snprintf(v->owner, sizeof v->owner, "%s", succ);
    sort_units(v);
    return rc;
}

/* Reads rec into v, placed in the tree of src (v->up must be released with
 * view_release). Returns 0 or MDB_CORRUPTED. */
static int view_read(ix_view *v, const uint8_t *rec, size_t len, const unit_place_src *src)
{
    memset(v, 0, sizeof *v);
    msgpack_unpacked_init(&v->up);
    v->status = -1;
    if (!rec)
        return 0;
    if (record_is_deleted(rec, len))
        return 0;
    size_t off = 0;
    if (msgpack_unpack_next(&v->up, (const char *)rec, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        v->up.data.type != MSGPACK_OBJECT_MAP || v->up.data.via.map.size != 3 ||
        v->up.data.via.map.ptr[1].val.type != MSGPACK_OBJECT_MAP)
        return MDB_CORRUPTED;
    const msgpack_object_map *fm = &v->up.data.via.map.ptr[1].val.via.map;
    bool has_created = false;
    for (uint32_t i = 0; i < fm->size; i++) {
        const msgpack_object *k = &fm->ptr[i].key, *a = &fm->ptr[i].val;
        if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 3)
            return MDB_CORRUPTED;
        const msgpack_object *val = &a->via.array.ptr[2];
        bool u64 = val->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        if (key_eq(k, "created_ms") && u64) {
            v->created = val->via.u64;
            has_created = true;
        } else if (key_eq(k, "deadline_ms") && u64) {
            v->deadline = val->via.u64;
        } else if (key_eq(k, "resolved_ms") && u64) {
            v->resolved = val->via.u64;
        } else if (key_eq(k, "status")) {
            char st[16] = "";
            copy_str(val, st, sizeof st);
            v->status = report_status_index(st);
        } else if (key_eq(k, "category")) {
            copy_str(val, v->category, sizeof v->category);
        } else if (key_eq(k, "owner_unit")) {
            copy_str(val, v->owner, sizeof v->owner);
        } else if (key_eq(k, "rating")) {
            copy_str(val, v->rating, sizeof v->rating);
        } else if (key_eq(k, "assignee")) {
            copy_str(val, v->assignee, sizeof v->assignee);
        } else if (key_eq(k, "created_by")) {
            copy_str(val, v->creator, sizeof v->creator);
        } else if (key_eq(k, "area_path") || key_eq(k, "owner_path")) {
            v->paths[key_eq(k, "owner_path")] = val;
        } else if (val->type == MSGPACK_OBJECT_STR) {
            static const char *const texts[] = {"title", "description", "address"};
            for (size_t t = 0; t < 3; t++)
                if (key_eq(k, texts[t])) {
                    v->text[t + 1] = val->via.str.ptr;
                    v->textlen[t + 1] = val->via.str.size;
                }
        }
    }
    v->indexed = has_created && v->status >= 0;
    return view_place(v, src);
}

static void view_release(ix_view *v)
{
    msgpack_unpacked_destroy(&v->up);
}

static bool text_eq(const ix_view *a, const ix_view *b)
{
    for (size_t t = 0; t < VIEW_TEXTS; t++)
        if (a->textlen[t] != b->textlen[t] ||
            (a->textlen[t] && memcmp(a->text[t], b->text[t], a->textlen[t])))
            return false;
    return true;
}

/* True when a and b give the same index rows and counters. */
static bool view_same(const ix_view *a, const ix_view *b)
{
    if (!a->indexed || !b->indexed)
        return a->indexed == b->indexed;
    return a->created == b->created && a->deadline == b->deadline && a->resolved == b->resolved &&
           a->status == b->status && !strcmp(a->category, b->category) &&
           !strcmp(a->owner, b->owner) && !strcmp(a->rating, b->rating) &&
           !strcmp(a->assignee, b->assignee) && !strcmp(a->creator, b->creator) &&
           a->nunits == b->nunits && !memcmp(a->units, b->units, sizeof a->units[0] * a->nunits) &&
           text_eq(a, b);
}

/* ---- rows ------------------------------------------------------------- */

/* Puts (add) or deletes key -> val in db. */
static int row_set(MDB_txn *txn, MDB_dbi db, const uint8_t *key, size_t klen, const void *val,
                   size_t vlen, bool add)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    if (add)
        return mdb_put(txn, db, &k, &v, 0);
    int rc = mdb_del(txn, db, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static size_t unit_prefix(uint8_t *out, const char *unit)
{
    size_t n = strlen(unit);
    memcpy(out, unit, n);
    out[n] = 0;
    return n + 1;
}

static int scope_rows(const report_dbs *s, MDB_txn *txn, const ix_view *v, const uint8_t *pos,
                      size_t plen, bool add)
{
    uint8_t key[REPORT_UNIT_MAX + 1 + REPORT_POS_MAX], val[9 + REPORT_CATEGORY_MAX];
    val[0] = (uint8_t)v->status;
    store_be64(val + 1, v->deadline);
    size_t cl = strlen(v->category);
    memcpy(val + 9, v->category, cl);
    int rc = 0;
    for (size_t i = 0; i < v->nunits && !rc; i++) {
        size_t n = unit_prefix(key, v->units[i]);
        memcpy(key + n, pos, plen);
        rc = row_set(txn, s->rscope, key, n + plen, val, 9 + cl, add);
        if (rc)
            break;
        key[n] = (uint8_t)v->status;
        memcpy(key + n + 1, pos, plen);
        rc = row_set(txn, s->rstatus, key, n + 1 + plen, "", 0, add);
    }
    return rc;
}

static int due_row(const report_dbs *s, MDB_txn *txn, const ix_view *v, const char *id,
                   size_t idlen, bool add)
{
    if (!v->deadline || report_status_processed(report_statuses[v->status]))
        return 0;
    uint8_t key[8 + ENTRY_MAX_NAME], inv[8];
    store_be64(key, v->deadline);
    memcpy(key + 8, id, idlen);
    store_be64(inv, ~v->created);
    return row_set(txn, s->rdue, key, 8 + idlen, inv, 8, add);
}

/* The rperson rows of v: its assignee ('a') and creator ('c'). */
static int person_rows(const report_dbs *s, MDB_txn *txn, const ix_view *v, const uint8_t *pos,
                       size_t plen, bool add)
{
    const char *who[2] = {v->assignee, v->creator};
    const char role[2] = {REPORT_PERSON_ASSIGNEE, REPORT_PERSON_CREATOR};
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        if (!who[i][0] || strlen(who[i]) >= REPORT_USER_MAX)
            continue;
        uint8_t key[1 + REPORT_USER_MAX + REPORT_POS_MAX];
        size_t n = report_person_prefix(key, role[i], who[i]);
        memcpy(key + n, pos, plen);
        rc = row_set(txn, s->rperson, key, n + plen, "", 0, add);
    }
    return rc;
}

typedef struct {
    char (*tok)[FOLD_TOKEN_MAX + 1];
    size_t n, cap;
} token_set;

static int token_collect(void *ctx, const char *tok, size_t len)
{
    token_set *ts = ctx;
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        void *p = realloc(ts->tok, cap * sizeof *ts->tok);
        if (!p)
            return -1;
        ts->tok = p;
        ts->cap = cap;
    }
    memcpy(ts->tok[ts->n], tok, len);
    ts->tok[ts->n++][len] = '\0';
    return 0;
}

static int token_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int text_rows(const report_dbs *s, MDB_txn *txn, const ix_view *v, const uint8_t *pos,
                     size_t plen, bool add)
{
    token_set ts = {0};
    int rc = 0;
    for (size_t t = 0; t < VIEW_TEXTS && !rc; t++)
        if (v->textlen[t] && fold_tokens(v->text[t], v->textlen[t], token_collect, &ts))
            rc = ENOMEM;
    if (!rc)
        qsort(ts.tok, ts.n, sizeof *ts.tok, token_cmp);
    uint8_t key[FOLD_TOKEN_MAX + 1 + REPORT_POS_MAX];
    for (size_t i = 0; i < ts.n && !rc; i++) {
        if (i && !strcmp(ts.tok[i], ts.tok[i - 1]))
            continue;
        size_t n = unit_prefix(key, ts.tok[i]);
        memcpy(key + n, pos, plen);
        rc = row_set(txn, s->rtext, key, n + plen, "", 0, add);
    }
    free(ts.tok);
    return rc;
}

/* The counters one report adds. */
static void contribution(const ix_view *v, uint64_t c[RC_COUNT])
{
    memset(c, 0, sizeof(uint64_t) * RC_COUNT);
    c[RC_TOTAL] = 1;
    c[RC_STATUS + v->status] = 1;
    const char *st = report_statuses[v->status];
    if (v->resolved && (!strcmp(st, "resolved") || !strcmp(st, "closed"))) {
        uint64_t took = v->resolved > v->created ? v->resolved - v->created : 0;
        c[RC_RESOLVED] = 1;
        c[RC_RES_SUM] = took;
        c[RC_HIST + report_hist_bucket(took)] = 1;
        if (v->deadline) {
            c[RC_RES_DEADLINE] = 1;
            c[RC_ON_TIME] = v->resolved <= v->deadline;
        }
    }
    c[RC_SATISFIED] = !strcmp(v->rating, "satisfied");
    c[RC_ACCEPTABLE] = !strcmp(v->rating, "acceptable");
    c[RC_UNSATISFIED] = !strcmp(v->rating, "unsatisfied");
}

static int counters_apply(const report_dbs *s, MDB_txn *txn, char kind, const char *unit,
                          const ix_view *v, const uint64_t add[RC_COUNT], bool plus)
{
    uint8_t key[1 + REPORT_UNIT_MAX + 4 + REPORT_CATEGORY_MAX];
    key[0] = (uint8_t)kind;
    size_t n = 1 + unit_prefix(key + 1, unit);
    uint32_t day = report_day(v->created);
    key[n++] = (uint8_t)(day >> 24);
    key[n++] = (uint8_t)(day >> 16);
    key[n++] = (uint8_t)(day >> 8);
    key[n++] = (uint8_t)day;
    size_t cl = strlen(v->category);
    memcpy(key + n, v->category, cl);
    n += cl;
    MDB_val k = {n, key}, old;
    uint64_t c[RC_COUNT];
    int rc = mdb_get(txn, s->rstats, &k, &old);
    if (rc == MDB_NOTFOUND) {
        memset(c, 0, sizeof c);
    } else if (rc || (rc = report_counters_decode(&old, c))) {
        return rc;
    }
    for (unsigned i = 0; i < RC_COUNT; i++)
        c[i] = plus ? c[i] + add[i] : (c[i] > add[i] ? c[i] - add[i] : 0);
    uint8_t val[RC_COUNT * 11];
    size_t vl = counters_encode(c, val);
    return row_set(txn, s->rstats, key, n, val, vl, vl > 0);
}

static int stats_rows(const report_dbs *s, MDB_txn *txn, const ix_view *v, bool add)
{
    uint64_t c[RC_COUNT];
    contribution(v, c);
    int rc = 0;
    if (v->owner[0])
        rc = counters_apply(s, txn, 'u', v->owner, v, c, add);
    for (size_t i = 0; i < v->nunits && !rc; i++)
        rc = counters_apply(s, txn, 's', v->units[i], v, c, add);
    return rc;
}

/* Adds (or removes) everything v contributes. */
static int view_rows(const report_dbs *s, MDB_txn *txn, ix_view *v, const char *id, size_t idlen,
                     bool add)
{
    if (!v->indexed)
        return 0;
    v->text[0] = id;
    v->textlen[0] = idlen;
    uint8_t pos[REPORT_POS_MAX];
    size_t plen = report_pos(pos, v->created, id, idlen);
    int rc = scope_rows(s, txn, v, pos, plen, add);
    if (!rc)
        rc = due_row(s, txn, v, id, idlen, add);
    if (!rc)
        rc = text_rows(s, txn, v, pos, plen, add);
    if (!rc)
        rc = person_rows(s, txn, v, pos, plen, add);
    if (!rc)
        rc = stats_rows(s, txn, v, add);
    return rc;
}

report_dbs report_dbs_of(const store_index_txn *t)
{
    report_dbs d = {t->records, t->dbs[0], t->dbs[1], t->dbs[2], t->dbs[3], t->dbs[4], t->dbs[5]};
    return d;
}

/* Moves the rows of report id from record old placed in tree src_old to
 * record rec placed in tree src_new. */
static int report_reindex(const store_index_txn *t, const char *id, size_t idlen,
                          const uint8_t *old, size_t oldlen, const unit_place_src *src_old,
                          const uint8_t *rec, size_t reclen, const unit_place_src *src_new)
{
    report_dbs dbs = report_dbs_of(t), *s = &dbs;
    MDB_txn *txn = t->txn;
    if (!idlen || idlen > ENTRY_MAX_NAME)
        return 0;
    ix_view *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    int rc = a && b ? 0 : ENOMEM;
    if (!rc)
        rc = view_read(a, old, oldlen, src_old);
    if (!rc) {
        rc = view_read(b, rec, reclen, src_new);
        if (!rc && !view_same(a, b)) {
            rc = view_rows(s, txn, a, id, idlen, false);
            if (!rc)
                rc = view_rows(s, txn, b, id, idlen, true);
        }
        view_release(b);
    }
    if (a)
        view_release(a);
    free(a);
    free(b);
    return rc;
}

/* The store's call (store_index.update): moves the indexes of report id
 * from record old (NULL when new) to record rec inside t. Returns an LMDB
 * code (MDB_CORRUPTED for an unreadable record). */
static int report_index_update(const store_index_txn *t, const char *id, size_t idlen,
                               const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    unit_place_src src = {t->txn, t->records, NULL, NULL, 0};
    return report_reindex(t, id, idlen, old, oldlen, &src, rec, reclen, &src);
}

/* The ids of the reports counted under unit, into ids. */
static int ids_under(const store_index_txn *t, const char *unit, unit_place_ids *ids)
{
    uint8_t prefix[REPORT_UNIT_MAX];
    size_t plen = unit_prefix(prefix, unit), inv = 8; /* unit 0x00 inv(8) id */
    return unit_place_ids_scan(t, report_dbs_of(t).rscope, prefix, plen, unit_place_key_tail, &inv,
                               ids);
}

/* The store's call (store_index.watched) when the "units" record of unit
 * code changes from old to rec: every report counted under code (which
 * holds every report whose place depends on code's record) is placed
 * again, so the index stays what a rebuild from the records gives. */
static int report_index_units_changed(const store_index_txn *t, const char *code, size_t codelen,
                                      const uint8_t *old, size_t oldlen, const uint8_t *rec,
                                      size_t reclen)
{
    return unit_place_watched(t, code, codelen, old, oldlen, rec, reclen, REPORT_COLL, ids_under,
                              report_reindex);
}

static const char *const report_index_dbs[] = {"rscope", "rstatus", "rdue",
                                               "rtext",  "rstats",  "rperson"};

const store_index report_index = {
    .name = REPORT_COLL,
    .version = 3, /* 3: rperson (assignee, created_by) */
    .collection = REPORT_COLL,
    .dbs = report_index_dbs,
    .ndbs = sizeof report_index_dbs / sizeof *report_index_dbs,
    .update = report_index_update,
    .watch = "units",
    .watched = report_index_units_changed,
};
