#!/usr/bin/env bash
# The SOP controls the station enforces (docs/sop.md): an operator who has
# not acknowledged reading the approved version of a SOP is refused a run,
# acknowledges it (a signature), runs; a newly approved version is refused
# again until acknowledged; an acknowledgement row put in by SQL lets no one
# run. A version withdrawn from every station: requested by one security
# officer (runs still allowed), approved by a distinct one (every run
# refused, and no older version runs in its place); one officer cannot do
# both; deleting the withdrawal row by SQL does not bring the version back.
# Every refusal is a sop.refused leaf. With LSEC_TEST_PG_URL set, the same
# run is repeated against a PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
# shellcheck source=weblib.sh
. "$(dirname "${BASH_SOURCE[0]}")/weblib.sh"

# leaves ACTION OUTCOME PERSON: how many leaves of ACTION with OUTCOME by PERSON the log holds.
leaves() {
	local text="CAST(leaf AS TEXT)"
	[ -z "$pg_url" ] || text="convert_from(leaf, 'UTF8')"
	sql "SELECT COUNT(*) FROM audit_leaves WHERE $text LIKE '%\"action\":\"$1\"%' AND
	     $text LIKE '%\"outcome\":\"$2\"%' AND $text LIKE '%\"person\":\"$3\"%'"
}


