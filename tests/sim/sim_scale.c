/*
 * sim_scale.c - the simulator at the 2025 shape of Vietnam's two-tier
 * local government under a national root: tiers national, province,
 * commune; 1 national node, 34 provinces and (at full size) 3,321
 * communes, every one a real LMDB store kept open (8 MiB initial maps that
 * grow). Run build/tests/sim/sim_scale; `make test` runs only a reduced
 * shape with --max-per-write (ctest sim_scale_markers).
 *
 * Scenario: enrol everything and let membership converge (each node holds
 * its own part of the unit tree: node/network.h); then a busy working day
 * compressed into `--run` seconds of virtual time (domain.md):
 *   - each commune receives R citizen field reports (--reports, default
 *     3; one in five also addressed to a neighbouring commune), updates
 *     each one's status once, and files its indicators (one "kpis"
 *     record);
 *   - each province answers half of its communes' reports (a patch
 *     addressed back to the commune), sends documents to its subtree, to
 *     one of its communes and to a commune of another province (one per
 *     ten communes, at least four), and files its own indicators;
 *   - the national node sends four documents to everyone.
 * Meanwhile five provinces are cut off from the national node from a
 * third of the day until the end, one province crashes for 30 s (its
 * communes fail over to the national node), and a tenth of the communes
 * go offline for 20-120 s, half of them until the end. Then everything
 * heals and the run reports the virtual time to converge, wall times,
 * entries written and held, messages, entries applied per wall second and
 * peak RSS (total and per node), and checks every node (sim_check) unless
 * --no-check.
 *
 *   sim_scale [--communes N] [--provinces P] [--reports R] [--seed S]
 *             [--run SECONDS] [--notify-ms MS] [--max-frame BYTES]
 *             [--settle-max SECONDS] [--mirrors K] [--keep] [--no-check]
 *             [--max-per-write M]
 *
 * --notify-ms is how long a node waits after applying a batch before it
 * tells its other links (coalescing; default 10 ms). --max-frame sets the
 * sessions' message size limit (default 1 MiB), to see where "pos" and
 * marker lists, which grow with the number of origins, stop fitting.
 * --mirrors K gives the first K provinces a second server. --max-per-write
 * fails the run (exit 1) when the workload cost more than M messages per
 * write (the bound ctest's sim_scale_markers checks).
 *
 * Defaults: 34 provinces, 400 communes. The full 2025 shape is
 * --communes 3321 (docs/performance.md has the figures). Stores go under
 * TMPDIR (see sim_pick_tmpdir).
 */
#include "node/domains.h"
#include "tests/sim/sim.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Prints the sessions' origin tables (memory that grows with origins). */
static void print_tables(const sim_stats *st)
{
    printf("session tables: %llu open sessions track %llu origins (%.0f per session) in "
           "%.1f MiB (%.1f KiB per session)\n",
           (unsigned long long)st->sessions, (unsigned long long)st->origin_slots,
           st->sessions ? (double)st->origin_slots / (double)st->sessions : 0.0,
           (double)st->origin_bytes / 1048576,
           st->sessions ? (double)st->origin_bytes / 1024 / (double)st->sessions : 0.0);
}

typedef enum {
    ACT_REPORT,       /* commune: a new field report (sometimes to a neighbour) */
    ACT_STATUS,       /* commune: status update of one of its reports */
    ACT_KPI,          /* commune or province: its indicators for the day */
    ACT_NATIONAL_DOC, /* national: a document to everyone */
    ACT_SUBTREE_DOC,  /* province: a document to its subtree */
    ACT_COMMUNE_DOC,  /* province: a document to one of its communes */
    ACT_FOREIGN_DOC,  /* province: a document to another province's commune */
    ACT_ANSWER,       /* province: answers a report of one of its communes */
} act_kind;

typedef struct {
    uint64_t at;
    int node;
    act_kind kind;
} action;

static int action_cmp(const void *a, const void *b)
{
    const action *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->node - y->node;
}

static int first_commune, ncommunes, nprov;
static int *prov_first, *prov_count, *reports;

static int random_commune_of(sim *s, int p)
{
    return prov_count[p] ? prov_first[p] + (int)sim_below(s, (uint64_t)prov_count[p]) : -1;
}

