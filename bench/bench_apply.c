/*
 * bench_apply.c - `make bench`: how fast this machine signs, verifies,
 * writes and applies log entries, measured against the design targets
 * (design-notes: "replication speed is verification speed").
 *
 * One run prints, as rates and ratios:
 *   1. Ed25519 verifies/s on one core (entry_verify_bytes on real entries)
 *   2. Ed25519 signs/s (entry_encode) for reference
 *   3. local writes/s (store_write_local, 1,000 per transaction)
 *   4. remote entries applied/s, one thread (store_apply verifying itself)
 *   5. remote entries applied/s, pipelined: the thread pool verifies the
 *      batches ahead while the loop thread applies the verified one with
 *      STORE_PREVERIFIED (the "verify ahead, apply on the loop" pipeline,
 *      vpipe below, which the node's replication uses in the same shape)
 *   6. the ratios against the single-core verify rate, with PASS/MISS
 *
 * The workload is field reports (title, category, status, lat/long,
 * Vietnamese text; ~200-byte bodies) from four origins, 10% of them patches
 * of recent reports. Entries are generated before any apply phase is timed.
 * Every store is fresh, in a temp dir under /tmp removed at the end, with
 * LMDB's default durable commits. Exit status: 0 when every phase ran
 * correctly (a MISS is a finding, not a failure), 1 on any error.
 */
#include "storage/entry.h"
#include "storage/hlc.h"
#include "storage/store.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <msgpack.h>
#include <sched.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* ======================================================================
 * Verify ahead, apply on the loop (vpipe)
 *
 *   vpipe_submit(batch) -- split into chunks --> uv_queue_work: each chunk
 *                                                runs entry_verify_bytes
 *                                                (thread pool, all cores)
 *   after_work, on the loop thread <-------------------+
 *     while the oldest batch is fully verified:
 *       store_apply(its verified entries, STORE_PREVERIFIED)  -- one txn
 *       applied callback (acknowledge here: the batch is committed)
 *
 * Batches commit in submission order (so each origin's log grows by
 * appends). While the loop thread applies a batch and waits for its
 * commit, the pool keeps verifying the batches behind it: the caller keeps
 * a few batches submitted ahead, using vpipe_pending() for flow control.
 * Only the verify work leaves the loop thread, and it only writes its own
 * slice of the batch's ok[] array: there are no locks. libuv's pool also
 * runs the loop's file-system and DNS requests, so keep chunks short (a
 * couple of hundred entries, ~10 ms) to let those through. Everything here
 * depends only on store.h, entry.h and uv.h, so this section can move to
 * replication/ as it is.
 * ====================================================================== */

typedef struct vpipe vpipe;
typedef struct vpipe_batch vpipe_batch;

/* Called on the loop thread once per batch, in submission order, after its
 * transaction committed (rc 0) or failed (rc -1, err says why; nothing of
 * the batch was written). b->results is filled when rc is 0. */
typedef void (*vpipe_applied_cb)(vpipe *p, vpipe_batch *b, int rc, const char *err);

typedef struct {
    vpipe_batch *batch;
    size_t from, to; /* entries [from, to) of the batch */
    uv_work_t req;
} vpipe_chunk;

struct vpipe_batch {
    /* Set by the caller; in and results must live until the callback. */
    const store_input *in;
    size_t n;
    apply_result *results; /* n slots; entries failing verification get APPLY_ERR_SIG */
    void *data;            /* the caller's */
    /* Private to vpipe. */
    vpipe *pipe;
    vpipe_batch *next;
    uint8_t *ok; /* n verdicts written by the pool */
    vpipe_chunk *chunks;
    size_t chunks_left;
};

struct vpipe {
    uv_loop_t *loop;
    store *st;
    size_t chunk; /* entries per thread-pool work item */
    vpipe_applied_cb applied;
    void *data;               /* the caller's */
    vpipe_batch *head, *tail; /* submitted, not yet applied, oldest first */
    size_t pending;
    bool draining;
};

/* Prepares p; chunk is the number of entries one pool work item verifies
 * (a few hundred: small enough to spread a batch over all cores). */
static void vpipe_init(vpipe *p, uv_loop_t *loop, store *st, size_t chunk, vpipe_applied_cb applied,
                       void *data)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->st = st;
    p->chunk = chunk ? chunk : 256;
    p->applied = applied;
    p->data = data;
}

/* Batches submitted and not yet applied. */
static size_t vpipe_pending(const vpipe *p)
{
    return p->pending;
}

static void vpipe_verify_work(uv_work_t *req)
{
    vpipe_chunk *c = req->data;
    vpipe_batch *b = c->batch;
    for (size_t i = c->from; i < c->to; i++)
        b->ok[i] = entry_verify_bytes(b->in[i].bytes, b->in[i].len);
}

/* Applies b's verified entries in one transaction; the others are refused
 * as APPLY_ERR_SIG without touching the store. */
