#!/usr/bin/env bash
# The demo's maps (issue 18): `lienthong demo` gives every node its units'
# boundaries with names and the built-in basemap, with no file placed and
# no internet, and its communes geocode their own names.
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
finish
