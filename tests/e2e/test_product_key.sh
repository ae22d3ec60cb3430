#!/usr/bin/env bash
# A product's firmware key is a registry record two security officers
# register, never a file: through the command line, what an insider tries.
#  - swapping a key file under keys/ (or line.yaml's firmware_key) changes
#    nothing: the unit is fused with the registered key's digest;
#  - one officer approving the key she submitted is refused, and until a
#    second officer approves it nothing changes;
#  - a published key of the deny list is refused;
#  - the key or an approval changed by SQL stops the build and the listing,
#    naming the table, the key and the leaf, and `audit verify` names the row;
#  - a rotation approved by two officers retires the releases of the old key.
# On SQLite, and on PostgreSQL when LSEC_TEST_PG_URL is set.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}" "${LSEC_TEST_DATA:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
sample=$LSEC_SOURCE_DIR/data/denied-keys/mcuboot-root-ed25519-unknown.pub.pem

# fused UNIT: the secure-boot key digest in the unit's fuses.
fused() {
	"$L" sim show "$1" --json | sed 's/.*"SECURE_BOOT_KEY_DIGEST":{[^}]*"value":"\([0-9a-f]*\)".*/\1/'
}
# fingerprint PEM: SHA-256 of the key's SubjectPublicKeyInfo.
fingerprint() {
	"$L" pubkey "$1" --json | sed 's/.*"fingerprint_sha256":"\([0-9a-f]*\)".*/\1/'
}

suite() {
	local label=$1
	line_with_release "$@" || return
	local fw sd
	fw=$(fingerprint fw.pem)
	sd=$(fingerprint "$sample")
	"$L" sim new --count 4 --dir fleet --seed 31 >/dev/null

	# The key file swapped for a published key, and line.yaml pointed at it: nothing changes.
	mkdir -p line/keys
	cp "$sample" line/keys/sensor.pub.pem
	expect 0 "$label: build after the key file swap" \
		"$L" build --as olga --batch --device sim:fleet/unit-001.sim
	check "$label: unit-001 fused with the registered key's digest" \
		"[ \"\$(fused fleet/unit-001.sim)\" = $fw ]"
	check "$label: not with the swapped file's" "[ \"\$(fused fleet/unit-001.sim)\" != $sd ]"

	# One officer approving her own key: refused, and nothing changes.
	"$L" keygen --out fw2.pem >/dev/null
	"$L" pubkey fw2.pem --out fw2.pub.pem >/dev/null
	LINESEC_PASSWORD=alice-pw expect 0 "$label: alice submits a rotation" "$L" product key submit --as alice sensor fw2.pub.pem
	has "sensor@2 submitted" out.txt "$label: the rotation is version 2"
	LINESEC_PASSWORD=alice-pw expect 8 "$label: alice approving her own key refused" \
		"$L" product key approve --as alice sensor@2
	has "a second security officer must approve" err.txt "$label: self-approval named"
	expect 0 "$label: product key show" "$L" product key show --as olga sensor --json
	has '"state":"active","submitted-by":"alice","version":"1"' out.txt "$label: sensor@1 still active"
	has '"state":"submitted","submitted-by":"alice","version":"2"' out.txt "$label: sensor@2 only submitted"
	expect 0 "$label: build while the rotation waits" \
		"$L" build --as olga --batch --device sim:fleet/unit-002.sim
	check "$label: unit-002 fused with the registered key" "[ \"\$(fused fleet/unit-002.sim)\" = $fw ]"

	# A published key is never registered.
	LINESEC_PASSWORD=alice-pw expect 8 "$label: published key refused" "$L" product key submit --as alice sensor "$sample"
	has "published key 'mcuboot-root-ed25519-unknown'" err.txt "$label: the published key named"

	# The registered key swapped by SQL for the published one (row digest and key).
	local b64
	b64=$(grep -v '^-----' "$sample" | tr -d '\n')
	sql "UPDATE product_keys SET digest = '$sd', spki = '$b64' WHERE product = 'sensor' AND version = '1'"
	expect 5 "$label: build refused after the key row was rewritten" \
		"$L" build --as olga --batch --device sim:fleet/unit-003.sim
	has "registry table product_keys: product key sensor@1 has digest ${sd:0:16}" err.txt \
		"$label: the table and the key named"
	has "submission leaf [0-9]* recorded ${fw:0:16}" err.txt "$label: the leaf named"
	check "$label: unit-003 not fused" \
		"[ \"\$(fused fleet/unit-003.sim)\" = 0000000000000000000000000000000000000000000000000000000000000000 ]"
	expect 5 "$label: audit verify names the row" "$L" audit verify --as bob
	has "product_keys" err.txt "$label: audit verify names product_keys"
	sql "UPDATE product_keys SET digest = '$fw', spki = '$(grep -v '^-----' fw.pub.pem | tr -d '\n')' WHERE product = 'sensor' AND version = '1'"

	# A second approval of the rotation inserted by SQL: refused, naming the table.
	sql "INSERT INTO product_key_approvals (product_key_id, person, created) SELECT id, 'bob', '2030-01-01T00:00:00Z' FROM product_keys WHERE version = '2'"
	expect 5 "$label: product key show refused after an approval was injected" \
		"$L" product key show --as olga
	has "registry table product_key_approvals approves product key sensor@2 .* by 'bob', but no approval leaf backs it" \
		err.txt "$label: the injected approval named"
	expect 5 "$label: build refused after an approval was injected" \
		"$L" build --as olga --batch --device sim:fleet/unit-003.sim
	sql "DELETE FROM product_key_approvals WHERE person = 'bob' AND product_key_id IN (SELECT id FROM product_keys WHERE version = '2')"

	# The rotation approved by bob: the old key's release no longer flashes; the new key's does.
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: bob approves the rotation" "$L" product key approve --as bob sensor@2
	expect 0 "$label: audit verify after the rotation" "$L" audit verify --as bob
	"$L" image sign --key fw2.pem --product sensor --version 3.0.0 --build release \
		--security-counter 3 --embed-pubkey app.bin v3.img >/dev/null
	LINESEC_PASSWORD=alice-pw expect 0 "$label: release of the new key submitted" \
		"$L" release submit --as alice v3.img --product sensor
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: and approved" "$L" release approve --as bob sensor@3.0.0
	expect 0 "$label: build under the new key" \
		"$L" build --as olga --batch --device sim:fleet/unit-004.sim
	check "$label: unit-004 fused with the new key's digest" \
		"[ \"\$(fused fleet/unit-004.sim)\" = $(fingerprint fw2.pem) ]"
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
