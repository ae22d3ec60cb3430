/* The leaf scanner: agrees with a full JSON parse, and gives up on anything odd. */
#include "helpers/testutil.h"

#include "audit/audit_int.h"

#include <jansson.h>
#include <string.h>

static bool scan(const char *s, uint64_t *seq, bool *cp)
{
	lsec_audit__leaf_fields f;
	bool ok = lsec_audit__leaf_scan(&f, (const uint8_t *)s, strlen(s));
	*seq = f.seq;
	*cp = f.checkpoint;
	return ok;
}

/* The unit is read as its raw bytes; an escaped one is left to the full parse. */
static void test_audit_scan__reads_the_unit(void **state)
{
	(void)state;
	lsec_audit__leaf_fields f;
	const char *a = "{\"evidence\":{\"unit\":\"x\"},\"seq\":4,\"unit\":\"SN-1\"}";
	assert_true(lsec_audit__leaf_scan(&f, (const uint8_t *)a, strlen(a)));
	assert_int_equal(f.unit_len, 4);
	assert_memory_equal(f.unit, "SN-1", 4);
	const char *none = "{\"seq\":4}";
	assert_true(lsec_audit__leaf_scan(&f, (const uint8_t *)none, strlen(none)));
	assert_null(f.unit);
	const char *esc = "{\"seq\":4,\"unit\":\"S\\u004e\"}";
	assert_false(lsec_audit__leaf_scan(&f, (const uint8_t *)esc, strlen(esc)));
	const char *twice = "{\"seq\":4,\"unit\":\"a\",\"unit\":\"b\"}";
	assert_false(lsec_audit__leaf_scan(&f, (const uint8_t *)twice, strlen(twice)));
}

/* So is the action: an escaped or repeated one is left to the full parse. */
static void test_audit_scan__reads_the_action(void **state)
{
	(void)state;
	lsec_audit__leaf_fields f;
	const char *a = "{\"action\":\"release.revoke\",\"evidence\":{\"action\":\"x\"},\"seq\":4}";
	assert_true(lsec_audit__leaf_scan(&f, (const uint8_t *)a, strlen(a)));
	assert_int_equal(f.action_len, 14);
	assert_memory_equal(f.action, "release.revoke", 14);
	assert_false(f.checkpoint);
	const char *none = "{\"seq\":4}";
	assert_true(lsec_audit__leaf_scan(&f, (const uint8_t *)none, strlen(none)));
	assert_null(f.action);
	const char *esc = "{\"action\":\"release.\\u0072evoke\",\"seq\":4}";
	assert_false(lsec_audit__leaf_scan(&f, (const uint8_t *)esc, strlen(esc)));
	const char *twice = "{\"action\":\"a\",\"action\":\"b\",\"seq\":4}";
	assert_false(lsec_audit__leaf_scan(&f, (const uint8_t *)twice, strlen(twice)));
}

static void test_audit_scan__agrees_with_jansson(void **state)
{
	(void)state;
	const char *good[] = {
		"{\"person\":\"a\",\"seq\":0,\"v\":1}",
		"{\"action\":\"checkpoint\",\"evidence\":{\"root\":\"00\",\"tree_size\":9},\"seq\":9}",
		/* A nested "seq" and an "action" inside evidence do not count. */
		"{\"action\":\"flash\",\"evidence\":{\"seq\":5,\"x\":[{\"action\":\"checkpoint\"}]},"
		"\"seq\":12}",
		/* Quotes, braces and escapes inside strings. */
		"{\"a\":\"}\\\",\\\"seq\\\":99,{\",\"b\":\"\\u00e9\\n\\\\\",\"seq\":3}",
		"{\"n\":-12,\"t\":true,\"f\":false,\"z\":null,\"e\":{},\"l\":[],\"seq\":9223372036854775807}",
		"{\"action\":\"checkpoints\",\"seq\":1}",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t seq = 0;
		bool cp = true;
		if (!scan(good[i], &seq, &cp)) {
			fail_msg("scanner gave up on good leaf %zu: %s", i, good[i]);
		}
		json_t *j = json_loads(good[i], JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(j);
		assert_true((uint64_t)json_integer_value(json_object_get(j, "seq")) == seq);
		const json_t *a = json_object_get(j, "action");
		assert_int_equal(cp, a != NULL && strcmp(json_string_value(a), "checkpoint") == 0);
		json_decref(j);
	}
}

static void test_audit_scan__full_u64_range(void **state)
{
	(void)state;
	uint64_t seq = 0;
	bool cp = true;
	assert_true(scan("{\"seq\":18446744073709551615}", &seq, &cp));
	assert_true(seq == UINT64_MAX);
	assert_false(cp);
}

static void test_audit_scan__gives_up_on_bad_leaves(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"[]",
		"{}",                                  /* no seq */
		"{\"seq\":1,\"seq\":1}",               /* two */
		"{\"seq\":-1}",
		"{\"seq\":1.5}",
		"{\"seq\":01}",
		"{\"seq\":\"1\"}",
		"{\"seq\":1,}",
		"{\"seq\":1} ",                        /* trailing bytes */
		"{\"seq\":1}{",
		"{\"seq\":1",
		"{\"a\":\"unterminated,\"seq\":1}",
		"{\"a\":\"\\q\",\"seq\":1}",           /* bad escape */
		"{\"a\":\"\\u12\",\"seq\":1}",
		"{\"a\":\"tab\there\",\"seq\":1}",      /* raw control byte */
		"{\"a\":[1,],\"seq\":1}",
		"{\"a\":tru,\"seq\":1}",
		"{\"a\" \"b\",\"seq\":1}",
		"{\"seq\":18446744073709551616}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t seq;
		bool cp;
		if (scan(bad[i], &seq, &cp)) {
			fail_msg("scanner accepted bad leaf %zu: %s", i, bad[i]);
		}
	}
	/* Nesting deeper than the scanner allows. */
	char deep[200];
	size_t n = 0;
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
	for (int i = 0; i < 40; i++) {
		deep[n++] = '[';
	}
	for (int i = 0; i < 40; i++) {
		deep[n++] = ']';
	}
	snprintf(deep + n, sizeof(deep) - n, ",\"seq\":1}");
	uint64_t seq;
	bool cp;
	assert_false(scan(deep, &seq, &cp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_scan__agrees_with_jansson),
		cmocka_unit_test(test_audit_scan__reads_the_unit),
		cmocka_unit_test(test_audit_scan__reads_the_action),
		cmocka_unit_test(test_audit_scan__full_u64_range),
		cmocka_unit_test(test_audit_scan__gives_up_on_bad_leaves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
