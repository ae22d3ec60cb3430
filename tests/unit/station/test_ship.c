/* The ship gate: only a unit with complete evidence ships; the refusal names what is missing. */
#include "station_fixture.h"

static void run_all(station_fx *fx, const char *u)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	for (int k = LSEC_SOP_FLASH; k <= LSEC_SOP_DEBUG_LOCK; k++) {
		fx_ok(lsec_station_run(&res, fx->st, (lsec_sop_kind)k, u, NULL, &err), &err);
	}
}

static void test_station_ship__refuses_unit_not_locked(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err), &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", u, &err), LSEC_E_STATION_SHIP_GATE);
	assert_non_null(strstr(err.msg, "it is flashed"));
	/* SOPs out of order are refused too: secure boot before provisioning. */
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_SECURE_BOOT, u, NULL, &err),
			 LSEC_E_STATION_WRONG_STATE);
	assert_int_equal(lsec_station_ship(fx->st, "nobody", u, &err), LSEC_E_NOTFOUND);
	lsec_free(u);
}

static void test_station_ship__refuses_revoked_release(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	run_all(fx, u);
	fx_ok(lsec_station_release_revoke(fx->st, "sensor@1.0.0", "sec1", &err), &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", u, &err), LSEC_E_STATION_SHIP_GATE);
	assert_non_null(strstr(err.msg, "release sensor@1.0.0"));
	lsec_store_unit unit;
	fx_ok(lsec_store_unit_get(&unit, lsec_station_store(fx->st), "unit-001", &err), &err);
	assert_int_equal(unit.state, LSEC_UNIT_LOCKED);
	lsec_free(u);
}

static void test_station_ship__needs_operator(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	run_all(fx, u);
	/* A supervisor at the station cannot ship in the operator's place. */
	lsec_station_config c = fx->cfg;
	lsec_station *st2 = NULL;
	c.operator_name = "sup";
	fx_ok(lsec_station_open(&st2, &c, &err), &err);
	assert_int_equal(lsec_station_ship(st2, "unit-001", u, &err), LSEC_E_STATION_ROLE);
	lsec_station_close(st2);
	fx_ok(lsec_station_ship(fx->st, "unit-001", u, &err), &err);
	fx_log_verifies(fx);
	lsec_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_unit_not_locked,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_revoked_release,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__needs_operator, station_fx_setup,
						station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
