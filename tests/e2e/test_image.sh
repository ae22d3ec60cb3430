#!/usr/bin/env bash
# Drives `linesec keygen|pubkey|image` end to end: keys, signing, inspecting,
# verifying, and the exit status of every rejection class. When MCUboot's
# imgtool is available (IMGTOOL="python3 path/to/imgtool.py", or imgtool on
# PATH) it also checks that imgtool verifies linesec's images.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_TEST_DATA:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
dir=$e2e_dir
data="$LSEC_TEST_DATA/images"
# flip FILE OFFSET: inverts the low bit of one byte in place.
flip() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# poke FILE OFFSET OCTAL-ESCAPES: overwrites bytes in place.
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

head -c 1000 /dev/urandom >fw.bin

# Keys.
expect 0 "keygen ed25519" "$LINESEC" keygen --type ed25519 --out ed.pem
grep -q "fingerprint" out.txt && ok "keygen prints the fingerprint" || bad "keygen output"
[ "$(stat -c %a ed.pem)" = 600 ] && ok "private key is mode 0600" || bad "private key mode"
expect 0 "keygen ecdsa-p256" "$LINESEC" keygen --type ecdsa-p256 --out ec.pem
expect 7 "keygen never replaces a key file" "$LINESEC" keygen --type ed25519 --out ed.pem
expect 2 "keygen unknown type" "$LINESEC" keygen --type rsa --out x.pem
expect 0 "pubkey --out" "$LINESEC" pubkey ed.pem --out ed.pub
expect 0 "pubkey --json" "$LINESEC" pubkey ec.pem --json
grep -q '"fingerprint_sha256"' out.txt && ! grep -q PRIVATE out.txt && ok "pubkey json has no private key" || bad "pubkey json"
"$LINESEC" pubkey ec.pem --out ec.pub >/dev/null
"$LINESEC" keygen --out other.pem >/dev/null && "$LINESEC" pubkey other.pem --out other.pub

# Encrypted key: passphrase from a file or the environment, never argv.
printf 'line passphrase\n' >pass.txt
expect 0 "keygen with --passphrase-file" "$LINESEC" keygen --out enc.pem --passphrase-file pass.txt
grep -q "ENCRYPTED PRIVATE KEY" enc.pem && ok "key file is encrypted PKCS#8" || bad "key not encrypted"
expect 4 "pubkey of an encrypted key without a passphrase" "$LINESEC" pubkey enc.pem
expect 0 "pubkey of an encrypted key with --passphrase-file" "$LINESEC" pubkey enc.pem --passphrase-file pass.txt
expect 0 "pubkey of a public key with LINESEC_KEY_PASSPHRASE set" env LINESEC_KEY_PASSPHRASE=x "$LINESEC" pubkey ed.pub
expect 5 "pubkey of an encrypted key with a wrong passphrase" env LINESEC_KEY_PASSPHRASE=wrong "$LINESEC" pubkey enc.pem
expect 5 "signing with an encrypted key and no passphrase" \
	"$LINESEC" image sign --key enc.pem --product acme-sensor --version 1.0.0 --build release fw.bin enc.img
expect 0 "signing with LINESEC_KEY_PASSPHRASE" env LINESEC_KEY_PASSPHRASE="line passphrase" \
	"$LINESEC" image sign --key enc.pem --product acme-sensor --version 1.0.0 --build release fw.bin enc.img

# Every command has --help.
for c in "keygen" "pubkey" "image" "image sign" "image inspect" "image verify"; do
	# shellcheck disable=SC2086
	expect 0 "$c --help" "$LINESEC" $c --help
	grep -q "usage: linesec" out.txt || bad "$c --help prints no usage"
done

# Sign, inspect, verify.
sign() { "$LINESEC" image sign --product acme-sensor --version 1.2.3+4 "$@"; }
expect 0 "sign ed25519 release" sign --key ed.pem --build release --security-counter 7 fw.bin ed.img
expect 0 "sign ecdsa release, header 0x200" sign --key ec.pem --build release --header-size 0x200 \
	--load-addr 0x20000000 --security-counter 7 fw.bin ec.img
