#!/usr/bin/env bash
# Sneakernet with real processes: a city and a commune that never connect
# exchange bundles by file. Checks routing (the commune gets what is
# addressed to it, not its neighbour's), --since, idempotent import, and
# that a tampered or foreign bundle is refused with nothing applied.
set -uo pipefail
BIN=${LT_BIN:?LT_BIN must point at the lienthong binary}
T=$(mktemp -d /tmp/lt-bundle-XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
run() { "$BIN" "$@" >"$T/out" 2>"$T/err"; }
entries() { "$BIN" status --dir "$1" --json | jq .entries; }

run init --dir "$T/p" --unit 40 --name "Tỉnh Nghệ An" --tier province --root
run init --dir "$T/d" --unit 412 --name "Thành phố Vinh" --tier district --parent-unit 40
run init --dir "$T/c1" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 412
run init --dir "$T/c2" --unit 16684 --name "Xã Nghi Liên" --tier commune --parent-unit 412
run enroll --dir "$T/d" --parent-dir "$T/p"
run enroll --dir "$T/c1" --parent-dir "$T/d"
run enroll --dir "$T/c2" --parent-dir "$T/d"

for i in $(seq 1 50); do echo "{\"id\": \"PA-$i\", \"title\": \"Phản ánh $i\"}"; done >"$T/r.jsonl"
run import --dir "$T/c1" --collection reports --raw --file "$T/r.jsonl"
echo '{"id": "T-1", "title": "Giao việc cho Bến Thủy"}' >"$T/t1.jsonl"
echo '{"id": "T-2", "title": "Giao việc cho Nghi Liên"}' >"$T/t2.jsonl"
run import --dir "$T/d" --collection tasks --file "$T/t1.jsonl" --to 16681
check "import addressed to a unit" test $? -eq 0
run import --dir "$T/d" --collection tasks --file "$T/t2.jsonl" --to 16684

# commune -> city
run bundle export --dir "$T/c1" --for 412 --out "$T/up.bundle"
check "export up" test $? -eq 0
check "export counts the 50 reports" grep -q 'wrote .* 50 entries' "$T/out"
before=$(entries "$T/d")
run bundle import --dir "$T/d" "$T/up.bundle"
check "import up" test $? -eq 0
check "city holds the reports" test "$("$BIN" export --dir "$T/d" --collection reports | wc -l)" -eq 50
after=$(entries "$T/d")
check "50 new entries at the city" test $((after - before)) -eq 50
run bundle import --dir "$T/d" "$T/up.bundle"
check "importing twice changes nothing" test "$(entries "$T/d")" -eq "$after"
check "second import reports 0 new" grep -q '0 new entries' "$T/out"

# city -> commune, leaving out what the commune holds
"$BIN" status --dir "$T/c1" --json >"$T/c1-status.json"
run bundle export --dir "$T/d" --for 16681 --out "$T/down.bundle" --since "$T/c1-status.json"
check "export down" test $? -eq 0
n=$(sed -n 's/.*: \([0-9]*\) entries.*/\1/p' "$T/out")
check "the down bundle does not carry the commune's own reports back ($n entries)" test "${n:-99}" -lt 10
run bundle import --dir "$T/c1" "$T/down.bundle"
check "import down" test $? -eq 0
check "the commune got its task" test "$("$BIN" export --dir "$T/c1" --collection tasks | jq -r .id)" = T-1
check "and not its neighbour's" test "$("$BIN" export --dir "$T/c1" --collection tasks | wc -l)" -eq 1

# tampering and foreign bundles
cp "$T/down.bundle" "$T/bad.bundle"
size=$(stat -c %s "$T/bad.bundle")
printf '\x00' | dd of="$T/bad.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
before=$(entries "$T/c2")
run bundle import --dir "$T/c2" "$T/bad.bundle"
check "tampered bundle refused" test $? -eq 1
check "nothing applied" test "$(entries "$T/c2")" -eq "$before"
run bundle import --dir "$T/c2" "$T/down.bundle"
check "a bundle for another unit is refused" grep -q 'is for unit 16681' "$T/err"
head -c $((size - 30)) "$T/down.bundle" >"$T/short.bundle"
run bundle import --dir "$T/c1" "$T/short.bundle"
check "truncated bundle refused" test $? -eq 1
# issue 12, finding 10: the file is streamed, never held whole (the old code
# read /dev/zero until memory ran out, and any file whole)
peak() { tail -n 1 "$T/rss"; }
# a 1 GiB address-space cap keeps an old binary from eating the machine; ASan
# reserves terabytes of address space for its shadow, so it runs without;
# its shadow memory and allocator add to the peak, but not the file's size
SLACK=0 # kB
CAP=(prlimit --as=$((1 << 30)) --)
if [ -n "${LT_SANITIZED:-}" ]; then SLACK=$((64 << 10)) CAP=(); fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8"
/usr/bin/time -f %M -o "$T/rss" "${CAP[@]}" "$BIN" bundle import --dir "$T/c1" /dev/zero >"$T/out" 2>"$T/err"
check "/dev/zero is refused at its first value" grep -q 'not a lienthong bundle' "$T/err"
check "...in little memory (peak $(peak) kB)" test "$(peak)" -lt $((65536 + SLACK))
{ cat "$T/down.bundle"; printf '\x92\xa1e\xc6\x06\x40\x00\x00'; head -c $((100 << 20)) /dev/zero; } >"$T/huge.bundle"
/usr/bin/time -f %M -o "$T/rss" "$BIN" bundle import --dir "$T/c1" "$T/huge.bundle" >"$T/out" 2>"$T/err"
check "a 100 MiB value is refused" grep -q 'larger than 64 MiB' "$T/err"
check "...holding at most one 64 MiB value (peak $(peak) kB)" test "$(peak)" -lt $(((96 << 10) + SLACK))
rm -f "$T/huge.bundle"
run init --dir "$T/o" --unit 99 --name "Mạng khác" --tier province --root
run init --dir "$T/oc" --unit 16681 --name "Giả mạo" --tier district --parent-unit 99
run enroll --dir "$T/oc" --parent-dir "$T/o"
run bundle export --dir "$T/oc" --for 99 --out "$T/foreign.bundle"
run bundle import --dir "$T/p" "$T/foreign.bundle"
check "a bundle from another network is refused" grep -q 'not trusted' "$T/err"
run bundle export --dir "$T/c1" --for 16684 --out "$T/x.bundle"
check "no bundle between neighbours" grep -q 'neither above nor below' "$T/err"
run bundle frob
check "bad verb is a usage error" test $? -eq 2

# revocation: by an ancestor only, once
c2key=$("$BIN" status --dir "$T/c2" --json | jq -r .node)
dkey=$("$BIN" status --dir "$T/d" --json | jq -r .node)
run revoke --dir "$T/c1" --node "$dkey"
check "a commune cannot revoke its district" grep -q 'only its issuer or a node of an ancestor' "$T/err"
run revoke --dir "$T/d" --node "$c2key"
check "the district revokes a commune" test $? -eq 0
run revoke --dir "$T/d" --node "$c2key"
check "revoking twice is refused" grep -q 'already revoked' "$T/err"
run revoke --dir "$T/d" --node nothex
check "a bad key is a usage error" test $? -eq 2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
