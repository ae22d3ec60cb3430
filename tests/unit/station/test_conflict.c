/*
 * A conflict with another station's transaction on PostgreSQL is retried,
 * never shown: while the station builds a unit, a second connection (the
 * other station) takes the log's write lock, waits until the station's
 * transaction queues behind it, and then updates the unit's row. When that
 * transaction holds the row (it closes a run: the unit's new state, then
 * its leaf) the two wait on each other, a real deadlock; the server undoes
 * the station's transaction (it waited first) and the station runs it again.
 * The unit ships and the log verifies.
 */
#include "helpers/store_fixture.h"
#include "station_fixture.h"
#include "store/store_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct other {
	const char *location;
	atomic_bool done;
	unsigned rounds;
	bool deadlocked; /* one of its updates waited for the station: stop provoking */
} other;

static void *other_main(void *arg)
{
	other *o = arg;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	if (lsec_store_open(&st, o->location, &err) < 0) {
		return NULL;
	}
	while (!atomic_load(&o->done) && !o->deadlocked) {
		lsec_store_tx tx = LSEC_STORE_TX_INIT;
		int rc = lsec_store_tx_begin(&tx, st, &err);
		rc = rc < 0 ? rc
			    : lsec_store__query(st, st->ops->log_lock_sql, NULL, 0, NULL,
						NULL, &err);
		int64_t waiting = 0;
		for (int i = 0; rc == 0 && i < 50 && waiting == 0; i++) {
			usleep(1000);
			rc = lsec_test_lock_waiters(&waiting, st, &err);
		}
		if (rc == 0 && waiting > 0) {
			/* The station waits for the log inside a transaction: touch its units.
			 * An update that waits (the station holds the row) is the deadlock. */
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			rc = lsec_store__query(st,
					       "UPDATE units SET station = station WHERE serial IN "
					       "('unit-001', 'unit-002', 'unit-003')",
					       NULL, 0, NULL, NULL, &err);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			/* Waited about the server's deadlock timeout, and went through: the
			 * station's transaction was the one undone (else provoke again). */
			o->deadlocked = rc == 0 && (t1.tv_sec - t0.tv_sec) * 1000 +
							   (t1.tv_nsec - t0.tv_nsec) / 1000000 >=
						   900;
			o->rounds++;
		}
		if (lsec_store_tx_end(&tx, rc, &err) < 0) {
			lsec_err_clear(&err);
		}
		lsec_err_clear(&err);
		usleep(200);
	}
	lsec_store_close(st);
	return NULL;
}

static char *schema;

static int conflict_setup(void **state)
{
	const char *url = getenv("LSEC_TEST_PG_URL");
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	if (url == NULL || url[0] == '\0') {
		*state = NULL;
		return 0;
	}
	schema = lsec_asprintf("conflict_%ld", (long)getpid());
	char *sql = lsec_asprintf("CREATE SCHEMA %s", schema);
	fx_ok(lsec_store_open(&st, url, &err) == 0 || lsec_store_create(&st, url, &err) == 0 ? 0 : -1,
	      &err);
	fx_ok(lsec_store__query(st, sql, NULL, 0, NULL, NULL, &err), &err);
	lsec_store_close(st);
	lsec_free(sql);
	fx_registry_at = lsec_asprintf("%s%coptions=-csearch_path%%3D%s", url,
				       strchr(url, '?') ? '&' : '?', schema);
	return station_fx_setup(state);
}

static int conflict_teardown(void **state)
{
	if (*state != NULL) {
		station_fx_teardown(state);
	}
	const char *url = getenv("LSEC_TEST_PG_URL");
	if (schema != NULL && url != NULL) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_store *st = NULL;
		char *sql = lsec_asprintf("DROP SCHEMA %s CASCADE", schema);
		if (lsec_store_open(&st, url, &err) == 0) {
			(void)lsec_store__query(st, sql, NULL, 0, NULL, NULL, &err);
		}
		lsec_store_close(st);
		lsec_free(sql);
	}
	return 0;
}

static void test_station_conflict__deadlock_retried_unit_ships(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	if (fx == NULL) {
		skip();
	}
	fx_ready(fx, 3);
	other o = {.location = fx->registry};
	atomic_init(&o.done, false);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, other_main, &o), 0);
	int rc = 0;
	unsigned shipped = 0;
	for (unsigned i = 1; i <= 3 && rc == 0; i++) {
		char *u = fx_unit(fx, i);
		lsec_station_result res;
		rc = lsec_station_build(&res, fx->st, u, NULL, &err);
		shipped += rc == 0 && res.shipped;
		lsec_free(u);
	}
	atomic_store(&o.done, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	fx_ok(rc, &err);
	assert_int_equal(shipped, 3);
	/* The server undid one of the station's transactions, which ran again. */
	assert_true(o.deadlocked);
	assert_true(lsec_store__retries(lsec_station_store(fx->st)) >= 1);
	fx_log_verifies(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_conflict__deadlock_retried_unit_ships,
						conflict_setup, conflict_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
