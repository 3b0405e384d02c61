#!/usr/bin/env bash
# The maps offline and the citizens' page (issue 18): a commune node
# serves its basemap by byte ranges (the built-in one, then a file placed in
# its directory; `serve --basemap` refuses what is not PMTiles), geocodes an
# address against its units' and streets' names, lists open reports near a point; then
# Debian's chromium (tests/ui/ui_map.mjs) draws the maps with every request
# to other hosts blocked. 3,000 imported reports (half of them closed, so
# on the public map) make the markers cluster.
# Registered by tests/CMakeLists.txt with the label "browser".
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
SRC=${LT_SRC:?LT_SRC must point at the source tree}

if [ ! -x /usr/bin/chromium ] || [ ! -f "$SRC/web/node_modules/axe-core/axe.min.js" ]; then
    echo "chromium or web/node_modules (playwright-core, axe-core) missing: run scripts/install-deps" >&2
    exit 1
fi

make_tree
ADM=$(mk c1 c1-admin admin 16681)
echo "ui-pass-c1-staff" | "$BIN" user add --dir "$T/c1" --user c1-staff --role staff --unit 16681 >/dev/null
# 3,000 reports north of the commune (18.72-18.77 N), every other one closed
awk 'BEGIN { split("environment public_order", cat, " ")
    for (i = 1; i <= 3000; i++)
        printf "{\"service_request_id\": \"MAP-%d\", \"service_code\": \"%s\", \"description\": \"Đèn đường hỏng số %d\", \"lat\": %.4f, \"long\": %.4f, \"address\": \"Số %d Lê Lợi\", \"requested_datetime\": \"2026-11-%02dT08:00:00+07:00\", \"status\": \"%s\"}\n",
            i, cat[i % 2 + 1], i, 18.72 + (i % 100) / 2000, 105.61 + (i % 97) / 1000, i, i % 28 + 1, i % 2 ? "open" : "closed" }' >"$T/many.jsonl"
check "3,000 reports import" "$BIN" import --dir "$T/c1" --collection reports --file "$T/many.jsonl"
# a street of the commune, away from its middle (the citizens' page places an address naming it there)
printf '%s\n' '{"id": "16681-ho-tung-mau", "name": "Hồ Tùng Mậu", "unit": "16681", "lat": 18.69, "lon": 105.70}' >"$T/streets.jsonl"
check "a street imports" "$BIN" import --dir "$T/c1" --collection streets --file "$T/streets.jsonl"
start c1 || exit 1
B=http://127.0.0.1:${PORT[c1]}

# ---- the basemap: byte ranges -----------------------------------------------
ranged() { curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -H "Range: $1" "$B/basemap.pmtiles"; }
check "the built-in basemap: a range is 206" test "$(ranged bytes=0-126)" = 206
check "...of 127 bytes" test "$(stat -c %s "$T/body")" = 127
check "...a PMTiles v3 header" test "$(head -c 8 "$T/body" | od -An -c | tr -d ' ')" = 'PMTiles003'
check "...Content-Range names the archive's size" grep -qiE '^content-range: bytes 0-126/[0-9]+' "$T/head"
size=$(grep -i '^content-range' "$T/head" | sed 's/.*\///' | tr -d '\r')
check "the whole archive without Range: 200 of $size bytes" \
    test "$(curl -s -o "$T/whole" -w '%{http_code} %{size_download}' "$B/basemap.pmtiles")" = "200 $size"
check "a suffix range: the last 10 bytes" test "$(ranged bytes=-10)" = 206
check "...equal to the archive's tail" cmp -s "$T/body" <(tail -c 10 "$T/whole")
check "a range past the end: 416" test "$(ranged "bytes=$size-")" = 416
check "...saying how to ask" jqb '.error.message | test("bytes=START-END")'
check "...Content-Range with the size" grep -qiE "^content-range: bytes \*/$size" "$T/head"
check "a malformed range: 416" test "$(ranged 'bytes=a-b')" = 416
# a file in the node's directory replaces the built-in one, read per request
{ head -c 127 "$T/whole"; printf 'placed-by-the-operator'; } >"$T/c1/basemap.pmtiles"
check "DIR/basemap.pmtiles is served" test "$(ranged bytes=127-148)" = 206
check "...its own bytes" test "$(cat "$T/body")" = placed-by-the-operator
rm "$T/c1/basemap.pmtiles"
check "removed: the built-in one again" test "$(ranged bytes=0-6)" = 206
check "...PMTiles" test "$(cat "$T/body")" = PMTiles
# serve --basemap refuses a file that is missing or not PMTiles, naming it
printf 'not a map' >"$T/bad.pmtiles"
"$BIN" serve --dir "$T/c2" --basemap "$T/bad.pmtiles" 2>"$T/err"
check "serve --basemap NOT-PMTILES: exit 2" test $? -eq 2
check "...naming the file and what it must be" grep -q "bad.pmtiles is not a PMTiles version 3 archive" "$T/err"
"$BIN" serve --dir "$T/c2" --basemap "$T/none.pmtiles" 2>"$T/err"
check "serve --basemap MISSING: exit 2" test $? -eq 2
check "...saying it cannot be read" grep -q "none.pmtiles cannot be read" "$T/err"

