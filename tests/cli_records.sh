#!/usr/bin/env bash
# Visibility through the API with real processes: a commune's user, also on
# its district's and its province's node (which hold far more), reads only
# its subtree's records and what is addressed to it; another commune's
# report is a 404 by URL; reporter name and phone are for staff only.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
for n in prov dist c1 c2; do start "$n" || exit 1; done
printf '%s\n' '{"id": "PA-16681-1", "title": "Đường ngập nước", "reporter_name": "Nguyễn Văn A", "reporter_phone": "0912345678"}' |
    "$BIN" import --dir "$T/c1" --collection reports --raw --file - >/dev/null
printf '%s\n' '{"id": "PA-16684-1", "title": "Rác thải"}' |
    "$BIN" import --dir "$T/c2" --collection reports --raw --file - >/dev/null
printf '%s\n' '{"id": "CV-1", "title": "Công văn cho xã Nghi Liên"}' |
    "$BIN" import --dir "$T/dist" --collection documents --to 16684 --file - >/dev/null
printf '%s\n' '{"id": "CV-2", "title": "Công văn toàn thành phố"}' |
    "$BIN" import --dir "$T/dist" --collection documents --to '412*' --file - >/dev/null
check "the district holds both communes' reports" wait_until 30 has_record dist reports PA-16684-1
check "...and the first" wait_until 30 has_record dist reports PA-16681-1
check "the province holds them" wait_until 30 has_record prov reports PA-16681-1
check "...both" wait_until 30 has_record prov reports PA-16684-1

C1V=$(mk dist c1view viewer 16681)
C1S=$(mk dist c1staff staff 16681)
C2V=$(mk dist c2view viewer 16684)
DV=$(mk dist dview viewer 412)
PC1=$(mk prov pc1 viewer 16681)
get() { # get NODE TOKEN PATH: body in $T/body, prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $2" \
        "http://127.0.0.1:${PORT[$1]}/api/v1/$3"
}
ids() { jq -r '[.records[].id] | sort | join(",")' "$T/body"; }

check "no login: 401" test "$(get dist x records/reports)" = 401
check "commune 1's user on the district node: list is 200" test "$(get dist "$C1V" records/reports)" = 200
check "...and shows only commune 1's report" test "$(ids)" = PA-16681-1
check "commune 1's user cannot open commune 2's report by URL (404)" \
    test "$(get dist "$C1V" records/reports/PA-16684-1)" = 404
check "...nor say it exists" grep -q 'that you may see' "$T/body"
check "commune 2's user sees commune 2's report" test "$(get dist "$C2V" records/reports/PA-16684-1)" = 200
check "the district's user sees both" test "$(get dist "$DV" records/reports)" = 200
check "...both" test "$(ids)" = "PA-16681-1,PA-16684-1"
check "a document addressed to commune 2 is for commune 2" \
    test "$(get dist "$C2V" records/documents)" = 200
check "...which sees it and the district-wide one" test "$(ids)" = "CV-1,CV-2"
check "commune 1 sees only the district-wide one" test "$(get dist "$C1V" records/documents)" = 200
check "...CV-2" test "$(ids)" = CV-2
check "commune 1's user on the province node sees only its own report" \
    test "$(get prov "$PC1" records/reports)" = 200
check "...PA-16681-1" test "$(ids)" = PA-16681-1
get dist "$C1V" records/reports/PA-16681-1 >/dev/null
check "a viewer does not see the reporter's phone" jq -e 'has("reporter_phone") | not' "$T/body"
check "...nor name" jq -e 'has("reporter_name") | not' "$T/body"
check "...but the title" jq -e '.title == "Đường ngập nước"' "$T/body"
get dist "$C1S" records/reports/PA-16681-1 >/dev/null
check "staff see the reporter's phone" jq -e '.reporter_phone == "0912345678"' "$T/body"
check "the audit log is not served here" test "$(get dist "$DV" records/audit)" = 404
check "limit=0 is 400" test "$(get dist "$DV" 'records/reports?limit=0')" = 400
check "a page of one gives a cursor" test "$(get dist "$DV" 'records/reports?limit=1')" = 200
check "...next" test "$(jq -r .next "$T/body")" = PA-16681-1
check "...and the next page" test "$(get dist "$DV" 'records/reports?limit=1&after=PA-16681-1')" = 200
check "...holds the other" test "$(ids)" = PA-16684-1
finish
