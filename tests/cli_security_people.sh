#!/usr/bin/env bash
# The people side of the security findings of issue 12, with real nodes:
# an admin of commune 16684 hosted on the province's node stays an admin of
# its commune (accounts of its subtree only, nothing the node defines for
# the network: categories, holidays, boundaries, UI settings, enrolment,
# quarantine); GET /api/v1/sync shows a public summary without a login and
# the details (URLs, addresses, errors) to viewers and above.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
# the province hosts commune 16684's accounts: it knows the unit
printf '{"id": "16684", "code": "16684", "name": "Xã Nghi Liên", "tier": "commune", "parent": "412"}\n' >"$T/unit.jsonl"
"$BIN" import --dir "$T/prov" --collection units --file "$T/unit.jsonl" >/dev/null || exit 1
PA=$(mk prov padmin admin 40)
CA=$(mk prov cadmin admin 16684)
mk prov cstaff staff 16684 >/dev/null
mk prov victim viewer 40 >/dev/null
mk prov cvictim viewer 16684 >/dev/null
start prov || exit 1
start dist || exit 1
P="http://127.0.0.1:${PORT[prov]}/api/v1"
code_of() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@"; }
expect() { # expect CODE DESCRIPTION CURL-ARGS...
    local want=$1 what=$2; shift 2
    local got
    got=$(code_of "$@")
    if [ "$got" = "$want" ]; then ok; else bad "$what: HTTP $got, wanted $want: $(head -c 300 "$T/body")"; fi
}
as() { # as TOKEN METHOD PATH [BODY]
    local tok=$1 m=$2 p=$3
    shift 3
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$m" -H "Authorization: Bearer $tok" \
        -H 'content-type: application/json' ${1:+-d "$1"} "$P/$p"
}
is() { # is CODE DESCRIPTION TOKEN METHOD PATH [BODY]
    local want=$1 what=$2; shift 2
    local got
    got=$(as "$@")
    if [ "$got" = "$want" ]; then ok; else bad "$what: HTTP $got, wanted $want: $(head -c 300 "$T/body")"; fi
}
account_of() { "$BIN" user list --dir "$T/prov" --json | jq -c --arg u "$1" 'select(.user == $u) | [.unit, .role, .disabled]'; }

# ---- finding 1: a lower unit's admin does not become the province's admin ------------------
is 201 "the commune's admin creates a staff account of its commune" "$CA" POST users \
    '{"user": "cnew", "password": "cnew-password", "role": "staff", "unit": "16684"}'
is 201 "...and an admin of its commune" "$CA" POST users \
    '{"user": "cadmin2", "password": "cadmin2-password", "role": "admin", "unit": "16684"}'
is 403 "the commune's admin may not create an admin of the province" "$CA" POST users \
    '{"user": "evil", "password": "evil-password", "role": "admin", "unit": "40"}'
check "...saying whose accounts it manages" jq -e '.error.message | contains("admin of unit 16684")' "$T/body"
is 403 "...nor one of the district above it" "$CA" POST users \
    '{"user": "evil", "password": "evil-password", "role": "viewer", "unit": "412"}'
is 403 "...nor an account of the node's unit by default" "$CA" POST users \
    '{"user": "evil", "password": "evil-password", "role": "viewer"}'
