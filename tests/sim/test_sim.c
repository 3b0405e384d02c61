/*
 * test_sim.c - the replication simulator over many seeds (ctest, label
 * "sim"). Each seed builds a 4-tier network of 15 real nodes (1 national,
 * 2 provinces, 2 districts each, 2 communes each), plus by seed second
 * servers (mirrors) of a province, a district and the national unit, lets
 * membership converge, then runs a chaos phase of 60-150 s virtual time: random
 * writes at every tier (reports, documents to "*", "U*", "U", other
 * branches, unknown units, patches and deletes), clock skew of hours at
 * some communes, connection drops, cut links and isolated nodes, latency
 * spikes beyond the session timeout, crashes with the store reopened, and
 * units moving to new parents (a commune to another district, a district
 * to another province: sim_move), also while they or their new parents are
 * down or cut off, units merged into another of their tier (sim_merge: the
 * merged unit's children move under the successor) and, in a quarter of the
 * seeds, the district tier retired (sim_retire_tier: every commune moves
 * under its province, as in the 2025 reform).
 * Session parameters (batch size, window, timers, latency, bandwidth,
 * inline or deferred verification with jobs finishing out of order) vary
 * by seed. Then everything heals, the network settles (without nudges:
 * see sim_settle), and sim_check compares every node with the routing
 * rule's expectation (its oracle knows the merges: what is addressed to a
 * unit merged away is for its successors' nodes too).
 *
 *   test_sim                    seeds 1..200 (1..30 when LT_SANITIZED is set)
 *   test_sim SEED...            replays these seeds (LT_SIM_TRACE=1 traces them): the
 *                               regression seeds of ctest's test_sim_regress
 *   test_sim --seeds N --from S seeds S..S+N-1
 *   test_sim --no-moves ...     without unit moves
 *   test_sim --restores ...     also: nodes back up their store, then lose
 *                               their disk and restore that older copy
 *                               (sim_restore; ctest test_sim_restore)
 *   test_sim --no-merges ...    without merges and tier retirement (the runs of
 *                               the seeds before they existed)
 *
 * A failing seed prints "replay: <argv0> <seed>". Stores live under
 * /dev/shm when TMPDIR is unset (see sim_pick_tmpdir).
 */
#include "tests/check.h"
#include "tests/sim/sim.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const tiers[] = {"national", "province", "district", "commune"};

static bool with_moves = true;     /* units move to new parents during the chaos */
static bool with_merges = true;    /* units merge, the district tier retires */
static bool with_restores = false; /* nodes lose their disk and restore a backup (--restores) */

typedef struct {
    uint64_t entries, delivered, connects, crashes, cuts, timeouts, writes, jobs, nudges, moves,
        merges, refused;
    uint64_t restores;
    uint64_t settle_ms;
} totals;

/* 1 national, 2 provinces, 2 districts each, 2 communes each; by seed, a
 * second server for province P1, district P2D1 and the national unit. */
static void build_tree(sim *s)
{
    int root = sim_add_node(s, "VN", -1);
    for (int p = 1; p <= 2; p++) {
        char pu[16];
        snprintf(pu, sizeof pu, "P%d", p);
        int pi = sim_add_node(s, pu, root);
        for (int d = 1; d <= 2; d++) {
            char du[16];
            snprintf(du, sizeof du, "P%dD%d", p, d);
            int di = sim_add_node(s, du, pi);
            for (int c = 1; c <= 2; c++) {
                char cu[16];
                snprintf(cu, sizeof cu, "P%dD%dC%d", p, d, c);
                sim_add_node(s, cu, di);
            }
        }
    }
    if (sim_below(s, 2))
        sim_add_mirror(s, 1); /* P1 */
    if (sim_below(s, 2))
        sim_add_mirror(s, 9); /* P2D1 */
    if (sim_below(s, 4) == 0)
        sim_add_mirror(s, root);
}

