/*
 * people.c - people, shift sessions and "who is acting".
 *
 * A session is a 256-bit random token in .sessions/<name> (0600, folder
 * 0700) on the station; the registry holds only SHA-256(token), who it
 * belongs to and when it expires. Several people can be logged in on one
 * station at once (an operator and a witness).
 *
 * The rows are never trusted alone. A person's row must hold what their
 * latest person leaf records (role, disabled, a commitment to the password
 * hash), and a session must be the one its login leaf records (token hash,
 * station, expiry) and that no later login or logout leaf of the person on
 * this station ended. The session file names its login leaf after the
 * token, a hint the leaf read then checks. A row nothing backs is refused
 * with LSEC_E_AUDIT_INDEX naming the table, the person and the leaf.
 *
 * Cost: the person leaves are found by the action index (one lookup per
 * action in person_leaves, each reading every leaf of that action: one per
 * person added, one per line-init, one per disable); the session is one
 * leaf read plus the login and logout leaves written after it.
 *
 * @test tests/unit/line/test_people.c
 */
#include "line/line_int.h"

#include "linesec/audit.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_LEN 32

/*
 * A well-formed Argon2id string with the line's parameters, verified against
 * when the person does not exist, so an unknown name costs the same time as
 * a wrong password.
 */
static const char dummy_hash[] = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
				 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/* The leaves that create or change a person, and the match key naming the person. */
static const struct {
	const char *action;
	const char *name_key;
} person_leaves[] = {
	{"line-init", "evidence." LSEC_EV_FIRST_OFFICER},
	{"person-add", "evidence." LSEC_EV_NAME},
	{"person-disable", "evidence." LSEC_EV_NAME},
	{"person-update", "evidence." LSEC_EV_NAME},
};

/* A person as their latest person leaf records them. */
typedef struct person_state {
	uint64_t seq;       /* that leaf */
	const char *action; /* its action (from person_leaves) */
	const char *role;   /* NULL when the leaf records none */
	const char *disabled;
	const char *pw;
	json_t *leaf; /* owns the strings above */
} person_state;

static void person_state_release(person_state *ps)
{
	json_decref(ps->leaf);
	memset(ps, 0, sizeof(*ps));
}

/* Public text (names, roles, actions), not secrets. */
static bool same_text(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok: public text */
}

static const char *ev_str(const json_t *leaf, const char *key)
{
	return json_string_value(json_object_get(json_object_get(leaf, "evidence"), key));
}

static uint64_t leaf_seq(const json_t *leaf)
{
	return (uint64_t)json_integer_value(json_object_get(leaf, "seq"));
}

/* A leaf's time (RFC 3339 UTC) as Unix seconds; 0 when it has none. */
static int64_t leaf_time(const json_t *leaf)
{
	struct tm tm;
	const char *text = json_string_value(json_object_get(leaf, "time"));
	memset(&tm, 0, sizeof(tm));
	const char *end = text != NULL ? strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	return end != NULL && *end == '\0' ? (int64_t)timegm(&tm) : 0;
}

int lsec_line__record(lsec_line *line, const char *person, const char *action,
		      const char *outcome, json_t *evidence, lsec_err *err)
{
	lsec_audit_event ev = {person, line->station, NULL, NULL, 0, NULL, action, outcome,
			       evidence};
	return lsec_audit_record(NULL, line->st, &ev, err);
}

int lsec_line__pw_commit(char out[65], const char *pw_hash, lsec_err *err)
{
	int rc = 0;
	uint8_t h[32];
	out[0] = '\0';
	LSEC_TRY(lsec_sha256(h, (const uint8_t *)pw_hash, strlen(pw_hash), err));
	lsec_hex_encode(out, h, sizeof(h));
out:
	return rc;
}

