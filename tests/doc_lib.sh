# doc_lib.sh - helpers of the documents tests on real nodes (sourced after
# repl_lib.sh; its name does not match the cli_*.sh glob of
# tests/CMakeLists.txt).

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

# own_docs NODE UNIT: the documents NODE holds that UNIT issued (ids UNIT-...);
# a refusal check counts these, as documents issued elsewhere may still be
# arriving.
own_docs() { "$BIN" export --dir "$T/$1" --collection documents 2>/dev/null | jq -r .id | grep -c "^$2-"; }
