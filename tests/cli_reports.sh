#!/usr/bin/env bash
# Field reports across real nodes: a report taken by phone at a commune
# (staff, channel hotline) with a photo; the commune receives it, the
# district (the owner of construction reports) reassigns it to the commune,
# which resolves it; the citizen rates it on the public API; the province
# sees the report, its photo, its history and its statistics; a user of another commune gets 404; an overdue public-order
# report (re-filed, so its deadline moves) is escalated by `lienthong reports sweep` at the district. The
# province's admin enters holidays; the commune gets them. The operational
# indicators RPT.RECEIVED, RPT.PROCESSED, RPT.ON_TIME and RPT.SATISFIED
# equal the test's own count of the province's reports.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
for n in nat prov dist c1 c2; do start "$n" || exit 1; done

C1S=$(mk c1 lan staff 16681)
C1V=$(mk c1 xem viewer 16681)
DL=$(mk dist minh leader 412)
C2D=$(mk dist nga staff 16684)
PV=$(mk prov pv viewer 40)
PA=$(mk prov padmin admin 40)
DA=$(mk dist dadmin admin 412)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body, prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' ${5:+--data-binary "$5"} \
        "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
errcode() { # errcode CODE STATUS: the error body of $T/body has that machine code and status
    jq -e --arg c "$1" --argjson s "$2" '.error.code == $c and .error.status == $s' "$T/body" >/dev/null
}
status_is() { # status_is NODE TOKEN CODE STATUS
    [ "$(call GET "$1" "$2" "reports/$3")" = 200 ] && jq -e --arg s "$4" '.status == $s' "$T/body" >/dev/null
}

python3 -c '
import base64, struct, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + bytes((x * 7 + y) % 256 for x in range(48)) for y in range(32))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 48, 32, 8, 0, 0, 0, 0)) + \
      chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open("'"$T"'/photo.png", "wb").write(png)
print(base64.b64encode(png).decode())' >"$T/photo.b64"

BODY=$(jq -n --rawfile p "$T/photo.b64" '{title: "Xây dựng lấn chiếm vỉa hè", category: "construction",
    lat: 18.67, lon: 105.69, address: "12 Lê Lợi", reporter_name: "Nguyễn Văn A",
    reporter_phone: "0912345678", photos: [{type: "image/png", data: ($p | rtrimstr("\n"))}]}')
check "no login: 401" test "$(call POST c1 x reports "$BODY")" = 401
check "...with the code auth.token_invalid" errcode auth.token_invalid 401
check "a viewer may not take a report (403)" test "$(call POST c1 "$C1V" reports "$BODY")" = 403
check "...with the code auth.role_required" errcode auth.role_required 403
check "unknown category: 400" test "$(call POST c1 "$C1S" reports '{"title":"x","category":"weather","lat":1,"lon":1}')" = 400
check "...saying where to look" grep -q 'GET /api/v1/categories' "$T/body"
check "...with the code report.category_unknown" errcode report.category_unknown 400
check "missing coordinates: 400" test "$(call POST c1 "$C1S" reports '{"title":"x","category":"traffic"}')" = 400
check "a photo that is no image: 400" \
    test "$(call POST c1 "$C1S" reports '{"title":"x","category":"traffic","lat":1,"lon":1,"photos":[{"data":"aGVsbG8="}]}')" = 400
check "staff take the report by phone: 201" test "$(call POST c1 "$C1S" reports "$BODY")" = 201
CODE=$(jq -r .code "$T/body")
CTOK=$(jq -r .token "$T/body")
check "...tracking code of the commune: $CODE" test "$CODE" = 16681-1
check "...and the citizen's token to hand on, with its link" jq -e --arg c "$CODE" '(.token | test("^[A-Za-z0-9_-]{43}$")) and .tracking_url == "/public#/track/\($c)?token=\(.token)"' "$T/body"
check "...channel hotline" jq -e '.channel == "hotline" and .status == "new"' "$T/body"
HASH=$(jq -r '.photos[0].hash' "$T/body")
check "...a 48x32 PNG photo" jq -e '.photos[0].width == 48 and .photos[0].height == 32' "$T/body"
check "categories: five defaults" test "$(call GET c1 "$C1V" categories)" = 200
check "...five" jq -e '.categories | length == 5' "$T/body"

