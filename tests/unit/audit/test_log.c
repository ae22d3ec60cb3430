/*
 * The audit log over a real store (SQLite, and PostgreSQL when
 * LSEC_TEST_PG_URL is set): recording events in the caller's transaction.
 */
#include "helpers/store_fixture.h"

#include "audit/audit_int.h"
#include "store/store_int.h"

#include <openssl/evp.h>

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
	rc = lsec_audit_append(seq, st, &ev, err);
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
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 5);
	/* Leaf 3: canonical JSON with its own seq, hashed as RFC 6962 says. */
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	uint8_t stored[32], want[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, stored, NULL, db->st, 3, &err), &err);
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
	assert_lsec_ok(lsec_store_leaf_seqs_for_unit(&seqs, &ns, db->st, "SN-1", &err), &err);
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
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	assert_lsec_ok(lsec_store_tx_begin(&tx, db->st, &err), &err);
	assert_lsec_code(lsec_audit_record(&seq, db->st, &ev, &err), LSEC_E_AUDIT_SECRET, &err);
	assert_null(strstr(err.msg, "hunter2"));
	assert_int_equal(lsec_store_tx_end(&tx, LSEC_E_AUDIT_SECRET, &err), LSEC_E_AUDIT_SECRET);
	json_decref(bad);
	/* Outside a transaction: the log lock cannot be taken. */
	lsec_audit_event ok = {.person = "bob", .action = "login"};
	assert_lsec_code(lsec_audit_record(&seq, db->st, &ok, &err), LSEC_E_STATE, &err);
	/* Inside one, lsec_audit_append (which opens its own) is refused. */
	assert_lsec_ok(lsec_store_tx_begin(&tx, db->st, &err), &err);
	assert_lsec_code(lsec_audit_append(&seq, db->st, &ok, &err), LSEC_E_STATE, &err);
	assert_int_equal(lsec_store_tx_end(&tx, LSEC_E_STATE, &err), LSEC_E_STATE);
	uint64_t n = 9;
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 0);
}


/* ---- checkpoints, verification, proofs and tampering ------------------- */

static EVP_PKEY *station_key;

/* The fixture's station key, which signs every leaf the fixture's registries record. */
static int key_setup(void **state)
{
	(void)state;
	station_key = lsec_test_station_key();
	return station_key != NULL ? 0 : -1;
}

static int key_teardown(void **state)
{
	(void)state;
	station_key = NULL;
	return 0;
}

/*
 * The log every tamper case starts from: events 0-3, a checkpoint of 4
 * leaves (leaf 4 records it), events 5-8, a checkpoint of 9 leaves (leaf 9).
 * Units: SN-A for even events, SN-B for odd ones.
 */
static void build_log(lsec_store *st, char **notes /* [2], may be NULL */)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 4; i++) {
			assert_lsec_ok(record_one(st, "alice", i % 2 ? "SN-B" : "SN-A", "flash", &seq,
						  &err),
				       &err);
		}
		char *note = NULL;
		assert_lsec_ok(lsec_audit_checkpoint_create(&note, st, "test-line", "st-1",
							    station_key, "auditor-ann", &err),
			       &err);
		if (notes != NULL) {
			notes[round] = note;
		} else {
			lsec_free(note);
		}
	}
}

static void expect_verify(lsec_store *st, int code, const char *where, const char *against)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_verify_report rep;
	int rc = lsec_audit_verify(&rep, st, "test-line", "st-1", station_key, against,
				   against ? strlen(against) : 0, &err);
	if (rc != code) {
		fail_msg("verify: expected %d, got %d: %s", code, rc, err.msg);
	}
	if (where != NULL && strstr(err.msg, where) == NULL) {
		fail_msg("verify: expected '%s' in: %s", where, err.msg);
	}
}

static void sql(lsec_store *st, const char *q, const store_val *p, size_t np)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store__query(st, q, p, np, NULL, NULL, &err), &err);
}

