#!/usr/bin/env bash
# The demo's cameras (docs/media.md, "Demo"): `lienthong demo` seeds real
# registry records through the cameras domain, owned at every tier of the
# demo network (province 40, district 412, communes 16681 and 16684), three
# per unit on a test stream the node writes and plays (MJPEG file) and one
# on an address nothing answers; the province lists all of them with their
# owners, its figures settle at 12 online of 16, it holds the thumbnail of
# a commune's camera, and the commune makes a snapshot of it.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

BASE=
for _ in $(seq 1 50); do
    b=$(random_port)
    port_free "$b" && port_free $((b + 1)) && port_free $((b + 2)) && port_free $((b + 3)) && { BASE=$b; break; }
done
"$BIN" demo --dir "$T/demo" --base-port "$BASE" >"$T/demo.out" 2>"$T/demo.err" &
DEMO=$!
trap 'kill -TERM $DEMO 2>/dev/null; wait $DEMO 2>/dev/null; repl_cleanup' EXIT
check "the demo network starts" wait_until 60 grep -q 'web UI' "$T/demo.out"
TOK=$("$BIN" token --dir "$T/demo/40" --user admin)
C1=$("$BIN" token --dir "$T/demo/16681" --user admin)
get() { curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/v1/$3"; }
all_listed() {
    [ "$(get "$BASE" "$TOK" cameras)" = 200 ] && jq -e '(.cameras | length) == 16' "$T/body" >/dev/null
}
check "the province lists the 16 demo cameras" wait_until 60 all_listed
check "...owned at every tier, each with its path" jq -e '
    ([.cameras[].unit] | unique) == ["16681", "16684", "40", "412"] and
    all(.cameras[]; (.path | last) == .unit and .path[0] == "40")' "$T/body"
check "...the addresses without credentials" bash -c "! grep -q 'demo:demo' '$T/body'"
online12() {
    [ "$(get "$BASE" "$TOK" 'cameras/stats?by=child')" = 200 ] && jq -e '.online == 12 and .total == 16' "$T/body" >/dev/null
}
check "the figures settle at 12 online of 16 (the owners probe their streams)" wait_until 90 online12
check "...per child unit: 412 has 9 of 12" jq -e 'any(.rows[]; .key == "412" and .online == 9 and .total == 12)' "$T/body"
thumb() { curl -sf --max-time 10 -H "Authorization: Bearer $TOK" -o "$T/thumb.jpg" "http://127.0.0.1:$BASE/api/v1/cameras/CAM-16681-01/thumbnail.jpg"; }
check "the province holds a commune camera's thumbnail" wait_until 60 thumb
check "...a JPEG 320 px wide" bash -c "[ \"\$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 '$T/thumb.jpg')\" = mjpeg,320 ]"
check "the commune makes a snapshot of its camera: 640x360" bash -c "
    [ \"\$(curl -s -o '$T/snap.jpg' -w '%{http_code}' --max-time 20 -H 'Authorization: Bearer $C1' http://127.0.0.1:$((BASE + 2))/api/v1/cameras/CAM-16681-01/snapshot.jpg)\" = 200 ] &&
    [ \"\$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 '$T/snap.jpg')\" = mjpeg,640,360 ]"
check "no generic demo camera record is left (no \"online\" flag)" bash -c "
    curl -s -H 'Authorization: Bearer $TOK' http://127.0.0.1:$BASE/api/v1/cameras | jq -e '(.cameras | length) == 16 and all(.cameras[]; has(\"online\") | not)'"
kill -TERM $DEMO
check "the demo stops" wait $DEMO
# after the snapshot and thumbnails above (FFmpeg ran in the demo and its
# nodes): FFmpeg's warnings went through the log, not raw onto stderr
# (beside the demo command's own "demo: ..." lines)
check "every line on the demo's stderr is a log line (no raw FFmpeg text)" \
    awk '!/^ts=[^ ]+ level=[a-z]+ event=/ && !/^demo: / && NF { print; bad = 1 } END { exit bad }' "$T/demo.err"
finish
