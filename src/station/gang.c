/*
 * gang.c - gang runs: N sockets build units in parallel, one thread, one
 * station handle (its own registry connection) and one device session per
 * socket. A stop-line condition stops every socket after its current unit.
 *
 * @test tests/unit/station/test_gang.c
 */
#include "station/station_int.h"

#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

typedef struct gang {
	const lsec_station_config *cfg;
	const char *const *uris;
	size_t n;
	pthread_mutex_t mu;
	size_t next;
	bool stop;
	char stop_reason[LSEC_ERR_MSG_MAX];
	lsec_station_result *res;
	int *rcs;
	char (*msgs)[LSEC_ERR_MSG_MAX];
	/* A fixture run: socket k builds fixture entry k only. */
	const lsec_station_fixture *fx;
	bool dry_run;
	bool *skipped;
	char (*plans)[512];
	/* The tail bound (tail_main): told to end, under mu, when the sockets are done. */
	pthread_cond_t done_cv;
	bool done;
} gang;

typedef struct sock {
	gang *g;
	unsigned number;
	lsec_station_config cfg;
	int rc;
	lsec_err err;
} sock;

/* The socket of the fixture file other than e whose probe serial is serial, or NULL. */
static const lsec_station_fixture_socket *probe_owner(const lsec_station_fixture *fx,
						      const lsec_station_fixture_socket *e,
						      const char *serial)
{
	for (size_t i = 0; i < lsec_station_fixture_count(fx); i++) {
		const lsec_station_fixture_socket *o = lsec_station_fixture_at(fx, i);
		if (o != e && o->probe_serial != NULL && lsec_station__eq(o->probe_serial, serial)) {
			return o;
		}
	}
	return NULL;
}

/*
 * Whether socket e's probe is the one the fixture file binds there, by the
 * serial its server reports: 0 when it is (or the file binds none and the
 * serial is no other socket's), 1 when the socket is to be skipped (why
 * says so), < 0 when the server cannot be reached (a transient failure). A
 * socket bound to a probe serial whose server reports none, or answers the
 * question with an error, is not verified and is skipped too.
 */
static int probe_check(const lsec_station_fixture *fx, const lsec_station_fixture_socket *e,
		       char *reported, size_t rcap, char *why, size_t cap, lsec_err *err)
{
	lsec_err perr = LSEC_ERR_INIT;
	const char *file = lsec_station_fixture_file(fx);
	int prc = lsec_device_probe_serial(reported, rcap, e->probe, &perr);
	if (prc < 0) {
		reported[0] = '\0';
		if (lsec_station_failure_classify(prc) == LSEC_FAILURE_TRANSIENT) {
			*err = perr; /* a server that cannot be reached: reseat, retry */
			return prc;
		}
		if (e->probe_serial == NULL) {
			return 0; /* the build meets the probe and says what is wrong */
		}
		snprintf(why, cap,
			 "cannot verify probe: socket %u's server at %s did not report its probe "
			 "serial (%.300s); %s binds probe %s there",
			 e->socket, e->probe, perr.msg, file, e->probe_serial);
		return 1;
	}
	if (e->probe_serial != NULL && reported[0] == '\0') {
		snprintf(why, cap,
			 "cannot verify probe: socket %u's server at %s reports no probe serial; %s "
			 "binds probe %s there (start the server with its probe serial)",
			 e->socket, e->probe, file, e->probe_serial);
		return 1;
	}
	if (reported[0] == '\0' || lsec_station__eq(reported, e->probe_serial)) {
		return 0;
	}
	const lsec_station_fixture_socket *o = probe_owner(fx, e, reported);
	if (o != NULL) {
		snprintf(why, cap,
			 "wrong probe: socket %u's server at %s reports probe %s, which %s binds to "
			 "socket %u (expected probe %s)",
			 e->socket, e->probe, reported, file, o->socket,
			 e->probe_serial ? e->probe_serial : "none");
		return 1;
	}
	if (e->probe_serial == NULL) {
		return 0;
	}
	snprintf(why, cap,
		 "probe not in the fixture file: socket %u's server at %s reports probe %s, which "
		 "%s does not name (expected probe %s)",
		 e->socket, e->probe, reported, file, e->probe_serial);
	return 1;
}