static int64_t first_checkpoint_id(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t id = -1;
	assert_lsec_ok(lsec_store__query(st, "SELECT MIN(id) FROM checkpoints", NULL, 0,
					 lsec_store__row_int, &id, &err),
		       &err);
	return id;
}

static void test_audit_log__checkpoint_verify_prove(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *notes[2] = {NULL, NULL};
	build_log(db->st, notes);
	lsec_audit_verify_report rep;
	assert_lsec_ok(lsec_audit_verify(&rep, db->st, "test-line", "st-1", station_key, notes[0],
					 strlen(notes[0]), &err),
		       &err);
	assert_int_equal(rep.leaves, 10);
	assert_int_equal(rep.checkpoints, 2);
	assert_true(rep.has_checkpoint);
	assert_int_equal(rep.latest.size, 9);
	assert_string_equal(rep.latest.origin, "linesec/test-line");

	/* A proof of every event of SN-B the latest checkpoint covers: 1, 3, 6, 8. */
	lsec_audit_proof *p = NULL;
	assert_lsec_ok(lsec_audit_prove(&p, db->st, "SN-B", 0, &err), &err);
	assert_int_equal(lsec_audit_proof_count(p), 4);
	assert_int_equal(lsec_audit_proof_index(p, 2), 6);
	char *text = NULL;
	assert_lsec_ok(lsec_audit_proof_write(&text, p, &err), &err);
	lsec_audit_proof_free(p);
	p = NULL;
	/* Offline: only the file and the public key. */
	assert_lsec_ok(lsec_audit_proof_parse(&p, text, strlen(text), &err), &err);
	lsec_audit_checkpoint cp;
	assert_lsec_ok(lsec_audit_proof_check(&cp, p, station_key, &err), &err);
	assert_int_equal(cp.size, 9);
	assert_non_null(strstr(lsec_audit_proof_leaf(p, 0), "\"unit\":\"SN-B\""));
	lsec_audit_proof_free(p);
	lsec_free(text);

	/* One leaf; leaf 9 is newer than the latest checkpoint. */
	assert_lsec_ok(lsec_audit_prove(&p, db->st, NULL, 4, &err), &err);
	assert_non_null(strstr(lsec_audit_proof_leaf(p, 0), "\"action\":\"checkpoint\""));
	lsec_audit_proof_free(p);
	assert_lsec_code(lsec_audit_prove(&p, db->st, NULL, 9, &err), LSEC_E_AUDIT_NO_CHECKPOINT,
			 &err);
	assert_lsec_code(lsec_audit_prove(&p, db->st, "SN-NONE", 0, &err), LSEC_E_NOTFOUND, &err);

	/* Consistency between the two checkpoints, and refused the wrong way round. */
	lsec_buf proof = LSEC_BUF_INIT(64 * 32);
	lsec_audit_checkpoint a, b;
	assert_lsec_ok(lsec_audit_consistency(&proof, &a, &b, db->st, notes[0], notes[1],
					      station_key, &err),
		       &err);
	assert_int_equal(a.size, 4);
	assert_int_equal(b.size, 9);
	assert_true(proof.len > 0);
	lsec_buf_reset(&proof);
	assert_lsec_code(lsec_audit_consistency(&proof, &a, &b, db->st, notes[1], notes[0],
						station_key, &err),
			 LSEC_E_USAGE, &err);
	lsec_buf_release(&proof);
	lsec_free(notes[0]);
	lsec_free(notes[1]);
}

static void test_audit_log__empty_log_and_wrong_key(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_verify_report rep;
	assert_lsec_ok(lsec_audit_verify(&rep, db->st, "test-line", NULL, station_key, NULL, 0, &err), &err);
	assert_int_equal(rep.leaves, 0);
	assert_false(rep.has_checkpoint);
	lsec_audit_proof *p = NULL;
	assert_lsec_code(lsec_audit_prove(&p, db->st, NULL, 0, &err), LSEC_E_AUDIT_NO_CHECKPOINT,
			 &err);
	build_log(db->st, NULL);
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_lsec_code(lsec_audit_verify(&rep, db->st, "test-line", NULL, other, NULL, 0, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "checkpoint"));
	EVP_PKEY_free(other);
}

