/*
 * bench_reports.c - `make bench`: field reports at province scale. Builds a
 * store shaped like one province (1 province, 12 districts, 200 communes)
 * holding N reports (default 1,000,000) spread over one year, with
 * Vietnamese titles, descriptions and addresses generated from word lists,
 * a realistic spread of statuses, deadlines, resolve times and ratings.
 *
 * It measures:
 *   1. create throughput: reports/s written through store_write_local in
 *      batches (--batch per transaction, as a node writes what arrives
 *      together), every index and counter kept in the same transaction;
 *      then single-report transactions (one durable commit each);
 *   2. p50/p99 latency of list queries as the API runs them (the page of
 *      50 summaries built as JSON): province newest page, district +
 *      status, commune + category, search with 1-3 words, overdue;
 *   3. the province's statistics for the year (and per district).
 * Queries are timed after an untimed warm-up round of a third as many.
 * Targets (docs/reports.md): list/search p99 < 20 ms, province stats
 * < 100 ms. The store lives in a temp dir under /tmp, removed at the end
 * unless --keep. Exit status 0 when every phase ran, 1 on any error.
 */
#include "node/domains.h"
#include "reports/report_query.h"
#include "reports/report_summary.h"
#include "storage/hlc.h"
#include "storage/store.h"

#include <errno.h>
#include <ftw.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOUR 3600000ull
#define DAY (24 * HOUR)
#define YEAR_START 1767200400000ull /* 2026-01-01T00:00:00+07:00 */
#define DISTRICTS 12
#define COMMUNES 200

static const char *const subjects[] = {"Đường",
                                       "Cống thoát nước",
                                       "Vỉa hè",
                                       "Đèn chiếu sáng",
                                       "Cây xanh",
                                       "Bãi rác",
                                       "Cầu",
                                       "Nhà văn hóa",
                                       "Chợ",
                                       "Trường học",
                                       "Công trình",
                                       "Quán karaoke",
                                       "Xe tải",
                                       "Ống nước",
                                       "Biển báo",
                                       "Hố ga",
                                       "Kênh mương",
                                       "Trạm xe buýt",
                                       "Ứng dụng dịch vụ công",
                                       "Cột điện"};
static const char *const problems[] = {"bị ngập nước",
                                       "hư hỏng nặng",
                                       "bị lấn chiếm",
                                       "không hoạt động",
                                       "gãy đổ",
                                       "bốc mùi hôi",
                                       "xả thải trái phép",
                                       "gây ồn ào ban đêm",
                                       "sụt lún",
                                       "bị vỡ",
                                       "thiếu biển báo",
                                       "đổ trộm phế thải",
                                       "xây dựng không phép",
                                       "gây ùn tắc",
                                       "mất vệ sinh",
                                       "rò rỉ",
                                       "không truy cập được",
                                       "bị mất nắp",
                                       "tắc nghẽn",
                                       "xuống cấp"};
static const char *const streets[] = {"Lê Lợi",          "Trần Phú",
                                      "Nguyễn Du",       "Quang Trung",
                                      "Phan Đình Phùng", "Hồ Tùng Mậu",
                                      "Lê Duẩn",         "Nguyễn Văn Cừ",
                                      "Trường Chinh",    "Hà Huy Tập",
                                      "Lý Thường Kiệt",  "Đinh Công Tráng",
                                      "Mai Hắc Đế",      "Nguyễn Thị Minh Khai",
                                      "Hồng Bàng",       "Lê Hồng Phong",
                                      "Phong Định Cảng", "Đặng Thai Mai",
                                      "Hermann Gmeiner", "Xô Viết Nghệ Tĩnh"};
static const char *const details[] = {"kéo dài nhiều ngày",
                                      "ảnh hưởng đến sinh hoạt của người dân",
                                      "gây nguy hiểm cho người đi đường",
                                      "sau trận mưa lớn",
                                      "vào giờ cao điểm",
                                      "đề nghị cơ quan chức năng kiểm tra xử lý",
                                      "người dân đã phản ánh nhiều lần",
                                      "trẻ em đi học rất nguy hiểm",
                                      "khu vực đông dân cư",
                                      "cần khắc phục sớm"};
