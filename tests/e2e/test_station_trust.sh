#!/usr/bin/env bash
# Trusting another station is a change of trust, read from the signed log.
# On SQLite and PostgreSQL:
#  - a line-folder write: another station's key appended to stations.pub,
#    and a leaf that station signed (a station.trust of itself) appended by
#    SQL. The leaf stays untrusted: 'audit verify' names it.
#  - one officer approving her own request to trust that station is
#    refused (exit 8) and trusts nothing.
#  - with a second officer's approval (a station.trust leaf), the
#    station's leaves verify, also for a keyless auditor's copy
#    (--read-only); distrusted again by two officers, its leaves written
#    after the distrust are named, those before still verify.
#  - st-m, once trusted, holding its own key: a station.trust leaf it signs
#    for a key it controls (st-x), without two officers' change leaves,
#    trusts nothing: st-x's leaf is named by 'audit verify'.
#  - distrusted st-m is trusted again by a new two-officer change (not
#    refused as "trusted already"); its leaves after that verify again.
set -uo pipefail
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

sql() { reg_sql "$pg_url" line/registry.db "$1"; }

# forge ACTION EVIDENCE: appends by SQL the next leaf, well formed, signed with
# station st-m's key (m.key; KEY=FILE another) as linesec signs leaves; prints its seq.
forge() {
	local seq leaf leaf_hex hash sig
	seq=$(sql "SELECT MAX(seq) + 1 FROM audit_leaves")
	leaf=$(printf '{"action":"%s","evidence":%s,"outcome":"ok","person":"mallory","seq":%s,"station":"st-m","time":"2030-01-01T00:00:00Z"}' "$1" "$2" "$seq")
	leaf_hex=$(printf '%s' "$leaf" | xxd -p | tr -d '\n')
	hash=$( (printf '\000'; printf '%s' "$leaf") | openssl dgst -sha256 -binary | xxd -p | tr -d '\n')
	printf 'linesec-leaf-sig/1\nlinesec/line1\n%s\n%s\n' "$seq" "$hash" >msg.txt
	openssl pkeyutl -sign -inkey "${KEY:-m.key}" -rawin -in msg.txt -out sig.bin || bad "sign the forged leaf"
	sig=00000000$(xxd -p sig.bin | tr -d '\n')
	sql "INSERT INTO audit_leaves (seq, unit, action, leaf, leaf_hash, leaf_sig, created)
		VALUES ($seq, NULL, '$1', $(blob "$leaf_hex"), $(blob "$hash"), $(blob "$sig"),
		'2030-01-01T00:00:00Z')" >/dev/null || bad "append the leaf by SQL"
	echo "$seq"
}

