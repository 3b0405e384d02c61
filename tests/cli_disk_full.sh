#!/usr/bin/env bash
# cli_disk_full.sh - a node whose disk fills up (a 48 MiB tmpfs, filled
# with one big file): writes answer 507 storage.disk_full, reads and
# replication out go on, doctor reports the problem (exit 2), and once
# space returns the node writes again by itself; nothing acknowledged is
# lost. Needs root (mount); as anyone else the test fails, it does not skip.
set -u
. "$(dirname "$0")/repl_lib.sh"

SMALL="$T/small"
cleanup() {
    for n in $NODES; do
        [ -n "${PID[$n]:-}" ] && kill -9 "${PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
    PID=()
    umount "$SMALL" 2>/dev/null
    repl_cleanup
}
trap cleanup EXIT

make_tree
mkdir -p "$SMALL"
if ! mount -t tmpfs -o size=48m tmpfs "$SMALL"; then
    bad "cannot mount a tmpfs (the test needs root)"
    finish
    exit 1
fi
mv "$T/prov" "$SMALL/prov" && ln -s "$SMALL/prov" "$T/prov"

RESERVE=$((16 << 20))
start nat || exit 1
start prov env LT_DISK_RESERVE=$RESERVE || exit 1
check "province linked to the national node" wait_until 20 link_open prov VN
TOK=$(mk prov canbo leader 40)
ADM=$(mk prov boss admin 40)

LONG=$(head -c 3000 /dev/zero | tr '\0' a)
write_report() { # write_report TITLE: POST a report; prints the status, keeps the id of a 201 in $T/ids
    local code
    code=$(post_json prov api/v1/reports "{\"title\": \"$1\", \"category\": \"traffic\", \"lat\": 18.6, \"lon\": 105.6, \"description\": \"$LONG\"}" -H "Authorization: Bearer $TOK")
    [ "$code" = 201 ] && jq -r .id "$T/body" >>"$T/ids"
    echo "$code"
}
for i in 1 2 3 4 5; do check "report $i written (201)" test "$(write_report "Trước $i")" = 201; done
check "the national node has the first 5" wait_until 20 has_count nat reports 5
stop nat
for i in 6 7 8 9 10; do check "report $i written while the link is down (201)" test "$(write_report "Trong $i")" = 201; done

# fill the disk to below the reserve
avail=$(df --output=avail -B1 "$SMALL" | tail -n 1)
fallocate -l $((avail - (8 << 20))) "$SMALL/fill" || dd if=/dev/zero of="$SMALL/fill" bs=1M count=$(((avail >> 20) - 8)) 2>/dev/null
check "the disk now has less free than the reserve" test "$(df --output=avail -B1 "$SMALL" | tail -n 1)" -lt $RESERVE

code=$(write_report "Khi đầy")
check "a write while the disk is full: 507" test "$code" = 507
check "... with the stable code storage.disk_full" jqb '.error.code == "storage.disk_full" and .error.status == 507'
check "... and a message saying what to do" jqb '.error.message | test("Free space")'
check "the full disk is logged once" wait_until 5 grep -q "event=disk.full" "$(log_of prov)"
code=$(node_req prov GET api/v1/reports -H "Authorization: Bearer $TOK")
check "reads go on while full (200)" test "$code" = 200
check "... listing all 10 acknowledged reports" jqb '(.reports // .items // .) | length >= 10'
code=$(node_req prov GET metrics -H "Authorization: Bearer $ADM")
check "metrics go on and show the free disk below the reserve" bash -c "[ $code = 200 ] && awk '/^lienthong_disk_free_bytes / { exit !(\$2 < $RESERVE) }' '$T/body'"
"$BIN" doctor --dir "$T/prov" >"$T/doctor.out"
check "doctor exits 2 on a full disk" test $? -eq 2
check "... naming the disk problem" grep -q "^problem  disk .*refuses writes" "$T/doctor.out"

start nat || exit 1
check "replication out goes on: the national node gets all 10" wait_until 30 has_count nat reports 10

rm -f "$SMALL/fill"
code=$(write_report "Sau khi giải phóng")
check "once space returns, writes work again without a restart (201)" test "$code" = 201
check "the recovery is logged" grep -q "event=disk.recovered" "$(log_of prov)"
check "the national node gets the new report too" wait_until 20 has_count nat reports 11
lost=0
while read -r id; do
    [ "$(node_req prov GET "api/v1/reports/$id" -H "Authorization: Bearer $TOK")" = 200 ] || lost=$((lost + 1))
done <"$T/ids"
check "all 11 acknowledged reports are there" test "$(wc -l <"$T/ids")" -eq 11 -a "$lost" -eq 0
stop prov
check "verify passes after the episode" "$BIN" verify --dir "$T/prov"

# without a reserve: LMDB itself runs out of space mid-write
start prov env LT_DISK_RESERVE=0 || exit 1
dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null
check "the disk is full to the last block" test "$(df --output=avail -B1 "$SMALL" | tail -n 1)" -lt 65536
: >"$T/codes"
for i in $(seq 1 20); do write_report "Tràn $i" >>"$T/codes"; done
check "writes on a full disk answer 201 or 507, never 500 ($(sort "$T/codes" | uniq -c | tr -s ' \n' ' '))" bash -c "! grep -qv -e '^201$' -e '^507$' '$T/codes'"
check "... and at least one 507" grep -qx 507 "$T/codes"
rm -f "$SMALL/fill"
check "space back: writes work again (201)" test "$(write_report "Lại bình thường")" = 201
lost=0
while read -r id; do
    [ "$(node_req prov GET "api/v1/reports/$id" -H "Authorization: Bearer $TOK")" = 200 ] || lost=$((lost + 1))
done <"$T/ids"
check "every acknowledged report is there ($(wc -l <"$T/ids"))" test "$lost" -eq 0
stop prov
check "verify passes after LMDB ran out of space" "$BIN" verify --dir "$T/prov"

finish
