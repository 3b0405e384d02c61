/*
 * test_indicators.c - the indicators domain on real LMDB stores: random
 * four-tier trees and random values (late ones, corrections that move the
 * minimum and maximum, corrections after the lock day by a leader) rolled
 * up through the index, checked at every unit and period against a plain
 * reference computation over the entered values (sum, average, min, max,
 * count, a "self" indicator reported by districts and communes, a computed
 * ratio, time aggregation); completeness and its missing list; bad input
 * refused with its code and nothing stored; the index rebuilt by verify
 * equal to the one kept incrementally.
 */
#include "indicators/ind_internal.h" /* IND_COMMIT_ROWS */
#include "indicators/indicators.h"
#include "lib/mpjson.h"
#include "lib/splitmix.h"
#include "node/domains.h"
#include "storage/store.h"
#include "tests/check.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNITS_MAX 400
#define MONTHS 6
#define FIRST_MONTH "2025-07"
#define DAY 86400000ull
#define T_AUG_2025 1754010000000ull /* 2025-08-01T08:00:00+07:00 */

static char err[512];
static uint64_t clock_ms;

static uint64_t test_now(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

typedef struct {
    char code[16];
    int parent, tier; /* tier 0 national .. 3 commune */
} tunit;

static tunit units[UNITS_MAX];
static int nunits;

/* The reference: what was last entered per indicator, unit and month. */
enum { I_SUM, I_AVG, I_MIN, I_MAX, I_CNT, I_SELF, NIND };
static const char *const codes[NIND] = {"SUMX", "AVGX", "MINX", "MAXX", "CNTX", "SELFX"};
static double vals[NIND][UNITS_MAX][MONTHS];
static bool has[NIND][UNITS_MAX][MONTHS];

static int add_unit(store *s, const node_config *c, const char *code, int parent, int tier)
{
    static const char *const tiers[] = {"national", "province", "district", "commune"};
    int i = nunits++;
    snprintf(units[i].code, sizeof units[i].code, "%s", code);
    units[i].parent = parent;
    units[i].tier = tier;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "code", code, "name", code, "tier", tiers[tier],
                          "parent", parent >= 0 ? units[parent].code : "");
    uint8_t *body;
    size_t len;
    REQUIRE(mpjson_pack_object(j, &body, &len, err, sizeof err) == 0);
    json_decref(j);
    store_write w = {"units", code, ENTRY_OP_PUT, body, len, NULL, 0};
    store_author a = node_author(c);
    CHECKF(store_write_local(s, &a, &w, 1, NULL, err, sizeof err) == 0, "%s", err);
    free(body);
    return i;
}

static void make_tree(store *s, const node_config *c, uint64_t *rng)
{
    nunits = 0;
    int root = add_unit(s, c, "VN", -1, 0);
    char code[16];
    int np = 1 + (int)(splitmix_next(rng) % 2);
    for (int p = 0; p < np; p++) {
        snprintf(code, sizeof code, "P%d", p);
        int pi = add_unit(s, c, code, root, 1);
        int nd = 1 + (int)(splitmix_next(rng) % 3);
        for (int dd = 0; dd < nd; dd++) {
            snprintf(code, sizeof code, "P%dD%d", p, dd);
            int di = add_unit(s, c, code, pi, 2);
            int nc = 1 + (int)(splitmix_next(rng) % 5);
            for (int cc = 0; cc < nc; cc++) {
                snprintf(code, sizeof code, "P%dD%dC%d", p, dd, cc);
                add_unit(s, c, code, di, 3);
            }
        }
    }
}

static void define(indicators *d, const char *code, const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    REQUIRE(j);
    ind_actor admin = {"admin", "VN", ROLE_ADMIN};
    lt_error e = {0};
    CHECKF(indicators_define(d, code, j, &admin, &e) == 0, "%s: %s", code, e.message);
    json_decref(j);
}

static void month_name(int m, char out[8])
{
    int ord = 2025 * 12 + 6 + m;
    snprintf(out, 8, "%04d-%02d", ord / 12, ord % 12 + 1);
}

static bool within(int u, int anc)
{
    for (; u >= 0; u = units[u].parent)
        if (u == anc)
            return true;
    return false;
}

/* The reference figure of indicator k at unit u in month m: the values of
 * the counting tier (3 communes; 2 districts for SELFX) in u's subtree, or
 * u's own when u is below it. */
