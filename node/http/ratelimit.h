/*
 * ratelimit.h - failure counting with exponential lockout, in memory, for
 * login attempts per account and per client address.
 *
 * A key (an account name, an address) that fails max_failures times within
 * window_ms is locked for base_lock_ms; every further failure doubles the
 * lock, up to max_lock_ms. The count starts over once window_ms has passed
 * since the last failure and no lock holds. The table holds at most
 * RATELIMIT_KEYS keys; when full, the unlocked key closest to being
 * forgotten makes room. A locked key is never given up: when every row is
 * locked, a new key is not counted (so a flood of new keys cannot reset a
 * locked one). State lives in the node process: a restart forgets it.
 */
#ifndef LT_RATELIMIT_H
#define LT_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_KEYS 4096
#define RATELIMIT_KEY_MAX 136 /* "p:" NAME "|" ADDRESS fits */

typedef struct ratelimit ratelimit;

/* A limiter; NULL when out of memory. */
ratelimit *ratelimit_new(unsigned max_failures, uint64_t window_ms, uint64_t base_lock_ms,
                         uint64_t max_lock_ms);

void ratelimit_free(ratelimit *r);

/* 0 when key may try at now_ms, else the milliseconds until it may. */
uint64_t ratelimit_wait(ratelimit *r, const char *key, uint64_t now_ms);

/* Counts a failure of key at now_ms (and locks it when due). */
void ratelimit_fail(ratelimit *r, const char *key, uint64_t now_ms);

/* Takes back one failure counted for key (an attempt counted in advance
 * that succeeded). */
void ratelimit_undo(ratelimit *r, const char *key);

/* Forgets key (after a successful login). */
void ratelimit_clear(ratelimit *r, const char *key);

/* Forgets every key that starts with prefix. */
void ratelimit_clear_prefix(ratelimit *r, const char *prefix);

/* Calls fn for every key locked at now_ms, with its failures and the
 * milliseconds its lock still holds. */
void ratelimit_locks(ratelimit *r, uint64_t now_ms,
                     void (*fn)(void *ctx, const char *key, unsigned failures, uint64_t wait_ms),
                     void *ctx);

#endif
