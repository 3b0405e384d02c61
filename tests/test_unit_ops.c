/*
 * test_unit_ops.c - tree changes (node/membership/unit_ops.h) on real
 * stores: bad operations are refused with their code and write nothing;
 * retire-tier and merge write the fields of the contract (parent,
 * former_parents, merged_into, retired, predecessors) and the operation's
 * record; a district applies the root's entries and its tree follows.
 */
#include "node/membership/unit_ops.h"
#include "storage/record.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void sync_pair(fx_node *lower, fx_node *upper)
{
    uint64_t now = hlc_wall_ms();
    repl_session *a = fx_session(lower, true, false, now),
                 *b = fx_session(upper, false, false, now);
    fx_shuttle(a, b, now);
    repl_session_free(a);
    repl_session_free(b);
}

static json_t *unit_of(fx_node *n, const char *code)
{
    uint8_t *rec;
    size_t len;
    char err[128];
    if (store_record_get(n->s, "units", code, &rec, &len))
        return NULL;
    json_t *j = record_to_json(rec, len, code, strlen(code), err, sizeof err);
    free(rec);
    return j;
}

/* Runs op on n and expects the error code; nothing may be written. */
static void refused(fx_node *n, const unit_op *op, const char *code)
{
    uint64_t before = store_arrival_last(n->s);
    unit_plan p;
    lt_error e;
    lt_error_clear(&e);
    int rc = unit_ops_plan(n->s, &n->c, op, "test", &p, &e);
    CHECKF(rc == -1 && e.code && !strcmp(e.code, code), "%s: got %s (%s)", code,
           e.code ? e.code : "none", e.message);
    CHECK(strlen(e.message) > 20);
    CHECK(store_arrival_last(n->s) == before);
}

static int ops_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    (void)id, (void)idlen, (void)rec, (void)len;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t count_ops(fx_node *n)
{
    size_t k = 0;
    store_records(n->s, UNIT_OPS_COLLECTION, ops_one, &k);
    return k;
}

static void apply(fx_node *n, const unit_op *op)
{
    unit_plan p;
    lt_error e;
    lt_error_clear(&e);
    REQUIRE(unit_ops_plan(n->s, &n->c, op, "test", &p, &e) == 0);
    CHECKF(unit_ops_commit(n->s, &n->c, &p, &e) == 0, "%s", e.message);
    unit_plan_free(&p);
}

static unit_op make(unit_op_kind kind, const char *units, const char *into, const char *parent,
                    const char *tier, const char *name)
{
    unit_op op;
    memset(&op, 0, sizeof op);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "op", unit_op_name(kind), "units",
                            units, "into", into, "parent", parent, "tier", tier, "name", name);
    lt_error e;
    REQUIRE(unit_op_from_json(req, &op, &e) == 0);
    json_decref(req);
    return op;
}

/* True when j's field key is the array of strings a (and b, when not NULL). */
static bool list_is(json_t *j, const char *key, const char *a, const char *b)
{
    json_t *want = b ? json_pack("[s,s]", a, b) : json_pack("[s]", a);
    bool same = json_equal(json_object_get(j, key), want);
    json_decref(want);
    return same;
}

