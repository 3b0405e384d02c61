#!/usr/bin/env bash
# Replication through outages with five real `lienthong serve` processes on
# 127.0.0.1 (national -> province -> district -> 2 communes):
#  - a commune writes 10,000 entries while its node is stopped; restarted, it
#    catches up and the district and province hold them all (timed);
#  - the district stops: its communes fail over to their second upstream
#    (the province), their new entries reach the province, and their sync
#    status shows the district link down with its last error; the district
#    restarts: the communes switch back, the district catches up, nothing is
#    applied twice (per-origin counts equal the origin's seq, digests equal
#    where scopes overlap) and verify passes everywhere.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

# held_exactly NODE ORIGIN_NODE: NODE holds every entry of ORIGIN_NODE's own
# log once (count = highest seq = the origin's own highest seq).
held_exactly() {
    local key want got partial
    key=$(node_key "$2")
    want=$("$BIN" status --dir "$T/$2" --json | jq --arg k "$key" '.origins[$k]')
    "$BIN" status --dir "$T/$1" --json >"$T/held.json"
    got=$(jq --arg k "$key" '.origins[$k]' "$T/held.json")
    partial=$(jq --arg k "$key" '.partial_origins[$k]' "$T/held.json")
    [ "$got" = "$want" ] && [ "$partial" = null ]
}
all_converged() { for n in $NODES; do converged "$n" || return 1; done; }
on_fallback() { upstream_is "$1" 1 open && ! upstream_is "$1" 0 open; }
switched_back() { upstream_is "$1" 0 open && upstream_is "$1" 1 idle; }

make_tree
for n in $NODES; do start "$n" || exit 1; done
check "tree linked up" wait_until 20 all_converged

# ---- (b) a commune writes 10,000 entries while stopped, then catches up ------------
check "commune 16681 stops cleanly" stop c1
reports "$T/big.jsonl" B 10000
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/big.jsonl" >"$T/import.out"
check "10,000 reports written while the node was stopped" grep -q 'imported 10000 records' "$T/import.out"
check "the district has none of them yet" test "$(count dist reports)" -eq 0
t0=$(now)
start c1 || exit 1
check "district holds all 10,000" wait_until 60 has_count dist reports 10000
t_dist=$(since "$t0")
check "province holds all 10,000" wait_until 60 has_count prov reports 10000
t_prov=$(since "$t0")
check "national holds all 10,000" wait_until 60 has_count nat reports 10000
t_nat=$(since "$t0")
echo "catch-up of 10,000 entries after a restart: district ${t_dist} s, province ${t_prov} s, national ${t_nat} s (from serve start)"
check "province: the commune's log held once, complete" held_exactly prov c1
check "commune: nothing left to send" wait_until 15 converged c1

# ---- (c) the district stops: its communes fail over to the province ------------------
t0=$(now)
check "district stops cleanly" stop dist
check "commune 16681 fails over to the province" wait_until 20 on_fallback c1
t_fail=$(since "$t0")
check "commune 16684 fails over to the province" wait_until 20 on_fallback c2
echo "failover to the province: ${t_fail} s after the district stopped"
reports "$T/out1.jsonl" OUT1 25
reports "$T/out2.jsonl" OUT2 15
t0=$(now)
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/out1.jsonl" >/dev/null
"$BIN" import --dir "$T/c2" --collection reports --raw --file "$T/out2.jsonl" >/dev/null
check "entries written during the outage reach the province" wait_until 20 has_count prov reports 10040
check "... and the national node" wait_until 20 has_count nat reports 10040
echo "outage entries reached the province through the fallback in $(since "$t0") s"
district_retried() { api c1 sync | jq -e '.links[0].attempts >= 3' >/dev/null; }
check "the commune keeps retrying the district with backoff" wait_until 20 district_retried
api c1 sync >"$T/c1-outage.json"
check "(d) sync: the district upstream is down, with its last error and next retry" \
    jq -e '.links[0] | .peer_unit == "412" and (.connected | not) and .state == "waiting" and (.last_error | length > 0) and (.next_retry | test("Z$")) and .attempts >= 1 and .entries_to_send == null' "$T/c1-outage.json"
check "(d) sync: the province fallback is connected" \
    jq -e '.links[1] | .peer_unit == "40" and .connected and .state == "open"' "$T/c1-outage.json"
echo "district link while down: $(jq -c '.links[0] | {state, last_error, attempts}' "$T/c1-outage.json")"
status_names_error() { # DIR/sync.json is at most a second behind
    "$BIN" status --dir "$T/c1" >"$T/c1-status.txt" && grep -q 'last error: cannot connect' "$T/c1-status.txt"
}
check "status text names the last error" wait_until 5 status_names_error
status_names_error || sed -n '/^sync:/,$p' "$T/c1-status.txt" >&2
check "province: accepted both communes directly" wait_until 10 link_open prov 16681
check "the district's absence is logged with a reason" \
    grep -q 'event=repl.link_closed peer_unit=412 direction=up .*reason="the peer closed the connection (1001): the node is shutting down"' "$(log_of c1)"
check "failed dials are logged with a retry time" grep -q 'event=repl.dial_failed url=ws://127.0.0.1:.* retry_in_ms=' "$(log_of c1)"

# ---- the district comes back: switch back, catch up, nothing applied twice --------------
before=$("$BIN" status --dir "$T/prov" --json | jq .entries)
t0=$(now)
start dist || exit 1
check "commune 16681 switches back to the district" wait_until 30 switched_back c1
check "commune 16684 switches back to the district" wait_until 30 switched_back c2
echo "switch back to the district: $(since "$t0") s after it restarted"
check "the district catches up with the outage entries" wait_until 30 has_count dist reports 10040
check "everything converges" wait_until 30 all_converged
check "the province gained no entry from the second path" \
    test "$("$BIN" status --dir "$T/prov" --json | jq .entries)" -eq "$before"
for who in c1 c2; do
    for at in dist prov nat; do
        check "$at holds $who's log exactly once" held_exactly "$at" "$who"
    done
done
check "reports digest: district = province" test "$(digest dist reports)" = "$(digest prov reports)"
check "reports digest: province = national" test "$(digest prov reports)" = "$(digest nat reports)"
check "switching back is logged" grep -q 'event=repl.switch_back' "$(log_of c1)"
for n in $NODES; do
    check "$n: verify passes while running" "$BIN" verify --dir "$T/$n"
    check "$n: no equivocation" test "$("$BIN" status --dir "$T/$n" --json | jq '.equivocations | length')" -eq 0
done
for n in $NODES; do
    check "$n stops cleanly" stop "$n"
done
finish
