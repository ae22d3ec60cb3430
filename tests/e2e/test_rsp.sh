#!/usr/bin/env bash
# The station over the GDB remote serial protocol: each unit served by
# `linesec sim serve` on a loopback port and driven through
# rsp://127.0.0.1:PORT?profile=linesec-sim. (i) A unit is built through to
# ship, and a server refusing X and vFlash (as QEMU's does) ships one too;
# (ii) a unit whose flash has a stuck bit is refused at the flash verify,
# and a shipped unit's locked debug port refuses memory access over the
# link, and the failed unit is decommissioned (wiped, blank-checked) over
# it; (iii) a server killed in the middle of a build is reported as a
# link failure and the unit quarantined, and a station killed in the middle
# of a build leaves a unit the next build reconciles and ships; (iv) a link
# that drops once in a step safe to repeat is retried once automatically and
# the unit ships. On SQLite and PostgreSQL.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	line_with_release "$label" "$@" || return
	echo "== $label"
	# unit 2: a stuck flash bit (bit 1 of the image header's first byte reads 1);
	# units 3 and 5: slow flash (250 ms per KiB), to be cut mid-write.
	"$L" sim new --count 6 --dir fleet --seed 21 --fault-plan \
		<(echo '{"2": "stuck=0x0:1:1", "3": "lat_kib_us=250000", "5": "lat_kib_us=250000"}') >/dev/null ||
		bad "sim new"

	# (i) A build through the RSP backend ships the unit, as over sim:. The URI names
	# no file, so the label's serial is given.
	sim_serve 1
	expect 0 "unit-001 built over rsp" "$L" build --as olga --batch --serial unit-001 --device "$(rsp_uri "$port")"
	has "unit unit-001: shipped" out.txt "unit-001 shipped"
	expect 0 "unit-001 record" "$L" unit show --as olga unit-001 --json
	has '"state":"shipped"' out.txt "unit-001 is shipped in the registry"
	expect 0 "the device read over rsp" "$L" sim show "$(rsp_uri "$port")" --json
	has '"debug_lock_level":1' out.txt "unit-001's debug port is locked on the device"
	# (ii) Its locked port refuses memory access over the link like a locked probe port.
	echo hello >img.bin
	expect 8 "flashing the locked unit over rsp" "$L" sim flash "$(rsp_uri "$port")" img.bin
	has "debug port locked" err.txt "the refusal names the locked port"
	# A QEMU-like server (no X, no vFlash): writes fall back to M; the unit ships.
	sim_serve 4 --no-x --no-vflash
	expect 0 "unit-004 built over a server without X or vFlash" "$L" build --as olga --batch \
		--serial unit-004 --device "$(rsp_uri "$port")"
	has "unit unit-004: shipped" out.txt "unit-004 shipped"
	# (iv) The link drops once, at SOP 2's proof of possession (safe to repeat, no retry of
	# its own in the SOP): one automatic retry on a new connection, recorded; the unit ships.
	sim_serve 6 --drop-on 'lsec key sign' --drop-nth 2
	expect 0 "unit-006 built over a link that drops once" "$L" build --as olga --batch \
		--serial unit-006 --device "$(rsp_uri "$port")"
	has "unit unit-006: shipped" out.txt "unit-006 shipped"
	expect 0 "unit-006 record" "$L" unit show --as olga unit-006 --json
	has '"failure-class":"transient"' out.txt "the dropped link is a transient failure"
	has '"transient-retry":true' out.txt "the automatic retry is an attempt of its own"
	check "the retried step is the proof of possession" \
		"grep -o '\"action\":\"device.prove-possession\",\"evidence\":{[^}]*\"transient-retry\":true' out.txt"

	# (ii) The stuck bit: the flash SOP's verify refuses the unit; nothing ships.
	sim_serve 2
	expect 9 "unit-002 with a stuck flash bit" "$L" build --as olga --batch --serial unit-002 \
		--device "$(rsp_uri "$port")"
	has "read-back\|verify" err.txt "the refusal names the flash verify"
	expect 0 "unit-002 record" "$L" unit show --as olga unit-002 --json
	check "unit-002 is not shipped" "! grep -q '\"state\":\"shipped\"' out.txt"
	# SOP 5 over the link: the failed unit is wiped and blank-checked through the monitor.
	"$L" sop submit --as sam line/sops/decommission.yaml >/dev/null || bad "submit decommission"
	LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice decommission 1 >/dev/null &&
		LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob decommission 1 >/dev/null ||
		bad "approve decommission"
	ack_sops olga olga-pw-123 decommission
	expect 0 "unit-002 decommissioned over rsp" "$L" decommission unit-002 --as olga \
		--reason failed --device "$(rsp_uri "$port")"
	has "unit unit-002: decommissioned" out.txt "unit-002 reported decommissioned"
	expect 0 "unit-002 record after SOP 5" "$L" unit show --as olga unit-002 --json
	has '"state":"decommissioned"' out.txt "unit-002 is decommissioned in the registry"

	# (iii) The server dies while the image is written: a link failure, named as such;
	# the unit is quarantined (its state is not known), never shipped.
	sim_serve 3
	local victim=$server
	"$L" build --as olga --batch --serial unit-003 --device "$(rsp_uri "$port")&timeout=3000" \
		>b3.out 2>b3.err &
	local build=$!
	sleep 3
	kill "$victim"
	wait "$build"
	local got=$?
	check "the cut build failed (exit $got)" "[ $got -ne 0 ]"
	has "link lost\|link failure" b3.err "the failure is reported as a link failure"
	expect 0 "unit-003 record" "$L" unit show --as olga unit-003 --json
	has '"state":"quarantined"' out.txt "unit-003 is quarantined"
	# The station itself killed mid-build: the server ends that connection, keeps the
	# unit, and the next build reconciles the interrupted run and ships it.
	sim_serve 5
	"$L" build --as olga --batch --serial unit-005 --device "$(rsp_uri "$port")" >b5.out 2>b5.err &
	build=$!
	sleep 3
	kill -9 "$build"
	wait "$build" 2>/dev/null
	expect 0 "unit-005 built again after the station was killed" "$L" build --as olga --batch \
		--serial unit-005 --device "$(rsp_uri "$port")"
	has "unit unit-005: shipped" out.txt "unit-005 shipped"
	expect 0 "unit-005 history" "$L" unit show --as olga unit-005 --json
	has "interrupted" out.txt "the killed run is recorded as interrupted"
	expect 0 "the audit log verifies" "$L" audit verify
	stop_servers
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
