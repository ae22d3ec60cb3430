/* Gang runs: sockets in parallel, each with its own registry handle; the summary. */
#include "station_fixture.h"

static void test_station_gang__summary(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 8;
	o.clone_src = 2;
	o.clone_dst = 7;
	o.faults = "boot_fail=5";
	o.fault_units = "5";
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *pat = lsec_asprintf("sim:%s/*", fx->fleet);
	char **uris = NULL;
	size_t n = 0;
	fx_ok(lsec_station_uris_expand(&uris, &n, pat, &err), &err);
	assert_int_equal(n, 8);
	json_t *sum = NULL;
	fx_ok(lsec_station_gang(&sum, &fx->cfg, (const char *const *)uris, n, 3, &err), &err);
	assert_int_equal(json_integer_value(json_object_get(sum, "units")), 8);
	/* unit-002 or its clone unit-007 ships (whichever came first), the other is refused. */
	assert_int_equal(json_integer_value(json_object_get(sum, "shipped")), 6);
	assert_int_equal(json_integer_value(json_object_get(sum, "quarantined")), 1);
	assert_int_equal(json_integer_value(json_object_get(sum, "refused")), 1);
	json_t *f = json_object_get(json_object_get(sum, "failures"), "flash");
	assert_int_equal(json_integer_value(json_object_get(f, "boot-attest")), 1);
	assert_false(json_is_true(json_object_get(sum, "stopped")));
	json_decref(sum);
	fx_log_verifies(fx);
	lsec_station_uris_free(uris, n);
	lsec_free(pat);
}

static void test_station_gang__quota_stops_every_socket(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 10;
	fx_fleet(fx, &o);
	fx_line(fx, false);
	char *img = lsec_test_path(fx->dir, "q.img");
	fx_sign_image(img, fx->fw_priv, "sensor", LSEC_IMAGE_BUILD_RELEASE, "3.0.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 3, "sec1", &err), &err);
	fx_ok(lsec_station_release_approve(fx->st, "sensor@3.0.0", "sec2", &err), &err);
	char *pat = lsec_asprintf("sim:%s/*", fx->fleet);
	char **uris = NULL;
	size_t n = 0;
	fx_ok(lsec_station_uris_expand(&uris, &n, pat, &err), &err);
	json_t *sum = NULL;
	fx_ok(lsec_station_gang(&sum, &fx->cfg, (const char *const *)uris, n, 2, &err), &err);
	/*
	 * The quota of 3 stops the line: exactly 3 shipped (two sockets checking
	 * at once must not both slip past it), and not every unit attempted.
	 */
	assert_true(json_is_true(json_object_get(sum, "stopped")));
	assert_int_equal(json_integer_value(json_object_get(sum, "shipped")), 3);
	assert_true(json_integer_value(json_object_get(sum, "attempted")) < 10);
	assert_non_null(strstr(json_string_value(json_object_get(sum, "stop-reason")), "quota"));
	json_decref(sum);
	lsec_station_uris_free(uris, n);
	lsec_free(pat);
	lsec_free(img);
}

static void test_station_gang__bad_patterns(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char **uris = NULL;
	size_t n = 0;
	assert_int_equal(lsec_station_uris_expand(&uris, &n, "rsp:host/*", &err), LSEC_E_USAGE);
	assert_int_equal(lsec_station_uris_expand(&uris, &n, "sim:/nonexistent-dir/*", &err),
			 LSEC_E_NOTFOUND);
	assert_null(uris);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_gang__summary, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_gang__quota_stops_every_socket,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test(test_station_gang__bad_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
