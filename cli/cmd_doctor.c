/*
 * cmd_doctor.c - `lienthong doctor`: checks a node and says, in plain
 * words, what to do about each problem.
 *
 * Each check prints one line "ok|warn|problem  CHECK  what was found; what
 * to do". The exit status is the worst: 0 all ok, 1 warnings, 2 problems
 * (docs/operations.md). Works on a running node (it reads what the node
 * publishes: DIR/sync.json) and on a stopped one.
 */
#include "cli/cli.h"
#include "lib/hex.h"
#include "node/daemon.h"
#include "node/disk_guard.h"
#include "node/http/http_client.h"
#include "node/recovery.h"
#include "node/status.h"
#include "storage/record.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DOCTOR_OK 0
#define DOCTOR_WARN 1
#define DOCTOR_PROBLEM 2
#define SKEW_WARN_MS 2000     /* HLC copes; people reading times do not */
#define SKEW_PROBLEM_MS 60000 /* certificates and sessions start to fail */
#define CERT_WARN_DAYS 30
#define BACKLOG_WARN 10000 /* entries waiting on one link */
#define DOCTOR_TIMEOUT_MS 5000

typedef struct {
    const char *dir;
    node_config c;
    store *s; /* NULL when the store cannot be opened */
    bool running;
    int worst;
} doctor;

