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

/*
 * The unit's sim files (state and flash) copied to or from a snapshot:
 * putting an earlier snapshot back is a chip swapped for the same unit as
 * it was before a SOP, its records unchanged.
 */
static void sim_copy(station_fx *fx, unsigned unit, bool save)
{
	lsec_err err = LSEC_ERR_INIT;
	const char *ext[] = {"sim", "sim.flash"};
	for (size_t i = 0; i < 2; i++) {
		char *live = lsec_asprintf("%s/unit-%03u.%s", fx->fleet, unit, ext[i]);
		char *snap = lsec_asprintf("%s/snapshot.%s", fx->dir, ext[i]);
		lsec_buf b = LSEC_BUF_INIT(1u << 24);
		fx_ok(lsec_file_read(&b, save ? live : snap, &err), &err);
		fx_ok(lsec_file_write_atomic(save ? snap : live, b.data, b.len, 0600, &err), &err);
		lsec_buf_release(&b);
		lsec_free(live);
		lsec_free(snap);
	}
}

/* The gate refuses unit-001 naming the device check; the unit stays locked. */
static void refused_by_device(station_fx *fx, const char *uri, const char *check,
			      const char *detail)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_unit unit;
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", uri, &err), LSEC_E_STATION_SHIP_GATE);
	if (strstr(err.msg, check) == NULL || strstr(err.msg, detail) == NULL) {
		fail_msg("expected '%s' and '%s' in: %s", check, detail, err.msg);
	}
	fx_ok(lsec_store_unit_get(&unit, lsec_station_store(fx->st), "unit-001", &err), &err);
	assert_int_equal(unit.state, LSEC_UNIT_LOCKED);
}

static void test_station_ship__device_evidence_in_leaf(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_unit_record *rec = NULL;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	run_all(fx, u);
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", NULL, &err), LSEC_E_USAGE);
	fx_ok(lsec_station_ship(fx->st, "unit-001", u, &err), &err);
	fx_ok(lsec_station_unit_show(&rec, fx->st, "unit-001", &err), &err);
	const char *leaf = rec->events[rec->nevents - 1].leaf;
	assert_string_equal(rec->events[rec->nevents - 1].action, "ship-gate");
	/* What the device said, check by check. */
	const char *want[] = {"\"uid\":", "\"challenge-sha256\":", "\"signature\":\"verified\"",
			      "\"cert-serial\":", "\"SECURE_BOOT_EN\":{\"locked\":true,\"value\":1}",
			      "\"debug-attach\":\"refused\"", "\"console-open\":false",
			      "\"attested-sha256\":"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(leaf, want[i]) == NULL) {
			fail_msg("'%s' not in the ship-gate leaf: %s", want[i], leaf);
		}
	}
	lsec_station_unit_record_free(rec);
	lsec_free(u);
}

static void test_station_ship__refuses_fuses_not_locked(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device *t = NULL;
	lsec_device_fuse_value dig, dbg;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err), &err);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_PROVISION, u, NULL, &err), &err);
	sim_copy(fx, 1, true);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_SECURE_BOOT, u, NULL, &err), &err);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err), &err);
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_fuse_read(&dig, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	fx_ok(lsec_device_fuse_read(&dbg, t, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, &err), &err);
	lsec_device_close(t);
	t = NULL;
	/* The chip as provisioned, then secure boot enabled by hand without the write lock. */
	sim_copy(fx, 1, false);
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	/* Without the debug-auth digest the secure-boot leaf recorded: refused, named. */
	fx_ok(lsec_device_fuse_burn_digest(t, dig.bytes, &err), &err);
	fx_ok(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
	lsec_device_close(t);
	refused_by_device(fx, u, "device check 'secure-boot fuses' failed",
			  "the device holds debug-auth key digest 0000");
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_fuse_burn_key_digest(t, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, dbg.bytes, &err),
	      &err);
	fx_ok(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
	lsec_device_close(t);
	refused_by_device(fx, u, "device check 'secure-boot fuses' failed",
			  "the device reads OTP_LOCK 0, key digest words writable");
	lsec_free(u);
}

static void test_station_ship__refuses_debug_attach_allowed(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	for (int k = LSEC_SOP_FLASH; k <= LSEC_SOP_SECURE_BOOT; k++) {
		fx_ok(lsec_station_run(&res, fx->st, (lsec_sop_kind)k, u, NULL, &err), &err);
	}
	sim_copy(fx, 1, true);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err), &err);
	sim_copy(fx, 1, false);
	refused_by_device(fx, u, "device check 'debug lock' failed",
			  "a debug attach was accepted (lock level 0)");
	lsec_free(u);
}

