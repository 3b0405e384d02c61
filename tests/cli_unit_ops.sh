#!/usr/bin/env bash
# The 2025 reform on a live four-tier network (national VN -> province 40 ->
# district 412 -> communes 16681, 16684), every node started with
# `serve --advertise`: tree changes issued with `lienthong unit ... --yes`
# on the root while the nodes run.
#  - a units record imported without --to reaches the communes;
#  - bad input (a move under the unit's own descendant, a merge of units of
#    different tiers, an operation run on or signed by a non-root node) is
#    refused with a clear error and changes nothing;
#  - `unit retire-tier --tier district`: the communes move under the
#    province and dial its advertised address by themselves (no restart),
#    a report filed just before reaches the province, the district's node
#    reports itself retired once it sent what it held;
#  - `unit merge --units 16681,16684 --into 16690`: a new unit under the
#    province, the two communes retired into it, their node still sends
#    what they file up;
#  - `lienthong verify` passes on every node after each step.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

units_of() { "$BIN" export --dir "$T/$1" --collection units 2>/dev/null; }
# unit_is NODE CODE JQ [JQ-ARGS]: NODE's record of unit CODE satisfies JQ.
unit_is() {
    local n=$1 c=$2 q=$3; shift 3
    units_of "$n" | jq -e -s --arg c "$c" "$@" "map(select(.id == \$c))[0] | $q" >/dev/null
}
all_verify() {
    for n in $NODES; do "$BIN" verify --dir "$T/$n" >/dev/null 2>&1 || return 1; done
}
# refused WHAT EXIT PATTERN CMD...: CMD exits with EXIT and says PATTERN.
refused() {
    local exp=$2 pat=$3; shift 3
    "$@" >"$T/out" 2>"$T/err"
    local code=$?
    [ "$code" -eq "$exp" ] && grep -q -- "$pat" "$T/err" || { cat "$T/err" >&2; return 1; }
}
up_url_open() { # NODE URL: NODE's upstream record for URL is open
    api "$1" sync | jq -e --arg u "$2" 'any(.links[]; .url == $u and .connected and .peer_unit != null)' >/dev/null
}
dist_linked() { link_open dist 16681 && link_open dist 16684 && link_open dist 40; }
first_upstreams() { # NODE URL1 URL2: NODE's first two upstream records
    api "$1" sync | jq -e --arg a "$2" --arg b "$3" '[.links[] | select(.url != null) | .url][0:2] == [$a, $b]' >/dev/null
}
all_hold_op() { # OP: every node holds a unit_ops record of OP
    for n in $NODES; do
        "$BIN" export --dir "$T/$n" --collection unit_ops | jq -e --arg o "$1" 'select(.op == $o)' >/dev/null || return 1
    done
}
retired_drained() { api "$1" sync | jq -e --arg c "$2" '.retired.merged_into == $c and .retired.drained' >/dev/null; }

make_tree
for n in $NODES; do SERVE_ARGS="--advertise $(url "$n")" start "$n" || exit 1; done
check "district linked to its communes and the province" wait_until 20 dist_linked
check "the root knows both communes" wait_until 20 unit_is nat 16684 '.parent == "412"'
check "the province's advertised address reaches the communes" \
    wait_until 20 unit_is c1 40 '.advertise == [$u]' --arg u "$(url prov)"

# a units record imported without --to goes where enrolment sends units records (the
# province's subtree), not only up (issue 17: it reached the province but not the communes)
echo '{"id": "16699", "code": "16699", "name": "Xã Nghi Kim", "tier": "commune", "parent": "412"}' |
    "$BIN" import --dir "$T/prov" --collection units --file - >/dev/null
check "a units record imported at the province without --to reaches the communes" \
    wait_until 20 unit_is c2 16699 '.parent == "412"'
check "...and the root" wait_until 20 unit_is nat 16699 '.parent == "412"'

# ---- bad input: refused, nothing changed --------------------------------------
before=$(digest nat units)
check "a move under the unit's own descendant is refused" \
    refused move 2 "inside its subtree" "$BIN" unit move --dir "$T/nat" --unit 412 --parent 16681 --yes
check "a merge of units of different tiers is refused" \
    refused merge 2 "different tiers" "$BIN" unit merge --dir "$T/nat" --units 412,16681 --into X1 --name X --yes
