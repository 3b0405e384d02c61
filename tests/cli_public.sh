#!/usr/bin/env bash
# The citizens' public API with real nodes (a district and one of its
# communes): categories; a submission followed by its tracking code; staff
# receive and resolve it through the native API; the map; a rating, then
# an unsatisfied one that reopens it; a rating on a node without write
# authority; bad input, each a 400 that stores nothing; no personal data in
# any public answer; the per-address submission limit.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
start dist || exit 1
start c1 || exit 1
P="api/v1/public"
PERSONAL='Nguyễn Thị Hoa|0912345678|hoa@example.vn'
no_personal() { ! grep -Eq "$PERSONAL" "$T/body"; }
all_public() { [ "$KEPT" -gt 0 ] && ! cat "$T"/public.* | grep -Eq "$PERSONAL"; } # none kept: fails
keep() { cp "$T/body" "$T/public.$((++KEPT))"; } # every public answer, checked at the end
KEPT=0

check "categories: 200" test "$(node_req c1 GET $P/categories)" = 200
check "...the five active ones" jqb '[.categories[].code] | sort == ["construction","environment","public_order","smart_services","traffic"]'
check "...with their names" jqb '.categories[] | select(.code == "traffic") | .name_vi == "Giao thông"'

# ---- bad input: a clear 400, nothing stored ----
before=$(count c1 reports)
GOOD='"title": "Cống tắc", "description": "Nước tràn ra đường", "lat": 18.6734, "lon": 105.6923'
check "an unknown category: 400" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"potholes\"}")" = 400
check "...named in the message" jqb '.error.message | test("potholes")'
check "no location: 400" test "$(post_json c1 $P/reports '{"title": "x", "category": "traffic"}')" = 400
check "...says lat" jqb '.error.message | test("lat")'
check "latitude out of range: 400" test "$(post_json c1 $P/reports '{"title": "x", "category": "traffic", "lat": 91, "lon": 105}')" = 400
check "longitude not a number: 400" test "$(post_json c1 $P/reports '{"title": "x", "category": "traffic", "lat": 18, "lon": "east"}')" = 400
check "malformed JSON: 400" test "$(post_json c1 $P/reports '{"title": "x", ')" = 400
check "...says so" jqb '.error.message | test("not valid JSON")'
check "not an object: 400" test "$(post_json c1 $P/reports '[1]')" = 400
check "an unknown field: 400" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"traffic\", \"status\": \"resolved\"}")" = 400
check "...named" jqb '.error.message | test("status")'
check "a channel other than web or app: 400" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"traffic\", \"channel\": \"hotline\"}")" = 400
check "a photo that is not an image: 400" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"traffic\", \"photos\": [{\"type\": \"image/jpeg\", \"data\": \"$(printf 'hello, not a jpeg' | base64)\"}]}")" = 400
check "...says what is accepted" jqb '.error.message | test("JPEG|PNG|WebP|image"; "i")'
check "a photo that is not base64: 400" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"traffic\", \"photos\": [{\"type\": \"image/png\", \"data\": \"***\"}]}")" = 400
DOT='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
{ printf '%s' "$DOT" | base64 -d; head -c $((4 * 1024 * 1024)) /dev/zero; } | base64 -w0 >"$T/big.b64"
printf '{%s, "category": "traffic", "photos": [{"type": "image/png", "data": "%s"}]}' "$GOOD" "$(cat "$T/big.b64")" >"$T/big.json"
code=$(node_req c1 POST $P/reports -H 'Content-Type: application/json' --data-binary @"$T/big.json")
check "a photo over 4 MiB: refused with 400, got $code" test "$code" = 400
check "...saying the limit" jqb '.error.message | test("4 MiB|MiB|too large|larger"; "i")'
# photos decoded, not only their headers read (issue 12, finding 6): a real
# 30000 x 30000 PNG of under 1 MiB (900 MB of pixels), and a header that
# claims 0xFFFF x 0x10001 pixels
python3 - "$T" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
def png(w, h, idat):
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", idat) + chunk(b"IEND", b""))
z = zlib.compressobj(9)
row = bytes(30001)
idat = b"".join(z.compress(row * 1000) for _ in range(30)) + z.flush()
open(sys.argv[1] + "/huge.png", "wb").write(png(30000, 30000, idat))
open(sys.argv[1] + "/claims.png", "wb").write(png(0xFFFF, 0x10001, zlib.compress(bytes(2))))
PY
check "the 30000 x 30000 PNG is under 1 MiB" test "$(stat -c %s "$T/huge.png")" -lt 1048576
for f in huge claims; do
    printf '{%s, "category": "traffic", "photos": [{"type": "image/png", "data": "%s"}]}' "$GOOD" "$(base64 -w0 "$T/$f.png")" >"$T/$f.json"
    code=$(node_req c1 POST $P/reports -H 'Content-Type: application/json' --data-binary @"$T/$f.json")
    check "$f.png: refused with 400, got $code" test "$code" = 400
    check "...saying the limit" jqb '.error.message | test("40 megapixels")'
