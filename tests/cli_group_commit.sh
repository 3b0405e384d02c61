#!/usr/bin/env bash
# cli_group_commit.sh - group commit through a real `lienthong serve`
# (storage/store_group.c): concurrent POST /api/v1/reports are committed
# in fewer LMDB transactions than writes (GET /metrics:
# lienthong_store_commits_total, lienthong_store_writes_per_commit), bad
# requests among them fail alone, and every report acknowledged with a
# 201 is in the store after a kill -9 that follows the acknowledgements
# while more writes are in flight, and so is its audit entry (written in
# batches on the thread pool, node/people/audit.c: the answer is held
# until it is durable).
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

CLIENTS=16
pick_ports
"$BIN" init --dir "$T/nat" --unit VN --name "Quốc gia" --tier national --root \
    --listen "127.0.0.1:${PORT[nat]}" >/dev/null || exit 1
TOK=$(mk nat canbo leader VN)
ADM=$(mk nat boss admin VN)
start nat || exit 1

metric() { # metric NAME: its value in GET /metrics
    curl -sf --max-time 10 -H "Authorization: Bearer $ADM" "http://127.0.0.1:${PORT[nat]}/metrics" |
        awk -v m="$1" '$1 == m { print $2 }'
}
# post_one I: POSTs report I (every 5th has a category that does not exist);
# prints "STATUS I ID" once the answer arrived.
post_one() {
    local cat=traffic out
    [ $(($1 % 5)) -eq 0 ] && cat=no-such-category
    out=$(curl -s --max-time 30 -H "Authorization: Bearer $TOK" -H "Content-Type: application/json" \
        -w '\n%{http_code}' --data-binary "{\"title\": \"Ổ gà số $1\", \"category\": \"$cat\", \"lat\": 18.67, \"lon\": 105.69}" \
        "http://127.0.0.1:$PORT_NAT/api/v1/reports")
    echo "$(tail -n 1 <<<"$out") $1 $(head -n 1 <<<"$out" | jq -r '.id // "-"' 2>/dev/null)"
}
export -f post_one
export TOK PORT_NAT=${PORT[nat]}

# ---- concurrent writers share commits ----------------------------------------------------------
c0=$(metric lienthong_store_commits_total)
w0=$(metric lienthong_store_writes_per_commit_sum)
check "GET /metrics has lienthong_store_commits_total" test -n "$c0"
seq 1 160 | xargs -P $CLIENTS -I{} bash -c 'post_one {}' >"$T/round1"
c1=$(metric lienthong_store_commits_total)
w1=$(metric lienthong_store_writes_per_commit_sum)
good=$(awk '$1 == 201' "$T/round1" | wc -l)
refused=$(awk '$1 == 400' "$T/round1" | wc -l)
check "128 good reports acknowledged with 201 (got $good)" test "$good" -eq 128
check "the 32 with an unknown category refused with 400, alone (got $refused)" test "$refused" -eq 32
check "every acknowledged report is held" bash -c "[ \$('$BIN' export --dir '$T/nat' --collection reports | jq -r .id | sort | comm -12 - <(awk '\$1 == 201 { print \$3 }' '$T/round1' | sort) | wc -l) -eq 128 ]"
echo "$CLIENTS clients: $((w1 - w0)) writes in $((c1 - c0)) commits"
check "fewer commits than writes ($((c1 - c0)) for $((w1 - w0)))" test $((c1 - c0)) -lt $((w1 - w0))
check "... at least one write per acknowledged report" test $((w1 - w0)) -ge "$good"
curl -sf -H "Authorization: Bearer $ADM" "http://127.0.0.1:${PORT[nat]}/metrics" >"$T/metrics"
grouped() { # some commits served more than one write: count > bucket le="1"
    awk '/^lienthong_store_writes_per_commit_bucket\{le="1"\}/ { one = $2 }
        /^lienthong_store_writes_per_commit_count / { all = $2 }
        END { exit !(all > one) }' "$T/metrics"
}
check "the histogram lienthong_store_writes_per_commit counts commits of several writes" grouped

# ---- acknowledged means durable: kill -9 right after acknowledgements ---------------------------
seq 1000 1399 | xargs -P $CLIENTS -I{} bash -c 'post_one {}' >"$T/round2" 2>/dev/null &
XARGS=$!
acked() { [ "$(awk '$1 == 201' "$T/round2" | wc -l)" -ge 40 ]; }
check "40 reports acknowledged under load" wait_until 60 acked
kill -9 "${PID[nat]}"
wait "${PID[nat]}" 2>/dev/null
PID[nat]=
wait "$XARGS" 2>/dev/null
awk '$1 == 201 { print $3 }' "$T/round2" | sort >"$T/acked"
n=$(wc -l <"$T/acked")
check "some writes were cut off by the kill (not all 320 good ones answered)" test "$n" -lt 320
"$BIN" export --dir "$T/nat" --collection reports | jq -r .id | sort >"$T/held"
missing=$(comm -23 "$T/acked" "$T/held" | wc -l)
check "all $n reports acknowledged before the kill -9 are held ($missing missing)" test "$missing" -eq 0
"$BIN" verify --dir "$T/nat" >"$T/verify.out" 2>&1
check "the store verifies after the kill -9 (own log, hash links)" test $? -eq 0

audited=$("$BIN" export --dir "$T/nat" --collection audit |
    jq -s '[.[] | select(.path == "/api/v1/reports" and .status == 201)] | length')
all_acked=$(($(awk '$1 == 201' "$T/round1" | wc -l) + n))
check "an audit entry for each of the $all_acked acknowledged reports is held ($audited)" test "$audited" -ge "$all_acked"

finish
