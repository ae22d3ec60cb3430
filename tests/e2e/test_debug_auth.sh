#!/usr/bin/env bash
# Authenticated erase of a locked unit uses the product's debug-authentication
# key, never its firmware signing key: through the command line,
#  - a debug-auth key is registered by two security officers (one approving
#    her own submission is refused), never a published key of the deny list,
#    never the firmware key;
#  - secure boot fuses its digest (DEBUG_AUTH_KEY_DIGEST) from the record;
#  - decommission erases a locked unit with it, Ed25519 and then, after a
#    rotation, ECDSA P-256, its passphrase asked at the erase;
#  - --erase-key is refused, and the firmware key put in place of the
#    station's debug-auth key file erases nothing;
#  - a unit secured before its product had a debug-auth key cannot be
#    erased, and says so;
#  - a debug-auth key row changed by SQL stops the build before any burn,
#    naming the table and the leaf.
# On SQLite, and on PostgreSQL when LSEC_TEST_PG_URL is set.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}" "${LSEC_TEST_DATA:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
denied=$LSEC_TEST_DATA/denied-keys-private/root-ed25519-unknown.pem
pass="debug-auth e2e passphrase"

# fused UNIT FUSE: a digest fuse of the unit, in hex.
fused() {
	"$L" sim show "$1" --json | sed "s/.*\"$2\":{[^}]*\"value\":\"\([0-9a-f]*\)\".*/\1/"
}
fingerprint() {
	"$L" pubkey "$1" --json | sed 's/.*"fingerprint_sha256":"\([0-9a-f]*\)".*/\1/'
}
zero=0000000000000000000000000000000000000000000000000000000000000000

