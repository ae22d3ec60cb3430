/*
 * cmd_sop.c - `linesec sop ...`: check, render and document SOP files.
 * Parses, calls liblinesec (linesec/sop.h) and prints.
 */
#include "cli.h"

#include "linesec/line.h"
#include "linesec/report.h"
#include "linesec/sop.h"
#include "linesec/station.h"
#include "linesec/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *diags_json(const lsec_sop_diags *d)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < lsec_sop_diags_count(d); i++) {
		const lsec_sop_diag *g = lsec_sop_diags_at(d, i);
		json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:s?}", "code", lsec_sop_code_name(g->code),
				      "line", g->line, "column", g->column, "message", g->text,
				      "rule", g->rule);
		json_array_append_new(arr, o);
	}
	return arr;
}

static const cli_opt check_opts[] = {
	CLI_OPT_JSON("the result of each file"),
	CLI_OPT_LINE,
	CLI_OPT_END,
};

/*
 * The line whose CA the SOPs are checked against: --line, $LINESEC_LINE or
 * the current folder when it holds one; NULL when there is none (a line
 * named by --line that cannot be opened is said on stderr).
 */
static lsec_line *check_line(const cli_args *a)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	char *dir = NULL;
	const char *given = cli_get(a, "line");
	if (lsec_line_find(&dir, given, &err) == 0 &&
	    lsec_line_open_read_only(&line, dir, &err) == 0) {
		lsec_free(dir);
		return line;
	}
	if (given != NULL || dir != NULL) {
		fprintf(stderr,
			"linesec: warning: certificate validity not checked against the line CA: "
			"%s\n",
			err.msg);
	}
	lsec_free(dir);
	return NULL;
}

/* Warnings of sop against the line's CA (lsec_station_sop_ca_check), one per line; NULL if none. */
static char *ca_warnings(const lsec_sop *sop, const lsec_line *line, const char *file)
{
	lsec_err err = LSEC_ERR_INIT;
	char *w = NULL;
	if (line == NULL) {
		return NULL;
	}
	if (lsec_station_sop_ca_check(&w, sop, lsec_line_ca_dir(line), &err) < 0) {
		if (err.code != LSEC_E_NOTFOUND) {
			fprintf(stderr,
				"linesec: warning: %s: certificate validity not checked against the "
				"line CA: %s\n",
				file, err.msg);
		}
		return NULL;
	}
	if (w[0] == '\0') {
		lsec_free(w);
		return NULL;
	}
	return w;
}

static int check_body(cli_ctx *c)
{
	const cli_args *a = &c->a;
	int status = CLI_EXIT_OK;
	bool json = cli_flag(a, "json");
	lsec_line *line = check_line(a);
	for (int i = 0; i < a->nargs; i++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_sop *sop = NULL;
		lsec_sop_diags *d = NULL;
		int rc = lsec_sop_load(&sop, &d, a->args[i], &err);
		if (rc < 0 && d == NULL) {
			int s = cli_fail(&err);
			status = status ? status : s;
			continue;
		}
		char *warn = rc == 0 ? ca_warnings(sop, line, a->args[i]) : NULL;
		if (json) {
			char hex[65] = "";
			if (sop != NULL) {
				lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
			}
			json_t *o = json_pack("{s:s, s:b, s:o}", "file", a->args[i], "ok", rc == 0,
					      "problems", diags_json(d));
			if (sop != NULL && o != NULL) {
				json_object_set_new(o, "sop", json_string(lsec_sop_name(sop)));
				json_object_set_new(o, "version", json_integer(lsec_sop_version(sop)));
				json_object_set_new(o, "sha256", json_string(hex));
				json_t *ws = json_array();
				for (char *p = warn, *nl = NULL; ws != NULL && p != NULL && *p != '\0';
				     p = nl + 1) {
					nl = strchr(p, '\n');
					json_array_append_new(ws, json_stringn(p, (size_t)(nl - p)));
				}
				json_object_set_new(o, "warnings", ws);
			}
			lsec_err perr = LSEC_ERR_INIT;
			if (o == NULL || lsec_json_print(stdout, o, &perr) < 0) {
				status = status ? status : CLI_EXIT_FAILURE;
			}
			json_decref(o);
		} else if (rc == 0) {
			char hex[65];
			lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
			printf("%s: ok: %s version %d, %zu steps, sha256 %s\n", a->args[i],
			       lsec_sop_name(sop), lsec_sop_version(sop), lsec_sop_step_count(sop), hex);
			for (char *p = warn, *nl = NULL; p != NULL && *p != '\0'; p = nl + 1) {
				nl = strchr(p, '\n');
				fprintf(stderr, "linesec: warning: %s: %.*s\n", a->args[i],
					(int)(nl - p), p);
			}
		} else {
			for (size_t k = 0; k < lsec_sop_diags_count(d); k++) {
				fprintf(stderr, "%s\n", lsec_sop_diags_at(d, k)->text);
			}
			fprintf(stderr, "linesec: %s: %zu problem%s\n", a->args[i], lsec_sop_diags_count(d),
				lsec_sop_diags_count(d) == 1 ? "" : "s");
		}
		if (rc < 0 && status == CLI_EXIT_OK) {
			status = cli_exit_code(rc);
		}
		lsec_free(warn);
		lsec_sop_diags_free(d);
		lsec_sop_free(sop);
	}
	lsec_line_close(line);
	c->status = status;
	return 0;
}

