/*
 * report_stats.c - statistics of field reports from the counters of
 * report_index.c (report_stats_get, report_stats_json in report_query.h).
 *
 * The counters are kept per (unit alone | subtree, UTC+7 day, category),
 * so the figures of a unit over a year are the sum of at most 366 ×
 * categories rows read in key order; the figures of one category read
 * the same rows and add only that category's (no record is read).
 */
#include "reports/report_index.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void category_add(report_stats *st, const char *code, size_t len, uint64_t n)
{
    if (len > REPORT_CATEGORY_MAX)
        return;
    size_t i = 0;
    for (; i < st->ncategories; i++) {
        int c = strncmp(st->categories[i].code, code, len);
        if (!c && st->categories[i].code[len] == '\0') {
            st->categories[i].count += n;
            return;
        }
        if (c > 0 || (!c && st->categories[i].code[len] != '\0'))
            break;
    }
    if (st->ncategories == REPORT_STATS_CATEGORIES)
        return;
    memmove(&st->categories[i + 1], &st->categories[i],
            (st->ncategories - i) * sizeof st->categories[0]);
    memcpy(st->categories[i].code, code, len);
    st->categories[i].code[len] = '\0';
    st->categories[i].count = n;
    st->ncategories++;
}

static void stats_add(report_stats *st, const uint64_t c[RC_COUNT], const char *cat, size_t clen)
{
    st->total += c[RC_TOTAL];
    for (unsigned i = 0; i < REPORT_NSTATUS; i++) {
        st->by_status[i] += c[RC_STATUS + i];
        if (report_status_processed(report_statuses[i]))
            st->processed += c[RC_STATUS + i];
    }
    st->resolved += c[RC_RESOLVED];
    st->resolved_deadline += c[RC_RES_DEADLINE];
    st->resolved_on_time += c[RC_ON_TIME];
    st->resolve_ms_sum += c[RC_RES_SUM];
    st->rated_satisfied += c[RC_SATISFIED];
    st->rated_acceptable += c[RC_ACCEPTABLE];
    st->rated_unsatisfied += c[RC_UNSATISFIED];
    for (unsigned i = 0; i < REPORT_HIST_BUCKETS; i++)
        st->hist[i] += c[RC_HIST + i];
    if (c[RC_TOTAL])
        category_add(st, cat, clen, c[RC_TOTAL]);
}

int report_stats_get(store *s, const char *unit, bool subtree, uint64_t from_ms, uint64_t to_ms,
                     report_stats *out, char *err, size_t errlen)
{
    return report_stats_get_category(s, unit, subtree, from_ms, to_ms, NULL, out, err, errlen);
}

/* True when the counters row of category cat (clen bytes) is counted for
 * category (NULL or "" = every category). */
static bool category_match(const char *category, const char *cat, size_t clen)
{
    return !category || !*category || (strlen(category) == clen && !memcmp(category, cat, clen));
}

int report_stats_get_category(store *s, const char *unit, bool subtree, uint64_t from_ms,
                              uint64_t to_ms, const char *category, report_stats *out, char *err,
                              size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t ulen = unit ? strlen(unit) : 0;
    if (category && strlen(category) > REPORT_CATEGORY_MAX) {
        snprintf(err, errlen,
                 "category \"%.40s\" is longer than %d characters: give a category code", category,
                 REPORT_CATEGORY_MAX);
        return 1;
    }
    if (!ulen || ulen >= REPORT_UNIT_MAX || ulen >= sizeof out->unit) {
        snprintf(err, errlen, "a unit code is required (at most %d characters)",
                 REPORT_UNIT_MAX - 1);
        return 1;
    }
    if (to_ms && to_ms <= from_ms) {
        snprintf(err, errlen, "the end of the date range must be after its start");
        return 1;
    }
    memcpy(out->unit, unit, ulen + 1);
    out->subtree = subtree;
    out->from_ms = from_ms;
    out->to_ms = to_ms;
    uint8_t key[1 + REPORT_UNIT_MAX + 4];
    key[0] = subtree ? 's' : 'u';
    memcpy(key + 1, unit, ulen + 1);
    size_t plen = ulen + 2;
    uint32_t first = report_day(from_ms), last = to_ms ? report_day(to_ms - 1) : UINT32_MAX;
    key[plen] = (uint8_t)(first >> 24);
    key[plen + 1] = (uint8_t)(first >> 16);
    key[plen + 2] = (uint8_t)(first >> 8);
    key[plen + 3] = (uint8_t)first;
    store_index_txn t;
    MDB_cursor *c = NULL;
    int rc = store_index_read(s, REPORT_COLL, &t);
    if (!rc && (rc = mdb_cursor_open(t.txn, report_dbs_of(&t).rstats, &c)))
        store_index_end(s, &t);
    if (rc) {
        snprintf(err, errlen, "cannot read the report statistics: %s", mdb_strerror(rc));
        return -1;
    }
    MDB_val k = {plen + 4, key}, v;
    uint64_t cnt[RC_COUNT];
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size < plen + 4 || memcmp(kb, key, plen))
            break;
        uint32_t day = (uint32_t)kb[plen] << 24 | (uint32_t)kb[plen + 1] << 16 |
                       (uint32_t)kb[plen + 2] << 8 | kb[plen + 3];
        if (day > last)
            break;
        const char *cat = (const char *)kb + plen + 4;
        size_t clen = k.mv_size - plen - 4;
        if (!category_match(category, cat, clen))
            continue;
        if ((rc = report_counters_decode(&v, cnt)))
            break;
        stats_add(out, cnt, cat, clen);
    }
    mdb_cursor_close(c);
    store_index_end(s, &t);
    if (rc && rc != MDB_NOTFOUND) {
        snprintf(err, errlen, "cannot read the report statistics: %s", mdb_strerror(rc));
        return -1;
    }
    return 0;
}