static bool ref_value(int k, int u, int m, double *out, int *reported, int *expected)
{
    int count_tier = k == I_SELF ? 2 : 3;
    int tier = units[u].tier > count_tier ? units[u].tier : count_tier;
    double sum = 0, mn = 0, mx = 0;
    int n = 0, exp = 0;
    for (int i = 0; i < nunits; i++) {
        if (units[i].tier != tier || !within(i, u))
            continue;
        exp++;
        if (!has[k][i][m])
            continue;
        double v = vals[k][i][m];
        if (!n || v < mn)
            mn = v;
        if (!n || v > mx)
            mx = v;
        sum += v;
        n++;
    }
    *reported = n;
    *expected = exp;
    if (!n)
        return false;
    *out = k == I_AVG ? sum / n : k == I_MIN ? mn : k == I_MAX ? mx : k == I_CNT ? n : sum;
    return true;
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-6 * (1 + fabs(b));
}

static void enter(indicators *d, int k, int u, int m, double v, account_role role)
{
    char period[8];
    month_name(m, period);
    ind_actor who = {"staff", "VN", role};
    lt_error e = {0};
    int rc = indicators_value_put(d, codes[k], units[u].code, period, v, "", &who, &e);
    CHECKF(rc == 0, "%s %s %s: %s", codes[k], units[u].code, period, e.message);
    if (!rc) {
        vals[k][u][m] = (double)llround(v * 1e6) / 1e6;
        has[k][u][m] = true;
    }
}

/* Random values: most communes (and districts for SELFX) report, some
 * late, some corrected (down to below the minimum, up above the maximum). */
static void fill_values(indicators *d, uint64_t *rng)
{
    memset(has, 0, sizeof has);
    for (int m = 0; m < MONTHS; m++) {
        for (int u = 0; u < nunits; u++) {
            for (int k = 0; k < NIND; k++) {
                bool reports = units[u].tier == 3 || (k == I_SELF && units[u].tier == 2);
                if (!reports || splitmix_next(rng) % 10 < 2)
                    continue;
                clock_ms = T_AUG_2025 + (uint64_t)m * 31 * DAY + splitmix_next(rng) % (20 * DAY);
                enter(d, k, u, m, (double)(splitmix_next(rng) % 100000) / 100.0 - 200, ROLE_STAFF);
            }
        }
    }
    /* corrections: extremes moved, some after the lock day by a leader */
    for (int i = 0; i < 60; i++) {
        int k = (int)(splitmix_next(rng) % NIND), u = (int)(splitmix_next(rng) % nunits);
        int m = (int)(splitmix_next(rng) % MONTHS);
        if (!has[k][u][m])
            continue;
        bool late = splitmix_next(rng) % 2;
        clock_ms = T_AUG_2025 + (uint64_t)(m + (late ? 3 : 0)) * 31 * DAY;
        double v = splitmix_next(rng) % 3 == 0   ? -1000 - i
                   : splitmix_next(rng) % 3 == 0 ? 5000 + i
                                                 : 1.5 * i;
        enter(d, k, u, m, v, late ? ROLE_LEADER : ROLE_STAFF);
    }
    clock_ms = T_AUG_2025 + 400 * DAY;
}

static void check_rollups(indicators *d)
{
    char from[8], to[8];
    month_name(0, from);
    month_name(MONTHS - 1, to);
    lt_error e = {0};
    for (int k = 0; k < NIND; k++) {
        for (int u = 0; u < nunits; u++) {
            json_t *j = indicators_rollup(d, codes[k], units[u].code, from, to, IND_BY_PERIOD, &e);
            CHECKF(j, "%s %s: %s", codes[k], units[u].code, e.message);
            json_t *rows = json_object_get(j, "rows");
            CHECK(json_array_size(rows) == MONTHS);
            for (int m = 0; m < MONTHS && m < (int)json_array_size(rows); m++) {
                json_t *row = json_array_get(rows, m);
                double ref = 0;
                int rep, exp;
                bool any = ref_value(k, u, m, &ref, &rep, &exp);
                json_t *v = json_object_get(row, "value");
                CHECKF(any ? json_is_number(v) && near(json_number_value(v), ref) : json_is_null(v),
                       "%s %s month %d: %g, expected %g", codes[k], units[u].code, m,
                       json_number_value(v), ref);
                CHECK(json_integer_value(json_object_get(row, "reported")) == rep);
                CHECK(json_integer_value(json_object_get(row, "expected")) == exp);
            }
            json_decref(j);
        }
    }
}

