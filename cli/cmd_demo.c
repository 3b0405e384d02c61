/*
 * cmd_demo.c - `lienthong demo` (what `make demo` runs): creates a sample
 * network on first use (a province as trust root, a city, two communes,
 * each with sample records), starts one `lienthong serve` process per node
 * on 127.0.0.1, prints their addresses, and on Ctrl-C stops them all.
 */
#include "cli/cli.h"
#include "cli/demo_data.h"
#include "node/membership/network.h"
#include "node/people/accounts.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static const char usage[] =
    "Usage: lienthong demo [--dir DIR] [--base-port N]\n\n"
    "Starts a sample network on 127.0.0.1: Tỉnh Nghệ An (province, trust root),\n"
    "Thành phố Vinh (city) and two communes, each a separate node process with\n"
    "sample reports, cameras, indicators and documents. The network is created\n"
    "in DIR on first use and reused afterwards. Ctrl-C stops every node.\n\n"
    "  --dir DIR       where the nodes' data directories live (default ./demo-net)\n"
    "  --base-port N   first HTTP port of a new network; nodes use N, N+1, ...\n"
    "                  (default 8100); a reused network keeps its ports\n";

typedef struct {
    const char *unit, *name, *tier, *parent;
} demo_unit;

static const demo_unit demo_units[] = {
    {"40", "Tỉnh Nghệ An", "province", NULL},
    {"412", "Thành phố Vinh", "district", "40"},
    {"16681", "Phường Bến Thủy", "commune", "412"},
    {"16684", "Xã Nghi Liên", "commune", "412"},
};
#define DEMO_NODES (sizeof demo_units / sizeof *demo_units)

typedef struct {
    uv_process_t proc;
    bool running;
} demo_child;

typedef struct {
    uv_loop_t *loop;
    uv_signal_t sigint, sigterm;
    demo_child children[DEMO_NODES];
    size_t running;
    bool stopping;
} demo_state;

static void demo_path(char *out, size_t cap, const char *dir, const demo_unit *u)
{
    snprintf(out, cap, "%s/%s", dir, u->unit);
}

static int demo_create_node(const char *dir, const demo_unit *u, int base_port, int port, char *err,
                            size_t errlen)
{
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    demo_path(c.dir, sizeof c.dir, dir, u);
    snprintf(c.unit, sizeof c.unit, "%s", u->unit);
    snprintf(c.name, sizeof c.name, "%s", u->name);
    snprintf(c.tier, sizeof c.tier, "%s", u->tier);
    snprintf(c.parent_unit, sizeof c.parent_unit, "%s", u->parent ? u->parent : "");
    snprintf(c.listen, sizeof c.listen, "127.0.0.1:%d", port);
    c.root = !u->parent;
    /* upstreams: the parent's node, then the grandparent's (failover) */
    for (const char *up = u->parent; up && c.nupstreams < 2;) {
        size_t k = 0;
        while (k < DEMO_NODES && strcmp(demo_units[k].unit, up))
            k++;
        if (k == DEMO_NODES)
            break;
        snprintf(c.upstreams[c.nupstreams++], NODE_URL_MAX, "ws://127.0.0.1:%d/",
                 base_port + (int)k);
        up = demo_units[k].parent;
    }
    if (node_config_create(&c, err, errlen))
        return -1;
    store *s;
    if (node_store_create(&c, &s, err, errlen))
        return -1;
    int rc = 0;
    if (c.root)
        rc = network_init_root(&c, s, err, errlen) || node_config_save(&c, err, errlen);
    store_close(s);
    return rc ? -1 : 0;
}

/* The demo's login on every node (printed when it starts; a demo only). */
#define DEMO_USER "admin"
#define DEMO_PASSWORD "lienthong-demo"

