#!/usr/bin/env bash
# Events from AI cameras (docs/media.md, "Events"), on real nodes province
# 40, district 412, commune 16681: a detector's account (staff) posts
# events to the commune that owns the camera, with type, time, plate,
# description and a JPEG snapshot (made by the ffmpeg CLI); bad events are
# refused naming the field and store nothing; events replicate up and are
# listed at every tier, newest first, filtered by camera, type and time,
# in pages; each links to the clip around its time; the picture reads back
# byte for byte at the province; daily counts per type at the district and
# the province; the indicator CAM.EVENTS; an event opens a field report.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/cam_lib.sh"

command -v ffmpeg >/dev/null || { echo "FAIL: ffmpeg (the CLI) is needed to make a picture" >&2; exit 1; }
ffmpeg -loglevel error -f lavfi -i testsrc=size=320x180 -frames:v 1 -q:v 8 "$T/shot.jpg" ||
    { echo "FAIL: ffmpeg could not make the picture" >&2; exit 1; }
make_tree
for n in prov dist c1; do start "$n" || exit 1; done
CA=$(mk c1 cadmin admin 16681)
DET=$(mk c1 detector staff 16681)
CV=$(mk c1 cview viewer 16681)
PV=$(mk prov pview viewer 40)
DV=$(mk dist dview viewer 412)
call() { ncall "$@"; }
code_is() { jq -e --arg c "$1" '.error.code == $c' "$T/body" >/dev/null; }
check "the commune registers the AI camera AI1 (traffic) and AI2" bash -c "
    [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: Bearer $CA' -H 'Content-Type: application/json' \
        --data-binary '{\"name\":\"Ngã tư Lê Lợi\",\"field\":\"traffic\",\"lat\":18.67,\"lon\":105.69,\"enabled\":false,\"url\":\"rtsp://127.0.0.1:9/ai1\"}' \
        http://127.0.0.1:${PORT[c1]}/api/v1/cameras/AI1)\" = 200 ] &&
    [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: Bearer $CA' -H 'Content-Type: application/json' \
        --data-binary '{\"name\":\"Cầu Bến Thủy\",\"field\":\"traffic\",\"lat\":18.64,\"lon\":105.70,\"enabled\":false,\"url\":\"rtsp://127.0.0.1:9/ai2\"}' \
        http://127.0.0.1:${PORT[c1]}/api/v1/cameras/AI2)\" = 200 ]"
NOW=$(($(date +%s%N) / 1000000))
PIC=$(base64 -w0 "$T/shot.jpg")
ev() { # ev CAMERA TYPE TIME [PLATE]: posts an event with the picture; prints the code
    local body
    body=$(jq -nc --arg t "$2" --argjson at "$3" --arg p "${4:-}" --arg pic "$PIC" \
        '{type: $t, time: $at, description: "vượt đèn đỏ", picture: $pic} + (if $p == "" then {} else {plate: $p} end)')
    call POST c1 "$DET" "cameras/$1/events" "$body"
}
check "a viewer may not post events (403)" test "$(call POST c1 "$CV" cameras/AI1/events '{"type":"red_light","time":1}')" = 403
check "a bad type: 400 camera.event_invalid" test "$(call POST c1 "$DET" cameras/AI1/events "{\"type\":\"Red Light\",\"time\":$NOW}")" = 400
check "...naming the field" bash -c "code_is() { jq -e --arg c \"\$1\" '.error.code == \$c' '$T/body' >/dev/null; }; code_is camera.event_invalid && jq -e '.error.message | test(\"type\")' '$T/body' >/dev/null"
check "a time 40 days old: 400" test "$(call POST c1 "$DET" cameras/AI1/events "{\"type\":\"red_light\",\"time\":$((NOW - 40 * 86400000))}")" = 400
check "a picture that is not a JPEG: 400" test "$(call POST c1 "$DET" cameras/AI1/events "{\"type\":\"red_light\",\"time\":$NOW,\"picture\":\"aGVsbG8=\"}")" = 400
check "...and nothing was stored" bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $CV' 'http://127.0.0.1:${PORT[c1]}/api/v1/cameras/events' | jq '.events | length')\" = 0 ]"
check "red_light on AI1 with plate and picture: 201" test "$(ev AI1 red_light $((NOW - 5000)) 37A-123.45)" = 201
check "...answered with its id, a picture and the clip around it" \
    jq -e --argjson t $((NOW - 5000)) '.camera == "AI1" and .type == "red_light" and .plate == "37A-123.45" and .picture == true and .unit == "16681" and
        .clip == "/api/v1/cameras/AI1/clip.mp4?from=\($t - 30000)&to=\($t + 30000)"' "$T/body"
EV1=$(jq -r .id "$T/body")
check "wrong_lane on AI1" test "$(ev AI1 wrong_lane $((NOW - 4000)) 37B-555.01)" = 201
check "red_light on AI2" test "$(ev AI2 red_light $((NOW - 3000)))" = 201
check "red_light on AI2 yesterday" test "$(ev AI2 red_light $((NOW - 86400000)))" = 201
list_n() { # list_n NODE TOKEN QUERY N
    [ "$(call GET "$1" "$2" "cameras/events?$3")" = 200 ] && jq -e --argjson n "$4" '(.events | length) == $n' "$T/body" >/dev/null
}
check "the province lists the 4 events" wait_until 30 list_n prov "$PV" "" 4
check "...newest first, without the picture's bytes" \
    jq -e '[.events[].time] == ([.events[].time] | sort | reverse) and all(.events[]; .picture == true)' "$T/body"
check "...of camera AI1 only: 2" list_n prov "$PV" "camera=AI1" 2
check "...of type red_light only: 3" list_n prov "$PV" "type=red_light" 3
check "...since an hour ago: 3" list_n prov "$PV" "from=$((NOW - 3600000))" 3
check "...in pages of 3: a cursor" bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $PV' 'http://127.0.0.1:${PORT[prov]}/api/v1/cameras/events?limit=3' | tee '$T/p1' | jq '.events | length')\" = 3 ]"
CUR=$(jq -r .next "$T/p1")
check "...the next page holds the fourth, the oldest" bash -c "
    curl -s -H 'Authorization: Bearer $PV' 'http://127.0.0.1:${PORT[prov]}/api/v1/cameras/events?limit=3&cursor=$CUR' >'$T/p2' &&
    jq -e --argjson t $((NOW - 86400000)) '(.events | length) == 1 and .events[0].time == \$t and .next == null' '$T/p2'"
check "the district lists its camera's events: 2 of AI2" list_n dist "$DV" "camera=AI2" 2
check "the camera's own list at the province" test "$(call GET prov "$PV" cameras/AI1/events)" = 200
check "...2 events" jq -e '(.events | length) == 2 and all(.events[]; .camera == "AI1")' "$T/body"
check "the picture reads back at the province, byte for byte" bash -c "
    curl -sf -H 'Authorization: Bearer $PV' 'http://127.0.0.1:${PORT[prov]}/api/v1/cameras/AI1/events/$EV1/picture.jpg' -o '$T/back.jpg' && cmp -s '$T/back.jpg' '$T/shot.jpg'"
TODAY=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-%d)
YDAY=$(TZ=Asia/Ho_Chi_Minh date -d @$(((NOW - 86400000) / 1000)) +%Y-%m-%d)
check "daily counts at the district for today: red_light 2, wrong_lane 1" \
    test "$(call GET dist "$DV" "cameras/events/counts?from=$TODAY")" = 200
check "...the figures" jq -e '.total == 3 and .by_type.red_light == 2 and .by_type.wrong_lane == 1' "$T/body"
check "the province's counts over two days: 4, yesterday's red_light 1" \
    test "$(call GET prov "$PV" "cameras/events/counts?unit=40&from=$YDAY&to=$TODAY")" = 200
check "...the figures" jq -e --arg y "$YDAY" '.total == 4 and any(.days[]; .day == $y and .type == "red_light" and .count == 1)' "$T/body"
check "a district viewer may not read the province's counts (403)" \
    test "$(call GET dist "$DV" "cameras/events/counts?unit=40")" = 403
MONTH=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m)
check "CAM.EVENTS is an operational indicator" test "$(call GET prov "$PV" "indicators/CAM.EVENTS/values?unit=40&from=$MONTH&to=$MONTH")" = 200
check "...worth the month's events per day" jq -e '.rows[0].value > 0' "$T/body"
check "an event that opens a field report (category traffic)" \
    test "$(call POST c1 "$DET" cameras/AI1/events "{\"type\":\"red_light\",\"time\":$NOW,\"plate\":\"37C-000.11\",\"report\":{\"category\":\"traffic\"}}")" = 201
check "...answered with the report's code" jq -e '.report | type == "string" and length > 0' "$T/body"
RCODE=$(jq -r .report "$T/body")
check "...a report of channel camera at the commune, at the camera's place" bash -c "
    [ \"\$(curl -s -o '$T/rep.json' -w '%{http_code}' -H 'Authorization: Bearer $CV' 'http://127.0.0.1:${PORT[c1]}/api/v1/reports/$RCODE')\" = 200 ] &&
    jq -e '.channel == \"camera\" and .lat == 18.67 and (.title | test(\"red_light 37C-000.11\"))' '$T/rep.json'"
check "the province is not the owner: 409 camera.not_owner" \
    test "$(call POST prov "$(mk prov pstaff staff 40)" cameras/AI1/events "{\"type\":\"red_light\",\"time\":$NOW}")" = 409
check "...code camera.not_owner" code_is camera.not_owner
for n in prov dist c1; do check "$n stops cleanly" stop "$n"; done
finish
