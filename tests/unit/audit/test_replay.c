/*
 * The state replay of audit verify over a real store (SQLite, and
 * PostgreSQL when LSEC_TEST_PG_URL is set): a small log replays to the rows
 * the registry holds, and each kind of difference (a column changed, a row
 * no leaf records, a row a leaf records but the registry lacks) is named
 * with its table, key, column and leaf.
 */
#include "helpers/store_fixture.h"

#include "audit/audit_int.h"
#include "store/store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char hash[] = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char fp[] = "f9c60a0139ac436c476fb042c1ffee347e88e561e8c89ee7cbbabebf67c97cb7";
static const char digest[] = "c3377b13e15bf7bfaad4c3297fc405e1db6a641c7a3f8adc3321d4606038ed88";

/* Appends one leaf; ev (stolen) is its evidence. */
static uint64_t leaf(lsec_store *st, const char *person, const char *unit, const char *sop,
		     const char *action, json_t *ev)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq = 0;
	lsec_audit_event e = {.person = person, .station = "st-1", .unit = unit, .sop = sop,
			      .sop_version = sop ? 1 : 0, .action = action, .outcome = "ok",
			      .evidence = ev};
	assert_non_null(ev);
	assert_lsec_ok(lsec_audit_append(&seq, st, &e, &err), &err);
	json_decref(ev);
	return seq;
}

static void sql(lsec_store *st, const char *q)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store__query(st, q, NULL, 0, NULL, NULL, &err), &err);
}

/* A small line: two people, a unit flashed in one run with its identity, an approved release. */
static uint64_t small_line(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t run = 0;
	assert_lsec_ok(lsec_store_person_add(st, "alice", LSEC_ROLE_SECURITY_OFFICER, hash, &err),
		       &err);
	leaf(st, "alice", NULL, NULL, "line-init",
	     json_pack("{s:s}", LSEC_EV_FIRST_OFFICER, "alice"));
	assert_lsec_ok(lsec_store_person_add(st, "bob", LSEC_ROLE_SECURITY_OFFICER, hash, &err),
		       &err);
	leaf(st, "alice", NULL, NULL, "person-add",
	     json_pack("{s:s,s:s}", LSEC_EV_NAME, "bob", LSEC_EV_ROLE, "security-officer"));
	assert_lsec_ok(lsec_store_unit_create(st, "SN-1", "00aa", "sensor", "st-1", &err), &err);
	leaf(st, "olga", "SN-1", "flash", "unit.register",
	     json_pack("{s:s,s:s,s:s}", LSEC_EV_UID, "00aa", LSEC_EV_PRODUCT, "sensor",
		       LSEC_EV_UNIT_STATE, "new"));
	assert_lsec_ok(lsec_store_run_begin(&run, st, "SN-1", "flash", "1", "olga", "st-1", &err),
		       &err);
	leaf(st, "olga", "SN-1", "flash", "run.start",
	     json_pack("{s:I,s:s}", LSEC_EV_RUN, (json_int_t)run, LSEC_EV_SOP_VERSION, "1"));
	assert_lsec_ok(lsec_store_identity_add(st, "SN-1", fp, "51ab", NULL, 0, LSEC_KEY_ACTIVE,
					       &err),
		       &err);
	leaf(st, "olga", "SN-1", "flash", "ca.issue",
	     json_pack("{s:s,s:s,s:s}", LSEC_EV_KEY_SHA256, fp, LSEC_EV_CERT_SERIAL, "51ab",
		       LSEC_EV_KEY_STATE, "active"));
	assert_lsec_ok(lsec_store_run_finish(st, run, "passed", &err), &err);
	assert_lsec_ok(lsec_store_unit_transition(st, "SN-1", LSEC_UNIT_FLASHED, 0, &err), &err);
	uint64_t finish = leaf(st, "olga", "SN-1", "flash", "run.finish",
			       json_pack("{s:I,s:s,s:s}", LSEC_EV_RUN, (json_int_t)run,
					 LSEC_EV_RUN_OUTCOME, "passed", LSEC_EV_UNIT_STATE,
					 "flashed"));
	assert_lsec_ok(lsec_store_release_add(NULL, st, "sensor", "1.0.0", digest, NULL, "alice",
					      &err),
		       &err);
	assert_lsec_ok(lsec_store_release_approve(st, "sensor", "1.0.0", "alice", &err), &err);
	leaf(st, "alice", NULL, NULL, "release.submit",
	     json_pack("{s:s,s:s,s:s}", LSEC_EV_PRODUCT, "sensor", LSEC_EV_VERSION, "1.0.0",
		       LSEC_EV_IMAGE_SHA256, digest));
	assert_lsec_ok(lsec_store_release_approve(st, "sensor", "1.0.0", "bob", &err), &err);
	leaf(st, "bob", NULL, NULL, "release.approve",
	     json_pack("{s:s,s:s,s:s}", LSEC_EV_PRODUCT, "sensor", LSEC_EV_VERSION, "1.0.0",
		       LSEC_EV_IMAGE_SHA256, digest));
	return finish;
}

