/* Opening, migrations, transactions and the raw audit log storage, on both backends. */
#include "helpers/store_fixture.h"
#include "store/store_int.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_store_store__create_makes_latest_schema(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	int v = 0;
	assert_lsec_ok(lsec_store_schema_version(&v, db->st, &err), &err);
	assert_int_equal(v, lsec_store_schema_latest());
	assert_string_equal(lsec_store_backend(db->st),
			    db->backend == LSEC_TEST_SQLITE ? "sqlite" : "postgres");
	/* Reopening an up-to-date registry changes nothing. */
	lsec_store *again = NULL;
	assert_lsec_ok(lsec_store_open(&again, db->location, &err), &err);
	assert_lsec_ok(lsec_store_schema_version(&v, again, &err), &err);
	assert_int_equal(v, lsec_store_schema_latest());
	lsec_store_close(again);
}

static void test_store_store__old_version_migrated_keeping_data(void **state)
{
	(void)state;
	lsec_test_db *db = lsec_test_db_new();
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	assert_lsec_ok(lsec_store__create_version(&st, db->location, 1, &err), &err);
	int v = 0;
	assert_lsec_ok(lsec_store_schema_version(&v, st, &err), &err);
	assert_int_equal(v, 1);
	/* Leaves as a version-1 registry stored them (no action column yet). */
	static const char l0[] = "{\"action\":\"release.approve\",\"seq\":0}";
	static const char l1[] = "{\"person\":\"p\",\"seq\":1}";
	uint8_t h[32] = {1};
	store_val p0[] = {SV_I(0), SV_S("SN1"), SV_B((const uint8_t *)l0, strlen(l0)), SV_B(h, 32)};
	store_val p1[] = {SV_I(1), SV_NUL, SV_B((const uint8_t *)l1, strlen(l1)), SV_B(h, 32)};
	assert_lsec_ok(lsec_store__query(st,
					 "INSERT INTO audit_leaves (seq, unit, leaf, leaf_hash, created)"
					 " VALUES (?, ?, ?, ?, 'now')",
					 p0, 4, NULL, NULL, &err),
		       &err);
	assert_lsec_ok(lsec_store__query(st,
					 "INSERT INTO audit_leaves (seq, unit, leaf, leaf_hash, created)"
					 " VALUES (?, ?, ?, ?, 'now')",
					 p1, 4, NULL, NULL, &err),
		       &err);
	lsec_store_close(st);

	assert_lsec_ok(lsec_store_open(&st, db->location, &err), &err);
	assert_lsec_ok(lsec_store_schema_version(&v, st, &err), &err);
	assert_int_equal(v, lsec_store_schema_latest());
	uint64_t *seqs = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_leaf_seqs_for_unit(&seqs, &n, st, "SN1", &err), &err);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], 0);
	lsec_free(seqs);
	/* The migration filled the action index of the leaves already stored. */
	assert_lsec_ok(lsec_store_leaf_seqs_for_action(&seqs, &n, st, "release.approve", &err),
		       &err);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], 0);
	lsec_free(seqs);
	/* New leaves are indexed as they are stored; a leaf without an action is not. */
	static const char l2[] = "{\"action\":\"release.approve\",\"seq\":2}";
	assert_lsec_ok(lsec_store_leaf_put(st, 2, NULL, (const uint8_t *)l2, strlen(l2), h, NULL, 0,
					   &err),
		       &err);
	assert_lsec_ok(lsec_store_leaf_seqs_for_action(&seqs, &n, st, "release.approve", &err),
		       &err);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[1], 2);
	lsec_free(seqs);
	assert_lsec_ok(lsec_store_leaf_seqs_for_action(&seqs, &n, st, "p", &err), &err);
	assert_int_equal(n, 0);
	lsec_free(seqs);
	lsec_store_close(st);
	lsec_test_db_free(db);
}

/*
 * A registry of version 12 whose unit holds two active credentials cannot
 * take migration 13's one-active index: the open is refused naming the
 * unit and what to do, and the registry stays at version 12 with both rows.
 */
