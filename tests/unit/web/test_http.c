/* The web console's own request parsing: forms, cookies, escaping, tokens. */
#include "helpers/testutil.h"

#include "linesec/web.h"

#include <string.h>

static void test_web_http__form_decodes_fields(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_web_fields f;
	const char body[] = "name=ali+ce&password=p%40ss%26%3D1&&csrf=ab";
	assert_lsec_ok(lsec_web_form_parse(&f, body, strlen(body), &err), &err);
	assert_int_equal(f.n, 3);
	assert_string_equal(lsec_web_field_get(&f, "name"), "ali ce");
	assert_string_equal(lsec_web_field_get(&f, "password"), "p@ss&=1");
	assert_string_equal(lsec_web_field_get(&f, "csrf"), "ab");
	assert_null(lsec_web_field_get(&f, "other"));
	/* An empty value is a value; an empty body no field. */
	assert_lsec_ok(lsec_web_form_parse(&f, "a=", 2, &err), &err);
	assert_string_equal(lsec_web_field_get(&f, "a"), "");
	assert_lsec_ok(lsec_web_form_parse(&f, "", 0, &err), &err);
	assert_int_equal(f.n, 0);
}

static void test_web_http__form_refuses_malformed(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_web_fields f;
	static const struct {
		const char *body;
		const char *says;
	} bad[] = {
		{"a=%4", "cut %-escape"},
		{"a=%zz", "bad %-escape"},
		{"a=1&novalue", "without '='"},
		{"=1", "without a name"},
		{"a=1&a=2", "field 'a' is given twice"},
		{"a=x%00y", "NUL byte"},
		{"a=%", "cut %-escape"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_lsec_code(lsec_web_form_parse(&f, bad[i].body, strlen(bad[i].body), &err),
				 LSEC_E_PARSE, &err);
		if (strstr(err.msg, bad[i].says) == NULL) {
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].body, err.msg,
				 bad[i].says);
		}
		assert_int_equal(f.n, 0);
	}
	/* A raw NUL inside the body is refused too (the length, not the NUL, ends it). */
	assert_lsec_code(lsec_web_form_parse(&f, "a=1\0b=2", 7, &err), LSEC_E_PARSE, &err);
}

static void test_web_http__form_bounds(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_web_fields f;
	char body[LSEC_WEB_BODY_MAX + 2];
	/* A value one byte over its maximum, then exactly at it. */
	memset(body, 'v', sizeof(body));
	memcpy(body, "a=", 2);
	assert_lsec_code(lsec_web_form_parse(&f, body, 2 + LSEC_WEB_VALUE_MAX + 1, &err),
			 LSEC_E_LIMIT, &err);
	assert_non_null(strstr(err.msg, "field 'a' is longer than 1024 bytes"));
	assert_lsec_ok(lsec_web_form_parse(&f, body, 2 + LSEC_WEB_VALUE_MAX, &err), &err);
	assert_int_equal(strlen(lsec_web_field_get(&f, "a")), LSEC_WEB_VALUE_MAX);
	/* The whole body. */
	assert_lsec_code(lsec_web_form_parse(&f, body, LSEC_WEB_BODY_MAX + 1, &err), LSEC_E_LIMIT,
			 &err);
	assert_non_null(strstr(err.msg, "the form is longer than 8192 bytes"));
	/* Too many fields. */
	size_t n = 0;
	for (int i = 0; i <= LSEC_WEB_FIELDS_MAX; i++) {
		n += (size_t)snprintf(body + n, sizeof(body) - n, "f%d=1&", i);
	}
	assert_lsec_code(lsec_web_form_parse(&f, body, n, &err), LSEC_E_LIMIT, &err);
	assert_non_null(strstr(err.msg, "more than 16 fields"));
	/* A name one byte too long. */
	memset(body, 'n', LSEC_WEB_NAME_MAX + 1);
	memcpy(body + LSEC_WEB_NAME_MAX + 1, "=1", 2);
	assert_lsec_code(lsec_web_form_parse(&f, body, LSEC_WEB_NAME_MAX + 3, &err), LSEC_E_LIMIT,
			 &err);
}

