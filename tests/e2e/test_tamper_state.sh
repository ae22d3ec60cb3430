#!/usr/bin/env bash
# `linesec audit verify` proves the registry's state, not only the log's
# tree: with write access to the registry alone (SQL on SQLite or
# PostgreSQL), each state table is tampered with in turn (a unit's state, an
# inserted run, an identity's key state and certificate bytes, an injected approval, a rewritten
# SOP version, a person made security officer, a change of trust rewritten,
# a revocation cleared, a step's outcome turned from failed to passed, a
# step row deleted, one inserted for a step that never ran), and verify exits
# 5 naming the table, the row and the leaf that says otherwise; the station
# refuses what it refused before (a unit that failed a step is not shipped);
# undone, the line verifies again.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
export LINESEC_CA_PASSPHRASE="e2e CA passphrase"
login() { LINESEC_PASSWORD="$1-e2e-password" "$L" login "$1" >/dev/null || bad "login $1"; }
person() { add_person alice alice-e2e-password bob bob-e2e-password "$1" "$2" "$1-e2e-password"; }
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-e2e-password
sign() { # sign VERSION OUT
	"$L" image sign --key fw.pem --product sensor --version "$1" --build release --security-counter 1 \
		--embed-pubkey fw.bin "$2" >/dev/null || bad "sign $1"
}