check "...not editable by a commune viewer" jq -e '.editable == false' "$T/body"
check "the district admin is not offered category editing (issue 18, defect 4)" \
    test "$(call GET dist "$DA" categories)" = 200
check "...editable false" jq -e '.editable == false' "$T/body"
check "the province's admin is" test "$(call GET prov "$PA" categories)" = 200
check "...editable true" jq -e '.editable == true' "$T/body"
check "a district admin may not define categories (403)" \
    test "$(call PUT dist "$DA" categories/trees '{"name_vi":"Cây xanh","owner_tier":"commune","deadline_days":2}')" = 403
check "the province's admin adds one" \
    test "$(call PUT prov "$PA" categories/trees '{"name_vi":"Cây xanh","name_en":"Trees","owner_tier":"commune","deadline_days":2}')" = 200
check "...an unknown tier is 400" test "$(call PUT prov "$PA" categories/trees '{"owner_tier":"planet"}')" = 400
has_trees() { [ "$(call GET c1 "$C1V" categories)" = 200 ] && jq -e 'any(.categories[]; .code == "trees")' "$T/body" >/dev/null; }
check "the commune gets the new category" wait_until 30 has_trees

# the holiday calendar: written at the top tiers, replicated to every node
check "holidays need a login (401)" test "$(call GET c1 x 'holidays?year=2026')" = 401
check "a district admin may not enter holidays (403)" \
    test "$(call PUT dist "$DA" holidays/2026-09-02 '{"name_vi":"Quốc khánh"}')" = 403
check "...a viewer may not either (403)" test "$(call PUT prov "$PV" holidays/2026-09-02 '{"name_vi":"Quốc khánh"}')" = 403
check "not a date: 400" test "$(call PUT prov "$PA" holidays/2026-02-30 '{"name_vi":"x"}')" = 400
check "...saying the format" grep -q 'YYYY-MM-DD' "$T/body"
check "an unknown field: 400" test "$(call PUT prov "$PA" holidays/2026-09-02 '{"name_vi":"x","paid":true}')" = 400
check "the province's admin enters National Day" \
    test "$(call PUT prov "$PA" holidays/2026-09-02 '{"name_vi":"Quốc khánh","name_en":"National Day"}')" = 200
check "...answered with the year's calendar, off by default" \
    jq -e '.holidays == [{"date":"2026-09-02","name_vi":"Quốc khánh","name_en":"National Day","off":true}]' "$T/body"
check "...and a compensating working Saturday" \
    test "$(call PUT prov "$PA" holidays/2026-09-05 '{"name_vi":"Làm bù","off":false}')" = 200
check "...and a day entered by mistake" test "$(call PUT prov "$PA" holidays/2026-09-03 '{"name_vi":"Nhầm"}')" = 200
check "...deleted again" test "$(call DELETE prov "$PA" holidays/2026-09-03)" = 200
check "...twice is 404" test "$(call DELETE prov "$PA" holidays/2026-09-03)" = 404
check "a bad year: 400" test "$(call GET prov "$PV" 'holidays?year=26')" = 400
has_holidays() { [ "$(call GET c1 "$C1V" 'holidays?year=2026')" = 200 ] &&
    jq -e '[.holidays[] | [.date, .off]] == [["2026-09-02", true], ["2026-09-05", false]]' "$T/body" >/dev/null; }
check "the commune gets the calendar" wait_until 30 has_holidays
check "...and no other year's" test "$(call GET c1 "$C1V" 'holidays?year=2027')" = 200
check "...empty" jq -e '.holidays == []' "$T/body"

check "the commune receives it" test "$(call POST c1 "$C1S" "reports/$CODE/actions" '{"action":"receive"}')" = 200
check "...the owner is the district (construction)" jq -e '.owner_unit == "412" and .deadline_ms > 0' "$T/body"
check "receiving twice is a 409 naming what is possible" \
    test "$(call POST c1 "$C1S" "reports/$CODE/actions" '{"action":"receive"}')" = 409
