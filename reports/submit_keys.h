/*
 * submit_keys.h - the idempotency keys of citizens' submissions
 * (POST /api/v1/public/reports with an "Idempotency-Key" header): a
 * repeated submission with the same key from the same address answers the
 * report the first one stored instead of storing a second. In memory, on
 * the loop thread only: at most SUBMIT_KEYS keys, each kept
 * SUBMIT_KEY_TTL_MS; a restart forgets them. The citizen token kept with a
 * key never leaves the node's memory.
 */
#ifndef LT_SUBMIT_KEYS_H
#define LT_SUBMIT_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "reports/reports.h"

#define SUBMIT_KEYS 1024
#define SUBMIT_KEY_MAX 64                   /* characters of a key: A-Z a-z 0-9 - _ */
#define SUBMIT_KEY_TTL_MS (24ull * 3600000) /* a day */

typedef struct submit_keys submit_keys;

typedef enum { SUBMIT_KEY_NEW, SUBMIT_KEY_PENDING, SUBMIT_KEY_DONE } submit_key_state;

/* An empty table; NULL when out of memory. */
submit_keys *submit_keys_new(void);

void submit_keys_free(submit_keys *k);

/* True when key is a valid idempotency key (1 to SUBMIT_KEY_MAX of A-Z,
 * a-z, 0-9, '-', '_'). */
bool submit_keys_valid(const char *key);

/* The state of key from address addr at now_ms. NEW: the key is now
 * recorded as pending (a slot is taken, the oldest given up when full).
 * DONE: code and token get the report the first submission stored.
 * PENDING: the first submission is still being stored. */
submit_key_state submit_keys_claim(submit_keys *k, const char *addr, const char *key,
                                   uint64_t now_ms, char code[REPORT_CODE_MAX],
                                   char token[REPORT_TOKEN_MAX]);

/* Records the report (code, token) stored for a claimed key; code NULL
 * forgets the key (the submission failed, so a retry may store it). */
void submit_keys_finish(submit_keys *k, const char *addr, const char *key, const char *code,
                        const char *token);

#endif
