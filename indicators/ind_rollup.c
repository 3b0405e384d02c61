/*
 * ind_rollup.c - roll-ups and completeness from the value index: a unit's
 * figure per period is one index row of the tier that counts (ind_defs.c),
 * aggregated across units by the definition (sum, average, min, max,
 * count), across time by its time aggregation (sum, average, last);
 * computed indicators divide their aggregated numerator by their
 * aggregated denominator; operational ones ask their source.
 */
#include "indicators/ind_internal.h"
#include "storage/record.h"
#include "storage/store_index.h"

#include <stdlib.h>
#include <string.h>

#define RANGE_MAX 1200

/* One unit's figure for one period. */
typedef struct {
    bool has;
    double value;
    uint64_t reported, expected, on_time;
    double sum; /* for averages across time */
} cell;

typedef struct {
    ind_ptype t;
    int first, n; /* ordinals first .. first+n-1 */
} range;

/* The tier whose rows give unit u's figure, or NULL when u has none, and
 * how many units are expected to report into it. */
static const char *unit_tier(indicators *d, const ind_def *def, const ind_units *us,
                             const ind_unit *u, uint64_t *expected)
{
    int ui = node_tier_index(d->c, u->tier), ci = node_tier_index(d->c, def->count_tier);
    if (ui >= 0 && ci >= 0 && ui <= ci) {
        *expected = ind_units_count(us, u, def->count_tier);
        return def->count_tier;
    }
    *expected = ind_def_reports(def, u->tier) ? 1 : 0;
    return *expected ? u->tier : NULL;
}

static double agg_value(const ind_def *def, const ind_agg_row *r)
{
    switch (def->agg) {
    case AGG_AVERAGE: return (double)r->sum / IND_MICRO / r->count;
    case AGG_MIN: return (double)r->min / IND_MICRO;
    case AGG_MAX: return (double)r->max / IND_MICRO;
    case AGG_COUNT: return (double)r->count;
    default: return (double)r->sum / IND_MICRO;
    }
}

typedef struct {
    const ind_def *def;
    const range *r;
    cell *cells;
} rows_ctx;

static void row_one(void *ctx, const char *period, const ind_agg_row *row)
{
    rows_ctx *rc = ctx;
    int ord;
    if (!ind_period_parse(rc->r->t, period, &ord) || ord < rc->r->first ||
        ord >= rc->r->first + rc->r->n || !row->count)
        return;
    cell *c = &rc->cells[ord - rc->r->first];
    c->has = true;
    c->value = agg_value(rc->def, row);
    c->reported = row->count;
    c->on_time = row->on_time;
}

/* The cells of an entered indicator at u over r. */
static int cells_stored(indicators *d, const ind_def *def, const ind_units *us, const ind_unit *u,
                        const range *r, cell *cells)
{
    uint64_t expected;
    const char *tier = unit_tier(d, def, us, u, &expected);
    for (int i = 0; i < r->n; i++)
        cells[i] = (cell){.expected = expected};
    if (!tier)
        return 0;
    char from[IND_PERIOD_MAX], to[IND_PERIOD_MAX];
    ind_period_name(r->t, r->first, from);
    ind_period_name(r->t, r->first + r->n - 1, to);
    rows_ctx ctx = {def, r, cells};
    return ind_index_rows(d->s, def->code, tier, u->code, from, to, row_one, &ctx);
}

/* The cells of an operational indicator: its source per period. */
static void cells_live(indicators *d, const ind_def *def, const ind_unit *u, const range *r,
                       cell *cells)
{
    const ind_live_source *l = &d->live[def->live];
    for (int i = 0; i < r->n; i++) {
        cells[i] = (cell){0};
        double v;
        if (l->fn(l->ctx, u->code, ind_period_start_ms(r->t, r->first + i),
                  ind_period_end_ms(r->t, r->first + i), &v) == 0)
            cells[i] = (cell){.has = true, .value = v};
    }
}

/* num/den combined: factor x num / den where both are known. */
static void cells_ratio(const ind_def *def, const cell *num, const cell *den, int n, cell *out)
{
    for (int i = 0; i < n; i++) {
        out[i] = num[i];
        out[i].has = num[i].has && den[i].has && den[i].value != 0;
        out[i].value = out[i].has ? def->factor * num[i].value / den[i].value : 0;
    }
}

/* The figure over the whole range, aggregated across time. */
static cell cells_over_time(ind_tagg tagg, const cell *cells, int n)
{
    cell t = {0};
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        t.reported += cells[i].reported;
        t.expected += cells[i].expected;
        t.on_time += cells[i].on_time;
        if (!cells[i].has)
            continue;
        k++;
        t.has = true;
        t.sum += cells[i].value;
        t.value = tagg == TAGG_LAST ? cells[i].value : t.sum;
    }
    if (tagg == TAGG_AVERAGE && k)
        t.value = t.sum / (double)k;
    return t;
}

/* The cells of def at u over r; with over_time, cells[0] receives the
 * figure over the whole range. */
