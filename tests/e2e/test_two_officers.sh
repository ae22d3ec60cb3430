#!/usr/bin/env bash
# What one insider tries alone, through the command line (docs/line.md,
# "Two-officer changes", "Signatures", "Refused passwords"):
#  - a security officer adds a second "officer" and approves it herself, to
#    approve her own release with it: refused (exit 8), nothing is added,
#    her half of the enrolment code alone does not enrol the account;
#  - at the station's shell, someone acts `--as` a logged-in officer to
#    approve a release without his password: refused (exit 10), recorded as
#    a refused signature, the release stays unapproved;
#  - 20 wrong passwords in a row: each waits longer, the fifth locks the
#    person (even the right password is then refused) until an officer
#    unlocks them; every attempt is a leaf.
# Each refusal is checked in the audit log.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
# text: the SQL for a leaf's bytes as text, on either backend.
text() { if [ -n "${e2e_pg_url:-}" ]; then echo "convert_from(leaf, 'UTF8')"; else echo "CAST(leaf AS TEXT)"; fi; }
leaves() { # leaves ACTION OUTCOME [PERSON]: how many such leaves the log holds
	local q="SELECT COUNT(*) FROM audit_leaves WHERE action = '$1'"
	q="$q AND $(text) LIKE '%\"outcome\":\"$2\"%'"
	[ -z "${3:-}" ] || q="$q AND $(text) LIKE '%\"person\":\"$3\"%'"
	sql "$q"
}

