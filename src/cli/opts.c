/*
 * Option parsing and --help rendering from each command's option table, and
 * the one runner: parse, set up what the command's flags ask for, run its
 * body, map the result to the exit status.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* The options every command that opens the line takes, declared once. */
static const cli_opt line_opts[] = {
	CLI_OPT_LINE,
	CLI_OPT_AS,
	CLI_OPT("witness", "NAME",
		"the logged-in person who witnesses (default: a second person logged in here, a "
		"supervisor first); they sign with their password"),
	CLI_OPT_END,
};

static size_t spec_count(const cli_spec *spec)
{
	size_t n = 0;
	while (spec->opts != NULL && spec->opts[n].name != NULL) {
		n++;
	}
	return n;
}

/* How many of line_opts the runner adds to spec: --line, then --as, then (a station) --witness. */
static size_t line_count(const cli_spec *spec)
{
	if ((spec->setup & (CLI_LINE | CLI_STATION)) == 0) {
		return 0;
	}
	if ((spec->setup & CLI_NO_ACTOR) != 0) {
		return 1;
	}
	return (spec->setup & CLI_STATION) != 0 ? 3 : 2;
}

/* Option k of spec: its own ones first, then the line options. */
static const cli_opt *opt_at(const cli_spec *spec, size_t k)
{
	size_t n = spec_count(spec);
	if (k < n) {
		return &spec->opts[k];
	}
	return k - n < line_count(spec) ? &line_opts[k - n] : NULL;
}

void cli_print_help(FILE *f, const cli_spec *spec)
{
	fprintf(f, "usage: linesec %s\n\n%s\n", spec->usage, spec->summary);
	if (opt_at(spec, 0) != NULL) {
		fprintf(f, "\noptions:\n");
		for (size_t k = 0; opt_at(spec, k) != NULL; k++) {
			const cli_opt *o = opt_at(spec, k);
			char left[64];
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
			fprintf(f, "  %-28s %s%s\n", left, o->help,
				o->required && strstr(o->help, "required") == NULL ? " (required)"
										   : "");
		}
	}
	fprintf(f, "  %-28s %s\n", "--help", "show this help");
	if (spec->details != NULL) {
		fprintf(f, "\n%s\n", spec->details);
	}
}

static int usage_error(const cli_spec *spec, const char *what, const char *subject)
{
	fprintf(stderr, "linesec: %s%s%s%s\nusage: linesec %s (see --help)\n", what,
		subject ? " '" : "", subject ? subject : "", subject ? "'" : "", spec->usage);
	return -1;
}

static int opt_find(const cli_spec *spec, const char *name, size_t nlen)
{
	for (size_t k = 0; opt_at(spec, k) != NULL && k < CLI_MAX_OPTS; k++) {
		const cli_opt *o = opt_at(spec, k);
		if (strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0) {
			return (int)k;
		}
	}
	return -1;
}

int cli_parse(cli_args *a, const cli_spec *spec, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->spec = spec;
	/*
	 * Positional arguments are gathered in place at the front of argv[1..]:
	 * slot 1+nargs is always one already read, so nothing unread is lost.
	 */
	a->args = argv + 1;
	bool only_args = false;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (only_args || s[0] != '-' || s[1] == 0) {
			a->args[a->nargs++] = argv[i];
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_args = true;
			continue;
		}
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			cli_print_help(stdout, spec);
			return 1;
		}
		if (s[1] != '-') {
			return usage_error(spec, "unknown option", s);
		}
		const char *name = s + 2;
		const char *eq = strchr(name, '=');
		int idx = opt_find(spec, name, eq ? (size_t)(eq - name) : strlen(name));
		if (idx < 0) {
			return usage_error(spec, "unknown option", s);
		}
		const cli_opt *o = opt_at(spec, (size_t)idx);
		if (o->metavar == NULL) {
			if (eq != NULL) {
				return usage_error(spec, "this option takes no value:", s);
			}
			a->val[idx] = "";
		} else if (eq != NULL) {
			a->val[idx] = eq + 1;
		} else if (i + 1 < argc) {
			a->val[idx] = argv[++i];
		} else {
			return usage_error(spec, "this option needs a value:", s);
		}
	}
	for (size_t k = 0; opt_at(spec, k) != NULL && k < CLI_MAX_OPTS; k++) {
		const cli_opt *o = opt_at(spec, k);
		if (o->required && a->val[k] == NULL) {
			char what[80];
			snprintf(what, sizeof(what), "--%s%s%s", o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
			return usage_error(spec, "missing required option", what);
		}
	}
	if (a->nargs < spec->min_args) {
		return usage_error(spec, a->nargs == 0 ? "missing arguments" : "too few arguments", NULL);
	}
	if (spec->max_args >= 0 && a->nargs > spec->max_args) {
		return usage_error(spec, "unexpected argument", a->args[spec->max_args]);
	}
	return 0;
}