done
check "nothing was stored by any of them" test "$(count c1 reports)" = "$before"

# ---- submit and follow ----
check "a citizen submits: 201" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"traffic\", \"address\": \"Số 5 Lê Lợi\",
    \"reporter_name\": \"Nguyễn Thị Hoa\", \"reporter_phone\": \"0912345678\", \"reporter_email\": \"hoa@example.vn\",
    \"channel\": \"app\", \"photos\": [{\"type\": \"image/png\", \"data\": \"$DOT\"}]}")" = 201
keep
CODE=$(jq -r .code "$T/body")
CTOK=$(jq -r .token "$T/body")
check "...a tracking code of the commune" bash -c "[[ '$CODE' =~ ^16681-[0-9]+$ ]]"
check "...a citizen token of 43 URL-safe base64 characters (256 bits)" bash -c "[[ '$CTOK' =~ ^[A-Za-z0-9_-]{43}$ ]]"
check "...and its tracking link" jqb --arg u "/public#/track/$CODE?token=$CTOK" '.tracking_url == $u'
check "...never its hash" bash -c "! grep -q citizen_token_hash '$T/body'"
check "...status new" jqb '.status == "new"'
check "...no personal data in the answer" no_personal
check "one report stored" test "$(count c1 reports)" = $((before + 1))

# ---- a repeated submission (issue 18, defect 1): the Idempotency-Key header ----
IK="{$GOOD, \"category\": \"environment\"}"
check "a submission with an Idempotency-Key: 201" test "$(post_json c1 $P/reports "$IK" -H 'Idempotency-Key: k-7f3a9c')" = 201
IKCODE=$(jq -r .code "$T/body")
IKTOK=$(jq -r .token "$T/body")
n1=$(count c1 reports)
check "the same key again: 200, not a second report" test "$(post_json c1 $P/reports "$IK" -H 'Idempotency-Key: k-7f3a9c')" = 200
check "...the first report, with its tracking link" jqb --arg c "$IKCODE" --arg t "$IKTOK" '.code == $c and .token == $t and (.tracking_url | endswith($t))'
check "...nothing more stored" test "$(count c1 reports)" = "$n1"
check "another key stores another report: 201" test "$(post_json c1 $P/reports "$IK" -H 'Idempotency-Key: k-other')" = 201
check "...a new code" jqb --arg c "$IKCODE" '.code != $c'
check "a malformed key: 400" test "$(post_json c1 $P/reports "$IK" -H 'Idempotency-Key: no spaces please')" = 400
check "...report.bad_idempotency_key" jqb '.error.code == "report.bad_idempotency_key"'
check "...stored nothing" test "$(count c1 reports)" = $((n1 + 1))
check "the code and token find it: 200" test "$(node_req c1 GET "$P/reports/$CODE?token=$CTOK")" = 200
keep
check "...title, category, status, address, dates" jqb '.title == "Cống tắc" and .category == "traffic" and .status == "new" and .address == "Số 5 Lê Lợi" and (.created_at | test("\\+07:00$"))'
check "...the photo" jqb '.photos | length == 1 and (.[0].hash | length == 64) and .[0].type == "image/png"'
check "...the history as actions and times only" jqb '.history | length >= 1 and all(.[]; (keys - ["action","at","from","to"]) == [])'
check "...no reporter fields" jqb 'has("reporter_name") or has("reporter_phone") or has("reporter_email") | not'
check "...no personal data at all" no_personal
HASH=$(jq -r '.photos[0].hash' "$T/body")
check "the photo is served" test "$(node_req c1 GET "$P/reports/$CODE/photos/$HASH")" = 200
check "...as PNG" grep -qi '^content-type: image/png' "$T/hdr"
check "...never sniffed as anything else" grep -qi '^x-content-type-options: nosniff' "$T/hdr"
check "...the same bytes" cmp "$T/body" <(printf '%s' "$DOT" | base64 -d)
check "lower case finds it too" test "$(node_req c1 GET "$P/reports/${CODE,,}?token=$CTOK")" = 200
check "an unknown code: 404" test "$(node_req c1 GET "$P/reports/16681-999999")" = 404
check "...says so" jqb '.error.message | test("no report")'
check "not a code: 404" test "$(node_req c1 GET "$P/reports/..%2Fetc")" = 404
check "no public list of reports" test "$(node_req c1 GET "$P/reports")" = 404
check "rating a new report: 409" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating": "satisfied"}')" = 409