static int vpipe_apply(vpipe *p, vpipe_batch *b, char *err, size_t errlen)
{
    size_t good = 0;
    for (size_t i = 0; i < b->n; i++)
        good += b->ok[i];
    if (good == b->n)
        return store_apply(p->st, b->in, b->n, STORE_PREVERIFIED, b->results, NULL, err, errlen);
    store_input *in = malloc((good ? good : 1) * sizeof *in);
    apply_result *res = malloc((good ? good : 1) * sizeof *res);
    int rc = -1;
    if (!in || !res) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0, j = 0; i < b->n; i++)
        if (b->ok[i])
            in[j++] = b->in[i];
    rc = good ? store_apply(p->st, in, good, STORE_PREVERIFIED, res, NULL, err, errlen) : 0;
    for (size_t i = 0, j = 0; !rc && i < b->n; i++)
        b->results[i] = b->ok[i] ? res[j++] : APPLY_ERR_SIG;
out:
    free(in);
    free(res);
    return rc;
}

/* Applies, oldest first, every batch whose verification is complete. */
static void vpipe_drain(vpipe *p)
{
    if (p->draining) /* a callback submitted an empty batch */
        return;
    p->draining = true;
    while (p->head && p->head->chunks_left == 0) {
        vpipe_batch *b = p->head;
        p->head = b->next;
        if (!p->head)
            p->tail = NULL;
        p->pending--;
        char err[STORE_ERR_LEN] = "";
        int rc = vpipe_apply(p, b, err, sizeof err);
        free(b->ok);
        free(b->chunks);
        b->ok = NULL;
        b->chunks = NULL;
        p->applied(p, b, rc, err);
    }
    p->draining = false;
}

static void vpipe_verify_done(uv_work_t *req, int status)
{
    vpipe_chunk *c = req->data;
    vpipe_batch *b = c->batch;
    if (status) /* cancelled: treat as unverified */
        memset(b->ok + c->from, 0, c->to - c->from);
    if (--b->chunks_left == 0)
        vpipe_drain(b->pipe);
}

/* Queues b's verification now; b is applied after every batch submitted
 * before it. Returns 0, or -1 when out of memory (b not taken). */
static int vpipe_submit(vpipe *p, vpipe_batch *b)
{
    size_t nchunks = (b->n + p->chunk - 1) / p->chunk;
    b->pipe = p;
    b->next = NULL;
    b->ok = calloc(b->n ? b->n : 1, 1);
    b->chunks = calloc(nchunks ? nchunks : 1, sizeof *b->chunks);
    if (!b->ok || !b->chunks) {
        free(b->ok);
        free(b->chunks);
        return -1;
    }
    b->chunks_left = nchunks;
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    p->pending++;
    for (size_t k = 0; k < nchunks; k++) {
        vpipe_chunk *c = &b->chunks[k];
        c->batch = b;
        c->from = k * p->chunk;
        c->to = c->from + p->chunk < b->n ? c->from + p->chunk : b->n;
        c->req.data = c;
        uv_queue_work(p->loop, &c->req, vpipe_verify_work, vpipe_verify_done);
    }
    if (nchunks == 0)
        vpipe_drain(p);
    return 0;
}

/* ======================================================================
 * Measuring
 * ====================================================================== */

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) used by the process so far, all threads. */
static double bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct {
    double wall, cpu; /* seconds */
    size_t count;
} bench_span;

static void bench_span_begin(bench_span *s)
{
    s->wall = bench_now();
    s->cpu = bench_cpu();
}

static void bench_span_end(bench_span *s, size_t count)
{
    s->wall = bench_now() - s->wall;
    s->cpu = bench_cpu() - s->cpu;
    s->count = count;
}

static double bench_rate(const bench_span *s)
{
    return s->wall > 0 ? (double)s->count / s->wall : 0;
}

