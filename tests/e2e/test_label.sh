#!/usr/bin/env bash
# The identity label carrying a unit's initial password: delivered to the
# label printer's spool folder (line.yaml's `labels.spool`, mode 0640) and
# accepted only when the printer's spooler takes the file, within
# `labels.accept_seconds`. No environment variable confirms a label.
#   - a printer takes it: the unit ships; the printed copy holds the very
#     password whose keyed fingerprint the registry holds; the label leaf
#     records that the spooler took it and when;
#   - no printer: after accept_seconds the file is overwritten and removed,
#     the step fails, the unit is not shipped and the ship gate refuses it;
#   - a gang run of two sockets with the printer ships both units;
#   - a label file left by a killed run (the password in clear) is swept at
#     the next run: zeroed, removed, recorded, and its unit stays unshipped;
#     so is the hidden part file of a run killed while writing one, unless a
#     live run still holds it; what is no such label (a FIFO, another user's
#     file, a file named after no unit of the log) is left alone, unrecorded;
#   - a spool folder every user may write is refused.
# On SQLite and PostgreSQL.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

state() { sql "SELECT state FROM units WHERE serial = '$1'"; }
leaves() { "$L" unit show --as olga "$2" --json | grep -o "\"action\":\"$1\"" | wc -l; }
# Label files holding a password anywhere in the test's folder but the printed copies.
left() { grep -rls --exclude='*.txt' '^password: ' . | grep -v -e '^./line/registry.db' -e '^./printed/' || true; }
labels_yaml() { sed -i '/^labels:/,$d' line/line.yaml; printf 'labels:\n  spool: spool\n  accept_seconds: %s\n' "$1" >>line/line.yaml; }

