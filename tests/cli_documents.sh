#!/usr/bin/env bash
# Documents across real nodes over four tiers (national VN, province 40,
# district 412, communes 16681 and 16684): the province issues a document
# to both communes (numbered 1/CV-UBND, 2/CV-UBND per unit, type and year);
# it travels down through the district; each commune's receipts come back
# to the province's one line per recipient; a commune replies (answers);
# a document addressed to 16681 alone never reaches 16684 (checked after a
# later document to both has arrived there); a recall reaches the
# recipients and stops further receipts; search folds Vietnamese marks;
# bad input (unknown recipient, missing subject, unknown type, bad due
# date, an oversized attachment, a file that is no PDF/DOCX/XLSX/image)
# is refused with its code and nothing stored; a generic record of the
# collection "documents" (lienthong import) is held and skipped.
# Signatures: `lienthong signer add` gives the province's chairman a key;
# a wrong password signs nothing; the signed document verifies at every
# tier (who, position, unit); its attachments download intact at a
# commune; one changed attachment chunk written at the province makes
# every tier's check say so. edXML: the signed document with its
# attachments exported as an edXML message (well-formed, its code,
# subject, signer, attachments) and imported at the district keeps every
# field and its attachment's bytes; a second import, a message without a
# Subject, a bad code number, a cut message and a DOCTYPE are refused
# naming the element at fault, nothing stored. Tasks: a leader assigns
# (a staff may not), communes post progress and completion, the late task
# shows at the province and the national node, the share done on time and
# the share of documents signed are operational indicators.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
. "$(dirname "$0")/csv_lib.sh"

make_tree
SERVE_ARGS="--attachment-max 20" # the oversized attachment below (tests/cli_doc_files.sh: 200 MiB)
for n in nat prov dist c1 c2; do start "$n" || exit 1; done

PS=$(mk prov van staff 40)
PV=$(mk prov pv viewer 40)
DV=$(mk dist dv viewer 412)
DS=$(mk dist minh staff 412)
C1S=$(mk c1 lan staff 16681)
C2S=$(mk c2 hoa staff 16684)
NV=$(mk nat nv viewer VN)
CT=$(mk prov chutich staff 40)
PL=$(mk prov lanhdao leader 40)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
code_is() { jq -e --arg c "$1" '.error.code == $c' "$T/body" >/dev/null; }
held() { # held NODE ID: the node's store holds document ID
    "$BIN" export --dir "$T/$1" --collection documents 2>/dev/null | jq -r .id | grep -qxF -- "$2"
}
visible() { [ "$(call GET "$1" "$2" "documents/$3")" = 200 ]; }
line_is() { # line_is NODE TOKEN ID UNIT STATUS: the recipient line of UNIT says STATUS
    visible "$1" "$2" "$3" &&
        jq -e --arg u "$4" --arg s "$5" 'any(.recipients[]; .unit == $u and .status == $s)' "$T/body" >/dev/null
}
form() { # form NODE TOKEN DOCUMENT_JSON [FILE...]: multipart POST /documents; prints the HTTP code
    local node=$1 tok=$2 doc=$3; shift 3
    local args=(-F "document=$doc;type=application/json")
    for f in "$@"; do args+=(-F "file=@$f"); done
    curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $tok" \
        "${args[@]}" "http://127.0.0.1:${PORT[$node]}/api/v1/documents"
}
verified() { # verified NODE TOKEN ID: the check answers, signed
    [ "$(call GET "$1" "$2" "documents/$3/verify")" = 200 ] && jq -e '.signed' "$T/body" >/dev/null
}
link_all() { link_open dist 16681 && link_open dist 16684 && link_open prov 412; }
check "the links are up" wait_until 30 link_all

# ---- bad input: refused with its code, nothing stored ---------------------------------------
before=$(count prov documents)
check "no login: 401" test "$(call POST prov x documents '{}')" = 401
check "a viewer may not issue: 403" \
    test "$(call POST prov "$PV" documents '{"type":"CV","subject":"x","recipients":["16681"]}')" = 403