check "no account evil was made" test -z "$(account_of evil)"
is 200 "the commune's admin changes its commune's account" "$CA" PATCH users/cnew '{"role": "leader"}'
is 403 "...but may not move it to the province" "$CA" PATCH users/cnew '{"unit": "40", "role": "admin"}'
check "...which stays in the commune" test "$(account_of cnew)" = '["16684","leader",false]'
is 403 "...nor move itself to the province" "$CA" PATCH users/cadmin '{"unit": "40"}'
is 403 "...nor change the province's admin's password" "$CA" PATCH users/padmin '{"password": "taken-over-1"}'
is 403 "...nor disable the province's admin" "$CA" PATCH users/padmin '{"disabled": true}'
is 403 "...nor delete the province's admin" "$CA" DELETE users/padmin
check "the province's admin is untouched" test "$(account_of padmin)" = '["40","admin",false]'
is 200 "the province's admin still works" "$PA" GET users
check "...and lists every account" jq -e '[.users[].user] | index("padmin") and index("cadmin") and index("repl-viewer") == null' "$T/body"
is 200 "the commune's admin lists accounts" "$CA" GET users
check "...of its commune only" jq -e '[.users[].user] | sort == ["cadmin", "cadmin2", "cnew", "cstaff", "cvictim"]' "$T/body"
is 200 "the province's admin moves a commune account up" "$PA" PATCH users/cnew '{"unit": "40"}'
is 403 "...which the commune's admin then may not delete" "$CA" DELETE users/cnew
is 200 "the commune's admin deletes its own commune's account" "$CA" DELETE users/cstaff

# what the node defines for the network or itself: the node's unit's admin only
is 200 "the province's admin defines a category" "$PA" PUT categories/trees \
    '{"name_vi": "Cây xanh", "owner_tier": "commune", "deadline_days": 2}'
is 403 "the commune's admin may not define a category on the province's node" "$CA" PUT \
    categories/evil '{"name_vi": "Giả mạo", "owner_tier": "commune", "deadline_days": 2}'
check "...saying whose it is" jq -e '.error.message | contains("admin of this node'"'"'s unit 40")' "$T/body"
check "...and no such category was written" bash -c "! '$BIN' export --dir '$T/prov' --collection categories | jq -r .id | grep -qx evil"
is 403 "...nor change an existing one" "$CA" PUT categories/trees '{"deadline_days": 90}'
is 403 "...nor a holiday" "$CA" PUT holidays/2026-11-24 '{"name_vi": "Giả"}'
is 403 "...nor delete one" "$CA" DELETE holidays/2026-01-01
BOUND='{"type": "Polygon", "coordinates": [[[105.6, 18.6], [105.7, 18.6], [105.7, 18.7], [105.6, 18.6]]]}'
is 200 "the province's admin uploads a boundary" "$PA" PUT boundaries/412 "$BOUND"
is 403 "the commune's admin may not upload one" "$CA" PUT boundaries/16684 "$BOUND"
is 403 "...nor delete one" "$CA" DELETE boundaries/412
is 403 "...nor change the tile server" "$CA" PUT ui/settings '{"tile_url": "https://evil.example/{z}/{x}/{y}.png"}'
is 200 "the province's admin sets the tile server" "$PA" PUT ui/settings '{"tile_url": "https://tiles.example/{z}/{x}/{y}.png"}'
check "...which the commune's admin did not change" jq -e '.tile_url == "https://tiles.example/{z}/{x}/{y}.png"' "$T/body"
is 403 "the commune's admin may not read the quarantine" "$CA" GET quarantine
is 200 "...the province's admin may" "$PA" GET quarantine
is 403 "the commune's admin may not list enrolment requests" "$CA" GET enrol/requests
is 403 "...nor approve one" "$CA" POST enrol/requests/x/approve '{}'
is 200 "...the province's admin lists them" "$PA" GET enrol/requests

# ---- finding 9: one client cannot lock another's account; admins see the locks -------------
login_from() { # login_from ADDRESS USER PASSWORD: the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 --interface "$1" \
        -d "{\"user\": \"$2\", \"password\": \"$3\"}" "$P/login"
}
for i in 1 2 3 4 5; do login_from 127.0.0.2 victim "wrong-guess-$i" >/dev/null; done
check "5 failures from 127.0.0.2 lock the account there" test "$(login_from 127.0.0.2 victim victim-password)" = 429
check "...saying for whom" jq -e '.error.message | contains("this account from this address")' "$T/body"
check "...while its owner at 127.0.0.1 still logs in" test "$(login_from 127.0.0.1 victim victim-password)" = 200
for i in 1 2 3 4 5; do login_from 127.0.0.3 cvictim "wrong-guess-$i" >/dev/null; done
check "a commune account is locked from 127.0.0.3" test "$(login_from 127.0.0.3 cvictim cvictim-password)" = 429
is 200 "the province's admin lists the login locks" "$PA" GET login/locks
check "...both accounts with the address" jq -e '[.locks[] | select(.address != null and .user != null) | [.user, .address]] | sort ==
    [["cvictim", "127.0.0.3"], ["victim", "127.0.0.2"]]' "$T/body"
