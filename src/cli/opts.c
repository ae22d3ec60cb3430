/* Option parsing and --help rendering from each command's option table. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cli_print_help(FILE *f, const cli_spec *spec)
{
	fprintf(f, "usage: linesec %s\n\n%s\n", spec->usage, spec->summary);
	if (spec->opts != NULL && spec->opts[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		for (const cli_opt *o = spec->opts; o->name != NULL; o++) {
			char left[64];
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
			fprintf(f, "  %-28s %s\n", left, o->help);
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
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		int idx = -1;
		for (int k = 0; spec->opts != NULL && spec->opts[k].name != NULL; k++) {
			if (strlen(spec->opts[k].name) == nlen &&
			    strncmp(spec->opts[k].name, name, nlen) == 0) {
				idx = k;
				break;
			}
		}
		if (idx < 0 || idx >= CLI_MAX_OPTS) {
			return usage_error(spec, "unknown option", s);
		}
		const cli_opt *o = &spec->opts[idx];
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
	if (a->nargs < spec->min_args) {
		return usage_error(spec, a->nargs == 0 ? "missing arguments" : "too few arguments", NULL);
	}
	if (spec->max_args >= 0 && a->nargs > spec->max_args) {
		return usage_error(spec, "unexpected argument", a->args[spec->max_args]);
	}
	return 0;
}

static int opt_index(const cli_args *a, const char *name)
{
	for (int k = 0; a->spec->opts != NULL && a->spec->opts[k].name != NULL; k++) {
		if (strcmp(a->spec->opts[k].name, name) == 0) {
			return k;
		}
	}
	return -1;
}

const char *cli_get(const cli_args *a, const char *name)
{
	int k = opt_index(a, name);
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

int cli_dispatch(const char *group, const cli_cmd *table, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_print_table(argc < 2 ? stderr : stdout, group, table);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (const cli_cmd *c = table; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0) {
			return c->fn(argc - 1, argv + 1);
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

int cli_fail(const lsec_err *err)
{
	fprintf(stderr, "linesec: %s\n", err->msg[0] ? err->msg : lsec_code_name(err->code));
	return cli_exit_code(err->code);
}