/* A random existing report of commune c, into id; false when it has none. */
static bool some_report(sim *s, int c, char *id, size_t cap)
{
    int k = c - first_commune;
    if (!reports[k])
        return false;
    snprintf(id, cap, "R-%s-%d", sim_node_unit(s, c), 1 + (int)sim_below(s, (uint64_t)reports[k]));
    return true;
}

static void do_action(sim *s, const action *a)
{
    char id[64], addr[40], text[32];
    const char *to[1] = {addr};
    int n = a->node, p = n - 1; /* provinces are nodes 1..nprov */
    snprintf(text, sizeof text, "v%llu", (unsigned long long)sim_below(s, 1000000));
    if (!sim_node_is_up(s, n))
        return;
    switch (a->kind) {
    case ACT_REPORT: {
        int k = n - first_commune, pp = sim_node_parent(s, n) - 1;
        snprintf(id, sizeof id, "R-%s-%d", sim_node_unit(s, n), ++reports[k]);
        int sib = prov_count[pp] > 1 && sim_below(s, 5) == 0 ? random_commune_of(s, pp) : n;
        snprintf(addr, sizeof addr, "%s", sim_node_unit(s, sib));
        sim_write(s, n, "reports", id, ENTRY_OP_PUT, to, sib != n, text);
        break;
    }
    case ACT_STATUS:
        if (some_report(s, n, id, sizeof id))
            sim_write(s, n, "reports", id, ENTRY_OP_PATCH, NULL, 0, text);
        break;
    case ACT_KPI:
        snprintf(id, sizeof id, "K-%s-2025-07-01", sim_node_unit(s, n));
        sim_write(s, n, "kpis", id, ENTRY_OP_PUT, NULL, 0, text);
        break;
    case ACT_NATIONAL_DOC:
        snprintf(id, sizeof id, "D-VN-%llu", (unsigned long long)sim_below(s, 1u << 30));
        snprintf(addr, sizeof addr, "*");
        sim_write(s, n, "documents", id, ENTRY_OP_PUT, to, 1, text);
        break;
    case ACT_SUBTREE_DOC:
    case ACT_COMMUNE_DOC:
    case ACT_FOREIGN_DOC: {
        int c = a->kind == ACT_FOREIGN_DOC
                    ? random_commune_of(s, (int)sim_below(s, (uint64_t)nprov))
                    : random_commune_of(s, p);
        snprintf(id, sizeof id, "D-%s-%llu", sim_node_unit(s, n),
                 (unsigned long long)sim_below(s, 1u << 30));
        if (a->kind == ACT_SUBTREE_DOC || c < 0)
            snprintf(addr, sizeof addr, "%s*", sim_node_unit(s, n));
        else
            snprintf(addr, sizeof addr, "%s", sim_node_unit(s, c));
        sim_write(s, n, "documents", id, ENTRY_OP_PUT, to, 1, text);
        break;
    }
    case ACT_ANSWER: {
        int c = random_commune_of(s, p);
        if (c < 0 || !some_report(s, c, id, sizeof id))
            break;
        snprintf(addr, sizeof addr, "%s", sim_node_unit(s, c));
        sim_write(s, n, "reports", id, ENTRY_OP_PATCH, to, 1, text);
        break;
    }
    }
}