static const char *const categories[] = {"construction", "environment", "traffic", "public_order",
                                         "smart_services"};
#define N(a) (sizeof a / sizeof *a)

typedef struct {
    size_t reports, batch, single, queries;
    bool keep;
    const char *dir; /* --store: reuse (or make and keep) this store */
} opts;

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static size_t pick(size_t n)
{
    return (size_t)(rnd() % n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void district_code(size_t d, char *out)
{
    sprintf(out, "4%02zu", d + 10);
}
static void commune_code(size_t c, char *out)
{
    sprintf(out, "4%02zu%02zu", c % DISTRICTS + 10, c / DISTRICTS);
}

static void pack_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_str_with_body(pk, v, strlen(v));
}
static void pack_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_uint64(pk, v);
}
static void pack_path(msgpack_packer *pk, const char *k, const char *const *units, size_t n)
{
    msgpack_pack_str_with_body(pk, k, strlen(k));
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_str_with_body(pk, units[i], strlen(units[i]));
}

/* Report i of n: its body (a put with every field) into sb, id into id. */
static void make_report(size_t i, size_t n, msgpack_sbuffer *sb, char *id)
{
    char title[200], desc[600], addr[200], dist[8], comm[8], owner[8];
    size_t c = pick(COMMUNES);
    commune_code(c, comm);
    district_code(c % DISTRICTS, dist);
    sprintf(id, "40-%zu", i + 1);
    const char *subj = subjects[pick(N(subjects))], *prob = problems[pick(N(problems))];
    const char *street = streets[pick(N(streets))];
    snprintf(title, sizeof title, "%s %s trên đường %s", subj, prob, street);
    snprintf(desc, sizeof desc, "%s tại số %zu đường %s %s, %s. %s.", subj, 1 + pick(300), street,
             prob, details[pick(N(details))], details[pick(N(details))]);
    snprintf(addr, sizeof addr, "Số %zu %s, phường %s", 1 + pick(300), street, comm);
    uint64_t created = YEAR_START + (uint64_t)((double)i / (double)n * 365.0 * DAY) + pick(60000);
    uint64_t deadline = created + (pick(4) == 0 ? 8 * HOUR : 3 * DAY);
    bool recent = created > YEAR_START + 335 * DAY; /* the last month: much still open */
    size_t r = pick(100);
    const char *status;
    if (recent ? r < 20 : r < 1)
        status = "new";
    else if (recent ? r < 35 : r < 2)
        status = "received";
    else if (recent ? r < 45 : r < 3)
        status = "assigned";
    else if (recent ? r < 60 : r < 4)
        status = "in_progress";
    else if (r < 70)
        status = "resolved";
    else if (r < 92)
        status = "closed";
    else if (r < 96)
        status = "rejected";
    else if (r < 98)
        status = "duplicate";
    else
        status = "reopened";
    bool res = !strcmp(status, "resolved") || !strcmp(status, "closed");
    const char *apath[] = {"40", dist, comm};
    bool district_owns = pick(5) == 0;
    strcpy(owner, district_owns ? dist : comm);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    const char *rating = NULL;
    if (res && pick(10) < 7) {
        size_t k = pick(100);
        rating = k < 76 ? "satisfied" : k < 88 ? "acceptable" : "unsatisfied";
    }
    msgpack_pack_map(&pk, 18 + (res ? 1 : 0) + (rating ? 1 : 0));
    pack_str(&pk, "code", id);
    pack_str(&pk, "title", title);
    pack_str(&pk, "description", desc);
    pack_str(&pk, "address", addr);
    pack_str(&pk, "category", categories[pick(N(categories))]);
    msgpack_pack_str_with_body(&pk, "lat", 3);
    msgpack_pack_double(&pk, 18.6 + (double)pick(1000) / 10000.0);
    msgpack_pack_str_with_body(&pk, "lon", 3);
    msgpack_pack_double(&pk, 105.6 + (double)pick(1000) / 10000.0);
    pack_str(&pk, "area_unit", comm);
    pack_path(&pk, "area_path", apath, 3);
    pack_str(&pk, "owner_unit", owner);
    pack_path(&pk, "owner_path", apath, district_owns ? 2 : 3);
    pack_str(&pk, "channel", pick(3) ? "web" : "hotline");
    pack_str(&pk, "reporter_name", "Nguyễn Văn An");
    pack_str(&pk, "reporter_phone", "0912345678");
    pack_u64(&pk, "created_ms", created);
    pack_u64(&pk, "deadline_ms", deadline);
    pack_str(&pk, "status", status);
    pack_u64(&pk, "received_ms", created + 10 * 60000);
    if (res)
        pack_u64(&pk, "resolved_ms", created + 2 * HOUR + pick(6 * DAY));
    if (rating)
        pack_str(&pk, "rating", rating);
}

