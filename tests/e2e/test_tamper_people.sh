#!/usr/bin/env bash
# People, roles, passwords and sessions are proven by leaves: someone with
# write access to the registry alone (sqlite3, or SQL on a shared
# PostgreSQL), and for a session also to the line folder, raises their own
# role, enables a disabled person again, inserts a person with a password
# hash they know, replaces an officer's password hash, and makes up a
# session for an officer (row and token file) or revives one that was
# logged out. The station refuses each (exit 5), naming the table, the
# person and the leaf, and acts again once the registry is put back.
: "${LINESEC:?}" "${LSEC_SOURCE_DIR:?}"
# shellcheck source=testlib.sh
. "$LSEC_SOURCE_DIR/tests/e2e/testlib.sh"
L=$LINESEC

suite() {
	local label=$1 pg_url=${3:-}
	shift
	mkdir "$e2e_dir/$label" && cd "$e2e_dir/$label" || return
	sql() { reg_sql "$pg_url" line/registry.db "$1"; }
	export LINESEC_LINE="$PWD/line"
	LINESEC_PASSWORD=alice-pw LINESEC_SECOND_PASSWORD=bob-pw-1234 "$L" init --dir line --admin alice \
		--second-officer bob "$@" >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" login alice >/dev/null
	LINESEC_PASSWORD=bob-pw-1234 "$L" login bob >/dev/null
	add_person alice alice-pw bob bob-pw-1234 carl security-officer carl-pw-1234
	add_person alice alice-pw bob bob-pw-1234 olga operator olga-pw-123
	LINESEC_PASSWORD=olga-pw-123 "$L" login olga >/dev/null
	LINESEC_PASSWORD=alice-pw "$L" person disable --as alice carl >/dev/null
	LINESEC_PASSWORD=bob-pw-1234 "$L" change approve --as bob 3 >/dev/null || bad "$label: carl disabled"
	local added disabled
	added=$(sql "SELECT MAX(seq) FROM audit_leaves WHERE action = 'person-update'")
	disabled=$(sql "SELECT MAX(seq) FROM audit_leaves WHERE action = 'person-disable'")

	# Her own role raised to security officer.
	sql "UPDATE people SET role = 'security-officer' WHERE name = 'olga'" >/dev/null
	expect 5 "$label: an operator whose role was raised by SQL cannot add a person" \
		env LINESEC_NEW_PASSWORD=eve-pw-1234 "$L" person add eve --as olga --role operator
	has "registry table people holds person 'olga' with role security-officer, but leaf $added (person-update) records role operator" \
		err.txt "$label: the table, person and leaf are named"
	sql "UPDATE people SET role = 'operator' WHERE name = 'olga'" >/dev/null
	expect 10 "$label: put back, she is an operator again" \
		env LINESEC_NEW_PASSWORD=eve-pw-1234 "$L" person add eve --as olga --role operator

	# A disabled officer enabled again.
	sql "UPDATE people SET disabled = 0 WHERE name = 'carl'" >/dev/null
	expect 5 "$label: a person enabled by SQL cannot log in" \
		env LINESEC_PASSWORD=carl-pw-1234 "$L" login carl
	has "registry table people holds person 'carl' with disabled no, but leaf $disabled (person-disable) records disabled yes" \
		err.txt "$label: the table, person and disable leaf are named"
	sql "UPDATE people SET disabled = 1 WHERE name = 'carl'" >/dev/null
	expect 10 "$label: put back, he is disabled" env LINESEC_PASSWORD=carl-pw-1234 "$L" login carl

	# A person inserted with a password hash the inserter knows (olga's).
	sql "INSERT INTO people (name, role, pw_hash, disabled, created)
	     SELECT 'mallory', 'security-officer', pw_hash, 0, created FROM people WHERE name = 'olga'" >/dev/null
	expect 5 "$label: a person inserted by SQL cannot log in" \
		env LINESEC_PASSWORD=olga-pw-123 "$L" login mallory
	has "registry table people holds person 'mallory', but no leaf of the log" \
		err.txt "$label: the inserted person is named"
	[ -e line/.sessions/mallory ] && bad "$label: a session file was written for mallory"
	sql "DELETE FROM people WHERE name = 'mallory'" >/dev/null
	expect 10 "$label: put back, mallory is unknown" env LINESEC_PASSWORD=olga-pw-123 "$L" login mallory

	# The officer's password hash replaced by one whose password is known.
	local orig
	orig=$(sql "SELECT pw_hash FROM people WHERE name = 'alice'")
	sql "UPDATE people SET pw_hash = (SELECT pw_hash FROM people WHERE name = 'olga') WHERE name = 'alice'" >/dev/null
	expect 5 "$label: an officer's replaced password hash does not log in" \
		env LINESEC_PASSWORD=olga-pw-123 "$L" login alice
	has "registry table people holds person 'alice' with a password hash that leaf [0-9]* (line-init) does not commit to" \
		err.txt "$label: the table, person and leaf are named"
	expect 5 "$label: audit verify names the replaced password hash" "$L" audit verify
	has "registry table people, row 'alice': pw_hash is '[0-9a-f]*', but leaf [0-9]* says" \
		err.txt "$label: verify names the table, person and leaf"
	sql "UPDATE people SET pw_hash = '$orig' WHERE name = 'alice'" >/dev/null
	expect 0 "$label: put back, the officer logs in" env LINESEC_PASSWORD=alice-pw "$L" login alice

	# A session made up for the officer: a row and a token file naming her real login leaf.
	local tok th login pid
	cp line/.sessions/alice alice.session
	login=$(sed -n 2p alice.session)
	tok=$(head -c 32 /dev/urandom | xxd -p -c 64)
	th=$(printf '%s' "$tok" | xxd -r -p | sha256sum | cut -d' ' -f1)
	pid=$(sql "SELECT id FROM people WHERE name = 'alice'")
	if [ -n "$pg_url" ]; then
		sql "INSERT INTO sessions (person_id, token_hash, station, created, expires, revoked)
		     VALUES ($pid, '\\x$th'::bytea, 'station1', 0, 4000000000, 0)" >/dev/null
	else
		sql "INSERT INTO sessions (person_id, token_hash, station, created, expires, revoked)
		     VALUES ($pid, X'$th', 'station1', 0, 4000000000, 0)" >/dev/null
	fi
	printf '%s\n%s\n' "$tok" "$login" >line/.sessions/alice
	expect 5 "$label: a session made up by SQL and a token file does not act" \
		"$L" person list --as alice
	has "registry table sessions holds a session of 'alice' on station 'station1' that leaf $login does not record as its login" \
		err.txt "$label: the table, person and login leaf are named"
	cp alice.session line/.sessions/alice
	sql "DELETE FROM sessions WHERE token_hash = $([ -n "$pg_url" ] && echo "'\\x$th'::bytea" || echo "X'$th'")" >/dev/null
	expect 0 "$label: put back, the officer acts" "$L" person list --as alice

	# A session logged out, revived by SQL with its token file put back.
	expect 0 "$label: logout" "$L" logout alice
	sql "UPDATE sessions SET revoked = 0" >/dev/null
	cp alice.session line/.sessions/alice
	expect 5 "$label: a session revived by SQL after logout does not act" \
		"$L" person list --as alice
	has "registry table sessions holds a session of 'alice' on station 'station1' (login leaf $login) that leaf [0-9]* (logout) ended" \
		err.txt "$label: the table, person and logout leaf are named"
	expect 0 "$label: logging in again works" env LINESEC_PASSWORD=alice-pw "$L" login alice
	expect 0 "$label: and the officer acts" "$L" person list --as alice
	expect 0 "$label: the log verifies" "$L" audit verify
	cd "$e2e_dir" || return
}

run_on_sqlite suite sqlite
run_on_postgres suite postgres
finish
