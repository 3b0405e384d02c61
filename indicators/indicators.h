/*
 * indicators.h - indicators (chỉ tiêu, KPI): definitions issued by the top
 * tiers and replicated to every node, values entered once at the unit that
 * knows them, roll-ups and completeness at every tier (docs/indicators.md).
 *
 * A definition is a record of collection "indicators" (id: its code),
 * written by an admin of a top-tier node and addressed to every node ("*").
 * A value is a record of collection "ind_values", id "<code>/<unit>/<period>",
 * addressed to its unit (routing carries it up the tree), with the unit's
 * tier and path root..unit copied in, so the roll-up index
 * (ind_index.h) is a pure function of the record bytes.
 *
 * Every function that can fail fills an lt_error (lib/error.h): its kind
 * (LT_EINVAL bad input, LT_EFORBIDDEN role or tier, LT_ENOTFOUND unknown
 * indicator or unit, LT_ECONFLICT locked period awaiting a leader,
 * LT_ESTORAGE the store, LT_EUNAVAILABLE out of memory), its machine code
 * (the table in ind_internal.h, e.g. "indicator.unknown") and a message
 * saying what was wrong and what to do. Nothing is stored on error.
 *
 * Threads: a context may be used from the loop and the uv thread pool at
 * once; every public call holds its recursive lock.
 */
#ifndef LT_INDICATORS_H
#define LT_INDICATORS_H

#include "lib/error.h"
#include "node/env/config.h"
#include "node/people/accounts.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct indicators indicators;

/* The collections of the domain. */
#define INDICATOR_COLL "indicators" /* id: indicator code; top tiers only */
#define INDVALUE_COLL "ind_values"  /* id: code/unit/period */

#define IND_CODE_MAX 33      /* an indicator code and its NUL */
#define IND_PERIOD_MAX 8     /* "2026-11", "2026-Q4", "2026" and the NUL */
#define IND_VALUE_LIMIT 1e12 /* |value| at most this; 6 decimals kept */

/* The domain's collections that only the top tiers may write. */
const char *const *indicators_top_tier_collections(size_t *n);

/* A context over store s for the node of config c (both outlive it).
 * NULL when out of memory. */
indicators *indicators_new(store *s, const node_config *c);

/* Frees the context. NULL is ignored. */
void indicators_free(indicators *d);

/* Replaces the wall clock (ms since the epoch) used for timeliness and
 * locks; for tests. Call before sharing the context. */
void indicators_set_clock(indicators *d, uint64_t (*now_ms)(void *ctx), void *ctx);

/* Who acts. */
typedef struct {
    const char *user;
    const char *unit;
    account_role role;
} ind_actor;

/* ---- definitions ---- */

/* Writes definition code from JSON {name_vi, name_en, measure, period,
 * aggregation, time_aggregation, tiers, counts, due_days, lock_days,
 * numerator, denominator, factor, group, pinned} (admin of a top-tier
 * node). Returns 0, or -1 with *e. */
int indicators_define(indicators *d, const char *code, const json_t *in, const ind_actor *who,
                      lt_error *e);

/* The definition of code as JSON (with "code", "live" for operational
 * ones), or NULL (404 in *e). A stored one has "pins" ({unit: bool}, the
 * choices of the top tiers) and "pinned" as shown on unit's dashboard
 * (NULL: the node's unit): the choice of the nearest of unit and its
 * ancestors that made one, else the definition's "pinned". New reference. */
json_t *indicators_get(indicators *d, const char *code, const char *unit, lt_error *e);

/* Every definition (stored ones and operational ones), sorted by code,
 * "pinned" as shown on unit's dashboard (as indicators_get). */
json_t *indicators_list(indicators *d, const char *unit);

/* Pins (or unpins) indicator code on the dashboards of this node's unit
 * and every unit below it, as an admin of a top-tier node: the field
 * "pin/<node unit>" of the definition (a patch, addressed to every node).
 * A nearer unit's choice wins. Returns 0, or -1 with *e. */
int indicators_pin(indicators *d, const char *code, bool pinned, const ind_actor *who, lt_error *e);

/* ---- values ---- */

/* Enters value (and comment, may be NULL) of indicator code for unit and
 * period, as who (staff of unit, or of a unit above it: recorded as on
 * behalf). After the period's lock day only a leader (or above) may
 * change it, and the approval is recorded. Returns 0, or -1 with *e. */
int indicators_value_put(indicators *d, const char *code, const char *unit, const char *period,
                         double value, const char *comment, const ind_actor *who, lt_error *e);