check "...allowed" grep -q 'allowed' "$T/body"
check "...with the code report.state_conflict" errcode report.state_conflict 409
check "an unknown report: 404 report.not_found" test "$(call POST c1 "$C1S" "reports/16681-999/actions" '{"action":"receive"}')" = 404 &&
    errcode report.not_found 404
check "the district holds it" wait_until 30 status_is dist "$DL" "$CODE" received
check "a user of another commune on the district node: 404" test "$(call GET dist "$C2D" "reports/$CODE")" = 404
check "the district's leader reassigns it to the commune" \
    test "$(call POST dist "$DL" "reports/$CODE/actions" '{"action":"assign","unit":"16681","note":"xã xử lý"}')" = 200
check "the commune sees the assignment" wait_until 30 status_is c1 "$C1S" "$CODE" assigned
check "the commune starts" test "$(call POST c1 "$C1S" "reports/$CODE/actions" '{"action":"start"}')" = 200
check "resolve without an answer: 400" test "$(call POST c1 "$C1S" "reports/$CODE/actions" '{"action":"resolve"}')" = 400
check "the commune resolves it" \
    test "$(call POST c1 "$C1S" "reports/$CODE/actions" '{"action":"resolve","answer":"Đã tháo dỡ công trình lấn chiếm"}')" = 200
check "staff may not rate (the citizen does): 403" \
    test "$(call POST c1 "$C1S" "reports/$CODE/actions" '{"action":"rate","rating":"satisfied"}')" = 403
check "staff edit the address" test "$(call PATCH c1 "$C1S" "reports/$CODE" '{"address":"14 Lê Lợi"}')" = 200
check "...a viewer may not: 403" test "$(call PATCH c1 "$C1V" "reports/$CODE" '{"address":"x"}')" = 403

pub() { # pub METHOD PATH [BODY]: the public API of c1, no login
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" -H 'Content-Type: application/json' \
        ${3:+--data-binary "$3"} "http://127.0.0.1:${PORT[c1]}/api/v1/public/$2"
}
check "the citizen follows it by its code" test "$(pub GET "reports/$CODE")" = 200
check "...resolved, with the answer and no personal data" \
    jq -e '.status == "resolved" and (.answer | length > 0) and (has("reporter_phone") | not)' "$T/body"
check "the citizen rates it" test "$(pub POST "reports/$CODE/rating?token=$CTOK" '{"rating":"satisfied","comment":"Cảm ơn"}')" = 200
rated() { status_is prov "$PV" "$CODE" resolved && jq -e '.address == "14 Lê Lợi" and .rating == "satisfied"' "$T/body" >/dev/null; }
check "the province sees it resolved, edited and rated" wait_until 30 rated
check "...with its history (create, receive, assign, start, resolve, edit, rate)" \
    jq -e '[.history[].action] == ["create","receive","assign","start","resolve","edit","rate"]' "$T/body"
check "...the assignment by the district's leader" \
    jq -e '.history[2].by == "minh" and .history[2].unit == "412" and .history[2].target == "16681"' "$T/body"
check "...no reporter fields for a viewer" jq -e 'has("reporter_phone") | not' "$T/body"
check "...the answer" jq -e '.answer == "Đã tháo dỡ công trình lấn chiếm"' "$T/body"
photo_ok() {
    curl -s -o "$T/got.png" -D "$T/headers" --max-time 10 -H "Authorization: Bearer $PV" \
        "http://127.0.0.1:${PORT[prov]}/api/v1/reports/$CODE/photos/$HASH" &&
        cmp -s "$T/got.png" "$T/photo.png"
}
check "the province serves the photo, byte for byte" wait_until 30 photo_ok
check "...as image/png" grep -qi '^content-type: image/png' "$T/headers"

check "the province lists it" test "$(call GET prov "$PV" 'reports?status=resolved')" = 200
check "...$CODE" jq -e --arg c "$CODE" '[.reports[].code] == [$c]' "$T/body"
check "the province's statistics count it" test "$(call GET prov "$PV" 'reports/stats?by=child')" = 200
check "...one resolved construction report, rated satisfied" \
    jq -e '.total == 1 and .by_status.resolved == 1 and .by_category.construction == 1 and
           .satisfaction.satisfied == 1' "$T/body"
check "...and the commune among the district's children" \
    test "$(call GET prov "$PV" 'reports/stats?unit=412&by=child')" = 200
