/*
 * The signed index, on both backends: the root of the empty index, what a
 * checkpoint commits and how it is updated, a bucket whose stored rows
 * were changed, and a column that lists other leaves than the index holds.
 */
#include "helpers/store_fixture.h"

#include "audit/audit_int.h"
#include "store/store_int.h"

#include <jansson.h>
#include <string.h>

static uint64_t add(lsec_store *st, const char *unit, const char *action)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq = 0;
	lsec_audit_event e = {.person = "alice", .unit = unit, .action = action};
	assert_lsec_ok(lsec_audit_append(&seq, st, &e, &err), &err);
	return seq;
}

/* Signs a checkpoint and returns it parsed. */
static lsec_audit_checkpoint checkpoint(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	char *note = NULL;
	lsec_audit_checkpoint cp;
	assert_lsec_ok(lsec_audit_checkpoint_create(&note, st, LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key(), "alice", &err),
		       &err);
	assert_lsec_ok(lsec_audit_checkpoint_parse(&cp, note, strlen(note), &err), &err);
	assert_non_null(strstr(note, "\nlinesec-index "));
	lsec_free(note);
	return cp;
}

static void sql(lsec_store *st, const char *q)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store__query(st, q, NULL, 0, NULL, NULL, &err), &err);
}

/* The chain head over the leaves the unit column lists below to. */
static void chain_of(uint8_t head[32], size_t *n_out, lsec_store *st, const char *unit, uint64_t to)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_leaf_ref *refs = NULL;
	size_t n = 0;
	memset(head, 0, 32);
	assert_lsec_ok(lsec_store_leaf_refs(&refs, &n, st, LSEC_STORE_LEAF_UNIT, unit, to, &err),
		       &err);
	for (size_t i = 0; i < n; i++) {
		assert_lsec_ok(lsec_audit__index_chain(head, refs[i].seq, refs[i].hash, &err), &err);
	}
	*n_out = n;
	lsec_free(refs);
}

static void test_audit_index__empty_root(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t want[32], root[32];
	static const char prefix[] = "linesec-index-bucket/1\n";
	assert_lsec_ok(lsec_sha256(want, prefix, sizeof(prefix) - 1, &err), &err);
	for (int l = 0; l < 16; l++) {
		assert_lsec_ok(lsec_audit_node_hash(want, want, want, &err), &err);
	}
	assert_lsec_ok(lsec_audit__index_empty_root(root, &err), &err);
	assert_memory_equal(root, want, 32);
	/* The first checkpoint of an empty log commits it, and stores nothing. */
	lsec_audit_checkpoint cp = checkpoint(db->st);
	assert_int_equal(cp.size, 0);
	assert_true(cp.has_index);
	assert_memory_equal(cp.index_root, want, 32);
	uint64_t n = 0;
	assert_lsec_ok(lsec_store__count(db->st, "SELECT COUNT(*) FROM audit_index_nodes", &n, &err),
		       &err);
	assert_int_equal(n, 0);
}

static void test_audit_index__update(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t head[32], want[32];
	uint64_t count = 0;
	size_t n = 0;
	add(db->st, "SN-1", "unit.register");
	add(db->st, "SN-2", "unit.register");
	add(db->st, "SN-1", "run.start");
	lsec_audit_checkpoint cp = checkpoint(db->st);
	assert_int_equal(cp.size, 3);
	assert_lsec_ok(lsec_audit__index_get(&count, head, db->st, cp.index_root, cp.size,
					     "unit:SN-1", &err),
		       &err);
	chain_of(want, &n, db->st, "SN-1", cp.size);
	assert_int_equal(count, 2);
	assert_int_equal(n, 2);
	assert_memory_equal(head, want, 32);
	assert_lsec_ok(lsec_audit__index_get(&count, head, db->st, cp.index_root, cp.size,
					     "action:unit.register", &err),
		       &err);
	assert_int_equal(count, 2);
	assert_lsec_ok(lsec_audit__index_get(&count, head, db->st, cp.index_root, cp.size,
					     "unit:SN-3", &err),
		       &err);
	assert_int_equal(count, 0);
	/* The next checkpoint adds its leaves (the checkpoint leaf among them). */
	add(db->st, "SN-1", "run.finish");
	lsec_audit_checkpoint cp2 = checkpoint(db->st);
	assert_int_equal(cp2.size, 5);
	assert_memory_not_equal(cp2.index_root, cp.index_root, 32);
	assert_lsec_ok(lsec_audit__index_get(&count, head, db->st, cp2.index_root, cp2.size,
					     "unit:SN-1", &err),
		       &err);
	chain_of(want, &n, db->st, "SN-1", cp2.size);
	assert_int_equal(count, 3);
	assert_memory_equal(head, want, 32);
	assert_lsec_ok(lsec_audit__index_get(&count, head, db->st, cp2.index_root, cp2.size,
					     "action:checkpoint", &err),
		       &err);
	assert_int_equal(count, 1);
	/* Lookups: complete, and the leaves after the checkpoint found by content. */
	add(db->st, "SN-1", "ship-gate");
	json_t *leaves = NULL;
	assert_lsec_ok(lsec_audit_unit_leaves(&leaves, db->st, "SN-1", &err), &err);
	assert_int_equal(json_array_size(leaves), 4);
	json_decref(leaves);
}

