#!/usr/bin/env bash
# GET /api/v1/reports and /api/v1/reports/stats on a real district node:
# the caller's subtree only (403 above it), filters, folded search, cursor
# pages, 400s naming the bad parameter, personal fields for staff only, and
# figures per child unit with the units' names.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
start dist || exit 1
rep() { # rep ID COMMUNE STATUS CREATED_MS TITLE
    printf '{"id": "%s", "code": "%s", "title": "%s", "category": "traffic", "status": "%s", "created_ms": %s, "deadline_ms": %s, "area_unit": "%s", "area_path": ["VN", "40", "412", "%s"], "owner_unit": "%s", "owner_path": ["VN", "40", "412", "%s"], "lat": 18.67, "lon": 105.69, "channel": "web", "reporter_phone": "0912345678"}\n' \
        "$1" "$1" "$5" "$3" "$4" $(($4 + 3600000)) "$2" "$2" "$2" "$2"
}
{
    rep 412-1 16681 new 1767200400000 "Đường ngập nước"
    rep 412-2 16681 resolved 1767204000000 "Rác thải"
    rep 412-3 16684 received 1767207600000 "Đèn đường hỏng"
    rep 412-4 16684 new 1767211200000 "Duong ngap sau mua"
} | "$BIN" import --dir "$T/dist" --collection reports --raw --file - >/dev/null
mk() { # mk NAME ROLE UNIT: prints a token
    echo "$1-password" | "$BIN" user add --dir "$T/dist" --user "$1" --role "$2" --unit "$3" >/dev/null
    "$BIN" token --dir "$T/dist" --user "$1"
}
DV=$(mk dview viewer 412)
DS=$(mk dstaff staff 412)
C1=$(mk c1view viewer 16681)
get() { # get TOKEN PATH: body in $T/body, prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $1" \
        "http://127.0.0.1:${PORT[dist]}/api/v1/$2"
}
ids() { jq -r '[.reports[].id] | join(",")' "$T/body"; }

