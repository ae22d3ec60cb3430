#!/usr/bin/env bash
# The identity label carrying a unit's initial password: delivered to the
# label printer's folder (line.yaml's `labels`), confirmed on the unit by the
# operator (with --batch: LINESEC_LABEL_CONFIRM=yes, nothing else), and only
# then is the label file, the password's one copy, overwritten and removed.
#   - delivered and confirmed: the unit ships; its label leaf names who
#     confirmed it and how; no label file is left;
#   - not confirmed (the variable unset, or anything but "yes"): the label
#     file is destroyed all the same, the unit is quarantined, never shipped
#     with a password nobody has;
#   - not delivered (the spool folder cannot be made): the unit is
#     quarantined with the reason.
# On SQLite and PostgreSQL.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

state() { sql "SELECT state FROM units WHERE serial = '$1'"; }
# Label files holding a password anywhere in the test's folder.
left() { grep -rls --exclude='*.txt' '^password: ' . | grep -v '^./line/registry.db' || true; }

suite() {
	local label=$1
	line_with_release "$@" || return
	"$L" sim new --count 4 --dir fleet --seed 47 >/dev/null
	echo "labels: spool" >>line/line.yaml

	expect 0 "$label: delivered and confirmed (LINESEC_LABEL_CONFIRM=yes): the unit ships" \
		"$L" build --as olga --batch --device sim:fleet/unit-001.sim
	has "unit unit-001: shipped" out.txt "$label: unit-001 shipped"
	check "$label: the label went to the spool folder line.yaml names, and was removed there" \
		"[ -d line/spool ] && [ -z \"\$(ls -A line/spool)\" ] && [ ! -e line/labels ]"
	"$L" unit show --as olga unit-001 --json >show.txt
	has '"label-confirmed-by":"olga"' show.txt "$label: the label leaf names who confirmed it"
	has '"label-confirm":"scripted"' show.txt "$label: ...and that a script confirmed it"
	check "$label: no file holds a password" "[ -z \"\$(left)\" ]"

	expect 9 "$label: a label nobody confirmed (the variable unset) fails the run" \
		env -u LINESEC_LABEL_CONFIRM "$L" build --as olga --batch --device sim:fleet/unit-002.sim
	has "identity label of unit 'unit-002' was not confirmed on the unit by 'olga'" err.txt \
		"$label: the failure says the label was not confirmed, on which unit, by whom"
	has "the unit is quarantined" err.txt "$label: ...and what became of the unit"
	check "$label: unit-002 is quarantined" "[ \"\$(state unit-002)\" = quarantined ]"
	check "$label: its label file was destroyed all the same" \
		"[ -z \"\$(ls -A line/spool)\" ] && [ -z \"\$(left)\" ]"
	expect 9 "$label: LINESEC_LABEL_CONFIRM=no is no confirmation" \
		env LINESEC_LABEL_CONFIRM=no "$L" build --as olga --batch --device sim:fleet/unit-003.sim
	check "$label: unit-003 is quarantined" "[ \"\$(state unit-003)\" = quarantined ]"
	"$L" unit show --as olga unit-002 --json >show.txt
	check "$label: no label leaf of unit-002 records a confirmation" \
		"! grep -q label-confirmed-by show.txt"

	rmdir line/spool && echo "not a folder" >line/spool
	expect 9 "$label: a label that cannot be delivered fails the run" \
		"$L" build --as olga --batch --device sim:fleet/unit-004.sim
	has "identity label of unit 'unit-004' could not be delivered" err.txt \
		"$label: the failure says the label was not delivered, for which unit"
	has "the label carrying the unit's initial credential was not produced" err.txt \
		"$label: ...and that the credential has no label"
	check "$label: unit-004 is quarantined" "[ \"\$(state unit-004)\" = quarantined ]"
	check "$label: no file holds a password" "[ -z \"\$(left)\" ]"
	expect 0 "$label: the audit log verifies" "$L" audit verify
}
run_on_sqlite suite sqlite
run_on_postgres suite pg
finish
