#!/usr/bin/env bash
# The station runs SOP 1 on QEMU for real: a QEMU unit (scripts/qemu-unit,
# the test firmware's boot stage) driven through
# rsp://127.0.0.1:PORT?profile=qemu-lm3s6965evb&uart=DIR/uart.log.
# (i) The approved release is flashed over the GDB stub (M packets),
# verified by read-back, the unit reset and its attestation line compared
# with the approved digest: passed. (ii) A debug build written into the slot
# over the debug port is refused by the ship gate, which names the build type
# the unit attests. (iii) A product made on another chip family is refused before anything is
# written (the flash read back unchanged), and SOP 5 (decommission) likewise
# before anything is erased. (iv) The SOP steps the board
# cannot do report "not supported by this device (profile
# qemu-lm3s6965evb)" and the ship gate refuses the unit. (v) An rsp URI
# without --serial is refused, naming the URI and what to pass.
# Skips when QEMU, gdb-multiarch or the firmware build is missing, unless
# CI is set. On SQLite and PostgreSQL.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}" "${LSEC_BUILD_DIR:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
L=$LINESEC
qemu_require

# unit DIR UID: starts a QEMU unit; sets quri to its device URI.
unit() {
	qemu_start "$1" --uid "$2" || { bad "qemu-unit start $1"; return 1; }
	quri="rsp://127.0.0.1:$(cat "$1/port")?profile=qemu-lm3s6965evb&uart=$PWD/$1/uart.log"
}
# gdb_do DIR COMMANDS...: runs gdb-multiarch commands against the unit, then detaches.
gdb_do() { gdb_batch "$1" /dev/null "${@:2}" detach; }
# slot DIR FILE: dumps the unit's application slot (0x8000-0x3fc00).
slot() { gdb_do "$1" "dump binary memory $2 0x8000 0x3fc00"; }
# product_chip FAMILY: sets the line's product sensor's chip family.
product_chip() {
	sed -i '/^    family:/d' line/line.yaml
	sed -i "s|^\(  - id: sensor\)$|\1\n    family: $1|" line/line.yaml
}

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	line_with_release "$label" "$@" || return
	echo "== $label"
	# The firmware's release build, signed for the slot, approved by two officers.
	"$L" image sign --key fw.pem --product sensor --version 2.1.0+7 --build release \
		--security-counter 2 --header-size 0x200 --embed-pubkey "$fw/app-release.bin" \
		qemu.img >/dev/null || bad "sign the release"
	"$L" image sign --key fw.pem --product sensor --version 2.1.0+8 --build debug \
		--security-counter 2 --header-size 0x200 --embed-pubkey "$fw/app-debug.bin" \
		debug.img >/dev/null || bad "sign the debug build"
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice qemu.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@2.1.0+7 >/dev/null ||
		bad "approve the QEMU release"
	digest=$("$L" image inspect qemu.img --json | grep -o '"computed":"[0-9a-f]\{64\}"' | grep -o '[0-9a-f]\{64\}' | head -n 1)
	check "the approved digest is known" '[ ${#digest} -eq 64 ]'
	product_chip lm3s6965

	# (v) The URI names no unit file: the serial on the label must be given.
	unit q1 00112233445566778899aabbccddee01 || return
	q1uri=$quri
	expect 2 "an rsp unit without --serial" "$L" run flash --as olga --batch --device "$quri"
	has "its URI names no unit file" err.txt "the refusal says why"
	has "pass the serial on the unit's label (--serial SN" err.txt "and what to pass"

	# (i) SOP 1 over RSP: flashed, read back, reset, attested, compared.
	expect 0 "SOP 1 on QEMU" "$L" run flash --as olga --batch --serial q-001 --device "$quri"
	has "q-001" out.txt "unit q-001 passed SOP 1"
	has "LSEC-ATTEST v1 digest=$digest version=2.1.0+7 build=release" q1/uart.log \
		"the unit attested the approved release on its UART"
	expect 0 "q-001 history" "$L" unit show --as olga q-001 --json
	has '"state":"flashed"' out.txt "q-001 is flashed"
	has "$digest" out.txt "its attested digest is recorded"
	has '"attested-build":"release"' out.txt "its attested build type is recorded"
	slot q1 q1.slot
	check "the slot holds the approved image" "cmp -s -n $(stat -c %s qemu.img) q1.slot qemu.img"

	# (ii) An attacker on the line writes the debug build (signed with the product key,
	# never approved: its approval is refused) straight into the slot over the debug port.
	LINESEC_PASSWORD=alice-pw "$L" release submit --as alice debug.img --product sensor >/dev/null 2>&1
	LINESEC_PASSWORD=bob-pw-123 "$L" release approve --as bob sensor@2.1.0+8 >/dev/null 2>err.txt
	check "the debug build cannot be approved" '[ $? -ne 0 ]'
	has "debug build, expected a release build" err.txt "the release check names the debug build"
	gdb_do q1 'restore debug.img binary 0x8000'
	expect 8 "ship q-001 holding a debug build" "$L" ship --as olga q-001 --device "$quri"
	has "device check 'boot attestation' failed: after reset the device attests a debug build (build=debug" \
		err.txt "the gate names the debug build the unit attests"
	has "build=debug uid=00112233445566778899aabbccddee01" q1/uart.log \
		"the unit attested the debug build on its UART"
	expect 0 "q-001 after the refusal" "$L" unit show --as olga q-001 --json
	has '"state":"flashed"' out.txt "q-001 is still flashed, not shipped"

	# (iv) What the board cannot do is said, and the ship gate refuses the unit.
	"$L" run provision --as olga --batch --serial q-001 --device "$quri" >sb.txt 2>&1
	check "SOP 2 (provision) on QEMU fails" '[ $? -ne 0 ]'
	has "not supported by this device (profile qemu-lm3s6965evb)" sb.txt \
		"the key step says the device cannot"
	expect 8 "ship q-001" "$L" ship --as olga q-001 --device "$quri"
	has "cannot ship unit 'q-001'" err.txt "the ship gate refuses the unit"

	# (iii) A product made on another family: refused before anything is written.
	unit q4 00112233445566778899aabbccddee04 || return
	gdb_do q4 'restore debug.img binary 0x8000'
	slot q4 before.slot
	product_chip stm32f4
	expect 8 "a unit of another chip" "$L" run flash --as olga --batch --serial q-004 \
		--device "$quri"
	has "refused before anything was written" err.txt "refused before the first write"
	has "lm3s6965" err.txt "naming what the chip is"
	slot q4 after.slot
	check "nothing was written to the wrong chip" "cmp -s before.slot after.slot"
	# SOP 5 makes the same check: q-001 of a product now made on another family.
	"$L" sop submit --as sam line/sops/decommission.yaml >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice decommission 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob decommission 1 >/dev/null
	ack_sops olga olga-pw-123 decommission
	slot q1 before.slot
	expect 8 "decommission a unit of another chip" "$L" decommission q-001 --as olga \
		--reason failed --device "$q1uri"
	has "refused before anything was written" err.txt "decommission refuses before the first erase"
	has "lm3s6965" err.txt "naming what the chip is"
	slot q1 after.slot
	check "nothing was erased on the wrong chip" "cmp -s before.slot after.slot"
	expect 0 "q-001 after the refused decommission" "$L" unit show --as olga q-001 --json
	has '"outcome":"wrong-chip-refused"' out.txt "the refusal is a leaf of q-001"
	check "q-001 is not decommissioned" "! grep -q '\"state\":\"decommissioned\"' out.txt"
	expect 0 "audit" "$L" audit verify
	product_chip lm3s6965
	stop_qemu_units
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
