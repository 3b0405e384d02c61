#!/usr/bin/env bash
# Indicators across real nodes over four tiers (national VN, province 40,
# district 412, communes 16681 and 16684): the province's admin defines
# indicators and every commune gets them; a commune's admin may not;
# values entered at a commune and by the district on a commune's behalf
# roll up to the district, the province and the nation; commune 16684 is
# offline for the whole month, shows as missing at every tier, catches up,
# and every tier corrects itself; a correction after the lock day needs a
# leader, whose approval is recorded; bad input (unknown indicator, wrong
# period, non-numeric value) is refused with its code and nothing stored;
# CSV import (BOM, semicolons, decimal comma; a bad row names its row and
# column and stores nothing), template and CSV export; `lienthong
# indicators import` (exit 2 on a bad file); `lienthong import --collection
# ind_values` with the same checks (a bad line names the record, nothing
# stored), its export round trip; pins: the province's admin
# pins HH for its subtree (the district sees it pinned, the nation not), a
# commune's admin may not, and a redefinition keeps the pin.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
for n in nat prov dist c1; do start "$n" || exit 1; done

PA=$(mk prov padmin admin 40)
PV=$(mk prov pv viewer 40)
NV=$(mk nat nv viewer VN)
CA=$(mk c1 cadmin admin 16681)
C1S=$(mk c1 lan staff 16681)
C2S=$(mk c2 hoa staff 16684)
DS=$(mk dist minh staff 412)
DL=$(mk dist chi leader 412)
DV=$(mk dist dv viewer 412)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body, headers in $T/head; prints the HTTP code
    curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' --max-time 10 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
code_is() { jq -e --arg c "$1" '.error.code == $c' "$T/body" >/dev/null; }
value_is() { # value_is NODE TOKEN INDICATOR UNIT PERIOD NUMBER (to 1e-9)
    [ "$(call GET "$1" "$2" "indicators/$3/values?unit=$4&from=$5&to=$5")" = 200 ] &&
        jq -e --argjson v "$6" '.rows[0].value != null and ((.rows[0].value - $v) | fabs) < 1e-9' "$T/body" >/dev/null
}
received_is() { # received_is NODE TOKEN UNIT N
    [ "$(call GET "$1" "$2" "completeness?indicator=POOR&period=2026-11&unit=$3")" = 200 ] &&
        jq -e --argjson n "$4" '.received == $n' "$T/body" >/dev/null
}
held() { count "$1" ind_values; }

POOR='{"name_vi":"Số hộ nghèo","name_en":"Poor households","measure":"hộ","period":"month",
       "aggregation":"sum","tiers":["commune"],"due_days":10,"lock_days":300}'
HH='{"name_vi":"Số hộ dân","name_en":"Households","measure":"hộ","period":"month",
     "tiers":["commune"],"due_days":0,"lock_days":0}'
RATE='{"name_vi":"Tỉ lệ hộ nghèo","name_en":"Poverty rate","measure":"%","period":"month",
       "numerator":"POOR","denominator":"HH","factor":100}'
check "no login: 401" test "$(call PUT prov x indicators/POOR "$POOR")" = 401
check "a commune's admin may not define an indicator (403)" \
    test "$(call PUT c1 "$CA" indicators/POOR "$POOR")" = 403
check "...code indicator.forbidden" code_is indicator.forbidden
check "a bad aggregation: 400" \
    test "$(call PUT prov "$PA" indicators/POOR '{"name_vi":"x","period":"month","aggregation":"median","tiers":["commune"]}')" = 400
check "the province's admin defines POOR" test "$(call PUT prov "$PA" indicators/POOR "$POOR")" = 200
check "...answered with the definition" jq -e '.code == "POOR" and .counts_tier == "commune"' "$T/body"
check "...and HH" test "$(call PUT prov "$PA" indicators/HH "$HH")" = 200
check "...and the computed poverty rate" test "$(call PUT prov "$PA" indicators/RATE "$RATE")" = 200
check "a rate over an unknown denominator: 404" \
    test "$(call PUT prov "$PA" indicators/BAD '{"name_vi":"x","period":"month","numerator":"POOR","denominator":"NOPE"}')" = 404
defined_at() { [ "$(call GET "$1" "$2" indicators)" = 200 ] &&
    jq -e '[.indicators[].code] | contains(["POOR","HH","RATE"])' "$T/body" >/dev/null; }
