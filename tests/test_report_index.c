/*
 * test_report_index.c - the field-report indexes, list queries and
 * statistics (reports/report_index.c, report_query.c, report_stats.c,
 * fold.c) on real LMDB stores in temp dirs: folding, list filters, scope
 * of a subtree, sort orders, stable cursor pages, text search with
 * folding both ways, the overdue walk, index upkeep as reports change,
 * exact statistics on a known set, equal index bytes on stores fed the
 * same entries in different orders, and verify finding no problem.
 */
#include "lib/fold.h"
#include "lib/mpjson.h"
#include "node/domains.h"
#include "reports/report_index.h"
#include "reports/report_query.h"
#include "reports/report_summary.h"
#include "storage/store.h"
#include "storage/store_internal.h"
#include "tests/check.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600000ull
#define DAY (24 * HOUR)
#define T0 1767200400000ull /* 2026-01-01T00:00:00+07:00 */

static char err[512];

typedef struct {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    const char *unit;
} author;

static store *open_dir(const char *dir)
{
    store *s = NULL;
    store_options o = {0};
    domains_store_options(&o);
    CHECKF(store_open(&s, dir, &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    return s;
}

static store *open_store(void)
{
    return open_dir(check_tmpdir());
}

static void write_json(store *s, const author *a, const char *id, entry_op op, json_t *j)
{
    uint8_t *body = NULL;
    size_t blen = 0;
    REQUIRE(mpjson_pack_object(j, &body, &blen, err, sizeof err) == 0);
    json_decref(j);
    store_author sa = {a->pk, a->sk, a->unit};
    store_write w = {"reports", id, op, body, blen, NULL, 0};
    CHECKF(store_write_local(s, &sa, &w, 1, NULL, err, sizeof err) == 0, "%s: %s", id, err);
    free(body);
}

/* A report in commune `commune` of district `district` of province P. */
static void put_report(store *s, const author *a, const char *id, const char *district,
                       const char *commune, const char *title, const char *category,
                       const char *status, uint64_t created, uint64_t deadline)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s,s,s], s:s, s:[s,s,s], s:I, s:I, s:f, "
                          "s:f, s:s, s:s}",
                          "code", id, "title", title, "description", "Người dân phản ánh",
                          "category", category, "area_unit", commune, "area_path", "P", district,
                          commune, "owner_unit", commune, "owner_path", "P", district, commune,
                          "created_ms", (json_int_t)created, "deadline_ms", (json_int_t)deadline,
                          "lat", 21.0, "lon", 105.8, "status", status, "channel", "web");
    write_json(s, a, id, ENTRY_OP_PUT, j);
}

typedef struct {
    char ids[200][32];
    size_t n;
} idlist;

static int collect(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    idlist *l = ctx;
    if (l->n < 200)
        snprintf(l->ids[l->n++], 32, "%.*s", (int)idlen, id);
    return 0;
}

static size_t list(store *s, const report_query *q, idlist *l, char *next)
{
    l->n = 0;
    int rc = report_query_run(s, q, collect, l, next, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    return l->n;
}

static bool has(const idlist *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->ids[i], id))
            return true;
    return false;
}

static void test_fold(void)
{
    char out[128];
    const char *in = "Đường ngập nước, ĐƯỜNG Lê Lợi!";
    fold_text(in, strlen(in), out, sizeof out);
    CHECKF(!strcmp(out, "duong ngap nuoc duong le loi"), "%s", out);
    fold_text("Đ", strlen("Đ"), out, sizeof out);
    CHECK(!strcmp(out, "d"));
    fold_text("a\xff"
              "b 2026-17",
              11, out, sizeof out);
    CHECKF(!strcmp(out, "a b 2026 17"), "%s", out);
    CHECK(fold_text("xin chào thế giới", 18, out, 9) == 8 && !strcmp(out, "xin chao"));
}

