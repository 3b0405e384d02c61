#!/usr/bin/env bash
# package_deb.sh - the Debian package on this machine (root only: CI runs as
# root; as another user this test FAILS, it does not skip). Builds the
# package twice from the build directory of LT_BIN (release 1, then release
# 2 as the upgrade), installs it with dpkg, checks the files, the system
# user, the unit (systemd-analyze verify), a node made and served as that
# user, upgrades, removes (data, configuration and user kept), purges (all
# gone). Runs of this test are serialised with flock (dpkg is one database).
set -u
BIN=${LT_BIN:?LT_BIN must point at the lienthong binary}
BUILD=$(cd "$(dirname "$BIN")" && pwd)
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi; }
if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: package_deb.sh installs a package with dpkg and must run as root (CI does)" >&2
    exit 1
fi
exec 9>/tmp/lienthong-package-test.lock
flock -w 300 9 || { echo "FAIL: another package test held the lock for 5 minutes" >&2; exit 1; }
if dpkg-query -W -f '${Status}' lienthong 2>/dev/null | grep -q installed; then
    echo "FAIL: a lienthong package is already installed here; this test would replace it" >&2
    exit 1
fi
for p in /var/lib/lienthong /etc/lienthong; do
    if [ -e "$p" ]; then
        echo "FAIL: $p exists: the purge at the end of this test would delete it; move it away" >&2
        exit 1
    fi
done
if getent passwd lienthong >/dev/null; then
    echo "FAIL: a user lienthong exists: the purge at the end of this test would delete it" >&2
    exit 1
