#!/usr/bin/env bash
# The command blocks of README.md and docs/first-line.md, run as written.
#
# Every ```sh block of each file is extracted from the Markdown (never copied
# here) and its commands run in order, one file per scratch folder, with the
# built program on PATH as `linesec`. A block that is not meant to run (an
# illustration, `make demo` itself) is marked by the line just before its
# fence:
#     <!-- not run: REASON -->
# and the test lists those blocks with their reasons. A command that fails
# stops its file, naming the file, the line and the command.
#
# The person at the keyboard: a wrapper named `linesec` types for them what
# they would type at the prompts, through the variables for scripts and
# tests (testlib.sh): each person's password is their own (NAME-readme-pw:
# the signer is --as NAME, `login NAME`, `enrol NAME`, init's --admin and
# --second-officer), a new person's enrolment code is the two halves the
# officers were shown, the witness is the supervisor added last, and the CA and
# debug-authentication passphrases are fixed. On PostgreSQL the wrapper adds
# `--registry URL` to `linesec init`.
. "$(dirname "$0")/testlib.sh"
: "${LSEC_SOURCE_DIR:?}"
linesec_real=$(realpath "$LINESEC")

# blocks FILE: prints, for each ```sh block to run, "@LINE" lines followed by
# the block's commands (continuation lines joined), one command a line, each
# preceded by "@N" (its first line in FILE); "!LINE REASON" for a skipped block.
blocks() {
	awk '
	function flush() { if (cmd != "") { printf "@%d\n%s\n", start, cmd; cmd = "" } }
	/^```sh[ \t]*$/ && !inblock {
		inblock = 1
		if (prev ~ /^<!-- not run: .* -->$/) {
			skip = 1; r = prev; sub(/^<!-- not run: /, "", r); sub(/ -->$/, "", r)
			printf "!%d %s\n", NR, r
		} else skip = 0
		next
	}
	/^```/ && inblock { flush(); inblock = 0; prev = $0; next }
	inblock && !skip {
		line = $0
		if (cmd == "") {
			if (line ~ /^[ \t]*(#.*)?$/) next
			start = NR
		}
		if (line ~ /\\$/) { sub(/\\$/, "", line); cmd = cmd line; next }
		cmd = cmd line
		flush()
		next
	}
	{ if ($0 != "") prev = $0 }
	' "$1"
}

# The wrapper: the person typing at the prompts.
mkdir -p bin
cat >bin/linesec <<'EOF'
#!/usr/bin/env bash
real=${LSEC_README_REAL:?}
state=${LSEC_README_STATE:?}
pw() { printf '%s-readme-pw' "$1"; }
args=("$@")
n=$#
sub=""
for ((i = 0; i < n; i++)); do
	a=${args[i]}
	next=${args[i + 1]:-}
	case $a in
	--as) export LINESEC_PASSWORD=$(pw "$next") ;;
	--admin) export LINESEC_PASSWORD=$(pw "$next") ;;
	--second-officer) export LINESEC_SECOND_PASSWORD=$(pw "$next") ;;
	login | enrol)
		if [ -z "$sub" ]; then
			sub=$a
			for ((j = i + 1; j < n; j++)); do
				case ${args[j]} in --line) j=$((j + 1)) ;; -*) ;; *)
					who=${args[j]}
					break ;;
				esac
			done
		fi
		;;
	init) [ -n "$sub" ] || sub=init ;;
	-*) ;;
	*) [ -n "$sub" ] || sub=$a ;;
	esac
done
case $sub in
login) export LINESEC_PASSWORD=$(pw "$who") ;;
enrol)
	export LINESEC_NEW_PASSWORD=$(pw "$who")
	export LINESEC_ENROL_CODE="$(cat "$state/$who.a" 2>/dev/null)-$(cat "$state/$who.b" 2>/dev/null)"
	;;
init) [ -z "${LSEC_README_REGISTRY:-}" ] || args+=(--registry "$LSEC_README_REGISTRY") ;;
esac
[ ! -s "$state/witness" ] || export LINESEC_WITNESS_PASSWORD=$(pw "$(cat "$state/witness")")
export LINESEC_CA_PASSPHRASE=readme-ca-passphrase
export LINESEC_DEBUG_AUTH_PASSPHRASE=readme-debug-auth-passphrase
out=$(mktemp)
"$real" "${args[@]}" >"$out"
rc=$?
cat "$out"
sed -n 's/^enrolment code, first half (give it to \(.*\) only): \(.*\)$/\1 \2/p' "$out" |
	while read -r name half; do printf '%s' "$half" >"$state/$name.a"; done
