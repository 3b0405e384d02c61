/*
 * cmd_import.c - `lienthong import`: records from a JSON Lines file become
 * signed local entries (op put), written in large batches.
 *
 * The whole file is checked before anything is written, so a bad line is
 * reported with its number and nothing of the file lands. Works whether or
 * not the node is running: LMDB serialises writers across processes, and a
 * running node notices the new entries within a second.
 *
 * A collection that a domain owns (node/domains.h: reports, ind_values, streets) goes through
 * the domain's importer instead: its rules and defaults, DOMAIN_BATCH lines
 * per transaction, nothing written again for lines already stored the
 * same, and --skip-bad to leave bad lines out.
 */
#include "cli/cli.h"
#include "lib/mpjson.h"
#include "node/domains.h"
#include "node/membership/network.h"
#include "node/membership/unit_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_BATCH 10000
#define DOMAIN_BATCH 1000
/* Room the entry's own fields take besides id, collection, unit and body. */
#define ENTRY_OVERHEAD 320

static const char usage[] =
    "Usage: lienthong import --dir DIR --collection C --file F.jsonl [--to UNIT]...\n"
    "                        [--skip-bad] [--raw]\n\n"
    "Reads one JSON object per line, each with an \"id\" (string or integer) and\n"
    "its fields, and writes each as a signed entry (a put of the whole record)\n"
    "of this node. The file is checked first: a bad line is reported with its\n"
    "number and nothing is written.\n\n"
    "Collection reports goes through the reports' rules, as POST /api/v1/reports:\n"
    "lines with the API's field names or Open311's (service_request_id,\n"
    "service_code, description, lat, long, requested_datetime, status open or\n"
    "closed, ...; docs/reports.md, Import), written 1,000 per transaction; a\n"
    "line stored already with the same content writes nothing, so a rerun adds\n"
    "nothing.\n\n"
    "Collection ind_values goes through the indicators' rules, as a row of\n"
    "lienthong indicators import: lines {\"indicator\", \"unit\", \"period\",\n"
    "\"value\", \"comment\"} (docs/indicators.md), entered as an admin of the\n"
    "node's unit named \"import\".\n\n"
    "Collection streets is checked line by line: {\"id\": a slug, \"name\",\n"
    "\"unit\" (at or under this node's unit), \"lat\", \"lon\" (inside Vietnam),\n"
    "\"aliases\": [...] (optional)}, each addressed to its unit; the citizens'\n"
    "page geocodes them (docs/operations.md, Street names).\n\n"
    "  --dir DIR          the node's data directory\n"
    "  --collection C     collection name, e.g. reports, kpis, documents\n"
    "  --file F           the JSON Lines file (- for standard input)\n"
    "  --to UNIT          address the records to a unit (UNIT), its subtree\n"
    "                     (UNIT*) or everyone (*); repeatable. Collection units\n"
    "                     without --to goes where enrolment sends units records:\n"
    "                     to everyone from the root, else to this unit's subtree\n"
    "                     (tree changes: lienthong unit)\n"
    "  --skip-bad         (a domain's collection) leave bad lines out, each named\n"
    "                     on stderr, and import the rest\n"
    "  --raw              (a domain's collection) write the lines as records, as\n"
    "                     for any collection, without the domain's rules: for\n"
    "                     test fixtures; such records may be missing from the\n"
    "                     domain's lists and figures\n";

typedef struct {
    char id[ENTRY_MAX_NAME + 1];
    uint8_t *body;
    size_t body_len;
} import_row;

/* Parses line into *j (a new reference). Returns 0, 1 for a blank line, or
 * -1 with err when it is not JSON. */
static int import_json(const char *line, size_t len, json_t **j, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len)
        return 1;
    json_error_t je;
    if ((*j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je)))
        return 0;
    snprintf(err, errlen, "not valid JSON (column %d: %s)", je.column, je.text);
    return -1;
}

