#include "helpers/testutil.h"

#include <string.h>

static void test_util_encode__hex_roundtrip(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const uint8_t in[] = {0x00, 0x7f, 0x80, 0xff};
	char hex[9];
	lsec_hex_encode(hex, in, sizeof(in));
	assert_string_equal(hex, "007f80ff");
	lsec_buf b = LSEC_BUF_INIT(16);
	assert_lsec_ok(lsec_hex_decode(&b, "007F80ff", 8, "test", &err), &err);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, in, 4);
	lsec_buf_release(&b);
}

static void test_util_encode__hex_rejects_bad_input(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(16);
	assert_lsec_code(lsec_hex_decode(&b, "abc", 3, "key hash", &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "key hash"));
	assert_lsec_code(lsec_hex_decode(&b, "zz", 2, "key hash", &err), LSEC_E_PARSE, &err);
	uint8_t out[2];
	assert_lsec_code(lsec_hex_decode_fixed(out, 2, "001122", "uid", &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "expected 4 hex digits"));
	lsec_buf_release(&b);
}

static void test_util_encode__base64_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10 */
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					  "Zm9vYmFy"};
	lsec_err err = LSEC_ERR_INIT;
	for (size_t i = 0; i < 7; i++) {
		char *s = NULL;
		assert_lsec_ok(lsec_base64_encode(&s, (const uint8_t *)plain[i], strlen(plain[i]),
						  &err),
			       &err);
		assert_string_equal(s, enc[i]);
		lsec_free(s);
		lsec_buf b = LSEC_BUF_INIT(16);
		assert_lsec_ok(lsec_base64_decode(&b, enc[i], strlen(enc[i]), "v", &err), &err);
		assert_int_equal(b.len, strlen(plain[i]));
		if (b.len) {
			assert_memory_equal(b.data, plain[i], b.len);
		}
		lsec_buf_release(&b);
	}
}

static void test_util_encode__base64_rejects_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {"Zg=", "Z===", "Zm9v\n", "Zm=v", "Zm9v!A==", "=AAA"};
	lsec_err err = LSEC_ERR_INIT;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lsec_buf b = LSEC_BUF_INIT(16);
		assert_lsec_code(lsec_base64_decode(&b, bad[i], strlen(bad[i]), "root hash", &err),
				 LSEC_E_PARSE, &err);
		assert_non_null(strstr(err.msg, "root hash"));
		lsec_buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_encode__hex_roundtrip),
		cmocka_unit_test(test_util_encode__hex_rejects_bad_input),
		cmocka_unit_test(test_util_encode__base64_vectors),
		cmocka_unit_test(test_util_encode__base64_rejects_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
