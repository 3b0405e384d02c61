#!/usr/bin/env bash
# Records follow the tree (issue 17) on a real five-node network (national
# VN -> province 40 -> district 412 -> communes 16681, 16684), all running:
#   1. commune 16681 leaves district 412 for province 40 (its "units" record
#      written at the root, as `lienthong unit move` will);
#   2. communes 16681 and 16684 merge into a new unit 16999 under 40.
# After each step, on the live nodes: the province's report total is
# unchanged, every unit's report figures, indicator roll-ups and camera
# counts equal a reference the test computes itself (from the exported
# records, the values it entered and the tree it wrote), the children's
# figures add up to the total (nothing counted twice), the district no
# longer lists or counts the commune that left, reports filed just before
# and just after the move reach the province and count where the commune
# stands now, searches by a merged unit's code and by tracking code find its
# reports, the new unit's past periods aggregate its predecessors' values,
# its out-box holds their documents, and `lienthong verify` passes on every
# node.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
for n in $NODES; do start "$n" || exit 1; done

# rep ID COMMUNE STATUS CREATED_MS: a report line of COMMUNE under district 412.
rep() {
    printf '{"id": "%s", "code": "%s", "title": "Phản ánh %s", "category": "traffic", "status": "%s", "created_ms": %s, "area_unit": "%s", "area_path": ["VN", "40", "412", "%s"], "owner_unit": "%s", "owner_path": ["VN", "40", "412", "%s"], "lat": 18.67, "lon": 105.69, "channel": "web"}\n' \
        "$1" "$1" "$1" "$3" "$4" "$2" "$2" "$2" "$2"
}
# file NODE COMMUNE PREFIX N: N reports of COMMUNE imported at NODE.
file() {
    local i base=1767200400000
    for i in $(seq 1 "$4"); do
        rep "$3-$i" "$2" "$([ $((i % 3)) -eq 0 ] && echo resolved || echo new)" $((base + i * 60000))
    done | "$BIN" import --dir "$T/$1" --collection reports --raw --file - >/dev/null
}
file c1 16681 C1 25
file c2 16684 C2 15
TOTAL=40

# The tree as this test wrote it: parent and successor of each unit.
declare -A PARENT=([VN]="" [40]=VN [412]=40 [16681]=412 [16684]=412) INTO=()
# units JSON...: writes "units" (and "unit_ops") records at the root for everyone.
units() {
    printf '%s\n' "$@" | "$BIN" import --dir "$T/nat" --collection units --to '*' --file - >/dev/null
}
op() { printf '%s\n' "$1" | "$BIN" import --dir "$T/nat" --collection unit_ops --to '*' --file - >/dev/null; }

# under UNIT LEAF: LEAF's records count under UNIT in the tree above: UNIT
# is LEAF itself or on its current path (after its successor, when merged).
under() {
    local u=$2
    [ "$2" = "$1" ] && return 0
    while [ -n "${INTO[$u]:-}" ]; do u=${INTO[$u]}; done
    while [ -n "$u" ]; do
        [ "$u" = "$1" ] && return 0
        u=${PARENT[$u]:-}
    done
    return 1
}
# ref UNIT: the reference count of UNIT's subtree, computed here from the
# province's exported reports and the tree above.
ref() {
    local n=0 leaf
    while read -r leaf; do
        under "$1" "$leaf" && n=$((n + 1))
    done < <("$BIN" export --dir "$T/prov" --collection reports | jq -r .unit)
    echo "$n"
}
# total NODE UNIT: the subtree total the node's statistics give.
total() { api "$1" "reports/stats?unit=$2" | jq -r .total; }
total_is() { [ "$(total "$1" "$2")" = "$3" ]; }
# listed NODE UNIT: the ids the node lists for UNIT (up to 200).
listed() { api "$1" "reports?unit=$2&limit=200" | jq -r '.reports[].id' | sort; }
# children_sum NODE UNIT: the sum of the figures of UNIT's children.
children_sum() { api "$1" "reports/stats?unit=$2&by=child" | jq '[.children[].total] | add // 0'; }
# figures NODE UNIT...: every unit's subtree total equals the reference.
figures() {
    local node=$1 u; shift
    for u in "$@"; do
        check "$node: unit $u counts $(ref "$u") reports" total_is "$node" "$u" "$(ref "$u")"
    done
}
verify_all() {
    local n
    for n in $NODES; do check "verify passes at $n" "$BIN" verify --dir "$T/$n"; done
}

# ---- indicator values and documents at the communes ---------------------------------------
PA=$(mk prov padmin admin 40)
PV=$(mk prov pview viewer 40)
C1S=$(mk c1 lan staff 16681)
C2S=$(mk c2 hoa staff 16684)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
POOR='{"name_vi":"Số hộ nghèo","name_en":"Poor households","measure":"hộ","period":"month",
       "aggregation":"sum","tiers":["commune"],"due_days":10,"lock_days":300}'
