/* People, roles, login sessions and who is acting. */
#include "line/line_fixture.h"
#include "store/store_int.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void add_person(line_fx *fx, const char *name, lsec_role role, const char *password)
{
	fx_add_person(fx, name, role, password);
}

static void test_line_people__login_authorize_roles(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	assert_lsec_code(lsec_line_authorize(&who, fx->line, NULL, ~0u, "act", &err), LSEC_E_AUTH,
			 &err);
	assert_non_null(strstr(err.msg, "nobody is logged in on station 'station1'"));
	fx_login(fx, "admin", "admin-password");
	/* The token file is private and the registry only has its hash. */
	char *tok = lsec_test_path(fx->dir, ".sessions/admin");
	struct stat sb;
	assert_int_equal(stat(tok, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, NULL,
					   LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "act", &err),
		       &err);
	assert_string_equal(who.name, "admin");
	assert_int_equal(who.role, LSEC_ROLE_SECURITY_OFFICER);

	add_person(fx, "olga", LSEC_ROLE_OPERATOR, "olga-password");
	fx_login(fx, "olga", "olga-password");
	/* Two people logged in: the acting one must be named. */
	assert_lsec_code(lsec_line_authorize(&who, fx->line, NULL, ~0u, "flash", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "2 people are logged in"));
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "olga", LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
					   "flash unit", &err),
		       &err);
	assert_int_equal(who.role, LSEC_ROLE_OPERATOR);
	/* An operator is not a security officer. */
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "olga",
					     LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER) |
						     LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR),
					     "add a person", &err),
			 LSEC_E_AUTH, &err);
	assert_string_equal(err.msg, "cannot add a person: 'olga' is an operator; this needs a "
				     "security-officer or auditor");
	/* An actor claiming to be a signing officer is checked against the registry. */
	lsec_line_actor fake = {"olga", LSEC_ROLE_SECURITY_OFFICER, true, 0};
	int64_t id = 0;
	char half[LSEC_LINE_ENROL_HALF + 1];
	json_t *payload = json_pack("{s:s,s:s}", "name", "mallory", "role", "operator");
	assert_lsec_code(lsec_line_change_request(&id, half, sizeof(half), fx->line, &fake,
						  LSEC_LINE_CHANGE_PERSON_ADD, "mallory", payload,
						  &err),
			 LSEC_E_AUTH, &err);
	json_decref(payload);
	assert_lsec_code(lsec_store_person_get(&(lsec_store_person){0}, lsec_line_store(fx->line),
					       "mallory", &err),
			 LSEC_E_NOTFOUND, &err);

	/* Logout ends the session in the registry and removes the file. */
	assert_lsec_ok(lsec_line_logout(fx->line, "olga", &err), &err);
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "olga", ~0u, "flash", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "'olga' is not logged in"));
	assert_lsec_code(lsec_line_logout(fx->line, "olga", &err), LSEC_E_NOTFOUND, &err);
	assert_lsec_ok(lsec_line_logout(fx->line, NULL, &err), &err);
	assert_int_equal(access(tok, F_OK), -1);
	lsec_free(tok);
}

static void test_line_people__wrong_password_and_unknown_look_alike(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(fx->line);
	uint64_t before = 0, after = 0;
	assert_lsec_ok(lsec_store_leaf_count(&before, st, &err), &err);
	lsec_secret *bad = fx_pw("not-the-password");
	assert_lsec_code(lsec_line_login(fx->line, "admin", bad, &err), LSEC_E_AUTH, &err);
	assert_string_equal(err.msg, "cannot log in 'admin': wrong name or password");
	assert_lsec_code(lsec_line_login(fx->line, "nobody", bad, &err), LSEC_E_AUTH, &err);
	assert_string_equal(err.msg, "cannot log in 'nobody': wrong name or password");
	lsec_secret_free(bad);
	/* Both refusals are in the audit log, without the password. */
	assert_lsec_ok(lsec_store_leaf_count(&after, st, &err), &err);
	assert_int_equal(after, before + 2);
	lsec_buf leaf = LSEC_BUF_INIT(4096);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, st, before, &err), &err);
	assert_non_null(lsec_buf_cstr(&leaf, &err));
	assert_non_null(strstr((const char *)leaf.data, "\"outcome\":\"refused\""));
	assert_null(strstr((const char *)leaf.data, "not-the-password"));
	lsec_buf_release(&leaf);
	char *dir = lsec_test_path(fx->dir, ".sessions/admin");
	assert_int_equal(access(dir, F_OK), -1);
	lsec_free(dir);
}

