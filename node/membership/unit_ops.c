/*
 * unit_ops.c - planning and committing tree changes (unit_ops.h).
 *
 * A plan works on a copy of every "units" record held (code -> fields),
 * changing it field by field as the operation goes; each change is noted
 * (the field's value before and after) so the plan can be shown and then
 * written as one patch per unit.
 */
#include "node/membership/unit_ops.h"
#include "lib/mpjson.h"
#include "storage/hlc.h"
#include "storage/record.h"
#include "storage/store.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TREE_DEPTH_MAX 64

typedef struct {
    const node_config *c;
    json_t *units;  /* code -> fields, as planned so far */
    json_t *sets;   /* code -> {field: new value} */
    json_t *before; /* code -> {field: old value or null} */
    json_t *order;  /* codes in the order of their first change */
    json_t *fresh;  /* code -> true for units the plan creates */
    char at[32], id[80];
    lt_error *e;
} plan_ctx;

const char *unit_op_name(unit_op_kind kind)
{
    static const char *const names[] = {"move", "merge", "retire-tier", "rename"};
    return names[kind];
}

/* ---- reading the units ------------------------------------------------------------- */

static int load_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    char err[128], code[NODE_CODE_MAX];
    if (idlen >= sizeof code || record_is_deleted(rec, len))
        return 0;
    memcpy(code, id, idlen);
    code[idlen] = '\0';
    json_t *r = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (r)
        json_object_set_new(ctx, code, r);
    return 0;
}

static const char *field_str(const plan_ctx *x, const char *code, const char *key)
{
    return json_string_value(json_object_get(json_object_get(x->units, code), key));
}

static bool is_retired(const plan_ctx *x, const char *code)
{
    return json_is_true(json_object_get(json_object_get(x->units, code), UNIT_F_RETIRED));
}

/* True when anc is code or one of its ancestors in the planned tree. */
static bool planned_within(const plan_ctx *x, const char *code, const char *anc)
{
    for (int depth = 0; code && depth < TREE_DEPTH_MAX; depth++) {
        if (!strcmp(code, anc))
            return true;
        code = field_str(x, code, "parent");
    }
    return false;
}

/* The tier index of unit code, -1 when unknown. */
static int tier_of(const plan_ctx *x, const char *code)
{
    const char *t = field_str(x, code, "tier");
    return t ? node_tier_index(x->c, t) : -1;
}

/* code must name a live unit other than the top one. Returns 0 or -1 with x->e. */
static int need_live(const plan_ctx *x, const char *code, bool may_be_root)
{
    if (!json_object_get(x->units, code))
        return lt_error_set(x->e, LT_ENOTFOUND, "unit.not_found",
                            "unit %s is not known on this node: check the code (lienthong export "
                            "--collection units lists the units)",
                            code);
    if (is_retired(x, code)) {
        const char *into = field_str(x, code, UNIT_F_MERGED_INTO);
        return lt_error_set(x->e, LT_ECONFLICT, "unit.retired",
                            "unit %s was retired (merged into %s): use the unit it became", code,
                            into ? into : "none");
    }
    if (!may_be_root && !field_str(x, code, "parent"))
        return lt_error_set(x->e, LT_EINVAL, "unit.root_unit",
                            "unit %s is the top unit of the network: it cannot be moved, merged "
                            "or retired",
                            code);
    return 0;
}

/* ---- noting changes -------------------------------------------------------------------- */

/* Sets field key of unit code to v (stolen) in the plan, noting the old value. */
static void plan_set(plan_ctx *x, const char *code, const char *key, json_t *v)
{
    json_t *rec = json_object_get(x->units, code);
    if (!rec) {
        rec = json_object();
        json_object_set_new(x->units, code, rec);
    }
    json_t *set = json_object_get(x->sets, code), *before = json_object_get(x->before, code);
    if (!set) {
        set = json_object();
        before = json_object();
        json_object_set_new(x->sets, code, set);
        json_object_set_new(x->before, code, before);
        json_array_append_new(x->order, json_string(code));
    }
    if (!json_object_get(before, key)) {
        json_t *old = json_object_get(rec, key);
        json_object_set_new(before, key, old ? json_deep_copy(old) : json_null());
    }
    json_object_set(set, key, v);
    json_object_set_new(rec, key, v);
}