int lsec_line__person_evidence(json_t *ev, lsec_role role, bool disabled, const char *pw_commit,
			       lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(json_object_set_new(ev, LSEC_EV_ROLE, json_string(lsec_role_name(role))) == 0 &&
			    json_object_set_new(ev, LSEC_EV_DISABLED,
						json_string(disabled ? "yes" : "no")) == 0 &&
			    json_object_set_new(ev, LSEC_EV_PW_HASH_SHA256,
						json_string(pw_commit)) == 0,
		    LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

/*
 * The latest ok leaf of person_leaves naming name, read and checked
 * (lsec_audit_leaves_find). LSEC_E_NOTFOUND when the log has none.
 */
static int person_latest(person_state *out, lsec_store *st, const char *name, lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(person_leaves) / sizeof(person_leaves[0]); i++) {
		const char *match[] = {person_leaves[i].name_key, name, "outcome", "ok", NULL};
		json_decref(found);
		found = NULL;
		LSEC_TRY(lsec_audit_leaves_find(&found, st, person_leaves[i].action, match,
						err));
		size_t n = json_array_size(found);
		json_t *last = n > 0 ? json_array_get(found, n - 1) : NULL;
		if (last != NULL && (out->leaf == NULL || leaf_seq(last) > out->seq)) {
			json_decref(out->leaf);
			out->leaf = json_incref(last);
			out->seq = leaf_seq(last);
			out->action = person_leaves[i].action;
		}
	}
	LSEC_ENSURE(out->leaf != NULL, LSEC_E_NOTFOUND, "no leaf of the log records person '%s'",
		    name);
	out->role = ev_str(out->leaf, LSEC_EV_ROLE);
	out->disabled = ev_str(out->leaf, LSEC_EV_DISABLED);
	out->pw = ev_str(out->leaf, LSEC_EV_PW_HASH_SHA256);
out:
	json_decref(found);
	if (rc < 0) {
		person_state_release(out);
	}
	return rc;
}

/*
 * Checks p (a people row) against the person's latest leaf; *out (release
 * with person_state_release) is that leaf's record. LSEC_E_AUDIT_INDEX when
 * no leaf records the person or the row differs from it (naming the table,
 * the person, the column and the leaf); errors of lsec_audit_leaves_find.
 */
static int check_person(person_state *out, lsec_store *st, const lsec_store_person *p,
			lsec_err *err)
{
	int rc = 0;
	char pw[65];
	const char *disabled = p->disabled ? "yes" : "no";
	rc = person_latest(out, st, p->name, err);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_AUDIT_INDEX,
			  "registry table people holds person '%s', but no leaf of the log "
			  "(line-init, person-add) records them: the registry was changed outside "
			  "linesec",
			  p->name);
	}
	LSEC_TRY(rc);
	LSEC_ENSURE(same_text(out->role, lsec_role_name(p->role)), LSEC_E_AUDIT_INDEX,
		    "registry table people holds person '%s' with role %s, but leaf %llu (%s) "
		    "records role %s: the registry was changed outside linesec",
		    p->name, lsec_role_name(p->role), (unsigned long long)out->seq, out->action,
		    out->role ? out->role : "(none)");
	LSEC_ENSURE(same_text(out->disabled, disabled), LSEC_E_AUDIT_INDEX,
		    "registry table people holds person '%s' with disabled %s, but leaf %llu (%s) "
		    "records disabled %s: the registry was changed outside linesec",
		    p->name, disabled, (unsigned long long)out->seq, out->action,
		    out->disabled ? out->disabled : "(none)");
	LSEC_TRY(lsec_line__pw_commit(pw, p->pw_hash, err));
	LSEC_ENSURE(out->pw != NULL && strlen(out->pw) == 64 &&
			    lsec_ct_equal(pw, out->pw, 64),
		    LSEC_E_AUDIT_INDEX,
		    "registry table people holds person '%s' with a password hash that leaf %llu "
		    "(%s) does not commit to: the registry was changed outside linesec",
		    p->name, (unsigned long long)out->seq, out->action);
out:
	if (rc < 0) {
		person_state_release(out);
	}
	return rc;
}

int lsec_line_person_get(lsec_store_person *out, lsec_store *st, const char *name, lsec_err *err)
{
	int rc = 0;
	person_state ps;
	memset(&ps, 0, sizeof(ps));
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	LSEC_TRY(lsec_store_person_get(out, st, name, err));
	LSEC_TRY(check_person(&ps, st, out, err));
out:
	person_state_release(&ps);
	if (rc < 0) {
		lsec_wipe(out, sizeof(*out));
	}
	return rc;
}

int lsec_line_person_changed(bool *out, lsec_store *st, const char *name, uint64_t from,
			     lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL;
	*out = false;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	for (size_t i = 0; !*out && i < sizeof(person_leaves) / sizeof(person_leaves[0]); i++) {
		const char *match[] = {person_leaves[i].name_key, name, NULL};
		json_decref(found);
		found = NULL;
		LSEC_TRY(lsec_audit_leaves_find_from(&found, st, person_leaves[i].action, from,
						     match, err));
		*out = json_array_size(found) > 0;
	}
out:
	json_decref(found);
	return rc;
}

static char *session_path(const lsec_line *line, const char *name)
{
	return lsec_asprintf("%s/%s", line->sessions_dir, name);
}

/*
 * A session file holds the token in hex and, on the next line, the
 * sequence number of its login leaf; NO_LEAF stands for a file naming none.
 */
#define NO_LEAF UINT64_MAX
/* A session file recording no activity time (one written before idle timeouts). */
#define NO_ACTIVITY INT64_MIN
/* How far ahead of this station's clock a recorded activity may be (clock steps). */
#define IDLE_CLOCK_SKEW_SECONDS 60

/*
 * The session file's text: the token in hex, its login leaf and the time of
 * the person's last activity (Unix seconds). The idle clock lives beside the
 * token on the station, never in the registry: whoever can rewrite this file
 * can read the token and act anyway, while a registry row edited by SQL
 * changes nothing.
 */
static int session_text(char *out, size_t cap, const char *token_hex, uint64_t login_seq,
			int64_t last_active, size_t *len, lsec_err *err)
{
	int rc = 0;
	int n = snprintf(out, cap, "%.*s\n%llu\n%lld\n", 2 * TOKEN_LEN, token_hex,
			 (unsigned long long)login_seq, (long long)last_active);
	LSEC_ENSURE(n > 0 && (size_t)n < cap, LSEC_E_INTERNAL, "session file too long");
	*len = (size_t)n;
out:
	return rc;
}