static void test_audit_replay__small_log_matches(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	small_line(db->st);
	assert_lsec_ok(lsec_audit_state_verify(&rep, db->st, &err), &err);
	assert_int_equal(rep.leaves, 8);
	/* 2 people, 1 unit, 1 run, 1 identity, 1 release */
	assert_int_equal(rep.rows, 6);
	assert_int_equal(rep.ndiffs, 0);
	lsec_audit_state_report_release(&rep);
}

static void test_audit_replay__each_difference_named(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	char text[512];
	uint64_t finish = small_line(db->st);
	/* A column changed: the unit's state. */
	sql(db->st, "UPDATE units SET state = 'locked' WHERE serial = 'SN-1'");
	/* A row no leaf records: a person added by SQL. */
	sql(db->st, "INSERT INTO people (name, role, pw_hash, disabled, created) VALUES "
		    "('mallory', 'security-officer', 'x', 0, '2026-01-01T00:00:00Z')");
	/* A row a leaf records but the registry lacks: carol's leaf without her row. */
	uint64_t carol = leaf(db->st, "alice", NULL, NULL, "person-add",
			      json_pack("{s:s,s:s}", LSEC_EV_NAME, "carol", LSEC_EV_ROLE,
					"operator"));
	/* An approval injected. */
	sql(db->st, "INSERT INTO release_approvals (release_id, person, created) SELECT id, "
		    "'mallory', created FROM releases");
	assert_lsec_code(lsec_audit_state_verify(&rep, db->st, &err), LSEC_E_AUDIT_STATE, &err);
	assert_non_null(strstr(err.msg, "in 4 place(s)"));
	assert_int_equal(rep.ndiffs, 4);

	const lsec_audit_state_diff *d = &rep.diffs[0];
	assert_int_equal(d->kind, LSEC_AUDIT_ROW_DIFFERENT);
	assert_string_equal(d->table, "units");
	assert_string_equal(d->key, "SN-1");
	assert_string_equal(d->column, "state");
	assert_string_equal(d->registry, "locked");
	assert_string_equal(d->log, "flashed");
	assert_true(d->has_seq);
	assert_int_equal(d->seq, finish);
	lsec_audit_state_diff_text(text, sizeof(text), d);
	snprintf(err.msg, sizeof(err.msg),
		 "registry table units, row 'SN-1': state is 'locked', "
		 "but leaf %llu says 'flashed'",
		 (unsigned long long)finish);
	assert_string_equal(text, err.msg);

	d = &rep.diffs[1];
	assert_int_equal(d->kind, LSEC_AUDIT_ROW_DIFFERENT);
	assert_string_equal(d->table, "releases");
	assert_string_equal(d->key, "sensor@1.0.0");
	assert_string_equal(d->column, "approvals");
	assert_string_equal(d->registry, "3");
	assert_string_equal(d->log, "2 (alice, bob)");

	d = &rep.diffs[2];
	assert_int_equal(d->kind, LSEC_AUDIT_ROW_EXTRA);
	assert_string_equal(lsec_audit_diff_kind_name(d->kind), "extra");
	assert_string_equal(d->table, "people");
	assert_string_equal(d->key, "mallory");
	assert_false(d->has_seq);

	d = &rep.diffs[3];
	assert_int_equal(d->kind, LSEC_AUDIT_ROW_MISSING);
	assert_string_equal(d->table, "people");
	assert_string_equal(d->key, "carol");
	assert_int_equal(d->seq, carol);
	lsec_audit_state_diff_text(text, sizeof(text), d);
	assert_non_null(strstr(text, "registry table people has no row 'carol', which leaf"));
	lsec_audit_state_report_release(&rep);
	lsec_audit_state_report_release(&rep); /* released twice: harmless */
}

