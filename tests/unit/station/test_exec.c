/* The SOP executor: build, clone and identity refusals, quarantine with the SOP's words. */
#include "station_fixture.h"
#include "station/station_int.h"

static void test_station_exec__build_ships_one_unit(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	fx_ok(lsec_station_build(&res, fx->st, u, NULL, &err), &err);
	assert_true(res.shipped);
	assert_string_equal(res.serial, "unit-001");
	lsec_store_unit unit;
	fx_ok(lsec_store_unit_get(&unit, lsec_station_store(fx->st), "unit-001", &err), &err);
	assert_int_equal(unit.state, LSEC_UNIT_SHIPPED);
	/* The device really is secured and locked. */
	lsec_device *t = NULL;
	lsec_device_fuse_value v;
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_ENABLE, &err), &err);
	assert_int_equal(v.value, 1);
	fx_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_DEBUG_LOCK, &err), &err);
	assert_true(v.value >= 1);
	lsec_device_close(t);
	/* The history record has every step and a proof. */
	lsec_station_unit_record *rec = NULL;
	fx_ok(lsec_station_unit_show(&rec, fx->st, "unit-001", &err), &err);
	assert_int_equal(rec->nruns, 4);
	assert_int_equal(rec->unit.state, LSEC_UNIT_SHIPPED);
	assert_true(rec->nevents > 40);
	assert_non_null(rec->proof);
	assert_true(rec->proof_leaves > 0 && rec->proof_leaves <= rec->nevents);
	assert_true(rec->proof_tree_size >= rec->proof_leaves);
	/* Every SOP parameter of a passed step is recorded in its evidence, as the SOP set it. */
	size_t checked = 0;
	for (size_t i = 0; i < rec->nevents; i++) {
		const lsec_station_unit_event *e = &rec->events[i];
		const lsec_sop_action *a = lsec_sop_action_find(e->action);
		if (a == NULL || strcmp(e->outcome, "passed") != 0) {
			continue;
		}
		for (const lsec_sop_param *p = a->params; p->name != NULL; p++) {
			char *key = lsec_asprintf("\"%s\":", p->name);
			if (strstr(e->leaf, key) == NULL) {
				fail_msg("step '%s' (%s) does not record parameter '%s': %s", e->step,
					 e->action, p->name, e->leaf);
			}
			lsec_free(key);
			checked++;
		}
	}
	assert_true(checked >= 12);
	/* The JSON rendering holds the same record. */
	json_t *j = NULL;
	fx_ok(lsec_station_unit_record_json(&j, rec, &err), &err);
	assert_int_equal(json_array_size(json_object_get(j, "runs")), 4);
	assert_true(json_is_object(json_object_get(j, "proof")));
	assert_int_equal(json_array_size(json_object_get(j, "events")), rec->nevents);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "unit"), "serial")),
			    "unit-001");
	json_decref(j);
	lsec_station_unit_record_free(rec);
	fx_log_verifies(fx);
	/* Shipping twice is refused: the unit is no longer locked. */
	assert_int_equal(lsec_station_ship(fx->st, "unit-001", u, &err), LSEC_E_STATION_SHIP_GATE);
	lsec_free(u);
}

static void test_station_exec__clone_stopped_before_write(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	o.clone_src = 1;
	o.clone_dst = 2;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *u1 = fx_unit(fx, 1), *u2 = fx_unit(fx, 2);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u1, NULL, &err), &err);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u2, NULL, &err),
			 LSEC_E_STATION_CLONE);
	assert_non_null(strstr(err.msg, "unit-001"));
	/* Nothing was written: the clone's flash is still erased and it is not registered. */
	lsec_device *t = NULL;
	uint8_t page[64];
	fx_ok(lsec_device_open(&t, u2, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_flash_read(page, t, 0, sizeof(page), &err), &err);
	for (size_t i = 0; i < sizeof(page); i++) {
		assert_int_equal(page[i], 0xff);
	}
	lsec_device_close(t);
	lsec_store_unit unit;
	assert_int_equal(lsec_store_unit_get(&unit, lsec_station_store(fx->st), "unit-002", &err),
			 LSEC_E_NOTFOUND);
	lsec_free(u1);
	lsec_free(u2);
}

