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
	lsec_station_gang_summary *sum = NULL;
	fx_ok(lsec_station_gang(&sum, &fx->cfg, (const char *const *)uris, n, 3, &err), &err);
	assert_int_equal(sum->units, 8);
	assert_int_equal(sum->attempted, 8);
	/* unit-002 or its clone unit-007 ships (whichever came first), the other is refused. */
	assert_int_equal(sum->shipped, 6);
	assert_int_equal(sum->quarantined, 1);
	assert_int_equal(sum->refused, 1);
	assert_int_equal(sum->yield_permille, 750);
	assert_int_equal(sum->nfailures, 2);
	size_t refused = 0, quarantined = 0;
	for (size_t i = 0; i < sum->nfailures; i++) {
		const lsec_station_gang_failure *f = &sum->failures[i];
		assert_int_equal(f->count, 1);
		if (strcmp(f->sop, "refused") == 0) {
			assert_string_equal(f->step, "cloned-uid");
			refused++;
		} else {
			assert_string_equal(f->sop, "flash");
			assert_string_equal(f->step, "boot-attest");
			quarantined++;
		}
	}
	assert_int_equal(refused, 1);
	assert_int_equal(quarantined, 1);
	assert_false(sum->stopped);
	/* The JSON rendering carries the same counts under its documented keys. */
	json_t *j = NULL;
	fx_ok(lsec_station_gang_summary_json(&j, sum, &err), &err);
	assert_int_equal(json_integer_value(json_object_get(j, "shipped")), 6);
	assert_int_equal(json_integer_value(json_object_get(j, "yield-permille")), 750);
	json_t *f = json_object_get(json_object_get(j, "failures"), "flash");
	assert_int_equal(json_integer_value(json_object_get(f, "boot-attest")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "results")), 8);
	assert_false(json_is_true(json_object_get(j, "stopped")));
	assert_null(json_object_get(j, "stop-reason"));
	assert_int_equal(json_integer_value(json_object_get(j, "already-shipped")), 0);
	json_decref(j);
	lsec_station_gang_summary_free(sum);
	/* A re-run: the six shipped units are already shipped, neither refused nor in the yield. */
	sum = NULL;
	fx_ok(lsec_station_gang(&sum, &fx->cfg, (const char *const *)uris, n, 3, &err), &err);
	assert_int_equal(sum->attempted, 8);
	assert_int_equal(sum->already_shipped, 6);
	assert_int_equal(sum->shipped, 0);
	assert_int_equal(sum->refused + sum->quarantined, 2);
	assert_int_equal(sum->yield_permille, 0);
	lsec_station_gang_summary_free(sum);
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
	lsec_station_gang_summary *sum = NULL;
	fx_ok(lsec_station_gang(&sum, &fx->cfg, (const char *const *)uris, n, 2, &err), &err);
	/*
	 * The quota of 3 stops the line: exactly 3 shipped (two sockets checking
	 * at once must not both slip past it), and not every unit attempted.
	 */
	assert_true(sum->stopped);
	assert_int_equal(sum->shipped, 3);
	assert_true(sum->attempted < 10);
	assert_non_null(strstr(sum->stop_reason, "quota"));
	json_t *j = NULL;
	fx_ok(lsec_station_gang_summary_json(&j, sum, &err), &err);
	assert_non_null(strstr(json_string_value(json_object_get(j, "stop-reason")), "quota"));
	json_decref(j);
	lsec_station_gang_summary_free(sum);
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