/*
 * The SHA-256 of the token in name's session file, and *login_seq the login
 * leaf it names (NO_LEAF when it names none). LSEC_E_NOTFOUND when the
 * person is not logged in here; LSEC_E_AUTH when the file is not private or
 * not a token.
 */
static int session_token_hash(const lsec_line *line, const char *name, uint8_t hash[32],
			      uint64_t *login_seq, int64_t *last_active, lsec_err *err)
{
	int rc = 0;
	char *path = session_path(line, name);
	lsec_buf text = LSEC_BUF_INIT(256);
	uint8_t token[TOKEN_LEN];
	char hex[2 * TOKEN_LEN + 1];
	struct stat sb;
	*login_seq = NO_LEAF;
	*last_active = NO_ACTIVITY;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(lstat(path, &sb) == 0, LSEC_E_NOTFOUND,
		    "'%s' is not logged in on station '%s'", name, line->station);
	LSEC_ENSURE(S_ISREG(sb.st_mode) && (sb.st_mode & 077) == 0 && sb.st_uid == geteuid(),
		    LSEC_E_AUTH,
		    "session file '%s' is not a private file of this user (expected mode 0600); "
		    "log in again",
		    path);
	LSEC_TRY(lsec_file_read(&text, path, err));
	LSEC_ENSURE(text.len >= 2 * TOKEN_LEN, LSEC_E_AUTH,
		    "session file '%s' does not hold a token; log in again", path);
	memcpy(hex, text.data, 2 * TOKEN_LEN);
	hex[2 * TOKEN_LEN] = '\0';
	LSEC_TRY(lsec_hex_decode_fixed(token, TOKEN_LEN, hex, "session token", err));
	LSEC_TRY(lsec_sha256(hash, token, TOKEN_LEN, err));
	/* "\n<digits>\n" after the token; anything else names no leaf. */
	uint64_t seq = 0;
	size_t i = 2 * TOKEN_LEN + 1, digits = 0;
	if (text.len > 2 * TOKEN_LEN && text.data[2 * TOKEN_LEN] == '\n') {
		for (; i < text.len && text.data[i] >= '0' && text.data[i] <= '9' && digits < 19;
		     i++, digits++) {
			seq = seq * 10 + (uint64_t)(text.data[i] - '0');
		}
	}
	if (digits > 0 && i < text.len && text.data[i] == '\n') {
		*login_seq = seq;
		/* Then "<unix seconds>\n": the person's last activity (session_touch). */
		int64_t t = 0;
		for (i++, digits = 0; i < text.len && text.data[i] >= '0' && text.data[i] <= '9' &&
				      digits < 18;
		     i++, digits++) {
			t = t * 10 + (int64_t)(text.data[i] - '0');
		}
		if (digits > 0 && i < text.len && text.data[i] == '\n') {
			*last_active = t;
		}
	}
out:
	lsec_wipe(token, sizeof(token));
	lsec_wipe(hex, sizeof(hex));
	lsec_buf_release(&text);
	lsec_free(path);
	return rc;
}

/*
 * Checks that the session of who with token hash th is the one login leaf
 * login_seq records (person, this station, token hash, not past its expiry)
 * and that no later ok login or logout of who on this station ended it.
 * LSEC_E_AUDIT_INDEX naming the table, the person and the leaf; errors of
 * lsec_audit_leaf_read.
 */
static int check_session(lsec_line *line, const char *who, const uint8_t th[32],
			 uint64_t login_seq, int64_t *login_time, lsec_err *err)
{
	int rc = 0;
	json_t *leaf = NULL, *later = NULL;
	char hex[65], now[32];
	LSEC_ENSURE(login_seq != NO_LEAF, LSEC_E_AUDIT_INDEX,
		    "registry table sessions holds a session of '%s' on station '%s' whose session "
		    "file names no login leaf: log in again",
		    who, line->station);
	rc = lsec_audit_leaf_read(&leaf, line->st, login_seq, NULL, err);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_AUDIT_INDEX,
			  "registry table sessions holds a session of '%s' on station '%s' whose "
			  "login leaf %llu is not in the log: the registry was changed outside linesec",
			  who, line->station, (unsigned long long)login_seq);
	}
	LSEC_TRY(rc);
	lsec_hex_encode(hex, th, 32);
	const char *token = ev_str(leaf, LSEC_EV_TOKEN_SHA256);
	LSEC_ENSURE(same_text(json_string_value(json_object_get(leaf, "action")), "login") &&
			    same_text(json_string_value(json_object_get(leaf, "outcome")), "ok") &&
			    same_text(json_string_value(json_object_get(leaf, "person")), who) &&
			    same_text(json_string_value(json_object_get(leaf, "station")),
				      line->station) &&
			    token != NULL && strlen(token) == 64 && lsec_ct_equal(token, hex, 64),
		    LSEC_E_AUDIT_INDEX,
		    "registry table sessions holds a session of '%s' on station '%s' that leaf %llu "
		    "does not record as its login: the registry was changed outside linesec",
		    who, line->station, (unsigned long long)login_seq);
	*login_time = leaf_time(leaf);
	lsec_time_utc(now);
	const char *expires = ev_str(leaf, LSEC_EV_EXPIRES);
	LSEC_ENSURE(expires != NULL && strcmp(now, expires) < 0, LSEC_E_AUDIT_INDEX,
		    "registry table sessions holds a session of '%s' that outlives its login leaf "
		    "%llu (expired %s): the registry was changed outside linesec",
		    who, (unsigned long long)login_seq, expires ? expires : "(none)");
	/* One session per person per station: their next login or logout ends it. */
	static const char *const enders[] = {"login", "logout"};
	for (size_t i = 0; i < 2; i++) {
		const char *match[] = {"person", who, "station", line->station, "outcome", "ok", NULL};
		json_decref(later);
		later = NULL;
		LSEC_TRY(lsec_audit_leaves_find_from(&later, line->st, enders[i], login_seq + 1,
						     match, err));
		LSEC_ENSURE(json_array_size(later) == 0, LSEC_E_AUDIT_INDEX,
			    "registry table sessions holds a session of '%s' on station '%s' "
			    "(login leaf %llu) that leaf %llu (%s) ended: the registry was changed "
			    "outside linesec",
			    who, line->station, (unsigned long long)login_seq,
			    (unsigned long long)leaf_seq(json_array_get(later, 0)), enders[i]);
	}