/* Moves code under parent, keeping its former parent in former_parents. */
static void plan_reparent(plan_ctx *x, const char *code, const char *parent)
{
    const char *old = field_str(x, code, "parent");
    json_t *hist = json_object_get(json_object_get(x->units, code), UNIT_F_FORMER_PARENTS);
    hist = json_is_array(hist) ? json_deep_copy(hist) : json_array();
    if (old)
        json_array_append_new(
            hist, json_pack("{s:s, s:s, s:s}", "parent", old, "until", x->at, "op", x->id));
    plan_set(x, code, "parent", json_string(parent));
    plan_set(x, code, UNIT_F_FORMER_PARENTS, hist);
}

/* Adds code to the predecessors of into. */
static void plan_add_predecessor(plan_ctx *x, const char *into, const char *code)
{
    json_t *pre = json_object_get(json_object_get(x->units, into), UNIT_F_PREDECESSORS), *v;
    pre = json_is_array(pre) ? json_deep_copy(pre) : json_array();
    size_t i;
    json_array_foreach(pre, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), code))
    {
        json_decref(pre);
        return;
    }
    json_array_append_new(pre, json_string(code));
    plan_set(x, into, UNIT_F_PREDECESSORS, pre);
}

/* Merges code away into `into`: retired, its live children under into. */
static void plan_absorb(plan_ctx *x, const char *code, const char *into)
{
    const char *k;
    json_t *rec;
    json_t *kids = json_array();
    json_object_foreach(x->units, k, rec)
    {
        const char *p = json_string_value(json_object_get(rec, "parent"));
        if (p && !strcmp(p, code) && !is_retired(x, k))
            json_array_append_new(kids, json_string(k));
    }
    size_t i;
    json_t *kid;
    json_array_foreach(kids, i, kid) plan_reparent(x, json_string_value(kid), into);
    json_decref(kids);
    plan_set(x, code, UNIT_F_MERGED_INTO, json_string(into));
    plan_set(x, code, UNIT_F_RETIRED, json_true());
    plan_add_predecessor(x, into, code);
}

/* ---- the operations ------------------------------------------------------------------------ */

static int plan_move(plan_ctx *x, const unit_op *op)
{
    const char *u = op->units[0], *p = op->parent;
    if (need_live(x, u, false) || need_live(x, p, true))
        return -1;
    if (planned_within(x, p, u))
        return lt_error_set(x->e, LT_EINVAL, "unit.move_into_descendant",
                            "unit %s cannot move under %s: %s is %s itself or inside its subtree; "
                            "choose a parent outside it",
                            u, p, p, u);
    if (tier_of(x, p) >= tier_of(x, u))
        return lt_error_set(
            x->e, LT_EINVAL, "unit.tier_order",
            "unit %s (tier %s) cannot move under %s (tier %s): a parent's tier must "
            "be above its child's",
            u, field_str(x, u, "tier"), p, field_str(x, p, "tier"));
    const char *old = field_str(x, u, "parent");
    if (old && !strcmp(old, p))
        return lt_error_set(x->e, LT_ECONFLICT, "unit.no_change",
                            "unit %s is already under %s: nothing to do", u, p);
    plan_reparent(x, u, p);
    return 0;
}

static bool code_valid(const char *code)
{
    size_t n = strlen(code);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)code[i]) && !strchr("-_.", code[i]))
            return false;
    return n > 0 && n < NODE_CODE_MAX;
}

/* The checks of a merge's units (same tier, live, none the top unit). */
static int merge_check_units(plan_ctx *x, const unit_op *op)
{
    for (size_t i = 0; i < op->nunits; i++) {
        if (need_live(x, op->units[i], false))
            return -1;
        if (tier_of(x, op->units[i]) != tier_of(x, op->units[0]))
            return lt_error_set(x->e, LT_EINVAL, "unit.merge_tiers_differ",
                                "units %s (tier %s) and %s (tier %s) are of different tiers: only "
                                "units of one tier merge",
                                op->units[0], field_str(x, op->units[0], "tier"), op->units[i],
                                field_str(x, op->units[i], "tier"));
    }
    return 0;
}

