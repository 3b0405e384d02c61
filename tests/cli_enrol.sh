#!/usr/bin/env bash
# Enrolment over the network with real `lienthong serve` processes on
# 127.0.0.1: a province node asks the national node (enroll --parent URL
# --no-wait), the admin sees the same fingerprint (approve --list) and
# approves, the province finishes, serves and replicates; a refusal reaches
# the asking node with its reason; a unit outside the parent's children is
# refused at once; bad and oversized requests get 4xx; the admin endpoints
# answer 401 without a login; a key rotation keeps the history (old entries
# verify, new ones replicate) and the old key can no longer open a link;
# POSTs are rate-limited.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
NODES="nat prov other old"
pick_ports

http() { echo "http://127.0.0.1:${PORT[$1]}/"; }
q="--listen"
"$BIN" init --dir "$T/nat" --unit VN --name "Quốc gia" --tier national --root $q "127.0.0.1:${PORT[nat]}" >/dev/null || exit 1
"$BIN" init --dir "$T/prov" --unit 40 --name "Tỉnh Nghệ An" --tier province --parent-unit VN $q "127.0.0.1:${PORT[prov]}" >/dev/null || exit 1
start nat || exit 1

# ---- request, fingerprint, approval -----------------------------------------------
"$BIN" enroll --dir "$T/prov" --parent "$(http nat)" --no-wait >"$T/req.out" 2>&1
check "enroll --no-wait returns at once" test $? -eq 0
id=$(awk '/^request /{print $2}' "$T/req.out")
fp=$(awk '/^fingerprint /{print $2}' "$T/req.out")
check "the request has an id" test -n "$id"
check "the fingerprint is lienthong status's" test "$fp" = "$("$BIN" status --dir "$T/prov" --json | jq -r .fingerprint)"
check "the fingerprint is 4 groups of 4" grep -qE '^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$' <<<"$fp"
"$BIN" approve --dir "$T/nat" --list >"$T/list.out"
check "approve --list shows the request, pending, with the same fingerprint" grep -qE "^$id +pending +enrol +$fp +unit 40" "$T/list.out"
check "the province is not a member yet" jq -e '.enrolled == false' "$T/prov/config.json"
"$BIN" approve --dir "$T/nat" "$id" >"$T/approve.out"
check "approve names the unit and fingerprint" grep -q "approved request $id: unit 40 .*$fp" "$T/approve.out"
check "approving twice is refused" test "$("$BIN" approve --dir "$T/nat" "$id" 2>&1 >/dev/null | grep -c 'already approved')" -eq 1
"$BIN" enroll --dir "$T/prov" --parent "$(http nat)" --timeout 20 >"$T/enrolled.out" 2>&1
check "the resumed enroll completes" grep -q "^enrolled unit 40" "$T/enrolled.out"
check "the province records parent, tiers, root key and upstream" \
    jq -e --arg u "$(url nat)" '.enrolled and .parent_unit == "VN" and (.tiers | length) == 4 and (.root_key | length) == 64 and .upstreams[0] == $u' "$T/prov/config.json"

# ---- the new member serves and replicates ------------------------------------------
start prov || exit 1
check "province linked to the national node" wait_until 15 link_open prov VN
reports "$T/r1.jsonl" P 5
"$BIN" import --dir "$T/prov" --collection reports --raw --file "$T/r1.jsonl" >/dev/null
check "the province's reports reach the national node" wait_until 15 has_count nat reports 5

# ---- refusal, and a unit outside the parent's children ---------------------------------
"$BIN" init --dir "$T/other" --unit 41 --name "Tỉnh Hà Tĩnh" --tier province $q "127.0.0.1:${PORT[other]}" >/dev/null
"$BIN" enroll --dir "$T/other" --parent "$(url nat)" --no-wait >"$T/o.out" 2>&1
oid=$(awk '/^request /{print $2}' "$T/o.out")
"$BIN" approve --dir "$T/nat" "$oid" --refuse --reason "không đúng đơn vị, gọi lại" >/dev/null
check "refuse with a reason" test $? -eq 0
"$BIN" enroll --dir "$T/other" --parent "$(http nat)" --timeout 5 >/dev/null 2>"$T/o.err"
check "the refused node is told, exit 1" test $? -eq 1
check "... with the admin's reason" grep -q "refused by the parent: không đúng đơn vị, gọi lại" "$T/o.err"
check "the refused node is not a member" jq -e '.enrolled == false' "$T/other/config.json"
"$BIN" init --dir "$T/x" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 412 >/dev/null
"$BIN" enroll --dir "$T/x" --parent "$(http nat)" --no-wait >/dev/null 2>"$T/x.err"
check "a unit outside the parent's children is refused" test $? -eq 1
check "... with the reason" grep -q "parent-unit 412, but the requesting node.* serves unit VN\|--parent-unit 412" "$T/x.err"
check "... and nothing is kept" test "$("$BIN" approve --dir "$T/nat" --list | grep -c 16681)" -eq 0

