#!/usr/bin/env bash
# Initial credentials, attacked from the command line. A unit holds at most
# one valid credential: `ca cred` on a shipped unit (which once left it with
# three valid ones) is refused and records nothing. A `ca cred` that fails
# (the label folder missing, a stale label file) records nothing either: the
# registry row, its audit leaf and the label file are one transaction. A
# provisioning run whose label step fails after the credential was made (a
# stale label file) quarantines the unit with that reason, and the unit is
# never shipped with a password nobody has.
#
# Replacing a credential takes two security officers, on SQLite and
# PostgreSQL: a second active credential inserted by SQL is refused by the
# schema (a partial unique index); one officer approving her own replacement
# request is refused; a replacement that fails (no label folder) records
# nothing; with a second officer the old credential is revoked and the new
# one recorded in the same transaction (adjacent leaves after the approval).
#
# A credential row deleted or marked revoked by SQL does not let a second one
# be issued (SQLite and PostgreSQL).
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

creds() { # creds SERIAL: the unit's credential rows, valid ones
	sql "SELECT COUNT(*) || ' ' || COUNT(*) FILTER (WHERE c.revoked IS NULL)
	     FROM credentials c JOIN units u ON u.id = c.unit_id WHERE u.serial = '$1'"
}
leaf_text() { if [ -n "${e2e_pg_url:-}" ]; then echo "convert_from(leaf, 'UTF8')"; else echo "CAST(leaf AS TEXT)"; fi; }
issue_leaves() { sql "SELECT COUNT(*) FROM audit_leaves WHERE CAST(leaf AS TEXT) LIKE '%initial-password.issue%'"; }

suite_cred() {
	line_with_release cred || return
	"$L" sim new --count 3 --dir fleet --seed 31 >/dev/null
	mkdir labels

	expect 0 "unit-001 is built and shipped" "$L" build --as olga --batch --device sim:fleet/unit-001.sim
	has "unit unit-001: shipped" out.txt "unit-001 shipped"
	check "the shipped unit holds one valid credential" "[ \"\$(creds unit-001)\" = '1 1' ]"
	leaves=$(issue_leaves)
	for i in 1 2; do
		expect 9 "ca cred on the shipped unit is refused ($i)" \
			"$L" ca cred --as alice --serial unit-001 --label-dir labels
	done
	has "a unit has at most one" err.txt "the refusal says why"
	has "two security officers" err.txt "the refusal says how a replacement is made"
	check "the unit still holds exactly one credential" "[ \"\$(creds unit-001)\" = '1 1' ]"
	check "no label file and no leaf were written" \
		"[ -z \"\$(ls labels)\" ] && [ \"\$(issue_leaves)\" = '$leaves' ]"

	# A unit without a credential yet: only flashed.
	expect 0 "unit-002 is flashed" "$L" run flash --as olga --batch --device sim:fleet/unit-002.sim
	expect 3 "ca cred with a missing label folder fails" \
		"$L" ca cred --as alice --serial unit-002 --label-dir no-such-folder
	check "the failed ca cred recorded no credential" "[ \"\$(creds unit-002)\" = '0 0' ]"
	check "...and no audit leaf" "[ \"\$(issue_leaves)\" = '$leaves' ]"
	echo stale >labels/unit-002.label
	expect 7 "ca cred over a stale label file fails" \
		"$L" ca cred --as alice --serial unit-002 --label-dir labels
	check "the stale label file is left as it was" "[ \"\$(cat labels/unit-002.label)\" = stale ]"
	check "the failed ca cred recorded nothing" \
		"[ \"\$(creds unit-002)\" = '0 0' ] && [ \"\$(issue_leaves)\" = '$leaves' ]"
	rm labels/unit-002.label
	expect 0 "ca cred then succeeds" "$L" ca cred --as alice --serial unit-002 --label-dir labels
	check "one credential, its label file written" \
		"[ \"\$(creds unit-002)\" = '1 1' ] && [ -f labels/unit-002.label ]"
	expect 9 "a second ca cred for unit-002 is refused" \
		"$L" ca cred --as alice --serial unit-002 --label-dir labels

	# The provisioning SOP: a stale label file under the unit's name makes
	# the label step fail after the credential was generated.
	expect 0 "unit-003 is flashed" "$L" run flash --as olga --batch --device sim:fleet/unit-003.sim
	mkdir -p line/labels
	touch "$e2e_dir/printer.off" && sleep 0.3 # the test's printer leaves the stale file alone
	echo stale >line/labels/unit-003.label
	expect 9 "provisioning with a stale label file stops the unit" \
		"$L" run provision --as olga --batch --device sim:fleet/unit-003.sim
	has "the label carrying the unit's initial credential was not produced" err.txt \
		"the failure names the lost credential label"
	check "unit-003 is quarantined" \
		"[ \"\$(sql \"SELECT state FROM units WHERE serial = 'unit-003'\")\" = quarantined ]"
	check "its quarantine leaf gives the reason" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE CAST(leaf AS TEXT) LIKE '%unit.quarantine%label carrying%'\")\" = 1 ]"
	rm line/labels/unit-003.label "$e2e_dir/printer.off"
	expect 9 "the quarantined unit is not built on to shipped" \
		"$L" build --as olga --batch --device sim:fleet/unit-003.sim
	check "unit-003 was never shipped" \
		"[ \"\$(sql \"SELECT state FROM units WHERE serial = 'unit-003'\")\" != shipped ]"
}

