#!/usr/bin/env bash
# The line of line_with_release (testlib.sh), built once per CTest run for the
# suites to copy (line_copy) instead of each building its own: CTest's fixture
# e2e_line (tests/CMakeLists.txt).
#   line_template.sh setup DIR     DIR/sqlite, and with LSEC_TEST_PG_URL set
#                                  DIR/postgres on a schema of its own
#                                  (DIR/postgres.schema; its line's URL in
#                                  DIR/postgres.url, the server's in
#                                  DIR/postgres.base); DIR/<registry>.ready
#                                  once each is whole
#   line_template.sh cleanup DIR   drops the schema and DIR
# The SQLite line is always built (some suites run on SQLite alone, also
# under LSEC_TEST_E2E_PG_ONLY); the PostgreSQL one when the suites see
# LSEC_TEST_PG_URL (not under LSEC_TEST_E2E_SQLITE_ONLY).
: "${1:?setup or cleanup}" "${2:?template folder}" "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
action=$1
tpl=$2
unset LSEC_E2E_LINE_TEMPLATE
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"

remove_template() {
	if [ -f "$tpl/postgres.schema" ] && [ -n "${LSEC_TEST_PG_URL:-}" ]; then
		psql -q "$LSEC_TEST_PG_URL" -c "DROP SCHEMA IF EXISTS $(cat "$tpl/postgres.schema") CASCADE" \
			>/dev/null 2>&1
	fi
	rm -rf "$tpl"
}
# keep LABEL: the line line_with_release built in $e2e_dir/LABEL, as DIR/LABEL.
keep() {
	cd "$e2e_dir" || return
	[ "$fails" -eq 0 ] || return
	cp -a "$e2e_dir/$1" "$tpl/$1" && touch "$tpl/$1.ready" && ok "the $1 line is $tpl/$1"
}

case $action in
cleanup)
	remove_template
	finish
	exit
	;;
setup) ;;
*)
	echo "line_template.sh: setup or cleanup, not '$action'" >&2
	exit 2
	;;
esac
remove_template
mkdir -p "$tpl" || exit 1
line_with_release sqlite && keep sqlite
if [ -n "${LSEC_TEST_PG_URL:-}" ]; then
	schema="e2e_template_$$_$RANDOM"
	pg_line_url=$(pg_schema_url "$schema")
	if psql -q "$LSEC_TEST_PG_URL" -c "CREATE SCHEMA $schema" >/dev/null; then
		printf '%s\n' "$schema" >"$tpl/postgres.schema"
		printf '%s\n' "$pg_line_url" >"$tpl/postgres.url"
		printf '%s\n' "$LSEC_TEST_PG_URL" >"$tpl/postgres.base"
		line_with_release postgres --registry "$pg_line_url" && keep postgres
	else
		bad "cannot create a PostgreSQL schema for the template"
	fi
fi
finish