# ---- staff act through the native API ----
echo "staff-password-1" | "$BIN" user add --dir "$T/c1" --user canbo --role leader --unit 16681 >/dev/null
TOK=$(${BIN} token --dir "$T/c1" --user canbo)
act() { post_json "$1" "api/v1/reports/$2/actions" "$3" -H "Authorization: Bearer $4"; }
check "staff receive it: 200" test "$(act c1 "$CODE" '{"action": "receive"}' "$TOK")" = 200
# traffic is the district's (issue 18, defect 11): the commune sees it, the
# district resolves it
check "...the district owns it" test "$(node_req c1 GET "api/v1/reports/$CODE" -H "Authorization: Bearer $TOK")" = 200
check "...so the commune does not handle it" jqb '.owner_unit == "412" and .handled_here == false'
check "the commune may not resolve it: 403" test "$(act c1 "$CODE" '{"action": "resolve", "answer": "x"}' "$TOK")" = 403
check "...report.not_owner" jqb '.error.code == "report.not_owner"'
echo "staff-password-2" | "$BIN" user add --dir "$T/dist" --user huyen --role leader --unit 412 >/dev/null
DTOK=$(${BIN} token --dir "$T/dist" --user huyen)
at_status() { [ "$(node_req "$1" GET "api/v1/reports/$CODE" -H "Authorization: Bearer $2")" = 200 ] && jqb ".status == \"$3\""; }
check "...the district holds it, received" wait_until 30 at_status dist "$DTOK" received
check "a resolve with a photo that is not an image: 400" test "$(act dist "$CODE" "{\"action\": \"resolve\", \"answer\": \"x\", \"photos\": [{\"type\": \"image/png\", \"data\": \"$(printf 'not a png' | base64)\"}]}" "$DTOK")" = 400
check "...report.photo_invalid, nothing changed" jqb '.error.code == "report.photo_invalid"'
check "the district's staff resolve it with a photo of the work: 200" test "$(act dist "$CODE" "{\"action\": \"resolve\", \"answer\": \"Đã khơi thông cống <ngày 23/11>\", \"photos\": [{\"type\": \"image/png\", \"data\": \"$DOT\"}]}" "$DTOK")" = 200
check "...the report lists it as resolution_photos" jqb '.resolution_photos | length == 1 and (.[0].hash | length == 64)'
RHASH=$(jq -r '.resolution_photos[0].hash' "$T/body")
check "...the commune has it resolved" wait_until 30 at_status c1 "$TOK" resolved
check "the public view shows the answer" test "$(node_req c1 GET "$P/reports/$CODE?token=$CTOK")" = 200
keep
check "...resolved, with the answer and its time" jqb '.status == "resolved" and .answer == "Đã khơi thông cống <ngày 23/11>" and (.resolved_at | test("\\+07:00$"))'
check "...the history: create, receive, resolve" jqb '[.history[].action] == ["create","receive","resolve"]'
check "...the photo of the resolution, for the citizen" jqb --arg h "$RHASH" '.resolution_photos == [{"hash": $h, "type": "image/png", "width": 1, "height": 1}]'
check "...served on the public photo path" test "$(node_req c1 GET "$P/reports/$CODE/photos/$RHASH")" = 200
check "...the same bytes" cmp "$T/body" <(printf '%s' "$DOT" | base64 -d)
node_req c1 GET "$P/reports/$CODE?token=$CTOK" >/dev/null
check "...no user names or units in it" bash -c "! grep -q canbo '$T/body'"

# ---- the map ----
check "the map: 200" test "$(node_req c1 GET $P/map)" = 200
keep
check "...a GeoJSON FeatureCollection" jqb '.type == "FeatureCollection" and (.features | type == "array")'
check "...with the resolved report at [lon, lat]" jqb --arg c "$CODE" '[.features[] | select(.properties.code == $c)] | length == 1 and
    .[0].type == "Feature" and .[0].geometry == {"type": "Point", "coordinates": [105.6923, 18.6734]}'