/* The parent of a new merged unit: --parent, else the units' common parent. */
static int merge_parent(plan_ctx *x, const unit_op *op, char *out)
{
    const char *p = op->parent[0] ? op->parent : field_str(x, op->units[0], "parent");
    for (size_t i = 1; !op->parent[0] && i < op->nunits; i++)
        if (strcmp(p, field_str(x, op->units[i], "parent")))
            return lt_error_set(x->e, LT_EINVAL, "unit.merge_parent_needed",
                                "units %s and %s have different parents (%s, %s): say under which "
                                "unit %s goes with --parent",
                                op->units[0], op->units[i], p, field_str(x, op->units[i], "parent"),
                                op->into);
    if (need_live(x, p, true))
        return -1;
    for (size_t i = 0; i < op->nunits; i++)
        if (planned_within(x, p, op->units[i]))
            return lt_error_set(x->e, LT_EINVAL, "unit.move_into_descendant",
                                "%s cannot go under %s, which is inside unit %s being merged away",
                                op->into, p, op->units[i]);
    if (tier_of(x, p) >= tier_of(x, op->units[0]))
        return lt_error_set(x->e, LT_EINVAL, "unit.tier_order",
                            "%s (tier %s) cannot go under %s (tier %s): a parent's tier must be "
                            "above its child's",
                            op->into, field_str(x, op->units[0], "tier"), p,
                            field_str(x, p, "tier"));
    snprintf(out, NODE_CODE_MAX, "%s", p);
    return 0;
}

/* Creates the merged unit into (a new code) under the units' parent. */
static int merge_create(plan_ctx *x, const unit_op *op)
{
    char parent[NODE_CODE_MAX];
    if (!code_valid(op->into))
        return lt_error_set(x->e, LT_EINVAL, "unit.code_invalid",
                            "\"%s\" is not a unit code: use 1 to 32 letters, digits, '-', '_' "
                            "or '.'",
                            op->into);
    if (!op->name[0])
        return lt_error_set(x->e, LT_EINVAL, "unit.name_required",
                            "%s is a new unit: give its name with --name", op->into);
    if (merge_parent(x, op, parent))
        return -1;
    json_object_set_new(x->fresh, op->into, json_true());
    plan_set(x, op->into, "code", json_string(op->into));
    plan_set(x, op->into, "name", json_string(op->name));
    plan_set(x, op->into, "tier", json_string(field_str(x, op->units[0], "tier")));
    plan_set(x, op->into, "parent", json_string(parent));
    return 0;
}

static int plan_merge(plan_ctx *x, const unit_op *op)
{
    if (!op->nunits || !op->into[0])
        return lt_error_set(x->e, LT_EINVAL, "unit.op_invalid",
                            "a merge needs the units to merge (--units A,B) and the unit they "
                            "become (--into C)");
    if (merge_check_units(x, op))
        return -1;
    if (json_object_get(x->units, op->into)) {
        if (need_live(x, op->into, false))
            return -1;
        if (tier_of(x, op->into) != tier_of(x, op->units[0]))
            return lt_error_set(x->e, LT_EINVAL, "unit.merge_tiers_differ",
                                "units %s (tier %s) and %s (tier %s) are of different tiers: only "
                                "units of one tier merge",
                                op->units[0], field_str(x, op->units[0], "tier"), op->into,
                                field_str(x, op->into, "tier"));
        if (op->parent[0] && strcmp(op->parent, field_str(x, op->into, "parent")))
            return lt_error_set(x->e, LT_EINVAL, "unit.op_invalid",
                                "%s exists under %s: --parent is for a new unit; move it with "
                                "lienthong unit move first",
                                op->into, field_str(x, op->into, "parent"));
        if (op->name[0] && strcmp(op->name, field_str(x, op->into, "name")))
            plan_set(x, op->into, "name", json_string(op->name));
    } else if (merge_create(x, op)) {
        return -1;
    }
    size_t merged = 0;
    for (size_t i = 0; i < op->nunits; i++)
        if (strcmp(op->units[i], op->into)) {
            plan_absorb(x, op->units[i], op->into);
            merged++;
        }
    if (!merged)
        return lt_error_set(x->e, LT_ECONFLICT, "unit.no_change",
                            "merging %s into itself changes nothing", op->into);
    return 0;
}