static void test_times(void)
{
    uint64_t ms;
    char w3c[40];
    CHECK(report_time_parse("2026-01-01", false, &ms) == 0 && ms == T0);
    CHECK(report_time_parse("2026-01-01", true, &ms) == 0 && ms == T0 + DAY);
    CHECK(report_time_parse("2026-01-01T05:00", false, &ms) == 0 && ms == T0 + 5 * HOUR);
    CHECK(report_time_parse("2025-12-31T17:00:00Z", false, &ms) == 0 && ms == T0);
    CHECK(report_time_parse("2026-01-01T00:00:00.250+07:00", false, &ms) == 0 && ms == T0 + 250);
    CHECK(report_time_parse("2026-02-31", false, &ms) == -1);
    CHECK(report_time_parse("2026-1-1", false, &ms) == -1);
    CHECK(report_time_parse("2026-01-01T25:00", false, &ms) == -1);
    CHECK(report_time_parse("yesterday", false, &ms) == -1);
    report_time_w3c(T0 + 16 * HOUR + 20 * 60000, w3c, sizeof w3c);
    CHECK(!strcmp(w3c, "2026-01-01T16:20:00+07:00"));
}

static const char *const communes[3][2] = {{"D1", "C11"}, {"D1", "C12"}, {"D2", "C21"}};
static const char *const cats[3] = {"traffic", "environment", "construction"};
static const char *const stats[4] = {"new", "received", "in_progress", "resolved"};

/* 30 reports, one an hour from T0: i in commune i%3, category i%3 (shifted), status i%4. */
static void fill(store *s, const author *a)
{
    for (int i = 0; i < 30; i++) {
        char id[16], title[64];
        snprintf(id, sizeof id, "C-%d", i);
        snprintf(title, sizeof title, i % 5 ? "Rác thải số %d" : "Đường ngập nước số %d", i);
        put_report(s, a, id, communes[i % 3][0], communes[i % 3][1], title, cats[(i / 3) % 3],
                   stats[i % 4], T0 + (uint64_t)i * HOUR, T0 + (uint64_t)(i + 5) * HOUR);
    }
}