static void test_line_people__disabled_person(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	fx_login(fx, "admin", "admin-password");
	add_person(fx, "olga", LSEC_ROLE_OPERATOR, "olga-password");
	fx_login(fx, "olga", "olga-password");
	/* A security officer cannot request their own disabling. */
	lsec_line_actor so = fx_sign(fx, "admin", "admin-password");
	json_t *payload = json_pack("{s:s}", "name", "admin");
	int64_t id = 0;
	assert_lsec_code(lsec_line_change_request(&id, NULL, 0, fx->line, &so,
						  LSEC_LINE_CHANGE_PERSON_DISABLE, "admin", payload,
						  &err),
			 LSEC_E_POLICY, &err);
	json_decref(payload);
	fx_disable(fx, "olga");
	/* Her open session ends at once, and she cannot log in again. */
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "olga", ~0u, "flash", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "was ended"));
	lsec_secret *pw = fx_pw("olga-password");
	assert_lsec_code(lsec_line_login(fx->line, "olga", pw, &err), LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "disabled"));
	lsec_secret_free(pw);
	payload = json_pack("{s:s}", "name", "ghost");
	assert_lsec_code(lsec_line_change_request(&id, NULL, 0, fx->line, &so,
						  LSEC_LINE_CHANGE_PERSON_DISABLE, "ghost", payload,
						  &err),
			 LSEC_E_NOTFOUND, &err);
	json_decref(payload);
	/* A duplicate name is refused. */
	char half[LSEC_LINE_ENROL_HALF + 1];
	payload = json_pack("{s:s,s:s}", "name", "olga", "role", "auditor");
	assert_lsec_code(lsec_line_change_request(&id, half, sizeof(half), fx->line, &so,
						  LSEC_LINE_CHANGE_PERSON_ADD, "olga", payload, &err),
			 LSEC_E_EXISTS, &err);
	json_decref(payload);
}

static void test_line_people__expired_and_tampered_sessions(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	fx_login(fx, "admin", "admin-password");
	/* Expire it in the registry. */
	store_val p[] = {SV_I(0)};
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line), "UPDATE sessions SET expires = ?",
					 p, 1, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "expired"));
	/* A new login replaces the old session. */
	fx_login(fx, "admin", "admin-password");
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err), &err);
	/* A token file others can read is refused. */
	char *tok = lsec_test_path(fx->dir, ".sessions/admin");
	assert_int_equal(chmod(tok, 0644), 0);
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "expected mode 0600"));
	assert_int_equal(chmod(tok, 0600), 0);
	/* A forged token is unknown to the registry. */
	const char *forged = "0000000000000000000000000000000000000000000000000000000000000000\n";
	assert_lsec_ok(lsec_file_write_atomic(tok, forged, strlen(forged), 0600, &err), &err);
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "unknown to the registry"));
	lsec_free(tok);
}

/*
 * The registry fails at each query or commit in turn while a person is added
 * and while someone logs in: either the change and its audit leaf both land,
 * or neither does (and no session file is left behind).
 */
