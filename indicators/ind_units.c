/*
 * ind_units.c - the unit catalogue of the indicators domain: every "units"
 * record (code, name, tier, parent) as a tree with child lists, reloaded
 * when the collection's digest changes.
 */
#include "indicators/ind_internal.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    ind_unit *u;
    size_t n, cap;
    char (*parents)[NODE_CODE_MAX];
} load_ctx;

static int load_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    load_ctx *l = ctx;
    if (idlen >= NODE_CODE_MAX || record_is_deleted(rec, len))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        ind_unit *u = realloc(l->u, cap * sizeof *u);
        char(*p)[NODE_CODE_MAX] = u ? realloc(l->parents, cap * sizeof *p) : NULL;
        if (u)
            l->u = u;
        if (!p)
            return -1;
        l->parents = p;
        l->cap = cap;
    }
    ind_unit *u = &l->u[l->n];
    memset(u, 0, sizeof *u);
    memcpy(u->code, id, idlen);
    if (record_field_str(rec, len, "name", u->name, sizeof u->name))
        u->name[0] = '\0';
    if (record_field_str(rec, len, "tier", u->tier, sizeof u->tier))
        u->tier[0] = '\0';
    /* a unit merged away stands below its successor */
    if ((record_field_str(rec, len, "merged_into", l->parents[l->n], NODE_CODE_MAX) ||
         !l->parents[l->n][0]) &&
        record_field_str(rec, len, "parent", l->parents[l->n], NODE_CODE_MAX))
        l->parents[l->n][0] = '\0';
    l->n++;
    return 0;
}

const ind_unit *ind_units_find(const ind_units *us, const char *code)
{
    size_t lo = 0, hi = us->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(us->u[mid].code, code);
        if (!c)
            return &us->u[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Links parents and children; units arrive sorted by code (store order).
 * Children are linked in reverse so that the walk lists them by code. */
static void units_link(ind_units *us, char (*parents)[NODE_CODE_MAX])
{
    for (size_t i = 0; i < us->n; i++)
        us->u[i].parent = us->u[i].first_child = us->u[i].next_sibling = -1;
    for (size_t i = us->n; i-- > 0;) {
        const ind_unit *p = parents[i][0] ? ind_units_find(us, parents[i]) : NULL;
        if (!p || p == &us->u[i])
            continue;
        int pi = IND_UNIT_IX(us, p);
        us->u[i].parent = pi;
        us->u[i].next_sibling = us->u[pi].first_child;
        us->u[pi].first_child = (int)i;
    }
}

static int units_digest(void *ctx, const char *coll, uint64_t live,
                        const uint8_t digest[STORE_DIGEST_BYTES])
{
    (void)live;
    if (!strcmp(coll, "units"))
        memcpy(ctx, digest, STORE_DIGEST_BYTES);
    return 0;
}

const ind_units *ind_units_of(indicators *d)
{
    uint8_t digest[STORE_DIGEST_BYTES] = {0};
    store_collections(d->s, units_digest, digest);
    if (d->units_loaded && !memcmp(digest, d->units_digest, sizeof digest))
        return &d->units;
    load_ctx l = {0};
    if (store_records(d->s, "units", load_one, &l) == 0) {
        free(d->units.u);
        d->units = (ind_units){l.u, l.n};
        units_link(&d->units, l.parents);
        memcpy(d->units_digest, digest, sizeof digest);
        d->units_loaded = true;
    } else {
        free(l.u);
    }
    free(l.parents);
    return &d->units;
}

bool ind_units_within(const ind_units *us, const char *unit, const char *anc)
{
    const ind_unit *u = ind_units_find(us, unit);
    for (size_t depth = 0; u && depth < 64; depth++) {
        if (!strcmp(u->code, anc))
            return true;
        u = u->parent >= 0 ? &us->u[u->parent] : NULL;
    }
    return false;
}

const ind_unit *ind_units_served(const ind_units *us, const char *unit, const char *node_unit,
                                 const char *hint, lt_error *e)
{
    const ind_unit *u = ind_units_find(us, unit);
    if (!u)
        lt_error_set(e, LT_ENOTFOUND, "indicator.unit",
                     "no unit %.40s in the network; GET /api/v1/network lists the units", unit);
    else if (!ind_units_within(us, unit, node_unit))
        lt_error_set(e, LT_EFORBIDDEN, "indicator.unit",
                     "unit %s is not served by this node (unit %s): %s", unit, node_unit, hint);
    return u && ind_units_within(us, unit, node_unit) ? u : NULL;
}

void ind_units_walk(const ind_units *us, const ind_unit *root, const char *tier,
                    void (*fn)(void *ctx, const ind_unit *u), void *ctx)
{
    if (!root)
        return;
    int stack[64], top = 0, start = IND_UNIT_IX(us, root);
    stack[top++] = start;
    while (top) {
        int i = stack[--top];
        const ind_unit *u = &us->u[i];
        if (!tier || !strcmp(u->tier, tier))
            fn(ctx, u);
        /* next sibling after the subtree: push it first (not for the root) */
        if (i != start && u->next_sibling >= 0 && top < 64)
            stack[top++] = u->next_sibling;
        if (u->first_child >= 0 && top < 64)
            stack[top++] = u->first_child;
    }
}

static void count_one(void *ctx, const ind_unit *u)
{
    (void)u;
    (*(size_t *)ctx)++;
}

size_t ind_units_count(const ind_units *us, const ind_unit *root, const char *tier)
{
    size_t n = 0;
    ind_units_walk(us, root, tier, count_one, &n);
    return n;
}