# tampered DESCRIPTION PATTERN: verify refuses (exit 5), naming the table,
# the row and the leaf that says otherwise (or that no leaf records the row).
tampered() {
	expect 5 "$1: audit verify refuses" "$L" audit verify
	has "registry table $2" err.txt "$1: names the table, the row and the leaf"
	has "state differs: registry table $2" out.txt "$1: listed in the output"
}

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	echo "== $label"
	mkdir -p "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	export LINESEC_LINE="$e2e_dir/$label/line"
	local pg_url=${2:-} db=line/registry.db
	LINESEC_PASSWORD=alice-e2e-password LINESEC_SECOND_PASSWORD=bob-e2e-password "$L" init --dir line --line-id line1 --station-id st1 --admin alice --second-officer bob "$@" >/dev/null || bad init
	login alice
	login bob
	person sam supervisor
	person olga operator
	"$L" ca init --as alice --ca line/ca --cn "E2E CA" --days 10950 >/dev/null || bad "ca init"
	"$L" keygen --out fw.pem >/dev/null && "$L" pubkey fw.pem --out fw.pub.pem >/dev/null || bad keys
	head -c 4096 /dev/urandom >fw.bin
	sign 1.0.0 fw.img
	sign 1.0.1 fw101.img
	sign 1.0.2 fw102.img
	login sam
	login bob
	for s in flash provision secure-boot debug-lock; do
		"$L" sop submit --as sam "line/sops/$s.yaml" >/dev/null || bad "submit $s"
		LINESEC_PASSWORD=alice-e2e-password "$L" sop approve --as alice "$s" 1 >/dev/null &&
			LINESEC_PASSWORD=bob-e2e-password "$L" sop approve --as bob "$s" 1 >/dev/null || bad "approve $s"
	done
	LINESEC_PASSWORD=alice-e2e-password "$L" product key submit --as alice sensor fw.pub.pem >/dev/null
	LINESEC_PASSWORD=bob-e2e-password "$L" product key approve --as bob sensor@1 >/dev/null
	LINESEC_PASSWORD=alice-e2e-password "$L" release submit --as alice fw.img --product sensor >/dev/null &&
		LINESEC_PASSWORD=bob-e2e-password "$L" release approve --as bob sensor@1.0.0 >/dev/null || bad release
	LINESEC_PASSWORD=alice-e2e-password "$L" release submit --as alice fw101.img --product sensor >/dev/null && "$L" release revoke --as bob sensor@1.0.1 >/dev/null || bad "revoked release"
	LINESEC_PASSWORD=alice-e2e-password "$L" release submit --as alice fw102.img --product sensor >/dev/null || bad "unapproved release"
	# unit-002 never boots: its flash fails at boot-attest and it is quarantined.
	"$L" sim new --count 2 --dir fleet --seed 12 --fault-plan <(echo '{"2": "boot_fail=9"}') >/dev/null || bad "sim new"
	login olga
	ack_sops olga olga-e2e-password
	expect 0 "unit-001 built and shipped" "$L" build --as olga --device sim:fleet/unit-001.sim --batch
	expect 9 "unit-002 fails a step and is quarantined" "$L" build --as olga --device sim:fleet/unit-002.sim --batch
	# What the station refuses for unit-002 before its steps rows are tampered with.
	"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim >ship-before.txt 2>&1
	local ship_before=$?
	check "the quarantined unit is not shipped" "[ $ship_before -ne 0 ]"
	expect 0 "untampered line verifies, state included" "$L" audit verify
	has "registry state matches the log" out.txt "verify says the state matches"

	local u1 fp
	u1=$(reg_sql "$pg_url" $db "SELECT id FROM units WHERE serial = 'unit-001'")
	fp=$(reg_sql "$pg_url" $db "SELECT key_fp FROM identities WHERE unit_id = $u1")

	# A unit's state set back to locked (the state the auditor's attack used).
	reg_sql "$pg_url" $db "UPDATE units SET state = 'locked' WHERE id = $u1" >/dev/null
	tampered "unit state changed" "units, row 'unit-001': state is 'locked', but leaf [0-9]* says 'shipped'"
	expect 5 "the difference in --json" "$L" audit verify --json
	has '"table":"units"' out.txt "--json names the table"
	has '"key":"unit-001"' out.txt "--json names the row"
	reg_sql "$pg_url" $db "UPDATE units SET state = 'shipped' WHERE id = $u1" >/dev/null

	# The unit's station rewritten (the registering leaf names the station).
	reg_sql "$pg_url" $db "UPDATE units SET station = 'st9' WHERE id = $u1" >/dev/null
	tampered "unit station changed" "units, row 'unit-001': station is 'st9', but leaf [0-9]* says 'st1'"
	reg_sql "$pg_url" $db "UPDATE units SET station = 'st1' WHERE id = $u1" >/dev/null

	# An approved release's manifest rewritten (its security counter lowered).
	reg_sql "$pg_url" $db "UPDATE releases SET manifest = replace(manifest, '\"security-counter\":1', '\"security-counter\":0') WHERE version = '1.0.0'" >/dev/null
	tampered "release manifest changed" "releases, row 'sensor@1.0.0': manifest is '[0-9a-f]*', but leaf [0-9]* says '[0-9a-f]*'"
	reg_sql "$pg_url" $db "UPDATE releases SET manifest = replace(manifest, '\"security-counter\":0', '\"security-counter\":1') WHERE version = '1.0.0'" >/dev/null

	# A passed run inserted for the unit.
	reg_sql "$pg_url" $db "INSERT INTO runs (unit_id, sop, sop_version, person, station, outcome, started, finished)
		SELECT unit_id, sop, sop_version, person, station, 'passed', started, finished FROM runs WHERE unit_id = $u1 AND sop = 'flash'" >/dev/null
	tampered "runs row inserted" "runs, row '[0-9]*': no audit leaf records it"
	# The device history record lists the runs the leaves record, not the rows:
	# neither the inserted run nor a run row rewritten (person, outcome) shows.
	reg_sql "$pg_url" $db "UPDATE runs SET sop = 'forged-sop', person = 'mallory' WHERE id = (SELECT MAX(id) FROM runs)" >/dev/null
	reg_sql "$pg_url" $db "UPDATE runs SET person = 'mallory', outcome = 'forged-outcome' WHERE unit_id = $u1 AND sop = 'provision'" >/dev/null
	expect 0 "unit show with runs rows inserted and rewritten" "$L" unit show --as olga unit-001 --json
	check "unit show lists neither the inserted run nor the rewritten row's values" \
		"! grep -q -e forged-sop -e mallory -e forged-outcome out.txt"
	local passed
	passed=$(python3 -c 'import json,sys; r=json.load(open("out.txt"))["runs"]; print(len(r), sum(x["outcome"] == "passed" and x["person"] == "olga" for x in r))')
	check "it lists the four runs the leaves record, each passed, by olga" "[ '$passed' = '4 4' ]"
	expect 0 "unit show as text" "$L" unit show --as olga unit-001
	check "the text lists none of them either" "! grep -q -e forged-sop -e mallory -e forged-outcome out.txt"
	reg_sql "$pg_url" $db "UPDATE runs SET person = 'olga', outcome = 'passed' WHERE unit_id = $u1 AND sop = 'provision'" >/dev/null
	reg_sql "$pg_url" $db "DELETE FROM runs WHERE id = (SELECT MAX(id) FROM runs)" >/dev/null

	# The shipped unit's key marked compromised.
	reg_sql "$pg_url" $db "UPDATE identities SET key_state = 'compromised' WHERE key_fp = '$fp'" >/dev/null
	tampered "identity key_state changed" "identities, row '$fp': key_state is 'compromised', but leaf [0-9]* says 'active'"
	reg_sql "$pg_url" $db "UPDATE identities SET key_state = 'active' WHERE key_fp = '$fp'" >/dev/null

	# The shipped unit's certificate bytes replaced (cut short here; a DER
	# copied from another unit's row is named the same way).
	reg_sql "$pg_url" $db "CREATE TABLE saved_der AS SELECT key_fp, cert_der FROM identities" >/dev/null
	reg_sql "$pg_url" $db "UPDATE identities SET cert_der = substr(cert_der, 1, 100) WHERE key_fp = '$fp'" >/dev/null
	tampered "identity cert_der changed" "identities, row '$fp': cert_der is '[0-9a-f]*"
	reg_sql "$pg_url" $db "UPDATE identities SET cert_der = (SELECT cert_der FROM saved_der WHERE saved_der.key_fp = identities.key_fp); DROP TABLE saved_der" >/dev/null

	# bob's approval injected for the release only alice submitted.
	reg_sql "$pg_url" $db "INSERT INTO release_approvals (release_id, person, created)
		SELECT id, 'bob', created FROM releases WHERE version = '1.0.2'" >/dev/null
	tampered "approval row injected" "releases, row 'sensor@1.0.2': approvals is '2 (alice, bob)', but leaf [0-9]* says '1 (alice)'"
	reg_sql "$pg_url" $db "DELETE FROM release_approvals WHERE person = 'bob' AND release_id = (SELECT id FROM releases WHERE version = '1.0.2')" >/dev/null

	# The flash SOP's body rewritten with a matching digest.
	local body_sha
	body_sha=$(printf 'id: flash\n' | sha256sum | cut -d' ' -f1)
	reg_sql "$pg_url" $db "CREATE TABLE saved_sop AS SELECT id, body, digest FROM sop_versions WHERE sop = 'flash'" >/dev/null
	reg_sql "$pg_url" $db "UPDATE sop_versions SET body = 'id: flash
