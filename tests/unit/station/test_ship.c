/* The ship gate: only a unit with complete evidence ships; the refusal names what is missing. */
#include "station_fixture.h"

#include "store/store_int.h"

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
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", &err), LSEC_E_STATION_SHIP_GATE);
	assert_non_null(strstr(err.msg, "it is flashed"));
	/* SOPs out of order are refused too: secure boot before provisioning. */
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_SECURE_BOOT, u, NULL, &err),
			 LSEC_E_STATION_WRONG_STATE);
	assert_int_equal(lsec_station_ship(fx->st, "nobody", &err), LSEC_E_NOTFOUND);
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
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", &err), LSEC_E_STATION_SHIP_GATE);
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
	assert_int_equal(lsec_station_ship(st2, "unit-001", &err), LSEC_E_STATION_ROLE);
	lsec_station_close(st2);
	fx_ok(lsec_station_ship(fx->st, "unit-001", &err), &err);
	fx_log_verifies(fx);
	lsec_free(u);
}

static void test_station_ship__runs_rows_must_match_leaves(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_store *store = lsec_station_store(fx->st);
	int64_t run = 0;
	fx_ready(fx, 2);
	char *u1 = fx_unit(fx, 1), *u2 = fx_unit(fx, 2);
	run_all(fx, u1);
	/* unit-002 is flashed only; passed runs rows of the other SOPs and a locked state, by SQL. */
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u2, NULL, &err), &err);
	static const char *const rest[] = {"provision", "secure-boot", "debug-lock"};
	for (int k = 0; k < 3; k++) {
		fx_ok(lsec_store_run_begin(&run, store, "unit-002", rest[k], "1", "op", "st1", &err),
		      &err);
		fx_ok(lsec_store_run_finish(store, run, "passed", &err), &err);
	}
	fx_ok(lsec_store__query(store, "UPDATE units SET state = 'locked' WHERE serial = 'unit-002'",
				NULL, 0, NULL, NULL, &err),
	      &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-002", &err), LSEC_E_AUDIT_INDEX);
	assert_non_null(strstr(err.msg, "registry table runs holds run"));
	assert_non_null(strstr(err.msg, "of unit 'unit-002' (SOP 'provision', passed), but no "
					"run.start leaf backs it"));
	/* A genuine run's row marked failed differs from its leaves. */
	lsec_store_run *runs = NULL;
	size_t n = 0;
	fx_ok(lsec_store_run_list(&runs, &n, store, "unit-001", &err), &err);
	assert_true(n >= 4);
	fx_ok(lsec_store__query(store, "UPDATE runs SET outcome = 'failed' WHERE id = ?",
				(store_val[]){SV_I(runs[0].id)}, 1, NULL, NULL, &err),
	      &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", &err), LSEC_E_AUDIT_INDEX);
	assert_non_null(strstr(err.msg, "as 'failed', but the leaves of the run started by leaf"));
	assert_non_null(strstr(err.msg, "say it passed"));
	fx_ok(lsec_store__query(store, "UPDATE runs SET outcome = 'passed' WHERE id = ?",
				(store_val[]){SV_I(runs[0].id)}, 1, NULL, NULL, &err),
	      &err);
	fx_ok(lsec_station_ship(fx->st, "unit-001", &err), &err);
	lsec_free(runs);
	lsec_free(u1);
	lsec_free(u2);
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
		cmocka_unit_test_setup_teardown(test_station_ship__runs_rows_must_match_leaves,
						station_fx_setup, station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
