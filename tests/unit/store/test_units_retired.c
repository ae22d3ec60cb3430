/*
 * Retired identities: a unit's identities and credentials listed, its
 * credentials revoked, and no key, certificate, credential or UID of a
 * revoked or destroyed identity ever recorded again, from any station.
 * Both backends.
 */
#include "helpers/store_fixture.h"

#include <string.h>

/* A unit taken through revocation to scrap, as decommissioning does. */
static void retire(lsec_store *st, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_unit_transition(st, serial, LSEC_UNIT_QUARANTINED, 0, &err), &err);
	assert_lsec_ok(lsec_store_revocation_add(st, serial, "c1", "cessationOfOperation", "olga",
						 &err),
		       &err);
	assert_lsec_ok(lsec_store_identity_set_state(st, "fp1", LSEC_KEY_DEACTIVATED, &err), &err);
	assert_lsec_ok(lsec_store_identity_set_state(st, "fp1", LSEC_KEY_DESTROYED, &err), &err);
	assert_lsec_ok(lsec_store_credential_revoke(NULL, st, serial, &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(st, serial, LSEC_UNIT_DECOMMISSIONED, 0, &err),
		       &err);
}

static void test_store_units__identities_and_credentials_listed_and_revoked(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_identity *ids = NULL;
	lsec_store_credential *creds = NULL;
	size_t n = 99, revoked = 99;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "UID-1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_identity_list(&ids, &n, db->st, "SN1", &err), &err);
	assert_int_equal(n, 0);
	assert_null(ids);
	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "fp1", "c1", NULL, 0, LSEC_KEY_ACTIVE,
					       &err),
		       &err);
	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "fp2", NULL, NULL, 0,
					       LSEC_KEY_PRE_ACTIVATION, &err),
		       &err);
	assert_lsec_ok(lsec_store_credential_add(db->st, "SN1", "cf1", &err), &err);
	assert_lsec_ok(lsec_store_identity_list(&ids, &n, db->st, "SN1", &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0].key_fp, "fp1");
	assert_string_equal(ids[0].cert_serial, "c1");
	assert_int_equal(ids[0].state, LSEC_KEY_ACTIVE);
	assert_string_equal(ids[1].key_fp, "fp2");
	assert_string_equal(ids[1].cert_serial, "");
	assert_string_equal(ids[1].serial, "SN1");
	lsec_free(ids);

	assert_lsec_ok(lsec_store_credential_list(&creds, &n, db->st, "SN1", &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(creds[0].revoked, "");
	assert_int_equal(strlen(creds[0].created), 20);
	lsec_free(creds);
	assert_lsec_ok(lsec_store_credential_revoke(&revoked, db->st, "SN1", &err), &err);
	assert_int_equal(revoked, 1);
	assert_lsec_ok(lsec_store_credential_revoke(&revoked, db->st, "SN1", &err), &err);
	assert_int_equal(revoked, 0); /* already revoked: nothing more to do */
	assert_lsec_ok(lsec_store_credential_list(&creds, &n, db->st, "SN1", &err), &err);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(creds[0].revoked), 20);
	lsec_free(creds);

	assert_lsec_code(lsec_store_identity_list(&ids, &n, db->st, "SN404", &err), LSEC_E_NOTFOUND,
			 &err);
	assert_null(ids);
	assert_int_equal(n, 0);
	assert_lsec_code(lsec_store_credential_list(&creds, &n, db->st, "SN404", &err),
			 LSEC_E_NOTFOUND, &err);
	assert_lsec_code(lsec_store_credential_revoke(NULL, db->st, "SN404", &err), LSEC_E_NOTFOUND,
			 &err);
}

static void test_store_units__retired_identity_never_reused_across_stations(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *other = NULL; /* a second station on the same registry */
	assert_lsec_ok(lsec_store_open(&other, db->location, &err), &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "UID-1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "fp1", "c1", NULL, 0, LSEC_KEY_ACTIVE,
					       &err),
		       &err);
	assert_lsec_ok(lsec_store_credential_add(db->st, "SN1", "cf1", &err), &err);
	retire(db->st, "SN1");

	/* Another unit may never take the revoked key, certificate or credential. */
	assert_lsec_ok(lsec_store_unit_create(other, "SN2", "UID-2", "sensor", "st2", &err), &err);
	assert_lsec_code(lsec_store_identity_add(other, "SN2", "fp1", NULL, NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "'SN1'"));
	assert_lsec_code(lsec_store_identity_add(other, "SN2", "fp9", "c1", NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "certificate serial"));
	assert_lsec_code(lsec_store_credential_add(other, "SN2", "cf1", &err), LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "'SN1'"));
	/* The UID-bound identity: the chip cannot come back as a new unit. */
	assert_lsec_code(lsec_store_unit_create(other, "SN3", "UID-1", "sensor", "st2", &err),
			 LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "'SN1'"));
	/* Nor the retired unit receive a fresh identity or credential. */
	assert_lsec_code(lsec_store_identity_add(other, "SN1", "fp7", "c7", NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_non_null(strstr(err.msg, "decommissioned"));
	assert_lsec_code(lsec_store_credential_add(other, "SN1", "cf7", &err),
			 LSEC_E_STORE_TRANSITION, &err);
	/* A destroyed key never comes back to life. */
	assert_lsec_code(lsec_store_identity_set_state(other, "fp1", LSEC_KEY_ACTIVE, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_lsec_ok(lsec_store_scrap_add(other, "SN1", "shred", "olga", "sam", NULL, &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(other, "SN1", LSEC_UNIT_SCRAPPED, 0, &err), &err);
	assert_lsec_code(lsec_store_identity_add(db->st, "SN1", "fp8", NULL, NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_non_null(strstr(err.msg, "scrapped"));

	/* Nothing of the refused attempts was written. */
	lsec_store_identity *ids = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_identity_list(&ids, &n, db->st, "SN2", &err), &err);
	assert_int_equal(n, 0);
	assert_lsec_ok(lsec_store_identity_list(&ids, &n, db->st, "SN1", &err), &err);
	assert_int_equal(n, 1);
	lsec_free(ids);
	lsec_store_close(other);
}

static void test_store_units__rework_after_return_takes_a_new_identity(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "UID-1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "fp1", "c1", NULL, 0, LSEC_KEY_ACTIVE,
					       &err),
		       &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_QUARANTINED, 0, &err),
		       &err);
	assert_lsec_ok(lsec_store_identity_set_state(db->st, "fp1", LSEC_KEY_DEACTIVATED, &err),
		       &err);
	/* Quarantined (not retired): a new key and certificate are accepted, the old ones not. */
	assert_lsec_code(lsec_store_identity_add(db->st, "SN1", "fp1", "c2", NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS, &err);
	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "fp2", "c2", NULL, 0, LSEC_KEY_ACTIVE,
					       &err),
		       &err);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_units__identities_and_credentials_listed_and_revoked),
		T(test_store_units__retired_identity_never_reused_across_stations),
		T(test_store_units__rework_after_return_takes_a_new_identity),
	};
	return lsec_test_run_backends("store/units_retired", tests,
				      sizeof(tests) / sizeof(tests[0]));
}