static void test_audit_replay__leaf_bytes_checked(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	small_line(db->st);
	/* Leaf 1's stored hash is another leaf's: its bytes no longer match it. */
	sql(db->st, "UPDATE audit_leaves SET leaf_hash = (SELECT leaf_hash FROM audit_leaves "
		    "WHERE seq = 0) WHERE seq = 1");
	assert_lsec_code(lsec_audit_state_verify(&rep, db->st, &err), LSEC_E_AUDIT_LEAF_HASH, &err);
	assert_non_null(strstr(err.msg, "leaf 1 does not match its stored hash"));
	lsec_audit_state_report_release(&rep);
}

/* A credential issued, a certificate revoked, a unit scrapped: each row replayed, each change named. */
static void test_audit_replay__records_replayed(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	uint64_t seq = 0;
	small_line(db->st);
	assert_lsec_ok(lsec_store_credential_add(db->st, "SN-1", digest, &err), &err);
	json_t *ev = json_pack("{s:s}", LSEC_EV_CREDENTIAL_FP, digest);
	lsec_audit_event e = {.person = "olga", .station = "st-1", .unit = "SN-1",
			      .action = "credential.generate", .outcome = "passed", .evidence = ev};
	assert_lsec_ok(lsec_audit_append(&seq, db->st, &e, &err), &err);
	json_decref(ev);
	assert_lsec_ok(lsec_store_revocation_add(db->st, "SN-1", "51ab", "keyCompromise", "alice",
						 &err),
		       &err);
	leaf(db->st, "alice", "SN-1", NULL, "pki.certificate.revoke",
	     json_pack("{s:s,s:s}", LSEC_EV_CERT_SERIAL, "51ab", "reason", "keyCompromise"));
	/* A revocation step's intent and its failure revoked nothing: the row stays live. */
	const char *not_done[] = {"started", "failed"};
	for (size_t i = 0; i < 2; i++) {
		lsec_audit_event r = {.person = "alice", .station = "st-1", .unit = "SN-1",
				      .action = "credential.revoke", .outcome = not_done[i]};
		assert_lsec_ok(lsec_audit_append(&seq, db->st, &r, &err), &err);
	}
	assert_lsec_ok(lsec_audit_state_verify(&rep, db->st, &err), &err);
	lsec_audit_state_report_release(&rep);
	assert_lsec_ok(lsec_store_credential_revoke(NULL, db->st, "SN-1", &err), &err);
	lsec_audit_event r = {.person = "alice", .station = "st-1", .unit = "SN-1",
			      .action = "credential.revoke", .outcome = "revoked"};
	assert_lsec_ok(lsec_audit_append(&seq, db->st, &r, &err), &err);
	assert_lsec_ok(lsec_store_scrap_add(db->st, "SN-1", "shred", "olga", "bob", NULL, &err),
		       &err);
	leaf(db->st, "olga", "SN-1", NULL, "scrap.unit",
	     json_pack("{s:s,s:s}", "method", "shred", "witnessed-by", "bob"));
	assert_lsec_ok(lsec_audit_state_verify(&rep, db->st, &err), &err);
	assert_int_equal(rep.rows, 9);
	lsec_audit_state_report_release(&rep);

	sql(db->st, "UPDATE revocations SET reason = 'superseded'");
	sql(db->st, "UPDATE scrap_records SET witness = 'mallory'");
	sql(db->st, "UPDATE credentials SET revoked = NULL");
	assert_lsec_code(lsec_audit_state_verify(&rep, db->st, &err), LSEC_E_AUDIT_STATE, &err);
	assert_int_equal(rep.ndiffs, 3);
	assert_string_equal(rep.diffs[0].table, "credentials");
	assert_string_equal(rep.diffs[0].column, "revoked");
	assert_string_equal(rep.diffs[0].registry, "no");
	assert_string_equal(rep.diffs[1].table, "revocations");
	assert_string_equal(rep.diffs[1].key, "51ab");
	assert_string_equal(rep.diffs[1].column, "reason");
	assert_string_equal(rep.diffs[2].table, "scrap_records");
	assert_string_equal(rep.diffs[2].key, "SN-1");
	assert_string_equal(rep.diffs[2].column, "witness");
	lsec_audit_state_report_release(&rep);
}