check "an unknown recipient: 400" \
    test "$(call POST prov "$PS" documents '{"type":"CV","subject":"Về việc","recipients":["99999"]}')" = 400
check "...document.recipient_unknown naming it" \
    jq -e '.error.code == "document.recipient_unknown" and (.error.message | contains("99999"))' "$T/body"
check "a missing subject: 400 document.subject_missing" \
    test "$(call POST prov "$PS" documents '{"type":"CV","recipients":["16681"]}')" = 400
check "...." code_is document.subject_missing
check "an unknown type: 400 document.type_unknown" \
    test "$(call POST prov "$PS" documents '{"type":"XX","subject":"a","recipients":["16681"]}')" = 400
check "...." code_is document.type_unknown
check "a due date that is no date: 400 document.field" \
    test "$(call POST prov "$PS" documents '{"type":"CV","subject":"a","recipients":["16681"],"due":"2026-02-30"}')" = 400
check "...." code_is document.field
check "no recipients: 400 document.recipients" \
    test "$(call POST prov "$PS" documents '{"type":"CV","subject":"a","recipients":[]}')" = 400
check "...." code_is document.recipients
printf '%%PDF-1.4\n%% công văn\n' >"$T/cv.pdf"
head -c 100000 /dev/urandom >>"$T/cv.pdf"
printf '\x89PNG\r\n\x1a\n' >"$T/map.png"
head -c 3000 /dev/urandom >>"$T/map.png"
printf '%%PDF-' | cat - <(head -c $((20 * 1024 * 1024)) /dev/zero) >"$T/big.pdf"
printf 'MZ not a document' >"$T/tool.exe"
ONE='{"type":"CV","subject":"Có tệp","recipients":["16681"]}'
check "an attachment over 20 MiB: 413 document.file_too_large" test "$(form prov "$PS" "$ONE" "$T/cv.pdf" "$T/big.pdf")" = 413
check "...naming it" jq -e '.error.code == "document.file_too_large" and (.error.message | contains("big.pdf"))' "$T/body"
check "a file that is no document: 400 document.file_type" test "$(form prov "$PS" "$ONE" "$T/tool.exe")" = 400
check "...." code_is document.file_type
check "nothing was stored" test "$(count prov documents)" -eq "$before"
check "...no attachment chunk either" test "$(count prov doc_files)" -eq 0

# ---- a document to both communes, down through the district ----------------------------------
DOC1='{"type":"CV","subject":"Về việc triển khai phòng chống lụt bão","body":"Đề nghị các xã, phường chủ động ứng phó với mưa lớn.",
       "recipients":["16681","16684"],"urgency":"khan","due":"2020-01-10",
       "signer":{"name":"Nguyễn Văn A","position":"Chủ tịch UBND tỉnh"},"place":"Nghệ An"}'
check "the province issues a document to both communes with two attachments: 201" \
    test "$(form prov "$PS" "$DOC1" "$T/cv.pdf" "$T/map.png")" = 201
check "...numbered 1/CV-UBND" jq -e '.notation == "1/CV-UBND" and .number == 1 and (.files | length) == 2' "$T/body"
D1=$(jq -r .id "$T/body")
PDF=$(jq -r '.files[] | select(.type == "application/pdf") | .hash' "$T/body")
check "...with an id of its unit, year and type" bash -c "[[ '$D1' =~ ^40-[0-9]{4}-CV-1\$ ]]"
check "the next one of that type is 2/CV-UBND" \
    test "$(call POST prov "$PS" documents '{"type":"CV","subject":"Công văn thứ hai","recipients":["412"]}')" = 201
check "...." jq -e '.notation == "2/CV-UBND"' "$T/body"
D2=$(jq -r .id "$T/body")
check "a decision starts its own series: 1/QĐ-UBND" \
    test "$(call POST prov "$PS" documents '{"type":"QD","subject":"Quyết định","recipients":["412"]}')" = 201
