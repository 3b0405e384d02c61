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
static const char *const cols[] = {"id",        "notation", "type",    "subject", "unit",
                                   "unit_name", "date",     "urgency", "due",     "created_at",
                                   "overdue",   "signer",   "status",  "box",     "recipients"};
#define NCOLS (sizeof cols / sizeof *cols)

/* The columns of the tasks list: "assignees" their unit codes, "progress"
 * unit:percent of each assignee, separated by spaces. */
static const char *const task_cols[] = {"id",      "title",     "unit",     "by",
                                        "due",     "doc",       "done",     "overdue",
                                        "on_time", "assignees", "progress", "created_at"};
#define NTASK_COLS (sizeof task_cols / sizeof *task_cols)

typedef struct {
    documents_env *d;
    char unit[NODE_CODE_MAX];
    doc_query q;
    char *text[7]; /* copies of box, status, q, type, urgency, from, to */
    bool tasks;    /* the tasks list: assignee text[0], overdue q.overdue */
} csv_job;

/* A list column as one cell into buf (csv_cell_fn), its items separated
 * by spaces: a unit code as is (a task's assignees), a line {unit, ...}
 * as its unit (a document's recipients), with ":percent" when it has one
 * (a task's progress). NULL for the other columns. */
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
        const char *u = json_is_string(r) ? json_string_value(r)
                                          : json_string_value(json_object_get(r, "unit"));
        json_t *pc = json_object_get(r, "percent");
        if (u && used < cap)
            used += (size_t)(json_is_integer(pc)
                                 ? snprintf(buf + used, cap - used, "%s%s:%lld", used ? " " : "", u,
                                            (long long)json_integer_value(pc))
                                 : snprintf(buf + used, cap - used, "%s%s", used ? " " : "", u));
    }
    return buf;
}

static void csv_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len;
    csv_job *j = job;
    lt_error e = {0};
    const unit_tree *t = auth_tree(j->d->node->auth);
    json_t *l = j->tasks ? documents_task_list(j->d->docs, j->unit, j->text[0], j->q.overdue, t, &e)
                         : documents_list(j->d->docs, j->unit, &j->q, t, &e);
    if (!l) {
        doc_env_answer(res, NULL, &e, 200);
        return;
    }
    if (j->tasks)
        csv_answer_rows(res, "tasks.csv", json_object_get(l, "tasks"), task_cols, NTASK_COLS, cell);
    else
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

/* A job for the caller c with copies of texts[0..n) (NULL stays NULL);
 * NULL after answering 503. */
static csv_job *job_new(documents_env *d, const auth_caller *c, const char *const *texts, size_t n,
                        http_response *res)
{
    csv_job *j = calloc(1, sizeof *j);
    bool ok = j != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = !texts[i] || (j->text[i] = strdup(texts[i]));
    if (!ok) {
        if (j)
            csv_done(j, res, NULL, false);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return NULL;
    }
    j->d = d;
    snprintf(j->unit, sizeof j->unit, "%s", c->unit);
    return j;
}

bool doc_env_csv(documents_env *d, const http_request *req, const auth_caller *c,
                 const doc_query *q, http_response *res)
{
    if (!csv_answer_wanted(req))
        return false;
    const char *src[] = {q->box, q->status, q->q, q->type, q->urgency, q->from, q->to};
    csv_job *j = job_new(d, c, src, sizeof src / sizeof *src, res);
    if (!j)
        return true;
    j->q = (doc_query){.box = j->text[0],
                       .status = j->text[1],
                       .q = j->text[2],
                       .type = j->text[3],
                       .urgency = j->text[4],
                       .from = j->text[5],
                       .to = j->text[6],
                       .overdue = q->overdue,
                       .all = true};
    offload_request(req, res, &(offload_task){d->node->loop, j, csv_work, csv_done});
    return true;
}

bool doc_env_tasks_csv(documents_env *d, const http_request *req, const auth_caller *c,
                       const char *assignee, bool overdue, http_response *res)
{
    if (!csv_answer_wanted(req))
        return false;
    csv_job *j = job_new(d, c, &assignee, 1, res);
    if (!j)
        return true;
    j->tasks = true;
    j->q.overdue = overdue;
    offload_request(req, res, &(offload_task){d->node->loop, j, csv_work, csv_done});
    return true;
}
