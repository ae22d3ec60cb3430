/* People, roles, login sessions and who is acting. */
#include "line/line_fixture.h"
#include "store/store_int.h"

#include <sys/stat.h>
#include <unistd.h>

static void add_person(line_fx *fx, const char *name, lsec_role role, const char *password)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor so;
	assert_lsec_ok(lsec_line_authorize(&so, fx->line, "admin",
					   LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "add", &err),
		       &err);
	lsec_secret *pw = fx_pw(password);
	assert_lsec_ok(lsec_line_person_add(fx->line, &so, name, role, pw, &err), &err);
	lsec_secret_free(pw);
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
	lsec_line_actor fake = {"olga", LSEC_ROLE_SECURITY_OFFICER};
	lsec_secret *pw = fx_pw("mallory-password");
	assert_lsec_code(lsec_line_person_add(fx->line, &fake, "mallory", LSEC_ROLE_OPERATOR, pw,
					      &err),
			 LSEC_E_AUTH, &err);
	lsec_secret_free(pw);
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
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, st, before, &err), &err);
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
	lsec_line_actor who, so;
	fx_login(fx, "admin", "admin-password");
	add_person(fx, "olga", LSEC_ROLE_OPERATOR, "olga-password");
	fx_login(fx, "olga", "olga-password");
	assert_lsec_ok(lsec_line_authorize(&so, fx->line, "admin",
					   LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "x", &err),
		       &err);
	assert_lsec_code(lsec_line_person_disable(fx->line, &so, "admin", &err), LSEC_E_POLICY,
			 &err);
	assert_lsec_ok(lsec_line_person_disable(fx->line, &so, "olga", &err), &err);
	/* Her open session ends at once, and she cannot log in again. */
	assert_lsec_code(lsec_line_authorize(&who, fx->line, "olga", ~0u, "flash", &err),
			 LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "was ended"));
	lsec_secret *pw = fx_pw("olga-password");
	assert_lsec_code(lsec_line_login(fx->line, "olga", pw, &err), LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "disabled"));
	lsec_secret_free(pw);
	assert_lsec_code(lsec_line_person_disable(fx->line, &so, "ghost", &err), LSEC_E_NOTFOUND,
			 &err);
	/* A duplicate name is refused. */
	pw = fx_pw("another-password");
	assert_lsec_code(lsec_line_person_add(fx->line, &so, "olga", LSEC_ROLE_AUDITOR, pw, &err),
			 LSEC_E_EXISTS, &err);
	lsec_secret_free(pw);
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
	lsec_line_actor so;
	assert_lsec_ok(lsec_line_authorize(&so, fx->line, "admin",
					   LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "x", &err),
		       &err);
	lsec_secret *pw = fx_pw("olga-password");
	int faults = 0;
	for (unsigned long n = 1;; n++) {
		uint64_t leaves = 0, after = 0;
		assert_lsec_ok(lsec_store_leaf_count(&leaves, st, &err), &err);
		lsec_store__fail_after(st, n);
		int rc = lsec_line_person_add(fx->line, &so, "olga", LSEC_ROLE_OPERATOR, pw, &err);
		lsec_store__fail_after(st, 0);
		assert_false(lsec_store_in_transaction(st));
		assert_lsec_ok(lsec_store_leaf_count(&after, st, &err), &err);
		if (rc == 0) {
			assert_int_equal(after, leaves + 1);
			break;
		}
		faults++;
		assert_int_equal(after, leaves);
		assert_lsec_code(lsec_store_person_get(&p, st, "olga", &err), LSEC_E_NOTFOUND, &err);
		assert_true(n < 100);
	}
	assert_true(faults >= 4); /* authorize, the insert, the leaf, the commit at least */
	assert_lsec_ok(lsec_store_person_get(&p, st, "olga", &err), &err);

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

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, line_fx_setup, line_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_line_people__login_authorize_roles),
		T(test_line_people__wrong_password_and_unknown_look_alike),
		T(test_line_people__disabled_person),
		T(test_line_people__expired_and_tampered_sessions),
		T(test_line_people__failing_registry_leaves_nothing_half_done),
	};
	return lsec_test_run_backends("line/people", tests, sizeof(tests) / sizeof(tests[0]));
}
