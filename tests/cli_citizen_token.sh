#!/usr/bin/env bash
# Citizen tokens (docs/security.md, "Citizen tokens"; issue 12, finding 2)
# with real nodes (a district and one of its communes). Tracking codes are
# sequential, so they are no credential: a report marked not public must
# answer 404 to its code alone (public API and Open311), a public one only
# what the public map shows, and rating or reopening needs the token
# handed out once at submission. The token works at any tier the report
# replicates to, is stored only as a hash, which no answer shows, and
# lookups without it are limited per address.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
start dist || exit 1
start c1 || exit 1
P="api/v1/public"
SECRET='Nhà số 7 ngõ 12 bị bạo hành'
no_secret() { ! grep -q "ngõ 12" "$T/body"; }

echo "staff-password-1" | "$BIN" user add --dir "$T/c1" --user canbo --role leader --unit 16681 >/dev/null
TOK=$("$BIN" token --dir "$T/c1" --user canbo)
echo "staff-password-2" | "$BIN" user add --dir "$T/dist" --user other --role staff --unit 16684 >/dev/null
act() { post_json c1 "api/v1/reports/$1/actions" "$2" -H "Authorization: Bearer $TOK"; }

# ---- a report marked not public ----
check "a citizen submits a report marked not public: 201" test "$(post_json c1 $P/reports "{\"title\": \"Bạo hành trẻ em\",
    \"description\": \"$SECRET\", \"address\": \"ngõ 12\", \"category\": \"public_order\", \"lat\": 18.6734, \"lon\": 105.6923,
    \"public\": false}")" = 201
HIDDEN=$(jq -r .code "$T/body")
HTOK=$(jq -r .token "$T/body")
check "...with a token of 256 bits" bash -c "[[ '$HTOK' =~ ^[A-Za-z0-9_-]{43}$ ]]"
check "its code alone: 404, like an absent report" test "$(node_req c1 GET "$P/reports/$HIDDEN")" = 404
check "...with the same message as an absent one" jqb '.error.message | test("no report with tracking code")'
check "...nothing of it shown" no_secret
WRONG=${HTOK%?}$([ "${HTOK: -1}" = A ] && echo E || echo A) # the last character changed
check "a wrong token: 404 too" test "$(node_req c1 GET "$P/reports/$HIDDEN?token=$WRONG")" = 404
check "...nothing of it shown" no_secret
check "Open311 requests/{id} without a key: 404" test "$(node_req c1 GET "open311/v2/requests/$HIDDEN.json")" = 404
check "...nothing of it shown" no_secret
check "Open311 requests?service_request_id: not listed" test "$(node_req c1 GET "open311/v2/requests.json?service_request_id=$HIDDEN")" = 200
check "...an empty list" jqb '. == []'
check "Open311 tokens/{code}: 404" test "$(node_req c1 GET "open311/v2/tokens/$HIDDEN.json")" = 404
VIEWKEY=$(echo "view-password" | "$BIN" user add --dir "$T/c1" --user xem --role viewer --unit 16681 >/dev/null;
    "$BIN" token --dir "$T/c1" --user xem)
check "Open311 with an account's token as api_key: 404" test "$(node_req c1 GET "open311/v2/requests/$HIDDEN.json?api_key=$VIEWKEY")" = 404
O311KEY=$("$BIN" open311-key add --dir "$T/c1" --name cityapp --unit 16681 2>/dev/null)
check "Open311 with an Open311 key of the unit (staff): 200" test "$(node_req c1 GET "open311/v2/requests/$HIDDEN.json?api_key=$O311KEY")" = 200
check "...the description" jqb --arg s "$SECRET" '.[0].description == $s'
check "the citizen with the token: 200" test "$(node_req c1 GET "$P/reports/$HIDDEN?token=$HTOK")" = 200
check "...the whole public view" jqb --arg s "$SECRET" '.description == $s and .address == "ngõ 12" and (.history | length) == 1'
check "...never the token or its hash" bash -c "! grep -Eq 'citizen_token_hash|\"token\"' '$T/body'"
has_hidden_at_dist() { has_record dist reports "$HIDDEN"; }
check "the report reaches the district" wait_until 30 has_hidden_at_dist
check "the token works at the district too" test "$(node_req dist GET "$P/reports/$HIDDEN?token=$HTOK")" = 200
check "...its code alone does not" test "$(node_req dist GET "$P/reports/$HIDDEN")" = 404

# ---- a public report ----
# public_order: the commune handles it (traffic would be the district's: report.not_owner)
check "a public report: 201" test "$(post_json c1 $P/reports "{\"title\": \"Đèn đường hỏng\", \"description\": \"Tối om từ tuần trước\",
    \"category\": \"public_order\", \"lat\": 18.67, \"lon\": 105.69, \"address\": \"Lê Lợi\"}")" = 201