static void test_lists(store *s)
{
    idlist l;
    char next[REPORT_CURSOR_MAX];
    report_query q = {.unit = "P", .limit = 100};
    CHECK(list(s, &q, &l, next) == 30 && !next[0]);
    CHECK(!strcmp(l.ids[0], "C-29") && !strcmp(l.ids[29], "C-0"));
    q.sort = REPORT_SORT_OLDEST;
    CHECK(list(s, &q, &l, next) == 30 && !strcmp(l.ids[0], "C-0"));
    /* subtree scope */
    q = (report_query){.unit = "D1", .limit = 100};
    CHECK(list(s, &q, &l, next) == 20 && !has(&l, "C-2") && has(&l, "C-1"));
    q.unit = "C21";
    CHECK(list(s, &q, &l, next) == 10 && !strcmp(l.ids[0], "C-29"));
    q.unit = "X";
    CHECK(list(s, &q, &l, next) == 0);
    /* status (one and several) and category */
    const char *one[] = {"resolved"};
    q = (report_query){.unit = "P", .limit = 100, .statuses = one, .nstatuses = 1};
    CHECK(list(s, &q, &l, next) == 7 && !strcmp(l.ids[0], "C-27") && !strcmp(l.ids[6], "C-3"));
    const char *two[] = {"new", "resolved"};
    q.statuses = two;
    q.nstatuses = 2;
    CHECK(list(s, &q, &l, next) == 15 && !strcmp(l.ids[0], "C-28") && !strcmp(l.ids[1], "C-27"));
    q.category = "traffic";
    q.unit = "D1";
    list(s, &q, &l, next); /* i%9 < 3, commune 0/1, status 0/3 */
    CHECKF(l.n == 4 && has(&l, "C-28") && has(&l, "C-27") && has(&l, "C-19") && has(&l, "C-0"),
           "%zu", l.n);
    /* created range */
    q = (report_query){
        .unit = "P", .limit = 100, .from_ms = T0 + 10 * HOUR, .to_ms = T0 + 20 * HOUR};
    CHECK(list(s, &q, &l, next) == 10 && !strcmp(l.ids[0], "C-19") && !strcmp(l.ids[9], "C-10"));
    q.sort = REPORT_SORT_OLDEST;
    CHECK(list(s, &q, &l, next) == 10 && !strcmp(l.ids[0], "C-10"));
    /* pages: equal to one big page, whatever the plan */
    const char *open3[] = {"new", "received", "in_progress"};
    report_query variants[] = {
        {.unit = "P"},
        {.unit = "P", .sort = REPORT_SORT_OLDEST},
        {.unit = "D1", .statuses = open3, .nstatuses = 3},
        {.unit = "P", .q = "số"},
        {.unit = "P", .q = "số", .sort = REPORT_SORT_OLDEST},
        {.unit = "D1", .q = "rác số"},
        {.unit = "P", .q = "thai so", .sort = REPORT_SORT_OLDEST},
        {.unit = "P", .sort = REPORT_SORT_DEADLINE},
    };
    for (size_t v = 0; v < 2 * sizeof variants / sizeof *variants; v++) {
        idlist all, page;
        report_query qq = variants[v / 2];
        qq.limit = 100;
        list(s, &qq, &all, next);
        size_t got = 0, pages = 0;
        bool same = true;
        qq.limit = 4;
        qq.steps = v % 2 ? 3 : 0; /* pages cut short by the step budget */
        char cursor[REPORT_CURSOR_MAX] = "";
        do {
            qq.cursor = cursor;
            list(s, &qq, &page, next);
            for (size_t i = 0; i < page.n; i++, got++)
                same = same && got < all.n && !strcmp(page.ids[i], all.ids[got]);
            memcpy(cursor, next, sizeof cursor);
            pages++;
        } while (cursor[0] && pages < 200);
        CHECKF(same && got == all.n && all.n > 4 &&
                   (v % 2 ? pages > (all.n + 3) / 4 : pages == (all.n + 3) / 4),
               "variant %zu: %zu of %zu in %zu pages", v, got, all.n, pages);
    }
    /* deadline order: open reports only, earliest first */
    q = (report_query){.unit = "P", .limit = 100, .sort = REPORT_SORT_DEADLINE};
    CHECK(list(s, &q, &l, next) == 23 && !strcmp(l.ids[0], "C-0") && !strcmp(l.ids[1], "C-1") &&
          !has(&l, "C-3"));
    /* overdue at T0 + 10h: open with deadline < now: i + 5 < 10 */
    q = (report_query){.unit = "P", .limit = 100, .overdue = true, .now_ms = T0 + 10 * HOUR};
    CHECK(list(s, &q, &l, next) == 4 && !strcmp(l.ids[0], "C-4") && !has(&l, "C-3"));
    q.sort = REPORT_SORT_DEADLINE;
    CHECK(list(s, &q, &l, next) == 4 && !strcmp(l.ids[0], "C-0"));
    idlist due = {0};
    CHECK(report_query_overdue(s, T0 + 10 * HOUR, collect, &due) == 0);
    CHECK(due.n == 4 && !strcmp(due.ids[0], "C-0") && !strcmp(due.ids[3], "C-4"));
    /* bad queries */
    q = (report_query){.unit = "P", .limit = 10, .cursor = "zz"};
    CHECK(report_query_run(s, &q, collect, &l, next, err, sizeof err) == 1 &&
          strstr(err, "cursor"));
    const char *bad[] = {"open"};
    q = (report_query){.unit = "P", .limit = 10, .statuses = bad, .nstatuses = 1};
    CHECK(report_query_run(s, &q, collect, &l, next, err, sizeof err) == 1 && strstr(err, "open"));
    q = (report_query){.unit = "P", .limit = 0};
    CHECK(report_query_run(s, &q, collect, &l, next, err, sizeof err) == 1);
}