const char *cli_get(const cli_args *a, const char *name)
{
	int k = opt_find(a->spec, name, strlen(name));
	return k < 0 ? NULL : a->val[k];
}

bool cli_flag(const cli_args *a, const char *name)
{
	return cli_get(a, name) != NULL;
}

int cli_get_u64(const cli_args *a, const char *name, uint64_t max, uint64_t *out, lsec_err *err)
{
	int rc = 0;
	const char *s = cli_get(a, name);
	if (s == NULL) {
		return 0;
	}
	char *end = NULL;
	errno = 0;
	LSEC_ENSURE(s[0] >= '0' && s[0] <= '9', LSEC_E_USAGE,
		    "invalid --%s '%s': expected an unsigned number", name, s);
	unsigned long long v = strtoull(s, &end, 0);
	LSEC_ENSURE(errno == 0 && end != s && *end == 0, LSEC_E_USAGE,
		    "invalid --%s '%s': expected an unsigned number", name, s);
	LSEC_ENSURE(v <= max, LSEC_E_USAGE, "invalid --%s '%s': at most %llu", name, s,
		    (unsigned long long)max);
	*out = v;
out:
	return rc;
}

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

/*
 * Interactive runs: the operator scans (a barcode scanner is a keyboard) or
 * types the serial printed on a unit's identity label. Batch runs have no
 * such callback: the printer's spooler taking the label is all there is.
 */
static int scan_tty(void *ctx, const char *person, const char *prompt, char *out, size_t outlen,
		    lsec_err *err)
{
	(void)ctx;
	(void)err;
	fprintf(stderr, "\n  %s\n  serial on the label (%s): ", prompt, person);
	fflush(stderr);
	if (fgets(out, (int)outlen, stdin) == NULL) {
		out[0] = '\0';
	}
	return 0;
}

/*
 * The witness signs (lsec_station_witness_cb): their password, typed now
 * (LINESEC_WITNESS_PASSWORD for scripts and tests), checked by
 * lsec_line_sign as every signature is. One at a time: a gang run's
 * sockets share the line handle and the terminal.
 */
static pthread_mutex_t witness_mu = PTHREAD_MUTEX_INITIALIZER;

static int witness_sign(void *ctx, const char *witness, const char *role, const char *what,
			bool probe, lsec_err *err)
{
	int rc = 0;
	cli_ctx *c = ctx;
	lsec_secret *pw = NULL;
	lsec_line_actor signer;
	lsec_role r;
	char prompt[256], action[224];
	pthread_mutex_lock(&witness_mu);
	LSEC_TRY(lsec_role_parse(&r, role, err));
	snprintf(action, sizeof(action), "witness %s", what);
	if (probe) {
		/* Can a password be asked for? The variable, or a terminal. */
		const char *v = getenv(CLI_WITNESS_PASSWORD_ENV);
		int fd = v != NULL && v[0] != '\0' ? -1 : open("/dev/tty", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
		}
		LSEC_ENSURE((v != NULL && v[0] != '\0') || fd >= 0, LSEC_E_AUTH,
			    "cannot %s: the witness '%s' signs with their password and there is no "
			    "terminal to type it at (scripts and tests may set %s)",
			    action, witness, CLI_WITNESS_PASSWORD_ENV);
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Password of %s, to sign as witness (%s): ", witness,
		 what);
	LSEC_TRY(cli_read_password(&pw, CLI_WITNESS_PASSWORD_ENV, prompt, false, err));
	LSEC_TRY(lsec_line_sign(&signer, lsec_station_setup_line(c->setup), witness, pw,
				LSEC_ROLE_BIT(r), action, err));
out:
	pthread_mutex_unlock(&witness_mu);
	lsec_secret_free(pw);
	return rc;
}

/*
 * A signature (CLI_SIGN): the line opened, the person acting resolved and
 * their password checked now (lsec_line_sign) into c->who. A station
 * command keeps this line open beside the station's own handle.
 */