out:
	json_decref(leaf);
	json_decref(later);
	return rc;
}

/* The only person with a session file here; LSEC_E_AUTH when none or several. */
static int sole_session(const lsec_line *line, char *out, size_t cap, lsec_err *err)
{
	int rc = 0;
	size_t found = 0;
	DIR *d = opendir(line->sessions_dir);
	struct dirent *e;
	out[0] = '\0';
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!lsec_ident_ok(e->d_name)) {
			continue; /* ".", "..", temporary files */
		}
		if (found++ == 0) {
			snprintf(out, cap, "%.64s", e->d_name);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	LSEC_ENSURE(found > 0, LSEC_E_AUTH,
		    "nobody is logged in on station '%s' (run 'linesec login NAME')", line->station);
	LSEC_ENSURE(found == 1, LSEC_E_AUTH,
		    "%zu people are logged in on station '%s': name who acts (--as NAME)", found,
		    line->station);
out:
	return rc;
}

/* "security-officer or auditor" for a role mask. */
static void roles_text(char *out, size_t cap, unsigned roles)
{
	size_t len = 0;
	out[0] = '\0';
	for (int r = 0; r < LSEC_ROLE_COUNT; r++) {
		if (roles & LSEC_ROLE_BIT(r)) {
			int n = snprintf(out + len, cap - len, "%s%s", len ? " or " : "",
					 lsec_role_name((lsec_role)r));
			if (n < 0 || (size_t)n >= cap - len) {
				return;
			}
			len += (size_t)n;
		}
	}
}

/*
 * Rewrites name's session file with now as the last activity (the token and
 * its login leaf unchanged): the person acted, the idle clock starts again.
 */
static int session_touch(const lsec_line *line, const char *name, uint64_t login_seq,
			 lsec_err *err)
{
	int rc = 0;
	char *path = session_path(line, name);
	lsec_buf text = LSEC_BUF_INIT(256);
	char out[2 * TOKEN_LEN + 64];
	size_t len = 0;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_read(&text, path, err));
	LSEC_ENSURE(text.len >= 2 * TOKEN_LEN, LSEC_E_AUTH,
		    "session file '%s' does not hold a token; log in again", path);
	LSEC_TRY(session_text(out, sizeof(out), (const char *)text.data, login_seq,
			      (int64_t)time(NULL), &len, err));
	LSEC_TRY(lsec_file_write_atomic(path, out, len, 0600, err));
out:
	lsec_wipe(out, sizeof(out));
	lsec_wipe(text.data, text.len);
	lsec_buf_release(&text);
	lsec_free(path);
	return rc;
}

/*
 * Ends who's session (token hash th) that went unused since last: a logout
 * leaf saying so (reason idle), the row revoked and the token file removed,
 * then LSEC_E_AUTH telling the person to log in again.
 */