/*
 * Whether the unit at socket e's probe is the one the fixture file binds
 * there: 0 when it is (or cannot be told), 1 when it is to be skipped (why
 * says so; a device.identify leaf of outcome skipped records it), < 0 when
 * the probe cannot be reached (a transient failure).
 */
static int fixture_check(lsec_station *st, const lsec_station_fixture *fx,
			 const lsec_station_fixture_socket *e, char *why, size_t cap, lsec_err *err)
{
	int rc = 0;
	char reported[80] = "";
	lsec_device *t = NULL;
	lsec_device_info info;
	lsec_store_unit unit;
	lsec_err quiet = LSEC_ERR_INIT;
	char uid[2 * LSEC_DEVICE_UID_LEN + 1] = "";
	json_t *ev = NULL;
	const char *file = lsec_station_fixture_file(fx);
	if (strncmp(e->probe, "rsp://", 6) == 0) { /* lint:ok */
		rc = probe_check(fx, e, reported, sizeof(reported), why, cap, err);
		LSEC_TRY(rc);
	}
	if (rc != 0 || e->serial == NULL) {
		goto out;
	}
	/* A registered unit seen here under another serial sits behind the wrong probe. */
	LSEC_TRY(lsec_device_open(&t, e->probe, err));
	LSEC_TRY(lsec_device_info_get(&info, t, err));
	lsec_hex_encode(uid, info.uid, LSEC_DEVICE_UID_LEN);
	if (lsec_store_unit_get_by_uid(&unit, st->store, uid, &quiet) == 0 &&
	    !lsec_station__eq(unit.serial, e->serial)) {
		snprintf(why, cap,
			 "wrong probe: socket %u's probe %s sees unit '%s' (UID %s), but %s places "
			 "unit '%s' there",
			 e->socket, e->probe, unit.serial, uid, file, e->serial);
		rc = 1;
	}
out:
	lsec_device_close(t);
	if (rc == 1) {
		/* Recorded as a refused identification is: the skip is in the log too. */
		lsec_err ignored = LSEC_ERR_INIT;
		ev = json_pack("{s:I,s:s,s:s,s:s,s:s}", LSEC_EV_SOCKET, (json_int_t)e->socket,
			       LSEC_EV_PROBE, e->probe, LSEC_EV_PROBE_SERIAL, reported,
			       LSEC_EV_EXPECTED_PROBE_SERIAL, e->probe_serial ? e->probe_serial : "",
			       LSEC_EV_REASON, why);
		if (ev != NULL && uid[0] != '\0') {
			json_object_set_new(ev, LSEC_EV_UID, json_string(uid));
		}
		if (ev != NULL) {
			(void)lsec_station__record(st, e->serial, "device.identify", "skipped", ev,
						   &ignored);
		}
		json_decref(ev);
	}
	return rc;
}

/*
 * Stops every socket after its current unit when unit i's build met a
 * stop-line condition (a stop-line failure, the quota, no release).
 */
static void stop_check(gang *g, size_t i)
{
	if (g->res[i].stop_line || g->rcs[i] == LSEC_E_STATION_STOP_LINE ||
	    g->rcs[i] == LSEC_E_STATION_QUOTA) {
		pthread_mutex_lock(&g->mu);
		if (!g->stop) {
			g->stop = true;
			snprintf(g->stop_reason, sizeof(g->stop_reason), "%s", g->msgs[i]);
		}
		pthread_mutex_unlock(&g->mu);
	}
}

