#!/usr/bin/env bash
# The web console's SOP library (`linesec serve`, /sops): the list with
# every version and its approvals, a version's procedure inside the page
# (markup in the SOP file escaped, a draft marked), the current approved
# version, the diff of two versions, the exports (the bytes of `linesec sop
# render`), the QR code of the current version (decoded) with and without
# --public-url, a draft approved by a security officer re-entering the
# password (the SHA-256 reviewed signed; an operator, a missing token or
# password, other bytes and a wrong password refused), and the refusals: no
# session, a session ended, an unknown SOP or version. With LSEC_TEST_PG_URL set, the same run is repeated
# against a PostgreSQL registry.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
# shellcheck source=weblib.sh
. "$(dirname "${BASH_SOURCE[0]}")/weblib.sh"

# qr_text SVG: what the QR code in the SVG file says (rsvg-convert, zbarimg).
qr_text() {
	rsvg-convert --format png --output qr.png "$1" && zbarimg --quiet --raw qr.png 2>/dev/null
}

# flash_v2 OUT: flash version 2, a step added and a step title holding markup.
flash_v2() {
	sed -e 's/^version: 1$/version: 2/' -e 's/^change: First issue\.$/change: Contacts wiped first./' \
		-e 's|^    title: Seat the unit$|    title: Seat <script>alert(1)</script> the unit|' \
		-e 's/^  - id: seat$/  - id: wipe-contacts\
    title: Wipe the contacts\
    do: confirm\
    who: operator\
    text: Wipe the contacts of socket {socket} with a lint-free swab.\
    on-failure: {then: quarantine, message: Tell the supervisor.}\
  - id: seat/' line/sops/flash.yaml >"$1"
}

