#!/usr/bin/env bash
# The HTTP side of the web UI on a real district node: the embedded page
# and files (gzip, cache headers, versions), the API index at /api/v1,
# JSON 404/405 for other paths, the accounts API (admins only, CRUD, no
# self-demotion), boundaries and tile settings (validation, admins only),
# the network document, and the live WebSocket (refused without a session,
# a hello and a report event with one).
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/csv_lib.sh"

make_tree
echo "web-admin-pass" | "$BIN" user add --dir "$T/dist" --user wadmin --role admin >/dev/null
echo "web-staff-pass" | "$BIN" user add --dir "$T/dist" --user wstaff --role staff --unit 16681 >/dev/null
start dist || exit 1
H="http://127.0.0.1:${PORT[dist]}"
code_of() { curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' --max-time 10 "$@"; }
expect() { # expect CODE DESCRIPTION CURL-ARGS...
    local want=$1 what=$2; shift 2
    local got
    got=$(code_of "$@")
    if [ "$got" = "$want" ]; then ok; else bad "$what: HTTP $got, wanted $want: $(head -c 300 "$T/body")"; fi
}
header() { grep -i "^$1:" "$T/head" | tr -d '\r' | cut -d' ' -f2-; }

# ---- the page and its files ------------------------------------------------------------
expect 200 "GET / serves the page" "$H/"
check "...as HTML" grep -q '<div id="app"' "$T/body"
check "...not cached" test "$(header cache-control)" = no-cache
check "...with a CSP" grep -qi '^content-security-policy:.*default-src' "$T/head"
V=$(grep -o '/ui/[0-9a-f]*/app.js' "$T/body" | cut -d/ -f3)
check "the page names its files under /ui/VERSION/" test -n "$V"
expect 200 "GET /public serves the page too" "$H/public"
expect 200 "an asset, gzip" -H 'Accept-Encoding: gzip' "$H/ui/$V/vendor/leaflet/leaflet.js"
check "...compressed" test "$(header content-encoding)" = gzip
check "...cached for a year" grep -qi '^cache-control: public, max-age=31536000, immutable' "$T/head"
check "...smaller than half" test "$(stat -c %s "$T/body")" -lt 75000
expect 200 "an asset without gzip" "$H/ui/$V/app.js"
check "...plain" test -z "$(header content-encoding)"
check "...a JavaScript type" grep -qi '^content-type: text/javascript' "$T/head"
expect 200 "an old version is served" "$H/ui/0000/app.js"
check "...but revalidated" test "$(header cache-control)" = no-cache
expect 404 "an unknown file" "$H/ui/$V/nothing.js"
check "...a JSON error" jq -e '.error.code == "http.not_found" and .error.status == 404' "$T/body"
expect 404 "an unknown path" "$H/nothing"
check "...a JSON error naming the index" jq -e '.error.message | contains("/api/v1")' "$T/body"
expect 405 "POST / is refused" -X POST "$H/"

# ---- the translation table: every text in both languages ---------------------------------
cat >"$T/i18n.mjs" <<'JS'
import { readFileSync } from 'node:fs';
const src = readFileSync(process.argv[2], 'utf8');
const block = (name) => src.split(`  ${name}: {`)[1].split('\n  },')[0];
const keys = (b) => new Set([...b.matchAll(/(\w+): '/g)].map((m) => m[1]));
const vi = keys(block('vi')), en = keys(block('en'));
const miss = [...vi].filter((k) => !en.has(k)).map((k) => `en lacks ${k}`)
  .concat([...en].filter((k) => !vi.has(k)).map((k) => `vi lacks ${k}`));
if (miss.length) { console.log(miss.join('\n')); process.exit(1); }
console.log(`${vi.size} keys in both languages`);
JS
check "i18n.js: the same keys in Vietnamese and English" node "$T/i18n.mjs" "$LT_SRC/web/src/i18n.js"

# ...and a text in both for every error code the API may send (docs/openapi.yaml, ErrorCode)
cat >"$T/codes.mjs" <<'JS'
import { readFileSync } from 'node:fs';
const src = readFileSync(process.argv[2], 'utf8');
const block = (name) => src.split(`  ${name}: {`)[1].split('\n  },')[0];
const keys = (b) => new Set([...b.matchAll(/(\w+): '/g)].map((m) => m[1]));
const vi = keys(block('vi')), en = keys(block('en'));
const api = readFileSync(process.argv[3], 'utf8').split('\n    ErrorCode:\n')[1].split('      enum:\n')[1];
const codes = [...api.matchAll(/^        - (\S+)$/gm)].map((m) => m[1]);
if (codes.length < 20) { console.log(`only ${codes.length} codes found in openapi.yaml`); process.exit(1); }
const miss = codes.map((c) => `e_${c.replace(/\./g, '_')}`)
  .flatMap((k) => [vi.has(k) ? [] : [`vi lacks ${k}`], en.has(k) ? [] : [`en lacks ${k}`]].flat());
if (miss.length) { console.log(miss.join('\n')); process.exit(1); }
console.log(`${codes.length} error codes translated in both languages`);
JS
check "i18n.js: every ErrorCode of openapi.yaml in Vietnamese and English" \
    node "$T/codes.mjs" "$LT_SRC/web/src/i18n.js" "$LT_SRC/docs/openapi.yaml"

# ---- the API index moved ------------------------------------------------------------------
expect 200 "GET /api/v1 is the index" "$H/api/v1"
check "...JSON" jq -e '.service == "lienthong" and .unit == "412"' "$T/body"
expect 200 "GET /api too" "$H/api"
expect 404 "an unknown API path" "$H/api/v1/nothing"

# ---- login, then the accounts API ------------------------------------------------------------
login() { # login USER PASSWORD JAR: prints the CSRF token
    curl -s -c "$3" -H 'content-type: application/json' \
        -d "{\"user\": \"$1\", \"password\": \"$2\"}" "$H/api/v1/login" | jq -r .csrf_token
}
A=$(login wadmin web-admin-pass "$T/a.jar")
S=$(login wstaff web-staff-pass "$T/s.jar")
as_admin() { curl -s -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' "$@"; }
expect 401 "users: no login" "$H/api/v1/users"
expect 403 "users: staff refused" -b "$T/s.jar" "$H/api/v1/users"
expect 200 "users: admin lists" -b "$T/a.jar" "$H/api/v1/users"
check "...both accounts" jq -e '[.users[].user] == ["wadmin", "wstaff"]' "$T/body"
expect 201 "users: create" -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' \
    -d '{"user": "wnew", "password": "new-password-1", "role": "viewer", "unit": "16684"}' "$H/api/v1/users"
check "...the account" jq -e '.user == "wnew" and .unit == "16684" and .role == "viewer"' "$T/body"
check "...can log in" test "$(login wnew new-password-1 "$T/n.jar")" != null
expect 409 "users: create twice" -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' \
    -d '{"user": "wnew", "password": "new-password-1", "role": "viewer"}' "$H/api/v1/users"
expect 400 "users: a unit outside the subtree" -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' \
    -d '{"user": "wx", "password": "new-password-1", "role": "viewer", "unit": "40"}' "$H/api/v1/users"
expect 400 "users: a short password" -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' \
    -d '{"user": "wx", "password": "short", "role": "viewer"}' "$H/api/v1/users"
expect 403 "users: no CSRF token" -b "$T/a.jar" -H 'content-type: application/json' \
    -d '{"user": "wx", "password": "new-password-1", "role": "viewer"}' "$H/api/v1/users"
expect 200 "users: promote and disable" -X PATCH -b "$T/a.jar" -H "X-CSRF-Token: $A" \
    -H 'content-type: application/json' -d '{"role": "leader", "disabled": true}' "$H/api/v1/users/wnew"
check "...changed" jq -e '.role == "leader" and .disabled' "$T/body"
expect 401 "...a disabled account's session ends" -b "$T/n.jar" "$H/api/v1/me"
expect 409 "users: no self-demotion" -X PATCH -b "$T/a.jar" -H "X-CSRF-Token: $A" \
    -H 'content-type: application/json' -d '{"role": "staff"}' "$H/api/v1/users/wadmin"
expect 409 "users: no self-deletion" -X DELETE -b "$T/a.jar" -H "X-CSRF-Token: $A" "$H/api/v1/users/wadmin"
expect 200 "users: delete" -X DELETE -b "$T/a.jar" -H "X-CSRF-Token: $A" "$H/api/v1/users/wnew"
expect 404 "users: delete again" -X DELETE -b "$T/a.jar" -H "X-CSRF-Token: $A" "$H/api/v1/users/wnew"
# the accounts as CSV (issue 18): the same accounts as the JSON list, never a password hash
expect 201 "users: an admin of commune 16684" -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' \
    -d '{"user": "wc84", "password": "c84-password-1", "role": "admin", "unit": "16684"}' "$H/api/v1/users"
expect 201 "users: a viewer of commune 16684" -b "$T/a.jar" -H "X-CSRF-Token: $A" -H 'content-type: application/json' \
    -d '{"user": "wv84", "password": "v84-password-1", "role": "viewer", "unit": "16684"}' "$H/api/v1/users"
csv_users() { tail -n +2 "$T/body" | cut -d, -f1 | paste -sd' '; }
expect 200 "users: JSON list of the district's admin" -b "$T/a.jar" "$H/api/v1/users"
want=$(jq -r '[.users[].user] | join(" ")' "$T/body")
expect 200 "users: CSV of the district's admin" -b "$T/a.jar" "$H/api/v1/users?format=csv"
check "...the byte order mark and the header" csv_header_is "user,unit,role,created,disabled"
check "...the accounts of the JSON list, in its order: $want" test "$(csv_users | tr -d '\r')" = "$want"
check "...one line each, 4 accounts" test "$(csv_rows)" = 4
check "...the commune viewer's line" grep -q '^wv84,16684,viewer,[0-9]*,0' "$T/body"
check "...no password hash" bash -c "! grep -q 'argon2' '$T/body'"
expect 200 "users: CSV by Accept: text/csv" -b "$T/a.jar" -H 'Accept: text/csv' "$H/api/v1/users"
check "...the same CSV" test "$(csv_users | tr -d '\r')" = "$want"
C84=$(login wc84 c84-password-1 "$T/c84.jar")
expect 200 "users: CSV of commune 16684's admin" -b "$T/c84.jar" "$H/api/v1/users?format=csv"
check "...its commune's accounts only" test "$(csv_users | tr -d '\r')" = "wc84 wv84"
expect 403 "users: CSV refused to staff" -b "$T/s.jar" "$H/api/v1/users?format=csv"
for u in wc84 wv84; do
    expect 200 "users: delete $u" -X DELETE -b "$T/a.jar" -H "X-CSRF-Token: $A" "$H/api/v1/users/$u"
done

# ---- boundaries and tiles ---------------------------------------------------------------------
POLY='{"type": "Feature", "properties": {"name": "Phường Bến Thủy"}, "geometry": {"type": "Polygon", "coordinates": [[[105.69, 18.65], [105.71, 18.65], [105.71, 18.67], [105.69, 18.65]]]}}'
expect 403 "boundaries: staff may not upload" -X PUT -b "$T/s.jar" -H "X-CSRF-Token: $S" -d "$POLY" "$H/api/v1/boundaries/16681"
expect 200 "boundaries: admin uploads" -X PUT -b "$T/a.jar" -H "X-CSRF-Token: $A" -d "$POLY" "$H/api/v1/boundaries/16681"
expect 400 "boundaries: not polygons" -X PUT -b "$T/a.jar" -H "X-CSRF-Token: $A" -d '{"type": "Point", "coordinates": [1, 2]}' "$H/api/v1/boundaries/16681"
expect 400 "boundaries: not JSON" -X PUT -b "$T/a.jar" -H "X-CSRF-Token: $A" -d 'nope' "$H/api/v1/boundaries/16681"
expect 404 "boundaries: an unknown unit" -X PUT -b "$T/a.jar" -H "X-CSRF-Token: $A" -d "$POLY" "$H/api/v1/boundaries/99999"
expect 200 "boundaries: staff read them" -b "$T/s.jar" "$H/api/v1/boundaries"
check "...one feature tagged with its unit" jq -e '.features | length == 1 and .[0].properties.unit == "16681" and .[0].properties.name == "Phường Bến Thủy"' "$T/body"
expect 200 "tiles: none by default" "$H/api/v1/ui/settings"
check "...null" jq -e '.tile_url == null' "$T/body"
expect 400 "tiles: not a template" -X PUT -b "$T/a.jar" -H "X-CSRF-Token: $A" -d '{"tile_url": "ftp://x"}' "$H/api/v1/ui/settings"
expect 200 "tiles: set" -X PUT -b "$T/a.jar" -H "X-CSRF-Token: $A" -d '{"tile_url": "http://tiles.lan/{z}/{x}/{y}.png"}' "$H/api/v1/ui/settings"
check "...kept" jq -e '.tile_url == "http://tiles.lan/{z}/{x}/{y}.png"' "$T/body"

# ---- the network document ---------------------------------------------------------------------------
expect 200 "network: the commune user's view" -b "$T/s.jar" "$H/api/v1/network"
check "...its unit and ancestors, not the other commune" jq -e '[.units[].code] | sort == ["16681", "40", "412", "VN"]' "$T/body"
check "...with the links" jq -e '.sync.unit == "412"' "$T/body"

# ---- live events --------------------------------------------------------------------------------------
# node's WebSocket client (node 20.10 or later with --experimental-websocket, built in from 22)
if ! node --experimental-websocket -e 'typeof WebSocket === "function" || process.exit(1)' 2>/dev/null; then
    bad "node.js $(node --version 2>&1) has no WebSocket client: install node 20.10 or later (scripts/install-deps)"
    finish
    exit 1
fi
ws() { # ws COOKIE-OR-EMPTY SECONDS: prints the messages received, then "closed CODE"
    node --experimental-websocket -e '
      const [url, cookie, secs] = process.argv.slice(1);
      const ws = new WebSocket(url, { protocols: ["lt-events"], headers: cookie ? { cookie } : {} });
      ws.onmessage = (m) => console.log(m.data);
      ws.onclose = (e) => { console.log("closed " + e.code); process.exit(0); };
      setTimeout(() => { console.log("timed out"); process.exit(1); }, secs * 1000);' \
      "ws://127.0.0.1:${PORT[dist]}/api/v1/events" "$1" "$2" 2>/dev/null
}
ws "" 10 >"$T/ws0.out"
check "events: refused without a session" grep -q '^closed' "$T/ws0.out"
cookie="$(awk '$6 ~ /^lt_session_/ { print $6 "=" $7 }' "$T/s.jar")"
ws "$cookie" 30 >"$T/ws1.out" &
wpid=$!
check "events: a hello with the caller" wait_until 10 grep -q '"type":"hello","user":"wstaff"' "$T/ws1.out"
echo '{"id": "412-9", "code": "412-9", "title": "Cây đổ", "category": "traffic", "status": "new", "area_unit": "16681", "area_path": ["VN", "40", "412", "16681"], "owner_unit": "16681", "owner_path": ["VN", "40", "412", "16681"], "lat": 18.67, "lon": 105.69, "created_ms": 1767200400000}' \
    | "$BIN" import --dir "$T/dist" --collection reports --raw --file - >/dev/null
check "events: the new report" wait_until 10 grep -q '"type":"report","id":"412-9","status":"new"' "$T/ws1.out"
kill "$wpid"
wait "$wpid"
ws "$cookie" 30 >"$T/ws2.out" &
wpid=$!
check "events: a second client connected" wait_until 10 grep -q '"type":"hello"' "$T/ws2.out"
# a clean stop with a live client connected: exit 0 (under ASan: no leaks)
check "the node stops cleanly" stop dist
wait "$wpid"
check "events: the client sees the node go" grep -q '^closed' "$T/ws2.out"
finish
