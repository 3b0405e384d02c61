#!/usr/bin/env bash
# Report uploads run on the uv thread pool, not on the node's loop: while a
# report with five 4 MiB photos is being created (through the public API,
# the native API and Open311 multipart), GET /api/v1/health keeps answering
# within a generous bound (on the loop it stalled for ~0.7 s). Also: two
# big uploads at once get different tracking codes, and a big upload with a
# bad fifth photo is a 400 that stores nothing. Prints the figures of
# docs/performance.md ("Field reports: native API latency").
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
start c1 || exit 1
TOKEN=$(mk c1 staff1 staff 16681)
ADMIN=$(mk c1 admin1 admin 16681)
O311KEY=$("$BIN" open311-key add --dir "$T/c1" --name upload-app 2>/dev/null)
H="http://127.0.0.1:${PORT[c1]}"
BOUND=0.2
[ -n "${LT_SANITIZED:-}" ] && BOUND=0.5

# five different photos just under 4 MiB: a PNG header, then random bytes
DOT='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
for i in 1 2 3 4 5; do
    { printf '%s' "$DOT" | base64 -d; head -c $((4 * 1024 * 1024 - 200)) /dev/urandom; } >"$T/p$i.png"
    base64 -w0 "$T/p$i.png" >"$T/p$i.b64"
done
GOOD='"title": "Cống tắc", "lat": 18.6734, "lon": 105.6923, "category": "traffic"'
# body FILE LAST: a report JSON with p1..p4 and LAST (a file of base64) as photos
body() {
    {
        printf '{%s, "photos": [' "$GOOD"
        for i in 1 2 3 4; do printf '{"type": "image/png", "data": "%s"}, ' "$(cat "$T/p$i.b64")"; done
        printf '{"type": "image/png", "data": "%s"}]}' "$(cat "$2")"
    } >"$1"
}
body "$T/five.json" "$T/p5.b64"
printf 'not an image at all' | base64 -w0 >"$T/bad.b64"
body "$T/bad.json" "$T/bad.b64"
echo "upload body: $(stat -c %s "$T/five.json") bytes" >&2

# during NAME CURL_ARGS...: runs the upload in the background and samples
# health until it is done; sets STATUS, UPLOAD_S, HEALTH_MAX, SAMPLES.
during() {
    local name=$1; shift
    curl -s -o "$T/body" -w '%{http_code} %{time_total}\n' --max-time 60 "$@" >"$T/upload.out" &
    local pid=$! t m=0 n=0
    curl -s -o /dev/null "$H/api/v1/health"
    while kill -0 "$pid" 2>/dev/null; do
        t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 10 "$H/api/v1/health") || t=10
        n=$((n + 1))
        m=$(awk -v a="$m" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
        sleep 0.01
    done
    wait "$pid"
    read -r STATUS UPLOAD_S <"$T/upload.out"
    HEALTH_MAX=$m SAMPLES=$n
    echo "$name: upload $STATUS in $UPLOAD_S s; health max ${HEALTH_MAX} s over $SAMPLES samples" >&2
}
responsive() {
    check "...health answered within $BOUND s meanwhile (max $HEALTH_MAX s)" \
        awk -v t="$HEALTH_MAX" -v b="$BOUND" 'BEGIN { exit !(t < b) }'
    check "...sampled while it ran ($SAMPLES samples)" test "$SAMPLES" -ge 3
}

# ---- the public API ----
during public -H 'Content-Type: application/json' --data-binary @"$T/five.json" "$H/api/v1/public/reports"
check "public: five 4 MiB photos: 201" test "$STATUS" = 201
check "...all five kept" jqb '.photos | length == 5'
responsive
CODE=$(jq -r .code "$T/body")
HASH=$(jq -r '.photos[4].hash' "$T/body")
check "...the fifth photo is served whole" \
    bash -c "curl -s '$H/api/v1/public/reports/$CODE/photos/$HASH' | cmp - '$T/p5.png'"

# ---- the native API ----
during native -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary @"$T/five.json" "$H/api/v1/reports"
check "native: five 4 MiB photos: 201" test "$STATUS" = 201
check "...with the report as GET gives it" jqb '(.photos | length == 5) and .channel == "hotline" and (.history | length == 1)'
responsive

# ---- Open311 multipart ----
during open311 -F "api_key=$O311KEY" -F service_code=traffic -F lat=18.6734 -F long=105.6923 \
    -F "description=Cống tắc" -F "media=@$T/p1.png;type=image/png" -F "media=@$T/p2.png;type=image/png" \
    -F "media=@$T/p3.png;type=image/png" -F "media=@$T/p4.png;type=image/png" \
    -F "media=@$T/p5.png;type=image/png" "$H/open311/v2/requests.json"
check "open311: five 4 MiB media: 200" test "$STATUS" = 200
check "...a service_request_id" jqb '.[0].service_request_id | test("^16681-[0-9]+$")'
responsive
ID=$(jq -r '.[0].service_request_id' "$T/body")
check "...the report has the five photos" \
    bash -c "curl -s -H 'Authorization: Bearer $TOKEN' '$H/api/v1/reports/$ID' | jq -e '.photos | length == 5' >/dev/null"
check "...the audit names the api_key" \
    bash -c "curl -s -H 'Authorization: Bearer $ADMIN' '$H/api/v1/audit' | jq -e 'any(.. | objects; .user? == \"open311:upload-app\" and ((.path? // \"\") | test(\"open311\")))' >/dev/null"

# ---- errors and concurrency ----
before=$(count c1 reports)
during bad -H 'Content-Type: application/json' --data-binary @"$T/bad.json" "$H/api/v1/public/reports"
check "a bad fifth photo: 400" test "$STATUS" = 400
check "...naming it" jqb '.error.message | test("photos\\[4\\]|image|JPEG|PNG"; "i")'
check "...nothing stored" test "$(count c1 reports)" = "$before"
pids=()
for i in 1 2; do
    curl -s -o "$T/c$i.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary @"$T/five.json" "$H/api/v1/public/reports" >"$T/c$i.status" &
    pids+=($!)
done
wait "${pids[@]}"
check "two big uploads at once: both 201" test "$(cat "$T/c1.status" "$T/c2.status")" = 201201
check "...with different codes" test "$(jq -r .code "$T/c1.json")" != "$(jq -r .code "$T/c2.json")"
check "...both stored" test "$(count c1 reports)" = $((before + 2))
check "the node stops cleanly (exit 0: no sanitizer report)" stop c1
finish