# ---- boundaries, geocoding, nearby -------------------------------------------
poly() { # poly UNIT NAME W S E N: a rectangle Feature
    printf '{"type": "Feature", "properties": {"name": "%s"}, "geometry": {"type": "Polygon", "coordinates": [[[%s,%s],[%s,%s],[%s,%s],[%s,%s],[%s,%s]]]}}' \
        "$2" "$3" "$4" "$5" "$4" "$5" "$6" "$3" "$6" "$3" "$4"
}
put_boundary() { node_req c1 PUT "api/v1/boundaries/$1" -H "Authorization: Bearer $ADM" --data-binary "$2"; }
check "the commune's boundary: 200" test "$(put_boundary 16681 "$(poly 16681 'Phường Bến Thủy' 105.655 18.648 105.718 18.708)")" = 200
check "the district's: 200" test "$(put_boundary 412 "$(poly 412 'Thành phố Vinh' 105.60 18.62 105.745 18.77)")" = 200
check "public boundaries without login: 200" test "$(node_req c1 GET api/v1/public/boundaries)" = 200
check "...both, with names" jqb '[.features[].properties.name] | sort == ["Phường Bến Thủy", "Thành phố Vinh"]'
geo() { node_req c1 GET "api/v1/public/geocode" -G --data-urlencode "q=$1"; }
check "geocode 'ben thuy': 200" test "$(geo 'ben thuy')" = 200
check "...the commune, at its middle" jqb '.results[0] | .unit == "16681" and (.lat > 18.67 and .lat < 18.69) and (.lon > 105.68 and .lon < 105.69)'
check "geocode a full address: 200" test "$(geo 'Số 5 Lê Lợi, Phường Bến Thủy, TP Vinh')" = 200
check "...the commune first, then the district" jqb '[.results[].unit] == ["16681", "412"]'
check "geocode an address on the street: 200" test "$(geo 'Số 12 Hồ Tùng Mậu, Phường Bến Thủy')" = 200
check "...the street first, at its point, then the commune" \
    jqb '[.results[] | [.street, .unit]] == [["Hồ Tùng Mậu", "16681"], [null, "16681"]] and .results[0].lat == 18.69'
check "geocode a place elsewhere: 200" test "$(geo 'Hoàn Kiếm, Hà Nội')" = 200
check "...no result" jqb '.results == []'
check "geocode without q: 400" test "$(node_req c1 GET api/v1/public/geocode)" = 400
check "...saying what q is" jqb '.error.message | test("q must be an address")'
check "an open report at the commune's middle: 201" \
    test "$(post_json c1 api/v1/public/reports '{"title": "Cống vỡ giữa phường", "category": "public_order", "lat": 18.679, "lon": 105.687}')" = 201
NEAR_CODE=$(jq -r .code "$T/body")
check "open reports near it: 200" test "$(node_req c1 GET 'api/v1/public/map?status=open&bbox=105.68,18.67,105.69,18.69')" = 200
check "...only that one" jqb --arg c "$NEAR_CODE" '[.features[].properties.code] == [$c]'
check "the imported open reports count as open" test "$(node_req c1 GET 'api/v1/public/map?status=open&bbox=105.6,18.71,105.72,18.78')" = 200
check "...1,500 of them" jqb '.features | length == 1500'
check "...the default is the resolved and closed" test "$(node_req c1 GET 'api/v1/public/map?bbox=105.6,18.71,105.72,18.78')" = 200
check "...the other 1,500" jqb '.features | length == 1500 and all(.[]; .properties.status == "closed")'
check "status=bogus: 400" test "$(node_req c1 GET 'api/v1/public/map?status=bogus')" = 400
check "...naming the choices" jqb '.error.message | test("\"open\"")'
# a report with a photo, followed by its tracking link in the browser
DOT='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
check "a report with a photo: 201" test "$(post_json c1 api/v1/public/reports "{\"title\": \"Rác bên đường\", \"category\": \"environment\", \"lat\": 18.66, \"lon\": 105.70, \"address\": \"Số 3 Nguyễn Du\", \"photos\": [{\"type\": \"image/png\", \"data\": \"$DOT\"}]}")" = 201

export LT_UI_ARTIFACTS=${LT_UI_ARTIFACTS:-$(dirname "$BIN")/ui-artifacts}
export UI_T=$T UI_BIN=$BIN UI_SRC=$SRC UI_PORT_c1=${PORT[c1]} UI_TRACK=$(jq -r .tracking_url "$T/body") UI_NEAR=$NEAR_CODE
if node "$SRC/tests/ui/ui_map.mjs"; then ok; else bad "map browser tests (screenshots in $LT_UI_ARTIFACTS)"; fi
finish
