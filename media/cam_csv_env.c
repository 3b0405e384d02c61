/*
 * cam_csv_env.c - see cam_csv_env.h.
 */
#include "media/cam_csv_env.h"
#include "lib/csv.h"
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
    char *csv;
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
    size_t len = 0;
    FILE *out = open_memstream(&j->csv, &len);
    if (!out) {
        json_decref(l);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    csv_header(out, cols, NCOLS);
    size_t i;
    json_t *cam;
    json_array_foreach(json_object_get(l, "cameras"), i, cam)
    {
        char buf[NCOLS][32];
        const char *v[NCOLS];
        for (size_t k = 0; k < NCOLS; k++)
            v[k] = csv_json_text(json_object_get(cam, cols[k]), buf[k], sizeof buf[k]);
        csv_record(out, v, NCOLS);
    }
    json_decref(l);
    fclose(out);
    res->status = 200;
    res->content_type = "text/csv; charset=utf-8";
    res->body = j->csv;
    res->body_len = len;
    j->csv = NULL;
    http_response_header(res, "Content-Disposition", "attachment; filename=\"cameras.csv\"");
}

static void csv_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    csv_job *j = job;
    free(j->csv);
    free(j);
}

bool cam_csv_answer(media_env *d, const cam_list_query *q, const http_request *req,
                    http_response *res)
{
    if (!csv_wanted(http_request_query_param(req, "format"), http_request_header(req, "accept")))
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
