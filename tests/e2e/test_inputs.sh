#!/usr/bin/env bash
# Identifiers and the line's files, attacked from the command line. One
# grammar, [A-Za-z0-9][A-Za-z0-9._-]{0,63}, holds for serials, products,
# people and stations wherever they enter: a path-traversal serial, a serial
# with a newline and JSON or ANSI escape codes, a 5000-character serial (once
# cut to 64 silently) and a sim file named with an escape are refused naming
# the value and the grammar, before anything is recorded. Text read back from
# the registry reaches the terminal with its control bytes escaped. The
# station refuses a line folder, registry or line.yaml writable by others and
# a station or CA key readable by others, naming the file and the chmod.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC
grammar='expected \[A-Za-z0-9\]\[A-Za-z0-9._-\]{0,63}'
esc=$(printf '\033')

suite_serials() {
	line_with_release serials || return
	"$L" sim new --count 3 --dir fleet --seed 13 >/dev/null

	expect 2 "a path-traversal serial is refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim --serial '../../../../tmp/x'
	has "unit serial '../../../../tmp/x' is not an identifier: $grammar" err.txt \
		"the refusal names the value and the grammar"
	expect 2 "a serial with ANSI escapes, a newline and JSON is refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim \
		--serial "$(printf 'a\033[31mred\n{"x":1}')"
	has "unit serial 'a\\\\x1b\[31mred\\\\n{\"x\":1}' is not an identifier" err.txt \
		"the refused value is shown with its control bytes escaped"
	check "no escape byte reached the terminal" "! grep -q \"\$esc\" err.txt"
	expect 2 "a 5000-character serial is refused, not cut to 64" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim \
		--serial "$(head -c 5000 /dev/zero | tr '\0' a)"
	has "(5000 bytes)' is not an identifier" err.txt "the refusal gives the length"
	expect 2 "a 65-character serial is refused" \
		"$L" run flash --as olga --batch --device sim:fleet/unit-001.sim \
		--serial "$(head -c 65 /dev/zero | tr '\0' b)"

	# A fleet file whose name (the default serial) carries an escape code.
	for f in fleet/unit-002.sim*; do cp "$f" "fleet/x$esc[2Jy${f#fleet/unit-002}"; done
	expect 2 "a sim file named with an escape code is refused as a serial" \
		"$L" run flash --as olga --batch --device "sim:fleet/x$esc[2Jy.sim"
	has "unit serial 'x\\\\x1b\[2Jy' is not an identifier" err.txt "the refusal names the file's serial"
	check "nothing was registered or run" \
		"[ \"\$(sql 'SELECT COUNT(*) FROM units') \$(sql 'SELECT COUNT(*) FROM runs')\" = '0 0' ]"
	check "no file was written outside the line" "[ ! -e /tmp/x ] && [ ! -e /tmp/x.label ]"

	expect 2 "a person named with an escape code is refused" \
		env LINESEC_PASSWORD=alice-pw "$L" person add "$(printf 'ev\033[8me')" \
		--role operator --as alice
	has "is not an identifier: $grammar" err.txt "the refusal names the grammar"

	# A serial written into the registry by SQL: listed escaped, and refused
	# where it would become a label file name or a certificate.
	expect 0 "unit-001 is built" "$L" build --as olga --batch --device sim:fleet/unit-001.sim
	sql "UPDATE units SET serial = '../x' || char(27) || '[31m' WHERE serial = 'unit-001'" >/dev/null
	expect 0 "unit list shows the tampered serial" "$L" unit list --as olga
	check "its escape byte is shown escaped" "! grep -q \"\$esc\" out.txt && grep -q '\\\\x1b\\[31m' out.txt"
	mkdir labels
	expect 2 "ca cred refuses the tampered serial as a label file name" \
		"$L" ca cred --as alice --serial "$(printf '../x\033[31m')" --label-dir labels
	check "no label file was written" "[ -z \"\$(ls labels)\" ] && [ ! -e x.label ]"
}

suite_modes() {
	line_with_release modes || return
	check "line folder, line.yaml and registry are created private" \
		"[ \"\$(stat -c %a line line/line.yaml line/registry.db line/.sessions | xargs)\" = '700 600 600 700' ]"
	check "station key, CA key and credential key are created 0600" \
		"[ \"\$(stat -c %a line/station.key line/ca/ca.key.pem line/ca/cred.key | xargs)\" = '600 600 600' ]"
	refuse_mode() { # refuse_mode MODE FILE WHAT FIX
		local old
		old=$(stat -c %a "$2")
		chmod "$1" "$2"
		expect 8 "$3 $1 stops the station" "$L" unit list --as olga
		has "$3 '.*$2' is $5 by others (mode 0$1): run 'chmod $4 " err.txt \
			"the refusal names $2 and the fix"
		chmod "$old" "$2"
	}
	refuse_mode 777 line "line folder" go-w writable
	refuse_mode 666 line/registry.db registry go-w writable
	refuse_mode 666 line/line.yaml "line configuration" go-w writable
	refuse_mode 777 line/.sessions "sessions folder" go-w writable
	refuse_mode 644 line/station.key "station key" go-rwx readable
	refuse_mode 644 line/ca/ca.key.pem "CA key" go-rwx readable
	refuse_mode 640 line/ca/cred.key "credential key" go-rwx readable
	expect 0 "with the modes restored the station runs" "$L" unit list --as olga
}

suite_serials
suite_modes
finish