check "the province defines POOR" test "$(call PUT prov "$PA" indicators/POOR "$POOR")" = 200
defined_at() { [ "$(call GET "$1" "$2" indicators/POOR)" = 200 ]; }
check "... it reaches commune 16681" wait_until 30 defined_at c1 "$C1S"
check "... and 16684" wait_until 30 defined_at c2 "$C2S"
declare -A VAL=([16681/2026-05]=120 [16684/2026-05]=30 [16681/2026-06]=100 [16684/2026-06]=50)
for k in "${!VAL[@]}"; do
    u=${k%/*} p=${k#*/}
    tok=$C1S node=c1
    [ "$u" = 16684 ] && tok=$C2S node=c2
    check "commune $u enters POOR for $p" \
        test "$(call PUT "$node" "$tok" "indicators/POOR/values/$u/$p" "{\"value\": ${VAL[$k]}}")" = 200
done
# ind_ref UNIT PERIOD: the sum this test expects for UNIT's subtree ("null" when none).
ind_ref() {
    local k sum=0 any=0
    for k in "${!VAL[@]}"; do
        [ "${k#*/}" = "$2" ] && under "$1" "${k%/*}" && sum=$((sum + VAL[$k])) any=1
    done
    [ "$any" = 1 ] && echo "$sum" || echo null
}
# ind_is UNIT PERIOD: the province's roll-up of POOR for UNIT equals ind_ref.
ind_is() {
    [ "$(call GET prov "$PV" "indicators/POOR/values?unit=$1&from=$2&to=$2")" = 200 ] &&
        jq -e --argjson v "$(ind_ref "$1" "$2")" '(.rows[0].value // null) == $v' "$T/body" >/dev/null
}
rollups() {
    local u p
    for u in "$@"; do
        for p in 2026-05 2026-06; do
            check "POOR of $u for $p is $(ind_ref "$u" "$p")" wait_until 30 ind_is "$u" "$p"
        done
    done
}
declare -A DOCS=([16681]=3 [16684]=2)
for u in 16681 16684; do
    tok=$C1S node=c1
    [ "$u" = 16684 ] && tok=$C2S node=c2
    for i in $(seq 1 "${DOCS[$u]}"); do
        check "commune $u issues document $i" test "$(call POST "$node" "$tok" documents \
            "{\"type\":\"CV\",\"subject\":\"Báo cáo $u số $i\",\"recipients\":[\"40\"]}")" = 201
    done
done
# cameras: two at 16681, one at 16684 (registered by each commune's admin)
declare -A CAMS=([16681]=2 [16684]=1)
for u in 16681 16684; do
    node=c1
    [ "$u" = 16684 ] && node=c2
    adm=$(mk "$node" "cam$u" admin "$u")
    for i in $(seq 1 "${CAMS[$u]}"); do
        check "commune $u registers camera $i" test "$(call PUT "$node" "$adm" "cameras/CAM-$u-$i" \
            "{\"name\":\"Ngã tư $i\",\"field\":\"traffic\",\"url\":\"rtsp://127.0.0.1:9/cam$i\"}")" = 200
    done
done
# cam_ref UNIT: the cameras this test expects in UNIT's subtree.
cam_ref() {
    local u n=0
    for u in "${!CAMS[@]}"; do under "$1" "$u" && n=$((n + CAMS[$u])); done
    echo "$n"
}
cam_is() {
    [ "$(call GET prov "$PV" "cameras/stats?unit=$1&by=field")" = 200 ] &&
        jq -e --argjson n "$(cam_ref "$1")" '.total == $n' "$T/body" >/dev/null
}
cameras() {
    local u
    for u in "$@"; do check "cameras of $u: $(cam_ref "$u")" wait_until 30 cam_is "$u"; done
}

# out_total NODE TOKEN: the size of the caller's out-box.
out_total() { [ "$(call GET "$1" "$2" 'documents?box=out&limit=50')" = 200 ] && jq -r .total "$T/body"; }
out_is() { [ "$(out_total "$@")" = "$3" ]; }

check "the province holds every report" wait_until 30 total_is prov 40 "$TOTAL"
check "... the district too" wait_until 30 total_is dist 412 "$TOTAL"
figures prov 40 412 16681 16684
rollups 40 412 16681 16684
cameras 40 412 16681 16684
check "before: the district lists the commune's reports" test "$(listed dist 412 | grep -c '^C1-')" -eq 25