/* by=child at every unit equals the by=period figure of each child. */
static void check_children(indicators *d)
{
    char from[8], to[8];
    month_name(0, from);
    month_name(MONTHS - 1, to);
    lt_error e = {0};
    for (int u = 0; u < nunits; u++) {
        json_t *j = indicators_rollup(d, "SUMX", units[u].code, from, to, IND_BY_CHILD, &e);
        REQUIRE(j);
        size_t i;
        json_t *row;
        int nchild = 0;
        for (int c = 0; c < nunits; c++)
            nchild += units[c].parent == u;
        CHECK(json_array_size(json_object_get(j, "rows")) == (size_t)(nchild * MONTHS));
        json_array_foreach(json_object_get(j, "rows"), i, row)
        {
            int c = 0;
            while (c < nunits &&
                   strcmp(units[c].code, json_string_value(json_object_get(row, "unit"))))
                c++;
            REQUIRE(c < nunits);
            CHECK(units[c].parent == u);
            double ref = 0;
            int rep, exp;
            bool any = ref_value(I_SUM, c, (int)(i % MONTHS), &ref, &rep, &exp);
            json_t *v = json_object_get(row, "value");
            CHECK(any ? near(json_number_value(v), ref) : json_is_null(v));
        }
        json_decref(j);
    }
}

/* The computed ratio and the time aggregation at the root. */
static void check_ratio_and_time(indicators *d)
{
    char from[8], to[8];
    month_name(0, from);
    month_name(MONTHS - 1, to);
    lt_error e = {0};
    json_t *j = indicators_rollup(d, "RATIO", "VN", from, to, IND_BY_PERIOD, &e);
    CHECKF(j, "%s", e.message);
    for (int m = 0; j && m < MONTHS; m++) {
        double s = 0, c = 0;
        int rep, exp;
        bool a = ref_value(I_SUM, 0, m, &s, &rep, &exp), b = ref_value(I_CNT, 0, m, &c, &rep, &exp);
        json_t *v = json_object_get(json_array_get(json_object_get(j, "rows"), m), "value");
        CHECKF(a && b ? near(json_number_value(v), 100 * s / c) : json_is_null(v), "ratio %d", m);
    }
    json_decref(j);
    /* across time: SUMX sums, AVGX averages the monthly figures, RATIO divides the sums */
    double tsum = 0, tcnt = 0, tavg = 0;
    int navg = 0, rep, exp;
    for (int m = 0; m < MONTHS; m++) {
        double x;
        if (ref_value(I_SUM, 0, m, &x, &rep, &exp))
            tsum += x;
        if (ref_value(I_CNT, 0, m, &x, &rep, &exp))
            tcnt += x;
        if (ref_value(I_AVG, 0, m, &x, &rep, &exp))
            tavg += x, navg++;
    }
    const char *which[] = {"SUMX", "AVGX", "RATIO"};
    double want[] = {tsum, navg ? tavg / navg : 0, tcnt ? 100 * tsum / tcnt : 0};
    for (int i = 0; i < 3; i++) {
        j = indicators_rollup(d, which[i], "VN", from, to, IND_BY_UNIT, &e);
        json_t *row = json_array_get(json_object_get(j, "rows"), 0);
        CHECKF(json_array_size(json_object_get(j, "rows")) == 1 &&
                   near(json_number_value(json_object_get(row, "value")), want[i]),
               "%s over time: %g, expected %g", which[i],
               json_number_value(json_object_get(row, "value")), want[i]);
        json_decref(j);
    }
}

