#!/usr/bin/env bash
# cli_observe.sh - operating a node, on real processes: GET /metrics
# (checked like promtool does, counters that move, who may read it, the
# separate --metrics-listen address), --log-format json / --log-level,
# the startup log after a kill -9 and after a clean stop, and the
# analytics feed (GET /api/v1/feed) read by a consumer that disconnects
# mid-stream and resumes from its last cursor.
set -u
. "$(dirname "$0")/repl_lib.sh"
SRC=${LT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}

make_tree
MPORT=$(random_port)
while ! port_free "$MPORT"; do MPORT=$(random_port); done

# json log lines: start waits on the JSON form of node.started
start_json() {
    local n=$1; shift
    RUNS[$n]=$((${RUNS[$n]:-0} + 1))
    "$BIN" serve --dir "$T/$n" "$@" 2>"$T/$n.${RUNS[$n]}.log" &
    PID[$n]=$!
    wait_until 30 grep -q '"event":"node.started"' "$T/$n.${RUNS[$n]}.log" || bad "node $n did not start"
}
start_json nat --log-format json --metrics-listen "127.0.0.1:$MPORT"
start prov || exit 1
check "province linked to the national node" wait_until 20 link_open prov VN

# ---- logs -------------------------------------------------------------------
check "json log: every line is one JSON object with ts, level, event" \
    jq -e -s 'length > 3 and all(.[]; (.ts | type) == "string" and (.level | type) == "string" and (.event | type) == "string")' "$(log_of nat)"
check "json log: numbers stay numbers" jq -e -s 'any(.[]; .event == "node.started" and (.entries | type) == "number")' "$(log_of nat)"
check "default log stays logfmt" grep -q '^ts=.* level=info event=node.started unit=40' "$(log_of prov)"
check "startup log: the first start says so" grep -q 'event=node.recovery clean_shutdown=first_start' "$(log_of prov)"
"$BIN" serve --dir "$T/c1" --log-format xml >/dev/null 2>"$T/out"
check "a bad --log-format is refused (exit 2)" test $? -eq 2
check "... naming the choices" grep -q "logfmt or json" "$T/out"

# ---- metrics ------------------------------------------------------------------
ADM=$(mk nat boss admin VN)
VIEW=$(mk nat watcher viewer VN)
for i in 1 2 3; do curl -sf "http://127.0.0.1:${PORT[nat]}/api/v1/health" >/dev/null; done
scrape() { # scrape OUT: the admin's GET /metrics into OUT, checked, samples into OUT.json
    curl -sf -H "Authorization: Bearer $ADM" "http://127.0.0.1:${PORT[nat]}/metrics" >"$1" &&
        python3 "$SRC/tests/prom_check.py" "$1" >"$1.json"
}
value() { # value FILE.json NAME [JQ-LABEL-FILTER]: the sum of the matching samples
    jq -s --arg n "$2" "[.[] | select(.name == \$n) | select(${3:-true}) | .value] | add // 0" "$1"
}
check "GET /metrics for an admin passes the format check" scrape "$T/m1"
check "content type is Prometheus text 0.0.4" bash -c "curl -sI -H 'Authorization: Bearer $ADM' http://127.0.0.1:${PORT[nat]}/metrics | grep -qi 'content-type: text/plain; version=0.0.4'"
for f in entries_applied_total entries_refused replication_link_up replication_lag_entries \
    http_requests_total http_request_duration_seconds lmdb_map_size_bytes lmdb_used_bytes \
    disk_free_bytes threadpool_tasks ffmpeg_probe_jobs ffmpeg_recording_jobs ffmpeg_snapshot_jobs; do
    check "family lienthong_$f described" grep -q "^# TYPE lienthong_$f " "$T/m1"
done
check "health requests counted (3)" test "$(value "$T/m1.json" lienthong_http_requests_total '.labels.route == "/api/v1/health" and .labels.status == "200"')" = 3
check "the link to province 40 is up" test "$(value "$T/m1.json" lienthong_replication_link_up '.labels.peer == "40"')" = 1
check "LMDB map size is positive" test "$(value "$T/m1.json" lienthong_lmdb_map_size_bytes | cut -d. -f1)" -gt 0
code=$(node_req nat GET metrics)
check "no login: 401" test "$code" = 401
code=$(node_req nat GET metrics -H "Authorization: Bearer $VIEW")
check "a viewer: 403" test "$code" = 403

