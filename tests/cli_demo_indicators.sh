#!/usr/bin/env bash
# The demo's indicators (issue 14): `lienthong demo` on free ports, then,
# at the province's node, the framework the national tier would issue (the
# DTI's three pillars of 7 indicators each, the documents' shares, a few
# socio-economic indicators), the articles' figures (95.32% of last month's
# documents exchanged electronically, 82.35% signed; citizens' satisfaction
# about 76/12/12), and 24 months of values with some late and some missing.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

BASE=
for _ in $(seq 1 50); do
    b=$(random_port)
    port_free "$b" && port_free $((b + 1)) && port_free $((b + 2)) && port_free $((b + 3)) && { BASE=$b; break; }
done
[ -n "$BASE" ] || { echo "FAIL: no four free ports" >&2; exit 1; }
"$BIN" demo --dir "$T/demo" --base-port "$BASE" >"$T/demo.log" 2>&1 &
DEMO_PID=$!
trap 'kill -INT $DEMO_PID 2>/dev/null; wait $DEMO_PID 2>/dev/null; repl_cleanup' EXIT
up() { curl -sf --max-time 2 "http://127.0.0.1:$BASE/api/v1/health" >/dev/null; }
check "the demo's province answers" wait_until 120 up
TOK=$("$BIN" token --dir "$T/demo/40" --user admin)
get() { # get PATH: the province's answer in $T/body, true on 200
    [ "$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOK" \
        "http://127.0.0.1:$BASE/api/v1/$1")" = 200 ]
}
LAST=$(TZ=Asia/Ho_Chi_Minh date -d "$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-01) -1 day" +%Y-%m)
FIRST=$(TZ=Asia/Ho_Chi_Minh date -d "${LAST}-01 -23 months" +%Y-%m)

check "the framework: 7 DTI indicators in each of the three pillars" get indicators
check "...." jq -e '[.indicators[] | select(.group // "" | startswith("dti.")) | .group] | group_by(.) | map(length) == [7,7,7]' "$T/body"
check "...the documents' shares, computed" \
    jq -e '[.indicators[] | select(.code == "DOC.ELEC_PCT" or .code == "DOC.SIGNED_PCT") | select(.computed)] | length == 2' "$T/body"
check "...and socio-economic indicators" jq -e '[.indicators[] | select(.group == "socio")] | length >= 3' "$T/body"
value_is() { # value_is CODE PERIOD NUMBER: the province's figure, to 0.005
    get "indicators/$1/values?unit=40&from=$2&to=$2" &&
        jq -e --argjson v "$3" '.rows[0].value != null and ((.rows[0].value - $v) | fabs) < 0.005' "$T/body" >/dev/null
}
check "last month's documents exchanged electronically: 95.32% (the communes' values reached the province)" \
    wait_until 60 value_is DOC.ELEC_PCT "$LAST" 95.32
check "...signed: 82.35%" value_is DOC.SIGNED_PCT "$LAST" 82.35
check "the DTI: the province's score of every pillar indicator this year or last" get "indicators/DTI.GOV.1/values?unit=40&from=${LAST%-*}&to=${LAST%-*}"
check "...a score between 0 and 1" jq -e '.rows[0].value > 0 and .rows[0].value < 1' "$T/body"
check "24 months of poor households at the province" get "indicators/POOR_HH/values?unit=40&from=$FIRST&to=$LAST"
check "...one row a month, nearly all with a figure" \
    jq -e '(.rows | length) == 24 and ([.rows[] | select(.value != null)] | length) >= 22' "$T/body"
check "...some missing (reported below expected)" jq -e '[.rows[] | .expected - .reported] | add > 0' "$T/body"
check "...some late (on time below reported)" jq -e '[.rows[] | .reported - .on_time] | add > 0' "$T/body"
check "last month, commune 16684 has not reported its socio-economic figures" \
    get "completeness?indicator=POOR_HH&period=$LAST&unit=40"
check "...." jq -e '[.missing[].unit] | index("16684") != null' "$T/body"
check "citizens' satisfaction about 76/12/12" get "reports/stats?unit=40"
check "...." jq -e '.satisfaction as $s | ($s.satisfied + $s.acceptable + $s.unsatisfied) as $n |
    $n > 0 and ($s.satisfied / $n) > 0.6 and ($s.satisfied / $n) < 0.9 and $s.acceptable > 0 and $s.unsatisfied > 0' "$T/body"
check "...and RPT.SATISFIED gives the share of a month" get "indicators/RPT.SATISFIED/values?unit=40&from=$LAST&to=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m)"
check "...." jq -e '[.rows[].value | select(. != null)] | length > 0 and all(. > 0 and . <= 100)' "$T/body"
kill -INT $DEMO_PID
check "the demo stops every node on Ctrl-C" wait_until 30 bash -c "! kill -0 $DEMO_PID 2>/dev/null"
finish