static unsigned long long dir_kib(sim *s, const char *base)
{
    unsigned long long kib = 0;
    for (int i = 0; i < sim_node_count(s); i++) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/data/data.mdb", base, sim_node_name(s, i));
        if (!stat(path, &st))
            kib += (unsigned long long)st.st_blocks / 2;
    }
    return kib;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--communes N] [--provinces P] [--reports R] [--seed S] [--run SECONDS] "
            "[--notify-ms MS] [--max-frame BYTES] [--settle-max SECONDS] [--mirrors K] [--keep] "
            "[--max-per-write M] "
            "[--no-check]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    double max_per_write = 0;
    uint64_t seed = 1, run_s = 120, notify_ms = 10, max_frame = 0, settle_max_s = 3600;
    int communes = 400, provinces = 34, per_commune = 3, mirrors = 0;
    bool keep = false, check = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--communes") && i + 1 < argc)
            communes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--provinces") && i + 1 < argc)
            provinces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reports") && i + 1 < argc)
            per_commune = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--run") && i + 1 < argc)
            run_s = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--settle-max") && i + 1 < argc)
            settle_max_s = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-frame") && i + 1 < argc)
            max_frame = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-per-write") && i + 1 < argc)
            max_per_write = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--notify-ms") && i + 1 < argc)
            notify_ms = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--mirrors") && i + 1 < argc)
            mirrors = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else if (!strcmp(argv[i], "--no-check"))
            check = false;
        else
            return usage(argv[0]);
    }
    if (communes < provinces || provinces < 1 || provinces > 99 || communes > 99999 ||
        per_commune < 0 || run_s < 10 || mirrors < 0 || mirrors > provinces)
        return usage(argv[0]);
    sim_random_install();
    domains_install(); /* its stores opened with the node's domains, as lienthong does */
    if (sodium_init() < 0)
        return 1;
    sim_random_seed(seed);
    sim_pick_tmpdir();
    char base[1024];
    snprintf(base, sizeof base, "%s/lt-sim-scale-XXXXXX", getenv("TMPDIR"));
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }

    sim_config cfg;
    sim_config_default(&cfg, seed);
    cfg.batch_bytes = 0; /* the session's default, 256 KiB */
    cfg.latency_min_ms = 5;
    cfg.latency_max_ms = 80;
    cfg.tick_ms = 1000;
    cfg.notify_ms = notify_ms;
    cfg.max_frame = max_frame;
    cfg.probe_ms = 15000;
    cfg.kbps[1] = 100000; /* province - national: 100 Mbit/s */
    cfg.kbps[2] = 10000;  /* commune - province (or national, on failover): 10 Mbit/s */
    if (getenv("LT_SIM_TRACE"))
        cfg.trace = stderr;
    static const char *const tiers[] = {"national", "province", "commune"};
    sim *s = sim_new(&cfg, base, tiers, 3);
    if (!s)
        return 1;
    nprov = provinces;
    ncommunes = communes;
    prov_first = calloc((size_t)provinces, sizeof *prov_first);
    prov_count = calloc((size_t)provinces, sizeof *prov_count);
    reports = calloc((size_t)communes, sizeof *reports);
    int *weight = calloc((size_t)provinces, sizeof *weight);
    if (!prov_first || !prov_count || !reports || !weight)
        return 1;
    /* communes per province: uneven, as they are (roughly 0.4x to 1.6x the mean) */
    int root = sim_add_node(s, "VN", -1), wsum = 0, given = 0;
    for (int p = 0; p < provinces; p++)
        wsum += weight[p] = 40 + (int)sim_below(s, 121);
    for (int p = 0; p < provinces; p++) {
        prov_count[p] = (int)((long long)communes * weight[p] / wsum);
        if (!prov_count[p])
            prov_count[p] = 1;
        given += prov_count[p];
    }
    for (int p = 0; given < communes; p = (p + 1) % provinces, given++)
        prov_count[p]++;
    for (int p = provinces - 1; given > communes; p = p ? p - 1 : provinces - 1)
        if (prov_count[p] > 1)
            prov_count[p]--, given--;
    for (int p = 0; p < provinces; p++) {
        char u[8];
        snprintf(u, sizeof u, "%02d", p + 1);
        sim_add_node(s, u, root);
    }
    first_commune = 1 + provinces;
    for (int p = 0, code = 1; p < provinces; p++) {
        prov_first[p] = first_commune + (code - 1);
        for (int k = 0; k < prov_count[p]; k++, code++) {
            char u[8];
            snprintf(u, sizeof u, "%05d", code);
            sim_add_node(s, u, 1 + p);
        }
    }
    free(weight);
    for (int p = 0; p < mirrors; p++)
        sim_add_mirror(s, 1 + p); /* after the communes: their indexes stay put */
    printf("sim_scale: seed %llu, 1 national + %d provinces (%d with a second server) + %d "
           "communes = %d nodes, under %s\n",
           (unsigned long long)seed, provinces, mirrors, communes, sim_node_count(s), base);
    fflush(stdout);

    char err[512];
    double t0 = sim_wall_s(), t_begin = t0;
    if (sim_start(s, err, sizeof err)) {
        fprintf(stderr, "sim_scale: start failed: %s\n", err);
        return 1;
    }
    double t_enrol = sim_wall_s() - t0;
    printf("enrolment: %.1f s wall\n", t_enrol);
    fflush(stdout);
    uint64_t mem_ms = 0;
    t0 = sim_wall_s();
    if (!sim_settle(s, 3600 * 1000, &mem_ms)) {
        fprintf(stderr, "sim_scale: membership did not converge within an hour virtual\n");
        return 1;
    }
    double t_mem = sim_wall_s() - t0;
    uint64_t mem_entries = sim_entries_total(s);
    sim_stats st0;
    sim_stats_get(s, &st0);
    printf("membership converged: %.1f s virtual, %.1f s wall, %llu entries held in all, peak "
           "RSS %ld MiB\n",
           (double)mem_ms / 1000, t_mem, (unsigned long long)mem_entries, sim_peak_rss_mb());
    fflush(stdout);

    /* the workload */
    uint64_t start = sim_now(s), span = run_s * 1000;
    size_t cap = (size_t)communes * (3 * (size_t)per_commune + 2) + (size_t)provinces * 6 + 8,
           na = 0;
    action *acts = calloc(cap, sizeof *acts);
    if (!acts)
        return 1;