reports "$T/r.jsonl" r 25
"$BIN" import --dir "$T/prov" --collection reports --raw --file "$T/r.jsonl" >/dev/null
check "the national node receives the 25 reports" wait_until 20 has_count nat reports 25
curl -sf "http://127.0.0.1:${PORT[nat]}/api/v1/health" >/dev/null
check "second scrape passes the format check" scrape "$T/m2"
check "entries applied (reports) moved by 25" test "$(value "$T/m2.json" lienthong_entries_applied_total '.labels.collection == "reports"')" = 25
check "health requests moved to 4" test "$(value "$T/m2.json" lienthong_http_requests_total '.labels.route == "/api/v1/health"')" = 4
check "entries received from province 40 moved" test "$(value "$T/m2.json" lienthong_replication_entries_received_total '.labels.peer == "40"')" -ge 25
check "latency histogram counted the health requests" test "$(value "$T/m2.json" lienthong_http_request_duration_seconds_count '.labels.route == "/api/v1/health"')" = 4

curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/m3"
check "--metrics-listen serves /metrics without login" python3 "$SRC/tests/prom_check.py" "$T/m3"
check "... the same families" grep -q '^lienthong_entries_applied_total{collection="reports"} 25' "$T/m3"
check "... and nothing else (404)" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/api/v1/status")" = 404

# ---- the feed -------------------------------------------------------------------
reports "$T/f.jsonl" f 1500
"$BIN" import --dir "$T/nat" --collection reports --raw --file "$T/f.jsonl" >/dev/null
feed() { curl -s -N -H "Authorization: Bearer $ADM" "http://127.0.0.1:${PORT[nat]}/api/v1/feed?$1"; }
# a consumer that stops after 700 lines (the connection is closed mid-stream)
feed "limit=1000000" | head -n 700 >"$T/feed1"
check "the consumer read 700 lines before leaving" test "$(wc -l <"$T/feed1")" -eq 700
cur=$(tail -n 1 "$T/feed1" | jq -r .cursor)
feed "since=$cur&limit=1000000" >"$T/feed2"
cat "$T/feed1" "$T/feed2" >"$T/feed"
check "every feed line is JSON with cursor, collection, id, unit, record" \
    jq -e -s 'all(.[]; (.cursor | type) == "string" and (.collection | type) == "string" and (.id | type) == "string" and (.unit | type) == "string" and (.record | type) == "object")' "$T/feed"
check "cursors strictly increase across the reconnect" \
    jq -e -s '[.[].cursor | tonumber] | . as $c | all(range(1; length); $c[.] > $c[. - 1])' "$T/feed"
jq -r 'select(.collection == "reports") | .id' "$T/feed" | sort >"$T/feed.ids"
cat "$T/r.jsonl" "$T/f.jsonl" | jq -r .id | sort >"$T/written.ids"
check "the feed holds every report written, once (1525)" cmp -s "$T/feed.ids" "$T/written.ids"
check "records carry the written fields" jq -e -s 'any(.[]; .id == "f-7" and .record.title == "Phản ánh 7")' "$T/feed"
check "limit bounds the lines" test "$(feed "limit=5" | wc -l)" -eq 5
last=$(tail -n 1 "$T/feed" | jq -r .cursor)
check "from the last cursor there is nothing new" test "$(feed "since=$last" | wc -l)" -eq 0
code=$(node_req nat GET "api/v1/feed?since=abc" -H "Authorization: Bearer $ADM")
check "a bad cursor: 400 feed.cursor" bash -c "[ $code = 400 ] && jq -e '.error.code == \"feed.cursor\"' '$T/body' >/dev/null"
code=$(node_req nat GET "api/v1/feed" -H "Authorization: Bearer $VIEW")
check "the feed is for admins: 403 for a viewer" test "$code" = 403

# ---- power loss, then a clean stop ------------------------------------------------
kill -9 "${PID[prov]}"
wait "${PID[prov]}" 2>/dev/null
PID[prov]=
start prov || exit 1
check "after kill -9 the startup log says the stop was not clean" \
    grep -q 'level=warn event=node.recovery clean_shutdown=false .*last_txn=[1-9]' "$(log_of prov)"
stop prov
check "a clean stop is recorded" jq -e '.state == "stopped" and .txn > 0' "$T/prov/shutdown.json"
"$BIN" serve --dir "$T/prov" --log-level warn 2>"$T/prov.quiet.log" &
PID[prov]=$!
check "with --log-level warn the node still serves" wait_until 20 curl -sf "http://127.0.0.1:${PORT[prov]}/api/v1/health"
stop prov
check "... and wrote no info lines" bash -c "! grep -q 'level=info' '$T/prov.quiet.log'"
start prov || exit 1
check "after a clean stop the startup log says clean_shutdown=true" \
    grep -q 'level=info event=node.recovery clean_shutdown=true' "$(log_of prov)"

finish