/* Creates the demo admin account of node c. */
static int demo_admin(const node_config *c, store *s, char *err, size_t errlen)
{
    account a = {.role = ROLE_ADMIN, .created_ms = hlc_wall_ms()};
    snprintf(a.name, sizeof a.name, "%s", DEMO_USER);
    snprintf(a.unit, sizeof a.unit, "%s", c->unit);
    if (account_hash_password(DEMO_PASSWORD, strlen(DEMO_PASSWORD), a.hash)) {
        snprintf(err, errlen, "out of memory hashing the demo password");
        return -1;
    }
    return account_put(s, &a, err, errlen);
}

/* Creates the network in dir: nodes, enrolment, sample data, logins. */
static int demo_create(const char *dir, int base_port, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < DEMO_NODES; i++)
        if (demo_create_node(dir, &demo_units[i], base_port, base_port + (int)i, err, errlen))
            return -1;
    for (size_t i = 0; i < DEMO_NODES; i++) {
        node_config c, p;
        char path[NODE_PATH_MAX];
        demo_path(path, sizeof path, dir, &demo_units[i]);
        if (node_config_load(&c, path, err, errlen))
            return -1;
        if (demo_units[i].parent) {
            char ppath[NODE_PATH_MAX];
            snprintf(ppath, sizeof ppath, "%s/%s", dir, demo_units[i].parent);
            if (node_config_load(&p, ppath, err, errlen) ||
                network_enroll_local(&c, &p, err, errlen))
                return -1;
        }
    }
    for (size_t i = 0; i < DEMO_NODES; i++) { /* sample data once every unit is known */
        node_config c;
        char path[NODE_PATH_MAX];
        demo_path(path, sizeof path, dir, &demo_units[i]);
        store *s;
        if (node_config_load(&c, path, err, errlen) || node_store_open(&c, &s, false, err, errlen))
            return -1;
        int rc = demo_data_write(&c, s, err, errlen);
        if (!rc)
            rc = demo_admin(&c, s, err, errlen);
        store_close(s);
        if (rc)
            return -1;
    }
    return 0;
}

static void demo_on_exit(uv_process_t *p, int64_t status, int signal)
{
    demo_state *st = p->data;
    for (size_t i = 0; i < DEMO_NODES; i++) {
        if (&st->children[i].proc != p)
            continue;
        st->children[i].running = false;
        if (!st->stopping)
            fprintf(stderr, "demo: node %s stopped unexpectedly (exit %lld, signal %d)\n",
                    demo_units[i].unit, (long long)status, signal);
    }
    uv_close((uv_handle_t *)p, NULL);
    if (--st->running == 0) {
        uv_close((uv_handle_t *)&st->sigint, NULL);
        uv_close((uv_handle_t *)&st->sigterm, NULL);
    }
}

static void demo_stop_all(demo_state *st)
{
    st->stopping = true;
    for (size_t i = 0; i < DEMO_NODES; i++)
        if (st->children[i].running)
            uv_process_kill(&st->children[i].proc, SIGTERM);
}

static void demo_on_signal(uv_signal_t *h, int signum)
{
    demo_state *st = h->data;
    (void)signum;
    if (!st->stopping)
        fprintf(stderr, "\ndemo: stopping every node...\n");
    demo_stop_all(st);
}

