#!/usr/bin/env bash
# Documents on real nodes over four tiers (national VN, province 40,
# district 412, communes 16681 and 16684): the document types come from a
# replicated list (defaults, a type added and one retired by the
# province's admin reach the communes; an unknown type is refused naming
# it; a commune's admin may not define types); recipients "all communes of
# 412" (412*) and "all districts of 40" (40*district) are expanded against
# the unit tree and the expansion is recorded; each recipient's node writes
# the receipt "delivered" (01) itself, once (not again after a restart,
# never over a later receipt), and the sender sees it without anyone
# acting; an update (15) and a replacement (16) link the documents both
# ways, reach the recipients, travel through edXML and still verify.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
for n in nat prov dist c1 c2; do start "$n" || exit 1; done
PS=$(mk prov van staff 40)
PA=$(mk prov qtv admin 40)
C1S=$(mk c1 lan staff 16681)
C1A=$(mk c1 qtx admin 16681)
C2S=$(mk c2 hoa staff 16684)
DS=$(mk dist minh staff 412)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
code_is() { jq -e --arg c "$1" '.error.code == $c' "$T/body" >/dev/null; }
visible() { [ "$(call GET "$1" "$2" "documents/$3")" = 200 ]; }
line_is() { # line_is NODE TOKEN ID UNIT STATUS
    visible "$1" "$2" "$3" &&
        jq -e --arg u "$4" --arg s "$5" 'any(.recipients[]; .unit == $u and .status == $s)' "$T/body" >/dev/null
}
link_all() { link_open dist 16681 && link_open dist 16684 && link_open prov 412; }
check "the links are up" wait_until 30 link_all

# ---- types from a replicated list --------------------------------------------------------------
check "GET /document-types lists the defaults" test "$(call GET c1 "$C1S" document-types)" = 200
check "...QĐ, KH, CV, TB, BC, TTr" jq -e '[.types[] | select(.active) | .symbol] as $s |
    all("QĐ", "KH", "CV", "TB", "BC", "TTr"; . as $x | $s | index($x))' "$T/body"
check "a staff of the province may not define a type: 403" \
    test "$(call PUT prov "$PS" document-types/CD '{"symbol":"CĐ","name_vi":"Công điện"}')" = 403
check "a commune's admin may not: 403 top_tier.required" \
    test "$(call PUT c1 "$C1A" document-types/CD '{"symbol":"CĐ","name_vi":"Công điện"}')" = 403
check "...." code_is top_tier.required
check "a type without a name: 400 document.type_field" \
    test "$(call PUT prov "$PA" document-types/CD '{"symbol":"CĐ"}')" = 400
check "...." code_is document.type_field
check "a code that is no code: 400" test "$(call PUT prov "$PA" document-types/C-1 '{"symbol":"C","name_vi":"x"}')" = 400
check "nothing was written" test "$(count prov doc_types)" -eq 0
check "the province's admin adds Công điện (CĐ)" \
    test "$(call PUT prov "$PA" document-types/CD '{"symbol":"CĐ","name_vi":"Công điện","name_en":"Official telegram"}')" = 200
check "...and retires Giấy mời (GM)" \
    test "$(call PUT prov "$PA" document-types/GM '{"symbol":"GM","name_vi":"Giấy mời","active":false}')" = 200
has_cd() { [ "$(call GET c1 "$C1S" document-types)" = 200 ] &&
    jq -e 'any(.types[]; .code == "CD" and .symbol == "CĐ" and .active and .source == "network") and
           any(.types[]; .code == "GM" and .active == false)' "$T/body" >/dev/null; }
check "the list reaches commune 16681" wait_until 30 has_cd
check "the commune issues a Công điện: 1/CĐ-UBND" \
    test "$(call POST c1 "$C1S" documents '{"type":"CD","subject":"Công điện khẩn về mưa lũ","recipients":["412"]}')" = 201
check "...." jq -e '.notation == "1/CĐ-UBND"' "$T/body"
check "a retired type: 400 document.type_unknown" \
    test "$(call POST c1 "$C1S" documents '{"type":"GM","subject":"Mời họp","recipients":["412"]}')" = 400
check "an unknown type: 400 document.type_unknown naming it" \
    test "$(call POST c1 "$C1S" documents '{"type":"XYZ","subject":"x","recipients":["412"]}')" = 400
check "...." jq -e '.error.code == "document.type_unknown" and (.error.message | contains("XYZ")) and (.error.message | contains("document-types"))' "$T/body"

# ---- all communes of 412 -----------------------------------------------------------------------
before=$(count prov documents)
check "a group of an unknown unit: 400 document.recipient_unknown" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"x","recipients":["999*"]}')" = 400
check "...." code_is document.recipient_unknown
check "a group of an unknown tier: 400 document.recipients" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"x","recipients":["412*ward"]}')" = 400
check "...." code_is document.recipients
check "nothing was stored" test "$(count prov documents)" -eq "$before"
check "the province writes to all communes of 412" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"Thông báo lịch trực bão","recipients":["412*"]}')" = 201
G=$(jq -r .id "$T/body")
check "...expanded to both communes, the expansion recorded" visible prov "$PS" "$G"
check "...." jq -e '([.recipients[].unit] | sort) == ["16681", "16684"] and .recipient_groups[0].spec == "412*" and
    .recipient_groups[0].tier == "commune" and (.recipient_groups[0].units | sort) == ["16681", "16684"]' "$T/body"
check "and to all districts of 40" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"Thông báo cho các huyện","recipients":["40*district"]}')" = 201
check "...." jq -e '.notation == "2/TB-UBND"' "$T/body"
GD=$(jq -r .id "$T/body")
check "...expanded to 412" bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $PS' http://127.0.0.1:${PORT[prov]}/api/v1/documents/$GD | jq -c '[.recipients[].unit]')\" = '[\"412\"]' ]"
check "16681 receives the group's document" wait_until 30 visible c1 "$C1S" "$G"
check "16684 too" wait_until 30 visible c2 "$C2S" "$G"

# ---- delivered, written by the recipient's node itself ------------------------------------------
check "the province sees 16681 delivered without anyone acting" wait_until 30 line_is prov "$PS" "$G" 16681 delivered
check "...code 01, by the node" jq -e 'any(.recipients[]; .unit == "16681" and .code == "01" and .by == "lienthong")' "$T/body"
check "...and 16684 delivered" wait_until 30 line_is prov "$PS" "$G" 16684 delivered
check "the district sees delivered on its document" wait_until 30 line_is prov "$PS" "$GD" 412 delivered
AT=$(call GET c1 "$C1S" "documents/$G" >/dev/null; jq -r '.recipients[] | select(.unit == "16681") | .at' "$T/body")
check "16684 records received" test "$(call POST c2 "$C2S" "documents/$G/receipts" '{"status":"received"}')" = 200
check "commune 16681 stops" stop c1
start c1 || exit 1
check "a later document reaches 16681 after the restart (barrier)" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"Thông báo sau khởi động lại","recipients":["16681"]}')" = 201
L=$(jq -r .id "$T/body")
check "...delivered" wait_until 30 line_is prov "$PS" "$L" 16681 delivered
check "the first delivery was not written again after the restart" visible c1 "$C1S" "$G"
check "...." jq -e --argjson at "$AT" 'any(.recipients[]; .unit == "16681" and .status == "delivered" and .at == $at)' "$T/body"
check "16684's received was not overwritten by delivered" wait_until 30 line_is prov "$PS" "$G" 16684 received

for n in nat prov dist c1 c2; do check "node $n stops cleanly" stop "$n"; done
finish
