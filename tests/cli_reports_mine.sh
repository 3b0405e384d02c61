#!/usr/bin/env bash
# "My reports" (issue 18) on a real district node: GET /api/v1/reports?
# assignee=me lists exactly the reports assigned to the caller (by the
# assign action's "assignee", or as imported), in the caller's subtree only
# (an officer of commune 16681 assigned a report of 16684 does not see it),
# paged like every list; overdue first with overdue=1&sort=deadline;
# assignee=USER for leaders only; created_by=me the reports the caller
# filed; the same answers after verify rebuilds the indexes and a restart.
# The reference is the test's own list of assignments.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
T0=1767200400000
rep() { # rep I COMMUNE ASSIGNEE DEADLINE_MS: a received report
    printf '{"id": "412-%d", "code": "412-%d", "title": "r%d", "category": "traffic", "status": "received", "created_ms": %s, "deadline_ms": %s, "area_unit": "%s", "area_path": ["VN", "40", "412", "%s"], "owner_unit": "%s", "owner_path": ["VN", "40", "412", "%s"], "lat": 18.67, "lon": 105.69, "channel": "web"%s}\n' \
        $((1000 + $1)) $((1000 + $1)) "$1" $((T0 + $1 * 3600000)) "$4" "$2" "$2" "$2" "$2" "${3:+, \"assignee\": \"$3\"}"
}
commune() { if [ $(($1 % 3)) = 0 ]; then echo 16684; else echo 16681; fi; }
officer() { # the officer report I goes to
    case $(($1 % 6)) in 1 | 4) echo o1 ;; 2 | 5) echo o2 ;; 0) echo o1 ;; 3) echo o3 ;; esac
}
# reports 412-1001..1012 come assigned (imported, deadlines past: overdue);
# 1013..1030 are assigned through the API below (a new deadline, not
# overdue); their ids stay apart from the codes of the reports filed below
: >"$T/ref"
for i in $(seq 1 30); do
    if [ "$i" -le 12 ]; then rep "$i" "$(commune "$i")" "$(officer "$i")" $((T0 + i * 3600000 + 7200000)); else rep "$i" "$(commune "$i")" "" 0; fi
    echo "$i $(commune "$i") $(officer "$i")" >>"$T/ref"
