#!/usr/bin/env bash
# A unit's state is what its leaves say. Someone with write access to the
# registry alone sets a decommissioned unit back to flashed (to provision it
# again and ship it with a new identity) and a quarantined one to locked (to
# ship it): each run and the ship gate compare the row with the unit's latest
# state leaf and refuse (exit 5) naming the table, the unit and the leaf
# (the ship gate, which reads the device first, refuses there). Decommissioning
# and returns act on the state and UID the leaves prove too. A unit's product
# rewritten by SQL (a sensor made a meter, to be fused for meter's release)
# stops every run, naming the row and its unit.register leaf.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite() {
	local label=$1
	line_with_release "$@" || return
	"$L" sop submit --as sam line/sops/decommission.yaml >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice decommission 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob decommission 1 >/dev/null
	ack_sops olga olga-pw-123 decommission
	"$L" sim new --count 5 --dir fleet --seed 21 >/dev/null
	expect 0 "$label: unit-001 flashed" "$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	expect 0 "$label: unit-001 decommissioned" "$L" decommission unit-001 --as olga --reason failed
	sql "UPDATE units SET state = 'flashed' WHERE serial = 'unit-001'" >/dev/null
	expect 5 "$label: the decommissioned unit is not provisioned again" \
		"$L" run provision --as olga --batch --device sim:fleet/unit-001.sim
	has "registry table units holds unit 'unit-001' in state flashed, but its latest state leaf [0-9]* moved it to decommissioned" \
		err.txt "$label: the refusal names the row and the leaf"
	check "$label: no certificate was issued" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM identities i JOIN units u ON u.id = i.unit_id WHERE u.serial = 'unit-001'\")\" = 0 ]"

	# A unit quarantined by a failed run, set to locked by SQL, does not ship.
	expect 0 "$label: unit-002 flashed" "$L" run flash --as olga --batch --device sim:fleet/unit-002.sim
	sql "UPDATE units SET state = 'quarantined' WHERE serial = 'unit-002'" >/dev/null
	expect 5 "$label: a state the leaves never recorded stops the next run" \
		"$L" run provision --as olga --batch --device sim:fleet/unit-002.sim
	has "in state quarantined, but its latest state leaf [0-9]* moved it to flashed" err.txt \
		"$label: the quarantine by SQL is named too"
	sql "UPDATE units SET state = 'locked' WHERE serial = 'unit-002'" >/dev/null
	# The gate reads the device first: this one never got its identity.
	expect 8 "$label: the unit set to locked by SQL does not ship" \
		"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim
	expect 5 "$label: audit verify names the row" "$L" audit verify
	# Decommissioning and returns act on the state and UID the leaves prove:
	# unit-002, set to locked by SQL above, is not decommissioned, and set
	# to returned it is not reworked (which would revoke what it holds).
	expect 5 "$label: decommissioning refuses a state set by SQL" \
		"$L" decommission unit-002 --as olga --reason failed --device sim:fleet/unit-002.sim
	has "registry table units holds unit 'unit-002' in state locked, but its latest state leaf [0-9]* moved it to flashed" \
		err.txt "$label: decommissioning names the row and the leaf"
	sql "UPDATE units SET state = 'returned' WHERE serial = 'unit-002'" >/dev/null
	expect 5 "$label: a unit set to returned by SQL is not reworked" "$L" rma rework --as olga unit-002
	has "in state returned, but its latest state leaf [0-9]* moved it to flashed" err.txt \
		"$label: rework names the row and the leaf"
	sql "UPDATE units SET state = 'flashed' WHERE serial = 'unit-002'" >/dev/null
	# Another chip's UID put in unit-002's row does not get that chip wiped
	# and recorded as unit-002's decommissioning.
	"$L" sim new --count 1 --dir other --seed 77 >/dev/null
	local other uid2
	other=$("$L" sim show other/unit-001.sim | sed -n 's/^UID \([0-9a-f]*\),.*/\1/p')
	uid2=$(sql "SELECT uid FROM units WHERE serial = 'unit-002'")
	sql "UPDATE units SET uid = '$other' WHERE serial = 'unit-002'" >/dev/null
	expect 5 "$label: decommissioning refuses a UID changed by SQL" \
		"$L" decommission unit-002 --as olga --reason failed --device sim:other/unit-001.sim
	has "registry table units holds unit 'unit-002' with UID $other, but its unit.register leaf [0-9]* registered UID" \
		err.txt "$label: the refusal names the row and the leaf"
	check "$label: unit-002 is not decommissioned" \
		"[ \"\$(sql \"SELECT state FROM units WHERE serial = 'unit-002'\")\" = flashed ]"
	expect 5 "$label: audit verify names the UID" "$L" audit verify
	cat out.txt err.txt >verify.txt
	has "registry table units, row .unit-002.: uid is .$other." verify.txt "$label: verify names the row and column"
	sql "UPDATE units SET uid = '$uid2' WHERE serial = 'unit-002'" >/dev/null
	# Set to decommissioned by SQL, the unit (identity never revoked) is not
	# recorded destroyed.
	sql "UPDATE units SET state = 'decommissioned' WHERE serial = 'unit-002'" >/dev/null
	expect 5 "$label: a unit set to decommissioned by SQL is not scrapped" \
		"$L" scrap unit-002 --as olga --method shred
	has "in state decommissioned, but its latest state leaf [0-9]* moved it to flashed" err.txt \
		"$label: scrap names the row and the leaf"
	check "$label: no scrap record was written" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM scrap_records\")\" = 0 ]"
	sql "UPDATE units SET state = 'flashed' WHERE serial = 'unit-002'" >/dev/null

	# unit-005, registered as a sensor, is rewritten a meter by SQL: no run builds it
	# as one (nothing is provisioned, no fuse burnt) and the refusal names the leaf.
	cp line/line.yaml line.yaml.one
	printf '  - id: meter\n    target: "sim://"\n' >>line/line.yaml
	expect 0 "$label: unit-005 flashed as a sensor" \
		"$L" run flash --as olga --batch --product sensor --device sim:fleet/unit-005.sim
	sql "UPDATE units SET product = 'meter' WHERE serial = 'unit-005'" >/dev/null
	expect 5 "$label: a product rewritten by SQL stops provisioning" \
		"$L" run provision --as olga --batch --device sim:fleet/unit-005.sim
	has "registry table units holds unit 'unit-005' with product meter, but its unit.register leaf [0-9]* registered product sensor" \
		err.txt "$label: the refusal names the row and the leaf"
	has "set the row's product back to sensor" err.txt "$label: and what to do"
	expect 5 "$label: and secure boot" \
		"$L" run secure-boot --as olga --batch --device sim:fleet/unit-005.sim
	check "$label: no certificate was issued to unit-005" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM identities i JOIN units u ON u.id = i.unit_id WHERE u.serial = 'unit-005'\")\" = 0 ]"
	expect 5 "$label: nor is it decommissioned as a meter" \
		"$L" decommission unit-005 --as olga --reason failed
	sql "UPDATE units SET product = 'sensor' WHERE serial = 'unit-005'" >/dev/null
	expect 0 "$label: restored, the row is the leaf's again" \
		"$L" run provision --as olga --batch --device sim:fleet/unit-005.sim
	cp line.yaml.one line/line.yaml

	# A release's quota is counted from the signed log: unit-003's run moved
	# to another release by SQL does not free unit-003's place.
	"$L" image sign --key fw.pem --product sensor --version 2.0.1 --build release \
		--security-counter 2 --embed-pubkey app.bin q.img >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice q.img --product sensor --quota 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@2.0.1 >/dev/null
	expect 0 "$label: unit-003 flashed under the release of quota 1" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-003.sim
	expect 8 "$label: the quota stops unit-004" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-004.sim
	sql "UPDATE runs SET release = 'sensor@2.0.0' WHERE release = 'sensor@2.0.1'" >/dev/null
	expect 5 "$label: with the run's release changed by SQL the quota still stops unit-004" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-004.sim
	has "registry table runs holds flash runs of 0 other units under release sensor@2.0.1, but the signed index files the first flash of 1 other units under 'release:sensor@2.0.1'" \
		err.txt "$label: the table and the index key are named"
	expect 5 "$label: audit verify names the run's release" "$L" audit verify
	cat out.txt err.txt >verify.txt
	has "registry table runs, row .[0-9]*.: release is .sensor@2.0.0., but leaf [0-9]* says .sensor@2.0.1." verify.txt \
		"$label: the run and its release column are named"
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
