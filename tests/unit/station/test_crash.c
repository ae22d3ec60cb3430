/*
 * Crash safety: the station is killed (SIGKILL, through the documented
 * LINESEC_TEST_CRASH_AT hook) at every step of every build SOP in turn, in
 * a child process; the parent then builds the same unit again and checks:
 * the unit ends shipped or quarantined (never in between), a shipped unit
 * passed the ship gate with all its evidence, no identity was issued twice,
 * and the audit log verifies.
 */
#include "station_fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct point {
	char sop[32];
	char step[65];
	const char *phase;
} point;

static const char *const phases[] = {"intent", "acted", "done"};

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

/* In a child: build the unit with the crash hook armed. Returns how the child ended. */
static int crash_child(station_fx *fx, const char *uri, const point *p)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char at[160];
		snprintf(at, sizeof(at), "%s:%s:%s", p->sop, p->step, p->phase);
		setenv("LINESEC_TEST_CRASH_AT", at, 1);
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
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
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
	size_t shipped = 0, quarantined = 0, killed = 0;
	for (size_t i = 0; i < n; i++) {
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
	assert_true(killed + 3 >= n);
	assert_true(shipped > n / 2);
	print_message("crash matrix: %zu points, %zu killed, %zu shipped, %zu quarantined\n", n,
		      killed, shipped, quarantined);
	fx_log_verifies(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_crash__every_step_every_sop,
						station_fx_setup, station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
