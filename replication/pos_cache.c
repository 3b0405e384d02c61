/*
 * pos_cache.c - complete positions in memory with a change log. See
 * pos_cache.h.
 *
 * Positions live in a dense array (indexes never change) found through an
 * open-addressing table of indexes. The log lists the indexes of changed
 * positions in order; version v means "the first v - base entries of the
 * log seen". When the log grows past a few times the number of origins it
 * is dropped, and readers older than that get everything once; a reload
 * drops it too, and skips a version so that every reader starts over.
 */
#include "replication/pos_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POS_UNIT_CAP 33

typedef struct {
    uint8_t origin[ENTRY_KEY_BYTES];
    uint64_t seq;
    char unit[POS_UNIT_CAP];
    uint64_t marked; /* arrival sweep that last queued it */
} pos_entry;

struct pos_cache {
    pos_entry *v;
    size_t n, cap;
    uint32_t *table; /* index + 1, 0 = empty */
    size_t tcap;
    uint32_t *log;
    size_t nlog, caplog;
    uint64_t base; /* version of log[0]; readers below it get everything */
    uint64_t arrival_seen, sweep;
};

static uint64_t origin_hash(const uint8_t *o)
{
    uint64_t h;
    memcpy(&h, o, sizeof h);
    return h;
}

static uint64_t version(const pos_cache *c)
{
    return c->base + c->nlog;
}

static int table_grow(pos_cache *c)
{
    size_t ncap = c->tcap ? 2 * c->tcap : 256;
    uint32_t *t = calloc(ncap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = origin_hash(c->v[i].origin) & (ncap - 1);
        while (t[j])
            j = (j + 1) & (ncap - 1);
        t[j] = (uint32_t)i + 1;
    }
    free(c->table);
    c->table = t;
    c->tcap = ncap;
    return 0;
}

/* The entry of origin, created (position 0) when absent; NULL when out of
 * memory. */
static pos_entry *entry_get(pos_cache *c, const uint8_t *origin)
{
    if (2 * (c->n + 1) > c->tcap && table_grow(c))
        return NULL;
    size_t j = origin_hash(origin) & (c->tcap - 1);
    while (c->table[j]) {
        pos_entry *e = &c->v[c->table[j] - 1];
        if (!memcmp(e->origin, origin, ENTRY_KEY_BYTES))
            return e;
        j = (j + 1) & (c->tcap - 1);
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 256;
        pos_entry *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        c->v = nv;
        c->cap = ncap;
    }
    pos_entry *e = &c->v[c->n];
    memset(e, 0, sizeof *e);
    memcpy(e->origin, origin, ENTRY_KEY_BYTES);
    c->table[j] = (uint32_t)++c->n;
    return e;
}

/* Drops the log; skip makes readers that saw all of it start over too. */
static void log_reset(pos_cache *c, bool skip)
{
    c->base += c->nlog + skip;
    c->nlog = 0;
}

/* Appends e to the change log, dropping the log when it grew long. */
static int log_add(pos_cache *c, const pos_entry *e)
{
    if (c->nlog >= 4 * c->n + 1024)
        log_reset(c, false);
    if (c->nlog == c->caplog) {
        size_t ncap = c->caplog ? 2 * c->caplog : 1024;
        uint32_t *nl = realloc(c->log, ncap * sizeof *nl);
        if (!nl)
            return -1;
        c->log = nl;
        c->caplog = ncap;
    }
    c->log[c->nlog++] = (uint32_t)(e - c->v);
    return 0;
}

/* Sets e's position, logging it when it changed. */
static int entry_set(pos_cache *c, pos_entry *e, uint64_t seq, const char *unit)
{
    if (e->seq == seq && !strcmp(e->unit, unit))
        return 0;
    e->seq = seq;
    snprintf(e->unit, sizeof e->unit, "%s", unit);
    return log_add(c, e);
}

static int load_one(void *ctx, const uint8_t *origin, uint64_t seq, const char *unit)
{
    pos_cache *c = ctx;
    pos_entry *e = entry_get(c, origin);
    return e ? entry_set(c, e, seq, unit) : -1;
}

int pos_cache_reload(pos_cache *c, store *s)
{
    c->arrival_seen = store_arrival_last(s);
    /* a position lowered to nothing is no longer listed by the store */
    for (size_t i = 0; i < c->n; i++)
        c->v[i].seq = 0;
    if (store_completes(s, load_one, c))
        return -1;
    log_reset(c, true);
    return 0;
}

pos_cache *pos_cache_new(store *s)
{
    pos_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (pos_cache_reload(c, s)) {
        pos_cache_free(c);
        return NULL;
    }
    return c;
}

void pos_cache_free(pos_cache *c)
{
    if (!c)
        return;
    free(c->v);
    free(c->table);
    free(c->log);
    free(c);
}

int pos_cache_touch(pos_cache *c, store *s, const uint8_t origin[ENTRY_KEY_BYTES])
{
    uint64_t seq;
    char unit[POS_UNIT_CAP];
    int rc = store_complete_get(s, origin, &seq, unit);
    if (rc)
        return rc > 0 ? 0 : -1; /* no position yet: nothing to tell */
    pos_entry *e = entry_get(c, origin);
    return e ? entry_set(c, e, seq, unit) : -1;
}

typedef struct {
    pos_cache *c;
    uint8_t (*origins)[ENTRY_KEY_BYTES];
    size_t n, cap;
} arrival_sweep;

/* Collects each arriving entry's origin once per sweep. */
static int arrival_one(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    arrival_sweep *a = ctx;
    (void)pos;
    if (len < ENTRY_ORIGIN_OFFSET + ENTRY_KEY_BYTES)
        return 0;
    pos_entry *e = entry_get(a->c, bytes + ENTRY_ORIGIN_OFFSET);
    if (!e)
        return -1;
    if (e->marked == a->c->sweep)
        return 0;
    e->marked = a->c->sweep;
    if (a->n == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 16;
        void *no = realloc(a->origins, ncap * sizeof *a->origins);
        if (!no)
            return -1;
        a->origins = no;
        a->cap = ncap;
    }
    memcpy(a->origins[a->n++], e->origin, ENTRY_KEY_BYTES);
    return 0;
}

/* Re-reads the positions of origins whose entries arrived since the last
 * sweep. */
static int sweep_arrivals(pos_cache *c, store *s)
{
    uint64_t last = store_arrival_last(s);
    if (last == c->arrival_seen)
        return 0;
    arrival_sweep a = {c, NULL, 0, 0};
    c->sweep++;
    int rc = store_arrivals(s, c->arrival_seen, arrival_one, &a);
    for (size_t i = 0; !rc && i < a.n; i++)
        rc = pos_cache_touch(c, s, a.origins[i]);
    free(a.origins);
    if (!rc)
        c->arrival_seen = last;
    return rc ? -1 : 0;
}

int pos_cache_changed(pos_cache *c, store *s, uint64_t *since,
                      int (*fn)(void *fctx, const uint8_t *origin, uint64_t seq, const char *unit),
                      void *fctx)
{
    if (sweep_arrivals(c, s))
        return -1;
    int rc = 0;
    if (*since < c->base) {
        for (size_t i = 0; !rc && i < c->n; i++)
            rc = fn(fctx, c->v[i].origin, c->v[i].seq, c->v[i].unit);
    } else {
        for (size_t i = *since - c->base; !rc && i < c->nlog; i++) {
            const pos_entry *e = &c->v[c->log[i]];
            rc = fn(fctx, e->origin, e->seq, e->unit);
        }
    }
    if (!rc)
        *since = version(c);
    return rc;
}
