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
		snprintf(l->lines[socket - 1], sizeof(l->lines[0]), "%-12s %-12s %-16s %s",
			 cli_esc(serial), cli_esc(sop), cli_esc(step), outcome ? cli_esc(outcome) : "...");
		redraw(l);
	} else if (!l->tty && outcome != NULL && strcmp(outcome, "passed") != 0) {
		printf("socket %u: unit %s: SOP %s step %s %s\n", socket, cli_esc(serial),
		       cli_esc(sop), cli_esc(step), cli_esc(outcome));
	}
	pthread_mutex_unlock(&l->mu);
}

static void print_summary(const lsec_station_gang_summary *s)
{
	printf("\nProduction summary\n");
	printf("  units presented   %zu on %u sockets in %.1f s\n", s->units, s->sockets,
	       (double)s->milliseconds / 1000.0);
	printf("  built and shipped %zu\n", s->shipped);
	printf("  quarantined       %zu\n", s->quarantined);
	printf("  refused at entry  %zu\n", s->refused);
	if (s->already_shipped > 0) {
		printf("  already shipped   %zu (not built again)\n", s->already_shipped);
	}
	if (s->skipped > 0 || s->dry_run) {
		printf("  skipped (probe)   %zu\n", s->skipped);
	}
	if (s->dry_run) {
		printf("  dry run           %zu units resolved, nothing written\n", s->planned);
	}
	printf("  failures          %zu transient (reseat, retry), %zu permanent\n", s->transient,
	       s->permanent);
	printf("  yield             %.1f %% of %zu units attempted\n",
	       (double)s->yield_permille / 10.0, s->attempted - s->already_shipped);
	if (s->nfailures > 0) {
		printf("  failures by SOP and step:\n");
	}
	for (size_t i = 0; i < s->nfailures; i++) {
		const lsec_station_gang_failure *f = &s->failures[i];
		printf("    %-12s %-20s %zu\n", f->sop, f->step, f->count);
	}
	for (size_t i = 0; i < s->attempted; i++) {
		const lsec_station_gang_unit *u = &s->results[i];
		if (u->res.shipped || (u->rc == LSEC_E_STATION_WRONG_STATE &&
					   u->res.state == LSEC_UNIT_SHIPPED)) {
			continue;
		}
		if (u->socket > 0) {
			printf("  socket %-3u ", u->socket);
		}
		if (u->dry_run) {
			printf("  plan: %s\n", cli_esc(u->plan));
			continue;
		}
		if (u->skipped) {
			printf("  unit %-10s skipped: %s\n", cli_esc(u->res.serial), cli_esc(u->error));
			continue;
		}
		printf("  unit %-10s %s%s%s\n", cli_esc(u->res.serial),
		       u->failure_class != LSEC_FAILURE_NONE
			       ? lsec_station_failure_class_name(u->failure_class)
			       : "",
		       u->failure_class != LSEC_FAILURE_NONE ? ": " : "", cli_esc(u->error));
		if (u->rc < 0 && u->res.message[0] != '\0') {
			printf("    what to do next: %s\n", cli_esc(u->res.message));
		}
	}
	if (s->stopped) {
		printf("  LINE STOPPED: %s\n", cli_esc(s->stop_reason));
	}
}