static void test_search(store *s, const author *a)
{
    idlist l;
    char next[REPORT_CURSOR_MAX];
    report_query q = {.unit = "P", .limit = 100, .q = "duong ngap nuoc"};
    CHECK(list(s, &q, &l, next) == 6 && !strcmp(l.ids[0], "C-25"));
    q.q = "ĐƯỜNG NGẬP";
    CHECK(list(s, &q, &l, next) == 6);
    q.unit = "C11";
    CHECK(list(s, &q, &l, next) == 2 && has(&l, "C-15") && has(&l, "C-0"));
    q = (report_query){.unit = "P", .limit = 100, .q = "so 15"};
    CHECK(list(s, &q, &l, next) == 1 && !strcmp(l.ids[0], "C-15"));
    q.q = "c-15"; /* the code */
    CHECK(list(s, &q, &l, next) == 1);
    q.q = "ngập xyz";
    CHECK(list(s, &q, &l, next) == 0);
    put_report(s, a, "D-1", "D1", "C11", "Dong ho hong", "traffic", "new", T0, 0);
    q.q = "Đồng";
    CHECK(list(s, &q, &l, next) == 1 && !strcmp(l.ids[0], "D-1"));
    /* with a status filter on the walk of a token list */
    const char *st[] = {"resolved"};
    q = (report_query){.unit = "P", .limit = 100, .q = "nuoc", .statuses = st, .nstatuses = 1};
    CHECK(list(s, &q, &l, next) == 1 && !strcmp(l.ids[0], "C-15"));
}

/* Changes move a report between index rows. */
static void test_changes(store *s, const author *a)
{
    idlist l;
    char next[REPORT_CURSOR_MAX];
    json_t *j = json_pack("{s:s, s:s, s:[s,s,s], s:I, s:s}", "status", "resolved", "owner_unit",
                          "C21", "owner_path", "P", "D2", "C21", "resolved_ms",
                          (json_int_t)(T0 + 2 * HOUR), "title", "Cây đổ");
    write_json(s, a, "C-0", ENTRY_OP_PATCH, j);
    report_query q = {.unit = "D2", .limit = 100};
    CHECK(list(s, &q, &l, next) == 11 && has(&l, "C-0"));
    q.q = "cay do";
    CHECK(list(s, &q, &l, next) == 1);
    q = (report_query){.unit = "P", .limit = 100, .q = "ngap"};
    CHECK(list(s, &q, &l, next) == 5 && !has(&l, "C-0"));
    idlist due = {0};
    report_query_overdue(s, T0 + 10 * HOUR, collect, &due);
    CHECK(due.n == 3 && !has(&due, "C-0"));
    write_json(s, a, "D-1", ENTRY_OP_DELETE, json_object());
    q = (report_query){.unit = "P", .limit = 100, .q = "dong"};
    CHECK(list(s, &q, &l, next) == 0);
    report_stats st;
    CHECK(report_stats_get(s, "C21", false, 0, 0, &st, err, sizeof err) == 0);
    CHECK(st.total == 11 && st.resolved == 1);
    CHECK(report_stats_get(s, "C11", false, 0, 0, &st, err, sizeof err) == 0 && st.total == 9);
}

/* A known set: 25 reports in C11 on 2026-01-01, 10 resolved after 1..10 h
 * with an 8 h deadline; ratings 19/3/3. */
