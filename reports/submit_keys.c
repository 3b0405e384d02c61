/*
 * submit_keys.c - the idempotency keys of citizens' submissions
 * (submit_keys.h): a fixed table searched linearly, the oldest row given
 * up when full.
 */
#include "reports/submit_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char addr[64];
    char key[SUBMIT_KEY_MAX + 1];
    char code[REPORT_CODE_MAX];
    char token[REPORT_TOKEN_MAX];
    uint64_t at_ms; /* when claimed; 0: a free row */
    bool done;
} key_row;

struct submit_keys {
    key_row rows[SUBMIT_KEYS];
};

submit_keys *submit_keys_new(void)
{
    return calloc(1, sizeof(submit_keys));
}

void submit_keys_free(submit_keys *k)
{
    if (k)
        sodium_memzero(k, sizeof *k);
    free(k);
}

bool submit_keys_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    return n && n <= SUBMIT_KEY_MAX &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static key_row *row_find(submit_keys *k, const char *addr, const char *key)
{
    for (size_t i = 0; i < SUBMIT_KEYS; i++)
        if (k->rows[i].at_ms && !strcmp(k->rows[i].key, key) && !strcmp(k->rows[i].addr, addr))
            return &k->rows[i];
    return NULL;
}

/* A free or expired row, else the oldest. */
static key_row *row_free(submit_keys *k, uint64_t now_ms)
{
    key_row *oldest = &k->rows[0];
    for (size_t i = 0; i < SUBMIT_KEYS; i++) {
        key_row *r = &k->rows[i];
        if (!r->at_ms || r->at_ms + SUBMIT_KEY_TTL_MS <= now_ms)
            return r;
        if (r->at_ms < oldest->at_ms)
            oldest = r;
    }
    return oldest;
}

submit_key_state submit_keys_claim(submit_keys *k, const char *addr, const char *key,
                                   uint64_t now_ms, char code[REPORT_CODE_MAX],
                                   char token[REPORT_TOKEN_MAX])
{
    key_row *r = row_find(k, addr, key);
    if (r && r->at_ms + SUBMIT_KEY_TTL_MS > now_ms) {
        if (!r->done)
            return SUBMIT_KEY_PENDING;
        snprintf(code, REPORT_CODE_MAX, "%s", r->code);
        snprintf(token, REPORT_TOKEN_MAX, "%s", r->token);
        return SUBMIT_KEY_DONE;
    }
    if (!r)
        r = row_free(k, now_ms);
    sodium_memzero(r, sizeof *r);
    snprintf(r->addr, sizeof r->addr, "%s", addr);
    snprintf(r->key, sizeof r->key, "%s", key);
    r->at_ms = now_ms ? now_ms : 1;
    return SUBMIT_KEY_NEW;
}

void submit_keys_finish(submit_keys *k, const char *addr, const char *key, const char *code,
                        const char *token)
{
    key_row *r = row_find(k, addr, key);
    if (!r)
        return;
    if (!code) {
        sodium_memzero(r, sizeof *r);
        return;
    }
    snprintf(r->code, sizeof r->code, "%s", code);
    snprintf(r->token, sizeof r->token, "%s", token);
    r->done = true;
}
