#!/usr/bin/env bash
# A jig with many sockets: `linesec line --fixture FILE` over units served by
# `linesec sim serve --probe-serial` on loopback ports. (i) A 3-socket gang
# ships its units; (ii) units seen through swapped probes, and a probe the
# file does not name, are skipped with the reason, not failed; (iii) a killed
# server's socket fails transient while the others go on, and a stuck flash
# bit fails permanent (in the step's evidence and the summary); (iv) --dry-run
# resolves a unit's plan and leaves the unit and the registry unchanged, and
# the build that follows preverifies the image already in flash and does not
# write it. On SQLite and PostgreSQL.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
# sock SOCKET PORT PROBE-SERIAL UNIT-SERIAL: one line of a fixture file's sockets.
sock() { echo "  - {socket: $1, probe: \"$(rsp_uri "$2")\", probe-serial: $3, serial: $4}"; }

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	line_with_release "$label" "$@" || return
	echo "== $label"
	# unit 5: a stuck flash bit (bit 1 of the image header's first byte reads 1).
	"$L" sim new --count 7 --dir fleet --seed 33 --fault-plan \
		<(echo '{"5": "stuck=0x0:1:1"}') >/dev/null || bad "sim new"

	# (i) Three sockets, three probes, three units: all ship.
	sim_serve 1 --probe-serial JIG-1
	sim_serve 2 --probe-serial JIG-2
	sim_serve 3 --probe-serial JIG-3
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_1" JIG-1 unit-001
	  sock 2 "$port_2" JIG-2 unit-002; sock 3 "$port_3" JIG-3 unit-003; } >jig.yaml
	expect 0 "a 3-socket gang over a fixture file" "$L" line --as olga --batch --fixture jig.yaml
	has "built and shipped 3" out.txt "the three units shipped"
	stop_servers

	# (ii) Cables swapped between sockets 1 and 2, and socket 3 on a probe the file does
	# not name: every one is skipped with the reason; nothing is failed or written.
	sim_serve 4 --probe-serial JIG-4
	sim_serve 6 --probe-serial JIG-6
	sim_serve 7 --probe-serial STRAY-9
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_6" JIG-4 unit-004
	  sock 2 "$port_4" JIG-6 unit-006; sock 3 "$port_7" JIG-7 unit-007; } >swapped.yaml
	expect 0 "a gang over swapped probes" "$L" line --as olga --batch --fixture swapped.yaml --json
	has '"skipped":3' out.txt "the three units are skipped"
	has '"failures":{}' out.txt "nothing is counted as a failure"
	has 'wrong probe: socket 1.*reports probe JIG-6, which swapped.yaml binds to socket 2' out.txt \
		"socket 1's skip names the probe it sees and the socket it belongs to"
	has 'probe not in the fixture file: socket 3.*STRAY-9' out.txt \
		"socket 3's skip names the stray probe"
	expect 6 "unit-004 was not registered" "$L" unit show --as olga unit-004
	stop_servers

	# (iii) Socket 3's server is gone: it fails transient; socket 2's stuck bit fails
	# permanent; socket 1 ships.
	sim_serve 4 --probe-serial JIG-4
	sim_serve 5 --probe-serial JIG-5
	sim_serve 6 --probe-serial JIG-6
	local dead=$port_6
	kill "$server"
	wait "$server" 2>/dev/null
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_4" JIG-4 unit-004
	  sock 2 "$port_5" JIG-5 unit-005; sock 3 "$dead" JIG-6 unit-006; } >faults.yaml
	expect 0 "a gang with a dead probe and a stuck bit" "$L" line --as olga --batch --fixture faults.yaml --json
	has '"shipped":1' out.txt "socket 1 shipped its unit"
	has '"transient":1' out.txt "one transient failure"
	has '"permanent":1' out.txt "one permanent failure"
	has '"failure-class":"transient"[^}]*"socket":3' out.txt "socket 3 failed transient"
	has '"failure-class":"permanent"[^}]*"socket":2' out.txt "socket 2 failed permanent"
	expect 0 "unit-005 history" "$L" unit show --as olga unit-005 --json
	has '"failure-class":"permanent"' out.txt "the failed step's evidence holds its class"
	expect 0 "the text summary" "$L" line --as olga --batch --fixture faults.yaml
	has "failures .* transient (reseat, retry), .* permanent" out.txt "the text summary counts classes"
	stop_servers

	# (iv) Unit 7 already holds the approved image. A dry run resolves it and writes
	# nothing: the device and the registry read the same after.
	"$L" sim flash "sim:fleet/unit-007.sim" new.img >/dev/null || bad "pre-flash unit-007"
	sim_serve 7 --probe-serial JIG-7
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_7" JIG-7 unit-007; } >one.yaml
	"$L" sim show "$(rsp_uri "$port_7")" --json >before.json || bad "sim show before"
	expect 0 "a dry run" "$L" line --as olga --batch --fixture one.yaml --dry-run
	has "already in flash (preverified" out.txt "the plan says the image is already there"
	has "nothing written" out.txt "the plan says nothing is written"
	"$L" sim show "$(rsp_uri "$port_7")" --json >after.json || bad "sim show after"
	check "the device reads the same after the dry run" "cmp -s before.json after.json"
	expect 6 "the dry run registered nothing" "$L" unit show --as olga unit-007
	expect 0 "the build after the dry run" "$L" line --as olga --batch --fixture one.yaml
	has "built and shipped 1" out.txt "unit-007 shipped"
	expect 0 "unit-007 history" "$L" unit show --as olga unit-007 --json
	has '"preverified":true' out.txt "the flash step preverified the image"
	has '"bytes-written":0' out.txt "and wrote nothing"
	expect 0 "the audit log verifies" "$L" audit verify
	stop_servers
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