static void test_store_store__two_active_credentials_named_at_migration(void **state)
{
	(void)state;
	lsec_test_db *db = lsec_test_db_new();
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	assert_lsec_ok(lsec_store__create_version(&st, db->location, 12, &err), &err);
	assert_lsec_ok(lsec_store__query(st,
					 "INSERT INTO units (serial, uid, product, station, state,"
					 " prev_state, created, updated) VALUES ('SN-7', '01', 'p',"
					 " 's', 'locked', 'secured', 'now', 'now'), ('SN-\x1b[8m', '02',"
					 " 'p', 's', 'locked', 'secured', 'now', 'now')",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	assert_lsec_ok(lsec_store__query(st,
					 "INSERT INTO credentials (unit_id, keyed_fp, created, revoked)"
					 " SELECT id, 'aa' || id, 'now', NULL FROM units UNION ALL"
					 " SELECT id, 'bb' || id, 'now', '' FROM units",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	lsec_store_close(st);
	st = NULL;
	assert_lsec_code(lsec_store_open(&st, db->location, &err), LSEC_E_STORE_SCHEMA, &err);
	assert_null(st);
	assert_non_null(strstr(err.msg, "'SN-7'"));
	assert_non_null(strstr(err.msg, "'SN-\\x1b[8m'"));
	assert_non_null(strstr(err.msg, "hold more than one active credential"));
	assert_null(strchr(err.msg, '\x1b')); /* a serial cannot drive the terminal */
	assert_non_null(strstr(err.msg, "with the previous version of linesec (registry schema "
					"version 12)"));
	assert_non_null(strstr(err.msg, "revoke the others"));
	assert_null(strstr(err.msg, "unit show")); /* refused like every command: not offered */
	/* Nothing half done: still version 12 (a read-only open says which). */
	assert_lsec_code(lsec_store_open_read_only(&st, db->location, &err), LSEC_E_STORE_SCHEMA,
			 &err);
	assert_non_null(strstr(err.msg, "its schema version is 12"));
	lsec_test_db_free(db);
}

static void test_store_store__newer_schema_refused(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	store_val p[] = {SV_I(lsec_store_schema_latest() + 1), SV_S("2030-01-01T00:00:00Z")};
	assert_lsec_ok(lsec_store__query(db->st,
					 "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
					 p, 2, NULL, NULL, &err),
		       &err);
	lsec_store *st = NULL;
	assert_lsec_code(lsec_store_open(&st, db->location, &err), LSEC_E_STORE_SCHEMA, &err);
	assert_null(st);
	assert_non_null(strstr(err.msg, "is newer than this program"));
}

/* Only lsec_store_create makes a registry; a missing or emptied one is refused, never re-made. */
static void test_store_store__only_create_makes_a_registry(void **state)
{
	(void)state;
	lsec_test_db *db = lsec_test_db_new();
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	bool sqlite = db->backend == LSEC_TEST_SQLITE;
	assert_lsec_code(lsec_store_open(&st, db->location, &err), LSEC_E_STORE_MISSING, &err);
	assert_null(st);
	assert_non_null(strstr(err.msg, "only 'linesec init' creates a registry"));
	if (sqlite) {
		assert_int_not_equal(access(db->location, F_OK), 0); /* nothing was created */
		/* An empty file where the registry was: refused, and left as found. */
		FILE *f = fopen(db->location, "w");
		assert_non_null(f);
		fclose(f);
		assert_lsec_code(lsec_store_open(&st, db->location, &err), LSEC_E_STORE_MISSING,
				 &err);
		assert_non_null(strstr(err.msg, "is empty"));
		assert_lsec_code(lsec_store_create(&st, db->location, &err), LSEC_E_EXISTS, &err);
		assert_int_equal(unlink(db->location), 0);
	}
	assert_lsec_ok(lsec_store_create(&st, db->location, &err), &err);
	if (sqlite) {
		struct stat sb;
		assert_int_equal(stat(db->location, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	lsec_store *again = NULL;
	assert_lsec_code(lsec_store_create(&again, db->location, &err), LSEC_E_EXISTS, &err);
	assert_null(again);
	assert_lsec_ok(lsec_store_open(&again, db->location, &err), &err);
	lsec_store_close(again);
	/* Emptied by SQL: refused by the next open. */
	assert_lsec_ok(lsec_store__query(st, "DROP TABLE schema_version", NULL, 0, NULL, NULL, &err),
		       &err);
	lsec_store_close(st);
	st = NULL;
	assert_lsec_code(lsec_store_open(&st, db->location, &err), LSEC_E_STORE_MISSING, &err);
	assert_null(st);
	lsec_test_db_free(db);
}

static void test_store_store__bad_location_refused(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	assert_lsec_code(lsec_store_create(&st, "/nonexistent-dir/x/registry.db", &err),
			 LSEC_E_IO, &err);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x/registry.db"));
	assert_lsec_code(lsec_store_open(&st, "postgresql://nobody:secretpw@127.0.0.1:1/none", &err),
			 LSEC_E_IO, &err);
	assert_null(strstr(err.msg, "secretpw"));
	assert_lsec_code(lsec_store_open(&st, "", &err), LSEC_E_USAGE, &err);
	assert_null(st);
}

static void test_store_store__transactions(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_tx outer = LSEC_STORE_TX_INIT, inner = LSEC_STORE_TX_INIT;
	uint8_t h[32] = {0};
	uint64_t n = 9;
	assert_false(lsec_store_in_transaction(db->st));
	/* A scope never begun ends as a no-op that hands rc back. */
	assert_int_equal(lsec_store_tx_end(&outer, LSEC_E_IO, &err), LSEC_E_IO);
	assert_lsec_ok(lsec_store_tx_end(&outer, 0, &err), &err);
	assert_lsec_code(lsec_store_tx_begin(&outer, NULL, &err), LSEC_E_USAGE, &err);

	/* An inner scope joins: its end, even a failed one, leaves the outer open. */
	assert_lsec_ok(lsec_store_tx_begin(&outer, db->st, &err), &err);
	assert_lsec_ok(lsec_store_tx_begin(&inner, db->st, &err), &err);
	assert_lsec_ok(lsec_store_leaf_put(db->st, 0, NULL, (const uint8_t *)"a", 1, h, NULL, 0, &err), &err);
	assert_int_equal(lsec_store_tx_end(&inner, LSEC_E_POLICY, &err), LSEC_E_POLICY);
	assert_true(lsec_store_in_transaction(db->st));
	/* The outer end rolls back on failure, and ending twice changes nothing. */
	assert_int_equal(lsec_store_tx_end(&outer, LSEC_E_POLICY, &err), LSEC_E_POLICY);
	assert_false(lsec_store_in_transaction(db->st));
	assert_lsec_ok(lsec_store_tx_end(&outer, 0, &err), &err);
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 0);

	/* On success it commits. */
	assert_lsec_ok(lsec_store_tx_begin(&outer, db->st, &err), &err);
	assert_lsec_ok(lsec_store_leaf_put(db->st, 0, NULL, (const uint8_t *)"a", 1, h, NULL, 0, &err), &err);
	assert_lsec_ok(lsec_store_tx_end(&outer, 0, &err), &err);
	assert_false(lsec_store_in_transaction(db->st));
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 1);

	/* A read scope sees the committed state and always ends in a rollback. */
	assert_lsec_ok(lsec_store_tx_begin_read(&outer, db->st, &err), &err);
	assert_true(lsec_store_in_transaction(db->st));
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 1);
	assert_lsec_ok(lsec_store_tx_end(&outer, 0, &err), &err);
	assert_false(lsec_store_in_transaction(db->st));
}

typedef struct walk_ctx {
	uint64_t next;
	size_t count;
	uint64_t stop_at;
} walk_ctx;

static int walk_leaf(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		     const uint8_t hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	walk_ctx *w = ctx;
	if (seq == w->stop_at) {
		return lsec_err_set(err, LSEC_E_POLICY, __FILE__, __LINE__, "stop at %llu",
				    (unsigned long long)seq);
	}
	assert_int_equal(seq, w->next);
	char want[32];
	snprintf(want, sizeof(want), "{\"seq\":%llu}", (unsigned long long)seq);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(leaf, want, len);
	assert_int_equal(hash[0], (uint8_t)seq);
	if (seq % 2 == 0) {
		assert_string_equal(unit, "SN-EVEN");
		assert_null(sig);
		assert_int_equal(sig_len, 0);
	} else {
		assert_null(unit);
		assert_int_equal(sig_len, 3);
		assert_memory_equal(sig, ((uint8_t[]){'s', 'g', (uint8_t)seq}), 3);
	}
	w->next++;
	w->count++;
	return 0;
}

static void append_leaves(lsec_store *st, uint64_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seq = 99;
		lsec_store_tx tx = LSEC_STORE_TX_INIT;
		assert_lsec_ok(lsec_store_tx_begin(&tx, st, &err), &err);
		assert_lsec_ok(lsec_store_leaf_reserve(&seq, st, &err), &err);
		assert_int_equal(seq, i);
		char leaf[32];
		snprintf(leaf, sizeof(leaf), "{\"seq\":%llu}", (unsigned long long)seq);
		uint8_t h[32];
		memset(h, 0xab, sizeof(h));
		h[0] = (uint8_t)seq;
		/* Odd leaves carry signature bytes (stored as they are), even ones none. */
		uint8_t sig[3] = {'s', 'g', (uint8_t)seq};
		assert_lsec_ok(lsec_store_leaf_put(st, seq, seq % 2 == 0 ? "SN-EVEN" : NULL,
						   (const uint8_t *)leaf, strlen(leaf), h,
						   seq % 2 == 0 ? NULL : sig,
						   seq % 2 == 0 ? 0 : sizeof(sig), &err),
			       &err);
		assert_lsec_ok(lsec_store_tx_end(&tx, 0, &err), &err);
	}
}

static void test_store_store__leaves_append_read_walk(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq = 0;
	/* The log lock is only taken inside a transaction. */
	assert_lsec_code(lsec_store_leaf_reserve(&seq, db->st, &err), LSEC_E_STATE, &err);
	append_leaves(db->st, 10);

	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 10);

	lsec_buf leaf = LSEC_BUF_INIT(1024), sig = LSEC_BUF_INIT(128);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, &sig, db->st, 7, &err), &err);
	assert_int_equal(leaf.len, strlen("{\"seq\":7}"));
	assert_memory_equal(leaf.data, "{\"seq\":7}", leaf.len);
	assert_int_equal(h[0], 7);
	assert_int_equal(h[31], 0xab);
	assert_int_equal(sig.len, 3);
	assert_memory_equal(sig.data, ((const uint8_t[]){'s', 'g', 7}), 3);
	/* A leaf stored without a signature leaves sig_out empty. */
	lsec_buf_reset(&leaf);
	lsec_buf_reset(&sig);
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, &sig, db->st, 6, &err), &err);
	assert_int_equal(sig.len, 0);
	lsec_buf_release(&sig);
	lsec_buf_reset(&leaf);
	assert_lsec_code(lsec_store_leaf_get(&leaf, h, NULL, db->st, 10, &err), LSEC_E_NOTFOUND, &err);
	lsec_buf_release(&leaf);

	/* A taken sequence number is refused. */
	uint8_t z[32] = {0};
	assert_lsec_code(lsec_store_leaf_put(db->st, 3, NULL, (const uint8_t *)"x", 1, z, NULL, 0,
					     &err),
			 LSEC_E_EXISTS, &err);

	walk_ctx w = {2, 0, UINT64_MAX};
	assert_lsec_ok(lsec_store_leaf_foreach(db->st, 2, 8, walk_leaf, &w, &err), &err);
	assert_int_equal(w.count, 6);
	walk_ctx all = {0, 0, UINT64_MAX};
	assert_lsec_ok(lsec_store_leaf_foreach(db->st, 0, UINT64_MAX, walk_leaf, &all, &err), &err);
	assert_int_equal(all.count, 10);
	/* The callback's failure stops the walk with its code. */
	walk_ctx stop = {0, 0, 4};
	assert_lsec_code(lsec_store_leaf_foreach(db->st, 0, 10, walk_leaf, &stop, &err),
			 LSEC_E_POLICY, &err);
	assert_int_equal(stop.count, 4);
	/* The handle stays usable after a stopped walk. */
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 10);

	uint64_t *seqs = NULL;
	size_t ns = 0;
	assert_lsec_ok(lsec_store_leaf_seqs_for_unit(&seqs, &ns, db->st, "SN-EVEN", &err), &err);
	assert_int_equal(ns, 5);
	for (size_t i = 0; i < ns; i++) {
		assert_int_equal(seqs[i], 2 * i);
	}
	lsec_free(seqs);
	assert_lsec_ok(lsec_store_leaf_seqs_for_unit(&seqs, &ns, db->st, "SN-NONE", &err), &err);
	assert_int_equal(ns, 0);
	assert_null(seqs);
}

