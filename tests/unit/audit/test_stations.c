/*
 * Many stations on one log: STATIONS processes (fork) append events at full
 * speed to one registry, and every so often sign a checkpoint while the
 * others keep appending. No event may be lost or doubled, sequence numbers
 * must be contiguous, each leaf must be the event its station recorded at
 * the seq it was told, and the whole log must verify.
 *
 * Runs on SQLite (one file, several processes) and on PostgreSQL when
 * LSEC_TEST_PG_URL is set (scripts/with-postgres).
 */
#include "helpers/store_fixture.h"

#include "audit/audit_int.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATIONS 4
#define EVENTS 150
#define CHECKPOINT_EVERY 50

/* Each station signs its leaves and checkpoints with its own key, and trusts the others'. */
static EVP_PKEY *keys[STATIONS];

/* What a station reports: the seq of each of its events, and failures. */
typedef struct station_report {
	uint64_t seq[EVENTS];
	unsigned recorded;
	unsigned checkpoints;
	int failed_rc;
	char last_error[LSEC_ERR_MSG_MAX];
} station_report;

static int append_event(lsec_store *st, int station, unsigned j, uint64_t *seq, lsec_err *err)
{
	int rc;
	char name[16], unit[32];
	snprintf(name, sizeof(name), "st%d", station);
	snprintf(unit, sizeof(unit), "SN-%d-%u", station, j);
	json_t *evd = json_pack("{s:i,s:i}", "station_index", station, "event_index", (int)j);
	lsec_audit_event ev = {"operator", name, unit, "sop-1-flash", 1, "flash", "write-image",
			       "pass", evd};
	rc = lsec_audit_append(seq, st, &ev, err);
	json_decref(evd);
	return rc;
}

static void station_main(const char *location, int station, int fd)
{
	station_report r;
	memset(&r, 0, sizeof(r));
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	char name[16];
	snprintf(name, sizeof(name), "st%d", station);
	int rc = lsec_store_open(&st, location, &err);
	lsec_audit_signer *signer = NULL;
	if (rc == 0) {
		rc = lsec_audit_signer_new(&signer, "many", name, keys[station], &err);
	}
	for (int k = 0; rc == 0 && k < STATIONS; k++) {
		rc = k == station ? 0 : lsec_audit_signer_trust(signer, keys[k], &err);
	}
	if (rc == 0) {
		lsec_audit_signer_attach(st, signer);
		signer = NULL;
	}
	lsec_audit_signer_free(signer);
	for (unsigned j = 0; rc == 0 && j < EVENTS; j++) {
		rc = append_event(st, station, j, &r.seq[j], &err);
		if (rc == 0) {
			r.recorded++;
		}
		if (rc == 0 && (j + 1) % CHECKPOINT_EVERY == 0) {
			rc = lsec_audit_checkpoint_create(NULL, st, "many", name,
							  keys[station], "auditor", &err);
			r.checkpoints += rc == 0;
		}
	}
	if (rc != 0) {
		r.failed_rc = rc;
		snprintf(r.last_error, sizeof(r.last_error), "%s", err.msg);
	}
	lsec_store_close(st);
	ssize_t w = write(fd, &r, sizeof(r));
	_exit(w == (ssize_t)sizeof(r) ? 0 : 1);
}

static void check_leaf(lsec_store *st, uint64_t seq, int station, unsigned j)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	uint8_t h[32];
	json_t *o = NULL;
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, st, seq, &err), &err);
	assert_lsec_ok(lsec_json_parse(&o, (const char *)leaf.data, leaf.len, "leaf", &err), &err);
	json_t *evd = json_object_get(o, "evidence");
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), seq);
	assert_int_equal(json_integer_value(json_object_get(evd, "station_index")), station);
	assert_int_equal(json_integer_value(json_object_get(evd, "event_index")), j);
	json_decref(o);
	lsec_buf_release(&leaf);
}

static void test_audit_stations__four_stations_one_log(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	pid_t pids[STATIONS];
	int fds[STATIONS];
	static station_report reps[STATIONS];
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
	unsigned checkpoints = 0;
	for (int i = 0; i < STATIONS; i++) {
		size_t got = 0;
		while (got < sizeof(reps[i])) {
			ssize_t r = read(fds[i], (uint8_t *)&reps[i] + got, sizeof(reps[i]) - got);
			assert_true(r > 0);
			got += (size_t)r;
		}
		close(fds[i]);
		int status = 0;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (reps[i].failed_rc != 0) {
			fail_msg("station %d failed (%d): %s", i, reps[i].failed_rc, reps[i].last_error);
		}
		assert_int_equal(reps[i].recorded, EVENTS);
		checkpoints += reps[i].checkpoints;
	}
	assert_int_equal(checkpoints, STATIONS * (EVENTS / CHECKPOINT_EVERY));
	/* Every event is where its station was told it is; no seq was handed out twice. */
	uint64_t total = 0;
	assert_lsec_ok(lsec_store_leaf_count(&total, db->st, &err), &err);
	assert_int_equal(total, STATIONS * EVENTS + checkpoints);
	uint8_t *taken = lsec_calloc(total, 1);
	assert_non_null(taken);
	for (int i = 0; i < STATIONS; i++) {
		for (unsigned j = 0; j < EVENTS; j++) {
			uint64_t s = reps[i].seq[j];
			assert_true(s < total);
			assert_int_equal(taken[s], 0);
			taken[s] = 1;
			if (j > 0) {
				assert_true(s > reps[i].seq[j - 1]);
			}
			if (j % 17 == 0) {
				check_leaf(db->st, s, i, j);
			}
		}
	}
	lsec_free(taken);
	/* One log, and it verifies: leaves, checkpoints by all stations, roots. */
	lsec_audit_verify_report rep;
	assert_lsec_ok(lsec_audit_verify_keys(&rep, db->st, "many", (const EVP_PKEY *const *)keys,
					      STATIONS, NULL, 0, &err),
		       &err);
	assert_int_equal(rep.leaves, total);
	assert_int_equal(rep.checkpoints, checkpoints);
	/* Without one station's key, that station's checkpoints are not trusted. */
	assert_lsec_code(lsec_audit_verify_keys(&rep, db->st, "many", (const EVP_PKEY *const *)keys,
						STATIONS - 1, NULL, 0, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "trusted station keys"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_stations__four_stations_one_log,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	for (int i = 0; i < STATIONS; i++) {
		keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		if (keys[i] == NULL) {
			return 1;
		}
	}
	int failed = lsec_test_run_backends("audit/stations", tests, sizeof(tests) / sizeof(tests[0]));
	for (int i = 0; i < STATIONS; i++) {
		EVP_PKEY_free(keys[i]);
	}
	return failed;
}
