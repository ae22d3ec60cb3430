/*
 * Many stations at once: STATIONS processes (fork) share one registry and
 * register units at full speed, each unit with its key and an audit leaf in
 * one transaction. Some registrations collide on purpose with the other
 * stations' (same serial, same UID, same key fingerprint). The database
 * must accept exactly one of each colliding value, refuse the rest with
 * LSEC_E_EXISTS, and lose no leaf: one contiguous log.
 *
 * Runs on SQLite (one file, several processes) and on PostgreSQL when
 * LSEC_TEST_PG_URL is set. The worker is a table of steps so the log's
 * checks can grow here (see struct station_tally and check_log).
 */
#include "helpers/store_fixture.h"
#include "linesec/audit.h"

#include <jansson.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATIONS 4
#define PER_STATION 60
/* Every COLLIDE-th registration uses a value all stations use. */
#define COLLIDE 6

typedef struct station_tally {
	unsigned created;
	unsigned dup_serial;
	unsigned dup_uid;
	unsigned dup_key;
	unsigned other; /* any other failure: must stay 0 */
	char last_error[LSEC_ERR_MSG_MAX + 16];
} station_tally;

typedef enum { PLAIN, SHARED_SERIAL, SHARED_UID, SHARED_KEY } reg_kind;

static reg_kind kind_of(unsigned j)
{
	if (j % COLLIDE == 1) {
		return SHARED_SERIAL;
	}
	if (j % COLLIDE == 3) {
		return SHARED_UID;
	}
	if (j % COLLIDE == 5) {
		return SHARED_KEY;
	}
	return PLAIN;
}

/* One registration: unit, identity and audit leaf in one transaction. */
static int register_one(lsec_store *st, int station, unsigned j, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char serial[48], uid[48], key[80], name[16];
	reg_kind k = kind_of(j);
	snprintf(serial, sizeof(serial), "SN-%d-%u", station, j);
	if (k == SHARED_SERIAL) {
		snprintf(serial, sizeof(serial), "SHARED-SN-%u", j);
	}
	snprintf(uid, sizeof(uid), "UID-%d-%u", station, j);
	if (k == SHARED_UID) {
		snprintf(uid, sizeof(uid), "SHARED-UID-%u", j);
	}
	snprintf(key, sizeof(key), "key-%d-%u", station, j);
	if (k == SHARED_KEY) {
		snprintf(key, sizeof(key), "shared-key-%u", j);
	}
	snprintf(name, sizeof(name), "st%d", station);
	json_t *ev_json = json_pack("{s:s}", "key_fp", key);
	lsec_audit_event ev = {"operator", name, serial, NULL, 0, NULL, "register", "ok", ev_json};
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_unit_create(st, serial, uid, "sensor", name, err));
	LSEC_TRY(lsec_store_identity_add(st, serial, key, NULL, NULL, 0, LSEC_KEY_ACTIVE, err));
	LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev_json);
	return rc;
}

/* The child: registers PER_STATION units and reports its tally through fd. */
static void station_main(const char *location, int station, int fd)
{
	station_tally t;
	memset(&t, 0, sizeof(t));
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	if (lsec_store_open(&st, location, &err) != 0) {
		t.other++;
		snprintf(t.last_error, sizeof(t.last_error), "%s", err.msg);
	} else {
		lsec_test_attach_signer(st);
	}
	for (unsigned j = 0; st != NULL && j < PER_STATION; j++) {
		int rc = register_one(st, station, j, &err);
		reg_kind k = kind_of(j);
		if (rc == 0) {
			t.created++;
		} else if (rc == LSEC_E_EXISTS && k == SHARED_SERIAL && strstr(err.msg, "serial")) {
			t.dup_serial++;
		} else if (rc == LSEC_E_EXISTS && k == SHARED_UID && strstr(err.msg, "UID")) {
			t.dup_uid++;
		} else if (rc == LSEC_E_EXISTS && k == SHARED_KEY && strstr(err.msg, "key fingerprint")) {
			t.dup_key++;
		} else {
			t.other++;
			snprintf(t.last_error, sizeof(t.last_error), "%d: %s", rc, err.msg);
		}
	}
	lsec_store_close(st);
	ssize_t w = write(fd, &t, sizeof(t));
	_exit(w == (ssize_t)sizeof(t) ? 0 : 1);
}

