#!/usr/bin/env bash
# Drives `linesec init|person|login|logout` end to end: a line folder, its
# first security officer, people with roles, shift sessions on one station
# (two people at once), line discovery, and the exit status of each refusal.
# Passwords come from LINESEC_PASSWORD / LINESEC_NEW_PASSWORD, the way
# scripts and tests pass them (never argv). With LSEC_TEST_PG_URL set, the
# same run is repeated against a PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
dir=$e2e_dir

run_suite() { # run_suite LABEL [--registry URL]
	local label=$1 L="$dir/$1"
	shift
	echo "== $label"
	unset LINESEC_LINE
	export LINESEC_PASSWORD=officer-pass-1 LINESEC_SECOND_PASSWORD=officer-pass-2
	expect 2 "$label: init without a second officer refused" "$LINESEC" init --dir "$L" --admin ada "$@"
	has "starts with two security officers" err.txt "$label: the refusal says why"
	LINESEC_SECOND_PASSWORD=officer-pass-1 expect 8 "$label: init with one password for both refused" \
		"$LINESEC" init --dir "$L" --admin ada --second-officer ben "$@"
	expect 0 "$label: init" "$LINESEC" init --dir "$L" --line-id lineA --station-id st1 --admin ada --second-officer ben "$@"
	has "security officers: ada and ben" out.txt "$label: init names both officers"
	expect 7 "$label: second init refused" "$LINESEC" init --dir "$L" "$@"
	[ "$(stat -c %a "$L/station.key")" = 600 ] && ok "$label: station key 0600" || bad "$label: station key mode"
	has "line: lineA" "$L/line.yaml" "$label: line.yaml names the line"
	grep -q officer-pass-1 "$L/line.yaml" && bad "$label: password in line.yaml" || ok "$label: no password in line.yaml"

	# line.yaml: a typo and a policy that would do nothing are refused at their line and column.
	cp "$L/line.yaml" "$dir/$label-line.yaml"
	sed -i 's/^station:/staton:/' "$L/line.yaml"
	expect 4 "$label: unknown key in line.yaml refused" "$LINESEC" login ada --line "$L"
	has "unknown key 'staton' in line.yaml" err.txt "$label: the typo is named"
	has "line [0-9]*, column 1" err.txt "$label: at its line and column"
	cp "$dir/$label-line.yaml" "$L/line.yaml"
	printf '    policies:\n      require_attestation: false\n' >>"$L/line.yaml"
	expect 4 "$label: require_attestation refused" "$LINESEC" login ada --line "$L"
	has "unknown key 'require_attestation' in the policies of product 'sensor'" err.txt "$label: the dead policy is named"
	cp "$dir/$label-line.yaml" "$L/line.yaml"

	# No line here: a clear error.
	expect 6 "$label: no line in an empty folder" "$LINESEC" login ada
	has "has no line.yaml" err.txt "$label: the error says where it looked"

	export LINESEC_LINE="$L"
	expect 10 "$label: person add without a session" "$LINESEC" person add --role operator olga
	LINESEC_PASSWORD=wrong-pass-1 expect 10 "$label: wrong password" "$LINESEC" login ada
	has "wrong name or password" err.txt "$label: wrong password message"
	expect 0 "$label: officer login" "$LINESEC" login ada
	[ "$(stat -c %a "$L/.sessions/ada")" = 600 ] && ok "$label: token file 0600" || bad "$label: token file mode"
	LINESEC_PASSWORD=officer-pass-2 expect 0 "$label: second officer login" "$LINESEC" login ben
	add_person ada officer-pass-1 ben officer-pass-2 olga operator op-pass-11
	add_person ben officer-pass-2 ada officer-pass-1 sam supervisor sup-pass-11
	add_person ada officer-pass-1 ben officer-pass-2 aud auditor aud-pass-11
	expect 7 "$label: duplicate person" "$LINESEC" person add --as ada --role operator olga
	expect 2 "$label: unknown role" "$LINESEC" person add --as ada --role boss tim
	has "unknown role 'boss': expected one of operator, supervisor, security-officer, auditor" \
		err.txt "$label: unknown role lists the roles"
	expect 0 "$label: a request for tim" "$LINESEC" person add --as ada --role operator tim
	expect 0 "$label: pending changes listed" "$LINESEC" change list --as ben
	has "person-add *tim *pending *by ada" out.txt "$label: the pending request is listed"
	LINESEC_PASSWORD=officer-pass-2 expect 0 "$label: ben rejects it" "$LINESEC" change reject --as ben 4
	LINESEC_PASSWORD=officer-pass-2 expect 9 "$label: a rejected change cannot be approved" \
		"$LINESEC" change approve --as ben 4
	LINESEC_NEW_PASSWORD=short LINESEC_ENROL_CODE=0000000000000000-0000000000000000 \
		expect 8 "$label: short password refused at enrolment" "$LINESEC" enrol tim
	LINESEC_PASSWORD=officer-pass-2 expect 0 "$label: ben logs out" "$LINESEC" logout ben
	expect 0 "$label: list as JSON" "$LINESEC" person list --json
	has '"name":"olga","role":"operator"' out.txt "$label: olga listed as operator"
	grep -q argon2 out.txt && bad "$label: hash in list output" || ok "$label: no hash in list output"
	check "$label: tim was never added" "! grep -q '\"name\":\"tim\"' out.txt"

	# Two people at once: the acting person must be named.
	LINESEC_PASSWORD=op-pass-11 expect 0 "$label: operator login beside the officer" "$LINESEC" login olga
	expect 10 "$label: ambiguous actor refused" "$LINESEC" person list
	has "2 people are logged in" err.txt "$label: ambiguity explained"
	expect 0 "$label: list --as ada" "$LINESEC" person list --as ada
	LINESEC_PASSWORD=op-pass-11 expect 10 "$label: operator cannot add people" "$LINESEC" person add --as olga --role operator tim
	has "'olga' is an operator; this needs a security-officer" err.txt "$label: role refusal explained"
	expect 10 "$label: operator cannot list people" "$LINESEC" person list --as olga

	expect 0 "$label: request to disable olga" "$LINESEC" person disable --as ada olga
	expect 0 "$label: nothing changes until a second officer approves" "$LINESEC" person list --as ada --json
	has '"disabled":false,"name":"olga"' out.txt "$label: olga is still enabled"
	LINESEC_PASSWORD=officer-pass-2 "$LINESEC" login ben >/dev/null
	LINESEC_PASSWORD=officer-pass-2 expect 0 "$label: ben approves disabling olga" "$LINESEC" change approve --as ben 5
	LINESEC_PASSWORD=officer-pass-2 "$LINESEC" logout ben >/dev/null
	expect 10 "$label: disabled session refused" "$LINESEC" person list --as olga
	LINESEC_PASSWORD=op-pass-11 expect 10 "$label: disabled login refused" "$LINESEC" login olga
	expect 8 "$label: officer cannot disable self" "$LINESEC" person disable --as ada ada
	expect 6 "$label: disable unknown person" "$LINESEC" person disable --as ada nobody
	expect 0 "$label: logout olga's stale session" "$LINESEC" logout olga
	expect 0 "$label: logout (only ada left)" "$LINESEC" logout
	expect 10 "$label: after logout, nobody acts" "$LINESEC" person list
	has "nobody is logged in" err.txt "$label: nobody message"
	[ -e "$L/.sessions/ada" ] && bad "$label: token file left" || ok "$label: token file removed"

	# --line wins over LINESEC_LINE.
	LINESEC_PASSWORD=sup-pass-11 LINESEC_LINE=/nonexistent expect 0 "$label: --line DIR" "$LINESEC" login --line "$L" sam
	LINESEC_LINE=/nonexistent expect 0 "$label: logout --line DIR" "$LINESEC" logout --line "$L" sam

	# A registry is never made up on the spot: a deleted or emptied one is refused.
	if [ "$label" = sqlite ]; then
		mv "$L/registry.db" "$L/registry.db.bak"
		expect 9 "$label: deleted registry refused" "$LINESEC" person list
		has "does not exist" err.txt "$label: the error says the registry is missing"
		check "$label: no registry re-created" '[ ! -e "$L/registry.db" ]'
		: >"$L/registry.db"
		expect 9 "$label: emptied registry refused" "$LINESEC" person list
		has "is empty" err.txt "$label: the error says the registry is empty"
		mv "$L/registry.db.bak" "$L/registry.db"
	else
		psql -q "$2" -c 'ALTER TABLE schema_version RENAME TO schema_version_gone' >/dev/null
		expect 9 "$label: emptied registry refused" "$LINESEC" person list
		has "is empty" err.txt "$label: the error says the registry is empty"
		psql -q "$2" -c 'ALTER TABLE schema_version_gone RENAME TO schema_version' >/dev/null
	fi
	expect 0 "$label: the restored registry opens" "$LINESEC" login ada
	expect 0 "$label: and lists its people" "$LINESEC" person list --as ada
}

run_suite sqlite
if [ -n "${LSEC_TEST_PG_URL:-}" ]; then
	schema="e2e_$$_$RANDOM"
	if psql -q "$LSEC_TEST_PG_URL" -c "CREATE SCHEMA $schema" >/dev/null 2>&1; then
		sep='?'
		case $LSEC_TEST_PG_URL in *\?*) sep='&' ;; esac
		run_suite postgres --registry "${LSEC_TEST_PG_URL}${sep}options=-csearch_path%3D$schema"
		psql -q "$LSEC_TEST_PG_URL" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
	else
		bad "cannot create a PostgreSQL schema for the test"
	fi
else
	echo "skip postgres: LSEC_TEST_PG_URL is not set"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