check "...with failures, retry_after_s and locked_until" jq -e 'all(.locks[]; .failures >= 5 and .retry_after_s > 0 and .locked_until > 1700000000000)' "$T/body"
is 200 "the commune's admin lists the login locks" "$CA" GET login/locks
check "...of its commune's accounts only" jq -e '[.locks[].user] == ["cvictim"]' "$T/body"
is 403 "a staff member may not" "$(mk prov pstaff staff 40)" GET login/locks
is 200 "the commune's admin sets a new password" "$CA" PATCH users/cvictim '{"password": "cvictim-new-pass"}'
check "...which ends the lock" test "$(login_from 127.0.0.3 cvictim cvictim-new-pass)" = 200

# ---- finding 11: Open311 keys over HTTP, scoped like accounts ----------------------------------
is 201 "the commune's admin makes an Open311 key for its commune" "$CA" POST open311/keys '{"name": "capp"}'
check "...shown once, of the commune" jq -e '(.key | startswith("o311_")) and .unit == "16684" and (.id | length) == 16' "$T/body"
CKEY=$(jq -r .key "$T/body")
CKID=$(jq -r .id "$T/body")
is 403 "...but not one for the province" "$CA" POST open311/keys '{"name": "papp", "unit": "40"}'
is 201 "the province's admin makes one for the province" "$PA" POST open311/keys '{"name": "papp"}'
PKID=$(jq -r .id "$T/body")
is 200 "the commune's admin lists the keys" "$CA" GET open311/keys
check "...its commune's only, without secrets" jq -e '[.keys[].name] == ["capp"] and all(.keys[]; has("key") | not)' "$T/body"
is 403 "...and may not revoke the province's" "$CA" DELETE "open311/keys/$PKID"
O="http://127.0.0.1:${PORT[prov]}/open311/v2"
o311() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@"; }
check "the commune's key submits an Open311 request" test "$(o311 -d "api_key=$CKEY" -d service_code=traffic -d lat=18.68 -d long=105.70 "$O/requests.json")" = 200
check "an admin's account token does not" test "$(o311 -d "api_key=$PA" -d service_code=traffic -d lat=18.68 -d long=105.70 "$O/requests.json")" = 403
check "...saying Open311 takes Open311 keys" jq -e '.[0].description | test("not an Open311 key")' "$T/body"
is 200 "the commune's admin revokes its key" "$CA" DELETE "open311/keys/$CKID"
check "...which Open311 then refuses" test "$(o311 -d "api_key=$CKEY" -d service_code=traffic -d lat=18.68 -d long=105.70 "$O/requests.json")" = 403

# ---- finding 12: the sync status without a login is a summary ------------------------------
check "the province sees the district's link (details, as a viewer)" wait_until 20 link_open prov 412
api prov sync >"$T/sync-viewer.json"
check "...with the district's address and the national URL" jq -e \
    'any(.links[]; .remote != null) and any(.links[]; .url != null)' "$T/sync-viewer.json"
expect 200 "GET /api/v1/sync without a login" "$P/sync"
check "...shows the link states" jq -e '.unit == "40" and any(.links[]; .peer_unit == "412" and .connected and .state == "open")' "$T/body"
check "...but no URL, address, error or count" jq -e \
    '[.. | objects | keys[]] | any(. == "url" or . == "remote" or . == "last_error" or . == "reason" or . == "entries_to_send" or . == "attempts") | not' "$T/body"
check "...and no unidentified handshake" jq -e 'all(.links[]; .peer_unit != null)' "$T/body"
expect 401 "a wrong token gets no summary" -H "Authorization: Bearer lt_wrong" "$P/sync"

finish