static const cli_spec check_spec = {
	.usage = "sop check [--json] [--line DIR] FILE...",
	.summary = "validate SOP files against the schema, the action table and the policy rules",
	.opts = check_opts,
	.min_args = 1,
	.max_args = -1,
	.details = "Every problem is printed as FILE:LINE:COLUMN: message; a policy refusal names "
		   "its rule.\nWith a line at hand (--line, $LINESEC_LINE, or the current folder), a "
		   "warning\nnames each ca.issue step whose certificates would outlive the line CA's "
		   "certificate\n(SOP, step, validity-days, the CA's not-after).\nExit status: 0 when "
		   "every file passes, else the status of the first problem.",
	.body = check_body,
};

static const cli_opt actions_opts[] = {
	CLI_OPT_JSON("the action table"),
	CLI_FLAG("markdown", "print the action reference as Markdown (as in docs/sop-format.md)"),
	CLI_OPT_END,
};

static void print_param_md(const lsec_sop_param *pr)
{
	printf("  - `%s` (", pr->name);
	if (pr->type == LSEC_SOP_PARAM_ENUM) {
		printf("one of");
		for (size_t k = 0; pr->allowed[k] != NULL; k++) {
			printf("%s `%s`", k ? "," : "", pr->allowed[k]);
		}
	} else if (pr->type == LSEC_SOP_PARAM_INT) {
		printf("integer %lld to %lld", (long long)pr->min, (long long)pr->max);
	} else {
		printf("%s", pr->type == LSEC_SOP_PARAM_BOOL ? "true or false" : "text");
	}
	printf("; %s", pr->required ? "required" : "optional");
	if (pr->deflt != NULL) {
		printf(", default `%s`", pr->deflt);
	}
	printf("): %s\n", pr->help);
}