check "...its answer and status" jqb --arg c "$CODE" '.features[] | select(.properties.code == $c) | .properties.status == "resolved" and (.properties.answer | test("khơi thông"))'
check "...no personal data" no_personal
check "a bbox around it" test "$(node_req c1 GET "$P/map?bbox=105.6,18.6,105.8,18.8")" = 200
check "...finds it" jqb '.features | length == 1'
check "a bbox elsewhere" test "$(node_req c1 GET "$P/map?bbox=106,20,107,21")" = 200
check "...finds nothing" jqb '.features == []'
check "a malformed bbox: 400" test "$(node_req c1 GET "$P/map?bbox=1,2,3")" = 400
check "west east swapped: 400" test "$(node_req c1 GET "$P/map?bbox=106,18,105,19")" = 400

# ---- rating, then reopening ----
check "a bad rating value: 400" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating": "great"}')" = 400
check "an unknown field in a rating: 400" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating": "satisfied", "stars": 5}')" = 400
check "malformed rating JSON: 400" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating"')" = 400
check "the citizen rates: 200" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating": "acceptable", "comment": "Hơi chậm"}')" = 200
keep
check "...rated, still resolved" jqb '.rating == "acceptable" and .status == "resolved"'
check "a second rating of the same resolution: 409 (issue 18, defect 2)" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating": "satisfied"}')" = 409
check "...report.already_rated" jqb '.error.code == "report.already_rated"'
check "unsatisfied with reopen: 200" test "$(post_json c1 "$P/reports/$CODE/rating?token=$CTOK" '{"rating": "unsatisfied", "comment": "Vẫn ngập", "reopen": true}')" = 200
keep
check "...reopened" jqb '.status == "reopened" and .rating == "unsatisfied"'
check "...the history ends with rate, rate" jqb '[.history[].action][-2:] == ["rate","rate"]'
check "...off the map" test "$(node_req c1 GET $P/map)" = 200
check "...gone from it" jqb --arg c "$CODE" '[.features[] | select(.properties.code == $c)] == []'
check "the rating of an unknown report: 404" test "$(post_json c1 "$P/reports/16681-999999/rating" '{"rating": "satisfied"}')" = 404

# ---- a node without write authority ----
# Submitted at the district for commune 16681: the district owns it (a
# construction report), the commune holds a copy but may not write it.
check "a report submitted at the district for the commune: 201" test "$(post_json dist $P/reports "{$GOOD, \"category\": \"construction\", \"unit\": \"16681\"}")" = 201
DCODE=$(jq -r .code "$T/body")
DCTOK=$(jq -r .token "$T/body")
echo "staff-password-2" | "$BIN" user add --dir "$T/dist" --user qh --role leader --unit 412 >/dev/null
DTOK=$(${BIN} token --dir "$T/dist" --user qh)
check "...received and resolved at the district" test "$(act dist "$DCODE" '{"action": "receive"}' "$DTOK"):$(act dist "$DCODE" '{"action": "resolve", "answer": "Đã xử lý"}' "$DTOK")" = 200:200
resolved_on_c1() { node_req c1 GET "$P/reports/$DCODE?token=$DCTOK" >/dev/null && jq -e '.status == "resolved"' "$T/body"; }
check "...which the commune's node learns" wait_until 30 resolved_on_c1
code=$(post_json c1 "$P/reports/$DCODE/rating?token=$DCTOK" '{"rating": "satisfied"}')
check "rating it on the commune's node: refused (403/409), got $code" test "$code" = 403 -o "$code" = 409
check "...naming where to rate" jqb '.error.message | test("412")'
check "...and nothing changed" bash -c "curl -s 'http://127.0.0.1:${PORT[c1]}/$P/reports/$DCODE?token=$DCTOK' | jq -e 'has(\"rating\") | not'"
check "rating it on the district's node works" test "$(post_json dist "$P/reports/$DCODE/rating?token=$DCTOK" '{"rating": "satisfied"}')" = 200

check "no public answer held personal data" all_public

# ---- the per-address limit ----
n201=0
last=
for i in $(seq 1 12); do
    last=$(post_json dist $P/reports "{$GOOD, \"category\": \"traffic\"}")
    [ "$last" = 201 ] || break
    n201=$((n201 + 1))
done
check "the district took 10 reports from this address in all (1 before), got $((n201 + 1))" test $((n201 + 1)) = 10
check "...then 429" test "$last" = 429
check "...with Retry-After" grep -Eqi '^retry-after: [1-9][0-9]*' "$T/hdr"
check "...and a message" jqb '.error.message | test("too many reports")'
check "the other node is not affected" test "$(post_json c1 $P/reports "{$GOOD, \"category\": \"traffic\"}")" = 201
finish