check "...." jq -e '.notation == "1/QĐ-UBND"' "$T/body"
# ---- an official signs it --------------------------------------------------------------------
check "signer add for an unknown account fails" \
    bash -c "! echo 'mat-khau-ky-so' | '$BIN' signer add --dir '$T/prov' --user nobody --position x 2>'$T/err'"
check "...naming it" grep -q "no account nobody" "$T/err"
check "lienthong signer add gives the chairman a key" \
    bash -c "echo 'mat-khau-ky-so' | '$BIN' signer add --dir '$T/prov' --user chutich --position 'Chủ tịch UBND tỉnh' >'$T/out'"
check "...certified" grep -q "key certified as 40/chutich/" "$T/out"
check "not signed yet: verify says so" test "$(call GET prov "$PS" "documents/$D1/verify")" = 200
check "...." jq -e '.signed == false and .valid == false' "$T/body"
check "a wrong password: 403 document.signer_password" \
    test "$(call POST prov "$CT" "documents/$D1/sign" '{"password":"sai-mat-khau"}')" = 403
check "...." code_is document.signer_password
unsigned() { visible prov "$PS" "$D1" && jq -e '.signature == null' "$T/body" >/dev/null; }
check "...nothing signed" unsigned
check "a staff without a key may not sign: 403 document.signer_unknown" \
    test "$(call POST prov "$PS" "documents/$D1/sign" '{"password":"mat-khau-ky-so"}')" = 403
check "...." code_is document.signer_unknown
check "the chairman signs" test "$(call POST prov "$CT" "documents/$D1/sign" '{"password":"mat-khau-ky-so"}')" = 200
check "...valid at once" jq -e '.signed and .valid and .changed == false and .signer.position == "Chủ tịch UBND tỉnh" and .signer.unit == "40"' "$T/body"
check "signing twice: 409 document.signed" \
    test "$(call POST prov "$CT" "documents/$D1/sign" '{"password":"mat-khau-ky-so"}')" = 409
check "commune 16681 receives it" wait_until 30 visible c1 "$C1S" "$D1"
check "...with its fields" jq -e '.subject == "Về việc triển khai phòng chống lụt bão" and .urgency == "khan"
    and .signer.position == "Chủ tịch UBND tỉnh" and .unit == "40" and .notation == "1/CV-UBND"' "$T/body"
check "commune 16684 receives it" wait_until 30 visible c2 "$C2S" "$D1"
check "the district (on its way) holds it" held dist "$D1"
check "the national node holds it (the units above the sender)" wait_until 30 held nat "$D1"
check "16681's inbox lists it" test "$(call GET c1 "$C1S" 'documents?box=in')" = 200
check "...." jq -e --arg d "$D1" 'any(.documents[]; .id == $d and .box == "in")' "$T/body"
check "...and not the province's document to the district" \
    jq -e --arg d "$D2" 'all(.documents[]; .id != $d)' "$T/body"
check "the sender sees one line per recipient, delivered (the communes' nodes wrote it)" \
    wait_until 30 line_is prov "$PS" "$D1" 16681 delivered
check "...." jq -e '(.recipients | length) == 2 and .overdue == true' "$T/body"

for n in c1:$C1S c2:$C2S dist:$DV nat:$NV; do
    check "the signature verifies at ${n%%:*}" wait_until 30 verified "${n%%:*}" "${n#*:}" "$D1"
    check "...valid: who, position, unit, when" jq -e '.valid and .signer.user == "chutich" and
        .signer.position == "Chủ tịch UBND tỉnh" and .signer.unit == "40" and (.at | type) == "number"' "$T/body"
done
check "16681 downloads the PDF" \
    test "$(curl -s -o "$T/got.pdf" -w '%{http_code}' -H "Authorization: Bearer $C1S" "http://127.0.0.1:${PORT[c1]}/api/v1/documents/$D1/files/$PDF")" = 200