static void test_line_people__failing_registry_leaves_nothing_half_done(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(fx->line);
	lsec_store_person p;
	fx_login(fx, "admin", "admin-password");
	fx_login(fx, "second", "second-password");
	lsec_line_actor so = fx_sign(fx, "admin", "admin-password");
	lsec_line_actor so2 = fx_sign(fx, "second", "second-password");
	lsec_secret *pw = fx_pw("olga-password");
	char a[LSEC_LINE_ENROL_HALF + 1], b[LSEC_LINE_ENROL_HALF + 1],
		code[2 * LSEC_LINE_ENROL_HALF + 2];
	int64_t id = 0;
	json_t *payload = json_pack("{s:s,s:s}", "name", "olga", "role", "operator");
	assert_lsec_ok(lsec_line_change_request(&id, a, sizeof(a), fx->line, &so,
						LSEC_LINE_CHANGE_PERSON_ADD, "olga", payload, &err),
		       &err);
	json_decref(payload);
	int faults = 0;
	for (unsigned long n = 1;; n++) {
		uint64_t leaves = 0, after = 0;
		lsec_store_change ch;
		assert_lsec_ok(lsec_store_leaf_count(&leaves, st, &err), &err);
		lsec_store__fail_after(st, n);
		int rc = lsec_line_change_approve(NULL, b, sizeof(b), fx->line, &so2, id, NULL, NULL,
						  &err);
		lsec_store__fail_after(st, 0);
		assert_false(lsec_store_in_transaction(st));
		assert_lsec_ok(lsec_store_leaf_count(&after, st, &err), &err);
		if (rc == 0) {
			assert_int_equal(after, leaves + 2); /* change.approve, person-add */
			break;
		}
		faults++;
		assert_lsec_ok(lsec_store_change_get(&ch, st, id, &err), &err);
		if (strcmp(ch.state, "approved") == 0) {
			/* Committed whole; only the checkpoint signed after it failed. */
			assert_int_equal(after, leaves + 2);
			break;
		}
		assert_int_equal(after, leaves);
		assert_lsec_code(lsec_store_person_get(&p, st, "olga", &err), LSEC_E_NOTFOUND, &err);
		assert_string_equal(ch.state, "pending");
		assert_true(n < 100);
	}
	assert_true(faults >= 5); /* checks, the decision, the insert, the leaves, the commit */
	assert_lsec_ok(lsec_store_person_get(&p, st, "olga", &err), &err);
	snprintf(code, sizeof(code), "%s%s", a, b);
	lsec_secret *c = fx_pw(code);
	assert_lsec_ok(lsec_line_enrol(fx->line, "olga", c, pw, &err), &err);
	lsec_secret_free(c);

	char *tok = lsec_test_path(fx->dir, ".sessions/olga");
	faults = 0;
	for (unsigned long n = 1;; n++) {
		uint64_t leaves = 0, after = 0;
		assert_lsec_ok(lsec_store_leaf_count(&leaves, st, &err), &err);
		lsec_store__fail_after(st, n);
		int rc = lsec_line_login(fx->line, "olga", pw, &err);
		lsec_store__fail_after(st, 0);
		assert_lsec_ok(lsec_store_leaf_count(&after, st, &err), &err);
		if (rc == 0) {
			assert_int_equal(after, leaves + 1);
			assert_int_equal(access(tok, F_OK), 0);
			break;
		}
		faults++;
		assert_int_equal(access(tok, F_OK), -1);
		assert_true(n < 100);
	}
	assert_true(faults >= 3);
	lsec_line_actor who;
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "olga", ~0u, "act", &err), &err);
	lsec_free(tok);
	lsec_secret_free(pw);
}

/* A change made by SQL alone, as someone with write access to the registry could. */
static void sql(line_fx *fx, const char *q, const store_val *p, size_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line), q, p, n, NULL, NULL, &err),
		       &err);
}

/* The refusal names the table, the person and (when one exists) the leaf. */
static void assert_refused(const lsec_err *err, const char *table, const char *person,
			   const char *leaf)
{
	char want[96];
	assert_int_equal(err->code, LSEC_E_AUDIT_INDEX);
	snprintf(want, sizeof(want), "registry table %s ", table);
	assert_non_null(strstr(err->msg, want));
	snprintf(want, sizeof(want), "'%s'", person);
	assert_non_null(strstr(err->msg, want));
	if (leaf != NULL) {
		assert_non_null(strstr(err->msg, leaf));
	}
}

