#!/usr/bin/env bash
# Approvals, approved SOP bodies and counted runs are proven by leaves:
# someone with write access to the registry alone (sqlite3, or SQL on a
# shared PostgreSQL) injects an approval of an unapproved release with a
# lower security counter, lowers the approved release's counter in its
# manifest column, adds a release row with its approvals, rewrites
# an approved SOP's body with a matching digest, and inserts or changes
# runs rows. The station refuses to act each time, naming the table, the
# row and the leaf, and acts again once the registry is put back.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite() {
	local label=$1
	line_with_release "$@" || return
	"$L" image sign --key fw.pem --product sensor --version 1.0.0 --build release \
		--security-counter 1 --embed-pubkey app.bin old.img >/dev/null
	# The older image is submitted, but no officer can approve it (its counter is lower).
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice old.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@1.0.0 >/dev/null 2>&1 &&
		bad "$label: a release with a lower security counter was approved"
	# The approved release's manifest column rewritten to counter 0 does not
	# lower the floor: the counter is read from its kept image, whose digest
	# the leaves approved.
	sql "UPDATE releases SET manifest = replace(manifest, '\"security-counter\":2', '\"security-counter\":0')
	     WHERE version = '2.0.0'" >/dev/null
	LINESEC_PASSWORD=bob-pw-123 expect 53 "$label: a manifest rewritten by SQL does not let the older release be approved" \
		"$L" release approve --as bob sensor@1.0.0
	has "security counter 1 is below the minimum 2" err.txt "$label: the refusal names the counters"
	sql "UPDATE releases SET manifest = replace(manifest, '\"security-counter\":0', '\"security-counter\":2')
	     WHERE version = '2.0.0'" >/dev/null
	"$L" sim new --count 2 --dir fleet --seed 21 >/dev/null
	for s in flash provision secure-boot debug-lock; do
		"$L" run "$s" --as olga --batch --device sim:fleet/unit-001.sim >/dev/null ||
			bad "$label: unit-001 did not pass $s"
	done

	# Runs: a passed run inserted by SQL is not counted; the row is named.
	local u1 run
	u1=$(sql "SELECT id FROM units WHERE serial = 'unit-001'")
	sql "INSERT INTO runs (unit_id, sop, sop_version, person, station, outcome, started, finished)
	     VALUES ($u1, 'debug-lock', '1', 'olga', 'station-1', 'passed', '2030-01-01T00:00:00Z',
	             '2030-01-01T00:00:01Z')" >/dev/null
	run=$(sql "SELECT MAX(id) FROM runs")
	expect 5 "$label: ship with an inserted runs row refused" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	has "registry table runs holds run $run of unit 'unit-001' (SOP 'debug-lock', passed), but no run.start leaf backs it" \
		err.txt "$label: the inserted runs row is named"
	sql "DELETE FROM runs WHERE id = $run" >/dev/null
	# A run's row that differs from its leaf (another SOP version) is named too.
	run=$(sql "SELECT MIN(id) FROM runs WHERE unit_id = $u1 AND sop = 'secure-boot'")
	sql "UPDATE runs SET sop_version = '7' WHERE id = $run" >/dev/null
	expect 5 "$label: ship with a changed runs row refused" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	has "registry table runs holds run $run of unit 'unit-001' as SOP 'secure-boot' version 7 .* but its run.start leaf [0-9]* says SOP 'secure-boot' version 1" \
		err.txt "$label: the changed runs row and its leaf are named"
	sql "UPDATE runs SET sop_version = '1' WHERE id = $run" >/dev/null

	# Releases: one injected approval row makes the unapproved, older release look approved.
	local rid
	rid=$(sql "SELECT id FROM releases WHERE version = '1.0.0'")
	sql "INSERT INTO release_approvals (release_id, person, created)
	     VALUES ($rid, 'bob', '2030-01-01T00:00:00Z')" >/dev/null
	expect 5 "$label: ship refused while an approval row has no leaf" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	has "registry table release_approvals approves release sensor@1.0.0 .* by 'bob', but no approval leaf backs it" \
		err.txt "$label: ship names the table, the release and the person"
	expect 5 "$label: flashing the injected release refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-002.sim
	has "release_approvals approves release sensor@1.0.0" err.txt "$label: run flash names it"
	expect 5 "$label: release list refuses the injected approval" "$L" release list --as bob
	has "release_approvals approves release sensor@1.0.0" err.txt "$label: release list names it"
	sql "DELETE FROM release_approvals WHERE release_id = $rid AND person = 'bob'" >/dev/null
	# Two rows: a release row and both its approvals, inserted by SQL.
	local dig
	dig=$(sql "SELECT digest FROM releases WHERE version = '1.0.0'")
	sql "INSERT INTO releases (product, version, digest, manifest, created_by, created)
	     VALUES ('sensor', '9.9.9', '$dig', NULL, 'alice', '2030-01-01T00:00:00Z')" >/dev/null
	rid=$(sql "SELECT id FROM releases WHERE version = '9.9.9'")
	sql "INSERT INTO release_approvals (release_id, person, created) VALUES
	     ($rid, 'alice', '2030-01-01T00:00:00Z'), ($rid, 'bob', '2030-01-01T00:00:00Z')" >/dev/null
	expect 5 "$label: flashing an SQL-made release refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-002.sim
	has "registry table releases holds release sensor@9.9.9, but no release.submit leaf records it" \
		err.txt "$label: the inserted release is named"
	sql "DELETE FROM release_approvals WHERE release_id = $rid; DELETE FROM releases WHERE id = $rid" >/dev/null

	# SOP versions: the approved flash SOP's body rewritten, with a matching digest.
	local orig new
	orig=$(sha256sum line/sops/flash.yaml | cut -d' ' -f1)
	new=$({ cat line/sops/flash.yaml; printf '# nobody approved this\n'; } | sha256sum | cut -d' ' -f1)
	sql "UPDATE sop_versions SET body = body || '# nobody approved this
', digest = '$new' WHERE sop = 'flash' AND version = '1'" >/dev/null
	expect 5 "$label: running a rewritten SOP refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-002.sim
	has "registry table sop_versions holds SOP 'flash' version 1 with SHA-256 $new, but approval leaf [0-9]* recorded SHA-256 $orig" \
		err.txt "$label: the table, SOP, version and approved digest are named"
	check "$label: no refused run began" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM runs WHERE sop = 'flash'\")\" = 1 ]"
	sql "UPDATE sop_versions SET body = substr(body, 1, length(body) - 23), digest = '$orig'
	     WHERE sop = 'flash' AND version = '1'" >/dev/null

	# Put back, the station acts again, under the approved release.
	expect 0 "$label: ship once the registry is put back" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	expect 0 "$label: flash once the registry is put back" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-002.sim
	"$L" unit show --as olga unit-002 --json >rec.json
	has '"release":"sensor@2.0.0"' rec.json "$label: the approved release was flashed"
	expect 0 "$label: the log verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
