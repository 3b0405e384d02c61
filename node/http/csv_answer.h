/*
 * csv_answer.h - answering a list as CSV (lib/csv.h writes the cells):
 * which requests ask for it, and the 200 text/csv attachment. Used by
 * every list's export (reports, documents, tasks, cameras, users).
 */
#ifndef LT_CSV_ANSWER_H
#define LT_CSV_ANSWER_H

#include "node/http/http.h"

#include <uv.h>

#include <jansson.h>

/* True when req asks its list as CSV: ?format=csv or Accept: text/csv. */
bool csv_answer_wanted(const http_request *req);

/* Answers res 200 "text/csv; charset=utf-8" with body csv[0..len) (taken:
 * the server frees it) as an attachment named filename. */
void csv_answer_body(http_response *res, char *csv, size_t len, const char *filename);

/* When req asks CSV, runs work on the thread pool (offload.h) with a copy
 * of job (size bytes, owning no memory: freed whole afterwards) and
 * returns true; false, answering nothing, when req asks JSON. */
bool csv_answer_offload(const http_request *req, http_response *res, uv_loop_t *loop,
                        const void *job, size_t size,
                        void (*work)(void *job, const uint8_t *body, size_t body_len,
                                     http_response *res));

/* The text of column col of row into buf (cap bytes); NULL: "". */
typedef const char *csv_cell_fn(const json_t *row, const char *col, char *buf, size_t cap);

/* Answers res with the CSV of rows (a JSON array of objects): the byte
 * order mark, a header naming cols[0..n), one line per object, cell k
 * from its field cols[k] (csv_json_text) or from cell when not NULL;
 * 503 when out of memory. */
void csv_answer_rows(http_response *res, const char *filename, const json_t *rows,
                     const char *const *cols, size_t n, csv_cell_fn *cell);

#endif
