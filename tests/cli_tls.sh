#!/usr/bin/env bash
# cli_tls.sh - HTTPS and wss:// on real processes: `lienthong tls selfsign`,
# serve over HTTPS with DIR/tls by default (curl checks the chain against the
# certificate), the session cookie Secure over HTTPS only, --redirect-http,
# SIGHUP serving a new certificate (new serial) without dropping the node and
# keeping the old one when the new files are bad, a commune replicating to
# its province over wss:// with the CA file, and a wrong CA refused with a
# log line that says what to do.
set -u
. "$(dirname "$0")/repl_lib.sh"
NODES="prov com"
pick_ports
RPORT=$((PORT[com] + 1))
port_free "$RPORT" || RPORT=$((PORT[com] + 2))
C2PORT=$((RPORT + 1))
P=${PORT[prov]}

"$BIN" init --dir "$T/prov" --unit 40 --name "Tỉnh Nghệ An" --tier province --root \
    --tiers province,commune --listen "127.0.0.1:$P" >/dev/null || exit 1
"$BIN" init --dir "$T/com" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 40 \
    --listen "127.0.0.1:${PORT[com]}" >/dev/null || exit 1
"$BIN" enroll --dir "$T/com" --parent-dir "$T/prov" >/dev/null || exit 1

# ---- selfsign ----------------------------------------------------------------------------
"$BIN" tls selfsign --dir "$T/prov" --host localhost --host 127.0.0.1 >"$T/ss.out" || bad "selfsign ran"
check "selfsign writes DIR/tls/cert.pem" test -s "$T/prov/tls/cert.pem"
check "the key is mode 0600" test "$(stat -c %a "$T/prov/tls/key.pem")" = 600
openssl x509 -in "$T/prov/tls/cert.pem" -noout -ext subjectAltName >"$T/san" 2>&1
check "the certificate names every --host" grep -q 'DNS:localhost, IP Address:127.0.0.1' "$T/san"
"$BIN" tls selfsign --dir "$T/prov" 2>"$T/err"
check "selfsign without --host is a usage error naming it" grep -q -- "--host" "$T/err"
CA=$T/prov-ca.pem
cp "$T/prov/tls/cert.pem" "$CA"

# ---- HTTPS by default, Secure cookie ---------------------------------------------------------
SERVE_ARGS="--redirect-http $RPORT" start prov || exit 1
check "the start log says https" grep -q "url=https://127.0.0.1:$P/" "$(log_of prov)"
H="https://127.0.0.1:$P/api/v1"
check "curl over HTTPS with the certificate as CA" \
    sh -c "curl -sf --cacert '$CA' '$H/health' | jq -e '.unit == \"40\"'"
check "curl by name (localhost) too" curl -sf --cacert "$CA" "https://localhost:$P/api/v1/health"
check "curl without the CA refuses the certificate" sh -c "! curl -s '$H/health'"
check "plain HTTP on the HTTPS port gets no API answer" sh -c "! curl -sf 'http://127.0.0.1:$P/api/v1/health'"
echo "admin-password" | "$BIN" user add --dir "$T/prov" --user padmin --role admin >/dev/null
curl -s --cacert "$CA" -D "$T/hdr" -c "$T/jar" -o "$T/login.json" \
    -d '{"user": "padmin", "password": "admin-password"}' "$H/login"
check "login over HTTPS answers" jq -e '.user == "padmin"' "$T/login.json"
check "the session cookie is Secure over HTTPS" \
    grep -qiE '^set-cookie: lt_session_40=[^;]+;.*HttpOnly.*; Secure' "$T/hdr"
# (curl -v: its stderr is unbuffered, and the upgraded connection stays open until --max-time)
curl -sv --max-time 2 --http1.1 --cacert "$CA" -b "$T/jar" -H "Connection: Upgrade" \
    -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
    -H "Sec-WebSocket-Protocol: lt-events" "$H/events" >/dev/null 2>"$T/ws.out"