static void test_stats(void)
{
    store *s = open_store();
    author a = {.unit = "C11"};
    crypto_sign_keypair(a.pk, a.sk);
    for (int i = 0; i < 25; i++) {
        char id[16];
        snprintf(id, sizeof id, "S-%d", i);
        uint64_t created = T0 + (uint64_t)i * 60000;
        put_report(s, &a, id, "D1", "C11", "x", i < 20 ? "traffic" : "environment",
                   i < 10   ? "resolved"
                   : i < 12 ? "rejected"
                            : "received",
                   created, created + 8 * HOUR);
        json_t *j = json_pack("{s:s}", "rating",
                              i < 19   ? "satisfied"
                              : i < 22 ? "acceptable"
                                       : "unsatisfied");
        if (i < 10)
            json_object_set_new(j, "resolved_ms",
                                json_integer((json_int_t)(created + (uint64_t)(i + 1) * HOUR)));
        write_json(s, &a, id, ENTRY_OP_PATCH, j);
    }
    /* one on the next day (UTC+7), outside the range below */
    put_report(s, &a, "S-x", "D1", "C11", "x", "traffic", "new", T0 + DAY, 0);
    report_stats st;
    CHECK(report_stats_get(s, "P", true, T0, T0 + DAY, &st, err, sizeof err) == 0);
    CHECK(st.total == 25 && st.by_status[report_status_index("resolved")] == 10 &&
          st.by_status[report_status_index("rejected")] == 2 && st.processed == 12);
    CHECK(st.resolved == 10 && st.resolved_deadline == 10 && st.resolved_on_time == 8);
    CHECK(st.resolve_ms_sum == 55 * HOUR);
    CHECK(st.ncategories == 2 && !strcmp(st.categories[0].code, "environment") &&
          st.categories[0].count == 5 && st.categories[1].count == 20);
    json_t *j = report_stats_json(&st);
    json_t *sat = json_object_get(j, "satisfaction"), *sh = json_object_get(sat, "shares");
    CHECK(json_integer_value(json_object_get(sat, "rated")) == 25);
    CHECK(json_real_value(json_object_get(sh, "satisfied")) == 0.76 &&
          json_real_value(json_object_get(sh, "acceptable")) == 0.12 &&
          json_real_value(json_object_get(sh, "unsatisfied")) == 0.12);
    CHECK(json_real_value(json_object_get(j, "processed_share")) == 0.48);
    CHECK(json_real_value(json_object_get(j, "on_time_share")) == 0.8);
    CHECK(json_real_value(json_object_get(j, "resolve_avg_hours")) == 5.5);
    /* p90 of 1..10 h is 9 h, reported as its histogram bucket's upper bound */
    double p90 = json_real_value(json_object_get(j, "resolve_p90_hours"));
    double want = round(report_hist_upper_ms(report_hist_bucket(9 * HOUR)) / 36000.0) / 100.0;
    CHECKF(p90 == want && p90 >= 9.0 && p90 < 9.0 * 1.25, "%f", p90);
    CHECK(json_integer_value(json_object_get(json_object_get(j, "by_status"), "received")) == 13);
    json_decref(j);
    CHECK(report_stats_get(s, "C11", false, T0, 0, &st, err, sizeof err) == 0 && st.total == 26);
    CHECK(report_stats_get(s, "D1", false, T0, 0, &st, err, sizeof err) == 0 && st.total == 0);
    CHECK(report_stats_get(s, "P", true, T0 + DAY, T0, &st, err, sizeof err) == 1);
    store_close(s);
}

/* ---- determinism ------------------------------------------------------ */

typedef struct {
    uint8_t *b[512];
    size_t len[512], n;
} elog;

static int log_take(void *ctx, const uint8_t *bytes, size_t len)
{
    elog *l = ctx;
    if (l->n < 512) {
        l->b[l->n] = malloc(len);
        memcpy(l->b[l->n], bytes, len);
        l->len[l->n++] = len;
    }
    return 0;
}

static void apply_log(store *s, const elog *l, bool reverse_chunks)
{
    /* in chunks of 5 entries, chunk order reversed when asked */
    size_t chunks = (l->n + 4) / 5;
    for (size_t c = 0; c < chunks; c++) {
        size_t k = reverse_chunks ? chunks - 1 - c : c;
        store_input in[5];
        apply_result res[5];
        size_t n = 0;
        for (size_t i = k * 5; i < l->n && i < k * 5 + 5; i++, n++)
            in[n] = (store_input){l->b[i], l->len[i]};
        CHECKF(store_apply(s, in, n, 0, res, NULL, err, sizeof err) == 0, "%s", err);
    }
}