/* ---- the tamper matrix: raw SQL on the stored log ----------------------- */

static void tamper_edit_leaf_bytes(lsec_store *st)
{
	store_val p[] = {SV_B((const uint8_t *)"{\"seq\":2}", 9)};
	sql(st, "UPDATE audit_leaves SET leaf = ? WHERE seq = 2", p, 1);
}

/* Rewrites leaf 2 with a new person and a matching hash: only the tree shows it. */
static void tamper_rewrite_leaf_and_hash(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, st, 2, &err), &err);
	char *text = lsec_malloc(leaf.len + 1);
	assert_non_null(text);
	memcpy(text, leaf.data, leaf.len);
	text[leaf.len] = 0;
	char *at = strstr(text, "\"alice\"");
	assert_non_null(at);
	memcpy(at, "\"mallo\"", 7);
	assert_lsec_ok(lsec_audit_leaf_hash(h, (const uint8_t *)text, leaf.len, &err), &err);
	store_val p[] = {SV_B((const uint8_t *)text, leaf.len), SV_B(h, 32)};
	sql(st, "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = 2", p, 2);
	lsec_free(text);
	lsec_buf_release(&leaf);
}

static void tamper_delete_middle_leaf(lsec_store *st)
{
	sql(st, "DELETE FROM audit_leaves WHERE seq = 6", NULL, 0);
}

static void tamper_delete_tail(lsec_store *st)
{
	sql(st, "DELETE FROM audit_leaves WHERE seq >= 8", NULL, 0);
}

static void tamper_insert_leaf(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	sql(st, "UPDATE audit_leaves SET seq = seq + 1000 WHERE seq >= 3", NULL, 0);
	sql(st, "UPDATE audit_leaves SET seq = seq - 999 WHERE seq >= 1000", NULL, 0);
	/* A well-formed forged leaf in the gap, claiming seq 3. */
	lsec_audit_event ev = {.person = "mallory", .action = "flash", .unit = "SN-A"};
	char *leaf = NULL;
	uint8_t h[32];
	assert_lsec_ok(lsec_audit_leaf_build(&leaf, &ev, 3, NULL, &err), &err);
	assert_lsec_ok(lsec_audit_leaf_hash(h, (const uint8_t *)leaf, strlen(leaf), &err), &err);
	assert_lsec_ok(lsec_store_leaf_put(st, 3, "SN-A", (const uint8_t *)leaf, strlen(leaf), h,
					   NULL, 0, &err),
		       &err);
	lsec_free(leaf);
}

static void tamper_swap_leaves(lsec_store *st)
{
	sql(st, "UPDATE audit_leaves SET seq = 100 WHERE seq = 1", NULL, 0);
	sql(st, "UPDATE audit_leaves SET seq = 1 WHERE seq = 2", NULL, 0);
	sql(st, "UPDATE audit_leaves SET seq = 2 WHERE seq = 100", NULL, 0);
}

/* Leaf 5 filed under another action: a lookup by its own action misses it. */
static void tamper_hide_leaf_action(lsec_store *st)
{
	sql(st, "UPDATE audit_leaves SET action = 'hidden' WHERE seq = 5", NULL, 0);
}

static void tamper_edit_checkpoint_note(lsec_store *st)
{
	/* One character of the origin: the signature no longer verifies. */
	store_val p[] = {SV_I(first_checkpoint_id(st))};
	sql(st, "UPDATE checkpoints SET note = REPLACE(note, 'test-line', 'test-linf') WHERE id = ?",
	    p, 1);
}

static void tamper_edit_checkpoint_size(lsec_store *st)
{
	store_val p[] = {SV_I(first_checkpoint_id(st))};
	sql(st, "UPDATE checkpoints SET tree_size = 3 WHERE id = ?", p, 1);
}

