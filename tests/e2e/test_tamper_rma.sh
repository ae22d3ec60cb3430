#!/usr/bin/env bash
# Returns are proven against the log: someone with write access to the
# registry alone (sqlite3, or SQL on a shared PostgreSQL) moves the identity
# rows of two shipped units, so the registry pairs unit-001 with unit-002's
# certificate and key (a clone of unit-002 carrying unit-001's UID would
# then "prove possession"). `rma receive` refuses the return, naming the
# table and the ca.issue leaf; with the registry put back the genuine unit
# is received.
#
# Index columns: a release.revoke leaf hidden from the action index by SQL,
# with the release's revoked flag cleared, is found by `audit verify`,
# which names the leaf and both actions.
#
# The ship gate on a shared registry: two stations, each with its own line
# folder and key, on one PostgreSQL registry. A unit flashed on station A
# is finished and shipped on station B. B joins only once two officers of A
# have trusted its key (a station.trust leaf); B's own join leaf trusts A.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
export LINESEC_CA_PASSPHRASE=test-ca-passphrase
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

# leaf_text SEQ: the bytes of leaf SEQ as text, on either backend.
leaf_text() {
	if [ -n "${e2e_pg_url:-}" ]; then sql "SELECT convert_from(leaf, 'UTF8') FROM audit_leaves WHERE seq = $1"
	else sql "SELECT CAST(leaf AS TEXT) FROM audit_leaves WHERE seq = $1"; fi
}