actions() { sql "SELECT COUNT(*) FROM audit_leaves WHERE action = '$1'"; }
seq_of() { sql "SELECT MAX(seq) FROM audit_leaves WHERE action = '$1'"; }

suite_replace() {
	local label=$1 id
	shift
	line_with_release "$label" "$@" || return
	"$L" sim new --count 1 --dir fleet --seed 37 >/dev/null
	mkdir labels labels2
	expect 0 "$label: unit-001 is flashed" "$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	expect 0 "$label: its first credential" "$L" ca cred --as alice --serial unit-001 --label-dir labels
	check "$label: the schema refuses a second active credential inserted by SQL" \
		"! sql \"INSERT INTO credentials (unit_id, keyed_fp, created) SELECT id, 'ff00', '2030-01-01T00:00:00Z'
		   FROM units WHERE serial = 'unit-001'\" >/dev/null 2>&1"
	check "$label: nor one whose revocation time is empty (read as valid)" \
		"! sql \"INSERT INTO credentials (unit_id, keyed_fp, created, revoked) SELECT id, 'ff01', '2030-01-01T00:00:00Z', ''
		   FROM units WHERE serial = 'unit-001'\" >/dev/null 2>&1"
	check "$label: the unit holds one valid credential" "[ \"\$(creds unit-001)\" = '1 1' ]"

	id=$(LINESEC_PASSWORD=alice-pw "$L" ca cred-replace --as alice --serial unit-001 |
		sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	check "$label: alice's replacement request is a pending change" "[ -n \"$id\" ]"
	LINESEC_PASSWORD=alice-pw expect 8 "$label: alice approving her own replacement is refused" \
		"$L" ca cred-approve --as alice --label-dir labels2 "$id"
	has "a second, distinct security officer must approve" err.txt "$label: the refusal says why"
	check "$label: nothing was replaced" \
		"[ \"\$(creds unit-001)\" = '1 1' ] && [ \"\$(actions credential.revoke)\" = 0 ] && [ -z \"\$(ls labels2)\" ]"
	LINESEC_PASSWORD=bob-pw-123 expect 3 "$label: a replacement with no label folder fails" \
		"$L" ca cred-approve --as bob --label-dir no-such-folder "$id"
	check "$label: the failed replacement recorded nothing" \
		"[ \"\$(creds unit-001)\" = '1 1' ] && [ \"\$(actions credential.revoke)\" = 0 ] &&
		 [ \"\$(actions pki.initial-password.issue)\" = 1 ] &&
		 [ \"\$(sql \"SELECT state FROM change_requests WHERE id = $id\")\" = pending ]"

	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: a second officer approves the replacement" \
		"$L" ca cred-approve --as bob --label-dir labels2 "$id"
	check "$label: the old credential is revoked, the new one valid" "[ \"\$(creds unit-001)\" = '2 1' ]"
	check "$label: its label file is written" "[ -f labels2/unit-001.label ]"
	local a
	a=$(seq_of change.approve)
	check "$label: approval, revocation and new credential are one transaction's leaves" \
		"[ \"\$(seq_of credential.revoke)\" = $((a + 1)) ] && [ \"\$(seq_of pki.initial-password.issue)\" = $((a + 2)) ]"
	expect 0 "$label: the log and the registry agree" "$L" audit verify

	# The revoked credential put back by SQL (its row deleted and inserted
	# again unrevoked, the new one marked revoked): its password is not the
	# unit's, as the leaves record it.
	local old new
	old=$(sed -n 's/^password: //p' labels/unit-001.label)
	new=$(sed -n 's/^password: //p' labels2/unit-001.label)
	LINESEC_CLAIMED_PASSWORD="$new" expect 0 "$label: cred-check accepts the new credential" \
		"$L" ca cred-check --as alice unit-001
	LINESEC_CLAIMED_PASSWORD="$old" expect 10 "$label: and refuses the revoked one" \
		"$L" ca cred-check --as alice unit-001
	sql "CREATE TABLE saved_creds AS SELECT * FROM credentials" >/dev/null
	sql "UPDATE credentials SET revoked = created WHERE revoked IS NULL;
	     DELETE FROM credentials WHERE keyed_fp = (SELECT keyed_fp FROM saved_creds WHERE revoked IS NOT NULL);
	     INSERT INTO credentials (unit_id, keyed_fp, created) SELECT unit_id, keyed_fp, created FROM saved_creds WHERE revoked IS NOT NULL" >/dev/null
	check "$label: the registry now holds the old credential as the valid one" "[ \"\$(creds unit-001)\" = '2 1' ]"
	LINESEC_CLAIMED_PASSWORD="$old" expect 5 "$label: cred-check refuses the row no leaf backs" \
		"$L" ca cred-check --as alice unit-001
	has "registry table credentials, row [0-9a-f]*, which no audit leaf backs; the unit's valid credential is [0-9a-f]*, which audit leaf [0-9]* records" \
		err.txt "$label: the refusal names the table, the row, the unit and the leaf"
	check "$label: the refused check is a leaf" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'pki.initial-password.check' AND $(leaf_text) LIKE '%unbacked-row%'\")\" = 1 ]"
	sql "DELETE FROM credentials WHERE keyed_fp = (SELECT keyed_fp FROM saved_creds WHERE revoked IS NOT NULL);
	     UPDATE credentials SET revoked = NULL WHERE keyed_fp = (SELECT keyed_fp FROM saved_creds WHERE revoked IS NULL);
	     INSERT INTO credentials SELECT * FROM saved_creds WHERE revoked IS NOT NULL; DROP TABLE saved_creds" >/dev/null
	expect 0 "$label: put back, the line verifies" "$L" audit verify
}

# With write access to the registry alone: the shipped unit's credential row
# deleted, or marked revoked, by SQL does not let `ca cred` give it a second
# valid credential: the unit's leaves record the one it holds (exit 5,
# naming the table, the unit and the leaf; nothing written).
suite_tamper() {
	local label=$1
	line_with_release "$@" || return
	"$L" sim new --count 1 --dir fleet --seed 32 >/dev/null
	mkdir labels
	expect 0 "$label: unit-001 is built and shipped" "$L" build --as olga --batch --device sim:fleet/unit-001.sim
	local leaves
	leaves=$(issue_leaves)
	sql "CREATE TABLE saved_creds AS SELECT * FROM credentials" >/dev/null
	sql "DELETE FROM credentials" >/dev/null
	expect 5 "$label: with its credential row deleted, the shipped unit gets no second one" \
		"$L" ca cred --as alice --serial unit-001 --label-dir labels
	has "registry table credentials holds no valid one for it, but audit leaf [0-9]* records credential" \
		err.txt "$label: the refusal names the table, the unit and the leaf"
	check "$label: no label file, row or leaf was written" \
		"[ -z \"\$(ls labels)\" ] && [ \"\$(creds unit-001)\" = '0 0' ] && [ \"\$(issue_leaves)\" = '$leaves' ]"
	expect 5 "$label: audit verify names the missing row" "$L" audit verify
	has "registry table credentials has no row" err.txt "$label: verify names the table"
	sql "INSERT INTO credentials SELECT * FROM saved_creds" >/dev/null
	sql "UPDATE credentials SET revoked = created" >/dev/null
	expect 5 "$label: with its credential marked revoked by SQL, no second one either" \
		"$L" ca cred --as alice --serial unit-001 --label-dir labels
	has "holds no valid one for it, but audit leaf" err.txt "$label: the same refusal"
	sql "UPDATE credentials SET revoked = NULL; DROP TABLE saved_creds" >/dev/null
	expect 0 "$label: put back, the line verifies" "$L" audit verify
}

suite_cred
run_on_sqlite suite_replace replace-sqlite
run_on_postgres suite_replace replace-postgres
run_on_sqlite suite_tamper sqlite
run_on_postgres suite_tamper postgres
finish
