/*
 * cmd_sop.c - `linesec sop ...`: check, render and document SOP files.
 * Parses, calls liblinesec (linesec/sop.h) and prints.
 */
#include "cli.h"

#include "linesec/line.h"
#include "linesec/sop.h"
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
	{"json", NULL, "print the result of each file as canonical JSON"},
	{NULL, NULL, NULL},
};
static const cli_spec check_spec = {
	"sop check [--json] FILE...",
	"validate SOP files against the schema, the action table and the policy rules",
	check_opts,
	1,
	-1,
	"Every problem is printed as FILE:LINE:COLUMN: message; a policy refusal names its rule.\n"
	"Exit status: 0 when every file passes, else the status of the first problem.",
};

static int cmd_check(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &check_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int status = CLI_EXIT_OK;
	bool json = cli_flag(&a, "json");
	for (int i = 0; i < a.nargs; i++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_sop *sop = NULL;
		lsec_sop_diags *d = NULL;
		int rc = lsec_sop_load(&sop, &d, a.args[i], &err);
		if (rc < 0 && d == NULL) {
			int s = cli_fail(&err);
			status = status ? status : s;
			continue;
		}
		if (json) {
			char hex[65] = "";
			if (sop != NULL) {
				lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
			}
			json_t *o = json_pack("{s:s, s:b, s:o}", "file", a.args[i], "ok", rc == 0,
					      "problems", diags_json(d));
			if (sop != NULL && o != NULL) {
				json_object_set_new(o, "sop", json_string(lsec_sop_name(sop)));
				json_object_set_new(o, "version", json_integer(lsec_sop_version(sop)));
				json_object_set_new(o, "sha256", json_string(hex));
			}
			lsec_err perr = LSEC_ERR_INIT;
			if (o == NULL || lsec_json_print(stdout, o, &perr) < 0) {
				status = status ? status : CLI_EXIT_FAILURE;
			}
			json_decref(o);
		} else if (rc == 0) {
			char hex[65];
			lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
			printf("%s: ok: %s version %d, %zu steps, sha256 %s\n", a.args[i],
			       lsec_sop_name(sop), lsec_sop_version(sop), lsec_sop_step_count(sop), hex);
		} else {
			for (size_t k = 0; k < lsec_sop_diags_count(d); k++) {
				fprintf(stderr, "%s\n", lsec_sop_diags_at(d, k)->text);
			}
			fprintf(stderr, "linesec: %s: %zu problem%s\n", a.args[i], lsec_sop_diags_count(d),
				lsec_sop_diags_count(d) == 1 ? "" : "s");
		}
		if (rc < 0 && status == CLI_EXIT_OK) {
			status = cli_exit_code(rc);
		}
		lsec_sop_diags_free(d);
		lsec_sop_free(sop);
	}
	return status;
}

