/*
 * Durable and unsynced commits, and the group commit of SQLite: the
 * handles of one process on one registry (a gang's sockets) share the sync
 * that makes their commits durable, and an unsynced commit is visible at
 * once and made durable by the next durable commit (docs/station.md,
 * "Durability"). Runs on both backends; the sync counts are SQLite's.
 */
#include "helpers/store_fixture.h"
#include "linesec/audit.h"

#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define HANDLES 4

typedef struct writer {
	lsec_store *st;
	unsigned n;
	bool unsynced;
	int rc;
	lsec_err err;
} writer;

/* One registration and its leaf in one transaction, durable or not. */
static int write_one(lsec_store *st, unsigned n, bool unsynced, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char serial[32], uid[32];
	snprintf(serial, sizeof(serial), "SN-%u", n);
	snprintf(uid, sizeof(uid), "UID-%u", n);
	lsec_audit_event ev = {"operator", LSEC_TEST_STATION, serial, NULL, 0, NULL,
			       "unit.register", "registered", NULL};
	LSEC_TRY(unsynced ? lsec_store_tx_begin_unsynced(&tx, st, err)
			  : lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_unit_create(st, serial, uid, "sensor", LSEC_TEST_STATION, err));
	LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
out:
	return lsec_store_tx_end(&tx, rc, err);
}

static void *writer_main(void *arg)
{
	writer *w = arg;
	w->rc = write_one(w->st, w->n, w->unsynced, &w->err);
	return NULL;
}

static lsec_store *open_handle(const lsec_test_db *db)
{
	lsec_store *st = NULL;
	lsec_err err = LSEC_ERR_INIT;
	assert_int_equal(lsec_store_open(&st, db->location, &err), 0);
	lsec_test_attach_signer(st);
	return st;
}

static uint64_t leaves(lsec_store *st)
{
	uint64_t n = 0;
	lsec_err err = LSEC_ERR_INIT;
	assert_int_equal(lsec_store_leaf_count(&n, st, &err), 0);
	return n;
}

/* HANDLES handles commit durably at once: every commit lands, with one sync for all. */
static void test_group_commit__handles_share_one_sync(void **state)
{
	lsec_test_db *db = *state;
	lsec_store *h[HANDLES];
	writer w[HANDLES];
	pthread_t t[HANDLES];
	uint64_t before = leaves(db->st);
	for (unsigned i = 0; i < HANDLES; i++) {
		h[i] = open_handle(db);
		w[i] = (writer){h[i], i + 1, false, 0, LSEC_ERR_INIT};
	}
	uint64_t syncs = lsec_store__sqlite_syncs(db->st);
	lsec_store__sqlite_gather(db->st, HANDLES);
	for (unsigned i = 0; i < HANDLES; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < HANDLES; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (w[i].rc != 0) {
			fail_msg("writer %u: %s", i, w[i].err.msg);
		}
	}
	assert_int_equal(leaves(db->st), before + HANDLES);
	if (lsec_test_current_backend == LSEC_TEST_SQLITE) {
		/* Four durable commits, one sync: the first waiter synced for all four. */
		assert_int_equal(lsec_store__sqlite_syncs(db->st) - syncs, 1);
	}
	for (unsigned i = 0; i < HANDLES; i++) {
		lsec_store_close(h[i]);
	}
}

/* An unsynced commit is there at once for every handle, and costs no sync. */
static void test_group_commit__unsynced_commit_visible_without_sync(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *other = open_handle(db);
	lsec_store_unit u;
	uint64_t before = leaves(db->st);
	uint64_t syncs = lsec_store__sqlite_syncs(db->st);
	assert_int_equal(write_one(db->st, 1, true, &err), 0);
	assert_int_equal(write_one(db->st, 2, true, &err), 0);
	assert_int_equal(lsec_store__sqlite_syncs(db->st), syncs);
	assert_int_equal(lsec_store_unit_get(&u, other, "SN-2", &err), 0);
	assert_int_equal(leaves(other), before + 2);
	/* The next durable commit, on another handle, syncs once for all three. */
	assert_int_equal(write_one(other, 3, false, &err), 0);
	if (lsec_test_current_backend == LSEC_TEST_SQLITE) {
		assert_int_equal(lsec_store__sqlite_syncs(db->st), syncs + 1);
	}
	/* A failed unsynced transaction leaves nothing, as a durable one does. */
	assert_int_equal(write_one(db->st, 2, true, &err), LSEC_E_EXISTS);
	assert_int_equal(leaves(other), before + 3);
	assert_false(lsec_store_in_transaction(db->st));
	lsec_store_close(other);
}

/* An unsynced scope inside an open transaction joins it: the outer begin decides. */
static void test_group_commit__unsynced_joins_open_transaction(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_tx outer = LSEC_STORE_TX_INIT;
	uint64_t syncs = lsec_store__sqlite_syncs(db->st);
	assert_int_equal(lsec_store_tx_begin(&outer, db->st, &err), 0);
	assert_int_equal(write_one(db->st, 7, true, &err), 0);
	assert_true(lsec_store_in_transaction(db->st));
	assert_int_equal(lsec_store_tx_end(&outer, 0, &err), 0);
	if (lsec_test_current_backend == LSEC_TEST_SQLITE) {
		assert_int_equal(lsec_store__sqlite_syncs(db->st), syncs + 1);
	}
}

/*
 * One failed sync poisons the registry's syncer: the next sync would
 * succeed while the frames of the failed one may be gone, so every later
 * durable commit, on any handle, fails until the registry is reopened.
 */
static void test_group_commit__failed_sync_fails_every_later_durable_commit(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	if (lsec_test_current_backend != LSEC_TEST_SQLITE) {
		skip();
	}
	lsec_store *other = open_handle(db);
	uint64_t syncs = lsec_store__sqlite_syncs(db->st);
	lsec_store__sqlite_fail_sync(db->st, EIO);
	assert_int_equal(write_one(db->st, 1, false, &err), LSEC_E_IO);
	assert_non_null(strstr(err.msg, "the disk failed to sync"));
	assert_non_null(strstr(err.msg, "until the registry is reopened"));
	assert_int_equal(lsec_store__sqlite_syncs(db->st), syncs + 1);
	lsec_err_clear(&err);
	/* The disk would report success now: the commit is refused all the same. */
	assert_int_equal(write_one(other, 2, false, &err), LSEC_E_IO);
	assert_non_null(strstr(err.msg, "the disk failed to sync"));
	lsec_err_clear(&err);
	assert_int_equal(write_one(db->st, 3, false, &err), LSEC_E_IO);
	lsec_err_clear(&err);
	assert_int_equal(lsec_store__sqlite_syncs(db->st), syncs + 1);
	/* Reopened (every handle of the process closed): durable again. */
	lsec_store_close(other);
	lsec_store_close(db->st);
	db->st = open_handle(db);
	assert_int_equal(write_one(db->st, 4, false, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit__handles_share_one_sync,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_group_commit__unsynced_commit_visible_without_sync,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_group_commit__unsynced_joins_open_transaction,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(
			test_group_commit__failed_sync_fails_every_later_durable_commit,
			lsec_test_db_setup, lsec_test_db_teardown),
	};
	return lsec_test_run_backends("store_group_commit", tests,
				      sizeof(tests) / sizeof(tests[0]));
}