check "the web UI's live events upgrade over wss:// with the Secure cookie" \
    grep -q "^< HTTP/1.1 101" "$T/ws.out"

# ---- --redirect-http ---------------------------------------------------------------------------
code=$(curl -s -o /dev/null -D "$T/rhdr" -w '%{http_code}' "http://127.0.0.1:$RPORT/api/v1/health?a=1")
check "plain GET is redirected (301)" test "$code" = 301
check "to the same path and query on HTTPS" \
    grep -qi "^location: https://127.0.0.1:$P/api/v1/health?a=1" "$T/rhdr"
code=$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$RPORT/api/v1/login")
check "plain POST is redirected keeping the method (308)" test "$code" = 308
check "curl -L follows the redirect to the API" \
    sh -c "curl -sfL --cacert '$CA' 'http://localhost:$RPORT/api/v1/health' | jq -e '.unit == \"40\"'"

# ---- SIGHUP: a new certificate without a restart -----------------------------------------------------
serial() { openssl s_client -connect "127.0.0.1:$P" </dev/null 2>/dev/null | openssl x509 -noout -serial; }
s1=$(serial)
check "the served certificate is the selfsigned one" \
    test "$s1" = "$(openssl x509 -in "$CA" -noout -serial)"
"$BIN" tls selfsign --dir "$T/prov" --host localhost --host 127.0.0.1 >/dev/null
s2=$(openssl x509 -in "$T/prov/tls/cert.pem" -noout -serial)
kill -HUP "${PID[prov]}"
check "SIGHUP: the reload is logged with the new serial" \
    wait_until 10 grep -q "event=tls.reloaded serial=${s2#serial=}" "$(log_of prov)"
check "new connections get the new certificate" test "$(serial)" = "$s2"
check "the node stayed up (same process)" kill -0 "${PID[prov]}"
cp "$T/prov/tls/cert.pem" "$CA"
cp "$T/prov/tls/key.pem" "$T/key.good"
echo "not a key" >"$T/prov/tls/key.pem"
kill -HUP "${PID[prov]}"
check "a bad key on SIGHUP is logged and named" \
    wait_until 10 grep -q "event=tls.reload_failed .*key.pem" "$(log_of prov)"
check "the previous certificate stays in use" test "$(serial)" = "$s2"
check "and HTTPS still answers" curl -sf --cacert "$CA" "$H/health"
cp "$T/key.good" "$T/prov/tls/key.pem"

# ---- a commune replicating to its province over wss:// -------------------------------------------------------
reports "$T/c.jsonl" C 20
"$BIN" import --dir "$T/com" --collection reports --raw --file "$T/c.jsonl" >/dev/null
SERVE_ARGS="--upstream wss://127.0.0.1:$P/ --tls-ca $CA" start com || exit 1
check "the commune saved the CA file in its config" \
    jq -e --arg ca "$CA" '.tls_ca_file == $ca and .upstreams == ["wss://127.0.0.1:'"$P"'/"]' "$T/com/config.json"
check "the commune's reports reach the province over wss://" wait_until 30 has_count prov reports 20
echo '{"id": "P-1", "title": "Thông báo tỉnh"}' |
    "$BIN" import --dir "$T/prov" --collection notices --file - --to '*' >/dev/null
check "and the province's notice reaches the commune" wait_until 30 has_record com notices P-1
check "the link was over TLS (wss://) from the commune" grep -q "event=repl.link_connected url=wss://" "$(log_of com)"
"$BIN" doctor --dir "$T/com" >"$T/doctor.out" 2>&1
check "doctor reads the parent's clock over https (the configured CA)" \
    grep -q "this clock is .* from the parent's" "$T/doctor.out"
n_reload=$(grep -c "event=tls.reloaded" "$(log_of prov)")
kill -HUP "${PID[prov]}"
check "SIGHUP with a child connected: reloaded" \
    wait_until 10 sh -c "test \$(grep -c event=tls.reloaded '$(log_of prov)') -gt $n_reload"
