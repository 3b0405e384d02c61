/*
 * cam_csv_env.c - see cam_csv_env.h.
 */
#include "media/cam_csv_env.h"
#include "node/http/csv_answer.h"
#include "media/media.h"
#include "node/http/offload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns, in order: fields of the camera records (docs/media.md). */
static const char *const cols[] = {"id",     "name",         "field", "unit",  "status",
                                   "status_since", "lat",    "lon",   "url",   "enabled",
                                   "codec",  "width",        "height", "fps"};
#define NCOLS (sizeof cols / sizeof *cols)

typedef struct {
    media_env *d;
    char unit[NODE_CODE_MAX], field[64], status[32];
} csv_job;

static void csv_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len;
    csv_job *j = job;
    cam_list_query q = {j->unit, j->field[0] ? j->field : NULL, j->status[0] ? j->status : NULL,
                        NULL, 0};
    lt_error e = {0};
    json_t *l = cameras_list(j->d->node->store, &q, &e);
    if (!l) {
        http_respond_lt(res, &e);
        return;
    }
    csv_answer_rows(res, "cameras.csv", json_object_get(l, "cameras"), cols, NCOLS, NULL);
    json_decref(l);
}

static void csv_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

bool cam_csv_answer(media_env *d, const cam_list_query *q, const http_request *req,
                    http_response *res)
{
    if (!csv_answer_wanted(req))
        return false;
    csv_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return true;
    }
    j->d = d;
    snprintf(j->unit, sizeof j->unit, "%s", q->unit);
    snprintf(j->field, sizeof j->field, "%s", q->field ? q->field : "");
    snprintf(j->status, sizeof j->status, "%s", q->status ? q->status : "");
    offload_request(req, res, &(offload_task){d->node->loop, j, csv_work, csv_done});
    return true;
}
