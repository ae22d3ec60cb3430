#!/usr/bin/env bash
# Crash safety through the command: 'linesec build' is killed (SIGKILL, through
# the test-only LINESEC_TEST_CRASH_AT hook, docs/station.md) right after the
# boot-key digest is burned, and right after the debug lock is set; the next
# 'linesec build' reconciles each unit by reading it back and ships it, with
# one identity each, and the audit log verifies. Then the same inside a group
# commit (LINESEC_TEST_CRASH_AT=group-commit:N: killed in the process's Nth
# durable commit, written but not yet synced): of one build, and of a gang run
# on two sockets; every unit is then built again and ships.
set -euo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
tmp=$e2e_dir
fail() { echo "FAIL: $*"; exit 1; }
L() { "$LINESEC" "$@"; }
export LINESEC_LINE="$tmp/line" LINESEC_CA_PASSPHRASE=crash-ca-passphrase

LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-123 L init --dir line --admin alice \
	--second-officer bob >/dev/null
LINESEC_PASSWORD=alice-pw L login alice >/dev/null
LINESEC_PASSWORD=bob-pw-123 L login bob >/dev/null
add_person alice alice-pw bob bob-pw-123 olga operator olga-pw-123 || fail "olga added"
add_person alice alice-pw bob bob-pw-123 sam supervisor sam-pw-1234 || fail "sam added"
L ca init --as alice --ca line/ca --cn "Crash CA" --days 10950 >/dev/null
L keygen --out fw.pem >/dev/null
L pubkey fw.pem --out fw.pub.pem >/dev/null
head -c 3000 /dev/urandom >app.bin
L image sign --key fw.pem --product sensor --version 1.0.0 --build release --security-counter 1 \
	--embed-pubkey app.bin rel.img >/dev/null
LINESEC_PASSWORD=sam-pw-1234 L login sam >/dev/null
# sam witnesses the tamper seal and scrap, signing with his password each time.
export LINESEC_WITNESS_PASSWORD=sam-pw-1234
for s in flash provision secure-boot debug-lock decommission; do
	L sop submit --as sam "line/sops/$s.yaml" >/dev/null
	LINESEC_PASSWORD=alice-pw L sop approve --as alice "$s" 1 >/dev/null
	LINESEC_PASSWORD=bob-pw-123 L sop approve --as bob "$s" 1 >/dev/null
done
LINESEC_PASSWORD=alice-pw L product key submit --as alice sensor fw.pub.pem >/dev/null
LINESEC_PASSWORD=bob-pw-123 L product key approve --as bob sensor@1 >/dev/null
LINESEC_PASSWORD=alice-pw L release submit --as alice rel.img --product sensor >/dev/null
LINESEC_PASSWORD=bob-pw-123 L release approve --as bob sensor@1.0.0 >/dev/null
LINESEC_PASSWORD=olga-pw-123 L login olga >/dev/null
ack_sops olga olga-pw-123
L sim new --count 5 --dir fleet --seed 5 >/dev/null

i=0
for at in secure-boot:burn-digest:acted debug-lock:lock-debug:acted; do
	i=$((i + 1))
	unit=sim:fleet/unit-00$i.sim
	st=0
	LINESEC_TEST_CRASH_AT=$at L build --as olga --batch --device "$unit" >/dev/null 2>&1 || st=$?
	[ "$st" = 137 ] || fail "build was not killed at $at (exit $st)"
	L unit list --as olga --json | grep -q '"state":"shipped"' && [ $i = 1 ] && fail "shipped after a crash"
	L build --as olga --batch --device "$unit" | grep -q "shipped" || fail "unit $i not finished after $at"
	n=$(L unit show --as olga "unit-00$i" --json | grep -o '"action":"run.reconcile"' | wc -l)
	[ "$n" -ge 1 ] || fail "the interrupted run of unit $i was not closed"
	c=$(L unit show --as olga "unit-00$i" --json | grep -o '"cert-serial":"[0-9a-f]*"' | sort -u | wc -l)
	[ "$c" = 1 ] || fail "unit $i has $c certificates"
done
# Killed inside the 6th durable commit of a build, then built again.
st=0
LINESEC_TEST_CRASH_AT=group-commit:6 L build --as olga --batch --device sim:fleet/unit-003.sim \
	>/dev/null 2>&1 || st=$?
[ "$st" = 137 ] || fail "build was not killed inside a group commit (exit $st)"
L build --as olga --batch --device sim:fleet/unit-003.sim | grep -q "shipped" ||
	fail "unit 3 not finished after a kill inside a group commit"
# A gang on two sockets killed inside a durable commit another socket may be waiting on.
st=0
LINESEC_TEST_CRASH_AT=group-commit:9 L line --as olga --devices 'sim:fleet/unit-00[45].sim' \
	--gang 2 --batch >/dev/null 2>&1 || st=$?
[ "$st" = 137 ] || fail "gang run was not killed inside a group commit (exit $st)"
for u in 4 5; do
	L build --as olga --batch --device "sim:fleet/unit-00$u.sim" | grep -q "shipped" ||
		fail "unit $u not finished after the gang was killed inside a group commit"
	c=$(L unit show --as olga "unit-00$u" --json | grep -o '"cert-serial":"[0-9a-f]*"' | sort -u | wc -l)
	[ "$c" = 1 ] || fail "unit $u has $c certificates"
done
L audit verify >/dev/null || fail "the audit log does not verify"
echo "crash ok"
