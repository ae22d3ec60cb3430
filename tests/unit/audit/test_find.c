/*
 * Reading leaves back for a decision, on both backends: by action through
 * the registry's index, matched on hashed fields, each leaf checked against
 * its stored hash and the action it was filed under.
 */
#include "helpers/store_fixture.h"

#include "linesec/audit.h"
#include "store/store_int.h"

#include <jansson.h>
#include <string.h>

static void add(lsec_store *st, const char *person, const char *action, const char *product,
		const char *version)
{
	lsec_err err = LSEC_ERR_INIT;
	json_t *ev = json_pack("{s:s,s:s}", "product", product, "version", version);
	lsec_audit_event e = {.person = person, .action = action, .sop = "flash", .sop_version = 2,
			      .evidence = ev};
	assert_lsec_ok(lsec_audit_append(NULL, st, &e, &err), &err);
	json_decref(ev);
}

static void test_audit_find__by_action_and_fields(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *found = NULL;
	add(db->st, "alice", "release.submit", "sensor", "1.0.0"); /* 0 */
	add(db->st, "bob", "release.approve", "sensor", "1.0.0");  /* 1 */
	add(db->st, "bob", "release.approve", "router", "1.0.0");  /* 2 */
	add(db->st, "carol", "release.approve", "sensor", "2.0.0"); /* 3 */
	const char *m[] = {"evidence.product", "sensor", "sop_version", "2", NULL};
	assert_lsec_ok(lsec_audit_leaves_find(&found, db->st, "release.approve", m, &err), &err);
	assert_int_equal(json_array_size(found), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(found, 0), "seq")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(found, 1), "seq")), 3);
	char buf[32];
	assert_string_equal(lsec_audit_leaf_field(buf, json_array_get(found, 1), "person"), "carol");
	assert_string_equal(lsec_audit_leaf_field(buf, json_array_get(found, 1), "sop_version"), "2");
	assert_null(lsec_audit_leaf_field(buf, json_array_get(found, 1), "evidence.quota"));
	json_decref(found);
	const char *none[] = {"person", "nobody", NULL};
	assert_lsec_ok(lsec_audit_leaves_find(&found, db->st, "release.approve", none, &err), &err);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	assert_lsec_ok(lsec_audit_leaves_find(&found, db->st, "release.revoke", NULL, &err), &err);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	/* Only the leaves from a sequence number on: what happened after a given leaf. */
	assert_lsec_ok(lsec_audit_leaves_find_from(&found, db->st, "release.approve", 2, m, &err),
		       &err);
	assert_int_equal(json_array_size(found), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(found, 0), "seq")), 3);
	json_decref(found);
	assert_lsec_ok(lsec_audit_leaves_find_from(&found, db->st, "release.approve", 4, NULL, &err),
		       &err);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	assert_lsec_ok(lsec_audit_leaves_find_from(&found, db->st, "release.approve", UINT64_MAX,
						   NULL, &err),
		       &err);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
}