static void check_completeness(indicators *d)
{
    lt_error e = {0};
    for (int u = 0; u < nunits; u++) {
        for (int m = 0; m < MONTHS; m += 2) {
            char period[8];
            month_name(m, period);
            json_t *j = indicators_completeness(d, "MINX", units[u].code, period, &e);
            REQUIRE(j);
            double ref;
            int rep, exp;
            ref_value(I_MIN, u, m, &ref, &rep, &exp);
            CHECK(json_integer_value(json_object_get(j, "expected")) == exp);
            CHECK(json_integer_value(json_object_get(j, "received")) == rep);
            CHECKF(json_array_size(json_object_get(j, "missing")) == (size_t)(exp - rep),
                   "%s %s: %zu missing, expected %d", units[u].code, period,
                   json_array_size(json_object_get(j, "missing")), exp - rep);
            size_t i;
            json_t *miss;
            json_array_foreach(json_object_get(j, "missing"), i, miss)
            {
                int c = 0;
                while (c < nunits &&
                       strcmp(units[c].code, json_string_value(json_object_get(miss, "unit"))))
                    c++;
                CHECK(c < nunits && !has[I_MIN][c][m] && within(c, u));
            }
            json_decref(j);
        }
    }
}

static int count_rec(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    (void)id, (void)idlen, (void)rec, (void)len;
    (*(uint64_t *)ctx)++;
    return 0;
}

static uint64_t values_held(store *s)
{
    uint64_t n = 0;
    store_records(s, INDVALUE_COLL, count_rec, &n);
    return n;
}

/* Bad input: each refused with its status and code, nothing stored. */
static void check_refusals(indicators *d, store *s)
{
    uint64_t before = values_held(s);
    lt_error e = {0};
    ind_actor staff = {"s", "VN", ROLE_STAFF}, viewer = {"v", "VN", ROLE_VIEWER};
    const char *commune = NULL, *district = NULL, *other = NULL;
    for (int u = 0; u < nunits; u++) {
        if (units[u].tier == 3 && !commune)
            commune = units[u].code;
        if (units[u].tier == 2 && !district)
            district = units[u].code;
    }
    for (int u = 0; u < nunits; u++)
        if (units[u].tier == 3 && strcmp(units[u].code, commune) &&
            units[u].parent != units[0].parent)
            other = units[u].code;
    struct {
        const char *code, *unit, *period;
        double v;
        const ind_actor *who;
        int status;
        const char *mcode;
    } cases[] = {
        {"NOPE", commune, "2025-08", 1, &staff, 404, "indicator.unknown"},
        {"SUMX", commune, "2025-13", 1, &staff, 400, "indicator.period"},
        {"SUMX", commune, "2025-Q3", 1, &staff, 400, "indicator.period"},
        {"SUMX", commune, "2031-01", 1, &staff, 400, "indicator.period"},
        {"SUMX", commune, "2025-08", NAN, &staff, 400, "indicator.value"},
        {"SUMX", commune, "2025-08", 2e12, &staff, 400, "indicator.value"},
        {"SUMX", "XX", "2025-08", 1, &staff, 404, "indicator.unit"},
        {"SUMX", district, "2025-08", 1, &staff, 400, "indicator.tier"},
        {"SUMX", commune, "2025-08", 1, &viewer, 403, "indicator.forbidden"},
        {"RATIO", commune, "2025-08", 1, &staff, 400, "indicator.computed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&e, 0, sizeof e);
        int rc = indicators_value_put(d, cases[i].code, cases[i].unit, cases[i].period, cases[i].v,
                                      NULL, cases[i].who, &e);
        CHECKF(rc == -1 && lt_errkind_status(e.kind) == cases[i].status &&
                   !strcmp(e.code, cases[i].mcode),
               "case %zu: %d %s %s", i, lt_errkind_status(e.kind), e.code ? e.code : "-",
               e.message);
    }
    if (other) {
        ind_actor neighbour = {"n", other, ROLE_STAFF};
        CHECK(indicators_value_put(d, "SUMX", commune, "2025-08", 1, NULL, &neighbour, &e) == -1 &&
              lt_errkind_status(e.kind) == 403);
    }
    /* a correction after the lock day by staff: 409, the leader's is kept with approved_by */
    int u = 0;
    while (u < nunits && !has[I_SUM][u][1])
        u++;
    REQUIRE(u < nunits);
    clock_ms = T_AUG_2025 + 200 * DAY;
    CHECK(indicators_value_put(d, "SUMX", units[u].code, "2025-08", 7, NULL, &staff, &e) == -1 &&
          lt_errkind_status(e.kind) == 409 && !strcmp(e.code, "indicator.locked"));
    CHECK(values_held(s) == before);
    ind_actor leader = {"chief", "VN", ROLE_LEADER};
    CHECK(indicators_value_put(d, "SUMX", units[u].code, "2025-08", 7, "sửa sau khoá", &leader,
                               &e) == 0);
    json_t *v = indicators_value_get(d, "SUMX", units[u].code, "2025-08", &e);
    json_t *hist = json_object_get(v, "history");
    CHECK(json_array_size(hist) >= 2);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(hist, json_array_size(hist) - 1),
                                                    "approved_by"))
                      ?: "",
                  "chief"));
    CHECK(json_number_value(json_object_get(v, "value")) == 7);
    json_decref(v);
    vals[I_SUM][u][1] = 7;
}

