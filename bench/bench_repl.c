/*
 * bench_repl.c - replication throughput of the protocol over real LMDB
 * stores, nodes and keys, in one process (no sockets: the figures are the
 * protocol's and the store's, the WebSocket layer adds framing only).
 *
 * Prints: the single-core Ed25519 verify rate; one-hop catch-up of N
 * entries (commune -> province) with verification inline and on the libuv
 * thread pool (repl_config.defer_verify); a 3-hop chain catch-up (commune
 * -> district -> province -> national, all links live at once, relaying as
 * batches land); live push of entries one at a time and the latency of one
 * entry over 3 hops; peak RSS. Ratios are against the verify rate.
 *
 * Every rate is computed from the entries the target node actually holds
 * at the end of the step. When a step stalls (nothing moves before the
 * target holds all it was sent) or a target is missed, the bench says so
 * and exits with status 1.
 *
 * Usage: bench_repl [--entries N]   (default 100000)
 */
#include "lib/mpjson.h"
#include "node/membership/network.h"
#include "replication/repl_node.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
    node_config c;
    store *s;
    repl_node rn;
    uint64_t applied_seen;
} bnode;

typedef struct {
    bnode *lower, *upper;
    repl_session *a, *b; /* a: lower (dials), b: upper */
} blink;

typedef struct {
    uv_work_t req;
    repl_verify_job job;
    repl_session *s;
} bjob;

static uv_loop_t loop;
static int jobs_running;
static int failures; /* stalls and missed targets: the exit status */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void bench_die(const char *what, const char *err)
{
    fprintf(stderr, "bench_repl: %s: %s\n", what, err);
    exit(1);
}

static void node_make(bnode *n, const char *base, const char *unit, const char *tier, bnode *parent)
{
    char err[512];
    memset(n, 0, sizeof *n);
    node_config_default_tiers(&n->c);
    snprintf(n->c.dir, sizeof n->c.dir, "%s/%s", base, unit);
    snprintf(n->c.unit, sizeof n->c.unit, "%s", unit);
    snprintf(n->c.name, sizeof n->c.name, "Unit %s", unit);
    snprintf(n->c.tier, sizeof n->c.tier, "%s", tier);
    snprintf(n->c.parent_unit, sizeof n->c.parent_unit, "%s", parent ? parent->c.unit : "");
    snprintf(n->c.listen, sizeof n->c.listen, "127.0.0.1:0");
    if (node_config_create(&n->c, err, sizeof err) ||
        node_store_create(&n->c, &n->s, err, sizeof err))
        bench_die("create node", err);
    if (!parent) {
        if (network_init_root(&n->c, n->s, err, sizeof err))
            bench_die("init root", err);
        return;
    }
    store_close(n->s);
    store_close(parent->s);
    if (network_enroll_local(&n->c, &parent->c, err, sizeof err) ||
        node_store_open(&parent->c, &parent->s, false, err, sizeof err) ||
        node_store_open(&n->c, &n->s, false, err, sizeof err))
        bench_die("enroll", err);
}

static void node_ready(bnode *n)
{
    char err[512];
    if (repl_node_init(&n->rn, n->s, n->c.unit, n->c.pk, err, sizeof err))
        bench_die("repl_node_init", err);
}

static repl_session *session_open(bnode *n, bool initiator, bool defer)
{
    repl_config cfg = {.pk = n->c.pk,
                       .sk = n->c.sk,
                       .root_key = n->c.root_key,
                       .initiator = initiator,
                       .defer_verify = defer};
    return repl_session_new(&cfg, &repl_node_ops, &n->rn, hlc_wall_ms());
}

static void job_work(uv_work_t *req)
{
    bjob *j = req->data;
    repl_verify_job_run(&j->job);
}

static void job_after(uv_work_t *req, int status)
{
    bjob *j = req->data;
    (void)status;
    repl_session_job_done(j->s, j->job.id, hlc_wall_ms());
    jobs_running--;
    free(j);
}

static void submit_jobs(repl_session *s)
{
    repl_verify_job job;
    while (repl_session_next_job(s, &job)) {
        bjob *j = calloc(1, sizeof *j);
        j->job = job;
        j->s = s;
        j->req.data = j;
        jobs_running++;
        uv_queue_work(&loop, &j->req, job_work, job_after);
    }
}

/* Moves every queued message of the links; notifies the sessions of nodes
 * that applied something (relay). Returns whether anything moved. */