/*
 * Acknowledgements and withdrawals of SOP versions are replayed from their
 * leaves: an acknowledgement inserted by SQL (an operator who never read
 * the version), one whose SHA-256 was changed, and a withdrawal deleted or
 * re-attributed are each named.
 */
static void test_audit_replay__sop_controls_replayed(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	small_line(db->st);
	assert_lsec_ok(lsec_store_sop_ack_add(db->st, "flash", "1", digest, "olga", &err), &err);
	leaf(db->st, "olga", NULL, "flash", LSEC_AUDIT_SOP_ACKNOWLEDGE,
	     json_pack("{s:s,s:s}", LSEC_EV_SOP_SHA256, digest, LSEC_EV_MEANING, LSEC_MEANING_READ));
	assert_lsec_ok(lsec_store_sop_withdraw_add(db->st, "flash", "1", "wrong torque", 7, "bob",
						   &err),
		       &err);
	leaf(db->st, "bob", NULL, "flash", LSEC_AUDIT_SOP_WITHDRAW,
	     json_pack("{s:s,s:s,s:I}", LSEC_EV_SOP_SHA256, digest, LSEC_EV_REASON, "wrong torque",
		       LSEC_EV_CHANGE, (json_int_t)7));
	assert_lsec_ok(lsec_audit_state_verify(&rep, db->st, &err), &err);
	lsec_audit_state_report_release(&rep);

	sql(db->st, "INSERT INTO sop_acknowledgements (sop, version, digest, person, created) "
		    "VALUES ('flash', '1', 'c3377b13', 'mallory', '2026-01-01T00:00:00Z')");
	sql(db->st, "UPDATE sop_acknowledgements SET digest = 'feed' WHERE person = 'olga'");
	sql(db->st, "UPDATE sop_withdrawals SET withdrawn_by = 'mallory'");
	assert_lsec_code(lsec_audit_state_verify(&rep, db->st, &err), LSEC_E_AUDIT_STATE, &err);
	assert_int_equal(rep.ndiffs, 3);
	assert_string_equal(rep.diffs[0].table, "sop_acknowledgements");
	assert_string_equal(rep.diffs[0].key, "flash@1@olga");
	assert_string_equal(rep.diffs[0].column, "digest");
	assert_string_equal(rep.diffs[1].table, "sop_acknowledgements");
	assert_string_equal(rep.diffs[1].key, "flash@1@mallory");
	assert_int_equal(rep.diffs[1].kind, LSEC_AUDIT_ROW_EXTRA);
	assert_string_equal(rep.diffs[2].table, "sop_withdrawals");
	assert_string_equal(rep.diffs[2].key, "flash@1");
	assert_string_equal(rep.diffs[2].column, "withdrawn_by");
	lsec_audit_state_report_release(&rep);
	sql(db->st, "DELETE FROM sop_withdrawals");
	assert_lsec_code(lsec_audit_state_verify(&rep, db->st, &err), LSEC_E_AUDIT_STATE, &err);
	assert_string_equal(rep.diffs[rep.ndiffs - 1].table, "sop_withdrawals");
	assert_int_equal(rep.diffs[rep.ndiffs - 1].kind, LSEC_AUDIT_ROW_MISSING);
	lsec_audit_state_report_release(&rep);
}

/*
 * One step attempt of run on SN-1: its intent and outcome leaves with the
 * steps row they record; named: the leaves name the run and the row (as
 * written now), else as older leaves did. Returns the row's id.
 */
