/*
 * ind_internal.h - what the files of indicators/ share and nothing else
 * uses: the context, the unit catalogue, parsed definitions, periods and
 * the error helper.
 *
 * Machine codes of the domain's errors (lt_error.code), in every error
 * body (docs/openapi.yaml lists them, web/src/i18n.js translates them):
 *   indicator.bad_code      the indicator code is not 1..32 of A-Z a-z 0-9 _ . -
 *   indicator.unknown       no such indicator (404)
 *   indicator.definition    a field of a definition is wrong (400)
 *   indicator.forbidden     role, tier or unit does not allow it (403)
 *   indicator.unit          unknown unit, or not one this node serves (404/403)
 *   indicator.tier          the unit's tier does not report this indicator (400)
 *   indicator.period        a period not of the indicator's type, or in the future (400)
 *   indicator.value         not a number, or out of range (400)
 *   indicator.computed      computed and operational indicators take no values (400)
 *   indicator.locked        a correction after the lock day needs a leader (409)
 *   indicator.csv           a CSV row or column is wrong (400)
 *   indicator.storage       the store failed (500)
 */
#ifndef LT_IND_INTERNAL_H
#define LT_IND_INTERNAL_H

#include "indicators/indicators.h"

#include <uv.h>

#define IND_LIVE_MAX 32
#define IND_UNIT_NAME_MAX 128

/* ---- the unit catalogue (ind_units.c): the "units" records as a tree ---- */

typedef struct {
    char code[NODE_CODE_MAX];
    char name[IND_UNIT_NAME_MAX];
    char tier[NODE_CODE_MAX];
    int parent, first_child, next_sibling; /* indexes, -1 when none */
} ind_unit;

typedef struct {
    ind_unit *u; /* sorted by code */
    size_t n;
} ind_units;

/* The unit of code, or NULL. */
const ind_unit *ind_units_find(const ind_units *us, const char *code);

/* The index of unit p in us. */
#define IND_UNIT_IX(us, p) ((int)((p) - (us)->u))

/* True when anc is unit or one of its ancestors. */
bool ind_units_within(const ind_units *us, const char *unit, const char *anc);

/* The unit of code unit when the node of node_unit serves it (node_unit or
 * a unit below), else NULL with *e (indicator.unit: LT_ENOTFOUND when the
 * network has no such unit, LT_EFORBIDDEN when it is outside the node's
 * subtree, the message ending with hint: what to do instead). */
const ind_unit *ind_units_served(const ind_units *us, const char *unit, const char *node_unit,
                                 const char *hint, lt_error *e);

/* Calls fn for every unit of tier (NULL: every unit) in the subtree of
 * root (itself included), depth first. */
void ind_units_walk(const ind_units *us, const ind_unit *root, const char *tier,
                    void (*fn)(void *ctx, const ind_unit *u), void *ctx);

/* The number of units of tier in root's subtree. */
size_t ind_units_count(const ind_units *us, const ind_unit *root, const char *tier);

/* ---- the context ---- */

struct indicators {
    store *s;
    const node_config *c;
    uint64_t (*now)(void *ctx);
    void *now_ctx;
    ind_units units;
    uint8_t units_digest[STORE_DIGEST_BYTES]; /* of "units" when loaded */
    bool units_loaded;
    ind_live_source live[IND_LIVE_MAX];
    size_t nlive;
    /* definitions known before they arrive: the demo seeds values at nodes
     * the framework has not reached yet (code -> definition JSON) */
    json_t *known_defs;
    uv_mutex_t lock; /* recursive */
};

void ind_lock(indicators *d);
void ind_unlock(indicators *d);

/* The unit catalogue, reloaded when the "units" collection changed. */
const ind_units *ind_units_of(indicators *d);

/* ---- periods (ind_period.c) ---- */

typedef enum { PER_MONTH = 0, PER_QUARTER, PER_YEAR } ind_ptype;

/* The period type of its name ("month", "quarter", "year"), -1 when none. */
int ind_ptype_parse(const char *name);
const char *ind_ptype_name(ind_ptype t);

/* Parses a period of type t ("2026-11", "2026-Q4", "2026") into its
 * ordinal (months, quarters or years since year 0). False when it is not
 * one of that type. */
bool ind_period_parse(ind_ptype t, const char *p, int *ord);

/* The period name of ordinal ord of type t into out (IND_PERIOD_MAX). */
void ind_period_name(ind_ptype t, int ord, char out[IND_PERIOD_MAX]);

/* The start of period ord (ms, Vietnam time, UTC+7) and the start of the
 * next one. */