suite() {
	local label=$1
	line_with_release "$@" || return
	"$L" sim new --count 3 --dir fleet --seed 31 --clone 1:3 >/dev/null
	local u
	for u in unit-001 unit-002; do
		for s in flash provision secure-boot debug-lock; do
			"$L" run "$s" --as olga --batch --device "sim:fleet/$u.sim" >/dev/null ||
				bad "$label: $u did not pass $s"
		done
		expect 0 "$label: $u shipped" "$L" ship --as olga "$u" --device "sim:fleet/$u.sim"
	done

	# Whether a UID is new is the log's word: shipped unit-001's UID changed
	# by SQL does not let its clone (unit-003, same UID) register as new,
	# and unit-001's UID put on unit-002's row does not make it unit-002.
	local id1 id2 k1 k2 issue uid1 uid2
	id1=$(sql "SELECT id FROM units WHERE serial = 'unit-001'")
	id2=$(sql "SELECT id FROM units WHERE serial = 'unit-002'")
	uid1=$(sql "SELECT uid FROM units WHERE id = $id1")
	uid2=$(sql "SELECT uid FROM units WHERE id = $id2")
	sql "UPDATE units SET uid = '00000000' || substr(uid, 9) WHERE id = $id1" >/dev/null
	expect 5 "$label: the clone of a shipped unit whose UID row was changed is refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-003.sim
	has "registry table units holds no unit with UID $uid1, but the signed index files 1 unit.register leaves under 'uid:$uid1'" \
		err.txt "$label: the table, the UID and the index key are named"
	check "$label: the clone was not registered" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM units WHERE serial = 'unit-003'\")\" = 0 ]"
	sql "UPDATE units SET uid = '$uid1' WHERE id = $id2" >/dev/null
	expect 5 "$label: the clone presented as unit-002, whose row got unit-001's UID, is refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-003.sim --serial unit-002
	has "registry table units holds unit 'unit-002' with UID $uid1, but its unit.register leaf [0-9]* registered UID $uid2" \
		err.txt "$label: the row and the unit.register leaf are named"
	sql "UPDATE units SET uid = '$uid2' WHERE id = $id2;
	     UPDATE units SET uid = '$uid1' WHERE id = $id1" >/dev/null

	# Returns: unit-001's identity row moved to unit-002 and unit-002's to unit-001.
	k1=$(sql "SELECT key_fp FROM identities WHERE unit_id = $id1")
	k2=$(sql "SELECT key_fp FROM identities WHERE unit_id = $id2")
	sql "UPDATE identities SET unit_id = $id2 WHERE key_fp = '$k1';
	     UPDATE identities SET unit_id = $id1 WHERE key_fp = '$k2'" >/dev/null
	issue=$(sql "SELECT seq FROM audit_leaves WHERE unit = 'unit-001' AND action = 'ca.issue'
	             ORDER BY seq DESC LIMIT 1")
	expect 5 "$label: return with a moved identities row refused" \
		"$L" rma receive unit-001 --as olga --device sim:fleet/unit-001.sim
	has "registry table identities row of key ${k1:0:16} .* unit 'unit-002'), but audit leaf $issue records certificate" \
		err.txt "$label: the table, the key and the ca.issue leaf are named"
	check "$label: the refused return changed nothing" \
		"[ \"\$(sql \"SELECT state FROM units WHERE serial = 'unit-001'\")\" = shipped ]"
	# Another unit's certificate copied over the returned unit's row is named as well.
	sql "UPDATE identities SET unit_id = $id1 WHERE key_fp = '$k1';
	     UPDATE identities SET unit_id = $id2 WHERE key_fp = '$k2'" >/dev/null
	local orig
	orig=$(sql "SELECT cert_der FROM identities WHERE key_fp = '$k1'" | sha256sum)
	sql "CREATE TABLE saved_der AS SELECT cert_der FROM identities WHERE key_fp = '$k1';
	     UPDATE identities SET cert_der = (SELECT cert_der FROM identities WHERE key_fp = '$k2')
	     WHERE key_fp = '$k1'" >/dev/null
	expect 5 "$label: return with another unit's certificate refused" \
		"$L" rma receive unit-001 --as olga --device sim:fleet/unit-001.sim
	has "registry table identities row of key ${k1:0:16} holds certificate .* but audit leaf $issue records" \
		err.txt "$label: the swapped certificate is named"
	sql "UPDATE identities SET cert_der = (SELECT cert_der FROM saved_der) WHERE key_fp = '$k1';
	     DROP TABLE saved_der" >/dev/null
	check "$label: the certificate is put back" \
		"[ \"\$(sql \"SELECT cert_der FROM identities WHERE key_fp = '$k1'\" | sha256sum)\" = \"$orig\" ]"
	# A device holding unit-002's key is not unit-001.
	expect 8 "$label: unit-002's device presented as unit-001 refused" \
		"$L" rma receive unit-001 --as olga --device sim:fleet/unit-002.sim
	expect 0 "$label: the genuine return is received once the registry is put back" \
		"$L" rma receive unit-001 --as olga --device sim:fleet/unit-001.sim --json
	has "\"issue-leaf\":$issue" out.txt "$label: the evidence names the ca.issue leaf"
	expect 0 "$label: the log verifies" "$L" audit verify

	# The CRL is built from the revocation leaves: a revocations row pointed
	# at unit-002's certificate does not make the CA revoke unit-002.
	"$L" sop submit --as sam line/sops/decommission.yaml >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice decommission 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob decommission 1 >/dev/null
	ack_sops olga olga-pw-123 decommission
	expect 0 "$label: unit-001 decommissioned as compromised" \
		"$L" decommission unit-001 --as olga --reason compromised
	local sn1 sn2
	sn1=$(sql "SELECT cert_serial FROM revocations")
	sn2=$(sql "SELECT cert_serial FROM identities WHERE unit_id = $id2")
	sql "UPDATE revocations SET cert_serial = '$sn2'" >/dev/null
	expect 5 "$label: a CRL from a rewritten revocations row is refused" \
		"$L" ca crl --as alice --out bad.crl --list bad.txt
	has "registry table revocations holds certificate '$sn2' of unit 'unit-001', but no pki.certificate.revoke leaf revokes it" \
		err.txt "$label: the table and the certificate are named"
	check "$label: no CRL was written" "[ ! -e bad.crl ]"
	sql "UPDATE revocations SET cert_serial = '$sn1', unit_id = $id2" >/dev/null
	expect 5 "$label: a revocations row moved to unit-002 is refused" "$L" ca crl --as alice --out bad.crl
	has "holds certificate '$sn1' as unit 'unit-002''s (keyCompromise), but leaf [0-9]* revokes it as unit 'unit-001''s" \
		err.txt "$label: the row and the leaf are named"
	sql "UPDATE revocations SET unit_id = $id1" >/dev/null
	expect 0 "$label: the CRL is made once the row is put back" \
		"$L" ca crl --as alice --out good.crl --list good.txt
	check "$label: it revokes unit-001's certificate and nothing else" \
		"grep -qi '^$sn1 ' good.txt && [ \"\$(wc -l <good.txt)\" = 1 ]"
	local dg crl
	dg=$(printf '%s\n' "${sn1,,}" | sha256sum | cut -c1-64)
	crl=$(sql "SELECT MAX(seq) FROM audit_leaves WHERE action = 'pki.crl.issue'")
	leaf_text "$crl" >crl-leaf.txt
	has "\"revoked-sha256\":\"$dg\"" crl-leaf.txt "$label: its leaf records the digest of the revoked serials"

	# Index columns: a release.revoke leaf hidden from the index (its action
	# column changed) and the release's revoked flag cleared.
	expect 0 "$label: release revoked" "$L" release revoke --as bob sensor@2.0.0
	local rv when by
	rv=$(sql "SELECT seq FROM audit_leaves WHERE action = 'release.revoke'")
	when=$(sql "SELECT revoked FROM releases WHERE version = '2.0.0'")
	by=$(sql "SELECT revoked_by FROM releases WHERE version = '2.0.0'")
	sql "UPDATE audit_leaves SET action = 'release.note' WHERE seq = $rv;
	     UPDATE releases SET revoked = NULL, revoked_by = NULL WHERE version = '2.0.0'" >/dev/null
	check "$label: the release no longer looks revoked" \
		"[ -z \"\$(sql \"SELECT revoked FROM releases WHERE version = '2.0.0'\")\" ]"
	expect 5 "$label: audit verify finds the hidden revocation" "$L" audit verify
	has "registry table audit_leaves files leaf $rv under action 'release.note', but the signed leaf names action 'release.revoke'" \
		err.txt "$label: the leaf and both actions are named"
	sql "UPDATE audit_leaves SET action = 'release.revoke' WHERE seq = $rv;
	     UPDATE releases SET revoked = '$when', revoked_by = '$by' WHERE version = '2.0.0'" >/dev/null
	expect 0 "$label: the log verifies once the index is put back" "$L" audit verify

	# The revocation signed a checkpoint over its own leaf: the leaf deleted
	# with everything after it, its checkpoint and its rows is caught.
	check "$label: release revoke signed a checkpoint over its leaf" \
		"[ \"\$(sql \"SELECT MAX(tree_size) FROM checkpoints\")\" -gt $rv ]"
	sql "DELETE FROM audit_leaves WHERE seq >= $rv; DELETE FROM checkpoints WHERE tree_size > $rv;
	     UPDATE releases SET revoked = NULL, revoked_by = NULL WHERE version = '2.0.0'" >/dev/null
	expect 9 "$label: a command on the registry without the revocation is refused" \
		"$L" release list --as alice
	has "is older than the last checkpoint this station signed: $rv leaves, anchor.json has a checkpoint of $((rv + 1)) leaves" \
		err.txt "$label: the refusal names the missing leaves"
	expect 9 "$label: audit verify refuses it too" "$L" audit verify
	cd "$e2e_dir" || return
}

shared() {
	local label=$1
	shift
	mkdir "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	a() { LINESEC_LINE="$PWD/lineA" "$L" "$@"; }
	b() { LINESEC_LINE="$PWD/lineB" "$L" "$@"; }
	LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-123 "$L" init --dir lineA --station-id st-a \
		--admin alice --second-officer bob "$@" >/dev/null
	"$L" keygen --type ed25519 --out st-b.key >/dev/null && "$L" pubkey st-b.key --out st-b.pub >/dev/null
	LINESEC_PASSWORD=alice-pw a login alice >/dev/null
	LINESEC_PASSWORD=bob-pw-123 a login bob >/dev/null
	LINESEC_PASSWORD=alice-pw expect 8 "$label: station B cannot join before A's officers trust its key" \
		"$L" init --dir lineB --station-id st-b --admin alice --station-key st-b.key \
		--trust-station st-a --trust-pubkey lineA/station.pub "$@"
	has "does not trust this station's key" err.txt "$label: the refusal says what is missing"
	local id
	id=$(LINESEC_PASSWORD=alice-pw a station trust --as alice --pubkey st-b.pub st-b | sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: a second officer of A approves trusting B" \
		a change approve --as bob "$id"
	LINESEC_PASSWORD=alice-pw expect 0 "$label: station B joins the registry" \
		"$L" init --dir lineB --station-id st-b --admin alice --station-key st-b.key \
		--trust-station st-a --trust-pubkey lineA/station.pub "$@"
	LINESEC_LINE="$PWD/lineA" add_person alice alice-pw bob bob-pw-123 olga operator olga-pw-123
	LINESEC_LINE="$PWD/lineA" add_person alice alice-pw bob bob-pw-123 sam supervisor sam-pw-1234
	a ca init --as alice --ca lineA/ca --cn "Test CA" --days 10950 >/dev/null
	"$L" keygen --out fw.pem >/dev/null
	"$L" pubkey fw.pem --out fw.pub.pem >/dev/null
	cp -r lineA/ca lineB/
	head -c 5000 /dev/urandom >app.bin
	"$L" image sign --key fw.pem --product sensor --version 2.0.0 --build release \
		--security-counter 2 --embed-pubkey app.bin new.img >/dev/null
	LINESEC_PASSWORD=sam-pw-1234 a login sam >/dev/null
	# sam witnesses the tamper seal and scrap, signing with his password each time.
	export LINESEC_WITNESS_PASSWORD=sam-pw-1234
	LINESEC_PASSWORD=olga-pw-123 a login olga >/dev/null
	LINESEC_PASSWORD=olga-pw-123 b login olga >/dev/null
	LINESEC_PASSWORD=sam-pw-1234 b login sam >/dev/null
	for s in flash provision secure-boot debug-lock; do
		a sop submit --as sam "lineA/sops/$s.yaml" >/dev/null
		LINESEC_PASSWORD=alice-pw a sop approve --as alice "$s" 1 >/dev/null
		LINESEC_PASSWORD=bob-pw-123 a sop approve --as bob "$s" 1 >/dev/null
	done
	LINESEC_LINE="$PWD/lineA" ack_sops olga olga-pw-123 flash provision secure-boot debug-lock
	LINESEC_PASSWORD=alice-pw a product key submit --as alice sensor fw.pub.pem >/dev/null
	LINESEC_PASSWORD=bob-pw-123 a product key approve --as bob sensor@1 >/dev/null
	LINESEC_PASSWORD=alice-pw a release submit --as alice new.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 a release approve --as bob sensor@2.0.0 >/dev/null
	cp -r lineA/releases lineB/
	"$L" sim new --count 2 --dir fleet --seed 41 >/dev/null
	local u
	for u in unit-001 unit-002; do
		a run flash --as olga --batch --device "sim:fleet/$u.sim" >/dev/null ||
			bad "$label: $u not flashed on station A"
		for s in provision secure-boot debug-lock; do
			b run "$s" --as olga --batch --device "sim:fleet/$u.sim" >/dev/null ||
				bad "$label: $u did not pass $s on station B"
		done
	done
	expect 0 "$label: a unit flashed on station A ships from station B" \
		b ship --as olga unit-001 --device sim:fleet/unit-001.sim
	expect 0 "$label: station B ships the second unit" \
		b ship --as olga unit-002 --device sim:fleet/unit-002.sim
	expect 0 "$label: the shared log verifies from station B" b audit verify
	expect 0 "$label: the shared log verifies from station A" a audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
run_on_postgres shared shared
finish