static void test_web_http__cookies(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_web_fields f;
	const char h[] = "lsec_session=abc%41; other=x+y ;  last=1";
	assert_lsec_ok(lsec_web_cookie_parse(&f, h, strlen(h), &err), &err);
	assert_int_equal(f.n, 3);
	/* Cookie values are taken as sent: no %- or +-decoding. */
	assert_string_equal(lsec_web_field_get(&f, "lsec_session"), "abc%41");
	assert_string_equal(lsec_web_field_get(&f, "other"), "x+y");
	assert_string_equal(lsec_web_field_get(&f, "last"), "1");
	/* Two cookies of one name: which one counts would be ambiguous. */
	const char twice[] = "lsec_session=a; lsec_session=b";
	assert_lsec_code(lsec_web_cookie_parse(&f, twice, strlen(twice), &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_web_cookie_parse(&f, "junk", 4, &err), LSEC_E_PARSE, &err);
	char big[LSEC_WEB_COOKIE_MAX + 1];
	memset(big, 'a', sizeof(big));
	assert_lsec_code(lsec_web_cookie_parse(&f, big, sizeof(big), &err), LSEC_E_LIMIT, &err);
}

static void test_web_http__escape(void **state)
{
	(void)state;
	char out[128];
	assert_true(lsec_web_escape(out, sizeof(out), "<script>alert('x&y')</script> \"q\""));
	assert_string_equal(out,
			    "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt; &quot;q&quot;");
	assert_true(lsec_web_escape(out, sizeof(out), "a\tb\nc\rd\x1b"));
	assert_string_equal(out, "a\tb\nc&#13;d&#27;");
	assert_true(lsec_web_escape(out, sizeof(out), NULL));
	assert_string_equal(out, "");
	/* Too small: an empty string, never a cut entity. */
	assert_false(lsec_web_escape(out, 9, "ab&cd"));
	assert_string_equal(out, "");
	assert_true(lsec_web_escape(out, 10, "ab&cd"));
	assert_string_equal(out, "ab&amp;cd");
	assert_false(lsec_web_escape(out, 7, "ab&"));
	assert_true(lsec_web_escape(out, 8, "ab&"));
}

static void test_web_http__tokens(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char a[LSEC_WEB_TOKEN_HEX + 1], b[LSEC_WEB_TOKEN_HEX + 1];
	assert_lsec_ok(lsec_web_token_new(a, &err), &err);
	assert_lsec_ok(lsec_web_token_new(b, &err), &err);
	assert_int_equal(strlen(a), LSEC_WEB_TOKEN_HEX);
	assert_string_not_equal(a, b);
	assert_true(lsec_web_token_equal(a, a));
	assert_false(lsec_web_token_equal(a, b));
	assert_false(lsec_web_token_equal(a, NULL));
	assert_false(lsec_web_token_equal(a, ""));
	assert_false(lsec_web_token_equal(NULL, a));
	/* A prefix or a longer string is not the token. */
	char shorter[LSEC_WEB_TOKEN_HEX];
	memcpy(shorter, a, LSEC_WEB_TOKEN_HEX - 1);
	shorter[LSEC_WEB_TOKEN_HEX - 1] = '\0';
	assert_false(lsec_web_token_equal(a, shorter));
	char longer[LSEC_WEB_TOKEN_HEX + 2];
	snprintf(longer, sizeof(longer), "%s0", a);
	assert_false(lsec_web_token_equal(a, longer));
	/* The empty expected token (no session) matches nothing, not even itself. */
	assert_false(lsec_web_token_equal("", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_web_http__form_decodes_fields),
	    cmocka_unit_test(test_web_http__form_refuses_malformed),
	    cmocka_unit_test(test_web_http__form_bounds),
	    cmocka_unit_test(test_web_http__cookies),
	    cmocka_unit_test(test_web_http__escape),
	    cmocka_unit_test(test_web_http__tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
