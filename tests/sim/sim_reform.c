/*
 * sim_reform.c - the 2025 reshaping of a region on the simulator: three
 * former provinces with their districts and communes (4 tiers: national,
 * province, district, commune; default 3 x 10 districts x 30 communes =
 * 900 communes) become one province of about a quarter as many communes
 * with no district tier, while reports keep arriving. Not part of `make
 * test`: run build/tests/sim/sim_reform (docs/performance.md has the
 * figures).
 *
 * Scenario: enrol everything and let membership converge; then every
 * commune files a report every --every seconds (virtual), and after a
 * third of --run seconds the root issues, as `lienthong unit` would
 * (sim_merge, sim_retire_tier):
 *   1. merge the second and third provinces into the first (their
 *      districts move under it);
 *   2. retire the district tier (every commune moves under the province);
 *   3. merge the communes in groups of --group (default 4) into the first
 *      of each group.
 * Reports keep arriving, also from the nodes of merged-away units, until
 * the end of the run; then the network settles. Prints the virtual time
 * from the first operation until the network is quiet, the messages and
 * bytes from the first operation on, wall times and peak RSS, and checks
 * every node (sim_check) unless --no-check.
 *
 *   sim_reform [--provinces P] [--districts D] [--communes C] [--group G]
 *              [--run SECONDS] [--every SECONDS] [--seed S] [--keep]
 *              [--no-check] [--no-reform]
 *
 * --no-reform runs the same reports without the operations: the baseline
 * the reform's messages compare with.
 */
#include "node/domains.h"
#include "tests/sim/sim.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
    int provinces, districts, communes, group;
    uint64_t run_s, every_s, seed;
    bool keep, check, reform;
} reform_opts;

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--provinces P] [--districts D] [--communes C] [--group G] [--run "
            "SECONDS] [--every SECONDS] [--seed S] [--keep] [--no-check] [--no-reform]\n"
            "  D districts per province, C communes per district\n",
            argv0);
    return 2;
}