static const cli_opt actions_opts[] = {
	{"json", NULL, "print the action table as canonical JSON"},
	{"markdown", NULL, "print the action reference as Markdown (as in docs/sop-format.md)"},
	{NULL, NULL, NULL},
};
static const cli_spec actions_spec = {
	"sop actions [--json | --markdown]",
	"list the actions a SOP step may use, with their parameters, verification and evidence",
	actions_opts,
	0,
	0,
	NULL,
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

static int cmd_actions(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &actions_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	if (cli_flag(&a, "json")) {
		json_t *j = NULL;
		int rc = lsec_sop_actions_json(&j, &err);
		if (rc == 0) {
			rc = lsec_json_print(stdout, j, &err);
		}
		json_decref(j);
		return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
	}
	bool md = cli_flag(&a, "markdown");
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
	return CLI_EXIT_OK;
}

static const cli_opt rules_opts[] = {
	{"json", NULL, "print the rules as canonical JSON"},
	{"markdown", NULL, "print the rules as a Markdown table (as in docs/sop-format.md)"},
	{NULL, NULL, NULL},
};
static const cli_spec rules_spec = {
	"sop rules [--json | --markdown]", "list the policy rules every SOP file must satisfy", rules_opts, 0, 0,
	NULL,
};

static int cmd_rules(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &rules_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (!cli_flag(&a, "json")) {
		bool md = cli_flag(&a, "markdown");
		if (md) {
			printf("| rule | requirement |\n|---|---|\n");
		}
		for (size_t i = 0; i < lsec_sop_rule_count(); i++) {
			const lsec_sop_rule *r = lsec_sop_rule_at(i);
			printf(md ? "| `%s` | %s |\n" : "%-30s %s\n", r->id, r->sentence);
		}
		return CLI_EXIT_OK;
	}
	lsec_err err = LSEC_ERR_INIT;
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < lsec_sop_rule_count(); i++) {
		const lsec_sop_rule *r = lsec_sop_rule_at(i);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "id", r->id, "rule", r->sentence));
	}
	int rc = arr != NULL ? lsec_json_print(stdout, arr, &err) : LSEC_E_NOMEM;
	json_decref(arr);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt render_opts[] = {
	{"format", "md|html", "output format (default md)"},
	{"out", "FILE", "write to FILE instead of standard output"},
	{"version", "V", "with NAME: the stored version to render (default: the latest approved)"},
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, else the current folder)"},
	{NULL, NULL, NULL},
};
static const cli_spec render_spec = {
	"sop render FILE|NAME [--version V] [--format md|html] [--out FILE]",
	"render the written procedure of a stored SOP version, or of a draft file",
	render_opts,
	1,
	1,
	"The document holds purpose, scope, roles, prerequisites, the numbered sequence (who,\n"
	"what, how it is verified, what to do if it fails), records kept, revision history with\n"
	"approvers and dates, and the document's identity (name, version, SHA-256 of the file).\n"
	"NAME (flash, provision, secure-boot, debug-lock, decommission) reads the registry; a\n"
	"FILE is rendered as a draft, marked DRAFT - NOT APPROVED, as is any version not approved.",
};

/* Writes b to --out (atomically) or to standard output. */
static int emit(const lsec_buf *b, const char *outp, lsec_err *err)
{
	if (outp != NULL) {
		return lsec_file_write_atomic(outp, b->data, b->len, 0644, err);
	}
	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len) {
		return lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__, "cannot write output");
	}
	return 0;
}

