/*
 * Conflicts between stations' transactions are retried, never shown: two
 * connections update two units in opposite orders, each holding its first
 * row until the other holds its own, a real deadlock. PostgreSQL undoes one
 * transaction (SQLSTATE 40P01); lsec_store_tx_run re-runs its whole body and
 * both succeed, each body's effect landing exactly once. On SQLite (BEGIN
 * IMMEDIATE: writers queue up front, no deadlock) the same bodies run one
 * after the other without a retry. Two registries in one database never
 * share a log lock, and a connection's lock never moves to another schema.
 */
#include "helpers/store_fixture.h"

#include "linesec/audit.h"
#include "store/store_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct mover {
	lsec_store *st;
	const char *first, *second;
	pthread_barrier_t *both_hold_one; /* NULL on SQLite: a second writer would wait at BEGIN */
	unsigned runs;
	int rc;
	lsec_err err;
} mover;

static int touch(lsec_store *st, const char *serial, lsec_err *err)
{
	store_val p[] = {SV_S(serial)};
	return lsec_store__query(st, "UPDATE units SET product = product || 'x' WHERE serial = ?",
				 p, 1, NULL, NULL, err);
}

static int move_body(void *ctx, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	mover *m = ctx;
	m->runs++;
	LSEC_TRY(touch(st, m->first, err));
	if (m->runs == 1 && m->both_hold_one != NULL) {
		(void)pthread_barrier_wait(m->both_hold_one);
	}
	LSEC_TRY(touch(st, m->second, err));
out:
	return rc;
}

static void *mover_main(void *arg)
{
	mover *m = arg;
	m->rc = lsec_store_tx_run(m->st, false, move_body, m, &m->err);
	return NULL;
}

static void test_retry__deadlock_is_retried_not_shown(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	bool pg = db->backend == LSEC_TEST_POSTGRES;
	pthread_barrier_t barrier;
	assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
	assert_int_equal(lsec_store_unit_create(db->st, "SN-A", "UID-A", "p", "st-1", &err), 0);
	assert_int_equal(lsec_store_unit_create(db->st, "SN-B", "UID-B", "p", "st-1", &err), 0);
	mover m[2] = {{.first = "SN-A", .second = "SN-B"}, {.first = "SN-B", .second = "SN-A"}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		m[i].both_hold_one = pg ? &barrier : NULL;
		assert_int_equal(lsec_store_open(&m[i].st, db->location, &err), 0);
	}
	for (int i = 0; i < 2; i++) {
		if (pg) {
			assert_int_equal(pthread_create(&t[i], NULL, mover_main, &m[i]), 0);
		} else {
			mover_main(&m[i]);
		}
	}
	for (int i = 0; pg && i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
	}
	uint64_t retries = 0;
	for (int i = 0; i < 2; i++) {
		if (m[i].rc != 0) {
			fail_msg("transaction %d: %s", i, m[i].err.msg);
		}
		retries += lsec_store__retries(m[i].st);
		lsec_store_close(m[i].st);
	}
	/* PostgreSQL undid exactly one of them once; the other never waited in vain. */
	assert_int_equal(retries, pg ? 1 : 0);
	assert_int_equal(m[0].runs + m[1].runs, pg ? 3 : 2);
	/* Both bodies landed once each: two 'x' per unit, none from the undone run. */
	lsec_store_unit u;
	assert_int_equal(lsec_store_unit_get(&u, db->st, "SN-A", &err), 0);
	assert_string_equal(u.product, "pxx");
	assert_int_equal(lsec_store_unit_get(&u, db->st, "SN-B", &err), 0);
	assert_string_equal(u.product, "pxx");
	pthread_barrier_destroy(&barrier);
}

