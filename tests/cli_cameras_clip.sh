#!/usr/bin/env bash
# Clips are streamed (docs/media.md, "Recording and clips"): a commune node
# records a camera whose source is a 60 s, 8 Mbit/s file made by the ffmpeg
# CLI (read faster than real time, so a minute of segments comes in
# seconds); with 50 MB or more recorded, one clip.mp4 of all of it is read
# by a rate-limited client while the node's peak memory (VmHWM) is
# watched: it grows by far less than the clip's size, and the clip is a
# whole MP4 (ffprobe: codec, size, duration). A clip of nothing is 404.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/cam_lib.sh"

command -v ffmpeg >/dev/null || { echo "FAIL: ffmpeg (the CLI) is needed to make test streams" >&2; exit 1; }
M="$T/media"
mkdir -p "$M"
ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=10 -t 60 -c:v mpeg4 -b:v 8M \
    -minrate 8M -maxrate 8M -bufsize 2M -g 10 -f mpegts "$M/big.ts" ||
    { echo "FAIL: ffmpeg could not make the test file" >&2; exit 1; }

make_tree
export LT_RECORDING_SEGMENT_S=2 LT_RECORDING_MAX_BYTES=200000000
# under AddressSanitizer (make test-asan) freed memory waits in a quarantine
# (256 MiB by default) that would count as resident: keep it small
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64"
start c1 || exit 1
CA=$(mk c1 cadmin admin 16681)
CV=$(mk c1 cview viewer 16681)
call() { ncall "$1" c1 "${@:2}"; } # call METHOD TOKEN PATH [BODY]
rec() { # rec true|false
    call PUT "$CA" cameras/BIG "{\"name\":\"Ghi hình\",\"field\":\"security\",\"record\":$1,\"url\":\"file://$M/big.ts\"}"
}
check "a camera on the big file records" test "$(rec true)" = 200
recorded() {
    [ "$(call GET "$CV" cameras/BIG/recordings)" = 200 ] &&
        jq -e '([.recordings[].bytes] | add) >= 50000000' "$T/body" >/dev/null
}
check "50 MB or more of segments are indexed" wait_until 50 recorded
check "recording turned off" test "$(rec false)" = 200
check "...stopped" wait_until 20 grep -q 'event=camera.record id=BIG msg="recording stopped"' "$(log_of c1)"
[ "$(call GET "$CV" cameras/BIG/recordings)" = 200 ]
BYTES=$(jq '[.recordings[].bytes] | add' "$T/body")
hwm() { awk '/VmHWM/ { print $2 * 1024 }' "/proc/${PID[c1]}/status"; }
BEFORE=$(hwm)
code=$(curl -s -o "$T/clip.mp4" -w '%{http_code}' --max-time 60 --limit-rate 40M \
    -H "Authorization: Bearer $CV" "http://127.0.0.1:${PORT[c1]}/api/v1/cameras/BIG/clip.mp4")
AFTER=$(hwm)
SIZE=$(stat -c %s "$T/clip.mp4")
echo "clip: $SIZE bytes of $BYTES recorded; VmHWM $BEFORE -> $AFTER" >&2
check "the clip of everything: 200" test "$code" = 200
check "...as large as the segments (within 10 %)" test "$SIZE" -gt $((BYTES * 9 / 10))
check "...while the node's peak memory grew by less than 32 MiB" test $((AFTER - BEFORE)) -lt $((32 << 20))
check "...an MP4 of the camera's video, as long as the segments" bash -c "
    ffprobe -v error -show_entries format=format_name,duration -show_entries stream=codec_name,width,height -of json '$T/clip.mp4' >'$T/probe.json' &&
    jq -e '(.format.format_name | test(\"mp4\")) and .streams[0].codec_name == \"mpeg4\" and .streams[0].width == 640 and .streams[0].height == 360 and (.format.duration | tonumber) >= 50' '$T/probe.json'"
check "...whose 600 frames (60 s at 10 fps) are all there" bash -c "
    n=\$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 '$T/clip.mp4'); [ \$n -ge 595 ]"
check "a span with no recording: 404 camera.no_recording" \
    test "$(call GET "$CV" "cameras/BIG/clip.mp4?from=1&to=2")" = 404
check "...code camera.no_recording" jq -e '.error.code == "camera.no_recording"' "$T/body"
check "c1 stops cleanly" stop c1
finish
