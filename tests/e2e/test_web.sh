#!/usr/bin/env bash
# Drives `linesec serve` (the web console) with curl: the login with the
# line's accounts and back-off, cookie sessions, CSRF tokens on every POST,
# the security headers, HTML escaping and the dashboard; under TLS the
# session cookie is Secure. With LSEC_TEST_PG_URL set, the same run is
# repeated against a PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
# shellcheck source=weblib.sh
. "$(dirname "${BASH_SOURCE[0]}")/weblib.sh"

run_suite() {
	local label=$1 t0 t1
	shift
	echo "== $label"
	line_with_release "$label" "$@" || return
	add_person alice alice-pw bob bob-pw-123 oscar operator web-oscar-pw1
	# A unit that never boots is quarantined: the dashboard lists it with its reason.
	"$LINESEC" sim new --count 1 --dir fleet --seed 16 \
		--fault-plan <(echo '{"1": "boot_fail=9"}') >/dev/null || bad "$label: sim new"
	expect 9 "$label: unit-001 fails its build" \
		"$LINESEC" build --as olga --batch --device sim:fleet/unit-001.sim
	web_serve
	[ -n "$url" ] || return

	# No session: refused, nothing of the line shown.
	req anon "$url/"
	check "$label: the dashboard without a session is refused (401)" "[ $code = 401 ]"
	check "$label: ... and shows no data" "! grep -q 'Units by state' anon.html"
	req anon --data-urlencode "csrf=x" "$url/logout"
	check "$label: a POST without a session is refused (401)" "[ $code = 401 ]"
	req anon "$url/nothing-here"
	check "$label: an unknown page is 404" "[ $code = 404 ]"

	# Security headers on every page, a session-less one included.
	has "^Content-Security-Policy: default-src 'none'; style-src 'self'" anon.h \
		"$label: CSP allows no script and only this server's style"
	has "^Content-Security-Policy: .*; script-src 'self'; connect-src 'self';" anon.h \
		"$label: CSP allows script and event streams from this server alone (the live view)"
	check "$label: CSP has no inline script" "! grep -qi 'unsafe-inline' anon.h"
	check "$label: CSP has no eval" "! grep -qi 'unsafe-eval' anon.h"
	req anon "$url/live"
	check "$label: the live view without a session is refused (401)" "[ $code = 401 ]"
	req anon "$url/live/events"
	check "$label: the live events without a session are refused (401)" "[ $code = 401 ]"
	check "$label: ... and show no data" "! grep -q '^data:' anon.html"
	has "frame-ancestors 'none'" anon.h "$label: CSP forbids framing"
	has "^X-Frame-Options: DENY" anon.h "$label: X-Frame-Options DENY"
	has "^X-Content-Type-Options: nosniff" anon.h "$label: nosniff"
	has "^Cache-Control: no-store" anon.h "$label: no-store"

	# The login form's CSRF token: missing or wrong is refused before any password check.
	req a "$url/login"
	has "^Set-Cookie: lsec_login=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict" a.h \
		"$label: the login form's token cookie is HttpOnly, SameSite=Strict"
	req a --data-urlencode name=alice --data-urlencode password=alice-pw "$url/login"
	check "$label: a login POST without a CSRF token is refused (403)" "[ $code = 403 ]"
	check "$label: ... and opens no session" "! grep -q lsec_session= a.h"
	req a --data-urlencode csrf=0000000000000000000000000000000000000000000000000000000000000000 \
		--data-urlencode name=alice --data-urlencode password=alice-pw "$url/login"
	check "$label: a login POST with a wrong CSRF token is refused (403)" "[ $code = 403 ]"
	has "CSRF token is missing or wrong" a.html "$label: the refusal says why"

	# Login with the line's account.
	web_login a alice alice-pw
	check "$label: alice logs in (303 to the dashboard)" "[ $code = 303 ]"
	has "^Set-Cookie: lsec_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict" a.h \
		"$label: the session cookie is HttpOnly, SameSite=Strict"
	check "$label: ... and not Secure without TLS" "! grep -q 'lsec_session=.*Secure' a.h"
	req a "$url/"
	check "$label: the dashboard with a session (200)" "[ $code = 200 ]"
	has "Units by state" a.html "$label: the dashboard lists units by state"
	has "alice (security-officer)" a.html "$label: it names who is logged in and their role"
	has "<td>quarantined</td><td>1</td>" a.html "$label: one unit quarantined"
	has '<table id="quarantine"><tr>.*<td><a href="/units/unit-001">unit-001</a></td><td>sensor</td>' \
		a.html "$label: the quarantine list names unit-001"
	tr -d '\n' <a.html | sed 's|<tr>|\n<tr>|g' | grep 'unit-001' >q.txt
	has "<td>SOP flash, step [a-z-]*: [^<]*boot[^<]*</td>" q.txt \
		"$label: ... with its reason from its unit.quarantine leaf (SOP, failed step, why)"
	has '<td class="next">[A-Z][^<]*<strong>[^<]\{10,\}</strong></td>' q.txt \
		"$label: ... and the next action: the SOP's on-failure in words, with its message"
	has '<span class="ok">The log verifies</span>' a.html "$label: the log verifies"
	has "^Cache-Control: no-store" a.h "$label: the dashboard is not cached"
	has "Last checkpoint: [0-9]* leaves, root [0-9a-f]\{64\}" a.html \
		"$label: the dashboard shows the last checkpoint (the build's)"
	# A new checkpoint shows on the next load.
	before=$(grep -o 'Last checkpoint: [0-9]*' a.html)
	"$LINESEC" audit checkpoint --as alice >/dev/null || bad "$label: audit checkpoint"
	req a "$url/"
	check "$label: the dashboard shows the newer checkpoint" \
		"grep -q 'Last checkpoint: [0-9]*' a.html && [ \"\$(grep -o 'Last checkpoint: [0-9]*' a.html)\" != '$before' ]"

	# POSTs with a session need the session's CSRF token.
	token=$(csrf_of a.html)
	req a "$url/logout" -X POST -H 'Content-Type: application/x-www-form-urlencoded'
	check "$label: logout without a CSRF token is refused (403)" "[ $code = 403 ]"
	req a --data-urlencode "csrf=$(csrf_of anon.html)x" "$url/logout"
	check "$label: logout with a wrong CSRF token is refused (403)" "[ $code = 403 ]"
	req a --data-urlencode "csrf=$(printf %064d 0)" "$url/logout"
	check "$label: logout with a zero CSRF token is refused (403)" "[ $code = 403 ]"
	req a "$url/"
	check "$label: ... and the session still stands" "[ $code = 200 ]"
	# Another session's token is not this one's.
	web_login b olga olga-pw-123
	req b "$url/"
	check "$label: olga (operator) sees the dashboard" "[ $code = 200 ]"
	has "olga (operator)" b.html "$label: olga's dashboard names her"
	req a --data-urlencode "csrf=$(csrf_of b.html)" "$url/logout"
	check "$label: logout with another session's CSRF token is refused" "[ $code = 403 ]"
	# A too large body is refused.
	head -c 9000 /dev/zero | tr '\0' a >big.txt
	req a --data-urlencode "csrf=$token" --data-urlencode "pad@big.txt" "$url/logout"
	check "$label: a body over 8192 bytes is refused (413)" "[ $code = 413 ]"

	# The line decides about the session: a logout on the command line ends it here too.
	"$LINESEC" logout olga >/dev/null || bad "$label: logout olga"
	req b "$url/"
	check "$label: olga's web session ended with her station session (403)" "[ $code = 403 ]"
	has "&#39;olga&#39; is not logged in on station" b.html "$label: the page says she is not logged in here"

	# A refused login tells an anonymous client nothing but that.
	web_login c '<b>x</b>' whatever
	check "$label: a name with markup is refused" "[ $code = 400 ] || [ $code = 403 ]"
	check "$label: ... and does not come back as markup" "! grep -q '<b>x' c.html"
	has "name or password refused" c.html "$label: ... only 'name or password refused'"

	# The back-off of the web login: each refused password is a leaf (channel web, the
	# client's address); the next try within the wait is answered at once with 429.
	before=$(refused_logins oscar)
	web_login d oscar wrong-pass-1
	check "$label: a wrong password is refused (403)" "[ $code = 403 ]"
	has "name or password refused" d.html "$label: the refusal says so"
	check "$label: ... and opens no session" "! grep -q lsec_session= d.h"
	t0=$(date +%s%N)
	web_login d oscar wrong-pass-2
	t1=$(date +%s%N)
	check "$label: a try within the 1 s wait is 429 at once ($(((t1 - t0) / 1000000)) ms)" \
		"[ $code = 429 ] && [ $(((t1 - t0) / 1000000)) -lt 1500 ]"
	has "try again in [0-9]* s" d.html "$label: ... saying how long to wait"
	check "$label: ... and is no leaf" "[ $(refused_logins oscar) -eq $((before + 1)) ]"
	sleep "$(sed -n 's/.*try again in \([0-9]*\) s.*/\1/p' d.html | head -n 1)"
	web_login d oscar wrong-pass-2
	check "$label: after the wait a wrong password is refused again (403)" "[ $code = 403 ]"
	check "$label: each refused password is a leaf" "[ $(refused_logins oscar) -eq $((before + 2)) ]"
	check "$label: ... with the channel web and the client's address" \
		"[ \$(web_refusals oscar 127.0.0.1) -eq 2 ]"

	# The web logout ends the station session too.
	req a --data-urlencode "csrf=$token" "$url/logout"
	check "$label: logout with the session's token (303)" "[ $code = 303 ]"
	req a "$url/"
	check "$label: after logout the dashboard is refused" "[ $code = 401 ]"
	expect 10 "$label: alice's station session ended" "$LINESEC" person list --as alice
	stop_servers

	# Under TLS the session cookie is Secure.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key \
		-out tls.crt -days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1 || bad "$label: openssl req"
	web_serve --tls-cert tls.crt --tls-key tls.key
	check "$label: serves https" "case $url in https://*) true ;; *) false ;; esac"
	web_login t alice alice-pw
	check "$label: login over TLS (303)" "[ $code = 303 ]"
	has "^Set-Cookie: lsec_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict; Secure" t.h \
		"$label: the session cookie is Secure under TLS"
	req t "$url/"
	check "$label: the dashboard over TLS" "[ $code = 200 ]"
	# The second load checks in full only what came since the first; an older leaf changed
	# by SQL is still found (its hash no longer gives the root verified before).
	req t "$url/"
	check "$label: a second load checks in full only the leaves since the first" \
		"grep -q 'The log verifies</span>: [0-9]* leaves ([0-9] checked in full now)' t.html"
	if [ -n "$e2e_pg_url" ]; then
		sql "UPDATE audit_leaves SET leaf = leaf || '\\x20'::bytea WHERE seq = 3" >/dev/null
	else
		sql "UPDATE audit_leaves SET leaf = CAST(leaf || X'20' AS BLOB) WHERE seq = 3" >/dev/null
	fi
	req t "$url/"
	has '<span class="bad">The log does not verify: ' t.html "$label: an old leaf changed by SQL: the log does not verify"
	has 'leaf 3' t.html "$label: ... naming the leaf"
	stop_servers
	expect 2 "$label: a certificate without its key is refused" "$LINESEC" serve --tls-cert tls.crt
	has "go together" err.txt "$label: ... saying both are needed"
	expect 2 "$label: a bad address is refused" "$LINESEC" serve --listen localhost
	has "expected HOST:PORT" err.txt "$label: ... saying what was expected"
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
