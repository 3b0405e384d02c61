#!/usr/bin/env bash
# Open311 GeoReport v2 against a real node: every endpoint in JSON and XML
# (the XML parsed with xmllint), field by field against the spec; the
# filters and the default window of GET requests; POST form-encoded and
# multipart with a media file, with and without an api_key (an Open311 key,
# `lienthong open311-key`; an account's token is refused); bad input a
# 400 in the spec's error form that stores nothing; no personal data in
# any GET.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
command -v xmllint >/dev/null || { echo "xmllint missing: run scripts/install-deps" >&2; exit 1; }

pick_ports
"$BIN" init --dir "$T/nat" --unit VN --name "Quốc gia" --tier national --root \
    --listen "127.0.0.1:${PORT[nat]}" >/dev/null || exit 1
start nat || exit 1
U="http://127.0.0.1:${PORT[nat]}/open311/v2"

# req METHOD PATH [curl args]: body in $T/body, headers in $T/hdr; prints the status.
req() {
    local m=$1 p=$2; shift 2
    curl -s -X "$m" -o "$T/body" -D "$T/hdr" -w '%{http_code}' --max-time 10 "$@" "$U/$p"
}
get() { req GET "$@"; }
ctype() { grep -i '^content-type:' "$T/hdr" | tr -d '\r' | cut -d' ' -f2-; }
x() { xmllint --xpath "$1" "$T/body" 2>/dev/null; }     # x XPATH: its value
nreports() { count nat reports; }
xml_names() { # xml_names XPATH: the names of the element's children, in order
    local n i out=""
    n=$(x "count($1/*)")
    for ((i = 1; i <= n; i++)); do out+="${out:+ }$(x "name($1/*[$i])")"; done
    echo "$out"
}
mkuser() { # mkuser NAME ROLE: prints an API token
    echo "$1-password-long" | "$BIN" user add --dir "$T/nat" --user "$1" --role "$2" >/dev/null
    "$BIN" token --dir "$T/nat" --user "$1"
}
KEY=$("$BIN" open311-key add --dir "$T/nat" --name cityapp 2>/dev/null)
STAFFTOKEN=$(mkuser cityapp staff)

REQ_KEYS='["address","address_id","agency_responsible","description","expected_datetime","lat","long","media_url","requested_datetime","service_code","service_name","service_notice","service_request_id","status","status_notes","updated_datetime","zipcode"]'
REQ_ORDER="service_request_id status status_notes service_name service_code description agency_responsible service_notice requested_datetime updated_datetime expected_datetime address address_id zipcode lat long media_url"
W3C='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+07:00$'

# ---- services ----
check "services.json is 200" test "$(get services.json)" = 200
check "...application/json; charset=utf-8" test "$(ctype)" = "application/json; charset=utf-8"
check "...the five pilot services" jqb 'length == 5 and ([.[].service_code] | sort) ==
    ["construction","environment","public_order","smart_services","traffic"]'
check "...each with exactly the spec's fields" jqb 'all(.[]; (keys | sort) ==
    ["description","group","keywords","metadata","service_code","service_name","type"])'
check "...realtime, no metadata" jqb 'all(.[]; .type == "realtime" and .metadata == false)'
check "...Vietnamese names" jqb '.[] | select(.service_code == "traffic") | .service_name == "Giao thông"'
check "services.xml is 200" test "$(get services.xml)" = 200
check "...text/xml; charset=utf-8" test "$(ctype)" = "text/xml; charset=utf-8"
check "...well-formed XML with a declaration" xmllint --noout "$T/body"
check "...declaration utf-8" grep -q '^<?xml version="1.0" encoding="utf-8"?>' "$T/body"
check "...five <service> in <services>" test "$(x 'count(/services/service)')" = 5
check "...traffic's name" test "$(x "string(/services/service[service_code='traffic']/service_name)")" = "Giao thông"
check "...type" test "$(x "string(/services/service[service_code='traffic']/type)")" = realtime
check "...metadata" test "$(x "string(/services/service[service_code='traffic']/metadata)")" = false
check "...every spec element present" test "$(x "count(/services/service[1]/*)")" = 7
check "service definition json" test "$(get services/traffic.json)" = 200
check "...code and an empty attribute list" jqb '. == {"service_code": "traffic", "attributes": []}'
check "service definition xml" test "$(get services/traffic.xml)" = 200
check "...<service_definition><service_code>" test "$(x 'string(/service_definition/service_code)')" = traffic
check "...<attributes> without any" test "$(x 'count(/service_definition/attributes)'):$(x 'count(/service_definition/attributes/*)')" = 1:0
check "unknown service: 404" test "$(get services/potholes.json)" = 404
check "...in the spec's error form" jqb 'length == 1 and .[0].code == 404 and (.[0].description | test("potholes"))'
check "unknown service in XML: 404" test "$(get services/potholes.xml)" = 404
check "...<errors><error><code>" test "$(x 'string(/errors/error/code)')" = 404
check "...and a description" x '/errors/error/description[contains(., "services.xml")]'
check "no format suffix: 404" test "$(get services)" = 404
check "...which says what to add" jqb '.[0].description | test("json or .xml")'
check "DELETE: 405" test "$(req DELETE services.json)" = 405
check "...with Allow" grep -qi '^allow: GET' "$T/hdr"
check "POST on services: 405" test "$(req POST services.xml -d a=1)" = 405
check "...an XML error" test "$(x 'string(/errors/error/code)')" = 405

# ---- POST requests ----
before=$(nreports)
check "POST without api_key: 403" test "$(req POST requests.json -d service_code=traffic -d lat=18.67 -d long=105.69)" = 403
check "...says api_key was not provided" jqb '.[0].code == 403 and (.[0].description | test("api_key was not provided"))'
check "...in XML too" test "$(req POST requests.xml -d service_code=traffic -d lat=18.67 -d long=105.69)" = 403
check "...<errors>" test "$(x 'string(/errors/error/code)')" = 403
check "a wrong api_key: 403" test "$(req POST requests.json -d api_key=lt_nope -d service_code=traffic -d lat=18.67 -d long=105.69)" = 403
check "...not an Open311 key" jqb '.[0].description | test("not an Open311 key")'
check "an account's API token: 403" test "$(req POST requests.json -d "api_key=$STAFFTOKEN" -d service_code=traffic -d lat=18.67 -d long=105.69)" = 403
check "...Open311 takes only Open311 keys" jqb '.[0].description | test("not an Open311 key") and test("open311-key add")'
check "...not in the query string either" test "$(req POST "requests.json?api_key=$STAFFTOKEN" -d service_code=traffic -d lat=18.67 -d long=105.69)" = 403
post() { req POST "$1" -d "api_key=$KEY" "${@:2}"; }
check "a bad service_code: 400" test "$(post requests.json -d service_code=potholes -d lat=18.67 -d long=105.69)" = 400
check "...named" jqb '.[0].code == 400 and (.[0].description | test("potholes"))'
check "no service_code: 400" test "$(post requests.json -d lat=18.67 -d long=105.69)" = 400
check "no lat/long: 400" test "$(post requests.json -d service_code=traffic -d address_string=X)" = 400
check "...says why" jqb '.[0].description | test("lat and long are required")'
check "lat not a number: 400" test "$(post requests.json -d service_code=traffic -d lat=abc -d long=105.69)" = 400
check "lat out of range: 400" test "$(post requests.json -d service_code=traffic -d lat=91 -d long=105.69)" = 400
check "long out of range: 400" test "$(post requests.xml -d service_code=traffic -d lat=18 -d long=-181)" = 400
check "...an XML error" test "$(x 'string(/errors/error/code)')" = 400
check "an attribute the service lacks: 400" test "$(post requests.json -d service_code=traffic -d lat=18 -d long=105 -d 'attribute[depth]=3')" = 400
check "an unknown field: 400" test "$(post requests.json -d service_code=traffic -d lat=18 -d long=105 -d colour=red)" = 400
check "a bad media_url: 400" test "$(post requests.json -d service_code=traffic -d lat=18 -d long=105 -d media_url=ftp://x)" = 400
check "a body that is not a form: 400" test "$(req POST requests.json -H 'Content-Type: application/json' -d '{}')" = 400
check "a malformed %-escape: 400" test "$(req POST requests.json -d 'api_key=%zz')" = 400
printf 'not an image' >"$T/fake.jpg"
check "a media file that is no image: 400" test "$(req POST requests.json -F "api_key=$KEY" -F service_code=traffic -F lat=18 -F long=105 -F "media=@$T/fake.jpg;type=image/jpeg")" = 400
check "...says so" jqb '.[0].code == 400'
check "a jurisdiction this node does not serve: 400" test "$(post requests.json -d service_code=traffic -d lat=18 -d long=105 -d jurisdiction_id=99999)" = 400
check "nothing was stored by any of them" test "$(nreports)" = "$before"

check "POST form-encoded: 200" test "$(post requests.json -d service_code=environment -d lat=18.6734 -d long=105.6923 \
    --data-urlencode 'description=Rác thải <đổ> trộm & "bừa" bãi' --data-urlencode 'address_string=Số 5, đường Lê Lợi' \
    -d first_name=Lan -d last_name=Trần -d phone=0912345678 -d email=lan@example.vn \
    -d media_url=https://example.vn/a.jpg -d device_id=abc)" = 200
check "...[{service_request_id, token, service_notice, account_id, tracking_url}]" jqb 'length == 1 and (.[0] | keys | sort) ==
    ["account_id","service_notice","service_request_id","token","tracking_url"]'
check "...the token is the citizen's secret, not the tracking code" jqb '.[0].token != .[0].service_request_id and (.[0].token | test("^[A-Za-z0-9_-]{43}$")) and
    .[0].tracking_url == "/public#/track/\(.[0].service_request_id)?token=\(.[0].token)"'
check "...the notice is the deadline" jqb '.[0].service_notice == "Thời hạn xử lý: 5 ngày làm việc" and .[0].account_id == null'
ID1=$(jq -r '.[0].service_request_id' "$T/body")
check "POST in XML: 200" test "$(post requests.xml -d service_code=traffic -d lat=18.68 -d long=105.70 -d 'description=Đèn tín hiệu hỏng')" = 200
check "...<service_requests><request><service_request_id>" x '/service_requests/request/service_request_id'
check "...and <token>" bash -c "[[ '$(x 'string(/service_requests/request/token)')' =~ ^[A-Za-z0-9_-]{43}$ ]]"
check "...and an empty <account_id>" test "$(x 'count(/service_requests/request/account_id[not(node())])')" = 1
ID2=$(x 'string(/service_requests/request/service_request_id)')
printf '%s' 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' |
    base64 -d >"$T/dot.png"
check "POST multipart with a media file: 200" test "$(req POST requests.json -F "api_key=$KEY" -F service_code=construction \
    -F lat=18.69 -F long=105.71 -F 'description=Công trình lấn chiếm vỉa hè' -F "media=@$T/dot.png;type=image/png")" = 200
ID3=$(jq -r '.[0].service_request_id' "$T/body")
check "three reports stored" test "$(nreports)" = $((before + 3))

# ---- GET a request ----
check "requests/{id}.json: 200" test "$(get "requests/$ID1.json")" = 200
check "...one request with exactly the spec's fields" jqb "length == 1 and (.[0] | keys | sort) == $REQ_KEYS"
check "...in the spec's order" test "$(jq -r '.[0] | keys_unsorted | join(" ")' "$T/body")" = "$REQ_ORDER"
check "...id, open, service" jqb ".[0] | .service_request_id == \"$ID1\" and .status == \"open\" and
    .service_code == \"environment\" and .service_name == \"Môi trường\""
check "...description and address as sent" jqb '.[0] | .description == "Rác thải <đổ> trộm & \"bừa\" bãi" and .address == "Số 5, đường Lê Lợi"'
check "...lat and long" jqb '.[0] | .lat == 18.6734 and .long == 105.6923'
check "...requested and updated as W3C datetimes +07:00" jqb --arg re "$W3C" '.[0] | (.requested_datetime | test($re)) and (.updated_datetime | test($re))'
check "...the agency is the owner unit" jqb '.[0].agency_responsible == "Quốc gia (VN)"'
check "...no notes yet, no address_id, zipcode, media" jqb '.[0] | .status_notes == null and .address_id == null and .zipcode == null and .media_url == null'
check "...no personal data" bash -c "! grep -Eq '0912345678|lan@example|Trần|\"Lan' '$T/body'"
check "requests/{id}.xml: 200" test "$(get "requests/$ID1.xml")" = 200
check "...well-formed" xmllint --noout "$T/body"
check "...the spec's elements in order" test "$(xml_names /service_requests/request)" = "$REQ_ORDER"
check "...the escaped description reads back" test "$(x 'string(/service_requests/request/description)')" = 'Rác thải <đổ> trộm & "bừa" bãi'
check "...status" test "$(x 'string(/service_requests/request/status)')" = open
check "...lat" test "$(x 'string(/service_requests/request/lat)')" = 18.6734
check "...requested_datetime" bash -c "[[ '$(x 'string(/service_requests/request/requested_datetime)')' =~ $W3C ]]"
check "...no personal data" bash -c "! grep -Eq '0912345678|lan@example|Trần' '$T/body'"
check "a photo gives a media_url" test "$(get "requests/$ID3.json")" = 200
MEDIA=$(jq -r '.[0].media_url' "$T/body")
check "...on this node" bash -c "[[ '$MEDIA' == http://127.0.0.1:${PORT[nat]}/api/v1/public/reports/$ID3/photos/* ]]"
check "...which serves the photo" curl -sf -o "$T/got.png" "$MEDIA"
check "...byte for byte" cmp "$T/got.png" "$T/dot.png"
check "an unknown request: 404" test "$(get requests/VN-999999.json)" = 404
check "...in the spec's form" jqb '.[0].code == 404'
check "...and in XML" test "$(get requests/VN-999999.xml)" = 404
check "...<errors>" test "$(x 'string(/errors/error/code)')" = 404
check "tokens/{token}.json: 200" test "$(get "tokens/$ID2.json")" = 200
check "...[{service_request_id, token}]" jqb ". == [{\"service_request_id\": \"$ID2\", \"token\": \"$ID2\"}]"
check "tokens/{token}.xml" test "$(get "tokens/$(echo "$ID2" | tr A-Z a-z).xml")" = 200
check "...codes are case-insensitive" test "$(x 'string(/service_requests/request/token)')" = "$ID2"
check "an unknown token: 404" test "$(get tokens/nope.xml)" = 404

# ---- GET requests: filters and the default window ----
now_ms=$(($(date +%s) * 1000))
day=86400000
{
    printf '{"id": "VN-OLD-1", "code": "VN-OLD-1", "title": "Cũ", "category": "traffic", "status": "new", "created_ms": %d, "updated_ms": %d, "lat": 18.6, "lon": 105.6, "area_unit": "VN", "area_path": ["VN"], "owner_unit": "VN", "owner_path": ["VN"]}\n' $((now_ms - 100 * day)) $((now_ms - 100 * day))
    printf '{"id": "VN-DONE-1", "code": "VN-DONE-1", "title": "Đã xử lý", "category": "traffic", "status": "resolved", "answer": "Đã sửa đèn <ngay>", "created_ms": %d, "updated_ms": %d, "resolved_ms": %d, "lat": 18.61, "lon": 105.61, "area_unit": "VN", "area_path": ["VN"], "owner_unit": "VN", "owner_path": ["VN"], "reporter_phone": "0987654321"}\n' $((now_ms - 5 * day)) $((now_ms - day)) $((now_ms - day))
    printf '{"id": "VN-REJ-1", "code": "VN-REJ-1", "title": "Sai", "category": "construction", "status": "rejected", "reason": "Không thuộc thẩm quyền", "created_ms": %d, "updated_ms": %d, "lat": 18.62, "lon": 105.62, "area_unit": "VN", "area_path": ["VN"], "owner_unit": "VN", "owner_path": ["VN"]}\n' $((now_ms - 3 * day)) $((now_ms - 2 * day))
    printf '{"id": "VN-HID-1", "code": "VN-HID-1", "title": "Riêng", "category": "traffic", "status": "resolved", "public": false, "created_ms": %d, "updated_ms": %d, "lat": 18.63, "lon": 105.63, "area_unit": "VN", "area_path": ["VN"], "owner_unit": "VN", "owner_path": ["VN"]}\n' $((now_ms - 2 * day)) $((now_ms - 2 * day))
} | "$BIN" import --dir "$T/nat" --collection reports --raw --file - >/dev/null
ids() { jq -r '[.[].service_request_id] | sort | join(",")' "$T/body"; }
sorted() { tr ',' '\n' <<<"$1" | sort | paste -sd, -; }
check "GET requests.json: 200" test "$(get requests.json)" = 200
check "...the last 90 days by default (not the 100-day-old one)" test "$(ids)" = "$(sorted "$ID1,$ID2,$ID3,VN-DONE-1,VN-REJ-1")"
check "...newest first" jqb '[.[].requested_datetime] == ([.[].requested_datetime] | sort | reverse)'
check "...every item with the spec's fields" jqb "all(.[]; (keys | sort) == $REQ_KEYS)"
check "...no personal data" bash -c "! grep -Eq '0912345678|0987654321|lan@example|Trần' '$T/body'"
check "resolved is closed, with the answer as status_notes" jqb '.[] | select(.service_request_id == "VN-DONE-1") | .status == "closed" and .status_notes == "Đã sửa đèn <ngay>"'
check "rejected is closed, with the reason" jqb '.[] | select(.service_request_id == "VN-REJ-1") | .status == "closed" and .status_notes == "Không thuộc thẩm quyền"'
check "status=closed" test "$(get 'requests.json?status=closed')" = 200
check "...the two" test "$(ids)" = "VN-DONE-1,VN-REJ-1"
check "status=open" test "$(get 'requests.json?status=open')" = 200
check "...the three" test "$(ids)" = "$(sorted "$ID1,$ID2,$ID3")"
check "status=open,closed: all" test "$(get 'requests.json?status=open,closed')" = 200
check "...five" jqb 'length == 5'
check "status=pending: 400" test "$(get 'requests.json?status=pending')" = 400
check "service_code=traffic" test "$(get 'requests.json?service_code=traffic')" = 200
check "...the traffic ones" test "$(ids)" = "$(sorted "$ID2,VN-DONE-1")"
check "service_code=traffic,construction&status=closed" test "$(get 'requests.json?service_code=traffic,construction&status=closed')" = 200
check "...both closed ones" test "$(ids)" = "VN-DONE-1,VN-REJ-1"
check "an unknown service_code: 400" test "$(get 'requests.json?service_code=potholes')" = 400
start=$(date -u -d @$(((now_ms - 120 * day) / 1000)) +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d @$(((now_ms - 50 * day) / 1000)) +%Y-%m-%dT%H:%M:%S+00:00)
check "start_date/end_date reach the old one" test "$(get "requests.json?start_date=$start&end_date=${end/+/%2B}")" = 200
check "...alone" test "$(ids)" = VN-OLD-1
check "...in XML too" test "$(get "requests.xml?start_date=$start&end_date=${end/+/%2B}")" = 200
check "...one <request>" test "$(x 'count(/service_requests/request)')" = 1
check "a start_date alone: 90 days from it" test "$(get "requests.json?start_date=$start")" = 200
check "...the old one" test "$(ids)" = VN-OLD-1
# a date names a day in Vietnam (UTC+7): take the day of now - 4 days there
recent=$(date -u -d @$(((now_ms - 4 * day) / 1000 + 7 * 3600)) +%Y-%m-%d)
check "a date without time" test "$(get "requests.json?start_date=$recent")" = 200
check "...the newer ones" test "$(ids)" = "$(sorted "$ID1,$ID2,$ID3,VN-REJ-1")"
check "more than 90 days apart: 400" test "$(get "requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")" = 400
check "...says so" jqb '.[0].description | test("90 days")'
check "start after end: 400" test "$(get "requests.json?start_date=2026-06-01&end_date=2026-05-01")" = 400
check "a malformed date: 400" test "$(get "requests.xml?start_date=yesterday")" = 400
check "...names it" test "$(x 'string(/errors/error/code)')" = 400
check "a date that does not exist: 400" test "$(get "requests.json?end_date=2026-02-30")" = 400
check "service_request_id list overrides the rest" test "$(get "requests.json?service_request_id=VN-OLD-1,$ID2,VN-NONE&status=closed")" = 200
check "...those found" test "$(ids)" = "$(sorted "VN-OLD-1,$ID2")"
check "jurisdiction_id of this node" test "$(get "requests.json?jurisdiction_id=VN&status=closed")" = 200
check "...same answer" test "$(ids)" = "VN-DONE-1,VN-REJ-1"
check "a report marked not public is in no list, nor found by its code alone: 404" test "$(get requests/VN-HID-1.json)" = 404
check "...found by a staff api_key" test "$(get "requests/VN-HID-1.json?api_key=$KEY")" = 200
check "...itself" jqb '.[0].service_request_id == "VN-HID-1"'
check "...not by a service_request_id list" test "$(get "requests.json?service_request_id=VN-HID-1")" = 200
check "...empty" jqb 'length == 0'
check "...but with a staff api_key" test "$(get "requests.json?service_request_id=VN-HID-1&api_key=$KEY")" = 200
check "...listed" jqb '[.[].service_request_id] == ["VN-HID-1"]'
check "a foreign jurisdiction_id: 400" test "$(get "requests.json?jurisdiction_id=99")" = 400

# ---- Open311 keys: the query string, the audit, revocation ----
n=$(($(nreports) + 1))
check "the key in the query string: 200" test "$(req POST "requests.json?api_key=$KEY" -d service_code=traffic -d lat=18.68 -d long=105.70)" = 200
check "...the audit log names the key" bash -c "'$BIN' export --dir '$T/nat' --collection audit |
    jq -e 'select(.path | startswith(\"/open311/v2/requests.json\")) | select(.status == 200) | .user == \"open311:cityapp\" and .role == \"staff\"' | grep -q true"
KEYID=$("$BIN" open311-key list --dir "$T/nat" | awk '$2 == "cityapp" { print $1 }')
check "open311-key list names the key, not its secret" test -n "$KEYID" -a -z "$("$BIN" open311-key list --dir "$T/nat" | grep -F "$KEY")"
check "open311-key revoke" "$BIN" open311-key revoke --dir "$T/nat" --id "$KEYID"
check "open311-key add with a bad name: exit code 2 (its input was wrong)" \
    bash -c "'$BIN' open311-key add --dir '$T/nat' --name 'City App' 2>'$T/err'; test \$? -eq 2"
check "...saying what a name may hold" grep -q "the key's name must be 1 to 64 characters" "$T/err"
check "...a revoked key: 403" test "$(req POST requests.json -d "api_key=$KEY" -d service_code=traffic -d lat=18.67 -d long=105.69)" = 403
check "...nothing more stored" test "$(nreports)" = "$n"
finish
