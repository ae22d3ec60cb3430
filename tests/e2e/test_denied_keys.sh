#!/usr/bin/env bash
# The deny list through the command line: releases signed with private keys
# that MCUboot publishes in its own repository (root-ed25519-unknown.pem, a
# signing key, and enc-ec256-priv.pem, an encryption key used to sign) are
# refused at approval, naming the key and where it was published, whatever
# the product's firmware key is; a published key is never registered as a
# product's firmware key, at submission or at approval.
#
# A line adds a key to its deny list only with two security officers, on
# SQLite and PostgreSQL: one officer approving her own addition is refused
# and denies nothing; approved by a second one (a denied-key.add leaf), the
# key is refused at release approval, at flashing and as a product key.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}" "${LSEC_TEST_DATA:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
keys=$LSEC_TEST_DATA/denied-keys-private
mcuboot=https://github.com/mcu-tools/mcuboot/blob/

export LINESEC_LINE="$PWD/line"
LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-123 "$L" init --dir line --admin alice \
	--second-officer bob >/dev/null
LINESEC_PASSWORD=alice-pw "$L" login alice >/dev/null
LINESEC_PASSWORD=bob-pw-123 "$L" login bob >/dev/null
"$L" keygen --out fw.pem >/dev/null
"$L" pubkey fw.pem --out fw.pub.pem >/dev/null
LINESEC_PASSWORD=alice-pw "$L" product key submit --as alice sensor fw.pub.pem >/dev/null
LINESEC_PASSWORD=bob-pw-123 "$L" product key approve --as bob sensor@1 >/dev/null
head -c 5000 /dev/urandom >app.bin

# sign KEY VERSION: submits a release image of sensor signed with KEY, its key embedded.
sign() {
	"$L" image sign --key "$1" --product sensor --version "$2" --build release \
		--security-counter 1 --embed-pubkey app.bin "$2.img" >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice "$2.img" --product sensor >/dev/null
}
# An image signed with a published key is refused, though the product's key is another.
sign "$keys/root-ed25519-unknown.pem" 1.0.0
LINESEC_PASSWORD=bob-pw-123 expect 8 "root-ed25519-unknown release refused" "$L" release approve --as bob sensor@1.0.0
has "signed with the published key 'mcuboot-root-ed25519-unknown'" err.txt "key named"
has "published at ${mcuboot}[0-9a-f]*/root-ed25519-unknown.pem" err.txt "origin named"
sign "$keys/enc-ec256-priv.pem" 1.0.1
LINESEC_PASSWORD=bob-pw-123 expect 8 "enc-ec256 release refused" "$L" release approve --as bob sensor@1.0.1
has "signed with the published key 'mcuboot-enc-ec256'" err.txt "encryption key named"
has "published at ${mcuboot}[0-9a-f]*/enc-ec256-priv.pem" err.txt "its origin named"

# A published key is never registered as the product's firmware key.
"$L" pubkey "$keys/enc-ec256-priv.pem" --out enc.pub.pem >/dev/null
LINESEC_PASSWORD=alice-pw expect 8 "published key as product key refused" "$L" product key submit --as alice sensor enc.pub.pem
has "it is the published key 'mcuboot-enc-ec256'" err.txt "published product key named"
has "published at ${mcuboot}[0-9a-f]*/enc-ec256-priv.pem" err.txt "its origin named"
expect 0 "product keys" "$L" product key show --as bob sensor --json
check "no second product key recorded" "! grep -q '\"version\":\"2\"' out.txt"
expect 0 "release list" "$L" release list --as bob --json
check "no denied release approved" "! grep -q '\"state\":\"approved\"' out.txt"

# The product's own key still releases.
sign fw.pem 1.0.3
LINESEC_PASSWORD=bob-pw-123 expect 0 "own key's release approved" "$L" release approve --as bob sensor@1.0.3

suite_added() {
	local label=$1 id
	shift
	line_with_release "$label" "$@" || return
	"$L" sim new --count 1 --dir fleet --seed 43 >/dev/null
	"$L" image sign --key fw.pem --product sensor --version 2.0.1 --build release \
		--security-counter 2 --embed-pubkey app.bin next.img >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice next.img --product sensor >/dev/null
	id=$(LINESEC_PASSWORD=alice-pw "$L" station deny-key --as alice --pubkey fw.pub.pem \
		--origin https://example.com/leaked/fw.pem leaked-fw | sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	check "$label: alice's deny-list addition is a pending change" "[ -n \"$id\" ]"
	LINESEC_PASSWORD=alice-pw expect 8 "$label: alice approving her own addition is refused" \
		"$L" change approve --as alice "$id"
	check "$label: no denied-key.add leaf" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'denied-key.add'\")\" = 0 ]"
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: a second officer approves the addition" \
		"$L" change approve --as bob "$id"
	check "$label: one denied-key.add leaf" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'denied-key.add'\")\" = 1 ]"
	LINESEC_PASSWORD=bob-pw-123 expect 8 "$label: a release signed with the added key is refused at approval" \
		"$L" release approve --as bob sensor@2.0.1
	has "signed with the published key 'leaked-fw' (published at https://example.com/leaked/fw.pem; added to this line's deny list by leaf" \
		err.txt "$label: the refusal names the key and its leaf"
	expect 8 "$label: flashing the release approved before is refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim
	has "published key 'leaked-fw'" err.txt "$label: the flash refusal names the key"
	check "$label: the unit was not flashed" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM units WHERE state = 'flashed'\")\" = 0 ]"
	LINESEC_PASSWORD=alice-pw expect 8 "$label: the added key is refused as a product key" \
		"$L" product key submit --as alice sensor fw.pub.pem
	LINESEC_PASSWORD=alice-pw expect 7 "$label: adding it twice is refused" \
		"$L" station deny-key --as alice --pubkey fw.pub.pem --origin x again
}

run_on_sqlite suite_added added-sqlite
run_on_postgres suite_added added-postgres
finish