static int session_end_idle(lsec_line *line, const char *who, const uint8_t th[32],
			    int64_t last, const char *action, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char th_hex[65], last_text[32];
	char *path = session_path(line, who);
	json_t *ev = NULL;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_hex_encode(th_hex, th, 32);
	lsec_time_format(last_text, last);
	ev = json_pack("{s:s,s:s,s:s,s:i}", LSEC_EV_TOKEN_SHA256, th_hex, LSEC_EV_REASON, "idle",
		       LSEC_EV_LAST_ACTIVE, last_text, LSEC_EV_IDLE_SECONDS,
		       (json_int_t)line->idle_seconds);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	rc = lsec_store_session_revoke(line->st, th, err);
	if (rc < 0 && rc != LSEC_E_NOTFOUND) {
		goto out;
	}
	rc = 0;
	LSEC_TRY(lsec_line__record(line, who, "logout", "ok", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (unlink(path) != 0) {
		/* The logout leaf ended it: the file can no longer be used. */
	}
	LSEC_BAIL(LSEC_E_AUTH,
		  "cannot %s: the session of '%s' ended after %u minute%s without activity (last "
		  "at %s); log in again ('linesec login %s')",
		  action, who, (line->idle_seconds + 59) / 60,
		  (line->idle_seconds + 59) / 60 == 1 ? "" : "s", last_text, who);
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_free(path);
	return rc;
}

static int authorize(lsec_line_actor *out, lsec_line *line, const char *name, unsigned roles,
		     const char *action, bool activity, lsec_err *err)
{
	int rc = 0;
	char who[LSEC_STORE_NAME_MAX + 1];
	uint8_t th[32];
	uint64_t login_seq = NO_LEAF;
	int64_t last_active = NO_ACTIVITY, login_time = 0;
	lsec_store_session s;
	lsec_store_person p;
	person_state ps;
	char need[96];
	bool role_ok = true;
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	memset(&ps, 0, sizeof(ps));
	LSEC_ENSURE_REF(line);
	action = action ? action : "act";
	if (name == NULL) {
		LSEC_TRY(sole_session(line, who, sizeof(who), err));
	} else {
		LSEC_TRY(lsec_ident_check(name, "person name", err));
		snprintf(who, sizeof(who), "%s", name);
	}
	rc = session_token_hash(line, who, th, &login_seq, &last_active, err);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_AUTH, "cannot %s: '%s' is not logged in on station '%s'", action,
			  who, line->station);
	}
	LSEC_TRY(rc);
	rc = lsec_store_session_get(&s, line->st, th, err);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_AUTH, "cannot %s: the session of '%s' is unknown to the registry; "
				       "log in again",
			  action, who);
	}
	LSEC_TRY(rc);
	LSEC_ENSURE(strcmp(s.person, who) == 0, LSEC_E_AUTH,
		    "cannot %s: the session file of '%s' belongs to someone else", action, who);
	LSEC_ENSURE(!s.revoked, LSEC_E_AUTH, "cannot %s: the session of '%s' was ended; log in again",
		    action, who);
	LSEC_ENSURE((int64_t)time(NULL) < s.expires, LSEC_E_AUTH,
		    "cannot %s: the session of '%s' expired; log in again", action, who);
	LSEC_TRY(lsec_store_person_get(&p, line->st, who, err));
	LSEC_TRY(check_person(&ps, line->st, &p, err));
	LSEC_TRY(check_session(line, who, th, login_seq, &login_time, err));
	LSEC_ENSURE(!p.disabled, LSEC_E_AUTH, "cannot %s: person '%s' is disabled", action, who);
	{
		/* The idle clock: the session file's last activity, else the login leaf's time. */
		int64_t now = (int64_t)time(NULL);
		int64_t last = last_active != NO_ACTIVITY ? last_active : login_time;
		/* A last activity ahead of the clock is not one this station wrote (the
		 * file was edited to keep the session alive): the login's time counts. */
		if (last > now + IDLE_CLOCK_SKEW_SECONDS || last < login_time) {
			last = login_time;
		}
		if (now - last >= (int64_t)line->idle_seconds) {
			LSEC_TRY(session_end_idle(line, who, th, last, action, err));
		}
	}
	/* The session stands: a refusal for the role alone leaves *out filled. */
	snprintf(out->name, sizeof(out->name), "%s", who);
	out->role = p.role;
	out->session_seq = login_seq;
	roles_text(need, sizeof(need), roles);
	role_ok = (roles & LSEC_ROLE_BIT(p.role)) != 0;
	LSEC_ENSURE(role_ok, LSEC_E_AUTH, "cannot %s: '%s' is %s %s; this needs a %s", action, who,
		    p.role == LSEC_ROLE_OPERATOR || p.role == LSEC_ROLE_AUDITOR ? "an" : "a",
		    lsec_role_name(p.role), need);
	if (activity) {
		LSEC_TRY(session_touch(line, who, login_seq, err));
	}
out:
	if (rc < 0 && role_ok) {
		memset(out, 0, sizeof(*out));
	}
	person_state_release(&ps);
	lsec_wipe(&p, sizeof(p));
	lsec_wipe(th, sizeof(th));
	return rc;
}

int lsec_line_authorize(lsec_line_actor *out, lsec_line *line, const char *name,
			unsigned roles, const char *action, lsec_err *err)
{
	return authorize(out, line, name, roles, action, true, err);
}

int lsec_line_session_check(lsec_line_actor *out, lsec_line *line, const char *name,
			    unsigned roles, const char *action, lsec_err *err)
{
	return authorize(out, line, name, roles, action, false, err);
}

/* Checks that `by` is a security officer with a live session right now. */
static int require_officer(lsec_line *line, const lsec_line_actor *by, const char *action,
			   lsec_err *err)
{
	lsec_line_actor fresh;
	if (by == NULL) {
		return lsec_err_set(err, LSEC_E_AUTH, __FILE__, __LINE__,
				    "cannot %s: nobody is acting", action);
	}
	return lsec_line_authorize(&fresh, line, by->name, LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
				   action, err);
}

/* Longest wait before a password is checked (seconds). */
#define DELAY_MAX 8

/* The leaves that record a refused password of a person (person names them). */
static const char *const refusal_actions[] = {"login", "signature", "enrol"};

/* The sequence number of the last leaf of action matching match, or 0 when none. */
static int last_seq(uint64_t *out, lsec_store *st, const char *action, const char *const *match,
		    lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL;
	LSEC_TRY(lsec_audit_leaves_find(&found, st, action, match, err));
	size_t n = json_array_size(found);
	uint64_t seq = n > 0 ? leaf_seq(json_array_get(found, n - 1)) : 0;
	if (seq > *out) {
		*out = seq;
	}
out:
	json_decref(found);
	return rc;
}

