#!/usr/bin/env bash
# A jig with many sockets: `linesec line --fixture FILE` over units served by
# `linesec sim serve --probe-serial` on loopback ports. (i) A 3-socket gang
# ships its units; (ii) units seen through swapped probes, and a probe the
# file does not name, are skipped with the reason, not failed; (iii) a killed
# server's socket fails transient while the others go on, and a stuck flash
# bit fails permanent (in the step's evidence and the summary); (iv) --dry-run
# resolves a unit's plan and leaves the unit and the registry unchanged, and
# the build that follows preverifies the image already in flash and does not
# write it; (v) a socket bound to a probe serial whose server reports none,
# and a socket binding none whose server reports another socket's, are
# skipped, not built, and each skip is a device.identify leaf; (vi) `serial:
# scan` on a probe takes a registered unit's serial from the registry by
# its UID (dry run and build), and refuses an unregistered unit; a dry run
# takes a new unit's product as the build does (--product); (vii) with
# the release revoked the fixture run stops the line (exit 9) as a
# --devices run does. On SQLite and PostgreSQL.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
# sock SOCKET PORT PROBE-SERIAL UNIT-SERIAL: one line of a fixture file's sockets.
sock() { echo "  - {socket: $1, probe: \"$(rsp_uri "$2")\", probe-serial: $3, serial: $4}"; }
leaf_text() { if [ -n "${e2e_pg_url:-}" ]; then echo "convert_from(leaf, 'UTF8')"; else echo "CAST(leaf AS TEXT)"; fi; }

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	line_with_release "$label" "$@" || return
	echo "== $label"
	# unit 5: a stuck flash bit (bit 1 of the image header's first byte reads 1).
	"$L" sim new --count 9 --dir fleet --seed 33 --fault-plan \
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

	# (v) Servers that report no probe serial while the file binds one: not verified,
	# skipped. Then the cables swapped where socket 1 binds no probe serial: its server
	# reports socket 2's probe, and it is skipped, not built as unit-008.
	sim_serve 8
	sim_serve 9
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_8" JIG-8 unit-008
	  sock 2 "$port_9" JIG-9 unit-009; } >noserial.yaml
	expect 0 "a gang whose servers report no probe serial" "$L" line --as olga --batch \
		--fixture noserial.yaml --json
	has '"skipped":2' out.txt "both sockets are skipped"
	has 'cannot verify probe: socket 1.*reports no probe serial; noserial.yaml binds probe JIG-8' \
		out.txt "the skip names the probe serial the file binds"
	stop_servers
	sim_serve 8 --probe-serial JIG-8
	sim_serve 9 --probe-serial JIG-9
	{ echo "fixture: 1"; echo "sockets:"
	  echo "  - {socket: 1, probe: \"$(rsp_uri "$port_9")\", serial: unit-008}"
	  sock 2 "$port_8" JIG-9 unit-009; } >unbound.yaml
	expect 0 "a gang over swapped probes, socket 1 binding none" "$L" line --as olga --batch \
		--fixture unbound.yaml --json
	has '"skipped":2' out.txt "both sockets are skipped"
	has 'wrong probe: socket 1.*reports probe JIG-9, which unbound.yaml binds to socket 2' out.txt \
		"socket 1's skip names the probe it sees"
	expect 6 "unit-009's chip was not built as unit-008" "$L" unit show --as olga unit-008
	# Every skip is in the log: socket, probe, reported and expected probe serials.
	sql "SELECT $(leaf_text) FROM audit_leaves WHERE $(leaf_text) LIKE '%device.identify%skipped%'" \
		>skips.txt
	has '"expected-probe-serial":"JIG-8".*"probe-serial":""' skips.txt \
		"the unverified probe's skip is recorded"
	has '"expected-probe-serial":"".*"probe-serial":"JIG-9".*"socket":1' skips.txt \
		"the swapped probe's skip is recorded with its socket"
	has '"expected-probe-serial":"JIG-4".*"probe-serial":"JIG-6".*"socket":1' skips.txt \
		"(ii)'s swapped cables are recorded too"
	stop_servers

	# (vi) serial: scan on a probe: unit-008, registered by its flash SOP, is named by
	# the registry from its UID; unit-009, not registered, has no serial to take.
	expect 0 "unit-008 flashed" "$L" run flash --as olga --batch --device sim:fleet/unit-008.sim
	sim_serve 8 --probe-serial JIG-8
	sim_serve 9 --probe-serial JIG-9
	{ echo "fixture: 1"; echo "sockets:"
	  echo "  - {socket: 1, probe: \"$(rsp_uri "$port_8")\", probe-serial: JIG-8, serial: scan}"; } >scan.yaml
	expect 0 "a dry run of serial: scan" "$L" line --as olga --batch --fixture scan.yaml --dry-run
	has "unit unit-008 (UID" out.txt "the dry run names the registered serial"
	expect 0 "a build of serial: scan" "$L" line --as olga --batch --fixture scan.yaml --json
	has '"shipped":1' out.txt "the scanned unit shipped"
	has '"serial":"unit-008"' out.txt "under its registered serial"
	{ echo "fixture: 1"; echo "sockets:"
	  echo "  - {socket: 1, probe: \"$(rsp_uri "$port_9")\", probe-serial: JIG-9, serial: scan}"; } >scan9.yaml
	expect 0 "serial: scan of an unregistered unit" "$L" line --as olga --batch --fixture scan9.yaml --json
	has 'no unit of UID [0-9a-f]* is registered; pass the serial' out.txt \
		"the unregistered unit is refused, naming what to give"
	# A dry run takes a new unit's product as the build does: on a line of two products,
	# none without --product, and the one --product names.
	cp line/line.yaml line.yaml.one
	printf '  - id: meter\n    target: "sim://"\n' >>line/line.yaml
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_9" JIG-9 unit-009; } >new9.yaml
	expect 0 "a dry run of a new unit on a line of two products" "$L" line --as olga --batch \
		--fixture new9.yaml --dry-run --json
	has "builds 2 products .*name the unit's product with --product" out.txt \
		"the dry run asks for the product, as the build would"
	expect 0 "a dry run with --product meter" "$L" line --as olga --batch --fixture new9.yaml \
		--dry-run --product meter --json
	has "no approved release of product 'meter'" out.txt "the dry run plans the product named"
	cp line.yaml.one line/line.yaml
	stop_servers

	# (vii) The release revoked: the fixture run stops the line, as --devices does.
	LINESEC_PASSWORD=alice-pw "$L" release revoke --as alice sensor@2.0.0 >/dev/null ||
		bad "revoke sensor@2.0.0"
	sim_serve 9 --probe-serial JIG-9
	{ echo "fixture: 1"; echo "sockets:"; sock 1 "$port_9" JIG-9 unit-009; } >stop.yaml
	expect 9 "a fixture run without a release stops the line" "$L" line --as olga --batch \
		--fixture stop.yaml --json
	has '"stopped":true' out.txt "the summary says the line stopped"
	has '"stop-reason":"[^"]*release' out.txt "and why"
	stop_servers
	expect 9 "a --devices run stops the same way" "$L" line --as olga --batch \
		--devices 'sim:fleet/unit-009.sim'
	expect 0 "the audit log verifies after" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
