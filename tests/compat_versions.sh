#!/usr/bin/env bash
# compat_versions.sh - two releases in one network (make test-compat). The
# previous release (LT_COMPAT_REV, default 714b1f6) is built once into a
# cache (tests/compat_build_old.sh). Then, on real processes:
#   1. the old release makes a province (root) and a commune, and writes;
#   2. an old commune replicates with a new province, both ways;
#   3. the roles swap: the new release opens the commune's data directory the
#      old one wrote (verify passes) and replicates with an old province;
#   4. both data directories verify under the new release, with equal digests.
set -u
. "$(dirname "$0")/repl_lib.sh"
REV=${LT_COMPAT_REV:-714b1f6}
OLD=$(bash "$(dirname "$0")/compat_build_old.sh" "$REV") || { bad "cannot build release $REV"; exit 1; }
NEW=$BIN
NODES="prov com"
pick_ports
echo "old release: $("$OLD" --version) ($REV); new: $("$NEW" --version)"

# start_with BINARY NODE: start() with BINARY as the node's lienthong.
start_with() { local b=$1 n=$2; BIN=$b start "$n"; }

"$OLD" init --dir "$T/prov" --unit 40 --name "Tỉnh Nghệ An" --tier province --root \
    --tiers province,commune --listen "127.0.0.1:${PORT[prov]}" >/dev/null || exit 1
"$OLD" init --dir "$T/com" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 40 \
    --listen "127.0.0.1:${PORT[com]}" --upstream "$(url prov)" >/dev/null || exit 1
"$OLD" enroll --dir "$T/com" --parent-dir "$T/prov" >/dev/null || exit 1
reports "$T/a.jsonl" A 30
"$OLD" import --dir "$T/com" --collection reports --raw --file "$T/a.jsonl" >/dev/null || bad "old import"

# round PROV_BIN COM_BIN REPORTS NOTICE WHAT: runs the province and the
# commune with these binaries; the commune's REPORTS reports reach the
# province, a notice NOTICE written at the province reaches the commune.
round() {
    local pb=$1 cb=$2 n=$3 notice=$4 what=$5
    start_with "$pb" prov || exit 1
    start_with "$cb" com || exit 1
    check "$what: commune -> province: $n reports" wait_until 30 has_count prov reports "$n"
    echo "{\"id\": \"$notice\", \"title\": \"Thông báo $notice\"}" |
        "$pb" import --dir "$T/prov" --collection notices --file - --to '*' >/dev/null
    check "$what: province -> commune: notice $notice" wait_until 30 has_record com notices "$notice"
    check "$what: the commune stops cleanly" stop com
    check "$what: the province stops cleanly" stop prov
}

round "$NEW" "$OLD" 30 P-1 "old commune, new province (on the old one's data)"
check "the new release verifies the commune's old data directory" "$NEW" verify --dir "$T/com"
reports "$T/b.jsonl" B 20
"$NEW" import --dir "$T/com" --collection reports --raw --file "$T/b.jsonl" >/dev/null || bad "new import"
round "$OLD" "$NEW" 50 P-2 "new commune (on the old one's data), old province"

# ---- both verify under the new release, and agree ---------------------------------------------------------
check "the province verifies" "$NEW" verify --dir "$T/prov"
check "the commune verifies" "$NEW" verify --dir "$T/com"
BIN=$NEW
check "equal report digests" test "$(digest prov reports)" = "$(digest com reports)"
check "equal notice digests" test "$(digest prov notices)" = "$(digest com notices)"
finish