', digest = '$body_sha' WHERE sop = 'flash'" >/dev/null
	tampered "sop_versions body and digest rewritten" "sop_versions, row 'flash@1': digest is '$body_sha', but leaf [0-9]* says"
	# The body alone rewritten (the digest left as approved) is named too.
	reg_sql "$pg_url" $db "UPDATE sop_versions SET digest = (SELECT digest FROM saved_sop WHERE saved_sop.id = sop_versions.id) WHERE sop = 'flash'" >/dev/null
	tampered "sop_versions body rewritten" "sop_versions, row 'flash@1': body is '$body_sha', but leaf [0-9]* says"
	reg_sql "$pg_url" $db "UPDATE sop_versions SET body = (SELECT body FROM saved_sop WHERE saved_sop.id = sop_versions.id) WHERE sop = 'flash'; DROP TABLE saved_sop" >/dev/null

	# An operator made security officer.
	reg_sql "$pg_url" $db "UPDATE people SET role = 'security-officer' WHERE name = 'olga'" >/dev/null
	tampered "person role changed" "people, row 'olga': role is 'security-officer', but leaf [0-9]* says 'operator'"
	reg_sql "$pg_url" $db "UPDATE people SET role = 'operator' WHERE name = 'olga'" >/dev/null

	# An approved change of trust rewritten: olga's addition as an officer.
	reg_sql "$pg_url" $db "UPDATE change_requests SET payload = replace(payload, 'operator', 'security-officer') WHERE subject = 'olga'" >/dev/null
	tampered "change_requests payload rewritten" "change_requests, row '[0-9]*': payload is '{\"name\":\"olga\",\"role\":\"security-officer\"}', but leaf [0-9]* says"
	reg_sql "$pg_url" $db "UPDATE change_requests SET payload = replace(payload, 'security-officer', 'operator') WHERE subject = 'olga'" >/dev/null

	# The revocation is a signature like the others: its leaf says what it means.
	local text="CAST(leaf AS TEXT)"
	[ -n "$pg_url" ] && text="convert_from(leaf, 'UTF8')"
	local meant
	meant=$(reg_sql "$pg_url" $db "SELECT COUNT(*) FROM audit_leaves WHERE action = 'release.revoke' AND $text LIKE '%\"meaning\":\"revoked\"%'")
	check "release.revoke leaf records meaning revoked" "[ '$meant' = 1 ]"

	# A revoked release made flashable again.
	local revoked
	revoked=$(reg_sql "$pg_url" $db "SELECT revoked FROM releases WHERE version = '1.0.1'")
	reg_sql "$pg_url" $db "UPDATE releases SET revoked = NULL, revoked_by = NULL WHERE version = '1.0.1'" >/dev/null
	tampered "release revoked flag cleared" "releases, row 'sensor@1.0.1': revoked is 'no', but leaf [0-9]* says 'yes'"
	reg_sql "$pg_url" $db "UPDATE releases SET revoked = '$revoked', revoked_by = 'bob' WHERE version = '1.0.1'" >/dev/null

	# A person deleted: the row the log records is missing.
	reg_sql "$pg_url" $db "CREATE TABLE saved_people AS SELECT * FROM people WHERE name = 'sam'" >/dev/null
	reg_sql "$pg_url" $db "DELETE FROM sessions WHERE person_id IN (SELECT id FROM saved_people); DELETE FROM people WHERE name = 'sam'" >/dev/null
	tampered "person row deleted" "people has no row 'sam', which leaf [0-9]* records"
	reg_sql "$pg_url" $db "INSERT INTO people SELECT * FROM saved_people; DROP TABLE saved_people" >/dev/null

	# Steps rows: the step leaves name their run and row inside the hash.
	local u2 failed lastrow
	u2=$(reg_sql "$pg_url" $db "SELECT id FROM units WHERE serial = 'unit-002'")
	failed=$(reg_sql "$pg_url" $db "SELECT MIN(s.id) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.unit_id = $u2 AND s.outcome = 'failed'")
	check "unit-002 has a failed step row" "[ -n '$failed' ]"
	# A failed step made passed.
	reg_sql "$pg_url" $db "UPDATE steps SET outcome = 'passed' WHERE id = $failed" >/dev/null
	tampered "step outcome changed" "steps, row '$failed': outcome is 'passed', but leaf [0-9]* says 'failed'"
	has "state differs: registry table steps, row '$failed': outcome" out.txt "the step row named in the output"
	# A passed step inserted for a step that never ran on unit-002.
	reg_sql "$pg_url" $db "INSERT INTO steps (run_id, step, person, outcome, evidence, started, finished)
		SELECT run_id, 'enable-secure-boot', person, 'passed', '{}', started, finished FROM steps WHERE id = $failed" >/dev/null
	lastrow=$(reg_sql "$pg_url" $db "SELECT MAX(id) FROM steps")
	expect 5 "steps row inserted: audit verify refuses" "$L" audit verify
	has "state differs: registry table steps, row '$lastrow': no audit leaf records it" out.txt \
		"steps row inserted: named too"
	"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim >ship-after.txt 2>&1
	local ship_after=$?
	check "the station still refuses to ship unit-002 (exit $ship_after), as before the tampering" \
		"[ $ship_after -eq $ship_before ]"
	check "the refusal is the same" "diff -q ship-before.txt ship-after.txt >/dev/null"
	check "unit-002 is still quarantined" \
		"[ \"\$(reg_sql '$pg_url' $db \"SELECT state FROM units WHERE id = $u2\")\" = quarantined ]"
	expect 9 "nor is a run started on it" "$L" run provision --as olga --batch --device sim:fleet/unit-002.sim
	reg_sql "$pg_url" $db "DELETE FROM steps WHERE id = $lastrow; UPDATE steps SET outcome = 'failed' WHERE id = $failed" >/dev/null
	# A step row deleted: the row its leaf records is missing.
	reg_sql "$pg_url" $db "CREATE TABLE saved_steps AS SELECT * FROM steps WHERE id = $failed" >/dev/null
	reg_sql "$pg_url" $db "DELETE FROM steps WHERE id = $failed" >/dev/null
	tampered "steps row deleted" "steps has no row '$failed', which leaf [0-9]* records"
	reg_sql "$pg_url" $db "INSERT INTO steps SELECT * FROM saved_steps; DROP TABLE saved_steps" >/dev/null

	expect 0 "every change undone: the line verifies again" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
