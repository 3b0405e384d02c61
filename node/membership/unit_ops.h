/*
 * unit_ops.h - changes of the administrative tree issued by the trust root:
 * move a unit under a new parent, merge units into one, retire a tier,
 * rename a unit (docs/protocol.md, "Tree changes").
 *
 * An operation is planned against the "units" records held here (nothing
 * written), shown to the operator, then committed as signed entries of the
 * root: a patch of each "units" record it changes (a put for a new unit),
 * holding the unit's code, name, tier and parent besides what changes, so a
 * node that held no record of the unit (scoped membership) places it,
 * addressed to "*", and the operation's definition in collection
 * "unit_ops" (id = the op id), in one transaction. Every node applies
 * these entries like any other, so every node ends with the same tree.
 *
 * Fields of a "units" record besides code, name, tier, parent:
 *   merged_into     the unit C this unit was merged into (C's record exists)
 *   retired         true: the unit no longer exists as a live unit
 *   predecessors    on C: the units merged into it (X.merged_into == C
 *                   exactly when X is in C.predecessors)
 *   advertise       where the unit's nodes can be reached (serve --advertise)
 *   former_parents  [{"parent", "until": ISO 8601 UTC time, "op": op id}],
 *                   oldest first: the parents a unit had before each move
 */
#ifndef LT_UNIT_OPS_H
#define LT_UNIT_OPS_H

#include "lib/error.h"
#include "node/env/config.h"

#include <jansson.h>

#define UNIT_OPS_COLLECTION "unit_ops"
#define UNIT_F_MERGED_INTO "merged_into"
#define UNIT_F_RETIRED "retired"
#define UNIT_F_PREDECESSORS "predecessors"
#define UNIT_F_ADVERTISE "advertise"
#define UNIT_F_FORMER_PARENTS "former_parents"

#define UNIT_OP_MAX_UNITS 64

typedef enum { UNIT_OP_MOVE, UNIT_OP_MERGE, UNIT_OP_RETIRE_TIER, UNIT_OP_RENAME } unit_op_kind;

/* An operation as asked: move units[0] under parent; merge units into
 * `into` (named name; a new unit goes under parent, default the units'
 * common parent); retire every unit of tier; rename units[0] to name. */
typedef struct {
    unit_op_kind kind;
    char units[UNIT_OP_MAX_UNITS][NODE_CODE_MAX];
    size_t nunits;
    char into[NODE_CODE_MAX], parent[NODE_CODE_MAX], tier[NODE_CODE_MAX];
    char name[NODE_NAME_MAX];
} unit_op;

/* What an operation will write: "op" (the unit_ops record) and "changes",
 * [{"code", "new": bool, "set": {field: value}, "before": {field: value
 * or null}, "place": {code, name, tier, parent} as planned}] in the order
 * written. A unit's patch holds its place and what is set. */
typedef struct {
    json_t *op;
    json_t *changes;
} unit_plan;

/* The op name ("move", "merge", "retire-tier", "rename") of kind. */
const char *unit_op_name(unit_op_kind kind);

/* Fills op from a JSON request {"op", "unit", "units": [..] or "A,B",
 * "parent", "into", "name", "tier"}. Returns 0, or -1 with e
 * (unit.op_invalid). */
int unit_op_from_json(const json_t *req, unit_op *op, lt_error *e);

/* Plans op on the units held in s by node c (which must be the trust
 * root), `by` naming who asks. Writes nothing. Returns 0 with *p filled
 * (free with unit_plan_free), or -1 with e: unit.not_root,
 * unit.not_found, unit.retired, unit.root_unit, unit.move_into_descendant,
 * unit.tier_order, unit.merge_tiers_differ, unit.merge_parent_needed,
 * unit.name_required, unit.code_invalid, unit.tier_unknown,
 * unit.no_change. */
int unit_ops_plan(store *s, const node_config *c, const unit_op *op, const char *by, unit_plan *p,
                  lt_error *e);

/* Writes the plan as signed entries of c in one transaction (see above).
 * Returns 0, or -1 with e. */
int unit_ops_commit(store *s, const node_config *c, const unit_plan *p, lt_error *e);

/* Frees what the plan holds. */
void unit_plan_free(unit_plan *p);

/* One line per change of the plan, readable ("16684: parent 412 -> 40"),
 * into a malloc'd string. */
char *unit_plan_text(const unit_plan *p);

#endif