static int actions_body(cli_ctx *c)
{
	if (cli_flag(&c->a, "json")) {
		json_t *j = NULL;
		int rc = lsec_sop_actions_json(&j, &c->err);
		if (rc == 0) {
			rc = lsec_json_print(stdout, j, &c->err);
		}
		json_decref(j);
		return rc;
	}
	bool md = cli_flag(&c->a, "markdown");
	for (size_t i = 0; i < lsec_sop_action_count(); i++) {
		const lsec_sop_action *ac = lsec_sop_action_at(i);
		char kinds[128] = "";
		size_t off = 0;
		for (unsigned k = 0; k < LSEC_SOP_KIND_COUNT; k++) {
			if ((ac->kinds & LSEC_SOP_KIND_BIT(k)) != 0 && off < sizeof(kinds)) {
				int w = snprintf(kinds + off, sizeof(kinds) - off, "%s%s", off ? ", " : "",
						 lsec_sop_kind_name((lsec_sop_kind)k));
				off += w > 0 ? (size_t)w : 0;
			}
		}
		if (!md) {
			printf("%-26s %s%s\n", ac->id, ac->summary,
			       (ac->flags & LSEC_SOP_ACTION_IRREVERSIBLE) ? " [irreversible]" : "");
			continue;
		}
		printf("### `%s`\n\n%s\n\n- **Verifies:** %s\n- **Evidence:**", ac->id, ac->summary,
		       ac->verifies);
		for (size_t k = 0; ac->evidence[k] != NULL; k++) {
			printf("%s `%s`", k ? "," : "", ac->evidence[k]);
		}
		printf("\n- **SOP kinds:** %s\n", kinds);
		printf("- **Kind of step:** %s%s%s%s%s\n",
		       (ac->flags & LSEC_SOP_ACTION_MANUAL) ? "manual (confirmed by a person)" : "station",
		       (ac->flags & LSEC_SOP_ACTION_DEVICE) ? ", needs the device" : "",
		       (ac->flags & LSEC_SOP_ACTION_VERIFIES) ? ", verification" : "",
		       (ac->flags & LSEC_SOP_ACTION_IRREVERSIBLE) ? ", **irreversible**" : "",
		       (ac->flags & LSEC_SOP_ACTION_ADVISORY) ? ", advisory" : "");
		printf("- **Performed by:**");
		for (size_t k = 0; ac->roles[k] != NULL; k++) {
			printf("%s %s", k ? "," : "", ac->roles[k]);
		}
		printf("\n");
		if (ac->params[0].name == NULL) {
			printf("- **Parameters:** none\n\n");
			continue;
		}
		printf("- **Parameters:**\n");
		for (const lsec_sop_param *pr = ac->params; pr->name != NULL; pr++) {
			print_param_md(pr);
		}
		printf("\n");
	}
	return 0;
}

static const cli_spec actions_spec = {
	.usage = "sop actions [--json | --markdown]",
	.summary = "list the actions a SOP step may use, with their parameters, verification and "
		   "evidence",
	.opts = actions_opts,
	.body = actions_body,
};

static const cli_opt rules_opts[] = {
	CLI_OPT_JSON("the rules"),
	CLI_FLAG("markdown", "print the rules as a Markdown table (as in docs/sop-format.md)"),
	CLI_OPT_END,
};

static int rules_body(cli_ctx *c)
{
	if (!cli_flag(&c->a, "json")) {
		bool md = cli_flag(&c->a, "markdown");
		if (md) {
			printf("| rule | requirement |\n|---|---|\n");
		}
		for (size_t i = 0; i < lsec_sop_rule_count(); i++) {
			const lsec_sop_rule *r = lsec_sop_rule_at(i);
			printf(md ? "| `%s` | %s |\n" : "%-30s %s\n", r->id, r->sentence);
		}
		return 0;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < lsec_sop_rule_count(); i++) {
		const lsec_sop_rule *r = lsec_sop_rule_at(i);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "id", r->id, "rule", r->sentence));
	}
	return cli_print_json(arr, &c->err);
}

static const cli_spec rules_spec = {
	.usage = "sop rules [--json | --markdown]",
	.summary = "list the policy rules every SOP file must satisfy",
	.opts = rules_opts,
	.body = rules_body,
};

/* Writes b to --out (atomically) or to standard output (no --out, or --out -). */
static int emit(const lsec_buf *b, const char *outp, lsec_err *err)
{
	if (outp != NULL && strcmp(outp, "-") != 0) {
		return lsec_file_write_atomic(outp, b->data, b->len, 0644, err);
	}
	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len) {
		return lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__, "cannot write output");
	}
	return 0;
}

static int version_arg(int *out, const char *s, lsec_err *err)
{
	char *end = NULL;
	long v = s != NULL ? strtol(s, &end, 10) : 0;
	if (s == NULL || end == s || *end != 0 || v < 1 || v > 1000000) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
				    "invalid version '%s': expected a number from 1", s ? s : "");
	}
	*out = (int)v;
	return 0;
}

/* ---- render -------------------------------------------------------------- */

