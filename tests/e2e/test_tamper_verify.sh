#!/usr/bin/env bash
# `audit verify` costs what came since it last ran, and still names every
# tampering: the station remembers what it verified (verified.json, signed
# with its key) and next time checks and replays only the later leaves,
# comparing every row. With write access to the registry alone (sqlite3,
# or SQL on PostgreSQL): a row changed after the last verify is named; an
# old leaf rewritten (bytes and hash) makes the walk start from scratch,
# which names it; a tampered or swapped verified.json is refused, and
# `--full` verifies from scratch and records anew.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
person() { add_person alice alice-e2e-password bob bob-e2e-password "$1" "$2" "$1-e2e-password"; }
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-e2e-password

# hex_of SEQ: the stored bytes of leaf SEQ as lowercase hex.
hex_of() {
	if [ -n "$pg_url" ]; then reg_sql "$pg_url" "" "SELECT encode(leaf, 'hex') FROM audit_leaves WHERE seq = $1"
	else reg_sql "" line/registry.db "SELECT lower(hex(leaf)) FROM audit_leaves WHERE seq = $1"; fi
}
# put_leaf SEQ TEXT: replaces leaf SEQ's bytes with TEXT and its hash with TEXT's leaf hash.
put_leaf() {
	local hex hash
	hex=$(printf '%s' "$2" | xxd -p | tr -d '\n')
	hash=$( (printf '\000'; printf '%s' "$2") | openssl dgst -sha256 -binary | xxd -p | tr -d '\n')
	reg_sql "$pg_url" line/registry.db "UPDATE audit_leaves SET leaf = $(blob "$hex"),
		leaf_hash = $(blob "$hash") WHERE seq = $1" >/dev/null || bad "rewrite leaf $1"
}

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	suite_start "$label" alice-e2e-password bob-e2e-password "$@" || return
	person olga operator
	expect 0 "$label: the first verify walks every leaf" "$L" audit verify --json
	has '"verified_before":0' out.txt "$label: nothing was verified before"
	check "$label: the station remembers what it verified" "[ -f line/verified.json ]"
	local n
	n=$(reg_sql "$pg_url" line/registry.db "SELECT COUNT(*) FROM audit_leaves")
	person sam supervisor
	expect 0 "$label: the next verify checks only the new leaves" "$L" audit verify
	has "checked from leaf $n on" out.txt "$label: it says where it started"

	# A row changed after the last verify is named by the incremental verify.
	reg_sql "$pg_url" line/registry.db "UPDATE people SET role = 'security-officer' WHERE name = 'olga'" >/dev/null
	expect 5 "$label: verify after a row was changed" "$L" audit verify
	has "checked from leaf" out.txt "$label: that verify was incremental"
	has "registry table people, row 'olga': role is 'security-officer', but leaf [0-9]* says 'operator'" \
		out.txt "$label: the changed row, its column and its leaf are named"
	reg_sql "$pg_url" line/registry.db "UPDATE people SET role = 'operator' WHERE name = 'olga'" >/dev/null
	expect 0 "$label: verifies once the row is put back" "$L" audit verify

	# An old leaf rewritten, bytes and hash: named although it was verified before.
	local old text
	old=$(hex_of 1)
	text=$(printf '%s' "$old" | xxd -r -p)
	put_leaf 1 "${text/security-officer/supervisor}"
	expect 5 "$label: verify after an old leaf was rewritten" "$L" audit verify
	has "leaf 1 is bad: its signature" err.txt "$label: the rewritten leaf is named"
	put_leaf 1 "$text"
	expect 0 "$label: verifies once the leaf is put back" "$L" audit verify

	# The remembered record tampered with: refused; --full verifies and records anew.
	cp line/verified.json good.json
	sed 's/"tree_size":[0-9]*/"tree_size":1/' good.json >line/verified.json
	expect 5 "$label: a tampered verified.json is refused" "$L" audit verify
	has "verified.json' (what this station verified last) is not signed by this station's key" \
		err.txt "$label: the record is named"
	expect 0 "$label: --full verifies from scratch" "$L" audit verify --full --json
	has '"verified_before":0' out.txt "$label: --full walked every leaf"
	expect 0 "$label: and recorded anew" "$L" audit verify
	has "checked from leaf" out.txt "$label: the next verify is incremental again"
	# Another line's record (its own station key) put in its place: refused.
	LINESEC_PASSWORD=x-e2e-password LINESEC_SECOND_PASSWORD=y-e2e-password "$L" init --dir other \
		--admin x --second-officer y >/dev/null || bad "init other"
	LINESEC_LINE="$PWD/other" "$L" audit verify >/dev/null || bad "verify other"
	cp other/verified.json line/verified.json
	expect 5 "$label: another line's verified.json is refused" "$L" audit verify
	has "is not signed by this station's key" err.txt "$label: the swapped record is named"
	expect 0 "$label: --read-only verifies from scratch without it" "$L" audit verify --read-only
	cp good.json line/verified.json
	expect 0 "$label: the good record works again" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