static void tamper_delete_checkpoint(lsec_store *st)
{
	store_val p[] = {SV_I(first_checkpoint_id(st))};
	sql(st, "DELETE FROM checkpoints WHERE id = ?", p, 1);
}

static void tamper_insert_checkpoint(lsec_store *st)
{
	sql(st,
	    "INSERT INTO checkpoints (tree_size, root_hash, note, created) "
	    "SELECT tree_size, root_hash, note, created FROM checkpoints WHERE id = "
	    "(SELECT MIN(id) FROM checkpoints)",
	    NULL, 0);
}

static void tamper_swap_checkpoints(lsec_store *st)
{
	int64_t a = first_checkpoint_id(st);
	store_val p[] = {SV_I(a), SV_I(a + 1)};
	/* Swap the ids of the two rows (through a free id). */
	sql(st, "UPDATE checkpoints SET id = 1000000 WHERE id = ?", p, 1);
	sql(st, "UPDATE checkpoints SET id = ? WHERE id = ?", (store_val[]){SV_I(a), SV_I(a + 1)},
	    2);
	sql(st, "UPDATE checkpoints SET id = ? WHERE id = 1000000", p + 1, 1);
}

static const struct {
	const char *name;
	void (*tamper)(lsec_store *st);
	int code;
	const char *where;
} tamper_cases[] = {
	{"edit leaf bytes", tamper_edit_leaf_bytes, LSEC_E_AUDIT_LEAF_HASH, "leaf 2 "},
	/* Its station signature is over the old hash. */
	{"rewrite leaf and hash", tamper_rewrite_leaf_and_hash, LSEC_E_AUDIT_LEAF_SIGNATURE,
	 "leaf 2 "},
	{"delete a leaf", tamper_delete_middle_leaf, LSEC_E_AUDIT_LEAF_HASH, "leaf 6 is missing"},
	{"delete the tail", tamper_delete_tail, LSEC_E_AUDIT_TRUNCATED, "covers 9 leaves"},
	{"insert a leaf", tamper_insert_leaf, LSEC_E_AUDIT_LEAF_SIGNATURE, "leaf 3 is not signed"},
	{"reorder leaves", tamper_swap_leaves, LSEC_E_AUDIT_LEAF_HASH, "leaf 1 "},
	{"hide a leaf from the action index", tamper_hide_leaf_action, LSEC_E_AUDIT_INDEX,
	 "files leaf 5 under action 'hidden'"},
	{"edit a checkpoint note", tamper_edit_checkpoint_note, LSEC_E_AUDIT_SIGNATURE,
	 "checkpoint "},
	{"edit a checkpoint size", tamper_edit_checkpoint_size, LSEC_E_AUDIT_ROOT, "checkpoint "},
	{"delete a checkpoint", tamper_delete_checkpoint, LSEC_E_AUDIT_ORDER, "leaf 4 "},
	{"insert a checkpoint", tamper_insert_checkpoint, LSEC_E_AUDIT_ORDER, "checkpoint "},
	{"reorder checkpoints", tamper_swap_checkpoints, LSEC_E_AUDIT_ORDER, "checkpoint "},
};

static void test_audit_log__tamper_matrix(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	for (size_t i = 0; i < sizeof(tamper_cases) / sizeof(tamper_cases[0]); i++) {
		lsec_test_db *db = lsec_test_db_new();
		assert_lsec_ok(lsec_store_create(&db->st, db->location, &err), &err);
		lsec_test_attach_signer(db->st);
		build_log(db->st, NULL);
		expect_verify(db->st, 0, NULL, NULL);
		tamper_cases[i].tamper(db->st);
		lsec_err e = LSEC_ERR_INIT;
		lsec_audit_verify_report rep;
		int rc = lsec_audit_verify(&rep, db->st, "test-line", "st-1", station_key, NULL, 0, &e);
		if (rc != tamper_cases[i].code || strstr(e.msg, tamper_cases[i].where) == NULL) {
			fail_msg("%s: expected %d naming '%s', got %d: %s", tamper_cases[i].name,
				 tamper_cases[i].code, tamper_cases[i].where, rc, e.msg);
		}
		lsec_test_db_free(db);
	}
}

