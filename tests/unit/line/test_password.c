/* Argon2id password hashes. */
#include "helpers/testutil.h"
#include "linesec/line.h"

#include <string.h>

static lsec_secret *pw(const char *s)
{
	lsec_secret *p = NULL;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_secret_from(&p, s, strlen(s), &err), &err);
	return p;
}

static void test_line_password__hash_and_verify(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char h1[160], h2[160];
	lsec_secret *good = pw("correct horse"), *bad = pw("correct horsf");
	assert_lsec_ok(lsec_line_password_hash(h1, sizeof(h1), good, &err), &err);
	assert_lsec_ok(lsec_line_password_hash(h2, sizeof(h2), good, &err), &err);
	/* OWASP parameters, and a fresh salt each time. */
	assert_int_equal(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	assert_string_not_equal(h1, h2);
	assert_lsec_ok(lsec_line_password_verify(h1, good, &err), &err);
	assert_lsec_code(lsec_line_password_verify(h1, bad, &err), LSEC_E_AUTH, &err);
	/* A flipped hash character no longer verifies. */
	size_t n = strlen(h1);
	h1[n - 2] = h1[n - 2] == 'A' ? 'B' : 'A';
	assert_lsec_code(lsec_line_password_verify(h1, good, &err), LSEC_E_AUTH, &err);
	lsec_secret_free(good);
	lsec_secret_free(bad);
}

static void test_line_password__refusals(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char h[160];
	lsec_secret *shortpw = pw("seven77"), *good = pw("long enough");
	assert_lsec_code(lsec_line_password_hash(h, sizeof(h), shortpw, &err), LSEC_E_POLICY, &err);
	assert_non_null(strstr(err.msg, "at least 8"));
	assert_lsec_code(lsec_line_password_hash(h, sizeof(h), NULL, &err), LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_line_password_verify("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$AAAA",
						   good, &err),
			 LSEC_E_PARSE, &err);
	/* Parameters out of range are refused before any work is done. */
	assert_lsec_code(lsec_line_password_verify("$argon2id$v=19$m=99999999,t=2,p=1$"
						   "c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
						   good, &err),
			 LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_line_password_verify("$argon2id$v=19$m=19456,t=2,p=1$nodollar", good,
						   &err),
			 LSEC_E_PARSE, &err);
	lsec_secret_free(shortpw);
	lsec_secret_free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_password__hash_and_verify),
		cmocka_unit_test(test_line_password__refusals),
	};
	return cmocka_run_group_tests_name("line/password", tests, NULL, NULL);
}