static bool links_pump(blink *links, size_t n)
{
    bool moved = false;
    for (size_t i = 0; i < n; i++) {
        blink *l = &links[i];
        const uint8_t *m;
        size_t len;
        while (repl_session_next_out(l->a, &m, &len)) {
            repl_session_recv(l->b, m, len, hlc_wall_ms());
            moved = true;
        }
        while (repl_session_next_out(l->b, &m, &len)) {
            repl_session_recv(l->a, m, len, hlc_wall_ms());
            moved = true;
        }
        submit_jobs(l->a);
        submit_jobs(l->b);
    }
    for (size_t i = 0; i < n; i++) {
        bnode *nodes[2] = {links[i].lower, links[i].upper};
        for (int k = 0; k < 2; k++) {
            if (nodes[k]->rn.applied == nodes[k]->applied_seen)
                continue;
            nodes[k]->applied_seen = nodes[k]->rn.applied;
            for (size_t j = 0; j < n; j++) {
                if (links[j].lower == nodes[k])
                    repl_session_notify(links[j].a);
                if (links[j].upper == nodes[k])
                    repl_session_notify(links[j].b);
            }
            moved = true;
        }
    }
    return moved;
}

/* Runs the links until target holds `want` entries or nothing moves.
 * Returns the entries target holds then. */
static uint64_t links_run(blink *links, size_t n, bnode *target, uint64_t want)
{
    while (store_entry_count(target->s) < want) {
        bool moved = links_pump(links, n);
        if (jobs_running)
            uv_run(&loop, moved ? UV_RUN_NOWAIT : UV_RUN_ONCE);
        else if (!moved)
            break;
    }
    return store_entry_count(target->s);
}

/* The entries of a step that reached its target (held - base); says so
 * and counts a failure when fewer than `want` did. */
static uint64_t delivered(const char *step, uint64_t held, uint64_t base, uint64_t want)
{
    uint64_t got = held > base ? held - base : 0;
    if (got < want) {
        printf("STALLED: %s delivered %llu of %llu entries: replication stopped moving "
               "(see the link errors above)\n",
               step, (unsigned long long)got, (unsigned long long)want);
        failures++;
    }
    return got;
}

/* "PASS", or "MISS" counted as a failure. */
static const char *verdict(bool met)
{
    if (!met)
        failures++;
    return met ? "PASS" : "MISS";
}

static void links_open(blink *links, size_t n, bool defer)
{
    for (size_t i = 0; i < n; i++) {
        links[i].a = session_open(links[i].lower, true, defer);
        links[i].b = session_open(links[i].upper, false, defer);
    }
}

static void links_close(blink *links, size_t n)
{
    while (jobs_running)
        uv_run(&loop, UV_RUN_ONCE);
    for (size_t i = 0; i < n; i++) {
        if (repl_session_state(links[i].a) == REPL_CLOSED)
            fprintf(stderr, "link error: %s\n", repl_session_error(links[i].a));
        if (repl_session_state(links[i].b) == REPL_CLOSED)
            fprintf(stderr, "link error: %s\n", repl_session_error(links[i].b));
        repl_session_free(links[i].a);
        repl_session_free(links[i].b);
    }
}

static void write_reports(bnode *n, size_t count, size_t first)
{
    char err[256], ids[1000][24];
    uint8_t *body;
    size_t blen;
    json_t *j = json_pack("{s:s, s:s, s:s, s:f, s:f, s:s}", "title", "Đường ngập nước sau mưa lớn",
                          "category", "environment", "status", "new", "lat", 18.6712, "lng",
                          105.6891, "address", "Phường Bến Thủy, Thành phố Vinh");
    if (mpjson_pack_object(j, &body, &blen, err, sizeof err))
        bench_die("pack", err);
    json_decref(j);
    store_write w[1000];
    store_author a = node_author(&n->c);
    for (size_t done = 0; done < count;) {
        size_t k = count - done < 1000 ? count - done : 1000;
        for (size_t i = 0; i < k; i++) {
            snprintf(ids[i], sizeof ids[i], "PA-%zu", first + done + i);
            w[i] = (store_write){"reports", ids[i], ENTRY_OP_PUT, body, blen, NULL, 0};
        }
        if (store_write_local(n->s, &a, w, k, NULL, err, sizeof err))
            bench_die("write", err);
        done += k;
    }
    free(body);
}

static double verify_rate(bnode *n)
{
    uint8_t *e;
    size_t len;
    if (store_entry_get(n->s, n->c.pk, 10, &e, &len))
        bench_die("verify rate", "no entry 10");
    double t0 = now_s();
    int k = 0;
    while (now_s() - t0 < 1.0)
        for (int i = 0; i < 100; i++, k++)
            if (!entry_verify_bytes(e, len))
                bench_die("verify rate", "entry does not verify");
    free(e);
    return k / (now_s() - t0);
}

