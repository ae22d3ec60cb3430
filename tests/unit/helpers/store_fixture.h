/*
 * Registry fixtures for tests that must pass on both backends: each case
 * gets a fresh registry, a SQLite file in a scratch folder or a PostgreSQL
 * schema of its own (so test programs can run in parallel on one server).
 * PostgreSQL runs only when LSEC_TEST_PG_URL is set (scripts/with-postgres).
 */
#ifndef LSEC_STORE_FIXTURE_H
#define LSEC_STORE_FIXTURE_H

#include "helpers/testutil.h"
#include "linesec/store.h"

typedef enum lsec_test_backend { LSEC_TEST_SQLITE = 0, LSEC_TEST_POSTGRES = 1 } lsec_test_backend;

typedef struct lsec_test_db {
	lsec_test_backend backend;
	char *location; /* what lsec_store_open takes */
	char *dir;      /* scratch folder (both backends get one) */
	char *schema;   /* PostgreSQL schema, dropped at teardown */
	lsec_store *st; /* opened by the setup */
} lsec_test_db;

/* The line and station every fixture registry's leaves are signed for. */
#define LSEC_TEST_LINE "test-line"
#define LSEC_TEST_STATION "st-1"

struct evp_pkey_st;
/* The test station's Ed25519 key: one per process, borrowed (never freed by callers). */
struct evp_pkey_st *lsec_test_station_key(void);
/*
 * Attaches a leaf signer for LSEC_TEST_STATION of LSEC_TEST_LINE with
 * lsec_test_station_key() to st, so lsec_audit_record can write.
 */
void lsec_test_attach_signer(lsec_store *st);

/*
 * PostgreSQL: *n = how many connections wait for an advisory lock st's
 * connection holds (the log or migration lock, whatever its key). Safe
 * off the test's thread: it asserts nothing.
 */
int lsec_test_lock_waiters(int64_t *n, lsec_store *st, lsec_err *err);

/*
 * A PostgreSQL location on LSEC_TEST_PG_URL's server with this search path
 * (URL-encoded, e.g. "a%2Cb" for a,b), lsec_free'd by the caller.
 */
char *lsec_test_pg_location(const char *search_path);

/* The backend the current group runs against. */
extern lsec_test_backend lsec_test_current_backend;

/* A fresh, empty registry location for the current backend (no store opened). */
lsec_test_db *lsec_test_db_new(void);
void lsec_test_db_free(lsec_test_db *db);
/* cmocka setup/teardown: *state is an lsec_test_db with st open and signing. */
int lsec_test_db_setup(void **state);
int lsec_test_db_teardown(void **state);
/*
 * Runs the tests against SQLite, then against PostgreSQL when
 * LSEC_TEST_PG_URL is set. Returns the number of failures.
 */
int lsec_test_run_backends(const char *name, const struct CMUnitTest *tests, size_t n);

#endif