/* Session and network parameters drawn from the seed. */
static void seed_config(sim_config *cfg, uint64_t seed)
{
    sim_config_default(cfg, seed);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 12345;
    x ^= x >> 29;
    cfg->batch_bytes = 1024u << (x % 4);
    x /= 4;
    cfg->window = 1 + (unsigned)(x % 4);
    x /= 4;
    if (x % 3 == 0) {
        cfg->keepalive_ms = 2000;
        cfg->timeout_ms = 6000;
    }
    x /= 3;
    cfg->latency_max_ms = 5 + (uint32_t)(x % 80);
    x /= 80;
    cfg->spike_permille = x % 3 == 0 ? 0 : 1 + (uint32_t)(x % 5);
    x /= 15;
    cfg->spike_max_ms = (uint32_t)(2 * cfg->timeout_ms);
    cfg->notify_ms = 1 + x % 5;
    x /= 5;
    cfg->probe_ms = 2000 + (x % 10) * 1000;
    x /= 10;
    /* verification inline, deferred as out-of-order jobs, or a mix per session */
    cfg->defer_permille = x % 3 == 0 ? 0 : x % 3 == 1 ? 1000 : 500;
    x /= 3;
    cfg->job_max_ms = 1 + (uint32_t)(x % 60);
    x /= 60;
    if (x % 3 == 0) /* slow lines: 0.5 to 8 Mbit/s, so backlogs take a while */
        for (int d = 0; d < 8; d++)
            cfg->kbps[d] = 500u << (x / 3 % 5);
    if (getenv("LT_SIM_TRACE"))
        cfg->trace = stderr;
}

/* A new parent for node i of the tier above it, not its parent and not a
 * unit merged away, or -1 when there is none. */
static int live_parent(sim *s, int i)
{
    int n = sim_node_count(s), fit = 0;
    for (int k = 0; k < n; k++)
        fit += sim_node_depth(s, k) == sim_node_depth(s, i) - 1 && sim_node_first(s, k) == k &&
               k != sim_node_parent(s, i) && !sim_node_retired(s, k);
    if (!fit)
        return -1;
    int pick = (int)sim_below(s, (uint64_t)fit);
    for (int k = 0; k < n; k++)
        if (sim_node_depth(s, k) == sim_node_depth(s, i) - 1 && sim_node_first(s, k) == k &&
            k != sim_node_parent(s, i) && !sim_node_retired(s, k) && !pick--)
            return k;
    return -1;
}

/* Now and then a commune or district merged into another of its tier, and
 * the district tier retired once at retire_at (ms into the chaos). */
static void merge_chaos(sim *s, uint64_t elapsed, uint64_t retire_at)
{
    if (elapsed >= retire_at && elapsed < retire_at + 100) {
        sim_retire_tier(s, 2);
        return;
    }
    if (sim_below(s, 1000) >= 2)
        return;
    int n = sim_node_count(s), x = 1 + (int)sim_below(s, (uint64_t)n - 1);
    if (sim_node_depth(s, x) < 2 || sim_node_first(s, x) != x || sim_node_retired(s, x))
        return;
    for (int tries = 0; tries < 8; tries++) {
        int c = 1 + (int)sim_below(s, (uint64_t)n - 1);
        if (c != x && sim_node_depth(s, c) == sim_node_depth(s, x) && sim_node_first(s, c) == c &&
            !sim_node_retired(s, c)) {
            sim_merge(s, x, c);
            return;
        }
    }
}

/* Random faults and writes for `duration` ms of virtual time. */
/* --restores: now and then a node (not the root) is backed up, and later
 * loses its disk and restores that backup (sim_restore). */
static void restore_faults(sim *s, int n)
{
    int i = 1 + (int)sim_below(s, (uint64_t)n - 1);
    if (sim_below(s, 1000) < 20)
        sim_backup(s, i);
    else if (sim_below(s, 1000) < 10)
        sim_restore(s, i, 500 + sim_below(s, 20000));
}