sed -n 's/^enrolment code, second half (give it to \(.*\) only): \(.*\)$/\1 \2/p' "$out" |
	while read -r name half; do printf '%s' "$half" >"$state/$name.b"; done
for ((i = 0; i < n; i++)); do
	if [ "${args[i]}" = --role ] && [ "${args[i + 1]}" = supervisor ] && [ "$rc" -eq 0 ]; then
		printf '%s' "${args[n - 1]}" >"$state/witness"
	fi
done
rm -f "$out"
exit $rc
EOF
chmod +x bin/linesec

# doc_run LABEL FILE REL [REGISTRY]: runs FILE's blocks in $e2e_dir/LABEL/work
# (REL: the name reports use); the output and any "FAIL FILE:LINE: exit N:
# COMMAND" line in $e2e_dir/LABEL/log. Fails when a command failed or none ran.
doc_run() {
	local label=$1 file=$2 rel=$3 reg=${4:-} script n=0 l at=""
	local dir="$e2e_dir/$label"
	mkdir -p "$dir/work" "$dir/state"
	script="$dir/run.sh"
	blocks "$file" | sed -n 's/^!\([0-9]*\) \(.*\)/  not run: line \1: \2/p'
	{
		printf 'set -o pipefail\ncd %q || exit 99\n' "$dir/work"
		printf 'fail() { printf "FAIL %%s:%%s: exit %%s: %%s\\n" %q "$1" "$2" "$3"; exit 1; }\n' "$rel"
		while IFS= read -r l; do
			case $l in
			!*) ;;
			@*) at=${l#@} ;;
			*)
				n=$((n + 1))
				printf '%s\n' "$l"
				printf 'rc=$?; [ "$rc" -eq 0 ] || fail %q "$rc" %q\n' "$at" "$l"
				printf 'echo "ok   %s:%s"\n' "${rel//\"/}" "$at"
				;;
			esac
		done < <(blocks "$file")
	} >"$script"
	echo "$n" >"$dir/count"
	[ "$n" -gt 0 ] || { echo "FAIL $rel: no command block found" >"$dir/log"; return 1; }
	PATH="$e2e_dir/bin:$PATH" LSEC_README_REAL=$linesec_real LSEC_README_STATE="$dir/state" \
		LSEC_README_REGISTRY=$reg setsid env -u LINESEC_LINE -u LINESEC_PASSWORD \
		bash "$script" </dev/null >"$dir/log" 2>&1
}

# run_doc LABEL FILE [--registry URL]: FILE's blocks in a scratch folder of their own.
run_doc() {
	local label=$1 file=$2 rel
	rel=${file#"$LSEC_SOURCE_DIR"/}
	echo "== $rel${4:+ (registry: PostgreSQL)}"
	if doc_run "$label" "$file" "$rel" "${4:-}"; then
		ok "$rel: $(cat "$e2e_dir/$label/count") commands ran as written"
	else
		bad "$rel: $(grep '^FAIL' "$e2e_dir/$label/log" | head -1)"
		tail -n 40 "$e2e_dir/$label/log"
	fi
	# LSEC_README_LOGS=DIR keeps each file's output (every command's, then "ok FILE:LINE").
	[ -z "${LSEC_README_LOGS:-}" ] || cp "$e2e_dir/$label/log" "$LSEC_README_LOGS/$label.log"
}

# The test itself: a block marked not run is skipped, and a command that
# breaks is named with its file, line and text (continuation lines joined).
cat >selftest.md <<'MD'
<!-- not run: an illustration -->
```sh
false
```

```sh
linesec --version
linesec sim new --count 1 \
        --dir d --no-such-option
linesec --version
```
MD
if doc_run selftest selftest.md selftest.md >selftest.out; then
	bad "a broken command block passed"
else
	has 'not run: line 2: an illustration' selftest.out "the block not run is listed with its reason"
	check "a broken command is named with its file, line, status and text" \
		"grep -qx 'FAIL selftest.md:8: exit 2: linesec sim new --count 1         --dir d --no-such-option' '$e2e_dir/selftest/log'"
	check "the block marked not run was skipped, the commands before the broken one ran" \
		"grep -qx 'ok   selftest.md:7' '$e2e_dir/selftest/log' && ! grep -q 'selftest.md:3' '$e2e_dir/selftest/log'"
fi

# Each file on each registry: a line of its own (a PostgreSQL schema of its own).
readme() { run_doc "$1-readme" "$LSEC_SOURCE_DIR/README.md" "${@:2}"; }
first_line() { run_doc "$1-first-line" "$LSEC_SOURCE_DIR/docs/first-line.md" "${@:2}"; }
run_on_sqlite readme sqlite
run_on_sqlite first_line sqlite
run_on_postgres readme pg
run_on_postgres first_line pg
finish
