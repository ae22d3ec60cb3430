#!/usr/bin/env bash
# Decision-time lookups are complete, not only correct: someone with write
# access to the registry alone (sqlite3, or SQL on a shared PostgreSQL)
# hides a leaf from the lookups by its index column (audit_leaves.unit or
# .action, outside the leaf hash) and sets the rows back to the older
# state: a quarantined unit's last leaf, a release.revoke, a logout. The
# signed index each checkpoint commits holds how many leaves name each
# unit and action, so the station refuses to act (exit 5, naming the
# table, the key and what the signed index holds), as it does when an
# index row itself is edited; `audit verify` names the leaf. Untampered,
# the line ships.
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
	LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-123 "$L" init --dir line --admin alice \
		--second-officer bob "$@" >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" login alice >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" login bob >/dev/null
	add_person alice alice-pw bob bob-pw-123 olga operator olga-pw-123
	add_person alice alice-pw bob bob-pw-123 sam supervisor sam-pw-1234
	"$L" ca init --as alice --ca line/ca --cn "Test CA" --days 10950 >/dev/null
	"$L" keygen --out fw.pem >/dev/null
	"$L" pubkey fw.pem --out fw.pub.pem >/dev/null
	head -c 5000 /dev/urandom >app.bin
	"$L" image sign --key fw.pem --product sensor --version 1.0.0 --build release \
		--security-counter 1 --embed-pubkey app.bin v1.img >/dev/null
	"$L" image sign --key fw.pem --product sensor --version 1.0.1 --build release \
		--security-counter 1 --embed-pubkey app.bin v101.img >/dev/null
	LINESEC_PASSWORD=sam-pw-1234 "$L" login sam >/dev/null
	# sam witnesses the tamper seal and scrap, signing with his password each time.
	export LINESEC_WITNESS_PASSWORD=sam-pw-1234
	LINESEC_PASSWORD=olga-pw-123 "$L" login olga >/dev/null
	for s in flash provision secure-boot debug-lock; do
		"$L" sop submit --as sam "line/sops/$s.yaml" >/dev/null
		LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice "$s" 1 >/dev/null
		LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob "$s" 1 >/dev/null
	done
	ack_sops olga olga-pw-123
	LINESEC_PASSWORD=alice-pw "$L" product key submit --as alice sensor fw.pub.pem >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" product key approve --as bob sensor@1 >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice v1.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@1.0.0 >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice v101.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@1.0.1 >/dev/null
	"$L" release revoke --as bob sensor@1.0.1 >/dev/null || bad "$label: revoke sensor@1.0.1"
	echo '{"2": "boot_fail=5"}' >faults.json
	"$L" sim new --count 3 --dir fleet --seed 5 --fault-plan faults.json >/dev/null
	expect 0 "$label: unit-001 built and shipped" \
		"$L" build --as olga --device sim:fleet/unit-001.sim --batch
	expect 9 "$label: unit-002 fails its build and is quarantined" \
		"$L" build --as olga --device sim:fleet/unit-002.sim --batch
	# The leaves to hide lie below a signed checkpoint.
	expect 0 "$label: checkpoint" "$L" audit checkpoint --as alice

	# A quarantined unit's last leaf hidden through the unit column, the unit row set to locked.
	local q
	q=$(sql "SELECT MAX(seq) FROM audit_leaves WHERE unit = 'unit-002'")
	sql "UPDATE audit_leaves SET unit = NULL WHERE seq = $q;
	     UPDATE units SET state = 'locked' WHERE serial = 'unit-002'" >/dev/null
	expect 5 "$label: shipping a unit whose quarantine leaf was hidden refused" \
		"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim
	has "registry table audit_leaves lists [0-9]* leaves under unit 'unit-002' below leaf [0-9]*, but the signed index of that checkpoint holds [0-9]*: a leaf's index column was changed outside linesec" \
		err.txt "$label: the table, the unit and the signed count are named"
	expect 5 "$label: audit verify names the hidden leaf" "$L" audit verify
	has "leaf $q" err.txt "$label: verify names leaf $q"
	sql "UPDATE audit_leaves SET unit = 'unit-002' WHERE seq = $q;
	     UPDATE units SET state = 'quarantined' WHERE serial = 'unit-002'" >/dev/null

	# The release.revoke hidden through the action column, the release row un-revoked.
	local r revoked
	r=$(sql "SELECT seq FROM audit_leaves WHERE action = 'release.revoke'")
	revoked=$(sql "SELECT revoked FROM releases WHERE version = '1.0.1'")
	sql "UPDATE audit_leaves SET action = 'x' WHERE seq = $r;
	     UPDATE releases SET revoked = NULL, revoked_by = NULL WHERE version = '1.0.1'" >/dev/null
	expect 5 "$label: flashing a release whose revoke leaf was hidden refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-003.sim
	has "registry table audit_leaves lists 0 leaves under action 'release.revoke' below leaf [0-9]*, but the signed index of that checkpoint holds 1" \
		err.txt "$label: the table, the action and the signed count are named"
	check "$label: no refused flash began" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM runs r JOIN units u ON u.id = r.unit_id WHERE u.serial = 'unit-003'\")\" = 0 ]"
	expect 5 "$label: audit verify names the refiled leaf" "$L" audit verify
	has "leaf $r" err.txt "$label: verify names leaf $r"
	sql "UPDATE audit_leaves SET action = 'release.revoke' WHERE seq = $r;
	     UPDATE releases SET revoked = '$revoked', revoked_by = 'bob' WHERE version = '1.0.1'" >/dev/null

	# An index row itself edited: the bucket no longer hashes to the signed root.
	sql "UPDATE audit_index SET leaves = leaves + 1 WHERE ikey = 'action:release.revoke'" >/dev/null
	expect 5 "$label: flashing with an edited index row refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-003.sim
	has "registry table audit_index holds bucket [0-9]* (or table audit_index_nodes its path) unlike the signed index of the checkpoint of [0-9]* leaves" \
		err.txt "$label: the index table and the checkpoint are named"
	sql "UPDATE audit_index SET leaves = leaves - 1 WHERE ikey = 'action:release.revoke'" >/dev/null

	# A logout hidden through the action column, the session revived with its token file.
	cp line/.sessions/alice alice.session
	expect 0 "$label: logout" "$L" logout alice
	expect 0 "$label: checkpoint over the logout" "$L" audit checkpoint --as bob
	local lo
	lo=$(sql "SELECT MAX(seq) FROM audit_leaves WHERE action = 'logout'")
	sql "UPDATE audit_leaves SET action = NULL WHERE seq = $lo; UPDATE sessions SET revoked = 0" >/dev/null
	cp alice.session line/.sessions/alice
	expect 5 "$label: a session revived after its logout leaf was hidden does not act" \
		"$L" person list --as alice
	has "registry table audit_leaves lists [0-9]* leaves under action 'logout' below leaf [0-9]*, but the signed index of that checkpoint holds [0-9]*" \
		err.txt "$label: the table, the action and the signed count are named"
	sql "UPDATE audit_leaves SET action = 'logout' WHERE seq = $lo" >/dev/null
	expect 5 "$label: put back, the logged-out session still does not act" \
		"$L" person list --as alice
	has "that leaf $lo (logout) ended" err.txt "$label: the logout leaf is named"
	sql "UPDATE sessions SET revoked = 1 WHERE person_id = (SELECT id FROM people WHERE name = 'alice')" >/dev/null

	# Put back, the line acts: a unit is built and shipped, the log verifies.
	expect 0 "$label: unit-003 built and shipped" \
		"$L" build --as olga --device sim:fleet/unit-003.sim --batch
	"$L" unit show --as olga unit-003 --json >rec.json
	has '"release":"sensor@1.0.0"' rec.json "$label: the unrevoked release was flashed"
	expect 0 "$label: the log verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