suite() {
	local label=$1 pw pid i holder
	line_with_release "$@" || return
	"$L" sim new --count 8 --dir fleet --seed 47 >/dev/null
	labels_yaml 2
	mkdir -p line/spool printed

	printer line/spool printed
	expect 0 "$label: the printer takes the label: unit-001 ships" \
		"$L" build --as olga --batch --device sim:fleet/unit-001.sim
	has "unit unit-001: shipped" out.txt "$label: unit-001 shipped"
	check "$label: the spool folder is empty" "[ -z \"\$(ls -A line/spool)\" ]"
	check "$label: the label was written group-readable, never world-readable (0640)" \
		"[ \"\$(stat -c %a printed/unit-001.label)\" = 640 ]"
	pw=$(sed -n 's/^password: //p' printed/unit-001.label)
	check "$label: the printed label carries a password" "[ -n \"\$pw\" ]"
	expect 0 "$label: the printed password is the one whose fingerprint the registry holds" \
		env LINESEC_CLAIMED_PASSWORD="$pw" "$L" ca cred-check --as sam unit-001
	"$L" unit show --as olga unit-001 --json >show.txt
	has '"label-accepted":"spooler-took-file"' show.txt "$label: the label leaf says the spooler took it"
	has '"label-accepted-at":"' show.txt "$label: ...and when"
	check "$label: no leaf claims a confirmation by anyone" "! grep -q label-confirmed-by show.txt"

	stop_printers
	expect 9 "$label: no printer takes the label: the run fails" \
		"$L" build --as olga --batch --device sim:fleet/unit-002.sim
	has "identity label of unit 'unit-002' was not taken by the label printer" err.txt \
		"$label: the failure says the printer did not take the label of unit-002"
	has "within 2 s (labels.accept_seconds)" err.txt "$label: ...within accept_seconds"
	check "$label: unit-002 is not shipped" "[ \"\$(state unit-002)\" != shipped ]"
	check "$label: its label file is gone and no file holds a password" \
		"[ -z \"\$(ls -A line/spool)\" ] && [ -z \"\$(left)\" ]"
	expect 8 "$label: the ship gate refuses unit-002" \
		"$L" ship --as olga unit-002 --device sim:fleet/unit-002.sim
	has "cannot ship unit 'unit-002'" err.txt "$label: ...naming the unit"
	check "$label: unit-002 still not shipped" "[ \"\$(state unit-002)\" != shipped ]"

	printer line/spool printed
	expect 0 "$label: a gang run of two sockets with the printer" \
		"$L" line --as olga --devices 'sim:fleet/unit-00[34].sim' --gang 2 --batch
	check "$label: unit-003 and unit-004 shipped" \
		"[ \"\$(state unit-003)\" = shipped ] && [ \"\$(state unit-004)\" = shipped ]"
	check "$label: both labels were printed" \
		"[ -s printed/unit-003.label ] && [ -s printed/unit-004.label ]"
	stop_printers

	# A run killed while its label waits for the printer.
	labels_yaml 60
	"$L" build --as olga --batch --device sim:fleet/unit-005.sim >kill.out 2>&1 &
	pid=$!
	for i in $(seq 1 200); do [ -s line/spool/unit-005.label ] && break; sleep 0.1; done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	check "$label: the killed run left the password in clear in the spool folder" \
		"grep -q '^password: ' line/spool/unit-005.label"
	# A run killed while writing its label leaves the hidden part file; a live run's
	# part file (held with a shared lock, here by flock(1)) is never swept.
	cp line/spool/unit-005.label line/spool/.unit-005.label.part
	cp line/spool/unit-005.label line/spool/.unit-007.label.part
	# The lock's holder is the sleep itself (fd 9), so killing it frees the lock and
	# leaves no process holding the test's output open.
	(flock -s 9 && exec sleep 120) 9<line/spool/.unit-007.label.part >/dev/null 2>&1 &
	holder=$!
	while flock -n -x line/spool/.unit-007.label.part true; do sleep 0.05; done
	labels_yaml 2
	expect 9 "$label: the next run (no printer) starts with a sweep" \
		"$L" build --as olga --batch --device sim:fleet/unit-006.sim
	check "$label: a part file still held by its writer is left alone" \
		"[ -s line/spool/.unit-007.label.part ]"
	kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
	rm -f line/spool/.unit-007.label.part
	check "$label: the leftover label and part file are gone and no file holds a password" \
		"[ ! -e line/spool/unit-005.label ] && [ ! -e line/spool/.unit-005.label.part ] && [ -z \"\$(left)\" ]"
	check "$label: each destruction is recorded (two label.sweep leaves of unit-005)" \
		"[ \"\$(leaves label.sweep unit-005)\" = 2 ]"
	check "$label: unit-005 is not shipped" "[ \"\$(state unit-005)\" != shipped ]"

	# What stands in the spool under a label's name and is no label this station left is
	# never waited on, overwritten or recorded: a FIFO under the name of unit-002 (whose
	# credential no label carried), another user's part file, files of no unit of this log.
	mkfifo line/spool/unit-002.label
	printf 'serial: unit-002\nnot a label of this station\n' >line/spool/.unit-002.label.part
	chown 65534 line/spool/.unit-002.label.part
	printf 'x\n' >line/spool/ghost-1.label
	printf 'x\n' >line/spool/.ghost-2.label.part
	# Under the names of units whose credential no label carried (unit-005, unit-006): hard
	# links to files the station owns, one no label at all, one reading like a label but
	# named outside the spool too; and a file of the station's that reads as no label.
	ln line/line.yaml line/spool/unit-005.label
	printf 'serial: unit-005\npassword: kept\n' >kept.txt
	ln kept.txt line/spool/.unit-005.label.part
	printf 'not a label\n' >line/spool/unit-006.label
	expect 9 "$label: a run starts with those in the spool (and no printer)" \
		timeout 60 "$L" build --as olga --batch --device sim:fleet/unit-007.sim
	has "was not taken by the label printer" err.txt "$label: ...and fails only for want of a printer"
	check "$label: the FIFO, the other user's file and the files of no unit are all still there" \
		"[ -p line/spool/unit-002.label ] && [ -s line/spool/.unit-002.label.part ] && [ -s line/spool/ghost-1.label ] && [ -s line/spool/.ghost-2.label.part ]"
	check "$label: the hard-linked files and the file that is no label are whole" \
		"cmp -s line/line.yaml line/spool/unit-005.label && [ \"\$(cat kept.txt)\" = \"\$(printf 'serial: unit-005\npassword: kept')\" ] && [ \"\$(cat line/spool/unit-006.label)\" = 'not a label' ]"
	check "$label: nothing of them was recorded" \
		"[ \"\$(leaves label.sweep unit-002)\" = 0 ] && [ \"\$(leaves label.sweep unit-005)\" = 2 ] && [ \"\$(leaves label.sweep unit-006)\" = 0 ] && [ \"\$(sql \"SELECT count(*) FROM audit_leaves WHERE unit LIKE 'ghost-%'\")\" = 0 ]"
	rm -f line/spool/unit-002.label line/spool/.unit-002.label.part line/spool/ghost-1.label \
		line/spool/.ghost-2.label.part line/spool/unit-005.label line/spool/.unit-005.label.part \
		line/spool/unit-006.label kept.txt

	# Whoever can remove a label can fake the printer's acceptance: a spool folder every
	# user may write is refused, and nothing is delivered there.
	chmod 0777 line/spool
	printer line/spool printed
	expect 9 "$label: a spool folder every user may write is refused" \
		"$L" build --as olga --batch --device sim:fleet/unit-008.sim
	stop_printers
	has "'$PWD/line/spool'" err.txt "$label: ...naming the folder"
	has "writable by every user (mode 0777)" err.txt "$label: ...and why"
	check "$label: unit-008 is not shipped and no label of it was printed" \
		"[ \"\$(state unit-008)\" != shipped ] && [ ! -e printed/unit-008.label ]"
	chmod 0750 line/spool
	expect 0 "$label: the audit log verifies" "$L" audit verify
}
run_on_sqlite suite sqlite
run_on_postgres suite pg
finish
