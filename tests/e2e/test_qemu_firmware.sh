#!/usr/bin/env bash
# The QEMU test line's firmware (firmware/, docs/qemu.md), proven with
# gdb-multiarch as the debug port: images signed by `linesec image sign` are
# written into a QEMU unit's application slot over its GDB stub and read
# back; after a reset the boot stage's attestation line must carry the
# digest linesec computes for the image, its version and build type and the
# unit's UID; the debug build must be reported as debug and open its
# console, the release build must not; a corrupted, truncated or missing
# image must give the error attestation, with QEMU still running.
# Skips when QEMU, gdb-multiarch or the firmware build is missing, unless
# CI is set (CI installs them: scripts/bootstrap).
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}" "${LSEC_BUILD_DIR:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
qemu_require

# flip FILE OFFSET: inverts the low bit of one byte in place.
flip() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# wait_for PATTERN FILE: waits up to 10 s for an extended regex to appear in FILE.
wait_for() {
	for _ in $(seq 100); do
		grep -Eq -- "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}
# gdb_port UNIT COMMANDS...: one gdb-multiarch batch session on the unit's GDB stub.
gdb_port() { gdb_batch "$1" "$1/gdb.log" "${@:2}"; }
# start UNIT UID: starts a halted unit.
start() { qemu_start "$1" --uid "$2" --boot "$fw/boot.bin" || bad "$1: qemu-unit start"; }
# since UNIT: what the unit's UART sent since its last reset by flash or reset.
since() { tail -c +$(($(cat "$1/mark") + 1)) "$1/uart.log"; }
# reset UNIT [GDB COMMANDS...]: runs the commands, resets the board, lets it
# run and waits for its attestation line.
reset() {
	local u=$1 n
	shift
	stat -c %s "$u/uart.log" >"$u/mark"
	gdb_port "$u" "$@" 'monitor system_reset' detach || { bad "$u: gdb session"; cat "$u/gdb.log"; }
	for n in $(seq 100); do
		since "$u" | grep -aq '^LSEC-ATTEST.*'$'\r' && return 0
		sleep 0.1
	done
	bad "$u: no attestation line after $n tries"
	cat "$u/uart.log"
}
# flash UNIT IMAGE: writes IMAGE into the slot (0x8000), reads it back, resets
# the board and waits for its attestation.
flash() {
	local u=$1 img=$2 size
	size=$(stat -c %s "$img")
	reset "$u" "restore $img binary 0x8000" "dump binary memory $u/readback.bin 0x8000 $((0x8000 + size))"
	cmp -s "$img" "$u/readback.bin" && ok "$u: $img written into the slot and read back" ||
		bad "$u: read-back of $img differs from the image"
}
attest() { since "$1" | grep -a '^LSEC-ATTEST' | tail -1 | tr -d '\r'; }

uid=00112233445566778899aabbccddeeff
"$LINESEC" keygen --out fw.pem >/dev/null
fp=$("$LINESEC" pubkey fw.pem --json | grep -o '"fingerprint_sha256":"[0-9a-f]*"' | cut -d'"' -f4)
sign() { "$LINESEC" image sign --key fw.pem --product qemu-test --header-size 0x200 --embed-pubkey "$@"; }
expect 0 "sign the release application" sign --version 1.4.2+7 --build release "$fw/app-release.bin" release.img
expect 0 "sign the debug application" sign --version 1.4.3+8 --build debug "$fw/app-debug.bin" debug.img
# The digest linesec computes (and the station approves) for each image.
"$LINESEC" image verify release.img --key-hash "$fp" --json >rel.json
"$LINESEC" image verify debug.img --key-hash "$fp" --json >dbg.json
rel_digest=$(grep -o '"sha256":"[0-9a-f]*"' rel.json | cut -d'"' -f4)
dbg_digest=$(grep -o '"sha256":"[0-9a-f]*"' dbg.json | cut -d'"' -f4)
check "linesec gives both digests" '[ ${#rel_digest} -eq 64 ] && [ ${#dbg_digest} -eq 64 ]'

# Release build: attested with linesec's digest, no console.
start rel $uid
expect 1 "qemu-unit refuses a second unit in the same folder" "$qemu_unit" start rel --boot "$fw/boot.bin"
expect 1 "qemu-unit refuses a malformed UID" "$qemu_unit" start other --uid 0011 --boot "$fw/boot.bin"
check "no unit was started for the malformed UID" '[ ! -f other/pid ]'
flash rel release.img
line=$(attest rel)
check "release: attestation carries linesec's digest, version, build and UID" \
	'[ "$line" = "LSEC-ATTEST v1 digest=$rel_digest version=1.4.2+7 build=release uid=$uid" ]'
[ "$line" = "LSEC-ATTEST v1 digest=$rel_digest version=1.4.2+7 build=release uid=$uid" ] || echo "got: $line"
wait_for '^LSEC-APP .*release build' rel/uart.log && ok "release: the application starts" || bad "release: no banner"
exec 3<>/dev/tcp/127.0.0.1/"$(cat rel/console-port)" && printf 'help\r' >&3
sleep 0.5
exec 3>&-
check "release: no console, input is ignored" '! grep -aq -e "LSEC-CONSOLE" -e "commands:" -e help rel/uart.log'
# A reset attests again from the same slot: QEMU does not reload its flash on reset.
reset rel
check "release: after a second reset the same attestation" \
	'[ "$(attest rel)" = "LSEC-ATTEST v1 digest=$rel_digest version=1.4.2+7 build=release uid=$uid" ]'
check "QEMU is still running" 'kill -0 "$(cat rel/pid)"'

# Debug build: attested as debug, opens its console, which echoes and answers.
start dbg ffeeddccbbaa99887766554433221100
flash dbg debug.img
line=$(attest dbg)
check "debug: attestation carries linesec's digest and build=debug" \
	'[ "$line" = "LSEC-ATTEST v1 digest=$dbg_digest version=1.4.3+8 build=debug uid=ffeeddccbbaa99887766554433221100" ]'
wait_for '^LSEC-CONSOLE open' dbg/uart.log && ok "debug: the console opens" || bad "debug: no console"
exec 3<>/dev/tcp/127.0.0.1/"$(cat dbg/console-port)" && printf 'help\ruid\r' >&3
wait_for 'ffeeddccbbaa99887766554433221100' dbg/uart.log
exec 3>&-
has '^> help' dbg/uart.log "debug: the console echoes a command"
has '^commands: help' dbg/uart.log "debug: the console answers it"
has '^ffeeddccbbaa99887766554433221100' dbg/uart.log "debug: the console reads the UID"

# Bad images: an error attestation, no application, and QEMU stays up.
cp release.img payload.img && flip payload.img $((0x210))
cp release.img magic.img && flip magic.img 0
cp release.img length.img && printf '\377\377\003\000' | dd of=length.img bs=1 seek=12 conv=notrunc status=none
cp release.img tlv.img && flip tlv.img $((0x200 + $(stat -c %s "$fw/app-release.bin")))
# One unit takes them in turn, from an empty slot: every reset measures the slot again.
start bad $uid
reset bad
check "empty slot: error attestation" '[ "$(attest bad)" = "LSEC-ATTEST v1 error=empty-slot" ]'
for c in payload:hash-mismatch magic:bad-magic length:bad-length tlv:bad-tlv; do
	name=${c%%:*} why=${c#*:}
	flash bad "$name.img"
	line=$(attest bad)
	check "$name: error attestation '$why'" '[[ $line == "LSEC-ATTEST v1 error=$why"* ]]'
	[ "$name" != payload ] || check "payload: the measured digest is reported and is not the approved one" \
		'[[ $line =~ ^LSEC-ATTEST\ v1\ error=hash-mismatch\ digest=[0-9a-f]{64}$ ]] && [[ $line != *$rel_digest* ]]'
	sleep 0.2
	check "$name: the application does not start" '! since bad | grep -aq LSEC-APP'
done
check "the unit answers its debug port after an error attestation" \
	'gdb_port bad "x/wx 0x8000" && grep -q "^0x8000:" bad/gdb.log'
check "no fault and no lockup" '! grep -aqi -e LSEC-FAULT -e lockup ./*/uart.log ./*/qemu.log'
pid=$(cat bad/pid)
expect 0 "qemu-unit stop" "$qemu_unit" stop bad
check "the unit's QEMU is gone" '[ ! -f bad/pid ] && { ! kill -0 "$pid" 2>/dev/null || grep -q "^[0-9]* ([^)]*) Z" "/proc/$pid/stat"; }'
finish
