/*
 * cmd_reports.c - `lienthong reports sweep`: one escalation sweep of the
 * node's overdue reports, as the running node's timer does every minute
 * (for tests, and for an operator after a long outage).
 */
#include "cli/cli.h"
#include "reports/reports.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "Usage: lienthong reports sweep --dir DIR [--now ISO8601]\n\n"
    "Escalates the open reports past their deadline whose next escalation level\n"
    "targets this node's unit (docs/reports.md, \"Deadlines and escalation\"), one\n"
    "signed entry each, and prints how many. The running node does the same\n"
    "every 60 seconds; running both at once is safe.\n\n"
    "  --dir DIR      the node's data directory\n"
    "  --now TIME     sweep as of TIME instead of now: 2026-11-30T10:00:00Z,\n"
    "                 2026-11-30T17:00:00+07:00 or 2026-11-30 (00:00 UTC)\n";

/* Parses an ISO 8601 date or date-time with Z or +hh:mm into ms. */
static int parse_iso(const char *s, uint64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
    char sign = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return -1;
    s += n;
    if (*s == 'T' || *s == ' ') {
        if (sscanf(s + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3)
            return -1;
        s += 1 + n;
        if (*s == 'Z')
            s++;
        else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2) {
            sign = *s;
            s += 1 + n;
        } else
            return -1;
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
    long long t = (long long)timegm(&tm) - (sign == '-' ? -1
                                            : sign      ? 1
                                                        : 0) *
                                               (oh * 3600 + om * 60);
    if (t < 0)
        return -1;
    *ms = (uint64_t)t * 1000;
    return 0;
}

int cmd_reports(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"now", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *now_s = NULL;
    int code, ch;
    bool done = false;
    bool sweep = argc > 1 && !strcmp(argv[1], "sweep");
    if (sweep) /* options follow the subcommand */
        argc--, argv++;
    while ((ch = cli_next_opt(argc, argv, opts, "reports", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'n')
            now_s = optarg;
    }
    if (!sweep)
        return cli_usage_error("reports",
                               optind < argc ? argv[optind] : "a missing subcommand (sweep)");
    if (optind < argc)
        return cli_usage_error("reports", "unexpected argument");
    uint64_t now = 0;
    if (now_s && parse_iso(now_s, &now))
        return cli_error("reports", CLI_USAGE,
                         "--now %s is not an ISO 8601 time: use e.g. 2026-11-30T10:00:00Z", now_s);
    node_config c;
    store *s;
    if ((code = cli_load("reports", dir, &c)) || (code = cli_open_store("reports", &c, &s, false)))
        return code;
    reports *r = reports_new(s, &c);
    size_t n = 0;
    lt_error e = {0};
    int rc = r ? reports_sweep(r, now_s ? now : reports_now(r), &n, &e)
               : lt_error_set(&e, LT_EINTERNAL, NULL, "out of memory");
    reports_free(r);
    store_close(s);
    if (rc) {
        size_t len = strlen(e.message);
        snprintf(e.message + len, sizeof e.message - len, " (%zu escalated before the error)", n);
        return cli_fail("reports", &e);
    }
    printf("reports sweep: %zu escalated\n", n);
    return CLI_OK;
}
