#!/usr/bin/env bash
# `lienthong import --collection reports` through the reports domain, on a
# running district node: 5,000 Open311-named lines become reports that the
# list, the statistics, the dashboard's map points and the public map show;
# a bad line (3,127) stores nothing, is named with its field and exits 2
# (the input was wrong: lib/error.h's table); a rerun
# writes nothing; --skip-bad leaves the bad line out; imported codes of the
# node's own form raise its code counter; export reads back unchanged.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
start dist || exit 1
DV=$(mk dist dview viewer 412)
DS=$(mk dist dstaff staff 412)
get() { # get TOKEN PATH: body in $T/body, prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $1" \
        "http://127.0.0.1:${PORT[dist]}/api/v1/$2"
}
entries() { "$BIN" status --dir "$T/dist" --json | jq .entries; }
imp() { "$BIN" import --dir "$T/dist" --collection reports "$@" >"$T/out" 2>"$T/err"; }

# lines FILE PREFIX: 5,000 Open311 lines received over the last ten days,
# every other one closed with an answer, none with a title.
DAYS=$(for d in $(seq 1 10); do date -d "$d days ago" +%Y-%m-%d; done | tr '\n' ' ')
lines() {
    awk -v p="$2" -v days="$DAYS" 'BEGIN {
        split(days, day, " "); split("traffic environment construction public_order", cat, " ")
        for (i = 1; i <= 5000; i++) {
            st = i % 2 ? "open" : "closed"
            notes = i % 2 ? "" : ", \"status_notes\": \"Đã xử lý xong\""
            printf "{\"service_request_id\": \"%s-%d\", \"service_code\": \"%s\", \"description\": \"Đường ngập nước sau mưa số %d, cống thoát nước bị tắc\", \"lat\": %.4f, \"long\": %.4f, \"address\": \"Số %d Lê Lợi\", \"requested_datetime\": \"%sT%02d:%02d:00+07:00\", \"status\": \"%s\"%s}\n",
                p, i, cat[i % 4 + 1], i, 18.6 + (i % 100) / 1000, 105.6 + (i % 97) / 1000, i,
                day[i % 10 + 1], 8 + i % 9, i % 60, st, notes
        }
    }' >"$1"
}
lines "$T/old.jsonl" OLD

# ---- 5,000 lines ------------------------------------------------------------
before=$(entries)
t0=$(now)
imp --file "$T/old.jsonl"
check "5,000 Open311 lines import" test $? -eq 0
echo "import of 5,000 reports took $(since "$t0") s"
check "...all of them" grep -qx 'imported 5000, unchanged 0, skipped 0 bad lines into reports' "$T/out"
check "...in under 30 s" awk -v s="$(since "$t0")" 'BEGIN { exit !(s < 30) }'
check "...one entry each" test "$(entries)" -eq $((before + 5000))
check "the statistics count them" test "$(get "$DV" reports/stats)" = 200
check "...5,000: 2,500 received, 2,500 closed" \
    jq -e '.total == 5000 and .by_status.received == 2500 and .by_status.closed == 2500' "$T/body"
check "...by category" jq -e '.by_category.traffic == 1250 and .by_category.public_order == 1250' "$T/body"
check "...the closed ones as resolved" jq -e '.processed == 2500' "$T/body"
# every page of the list
: >"$T/ids"
cursor=
for _ in $(seq 1 40); do
    get "$DV" "reports?limit=200${cursor:+&cursor=$cursor}" >/dev/null
    jq -r '.reports[].id' "$T/body" >>"$T/ids"
    cursor=$(jq -r '.next // empty' "$T/body")
    [ -z "$cursor" ] && break
done
check "GET /api/v1/reports lists the 5,000" test "$(sort -u "$T/ids" | grep -c '^OLD-')" -eq 5000
check "the dashboard's map points (reports?limit=200)" test "$(get "$DV" 'reports?limit=200')" = 200
check "...are imported reports with coordinates" \
    jq -e '(.reports | length) == 200 and all(.reports[]; (.id | startswith("OLD-")) and (.lat | type) == "number" and (.lon | type) == "number")' "$T/body"
check "the public map shows the closed ones" \
    sh -c "curl -sf --max-time 10 'http://127.0.0.1:${PORT[dist]}/api/v1/public/map' | jq -e '(.features | length) > 0 and all(.features[]; .properties.code | startswith(\"OLD-\"))'"
check "one report" test "$(get "$DS" reports/OLD-2)" = 200
received=$(($(date -d "$(echo "$DAYS" | cut -d' ' -f3)T10:02:00+07:00" +%s) * 1000))
check "...keeps its receipt time, status and answer" \
    jq -e --argjson t "$received" '.created_ms == $t and .status == "closed" and .answer == "Đã xử lý xong"' "$T/body"
