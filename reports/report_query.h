/*
 * report_query.h - list queries and statistics over field reports, read
 * from the indexes of report_index.h in one read transaction.
 *
 * A query names a unit subtree (a report belongs to every unit of its
 * area_path and owner_path) and optional filters; the answer is a page of
 * at most `limit` reports in the requested order and an opaque cursor for
 * the next page. Pages are stable: a report appears once across pages even
 * while new reports arrive (they sort before the cursor when newest first).
 */
#ifndef LT_REPORT_QUERY_H
#define LT_REPORT_QUERY_H

#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { REPORT_SORT_NEWEST, REPORT_SORT_OLDEST, REPORT_SORT_DEADLINE } report_sort;

/* A list query. NULL/0 fields do not filter. statuses: any of them.
 * from_ms/to_ms: created_ms in [from_ms, to_ms) (to_ms 0 = no end).
 * overdue: open with 0 < deadline_ms < now_ms. q: free text, every folded
 * token must occur in code, title, description or address.
 * REPORT_SORT_DEADLINE lists open reports with a deadline, earliest first.
 * cursor: "" or NULL for the first page, else a `next` of the previous
 * page of the same query. limit: 1..REPORT_QUERY_LIMIT_MAX.
 * assignee / created_by: user names; only the reports whose "assignee"
 * (set by the assign action) or "created_by" (the staff user who filed
 * it) is that user. */
typedef struct {
    const char *unit;
    const char *const *statuses;
    size_t nstatuses;
    const char *category;
    uint64_t from_ms, to_ms;
    bool overdue;
    uint64_t now_ms;
    const char *q;
    const char *assignee, *created_by;
    report_sort sort;
    const char *cursor;
    size_t limit;
    size_t steps; /* index reads allowed for the page; 0 = REPORT_QUERY_STEPS */
} report_query;

#define REPORT_CURSOR_MAX 128
#define REPORT_USER_MAX 65 /* a user name's bytes with the NUL */
#define REPORT_QUERY_LIMIT_MAX 1000
/* The most index reads one page does; a page that reaches it ends short,
 * with a cursor to go on from where it stopped. */
#define REPORT_QUERY_STEPS 25000

typedef int (*report_fn)(void *ctx, const char *id, size_t idlen, const uint8_t *rec,
                         size_t reclen);

/* Calls fn(ctx, id, idlen, rec, reclen) for each match in order: at most
 * limit, fewer when the page's REPORT_QUERY_STEPS ran out first. Bytes are
 * valid during the call only, all from one read snapshot; fn must not
 * write to the store; fn returning non-zero ends the page there. next
 * receives an opaque cursor to go on from, or "" when there are no more.
 * Returns 0, 1 for a bad query (err says what to fix; an unknown unit is
 * not an error, it matches nothing), -1 on a storage error. */
int report_query_run(store *s, const report_query *q, report_fn fn, void *ctx,
                     char next[REPORT_CURSOR_MAX], char *err, size_t errlen);

/* Open reports with 0 < deadline_ms < now_ms, oldest deadline first (the
 * escalation sweep). fn returning non-zero stops and is returned; -1 on a
 * storage error. */
int report_query_overdue(store *s, uint64_t now_ms, report_fn fn, void *ctx);

/* The report states (docs/reports.md) in a fixed order; index of a status
 * in report_stats.by_status. */
#define REPORT_NSTATUS 10
extern const char *const report_statuses[REPORT_NSTATUS];
/* The position of status in report_statuses, or -1 when unknown. */
int report_status_index(const char *status);
/* True for resolved, closed, rejected, duplicate. */
bool report_status_processed(const char *status);
/* True for any known status not in {resolved, closed, rejected, duplicate}. */
bool report_status_open(const char *status);

/* Resolve times are counted in buckets of growing width (about 10% each,
 * starting at one minute) for the 90th percentile. */
#define REPORT_HIST_BUCKETS 64
#define REPORT_STATS_CATEGORIES 64
#define REPORT_CATEGORY_MAX 32

/* Figures for a unit (alone or with its subtree) over created_ms in
 * [from_ms, to_ms). */
typedef struct {
    char unit[64];
    bool subtree;
    uint64_t from_ms, to_ms;
    uint64_t total;
    uint64_t by_status[REPORT_NSTATUS];
    size_t ncategories; /* sorted by code */
    struct {
        char code[REPORT_CATEGORY_MAX + 1];
        uint64_t count;
    } categories[REPORT_STATS_CATEGORIES];
    uint64_t processed;         /* resolved, closed, rejected, duplicate */
    uint64_t resolved;          /* with resolved_ms set */
    uint64_t resolved_deadline; /* of those, with a deadline */
    uint64_t resolved_on_time;  /* of those, resolved_ms <= deadline_ms */
    uint64_t resolve_ms_sum;    /* sum of resolved_ms - created_ms */
    uint64_t hist[REPORT_HIST_BUCKETS];
    uint64_t rated_satisfied, rated_acceptable, rated_unsatisfied;
} report_stats;

/* Sums the statistics counters of unit (subtree: the unit and everything
 * below it; else the reports it owns) for UTC+7 days overlapping
 * [from_ms, to_ms) (to_ms 0 = no end; days are the granularity). Returns
 * 0, 1 for a bad range (err), -1 on a storage error. */
int report_stats_get(store *s, const char *unit, bool subtree, uint64_t from_ms, uint64_t to_ms,
                     report_stats *out, char *err, size_t errlen);

/* As report_stats_get, counting only the reports of category (a category
 * code; NULL or "" = every category): every figure, by_category included,
 * is over that category alone. Returns 1 (err) for a category code longer
 * than REPORT_CATEGORY_MAX; an unknown code counts nothing. */
int report_stats_get_category(store *s, const char *unit, bool subtree, uint64_t from_ms,
                              uint64_t to_ms, const char *category, report_stats *out, char *err,
                              size_t errlen);

/* The figures as the JSON object of GET /api/v1/reports/stats
 * (docs/reports.md) without "children". New reference. */
json_t *report_stats_json(const report_stats *st);

/* Writes ms as a W3C datetime in Vietnam's zone,
 * "2026-11-23T16:20:00+07:00", into out (cap >= 26). */
void report_time_w3c(uint64_t ms, char *out, size_t cap);

/* Parses an ISO date "2026-11-23" (a day in UTC+7: its start, or when end
 * is true the start of the next day, so that an end date is included) or
 * datetime "2026-11-23T16:20[:00[.000]]" with "Z", "+07:00" or no zone
 * (UTC+7). Returns 0, or -1 when s is not such a time. */
int report_time_parse(const char *s, bool end, uint64_t *ms);

/* The upper bound in ms of histogram bucket b; report_stats_json uses it
 * for the percentile. */
uint64_t report_hist_upper_ms(unsigned b);
/* The bucket of a resolve time in ms. */
unsigned report_hist_bucket(uint64_t ms);

#endif
