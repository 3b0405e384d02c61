/*
 * bench_indicators.c - the indicators domain at the scale of a country's
 * communes (docs/performance.md): a province of 30 districts and 3,321
 * communes, one monthly indicator with 120 months of values at every
 * commune (398,520 values, written through ind_value_commit, as the API
 * does), then on the warm store
 *   - the roll-up of the indicator at the province over 120 months
 *     (target under 50 ms),
 *   - the completeness of one period over the 3,321 communes, with the
 *     missing list (target under 20 ms),
 *   - a CSV import of 100,000 values of another indicator through the
 *     same path as POST /api/v1/indicators/values.csv (target under 5 s),
 *     with its rate, its share of the target and, measured in the same
 *     run, the time one core takes to sign as many entries of that size
 *     (the entries of one node are signed one after another: each names
 *     the hash, signature included, of the one before).
 */
#include "indicators/ind_internal.h"
#include "lib/mpjson.h"
#include "node/domains.h"
#include "storage/hlc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DISTRICTS 30
#define COMMUNES 3321
#define MONTHS 120

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process (user and system). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int missed; /* targets missed: the exit status */

/* Prints whether a figure met its target; counts a miss. */
static const char *verdict(double got, double target)
{
    if (got < target)
        return "met";
    missed++;
    return "NOT MET";
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_indicators: %s: %s\n", what, msg);
    exit(1);
}

static void put_unit(store *s, const node_config *c, const char *code, const char *tier,
                     const char *parent, store_write *w, uint8_t **bodies, size_t *n)
{
    char err[256];
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "code", code, "name", code, "tier", tier,
                          "parent", parent);
    size_t len;
    if (mpjson_pack_object(j, &bodies[*n], &len, err, sizeof err))
        die("unit", err);
    json_decref(j);
    w[*n] = (store_write){"units", strdup(code), ENTRY_OP_PUT, bodies[*n], len, NULL, 0};
    (*n)++;
    (void)s, (void)c;
}

static void make_units(store *s, const node_config *c)
{
    size_t cap = 2 + DISTRICTS + COMMUNES, n = 0;
    store_write *w = calloc(cap, sizeof *w);
    uint8_t **bodies = calloc(cap, sizeof *bodies);
    char code[32], parent[32];
    put_unit(s, c, "VN", "national", "", w, bodies, &n);
    put_unit(s, c, "P", "province", "VN", w, bodies, &n);
    for (int i = 0; i < COMMUNES; i++) {
        snprintf(parent, sizeof parent, "D%02d", i % DISTRICTS);
        if (i < DISTRICTS)
            put_unit(s, c, parent, "district", "P", w, bodies, &n);
        snprintf(code, sizeof code, "C%04d", i);
        put_unit(s, c, code, "commune", parent, w, bodies, &n);
    }
    char err[256];
    store_author a = node_author(c);
    if (store_write_local(s, &a, w, n, NULL, err, sizeof err))
        die("units", err);
    for (size_t i = 0; i < n; i++)
        free((void *)w[i].id), free(bodies[i]);
    free(w);
    free(bodies);
}

static uint64_t clock_ms;
static uint64_t bench_clock(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

static void define(indicators *d, const char *code)
{
    ind_actor admin = {"bench", "VN", ROLE_ADMIN};
    lt_error e;
    json_t *j = json_pack("{s:s, s:s, s:[s], s:i, s:i}", "name_vi", code, "period", "month",
                          "tiers", "commune", "due_days", 10, "lock_days", 3660);
    if (indicators_define(d, code, j, &admin, &e))
        die("define", e.message);
    json_decref(j);
}

/* 120 months of values at every commune, one transaction per month. */
static double fill(indicators *d)
{
    ind_actor who = {"bench", "VN", ROLE_STAFF};
    ind_write *w = calloc(COMMUNES, sizeof *w);
    lt_error e;
    double t0 = now_s();
    for (int m = 0; m < MONTHS; m++) {
        char period[IND_PERIOD_MAX], unit[16];
        ind_period_name(PER_MONTH, 2016 * 12 + m, period);
        ind_batch b;
        ind_batch_start(d, &b);
        for (int i = 0; i < COMMUNES; i++) {
            snprintf(unit, sizeof unit, "C%04d", i);
            if (ind_value_check(d, &b, "POOR", unit, period, (double)(i % 500) + m * 0.5, NULL,
                                &who, &w[i], NULL, &e))
                die("value", e.message);
        }
        if (ind_value_commit(d, w, COMMUNES, &e))
            die("commit", e.message);
        for (int i = 0; i < COMMUNES; i++)
            ind_write_release(&w[i]);
    }
    free(w);
    return now_s() - t0;
}

static int entry_len(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
    (void)seq, (void)bytes;
    *(size_t *)ctx = len;
    return 1;
}

/* The size of the last entry this node signed (a value of the import). */
static size_t last_entry_bytes(store *s, const node_config *c)
{
    store_origin o;
    size_t len = 0;
    if (store_origin_get(s, c->pk, &o) || !o.max_seq ||
        store_scan_origin(s, c->pk, o.max_seq - 1, o.max_seq, entry_len, &len) < 0 || !len)
        die("entry", "cannot read the last entry");
    return len;
}

/* Seconds one core takes to sign n messages of len bytes: the floor of a
 * store that signs one entry per value on one thread. */
static double sign_limit(int n, size_t len)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES], *msg = calloc(1, len);
    crypto_sign_keypair(pk, sk);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        memcpy(msg, &i, sizeof i);
        crypto_sign_detached(sig, NULL, msg, len, sk);
    }
    double t = now_s() - t0;
    free(msg);
    return t;
}

