#!/usr/bin/env bash
# The station through the command line only: a line set up with public
# commands, release approval refusals, a build, the ship gate, a clone, a
# quarantine with the SOP's words, a gang run and its summary.
set -euo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}" "${LSEC_TEST_DATA:?}"
fail() { echo "FAIL: $*"; exit 1; }
L() { "$LINESEC" "$@"; }
# status WANT CMD...: the command must exit with status WANT; its stderr goes to err.txt.
status() {
	local want=$1 got=0
	shift
	"$LINESEC" "$@" >out.txt 2>err.txt || got=$?
	[ "$got" = "$want" ] || { cat err.txt; fail "'$*': exit $got, expected $want"; }
}
export LINESEC_CA_PASSPHRASE=test-ca-passphrase

# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
# The test's folder is testlib's: its label printer takes the labels of line*/labels there.
tmp=$e2e_dir
sql() { reg_sql "$pg_url" line/registry.db "$1" >/dev/null; }
sqlq() { reg_sql "$pg_url" line/registry.db "$1"; }

# suite NAME [init options]: the whole story on one registry.
suite() {
mkdir "$tmp/$1"
cd "$tmp/$1"
shift
pg_url=${2:-}
export LINESEC_LINE="$PWD/line"
LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-123 L init --dir line --admin alice \
	--second-officer bob "$@" >/dev/null
[ -f line/sops/flash.yaml ] || fail "init did not lay down the default SOPs"
LINESEC_PASSWORD=alice-pw L login alice >/dev/null
LINESEC_PASSWORD=bob-pw-123 L login bob >/dev/null
add_person alice alice-pw bob bob-pw-123 olga operator olga-pw-123 || fail "olga added"
add_person alice alice-pw bob bob-pw-123 sam supervisor sam-pw-1234 || fail "sam added"
L ca init --as alice --ca line/ca --cn "Test CA" --days 10950 >/dev/null
L keygen --out fw.pem >/dev/null
L pubkey fw.pem --out fw.pub.pem >/dev/null
head -c 5000 /dev/urandom >app.bin
L image sign --key fw.pem --product sensor --version 2.0.0 --build release --security-counter 2 \
	--embed-pubkey app.bin rel.img >/dev/null
L image sign --key fw.pem --product sensor --version 2.0.1 --build debug --security-counter 2 \
	--embed-pubkey app.bin dbg.img >/dev/null
LINESEC_PASSWORD=sam-pw-1234 L login sam >/dev/null
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-pw-1234

# Nothing runs before its SOP is approved.
L sim new --count 6 --dir fleet --seed 11 --clone 2:5 --fault-plan <(echo '{"4": "boot_fail=9"}') >/dev/null
LINESEC_PASSWORD=olga-pw-123 L login olga >/dev/null
status 9 build --as olga --batch --device sim:fleet/unit-001.sim
grep -q "approved" err.txt || { cat err.txt; fail "unapproved SOP not named"; }

for s in flash provision secure-boot debug-lock decommission; do
	L sop submit --as sam "line/sops/$s.yaml" >/dev/null
	LINESEC_PASSWORD=alice-pw L sop approve --as alice "$s" 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 L sop approve --as bob "$s" 1 >/dev/null
done
ack_sops olga olga-pw-123

# Releases: the submitter cannot approve; a debug build is refused; an operator cannot approve.
LINESEC_PASSWORD=alice-pw L product key submit --as alice sensor fw.pub.pem >/dev/null
LINESEC_PASSWORD=bob-pw-123 L product key approve --as bob sensor@1 >/dev/null
# A product the line does not have is refused at submit (the first command that can know), naming it
# and the line's products; nothing is recorded.
LINESEC_PASSWORD=alice-pw status 4 release submit --as alice rel.img --product acme
grep -q "product 'acme' is not a product of line 'line1': its products (line.yaml) are 'sensor'" err.txt ||
	{ cat err.txt; fail "unknown product not refused at submit, naming the line's products"; }
L release list --as bob --json | grep -q acme && fail "a release of an unknown product was recorded"
LINESEC_PASSWORD=alice-pw L release submit --as alice rel.img --product sensor >/dev/null
LINESEC_PASSWORD=alice-pw status 8 release approve --as alice sensor@2.0.0
grep -q "a second security officer must approve" err.txt || fail "self-approval message"
# PRODUCT@VERSION: a build 0 is written without '+0', and with it names the same release.
LINESEC_PASSWORD=alice-pw status 8 release approve --as alice sensor@2.0.0+0
LINESEC_PASSWORD=alice-pw status 6 release approve --as alice sensor@2.0
grep -q "PRODUCT@VERSION, the version the image carries with its +build part" err.txt ||
	{ cat err.txt; fail "an unknown release id does not say how releases are named"; }
LINESEC_PASSWORD=olga-pw-123 status 10 release approve --as olga sensor@2.0.0
LINESEC_PASSWORD=bob-pw-123 L release approve --as bob sensor@2.0.0 >/dev/null
LINESEC_PASSWORD=alice-pw L release submit --as alice dbg.img --product sensor >/dev/null
LINESEC_PASSWORD=bob-pw-123 status 52 release approve --as bob sensor@2.0.1
L release list --as bob --json | grep -q '"state":"approved"' || fail "release not approved"

# A build ships the unit; its record has its proof; shipping again is refused, naming why.
L build --as olga --batch --device sim:fleet/unit-001.sim | grep -q "unit unit-001: shipped" ||
	fail "unit-001 not shipped"
L unit show --as olga unit-001 --json >rec.json
grep -q '"format":"linesec-audit-proof/1"' rec.json || fail "no inclusion proof in the record"
# The station's checkpoints and 'audit checkpoint' name the log the same way.
line_id=$(sed -n 's/^line: *//p' line/line.yaml | tr -d '"')
grep -q "\"checkpoint\":\"linesec/$line_id\\\\n" rec.json || fail "the station's checkpoint origin is not linesec/$line_id"
L audit checkpoint --as olga --json | grep -q "\"origin\":\"linesec/$line_id\"" ||
	fail "audit checkpoint origin is not linesec/$line_id"
# The initial credential follows the approved SOP's parameters (20 base32 characters).
grep -q '"alphabet":"base32"' rec.json && grep -q '"length":20' rec.json ||
	fail "the credential does not follow the SOP's length and alphabet"
# The record's proof checks offline with only the station's public key.
if command -v python3 >/dev/null; then
	python3 -c 'import json; json.dump(json.load(open("rec.json"))["proof"], open("proof.json","w"))'
	L audit check-proof proof.json --pubkey line/station.pub >/dev/null ||
		fail "record proof does not check"
fi
status 8 ship --as olga unit-001 --device sim:fleet/unit-001.sim
grep -q "it is shipped; only a locked unit ships" err.txt || fail "ship refusal does not say why"

# One SOP at a time; the ship gate names what is missing.
L run flash --as olga --batch --device sim:fleet/unit-002.sim >/dev/null
status 8 ship --as olga unit-002 --device sim:fleet/unit-002.sim
grep -q "it is flashed" err.txt || fail "ship gate did not name the missing piece"

# The clone of unit-002 is stopped before anything is written.
status 8 run flash --as olga --batch --device sim:fleet/unit-005.sim
grep -q "held by unit 'unit-002' (cloned chip)" err.txt || fail "clone not named"
L unit list --as olga --json | grep -q unit-005 && fail "the clone was registered"

# A unit that never boots is quarantined with the SOP's words for the operator.
status 9 build --as olga --batch --device sim:fleet/unit-004.sim
grep -q "What to do next (SOP flash, step boot-attest)" err.txt || fail "no next step shown"
grep -q "The unit did not boot the approved image" err.txt || fail "SOP message not shown"
L unit list --as olga --state quarantined | grep -q unit-004 || fail "unit-004 not quarantined"

# Registry write access alone cannot ship it: unit-001's passed leaves filed
# under unit-004 (the leaf table's unit column is outside the leaf hash),
# passed runs copied over and its state set to locked, all by SQL.
moved=$(sqlq "SELECT seq FROM audit_leaves WHERE unit = 'unit-001'" | paste -sd, -)
last_run=$(sqlq "SELECT MAX(id) FROM runs")
sql "UPDATE audit_leaves SET unit = 'unit-004' WHERE unit = 'unit-001';
INSERT INTO runs (unit_id, sop, sop_version, person, station, outcome, started, finished)
 SELECT (SELECT id FROM units WHERE serial = 'unit-004'), sop, sop_version, person, station,
        outcome, started, finished FROM runs
 WHERE unit_id = (SELECT id FROM units WHERE serial = 'unit-001') ORDER BY id;
UPDATE units SET state = 'locked' WHERE serial = 'unit-004'"
status 5 ship --as olga unit-004 --device sim:fleet/unit-004.sim
grep -q "audit_leaves lists [0-9]* leaves under unit 'unit-004' below leaf [0-9]*, but the signed index of that checkpoint holds [0-9]*" err.txt ||
	{ cat err.txt; fail "moved leaves not named"; }
status 5 audit prove --serial unit-004 --out moved.proof.json
grep -q "audit_leaves" err.txt || fail "a proof was made of moved leaves"
[ ! -e moved.proof.json ] || fail "a proof file of moved leaves was written"
status 5 audit verify
grep -q "audit_leaves files leaf .* under unit 'unit-004', but the signed leaf names unit 'unit-001'" err.txt ||
	{ cat err.txt; fail "audit verify does not name the moved leaf"; }
# Put the registry back as it was for the rest of the story.
sql "UPDATE audit_leaves SET unit = 'unit-001' WHERE seq IN ($moved);
DELETE FROM runs WHERE id > $last_run;
UPDATE units SET state = 'quarantined' WHERE serial = 'unit-004'"

# A gang run over the rest, then the summary; the log verifies.
L line --as olga --devices 'sim:fleet/*' --gang 2 --batch --json >sum.json 2>sum.err || true; cat sum.err
grep -q '"shipped":3' sum.json || { cat sum.json; fail "gang run summary"; }
grep -q '"units":6' sum.json || fail "gang run did not take all 6 units"
L audit verify >/dev/null || fail "audit log does not verify"
# No secret in the registry: the CA passphrase and the labels' passwords never reach it.
if [ -f line/registry.db ]; then
	! grep -a -q "test-ca-passphrase" line/registry.db || fail "CA passphrase in the registry"
fi
[ -z "$(ls line/labels 2>/dev/null)" ] || fail "a label file with a password was left behind"

# A second batch with a prefix of its own is built (same file names would be refused as cloned).
L sim new --count 1 --dir batch2 --prefix b2- >/dev/null
L build --as olga --batch --device sim:batch2/b2-001.sim | grep -q "unit b2-001: shipped" ||
	fail "a second batch with --prefix was not built"
# With two products, a new unit never silently takes the first: it is refused until one is named.
printf '  - id: meter\n    target: "sim://"\n' >>line/line.yaml
L sim new --count 2 --dir batch3 --prefix b3- >/dev/null
status 4 build --as olga --batch --device sim:batch3/b3-001.sim
grep -q "cannot register unit 'b3-001': line 'line1' builds 2 products ('sensor', 'meter'): name the unit's product with --product" err.txt ||
	{ cat err.txt; fail "a new unit took a product silently"; }
status 6 unit show --as olga b3-001
L build --as olga --batch --product sensor --device sim:batch3/b3-001.sim | grep -q "unit b3-001: shipped" ||
	fail "--product did not choose the product"
L unit show --as olga b3-001 >rec3.txt || true; grep -q "product sensor" rec3.txt || { head -3 rec3.txt; fail "b3-001 is not a sensor"; }
cd "$tmp"
}

suite sqlite
echo "station ok (sqlite)"
if [ -n "${LSEC_TEST_PG_URL:-}" ]; then
	schema="e2e_station_$$_$RANDOM"
	psql -q "$LSEC_TEST_PG_URL" -c "CREATE SCHEMA $schema" >/dev/null 2>&1 || fail "no PG schema"
	sep='?'
	case $LSEC_TEST_PG_URL in *\?*) sep='&' ;; esac
	suite postgres --registry "${LSEC_TEST_PG_URL}${sep}options=-csearch_path%3D$schema"
	psql -q "$LSEC_TEST_PG_URL" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
	echo "station ok (postgres)"
else
	echo "skip postgres: LSEC_TEST_PG_URL is not set"
fi
