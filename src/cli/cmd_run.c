/*
 * cmd_run.c - `linesec run SOP --device URI`, `linesec build --device URI`
 * and `linesec ship SERIAL --device URI`: the SOPs run on one unit, and the
 * ship gate.
 */
#include "cli.h"

#include <string.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define OPERATOR LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR)

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
	return cli_print_json(j, &e);
}

static const cli_opt run_opts[] = {
	CLI_REQUIRED("device", "URI", "the unit's device (sim:PATH for a simulated unit)"),
	CLI_OPT("serial", "SN", "the serial on the unit's label (default: the URI's file name)"),
	CLI_OPT("product", "ID", "a new unit's product, when line.yaml lists several"),
	CLI_FLAG("batch", "manual steps are confirmed by the logged-in person in batch mode "
			  "(scripts, the demo); each confirmation is recorded as given by that "
			  "person"),
	CLI_OPT_JSON("the outcome"),
	CLI_OPT_END,
};

/* Runs kind (build: every build SOP, then the ship gate) and prints the outcome. */
static int run_unit(cli_ctx *c, bool build)
{
	lsec_err *err = &c->err;
	lsec_station_result res;
	lsec_sop_kind kind = LSEC_SOP_FLASH;
	const char *uri = cli_get(&c->a, "device"), *serial = cli_get(&c->a, "serial");
	memset(&res, 0, sizeof(res));
	if (!build && lsec_sop_kind_parse(&kind, c->a.args[0], err) < 0) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
				    "unknown SOP '%s' (flash, provision, secure-boot, debug-lock)",
				    c->a.args[0]);
	}
	if (!build && kind == LSEC_SOP_PROVISION && cli_unlock_ca(c) < 0) {
		return c->err.code;
	}
	int rc = build ? lsec_station_build(&res, c->st, uri, serial, err)
		       : lsec_station_run(&res, c->st, kind, uri, serial, err);
	if (res.serial[0] != '\0') {
		/* A signed checkpoint over everything the run recorded, failures included. */
		cli_station_checkpoint(c->st);
	}
	if (cli_flag(&c->a, "json")) {
		(void)result_json(&res, rc, err);
	} else {
		cli_station_print_result(&res, rc, err);
	}
	c->reported = true;
	return rc;
}

static int run_body(cli_ctx *c)
{
	return run_unit(c, false);
}

const cli_spec cli_run_spec = {
	.usage = "run SOP --device URI [--serial SN] [--product ID] [--batch] [--json]",
	.summary = "run one approved SOP (flash, provision, secure-boot, debug-lock) on one unit",
	.opts = run_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "The logged-in operator runs it; a witness step needs a second person logged "
		   "in on this station, who\nsigns with their password at that step (scripts and "
		   "tests may set LINESEC_WITNESS_PASSWORD); --batch\nnever signs for them. An identity label is accepted when the label\nprinter "
		   "takes it from its spool folder (line.yaml's labels.accept_seconds); at a\n"
		   "terminal the operator then scans the serial printed on it. The CA "
		   "passphrase for provisioning comes from "
		   "$LINESEC_CA_PASSPHRASE or a prompt.",
	.body = run_body,
	.setup = CLI_STATION,
	.roles = OPERATOR,
	.action = "run a SOP",
};

static int build_body(cli_ctx *c)
{
	return run_unit(c, true);
}

const cli_spec cli_build_spec = {
	.usage = "build --device URI [--serial SN] [--product ID] [--batch] [--json]",
	.summary = "run flash, provision, secure-boot and debug-lock on one unit, then the ship gate",
	.opts = run_opts,
	.details = "Each SOP starts where the unit is, so a unit interrupted by a crash is "
		   "reconciled and finished by running build again.",
	.body = build_body,
	.setup = CLI_STATION | CLI_NEED_CA,
	.roles = OPERATOR,
	.action = "build a unit",
};

static const cli_opt ship_opts[] = {
	CLI_REQUIRED("device", "URI", "the unit, seated: the gate reads it back"),
	CLI_OPT_END,
};

static int ship_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_station_ship(c->st, c->a.args[0], cli_get(&c->a, "device"), &c->err));
	printf("unit %s: shipped\n", c->a.args[0]);
out:
	return rc;
}

const cli_spec cli_ship_spec = {
	.usage = "ship SERIAL --device URI",
	.summary = "the ship gate: ship a unit whose evidence is complete, or name what is missing",
	.opts = ship_opts,
	.details = "The gate reads the seated unit back (UID, proof of possession of its key, "
		   "secure-boot fuses, debug lock, console, attested boot digest) before it weighs "
		   "the unit's records.",
	.min_args = 1,
	.max_args = 1,
	.body = ship_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = OPERATOR,
	.action = "ship a unit",
};
