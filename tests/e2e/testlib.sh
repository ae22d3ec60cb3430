# Helpers for the end-to-end scripts (source it): a scratch folder to work
# in, a failure count, and checks on exit status and output.
#   expect STATUS DESCRIPTION COMMAND...   runs the command (stdout in out.txt,
#                                          stderr in err.txt), checks its status
#   has PATTERN FILE DESCRIPTION           grep -q PATTERN FILE
#   check DESCRIPTION SHELL-CONDITION       evaluates the condition
#   e2e_log=FILE                            also appends every output there
#   finish                                 exits 1 if anything failed
: "${LINESEC:?}"
# LSEC_TEST_E2E_SQLITE_ONLY=1 (the sanitizer run of scripts/test): these
# tests run on SQLite alone; that run's unit tests still cover PostgreSQL.
if [ -n "${LSEC_TEST_E2E_SQLITE_ONLY:-}" ] && [ -n "${LSEC_TEST_PG_URL:-}" ]; then
	echo "postgres: not in this run (LSEC_TEST_E2E_SQLITE_ONLY)"
	unset LSEC_TEST_PG_URL
fi
e2e_dir=$(mktemp -d)
# Background servers (sim_serve) and QEMU units (qemu_start) are stopped on exit.
servers=()
qemu_units=()
# printer SPOOL [COPIES]: a background label printer taking (moving away)
# every *.label file a station delivers to SPOOL, into COPIES (kept for the
# test to read) or discarded; sets printer (its pid), stopped on exit.
printers=()
printer() {
	local spool=$1 copies=${2:-}
	(
		# Ends with the test ($$ is the test's shell): a test killed by its timeout
		# leaves no printer running that holds its output open.
		while kill -0 $$ 2>/dev/null; do
			for f in "$spool"/*.label; do
				[ -f "$f" ] || continue
				if [ -n "$copies" ]; then mv "$f" "$copies/" 2>/dev/null || true; else
					cat "$f" >/dev/null 2>&1 && rm -f "$f" || true; fi
			done
			sleep 0.1
		done
	) &
	printer=$!
	printers+=("$printer")
}
stop_printers() {
	local p
	for p in "${printers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
	printers=()
}
# The label printer of every line's default spool folder (line*/labels) under
# the test's folder: a provisioning run waits for it to take each identity
# label. A test that needs a file to stay there touches $e2e_dir/printer.off.
(
	while kill -0 $$ 2>/dev/null; do
		if [ ! -e "$e2e_dir/printer.off" ]; then
			find "$e2e_dir" -path '*/line*/labels/*.label' -type f -delete 2>/dev/null || true
		fi
		sleep 0.1
	done
) &
printers+=("$!")
trap 'stop_printers; stop_servers; stop_qemu_units; rm -rf "$e2e_dir"' EXIT
cd "$e2e_dir" || exit 1
fails=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
expect() {
	local want=$1 what=$2
	shift 2
	"$@" >out.txt 2>err.txt </dev/null
	local got=$?
	[ -z "${e2e_log:-}" ] || cat out.txt err.txt >>"$e2e_log"
	if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
		bad "$what: exit $got, expected $want"; cat out.txt err.txt; fi
}
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
has() { if grep -q -- "$1" "$2"; then ok "$3"; else bad "$3: '$1' not in $2"; cat "$2"; fi; }
finish() {
	[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
	echo "all ok"
}
# reg_sql PG_URL DB_FILE SQL: runs SQL on a line's registry the way someone
# with write access to it alone would (psql when PG_URL is set, else sqlite3
# on DB_FILE); prints result rows, one value a line.
reg_sql() {
	if [ -n "$1" ]; then psql -qAt "$1" -c "$3"; else sqlite3 "$2" "$3"; fi
}
# run_on_sqlite FUNCTION LABEL: runs `FUNCTION LABEL` (the suite on a SQLite
# registry) unless LSEC_TEST_E2E_PG_ONLY=1 and a PostgreSQL server is given:
# the plain run of scripts/test runs each two-backend suite on PostgreSQL
# alone, because its sanitizer run covers the same suite on SQLite.
run_on_sqlite() {
	if [ -n "${LSEC_TEST_E2E_PG_ONLY:-}" ] && [ -n "${LSEC_TEST_PG_URL:-}" ]; then
		echo "sqlite: not in this run (LSEC_TEST_E2E_PG_ONLY)"
		return 0
	fi
	"$@"
}
# run_on_postgres FUNCTION LABEL: with LSEC_TEST_PG_URL set, runs
# `FUNCTION LABEL --registry URL` on a fresh schema of its own (dropped
# afterwards); otherwise says it skipped.
# pg_schema_url SCHEMA: the URL of LSEC_TEST_PG_URL's server with SCHEMA as search path.
pg_schema_url() {
	local sep='?'
	case $LSEC_TEST_PG_URL in *\?*) sep='&' ;; esac
	printf '%s\n' "${LSEC_TEST_PG_URL}${sep}options=-csearch_path%3D$1"
}
run_on_postgres() {
	local fn=$1 label=$2
	if [ -z "${LSEC_TEST_PG_URL:-}" ]; then
		echo "skip postgres: LSEC_TEST_PG_URL is not set"
		return 0
	fi
	local schema="e2e_$$_$RANDOM"
	if ! psql -q "$LSEC_TEST_PG_URL" -c "CREATE SCHEMA $schema" >/dev/null 2>&1; then
		bad "cannot create a PostgreSQL schema for the test"
		return 0
	fi
	"$fn" "$label" --registry "$(pg_schema_url "$schema")"
	psql -q "$LSEC_TEST_PG_URL" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
}
# blob HEX: a byte-string literal for the suite's backend (pg_url, set by suite_start).
blob() { if [ -n "$pg_url" ]; then printf "decode('%s', 'hex')" "$1"; else printf "X'%s'" "$1"; fi; }
# suite_start LABEL ALICE_PW BOB_PW [init options]: the opening of a test's
# run_suite. Sets pg_url (the URL after --registry among the options, or
# ""), enters $e2e_dir/LABEL, creates the line there (`init --dir line` with
# the options) with security officers alice and bob, whose passwords the
# test gives, and logs both in.
suite_start() {
	local label=$1 alice_pw=$2 bob_pw=$3 prev="" a
	shift 3
	pg_url=""
	for a in "$@"; do
		[ "$prev" != --registry ] || pg_url=$a
		prev=$a
	done
	echo "== $label"
	mkdir -p "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	export LINESEC_LINE="$e2e_dir/$label/line"
	LINESEC_PASSWORD=$alice_pw LINESEC_SECOND_PASSWORD=$bob_pw "$LINESEC" init --dir line \
		--admin alice --second-officer bob "$@" >/dev/null || bad init
	LINESEC_PASSWORD=$alice_pw "$LINESEC" login alice >/dev/null || bad "login alice"
	LINESEC_PASSWORD=$bob_pw "$LINESEC" login bob >/dev/null || bad "login bob"
}
# add_person REQUESTER REQUESTER_PW APPROVER APPROVER_PW NAME ROLE PASSWORD:
# adds NAME the one way there is (docs/line.md): one logged-in security
# officer requests it (signing), a second one approves it (signing), and
# NAME enrols with the two halves of the code, choosing PASSWORD.
add_person() {
	local out id a b
	out=$(LINESEC_PASSWORD=$2 "$LINESEC" person add --as "$1" --role "$6" "$5") ||
		{ bad "person add $5 by $1"; return 1; }
	id=$(printf '%s\n' "$out" | sed -n 's/^change \([0-9]*\) requested.*/\1/p')
	a=$(printf '%s\n' "$out" | sed -n 's/^enrolment code, first half[^:]*: //p')
	out=$(LINESEC_PASSWORD=$4 "$LINESEC" change approve --as "$3" "$id") ||
		{ bad "change approve $id by $3"; return 1; }
	b=$(printf '%s\n' "$out" | sed -n 's/^enrolment code, second half[^:]*: //p')
	LINESEC_ENROL_CODE="$a-$b" LINESEC_NEW_PASSWORD=$7 "$LINESEC" enrol "$5" >/dev/null ||
		{ bad "enrol $5"; return 1; }
}
# ack_sops PERSON PASSWORD [SOP...]: PERSON (logged in) acknowledges, signing
# with PASSWORD, the current approved version of each SOP (default: all
# five) that has one: a station runs a SOP version only for a person who
# acknowledged reading it (docs/sop.md). A SOP with no approved version is
# passed over.
ack_sops() {
	local who=$1 pw=$2 s
	shift 2
	[ $# -gt 0 ] || set -- flash provision secure-boot debug-lock decommission
	for s in "$@"; do
		LINESEC_PASSWORD=$pw "$LINESEC" sop ack --as "$who" "$s" >/dev/null 2>ack.err ||
			grep -qE "no approved version|acknowledged SOP .* already" ack.err ||
			{ bad "$who cannot acknowledge SOP $s"; cat ack.err; }
	done
	rm -f ack.err
}
# line_with_release LABEL [init options]: in $e2e_dir/LABEL (the current
# folder from then on), a line ($LINESEC_LINE=line) whose security officers
# alice (password alice-pw) and bob (bob-pw-123), supervisor sam
# (sam-pw-1234) and operator olga (olga-pw-123) are logged in, with a line
# CA, the firmware key fw.pem (product key sensor@1, submitted by alice and
# approved by bob), the four build
# SOPs approved (and acknowledged by olga, sam, alice and bob: ack_sops) and
# release sensor@2.0.0 (new.img from app.bin, security counter 2) approved. Init options `--registry URL` put the registry on
# PostgreSQL; `sql SQL` runs SQL on the registry either way (reg_sql).
# Under CTest the line is a copy of the one the fixture e2e/line_template
# built for the run (line_copy); run by hand, the suite builds it (line_build).
line_with_release() {
	local label=$1
	shift
	e2e_pg_url=""
	[ "${1:-}" != --registry ] || e2e_pg_url=$2
	mkdir "$e2e_dir/$label" && cd "$e2e_dir/$label" || return 1
	export LINESEC_LINE="$PWD/line" LINESEC_CA_PASSPHRASE=test-ca-passphrase
	# sam witnesses the tamper seal and scrap: a witness signs with their password each time.
	export LINESEC_WITNESS_PASSWORD=sam-pw-1234
	if [ -n "${LSEC_E2E_LINE_TEMPLATE:-}" ] && line_copy "$LSEC_E2E_LINE_TEMPLATE" "$@"; then
		return 0
	elif [ -e line ]; then
		bad "$label: the line was not copied from $LSEC_E2E_LINE_TEMPLATE"
		return 1
	fi
	line_build "$label" "$@"
}
# line_build LABEL [init options]: line_with_release's line, built in the
# current folder the one way there is, command by command.
line_build() {
	local label=$1 s
	shift
	LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-123 "$LINESEC" init --dir line \
		--admin alice --second-officer bob "$@" >/dev/null
	LINESEC_PASSWORD=alice-pw "$LINESEC" login alice >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$LINESEC" login bob >/dev/null
	add_person alice alice-pw bob bob-pw-123 olga operator olga-pw-123
	add_person alice alice-pw bob bob-pw-123 sam supervisor sam-pw-1234
	"$LINESEC" ca init --as alice --ca line/ca --cn "Test CA" --days 10950 >/dev/null
	"$LINESEC" keygen --out fw.pem >/dev/null
	"$LINESEC" pubkey fw.pem --out fw.pub.pem >/dev/null
	head -c 5000 /dev/urandom >app.bin
	"$LINESEC" image sign --key fw.pem --product sensor --version 2.0.0 --build release \
		--security-counter 2 --embed-pubkey app.bin new.img >/dev/null
	LINESEC_PASSWORD=sam-pw-1234 "$LINESEC" login sam >/dev/null
	LINESEC_PASSWORD=olga-pw-123 "$LINESEC" login olga >/dev/null
	LINESEC_PASSWORD=alice-pw "$LINESEC" product key submit --as alice sensor fw.pub.pem >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$LINESEC" product key approve --as bob sensor@1 >/dev/null
	for s in flash provision secure-boot debug-lock; do
		"$LINESEC" sop submit --as sam "line/sops/$s.yaml" >/dev/null
		LINESEC_PASSWORD=alice-pw "$LINESEC" sop approve --as alice "$s" 1 >/dev/null
		LINESEC_PASSWORD=bob-pw-123 "$LINESEC" sop approve --as bob "$s" 1 >/dev/null
	done
	ack_sops olga olga-pw-123
	ack_sops sam sam-pw-1234
	ack_sops alice alice-pw
	ack_sops bob bob-pw-123
	LINESEC_PASSWORD=alice-pw "$LINESEC" release submit --as alice new.img --product sensor >/dev/null
	LINESEC_PASSWORD=bob-pw-123 "$LINESEC" release approve --as bob sensor@2.0.0 >/dev/null ||
		bad "$label: the line with release sensor@2.0.0 was not set up"
}
# line_copy TEMPLATE [init options]: into the current (empty) folder, a copy
# of the line TEMPLATE/sqlite or, for `--registry URL` (a fresh schema of
# run_on_postgres), TEMPLATE/postgres with its registry schema copied into
# URL's (tests/e2e/line_template.sh builds both with line_build). The copy is
# the line line_build would leave, but for its keys and the times it
# records: the folder is copied whole (modes kept), line.yaml names URL, and
# each session's last activity is now (a person's idle clock starts when the
# line is handed over, as after line_build). Returns 1, copying nothing,
# when the template has no such line.
line_copy() {
	local tpl=$1 src schema tpl_schema tpl_url yaml f token seq now
	shift
	if [ $# -eq 0 ]; then
		src=$tpl/sqlite
	elif [ $# -eq 2 ] && [ "$1" = --registry ] && [ -f "$tpl/postgres.schema" ] &&
		[ "$(cat "$tpl/postgres.base")" = "${LSEC_TEST_PG_URL:-}" ]; then
		src=$tpl/postgres
		# run_on_postgres's URL: ...options=-csearch_path%3D<schema>
		schema=${2##*search_path%3D}
		[[ $schema =~ ^[a-z0-9_]+$ ]] || return 1
	else
		return 1
	fi
	[ -f "$src.ready" ] || return 1
	cp -a "$src/." . || return 1
	if [ -n "${schema:-}" ]; then
		tpl_schema=$(cat "$tpl/postgres.schema")
		tpl_url=$(cat "$tpl/postgres.url")
		pg_dump --no-owner --no-privileges --schema="$tpl_schema" "$LSEC_TEST_PG_URL" |
			sed -e '/^CREATE SCHEMA /d' -e "s/\b$tpl_schema\b/$schema/g" |
			psql -q -v ON_ERROR_STOP=1 "$LSEC_TEST_PG_URL" >/dev/null || return 1
		yaml=$(<line/line.yaml)
		[[ $yaml == *"registry: \"$tpl_url\""* ]] || return 1
		printf '%s\n' "${yaml/"registry: \"$tpl_url\""/"registry: \"$2\""}" >line/line.yaml
	fi
	now=$(date +%s)
	for f in line/.sessions/*; do
		{ read -r token && read -r seq; } <"$f" || return 1
		printf '%s\n%s\n%s\n' "$token" "$seq" "$now" >"$f"
	done
}
sql() { reg_sql "${e2e_pg_url:-}" line/registry.db "$1"; }
# Holes in a message: an empty slot where a name, a step or an action belongs.
# The patterns (extended regular expressions) live here alone; no_holes FILE
# LABEL reports every line of FILE (the output of failing commands, e.g. an
# e2e_log) that matches one, naming the pattern.
msg_hole_patterns=(
	'\(\)'                 # "failed ()"
	'\( +\)'               # "( )"
	'\(SOP ,'              # "(SOP , step ship-gate)"
	', step \)'            # "(SOP flash, step )"
	': *;'                 # "failed: ;"
	'; *$'                 # "...; " with nothing after
	"(^|[^A-Za-z0-9])''"   # "unit ''"
	'(^|[^\\])""'          # "step": ""
	'\(null\)'             # printf of NULL
	'  [,;:.)]'            # "unit  ," a double space before punctuation
	' [,;]'                # "unit ," a space before a comma or semicolon
	'\(  '                 # "(  x"
)
no_holes() {
	local file=$1 label=$2 p n=0
	for p in "${msg_hole_patterns[@]}"; do
		if grep -nE -- "$p" "$file" >holes.txt; then
			bad "$label: a message has a hole (pattern $p):"
			sed 's/^/    /' holes.txt | head -5
			n=$((n + 1))
		fi
	done
	[ "$n" -gt 0 ] || ok "$label: no message has a hole ($(wc -l <"$file") lines read)"
}
# sim_serve N [options]: `linesec sim serve` of fleet/unit-00N.sim (in the
# current folder) on a free loopback port, with the options; sets port,
# port_N and server (its pid). stop_servers stops every one (also on exit).
sim_serve() {
	local n=$1 i
	shift
	rm -f "port.$n"
	"$LINESEC" sim serve "fleet/unit-00$n.sim" --listen 127.0.0.1:0 "$@" >"port.$n" \
		2>"serve.$n.err" &
	server=$!
	servers+=("$server")
	for i in $(seq 1 100); do
		[ -s "port.$n" ] && break
		sleep 0.05
	done
	port=$(head -n 1 "port.$n")
	eval "port_$n=$port"
	[ -n "$port" ] || { bad "unit $n: sim serve printed no port"; cat "serve.$n.err"; }
}
stop_servers() {
	local p
	for p in "${servers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	servers=()
}
# rsp_uri PORT: the device URI of a sim_serve server.
rsp_uri() { echo "rsp://127.0.0.1:$1?profile=linesec-sim"; }
# qemu_require: the QEMU tests' tools, or the test skips (fails under CI,
# which installs them: scripts/bootstrap). Sets fw (the test firmware's
# folder) and qemu_unit (scripts/qemu-unit).
qemu_require() {
	local f
	fw=${LINESEC_FIRMWARE_DIR:-${LSEC_BUILD_DIR:?}/firmware}
	qemu_unit="$LSEC_SOURCE_DIR/scripts/qemu-unit"
	command -v qemu-system-arm >/dev/null ||
		qemu_skip "qemu-system-arm is not installed (scripts/bootstrap)"
	command -v gdb-multiarch >/dev/null ||
		qemu_skip "gdb-multiarch is not installed (scripts/bootstrap)"
	for f in boot app-release app-debug; do
		[ -f "$fw/$f.bin" ] ||
			qemu_skip "$fw/$f.bin was not built (arm-none-eabi-gcc missing when CMake ran)"
	done
}
qemu_skip() {
	if [ -n "${CI:-}" ]; then bad "cannot run under CI: $1"; finish; fi
	echo "skip: $1"
	exit 0
}
# qemu_start DIR [qemu-unit start options]: starts a halted QEMU unit in DIR
# (scripts/qemu-unit: DIR/port is its GDB stub's port); stop_qemu_units
# stops every one (also on exit). Fails when it did not start.
qemu_start() {
	local d=$1
	shift
	"$LSEC_SOURCE_DIR/scripts/qemu-unit" start "$d" "$@" >/dev/null || return 1
	qemu_units+=("$(cd "$d" && pwd)")
}
# Ends every unit started, all at once (QEMU takes a second or two to exit).
stop_qemu_units() {
	local u pids=()
	for u in "${qemu_units[@]}"; do
		"$LSEC_SOURCE_DIR/scripts/qemu-unit" stop "$u" >/dev/null 2>&1 &
		pids+=($!)
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	qemu_units=()
}
# gdb_batch DIR LOG COMMANDS...: one gdb-multiarch batch session (60 s at
# most) on the GDB stub of the unit in DIR, running the commands; its output
# is appended to LOG.
gdb_batch() {
	local d=$1 log=$2 a=() c
	shift 2
	for c in "$@"; do a+=(-ex "$c"); done
	timeout 60 gdb-multiarch -nx -batch -ex 'set architecture arm' \
		-ex "target remote 127.0.0.1:$(cat "$d/port")" "${a[@]}" >>"$log" 2>&1
}
