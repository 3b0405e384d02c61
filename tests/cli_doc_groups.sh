#!/usr/bin/env bash
# "All communes of a province" on real nodes: province 40 holds 70
# communes (16681 and 16684 under district 412, running; 68 more directly
# under the province, as after the 2025 reform, units of the tree that no
# node serves here), more than the addressees one entry may name. The
# province issues to 40*: the record lists all 70 communes and its entries
# are addressed to "40*"; the running communes receive it and write their
# delivered receipts, which come back to the sender; the district sees it
# from above, not in its in-box; a commune of province 41 never holds it
# (after a later record of the province reached it); the signature verifies at every
# running node and `lienthong verify` passes there; an update without
# recipients goes to the same group, a recall reaches the communes;
# 49 communes named one by one are refused (document.recipients), nothing
# stored.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/doc_lib.sh"

NODES="nat prov dist c1 c2 p41 c41"
make_tree
"$BIN" init --dir "$T/p41" --unit 41 --name "Tỉnh Hà Tĩnh" --tier province --parent-unit VN \
    --listen "127.0.0.1:${PORT[p41]}" --upstream "$(url nat)" >/dev/null || exit 1
"$BIN" init --dir "$T/c41" --unit 18001 --name "Xã Thạch Hà" --tier commune --parent-unit 41 \
    --listen "127.0.0.1:${PORT[c41]}" --upstream "$(url p41)" >/dev/null || exit 1
"$BIN" enroll --dir "$T/p41" --parent-dir "$T/nat" >/dev/null || exit 1
"$BIN" enroll --dir "$T/c41" --parent-dir "$T/p41" >/dev/null || exit 1
for i in $(seq 1 68); do
    u=$((17000 + i))
    "$BIN" init --dir "$T/x$i" --unit "$u" --name "Xã $u" --tier commune --parent-unit 40 >/dev/null &&
        "$BIN" enroll --dir "$T/x$i" --parent-dir "$T/prov" >/dev/null || exit 1
done
for n in nat prov dist c1 c2 p41 c41; do start "$n" || exit 1; done
PS=$(mk prov van staff 40)
PA=$(mk prov qtv admin 40)
CT=$(mk prov chutich staff 40)
DS=$(mk dist minh staff 412)
C1S=$(mk c1 lan staff 16681)
C2S=$(mk c2 hoa staff 16684)
C41S=$(mk c41 thach staff 18001)
status_is() { visible "$1" "$2" "$3" && jq -e --arg s "$4" '.status == $s' "$T/body" >/dev/null; }
link_all() { link_open dist 16681 && link_open dist 16684 && link_open prov 412 &&
    link_open nat 40 && link_open nat 41 && link_open p41 18001; }
check "the links are up" wait_until 30 link_all
units70() { [ "$(api prov network | jq '[.units[] | select(.tier == "commune" and .parent != "41")] | length')" = 70 ]; }
check "the province knows its 70 communes" wait_until 30 units70

# ---- 40*: more recipients than one entry names ----------------------------------------------------
check "the chairman gets a signing key" \
    bash -c "echo 'mat-khau-ky-so' | '$BIN' signer add --dir '$T/prov' --user chutich --position 'Chủ tịch UBND tỉnh' >/dev/null"
check "the province issues to all communes of 40: 201" \
    test "$(call POST prov "$PS" documents '{"type":"CV","subject":"Về việc ứng phó bão số 5","body":"Các xã triển khai ngay.","recipients":["40*"]}')" = 201
G=$(jq -r .id "$T/body")
check "...signed by the chairman" test "$(call POST prov "$CT" "documents/$G/sign" '{"password":"mat-khau-ky-so"}')" = 200
check "the record lists all 70 communes" visible prov "$PS" "$G"
check "...." jq -e '(.recipients | length) == 70 and (.recipient_groups[0].units | length) == 70 and
    .recipient_groups[0].spec == "40*" and .address == ["40*"] and
    ([.recipients[].unit] | index("16681") and index("16684") and index("17068"))' "$T/body"