uint64_t ind_period_start_ms(ind_ptype t, int ord);
uint64_t ind_period_end_ms(ind_ptype t, int ord);

/* ---- definitions (ind_defs.c) ---- */

typedef enum { AGG_SUM = 0, AGG_AVERAGE, AGG_MIN, AGG_MAX, AGG_COUNT } ind_agg;
typedef enum { TAGG_SUM = 0, TAGG_AVERAGE, TAGG_LAST } ind_tagg;

typedef struct {
    char code[IND_CODE_MAX];
    ind_ptype ptype;
    ind_agg agg;
    ind_tagg tagg;
    char tiers[NODE_MAX_TIERS][NODE_CODE_MAX];
    size_t ntiers;
    char count_tier[NODE_CODE_MAX]; /* whose values count in roll-ups */
    int due_days, lock_days;
    bool computed;
    char num[IND_CODE_MAX], den[IND_CODE_MAX];
    double factor;
    int live; /* index into the context's live table, -1 for a stored one */
} ind_def;

/* True when code is a valid indicator code. */
bool ind_code_valid(const char *code);

/* Loads definition code (stored or operational) into *def. Returns 0, or
 * -1 with *e (404 when unknown). */
int ind_def_load(indicators *d, const char *code, ind_def *def, lt_error *e);

/* True when tier is one of def's reporting tiers. */
bool ind_def_reports(const ind_def *def, const char *tier);

/* ---- values (ind_values.c) ---- */

#define IND_ID_MAX (IND_CODE_MAX + NODE_CODE_MAX + IND_PERIOD_MAX)

/* One checked value, ready to be written. */
typedef struct {
    char id[IND_ID_MAX];
    char unit[NODE_CODE_MAX];
    uint8_t *body; /* packed fields; NULL when unchanged */
    size_t len;
    bool put; /* the first value of its id */
} ind_write;

/* What a run of checks shares, read once: the definitions met so far, the
 * unit catalogue and the time. Valid while the context's lock is held. */
#define IND_BATCH_DEFS 16
typedef struct {
    ind_def defs[IND_BATCH_DEFS];
    size_t ndefs;
    const ind_units *us;
    uint64_t now;
} ind_batch;

/* Starts a run of checks at the context's time. Call under the lock. */
void ind_batch_start(indicators *d, ind_batch *b);

/* Checks value of code/unit/period as who in batch b and packs its entry
 * into *w (unchanged: body NULL, the same value and comment are stored).
 * field (may be NULL) receives the name of the input at fault:
 * "indicator", "unit", "period", "value" or "comment". Call under the
 * lock. Returns 0, or -1 with *e. */
int ind_value_check(indicators *d, ind_batch *b, const char *code, const char *unit,
                    const char *period, double value, const char *comment, const ind_actor *who,
                    ind_write *w, const char **field, lt_error *e);

/* Writes the checked values that changed, in transactions of
 * IND_COMMIT_ROWS (a failing disk may leave the first ones written: a
 * rerun writes the rest). Returns 0, or -1 with *e. */
#define IND_COMMIT_ROWS 10000
int ind_value_commit(indicators *d, const ind_write *w, size_t n, lt_error *e);

/* Parses a number written with a decimal point or comma ("12.5", "12,5",
 * "1.234,5", "1,234.5"), as the CSV takes it; false when it is not one. */
bool ind_number_parse(const char *s, double *out);

/* Frees what ind_value_check packed. */
void ind_write_release(ind_write *w);

/* Ends a run of n checked writes w (malloc'd): when rc is 0 (they were
 * committed) counts each in *written or *unchanged; releases them and
 * frees w. */
void ind_writes_done(ind_write *w, size_t n, int rc, size_t *written, size_t *unchanged);

/* ---- the value index (ind_index.c) ---- */

/* One aggregate row of the index: what the values of one tier in one
 * unit's subtree for one period add up to, in micro-units. */
typedef struct {
    __int128 sum;
    int64_t min, max;
    uint32_t count, on_time;
    uint64_t zero; /* padding, kept 0 so equal rows are equal bytes */
} ind_agg_row;

#define IND_MICRO 1000000.0

/* Reads the rows of (code, tier, unit) for periods from..to (names, same
 * type) in one read transaction: fn gets each row held with its period.
 * Returns 0 or -1. */
int ind_index_rows(store *s, const char *code, const char *tier, const char *unit, const char *from,
                   const char *to,
                   void (*fn)(void *ctx, const char *period, const ind_agg_row *row), void *ctx);

#endif