# web_suite LABEL: acknowledging and withdrawing through `linesec serve`.
web_suite() {
	local label=$1 tok n id sha
	web_serve
	[ -n "$url" ] || return
	req anon "$url/ack"
	check "$label: web: /ack without a session is refused (401)" "[ $code = 401 ]"
	web_login oscar oscar ack-oscar-pw1
	req oscar "$url/ack"
	check "$label: web: oscar's /ack page (200)" "[ $code = 200 ]"
	check "$label: web: ... lists provision v1, which oscar has not acknowledged" \
		"grep -q 'name=\"sop\" value=\"provision\"' oscar.html"
	check "$label: web: ... not flash, which oscar has" \
		"! grep -q 'name=\"sop\" value=\"flash\"' oscar.html"
	has 'href="/sops/provision/1"' oscar.html "$label: web: ... with a link to read it"
	has 'read-and-understood' oscar.html "$label: web: ... saying what the signature means"
	tok=$(csrf_of oscar.html)
	sha=$("$LINESEC" sop list --json provision | sed -n 's/.*"sha256":"\([0-9a-f]*\)".*/\1/p')
	n=$(leaves sop.acknowledge done oscar)
	req oscar --data-urlencode "sop=provision" --data-urlencode "version=1" \
		--data-urlencode "sha256=x" --data-urlencode "password=ack-oscar-pw1" "$url/ack"
	check "$label: web: a POST /ack without the CSRF token is refused (403)" "[ $code = 403 ]"
	req oscar --data-urlencode "csrf=$tok" --data-urlencode "sop=provision" \
		--data-urlencode "version=1" --data-urlencode "password=not-oscars" \
		--data-urlencode "sha256=$sha" \
		"$url/ack"
	check "$label: web: a wrong password acknowledges nothing (403)" "[ $code = 403 ]"
	check "$label: web: ... no leaf" "[ \"\$(leaves sop.acknowledge done oscar)\" = $n ]"
	req oscar "$url/ack"
	req oscar --data-urlencode "csrf=$(csrf_of oscar.html)" --data-urlencode "sop=provision" \
		--data-urlencode "version=1" --data-urlencode "password=ack-oscar-pw1" \
		--data-urlencode "sha256=$sha" \
		"$url/ack"
	check "$label: web: oscar acknowledges provision v1 with his password (200)" "[ $code = 200 ]"
	has "oscar acknowledged SOP provision version 1" oscar.html "$label: web: ... says so"
	check "$label: web: ... a sop.acknowledge leaf, as the CLI records" \
		"[ \"\$(leaves sop.acknowledge done oscar)\" = $((n + 1)) ]"
	expect 0 "$label: web: the CLI sees it" "$LINESEC" sop list --as oscar --json provision
	has '"acknowledged":true' out.txt "$label: web: ... acknowledged"

	# Withdrawal on the web: security officers only, two of them.
	req oscar "$url/sops/withdraw"
	check "$label: web: an operator cannot see the withdrawals (403)" "[ $code = 403 ]"
	req oscar --data-urlencode "csrf=$(csrf_of oscar.html)" --data-urlencode "sop=provision" \
		--data-urlencode "version=1" --data-urlencode "reason=x" \
		--data-urlencode "password=ack-oscar-pw1" "$url/sops/withdraw"
	check "$label: web: ... nor request one (403)" "[ $code = 403 ]"
	web_login alice alice alice-pw
	web_login bob bob bob-pw-123
	req alice "$url/sops/withdraw"
	check "$label: web: alice's withdrawal page (200)" "[ $code = 200 ]"
	req alice --data-urlencode "sop=provision" --data-urlencode "version=1" \
		--data-urlencode "reason=x" --data-urlencode "password=alice-pw" "$url/sops/withdraw"
	check "$label: web: a request without the CSRF token is refused (403)" "[ $code = 403 ]"
	req alice "$url/sops/withdraw"
	req alice --data-urlencode "csrf=$(csrf_of alice.html)" --data-urlencode "sop=provision" \
		--data-urlencode "version=1" --data-urlencode "reason=label printer <b>misfeeds</b>" \
		--data-urlencode "password=alice-pw" "$url/sops/withdraw"
	check "$label: web: alice requests withdrawing provision v1 (200)" "[ $code = 200 ]"
	id=$(sed -n 's/.*change \([0-9]*\) requested.*/\1/p' alice.html | head -n 1)
	check "$label: web: ... change id" "[ -n \"$id\" ]"
	has 'label printer &lt;b&gt;misfeeds' alice.html "$label: web: ... the reason listed, escaped"
	req alice --data-urlencode "csrf=$(csrf_of alice.html)" --data-urlencode "change=$id" \
		--data-urlencode "password=alice-pw" "$url/sops/withdraw/approve"
	check "$label: web: alice cannot approve her own request (403)" "[ $code = 403 ]"
	has "second, distinct security officer" alice.html "$label: web: ... says why"
	expect 0 "$label: web: provision still runs while pending" \
		"$LINESEC" run provision --as oscar --batch --device sim:fleet/unit-003.sim
	req bob "$url/sops/withdraw"
	req bob --data-urlencode "csrf=$(csrf_of bob.html)" --data-urlencode "change=$id" \
		--data-urlencode "password=bob-pw-123" "$url/sops/withdraw/approve"
	check "$label: web: bob approves it (200)" "[ $code = 200 ]"
	expect 9 "$label: web: provision v1 is withdrawn from the station" \
		"$LINESEC" run provision --as oscar --batch --device sim:fleet/unit-004.sim
	has "SOP 'provision' version 1 was withdrawn" err.txt "$label: web: ... named"
	stop_servers
}

