#!/usr/bin/env bash
# A witness is a signature typed at that moment, and a session ends when it
# is left idle (docs/line.md "Signatures" and "Sessions", docs/station.md
# "Witnesses"), tried through the command line as an insider would:
#  - the supervisor is logged in, but nobody types the witness's password:
#    the debug-lock run (whose tamper seal needs the supervisor's witness)
#    is refused before its first step, the debug port is never locked, no
#    leaf names a witness; --batch does not sign for the witness; with no
#    supervisor logged in, a build is refused before its first SOP (nothing
#    recorded for the unit), naming the step and what to do;
#  - a wrong witness password is a refused signature leaf, the step fails
#    and nothing is witnessed; the right one: the seal's leaf records who
#    witnessed, in which role, and that the signature means "witnessed";
#  - scrap likewise: no password or a wrong one records nothing, the right
#    one records the destruction with the witness and the meaning;
#  - with session.idle_seconds small in line.yaml (8 s: each command may take
#    a second or two on a loaded machine), a session is refused
#    after it went unused that long (a logout leaf, reason idle), activity
#    keeps it alive, and a sessions row made to look fresh by SQL does not
#    revive it.
# Each check reads the audit log.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
# text: the SQL for a leaf's bytes as text, on either backend.
text() { if [ -n "${e2e_pg_url:-}" ]; then echo "convert_from(leaf, 'UTF8')"; else echo "CAST(leaf AS TEXT)"; fi; }
leaves() { # leaves ACTION [LIKE-PATTERN...]: how many leaves of ACTION hold every pattern
	local q="SELECT COUNT(*) FROM audit_leaves WHERE action LIKE '$1'" p
	shift
	for p in "$@"; do q="$q AND $(text) LIKE '%$p%'"; done
	sql "$q"
}
# No terminal: a password nobody typed cannot be asked for.
notty() { setsid -w "$@"; }

