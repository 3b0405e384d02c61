/*
 * cmd_approve.c - `lienthong approve`: an admin at the parent lists the
 * enrolment and rotation requests its node received (node/membership/enrol.h) and
 * approves or refuses one. Works while the node runs (LMDB lets several
 * processes use the store).
 */
#include "cli/cli.h"
#include "node/membership/enrol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "Usage: lienthong approve --dir DIR REQUEST-ID\n"
    "       lienthong approve --dir DIR REQUEST-ID --refuse [--reason TEXT]\n"
    "       lienthong approve --dir DIR --list [--json]\n\n"
    "Decides a request a node sent with lienthong enroll --parent URL (or a\n"
    "key rotation that was not approved at once). Before approving, ask the\n"
    "new node's operator by phone to read its fingerprint and compare it with\n"
    "the one printed here. Approving certifies the node's key for its unit:\n"
    "the certificate is a replicated entry of this node.\n\n"
    "  --dir DIR       this (parent) node's data directory\n"
    "  --list          list the requests kept here, newest decisions included\n"
    "  --json          with --list: one JSON object per line\n"
    "  --refuse        refuse the request instead\n"
    "  --reason TEXT   with --refuse: why (the requesting node shows it)\n";

static void print_row(void *ctx, json_t *rec)
{
    bool json = *(bool *)ctx;
    if (json) {
        json_object_del(rec, "entries");
        char *t = json_dumps(rec, JSON_COMPACT);
        if (t)
            puts(t);
        free(t);
        return;
    }
    const char *reason = json_string_value(json_object_get(rec, "reason"));
    json_t *at = json_object_get(rec, "received_at");
    time_t secs = (time_t)(json_integer_value(at) / 1000);
    struct tm tm;
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", gmtime_r(&secs, &tm));
    printf("%-8s  %-8s  %-6s  %-19s  unit %s (%s, %s)  from %s  %s UTC%s%s\n",
           json_string_value(json_object_get(rec, "id")),
           json_string_value(json_object_get(rec, "state")),
           json_string_value(json_object_get(rec, "kind")),
           json_string_value(json_object_get(rec, "fingerprint")),
           json_string_value(json_object_get(rec, "unit")),
           json_string_value(json_object_get(rec, "name")),
           json_string_value(json_object_get(rec, "tier")),
           json_string_value(json_object_get(rec, "remote")), when, reason ? ": " : "",
           reason ? reason : "");
}

static int decide(const node_config *c, store *s, const char *id, bool refuse, const char *reason)
{
    char err[512];
    json_t *rec = NULL;
    int rc = refuse ? enrol_refuse(s, id, reason, &rec, err, sizeof err)
                    : enrol_approve(c, s, id, &rec, err, sizeof err);
    if (rc)
        return cli_error("approve", CLI_FAIL, "%s", err);
    printf("%s request %s: unit %s (%s, %s), fingerprint %s\n", refuse ? "refused" : "approved", id,
           json_string_value(json_object_get(rec, "unit")),
           json_string_value(json_object_get(rec, "name")),
           json_string_value(json_object_get(rec, "tier")),
           json_string_value(json_object_get(rec, "fingerprint")));
    if (!refuse)
        printf("the node finishes its enrolment when it asks again (lienthong enroll waits "
               "for this)\n");
    json_decref(rec);
    return CLI_OK;
}

int cmd_approve(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"list", no_argument, 0, 'l'},
                                         {"json", no_argument, 0, 'j'},
                                         {"refuse", no_argument, 0, 'r'},
                                         {"reason", required_argument, 0, 'R'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *reason = NULL;
    bool list = false, json = false, refuse = false, done = false;
    int code, ch;
    const char *id = NULL;
    for (;;) { /* options may come before and after the request id */
        while ((ch = cli_next_opt(argc, argv, opts, "approve", usage, &code, &done)) != -1) {
            if (done)
                return code;
            switch (ch) {
            case 'd': dir = optarg; break;
            case 'l': list = true; break;
            case 'j': json = true; break;
            case 'r': refuse = true; break;
            case 'R': reason = optarg; break;
            }
        }
        if (optind >= argc)
            break;
        if (id)
            return cli_usage_error("approve", "one request id at a time");
        id = argv[optind++];
    }
    if (list == !!id)
        return cli_usage_error("approve", "give a REQUEST-ID, or --list");
    if ((reason || refuse) && list)
        return cli_usage_error("approve", "--refuse and --reason go with a REQUEST-ID");
    if (reason && !refuse)
        return cli_usage_error("approve", "--reason goes with --refuse");
    node_config c;
    store *s;
    if ((code = cli_load("approve", dir, &c)) || (code = cli_open_store("approve", &c, &s, false)))
        return code;
    if (list) {
        code = enrol_list(s, print_row, &json)
                   ? cli_error("approve", CLI_FAIL, "cannot read the requests kept here")
                   : CLI_OK;
    } else {
        code = decide(&c, s, id, refuse, reason);
    }
    store_close(s);
    return code;
}