static int sign(cli_ctx *c, const cli_spec *spec, const char *as, const char *action)
{
	int rc = 0;
	lsec_secret *pw = NULL;
	lsec_line_actor who;
	char prompt[128];
	lsec_err *err = &c->err;
	memset(&who, 0, sizeof(who));
	LSEC_TRY(lsec_line_open(&c->line, cli_get(&c->a, "line"), err));
	/* Who signs, before the password: their session (or the only one here). */
	LSEC_TRY(lsec_line_authorize(&who, c->line, as, spec->roles != 0 ? spec->roles : CLI_ANYONE,
				     action, err));
	snprintf(prompt, sizeof(prompt), "Password of %s, to sign (%s): ", who.name, action);
	LSEC_TRY(cli_read_password(&pw, "LINESEC_PASSWORD", prompt, false, err));
	LSEC_TRY(lsec_line_sign(&c->who, c->line, who.name, pw,
				spec->roles != 0 ? spec->roles : CLI_ANYONE, action, err));
	c->person = c->who.name;
out:
	lsec_secret_free(pw);
	return rc;
}

/*
 * The setup spec asks for: the line and the person acting (roles; with none,
 * only a given --as is checked), or the station set up from the line and
 * opened. Whatever it opens, ctx_release closes.
 */
static int ctx_setup(cli_ctx *c, const cli_spec *spec)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const char *as = cli_get(&c->a, "as");
	const char *action = spec->action != NULL ? spec->action : "act";
	if ((spec->setup & CLI_SIGN) != 0) {
		LSEC_TRY(sign(c, spec, as, action));
		as = c->who.name;
	}
	if ((spec->setup & CLI_STATION) != 0) {
		LSEC_TRY(lsec_station_setup_open(&c->setup, cli_get(&c->a, "line"), as, spec->roles,
						 action, err));
		c->person = lsec_station_setup_person(c->setup);
		if (cli_get(&c->a, "witness") != NULL) {
			LSEC_TRY(lsec_station_setup_witness(c->setup, cli_get(&c->a, "witness"), err));
		}
		lsec_station_config *cfg = lsec_station_setup_config(c->setup);
		cfg->batch = (spec->setup & CLI_BATCH) != 0 || cli_flag(&c->a, "batch");
		/* run, build, line: the product a new unit is registered as (several on the line). */
		cfg->product = cli_get(&c->a, "product");
		if (!cfg->batch && isatty(STDIN_FILENO)) {
			cfg->confirm = confirm_tty;
			cfg->label_scan = scan_tty;
		}
		/* A witness signs in batch mode too: --batch confirms, it never signs. */
		cfg->witness_sign = witness_sign;
		cfg->witness_ctx = c;
		if ((spec->setup & CLI_NEED_CA) != 0) {
			LSEC_TRY(lsec_station_setup_unlock_ca(c->setup, err));
		}
		if ((spec->setup & CLI_SETUP_ONLY) == 0) {
			LSEC_TRY(lsec_station_open(&c->st, cfg, err));
		}
	} else if ((spec->setup & CLI_LINE) != 0) {
		/* A command offering --read-only reads an auditor's copy of the folder. */
		if (c->line != NULL) {
			/* Opened by sign(). */
		} else if (cli_flag(&c->a, "read-only")) {
			LSEC_TRY(lsec_line_open_read_only(&c->line, cli_get(&c->a, "line"), err));
		} else {
			LSEC_TRY(lsec_line_open(&c->line, cli_get(&c->a, "line"), err));
		}
		if ((spec->setup & (CLI_NO_ACTOR | CLI_SIGN)) == 0 &&
		    (spec->roles != 0 || as != NULL)) {
			LSEC_TRY(lsec_line_authorize(&c->who, c->line, as,
						     spec->roles != 0 ? spec->roles : CLI_ANYONE,
						     action, err));
			c->person = c->who.name;
		}
	}
out:
	return rc;
}