/* CSV text of indicator BIGX: every unit for months first..last-1
 * (month ordinals), then the extra row (may be NULL). malloc'd. */
static char *big_csv(int first, int last, const char *extra, size_t *len)
{
    size_t cap = (size_t)(last - first) * (size_t)nunits * 48 + 256;
    char *csv = malloc(cap);
    REQUIRE(csv);
    *len = (size_t)snprintf(csv, cap, "\xEF\xBB\xBFindicator;unit;period;value;comment\r\n");
    for (int m = first; m < last; m++)
        for (int u = 0; u < nunits; u++)
            *len += (size_t)snprintf(csv + *len, cap - *len, "BIGX;%s;%04d-%02d;%d,5;\r\n",
                                     units[u].code, m / 12, m % 12 + 1, u + m % 7);
    if (extra)
        *len += (size_t)snprintf(csv + *len, cap - *len, "%s\r\n", extra);
    return csv;
}

/* A CSV import larger than one write transaction (IND_COMMIT_ROWS): a bad
 * last row stores nothing and is named; of a bad second and last row the
 * first is named; the good file stores every row and
 * the roll-ups see them; a rerun writes nothing. */
static void check_csv_chunks(indicators *d, store *s)
{
    define(d, "BIGX",
           "{\"name_vi\":\"Lớn\",\"period\":\"month\",\"tiers\":[\"national\","
           "\"province\",\"district\",\"commune\"]}");
    int last = 2025 * 12 + 6, months = (IND_COMMIT_ROWS + 500) / nunits + 1;
    if (months > 1400)
        months = 1400;
    int first = last - months;
    size_t rows = (size_t)months * (size_t)nunits, len, written, unchanged;
    REQUIRE(rows > IND_COMMIT_ROWS);
    uint64_t before = values_held(s);
    ind_actor staff = {"s", "VN", ROLE_STAFF};
    lt_error e = {0};
    char expect[64];
    const char *bad[][2] = {{"BIGX;VN;2025-06;abc;", "column value"},
                            {"BIGX;NOWHERE;2025-06;1;", "column unit"},
                            {"BIGX;VN;2025-6;1;", "column period"}};
    for (size_t i = 0; i < 3; i++) {
        char *csv = big_csv(first, last, bad[i][0], &len);
        snprintf(expect, sizeof expect, "row %zu, %s", rows + 2, bad[i][1]);
        CHECKF(indicators_csv_import(d, csv, len, &staff, &written, &unchanged, &e) == -1 &&
                   !strcmp(e.code, "indicator.csv") == (i == 0) && strstr(e.message, expect),
               "bad row %zu: %s %s", i, e.code, e.message);
        CHECK(values_held(s) == before);
        free(csv);
    }
    /* bad rows at both ends: the first is named */
    char *tail = big_csv(first, last, "BIGX;VN;2025-06;1,2,3;", &len);
    char *nl = strchr(tail, '\n');
    REQUIRE(nl);
    size_t head = (size_t)(nl + 1 - tail);
    char *two = malloc(len + 64);
    REQUIRE(two);
    int twolen =
        snprintf(two, len + 64, "%.*sBIGX;VN;2025-06;zz;\r\n%s", (int)head, tail, tail + head);
    CHECKF(indicators_csv_import(d, two, (size_t)twolen, &staff, &written, &unchanged, &e) == -1 &&
               strstr(e.message, "row 2, column value"),
           "two bad rows: %s", e.message);
    CHECK(values_held(s) == before);
    free(two);
    free(tail);
    char *csv = big_csv(first, last, NULL, &len);
    CHECKF(indicators_csv_import(d, csv, len, &staff, &written, &unchanged, &e) == 0, "%s",
           e.message);
    CHECKF(written == rows && unchanged == 0, "%zu written of %zu", written, rows);
    CHECK(values_held(s) == before + rows);
    /* the roll-up at the root of the first and last months: the communes' values */
    char from[8], to[8];
    snprintf(from, sizeof from, "%04d-%02d", first / 12, first % 12 + 1);
    snprintf(to, sizeof to, "%04d-%02d", (last - 1) / 12, (last - 1) % 12 + 1);
    json_t *j = indicators_rollup(d, "BIGX", "VN", from, to, IND_BY_PERIOD, &e);
    CHECKF(j && json_array_size(json_object_get(j, "rows")) == (size_t)months, "%s", e.message);
    for (int k = 0; j && k < 2; k++) {
        int m = k ? last - 1 : first;
        double want = 0;
        for (int u = 0; u < nunits; u++)
            want += units[u].tier == 3 ? u + m % 7 + 0.5 : 0;
        json_t *row = json_array_get(json_object_get(j, "rows"), k ? (size_t)months - 1 : 0);
        CHECKF(near(json_number_value(json_object_get(row, "value")), want),
               "month %d: %g, want %g", m, json_number_value(json_object_get(row, "value")), want);
    }
    json_decref(j);
    CHECK(indicators_csv_import(d, csv, len, &staff, &written, &unchanged, &e) == 0 &&
          written == 0 && unchanged == rows);
    CHECK(values_held(s) == before + rows);
    free(csv);
}