check "16681 receives it" wait_until 30 visible c1 "$C1S" "$G"
check "...in its in-box" test "$(call GET c1 "$C1S" 'documents?box=in')" = 200
check "...." jq -e --arg g "$G" 'any(.documents[]; .id == $g)' "$T/body"
check "16684 receives it" wait_until 30 visible c2 "$C2S" "$G"
check "the district sees it from above" wait_until 30 visible dist "$DS" "$G"
check "...not in its in-box" test "$(call GET dist "$DS" 'documents?box=in')" = 200
check "...." jq -e --arg g "$G" 'all(.documents[]; .id != $g)' "$T/body"
check "16681's delivered comes back to the province" wait_until 30 line_is prov "$PS" "$G" 16681 delivered
check "16684's delivered too" wait_until 30 line_is prov "$PS" "$G" 16684 delivered
check "...the other 68 still sent" jq -e '[.recipients[] | select(.status == "sent")] | length == 68' "$T/body"
check "16684 records received" test "$(call POST c2 "$C2S" "documents/$G/receipts" '{"status":"received"}')" = 200
check "...it reaches the province" wait_until 30 line_is prov "$PS" "$G" 16684 received
verified() { [ "$(call GET "$1" "$2" "documents/$G/verify")" = 200 ] && jq -e '.valid and (.changed | not)' "$T/body" >/dev/null; }
check "the signature verifies at the province" verified prov "$PS"
check "...at the district" wait_until 30 verified dist "$DS"
check "...at 16681" wait_until 30 verified c1 "$C1S"
check "...at 16684" wait_until 30 verified c2 "$C2S"

# ---- never outside the group ----------------------------------------------------------------------
check "later, the province's admin adds a document type for every node (barrier)" \
    test "$(call PUT prov "$PA" document-types/CD '{"symbol":"CĐ","name_vi":"Công điện"}')" = 200
has_cd() { [ "$(call GET c41 "$C41S" document-types)" = 200 ] && jq -e 'any(.types[]; .code == "CD")' "$T/body" >/dev/null; }
check "...it reaches 18001 of province 41" wait_until 30 has_cd
check "18001 does not hold the 40* document" bash -c "! '$BIN' export --dir '$T/c41' --collection documents | jq -r .id | grep -qxF '$G'"
check "...nor sees it: 404" test "$(call GET c41 "$C41S" "documents/$G")" = 404
check "province 41 does not hold it" bash -c "! '$BIN' export --dir '$T/p41' --collection documents | jq -r .id | grep -qxF '$G'"

# ---- update to the same group, recall ---------------------------------------------------------------
check "an update without recipients: 201" \
    test "$(call POST prov "$PS" "documents/$G/update" '{"type":"CV","subject":"Đính chính: ứng phó bão số 5"}')" = 201
U=$(jq -r .id "$T/body")
check "...to the same group" visible prov "$PS" "$U"
check "...." jq -e '(.recipients | length) == 70 and .recipient_groups[0].spec == "40*" and .address == ["40*"]' "$T/body"
check "...16684 receives it" wait_until 30 visible c2 "$C2S" "$U"
check "...and sees the first one updated" wait_until 30 status_is c2 "$C2S" "$G" updated
check "the update is recalled" test "$(call POST prov "$PS" "documents/$U/recall" '{"reason":"Nhầm nội dung"}')" = 200
check "...16681 sees it recalled" wait_until 30 status_is c1 "$C1S" "$U" recalled

# ---- too many addresses -----------------------------------------------------------------------------
before=$(own_docs prov 40)
many=$(seq 17001 17049 | jq -R . | jq -sc '{type: "CV", subject: "x", recipients: .}')
check "49 communes named one by one: 400 document.recipients" test "$(call POST prov "$PS" documents "$many")" = 400
check "...saying to name a group" jq -e '.error.code == "document.recipients" and (.error.message | contains("49 addresses") and contains("X* (all communes of unit X)"))' "$T/body"
check "nothing was stored" test "$(own_docs prov 40)" -eq "$before"

for n in prov dist c1 c2 c41; do
    check "verify passes at $n" "$BIN" verify --dir "$T/$n"
done
finish