static bool str_is(json_t *j, const char *key, const char *v)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s && !strcmp(s, v);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    fx_node p, d, c1, c2;
    fx_tree4(base, &p, &d, &c1, &c2);
    sync_pair(&d, &p); /* the root learns the communes the district enrolled */
    json_t *u = unit_of(&p, "16681");
    REQUIRE(u && str_is(u, "parent", "412"));
    json_decref(u);

    /* bad input: refused with its code, nothing written */
    refused(&d, &(unit_op){UNIT_OP_RENAME, {"16681"}, 1, .name = "x"}, "unit.not_root");
    refused(&p, &(unit_op){UNIT_OP_MOVE, {"412"}, 1, .parent = "16681"},
            "unit.move_into_descendant");
    refused(&p, &(unit_op){UNIT_OP_MOVE, {"412"}, 1, .parent = "412"}, "unit.move_into_descendant");
    refused(&p, &(unit_op){UNIT_OP_MOVE, {"16681"}, 1, .parent = "16684"}, "unit.tier_order");
    refused(&p, &(unit_op){UNIT_OP_MOVE, {"99999"}, 1, .parent = "40"}, "unit.not_found");
    refused(&p, &(unit_op){UNIT_OP_MOVE, {"16681"}, 1, .parent = "412"}, "unit.no_change");
    unit_op mixed = make(UNIT_OP_MERGE, "412,16681", "X1", "", "", "X");
    refused(&p, &mixed, "unit.merge_tiers_differ");
    unit_op unnamed = make(UNIT_OP_MERGE, "16681,16684", "16690", "", "", "");
    refused(&p, &unnamed, "unit.name_required");
    unit_op badcode = make(UNIT_OP_MERGE, "16681,16684", "16 690", "", "", "X");
    refused(&p, &badcode, "unit.code_invalid");
    refused(&p, &(unit_op){UNIT_OP_RETIRE_TIER, .tier = "ward"}, "unit.tier_unknown");
    unit_op top = {.kind = UNIT_OP_RETIRE_TIER};
    snprintf(top.tier, sizeof top.tier, "%s", p.c.tier);
    refused(&p, &top, "unit.root_unit");
    CHECK(count_ops(&p) == 0);

    /* retire the district tier: communes under the province, the district
     * merged into it */
    apply(&p, &(unit_op){UNIT_OP_RETIRE_TIER, .tier = "district"});
    u = unit_of(&p, "16681");
    CHECK(u && str_is(u, "parent", "40") && str_is(u, "name", c1.c.name));
    json_t *fp = json_array_get(json_object_get(u, UNIT_F_FORMER_PARENTS), 0);
    CHECK(str_is(fp, "parent", "412") && json_string_length(json_object_get(fp, "until")) == 20);
    json_decref(u);
    u = unit_of(&p, "412");
    CHECK(u && str_is(u, UNIT_F_MERGED_INTO, "40") &&
          json_is_true(json_object_get(u, UNIT_F_RETIRED)) && str_is(u, "parent", "40"));
    json_decref(u);
    u = unit_of(&p, "40");
    CHECK(u && list_is(u, UNIT_F_PREDECESSORS, "412", NULL));
    json_decref(u);
    CHECK(count_ops(&p) == 1);
    refused(&p, &(unit_op){UNIT_OP_RETIRE_TIER, .tier = "district"}, "unit.no_change");
    refused(&p, &(unit_op){UNIT_OP_MOVE, {"412"}, 1, .parent = "40"}, "unit.retired");

    /* merge the two communes into a new one */
    unit_op merge = make(UNIT_OP_MERGE, "16681,16684", "16690", "", "", "Phường Vinh Mới");
    apply(&p, &merge);
    u = unit_of(&p, "16690");
    CHECK(u && str_is(u, "parent", "40") && str_is(u, "tier", "commune") &&
          str_is(u, "name", "Phường Vinh Mới") &&
          list_is(u, UNIT_F_PREDECESSORS, "16681", "16684"));
    json_decref(u);
    u = unit_of(&p, "16684");
    CHECK(u && str_is(u, UNIT_F_MERGED_INTO, "16690") &&
          json_is_true(json_object_get(u, UNIT_F_RETIRED)));
    json_decref(u);
    CHECK(count_ops(&p) == 2);

    /* the district applies the root's entries: its tree has the communes
     * under the province */
    char err[256];
    sync_pair(&d, &p);
    REQUIRE(repl_node_reload(&d.rn, err, sizeof err) == 0);
    char parent[NODE_CODE_MAX] = "";
    CHECK(unit_tree_parent(d.rn.tree, "16681", parent, sizeof parent) && !strcmp(parent, "40"));
    CHECK(fx_has(&d, "units", "16690"));
    CHECK(count_ops(&d) == 2);

    fx_node_free(&c2);
    fx_node_free(&c1);
    fx_node_free(&d);
    fx_node_free(&p);
    return check_done();
}