/*
 * Out of memory at every allocation of recording, checkpointing and proving
 * in turn: each call either succeeds or fails cleanly, and the log verifies
 * after every fault (no half-written leaf or checkpoint).
 */
static void test_audit_log__out_of_memory_leaves_a_whole_log(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	build_log(db->st, NULL);
	unsigned failures = 0;
	for (unsigned long n = 1; n < 400; n++) {
		uint64_t before = 0, after = 0, seq = 0;
		assert_lsec_ok(lsec_store_leaf_count(&before, db->st, &err), &err);
		lsec_alloc_fail_after(n);
		int r1 = record_one(db->st, "alice", "SN-A", "flash", &seq, &err);
		lsec_alloc_fail_after(0);
		assert_lsec_ok(lsec_store_leaf_count(&after, db->st, &err), &err);
		assert_int_equal(after, before + (r1 == 0 ? 1 : 0));
		assert_false(lsec_store_in_transaction(db->st));

		lsec_alloc_fail_after(n);
		char *note = NULL;
		int r2 = lsec_audit_checkpoint_create(&note, db->st, "test-line", "st-1",
						      station_key, "auditor-ann", &err);
		lsec_alloc_fail_after(0);
		assert_true(r2 == 0 || note == NULL);
		lsec_free(note);
		assert_false(lsec_store_in_transaction(db->st));

		lsec_alloc_fail_after(n);
		lsec_audit_proof *p = NULL;
		int r3 = lsec_audit_prove(&p, db->st, "SN-B", 0, &err);
		lsec_alloc_fail_after(0);
		assert_true(r3 == 0 || p == NULL);
		lsec_audit_proof_free(p);

		failures += (r1 < 0) + (r2 < 0) + (r3 < 0);
		expect_verify(db->st, 0, NULL, NULL);
		if (r1 == 0 && r2 == 0 && r3 == 0) {
			break; /* past the last allocation of all three */
		}
	}
	assert_true(failures > 0);
}

/* A log rewritten from scratch (or cut back) is caught by an exported checkpoint. */
static void test_audit_log__exported_checkpoint_catches_rewrite(void **state)
{
	lsec_test_db *db = *state;
	char *notes[2] = {NULL, NULL};
	build_log(db->st, notes);
	/* Cut back to 4 leaves and drop the second checkpoint: internally consistent. */
	sql(db->st, "DELETE FROM audit_leaves WHERE seq >= 5", NULL, 0);
	sql(db->st, "DELETE FROM checkpoints WHERE tree_size = 9", NULL, 0);
	expect_verify(db->st, 0, NULL, NULL);
	expect_verify(db->st, LSEC_E_AUDIT_TRUNCATED, "exported checkpoint covers 9", notes[1]);
	/* Rewrite history and re-sign: the exported checkpoint no longer matches. */
	sql(db->st, "DELETE FROM audit_leaves", NULL, 0);
	sql(db->st, "DELETE FROM checkpoints", NULL, 0);
	uint64_t seq;
	lsec_err err = LSEC_ERR_INIT;
	for (int i = 0; i < 12; i++) {
		assert_lsec_ok(record_one(db->st, "mallory", "SN-A", "flash", &seq, &err), &err);
	}
	expect_verify(db->st, 0, NULL, NULL);
	expect_verify(db->st, LSEC_E_AUDIT_ROOT, "rewritten", notes[1]);
	lsec_free(notes[0]);
	lsec_free(notes[1]);
}

/* Root of the latest stored checkpoint and its size. */
static uint64_t latest_root(lsec_store *st, uint8_t root[32])
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t size = 0;
	assert_lsec_ok(lsec_store_checkpoint_latest(&size, root, NULL, NULL, st, &err), &err);
	return size;
}