# ---- bad input and the admin endpoints -------------------------------------------------
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
check "bad JSON gets 400" test "$(code -X POST --data '{"payload": 1' "$(http nat)api/v1/enrol/requests")" = 400
head -c 9000 /dev/zero | tr '\0' 'a' >"$T/big"
check "an oversized request gets 413" test "$(code -X POST --data-binary @"$T/big" "$(http nat)api/v1/enrol/requests")" = 413
check "a forged signature gets 400" test "$(code -X POST --data "{\"payload\": \"{}\", \"sig\": \"$(printf '0%.0s' $(seq 128))\"}" "$(http nat)api/v1/enrol/requests")" = 400
check "listing requests needs an admin (401)" test "$(code "$(http nat)api/v1/enrol/requests")" = 401
check "approving over HTTP needs an admin (401)" test "$(code -X POST "$(http nat)api/v1/enrol/requests/$oid/approve")" = 401
check "the requesting node may read its request" test "$(code "$(http nat)api/v1/enrol/requests/$id")" = 200
echo "enrol-admin-pass" | "$BIN" user add --dir "$T/nat" --user natadmin --role admin >/dev/null
echo "enrol-viewer-pass" | "$BIN" user add --dir "$T/nat" --user natview --role viewer >/dev/null
atok=$("$BIN" token --dir "$T/nat" --user natadmin)
vtok=$("$BIN" token --dir "$T/nat" --user natview)
check "a viewer may not list requests (403)" test "$(code -H "Authorization: Bearer $vtok" "$(http nat)api/v1/enrol/requests")" = 403
curl -s --max-time 5 -H "Authorization: Bearer $atok" "$(http nat)api/v1/enrol/requests" >"$T/list.json"
check "an admin lists the requests over HTTP" jq -e 'type == "array" or (.requests | type == "array")' "$T/list.json"

# ---- key rotation ------------------------------------------------------------------------
oldkey=$(node_key prov)
stop prov
cp -r "$T/prov" "$T/old"
start prov || exit 1
"$BIN" rotate --dir "$T/prov" --timeout 20 >"$T/rot.out" 2>&1
check "rotate succeeds with the node running" grep -q "^rotated: node key" "$T/rot.out"
check "... and says to restart it" grep -q "restart it" "$T/rot.out"
check "the old key is kept" ls "$T"/prov/node.key.old-*
stop prov
start prov || exit 1
newkey=$(node_key prov)
check "the node has a new key" test "$newkey" != "$oldkey" -a -n "$newkey"
superseded() {
    "$BIN" export --dir "$T/nat" --collection certs 2>/dev/null |
        jq -se --arg k "$oldkey" --arg n "$newkey" 'any(.[]; .id == $k and .ended == "superseded" and .successor == $n and .upto_seq >= 1)'
}
check "the national node holds the old key's certificate as superseded" superseded
check "province relinked with the new key" wait_until 15 link_open prov VN
reports "$T/r2.jsonl" Q 4
"$BIN" import --dir "$T/prov" --collection reports --raw --file "$T/r2.jsonl" >/dev/null
check "entries under the new key reach the national node" wait_until 15 has_count nat reports 9
check "the new key writes from seq 1" test "$("$BIN" status --dir "$T/prov" --json | jq -r --arg k "$newkey" '.origins[$k]')" -ge 1
check "history stays: verify at the national node" "$BIN" verify --dir "$T/nat"
check "history stays: verify at the province" "$BIN" verify --dir "$T/prov"
"$BIN" serve --dir "$T/old" --listen "127.0.0.1:${PORT[old]}" 2>"$T/old.log" &
PID[old]=$!
check "the old key can no longer open a link" wait_until 15 grep -q "replaced by a new key" "$(log_of nat)"
check "... and has no open link" test "$(api nat sync | jq --arg k "$oldkey" '[.links[] | select(.connected and .peer_key == $k)] | length')" = 0
stop old

# ---- rate limit (last: it blocks this address for a minute) --------------------------------
last=
for _ in $(seq 1 31); do last=$(code -X POST --data '{}' "$(http nat)api/v1/enrol/requests"); done
check "more than 30 requests a minute get 429" test "$last" = 429

stop prov
stop nat
finish
