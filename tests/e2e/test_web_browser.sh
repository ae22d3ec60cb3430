#!/usr/bin/env bash
# Drives `linesec serve` in a real browser: Playwright (playwright-core,
# pinned in tests/browser/package-lock.json) runs Debian's Chromium headless
# through tests/browser/console.mjs. The login form, a refused password and
# the back-off, a POST without its CSRF token, logout, the dashboard after a
# build with a failure (its quarantine reason and next action), the live
# station view while a gang run builds in another process, a unit's record
# and proof, a SOP page and its PDF download (checked with pdftotext), a
# release an operator cannot approve and its submitter neither, approved by
# a second officer re-entering the password, and a new SOP version approved
# on its page, which an operator who has not acknowledged it cannot run
# until she acknowledges it on the web. Screenshots go to $LSEC_BUILD_DIR/browser/shots/<registry>/.
# Without Chromium or node the test is skipped (CTest skip code 77), except
# under CI (CI set), where it fails. With LSEC_TEST_PG_URL set, the same run
# is repeated against a PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_BUILD_DIR:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

chromium=${LSEC_CHROMIUM:-/usr/bin/chromium}
browser_skip() {
	if [ -n "${CI:-}" ]; then bad "cannot run under CI: $1"; finish; fi
	echo "skip: $1"
	exit 77
}
[ -x "$chromium" ] || browser_skip "$chromium is not installed (scripts/bootstrap)"
command -v node >/dev/null || browser_skip "node is not installed (scripts/bootstrap)"
command -v npm >/dev/null || browser_skip "npm is not installed (scripts/bootstrap)"

# playwright-core from the lock file, in the build tree; it downloads no browser.
browser_dir="$LSEC_BUILD_DIR/browser"
mkdir -p "$browser_dir"
cp "$LSEC_SOURCE_DIR/tests/browser/package.json" "$LSEC_SOURCE_DIR/tests/browser/package-lock.json" \
	"$browser_dir/"
if ! (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit \
	--no-fund --prefer-offline --cache "$browser_dir/npm-cache" >npm.log 2>&1); then
	cat "$browser_dir/npm.log"
	bad "npm ci of tests/browser (playwright-core) failed"
	finish
fi

# web_serve: `linesec serve` on a free loopback port; sets url.
web_serve() {
	local i
	rm -f serve.out
	"$LINESEC" serve --listen 127.0.0.1:0 >serve.out 2>serve.err &
	servers+=("$!")
	for i in $(seq 1 100); do
		[ -s serve.out ] && break
		sleep 0.05
	done
	url=$(sed -n 's/^serving the web console on \(https*:[^ ]*\)\/ .*/\1/p' serve.out)
	[ -n "$url" ] || { bad "serve printed no address"; cat serve.out serve.err; }
}

run_suite() {
	local label=$1 shots
	shift
	echo "== $label"
	line_with_release "$label" "$@" || return
	# This test's own people: wendy is refused and backed off; vera watches the line.
	add_person alice alice-pw bob bob-pw-123 wendy operator browser-wendy-pw
	add_person alice alice-pw bob bob-pw-123 vera supervisor browser-vera-pw1
	# A unit that never boots is quarantined: the dashboard lists it.
	"$LINESEC" sim new --count 1 --dir fleet --seed 16 \
		--fault-plan <(echo '{"1": "boot_fail=9"}') >/dev/null || bad "$label: sim new"
	expect 9 "$label: unit-001 fails its build" \
		"$LINESEC" build --as olga --batch --device sim:fleet/unit-001.sim
	# Three slow units for the gang run the live view watches (a few seconds each).
	"$LINESEC" sim new --count 3 --dir gang --seed 17 --prefix gang- --faults lat_op_us=40000 \
		>/dev/null || bad "$label: sim new gang"
	# Release 2.0.1, submitted by alice, waits for a second officer (bob, in the browser).
	"$LINESEC" image sign --key fw.pem --product sensor --version 2.0.1 --build release \
		--security-counter 2 --embed-pubkey app.bin new2.img >/dev/null || bad "$label: sign 2.0.1"
	LINESEC_PASSWORD=alice-pw "$LINESEC" release submit --as alice new2.img --product sensor \
		>/dev/null || bad "$label: submit 2.0.1"
	# flash 2, approved by alice: bob approves it in the browser; olga has not read it.
	sed -e 's/^version: 1$/version: 2/' -e 's/^change: First issue\.$/change: Second issue./' \
		line/sops/flash.yaml >flash2.yaml
	"$LINESEC" sop submit --as sam flash2.yaml >/dev/null || bad "$label: submit flash 2"
	LINESEC_PASSWORD=alice-pw "$LINESEC" sop approve --as alice flash 2 >/dev/null ||
		bad "$label: alice approves flash 2"
	"$LINESEC" sim new --count 1 --dir ack --seed 18 --prefix ack- >/dev/null || bad "$label: sim new ack"
	web_serve
	[ -n "$url" ] || return
	shots="$browser_dir/shots/$label"
	rm -rf "$shots" && mkdir -p "$shots"
	LSEC_URL=$url LSEC_SHOTS=$shots LSEC_NODE_MODULES="$browser_dir/node_modules" \
		LSEC_CHROMIUM=$chromium LSEC_GANG="\"$LINESEC\" line --as olga --devices 'sim:gang/*' --gang 3 --batch" \
		LSEC_ACK_BUILD="\"$LINESEC\" build --as olga --batch --device sim:ack/ack-001.sim" \
		node "$LSEC_SOURCE_DIR/tests/browser/console.mjs" >node.out 2>&1
	local st=$?
	cat node.out
	fails=$((fails + $(grep -c '^FAIL ' node.out)))
	check "$label: the browser checks ran to their end (exit $st)" "[ $st -eq 0 ] && grep -q '^all browser checks ran' node.out"
	for s in login dashboard live live-tablet unit sop sops releases sop-approved ack; do
		check "$label: screenshot $s.png saved" "[ -s '$shots/$s.png' ]"
	done
	# The PDF the browser downloaded holds every step of flash 1.
	pdftotext "$shots/flash-1.pdf" flash-1.txt 2>/dev/null || bad "$label: pdftotext of the download"
	grep -q 'Secure firmware flashing' flash-1.txt || bad "$label: the PDF names the SOP"
	sed -n 's/^    title: //p' line/sops/flash.yaml | awk '{print NR ". " $0}' >titles.txt
	check "$label: the downloaded PDF holds every step of flash 1, numbered in order ($(wc -l <titles.txt) steps)" \
		"[ -s titles.txt ] && [ \"\$(grep -xFf titles.txt flash-1.txt)\" = \"\$(cat titles.txt)\" ]"
	# What the browser did is in the log: wendy's refused password, a leaf (the
	# backed-off try after it was answered 429 without a check, so without a leaf).
	local text="CAST(leaf AS TEXT)"
	[ -z "$e2e_pg_url" ] || text="convert_from(leaf, 'UTF8')"
	check "$label: wendy's refused login is a leaf" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE $text LIKE '%\\\"action\\\":\\\"login\\\"%' AND $text LIKE '%\\\"outcome\\\":\\\"refused%' AND $text LIKE '%\\\"person\\\":\\\"wendy\\\"%'\")\" -ge 1 ]"
	stop_servers
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
