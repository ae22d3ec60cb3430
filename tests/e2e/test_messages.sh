#!/usr/bin/env bash
# Every failure message says what happened, to what, and what to do next,
# with no empty slot. A representative set of failing commands (a ship gate
# refused, a unit that does not boot, a missing witness, a clone, a product
# the line does not have, a release named wrongly, a password with no
# terminal, a gang re-run, a decommission and a scrap out of order, bad
# input files) runs on SQLite and PostgreSQL; everything they print is
# collected and read for holes with the patterns of testlib.sh
# (msg_hole_patterns: "()", "(SOP ,", ": ;", "''", a double space before
# punctuation, ...). A self-check shows the patterns catch the holes this
# suite once printed.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
notty() { setsid -w "$@"; }

# The patterns catch what they are for (the texts this suite once printed).
cat >holes-known.txt <<'TXT'
What to do next (SOP , step ship-gate):
linesec: unit 'u': step 's' of SOP 'flash' failed (boom); 
{"error":"x","next":"","step":""}
cannot witness step 'seal' of SOP 'debug-lock' on unit '': nobody
TXT
fails_before=$fails
while IFS= read -r line; do
	printf '%s\n' "$line" >one-hole.txt
	n=0
	for p in "${msg_hole_patterns[@]}"; do grep -qE -- "$p" one-hole.txt && n=$((n + 1)); done
	if [ "$n" -gt 0 ]; then ok "the patterns catch: $line"; else bad "no pattern catches: $line"; fi
done <holes-known.txt
[ "$fails" -eq "$fails_before" ] || echo "(the patterns of testlib.sh miss a known hole)"

suite() {
	local label=$1
	line_with_release "$@"
	e2e_log="$e2e_dir/$label.log"
	: >"$e2e_log"
	"$L" sim new --count 4 --dir fleet --seed 9 --clone 1:4 >/dev/null
	"$L" sim new --count 1 --dir boot --prefix bt- >/dev/null

	# The station: a clone, a product the line lacks, a wrongly named release, no witness.
	expect 0 "$label: unit-001 built" "$L" build --as olga --device sim:fleet/unit-001.sim --batch
	expect 9 "$label: building a shipped unit again" "$L" build --as olga --device sim:fleet/unit-001.sim --batch
	expect 9 "$label: the same, --json" "$L" build --as olga --device sim:fleet/unit-001.sim --batch --json
	expect 8 "$label: a clone" "$L" build --as olga --device sim:fleet/unit-004.sim --batch
	LINESEC_PASSWORD=alice-pw expect 4 "$label: a product the line does not have" \
		"$L" release submit --as alice new.img --product acme
	LINESEC_PASSWORD=bob-pw-123 expect 6 "$label: a release named without its build" \
		"$L" release approve --as bob sensor@2
	expect 2 "$label: no terminal for a signature" notty env -u LINESEC_PASSWORD \
		"$L" person add --as alice --role operator otto
	expect 10 "$label: the witness does not sign" notty env -u LINESEC_WITNESS_PASSWORD \
		"$L" build --as olga --device sim:fleet/unit-002.sim --batch
	"$L" logout sam >/dev/null
	expect 8 "$label: no supervisor logged in" "$L" build --as olga --device sim:fleet/unit-002.sim --batch
	LINESEC_PASSWORD=sam-pw-1234 "$L" login sam >/dev/null

	# A unit that does not boot after its lock: named as not booting.
	for s in flash provision secure-boot; do
		"$L" run "$s" --as olga --device sim:boot/bt-001.sim --batch >/dev/null
	done
	expect 9 "$label: a unit that does not boot at verify-locked" \
		"$L" run debug-lock --as olga --device 'sim:boot/bt-001.sim?boot_fail=1' --batch
	has "did not boot after its debug port was locked" err.txt "$label: the boot failure is named"

	# The ship gate refuses an incomplete unit; a gang re-run; its JSON.
	expect 0 "$label: unit-003 flashed" "$L" run flash --as olga --device sim:fleet/unit-003.sim --batch
	expect 8 "$label: the ship gate refuses a flashed unit" "$L" ship --as olga unit-003 --device sim:fleet/unit-003.sim
	expect 0 "$label: a gang run over the fleet" "$L" line --as olga --devices 'sim:fleet/*' --gang 2 --batch
	expect 0 "$label: a gang re-run" "$L" line --as olga --devices 'sim:fleet/*' --gang 2 --batch
	has "already shipped   3 (not built again)" out.txt "$label: a re-run counts shipped units as already shipped"
	expect 0 "$label: a gang re-run, --json" "$L" line --as olga --devices 'sim:fleet/*' --gang 2 --batch --json

	# SOP 5 out of order, bad inputs, unknown things.
	expect 9 "$label: decommission a shipped unit" \
		"$L" decommission --as olga unit-001 --reason failed --device sim:fleet/unit-001.sim --json
	expect 9 "$label: scrap a shipped unit" "$L" scrap --as olga unit-001 --method shred
	expect 6 "$label: an unknown unit" "$L" unit show --as olga unit-999
	expect 2 "$label: an unknown SOP" "$L" run calibrate --as olga --device sim:fleet/unit-002.sim --batch
	printf 'sop: flash\nversion: x\n' >bad.yaml
	expect 4 "$label: a malformed SOP file" "$L" sop check bad.yaml
	expect 3 "$label: a missing image" "$L" image inspect missing.img
	LINESEC_PASSWORD=wrong-password expect 10 "$label: a wrong password" "$L" login alice
	expect 2 "$label: a bad sim prefix" "$L" sim new --count 1 --dir p --prefix '../x'
	e2e_log=""
	no_holes "$e2e_dir/$label.log" "$label"
}
run_on_sqlite suite sqlite
run_on_postgres suite pg
finish
