#!/usr/bin/env bash
# End-to-end test of the lienthong CLI and daemon with real processes, real
# LMDB files and HTTP on 127.0.0.1: init, enroll, status, import/export,
# log, verify (healthy and corrupted), serve (health, noticing entries
# imported by another process, clean SIGTERM stop, valgrind-clean).
set -uo pipefail
BIN=${LT_BIN:?LT_BIN must point at the lienthong binary}
T=$(mktemp -d /tmp/lt-cli-XXXXXX)
SERVE_PID=
passed=0
failed=0
cleanup() {
    [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}
expect_exit() { # expect_exit CODE DESCRIPTION COMMAND...
    local want=$1 what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, wanted $want: $(cat "$T/err")"; fi
}

# ---- help and usage -------------------------------------------------------
for cmd in init enroll serve status import export verify log demo user token; do
    expect_exit 0 "$cmd --help" "$BIN" "$cmd" --help
    check "$cmd --help names the command" grep -q "lienthong $cmd" "$T/out"
done
expect_exit 2 "unknown command" "$BIN" frobnicate
expect_exit 2 "missing --dir" "$BIN" status

# ---- init -------------------------------------------------------------------
expect_exit 0 "init root" "$BIN" init --dir "$T/p" --unit 40 --name "Tỉnh Nghệ An" --tier province --root
expect_exit 0 "init district" "$BIN" init --dir "$T/d" --unit 412 --name "Thành phố Vinh" --tier district --parent-unit 40
expect_exit 0 "init commune" "$BIN" init --dir "$T/c" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 412
expect_exit 2 "unknown tier at the root" "$BIN" init --dir "$T/x" --unit 99 --name X --tier county --root
check "unknown tier names the tier" grep -q 'county' "$T/err"
expect_exit 0 "a child's tier is checked at enrolment" "$BIN" init --dir "$T/x2" --unit 99999 --name X --tier county --parent-unit 40
expect_exit 1 "init over an existing node" "$BIN" init --dir "$T/p" --unit 40 --name X --tier province
check "key file is 0600" test "$(stat -c %a "$T/c/node.key")" = 600

# two-tier network (since 2025): tiers are data
expect_exit 0 "two-tier root" "$BIN" init --dir "$T/p2" --unit 01 --name "Thành phố Hà Nội" --tier province --root --tiers province,commune
expect_exit 0 "two-tier commune" "$BIN" init --dir "$T/c2" --unit 00004 --name "Phường Ba Đình" --tier commune
expect_exit 0 "two-tier enroll" "$BIN" enroll --dir "$T/c2" --parent-dir "$T/p2"
expect_exit 0 "custom tier names" "$BIN" init --dir "$T/p3" --unit 02 --name "Tỉnh" --tier tinh --root --tiers tinh,xa
expect_exit 0 "custom tier child" "$BIN" init --dir "$T/c3" --unit 00100 --name "Xã" --tier xa --parent-unit 02
expect_exit 0 "custom tier enroll" "$BIN" enroll --dir "$T/c3" --parent-dir "$T/p3"
rm -rf "$T/gone" && cp -r "$T/c2" "$T/gone" && rm -rf "$T/gone/data"
expect_exit 1 "a missing store is an error, not a new log" "$BIN" verify --dir "$T/gone"
check "missing store is explained" grep -q 'restore it from a backup' "$T/err"

# ---- enroll -----------------------------------------------------------------
expect_exit 1 "enroll under the wrong parent" "$BIN" enroll --dir "$T/c" --parent-dir "$T/p"
check "wrong parent is explained" grep -q 'parent-unit 412' "$T/err"
expect_exit 1 "enroll under a parent not yet enrolled" "$BIN" enroll --dir "$T/c" --parent-dir "$T/d"
expect_exit 1 "enroll with a tier the network lacks" "$BIN" enroll --dir "$T/x2" --parent-dir "$T/p"
check "unknown tier at enrolment names the tiers" grep -q 'county.*national,province,district,commune' "$T/err"
expect_exit 0 "enroll district" "$BIN" enroll --dir "$T/d" --parent-dir "$T/p"
expect_exit 0 "enroll commune" "$BIN" enroll --dir "$T/c" --parent-dir "$T/d"
expect_exit 1 "enroll twice" "$BIN" enroll --dir "$T/c" --parent-dir "$T/d"

# ---- quarantine ---------------------------------------------------------------
expect_exit 0 "quarantine" "$BIN" quarantine --dir "$T/c"
check "quarantine: empty on an honest node" grep -q '^0 entries in quarantine (0 waiting)' "$T/out"
expect_exit 0 "quarantine --json" "$BIN" quarantine --dir "$T/c" --json
check "quarantine --json: count" test "$(jq -r .count "$T/out")" = 0
expect_exit 2 "quarantine --limit 0" "$BIN" quarantine --dir "$T/c" --limit 0

# ---- status -----------------------------------------------------------------
expect_exit 0 "status --json" "$BIN" status --dir "$T/c" --json
cp "$T/out" "$T/status.json"
check "status: unit" test "$(jq -r .unit "$T/status.json")" = 16681
check "status: tier" test "$(jq -r .tier "$T/status.json")" = commune
check "status: parent" test "$(jq -r .parent "$T/status.json")" = 412
check "status: node key" test "$(jq -r '.node | length' "$T/status.json")" = 64
check "status: entries is a number" jq -e '.entries | type == "number"' "$T/status.json" >/dev/null
check "status: origins map" jq -e '.origins | type == "object" and length >= 2' "$T/status.json" >/dev/null
check "status: digests of certs" jq -e '.digests.certs | length == 64' "$T/status.json" >/dev/null
expect_exit 0 "status text" "$BIN" status --dir "$T/c"
check "status text shows the unit" grep -q 'Phường Bến Thủy' "$T/out"

# ---- import / export ----------------------------------------------------------
cat >"$T/reports.jsonl" <<'JSONL'
{"id": "PA-1", "title": "Đường ngập nước", "category": "environment", "lat": 18.67, "lng": 105.68}
{"id": "PA-2", "title": "Đèn tín hiệu hỏng", "category": "traffic", "tags": ["urgent", "night"]}

{"id": 3, "title": "Rác thải", "category": "environment", "detail": {"bags": 12, "photo": null}}
JSONL
before=$(jq .entries "$T/status.json")
expect_exit 0 "import" "$BIN" import --dir "$T/c" --collection reports --raw --file "$T/reports.jsonl"
check "import reports the count" grep -q 'imported 3 records' "$T/out"
expect_exit 0 "export" "$BIN" export --dir "$T/c" --collection reports --raw
check "export has 3 lines" test "$(wc -l <"$T/out")" -eq 3
check "export round-trips fields" jq -e -s '.[0].id == "3" and .[0].detail.bags == 12 and .[1].title == "Đường ngập nước" and .[2].tags[1] == "night"' "$T/out" >/dev/null
printf '{"id": "PA-4", "title": "ok"}\n{"id": "PA-5", "title": \n{"id": "PA-6"}\n' >"$T/bad.jsonl"
expect_exit 2 "import with a bad line" "$BIN" import --dir "$T/c" --collection reports --raw --file "$T/bad.jsonl"
check "bad line is named" grep -q 'line 2' "$T/err"
printf '{"title": "no id"}\n' >"$T/noid.jsonl"
expect_exit 2 "import a line without id" "$BIN" import --dir "$T/c" --collection reports --raw --file "$T/noid.jsonl"
check "missing id is explained" grep -q 'line 1: "id"' "$T/err"
"$BIN" status --dir "$T/c" --json >"$T/status2.json"
check "failed imports wrote nothing" test "$(jq .entries "$T/status2.json")" -eq $((before + 3))
expect_exit 2 "import bad collection name" "$BIN" import --dir "$T/c" --collection Reports --file "$T/reports.jsonl"
printf '{"id": "x", "name_vi": "X"}\n' >"$T/cat.jsonl"
expect_exit 1 "import into a collection only the top tiers write: refused, exit code 1 (not bad input)" "$BIN" import --dir "$T/c" --collection categories --file "$T/cat.jsonl"
check "...saying why" grep -q "may not write categories: only units at most 1 levels below the root" "$T/err"

# ---- log ------------------------------------------------------------------------
expect_exit 0 "log" "$BIN" log --dir "$T/c" --collection reports
check "log shows the 3 puts" test "$(grep -c 'reports/.* put' "$T/out")" -eq 3
node=$(jq -r .node "$T/status.json")
expect_exit 0 "log --origin --json" "$BIN" log --dir "$T/c" --origin "$node" --json
check "log --origin only that origin" jq -e -s --arg n "$node" 'all(.origin == $n) and length == 3' "$T/out" >/dev/null
expect_exit 2 "log bad origin" "$BIN" log --dir "$T/c" --origin nothex

# ---- verify ---------------------------------------------------------------------
expect_exit 0 "verify healthy" "$BIN" verify --dir "$T/c"
check "verify says OK" grep -q 'OK' "$T/out"
cp -r "$T/c" "$T/corrupt"
mdb_dump -s log "$T/corrupt/data" >"$T/log.dump"
# flip one bit in the body of the commune's third own entry (a report)
awk -v key="$node" '
    BEGIN { n = 0 }
    /^ / && prev_key ~ key && !done { n++; if (n == 3) { $0 = " " substr($1, 1, 200) (substr($1, 201, 1) == "0" ? "1" : "0") substr($1, 202); done = 1 } }
    { if (/^ /) prev_key = $1; print }' "$T/log.dump" >"$T/log.bad"
if cmp -s "$T/log.dump" "$T/log.bad"; then bad "the dump was altered"; else ok; fi
grep -v '^db_pagesize=' "$T/log.bad" | mdb_load -s log "$T/corrupt/data"
expect_exit 1 "verify corrupted" "$BIN" verify --dir "$T/corrupt"
check "verify names the bad entry" grep -q "bad entry ${node:0:16}…:3" "$T/out"
check "verify reports the record" grep -q 'record reports/' "$T/out"

# ---- serve ----------------------------------------------------------------------
serve() { # serve DIR LOG [prefix command...]
    local dir=$1 log=$2; shift 2
    "$@" "$BIN" serve --dir "$dir" --listen 127.0.0.1:0 2>"$log" &
    SERVE_PID=$!
    for _ in $(seq 1 200); do
        grep -q 'event=node.started' "$log" && break
        sleep 0.05
    done
    PORT=$(sed -n 's/.*event=node.started.*url=http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$log")
}
stop_serve() { # stop_serve -> exit code of the node
    kill -TERM "$SERVE_PID"
    local code
    wait "$SERVE_PID"; code=$?
    SERVE_PID=
    return $code
}
echo "flow-viewer-pass" | "$BIN" user add --dir "$T/c" --user flow --role viewer >/dev/null
TOKEN=$("$BIN" token --dir "$T/c" --user flow)
echo "flow-admin-pass" | "$BIN" user add --dir "$T/c" --user flowadmin --role admin >/dev/null
ADMIN_TOKEN=$("$BIN" token --dir "$T/c" --user flowadmin)
serve "$T/c" "$T/serve.log"
check "serve started" test -n "$PORT"
curl -sf "http://127.0.0.1:$PORT/api/v1/health" >"$T/health.json"
check "health: status ok" test "$(jq -r .status "$T/health.json")" = ok
check "health: node key" test "$(jq -r .node "$T/health.json")" = "$node"
check "health: unit and tier" jq -e '.unit == "16681" and .tier == "commune" and (.version | length > 0)' "$T/health.json" >/dev/null
curl -s -o "$T/sync.json" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/sync" >"$T/code"
check "GET /api/v1/sync answers without a login" test "$(cat "$T/code")" = 200
check "...with the links" jq -e '.links | type == "array"' "$T/sync.json"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/quarantine")
check "GET /api/v1/quarantine without a login is 401" test "$code" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/quarantine")
check "GET /api/v1/quarantine as a viewer is 403" test "$code" = 403
curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/api/v1/quarantine" >"$T/q.json"
check "GET /api/v1/quarantine: count and entries" jq -e '.count == 0 and (.entries | length) == 0' "$T/q.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/api/v1/quarantine?limit=x")
check "GET /api/v1/quarantine?limit=x is 400" test "$code" = 400
code=$(curl -s -o "$T/nf.json" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/nothing")
check "unknown path is a JSON 404" test "$code" = 404 -a "$(jq -r '.error.code + " " + (.error.status | tostring)' "$T/nf.json")" = "http.not_found 404"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/health/x")
check "health is an exact path" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/v1/nothing")
check "POST to an unknown path is 404" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/v1/health")
check "POST to health is 405" test "$code" = 405
"$BIN" serve --dir "$T/c" --listen 127.0.0.1:0 2>"$T/second.log"
check "a second serve on the same data dir is refused" grep -q 'already running' "$T/second.log"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/status")
check "status over HTTP needs a login" test "$code" = 401
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/status" >"$T/st.json"
check "status over HTTP" test "$(jq -r .unit "$T/st.json")" = 16681
printf '{"id": "PA-9", "title": "Ổ gà trên đường"}\n' >"$T/more.jsonl"
"$BIN" import --dir "$T/c" --collection reports --raw --file "$T/more.jsonl" >/dev/null
noticed=no
for _ in $(seq 1 20); do
    if grep -q 'event=store.new_entries count=1' "$T/serve.log"; then noticed=yes; break; fi
    sleep 0.05
done
check "running node noticed the import within a second" test $noticed = yes
stop_serve
check "serve exits 0 on SIGTERM" test $? -eq 0
check "serve logged its stop" grep -q 'event=node.stopped' "$T/serve.log"

if [ -z "${LT_SANITIZED:-}" ] && command -v valgrind >/dev/null; then
    serve "$T/c" "$T/vg.log" valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
    check "serve under valgrind started" test -n "$PORT"
    curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null
    check "health under valgrind" test $? -eq 0
    stop_serve
    code=$?
    check "valgrind: clean exit, no errors or leaks (exit $code)" test $code -eq 0
    [ $code -eq 0 ] || tail -40 "$T/vg.log" >&2
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
