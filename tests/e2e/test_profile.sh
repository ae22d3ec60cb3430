#!/usr/bin/env bash
# Drives `linesec profile check|list` end to end: every shipped profile
# checks clean (by name and from its file), what a device cannot do is said,
# $LINESEC_PROFILES comes before the built-in profiles, and a bad profile is
# refused naming its file, line and field with the "malformed input" status.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
src="$LSEC_SOURCE_DIR/profiles"
unset LINESEC_PROFILES

# The built-in profiles.
expect 0 "profile list" "$LINESEC" profile list
for p in linesec-sim qemu-lm3s6965evb nrf52 stm32f4; do
	has "^$p  *built-in" out.txt "list shows $p built in"
done
for p in linesec-sim qemu-lm3s6965evb nrf52 stm32f4; do
	expect 0 "profile check $p (built in)" "$LINESEC" profile check "$p"
	has "ok: profile $p" out.txt "$p checks clean"
	has "NOT tested on hardware" out.txt "$p says it was not tested on hardware"
	expect 0 "profile check $p.yaml (file)" "$LINESEC" profile check "$src/$p.yaml"
done
expect 0 "profile check several" "$LINESEC" profile check linesec-sim "$src/nrf52.yaml"
check "one line per profile" "[ \"\$(grep -c ': ok: profile' out.txt)\" -eq 2 ]"

# What QEMU cannot do is said, and the SOPs that need it are named.
expect 0 "profile check qemu" "$LINESEC" profile check qemu-lm3s6965evb
has "not supported by this device:.*debug-lock.set.1" out.txt "qemu: no debug lock"
has "fuses.SECURE_BOOT_EN" out.txt "qemu: no fuses"
has "warning: SOP secure-boot step otp.enable-secure-boot needs fuse SECURE_BOOT_EN: not supported by this device (profile qemu-lm3s6965evb); the ship gate refuses its units" \
	out.txt "qemu: the secure-boot SOP cannot run in full"
expect 0 "profile check linesec-sim" "$LINESEC" profile check linesec-sim
check "the sim can run every SOP (no warning)" "! grep -q warning out.txt"
expect 0 "profile check --json" "$LINESEC" profile check --json qemu-lm3s6965evb
has '"family":"lm3s6965"' out.txt "json names the family"
has '"revisions":\["A2"\]' out.txt "json names the revision"
has '"tested_on_hardware":false' out.txt "json says untested"

# $LINESEC_PROFILES first, then the built-in profiles.
mkdir profiles
sed 's/^name: qemu-lm3s6965evb/name: my-board/' "$src/qemu-lm3s6965evb.yaml" >profiles/my-board.yaml
sed 's/^  name: lm3s6965$/  name: lm3s6965-local/' "$src/qemu-lm3s6965evb.yaml" \
	>profiles/qemu-lm3s6965evb.yaml
export LINESEC_PROFILES=$PWD/profiles
expect 0 "profile list with LINESEC_PROFILES" "$LINESEC" profile list
has "^my-board .*profiles/my-board.yaml" out.txt "list shows the local profile"
has "^qemu-lm3s6965evb .*profiles/qemu-lm3s6965evb.yaml" out.txt "a local profile shadows the built-in one"
has "^nrf52  *built-in" out.txt "the others stay built in"
expect 0 "check my-board by name" "$LINESEC" profile check my-board
expect 0 "check the shadowing profile" "$LINESEC" profile check --json qemu-lm3s6965evb
has '"family":"lm3s6965-local"' out.txt "the local copy is the one loaded"
expect 6 "an unknown name is not found" "$LINESEC" profile check no-such-chip
has "no device profile 'no-such-chip'" err.txt "the error names the profile"
has "$LINESEC_PROFILES" err.txt "and where it looked"
unset LINESEC_PROFILES

# A bad profile is refused naming file, line and field (exit 4: malformed input).
sed 's/^ram:/colour: red\nram:/' "$src/qemu-lm3s6965evb.yaml" >bad.yaml
sed -i 's/^name: qemu-lm3s6965evb/name: bad/' bad.yaml
expect 4 "unknown key" "$LINESEC" profile check bad.yaml
has "cannot read 'bad.yaml': line 51, column 1: top level: unknown key 'colour'" err.txt \
	"unknown key named at its line"
sed 's/  size: 0x37c00/  size: 223k/' "$src/qemu-lm3s6965evb.yaml" >qemu-lm3s6965evb.yaml
expect 4 "bad number" "$LINESEC" profile check ./qemu-lm3s6965evb.yaml
has "line 47, column 9: flash.size: '223k' is not a number" err.txt "bad number named"
sed 's/SECURE_BOOT_EN: {word: 8,/SECURE_BOOT_EN: {word: 3,/' "$src/linesec-sim.yaml" \
	>linesec-sim.yaml
expect 4 "overlapping fuses" "$LINESEC" profile check ./linesec-sim.yaml
has "fuses.SECURE_BOOT_EN: overlaps fuses.SECURE_BOOT_KEY_DIGEST" err.txt "overlap named"
sed '/^reset:/d' "$src/nrf52.yaml" >nrf52.yaml
expect 4 "missing reset" "$LINESEC" profile check ./nrf52.yaml
has "reset: missing" err.txt "missing field named"
cp "$src/stm32f4.yaml" other.yaml
expect 4 "name differs from the file" "$LINESEC" profile check other.yaml
has "'stm32f4' differs from the file name 'other.yaml'" err.txt "name mismatch named"
expect 3 "a missing file" "$LINESEC" profile check ./nothing.yaml
expect 4 "one bad among good: the first failure's status" "$LINESEC" profile check \
	linesec-sim bad.yaml nrf52
has "ok: profile linesec-sim" out.txt "the good ones are still checked"
has "ok: profile nrf52" out.txt "after the bad one too"
expect 2 "profile check needs an argument" "$LINESEC" profile check
finish
