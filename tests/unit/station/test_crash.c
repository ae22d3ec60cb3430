/*
 * Crash safety: the station is killed (SIGKILL, through the documented
 * LINESEC_TEST_CRASH_AT hook) at every step of every build SOP in turn, in
 * a child process; the parent then builds the same unit again and checks:
 * the unit ends shipped or quarantined (never in between), a shipped unit
 * passed the ship gate with all its evidence, no identity was issued twice,
 * and the audit log verifies.
 *
 * The second and third cases kill inside a group commit instead
 * (LINESEC_TEST_CRASH_AT=group-commit:N: the Nth durable commit of the
 * process, after it was written and before the sync that makes it durable),
 * at every durable commit of one unit's build, and of a two-socket gang's
 * build where the other socket may be waiting on the same sync.
 *
 * LSEC_TEST_CRASH_EVERY=K (the sanitized run of scripts/test sets it) kills
 * at a deterministic sample of the step points: every K-th in order (the
 * phases rotate: a K that is a multiple of 3 is taken as K + 1), plus the
 * first and the last. The plain run, without it, kills at every point; the
 * kills inside group commits are all made in both runs.
 */
#include "station_fixture.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The watchdog: a crash point normally takes seconds. One that takes
 * WATCHDOG_S is a hang; rather than wait for CTest's timeout with nothing to
 * show, print where the test and its child stand (gdb's backtraces, when gdb
 * is there), kill the child and abort.
 */
#define WATCHDOG_S 300
static _Atomic long watch_deadline; /* CLOCK_MONOTONIC seconds; 0: not armed */
static _Atomic pid_t watch_child;
static char watch_what[200];

static long mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static void backtraces(pid_t pid, const char *who)
{
	char cmd[160];
	fprintf(stderr, "---- %s (pid %ld) ----\n", who, (long)pid);
	snprintf(cmd, sizeof(cmd),
		 "command -v gdb >/dev/null && gdb -p %ld -batch -nx -ex 'thread apply all bt' "
		 "</dev/null 1>&2 2>/dev/null",
		 (long)pid);
	if (system(cmd) != 0) {
		fprintf(stderr, "(no backtrace: gdb is missing or could not attach)\n");
	}
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		sleep(5);
		long d = atomic_load(&watch_deadline);
		if (d == 0 || mono_s() < d) {
			continue;
		}
		pid_t c = atomic_load(&watch_child);
		fprintf(stderr, "test_crash: no progress for %d s at %s: a hang\n", WATCHDOG_S,
			watch_what);
		if (c > 0) {
			backtraces(c, "the killed build's child");
			kill(c, SIGKILL);
		}
		backtraces(getpid(), "the test");
		abort();
	}
	return NULL;
}

static void watch_start(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, watchdog, NULL) == 0) {
		pthread_detach(t);
	}
}

/* Arms (or re-arms) the watchdog for the next stretch of work, named by what. */
static void watch(const char *what)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	snprintf(watch_what, sizeof(watch_what), "%s", what);
	atomic_store(&watch_deadline, mono_s() + WATCHDOG_S);
	pthread_once(&once, watch_start);
}

typedef struct point {
	char sop[32];
	char step[65];
	const char *phase;
} point;

static const char *const phases[] = {"intent", "acted", "done"};

/* Whether point i of n is killed at: all of them, or the LSEC_TEST_CRASH_EVERY sample. */
static bool sampled(size_t i, size_t n)
{
	const char *v = getenv("LSEC_TEST_CRASH_EVERY");
	char *end = NULL;
	unsigned long k = v != NULL ? strtoul(v, &end, 10) : 0;
	if (v == NULL || v[0] == '\0' || *end != '\0' || k <= 1) {
		return true;
	}
	if (k % 3 == 0) {
		k++; /* every phase of the steps, in turn */
	}
	return i == 0 || i + 1 == n || i % k == 0;
}

/* Every crash point of the four build SOPs. */
static size_t points(station_fx *fx, point *out, size_t cap)
{
	size_t n = 0;
	lsec_err err = LSEC_ERR_INIT;
	for (int k = LSEC_SOP_FLASH; k <= LSEC_SOP_DEBUG_LOCK; k++) {
		lsec_sop *sop = NULL;
		fx_ok(lsec_sop_fetch_approved(&sop, lsec_station_store(fx->st), (lsec_sop_kind)k,
					      &err),
		      &err);
		for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
			const lsec_sop_step *s = lsec_sop_step_at(sop, i);
			for (size_t p = 0; p < 3 && n < cap; p++) {
				snprintf(out[n].sop, sizeof(out[n].sop), "%s", lsec_sop_name(sop));
				snprintf(out[n].step, sizeof(out[n].step), "%s", s->id);
				out[n].phase = phases[p];
				n++;
			}
		}
		lsec_sop_free(sop);
	}
	return n;
}