check "...byte for byte" cmp -s "$T/got.pdf" "$T/cv.pdf"
check "an attachment the document does not list: 404 document.file_not_found" \
    test "$(call GET c1 "$C1S" "documents/$D1/files/$(printf '0%.0s' {1..64})")" = 404
check "...." code_is document.file_not_found

# ---- edXML out and in ------------------------------------------------------------------------
xml_post() { # xml_post NODE TOKEN FILE: POST documents/edxml; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/xml' --data-binary "@$3" "http://127.0.0.1:${PORT[$1]}/api/v1/documents/edxml"
}
check "the province exports the document as edXML" \
    test "$(curl -s -o "$T/d1.xml" -w '%{http_code}' -H "Authorization: Bearer $PS" "http://127.0.0.1:${PORT[prov]}/api/v1/documents/$D1/edxml")" = 200
check "...well-formed XML" xmllint --noout "$T/d1.xml"
check "...with its code, subject, signer and both attachments" bash -c "grep -q '<edXML:CodeNotation>CV-UBND</edXML:CodeNotation>' '$T/d1.xml' &&
    grep -q '<edXML:Subject>Về việc triển khai phòng chống lụt bão</edXML:Subject>' '$T/d1.xml' &&
    grep -q '<edXML:Position>Chủ tịch UBND tỉnh</edXML:Position>' '$T/d1.xml' && [ \$(grep -c '<edXML:Attachment>' '$T/d1.xml') = 2 ]"
