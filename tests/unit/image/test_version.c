/* Image version strings: "MAJOR[.MINOR[.REVISION]][+BUILD]". */
#include "imgtest.h"

static void test_image_version__parse_and_format(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"1.2.3+4", "1.2.3+4"},
		{"1", "1.0.0+0"},
		{"1.2", "1.2.0+0"},
		{"0.0.0", "0.0.0+0"},
		{"255.255.65535+4294967295", "255.255.65535+4294967295"},
		{"2+9", "2.0.0+9"},
		{"007.1.2", "7.1.2+0"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		lsec_image_version v;
		char buf[32];
		assert_lsec_ok(lsec_image_version_parse(&v, ok[i].in, &err), &err);
		assert_lsec_ok(lsec_image_version_format(buf, sizeof(buf), v), &err);
		assert_string_equal(buf, ok[i].out);
	}
	lsec_image_version v = {1, 2, 3, 4};
	char tiny[6];
	assert_int_equal(lsec_image_version_format(tiny, sizeof(tiny), v), LSEC_E_LIMIT);
}

static void test_image_version__rejects(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static const char *bad[] = {
		"", "a", "1.", "1..2", "1.2.3.4", "256", "1.256", "1.2.65536", "1.2.3+4294967296",
		"-1", "+1", "1.2.3+", "1.2.3 ", " 1", "1.2.3+4+5", "99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lsec_image_version v = {9, 9, 9, 9};
		int rc = lsec_image_version_parse(&v, bad[i], &err);
		if (rc != LSEC_E_USAGE) {
			fail_msg("'%s': expected usage error, got %d", bad[i], rc);
		}
		assert_int_equal(v.major, 0);
		assert_int_equal(v.build, 0);
	}
	lsec_image_version v;
	assert_lsec_code(lsec_image_version_parse(&v, NULL, &err), LSEC_E_USAGE, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_version__parse_and_format),
		cmocka_unit_test(test_image_version__rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
