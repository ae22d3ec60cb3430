#!/usr/bin/env bash
# Drives `linesec ca` end to end and checks every result with the openssl
# command, an independent implementation: issued certificates verify under
# the CA, CRLs parse and revoke, the HSM path (SoftHSM2) signs inside the
# token, duplicates are refused by the registry, a CSR with a bad signature
# is refused, and no initial password ends up in any file the station keeps.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
dir=$e2e_dir
e2e_log="$dir/all-output.log" # every output, grepped for passwords below

# A device key and its CSR (the subject is a lie the CA must ignore).
devcsr() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-subj "/CN=not-this-unit/O=Evil" -outform "${2:-PEM}" -out "$1.csr" 2>/dev/null
}

# ---- the line, its security officer and an operator ------------------------------
L="$dir/line"
export LINESEC_PASSWORD=officer-pass-1
LINESEC_SECOND_PASSWORD=officer-pass-2 expect 0 "line init" "$LINESEC" init --dir "$L" --admin olga \
	--second-officer pat
export LINESEC_LINE="$L"
expect 10 "ca init needs a login" "$LINESEC" ca init --cn "Line 1 CA"
expect 0 "officer login" "$LINESEC" login olga
LINESEC_PASSWORD=officer-pass-2 expect 0 "the second officer logs in" "$LINESEC" login pat
add_person olga officer-pass-1 pat officer-pass-2 otto operator operator-pass-1 && ok "add an operator"
expect 0 "the second officer logs out" "$LINESEC" logout pat
ln -s "$L/ca" ca

# ---- a CA with a passphrase-encrypted key file --------------------------------
export LINESEC_CA_PASSPHRASE="ceremony passphrase 1"
expect 0 "ca init (file key, self-signed root)" \
	"$LINESEC" ca init --cn "Line 1 CA" --org "Example Devices"
check "CA key file is mode 0600" '[ "$(stat -c %a ca/ca.key.pem)" = 600 ]'
check "credential key file is mode 0600" '[ "$(stat -c %a ca/cred.key)" = 600 ]'
check "CA key is encrypted PKCS#8" 'grep -q "BEGIN ENCRYPTED PRIVATE KEY" ca/ca.key.pem'
check "openssl refuses the key without the passphrase" \
	'! openssl pkey -in ca/ca.key.pem -passin pass:wrong -noout 2>/dev/null'
check "openssl opens the key with the passphrase" \
	'openssl pkey -in ca/ca.key.pem -passin env:LINESEC_CA_PASSPHRASE -noout 2>/dev/null'
check "the root is a CA certificate (openssl)" \
	'openssl x509 -in ca/ca.cert.pem -noout -ext basicConstraints 2>/dev/null | grep -q "CA:TRUE"'
expect 7 "a second ceremony in the same folder is refused" \
	"$LINESEC" ca init --cn "Again"
expect 0 "ca show --json" "$LINESEC" ca show --json
check "show reports an active file CA" 'grep -q "\"state\":\"active\"" out.txt && grep -q "\"storage\":\"file\"" out.txt'

# ---- issuance by hand ----------------------------------------------------------
devcsr d1
expect 0 "ca issue by hand" "$LINESEC" ca issue --csr d1.csr --serial SN-1 \
	--product "sensor-3" --uid 00a1b2c3 --out d1.crt
check "openssl verify: device certificate under the CA (clientAuth)" \
	'openssl verify -CAfile ca/ca.cert.pem -purpose sslclient d1.crt >/dev/null 2>&1'
openssl x509 -in d1.crt -noout -text >d1.txt 2>/dev/null
check "subject from the registry facts, not the CSR" \
	'openssl x509 -in d1.crt -noout -subject -nameopt RFC2253 | grep -q "CN=SN-1,O=sensor-3"'
check "basicConstraints critical CA:FALSE" 'grep -A1 "Basic Constraints: critical" d1.txt | grep -q "CA:FALSE"'
check "keyUsage critical digitalSignature" 'grep -A1 "Key Usage: critical" d1.txt | grep -q "Digital Signature"'
check "extendedKeyUsage clientAuth" 'grep -q "TLS Web Client Authentication" d1.txt'
check "SAN URI with the UID" 'grep -q "URI:urn:linesec:uid:00a1b2c3" d1.txt'
check "SKI and AKI" 'grep -q "Subject Key Identifier" d1.txt && grep -q "Authority Key Identifier" d1.txt'
check "serial is 16 bytes" \
	'[ "$(openssl x509 -in d1.crt -noout -serial | cut -d= -f2 | tr -d "\n" | wc -c)" = 32 ]'
