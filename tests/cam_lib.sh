# cam_lib.sh - helpers of the camera tests (tests/cli_cameras*.sh), after
# repl_lib.sh. Sourced, not run (its name does not match the cli_*.sh glob).

# cam_stream FILE [SECONDS]: a test stream made by the ffmpeg CLI (testsrc
# 640x360 at 10 fps, MPEG-4 in MPEG-TS, a keyframe a second); exits the
# test when ffmpeg is missing or fails.
cam_stream() {
    command -v ffmpeg >/dev/null || { echo "FAIL: ffmpeg (the CLI) is needed to make test streams" >&2; exit 1; }
    mkdir -p "$(dirname "$1")"
    ffmpeg -loglevel error -f lavfi -i testsrc=size=640x360:rate=10 -t "${2:-4}" -c:v mpeg4 -g 10 \
        -f mpegts "$1" || { echo "FAIL: ffmpeg could not make the test stream" >&2; exit 1; }
}

# free_port: a port nothing listens on, below the ephemeral range.
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$(random_port)
        port_free "$p" && { echo "$p"; return; }
    done
}

# ncall METHOD NODE TOKEN PATH [BODY]: an API call; the body lands in
# $T/body; prints the HTTP code.
ncall() {
    curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
