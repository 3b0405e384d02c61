/*
 * doc_csv_env.c - the documents list as CSV: GET /api/v1/documents?format=csv
 * (or Accept: text/csv), see doc_env_csv in doc_env_internal.h. Contract:
 * docs/documents.md "CSV export".
 */
#include "documents/doc_env_internal.h"
#include "node/http/csv_answer.h"
#include "node/http/offload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns, in order; "recipients" is the recipient units' codes,
 * separated by spaces. */
static const char *const cols[] = {"id",      "notation",   "type",    "subject", "unit",
                                   "unit_name", "date",     "urgency", "due",     "created_at",
                                   "overdue", "signer",     "status",  "box",     "recipients"};
#define NCOLS (sizeof cols / sizeof *cols)

typedef struct {
    documents_env *d;
    char unit[NODE_CODE_MAX];
    doc_query q;
    char *text[7]; /* copies of box, status, q, type, urgency, from, to */
} csv_job;

/* The recipients of document summary s as one cell into buf (csv_cell_fn);
 * NULL for the other columns. */
static const char *cell(const json_t *s, const char *f, char *buf, size_t cap)
{
    json_t *v = json_object_get(s, f);
    if (!json_is_array(v))
        return NULL;
    size_t i, used = 0;
    json_t *r;
    buf[0] = '\0';
    json_array_foreach(v, i, r)
    {
        const char *u = json_string_value(json_object_get(r, "unit"));
        if (u && used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? " " : "", u);
    }
    return buf;
}

static void csv_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len;
    csv_job *j = job;
    lt_error e = {0};
    json_t *l = documents_list(j->d->docs, j->unit, &j->q, auth_tree(j->d->node->auth), &e);
    if (!l) {
        doc_env_answer(res, NULL, &e, 200);
        return;
    }
    csv_answer_rows(res, "documents.csv", json_object_get(l, "documents"), cols, NCOLS, cell);
    json_decref(l);
}

static void csv_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    csv_job *j = job;
    for (size_t i = 0; i < sizeof j->text / sizeof *j->text; i++)
        free(j->text[i]);
    free(j);
}

bool doc_env_csv(documents_env *d, const http_request *req, const auth_caller *c,
                 const doc_query *q, http_response *res)
{
    if (!csv_answer_wanted(req))
        return false;
    csv_job *j = calloc(1, sizeof *j);
    const char *src[] = {q->box, q->status, q->q, q->type, q->urgency, q->from, q->to};
    bool ok = j != NULL;
    for (size_t i = 0; ok && i < sizeof src / sizeof *src; i++)
        ok = !src[i] || (j->text[i] = strdup(src[i]));
    if (!ok) {
        if (j)
            csv_done(j, res, NULL, false);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return true;
    }
    j->d = d;
    snprintf(j->unit, sizeof j->unit, "%s", c->unit);
    j->q = (doc_query){.box = j->text[0], .status = j->text[1], .q = j->text[2],
                       .type = j->text[3], .urgency = j->text[4], .from = j->text[5],
                       .to = j->text[6], .overdue = q->overdue, .all = true};
    offload_request(req, res, &(offload_task){d->node->loop, j, csv_work, csv_done});
    return true;
}