check "no login: 401" test "$(get x reports)" = 401
check "the district's viewer lists its subtree" test "$(get "$DV" reports)" = 200
check "...newest first" test "$(ids)" = "412-4,412-3,412-2,412-1"
check "...with W3C times" jq -e '.reports[3].created_at == "2026-01-01T00:00:00+07:00"' "$T/body"
check "...no phone for a viewer" jq -e '.reports[0] | has("reporter_phone") | not' "$T/body"
check "...and no next page" jq -e '.next == null' "$T/body"
check "staff see the phone" test "$(get "$DS" reports)" = 200
check "...phone" jq -e '.reports[0].reporter_phone == "0912345678"' "$T/body"
check "a commune's viewer sees its commune" test "$(get "$C1" reports)" = 200
check "...only" test "$(ids)" = "412-2,412-1"
check "...not the district (403)" test "$(get "$C1" 'reports?unit=412')" = 403
check "...nor the other commune" test "$(get "$C1" 'reports?unit=16684')" = 403
check "...told why" grep -q 'subtree' "$T/body"
check "the district's viewer may narrow to a commune" test "$(get "$DV" 'reports?unit=16684')" = 200
check "...16684" test "$(ids)" = "412-4,412-3"
check "status list" test "$(get "$DV" 'reports?status=new,resolved&sort=oldest')" = 200
check "...oldest first" test "$(ids)" = "412-1,412-2,412-4"
check "folded search" test "$(get "$DV" 'reports?q=%C4%90%C6%B0%E1%BB%9Dng%20ng%E1%BA%ADp')" = 200
check "...finds both spellings" test "$(ids)" = "412-4,412-1"
check "date range" test "$(get "$DV" 'reports?from=2026-01-01T01:00&to=2026-01-01T02:30:00%2B07:00')" = 200
check "...two" test "$(ids)" = "412-3,412-2"
check "page of one" test "$(get "$DV" 'reports?limit=1')" = 200
NEXT=$(jq -r .next "$T/body")
check "...has a cursor" test "$NEXT" != null
check "...which gives the next" test "$(get "$DV" "reports?limit=1&cursor=$NEXT")" = 200
check "...412-3" test "$(ids)" = 412-3
check "limit=0 is 400" test "$(get "$DV" 'reports?limit=0')" = 400
check "...naming limit" grep -q 'limit' "$T/body"
check "sort=bogus is 400" test "$(get "$DV" 'reports?sort=bogus')" = 400
check "from=yesterday is 400" test "$(get "$DV" 'reports?from=yesterday')" = 400
check "status=open is 400" test "$(get "$DV" 'reports?status=open')" = 400
check "...naming it" grep -q 'unknown status' "$T/body"
check "a foreign cursor is 400" test "$(get "$DV" 'reports?cursor=xyz')" = 400
# every error has a body (issue 12, finding 13): client bytes that are not
# UTF-8, or control bytes, quoted in the message must not cost the answer.
# (A %00 never reaches the node: libwebsockets 4.1 drops such a request.)
error_body() { jq -e '.error.message | length > 0' "$T/body" >/dev/null; }
check "a cursor that is not UTF-8 is 400" test "$(get "$DV" 'reports?cursor=%ff%fe')" = 400
check "...with a message" error_body
check "...naming the cursor" grep -q 'cursor' "$T/body"
check "limit=%01 is 400" test "$(get "$DV" 'reports?limit=%01')" = 400
check "...with a message" error_body
check "q=%ff is answered" test "$(get "$DV" 'reports?q=%ff')" != 000
check "...with a body" jq -e . "$T/body" >/dev/null
check "sort=%c3 (a cut sequence) is 400" test "$(get "$DV" 'reports?sort=%c3')" = 400
check "...with a message" error_body
# the list as CSV (issue 18): every match, the same filters and subtree,
# UTF-8 with a BOM, unit names beside codes, personal fields for staff only
check "CSV of the new reports" test "$(get "$DV" 'reports?format=csv&status=new')" = 200
check "...starts with the UTF-8 BOM and the header" test "$(head -c 12 "$T/body" | od -An -tx1 | tr -d ' \n')" = "efbbbf636f64652c7469746c"
csvcol() { tail -n +2 "$T/body" | cut -d, -f"$1" | tr -d '\r' | paste -sd' '; }
check "...412-4 then 412-1" test "$(csvcol 1)" = "412-4 412-1"
check "...the communes by name" test "$(csvcol 6)" = "Xã Nghi Liên Phường Bến Thủy"
check "...no phone column for a viewer" bash -c "! head -1 '$T/body' | grep -q reporter_phone"
check "CSV by Accept: text/csv, for staff" test "$(curl -s -o "$T/body" -w '%{http_code}' -H 'Accept: text/csv' -H "Authorization: Bearer $DS" "http://127.0.0.1:${PORT[dist]}/api/v1/reports?q=ngap")" = 200
check "...every match (folded search) with the phone" test "$(csvcol 1)" = "412-4 412-1"
check "...the phone column" grep -q '0912345678' "$T/body"
check "...served as text/csv" test "$(curl -s -D - -o /dev/null -H "Authorization: Bearer $DS" "http://127.0.0.1:${PORT[dist]}/api/v1/reports?format=csv" | grep -ci '^content-type: text/csv')" = 1
check "CSV of a commune's viewer: its reports only" test "$(get "$C1" 'reports?format=csv')" = 200
check "...412-2 and 412-1" test "$(csvcol 1)" = "412-2 412-1"
check "CSV with a bad filter is 400 like the list" test "$(get "$DV" 'reports?format=csv&sort=bogus')" = 400
check "stats" test "$(get "$DV" 'reports/stats?by=child')" = 200
check "...total" jq -e '.total == 4 and .by_status.new == 2 and .scope == "subtree"' "$T/body"
check "...children with names" \
    jq -e '[.children[] | {unit, name, total}] | sort_by(.unit) == [{"unit": "16681", "name": "Phường Bến Thủy", "total": 2}, {"unit": "16684", "name": "Xã Nghi Liên", "total": 2}]' "$T/body"
check "stats of the unit alone" test "$(get "$DV" 'reports/stats?scope=unit')" = 200
check "...owns none" jq -e '.total == 0' "$T/body"
check "stats: bad scope is 400" test "$(get "$DV" 'reports/stats?scope=all')" = 400
check "stats above the caller: 403" test "$(get "$C1" 'reports/stats?unit=412')" = 403
finish
