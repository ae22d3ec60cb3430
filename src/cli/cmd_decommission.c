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

#define OPERATOR LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR)

/* ---- decommission ------------------------------------------------------------ */

static const cli_opt decom_opts[] = {
	CLI_REQUIRED("reason", "WHY", "failed, returned, end-of-life or compromised"),
	CLI_OPT("device", "URI", "the unit's device; without it (or if it does not answer) the unit "
				 "is revoked only: decommissioned, not wiped"),
	CLI_OPT("erase-key", "PEM", "no longer accepted: a locked unit is erased with the product's "
				    "debug-authentication key the station keeps"),
	CLI_OPT_JSON("the outcome"),
	CLI_OPT_END,
};

static int decom_json(const cli_ctx *c, const lsec_station_result *res, int rc)
{
	lsec_err e = LSEC_ERR_INIT;
	json_t *j = json_pack("{s:s,s:s,s:b,s:b,s:I}", "serial", c->a.args[0], "state",
			      lsec_unit_state_name(res->state), "failed", res->failed, "stop-line",
			      res->stop_line, "steps", (json_int_t)res->steps_run);
	if (j != NULL && rc < 0) {
		json_object_set_new(j, "error", json_string(c->err.msg));
		/* Only what is known: no empty step or action. */
		if (res->step[0] != '\0') {
			json_object_set_new(j, "step", json_string(res->step));
		}
		if (res->message[0] != '\0') {
			json_object_set_new(j, "next", json_string(res->message));
		}
	}
	return cli_print_json(j, &e);
}

/* The debug-auth key's passphrase, asked when the erase needs it. */
static int debug_auth_unlock(lsec_secret **out, void *ctx, const char *what, lsec_err *err)
{
	(void)ctx;
	return lsec_pki_secret_read(out, NULL, "LINESEC_DEBUG_AUTH_PASSPHRASE", what, err);
}

static int decom_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_station_result res;
	lsec_station_decom_options o = LSEC_STATION_DECOM_OPTIONS_INIT;
	memset(&res, 0, sizeof(res));
	LSEC_ENSURE(cli_get(&c->a, "erase-key") == NULL, LSEC_E_USAGE,
		    "--erase-key is no longer accepted: the firmware signing key never erases a "
		    "unit. A locked unit is erased with its product's debug-authentication key, "
		    "which the station keeps encrypted (registered with 'linesec product key "
		    "submit --purpose debug-auth'); its passphrase is asked at the erase "
		    "($LINESEC_DEBUG_AUTH_PASSPHRASE or a prompt)");
	LSEC_TRY(lsec_decom_reason_parse(&o.reason, cli_get(&c->a, "reason"), err));
	o.uri = cli_get(&c->a, "device");
	o.debug_auth_unlock = debug_auth_unlock;
	rc = lsec_station_decommission(&res, c->st, c->a.args[0], &o, err);
	cli_station_checkpoint(c->st);
	c->reported = true;
	if (cli_flag(&c->a, "json")) {
		if (decom_json(c, &res, rc) < 0 && rc == 0) {
			rc = LSEC_E_NOMEM;
		}
	} else {
		cli_station_print_result(&res, rc, err);
	}
out:
	return rc;
}

const cli_spec cli_decommission_spec = {
	.usage = "decommission SERIAL --reason WHY [--device URI] [--json]",
	.summary = "run the approved decommission SOP: wipe and blank-check, revoke identity and "
		   "credential",
	.opts = decom_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "The logged-in operator runs it. A unit whose debug port is locked is erased "
		   "with a UID-bound token signed by the product's debug-authentication key "
		   "(passphrase from $LINESEC_DEBUG_AUTH_PASSPHRASE or a prompt, asked then). The "
		   "CRL is re-signed into <line>/crl/line.crl.pem (CA passphrase from "
		   "$LINESEC_CA_PASSPHRASE or a prompt). The unit then waits for 'linesec scrap'.",
	.body = decom_body,
	.setup = CLI_STATION | CLI_NEED_CA | CLI_BATCH,
	.roles = OPERATOR,
	.action = "decommission a unit",
};

/* ---- scrap ------------------------------------------------------------------- */