static void checkpoint(lsec_store *st, int code)
{
	lsec_err err = LSEC_ERR_INIT;
	char *note = NULL;
	int rc = lsec_audit_checkpoint_create(&note, st, "test-line", "st-1", station_key,
					      "auditor-ann", &err);
	if (rc != code) {
		fail_msg("checkpoint: expected %d, got %d: %s", code, rc, err.msg);
	}
	lsec_free(note);
}

/*
 * A checkpoint starts from the range of the last one (in memory, or stored
 * with it for a fresh station process) and reads only the leaves after it:
 * a leaf rewritten before that range is left to 'audit verify', one after
 * it is refused, and the root it signs is the whole log's either way.
 */
static void test_audit_log__checkpoint_is_incremental(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq;
	uint8_t root[32];
	lsec_audit_verify_report rep;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	build_log(db->st, NULL);
	/* Leaf 2 is rewritten after the checkpoints covered it. */
	assert_lsec_ok(lsec_store_leaf_get(&leaf, root, NULL, db->st, 2, &err), &err);
	store_val bad[] = {SV_B((const uint8_t *)"{}", 2)}, good[] = {SV_B(leaf.data, leaf.len)};
	sql(db->st, "UPDATE audit_leaves SET leaf = ? WHERE seq = 2", bad, 1);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			lsec_test_attach_signer(db->st); /* a new process: the stored range */
		}
		assert_lsec_ok(record_one(db->st, "bob", "SN-C", "flash", &seq, &err), &err);
		checkpoint(db->st, 0);
	}
	expect_verify(db->st, LSEC_E_AUDIT_LEAF_HASH, "leaf 2 ", NULL);
	sql(db->st, "UPDATE audit_leaves SET leaf = ? WHERE seq = 2", good, 1);
	lsec_buf_release(&leaf);
	assert_lsec_ok(lsec_audit_verify(&rep, db->st, "test-line", "st-1", station_key, NULL, 0,
					 &err),
		       &err);
	assert_int_equal(latest_root(db->st, root), rep.leaves - 1);
	/* The last checkpoint leaf is after the root it records. */
	assert_memory_equal(rep.latest.root, root, 32);
	/* A leaf after the range is read from its bytes: rewritten, it is refused. */
	assert_lsec_ok(record_one(db->st, "bob", "SN-C", "flash", &seq, &err), &err);
	store_val p[] = {SV_B((const uint8_t *)"{}", 2), SV_I(seq)};
	sql(db->st, "UPDATE audit_leaves SET leaf = ? WHERE seq = ?", p, 2);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_HASH);
	lsec_test_attach_signer(db->st);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_HASH);
}

/*
 * Edits the latest checkpoint's stored range: 0 one byte of its last hash,
 * 1 the range of the first checkpoint (another size), 2 none.
 */
static void edit_latest_range(lsec_store *st, int edit)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t size = 0;
	uint8_t root[32];
	lsec_buf r = LSEC_BUF_INIT(LSEC_AUDIT__RANGE_MAX);
	static const char *const q[] = {
		"UPDATE checkpoints SET tree_range = ? WHERE id = (SELECT MAX(id) FROM checkpoints)",
		"UPDATE checkpoints SET tree_range = (SELECT tree_range FROM checkpoints WHERE id = "
		"(SELECT MIN(id) FROM checkpoints)) WHERE id = (SELECT MAX(id) FROM checkpoints)",
		"UPDATE checkpoints SET tree_range = NULL",
	};
	assert_lsec_ok(lsec_store_checkpoint_latest(&size, root, NULL, &r, st, &err), &err);
	assert_true(r.len > 8);
	r.data[r.len - 1] ^= 1;
	store_val p[] = {SV_B(r.data, r.len)};
	sql(st, q[edit], p, edit == 0 ? 1 : 0);
	lsec_buf_release(&r);
}

/*
 * A checkpoint row's stored range is trusted only when it hashes to the
 * root of its verifying note: a range edited by SQL is recomputed from the
 * leaves (the new checkpoint signs the true tree), and with a leaf under it
 * rewritten too (bytes and hash), the recomputed tree misses the signed
 * root and the checkpoint is refused.
 */