/* Socket k of a fixture run: checks its probe, then builds (or dry-runs) its unit. */
static void fixture_socket(gang *g, lsec_station *st, size_t i)
{
	const lsec_station_fixture_socket *e = lsec_station_fixture_at(g->fx, i);
	lsec_err e2 = LSEC_ERR_INIT;
	int c = fixture_check(st, g->fx, e, g->msgs[i], sizeof(g->msgs[i]), &e2);
	if (c == 1) {
		g->skipped[i] = true;
		g->rcs[i] = 0;
		snprintf(g->res[i].serial, sizeof(g->res[i].serial), "%s", e->serial ? e->serial : "");
		return;
	}
	if (c < 0) {
		g->rcs[i] = c;
		g->res[i].failed = true;
		g->res[i].cause = c;
		snprintf(g->res[i].serial, sizeof(g->res[i].serial), "%s", e->serial ? e->serial : "");
	} else if (g->dry_run) {
		g->rcs[i] = lsec_station_dry_run(g->plans[i], sizeof(g->plans[i]), st, e->probe,
						 e->serial, &e2);
		if (g->rcs[i] < 0) {
			g->res[i].failed = true;
			g->res[i].cause = g->rcs[i];
		}
		snprintf(g->res[i].serial, sizeof(g->res[i].serial), "%s", e->serial ? e->serial : "");
	} else {
		g->rcs[i] = lsec_station_build(&g->res[i], st, e->probe, e->serial, &e2);
	}
	snprintf(g->msgs[i], sizeof(g->msgs[i]), "%s", e2.msg);
	stop_check(g, i);
}

static void *sock_main(void *arg)
{
	sock *s = arg;
	gang *g = s->g;
	lsec_station *st = NULL;
	s->rc = lsec_station_open(&st, &s->cfg, &s->err);
	if (s->rc == 0 && g->fx != NULL) {
		fixture_socket(g, st, s->number - 1);
		lsec_station_close(st);
		OPENSSL_thread_stop();
		return NULL;
	}
	while (s->rc == 0) {
		pthread_mutex_lock(&g->mu);
		size_t i = g->next;
		bool go = !g->stop && i < g->n;
		if (go) {
			g->next++;
		}
		pthread_mutex_unlock(&g->mu);
		if (!go) {
			break;
		}
		lsec_err e = LSEC_ERR_INIT;
		g->rcs[i] = lsec_station_build(&g->res[i], st, g->uris[i], NULL, &e);
		snprintf(g->msgs[i], sizeof(g->msgs[i]), "%s", e.msg);
		stop_check(g, i);
	}
	lsec_station_close(st);
	/* OpenSSL keeps per-thread state; a thread that ends must release it. */
	OPENSSL_thread_stop();
	return NULL;
}

/*
 * The tail bound. Every lookup of a leaf after the latest checkpoint reads,
 * hashes and signature-checks each leaf after it (the tail; docs/audit-log.md),
 * and each ship gate signs a checkpoint. While no unit reaches its ship gate
 * (a gang starting: on 64 sockets about 5,000 leaves before the first ships)
 * the tail grows with the sockets, and so does every lookup of every socket.
 * So while the sockets build, one more thread with its own station handle
 * signs a checkpoint whenever TAIL_MAX leaves were written since the latest
 * one (as lsec_station_checkpoint: every leaf in it signature-checked first).
 * A checkpoint it cannot sign ends it: the ship gates then refuse with the
 * reason.
 */
#define TAIL_MAX 256
#define TAIL_POLL_MS 50

static int count_leaf(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		      const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	(void)seq, (void)unit, (void)leaf, (void)len, (void)leaf_hash, (void)sig, (void)sig_len,
		(void)err;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* Whether TAIL_MAX leaves follow the latest checkpoint (reads at most that many rows). */
static int tail_full(bool *full, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	uint64_t size = 0, n = 0;
	uint8_t root[32];
	lsec_err e = LSEC_ERR_INIT;
	rc = lsec_store_checkpoint_latest(&size, root, NULL, NULL, store, &e);
	if (rc < 0 && rc != LSEC_E_NOTFOUND) {
		*err = e;
		goto out;
	}
	rc = 0;
	LSEC_TRY(lsec_store_leaf_foreach(store, size, size + TAIL_MAX, count_leaf, &n, err));
	*full = n >= TAIL_MAX;
out:
	return rc;
}

static void *tail_main(void *arg)
{
	gang *g = arg;
	lsec_station *st = NULL;
	lsec_err e = LSEC_ERR_INIT;
	bool full = false;
	int rc = lsec_station_open(&st, g->cfg, &e);
	pthread_mutex_lock(&g->mu);
	while (rc == 0 && !g->done) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TAIL_POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!g->done && pthread_cond_timedwait(&g->done_cv, &g->mu, &until) != ETIMEDOUT) {
		}
		if (g->done) {
			break;
		}
		pthread_mutex_unlock(&g->mu);
		rc = tail_full(&full, st->store, &e);
		if (rc == 0 && full) {
			rc = lsec_station_checkpoint(st, &e);
		}
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	lsec_station_close(st);
	OPENSSL_thread_stop();
	return NULL;
}

