/*
 * users_csv.c - see users_csv.h.
 */
#include "node/people/users_csv.h"
#include "node/http/csv_answer.h"
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

bool users_csv_answer(node_env *d, const auth_caller *me, const http_request *req,
                      http_response *res)
{
    csv_job j = {.d = d, .me = *me};
    return csv_answer_offload(req, res, d->loop, &j, sizeof j, csv_work);
}