static void chaos(sim *s, uint64_t duration)
{
    int n = sim_node_count(s);
    unsigned write_pm = 120 + (unsigned)sim_below(s, 200); /* per mille per 100 ms step */
    unsigned fault_pm = 5 + (unsigned)sim_below(s, 40);
    unsigned move_pm = with_moves ? 3 + (unsigned)sim_below(s, 10) : 0;
    /* a quarter of the seeds retire the district tier at a random moment */
    uint64_t retire_at = with_merges && sim_below(s, 4) == 0 ? sim_below(s, duration) : UINT64_MAX;
    uint64_t start = sim_now(s);
    for (uint64_t t = start; t < start + duration; t += 100) {
        sim_run_until(s, t);
        if (sim_below(s, 1000) < move_pm) {
            /* a commune to another district, or a district to another province */
            int depth = sim_below(s, 4) ? 3 : 2, i, np;
            do
                i = 1 + (int)sim_below(s, (uint64_t)n - 1);
            while (sim_node_depth(s, i) != depth);
            np = with_merges ? live_parent(s, i) : -1;
            if (!with_merges)
                do
                    np = (int)sim_below(s, (uint64_t)n);
                while (sim_node_depth(s, np) != depth - 1 || np == sim_node_parent(s, i));
            if (np >= 0)
                sim_move(s, i, np);
        }
        if (with_merges)
            merge_chaos(s, t - start, retire_at);
        if (sim_below(s, 1000) < write_pm) {
            int i = (int)sim_below(s, (uint64_t)n);
            for (unsigned k = 1 + (unsigned)sim_below(s, 3); k && sim_node_is_up(s, i); k--)
                sim_write_random(s, i);
        }
        if (with_restores)
            restore_faults(s, n);
        if (sim_below(s, 1000) >= fault_pm)
            continue;
        int i = 1 + (int)sim_below(s, (uint64_t)n - 1);
        switch (sim_below(s, 10)) {
        case 0: sim_crash(s, 0, 500 + sim_below(s, 20000)); break;
        case 1:
        case 2: sim_crash(s, i, 500 + sim_below(s, 30000)); break;
        case 3:
        case 4:
        case 5: sim_cut(s, i, sim_below(s, 3) == 0, 1000 + sim_below(s, 60000)); break;
        default: sim_drop(s, i); break;
        }
    }
    sim_run_until(s, start + duration);
}