static void test_station_ship__refuses_wrong_key(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	lsec_device *t = NULL;
	o.count = 2;
	o.clone_src = 1;
	o.clone_dst = 2;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *u = fx_unit(fx, 1), *clone = fx_unit(fx, 2);
	run_all(fx, u);
	/* The clone: unit-001's UID, no key in its slot. */
	refused_by_device(fx, clone, "device check 'possession' failed",
			  "signed with key slot 0 does not verify under certificate");
	/* The clone with a key of its own in the slot: not the certified one. */
	fx_ok(lsec_device_open(&t, clone, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_key_generate(t, 0, &err), &err);
	lsec_device_close(t);
	refused_by_device(fx, clone, "device check 'possession' failed",
			  "does not prove possession of its issued key");
	/* The genuine unit ships. */
	fx_ok(lsec_station_ship(fx->st, "unit-001", u, &err), &err);
	lsec_free(clone);
	lsec_free(u);
}

/*
 * SOPs 1-3 on unit-001, then an image signed with the product key (build b,
 * version ver), never approved, written over the debug port before the lock.
 * Returns the unit's URI (lsec_free).
 */
static char *written_before_lock(station_fx *fx, lsec_image_build b, const char *ver)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device *t = NULL;
	lsec_buf img = LSEC_BUF_INIT(1u << 20);
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1), *path = lsec_test_path(fx->dir, "other.img");
	for (int k = LSEC_SOP_FLASH; k <= LSEC_SOP_SECURE_BOOT; k++) {
		fx_ok(lsec_station_run(&res, fx->st, (lsec_sop_kind)k, u, NULL, &err), &err);
	}
	fx_sign_image(path, fx->fw_priv, "sensor", b, ver, 1);
	fx_ok(lsec_file_read(&img, path, &err), &err);
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_flash_program(t, 0, img.data, img.len, &err), &err);
	lsec_device_close(t);
	lsec_buf_release(&img);
	lsec_free(path);
	return u;
}

static void test_station_ship__refuses_attested_digest_differs(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	char *u = written_before_lock(fx, LSEC_IMAGE_BUILD_RELEASE, "1.0.1");
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err), &err);
	refused_by_device(fx, u, "device check 'boot attestation' failed",
			  "the log's boot attestation of the approved release records");
	lsec_free(u);
}

/*
 * A debug build written over the debug port before the lock: the gate names
 * the build type the unit attests, locked or not.
 */
static void test_station_ship__refuses_attested_debug_build(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	char *u = written_before_lock(fx, LSEC_IMAGE_BUILD_DEBUG, "1.0.0");
	/* Not locked yet: the build type is named before the missing SOP. */
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", u, &err), LSEC_E_STATION_SHIP_GATE);
	if (strstr(err.msg, "device check 'boot attestation' failed") == NULL ||
	    strstr(err.msg, "attests a debug build (build=debug") == NULL) {
		fail_msg("expected the debug build named in: %s", err.msg);
	}
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err), &err);
	refused_by_device(fx, u, "device check 'boot attestation' failed",
			  "attests a debug build (build=debug");
	lsec_free(u);
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
	/* Nor once the registry says, by SQL alone, that she is an operator. */
	lsec_store *store = lsec_station_store(fx->st);
	fx_ok(lsec_store__query(store, "UPDATE people SET role = 'operator' WHERE name = 'sup'", NULL,
				0, NULL, NULL, &err),
	      &err);
	assert_int_equal(lsec_station_ship(st2, "unit-001", u, &err), LSEC_E_AUDIT_INDEX);
	assert_non_null(strstr(err.msg, "registry table people holds person 'sup' with role "
					"operator, but leaf"));
	fx_ok(lsec_store__query(store, "UPDATE people SET role = 'supervisor' WHERE name = 'sup'",
				NULL, 0, NULL, NULL, &err),
	      &err);
	lsec_station_close(st2);
	fx_ok(lsec_station_ship(fx->st, "unit-001", u, &err), &err);
	fx_log_verifies(fx);
	lsec_free(u);
}

