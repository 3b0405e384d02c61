#!/usr/bin/env bash
# Routing follows a merge (issue 17) on a real five-node network: national
# VN -> province 40 -> district 412 -> communes 16681 and 16684, each commune
# with its own node, all started with `serve --advertise`. The province
# sends a document to 16681; 16684's node does not get it (not addressed to
# it). `lienthong unit merge --units 16681,16687 --into 16684` (16687: a
# commune without a node) then makes 16684 the successor of 16681: 16684's
# own node, up since before the merge, receives the document sent before
# the merge (its positions were lowered: unit_tree_grows) and one sent
# after, and its officer sees both in the in-box with "recipient_unit"
# 16681 and "via_merge". 16681's node still receives what is addressed to
# it. Then `unit move --unit 16684 --parent 40`: 16684's node dials the
# province by itself and saves its new parent and upstreams in config.json;
# restarted, it dials the province first without finding the move again
# (no repl.parent_changed), and a later document to 16681 still reaches it.
# `lienthong verify` passes on every node.
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

call() { # call METHOD NODE TOKEN PATH [BODY]: body in $T/body; prints the HTTP code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$1" \
        -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
        ${5:+--data-binary "$5"} "http://127.0.0.1:${PORT[$2]}/api/v1/$4"
}
send() { # send TOKEN RECIPIENTS_JSON SUBJECT: a document from the province; its id into $DOC
    [ "$(call POST prov "$1" documents "{\"type\":\"CV\",\"subject\":\"$3\",\"recipients\":$2}")" = 201 ] &&
        DOC=$(jq -r .id "$T/body")
}
unit_is() { # unit_is NODE CODE JQ [JQ-ARGS]: NODE's record of unit CODE satisfies JQ
    "$BIN" export --dir "$T/$1" --collection units 2>/dev/null |
        jq -e -s --arg c "$2" "${@:4}" "map(select(.id == \$c))[0] | $3" >/dev/null
}
lacks() { ! has_record "$1" documents "$2"; } # lacks NODE ID: NODE does not hold document ID
holds_all() { # holds_all NODE ID...: NODE holds every document ID
    local n=$1 id; shift
    for id in "$@"; do has_record "$n" documents "$id" || return 1; done
}
inbox_ids() { # inbox_ids NODE TOKEN: the ids of the in-box, sorted (the answer in $T/body)
    [ "$(call GET "$1" "$2" 'documents?box=in&limit=50')" = 200 ] && jq -r '.documents[].id' "$T/body" | sort
}
inbox_is() { # inbox_is NODE TOKEN ID...: the in-box lists exactly these ids
    local n=$1 tok=$2; shift 2
    [ "$(inbox_ids "$n" "$tok")" = "$(printf '%s\n' "$@" | sort)" ]
}
via_merge() { # via_merge ID...: in $T/body, each document ID answered for 16681 by merge
    local id
    for id in "$@"; do
        jq -e --arg i "$id" '.documents[] | select(.id == $i) | .recipient_unit == "16681" and .via_merge == true' \
            "$T/body" >/dev/null || return 1
    done
}
config_is() { jq -e "${@:3}" "$2" "$T/$1/config.json" >/dev/null; } # config_is NODE JQ [JQ-ARGS]
up_url_open() { # NODE URL: NODE's upstream record for URL is open
    api "$1" sync | jq -e --arg u "$2" 'any(.links[]; .url == $u and .connected and .peer_unit != null)' >/dev/null
}
first_upstream_is() { # NODE URL: NODE's first upstream record is URL
    api "$1" sync | jq -e --arg u "$2" '[.links[] | select(.url != null)][0].url == $u' >/dev/null
}
inbox_via_merge() { # inbox_via_merge NODE TOKEN ID: the in-box lists ID, answered for 16681 by merge
    inbox_ids "$1" "$2" >/dev/null && via_merge "$3"
}
dist_linked() { link_open dist 16681 && link_open dist 16684 && link_open dist 40; }

make_tree
echo '{"id": "16687", "code": "16687", "name": "Xã Nghi Phú", "tier": "commune", "parent": "412"}' |
    "$BIN" import --dir "$T/nat" --collection units --file - >/dev/null || exit 1
for n in $NODES; do SERVE_ARGS="--advertise $(url "$n")" start "$n" || exit 1; done
check "the district links to its communes and the province" wait_until 30 dist_linked
check "the province's advertised address reaches commune 16684" \
    wait_until 30 unit_is c2 40 '.advertise == [$u]' --arg u "$(url prov)"
PS=$(mk prov pstaff staff 40)
C2S=$(mk c2 hoa staff 16684)
C1S=$(mk c1 lan staff 16681)

# ---- before the merge: a document for 16681 only -------------------------------------
check "the province sends document 1 to 16681" send "$PS" '["16681"]' "Kế hoạch trước sáp nhập"
D1=$DOC
check "... and then document 0 to 16684" send "$PS" '["16684"]' "Công văn cho 16684"
D0=$DOC
check "16681's node receives document 1" wait_until 30 holds_all c1 "$D1"
check "16684's node receives document 0 (sent after document 1 by the same node)" \
    wait_until 30 holds_all c2 "$D0"
check "16684's node does not hold document 1 (not addressed to it)" lacks c2 "$D1"
check "16684's in-box holds document 0 only" inbox_is c2 "$C2S" "$D0"

# ---- the merge, every node running --------------------------------------------------------
check "merge 16681,16687 into 16684 is applied" bash -c \
    "'$BIN' unit merge --dir '$T/nat' --units 16681,16687 --into 16684 --yes >'$T/merge.out'"
check "the province learns the merge" wait_until 30 unit_is prov 16681 '.merged_into == "16684"'
check "the province sends document 2 to 16681 after the merge" send "$PS" '["16681"]' "Kế hoạch sau sáp nhập"
D2=$DOC
check "16684's own node receives the documents sent to 16681 before and after the merge" \
    wait_until 60 holds_all c2 "$D1" "$D2"
check "16684's officer sees them in the in-box (with document 0)" wait_until 30 inbox_is c2 "$C2S" "$D0" "$D1" "$D2"
check "... each answered for 16681 via the merge" via_merge "$D1" "$D2"
check "... document 0 as 16684's own" jq -e --arg i "$D0" \
    '.documents[] | select(.id == $i) | .recipient_unit == "16684" and (.via_merge | not)' "$T/body"
check "16681's node still receives what is addressed to 16681" wait_until 30 holds_all c1 "$D2"
check "16681's in-box there lists documents 1 and 2" inbox_is c1 "$C1S" "$D1" "$D2"

# ---- a move: 16684 follows its new parent and saves it -------------------------------------
check "move 16684 under the province is applied" bash -c \
    "'$BIN' unit move --dir '$T/nat' --unit 16684 --parent 40 --yes >'$T/move.out'"
check "16684's node dials the province by itself" wait_until 30 up_url_open c2 "$(url prov)"
check "... and saves its new parent and upstreams (the province first) in config.json" \
    wait_until 10 config_is c2 '.parent_unit == "40" and .upstreams[0] == $u' --arg u "$(url prov)"
check "... the old upstreams stay behind it" config_is c2 'any(.upstreams[1:][]; . == $u)' --arg u "$(url dist)"
check "config.json leaves no temporary file" test ! -e "$T/c2/config.json.tmp"
check "16684's node stops cleanly" stop c2
SERVE_ARGS="--advertise $(url c2)" start c2 || exit 1
check "after the restart it links to the province" wait_until 30 link_open c2 40
check "... its first upstream is the province" first_upstream_is c2 "$(url prov)"
check "... without finding the move again (no repl.parent_changed)" bash -c "! grep -q 'repl.parent_changed' '$(log_of c2)'"
check "the province sends document 3 to 16681" send "$PS" '["16681"]' "Công văn sau khi chuyển"
D3=$DOC
check "document 3 reaches 16684's node through the province" wait_until 60 holds_all c2 "$D3"
check "16684's in-box lists it via the merge" wait_until 30 inbox_via_merge c2 "$C2S" "$D3"

for n in $NODES; do check "verify passes at $n" "$BIN" verify --dir "$T/$n"; done
finish