/* A digest of the five report databases. */
static void index_digest(store *s, uint8_t out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    const MDB_dbi *dbs = s->index_dbs[0]; /* rscope rstatus rdue rtext rstats rperson */
    MDB_txn *txn;
    REQUIRE(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0);
    for (size_t i = 0; i < 6; i++) {
        MDB_cursor *c;
        MDB_val k, v;
        mdb_cursor_open(txn, dbs[i], &c);
        for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            uint32_t lens[2] = {(uint32_t)k.mv_size, (uint32_t)v.mv_size};
            crypto_generichash_update(&h, (const uint8_t *)lens, sizeof lens);
            crypto_generichash_update(&h, k.mv_data, k.mv_size);
            crypto_generichash_update(&h, v.mv_data, v.mv_size);
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    crypto_generichash_final(&h, out, 32);
}

static void count_problem(void *ctx, const char *msg)
{
    (*(long *)ctx)++;
    fprintf(stderr, "verify: %s\n", msg);
}

/* Commits txn (which took indexes away from s, in dir), checks the index
 * bytes differ from want, reopens the store and checks the rebuild gives
 * want again. Returns the reopened store. */
static store *commit_reopen(store *s, MDB_txn *txn, const char *dir, const uint8_t want[32])
{
    uint8_t d[32];
    REQUIRE(mdb_txn_commit(txn) == 0);
    index_digest(s, d);
    CHECK(memcmp(want, d, 32) != 0);
    store_close(s);
    s = open_dir(dir);
    index_digest(s, d);
    CHECK(!memcmp(want, d, 32));
    return s;
}

static void test_orders(store *s, const author *a, const author *b)
{
    /* b concurrently changes reports a made: the same fields, other values */
    for (int i = 0; i < 30; i += 2) {
        char id[16];
        snprintf(id, sizeof id, "C-%d", i);
        json_t *j = json_pack("{s:s, s:s, s:s}", "status", "closed", "rating", "satisfied",
                              "category", "environment");
        write_json(s, b, id, ENTRY_OP_PATCH, j);
    }
    elog la = {0}, lb = {0};
    CHECK(store_log_scan(s, a->pk, log_take, &la) == 0);
    CHECK(store_log_scan(s, b->pk, log_take, &lb) == 0);
    char xdir[4096];
    snprintf(xdir, sizeof xdir, "%s", check_tmpdir());
    store *x = open_dir(xdir), *y = open_store();
    apply_log(x, &la, false);
    apply_log(x, &lb, false);
    apply_log(y, &lb, true);
    apply_log(y, &la, true);
    uint8_t ds[32], dx[32], dy[32];
    index_digest(s, ds);
    index_digest(x, dx);
    index_digest(y, dy);
    CHECK(!memcmp(ds, dx, 32) && !memcmp(ds, dy, 32));
    idlist l;
    char next[REPORT_CURSOR_MAX];
    const char *closed[] = {"closed"};
    report_query q = {.unit = "P", .limit = 100, .statuses = closed, .nstatuses = 1};
    CHECK(list(y, &q, &l, next) == 15);
    long problems = 0;
    CHECKF(store_verify(y, check_tmpdir(), count_problem, &problems, err, sizeof err) == 0, "%s",
           err);
    CHECKF(store_verify(s, check_tmpdir(), count_problem, &problems, err, sizeof err) == 0, "%s",
           err);
    CHECK(problems == 0);
    /* a lost text row is found */
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    REQUIRE(mdb_txn_begin(y->env, NULL, 0, &txn) == 0);
    mdb_cursor_open(txn, y->index_dbs[0][3], &c); /* rtext */
    CHECK(mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && mdb_cursor_del(c, 0) == 0);
    mdb_cursor_close(c);
    REQUIRE(mdb_txn_commit(txn) == 0);
    CHECK(store_verify(y, check_tmpdir(), count_problem, &problems, err, sizeof err) == 1);
    /* a store made before the indexes gets them built when opened */
    REQUIRE(mdb_txn_begin(x->env, NULL, 0, &txn) == 0);
    const MDB_dbi *all = x->index_dbs[0];
    for (size_t i = 0; i < 6; i++)
        CHECK(mdb_drop(txn, all[i], 0) == 0);
    MDB_val mk = {13, "index/reports"};
    CHECK(mdb_del(txn, x->meta, &mk, NULL) == 0);
    x = commit_reopen(x, txn, xdir, ds);
    for (size_t i = 0; i < la.n; i++)
        free(la.b[i]);
    for (size_t i = 0; i < lb.n; i++)
        free(lb.b[i]);
    store_close(x);
    store_close(y);
}

static void test_summary(store *s)
{
    uint8_t *rec;
    size_t len;
    REQUIRE(store_record_get(s, "reports", "C-5", &rec, &len) == 0);
    json_t *j = report_summary_json(rec, len, "C-5", 3, T0 + 20 * HOUR, false);
    CHECK(
        !strcmp(json_string_value(json_object_get(j, "created_at")), "2026-01-01T05:00:00+07:00"));
    CHECK(
        !strcmp(json_string_value(json_object_get(j, "deadline_at")), "2026-01-01T10:00:00+07:00"));
    CHECK(json_is_true(json_object_get(j, "overdue")));
    CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "received"));
    CHECK(json_object_get(j, "lat") && !json_object_get(j, "reporter_name"));
    json_decref(j);
    free(rec);
}

