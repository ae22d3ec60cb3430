/*
 * cmd_line.c - `linesec line --devices 'sim:fleet/GLOB' --gang N`: a gang run,
 * N sockets building units in parallel, with a live line per socket on a
 * terminal and plain lines otherwise, then the production summary.
 */
#include "cli.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define MAX_SOCKETS 256

typedef struct live {
	pthread_mutex_t mu;
	bool tty;
	unsigned sockets;
	unsigned drawn;
	char lines[MAX_SOCKETS][120];
} live;

static void redraw(live *l)
{
	if (l->drawn > 0) {
		fprintf(stderr, "\033[%uA", l->drawn);
	}
	for (unsigned i = 0; i < l->sockets; i++) {
		fprintf(stderr, "\033[2K  socket %-3u %s\n", i + 1, l->lines[i]);
	}
	l->drawn = l->sockets;
	fflush(stderr);
}

static void on_progress(void *ctx, unsigned socket, const char *serial, const char *sop,
			const char *step, const char *outcome)
{
	live *l = ctx;
	pthread_mutex_lock(&l->mu);
	if (l->tty && socket >= 1 && socket <= l->sockets) {
		snprintf(l->lines[socket - 1], sizeof(l->lines[0]), "%-12s %-12s %-16s %s", serial,
			 sop, step, outcome ? outcome : "...");
		redraw(l);
	} else if (!l->tty && outcome != NULL && strcmp(outcome, "passed") != 0) {
		printf("socket %u: unit %s: SOP %s step %s %s\n", socket, serial, sop, step,
		       outcome);
	}
	pthread_mutex_unlock(&l->mu);
}

static void print_summary(json_t *s)
{
	json_int_t att = json_integer_value(json_object_get(s, "attempted"));
	printf("\nProduction summary\n");
	printf("  units presented   %lld on %lld sockets in %.1f s\n",
	       (long long)json_integer_value(json_object_get(s, "units")),
	       (long long)json_integer_value(json_object_get(s, "sockets")),
	       (double)json_integer_value(json_object_get(s, "milliseconds")) / 1000.0);
	printf("  built and shipped %lld\n", (long long)json_integer_value(json_object_get(s, "shipped")));
	printf("  quarantined       %lld\n",
	       (long long)json_integer_value(json_object_get(s, "quarantined")));
	printf("  refused at entry  %lld\n", (long long)json_integer_value(json_object_get(s, "refused")));
	printf("  yield             %.1f %% of %lld units attempted\n",
	       (double)json_integer_value(json_object_get(s, "yield-permille")) / 10.0,
	       (long long)att);
	const char *k1;
	json_t *v1;
	json_t *f = json_object_get(s, "failures");
	if (json_object_size(f) > 0) {
		printf("  failures by SOP and step:\n");
	}
	json_object_foreach(f, k1, v1)
	{
		const char *k2;
		json_t *v2;
		json_object_foreach(v1, k2, v2)
		{
			printf("    %-12s %-20s %lld\n", k1, k2, (long long)json_integer_value(v2));
		}
	}
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(s, "results"), i, u)
	{
		if (json_is_true(json_object_get(u, "shipped"))) {
			continue;
		}
		printf("  unit %-10s %s\n", json_string_value(json_object_get(u, "serial")),
		       json_string_value(json_object_get(u, "error")));
		if (json_object_get(u, "next") != NULL) {
			printf("    what to do next: %s\n", json_string_value(json_object_get(u, "next")));
		}
	}
	if (json_is_true(json_object_get(s, "stopped"))) {
		printf("  LINE STOPPED: %s\n", json_string_value(json_object_get(s, "stop-reason")));
	}
}

static const cli_opt line_opts[] = {
	CLI_REQUIRED("devices", "GLOB", "the units' devices, e.g. 'sim:fleet/*' (expanded by linesec)"),
	CLI_OPT("gang", "N", "sockets working in parallel (default 1)"),
	CLI_REQUIRED("batch", NULL, "manual steps confirmed by the logged-in people in batch mode"),
	CLI_OPT_JSON("the summary"),
	CLI_OPT_END,
};

static int line_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	char **uris = NULL;
	size_t n = 0;
	uint64_t gang = 1;
	json_t *sum = NULL;
	live *l = NULL;
	lsec_station_config *cfg = lsec_station_setup_config(c->setup);
	LSEC_TRY(cli_get_u64(&c->a, "gang", MAX_SOCKETS, &gang, err));
	LSEC_ENSURE(gang > 0, LSEC_E_USAGE, "--gang must be 1 or more");
	LSEC_TRY(lsec_station_uris_expand(&uris, &n, cli_get(&c->a, "devices"), err));
	LSEC_ENSURE((l = lsec_calloc(1, sizeof(*l))) != NULL, LSEC_E_NOMEM, "out of memory");
	pthread_mutex_init(&l->mu, NULL);
	l->tty = isatty(STDERR_FILENO) && !cli_flag(&c->a, "json");
	l->sockets = (unsigned)gang;
	cfg->progress = on_progress;
	cfg->progress_ctx = l;
	printf("Gang run: %zu units on %u sockets, operator %s%s%s\n", n, (unsigned)gang,
	       cfg->operator_name, cfg->witness_name ? ", witness " : "",
	       cfg->witness_name ? cfg->witness_name : "");
	fflush(stdout);
	LSEC_TRY(lsec_station_gang(&sum, cfg, (const char *const *)uris, n, (unsigned)gang, err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_json_print(stdout, sum, err));
	} else {
		print_summary(sum);
	}
	if (json_is_true(json_object_get(sum, "stopped"))) {
		c->status = cli_exit_code(LSEC_E_STATION_STOP_LINE);
	}
out:
	json_decref(sum);
	lsec_station_uris_free(uris, n);
	if (l != NULL) {
		cfg->progress = NULL;
		cfg->progress_ctx = NULL;
		pthread_mutex_destroy(&l->mu);
		lsec_free(l);
	}
	return rc;
}

const cli_spec cli_line_spec = {
	.usage = "line --devices GLOB [--gang N] --batch [--json]",
	.summary = "a gang run: build every unit on N sockets in parallel, then the production "
		   "summary",
	.opts = line_opts,
	.details = "A stop-line failure (or the release quota) stops every socket after its current "
		   "unit.",
	.body = line_body,
	.setup = CLI_STATION | CLI_SETUP_ONLY | CLI_NEED_CA | CLI_BATCH,
	.roles = LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
	.action = "run the line",
};
