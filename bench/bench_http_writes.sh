#!/usr/bin/env bash
# bench_http_writes.sh - writes/s through POST /api/v1/reports at one real
# node: starts `lienthong serve` on a fresh directory, then runs
# build/bench/bench_http_writes for each number of concurrent clients
# (default 1 8 32) and prints, per run, the node's commits and writes per
# commit from GET /metrics (group commit, docs/storage.md).
#
#   [LT_BIN=path/to/lienthong] bench/bench_http_writes.sh [BUILD_DIR] [SECONDS] [CLIENTS...]
set -u
BUILD=${1:-build}
SECS=${2:-5}
shift 2 2>/dev/null
CLIENTS=${*:-1 8 32}
BIN=${LT_BIN:-$BUILD/lienthong} # LT_BIN: another build of the node (a before/after figure)
LOAD=$BUILD/bench/bench_http_writes
T=$(mktemp -d /tmp/lt-bench-writes-XXXXXX)
PORT=$((10000 + RANDOM % 22000))
trap 'kill -9 $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

"$BIN" init --dir "$T/n" --unit VN --name "Quốc gia" --tier national --root --listen "127.0.0.1:$PORT" >/dev/null || exit 1
echo "bench-password" | "$BIN" user add --dir "$T/n" --user bench --role leader --unit VN >/dev/null || exit 1
echo "bench-admin-pw" | "$BIN" user add --dir "$T/n" --user boss --role admin --unit VN >/dev/null || exit 1
TOK=$("$BIN" token --dir "$T/n" --user bench) || exit 1
ADM=$("$BIN" token --dir "$T/n" --user boss) || exit 1
"$BIN" serve --dir "$T/n" 2>"$T/log" &
PID=$!
for _ in $(seq 1 300); do grep -q 'event=node.started' "$T/log" && break; sleep 0.1; done
grep -q 'event=node.started' "$T/log" || { echo "the node did not start: $(tail -3 "$T/log")"; exit 1; }

metric() { curl -s -H "Authorization: Bearer $ADM" "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
echo "lienthong bench_http_writes: $(nproc) core(s), load average $(cut -d' ' -f1 /proc/loadavg)"
status=0
for c in $CLIENTS; do
    c0=$(metric lienthong_store_commits_total)
    w0=$(metric lienthong_store_writes_per_commit_sum)
    "$LOAD" --port "$PORT" --token "$TOK" --clients "$c" --seconds "$SECS" || status=1
    c1=$(metric lienthong_store_commits_total)
    w1=$(metric lienthong_store_writes_per_commit_sum)
    if [ -n "$c0" ]; then
        awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) 'BEGIN { printf "  store: %d commits for %d writes (%.1f writes per commit)\n", c, w, c ? w / c : 0 }'
    fi
done
exit $status
