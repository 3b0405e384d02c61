#!/usr/bin/env bash
# Attachments streamed in and out on real nodes (province 40, district 412,
# commune 16681), the province serving with --attachment-max 100 (MiB):
#   - a 64 MiB PDF (over the old 20 MiB cap) uploads as a multipart part
#     of POST /api/v1/documents while /api/v1/health keeps answering within
#     a second; the province's anonymous memory (RssAnon, sampled through
#     the upload and the download; its peak) grows by far less than the
#     file (under a quarter of it; half under ASan, whose allocator and
#     shadow add their own): the body is never held whole. VmHWM is
#     printed too: it also counts the pages of the store's LMDB map that
#     readers of new entries (replication, live events) touch, file pages
#     the kernel reclaims, which grow with what is written whatever holds
#     it;
#   - it downloads byte-identical, with its Content-Length, at the province
#     and, once replicated, at the commune;
#   - a file of the limit plus 64 KiB (so the body is within the route's
#     limit and the refusal comes from the bytes themselves, mid-stream) is
#     refused with 413 document.file_too_large naming it, and a body
#     declared larger than the route takes with 413 http.body_too_large;
#     nothing is stored (no document, no chunk) and no staging file is
#     left in the node's directory;
#   - a client that leaves halfway through an upload (its file being
#     staged) leaves nothing stored and the staging file closed; one that
#     leaves halfway through a download does not stop the node serving it;
#   - the signed document verifies at the commune; one byte of one chunk
#     changed at the province makes the commune's check say "changed".
set -uo pipefail
. "$(dirname "$0")/repl_lib.sh"

make_tree
SERVE_ARGS="--attachment-max 100"
# under ASan freed buffers wait in a quarantine (keep it small) and its
# shadow and allocator add to the anonymous memory, not the file's size
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4"
BOUND=16 # MiB of anonymous memory an upload or a download may add: a quarter of the file
# (ASan's shadow and allocator caches take up to about 35 MiB here; a node
# holding the 64 MiB file whole would still exceed 48)
[ -n "${LT_SANITIZED:-}" ] && BOUND=48
for n in prov dist c1; do start "$n" || exit 1; done
PS=$(mk prov van staff 40)
C1S=$(mk c1 lan staff 16681)
CT=$(mk prov chutich staff 40)
MIB=$((1024 * 1024))

hwm() { awk '/^VmHWM:/ { print $2 * 1024 }' "/proc/${PID[prov]}/status"; }
anon() { awk '/^RssAnon:/ { print $2 * 1024 }' "/proc/${PID[prov]}/status"; }
sample_anon() { # sample_anon FLAG: the province's largest RssAnon (bytes) while FLAG exists, into $T/anon
    local k v u max=0
    while [ -e "$1" ]; do
        while read -r k v u; do
            [ "$k" = RssAnon: ] && [ $((v * 1024)) -gt "$max" ] && max=$((v * 1024))
        done <"/proc/${PID[prov]}/status"
        sleep 0.01
    done
    echo "$max" >"$T/anon"
}
form() { # form TOKEN DOCUMENT_JSON FILE: multipart POST /documents at the province; prints the code
    curl -s -o "$T/body" -w '%{http_code}' --max-time 120 -H "Authorization: Bearer $1" \
        -F "document=$2;type=application/json" -F "file=@$3;type=application/pdf" \
        "http://127.0.0.1:${PORT[prov]}/api/v1/documents"
}
get_file() { # get_file NODE TOKEN DOC HASH OUT: prints the code; headers in $T/head
    curl -s -D "$T/head" -o "$5" -w '%{http_code}' --max-time 60 -H "Authorization: Bearer $2" \
        "http://127.0.0.1:${PORT[$1]}/api/v1/documents/$3/files/$4"
}
probe_health() { # probe_health FLAG: health answers (code seconds) into $T/health while FLAG exists
    : >"$T/health"
    while [ -e "$1" ]; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 \
            "http://127.0.0.1:${PORT[prov]}/api/v1/health" >>"$T/health"
    done
}
link_all() { link_open dist 16681 && link_open prov 412; }
check "the links are up" wait_until 30 link_all

