#!/usr/bin/env bash
# The numbering register with two real servers of one unit: province 40
# (prov, the first server) and its mirror prov2 (unit 40, enrolled by
# prov), both online and synced. Only the holder of the register numbers:
# twenty documents issued at once, half on each server, give 1..10 on the
# holder and a 409 document.register_elsewhere naming the holder on the
# other, never a duplicate or a gap; an admin hands the register over
# (the hand-over carries the last number, the new holder continues at 11);
# the old holder then refuses; the holder stops (lost) and an admin of the
# unit takes the register over on the other server, which continues the
# series; when the lost server comes back it learns of the take-over and
# refuses to number. Bad input changes nothing.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"
NODES="nat prov dist c1 c2 prov2"

make_tree
"$BIN" init --dir "$T/prov2" --unit 40 --name "Tỉnh Nghệ An (máy 2)" --tier province \
    --listen "127.0.0.1:${PORT[prov2]}" --upstream "$(url prov)" --upstream "$(url nat)" >/dev/null || exit 1
"$BIN" enroll --dir "$T/prov2" --parent-dir "$T/prov" >/dev/null || exit 1
for n in nat prov prov2; do start "$n" || exit 1; done

A1=$(mk prov adm1 admin 40)
S1=$(mk prov van staff 40)
A2=$(mk prov2 adm2 admin 40)
S2=$(mk prov2 hoa staff 40)
K1=$(node_key prov)
K2=$(node_key prov2)
call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
code_is() { jq -e --arg c "$1" '.error.code == $c' "$T/body" >/dev/null; }
holder_is() { # holder_is NODE TOKEN KEY: the node's register names KEY
    [ "$(call GET "$1" "$2" documents/register)" = 200 ] && jq -e --arg k "$3" '.holder == $k' "$T/body" >/dev/null
}
numbers() { "$BIN" export --dir "$T/$1" --collection documents | jq -r 'select(.unit == "40") | .number' | sort -n | tr '\n' ' '; }
synced() { [ "$(numbers prov)" = "$(numbers prov2)" ] && [ -n "$(numbers prov)" ]; }
mirror_up() { link_open prov2 40; }
check "the mirror's link to the first server is up" wait_until 30 mirror_up
check "the mirror holds both servers' certificates" wait_until 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $S2' http://127.0.0.1:${PORT[prov2]}/api/v1/documents/register | jq '.servers | length')\" = 2 ]"

# ---- both online: only the first server numbers ------------------------------------------------
check "the first server holds the register (no record yet)" holder_is prov "$S1" "$K1"
check "...held here, how: first_server" jq -e '.held_here and .how == "first_server"' "$T/body"
check "the mirror agrees: the first server holds it" holder_is prov2 "$S2" "$K1"
check "...not held there" jq -e '.held_here == false' "$T/body"
check "lienthong register show on the mirror says who holds it and what to do" \
    bash -c "'$BIN' register show --dir '$T/prov2' | grep -q 'held by node $K1' && '$BIN' register show --dir '$T/prov2' | grep -q 'does not hold it: issue documents on node ${K1:0:16}'"
check "...as JSON on the first server: held here" bash -c "'$BIN' register show --json --dir '$T/prov' | jq -e '.held_here and (.servers | length) == 2'"
check "lienthong register handover without a reason fails, naming it" \
    bash -c "! '$BIN' register handover --dir '$T/prov' --to '$K2' 2>'$T/err' && grep -q reason '$T/err'"
# twenty documents at the same instant, ten on each server
curls=()
for i in $(seq 1 10); do
    for n in prov:$S1 prov2:$S2; do
        curl -s --max-time 30 -H "Authorization: Bearer ${n#*:}" -H 'Content-Type: application/json' \
            --data-binary "{\"type\":\"CV\",\"subject\":\"Công văn ${n%%:*} $i\",\"recipients\":[\"VN\"]}" \
            -w '\n%{http_code}\n' "http://127.0.0.1:${PORT[${n%%:*}]}/api/v1/documents" >"$T/at.${n%%:*}.$i" &
        curls+=($!)
    done
done
wait "${curls[@]}"
check "the first server numbered all ten: 201" bash -c "[ \$(cat $T/at.prov.* | grep -cx 201) = 10 ]"
check "...1 to 10, no duplicate, no gap" bash -c "[ \"\$(cat $T/at.prov.* | grep '^{' | jq -r .number | sort -n | tr '\n' ' ')\" = '1 2 3 4 5 6 7 8 9 10 ' ]"
check "the mirror refused all ten: 409" bash -c "[ \$(cat $T/at.prov2.* | grep -cx 409) = 10 ]"
check "...document.register_elsewhere naming the holder and what to do" bash -c "cat $T/at.prov2.1 | head -1 |
    jq -e --arg k '${K1:0:16}' '.error.code == \"document.register_elsewhere\" and (.error.message | contains(\$k)) and (.error.message | contains(\"handover\"))'"