check "the district imports it as an incoming document: 201" test "$(xml_post dist "$DS" "$T/d1.xml")" = 201
IN=$(jq -r .id "$T/body")
check "...every field kept" bash -c "
    curl -s -H 'Authorization: Bearer $PS' http://127.0.0.1:${PORT[prov]}/api/v1/documents/$D1 >'$T/a.json' &&
    curl -s -H 'Authorization: Bearer $DS' http://127.0.0.1:${PORT[dist]}/api/v1/documents/$IN >'$T/b.json' &&
    F='{type, number, notation, subject, body, unit, unit_name, date, place, due, urgency, security, signer,
        recipients: [.recipients[].unit], files: [.files[] | {hash, name, type, size}]}' &&
    [ \"\$(jq -S \"\$F\" '$T/a.json')\" = \"\$(jq -S \"\$F\" '$T/b.json')\" ] && jq -e '.source == \"edxml\"' '$T/b.json'"
check "...its attachment byte for byte" \
    test "$(curl -s -o "$T/in.pdf" -w '%{http_code}' -H "Authorization: Bearer $DS" "http://127.0.0.1:${PORT[dist]}/api/v1/documents/$IN/files/$PDF")" = 200
check "...." cmp -s "$T/in.pdf" "$T/cv.pdf"
check "the same message again: 409 document.exists" test "$(xml_post dist "$DS" "$T/d1.xml")" = 409
check "...." code_is document.exists
before=$(count dist documents)
grep -v '<edXML:Subject>' "$T/d1.xml" >"$T/nosubject.xml"
check "a message without a Subject: 400 document.edxml" test "$(xml_post dist "$DS" "$T/nosubject.xml")" = 400
check "...naming the element" jq -e '.error.code == "document.edxml" and (.error.message | contains("MessageHeader/Subject"))' "$T/body"
sed 's|<edXML:CodeNumber>1</edXML:CodeNumber>|<edXML:CodeNumber>một</edXML:CodeNumber>|' "$T/d1.xml" >"$T/badnum.xml"
check "a code number that is no number: 400 naming Code/CodeNumber" test "$(xml_post dist "$DS" "$T/badnum.xml")" = 400
check "...." jq -e '.error.message | contains("Code/CodeNumber")' "$T/body"
head -c 2000 "$T/d1.xml" >"$T/cut.xml"
check "a cut message: 400, not well-formed" test "$(xml_post dist "$DS" "$T/cut.xml")" = 400
check "...." jq -e '.error.message | contains("not well-formed")' "$T/body"
printf '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<x>&a;</x>\n' >"$T/dtd.xml"
check "a DOCTYPE with entities: 400" test "$(xml_post dist "$DS" "$T/dtd.xml")" = 400
check "nothing of the bad messages was stored" test "$(count dist documents)" -eq "$before"

# ---- receipts flow back -----------------------------------------------------------------------
check "16681 records received" \
    test "$(call POST c1 "$C1S" "documents/$D1/receipts" '{"status":"received"}')" = 200
check "16684 returns it with a reason" \
    test "$(call POST c2 "$C2S" "documents/$D1/receipts" '{"status":"returned","note":"Sai địa chỉ nhận"}')" = 200
check "a return without a reason: 400 document.reason_missing" \
    test "$(call POST c2 "$C2S" "documents/$D1/receipts" '{"status":"returned"}')" = 400
check "...." code_is document.reason_missing
check "an unknown state: 400 document.receipt_status" \
    test "$(call POST c1 "$C1S" "documents/$D1/receipts" '{"status":"lost"}')" = 400
check "...." code_is document.receipt_status
check "the province sees 16681 received" wait_until 30 line_is prov "$PV" "$D1" 16681 received
check "...with the edXML code 03 and who" \
    jq -e 'any(.recipients[]; .unit == "16681" and .code == "03" and .by == "lan" and (.at | type) == "number")' "$T/body"
check "the province sees 16684 returned with its reason" wait_until 30 line_is prov "$PV" "$D1" 16684 returned
check "...." jq -e 'any(.recipients[]; .unit == "16684" and .code == "02" and .note == "Sai địa chỉ nhận")' "$T/body"
check "16681 finishes it" \
    test "$(call POST c1 "$C1S" "documents/$D1/receipts" '{"status":"done"}')" = 200
check "the province sees done" wait_until 30 line_is prov "$PV" "$D1" 16681 done
check "the district sees both states too" wait_until 30 line_is dist "$DV" "$D1" 16681 done

# ---- a commune replies ------------------------------------------------------------------------
check "16681 replies to the province: 201" \
    test "$(call POST c1 "$C1S" documents "{\"type\":\"BC\",\"subject\":\"Báo cáo kết quả ứng phó mưa lớn\",\"recipients\":[\"40\"],\"answers\":\"$D1\"}")" = 201
check "...numbered in its own series: 1/BC-UBND" jq -e '.notation == "1/BC-UBND"' "$T/body"
R1=$(jq -r .id "$T/body")
check "the province's inbox gets the reply" wait_until 30 visible prov "$PS" "$R1"
check "...answering the document" jq -e --arg d "$D1" '.answers == $d and .unit == "16681"' "$T/body"
check "the province finds it by folded words (bao cao ung pho)" \
    test "$(call GET prov "$PS" 'documents?box=in&q=bao%20cao%20ung%20pho')" = 200
check "...only it" jq -e --arg d "$R1" '.total == 1 and .documents[0].id == $d' "$T/body"
check "...and its outbox by type" test "$(call GET prov "$PS" 'documents?box=out&type=QD')" = 200
check "...one decision" jq -e '.total == 1 and .documents[0].notation == "1/QĐ-UBND"' "$T/body"
check "the overdue filter finds the late letter to both communes" \
    test "$(call GET prov "$PS" 'documents?box=out&overdue=1')" = 200
check "...." jq -e --arg d "$D1" '.total == 1 and .documents[0].id == $d' "$T/body"

# ---- only to the recipients and the units above them -------------------------------------------
check "the province writes to 16681 alone" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"Thông báo riêng cho phường Bến Thủy","recipients":["16681"]}')" = 201
ONLY=$(jq -r .id "$T/body")
check "...then to both communes" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"Thông báo chung","recipients":["16681","16684"]}')" = 201
BOTH=$(jq -r .id "$T/body")
check "16681 holds the one for it" wait_until 30 held c1 "$ONLY"
check "16684 holds the later one for both (barrier)" wait_until 30 held c2 "$BOTH"
check "16684 never holds the one for 16681" bash -c "! '$BIN' export --dir '$T/c2' --collection documents | jq -r .id | grep -qxF '$ONLY'"
check "...and a staff of 16684 asking for it on its node: 404 document.not_found" \
    test "$(call GET c2 "$C2S" "documents/$ONLY")" = 404