run_suite() {
	local label=$1
	shift
	suite_start "$label" wsop-alice-pw1 wsop-bob-pw-12 "$@" || return
	add_person alice wsop-alice-pw1 bob wsop-bob-pw-12 sam supervisor wsop-sam-pw-12
	add_person alice wsop-alice-pw1 bob wsop-bob-pw-12 opal operator wsop-opal-pw1
	LINESEC_PASSWORD=wsop-sam-pw-12 "$LINESEC" login sam >/dev/null || bad "$label: login sam"
	LINESEC_PASSWORD=wsop-opal-pw1 "$LINESEC" login opal >/dev/null || bad "$label: login opal"
	# flash 1 approved by alice and bob; flash 2 approved by alice alone; provision 1 by nobody.
	"$LINESEC" sop submit --as sam line/sops/flash.yaml >/dev/null || bad "$label: submit flash 1"
	LINESEC_PASSWORD=wsop-alice-pw1 "$LINESEC" sop approve --as alice flash 1 >/dev/null ||
		bad "$label: alice approves flash 1"
	LINESEC_PASSWORD=wsop-bob-pw-12 "$LINESEC" sop approve --as bob flash 1 >/dev/null ||
		bad "$label: bob approves flash 1"
	flash_v2 flash2.yaml
	expect 0 "$label: sam submits flash 2 (a step added, a title with markup)" \
		"$LINESEC" sop submit --as sam flash2.yaml
	LINESEC_PASSWORD=wsop-alice-pw1 "$LINESEC" sop approve --as alice flash 2 >/dev/null ||
		bad "$label: alice approves flash 2"
	"$LINESEC" sop submit --as sam line/sops/provision.yaml >/dev/null ||
		bad "$label: submit provision 1"

	web_serve --public-url http://station7.example:8080/
	[ -n "$url" ] || return

	# No session: every SOP page is refused and shows nothing.
	for path in /sops /sops/flash/1 /sops/flash/current /sops/flash/diff?from=1\&to=2 \
		/sops/flash/1/export.md /sops/flash/1/export.html /sops/flash/qr.svg; do
		req anon "$url$path"
		check "$label: $path without a session is refused (401)" "[ $code = 401 ]"
		check "$label: ... and shows no SOP" "! grep -q 'Secure firmware flashing\|<svg' anon.html"
	done
	req anon --data-urlencode csrf=x "$url/sops"
	check "$label: a POST to /sops is no page (404)" "[ $code = 404 ]"

	# Every logged-in role reads SOPs: the operator at the station.
	web_login o opal wsop-opal-pw1
	check "$label: opal (operator) logs in" "[ $code = 303 ]"
	req o "$url/"
	has '<nav>.*<a href="/sops">SOPs</a>' o.html "$label: the navigation links the SOPs"
	req o "$url/sops"
	check "$label: the SOP list (200)" "[ $code = 200 ]"
	tr -d '\n' <o.html | sed 's|<tr>|\n<tr>|g' >list.txt
	has '<tr><td><a href="/sops/flash/1">1</a></td><td><code>[0-9a-f]\{16\}</code></td><td>sam</td><td>20[^<]*</td><td class="current">approved, current</td><td>alice, bob</td><td>20[0-9T:-]*Z</td></tr>' \
		list.txt "$label: flash 1: submitted by sam, approved by alice and bob, when, current"
	has '<tr><td><a href="/sops/flash/2">2</a></td>.*<td class="draft">awaiting approval (1/2)</td><td>alice</td><td>-</td></tr>' \
		list.txt "$label: flash 2: awaiting, one approval (alice)"
	has '<tr><td><a href="/sops/provision/1">1</a></td>.*<td class="draft">awaiting approval (0/2)</td><td></td><td>-</td>' \
		list.txt "$label: provision 1: awaiting, no approval"
	has '<section class="sopname" id="sop-secure-boot"><h2>secure-boot</h2><p>No version stored.</p>' \
		o.html "$label: a SOP with no version stored is listed as such"
	has '<h2>decommission</h2>' o.html "$label: every SOP kind is listed"
	has 'No approved version: the station runs none' o.html "$label: provision has none approved"
	has '<img class="qr" src="/sops/flash/qr.svg"' o.html "$label: flash has its QR code"
	has '<code>http://station7.example:8080/sops/flash/current</code>' o.html \
		"$label: ... with the URL it opens"
	has '<form method="get" action="/sops/flash/diff">' o.html "$label: a form compares two versions"

	# A version's procedure, inside the console's page.
	req o "$url/sops/flash/1"
	check "$label: flash 1 (200)" "[ $code = 200 ]"
	has '<title>SOP flash version 1 - linesec</title>' o.html "$label: in the console's page"
	has '<article class="sop">' o.html "$label: the rendered procedure"
	check "$label: ... its body alone (no second document)" \
		"[ \$(grep -c '<html' o.html) = 1 ] && ! grep -q '<style>' o.html"
	has '<span class="num">1</span>Seat the unit <code>confirm</code>' o.html "$label: holds its first step"
	has 'device.flash' o.html "$label: ... and the flashing step"
	has 'APPROVED by alice, bob on' o.html "$label: approved, by whom and when"
	has 'id="status" class="ok">Approved by alice, bob. This is the current version' o.html \
		"$label: marked as the current approved version"
	req o "$url/sops/flash/2"
	check "$label: flash 2 (200)" "[ $code = 200 ]"
	has 'id="status" class="bad draft">DRAFT - NOT APPROVED (1 of 2 approvals)' o.html \
		"$label: a version awaiting approval is marked DRAFT"
	has 'Seat &lt;script&gt;alert(1)&lt;/script&gt; the unit' o.html \
		"$label: a step title with markup is shown escaped"
	check "$label: ... and no script reaches the page" "! grep -qi '<script' o.html"
	has 'Wipe the contacts' o.html "$label: the added step is there"
	req o "$url/sops/flash/current"
	check "$label: flash/current (200)" "[ $code = 200 ]"
	has '<title>SOP flash version 1 - linesec</title>' o.html \
		"$label: current is the latest approved version (1, not the draft 2)"

	# Diff.
	req o "$url/sops/flash/diff?from=1&to=2"
	check "$label: diff 1 to 2 (200)" "[ $code = 200 ]"
	has '<span class="add">+  - id: wipe-contacts</span>' o.html "$label: the added step is marked added"
	has '<span class="del">-version: 1</span>' o.html "$label: the old version line is marked removed"
	has '<span class="add">+version: 2</span>' o.html "$label: the new one added"
	has '<span class="add">+    title: Seat &lt;script&gt;' o.html "$label: the diff escapes markup"
	has '<span class="hunk">@@ ' o.html "$label: hunks are marked"
	has 'id="summary">9 lines added, 3 removed' o.html "$label: the diff counts lines added and removed"
	req o "$url/sops/flash/diff?from=1&to=1"
	has 'id="summary">The two versions are the same file' o.html "$label: a version against itself"
	req o "$url/sops/flash/diff?from=1"
	check "$label: a diff without ?to is refused (400)" "[ $code = 400 ]"
	has 'a diff needs ?from=VERSION&amp;to=VERSION' o.html "$label: ... saying what it needs"
	req o "$url/sops/flash/diff?from=1&to=9"
	check "$label: a diff with an unknown version is 404" "[ $code = 404 ]"
	has "&#39;flash&#39; version &#39;9&#39; not found" o.html "$label: ... naming it"

	# Exports: the bytes of `linesec sop render`.
	for v in 1 2 current; do
		for f in md html pdf; do
			req o "$url/sops/flash/$v/export.$f"
			check "$label: export $v.$f (200)" "[ $code = 200 ]"
			if [ "$v" = current ]; then
				"$LINESEC" sop render flash --format "$f" --out "cli.$f" || bad "$label: sop render"
				n=1
			else
				"$LINESEC" sop render flash --version "$v" --format "$f" --out "cli.$f" ||
					bad "$label: sop render"
				n=$v
			fi
			if [ "$f.$v" = pdf.2 ]; then
				# A draft's PDF is dated when it is written: the same text, not the same bytes.
				check "$label: export $v.$f holds the text of 'sop render --format $f'" \
					"[ \"\$(pdftotext o.html -)\" = \"\$(pdftotext cli.$f -)\" ] && grep -q 'DRAFT' <(pdftotext o.html -)"
			else
				check "$label: export $v.$f holds the bytes of 'sop render --format $f'" \
					"cmp -s o.html cli.$f"
			fi
			has "^Content-Disposition: attachment; filename=\"flash-$n.$f\"" o.h \
				"$label: ... downloaded as flash-$n.$f"
		done
	done
	req o "$url/sops/flash/1/export.html"
	has '^Content-Type: text/html; charset=utf-8' o.h "$label: the HTML export is text/html"
	req o "$url/sops/flash/1/export.md"
	has '^Content-Type: text/markdown; charset=utf-8' o.h "$label: the Markdown export is text/markdown"
	req o "$url/sops/flash/1/export.pdf"
	has '^Content-Type: application/pdf' o.h "$label: the PDF export is application/pdf"
	pdftotext o.html o.txt 2>/dev/null; has "Document identity" o.txt "$label: ... and holds the SOP's text"

	# Unknown SOP or version: 404 naming it.
	req o "$url/sops/nosuch/1"
	check "$label: an unknown SOP is 404" "[ $code = 404 ]"
	has "&#39;nosuch&#39; version &#39;1&#39; not found" o.html "$label: ... naming it"
	req o "$url/sops/flash/7"
	check "$label: an unknown version is 404" "[ $code = 404 ]"
	has "&#39;flash&#39; version &#39;7&#39; not found" o.html "$label: ... naming it"
	req o "$url/sops/flash/7/export.md"
	check "$label: the export of an unknown version is 404" "[ $code = 404 ]"
	req o "$url/sops/flash/seven"
	check "$label: a version that is no number is 404" "[ $code = 404 ]"
	has "SOP &#39;flash&#39; has no version &#39;seven&#39;" o.html "$label: ... naming it"
	req o "$url/sops/provision/current"
	check "$label: the current version of a SOP with none approved is 404" "[ $code = 404 ]"
	has "SOP &#39;provision&#39; has no approved version" o.html "$label: ... saying so"
	req o "$url/sops/nosuch/qr.svg"
	check "$label: the QR code of an unknown SOP is 404" "[ $code = 404 ]"
	has "no version of SOP &#39;nosuch&#39; is stored" o.html "$label: ... naming it"
	req o "$url/sops/flash/1/export.doc"
	check "$label: an unknown export is 404" "[ $code = 404 ]"
	req o "$url/sops/%3Cb%3E/1"
	check "$label: a SOP name with markup is 404" "[ $code = 404 ]"
	check "$label: ... and is not echoed as markup" "! grep -q '<b>' o.html"

	# The QR code opens the current version at the public URL.
	req o "$url/sops/flash/qr.svg"
	check "$label: the QR code (200)" "[ $code = 200 ]"
	has '^Content-Type: image/svg+xml' o.h "$label: ... is SVG"
	check "$label: ... with no script" "! grep -qi 'script' o.html"
	cp o.html qr.svg
	check "$label: the QR code decodes to the public URL of flash/current" \
		"[ \"\$(qr_text qr.svg)\" = 'http://station7.example:8080/sops/flash/current' ]"

	# Approving a version on the web: a security officer, re-entering the password, signs
	# the SHA-256 of the version shown (as `linesec sop approve --sha256`).
	req o "$url/sops/flash/2"
	check "$label: an operator's page of a draft has no approval form" "! grep -q 'action=\"/sops/approve\"' o.html"
	req o --data-urlencode "csrf=$(csrf_of o.html)" -d sop=flash -d version=2 \
		--data-urlencode "sha256=$(sha256sum flash2.yaml | cut -c1-64)" \
		--data-urlencode password=wsop-opal-pw1 "$url/sops/approve"
	check "$label: an operator cannot approve a SOP version (403)" "[ $code = 403 ]"
	web_login a alice wsop-alice-pw1
	req a "$url/sops/flash/2"
	check "$label: alice approved flash 2 already: no form for her" "! grep -q 'action=\"/sops/approve\"' a.html"
	web_login b bob wsop-bob-pw-12
	req b "$url/sops/flash/2"
	has '<form method="post" action="/sops/approve" id="approve">' b.html "$label: bob's page of flash 2 has the approval form"
	has "name=\"sha256\" value=\"$(sha256sum flash2.yaml | cut -c1-64)\"" b.html \
		"$label: ... carrying the SHA-256 of the version shown"
	has "Your signature means: <strong>I reviewed SOP flash version 2 (SHA-256 $(sha256sum flash2.yaml | cut -c1-64)) and approve it" \
		b.html "$label: ... and saying what the signature means"
	csrf=$(csrf_of b.html)
	req b -d sop=flash -d version=2 --data-urlencode "sha256=$(sha256sum flash2.yaml | cut -c1-64)" \
		--data-urlencode password=wsop-bob-pw-12 "$url/sops/approve"
	check "$label: an approval without the CSRF token is refused (403)" "[ $code = 403 ]"
	req b --data-urlencode "csrf=$csrf" -d sop=flash -d version=2 \
		--data-urlencode "sha256=$(sha256sum flash2.yaml | cut -c1-64)" "$url/sops/approve"
	check "$label: an approval without the password is refused (400)" "[ $code = 400 ]"
	has 're-enter your password to sign' b.html "$label: ... asking for it"
	req b --data-urlencode "csrf=$csrf" -d sop=flash -d version=2 \
		--data-urlencode "sha256=$(sha256sum line/sops/flash.yaml | cut -c1-64)" \
		--data-urlencode password=wsop-bob-pw-12 "$url/sops/approve"
	check "$label: an approval of other bytes than the version's is refused (409: not the version shown)" "[ $code = 409 ]"
	has 'id="status" class="bad draft">DRAFT - NOT APPROVED (1 of 2 approvals)' b.html \
		"$label: ... and records nothing (still 1 of 2)"
	req b --data-urlencode "csrf=$csrf" -d sop=flash -d version=2 \
		--data-urlencode "sha256=$(sha256sum flash2.yaml | cut -c1-64)" \
		--data-urlencode password=wsop-bob-pw-12 "$url/sops/approve"
	check "$label: bob approves flash 2 on the web (200)" "[ $code = 200 ]"
	has 'id="result">SOP flash version 2: approved by bob' b.html "$label: ... the page says so"
	has 'id="status" class="ok">Approved by alice, bob. This is the current version' b.html \
		"$label: ... flash 2 is now the current version"
	"$LINESEC" sop list --json flash >list.json
	check "$label: the CLI sees flash 2 approved by alice and bob" \
		"tr -d ' \n' <list.json | grep -q '\"approvers\":\[\"alice\",\"bob\"\][^}]*\"version\":2'"
	req b --data-urlencode "csrf=$csrf" -d sop=flash -d version=2 \
		--data-urlencode "sha256=$(sha256sum flash2.yaml | cut -c1-64)" \
		--data-urlencode password=wsop-bob-pw-12 "$url/sops/approve"
	check "$label: approving an approved version again is refused" "[ $code != 200 ]"
	req a --data-urlencode "csrf=$(csrf_of a.html)" -d sop=provision -d version=1 \
		--data-urlencode "sha256=$(sha256sum line/sops/provision.yaml | cut -c1-64)" \
		--data-urlencode password=wrong-password "$url/sops/approve"
	check "$label: a wrong password does not sign (403)" "[ $code = 403 ]"
	req a "$url/sops/provision/1"
	has 'DRAFT - NOT APPROVED (0 of 2 approvals)' a.html "$label: ... and records no approval"

	# The line ends opal's session: the SOP pages are refused.
	"$LINESEC" logout opal >/dev/null || bad "$label: logout opal"
	req o "$url/sops"
	check "$label: a session the line ended is refused (403)" "[ $code = 403 ]"
	check "$label: ... and shows no SOP" "! grep -q 'sop-flash' o.html"
	stop_servers

	# Without --public-url the QR code holds the address served on.
	web_serve
	web_login s sam wsop-sam-pw-12
	req s "$url/sops/flash/qr.svg"
	cp s.html qr.svg
	check "$label: without --public-url the QR code decodes to $url/sops/flash/current" \
		"[ \"\$(qr_text qr.svg)\" = '$url/sops/flash/current' ]"
	stop_servers
	expect 2 "$label: a --public-url that is no http(s) URL is refused" \
		"$LINESEC" serve --listen 127.0.0.1:0 --public-url ftp://station7
	has "expected http://HOST\[:PORT\]" err.txt "$label: ... saying what was expected"
	expect 2 "$label: a --public-url without a host is refused" \
		"$LINESEC" serve --listen 127.0.0.1:0 --public-url https://
	has "the host is missing" err.txt "$label: ... saying so"
	expect 2 "$label: a --public-url with a quote is refused" \
		"$LINESEC" serve --listen 127.0.0.1:0 --public-url 'http://a"b'
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