suite() {
	local label=$1
	line_with_release "$@" || return
	"$L" sop submit --as sam line/sops/decommission.yaml >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice decommission 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob decommission 1 >/dev/null ||
		bad "$label: decommission SOP not approved"
	ack_sops olga olga-pw-123 decommission
	"$L" sim new --count 5 --dir fleet --seed 41 >/dev/null

	# A unit secured while the product had no debug-auth key: an empty fuse, locked.
	expect 0 "$label: unit-005 built before any debug-auth key" \
		"$L" build --as olga --batch --device sim:fleet/unit-005.sim
	check "$label: unit-005 has an empty debug-auth fuse" \
		"[ \"\$(fused fleet/unit-005.sim DEBUG_AUTH_KEY_DIGEST)\" = $zero ]"

	# Registration: two officers; her own approval refused; published and firmware keys refused.
	"$L" keygen --type ed25519 --out dbg-ed.pem >/dev/null
	LINESEC_PASSWORD=alice-pw LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 8 \
		"$label: a published key refused as debug-auth key" \
		"$L" product key submit --as alice --purpose debug-auth sensor "$denied"
	has "cannot register the debug-auth key of 'sensor': it is the published key 'mcuboot-root-ed25519-unknown'" \
		err.txt "$label: the published key named"
	LINESEC_PASSWORD=alice-pw LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 7 \
		"$label: the firmware key refused as debug-auth key" \
		"$L" product key submit --as alice --purpose debug-auth sensor fw.pem
	has "it is already its key sensor@1" err.txt "$label: the firmware key named"
	LINESEC_PASSWORD=alice-pw LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 0 \
		"$label: alice submits the Ed25519 debug-auth key" \
		"$L" product key submit --as alice --purpose debug-auth sensor dbg-ed.pem
	has "sensor@debug-auth-1 submitted" out.txt "$label: its version"
	check "$label: the station keeps it encrypted, mode 0600" \
		"grep -q 'ENCRYPTED PRIVATE KEY' line/debug-auth/sensor@debug-auth-1.key.pem &&
		 [ \"\$(stat -c %a line/debug-auth/sensor@debug-auth-1.key.pem)\" = 600 ]"
	LINESEC_PASSWORD=alice-pw expect 8 "$label: alice approving her own debug-auth key refused" \
		"$L" product key approve --as alice sensor@debug-auth-1
	has "a second security officer must approve" err.txt "$label: self-approval named"
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: bob approves it" \
		"$L" product key approve --as bob sensor@debug-auth-1
	expect 0 "$label: product key show" "$L" product key show --as olga sensor --json
	has '"purpose":"debug-auth","state":"active"' out.txt "$label: the debug-auth key active"
	has '"purpose":"firmware","state":"active"' out.txt "$label: the firmware key still active"

	# Secure boot fuses the registered debug-auth digest.
	expect 0 "$label: unit-001 built" "$L" build --as olga --batch --device sim:fleet/unit-001.sim
	check "$label: unit-001's DEBUG_AUTH fuse holds the Ed25519 key's digest" \
		"[ \"\$(fused fleet/unit-001.sim DEBUG_AUTH_KEY_DIGEST)\" = $(fingerprint dbg-ed.pem) ]"
	check "$label: and its secure-boot fuse the firmware key's" \
		"[ \"\$(fused fleet/unit-001.sim SECURE_BOOT_KEY_DIGEST)\" = $(fingerprint fw.pem) ]"
	expect 0 "$label: unit-001 received" "$L" rma receive unit-001 --as olga --device sim:fleet/unit-001.sim

	# The firmware key erases nothing: refused as an option, and in place of the station's key file.
	expect 2 "$label: --erase-key refused" "$L" decommission unit-001 --as olga --reason returned \
		--device sim:fleet/unit-001.sim --erase-key fw.pem
	has "no longer accepted: the firmware signing key never erases a unit" err.txt "$label: says what replaced it"
	local kf=line/debug-auth/sensor@debug-auth-1.key.pem
	mv "$kf" "$kf.saved"
	printf '%s' "$pass" >pp.txt
	openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt -in fw.pem -out "$kf" -passout file:pp.txt 2>/dev/null ||
		bad "$label: cannot encrypt fw.pem"
	LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 9 "$label: the firmware key in the key file erases nothing" \
		"$L" decommission unit-001 --as olga --reason returned --device sim:fleet/unit-001.sim
	has "is not debug-authentication key sensor@debug-auth-1 of the registry" err.txt "$label: the swapped file named"
	mv "$kf.saved" "$kf"

	# Without the passphrase the erase fails and the unit stays pending; with it, Ed25519 erases.
	expect 9 "$label: no passphrase, no erase" \
		"$L" decommission unit-001 --as olga --reason returned --device sim:fleet/unit-001.sim
	has "decommission pending" err.txt "$label: the SOP's words for the failed erase"
	LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 0 "$label: unit-001 erased with the Ed25519 debug-auth key" \
		"$L" decommission unit-001 --as olga --reason returned --device sim:fleet/unit-001.sim --json
	has '"state":"decommissioned"' out.txt "$label: unit-001 decommissioned"
	expect 0 "$label: the erase leaf" "$L" unit show unit-001 --as olga --json
	has '"debug-auth-key":"debug-auth-1"' out.txt "$label: the leaf names the debug-auth key"
	has '"erase":"authenticated-erase"' out.txt "$label: an authenticated erase"
	has '"erase-challenge":"[0-9a-f]\{64\}"' out.txt "$label: answering the device's own challenge"

	# Rotation to ECDSA P-256: new units fused with it, each erased with the key its fuse names.
	"$L" keygen --type ecdsa-p256 --out dbg-p256.pem --passphrase-file pp.txt >/dev/null
	LINESEC_KEY_PASSPHRASE=$pass LINESEC_PASSWORD=alice-pw LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 0 \
		"$label: alice submits a P-256 debug-auth key" \
		"$L" product key submit --as alice --purpose debug-auth sensor dbg-p256.pem
	has "sensor@debug-auth-2 submitted" out.txt "$label: the rotation is debug-auth-2"
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: bob approves the rotation" \
		"$L" product key approve --as bob sensor@debug-auth-2
	expect 0 "$label: unit-002 built" "$L" build --as olga --batch --device sim:fleet/unit-002.sim
	check "$label: unit-002 fused with the P-256 key's digest" \
		"[ \"\$(fused fleet/unit-002.sim DEBUG_AUTH_KEY_DIGEST)\" = $(LINESEC_KEY_PASSPHRASE=$pass fingerprint dbg-p256.pem) ]"
	expect 0 "$label: unit-002 received" "$L" rma receive unit-002 --as olga --device sim:fleet/unit-002.sim
	LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 0 "$label: unit-002 erased with the P-256 debug-auth key" \
		"$L" decommission unit-002 --as olga --reason returned --device sim:fleet/unit-002.sim --json
	has '"state":"decommissioned"' out.txt "$label: unit-002 decommissioned"

	# Secured before the product had a debug-auth key: never erased, said so.
	expect 0 "$label: unit-005 received" "$L" rma receive unit-005 --as olga --device sim:fleet/unit-005.sim
	LINESEC_DEBUG_AUTH_PASSPHRASE=$pass expect 9 "$label: unit-005 cannot be erased" \
		"$L" decommission unit-005 --as olga --reason returned --device sim:fleet/unit-005.sim
	has "holds no debug-authentication key digest" err.txt "$label: the missing fuse said"

	# The debug-auth key row rewritten by SQL (digest and key): the build stops before any burn.
	local dg b64
	dg=$(fingerprint "$denied")
	b64=$("$L" pubkey "$denied" | grep -v '^-----' | grep -v '^fingerprint\|^type' | tr -d '\n')
	sql "UPDATE product_keys SET digest = '$dg', spki = '$b64' WHERE product = 'sensor' AND version = 'debug-auth-2'"
	expect 5 "$label: build refused after the debug-auth key row was rewritten" \
		"$L" build --as olga --batch --device sim:fleet/unit-003.sim
	has "registry table product_keys: product key sensor@debug-auth-2 has digest ${dg:0:16}" err.txt \
		"$label: the table and the key named"
	has "submission leaf [0-9]* recorded" err.txt "$label: the leaf named"
	check "$label: unit-003 not fused" \
		"[ \"\$(fused fleet/unit-003.sim DEBUG_AUTH_KEY_DIGEST)\" = $zero ] &&
		 [ \"\$(fused fleet/unit-003.sim SECURE_BOOT_KEY_DIGEST)\" = $zero ]"
	expect 5 "$label: audit verify names the row" "$L" audit verify --as bob
	has "product_keys" err.txt "$label: audit verify names product_keys"
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
