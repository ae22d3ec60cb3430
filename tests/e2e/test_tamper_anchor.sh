#!/usr/bin/env bash
# The line's anchor and checkpoint folder, on both backends: every checkpoint
# is exported to the folder line.yaml names and recorded in anchor.json; a
# registry of another init put in the line's place, or an older copy of the
# line's own registry put back, is refused by every command, naming what was
# found; `audit verify` works on a read-only copy of the line folder and
# against the exported folder, and reports a deleted exported note and one
# from another line.
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
dir=$e2e_dir
exec </dev/null
export LINESEC_PASSWORD=officer-pass-1 LINESEC_SECOND_PASSWORD=officer-pass-2

notes() { find "$1" -name '*.note' | wc -l; }

# A line of its own (lineB, SQLite) whose notes must never pass for lineA's.
B="$dir/lineB"
expect 0 "init lineB" "$LINESEC" init --dir "$B" --line-id lineB --station-id st1 --admin bea --second-officer bez
expect 0 "lineB: login" "$LINESEC" login --line "$B" bea
expect 0 "lineB: checkpoint" "$LINESEC" audit checkpoint --line "$B"

# add LABEL NAME: ada requests operator NAME, ben approves (logged in for it only).
add() {
	LINESEC_PASSWORD=officer-pass-2 "$LINESEC" login ben >/dev/null
	add_person ada officer-pass-1 ben officer-pass-2 "$2" operator op-pass-111 && ok "$1: add $2"
	"$LINESEC" logout ben >/dev/null
}
suite() {
	local label=$1
	shift
	local url=${2:-}
	local L="$dir/$label/line" size
	expect 0 "$label: init" "$LINESEC" init --dir "$L" --line-id lineA --station-id st1 --admin ada --second-officer ben "$@"
	export LINESEC_LINE="$L"
	check "$label: init wrote anchor.json" '[ -f "$L/anchor.json" ]'
	has '"registry":"[0-9a-f]\{32\}"' "$L/anchor.json" "$label: the anchor names the registry's id"
	expect 0 "$label: login" "$LINESEC" login ada
	expect 0 "$label: first checkpoint" "$LINESEC" audit checkpoint
	check "$label: the checkpoint is exported" '[ "$(notes "$L/checkpoints")" -eq 1 ]'
	# The backup taken now, before more checkpoints.
	local old_leaves
	old_leaves=$(reg_sql "$url" "$L/registry.db" "SELECT COUNT(*) FROM audit_leaves")
	[ -z "$url" ] && cp "$L/registry.db" "$dir/$label-old.db"
	add "$label" olga
	expect 0 "$label: second checkpoint" "$LINESEC" audit checkpoint
	add "$label" otto
	expect 0 "$label: third checkpoint" "$LINESEC" audit checkpoint --json
	size=$(sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p' out.txt)
	# Three asked for, and one signed by each of ben's two logouts.
	check "$label: five notes in the checkpoint folder" '[ "$(notes "$L/checkpoints")" -eq 5 ]'
	check "$label: the last one is named by its size" '[ -f "$L/checkpoints/$size.note" ]'
	has "\"tree_size\":$size" "$L/anchor.json" "$label: the anchor holds the last checkpoint"

	# An auditor's read-only copy of the line folder, no login needed.
	local C="$dir/$label/copy"
	cp -a "$L" "$C"
	rm -rf "$C/.sessions"
	chmod -R a-w "$C"
	expect 0 "$label: verify a read-only copy" "$LINESEC" audit verify --line "$C" --read-only
	has "contains the last checkpoint this station signed ($size leaves" out.txt "$label: the anchor is checked"
	expect 0 "$label: verify the copy against the exported folder" "$LINESEC" audit verify --line "$C" --read-only --against "$C/checkpoints"
	has "(5 checked)" out.txt "$label: every exported note checked"
	if [ -z "$url" ]; then
		check "$label: nothing written into the copy" '[ ! -e "$C/registry.db-wal" ] && [ ! -e "$C/registry.db-shm" ]'
		expect 0 "$label: a read-only folder is read read-only" "$LINESEC" audit verify --line "$C"
	fi
	chmod -R u+w "$C"

	# A deleted exported note, and a note of another line, are reported.
	mv "$L/checkpoints/$size.note" "$dir/kept.note"
	expect 9 "$label: verify against a folder missing a note" "$LINESEC" audit verify --against "$L/checkpoints"
	has "($size leaves) signed by station 'st1' is not in the checkpoint folder" err.txt "$label: the missing note is named"
	mv "$dir/kept.note" "$L/checkpoints/$size.note"
	cp "$(find "$B/checkpoints" -name '*.note' | head -n 1)" "$L/checkpoints/lineB-1.checkpoint"
	expect 5 "$label: verify against a folder with lineB's note" "$LINESEC" audit verify --against "$L/checkpoints"
	has "lineB-1.checkpoint' is bad" err.txt "$label: the foreign note is named"
	rm "$L/checkpoints/lineB-1.checkpoint"
	expect 0 "$label: the folder verifies again" "$LINESEC" audit verify --against "$L/checkpoints"

	# Another valid registry (a fresh init elsewhere) put in the line's place.
	if [ -z "$url" ]; then
		cp "$L/registry.db" "$dir/$label-now.db"
		cp "$B/registry.db" "$L/registry.db"
	else
		local other="${url%%%3D*}%3D${url##*%3D}_b"
		psql -q "$LSEC_TEST_PG_URL" -c "CREATE SCHEMA ${url##*%3D}_b" >/dev/null
		expect 0 "$label: init another line on another schema" "$LINESEC" init --dir "$dir/$label/other" --station-id st9 --admin oz --second-officer ozzy --registry "$other"
		cp "$L/line.yaml" "$dir/$label-line.yaml"
		sed -i "s|^registry: .*|registry: \"$other\"|" "$L/line.yaml"
	fi
	expect 9 "$label: another registry is refused" "$LINESEC" person list --as ada
	has "is not this line's" err.txt "$label: the error says whose registry it is not"
	has "restore this line's registry from its backup" err.txt "$label: and what to do"
	expect 9 "$label: audit verify refuses it too" "$LINESEC" audit verify
	if [ -z "$url" ]; then
		cp "$dir/$label-now.db" "$L/registry.db"
	else
		cp "$dir/$label-line.yaml" "$L/line.yaml"
		psql -q "$LSEC_TEST_PG_URL" -c "DROP SCHEMA ${url##*%3D}_b CASCADE" >/dev/null
	fi
	expect 0 "$label: the line's own registry opens again" "$LINESEC" person list --as ada

	# The line's registry restored from the backup taken before two checkpoints.
	if [ -z "$url" ]; then
		cp "$dir/$label-old.db" "$L/registry.db"
	else
		reg_sql "$url" "" "DELETE FROM audit_leaves WHERE seq >= $old_leaves; DELETE FROM checkpoints WHERE tree_size >= $old_leaves" >/dev/null
	fi
	expect 9 "$label: an older registry is refused" "$LINESEC" person list --as ada
	has "older than the last checkpoint this station signed" err.txt "$label: the error says it is older"
	has "checkpoint of $size leaves" err.txt "$label: and names the anchored checkpoint"
	expect 9 "$label: audit verify refuses it too" "$LINESEC" audit verify
	expect 9 "$label: so does a checkpoint" "$LINESEC" audit checkpoint
	unset LINESEC_LINE
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
