/*
 * cam_csv_env.c - see cam_csv_env.h.
 */
#include "media/cam_csv_env.h"
#include "media/media.h"
#include "node/http/csv_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns, in order: fields of the camera records (docs/media.md). */
static const char *const cols[] = {"id",           "name",  "field",  "unit", "status",
                                   "status_since", "lat",   "lon",    "url",  "enabled",
                                   "codec",        "width", "height", "fps"};
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

bool cam_csv_answer(media_env *d, const cam_list_query *q, const http_request *req,
                    http_response *res)
{
    csv_job j = {.d = d};
    snprintf(j.unit, sizeof j.unit, "%s", q->unit);
    snprintf(j.field, sizeof j.field, "%s", q->field ? q->field : "");
    snprintf(j.status, sizeof j.status, "%s", q->status ? q->status : "");
    return csv_answer_offload(req, res, d->node->loop, &j, sizeof j, csv_work);
}
