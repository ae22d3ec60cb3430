#!/usr/bin/env bash
# The ship gate checks the log incrementally: it starts from the compact
# range stored with the latest checkpoint and proves units from the kept
# subtree hashes (audit_nodes). Someone with write access to the registry
# alone edits those rows by SQL: a subtree hash edited makes the proof miss
# the signed root and the unit does not ship; a stored range edited is not
# trusted (the next checkpoint is recomputed from the leaves, and the log
# still verifies). Deleting the subtree hashes only slows the proof down.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
export LINESEC_CA_PASSPHRASE=test-ca-passphrase
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite() {
	local label=$1 pg_url=${3:-}
	shift
	mkdir "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	sql() { reg_sql "$pg_url" line/registry.db "$1"; }
	export LINESEC_LINE="$PWD/line"
	LINESEC_PASSWORD=alice-pw "$L" init --dir line --admin alice "$@" >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" login alice >/dev/null
	LINESEC_NEW_PASSWORD=bob-pw-123 "$L" person add bob --role security-officer >/dev/null
	LINESEC_NEW_PASSWORD=olga-pw-123 "$L" person add olga --role operator >/dev/null
	LINESEC_NEW_PASSWORD=sam-pw-1234 "$L" person add sam --role supervisor >/dev/null
	"$L" ca init --ca line/ca --cn "Test CA" --days 10950 >/dev/null
	"$L" keygen --out fw.pem >/dev/null
	mkdir line/keys
	"$L" pubkey fw.pem --out line/keys/sensor.pub.pem
	head -c 5000 /dev/urandom >app.bin
	"$L" image sign --key fw.pem --product sensor --version 2.0.0 --build release \
		--security-counter 2 --embed-pubkey app.bin new.img >/dev/null
	LINESEC_PASSWORD=sam-pw-1234 "$L" login sam >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" login bob >/dev/null
	LINESEC_PASSWORD=olga-pw-123 "$L" login olga >/dev/null
	for s in flash provision secure-boot debug-lock; do
		"$L" sop submit --as sam "line/sops/$s.yaml" >/dev/null
		"$L" sop approve --as alice "$s" 1 >/dev/null
		"$L" sop approve --as bob "$s" 1 >/dev/null
	done
	"$L" release submit --as alice new.img --product sensor >/dev/null
	"$L" release approve --as bob sensor@2.0.0 >/dev/null
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

suite sqlite
run_on_postgres suite postgres
finish
