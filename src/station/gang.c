/*
 * gang.c - gang runs: N sockets build units in parallel, one thread, one
 * station handle (its own registry connection) and one device session per
 * socket. A stop-line condition stops every socket after its current unit.
 *
 * @test tests/unit/station/test_gang.c
 */
#include "station/station_int.h"

#include <glob.h>
#include <pthread.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/crypto.h>

typedef struct gang {
	const lsec_station_config *cfg;
	const char *const *uris;
	size_t n;
	pthread_mutex_t mu;
	size_t next;
	bool stop;
	char stop_reason[512];
	lsec_station_result *res;
	int *rcs;
	char (*msgs)[256];
} gang;

typedef struct sock {
	gang *g;
	unsigned number;
	lsec_station_config cfg;
	int rc;
	lsec_err err;
} sock;

static void *sock_main(void *arg)
{
	sock *s = arg;
	gang *g = s->g;
	lsec_station *st = NULL;
	s->rc = lsec_station_open(&st, &s->cfg, &s->err);
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
		if (g->res[i].stop_line || g->rcs[i] == LSEC_E_STATION_STOP_LINE ||
		    g->rcs[i] == LSEC_E_STATION_QUOTA) {
			pthread_mutex_lock(&g->mu);
			if (!g->stop) {
				g->stop = true;
				snprintf(g->stop_reason, sizeof(g->stop_reason), "%s", e.msg);
			}
			pthread_mutex_unlock(&g->mu);
		}
	}
	lsec_station_close(st);
	/* OpenSSL keeps per-thread state; a thread that ends must release it. */
	OPENSSL_thread_stop();
	return NULL;
}

/* Adds one to obj[key1][key2] (key2 may be NULL: obj[key1]). */
static void bump(json_t *obj, const char *k1, const char *k2)
{
	json_t *o = obj;
	if (k2 != NULL) {
		o = json_object_get(obj, k1);
		if (o == NULL) {
			o = json_object();
			json_object_set_new(obj, k1, o);
		}
		k1 = k2;
	}
	json_int_t v = json_integer_value(json_object_get(o, k1));
	json_object_set_new(o, k1, json_integer(v + 1));
}

int lsec_station_gang(json_t **out, const lsec_station_config *cfg, const char *const *uris,
		      size_t n, unsigned sockets, lsec_err *err)
{
	int rc = 0;
	gang g;
	sock *socks = NULL;
	pthread_t *th = NULL;
	unsigned started = 0;
	json_t *sum = NULL, *fails = NULL, *units = NULL;
	size_t shipped = 0, quarantined = 0, refused = 0;
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
	g.res = lsec_calloc(n, sizeof(*g.res));
	g.rcs = lsec_calloc(n, sizeof(*g.rcs));
	g.msgs = lsec_calloc(n, sizeof(*g.msgs));
	socks = lsec_calloc(sockets, sizeof(*socks));
	th = lsec_calloc(sockets, sizeof(*th));
	LSEC_ENSURE(g.res && g.rcs && g.msgs && socks && th, LSEC_E_NOMEM, "out of memory");
	for (unsigned k = 0; k < sockets; k++) {
		socks[k].g = &g;
		socks[k].number = k + 1;
		socks[k].cfg = *cfg;
		socks[k].cfg.socket = k + 1;
		if (pthread_create(&th[k], NULL, sock_main, &socks[k]) != 0) {
			break;
		}
		started++;
	}
	for (unsigned k = 0; k < started; k++) {
		pthread_join(th[k], NULL);
	}
	LSEC_ENSURE(started == sockets, LSEC_E_INTERNAL, "cannot start socket %u", started + 1);
	for (unsigned k = 0; k < sockets; k++) {
		if (socks[k].rc < 0) {
			*err = socks[k].err;
			rc = socks[k].rc;
			goto out;
		}
	}
	sum = json_object();
	fails = json_object();
	units = json_array();
	LSEC_ENSURE(sum && fails && units, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < g.next; i++) {
		const lsec_station_result *r = &g.res[i];
		json_t *u = json_pack("{s:s,s:s,s:s,s:b}", "uri", uris[i], "serial", r->serial,
				      "state", lsec_unit_state_name(r->state), "shipped", r->shipped);
		if (u != NULL && g.rcs[i] < 0) {
			json_object_set_new(u, "error", json_string(g.msgs[i]));
			if (r->message[0] != '\0') {
				json_object_set_new(u, "next", json_string(r->message));
			}
			if (r->step[0] != '\0') {
				json_object_set_new(u, "sop", json_string(r->sop));
				json_object_set_new(u, "step", json_string(r->step));
			}
		}
		json_array_append_new(units, u);
		if (r->shipped) {
			shipped++;
		} else if (r->state == LSEC_UNIT_QUARANTINED) {
			quarantined++;
			bump(fails, r->sop[0] ? r->sop : "other", r->step[0] ? r->step : "other");
		} else {
			refused++;
			const char *why = lsec_station_code_name(g.rcs[i]);
			bump(fails, "refused", why ? why : (lsec_code_name(g.rcs[i])
								? lsec_code_name(g.rcs[i])
								: "error"));
		}
	}
	{
		/* Canonical JSON has no floats: yield in per mille, time in milliseconds. */
		json_int_t ms = (json_int_t)(lsec_time_mono_ms() - t0);
		json_int_t permille = g.next ? (json_int_t)(shipped * 1000 / g.next) : 0;
		json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:O,s:O,s:I,s:I,s:b}", "units",
				      (json_int_t)n, "attempted", (json_int_t)g.next, "shipped",
				      (json_int_t)shipped, "quarantined", (json_int_t)quarantined,
				      "refused", (json_int_t)refused, "sockets", (json_int_t)sockets,
				      "failures", fails, "results", units, "yield-permille", permille,
				      "milliseconds", ms, "stopped", g.stop);
		LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "out of memory");
		if (g.stop) {
			json_object_set_new(o, "stop-reason", json_string(g.stop_reason));
		}
		json_decref(sum);
		sum = o;
	}
	/* One checkpoint for the whole run, so every unit's history has its proof. */
	if (cfg->station_key != NULL) {
		lsec_station *st = NULL;
		LSEC_TRY(lsec_station_open(&st, cfg, err));
		rc = lsec_station_checkpoint(st, err);
		lsec_station_close(st);
		LSEC_TRY(rc);
	}
	*out = sum;
	sum = NULL;
out:
	json_decref(sum);
	json_decref(fails);
	json_decref(units);
	lsec_free(th);
	lsec_free(socks);
	lsec_free(g.res);
	lsec_free(g.rcs);
	lsec_free(g.msgs);
	if (g.cfg != NULL) {
		pthread_mutex_destroy(&g.mu);
	}
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
