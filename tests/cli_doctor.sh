#!/usr/bin/env bash
# cli_doctor.sh - lienthong doctor on real nodes: all ok (exit 0), then
# each check made to fail once, each time with its exit status (1 for a
# warning, 2 for a problem) and a line saying what to do: configuration,
# last shutdown, free disk, clock against the parent (the parent under
# faketime), certificate chain (doctor under faketime years ahead), TLS
# certificate (short-lived and garbage), links. libfaketime shifts the
# clocks (the faketime package).
set -u
. "$(dirname "$0")/repl_lib.sh"

make_tree
export FAKETIME_DONT_FAKE_MONOTONIC=1 # libuv's timers stay real
# shifted OFFSET COMMAND...: COMMAND with its wall clock moved by OFFSET
# (libfaketime preloaded; env execs, so the pid is the command's own)
FAKELIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -r "$FAKELIB" ] || { bad "libfaketime is missing: scripts/install-deps installs faketime"; finish; exit 1; }
# (an ASan build accepts the preload after its own runtime)
shifted() { echo env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" LD_PRELOAD="$FAKELIB" FAKETIME="$1"; } # a command prefix
doctor() { # doctor NODE [prefix...]: runs doctor on NODE into $T/doc; prints its exit status
    local n=$1; shift
    "$@" "$BIN" doctor --dir "$T/$n" >"$T/doc" 2>&1
    echo $?
}
start nat || exit 1
start prov || exit 1
check "province linked" wait_until 20 link_open prov VN
doctor_ok() { [ "$(doctor prov)" = 0 ]; }
check "all ok: exit 0 (once the node has published its links)" wait_until 10 doctor_ok
check "... one ok line per check" bash -c "for c in config shutdown disk clock certificate link; do grep -q \"^ok  *\$c \" '$T/doc' || exit 1; done"
check "... and the summary" grep -q "^doctor: all ok" "$T/doc"

# configuration: a node never enrolled
"$BIN" init --dir "$T/lone" --unit 99 --name "Lẻ" --tier province --parent-unit VN --listen 127.0.0.1:1 >/dev/null
check "not enrolled: exit 2" test "$(doctor lone)" = 2
check "... says to enrol" grep -q "^problem  config .*lienthong enroll" "$T/doc"
check "a missing node: exit 2" test "$(doctor nowhere)" = 2

# free disk below the reserve
check "disk below the reserve: exit 2" test "$(doctor prov env LT_DISK_RESERVE=$((1 << 60)))" = 2
check "... says what to free" grep -q "^problem  disk .*Free space" "$T/doc"

# the clock of the parent ten minutes ahead
stop nat
start nat $(shifted "+10m") || exit 1
check "province linked again" wait_until 20 link_open prov VN
check "parent's clock 10 min off: exit 2" test "$(doctor prov)" = 2
check "... says how far and to sync time" grep -q "^problem  clock .*-60[0-9]\.[0-9] s from the parent.*time sync" "$T/doc"
stop nat
start nat || exit 1
check "province linked again" wait_until 20 link_open prov VN

# certificates: three years on, the chain has expired
check "expired certificate chain: exit 2" test "$(doctor prov $(shifted "+1100d"))" = 2
check "... says to renew" grep -q "^problem  certificate .*has expired" "$T/doc"
# 710 days on (the parent's clock too, or the clock check would object)
stop nat
start nat $(shifted "+710d") || exit 1
check "province linked again" wait_until 20 link_open prov VN
check "in 710 days the certificates only near expiry: exit 1" test "$(doctor prov $(shifted "+710d"))" = 1
check "... says to renew soon" grep -q "^warn  *certificate .*expires in 2[01] days" "$T/doc"
stop nat
start nat || exit 1
check "province linked again" wait_until 20 link_open prov VN

# the TLS certificate
mkdir -p "$T/prov/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=prov -days 10 \
    -keyout "$T/prov/tls/key.pem" -out "$T/prov/tls/cert.pem" 2>/dev/null
check "TLS certificate for 10 more days: exit 1" test "$(doctor prov)" = 1
check "... says to renew it" grep -q "^warn  *tls .*expires in" "$T/doc"
echo "not a certificate" >"$T/prov/tls/cert.pem"
check "a garbage TLS certificate: exit 2" test "$(doctor prov)" = 2
check "... says to replace it" grep -q "^problem  tls .*replace it" "$T/doc"
rm -r "$T/prov/tls"

# links: the parent stops
stop nat
link_down() { ! link_open prov VN && jq -e '.links | any(.[]; .url != null and (.connected | not))' "$T/prov/sync.json"; }
check "the upstream is down" wait_until 20 link_down
check "a link down: exit 1" test "$(doctor prov)" = 1
check "... says to check the peer and network" grep -q "^warn  *link .*not connected.*check that the peer runs" "$T/doc"

# the last shutdown: kill -9
kill -9 "${PID[prov]}"
wait "${PID[prov]}" 2>/dev/null
PID[prov]=
check "after kill -9 (node stopped): exit 1" test "$(doctor prov)" = 1
check "... the shutdown was not clean, run verify" grep -q "^warn  *shutdown .*clean_shutdown=false.*lienthong verify" "$T/doc"
check "... and the node is not running" grep -q "^warn  *links .*not running" "$T/doc"

finish