static int64_t step(lsec_store *st, int64_t run, const char *id, const char *outcome, bool named,
		    uint64_t *outcome_seq)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t row = 0;
	uint64_t seq = 0;
	assert_lsec_ok(lsec_store_step_begin(&row, st, run, id, "olga", &err), &err);
	for (int k = 0; k < 2; k++) {
		json_t *ev = k == 0 ? json_pack("{s:s}", "role", "operator")
				    : json_pack("{s:s}", "readback-sha256", digest);
		if (named) {
			json_object_set_new(ev, LSEC_EV_RUN, json_integer(run));
			json_object_set_new(ev, LSEC_EV_ATTEMPT, json_integer(row));
		}
		if (k == 1) {
			assert_lsec_ok(lsec_store_step_finish(st, row, outcome, NULL, ev, &err), &err);
		}
		lsec_audit_event e = {.person = "olga", .station = "st-1", .unit = "SN-1",
				      .sop = "flash", .sop_version = 1, .step = id,
				      .action = "flash.write", .outcome = k == 0 ? "started" : outcome,
				      .evidence = ev};
		assert_lsec_ok(lsec_audit_append(&seq, st, &e, &err), &err);
		json_decref(ev);
	}
	if (outcome_seq != NULL) {
		*outcome_seq = seq;
	}
	return row;
}

/* A run of flash on SN-1, started and recorded. */
static int64_t run_started(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t run = 0;
	assert_lsec_ok(lsec_store_run_begin(&run, st, "SN-1", "flash", "1", "olga", "st-1", &err),
		       &err);
	leaf(st, "olga", "SN-1", "flash", "run.start",
	     json_pack("{s:I,s:s}", LSEC_EV_RUN, (json_int_t)run, LSEC_EV_SOP_VERSION, "1"));
	return run;
}

/*
 * Step attempts: those whose leaves name their run and row are matched by
 * the row's id; older ones as the n-th attempt of the unit's latest run. A
 * failed step made passed, a row inserted and a row deleted are each named
 * by the row's id and the leaf; resumed from a kept state, the same.
 */
static void test_audit_replay__steps_replayed(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	/* One buffer per statement: the store may keep a prepared statement by its text's address. */
	char q1[128], q2[128], q3[256], *kept = NULL;
	uint64_t old_failed_seq = 0, new_seq = 0;
	small_line(db->st);
	/* Older leaves: a failed attempt and its retry, in the unit's latest run. */
	int64_t run1 = run_started(db->st);
	int64_t old_failed = step(db->st, run1, "write", "failed", false, &old_failed_seq);
	step(db->st, run1, "write", "passed", false, NULL);
	assert_lsec_ok(lsec_audit_state_verify_from(&rep, &kept, db->st, 0, NULL, 0, &err), &err);
	uint64_t at = rep.tree_size;
	lsec_audit_state_report_release(&rep);
	/* Leaves written now: another run, its attempts named. */
	int64_t run2 = run_started(db->st);
	int64_t named = step(db->st, run2, "write", "passed", true, &new_seq);
	step(db->st, run2, "verify", "passed", true, NULL);
	assert_lsec_ok(lsec_audit_state_verify(&rep, db->st, &err), &err);
	/* 6 rows of small_line, 2 runs, 4 steps */
	assert_int_equal(rep.rows, 12);
	lsec_audit_state_report_release(&rep);

	snprintf(q1, sizeof(q1), "UPDATE steps SET outcome = 'passed' WHERE id = %lld",
		 (long long)old_failed);
	sql(db->st, q1);
	snprintf(q2, sizeof(q2), "DELETE FROM steps WHERE id = %lld", (long long)named);
	sql(db->st, q2);
	snprintf(q3, sizeof(q3),
		 "INSERT INTO steps (run_id, step, person, outcome, started) VALUES (%lld, "
		 "'burn', 'olga', 'passed', 'x')",
		 (long long)run2);
	sql(db->st, q3);
	for (int resumed = 0; resumed < 2; resumed++) {
		if (resumed) {
			assert_lsec_code(lsec_audit_state_verify_from(&rep, NULL, db->st, at, kept,
								      strlen(kept), &err),
					 LSEC_E_AUDIT_STATE, &err);
		} else {
			assert_lsec_code(lsec_audit_state_verify(&rep, db->st, &err),
					 LSEC_E_AUDIT_STATE, &err);
		}
		assert_int_equal(rep.ndiffs, 3);
		char key[24];
		const lsec_audit_state_diff *d = &rep.diffs[0];
		snprintf(key, sizeof(key), "%lld", (long long)old_failed);
		assert_int_equal(d->kind, LSEC_AUDIT_ROW_DIFFERENT);
		assert_string_equal(d->table, "steps");
		assert_string_equal(d->key, key);
		assert_string_equal(d->column, "outcome");
		assert_string_equal(d->registry, "passed");
		assert_string_equal(d->log, "failed");
		assert_int_equal(d->seq, old_failed_seq);
		d = &rep.diffs[1];
		assert_int_equal(d->kind, LSEC_AUDIT_ROW_EXTRA);
		assert_string_equal(d->table, "steps");
		d = &rep.diffs[2];
		snprintf(key, sizeof(key), "%lld", (long long)named);
		assert_int_equal(d->kind, LSEC_AUDIT_ROW_MISSING);
		assert_string_equal(d->table, "steps");
		assert_string_equal(d->key, key);
		assert_int_equal(d->seq, new_seq - 1); /* its intent named it first */
		lsec_audit_state_report_release(&rep);
	}
	lsec_free(kept);
}

