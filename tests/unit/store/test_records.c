/* Releases, SOP versions, runs and steps, revocations and scrap, on both backends. */
#include "helpers/store_fixture.h"
#include "store/store_int.h"

#include <jansson.h>
#include <string.h>

static void test_store_records__release_needs_two_distinct_approvers(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	int64_t id = 0;
	assert_lsec_ok(lsec_store_release_add(&id, db->st, "sensor", "1.0.0", "ab12", "{\"a\":1}",
					      "alice", &err),
		       &err);
	assert_true(id > 0);
	assert_lsec_code(lsec_store_release_add(NULL, db->st, "sensor", "1.0.0", "cd34", NULL,
						"alice", &err),
			 LSEC_E_EXISTS, &err);
	assert_string_equal(err.msg, "cannot add release 'sensor' version '1.0.0': it already exists");
	lsec_store_approvable r;
	lsec_buf manifest = LSEC_BUF_INIT(1024);
	assert_lsec_ok(lsec_store_release_get(&r, &manifest, db->st, "sensor", "1.0.0", &err), &err);
	assert_false(r.approved);
	assert_int_equal(r.n_approvals, 0);
	assert_int_equal(manifest.len, 7);
	assert_memory_equal(manifest.data, "{\"a\":1}", 7);
	lsec_buf_release(&manifest);

	assert_lsec_ok(lsec_store_release_approve(db->st, "sensor", "1.0.0", "bob", &err), &err);
	assert_lsec_code(lsec_store_release_approve(db->st, "sensor", "1.0.0", "bob", &err),
			 LSEC_E_STORE_APPROVAL, &err);
	assert_non_null(strstr(err.msg, "'bob' already approved it"));
	assert_lsec_ok(lsec_store_release_get(&r, NULL, db->st, "sensor", "1.0.0", &err), &err);
	assert_false(r.approved);
	assert_lsec_ok(lsec_store_release_approve(db->st, "sensor", "1.0.0", "carol", &err), &err);
	assert_lsec_ok(lsec_store_release_get(&r, NULL, db->st, "sensor", "1.0.0", &err), &err);
	assert_true(r.approved);
	assert_int_equal(r.n_approvals, 2);
	assert_lsec_code(lsec_store_release_approve(db->st, "sensor", "9.9", "bob", &err),
			 LSEC_E_NOTFOUND, &err);

	assert_lsec_ok(lsec_store_release_add(NULL, db->st, "gateway", "2.0", "ef56", NULL, "alice",
					      &err),
		       &err);
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_release_list(&list, &n, db->st, NULL, &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "gateway");
	assert_false(list[0].approved);
	assert_string_equal(list[1].name, "sensor");
	assert_true(list[1].approved);
	assert_string_equal(list[1].approvers[0], "bob");
	lsec_free(list);
	assert_lsec_ok(lsec_store_release_list(&list, &n, db->st, "sensor", &err), &err);
	assert_int_equal(n, 1);
	lsec_free(list);
}

static void test_store_records__sop_versions(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_sop_add(NULL, db->st, "flash", "1", "d1", "steps: []", "alice",
					  &err),
		       &err);
	assert_lsec_ok(lsec_store_sop_add(NULL, db->st, "flash", "2", "d2", "steps: [x]", "alice",
					  &err),
		       &err);
	assert_lsec_code(lsec_store_sop_add(NULL, db->st, "flash", "2", "d3", NULL, "alice", &err),
			 LSEC_E_EXISTS, &err);
	assert_lsec_ok(lsec_store_sop_approve(db->st, "flash", "2", "bob", &err), &err);
	assert_lsec_ok(lsec_store_sop_approve(db->st, "flash", "2", "carol", &err), &err);
	lsec_store_approvable s;
	lsec_buf body = LSEC_BUF_INIT(256);
	assert_lsec_ok(lsec_store_sop_get(&s, &body, db->st, "flash", "2", &err), &err);
	assert_true(s.approved);
	assert_memory_equal(body.data, "steps: [x]", body.len);
	lsec_buf_release(&body);
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_sop_list(&list, &n, db->st, "flash", &err), &err);
	assert_int_equal(n, 2);
	assert_false(list[0].approved);
	assert_true(list[1].approved);
	lsec_free(list);
}

