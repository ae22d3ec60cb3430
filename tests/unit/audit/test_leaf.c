/* Audit leaves: exact canonical bytes, refused events, secret screening. */
#include "helpers/testutil.h"

#include "audit/audit_int.h"

#include <jansson.h>
#include <string.h>

static void test_audit_leaf__golden_bytes(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *evd = json_pack("{s:s,s:{s:b,s:i}}", "readback_sha256", "00ff", "otp", "locked", 1,
				"bank", 2);
	lsec_audit_event ev = {"carol", "st-9", "SN-0001", "sop-3-secure-boot", 2, "burn-otp",
			       "fuse", "pass", evd};
	char *leaf = NULL;
	assert_lsec_ok(lsec_audit_leaf_build(&leaf, &ev, 42, "2026-11-25T04:05:38Z", &err), &err);
	assert_string_equal(leaf,
			    "{\"action\":\"fuse\",\"evidence\":{\"otp\":{\"bank\":2,\"locked\":true},"
			    "\"readback_sha256\":\"00ff\"},\"outcome\":\"pass\",\"person\":\"carol\","
			    "\"seq\":42,\"sop\":\"sop-3-secure-boot\",\"sop_version\":2,"
			    "\"station\":\"st-9\",\"step\":\"burn-otp\","
			    "\"time\":\"2026-11-25T04:05:38Z\",\"unit\":\"SN-0001\",\"v\":1}");
	lsec_free(leaf);
	/* Optional fields left out; the current time filled in. */
	lsec_audit_event min = {.person = "dave"};
	assert_lsec_ok(lsec_audit_leaf_build(&leaf, &min, 0, NULL, &err), &err);
	assert_true(strncmp(leaf, "{\"person\":\"dave\",\"seq\":0,\"time\":\"20", 34) == 0);
	assert_non_null(strstr(leaf, "Z\",\"v\":1}"));
	lsec_free(leaf);
	json_decref(evd);
}

static void test_audit_leaf__refusals(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *leaf = NULL;
	lsec_audit_event ev = {.person = NULL, .action = "flash"};
	assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), LSEC_E_AUDIT_NO_PERSON,
			 &err);
	assert_non_null(strstr(err.msg, "'flash'"));
	ev.person = "";
	assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), LSEC_E_AUDIT_NO_PERSON,
			 &err);
	ev.person = "p";
	json_t *arr = json_pack("[i]", 1);
	ev.evidence = arr;
	assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), LSEC_E_AUDIT_LEAF_FORMAT,
			 &err);
	json_decref(arr);
	json_t *real = json_pack("{s:f}", "voltage", 3.3);
	ev.evidence = real;
	assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), LSEC_E_USAGE, &err);
	json_decref(real);
	ev.evidence = NULL;
	ev.unit = "SN-\xff";
	assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), LSEC_E_AUDIT_LEAF_FORMAT,
			 &err);
	assert_null(leaf);
}

static void test_audit_leaf__secrets_refused(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const char *bad_keys[] = {"password", "Initial_Password", "wifi_passphrase", "client_secret",
				  "private_key", "device-privkey", "pin", "admin_pin", "psk",
				  "SECRET"};
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		/* At the top and nested inside an array of objects. */
		json_t *top = json_pack("{s:s}", bad_keys[i], "x");
		json_t *deep = json_pack("{s:[{s:s}]}", "steps", bad_keys[i], "x");
		lsec_audit_event ev = {.person = "p", .evidence = top};
		char *leaf = NULL;
		assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err),
				 LSEC_E_AUDIT_SECRET, &err);
		ev.evidence = deep;
		assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err),
				 LSEC_E_AUDIT_SECRET, &err);
		json_decref(top);
		json_decref(deep);
	}
	/* Public values with look-alike names are fine. */
	const char *ok_keys[] = {"pinned_version", "spin_count", "key_fingerprint",
				 "credential_fingerprint", "public_key_sha256"};
	for (size_t i = 0; i < sizeof(ok_keys) / sizeof(ok_keys[0]); i++) {
		json_t *j = json_pack("{s:s}", ok_keys[i], "ab");
		lsec_audit_event ev = {.person = "p", .evidence = j};
		char *leaf = NULL;
		assert_lsec_ok(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), &err);
		lsec_free(leaf);
		json_decref(j);
	}
	/* A PEM private key as a value, whatever the key's name. */
	json_t *pem = json_pack("{s:s}", "blob", "-----BEGIN PRIVATE KEY-----\nMC4C...");
	lsec_audit_event ev = {.person = "p", .evidence = pem};
	char *leaf = NULL;
	assert_lsec_code(lsec_audit_leaf_build(&leaf, &ev, 0, NULL, &err), LSEC_E_AUDIT_SECRET,
			 &err);
	assert_null(strstr(err.msg, "MC4C"));
	json_decref(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_leaf__golden_bytes),
		cmocka_unit_test(test_audit_leaf__refusals),
		cmocka_unit_test(test_audit_leaf__secrets_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