expect 0 "sign ed25519 debug --json" sign --key ed.pem --build debug --json fw.bin debug.img
digest=$(grep -o '"sha256":"[0-9a-f]*"' out.txt | cut -d'"' -f4)
grep -q '"build":"debug"' out.txt && [ ${#digest} -eq 64 ] && ok "sign json" || bad "sign json"
"$LINESEC" image inspect debug.img --json | grep -q "\"tlv\":\"$digest\"" &&
	ok "sign and inspect agree on the digest" || bad "sign/inspect digest"
expect 2 "sign with a bad version" "$LINESEC" image sign --key ed.pem --product p --version 1.x \
	--build release fw.bin x.img
expect 2 "sign with a bad build type" sign --key ed.pem --build beta fw.bin x.img
expect 0 "inspect" "$LINESEC" image inspect ed.img
grep -q "status    ok" out.txt && grep -q "LINESEC_PRODUCT" out.txt && ok "inspect shows TLVs and hash" || bad "inspect text"
expect 0 "inspect --json" "$LINESEC" image inspect ec.img --json
grep -q '"hdr_size":512' out.txt && grep -q '"status":"ok"' out.txt && ok "inspect json" || bad "inspect json"
for img in ed ec; do
	pub=$img.pub
	expect 0 "verify $img.img with every check" "$LINESEC" image verify $img.img --pubkey $pub \
		--product acme-sensor --require-release --min-counter 7
done
expect 0 "verify --json" "$LINESEC" image verify ed.img --pubkey ed.pub --json
grep -q '"verified":true' out.txt && ok "verify json" || bad "verify json"

# Every rejection class has its own exit status.
v() { "$LINESEC" image verify "$@"; }
head -c 500 ed.img >trunc.img
expect 20 "truncated" v trunc.img --pubkey ed.pub
cp ed.img magic.img && flip magic.img 0
expect 21 "bad magic" v magic.img --pubkey ed.pub
cp ed.img size.img && poke size.img 8 '\020\000'
expect 22 "header size below 32" v size.img --pubkey ed.pub
cp ed.img tlv.img && flip tlv.img 1064 # unprotected TLV info magic (32 + 1000 + 32)
expect 23 "malformed TLV area" v tlv.img --pubkey ed.pub
cp ed.img hash.img && flip hash.img 100
expect 40 "payload tampered" v hash.img --pubkey ed.pub
expect 41 "another key" v ed.img --pubkey other.pub
size=$(stat -c %s ed.img)
cp ed.img sig.img && flip sig.img $((size - 1))
expect 42 "bad signature" v sig.img --pubkey ed.pub
cp ed.img unsigned.img && truncate -s $((size - 68)) unsigned.img && poke unsigned.img 1066 '\114\000'
expect 50 "unsigned" v unsigned.img --pubkey ed.pub
expect 51 "wrong product" v ed.img --pubkey ed.pub --product acme-gateway
expect 52 "debug build under --require-release" v debug.img --pubkey ed.pub --require-release
expect 0 "debug build without --require-release" v debug.img --pubkey ed.pub
expect 53 "counter below the minimum" v ed.img --pubkey ed.pub --min-counter 8
expect 2 "verify without --pubkey" v ed.img
expect 2 "verify with both --pubkey and --key-hash" v ed.img --pubkey ed.pub --key-hash "$(printf '%064d' 0)"
# Only a key digest trusted (as a device with a fused digest): the image must embed its key.
fp=$("$LINESEC" pubkey ed.pub --json | grep -o '"fingerprint_sha256":"[0-9a-f]*"' | cut -d'"' -f4)
expect 0 "sign with --embed-pubkey" sign --key ed.pem --build release --embed-pubkey fw.bin embed.img
expect 0 "verify with --key-hash" v embed.img --key-hash "$fp" --require-release
expect 41 "verify with another --key-hash" v embed.img --key-hash "$(printf '%064d' 0)"
expect 41 "--key-hash on an image without its key" v ed.img --key-hash "$fp"
expect 2 "malformed --key-hash" v embed.img --key-hash abc
expect 3 "verify a missing file" v nothere.img --pubkey ed.pub

# Images signed by imgtool (tests/data/images) verify under linesec.
expect 0 "imgtool ed25519 image" v "$data/imgtool-ed25519-release.img" \
	--pubkey "$data/test-ed25519.pub.pem" --product acme-sensor --require-release --min-counter 7
expect 0 "imgtool ecdsa image" v "$data/imgtool-ecdsa-p256-release.img" \
	--pubkey "$data/test-ecdsa-p256.pub.pem" --product acme-sensor --require-release --min-counter 3
expect 24 "imgtool encrypted image: unsupported" v "$data/imgtool-ed25519-encrypted.img" \
	--pubkey "$data/test-ed25519.pub.pem"
expect 24 "imgtool pure-signed image: unsupported" v "$data/imgtool-ed25519-pure.img" \
	--pubkey "$data/test-ed25519.pub.pem"
expect 52 "imgtool image without linesec TLVs under --require-release" \
	v "$data/imgtool-ecdsa-p256-plain.img" --pubkey "$data/test-ecdsa-p256.pub.pem" --require-release

# imgtool verifies linesec's images (only where imgtool is installed).
imgtool=${IMGTOOL:-}
if [ -z "$imgtool" ] && command -v imgtool >/dev/null 2>&1; then imgtool=imgtool; fi
if [ -n "$imgtool" ]; then
	for img in ed ec debug embed; do
		key=ed.pem
		[ $img = ec ] && key=ec.pem
		if $imgtool verify -k $key $img.img >out.txt 2>&1 && grep -q "correctly validated" out.txt; then
			ok "imgtool verifies linesec's $img.img"
		else
			bad "imgtool rejects linesec's $img.img"; cat out.txt
		fi
	done
	if ! $imgtool verify -k ed.pem hash.img >/dev/null 2>&1; then ok "imgtool rejects the tampered image"; else bad "imgtool accepted a tampered image"; fi
else
	echo "skip imgtool interop: imgtool not installed (set IMGTOOL)"
fi

[ "$fails" -eq 0 ] && echo "all image checks passed" || echo "$fails image checks failed"
[ "$fails" -eq 0 ]