/*
 * In a child: build the unit (uris[0], or uris[0..n) on two sockets when n
 * > 1) with the crash hook armed at `at`. Returns how the child ended.
 */
static int crash_child_at(station_fx *fx, char **uris, size_t n, const char *at)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("LINESEC_TEST_CRASH_AT", at, 1);
		if (n > 1) {
			lsec_station_gang_summary *sum = NULL;
			lsec_err err = LSEC_ERR_INIT;
			int rc = lsec_station_gang(&sum, &fx->cfg, (const char *const *)uris, n, 2,
						   &err);
			_exit(rc == 0 ? 0 : 1);
		}
		const char *uri = uris[0];
		lsec_station *st = NULL;
		lsec_station_result res;
		lsec_err err = LSEC_ERR_INIT;
		if (lsec_station_open(&st, &fx->cfg, &err) < 0) {
			_exit(2);
		}
		int rc = lsec_station_build(&res, st, uri, NULL, &err);
		_exit(rc == 0 ? 0 : 1);
	}
	int status = 0;
	char what[200];
	snprintf(what, sizeof(what), "the child killed at '%s'", at);
	watch(what);
	atomic_store(&watch_child, pid);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	atomic_store(&watch_child, 0);
	watch("the rebuild after it");
	return status;
}

static int crash_child(station_fx *fx, const char *uri, const point *p)
{
	char at[160];
	char *uris[] = {(char *)(uintptr_t)uri};
	int w = snprintf(at, sizeof(at), "%s:%s:%s", p->sop, p->step, p->phase);
	assert_true(w > 0 && (size_t)w < sizeof(at));
	return crash_child_at(fx, uris, 1, at);
}

/* Identities issued to the unit: distinct certificate serials of its issuing steps. */
static size_t issued(station_fx *fx, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_unit_record *rec = NULL;
	size_t n = 0;
	char first[LSEC_STORE_FP_MAX + 1] = "";
	fx_ok(lsec_station_unit_show(&rec, fx->st, serial, &err), &err);
	for (size_t i = 0; i < rec->nevents; i++) {
		const lsec_station_unit_event *e = &rec->events[i];
		if (strcmp(e->action, "ca.issue") != 0 || strcmp(e->outcome, "passed") != 0) {
			continue;
		}
		json_t *leaf = NULL;
		fx_ok(lsec_json_parse(&leaf, e->leaf, strlen(e->leaf), "leaf", &err), &err);
		const char *cs = json_string_value(
			json_object_get(json_object_get(leaf, "evidence"), "cert-serial"));
		if (cs != NULL && strcmp(first, cs) != 0) {
			snprintf(first, sizeof(first), "%s", cs);
			n++;
		}
		json_decref(leaf);
	}
	lsec_station_unit_record_free(rec);
	return n;
}

static void test_station_crash__every_step_every_sop(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	point pts[160];
	fx_ready(fx, 140);
	size_t n = points(fx, pts, sizeof(pts) / sizeof(pts[0]));
	assert_true(n > 60 && n <= 140);
	size_t shipped = 0, quarantined = 0, killed = 0, tried = 0;
	for (size_t i = 0; i < n; i++) {
		if (!sampled(i, n)) {
			continue;
		}
		tried++;
		char *u = fx_unit(fx, (unsigned)i + 1);
		char serial[32];
		snprintf(serial, sizeof(serial), "unit-%03u", (unsigned)(i + 1));
		int status = crash_child(fx, u, &pts[i]);
		if (WIFSIGNALED(status)) {
			assert_int_equal(WTERMSIG(status), SIGKILL);
			killed++;
		}
		/* The next run reconciles and finishes, or quarantines. */
		lsec_station_result res;
		lsec_err e = LSEC_ERR_INIT;
		int rc = lsec_station_build(&res, fx->st, u, NULL, &e);
		lsec_store_unit unit;
		fx_ok(lsec_store_unit_get(&unit, lsec_station_store(fx->st), serial, &err), &err);
		if (rc == 0) {
			assert_int_equal(unit.state, LSEC_UNIT_SHIPPED);
			shipped++;
		} else {
			if (unit.state != LSEC_UNIT_QUARANTINED) {
				fail_msg("crash at %s:%s:%s left unit %s %s: %s", pts[i].sop,
					 pts[i].step, pts[i].phase, serial,
					 lsec_unit_state_name(unit.state), e.msg);
			}
			quarantined++;
			print_message("crash at %s:%s:%s: unit quarantined (%s)\n", pts[i].sop,
				      pts[i].step, pts[i].phase, e.msg);
		}
		assert_true(issued(fx, serial) <= 1);
		lsec_free(u);
	}
	/* Every point but the sampled negative test's was reached and killed the station. */
	assert_true(killed + 3 >= tried);
	assert_true(shipped > tried / 2);
	print_message("crash matrix: %zu points, %zu tried, %zu killed, %zu shipped, %zu "
		      "quarantined\n",
		      n, tried, killed, shipped, quarantined);
	fx_log_verifies(fx);
	atomic_store(&watch_deadline, 0);
}