/*
 * Counts one failure at (sop, step): the count of an existing entry, else a
 * new entry after the last one of the same sop (at the end for a new sop),
 * so the failures stay grouped by sop in the order they first failed.
 * failures has room for every attempted unit. Cannot fail.
 */
static void count_failure(lsec_station_gang_summary *s, const char *sop, const char *step)
{
	size_t at = s->nfailures;
	for (size_t i = 0; i < s->nfailures; i++) {
		lsec_station_gang_failure *f = &s->failures[i];
		if (!lsec_station__eq(f->sop, sop)) {
			continue;
		}
		if (lsec_station__eq(f->step, step)) {
			f->count++;
			return;
		}
		at = i + 1;
	}
	memmove(&s->failures[at + 1], &s->failures[at],
		(s->nfailures - at) * sizeof(*s->failures));
	memset(&s->failures[at], 0, sizeof(*s->failures));
	snprintf(s->failures[at].sop, sizeof(s->failures[at].sop), "%s", sop);
	snprintf(s->failures[at].step, sizeof(s->failures[at].step), "%s", step);
	s->failures[at].count = 1;
	s->nfailures++;
}

/* Fills s from the units g built. Errors: LSEC_E_NOMEM. */
static int summarise(lsec_station_gang_summary *s, const gang *g, lsec_err *err)
{
	int rc = 0;
	s->results = lsec_calloc(g->next ? g->next : 1, sizeof(*s->results));
	s->failures = lsec_calloc(g->next ? g->next : 1, sizeof(*s->failures));
	LSEC_ENSURE(s->results != NULL && s->failures != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < g->next; i++) {
		lsec_station_gang_unit *u = &s->results[i];
		const lsec_station_result *r = &g->res[i];
		u->uri = lsec_strdup(g->uris[i]);
		LSEC_ENSURE(u->uri != NULL, LSEC_E_NOMEM, "out of memory");
		s->attempted++;
		u->rc = g->rcs[i];
		u->res = *r;
		if (u->rc < 0 || (g->skipped != NULL && g->skipped[i])) {
			snprintf(u->error, sizeof(u->error), "%s", g->msgs[i]);
		}
		if (g->fx != NULL) {
			u->socket = lsec_station_fixture_at(g->fx, i)->socket;
		}
		u->failure_class = lsec_station_failure_classify(
			r->cause != 0 ? r->cause : (u->rc < 0 ? u->rc : 0));
		if (u->failure_class == LSEC_FAILURE_TRANSIENT) {
			s->transient++;
		} else if (u->failure_class == LSEC_FAILURE_PERMANENT) {
			s->permanent++;
		}
		if (g->skipped != NULL && g->skipped[i]) {
			u->skipped = true;
			s->skipped++;
			continue;
		}
		if (g->dry_run && u->rc == 0) {
			u->dry_run = true;
			snprintf(u->plan, sizeof(u->plan), "%s", g->plans[i]);
			s->planned++;
			continue;
		}
		if (r->shipped) {
			s->shipped++;
		} else if (u->rc == LSEC_E_STATION_WRONG_STATE && r->state == LSEC_UNIT_SHIPPED) {
			/* A re-run: shipped before; not refused, and not in the yield. */
			s->already_shipped++;
		} else if (r->state == LSEC_UNIT_QUARANTINED) {
			s->quarantined++;
			count_failure(s, r->sop[0] ? r->sop : "other", r->step[0] ? r->step : "other");
		} else {
			s->refused++;
			const char *why = lsec_station_code_name(u->rc);
			if (why == NULL) {
				why = lsec_code_name(u->rc) ? lsec_code_name(u->rc) : "error";
			}
			count_failure(s, "refused", why);
		}
	}
	s->dry_run = g->dry_run;
	size_t built = s->attempted - s->already_shipped;
	s->yield_permille = built ? (unsigned)(s->shipped * 1000 / built) : 0;
	s->stopped = g->stop;
	if (g->stop) {
		snprintf(s->stop_reason, sizeof(s->stop_reason), "%s", g->stop_reason);
	}
out:
	return rc;
}