static int bench_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* "123,456" */
static const char *bench_thousands(double v, char *buf, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void bench_print_rate(const char *label, const bench_span *s, const char *unit)
{
    char r[32];
    double rate = bench_rate(s);
    printf("  %-56s %8s %-9s %6.1f us/entry  %4.2f cores busy\n", label,
           bench_thousands(rate, r, sizeof r), unit, rate > 0 ? 1e6 / rate : 0,
           s->wall > 0 ? s->cpu / s->wall : 0);
}

static int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_apply: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* ======================================================================
 * Temp dirs
 * ====================================================================== */

static int bench_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void bench_rm_tree(const char *path)
{
    nftw(path, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Opens a fresh store in root/name. */
static store *bench_store_open(const char *root, const char *name)
{
    char path[512], err[STORE_ERR_LEN];
    snprintf(path, sizeof path, "%s/%s", root, name);
    store *s;
    if (store_open(&s, path, NULL, err, sizeof err)) {
        bench_fail("%s", err);
        return NULL;
    }
    return s;
}

static void bench_store_drop(store *s, const char *root, const char *name)
{
    char path[512];
    store_close(s);
    snprintf(path, sizeof path, "%s/%s", root, name);
    bench_rm_tree(path);
}

/* ======================================================================
 * The workload: field reports from several origins
 * ====================================================================== */

#define BENCH_ORIGINS 4
#define BENCH_ID_CAP 32

static const char *const report_titles[] = {
    "Rác thải ùn ứ tại ngõ 12 Lê Lợi", "Đèn đường hỏng trên đại lộ Lê Nin",
    "Ổ gà lớn trên đường Nguyễn Du",   "Công trình xây dựng không phép",
    "Tụ tập gây mất trật tự ban đêm",  "Cống thoát nước bị tắc sau mưa",
};
static const char *const report_categories[] = {"môi trường", "giao thông", "xây dựng",
                                                "an ninh trật tự"};
static const char *const report_statuses[] = {"mới", "đã tiếp nhận", "đang xử lý", "đã xử lý"};
static const char *const report_texts[] = {
    "Người dân phản ánh tình trạng kéo dài nhiều ngày, đề nghị phường kiểm tra, xử lý.",
    "Gần chợ và trường học, ảnh hưởng đi lại; mong cơ quan chức năng sớm khắc phục.",
    "Đã báo tổ dân phố nhưng chưa có phản hồi; kèm ảnh chụp lúc 7 giờ sáng nay.",
};
static const char *const report_notes[] = {
    "Đã giao tổ dân phố kiểm tra hiện trường.",
    "Công ty môi trường đô thị đã xử lý xong.",
    "Chuyển đội quản lý trật tự đô thị.",
};
static const char *const origin_units[BENCH_ORIGINS] = {"40", "412", "41201", "41203"};
static const char *const report_to[] = {"412"};

typedef struct {
    uint64_t s;
} bench_rng;

static uint64_t bench_rng_next(bench_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

#define PICK(rng, arr) (arr[bench_rng_next(rng) % (sizeof arr / sizeof *arr)])

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Packs a report body (keys sorted, as mpjson packs them) into sb. A
 * patch only moves the status and adds a note. */
static void report_body(msgpack_sbuffer *sb, bench_rng *rng, bool patch, uint64_t n)
{
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (patch) {
        msgpack_pack_map(&pk, 2);
        pack_cstr(&pk, "note");
        pack_cstr(&pk, PICK(rng, report_notes));
        pack_cstr(&pk, "status");
        pack_cstr(&pk, report_statuses[1 + bench_rng_next(rng) % 3]);
        return;
    }
    char title[128];
    snprintf(title, sizeof title, "%s (%" PRIu64 ")", PICK(rng, report_titles), n);
    msgpack_pack_map(&pk, 6);
    pack_cstr(&pk, "category");
    pack_cstr(&pk, PICK(rng, report_categories));
    pack_cstr(&pk, "lat");
    msgpack_pack_double(&pk, 18.60 + (double)(bench_rng_next(rng) % 100000) / 1e6);
    pack_cstr(&pk, "long");
    msgpack_pack_double(&pk, 105.62 + (double)(bench_rng_next(rng) % 100000) / 1e6);
    pack_cstr(&pk, "status");
    pack_cstr(&pk, report_statuses[0]);
    pack_cstr(&pk, "text");
    pack_cstr(&pk, PICK(rng, report_texts));
    pack_cstr(&pk, "title");
    pack_cstr(&pk, title);
}

/* How new record ids are made; it decides where the records and by_unit
 * inserts land in their B-trees, hence how many pages a commit writes. */
typedef enum {
    IDS_SEQ,    /* "PA-41201-000123": the unit's own counter, as cli/demo_data.c */
    IDS_RANDOM, /* 20 random base32 characters, like a UUID: inserts anywhere */
    IDS_TIME,   /* the HLC in hex then 4 random characters, like a ULID */
} id_scheme;

static const char *const id_scheme_names[] = {"seq", "random", "time"};

static void report_id(char out[BENCH_ID_CAP], id_scheme scheme, bench_rng *rng, const char *unit,
                      uint64_t counter, uint64_t hlc)
{
    static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
    size_t o = 0;
    if (scheme == IDS_SEQ) {
        snprintf(out, BENCH_ID_CAP, "PA-%s-%06" PRIu64, unit, counter);
        return;
    }
    if (scheme == IDS_TIME)
        o = (size_t)snprintf(out, BENCH_ID_CAP, "%016" PRIx64, hlc);
    while (o < 20)
        out[o++] = b32[bench_rng_next(rng) & 31];
    out[o] = '\0';
}

typedef struct {
    uint8_t pk[ENTRY_KEY_BYTES], sk[ENTRY_SECRET_BYTES];
    const char *unit;
    uint64_t seq;
    uint8_t prev[ENTRY_HASH_BYTES];
    hlc_t hlc;
    uint64_t reports; /* records created */
} bench_origin;

typedef struct {
    store_input *in; /* n entries, pointing into arena */
    uint8_t *arena;
    size_t n;
    size_t bytes, body_bytes, patches;
    bench_span sign; /* time inside entry_encode only */
} bench_workload;

/* Encodes and signs n entries, round-robin over the origins, each origin's
 * seqs hash-linked from 1; 10% patch a report of the same origin written
 * shortly before. */
static int workload_make(bench_workload *w, size_t n, id_scheme scheme)
{
    memset(w, 0, sizeof *w);
    bench_origin org[BENCH_ORIGINS];
    bench_rng rng = {0x9e3779b97f4a7c15ULL};
    char(*ids)[BENCH_ID_CAP] = malloc((n ? n : 1) * sizeof *ids);
    size_t *offs = malloc((n ? n : 1) * sizeof *offs), cap = 512 * (n ? n : 1);
    w->in = calloc(n ? n : 1, sizeof *w->in);
    w->arena = malloc(cap);
    if (!ids || !offs || !w->in || !w->arena) {
        free(ids);
        free(offs);
        return bench_fail("out of memory for %zu entries", n);
    }
    for (int o = 0; o < BENCH_ORIGINS; o++) {
        uint8_t seed[crypto_sign_SEEDBYTES] = {(uint8_t)(o + 1)};
        crypto_sign_seed_keypair(org[o].pk, org[o].sk, seed);
        org[o].unit = origin_units[o];
        org[o].seq = 0;
        org[o].hlc = 0;
        org[o].reports = 0;
    }
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    double inside = 0, inside_cpu = 0;
    for (size_t i = 0; i < n; i++) {
        bench_origin *o = &org[i % BENCH_ORIGINS];
        o->hlc = hlc_next(o->hlc, hlc_wall_ms());
        size_t own = i / BENCH_ORIGINS; /* entries this origin wrote before */
        bool patch = own >= 8 && bench_rng_next(&rng) % 10 == 0;
        if (patch) {
            size_t back = 1 + bench_rng_next(&rng) % (own < 1000 ? own : 1000);
            memcpy(ids[i], ids[i - back * BENCH_ORIGINS], BENCH_ID_CAP);
            w->patches++;
        } else {
            report_id(ids[i], scheme, &rng, o->unit, ++o->reports, o->hlc);
        }
        report_body(&body, &rng, patch, i);
        entry_fields f = {.origin = o->pk,
                          .seq = ++o->seq,
                          .prev = o->seq > 1 ? o->prev : NULL,
                          .hlc = o->hlc,
                          .unit = o->unit,
                          .coll = "reports",
                          .id = ids[i],
                          .op = patch ? ENTRY_OP_PATCH : ENTRY_OP_PUT,
                          .body = (const uint8_t *)body.data,
                          .body_len = body.size,
                          .to = report_to,
                          .to_count = 1};
        uint8_t *bytes;
        size_t len;
        char err[STORE_ERR_LEN];
        double t0 = bench_now(), c0 = bench_cpu();
        int rc = entry_encode(&f, o->sk, &bytes, &len, err, sizeof err);
        inside += bench_now() - t0;
        inside_cpu += bench_cpu() - c0;
        if (rc) {
            msgpack_sbuffer_destroy(&body);
            free(ids);
            free(offs);
            return bench_fail("entry_encode: %s", err);
        }
        entry_hash(bytes, len, o->prev);
        /* entry_encode's buffer is an 8 KiB msgpack_sbuffer: keep a copy
         * in one arena instead, as a receive buffer would hold them. */
        if (w->bytes + len > cap) {
            uint8_t *grown = realloc(w->arena, cap * 2);
            if (!grown) {
                free(bytes);
                msgpack_sbuffer_destroy(&body);
                free(ids);
                free(offs);
                return bench_fail("out of memory for %zu entries", n);
            }
            w->arena = grown;
            cap *= 2;
        }
        memcpy(w->arena + w->bytes, bytes, len);
        free(bytes);
        offs[i] = w->bytes;
        w->in[i].len = len;
        w->n = i + 1;
        w->bytes += len;
        w->body_bytes += body.size;
    }
    for (size_t i = 0; i < n; i++)
        w->in[i].bytes = w->arena + offs[i];
    free(offs);
    w->sign.wall = inside;
    w->sign.cpu = inside_cpu;
    w->sign.count = n;
    msgpack_sbuffer_destroy(&body);
    free(ids);
    return 0;
}

static void workload_free(bench_workload *w)
{
    free(w->arena);
    free(w->in);
    memset(w, 0, sizeof *w);
}

/* ======================================================================
 * The phases
 * ====================================================================== */

typedef struct {
    size_t entries;  /* remote entries applied per apply phase */
    size_t verifies; /* entries verified for figure 1 */
    size_t local;    /* local writes for figure 3 */
    size_t batch;    /* entries per transaction */
    size_t depth;    /* pipeline: batches submitted ahead */
    size_t chunk;    /* pipeline: entries per pool work item */
    size_t rounds;   /* timed phases run this many times; the best run counts */
    id_scheme ids;
    bool skip_diag;
} bench_opts;

/* 1. Signature checks on one core, over the real encoded entries. */
static int phase_verify(const bench_workload *w, size_t count, bench_span *sp)
{
    bench_span_begin(sp);
    for (size_t i = 0; i < count; i++)
        if (!entry_verify_bytes(w->in[i % w->n].bytes, w->in[i % w->n].len))
            return bench_fail("entry %zu does not verify", i);
    bench_span_end(sp, count);
    return 0;
}

/* Diagnostic: the verify work alone, spread over the thread pool in
 * chunks the way vpipe spreads it: the ceiling of any pipeline. */
typedef struct {
    uv_work_t req;
    const store_input *in;
    size_t n, bad;
} verify_chunk;

static void verify_chunk_work(uv_work_t *req)
{
    verify_chunk *c = req->data;
    for (size_t i = 0; i < c->n; i++)
        c->bad += !entry_verify_bytes(c->in[i].bytes, c->in[i].len);
}

static void verify_chunk_done(uv_work_t *req, int status)
{
}

static int phase_verify_pool(const bench_workload *w, size_t count, size_t chunk, bench_span *sp)
{
    size_t nchunks = (count + chunk - 1) / chunk, bad = 0;
    verify_chunk *c = calloc(nchunks ? nchunks : 1, sizeof *c);
    uv_loop_t loop;
    if (!c || uv_loop_init(&loop)) {
        free(c);
        return bench_fail("cannot start a loop");
    }
    bench_span_begin(sp);
    for (size_t k = 0; k < nchunks; k++) {
        c[k].in = w->in + k * chunk;
        c[k].n = count - k * chunk < chunk ? count - k * chunk : chunk;
        c[k].req.data = &c[k];
        uv_queue_work(&loop, &c[k].req, verify_chunk_work, verify_chunk_done);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    bench_span_end(sp, count);
    uv_loop_close(&loop);
    for (size_t k = 0; k < nchunks; k++)
        bad += c[k].bad;
    free(c);
    return bad ? bench_fail("%zu entries do not verify", bad) : 0;
}

/* 3. store_write_local: build, sign, apply, batch transactions. */
static int phase_local(const char *root, const bench_opts *o, bench_span *sp)
{
    size_t n = o->local;
    store_write *w = calloc(n ? n : 1, sizeof *w);
    char(*ids)[BENCH_ID_CAP] = malloc((n ? n : 1) * sizeof *ids);
    uint8_t **bodies = calloc(n ? n : 1, sizeof *bodies);
    int rc = -1;
    store *s = NULL;
    if (!w || !ids || !bodies) {
        bench_fail("out of memory");
        goto out;
    }
    bench_rng rng = {0x51ed270b27a3c9f1ULL};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (size_t i = 0; i < n; i++) {
        bool patch = i >= 8 && bench_rng_next(&rng) % 10 == 0;
        if (patch)
            memcpy(ids[i], ids[i - 1 - bench_rng_next(&rng) % (i < 1000 ? i : 1000)], BENCH_ID_CAP);
        else
            report_id(ids[i], o->ids, &rng, "41205", i + 1, hlc_make(hlc_wall_ms(), 0) + i);
        report_body(&sb, &rng, patch, i);
        bodies[i] = malloc(sb.size);
        if (!bodies[i]) {
            msgpack_sbuffer_destroy(&sb);
            bench_fail("out of memory");
            goto out;
        }
        memcpy(bodies[i], sb.data, sb.size);
        w[i] = (store_write){"reports", ids[i],  patch ? ENTRY_OP_PATCH : ENTRY_OP_PUT,
                             bodies[i], sb.size, report_to,
                             1};
    }
    msgpack_sbuffer_destroy(&sb);

    uint8_t pk[ENTRY_KEY_BYTES], sk[ENTRY_SECRET_BYTES];
    uint8_t seed[crypto_sign_SEEDBYTES] = {0x77};
    crypto_sign_seed_keypair(pk, sk, seed);
    store_author a = {pk, sk, "41205"};
    if (!(s = bench_store_open(root, "local")))
        goto out;
    bench_span_begin(sp);
    for (size_t off = 0; off < n; off += o->batch) {
        size_t k = n - off < o->batch ? n - off : o->batch;
        char err[STORE_ERR_LEN];
        if (store_write_local(s, &a, w + off, k, NULL, err, sizeof err)) {
            bench_fail("store_write_local: %s", err);
            goto out;
        }
    }
    bench_span_end(sp, n);
    if (store_entry_count(s) != n) {
        bench_fail("local store holds %" PRIu64 " entries, expected %zu", store_entry_count(s), n);
        goto out;
    }
    rc = 0;
out:
    if (s)
        bench_store_drop(s, root, "local");
    for (size_t i = 0; bodies && i < n; i++)
        free(bodies[i]);
    free(bodies);
    free(ids);
    free(w);
    return rc;
}

/* Counts results other than APPLY_ADDED; reports the first. */
static size_t bench_check_results(const apply_result *r, size_t n, size_t base)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i] != APPLY_ADDED && bad++ == 0)
            bench_fail("entry %zu: %s", base + i, apply_result_str(r[i]));
    return bad;
}

/* 4. (and the diagnostic) store_apply on one thread, batch by batch. */
static int phase_apply_serial(store *s, const bench_workload *w, size_t batch, unsigned flags,
                              bench_span *sp)
{
    apply_result *res = malloc(batch * sizeof *res);
    if (!res)
        return bench_fail("out of memory");
    size_t bad = 0;
    bench_span_begin(sp);
    for (size_t off = 0; off < w->n; off += batch) {
        size_t k = w->n - off < batch ? w->n - off : batch;
        char err[STORE_ERR_LEN];
        if (store_apply(s, w->in + off, k, flags, res, NULL, err, sizeof err)) {
            free(res);
            return bench_fail("store_apply: %s", err);
        }
        bad += bench_check_results(res, k, off);
    }
    bench_span_end(sp, w->n);
    free(res);
    if (bad || store_entry_count(s) != w->n)
        return bench_fail("%zu entries not added; store holds %" PRIu64 " of %zu", bad,
                          store_entry_count(s), w->n);
    return 0;
}

/* 5. The pipeline, fed like a replication session would feed it: keep
 * `depth` batches submitted, submit the next one after each commit. */
typedef struct {
    vpipe pipe;
    const bench_workload *w;
    size_t batch, depth, next, nbatches;
    vpipe_batch *batches;
    apply_result *results; /* w->n */
    size_t applied, bad;
    bool failed;
} pipe_feed;

static void pipe_feed_more(pipe_feed *f)
{
    while (!f->failed && f->next < f->nbatches && vpipe_pending(&f->pipe) < f->depth) {
        size_t off = f->next * f->batch;
        vpipe_batch *b = &f->batches[f->next++];
        memset(b, 0, sizeof *b);
        b->in = f->w->in + off;
        b->n = f->w->n - off < f->batch ? f->w->n - off : f->batch;
        b->results = f->results + off;
        if (vpipe_submit(&f->pipe, b)) {
            bench_fail("out of memory");
            f->failed = true;
        }
    }
}

static void pipe_feed_applied(vpipe *p, vpipe_batch *b, int rc, const char *err)
{
    pipe_feed *f = p->data;
    if (rc) {
        bench_fail("store_apply: %s", err);
        f->failed = true;
        return;
    }
    f->bad += bench_check_results(b->results, b->n, (size_t)(b->in - f->w->in));
    f->applied += b->n;
    pipe_feed_more(f);
}

static int phase_apply_pipelined(store *s, const bench_workload *w, const bench_opts *o,
                                 bench_span *sp)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop))
        return bench_fail("uv_loop_init failed");
    pipe_feed f = {.w = w, .batch = o->batch, .depth = o->depth};
    f.nbatches = (w->n + o->batch - 1) / o->batch;
    f.batches = calloc(f.nbatches ? f.nbatches : 1, sizeof *f.batches);
    f.results = calloc(w->n ? w->n : 1, sizeof *f.results);
    int rc = -1;
    if (!f.batches || !f.results) {
        bench_fail("out of memory");
        goto out;
    }
    vpipe_init(&f.pipe, &loop, s, o->chunk, pipe_feed_applied, &f);
    bench_span_begin(sp);
    pipe_feed_more(&f);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns when every batch is applied */
    bench_span_end(sp, f.applied);
    if (f.failed)
        goto out;
    if (f.bad || f.applied != w->n || store_entry_count(s) != w->n) {
        bench_fail("%zu entries not added; store holds %" PRIu64 " of %zu", f.bad,
                   store_entry_count(s), w->n);
        goto out;
    }
    rc = 0;