/* Runs one seed; returns 0 when every check passed. */
static int run_seed(uint64_t seed, const char *base, totals *tot)
{
    char dir[1024], err[512];
    snprintf(dir, sizeof dir, "%s/seed-%llu", base, (unsigned long long)seed);
    sim_random_seed(seed);
    sim_config cfg;
    seed_config(&cfg, seed);
    sim *s = sim_new(&cfg, dir, tiers, 4);
    if (!s) {
        fprintf(stderr, "seed %llu: cannot create the simulation\n", (unsigned long long)seed);
        return 1;
    }
    build_tree(s);
    /* a quarter of the communes run with clocks hours off, from the start */
    for (int i = 1; i < sim_node_count(s); i++)
        if (sim_node_depth(s, i) == 3 && sim_below(s, 4) == 0) {
            int64_t h = 1 + (int64_t)sim_below(s, 5);
            sim_set_skew(s, i, (sim_below(s, 2) ? h : -h) * 3600 * 1000);
        }
    int bad = 0;
    uint64_t took = 0;
    if (sim_start(s, err, sizeof err)) {
        fprintf(stderr, "seed %llu: start failed: %s\n", (unsigned long long)seed, err);
        bad = 1;
    } else if (!sim_settle(s, 600000, NULL)) {
        /* latency spikes (up to twice the timeout) are on from the start, so
           links can die and redial while membership spreads: the same 600 s
           bound as after the heal (seed 9624 needed more than 120 s) */
        fprintf(stderr, "seed %llu: membership did not converge\n", (unsigned long long)seed);
        sim_explain(s, stderr);
        bad = 1;
    } else {
        chaos(s, 60000 + sim_below(s, 90000));
        sim_heal(s);
        if (!sim_settle(s, 600000, &took)) {
            fprintf(stderr, "seed %llu: did not settle within 600 s after the heal\n",
                    (unsigned long long)seed);
            sim_explain(s, stderr);
            bad = 1;
        }
        sim_check_opts o = {.verify_nodes = 2, .fresh_nodes = 1};
        long p = sim_check(s, &o);
        if (p)
            bad = 1;
    }
    sim_stats st;
    sim_stats_get(s, &st);
    if (!bad) {
        tot->entries += sim_entries_total(s);
        tot->delivered += st.delivered;
        tot->connects += st.connects;
        tot->crashes += st.crashes;
        tot->cuts += st.cuts;
        tot->timeouts += st.timeouts;
        tot->writes += st.writes;
        tot->refused += st.refused;
        tot->jobs += st.jobs;
        tot->nudges += st.nudges;
        tot->moves += st.moves;
        tot->restores += st.restores;
        tot->merges += st.merges;
        tot->settle_ms += took;
    }
    sim_free(s);
    if (!bad || !getenv("LT_KEEP_TMP"))
        sim_rmtree(dir);
    return bad;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--no-moves] [--no-merges] [--restores] [SEED... | --seeds N --from S]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t from = 1, count = getenv("LT_SANITIZED") && *getenv("LT_SANITIZED") ? 30 : 200;
    uint64_t *list = calloc((size_t)argc, sizeof *list); /* explicit seeds */
    size_t nlist = 0;
    bool range = false, bad_args = false;
    REQUIRE(list);
    for (int i = 1; i < argc && !bad_args; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            count = strtoull(argv[++i], NULL, 10), range = true;
        else if (!strcmp(argv[i], "--from") && i + 1 < argc)
            from = strtoull(argv[++i], NULL, 10), range = true;
        else if (!strcmp(argv[i], "--no-moves"))
            with_moves = false;
        else if (!strcmp(argv[i], "--restores"))
            with_restores = true;
        else if (!strcmp(argv[i], "--no-merges"))
            with_merges = false;
        else if (argv[i][0] >= '0' && argv[i][0] <= '9')
            list[nlist++] = strtoull(argv[i], NULL, 10);
        else
            bad_args = true;
    }
    if (bad_args || (nlist && range)) {
        free(list);
        return usage(argv[0]);
    }
    if (nlist)
        from = list[0], count = nlist;
    sim_random_install();
    REQUIRE(sodium_init() >= 0);
    sim_pick_tmpdir();
    const char *base = check_tmpdir();
    totals tot = {0};
    double t0 = sim_wall_s();
    unsigned failed = 0;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t seed = nlist ? list[k] : from + k;
        int bad = run_seed(seed, base, &tot);
        CHECKF(!bad, "seed %llu", (unsigned long long)seed);
        if (bad) {
            failed++;
            fprintf(stderr, "replay: %s%s%s%s %llu\n", argv[0], with_moves ? "" : " --no-moves",
                    with_merges ? "" : " --no-merges", with_restores ? " --restores" : "",
                    (unsigned long long)seed);
        }
    }
    double dt = sim_wall_s() - t0;
    free(list);
    printf("sim: %llu seeds from %llu in %.1f s (%.0f ms/seed), %u failed; %llu writes (%llu "
           "refused), "
           "%llu entries held, %llu messages, %llu verify jobs, %llu connects, %llu crashes, %llu "
           "cuts, %llu timeouts, %llu moves, %llu merges, %llu restores, %llu nudges, mean settle "
           "%.1f s virtual\n",
           (unsigned long long)count, (unsigned long long)from, dt, 1000 * dt / (double)count,
           failed, (unsigned long long)tot.writes, (unsigned long long)tot.refused,
           (unsigned long long)tot.entries, (unsigned long long)tot.delivered,
           (unsigned long long)tot.jobs, (unsigned long long)tot.connects,
           (unsigned long long)tot.crashes, (unsigned long long)tot.cuts,
           (unsigned long long)tot.timeouts, (unsigned long long)tot.moves,
           (unsigned long long)tot.merges, (unsigned long long)tot.restores,
           (unsigned long long)tot.nudges,
           count > failed ? (double)tot.settle_ms / 1000.0 / (double)(count - failed) : 0.0);
    return check_done();
}