echo '{"id": "P-3", "title": "Sau SIGHUP"}' |
    "$BIN" import --dir "$T/prov" --collection notices --file - --to '*' >/dev/null
check "after the SIGHUP the open link still carries entries" wait_until 30 has_record com notices P-3
check "...and it was never closed" sh -c "! grep -q 'event=repl.link_closed' '$(log_of com)'"
check "the commune stops cleanly (exit 0)" stop com

# ---- a second commune enrols over https:// (the CA given), then replicates over wss:// ------------------
"$BIN" init --dir "$T/com2" --unit 16684 --name "Xã Nghi Liên" --tier commune --parent-unit 40 \
    --listen "127.0.0.1:$C2PORT" >/dev/null
"$BIN" enroll --dir "$T/com2" --parent "https://127.0.0.1:$P/" --no-wait >/dev/null 2>"$T/e.err"
check "enrolling over https:// without the CA is refused, saying what to do" \
    grep -q "refused the TLS certificate of 127.0.0.1 (self-signed certificate): give the CA .* --tls-ca" "$T/e.err"
"$BIN" enroll --dir "$T/com2" --parent "https://127.0.0.1:$P/" --tls-ca "$CA" --no-wait >"$T/e.out" 2>&1
id=$(awk '/^request /{print $2}' "$T/e.out")
check "the request reached the province over HTTPS" test -n "$id"
"$BIN" approve --dir "$T/prov" "$id" >/dev/null || bad "approve $id"
"$BIN" enroll --dir "$T/com2" --parent "https://127.0.0.1:$P/" --tls-ca "$CA" --timeout 20 >"$T/e2.out" 2>&1
check "the enrolment over HTTPS completes" grep -q "^enrolled unit 16684" "$T/e2.out"
check "its upstream is wss:// and its CA file saved" \
    jq -e --arg ca "$CA" '.enrolled and .upstreams == ["wss://127.0.0.1:'"$P"'/"] and .tls_ca_file == $ca' "$T/com2/config.json"
NODES="prov com com2"
start com2 || exit 1
check "it replicates over wss:// with the saved CA: the province's notice arrives" \
    wait_until 30 has_record com2 notices P-1
check "the second commune stops cleanly (exit 0)" stop com2

# ---- a CA file that holds no certificate is refused and changes nothing ------------------------------------
cp "$T/com/config.json" "$T/com.config.before"
echo "not a certificate" >"$T/garbage.pem"
"$BIN" serve --dir "$T/com" --tls-ca "$T/garbage.pem" 2>"$T/ca.err"
check "serve --tls-ca with a file that is no PEM is a usage error (exit 2)" test $? -eq 2
check "...naming the file" grep -q "garbage.pem holds no PEM certificate" "$T/ca.err"
check "...and config.json is unchanged" cmp -s "$T/com/config.json" "$T/com.config.before"

# ---- a wrong CA is refused, with a clear log line ---------------------------------------------------------------
"$BIN" init --dir "$T/other" --unit 99 --name Other --tier province --root >/dev/null
"$BIN" tls selfsign --dir "$T/other" --host 127.0.0.1 >/dev/null
reports "$T/d.jsonl" D 5
"$BIN" import --dir "$T/com" --collection reports --raw --file "$T/d.jsonl" >/dev/null
SERVE_ARGS="--tls-ca $T/other/tls/cert.pem" start com || exit 1
check "a certificate from another CA is refused, saying what to do" \
    wait_until 20 grep -q "event=repl.dial_failed url=wss:.*refused the peer.s TLS certificate (self-signed certificate).*--tls-ca" "$(log_of com)"
grep 'event=repl.dial_failed' "$(log_of com)" | head -1
check "so nothing new reached the province" test "$(count prov reports)" -eq 20
check "the commune with the wrong CA stops cleanly (exit 0)" stop com
check "the province (HTTPS, redirect listener, SIGHUPs) stops cleanly (exit 0)" stop prov
finish