/* Concurrent escalations: the newer entry carries level 1 (the district's),
 * the older one level 2 (the province's). The list shows the level of the
 * history, like the detail view: 2, escalated to P. */
static void test_summary_escalation(store *s, const author *a)
{
    json_t *j =
        json_pack("{s:I, s:s, s:{s:s, s:I, s:s}, s:{s:s, s:I, s:s}}", "escalation_level",
                  (json_int_t)1, "escalated_to", "D1", "h/0000000000000001/aaaaaaaa", "action",
                  "escalate", "level", (json_int_t)2, "target", "P", "h/0000000000000002/bbbbbbbb",
                  "action", "escalate", "level", (json_int_t)1, "target", "D1");
    write_json(s, a, "C-5", ENTRY_OP_PATCH, j);
    uint8_t *rec;
    size_t len;
    REQUIRE(store_record_get(s, "reports", "C-5", &rec, &len) == 0);
    json_t *sum = report_summary_json(rec, len, "C-5", 3, T0 + 20 * HOUR, false);
    CHECK(json_integer_value(json_object_get(sum, "escalation_level")) == 2);
    const char *to = json_string_value(json_object_get(sum, "escalated_to"));
    CHECK(to && !strcmp(to, "P"));
    json_decref(sum);
    free(rec);
}

/* The ids a query lists over every page of `limit`, into l. */
static void list_pages(store *s, report_query q, size_t limit, idlist *l)
{
    idlist page;
    char next[REPORT_CURSOR_MAX] = "", cur[REPORT_CURSOR_MAX];
    l->n = 0;
    q.limit = limit;
    do {
        snprintf(cur, sizeof cur, "%s", next);
        q.cursor = cur;
        list(s, &q, &page, next);
        CHECK(page.n <= limit);
        for (size_t i = 0; i < page.n && l->n < 200; i++)
            snprintf(l->ids[l->n++], 32, "%s", page.ids[i]);
    } while (next[0]);
}

/* The ids of fill's reports C-29..C-0 (newest first) for which want(i). */
static void expect(idlist *l, bool (*want)(int))
{
    l->n = 0;
    for (int i = 29; i >= 0; i--)
        if (want(i))
            snprintf(l->ids[l->n++], 32, "C-%d", i);
}

static bool same(const idlist *a, const idlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ids[i], b->ids[i]))
            return false;
    return true;
}

/* fill's reports: an has every third from C-0 (commune C11) and C-2 (C21),
 * binh every third from C-1 (C12); an filed every fifth. */
static bool an_all(int i)
{
    return i % 3 == 0 || i == 2;
}
static bool an_c11(int i)
{
    return i % 3 == 0;
}
static bool an_filed(int i)
{
    return i % 5 == 0;
}
static bool an_both(int i)
{
    return an_all(i) && an_filed(i);
}
static bool binh_all(int i)
{
    return i % 3 == 1;
}
static bool an_after(int i)
{
    return an_all(i) && i != 0;
}

/* The person lists of a store (assignee, created_by) against the
 * reference of the predicates above. */
