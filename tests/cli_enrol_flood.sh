#!/usr/bin/env bash
# Issue 12, finding 8: pending enrolment requests cannot block enrolment.
# Against a real national node (LT_ENROL_PENDING_TTL_S=3): nine provinces
# ask from 127.0.0.1; eight wait, the ninth gets 503 naming the address
# (the old code kept every one, up to 64, after which every new request of
# any node got 503 for ever); once the wait is past the TTL, the old ones
# show "expired", cannot be approved, and a new request is taken again.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
NODES="nat"
pick_ports
http() { echo "http://127.0.0.1:${PORT[$1]}/"; }
"$BIN" init --dir "$T/nat" --unit VN --name "Quốc gia" --tier national --root --listen "127.0.0.1:${PORT[nat]}" >/dev/null || exit 1
export LT_ENROL_PENDING_TTL_S=3 # for the node and the admin's CLI alike
start nat || exit 1
for i in 1 2 3 4 5 6 7 8 9 10; do
    "$BIN" init --dir "$T/p$i" --unit "4$i" --name "Tỉnh $i" --tier province --parent-unit VN >/dev/null || exit 1
done
ask() { "$BIN" enroll --dir "$T/p$1" --parent "$(http nat)" --no-wait >"$T/p$1.out" 2>&1; }

for i in 1 2 3 4 5 6 7 8; do
    ask "$i"
    check "province $i: its request waits" grep -q '^request ' "$T/p$i.out"
done
ask 9
check "the ninth from the same address is refused" test $? -ne 0
check "...with 503 naming the address and what to do" \
    grep -q "8 enrolment requests from 127.0.0.1 already wait for an admin.*approve --list" "$T/p9.out"
first=$(awk '/^request /{print $2}' "$T/p1.out")
# once the TTL is past, the old ones show expired and a new ask is taken
expired() { "$BIN" approve --dir "$T/nat" --list | grep -qE "^$first +expired"; }
check "after the TTL the old ones show expired" wait_until 15 expired
ask 10
check "...and a new request from that address is taken" grep -q '^request ' "$T/p10.out"
"$BIN" approve --dir "$T/nat" "$first" >/dev/null 2>"$T/late.err"
check "an expired request cannot be approved" test $? -ne 0
check "...the admin is told why" grep -q "already expired" "$T/late.err"
check "the node stops cleanly" stop nat
finish