static void test_store_records__runs_and_steps_with_evidence(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	int64_t run = 0, step = 0;
	assert_lsec_code(lsec_store_run_begin(&run, db->st, "SN1", "flash", "1", "op", "st1", &err),
			 LSEC_E_NOTFOUND, &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "U1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_begin(&run, db->st, "SN1", "flash", "1", "op", "st1", &err),
		       &err);
	assert_lsec_ok(lsec_store_step_begin(&step, db->st, run, "write", "op", &err), &err);
	json_t *ev = json_pack("{s:s,s:i}", "sha256", "ab", "bytes", 4096);
	assert_lsec_ok(lsec_store_step_finish(db->st, step, "passed", NULL, ev, &err), &err);
	assert_lsec_code(lsec_store_step_finish(db->st, step, "passed", NULL, ev, &err),
			 LSEC_E_STATE, &err);
	json_decref(ev);
	assert_lsec_ok(lsec_store_run_finish(db->st, run, "passed", &err), &err);
	assert_lsec_code(lsec_store_run_finish(db->st, run, "failed", &err), LSEC_E_STATE, &err);
	assert_lsec_code(lsec_store_step_begin(&step, db->st, run, "late", "op", &err),
			 LSEC_E_STATE, &err);

	lsec_store_run *runs = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_run_list(&runs, &n, db->st, "SN1", &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(runs[0].sop, "flash");
	assert_string_equal(runs[0].outcome, "passed");
	assert_string_equal(runs[0].person, "op");
	assert_true(runs[0].finished[0] != '\0');
	lsec_free(runs);
}

static void test_store_records__release_units_started(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	int64_t r1 = 0, r2 = 0, r3 = 0, r4 = 0;
	uint64_t n = 99;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "U1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN2", "U2", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN3", "U3", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_begin(&r1, db->st, "SN1", "flash", "1", "op", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_begin(&r2, db->st, "SN1", "flash", "1", "op", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_begin(&r3, db->st, "SN2", "flash", "1", "op", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_begin(&r4, db->st, "SN3", "flash", "1", "op", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_set_release(db->st, r1, "sensor@1.0.0", &err), &err);
	assert_lsec_ok(lsec_store_run_set_release(db->st, r2, "sensor@1.0.0", &err), &err);
	assert_lsec_ok(lsec_store_run_set_release(db->st, r3, "sensor@1.0.0", &err), &err);
	assert_lsec_ok(lsec_store_run_set_release(db->st, r4, "sensor@2.0.0", &err), &err);
	assert_lsec_code(lsec_store_run_set_release(db->st, r4 + 100, "sensor@2.0.0", &err),
			 LSEC_E_NOTFOUND, &err);
	/* Units, not runs: SN1's retry counts once; another release counts apart. */
	assert_lsec_ok(lsec_store_release_units_started(&n, db->st, "sensor@1.0.0", "flash", NULL,
							&err),
		       &err);
	assert_int_equal(n, 2);
	assert_lsec_ok(lsec_store_release_units_started(&n, db->st, "sensor@1.0.0", "flash", "SN2",
							&err),
		       &err);
	assert_int_equal(n, 1);
	assert_lsec_ok(lsec_store_release_units_started(&n, db->st, "sensor@2.0.0", "flash", NULL,
							&err),
		       &err);
	assert_int_equal(n, 1);
	assert_lsec_ok(lsec_store_release_units_started(&n, db->st, "sensor@1.0.0", "provision",
							NULL, &err),
		       &err);
	assert_int_equal(n, 0);
}

static int row_text_copy(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)ncols;
	(void)err;
	snprintf(ctx, 128, "%s", cols[0].s);
	return 0;
}

static void test_store_records__evidence_is_canonical_json(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	int64_t run = 0, step = 0;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "U1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_run_begin(&run, db->st, "SN1", "flash", "1", "op", "st1", &err),
		       &err);
	assert_lsec_ok(lsec_store_step_begin(&step, db->st, run, "write", "op", &err), &err);
	json_t *ev = json_pack("{s:i,s:s}", "z", 1, "a", "x");
	assert_lsec_ok(lsec_store_step_finish(db->st, step, "passed", "sup", ev, &err), &err);
	json_decref(ev);
	char text[128] = "";
	store_val p[] = {SV_I(step)};
	assert_lsec_ok(lsec_store__query(db->st, "SELECT evidence FROM steps WHERE id = ?", p, 1,
					 row_text_copy, text, &err),
		       &err);
	assert_string_equal(text, "{\"a\":\"x\",\"z\":1}");
}

static void test_store_records__revocations_and_scrap(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_unit_create(db->st, "SN1", "U1", "sensor", "st1", &err), &err);
	assert_lsec_ok(lsec_store_revocation_add(db->st, "SN1", "c01", "keyCompromise", "so", &err),
		       &err);
	assert_lsec_code(lsec_store_revocation_add(db->st, "SN1", "c01", "keyCompromise", "so", &err),
			 LSEC_E_EXISTS, &err);
	assert_lsec_code(lsec_store_revocation_add(db->st, "SN9", "c02", "x", "so", &err),
			 LSEC_E_NOTFOUND, &err);
	lsec_store_record *recs = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_revocation_list(&recs, &n, db->st, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].serial, "SN1");
	assert_string_equal(recs[0].subject, "c01");
	assert_string_equal(recs[0].reason, "keyCompromise");
	assert_string_equal(recs[0].witness, "");
	lsec_free(recs);

	assert_lsec_code(lsec_store_scrap_add(db->st, "SN1", "shredded", "op", "op", NULL, &err),
			 LSEC_E_STORE_APPROVAL, &err);
	assert_lsec_code(lsec_store_scrap_add(db->st, "SN1", "shredded", "op", NULL, NULL, &err),
			 LSEC_E_USAGE, &err);
	assert_lsec_ok(lsec_store_scrap_add(db->st, "SN1", "shredded", "op", "sup", "bin 4", &err),
		       &err);
	assert_lsec_code(lsec_store_scrap_add(db->st, "SN1", "burnt", "op", "sup", NULL, &err),
			 LSEC_E_EXISTS, &err);
	assert_lsec_ok(lsec_store_scrap_list(&recs, &n, db->st, &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].subject, "shredded");
	assert_string_equal(recs[0].witness, "sup");
	assert_string_equal(recs[0].reason, "bin 4");
	lsec_free(recs);
}