static const cli_opt line_opts[] = {
	CLI_OPT("devices", "GLOB", "the units' devices, e.g. 'sim:fleet/*' (expanded by linesec)"),
	CLI_OPT("gang", "N", "sockets working in parallel (default 1)"),
	CLI_OPT("product", "ID", "new units' product, when line.yaml lists several"),
	CLI_OPT("fixture", "FILE", "a jig's fixture file: one socket per probe (instead of --devices)"),
	CLI_FLAG("dry-run", "with --fixture: resolve every unit's plan on the real target, write nothing"),
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
	lsec_station_gang_summary *sum = NULL;
	json_t *j = NULL;
	live *l = NULL;
	lsec_station_fixture *fx = NULL;
	const char *fixture = cli_get(&c->a, "fixture");
	lsec_station_gang_options go = {cli_flag(&c->a, "dry-run")};
	lsec_station_config *cfg = lsec_station_setup_config(c->setup);
	LSEC_ENSURE((fixture != NULL) != (cli_get(&c->a, "devices") != NULL), LSEC_E_USAGE,
		    "give either --devices GLOB or --fixture FILE");
	LSEC_ENSURE(fixture == NULL || cli_get(&c->a, "gang") == NULL, LSEC_E_USAGE,
		    "--gang does not go with --fixture: the fixture file names the sockets");
	LSEC_ENSURE(fixture != NULL || !go.dry_run, LSEC_E_USAGE, "--dry-run needs --fixture FILE");
	LSEC_TRY(cli_get_u64(&c->a, "gang", MAX_SOCKETS, &gang, err));
	LSEC_ENSURE(gang > 0, LSEC_E_USAGE, "--gang must be 1 or more");
	if (fixture != NULL) {
		LSEC_TRY(lsec_station_fixture_load(&fx, fixture, err));
		n = lsec_station_fixture_count(fx);
		gang = n;
	} else {
		LSEC_TRY(lsec_station_uris_expand(&uris, &n, cli_get(&c->a, "devices"), err));
	}
	LSEC_ENSURE((l = lsec_calloc(1, sizeof(*l))) != NULL, LSEC_E_NOMEM, "out of memory");
	pthread_mutex_init(&l->mu, NULL);
	l->tty = isatty(STDERR_FILENO) && !cli_flag(&c->a, "json");
	l->sockets = (unsigned)gang;
	cfg->progress = on_progress;
	cfg->progress_ctx = l;
	/* With --json, standard output is the JSON document alone, from its first byte. */
	FILE *head = cli_flag(&c->a, "json") ? stderr : stdout;
	fprintf(head, "Gang run%s: %zu units on %u sockets%s%s, operator %s%s%s\n",
		go.dry_run ? " (dry run: nothing is written)" : "", n, (unsigned)gang,
		fx ? " of fixture " : "", fx ? cli_esc(fixture) : "", cfg->operator_name,
		cfg->witness_name ? ", witness " : "", cfg->witness_name ? cfg->witness_name : "");
	fflush(head);
	if (fx != NULL) {
		LSEC_TRY(lsec_station_gang_fixture(&sum, cfg, fx, &go, err));
	} else {
		LSEC_TRY(lsec_station_gang(&sum, cfg, (const char *const *)uris, n, (unsigned)gang,
					   err));
	}
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_gang_summary_json(&j, sum, err));
		LSEC_TRY(lsec_json_print(stdout, j, err));
	} else {
		print_summary(sum);
	}
	if (sum->stopped) {
		c->status = cli_exit_code(LSEC_E_STATION_STOP_LINE);
	}
out:
	json_decref(j);
	lsec_station_gang_summary_free(sum);
	lsec_station_uris_free(uris, n);
	lsec_station_fixture_free(fx);
	if (l != NULL) {
		cfg->progress = NULL;
		cfg->progress_ctx = NULL;
		pthread_mutex_destroy(&l->mu);
		lsec_free(l);
	}
	return rc;
}

const cli_spec cli_line_spec = {
	.usage = "line (--devices GLOB [--gang N] | --fixture FILE [--dry-run]) [--product ID] --batch "
		 "[--json]",
	.summary = "a gang run: build every unit on N sockets in parallel, then the production "
		   "summary",
	.opts = line_opts,
	.details = "A stop-line failure (or the release quota) stops every socket after its current "
		   "unit. With --fixture each socket builds the unit behind its probe; a unit seen "
		   "through the wrong probe is skipped with the reason. Failures are classed "
		   "transient (reseat, retry) or permanent.",
	.body = line_body,
	.setup = CLI_STATION | CLI_SETUP_ONLY | CLI_NEED_CA | CLI_BATCH,
	.roles = LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
	.action = "run the line",
};
