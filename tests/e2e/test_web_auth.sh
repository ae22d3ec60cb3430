#!/usr/bin/env bash
# Attacks on the web console's login and sessions, each refused: locking both
# security officers through POST /login locks only their web login (they log in
# at the station and unlock); a refused login never stalls the serving thread
# (429 at once); invented names write no flood of leaves and every address, and
# the console in all, has a budget of refused logins; a web session ends with the
# station session its login opened; a person's own sessions are bounded; an
# anonymous client sees no reason of a refusal; one address holds at most 16
# connections. With LSEC_TEST_PG_URL set, the same run is repeated against a
# PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
# shellcheck source=weblib.sh
. "$(dirname "${BASH_SOURCE[0]}")/weblib.sh"

# from ADDR JAR NAME PASSWORD: web_login from the client address ADDR (a loopback one).
from() {
	local addr=$1 jar=$2
	req "$jar" --interface "$addr" "$url/login"
	req "$jar" --interface "$addr" --data-urlencode "csrf=$(csrf_of "$jar.html")" \
		--data-urlencode "name=$3" --data-urlencode "password=$4" "$url/login"
}
# refuse ADDR NAME PASSWORD: a wrong password of NAME from ADDR, waiting out each 429.
refuse() {
	local n
	for n in $(seq 1 20); do
		from "$1" x "$2" "$3"
		[ "$code" = 429 ] || return 0
		sleep "$(sed -n 's/.*try again in \([0-9]*\) s.*/\1/p' x.html | head -n 1)"
	done
}
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