typedef struct cp_ctx {
	size_t n;
	uint64_t sizes[4];
	char notes[4][64];
} cp_ctx;

static int walk_cp(void *ctx, uint64_t id, uint64_t tree_size, const uint8_t root[32],
		   const char *note, lsec_err *err)
{
	(void)id;
	(void)err;
	cp_ctx *c = ctx;
	assert_true(c->n < 4);
	assert_int_equal(root[0], (uint8_t)tree_size);
	c->sizes[c->n] = tree_size;
	snprintf(c->notes[c->n], sizeof(c->notes[0]), "%s", note);
	c->n++;
	return 0;
}

static void test_store_store__checkpoints_in_order(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t root[32] = {0};
	const uint64_t sizes[] = {5, 3, 9};
	for (size_t i = 0; i < 3; i++) {
		root[0] = (uint8_t)sizes[i];
		char note[64];
		snprintf(note, sizeof(note), "line\n%llu\n", (unsigned long long)sizes[i]);
		assert_lsec_ok(lsec_store_checkpoint_put(db->st, sizes[i], root, note, NULL, 0, &err), &err);
	}
	cp_ctx c = {0};
	assert_lsec_ok(lsec_store_checkpoint_foreach(db->st, walk_cp, &c, &err), &err);
	assert_int_equal(c.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(c.sizes[i], sizes[i]);
	}
	assert_string_equal(c.notes[1], "line\n3\n");
}