static void test_audit_find__index_and_bytes_checked(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *found = NULL;
	add(db->st, "alice", "release.submit", "sensor", "1.0.0"); /* 0 */
	add(db->st, "bob", "unit.register", "sensor", "1.0.0");    /* 1 */
	/* The index column says approval, the hashed leaf does not. After the
	 * latest checkpoint leaves are found by their content: not counted. */
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE audit_leaves SET action = 'release.approve' WHERE seq = 1",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	assert_lsec_ok(lsec_audit_leaves_find(&found, db->st, "release.approve", NULL, &err), &err);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	found = NULL;
	/* Below a checkpoint the column's list must be what the signed index holds: named. */
	assert_lsec_ok(lsec_audit_checkpoint_create(NULL, db->st, LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key(), "alice", &err),
		       &err);
	assert_lsec_code(lsec_audit_leaves_find(&found, db->st, "release.approve", NULL, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_null(found);
	assert_non_null(strstr(err.msg, "audit_leaves lists 1 leaves under action 'release.approve' "
					"below leaf 2, but the signed index of that checkpoint holds 0"));
	/* Leaf bytes rewritten by SQL no longer match their stored hash. */
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE audit_leaves SET leaf = ? WHERE seq = 0",
					 (store_val[]){SV_B((const uint8_t *)"{\"action\":\"release.submit\",\"person\":\"eve\",\"seq\":0}", 50)},
					 1, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err),
			 LSEC_E_AUDIT_LEAF_HASH, &err);
	assert_non_null(strstr(err.msg, "audit_leaves holds leaf 0"));
	json_t *j = NULL;
	assert_lsec_code(lsec_audit_leaf_read(&j, db->st, 0, NULL, &err), LSEC_E_AUDIT_LEAF_HASH,
			 &err);
	assert_null(j);
	/* Read by unit: the unit the leaf names must be the one asked for. */
	assert_lsec_code(lsec_audit_leaf_read(&j, db->st, 1, "SN-1", &err), LSEC_E_AUDIT_INDEX, &err);
	assert_lsec_ok(lsec_audit_leaf_read(&j, db->st, 1, NULL, &err), &err);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1);
	json_decref(j);
}

static void test_audit_find__no_trusted_keys_refused(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *j = NULL, *found = NULL;
	lsec_audit_signer *v = NULL;
	add(db->st, "alice", "release.submit", "sensor", "1.0.0"); /* 0 */
	/* Without trusted station keys a leaf is never read by its hash alone. */
	lsec_audit_signer_attach(db->st, NULL);
	assert_lsec_code(lsec_audit_leaf_read(&j, db->st, 0, NULL, &err), LSEC_E_AUDIT_NO_SIGNER,
			 &err);
	assert_null(j);
	assert_non_null(strstr(err.msg, "no trusted station keys are attached"));
	assert_lsec_code(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err),
			 LSEC_E_AUDIT_NO_SIGNER, &err);
	assert_null(found);
	/* A verifier trusting none is no better. */
	assert_lsec_ok(lsec_audit_signer_new_verifier(&v, LSEC_TEST_LINE, &err), &err);
	lsec_audit_signer_attach(db->st, v);
	assert_lsec_code(lsec_audit_leaf_read(&j, db->st, 0, NULL, &err), LSEC_E_AUDIT_NO_SIGNER,
			 &err);
	/* A verifier trusting the station's public key reads it, and writes nothing. */
	assert_lsec_ok(lsec_audit_signer_trust(v, lsec_test_station_key(), &err), &err);
	assert_lsec_ok(lsec_audit_leaf_read(&j, db->st, 0, NULL, &err), &err);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 0);
	json_decref(j);
	lsec_audit_event e = {.person = "eve", .action = "release.approve"};
	assert_lsec_code(lsec_audit_append(NULL, db->st, &e, &err), LSEC_E_AUDIT_NO_SIGNER, &err);
}

/*
 * A station checks each leaf's signature once (its own leaves it signed):
 * remembered by seq, hash and signature bytes. A leaf this process wrote and
 * read whose stored signature alone is rewritten, or whose bytes and hash are
 * rewritten together (its signature kept), is checked again and refused, by
 * the lookup and by the checkpoint.
 */