static int unit_cells(indicators *d, const ind_def *def, const ind_units *us, const ind_unit *u,
                      const range *r, bool over_time, cell *cells, lt_error *e)
{
    if (def->live >= 0) {
        cells_live(d, def, u, r, cells);
        if (over_time)
            cells[0] = cells_over_time(TAGG_SUM, cells, r->n);
        return 0;
    }
    if (!def->computed) {
        if (cells_stored(d, def, us, u, r, cells))
            return lt_error_set(e, LT_ESTORAGE, "indicator.storage", "cannot read the index of %s",
                                def->code);
        if (over_time)
            cells[0] = cells_over_time(def->tagg, cells, r->n);
        return 0;
    }
    ind_def num, den;
    cell *cn = calloc((size_t)r->n * 2, sizeof *cn);
    if (!cn)
        return lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage", "out of memory; retry later");
    int rc = ind_def_load(d, def->num, &num, e) || ind_def_load(d, def->den, &den, e) ? -1 : 0;
    if (!rc && (cells_stored(d, &num, us, u, r, cn) || cells_stored(d, &den, us, u, r, cn + r->n)))
        rc = lt_error_set(e, LT_ESTORAGE, "indicator.storage", "cannot read the index of %s",
                          def->code);
    if (!rc && over_time) {
        cn[0] = cells_over_time(num.tagg, cn, r->n);
        cn[r->n] = cells_over_time(den.tagg, cn + r->n, r->n);
    }
    if (!rc)
        cells_ratio(def, cn, cn + r->n, over_time ? 1 : r->n, cells);
    free(cn);
    return rc;
}

static json_t *row_json(const ind_unit *u, const char *period, const cell *c)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I}", "unit", u->code, "name", u->name,
                     "period", period, "value", c->has ? json_real(c->value) : json_null(),
                     "reported", (json_int_t)c->reported, "expected", (json_int_t)c->expected,
                     "on_time", (json_int_t)c->on_time);
}

/* Appends the rows of unit u to rows. */
static int unit_rows(indicators *d, const ind_def *def, const ind_units *us, const ind_unit *u,
                     const range *r, ind_by by, json_t *rows, lt_error *e)
{
    cell *cells = calloc((size_t)r->n, sizeof *cells);
    if (!cells)
        return lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage", "out of memory; retry later");
    int rc = unit_cells(d, def, us, u, r, by == IND_BY_UNIT, cells, e);
    char p[IND_PERIOD_MAX], q[IND_PERIOD_MAX], span[2 * IND_PERIOD_MAX + 2];
    if (!rc && by == IND_BY_UNIT) {
        ind_period_name(r->t, r->first, p);
        ind_period_name(r->t, r->first + r->n - 1, q);
        snprintf(span, sizeof span, "%s..%s", p, q);
        json_array_append_new(rows, row_json(u, span, &cells[0]));
    }
    for (int i = 0; !rc && by != IND_BY_UNIT && i < r->n; i++) {
        ind_period_name(r->t, r->first + i, p);
        json_array_append_new(rows, row_json(u, p, &cells[i]));
    }
    free(cells);
    return rc;
}

/* The period of type t that holds time ms. */
static int period_of(ind_ptype t, uint64_t ms)
{
    int ord = t == PER_MONTH ? 2000 * 12 : t == PER_QUARTER ? 2000 * 4 : 2000;
    int step = t == PER_MONTH ? 12 : t == PER_QUARTER ? 4 : 1;
    while (ind_period_start_ms(t, ord + step) <= ms)
        ord += step;
    while (ind_period_start_ms(t, ord + 1) <= ms)
        ord++;
    return ord;
}

/* Checks code, unit and the periods; fills def, u and r. */
static int query_prepare(indicators *d, const char *code, const char *unit, const char *from,
                         const char *to, ind_def *def, const ind_unit **u, range *r, lt_error *e)
{
    if (ind_def_load(d, code, def, e))
        return -1;
    const ind_units *us = ind_units_of(d);
    if (!(*u = ind_units_served(us, unit, d->c->unit, "ask the node of one of its ancestors", e)))
        return -1;
    static const char *const examples[] = {"2026-11", "2026-Q4", "2026"};
    int a, b;
    char cur[IND_PERIOD_MAX], first[IND_PERIOD_MAX];
    if (!to || !*to) {
        int now = period_of(def->ptype, d->now(d->now_ctx));
        ind_period_name(def->ptype, now, cur);
        ind_period_name(def->ptype, now - 11, first);
        to = cur;
        from = from && *from ? from : first;
    }
    if (!from || !*from)
        from = to;
    if (!ind_period_parse(def->ptype, from, &a) || !ind_period_parse(def->ptype, to, &b))
        return lt_error_set(e, LT_EINVAL, "indicator.period",
                            "from and to must be periods of %s, written like %s", code,
                            examples[def->ptype]);
    if (b < a || b - a >= RANGE_MAX)
        return lt_error_set(e, LT_EINVAL, "indicator.period",
                            "from must not be after to, and the range at most %d periods",
                            RANGE_MAX);
    *r = (range){def->ptype, a, b - a + 1};
    return 0;
}

