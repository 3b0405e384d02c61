#!/usr/bin/env bash
# cli_backup.sh - lienthong backup / restore on real nodes: a commune is
# backed up while it serves, writes more, is restored into a fresh
# directory, and catches up with its district what it missed, its own
# reports written after the backup included (by the same key: writes
# answer 503 node.catching_up until it holds its own log, then go on with
# the next seq, without equivocation); verify passes. The other way out,
# rotate, still works. Also the refusals: a non-empty target, a wrong
# passphrase, a damaged or cut file, all without touching the target.
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
KEY=$(node_key c1)
log_seqs() { "$BIN" log --dir "$T/$1" --origin "$KEY" --json | jq -s -c "$2"; }
own_seq() { "$BIN" status --dir "$T/$1" --json | jq -r --arg k "$KEY" '.origins[$k] // 0'; }
check "the district holds the commune's log up to 35 (its 35 reports)" test "$(own_seq dist)" -ge 35
at_backup=$(own_seq c1)
check "the restored commune's own log stops at the backup ($at_backup < 35)" test "$at_backup" -lt 35
check "... without the reports it wrote after it" test "$(log_seqs c1 '[.[] | select(.id == "b-1")] | length')" = 0
"$BIN" doctor --dir "$T/c1" >"$T/doctor.out"
check "doctor says the restored node signs nothing until it caught up" grep -q "^warn .*restored.*node.catching_up.*lienthong rotate --dir" "$T/doctor.out"
reports "$T/x.jsonl" x 1
"$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/x.jsonl" >"$T/out" 2>&1
check "import into the restored node before its catch-up is refused" test $? -ne 0
check "... saying why and what to do" grep -q "restored from a backup.*lienthong serve --dir" "$T/out"
check "... signing nothing" test "$(own_seq c1)" = "$at_backup"

# the catch-up window: the district is down, so the commune cannot get its own log back yet
stop dist
start c1 || exit 1
check "serve starts the restored node with its old key, holding its writes" grep -q "event=node.catching_up" "$(log_of c1)"
TOK=$(mk c1 canbo leader 16681)
check "reads work while it waits (200)" test "$(node_req c1 GET api/v1/reports -H "Authorization: Bearer $TOK")" = 200
code=$(post_json c1 api/v1/reports '{"title": "Trong lúc chờ", "category": "traffic", "lat": 18.6, "lon": 105.6}' -H "Authorization: Bearer $TOK")
check "a write while it waits answers 503 (got $code)" test "$code" = 503
check "... with the stable code node.catching_up and what to do" jqb '.error.code == "node.catching_up" and .error.status == 503 and (.error.message | test("lienthong rotate --dir"))'
check "... and nothing was signed (no report, no audit entry)" test "$(own_seq c1)" = "$at_backup"
check "the restored node still has restored.json" test -e "$T/c1/restored.json"

start dist || exit 1
check "the commune gets back the entries it signed after the backup (reports b-1..b-15)" wait_until 30 bash -c "ids=\$(\"$BIN\" log --dir '$T/c1' --origin $KEY --collection reports --json | jq -r .id); for i in \$(seq 1 15); do grep -qx b-\$i <<<\"\$ids\" || exit 1; done"
check "... and what the district wrote for it (d-1..d-5)" bash -c "for i in 1 2 3 4 5; do \"$BIN\" export --dir '$T/c1' --collection reports | jq -r .id | grep -qx d-\$i || exit 1; done"
check "its writes open once it holds its own log (restored.json removed)" wait_until 30 test ! -e "$T/c1/restored.json"
check "... logged as node.caught_up" grep -q "event=node.caught_up" "$(log_of c1)"
held=$(own_seq dist)
check "the commune holds its whole log as the district does ($(own_seq c1) >= $held)" test "$(own_seq c1)" -ge "$held"
code=$(post_json c1 api/v1/reports '{"title": "Sau khi khôi phục", "category": "traffic", "lat": 18.6, "lon": 105.6}' -H "Authorization: Bearer $TOK")
check "a write after the catch-up works (got $code)" test "$code" = 201
NEW=$(jq -r .id "$T/body")
check "the new report reaches the district" wait_until 20 has_record dist reports "$NEW"
check "... signed with the next seq after the caught-up log ($held + 1)" test "$(log_seqs dist "map(select(.coll == \"reports\" and .id == \"$NEW\") | .seq)")" = "[$((held + 1))]"
"$BIN" doctor --dir "$T/c1" >"$T/doctor.out"
check "doctor no longer reports the restore" bash -c "! grep -q restored '$T/doctor.out'"
reports "$T/e.jsonl" e 3
check "command-line writes work again" "$BIN" import --dir "$T/c1" --collection reports --raw --file "$T/e.jsonl"
check "new writes after the restore reach the district" wait_until 20 has_count dist reports 44
check "the district's copy of the commune's log went on past what it held ($(own_seq dist) > $held)" test "$(own_seq dist)" -gt "$held"
check "the district holds the commune's log as one chain, each seq once" test "$(log_seqs dist 'map(.seq) == [range(1; length + 1)]')" = true
check "no equivocation at the district" bash -c "\"$BIN\" status --dir '$T/dist' --json | jq -e '.equivocations | length == 0'"
check "the district refused nothing (quarantine empty)" bash -c "\"$BIN\" quarantine --dir '$T/dist' --json | jq -e '.count == 0 and (.entries | length == 0)'"
stop c1
check "verify passes after the catch-up" "$BIN" verify --dir "$T/c1"

# the other way out: no neighbour reachable, a new key
check "a second restore of the same backup" "$BIN" restore --dir "$T/c1" --from "$T/c1.bak" --force
check "rotate gives the restored node a new key" "$BIN" rotate --dir "$T/c1" --parent-dir "$T/dist"
"$BIN" doctor --dir "$T/c1" >"$T/doctor.out"
check "after the rotation doctor no longer reports the restore" bash -c "! grep -q restored '$T/doctor.out'"
start c1 || exit 1
check "... serve does not hold its writes" bash -c "! grep -q event=node.catching_up '$(log_of c1)'"
TOK=$(mk c1 canbo2 leader 16681)
code=$(post_json c1 api/v1/reports '{"title": "Khóa mới", "category": "traffic", "lat": 18.6, "lon": 105.6}' -H "Authorization: Bearer $TOK")
check "writes work at once under the new key (got $code)" test "$code" = 201
check "... and reach the district" wait_until 20 has_record dist reports "$(jq -r .id "$T/body")"
check "still no equivocation at the district" bash -c "\"$BIN\" status --dir '$T/dist' --json | jq -e '.equivocations | length == 0'"

finish