static const cli_opt render_opts[] = {
	CLI_OPT("format", "md|html|pdf", "output format (default md); pdf needs --out"),
	CLI_OPT("out", "FILE", "write to FILE instead of standard output (-: standard output)"),
	CLI_OPT("version", "V", "with NAME: the stored version to render (default: the latest "
				"approved)"),
	/* The line is opened only for a stored SOP: a draft file needs none. */
	CLI_OPT_LINE,
	CLI_OPT_END,
};

static int render_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_sop *sop = NULL;
	lsec_line *line = NULL;
	lsec_buf b = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	const char *fmt = cli_get(a, "format"), *version_opt = cli_get(a, "version");
	const char *outp = cli_get(a, "out");
	lsec_sop_kind kind;
	lsec_err kerr = LSEC_ERR_INIT;
	int version = 0;
	bool pdf = fmt != NULL && strcmp(fmt, "pdf") == 0;
	if (fmt != NULL && strcmp(fmt, "html") == 0) {
		ro.format = LSEC_SOP_FORMAT_HTML;
	} else {
		LSEC_ENSURE(fmt == NULL || pdf || strcmp(fmt, "md") == 0, LSEC_E_USAGE,
			    "invalid --format '%s': expected md, html or pdf", fmt);
	}
	/* A PDF is binary: it goes to a file, or to standard output only when asked (--out -). */
	LSEC_ENSURE(!pdf || outp != NULL, LSEC_E_USAGE,
		    "--format pdf needs --out FILE (or --out - for standard output)");
	if (lsec_sop_kind_parse(&kind, a->args[0], &kerr) == 0) {
		if (version_opt != NULL) {
			LSEC_TRY(version_arg(&version, version_opt, err));
		}
		LSEC_TRY(lsec_line_open(&line, cli_get(a, "line"), err));
		if (pdf) {
			LSEC_TRY(lsec_report_sop_pdf(&b, lsec_line_store(line), a->args[0], version,
						     err));
		} else {
			LSEC_TRY(lsec_sop_render_stored(&b, lsec_line_store(line), a->args[0],
							version, ro.format, err));
		}
	} else {
		LSEC_ENSURE(version_opt == NULL, LSEC_E_USAGE,
			    "--version applies to a SOP name, not to the file '%s'", a->args[0]);
		ro.draft = true;
		LSEC_TRY(lsec_sop_load(&sop, NULL, a->args[0], err));
		if (pdf) {
			LSEC_TRY(lsec_report_sop_pdf_loaded(&b, sop, &ro, err));
		} else {
			LSEC_TRY(lsec_sop_render(&b, sop, &ro, err));
		}
	}
	LSEC_TRY(emit(&b, outp, err));
out:
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	lsec_line_close(line);
	return rc;
}

static const cli_spec render_spec = {
	.usage = "sop render FILE|NAME [--version V] [--format md|html|pdf] [--out FILE|-]",
	.summary = "render the written procedure of a stored SOP version, or of a draft file",
	.opts = render_opts,
	.min_args = 1,
	.max_args = 1,
	.details =
		"The document holds purpose, scope, roles, prerequisites, the numbered sequence "
		"(who,\nwhat, how it is verified, what to do if it fails), records kept, revision "
		"history with\napprovers and dates, and the document's identity (name, version, "
		"SHA-256 of the file).\nNAME (flash, provision, secure-boot, debug-lock, "
		"decommission) reads the registry; a\nFILE is rendered as a draft, marked DRAFT - NOT "
		"APPROVED, as is any version not approved.\nA PDF (--format pdf) is a controlled "
		"document: SOP name, version, SHA-256 and approvers\n(or the DRAFT mark) in the "
		"header of every page, \"page N of M\" in the footer; it needs\n--out FILE, or "
		"--out - to write it to standard output.",
	.body = render_body,
};

/* ---- submit, approve ------------------------------------------------------ */