out:
    uv_loop_close(&loop);
    free(f.batches);
    free(f.results);
    return rc;
}

/* The two ways of applying must give the same collections, bit for bit. */
typedef struct {
    char coll[64];
    uint64_t live;
    uint8_t digest[STORE_DIGEST_BYTES];
    int n;
} coll_snap;

static int coll_snap_take(void *ctx, const char *coll, uint64_t live,
                          const uint8_t digest[STORE_DIGEST_BYTES])
{
    coll_snap *c = ctx;
    if (c->n++ == 0) {
        snprintf(c->coll, sizeof c->coll, "%s", coll);
        c->live = live;
        memcpy(c->digest, digest, STORE_DIGEST_BYTES);
    }
    return 0;
}

static int coll_snap_of(store *s, coll_snap *c)
{
    memset(c, 0, sizeof *c);
    if (store_collections(s, coll_snap_take, c) || c->n != 1)
        return bench_fail("expected one collection, found %d", c->n);
    return 0;
}

static bool coll_snap_equal(const coll_snap *x, const coll_snap *y)
{
    return !strcmp(x->coll, y->coll) && x->live == y->live &&
           !memcmp(x->digest, y->digest, STORE_DIGEST_BYTES);
}

/* ======================================================================
 * Rounds: other processes often share these cores, so every timed phase
 * runs once per round and the fastest run counts (for the rates and for
 * the ratios alike); the per-round rates are printed to show the noise.
 * ====================================================================== */