int cli_run(const cli_spec *spec, int argc, char **argv)
{
	cli_ctx c;
	memset(&c, 0, sizeof(c));
	c.err = (lsec_err)LSEC_ERR_INIT;
	int p = cli_parse(&c.a, spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = ctx_setup(&c, spec);
	if (rc == 0) {
		rc = spec->body(&c);
	}
	int status = c.status;
	if (rc < 0) {
		status = c.reported ? cli_exit_code(rc) : cli_fail(&c.err);
	}
	lsec_station_close(c.st);
	lsec_station_setup_close(c.setup);
	lsec_line_close(c.line);
	return status;
}

int cli_exec(const cli_cmd *c, int argc, char **argv)
{
	if (c->sub != NULL) {
		return cli_dispatch(c->name, c->sub, argc, argv);
	}
	return cli_run(c->spec, argc, argv);
}

int cli_dispatch(const char *group, const cli_cmd *table, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_print_table(argc < 2 ? stderr : stdout, group, table);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (const cli_cmd *c = table; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0) {
			return cli_exec(c, argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "linesec: unknown command '%s %s'\n", group, argv[1]);
	cli_print_table(stderr, group, table);
	return CLI_EXIT_USAGE;
}

void cli_print_table(FILE *f, const char *group, const cli_cmd *table)
{
	fprintf(f, "usage: linesec %s%sCOMMAND [options]\n\ncommands:\n", group ? group : "",
		group ? " " : "");
	for (const cli_cmd *c = table; c->name != NULL; c++) {
		fprintf(f, "  %-18s %s\n", c->name, c->summary);
	}
	fprintf(f, "\nRun 'linesec %s%sCOMMAND --help' for a command's options.\n",
		group ? group : "", group ? " " : "");
}

int cli_unlock_ca(cli_ctx *c)
{
	return lsec_station_setup_unlock_ca(c->setup, &c->err);
}

int cli_print_json(json_t *json, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(json != NULL, LSEC_E_NOMEM, "cannot print: out of memory");
	LSEC_TRY(lsec_json_print(stdout, json, err));
out:
	json_decref(json);
	return rc;
}

void cli_station_print_result(const lsec_station_result *res, int rc, const lsec_err *err)
{
	if (rc == 0) {
		printf("unit %s: %s\n", cli_esc(res->serial),
		       res->shipped ? "shipped" : lsec_unit_state_name(res->state));
		return;
	}
	fprintf(stderr, "linesec: %s\n", cli_esc(err->msg));
	if (res->message[0] == '\0') {
		return;
	}
	/* The heading names what is known: the SOP and its step, or the step alone (the ship gate). */
	if (res->sop[0] != '\0' && res->step[0] != '\0') {
		fprintf(stderr, "\nWhat to do next (SOP %s, step %s):\n  %s\n", cli_esc(res->sop),
			cli_esc(res->step), cli_esc(res->message));
	} else {
		fprintf(stderr, "\nWhat to do next (%s):\n  %s\n",
			res->step[0] != '\0' ? cli_esc(res->step) : "this unit", cli_esc(res->message));
	}
}

void cli_station_checkpoint(lsec_station *st)
{
	lsec_err e = LSEC_ERR_INIT;
	if (st != NULL && lsec_station_checkpoint(st, &e) < 0) {
		fprintf(stderr, "linesec: warning: no checkpoint signed: %s\n", cli_esc(e.msg));
	}
}

int cli_exit_code(int code)
{
	if (code >= 0) {
		return CLI_EXIT_OK;
	}
	/* Image verification failures each have their own status: 20 + offset. */
	if (code <= -100 && code > -150) {
		return 20 + (-code - 100);
	}
	switch (code) {
	case LSEC_E_USAGE:
		return 2;
	case LSEC_E_IO:
		return 3;
	case LSEC_E_PARSE:
		return 4;
	case LSEC_E_CRYPTO:
		return 5;
	case LSEC_E_NOTFOUND:
		return 6;
	case LSEC_E_EXISTS:
		return 7;
	case LSEC_E_POLICY:
		return 8;
	case LSEC_E_STATE:
		return 9;
	case LSEC_E_AUTH:
		return 10;
	case LSEC_E_DEVICE:
		return 11;
	case LSEC_E_LIMIT:
		return 12;
	default:
		break;
	}
	switch (lsec_code_category(code)) {
	case LSEC_CAT_IO:
		return 3;
	case LSEC_CAT_PARSE:
		return 4;
	case LSEC_CAT_CRYPTO:
		return 5;
	case LSEC_CAT_POLICY:
		return 8;
	case LSEC_CAT_STATE:
		return 9;
	case LSEC_CAT_USAGE:
		return 2;
	default:
		return CLI_EXIT_FAILURE;
	}
}

const char *cli_esc(const char *s)
{
	static _Thread_local char ring[8][4 * 512 + 1];
	static _Thread_local unsigned next;
	char *out = ring[next++ % 8];
	return lsec_text_escape(out, sizeof(ring[0]), s, s != NULL ? strlen(s) : 0);
}

int cli_fail(const lsec_err *err)
{
	fprintf(stderr, "linesec: %s\n", err->msg[0] ? cli_esc(err->msg) : lsec_code_name(err->code));
	return cli_exit_code(err->code);
}
