#!/usr/bin/env bash
# The live view relayed up the tree (docs/media.md, "Live preview"): real
# nodes province 40, district 412, commune 16681; the commune owns a camera
# on a real-time stream made by the ffmpeg CLI (restarted for each client);
# the province serves its live MJPEG, the pictures coming over the media
# side channel that the district and the commune dial up to their parents;
# each hop logs its source; the viewer leaving stops every hop down to the
# owner's reader; the caps apply at the province and at the owner, where
# the relay is one viewer; the district stopping while it relays ends the
# province's viewer and the commune's reader (and leaks nothing under
# ASan); with the commune down the province says why; the stream's
# password stays on the commune.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/cam_lib.sh"

M="$T/media"
cam_stream "$M/cam.ts"
LPORT=$(free_port)
# one real-time client at a time, served again after each
(while :; do
    ffmpeg -loglevel error -re -stream_loop -1 -i "$M/cam.ts" -c copy -f mpegts -listen 1 \
        "http://127.0.0.1:$LPORT/live.ts" 2>/dev/null &
    echo $! >"$T/src.pid"
    wait $!
done) &
LOOP=$!
src_cleanup() { kill "$LOOP" 2>/dev/null; [ -f "$T/src.pid" ] && kill "$(cat "$T/src.pid")" 2>/dev/null; }
trap 'src_cleanup; repl_cleanup' EXIT

make_tree
for n in prov dist c1; do start "$n" || exit 1; done
CA=$(mk c1 cadmin admin 16681)
CV=$(mk c1 cview viewer 16681)
PV=$(mk prov pview viewer 40)
call() { ncall "$@"; }
listening() { ss -Hltn "sport = :$1" | grep -q .; }
check "the live source listens" wait_until 20 listening "$LPORT"
check "the commune's link to the district is open" wait_until 30 link_open c1 412
check "the district's link to the province is open" wait_until 30 link_open dist 40
check "the commune registers CAM5 (disabled: not probed, watched live only)" \
    test "$(call PUT c1 "$CA" cameras/CAM5 "{\"name\":\"Ngã tư\",\"field\":\"traffic\",\"enabled\":false,\"url\":\"http://cam:r3layPass@127.0.0.1:$LPORT/live.ts\"}")" = 200
has_cam() { [ "$(call GET prov "$PV" cameras/CAM5)" = 200 ]; }
check "the province holds CAM5's record" wait_until 30 has_cam

watch() { # watch N SECONDS NODE TOKEN: viewer N of CAM5 into $T/live.N
    curl -s --max-time "$2" -D "$T/live.$1.h" -H "Authorization: Bearer $4" \
        "http://127.0.0.1:${PORT[$3]}/api/v1/cameras/CAM5/live.mjpeg" -o "$T/live.$1"
}
frames() { [ "$(grep -ac -- '--ltframe' "$T/live.$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
# caps at each hop: 4 viewers per camera at the province share one relay,
# which is one of the commune's 4
watch 2 10 prov "$PV" &
VIEWERS=$!
check "a province viewer gets pictures relayed from the commune" wait_until 20 frames 2 1
for i in 3 4 5; do watch $i 10 prov "$PV" & VIEWERS="$VIEWERS $!"; done
check "four province viewers get pictures" wait_until 20 bash -c \
    "for i in 2 3 4 5; do [ \$(grep -ac -- '--ltframe' '$T/live.'\$i 2>/dev/null || echo 0) -ge 2 ] || exit 1; done"
check "...over one relay: the commune started one reader" \
    test "$(grep -c 'event=camera.live_start id=CAM5' "$(log_of c1)")" = 1
check "a fifth province viewer: 503 camera.busy" test "$(call GET prov "$PV" cameras/CAM5/live.mjpeg)" = 503
for i in 6 7 8; do watch $i 4 c1 "$CV" & VIEWERS="$VIEWERS $!"; done
check "three local viewers at the commune get pictures too" wait_until 20 bash -c \
    "for i in 6 7 8; do [ \$(grep -ac -- '--ltframe' '$T/live.'\$i 2>/dev/null || echo 0) -ge 2 ] || exit 1; done"
check "...a fourth: 503, the relay being one of the commune's four" \
    test "$(call GET c1 "$CV" cameras/CAM5/live.mjpeg)" = 503
wait $VIEWERS
check "all left: the commune's reader stops" \
    wait_until 20 grep -q 'event=camera.live_stop id=CAM5' "$(log_of c1)"

check "the live source listens again" wait_until 20 listening "$LPORT"
watch 1 8 prov "$PV" &
V1=$!
check "the province's viewer gets pictures relayed from the commune" wait_until 20 frames 1 3
check "...as multipart/x-mixed-replace" grep -qi 'content-type: multipart/x-mixed-replace; boundary=ltframe' "$T/live.1.h"
check "...JPEGs of the camera's size (640x360)" bash -c "
    python3 - '$T/live.1' '$T/frame.jpg' <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
i = b.index(b'\xff\xd8'); j = b.index(b'\xff\xd9', i)
open(sys.argv[2], 'wb').write(b[i:j + 2])
EOF
    [ \"\$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 '$T/frame.jpg')\" = mjpeg,640,360 ]"
check "the province relays from unit 16681" grep -q 'event=camera.live_start id=CAM5 source=unit 16681' "$(log_of prov)"
check "...the district too (it is not the owner either)" grep -q 'event=camera.live_start id=CAM5 source=unit 16681' "$(log_of dist)"
check "...the commune reads the stream itself" grep -q 'event=camera.live_start id=CAM5 source=local' "$(log_of c1)"
wait $V1
check "the viewer left: the commune's reader stops again" wait_until 20 bash -c \
    "[ \$(grep -c 'event=camera.live_stop id=CAM5' '$(log_of c1)') -ge 2 ]"
check "...the district's relay stopped" bash -c "[ \$(grep -c 'event=camera.live_stop id=CAM5' '$(log_of dist)') -ge 2 ]"
check "...and the province's" bash -c "[ \$(grep -c 'event=camera.live_stop id=CAM5' '$(log_of prov)') -ge 2 ]"

# the district (the middle hop) stops while it relays
check "the live source listens again" wait_until 20 listening "$LPORT"
watch 9 30 prov "$PV" &
V9=$!
check "a province viewer watches again" wait_until 20 frames 9 2
check "the district stops cleanly while it relays" stop dist
check "...the province's viewer is ended" wait_until 20 bash -c "! kill -0 $V9 2>/dev/null"
check "...and the commune's reader stops" wait_until 20 bash -c \
    "[ \$(grep -c 'event=camera.live_stop id=CAM5' '$(log_of c1)') -ge 3 ]"

# the commune down (and the district): the province says why
stop c1 >/dev/null
check "with the commune down, the province answers 502 camera.unreachable" \
    wait_until 30 bash -c "[ \"\$(curl -s -o '$T/body' -w '%{http_code}' --max-time 20 -H 'Authorization: Bearer $PV' http://127.0.0.1:${PORT[prov]}/api/v1/cameras/CAM5/live.mjpeg)\" = 502 ]"
check "...saying that no link to unit 16681 is up" \
    jq -e '.error.code == "camera.unreachable" and (.error.message | test("no link to the node of unit 16681"))' "$T/body"

check "the stream's password is in no file of the district or the province" \
    bash -c "! grep -rqa r3layPass '$T/prov' '$T/dist' $(log_of prov) $(log_of dist)"
check "prov stops cleanly" stop prov
finish
