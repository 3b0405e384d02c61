#!/usr/bin/env bash
# Cameras across real nodes (national VN, province 40, district 412,
# commune 16681): a test stream made with the ffmpeg CLI is served over
# HTTP on 127.0.0.1; the commune's admin registers cameras with
# credentials in their address; the commune probes them with libavformat
# (one online, one on a dead port offline), each status change is an entry
# that reaches every tier, a steady state writes nothing; the figures by
# field and by child unit at the district and the province; a thumbnail
# replicates up and is a small JPEG; the owner answers snapshot.jpg, a
# node above says it is not the owner; the password never leaves the
# commune (grep of the other nodes' data files); the CSV import (all or
# nothing, a rerun writes nothing); records of the generic collection
# the domain cannot parse are skipped, not fatal; CAM.ONLINE is an
# operational indicator, and CAM.ONLINE.<FIELD> (cameras online per field)
# equals the test's own count at every tier; a field that is none of the
# usual ones gets its indicator when the node restarts.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/cam_lib.sh"
. "$(dirname "$0")/csv_lib.sh"

command -v ffmpeg >/dev/null || { echo "FAIL: ffmpeg (the CLI) is needed to make test streams" >&2; exit 1; }
M="$T/media"
mkdir -p "$M"
ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=10 -t 6 -c:v mpeg4 -g 10 \
    -f mpegts "$M/cam.ts" || { echo "FAIL: ffmpeg could not make the test stream" >&2; exit 1; }
HPORT=
for _ in $(seq 1 50); do
    p=$(random_port)
    port_free "$p" && { HPORT=$p; break; }
done
(cd "$M" && exec python3 -m http.server "$HPORT" --bind 127.0.0.1 >"$T/http.log" 2>&1) &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null; repl_cleanup' EXIT
DEAD=$((HPORT + 1))
port_free "$DEAD" || DEAD=9

make_tree
SERVE_ARGS="--camera-probe-interval 1"
export LT_RECORDING_SEGMENT_S=2 LT_RECORDING_MAX_BYTES=300000
for n in nat prov dist c1; do start "$n" || exit 1; done
wait_until 10 curl -sf "http://127.0.0.1:$HPORT/cam.ts" -o /dev/null

CA=$(mk c1 cadmin admin 16681)
CV=$(mk c1 cview viewer 16681)
PA=$(mk prov padmin admin 40)
PV=$(mk prov pview viewer 40)
DV=$(mk dist dview viewer 412)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
code_is() { jq -e --arg c "$1" '.error.code == $c' "$T/body" >/dev/null; }
GOOD="http://cam:s3cretPass@127.0.0.1:$HPORT/cam.ts"

check "no login: 401" test "$(call PUT c1 x cameras/CAM1 '{}')" = 401
check "a viewer may not register a camera (403)" \
    test "$(call PUT c1 "$CV" cameras/CAM1 "{\"name\":\"x\",\"field\":\"traffic\",\"url\":\"$GOOD\"}")" = 403
check "a bad scheme is refused (400 camera.url)" \
    test "$(call PUT c1 "$CA" cameras/CAM1 '{"name":"x","field":"traffic","url":"gopher://h/x"}')" = 400
check "...code camera.url" code_is camera.url
check "a missing field is refused (400 camera.invalid)" \
    test "$(call PUT c1 "$CA" cameras/CAM1 "{\"name\":\"x\",\"url\":\"$GOOD\"}")" = 400
check "...code camera.invalid" code_is camera.invalid
check "the commune's admin registers CAM1 (traffic)" \
    test "$(call PUT c1 "$CA" cameras/CAM1 "{\"name\":\"Ngã tư Quang Trung\",\"field\":\"traffic\",\"lat\":18.67,\"lon\":105.69,\"url\":\"$GOOD\",\"enabled\":true}")" = 200
check "...answered without the credentials" \
    jq -e --arg u "http://127.0.0.1:$HPORT/cam.ts" '.url == $u and .unit == "16681" and .path == ["VN","40","412","16681"]' "$T/body"
check "...nowhere in the answer" bash -c "! grep -q s3cretPass '$T/body'"
check "CAM2 (traffic) on a dead port" \
    test "$(call PUT c1 "$CA" cameras/CAM2 "{\"name\":\"Cầu Bến Thủy\",\"field\":\"traffic\",\"url\":\"http://127.0.0.1:$DEAD/none.ts\"}")" = 200
