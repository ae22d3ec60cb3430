#!/usr/bin/env bash
# The ship gate checks the log incrementally: it starts from the compact
# range stored with the latest checkpoint and proves units from the kept
# subtree hashes (audit_nodes). Someone with write access to the registry
# alone edits those rows by SQL: a subtree hash edited makes the proof miss
# the signed root and the unit does not ship; a stored range edited is not
# trusted (the next checkpoint is recomputed from the leaves, and the log
# still verifies). Deleting the subtree hashes only slows the proof down.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite() {
	local label=$1
	line_with_release "$@" || return
	"$L" sim new --count 3 --dir fleet --seed 21 >/dev/null
	for u in 1 2 3; do
		for s in flash provision secure-boot debug-lock; do
			"$L" run "$s" --as olga --batch --device "sim:fleet/unit-00$u.sim" >/dev/null ||
				bad "$label: unit-00$u did not pass $s"
		done
	done
	expect 0 "$label: unit-001 ships" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	check "$label: the gate kept subtree hashes" \
		"[ \"\$(sql 'SELECT COUNT(*) FROM audit_nodes')\" -gt 10 ]"

	# A subtree hash edited by SQL: the proof misses the signed root, the unit stays locked.
	sql "UPDATE audit_nodes SET hash = (SELECT root_hash FROM checkpoints ORDER BY id LIMIT 1)" >/dev/null
	expect 8 "$label: ship refused with edited subtree hashes" \
		"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim
	has "not proven in a verifying log" err.txt "$label: the refusal names the log proof"
	check "$label: unit-002 is still locked" \
		"[ \"\$(sql \"SELECT state FROM units WHERE serial = 'unit-002'\")\" = locked ]"
	# Without them the proof streams the stored leaf hashes.
	sql "DELETE FROM audit_nodes" >/dev/null
	expect 0 "$label: unit-002 ships once the hashes are gone" \
		"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim

	# The latest checkpoint's stored range edited: not trusted, recomputed from the leaves.
	sql "UPDATE checkpoints SET tree_range = root_hash" >/dev/null
	expect 0 "$label: checkpoint with an edited range" "$L" audit checkpoint --as olga
	expect 0 "$label: unit-003 ships" "$L" ship --as olga unit-003 --device sim:fleet/unit-003.sim
	expect 0 "$label: the log verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
