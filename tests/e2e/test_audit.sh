#!/usr/bin/env bash
# Drives `linesec audit ...` end to end on a real line folder: checkpoints
# (exported), verify, proofs for a unit's events and for one leaf, the
# offline check with only the proof and station.pub, consistency between two
# checkpoints, and the exit status and message of each tampering found in the
# SQLite registry (edited leaf, deleted tail caught by the line's anchor,
# rewritten log caught by an exported checkpoint, tampered proof file).
set -uo pipefail
: "${LINESEC:?}"
# shellcheck source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
dir=$e2e_dir
exec </dev/null
has() { if grep -q -- "$1" "$2"; then ok "$3"; else bad "$3: '$1' not in $2"; cat "$2"; fi; }

L="$dir/line"
export LINESEC_PASSWORD=officer-pass-1
LINESEC_SECOND_PASSWORD=officer-pass-2 expect 0 "init" "$LINESEC" init --dir "$L" --line-id lineA \
	--station-id st1 --admin ada --second-officer ben
export LINESEC_LINE="$L"
expect 0 "login" "$LINESEC" login ada
# add PERSON ROLE PASSWORD: ada requests, ben approves (logged in for it only).
add() {
	LINESEC_PASSWORD=officer-pass-2 "$LINESEC" login ben >/dev/null
	add_person ada officer-pass-1 ben officer-pass-2 "$@" && ok "add $1"
	"$LINESEC" logout ben >/dev/null
}
# A fresh log verifies; nothing to prove before the first checkpoint.
expect 0 "verify a fresh log" "$LINESEC" audit verify
has "audit log verifies" out.txt "verify says so"
expect 9 "prove before any checkpoint" "$LINESEC" audit prove --leaf 0
has "no checkpoint" err.txt "prove says why"
# (each of ben's logouts below signs a checkpoint of its own)
for p in olga oscar otto; do
	add "$p" operator op-pass-11
done

expect 0 "checkpoint --export" "$LINESEC" audit checkpoint --export "$dir/usb"
has "^linesec/lineA$" out.txt "the note names the line"
has "^— st1 " out.txt "the note is signed by the station"
first=$(ls "$dir"/usb/lineA-*.checkpoint)
[ -n "$first" ] && ok "checkpoint exported" || bad "no exported checkpoint"

add sam supervisor sup-pass-11
expect 0 "second checkpoint (JSON)" "$LINESEC" audit checkpoint --export "$dir/usb" --json
has '"tree_size":' out.txt "checkpoint JSON has the size"
second=$(ls -t "$dir"/usb/lineA-*.checkpoint | head -n 1)

expect 0 "verify with checkpoints" "$LINESEC" audit verify --against "$first" --json
has '"checkpoints":6' out.txt "six checkpoints checked (two asked for, four at ben's logouts)"
expect 0 "consistency first -> second" "$LINESEC" audit consistency "$first" "$second"
has "consistent" out.txt "consistency says so"
expect 2 "consistency the wrong way round" "$LINESEC" audit consistency "$second" "$first"

# Proofs: one leaf, checked offline with nothing but the file and station.pub.
expect 0 "prove leaf 1" "$LINESEC" audit prove --leaf 1 --out "$dir/leaf1.json"
cp "$L/station.pub" "$dir/station.pub"
(cd / && unset LINESEC_LINE && "$LINESEC" audit check-proof "$dir/leaf1.json" --pubkey "$dir/station.pub" >"$dir/out.txt" 2>"$dir/err.txt")
[ $? -eq 0 ] && ok "check-proof offline" || { bad "check-proof offline"; cat out.txt err.txt; }
has "proof verifies: 1 leaf" out.txt "check-proof says so"
expect 0 "check-proof --json" "$LINESEC" audit check-proof "$dir/leaf1.json" --pubkey "$dir/station.pub" --json
has '"ok":true' out.txt "check-proof JSON"

# A tampered proof file fails.
has 'person\\":\\"ben' "$dir/leaf1.json" "the proved leaf names the person"
sed 's/ben/bem/g' "$dir/leaf1.json" >"$dir/bad.json"
expect 5 "check-proof of an edited leaf" "$LINESEC" audit check-proof "$dir/bad.json" --pubkey "$dir/station.pub"
has "not in the signed tree" err.txt "check-proof names the reason"
"$LINESEC" keygen --type ed25519 --out "$dir/other.pem" >/dev/null 2>&1
"$LINESEC" pubkey "$dir/other.pem" --out "$dir/other.pub" >/dev/null 2>&1
expect 5 "check-proof under another key" "$LINESEC" audit check-proof "$dir/leaf1.json" --pubkey "$dir/other.pub"
expect 4 "check-proof of a non-proof" "$LINESEC" audit check-proof "$first" --pubkey "$dir/station.pub"
expect 2 "prove needs --serial or --leaf" "$LINESEC" audit prove

# Tampering directly in the registry.
db="$L/registry.db"
cp "$db" "$dir/backup.db"
sqlite3 "$db" "UPDATE audit_leaves SET leaf = CAST(REPLACE(CAST(leaf AS TEXT), 'oscar', 'oskar') AS BLOB) WHERE seq = (SELECT MIN(seq) FROM audit_leaves WHERE CAST(leaf AS TEXT) LIKE '%oscar%')"
expect 5 "verify an edited leaf" "$LINESEC" audit verify
has "leaf [0-9]* is bad" err.txt "verify names the leaf"
cp "$dir/backup.db" "$db"
n=$(sqlite3 "$db" "SELECT COUNT(*) FROM audit_leaves")
sqlite3 "$db" "DELETE FROM audit_leaves WHERE seq >= $((n - 2))"
expect 9 "verify a cut-back log" "$LINESEC" audit verify
has "older than the last checkpoint this station signed" err.txt "the line's anchor names it"
# Cut back to the first checkpoint with the later rows gone: consistent on its
# own, but not with the checkpoint anchored and exported after it.
size1=$(sed -n 2p "$first")
cp "$dir/backup.db" "$db"
sqlite3 "$db" "DELETE FROM audit_leaves WHERE seq > $size1; DELETE FROM checkpoints WHERE tree_size > $size1"
expect 9 "the cut-back log is refused" "$LINESEC" audit verify
has "older than the last checkpoint" err.txt "the anchor names the cut"
cp "$L/anchor.json" "$dir/anchor.json"
sed -i 's/"checkpoint":{[^}]*},//' "$L/anchor.json"
# The anchor's checkpoint gone too: what the station verified last still names the cut.
expect 9 "the cut-back log is refused by what was verified last" "$LINESEC" audit verify
has "verified before (leaves were deleted)" err.txt "verified.json names the cut"
mv "$L/verified.json" "$dir/verified.json"
# With that gone as well, the tree verifies on its own, but the registry still
# holds the person whose leaf went.
expect 5 "the cut-back log's tree verifies, the registry's state does not" "$LINESEC" audit verify
has "audit log verifies" out.txt "the tree verifies"
has "registry table people, row 'sam': no audit leaf records it" err.txt "verify names the row left without its leaf"
expect 9 "verify --against the later export" "$LINESEC" audit verify --against "$second"
has "exported checkpoint covers" err.txt "verify names the export"
cp "$dir/anchor.json" "$L/anchor.json"
mv "$dir/verified.json" "$L/verified.json"
cp "$dir/backup.db" "$db"
expect 0 "restored log verifies" "$LINESEC" audit verify --against "$second"

expect 0 "audit --help" "$LINESEC" audit --help
expect 0 "audit verify --help" "$LINESEC" audit verify --help

finish
echo "all audit end-to-end checks passed"