run_suite() { # run_suite LABEL [init options]
	local label=$1
	shift
	suite_start "$label" alice-trust-pw bob-trust-pw --station-id st1 "$@" || return
	"$L" keygen --type ed25519 --out m.key >/dev/null && "$L" pubkey m.key --out m.pub >/dev/null ||
		bad "station st-m's key"
	local b64 fp seq id
	b64=$(openssl pkey -in m.key -pubout -outform DER | base64 -w0)
	fp=$(openssl pkey -in m.key -pubout -outform DER | openssl dgst -sha256 -hex | sed 's/.*= //')
	expect 0 "the log verifies" "$L" audit verify

	# The attack: st-m's key written into the line folder, and st-m's leaf trusting itself.
	cat m.pub >>line/stations.pub
	seq=$(forge station.trust "{\"key-sha256\":\"$fp\",\"pubkey\":\"$b64\",\"station\":\"st-m\"}")
	expect 5 "a key in stations.pub and a self-trusting leaf trust nothing: audit verify refuses" \
		"$L" audit verify
	has "leaf $seq is bad: it is signed by key id 00000000, which is no trusted station key" err.txt \
		"audit verify names st-m's leaf"
	expect 5 "a command reading the log refuses it too" "$L" change list --as alice
	has "leaf $seq is bad" err.txt "the command names st-m's leaf"
	sql "DELETE FROM audit_leaves WHERE seq = $seq" >/dev/null
	rm -f line/stations.pub
	expect 0 "without the forged leaf the log verifies" "$L" audit verify

	# One officer alone: her own request, her own approval.
	id=$(LINESEC_PASSWORD=alice-trust-pw "$L" station trust --as alice --pubkey m.pub st-m |
		sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	check "alice's request is a pending change" "[ -n \"$id\" ]"
	LINESEC_PASSWORD=alice-trust-pw expect 8 "alice approving her own trust request is refused" \
		"$L" change approve --as alice "$id"
	has "a second, distinct security officer must approve" err.txt "the refusal says why"
	check "no station.trust leaf was recorded" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'station.trust'\")\" = 0 ]"
	seq=$(forge note '{}')
	expect 5 "st-m's leaves stay untrusted" "$L" audit verify
	has "leaf $seq is bad" err.txt "audit verify names st-m's leaf"
	sql "DELETE FROM audit_leaves WHERE seq = $seq" >/dev/null

	# Two officers: st-m is trusted by a station.trust leaf.
	LINESEC_PASSWORD=bob-trust-pw expect 0 "bob approves trusting st-m" "$L" change approve --as bob "$id"
	check "one station.trust leaf, signed by this station" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action = 'station.trust'\")\" = 1 ]"
	check "the change's request and approval are leaves of their own, not change.* ones" \
		"[ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action IN
			('station.change.request', 'station.change.approve')\")\" = 2 ] &&
		 [ \"\$(sql \"SELECT COUNT(*) FROM audit_leaves WHERE action LIKE 'change.%'\")\" = 0 ]"
	local before
	before=$(forge note '{}')
	expect 0 "st-m's leaf verifies once two officers trusted it" "$L" audit verify
	cp -r line auditor && rm -f auditor/station.key && chmod -R a-w auditor
	LINESEC_LINE="$PWD/auditor" expect 0 "a keyless auditor's copy verifies it too" \
		"$L" audit verify --read-only
	chmod -R u+w auditor

	# st-m's key alone trusting a key it controls: no change leaves, nothing trusted.
	"$L" keygen --type ed25519 --out x.key >/dev/null || bad "station st-x's key"
	local xb64 xfp tseq
	xb64=$(openssl pkey -in x.key -pubout -outform DER | base64 -w0)
	xfp=$(openssl pkey -in x.key -pubout -outform DER | openssl dgst -sha256 -hex | sed 's/.*= //')
	tseq=$(forge station.trust "{\"change\":99,\"key-sha256\":\"$xfp\",\"pubkey\":\"$xb64\",\"requested-by\":\"mallory\",\"station\":\"st-x\"}")
	seq=$(KEY=x.key forge note '{}')
	expect 5 "a station.trust leaf by one trusted station's key alone trusts nothing" \
		"$L" audit verify
	has "leaf $seq is bad" err.txt "audit verify names st-x's leaf"
	sql "DELETE FROM audit_leaves WHERE seq >= $tseq" >/dev/null
	expect 0 "without the forged leaves the log verifies" "$L" audit verify

	# Distrusted again by two officers: st-m's later leaves are named, earlier ones kept.
	id=$(LINESEC_PASSWORD=alice-trust-pw "$L" station distrust --as alice --pubkey m.pub st-m |
		sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	LINESEC_PASSWORD=bob-trust-pw expect 0 "bob approves distrusting st-m" \
		"$L" change approve --as bob "$id"
	expect 0 "st-m's leaf from before the distrust still verifies" "$L" audit verify
	seq=$(forge note '{}')
	expect 5 "st-m's leaf after the distrust is refused" "$L" audit verify
	has "leaf $seq is bad" err.txt "audit verify names it"
	check "st-m's earlier leaf is not the one named" "! grep -q \"leaf $before is bad\" err.txt"
	sql "DELETE FROM audit_leaves WHERE seq = $seq" >/dev/null
	# The distrust hidden through the action column (outside the leaf hash):
	# st-m is still refused; the column's list no longer matches the signed
	# index, and the refusal names the table and the key.
	local dseq
	dseq=$(sql "SELECT seq FROM audit_leaves WHERE action = 'station.distrust'")
	sql "UPDATE audit_leaves SET action = 'note' WHERE seq = $dseq" >/dev/null
	seq=$(forge note '{}')
	expect 5 "with its distrust hidden by SQL, st-m's later leaf is still refused" \
		"$L" change list --as alice
	has "registry table audit_leaves lists 0 leaves under action 'station.distrust' below leaf [0-9]*, but the signed index of that checkpoint holds 1" \
		err.txt "the refusal names the table, the action and the signed count"
	expect 5 "audit verify refuses it too" "$L" audit verify
	sql "UPDATE audit_leaves SET action = 'station.distrust' WHERE seq = $dseq" >/dev/null
	expect 5 "put back, st-m's leaf after the distrust is named" "$L" audit verify
	has "leaf $seq is bad" err.txt "audit verify names it"
	sql "DELETE FROM audit_leaves WHERE seq = $seq" >/dev/null
	expect 0 "without it the log verifies" "$L" audit verify

	# Trusted again by a new two-officer change: its leaves from then on verify.
	id=$(LINESEC_PASSWORD=alice-trust-pw "$L" station trust --as alice --pubkey m.pub st-m |
		sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	check "a distrusted station can be requested to be trusted again" "[ -n \"$id\" ]"
	LINESEC_PASSWORD=bob-trust-pw expect 0 "bob approves trusting st-m again" \
		"$L" change approve --as bob "$id"
	forge note '{}' >/dev/null
	expect 0 "st-m's leaf after it was trusted again verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite run_suite sqlite
run_on_postgres run_suite postgres
finish
