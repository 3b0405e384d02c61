# repl_lib.sh - helpers shared by the replication tests with real processes
# (tests/cli_repl_*.sh): a five-node tree on 127.0.0.1, starting and stopping
# `lienthong serve`, bounded waits, counting, the sync status. Sourced, not
# run (its name does not match the cli_*.sh glob of tests/CMakeLists.txt).
#
# The tree: national VN (trust root) -> province 40 -> district 412 ->
# communes 16681 and 16684. Upstreams: province -> national; district ->
# province, national; communes -> district, province.

BIN=${LT_BIN:?LT_BIN must point at the lienthong binary}
T=$(mktemp -d /tmp/lt-repl-XXXXXX)
declare -A PID PORT RUNS
NODES="nat prov dist c1 c2"
passed=0
failed=0

repl_cleanup() {
    for n in $NODES; do
        [ -n "${PID[$n]:-}" ] && kill -9 "${PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "$failed" -ne 0 ] || [ -n "${LT_KEEP_TMP:-}" ]; then
        echo "logs kept in $T" >&2
    else
        rm -rf "$T"
    fi
}
trap repl_cleanup EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...: a failure names the script's line
    local what=$1; shift
    if "$@" >/dev/null; then ok; else bad "$what (${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]})"; fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# wait_until SECONDS COMMAND... : polls every 0.1 s; 0 when COMMAND succeeded.
wait_until() {
    local limit=$1; shift
    local end=$(($(date +%s%N) + limit * 1000000000))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -ge "$end" ] && return 1
        sleep 0.1
    done
    return 0
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A random port to listen on, below the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range, 32768 and up), so that no
# outgoing connection of another process can hold it meanwhile.
random_port() { echo $((10000 + RANDOM % 22000)); }

# Five free ports in a row, into PORT[nat..c2].
pick_ports() {
    local base i n
    for _ in $(seq 1 50); do
        base=$(random_port)
        i=0
        for n in $NODES; do
            port_free $((base + i)) || continue 2
            i=$((i + 1))
        done
        i=0
        for n in $NODES; do
            PORT[$n]=$((base + i))
            i=$((i + 1))
        done
        return 0
    done
    echo "no free ports" >&2
    exit 1
}

url() { echo "ws://127.0.0.1:${PORT[$1]}/"; }
# api NODE PATH: GET /api/v1/PATH as a viewer of NODE (an account and an
# API token made on first use, kept in $T/NODE.token).
api() {
    local tok="$T/$1.token"
    if [ ! -s "$tok" ]; then
        echo "repl-viewer-pass" | "$BIN" user add --dir "$T/$1" --user repl-viewer --role viewer >/dev/null 2>&1
        "$BIN" token --dir "$T/$1" --user repl-viewer >"$tok" 2>/dev/null || return 1
    fi
    curl -sf --max-time 5 -H "Authorization: Bearer $(cat "$tok")" "http://127.0.0.1:${PORT[$1]}/api/v1/$2"
}

# node_req NODE METHOD PATH [curl args]: a request to NODE's PATH; body in
# $T/body, headers in $T/hdr; prints the status.
node_req() {
    local n=$1 m=$2 p=$3; shift 3
    curl -s -X "$m" -o "$T/body" -D "$T/hdr" -w '%{http_code}' --max-time 20 "$@" \
        "http://127.0.0.1:${PORT[$n]}/$p"
}
# post_json NODE PATH JSON [curl args]: node_req POST with a JSON body.
post_json() { node_req "$1" POST "$2" -H "Content-Type: application/json" --data-binary "$3" "${@:4}"; }
# jqb JQ-ARGS...: jq -e over $T/body, quietly (a check of the last answer).
jqb() { jq -e "$@" "$T/body" >/dev/null; }

# mk NODE NAME ROLE UNIT: adds an account on NODE and prints an API token of it.
mk() {
    echo "$2-password" | "$BIN" user add --dir "$T/$1" --user "$2" --role "$3" --unit "$4" >/dev/null
    "$BIN" token --dir "$T/$1" --user "$2"
}

# Creates and enrols the tree (nodes not started).
make_tree() {
    pick_ports
    local q="--listen"
    "$BIN" init --dir "$T/nat" --unit VN --name "Quốc gia" --tier national --root \
        $q "127.0.0.1:${PORT[nat]}" >/dev/null || exit 1
    "$BIN" init --dir "$T/prov" --unit 40 --name "Tỉnh Nghệ An" --tier province --parent-unit VN \
        $q "127.0.0.1:${PORT[prov]}" --upstream "$(url nat)" >/dev/null || exit 1
    "$BIN" init --dir "$T/dist" --unit 412 --name "Thành phố Vinh" --tier district --parent-unit 40 \
        $q "127.0.0.1:${PORT[dist]}" --upstream "$(url prov)" --upstream "$(url nat)" >/dev/null || exit 1
    "$BIN" init --dir "$T/c1" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 412 \
        $q "127.0.0.1:${PORT[c1]}" --upstream "$(url dist)" --upstream "$(url prov)" >/dev/null || exit 1
    "$BIN" init --dir "$T/c2" --unit 16684 --name "Xã Nghi Liên" --tier commune --parent-unit 412 \
        $q "127.0.0.1:${PORT[c2]}" --upstream "$(url dist)" --upstream "$(url prov)" >/dev/null || exit 1
    "$BIN" enroll --dir "$T/prov" --parent-dir "$T/nat" >/dev/null || exit 1
    "$BIN" enroll --dir "$T/dist" --parent-dir "$T/prov" >/dev/null || exit 1
    "$BIN" enroll --dir "$T/c1" --parent-dir "$T/dist" >/dev/null || exit 1
    "$BIN" enroll --dir "$T/c2" --parent-dir "$T/dist" >/dev/null || exit 1
}

