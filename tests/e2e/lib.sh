# Helpers for the end-to-end tests (source it; it is not a test itself).
# ok/bad count results in $fails; expect STATUS DESCRIPTION COMMAND... runs
# the command with its output in out.txt and err.txt and checks its exit status.
fails=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
expect() {
	local want=$1 what=$2
	shift 2
	"$@" >out.txt 2>err.txt
	local got=$?
	if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
		bad "$what: exit $got, expected $want"; cat err.txt; fi
}
# Ends the test: status 1 when anything failed.
finish() { [ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }; }
