/*
 * open311.h - Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2)
 * under /open311/v2/, every resource in JSON and XML by its suffix:
 *
 *   GET  services.{fmt}                 the active categories as services
 *   GET  services/{code}.{fmt}          a service definition (no attributes)
 *   GET  requests.{fmt}                 service requests: service_code (comma
 *        list), start_date, end_date (at most OPEN311_WINDOW_DAYS apart;
 *        default the last OPEN311_WINDOW_DAYS), status=open|closed,
 *        service_request_id (comma list; overrides the rest); newest first,
 *        at most OPEN311_MAX_RESULTS
 *   POST requests.{fmt}                 a new request, form-encoded or
 *        multipart with `media` files; api_key = an API token of a staff
 *        account (`lienthong token`)
 *   GET  requests/{id}.{fmt}            one request
 *   GET  tokens/{token}.{fmt}           the request of a POST's token
 *
 * service_request_id and token are the tracking code. status is open or
 * closed (resolved, closed, rejected, duplicate); status_notes carries the
 * public answer. jurisdiction_id, when given, is a unit inside this node's
 * subtree: the area of a new request, or the scope of a list. GET answers
 * never carry personal data (the reporter's name, phone and email are
 * kept for staff only). Errors are the spec's [{code, description}] with
 * the HTTP status.
 */
#ifndef LT_OPEN311_H
#define LT_OPEN311_H

#include "node/http/form.h"
#include "node/http/http.h"
#include "reports/open311_format.h"
#include "reports/reports.h"
#include "reports/reports_env.h"

#define OPEN311_PREFIX "/open311/v2/"
#define OPEN311_WINDOW_DAYS 90
#define OPEN311_MAX_RESULTS 1000

/* The handler of every path under OPEN311_PREFIX (ctx: the reports_env);
 * route it for any method. */
void open311_handle(void *ctx, const http_request *req, http_response *res);

/* The report a POST service request's parsed form f describes, checked as
 * the handler checks it (known fields only, an active service, lat and
 * long, media files, media_url): the input of reports_create_raw in `in`
 * and the photos (pointing into f, at most REPORT_PHOTOS_MAX) in photos.
 * False with the error answered in res (format fmt). Used by the handler
 * and by tests/fuzz/fuzz_open311.c. */
bool open311_form_input(reports_env *d, const form *f, open311_format fmt, json_t *in,
                        reports_photo photos[REPORT_PHOTOS_MAX], size_t *nphotos,
                        http_response *res);

#endif
