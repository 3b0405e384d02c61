/*
 * reports_csv_api.c - see reports_csv_api.h.
 */
#include "reports/reports_csv_api.h"
#include "lib/csv.h"
#include "node/http/csv_answer.h"
#include "node/http/offload.h"
#include "reports/report_summary.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns, in order; the header row names them. "area_name" and
 * "owner_name" are the names of the units beside them. */
static const char *const cols[] = {"code",          "title",          "category",      "status",
                                   "area_unit",     "area_name",      "owner_unit",    "owner_name",
                                   "created_at",    "deadline_at",    "overdue",       "lat",
                                   "lon",           "address",        "channel",       "rating",
                                   "reporter_name", "reporter_phone", "reporter_email"};
#define NCOLS (sizeof cols / sizeof *cols)
#define NPUBLIC (NCOLS - 3) /* the reporter's fields are last */

typedef struct {
    reports_env *d;
    report_query q;
    char *unit, *category, *text, *statuses_buf;
    const char *statuses[REPORT_NSTATUS];
    bool personal;
    FILE *out;
    char *csv;
    size_t len;
} csv_job;

/* The name of unit code (its "units" record) into out, "" when unknown. */
static void unit_name(reports_env *d, const char *code, char *out, size_t cap)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (*code && !store_record_get(d->node->store, "units", code, &rec, &len))
        record_field_str(rec, len, "name", out, cap);
    free(rec);
}

static int csv_row(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    csv_job *j = ctx;
    json_t *s = report_summary_json(rec, reclen, id, idlen, j->q.now_ms, j->personal);
    if (!s)
        return 0;
    size_t n = j->personal ? NCOLS : NPUBLIC;
    for (size_t i = 0; i < n; i++) {
        char buf[256];
        const char *v = "";
        json_t *f = json_object_get(s, cols[i]);
        if (!strcmp(cols[i], "area_name") || !strcmp(cols[i], "owner_name")) {
            const char *unit = json_string_value(
                json_object_get(s, cols[i][0] == 'a' ? "area_unit" : "owner_unit"));
            unit_name(j->d, unit ? unit : "", buf, sizeof buf);
            v = buf;
        } else if (json_is_string(f)) {
            v = json_string_value(f);
        } else if (json_is_number(f)) {
            snprintf(buf, sizeof buf, "%.15g", json_number_value(f));
            v = buf;
        } else if (json_is_boolean(f)) {
            v = json_is_true(f) ? "1" : "0";
        }
        if (i)
            fputc(',', j->out);
        csv_field(j->out, v, !json_is_number(f));
    }
    fputs("\r\n", j->out);
    json_decref(s);
    return 0;
}

static void csv_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len;
    csv_job *j = job;
    j->out = open_memstream(&j->csv, &j->len);
    if (!j->out) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    csv_header(j->out, cols, j->personal ? NCOLS : NPUBLIC);
    char next[REPORT_CURSOR_MAX] = "", cursor[REPORT_CURSOR_MAX], err[STORE_ERR_LEN];
    int rc;
    j->q.limit = REPORT_QUERY_LIMIT_MAX;
    do {
        snprintf(cursor, sizeof cursor, "%s", next);
        j->q.cursor = cursor;
        rc = report_query_run(j->d->node->store, &j->q, csv_row, j, next, err, sizeof err);
    } while (!rc && next[0]);
    fclose(j->out);
    if (rc) {
        http_respond_error(res, rc > 0 ? 400 : 500, "the reports could not be listed (%s)%s", err,
                           rc > 0 ? "" : "; check the node's log");
        return;
    }
    csv_answer_body(res, j->csv, j->len, "reports.csv");
    j->csv = NULL;
}

static void csv_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    csv_job *j = job;
    free(j->csv);
    free(j->unit);
    free(j->category);
    free(j->text);
    free(j->statuses_buf);
    free(j);
}

/* A copy of s (NULL stays NULL); false when out of memory. */
static bool dup_opt(const char *s, char **out)
{
    *out = s ? strdup(s) : NULL;
    return !s || *out;
}

void reports_csv_answer(reports_env *d, const report_query *q, bool personal,
                        const http_request *req, http_response *res)
{
    csv_job *j = calloc(1, sizeof *j);
    size_t blen = 0;
    for (size_t i = 0; i < q->nstatuses; i++)
        blen += strlen(q->statuses[i]) + 1;
    if (j)
        j->statuses_buf = malloc(blen + 1);
    if (!j || !j->statuses_buf || !dup_opt(q->unit, &j->unit) ||
        !dup_opt(q->category, &j->category) || !dup_opt(q->q, &j->text)) {
        if (j)
            csv_done(j, res, NULL, false);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    j->d = d;
    j->q = *q;
    j->personal = personal;
    j->q.unit = j->unit;
    j->q.category = j->category;
    j->q.q = j->text;
    char *p = j->statuses_buf;
    for (size_t i = 0; i < q->nstatuses; i++) {
        strcpy(p, q->statuses[i]);
        j->statuses[i] = p;
        p += strlen(p) + 1;
    }
    j->q.statuses = q->nstatuses ? j->statuses : NULL;
    offload_task t = {d->node->loop, j, csv_work, csv_done};
    offload_request(req, res, &t);
}
