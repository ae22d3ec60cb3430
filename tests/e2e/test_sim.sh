#!/usr/bin/env bash
# Drives `linesec sim new|show` end to end: fleet files and modes, UIDs,
# clones, faults, the espefuse-style summary, JSON, and usage errors.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
dir=$e2e_dir

expect 0 "sim new" "$LINESEC" sim new --count 3 --dir fleet --seed 7 --flash-size 65536 \
	--faults 'boot_fail=1' --fault-units 2 --clone 1:3
[ "$(wc -l <out.txt)" -eq 3 ] && ok "one line per unit" || bad "sim new output"
for f in fleet/unit-001.sim fleet/unit-001.sim.flash fleet/unit-001.sim.huk; do
	[ "$(stat -c %a "$f")" = 600 ] && ok "$f is mode 0600" || bad "$f mode"
done
[ "$(stat -c %s fleet/unit-002.sim.flash)" = 65536 ] && ok "flash file has the flash size" ||
	bad "flash file size"
uid1=$(sed -n 1p out.txt | awk '{print $3}')
uid2=$(sed -n 2p out.txt | awk '{print $3}')
uid3=$(sed -n 3p out.txt | awk '{print $3}')
[ "$uid1" = "$uid3" ] && [ "$uid1" != "$uid2" ] && ok "unit 3 is a clone of unit 1" ||
	bad "clone UIDs: $uid1 $uid2 $uid3"
grep -q 'faults boot_fail=1' <(sed -n 2p out.txt) && ok "unit 2 carries its faults" ||
	bad "faults listed"

printf '{"1": "otp_cut=2", "2": "boot_fail=3"}' >plan.json
expect 0 "sim new with a fault plan" "$LINESEC" sim new --count 2 --dir planned --fault-plan plan.json \
	--flash-size 8192
grep -q 'unit-001.sim.*faults otp_cut=2' out.txt && grep -q 'unit-002.sim.*faults boot_fail=3' out.txt &&
	ok "each unit gets its planned faults" || bad "fault plan"
printf '{"3": "boot_fail=1"}' >plan.json
expect 2 "a plan naming a unit the fleet lacks" "$LINESEC" sim new --count 2 --dir p2 --fault-plan plan.json
expect 0 "same seed, same UIDs" "$LINESEC" sim new --count 2 --dir again --seed 7 --flash-size 65536
[ "$(sed -n 1p out.txt | awk '{print $3}')" = "$uid1" ] && ok "reproducible UID" || bad "seeded UID"
expect 7 "never over an existing fleet" "$LINESEC" sim new --count 1 --dir fleet
expect 4 "bad fault option refused (parse)" "$LINESEC" sim new --count 1 --dir x --faults nosuch=1
[ ! -e x/unit-001.sim ] && ok "nothing written on a bad option" || bad "files left behind"
expect 2 "missing --dir" "$LINESEC" sim new --count 1
expect 2 "bad --clone" "$LINESEC" sim new --count 2 --dir y --clone 1-2

expect 0 "sim show" "$LINESEC" sim show fleet/unit-001.sim
grep -q '^SECURE_BOOT_EN (W8) .*= False R/W (0b0)' out.txt && ok "summary shows SECURE_BOOT_EN" ||
	bad "summary line"
grep -q "UID $uid1" out.txt && ok "summary shows the UID" || bad "uid"
expect 0 "sim show --json" "$LINESEC" sim show sim:fleet/unit-002.sim --json
grep -q '"uid":"'"$uid2"'"' out.txt && grep -q '"SECURE_BOOT_KEY_DIGEST"' out.txt &&
	ok "JSON has the UID and the fuses" || bad "show json"
expect 6 "show a missing unit" "$LINESEC" sim show fleet/unit-009.sim
grep -q "unit-009.sim" err.txt && ok "error names the unit" || bad "error message"
printf 'garbage' >fleet/unit-002.sim
expect 4 "show a corrupt unit (bad state)" "$LINESEC" sim show fleet/unit-002.sim
# Flash a signed debug image and boot it: the measured digest is the image's.
head -c 3000 /dev/urandom >fw.bin
expect 0 "keygen" "$LINESEC" keygen --out k.pem
expect 0 "image sign" "$LINESEC" image sign --key k.pem --product acme --version 1.2.3+4 \
	--build debug --embed-pubkey fw.bin fw.img
digest=$(sed -n 's/^image SHA-256: //p' out.txt)
expect 8 "boot with no image refused" "$LINESEC" sim boot fleet/unit-001.sim
grep -q "no-image" out.txt && ok "boot report names no-image" || bad "no-image report"
expect 0 "sim flash" "$LINESEC" sim flash fleet/unit-001.sim fw.img
expect 0 "sim boot --json" "$LINESEC" sim boot fleet/unit-001.sim --json
grep -q '"booted":true' out.txt && grep -q "\"digest\":\"$digest\"" out.txt &&
	grep -q '"uart_open":true' out.txt && ok "booted the image, measured its digest" ||
	{ bad "boot report"; cat out.txt; }
expect 6 "flash a missing unit" "$LINESEC" sim flash fleet/unit-009.sim fw.img
expect 0 "sim --help" "$LINESEC" sim --help
expect 0 "sim new --help" "$LINESEC" sim new --help

finish
