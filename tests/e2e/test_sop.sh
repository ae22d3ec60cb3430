#!/usr/bin/env bash
# linesec sop check/render/actions on the default SOP files and on broken ones.
set -euo pipefail
: "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
tmp=$e2e_dir
fail() { echo "FAIL: $*"; exit 1; }

# The five defaults pass.
"$LINESEC" sop check "$LSEC_SOURCE_DIR"/sops/*.yaml >"$tmp/check.out"
[ "$(grep -c ': ok: ' "$tmp/check.out")" = 5 ] || fail "not all five defaults pass"

# A weakened flash SOP (verify-flash dropped) is refused with its rule, exit 8.
sed '/- id: verify-flash/,/^  - id: boot-attest/{/^  - id: boot-attest/!d}' \
	"$LSEC_SOURCE_DIR/sops/flash.yaml" >"$tmp/weak.yaml"
set +e
"$LINESEC" sop check "$tmp/weak.yaml" 2>"$tmp/weak.err"
st=$?
set -e
[ "$st" = 8 ] || fail "weakened SOP: exit $st, expected 8"
grep -q "refused by rule 'flash-order'" "$tmp/weak.err" || fail "rule not named"

# Parameters the station would not honour as written are refused at their line (exit 4):
# a debug lock of SWD only, a partial erase.
sed 's/with: {interface: all}/with: {interface: swd}/' "$LSEC_SOURCE_DIR/sops/debug-lock.yaml" >"$tmp/swd.yaml"
sed 's/with: {region: all}/with: {region: keys-and-data}/' "$LSEC_SOURCE_DIR/sops/decommission.yaml" >"$tmp/region.yaml"
for f in swd region; do
	set +e
	"$LINESEC" sop check "$tmp/$f.yaml" 2>"$tmp/$f.err"
	st=$?
	set -e
	[ "$st" = 4 ] || fail "$f: exit $st, expected 4"
	ln=$(grep -n 'interface: swd\|region: keys-and-data' "$tmp/$f.yaml" | cut -d: -f1)
	grep -q "^$tmp/$f.yaml:$ln:[0-9]*: .*expected one of all" "$tmp/$f.err" || fail "$f: not refused at line $ln"
done

# Files weakened as an insider would are refused by the rule they break, exit 8, at a line.
S=$LSEC_SOURCE_DIR/sops
sed '/- id: revoke-credential/,/^  - id: destroy/{/^  - id: destroy/!d}' "$S/decommission.yaml" >"$tmp/w-cred.yaml"
sed '/^  - id: seal/,${/witness: supervisor/d}' "$S/debug-lock.yaml" >"$tmp/w-seal.yaml"
sed '/- id: burn-counter/,/^  - id: enable/{/^  - id: enable/!d}' "$S/secure-boot.yaml" >"$tmp/w-counter.yaml"
sed -e '/- id: close-console/,/^  - id: lock-debug/{/^  - id: lock-debug/!d}' \
	-e '/- id: verify-console/,/^  - id: seal/{/^  - id: seal/!d}' "$S/debug-lock.yaml" >"$tmp/w-console.yaml"
sed 's/^    who: operator$/    who: auditor/; s/^roles:$/roles:\n  auditor: Reads./' "$S/flash.yaml" >"$tmp/w-role.yaml"
for w in cred:decommission-credential seal:debug-lock-seal counter:secure-boot-counter \
	console:debug-lock-console role:action-roles; do
	f=${w%%:*} rule=${w#*:}
	set +e
	"$LINESEC" sop check "$tmp/w-$f.yaml" 2>"$tmp/w-$f.err"
	st=$?
	set -e
	[ "$st" = 8 ] || fail "weakened ($f): exit $st, expected 8"
	grep -q "^$tmp/w-$f.yaml:[0-9]*:[0-9]*: refused by rule '$rule'" "$tmp/w-$f.err" ||
		{ cat "$tmp/w-$f.err"; fail "weakened ($f): rule $rule not named at a line"; }
done
# The negative boot test sampled 1 in 10000 is refused at its line (exit 4).
sed 's/with: {sample: 50}/with: {sample: 10000}/' "$S/secure-boot.yaml" >"$tmp/w-sample.yaml"
set +e
"$LINESEC" sop check "$tmp/w-sample.yaml" 2>"$tmp/w-sample.err"
st=$?
set -e
[ "$st" = 4 ] || fail "sample 10000: exit $st, expected 4"
grep -q "w-sample.yaml:[0-9]*:[0-9]*: .*'10000' is not an integer from 1 to 100" "$tmp/w-sample.err" ||
	fail "sample 10000 not refused at its line"

# Schema problems are all reported with line:column, exit 4.
sed -e 's/^purpose:/purpse:/' -e 's/do: device.flash$/do: device.flush/' \
	"$LSEC_SOURCE_DIR/sops/flash.yaml" >"$tmp/bad.yaml"
set +e
"$LINESEC" sop check --json "$tmp/bad.yaml" >"$tmp/bad.json"
st=$?
set -e
[ "$st" = 4 ] || fail "bad SOP: exit $st, expected 4"
grep -q '"code":"unknown-key","column":1,"line":7' "$tmp/bad.json" || fail "unknown key not at 7:1"
grep -q '"code":"unknown-action"' "$tmp/bad.json" || fail "unknown action not reported"

# Render each default as HTML and Markdown; the sections are all there.
for f in "$LSEC_SOURCE_DIR"/sops/*.yaml; do
	n=$(basename "$f" .yaml)
	"$LINESEC" sop render "$f" --format html --out "$tmp/$n.html"
	"$LINESEC" sop render "$f" --format md >"$tmp/$n.md"
	for s in "Document identity" Purpose Scope "Roles and responsibilities" Prerequisites \
		Sequence "Records kept" "Revision history" "DRAFT - NOT APPROVED"; do
		grep -q "$s" "$tmp/$n.html" || fail "$n.html lacks '$s'"
		grep -q "$s" "$tmp/$n.md" || fail "$n.md lacks '$s'"
	done
	sha=$(sha256sum "$f" | cut -d' ' -f1)
	grep -q "$sha" "$tmp/$n.html" || fail "$n.html lacks the file's SHA-256"
done

# The action reference lists every action of the table.
"$LINESEC" sop actions --json >"$tmp/actions.json"
for a in image.check device.flash otp.lock debug.verify-locked scrap.record confirm; do
	grep -q "\"id\":\"$a\"" "$tmp/actions.json" || fail "action $a missing"
done
# docs/sop-format.md carries the generated rule and action references verbatim.
doc="$LSEC_SOURCE_DIR/docs/sop-format.md"
for what in rules actions; do
	awk -v m="<!-- generated: linesec sop $what --markdown -->" \
		'$0 == m {on=1; next} /^<!-- end generated -->$/ {on=0} on' "$doc" >"$tmp/doc-$what.md"
	"$LINESEC" sop "$what" --markdown >"$tmp/cmd-$what.md"
	diff -u "$tmp/doc-$what.md" "$tmp/cmd-$what.md" ||
		fail "docs/sop-format.md: the $what reference differs from 'linesec sop $what --markdown'"
done

# Against a line whose CA (10 years) ends before the provision SOP's certificates (7300 days)
# would: sop check warns, naming the SOP, the step, the days and the CA's not-after, and still
# passes the file; certificates within the CA's life give no warning.
(
	export LINESEC_LINE="$tmp/caline/line" LINESEC_CA_PASSPHRASE=sop-ca-passphrase
	mkdir -p "$tmp/caline" && cd "$tmp/caline"
	LINESEC_PASSWORD=alice-sop-pw LINESEC_SECOND_PASSWORD=bob-sop-pw "$LINESEC" init --dir line \
		--admin alice --second-officer bob >/dev/null
	LINESEC_PASSWORD=alice-sop-pw "$LINESEC" login alice >/dev/null
	"$LINESEC" ca init --as alice --ca line/ca --cn "Short CA" --days 3650 >/dev/null
	"$LINESEC" ca show --as alice --json >ca.json
	na=$(python3 -c 'import json,sys; print(json.load(open("ca.json"))["not_after"])')
	"$LINESEC" sop check line/sops/provision.yaml >short.out 2>short.err ||
		fail "sop check fails on a CA warning"
	grep -q ': ok: provision' short.out || fail "the SOP did not pass"
	grep -q "warning: line/sops/provision.yaml: SOP 'provision' step 'issue-cert' issues certificates valid for 7300 days, past the line CA's not-after ($na)" short.err ||
		{ cat short.err; fail "no warning naming SOP, step, days and the CA's not-after"; }
	"$LINESEC" sop check --json line/sops/provision.yaml >short.json
	grep -q '"warnings":\[".*issue-cert' short.json || fail "--json carries no warning"
	sed 's/validity-days: 7300/validity-days: 3000/' line/sops/provision.yaml >short.yaml
	"$LINESEC" sop check short.yaml >ok.out 2>ok.err || fail "the shorter SOP fails"
	! grep -q warning ok.err || fail "a validity within the CA's life warns"
	# Outside any line nothing is checked against a CA.
	cd "$tmp" && env -u LINESEC_LINE "$LINESEC" sop check caline/line/sops/provision.yaml \
		>/dev/null 2>none.err
	! grep -q warning none.err || fail "a warning without a line"
) || exit 1
echo "ok"
