/* Units, lifecycle, identities and credentials, on both backends. */
#include "helpers/store_fixture.h"
#include "store/store_int.h"

#include <string.h>

static void test_store_units__create_get_list(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN2", "UID-2", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "UID-1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "GW1", "UID-9", "gateway", "st2", &err), &err);
	lsec_store_unit u;
	assert_lsec_ok(lsec_store_unit_get(&u, db->st, "SN1", &err), &err);
	assert_string_equal(u.uid, "UID-1");
	assert_string_equal(u.product, "sensor");
	assert_string_equal(u.station, "st1");
	assert_int_equal(u.state, LSEC_UNIT_NEW);
	assert_int_equal(strlen(u.created), 20);
	assert_lsec_ok(lsec_store_unit_get_by_uid(&u, db->st, "UID-9", &err), &err);
	assert_string_equal(u.serial, "GW1");
	assert_lsec_code(lsec_store_unit_get(&u, db->st, "SN404", &err), LSEC_E_NOTFOUND, &err);
	assert_non_null(strstr(err.msg, "'SN404'"));

	lsec_store_unit *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_unit_list(&list, &n, db->st, "sensor", &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].serial, "SN1");
	assert_string_equal(list[1].serial, "SN2");
	lsec_free(list);
	assert_lsec_ok(lsec_store_unit_list(&list, &n, db->st, NULL, &err), &err);
	assert_int_equal(n, 3);
	lsec_free(list);
	uint64_t count = 0;
	assert_lsec_ok(lsec_store_unit_count(&count, db->st, &err), &err);
	assert_int_equal(count, 3);

	/* Bad input: exact codes, nothing written. */
	assert_lsec_code(lsec_store_unit_create(db->st, "", "U", "p", "s", &err), LSEC_E_USAGE, &err);
	char longname[LSEC_STORE_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	/* a serial is an identifier (at most 64 bytes), never cut to fit */
	assert_lsec_code(lsec_store_unit_create(db->st, longname, "U", "p", "s", &err),
			 LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "is not an identifier"));
	assert_lsec_code(lsec_store_unit_create(db->st, "../x", "U", "p", "s", &err), LSEC_E_USAGE,
			 &err);
	assert_lsec_ok(lsec_store_unit_count(&count, db->st, &err), &err);
	assert_int_equal(count, 3);
}