static void test_station_exec__unit_with_identity_stopped(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	/* A "new" unit that already carries a key (a used or tampered board). */
	lsec_device *t = NULL;
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_key_generate(t, 0, &err), &err);
	lsec_device_close(t);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err),
			 LSEC_E_STATION_HAS_IDENTITY);
	lsec_free(u);
}

static void test_station_exec__quarantine_with_sop_message(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	char *u = fx_quarantined_unit(fx, &res);
	assert_true(res.failed);
	assert_int_equal(res.state, LSEC_UNIT_QUARANTINED);
	assert_string_equal(res.sop, "flash");
	assert_string_equal(res.step, "boot-attest");
	assert_string_equal(res.then, "quarantine");
	assert_non_null(strstr(res.message, "did not boot the approved image"));
	lsec_store_unit unit;
	fx_ok(lsec_store_unit_get(&unit, lsec_station_store(fx->st), "unit-001", &err), &err);
	assert_int_equal(unit.state, LSEC_UNIT_QUARANTINED);
	/* A quarantined unit is not run again without a supervisor's rework. */
	assert_int_equal(lsec_station_build(&res, fx->st, u, NULL, &err),
			 LSEC_E_STATION_WRONG_STATE);
	fx_log_verifies(fx);
	lsec_free(u);
}

/* A terminal confirmation: answers what ctx says and remembers who was asked. */
static int confirm_cb(void *ctx, const char *person, const char *role, const char *text, bool *ok,
		      lsec_err *err)
{
	(void)err;
	assert_string_equal(person, "op");
	assert_string_equal(role, "operator");
	assert_non_null(strstr(text, "unit-001"));
	*ok = *(bool *)ctx;
	return 0;
}

static void test_station_exec__manual_steps_confirmed(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 2);
	char *u1 = fx_unit(fx, 1);
	lsec_station_config c = fx->cfg;
	lsec_station *st = NULL;
	bool answer = false;
	/* Neither batch mode nor a terminal: refused before the unit is touched. */
	c.batch = false;
	c.confirm = NULL;
	fx_ok(lsec_station_open(&st, &c, &err), &err);
	assert_int_equal(lsec_station_run(&res, st, LSEC_SOP_FLASH, u1, NULL, &err),
			 LSEC_E_STATION_NOT_CONFIRMED);
	lsec_store_unit unit;
	assert_int_equal(lsec_store_unit_get(&unit, lsec_station_store(st), "unit-001", &err),
			 LSEC_E_NOTFOUND);
	lsec_station_close(st);
	/* The operator says no at the seat step: the SOP's on-failure applies. */
	c.confirm = confirm_cb;
	c.confirm_ctx = &answer;
	fx_ok(lsec_station_open(&st, &c, &err), &err);
	assert_int_equal(lsec_station_run(&res, st, LSEC_SOP_FLASH, u1, NULL, &err),
			 LSEC_E_STATION_STEP);
	assert_string_equal(res.step, "seat");
	assert_non_null(strstr(res.message, "red quarantine tray"));
	lsec_station_close(st);
	lsec_free(u1);
}

/*
 * At the seat step (the operator's role already checked in this run): two
 * officers disable the operator (the person-disable leaf; the row follows)
 * and an SQL insider writes the row back to its old bytes. Then confirms.
 */
static int disable_then_restore_row(void *ctx, const char *person, const char *role,
				    const char *text, bool *ok, lsec_err *err)
{
	station_fx *fx = ctx;
	(void)person;
	(void)role;
	(void)text;
	(void)err;
	/* The row as the insider restores it is the row before: only the leaf remains. */
	fx_person_leaf(lsec_station_store(fx->st), "person-disable", "op", LSEC_ROLE_OPERATOR,
		       "yes");
	*ok = true;
	return 0;
}

static void test_station_exec__disabled_mid_run_row_restored(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	char *u1 = fx_unit(fx, 1);
	lsec_station_config c = fx->cfg;
	lsec_station *st = NULL;
	c.batch = false;
	c.confirm = disable_then_restore_row;
	c.confirm_ctx = fx;
	fx_ok(lsec_station_open(&st, &c, &err), &err);
	/* The step after seat is refused: the run does not go on as a disabled person. */
	assert_int_not_equal(lsec_station_run(&res, st, LSEC_SOP_FLASH, u1, NULL, &err), 0);
	assert_true(res.failed);
	assert_non_null(strstr(err.msg, "cannot do step 'identify'"));
	assert_non_null(strstr(err.msg, "op"));
	lsec_store_unit unit;
	fx_ok(lsec_store_unit_get(&unit, lsec_station_store(st), "unit-001", &err), &err);
	assert_int_not_equal(unit.state, LSEC_UNIT_FLASHED);
	lsec_station_close(st);
	lsec_free(u1);
}