check "the certificate carries the device key" \
	'[ "$(openssl x509 -in d1.crt -noout -pubkey)" = "$(openssl pkey -in d1.key -pubout)" ]'
expect 5 "wrong passphrase refused" env LINESEC_CA_PASSPHRASE=nope \
	"$LINESEC" ca issue --csr d1.csr --serial SN-1 --product P --uid 01 --out x.crt

# A CSR whose signature does not verify: flip a bit in the signature (DER tail).
devcsr bad DER
size=$(stat -c %s bad.csr)
b=$(od -An -tu1 -j$((size - 3)) -N1 bad.csr | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 1)))" | dd of=bad.csr bs=1 seek=$((size - 3)) conv=notrunc status=none
check "openssl also rejects the damaged CSR" \
	'openssl req -in bad.csr -inform DER -verify -noout 2>&1 | grep -q "verify failure"'
expect 5 "a CSR with a bad signature is refused" "$LINESEC" ca issue --csr bad.csr \
	--serial SN-X --product P --uid 01 --out bad.crt
check "nothing written for the refused CSR" '[ ! -e bad.crt ]'
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout p384.key \
	-subj /CN=x -out p384.csr 2>/dev/null
expect 8 "a P-384 device key is refused" "$LINESEC" ca issue --csr p384.csr \
	--serial SN-X --product P --uid 01 --out p384.crt

# ---- the registry: recorded issuance, duplicates, roles, revocation, CRLs -------
reg="$L/registry.db"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sqlite3 "$reg" "INSERT INTO units (serial, uid, product, station, state, prev_state, created, updated) VALUES
	('SN-10', 'aa10', 'sensor-3', 'st-1', 'new', 'new', '$now', '$now'),
	('SN-11', 'aa11', 'sensor-3', 'st-1', 'new', 'new', '$now', '$now'),
	('SN-12', 'aa12', 'sensor-3', 'st-1', 'new', 'new', '$now', '$now');"
devcsr d10
LINESEC_PASSWORD=operator-pass-1 expect 0 "operator login" "$LINESEC" login otto
expect 10 "with two people logged in, who acts must be named" "$LINESEC" ca issue --csr d10.csr \
	--serial SN-10 --out d10.crt
expect 10 "an operator may not issue" "$LINESEC" ca issue --csr d10.csr --serial SN-10 \
	--out d10.crt --as otto
expect 0 "operator logout" "$LINESEC" logout otto
expect 0 "ca issue recorded in the registry" "$LINESEC" ca issue --csr d10.csr \
	--serial SN-10 --out d10.crt --json
check "issue --json names the certificate serial" 'grep -q "\"cert_serial\"" out.txt'
check "openssl verify: recorded certificate" \
	'openssl verify -CAfile ca/ca.cert.pem d10.crt >/dev/null 2>&1'
check "SAN from the registry UID" 'openssl x509 -in d10.crt -noout -ext subjectAltName | grep -q "urn:linesec:uid:aa10"'
expect 7 "the same device key for another unit is refused" "$LINESEC" ca issue \
	--csr d10.csr --serial SN-11 --out d11.crt
check "the refusal names the unit holding the key" 'grep -q "SN-10" err.txt'
expect 6 "an unknown unit is refused" "$LINESEC" ca issue --csr d1.csr --serial SN-99 \
	--out d99.crt
q="SELECT count(*) FROM audit_leaves WHERE CAST(leaf AS TEXT) LIKE '%pki.certificate.issue%'"
check "the audit log holds the issuance" '[ "$(sqlite3 "$reg" "$q")" = 1 ]'

expect 0 "ca revoke (keyCompromise)" "$LINESEC" ca revoke --cert d10.crt --reason keyCompromise
expect 7 "revoking twice is refused" "$LINESEC" ca revoke --cert d10.crt --reason superseded
expect 6 "revoking an unrecorded certificate is refused" "$LINESEC" ca revoke --cert d1.crt \
	--reason superseded
expect 0 "ca crl (PEM) with the plain list" "$LINESEC" ca crl \
	--out crl1.pem --list revoked.txt --next-update 24
check "openssl crl parses and verifies the CRL" \
	'openssl crl -in crl1.pem -CAfile ca/ca.cert.pem -noout 2>&1 | grep -q "verify OK"'
