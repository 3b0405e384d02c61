/*
 * ratelimit.c - see ratelimit.h. A flat array searched linearly: at most
 * RATELIMIT_KEYS rows, consulted once per login attempt, whose Argon2 hash
 * costs a thousand times more than the search.
 */
#include "node/http/ratelimit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char key[RATELIMIT_KEY_MAX];
    unsigned failures;
    uint64_t last_ms; /* last failure */
    uint64_t locked_until;
} rl_row;

struct ratelimit {
    unsigned max_failures;
    uint64_t window_ms, base_lock_ms, max_lock_ms;
    rl_row *rows;
    size_t n;
};

ratelimit *ratelimit_new(unsigned max_failures, uint64_t window_ms, uint64_t base_lock_ms,
                         uint64_t max_lock_ms)
{
    ratelimit *r = calloc(1, sizeof *r);
    if (!r || !(r->rows = calloc(RATELIMIT_KEYS, sizeof *r->rows))) {
        free(r);
        return NULL;
    }
    r->max_failures = max_failures;
    r->window_ms = window_ms;
    r->base_lock_ms = base_lock_ms;
    r->max_lock_ms = max_lock_ms;
    return r;
}

void ratelimit_free(ratelimit *r)
{
    if (r)
        free(r->rows);
    free(r);
}

/* When the row may be forgotten. */
static uint64_t row_expiry(const ratelimit *r, const rl_row *row)
{
    uint64_t w = row->last_ms + r->window_ms;
    return w > row->locked_until ? w : row->locked_until;
}

static rl_row *row_find(ratelimit *r, const char *key, uint64_t now_ms, bool create)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->rows[i].key, key))
            continue;
        if (now_ms && row_expiry(r, &r->rows[i]) <= now_ms) {
            r->rows[i].failures = 0; /* the window passed: start over */
            r->rows[i].locked_until = 0;
        }
        return &r->rows[i];
    }
    if (!create)
        return NULL;
    size_t at = r->n;
    if (r->n == RATELIMIT_KEYS) { /* full: reuse the unlocked row soonest forgotten */
        for (size_t i = 0; i < r->n; i++)
            if (r->rows[i].locked_until <= now_ms &&
                (at == r->n || row_expiry(r, &r->rows[i]) < row_expiry(r, &r->rows[at])))
                at = i;
        if (at == r->n)
            return NULL; /* every row is locked: none is given up */
    } else {
        r->n++;
    }
    rl_row *row = &r->rows[at];
    memset(row, 0, sizeof *row);
    snprintf(row->key, sizeof row->key, "%s", key);
    return row;
}

uint64_t ratelimit_wait(ratelimit *r, const char *key, uint64_t now_ms)
{
    rl_row *row = row_find(r, key, now_ms, false);
    return row && row->locked_until > now_ms ? row->locked_until - now_ms : 0;
}

void ratelimit_fail(ratelimit *r, const char *key, uint64_t now_ms)
{
    rl_row *row = row_find(r, key, now_ms, true);
    if (!row)
        return;
    row->failures++;
    row->last_ms = now_ms;
    if (row->failures < r->max_failures)
        return;
    unsigned extra = row->failures - r->max_failures;
    uint64_t lock = extra >= 20 ? r->max_lock_ms : r->base_lock_ms << extra;
    if (lock > r->max_lock_ms)
        lock = r->max_lock_ms;
    row->locked_until = now_ms + lock;
}

void ratelimit_undo(ratelimit *r, const char *key)
{
    rl_row *row = row_find(r, key, 0, false);
    if (row && row->failures)
        row->failures--;
    if (row && row->failures < r->max_failures)
        row->locked_until = 0; /* the lock came from the failure taken back */
}

void ratelimit_clear(ratelimit *r, const char *key)
{
    rl_row *row = row_find(r, key, 0, false);
    if (row) {
        *row = r->rows[r->n - 1];
        r->n--;
    }
}

void ratelimit_clear_prefix(ratelimit *r, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = r->n; i-- > 0;)
        if (!strncmp(r->rows[i].key, prefix, n))
            r->rows[i] = r->rows[--r->n];
}

void ratelimit_locks(ratelimit *r, uint64_t now_ms,
                     void (*fn)(void *ctx, const char *key, unsigned failures, uint64_t wait_ms),
                     void *ctx)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->rows[i].locked_until > now_ms)
            fn(ctx, r->rows[i].key, r->rows[i].failures, r->rows[i].locked_until - now_ms);
}
