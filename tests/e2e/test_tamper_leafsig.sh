#!/usr/bin/env bash
# A leaf appended by SQL never becomes trusted. With write access to the
# registry alone (sqlite3 on registry.db, or SQL on PostgreSQL) and without
# the station key, a well-formed leaf with the right seq and a correct
# leaf_hash is appended for a locked unit; then the station refuses to sign a
# checkpoint over it, the ship gate refuses, and 'audit verify' names the
# leaf. A real leaf's signature copied onto the appended one is refused too.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
export LINESEC_CA_PASSPHRASE="e2e CA passphrase"
login() { LINESEC_PASSWORD="$1-e2e-password" "$L" login "$1" >/dev/null || bad "login $1"; }
person() { add_person alice alice-e2e-password bob bob-e2e-password "$1" "$2" "$1-e2e-password"; }
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-e2e-password

# hex_of SQL-EXPRESSION-OF-A-BLOB: the registry's bytes as lowercase hex.
hex_of() {
	if [ -n "$pg_url" ]; then reg_sql "$pg_url" "" "SELECT encode($1, 'hex') FROM audit_leaves $2"
	else reg_sql "" line/registry.db "SELECT lower(hex($1)) FROM audit_leaves $2"; fi
}

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	suite_start "$label" alice-e2e-password bob-e2e-password --line-id line1 --station-id st1 \
		"$@" || return
	person sam supervisor
	person olga operator
	"$L" ca init --as alice --ca line/ca --cn "E2E CA" --days 10950 >/dev/null || bad "ca init"
	"$L" keygen --out fw.pem >/dev/null && "$L" pubkey fw.pem --out fw.pub.pem >/dev/null || bad keys
	head -c 4096 /dev/urandom >fw.bin
	"$L" image sign --key fw.pem --product sensor --version 1.0.0 --build release --security-counter 1 \
		--embed-pubkey fw.bin fw.img >/dev/null || bad sign
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
	"$L" sim new --count 1 --dir fleet --seed 5 >/dev/null || bad "sim new"
	login olga
	ack_sops olga olga-e2e-password
	# unit-001 runs its four SOPs one at a time: locked, not shipped yet.
	for s in flash provision secure-boot debug-lock; do
		"$L" run "$s" --as olga --batch --device sim:fleet/unit-001.sim >/dev/null || bad "run $s"
	done
	expect 0 "the untampered log verifies" "$L" audit verify
	expect 0 "a checkpoint is signed over it" "$L" audit checkpoint --as olga

	# The attack: the next leaf, well-formed, for unit-001, with its correct leaf hash,
	# filed under its unit and action as linesec files a leaf.
	local seq leaf leaf_hex hash
	seq=$(reg_sql "$pg_url" line/registry.db "SELECT MAX(seq) + 1 FROM audit_leaves")
	leaf=$(printf '{"action":"ship-gate","evidence":{},"outcome":"pass","person":"olga","seq":%s,"station":"st1","time":"2030-01-01T00:00:00Z","unit":"unit-001"}' "$seq")
	leaf_hex=$(printf '%s' "$leaf" | xxd -p | tr -d '\n')
	hash=$( (printf '\000'; printf '%s' "$leaf") | openssl dgst -sha256 -binary | xxd -p | tr -d '\n')
	reg_sql "$pg_url" line/registry.db "INSERT INTO audit_leaves (seq, unit, action, leaf, leaf_hash, created)
		VALUES ($seq, 'unit-001', 'ship-gate', $(blob "$leaf_hex"), $(blob "$hash"), '2030-01-01T00:00:00Z')" >/dev/null ||
		bad "append the leaf by SQL"
	check "the appended leaf's hash is the one linesec computes" \
		"[ \"\$(hex_of leaf_hash 'WHERE seq = $seq')\" = \"$hash\" ]"

	expect 5 "audit checkpoint refuses to sign over the appended leaf" "$L" audit checkpoint --as olga
	has "leaf $seq is not signed by any station" err.txt "audit checkpoint names the leaf"
	expect 5 "ship of the unit refuses (reading its leaves)" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	has "leaf $seq is not signed by any station" err.txt "ship names the leaf"
	expect 5 "audit verify refuses" "$L" audit verify
	has "leaf $seq is not signed by any station" err.txt "audit verify names the leaf"
	check "no checkpoint covers the appended leaf" \
		"[ \"\$(reg_sql '$pg_url' line/registry.db 'SELECT COUNT(*) FROM checkpoints WHERE tree_size > $seq')\" = 0 ]"
	check "the unit was not shipped" \
		"[ \"\$(reg_sql '$pg_url' line/registry.db \"SELECT state FROM units WHERE serial = 'unit-001'\")\" = locked ]"

	# A real leaf's signature (the line's first) copied onto the appended one.
	reg_sql "$pg_url" line/registry.db "UPDATE audit_leaves SET leaf_sig =
		(SELECT leaf_sig FROM audit_leaves WHERE seq = 0) WHERE seq = $seq" >/dev/null || bad "copy a signature"
	expect 5 "audit checkpoint refuses a copied signature" "$L" audit checkpoint --as olga
	has "leaf $seq is bad: its signature by station key .* does not verify" err.txt "checkpoint names the leaf with the copied signature"
	expect 5 "ship refuses a copied signature (reading its leaves)" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	has "leaf $seq is bad" err.txt "ship names the leaf with the copied signature"
	expect 5 "audit verify refuses a copied signature" "$L" audit verify
	has "leaf $seq is bad: its signature" err.txt "audit verify names the leaf with the copied signature"

	# Removed again, the line works: the refusals were the appended leaf's alone.
	reg_sql "$pg_url" line/registry.db "DELETE FROM audit_leaves WHERE seq = $seq" >/dev/null
	expect 0 "the restored log verifies" "$L" audit verify
	expect 0 "the unit ships from the restored log" "$L" ship --as olga unit-001 --device sim:fleet/unit-001.sim
	"$L" logout olga >/dev/null
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