check "the mirror stored none of them" wait_until 30 synced
check "...both hold 1..10 only" test "$(numbers prov2)" = "1 2 3 4 5 6 7 8 9 10 "

# ---- a hand-over ---------------------------------------------------------------------------------
before=$(count prov doc_registers)
check "a staff may not hand it over: 403" test "$(call POST prov "$S1" documents/register/handover "{\"to\":\"$K2\",\"reason\":\"x\"}")" = 403
check "...auth.admin_required" code_is auth.admin_required
check "a hand-over without a reason: 400 document.reason_missing" test "$(call POST prov "$A1" documents/register/handover "{\"to\":\"$K2\"}")" = 400
check "...." code_is document.reason_missing
check "a hand-over to a node that is no server of the unit: 400 document.register_target" \
    test "$(call POST prov "$A1" documents/register/handover "{\"to\":\"$(node_key dist)\",\"reason\":\"x\"}")" = 400
check "...." code_is document.register_target
check "the mirror cannot hand over what it does not hold: 409" \
    test "$(call POST prov2 "$A2" documents/register/handover "{\"to\":\"$K1\",\"reason\":\"x\"}")" = 409
check "nothing was written" test "$(count prov doc_registers)" -eq "$before"
check "the admin hands the register over to the mirror" \
    test "$(call POST prov "$A1" documents/register/handover "{\"to\":\"$K2\",\"reason\":\"Bảo trì máy chủ 1\"}")" = 200
check "...with the last number of the series" jq -e --arg k "$K2" --arg f "$K1" '.holder == $k and .from == $f and .how == "handover" and .by == "adm1" and .last["CV/'"$(TZ=Asia/Ho_Chi_Minh date +%Y)"'"] == 10 and .held_here == false' "$T/body"
check "the old holder refuses at once: 409 naming the mirror" test "$(call POST prov "$S1" documents '{"type":"CV","subject":"x","recipients":["VN"]}')" = 409
check "...." jq -e --arg k "${K2:0:16}" '.error.code == "document.register_elsewhere" and (.error.message | contains($k))' "$T/body"
check "the mirror learns it holds the register" wait_until 30 holder_is prov2 "$S2" "$K2"
check "the mirror continues the series: 11/CV-UBND" test "$(call POST prov2 "$S2" documents '{"type":"CV","subject":"Công văn số 11","recipients":["VN"]}')" = 201
check "...." jq -e '.notation == "11/CV-UBND"' "$T/body"
check "the first server receives 11" wait_until 30 has_record prov documents "40-$(TZ=Asia/Ho_Chi_Minh date +%Y)-CV-11"

# ---- the holder is lost: a forced take-over ----------------------------------------------------
check "the mirror (holder) stops" stop prov2
check "the first server cannot number while the holder is away: 409" test "$(call POST prov "$S1" documents '{"type":"CV","subject":"x","recipients":["VN"]}')" = 409
check "a staff may not take over: 403" test "$(call POST prov "$S1" documents/register/takeover '{"reason":"x"}')" = 403
check "a take-over without a reason: 400" test "$(call POST prov "$A1" documents/register/takeover '{}')" = 400
check "the unit's admin takes the register over on the first server" \
    test "$(call POST prov "$A1" documents/register/takeover '{"reason":"Máy chủ 2 hỏng ổ đĩa"}')" = 200
check "...recorded: how, from, by, reason" jq -e --arg k "$K1" --arg f "$K2" '.holder == $k and .held_here and .how == "takeover" and .from == $f and .by == "adm1" and .reason == "Máy chủ 2 hỏng ổ đĩa"' "$T/body"
check "taking over twice: 409 document.register_held" test "$(call POST prov "$A1" documents/register/takeover '{"reason":"x"}')" = 409
check "...." code_is document.register_held
check "the first server continues after what it holds: 12/CV-UBND" \
    test "$(call POST prov "$S1" documents '{"type":"CV","subject":"Công văn số 12","recipients":["VN"]}')" = 201
check "...." jq -e '.notation == "12/CV-UBND"' "$T/body"
check "the lost server comes back" start prov2
check "...learns of the take-over" wait_until 30 holder_is prov2 "$S2" "$K1"
check "...and refuses to number: 409" test "$(call POST prov2 "$S2" documents '{"type":"CV","subject":"x","recipients":["VN"]}')" = 409
check "...." code_is document.register_elsewhere
check "both servers hold 1..12, each once" wait_until 30 bash -c "[ \"\$('$BIN' export --dir '$T/prov2' --collection documents | jq -r 'select(.unit == \"40\") | .number' | sort -n | tr '\n' ' ')\" = '1 2 3 4 5 6 7 8 9 10 11 12 ' ]"

for n in nat prov prov2; do check "node $n stops cleanly" stop "$n"; done
finish