check "CAM3 (security)" \
    test "$(call PUT c1 "$CA" cameras/CAM3 "{\"name\":\"UBND phường\",\"field\":\"security\",\"url\":\"$GOOD\"}")" = 200
status_is() { [ "$(call GET "$1" "$2" "cameras/$3")" = 200 ] && jq -e --arg s "$4" '.status == $s' "$T/body" >/dev/null; }
check "the commune probes CAM1: online" wait_until 40 status_is c1 "$CV" CAM1 online
check "...with codec, resolution and frame rate" \
    jq -e '.codec == "mpeg4" and .width == 640 and .height == 360 and .fps == 10 and .status_since > 0' "$T/body"
check "CAM2 goes offline" wait_until 40 status_is c1 "$CV" CAM2 offline
check "...with the reason" jq -e '.reason | test("cannot open")' "$T/body"
check "the province sees CAM1 online" wait_until 40 status_is prov "$PV" CAM1 online
check "...and CAM2 offline" wait_until 40 status_is prov "$PV" CAM2 offline
check "the list filters by field and status" \
    test "$(call GET prov "$PV" 'cameras?field=traffic&status=online')" = 200
check "...CAM1 only" jq -e '[.cameras[].id] == ["CAM1"]' "$T/body"
check "the list in pages of 2 (limit, cursor)" test "$(call GET prov "$PV" 'cameras?limit=2')" = 200
check "...the first page: 2 and a cursor" jq -e '(.cameras | length) == 2 and (.next | type) == "string"' "$T/body"
P1=$(jq -c '[.cameras[].id]' "$T/body")
NEXT=$(jq -r '.next | @uri' "$T/body")
page2() { # the page after cursor $NEXT: 1 camera not on the first page, no cursor
    [ "$(call GET prov "$PV" "cameras?limit=2&cursor=$NEXT")" = 200 ] &&
        jq -e --argjson p1 "$P1" '(.cameras | length) == 1 and .next == null and ([.cameras[].id] - $p1 | length) == 1' "$T/body" >/dev/null
}
check "...the second page: the third camera, no cursor" page2
check "a bad limit: 400" test "$(call GET prov "$PV" 'cameras?limit=0')" = 400
stats_ok() { [ "$(call GET prov "$PV" "$1")" = 200 ] && jq -e "$2" "$T/body" >/dev/null; }
check "the district's figures by field: traffic 1/2, security 1/1" wait_until 40 stats_ok \
    'cameras/stats?unit=412&by=field' \
    '.online == 2 and .total == 3 and any(.rows[]; .key == "traffic" and .online == 1 and .total == 2) and any(.rows[]; .key == "security" and .online == 1 and .total == 1)'
check "the province's figures by child: 412 has 2/3" stats_ok 'cameras/stats?by=child' \
    '.unit == "40" and (.rows | length) == 1 and .rows[0].key == "412" and .rows[0].online == 2 and .rows[0].total == 3'
check "a district viewer may not see the province's figures (403 camera.forbidden)" \
    test "$(call GET dist "$DV" 'cameras/stats?unit=40')" = 403
check "...code camera.forbidden" code_is camera.forbidden
check "CAM.ONLINE is an operational indicator" test "$(call GET prov "$PV" indicators)" = 200
check "...listed as live" jq -e 'any(.indicators[]; .code == "CAM.ONLINE" and .live)' "$T/body"
MONTH=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m)
check "...worth 2 of 3 cameras online (66.7 %) at the district this month" \
    test "$(call GET prov "$PV" "indicators/CAM.ONLINE/values?unit=412&from=$MONTH&to=$MONTH")" = 200
check "...the value" jq -e '((.rows[0].value * 3) | round) == 200' "$T/body"

# CAM.ONLINE.<FIELD>: the cameras online per field, at every tier, against
# the test's own count of the cameras that tier lists
NV=$(mk nat nview viewer VN)
check "CAM.ONLINE.TRAFFIC, .SECURITY, .PUBLIC_SERVICE, .ENVIRONMENT are listed as live" bash -c \
    "curl -s -H 'Authorization: Bearer $NV' http://127.0.0.1:${PORT[nat]}/api/v1/indicators | jq -e '[.indicators[] | select(.live and (.code | startswith(\"CAM.ONLINE.\"))) | .code] | sort == [\"CAM.ONLINE.ENVIRONMENT\",\"CAM.ONLINE.PUBLIC_SERVICE\",\"CAM.ONLINE.SECURITY\",\"CAM.ONLINE.TRAFFIC\"]'"