suite() {
	local label=$1 sam_pw=sam-pw-1234
	line_with_release "$@"
	unset LINESEC_WITNESS_PASSWORD
	for s in decommission; do
		"$L" sop submit --as sam "line/sops/$s.yaml" >/dev/null
		LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice "$s" 1 >/dev/null
		LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob "$s" 1 >/dev/null ||
			bad "$label: the decommission SOP was not approved"
	done
	ack_sops olga olga-pw-123 decommission
	"$L" sim new --count 3 --dir units --seed 23 >/dev/null || bad "$label: sim new"
	"$L" logout alice >/dev/null
	"$L" logout bob >/dev/null

	# 1. sam is logged in, nobody types his password: refused before the lock, --batch or not.
	expect 10 "$label: a build whose debug-lock needs a witness who does not sign is refused" \
		notty "$L" build --as olga --device sim:units/unit-001.sim --batch
	has "witness step 'seal' of SOP 'debug-lock' on unit 'unit-001'" err.txt \
		"$label: the refusal names the witness step"
	has "nothing was done to the unit" err.txt "$label: the refusal says nothing was done"
	check "$label: the debug port was never locked (no debug.lock leaf)" \
		"[ \"\$(leaves debug.lock)\" = 0 ]"
	check "$label: no leaf names a witness" "[ \"\$(leaves % witnessed-by)\" = 0 ]"
	check "$label: the build was refused before its first SOP (unit-001 never registered)" \
		"[ \"\$(leaves unit.register '\"unit\":\"unit-001\"')\" = 0 ]"
	# The SOPs without a witness run alone; debug-lock's seal still needs sam's signature.
	for s in flash provision secure-boot; do
		expect 0 "$label: run $s on unit-001 (no witness needed)" \
			notty "$L" run "$s" --as olga --device sim:units/unit-001.sim --batch
	done
	expect 10 "$label: run debug-lock --batch does not sign for the witness either" \
		notty "$L" run debug-lock --as olga --device sim:units/unit-001.sim --batch
	check "$label: still no debug.lock leaf" "[ \"\$(leaves debug.lock)\" = 0 ]"
	# --witness names who witnesses: someone logged in here, never the operator.
	LINESEC_WITNESS_PASSWORD=$sam_pw expect 10 "$label: --witness bob, not logged in, is refused" \
		"$L" run debug-lock --as olga --witness bob --device sim:units/unit-001.sim --batch
	LINESEC_WITNESS_PASSWORD=$sam_pw expect 8 "$label: the operator cannot witness herself" \
		"$L" run debug-lock --as olga --witness olga --device sim:units/unit-001.sim --batch
	check "$label: still no debug.lock leaf after both" "[ \"\$(leaves debug.lock)\" = 0 ]"

	# 2. A wrong witness password: a refused signature of sam, the seal fails, nothing witnessed.
	LINESEC_WITNESS_PASSWORD=not-sams-password expect 9 \
		"$label: a wrong witness password fails the seal step" \
		"$L" run debug-lock --as olga --device sim:units/unit-001.sim --batch
	check "$label: the refused witness signature is a leaf naming sam" \
		"[ \"\$(leaves signature '\"outcome\":\"refused\"' '\"person\":\"sam\"')\" = 1 ]"
	check "$label: the seal step failed" \
		"[ \"\$(leaves confirm '\"step\":\"seal\"' '\"outcome\":\"failed\"')\" = 1 ]"
	check "$label: still no leaf names a witness" "[ \"\$(leaves % witnessed-by)\" = 0 ]"

	# 3. sam signs: the seal's leaf says who witnessed, in which role, and what it means.
	LINESEC_WITNESS_PASSWORD=$sam_pw expect 0 "$label: with sam's signature unit-002 ships" \
		"$L" build --as olga --witness sam --device sim:units/unit-002.sim --batch
	check "$label: the seal leaf holds witnessed-by sam, his role and meaning witnessed" \
		"[ \"\$(leaves confirm '\"step\":\"seal\"' '\"outcome\":\"passed\"' '\"witnessed-by\":\"sam\"' '\"witness-role\":\"supervisor\"' '\"meaning\":\"witnessed\"')\" = 1 ]"

	# 3b. No supervisor logged in at all: the build is refused before its first SOP, naming
	# the step, who is missing and what to do; nothing is recorded for the unit.
	"$L" logout sam >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" login alice >/dev/null
	LINESEC_WITNESS_PASSWORD=$sam_pw expect 8 "$label: a build with no supervisor logged in is refused" \
		"$L" build --as olga --device sim:units/unit-003.sim --batch
	has "cannot witness step 'seal' of SOP 'debug-lock' on unit 'unit-003': 'alice' is a security-officer, the step needs a supervisor: a supervisor logs in on station" err.txt \
		"$label: the refusal names the step, the person present and what to do"
	check "$label: nothing was recorded for unit-003" \
		"[ \"\$(leaves % '\"unit\":\"unit-003\"')\" = 0 ]"
	"$L" logout alice >/dev/null
	LINESEC_PASSWORD=$sam_pw "$L" login sam >/dev/null

	# 4. Scrap: no password, a wrong one, then sam's.
	expect 0 "$label: unit-001 decommissioned" \
		"$L" decommission unit-001 --as olga --reason compromised
	expect 10 "$label: scrap without the witness's password is refused" \
		notty "$L" scrap unit-001 --as olga --method shred
	LINESEC_WITNESS_PASSWORD=not-sams-password expect 10 \
		"$label: scrap with a wrong witness password is refused" \
		"$L" scrap unit-001 --as olga --method shred
	check "$label: nothing was scrapped" \
		"[ \"\$(leaves scrap.record)\" = 0 ] && [ \"\$(sql \"SELECT COUNT(*) FROM scrap_records\")\" = 0 ]"
	check "$label: the second refused witness signature is a leaf" \
		"[ \"\$(leaves signature '\"outcome\":\"refused\"' '\"person\":\"sam\"')\" = 2 ]"
	LINESEC_WITNESS_PASSWORD=$sam_pw expect 0 "$label: sam signs the scrap" \
		"$L" scrap unit-001 --as olga --method shred
	check "$label: the scrap leaf holds witnessed-by sam and meaning witnessed" \
		"[ \"\$(leaves scrap.record '\"witnessed-by\":\"sam\"' '\"meaning\":\"witnessed\"')\" = 1 ]"
	expect 0 "$label: the log verifies" "$L" audit verify

	# 5. Idle sessions: 8 seconds here (session.idle_seconds, for tests).
	sed -i 's/^  idle_minutes: .*/  idle_seconds: 8/' line/line.yaml
	LINESEC_PASSWORD=olga-pw-123 expect 0 "$label: olga logs in" "$L" login olga
	has "ends after 8 seconds without activity" out.txt "$label: login says when an idle session ends"
	for i in 1 2 3; do
		sleep 3
		expect 0 "$label: olga acts within the idle time ($i)" "$L" unit list --as olga
	done
	sleep 10
	expect 10 "$label: after 8 idle seconds olga's session is refused" "$L" unit list --as olga
	has "without activity" err.txt "$label: the refusal says the session went idle"
	has "log in again" err.txt "$label: and tells her to log in again"
	check "$label: the idle end is a logout leaf of olga, reason idle" \
		"[ \"\$(leaves logout '\"person\":\"olga\"' '\"reason\":\"idle\"')\" = 1 ]"
	expect 10 "$label: the ended session stays ended" "$L" unit list --as olga
	has "not logged in" err.txt "$label: olga is no longer logged in"
	# A sessions row made to look fresh by SQL does not extend an idle session.
	LINESEC_PASSWORD=olga-pw-123 expect 0 "$label: olga logs in again" "$L" login olga
	sleep 10
	now=$(date +%s)
	sql "UPDATE sessions SET created = $now, expires = $((now + 3600)) WHERE revoked = 0" >/dev/null
	expect 10 "$label: a fresh-looking sessions row does not revive an idle session" \
		"$L" unit list --as olga
	has "without activity" err.txt "$label: refused as idle"
	check "$label: two idle ends recorded" \
		"[ \"\$(leaves logout '\"person\":\"olga\"' '\"reason\":\"idle\"')\" = 2 ]"
	# Nor does a last activity written into the session file ahead of the clock.
	LINESEC_PASSWORD=olga-pw-123 expect 0 "$label: olga logs in a third time" "$L" login olga
	sleep 10
	sed -i "3s/.*/$(($(date +%s) + 86400))/" line/.sessions/olga
	expect 10 "$label: a last activity set in the future does not keep the session alive" \
		"$L" unit list --as olga
	has "without activity" err.txt "$label: refused as idle from its login"
	sed -i 's/^  idle_seconds: 8/  idle_minutes: 0/' line/line.yaml
	expect 4 "$label: an idle time of 0 is refused at its line and column" "$L" unit list --as sam
	has "line.yaml': line [0-9]*, column [0-9]*: session.idle_minutes '0' must be a whole number" \
		err.txt "$label: the refusal names the key, its line and column"
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
