#!/usr/bin/env bash
# The deny list through the command line: releases signed with private keys
# that MCUboot publishes in its own repository (root-ed25519-unknown.pem, a
# signing key, and enc-ec256-priv.pem, an encryption key used to sign) are
# refused at approval, naming the key and where it was published, whatever
# the product's firmware key is.
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
mkdir line/keys
"$L" pubkey fw.pem --out line/keys/sensor.pub.pem
head -c 5000 /dev/urandom >app.bin

# sign KEY VERSION: submits a release image of sensor signed with KEY, its key embedded.
sign() {
	"$L" image sign --key "$1" --product sensor --version "$2" --build release \
		--security-counter 1 --embed-pubkey app.bin "$2.img" >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice "$2.img" --product sensor >/dev/null
}
# firmware_key PEM: the product's firmware key becomes PEM's public half.
firmware_key() {
	rm -f line/keys/sensor.pub.pem
	"$L" pubkey "$1" --out line/keys/sensor.pub.pem
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

# A product whose firmware key is itself a published key: refused the same.
firmware_key "$keys/enc-ec256-priv.pem"
sign "$keys/enc-ec256-priv.pem" 1.0.2
LINESEC_PASSWORD=bob-pw-123 expect 8 "release under a published firmware key refused" "$L" release approve --as bob sensor@1.0.2
has "'mcuboot-enc-ec256'" err.txt "published firmware key named"
expect 0 "release list" "$L" release list --as bob --json
check "no denied release approved" "! grep -q '\"state\":\"approved\"' out.txt"

# The product's own key still releases.
firmware_key fw.pem
sign fw.pem 1.0.3
LINESEC_PASSWORD=bob-pw-123 expect 0 "own key's release approved" "$L" release approve --as bob sensor@1.0.3
finish