done | "$BIN" import --dir "$T/dist" --collection reports --raw --file - >/dev/null
DL=$(mk dist dlead leader 412)
CL=$(mk dist clead leader 16681)
O1=$(mk dist o1 staff 16681)
O2=$(mk dist o2 staff 16681)
O3=$(mk dist o3 staff 16684)
start dist || exit 1
call() { # call METHOD TOKEN PATH [BODY]: body in $T/body, prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' ${4:+--data-binary "$4"} \
        "http://127.0.0.1:${PORT[dist]}/api/v1/$3"
}
assigned=0
for i in $(seq 13 30); do
    cm=$(commune "$i")
    tok=$CL
    [ "$cm" = 16684 ] && tok=$DL
    [ "$(call POST "$tok" "reports/412-$((1000 + i))/actions" "{\"action\":\"assign\",\"unit\":\"$cm\",\"assignee\":\"$(officer "$i")\"}")" = 200 ] &&
        assigned=$((assigned + 1))
done
check "18 reports assigned through the API" test "$assigned" = 18
ref() { # ref OFFICER [COMMUNE] [MAX_I]: the reference ids, newest first
    awk -v o="$1" -v c="${2:-}" -v m="${3:-99}" '$3 == o && (c == "" || $2 == c) && $1 <= m { print "412-" 1000 + $1 }' "$T/ref" |
        sort -t- -k2 -nr | paste -sd,
}
pages() { # pages TOKEN QUERY LIMIT: every id over the pages, in order
    local next="" out="" n=0
    while :; do
        [ "$(call GET "$1" "reports?$2&limit=$3${next:+&cursor=$next}")" = 200 ] || { echo "HTTP error"; return; }
        [ "$(jq '.reports | length' "$T/body")" -le "$3" ] || { echo "page too long"; return; }
        out="$out${out:+,}$(jq -r '[.reports[].id] | join(",")' "$T/body")"
        next=$(jq -r '.next // empty' "$T/body")
        n=$((n + 1))
        [ -n "$next" ] && [ "$n" -lt 50 ] || break
    done
    echo "${out%,}" | sed 's/,,*/,/g; s/^,//'
}
check "an officer's assignee=me: exactly o1's in 16681 ($(ref o1 16681))" \
    test "$(pages "$O1" assignee=me 50)" = "$(ref o1 16681)"
check "...in pages of 2, the same, once each" test "$(pages "$O1" assignee=me 2)" = "$(ref o1 16681)"
check "...never 16684's report assigned to o1" bash -c "! grep -q '412-1006\b' <<<'$(pages "$O1" assignee=me 50)' && grep -q '412-1006\b' <<<'$(ref o1)'"
check "...each summary names the assignee" jq -e '[.reports[].assignee] | unique == ["o1"]' "$T/body"
check "o2's assignee=me ($(ref o2 16681))" test "$(pages "$O2" assignee=me 3)" = "$(ref o2 16681)"
check "the 16684 officer's ($(ref o3 16684))" test "$(pages "$O3" assignee=me 2)" = "$(ref o3 16684)"
check "the district leader's assignee=o1: every commune ($(ref o1))" test "$(pages "$DL" assignee=o1 4)" = "$(ref o1)"
check "a staff officer asking for another's: 403" test "$(call GET "$O2" 'reports?assignee=o1')" = 403
check "...told to use me" grep -q 'assignee=me' "$T/body"
check "the commune leader's assignee=o1 stays in 16681" test "$(pages "$CL" assignee=o1 50)" = "$(ref o1 16681)"
overdue_ref=$(awk '$3 == "o1" && $2 == "16681" && $1 <= 12 { print "412-" 1000 + $1 }' "$T/ref" | sort -t- -k2 -n | paste -sd,)
check "overdue first: o1's overdue, earliest deadline first ($overdue_ref)" \
    test "$(pages "$O1" 'assignee=me&overdue=1&sort=deadline' 50)" = "$overdue_ref"
check "with a status filter" test "$(pages "$O1" 'assignee=me&status=assigned' 50)" = "$(ref o1 16681 | tr , '\n' | awk -F- '$2 > 1012' | paste -sd,)"
# created_by: the reports an officer filed
for n in 1 2 3; do
    call POST "$O1" reports "{\"title\":\"o1 số $n\",\"category\":\"traffic\",\"lat\":18.67,\"lon\":105.69}" >/dev/null
    jq -r .code "$T/body" >>"$T/filed"
done
call POST "$O2" reports '{"title":"o2","category":"traffic","lat":18.67,"lon":105.69}' >/dev/null
check "o1 filed 3" test "$(grep -c . "$T/filed")" = 3
check "created_by=me: exactly those, newest first" \
    test "$(pages "$O1" created_by=me 2)" = "$(tac "$T/filed" | paste -sd,)"
check "a bad assignee in an action is 400" \
    test "$(call POST "$CL" reports/412-1014/actions '{"action":"assign","unit":"16681","assignee":"a b"}')" = 400
check "...report.assignee_invalid" jq -e '.error.code == "report.assignee_invalid"' "$T/body"
mine_after=$(pages "$O1" assignee=me 50)
check "...and changed nothing ($mine_after)" test "$mine_after" = "$(ref o1 16681)"
before=$(pages "$DL" assignee=o1 50)
check "the node stops" stop dist
check "verify: the indexes equal a rebuild from the records" "$BIN" verify --dir "$T/dist"
start dist || exit 1
check "the same answers after the restart" test "$(pages "$DL" assignee=o1 50)" = "$before"
finish