# ---- a 64 MiB PDF in and out ------------------------------------------------------------------
{ printf '%%PDF-1.7\n'; head -c $((64 * MIB - 9)) /dev/urandom; } >"$T/big.pdf"
DOC='{"type":"BC","subject":"Báo cáo kèm tệp lớn","recipients":["16681"]}'
before=$(hwm)
anon0=$(anon)
touch "$T/uploading"
probe_health "$T/uploading" &
probe=$!
sample_anon "$T/uploading" &
sampler=$!
code=$(form "$PS" "$DOC" "$T/big.pdf")
rm -f "$T/uploading"
wait "$probe" "$sampler"
after=$(hwm)
anon_up=$(cat "$T/anon")
check "a 64 MiB attachment uploads: 201" test "$code" = 201
ID=$(jq -r .id "$T/body")
HASH=$(jq -r '.files[0].hash' "$T/body")
check "...listed with its size and BLAKE2b-256" \
    test "$(jq -r '.files[0].size' "$T/body")" = $((64 * MIB)) -a "$HASH" = "$(b2sum -l 256 "$T/big.pdf" | cut -d' ' -f1)"
echo "province, a 64 MiB upload: RssAnon $anon0 -> peak $anon_up bytes (+$(((anon_up - anon0) / MIB)) MiB);" \
    "VmHWM $before -> $after bytes (+$(((after - before) / MIB)) MiB, with the store's mapped pages)"
check "the province's anonymous memory grew by less than $BOUND MiB during the upload" \
    test $((anon_up - anon0)) -lt $((BOUND * MIB))
check "health answered during the upload" test "$(wc -l <"$T/health")" -ge 1
check "...every time with 200 within a second" \
    awk '$1 != 200 || $2 >= 1 { bad = 1 } END { exit bad }' "$T/health"
touch "$T/downloading"
sample_anon "$T/downloading" &
sampler=$!
code=$(get_file prov "$PS" "$ID" "$HASH" "$T/got.pdf")
rm -f "$T/downloading"
wait "$sampler"
anon_down=$(cat "$T/anon")
echo "province, the 64 MiB download: RssAnon peak $anon_down bytes (+$(((anon_down - anon0) / MIB)) MiB over before the upload)"
check "the province serves it back: 200" test "$code" = 200
check "...its anonymous memory stayed within $BOUND MiB of before the upload" \
    test $((anon_down - anon0)) -lt $((BOUND * MIB))
check "...byte-identical" cmp -s "$T/big.pdf" "$T/got.pdf"
check "...with its Content-Length" grep -qi "^content-length: $((64 * MIB))" "$T/head"
check "...as a PDF attachment" grep -qi '^content-type: application/pdf' "$T/head"
# HEAD: the same headers, and no byte of the body before the connection closes
python3 - "${PORT[prov]}" "$PS" "$ID" "$HASH" >"$T/head.out" <<'PY'
import socket, sys
port, tok, doc, h = sys.argv[1:5]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
s.sendall(("HEAD /api/v1/documents/%s/files/%s HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer %s\r\n\r\n" % (doc, h, tok)).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
print(head.decode("latin-1").splitlines()[0])
print("content-length" in head.decode("latin-1").lower(), len(body))
PY
check "HEAD of the attachment: 200 with its length and no body" \
    test "$(tr '\n' ' ' <"$T/head.out")" = "HTTP/1.1 200 OK True 0 "
at_commune() { [ "$(get_file c1 "$C1S" "$ID" "$HASH" "$T/c1.pdf")" = 200 ] && cmp -s "$T/big.pdf" "$T/c1.pdf"; }
check "the commune serves it byte-identical once replicated" wait_until 60 at_commune

# ---- over the limit: refused, nothing stored ----------------------------------------------------
docs=$(count prov documents)
chunks=$(count prov doc_files)
{ printf '%%PDF-1.7\n'; head -c $((100 * MIB + 65536 - 9)) /dev/zero; } >"$T/over.pdf"
check "an attachment of 100 MiB + 64 KiB: 413" test "$(form "$PS" "$DOC" "$T/over.pdf")" = 413
check "...document.file_too_large naming it and the limit" \
    jq -e '.error.code == "document.file_too_large" and (.error.message | contains("over.pdf") and contains("100 MiB"))' "$T/body"
{ printf '%%PDF-1.7\n'; head -c $((102 * MIB)) /dev/zero; } >"$T/huge.pdf"
check "a body larger than the route takes: 413" test "$(form "$PS" "$DOC" "$T/huge.pdf")" = 413
check "...http.body_too_large" jq -e '.error.code == "http.body_too_large"' "$T/body"
check "health still answers" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[prov]}/api/v1/health")" = 200
check "no document was stored" test "$(count prov documents)" -eq "$docs"
check "...nor any chunk" test "$(count prov doc_files)" -eq "$chunks"
check "...nor a staging file left" test -z "$(find "$T/prov" -name '.upload-*' -print -quit)"