/* Prints one finding and keeps the worst level. */
__attribute__((format(printf, 4, 5))) static void say(doctor *d, int level, const char *check,
                                                      const char *fmt, ...)
{
    static const char *names[] = {"ok", "warn", "problem"};
    va_list ap;
    va_start(ap, fmt);
    printf("%-8s %-12s ", names[level], check);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    if (level > d->worst)
        d->worst = level;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void check_config(doctor *d)
{
    char host[128], err[256];
    int port;
    if (daemon_parse_listen(d->c.listen, host, sizeof host, &port, err, sizeof err))
        say(d, DOCTOR_PROBLEM, "config", "%s; fix \"listen\" in %s/config.json", err, d->dir);
    else if (!d->c.enrolled)
        say(d, DOCTOR_PROBLEM, "config",
            "the node is not enrolled, so it does not replicate: run lienthong enroll --dir %s",
            d->dir);
    else if (!d->c.root && !d->c.nupstreams)
        say(d, DOCTOR_PROBLEM, "config",
            "no upstream is configured, so the node never reaches its parent: run lienthong "
            "serve --dir %s --upstream ws://PARENT:PORT/ once (it saves the list)",
            d->dir);
    else
        say(d, DOCTOR_OK, "config", "unit %s (%s), listens on %s, %zu upstream(s)", d->c.unit,
            d->c.tier, d->c.listen, d->c.nupstreams);
}

static void check_recovery(doctor *d)
{
    recovery_info r;
    char desc[256];
    recovery_read(d->dir, &r);
    recovery_describe(&r, desc, sizeof desc);
    if (d->running)
        say(d, DOCTOR_OK, "shutdown", "the node is running (started %s); LMDB last_txn=%llu",
            r.last_at, (unsigned long long)r.last_txn);
    else if (r.first_start || r.clean)
        say(d, DOCTOR_OK, "shutdown", "%s", desc);
    else
        say(d, DOCTOR_WARN, "shutdown",
            "%s: the last run did not stop cleanly (power loss, kill or crash). The store "
            "holds every committed transaction (up to last_txn) and nothing acknowledged is "
            "lost; run lienthong verify --dir %s to be sure, then start the node",
            desc, d->dir);
}

static void check_restored(doctor *d)
{
    char key[65];
    if (recovery_restored_key(d->dir, hex_encode(d->c.pk, 32, key)))
        say(d, DOCTOR_WARN, "restored",
            "the node was restored from a backup and has not yet got back from its parent the "
            "entries it signed after that backup: it signs nothing until then (writes answer "
            "503 node.catching_up). Start it (lienthong serve --dir %s) with its parent "
            "reachable and run doctor again; if no parent or mirror can be reached, run "
            "lienthong rotate --dir %s (a new key) and restart it",
            d->dir, d->dir);
}

static void check_disk(doctor *d)
{
    disk_guard g;
    char err[256], path[NODE_PATH_MAX + 32];
    if (disk_guard_init(&g, d->dir, err, sizeof err))
        g.reserve = DISK_GUARD_RESERVE;
    int64_t free_b = disk_free_bytes(g.path);
    struct stat sb;
    snprintf(path, sizeof path, "%s/data/data.mdb", d->dir);
    long long used = stat(path, &sb) ? 0 : (long long)sb.st_size;
    size_t map = d->s ? store_map_size(d->s) : 0;
    if (free_b < 0)
        say(d, DOCTOR_PROBLEM, "disk", "cannot read the free space of %s", g.path);
    else if ((uint64_t)free_b < g.reserve)
        say(d, DOCTOR_PROBLEM, "disk",
            "%lld MiB free, below the reserve of %llu MiB: the node refuses writes (HTTP 507). "
            "Free space on the disk of %s (old backups, logs, recordings)",
            (long long)(free_b >> 20), (unsigned long long)(g.reserve >> 20), g.path);
    else if ((uint64_t)free_b < 2 * g.reserve || free_b < used)
        say(d, DOCTOR_WARN, "disk",
            "%lld MiB free; the store uses %lld MiB and the map cannot grow much further: "
            "free space soon, before writes stop",
            (long long)(free_b >> 20), used >> 20);
    else
        say(d, DOCTOR_OK, "disk", "%lld MiB free; store %lld MiB used of a %zu MiB map",
            (long long)(free_b >> 20), used >> 20, map >> 20);
}

/* The parent's clock against ours, through its GET /api/v1/health. */
static void check_clock(doctor *d)
{
    if (d->c.root || !d->c.nupstreams) {
        say(d, DOCTOR_OK, "clock", "no parent to compare with (trust root or no upstream)");
        return;
    }
    url_parts u;
    char err[512];
    int status = 0;
    json_t *reply = NULL;
    int64_t t0 = wall_ms();
    int rc = url_parse(d->c.upstreams[0], true, &u, err, sizeof err);
    u.ca_file = d->c.tls_ca_file[0] ? d->c.tls_ca_file : NULL; /* wss://: the configured CAs */
    if (!rc)
        rc = http_client_json(&u, "GET", "/api/v1/health", NULL, DOCTOR_TIMEOUT_MS, &status, &reply,
                              err, sizeof err);
    int64_t t1 = wall_ms();
    json_t *t = json_object_get(reply, "time_ms");
    if (rc || status != 200 || !json_is_integer(t))
        say(d, DOCTOR_WARN, "clock",
            "cannot read the clock of the parent at %s (%s): check the network, or that the "
            "parent runs this version",
            d->c.upstreams[0], rc ? err : "its health has no time_ms");
    else {
        long long skew = (long long)(json_integer_value(t) - (t0 + t1) / 2);
        long long mag = skew < 0 ? -skew : skew;
        say(d,
            mag > SKEW_PROBLEM_MS ? DOCTOR_PROBLEM
            : mag > SKEW_WARN_MS  ? DOCTOR_WARN
                                  : DOCTOR_OK,
            "clock", "this clock is %+.1f s from the parent's (measured within %lld ms)%s",
            (double)-skew / 1000.0, (long long)(t1 - t0),
            mag > SKEW_WARN_MS ? ": set up time sync (systemd-timesyncd or chrony against the "
                                 "parent or an NTP server)"
                               : "");
    }
    json_decref(reply);
}

/* Checks the validity of one "certs" record; returns its issuer in hex. */
static bool cert_check(doctor *d, const char *key, char issuer[65], int64_t now)
{
    uint8_t *bytes;
    size_t len;
    if (!d->s || store_record_get(d->s, "certs", key, &bytes, &len)) {
        say(d, DOCTOR_PROBLEM, "certificate",
            "no certificate for key %.16s… in the store: enrol the node (lienthong enroll)", key);
        return false;
    }
    json_t *j = record_to_json(bytes, len, key, strlen(key), NULL, 0);
    free(bytes);
    json_t *na = json_object_get(j, "not_after");
    const char *iss = json_string_value(json_object_get(j, "issuer"));
    const char *unit = json_string_value(json_object_get(j, "unit"));
    long long left_days = json_is_integer(na) ? (json_integer_value(na) - now) / 86400000 : -1;
    if (!json_is_integer(na) || json_integer_value(na) < now)
        say(d, DOCTOR_PROBLEM, "certificate",
            "the certificate of unit %s has expired: its issuer must renew it (lienthong "
            "rotate, or a new enrolment)",
            unit ? unit : "?");
    else if (left_days < CERT_WARN_DAYS)
        say(d, DOCTOR_WARN, "certificate",
            "the certificate of unit %s expires in %lld days: renew it soon (lienthong rotate)",
            unit ? unit : "?", left_days);
    else
        say(d, DOCTOR_OK, "certificate", "unit %s: valid for %lld more days", unit ? unit : "?",
            left_days);
    snprintf(issuer, 65, "%s", iss ? iss : key);
    json_decref(j);
    return strcmp(issuer, key) != 0; /* false at the root, which issued itself */
}

/* The node's certificate chain up to the trust root. */
static void check_certs(doctor *d)
{
    char key[65], issuer[65];
    hex_encode(d->c.pk, 32, key);
    int64_t now = wall_ms();
    for (int depth = 0; depth < NODE_MAX_TIERS && cert_check(d, key, issuer, now); depth++)
        snprintf(key, sizeof key, "%s", issuer);
}

/* DIR/tls/cert.pem (lienthong tls selfsign or the organisation's CA). */
static void check_tls(doctor *d)
{
    char path[NODE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/tls/cert.pem", d->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return; /* plain HTTP: nothing to check */
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    int days = 0, secs = 0;
    if (!x || !ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
        say(d, DOCTOR_PROBLEM, "tls", "%s is not a PEM certificate: replace it", path);
    else if (days < 0 || (days == 0 && secs < 0))
        say(d, DOCTOR_PROBLEM, "tls",
            "%s has expired: browsers refuse the node. Install a new certificate there and "
            "send the node SIGHUP (or restart it)",
            path);
    else if (days < CERT_WARN_DAYS)
        say(d, DOCTOR_WARN, "tls", "%s expires in %d days: renew it soon", path, days);
    else
        say(d, DOCTOR_OK, "tls", "%s valid for %d more days", path, days);
    X509_free(x);
}

/* One link of the running node's DIR/sync.json. */
static void check_link(doctor *d, json_t *l)
{
    const char *peer = json_string_value(json_object_get(l, "peer_unit"));
    const char *url = json_string_value(json_object_get(l, "url"));
    const char *dir = json_string_value(json_object_get(l, "direction"));
    const char *lerr = json_string_value(json_object_get(l, "last_error"));
    json_t *send = json_object_get(l, "entries_to_send");
    char name[300];
    snprintf(name, sizeof name, "%s %s", peer ? peer : "?", url ? url : "");
    if (!json_is_true(json_object_get(l, "connected")) && url)
        say(d, DOCTOR_WARN, "link",
            "%s (%s) is not connected%s%s: check that the peer runs and the network between "
            "them",
            name, dir ? dir : "?", lerr ? ": " : "", lerr ? lerr : "");
    else if (json_integer_value(send) > BACKLOG_WARN)
        say(d, DOCTOR_WARN, "link",
            "%s has %lld entries waiting to be sent: the link is slow or was down; watch that "
            "it shrinks",
            name, (long long)json_integer_value(send));
    else
        say(d, DOCTOR_OK, "link", "%s %s, %lld entries to send", name,
            json_is_true(json_object_get(l, "connected")) ? "connected" : "idle",
            (long long)json_integer_value(send));
}

static void check_links(doctor *d)
{
    if (!d->running) {
        say(d, DOCTOR_WARN, "links",
            "the node is not running, so it does not replicate: start it (lienthong serve "
            "--dir %s, or systemctl start lienthong@NAME)",
            d->dir);
        return;
    }
    json_t *st = status_sync(d->dir);
    json_t *links = json_object_get(st, "links");
    if (!json_is_array(links))
        say(d, DOCTOR_WARN, "links", "%s",
            json_string_value(json_object_get(st, "message"))
                ? json_string_value(json_object_get(st, "message"))
                : "no link state published yet: try again in a second");
    else if (!json_array_size(links))
        say(d, DOCTOR_OK, "links", "no links (a node without upstreams and no children yet)");
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l) check_link(d, l);
    json_decref(st);
}

static const char usage[] =
    "Usage: lienthong doctor --dir DIR\n\n"
    "Checks the node in DIR: its configuration, how its last run ended, free\n"
    "disk and store size, its clock against the parent's, the certificates of\n"
    "its chain and DIR/tls/cert.pem, and (when it runs) its links and their\n"
    "backlog. Prints one line per finding with what to do about it.\n"
    "Exit status: 0 all ok, 1 warnings only, 2 at least one problem.\n\n"
    "  --dir DIR   the node's data directory\n";

int cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    doctor d = {0};
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "doctor", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            d.dir = optarg;
    }
    if (optind < argc)
        return cli_usage_error("doctor", "unexpected argument");
    char err[512];
    if (!d.dir)
        return cli_usage_error("doctor", "--dir DIR is required");
    if (node_config_load(&d.c, d.dir, err, sizeof err)) {
        say(&d, DOCTOR_PROBLEM, "config", "%s", err);
        return d.worst;
    }
    d.running = status_node_running(d.dir);
    if (node_store_open(&d.c, &d.s, true, err, sizeof err))
        say(&d, DOCTOR_PROBLEM, "store",
            "%s: restore the node from a backup (lienthong restore) if it cannot be opened", err);
    check_config(&d);
    check_recovery(&d);
    check_restored(&d);
    check_disk(&d);
    check_clock(&d);
    check_certs(&d);
    check_tls(&d);
    check_links(&d);
    if (d.s)
        store_close(d.s);
    printf("doctor: %s\n", d.worst == DOCTOR_OK     ? "all ok"
                           : d.worst == DOCTOR_WARN ? "warnings (exit 1)"
                                                    : "problems (exit 2)");
    return d.worst;
}