static uint64_t last_seq(line_fx *fx)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, lsec_line_store(fx->line), &err), &err);
	return n - 1;
}

static void test_line_people__rows_checked_against_leaves(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	char leaf[32];
	fx_login(fx, "admin", "admin-password");
	add_person(fx, "olga", LSEC_ROLE_OPERATOR, "olga-password");
	uint64_t added = last_seq(fx); /* her enrolment */
	fx_login(fx, "olga", "olga-password");

	/* Her own role raised by SQL: refused, naming the person-add leaf. */
	store_val up[] = {SV_S("security-officer"), SV_S("olga")};
	sql(fx, "UPDATE people SET role = ? WHERE name = ?", up, 2);
	assert_true(lsec_line_authorize(&who, fx->line, "olga", ~0u, "act", &err) < 0);
	snprintf(leaf, sizeof(leaf), "leaf %llu (person-update)", (unsigned long long)added);
	assert_refused(&err, "people", "olga", leaf);
	assert_non_null(strstr(err.msg, "role security-officer"));
	store_val back[] = {SV_S("operator"), SV_S("olga")};
	sql(fx, "UPDATE people SET role = ? WHERE name = ?", back, 2);
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "olga", ~0u, "act", &err), &err);

	/* Disabled, then enabled again by SQL: login refused, naming the disable leaf. */
	fx_disable(fx, "olga");
	uint64_t disabled = last_seq(fx) - 3; /* then its checkpoint, the approver's logout and its checkpoint */
	store_val en[] = {SV_I(0), SV_S("olga")};
	sql(fx, "UPDATE people SET disabled = ? WHERE name = ?", en, 2);
	lsec_secret *pw = fx_pw("olga-password");
	assert_true(lsec_line_login(fx->line, "olga", pw, &err) < 0);
	snprintf(leaf, sizeof(leaf), "leaf %llu (person-disable)", (unsigned long long)disabled);
	assert_refused(&err, "people", "olga", leaf);
	store_val dis[] = {SV_I(1), SV_S("olga")};
	sql(fx, "UPDATE people SET disabled = ? WHERE name = ?", dis, 2);
	assert_lsec_code(lsec_line_login(fx->line, "olga", pw, &err), LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "disabled"));
	lsec_secret_free(pw);

	/* A person inserted by SQL with a password hash the inserter knows. */
	char hash[160];
	pw = fx_pw("mallory-password");
	assert_lsec_ok(lsec_line_password_hash(hash, sizeof(hash), pw, &err), &err);
	assert_lsec_ok(lsec_store_person_add(lsec_line_store(fx->line), "mallory",
					     LSEC_ROLE_SECURITY_OFFICER, hash, &err),
		       &err);
	assert_true(lsec_line_login(fx->line, "mallory", pw, &err) < 0);
	assert_refused(&err, "people", "mallory", "no leaf");
	lsec_secret_free(pw);

	/* The officer's password hash replaced by one whose password is known. */
	char old[160];
	lsec_store_person p;
	assert_lsec_ok(lsec_store_person_get(&p, lsec_line_store(fx->line), "admin", &err), &err);
	snprintf(old, sizeof(old), "%s", p.pw_hash);
	store_val pwup[] = {SV_S(hash), SV_S("admin")};
	sql(fx, "UPDATE people SET pw_hash = ? WHERE name = ?", pwup, 2);
	pw = fx_pw("mallory-password");
	assert_true(lsec_line_login(fx->line, "admin", pw, &err) < 0);
	assert_refused(&err, "people", "admin", "(line-init)");
	assert_non_null(strstr(err.msg, "password hash"));
	assert_null(strstr(err.msg, hash));
	lsec_secret_free(pw);
	store_val pwback[] = {SV_S(old), SV_S("admin")};
	sql(fx, "UPDATE people SET pw_hash = ? WHERE name = ?", pwback, 2);
	fx_login(fx, "admin", "admin-password");
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err), &err);
	lsec_wipe(&p, sizeof(p));
}