static int submit_body(cli_ctx *c)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	lsec_actor actor = {c->person, lsec_line_station(c->line)};
	char hex[65];
	LSEC_TRY(lsec_file_read(&b, c->a.args[0], &c->err));
	LSEC_TRY(lsec_sop_submit(&sop, lsec_line_store(c->line), &actor, c->who.role, b.data, b.len,
				 c->a.args[0], &c->err));
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	printf("submitted SOP %s version %d (sha256 %s); it needs two approvals\n",
	       lsec_sop_name(sop), lsec_sop_version(sop), hex);
out:
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	return rc;
}

static const cli_spec submit_spec = {
	.usage = "sop submit [--as NAME] FILE",
	.summary = "store a SOP file as a new version (by a logged-in supervisor or security "
		   "officer)",
	.min_args = 1,
	.max_args = 1,
	.details = "The file must pass 'linesec sop check' and carry a version above every stored "
		   "one.\nIt runs only once two security officers other than the submitter approved "
		   "it.",
	.body = submit_body,
	.setup = CLI_LINE,
	.roles = LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR) | LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
	.action = "submit a SOP version",
};

static const cli_opt approve_opts[] = {
	CLI_OPT("sha256", "HEX", "the SHA-256 of the file you reviewed; refused if the version "
				 "differs"),
	CLI_OPT_END,
};

static int approve_body(cli_ctx *c)
{
	int rc = 0;
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	int version = 0;
	lsec_actor actor = {c->person, lsec_line_station(c->line)};
	LSEC_TRY(version_arg(&version, c->a.args[1], &c->err));
	LSEC_TRY(lsec_sop_approve_reviewed(lsec_line_store(c->line), &actor, c->who.role,
					   c->a.args[0], version,
					   cli_get(&c->a, "sha256"), &c->err));
	LSEC_TRY(lsec_sop_versions(&v, &n, lsec_line_store(c->line), c->a.args[0], &c->err));
	for (size_t i = 0; i < n; i++) {
		if (v[i].version == version) {
			printf("approved SOP %s version %d: %s\n", c->a.args[0], version,
			       v[i].approved ? "approved, it runs from now on"
					     : "one more security officer must approve it");
		}
	}
out:
	lsec_free(v);
	return rc;
}

static const cli_spec approve_spec = {
	.usage = "sop approve [--as NAME] [--sha256 HEX] NAME VERSION",
	.summary = "approve a stored SOP version (by a logged-in security officer who did not "
		   "submit it)",
	.opts = approve_opts,
	.min_args = 2,
	.max_args = 2,
	.details = "A version is approved, and runs, once two distinct security officers approved "
		   "it. The approver signs: their password is read from the terminal (scripts and "
		   "tests\nmay set LINESEC_PASSWORD).",
	.body = approve_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
	.action = "approve a SOP version",
};

/* ---- ack, withdraw --------------------------------------------------------- */

static const cli_opt ack_opts[] = {
	CLI_OPT("version", "V", "the version you read (default: the current approved one)"),
	CLI_OPT("sha256", "HEX", "the SHA-256 of the file you read; refused if the version "
				 "differs"),
	CLI_OPT_END,
};

static int ack_body(cli_ctx *c)
{
	int rc = 0;
	int version = 0, done = 0;
	lsec_actor actor = {c->person, lsec_line_station(c->line)};
	if (cli_get(&c->a, "version") != NULL) {
		LSEC_TRY(version_arg(&version, cli_get(&c->a, "version"), &c->err));
	}
	LSEC_TRY(lsec_sop_acknowledge(&done, lsec_line_store(c->line), &actor, c->a.args[0],
				      version, cli_get(&c->a, "sha256"), &c->err));
	printf("%s acknowledged SOP %s version %d (read and understood); the station lets them "
	       "run it\n",
	       c->person, c->a.args[0], done);
out:
	return rc;
}

static const cli_spec ack_spec = {
	.usage = "sop ack [--as NAME] [--version V] [--sha256 HEX] NAME",
	.summary = "acknowledge that you read and understood an approved SOP version (signs)",
	.opts = ack_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "A station refuses to run an approved SOP version for a person who has not "
		   "acknowledged it.\nThe acknowledgement is a signature: the password is read from "
		   "the terminal (scripts\nand tests may set LINESEC_PASSWORD). Read the version "
		   "first: linesec sop render NAME.",
	.body = ack_body,
	.setup = CLI_LINE | CLI_SIGN,
	.action = "acknowledge a SOP version",
};

