/*
 * people.c - people, shift sessions and "who is acting".
 *
 * A session is a 256-bit random token in .sessions/<name> (0600, folder
 * 0700) on the station; the registry holds only SHA-256(token), who it
 * belongs to and when it expires. Several people can be logged in on one
 * station at once (an operator and a witness).
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

int lsec_line__record(lsec_line *line, const char *person, const char *action,
		      const char *outcome, json_t *evidence, lsec_err *err)
{
	lsec_audit_event ev = {person, line->station, NULL, NULL, 0, NULL, action, outcome,
			       evidence};
	return lsec_audit_record(NULL, line->st, &ev, err);
}

/* Records one event in a transaction of its own (for refusals, which change nothing else). */
static int record_alone(lsec_line *line, const char *person, const char *action,
			const char *outcome, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_line__record(line, person, action, outcome, NULL, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	return rc;
}

static char *session_path(const lsec_line *line, const char *name)
{
	return lsec_asprintf("%s/%s", line->sessions_dir, name);
}

/*
 * The SHA-256 of the token in name's session file. LSEC_E_NOTFOUND when the
 * person is not logged in here; LSEC_E_AUTH when the file is not private
 * or not a token.
 */
static int session_token_hash(const lsec_line *line, const char *name, uint8_t hash[32],
			      lsec_err *err)
{
	int rc = 0;
	char *path = session_path(line, name);
	lsec_buf text = LSEC_BUF_INIT(256);
	uint8_t token[TOKEN_LEN];
	char hex[2 * TOKEN_LEN + 1];
	struct stat sb;
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
out:
	lsec_wipe(token, sizeof(token));
	lsec_wipe(hex, sizeof(hex));
	lsec_buf_release(&text);
	lsec_free(path);
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
		lsec_err ignored = LSEC_ERR_INIT;
		if (lsec_line__check_id(e->d_name, "name", &ignored) != 0) {
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

int lsec_line_authorize(lsec_line_actor *out, lsec_line *line, const char *name,
			unsigned roles, const char *action, lsec_err *err)
{
	int rc = 0;
	char who[LSEC_STORE_NAME_MAX + 1];
	uint8_t th[32];
	lsec_store_session s;
	lsec_store_person p;
	char need[96];
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	LSEC_ENSURE_REF(line);
	action = action ? action : "act";
	if (name == NULL) {
		LSEC_TRY(sole_session(line, who, sizeof(who), err));
	} else {
		LSEC_TRY(lsec_line__check_id(name, "person name", err));
		snprintf(who, sizeof(who), "%s", name);
	}
	rc = session_token_hash(line, who, th, err);
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
	LSEC_ENSURE(!p.disabled, LSEC_E_AUTH, "cannot %s: person '%s' is disabled", action, who);
	roles_text(need, sizeof(need), roles);
	LSEC_ENSURE(roles & LSEC_ROLE_BIT(p.role), LSEC_E_AUTH,
		    "cannot %s: '%s' is %s %s; this needs a %s", action, who,
		    p.role == LSEC_ROLE_OPERATOR || p.role == LSEC_ROLE_AUDITOR ? "an" : "a",
		    lsec_role_name(p.role), need);
	snprintf(out->name, sizeof(out->name), "%s", who);
	out->role = p.role;
out:
	lsec_wipe(&p, sizeof(p));
	lsec_wipe(th, sizeof(th));
	return rc;
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

int lsec_line_person_add(lsec_line *line, const lsec_line_actor *by, const char *name,
			 lsec_role role, const lsec_secret *password, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char hash[160] = "";
	json_t *ev = NULL;
	LSEC_ENSURE_REF(line);
	LSEC_TRY(lsec_line__check_id(name, "person name", err));
	LSEC_ENSURE((unsigned)role < LSEC_ROLE_COUNT, LSEC_E_USAGE,
		    "cannot add person '%s': unknown role", name);
	LSEC_TRY(require_officer(line, by, "add a person", err));
	/* Hash outside the transaction: Argon2id is slow on purpose. */
	LSEC_TRY(lsec_line_password_hash(hash, sizeof(hash), password, err));
	ev = json_pack("{s:s,s:s}", LSEC_EV_NAME, name, LSEC_EV_ROLE, lsec_role_name(role));
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_store_person_add(line->st, name, role, hash, err));
	LSEC_TRY(lsec_line__record(line, by->name, "person-add", "ok", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_wipe(hash, sizeof(hash));
	return rc;
}

int lsec_line_person_disable(lsec_line *line, const lsec_line_actor *by, const char *name,
			     lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	json_t *ev = NULL;
	LSEC_ENSURE_REF(line);
	LSEC_TRY(lsec_line__check_id(name, "person name", err));
	LSEC_TRY(require_officer(line, by, "disable a person", err));
	LSEC_ENSURE(strcmp(by->name, name) != 0, LSEC_E_POLICY,
		    "cannot disable '%s': a security officer cannot disable themselves", name);
	ev = json_pack("{s:s}", LSEC_EV_NAME, name);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_store_person_disable(line->st, name, err));
	LSEC_TRY(lsec_line__record(line, by->name, "person-disable", "ok", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	return rc;
}

/* Checks name's password; every refusal is recorded and looks the same. */
static int check_login(lsec_line *line, const char *name, const lsec_secret *password,
		       lsec_err *err)
{
	int rc = 0;
	lsec_store_person p;
	lsec_err perr = LSEC_ERR_INIT;
	int got = lsec_store_person_get(&p, line->st, name, &perr);
	if (got != 0 && got != LSEC_E_NOTFOUND) {
		*err = perr;
		rc = got;
		goto out;
	}
	int ok = lsec_line_password_verify(got == 0 ? p.pw_hash : dummy_hash, password, &perr);
	if (got != 0 || ok != 0) {
		LSEC_TRY(record_alone(line, name, "login", "refused", err));
		LSEC_BAIL(LSEC_E_AUTH, "cannot log in '%s': wrong name or password", name);
	}
	if (p.disabled) {
		LSEC_TRY(record_alone(line, name, "login", "refused-disabled", err));
		LSEC_BAIL(LSEC_E_AUTH, "cannot log in '%s': the person is disabled", name);
	}
out:
	lsec_wipe(&p, sizeof(p));
	return rc;
}

int lsec_line_login(lsec_line *line, const char *name, const lsec_secret *password,
		    lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	uint8_t token[TOKEN_LEN], th[32], old[32];
	char hex[2 * TOKEN_LEN + 2];
	char expires_text[32];
	char *path = NULL;
	json_t *ev = NULL;
	bool had_old = false;
	LSEC_ENSURE_REF(line);
	LSEC_TRY(lsec_line__check_id(name, "person name", err));
	LSEC_ENSURE(password != NULL, LSEC_E_USAGE, "cannot log in '%s': no password given", name);
	LSEC_TRY(check_login(line, name, password, err));

	LSEC_TRY(lsec_random(token, sizeof(token), err));
	LSEC_TRY(lsec_sha256(th, token, sizeof(token), err));
	int64_t now = (int64_t)time(NULL);
	int64_t expires = now + (int64_t)line->session_minutes * 60;
	lsec_time_format(expires_text, expires);
	LSEC_TRY(lsec_mkdir_p(line->sessions_dir, 0700, err));
	path = session_path(line, name);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_err ignored = LSEC_ERR_INIT;
	had_old = session_token_hash(line, name, old, &ignored) == 0;
	ev = json_pack("{s:s}", "expires", expires_text);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");

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
	LSEC_TRY(lsec_line__record(line, name, "login", "ok", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));

	lsec_hex_encode(hex, token, sizeof(token));
	hex[2 * TOKEN_LEN] = '\n';
	hex[2 * TOKEN_LEN + 1] = '\0';
	rc = lsec_file_write_atomic(path, hex, 2 * TOKEN_LEN + 1, 0600, err);
	if (rc < 0) {
		/* Nobody holds the token: end the session so it cannot linger. */
		lsec_err e2 = LSEC_ERR_INIT;
		if (lsec_store_session_revoke(line->st, th, &e2) < 0) {
			/* Best effort: the token was never written, so nobody can use it. */
		}
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_wipe(token, sizeof(token));
	lsec_wipe(hex, sizeof(hex));
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
	char *path = NULL;
	LSEC_ENSURE_REF(line);
	if (name == NULL) {
		LSEC_TRY(sole_session(line, who, sizeof(who), err));
	} else {
		LSEC_TRY(lsec_line__check_id(name, "person name", err));
		snprintf(who, sizeof(who), "%s", name);
	}
	path = session_path(line, who);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	rc = session_token_hash(line, who, th, err);
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
	LSEC_TRY(lsec_line__record(line, who, "logout", "ok", NULL, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	LSEC_ENSURE(unlink(path) == 0, LSEC_E_IO, "cannot remove session file '%s'", path);
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_wipe(th, sizeof(th));
	lsec_free(path);
	return rc;
}