check "the definitions reach the commune" wait_until 30 defined_at c1 "$C1S"
check "...and the commune's refused definition stored nothing: every definition entry it holds is the province's" \
    bash -c "'$BIN' log --dir '$T/c1' --collection indicators --json | jq -se 'length >= 3 and all(.[]; .unit == \"40\")'"
check "...and the province stored no BAD indicator (refused: unknown denominator)" \
    bash -c "'$BIN' log --dir '$T/prov' --collection indicators | grep -q 'indicators/POOR' && ! '$BIN' log --dir '$T/prov' --collection indicators | grep -q 'indicators/BAD'"
check "...and the national node" wait_until 30 defined_at nat "$NV"
check "...with the operational indicators of reports" jq -e 'any(.indicators[]; .code == "RPT.RECEIVED" and .live)' "$T/body"

# commune 16684 is offline for the whole of October: 16681 reports, the district enters HH for both
check "the commune enters its poor households" \
    test "$(call PUT c1 "$C1S" indicators/POOR/values/16681/2026-11 '{"value":120.5,"comment":"điều tra tháng 10"}')" = 200
check "...answered with the value and its history" \
    jq -e '.value == 120.5 and .by == "lan" and (.history | length) == 1 and .on_behalf == false' "$T/body"
check "the district enters HH for 16681 on its behalf" \
    test "$(call PUT dist "$DS" indicators/HH/values/16681/2026-11 '{"value":1000}')" = 200
check "...recorded as on behalf" jq -e '.on_behalf == true and .by_unit == "412"' "$T/body"
check "...and for 16684" test "$(call PUT dist "$DS" indicators/HH/values/16684/2026-11 '{"value":900}')" = 200
check "the province sees 120.5 poor households" wait_until 30 value_is prov "$PV" POOR 40 2026-11 120.5
check "...1 of 2 communes reported" jq -e '.rows[0].reported == 1 and .rows[0].expected == 2' "$T/body"
check "the province's completeness names 16684 as missing" \
    test "$(call GET prov "$PV" 'completeness?indicator=POOR&period=2026-11&unit=40')" = 200
check "...expected 2, received 1, rate 0.5" \
    jq -e '.expected == 2 and .received == 1 and .received_rate == 0.5 and .missing == [{"unit":"16684","name":"Xã Nghi Liên"}]' "$T/body"
check "...drill-down: district 412 has 1 of 2" jq -e '.children == [{"unit":"412","name":"Thành phố Vinh","expected":2,"received":1,"on_time":1}]' "$T/body"
check "the national node sees the same" wait_until 30 value_is nat "$NV" POOR VN 2026-11 120.5
check "...and 16684 missing there too" \
    test "$(call GET nat "$NV" 'completeness?indicator=POOR&period=2026-11&unit=VN')" = 200
check "...." jq -e '.missing[0].unit == "16684" and .received == 1' "$T/body"

# bad input: a clear error with its code, nothing stored
check "the district's HH entry reached the commune (nothing else in flight)" \
    wait_until 30 has_record c1 ind_values HH/16681/2026-11
BEFORE=$(held c1)
check "unknown indicator: 404" test "$(call PUT c1 "$C1S" indicators/NOPE/values/16681/2026-11 '{"value":1}')" = 404
check "...indicator.unknown" code_is indicator.unknown
check "wrong period: 400" test "$(call PUT c1 "$C1S" indicators/POOR/values/16681/2026-13 '{"value":1}')" = 400
check "...indicator.period" code_is indicator.period
check "...saying how periods are written" grep -q '2026-11' "$T/body"
check "a quarter for a monthly indicator: 400" test "$(call PUT c1 "$C1S" indicators/POOR/values/16681/2026-Q3 '{"value":1}')" = 400
check "non-numeric value: 400" test "$(call PUT c1 "$C1S" indicators/POOR/values/16681/2026-10 '{"value":"nhiều"}')" = 400
check "...indicator.value" code_is indicator.value
check "a computed indicator takes no values: 400" test "$(call PUT c1 "$C1S" indicators/RATE/values/16681/2026-10 '{"value":1}')" = 400
check "another commune's value: 403" test "$(call PUT c1 "$C1S" indicators/POOR/values/16684/2026-10 '{"value":1}')" = 403
check "a viewer may not enter: 403" test "$(call PUT dist "$DV" indicators/POOR/values/16684/2026-10 '{"value":1}')" = 403
check "a good value after the refusals (barrier)" \
    test "$(call PUT c1 "$C1S" indicators/POOR/values/16681/2026-10 '{"value":110}')" = 200
