#!/usr/bin/env bash
# The device, not only the records: (i) a unit's chip swapped after
# provisioning for a clone (same UID, empty key slots) is quarantined by the
# secure-boot SOP's identify step before anything is written to it; (ii) a
# unit set to locked by SQL while its secure-boot fuses or its debug port
# are still open is refused by `linesec ship --device`, naming the device
# check. On SQLite and PostgreSQL.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
export LINESEC_CA_PASSPHRASE="e2e CA passphrase"
login() { LINESEC_PASSWORD="$1-e2e-password" "$L" login "$1" >/dev/null || bad "login $1"; }
person() { add_person alice alice-e2e-password bob bob-e2e-password "$1" "$2" "$1-e2e-password"; }
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-e2e-password
files_sha() { sha256sum "$@" | cut -d' ' -f1 | paste -sd, -; }

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	local pg_url=${2:-} db=line/registry.db
	echo "== $label"
	mkdir -p "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	export LINESEC_LINE="$e2e_dir/$label/line"
	# A line: people, CA, release, the build SOPs, four units (2 clones 1's UID).
	LINESEC_PASSWORD=alice-e2e-password LINESEC_SECOND_PASSWORD=bob-e2e-password "$L" init --dir line --line-id line1 --station-id st1 --admin alice --second-officer bob "$@" >/dev/null || bad init
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
	"$L" sim new --count 4 --dir fleet --seed 11 --clone 1:2 >/dev/null || bad "sim new"
	"$L" logout alice >/dev/null
	"$L" logout bob >/dev/null
	login olga
	ack_sops olga olga-e2e-password

	# (i) unit-001 flashed and provisioned, then its chip swapped for the
	# clone: same UID, no key. Secure boot's identify step asks it to sign a
	# fresh challenge with the certified key and quarantines it; not a fuse
	# is burned on the clone.
	for s in flash provision; do
		expect 0 "unit-001 $s" "$L" run "$s" --as olga --batch --device sim:fleet/unit-001.sim
	done
	local clone_before
	clone_before=$(files_sha fleet/unit-002.sim fleet/unit-002.sim.flash)
	expect 9 "the swapped-in clone is quarantined at secure boot's identify step" \
		"$L" run secure-boot --as olga --batch --device sim:fleet/unit-002.sim --serial unit-001
	has "step 'identify' of SOP 'secure-boot' failed" err.txt "names the identify step"
	has "does not prove possession of its issued key" err.txt "says the key is not proven"
	has "key slot 0 does not verify under certificate" err.txt "names the slot and the certificate"
	[ "$(files_sha fleet/unit-002.sim fleet/unit-002.sim.flash)" = "$clone_before" ] &&
		ok "nothing was written to the clone" || bad "the clone's state changed"
	[ "$(reg_sql "$pg_url" $db "SELECT state FROM units WHERE serial = 'unit-001'")" = quarantined ] &&
		ok "unit-001 quarantined" || bad "unit-001 not quarantined"
	expect 0 "unit show unit-001" "$L" unit show unit-001 --as olga --json
	has "does not prove possession of its issued key" out.txt "the failed identify is in the unit's record"

	# (ii) registry write access alone: unit-003 (flashed and provisioned,
	# its fuses open) and unit-004 (secured, its debug port open) set to
	# locked by SQL. The gate reads the device and refuses, naming the check.
	for s in flash provision; do
		expect 0 "unit-003 $s" "$L" run "$s" --as olga --batch --device sim:fleet/unit-003.sim
	done
	for s in flash provision secure-boot; do
		expect 0 "unit-004 $s" "$L" run "$s" --as olga --batch --device sim:fleet/unit-004.sim
	done
	reg_sql "$pg_url" $db "UPDATE units SET state = 'locked' WHERE serial IN ('unit-003', 'unit-004')" >/dev/null
	expect 2 "ship without the unit seated is refused" "$L" ship unit-003 --as olga
	expect 8 "unit-003 with open fuses refused" "$L" ship unit-003 --as olga --device sim:fleet/unit-003.sim
	has "device check 'secure-boot fuses' failed: the device reads SECURE_BOOT_EN 0" err.txt \
		"names the fuse check and what the device read"
	expect 8 "unit-004 with an open debug port refused" "$L" ship unit-004 --as olga --device sim:fleet/unit-004.sim
	has "device check 'debug lock' failed: a debug attach was accepted (lock level 0)" err.txt \
		"names the debug check and what the device did"
	expect 8 "unit-004 presented by the clone's chip refused" "$L" ship unit-004 --as olga --device sim:fleet/unit-002.sim
	has "device check 'uid' failed: the device reports UID" err.txt "names the UID check"
	for u in unit-003 unit-004; do
		[ "$(reg_sql "$pg_url" $db "SELECT state FROM units WHERE serial = '$u'")" = locked ] &&
			ok "$u not shipped" || bad "$u changed by a refused ship"
	done
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