static int gang_run(lsec_station_gang_summary **out, const lsec_station_config *cfg,
		    const char *const *uris, size_t n, unsigned sockets,
		    const lsec_station_fixture *fx, bool dry_run, lsec_err *err)
{
	int rc = 0;
	gang g;
	sock *socks = NULL;
	pthread_t *th = NULL, tail_th;
	bool tail_started = false;
	unsigned started = 0;
	lsec_station_gang_summary *sum = NULL;
	uint64_t t0 = lsec_time_mono_ms();
	memset(&g, 0, sizeof(g));
	*out = NULL;
	LSEC_ENSURE(cfg != NULL && uris != NULL && n > 0, LSEC_E_USAGE, "no units to build");
	LSEC_ENSURE(sockets >= 1 && sockets <= 256, LSEC_E_USAGE,
		    "gang size %u is out of range (1..256)", sockets);
	g.cfg = cfg;
	g.uris = uris;
	g.n = n;
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.done_cv, NULL);
	g.fx = fx;
	g.dry_run = dry_run;
	g.res = lsec_calloc(n, sizeof(*g.res));
	g.rcs = lsec_calloc(n, sizeof(*g.rcs));
	g.msgs = lsec_calloc(n, sizeof(*g.msgs));
	g.skipped = lsec_calloc(n, sizeof(*g.skipped));
	g.plans = lsec_calloc(n, sizeof(*g.plans));
	LSEC_ENSURE(g.skipped && g.plans, LSEC_E_NOMEM, "out of memory");
	if (fx != NULL) {
		g.next = n; /* every socket takes its own entry */
	}
	socks = lsec_calloc(sockets, sizeof(*socks));
	th = lsec_calloc(sockets, sizeof(*th));
	sum = lsec_calloc(1, sizeof(*sum));
	LSEC_ENSURE(g.res && g.rcs && g.msgs && socks && th && sum, LSEC_E_NOMEM, "out of memory");
	for (unsigned k = 0; k < sockets; k++) {
		socks[k].g = &g;
		socks[k].number = k + 1;
		socks[k].cfg = *cfg;
		socks[k].cfg.socket = fx != NULL ? lsec_station_fixture_at(fx, k)->socket : k + 1;
		if (pthread_create(&th[k], NULL, sock_main, &socks[k]) != 0) {
			break;
		}
		started++;
	}
	if (sockets > 1 && cfg->station_key != NULL && !dry_run) {
		tail_started = pthread_create(&tail_th, NULL, tail_main, &g) == 0;
	}
	for (unsigned k = 0; k < started; k++) {
		pthread_join(th[k], NULL);
	}
	if (tail_started) {
		pthread_mutex_lock(&g.mu);
		g.done = true;
		pthread_cond_signal(&g.done_cv);
		pthread_mutex_unlock(&g.mu);
		pthread_join(tail_th, NULL);
	}
	LSEC_ENSURE(started == sockets, LSEC_E_INTERNAL, "cannot start socket %u", started + 1);
	for (unsigned k = 0; k < sockets; k++) {
		if (socks[k].rc < 0) {
			*err = socks[k].err;
			rc = socks[k].rc;
			goto out;
		}
	}
	sum->units = n;
	sum->sockets = sockets;
	LSEC_TRY(summarise(sum, &g, err));
	sum->milliseconds = lsec_time_mono_ms() - t0;
	/* One checkpoint for the whole run, so every unit's history has its proof. */
	if (cfg->station_key != NULL && !dry_run) {
		lsec_station *st = NULL;
		LSEC_TRY(lsec_station_open(&st, cfg, err));
		rc = lsec_station_checkpoint(st, err);
		lsec_station_close(st);
		LSEC_TRY(rc);
	}
	*out = sum;
	sum = NULL;