openssl crl -in crl1.pem -noout -text >crl1.txt 2>/dev/null
sn10=$(openssl x509 -in d10.crt -noout -serial | cut -d= -f2)
check "the revoked serial is listed" 'grep -qi "Serial Number: $sn10" crl1.txt'
check "with its reason code" 'grep -q "Key Compromise" crl1.txt'
fp10=$(openssl x509 -in d10.crt -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d" " -f1)
check "the plain list names the serial and its key fingerprint" 'grep -qi "^$sn10 $fp10 keyCompromise$" revoked.txt'
check "openssl verify -crl_check: revoked certificate fails" \
	'! openssl verify -crl_check -CAfile ca/ca.cert.pem -CRLfile crl1.pem d10.crt >/dev/null 2>&1'
check "openssl verify -crl_check: other certificate passes" \
	'openssl verify -crl_check -CAfile ca/ca.cert.pem -CRLfile crl1.pem d1.crt >/dev/null 2>&1'
expect 0 "ca crl (DER) again" "$LINESEC" ca crl --der --out crl2.der \
	--list revoked.json --list-json
n1=$(openssl crl -in crl1.pem -noout -crlnumber | cut -d= -f2 | sed 's/^0x//')
n2=$(openssl crl -in crl2.der -inform DER -noout -crlnumber | cut -d= -f2 | sed 's/^0x//')
check "the CRL number grows ($n1 -> $n2)" '[ $((16#$n2)) -gt $((16#$n1)) ]'
check "the JSON list names the serial, key and reason" \
	'grep -qi "\"key_sha256\":\"$fp10\",\"reason\":\"keyCompromise\",\"revoked_at\":\"[^\"]*\",\"serial\":\"$sn10\"" revoked.json'

# ---- provisioning is the SOP's alone ------------------------------------------------
expect 2 "there is no 'ca enroll': a unit is provisioned by the provisioning SOP only" \
	"$LINESEC" ca enroll --device sim:fleet/unit-001.sim --serial SN-40
has "unknown command 'ca enroll'" err.txt "the command is gone"

# ---- initial passwords ----------------------------------------------------------
mkdir labels
expect 0 "ca cred" "$LINESEC" ca cred --serial SN-11 --label-dir labels
check "label file is mode 0600" '[ "$(stat -c %a labels/SN-11.label)" = 600 ]'
pw=$(sed -n 's/^password: //p' labels/SN-11.label)
check "password: 16 characters without look-alikes" \
	'[[ "$pw" =~ ^[2-9A-HJ-NP-Za-km-z]{16}$ ]]'
check "the password is in no file the station keeps, nor in any output" \
	'! grep -rqF -- "$pw" "$L" all-output.log'
check "the registry holds its keyed fingerprint" \
	'[ "$(sqlite3 "$reg" "SELECT count(*) FROM credentials")" = 1 ]'
expect 0 "cred-check: the unit's own password matches" \
	env LINESEC_CLAIMED_PASSWORD="$pw" "$LINESEC" ca cred-check SN-11
# Another password: the last character changed (to y when it already was x).
other=${pw%?}x
[ "$other" = "$pw" ] && other=${pw%?}y
expect 10 "cred-check: another password does not" \
	env LINESEC_CLAIMED_PASSWORD="$other" "$LINESEC" ca cred-check SN-11
expect 6 "cred-check: a unit without a credential" \
	env LINESEC_CLAIMED_PASSWORD="$pw" "$LINESEC" ca cred-check SN-10
check "each check is in the audit log" \
	'[ "$(sqlite3 "$reg" "SELECT count(*) FROM audit_leaves WHERE instr(CAST(leaf AS TEXT), '"'"'initial-password.check'"'"') > 0")" = 3 ]'
expect 0 "ca label-done" "$LINESEC" ca label-done labels/SN-11.label
check "the label file is gone" '[ ! -e labels/SN-11.label ]'
check "after printing, the password is nowhere on disk" '! grep -rqF -- "$pw" "$dir"'
expect 0 "ca cred, 20 base32 characters" "$LINESEC" ca cred --serial SN-10 --label-dir labels \
	--length 20 --alphabet base32
pw3=$(sed -n 's/^password: //p' labels/SN-10.label)
check "base32 password: 20 characters of Crockford's alphabet" '[[ "$pw3" =~ ^[0-9A-HJKMNP-TV-Z]{20}$ ]]'
check "the base32 password is in no file the station keeps" '! grep -rqF -- "$pw3" "$L" all-output.log'
expect 0 "ca label-done (base32)" "$LINESEC" ca label-done labels/SN-10.label
expect 2 "a 12-character password is refused" "$LINESEC" ca cred --serial SN-10 --label-dir labels \
	--length 12