check "...." code_is document.not_found
check "a viewer of the district sees it (above the recipient)" visible dist "$DV" "$ONLY"
check "16684 may not post a receipt for the reply it does not hold" \
    test "$(call POST c2 "$C2S" "documents/$R1/receipts" '{"status":"received"}')" = 404

# ---- recall -----------------------------------------------------------------------------------
check "16684 may not recall the province's document: 403" \
    test "$(call POST c2 "$C2S" "documents/$BOTH/recall" '{"reason":"x"}')" = 403
check "a recall needs a reason: 400" test "$(call POST prov "$PS" "documents/$BOTH/recall" '{}')" = 400
check "the province recalls it" \
    test "$(call POST prov "$PS" "documents/$BOTH/recall" '{"reason":"Ban hành nhầm"}')" = 200
recalled() { visible "$1" "$2" "$BOTH" && jq -e '.status == "recalled" and .recall_reason == "Ban hành nhầm" and .status_code == "13"' "$T/body" >/dev/null; }
check "16684 sees the recall" wait_until 30 recalled c2 "$C2S"
check "16681 sees the recall" wait_until 30 recalled c1 "$C1S"
check "...and records nothing more on it: 409 document.recalled" \
    test "$(call POST c1 "$C1S" "documents/$BOTH/receipts" '{"status":"received"}')" = 409
check "...." code_is document.recalled
check "its inbox shows it recalled" test "$(call GET c1 "$C1S" 'documents?box=in&status=recalled')" = 200
check "...." jq -e --arg d "$BOTH" '.total == 1 and .documents[0].id == $d' "$T/body"

# ---- one changed attachment chunk fails the check at every tier --------------------------------
jq -nc --arg id "$D1/$PDF/1" '{id: $id, data: "mot byte da bi thay doi", n: 1, of: 5}' |
    "$BIN" import --dir "$T/prov" --collection doc_files --file - --to 16681 --to 16684 >/dev/null
changed() { verified "$1" "$2" "$D1" && jq -e '.changed and .valid == false' "$T/body" >/dev/null; }
for n in prov:$PS dist:$DV c1:$C1S c2:$C2S nat:$NV; do
    check "the tampered attachment fails the check at ${n%%:*}" wait_until 30 changed "${n%%:*}" "${n#*:}"
done
check "...saying what changed" jq -e 'any(.problems[]; contains("attachment changed"))' "$T/body"

# ---- directives and tasks ---------------------------------------------------------------------
TODAY=$(TZ=Asia/Ho_Chi_Minh date +%F)
MONTH=${TODAY%-*}
check "a staff may not assign a task: 403" \
    test "$(call POST prov "$PS" tasks '{"title":"x","due":"2030-01-01","assignees":["16681"]}')" = 403
check "an unknown assignee: 400 task.assignees" \
    test "$(call POST prov "$PL" tasks '{"title":"x","due":"2030-01-01","assignees":["99999"]}')" = 400
check "...." code_is task.assignees
check "no deadline: 400 task.due" test "$(call POST prov "$PL" tasks '{"title":"x","assignees":["16681"]}')" = 400
check "...." code_is task.due
check "the leader assigns a task from the document to both communes, already late: 201" \
    test "$(call POST prov "$PL" tasks "{\"title\":\"Báo cáo thiệt hại do mưa lớn\",\"due\":\"2020-01-15\",\"assignees\":[\"16681\",\"16684\"],\"doc\":\"$D1\"}")" = 201