/* Opens the line folder of --line (or $LINESEC_LINE, or "."). */
static int open_line(lsec_line **line, const cli_args *a, lsec_err *err)
{
	return lsec_line_open(line, cli_get(a, "line"), err);
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

static int cmd_render(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &render_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_line *line = NULL;
	lsec_buf b = LSEC_BUF_INIT(8u << 20);
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	const char *fmt = cli_get(&a, "format");
	lsec_sop_kind kind;
	lsec_err kerr = LSEC_ERR_INIT;
	int version = 0;
	int rc = 0;
	if (fmt != NULL && strcmp(fmt, "html") == 0) {
		ro.format = LSEC_SOP_FORMAT_HTML;
	} else if (fmt != NULL && strcmp(fmt, "md") != 0) {
		rc = lsec_err_set(&err, LSEC_E_USAGE, __FILE__, __LINE__,
				  "invalid --format '%s': expected md or html", fmt);
		goto out;
	}
	if (lsec_sop_kind_parse(&kind, a.args[0], &kerr) == 0) {
		if (cli_get(&a, "version") != NULL &&
		    (rc = version_arg(&version, cli_get(&a, "version"), &err)) < 0) {
			goto out;
		}
		if ((rc = open_line(&line, &a, &err)) < 0 ||
		    (rc = lsec_sop_render_stored(&b, lsec_line_store(line), a.args[0], version,
						 ro.format, &err)) < 0) {
			goto out;
		}
	} else {
		if (cli_get(&a, "version") != NULL) {
			rc = lsec_err_set(&err, LSEC_E_USAGE, __FILE__, __LINE__,
					  "--version applies to a SOP name, not to the file '%s'", a.args[0]);
			goto out;
		}
		ro.draft = true;
		if ((rc = lsec_sop_load(&sop, NULL, a.args[0], &err)) < 0 ||
		    (rc = lsec_sop_render(&b, sop, &ro, &err)) < 0) {
			goto out;
		}
	}
	rc = emit(&b, cli_get(&a, "out"), &err);
out:
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt change_opts[] = {
	{"as", "NAME", "the logged-in person acting (when several are logged in)"},
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, else the current folder)"},
	{NULL, NULL, NULL},
};
static const cli_spec submit_spec = {
	"sop submit [--as NAME] FILE",
	"store a SOP file as a new version (by a logged-in supervisor or security officer)",
	change_opts,
	1,
	1,
	"The file must pass 'linesec sop check' and carry a version above every stored one.\n"
	"It runs only once two security officers other than the submitter approved it.",
};

static int cmd_submit(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &submit_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_sop *sop = NULL;
	lsec_line_actor who;
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	int rc = open_line(&line, &a, &err);
	if (rc == 0) {
		rc = lsec_line_authorize(line, &who, cli_get(&a, "as"),
					 LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR) |
						 LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
					 "submit a SOP version", &err);
	}
	if (rc == 0) {
		rc = lsec_file_read(&b, a.args[0], &err);
	}
	if (rc == 0) {
		lsec_actor actor = {who.name, lsec_line_station(line)};
		rc = lsec_sop_submit(&sop, lsec_line_store(line), &actor, b.data, b.len, a.args[0], &err);
	}
	if (rc == 0) {
		char hex[65];
		lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
		printf("submitted SOP %s version %d (sha256 %s); it needs two approvals\n",
		       lsec_sop_name(sop), lsec_sop_version(sop), hex);
	}
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt approve_opts[] = {
	{"sha256", "HEX", "the SHA-256 of the file you reviewed; refused if the version differs"},
	{"as", "NAME", "the logged-in person acting (when several are logged in)"},
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, else the current folder)"},
	{NULL, NULL, NULL},
};
static const cli_spec approve_spec = {
	"sop approve [--as NAME] [--sha256 HEX] NAME VERSION",
	"approve a stored SOP version (by a logged-in security officer who did not submit it)",
	approve_opts,
	2,
	2,
	"A version is approved, and runs, once two distinct security officers approved it.",
};

static int cmd_approve(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &approve_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_line_actor who;
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	int version = 0;
	int rc = version_arg(&version, a.args[1], &err);
	if (rc == 0) {
		rc = open_line(&line, &a, &err);
	}
	if (rc == 0) {
		rc = lsec_line_authorize(line, &who, cli_get(&a, "as"),
					 LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
					 "approve a SOP version", &err);
	}
	if (rc == 0) {
		lsec_actor actor = {who.name, lsec_line_station(line)};
		rc = lsec_sop_approve_reviewed(lsec_line_store(line), &actor, a.args[0], version,
					       cli_get(&a, "sha256"), &err);
	}
	if (rc == 0) {
		rc = lsec_sop_versions(&v, &n, lsec_line_store(line), a.args[0], &err);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (v[i].version == version) {
			printf("approved SOP %s version %d: %s\n", a.args[0], version,
			       v[i].approved ? "approved, it runs from now on"
					     : "one more security officer must approve it");
		}
	}
	lsec_free(v);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt list_opts[] = {
	{"json", NULL, "print the versions as canonical JSON"},
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, else the current folder)"},
	{NULL, NULL, NULL},
};
static const cli_spec list_spec = {
	"sop list [--json] [NAME]", "list the stored SOP versions and their approvals", list_opts, 0, 1,
	NULL,
};