/* The latest checkpoint is the last stored (not the largest), with its range as stored. */
static void test_store_store__latest_checkpoint_and_nodes(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t root[32] = {0}, got[32];
	uint64_t size = 99;
	lsec_buf note = LSEC_BUF_INIT(256), range = LSEC_BUF_INIT(256);
	assert_lsec_code(lsec_store_checkpoint_latest(&size, got, &note, &range, db->st, &err),
			 LSEC_E_NOTFOUND, &err);
	assert_int_equal(size, 0);
	root[0] = 9;
	assert_lsec_ok(lsec_store_checkpoint_put(db->st, 9, root, "n9\n", (const uint8_t *)"r9", 2,
						 &err),
		       &err);
	root[0] = 3;
	assert_lsec_ok(lsec_store_checkpoint_put(db->st, 3, root, "n3\n", NULL, 0, &err), &err);
	assert_lsec_ok(lsec_store_checkpoint_latest(&size, got, &note, &range, db->st, &err), &err);
	assert_int_equal(size, 3);
	assert_int_equal(got[0], 3);
	assert_int_equal(note.len, 3);
	assert_memory_equal(note.data, "n3\n", 3);
	assert_int_equal(range.len, 0); /* stored without one */
	root[0] = 12;
	assert_lsec_ok(lsec_store_checkpoint_put(db->st, 12, root, "n12\n", (const uint8_t *)"r12",
						 3, &err),
		       &err);
	lsec_buf_reset(&range);
	assert_lsec_ok(lsec_store_checkpoint_latest(&size, got, NULL, &range, db->st, &err), &err);
	assert_int_equal(size, 12);
	assert_int_equal(range.len, 3);
	assert_memory_equal(range.data, "r12", 3);
	/* Nodes: stored, replaced, looked up by (level, index); none past INT64_MAX. */
	assert_lsec_code(lsec_store_node_get(got, db->st, 1, 0, &err), LSEC_E_NOTFOUND, &err);
	assert_lsec_ok(lsec_store_node_put(db->st, 1, 0, root, &err), &err);
	root[0] = 13;
	assert_lsec_ok(lsec_store_node_put(db->st, 1, 0, root, &err), &err);
	assert_lsec_ok(lsec_store_node_put(db->st, 2, 0, root, &err), &err);
	assert_lsec_ok(lsec_store_node_get(got, db->st, 1, 0, &err), &err);
	assert_int_equal(got[0], 13);
	assert_lsec_code(lsec_store_node_get(got, db->st, 1, 1, &err), LSEC_E_NOTFOUND, &err);
	assert_lsec_code(lsec_store_node_put(db->st, 64, 0, root, &err), LSEC_E_LIMIT, &err);
	assert_lsec_code(lsec_store_node_put(db->st, 1, UINT64_MAX, root, &err), LSEC_E_LIMIT,
			 &err);
	lsec_buf_release(&note);
	lsec_buf_release(&range);
}