/* Parses one line into row; returns 0, 1 for a blank line, or -1 with err. */
static int import_parse(const char *line, size_t len, size_t overhead, import_row *row, char *err,
                        size_t errlen)
{
    json_t *j;
    int rc = import_json(line, len, &j, err, errlen);
    if (rc)
        return rc;
    rc = -1;
    json_t *id = json_object_get(j, "id");
    if (!json_is_object(j)) {
        snprintf(err, errlen, "must be a JSON object with an \"id\"");
    } else if (json_is_string(id) &&
               entry_id_valid(json_string_value(id), json_string_length(id))) {
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

/* Prints e's message between before and after, keeping its kind; returns
 * its exit code (cli_fail). */
static int import_fail(const lt_error *e, const char *before, const char *after)
{
    lt_error out = *e;
    snprintf(out.message, sizeof out.message, "%s%s%s", before, e->message, after);
    return cli_fail("import", &out);
}

static size_t flush(store *s, const node_config *c, const char *coll, import_row *rows, size_t n,
                    const char *const *to, size_t nto, lt_error *e, int *failed)
{
    store_write *w = calloc(n, sizeof *w);
    if (!w) {
        *failed = lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        w[i] =
            (store_write){coll, rows[i].id, ENTRY_OP_PUT, rows[i].body, rows[i].body_len, to, nto};
    store_author a = node_author(c);
    int rc = store_write_local(s, &a, w, n, NULL, e->message, sizeof e->message);
    if (rc)
        *failed = lt_error_mark(e, store_write_errkind(rc), NULL);
    for (size_t i = 0; i < n; i++)
        free(rows[i].body);
    free(w);
    return *failed ? 0 : n;
}

/* Reads f line by line; when s is NULL only checks. Counts the rows
 * written (or checked) in *total. Returns CLI_OK, or the exit code after
 * printing the error (2 for a bad line). */
static int import_pass(FILE *f, store *s, const node_config *c, const char *coll,
                       const char *const *to, size_t nto, long *total)
{
    char *line = NULL, err[512];
    size_t cap = 0, n = 0, lineno = 0;
    ssize_t len;
    int failed = 0, code = CLI_OK;
    lt_error e = {0};
    *total = 0;
    size_t overhead = ENTRY_OVERHEAD + strlen(coll) + strlen(c->unit);
    for (size_t i = 0; i < nto; i++)
        overhead += strlen(to[i]) + 3;
    import_row *rows = calloc(IMPORT_BATCH, sizeof *rows);
    while (rows && !failed && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        int rc = import_parse(line, (size_t)len, overhead, &rows[n], err, sizeof err);
        if (rc < 0) {
            lt_error_set(&e, LT_EINVAL, NULL, "line %zu: %s; nothing was imported", lineno, err);
            failed = 1;
            code = cli_fail("import", &e);
        } else if (rc == 0 && !s) {
            free(rows[n].body);
            (*total)++;
        } else if (rc == 0 && ++n == IMPORT_BATCH) {
            *total += (long)flush(s, c, coll, rows, n, to, nto, &e, &failed);
            n = 0;
        }
    }
    if (!failed && s && n)
        *total += (long)flush(s, c, coll, rows, n, to, nto, &e, &failed);
    if (failed && !code) {
        snprintf(err, sizeof err, " (%ld records were written before this)", *total);
        code = import_fail(&e, "", err);
    } else if (!failed && ferror(f))
        code = cli_error("import", CLI_FAIL, "cannot read the file: %s", strerror(errno));
    else if (!rows)
        code = cli_error("import", CLI_FAIL, "out of memory");
    free(line);
    free(rows);
    return code;
}

/* ---- a domain's collection (node/domains.h) ------------------------------------ */

typedef struct {
    char id[ENTRY_MAX_NAME + 1];
    size_t line;
} import_seen;

typedef struct {
    const domain_importer *im;
    void *ctx;
    bool skip_bad;
    size_t *bad; /* line numbers left out, sorted after the first pass */
    size_t nbad, capbad;
    import_seen *seen; /* every good line's id */
    size_t nseen, capseen;
    json_t **batch;
    size_t nbatch;
    size_t written, unchanged;
} domain_import;

/* Appends v to the array *a of n items with room for *cap. */
static bool grow(void **a, size_t *n, size_t *cap, size_t size, const void *v)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        void *p = realloc(*a, nc * size);
        if (!p)
            return false;
        *a = p;
        *cap = nc;
    }
    memcpy((char *)*a + *n * size, v, size);
    (*n)++;
    return true;
}

/* Parses and checks one line into *fields and id. Returns 0, 1 for a blank
 * line, or -1 with the problem in *e ("field \"x\": ..."). */
static int domain_line(domain_import *di, const char *line, size_t len, json_t **fields,
                       char id[ENTRY_MAX_NAME + 1], lt_error *e)
{
    json_t *j;
    int parsed = import_json(line, len, &j, e->message, sizeof e->message);
    if (parsed) /* blank, or not JSON */
        return parsed < 0 ? lt_error_mark(e, LT_EINVAL, NULL) : 1;
    lt_error why = {0};
    const char *field = "";
    int rc = di->im->check(di->ctx, j, fields, id, &field, &why);
    if (rc && field && *field)
        lt_error_set(e, why.kind, why.code, "field \"%s\": %s", field, why.message);
    else if (rc)
        *e = why;
    json_decref(j);
    return rc;
}

static int seen_cmp(const void *a, const void *b)
{
    const import_seen *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* After the first pass: a second line with an id already used is bad (the
 * first in file order is named). Returns CLI_OK, or the exit code after
 * printing it. */
static int domain_duplicates(domain_import *di)
{
    if (di->nseen)
        qsort(di->seen, di->nseen, sizeof *di->seen, seen_cmp);
    size_t first = 0, of = 0;
    for (size_t i = 1; i < di->nseen; i++) {
        if (strcmp(di->seen[i].id, di->seen[i - 1].id))
            continue;
        size_t orig = di->seen[i - 1].line;
        while (i < di->nseen && !strcmp(di->seen[i].id, di->seen[i - 1].id)) {
            if (di->skip_bad) {
                fprintf(stderr,
                        "lienthong import: skipped line %zu: field \"id\": %s is also on "
                        "line %zu\n",
                        di->seen[i].line, di->seen[i].id, orig);
                if (!grow((void **)&di->bad, &di->nbad, &di->capbad, sizeof *di->bad,
                          &di->seen[i].line))
                    return cli_error("import", CLI_FAIL, "out of memory");
            } else if (!first || di->seen[i].line < first) {
                first = di->seen[i].line;
                of = orig;
            }
            i++;
        }
    }
    if (di->nbad)
        qsort(di->bad, di->nbad, sizeof *di->bad, size_cmp);
    if (first) {
        lt_error e;
        lt_error_set(&e, LT_EINVAL, NULL,
                     "line %zu: field \"id\": the same id as line %zu: give each record its "
                     "own id, or leave the id out; nothing was imported",
                     first, of);
        return cli_fail("import", &e);
    }
    return CLI_OK;
}

/* First pass: every line checked. Returns CLI_OK, or the exit code after
 * printing the error (2 for a bad line). */
static int domain_check(domain_import *di, FILE *f)
{
    char *line = NULL, at[32], id[ENTRY_MAX_NAME + 1];
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int failed = 0;
    lt_error e;
    while (!failed && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        json_t *fields = NULL;
        int rc = domain_line(di, line, (size_t)len, &fields, id, &e);
        json_decref(fields);
        import_seen one = {.line = lineno};
        if (!rc)
            snprintf(one.id, sizeof one.id, "%s", id);
        snprintf(at, sizeof at, "line %zu: ", lineno);
        if (rc < 0 && !di->skip_bad)
            failed = import_fail(&e, at, "; nothing was imported");
        else if (rc < 0)
            fprintf(stderr, "lienthong import: skipped %s%s\n", at, e.message);
        if (rc < 0 && di->skip_bad &&
            !grow((void **)&di->bad, &di->nbad, &di->capbad, sizeof *di->bad, &lineno))
            failed = cli_error("import", CLI_FAIL, "out of memory");
        if (!rc && !grow((void **)&di->seen, &di->nseen, &di->capseen, sizeof *di->seen, &one))
            failed = cli_error("import", CLI_FAIL, "out of memory");
    }
    if (!failed && ferror(f))
        failed = cli_error("import", CLI_FAIL, "cannot read the file: %s", strerror(errno));
    free(line);
    return failed ? failed : domain_duplicates(di);
}

/* Writes the lines gathered in di->batch. */
static int domain_flush(domain_import *di, lt_error *e)
{
    int rc = di->nbatch
                 ? di->im->write(di->ctx, di->batch, di->nbatch, &di->written, &di->unchanged, e)
                 : 0;
    for (size_t i = 0; i < di->nbatch; i++)
        json_decref(di->batch[i]);
    di->nbatch = 0;
    return rc;
}

/* Second pass: the good lines written in batches. Returns CLI_OK, or the
 * exit code after printing the error. */
static int domain_write(domain_import *di, FILE *f)
{
    char *line = NULL, at[32] = "", id[ENTRY_MAX_NAME + 1], after[80];
    size_t cap = 0, lineno = 0;
    ssize_t len;
    lt_error e = {0};
    int failed = (di->batch = calloc(DOMAIN_BATCH, sizeof *di->batch))
                     ? 0
                     : lt_error_set(&e, LT_EINTERNAL, NULL, "out of memory");
    while (!failed && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (di->nbad && bsearch(&lineno, di->bad, di->nbad, sizeof *di->bad, size_cmp))
            continue;
        json_t *fields = NULL;
        int rc = domain_line(di, line, (size_t)len, &fields, id, &e);
        if (rc < 0) { /* the store changed since the first pass */
            snprintf(at, sizeof at, "line %zu: ", lineno);
            failed = 1;
        } else if (!rc) {
            di->batch[di->nbatch++] = fields;
            if (di->nbatch == DOMAIN_BATCH)
                failed = domain_flush(di, &e) != 0;
        }
    }
    if (!failed)
        failed = domain_flush(di, &e) != 0;
    for (size_t i = 0; di->batch && i < di->nbatch; i++) /* left unwritten after a failure */
        json_decref(di->batch[i]);
    free(line);
    free(di->batch);
    snprintf(after, sizeof after, " (%zu records were written before this)", di->written);
    return failed ? import_fail(&e, at, after) : CLI_OK;
}

/* Imports f into the domain collection of im. */
static int domain_import_file(const domain_importer *im, const node_config *c, FILE *f,
                              bool skip_bad)
{
    store *s;
    int code = cli_open_store("import", c, &s, false);
    if (code)
        return code;
    domain_import di = {.im = im, .ctx = im->open(s, c), .skip_bad = skip_bad};
    if (!di.ctx)
        code = cli_error("import", CLI_FAIL, "out of memory");
    else if (!(code = domain_check(&di, f)) && (rewind(f), !(code = domain_write(&di, f))))
        printf("imported %zu, unchanged %zu, skipped %zu bad lines into %s\n", di.written,
               di.unchanged, di.nbad, im->collection);
    if (di.ctx)
        im->close(di.ctx);
    store_close(s);
    free(di.bad);
    free(di.seen);
    return code;
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},  {"collection", required_argument, 0, 'c'},
        {"file", required_argument, 0, 'f'}, {"to", required_argument, 0, 't'},
        {"skip-bad", no_argument, 0, 's'},   {"raw", no_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *dir = NULL, *coll = NULL, *file = NULL;
    const char *to[ENTRY_MAX_TO];
    size_t nto = 0;
    int code, ch;
    bool done = false, skip_bad = false, raw = false;
    while ((ch = cli_next_opt(argc, argv, opts, "import", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'c')
            coll = optarg;
        else if (ch == 'f')
            file = optarg;
        else if (ch == 's')
            skip_bad = true;
        else if (ch == 'r')
            raw = true;
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
    const domain_importer *im = raw ? NULL : domains_importer(coll);
    if (im && nto)
        return cli_usage_error("import", "--to is for generic collections: a domain's records "
                                         "are addressed by its rules (or use --raw)");
    if (!im && skip_bad)
        return cli_usage_error("import", "--skip-bad is for a domain's collection (reports, "
                                         "ind_values, streets)");
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
    if (im) {
        code = domain_import_file(im, &c, f, skip_bad);
        fclose(f);
        return code;
    }
    long written = 0;
    store *s = NULL;
    char aud[NETWORK_AUDIENCE_MAX];
    if (!(code = import_pass(f, NULL, &c, coll, to, nto, &written)) &&
        !(code = cli_open_store("import", &c, &s, false))) {
        /* units records without --to: addressed as enrolment addresses them
           (node/membership/network.h), so every node that must place them
           gets them, not only the ancestors */
        if (!nto && (!strcmp(coll, "units") || !strcmp(coll, UNIT_OPS_COLLECTION)) &&
            !network_audience(s, c.unit, aud))
            to[nto++] = aud;
        rewind(f);
        code = import_pass(f, s, &c, coll, to, nto, &written);
        store_close(s);
    }
    fclose(f);
    if (!code)
        printf("imported %ld records into %s\n", written, coll);
    return code;
}