static void check_persons(store *s, bool c0)
{
    idlist l, want;
    report_query q = {.unit = "P", .assignee = "an"};
    list_pages(s, q, 100, &l);
    expect(&want, c0 ? an_all : an_after);
    CHECKF(same(&l, &want), "assignee=an: %zu, want %zu", l.n, want.n);
    list_pages(s, q, 3, &l);
    CHECK(same(&l, &want)); /* pages of 3 give the same, once each */
    q.unit = "C11";
    list_pages(s, q, 4, &l);
    expect(&want, an_c11);
    if (!c0)
        want.n--; /* C-0 is the oldest */
    CHECK(same(&l, &want) && !has(&l, "C-2"));
    q = (report_query){.unit = "P", .assignee = "binh"};
    list_pages(s, q, 100, &l);
    expect(&want, binh_all);
    CHECK(same(&l, &want));
    q = (report_query){.unit = "P", .created_by = "an"};
    list_pages(s, q, 2, &l);
    expect(&want, an_filed);
    CHECK(same(&l, &want));
    q = (report_query){.unit = "P", .created_by = "an", .assignee = "an"};
    list_pages(s, q, 100, &l);
    expect(&want, an_both);
    if (!c0)
        want.n--;
    CHECK(same(&l, &want));
    char next[REPORT_CURSOR_MAX];
    q = (report_query){.unit = "P", .assignee = "nobody", .limit = 10};
    CHECK(list(s, &q, &l, next) == 0);
    /* overdue first: open, deadline (created + 5 h) before T0 + 12 h, earliest first */
    q = (report_query){.unit = "P",
                       .assignee = "an",
                       .overdue = true,
                       .now_ms = T0 + 12 * HOUR,
                       .sort = REPORT_SORT_DEADLINE,
                       .limit = 100};
    list(s, &q, &l, next);
    want.n = 0;
    for (int i = 0; i < 7; i++)
        if ((c0 ? an_all(i) : an_after(i)) && strcmp(stats[i % 4], "resolved"))
            snprintf(want.ids[want.n++], 32, "C-%d", i);
    CHECKF(same(&l, &want), "overdue: %zu, want %zu", l.n, want.n);
}

static void test_persons(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", check_tmpdir());
    store *s = open_dir(dir);
    author a = {.unit = "P"};
    crypto_sign_keypair(a.pk, a.sk);
    fill(s, &a);
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "C-%d", i);
        json_t *j = json_object();
        if (an_all(i) || binh_all(i))
            json_object_set_new(j, "assignee", json_string(an_all(i) ? "an" : "binh"));
        if (an_filed(i))
            json_object_set_new(j, "created_by", json_string("an"));
        write_json(s, &a, id, ENTRY_OP_PATCH, j);
    }
    check_persons(s, true);
    /* a new assignment moves the row: C-0 to nobody */
    write_json(s, &a, "C-0", ENTRY_OP_PATCH, json_pack("{s:s}", "assignee", ""));
    check_persons(s, false);
    long problems = 0;
    CHECKF(store_verify(s, check_tmpdir(), count_problem, &problems, err, sizeof err) == 0, "%s",
           err);
    CHECK(problems == 0);
    /* a store of index version 2 (no rperson) is rebuilt at open: the same bytes, answers */
    uint8_t before[32];
    index_digest(s, before);
    MDB_txn *txn;
    REQUIRE(mdb_txn_begin(s->env, NULL, 0, &txn) == 0);
    CHECK(mdb_drop(txn, s->index_dbs[0][5], 0) == 0);
    CHECK(store_meta_put_u64(txn, s, "index/reports", 2) == 0);
    s = commit_reopen(s, txn, dir, before);
    check_persons(s, false);
    store_close(s);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    test_fold();
    test_times();
    store *s = open_store();
    author a = {.unit = "C11"}, b = {.unit = "D1"};
    crypto_sign_keypair(a.pk, a.sk);
    crypto_sign_keypair(b.pk, b.sk);
    fill(s, &a);
    test_lists(s);
    test_summary(s);
    test_search(s, &a);
    test_changes(s, &a);
    test_orders(s, &a, &b);
    test_summary_escalation(s, &a);
    store_close(s);
    test_stats();
    test_persons();
    return check_done();
}