static int plan_retire_tier(plan_ctx *x, const unit_op *op)
{
    int t = node_tier_index(x->c, op->tier);
    if (t < 0)
        return lt_error_set(x->e, LT_EINVAL, "unit.tier_unknown",
                            "\"%s\" is not one of this network's tiers", op->tier);
    if (t <= node_tier_index(x->c, x->c->tier))
        return lt_error_set(x->e, LT_EINVAL, "unit.root_unit",
                            "tier %s is the root's tier or above it: it cannot be retired",
                            op->tier);
    json_t *codes = json_array(), *rec, *v;
    const char *k;
    json_object_foreach(x->units, k, rec)
    {
        const char *tier = json_string_value(json_object_get(rec, "tier"));
        if (tier && !strcmp(tier, op->tier) && !is_retired(x, k) && field_str(x, k, "parent"))
            json_array_append_new(codes, json_string(k));
    }
    size_t i;
    json_array_foreach(codes, i, v)
    {
        const char *code = json_string_value(v);
        char parent[NODE_CODE_MAX];
        snprintf(parent, sizeof parent, "%s", field_str(x, code, "parent"));
        plan_absorb(x, code, parent);
    }
    size_t n = json_array_size(codes);
    json_decref(codes);
    if (!n)
        return lt_error_set(x->e, LT_ECONFLICT, "unit.no_change",
                            "no live unit has tier %s: nothing to retire", op->tier);
    return 0;
}

static int plan_rename(plan_ctx *x, const unit_op *op)
{
    const char *u = op->units[0];
    if (need_live(x, u, true))
        return -1;
    if (!op->name[0])
        return lt_error_set(x->e, LT_EINVAL, "unit.name_required",
                            "give the new name of unit %s with --name", u);
    const char *old = field_str(x, u, "name");
    if (old && !strcmp(old, op->name))
        return lt_error_set(x->e, LT_ECONFLICT, "unit.no_change",
                            "unit %s is already named \"%s\": nothing to do", u, op->name);
    plan_set(x, u, "name", json_string(op->name));
    return 0;
}

/* ---- the plan ---------------------------------------------------------------------------------
 */

/* The unit_ops record of op. */
static json_t *op_record(const plan_ctx *x, const unit_op *op, const char *by)
{
    json_t *units = json_array();
    for (size_t i = 0; i < op->nunits; i++)
        json_array_append_new(units, json_string(op->units[i]));
    json_t *r = json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", x->id, "op", unit_op_name(op->kind),
                          "units", units, "at", x->at, "by", by ? by : "");
    if (op->into[0])
        json_object_set_new(r, "into", json_string(op->into));
    if (op->parent[0])
        json_object_set_new(r, "parent", json_string(op->parent));
    if (op->tier[0])
        json_object_set_new(r, "tier", json_string(op->tier));
    if (op->name[0])
        json_object_set_new(r, "name", json_string(op->name));
    return r;
}