#define ACT(node, kind) (acts[na++] = (action){start + sim_below(s, span), (node), (kind)})
    for (int c = 0; c < communes; c++) {
        for (int k = 0; k < per_commune; k++) {
            ACT(first_commune + c, ACT_REPORT);
            ACT(first_commune + c, ACT_STATUS);
        }
        ACT(first_commune + c, ACT_KPI);
    }
    for (int k = 0; k < 4; k++)
        ACT(0, ACT_NATIONAL_DOC);
    for (int p = 0; p < provinces; p++) {
        int docs = prov_count[p] / 10 > 4 ? prov_count[p] / 10 : 4;
        for (int k = 0; k < docs; k++)
            ACT(1 + p, k % 4 == 0 ? ACT_FOREIGN_DOC : k % 2 ? ACT_COMMUNE_DOC : ACT_SUBTREE_DOC);
        for (int k = 0; k < prov_count[p] * per_commune / 2; k++)
            ACT(1 + p, ACT_ANSWER);
        ACT(1 + p, ACT_KPI);
    }
#undef ACT
    qsort(acts, na, sizeof *acts, action_cmp);

    /* the faults: provinces cut off until the heal, one province crashed,
       communes offline (half of them until the heal) */
    int ncut = provinces >= 10 ? 5 : 1, crashed = 1 + (int)sim_below(s, (uint64_t)provinces);
    uint64_t heal_at = start + span + 30000, until_heal = heal_at - start + 3600000;
    typedef struct {
        uint64_t at;
        int kind, node;
        uint64_t ms;
    } fault;
    size_t nf = 0, capf = (size_t)ncut + 2 + (size_t)communes / 10 + 1;
    fault *faults = calloc(capf, sizeof *faults);
    if (!faults)
        return 1;
    for (int k = 0; k < ncut; k++)
        faults[nf++] =
            (fault){start + span / 3, 0, 1 + (int)sim_below(s, (uint64_t)provinces), until_heal};
    faults[nf++] = (fault){start + 30000, 1, crashed, 30000};
    for (int k = 0; k < communes / 10; k++)
        faults[nf++] = (fault){start + sim_below(s, span), 0,
                               first_commune + (int)sim_below(s, (uint64_t)communes),
                               k % 2 ? until_heal : 20000 + sim_below(s, 100000)};
    for (size_t i = 1; i < nf; i++) /* insertion sort by time */
        for (size_t j = i; j && faults[j].at < faults[j - 1].at; j--) {
            fault t = faults[j];
            faults[j] = faults[j - 1];
            faults[j - 1] = t;
        }

    t0 = sim_wall_s();
    size_t ia = 0, ifault = 0;
    uint64_t progress_at = start + span / 10;
    while (ia < na || ifault < nf) {
        bool fault_next = ifault < nf && (ia == na || faults[ifault].at <= acts[ia].at);
        if (fault_next) {
            fault *f = &faults[ifault++];
            sim_run_until(s, f->at);
            if (f->kind == 0)
                sim_cut(s, f->node, false, f->ms);
            else
                sim_crash(s, f->node, f->ms);
        } else {
            sim_run_until(s, acts[ia].at);
            do_action(s, &acts[ia++]);
        }
        if (sim_now(s) >= progress_at) { /* for projecting long runs */
            printf("  %3llu s virtual: %zu of %zu actions, %.1f s wall\n",
                   (unsigned long long)((sim_now(s) - start) / 1000), ia, na, sim_wall_s() - t0);
            fflush(stdout);
            progress_at += span / 10;
        }
    }
    sim_run_until(s, heal_at);
    double t_run = sim_wall_s() - t0;
    sim_stats st;
    sim_stats_get(s, &st);
    printf("workload: %llu writes over %llu s virtual (%zu commune outages, %d provinces cut, "
           "province %s crashed), %.1f s wall\n",
           (unsigned long long)st.writes, (unsigned long long)run_s, nf - (size_t)ncut - 1, ncut,
           sim_node_unit(s, crashed), t_run);
    print_tables(&st);
    fflush(stdout);

    sim_heal(s);
    uint64_t conv_ms = 0;
    t0 = sim_wall_s();
    bool settled = sim_settle(s, settle_max_s * 1000, &conv_ms);
    double t_settle = sim_wall_s() - t0;
    sim_stats_get(s, &st);
    uint64_t total = sim_entries_total(s), at_root = sim_entries_root(s);
    printf("after the heal: %s in %.1f s virtual, %.1f s wall\n",
           settled ? "converged" : "NOT converged", (double)conv_ms / 1000, t_settle);
    if (!settled)
        sim_explain(s, stdout);
    printf("entries: %llu at the national node, %llu held in all (%llu before the workload); "
           "stores %.1f MiB on disk\n",
           (unsigned long long)at_root, (unsigned long long)total, (unsigned long long)mem_entries,
           (double)dir_kib(s, base) / 1024);
    printf("network: %llu messages (%.1f MiB) carrying %llu entries, %llu connects, %llu "
           "failed dials, %llu timeouts, %llu session errors\n",
           (unsigned long long)st.delivered, (double)st.bytes / 1048576,
           (unsigned long long)st.entries_moved, (unsigned long long)st.connects,
           (unsigned long long)st.dial_failures, (unsigned long long)st.timeouts,
           (unsigned long long)st.session_errors);
    uint64_t writes = st.writes - st0.writes, msgs = st.delivered - st0.delivered;
    printf("workload to convergence: %llu messages (%.1f MiB) carrying %llu entries for %llu "
           "writes (%llu new entries held): %.0f messages per write\n",
           (unsigned long long)msgs, (double)(st.bytes - st0.bytes) / 1048576,
           (unsigned long long)(st.entries_moved - st0.entries_moved), (unsigned long long)writes,
           (unsigned long long)(total - mem_entries), writes ? (double)msgs / (double)writes : 0.0);
    print_tables(&st);
    bool too_chatty = max_per_write > 0 && (double)msgs > max_per_write * (double)writes;
    if (too_chatty)
        printf("FAIL: more than %.0f messages per write: markers are not coalesced "
               "(replication/session.c, quiet markers)\n",
               max_per_write);
    printf("peak RSS: %ld MiB\n", sim_peak_rss_mb());
    fflush(stdout);
    long problems = 0;
    if (check && settled) {
        t0 = sim_wall_s();
        sim_check_opts o = {.verify_nodes = 2, .fresh_nodes = 1};
        problems = sim_check(s, &o);
        printf("check: %ld problems, %.1f s wall\n", problems, sim_wall_s() - t0);
    }
    int nodes = sim_node_count(s);
    uint64_t landed = total - mem_entries;
    double t_all = sim_wall_s() - t_begin;
    printf("summary: %d nodes; %llu entries written by the workload (%.1f per virtual "
           "second); converged %.1f s virtual after the heal; wall %.0f s (%.1f min); peak RSS "
           "%ld MiB, %.2f MiB per node; %.0f entries/s (%llu new entries held across nodes over "
           "%.0f s wall of workload and settling)\n",
           nodes, (unsigned long long)writes, (double)writes / (double)run_s,
           (double)conv_ms / 1000, t_all, t_all / 60, sim_peak_rss_mb(),
           (double)sim_peak_rss_mb() / nodes,
           (t_run + t_settle) > 0 ? (double)landed / (t_run + t_settle) : 0.0,
           (unsigned long long)landed, t_run + t_settle);
    fflush(stdout);
    sim_free(s);
    if (!keep)
        sim_rmtree(base);
    else
        printf("kept %s\n", base);
    free(acts);
    free(faults);
    free(prov_first);
    free(prov_count);
    free(reports);
    return settled && problems == 0 && !too_chatty ? 0 : 1;
}
