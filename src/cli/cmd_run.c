/*
 * cmd_run.c - `linesec run SOP --unit URI`, `linesec build --unit URI` and
 * `linesec ship SERIAL`: the SOPs run on one unit, and the ship gate.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define BATCH_HELP                                                                                 \
	"manual steps are confirmed by the logged-in person in batch mode (scripts, the demo); "   \
	"each confirmation is recorded as given by that person"

/* Interactive confirmation of a manual step on the terminal. */
static int confirm_tty(void *ctx, const char *person, const char *role, const char *text, bool *ok,
		       lsec_err *err)
{
	char line[16];
	(void)ctx;
	(void)err;
	fprintf(stderr, "\n  %s\n  confirm as %s (%s)? [y/N] ", text, person, role);
	fflush(stderr);
	*ok = fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
	return 0;
}

int cli_station_open(lsec_station_setup **out, const cli_args *a, unsigned roles,
		     const char *action, bool batch, bool need_ca, lsec_err *err)
{
	int rc = 0;
	lsec_station_config *cfg;
	LSEC_TRY(lsec_station_setup_open(out, cli_get(a, "line"), cli_get(a, "as"), roles, action, err));
	cfg = lsec_station_setup_config(*out);
	cfg->batch = batch;
	if (!batch && isatty(STDIN_FILENO)) {
		cfg->confirm = confirm_tty;
	}
	if (need_ca) {
		LSEC_TRY(lsec_station_setup_unlock_ca(*out, err));
	}
out:
	return rc;
}

void cli_station_print_result(const lsec_station_result *res, int rc, const lsec_err *err)
{
	if (rc == 0) {
		printf("unit %s: %s\n", res->serial,
		       res->shipped ? "shipped" : lsec_unit_state_name(res->state));
		return;
	}
	fprintf(stderr, "linesec: %s\n", err->msg);
	if (res->message[0] != '\0') {
		fprintf(stderr, "\nWhat to do next (SOP %s, step %s):\n  %s\n", res->sop, res->step,
			res->message);
	}
}

static int result_json(const lsec_station_result *res, int rc, const lsec_err *err)
{
	lsec_err e = LSEC_ERR_INIT;
	json_t *j = json_pack("{s:s,s:s,s:b,s:b,s:b,s:I}", "serial", res->serial, "state",
			      lsec_unit_state_name(res->state), "shipped", res->shipped, "failed",
			      res->failed, "stop-line", res->stop_line, "steps",
			      (json_int_t)res->steps_run);
	if (j != NULL && rc < 0) {
		json_object_set_new(j, "error", json_string(err->msg));
		if (res->step[0] != '\0') {
			json_object_set_new(j, "sop", json_string(res->sop));
			json_object_set_new(j, "step", json_string(res->step));
			json_object_set_new(j, "then", json_string(res->then));
			json_object_set_new(j, "next", json_string(res->message));
		}
	}
	int prc = j ? lsec_json_print(stdout, j, &e) : -1;
	json_decref(j);
	return prc;
}

static const cli_opt run_opts[] = {
	{"unit", "URI", "the unit's device (sim:PATH for a simulated unit)"},
	{"serial", "SN", "the serial on the unit's label (default: the URI's file name)"},
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"},
	{"as", "NAME", "the logged-in person acting (when several are logged in)"},
	{"batch", NULL, BATCH_HELP},
	{"json", NULL, "print the outcome as canonical JSON"},
	{NULL, NULL, NULL},
};

static const cli_spec run_spec = {
	"run SOP --unit URI [--serial SN] [--batch] [--json]",
	"run one approved SOP (flash, provision, secure-boot, debug-lock) on one unit",
	run_opts,
	1,
	1,
	"The logged-in operator runs it; a witness step needs a second person logged in on this "
	"station. The CA passphrase for provisioning comes from $LINESEC_CA_PASSPHRASE or a "
	"prompt.",
};

static int run_common(int argc, char **argv, const cli_spec *spec, bool build)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	lsec_station_result res;
	lsec_sop_kind kind = LSEC_SOP_FLASH;
	memset(&res, 0, sizeof(res));
	int p = cli_parse(&a, spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = 0;
	if (!build && lsec_sop_kind_parse(&kind, a.args[0], &err) < 0) {
		fprintf(stderr, "linesec: unknown SOP '%s' (flash, provision, secure-boot, "
				"debug-lock)\n",
			a.args[0]);
		return CLI_EXIT_USAGE;
	}
	if (cli_get(&a, "unit") == NULL) {
		fprintf(stderr, "linesec: --unit URI is required\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_station_open(&setup, &a, LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
			      build ? "build a unit" : "run a SOP", cli_flag(&a, "batch"),
			      build || kind == LSEC_SOP_PROVISION, &err);
	if (rc == 0) {
		rc = lsec_station_open(&st, lsec_station_setup_config(setup), &err);
	}
	if (rc < 0) {
		int status = cli_fail(&err);
		lsec_station_setup_close(setup);
		return status;
	}
	if (build) {
		rc = lsec_station_build(&res, st, cli_get(&a, "unit"), cli_get(&a, "serial"), &err);
	} else {
		rc = lsec_station_run(&res, st, kind, cli_get(&a, "unit"), cli_get(&a, "serial"),
				      &err);
	}
	if (res.serial[0] != '\0') {
		/* A signed checkpoint over everything the run recorded, failures included. */
		lsec_err e = LSEC_ERR_INIT;
		if (lsec_station_checkpoint(st, &e) < 0) {
			fprintf(stderr, "linesec: warning: no checkpoint signed: %s\n", e.msg);
		}
	}
	if (cli_flag(&a, "json")) {
		(void)result_json(&res, rc, &err);
	} else {
		cli_station_print_result(&res, rc, &err);
	}
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	return rc < 0 ? cli_exit_code(rc) : CLI_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	return run_common(argc, argv, &run_spec, false);
}

static const cli_spec build_spec = {
	"build --unit URI [--serial SN] [--batch] [--json]",
	"run flash, provision, secure-boot and debug-lock on one unit, then the ship gate",
	run_opts,
	0,
	0,
	"Each SOP starts where the unit is, so a unit interrupted by a crash is reconciled and "
	"finished by running build again.",
};

int cmd_build(int argc, char **argv)
{
	return run_common(argc, argv, &build_spec, true);
}

static const cli_opt ship_opts[] = {
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"},
	{"as", "NAME", "the logged-in person acting (when several are logged in)"},
	{NULL, NULL, NULL},
};

static const cli_spec ship_spec = {
	"ship SERIAL",
	"the ship gate: ship a unit whose evidence is complete, or name what is missing",
	ship_opts,
	1,
	1,
	NULL,
};

int cmd_ship(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	int p = cli_parse(&a, &ship_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = cli_station_open(&setup, &a, LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
				  "ship a unit", true, false, &err);
	if (rc == 0) {
		rc = lsec_station_open(&st, lsec_station_setup_config(setup), &err);
	}
	if (rc == 0) {
		rc = lsec_station_ship(st, a.args[0], &err);
	}
	int status = rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
	if (rc == 0) {
		printf("unit %s: shipped\n", a.args[0]);
	}
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	return status;
}