check "...only it was stored" test "$(held c1)" -eq $((BEFORE + 1))

# the offline commune catches up; every tier corrects itself
start c2 || exit 1
check "16684 enters its October figure late" \
    test "$(call PUT c2 "$C2S" indicators/POOR/values/16684/2026-11 '{"value":80}')" = 200
check "the district sums both" wait_until 30 value_is dist "$DV" POOR 412 2026-11 200.5
check "the province corrects itself" wait_until 30 value_is prov "$PV" POOR 40 2026-11 200.5
check "the nation too" wait_until 30 value_is nat "$NV" POOR VN 2026-11 200.5
check "the province's completeness: 2 of 2" wait_until 30 received_is prov "$PV" 40 2
check "...nothing missing" jq -e '.missing == [] and .received_rate == 1' "$T/body"
check "per child at the district: both communes" \
    test "$(call GET dist "$DV" 'indicators/POOR/values?unit=412&from=2026-11&to=2026-11&by=child')" = 200
check "...120.5 and 80" jq -e '[.rows[] | [.unit, .value]] == [["16681",120.5],["16684",80]]' "$T/body"
check "the poverty rate at the province: 100 x 200.5 / 1900" wait_until 30 value_is prov "$PV" RATE 40 2026-11 10.552631578947368
check "over time (by=unit) at the province: September and October" \
    test "$(call GET prov "$PV" 'indicators/POOR/values?unit=40&from=2026-10&to=2026-11&by=unit')" = 200
check "...310.5 (POOR sums across months; October's was late)" jq -e '.rows == [{"unit":"40","name":"Tỉnh Nghệ An","period":"2026-10..2026-11","value":310.5,"reported":3,"expected":4,"on_time":2}]' "$T/body"

# a correction: the commune lowers its figure, every tier follows
check "16681 corrects October to 100" \
    test "$(call PUT c1 "$C1S" indicators/POOR/values/16681/2026-11 '{"value":100,"comment":"rà soát lại"}')" = 200
check "...two history items" jq -e '[.history[].value] == [120.5, 100]' "$T/body"
check "the province follows the correction" wait_until 30 value_is prov "$PV" POOR 40 2026-11 180
check "the nation too" wait_until 30 value_is nat "$NV" POOR VN 2026-11 180

# after the lock day (HH: lock_days 0) a correction needs a leader
check "staff correcting a locked value: 409" \
    test "$(call PUT dist "$DS" indicators/HH/values/16681/2026-11 '{"value":1100}')" = 409
check "...indicator.locked" code_is indicator.locked
check "...naming who may" grep -q 'leader' "$T/body"
check "the district's leader approves the correction" \
    test "$(call PUT dist "$DL" indicators/HH/values/16681/2026-11 '{"value":1100}')" = 200
check "...recorded" jq -e '.history[-1].approved_by == "chi" and .value == 1100' "$T/body"
check "the province's rate follows: 100 x 180 / 2000" wait_until 30 value_is prov "$PV" RATE 40 2026-11 9

# CSV: BOM, semicolons, decimal comma; all or nothing
printf '\xef\xbb\xbfindicator;unit;period;value;comment\r\nPOOR;16681;2026-08;"95,5";"ghi chú; có dấu chấm phẩy"\r\nPOOR;16684;2026-08;1.204,25;\r\n' >"$T/good.csv"
printf 'indicator,unit,period,value,comment\nPOOR,16681,2026-07,10,\nPOOR,16684,2026-07,abc,\n' >"$T/bad.csv"
csv_post() { # csv_post NODE TOKEN FILE
    curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' --max-time 30 -X POST \
        -H "Authorization: Bearer $2" -H 'Content-Type: text/csv' --data-binary "@$3" \
        "http://127.0.0.1:${PORT[$1]}/api/v1/indicators/values.csv"
}
BEFORE=$(held dist)
check "a file with a bad row: 400" test "$(csv_post dist "$DS" "$T/bad.csv")" = 400
check "...naming row 3 and column value" grep -q 'row 3, column value' "$T/body"
check "...indicator.csv" code_is indicator.csv
check "the district imports a semicolon file with decimal commas" test "$(csv_post dist "$DS" "$T/good.csv")" = 200
check "...2 written" jq -e '.written == 2 and .unchanged == 0' "$T/body"
check "...only those were stored (the bad file stored nothing)" test "$(held dist)" -eq $((BEFORE + 2))
check "...rerun: 2 unchanged" test "$(csv_post dist "$DS" "$T/good.csv")" = 200
check "...." jq -e '.written == 0 and .unchanged == 2' "$T/body"
check "the province sees 95.5 + 1204.25" wait_until 30 value_is prov "$PV" POOR 40 2026-08 1299.75
check "the comment kept its semicolon" \
    test "$(call GET dist "$DV" indicators/POOR/values/16681/2026-08)" = 200
