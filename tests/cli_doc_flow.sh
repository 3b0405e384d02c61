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
. "$(dirname "$0")/doc_lib.sh"

make_tree
for n in nat prov dist c1 c2; do start "$n" || exit 1; done
PS=$(mk prov van staff 40)
PA=$(mk prov qtv admin 40)
C1S=$(mk c1 lan staff 16681)
C1A=$(mk c1 qtx admin 16681)
C2S=$(mk c2 hoa staff 16684)
DS=$(mk dist minh staff 412)
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
before=$(own_docs prov 40)
check "a group of an unknown unit: 400 document.recipient_unknown" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"x","recipients":["999*"]}')" = 400
check "...." code_is document.recipient_unknown
check "a group of an unknown tier: 400 document.recipients" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"x","recipients":["412*ward"]}')" = 400
check "...." code_is document.recipients
check "nothing was stored" test "$(own_docs prov 40)" -eq "$before"
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

# ---- update (15) and replace (16) ----------------------------------------------------------------
CT=$(mk prov chutich staff 40)
check "the chairman gets a signing key" \
    bash -c "echo 'mat-khau-ky-so' | '$BIN' signer add --dir '$T/prov' --user chutich --position 'Chủ tịch UBND tỉnh' >/dev/null"
check "the province issues a letter to both communes" \
    test "$(call POST prov "$PS" documents '{"type":"CV","subject":"Về việc sơ tán dân vùng trũng","body":"Hoàn thành trước 17 giờ.","recipients":["16681","16684"]}')" = 201
O=$(jq -r .id "$T/body")
check "...signed by the chairman" test "$(call POST prov "$CT" "documents/$O/sign" '{"password":"mat-khau-ky-so"}')" = 200
check "updating a document that does not exist: 404" \
    test "$(call POST prov "$PS" documents/40-2026-CV-999/update '{"type":"CV","subject":"x"}')" = 404
check "a commune may not update the province's document: 403" wait_until 30 visible c1 "$C1S" "$O"
check "...." test "$(call POST c1 "$C1S" "documents/$O/update" '{"type":"CV","subject":"x","recipients":["412"]}')" = 403
check "a document may not both update and replace: 400" \
    test "$(call POST prov "$PS" documents "{\"type\":\"CV\",\"subject\":\"x\",\"updates\":\"$O\",\"replaces\":\"$O\"}")" = 400
check "the province publishes a correction (update)" \
    test "$(call POST prov "$PS" "documents/$O/update" '{"type":"CV","subject":"Đính chính: hoàn thành trước 19 giờ"}')" = 201
U=$(jq -r .id "$T/body")
check "...sent to the same recipients, naming the document it updates" visible prov "$PS" "$U"
check "...." jq -e --arg o "$O" '.updates == $o and ([.recipients[].unit] | sort) == ["16681", "16684"]' "$T/body"
check "...the old one is marked updated (15) with the link back" visible prov "$PS" "$O"
check "...." jq -e --arg u "$U" '.status == "updated" and .status_code == "15" and .updated_by == [$u]' "$T/body"
updated_at() { visible "$1" "$2" "$O" && jq -e --arg u "$U" '.status == "updated" and .updated_by == [$u]' "$T/body" >/dev/null; }
check "16681 sees the old one updated" wait_until 30 updated_at c1 "$C1S"
check "...and holds the correction" wait_until 30 visible c1 "$C1S" "$U"
check "the old one still verifies at 16681" test "$(call GET c1 "$C1S" "documents/$O/verify")" = 200
check "...." jq -e '.valid and .changed == false' "$T/body"
check "the province replaces the document" \
    test "$(call POST prov "$PS" "documents/$O/replace" '{"type":"CV","subject":"Thay thế: sơ tán dân vùng trũng (bản mới)","body":"Hoàn thành trước 19 giờ."}')" = 201
R=$(jq -r .id "$T/body")
check "...the old one is marked replaced (16) with the link back, its correction kept" visible prov "$PS" "$O"
check "...." jq -e --arg r "$R" --arg u "$U" '.status == "replaced" and .status_code == "16" and .replaced_by == $r and .updated_by == [$u]' "$T/body"
check "the chairman signs the replacement" test "$(call POST prov "$CT" "documents/$R/sign" '{"password":"mat-khau-ky-so"}')" = 200
replaced_at() { visible "$1" "$2" "$O" && jq -e --arg r "$R" '.status == "replaced" and .replaced_by == $r' "$T/body" >/dev/null; }
check "16684 sees the old one replaced" wait_until 30 replaced_at c2 "$C2S"
rverified() { [ "$(call GET c2 "$C2S" "documents/$R/verify")" = 200 ] && jq -e '.valid' "$T/body" >/dev/null; }
check "...the replacement verifies there" wait_until 30 rverified
check "...naming what it replaces" visible c2 "$C2S" "$R"
check "...." jq -e --arg o "$O" '.replaces == $o' "$T/body"
check "...and the old one still verifies" test "$(call GET c2 "$C2S" "documents/$O/verify")" = 200
check "...." jq -e '.valid' "$T/body"
check "replacing it again: 409 document.superseded" \
    test "$(call POST prov "$PS" "documents/$O/replace" '{"type":"CV","subject":"x"}')" = 409
check "...." code_is document.superseded
xml_post() { curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/xml' --data-binary "@$3" "http://127.0.0.1:${PORT[$1]}/api/v1/documents/edxml"; }
check "the replacement's edXML carries what it replaces" \
    test "$(curl -s -o "$T/r.xml" -w '%{http_code}' -H "Authorization: Bearer $PS" "http://127.0.0.1:${PORT[prov]}/api/v1/documents/$R/edxml")" = 200
check "...ReplacementInfo: DocumentId and StatusCode 16" bash -c "xmllint --xpath 'string(//*[local-name()=\"ReplacementInfo\"]/*[local-name()=\"DocumentId\"])' '$T/r.xml' | grep -qxF '$O' &&
    xmllint --xpath 'string(//*[local-name()=\"ReplacementInfo\"]/*[local-name()=\"StatusCode\"])' '$T/r.xml' | grep -qx 16"
check "the district imports it: the link kept" test "$(xml_post dist "$DS" "$T/r.xml")" = 201
check "...." bash -c "curl -s -H 'Authorization: Bearer $DS' http://127.0.0.1:${PORT[dist]}/api/v1/documents/\$(jq -r .id '$T/body') | jq -e --arg o '$O' '.replaces == \$o'"
check "the correction's edXML says 15" \
    test "$(curl -s -o "$T/u.xml" -w '%{http_code}' -H "Authorization: Bearer $PS" "http://127.0.0.1:${PORT[prov]}/api/v1/documents/$U/edxml")" = 200
check "...." bash -c "xmllint --xpath 'string(//*[local-name()=\"ReplacementInfo\"]/*[local-name()=\"StatusCode\"])' '$T/u.xml' | grep -qx 15"
sed 's|<edXML:StatusCode>15</edXML:StatusCode>|<edXML:StatusCode>99</edXML:StatusCode>|' "$T/u.xml" >"$T/bad.xml"
check "a bad StatusCode: 400 naming the element" test "$(xml_post dist "$DS" "$T/bad.xml")" = 400
check "...." jq -e '.error.message | contains("ReplacementInfo/StatusCode")' "$T/body"

for n in nat prov dist c1 c2; do check "node $n stops cleanly" stop "$n"; done
finish
