#!/usr/bin/env bash
# Every leaf read is checked against a trusted station key, also where
# nothing is written: someone with write access to the registry alone (sqlite3,
# or SQL on a shared PostgreSQL) rewrites the approved flash SOP's body with a
# matching digest and its submit and approval leaves with matching leaf
# hashes. A copy of the line folder without the station key (an auditor's)
# reads leaves under the line's station.pub and refuses them, as the station
# does; audit verify names the leaf. A role raised by SQL approves nothing.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite() {
	local label=$1 pg_url=${3:-}
	line_with_release "$@" || return
	# leaf_text SEQ: the leaf's bytes (JSON text); set_leaf SEQ HEX HASH-HEX: bytes and hash.
	leaf_text() {
		if [ -n "$pg_url" ]; then sql "SELECT convert_from(leaf, 'UTF8') FROM audit_leaves WHERE seq = $1"
		else sql "SELECT CAST(leaf AS TEXT) FROM audit_leaves WHERE seq = $1"; fi
	}
	set_leaf() {
		if [ -n "$pg_url" ]; then
			sql "UPDATE audit_leaves SET leaf = decode('$2', 'hex'), leaf_hash = decode('$3', 'hex') WHERE seq = $1"
		else sql "UPDATE audit_leaves SET leaf = X'$2', leaf_hash = X'$3' WHERE seq = $1"; fi
	}
	sed 's/^version: 1$/version: 2/' line/sops/provision.yaml >provision-2.yaml
	"$L" sop submit --as sam provision-2.yaml >/dev/null || bad "$label: provision version 2 submitted"

	# A supervisor raised to security officer by SQL approves nothing.
	local added
	added=$(sql "SELECT MAX(seq) FROM audit_leaves WHERE action = 'person-update'")
	sql "UPDATE people SET role = 'security-officer' WHERE name = 'sam'" >/dev/null
	expect 5 "$label: a role raised by SQL cannot approve a SOP version" \
		env LINESEC_PASSWORD=sam-pw-1234 "$L" sop approve --as sam provision 2
	has "registry table people holds person 'sam' with role security-officer, but leaf $added (person-update) records role supervisor" \
		err.txt "$label: the table, person and leaf are named"
	check "$label: no approval was recorded" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'sop.approve'\")\" = 8 ]"
	sql "UPDATE people SET role = 'supervisor' WHERE name = 'sam'" >/dev/null

	# The approved body rewritten, and each leaf recording its digest with it.
	local orig new seq text hash hex
	orig=$(sha256sum line/sops/flash.yaml | cut -d' ' -f1)
	new=$({ cat line/sops/flash.yaml; printf '# nobody approved this\n'; } | sha256sum | cut -d' ' -f1)
	sql "UPDATE sop_versions SET body = body || '# nobody approved this
', digest = '$new' WHERE sop = 'flash' AND version = '1'" >/dev/null
	local forged
	forged=$(sql "SELECT MIN(seq) FROM audit_leaves WHERE action = 'sop.submit'")
	for seq in $(sql "SELECT seq FROM audit_leaves WHERE action IN ('sop.submit', 'sop.approve')"); do
		text=$(leaf_text "$seq" | sed "s/$orig/$new/")
		hash=$({ printf '\0'; printf '%s' "$text"; } | sha256sum | cut -d' ' -f1)
		hex=$(printf '%s' "$text" | od -An -v -tx1 | tr -d ' \n')
		set_leaf "$seq" "$hex" "$hash" >/dev/null
	done

	# An auditor's copy: the line folder without the station key.
	cp -a line copy
	rm -f copy/station.key
	expect 5 "$label: the keyless copy refuses the rewritten SOP" \
		env LINESEC_LINE="$PWD/copy" "$L" sop show flash --version 1
	has "leaf $forged is bad: its signature by station key [0-9a-f]* does not verify" \
		err.txt "$label: the keyless copy names the forged leaf"
	check "$label: the unapproved body was not printed" "! grep -q 'nobody approved' out.txt"
	rm -f copy/station.pub
	expect 5 "$label: without any station key nothing is read" \
		env LINESEC_LINE="$PWD/copy" "$L" sop list
	has "no trusted station keys are attached to the registry" err.txt \
		"$label: the refusal says no station keys are trusted"
	expect 5 "$label: the station refuses the rewritten SOP" "$L" sop show flash --version 1
	has "leaf $forged is bad: its signature by station key [0-9a-f]* does not verify" err.txt \
		"$label: the station names the forged leaf"
	expect 5 "$label: audit verify refuses" "$L" audit verify
	has "leaf $forged is bad" err.txt "$label: audit verify names the forged leaf"
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