static void test_audit_find__remembered_signature_keyed_by_hash(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *found = NULL;
	uint8_t h[32];
	add(db->st, "alice", "release.submit", "sensor", "1.0.0"); /* 0 */
	add(db->st, "bob", "release.submit", "sensor", "1.1.0");   /* 1 */
	assert_lsec_ok(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err), &err);
	assert_int_equal(json_array_size(found), 2);
	json_decref(found);
	found = NULL;
	/* The signature alone rewritten (bytes and hash unchanged): checked again, refused. */
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE audit_leaves SET leaf_sig = ? WHERE seq = 0",
					 (store_val[]){SV_B((const uint8_t *)"0123456789012345678901234567"
									     "8901234567890123456789012345"
									     "678901234567",
							    LSEC_AUDIT_LEAF_SIG_LEN)},
					 1, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_null(found);
	assert_non_null(strstr(err.msg, "leaf 0 is bad"));
	const char *forged = "{\"action\":\"release.submit\",\"person\":\"eve\",\"seq\":1}";
	assert_lsec_ok(lsec_audit_leaf_hash(h, (const uint8_t *)forged, strlen(forged), &err), &err);
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = 1",
					 (store_val[]){SV_B((const uint8_t *)forged, strlen(forged)),
						       SV_B(h, 32)},
					 2, NULL, NULL, &err),
		       &err);
	json_t *j = NULL;
	assert_lsec_code(lsec_audit_leaf_read(&j, db->st, 1, NULL, &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_null(j);
	assert_non_null(strstr(err.msg, "leaf 1 is bad"));
	assert_lsec_code(lsec_audit_checkpoint_create(NULL, db->st, LSEC_TEST_LINE,
						      LSEC_TEST_STATION, lsec_test_station_key(),
						      "alice", &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "leaf 0 is bad"));
}

/*
 * A lookup reuses what it derived from a tail leaf it read before (its hash
 * and index keys) only while the row holds the very same bytes and stored
 * hash: leaf bytes rewritten after a lookup (hash kept) are refused by the
 * next lookup of the same process, and bytes rewritten with a matching hash
 * (naming another action) are refused by their signature, not skipped.
 */
static void test_audit_find__tail_memo_keyed_by_bytes(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *found = NULL;
	uint8_t h[32];
	uint64_t n = 0;
	add(db->st, "alice", "release.submit", "sensor", "1.0.0"); /* 0 */
	add(db->st, "bob", "release.submit", "sensor", "1.1.0");   /* 1 */
	for (int i = 0; i < 2; i++) { /* the second time from the memo: the same answer */
		assert_lsec_ok(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err),
			       &err);
		assert_int_equal(json_array_size(found), 2);
		assert_string_equal(json_string_value(json_object_get(json_array_get(found, 1),
								       "person")),
				    "bob");
		json_decref(found);
		found = NULL;
	}
	assert_lsec_ok(lsec_audit_leaves_count(&n, db->st, "action", "release.submit", &err), &err);
	assert_int_equal(n, 2);
	/* Bytes rewritten in place (bob becomes eve, the length and the stored hash kept): the
	 * memo does not answer, the row is refused. */
	lsec_buf leaf = LSEC_BUF_INIT(1u << 16);
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, db->st, 1, &err), &err);
	uint8_t *bob = memmem(leaf.data, leaf.len, "\"bob\"", 5);
	assert_non_null(bob);
	memcpy(bob, "\"eve\"", 5);
	assert_lsec_ok(lsec_store__query(db->st, "UPDATE audit_leaves SET leaf = ? WHERE seq = 1",
					 (store_val[]){SV_B(leaf.data, leaf.len)}, 1, NULL, NULL,
					 &err),
		       &err);
	lsec_buf_release(&leaf);
	assert_lsec_code(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err),
			 LSEC_E_AUDIT_LEAF_HASH, &err);
	assert_null(found);
	assert_non_null(strstr(err.msg, "audit_leaves holds leaf 1"));
	assert_lsec_code(lsec_audit_leaves_count(&n, db->st, "action", "release.submit", &err),
			 LSEC_E_AUDIT_LEAF_HASH, &err);
	/* Bytes and hash rewritten together (no longer naming the action): its signature. */
	const char *other = "{\"action\":\"release.revoke\",\"person\":\"eve\",\"seq\":1}";
	assert_lsec_ok(lsec_audit_leaf_hash(h, (const uint8_t *)other, strlen(other), &err), &err);
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = 1",
					 (store_val[]){SV_B((const uint8_t *)other, strlen(other)),
						       SV_B(h, 32)},
					 2, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_audit_leaves_find(&found, db->st, "release.submit", NULL, &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_null(found);
	assert_non_null(strstr(err.msg, "leaf 1 is bad"));
}

