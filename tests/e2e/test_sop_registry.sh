#!/usr/bin/env bash
# SOP versions end to end: a line, a supervisor submits the five default
# SOPs, two security officers (not the submitter) approve flash, the station
# API sees only the approved version; list, diff and render read the
# registry. Passwords come from environment variables (scripts and tests
# only, never argv).
set -uo pipefail
: "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
dir=$e2e_dir

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	echo "== $label"
	export LINESEC_LINE="$dir/$label"
	export LINESEC_PASSWORD=officer-pass-1
	LINESEC_SECOND_PASSWORD=officer-pass-2 expect 0 "$label: init" "$LINESEC" init --dir "$LINESEC_LINE" \
		--line-id lineA --station-id st1 --admin ada --second-officer otto "$@"
	expect 0 "ada logs in" "$LINESEC" login ada
	LINESEC_PASSWORD=officer-pass-2 expect 0 "otto logs in" "$LINESEC" login otto
	add_person ada officer-pass-1 otto officer-pass-2 sam supervisor super-pass-1
	add_person ada officer-pass-1 otto officer-pass-2 opal operator operator-pass-1
	LINESEC_PASSWORD=super-pass-1 expect 0 "sam logs in" "$LINESEC" login sam
	LINESEC_PASSWORD=operator-pass-1 expect 0 "opal logs in" "$LINESEC" login opal

	S="$LSEC_SOURCE_DIR/sops"
	expect 10 "an operator cannot submit" "$LINESEC" sop submit --as opal "$S/flash.yaml"
	for f in flash provision secure-boot debug-lock decommission; do
		expect 0 "sam submits $f" "$LINESEC" sop submit --as sam "$S/$f.yaml"
	done
	expect 7 "the same version again" "$LINESEC" sop submit --as sam "$S/flash.yaml"
	sed '/- id: verify-flash/,/^  - id: boot-attest/{/^  - id: boot-attest/!d}' "$S/flash.yaml" |
		sed 's/^version: 1$/version: 2/' >"$label-weak.yaml"
	expect 8 "a weakened version is refused" "$LINESEC" sop submit --as sam "$label-weak.yaml"
	has "flash-order" err.txt "the refusal names the rule"

	LINESEC_PASSWORD=super-pass-1 expect 10 "the supervisor cannot approve" "$LINESEC" sop approve --as sam flash 1
	expect 0 "ada approves flash 1" "$LINESEC" sop approve --as ada flash 1
	has "one more security officer" out.txt "one approval is not enough"
	expect 0 "draft render before the second approval" "$LINESEC" sop render flash --version 1 --format md
	has "DRAFT - NOT APPROVED" out.txt "still a draft"
	LINESEC_PASSWORD=officer-pass-2 expect 8 "approving a digest other than the stored one" "$LINESEC" sop approve --as otto --sha256 0000000000000000000000000000000000000000000000000000000000000000 flash 1
	LINESEC_PASSWORD=officer-pass-2 expect 0 "otto approves flash 1 as reviewed" "$LINESEC" sop approve --as otto --sha256 "$(sha256sum "$S/flash.yaml" | cut -d' ' -f1)" flash 1
	has "approved, it runs" out.txt "two approvals make it approved"

	sed -e 's/^version: 1$/version: 2/' -e 's/^change: First issue.$/change: Boot attestation waits 60 s./' \
		-e 's/timeout-s: 30/timeout-s: 60/' "$S/flash.yaml" >"$label-flash2.yaml"
	expect 0 "otto submits flash 2" "$LINESEC" sop submit --as otto "$label-flash2.yaml"
	LINESEC_PASSWORD=officer-pass-2 expect 8 "otto cannot approve his own version" "$LINESEC" sop approve --as otto flash 2
	has "cannot approve it" err.txt "self-approval explained"

	expect 0 "list" "$LINESEC" sop list --json
	has '"approved":true,"approved_at":"20' out.txt "flash 1 approved, with its date"
	has '"approvers":\["ada","otto"\]' out.txt "its approvers"
	has '"sop":"flash","submitted":"[^"]*","submitted_by":"otto","version":2' out.txt "flash 2 pending, submitted by otto"
	[ "$(grep -o '"sop":"' out.txt | wc -l)" = 6 ] && ok "six versions listed" || bad "six versions listed"

	expect 0 "diff flash 1 2" "$LINESEC" sop diff flash 1 2
	has "^-version: 1" out.txt "diff shows the old version line"
	has "^+    with: {timeout-s: 60}" out.txt "diff shows the changed parameter"

	expect 0 "render the approved flash SOP" "$LINESEC" sop render flash --format html --out "$label-flash.html"
	has "APPROVED by ada, otto on" "$label-flash.html" "approved, by whom and when"
	has "Revision history" "$label-flash.html" "has the history"
	sha=$(sha256sum "$S/flash.yaml" | cut -d' ' -f1)
	has "$sha" "$label-flash.html" "identity is the file's SHA-256"
	expect 0 "show flash 1" "$LINESEC" sop show flash --version 1 --out "$label-flash1.yaml"
	cmp -s "$label-flash1.yaml" "$S/flash.yaml" && ok "$label: stored bytes are the file's" || bad "$label: stored bytes differ"
	expect 9 "no approved provision SOP yet" "$LINESEC" sop render provision
	has "no approved version" err.txt "says why"
}

for c in check render submit approve list diff show actions rules; do
	expect 0 "sop $c --help" "$LINESEC" sop "$c" --help
	has "usage: linesec sop $c" out.txt "sop $c --help shows its usage"
done
expect 2 "sop without a subcommand" "$LINESEC" sop
expect 2 "sop with an unknown subcommand" "$LINESEC" sop frobnicate

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
