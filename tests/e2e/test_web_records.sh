#!/usr/bin/env bash
# The web console's record pages through `linesec serve` with curl:
# releases approved on the web by a second security officer re-entering
# their password (an operator, no CSRF token, a wrong password and the
# submitter are refused, each refusal where the log records it), people and
# pending changes approved on the web, a unit's device history record with
# an inclusion proof `linesec audit check-proof` accepts, and the scrap
# record. With LSEC_TEST_PG_URL set, the same run is repeated against a
# PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
# shellcheck source=weblib.sh
. "$(dirname "${BASH_SOURCE[0]}")/weblib.sh"

# leaves ACTION OUTCOME [PERSON]: how many such leaves the log holds.
leaves() {
	local text="CAST(leaf AS TEXT)"
	[ -z "$pg_url" ] || text="convert_from(leaf, 'UTF8')"
	local q="SELECT COUNT(*) FROM audit_leaves WHERE $text LIKE '%\"action\":\"$1\"%'"
	q="$q AND $text LIKE '%\"outcome\":\"$2%'"
	[ -z "${3:-}" ] || q="$q AND $text LIKE '%\"person\":\"$3\"%'"
	sql "$q"
}
release_state() { sql "SELECT COUNT(*) FROM release_approvals a JOIN releases r ON r.id = a.release_id WHERE r.version = '$1'"; }