/* The persons of the release.revoke leaves one lookup finds, as "a,b" (it must succeed). */
static char *revokers(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	json_t *found = NULL;
	char *out = lsec_asprintf("%s", "");
	assert_lsec_ok(lsec_audit_leaves_find(&found, st, "release.revoke", NULL, &err), &err);
	for (size_t i = 0; i < json_array_size(found); i++) {
		char *next = lsec_asprintf("%s%s%s", out, i ? "," : "",
					   json_string_value(json_object_get(json_array_get(found, i),
									     "person")));
		lsec_free(out);
		out = next;
	}
	json_decref(found);
	return out;
}

/*
 * A fork of the tail under a running process, in the order a revocation
 * happens on a line: the tail after the latest checkpoint saved and cut
 * back by SQL, a revocation recorded by a station in its place and the
 * checkpoint it forces signed, that checkpoint's own leaf deleted and the
 * saved rows put back (the last leaf the process read is the very same).
 * The process's next lookup, with no leaf appended since, sees the
 * revocation: any memory of earlier lookups must not hide it.
 */
static void test_audit_find__fork_under_a_reader_is_seen(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *got = NULL, *sql = NULL;
	uint64_t n = 0;
	add(db->st, "alice", "release.submit", "sensor", "1.0.0"); /* 0 */
	assert_lsec_ok(lsec_audit_checkpoint_create(NULL, db->st, LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key(), "alice", &err),
		       &err);
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	add(db->st, "dan", "unit.note", "sensor", "1.0.0"); /* n */
	add(db->st, "ed", "unit.note", "sensor", "1.0.0");  /* n + 1 */
	add(db->st, "fay", "unit.note", "sensor", "1.0.0"); /* n + 2 */
	got = revokers(db->st);
	assert_string_equal(got, "");
	lsec_free(got);
	sql = lsec_asprintf("CREATE TABLE saved AS SELECT * FROM audit_leaves WHERE seq >= %llu",
			    (unsigned long long)n + 2);
	assert_lsec_ok(lsec_store__query(db->st, sql, NULL, 0, NULL, NULL, &err), &err);
	lsec_free(sql);
	sql = lsec_asprintf("DELETE FROM audit_leaves WHERE seq >= %llu", (unsigned long long)n);
	assert_lsec_ok(lsec_store__query(db->st, sql, NULL, 0, NULL, NULL, &err), &err);
	lsec_free(sql);
	add(db->st, "officer", "release.revoke", "sensor", "1.0.0"); /* n */
	assert_lsec_ok(lsec_audit_checkpoint_create(NULL, db->st, LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key(), "alice", &err),
		       &err); /* its leaf: n + 1 */
	sql = lsec_asprintf("DELETE FROM audit_leaves WHERE seq >= %llu", (unsigned long long)n + 1);
	assert_lsec_ok(lsec_store__query(db->st, sql, NULL, 0, NULL, NULL, &err), &err);
	lsec_free(sql);
	assert_lsec_ok(lsec_store__query(db->st, "INSERT INTO audit_leaves SELECT * FROM saved", NULL,
					 0, NULL, NULL, &err),
		       &err);
	json_t *found = NULL;
	int rc = lsec_audit_leaves_find(&found, db->st, "release.revoke", NULL, &err);
	if (rc == 0) {
		assert_int_equal(json_array_size(found), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0),
								       "person")),
				    "officer");
	}
	json_decref(found);
}

#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_audit_find__by_action_and_fields),
		T(test_audit_find__index_and_bytes_checked),
		T(test_audit_find__no_trusted_keys_refused),
		T(test_audit_find__remembered_signature_keyed_by_hash),
		T(test_audit_find__tail_memo_keyed_by_bytes),
		T(test_audit_find__fork_under_a_reader_is_seen),
	};
	return lsec_test_run_backends("audit/find", tests, sizeof(tests) / sizeof(tests[0]));
}
