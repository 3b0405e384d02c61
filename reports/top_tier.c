/*
 * top_tier.c - definitions that only an admin of a top-tier node writes
 * (categories, holidays): the check of who (an admin of the node's own
 * unit, access_is_node_admin) and where, and the write of
 * one record addressed to every node ("*"). Apply enforces the same tier
 * rule at every node (storage/authority.c); this check answers early with
 * a clear 403 instead of a write the network would quarantine.
 */
#include "lib/mpjson.h"
#include "node/people/access.h"
#include "reports/reports_internal.h"

#include <stdlib.h>

const char *const *reports_top_tier_collections(size_t *n)
{
    static const char *const colls[] = {CATEGORY_COLL, HOLIDAY_COLL};
    *n = sizeof colls / sizeof *colls;
    return colls;
}

int top_tier_check(reports *r, const reports_actor *who, const char *what, lt_error *e)
{
    if (!who || who->citizen || !access_is_node_admin(who->unit, who->role, r->c->unit))
        return lt_error_set(e, LT_EFORBIDDEN, "auth.admin_required",
                            "only an admin of this node's unit %s may define %s; your account is "
                            "%s of unit %s: ask an admin of unit %s",
                            r->c->unit, what, who ? account_role_name(who->role) : "none",
                            who && who->unit ? who->unit : "none", r->c->unit);
    int tier = node_tier_index(r->c, r->c->tier),
        max = r->c->ntiers > 3 ? (int)r->c->ntiers - 3 : 0;
    if (tier > max)
        return lt_error_set(e, LT_EFORBIDDEN, "top_tier.required",
                            "%s are defined at the top tiers only (at most %d levels below the "
                            "root); this node is tier %s: ask an admin of the province or national "
                            "node",
                            what, max, r->c->tier);
    return 0;
}

bool reports_may_define(reports *r, const reports_actor *who)
{
    lt_error e;
    return top_tier_check(r, who, "categories", &e) == 0;
}

int top_tier_write(reports *r, const char *coll, const char *id, entry_op op, const json_t *fields,
                   lt_error *e)
{
    uint8_t *body = NULL;
    size_t len = 0;
    if (fields && mpjson_pack_object(fields, &body, &len, e->message, sizeof e->message))
        return lt_error_mark(e, LT_EINVAL, NULL);
    const char *to[] = {"*"};
    store_write w = {coll, id, op, body, len, to, 1};
    store_author a = node_author(r->c);
    int rc = store_write_local(r->s, &a, &w, 1, NULL, e->message, sizeof e->message);
    free(body);
    return rc ? lt_error_mark(e, store_write_errkind(rc), NULL) : 0;
}