static void test_store_units__duplicates_name_the_holder_across_stations(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	/* Two handles on one database: two stations. */
	lsec_store *other = NULL;
	assert_lsec_ok(lsec_store_open(&other, db->location, &err), &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "UID-1", "sensor", "st1", &err), &err);
	assert_lsec_code(lsec_store_unit_create(other, "SN1", "UID-X", "sensor", "st2", &err),
			 LSEC_E_EXISTS, &err);
	assert_string_equal(err.msg, "cannot register unit 'SN1': serial 'SN1' is already held by unit 'SN1'");
	assert_lsec_code(lsec_store_unit_create(other, "SN2", "UID-1", "sensor", "st2", &err),
			 LSEC_E_EXISTS, &err);
	assert_string_equal(err.msg, "cannot register unit 'SN2': UID 'UID-1' is already held by unit 'SN1'");
	assert_lsec_ok(lsec_store_unit_create(other, "SN2", "UID-2", "sensor", "st2", &err), &err);

	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "aa11", "c001", (const uint8_t *)"\x30\x00", 2,
					       LSEC_KEY_ACTIVE, &err),
		       &err);
	assert_lsec_code(lsec_store_identity_add(other, "SN2", "aa11", "c002", NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS, &err);
	assert_string_equal(err.msg, "cannot record identity of unit 'SN2': key fingerprint 'aa11' "
				     "is already held by unit 'SN1'");
	assert_lsec_code(lsec_store_identity_add(other, "SN2", "bb22", "c001", NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS, &err);
	assert_string_equal(err.msg, "cannot record identity of unit 'SN2': certificate serial "
				     "'c001' is already held by unit 'SN1'");
	assert_lsec_ok(lsec_store_credential_add(db->st, "SN1", "hmac-1", &err), &err);
	assert_lsec_code(lsec_store_credential_add(other, "SN2", "hmac-1", &err), LSEC_E_EXISTS,
			 &err);
	assert_string_equal(err.msg, "cannot record credential of unit 'SN2': credential "
				     "fingerprint 'hmac-1' is already held by unit 'SN1'");
	assert_lsec_code(lsec_store_credential_add(other, "SN404", "hmac-2", &err),
			 LSEC_E_NOTFOUND, &err);

	/* Inside a caller's transaction the duplicate leaves the transaction usable. */
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	assert_lsec_ok(lsec_store_tx_begin(&tx, other, &err), &err);
	assert_lsec_code(lsec_store_unit_create(other, "SN1", "UID-Y", "sensor", "st2", &err),
			 LSEC_E_EXISTS, &err);
	assert_lsec_ok(lsec_store_unit_create(other, "SN3", "UID-3", "sensor", "st2", &err), &err);
	assert_lsec_ok(lsec_store_tx_end(&tx, 0, &err), &err);
	lsec_store_unit u;
	assert_lsec_ok(lsec_store_unit_get(&u, db->st, "SN3", &err), &err);

	lsec_store_identity id;
	lsec_buf der = LSEC_BUF_INIT(64);
	assert_lsec_ok(lsec_store_identity_get(&id, &der, other, "aa11", &err), &err);
	assert_string_equal(id.serial, "SN1");
	assert_string_equal(id.cert_serial, "c001");
	assert_int_equal(id.state, LSEC_KEY_ACTIVE);
	assert_int_equal(der.len, 2);
	assert_memory_equal(der.data, "\x30\x00", 2);
	lsec_buf_release(&der);
	lsec_store_close(other);
}

static void test_store_units__lifecycle_enforced(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_unit u;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "U1", "sensor", "st1", &err), &err);
	/* Build SOPs in order only. */
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_PROVISIONED, 0, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_string_equal(err.msg, "cannot move unit 'SN1' from 'new' to 'provisioned': not a "
				     "step of the unit lifecycle");
	const lsec_unit_state build[] = {LSEC_UNIT_FLASHED, LSEC_UNIT_PROVISIONED,
					 LSEC_UNIT_SECURED, LSEC_UNIT_LOCKED};
	for (size_t i = 0; i < 4; i++) {
		assert_lsec_ok(lsec_store_unit_transition(db->st, "SN1", build[i], 0, &err), &err);
	}
	/* Shipping needs the ship gate. */
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_SHIPPED, 0, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_non_null(strstr(err.msg, "only the ship gate ships a unit"));
	assert_lsec_ok(lsec_store_unit_get(&u, db->st, "SN1", &err), &err);
	assert_int_equal(u.state, LSEC_UNIT_LOCKED);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_SHIPPED,
						  LSEC_STORE_SHIP_GATE, &err),
		       &err);
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_QUARANTINED, 0, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_RETURNED, 0, &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_DECOMMISSIONED, 0, &err),
		       &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN1", LSEC_UNIT_SCRAPPED, 0, &err), &err);
	/* Nothing leaves scrapped, whatever the flags. */
	for (int to = 0; to < LSEC_UNIT_STATE_COUNT; to++) {
		assert_lsec_code(lsec_store_unit_transition(db->st, "SN1", (lsec_unit_state)to,
							    LSEC_STORE_SHIP_GATE | LSEC_STORE_REWORK,
							    &err),
				 LSEC_E_STORE_TRANSITION, &err);
	}
	assert_non_null(strstr(err.msg, "a scrapped unit never changes state"));

	/* Quarantine and rework: back no further forward than the failed step. */
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN2", "U2", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_FLASHED, 0, &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_QUARANTINED, 0, &err),
		       &err);
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_FLASHED, 0, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_non_null(strstr(err.msg, "supervisor's approval"));
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_PROVISIONED,
						    LSEC_STORE_REWORK, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_FLASHED,
						  LSEC_STORE_REWORK, &err),
		       &err);
	assert_lsec_ok(lsec_store_unit_get(&u, db->st, "SN2", &err), &err);
	assert_int_equal(u.state, LSEC_UNIT_FLASHED);
	assert_int_equal(u.prev_state, LSEC_UNIT_QUARANTINED);
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN404", LSEC_UNIT_FLASHED, 0, &err),
			 LSEC_E_NOTFOUND, &err);

	/* A refused transition inside a caller's transaction changes nothing. */
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	assert_lsec_ok(lsec_store_tx_begin(&tx, db->st, &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_PROVISIONED, 0, &err),
		       &err);
	assert_lsec_code(lsec_store_unit_transition(db->st, "SN2", LSEC_UNIT_SHIPPED, 0, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_int_equal(lsec_store_tx_end(&tx, LSEC_E_STORE_TRANSITION, &err),
			 LSEC_E_STORE_TRANSITION);
	assert_lsec_ok(lsec_store_unit_get(&u, db->st, "SN2", &err), &err);
	assert_int_equal(u.state, LSEC_UNIT_FLASHED);
}

static void test_store_units__state_names(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	for (int s = 0; s < LSEC_UNIT_STATE_COUNT; s++) {
		lsec_unit_state back;
		assert_lsec_ok(lsec_unit_state_parse(&back, lsec_unit_state_name((lsec_unit_state)s),
						     &err),
			       &err);
		assert_int_equal(back, s);
	}
	lsec_unit_state x;
	assert_lsec_code(lsec_unit_state_parse(&x, "sold", &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "'sold'"));
	lsec_key_state k;
	assert_lsec_ok(lsec_key_state_parse(&k, "pre-activation", &err), &err);
	assert_int_equal(k, LSEC_KEY_PRE_ACTIVATION);
	assert_lsec_code(lsec_key_state_parse(&k, "revoked", &err), LSEC_E_USAGE, &err);
}

static void test_store_units__key_states_follow_sp800_57(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_identity id;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "U1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_identity_add(db->st, "SN1", "fp1", NULL, NULL, 0,
					       LSEC_KEY_PRE_ACTIVATION, &err),
		       &err);
	assert_lsec_code(lsec_store_identity_set_state(db->st, "fp1", LSEC_KEY_SUSPENDED, &err),
			 LSEC_E_STORE_TRANSITION, &err);
	assert_non_null(strstr(err.msg, "from 'pre-activation' to 'suspended'"));
	const lsec_key_state path[] = {LSEC_KEY_ACTIVE, LSEC_KEY_SUSPENDED, LSEC_KEY_ACTIVE,
				       LSEC_KEY_DEACTIVATED, LSEC_KEY_COMPROMISED,
				       LSEC_KEY_DESTROYED};
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		assert_lsec_ok(lsec_store_identity_set_state(db->st, "fp1", path[i], &err), &err);
	}
	assert_lsec_ok(lsec_store_identity_get(&id, NULL, db->st, "fp1", &err), &err);
	assert_int_equal(id.state, LSEC_KEY_DESTROYED);
	assert_string_equal(id.cert_serial, "");
	for (int to = 0; to < LSEC_KEY_STATE_COUNT; to++) {
		assert_lsec_code(lsec_store_identity_set_state(db->st, "fp1", (lsec_key_state)to,
							       &err),
				 LSEC_E_STORE_TRANSITION, &err);
	}
	assert_lsec_code(lsec_store_identity_set_state(db->st, "fp404", LSEC_KEY_ACTIVE, &err),
			 LSEC_E_NOTFOUND, &err);
	/* A destroyed key still holds its fingerprint: never reused. */
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN2", "U2", "sensor", "st1", &err), &err);
	assert_lsec_code(lsec_store_identity_add(db->st, "SN2", "fp1", NULL, NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS, &err);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_units__create_get_list),
		T(test_store_units__duplicates_name_the_holder_across_stations),
		T(test_store_units__lifecycle_enforced),
		cmocka_unit_test(test_store_units__state_names),
		T(test_store_units__key_states_follow_sp800_57),
	};
	return lsec_test_run_backends("store/units", tests, sizeof(tests) / sizeof(tests[0]));
}
