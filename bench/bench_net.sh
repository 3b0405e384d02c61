#!/usr/bin/env bash
# bench_net.sh - replication with real `lienthong serve` processes on
# 127.0.0.1, created with the CLI (init, enroll, import, user add, token):
# national VN -> province 40 -> district 412 -> communes 16681 (c1) and
# 16684 (c2), the tree of tests/repl_lib.sh. Measured (bench/bench_net.c does
# the timing; GET /api/v1/status of the receiving node tells how far it
# holds the writer's log):
#  - the limits of this machine in this run: Ed25519 verify on one core, and
#    sequential 4 KiB fdatasync'ed appends;
#  - reconnect: c2 wrote 1,000 reports while stopped; from its `serve`
#    starting to the district holding them (median of 3);
#  - one hop: c2 wrote 100,000 reports while stopped; the district's
#    upstreams (province, national) are stopped meanwhile, so the district
#    only receives; from `serve` to the district holding them all;
#  - three hops: c1 wrote 200,000 reports while stopped; from `serve` to the
#    national node holding them all (district and province relay);
#  - sustained writes: POST /api/v1/reports at c1 (staff token) for
#    LT_BENCH_LOAD_S seconds at LT_BENCH_RATE a second over LT_BENCH_CONNS
#    connections; p50 and p99 from sending a POST to the national node
#    holding it. The rate offered is 10 % above the target of 2,000/s: the
#    rate written counts until the last answer, so a node that keeps up with
#    exactly 2,000/s shows a little less. Each connection waits for its
#    answer before it sends again, so 32 connections could offer at most
#    32 / 17 ms = 1,900/s when a POST takes 17 ms: 64 keep the client from
#    capping what the node shows;
#  - memory: RssAnon (the node's own memory) of every process at rest and
#    its peak over the run (sampled every 0.2 s), and the resident pages of
#    files (RssFile: LMDB's map, the kernel's reclaimable cache) apart.
# Each figure is printed against the two limits, with a verdict per target of
# issue 13; the exit status is 1 when a target is missed or a step fails.
#
# Run: make bench, or LT_BIN=build/lienthong LT_BENCH_NET=build/bench/bench_net bash bench/bench_net.sh
# Sizes: LT_BENCH_ONE_HOP (100000), LT_BENCH_CHAIN (200000), LT_BENCH_RATE
# (2200), LT_BENCH_LOAD_S (10), LT_BENCH_CONNS (64).
set -uo pipefail
. "$(dirname "$0")/../tests/repl_lib.sh"
NET=${LT_BENCH_NET:?LT_BENCH_NET must point at build/bench/bench_net}
ONE=${LT_BENCH_ONE_HOP:-100000}
CHAIN=${LT_BENCH_CHAIN:-200000}
RATE=${LT_BENCH_RATE:-2200}
CONNS=${LT_BENCH_CONNS:-64}
LOAD_S=${LT_BENCH_LOAD_S:-10}
verdicts=0

say() { printf 'bench_net: %s\n' "$*"; }
# verdict NAME OK(0|1) TEXT: prints the target's verdict, counts a miss.
verdict() {
    if [ "$2" = 1 ]; then say "target $1: $3: met"; else say "target $1: $3: NOT MET"; verdicts=$((verdicts + 1)); fi
}
fmt() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
die() { say "FAILED: $*"; failed=$((failed + 1)); exit 1; }

# ---- memory: a sampler of every serve process ---------------------------------------
# rss_read PID: sets ANON and FILE (RssAnon, RssFile in kB) of process PID;
# false when it is gone. Builtins only: the sampler must not fork a few
# processes five times a second while the load runs (it took 5 % of the
# two cores with awk, cat and mv).
rss_read() {
    ANON='' FILE=''
    local k v _
    while read -r k v _; do
        case $k in RssAnon:) ANON=$v ;; RssFile:) FILE=$v ;; esac
    done 2>/dev/null <"/proc/$1/status" || return 1
    [ -n "$ANON" ] && [ -n "$FILE" ]
}
sampler() {
    trap 'exit 0' TERM
    local -A pa pf
    while :; do
        while read -r n p; do
            rss_read "$p" || continue
            [ "$ANON" -gt "${pa[$n]:-0}" ] && pa[$n]=$ANON
            [ "$FILE" -gt "${pf[$n]:-0}" ] && pf[$n]=$FILE
            printf '%s %s\n' "${pa[$n]}" "${pf[$n]}" >"$T/peak.$n"
        done <"$T/pids"
        sleep 0.2
    done
}
pids_write() { : >"$T/pids.new"; for n in $NODES; do [ -n "${PID[$n]:-}" ] && echo "$n ${PID[$n]}" >>"$T/pids.new"; done; mv "$T/pids.new" "$T/pids"; }

