/*
 * users_csv.c - see users_csv.h.
 */
#include "node/people/users_csv.h"
#include "node/http/csv_answer.h"
#include "node/http/offload.h"
#include "node/people/users_api.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const cols[] = {"user", "unit", "role", "created", "disabled"};
#define NCOLS (sizeof cols / sizeof *cols)

typedef struct {
    node_env *d;
    auth_caller me;
} csv_job;

static void csv_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len;
    csv_job *j = job;
    json_t *list = users_list(j->d, &j->me);
    if (!list) {
        http_respond_error(res, 500, "the node could not list its accounts; check its log");
        return;
    }
    csv_answer_rows(res, "users.csv", list, cols, NCOLS, NULL);
    json_decref(list);
}

static void csv_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

bool users_csv_answer(node_env *d, const auth_caller *me, const http_request *req,
                      http_response *res)
{
    if (!csv_answer_wanted(req))
        return false;
    csv_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return true;
    }
    *j = (csv_job){.d = d, .me = *me};
    offload_request(req, res, &(offload_task){d->loop, j, csv_work, csv_done});
    return true;
}