/* Inside the caller's transaction the body runs once: the owner decides. */
static void test_retry__joined_body_runs_once(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	assert_int_equal(lsec_store_unit_create(db->st, "SN-A", "UID-A", "p", "st-1", &err), 0);
	assert_int_equal(lsec_store_unit_create(db->st, "SN-B", "UID-B", "p", "st-1", &err), 0);
	mover m = {.first = "SN-A", .second = "SN-B"};
	assert_int_equal(lsec_store_tx_begin(&tx, db->st, &err), 0);
	rc = lsec_store_tx_run(db->st, false, move_body, &m, &err);
	assert_true(lsec_store_in_transaction(db->st));
	rc = lsec_store_tx_end(&tx, rc, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(m.runs, 1);
	lsec_store_unit u;
	assert_int_equal(lsec_store_unit_get(&u, db->st, "SN-B", &err), 0);
	assert_string_equal(u.product, "px");
}

/* A refused duplicate names the holder (one statement on PostgreSQL). */
static void test_retry__duplicate_names_holder(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	assert_int_equal(lsec_store_unit_create(db->st, "SN-A", "UID-A", "p", "st-1", &err), 0);
	assert_int_equal(lsec_store_unit_create(db->st, "SN-A", "UID-Z", "p", "st-1", &err),
			 LSEC_E_EXISTS);
	assert_non_null(strstr(err.msg, "serial 'SN-A' is already held by unit 'SN-A'"));
	assert_int_equal(lsec_store_unit_create(db->st, "SN-C", "UID-A", "p", "st-1", &err),
			 LSEC_E_EXISTS);
	assert_non_null(strstr(err.msg, "UID 'UID-A' is already held by unit 'SN-A'"));
	/* In an open transaction a refusal leaves it usable. */
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	assert_int_equal(lsec_store_tx_begin(&tx, db->st, &err), 0);
	assert_int_equal(lsec_store_unit_create(db->st, "SN-A", "UID-Y", "p", "st-1", &err),
			 LSEC_E_EXISTS);
	assert_int_equal(lsec_store_unit_create(db->st, "SN-D", "UID-D", "p", "st-1", &err), 0);
	assert_int_equal(lsec_store_tx_end(&tx, 0, &err), 0);
	lsec_store_unit u;
	assert_int_equal(lsec_store_unit_get(&u, db->st, "SN-D", &err), 0);
}

/* A writer on its own connection: appends count leaves (at least one) to location. */
typedef struct appender {
	const char *location;
	unsigned count;
	pthread_t thread;
	atomic_bool done;
	int rc;
	lsec_err err;
} appender;

static void *append_main(void *arg)
{
	appender *a = arg;
	lsec_store *st = NULL;
	a->rc = lsec_store_open(&st, a->location, &a->err);
	if (a->rc == 0) {
		lsec_test_attach_signer(st);
		lsec_audit_event ev = {.person = "operator", .station = LSEC_TEST_STATION,
				       .action = "note", .outcome = "pass"};
		for (unsigned i = 0; a->rc == 0 && (i == 0 || i < a->count); i++) {
			a->rc = lsec_audit_append(NULL, st, &ev, &a->err);
		}
	}
	lsec_store_close(st);
	atomic_store(&a->done, true);
	return NULL;
}

static void append_start(appender *a, const char *location, unsigned count)
{
	memset(a, 0, sizeof(*a));
	a->location = location;
	a->count = count;
	a->err = (lsec_err)LSEC_ERR_INIT;
	assert_int_equal(pthread_create(&a->thread, NULL, append_main, a), 0);
}

/* Waits at most 20 s: a writer that queues behind another registry's lock never gets in. */
static void append_join(appender *a)
{
	for (int i = 0; i < 2000 && !atomic_load(&a->done); i++) {
		usleep(10 * 1000);
	}
	if (!atomic_load(&a->done)) {
		fail_msg("append to %s: still waiting after 20 s", a->location);
	}
	assert_int_equal(pthread_join(a->thread, NULL), 0);
	if (a->rc != 0) {
		fail_msg("append to %s: %s", a->location, a->err.msg);
	}
}

/*
 * The writer waits for the log lock that holder holds: PostgreSQL shows it
 * waiting (within 20 s); on SQLite it is still busy 300 ms on.
 */
static void append_waits_for(appender *a, lsec_store *holder)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t waiting = 0;
	bool pg = strcmp(lsec_store_backend(holder), "postgres") == 0;
	if (!pg) {
		usleep(300 * 1000);
	}
	for (int i = 0; pg && waiting == 0 && !atomic_load(&a->done) && i < 2000; i++) {
		usleep(10 * 1000);
		assert_lsec_ok(lsec_test_lock_waiters(&waiting, holder, &err), &err);
	}
	if (atomic_load(&a->done)) {
		fail_msg("a writer on %s went through while its log lock was held", a->location);
	}
	assert_true(!pg || waiting > 0);
}

/* Holds st's log lock, as a station does between its leaf and its commit. */
static void hold_log_lock(lsec_store_tx *tx, lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t seq = 0;
	assert_lsec_ok(lsec_store_tx_begin(tx, st, &err), &err);
	assert_lsec_ok(lsec_store_leaf_reserve(&seq, st, &err), &err);
}