# catchup NODE RECEIVER KEY SEQ POLL_MS: starts NODE through bench_net;
# CATCH_MS is the milliseconds until RECEIVER held KEY's log up to SEQ
# (RECEIVER's status read every POLL_MS).
catchup() {
    local n=$1 r=$2 out
    RUNS[$n]=$((${RUNS[$n]:-0} + 1))
    out=$("$NET" catchup "${PORT[$r]}" "$(cat "$T/$r.token")" "$3" "$4" 300 "$5" \
        "$BIN" serve --dir "$T/$n" 2>"$T/$n.${RUNS[$n]}.log")
    local rc=$?
    PID[$n]=$(awk '$1 == "pid" { print $2 }' <<<"$out")
    pids_write
    [ $rc -eq 0 ] || die "$n: $r did not hold $4 entries of it within 300 s ($(tail -1 <<<"$out"))"
    CATCH_MS=$(awk '$1 == "catchup_ms" { print $2 }' <<<"$out")
}
# halt NODE: SIGTERM, then waits for its end (bench_net's nodes are not
# children of this shell); 1 when it did not stop within 30 s.
halt() {
    local p=${PID[$1]}
    kill -TERM "$p" || return 1
    wait "$p" 2>/dev/null
    [ $? -ne 127 ] || wait_until 30 eval "! kill -0 $p" || return 1
    PID[$1]=
    pids_write
}

make_tree
for n in $NODES; do api "$n" health >/dev/null 2>&1; done # viewer tokens, made before the nodes run
STAFF=$(mk c1 bench-staff staff 16681)
declare -A ADMIN UNIT=([nat]=VN [prov]=40 [dist]=412 [c1]=16681 [c2]=16684)
for n in $NODES; do ADMIN[$n]=$(mk "$n" bench-admin admin "${UNIT[$n]}"); done # for /metrics
for n in $NODES; do start "$n" || exit 1; done
pids_write
sampler &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null; repl_cleanup' EXIT
wait_until 60 all_converged || die "the network did not link up within 60 s"
K1=$(node_key c1)
K2=$(node_key c2)

# ---- limits of this machine, this run --------------------------------------------------
read -r VERIFY FSYNC <<<"$("$NET" rates "$T" | awk '{ v[$1] = $2 } END { print v["verify_per_s"], v["fsync_per_s"] }')"
say "cores $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "limit: Ed25519 verify, one core: $VERIFY /s; sequential fdatasync (4 KiB appends): $FSYNC /s"
against() { echo "$(ratio "$1" "$VERIFY") x verify, $(ratio "$1" "$FSYNC") x fsync"; }

# ---- memory at rest --------------------------------------------------------------------
for n in $NODES; do
    rss_read "${PID[$n]}" || die "$n: no process ${PID[$n]}"
    echo "$ANON $FILE" >"$T/rest.$n"
done

# ---- reconnect: 1,000 waiting entries ---------------------------------------------------
recs=()
for i in 1 2 3; do
    halt c2 || die "c2 did not stop cleanly"
    reports "$T/rc$i.jsonl" "RC$i" 1000
    "$BIN" import --dir "$T/c2" --collection reports --raw --file "$T/rc$i.jsonl" >/dev/null || die "import at c2"
    catchup c2 dist "$K2" "$(own_seq c2 "$K2")" 1
    recs+=("$CATCH_MS")
done
REC=$(printf '%s\n' "${recs[@]}" | sort -n | sed -n 2p)
say "reconnect, 1000 waiting entries, serve start -> the district holds them: ${recs[*]} ms, median $REC ms"
verdict reconnect "$(le "$REC" 100 && echo 1)" "median $REC ms (target < 100 ms)"

# ---- one hop: 100,000 ------------------------------------------------------------------
halt c2 || die "c2 did not stop cleanly"
halt prov || die "prov did not stop cleanly"
halt nat || die "nat did not stop cleanly"
reports "$T/one.jsonl" ONE "$ONE"
t0=$(now)
"$BIN" import --dir "$T/c2" --collection reports --raw --file "$T/one.jsonl" >/dev/null || die "import at c2"
say "import of $ONE reports at c2 (lienthong import --raw: signed entries): $(since "$t0") s"
catchup c2 dist "$K2" "$(own_seq c2 "$K2")" 5
MS=$CATCH_MS
S=$(awk -v m="$MS" 'BEGIN { printf "%.2f", m / 1000 }')
R=$(awk -v n="$ONE" -v m="$MS" 'BEGIN { printf "%.0f", n * 1000 / m }')
say "one hop, $ONE entries, serve start -> the district holds them: $S s, $R entries/s ($(against "$R"))"
verdict one_hop "$(awk -v r="$R" -v v="$VERIFY" -v s="$S" 'BEGIN { print (r >= 3 * v && s < 1.5) }')" \
    "$(ratio "$R" "$VERIFY") x verify in $S s (target >= 3 x verify, < 1.5 s)"