run_suite() {
	local label=$1 i t0 n0 n429 fds bg fd port
	shift
	echo "== $label"
	line_with_release "$label" "$@" || return
	add_person alice alice-pw bob bob-pw-123 wanda operator auth-wanda-pw1
	web_serve
	[ -n "$url" ] || return

	# H1: anonymous clients (127.0.0.2, 127.0.0.7) send five wrong passwords for each officer.
	web_login a alice alice-pw
	check "$label: alice logs in on the web" "[ $code = 303 ]"
	refuse 127.0.0.2 alice guess-1
	check "$label: a wrong password is refused (403)" "[ $code = 403 ]"
	t0=$(date +%s%N)
	from 127.0.0.2 x alice guess-2
	check "$label: the next try within the wait is 429 at once ($(ms "$t0") ms)" \
		"[ $code = 429 ] && [ $(ms "$t0") -lt 1500 ]"
	has "name or password refused; try again in [0-9]* s" x.html "$label: ... saying how long"
	refuse 127.0.0.7 bob guess-1
	refuse 127.0.0.7 bob guess-2
	# While bob's next refusal is answered, alice's own pages are served without waiting.
	from 127.0.0.7 y bob guess-3 &
	bg=$!
	t0=$(date +%s%N)
	req a "$url/"
	check "$label: alice's dashboard does not wait for the attacker ($(ms "$t0") ms)" \
		"[ $code = 200 ] && [ $(ms "$t0") -lt 1500 ]"
	wait "$bg"
	for i in 2 3 4 5; do refuse 127.0.0.2 alice "guess-$i"; done
	for i in 3 4 5; do refuse 127.0.0.7 bob "guess-$i"; done
	check "$label: each refusal is a leaf with the channel web and the client's address" \
		"[ \$(web_refusals alice 127.0.0.2) -eq 5 ] && [ \$(web_refusals bob 127.0.0.7) -ge 5 ]"
	from 127.0.0.1 l alice alice-pw
	check "$label: alice's web login is locked: the right password is refused (403)" \
		"[ $code = 403 ]"
	has "name or password refused" l.html "$label: ... saying only 'name or password refused'"
	check "$label: ... the lock is not told to an anonymous client" "! grep -qi 'locked after' l.html"
	has "login of 'alice' from 127.0.0.1 refused: .*web login is locked" serve.err \
		"$label: ... the server's log says why"
	# The station is not locked: both officers log in there and one unlocks the other.
	LINESEC_PASSWORD=alice-pw expect 0 "$label: alice logs in at the station" \
		"$LINESEC" login alice
	LINESEC_PASSWORD=bob-pw-123 expect 0 "$label: bob logs in at the station" \
		"$LINESEC" login bob
	LINESEC_PASSWORD=alice-pw expect 0 "$label: alice unlocks bob (his web login too)" \
		"$LINESEC" person unlock --as alice bob
	web_login b bob bob-pw-123
	check "$label: bob logs in on the web again (303)" "[ $code = 303 ]"
	# M2: alice's station login ended the station session her web login opened.
	req a "$url/"
	check "$label: alice's old web session ended with its station session (403)" \
		"[ $code = 403 ]"
	has "station session this web login opened has ended" a.html "$label: ... saying why"
	req a "$url/"
	check "$label: ... and is forgotten (401)" "[ $code = 401 ]"

	# M2: a web session is bound to the station session its login opened.
	web_login k wanda auth-wanda-pw1
	req k "$url/"
	check "$label: wanda's dashboard" "[ $code = 200 ]"
	"$LINESEC" logout wanda >/dev/null || bad "$label: logout wanda"
	LINESEC_PASSWORD=auth-wanda-pw1 "$LINESEC" login wanda >/dev/null || bad "$label: login wanda"
	req k "$url/"
	check "$label: the browser's web session is not served under her new station session (403)" \
		"[ $code = 403 ]"
	# A refusal for the role alone keeps the session (an error code, not a message).
	web_login k wanda auth-wanda-pw1
	req k "$url/people"
	check "$label: an operator is refused the people page (403)" "[ $code = 403 ]"
	req k "$url/"
	check "$label: ... and her session stands (200)" "[ $code = 200 ]"

	# At most 4 web sessions per person: the fifth login ends her oldest, nobody else's.
	for i in 1 2 3 4; do web_login "w$i" wanda auth-wanda-pw1; done
	req k "$url/"
	check "$label: a fifth login of wanda ended her oldest web session (401)" "[ $code = 401 ]"
	req w4 "$url/"
	check "$label: ... her newest stands (200)" "[ $code = 200 ]"
	req b "$url/"
	check "$label: ... and bob's session stands (200)" "[ $code = 200 ]"

	# A tampered registry: the anonymous client sees no table or leaf, the server's log does.
	sql "UPDATE people SET role = 'security-officer' WHERE name = 'wanda'" >/dev/null
	from 127.0.0.1 t wanda auth-wanda-pw1
	check "$label: a login over a tampered people row fails (500)" "[ $code = 500 ]"
	check "$label: ... the page names no table" "! grep -q 'registry table' t.html"
	has "login of 'wanda' from 127.0.0.1 refused: registry table people" serve.err \
		"$label: ... the server's log does"
	sql "UPDATE people SET role = 'operator' WHERE name = 'wanda'" >/dev/null

	# M1: invented names from one address: one leaf per address and window, then 429.
	n0=$(sql "SELECT COUNT(*) FROM audit_leaves")
	n429=0
	for i in $(seq 1 30); do
		from 127.0.0.3 f "nobody$i" x
		[ "$code" != 429 ] || n429=$((n429 + 1))
	done
	check "$label: 30 invented names from one address wrote one leaf ($(($(sql "SELECT COUNT(*) FROM audit_leaves") - n0)))" \
		"[ \$((\$(sql 'SELECT COUNT(*) FROM audit_leaves') - n0)) -eq 1 ]"
	check "$label: ... and after 10 refusals the address waits (429 x $n429)" "[ $n429 -eq 20 ]"
	has "too many refused logins from this address; try again in [0-9]* s" f.html \
		"$label: ... saying so"
	web_refusals nobody1 127.0.0.3 >n.txt
	has "^1$" n.txt "$label: ... the leaf names the first invented name and the address"
	stop_servers

	# The console's budget: 30 refusals in all (a fresh server: 10 from each of three addresses),
	# then every address waits.
	web_serve
	for i in $(seq 1 10); do
		from 127.0.0.4 f "someone$i" x
		from 127.0.0.5 f "somebody$i" x
		from 127.0.0.6 f "anyone$i" x
	done
	from 127.0.0.8 f alice alice-pw
	check "$label: past the console's budget every web login waits (429)" "[ $code = 429 ]"
	has "too many refused logins on this console" f.html "$label: ... saying so"
	LINESEC_PASSWORD=alice-pw expect 0 "$label: ... while the station's login works" \
		"$LINESEC" login alice
	stop_servers

	# At most 16 connections from one address.
	web_serve
	port=${url##*:}
	fds=()
	for i in $(seq 1 16); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$port" && fds+=("$fd")
	done
	sleep 0.3
	req c "$url/login"
	check "$label: a 17th connection from one address is refused ($code)" "[ $code != 200 ]"
	req c --interface 127.0.0.9 "$url/login"
	check "$label: ... another address is served (200)" "[ $code = 200 ]"
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	stop_servers
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