expect 6 "cred for an unknown unit" "$LINESEC" ca cred --serial SN-404 \
	--label-dir labels

# ---- offline root: CSR out, import the root-signed certificate ------------------
expect 0 "ca init --csr-out" "$LINESEC" ca init --ca ca2 --cn "Line 2 CA" --csr-out ca2.csr
check "the CSR verifies (openssl)" 'openssl req -in ca2.csr -verify -noout >/dev/null 2>&1'
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
	-subj "/CN=Offline Root" -days 4000 -out root.crt 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ext.cnf
openssl x509 -req -in ca2.csr -CA root.crt -CAkey root.key -CAcreateserial -days 3000 \
	-extfile ext.cnf -out ca2.crt 2>/dev/null
expect 9 "issuing before the import is refused" "$LINESEC" ca issue --ca ca2 --csr d1.csr \
	--serial SN-1 --product P --uid 01 --out pending.crt
expect 5 "importing the root itself is refused" "$LINESEC" ca import-cert --ca ca2 root.crt
expect 0 "ca import-cert --root" "$LINESEC" ca import-cert --ca ca2 --root root.crt ca2.crt
devcsr d20
expect 0 "issue under the imported CA" "$LINESEC" ca issue --ca ca2 --csr d20.csr --serial SN-20 \
	--product P --uid 20 --out d20.crt
check "openssl verify: device -> line CA -> offline root" \
	'openssl verify -CAfile root.crt -untrusted ca2.crt d20.crt >/dev/null 2>&1'

# ---- the CA key in a PKCS#11 token (SoftHSM2) ----------------------------------
module=/usr/lib/softhsm/libsofthsm2.so
if [ -r "$module" ] && command -v softhsm2-util >/dev/null; then
	mkdir tokens
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$dir" >softhsm2.conf
	export SOFTHSM2_CONF="$dir/softhsm2.conf"
	softhsm2-util --init-token --free --label line-hsm --pin 135790 --so-pin 24680246 >/dev/null
	export LINESEC_PKCS11_PIN=135790
	expect 0 "ca init in the token" "$LINESEC" ca init --ca hsmca --cn "HSM Line CA" \
		--pkcs11 "$module" --token line-hsm --key-label line-ca
	check "no private key file for a token CA" '[ ! -e hsmca/ca.key.pem ] && [ ! -e hsmca/cred.key ]'
	check "openssl verifies the token-signed root" \
		'openssl verify -CAfile hsmca/ca.cert.pem hsmca/ca.cert.pem >/dev/null 2>&1'
	if command -v pkcs11-tool >/dev/null; then
		pkcs11-tool --module "$module" --token-label line-hsm --login --pin 135790 \
			--list-objects --type privkey >objs.txt 2>&1
		check "the token key is sensitive and not extractable" \
			'grep -q "line-ca" objs.txt && grep -q "always sensitive, never extractable" objs.txt'
		check "the token key signs and does nothing else" 'grep -q "Usage: *sign$" objs.txt'
	fi
	devcsr d30
	expect 0 "issue, signed in the token" "$LINESEC" ca issue --ca hsmca --csr d30.csr \
		--serial SN-30 --product P --uid 30 --out d30.crt
	check "openssl verify: token-signed device certificate" \
		'openssl verify -CAfile hsmca/ca.cert.pem -purpose sslclient d30.crt >/dev/null 2>&1'
	expect 10 "a wrong PIN is refused" env LINESEC_PKCS11_PIN=000000 "$LINESEC" ca issue \
		--ca hsmca --csr d30.csr --serial SN-31 --product P --uid 31 --out d31.crt
	expect 0 "token CRL" "$LINESEC" ca crl --ca hsmca --out hsm.crl
	check "openssl crl verifies the token-signed CRL" \
		'openssl crl -in hsm.crl -CAfile hsmca/ca.cert.pem -noout 2>&1 | grep -q "verify OK"'
	expect 0 "ca cred with the HMAC key in the token" "$LINESEC" ca cred --ca hsmca \
		--serial SN-12 --label-dir labels
	pw2=$(sed -n 's/^password: //p' labels/SN-12.label)
	check "no token password in the line folder" '! grep -rqF -- "$pw2" "$L"'
	unset LINESEC_PKCS11_PIN
else
	echo "skip SoftHSM2 not installed"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