out:
	lsec_station_gang_summary_free(sum);
	lsec_free(th);
	lsec_free(socks);
	lsec_free(g.res);
	lsec_free(g.rcs);
	lsec_free(g.msgs);
	lsec_free(g.skipped);
	lsec_free(g.plans);
	if (g.cfg != NULL) {
		pthread_mutex_destroy(&g.mu);
		pthread_cond_destroy(&g.done_cv);
	}
	return rc;
}

int lsec_station_gang(lsec_station_gang_summary **out, const lsec_station_config *cfg,
		      const char *const *uris, size_t n, unsigned sockets, lsec_err *err)
{
	return gang_run(out, cfg, uris, n, sockets, NULL, false, err);
}

int lsec_station_gang_fixture(lsec_station_gang_summary **out, const lsec_station_config *cfg,
			      const lsec_station_fixture *fx, const lsec_station_gang_options *opts,
			      lsec_err *err)
{
	int rc = 0;
	size_t n = lsec_station_fixture_count(fx);
	const char **uris = NULL;
	*out = NULL;
	LSEC_ENSURE(fx != NULL && n > 0, LSEC_E_USAGE, "no fixture file");
	uris = lsec_calloc(n, sizeof(*uris));
	LSEC_ENSURE(uris != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uris[i] = lsec_station_fixture_at(fx, i)->probe;
	}
	rc = gang_run(out, cfg, uris, n, (unsigned)n, fx, opts != NULL && opts->dry_run, err);
out:
	lsec_free(uris);
	return rc;
}

void lsec_station_gang_summary_free(lsec_station_gang_summary *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; s->results != NULL && i < s->attempted; i++) {
		lsec_free(s->results[i].uri);
	}
	lsec_free(s->results);
	lsec_free(s->failures);
	lsec_free(s);
}

/* One unit of the summary as JSON, or NULL when out of memory. */
static json_t *gang_unit_json(const lsec_station_gang_unit *u)
{
	const lsec_station_result *r = &u->res;
	json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "uri", u->uri, "serial", r->serial, "state",
			      lsec_unit_state_name(r->state), "shipped", r->shipped);
	int bad = 0;
	if (o != NULL && u->socket > 0) {
		bad |= json_object_set_new(o, "socket", json_integer((json_int_t)u->socket));
	}
	if (o != NULL && u->skipped) {
		bad |= json_object_set_new(o, "skipped", json_string(u->error));
	}
	if (o != NULL && u->dry_run) {
		bad |= json_object_set_new(o, "plan", json_string(u->plan));
	}
	if (o != NULL && u->failure_class != LSEC_FAILURE_NONE) {
		bad |= json_object_set_new(
			o, LSEC_EV_FAILURE_CLASS,
			json_string(lsec_station_failure_class_name(u->failure_class)));
	}
	if (o == NULL || u->rc >= 0 || bad != 0) {
		if (bad != 0) {
			json_decref(o);
			return NULL;
		}
		return o;
	}
	bad = json_object_set_new(o, "error", json_string(u->error));
	if (r->message[0] != '\0') {
		bad |= json_object_set_new(o, "next", json_string(r->message));
	}
	if (r->step[0] != '\0') {
		bad |= json_object_set_new(o, "sop", json_string(r->sop));
		bad |= json_object_set_new(o, "step", json_string(r->step));
	}
	if (bad != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int lsec_station_gang_summary_json(json_t **out, const lsec_station_gang_summary *s,
				   lsec_err *err)
{
	int rc = 0;
	json_t *o = NULL, *fails = json_object(), *units = json_array();
	*out = NULL;
	LSEC_ENSURE(fails != NULL && units != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < s->nfailures; i++) {
		const lsec_station_gang_failure *f = &s->failures[i];
		json_t *by_step = json_object_get(fails, f->sop);
		if (by_step == NULL) {
			by_step = json_object();
			LSEC_ENSURE(by_step != NULL && json_object_set_new(fails, f->sop, by_step) == 0,
				    LSEC_E_NOMEM, "out of memory");
		}
		LSEC_ENSURE(json_object_set_new(by_step, f->step, json_integer((json_int_t)f->count)) ==
				    0,
			    LSEC_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < s->attempted; i++) {
		LSEC_TRY(lsec_json_append(units, gang_unit_json(&s->results[i]), err));
	}
	/* Canonical JSON has no floats: yield in per mille, time in milliseconds. */
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:O,s:O,s:I,s:I,s:b}", "units",
		      (json_int_t)s->units, "attempted", (json_int_t)s->attempted, "shipped",
		      (json_int_t)s->shipped, "quarantined", (json_int_t)s->quarantined, "refused",
		      (json_int_t)s->refused, "sockets", (json_int_t)s->sockets, "failures", fails,
		      "results", units, "yield-permille", (json_int_t)s->yield_permille,
		      "milliseconds", (json_int_t)s->milliseconds, "stopped", s->stopped);
	LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_json_set(o, "already-shipped", json_integer((json_int_t)s->already_shipped),
			       err));
	LSEC_TRY(lsec_json_set(o, "skipped", json_integer((json_int_t)s->skipped), err));
	LSEC_TRY(lsec_json_set(o, "transient", json_integer((json_int_t)s->transient), err));
	LSEC_TRY(lsec_json_set(o, "permanent", json_integer((json_int_t)s->permanent), err));
	if (s->dry_run) {
		LSEC_TRY(lsec_json_set(o, "dry-run", json_true(), err));
		LSEC_TRY(lsec_json_set(o, "planned", json_integer((json_int_t)s->planned), err));
	}
	if (s->stopped) {
		LSEC_TRY(lsec_json_set(o, "stop-reason", json_string(s->stop_reason), err));
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(fails);
	json_decref(units);
	return rc;
}

