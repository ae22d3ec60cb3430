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
grep -q 'demo: done' "$out" || fail "demo did not finish"
echo "demo ok"