own_count() { # own_count NODE TOKEN UNIT FIELD: enabled cameras of FIELD online, or null when none
    [ "$(call GET "$1" "$2" "cameras?unit=$3")" = 200 ] &&
        jq -r --arg f "$4" '[.cameras[] | select(.field == $f and .enabled != false)] |
            if length == 0 then "null" else (map(select(.status == "online")) | length | tostring) end' "$T/body"
}
field_figure() { # field_figure NODE TOKEN UNIT FIELD: the indicator's value this month
    local code
    code="CAM.ONLINE.$(echo "$4" | tr a-z A-Z)"
    [ "$(call GET "$1" "$2" "indicators/$code/values?unit=$3&from=$MONTH&to=$MONTH")" = 200 ] &&
        jq -r '.rows[0].value | if . == null then "null" else (round | tostring) end' "$T/body"
}
figures_match() { # figures_match NODE TOKEN UNIT: every usual field's figure equals the own count
    local f got own
    for f in traffic security public_service environment; do
        got=$(field_figure "$@" "$f") && own=$(own_count "$@" "$f") && [ -n "$own" ] &&
            [ "$got" = "$own" ] || return 1
    done
}
check "the national node lists CAM1 online and CAM2 offline" wait_until 40 bash -c \
    "curl -s -H 'Authorization: Bearer $NV' 'http://127.0.0.1:${PORT[nat]}/api/v1/cameras?unit=VN' | jq -e '[.cameras[] | select(.status == \"online\") | .id] | sort == [\"CAM1\",\"CAM3\"]'"
check "...its own count: traffic 1, security 1, environment none" \
    test "$(own_count nat "$NV" VN traffic) $(own_count nat "$NV" VN security) $(own_count nat "$NV" VN environment)" = "1 1 null"
check "per-field figures equal the own count at the national node" figures_match nat "$NV" VN
check "...at the province" figures_match prov "$PV" 40
check "...at the district" figures_match dist "$DV" 412
check "...at the commune" figures_match c1 "$CV" 16681
check "...the commune's traffic figure is 1 (of 2 traffic cameras)" test "$(field_figure c1 "$CV" 16681 traffic)" = 1
check "...and the province's figure for the district's subtree too" figures_match prov "$PV" 412

# thumbnails replicate up; snapshots come from the owner
thumb_at() { curl -sf --max-time 10 -H "Authorization: Bearer $2" -o "$T/thumb.jpg" \
    "http://127.0.0.1:${PORT[$1]}/api/v1/cameras/$3/thumbnail.jpg"; }
