/*
 * doc_groups.c - recipient groups: "X*" (all communes of X: every unit of
 * the lowest tier below X) and "X*TIER" (every unit of tier TIER below X),
 * expanded against the unit tree when the document is issued; the
 * expansion is recorded in the document (docs/documents.md, "Recipients").
 */
#include "documents/doc_internal.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

/* True when units (an array of codes) holds u. */
static bool group_holds(const json_t *units, const char *u)
{
    size_t i;
    const json_t *v;
    json_array_foreach(units, i, v) if (u && !strcmp(json_string_value(v), u)) return true;
    return false;
}

typedef struct {
    documents *d;
    const unit_tree *tree;
    const char *of, *tier;
    json_t *list, *units;
} group_ctx;

static int group_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    group_ctx *g = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *u = record_to_json(rec, len, id, idlen, NULL, 0);
    const char *code = u ? doc_str(u, "code") : NULL, *tier = u ? doc_str(u, "tier") : NULL;
    if (code && tier && !strcmp(tier, g->tier) && strcmp(code, g->of) &&
        strcmp(code, g->d->c->unit) &&
        unit_tree_within(g->tree, code, strlen(code), g->of, strlen(g->of))) {
        json_array_append_new(g->units, json_string(code));
        if (!group_holds(g->list, code))
            json_array_append_new(g->list, json_string(code));
    }
    json_decref(u);
    return 0;
}

/* Sets "of_name" of group to the name of unit of, when the store holds it. */
static void group_name(documents *d, const char *of, json_t *group)
{
    uint8_t *rec;
    size_t len;
    if (store_record_get(d->s, "units", of, &rec, &len))
        return;
    json_t *u =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, of, strlen(of), NULL, 0);
    free(rec);
    if (doc_str(u, "name"))
        json_object_set(group, "of_name", json_object_get(u, "name"));
    json_decref(u);
}

int doc_group_expand(documents *d, const char *spec, const unit_tree *tree, json_t *list,
                     json_t *groups, lt_error *e)
{
    const char *star = strchr(spec, '*');
    char of[NODE_CODE_MAX];
    size_t olen = (size_t)(star - spec);
    const char *tier = star[1] ? star + 1 : d->c->tiers[d->c->ntiers ? d->c->ntiers - 1 : 0];
    if (!olen || olen >= sizeof of || strchr(star + 1, '*'))
        return lt_error_set(e, LT_EINVAL, "document.recipients",
                            "recipient group %s must be X* (all communes of unit X) or X*TIER "
                            "(all units of tier TIER below X), e.g. 412* or 40*district",
                            spec);
    memcpy(of, spec, olen);
    of[olen] = '\0';
    if (!unit_tree_known(tree, of, olen))
        return lt_error_set(e, LT_EINVAL, "document.recipient_unknown",
                            "recipient group %s names unit %s, which is not a unit of this "
                            "network: check the code (GET /api/v1/network lists the units)",
                            spec, of);
    int below = node_tier_index(d->c, tier);
    if (below < 0)
        return lt_error_set(e, LT_EINVAL, "document.recipients",
                            "recipient group %s names tier %s, which is not a tier of this "
                            "network (national, province, district, commune...)",
                            spec, tier);
    group_ctx g = {d, tree, of, tier, list, json_array()};
    if (store_records(d->s, "units", group_one, &g) < 0) {
        json_decref(g.units);
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the units; check the node's disk");
    }
    if (!json_array_size(g.units)) {
        json_decref(g.units);
        return lt_error_set(e, LT_EINVAL, "document.recipients",
                            "recipient group %s holds no unit: unit %s has no %s below it in the "
                            "tree this node knows",
                            spec, of, tier);
    }
    json_t *group =
        json_pack("{s:s, s:s, s:s, s:o}", "spec", spec, "of", of, "tier", tier, "units", g.units);
    group_name(d, of, group);
    json_array_append_new(groups, group);
    return 0;
}

/* True when a group of groups at the lowest tier holds unit u. */
static bool group_covers(const json_t *groups, const char *lowest, const char *u)
{
    size_t i;
    const json_t *g;
    json_array_foreach(groups, i, g)
    {
        if (!strcmp(doc_str(g, "tier"), lowest) && group_holds(json_object_get(g, "units"), u))
            return true;
    }
    return false;
}

int doc_group_address(documents *d, const json_t *list, const json_t *groups, json_t *address,
                      lt_error *e)
{
    if (json_array_size(list) <= DOC_ADDRESS_MAX)
        return 0;
    const char *lowest = d->c->tiers[d->c->ntiers ? d->c->ntiers - 1 : 0];
    size_t i;
    const json_t *v;
    json_array_foreach(groups, i, v)
    {
        json_t *a = json_sprintf("%s*", doc_str(v, "of"));
        if (!strcmp(doc_str(v, "tier"), lowest) && !group_holds(address, json_string_value(a)))
            json_array_append(address, a);
        json_decref(a);
    }
    json_array_foreach(list, i, v)
    {
        if (!group_covers(groups, lowest, json_string_value(v)))
            json_array_append(address, (json_t *)v);
    }
    if (json_array_size(address) <= DOC_ADDRESS_MAX)
        return 0;
    return lt_error_set(e, LT_EINVAL, "document.recipients",
                        "these recipients need %zu addresses (groups of the %s tier count as one, "
                        "every other unit as one) and a document has at most %d: name a group "
                        "such as X* (all %ss of unit X) rather than its units one by one, or "
                        "send two documents",
                        json_array_size(address), lowest, DOC_ADDRESS_MAX, lowest);
}

json_t *doc_group_named(const json_t *doc)
{
    json_t *out = json_array();
    const json_t *groups = json_object_get(doc, "recipient_groups"), *g, *v;
    size_t i, j;
    json_array_foreach(groups, i, g) json_array_append(out, json_object_get(g, "spec"));
    json_array_foreach(json_object_get(doc, "recipients"), i, v)
    {
        bool grouped = false;
        json_array_foreach(groups, j, g)
        {
            grouped = grouped || group_holds(json_object_get(g, "units"), json_string_value(v));
        }
        if (!grouped)
            json_array_append(out, (json_t *)v);
    }
    return out;
}