fi
T=$(mktemp -d /tmp/lt-pkg-XXXXXX)
cleanup() {
    [ -n "${SPID:-}" ] && kill -9 "$SPID" 2>/dev/null
    dpkg -P lienthong >/dev/null 2>&1
    if [ "$failed" -ne 0 ]; then echo "kept in $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

(cd "$BUILD" && cpack -G DEB -B "$T/r1" -D CPACK_DEBIAN_PACKAGE_RELEASE=1 >"$T/cpack1.log" 2>&1 &&
    cpack -G DEB -B "$T/r2" -D CPACK_DEBIAN_PACKAGE_RELEASE=2 >"$T/cpack2.log" 2>&1) ||
    { bad "cpack: $(tail -3 "$T/cpack1.log" "$T/cpack2.log")"; exit 1; }
D1=$(ls "$T"/r1/lienthong_*-1_*.deb)
D2=$(ls "$T"/r2/lienthong_*-2_*.deb)
dpkg-deb -f "$D1" Depends >"$T/depends"
for dep in libuv1 libwebsockets17 libwebsockets-evlib-uv liblmdb0 libmsgpackc2 libsodium23 \
    libjansson4 libutf8proc2 libxml2 libavformat59 libavcodec59 libswscale6 libssl3; do
    check "the package depends on $dep" grep -qw -- "$dep" "$T/depends"
done

# ---- install ----------------------------------------------------------------------------------
dpkg -i "$D1" >"$T/install.log" 2>&1 || bad "dpkg -i: $(tail -5 "$T/install.log")"
check "installed" sh -c "dpkg-query -W -f '\${Status}' lienthong | grep -q 'install ok installed'"
check "/usr/bin/lienthong runs" sh -c "/usr/bin/lienthong --version | grep -q '^lienthong '"
U=/usr/lib/systemd/system/lienthong@.service
check "the unit template is installed" test -f "$U"
check "the docs are installed" test -f /usr/share/doc/lienthong/operations.md
check "the example configuration is installed" test -f /usr/share/doc/lienthong/examples/example.conf
check "postinst made the system user lienthong" sh -c "getent passwd lienthong | grep -q ':/var/lib/lienthong:/usr/sbin/nologin$'"
check "a system account (uid below 1000)" test "$(id -u lienthong)" -lt 1000
check "/var/lib/lienthong belongs to it" test "$(stat -c %U:%a /var/lib/lienthong)" = lienthong:750
check "/etc/lienthong exists" test -d /etc/lienthong
for k in "User=lienthong" "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes" \
    "StateDirectory=lienthong/%i" "EnvironmentFile=-/etc/lienthong/%i.conf" "Restart=on-failure" \
    "ExecStart=/usr/bin/lienthong serve --dir /var/lib/lienthong/%i"; do
    check "the unit has $k" grep -q -- "^$k" "$U"
done
# systemd-analyze verify checks a unit file without a running systemd.
if command -v systemd-analyze >/dev/null; then
    cp "$U" "$T/lienthong@test.service"
    if systemd-analyze verify "$T/lienthong@test.service" >"$T/verify.log" 2>&1 &&
        ! grep -qiE 'unknown|invalid|ignoring' "$T/verify.log"; then
        ok
    else
        bad "systemd-analyze verify refuses the unit: $(head -3 "$T/verify.log")"
    fi
else
    bad "systemd-analyze is not installed (apt-get install systemd): the unit is not verified"
fi

# ---- a node as the service would run it ------------------------------------------------------------
N=/var/lib/lienthong/t1
install -d -o lienthong -g lienthong -m 0700 "$N"
runuser -u lienthong -- /usr/bin/lienthong init --dir "$N" --unit VN --name "Quốc gia" \
    --tier national --root --listen 127.0.0.1:0 >/dev/null || bad "init as lienthong"
check "the node belongs to lienthong" test "$(stat -c %U "$N/node.key")" = lienthong
PORT=$((10000 + RANDOM % 22000))
runuser -u lienthong -- /usr/bin/lienthong serve --dir "$N" --listen "127.0.0.1:$PORT" 2>"$T/serve.log" &
SPID=$!
for _ in $(seq 1 100); do grep -q event=node.started "$T/serve.log" && break; sleep 0.1; done
check "the installed binary serves (libuv plugin found)" \
    sh -c "curl -sf http://127.0.0.1:$PORT/api/v1/health | grep -q '\"unit\":\"VN\"'"
kill -TERM "$SPID"; wait "$SPID"; SPID=
echo 'LIENTHONG_SERVE_ARGS="--listen 127.0.0.1:9"' >/etc/lienthong/t1.conf

# ---- upgrade ---------------------------------------------------------------------------------------
dpkg -i "$D2" >"$T/upgrade.log" 2>&1 || bad "dpkg -i (upgrade): $(tail -5 "$T/upgrade.log")"
check "upgraded to release 2" sh -c "dpkg-query -W -f '\${Version}' lienthong | grep -q -- '-2$'"
check "the node survived the upgrade" test -s "$N/config.json"
check "its configuration too" test -f /etc/lienthong/t1.conf
check "the same user" test "$(stat -c %U "$N/node.key")" = lienthong
check "the upgraded binary opens the node" runuser -u lienthong -- /usr/bin/lienthong verify --dir "$N"

# ---- remove, then purge --------------------------------------------------------------------------------
dpkg -r lienthong >"$T/remove.log" 2>&1 || bad "dpkg -r: $(tail -5 "$T/remove.log")"
check "removed: no binary" test ! -e /usr/bin/lienthong
check "removed: no unit" test ! -e "$U"
check "removal keeps the data" test -s "$N/config.json"
check "removal keeps the key" test -s "$N/node.key"
check "removal keeps /etc/lienthong" test -f /etc/lienthong/t1.conf
check "removal keeps the user" getent passwd lienthong
dpkg -P lienthong >"$T/purge.log" 2>&1 || bad "dpkg -P: $(tail -5 "$T/purge.log")"
check "purge deletes the data" test ! -e /var/lib/lienthong
check "purge deletes /etc/lienthong" test ! -e /etc/lienthong
check "purge deletes the user" sh -c "! getent passwd lienthong"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