/* Out of memory at every allocation of open, migrate and list: a clean NOMEM, never half a schema. */
static void test_store_store__out_of_memory_leaves_nothing_half_done(void **state)
{
	(void)state;
	lsec_test_db *db = lsec_test_db_new();
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	int failures = 0;
	for (unsigned long n = 1; n < 400; n++) {
		lsec_alloc_fail_after(n);
		int rc = lsec_store_create(&st, db->location, &err);
		lsec_alloc_fail_after(0);
		if (rc == 0) {
			break;
		}
		assert_lsec_code(rc, LSEC_E_NOMEM, &err);
		assert_null(st);
		failures++;
	}
	assert_non_null(st);
	assert_true(failures > 0);
	int v = 0;
	assert_lsec_ok(lsec_store_schema_version(&v, st, &err), &err);
	assert_int_equal(v, lsec_store_schema_latest());
	for (int i = 0; i < 40; i++) {
		char serial[16];
		snprintf(serial, sizeof(serial), "SN%d", i);
		assert_lsec_ok(lsec_store_unit_create(st, serial, serial, "p", "s", &err), &err);
	}
	lsec_store_unit *list = NULL;
	size_t n = 0;
	lsec_alloc_fail_after(2);
	int rc = lsec_store_unit_list(&list, &n, st, NULL, &err);
	lsec_alloc_fail_after(0);
	assert_lsec_code(rc, LSEC_E_NOMEM, &err);
	assert_null(list);
	assert_int_equal(n, 0);
	lsec_store_close(st);
	lsec_test_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_store__create_makes_latest_schema,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test(test_store_store__old_version_migrated_keeping_data),
		cmocka_unit_test(test_store_store__two_active_credentials_named_at_migration),
		cmocka_unit_test_setup_teardown(test_store_store__latest_checkpoint_and_nodes,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_store_store__newer_schema_refused,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test(test_store_store__only_create_makes_a_registry),
		cmocka_unit_test(test_store_store__bad_location_refused),
		cmocka_unit_test_setup_teardown(test_store_store__transactions, lsec_test_db_setup,
						lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_store_store__leaves_append_read_walk,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_store_store__checkpoints_in_order,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test(test_store_store__out_of_memory_leaves_nothing_half_done),
	};
	return lsec_test_run_backends("store", tests, sizeof(tests) / sizeof(tests[0]));
}
