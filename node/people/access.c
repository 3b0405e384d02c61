/*
 * access.c - the visibility rule of access.h.
 */
#include "node/people/access.h"

#include <string.h>

bool access_addressed(const unit_tree *t, const char *unit, const char *addr, size_t len)
{
    size_t ul = strlen(unit);
    if (len == 1 && addr[0] == '*')
        return true;
    if (!len)
        return false;
    bool subtree = addr[len - 1] == '*';
    size_t n = subtree ? len - 1 : len;
    if (!n || !unit_tree_known(t, addr, n))
        return false;
    /* "A*": A's subtree holds unit, or A lies inside unit's subtree;
     * "A": A lies inside unit's subtree (unit itself included) */
    if (subtree && unit_tree_within(t, unit, ul, addr, n))
        return true;
    return unit_tree_placed_within(t, addr, n, unit, ul);
}

bool access_became(const unit_tree *t, const char *unit, const char *now)
{
    char cur[UNIT_CODE_CAP];
    if (strlen(unit) >= sizeof cur)
        return false;
    strcpy(cur, unit);
    for (int hop = 0;; hop++) {
        if (!strcmp(cur, now))
            return true;
        if (hop == 16 || !unit_tree_successor(t, cur, strlen(cur), cur, sizeof cur))
            return false;
    }
}

/* True when what author (len bytes) wrote is anc's or below: author is
 * anc, or author's current place (its live successor's, when it was merged
 * away) lies inside anc's subtree now. */
static bool author_within(const unit_tree *t, const char *author, size_t len, const char *anc)
{
    char cur[UNIT_CODE_CAP];
    if (len >= sizeof cur)
        return false;
    memcpy(cur, author, len);
    cur[len] = '\0';
    if (access_became(t, cur, anc))
        return true;
    for (int hop = 0; hop < 16; hop++) /* to the live successor */
        if (!unit_tree_successor(t, cur, strlen(cur), cur, sizeof cur))
            break;
    return unit_tree_within(t, cur, strlen(cur), anc, strlen(anc));
}

bool access_visible(const unit_tree *t, const char *unit, const char *author_unit,
                    const char *const *to, size_t nto)
{
    if (author_within(t, author_unit, strlen(author_unit), unit))
        return true;
    for (size_t i = 0; i < nto; i++)
        if (access_addressed(t, unit, to[i], strlen(to[i])))
            return true;
    return false;
}

bool access_entry_visible(const unit_tree *t, const char *unit, const entry_view *e)
{
    if (author_within(t, e->unit.ptr, e->unit.size, unit))
        return true;
    for (uint32_t i = 0; i < e->to.size; i++) {
        const msgpack_object_str *a = &e->to.ptr[i].via.str;
        if (access_addressed(t, unit, a->ptr, a->size))
            return true;
    }
    return false;
}

bool access_personal(account_role role)
{
    return role >= ROLE_STAFF;
}

bool access_may_manage(const unit_tree *t, const char *caller_unit, account_role caller_role,
                       const char *target_unit, account_role target_role)
{
    return caller_role == ROLE_ADMIN && target_role <= caller_role && caller_unit && target_unit &&
           unit_tree_within(t, target_unit, strlen(target_unit), caller_unit, strlen(caller_unit));
}

bool access_is_node_admin(const char *caller_unit, account_role caller_role, const char *node_unit)
{
    return caller_role == ROLE_ADMIN && caller_unit && !strcmp(caller_unit, node_unit);
}
