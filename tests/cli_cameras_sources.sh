#!/usr/bin/env bash
# Camera sources of every kind the issue names, made by the ffmpeg CLI on
# 127.0.0.1 and probed by a real commune node (docs/media.md, "Probing"):
# an MPEG-TS file over HTTP that stops and comes back (offline within the
# probe interval, then online again), a live multipart MJPEG server, an
# RTSP server (tests/tools/rtsp_ts_server.py: the CLI cannot serve RTSP), and a source that accepts the connection and then sends
# nothing (offline with the reason; a snapshot of it answers 502 within the
# probe's bound, and the probe rounds go on: no thread is held past it).
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/cam_lib.sh"

M="$T/media"
cam_stream "$M/cam.ts"
HPORT=$(free_port); MPORT=$(free_port); RPORT=$(free_port); SPORT=$(free_port)
serve_http() { (cd "$M" && exec python3 -m http.server "$HPORT" --bind 127.0.0.1 >/dev/null 2>&1) & HTTP_PID=$!; }
serve_http
loop() { # loop NAME ffmpeg-args...: serves one client at a time, again and again
    local name=$1; shift
    (while :; do ffmpeg -loglevel error "$@" 2>/dev/null & echo $! >"$T/$name.pid"; wait $!; done) &
    echo $! >"$T/$name.loop"
}
loop mjpeg -re -stream_loop -1 -i "$M/cam.ts" -c:v mjpeg -q:v 5 -f mpjpeg -listen 1 "http://127.0.0.1:$MPORT/cam.mjpeg"
# the ffmpeg CLI cannot serve RTSP: a small RTSP server (RTP MP2T over TCP) serves its file
python3 "$(dirname "$0")/tools/rtsp_ts_server.py" "$RPORT" "$M/cam.ts" & RTSP_PID=$!
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $SPORT)); s.listen(16); held = []
while True:
    c, _ = s.accept(); held.append(c)
" & SILENT=$!
cleanup() {
    kill $HTTP_PID $SILENT $RTSP_PID 2>/dev/null
    kill "$(cat "$T/mjpeg.loop")" 2>/dev/null; kill "$(cat "$T/mjpeg.pid" 2>/dev/null)" 2>/dev/null
    repl_cleanup
}
trap cleanup EXIT

make_tree
SERVE_ARGS="--camera-probe-interval 2"
start c1 || exit 1
CA=$(mk c1 cadmin admin 16681)
CV=$(mk c1 cview viewer 16681)
call() { ncall "$1" c1 "${@:2}"; } # call METHOD TOKEN PATH [BODY]
reg() { call PUT "$CA" "cameras/$1" "{\"name\":\"$1\",\"field\":\"traffic\",\"url\":\"$2\"}"; }
listening() { ss -Hltn "sport = :$1" | grep -q .; }
check "the MJPEG and RTSP servers listen" wait_until 20 bash -c "ss -Hltn 'sport = :$MPORT' | grep -q . && ss -Hltn 'sport = :$RPORT' | grep -q ."
check "HTTP (MPEG-TS file) camera registered" test "$(reg HTTP1 "http://127.0.0.1:$HPORT/cam.ts")" = 200
check "MJPEG camera registered" test "$(reg MJPG1 "http://127.0.0.1:$MPORT/cam.mjpeg")" = 200
check "RTSP camera registered" test "$(reg RTSP1 "rtsp://user:pw@127.0.0.1:$RPORT/live")" = 200
check "silent camera registered" test "$(reg MUTE1 "http://127.0.0.1:$SPORT/x.ts")" = 200
status_is() { [ "$(call GET "$CV" "cameras/$1")" = 200 ] && jq -e --arg s "$2" '.status == $s' "$T/body" >/dev/null; }
check "the HTTP camera goes online" wait_until 40 status_is HTTP1 online
check "the MJPEG camera goes online" wait_until 40 status_is MJPG1 online
check "...codec mjpeg, 640x360" jq -e '.codec == "mjpeg" and .width == 640 and .height == 360' "$T/body"
check "the RTSP camera goes online" wait_until 40 status_is RTSP1 online
check "...codec mpeg4, 640x360" jq -e '.codec == "mpeg4" and .width == 640 and .height == 360' "$T/body"
check "the silent camera goes offline" wait_until 40 status_is MUTE1 offline
check "...with the reason" jq -e '.reason | length > 0' "$T/body"
t0=$(now)
code=$(call GET "$CV" cameras/MUTE1/snapshot.jpg)
took=$(since "$t0")
check "a snapshot of the silent source: 502" test "$code" = 502
check "...within the probe's bound (10 s) and a margin ($took s)" awk -v t="$took" 'BEGIN { exit !(t < 14) }'
rounds() { grep -c 'event=camera.round' "$(log_of c1)"; }
r0=$(rounds)
check "probe rounds go on while the silent source holds its connections" \
    wait_until 40 bash -c "[ \$(grep -c 'event=camera.round' '$(log_of c1)') -ge $((r0 + 2)) ]"
kill $HTTP_PID
wait $HTTP_PID 2>/dev/null
check "the HTTP source stops: the camera goes offline within a few probe intervals" wait_until 30 status_is HTTP1 offline
serve_http
check "...and comes back online" wait_until 30 status_is HTTP1 online
check "...its recent history, newest first: online, offline, online" \
    jq -e '[.history[].status] == ["online", "offline", "online"] and .history[0].at > .history[1].at and (.history[1].reason | length) > 0' "$T/body"
check "the node still answers" test "$(call GET "$CV" cameras)" = 200
check "c1 stops cleanly" stop c1
# FFmpeg's own warnings about these streams go through the node's log (event
# ffmpeg.log, debug level), never as raw text among its logfmt lines
check "every line c1 wrote to stderr is a log line (ts=... level=... event=...)" \
    awk '!/^ts=[^ ]+ level=[a-z]+ event=/ { print; bad = 1 } END { exit bad }' "$T"/c1.*.log
finish