static double best_of(int runs, json_t *(*fn)(indicators *), indicators *d, json_t **last)
{
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        json_t *j = fn(d);
        double t = now_s() - t0;
        if (!j)
            die("query", "failed");
        if (t < best)
            best = t;
        json_decref(*last);
        *last = j;
    }
    return best;
}

static json_t *q_rollup(indicators *d)
{
    lt_error e;
    return indicators_rollup(d, "POOR", "P", "2016-01", "2025-12", IND_BY_PERIOD, &e);
}

static json_t *q_completeness(indicators *d)
{
    lt_error e;
    return indicators_completeness(d, "POOR", "P", "2025-06", &e);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    domains_install();
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    snprintf(c.unit, sizeof c.unit, "VN");
    snprintf(c.tier, sizeof c.tier, "national");
    crypto_sign_keypair(c.pk, c.sk);
    char dir[] = "/tmp/bench-ind-XXXXXX", err[256];
    if (!mkdtemp(dir))
        die("mkdtemp", "failed");
    store *s;
    store_options o = {0};
    domains_store_options(&o);
    if (store_open(&s, dir, &o, err, sizeof err))
        die("open", err);
    make_units(s, &c);
    indicators *d = indicators_new(s, &c);
    clock_ms = 1798736400000ull; /* 2027-01-01 */
    indicators_set_clock(d, bench_clock, NULL);
    define(d, "POOR");
    define(d, "BUDGET");
    double tfill = fill(d);
    printf("indicators: %d values written in %.1f s (%.0f values/s, signed and indexed)\n",
           COMMUNES * MONTHS, tfill, COMMUNES * MONTHS / tfill);
    json_t *last = NULL;
    double tr = best_of(20, q_rollup, d, &last);
    printf("indicators: roll-up of 1 indicator, %d communes x %d months at the province: "
           "%.2f ms (target < 50 ms: %s), %zu rows\n",
           COMMUNES, MONTHS, tr * 1e3, verdict(tr, 0.050),
           json_array_size(json_object_get(last, "rows")));
    double tc = best_of(20, q_completeness, d, &last);
    printf("indicators: completeness of 1 period over %d communes: %.2f ms (target < 20 ms: %s), "
           "expected %lld\n",
           COMMUNES, tc * 1e3, verdict(tc, 0.020),
           (long long)json_integer_value(json_object_get(last, "expected")));
    json_decref(last);
    /* 100,000 CSV rows of BUDGET */
    size_t cap = 100000 * 48 + 64, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv + len, cap - len, "indicator;unit;period;value;comment\n");
    for (int k = 0; k < 100000; k++) {
        char period[IND_PERIOD_MAX];
        ind_period_name(PER_MONTH, 2016 * 12 + k / COMMUNES, period);
        len += (size_t)snprintf(csv + len, cap - len, "BUDGET;C%04d;%s;%d,25;\n", k % COMMUNES,
                                period, k % 9000);
    }
    ind_actor who = {"bench", "VN", ROLE_STAFF};
    lt_error e;
    size_t written, unchanged;
    double t0 = now_s(), c0 = cpu_s();
    if (indicators_csv_import(d, csv, len, &who, &written, &unchanged, &e))
        die("import", e.message);
    double ti = now_s() - t0, ci = cpu_s() - c0;
    printf("indicators: CSV import of %zu values: %.2f s, %.2f s of CPU, %.0f values/s "
           "(target < 5 s: %s, %.2f of the target)\n",
           written, ti, ci, written / ti, verdict(ti, 5.0), ti / 5.0);
    if (written != 100000)
        die("import", "not every row was written");
    size_t eb = last_entry_bytes(s, &c);
    double ts = sign_limit(100000, eb);
    printf("indicators: the limit of one core signing %d entries of %zu bytes (Ed25519, this "
           "run): %.2f s, %.0f entries/s; the import takes %.2f times as long\n",
           100000, eb, ts, 100000 / ts, ti / ts);
    t0 = now_s();
    if (indicators_csv_import(d, csv, len, &who, &written, &unchanged, &e))
        die("rerun", e.message);
    printf("indicators: the same file again: %zu written, %zu unchanged in %.2f s\n", written,
           unchanged, now_s() - t0);
    if (written)
        die("rerun", "a rerun of the same file wrote values");
    free(csv);
    indicators_free(d);
    store_close(s);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (missed)
        fprintf(stderr, "bench_indicators: %d target(s) not met\n", missed);
    return system(cmd) == 0 && !missed ? 0 : 1;
}