/* num/den rounded to 4 decimals, or null when den is 0. */
static json_t *share(uint64_t num, uint64_t den)
{
    return den ? json_real(round((double)num / (double)den * 10000.0) / 10000.0) : json_null();
}

static json_t *hours(double ms)
{
    return json_real(round(ms / 3600000.0 * 100.0) / 100.0);
}

/* The upper bound of the bucket holding the 90th percentile resolve time. */
static uint64_t p90_ms(const report_stats *st)
{
    uint64_t n = 0, want = (st->resolved * 9 + 9) / 10; /* ceil(0.9 × resolved) */
    for (unsigned b = 0; b < REPORT_HIST_BUCKETS; b++) {
        n += st->hist[b];
        if (n >= want)
            return report_hist_upper_ms(b);
    }
    return report_hist_upper_ms(REPORT_HIST_BUCKETS - 1);
}

json_t *report_stats_json(const report_stats *st)
{
    char from[40], to[40];
    report_time_w3c(st->from_ms, from, sizeof from);
    report_time_w3c(st->to_ms, to, sizeof to);
    json_t *by_status = json_object(), *by_cat = json_object();
    for (unsigned i = 0; i < REPORT_NSTATUS; i++)
        json_object_set_new(by_status, report_statuses[i],
                            json_integer((json_int_t)st->by_status[i]));
    for (size_t i = 0; i < st->ncategories; i++)
        json_object_set_new(by_cat, st->categories[i].code,
                            json_integer((json_int_t)st->categories[i].count));
    uint64_t rated = st->rated_satisfied + st->rated_acceptable + st->rated_unsatisfied;
    json_t *sat = json_pack(
        "{s:I, s:I, s:I, s:I, s:{s:o, s:o, s:o}}", "satisfied", (json_int_t)st->rated_satisfied,
        "acceptable", (json_int_t)st->rated_acceptable, "unsatisfied",
        (json_int_t)st->rated_unsatisfied, "rated", (json_int_t)rated, "shares", "satisfied",
        share(st->rated_satisfied, rated), "acceptable", share(st->rated_acceptable, rated),
        "unsatisfied", share(st->rated_unsatisfied, rated));
    return json_pack(
        "{s:s, s:s, s:s?, s:s?, s:I, s:o, s:o, s:I, s:o, s:I, s:o, s:o, s:o, s:o}", "unit",
        st->unit, "scope", st->subtree ? "subtree" : "unit", "from", st->from_ms ? from : NULL,
        "to", st->to_ms ? to : NULL, "total", (json_int_t)st->total, "by_status", by_status,
        "by_category", by_cat, "processed", (json_int_t)st->processed, "processed_share",
        share(st->processed, st->total), "resolved", (json_int_t)st->resolved, "on_time_share",
        share(st->resolved_on_time, st->resolved_deadline), "resolve_avg_hours",
        st->resolved ? hours((double)st->resolve_ms_sum / (double)st->resolved) : json_null(),
        "resolve_p90_hours", st->resolved ? hours((double)p90_ms(st)) : json_null(), "satisfaction",
        sat);
}
