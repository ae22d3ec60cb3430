/*
 * cmd_decommission.c - SOP 5 at the command line: `linesec decommission`,
 * `linesec scrap`, `linesec rma receive|rework` and `linesec report scrap`.
 * Parsing and printing only; the library does the work (station.h).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/pki.h"
#include "linesec/station.h"

#define LINE_OPT {"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"}
#define AS_OPT {"as", "NAME", "the logged-in person acting (when several are logged in)"}
#define JSON_OPT {"json", NULL, "print the outcome as canonical JSON"}

/* Opens the station as one of roles; need_ca unlocks the line CA (CRL signing). */
static int open_station(lsec_station_setup **setup, lsec_station **st, const cli_args *a,
			unsigned roles, const char *action, bool need_ca, lsec_err *err)
{
	int rc = cli_station_open(setup, a, roles, action, true, need_ca, err);
	if (rc == 0) {
		rc = lsec_station_open(st, lsec_station_setup_config(*setup), err);
	}
	return rc;
}

/* Signs a checkpoint over what was recorded; a failure is a warning only. */
static void checkpoint(lsec_station *st)
{
	lsec_err e = LSEC_ERR_INIT;
	if (st != NULL && lsec_station_checkpoint(st, &e) < 0) {
		fprintf(stderr, "linesec: warning: no checkpoint signed: %s\n", e.msg);
	}
}

static int finish(lsec_station_setup *setup, lsec_station *st, int rc, const lsec_err *err)
{
	int status = rc < 0 ? cli_fail(err) : CLI_EXIT_OK;
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	return status;
}

/* ---- decommission ------------------------------------------------------------ */

static const cli_opt decom_opts[] = {
	{"reason", "WHY", "failed, returned, end-of-life or compromised (required)"},
	{"unit", "URI", "the unit's device; without it (or if it does not answer) the unit is "
			"revoked only: decommissioned, not wiped"},
	{"erase-key", "PEM", "the product's secure-boot signing key, for the authenticated erase "
			     "of a unit whose debug port is locked (passphrase from "
			     "$LINESEC_ERASE_KEY_PASSPHRASE when encrypted)"},
	LINE_OPT,
	AS_OPT,
	JSON_OPT,
	{NULL, NULL, NULL},
};

static const cli_spec decom_spec = {
	"decommission SERIAL --reason WHY [--unit URI] [--erase-key PEM] [--json]",
	"run the approved decommission SOP: wipe and blank-check, revoke identity and credential",
	decom_opts,
	1,
	1,
	"The logged-in operator runs it. The CRL is re-signed into <line>/crl/line.crl.pem (CA "
	"passphrase from $LINESEC_CA_PASSPHRASE or a prompt). The unit then waits for 'linesec "
	"scrap'.",
};