# ---- 1. commune 16681 leaves district 412 for province 40 -------------------------------
file c1 16681 C1P 1 # filed just before the move
TOTAL=41
units '{"id": "16681", "code": "16681", "name": "Phường Bến Thủy", "tier": "commune", "parent": "40", "former_parents": [{"parent": "412", "until": "2026-07-01T00:00:00Z"}]}'
op '{"id": "op-1", "op": "move", "units": ["16681"], "parent": "40", "at": "2026-07-01T00:00:00Z", "by": "VN"}'
PARENT[16681]=40
moved_at_prov() { api prov "reports/stats?unit=412" | jq -e ".total == $(ref 412)" >/dev/null; }
check "move: the province counts district 412 without the commune" wait_until 30 moved_at_prov
moved_at_dist() { [ "$(total dist 412)" = 15 ]; }
check "move: the district no longer counts the commune's 25 reports" wait_until 30 moved_at_dist
check "move: the district no longer lists them" test "$(listed dist 412 | grep -c '^C1')" -eq 0
check "move: ... and still lists its own commune's" test "$(listed dist 412 | grep -c '^C2-')" -eq 15
check "move: the province's total is unchanged" total_is prov 40 "$TOTAL"
figures prov 40 412 16681 16684
rollups 40 412 16681 16684
cameras 40 412 16681 16684
check "move: the children of 40 add up to its total (nothing counted twice)" \
    test "$(children_sum prov 40)" = "$TOTAL"
child_is() { api prov 'reports/stats?unit=40&by=child' | jq -e --arg u "$1" --argjson n "$2" 'any(.children[]; .unit == $u and .total == $n)'; }
check "move: the report filed just before the move reaches the province" wait_until 40 total_is prov 40 "$TOTAL"
check "move: the commune is a child of 40 with its 26 reports" wait_until 10 child_is 16681 26
# a report filed at the commune just after the move reaches the province, counted there
file c1 16681 C1N 1
TOTAL=42
check "move: a report filed after the move reaches the province" wait_until 40 total_is prov 40 "$TOTAL"
check "move: ... counted under the commune at the province" wait_until 10 total_is prov 16681 27
check "move: ... and not under the district" total_is prov 412 15
verify_all

# ---- 2. communes 16681 and 16684 merge into 16999 ----------------------------------------
units '{"id": "16999", "code": "16999", "name": "Phường Vinh Tân", "tier": "commune", "parent": "40", "predecessors": ["16681", "16684"]}' \
    '{"id": "16681", "code": "16681", "name": "Phường Bến Thủy", "tier": "commune", "parent": "40", "merged_into": "16999", "retired": true}' \
    '{"id": "16684", "code": "16684", "name": "Xã Nghi Liên", "tier": "commune", "parent": "412", "merged_into": "16999", "retired": true}'
op '{"id": "op-2", "op": "merge", "units": ["16681", "16684"], "into": "16999", "name": "Phường Vinh Tân", "at": "2026-07-02T00:00:00Z", "by": "VN"}'
PARENT[16999]=40
INTO[16681]=16999
INTO[16684]=16999
merged() { total_is prov 16999 "$TOTAL"; }
check "merge: the new unit counts both communes' reports" wait_until 30 merged
check "merge: the province's total is unchanged" total_is prov 40 "$TOTAL"
figures prov 40 412 16999 16681 16684
rollups 40 412 16999 16681 16684
cameras 40 412 16999 16681 16684
check "merge: the district counts nothing at the province" total_is prov 412 0
check "merge: the children of 40 add up to its total" test "$(children_sum prov 40)" = "$TOTAL"
child_units() { api prov 'reports/stats?unit=40&by=child' | jq -r '[.children[].unit] | sort | join(",")'; }
check "merge: retired units are no child of 40 ($(child_units))" test "$(child_units)" = 16999,412
check "merge: a search by the old code 16681 finds its reports" \
    test "$(listed prov 16681 | grep -c '^C1')" -eq 27
check "merge: ... by 16684 too" test "$(listed prov 16684 | grep -c '^C2-')" -eq 15
check "merge: the new unit lists all of them" test "$(listed prov 16999 | wc -l)" -eq "$TOTAL"
code_found() { api prov "reports/C1-7" | jq -e '.id == "C1-7"'; }
check "merge: GET /api/v1/reports/C1-7 finds the merged commune's report" code_found
check "merge: the merge's definition is kept" has_record nat unit_ops op-2
check "merge: ... and reaches the province" wait_until 30 has_record prov unit_ops op-2
check "merge: the district no longer counts 16684 either" wait_until 30 total_is dist 412 0
N9=$(mk prov nam viewer 16999)
N1=$(mk prov old viewer 16681)
check "merge: the documents of both communes reach the province" \
    wait_until 30 bash -c "[ \$('$BIN' export --dir '$T/prov' --collection documents | wc -l) -ge 5 ]"
check "merge: the new unit's out-box holds its predecessors' documents" wait_until 10 out_is prov "$N9" 5
check "merge: ... and the old unit's still finds its own" out_is prov "$N1" 3
verify_all
finish