#define BENCH_MAX_ROUNDS 10

enum { T_VERIFY, T_VPOOL, T_SINGLE, T_PIPED, T_DIAG, T_COUNT };

typedef struct {
    bench_span best[T_COUNT];
    double rates[T_COUNT][BENCH_MAX_ROUNDS];
    size_t rounds;
    uint64_t live; /* live reports after applying the workload */
} bench_results;

static void bench_keep(bench_results *r, int which, const bench_span *s)
{
    r->rates[which][r->rounds] = bench_rate(s);
    if (!r->best[which].count || bench_rate(s) > bench_rate(&r->best[which]))
        r->best[which] = *s;
}

/* One round of every timed phase, each apply into fresh stores. */
static int bench_round(const char *root, const bench_workload *w, const bench_opts *o,
                       bench_results *r)
{
    bench_span sp;
    if (phase_verify(w, o->verifies, &sp))
        return -1;
    bench_keep(r, T_VERIFY, &sp);
    if (!o->skip_diag) {
        if (phase_verify_pool(w, o->verifies, o->chunk, &sp))
            return -1;
        bench_keep(r, T_VPOOL, &sp);
    }
    /* One store at a time: each is dropped once its digest is taken. */
    coll_snap by_single, by_pipe;
    store *single = bench_store_open(root, "single"), *piped = NULL;
    int rc = -1;
    if (!single || phase_apply_serial(single, w, o->batch, 0, &sp) ||
        coll_snap_of(single, &by_single))
        goto out;
    bench_keep(r, T_SINGLE, &sp);
    bench_store_drop(single, root, "single");
    single = NULL;
    if (!(piped = bench_store_open(root, "pipelined")) || phase_apply_pipelined(piped, w, o, &sp) ||
        coll_snap_of(piped, &by_pipe))
        goto out;
    bench_keep(r, T_PIPED, &sp);
    bench_store_drop(piped, root, "pipelined");
    piped = NULL;
    if (!coll_snap_equal(&by_single, &by_pipe)) {
        bench_fail("the single-threaded and pipelined stores differ");
        goto out;
    }
    r->live = by_single.live;
    if (!o->skip_diag) {
        store *diag = bench_store_open(root, "diag");
        if (!diag)
            goto out;
        int drc = phase_apply_serial(diag, w, o->batch, STORE_PREVERIFIED, &sp);
        bench_store_drop(diag, root, "diag");
        if (drc)
            goto out;
        bench_keep(r, T_DIAG, &sp);
    }
    r->rounds++;
    rc = 0;
out:
    if (single)
        bench_store_drop(single, root, "single");
    if (piped)
        bench_store_drop(piped, root, "pipelined");
    return rc;
}