/* The debug-lock SOP with a supervisor's witness on the irreversible lock itself (version 2). */
static void approve_witnessed_lock(station_fx *fx)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_station_store(fx->st);
	lsec_actor sup = {"sup", "st1"}, s1 = {"sec1", "st1"}, s2 = {"sec2", "st1"};
	lsec_buf text = LSEC_BUF_INIT(1 << 14);
	lsec_sop *sop = NULL;
	for (size_t i = 0; i < lsec_station_default_sop_count(); i++) {
		const char *name = NULL;
		const uint8_t *data = NULL;
		size_t len = 0;
		assert_true(lsec_station_default_sop(i, &name, &data, &len));
		if (strstr(name, "debug-lock") == NULL) {
			continue;
		}
		char *t = lsec_asprintf("%.*s", (int)len, (const char *)data);
		char *v = strstr(t, "\nversion: 1\n"), *lock = strstr(t, "do: debug.lock\n");
		assert_non_null(v);
		assert_non_null(lock);
		char *who = strstr(lock, "    who: operator\n");
		assert_non_null(who);
		who += strlen("    who: operator\n");
		v[10] = '2';
		fx_ok(lsec_buf_append(&text, t, (size_t)(who - t), &err), &err);
		fx_ok(lsec_buf_append(&text, "    witness: supervisor\n", 24, &err), &err);
		fx_ok(lsec_buf_append(&text, who, strlen(who), &err), &err);
		lsec_free(t);
		fx_ok(lsec_sop_submit(&sop, st, &sup, LSEC_ROLE_SUPERVISOR, text.data, text.len, name,
				      &err),
		      &err);
	}
	assert_non_null(sop);
	assert_int_equal(lsec_sop_version(sop), 2);
	fx_ok(lsec_sop_approve(st, &s1, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), 2, &err),
	      &err);
	fx_ok(lsec_sop_approve(st, &s2, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), 2, &err),
	      &err);
	fx_ack(st, lsec_sop_name(sop), 2);
	lsec_sop_free(sop);
	lsec_buf_release(&text);
}

static uint64_t lock_fuse(const char *uri)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	lsec_device_fuse_value v;
	fx_ok(lsec_device_open(&t, uri, &err), &err);
	fx_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_DEBUG_LOCK, &err), &err);
	lsec_device_close(t);
	return v.value;
}

/*
 * A witness is a signature at the moment: a run whose witness is missing is
 * refused before its first step; on an irreversible step the witness signs
 * before it, and a refused signature leaves it undone.
 */
static void test_station_exec__witness_signs_before_the_irreversible(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	char *u = fx_unit(fx, 1);
	for (int k = LSEC_SOP_FLASH; k < LSEC_SOP_DEBUG_LOCK; k++) {
		fx_ok(lsec_station_run(&res, fx->st, (lsec_sop_kind)k, u, NULL, &err), &err);
	}
	approve_witnessed_lock(fx);
	/* No witness logged in: refused before the first step, nothing done. */
	fx->cfg.witness_name = NULL;
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err),
			 LSEC_E_STATION_ROLE);
	assert_non_null(strstr(err.msg, "nothing was done to the unit"));
	assert_int_equal(res.steps_run, 0);
	/* Nothing can ask for the witness's signature: refused the same way. */
	fx->cfg.witness_name = "sup";
	fx->cfg.witness_sign = NULL;
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err),
			 LSEC_E_AUTH);
	assert_int_equal(res.steps_run, 0);
	assert_int_equal(lock_fuse(u), 0);
	/* The witness is there but refuses to sign: the lock step fails before the lock. */
	fx->cfg.witness_sign = fx_witness_sign;
	fx->witness_refuses = true;
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_DEBUG_LOCK, u, NULL, &err),
			 LSEC_E_STATION_STEP);
	assert_string_equal(res.step, "lock-debug");
	assert_int_equal(lock_fuse(u), 0);
	fx->witness_refuses = false;
	lsec_free(u);
}

static void test_station_exec__no_approved_sop(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 1;
	fx_fleet(fx, &o);
	char *u = fx_unit(fx, 1);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err),
			 LSEC_E_SOP_NOT_APPROVED);
	lsec_free(u);
}