int lsec_station_uris_expand(char ***out, size_t *n_out, const char *pattern, lsec_err *err)
{
	int rc = 0;
	glob_t gl;
	char *pat = NULL;
	const char *query = NULL;
	char **v = NULL;
	size_t n = 0;
	bool globbed = false;
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE(pattern != NULL && strncmp(pattern, "sim:", 4) == 0, LSEC_E_USAGE, /* lint:ok */
		    "unit pattern '%s' must be sim:DIR/GLOB", pattern ? pattern : "");
	query = strchr(pattern, '?');
	pat = lsec_strdup(pattern + 4);
	LSEC_ENSURE(pat != NULL, LSEC_E_NOMEM, "out of memory");
	if (strchr(pat, '?') != NULL) {
		*strchr(pat, '?') = '\0';
	}
	memset(&gl, 0, sizeof(gl));
	int g = glob(pat, 0, NULL, &gl);
	globbed = true;
	LSEC_ENSURE(g == 0 || g == GLOB_NOMATCH, LSEC_E_IO, "cannot expand '%s'", pattern);
	v = lsec_calloc(gl.gl_pathc + 1, sizeof(*v));
	LSEC_ENSURE(v != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		const char *p = gl.gl_pathv[i];
		size_t len = strlen(p);
		/* A unit is its .sim state file (beside it: .huk, .flash, fleet.json). */
		if (len < 4 || !lsec_station__eq(p + len - 4, ".sim")) {
			continue;
		}
		v[n] = lsec_asprintf("sim:%s%s", p, query ? query : "");
		LSEC_ENSURE(v[n] != NULL, LSEC_E_NOMEM, "out of memory");
		n++;
	}
	LSEC_ENSURE(n > 0, LSEC_E_NOTFOUND, "no simulated unit matches '%s'", pattern);
	*out = v;
	*n_out = n;
	v = NULL;
out:
	if (v != NULL) {
		lsec_station_uris_free(v, n);
	}
	if (globbed) {
		globfree(&gl);
	}
	lsec_free(pat);
	return rc;
}

void lsec_station_uris_free(char **uris, size_t n)
{
	if (uris == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		lsec_free(uris[i]);
	}
	lsec_free(uris);
}