static void test_audit_log__tampered_range_is_not_trusted(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq;
	lsec_audit_verify_report rep;
	uint8_t root[32];
	build_log(db->st, NULL);
	for (int edit = 0; edit < 3; edit++) {
		lsec_test_attach_signer(db->st); /* nothing remembered in memory */
		assert_lsec_ok(record_one(db->st, "bob", "SN-C", "flash", &seq, &err), &err);
		edit_latest_range(db->st, edit);
		checkpoint(db->st, 0);
		assert_lsec_ok(lsec_audit_verify(&rep, db->st, "test-line", "st-1", station_key,
						 NULL, 0, &err),
			       &err);
		latest_root(db->st, root);
		assert_memory_equal(rep.latest.root, root, 32);
	}
	/* The range is bad and a leaf under the last checkpoint was rewritten with its hash. */
	lsec_test_attach_signer(db->st);
	edit_latest_range(db->st, 0);
	tamper_rewrite_leaf_and_hash(db->st);
	checkpoint(db->st, LSEC_E_AUDIT_ROOT);
}

/*
 * Proofs come from the kept subtrees; one edited by SQL makes the proof
 * fail its check against the signed root (never handed out), and with none
 * kept the proof streams the log and is the same.
 */
static void test_audit_log__proof_from_kept_nodes(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq, n = 0;
	char *fast = NULL, *slow = NULL;
	lsec_audit_proof *p = NULL;
	for (int i = 0; i < 37; i++) {
		assert_lsec_ok(record_one(db->st, "alice", i % 3 ? "SN-A" : "SN-B", "flash", &seq,
					  &err),
			       &err);
		if (i % 11 == 0) {
			checkpoint(db->st, 0);
		}
	}
	checkpoint(db->st, 0);
	assert_lsec_ok(lsec_store__count(db->st, "SELECT COUNT(*) FROM audit_nodes", &n, &err),
		       &err);
	assert_true(n > 20);
	assert_lsec_ok(lsec_audit_prove(&p, db->st, "SN-B", 0, &err), &err);
	assert_lsec_ok(lsec_audit_proof_write(&fast, p, &err), &err);
	lsec_audit_proof_free(p);
	sql(db->st, "DELETE FROM audit_nodes", NULL, 0);
	assert_lsec_ok(lsec_audit_prove(&p, db->st, "SN-B", 0, &err), &err);
	assert_lsec_ok(lsec_audit_proof_write(&slow, p, &err), &err);
	lsec_audit_proof_free(p);
	assert_string_equal(fast, slow);
	/* A new checkpoint starting from the full walk keeps them all again. */
	lsec_test_attach_signer(db->st);
	sql(db->st, "UPDATE checkpoints SET tree_range = NULL", NULL, 0);
	checkpoint(db->st, 0);
	assert_lsec_ok(lsec_store__count(db->st, "SELECT COUNT(*) FROM audit_nodes", &n, &err),
		       &err);
	assert_true(n > 20);
	sql(db->st, "UPDATE audit_nodes SET hash = (SELECT root_hash FROM checkpoints LIMIT 1)",
	    NULL, 0);
	assert_lsec_code(lsec_audit_prove(&p, db->st, "SN-B", 0, &err), LSEC_E_AUDIT_PROOF, &err);
	assert_null(p);
	lsec_free(fast);
	lsec_free(slow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_log__record_appends_hashed_leaves,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__record_refusals_leave_nothing,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__checkpoint_verify_prove,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__empty_log_and_wrong_key,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test(test_audit_log__tamper_matrix),
		cmocka_unit_test_setup_teardown(test_audit_log__out_of_memory_leaves_a_whole_log,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__exported_checkpoint_catches_rewrite,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__checkpoint_is_incremental,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__tampered_range_is_not_trusted,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_log__proof_from_kept_nodes,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	if (key_setup(NULL) != 0) {
		return 1;
	}
	int failed = lsec_test_run_backends("audit-log", tests, sizeof(tests) / sizeof(tests[0]));
	key_teardown(NULL);
	return failed;
}
