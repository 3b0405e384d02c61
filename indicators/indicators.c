/*
 * indicators.c - the indicators context: store, node, clock, unit
 * catalogue, operational sources and the lock.
 */
#include "indicators/ind_internal.h"
#include "storage/hlc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t wall_now(void *ctx)
{
    (void)ctx;
    return hlc_wall_ms();
}

const char *const *indicators_top_tier_collections(size_t *n)
{
    static const char *const colls[] = {INDICATOR_COLL};
    *n = 1;
    return colls;
}

indicators *indicators_new(store *s, const node_config *c)
{
    indicators *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->s = s;
    d->c = c;
    d->now = wall_now;
    if (uv_mutex_init_recursive(&d->lock)) {
        free(d);
        return NULL;
    }
    return d;
}

void indicators_free(indicators *d)
{
    if (!d)
        return;
    free(d->units.u);
    json_decref(d->known_defs);
    uv_mutex_destroy(&d->lock);
    free(d);
}

void indicators_set_clock(indicators *d, uint64_t (*now_ms)(void *ctx), void *ctx)
{
    d->now = now_ms ? now_ms : wall_now;
    d->now_ctx = ctx;
}

void ind_lock(indicators *d)
{
    uv_mutex_lock(&d->lock);
}

void ind_unlock(indicators *d)
{
    uv_mutex_unlock(&d->lock);
}

bool indicators_serves(indicators *d, const char *unit)
{
    ind_lock(d);
    bool yes = ind_units_within(ind_units_of(d), unit, d->c->unit);
    ind_unlock(d);
    return yes;
}

bool indicators_within(indicators *d, const char *unit, const char *anc)
{
    ind_lock(d);
    bool yes = ind_units_within(ind_units_of(d), unit, anc);
    ind_unlock(d);
    return yes;
}

int indicators_live_register(indicators *d, const ind_live_source *src)
{
    ind_lock(d);
    int rc = -1;
    bool taken = false;
    for (size_t i = 0; i < d->nlive; i++)
        taken |= !strcmp(d->live[i].code, src->code);
    if (!taken && d->nlive < IND_LIVE_MAX && ind_code_valid(src->code)) {
        d->live[d->nlive++] = *src;
        rc = 0;
    }
    ind_unlock(d);
    return rc;
}