static int parse(int argc, char **argv, reform_opts *o)
{
    *o = (reform_opts){3, 10, 30, 4, 300, 60, 1, false, true, true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep"))
            o->keep = true;
        else if (!strcmp(a, "--no-check"))
            o->check = false;
        else if (!strcmp(a, "--no-reform"))
            o->reform = false;
        else if (v && !strcmp(a, "--provinces"))
            o->provinces = atoi(argv[++i]);
        else if (v && !strcmp(a, "--districts"))
            o->districts = atoi(argv[++i]);
        else if (v && !strcmp(a, "--communes"))
            o->communes = atoi(argv[++i]);
        else if (v && !strcmp(a, "--group"))
            o->group = atoi(argv[++i]);
        else if (v && !strcmp(a, "--run"))
            o->run_s = strtoull(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--every"))
            o->every_s = strtoull(argv[++i], NULL, 10);
        else if (v && !strcmp(a, "--seed"))
            o->seed = strtoull(argv[++i], NULL, 10);
        else
            return -1;
    }
    bool ok = o->provinces >= 2 && o->provinces <= 9 && o->districts >= 1 && o->districts <= 99 &&
              o->communes >= 1 && o->communes <= 999 && o->group >= 2 && o->run_s >= 30 &&
              o->every_s >= 1;
    return ok ? 0 : -1;
}

/* The tree: VN, provinces P1.., districts PpDd, communes PpDdCc. */
static void build(sim *s, const reform_opts *o)
{
    int root = sim_add_node(s, "VN", -1);
    for (int p = 1; p <= o->provinces; p++) {
        char pu[16];
        snprintf(pu, sizeof pu, "P%d", p);
        int pi = sim_add_node(s, pu, root);
        for (int d = 1; d <= o->districts; d++) {
            char du[16];
            snprintf(du, sizeof du, "P%dD%d", p, d);
            int di = sim_add_node(s, du, pi);
            for (int c = 1; c <= o->communes; c++) {
                char cu[24];
                snprintf(cu, sizeof cu, "P%dD%dC%d", p, d, c);
                sim_add_node(s, cu, di);
            }
        }
    }
}

/* Runs the network to virtual time t in steps of 100 ms; in each step the
 * communes whose turn it is file one report (commune i files once per
 * every_ms, in slot i modulo every_ms / 100). */
static void reports_until(sim *s, uint64_t t, uint64_t every_ms, uint64_t *next, int *seq)
{
    int n = sim_node_count(s);
    uint64_t slots = every_ms / 100 ? every_ms / 100 : 1;
    while (*next + 100 <= t) {
        *next += 100;
        sim_run_until(s, *next);
        uint64_t slot = *next / 100 % slots;
        for (int i = 1; i < n; i++)
            if (sim_node_depth(s, i) == 3 && (uint64_t)i % slots == slot && sim_node_is_up(s, i)) {
                char id[64];
                snprintf(id, sizeof id, "R-%s-%d", sim_node_unit(s, i), (*seq)++);
                sim_write(s, i, "reports", id, ENTRY_OP_PUT, NULL, 0, "phản ánh");
            }
    }
    sim_run_until(s, t);
}

/* Runs reports for up to 600 s virtual until op() succeeds. */
typedef struct {
    uint64_t every_ms, next;
    int seq;
} load;

static bool retry(sim *s, load *l, int (*op)(sim *, int, int), int a, int b)
{
    for (int k = 0; k < 6000; k++) {
        if (op(s, a, b) == 0)
            return true;
        reports_until(s, sim_now(s) + 100, l->every_ms, &l->next, &l->seq);
    }
    return false;
}

static int retire(sim *s, int depth, int unused)
{
    (void)unused;
    return sim_retire_tier(s, depth) > 0 ? 0 : -1;
}

/* The reform: provinces merged, districts retired, communes merged in groups. */
static int reform(sim *s, const reform_opts *o, load *l)
{
    int n = sim_node_count(s), p1 = 1, ops = 0;
    for (int i = 1; i < n; i++)
        if (sim_node_depth(s, i) == 1 && i != p1)
            ops += retry(s, l, sim_merge, i, p1) ? 1 : 0;
    ops += retry(s, l, retire, 2, 0) ? 1 : 0;
    int first = -1, in_group = 0;
    for (int i = 1; i < n; i++) {
        if (sim_node_depth(s, i) != 3)
            continue;
        if (in_group == 0)
            first = i;
        else
            ops += retry(s, l, sim_merge, i, first) ? 1 : 0;
        in_group = (in_group + 1) % o->group;
    }
    return ops;
}

int main(int argc, char **argv)
{
    reform_opts o;
    if (parse(argc, argv, &o))
        return usage(argv[0]);
    sim_random_install();
    if (sodium_init() < 0)
        return 1;
    domains_install(); /* enrolment opens the stores as lienthong does */
    sim_random_seed(o.seed);
    sim_pick_tmpdir();
    char base[1024];
    snprintf(base, sizeof base, "%s/lt-sim-reform-XXXXXX", getenv("TMPDIR"));
    if (!mkdtemp(base))
        return perror("mkdtemp"), 1;
    sim_config cfg;
    sim_config_default(&cfg, o.seed);
    cfg.batch_bytes = 0;
    cfg.latency_min_ms = 5;
    cfg.latency_max_ms = 80;
    cfg.tick_ms = 1000;
    cfg.notify_ms = 10;
    cfg.probe_ms = 15000;
    if (getenv("LT_SIM_TRACE"))
        cfg.trace = stderr;
    static const char *const tiers[] = {"national", "province", "district", "commune"};
    sim *s = sim_new(&cfg, base, tiers, 4);
    if (!s)
        return 1;
    build(s, &o);
    int ncomm = o.provinces * o.districts * o.communes;
    printf("sim_reform: seed %llu, 1 national + %d provinces + %d districts + %d communes = %d "
           "nodes, under %s\n",
           (unsigned long long)o.seed, o.provinces, o.provinces * o.districts, ncomm,
           sim_node_count(s), base);
    fflush(stdout);
    char err[512];
    double t0 = sim_wall_s(), t_begin = t0;
    if (sim_start(s, err, sizeof err))
        return fprintf(stderr, "sim_reform: start failed: %s\n", err), 1;
    uint64_t mem_ms = 0;
    if (!sim_settle(s, 3600 * 1000, &mem_ms))
        return fprintf(stderr, "sim_reform: membership did not converge\n"), 1;
    printf("membership converged: %.1f s virtual, %.1f s wall (with enrolment), peak RSS %ld "
           "MiB\n",
           (double)mem_ms / 1000, sim_wall_s() - t0, sim_peak_rss_mb());
    fflush(stdout);

    load l = {o.every_s * 1000, sim_now(s), 0};
    uint64_t start = sim_now(s), end = start + o.run_s * 1000;
    reports_until(s, start + o.run_s * 1000 / 3, l.every_ms, &l.next, &l.seq);
    sim_stats st0;
    sim_stats_get(s, &st0);
    uint64_t reform_at = sim_now(s);
    t0 = sim_wall_s();
    int ops = o.reform ? reform(s, &o, &l) : 0;
    uint64_t issued_ms = sim_now(s) - reform_at;
    printf("reform issued: %d operations (merges and one tier retirement) over %.1f s virtual, "
           "%.1f s wall\n",
           ops, (double)issued_ms / 1000, sim_wall_s() - t0);
    fflush(stdout);
    uint64_t issued_at = sim_now(s);
    while (sim_move_pending(s) && sim_now(s) < end)
        reports_until(s, sim_now(s) + 100, l.every_ms, &l.next, &l.seq);
    printf("the new tree is in every node's tree %.1f s virtual after the last operation%s\n",
           (double)(sim_now(s) - issued_at) / 1000, sim_move_pending(s) ? " (NOT yet)" : "");
    fflush(stdout);
    if (sim_now(s) < end)
        reports_until(s, end, l.every_ms, &l.next, &l.seq);
    uint64_t quiet_ms = 0;
    bool settled = sim_settle(s, 3600 * 1000, &quiet_ms);
    double t_reform = sim_wall_s() - t0;
    sim_stats st;
    sim_stats_get(s, &st);
    int live = 0;
    for (int i = 1; i < sim_node_count(s); i++)
        live += sim_node_depth(s, i) == 3 && !sim_node_retired(s, i);
    printf("after the reform: %s; %d live communes; quiet %.1f s virtual "
           "after the end of the reports, %.1f s virtual after the first operation; %.1f s wall\n",
           settled ? "converged" : "NOT converged", live, (double)quiet_ms / 1000,
           (double)(sim_now(s) - reform_at) / 1000, t_reform);
    if (!settled)
        sim_explain(s, stdout);
    printf("from the first operation: %llu messages (%.1f MiB) carrying %llu entries, %llu "
           "writes (%d reports in all), %llu moves, %llu merges, %llu connects, %llu timeouts, "
           "%llu session errors\n",
           (unsigned long long)(st.delivered - st0.delivered),
           (double)(st.bytes - st0.bytes) / 1048576,
           (unsigned long long)(st.entries_moved - st0.entries_moved),
           (unsigned long long)(st.writes - st0.writes), l.seq, (unsigned long long)st.moves,
           (unsigned long long)st.merges, (unsigned long long)(st.connects - st0.connects),
           (unsigned long long)(st.timeouts - st0.timeouts), (unsigned long long)st.session_errors);
    printf("entries held in all: %llu; peak RSS %ld MiB (%.2f MiB per node); wall %.0f s\n",
           (unsigned long long)sim_entries_total(s), sim_peak_rss_mb(),
           (double)sim_peak_rss_mb() / sim_node_count(s), sim_wall_s() - t_begin);
    fflush(stdout);
    long problems = 0;
    if (o.check && settled) {
        t0 = sim_wall_s();
        sim_check_opts co = {.verify_nodes = 2, .fresh_nodes = 1};
        problems = sim_check(s, &co);
        printf("check: %ld problems, %.1f s wall\n", problems, sim_wall_s() - t0);
    }
    sim_free(s);
    if (!o.keep)
        sim_rmtree(base);
    return settled && problems == 0 ? 0 : 1;
}
