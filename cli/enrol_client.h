/*
 * enrol_client.h - the asking side of enrolment and key rotation, shared by
 * `lienthong enroll --parent URL` and `lienthong rotate`: send the signed
 * request (node/membership/enrol.h) to the parent, wait for an admin's decision, hand
 * back the membership entries of an approval.
 */
#ifndef LT_ENROL_CLIENT_H
#define LT_ENROL_CLIENT_H

#include "node/http/url.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>

#define ENROL_PENDING 3 /* enrol_client_send: not decided yet (--no-wait) */

/* Posts body to the parent at u, prints the request id and fingerprint,
 * then polls its state every second for at most timeout_s (not at all
 * when !wait). Returns CLI_OK with *rec (the approved request record),
 * ENROL_PENDING, or CLI_FAIL after printing why (refused with the reason,
 * timed out, unreachable). */
int enrol_client_send(const char *cmd, const url_parts *u, json_t *body, int timeout_s, bool wait,
                      json_t **rec);

/* The membership entries of an approved request record ("entries",
 * base64), decoded into a malloc'd array of malloc'd copies. Returns 0, or
 * -1 with err. */
int enrol_client_entries(json_t *rec, store_input **in, size_t *n, char *err, size_t errlen);

/* Frees what enrol_client_entries returned. */
void enrol_client_entries_free(store_input *in, size_t n);

#endif