static void test_line_people__sessions_checked_against_leaves(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	lsec_store *st = lsec_line_store(fx->line);
	char leaf[48], text[128], token_hex[65];
	uint8_t token[32], th[32];
	fx_login(fx, "admin", "admin-password");
	uint64_t login = last_seq(fx);
	char *tok = lsec_test_path(fx->dir, ".sessions/admin");
	lsec_buf saved = LSEC_BUF_INIT(256);
	assert_lsec_ok(lsec_file_read(&saved, tok, &err), &err);
	/* The session file names its login leaf after the token. */
	snprintf(text, sizeof(text), "\n%llu\n", (unsigned long long)login);
	assert_non_null(strstr(lsec_buf_cstr(&saved, &err), text));

	/* A session row and token file made up for the officer, naming a real login leaf. */
	memset(token, 0x5a, sizeof(token));
	assert_lsec_ok(lsec_sha256(th, token, sizeof(token), &err), &err);
	assert_lsec_ok(lsec_store_session_add(st, "admin", th, "station1", (int64_t)time(NULL),
					      (int64_t)time(NULL) + 3600, &err),
		       &err);
	lsec_hex_encode(token_hex, token, sizeof(token));
	snprintf(text, sizeof(text), "%s\n%llu\n", token_hex, (unsigned long long)login);
	assert_lsec_ok(lsec_file_write_atomic(tok, text, strlen(text), 0600, &err), &err);
	assert_true(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err) < 0);
	snprintf(leaf, sizeof(leaf), "leaf %llu", (unsigned long long)login);
	assert_refused(&err, "sessions", "admin", leaf);
	/* Naming no leaf at all is refused too. */
	snprintf(text, sizeof(text), "%s\n", token_hex);
	assert_lsec_ok(lsec_file_write_atomic(tok, text, strlen(text), 0600, &err), &err);
	assert_true(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err) < 0);
	assert_refused(&err, "sessions", "admin", "no login leaf");
	/* The real session file put back works again. */
	assert_lsec_ok(lsec_file_write_atomic(tok, (const char *)saved.data, saved.len, 0600, &err),
		       &err);
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err), &err);

	/* Logged out, then the row revived by SQL and the token file put back. */
	assert_lsec_ok(lsec_line_logout(fx->line, "admin", &err), &err);
	uint64_t logout = last_seq(fx) - 1; /* the checkpoint signed after it is last */
	store_val live[] = {SV_I(0)};
	sql(fx, "UPDATE sessions SET revoked = ?", live, 1);
	assert_lsec_ok(lsec_file_write_atomic(tok, (const char *)saved.data, saved.len, 0600, &err),
		       &err);
	assert_true(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err) < 0);
	snprintf(leaf, sizeof(leaf), "leaf %llu (logout)", (unsigned long long)logout);
	assert_refused(&err, "sessions", "admin", leaf);
	fx_login(fx, "admin", "admin-password");
	assert_lsec_ok(lsec_line_authorize(&who, fx->line, "admin", ~0u, "act", &err), &err);
	lsec_buf_release(&saved);
	lsec_free(tok);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, line_fx_setup, line_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_line_people__login_authorize_roles),
		T(test_line_people__wrong_password_and_unknown_look_alike),
		T(test_line_people__disabled_person),
		T(test_line_people__expired_and_tampered_sessions),
		T(test_line_people__failing_registry_leaves_nothing_half_done),
		T(test_line_people__rows_checked_against_leaves),
		T(test_line_people__sessions_checked_against_leaves),
	};
	return lsec_test_run_backends("line/people", tests, sizeof(tests) / sizeof(tests[0]));
}
