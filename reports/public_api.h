/*
 * public_api.h - the public JSON API under /api/v1/public: what a citizen
 * or a citizen app uses without an account (docs/reports.md).
 *
 *   GET  /api/v1/public/categories           the active categories
 *   POST /api/v1/public/reports              submit a report (JSON, photos
 *                                            in base64) -> 201 {code, token,
 *                                            tracking_url, status, ...}
 *   GET  /api/v1/public/reports/{code}[?token=T]   follow it
 *   GET  /api/v1/public/reports/{code}/photos/{hash}   a photo of a public report
 *   POST /api/v1/public/reports/{code}/rating?token=T   rate the answer, maybe reopen
 *   GET  /api/v1/public/map[?bbox=W,S,E,N][&status=open|done]   GeoJSON of
 *                                            resolved/closed public reports (done,
 *                                            the default) or of open ones (the
 *                                            citizens' page shows those near the
 *                                            pin), the newest PUBLIC_MAP_MAX
 *
 * Nothing here shows personal data: reporter fields, user names and units
 * of the history are never in an answer (a whitelist of fields, not a
 * blacklist). Submissions are limited per client address: after
 * PUBLIC_SUBMIT_MAX stored reports within PUBLIC_SUBMIT_WINDOW_MS an
 * address gets 429 with Retry-After until the window has passed.
 *
 * The tracking code is no secret (codes are sequential): the citizen
 * token handed out once at submission is (docs/security.md, "Citizen
 * tokens"). With it, a report answers its public view; without it, a
 * public report answers only what the public map shows (code, title,
 * category, status, answer, address, lat, lon, dates) and one marked not
 * public answers 404 like an absent one; rating needs it. Lookups and
 * ratings without a valid token count against the address: after
 * PUBLIC_LOOKUP_MAX within PUBLIC_LOOKUP_WINDOW_MS it gets 429 with
 * Retry-After (node/http/ratelimit.h, the lock doubling up to
 * PUBLIC_LOOKUP_LOCK_MAX_MS).
 */
#ifndef LT_PUBLIC_API_H
#define LT_PUBLIC_API_H

#include "node/http/http.h"
#include "reports/reports.h"
#include "reports/reports_env.h"

#include <jansson.h>

#define PUBLIC_SUBMIT_MAX 10
#define PUBLIC_SUBMIT_WINDOW_MS (10ull * 60 * 1000)
#define PUBLIC_MAP_MAX 2000
#define PUBLIC_LOOKUP_MAX 60
#define PUBLIC_LOOKUP_WINDOW_MS (60ull * 1000)
#define PUBLIC_LOOKUP_LOCK_MAX_MS (15ull * 60 * 1000)
/* The largest request body of the routes that take a report with photos
 * (its most photos of the largest size in base64, and room for the rest);
 * every other route keeps the server's 1 MiB. */
#define PUBLIC_MAX_BODY                                                                            \
    ((size_t)REPORT_PHOTOS_MAX * (REPORT_PHOTO_BYTES_MAX / 3 + 1) * 4 + 256u * 1024u)

/* Fills routes (room for cap) with the public API bound to d; returns how
 * many were written. */
size_t public_api_routes(reports_env *d, http_route *routes, size_t cap);

/* The public view of report fields rep (a record as JSON, e.g. from
 * reports_get_json or record_to_json): code, title, description, category,
 * status, answer, reason, duplicate_of, rating, lat, lon, address, the
 * dates as W3C datetimes (created_at, received_at, resolved_at, closed_at,
 * updated_at, deadline_at), overdue, photos [{hash, type}] when the report
 * is public, and history [{action, from, to, at}] when rep has one. New
 * reference. */
json_t *public_report_view(const json_t *rep);

/* Sets "token" and "tracking_url" ("/public#/track/CODE?token=T", the
 * citizen page's link) of a just-created report code in answer o: the
 * only time its citizen token is shown. */
void public_token_attach(json_t *o, const char *code, const char *token);

/* The fields of a public report submission (POST /api/v1/public/reports):
 * body must be a JSON object with only the documented members and a
 * channel of "web" or "app" (into *channel, default "web"). Returns the
 * input of reports_create (new reference, without channel), or NULL with
 * the 400 answered in res. Used by the handler and by
 * tests/fuzz/fuzz_public_report.c. */
json_t *public_report_fields(const uint8_t *body, size_t len, const char **channel,
                             http_response *res);

/* Room for a W3C datetime of report_time_w3c. */
#define PUBLIC_TIME_MAX 32

/* Writes the W3C datetime (+07:00) of integer field name of o (ms) into
 * out (cap >= PUBLIC_TIME_MAX); false when the field is unset or zero. */
bool public_time(const json_t *o, const char *name, char *out, size_t cap);

#endif