/* "pinned" of code in the list as unit's dashboard shows it. */
static bool pinned_at(indicators *d, const char *code, const char *unit)
{
    json_t *list = indicators_list(d, unit), *j;
    size_t i;
    bool yes = false, found = false;
    json_array_foreach(list, i, j) if (!strcmp(json_string_value(json_object_get(j, "code")), code))
    {
        yes = json_is_true(json_object_get(j, "pinned"));
        found = true;
    }
    json_decref(list);
    CHECKF(found, "%s is not listed", code);
    return yes;
}

/* Pins: the national admin pins for everyone, a province admin unpins for
 * its subtree (the nearer choice wins), a commune admin may not pin, and
 * redefining the indicator keeps the choices. */
static void check_pins(indicators *d, store *s, const node_config *c)
{
    define(d, "PINX", "{\"name_vi\":\"Ghim\",\"period\":\"month\",\"tiers\":[\"commune\"]}");
    int prov = 1, comm = -1, other = -1;
    for (int u = 0; u < nunits; u++) {
        if (units[u].tier == 3 && comm < 0 && within(u, prov))
            comm = u;
        if (units[u].tier == 1 && u != prov)
            other = u;
    }
    REQUIRE(comm >= 0);
    CHECK(!pinned_at(d, "PINX", units[comm].code));
    ind_actor nat = {"admin", "VN", ROLE_ADMIN};
    lt_error e = {0};
    CHECKF(indicators_pin(d, "PINX", true, &nat, &e) == 0, "%s", e.message);
    CHECK(pinned_at(d, "PINX", "VN") && pinned_at(d, "PINX", units[comm].code));
    node_config pc = *c;
    snprintf(pc.unit, sizeof pc.unit, "%s", units[prov].code);
    snprintf(pc.tier, sizeof pc.tier, "province");
    indicators *dp = indicators_new(s, &pc);
    ind_actor padmin = {"pa", pc.unit, ROLE_ADMIN}, pstaff = {"ps", pc.unit, ROLE_STAFF};
    CHECK(indicators_pin(dp, "PINX", false, &pstaff, &e) == -1 &&
          lt_errkind_status(e.kind) == 403 && !strcmp(e.code, "indicator.forbidden"));
    CHECK(indicators_pin(dp, "NOPE", false, &padmin, &e) == -1 && lt_errkind_status(e.kind) == 404);
    CHECKF(indicators_pin(dp, "PINX", false, &padmin, &e) == 0, "%s", e.message);
    CHECK(!pinned_at(d, "PINX", units[comm].code) && !pinned_at(d, "PINX", units[prov].code));
    CHECK(pinned_at(d, "PINX", "VN"));
    if (other >= 0)
        CHECK(pinned_at(d, "PINX", units[other].code));
    json_t *j = indicators_get(d, "PINX", units[comm].code, &e);
    CHECK(j && json_is_false(json_object_get(json_object_get(j, "pins"), units[prov].code)) &&
          json_is_true(json_object_get(json_object_get(j, "pins"), "VN")));
    json_decref(j);
    define(d, "PINX", "{\"name_vi\":\"Ghim 2\",\"period\":\"month\",\"tiers\":[\"commune\"]}");
    CHECK(!pinned_at(d, "PINX", units[comm].code) && pinned_at(d, "PINX", "VN"));
    indicators_free(dp);
    node_config cc = *c;
    snprintf(cc.unit, sizeof cc.unit, "%s", units[comm].code);
    snprintf(cc.tier, sizeof cc.tier, "commune");
    indicators *dc = indicators_new(s, &cc);
    ind_actor cadmin = {"ca", cc.unit, ROLE_ADMIN};
    CHECK(indicators_pin(dc, "PINX", true, &cadmin, &e) == -1 && lt_errkind_status(e.kind) == 403);
    CHECK(!pinned_at(d, "PINX", units[comm].code));
    indicators_free(dc);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    domains_install();
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    snprintf(c.unit, sizeof c.unit, "VN");
    snprintf(c.tier, sizeof c.tier, "national");
    crypto_sign_keypair(c.pk, c.sk);
    store *s = NULL;
    store_options o = {0};
    domains_store_options(&o);
    const char *dir = check_tmpdir();
    CHECKF(store_open(&s, dir, &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s);
    uint64_t rng = 20261114;
    make_tree(s, &c, &rng);
    indicators *d = indicators_new(s, &c);
    indicators_set_clock(d, test_now, NULL);
    clock_ms = T_AUG_2025;
    define(d, "SUMX",
           "{\"name_vi\":\"Tổng\",\"period\":\"month\",\"aggregation\":\"sum\",\"tiers\":["
           "\"commune\"]}");
    define(d, "AVGX",
           "{\"name_vi\":\"TB\",\"period\":\"month\",\"aggregation\":\"average\",\"tiers\":["
           "\"commune\"]}");
    define(d, "MINX",
           "{\"name_vi\":\"Min\",\"period\":\"month\",\"aggregation\":\"min\",\"tiers\":["
           "\"commune\"]}");
    define(d, "MAXX",
           "{\"name_vi\":\"Max\",\"period\":\"month\",\"aggregation\":\"max\",\"tiers\":["
           "\"commune\"]}");
    define(d, "CNTX",
           "{\"name_vi\":\"Đếm\",\"period\":\"month\",\"aggregation\":\"count\",\"tiers\":["
           "\"commune\"]}");
    define(d, "SELFX",
           "{\"name_vi\":\"Tự\",\"period\":\"month\",\"tiers\":[\"district\",\"commune\"],"
           "\"counts\":\"self\"}");
    define(d, "RATIO",
           "{\"name_vi\":\"Tỉ "
           "lệ\",\"period\":\"month\",\"numerator\":\"SUMX\",\"denominator\":\"CNTX\",\"factor\":"
           "100}");
    fill_values(d, &rng);
    check_rollups(d);
    check_children(d);
    check_ratio_and_time(d);
    check_completeness(d);
    check_refusals(d, s);
    check_csv_chunks(d, s);
    check_pins(d, s, &c);
    /* an admin of a commune node may not define indicators */
    node_config cc = c;
    snprintf(cc.unit, sizeof cc.unit, "%s", units[nunits - 1].code);
    snprintf(cc.tier, sizeof cc.tier, "commune");
    indicators *dc = indicators_new(s, &cc);
    ind_actor cadmin = {"a", cc.unit, ROLE_ADMIN};
    lt_error e = {0};
    json_t *def =
        json_pack("{s:s, s:s, s:[s]}", "name_vi", "x", "period", "month", "tiers", "commune");
    CHECK(indicators_define(dc, "CX", def, &cadmin, &e) == -1 && lt_errkind_status(e.kind) == 403 &&
          !strcmp(e.code, "indicator.forbidden"));
    CHECK(indicators_get(d, "CX", NULL, &e) == NULL && lt_errkind_status(e.kind) == 404);
    json_decref(def);
    indicators_free(dc);
    check_rollups(d);
    long problems = store_verify(s, check_tmpdir(), NULL, NULL, err, sizeof err);
    CHECKF(problems == 0, "verify: %ld problems (%s)", problems, err);
    indicators_free(d);
    store_close(s);
    return check_done();
}