run_suite() {
	local label=$1 rid n0 n1
	shift
	echo "== $label"
	line_with_release "$label" "$@" || return
	pg_url=$e2e_pg_url
	"$LINESEC" sop submit --as sam line/sops/decommission.yaml >/dev/null &&
		LINESEC_PASSWORD=alice-pw "$LINESEC" sop approve --as alice decommission 1 >/dev/null &&
		LINESEC_PASSWORD=bob-pw-123 "$LINESEC" sop approve --as bob decommission 1 >/dev/null ||
		bad "$label: the decommission SOP approved"
	ack_sops olga olga-pw-123 decommission
	# Release 2.1.0, submitted on the command line by alice.
	"$LINESEC" image sign --key fw.pem --product sensor --version 2.1.0 --build release \
		--security-counter 2 --embed-pubkey app.bin v21.img >/dev/null || bad "$label: image sign"
	LINESEC_PASSWORD=alice-pw "$LINESEC" release submit --as alice v21.img --product sensor \
		>/dev/null || bad "$label: release submit"
	rid=$(sql "SELECT id FROM releases WHERE version = '2.1.0'")
	digest=$(sql "SELECT digest FROM releases WHERE version = '2.1.0'")
	# unit-001 never boots: its build fails (first-pass yield), then it is decommissioned and scrapped.
	"$LINESEC" sim new --count 2 --dir fleet --seed 17 \
		--fault-plan <(echo '{"1": "boot_fail=9"}') >/dev/null || bad "$label: sim new"
	expect 9 "$label: unit-001 fails its build" \
		"$LINESEC" build --as olga --batch --device sim:fleet/unit-001.sim
	web_serve
	[ -n "$url" ] || return
	web_login a alice alice-pw
	web_login b bob bob-pw-123
	web_login o olga olga-pw-123
	check "$label: alice, bob and olga log in" "[ $code = 303 ]"

	# The releases page: product, version, SHA-256, build, state, who.
	req b "$url/releases"
	check "$label: the releases page (200)" "[ $code = 200 ]"
	has "<td>sensor</td><td>2.1.0</td><td><code>$digest</code></td><td>release</td><td class=\"state\">submitted</td><td>alice at " \
		b.html "$label: release 2.1.0 is listed submitted by alice with its image SHA-256"
	has '<td>2.0.0</td>.*<td class="state">approved</td>.*<td>alice, bob</td>' b.html \
		"$label: release 2.0.0 is approved, signed by alice and bob"
	has "I approve release 2.1.0 of product sensor, image SHA-256 $digest, for production on this line." \
		b.html "$label: the page says what the signature means before the button"

	# No session, no CSRF token, an operator: refused, nothing signed.
	req n --data-urlencode "release=$rid" --data-urlencode "password=bob-pw-123" "$url/releases/approve"
	check "$label: approving without a session is refused (401)" "[ $code = 401 ]"
	req o "$url/releases"
	check "$label: olga (operator) sees the releases" "[ $code = 200 ]"
	check "$label: ... without an approval form" "! grep -q 'action=\"/releases/approve\"' o.html"
	n0=$(leaves signature refused olga)
	req o --data-urlencode "csrf=$(csrf_of o.html)" --data-urlencode "release=$rid" \
		--data-urlencode "password=olga-pw-123" "$url/releases/approve"
	check "$label: an operator cannot approve (403)" "[ $code = 403 ]"
	has "needs a" o.html "$label: ... the page says the role is needed"
	check "$label: ... and no leaf of hers signs it" \
		"[ \"\$(leaves release.approve '' olga)\" = 0 ] && [ \"\$(leaves signature refused olga)\" = $n0 ]"
	req b --data-urlencode "release=$rid" --data-urlencode "password=bob-pw-123" "$url/releases/approve"
	check "$label: an approval without a CSRF token is refused (403)" "[ $code = 403 ]"
	has "CSRF token is missing or wrong" b.html "$label: ... saying why"
	check "$label: ... and the release has only its submitter's signature" "[ \"\$(release_state 2.1.0)\" = 1 ]"

	# A wrong password: refused, a "signature" leaf, counted towards the lock.
	req b "$url/releases"
	n0=$(leaves signature refused bob)
	req b --data-urlencode "csrf=$(csrf_of b.html)" --data-urlencode "release=$rid" \
		--data-urlencode "password=not-bobs-pw" "$url/releases/approve"
	check "$label: a wrong re-entered password is refused (403)" "[ $code = 403 ]"
	has "wrong name or password" b.html "$label: ... saying so"
	check "$label: ... recorded as a refused signature leaf of bob" \
		"[ \"\$(leaves signature refused bob)\" = $((n0 + 1)) ]"
	check "$label: ... and the release is not approved" "[ \"\$(release_state 2.1.0)\" = 1 ]"

	# The submitter cannot approve her own release.
	req a "$url/releases"
	req a --data-urlencode "csrf=$(csrf_of a.html)" --data-urlencode "release=$rid" \
		--data-urlencode "password=alice-pw" "$url/releases/approve"
	check "$label: alice cannot approve her own release (403)" "[ $code = 403 ]"
	has "submit" a.html "$label: ... the page shows the library's refusal"
	check "$label: ... and it stays submitted" "[ \"\$(release_state 2.1.0)\" = 1 ]"

	# bob approves on the web: the same leaf as `linesec release approve`.
	req b "$url/releases"
	req b --data-urlencode "csrf=$(csrf_of b.html)" --data-urlencode "release=$rid" \
		--data-urlencode "password=bob-pw-123" "$url/releases/approve"
	check "$label: bob approves release 2.1.0 on the web (200)" "[ $code = 200 ]"
	has "release $rid approved by bob" b.html "$label: ... the page says so"
	has '<td>2.1.0</td>.*<td class="state">approved</td>.*<td>alice, bob</td>' b.html \
		"$label: ... and lists it approved by alice and bob"
	expect 0 "$label: release list" "$LINESEC" release list --as alice --json
	has '"approvers":\["alice","bob"\].*"state":"approved".*"version":"2.1.0"' out.txt \
		"$label: the command line sees 2.1.0 approved"
	check "$label: the approval is a leaf of bob" "[ \"\$(leaves release.approve '' bob)\" -ge 2 ]"
	# A build then uses it.
	expect 0 "$label: unit-002 builds with the web-approved release" \
		"$LINESEC" build --as olga --batch --device sim:fleet/unit-002.sim
	"$LINESEC" audit checkpoint --as alice >/dev/null || bad "$label: audit checkpoint"

	# First-pass yield today: unit-001 failed its first flash run, unit-002 passed every SOP.
	req o "$url/"
	has '<td>flash</td><td>(all steps)</td><td>2</td><td>1</td><td>50.0 %</td>' o.html \
		"$label: flash's first-pass yield today is 1 of 2 units"
	has '<td>provision</td><td>(all steps)</td><td>1</td><td>1</td><td>100.0 %</td>' o.html \
		"$label: provision's is 1 of 1 (unit-001 never reached it)"
	has "<td>flash</td><td>boot-attest</td><td>2</td><td>1</td><td>50.0 %</td>" o.html \
		"$label: the step unit-001 failed (its boot attestation) is 1 of 2"
	has "<td>flash</td><td>label</td><td>1</td><td>1</td><td>100.0 %</td>" o.html \
		"$label: a step unit-001 never reached counts unit-002 alone"
	has '<td>flash</td><td>identify</td><td>2</td><td>2</td><td>100.0 %</td>' o.html \
		"$label: a step both passed is 2 of 2"

	# The unit page: runs, steps, and a proof check-proof accepts.
	req o "$url/units"
	check "$label: the units page (200)" "[ $code = 200 ]"
	has '<a href="/units/unit-002">unit-002</a>' o.html "$label: it lists unit-002"
	req o "$url/units?state=quarantined"
	has 'unit-001' o.html "$label: ?state=quarantined lists unit-001"
	check "$label: ... and not unit-002" "! grep -q 'unit-002' o.html"
	req o "$url/units?state=melted"
	check "$label: an unknown state is refused (400)" "[ $code = 400 ]"
	req o "$url/units/unit-002"
	check "$label: unit-002's record (200)" "[ $code = 200 ]"
	has '<td>flash</td><td>1</td><td>passed</td><td>olga</td>' o.html "$label: it shows the flash run by olga"
	has '<td>sensor@2.1.0</td>' o.html "$label: ... built with release 2.1.0"
	has '<table id="events">.*<td>provision</td>' o.html "$label: it lists the steps' leaves"
	has '<span class="ok">The proof checks</span>' o.html "$label: the page says the proof checks"
	root=$(grep -o 'root [0-9a-f]\{64\}' o.html | head -n 1 | cut -d' ' -f2)
	req o "$url/units/unit-002/proof"
	check "$label: the proof file downloads (200)" "[ $code = 200 ]"
	cp o.html proof.json
	expect 0 "$label: linesec audit check-proof accepts the downloaded proof" \
		"$LINESEC" audit check-proof proof.json --pubkey line/station.pub --json
	expect 0 "$label: audit verify" "$LINESEC" audit verify --as alice --json
	check "$label: the page's root is the checkpoint's" "[ -n '$root' ] && grep -q '$root' out.txt"
	req o "$url/units/no-such-unit"
	check "$label: an unknown unit is 404" "[ $code = 404 ]"

	# People and pending changes: an operator may not list people; bob approves alice's request.
	req o "$url/people"
	check "$label: olga (operator) may not list people (403)" "[ $code = 403 ]"
	LINESEC_PASSWORD=alice-pw "$LINESEC" person add --as alice --role operator omar >/dev/null ||
		bad "$label: person add omar"
	cid=$(sql "SELECT id FROM change_requests WHERE subject = 'omar'")
	req b "$url/people"
	check "$label: the people page (200)" "[ $code = 200 ]"
	has '<td>olga</td><td>operator</td>' b.html "$label: it lists olga as an operator"
	has "<td>$cid</td><td>person-add</td><td>omar</td>" b.html "$label: ... and the pending person-add of omar"
	req b --data-urlencode "csrf=$(csrf_of b.html)" --data-urlencode "change=$cid" \
		--data-urlencode "password=wrong-bob" "$url/changes/approve"
	check "$label: a change approval with a wrong password is refused (403)" "[ $code = 403 ]"
	req a "$url/people"
	req a --data-urlencode "csrf=$(csrf_of a.html)" --data-urlencode "change=$cid" \
		--data-urlencode "password=alice-pw" "$url/changes/approve"
	check "$label: the requester cannot approve her change (403)" "[ $code = 403 ]"
	req b "$url/people"
	req b --data-urlencode "csrf=$(csrf_of b.html)" --data-urlencode "change=$cid" \
		--data-urlencode "password=bob-pw-123" "$url/changes/approve"
	check "$label: bob approves the change on the web (200)" "[ $code = 200 ]"
	has "change $cid approved by bob: person-add of omar" b.html "$label: ... the page says so"
	has "Enrolment code, second half" b.html "$label: ... with the second half of the code"
	check "$label: omar is a person now" "[ \"\$(sql \"SELECT COUNT(*) FROM people WHERE name = 'omar'\")\" = 1 ]"
	LINESEC_PASSWORD=alice-pw "$LINESEC" person disable --as alice olga >/dev/null ||
		bad "$label: person disable olga"
	cid=$(sql "SELECT id FROM change_requests WHERE subject = 'olga' AND state = 'pending'")
	req b "$url/people"
	req b --data-urlencode "csrf=$(csrf_of b.html)" --data-urlencode "change=$cid" \
		--data-urlencode "password=bob-pw-123" "$url/changes/reject"
	check "$label: bob rejects a change on the web (200)" "[ $code = 200 ]"
	check "$label: ... it is rejected" \
		"[ \"\$(sql \"SELECT state FROM change_requests WHERE id = $cid\")\" = rejected ]"

	# The scrap record.
	expect 0 "$label: unit-001 decommissioned" "$LINESEC" decommission unit-001 --as olga \
		--reason failed --device sim:fleet/unit-001.sim
	expect 0 "$label: unit-001 scrapped" "$LINESEC" scrap unit-001 --as olga --method shred
	req o "$url/scrap"
	check "$label: the scrap page (200)" "[ $code = 200 ]"
	has '<td>unit-001</td><td>sensor</td><td>scrapped</td><td>destroy</td>' o.html \
		"$label: it lists unit-001 scrapped and destroyed"
	has 'witnessed by sam' o.html "$label: ... with its witness"
	stop_servers
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