check "...." jq -e '.comment == "ghi chú; có dấu chấm phẩy"' "$T/body"
check "the template of October for the district" \
    test "$(call GET dist "$DV" 'indicators/POOR/template.csv?unit=412&period=2026-11')" = 200
check "...the header and both communes with their figures" \
    test "$(tr -d '\r' <"$T/body")" = "$(printf 'indicator,unit,period,value,comment\nPOOR,16681,2026-11,100,rà soát lại\nPOOR,16684,2026-11,80,')"
check "CSV export of the per-child table (Accept: text/csv)" \
    test "$(curl -s --max-time 10 -H "Authorization: Bearer $PV" -H 'Accept: text/csv' \
        "http://127.0.0.1:${PORT[prov]}/api/v1/indicators/POOR/values?unit=40&from=2026-11&to=2026-11&by=child" | tr -d '\r')" \
        = "$(printf 'unit,name,period,value,reported,expected,on_time\n412,Thành phố Vinh,2026-11,180,2,2,2')"
check "completeness as CSV (.csv)" \
    test "$(call GET prov "$PV" 'completeness.csv?indicator=POOR&period=2026-11&unit=40')" = 200
check "...." grep -q '^412,Thành phố Vinh,2,2,2' "$T/body"
check "a viewer of the district may not see the province's figures: 403" \
    test "$(call GET dist "$DV" 'indicators/POOR/values?unit=40')" = 403

# lienthong indicators import into a node's directory
printf 'indicator,unit,period,value\nPOOR,16681,2026-06,70\nPOOR,16684,2026-06,30\n' >"$T/cli.csv"
check "lienthong indicators import stores the file" \
    "$BIN" indicators import --dir "$T/dist" --file "$T/cli.csv"
check "the province sees the imported June" wait_until 30 value_is prov "$PV" POOR 40 2026-06 100
"$BIN" indicators import --dir "$T/dist" --file "$T/bad.csv" 2>"$T/err"
check "a bad file: the CLI exits 2 (its input was wrong)" test $? -eq 2
check "...row 3, column value" grep -q 'row 3, column value' "$T/err"
printf 'indicator,unit,period,value\nPOOR,40,2026-06,5\n' >"$T/above.csv"
check "a row of a unit above the node: exit code 1 (forbidden, not bad input)" \
    bash -c "'$BIN' indicators import --dir '$T/dist' --file '$T/above.csv' 2>'$T/err'; test \$? -eq 1"
check "...saying where to enter it" grep -q 'unit 40 is not served by this node' "$T/err"

# lienthong import --collection ind_values: the checks of the CSV rows, per record
imp() { # imp FILE: lienthong import into the district; stdout in $T/out, stderr in $T/err, prints the exit code
    "$BIN" import --dir "$T/dist" --collection ind_values --file "$1" >"$T/out" 2>"$T/err"
    echo $?
}
GOOD1='{"indicator":"POOR","unit":"16681","period":"2026-05","value":41.5,"comment":"nhập từ hệ thống cũ"}'
GOOD2='{"indicator":"POOR","unit":"16684","period":"2026-05","value":"8,5"}'
BEFORE=$(held dist)
bad_import() { # bad_import NAME LINE EXIT PATTERN: a file of GOOD1 then LINE is refused, naming line 2
    printf '%s\n%s\n' "$GOOD1" "$2" >"$T/imp.jsonl"
    check "import: $1: exit $3" test "$(imp "$T/imp.jsonl")" = "$3"
    check "...naming line 2 and the record" grep -q "line 2.*$4" "$T/err"
    check "...and nothing stored" test "$(held dist)" -eq "$BEFORE"
}
bad_import "an unknown indicator" '{"indicator":"NOPE","unit":"16681","period":"2026-05","value":1}' 1 \
    'field "indicator": record NOPE/16681/2026-05: .*NOPE'
bad_import "a wrong period" '{"indicator":"POOR","unit":"16681","period":"2026-13","value":1}' 2 \
    'field "period": record POOR/16681/2026-13: .2026-13. is not a month'