/* A SOP whose applies-to names another product does not run on this unit. */
static void test_station_exec__sop_of_another_product_refused(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_store *st = lsec_station_store(fx->st);
	lsec_actor sup = {"sup", "st1"}, s1 = {"sec1", "st1"}, s2 = {"sec2", "st1"};
	fx_ready(fx, 1);
	const char *name = NULL;
	const uint8_t *data = NULL;
	size_t len = 0;
	for (size_t i = 0; lsec_station_default_sop(i, &name, &data, &len); i++) {
		if (strstr(name, "flash") != NULL) {
			break;
		}
	}
	char *text = lsec_asprintf("%.*s", (int)len, (const char *)data);
	char *v = strstr(text, "version: 1\n"), *p = strstr(text, "product: any");
	assert_non_null(v);
	assert_non_null(p);
	v[9] = '2';
	memcpy(p, "product: abc", 12);
	lsec_sop *sop = NULL;
	fx_ok(lsec_sop_submit(&sop, st, &sup, LSEC_ROLE_SUPERVISOR, (const uint8_t *)text,
			      strlen(text), "flash.yaml", &err),
	      &err);
	fx_ok(lsec_sop_approve(st, &s1, LSEC_ROLE_SECURITY_OFFICER, "flash", 2, &err), &err);
	fx_ok(lsec_sop_approve(st, &s2, LSEC_ROLE_SECURITY_OFFICER, "flash", 2, &err), &err);
	fx_ack(st, "flash", 2);
	lsec_sop_free(sop);
	char *u = fx_unit(fx, 1);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err),
			 LSEC_E_STATION_CONFIG);
	assert_non_null(strstr(err.msg, "applies to product 'abc', not to unit 'unit-001'"));
	lsec_store_unit unit;
	fx_ok(lsec_store_unit_get(&unit, st, "unit-001", &err), &err);
	assert_int_equal(unit.state, LSEC_UNIT_NEW);
	lsec_free(u);
	lsec_free(text);
}

/*
 * Every step that changes the device commits its intent durably before it
 * acts, the verifications that reset the unit or rewrite its flash too;
 * a verification that only reads, and a station-only step, do not.
 */
static void test_station_exec__device_changing_intents_durable(void **state)
{
	(void)state;
	static const char *const durable[] = {
		"device.flash",	     "device.boot-attest", "device.keygen",
		"device.write-cert", "otp.burn-counter",   "secure-boot.negative-test",
		"debug.lock",	     "device.erase",	   "credential.revoke",
	};
	static const char *const repeated[] = {
		"device.identify", "device.verify-flash", "device.prove-possession",
		"otp.verify",	   "image.check",	  "ca.issue",
		"confirm",
	};
	for (size_t i = 0; i < sizeof(durable) / sizeof(durable[0]); i++) {
		const lsec_sop_action *a = lsec_sop_action_find(durable[i]);
		assert_non_null(a);
		if (!lsec_station__intent_durable(a)) {
			fail_msg("the intent of %s is not durable before it acts", durable[i]);
		}
	}
	for (size_t i = 0; i < sizeof(repeated) / sizeof(repeated[0]); i++) {
		const lsec_sop_action *a = lsec_sop_action_find(repeated[i]);
		assert_non_null(a);
		assert_false(lsec_station__intent_durable(a));
	}
	/* Every irreversible action, and every device action that is no verification. */
	for (size_t i = 0; i < lsec_sop_action_count(); i++) {
		const lsec_sop_action *a = lsec_sop_action_at(i);
		bool irrev = (a->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0;
		bool changes = (a->flags & LSEC_SOP_ACTION_DEVICE) != 0 &&
			       (a->flags & LSEC_SOP_ACTION_VERIFIES) == 0;
		if ((irrev || changes) && !lsec_station__intent_durable(a)) {
			fail_msg("the intent of %s is not durable before it acts", a->id);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_exec__build_ships_one_unit,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__clone_stopped_before_write,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__unit_with_identity_stopped,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__quarantine_with_sop_message,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__disabled_mid_run_row_restored,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__manual_steps_confirmed,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__no_approved_sop,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__witness_signs_before_the_irreversible,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_exec__sop_of_another_product_refused,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test(test_station_exec__device_changing_intents_durable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