T1=$(jq -r .id "$T/body")
check "...and one due today to 16681" \
    test "$(call POST prov "$PL" tasks "{\"title\":\"Kiểm tra đê điều\",\"due\":\"$TODAY\",\"assignees\":[\"16681\"]}")" = 201
T2=$(jq -r .id "$T/body")
task_at() { [ "$(call GET "$1" "$2" "tasks?assignee=$3")" = 200 ] && jq -e --arg t "$4" 'any(.tasks[]; .id == $t)' "$T/body" >/dev/null; }
check "16681 gets both tasks" wait_until 30 task_at c1 "$C1S" 16681 "$T2"
check "...." task_at c1 "$C1S" 16681 "$T1"
check "16681 reports half done on the late one" \
    test "$(call POST c1 "$C1S" "tasks/$T1/progress" '{"percent":50,"note":"Đã thống kê 3 thôn"}')" = 200
check "16681 completes the one due today" test "$(call POST c1 "$C1S" "tasks/$T2/progress" '{"done":true}')" = 200
check "...on time" jq -e '.done and .on_time and .progress[0].percent == 100' "$T/body"
check "a percent over 100: 400 task.field" test "$(call POST c1 "$C1S" "tasks/$T1/progress" '{"percent":120}')" = 400
check "...." code_is task.field
check "16684 holds T1 but not T2: 404 task.not_found" test "$(call POST c2 "$C2S" "tasks/$T2/progress" '{"done":true}')" = 404
check "...." code_is task.not_found
progress_is() { [ "$(call GET prov "$PL" "tasks/$T1")" = 200 ] &&
    jq -e 'any(.progress[]; .unit == "16681" and .percent == 50 and .note == "Đã thống kê 3 thôn")' "$T/body" >/dev/null; }
check "the province sees 16681 at 50%" wait_until 30 progress_is
check "...overdue" jq -e '.overdue and .done == false and (.progress | length) == 2' "$T/body"
only_late() { [ "$(call GET "$1" "$2" 'tasks?overdue=1')" = 200 ] &&
    jq -e --arg t "$T1" '.total == 1 and .tasks[0].id == $t' "$T/body" >/dev/null; }
check "the province's overdue list holds the late task only" only_late prov "$PL"
check "...and it rises to the national dashboard" wait_until 30 only_late nat "$NV"
check "the operational indicator of tasks done on time: 100% this month at the province" \
    test "$(call GET prov "$PV" "indicators/VB.TASKS_ON_TIME/values?unit=40&from=$MONTH&to=$MONTH")" = 200
check "...." jq -e '.rows[0].value == 100' "$T/body"
check "the share of documents signed this month is between 0 and 100 %" \
    test "$(call GET prov "$PV" "indicators/VB.SIGNED/values?unit=40&from=$MONTH&to=$MONTH")" = 200
check "...." jq -e '.rows[0].value > 0 and .rows[0].value < 100' "$T/body"

# ---- generic records of the collection stay possible, and skipped --------------------------------
printf '%s\n' '{"id":"56/KH-UBND","title":"Kế hoạch","signed":true}' '{"id":"KH-57","title":"x"}' |
    "$BIN" import --dir "$T/prov" --collection documents --file - --to 16681 >/dev/null
check "a generic record imported at the province reaches 16681" wait_until 30 held c1 "56/KH-UBND"
check "...the list skips it" test "$(call GET c1 "$C1S" 'documents?limit=500')" = 200
check "...." jq -e 'all(.documents[]; .id != "56/KH-UBND") and .total >= 3' "$T/body"
check "...and by id it is no document: 404" test "$(call GET c1 "$C1S" 'documents/KH-57')" = 404
check "the national node lists the documents of the province" test "$(call GET nat "$NV" 'documents?limit=500')" = 200
check "...." jq -e --arg d "$D1" --arg r "$R1" 'any(.documents[]; .id == $d) and any(.documents[]; .id == $r)' "$T/body"

