#!/usr/bin/env bash
# compat_versions.sh - two releases in one network (make test-compat). The
# previous release (LT_COMPAT_REV, default 714b1f6) is built once into a
# cache (tests/compat_build_old.sh). Then, on real processes:
#   1. the old release makes a province (root) and two communes, and writes;
#   2. the new release opens one commune's directory (verify passes) and
#      replicates with the old province, both ways, also while writing;
#   3. the province is upgraded on its old directory and replicates with the
#      old commune and the new one, both ways;
#   4. every directory verifies under the release that runs it, with equal
#      digests; the old release refuses a directory the new one has opened
#      (it names the new index) rather than let its indexes go stale.
set -u
. "$(dirname "$0")/repl_lib.sh"
REV=${LT_COMPAT_REV:-714b1f6}
OLD=$(bash "$(dirname "$0")/compat_build_old.sh" "$REV") || { bad "cannot build release $REV"; exit 1; }
NEW=$BIN
NODES="prov com com2"
pick_ports
echo "old release: $("$OLD" --version) ($REV); new: $("$NEW" --version)"

# with_bin BINARY CMD...: runs CMD with BINARY as the helpers' lienthong, so
# a read of a node's directory (export, status) is done by a release that
# may open it: a newer release adds its indexes to a directory it opens,
# and an older one then refuses it, naming the index (docs/operations.md).
with_bin() { local BIN=$1; shift; "$@"; }

# start_with BINARY NODE: start() with BINARY as the node's lienthong.
start_with() { local b=$1 n=$2; BIN=$b start "$n"; }

# ---- the old release makes the network: a province and two communes ---------------------------------------
"$OLD" init --dir "$T/prov" --unit 40 --name "Tỉnh Nghệ An" --tier province --root \
    --tiers province,commune --listen "127.0.0.1:${PORT[prov]}" >/dev/null || exit 1
"$OLD" init --dir "$T/com" --unit 16681 --name "Phường Bến Thủy" --tier commune --parent-unit 40 \
    --listen "127.0.0.1:${PORT[com]}" --upstream "$(url prov)" >/dev/null || exit 1
"$OLD" init --dir "$T/com2" --unit 16684 --name "Phường Trường Thi" --tier commune \
    --parent-unit 40 --listen "127.0.0.1:${PORT[com2]}" --upstream "$(url prov)" >/dev/null || exit 1
"$OLD" enroll --dir "$T/com" --parent-dir "$T/prov" >/dev/null || exit 1
"$OLD" enroll --dir "$T/com2" --parent-dir "$T/prov" >/dev/null || exit 1
reports "$T/a.jsonl" A 30
"$OLD" import --dir "$T/com" --collection reports --raw --file "$T/a.jsonl" >/dev/null || bad "old import"
reports "$T/c.jsonl" C 10
"$OLD" import --dir "$T/com2" --collection reports --raw --file "$T/c.jsonl" >/dev/null || bad "old import 2"

# notice BINARY ID: a notice written at the province, addressed to everyone.
notice() {
    echo "{\"id\": \"$2\", \"title\": \"Thông báo $2\"}" |
        "$1" import --dir "$T/prov" --collection notices --file - --to '*' >/dev/null
}

# ---- 1. an old province and a new commune (on the data the old one wrote) ----------------------------------
check "the new release verifies the commune's old data directory" "$NEW" verify --dir "$T/com"
start_with "$OLD" prov || exit 1
start_with "$NEW" com || exit 1
check "new commune -> old province: 30 reports" wait_until 30 with_bin "$OLD" has_count prov reports 30
notice "$OLD" P-1
check "old province -> new commune: notice P-1" wait_until 30 with_bin "$NEW" has_record com notices P-1
reports "$T/b.jsonl" B 20
check "the new commune takes 20 more reports while serving" \
    sh -c '"$1" import --dir "$2" --collection reports --raw --file "$3" >/dev/null' _ "$NEW" "$T/com" "$T/b.jsonl"
check "...and the old province holds all 50" wait_until 30 with_bin "$OLD" has_count prov reports 50
check "the old province stops cleanly" stop prov

# ---- 2. the province upgraded (on the old one's data), an old commune beside a new one ----------------------
check "the new release verifies the province's old data directory" "$NEW" verify --dir "$T/prov"
start_with "$NEW" prov || exit 1
start_with "$OLD" com2 || exit 1
check "old commune -> new province: its 10 reports (60 in all)" \
    wait_until 30 with_bin "$NEW" has_count prov reports 60
notice "$NEW" P-2
check "new province -> old commune: notices P-1 and P-2" \
    wait_until 30 with_bin "$OLD" has_count com2 notices 2
check "new province -> new commune: notice P-2" wait_until 30 with_bin "$NEW" has_record com notices P-2
check "the new province stops cleanly" stop prov
check "the new commune stops cleanly" stop com
check "the old commune stops cleanly" stop com2

# ---- every directory verifies under the release that runs it, and they agree -------------------------------
check "the province verifies (new)" "$NEW" verify --dir "$T/prov"
check "the new commune verifies (new)" "$NEW" verify --dir "$T/com"
check "the old commune verifies (old)" "$OLD" verify --dir "$T/com2"
check "equal notice digests, new province and new commune" \
    test "$(with_bin "$NEW" digest prov notices)" = "$(with_bin "$NEW" digest com notices)"
check "equal notice digests, new province and old commune" \
    test "$(with_bin "$NEW" digest prov notices)" = "$(with_bin "$OLD" digest com2 notices)"
check "the old release refuses the province directory the new one wrote, naming the index" \
    sh -c '"$1" serve --dir "$2" 2>&1 | grep -q "index"' _ "$OLD" "$T/prov"
finish