typedef struct log_walk {
	uint64_t next;
	bool contiguous;
} log_walk;

static int walk(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		const uint8_t hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	log_walk *w = ctx;
	uint8_t h[32];
	(void)unit;
	if (sig_len != LSEC_AUDIT_LEAF_SIG_LEN || sig == NULL) {
		return lsec_err_set(err, LSEC_E_PARSE, __FILE__, __LINE__, "leaf %llu is unsigned",
				    (unsigned long long)seq);
	}
	if (seq != w->next++) {
		w->contiguous = false;
	}
	/* Every leaf is stored with its own RFC 6962 hash. */
	int rc = lsec_audit_leaf_hash(h, leaf, len, err);
	if (rc < 0 || memcmp(h, hash, 32) != 0) {
		w->contiguous = false;
	}
	return 0;
}

/* The log half: one leaf per accepted registration, contiguous, hashes right. */
static void check_log(lsec_store *st, unsigned created)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, st, &err), &err);
	assert_int_equal(n, created);
	log_walk w = {0, true};
	assert_lsec_ok(lsec_store_leaf_foreach(st, 0, n, walk, &w, &err), &err);
	assert_true(w.contiguous);
	assert_int_equal(w.next, n);
}

static void test_store_concurrency__stations_never_accept_a_duplicate(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	pid_t pids[STATIONS];
	int fds[STATIONS];
	/* The schema exists before the stations start (the setup opened it). */
	for (int i = 0; i < STATIONS; i++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		fflush(NULL);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(p[0]);
			station_main(db->location, i, p[1]);
		}
		close(p[1]);
		fds[i] = p[0];
	}
	station_tally sum;
	memset(&sum, 0, sizeof(sum));
	for (int i = 0; i < STATIONS; i++) {
		station_tally t;
		ssize_t r = read(fds[i], &t, sizeof(t));
		close(fds[i]);
		int status = 0;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_int_equal(r, sizeof(t));
		if (t.other != 0) {
			fail_msg("station %d: %u unexpected failures, last: %s", i, t.other,
				 t.last_error);
		}
		sum.created += t.created;
		sum.dup_serial += t.dup_serial;
		sum.dup_uid += t.dup_uid;
		sum.dup_key += t.dup_key;
	}
	unsigned shared_serial = 0, shared_uid = 0, shared_key = 0, plain = 0;
	for (unsigned j = 0; j < PER_STATION; j++) {
		switch (kind_of(j)) {
		case SHARED_SERIAL:
			shared_serial++;
			break;
		case SHARED_UID:
			shared_uid++;
			break;
		case SHARED_KEY:
			shared_key++;
			break;
		case PLAIN:
		default:
			plain++;
			break;
		}
	}
	/* Exactly one station wins each shared value; all others are refused. */
	assert_int_equal(sum.dup_serial, (STATIONS - 1) * shared_serial);
	assert_int_equal(sum.dup_uid, (STATIONS - 1) * shared_uid);
	assert_int_equal(sum.dup_key, (STATIONS - 1) * shared_key);
	assert_int_equal(sum.created, STATIONS * plain + shared_serial + shared_uid + shared_key);
	uint64_t units = 0;
	assert_lsec_ok(lsec_store_unit_count(&units, db->st, &err), &err);
	assert_int_equal(units, sum.created);
	/* A refused registration left nothing behind: every unit has its one key. */
	lsec_store_identity id;
	for (unsigned j = 0; j < PER_STATION; j++) {
		if (kind_of(j) == SHARED_KEY) {
			char key[80];
			snprintf(key, sizeof(key), "shared-key-%u", j);
			assert_lsec_ok(lsec_store_identity_get(&id, NULL, db->st, key, &err), &err);
		}
	}
	check_log(db->st, sum.created);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_concurrency__stations_never_accept_a_duplicate,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	return lsec_test_run_backends("store/concurrency", tests, sizeof(tests) / sizeof(tests[0]));
}
