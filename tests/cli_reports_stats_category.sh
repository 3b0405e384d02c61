#!/usr/bin/env bash
# GET /api/v1/reports/stats?category= on a real district node (issue 18,
# the dashboard's category filter): every figure is counted over that
# category alone, per child unit too, within the caller's subtree; the
# reference counts are computed here from the reports the test imports.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
start dist || exit 1
CATS=(traffic waste lighting)
STATUSES=(new received resolved rejected in_progress)
COMMUNES=(16681 16684)
T0=1767200400000
rep() { # rep I: one report, its category, status and commune picked from I
    local i=$1 cat=${CATS[$(($1 % 3))]} st=${STATUSES[$(($1 % 5))]} cm=${COMMUNES[$(($1 / 2 % 2))]}
    local created=$((T0 + $1 * 3600000)) resolved=""
    [ "$st" = resolved ] && resolved=", \"resolved_ms\": $((created + 1800000))"
    printf '{"id": "412-%d", "code": "412-%d", "title": "r%d", "category": "%s", "status": "%s", "created_ms": %s, "deadline_ms": %s%s, "area_unit": "%s", "area_path": ["VN", "40", "412", "%s"], "owner_unit": "%s", "owner_path": ["VN", "40", "412", "%s"], "lat": 18.67, "lon": 105.69, "channel": "web"}\n' \
        "$i" "$i" "$i" "$cat" "$st" "$created" $((created + 3600000)) "$resolved" "$cm" "$cm" "$cm" "$cm"
    echo "$i $cat $st $cm" >>"$T/ref"
}
N=60
: >"$T/ref"
for i in $(seq 1 $N); do rep "$i"; done |
    "$BIN" import --dir "$T/dist" --collection reports --raw --file - >/dev/null
mk() { # mk NAME ROLE UNIT: prints a token
    echo "$1-password" | "$BIN" user add --dir "$T/dist" --user "$1" --role "$2" --unit "$3" >/dev/null
    "$BIN" token --dir "$T/dist" --user "$1"
}
DV=$(mk dview viewer 412)
C1=$(mk c1view viewer 16681)
get() { # get TOKEN PATH: body in $T/body, prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $1" \
        "http://127.0.0.1:${PORT[dist]}/api/v1/$2"
}
count() { # count CATEGORY [STATUS [COMMUNE]]: the reference count
    awk -v c="$1" -v s="${2:-}" -v m="${3:-}" \
        '$2 == c && (s == "" || $3 == s) && (m == "" || $4 == m) { n++ } END { print n + 0 }' "$T/ref"
}
check "all categories" test "$(get "$DV" 'reports/stats')" = 200
check "...every report" jq -e ".total == $N" "$T/body"
for cat in "${CATS[@]}"; do
    check "stats of $cat" test "$(get "$DV" "reports/stats?category=$cat&by=child")" = 200
    check "...total $(count "$cat")" jq -e ".total == $(count "$cat") and .category == \"$cat\"" "$T/body"
    for st in "${STATUSES[@]}"; do
        check "...$st $(count "$cat" "$st")" jq -e ".by_status.$st == $(count "$cat" "$st")" "$T/body"
    done
    check "...resolved" jq -e ".resolved == $(count "$cat" resolved)" "$T/body"
    check "...by_category names only $cat" jq -e ".by_category == {\"$cat\": $(count "$cat")}" "$T/body"
    for cm in "${COMMUNES[@]}"; do
        check "...child $cm: $(count "$cat" "" "$cm")" \
            jq -e "[.children[] | select(.unit == \"$cm\") | .total] == [$(count "$cat" "" "$cm")]" "$T/body"
    done
    check "the commune's viewer: $cat in 16681 only" test "$(get "$C1" "reports/stats?category=$cat")" = 200
    check "...$(count "$cat" "" 16681)" jq -e ".total == $(count "$cat" "" 16681)" "$T/body"
done
check "a category and a date range" \
    test "$(get "$DV" 'reports/stats?category=waste&from=2026-01-01T00:00&to=2026-01-01T23:59')" = 200
check "...the day's waste reports" jq -e ".total == $(awk '$2 == "waste" && $1 <= 23 { n++ } END { print n + 0 }' "$T/ref")" "$T/body"
check "an unknown category counts nothing" test "$(get "$DV" 'reports/stats?category=nosuch')" = 200
check "...zero" jq -e '.total == 0 and .by_category == {}' "$T/body"
check "a category code too long is 400" test "$(get "$DV" "reports/stats?category=$(printf 'x%.0s' $(seq 40))")" = 400
check "...naming the category" grep -q 'category' "$T/body"
check "the commune's viewer still cannot read the district: 403" \
    test "$(get "$C1" 'reports/stats?unit=412&category=waste')" = 403
finish