# ---- clients that leave halfway -----------------------------------------------------------------
staging() { ls -l "/proc/${PID[prov]}/fd" 2>/dev/null | grep -q '\.upload-'; }
curl -s -o /dev/null --limit-rate 4M -H "Authorization: Bearer $PS" \
    -F "document=$DOC;type=application/json" -F "file=@$T/big.pdf;type=application/pdf" \
    "http://127.0.0.1:${PORT[prov]}/api/v1/documents" &
slow=$!
check "an upload under way stages its file" wait_until 30 staging
kill "$slow"
wait "$slow" 2>/dev/null
check "...the client leaves: the staging file is closed" wait_until 30 bash -c "! ls -l /proc/${PID[prov]}/fd | grep -q '\.upload-'"
check "...nothing stored" test "$(count prov documents)" -eq "$docs" -a "$(count prov doc_files)" -eq "$chunks"
curl -s -o "$T/part.pdf" --limit-rate 2M -H "Authorization: Bearer $PS" \
    "http://127.0.0.1:${PORT[prov]}/api/v1/documents/$ID/files/$HASH" &
slow=$!
check "a download under way" wait_until 30 bash -c "[ \$(stat -c %s '$T/part.pdf' 2>/dev/null || echo 0) -gt $MIB ]"
kill "$slow"
wait "$slow" 2>/dev/null
check "...the client leaves: the node serves on, the whole file again" \
    test "$(get_file prov "$PS" "$ID" "$HASH" "$T/again.pdf")" = 200 -a -z "$(cmp "$T/big.pdf" "$T/again.pdf" 2>&1)"

# ---- the signature covers the attachment --------------------------------------------------------
check "lienthong signer add gives the chairman a key" \
    bash -c "echo 'mat-khau-ky-so' | '$BIN' signer add --dir '$T/prov' --user chutich --position 'Chủ tịch UBND tỉnh' >/dev/null"
sign() {
    curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $CT" \
        -H 'Content-Type: application/json' --data-binary '{"password":"mat-khau-ky-so"}' \
        "http://127.0.0.1:${PORT[prov]}/api/v1/documents/$ID/sign"
}
check "the chairman signs it" test "$(sign)" = 200
verdict() { # verdict NODE TOKEN JQ: the node's check of the document satisfies JQ
    curl -s -o "$T/body" --max-time 60 -H "Authorization: Bearer $2" \
        "http://127.0.0.1:${PORT[$1]}/api/v1/documents/$ID/verify" && jq -e "$3" "$T/body" >/dev/null
}
check "it verifies at the commune" wait_until 60 verdict c1 "$C1S" '.signed and .valid and .changed == false'
jq -nc --arg id "$ID/$HASH/7" '{id: $id, data: "mot byte da bi thay doi", n: 7, of: 2731}' |
    "$BIN" import --dir "$T/prov" --collection doc_files --file - --to 16681 >/dev/null
check "one changed chunk written at the province: the commune's check says changed" \
    wait_until 60 verdict c1 "$C1S" '.changed and .valid == false and any(.problems[]; contains("attachment changed"))'

finish