bad_import "a non-numeric value" '{"indicator":"POOR","unit":"16681","period":"2026-04","value":"abc"}' 2 \
    'field "value": record POOR/16681/2026-04: the value .abc. is not a number'
bad_import "a unit the node does not serve" '{"indicator":"POOR","unit":"40","period":"2026-05","value":1}' 1 \
    'field "unit": record POOR/40/2026-05: unit 40 is not served by this node'
bad_import "a tier that does not report it" '{"indicator":"POOR","unit":"412","period":"2026-05","value":1}' 2 \
    'field "unit": record POOR/412/2026-05: unit 412 is a district'
bad_import "a field of no value line" '{"indicator":"POOR","unit":"16681","period":"2026-03","value":1,"by":"x"}' 2 \
    'field "by": not a field of a value line'
printf '%s\n%s\n' "$GOOD1" "$GOOD2" >"$T/imp.jsonl"
check "import: two good lines (a number and a decimal comma) are written" test "$(imp "$T/imp.jsonl")" = 0
check "...2 imported" grep -q 'imported 2, unchanged 0' "$T/out"
check "...only those were stored" test "$(held dist)" -eq $((BEFORE + 2))
check "the province sees 41.5 + 8.5 for May" wait_until 30 value_is prov "$PV" POOR 40 2026-05 50
check "...recorded as entered by import at the district, for the commune" bash -c \
    "curl -s -H 'Authorization: Bearer $DV' http://127.0.0.1:${PORT[dist]}/api/v1/indicators/POOR/values/16681/2026-05 |
     jq -e '.by == \"import\" and .by_unit == \"412\" and .on_behalf == true and .comment == \"nhập từ hệ thống cũ\"'"
check "a rerun writes nothing" test "$(imp "$T/imp.jsonl")" = 0
check "...2 unchanged" grep -q 'imported 0, unchanged 2' "$T/out"
"$BIN" export --dir "$T/dist" --collection ind_values >"$T/exp.jsonl"
check "export gives import lines without the history" \
    jq -se 'any(.[]; .id == "POOR/16681/2026-05" and .value == 41.5 and .unit == "16681" and .period == "2026-05") and all(.[]; keys - ["id","indicator","unit","period","value","comment"] == [])' "$T/exp.jsonl"
check "...which import again unchanged" test "$(imp "$T/exp.jsonl")" = 0
check "...." grep -q 'imported 0, unchanged' "$T/out"

# pins: a top-tier admin chooses the tiles of the tiers below
pinned_at() { # pinned_at NODE TOKEN UNIT CODE true|false
    [ "$(call GET "$1" "$2" "indicators?unit=$3")" = 200 ] &&
        jq -e --arg c "$4" --argjson p "$5" '.indicators[] | select(.code == $c) | .pinned == $p' "$T/body" >/dev/null
}
check "HH is not pinned at the district" pinned_at dist "$DV" 412 HH false
check "a commune's admin may not pin (403)" test "$(call PUT c1 "$CA" indicators/HH/pinned '{"pinned":true}')" = 403
check "...indicator.forbidden" code_is indicator.forbidden
check "a body without pinned: 400" test "$(call PUT prov "$PA" indicators/HH/pinned '{"pin":1}')" = 400
check "...indicator.definition" code_is indicator.definition
check "an unknown indicator: 404" test "$(call PUT prov "$PA" indicators/NOPE/pinned '{"pinned":true}')" = 404
check "the province's admin pins HH" test "$(call PUT prov "$PA" indicators/HH/pinned '{"pinned":true}')" = 200
check "...answered with the definition, pinned by 40" jq -e '.pinned == true and .pins["40"] == true' "$T/body"
check "the district's dashboard gets it pinned" wait_until 30 pinned_at dist "$DV" 412 HH true
nat_has_pin() { [ "$(call GET nat "$NV" indicators/HH)" = 200 ] && jq -e '.pins["40"] == true' "$T/body" >/dev/null; }
check "the pin reaches the national node" wait_until 30 nat_has_pin
check "...where the nation's dashboard does not pin it (the province chose for its subtree)" \
    pinned_at nat "$NV" VN HH false
check "redefining HH keeps the province's pin" test "$(call PUT prov "$PA" indicators/HH "$HH")" = 200
check "...." jq -e '.pinned == true and .pins["40"] == true' "$T/body"

for n in nat prov dist c1 c2; do check "node $n stops cleanly" stop "$n"; done
finish
