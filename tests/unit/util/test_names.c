/* The name-to-enum parser and UTF-8 validation. */
#include "helpers/testutil.h"

#include <string.h>

static const char *const colours[] = {"red", NULL, "green", "blue"};

static void test_util_names__lookup_finds_index(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	size_t i = 99;
	assert_lsec_ok(lsec_name_lookup(&i, colours, 4, "red", "colour", &err), &err);
	assert_int_equal(i, 0);
	assert_lsec_ok(lsec_name_lookup(&i, colours, 4, "blue", "colour", &err), &err);
	assert_int_equal(i, 3);
	/* count bounds the search: "blue" is past it */
	assert_lsec_code(lsec_name_lookup(&i, colours, 3, "blue", "colour", &err), LSEC_E_USAGE,
			 &err);
}

static void test_util_names__unknown_fails_with_usage_and_list(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	size_t i = 99;
	assert_lsec_code(lsec_name_lookup(&i, colours, 4, "Red", "colour", &err), LSEC_E_USAGE, &err);
	assert_int_equal(i, 0);
	assert_string_equal(err.msg, "unknown colour 'Red': expected one of red, green, blue");
	/* a NULL value matches nothing, not even a hole */
	assert_lsec_code(lsec_name_lookup(&i, colours, 4, NULL, "colour", &err), LSEC_E_USAGE, &err);
	assert_string_equal(err.msg, "unknown colour '': expected one of red, green, blue");
	assert_lsec_code(lsec_name_lookup(&i, colours, 4, "", "colour", &err), LSEC_E_USAGE, &err);
	/* a long value is cut so that the accepted names still show */
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_lsec_code(lsec_name_lookup(&i, colours, 4, big, "colour", &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "': expected one of red, green, blue"));
}

static void test_util_names__list_is_bounded(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(lsec_name_list(buf, sizeof(buf), colours, 4), "red, green, blue");
	assert_string_equal(lsec_name_list(buf, sizeof(buf), colours, 0), "");
	char small[8];
	assert_string_equal(lsec_name_list(small, sizeof(small), colours, 4), "red, gr");
}

static void test_util_names__utf8_invalid_at(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len, bad;
	} cases[] = {
		{"plain", 5, 5},
		{"caf\xc3\xa9", 5, 5},            /* U+00E9 */
		{"\xf0\x9f\x94\x92 ok", 7, 7},    /* U+1F512 */
		{"ab\xc3", 3, 2},                 /* cut short */
		{"ab\xc0\xaf", 4, 2},             /* overlong '/' */
		{"\xed\xa0\x80", 3, 0},           /* surrogate U+D800 */
		{"x\xf4\x90\x80\x80", 5, 1},      /* above U+10FFFF */
		{"xy\x80", 3, 2},                 /* lone continuation byte */
		{"\xff", 1, 0},
		{"", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(lsec_utf8_invalid_at((const uint8_t *)cases[i].s, cases[i].len),
				 cases[i].bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_names__lookup_finds_index),
		cmocka_unit_test(test_util_names__unknown_fails_with_usage_and_list),
		cmocka_unit_test(test_util_names__list_is_bounded),
		cmocka_unit_test(test_util_names__utf8_invalid_at),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