static int cmd_list(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &list_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	int rc = open_line(&line, &a, &err);
	if (rc == 0) {
		rc = lsec_sop_versions_dated(&v, &n, lsec_line_store(line), a.nargs ? a.args[0] : NULL,
					     &err);
	}
	if (rc == 0 && cli_flag(&a, "json")) {
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
		}
		rc = arr != NULL ? lsec_json_print(stdout, arr, &err) : LSEC_E_NOMEM;
	} else if (rc == 0) {
		printf("%-13s %7s  %-16s %-12s %-21s %-12s %s\n", "SOP", "VERSION", "SHA-256",
		       "SUBMITTER", "SUBMITTED", "STATUS", "APPROVERS");
		for (size_t i = 0; i < n; i++) {
			char status[24];
			snprintf(status, sizeof(status), v[i].approved ? "approved" : "pending %u/2",
				 v[i].napprovals);
			printf("%-13s %7d  %.16s %-12s %-21s %-12s %s%s%s\n", v[i].name, v[i].version,
			       v[i].sha256_hex, v[i].submitter, v[i].submitted, status, v[i].approvers[0],
			       v[i].approvers[1][0] ? ", " : "", v[i].approvers[1]);
		}
	}
	json_decref(arr);
	lsec_free(v);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt diff_opts[] = {
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, else the current folder)"},
	{NULL, NULL, NULL},
};
static const cli_spec diff_spec = {
	"sop diff NAME V1 V2", "show what changed between two stored versions (unified diff)",
	diff_opts, 3, 3, "Exit status 0 whether or not they differ.",
};

static int cmd_diff(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &diff_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_buf b = LSEC_BUF_INIT(4u << 20);
	int v1 = 0, v2 = 0;
	int rc = version_arg(&v1, a.args[1], &err);
	if (rc == 0) {
		rc = version_arg(&v2, a.args[2], &err);
	}
	if (rc == 0) {
		rc = open_line(&line, &a, &err);
	}
	if (rc == 0) {
		rc = lsec_sop_diff(&b, lsec_line_store(line), a.args[0], v1, v2, &err);
	}
	if (rc == 0) {
		rc = emit(&b, NULL, &err);
	}
	lsec_buf_release(&b);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt show_opts[] = {
	{"version", "V", "the stored version (default: the latest approved)"},
	{"out", "FILE", "write to FILE instead of standard output"},
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, else the current folder)"},
	{NULL, NULL, NULL},
};
static const cli_spec show_spec = {
	"sop show NAME [--version V] [--out FILE]",
	"print a stored SOP version's file, byte for byte (checked against its SHA-256)",
	show_opts,
	1,
	1,
	NULL,
};

static int cmd_show(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &show_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_sop *sop = NULL;
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	int version = 0;
	int rc = 0;
	if (cli_get(&a, "version") != NULL) {
		rc = version_arg(&version, cli_get(&a, "version"), &err);
	}
	if (rc == 0) {
		rc = open_line(&line, &a, &err);
	}
	if (rc == 0) {
		rc = lsec_sop_fetch(&sop, NULL, &b, lsec_line_store(line), a.args[0], version, &err);
	}
	if (rc == 0) {
		rc = emit(&b, cli_get(&a, "out"), &err);
	}
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_cmd sop_cmds[] = {
	{"check", cmd_check, "validate SOP files (schema, actions, policy rules)"},
	{"render", cmd_render, "render the written procedure as Markdown or HTML"},
	{"submit", cmd_submit, "store a SOP file as a new version awaiting approval"},
	{"approve", cmd_approve, "approve a stored SOP version (security officer)"},
	{"list", cmd_list, "list stored SOP versions and their approvals"},
	{"diff", cmd_diff, "show what changed between two stored versions"},
	{"show", cmd_show, "print a stored version's file byte for byte"},
	{"actions", cmd_actions, "list the action vocabulary of SOP steps"},
	{"rules", cmd_rules, "list the policy rules a SOP must satisfy"},
	{NULL, NULL, NULL},
};

int cmd_sop(int argc, char **argv)
{
	return cli_dispatch("sop", sop_cmds, argc, argv);
}
