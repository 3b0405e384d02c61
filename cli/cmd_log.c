/*
 * cmd_log.c - `lienthong log`: prints stored entries readably.
 */
#include "cli/cli.h"
#include "lib/hex.h"
#include "lib/mpjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong log --dir DIR [--origin KEY] [--collection C] [--json]\n\n"
    "Prints the entries held, ordered by origin and seq: origin, seq, hybrid\n"
    "logical clock, author unit, collection/id, op, body and addressees.\n\n"
    "  --dir DIR         the node's data directory\n"
    "  --origin KEY      only entries of this node key (64 hex digits)\n"
    "  --collection C    only entries of this collection\n"
    "  --json            one JSON object per entry\n";

typedef struct {
    const char *coll;
    bool json;
} log_filter;

static json_t *entry_json(const entry_view *e)
{
    char key[65], hlc[48], err[128];
    msgpack_object body = {.type = MSGPACK_OBJECT_MAP, .via.map = e->body};
    msgpack_object to = {.type = MSGPACK_OBJECT_ARRAY, .via.array = e->to};
    json_t *b = mpjson_to_json(&body, err, sizeof err);
    json_t *t = mpjson_to_json(&to, err, sizeof err);
    return json_pack("{s:s, s:I, s:s, s:I, s:s#, s:s#, s:s#, s:s, s:o, s:o}", "origin",
                     hex_encode(e->origin, 32, key), "seq", (json_int_t)e->seq, "hlc",
                     hlc_format(e->hlc, hlc, sizeof hlc), "hlc_raw", (json_int_t)e->hlc, "unit",
                     e->unit.ptr, (int)e->unit.size, "coll", e->coll.ptr, (int)e->coll.size, "id",
                     e->id.ptr, (int)e->id.size, "op", entry_op_name(e->op), "body",
                     b ? b : json_null(), "to", t ? t : json_array());
}

static int print_entry(void *ctx, const uint8_t *bytes, size_t len)
{
    log_filter *f = ctx;
    entry_view e;
    char err[256];
    if (entry_decode(bytes, len, &e, err, sizeof err)) {
        printf("(undecodable entry: %s; run lienthong verify)\n", err);
        return 0;
    }
    if (f->coll && (e.coll.size != strlen(f->coll) || memcmp(e.coll.ptr, f->coll, e.coll.size))) {
        entry_view_free(&e);
        return 0;
    }
    json_t *j = entry_json(&e);
    if (f->json) {
        json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        char *body = json_dumps(json_object_get(j, "body"), JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *to = json_dumps(json_object_get(j, "to"), JSON_COMPACT);
        printf("%.16s…:%-6llu %s  %-6s %s/%s %s %s to=%s\n",
               json_string_value(json_object_get(j, "origin")), (unsigned long long)e.seq,
               json_string_value(json_object_get(j, "hlc")),
               json_string_value(json_object_get(j, "unit")),
               json_string_value(json_object_get(j, "coll")),
               json_string_value(json_object_get(j, "id")), entry_op_name(e.op), body, to);
        free(body);
        free(to);
    }
    json_decref(j);
    entry_view_free(&e);
    return 0;
}

int cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"origin", required_argument, 0, 'o'},
                                         {"collection", required_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *origin = NULL;
    log_filter f = {0};
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "log", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'o')
            origin = optarg;
        else if (ch == 'c')
            f.coll = optarg;
        else if (ch == 'j')
            f.json = true;
    }
    if (optind < argc)
        return cli_usage_error("log", "unexpected argument");
    uint8_t key[32];
    if (origin && hex_decode(origin, key, 32))
        return cli_usage_error("log", "--origin must be a node key of 64 hex digits (see "
                                      "lienthong status)");
    node_config c;
    store *s;
    if ((code = cli_load("log", dir, &c)) || (code = cli_open_store("log", &c, &s, false)))
        return code;
    int rc = store_log_scan(s, origin ? key : NULL, print_entry, &f);
    store_close(s);
    if (rc)
        return cli_error("log", CLI_FAIL, "cannot read the log");
    return CLI_OK;
}