int cmd_decommission(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	lsec_station_result res;
	lsec_secret *pass = NULL;
	lsec_station_decom_options o = LSEC_STATION_DECOM_OPTIONS_INIT;
	memset(&res, 0, sizeof(res));
	int p = cli_parse(&a, &decom_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (cli_get(&a, "reason") == NULL) {
		fprintf(stderr, "linesec: --reason is required (failed, returned, end-of-life or "
				"compromised)\n");
		return CLI_EXIT_USAGE;
	}
	int rc = lsec_decom_reason_parse(&o.reason, cli_get(&a, "reason"), &err);
	if (rc < 0) {
		return cli_fail(&err);
	}
	o.uri = cli_get(&a, "unit");
	o.erase_key = cli_get(&a, "erase-key");
	if (o.erase_key != NULL && getenv("LINESEC_ERASE_KEY_PASSPHRASE") != NULL) {
		rc = lsec_pki_secret_read(&pass, NULL, "LINESEC_ERASE_KEY_PASSPHRASE", NULL, &err);
		o.erase_key_passphrase = pass;
	}
	if (rc == 0) {
		rc = open_station(&setup, &st, &a, LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
				  "decommission a unit", true, &err);
	}
	if (rc == 0) {
		rc = lsec_station_decommission(&res, st, a.args[0], &o, &err);
		checkpoint(st);
	}
	lsec_secret_free(pass);
	if (cli_flag(&a, "json") && st != NULL) {
		lsec_err e = LSEC_ERR_INIT;
		json_t *j = json_pack("{s:s,s:s,s:b,s:b,s:I}", "serial", a.args[0], "state",
				      lsec_unit_state_name(res.state), "failed", res.failed,
				      "stop-line", res.stop_line, "steps", (json_int_t)res.steps_run);
		if (j != NULL && rc < 0) {
			json_object_set_new(j, "error", json_string(err.msg));
			json_object_set_new(j, "step", json_string(res.step));
			json_object_set_new(j, "next", json_string(res.message));
		}
		if (j == NULL || lsec_json_print(stdout, j, &e) < 0) {
			rc = rc < 0 ? rc : LSEC_E_NOMEM;
		}
		json_decref(j);
		lsec_station_close(st);
		lsec_station_setup_close(setup);
		return rc < 0 ? cli_exit_code(rc) : CLI_EXIT_OK;
	}
	if (st != NULL) {
		cli_station_print_result(&res, rc, &err);
		lsec_station_close(st);
		lsec_station_setup_close(setup);
		return rc < 0 ? cli_exit_code(rc) : CLI_EXIT_OK;
	}
	return finish(setup, st, rc, &err);
}

/* ---- scrap ------------------------------------------------------------------- */

static const cli_opt scrap_opts[] = {
	{"method", "HOW", "shred, crush, incinerate, disintegrate, pulverize, melt or degauss "
			  "(required)"},
	{"photo", "FILE", "a photo of the destroyed boards, kept in <line>/evidence under its "
			  "SHA-256"},
	{"note", "TEXT", "a note for the record (e.g. the recycler's certificate number)"},
	LINE_OPT,
	AS_OPT,
	JSON_OPT,
	{NULL, NULL, NULL},
};

static const cli_spec scrap_spec = {
	"scrap SERIAL... --method HOW [--photo FILE] [--note TEXT] [--json]",
	"record the witnessed physical destruction of decommissioned units (one record)",
	scrap_opts,
	1,
	-1,
	"The operator destroys the boards; a supervisor logged in on this station witnesses it. "
	"All the units are recorded together or none is.",
};

int cmd_scrap(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	json_t *rec = NULL;
	lsec_station_scrap_options o = LSEC_STATION_SCRAP_OPTIONS_INIT;
	int p = cli_parse(&a, &scrap_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (cli_get(&a, "method") == NULL) {
		fprintf(stderr, "linesec: --method is required (shred, crush, incinerate, "
				"disintegrate, pulverize, melt or degauss)\n");
		return CLI_EXIT_USAGE;
	}
	o.method = cli_get(&a, "method");
	o.photo = cli_get(&a, "photo");
	o.note = cli_get(&a, "note");
	int rc = open_station(&setup, &st, &a, LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR), "destroy units",
			      false, &err);
	if (rc == 0) {
		rc = lsec_station_scrap(&rec, st, (const char *const *)a.args, (size_t)a.nargs, &o,
					&err);
		checkpoint(st);
	}
	if (rc == 0 && cli_flag(&a, "json")) {
		rc = lsec_json_print(stdout, rec, &err);
	} else if (rc == 0) {
		const char *sha = json_string_value(json_object_get(rec, "photo-sha256"));
		printf("scrapped %d unit(s) by %s (%s), destroyed by %s, witnessed by %s\n", a.nargs,
		       o.method, json_string_value(json_object_get(rec, "sanitisation")),
		       json_string_value(json_object_get(rec, "destroyed-by")),
		       json_string_value(json_object_get(rec, "witnessed-by")));
		if (sha != NULL) {
			printf("photo kept as evidence/%s\n",
			       json_string_value(json_object_get(rec, "photo")));
		}
		if (json_object_get(rec, "warning") != NULL) {
			printf("warning: %s\n", json_string_value(json_object_get(rec, "warning")));
		}
	}
	json_decref(rec);
	return finish(setup, st, rc, &err);
}

/* ---- rma ----------------------------------------------------------------------- */

static const cli_opt rma_receive_opts[] = {
	{"unit", "URI", "the returned unit's device (required)"},
	LINE_OPT,
	AS_OPT,
	JSON_OPT,
	{NULL, NULL, NULL},
};

static const cli_spec rma_receive_spec = {
	"rma receive SERIAL --unit URI [--json]",
	"receive a returned unit: check it is ours and genuine (UID, signed challenge)",
	rma_receive_opts,
	1,
	1,
	"A fresh challenge is signed by the unit's key and verified under its registered "
	"certificate; a clone fails. Then 'rma rework' or 'decommission --reason returned'.",
};

static int rma_receive(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	json_t *ev = NULL;
	int p = cli_parse(&a, &rma_receive_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (cli_get(&a, "unit") == NULL) {
		fprintf(stderr, "linesec: --unit URI is required\n");
		return CLI_EXIT_USAGE;
	}
	int rc = open_station(&setup, &st, &a, LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR),
			      "receive a return", false, &err);
	if (rc == 0) {
		rc = lsec_station_rma_receive(&ev, st, a.args[0], cli_get(&a, "unit"), &err);
		checkpoint(st);
	}
	if (rc == 0 && cli_flag(&a, "json")) {
		rc = lsec_json_print(stdout, ev, &err);
	} else if (rc == 0) {
		printf("unit %s: genuine (certificate %s verifies a fresh challenge); returned\n",
		       a.args[0], json_string_value(json_object_get(ev, "cert-serial")));
	}
	json_decref(ev);
	return finish(setup, st, rc, &err);
}

static const cli_opt rma_rework_opts[] = {LINE_OPT, AS_OPT, {NULL, NULL, NULL}};

static const cli_spec rma_rework_spec = {
	"rma rework SERIAL",
	"send a received return to rework: its identity and credential revoked, never reused",
	rma_rework_opts,
	1,
	1,
	"The unit is quarantined for the supervisor; provisioning later issues a new identity. "
	"The CRL is re-signed (CA passphrase from $LINESEC_CA_PASSPHRASE or a prompt).",
};

static int rma_rework(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	int p = cli_parse(&a, &rma_rework_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = open_station(&setup, &st, &a, LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR), "rework a return",
			      true, &err);
	if (rc == 0) {
		rc = lsec_station_rma_rework(st, a.args[0], &err);
		checkpoint(st);
	}
	if (rc == 0) {
		printf("unit %s: identity and credential revoked; quarantined for rework\n",
		       a.args[0]);
	}
	return finish(setup, st, rc, &err);
}

static const cli_cmd rma_cmds[] = {
	{"receive", rma_receive, "check a returned unit is ours and genuine"},
	{"rework", rma_rework, "revoke a return's identity and quarantine it for rework"},
	{NULL, NULL, NULL},
};

int cmd_rma(int argc, char **argv)
{
	return cli_dispatch("rma", rma_cmds, argc, argv);
}

/* ---- report scrap ----------------------------------------------------------------- */

static const cli_opt report_scrap_opts[] = {
	{"since", "DATE", "only units decommissioned since DATE (YYYY-MM-DD or RFC 3339 UTC)"},
	LINE_OPT,
	AS_OPT,
	{"json", NULL, "print the report as canonical JSON"},
	{NULL, NULL, NULL},
};

static const cli_spec report_scrap_spec = {
	"report scrap [--since DATE] [--json]",
	"the sanitisation record: how each decommissioned unit was wiped, revoked and destroyed",
	report_scrap_opts,
	0,
	0,
	"Built from the audit log: NIST SP 800-88 method, who did each step, the witness of the "
	"destruction, and the units still pending destruction.",
};

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "-";
}