static void test_audit_index__changed_row_fails(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t head[32];
	uint64_t count = 0;
	add(db->st, "SN-1", "unit.register");
	lsec_audit_checkpoint cp = checkpoint(db->st);
	sql(db->st, "UPDATE audit_index SET leaves = 2 WHERE ikey = 'unit:SN-1'");
	assert_lsec_code(lsec_audit__index_get(&count, head, db->st, cp.index_root, cp.size,
					       "unit:SN-1", &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_non_null(strstr(err.msg, "registry table audit_index holds bucket"));
	json_t *leaves = NULL;
	assert_lsec_code(lsec_audit_unit_leaves(&leaves, db->st, "SN-1", &err), LSEC_E_AUDIT_INDEX,
			 &err);
	assert_null(leaves);
	/* A checkpoint touching that bucket refuses to build on it. */
	add(db->st, "SN-1", "run.start");
	assert_lsec_code(lsec_audit_checkpoint_create(NULL, db->st, LSEC_TEST_LINE,
						      LSEC_TEST_STATION, lsec_test_station_key(),
						      "alice", &err),
			 LSEC_E_AUDIT_INDEX, &err);
	sql(db->st, "UPDATE audit_index SET leaves = 1 WHERE ikey = 'unit:SN-1'");
	/* A sibling on the bucket's path stored by SQL fails the same way. */
	uint32_t no = 0;
	assert_lsec_ok(lsec_audit__index_bucket_of(&no, "unit:SN-1", &err), &err);
	assert_lsec_ok(lsec_store_index_node_put(db->st, 0, no ^ 1u, head, &err), &err);
	assert_lsec_code(lsec_audit__index_get(&count, head, db->st, cp.index_root, cp.size,
					       "unit:SN-1", &err),
			 LSEC_E_AUDIT_INDEX, &err);
}

static void test_audit_index__chain_mismatch(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *leaves = NULL;
	add(db->st, "SN-1", "unit.register");
	uint64_t q = add(db->st, "SN-1", "quarantine");
	uint64_t other = add(db->st, "SN-2", "unit.register");
	(void)checkpoint(db->st);
	/* Hidden through the unit column: fewer leaves than the index holds. */
	char q_sql[128];
	snprintf(q_sql, sizeof(q_sql), "UPDATE audit_leaves SET unit = NULL WHERE seq = %llu",
		 (unsigned long long)q);
	sql(db->st, q_sql);
	assert_lsec_code(lsec_audit_unit_leaves(&leaves, db->st, "SN-1", &err), LSEC_E_AUDIT_INDEX,
			 &err);
	assert_non_null(strstr(err.msg, "registry table audit_leaves lists 1 leaves under unit "
					"'SN-1' below leaf 3, but the signed index of that "
					"checkpoint holds 2: a leaf's index column was changed"));
	/* As many leaves, but another one: the chain head differs. */
	char o_sql[128]; /* the store caches statements by their text's address */
	snprintf(o_sql, sizeof(o_sql), "UPDATE audit_leaves SET unit = 'SN-1' WHERE seq = %llu",
		 (unsigned long long)other);
	sql(db->st, o_sql);
	assert_lsec_code(lsec_audit_unit_leaves(&leaves, db->st, "SN-1", &err), LSEC_E_AUDIT_INDEX,
			 &err);
	assert_non_null(strstr(err.msg, "holds 2 others"));
	/* The action column: the quarantine hidden from its action. */
	sql(db->st, "UPDATE audit_leaves SET action = 'x' WHERE action = 'quarantine'");
	assert_lsec_code(lsec_audit_leaves_find(&leaves, db->st, "quarantine", NULL, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_non_null(strstr(err.msg, "lists 0 leaves under action 'quarantine'"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_audit_index__empty_root),
		T(test_audit_index__update),
		T(test_audit_index__changed_row_fails),
		T(test_audit_index__chain_mismatch),
	};
	return lsec_test_run_backends("audit/index", tests, sizeof(tests) / sizeof(tests[0]));
}