/* The value record of code/unit/period with its "history" (oldest first),
 * or NULL with *e (404 when none). */
json_t *indicators_value_get(indicators *d, const char *code, const char *unit, const char *period,
                             lt_error *e);

/* ---- roll-up and completeness ---- */

typedef enum { IND_BY_PERIOD, IND_BY_CHILD, IND_BY_UNIT } ind_by;

/* Rows {unit, name, period, value (null when nothing), reported, expected,
 * on_time} of indicator code for unit over periods from..to (inclusive, in
 * the indicator's period type; NULL or "": to is the current period, from
 * eleven periods before it): per period (IND_BY_PERIOD), per child unit and
 * period (IND_BY_CHILD) or one row over the whole range aggregated across
 * time (IND_BY_UNIT, period "from..to"). Returns {"indicator", "unit",
 * "rows": [...]}, or NULL with *e. */
json_t *indicators_rollup(indicators *d, const char *code, const char *unit, const char *from,
                          const char *to, ind_by by, lt_error *e);

/* The completeness of indicator code for period (NULL or "": the last
 * period that has ended) at unit: {indicator,
 * unit, period, expected, received, on_time, received_rate, on_time_rate,
 * missing: [{unit, name}], children: [{unit, name, expected, received,
 * on_time}]}, or NULL with *e. */
json_t *indicators_completeness(indicators *d, const char *code, const char *unit,
                                const char *period, lt_error *e);

/* True when unit is this node's unit or below it. */
bool indicators_serves(indicators *d, const char *unit);

/* True when anc is unit or one of its ancestors (by the "units" records). */
bool indicators_within(indicators *d, const char *unit, const char *anc);

/* ---- CSV (ind_csv.c) ---- */

/* Imports CSV text (header indicator,unit,period,value,comment; UTF-8 with
 * or without BOM; ',' or ';'; decimal comma accepted) as who: every row is
 * checked first, and a bad row stores nothing and is named with its column
 * in *e. Each definition and the unit catalogue are read once per file;
 * the values are written in transactions of IND_COMMIT_ROWS (ind_internal.h).
 * On success *written and *unchanged count rows. */
int indicators_csv_import(indicators *d, const char *text, size_t len, const ind_actor *who,
                          size_t *written, size_t *unchanged, lt_error *e);

/* ---- `lienthong import --collection ind_values` (ind_import.c) ---- */

/* Checks one import line {"indicator", "unit", "period", "value",
 * "comment"[, "id" = indicator/unit/period]} as who, with the checks of a
 * CSV row (value a number, or text with a decimal point or comma): its
 * canonical fields into *fields (new reference) and its record id into id
 * (idcap bytes). Writes nothing. Returns 0, or -1 with *field (the field
 * at fault) and *e naming the record. */
int indicators_import_check(indicators *d, const ind_actor *who, const json_t *line,
                            json_t **fields, char *id, size_t idcap, const char **field,
                            lt_error *e);

/* Checks the n lines again (fields from indicators_import_check) and
 * writes the changed ones in one transaction; *written and *unchanged
 * count them. Returns 0, or -1 with *e (nothing written). */
int indicators_import_write(indicators *d, const ind_actor *who, json_t *const *fields, size_t n,
                            size_t *written, size_t *unchanged, lt_error *e);

/* The import line of a stored value record (record_to_json): id,
 * indicator, unit, period, value and comment, without the history. New
 * reference. */
json_t *indicators_export_line(const json_t *rec);

/* A CSV template for indicator code at unit and period: one row per unit
 * expected to report it below unit, value and comment filled when known.
 * malloc'd text, or NULL with *e. */
char *indicators_csv_template(indicators *d, const char *code, const char *unit, const char *period,
                              lt_error *e);

/* The rows array of a table (roll-up or completeness "missing") as CSV
 * with a header of the given columns. malloc'd. */
char *indicators_csv_table(const json_t *rows, const char *const *cols, size_t ncols);

/* ---- operational indicators (ind_live.c) ---- */

/* A figure computed live from the node's own data for unit's subtree over
 * [from_ms, to_ms): 0 with *value, 1 when there is nothing to compute
 * from (no data), -1 on error. */
typedef int (*ind_live_fn)(void *ctx, const char *unit, uint64_t from_ms, uint64_t to_ms,
                           double *value);

typedef struct {
    const char *code, *name_vi, *name_en, *measure;
    ind_live_fn fn;
    void *ctx;
} ind_live_source;

/* Registers an operational indicator (monthly; copied). Returns 0, or -1
 * when the table is full or the code is taken. */
int indicators_live_register(indicators *d, const ind_live_source *src);

#endif
