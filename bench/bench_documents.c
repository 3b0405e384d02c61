/*
 * bench_documents.c - the documents domain at a province's scale
 * (docs/performance.md): LT_BENCH_DOCS documents (default 1,000,000)
 * issued by province 40 to its communes, written as the API writes them
 * (signed entries, kept by the documents index) in batches, then on the
 * warm store
 *   - a page of the out-box (GET /api/v1/documents?box=out, 50 rows) and
 *     of a commune's in-box: p50 and p99 of 200 queries;
 *   - a search of the out-box (q=, folded): p50 and p99 of 5 queries
 *     (the target: p99 under 30 ms; the search scans the box);
 *   - issuing one document through documents_create: p99 of 200;
 *   - a 20 MiB attachment stored (documents_create) and read back
 *     (documents_file_get), against the disk's sequential write rate
 *     (256 MiB written and fsync'd in the same directory).
 */
#include "documents/documents.h"
#include "lib/mpjson.h"
#include "node/domains.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 2000
#define COMMUNES 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_documents: %s: %s\n", what, msg);
    exit(1);
}

static const char *const words[] = {"phòng chống", "lụt bão", "kế hoạch",   "đầu tư",
                                    "giáo dục",    "y tế",    "giao thông", "đất đai",
                                    "môi trường",  "an ninh"};

/* Documents i..i+n of the province in one transaction, shaped as
 * documents_create writes them. */