static const cli_opt withdraw_opts[] = {
	CLI_REQUIRED("reason", "TEXT", "why the version must not run any more"),
	CLI_OPT_END,
};

static int withdraw_body(cli_ctx *c)
{
	int rc = 0;
	int version = 0;
	int64_t id = 0;
	LSEC_TRY(version_arg(&version, c->a.args[1], &c->err));
	LSEC_TRY(lsec_station_sop_withdraw_request(&id, c->line, &c->who, c->a.args[0], version,
						   cli_get(&c->a, "reason"), &c->err));
	printf("change %lld requested: withdraw SOP %s version %d from every station\n",
	       (long long)id, c->a.args[0], version);
	printf("a second security officer approves it: linesec change approve %lld\n",
	       (long long)id);
out:
	return rc;
}

static const cli_spec withdraw_spec = {
	.usage = "sop withdraw [--as NAME] --reason TEXT NAME VERSION",
	.summary = "request that a SOP version be withdrawn from every station (security "
		   "officer; signs)",
	.opts = withdraw_opts,
	.min_args = 2,
	.max_args = 2,
	.details = "Nothing changes until a second, distinct security officer approves the change "
		   "(linesec\nchange approve ID). From then on no station runs the version, nor an "
		   "older one in its\nplace: the SOP runs again once a new version is approved.",
	.body = withdraw_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
	.action = "request a SOP withdrawal",
};

/* ---- list, diff, show ----------------------------------------------------- */

static const cli_opt list_opts[] = {
	CLI_OPT_JSON("the versions"),
	CLI_OPT_END,
};

static int list_body(cli_ctx *c)
{
	int rc = 0;
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	bool *acked = NULL;
	lsec_err *err = &c->err;
	LSEC_TRY(lsec_sop_versions_dated(&v, &n, lsec_line_store(c->line),
					 c->a.nargs ? c->a.args[0] : NULL, &c->err));
	/* Whether the person acting (their session) acknowledged each version. */
	acked = lsec_calloc(n + 1, sizeof(*acked));
	LSEC_ENSURE(acked != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; c->person != NULL && i < n; i++) {
		LSEC_TRY(lsec_sop_acknowledged(&acked[i], lsec_line_store(c->line), c->person,
					       v[i].name, v[i].version, v[i].sha256_hex, &c->err));
	}
	if (cli_flag(&c->a, "json")) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_t *appr = json_array();
			for (unsigned k = 0; appr != NULL && k < 2; k++) {
				if (v[i].approvers[k][0]) {
					json_array_append_new(appr, json_string(v[i].approvers[k]));
				}
			}
			json_array_append_new(
				arr, json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:i, s:b, s:s?}", "sop",
					       v[i].name, "version", v[i].version, "sha256", v[i].sha256_hex,
					       "submitted_by", v[i].submitter, "submitted", v[i].submitted,
					       "approvers", appr, "approvals", (int)v[i].napprovals,
					       "approved", v[i].approved, "approved_at",
					       v[i].approved_at[0] ? v[i].approved_at : NULL));
			json_t *o = json_array_get(arr, json_array_size(arr) - 1);
			json_object_set_new(o, "withdrawn", json_boolean(v[i].withdrawn));
			json_object_set_new(o, "acknowledged", c->person != NULL
								       ? json_boolean(acked[i])
								       : json_null());
		}
		LSEC_TRY(cli_print_json(arr, &c->err));
		goto out;
	}
	printf("%-13s %7s  %-16s %-12s %-21s %-12s %-6s %s\n", "SOP", "VERSION", "SHA-256",
	       "SUBMITTER", "SUBMITTED", "STATUS", "READ", "APPROVERS");
	for (size_t i = 0; i < n; i++) {
		char status[24];
		snprintf(status, sizeof(status),
			 v[i].withdrawn ? "withdrawn" : v[i].approved ? "approved" : "pending %u/2",
			 v[i].napprovals);
		printf("%-13s %7d  %.16s %-12s %-21s %-12s %-6s %s%s%s\n", v[i].name, v[i].version,
		       v[i].sha256_hex, v[i].submitter, v[i].submitted, status,
		       c->person == NULL ? "-" : acked[i] ? "yes" : "no", v[i].approvers[0],
		       v[i].approvers[1][0] ? ", " : "", v[i].approvers[1]);
	}