/* Names the operation: its time and a random suffix. */
static void plan_name(plan_ctx *x, const unit_op *op)
{
    time_t now = (time_t)(hlc_wall_ms() / 1000);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(x->at, sizeof x->at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char stamp[20];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(x->id, sizeof x->id, "%s-%s-%08x", stamp, unit_op_name(op->kind),
             randombytes_random());
}

static json_t *plan_changes(const plan_ctx *x)
{
    json_t *out = json_array(), *v;
    size_t i;
    json_array_foreach(x->order, i, v)
    {
        const char *code = json_string_value(v);
        json_t *rec = json_object_get(x->units, code);
        json_t *place = json_pack(
            "{s:s, s:O?, s:O?, s:O?}", "code", code, "name", json_object_get(rec, "name"), "tier",
            json_object_get(rec, "tier"), "parent", json_object_get(rec, "parent"));
        json_array_append_new(out, json_pack("{s:s, s:b, s:O, s:O, s:o}", "code", code, "new",
                                             json_object_get(x->fresh, code) != NULL, "set",
                                             json_object_get(x->sets, code), "before",
                                             json_object_get(x->before, code), "place", place));
    }
    return out;
}

static int plan_run(plan_ctx *x, const unit_op *op)
{
    switch (op->kind) {
    case UNIT_OP_MOVE: return plan_move(x, op);
    case UNIT_OP_MERGE: return plan_merge(x, op);
    case UNIT_OP_RETIRE_TIER: return plan_retire_tier(x, op);
    case UNIT_OP_RENAME: return plan_rename(x, op);
    }
    return lt_error_set(x->e, LT_EINVAL, "unit.op_invalid", "unknown operation");
}

int unit_ops_plan(store *s, const node_config *c, const unit_op *op, const char *by, unit_plan *p,
                  lt_error *e)
{
    memset(p, 0, sizeof *p);
    if (!c->root)
        return lt_error_set(e, LT_EFORBIDDEN, "unit.not_root",
                            "node %s (unit %s) is not the trust root: tree changes are issued by "
                            "the root (the top tier's node); run this there",
                            c->dir, c->unit);
    if ((op->kind == UNIT_OP_MOVE || op->kind == UNIT_OP_RENAME) && op->nunits != 1)
        return lt_error_set(e, LT_EINVAL, "unit.op_invalid", "%s takes exactly one unit (--unit)",
                            unit_op_name(op->kind));
    if (op->kind == UNIT_OP_MOVE && !op->parent[0])
        return lt_error_set(e, LT_EINVAL, "unit.op_invalid",
                            "a move needs the new parent (--parent CODE)");
    plan_ctx x = {.c = c,
                  .units = json_object(),
                  .sets = json_object(),
                  .before = json_object(),
                  .order = json_array(),
                  .fresh = json_object(),
                  .e = e};
    plan_name(&x, op);
    int rc = store_records(s, "units", load_one, x.units) < 0
                 ? lt_error_set(e, LT_ESTORAGE, NULL,
                                "cannot read the units held here; check the node's log")
                 : plan_run(&x, op);
    if (!rc) {
        p->op = op_record(&x, op, by);
        p->changes = plan_changes(&x);
    }
    json_decref(x.units);
    json_decref(x.sets);
    json_decref(x.before);
    json_decref(x.order);
    json_decref(x.fresh);
    return rc;
}

/* Packs v as an entry body into w (coll/id kept alive by the plan). */
static int pack_write(store_write *w, const char *coll, const char *id, entry_op kind,
                      const json_t *v, const char *const *to, lt_error *e)
{
    uint8_t *body;
    size_t len;
    char err[256];
    if (mpjson_pack_object(v, &body, &len, err, sizeof err))
        return lt_error_set(e, LT_EINVAL, "unit.op_invalid", "cannot encode %s %s: %s", coll, id,
                            err);
    *w = (store_write){coll, id, kind, body, len, to, 1};
    return 0;
}

int unit_ops_commit(store *s, const node_config *c, const unit_plan *p, lt_error *e)
{
    static const char *const everyone[] = {"*"};
    size_t n = json_array_size(p->changes), k = 0;
    store_write *w = calloc(n + 1, sizeof *w);
    if (!w)
        return lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++, k++) {
        json_t *ch = json_array_get(p->changes, i);
        bool fresh = json_is_true(json_object_get(ch, "new"));
        /* a patch also carries the unit's place, so that a node that held no
         * record of it (scoped membership) can apply it */
        json_t *body = json_deep_copy(json_object_get(ch, "place"));
        json_object_update(body, json_object_get(ch, "set"));
        rc = pack_write(&w[k], "units", json_string_value(json_object_get(ch, "code")),
                        fresh ? ENTRY_OP_PUT : ENTRY_OP_PATCH, body, everyone, e);
        json_decref(body);
    }
    json_t *op = json_deep_copy(p->op); /* the id is the record's, not a field */
    json_object_del(op, "id");
    if (!rc)
        rc = pack_write(&w[k++], UNIT_OPS_COLLECTION,
                        json_string_value(json_object_get(p->op, "id")), ENTRY_OP_PUT, op, everyone,
                        e);
    json_decref(op);
    char err[512];
    store_author a = node_author(c);
    int wrc = rc ? 0 : store_write_local(s, &a, w, k, NULL, err, sizeof err);
    if (wrc)
        rc = lt_error_set(e, store_write_errkind(wrc), NULL, "%s", err);
    for (size_t i = 0; i < k; i++)
        free((void *)w[i].body);
    free(w);
    return rc;
}

