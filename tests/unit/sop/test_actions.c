/* The action table's invariants, its JSON form, kinds and the text diff. */
#include "helpers/testutil.h"

#include "linesec/sop.h"
#include "sop/sop_int.h"

#include <jansson.h>
#include <string.h>

static void test_sop_actions__table_is_well_formed(void **state)
{
	(void)state;
	size_t n = lsec_sop_action_count();
	assert_true(n >= 28);
	for (size_t i = 0; i < n; i++) {
		const lsec_sop_action *a = lsec_sop_action_at(i);
		assert_ptr_equal(lsec_sop_action_find(a->id), a);
		assert_int_equal(lsec_sop_action_index(a), i);
		assert_true(strlen(a->summary) > 10 && strlen(a->verifies) > 10);
		assert_non_null(a->evidence[0]);
		assert_true(a->kinds != 0 && (a->kinds & ~LSEC_SOP_KIND_ALL) == 0);
		/* an irreversible action acts on a device or is a recorded manual act */
		if ((a->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0) {
			assert_true((a->flags & LSEC_SOP_ACTION_ADVISORY) == 0);
		}
		size_t np = 0;
		for (const lsec_sop_param *p = a->params; p->name != NULL; p++, np++) {
			assert_true(p->type != LSEC_SOP_PARAM_ENUM || p->allowed != NULL);
			assert_true(p->type != LSEC_SOP_PARAM_INT || p->min <= p->max);
			assert_true(p->required || p->deflt != NULL);
		}
		/*
		 * Every parameter is recorded in the evidence under its own name, with
		 * the roles that may perform the action (auditors never).
		 */
		for (const lsec_sop_param *p = a->params; p->name != NULL; p++) {
			bool recorded = false;
			for (size_t k = 0; a->evidence[k] != NULL; k++) {
				recorded |= strcmp(a->evidence[k], p->name) == 0;
			}
			if (!recorded) {
				fail_msg("%s: parameter '%s' is not among its evidence", a->id, p->name);
			}
		}
		assert_non_null(a->roles);
		assert_non_null(a->roles[0]);
		for (size_t k = 0; a->roles[k] != NULL; k++) {
			assert_true(strcmp(a->roles[k], "auditor") != 0);
		}
		/* a step holds at most SOP_MAX_STEP_PARAMS: no action may declare more */
		assert_true(np <= SOP_MAX_STEP_PARAMS);
	}
	assert_null(lsec_sop_action_at(n));
	assert_null(lsec_sop_action_find("device.nope"));
	assert_null(lsec_sop_action_find(NULL));
	/* the vocabulary the five procedures need */
	static const char *const needed[] = {
		"image.check", "device.flash", "device.verify-flash", "device.boot-attest",
		"device.keygen", "station.keygen", "ca.issue", "device.write-cert",
		"credential.generate", "device.write-credential", "device.prove-possession",
		"otp.burn-key-digest", "otp.burn-debug-auth-digest", "otp.enable-secure-boot", "otp.burn-counter", "otp.lock",
		"otp.verify", "secure-boot.negative-test", "debug.lock", "debug.verify-locked",
		"console.verify-closed", "device.erase", "device.blank-check", "identity.revoke",
		"credential.revoke", "scrap.record", "label.print", "confirm"};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (lsec_sop_action_find(needed[i]) == NULL) {
			fail_msg("action '%s' missing", needed[i]);
		}
	}
	assert_true((lsec_sop_action_find("otp.lock")->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0);
	assert_true((lsec_sop_action_find("device.flash")->flags & LSEC_SOP_ACTION_IRREVERSIBLE) == 0);
}

static void test_sop_actions__json_and_kinds(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *j = NULL;
	assert_lsec_ok(lsec_sop_actions_json(&j, &err), &err);
	assert_int_equal(json_array_size(j), lsec_sop_action_count());
	json_t *keygen = NULL;
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "id")), "device.keygen") == 0) {
			keygen = v;
		}
	}
	assert_non_null(keygen);
	json_t *type = json_array_get(json_object_get(keygen, "params"), 1);
	assert_string_equal(json_string_value(json_object_get(type, "name")), "type");
	assert_true(json_is_true(json_object_get(type, "required")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(keygen, "kinds"), 0)),
			    "provision");
	json_decref(j);

	lsec_sop_kind k;
	assert_lsec_ok(lsec_sop_kind_parse(&k, "secure-boot", &err), &err);
	assert_int_equal(k, LSEC_SOP_SECURE_BOOT);
	assert_lsec_code(lsec_sop_kind_parse(&k, "reboot", &err), LSEC_E_USAGE, &err);
	assert_null(lsec_sop_kind_name(LSEC_SOP_KIND_COUNT));
	assert_string_equal(lsec_sop_code_name(LSEC_E_SOP_POLICY), "policy");
	assert_null(lsec_sop_code_name(LSEC_E_IO));
}

static void test_sop_actions__diff(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(4096);
	const char *a = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
	const char *c = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n";
	assert_lsec_ok(lsec_sop_diff_text(&b, "v1", (const uint8_t *)a, strlen(a), "v2",
					  (const uint8_t *)c, strlen(c), &err),
		       &err);
	assert_string_equal(lsec_buf_cstr(&b, &err), "--- v1\n+++ v2\n"
						     "@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
						     " h\n i\n j\n+k\n");
	/* changes more than six lines apart make separate hunks */
	lsec_buf_reset(&b);
	const char *x = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
	const char *y = "0\n2\n3\n4\n5\n6\n7\n8\n9\n11\n";
	assert_lsec_ok(lsec_sop_diff_text(&b, "x", (const uint8_t *)x, strlen(x), "y",
					  (const uint8_t *)y, strlen(y), &err),
		       &err);
	assert_string_equal(lsec_buf_cstr(&b, &err), "--- x\n+++ y\n"
						     "@@ -1,4 +1,4 @@\n-1\n+0\n 2\n 3\n 4\n"
						     "@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+11\n");
	lsec_buf_reset(&b);
	assert_lsec_ok(lsec_sop_diff_text(&b, "v1", (const uint8_t *)a, strlen(a), "v1",
					  (const uint8_t *)a, strlen(a), &err),
		       &err);
	assert_int_equal(b.len, 0);
	lsec_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sop_actions__table_is_well_formed),
		cmocka_unit_test(test_sop_actions__json_and_kinds),
		cmocka_unit_test(test_sop_actions__diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