check "...with its report" jq -e '[.children[] | select(.unit == "16681")][0].total == 1' "$T/body"

# the reports' operational indicators this month, against the test's own count of the reports
MONTH=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m)
own_reports() { # every report of the province's subtree, one JSON object per line, into $T/own
    [ "$(call GET prov "$PV" 'reports?unit=40&limit=200')" = 200 ] || return 1
    local c
    : >"$T/own"
    for c in $(jq -r '.reports[].code' "$T/body"); do
        [ "$(call GET prov "$PV" "reports/$c")" = 200 ] && jq -c . "$T/body" >>"$T/own" || return 1
    done
}
live_is() { # live_is CODE JQ-EXPR-OF-THE-OWN-REPORTS: the province's figure equals the own count
    local want
    want=$(jq -s "$2" "$T/own") &&
        [ "$(call GET prov "$PV" "indicators/$1/values?unit=40&from=$MONTH&to=$MONTH")" = 200 ] &&
        jq -e --argjson w "$want" '((.rows[0].value - $w) | fabs) < 1e-9' "$T/body" >/dev/null
}
check "the province's reports, counted by the test" own_reports
check "...one, resolved on time and rated satisfied" jq -se 'length == 1 and .[0].status == "resolved" and .[0].rating == "satisfied" and .[0].resolved_ms <= .[0].deadline_ms' "$T/own"
check "RPT.RECEIVED equals the own count" live_is RPT.RECEIVED 'length'
check "RPT.PROCESSED equals the own count" live_is RPT.PROCESSED \
    'map(select(.status | IN("resolved","closed","rejected","duplicate"))) | length'
check "RPT.ON_TIME equals the own share" live_is RPT.ON_TIME \
    'map(select(.resolved_ms != null and .deadline_ms != null)) | 100 * (map(select(.resolved_ms <= .deadline_ms)) | length) / length'
check "RPT.SATISFIED equals the own share" live_is RPT.SATISFIED \
    'map(select(.rating != null)) | 100 * (map(select(.rating == "satisfied")) | length) / length'

# escalation: a public-order report (owned by the commune, 24 working hours)
check "a public-order report" test "$(call POST c1 "$C1S" reports '{"title":"Tụ tập ban đêm","category":"public_order","lat":18.67,"lon":105.69}')" = 201
CODE2=$(jq -r .code "$T/body")
check "...received by the commune" test "$(call POST c1 "$C1S" "reports/$CODE2/actions" '{"action":"receive"}')" = 200
DL2=$(jq .deadline_ms "$T/body")
check "re-filed as environment: the deadline moves (5 working days from the receipt)" \
    test "$(call PATCH c1 "$C1S" "reports/$CODE2" '{"category":"environment"}')" = 200
check "...later than 24 working hours, with a history note" \
    jq -e --argjson was "$DL2" '.deadline_ms > $was and .received_ms < $was and
        (.history[-1].note | test("deadline recomputed"))' "$T/body"
check "the district holds it" wait_until 30 status_is dist "$DL" "$CODE2" received
check "the commune's sweep escalates nothing (it is not the target)" \
    sh -c "'$BIN' reports sweep --dir '$T/c1' --now 2099-01-01T00:00:00Z | grep -q '0 escalated'"
check "the district's sweep in a month escalates it to the district" \
    sh -c "'$BIN' reports sweep --dir '$T/dist' --now $(date -u -d '+40 days' +%Y-%m-%dT%H:%M:%SZ) | grep -q '1 escalated'"
level_is() { status_is "$1" "$2" "$CODE2" received && jq -e --argjson k "$3" '.escalation_level == $k' "$T/body" >/dev/null; }
check "the commune sees level 1" wait_until 30 level_is c1 "$C1S" 1
check "...to the district" jq -e '.escalated_to == "412"' "$T/body"
check "a bad --now is a usage error" sh -c "'$BIN' reports sweep --dir '$T/dist' --now tomorrow; test \$? -eq 2"

for n in nat prov dist c1 c2; do check "node $n stops cleanly" stop "$n"; done
for n in prov dist c1; do check "verify $n" "$BIN" verify --dir "$T/$n"; done
finish