static void bench_print_rounds(const char *label, const bench_results *r, int which)
{
    char buf[32];
    printf("     %-20s", label);
    for (size_t i = 0; i < r->rounds; i++)
        printf(" %9s", bench_thousands(r->rates[which][i], buf, sizeof buf));
    printf("\n");
}

/* ======================================================================
 * Main
 * ====================================================================== */

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: bench_apply [--entries N] [--verifies N] [--local N] [--batch N] [--rounds N]\n"
            "                   [--depth N] [--chunk N] [--ids seq|random|time] [--no-diag]\n"
            "  --entries N   remote entries per apply phase (100000)\n"
            "  --verifies N  signatures checked for the single-core figure (40000)\n"
            "  --local N     local writes (20000)\n"
            "  --batch N     entries per transaction (1000)\n"
            "  --rounds N    run the timed phases N times, keep each one's best (2)\n"
            "  --depth N     pipeline: batches submitted ahead (4)\n"
            "  --chunk N     pipeline: entries per thread-pool work item (200)\n"
            "  --ids S       new record ids: seq \"PA-<unit>-<n>\" (default, as the demo\n"
            "                data), random (UUID-like), time (ULID-like)\n"
            "  --no-diag     skip the diagnostic apply-only phase\n");
}

static int bench_parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.entries = 100000,
                      .verifies = 40000,
                      .local = 20000,
                      .batch = 1000,
                      .depth = 4,
                      .chunk = 200,
                      .rounds = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t *target = NULL;
        if (!strcmp(a, "--ids") && i + 1 < argc) {
            const char *v = argv[++i];
            size_t k = 0;
            while (k < 3 && strcmp(v, id_scheme_names[k]))
                k++;
            if (k == 3) {
                bench_fail("--ids takes seq, random or time, not \"%s\"", v);
                return -1;
            }
            o->ids = (id_scheme)k;
            continue;
        }
        if (!strcmp(a, "--no-diag")) {
            o->skip_diag = true;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--entries"))
            target = &o->entries;
        else if (!strcmp(a, "--verifies"))
            target = &o->verifies;
        else if (!strcmp(a, "--local"))
            target = &o->local;
        else if (!strcmp(a, "--batch"))
            target = &o->batch;
        else if (!strcmp(a, "--rounds"))
            target = &o->rounds;
        else if (!strcmp(a, "--depth"))
            target = &o->depth;
        else if (!strcmp(a, "--chunk"))
            target = &o->chunk;
        char *end;
        if (!target || i + 1 >= argc) {
            bench_usage(stderr);
            return -1;
        }
        errno = 0;
        unsigned long long v = strtoull(argv[++i], &end, 10);
        if (errno || *end || v == 0) {
            bench_fail("%s needs a positive number, not \"%s\"", a, argv[i]);
            return -1;
        }
        *target = (size_t)v;
    }
    if (o->verifies > o->entries)
        o->verifies = o->entries;
    if (o->rounds > BENCH_MAX_ROUNDS)
        o->rounds = BENCH_MAX_ROUNDS;
    return 0;
}

