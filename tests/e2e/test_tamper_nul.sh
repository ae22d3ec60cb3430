#!/usr/bin/env bash
# SQLite compares a text value in full where C stops at its first NUL byte:
# an approval row for 'alice' || char(0) || 'x' read back as a second
# "alice", so one person's approval counted twice. linesec never writes text
# with a NUL byte, so any such value read from the registry stops the command
# (exit 5) naming the column, before anything is flashed. PostgreSQL cannot
# store one; there, with DDL rights, the same name approved twice is refused.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite_nul() {
	line_with_release sqlite || return
	"$L" sim new --count 3 --dir fleet --seed 21 >/dev/null

	# An old release alice submitted and nobody approved, given a second "alice".
	"$L" image sign --key fw.pem --product sensor --version 1.0.0 --build release \
		--security-counter 1 --embed-pubkey app.bin old.img >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice old.img --product sensor >/dev/null
	rid=$(sql "SELECT id FROM releases WHERE version = '1.0.0'")
	sql "INSERT INTO release_approvals (release_id, person, created)
	     VALUES ($rid, 'alice' || char(0) || 'x', '2000-01-01T00:00:00Z')" >/dev/null
	expect 5 "the NUL-suffixed approval row stops the flash" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	has "registry column 'person' holds text with a NUL byte" err.txt "the refusal names the column"
	check "nothing was flashed" "[ \"\$(sql 'SELECT COUNT(*) FROM runs')\" = 0 ]"
	sql "DELETE FROM release_approvals WHERE instr(CAST(person AS BLOB), X'00') > 0" >/dev/null

	# What was refused left nothing behind: the release approved alone still is not.
	expect 0 "unit-001 flashes the approved release" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	check "the approved release was flashed, not the one approved by one person" \
		"[ \"\$(sql \"SELECT r.release FROM runs r JOIN units u ON u.id = r.unit_id WHERE u.serial = 'unit-001'\")\" = sensor@2.0.0 ]"
}

# With DDL rights the key that keeps approvers apart goes, and the same
# name is approved twice: two rows of one person are never two signatures.
suite_twice() {
	local label=$1
	line_with_release "$@" || return
	"$L" sim new --count 1 --dir fleet --seed 21 >/dev/null
	"$L" image sign --key fw.pem --product sensor --version 1.0.0 --build release \
		--security-counter 1 --embed-pubkey app.bin old.img >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice old.img --product sensor >/dev/null
	rid=$(sql "SELECT id FROM releases WHERE version = '1.0.0'")
	sql "ALTER TABLE release_approvals DROP CONSTRAINT release_approvals_pkey" >/dev/null
	sql "INSERT INTO release_approvals (release_id, person, created)
	     SELECT release_id, person, created FROM release_approvals WHERE release_id = $rid" >/dev/null
	expect 5 "$label: one person's approval twice stops the flash" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	has "approves release sensor@1.0.0 twice by 'alice'" err.txt "$label: the refusal names it"
}

# Row ids are no order: the older release renumbered above the newer one
# (the sqlite3 shell does not enforce foreign keys) is not taken for the
# newest; the log's order of submission decides.
suite_order() {
	line_with_release sqlite-order || return
	"$L" image sign --key fw.pem --product sensor --version 2.1.0 --build release \
		--security-counter 3 --embed-pubkey app.bin newer.img >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice newer.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@2.1.0 >/dev/null
	"$L" sim new --count 1 --dir fleet --seed 21 >/dev/null
	old=$(sql "SELECT id FROM releases WHERE version = '2.0.0'")
	sql "UPDATE releases SET id = 100 WHERE id = $old;
	     UPDATE release_approvals SET release_id = 100 WHERE release_id = $old" >/dev/null
	expect 0 "renumbered: unit-001 flashes" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	check "the newest release was flashed, not the renumbered older one" \
		"[ \"\$(sql \"SELECT r.release FROM runs r JOIN units u ON u.id = r.unit_id WHERE u.serial = 'unit-001'\")\" = sensor@2.1.0 ]"
}

suite_nul
suite_order
run_on_postgres suite_twice postgres
finish