static int write_reports(store *s, const store_author *a, size_t from, size_t count, size_t n,
                         size_t batch)
{
    char err[STORE_ERR_LEN];
    msgpack_sbuffer *sb = calloc(batch, sizeof *sb);
    store_write *w = calloc(batch, sizeof *w);
    char(*ids)[32] = calloc(batch, 32);
    int rc = 0;
    for (size_t done = 0; done < count && !rc;) {
        size_t k = count - done < batch ? count - done : batch;
        for (size_t j = 0; j < k; j++) {
            msgpack_sbuffer_init(&sb[j]);
            make_report(from + done + j, n, &sb[j], ids[j]);
            w[j] = (store_write){
                "reports", ids[j], ENTRY_OP_PUT, (const uint8_t *)sb[j].data, sb[j].size, NULL, 0};
        }
        if (store_write_local(s, a, w, k, NULL, err, sizeof err)) {
            fprintf(stderr, "bench_reports: write failed: %s\n", err);
            rc = -1;
        }
        for (size_t j = 0; j < k; j++)
            msgpack_sbuffer_destroy(&sb[j]);
        done += k;
        if (from == 0 && n >= 100000 && done % (n / 10) < k)
            fprintf(stderr, "  ... %zu reports\n", done);
    }
    free(sb);
    free(w);
    free(ids);
    return rc;
}

/* ---- queries ------------------------------------------------------------ */

static int page_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    json_t *rows = ctx;
    json_array_append_new(
        rows, report_summary_json(rec, reclen, id, idlen, YEAR_START + 365 * DAY, true));
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef enum {
    Q_PROVINCE,
    Q_DISTRICT_STATUS,
    Q_COMMUNE_CATEGORY,
    Q_SEARCH,
    Q_OVERDUE,
    Q_KINDS
} qkind;
static const char *const qnames[] = {"province, newest page", "district + status",
                                     "commune + category", "search, 1-3 words",
                                     "overdue (deadline order)"};

static size_t short_pages;