/* A late thread writes here, not into a test's dead stack frame. */
static appender writer;

/*
 * Two registries in one database (two lines, or two tests in parallel on
 * one server) have a log lock each: a writer holding one's never makes the
 * other's wait, so neither can be drawn into the other's deadlocks. Within
 * one registry the lock still orders the writers.
 */
static void test_retry__registries_do_not_share_a_log_lock(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_test_db *other = lsec_test_db_new();
	lsec_store *ost = NULL;
	assert_lsec_ok(lsec_store_create(&ost, other->location, &err), &err);
	lsec_store_close(ost);
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	hold_log_lock(&tx, db->st);
	/* The other registry's writer goes through meanwhile... */
	append_start(&writer, other->location, 1);
	append_join(&writer);
	/* ...and this registry's waits until the holder commits. */
	append_start(&writer, db->location, 1);
	append_waits_for(&writer, db->st);
	assert_lsec_ok(lsec_store_tx_end(&tx, 0, &err), &err);
	append_join(&writer);
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 1);
	lsec_test_db_free(other);
}

/*
 * PostgreSQL: a connection keeps the schema it opened on. One opened with
 * a search path whose first schema does not exist yet uses the registry's;
 * an insider then creates that schema. Its tables and its log lock stay the
 * registry's: another station's writer still queues behind it (before, the
 * key moved to the new schema and both appended at once).
 */
static void test_retry__schema_created_later_moves_no_lock(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	if (db->backend != LSEC_TEST_POSTGRES) {
		skip();
	}
	char *decoy = lsec_asprintf("%s_decoy", db->schema);
	char *path = lsec_asprintf("%s%%2C%s", decoy, db->schema);
	char *url = lsec_test_pg_location(path);
	lsec_free(path);
	lsec_store *st = NULL;
	assert_lsec_ok(lsec_store_open(&st, url, &err), &err);
	char *sql = lsec_asprintf("CREATE SCHEMA %s", decoy);
	assert_lsec_ok(db->st->ops->exec(db->st, sql, &err), &err);
	lsec_free(sql);
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	hold_log_lock(&tx, st);
	append_start(&writer, db->location, 1);
	append_waits_for(&writer, st);
	assert_lsec_ok(lsec_store_tx_end(&tx, 0, &err), &err);
	append_join(&writer);
	lsec_store_close(st);
	sql = lsec_asprintf("DROP SCHEMA %s", decoy);
	assert_lsec_ok(db->st->ops->exec(db->st, sql, &err), &err);
	lsec_free(sql);
	lsec_free(decoy);
	lsec_free(url);
}

/*
 * PostgreSQL: a role or database whose default isolation is repeatable
 * read (an insider's ALTER ROLE, or a DBA's habit) would give each append
 * a snapshot from before the log lock was granted, and so a stale next
 * sequence number that collides. Writers set their own level: four
 * stations appending at once all land, each leaf once.
 */
static void test_retry__default_isolation_is_not_trusted(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	static appender w[4];
	if (db->backend != LSEC_TEST_POSTGRES) {
		skip();
	}
	char *url = lsec_asprintf("%s%%20-cdefault_transaction_isolation%%3Drepeatable%%5C%%20read",
				  db->location);
	for (int i = 0; i < 4; i++) {
		append_start(&w[i], url, 25);
	}
	for (int i = 0; i < 4; i++) {
		append_join(&w[i]);
	}
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 100);
	lsec_free(url);
}

/* PostgreSQL: a search path naming no schema that exists is refused at open, by name. */
static void test_retry__no_schema_refused_at_open(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	if (db->backend != LSEC_TEST_POSTGRES) {
		skip();
	}
	char *path = lsec_asprintf("%s_none", db->schema);
	char *url = lsec_test_pg_location(path);
	lsec_free(path);
	lsec_store *st = NULL;
	assert_int_equal(lsec_store_open(&st, url, &err), LSEC_E_STORE_MISSING);
	assert_null(st);
	assert_non_null(strstr(err.msg, "names no schema that exists"));
	lsec_free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retry__deadlock_is_retried_not_shown,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_retry__joined_body_runs_once,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_retry__duplicate_names_holder,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_retry__registries_do_not_share_a_log_lock,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_retry__schema_created_later_moves_no_lock,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_retry__no_schema_refused_at_open,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_retry__default_isolation_is_not_trusted,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	return lsec_test_run_backends("store_retry", tests, sizeof(tests) / sizeof(tests[0]));
}
