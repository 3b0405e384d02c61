#!/usr/bin/env bash
# The documents of merged communes follow them into their successor (issue
# 17) on a real five-node network: national VN -> province 40 -> district
# 412 -> communes 16681 and 16684, all running. Before the merge the
# province sends documents to 16681 and 16684 and assigns 16681 a task;
# `lienthong unit merge` then merges both communes into a new 16999 under
# 40, served by the province's node. Checked there: 16999's in-box lists
# every document addressed to its predecessors (as many as the test sent,
# each with "recipient_unit" and "via_merge"), its task list holds the
# task; its officer marks a document received and posts progress, written
# for 16681 "by_unit" 16999, and the sender sees both. A district cut off
# from the network (its tree does not know the merge) sends a document to
# 16681: once it links up again, the document is in 16999's in-box, and the
# receipt 16999's officer writes reaches the district. `lienthong verify`
# passes on every node. (Routing to a successor's own node:
# tests/cli_merge_route.sh.)
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
for n in $NODES; do start "$n" || exit 1; done

call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
PS=$(mk prov pstaff staff 40)
PL=$(mk prov plead leader 40)
C1S=$(mk c1 lan staff 16681)

# ---- before the merge: the province sends documents and assigns a task ----------------
declare -a SENT=() # the ids this test sent to 16681 or 16684: the reference
send() {           # send NODE TOKEN RECIPIENTS_JSON SUBJECT: one document; its id into SENT
    [ "$(call POST "$1" "$2" documents \
        "{\"type\":\"CV\",\"subject\":\"$4\",\"recipients\":$3}")" = 201 ] &&
        SENT+=("$(jq -r .id "$T/body")")
}
check "the province sends document 1 to 16681" send prov "$PS" '["16681"]' "Kế hoạch 1"
check "... document 2 to 16681" send prov "$PS" '["16681"]' "Kế hoạch 2"
check "... document 3 to 16684" send prov "$PS" '["16684"]' "Kế hoạch 3"
check "... document 4 to both" send prov "$PS" '["16681","16684"]' "Kế hoạch 4"
D1=${SENT[0]}
check "the province assigns 16681 a task" test "$(call POST prov "$PL" tasks \
    '{"title":"Rà soát hộ nghèo","detail":"Báo cáo số hộ","due":"2030-12-31","assignees":["16681"]}')" = 201
TASK=$(jq -r .id "$T/body")
# recipient_status NODE TOKEN DOC UNIT: the status the node shows for UNIT's receipt of DOC.
recipient_status() {
    [ "$(call GET "$1" "$2" "documents/$3")" = 200 ] &&
        jq -r --arg u "$4" '.recipients[] | select(.unit == $u) | .status' "$T/body"
}
delivered() { [ "$(recipient_status prov "$PS" "$D1" 16681)" = delivered ]; }
check "16681's node delivers document 1 (its receipt reaches the province)" wait_until 30 delivered
inbox_total() { [ "$(call GET "$1" "$2" 'documents?box=in&limit=50')" = 200 ] && jq -r .total "$T/body"; }
check "before the merge, 16681 has 3 documents in its in-box" test "$(inbox_total c1 "$C1S")" = 3

# ---- the merge, while the district is down (it will not know the merge) -----------------
stop dist
check "merge 16681,16684 into 16999 is applied" bash -c \
    "'$BIN' unit merge --dir '$T/nat' --units 16681,16684 --into 16999 --name 'Phường Vinh Tân' --yes >'$T/merge.out'"
check "the province learns of 16999" wait_until 30 has_record prov units 16999
N9=$(mk prov nam staff 16999)
REF=${#SENT[@]}
inbox_is() { [ "$(inbox_total prov "$N9")" = "$1" ]; }
check "16999's in-box holds the $REF documents sent to its predecessors" wait_until 40 inbox_is "$REF"
check "... each one the test sent" bash -c "[ \"\$(jq -r '.documents[].id' '$T/body' | sort)\" = \
    \"\$(printf '%s\n' ${SENT[*]} | sort)\" ]"
check "... each with the predecessor it was addressed to and via_merge" jq -e \
    'all(.documents[]; (.recipient_unit == "16681" or .recipient_unit == "16684") and .via_merge == true)' \
    "$T/body"
tasks_of() { [ "$(call GET prov "$N9" 'tasks?assignee=16999')" = 200 ] && jq -r '.tasks[].id' "$T/body"; }
task_listed() { [ "$(tasks_of)" = "$TASK" ]; }
check "16999's task list holds the task assigned to 16681" wait_until 30 task_listed

# ---- 16999's officer acts for 16681 -------------------------------------------------------
check "16999's officer marks document 1 received" test "$(call POST prov "$N9" "documents/$D1/receipts" \
    '{"status":"received","note":"Đã nhận"}')" = 200
received() {
    [ "$(recipient_status prov "$PS" "$D1" 16681)" = received ] &&
        jq -e '.recipients[] | select(.unit == "16681") | .by_unit == "16999" and .by == "nam"' \
            "$T/body" >/dev/null
}
check "the receipt reaches the province, written for 16681 by 16999" wait_until 30 received
check "16999's in-box shows document 1 received" bash -c \
    "[ \"\$(curl -s -H 'Authorization: Bearer $N9' 'http://127.0.0.1:${PORT[prov]}/api/v1/documents?box=in&status=received' | jq -r '.documents[].id')\" = '$D1' ]"
check "16999's officer posts progress on the task" test "$(call POST prov "$N9" "tasks/$TASK/progress" \
    '{"percent":50,"note":"Đang rà soát"}')" = 200
progressed() {
    [ "$(call GET prov "$PS" "tasks/$TASK")" = 200 ] &&
        jq -e '.progress[] | select(.unit == "16681") | .percent == 50 and .by_unit == "16999"' \
            "$T/body" >/dev/null
}
check "the progress reaches the province, written for 16681 by 16999" wait_until 30 progressed
# a unit that is neither a recipient nor the successor of one is refused
check "the province may not mark its own document received (document.not_recipient)" bash -c \
    "[ \"\$(curl -s -o '$T/no' -w '%{http_code}' -X POST -H 'Authorization: Bearer $PS' \
        -H 'Content-Type: application/json' --data '{\"status\":\"received\"}' \
        'http://127.0.0.1:${PORT[prov]}/api/v1/documents/$D1/receipts')\" = 403 ] && \
        jq -e '.error.code == \"document.not_recipient\"' '$T/no'"

# ---- a sender whose tree does not know the merge ------------------------------------------
SERVE_ARGS="--upstream ws://127.0.0.1:9/" start dist || exit 1 # cut off: it cannot learn the merge
DS=$(mk dist dstaff staff 412)
not_merged() { "$BIN" export --dir "$T/dist" --collection units | jq -s -e 'any(.[]; .id == "16681" and .merged_into == null)'; }
check "the cut-off district does not know the merge" not_merged
check "the district sends a document to 16681" send dist "$DS" '["16681"]' "Công văn sau sáp nhập"
LATE=${SENT[-1]}
check "... still not knowing the merge" not_merged
stop dist
SERVE_ARGS="--upstream $(url prov) --upstream $(url nat)" start dist || exit 1 # linked again
REF=${#SENT[@]}
check "the late document reaches 16999's in-box ($REF in all)" wait_until 60 inbox_is "$REF"
check "... it is the district's document" bash -c "jq -r '.documents[].id' '$T/body' | grep -qxF '$LATE'"
check "16999's officer marks it received" test "$(call POST prov "$N9" "documents/$LATE/receipts" \
    '{"status":"received"}')" = 200
late_received() {
    [ "$(recipient_status dist "$DS" "$LATE" 16681)" = received ] &&
        jq -e '.recipients[] | select(.unit == "16681") | .by_unit == "16999"' "$T/body" >/dev/null
}
check "the district sees the receipt, written for 16681 by 16999" wait_until 30 late_received

for n in $NODES; do check "verify passes at $n" "$BIN" verify --dir "$T/$n"; done
finish