void unit_plan_free(unit_plan *p)
{
    json_decref(p->op);
    json_decref(p->changes);
    p->op = p->changes = NULL;
}

/* Appends "field old -> new" for each field of one change. */
static void change_text(json_t *ch, FILE *f)
{
    const char *code = json_string_value(json_object_get(ch, "code")), *k;
    json_t *set = json_object_get(ch, "set"), *v;
    fprintf(f, "  %s%s:", code, json_is_true(json_object_get(ch, "new")) ? " (new)" : "");
    json_object_foreach(set, k, v)
    {
        char *now = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        char *was = json_dumps(json_object_get(json_object_get(ch, "before"), k),
                               JSON_ENCODE_ANY | JSON_COMPACT);
        fprintf(f, " %s %s -> %s;", k, was ? was : "null", now ? now : "null");
        free(now);
        free(was);
    }
    fputc('\n', f);
}

char *unit_plan_text(const unit_plan *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    char *op = json_dumps(p->op, JSON_COMPACT);
    fprintf(f, "operation %s\n", op ? op : "?");
    free(op);
    size_t i;
    json_t *ch;
    json_array_foreach(p->changes, i, ch) change_text(ch, f);
    fclose(f);
    return buf;
}

/* Copies a string field of req into out (cap bytes); false when too long. */
static bool req_str(const json_t *req, const char *key, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(req, key));
    if (v && strlen(v) >= cap)
        return false;
    snprintf(out, cap, "%s", v ? v : "");
    return true;
}

/* Splits "A,B" into op->units; false when a code is too long or too many. */
static bool units_split(const char *list, unit_op *op)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n >= NODE_CODE_MAX || op->nunits == UNIT_OP_MAX_UNITS)
            return false;
        if (n)
            snprintf(op->units[op->nunits++], NODE_CODE_MAX, "%.*s", (int)n, p);
        p += n + (p[n] == ',');
    }
    return true;
}

int unit_op_from_json(const json_t *req, unit_op *op, lt_error *e)
{
    memset(op, 0, sizeof *op);
    const char *name = json_string_value(json_object_get(req, "op"));
    int kind = -1;
    for (int k = UNIT_OP_MOVE; name && k <= UNIT_OP_RENAME; k++)
        if (!strcmp(name, unit_op_name(k)))
            kind = k;
    if (kind < 0)
        return lt_error_set(e, LT_EINVAL, "unit.op_invalid",
                            "\"op\" must be one of move, merge, retire-tier, rename");
    op->kind = kind;
    json_t *units = json_object_get(req, "units"), *v;
    const char *one = json_string_value(json_object_get(req, "unit"));
    bool ok = !one || units_split(one, op);
    size_t i;
    if (json_is_string(units))
        ok = ok && units_split(json_string_value(units), op);
    else
        json_array_foreach(units, i, v) ok =
            ok && json_is_string(v) && units_split(json_string_value(v), op);
    ok = ok && req_str(req, "into", op->into, sizeof op->into) &&
         req_str(req, "parent", op->parent, sizeof op->parent) &&
         req_str(req, "tier", op->tier, sizeof op->tier) &&
         req_str(req, "name", op->name, sizeof op->name);
    if (!ok)
        return lt_error_set(e, LT_EINVAL, "unit.op_invalid",
                            "a unit code, tier or name is too long, or more than %d units are "
                            "given",
                            UNIT_OP_MAX_UNITS);
    return 0;
}