/*
 * Rebuilds unit serial after a crash (unless the crash came after its
 * shipment was written): it ends shipped, or quarantined, with at most one
 * identity. Returns whether it shipped.
 */
static bool recovers(station_fx *fx, const char *uri, const char *serial, const char *at)
{
	lsec_err err = LSEC_ERR_INIT, e = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_store_unit unit;
	int rc = 0;
	if (lsec_store_unit_get(&unit, lsec_station_store(fx->st), serial, &e) != 0 ||
	    unit.state != LSEC_UNIT_SHIPPED) {
		rc = lsec_station_build(&res, fx->st, uri, NULL, &e);
	}
	fx_ok(lsec_store_unit_get(&unit, lsec_station_store(fx->st), serial, &err), &err);
	if (rc == 0) {
		assert_int_equal(unit.state, LSEC_UNIT_SHIPPED);
	} else if (unit.state != LSEC_UNIT_QUARANTINED) {
		fail_msg("crash at %s left unit %s %s: %s", at, serial,
			 lsec_unit_state_name(unit.state), e.msg);
	}
	assert_true(issued(fx, serial) <= 1);
	return rc == 0;
}

/* A kill inside every durable commit of one unit's build, one unit per commit. */
static void test_station_crash__inside_every_group_commit(void **state)
{
	station_fx *fx = *state;
	fx_ready(fx, 60);
	size_t shipped = 0, killed = 0, k = 1;
	for (;; k++) {
		assert_true(k <= 60);
		char *u = fx_unit(fx, (unsigned)k);
		char serial[32], at[32];
		snprintf(serial, sizeof(serial), "unit-%03u", (unsigned)k);
		snprintf(at, sizeof(at), "group-commit:%zu", k);
		int status = crash_child_at(fx, &u, 1, at);
		bool was_killed = WIFSIGNALED(status);
		if (was_killed) {
			assert_int_equal(WTERMSIG(status), SIGKILL);
			killed++;
		}
		shipped += recovers(fx, u, serial, at) ? 1 : 0;
		lsec_free(u);
		if (!was_killed) {
			break; /* the build has fewer durable commits than k */
		}
	}
	/* The durable commits of one build: the intents of its outside acts, its runs' ends, ship. */
	assert_true(killed >= 10);
	assert_true(shipped > k / 2);
	print_message("group-commit kills: %zu durable commits per build, %zu shipped after\n",
		      killed, shipped);
	fx_log_verifies(fx);
	atomic_store(&watch_deadline, 0);
}

/* Two sockets, one killed inside a durable commit the other may be waiting on. */
static void test_station_crash__gang_inside_group_commit(void **state)
{
	station_fx *fx = *state;
	const size_t kills[] = {1, 2, 5, 9, 14, 20, 27};
	size_t nk = sizeof(kills) / sizeof(kills[0]);
	fx_ready(fx, (unsigned)(2 * nk));
	for (size_t i = 0; i < nk; i++) {
		char *u[2] = {fx_unit(fx, (unsigned)(2 * i + 1)), fx_unit(fx, (unsigned)(2 * i + 2))};
		char at[32];
		snprintf(at, sizeof(at), "group-commit:%zu", kills[i]);
		int status = crash_child_at(fx, u, 2, at);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		for (size_t j = 0; j < 2; j++) {
			char serial[32];
			snprintf(serial, sizeof(serial), "unit-%03u", (unsigned)(2 * i + j + 1));
			(void)recovers(fx, u[j], serial, at);
			lsec_free(u[j]);
		}
	}
	fx_log_verifies(fx);
	atomic_store(&watch_deadline, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_crash__every_step_every_sop,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_crash__inside_every_group_commit,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_crash__gang_inside_group_commit,
						station_fx_setup, station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