check "an operation run on a non-root node is refused" \
    refused notroot 1 "is not the trust root" "$BIN" unit retire-tier --dir "$T/prov" --tier district --yes
echo '{"id": "forged-op", "op": "move", "units": ["16681"], "parent": "40"}' >"$T/forged.jsonl"
check "an operation signed by a non-root node (the district) is refused by the rules" \
    refused forged 1 "may not write unit_ops" "$BIN" import --dir "$T/dist" --collection unit_ops --file "$T/forged.jsonl" --to '*'
NAT_ADMIN=$(mk nat natadmin admin VN)
PROV_ADMIN=$(mk prov provadmin admin 40)
AUTH=(-H "Authorization: Bearer $NAT_ADMIN")
check "API: a move under a descendant is refused (400 unit.move_into_descendant)" test "$(post_json nat api/v1/units \
    '{"op": "move", "unit": "412", "parent": "16684", "yes": true}' "${AUTH[@]}")" = 400
check "...with its stable code" jqb '.error.code == "unit.move_into_descendant"'
check "API: units of different tiers do not merge (400 unit.merge_tiers_differ)" test "$(post_json nat api/v1/units \
    '{"op": "merge", "units": ["16681", "412"], "into": "Z", "name": "Z", "yes": true}' "${AUTH[@]}")" = 400
check "...with its stable code" jqb '.error.code == "unit.merge_tiers_differ"'
check "API: a non-root node refuses operations (403 unit.not_root)" test "$(post_json prov api/v1/units \
    '{"op": "retire-tier", "tier": "district", "yes": true}' -H "Authorization: Bearer $PROV_ADMIN")" = 403
check "...with its stable code" jqb '.error.code == "unit.not_root"'
check "API: a viewer may not issue operations" test "$(post_json nat api/v1/units \
    '{"op": "retire-tier", "tier": "district"}' -H "Authorization: Bearer $(mk nat natviewer viewer VN)")" = 403
check "API: without yes the plan is shown, not applied" test "$(post_json nat api/v1/units \
    '{"op": "retire-tier", "tier": "district"}' "${AUTH[@]}")" = 200
check "...listing the communes' new parent" jqb '(.applied | not) and any(.changes[]; .code == "16681" and .set.parent == "40" and .before.parent == "412")'
check "without --yes nothing is written" bash -c \
    "'$BIN' unit retire-tier --dir '$T/nat' --tier district | grep -q 'nothing written'"
check "the root's units are unchanged" test "$(digest nat units)" = "$before"
check "no operation recorded" test "$(count nat unit_ops)" -eq 0
check "no operation at the district either" test "$(count dist unit_ops)" -eq 0

# ---- abolish the district tier while the nodes run -----------------------------
reports "$T/r1.jsonl" R1 10
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/r1.jsonl" >/dev/null
t0=$(now)
check "retire-tier district is applied" bash -c \
    "'$BIN' unit retire-tier --dir '$T/nat' --tier district --yes >'$T/retire.out'"
check "...and says what it changes" grep -q "16681:.*parent \"412\" -> \"40\"" "$T/retire.out"
check "commune 16681 dials the province by itself" wait_until 30 up_url_open c1 "$(url prov)"
check "commune 16684 too" wait_until 30 up_url_open c2 "$(url prov)"
echo "communes linked to the province $(since "$t0") s after retire-tier"
check "the commune's first upstream is now the province, the district kept as fallback" first_upstreams c1 "$(url prov)" "$(url dist)"
check "the commune logged that it follows its new parent" grep -q "repl.parent_follow unit=16681 parent=40" "$(log_of c1)"
check "the reports filed just before reach the province" wait_until 30 has_count prov reports 10
check "the district's record says retired, merged into the province" \
    wait_until 20 unit_is c2 412 '.retired == true and .merged_into == "40"'
check "the province lists the district as a predecessor" unit_is prov 40 '.predecessors == ["412"]'
check "the move is kept in former_parents" unit_is prov 16681 '.former_parents[0].parent == "412"'
check "every node holds the operation's definition" wait_until 20 all_hold_op retire-tier
check "the district's node reports itself retired, everything sent" wait_until 30 retired_drained dist 40
reports "$T/r2.jsonl" R2 5
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/r2.jsonl" >/dev/null
check "the commune keeps working without a restart: new reports reach the province" \
    wait_until 30 has_count prov reports 15