static const cli_opt scrap_opts[] = {
	CLI_REQUIRED("method", "HOW", "shred, crush, incinerate, disintegrate, pulverize, melt or "
				      "degauss"),
	CLI_OPT("photo", "FILE", "a photo of the destroyed boards, kept in <line>/evidence under its "
				 "SHA-256"),
	CLI_OPT("note", "TEXT", "a note for the record (e.g. the recycler's certificate number)"),
	CLI_OPT_JSON("the outcome"),
	CLI_OPT_END,
};

static int scrap_body(cli_ctx *c)
{
	int rc = 0;
	lsec_station_scrap_record *rec = NULL;
	json_t *j = NULL;
	lsec_station_scrap_options o = LSEC_STATION_SCRAP_OPTIONS_INIT;
	o.method = cli_get(&c->a, "method");
	o.photo = cli_get(&c->a, "photo");
	o.note = cli_get(&c->a, "note");
	rc = lsec_station_scrap(&rec, c->st, (const char *const *)c->a.args, (size_t)c->a.nargs, &o,
				&c->err);
	cli_station_checkpoint(c->st);
	LSEC_TRY(rc);
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_scrap_record_json(&j, rec, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
		goto out;
	}
	printf("scrapped %d unit(s) by %s (%s), destroyed by %s, witnessed by %s\n", c->a.nargs,
	       o.method, rec->sanitisation, rec->destroyed_by, rec->witnessed_by);
	if (rec->photo_sha256[0] != '\0') {
		printf("photo kept as evidence/%s\n", rec->photo);
	}
	if (rec->warning != NULL) {
		printf("warning: %s\n", rec->warning);
	}
out:
	json_decref(j);
	lsec_station_scrap_record_free(rec);
	return rc;
}

const cli_spec cli_scrap_spec = {
	.usage = "scrap SERIAL... --method HOW [--photo FILE] [--note TEXT] [--json]",
	.summary = "record the witnessed physical destruction of decommissioned units (one record)",
	.opts = scrap_opts,
	.min_args = 1,
	.max_args = -1,
	.details = "The operator destroys the boards; a supervisor logged in on this station "
		   "witnesses it and signs\nwith their password (scripts and tests may set "
		   "LINESEC_WITNESS_PASSWORD). All the units are recorded\ntogether or none is.",
	.body = scrap_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = OPERATOR,
	.action = "destroy units",
};

/* ---- rma ----------------------------------------------------------------------- */

static const cli_opt rma_receive_opts[] = {
	CLI_REQUIRED("device", "URI", "the returned unit's device"),
	CLI_OPT_JSON("the outcome"),
	CLI_OPT_END,
};

static int rma_receive_body(cli_ctx *c)
{
	int rc = 0;
	lsec_station_rma_evidence ev;
	json_t *j = NULL;
	rc = lsec_station_rma_receive(&ev, c->st, c->a.args[0], cli_get(&c->a, "device"), &c->err);
	cli_station_checkpoint(c->st);
	LSEC_TRY(rc);
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_rma_evidence_json(&j, &ev, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
	} else {
		printf("unit %s: genuine (key slot %u signed a fresh challenge that certificate %s, "
		       "issued in audit leaf %lld, verifies); returned\n",
		       c->a.args[0], ev.slot, ev.cert_serial, (long long)ev.issue_leaf);
	}
out:
	json_decref(j);
	return rc;
}

static const cli_spec rma_receive_spec = {
	.usage = "rma receive SERIAL --device URI [--json]",
	.summary = "receive a returned unit: check it is ours and genuine (UID, signed challenge)",
	.opts = rma_receive_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "A fresh challenge is signed by the unit's key and verified under the "
		   "certificate its log issued; a clone fails. Then 'rma rework' or 'decommission --reason "
		   "returned'.",
	.body = rma_receive_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = OPERATOR,
	.action = "receive a return",
};

static int rma_rework_body(cli_ctx *c)
{
	int rc = lsec_station_rma_rework(c->st, c->a.args[0], &c->err);
	cli_station_checkpoint(c->st);
	if (rc == 0) {
		printf("unit %s: identity and credential revoked; quarantined for rework\n",
		       c->a.args[0]);
	}
	return rc;
}