/*
 * The refused passwords of name since the count last started again: at the
 * station (*station: every refusal but the web login's) and of the web
 * login (*web), and *web_last the time of the latest web refusal (0: none).
 */
static int failures_of(unsigned *station, unsigned *web, int64_t *web_last, lsec_line *line,
		       const char *name, lsec_err *err)
{
	int rc = 0;
	uint64_t since = 0;
	json_t *found = NULL;
	unsigned all = 0;
	*station = 0;
	*web = 0;
	*web_last = 0;
	/* A successful login, an unlock or a new password starts the count again. */
	const char *ok_login[] = {"person", name, "outcome", "ok", NULL};
	const char *named[] = {"evidence." LSEC_EV_NAME, name, "outcome", "ok", NULL};
	LSEC_TRY(last_seq(&since, line->st, "login", ok_login, err));
	LSEC_TRY(last_seq(&since, line->st, "person-unlock", named, err));
	LSEC_TRY(last_seq(&since, line->st, "person-update", named, err));
	for (size_t i = 0; i < sizeof(refusal_actions) / sizeof(refusal_actions[0]); i++) {
		const char *match[] = {"person", name, "outcome", "refused", NULL};
		json_decref(found);
		found = NULL;
		LSEC_TRY(lsec_audit_leaves_find_from(&found, line->st, refusal_actions[i], since + 1,
						     match, err));
		all += (unsigned)json_array_size(found);
	}
	/* The web login's refusals are its own. */
	const char *web_match[] = {"person",      name, "outcome", "refused", "evidence." LSEC_EV_CHANNEL,
				   LSEC_LINE_CHANNEL_WEB, NULL};
	json_decref(found);
	found = NULL;
	LSEC_TRY(lsec_audit_leaves_find_from(&found, line->st, "login", since + 1, web_match, err));
	*web = (unsigned)json_array_size(found);
	*station = all - *web;
	if (*web > 0) {
		*web_last = leaf_time(json_array_get(found, *web - 1));
	}
out:
	json_decref(found);
	return rc;
}

int lsec_line__failures(unsigned *out, lsec_line *line, const char *name, lsec_err *err)
{
	unsigned web = 0;
	int64_t web_last = 0;
	return failures_of(out, &web, &web_last, line, name, err);
}

/* How a password check is made: the channel, and what it tells its caller. */
typedef struct pw_check {
	const lsec_line_login_options *opts; /* NULL: the station */
	lsec_line_login_result *res;         /* may be NULL */
} pw_check;

static bool pw_check_web(const pw_check *pc)
{
	return pc != NULL && pc->opts != NULL && pc->opts->channel != NULL &&
	       same_text(pc->opts->channel, LSEC_LINE_CHANNEL_WEB);
}