out:
	lsec_free(acked);
	lsec_free(v);
	return rc;
}

static const cli_spec list_spec = {
	.usage = "sop list [--as NAME] [--json] [NAME]",
	.summary = "list the stored SOP versions, their approvals, withdrawals and whether you "
		   "acknowledged each",
	.details = "STATUS is approved, pending N/2 or withdrawn; READ says whether the person "
		   "acting (their\nsession, or the only one logged in here) acknowledged the "
		   "version ('-': nobody).",
	.opts = list_opts,
	.max_args = 1,
	.body = list_body,
	.setup = CLI_LINE,
	.action = "list SOP versions",
};

static int diff_body(cli_ctx *c)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(4u << 20);
	int v1 = 0, v2 = 0;
	LSEC_TRY(version_arg(&v1, c->a.args[1], &c->err));
	LSEC_TRY(version_arg(&v2, c->a.args[2], &c->err));
	LSEC_TRY(lsec_sop_diff(&b, lsec_line_store(c->line), c->a.args[0], v1, v2, &c->err));
	LSEC_TRY(emit(&b, NULL, &c->err));
out:
	lsec_buf_release(&b);
	return rc;
}

static const cli_spec diff_spec = {
	.usage = "sop diff NAME V1 V2",
	.summary = "show what changed between two stored versions (unified diff)",
	.min_args = 3,
	.max_args = 3,
	.details = "Exit status 0 whether or not they differ.",
	.body = diff_body,
	.setup = CLI_LINE,
	.action = "compare SOP versions",
};

static const cli_opt show_opts[] = {
	CLI_OPT("version", "V", "the stored version (default: the latest approved)"),
	CLI_OPT("out", "FILE", "write to FILE instead of standard output"),
	CLI_OPT_END,
};

static int show_body(cli_ctx *c)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	int version = 0;
	if (cli_get(&c->a, "version") != NULL) {
		LSEC_TRY(version_arg(&version, cli_get(&c->a, "version"), &c->err));
	}
	LSEC_TRY(lsec_sop_fetch(&sop, NULL, &b, lsec_line_store(c->line), c->a.args[0], version,
				&c->err));
	LSEC_TRY(emit(&b, cli_get(&c->a, "out"), &c->err));
out:
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	return rc;
}

static const cli_spec show_spec = {
	.usage = "sop show NAME [--version V] [--out FILE]",
	.summary = "print a stored SOP version's file, byte for byte (checked against its SHA-256)",
	.opts = show_opts,
	.min_args = 1,
	.max_args = 1,
	.body = show_body,
	.setup = CLI_LINE,
	.action = "read a SOP version",
};

const cli_cmd cli_sop_cmds[] = {
	{"check", &check_spec, NULL, "validate SOP files (schema, actions, policy rules)"},
	{"render", &render_spec, NULL, "render the written procedure as Markdown, HTML or PDF"},
	{"submit", &submit_spec, NULL, "store a SOP file as a new version awaiting approval"},
	{"approve", &approve_spec, NULL, "approve a stored SOP version (security officer)"},
	{"ack", &ack_spec, NULL, "acknowledge reading an approved SOP version (signs)"},
	{"withdraw", &withdraw_spec, NULL, "request a version's withdrawal from every station"},
	{"list", &list_spec, NULL, "list stored SOP versions and their approvals"},
	{"diff", &diff_spec, NULL, "show what changed between two stored versions"},
	{"show", &show_spec, NULL, "print a stored version's file byte for byte"},
	{"actions", &actions_spec, NULL, "list the action vocabulary of SOP steps"},
	{"rules", &rules_spec, NULL, "list the policy rules a SOP must satisfy"},
	{NULL, NULL, NULL, NULL},
};
