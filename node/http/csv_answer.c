/*
 * csv_answer.c - see csv_answer.h.
 */
#include "node/http/csv_answer.h"
#include "lib/csv.h"
#include "node/http/offload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 512 /* the text of a number or a joined list */

bool csv_answer_wanted(const http_request *req)
{
    return csv_wanted(http_request_query_param(req, "format"), http_request_header(req, "accept"));
}

static void job_free(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

bool csv_answer_offload(const http_request *req, http_response *res, uv_loop_t *loop,
                        const void *job, size_t size,
                        void (*work)(void *job, const uint8_t *body, size_t body_len,
                                     http_response *res))
{
    if (!csv_answer_wanted(req))
        return false;
    void *j = malloc(size);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return true;
    }
    memcpy(j, job, size);
    offload_request(req, res, &(offload_task){loop, j, work, job_free});
    return true;
}

void csv_answer_body(http_response *res, char *csv, size_t len, const char *filename)
{
    res->status = 200;
    res->content_type = "text/csv; charset=utf-8";
    res->body = csv;
    res->body_len = len;
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
    http_response_header(res, "Content-Disposition", disp);
}

void csv_answer_rows(http_response *res, const char *filename, const json_t *rows,
                     const char *const *cols, size_t n, csv_cell_fn *cell)
{
    char *csv = NULL, (*buf)[CELL_MAX] = malloc(n * sizeof *buf);
    const char **v = malloc(n * sizeof *v);
    size_t len = 0, i;
    FILE *out = buf && v ? open_memstream(&csv, &len) : NULL;
    if (!out) {
        free(buf);
        free(v);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    csv_header(out, cols, n);
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t k = 0; k < n; k++) {
            const char *c = cell ? cell(row, cols[k], buf[k], CELL_MAX) : NULL;
            v[k] = c ? c : csv_json_text(json_object_get(row, cols[k]), buf[k], CELL_MAX);
        }
        csv_record(out, v, n);
    }
    fclose(out);
    free(buf);
    free(v);
    csv_answer_body(res, csv, len, filename);
}