static void test_station_ship__runs_rows_must_match_leaves(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *store = lsec_station_store(fx->st);
	int64_t run = 0;
	fx_ready(fx, 1);
	char *u1 = fx_unit(fx, 1);
	run_all(fx, u1);
	/* A passed run row of unit-001, inserted by SQL, that no leaf backs. */
	fx_ok(lsec_store_run_begin(&run, store, "unit-001", "provision", "1", "op", "st1", &err),
	      &err);
	fx_ok(lsec_store_run_finish(store, run, "passed", &err), &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", u1, &err), LSEC_E_AUDIT_INDEX);
	assert_non_null(strstr(err.msg, "registry table runs holds run"));
	assert_non_null(strstr(err.msg, "of unit 'unit-001' (SOP 'provision', passed), but no "
					"run.start leaf backs it"));
	fx_ok(lsec_store__query(store, "DELETE FROM runs WHERE id = ?", (store_val[]){SV_I(run)}, 1,
				NULL, NULL, &err),
	      &err);
	/* A genuine run's row marked failed differs from its leaves. */
	lsec_store_run *runs = NULL;
	size_t n = 0;
	fx_ok(lsec_store_run_list(&runs, &n, store, "unit-001", &err), &err);
	assert_true(n >= 4);
	fx_ok(lsec_store__query(store, "UPDATE runs SET outcome = 'failed' WHERE id = ?",
				(store_val[]){SV_I(runs[0].id)}, 1, NULL, NULL, &err),
	      &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", u1, &err), LSEC_E_AUDIT_INDEX);
	assert_non_null(strstr(err.msg, "as 'failed', but the leaves of the run started by leaf"));
	assert_non_null(strstr(err.msg, "say it passed"));
	fx_ok(lsec_store__query(store, "UPDATE runs SET outcome = 'passed' WHERE id = ?",
				(store_val[]){SV_I(runs[0].id)}, 1, NULL, NULL, &err),
	      &err);
	fx_ok(lsec_station_ship(fx->st, "unit-001", u1, &err), &err);
	lsec_free(runs);
	lsec_free(u1);
}

/*
 * The gate proves a unit from the kept subtree hashes: one edited by SQL
 * makes the proof miss the signed root, so the unit does not ship; with
 * the hashes gone the proof streams the log and the unit ships.
 */
static void test_station_ship__tampered_tree_node_refuses(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *store = lsec_station_store(fx->st);
	lsec_store_unit unit;
	fx_ready(fx, 2);
	char *u1 = fx_unit(fx, 1), *u2 = fx_unit(fx, 2);
	run_all(fx, u1);
	run_all(fx, u2);
	fx_ok(lsec_station_ship(fx->st, "unit-001", u1, &err), &err);
	fx_ok(lsec_store__query(store,
				"UPDATE audit_nodes SET hash = (SELECT root_hash FROM checkpoints"
				" ORDER BY id LIMIT 1)",
				NULL, 0, NULL, NULL, &err),
	      &err);
	assert_int_equal(lsec_station_ship(fx->st, "unit-002", u2, &err), LSEC_E_STATION_SHIP_GATE);
	assert_non_null(strstr(err.msg, "not proven in a verifying log"));
	fx_ok(lsec_store_unit_get(&unit, store, "unit-002", &err), &err);
	assert_int_equal(unit.state, LSEC_UNIT_LOCKED);
	fx_ok(lsec_store__query(store, "DELETE FROM audit_nodes", NULL, 0, NULL, NULL, &err), &err);
	fx_ok(lsec_station_ship(fx->st, "unit-002", u2, &err), &err);
	lsec_free(u1);
	lsec_free(u2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_unit_not_locked,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_attested_debug_build,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_revoked_release,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__needs_operator, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__runs_rows_must_match_leaves,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__tampered_tree_node_refuses,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__device_evidence_in_leaf, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_fuses_not_locked, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_debug_attach_allowed, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_wrong_key, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_ship__refuses_attested_digest_differs, station_fx_setup,
						station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