/* Resumed from the state of the first leaves, the replay gives what a full one does. */
static void test_audit_replay__resumes_from_kept_state(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_state_report rep;
	char *kept = NULL, *again = NULL;
	small_line(db->st);
	assert_lsec_ok(lsec_audit_state_verify_from(&rep, &kept, db->st, 0, NULL, 0, &err), &err);
	uint64_t at = rep.tree_size;
	assert_int_equal(at, 8);
	lsec_audit_state_report_release(&rep);
	/* A later leaf changes the unit; the registry row does not follow. */
	leaf(db->st, "olga", "SN-1", NULL, "unit.quarantine",
	     json_pack("{s:s}", LSEC_EV_UNIT_STATE, "quarantined"));
	assert_lsec_code(lsec_audit_state_verify_from(&rep, &again, db->st, at, kept, strlen(kept),
						      &err),
			 LSEC_E_AUDIT_STATE, &err);
	assert_int_equal(rep.leaves, 1);
	assert_int_equal(rep.ndiffs, 1);
	assert_string_equal(rep.diffs[0].log, "quarantined");
	assert_non_null(again);
	lsec_audit_state_report_release(&rep);
	/*
	 * A state kept before identities.cert_der was compared (no closing
	 * "columns:cert_der" row) is not resumed from: every leaf is replayed.
	 */
	assert_non_null(strstr(kept, "columns:cert_der,change_requests,units.station,releases.manifest,steps"));
	assert_lsec_code(lsec_audit_state_verify_from(&rep, NULL, db->st, at, "[]", 2, &err),
			 LSEC_E_AUDIT_STATE, &err);
	assert_int_equal(rep.leaves, at + 1);
	lsec_audit_state_report_release(&rep);
	/* A malformed kept state, or none, is refused. */
	assert_lsec_code(lsec_audit_state_verify_from(&rep, NULL, db->st, at, "[[1]]", 5, &err),
			 LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_audit_state_verify_from(&rep, NULL, db->st, at, NULL, 0, &err),
			 LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_audit_state_verify_from(&rep, NULL, db->st, 99, kept, strlen(kept),
						      &err),
			 LSEC_E_AUDIT_TRUNCATED, &err);
	lsec_free(kept);
	lsec_free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_replay__small_log_matches,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replay__each_difference_named,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replay__leaf_bytes_checked,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replay__records_replayed,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replay__resumes_from_kept_state,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replay__sop_controls_replayed,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_replay__steps_replayed,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	return lsec_test_run_backends("audit-replay", tests, sizeof(tests) / sizeof(tests[0]));
}