suite() {
	local label=$1 a b id
	line_with_release "$@"
	"$L" keygen --out fw2.pem >/dev/null
	head -c 4000 /dev/urandom >app2.bin
	"$L" image sign --key fw.pem --product sensor --version 2.1.0 --build release \
		--security-counter 2 --embed-pubkey app2.bin v21.img >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice v21.img --product sensor >/dev/null

	# 1. alice requests a second "officer" and approves the request herself.
	LINESEC_PASSWORD=alice-pw expect 0 "$label: alice requests an officer 'mallory'" \
		"$L" person add --as alice --role security-officer mallory
	id=$(sed -n 's/^change \([0-9]*\) requested.*/\1/p' out.txt)
	a=$(sed -n 's/^enrolment code, first half[^:]*: //p' out.txt)
	LINESEC_PASSWORD=alice-pw expect 8 "$label: alice cannot approve her own request" \
		"$L" change approve --as alice "$id"
	has "'alice' requested it; a second, distinct security officer must approve" err.txt \
		"$label: the refusal says a second officer must approve"
	check "$label: no approval leaf, no person leaf for mallory" \
		"[ \"\$(leaves change.approve ok)\" = 2 ] && [ \"\$(sql \"SELECT COUNT(*) FROM people WHERE name = 'mallory'\")\" = 0 ]"
	check "$label: the request is in the log as submitted by alice" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'change.request' AND \$(text) LIKE '%submitted%' AND \$(text) LIKE '%mallory%'\")\" = 1 ]"
	LINESEC_ENROL_CODE="$a-0000000000000000" LINESEC_NEW_PASSWORD=mallory-pw-1 \
		expect 10 "$label: alice's half alone does not enrol mallory" "$L" enrol mallory
	check "$label: the refused enrolment is a leaf" "[ \"\$(leaves enrol refused mallory)\" = 1 ]"
	LINESEC_PASSWORD=alice-pw expect 10 "$label: mallory cannot approve alice's release" \
		"$L" release approve --as mallory sensor@2.1.0
	# Approved by bob, neither officer holds the whole code: alice's guess of bob's half fails.
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: bob approves mallory" "$L" change approve --as bob "$id"
	b=$(sed -n 's/^enrolment code, second half[^:]*: //p' out.txt)
	check "$label: the two halves differ" "[ -n \"$a\" ] && [ -n \"$b\" ] && [ \"$a\" != \"$b\" ]"
	LINESEC_ENROL_CODE="$a-$a" LINESEC_NEW_PASSWORD=mallory-pw-1 \
		expect 10 "$label: alice's half twice does not enrol mallory" "$L" enrol mallory
	LINESEC_PASSWORD=mallory-pw-1 expect 10 "$label: nobody logs in as mallory before enrolment" \
		"$L" login mallory
	check "$label: the registry holds no password of mallory's, only the enrolment hash" \
		"sql \"SELECT pw_hash FROM people WHERE name = 'mallory'\" | grep -q '^enrol:$id:\\\$argon2id'"
	LINESEC_ENROL_CODE="$a-$b" LINESEC_NEW_PASSWORD=mallory-pw-1 \
		expect 0 "$label: mallory enrols with both halves" "$L" enrol mallory

	# An approved change set back to pending by SQL is not approved a second time
	# (a second label, a second role change): the decision leaf says it was decided.
	local decided
	decided=$(sql "SELECT decided_by || ' ' || decided FROM change_requests WHERE id = $id")
	sql "UPDATE change_requests SET state = 'pending', decided_by = NULL, decided = NULL WHERE id = $id" >/dev/null
	LINESEC_PASSWORD=bob-pw-123 expect 5 "$label: the change made pending again by SQL is not approved twice" \
		"$L" change approve --as bob "$id"
	has "registry table change_requests holds change $id (person-add of 'mallory') as pending, but the log makes it approved (leaf [0-9]*)" \
		err.txt "$label: the refusal names the table, the change and the leaf"
	LINESEC_PASSWORD=bob-pw-123 expect 5 "$label: nor rejected" "$L" change reject --as bob "$id"
	check "$label: no second approval leaf" "[ \"\$(leaves change.approve ok)\" = 3 ]"
	sql "UPDATE change_requests SET state = 'approved', decided_by = '${decided%% *}', decided = '${decided#* }' WHERE id = $id" >/dev/null

	# 2. --as bob, without bob's password.
	LINESEC_PASSWORD=alice-pw expect 10 "$label: --as bob with alice's password does not sign" \
		"$L" release approve --as bob sensor@2.1.0
	has "cannot approve a release 'bob': wrong name or password" err.txt "$label: the refusal is named"
	expect 2 "$label: --as bob with no password at all does not sign" setsid -w env -u LINESEC_PASSWORD \
		"$L" release approve --as bob sensor@2.1.0
	has "cannot ask for the password of bob, to sign (approve a release): this process has no terminal" err.txt "$label: it asks for bob's password"
	check "$label: the refused signature is a leaf naming bob" "[ \"\$(leaves signature refused bob)\" = 1 ]"
	expect 0 "$label: release list" "$L" release list --as bob --json
	check "$label: sensor@2.1.0 is not approved" "! grep -q '\"version\":\"2.1.0\"[^}]*\"state\":\"approved\"' out.txt"
	check "$label: no approval leaf for 2.1.0" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'release.approve' AND \$(text) LIKE '%2.1.0%'\")\" = 0 ]"
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: bob signs it with his password" \
		"$L" release approve --as bob sensor@2.1.0

	# 3. Twenty wrong passwords for olga.
	local i start elapsed refused=0 locked=0 rc
	"$L" logout olga >/dev/null
	start=$(date +%s)
	for i in $(seq 1 20); do
		LINESEC_PASSWORD="wrong-guess-$i" "$L" login olga >out.txt 2>err.txt </dev/null
		rc=$?
		[ "$rc" = 10 ] || bad "$label: wrong password $i: exit $rc"
		if grep -q "locked after" err.txt; then locked=$((locked + 1)); else refused=$((refused + 1)); fi
	done
	elapsed=$(($(date +%s) - start))
	check "$label: five refusals, then locked (refused $refused, locked $locked)" \
		"[ $refused = 5 ] && [ $locked = 15 ]"
	check "$label: the attempts waited longer each time (${elapsed}s)" "[ $elapsed -ge 10 ]"
	check "$label: every attempt is a leaf" \
		"[ \"\$(leaves login refused olga)\" = 5 ] && [ \"\$(leaves login refused-locked olga)\" = 15 ]"
	LINESEC_PASSWORD=olga-pw-123 expect 10 "$label: locked, even the right password is refused" "$L" login olga
	has "a security officer lifts the lock with 'linesec person unlock olga'" err.txt "$label: says who lifts it"
	LINESEC_PASSWORD=wrong expect 10 "$label: the unlock is a signature" "$L" person unlock --as alice olga
	LINESEC_PASSWORD=alice-pw expect 0 "$label: alice unlocks olga" "$L" person unlock --as alice olga
	check "$label: the unlock is a leaf" "[ \"\$(leaves person-unlock ok alice)\" = 1 ]"
	LINESEC_PASSWORD=olga-pw-123 expect 0 "$label: olga logs in again" "$L" login olga
	expect 0 "$label: the log verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