# ---- CSV export of the list (issue 18): every match, the list's filters and visibility ----------
P81=$(mk prov p81 viewer 16681)
P84=$(mk prov p84 viewer 16684)
check "a document whose subject is a formula, to 16681 alone" \
    test "$(call POST prov "$PS" documents '{"type":"TB","subject":"=HYPERLINK(\"x\")","recipients":["16681"]}')" = 201
FORMULA=$(jq -r .id "$T/body")
csv_same_as_json prov "$PV" 'documents?limit=500&' '"\(.total) " + ([.documents[].id] | sort | join(" "))' \
    '' 'box=out' 'box=in' 'q=thong+bao' 'type=TB'
check "...starts with the byte order mark and the header" csv_header_is \
    "id,notation,type,subject,unit,unit_name,date,urgency,due,created_at,overdue,signer,status,box,recipients"
check "...the formula subject is guarded with a leading '" grep -qF ",\"'=HYPERLINK(\"\"x\"\")\"," "$T/body"
check "CSV by Accept: text/csv is served as text/csv" test "$(curl -s -D - -o /dev/null -H 'Accept: text/csv' \
    -H "Authorization: Bearer $PV" "http://127.0.0.1:${PORT[prov]}/api/v1/documents" | grep -ci '^content-type: text/csv')" = 1
check "CSV of a 16681 viewer holds the document to 16681 alone" \
    test "$(call GET prov "$P81" 'documents?format=csv')" = 200
check "...." csv_has_id "$FORMULA"
check "CSV of a 16684 viewer: as many rows as its JSON list" test "$(call GET prov "$P84" 'documents?limit=500')" = 200
want=$(jq -r .total "$T/body")
check "...." test "$(call GET prov "$P84" 'documents?format=csv')" = 200
check "...$want rows, at least one" test "$(csv_rows)" = "$want" -a "$want" -ge 1
check "...without the document to 16681 alone" test "$(csv_has_id "$FORMULA" || echo absent)" = absent
check "CSV with a bad filter is 400 like the list" test "$(call GET prov "$PV" 'documents?format=csv&box=up')" = 400
check "...document.query" code_is document.query
# the tasks list as CSV: every task of the list, the same filters and visibility
check "a task whose title starts with @, to 16681" \
    test "$(call POST prov "$PL" tasks '{"title":"@chu tich: kiem tra","due":"2030-01-01","assignees":["16681"]}')" = 201
T3=$(jq -r .id "$T/body")
csv_same_as_json prov "$PL" 'tasks?' '"\(.total) " + ([.tasks[].id] | sort | join(" "))' '' 'overdue=1' 'assignee=16684'
check "...the byte order mark and the header" \
    csv_header_is "id,title,unit,by,due,doc,done,overdue,on_time,assignees,progress,created_at"
check "the whole tasks CSV of the province" test "$(call GET prov "$PL" 'tasks?format=csv&overdue=1')" = 200
check "...the late task, both assignees, 16681 at 50 %" \
    grep -q "^$T1,.*,0,1,,16681 16684,16681:50 16684:0," "$T/body"
check "...the @ title guarded" bash -c "curl -s -H 'Authorization: Bearer $PL' 'http://127.0.0.1:${PORT[prov]}/api/v1/tasks?format=csv' | grep -qF \"$T3,'@chu tich: kiem tra,40,\""
check "a 16684 viewer's task CSV: T1 (assigned to it)" test "$(call GET prov "$P84" 'tasks?format=csv')" = 200
check "...." csv_has_id "$T1"
check "...not T2 nor T3 (16681's alone)" test "$(csv_has_id "$T2" || csv_has_id "$T3" || echo none)" = none

for n in nat prov dist c1 c2; do check "node $n stops cleanly" stop "$n"; done
finish
