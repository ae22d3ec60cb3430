/* Reading a passphrase or PIN from a file or the environment. */
#include "helpers/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "linesec/pki.h"

static void test_pki_prompt__env_is_wiped(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *s = NULL;
	assert_int_equal(setenv("LSEC_TEST_PIN", "1234-5678", 1), 0);
	char *raw = getenv("LSEC_TEST_PIN");
	assert_lsec_ok(lsec_pki_secret_read(&s, NULL, "LSEC_TEST_PIN", "PIN", &err), &err);
	assert_int_equal(lsec_secret_len(s), 9);
	assert_memory_equal(lsec_secret_cdata(s), "1234-5678", 9);
	assert_null(getenv("LSEC_TEST_PIN"));
	/* glibc's setenv copies the value; that copy was wiped in place. */
	assert_int_equal(raw[0], 0);
	lsec_secret_free(s);
	assert_int_equal(setenv("LSEC_TEST_PIN", "", 1), 0);
	assert_lsec_code(lsec_pki_secret_read(&s, NULL, "LSEC_TEST_PIN", "PIN", &err),
			 LSEC_E_USAGE, &err);
	assert_null(s);
}

static void test_pki_prompt__file(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *path = lsec_test_path(dir, "pass");
	lsec_secret *s = NULL;
	assert_lsec_ok(lsec_file_write_new(path, "open sesame\n", 12, 0600, &err), &err);
	assert_lsec_ok(lsec_pki_secret_read(&s, path, "LSEC_TEST_UNSET", "passphrase", &err),
		       &err);
	assert_int_equal(lsec_secret_len(s), 11);
	lsec_secret_free(s);
	lsec_free(path);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_prompt__env_is_wiped),
		cmocka_unit_test(test_pki_prompt__file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