static void print_report(const json_t *rep)
{
	size_t i;
	json_t *e;
	printf("Sanitisation record (NIST SP 800-88), generated %s%s%s\n\n", jstr(rep, "generated"),
	       json_object_get(rep, "since") ? ", since " : "",
	       json_object_get(rep, "since") ? jstr(rep, "since") : "");
	json_array_foreach(json_object_get(rep, "units"), i, e)
	{
		const json_t *d = json_object_get(e, "decommissioned"),
			     *w = json_object_get(e, "wiped"), *v = json_object_get(e, "verified"),
			     *r = json_object_get(e, "revoked"), *x = json_object_get(e, "destroyed");
		printf("%s  %s  %s  [%s]\n", jstr(e, "serial"), jstr(e, "product"),
		       jstr(e, "sanitisation"), jstr(e, "status"));
		printf("  decommissioned  %s by %s, reason %s\n", jstr(d, "time"), jstr(d, "by"),
		       jstr(d, "reason"));
		if (json_is_object(w)) {
			printf("  wiped           %s by %s (%s)\n", jstr(w, "time"), jstr(w, "by"),
			       jstr(w, "erase"));
		} else {
			printf("  wiped           no (%s)\n",
			       json_object_get(d, "unreachable") ? jstr(d, "unreachable")
								 : "not done");
		}
		if (json_is_object(v)) {
			printf("  verified        blank check, flash read back sha256 %.16s...\n",
			       jstr(v, "readback-sha256"));
		}
		if (json_is_object(r)) {
			printf("  revoked         %s by %s, %s, %zu certificate(s), CRL %lld\n",
			       jstr(r, "time"), jstr(r, "by"), jstr(r, "crl-reason"),
			       json_array_size(json_object_get(r, "certificates")),
			       (long long)json_integer_value(json_object_get(r, "crl-number")));
		}
		if (json_is_object(x)) {
			printf("  destroyed       %s by %s (%s), witnessed by %s%s%.16s\n",
			       jstr(x, "time"), jstr(x, "destroyed-by"), jstr(x, "method"),
			       jstr(x, "witnessed-by"),
			       json_object_get(x, "photo-sha256") ? ", photo sha256 " : "",
			       json_object_get(x, "photo-sha256") ? jstr(x, "photo-sha256") : "");
		}
	}
	printf("\n%lld unit(s) reported; %lld pending destruction",
	       (long long)json_integer_value(json_object_get(rep, "count")),
	       (long long)json_integer_value(json_object_get(rep, "pending")));
	json_array_foreach(json_object_get(rep, "pending-destruction"), i, e)
	{
		printf("%s%s", i == 0 ? ": " : ", ", json_string_value(e));
	}
	printf("\n");
}

static int report_scrap(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	json_t *rep = NULL;
	int p = cli_parse(&a, &report_scrap_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	unsigned anyone = LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR) | LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR) |
			  LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER) |
			  LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR);
	int rc = open_station(&setup, &st, &a, anyone, "report on scrap", false, &err);
	if (rc == 0) {
		rc = lsec_station_report_scrap(&rep, st, cli_get(&a, "since"), &err);
	}
	if (rc == 0 && cli_flag(&a, "json")) {
		rc = lsec_json_print(stdout, rep, &err);
	} else if (rc == 0) {
		print_report(rep);
	}
	json_decref(rep);
	return finish(setup, st, rc, &err);
}

static const cli_cmd report_cmds[] = {
	{"scrap", report_scrap, "the sanitisation record of decommissioned units"},
	{NULL, NULL, NULL},
};

int cmd_report(int argc, char **argv)
{
	return cli_dispatch("report", report_cmds, argc, argv);
}