static void bench_verdict(const char *label, double ratio, double target, bool applicable)
{
    printf("  %-56s %6.3f   target >= %.2f   %s\n", label, ratio, target,
           !applicable       ? "n/a (needs 2+ cores)"
           : ratio >= target ? "PASS"
                             : "MISS");
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (bench_parse(argc, argv, &o))
        return 1;
    int cores = bench_cores();
    /* Before the first uv call: the pool is sized once, on first use. */
    char nthreads[16];
    snprintf(nthreads, sizeof nthreads, "%d", cores);
    setenv("UV_THREADPOOL_SIZE", nthreads, 0);
    if (sodium_init() < 0)
        return bench_fail("sodium_init failed"), 1;

    char root[] = "/tmp/lt-bench-apply-XXXXXX";
    if (!mkdtemp(root))
        return bench_fail("mkdtemp: %s", strerror(errno)), 1;

    int rc = 1;
    bench_workload w = {0};
    bench_results res = {0};
    bench_span sp_local = {0};

    double load[1] = {0};
    getloadavg(load, 1);
    printf("lienthong bench_apply: %d core(s), UV_THREADPOOL_SIZE=%s, load average %.2f%s\n", cores,
           getenv("UV_THREADPOOL_SIZE"), load[0],
           load[0] > 0.5 ? " (other processes compete for the cores)" : "");
    fflush(stdout);
    if (workload_make(&w, o.entries, o.ids))
        goto out;
    printf("workload: %zu remote entries from %d origins (%zu puts, %zu patches), record ids "
           "\"%s\"\n"
           "          entry %.0f B avg (signed message %.0f B), body %.0f B avg; %zu local "
           "writes; %zu entries per transaction\n"
           "          timed phases: best of %zu rounds\n\n",
           w.n, BENCH_ORIGINS, w.n - w.patches, w.patches, id_scheme_names[o.ids],
           (double)w.bytes / (double)w.n, (double)w.bytes / (double)w.n - ENTRY_SIG_TAIL,
           (double)w.body_bytes / (double)w.n, o.local, o.batch, o.rounds);

    if (phase_local(root, &o, &sp_local))
        goto out;
    for (size_t i = 0; i < o.rounds; i++)
        if (bench_round(root, &w, &o, &res))
            goto out;

    const bench_span *sp_verify = &res.best[T_VERIFY], *sp_vpool = &res.best[T_VPOOL];
    const bench_span *sp_single = &res.best[T_SINGLE], *sp_pipe = &res.best[T_PIPED];
    const bench_span *sp_diag = &res.best[T_DIAG];
    double verify = bench_rate(sp_verify);
    printf("%-58s %8s %-9s %15s  %s\n", "figures", "rate", "", "per entry", "CPU");
    bench_print_rate("1. Ed25519 verify, 1 core (entry_verify_bytes)", sp_verify, "verif/s");
    bench_print_rate("2. Ed25519 sign (entry_encode)", &w.sign, "signs/s");
    bench_print_rate("3. local writes (store_write_local)", &sp_local, "writes/s");
    bench_print_rate("4. remote applied, 1 thread (verify + apply)", sp_single, "entries/s");
    bench_print_rate("5. remote applied, pipelined (pool verify, loop apply)", sp_pipe,
                     "entries/s");
    if (!o.skip_diag) {
        printf("  diagnostics\n");
        bench_print_rate("   verify only, all cores (thread pool)", sp_vpool, "verif/s");
        bench_print_rate("   apply only, 1 thread (STORE_PREVERIFIED)", sp_diag, "entries/s");
    }
    printf("  (single-threaded and pipelined stores agree: %" PRIu64
           " live reports, equal digests)\n",
           res.live);
    printf("  per round, /s:\n");
    bench_print_rounds("1. verify, 1 core", &res, T_VERIFY);
    bench_print_rounds("4. applied, 1 thread", &res, T_SINGLE);
    bench_print_rounds("5. applied, pipelined", &res, T_PIPED);
    printf("\n");

    printf("ratios\n");
    bench_verdict("6a. applied(1 thread) / verify(1 core)", bench_rate(sp_single) / verify, 0.80,
                  true);
    bench_verdict("6b. applied(pipelined) / verify(1 core)", bench_rate(sp_pipe) / verify, 1.50,
                  cores >= 2);
    printf("  %-56s %6d\n", "6c. cores", cores);
    if (!o.skip_diag) {
        /* What the parts predict, in seconds per entry. The single thread
         * pays verify + apply. The pipeline is bounded by the CPU both need
         * over the cores actually usable (the pool's verify rate over the
         * one-core rate: less than `cores` when other processes compete),
         * and by the loop thread, which applies serially. */
        double tv = 1 / verify, ta_wall = 1 / bench_rate(sp_diag);
        double ta_cpu = sp_diag->cpu / (double)sp_diag->count;
        double usable = bench_rate(sp_vpool) / verify;
        double pred_single = 1 / (tv + ta_wall);
        double by_cpu = usable / (tv + ta_cpu), by_loop = 1 / ta_wall;
        double pred_piped = by_cpu < by_loop ? by_cpu : by_loop;
        printf("  %-56s %6.2f   (verify rate on the pool / on 1 core)\n", "    cores usable now",
               usable);
        printf("  %-56s %6.2f   (apply %.1f us wall, %.1f us CPU; verify %.1f us)\n",
               "    apply-only cost / verify cost", ta_wall / tv, ta_wall * 1e6, ta_cpu * 1e6,
               tv * 1e6);
        printf("  %-56s %6.2f   (1 / (verify + apply wall))\n",
               "    6a as predicted from the parts", pred_single / verify);
        printf("  %-56s %6.2f   (min(usable / (verify + apply CPU), 1 / apply wall): %s)\n",
               "    6b as predicted from the parts", pred_piped / verify,
               by_cpu < by_loop ? "CPU-bound" : "bound by the loop thread");
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak RSS: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    rc = 0;
out:
    workload_free(&w);
    bench_rm_tree(root);
    return rc;
}
