#!/usr/bin/env bash
# A SOP version as a PDF controlled document (`sop render --format pdf`):
# every step in order, SOP name, SHA-256 and approvers (or the DRAFT mark)
# on every page, "page N of M", the revision history, the consequence of
# each irreversible step; the same bytes for the same approved version;
# a PDF never to a terminal unasked. Read back with pdftotext and pdfinfo.
set -uo pipefail
: "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
S="$LSEC_SOURCE_DIR/sops"

pages() { pdfinfo "$1" | sed -n 's/^Pages: *//p'; }

# every_page PDF TEXT WHAT: TEXT is on each page of PDF, and so is "page N of M".
every_page() {
	local n p missing=""
	n=$(pages "$1")
	for p in $(seq 1 "$n"); do
		pdftotext -layout -f "$p" -l "$p" "$1" page.txt
		grep -qF -- "$2" page.txt || missing="$missing $p"
		grep -qF -- "page $p of $n" page.txt || missing="$missing $p(page-number)"
	done
	if [ -z "$missing" ] && [ "$n" -ge 1 ]; then ok "$3: on all $n pages"; else
		bad "$3: missing on page(s)$missing of $n"; fi
}

# in_order TEXT LINES...: the lines occur in TEXT's file in this order.
in_order() {
	local file=$1
	shift
	python3 - "$file" "$@" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
at = 0
for want in sys.argv[2:]:
    i = text.find(want, at)
    if i < 0:
        print("not found in order: " + want)
        sys.exit(1)
    at = i + len(want)
EOF
}