static json_t *rollup_locked(indicators *d, const char *code, const char *unit, const char *from,
                             const char *to, ind_by by, lt_error *e)
{
    ind_def def;
    const ind_unit *u;
    range r;
    if (query_prepare(d, code, unit, from, to, &def, &u, &r, e))
        return NULL;
    const ind_units *us = ind_units_of(d);
    json_t *rows = json_array();
    int rc = 0;
    if (by == IND_BY_CHILD) {
        for (int c = u->first_child; !rc && c >= 0; c = us->u[c].next_sibling)
            rc = unit_rows(d, &def, us, &us->u[c], &r, IND_BY_PERIOD, rows, e);
    } else {
        rc = unit_rows(d, &def, us, u, &r, by, rows, e);
    }
    if (rc) {
        json_decref(rows);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "indicator", code, "unit", unit, "name", u->name,
                     "rows", rows);
}

json_t *indicators_rollup(indicators *d, const char *code, const char *unit, const char *from,
                          const char *to, ind_by by, lt_error *e)
{
    ind_lock(d);
    json_t *j = rollup_locked(d, code, unit, from, to, by, e);
    ind_unlock(d);
    return j;
}

/* ---- completeness ---- */

typedef struct {
    store_index_txn *t;
    const char *code, *period;
    json_t *missing;
} missing_ctx;

static void missing_one(void *ctx, const ind_unit *u)
{
    missing_ctx *m = ctx;
    char id[IND_ID_MAX];
    int idlen = snprintf(id, sizeof id, "%s/%s/%s", m->code, u->code, m->period);
    uint8_t key[64 + 1 + ENTRY_MAX_NAME];
    MDB_val k = {store_record_key(key, INDVALUE_COLL, strlen(INDVALUE_COLL), id, (size_t)idlen),
                 key},
            v;
    if (mdb_get(m->t->txn, m->t->records, &k, &v) == 0 && !record_is_deleted(v.mv_data, v.mv_size))
        return;
    json_array_append_new(m->missing, json_pack("{s:s, s:s}", "unit", u->code, "name", u->name));
}

static json_t *counts_json(const ind_unit *u, const cell *c)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I}", "unit", u->code, "name", u->name, "expected",
                     (json_int_t)c->expected, "received", (json_int_t)c->reported, "on_time",
                     (json_int_t)c->on_time);
}

static json_t *completeness_locked(indicators *d, const char *code, const char *unit,
                                   const char *period, lt_error *e)
{
    ind_def def;
    const ind_unit *u;
    range r;
    char last[IND_PERIOD_MAX];
    if (!period || !*period) {
        if (ind_def_load(d, code, &def, e))
            return NULL;
        ind_period_name(def.ptype, period_of(def.ptype, d->now(d->now_ctx)) - 1, last);
        period = last;
    }
    if (query_prepare(d, code, unit, period, period, &def, &u, &r, e))
        return NULL;
    if (def.computed || def.live >= 0) {
        lt_error_set(e, LT_EINVAL, "indicator.computed",
                     "nobody reports %s (it is %s); ask for the completeness of %s", code,
                     def.computed ? "computed" : "operational", def.computed ? def.num : "another");
        return NULL;
    }
    const ind_units *us = ind_units_of(d);
    cell c;
    if (cells_stored(d, &def, us, u, &r, &c)) {
        lt_error_set(e, LT_ESTORAGE, "indicator.storage", "cannot read the index of %s", code);
        return NULL;
    }
    json_t *children = json_array();
    for (int i = u->first_child; i >= 0; i = us->u[i].next_sibling) {
        cell cc;
        if (!cells_stored(d, &def, us, &us->u[i], &r, &cc) && cc.expected)
            json_array_append_new(children, counts_json(&us->u[i], &cc));
    }
    uint64_t dummy;
    const char *tier = unit_tier(d, &def, us, u, &dummy);
    store_index_txn t;
    missing_ctx m = {&t, def.code, period, json_array()};
    if (tier && store_index_read(d->s, "indicators", &t) == 0) {
        ind_units_walk(us, u, tier, missing_one, &m);
        store_index_end(d->s, &t);
    }
    json_t *j = counts_json(u, &c);
    json_object_set_new(j, "indicator", json_string(code));
    json_object_set_new(j, "period", json_string(period));
    json_object_set_new(j, "tier", tier ? json_string(tier) : json_null());
    json_object_set_new(j, "received_rate",
                        c.expected ? json_real((double)c.reported / c.expected) : json_null());
    json_object_set_new(j, "on_time_rate",
                        c.expected ? json_real((double)c.on_time / c.expected) : json_null());
    json_object_set_new(j, "missing", m.missing);
    json_object_set_new(j, "children", children);
    return j;
}

json_t *indicators_completeness(indicators *d, const char *code, const char *unit,
                                const char *period, lt_error *e)
{
    ind_lock(d);
    json_t *j = completeness_locked(d, code, unit, period, e);
    ind_unlock(d);
    return j;
}
