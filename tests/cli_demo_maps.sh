#!/usr/bin/env bash
# The demo's maps (issue 18): `lienthong demo` gives every node its units'
# boundaries with names and the built-in basemap, with no file placed and
# no internet, and its communes geocode their own unit and street names;
# an operator's street list (`lienthong import --collection streets`)
# becomes findable, a bad one is refused with nothing stored.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

check "the demo starts" demo_start || exit 1
C1=http://127.0.0.1:$((BASE + 2)) # Phường Bến Thủy
up() { curl -sf --max-time 2 "$C1/api/v1/health" -o /dev/null; }
check "the commune answers" wait_until 60 up
get() { [ "$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$C1/$1")" = 200 ]; }
check "the commune's boundaries, no login" get api/v1/public/boundaries
check "...the four demo units by name" \
    jq -e '[.features[].properties | .unit + " " + .name] | sort == ["16681 Phường Bến Thủy", "16684 Xã Nghi Liên", "40 Tỉnh Nghệ An", "412 Thành phố Vinh"]' "$T/body"
check "...each a polygon" jq -e 'all(.features[]; .geometry.type == "Polygon" and (.geometry.coordinates[0] | length) >= 5)' "$T/body"
code=$(curl -s -o "$T/head" -w '%{http_code}' -H 'Range: bytes=0-6' "$C1/basemap.pmtiles")
check "the built-in basemap: 206" test "$code" = 206
check "...PMTiles" test "$(cat "$T/head")" = PMTiles
check "geocoding 'nghi lien' at the commune" get "api/v1/public/geocode?q=nghi%20lien"
check "...Xã Nghi Liên" jq -e '.results[0].unit == "16684"' "$T/body"

# A street of the demo, inside the unit's demo boundary (node/map_demo.c).
check "geocoding '12 Quang Trung, Bến Thủy'" \
    get "api/v1/public/geocode?q=12%20Quang%20Trung%2C%20B%E1%BA%BFn%20Th%E1%BB%A7y"
check "...the street first, in Bến Thủy, inside its boundary" jq -e '.results[0] |
    .street == "Quang Trung" and .unit == "16681" and .name == "Quang Trung, Phường Bến Thủy"
    and .lat > 18.648 and .lat < 18.708 and .lon > 105.655 and .lon < 105.718' "$T/body"
check "...then the unit itself" jq -e '.results[1].unit == "16681" and (.results[1] | has("street") | not)' "$T/body"

# An operator's street list, imported into the running commune's store.
D=$T/demo/16681
check "the commune's node directory" test -d "$D"
printf '%s\n' '{"id":"16681-ho-tung-mau","name":"Hồ Tùng Mậu","unit":"16681","lat":18.69,"lon":105.70,"aliases":["Đường Hồ Tùng Mậu"]}' \
    '{"id":"16681-phong-dinh-cang","name":"Phong Định Cảng","unit":"16681","lat":118.69,"lon":105.70}' >"$T/bad.jsonl"
"$BIN" import --dir "$D" --collection streets --file "$T/bad.jsonl" >"$T/bad.out" 2>&1
check "a street outside Vietnam: exit 2" test $? -eq 2
check "...naming the line and field" grep -q 'line 2: field "lat": must be a number of degrees between 8 and 24' "$T/bad.out"
head -1 "$T/bad.jsonl" >"$T/good.jsonl"
check "the good line imports" "$BIN" import --dir "$D" --collection streets --file "$T/good.jsonl"
found() { get "api/v1/public/geocode?q=s%E1%BB%91%209%20h%E1%BB%93%20t%C3%B9ng%20m%E1%BA%ADu" &&
    jq -e '.results[0].street == "Hồ Tùng Mậu" and .results[0].lat == 18.69' "$T/body" >/dev/null; }
check "...and becomes findable: 'số 9 hồ tùng mậu'" wait_until 20 found
P=http://127.0.0.1:$BASE # the province: a street addressed to its unit reaches the ancestors
up_there() { curl -s --max-time 5 "$P/api/v1/public/geocode?q=h%E1%BB%93%20t%C3%B9ng%20m%E1%BA%ADu" |
    jq -e '.results[0].street == "Hồ Tùng Mậu" and .results[0].unit == "16681"' >/dev/null; }
check "...and replicates up to the province" wait_until 60 up_there
check "the bad file stored nothing: no 'Phong Định Cảng'" \
    get "api/v1/public/geocode?q=Phong%20%C4%90%E1%BB%8Bnh%20C%E1%BA%A3ng"
check "...an empty list" jq -e '.results == []' "$T/body"
"$BIN" export --dir "$D" --collection streets >"$T/streets.jsonl" 2>"$T/export.err"
check "the export lists the 5 demo streets and the imported one" test "$(wc -l <"$T/streets.jsonl")" -eq 6
finish