run_suite() {
	suite_start "$1" alice-pdf-pw bob-pdf-pw1 "${@:2}"
	add_person alice alice-pdf-pw bob bob-pdf-pw1 sam supervisor sam-pdf-pw1
	LINESEC_PASSWORD=sam-pdf-pw1 expect 0 "sam logs in" "$LINESEC" login sam
	for f in flash secure-boot; do
		LINESEC_PASSWORD=sam-pdf-pw1 expect 0 "sam submits $f" "$LINESEC" sop submit --as sam "$S/$f.yaml"
		LINESEC_PASSWORD=alice-pdf-pw expect 0 "alice approves $f" "$LINESEC" sop approve --as alice "$f" 1
		LINESEC_PASSWORD=bob-pdf-pw1 expect 0 "bob approves $f" "$LINESEC" sop approve --as bob "$f" 1
	done

	# The approved flash SOP.
	expect 0 "render flash as PDF" "$LINESEC" sop render flash --format pdf --out flash.pdf
	check "a PDF file" '[ "$(head -c 5 flash.pdf)" = "%PDF-" ]'
	check "pdfinfo: Pages >= 1" '[ "$(pages flash.pdf)" -ge 1 ]'
	sha=$(sha256sum "$S/flash.yaml" | cut -d' ' -f1)
	every_page flash.pdf "SHA-256 $sha" "the file's SHA-256"
	every_page flash.pdf "Approved by alice, bob on" "the approvers"
	every_page flash.pdf "SOP flash · version 1" "the SOP's name and version"
	pdftotext -layout flash.pdf flash.txt
	check "no DRAFT mark on an approved version" '! grep -q "DRAFT" flash.txt'
	"$LINESEC" sop render flash --format md >flash.md
	mapfile -t steps < <(sed -n 's/^### \([0-9]*\. .*\)/\1/p' flash.md)
	check "the Markdown has the seven steps" '[ "${#steps[@]}" = 7 ]'
	in_order flash.txt "${steps[@]}" && ok "every step title, in order" || bad "step titles in order"
	in_order flash.txt "Document identity" Purpose Scope "Roles and responsibilities" \
		Prerequisites Sequence "Records kept" "Revision history" "Controls the station enforces" \
		Acknowledgement && ok "the sections, in the Markdown's order" || bad "sections in order"
	has "How it is verified:" flash.txt "each step says how it is verified"
	has "If it fails:" flash.txt "each step says what to do if it fails"
	has "^ *1  .*sam .*alice, bob" flash.txt "the revision history: version, submitter, approvers"
	approved=$("$LINESEC" sop list --json flash | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["approved_at"])')
	pdfinfo -isodates flash.pdf >info.txt
	has "CreationDate: *${approved%Z}" info.txt "the PDF's date is the approval time ($approved)"

	# The same approved version gives the same bytes, to a file or to standard output.
	expect 0 "render it again to standard output" "$LINESEC" sop render flash --format pdf --out -
	cmp -s out.txt flash.pdf && ok "the same bytes again" || bad "a second rendering differs"

	# An irreversible step is set apart with its consequence, as the Markdown says it.
	expect 0 "render secure-boot as PDF" "$LINESEC" sop render secure-boot --format pdf --out sb.pdf
	"$LINESEC" sop render secure-boot --format md >sb.md
	pdftotext sb.pdf sb.txt
	n_md=$(grep -c '^- \*\*IRREVERSIBLE:\*\* The station records its intent before acting' sb.md)
	n_pdf=$(grep -c '^IRREVERSIBLE: The station records its intent before acting' sb.txt)
	check "each irreversible step's consequence ($n_md in the Markdown, $n_pdf in the PDF)" \
		'[ "$n_md" -ge 1 ] && [ "$n_md" = "$n_pdf" ]'

	# A version submitted but not approved, and a file outside the registry, are drafts.
	sed -e 's/^version: 1$/version: 2/' -e 's/^change: First issue.$/change: Second issue./' \
		"$S/flash.yaml" >flash2.yaml
	LINESEC_PASSWORD=sam-pdf-pw1 expect 0 "sam submits flash 2" "$LINESEC" sop submit --as sam flash2.yaml
	expect 0 "render flash 2 as PDF" "$LINESEC" sop render flash --version 2 --format pdf --out f2.pdf
	every_page f2.pdf "DRAFT - NOT APPROVED" "flash 2 is marked DRAFT"
	expect 0 "render a draft file as PDF" "$LINESEC" sop render flash2.yaml --format pdf --out d.pdf
	every_page d.pdf "DRAFT - NOT APPROVED" "a draft file is marked DRAFT"

	# A PDF goes to a file (or to standard output with --out -), never to a terminal unasked.
	expect 2 "--format pdf without --out" "$LINESEC" sop render flash --format pdf
	has "needs --out FILE" err.txt "the refusal says what to give"
	check "nothing written" '[ ! -s out.txt ]'
	expect 2 "an unknown format" "$LINESEC" sop render flash --format docx --out x
	has "expected md, html or pdf" err.txt "the refusal names the formats"
	check "no file for a refused format" '[ ! -e x ]'

	# A title with markup is drawn as written, not read as markup.
	sed 's/^title: .*/title: "<b>Bold<\/b> \& <span>x<\/span>"/' "$S/flash.yaml" >markup.yaml
	expect 0 "render a title with markup" "$LINESEC" sop render markup.yaml --format pdf --out m.pdf
	pdftotext m.pdf m.txt
	has "<b>Bold</b> & <span>x</span>" m.txt "the markup is text"

	# A table cell longer than a page is not cut: the row's cells flow over the pages.
	long=$(printf 'Checks the fixture. %.0s' $(seq 1 700))
	sed "s/^    follows the on-screen steps. Never overrides a failed check.\$/    $long ENDOFROLE/" \
		"$S/flash.yaml" >long.yaml
	expect 0 "render a role longer than a page" "$LINESEC" sop render long.yaml --format pdf --out long.pdf
	pdftotext long.pdf long.txt
	has "ENDOFROLE" long.txt "the end of the long cell is in the PDF"
	in_order long.txt "Responsibility:" "ENDOFROLE" "Supervisor" "Prerequisites" &&
		ok "the long row, then the rest of the table, in order" || bad "the long row in order"
	every_page long.pdf "DRAFT - NOT APPROVED" "the long draft's mark and page numbers"
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
