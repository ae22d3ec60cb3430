#!/usr/bin/env bash
# make demo end to end: the batch is built, the faults are handled as the SOPs say, the log verifies.
set -euo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
"$LSEC_SOURCE_DIR/scripts/demo" "$LINESEC" >"$out" 2>&1 || fail "demo exited with $?"
grep -q 'built and shipped 22' "$out" || fail "not 22 units shipped"
grep -q 'quarantined       1' "$out" || fail "power-loss unit not quarantined"
grep -q "held by unit 'unit-005' (cloned chip)" "$out" || fail "clone not refused"
grep -q 'Do not retry and do not reseat' "$out" || fail "the SOP's words not shown"
grep -q 'audit log verifies' "$out" || fail "log does not verify"
grep -q "refused as the return of 'unit-005'" "$out" || fail "SOP 5: clone accepted as a return"
grep -q 'scrapped 2 unit(s) by shred (destroy), destroyed by olga, witnessed by sam' "$out" || fail "SOP 5: scrap not recorded"
grep -q '1 pending destruction: unit-002' "$out" || fail "SOP 5: lost unit not pending destruction"
grep -q "'alice' requested it; a second, distinct security officer must approve" "$out" || fail "one officer approved her own change"
grep -q "cannot approve a change 'bob': wrong name or password" "$out" || fail "--as signed without the password"
grep -q "refused by rule 'decommission-credential'" "$out" || fail "a weakened SOP passed sop check"
grep -q "line.yaml.*writable by others" "$out" || fail "a line file others may write was not refused"
grep -q 'demo: done' "$out" || fail "demo did not finish"
echo "demo ok"