start prov && start nat || die "prov and nat did not restart"
pids_write
wait_until 240 holds nat "$K2" "$(own_seq c2 "$K2")" || die "the national node did not hold c2's entries within 240 s after the one-hop step"

# ---- three hops: 200,000 ---------------------------------------------------------------
halt c1 || die "c1 did not stop cleanly"
reports "$T/chain.jsonl" CH "$CHAIN"
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/chain.jsonl" >/dev/null || die "import at c1"
catchup c1 nat "$K1" "$(own_seq c1 "$K1")" 5
MS=$CATCH_MS
S=$(awk -v m="$MS" 'BEGIN { printf "%.2f", m / 1000 }')
R=$(awk -v n="$CHAIN" -v m="$MS" 'BEGIN { printf "%.0f", n * 1000 / m }')
say "three hops, $CHAIN entries, serve start at c1 -> the national node holds them: $S s, $R entries/s ($(against "$R"); each hop verifies every entry)"
verdict three_hops "$(awk -v s="$S" 'BEGIN { print (s < 5) }')" "$S s (target < 5 s)"

# ---- sustained writes through the API -----------------------------------------------------
# commits NODE: the node's store commits and the writes they held so far.
commits() {
    curl -sf --max-time 5 -H "Authorization: Bearer ${ADMIN[$1]}" "http://127.0.0.1:${PORT[$1]}/metrics" |
        awk '$1 == "lienthong_store_commits_total" { c = $2 } $1 == "lienthong_store_writes_per_commit_sum" { w = $2 } END { print c + 0, w + 0 }'
}
# cpu NODE: the CPU seconds (user + system, every thread) NODE's process used so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/${PID[$1]}/stat"; }
declare -A C0 U0
for n in c1 dist prov nat; do C0[$n]=$(commits "$n") U0[$n]=$(cpu "$n"); done
before=$(own_seq c1 "$K1")
"$NET" load "${PORT[c1]}" "$STAFF" "${PORT[nat]}" "$(cat "$T/nat.token")" "$K1" "$RATE" "$LOAD_S" "$CONNS" >"$T/load.out"
load_rc=$?
after=$(own_seq c1 "$K1")
declare -A L
while read -r k v; do L[$k]=$v; done <"$T/load.out"
say "sustained writes, POST /api/v1/reports at c1, $RATE/s offered for $LOAD_S s over $CONNS connections: ${L[load_written_per_s]} reports/s written ($(against "${L[load_written_per_s]}")), ${L[load_failed]} failed, ${L[load_at_national]} of ${L[load_written]} at the national node; to the national node p50 ${L[load_p50_ms]} ms, p99 ${L[load_p99_ms]} ms; the POST's answer at c1 p50 ${L[load_answer_p50_ms]} ms, p99 ${L[load_answer_p99_ms]} ms"
say "c1 wrote $((after - before)) entries for ${L[load_written]} reports: ${L[load_entries_per_write]} per report"
for n in c1 dist prov nat; do
    read -r c0 w0 <<<"${C0[$n]}"
    read -r c w <<<"$(commits "$n")"
    say "$n over the load: $(awk -v a="${U0[$n]}" -v b="$(cpu "$n")" -v s="$LOAD_S" 'BEGIN { printf "%.2f", (b - a) / s }') cores; $((c - c0)) commits ($(awk -v c=$((c - c0)) -v s="$LOAD_S" 'BEGIN { printf "%.0f", c / s }')/s), $(awk -v c=$((c - c0)) -v w=$((w - w0)) 'BEGIN { printf "%.1f", c ? w / c : 0 }') writes each"
done
verdict sustained "$(awk -v r="${L[load_written_per_s]}" -v p="${L[load_p99_ms]}" -v rc="$load_rc" \
    'BEGIN { print (r >= 2000 && p >= 0 && p < 100 && rc == 0) }')" \
    "${L[load_written_per_s]} reports/s, p99 ${L[load_p99_ms]} ms to the national node, $((${L[load_written]} - ${L[load_at_national]})) not arrived (target >= 2000/s, p99 < 100 ms)"

# ---- memory --------------------------------------------------------------------------------
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
for n in $NODES; do
    read -r ra rf <"$T/rest.$n"
    read -r pa pf <"$T/peak.$n"
    say "RSS $n: at rest $((ra / 1024)) MB own (RssAnon) + $((rf / 1024)) MB file pages (RssFile: LMDB's map, libraries); peak $((pa / 1024)) MB own + $((pf / 1024)) MB file pages"
done
read -r ra rf <"$T/rest.c1"
verdict commune_rss "$( [ "$ra" -lt $((30 * 1024)) ] && echo 1)" "$((ra / 1024)) MB own memory at rest (target < 30 MB, file pages apart)"

if [ "$verdicts" -ne 0 ]; then
    say "$verdicts target(s) not met"
    exit 1
fi
say "every target met"