check "...its title is the start of its description" \
    jq -e '.title == "Đường ngập nước sau mưa số 2, cống thoát nước bị tắc" and .category == "construction"' "$T/body"
check "...its history: create, then the imported state" \
    jq -e '[.history[] | .action + ":" + .to] == ["create:new", "import:closed"]' "$T/body"
check "an open one is received, with an owner and a deadline from its category" \
    test "$(get "$DS" reports/OLD-1)" = 200
check "...received at its receipt time" \
    jq -e '.status == "received" and .owner_unit == "412" and .received_ms == .created_ms and .deadline_ms > .created_ms' "$T/body"

# ---- a rerun writes nothing --------------------------------------------------
before=$(entries)
imp --file "$T/old.jsonl"
check "a rerun succeeds" test $? -eq 0
check "...and imports none" grep -qx 'imported 0, unchanged 5000, skipped 0 bad lines into reports' "$T/out"
check "...no entry written" test "$(entries)" -eq "$before"

# ---- one bad line -------------------------------------------------------------
sed -e 's/OLD-/NEW-/' -e '3127s/"service_code": "[a-z_]*"/"service_code": "xyz"/' "$T/old.jsonl" >"$T/bad.jsonl"
imp --file "$T/bad.jsonl"
check "a file with a bad line fails with exit code 2 (its input was wrong)" test $? -eq 2
check "...naming line 3127 and its field" \
    grep -q 'line 3127: field "service_code": unknown category "xyz" (known: construction, environment, public_order, smart_services, traffic); nothing was imported' "$T/err"
check "...and storing nothing" test "$(entries)" -eq "$before"
check "...none of its reports" test "$(get "$DV" reports/stats)" = 200
check "...(still 5,000)" jq -e '.total == 5000' "$T/body"
printf '{"id": "T-1", "category": "traffic", "lat": 18.6, "long": 105.6}\n' >"$T/notitle.jsonl"
imp --file "$T/notitle.jsonl"
check "a line without title or description is refused (exit code 2)" test $? -eq 2
check "...naming the title" grep -q 'line 1: field "title": title is required' "$T/err"
printf '{"id": "T-2", "title": "a", "category": "traffic", "lat": 18.6, "lon": 105.6}\n{"id": "T-2", "title": "b", "category": "traffic", "lat": 18.6, "lon": 105.6}\n' >"$T/twice.jsonl"
imp --file "$T/twice.jsonl"
check "two lines with one id are refused (exit code 2)" test $? -eq 2
check "...naming both lines" grep -q 'line 2: field "id": the same id as line 1' "$T/err"
check "...and storing nothing" test "$(entries)" -eq "$before"
imp --file "$T/bad.jsonl" --skip-bad
check "--skip-bad imports the rest" test $? -eq 0
check "...counting the skipped line" grep -qx 'imported 4999, unchanged 0, skipped 1 bad lines into reports' "$T/out"
check "...naming it on stderr" grep -q 'skipped line 3127: field "service_code"' "$T/err"
check "...one entry per good line" test "$(entries)" -eq $((before + 4999))
check "...which the statistics count" test "$(get "$DV" reports/stats)" = 200
check "...9,999" jq -e '.total == 9999' "$T/body"

# ---- the node's own codes, and export -----------------------------------------
printf '{"id": "412-40", "title": "Mã của đơn vị", "category": "traffic", "lat": 18.6, "lon": 105.6}\n' >"$T/own.jsonl"
imp --file "$T/own.jsonl"
check "a code of the node's own form imports" grep -qx 'imported 1, unchanged 0, skipped 0 bad lines into reports' "$T/out"
curl -s -o "$T/body" --max-time 10 -H "Authorization: Bearer $DS" -H 'Content-Type: application/json' \
    -d '{"title": "Báo qua điện thoại", "category": "traffic", "lat": 18.6, "lon": 105.6}' \
    "http://127.0.0.1:${PORT[dist]}/api/v1/reports"
check "...and the next report created gets a later number" jq -e '.code == "412-41"' "$T/body"
"$BIN" export --dir "$T/dist" --collection reports >"$T/export.jsonl"
check "export gives a line per report" test "$(wc -l <"$T/export.jsonl")" -eq 10001
check "...with the API's field names" \
    jq -s -e 'map(select(.id == "OLD-2"))[0] | .category == "construction" and .lon > 105 and .unit == "412" and .status == "closed"' "$T/export.jsonl"
before=$(entries)
imp --file "$T/export.jsonl"
check "importing the export changes nothing" grep -qx 'imported 0, unchanged 10001, skipped 0 bad lines into reports' "$T/out"
check "...no entry written" test "$(entries)" -eq "$before"
finish