/* Records a refusal of name's password (with the web's channel and client). */
static int record_refusal(lsec_line *line, const pw_check *pc, const char *name,
			  const char *leaf_action, const char *outcome, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	json_t *ev = NULL;
	if (pw_check_web(pc)) {
		ev = json_pack("{s:s,s:s}", LSEC_EV_CHANNEL, LSEC_LINE_CHANNEL_WEB, LSEC_EV_CLIENT,
			       pc->opts->client != NULL ? pc->opts->client : "");
		LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_line__record(line, name, leaf_action, outcome, ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	return rc;
}

/*
 * Checks name's password for act (a refusal is recorded as a leaf of
 * action leaf_action, "refused"; all refusals look the same). After a
 * refused attempt the next one waits a second more, up to DELAY_MAX; after
 * LSEC_LINE_LOCK_AFTER the person is locked ("refused-locked") until an officer
 * unlocks them. Through the web (pc) the web login's own refusals count and
 * lock, and the wait is a refusal with pc->res->retry_after, never a sleep.
 * *p_out (may be NULL) is the checked row.
 */
static int check_password_of(lsec_store_person *p_out, lsec_line *line, const char *name,
			     const lsec_secret *password, const char *leaf_action,
			     const char *act, const pw_check *pc, lsec_err *err)
{
	int rc = 0;
	lsec_store_person p;
	person_state ps;
	lsec_err perr = LSEC_ERR_INIT;
	unsigned failures = 0, web_failures = 0;
	int64_t web_last = 0;
	bool web = pw_check_web(pc);
	lsec_line_login_result ignored;
	lsec_line_login_result *res = pc != NULL && pc->res != NULL ? pc->res : &ignored;
	memset(&ps, 0, sizeof(ps));
	memset(&p, 0, sizeof(p));
	memset(&ignored, 0, sizeof(ignored));
	LSEC_ENSURE(password != NULL, LSEC_E_USAGE, "cannot %s '%s': no password given", act, name);
	LSEC_TRY(failures_of(&failures, &web_failures, &web_last, line, name, err));
	if (failures >= LSEC_LINE_LOCK_AFTER) {
		res->locked = true;
		res->person = true;
		LSEC_TRY(record_refusal(line, pc, name, leaf_action, "refused-locked", err));
		LSEC_BAIL(LSEC_E_AUTH,
			  "cannot %s '%s': locked after %u refused passwords; a security officer "
			  "lifts the lock with 'linesec person unlock %s'",
			  act, name, failures, name);
	}
	if (web && web_failures >= LSEC_LINE_LOCK_AFTER) {
		/* No leaf: the refusals that locked it are recorded, and no password is checked. */
		res->locked = true;
		res->person = true;
		LSEC_BAIL(LSEC_E_AUTH,
			  "cannot %s '%s' through the web: its web login is locked after %u refused "
			  "passwords; log in at the station ('linesec login %s'), or a security "
			  "officer lifts the lock with 'linesec person unlock %s'",
			  act, name, web_failures, name, name);
	}
	if (web && web_failures > 0) {
		/* A leaf's time is whole seconds: the wait counts from the end of that second. */
		int64_t until =
		    web_last + 1 + (web_failures < DELAY_MAX ? web_failures : DELAY_MAX);
		int64_t now = (int64_t)time(NULL);
		if (now < until) {
			res->retry_after = (unsigned)(until - now);
			res->person = true;
			LSEC_BAIL(LSEC_E_AUTH, "cannot %s '%s': try again in %u s", act, name,
				  res->retry_after);
		}
	} else if (!web && failures > 0) {
		sleep(failures < DELAY_MAX ? failures : DELAY_MAX);
	}
	int got = lsec_store_person_get(&p, line->st, name, &perr);
	if (got != 0 && got != LSEC_E_NOTFOUND) {
		*err = perr;
		rc = got;
		goto out;
	}
	if (got == 0) {
		/* A row no leaf backs never gets as far as its password. */
		LSEC_TRY(check_person(&ps, line->st, &p, err));
	}
	bool enrolling = got == 0 && strncmp(p.pw_hash, LSEC_LINE__ENROL_PREFIX,
					     strlen(LSEC_LINE__ENROL_PREFIX)) == 0;
	int ok = lsec_line_password_verify(got == 0 && !enrolling ? p.pw_hash : dummy_hash,
					   password, &perr);
	if (got != 0 || ok != 0 || enrolling) {
		res->person = got == 0;
		if (got == 0 || !web || pc->opts->record_unknown) {
			LSEC_TRY(record_refusal(line, pc, name, leaf_action, "refused", err));
		}
		LSEC_BAIL(LSEC_E_AUTH, "cannot %s '%s': wrong name or password%s", act, name,
			  enrolling ? " (a new person first sets a password with 'linesec enrol')"
				    : "");
	}
	if (p.disabled) {
		res->person = true;
		LSEC_TRY(record_refusal(line, pc, name, leaf_action, "refused-disabled", err));
		LSEC_BAIL(LSEC_E_AUTH, "cannot %s '%s': the person is disabled", act, name);
	}
	if (p_out != NULL) {
		*p_out = p;
	}
out:
	person_state_release(&ps);
	lsec_wipe(&p, sizeof(p));
	return rc;
}

int lsec_line_sign(lsec_line_actor *out, lsec_line *line, const char *name,
		   const lsec_secret *password, unsigned roles, const char *action, lsec_err *err)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(line);
	action = action ? action : "sign";
	LSEC_TRY(lsec_line_authorize(out, line, name, roles, action, err));
	LSEC_TRY(check_password_of(NULL, line, out->name, password, "signature", action, NULL, err));
	out->authenticated = true;
out:
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int lsec_line_person_unlock(lsec_line *line, const lsec_line_actor *by, const char *name,
			    lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_person p;
	json_t *ev = NULL;
	unsigned failures = 0;
	memset(&p, 0, sizeof(p));
	LSEC_ENSURE_REF(line);
	LSEC_TRY(lsec_ident_check(name, "person name", err));
	LSEC_ENSURE(by != NULL && by->authenticated, LSEC_E_AUTH,
		    "cannot unlock '%s': the officer must sign with their password", name);
	LSEC_TRY(require_officer(line, by, "unlock a person", err));
	LSEC_ENSURE(strcmp(by->name, name) != 0, LSEC_E_POLICY,
		    "cannot unlock '%s': a security officer cannot unlock themselves", name);
	LSEC_TRY(lsec_line_person_get(&p, line->st, name, err));
	LSEC_TRY(lsec_line__failures(&failures, line, name, err));
	ev = json_pack("{s:s,s:i,s:s}", LSEC_EV_NAME, name, "refused-attempts", (json_int_t)failures,
		       LSEC_EV_MEANING, LSEC_MEANING_APPROVED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_line__record(line, by->name, "person-unlock", "ok", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_wipe(&p, sizeof(p));
	return rc;
}

int lsec_line_login(lsec_line *line, const char *name, const lsec_secret *password,
		    lsec_err *err)
{
	lsec_line_login_result res;
	return lsec_line_login_with(&res, line, name, password, NULL, err);
}

int lsec_line_login_with(lsec_line_login_result *out, lsec_line *line, const char *name,
			 const lsec_secret *password, const lsec_line_login_options *opts,
			 lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	uint8_t token[TOKEN_LEN], th[32], old[32];
	char hex[2 * TOKEN_LEN + 1], th_hex[65], file[2 * TOKEN_LEN + 64];
	uint64_t seq = 0, old_seq = NO_LEAF;
	char expires_text[32];
	char *path = NULL;
	json_t *ev = NULL;
	bool had_old = false;
	LSEC_ENSURE_REF(out);
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(line);
	LSEC_ENSURE(opts == NULL || opts->version == 1, LSEC_E_USAGE,
		    "login options version %u: expected 1", opts->version);
	LSEC_TRY(lsec_ident_check(name, "person name", err));
	LSEC_ENSURE(password != NULL, LSEC_E_USAGE, "cannot log in '%s': no password given", name);
	{
		pw_check pc = {opts, out};
		LSEC_TRY(check_password_of(NULL, line, name, password, "login", "log in", &pc,
					   err));
	}

	LSEC_TRY(lsec_random(token, sizeof(token), err));
	LSEC_TRY(lsec_sha256(th, token, sizeof(token), err));
	int64_t now = (int64_t)time(NULL);
	int64_t expires = now + (int64_t)line->session_minutes * 60;
	lsec_time_format(expires_text, expires);
	LSEC_TRY(lsec_mkdir_p(line->sessions_dir, 0700, err));
	path = session_path(line, name);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_err ignored = LSEC_ERR_INIT;
	int64_t old_active = NO_ACTIVITY;
	had_old = session_token_hash(line, name, old, &old_seq, &old_active, &ignored) == 0;
	lsec_hex_encode(th_hex, th, sizeof(th));
	ev = json_pack("{s:s,s:s}", LSEC_EV_EXPIRES, expires_text, LSEC_EV_TOKEN_SHA256, th_hex);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	if (opts != NULL && opts->channel != NULL) {
		LSEC_ENSURE(json_object_set_new(ev, LSEC_EV_CHANNEL, json_string(opts->channel)) ==
					0 &&
				    json_object_set_new(ev, LSEC_EV_CLIENT,
							json_string(opts->client ? opts->client
										 : "")) == 0,
			    LSEC_E_NOMEM, "out of memory");
	}

	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	if (had_old) {
		/* One session per person per station: the previous one ends. */
		rc = lsec_store_session_revoke(line->st, old, err);
		if (rc < 0 && rc != LSEC_E_NOTFOUND) {
			goto out;
		}
		rc = 0;
	}
	LSEC_TRY(lsec_store_session_add(line->st, name, th, line->station, now, expires, err));
	lsec_audit_event le = {name, line->station, NULL, NULL, 0, NULL, "login", "ok", ev};
	LSEC_TRY(lsec_audit_record(&seq, line->st, &le, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	out->session_seq = seq;

	/* The token, the login leaf that records it, and the login as its first activity. */
	lsec_hex_encode(hex, token, sizeof(token));
	size_t n = 0;
	LSEC_TRY(session_text(file, sizeof(file), hex, seq, now, &n, err));
	rc = lsec_file_write_atomic(path, file, n, 0600, err);
	if (rc < 0) {
		/* Nobody holds the token: end the session so it cannot linger. */
		lsec_err e2 = LSEC_ERR_INIT;
		if (lsec_store_session_revoke(line->st, th, &e2) < 0) {
			/* Best effort: the token was never written, so nobody can use it. */
		}
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (rc < 0 && out != NULL) {
		out->session_seq = 0;
	}
	lsec_wipe(token, sizeof(token));
	lsec_wipe(hex, sizeof(hex));
	lsec_wipe(file, sizeof(file));
	lsec_wipe(th, sizeof(th));
	lsec_wipe(old, sizeof(old));
	json_decref(ev);
	lsec_free(path);
	return rc;
}

int lsec_line_logout(lsec_line *line, const char *name, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char who[LSEC_STORE_NAME_MAX + 1];
	uint8_t th[32];
	uint64_t login_seq = NO_LEAF;
	char th_hex[65];
	json_t *ev = NULL;
	char *path = NULL;
	LSEC_ENSURE_REF(line);
	if (name == NULL) {
		LSEC_TRY(sole_session(line, who, sizeof(who), err));
	} else {
		LSEC_TRY(lsec_ident_check(name, "person name", err));
		snprintf(who, sizeof(who), "%s", name);
	}
	path = session_path(line, who);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	int64_t last_active = NO_ACTIVITY;
	rc = session_token_hash(line, who, th, &login_seq, &last_active, err);
	if (rc == LSEC_E_AUTH) {
		/* An unusable token file: remove it; there is no session to end. */
		unlink(path);
	}
	LSEC_TRY(rc);
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	rc = lsec_store_session_revoke(line->st, th, err);
	if (rc < 0 && rc != LSEC_E_NOTFOUND) {
		goto out;
	}
	rc = 0;
	lsec_hex_encode(th_hex, th, sizeof(th));
	ev = json_pack("{s:s}", LSEC_EV_TOKEN_SHA256, th_hex);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_line__record(line, who, "logout", "ok", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	LSEC_ENSURE(unlink(path) == 0, LSEC_E_IO, "cannot remove session file '%s'", path);
	LSEC_TRY(lsec_line_checkpoint_now(line, who, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_wipe(th, sizeof(th));
	lsec_free(path);
	return rc;
}
