/* People, roles and sessions in the registry, on both backends. */
#include "helpers/store_fixture.h"

#include <string.h>

static void test_store_people__add_get_list_disable(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	const char *hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
	assert_lsec_ok(lsec_store_person_add(db->st, "zoe", LSEC_ROLE_OPERATOR, hash, &err), &err);
	assert_lsec_ok(lsec_store_person_add(db->st, "ann", LSEC_ROLE_SECURITY_OFFICER, hash, &err),
		       &err);
	assert_lsec_code(lsec_store_person_add(db->st, "ann", LSEC_ROLE_AUDITOR, hash, &err),
			 LSEC_E_EXISTS, &err);
	assert_string_equal(err.msg, "cannot add person 'ann': the name is already taken");
	assert_lsec_code(lsec_store_person_add(db->st, "bob", LSEC_ROLE_COUNT, hash, &err),
			 LSEC_E_USAGE, &err);
	lsec_store_person p;
	assert_lsec_ok(lsec_store_person_get(&p, db->st, "ann", &err), &err);
	assert_int_equal(p.role, LSEC_ROLE_SECURITY_OFFICER);
	assert_false(p.disabled);
	assert_string_equal(p.pw_hash, hash);
	lsec_store_person *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_person_list(&list, &n, db->st, &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "ann");
	assert_string_equal(list[1].name, "zoe");
	assert_string_equal(list[0].pw_hash, ""); /* lists never carry hashes */
	lsec_free(list);

	uint8_t th[32];
	memset(th, 7, sizeof(th));
	assert_lsec_ok(lsec_store_session_add(db->st, "zoe", th, "st1", 1000, 2000, &err), &err);
	lsec_store_session s;
	assert_lsec_ok(lsec_store_session_get(&s, db->st, th, &err), &err);
	assert_string_equal(s.person, "zoe");
	assert_int_equal(s.expires, 2000);
	assert_false(s.revoked);
	assert_lsec_ok(lsec_store_person_disable(db->st, "zoe", &err), &err);
	assert_lsec_ok(lsec_store_person_get(&p, db->st, "zoe", &err), &err);
	assert_true(p.disabled);
	/* Disabling revokes the person's sessions. */
	assert_lsec_ok(lsec_store_session_get(&s, db->st, th, &err), &err);
	assert_true(s.revoked);
	assert_lsec_code(lsec_store_person_disable(db->st, "nobody", &err), LSEC_E_NOTFOUND, &err);
	uint64_t count = 0;
	assert_lsec_ok(lsec_store_person_count(&count, db->st, &err), &err);
	assert_int_equal(count, 2);
}

static void test_store_people__sessions(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t a[32], b[32];
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_lsec_code(lsec_store_session_add(db->st, "ghost", a, "st1", 1, 2, &err),
			 LSEC_E_NOTFOUND, &err);
	assert_lsec_ok(lsec_store_person_add(db->st, "op", LSEC_ROLE_OPERATOR, "h", &err), &err);
	assert_lsec_ok(lsec_store_session_add(db->st, "op", a, "st1", 1, 2, &err), &err);
	assert_lsec_ok(lsec_store_session_add(db->st, "op", b, "st2", 1, 2, &err), &err);
	lsec_store_session s;
	assert_lsec_ok(lsec_store_session_revoke(db->st, a, &err), &err);
	assert_lsec_ok(lsec_store_session_get(&s, db->st, a, &err), &err);
	assert_true(s.revoked);
	assert_lsec_ok(lsec_store_session_get(&s, db->st, b, &err), &err);
	assert_false(s.revoked);
	assert_string_equal(s.station, "st2");
	uint8_t c[32] = {0};
	assert_lsec_code(lsec_store_session_get(&s, db->st, c, &err), LSEC_E_NOTFOUND, &err);
	assert_lsec_code(lsec_store_session_revoke(db->st, c, &err), LSEC_E_NOTFOUND, &err);
}

static void test_store_people__role_names(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_role r;
	for (int i = 0; i < LSEC_ROLE_COUNT; i++) {
		assert_lsec_ok(lsec_role_parse(&r, lsec_role_name((lsec_role)i), &err), &err);
		assert_int_equal(r, i);
	}
	assert_lsec_code(lsec_role_parse(&r, "admin", &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "'admin'"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_people__add_get_list_disable),
		T(test_store_people__sessions),
		cmocka_unit_test(test_store_people__role_names),
	};
	return lsec_test_run_backends("store/people", tests, sizeof(tests) / sizeof(tests[0]));
}