check "the province holds CAM1's thumbnail" wait_until 40 thumb_at prov "$PV" CAM1
check "...a JPEG 320 px wide under 24 KiB" bash -c "
    [ \$(stat -c %s '$T/thumb.jpg') -lt 24576 ] &&
    [ \"\$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 '$T/thumb.jpg')\" = mjpeg,320 ]"
check "no thumbnail of the offline CAM2 (404 camera.no_picture)" \
    test "$(call GET prov "$PV" cameras/CAM2/thumbnail.jpg)" = 404
check "...code camera.no_picture" code_is camera.no_picture
check "the commune answers CAM1's snapshot" \
    test "$(call GET c1 "$CV" cameras/CAM1/snapshot.jpg)" = 200
check "...a full-size JPEG" bash -c \
    "[ \"\$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 '$T/body')\" = mjpeg,640,360 ]"
check "the dead camera's snapshot: 502 camera.unreachable" \
    test "$(call GET c1 "$CV" cameras/CAM2/snapshot.jpg)" = 502
check "...code camera.unreachable" code_is camera.unreachable
check "the province is not the owner: 409 camera.not_owner" \
    test "$(call GET prov "$PV" cameras/CAM1/snapshot.jpg)" = 409
check "...code camera.not_owner" code_is camera.not_owner
check "the province's admin may not change the commune's camera (409)" \
    test "$(call PUT prov "$PA" cameras/CAM1 "{\"name\":\"x\",\"field\":\"traffic\",\"url\":\"$GOOD\"}")" = 409

# live preview: a real-time source (ffmpeg -re, one client) behind a disabled camera (not probed)
LPORT=$((HPORT + 2))
port_free "$LPORT" || LPORT=$((HPORT + 3))
ffmpeg -loglevel error -re -stream_loop -1 -i "$M/cam.ts" -c copy -f mpegts -listen 1 \
    "http://127.0.0.1:$LPORT/live.ts" 2>/dev/null &
LIVE_SRC=$!
trap 'kill $HTTP_PID $LIVE_SRC 2>/dev/null; repl_cleanup' EXIT
listening() { ss -Hltn "sport = :$1" | grep -q .; } # without connecting: the source serves one client
check "the live source listens" wait_until 20 listening "$LPORT"
check "CAM5, a live source, registered disabled (so not probed)" \
    test "$(call PUT c1 "$CA" cameras/CAM5 "{\"name\":\"Live\",\"field\":\"traffic\",\"enabled\":false,\"url\":\"http://127.0.0.1:$LPORT/live.ts\"}")" = 200
watch_live() { # watch_live N: viewer N of CAM5 for 6 s into $T/live.N, headers in $T/live.N.h
    curl -s --max-time 6 -D "$T/live.$1.h" -H "Authorization: Bearer $CV" \
        "http://127.0.0.1:${PORT[c1]}/api/v1/cameras/CAM5/live.mjpeg" -o "$T/live.$1"
}
VIEWERS=
for i in 1 2 3 4; do watch_live $i & VIEWERS="$VIEWERS $!"; done
parts() { grep -ac -- '--ltframe' "$T/live.$1" 2>/dev/null; }
check "four viewers get pictures" wait_until 20 bash -c \
    "for i in 1 2 3 4; do [ \$(grep -ac -- '--ltframe' '$T/live.'\$i 2>/dev/null || echo 0) -ge 2 ] || exit 1; done"
check "...as multipart/x-mixed-replace" grep -qi 'content-type: multipart/x-mixed-replace; boundary=ltframe' "$T/live.1.h"
check "a fifth viewer of the camera: 503 camera.busy" test "$(call GET c1 "$CV" cameras/CAM5/live.mjpeg)" = 503
check "...code camera.busy" code_is camera.busy
wait $VIEWERS
check "...each viewer got several JPEG parts (5 a second at most)" bash -c \
    "n=\$(grep -ac -- '--ltframe' '$T/live.1'); [ \$n -ge 5 ] && [ \$n -le 35 ]"
check "the dead camera's live view: 502 camera.unreachable" \
    test "$(call GET c1 "$CV" cameras/CAM2/live.mjpeg)" = 502

# continuous recording: 2 s segments, a 300,000-byte disk budget
check "CAM6 records (record: true)" \
    test "$(call PUT c1 "$CA" cameras/CAM6 "{\"name\":\"Ghi hình\",\"field\":\"security\",\"record\":true,\"url\":\"http://127.0.0.1:$HPORT/cam.ts\"}")" = 200
nrec() { [ "$(call GET c1 "$CV" cameras/CAM6/recordings)" = 200 ] && jq -e --argjson n "$1" '(.recordings | length) >= $n' "$T/body" >/dev/null; }
check "segments are indexed" wait_until 40 nrec 3
check "...each with start < end and its bytes" \
    jq -e 'all(.recordings[]; .start < .end and .bytes > 1000)' "$T/body"
FROM=$(jq '.recordings[0].start' "$T/body")
TO=$(jq '.recordings[1].end' "$T/body")
check "a clip of the first two segments" test "$(call GET c1 "$CV" "cameras/CAM6/clip.mp4?from=$FROM&to=$TO")" = 200
check "...is an MP4 with the video, a few seconds long" bash -c "
    ffprobe -v error -show_entries format=format_name,duration -show_entries stream=codec_name,width -of json '$T/body' >'$T/probe.json' &&
    jq -e '(.format.format_name | test(\"mp4\")) and .streams[0].codec_name == \"mpeg4\" and .streams[0].width == 640 and (.format.duration | tonumber) >= 2' '$T/probe.json'"
check "a span with no recording: 404 camera.no_recording" \
    test "$(call GET c1 "$CV" "cameras/CAM6/clip.mp4?from=1&to=2")" = 404
check "...code camera.no_recording" code_is camera.no_recording
check "a bad span: 400" test "$(call GET c1 "$CV" "cameras/CAM6/clip.mp4?from=yesterday")" = 400
check "the disk budget removes the oldest segments" \
    wait_until 60 grep -q 'event=camera.retention id=CAM6 .*reason=disk_budget' "$(log_of c1)"
check "...and the index holds at most the budget, matching the files on disk" bash -c "
    curl -s -H 'Authorization: Bearer $CV' http://127.0.0.1:${PORT[c1]}/api/v1/cameras/CAM6/recordings >'$T/recs.json' &&
    [ \$(jq '[.recordings[].bytes] | add' '$T/recs.json') -le 300000 ] &&
    n=\$(jq '.recordings | length' '$T/recs.json'); f=\$(ls '$T/c1/recordings/CAM6' | wc -l);
    [ \$n -ge \$((f - 1)) ] && [ \$n -le \$f ]"
check "recording stops when record is turned off" \
    test "$(call PUT c1 "$CA" cameras/CAM6 "{\"name\":\"Ghi hình\",\"field\":\"security\",\"record\":false,\"url\":\"http://127.0.0.1:$HPORT/cam.ts\"}")" = 200
check "...logged" wait_until 20 grep -q 'event=camera.record id=CAM6 msg="recording stopped"' "$(log_of c1)"

# a steady state writes nothing: two more rounds after the statuses settled
rounds() { grep -c 'event=camera.round' "$(log_of c1)"; }
own_entries() { "$BIN" log --dir "$T/c1" 2>/dev/null | grep -c .; }
before=$(own_entries)
r0=$(rounds)
check "two more probe rounds run" wait_until 40 bash -c "[ \$(grep -c 'event=camera.round' '$(log_of c1)') -ge $((r0 + 2)) ]"
check "...and wrote nothing" test "$(own_entries)" = "$before"

# the credentials never leave the commune
check "the password is in no data file of the other nodes" \
    bash -c "! grep -rqa s3cretPass '$T/nat' '$T/prov' '$T/dist'"
api_clean() { # no answer of node $1 about the cameras carries the password
    for path in cameras 'cameras?format=csv' cameras/CAM1 cameras/CAM3 'cameras/stats?by=child' cameras/events; do
        ncall GET "$1" "$2" "$path" >/dev/null
        ! grep -q s3cretPass "$T/body" || return 1
    done
}
check "...nor in any camera answer of the province" api_clean prov "$PV"
check "...nor of the district" api_clean dist "$DV"
check "...nor in the commune's replicated records" \
    bash -c "! '$BIN' export --dir '$T/c1' --collection cameras | grep -q s3cretPass"
check "...nor in its log" bash -c "! '$BIN' log --dir '$T/c1' | grep -q s3cretPass"

# CSV import: all or nothing, a rerun writes nothing
printf 'id,name,field,lat,lon,url\nCSV1,Chợ Vinh,public_service,18.67,105.68,rtsp://u:csvPass@10.0.0.9/s1\nCSV2,Quảng trường,security,abc,105.68,rtsp://10.0.0.9/s2\n' >"$T/bad.csv"
"$BIN" cameras import --dir "$T/c1" --file "$T/bad.csv" >"$T/out" 2>"$T/err"
check "a bad row: exit 2" test $? -eq 2
check "...naming its line and column" grep -q 'line 3, column lat' "$T/err"
check "...and nothing stored" bash -c "! '$BIN' export --dir '$T/c1' --collection cameras | grep -q CSV1"
sed -i 's/,abc,/,18.66,/' "$T/bad.csv"
check "the corrected file imports: 2 written" bash -c "'$BIN' cameras import --dir '$T/c1' --file '$T/bad.csv' | grep -q '2 written, 0 unchanged'"
check "...a rerun writes nothing" bash -c "'$BIN' cameras import --dir '$T/c1' --file '$T/bad.csv' | grep -q '0 written, 2 unchanged'"
check "the imported camera reaches the province, without credentials" \
    wait_until 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $PV' http://127.0.0.1:${PORT[prov]}/api/v1/cameras/CSV1 | jq -r .url)\" = rtsp://10.0.0.9/s1 ]"

# CSV export of the list (issue 18): every camera the list selects, no credentials
check "a camera named like a formula" \
    test "$(call PUT c1 "$CA" cameras/CAMF "{\"name\":\"=cmd|' /C calc'!A0\",\"field\":\"security\",\"url\":\"rtsp://u:fPass@10.0.0.9/f\"}")" = 200
settled() { [ "$(call GET c1 "$CV" cameras)" = 200 ] && jq -e '[.cameras[] | select(.id | test("^(CSV1|CSV2|CAMF)$")) | .status] == ["offline","offline","offline"]' "$T/body" >/dev/null; }
check "...the new cameras probed: offline (the statuses compared below settle)" wait_until 60 settled
csv_same_as_json c1 "$CV" 'cameras?' '"\(.cameras | length) " + ([.cameras[].id] | sort | join(" "))' \
    '' 'field=traffic' 'status=online' 'field=security&status=offline'
check "...starts with the byte order mark and the header" \
    csv_header_is "id,name,field,unit,status,status_since,lat,lon,url,enabled,codec,width,height,fps"
check "the whole CSV at the commune" test "$(call GET c1 "$CV" 'cameras?format=csv')" = 200
check "...the formula name guarded with a leading '" grep -qF "CAMF,'=cmd|' /C calc'!A0,security" "$T/body"
check "...stream addresses without credentials" grep -qF "rtsp://10.0.0.9/s1" "$T/body"
check "...no password in it" bash -c "! grep -qE 's3cretPass|csvPass|fPass|u:' '$T/body'"
check "CSV by Accept: text/csv is served as text/csv" test "$(curl -s -D - -o /dev/null -H 'Accept: text/csv' \
    -H "Authorization: Bearer $CV" "http://127.0.0.1:${PORT[c1]}/api/v1/cameras" | grep -ci '^content-type: text/csv')" = 1
P84=$(mk prov p84 viewer 16684)
check "the province's CSV holds the commune's cameras" wait_until 30 bash -c \
    "curl -s -H 'Authorization: Bearer $PV' 'http://127.0.0.1:${PORT[prov]}/api/v1/cameras?format=csv' | grep -q '^CAMF,'"
check "...a viewer of commune 16684 gets the header alone" test "$(call GET prov "$P84" 'cameras?format=csv')" = 200
check "...." test "$(csv_rows)" = 0
check "...and may not ask 16681's: 403 like the list" test "$(call GET prov "$P84" 'cameras?format=csv&unit=16681')" = 403
check "...camera.forbidden" code_is camera.forbidden

# records of the generic collection the domain cannot read are skipped
printf '{"id":"ODD1","path":7,"field":3}\n{"id":"ODD2","unit":"16681","field":"traffic","online":true}\n' >"$T/odd.jsonl"
check "generic camera records the index cannot parse import" \
    "$BIN" import --dir "$T/c1" --collection cameras --file "$T/odd.jsonl"
check "...and the figures count the readable one" wait_until 20 bash -c \
    "curl -s -H 'Authorization: Bearer $CV' 'http://127.0.0.1:${PORT[c1]}/api/v1/cameras/stats?by=field' | jq -e 'any(.rows[]; .key == \"traffic\" and .total == 3 and .online == 2)'"
check "...at the province too (replication went on)" wait_until 30 bash -c \
    "curl -s -H 'Authorization: Bearer $PV' 'http://127.0.0.1:${PORT[prov]}/api/v1/cameras/stats?unit=16681&by=field' | jq -e 'any(.rows[]; .key == \"traffic\" and .total == 3)'"

# a field that is none of the usual ones gets its indicator when the node starts
has_flood() { [ "$(call GET c1 "$CV" indicators)" = 200 ] && jq -e 'any(.indicators[]; .code == "CAM.ONLINE.FLOOD" and .live)' "$T/body" >/dev/null; }
check "CAM7 of field flood" \
    test "$(call PUT c1 "$CA" cameras/CAM7 "{\"name\":\"Cống Bara\",\"field\":\"flood\",\"url\":\"$GOOD\"}")" = 200
check "...online" wait_until 40 status_is c1 "$CV" CAM7 online
no_flood() { [ "$(call GET c1 "$CV" indicators)" = 200 ] && ! has_flood; }
check "...no CAM.ONLINE.FLOOD while the commune runs on" no_flood
check "the commune restarts" stop c1
start c1
check "...then CAM.ONLINE.FLOOD is an operational indicator" has_flood
check "...equal to the own count: 1" test "$(field_figure c1 "$CV" 16681 flood) $(own_count c1 "$CV" 16681 flood)" = "1 1"
check "DELETE removes a camera" test "$(call DELETE c1 "$CA" cameras/CAM3)" = 200
check "...then 404 camera.not_found" test "$(call GET c1 "$CV" cameras/CAM3)" = 404
check "...code camera.not_found" code_is camera.not_found
check "verify passes on the province" "$BIN" verify --dir "$T/prov"
for n in nat prov dist c1; do check "$n stops cleanly" stop "$n"; done
finish