static const cli_spec rma_rework_spec = {
	.usage = "rma rework SERIAL",
	.summary = "send a received return to rework: its identity and credential revoked, never "
		   "reused",
	.min_args = 1,
	.max_args = 1,
	.details = "The unit is quarantined for the supervisor; provisioning later issues a new "
		   "identity. The CRL is re-signed (CA passphrase from $LINESEC_CA_PASSPHRASE or a "
		   "prompt).",
	.body = rma_rework_body,
	.setup = CLI_STATION | CLI_NEED_CA | CLI_BATCH,
	.roles = OPERATOR,
	.action = "rework a return",
};

const cli_cmd cli_rma_cmds[] = {
	{"receive", &rma_receive_spec, NULL, "check a returned unit is ours and genuine"},
	{"rework", &rma_rework_spec, NULL, "revoke a return's identity and quarantine it for rework"},
	{NULL, NULL, NULL, NULL},
};

/* ---- report scrap ----------------------------------------------------------------- */

static const cli_opt report_scrap_opts[] = {
	CLI_OPT("since", "DATE", "only units decommissioned since DATE (YYYY-MM-DD or RFC 3339 UTC)"),
	CLI_OPT_JSON("the report"),
	CLI_OPT_END,
};

static const char *dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void print_report(const lsec_station_scrap_report *rep)
{
	printf("Sanitisation record (NIST SP 800-88), generated %s, since %s\n\n", rep->generated,
	       dash(rep->since));
	for (size_t i = 0; i < rep->nunits; i++) {
		const lsec_station_scrap_report_unit *e = &rep->units[i];
		const lsec_station_scrap_step *d = &e->decommissioned, *w = &e->wiped,
					      *v = &e->verified, *r = &e->revoked,
					      *x = &e->destroyed;
		printf("%s  %s  %s  [%s]\n", e->serial, e->product, dash(e->sanitisation),
		       e->status);
		printf("  decommissioned  %s by %s, reason %s\n", dash(d->time), dash(d->by),
		       dash(d->reason));
		if (w->recorded) {
			printf("  wiped           %s by %s (%s)\n", dash(w->time), dash(w->by),
			       dash(w->erase));
		} else {
			printf("  wiped           no (%s)\n",
			       d->unreachable != NULL ? d->unreachable : "not done");
		}
		if (v->recorded) {
			printf("  verified        blank check, flash read back sha256 %.16s...\n",
			       dash(v->readback_sha256));
		}
		if (r->recorded) {
			printf("  revoked         %s by %s, %s, %zu certificate(s), CRL %lld\n",
			       dash(r->time), dash(r->by), dash(r->crl_reason), r->ncertificates,
			       (long long)r->crl_number);
		}
		if (x->recorded) {
			printf("  destroyed       %s by %s (%s), witnessed by %s%s%.16s\n",
			       dash(x->time), dash(x->destroyed_by), dash(x->method),
			       dash(x->witnessed_by), x->photo_sha256 ? ", photo sha256 " : "",
			       x->photo_sha256 ? x->photo_sha256 : "");
		}
	}
	printf("\n%zu unit(s) reported; %zu pending destruction", rep->nunits, rep->npending);
	for (size_t i = 0; i < rep->npending; i++) {
		printf("%s%s", i == 0 ? ": " : ", ", rep->pending[i]);
	}
	printf("\n");
}

static int report_scrap_body(cli_ctx *c)
{
	int rc = 0;
	lsec_station_scrap_report *rep = NULL;
	json_t *j = NULL;
	LSEC_TRY(lsec_station_report_scrap(&rep, c->st, cli_get(&c->a, "since"), &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_scrap_report_json(&j, rep, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
	} else {
		print_report(rep);
	}
out:
	json_decref(j);
	lsec_station_scrap_report_free(rep);
	return rc;
}

static const cli_spec report_scrap_spec = {
	.usage = "report scrap [--since DATE] [--json]",
	.summary = "the sanitisation record: how each decommissioned unit was wiped, revoked and "
		   "destroyed",
	.opts = report_scrap_opts,
	.details = "Built from the audit log: NIST SP 800-88 method, who did each step, the witness "
		   "of the destruction, and the units still pending destruction.",
	.body = report_scrap_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = CLI_ANYONE,
	.action = "report on scrap",
};

const cli_cmd cli_report_cmds[] = {
	{"scrap", &report_scrap_spec, NULL, "the sanitisation record of decommissioned units"},
	{NULL, NULL, NULL, NULL},
};
