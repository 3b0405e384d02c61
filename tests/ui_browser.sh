#!/usr/bin/env bash
# Browser tests of the web UI (tests/ui/*.mjs, playwright-core driving
# Debian's chromium headless) against a real five-node network on
# 127.0.0.1 (tests/repl_lib.sh): login, the citizen -> district -> commune
# -> province flow of a report, a commune going offline and coming back on
# the network page, and a commune user refused another commune's report
# (ui_flow.mjs); a report titled with markup on the province dashboard
# under the node's real Content-Security-Policy (ui_tooltip.mjs); the
# indicator panel (ui_indicators.mjs); the camera page with a test stream
# made by the ffmpeg CLI (ui_cameras.mjs); the documents pages: compose,
# sign, send, receive, receipts (ui_documents.mjs); the tree changes on the
# root's admin page (ui_unit_ops.mjs).
# Screenshots of every page go to build/ui-artifacts/ (LT_UI_ARTIFACTS).
# Registered by tests/CMakeLists.txt with the label "browser" (the ASan
# pass skips it: it tests the pages, not memory).
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
SRC=${LT_SRC:?LT_SRC must point at the source tree}

if [ ! -x /usr/bin/chromium ] || [ ! -d "$SRC/web/node_modules/playwright-core" ]; then
    echo "chromium or web/node_modules missing: run scripts/install-deps" >&2
    exit 1
fi

make_tree
# accounts: NODE USER ROLE UNIT
add_user() { echo "ui-pass-$2" | "$BIN" user add --dir "$T/$1" --user "$2" --role "$3" --unit "$4" >/dev/null; }
add_user prov prov-admin admin 40
add_user nat nat-admin admin VN
add_user dist dist-leader leader 412
add_user dist c2-staff staff 16684
add_user c1 c1-staff staff 16681
add_user c1 c1-admin admin 16681
SERVE_ARGS="--camera-probe-interval 2"
for n in $NODES; do start "$n" || exit 1; done
check "tree linked up" wait_until 20 link_open dist 16681
check "tree linked up (2)" wait_until 20 link_open dist 16684

export LT_UI_ARTIFACTS=${LT_UI_ARTIFACTS:-$(dirname "$BIN")/ui-artifacts}
export UI_T=$T UI_BIN=$BIN UI_C1_PID=${PID[c1]}
for n in $NODES; do export "UI_PORT_$n=${PORT[$n]}"; done
node "$SRC/tests/ui/ui_flow.mjs"
rc=$?
node "$SRC/tests/ui/ui_tooltip.mjs" || rc=1
# ui_flow.mjs restarts the commune itself; its pid is in $T/c1.pid
[ -s "$T/c1.pid" ] && PID[c1]=$(cat "$T/c1.pid")
if [ $rc -eq 0 ]; then ok; else bad "browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi

# the indicator panel: POOR (pinned) defined at the province, last month's
# figure of commune 16681 only (16684 has not reported); a DTI indicator
# per pillar with the province's score
PA=$("$BIN" token --dir "$T/prov" --user prov-admin)
C1=$("$BIN" token --dir "$T/c1" --user c1-staff)
LAST=$(TZ=Asia/Ho_Chi_Minh date -d "$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-01) -1 day" +%Y-%m)
put() { curl -sf -o /dev/null --max-time 10 -X PUT -H "Authorization: Bearer $2" --data-binary "$4" \
    "http://127.0.0.1:${PORT[$1]}/api/v1/$3"; }
check "POOR defined" put prov "$PA" indicators/POOR \
    '{"name_vi":"Số hộ nghèo","name_en":"Poor households","measure":"hộ","period":"month","tiers":["commune"],"pinned":true}'
check "HH defined (not pinned)" put prov "$PA" indicators/HH \
    '{"name_vi":"Số hộ","name_en":"Households","measure":"hộ","period":"month","tiers":["commune"]}'
