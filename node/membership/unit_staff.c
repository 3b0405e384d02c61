/*
 * unit_staff.c - see unit_staff.h.
 */
#include "node/membership/unit_staff.h"
#include "node/links/link_follow.h"
#include "node/membership/unit_ops.h"
#include "node/people/accounts.h"
#include "replication/unit_tree.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

#define SUCCESSION_MAX 16

/* The live unit that unit became (its merged_into, followed) into out;
 * false when unit was not retired. */
static bool successor(store *s, const char *unit, char *out)
{
    snprintf(out, NODE_CODE_MAX, "%s", unit);
    bool retired = false;
    for (int hop = 0; hop < SUCCESSION_MAX; hop++) {
        json_t *j = link_follow_unit(s, out);
        const char *into = json_string_value(json_object_get(j, UNIT_F_MERGED_INTO));
        bool gone = json_is_true(json_object_get(j, UNIT_F_RETIRED)) && into &&
                    strlen(into) < NODE_CODE_MAX;
        if (gone)
            snprintf(out, NODE_CODE_MAX, "%s", into);
        json_decref(j);
        if (!gone)
            break;
        retired = true;
    }
    return retired;
}

typedef struct {
    store *from, *to;
    const node_config *tc;
    const unit_tree *tree;
    bool apply;
    json_t *out;
    lt_error *e;
} staff_ctx;

typedef struct {
    account *a;
    size_t n, cap;
} account_list_copy;

static int collect_one(void *ctx, const account *a)
{
    account_list_copy *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        account *bigger = realloc(l->a, l->cap * sizeof *bigger);
        if (!bigger)
            return -1;
        l->a = bigger;
    }
    l->a[l->n++] = *a;
    return 0;
}

static int staff_one(staff_ctx *x, const account *a)
{
    char into[NODE_CODE_MAX], err[256];
    if (!successor(x->from, a->unit, into))
        return 0;
    if (!unit_tree_within(x->tree, into, strlen(into), x->tc->unit, strlen(x->tc->unit)))
        return lt_error_set(x->e, LT_EINVAL, NULL,
                            "account %s belongs to unit %s, merged into %s, which node %s (unit "
                            "%s) does not serve: give the data directory of the node of %s or "
                            "of a unit above it",
                            a->name, a->unit, into, x->tc->dir, x->tc->unit, into);
    account other, moved = *a;
    bool taken = account_get(x->to, a->name, &other) == 0;
    snprintf(moved.unit, sizeof moved.unit, "%s", into);
    if (x->apply && !taken &&
        (account_put(x->to, &moved, err, sizeof err) || account_del(x->from, a->name) < 0))
        return lt_error_set(x->e, LT_ESTORAGE, NULL, "cannot move account %s: %s", a->name, err);
    json_array_append_new(x->out, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s?}", "user", a->name,
                                            "role", account_role_name(a->role), "from", a->unit,
                                            "to", into, "moved", x->apply && !taken, "why",
                                            taken ? "the name is taken on the new node" : NULL));
    return 0;
}

int unit_staff_move(store *from, store *to, const node_config *tc, bool apply, json_t **out,
                    lt_error *e)
{
    unit_tree *t = unit_tree_new();
    if (!t || unit_tree_load(t, to)) {
        unit_tree_free(t);
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the unit tree of %s", tc->dir);
    }
    staff_ctx x = {from, to, tc, t, apply, json_array(), e};
    /* collected first: moving while listing would change the list */
    account_list_copy l = {0};
    int rc = account_list(from, collect_one, &l)
                 ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the accounts of this node")
                 : 0;
    for (size_t i = 0; !rc && i < l.n; i++)
        rc = staff_one(&x, &l.a[i]);
    sodium_memzero(l.a, l.n * sizeof *l.a);
    free(l.a);
    unit_tree_free(t);
    if (rc)
        json_decref(x.out);
    else
        *out = x.out;
    return rc;
}
