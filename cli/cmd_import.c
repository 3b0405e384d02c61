/*
 * cmd_import.c - `lienthong import`: records from a JSON Lines file become
 * signed local entries (op put), written in large batches.
 *
 * The whole file is checked before anything is written, so a bad line is
 * reported with its number and nothing of the file lands. Works whether or
 * not the node is running: LMDB serialises writers across processes, and a
 * running node notices the new entries within a second.
 */
#include "cli/cli.h"
#include "lib/mpjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_BATCH 10000
/* Room the entry's own fields take besides id, collection, unit and body. */
#define ENTRY_OVERHEAD 320

static const char usage[] =
    "Usage: lienthong import --dir DIR --collection C --file F.jsonl [--to UNIT]...\n\n"
    "Reads one JSON object per line, each with an \"id\" (string or integer) and\n"
    "its fields, and writes each as a signed entry (a put of the whole record)\n"
    "of this node. The file is checked first: a bad line is reported with its\n"
    "number and nothing is written.\n\n"
    "  --dir DIR          the node's data directory\n"
    "  --collection C     collection name, e.g. reports, kpis, documents\n"
    "  --file F           the JSON Lines file (- for standard input)\n"
    "  --to UNIT          address the records to a unit (UNIT), its subtree\n"
    "                     (UNIT*) or everyone (*); repeatable\n";

typedef struct {
    char id[ENTRY_MAX_NAME + 1];
    uint8_t *body;
    size_t body_len;
} import_row;

/* Parses one line into row; returns 0, 1 for a blank line, or -1 with err. */
static int import_parse(const char *line, size_t len, size_t overhead, import_row *row,
                        char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len)
        return 1;
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, errlen, "not valid JSON (column %d: %s)", je.column, je.text);
        return -1;
    }
    int rc = -1;
    json_t *id = json_object_get(j, "id");
    if (!json_is_object(j)) {
        snprintf(err, errlen, "must be a JSON object with an \"id\"");
    } else if (json_is_string(id) && entry_id_valid(json_string_value(id), json_string_length(id))) {
        snprintf(row->id, sizeof row->id, "%s", json_string_value(id));
        rc = 0;
    } else if (json_is_integer(id)) {
        snprintf(row->id, sizeof row->id, "%lld", (long long)json_integer_value(id));
        rc = 0;
    } else {
        snprintf(err, errlen,
                 "\"id\" must be a string of 1-128 bytes without control characters, or an "
                 "integer");
    }
    if (!rc) {
        json_object_del(j, "id");
        rc = mpjson_pack_object(j, &row->body, &row->body_len, err, errlen);
        if (!rc && row->body_len + strlen(row->id) + overhead > ENTRY_MAX_BYTES) {
            snprintf(err, errlen,
                     "the record's fields take %zu bytes, over the %d-byte entry limit: move "
                     "large content (photos, attachments) to blobs",
                     row->body_len, ENTRY_MAX_BYTES);
            free(row->body);
            rc = -1;
        }
    }
    json_decref(j);
    return rc;
}

static size_t flush(store *s, const node_config *c, const char *coll, import_row *rows,
                    size_t n, const char *const *to, size_t nto, char *err, size_t errlen,
                    int *failed)
{
    store_write *w = calloc(n, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        *failed = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        w[i] = (store_write){coll, rows[i].id, ENTRY_OP_PUT, rows[i].body, rows[i].body_len,
                             to, nto};
    store_author a = node_author(c);
    if (store_write_local(s, &a, w, n, NULL, err, errlen))
        *failed = 1;
    for (size_t i = 0; i < n; i++)
        free(rows[i].body);
    free(w);
    return *failed ? 0 : n;
}

/* Reads f line by line; when s is NULL only checks. Returns rows written
 * (or checked), or -1 after printing the error. */
static long import_pass(FILE *f, store *s, const node_config *c, const char *coll,
                        const char *const *to, size_t nto)
{
    char *line = NULL, err[512];
    size_t cap = 0, n = 0, lineno = 0;
    long total = 0;
    ssize_t len;
    int failed = 0;
    size_t overhead = ENTRY_OVERHEAD + strlen(coll) + strlen(c->unit);
    for (size_t i = 0; i < nto; i++)
        overhead += strlen(to[i]) + 3;
    import_row *rows = calloc(IMPORT_BATCH, sizeof *rows);
    while (rows && !failed && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        int rc = import_parse(line, (size_t)len, overhead, &rows[n], err, sizeof err);
        if (rc < 0) {
            cli_error("import", CLI_FAIL, "line %zu: %s; nothing was imported", lineno, err);
            failed = 1;
        } else if (rc == 0 && !s) {
            free(rows[n].body);
            total++;
        } else if (rc == 0 && ++n == IMPORT_BATCH) {
            total += (long)flush(s, c, coll, rows, n, to, nto, err, sizeof err, &failed);
            n = 0;
        }
    }
    if (!failed && s && n)
        total += (long)flush(s, c, coll, rows, n, to, nto, err, sizeof err, &failed);
    if (failed && s)
        cli_error("import", CLI_FAIL, "%s (%ld records were written before this)", err, total);
    else if (!failed && ferror(f))
        failed = cli_error("import", CLI_FAIL, "cannot read the file: %s", strerror(errno));
    free(line);
    free(rows);
    return failed ? -1 : total;
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'}, {"collection", required_argument, 0, 'c'},
        {"file", required_argument, 0, 'f'}, {"to", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
    const char *dir = NULL, *coll = NULL, *file = NULL;
    const char *to[ENTRY_MAX_TO];
    size_t nto = 0;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "import", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'c')
            coll = optarg;
        else if (ch == 'f')
            file = optarg;
        else if (ch == 't') {
            if (nto == ENTRY_MAX_TO)
                return cli_usage_error("import", "at most 64 --to addressees");
            to[nto++] = optarg;
        }
    }
    if (optind < argc)
        return cli_usage_error("import", "unexpected argument");
    if (!dir || !coll || !file)
        return cli_usage_error("import", "--dir, --collection and --file are required");
    if (!entry_coll_valid(coll, strlen(coll)))
        return cli_usage_error("import", "--collection must start with a lower-case letter and "
                                         "hold only a-z, 0-9, _ and . (at most 64)");
    node_config c;
    if ((code = cli_load("import", dir, &c)))
        return code;
    bool from_stdin = !strcmp(file, "-");
    FILE *f = from_stdin ? tmpfile() : fopen(file, "r");
    if (!f)
        return cli_error("import", CLI_FAIL, "cannot open %s: %s", file, strerror(errno));
    if (from_stdin) { /* two passes need a file we can rewind */
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
            fwrite(buf, 1, n, f);
        rewind(f);
    }
    long checked = import_pass(f, NULL, &c, coll, to, nto);
    store *s = NULL;
    long written = -1;
    if (checked >= 0 && !cli_open_store("import", &c, &s, false)) {
        rewind(f);
        written = import_pass(f, s, &c, coll, to, nto);
        store_close(s);
    }
    fclose(f);
    if (written < 0)
        return CLI_FAIL;
    printf("imported %ld records into %s\n", written, coll);
    return CLI_OK;
}