static void test_store_records__release_revoked(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_approvable r;
	assert_lsec_ok(lsec_store_release_add(NULL, db->st, "sensor", "1.0.0", "ab12", NULL, "alice",
					      &err),
		       &err);
	assert_lsec_ok(lsec_store_release_get(&r, NULL, db->st, "sensor", "1.0.0", &err), &err);
	assert_string_equal(r.revoked, "");
	assert_string_equal(r.revoked_by, "");
	assert_lsec_ok(lsec_store_release_revoke(db->st, "sensor", "1.0.0", "bob", &err), &err);
	assert_lsec_ok(lsec_store_release_get(&r, NULL, db->st, "sensor", "1.0.0", &err), &err);
	assert_int_equal(strlen(r.revoked), 20); /* 2026-01-01T00:00:00Z */
	assert_string_equal(r.revoked_by, "bob");
	assert_lsec_code(lsec_store_release_revoke(db->st, "sensor", "1.0.0", "carol", &err),
			 LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "'bob' revoked it at"));
	assert_lsec_code(lsec_store_release_revoke(db->st, "sensor", "9.9", "bob", &err),
			 LSEC_E_NOTFOUND, &err);
	/* The revocation is on the release's own row: the list has no other. */
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_release_list(&list, &n, db->st, "sensor", &err), &err);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].revoked_by, "bob");
	lsec_free(list);
	/* SOP versions have no revocation. */
	assert_lsec_ok(lsec_store_sop_add(NULL, db->st, "flash", "1", "cd34", "body", "alice", &err),
		       &err);
	assert_lsec_ok(lsec_store_sop_get(&r, NULL, db->st, "flash", "1", &err), &err);
	assert_string_equal(r.revoked, "");
}

/* Schema 4 marked a revoked release with a "<version>~revoked" row; schema 5 folds it in. */
static void test_store_records__release_revocation_rows_migrated(void **state)
{
	(void)state;
	lsec_test_db *db = lsec_test_db_new();
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	assert_lsec_ok(lsec_store__create_version(&st, db->location, 4, &err), &err);
	assert_lsec_ok(lsec_store_release_add(NULL, st, "sensor", "1.0.0", "ab12", NULL, "alice",
					      &err),
		       &err);
	assert_lsec_ok(lsec_store_release_add(NULL, st, "sensor", "1.1.0", "cd34", NULL, "alice",
					      &err),
		       &err);
	store_val p[] = {SV_S("sensor"), SV_S("1.0.0~revoked"), SV_S("revoked"), SV_S("carol"),
			 SV_S("2026-03-04T05:06:07Z")};
	assert_lsec_ok(lsec_store__query(st,
					 "INSERT INTO releases (product, version, digest, created_by,"
					 " created) VALUES (?, ?, ?, ?, ?)",
					 p, 5, NULL, NULL, &err),
		       &err);
	/* One approval of the release, one (stray) of the marker row. */
	assert_lsec_ok(lsec_store__query(st,
					 "INSERT INTO release_approvals (release_id, person, created)"
					 " SELECT id, 'bob', created FROM releases"
					 " WHERE version IN ('1.0.0', '1.0.0~revoked')",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	lsec_store_close(st);

	assert_lsec_ok(lsec_store_open(&st, db->location, &err), &err);
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_release_list(&list, &n, st, NULL, &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].version, "1.0.0");
	assert_string_equal(list[0].revoked, "2026-03-04T05:06:07Z");
	assert_string_equal(list[0].revoked_by, "carol");
	assert_int_equal(list[0].n_approvals, 1);
	assert_string_equal(list[1].version, "1.1.0");
	assert_string_equal(list[1].revoked, "");
	lsec_free(list);
	lsec_store_close(st);
	lsec_test_db_free(db);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_records__release_needs_two_distinct_approvers),
		T(test_store_records__sop_versions),
		T(test_store_records__runs_and_steps_with_evidence),
		T(test_store_records__release_units_started),
		T(test_store_records__evidence_is_canonical_json),
		T(test_store_records__revocations_and_scrap),
		T(test_store_records__release_revoked),
		cmocka_unit_test(test_store_records__release_revocation_rows_migrated),
	};
	return lsec_test_run_backends("store/records", tests, sizeof(tests) / sizeof(tests[0]));
}