# start NODE [prefix command...]: runs `serve` in the background (with the
# options in $SERVE_ARGS, if any), waits for node.started (valgrind is slow
# to start: up to 30 s).
start() {
    local n=$1; shift
    RUNS[$n]=$((${RUNS[$n]:-0} + 1))
    local log="$T/$n.${RUNS[$n]}.log"
    "$@" "$BIN" serve --dir "$T/$n" ${SERVE_ARGS:-} 2>"$log" &
    PID[$n]=$!
    if ! wait_until 30 grep -q 'event=node.started' "$log"; then
        bad "node $n did not start: $(tail -3 "$log")"
        return 1
    fi
}
log_of() { echo "$T/$1.${RUNS[$1]}.log"; }

# stop NODE: SIGTERM, wait; returns the exit code.
stop() {
    local n=$1 code
    kill -TERM "${PID[$n]}"
    wait "${PID[$n]}"
    code=$?
    PID[$n]=
    return $code
}

# count NODE COLLECTION: records held.
count() { "$BIN" export --dir "$T/$1" --collection "$2" 2>/dev/null | wc -l; }
has_count() { [ "$(count "$1" "$2")" -ge "$3" ]; }
has_record() { "$BIN" export --dir "$T/$1" --collection "$2" 2>/dev/null | jq -r .id | grep -qxF -- "$3"; }
digest() { "$BIN" status --dir "$T/$1" --json | jq -r ".digests.$2"; }
node_key() { "$BIN" status --dir "$T/$1" --json | jq -r .node; }
# own_seq NODE KEY: the highest sequence of origin KEY that NODE's store holds.
own_seq() { "$BIN" status --dir "$T/$1" --json | jq --arg k "$2" '.origins[$k]'; }
# holds NODE KEY SEQ: the running NODE holds KEY's log up to SEQ, without a gap.
holds() {
    api "$1" status | jq -e --arg k "$2" --argjson s "$3" \
        '(.origins[$k] // 0) >= $s and .partial_origins[$k] == null' >/dev/null
}

# reports FILE PREFIX N: N report lines with ids PREFIX-1..N.
reports() {
    awk -v p="$2" -v n="$3" 'BEGIN { for (i = 1; i <= n; i++)
        printf "{\"id\": \"%s-%d\", \"title\": \"Phản ánh %d\", \"category\": \"traffic\", \"lat\": 18.67}\n", p, i, i }' >"$1"
}

# link_open NODE PEER_UNIT: NODE's sync status shows an open link to PEER_UNIT.
link_open() {
    api "$1" sync | jq -e --arg u "$2" 'any(.links[]; .peer_unit == $u and .connected)' >/dev/null
}
# upstream_state NODE INDEX: the state of NODE's INDEX-th upstream record.
upstream_state() { api "$1" sync | jq -r --argjson i "$2" '[.links[] | select(.url != null)][$i].state'; }
upstream_is() { [ "$(upstream_state "$1" "$2")" = "$3" ]; }

# converged NODE: every link of NODE is open with nothing left to send.
converged() {
    api "$1" sync | jq -e '[.links[] | select(.state != "idle")] | length > 0 and
        all(.[]; .connected and .entries_to_send == 0)' >/dev/null
}

# all_converged: every node of $NODES is converged.
all_converged() { for n in $NODES; do converged "$n" || return 1; done; }

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# demo_start: `lienthong demo` in $T/demo on four free ports from $BASE (the
# province's), stopped with Ctrl-C when the script exits; waits for the
# province to answer.
demo_start() {
    BASE=
    for _ in $(seq 1 50); do
        local b=$(random_port)
        port_free "$b" && port_free $((b + 1)) && port_free $((b + 2)) && port_free $((b + 3)) && { BASE=$b; break; }
    done
    [ -n "$BASE" ] || { bad "no four free ports"; return 1; }
    "$BIN" demo --dir "$T/demo" --base-port "$BASE" >"$T/demo.log" 2>&1 &
    DEMO_PID=$!
    trap 'kill -INT $DEMO_PID 2>/dev/null; wait $DEMO_PID 2>/dev/null; repl_cleanup' EXIT
    wait_until 120 curl -sf --max-time 2 "http://127.0.0.1:$BASE/api/v1/health" -o /dev/null
}
