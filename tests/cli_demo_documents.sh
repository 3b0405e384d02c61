#!/usr/bin/env bash
# `lienthong demo` seeds real documents through the domain: the province's
# three (a plan, a decision, a letter to all its districts) numbered in
# their series and signed by the demo official, valid wherever they
# arrive; the district's letter to all its communes (412*) expanded and
# delivered; the communes' nodes write "delivered" themselves; no generic
# record of the collection is left (the old seed).
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
NODES="" # the demo starts its own nodes
DEMO=
cleanup() {
    [ -n "$DEMO" ] && kill -INT "$DEMO" 2>/dev/null && wait "$DEMO" 2>/dev/null
    repl_cleanup
}
trap cleanup EXIT
for _ in $(seq 1 50); do
    BASE=$((10000 + RANDOM % 22000))
    port_free "$BASE" && port_free $((BASE + 1)) && port_free $((BASE + 2)) && port_free $((BASE + 3)) && break
done
"$BIN" demo --dir "$T/net" --base-port "$BASE" >"$T/demo.log" 2>&1 &
DEMO=$!
started() { [ "$(grep -c 'event=node.started' "$T/demo.log")" -ge 4 ]; }
check "the demo network starts" wait_until 90 started
declare -A PORT=([40]=$BASE [412]=$((BASE + 1)) [16681]=$((BASE + 2)) [16684]=$((BASE + 3)))
tok() { "$BIN" token --dir "$T/net/$1" --user admin; }
P=$(tok 40); D=$(tok 412); C=$(tok 16681)
get() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $2" "http://127.0.0.1:${PORT[$1]}/api/v1/$3"; }

check "the province's out-box lists its three documents" test "$(get 40 "$P" 'documents?box=out')" = 200
check "...numbered in their series, signed by the demo official" jq -e '.total == 3 and
    ([.documents[].notation] | sort) == ["1/CV-UBND", "1/KH-UBND", "1/QĐ-UBND"] and
    all(.documents[]; .signer.position == "Chủ tịch UBND tỉnh")' "$T/body"
CV=$(jq -r '.documents[] | select(.notation == "1/CV-UBND") | .id' "$T/body")
check "...the letter to all districts of 40 expanded to 412" test "$(get 40 "$P" "documents/$CV")" = 200
check "...." jq -e '.recipient_groups[0].spec == "40*district" and [.recipients[].unit] == ["412"]' "$T/body"
check "no generic record is left in the collection" \
    bash -c "! '$BIN' export --dir '$T/net/40' --collection documents | jq -e 'select(.notation == null)' | grep -q ."
delivered() { [ "$(get 40 "$P" "documents/$CV")" = 200 ] && jq -e '.recipients[0].status == "delivered"' "$T/body" >/dev/null; }
check "the district's node wrote delivered; the province sees it" wait_until 30 delivered
verified() { [ "$(get 412 "$D" "documents/$CV/verify")" = 200 ] && jq -e '.valid' "$T/body" >/dev/null; }
check "the signature verifies at the district" wait_until 30 verified
check "the district's out-box: its letter to all communes and a notice" test "$(get 412 "$D" 'documents?box=out')" = 200
check "...." jq -e '.total == 2' "$T/body"
ALL=$(jq -r '.documents[] | select(.notation == "1/CV-UBND") | .id' "$T/body")
both() { [ "$(get 412 "$D" "documents/$ALL")" = 200 ] &&
    jq -e '.recipient_groups[0].spec == "412*" and ([.recipients[] | select(.status == "delivered") | .unit] | sort) == ["16681", "16684"]' "$T/body" >/dev/null; }
check "...delivered to both communes of 412" wait_until 30 both
cverified() { [ "$(get 16681 "$C" "documents/$ALL/verify")" = 200 ] && jq -e '.valid and .signer.position == "Chủ tịch UBND thành phố"' "$T/body" >/dev/null; }
check "the district's signature verifies at 16681" wait_until 30 cverified
check "16681's report reaches the district's in-box" wait_until 30 bash -c "curl -s -H 'Authorization: Bearer $D' 'http://127.0.0.1:${PORT[412]}/api/v1/documents?box=in' | jq -e 'any(.documents[]; .notation == \"1/BC-UBND\" and .unit == \"16681\")'"
finish
