/*
 * The audit log over a real store (SQLite, and PostgreSQL when
 * LSEC_TEST_PG_URL is set): recording events in the caller's transaction.
 */
#include "helpers/store_fixture.h"

#include "audit/audit_int.h"

#include <jansson.h>
#include <string.h>

static int record_one(lsec_store *st, const char *person, const char *unit, const char *action,
		      uint64_t *seq, lsec_err *err)
{
	int rc = 0;
	json_t *ev_json = json_pack("{s:s}", "image_sha256",
				    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {
		.person = person,
		.station = "st-1",
		.unit = unit,
		.sop = "sop-1-flash",
		.sop_version = 3,
		.step = "flash",
		.action = action,
		.outcome = "pass",
		.evidence = ev_json,
	};
	LSEC_TRY(lsec_store_begin(st, err));
	LSEC_TRY(lsec_audit_record(st, &ev, seq, err));
	LSEC_TRY(lsec_store_commit(st, err));
out:
	if (rc < 0) {
		lsec_store_rollback(st);
	}
	json_decref(ev_json);
	return rc;
}

static void test_audit_log__record_appends_hashed_leaves(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq = 99;
	for (uint64_t i = 0; i < 5; i++) {
		assert_lsec_ok(record_one(db->st, "alice", i % 2 ? "SN-1" : "SN-2", "flash", &seq, &err),
			       &err);
		assert_int_equal(seq, i);
	}
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(db->st, &n, &err), &err);
	assert_int_equal(n, 5);
	/* Leaf 3: canonical JSON with its own seq, hashed as RFC 6962 says. */
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	uint8_t stored[32], want[32];
	assert_lsec_ok(lsec_store_leaf_get(db->st, 3, &leaf, stored, &err), &err);
	assert_lsec_ok(lsec_audit_leaf_hash(want, leaf.data, leaf.len, &err), &err);
	assert_memory_equal(stored, want, 32);
	const char *text = lsec_buf_cstr(&leaf, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"seq\":3,"));
	assert_non_null(strstr(text, "\"person\":\"alice\""));
	assert_non_null(strstr(text, "\"unit\":\"SN-1\""));
	assert_non_null(strstr(text, "\"sop_version\":3"));
	assert_true(strncmp(text, "{\"action\":\"flash\",\"evidence\":{\"image_sha256\":", 45) == 0);
	lsec_buf_release(&leaf);
	uint64_t *seqs = NULL;
	size_t ns = 0;
	assert_lsec_ok(lsec_store_leaf_seqs_for_unit(db->st, "SN-1", &seqs, &ns, &err), &err);
	assert_int_equal(ns, 2);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 3);
	lsec_free(seqs);
}

static void test_audit_log__record_refusals_leave_nothing(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq = 7;
	/* No person. */
	assert_lsec_code(record_one(db->st, NULL, "SN-1", "flash", &seq, &err),
			 LSEC_E_AUDIT_NO_PERSON, &err);
	assert_int_equal(seq, 0);
	assert_lsec_code(record_one(db->st, "", "SN-1", "flash", &seq, &err),
			 LSEC_E_AUDIT_NO_PERSON, &err);
	/* Evidence naming a secret. */
	json_t *bad = json_pack("{s:s}", "initial_password", "hunter2");
	lsec_audit_event ev = {.person = "bob", .action = "provision", .evidence = bad};
	assert_lsec_ok(lsec_store_begin(db->st, &err), &err);
	assert_lsec_code(lsec_audit_record(db->st, &ev, &seq, &err), LSEC_E_AUDIT_SECRET, &err);
	assert_null(strstr(err.msg, "hunter2"));
	lsec_store_rollback(db->st);
	json_decref(bad);
	/* Outside a transaction: the log lock cannot be taken. */
	lsec_audit_event ok = {.person = "bob", .action = "login"};
	assert_lsec_code(lsec_audit_record(db->st, &ok, &seq, &err), LSEC_E_STATE, &err);
	uint64_t n = 9;
	assert_lsec_ok(lsec_store_leaf_count(db->st, &n, &err), &err);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_log__record_appends_hashed_leaves,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__record_refusals_leave_nothing,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	return lsec_test_run_backends("audit-log", tests, sizeof(tests) / sizeof(tests[0]));
}