static void fill_batch(store *s, const node_config *c, size_t from, size_t n)
{
    static store_write w[BATCH];
    static uint8_t *bodies[BATCH];
    static char ids[BATCH][64], commune[BATCH][8];
    static const char *to[BATCH][2];
    char err[256];
    for (size_t k = 0; k < n; k++) {
        size_t i = from + k;
        char notation[48], subject[160];
        snprintf(ids[k], sizeof ids[k], "40-2026-CV-%zu", i + 1);
        snprintf(notation, sizeof notation, "%zu/CV-UBND", i + 1);
        snprintf(subject, sizeof subject, "Về việc %s và %s số %zu", words[i % 10],
                 words[(i / 10) % 10], i);
        snprintf(commune[k], sizeof commune[k], "%d", 16600 + (int)(i % COMMUNES));
        json_t *j =
            json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, "
                      "s:[s]}",
                      "type", "CV", "number", (json_int_t)(i + 1), "notation", notation, "subject",
                      subject, "unit", "40", "unit_name", "Tỉnh Nghệ An", "date", "2026-06-01",
                      "created_at", (json_int_t)(1780000000000ull + i * 1000), "by", "bench",
                      "status", "sent", "body", "Nội dung văn bản chỉ đạo điều hành.", "urgency",
                      "thuong", "security", "thuong", "recipients", commune[k]);
        size_t len;
        if (mpjson_pack_object(j, &bodies[k], &len, err, sizeof err))
            die("pack", err);
        json_decref(j);
        to[k][0] = "40";
        to[k][1] = commune[k];
        w[k] = (store_write){DOC_COLL, ids[k], ENTRY_OP_PUT, bodies[k], len, to[k], 2};
    }
    store_author a = node_author(c);
    if (store_write_local(s, &a, w, n, NULL, err, sizeof err))
        die("write", err);
    for (size_t k = 0; k < n; k++)
        free(bodies[k]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* p50 and p99 (ms) of n runs of a list query. */
static void list_timing(documents *d, const unit_tree *t, const char *what, const char *unit,
                        const doc_query *q, int n)
{
    double *ms = malloc((size_t)n * sizeof *ms);
    long long total = 0;
    for (int i = 0; i < n; i++) {
        lt_error e = {0};
        double t0 = now_s();
        json_t *r = documents_list(d, unit, q, t, &e);
        ms[i] = (now_s() - t0) * 1e3;
        if (!r)
            die(what, e.message);
        total = json_integer_value(json_object_get(r, "total"));
        json_decref(r);
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    printf("documents: %s: p50 %.2f ms, p99 %.2f ms (%d runs, %lld matching)\n", what, ms[n / 2],
           ms[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], n, total);
    free(ms);
}

/* MB/s of writing 256 MiB to a file of dir and fsync. */
static double disk_rate(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/seq.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t chunk = 1 << 20;
    uint8_t *buf = malloc(chunk);
    randombytes_buf(buf, chunk);
    double t0 = now_s();
    for (int i = 0; fd >= 0 && i < 256; i++)
        if (write(fd, buf, chunk) != (ssize_t)chunk)
            die("disk", "short write");
    if (fd < 0 || fsync(fd))
        die("disk", "cannot write the test file");
    double dt = now_s() - t0;
    close(fd);
    unlink(path);
    free(buf);
    return 256.0 / dt;
}

static void attachments(documents *d, const unit_tree *t, const char *dir)
{
    size_t len = 20u * 1024u * 1024u;
    uint8_t *pdf = malloc(len);
    randombytes_buf(pdf, len);
    memcpy(pdf, "%PDF-1.7\n", 9);
    doc_file f = {"big.pdf", "application/pdf", pdf, len};
    json_t *in =
        json_pack("{s:s, s:s, s:[s]}", "type", "BC", "subject", "Tệp lớn", "recipients", "16600");
    doc_actor who = {"bench", "40", ROLE_STAFF};
    lt_error e = {0};
    double t0 = now_s();
    json_t *out = documents_create(d, in, &f, 1, &who, t, &e);
    double up = now_s() - t0;
    if (!out)
        die("attachment", e.message);
    const char *id = json_string_value(json_object_get(out, "id"));
    const char *hash = json_string_value(
        json_object_get(json_array_get(json_object_get(out, "files"), 0), "hash"));
    doc_file got;
    t0 = now_s();
    if (documents_file_get(d, id, hash, "40", t, &got, &e))
        die("download", e.message);
    double down = now_s() - t0;
    if (got.len != len || memcmp(got.data, pdf, len))
        die("download", "the bytes differ");
    printf("documents: a 20 MiB attachment: stored at %.0f MB/s (chunked, signed, indexed), read "
           "back at %.0f MB/s; the disk writes sequentially at %.0f MB/s\n",
           20 / up, 20 / down, disk_rate(dir));
    free(got.name);
    free(got.type);
    free(got.data);
    free(pdf);
    json_decref(in);
    json_decref(out);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const char *env = getenv("LT_BENCH_DOCS");
    size_t ndocs = env && atol(env) > 0 ? (size_t)atol(env) : 1000000;
    domains_install();
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    snprintf(c.unit, sizeof c.unit, "40");
    snprintf(c.name, sizeof c.name, "Tỉnh Nghệ An");
    snprintf(c.tier, sizeof c.tier, "province");
    crypto_sign_keypair(c.pk, c.sk);
    char dir[] = "/tmp/bench-doc-XXXXXX", err[256];
    if (!mkdtemp(dir))
        die("mkdtemp", "failed");
    store *s;
    store_options o = {0};
    domains_store_options(&o);
    if (store_open(&s, dir, &o, err, sizeof err))
        die("open", err);
    unit_tree *t = unit_tree_new();
    unit_tree_set(t, "40", 2, NULL, 0);
    for (int i = 0; i < COMMUNES; i++) {
        char u[8];
        snprintf(u, sizeof u, "%d", 16600 + i);
        unit_tree_set(t, u, strlen(u), "40", 2);
    }
    double t0 = now_s();
    for (size_t i = 0; i < ndocs; i += BATCH)
        fill_batch(s, &c, i, ndocs - i < BATCH ? ndocs - i : BATCH);
    double tf = now_s() - t0;
    printf("documents: %zu documents written in %.1f s (%.0f/s, signed and indexed)\n", ndocs, tf,
           ndocs / tf);
    documents *d = documents_new(s, &c);
    doc_query page = {.box = "out"}, inbox = {.box = "in"};
    list_timing(d, t, "a page of the province's out-box", "40", &page, 200);
    list_timing(d, t, "a page of a commune's in-box", "16600", &inbox, 200);
    doc_query search = {.box = "out", .q = "giao duc dat dai"};
    list_timing(d, t, "a search of the out-box (target p99 < 30 ms)", "40", &search, 5);
    json_t *in = json_pack("{s:s, s:s, s:[s]}", "type", "CV", "subject", "Công văn mới",
                           "recipients", "16601");
    doc_actor who = {"bench", "40", ROLE_STAFF};
    double ms[200];
    for (int i = 0; i < 200; i++) {
        lt_error e = {0};
        double a = now_s();
        json_t *r = documents_create(d, in, NULL, 0, &who, t, &e);
        ms[i] = (now_s() - a) * 1e3;
        if (!r)
            die("create", e.message);
        json_decref(r);
    }
    json_decref(in);
    qsort(ms, 200, sizeof *ms, cmp_double);
    printf("documents: issuing one document: p50 %.2f ms, p99 %.2f ms (200 runs)\n", ms[100],
           ms[198]);
    attachments(d, t, dir);
    documents_free(d);
    unit_tree_free(t);
    store_close(s);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