int main(int argc, char **argv)
{
    size_t entries = 100000;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--entries"))
            entries = strtoull(argv[++i], NULL, 10);
    if (!getenv("UV_THREADPOOL_SIZE")) {
        char n[16];
        snprintf(n, sizeof n, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
        setenv("UV_THREADPOOL_SIZE", n, 1);
    }
    if (sodium_init() < 0)
        return 1;
    uv_loop_init(&loop);
    char base[] = "/tmp/lt-bench-repl-XXXXXX";
    if (!mkdtemp(base))
        bench_die("mkdtemp", base);
    bnode nat, prov, dist, com;
    node_make(&nat, base, "VN", "national", NULL);
    node_make(&prov, base, "40", "province", &nat);
    node_make(&dist, base, "412", "district", &prov);
    node_make(&com, base, "16681", "commune", &dist);
    node_ready(&nat);
    node_ready(&prov);
    node_ready(&dist);
    node_ready(&com);

    double t0 = now_s();
    write_reports(&com, entries, 0);
    double t_write = now_s() - t0;
    double vr = verify_rate(&com);
    printf("cores                          %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("Ed25519 verify, one core       %8.0f /s\n", vr);
    printf("local writes (batches of 1000) %8.0f /s\n", (double)entries / t_write);

    blink chain[3] = {{&com, &dist, 0, 0}, {&dist, &prov, 0, 0}, {&prov, &nat, 0, 0}};

    /* one hop, commune -> district, inline verification */
    uint64_t base_d = store_entry_count(dist.s);
    blink hop = {&com, &dist, 0, 0};
    links_open(&hop, 1, false);
    t0 = now_s();
    uint64_t got =
        delivered("one hop, inline", links_run(&hop, 1, &dist, base_d + entries), base_d, entries);
    double t_inline = now_s() - t0;
    links_close(&hop, 1);
    printf("one hop catch-up, inline       %8.0f entries/s  (%llu in %.2f s, %.2f x verify)\n",
           (double)got / t_inline, (unsigned long long)got, t_inline, (double)got / t_inline / vr);

    /* one hop, district -> province, verification on the thread pool */
    uint64_t base_p = store_entry_count(prov.s);
    blink hop2 = {&dist, &prov, 0, 0};
    links_open(&hop2, 1, true);
    t0 = now_s();
    got = delivered("one hop, thread pool", links_run(&hop2, 1, &prov, base_p + entries), base_p,
                    entries);
    double t_pool = now_s() - t0;
    links_close(&hop2, 1);
    printf("one hop catch-up, thread pool  %8.0f entries/s  (%llu in %.2f s, %.2f x verify)  "
           "[target >= 0.80 x, < 10 s: %s]\n",
           (double)got / t_pool, (unsigned long long)got, t_pool, (double)got / t_pool / vr,
           /* got counts every entry the province gained: the reports, and
            * entries of the district's own it lacked (its membership) */
           verdict(got >= entries && (double)got / t_pool >= 0.8 * vr && t_pool < 10));

    /* 3-hop chain: new entries at the commune reach the national node
     * through all three links at once */
    write_reports(&com, entries, entries);
    uint64_t base_n = store_entry_count(nat.s);
    links_open(chain, 3, true);
    t0 = now_s();
    got = delivered("3-hop chain", links_run(chain, 3, &nat, base_n + 2 * entries), base_n,
                    2 * entries);
    double t_chain = now_s() - t0;
    printf("3-hop chain catch-up           %8.0f entries/s  (%llu reach national in %.2f s; "
           "every hop verifies every entry)\n",
           (double)got / t_chain, (unsigned long long)got, t_chain);

    /* live push: one entry at a time over the open chain */
    double lat[101] = {0};
    int before = failures;
    for (int i = 0; i < 101; i++) {
        uint64_t target = store_entry_count(nat.s) + 1;
        double s0 = now_s();
        write_reports(&com, 1, 3 * entries + (size_t)i);
        repl_session_notify(chain[0].a);
        if (!delivered("live push", links_run(chain, 3, &nat, target), target - 1, 1))
            break;
        lat[i] = now_s() - s0;
    }
    for (int i = 0; i < 101; i++)
        for (int k = i + 1; k < 101; k++)
            if (lat[k] < lat[i]) {
                double x = lat[i];
                lat[i] = lat[k];
                lat[k] = x;
            }
    printf("live push, 3 hops, one entry   median %.2f ms, p90 %.2f ms  [target median < 100 ms: "
           "%s]\n",
           lat[50] * 1e3, lat[90] * 1e3, verdict(failures == before && lat[50] < 0.1));
    t0 = now_s();
    uint64_t base_live = store_entry_count(nat.s);
    for (int i = 0; i < 2000; i++) {
        write_reports(&com, 1, 4 * entries + (size_t)i);
        repl_session_notify(chain[0].a);
        links_pump(chain, 3);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    got = delivered("sustained live push", links_run(chain, 3, &nat, base_live + 2000), base_live,
                    2000);
    double t_live = now_s() - t0;
    printf("live push, 3 hops, sustained   %8.0f entries/s  (%llu of 2000 single-entry writes)\n",
           (double)got / t_live, (unsigned long long)got);
    links_close(chain, 3);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS of this process (4 nodes; LMDB pages touched count) %ld MB\n",
           ru.ru_maxrss / 1024);

    bnode *all[] = {&nat, &prov, &dist, &com};
    for (size_t i = 0; i < 4; i++) {
        repl_node_release(&all[i]->rn);
        store_close(all[i]->s);
    }
    uv_loop_close(&loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", base);
    if (failures)
        printf("bench_repl: %d step(s) stalled or missed their target\n", failures);
    return failures ? 1 : 0;
}
