#!/usr/bin/env bash
# cli_backup.sh - lienthong backup / restore on real nodes: a commune is
# backed up while it serves, writes more, is restored into a fresh
# directory, and catches up with its district what it missed; verify
# passes. Also the refusals: a non-empty target, a wrong passphrase, a
# damaged or cut file, all without touching the target.
set -u
. "$(dirname "$0")/repl_lib.sh"

make_tree
start dist || exit 1
start c1 || exit 1
check "commune linked to its district" wait_until 20 link_open c1 412

reports "$T/a.jsonl" a 20
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/a.jsonl" >/dev/null
check "first 20 reports reach the district" wait_until 20 has_count dist reports 20

printf 'correct horse battery staple\n' >"$T/pass"
printf 'not the passphrase\n' >"$T/wrong"
check "encrypted backup while serving" "$BIN" backup --dir "$T/c1" --out "$T/c1.enc" --passphrase-file "$T/pass"
check "plain backup while serving" "$BIN" backup --dir "$T/c1" --out "$T/c1.bak"
check "encrypted file holds no clear config" bash -c "! grep -q '\"unit\"' '$T/c1.enc'"
check "no temporary files left" bash -c "! ls '$T'/c1.enc.* '$T'/c1.bak.* 2>/dev/null | grep -q ."

# after the backup: the commune writes more, the district writes to it
reports "$T/b.jsonl" b 15
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/b.jsonl" >/dev/null
reports "$T/d.jsonl" d 5
"$BIN" import --dir "$T/dist" --collection reports --raw --to 16681 --file "$T/d.jsonl" >/dev/null
check "the commune holds 40 reports" wait_until 20 has_count c1 reports 40
check "the district holds 40 reports" wait_until 20 has_count dist reports 40
stop c1

# refusals, each leaving its target as it was
before=$(digest c1 reports)
"$BIN" restore --dir "$T/c1" --from "$T/c1.bak" >"$T/out" 2>&1
check "restore over a node needs --force (exit 1)" test $? -eq 1
check "... says so" grep -q "is not empty" "$T/out"
check "... and leaves the node alone" test "$(digest c1 reports)" = "$before"

"$BIN" restore --dir "$T/r1" --from "$T/c1.enc" --passphrase-file "$T/wrong" >"$T/out" 2>&1
check "wrong passphrase refused (exit 1)" test $? -eq 1
check "... with a clear message" grep -q "wrong passphrase" "$T/out"
check "... restoring nothing (no directory left)" test ! -e "$T/r1"

"$BIN" restore --dir "$T/r2" --from "$T/c1.enc" >"$T/out" 2>&1
check "encrypted backup without a passphrase refused" grep -q "passphrase-file" "$T/out"

cp "$T/c1.bak" "$T/bad.bak"
size=$(stat -c %s "$T/bad.bak")
printf '\xff' | dd of="$T/bad.bak" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$BIN" restore --dir "$T/r3" --from "$T/bad.bak" >"$T/out" 2>&1
check "damaged plain backup refused" grep -q "damaged" "$T/out"
check "... restoring nothing (no directory left)" test ! -e "$T/r3"
head -c $((size - 100)) "$T/c1.bak" >"$T/cut.bak"
"$BIN" restore --dir "$T/r4" --from "$T/cut.bak" >"$T/out" 2>&1
check "cut plain backup refused" grep -q "damaged or incomplete" "$T/out"
head -c $(($(stat -c %s "$T/c1.enc") - 10)) "$T/c1.enc" >"$T/cut.enc"
"$BIN" restore --dir "$T/r5" --from "$T/cut.enc" --passphrase-file "$T/pass" >"$T/out" 2>&1
check "cut encrypted backup refused" grep -q "damaged or incomplete" "$T/out"

# the real restore, into a fresh directory
check "restore of the encrypted backup" "$BIN" restore --dir "$T/fresh" --from "$T/c1.enc" --passphrase-file "$T/pass"
check "restored node passes verify" "$BIN" verify --dir "$T/fresh"
check "restored node holds what it held at the backup (20)" test "$(count fresh reports)" -eq 20
check "node key restored with mode 0600" test "$(stat -c %a "$T/fresh/node.key")" = 600
check "plain backup restores as well" "$BIN" restore --dir "$T/plain" --from "$T/c1.bak"
check "... to the same state" test "$(digest plain reports)" = "$(digest fresh reports)"

mv "$T/c1" "$T/c1.lost"
mv "$T/fresh" "$T/c1"
"$BIN" serve --dir "$T/c1" >/dev/null 2>"$T/out"
check "serve refuses the restored node with its old key (exit 1)" test $? -eq 1
check "... saying to rotate first" grep -q "restored from a backup.*lienthong rotate --dir" "$T/out"
"$BIN" doctor --dir "$T/c1" >"$T/doctor.out"
check "doctor warns about the restored key" grep -q "^warn .*restored.*lienthong rotate" "$T/doctor.out"
check "rotate gives the restored node a new key" "$BIN" rotate --dir "$T/c1" --parent-dir "$T/dist"
start c1 || exit 1
check "restored commune catches up what the district wrote for it (25 reports)" wait_until 30 has_count c1 reports 25
check "... including every report addressed to it after the backup" bash -c "for i in 1 2 3 4 5; do \"$BIN\" export --dir '$T/c1' --collection reports | jq -r .id | grep -qx d-\$i || exit 1; done"
tok=$(mk c1 boss admin 16681)
code=$(post_json c1 api/v1/users '{"user":"x","password":"long-enough-pass","role":"viewer"}' -H "Authorization: Bearer $tok")
check "writes over HTTP work after the rotation (got $code)" test "$code" = 201
stop c1
check "verify passes after the catch-up" "$BIN" verify --dir "$T/c1"
start c1 || exit 1
reports "$T/e.jsonl" e 3
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/e.jsonl" >/dev/null
check "new writes after the restore reach the district" wait_until 20 has_count dist reports 43
check "no equivocation at the district" bash -c "\"$BIN\" status --dir '$T/dist' --json | jq -e '.equivocations | length == 0'"
check "the district still holds the reports the commune wrote after its backup" bash -c "\"$BIN\" export --dir '$T/dist' --collection reports | jq -r .id | grep -qx b-15"

finish
