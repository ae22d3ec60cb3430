#!/usr/bin/env bash
# --json is JSON from the first byte, on every command that offers it.
#
# The commands are found from the program's own help (every command whose
# --help lists --json), so a new one cannot be left out: each must have an
# invocation below, or the test fails naming it. Each invocation runs on a
# line with people, a CA, an approved release and the SOPs; its standard
# output must start with '{' or '[' and pass `python3 -m json.tool` whole
# (nothing printed before or after the document). A few failing commands
# (a re-run of a shipped unit, a refused gang run) are checked too: what they
# print on standard output is JSON as well.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

# json_commands [PREFIX]: every command path whose help lists --json.
json_commands() {
	local h c
	# shellcheck disable=SC2086 # PREFIX is words
	h=$("$L" $1 --help 2>&1)
	if grep -q '^commands:' <<<"$h"; then
		for c in $(sed -n '/^commands:/,/^$/p' <<<"$h" | awk 'NR > 1 && NF { print $1 }'); do
			[ "$c" = help ] || [ "$c" = version ] || json_commands "${1:+$1 }$c"
		done
	elif grep -q '^  --json ' <<<"$h"; then
		echo "$1"
	fi
}

# is_json LABEL WANT-STATUS ARGS...: runs linesec ARGS; stdout must be one JSON document.
declare -A covered
is_json() {
	local what=$1 want=$2
	shift 2
	covered[$what]=1
	expect "$want" "$label: $what --json exits $want" "$L" "$@"
	if [ "$(head -c 1 out.txt)" = '{' ] || [ "$(head -c 1 out.txt)" = '[' ]; then
		ok "$label: $what --json starts with the document"
	else
		bad "$label: $what --json starts with '$(head -c 40 out.txt)'"
	fi
	if python3 -m json.tool out.txt >/dev/null 2>json.err; then
		ok "$label: $what --json is one JSON document"
	else
		bad "$label: $what --json is not JSON: $(cat json.err)"
		head -c 400 out.txt
	fi
}

suite() {
	label=$1
	line_with_release "$@"
	for s in decommission; do
		"$L" sop submit --as sam "line/sops/$s.yaml" >/dev/null
		LINESEC_PASSWORD=alice-pw "$L" sop approve --as alice "$s" 1 >/dev/null
		LINESEC_PASSWORD=bob-pw-123 "$L" sop approve --as bob "$s" 1 >/dev/null
	done
	ack_sops olga olga-pw-123 decommission
	openssl ecparam -name prime256v1 -genkey -noout -out dev.key 2>/dev/null
	openssl req -new -key dev.key -subj /CN=unit-002 -out dev.csr 2>/dev/null

	is_json keygen 0 keygen --out k2.pem --json
	is_json pubkey 0 pubkey fw.pem --json
	is_json "image sign" 0 image sign --key fw.pem --product sensor --version 2.0.1 \
		--build release --security-counter 2 --embed-pubkey app.bin j.img --json
	is_json "image inspect" 0 image inspect new.img --json
	is_json "image verify" 0 image verify new.img --pubkey fw.pub.pem --product sensor --json
	is_json "sop check" 0 sop check --json line/sops/flash.yaml
	is_json "sop list" 0 sop list --json
	is_json "sop actions" 0 sop actions --json
	is_json "sop rules" 0 sop rules --json
	LINESEC_PASSWORD=alice-pw is_json "ca init" 0 ca init --as alice --ca ca2 --cn "Second CA" --json
	is_json "ca show" 0 ca show --as alice --json
	is_json "ca crl" 0 ca crl --as alice --out line.crl --json
	is_json "sim new" 0 sim new --count 3 --dir fleet --seed 5 --json
	is_json "sim show" 0 sim show fleet/unit-003.sim --json
	is_json "profile list" 0 profile list --json
	is_json "profile check" 0 profile check --json qemu-lm3s6965evb
	is_json "sim flash" 0 sim flash fleet/unit-003.sim new.img --json
	is_json "sim boot" 0 sim boot fleet/unit-003.sim --json
	is_json "person list" 0 person list --as alice --json
	is_json "change list" 0 change list --as alice --json
	is_json "product key show" 0 product key show --as bob --json
	is_json "release list" 0 release list --as bob --json
	is_json build 0 build --as olga --device sim:fleet/unit-001.sim --batch --json
	is_json "build (a shipped unit again)" 9 build --as olga --device sim:fleet/unit-001.sim --batch --json
	is_json run 0 run flash --as olga --device sim:fleet/unit-002.sim --batch --json
	is_json "ca issue" 0 ca issue --as alice --csr dev.csr --serial unit-002 --out unit-002.crt --json
	mkdir -p labels
	is_json "ca cred" 0 ca cred --as alice --serial unit-002 --label-dir labels --json
	is_json line 0 line --as olga --devices 'sim:fleet/unit-00[13].sim' --batch --gang 2 --json
	is_json "unit show" 0 unit show --as olga unit-001 --json
	is_json "unit list" 0 unit list --as olga --json
	is_json "audit checkpoint" 0 audit checkpoint --as alice --json
	is_json "audit verify" 0 audit verify --json
	"$L" audit prove --serial unit-001 --out unit-001.proof.json >/dev/null 2>&1
	is_json "audit check-proof" 0 audit check-proof unit-001.proof.json --pubkey line/station.pub --json
	# shellcheck disable=SC2046 # two file names
	is_json "audit consistency" 0 audit consistency $(ls -v line/checkpoints/*.note | sed -n '1p;$p') --json
	is_json "rma receive" 0 rma receive --as olga unit-001 --device sim:fleet/unit-001.sim --json
	is_json decommission 0 decommission --as olga unit-002 --reason failed \
		--device sim:fleet/unit-002.sim --json
	is_json scrap 0 scrap --as olga unit-002 --method shred --json
	is_json "report scrap" 0 report scrap --as olga --json

	local c
	while IFS= read -r c; do
		[ -n "${covered[$c]:-}" ] || bad "$label: '$c' offers --json and this test does not run it"
	done <<<"$json_list"
	check "$label: the help lists some 30 commands with --json" "[ $(wc -l <<<"$json_list") -ge 30 ]"
}
# The help is walked once (some 90 runs of the program; seconds each under the sanitizers).
json_list=$(json_commands "")
run_on_sqlite suite sqlite
run_on_postgres suite pg
finish