PUB=$(jq -r .code "$T/body")
PTOK=$(jq -r .token "$T/body")
check "its code alone: 200" test "$(node_req c1 GET "$P/reports/$PUB")" = 200
check "...only what the public map shows" jqb '(keys - ["code","title","category","status","answer","address","lat","lon","created_at","received_at","resolved_at","closed_at","updated_at"]) == [] and .title == "Đèn đường hỏng"'
check "...no description, history or photos" jqb 'has("description") or has("history") or has("photos") | not'
check "with its token: the description and history" test "$(node_req c1 GET "$P/reports/$PUB?token=$PTOK")" = 200
check "...shown" jqb '.description == "Tối om từ tuần trước" and (.history | length) == 1'
check "staff receive and resolve it" test "$(act "$PUB" '{"action": "receive"}'):$(act "$PUB" '{"action": "resolve", "answer": "Đã thay bóng"}')" = 200:200
check "rating without the token: 403" test "$(post_json c1 "$P/reports/$PUB/rating" '{"rating": "unsatisfied", "reopen": true}')" = 403
check "...says the token is needed" jqb '.error.message | test("token")'
check "rating with another report's token: 403" test "$(post_json c1 "$P/reports/$PUB/rating?token=$HTOK" '{"rating": "unsatisfied", "reopen": true}')" = 403
check "...the report still resolved, unrated" test "$(node_req c1 GET "$P/reports/$PUB?token=$PTOK")" = 200
check "...so" jqb '.status == "resolved" and (has("rating") | not)'
check "staff resolve the hidden one too" test "$(act "$HIDDEN" '{"action": "receive"}'):$(act "$HIDDEN" '{"action": "resolve", "answer": "Đã xử lý"}')" = 200:200
check "rating the hidden one without its token: 404" test "$(post_json c1 "$P/reports/$HIDDEN/rating" '{"rating": "satisfied"}')" = 404
check "the citizen rates and reopens with the token: 200" test "$(post_json c1 "$P/reports/$PUB/rating?token=$PTOK" '{"rating": "unsatisfied", "reopen": true}')" = 200
check "...reopened" jqb '.status == "reopened" and .rating == "unsatisfied"'

# ---- where the token is (not) ----
check "staff see the report: 200" test "$(node_req c1 GET "api/v1/reports/$HIDDEN" -H "Authorization: Bearer $TOK")" = 200
check "...without the token's hash" jqb 'has("citizen_token_hash") | not'
check "the records API: 200" test "$(node_req c1 GET "api/v1/records/reports/$HIDDEN" -H "Authorization: Bearer $TOK")" = 200
check "...without the hash" bash -c "! grep -q citizen_token_hash '$T/body'"
hash_stored() { "$BIN" export --raw --dir "$T/$1" --collection reports | jq -se --arg c "$HIDDEN" 'map(select(.id == $c))[0].citizen_token_hash | test("^[0-9a-f]{64}$")' >/dev/null; }
check "the record keeps the hash of the token, at both tiers" eval "hash_stored c1 && hash_stored dist"
check "...and no node stores the token itself" bash -c "! grep -rqF -- '$HTOK' '$T/c1' '$T/dist'"
check "staff creating a report get a token to hand on: 201" test "$(post_json c1 api/v1/reports '{"title": "Qua điện thoại", "category": "traffic", "lat": 18.6, "lon": 105.6, "public": false}' -H "Authorization: Bearer $TOK")" = 201
STOK=$(jq -r .token "$T/body")
SCODE=$(jq -r .code "$T/body")
check "...which follows it on the public API" test "$(node_req c1 GET "$P/reports/$SCODE?token=$STOK")" = 200
check "an Open311 POST answers a token: 200" test "$(node_req c1 POST open311/v2/requests.json -d "api_key=$O311KEY" -d service_code=traffic -d lat=18.67 -d long=105.69 -d description=x)" = 200
OCODE=$(jq -r '.[0].service_request_id' "$T/body")
OTOK=$(jq -r '.[0].token' "$T/body")
check "...not the code" test "$OTOK" != "$OCODE"
check "...which follows it on the public API" test "$(node_req c1 GET "$P/reports/$OCODE?token=$OTOK")" = 200
check "...with the description" jqb '.description == "x"'

# ---- lookups without a token are limited per address ----
# The lookups so far without a valid token: 9 on c1. 60 are allowed.
codes=()
for i in $(seq 1 60); do codes+=("$(node_req c1 GET "$P/reports/16681-$((900000 + i))")"); done
n404=$(printf '%s\n' "${codes[@]}" | grep -c '^404$')
n429=$(printf '%s\n' "${codes[@]}" | grep -c '^429$')
check "guessing codes: 404s, then 429 (got $n404 404s, $n429 429s)" test "$n404" -ge 40 -a "$n429" -ge 1 -a "$((n404 + n429))" = 60
check "...the last with Retry-After" grep -Eqi '^retry-after: [1-9][0-9]*' "$T/hdr"
check "...and a message" jqb '.error.message | test("too many report lookups")'
check "a rating without a token is held too" test "$(post_json c1 "$P/reports/$PUB/rating" '{"rating": "satisfied"}')" = 429
check "the holder of a token is not held up" test "$(node_req c1 GET "$P/reports/$HIDDEN?token=$HTOK")" = 200
check "the other node is not affected" test "$(node_req dist GET "$P/reports/$PUB")" = 200
finish