/* Runs one query of kind k; returns the rows found (or -1). */
static long run_query(store *s, qkind k, char *words)
{
    char unit[8], next[REPORT_CURSOR_MAX], err[STORE_ERR_LEN];
    static const char *open[] = {"new", "received", "assigned", "in_progress", "reopened"};
    static const char *one[1];
    report_query q = {.unit = "40", .limit = 50, .now_ms = YEAR_START + 365 * DAY};
    switch (k) {
    case Q_PROVINCE:
        if (pick(2))
            q.to_ms = YEAR_START + pick(365) * DAY; /* a page further back */
        break;
    case Q_DISTRICT_STATUS:
        district_code(pick(DISTRICTS), unit);
        q.unit = unit;
        if (pick(2)) {
            q.statuses = open;
            q.nstatuses = N(open);
        } else {
            static const char *const some[] = {"received", "in_progress", "resolved", "rejected"};
            one[0] = some[pick(N(some))];
            q.statuses = one;
            q.nstatuses = 1;
        }
        break;
    case Q_COMMUNE_CATEGORY:
        commune_code(pick(COMMUNES), unit);
        q.unit = unit;
        q.category = categories[pick(N(categories))];
        break;
    case Q_SEARCH: {
        size_t nw = 1 + pick(3);
        const char *w1 = subjects[pick(N(subjects))], *w2 = problems[pick(N(problems))],
                   *w3 = streets[pick(N(streets))];
        const char *ws[3] = {w3, w2, w1};
        words[0] = '\0';
        for (size_t i = 0; i < nw; i++) {
            char tmp[128];
            snprintf(tmp, sizeof tmp, "%s", ws[i]);
            char *sp = strchr(tmp, ' '); /* the first word, or the first two */
            if (sp && pick(2))
                sp = strchr(sp + 1, ' ');
            if (sp)
                *sp = '\0';
            strcat(words, i ? " " : "");
            strcat(words, tmp);
        }
        q.q = words;
        if (pick(3) == 0) {
            district_code(pick(DISTRICTS), unit);
            q.unit = unit;
        }
        break;
    }
    case Q_OVERDUE:
        q.overdue = true;
        q.sort = REPORT_SORT_DEADLINE;
        if (pick(2)) {
            district_code(pick(DISTRICTS), unit);
            q.unit = unit;
        }
        break;
    default: break;
    }
    json_t *rows = json_array();
    int rc = report_query_run(s, &q, page_one, rows, next, err, sizeof err);
    long n = rc ? -1 : (long)json_array_size(rows);
    if (n >= 0 && (size_t)n < q.limit && next[0])
        short_pages++; /* ended by the step budget: the cursor goes on */
    json_decref(rows);
    if (rc)
        fprintf(stderr, "bench_reports: query failed: %s\n", err);
    return n;
}