check "...and the national node" wait_until 30 has_count nat reports 15
check "every node verifies" all_verify

# ---- merge the two communes into a new one ------------------------------------------
mk c1 c1staff staff 16681 >/dev/null
reports "$T/r3.jsonl" R3 4
"$BIN" import --dir "$T/c2" --collection reports --raw --file "$T/r3.jsonl" >/dev/null
check "merge 16681,16684 into 16690 is applied" bash -c \
    "'$BIN' unit merge --dir '$T/nat' --units 16681,16684 --into 16690 --name 'Phường Vinh Mới' --yes >'$T/merge.out'"
check "the new unit is placed under the province" wait_until 20 unit_is prov 16690 \
    '.parent == "40" and .tier == "commune" and .name == "Phường Vinh Mới" and .predecessors == ["16681", "16684"]'
check "the communes learn they were merged" wait_until 20 unit_is c1 16681 '.retired == true and .merged_into == "16690"'
check "the report filed just before the merge reaches the province" wait_until 30 has_count prov reports 19
check "commune 16681's node reports itself retired into 16690" wait_until 30 retired_drained c1 16690
check "commune 16684's node too" wait_until 30 retired_drained c2 16690
check "a merged commune cannot be merged again" \
    refused again 1 "was retired" "$BIN" unit merge --dir "$T/nat" --units 16681 --into 16690 --yes
api prov health >/dev/null # an account repl-viewer at the province too: that name is taken there
check "move-staff without --yes moves nothing" bash -c \
    "'$BIN' unit move-staff --dir '$T/c1' --to-dir '$T/prov' | grep -q 'c1staff (staff): unit 16681 -> 16690'"
check "...the account is still at the commune" bash -c "'$BIN' user list --dir '$T/c1' --json | grep -q c1staff"
check "move-staff to a node that does not serve the new unit is refused" \
    refused staff 2 "does not serve" "$BIN" unit move-staff --dir "$T/c1" --to-dir "$T/c2" --yes
check "move-staff --yes moves the commune's staff to the province's node" bash -c \
    "'$BIN' unit move-staff --dir '$T/c1' --to-dir '$T/prov' --yes | grep -q 'repl-viewer.*name is taken'"
check "...with the new unit" bash -c "'$BIN' user list --dir '$T/prov' --json | jq -e -s 'map(select(.user == \"c1staff\"))[0].unit == \"16690\"'"
check "...and gone from the commune" bash -c "! '$BIN' user list --dir '$T/c1' --json | grep -q c1staff"
check "the moved account works at the province" bash -c \
    "curl -sf -H \"Authorization: Bearer \$('$BIN' token --dir '$T/prov' --user c1staff)\" http://127.0.0.1:${PORT[prov]}/api/v1/me | jq -e '.unit == \"16690\"'"
reports "$T/r4.jsonl" R4 3
"$BIN" import --dir "$T/c2" --collection reports --raw --file "$T/r4.jsonl" >/dev/null
check "its node still sends what it files up" wait_until 30 has_count prov reports 22
check "every node verifies after the merge" all_verify
check "no equivocation at the province" bash -c "'$BIN' status --dir '$T/prov' --json | jq -e '.equivocations | length == 0'"

# ---- rename through the API, the operations listed --------------------------------
check "API: rename the province, applied" test "$(post_json nat api/v1/units \
    '{"op": "rename", "unit": "40", "name": "Tỉnh Nghệ An (mới)", "yes": true}' "${AUTH[@]}")" = 200
check "...applied" jqb '.applied and .op.op == "rename"'
check "the new name reaches the province" wait_until 20 unit_is prov 40 '.name == "Tỉnh Nghệ An (mới)"'
check "GET /api/v1/units/ops lists the three operations in order" bash -c \
    "curl -sf -H 'Authorization: Bearer $NAT_ADMIN' http://127.0.0.1:${PORT[nat]}/api/v1/units/ops | jq -e '[.ops[].op] == [\"retire-tier\", \"merge\", \"rename\"] and .ops[1].into == \"16690\" and (.ops[2].by | startswith(\"natadmin@\"))'"

for n in $NODES; do check "node $n stops cleanly" stop "$n"; done
finish
