#include "helpers/store_fixture.h"

#include "linesec/audit.h"
#include "store/store_int.h"

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

lsec_test_backend lsec_test_current_backend = LSEC_TEST_SQLITE;

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void pg_run(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fail_msg("cannot connect to '%s': %s", url, PQerrorMessage(c));
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fail_msg("'%s' failed: %s", sql, PQerrorMessage(c));
	}
	PQclear(r);
	PQfinish(c);
}

int lsec_test_lock_waiters(int64_t *n, lsec_store *st, lsec_err *err)
{
	*n = 0;
	return lsec_store__query(st,
				 "SELECT COUNT(*) FROM pg_locks w JOIN pg_locks h ON"
				 " h.locktype = 'advisory' AND h.granted AND h.pid = pg_backend_pid()"
				 " AND (w.database, w.classid, w.objid, w.objsubid) ="
				 " (h.database, h.classid, h.objid, h.objsubid)"
				 " WHERE w.locktype = 'advisory' AND NOT w.granted",
				 NULL, 0, lsec_store__row_int, n, err);
}

static EVP_PKEY *test_key;

static void free_test_key(void)
{
	EVP_PKEY_free(test_key);
	test_key = NULL;
}

EVP_PKEY *lsec_test_station_key(void)
{
	if (test_key == NULL) {
		test_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(test_key);
		atexit(free_test_key);
	}
	return test_key;
}

void lsec_test_attach_signer(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_signer *s = NULL;
	assert_lsec_ok(lsec_audit_signer_new(&s, LSEC_TEST_LINE, LSEC_TEST_STATION,
					     lsec_test_station_key(), &err),
		       &err);
	lsec_audit_signer_attach(st, s);
}

lsec_test_db *lsec_test_db_new(void)
{
	lsec_test_db *db = lsec_calloc(1, sizeof(*db));
	assert_non_null(db);
	db->backend = lsec_test_current_backend;
	db->dir = lsec_test_tmpdir();
	if (db->backend == LSEC_TEST_SQLITE) {
		db->location = lsec_test_path(db->dir, "registry.db");
		return db;
	}
	const char *url = getenv("LSEC_TEST_PG_URL");
	assert_non_null(url);
	uint8_t r[6];
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_random(r, sizeof(r), &err), &err);
	char hex[13];
	lsec_hex_encode(hex, r, sizeof(r));
	db->schema = lsec_asprintf("t%ld_%s", (long)getpid(), hex);
	char *sql = lsec_asprintf("CREATE SCHEMA %s", db->schema);
	pg_run(url, sql);
	lsec_free(sql);
	db->location = lsec_test_pg_location(db->schema);
	return db;
}

char *lsec_test_pg_location(const char *search_path)
{
	const char *url = getenv("LSEC_TEST_PG_URL");
	assert_non_null(url);
	return lsec_asprintf("%s%coptions=-csearch_path%%3D%s", url, strchr(url, '?') ? '&' : '?',
			     search_path);
}

void lsec_test_db_free(lsec_test_db *db)
{
	if (db == NULL) {
		return;
	}
	lsec_store_close(db->st);
	if (db->schema != NULL) {
		char *sql = lsec_asprintf("DROP SCHEMA %s CASCADE", db->schema);
		pg_run(getenv("LSEC_TEST_PG_URL"), sql);
		lsec_free(sql);
		lsec_free(db->schema);
	}
	lsec_free(db->location);
	lsec_test_rmtree(db->dir);
	lsec_free(db);
}

int lsec_test_db_setup(void **state)
{
	lsec_test_db *db = lsec_test_db_new();
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_create(&db->st, db->location, &err), &err);
	lsec_test_attach_signer(db->st);
	*state = db;
	return 0;
}

int lsec_test_db_teardown(void **state)
{
	lsec_test_db_free(*state);
	*state = NULL;
	return 0;
}

int lsec_test_run_backends(const char *name, const struct CMUnitTest *tests, size_t n)
{
	char label[128];
	lsec_test_current_backend = LSEC_TEST_SQLITE;
	snprintf(label, sizeof(label), "%s/sqlite", name);
	int failed = _cmocka_run_group_tests(label, tests, n, NULL, NULL);
	const char *url = getenv("LSEC_TEST_PG_URL");
	if (url != NULL && url[0] != '\0') {
		lsec_test_current_backend = LSEC_TEST_POSTGRES;
		snprintf(label, sizeof(label), "%s/postgres", name);
		failed += _cmocka_run_group_tests(label, tests, n, NULL, NULL);
	} else {
		printf("[  SKIPPED ] %s/postgres: LSEC_TEST_PG_URL is not set\n", name);
	}
	return failed;
}