c1_has_poor() { curl -sf --max-time 5 -H "Authorization: Bearer $C1" "http://127.0.0.1:${PORT[c1]}/api/v1/indicators/POOR" >/dev/null; }
check "POOR reaches the commune" wait_until 30 c1_has_poor
DL=$("$BIN" token --dir "$T/dist" --user dist-leader)
dist_has_hh() { curl -sf --max-time 5 -H "Authorization: Bearer $DL" "http://127.0.0.1:${PORT[dist]}/api/v1/indicators/HH" >/dev/null; }
check "HH reaches the district" wait_until 30 dist_has_hh
check "the commune enters last month" put c1 "$C1" "indicators/POOR/values/16681/$LAST" '{"value":120.5}'
# the DTI: one indicator per pillar, the province's score of last month's year
for pv in GOV:0.6 ECO:0.4 SOC:0.5; do
    p=${pv%%:*}
    g=$(echo "$p" | tr A-Z a-z)
    check "DTI.$p.1 defined" put prov "$PA" "indicators/DTI.$p.1" \
        "{\"name_vi\":\"DTI $p 1\",\"measure\":\"điểm\",\"period\":\"year\",\"aggregation\":\"average\",\"tiers\":[\"province\"],\"group\":\"dti.$g\"}"
    check "...the province's score" put prov "$PA" "indicators/DTI.$p.1/values/40/${LAST%-*}" "{\"value\":${pv#*:}}"
done
prov_has() { api prov "indicators/POOR/values?unit=40&from=$LAST&to=$LAST" | jq -e '.rows[0].value == 120.5' >/dev/null; }
check "the province has it" wait_until 30 prov_has
if node "$SRC/tests/ui/ui_indicators.mjs"; then ok; else bad "indicator browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi

# the camera page: CAM-ON (a test stream on 127.0.0.1) and CAM-OFF (a dead port) at commune 16681
mkdir -p "$T/media"
ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=10 -t 4 -c:v mpeg4 -g 10 -f mpegts "$T/media/cam.ts"
for _ in $(seq 1 50); do HPORT=$(random_port); port_free "$HPORT" && port_free $((HPORT + 1)) && break; done
(cd "$T/media" && exec python3 -m http.server "$HPORT" --bind 127.0.0.1 >/dev/null 2>&1) &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null; repl_cleanup' EXIT
CA=$("$BIN" token --dir "$T/c1" --user c1-admin)
check "CAM-ON registered" put c1 "$CA" cameras/CAM-ON \
    "{\"name\":\"Ngã tư <b>Lê Lợi</b>\",\"field\":\"traffic\",\"lat\":18.68,\"lon\":105.69,\"url\":\"http://127.0.0.1:$HPORT/cam.ts\"}"
check "CAM-OFF registered" put c1 "$CA" cameras/CAM-OFF \
    "{\"name\":\"Cầu cũ\",\"field\":\"traffic\",\"lat\":18.66,\"lon\":105.67,\"url\":\"http://127.0.0.1:$((HPORT + 1))/x.ts\"}"
prov_cams() { api prov 'cameras/stats?by=field' | jq -e 'any(.rows[]; .key == "traffic" and .online == 1 and .total == 2)' >/dev/null &&
    curl -sf -o /dev/null -H "Authorization: Bearer $PA" "http://127.0.0.1:${PORT[prov]}/api/v1/cameras/CAM-ON/thumbnail.jpg"; }
check "the province holds both cameras' status and CAM-ON's thumbnail" wait_until 60 prov_cams
if node "$SRC/tests/ui/ui_cameras.mjs"; then ok; else bad "camera browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi
# the documents pages: prov-admin signs with a key of its own
check "prov-admin gets a signing key" bash -c "echo ky-so-tinh-40 | '$BIN' signer add --dir '$T/prov' --user prov-admin --position 'Chủ tịch UBND tỉnh' >/dev/null"
if node "$SRC/tests/ui/ui_documents.mjs"; then ok; else bad "document browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi
# the tree changes on the root's admin page (last: it renames the province)
if node "$SRC/tests/ui/ui_unit_ops.mjs"; then ok; else bad "unit operation browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi
finish
