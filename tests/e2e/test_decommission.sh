#!/usr/bin/env bash
# SOP 5 end to end through the public commands: a failed unit wiped and
# blank-checked, a clone refused as a return, a genuine locked return erased
# with the UID-bound token signed by the product's debug-authentication key, an unreachable unit revoked only, the CRL carrying
# the reasons, a witnessed batch scrap with its photo, the sanitisation
# report, and the log verifying.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
export LINESEC_CA_PASSPHRASE="e2e CA passphrase"
login() { LINESEC_PASSWORD="$1-e2e-password" "$L" login "$1" >/dev/null || bad "login $1"; }
person() { add_person alice alice-e2e-password bob bob-e2e-password "$1" "$2" "$1-e2e-password"; }
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-e2e-password

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	echo "== $label"
	mkdir -p "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	export LINESEC_LINE="$e2e_dir/$label/line"
	# A line: people, CA, release, the five SOPs, four units (3 fails to boot, 4 clones 1's UID).
	LINESEC_PASSWORD=alice-e2e-password LINESEC_SECOND_PASSWORD=bob-e2e-password "$L" init --dir line \
		--line-id line1 --station-id st1 --admin alice --second-officer bob "$@" >/dev/null || bad init
	login alice
	login bob
	person sam supervisor
	person olga operator
	"$L" ca init --as alice --ca line/ca --cn "E2E CA" --days 10950 >/dev/null || bad "ca init"
	"$L" keygen --out fw.pem >/dev/null && "$L" pubkey fw.pem --out fw.pub.pem >/dev/null || bad keys
	head -c 4096 /dev/urandom >fw.bin
	"$L" image sign --key fw.pem --product sensor --version 1.0.0 --build release --security-counter 1 \
		--embed-pubkey fw.bin fw.img >/dev/null || bad sign
	login sam
	for s in flash provision secure-boot debug-lock decommission; do
		"$L" sop submit --as sam "line/sops/$s.yaml" >/dev/null || bad "submit $s"
		LINESEC_PASSWORD=alice-e2e-password "$L" sop approve --as alice "$s" 1 >/dev/null &&
			LINESEC_PASSWORD=bob-e2e-password "$L" sop approve --as bob "$s" 1 >/dev/null || bad "approve $s"
	done
	LINESEC_PASSWORD=alice-e2e-password "$L" product key submit --as alice sensor fw.pub.pem >/dev/null
	LINESEC_PASSWORD=bob-e2e-password "$L" product key approve --as bob sensor@1 >/dev/null
	# The debug-authentication key: erases locked units, kept by the station encrypted.
	"$L" keygen --type ecdsa-p256 --out dbg.pem >/dev/null
	LINESEC_PASSWORD=alice-e2e-password LINESEC_DEBUG_AUTH_PASSPHRASE="e2e debug-auth passphrase" \
		"$L" product key submit --as alice --purpose debug-auth sensor dbg.pem >/dev/null &&
		LINESEC_PASSWORD=bob-e2e-password "$L" product key approve --as bob sensor@debug-auth-1 >/dev/null ||
		bad "debug-auth key"
	LINESEC_PASSWORD=alice-e2e-password "$L" release submit --as alice fw.img --product sensor >/dev/null &&
		LINESEC_PASSWORD=bob-e2e-password "$L" release approve --as bob sensor@1.0.0 >/dev/null || bad release
	echo '{"3": "boot_fail=5"}' >faults.json
	"$L" sim new --count 4 --dir fleet --seed 11 --fault-plan faults.json --clone 1:4 >/dev/null || bad "sim new"
	"$L" logout alice >/dev/null
	"$L" logout bob >/dev/null
	login olga
	ack_sops olga olga-e2e-password
	for i in 1 2; do
		expect 0 "unit-00$i built and shipped" "$L" build --as olga --device "sim:fleet/unit-00$i.sim" --batch
	done
	expect 9 "unit-003 fails its build and is quarantined" "$L" build --as olga --device sim:fleet/unit-003.sim --batch

	# A failed unit, reachable with its debug port open: erased and blank-checked.
	expect 0 "failed unit decommissioned" "$L" decommission unit-003 --as olga --reason failed --device sim:fleet/unit-003.sim
	has "unit unit-003: decommissioned" out.txt "reports decommissioned"
	expect 2 "unknown reason refused" "$L" decommission unit-002 --as olga --reason lost
	expect 9 "a shipped unit at hand is received as a return first" "$L" decommission unit-001 --as olga --reason returned --device sim:fleet/unit-001.sim

	# Returns: the clone carries unit-001's UID but not its key.
	expect 8 "clone presented as a return refused" "$L" rma receive unit-001 --as olga --device sim:fleet/unit-004.sim
	has "refused as the return of 'unit-001'" err.txt "names the claimed unit"
	expect 0 "genuine return received" "$L" rma receive unit-001 --as olga --device sim:fleet/unit-001.sim --json
	has '"genuine":true' out.txt "genuine in the evidence"

	# The locked return: without the debug-auth key's passphrase the erase step fails and
	# the unit stays pending; the firmware signing key is no longer taken.
	expect 9 "locked unit without the debug-auth passphrase" "$L" decommission unit-001 --as olga --reason returned --device sim:fleet/unit-001.sim
	has "decommission pending" err.txt "the SOP's words for the failed erase"
	expect 2 "--erase-key refused" "$L" decommission unit-001 --as olga --reason returned \
		--device sim:fleet/unit-001.sim --erase-key fw.pem
	has "debug-authentication key" err.txt "the refusal says what replaced it"
	export LINESEC_DEBUG_AUTH_PASSPHRASE="e2e debug-auth passphrase"
	# The station is killed right after the revocation (test hook): run again, nothing is doubled.
	LINESEC_TEST_CRASH_AT=decommission:revoke:acted "$L" decommission unit-001 --as olga --reason returned \
		--device sim:fleet/unit-001.sim >/dev/null 2>&1
	[ $? -eq 137 ] && ok "station killed after the revocation" || bad "crash hook did not fire"
	expect 0 "locked unit erased with the UID-bound token" "$L" decommission unit-001 --as olga --reason returned \
		--device sim:fleet/unit-001.sim --json
	has '"state":"decommissioned"' out.txt "decommissioned"
	unset LINESEC_DEBUG_AUTH_PASSPHRASE

	# Registry write access cannot aim a revocation: unit-001's identity row
	# moved to unit-002, or unit-002's own row deleted, stops its
	# decommissioning before anything is revoked.
	local pg_url=${2:-} db=line/registry.db
	local u1 u2
	u1=$(reg_sql "$pg_url" $db "SELECT id FROM units WHERE serial = 'unit-001'")
	u2=$(reg_sql "$pg_url" $db "SELECT id FROM units WHERE serial = 'unit-002'")
	reg_sql "$pg_url" $db "CREATE TABLE saved_ids AS SELECT * FROM identities WHERE unit_id IN ($u1, $u2)" >/dev/null
	reg_sql "$pg_url" $db "UPDATE identities SET unit_id = $u2 WHERE unit_id = $u1" >/dev/null
	expect 5 "an identity row moved by SQL stops the revocation" "$L" decommission unit-002 --as olga --reason compromised
	has "registry table identities holds certificate .* but no audit leaf of the unit records its issuance" err.txt "names the table and the row"
	reg_sql "$pg_url" $db "UPDATE identities SET unit_id = $u1 WHERE key_fp IN (SELECT key_fp FROM saved_ids WHERE unit_id = $u1);
		DELETE FROM identities WHERE unit_id = $u2" >/dev/null
	expect 5 "a deleted identity row stops the revocation" "$L" decommission unit-002 --as olga --reason compromised
	has "records certificate .* issued to it, but registry table identities holds no such row" err.txt "names the leaf"
	reg_sql "$pg_url" $db "INSERT INTO identities SELECT * FROM saved_ids WHERE unit_id = $u2" >/dev/null
	# unit-001's certificate DER copied into unit-002's row, whose serial and
	# key columns still match the log: the certificate parsed from the row is
	# not the one the log issued, and nothing is revoked in its name.
	reg_sql "$pg_url" $db "UPDATE identities SET cert_der = (SELECT cert_der FROM saved_ids
		WHERE unit_id = $u1 AND cert_der IS NOT NULL LIMIT 1) WHERE unit_id = $u2" >/dev/null
	expect 5 "a certificate swapped inside an identity row stops the revocation" "$L" decommission unit-002 --as olga --reason compromised
	has "holds, in the row of certificate .*, the certificate .* of key" err.txt "names the row and the swapped certificate"
	reg_sql "$pg_url" $db "DELETE FROM identities WHERE unit_id = $u2;
		INSERT INTO identities SELECT * FROM saved_ids WHERE unit_id = $u2; DROP TABLE saved_ids" >/dev/null
	[ "$(reg_sql "$pg_url" $db "SELECT state FROM units WHERE serial = 'unit-002'")" = shipped ] &&
		ok "unit-002 untouched by the refused runs" || bad "unit-002 changed by a refused decommission"

	# Lost in the field (shipped, unreachable): revoked only, not wiped, pending destruction.
	expect 0 "unreachable unit revoked only" "$L" decommission unit-002 --as olga --reason compromised

	# The CRL carries both revocations with their reasons.
	if command -v openssl >/dev/null; then
		openssl crl -in line/crl/line.crl.pem -noout -text >crl.txt 2>&1
		has "Cessation Of Operation" crl.txt "CRL: cessationOfOperation"
		has "Key Compromise" crl.txt "CRL: keyCompromise"
		[ "$(grep -c 'Serial Number' crl.txt)" -eq 2 ] && ok "each identity revoked once" || bad "CRL entries: $(grep -c 'Serial Number' crl.txt)"
	fi

	# Scrap: the operator destroys, the supervisor witnesses; all or nothing.
	printf 'photo of shredded boards' >boards.jpg
	"$L" logout sam >/dev/null
	expect 8 "scrap without a witness refused" "$L" scrap unit-001 unit-003 --as olga --method shred
	login sam
	expect 6 "a batch with a unit not registered refused" "$L" scrap unit-001 unit-004 --as olga --method shred
	expect 2 "unknown method refused" "$L" scrap unit-001 --as olga --method microwave
	expect 0 "batch scrap with photo" "$L" scrap unit-001 unit-003 --as olga --method shred --photo boards.jpg
	has "witnessed by sam" out.txt "witness named"
	sha=$(sha256sum boards.jpg | cut -d' ' -f1)
	[ -f "line/evidence/$sha.jpg" ] && ok "photo kept under its SHA-256" || bad "photo not kept"
	expect 9 "scrapped twice refused" "$L" scrap unit-001 --as olga --method shred
	expect 8 "a method other than the SOP's refused" "$L" scrap unit-002 --as olga --method crush
	grep -q "destroys units by 'shred', not 'crush'" err.txt || bad "method refusal names the SOP's method"

	# The sanitisation record.
	expect 0 "report scrap" "$L" report scrap --as sam
	has "unit-001.*destroy.*scrapped" out.txt "unit-001 destroyed"
	has "witnessed by sam" out.txt "witness in the report"
	has "pending destruction: unit-002" out.txt "unit-002 still pending"
	expect 0 "report scrap --json" "$L" report scrap --as sam --json --since 2000-01-01
	has '"status":"decommissioned, not wiped, pending destruction"' out.txt "not wiped shown"
	has "\"photo-sha256\":\"$sha\"" out.txt "photo digest in the record"
	has '"sanitisation":"purge"' out.txt "purge recorded for the wipe"
	expect 2 "bad --since refused" "$L" report scrap --as sam --since yesterday

	expect 0 "audit log verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