static int demo_spawn(demo_state *st, const char *exe, const char *dir, size_t i,
                      const char *listen, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX];
    demo_path(path, sizeof path, dir, &demo_units[i]);
    char *args[] = {(char *)exe, "serve", "--dir", path, "--listen", (char *)listen, NULL};
    uv_process_options_t o = {0};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 1},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    o.file = exe;
    o.args = args;
    o.exit_cb = demo_on_exit;
    o.stdio = stdio;
    o.stdio_count = 3;
    st->children[i].proc.data = st;
    int rc = uv_spawn(st->loop, &st->children[i].proc, &o);
    if (rc) {
        snprintf(err, errlen, "cannot start node %s: %s", demo_units[i].unit, uv_strerror(rc));
        return -1;
    }
    st->children[i].running = true;
    st->running++;
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"base-port", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir_opt = "demo-net";
    int base_port = 8100, code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "demo", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir_opt = optarg;
        else if (ch == 'p') {
            char *end;
            long p = strtol(optarg, &end, 10);
            if (*end || p < 1 || p > 65535 - (long)DEMO_NODES)
                return cli_usage_error("demo", "--base-port must be a port number");
            base_port = (int)p;
        }
    }
    if (optind < argc)
        return cli_usage_error("demo", "unexpected argument");
    char dir[PATH_MAX], err[512], probe[PATH_MAX + 32];
    if (mkdir(dir_opt, 0700) && errno != EEXIST)
        return cli_error("demo", CLI_FAIL, "cannot create %s: %s", dir_opt, strerror(errno));
    if (!realpath(dir_opt, dir))
        return cli_error("demo", CLI_FAIL, "cannot resolve %s: %s", dir_opt, strerror(errno));
    snprintf(probe, sizeof probe, "%s/%s/config.json", dir, demo_units[0].unit);
    if (access(probe, F_OK)) {
        printf("demo: creating a sample network in %s\n", dir);
        if (demo_create(dir, base_port, err, sizeof err))
            return cli_error("demo", CLI_FAIL, "%s (remove %s and retry)", err, dir);
    } else {
        printf("demo: reusing the network in %s with the ports it was created with (remove it "
               "for a fresh one)\n",
               dir);
    }
    char exe[PATH_MAX];
    size_t exelen = sizeof exe;
    if (uv_exepath(exe, &exelen))
        return cli_error("demo", CLI_FAIL, "cannot find the lienthong binary");

    demo_state st = {0};
    st.loop = uv_default_loop();
    uv_signal_init(st.loop, &st.sigint);
    uv_signal_init(st.loop, &st.sigterm);
    st.sigint.data = st.sigterm.data = &st;
    uv_signal_start(&st.sigint, demo_on_signal, SIGINT);
    uv_signal_start(&st.sigterm, demo_on_signal, SIGTERM);
    int rc = CLI_OK;
    printf("\nlienthong demo network (Ctrl-C stops every node):\n");
    for (size_t i = 0; i < DEMO_NODES; i++) {
        /* each node listens where its config (and its children's upstream
         * URLs) say, also when the network is reused */
        node_config c;
        char path[NODE_PATH_MAX], listen[NODE_URL_MAX];
        demo_path(path, sizeof path, dir, &demo_units[i]);
        if (node_config_load(&c, path, err, sizeof err)) {
            rc = cli_error("demo", CLI_FAIL, "%s (remove %s and retry)", err, dir);
            break;
        }
        snprintf(listen, sizeof listen, "%s", c.listen);
        if (demo_spawn(&st, exe, dir, i, listen, err, sizeof err)) {
            rc = cli_error("demo", CLI_FAIL, "%s", err);
            break;
        }
        printf("  %-6s %-9s http://%s/  %s\n", demo_units[i].unit, demo_units[i].tier, listen,
               demo_units[i].name);
    }
    printf("\nweb UI: open a node's address in a browser (the province's shows every tier) and "
           "log in as \"%s\" with password \"%s\";\ncitizens' pages (submit, track, map): "
           "the address followed by /public. API token:\n  lienthong token --dir %s/%s --user "
           "%s\n\n",
           DEMO_USER, DEMO_PASSWORD, dir, demo_units[0].unit, DEMO_USER);
    fflush(stdout);
    if (rc)
        demo_stop_all(&st);
    if (st.running == 0) {
        uv_close((uv_handle_t *)&st.sigint, NULL);
        uv_close((uv_handle_t *)&st.sigterm, NULL);
    }
    uv_run(st.loop, UV_RUN_DEFAULT);
    uv_loop_close(st.loop);
    printf("demo: all nodes stopped\n");
    return rc;
}