run_suite() {
	local label=$1 L=$LINESEC out id sha n
	shift
	echo "== $label"
	line_with_release "$label" "$@" || return
	pg_url=$e2e_pg_url
	add_person alice alice-pw bob bob-pw-123 oscar operator ack-oscar-pw1
	LINESEC_PASSWORD=ack-oscar-pw1 "$L" login oscar >/dev/null || bad "$label: login oscar"
	"$L" sim new --count 5 --dir fleet --seed 31 >/dev/null || bad "$label: sim new"

	# Not acknowledged: refused before the unit is touched, named, recorded.
	expect 9 "$label: oscar has not acknowledged flash v1: the run is refused" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-001.sim
	has "'oscar' has not acknowledged SOP 'flash' version 1" err.txt \
		"$label: ... the refusal names the person, the SOP and the version"
	has "linesec sop ack flash --version 1" err.txt "$label: ... and the command to acknowledge"
	check "$label: ... recorded as a sop.refused leaf" \
		"[ \"\$(leaves sop.refused refused-unacknowledged oscar)\" = 1 ]"
	check "$label: ... and unit-001 was never registered" \
		"[ -z \"\$(sql \"SELECT serial FROM units WHERE serial = 'unit-001'\")\" ]"
	expect 9 "$label: build is refused too, before its first SOP" \
		"$L" build --as oscar --batch --device sim:fleet/unit-001.sim
	has "has not acknowledged SOP 'flash' version 1" err.txt "$label: ... naming the SOP"

	expect 0 "$label: a gang run by oscar (line) ends with its summary" \
		"$L" line --as oscar --devices 'sim:fleet/unit-00[12].sim' --gang 2 --batch
	cat out.txt err.txt >gang.txt
	has "refused at entry  *2" gang.txt "$label: ... every socket refused at entry"
	has "unit-002 .*'oscar' has not acknowledged SOP 'flash' version 1" gang.txt \
		"$label: ... each naming the SOP and version"
	check "$label: ... and no unit was registered" "[ \"\$(sql 'SELECT COUNT(*) FROM units')\" = 0 ]"

	# A row put in by SQL is not an acknowledgement: the leaf is.
	sha=$("$L" sop list --json flash | sed -n 's/.*"sha256":"\([0-9a-f]*\)".*/\1/p' | head -n 1)
	check "$label: flash v1 has a SHA-256" "[ \${#sha} = 64 ]"
	sql "INSERT INTO sop_acknowledgements (sop, version, digest, person, created)
	     VALUES ('flash', '1', '$sha', 'oscar', '2026-01-01T00:00:00Z')"
	expect 9 "$label: an acknowledgement row inserted by SQL lets oscar run nothing" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-001.sim
	has "holds an acknowledgement that no sop.acknowledge leaf records" err.txt \
		"$label: ... and the refusal says the registry was changed outside linesec"

	# Acknowledging is a signature: a wrong password acknowledges nothing.
	expect 10 "$label: acknowledging with a wrong password is refused" \
		env LINESEC_PASSWORD=not-oscars-pw "$L" sop ack --as oscar flash
	check "$label: ... recorded as a refused signature" \
		"[ \"\$(leaves signature refused oscar)\" -ge 1 ]"
	expect 0 "$label: oscar acknowledges flash (the current approved version)" \
		env LINESEC_PASSWORD=ack-oscar-pw1 "$L" sop ack --as oscar flash
	has "oscar acknowledged SOP flash version 1" out.txt "$label: ... version 1"
	check "$label: ... a sop.acknowledge leaf by oscar" \
		"[ \"\$(leaves sop.acknowledge done oscar)\" = 1 ]"
	expect 7 "$label: acknowledging it twice is refused" \
		env LINESEC_PASSWORD=ack-oscar-pw1 "$L" sop ack --as oscar flash
	expect 8 "$label: acknowledging a SHA-256 other than the version's is refused" \
		env LINESEC_PASSWORD=ack-oscar-pw1 "$L" sop ack --as oscar provision \
		--sha256 0000000000000000000000000000000000000000000000000000000000000000
	expect 0 "$label: sop list --json says whether oscar acknowledged each version" \
		"$L" sop list --as oscar --json
	check "$label: ... flash v1 acknowledged, provision v1 not" \
		"grep -q '\"acknowledged\":true,[^}]*\"sop\":\"flash\"' out.txt &&
		 grep -q '\"acknowledged\":false,[^}]*\"sop\":\"provision\"' out.txt"
	expect 0 "$label: sop list shows oscar's acknowledgements" "$L" sop list --as oscar flash
	has "^flash .* approved  *yes " out.txt "$label: ... READ yes for flash v1"
	expect 0 "$label: acknowledged, oscar runs flash on unit-001" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-001.sim

	# A new version approved: refused again until acknowledged.
	sed 's/^version: 1$/version: 2/; s/^change: .*/change: Second issue./' line/sops/flash.yaml >flash-v2.yaml
	"$L" sop submit --as sam flash-v2.yaml >/dev/null || bad "$label: submit flash v2"
	LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice flash 2 >/dev/null || bad "$label: approve v2 (alice)"
	LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob flash 2 >/dev/null || bad "$label: approve v2 (bob)"
	expect 9 "$label: flash v2 approved: oscar, who read v1 only, is refused" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-002.sim
	has "has not acknowledged SOP 'flash' version 2" err.txt "$label: ... naming version 2"
	expect 0 "$label: oscar acknowledges v2" \
		env LINESEC_PASSWORD=ack-oscar-pw1 "$L" sop ack --as oscar flash --version 2
	expect 0 "$label: ... and runs it" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-002.sim

	# Withdrawal: requested by alice, nothing changes yet.
	expect 10 "$label: an operator cannot request a withdrawal" \
		env LINESEC_PASSWORD=ack-oscar-pw1 "$L" sop withdraw --as oscar flash 2 --reason x
	expect 0 "$label: alice requests withdrawing flash v2" \
		env LINESEC_PASSWORD=alice-pw "$L" sop withdraw --as alice flash 2 \
		--reason "step 3 holds the wrong reset pin"
	id=$(sed -n 's/^change \([0-9]*\) requested.*/\1/p' out.txt)
	check "$label: ... a change id" "[ -n \"$id\" ]"
	expect 0 "$label: requested, not approved: flash v2 still runs" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-003.sim
	expect 8 "$label: alice cannot approve her own request" \
		env LINESEC_PASSWORD=alice-pw "$L" change approve --as alice "$id"
	has "a second, distinct security officer must approve" err.txt "$label: ... says why"
	expect 0 "$label: still runnable after the refused self-approval" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-004.sim
	expect 0 "$label: bob approves the withdrawal" \
		env LINESEC_PASSWORD=bob-pw-123 "$L" change approve --as bob "$id"
	check "$label: ... a sop.withdraw leaf by bob" \
		"[ \"\$(leaves sop.withdraw done bob)\" = 1 ]"
	expect 9 "$label: withdrawn: the station refuses flash" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-005.sim
	has "SOP 'flash' version 2 was withdrawn from every station" err.txt \
		"$label: ... naming the SOP and version"
	has "step 3 holds the wrong reset pin" err.txt "$label: ... and the reason"
	has "cannot run until a new version is submitted and approved" err.txt \
		"$label: ... no older version runs in its place"
	check "$label: ... recorded as a sop.refused leaf" \
		"[ \"\$(leaves sop.refused refused-withdrawn oscar)\" = 1 ]"
	expect 9 "$label: olga (who read v2) is refused too" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-005.sim
	expect 0 "$label: sop list" "$L" sop list flash
	has "^flash  *2 .*withdrawn" out.txt "$label: ... shows v2 withdrawn"
	has "^flash  *1 .*approved" out.txt "$label: ... and v1 as it was"

	# Deleting the row by SQL does not un-withdraw: the leaf is the truth.
	sql "DELETE FROM sop_withdrawals"
	n=$(sql "SELECT COUNT(*) FROM sop_withdrawals")
	check "$label: the withdrawal row is gone" "[ \"$n\" = 0 ]"
	expect 9 "$label: ... and flash v2 is still refused" \
		"$L" run flash --as oscar --batch --device sim:fleet/unit-005.sim
	has "was withdrawn from every station" err.txt "$label: ... as withdrawn"
	web_suite "$label"
	expect 5 "$label: audit verify names the withdrawal row SQL deleted" "$L" audit verify
	has "sop_withdrawals.*flash@2" err.txt "$label: ... table sop_withdrawals, key flash@2"
	check "$label: ... and nothing else differs" "[ \"\$(grep -c 'sop_acknowledgements' err.txt)\" = 0 ]"
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
