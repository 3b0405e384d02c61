#!/usr/bin/env bash
# Live replication over WebSockets with five real `lienthong serve`
# processes on 127.0.0.1: national -> province -> district -> 2 communes.
# Reports imported at the communes reach the district, the province and the
# national node within seconds (relayed as they arrive); a document addressed
# to one commune reaches it and not its neighbour; GET /api/v1/sync and
# `lienthong status` show the links open with nothing left to send; a node
# with open links in both directions stops cleanly (valgrind-clean).
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

dist_linked() { link_open dist 16681 && link_open dist 16684 && link_open dist 40; }
both_have() { has_record c1 "$1" "$2" && has_record c2 "$1" "$2"; }
status_sync_open() {
    "$BIN" status --dir "$T/c1" --json | jq -e '.sync.running and .sync.age_ms >= 0 and .sync.links[0].state == "open"'
}

make_tree
for n in $NODES; do start "$n" || exit 1; done

# ---- the links come up ---------------------------------------------------------
check "district sees its two communes and the province" wait_until 15 dist_linked
check "province linked to the national node" wait_until 15 link_open prov VN
check "national sees the province" wait_until 15 link_open nat 40
api c1 sync >"$T/c1-sync.json"
check "commune: first upstream is the district, open" \
    jq -e --arg u "$(url dist)" '.links[0] | .url == $u and .direction == "up" and .peer_unit == "412" and .state == "open" and .connected' "$T/c1-sync.json"
check "commune: the province fallback is idle" \
    jq -e --arg u "$(url prov)" '.links[1] | .url == $u and .state == "idle" and (.connected | not) and .mode == null and .waiting_for_tree == false and .waiting_reason == null' "$T/c1-sync.json"
check "commune: sync names the node" jq -e --arg k "$(node_key c1)" '.node == $k and .unit == "16681" and .replicating' "$T/c1-sync.json"
api dist sync >"$T/dist-sync.json"
check "district: accepted links are down links with a remote address" \
    jq -e '[.links[] | select(.url == null)] | length == 2 and all(.[]; .direction == "down" and (.remote | length > 0))' "$T/dist-sync.json"

# ---- reports from the communes travel up ------------------------------------------
reports "$T/c1.jsonl" C1 30
reports "$T/c2.jsonl" C2 20
t0=$(now)
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/c1.jsonl" >/dev/null
"$BIN" import --dir "$T/c2" --collection reports --raw --file "$T/c2.jsonl" >/dev/null
check "50 reports reach the district" wait_until 20 has_count dist reports 50
check "... the province" wait_until 20 has_count prov reports 50
check "... and the national node" wait_until 20 has_count nat reports 50
echo "reports imported at two communes reached the national node in $(since "$t0") s"
# barrier: each commune then writes a notice for everyone; once each holds the other's notice,
# written after its reports, the other's reports would be there too if they travelled sideways
echo '{"id": "N-16681", "title": "Thông báo"}' | "$BIN" import --dir "$T/c1" --collection notices --file - --to '*' >/dev/null
echo '{"id": "N-16684", "title": "Thông báo"}' | "$BIN" import --dir "$T/c2" --collection notices --file - --to '*' >/dev/null
check "a later notice of commune 16684 reaches 16681" wait_until 20 has_record c1 notices N-16684
check "a later notice of commune 16681 reaches 16684" wait_until 20 has_record c2 notices N-16681
check "the communes do not receive each other's reports" test "$(count c1 reports)" -eq 30 -a "$(count c2 reports)" -eq 20
check "reports digest: district = province" test "$(digest dist reports)" = "$(digest prov reports)"
check "reports digest: province = national" test "$(digest prov reports)" = "$(digest nat reports)"

# ---- documents travel down, by addressee ------------------------------------------------
echo '{"id": "56/KH-UBND", "title": "Kế hoạch cho phường Bến Thủy"}' >"$T/d1.jsonl"
echo '{"id": "129/QĐ-UBND", "title": "Quyết định chung"}' >"$T/d2.jsonl"
t0=$(now)
"$BIN" import --dir "$T/prov" --collection documents --file "$T/d1.jsonl" --to 16681 >/dev/null
"$BIN" import --dir "$T/prov" --collection documents --file "$T/d2.jsonl" --to '*' >/dev/null
check "the addressed document reaches its commune" wait_until 20 has_record c1 documents 56/KH-UBND
check "the document for everyone reaches both communes" wait_until 20 both_have documents 129/QĐ-UBND
echo "documents imported at the province reached the communes in $(since "$t0") s"
n=$(count c2 documents)
check "the neighbour did not get the other commune's document ($n documents)" test "$n" -eq 1
check "the national node holds both (they travel up too)" wait_until 10 has_count nat documents 2

# ---- the sync status after convergence -----------------------------------------------------
for n in $NODES; do
    check "$n: every link open, nothing left to send" wait_until 15 converged "$n"
done
api prov sync >"$T/prov-sync.json"
check "province: exact counts, peers identified" \
    jq -e '.links | length == 2 and all(.[]; (.peer_node | length) == 64 and .entries_to_send == 0 and .bytes_to_send == 0 and (.entries_to_receive | type) == "number" and .mode == "full" and .waiting_for_tree == false and .waiting_reason == null and (.last_exchange | test("^[0-9-]+T[0-9:.]+Z$")) and (.since | test("Z$")) and .last_error == null)' "$T/prov-sync.json"
check "province: the district sent it the communes' reports" \
    jq -e 'any(.links[]; .peer_unit == "412" and .direction == "down" and .entries_received >= 50)' "$T/prov-sync.json"
check "status --json includes the live sync state" wait_until 5 status_sync_open
"$BIN" status --dir "$T/c1" >"$T/status.txt"
check "status text shows the links" grep -q "up     412      open" "$T/status.txt"
api dist status >"$T/dist-status.json"
check "GET /api/v1/status has the sync state too" jq -e '.sync.running and (.sync.links | length) == 4' "$T/dist-status.json"
code=$(curl -s -o "$T/ws404.json" -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    -H 'Sec-WebSocket-Protocol: chat' "http://127.0.0.1:${PORT[dist]}/")
check "a WebSocket upgrade for another subprotocol is refused with JSON" \
    test "$code" = 404 -a "$(jq -r .error.code "$T/ws404.json" 2>/dev/null)" = http.not_found

# ---- a relay with links both ways stops cleanly -----------------------------------------------
check "district stops cleanly (exit 0)" stop dist
check "the communes log why the district link closed" \
    wait_until 5 grep -q 'event=repl.link_closed peer_unit=412 direction=up .*reason="the peer closed the connection (1001): the node is shutting down"' "$(log_of c1)"
if [ -z "${LT_SANITIZED:-}" ] && command -v valgrind >/dev/null; then
    start dist valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
    check "district under valgrind: links back" wait_until 60 dist_linked
    reports "$T/c1b.jsonl" C1B 5
    "$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/c1b.jsonl" >/dev/null
    check "relayed through the valgrind'ed district" wait_until 60 has_count nat reports 55
    stop dist
    code=$?
    check "valgrind: clean exit, no errors or leaks (exit $code)" test $code -eq 0
    [ $code -eq 0 ] || tail -40 "$(log_of dist)" >&2
fi
for n in nat prov c1 c2; do
    check "$n stops cleanly" stop "$n"
done
for n in $NODES; do
    check "$n: verify passes" "$BIN" verify --dir "$T/$n" >/dev/null
done
finish
