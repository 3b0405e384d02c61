#!/usr/bin/env bash
# The web UI usable unassisted (issue 18), in Debian's chromium driven by
# playwright-core (tests/ui/ui_usable.mjs) against real nodes on 127.0.0.1:
# a province, a district and a commune whose upstreams are the district
# then the province (a standby link). Accounts of each; a few citizens'
# reports at the commune. Screenshots go to build/ui-artifacts/.
# Registered by tests/CMakeLists.txt with the label "browser".
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
SRC=${LT_SRC:?LT_SRC must point at the source tree}

if [ ! -x /usr/bin/chromium ] || [ ! -f "$SRC/web/node_modules/axe-core/axe.min.js" ]; then
    echo "chromium or web/node_modules (playwright-core, axe-core) missing: run scripts/install-deps" >&2
    exit 1
fi

make_tree
add_user() { echo "ui-pass-$2" | "$BIN" user add --dir "$T/$1" --user "$2" --role "$3" --unit "$4" >/dev/null; }
add_user prov prov-admin admin 40
add_user dist dist-leader leader 412
add_user c1 c1-staff staff 16681
add_user c1 c1-leader leader 16681
add_user c1 c1-admin admin 16681
# 5,000 reports at the commune before it starts (issue 18: every page with
# 5,000 reports loaded), through `lienthong import`
jq -nc --argjson now "$(date +%s%3N)" 'range(1; 5001) as $i
  | (["new","received","in_progress","resolved","closed"][$i % 5]) as $st
  | {id: "16681-\(100000 + $i)", title: "Phản ánh mẫu số \($i)", description: "Mô tả \($i)",
     category: (["traffic","environment","public_order","construction"][$i % 4]), status: $st,
     channel: "web", lat: (18.6 + ($i % 100) / 1000), lon: (105.6 + ($i % 97) / 1000),
     address: "Khối \($i % 10)", unit: "16681", created_ms: ($now - $i * 600000),
     received_ms: ($now - $i * 600000 + 3600000), updated_ms: ($now - $i * 600000 + 7200000), public: true}
  + (if $st == "resolved" or $st == "closed" then {resolved_ms: ($now - $i * 600000 + 7200000)} else {} end)' >"$T/many.jsonl"
check "5,000 reports imported at the commune" "$BIN" import --dir "$T/c1" --collection reports --file "$T/many.jsonl"
for n in prov dist c1; do start "$n" || exit 1; done
check "the commune links to the district" wait_until 20 link_open dist 16681
has_standby() { api c1 sync | jq -e '[.links[] | select(.direction == "up")] | length == 2 and any(.[]; .connected)' >/dev/null; }
check "the commune has two upstreams, one open" wait_until 20 has_standby
# the commune fails over to the province while the district is down, then
# goes back: the province's link stays as the standby (issue 18, defect 5)
check "the district stops" stop dist
check "the commune fails over to the province" wait_until 60 link_open c1 40
start dist || exit 1
back_to_parent() { link_open c1 412 && ! link_open c1 40; }
check "the commune is back on the district, the province's link idle" wait_until 90 back_to_parent
knows_province() { api c1 network | jq -e 'any(.units[]; .code == "40")' >/dev/null; }
check "the commune knows the province's unit" wait_until 30 knows_province
# reports at the commune: two on the map before the browser comes, one of a
# category the commune handles (public_order), one the district does (environment)
post_json c1 api/v1/public/reports '{"title": "Ổ gà số 1", "category": "public_order", "lat": 18.671, "lon": 105.691}' >/dev/null
post_json c1 api/v1/public/reports '{"title": "Ổ gà số 2", "category": "environment", "lat": 18.672, "lon": 105.692}' >/dev/null

export LT_UI_ARTIFACTS=${LT_UI_ARTIFACTS:-$(dirname "$BIN")/ui-artifacts}
export UI_T=$T UI_BIN=$BIN UI_SRC=$SRC
for n in prov dist c1; do export "UI_PORT_$n=${PORT[$n]}"; done
if node "$SRC/tests/ui/ui_usable.mjs"; then ok; else bad "usable-UI browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi
finish