static void print_lat(const char *name, double *ms, size_t n, double target, const char *note)
{
    qsort(ms, n, sizeof *ms, cmp_double);
    double p50 = ms[n / 2], p99 = ms[n * 99 / 100 < n ? n * 99 / 100 : n - 1];
    printf("  %-28s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  %s  %s\n", name, p50, p99, ms[n - 1],
           note, p99 < target ? "PASS" : "MISS");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.reports = 1000000, .batch = 1000, .single = 1000, .queries = 300};
    for (int i = 1; i < argc; i++) {
        size_t *t = NULL;
        if (!strcmp(argv[i], "--reports"))
            t = &o->reports;
        else if (!strcmp(argv[i], "--batch"))
            t = &o->batch;
        else if (!strcmp(argv[i], "--single"))
            t = &o->single;
        else if (!strcmp(argv[i], "--queries"))
            t = &o->queries;
        else if (!strcmp(argv[i], "--keep")) {
            o->keep = true;
            continue;
        } else if (!strcmp(argv[i], "--store") && i + 1 < argc) {
            o->dir = argv[++i];
            o->keep = true;
            continue;
        } else {
            fprintf(argv[i][1] == 'h' ? stdout : stderr,
                    "usage: bench_reports [--reports N] [--batch N] [--single N] [--queries N] "
                    "[--keep]\n"
                    "  --reports N  reports in the province store (1000000)\n"
                    "  --batch N    reports per write transaction (1000)\n"
                    "  --single N   further reports written one per transaction (1000)\n"
                    "  --queries N  queries of each kind timed (300)\n"
                    "  --keep       keep the store (its path is printed)\n"
                    "  --store DIR  use the store in DIR: made there and kept, or when it\n"
                    "               already holds reports (of a run with the same --reports),\n"
                    "               only the queries are timed\n");
            return strcmp(argv[i], "--help") && strcmp(argv[i], "-h") ? 2 : 1;
        }
        char *end;
        if (i + 1 >= argc || !(*t = strtoull(argv[++i], &end, 10)) || *end) {
            fprintf(stderr, "bench_reports: %s takes a positive number\n", argv[i - 1]);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    int prc = parse(argc, argv, &o);
    if (prc)
        return prc == 1 ? 0 : 2;
    if (sodium_init() < 0)
        return 1;
    char tmp[] = "/tmp/bench_reports.XXXXXX", err[STORE_ERR_LEN];
    if (o.dir)
        mkdir(o.dir, 0700);
    else if (!mkdtemp(tmp))
        return fprintf(stderr, "bench_reports: mkdtemp: %s\n", strerror(errno)), 1;
    const char *dir = o.dir ? o.dir : tmp;
    store *s;
    store_options so = {.map_size = (size_t)o.reports * 12000 + (1ull << 30)};
    domains_store_options(&so);
    if (store_open(&s, dir, &so, err, sizeof err))
        return fprintf(stderr, "bench_reports: %s\n", err), 1;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    store_author a = {pk, sk, "40"};
    int rc = 0;
    printf("bench_reports: %zu reports, 1 province / %d districts / %d communes, one year\n",
           o.reports, DISTRICTS, COMMUNES);
    bool made = store_entry_count(s) > 0;
    double t0 = now_s();
    if (!made)
        rc = write_reports(s, &a, 0, o.reports, o.reports, o.batch);
    double t1 = now_s();
    if (!rc && !made)
        printf("  create, %zu per transaction:  %8.0f reports/s  (%.1f s)\n", o.batch,
               (double)o.reports / (t1 - t0), t1 - t0);
    size_t extra = made ? 0 : o.single;
    t0 = now_s();
    for (size_t i = 0; i < extra && !rc; i++)
        rc = write_reports(s, &a, o.reports + i, 1, o.reports + extra, 1);
    t1 = now_s();
    if (!rc && extra)
        printf("  create, one per transaction:    %8.0f reports/s  (%.2f ms each)\n",
               (double)extra / (t1 - t0), (t1 - t0) * 1000.0 / (double)extra);
    struct stat st;
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (!rc && !stat(path, &st))
        printf("  store size: %.2f GB (%.0f bytes per report, log and records included)\n",
               st.st_size / 1e9, (double)st.st_size / (double)(o.reports + extra));
    double *lat = calloc(o.queries, sizeof *lat);
    char words[400];
    /* a warm-up round of other queries of every kind, untimed: a node that
     * has run for a while has the upper levels of its trees in memory */
    for (qkind k = 0; k < Q_KINDS && !rc; k++)
        for (size_t i = 0; i < o.queries / 3 && !rc; i++)
            rc = run_query(s, k, words) < 0;
    for (qkind k = 0; k < Q_KINDS && !rc; k++) {
        double rows = 0;
        short_pages = 0;
        for (size_t i = 0; i < o.queries && !rc; i++) {
            double q0 = now_s();
            long n = run_query(s, k, words);
            lat[i] = (now_s() - q0) * 1000.0;
            rows += (double)n;
            rc = n < 0;
        }
        char note[64];
        snprintf(note, sizeof note, "(%.0f rows avg, %zu short pages)", rows / (double)o.queries,
                 short_pages);
        if (!rc)
            print_lat(qnames[k], lat, o.queries, 20.0, note);
    }
    /* statistics: the province over the year, and each district */
    size_t rounds = o.queries < 50 ? o.queries : 50;
    for (int per_district = 0; per_district < 2 && !rc; per_district++) {
        double lastrep = 0;
        for (size_t i = 0; i < rounds && !rc; i++) {
            report_stats rs;
            double q0 = now_s();
            for (size_t d = 0; d < (per_district ? DISTRICTS : 1) && !rc; d++) {
                char unit[8] = "40";
                if (per_district)
                    district_code(d, unit);
                rc = report_stats_get(s, unit, true, YEAR_START, YEAR_START + 365 * DAY, &rs, err,
                                      sizeof err);
                json_decref(report_stats_json(&rs));
                if (!per_district)
                    lastrep = (double)rs.total;
            }
            lat[i] = (now_s() - q0) * 1000.0;
        }
        char note[64] = "(12 calls)";
        if (!per_district)
            snprintf(note, sizeof note, "(%.0f reports)", lastrep);
        if (!rc)
            print_lat(per_district ? "stats, year, 12 districts" : "stats, province, year", lat,
                      rounds, 100.0, note);
    }
    free(lat);
    store_close(s);
    if (o.keep)
        printf("  store kept in %s\n", dir);
    else
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc ? 1 : 0;
}
