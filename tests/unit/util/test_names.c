/* The name-to-enum parser, UTF-8 validation, the identifier grammar and terminal escaping. */
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

static void test_util_names__ident_grammar(void **state)
{
	(void)state;
	static const char *const good[] = {"unit-001", "a", "0", "sensor", "line1", "A.b_c-d",
					   "unit_1.rev-2"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		lsec_err err = LSEC_ERR_INIT;
		assert_true(lsec_ident_ok(good[i]));
		assert_lsec_ok(lsec_ident_check(good[i], "unit serial", &err), &err);
	}
	static const char *const bad[] = {"", "../../../../tmp/x", "a/b", ".hidden", "-rf",
					  "_x", "a b", "a\nb", "x\x1b[31m", "caf\xc3\xa9",
					  "a\"b", "a:b", "a*"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lsec_err err = LSEC_ERR_INIT;
		assert_false(lsec_ident_ok(bad[i]));
		assert_lsec_code(lsec_ident_check(bad[i], "unit serial", &err), LSEC_E_USAGE, &err);
		assert_non_null(strstr(err.msg, "unit serial"));
	}
	assert_false(lsec_ident_ok(NULL));
	/* 64 bytes are an identifier, 65 are not: never cut to fit */
	char big[5001];
	memset(big, 'a', sizeof(big) - 1);
	big[64] = 0;
	assert_true(lsec_ident_ok(big));
	big[64] = 'a';
	big[65] = 0;
	assert_false(lsec_ident_ok(big));
	big[65] = 'a';
	big[sizeof(big) - 1] = 0;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_code(lsec_ident_check(big, "unit serial", &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "... (5000 bytes)' is not an identifier: expected "
					"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"));
}

static void test_util_names__ident_message_names_value_escaped(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_code(lsec_ident_check("a\x1b[31mred\n{\"x\":1}", "unit serial", &err),
			 LSEC_E_USAGE, &err);
	assert_string_equal(err.msg, "unit serial 'a\\x1b[31mred\\n{\"x\":1}' is not an identifier: "
				     "expected [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
	assert_lsec_code(lsec_ident_check(NULL, "person name", &err), LSEC_E_USAGE, &err);
	assert_string_equal(err.msg, "missing person name: expected [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
}

static void test_util_names__text_escape(void **state)
{
	(void)state;
	char out[64];
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{"plain text", "plain text"},
		{"a\nb\tc\rd", "a\\nb\\tc\\rd"},
		{"\x1b[2J\x07", "\\x1b[2J\\x07"},
		{"del\x7f", "del\\x7f"},
		{"caf\xc3\xa9 \xf0\x9f\x94\x92", "caf\xc3\xa9 \xf0\x9f\x94\x92"}, /* UTF-8 kept */
		{"csi\xc2\x9b" "31m", "csi\\xc2\\x9b31m"},			   /* C1 CSI */
		{"bad\xff\xc3", "bad\\xff\\xc3"},				   /* not UTF-8 */
		{"a\\x1b", "a\\x1b"}, /* escaped text is left as it is */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(lsec_text_escape(out, sizeof(out), cases[i].in, strlen(cases[i].in)),
				    cases[i].want);
	}
	/* escaping twice gives the same text */
	char twice[64];
	lsec_text_escape(out, sizeof(out), "x\x1by\n", 4);
	assert_string_equal(lsec_text_escape(twice, sizeof(twice), out, strlen(out)), out);
	/* cut to fit, never inside an escape */
	char small[6];
	assert_string_equal(lsec_text_escape(small, sizeof(small), "ab\x1b", 3), "ab");
	/* a NUL inside the length is escaped, not an end */
	assert_string_equal(lsec_text_escape(out, sizeof(out), "a\0b", 3), "a\\x00b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_names__lookup_finds_index),
		cmocka_unit_test(test_util_names__unknown_fails_with_usage_and_list),
		cmocka_unit_test(test_util_names__list_is_bounded),
		cmocka_unit_test(test_util_names__utf8_invalid_at),
		cmocka_unit_test(test_util_names__ident_grammar),
		cmocka_unit_test(test_util_names__ident_message_names_value_escaped),
		cmocka_unit_test(test_util_names__text_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
