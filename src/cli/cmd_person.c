/*
 * cmd_person.c - `linesec person add|list|disable`: the line's people, by a
 * logged-in security officer. Parses, calls liblinesec (linesec/line.h) and
 * prints.
 */
#include "cli.h"

#include "linesec/line.h"

#include <jansson.h>

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

static const cli_opt add_opts[] = {
	CLI_REQUIRED("role", "ROLE", "operator, supervisor, security-officer or auditor"),
	CLI_OPT_END,
};

static int add_body(cli_ctx *c)
{
	int rc = 0;
	lsec_secret *pw = NULL;
	lsec_role role = LSEC_ROLE_OPERATOR;
	LSEC_TRY(lsec_role_parse(&role, cli_get(&c->a, "role"), &c->err));
	LSEC_TRY(cli_read_password(&pw, "LINESEC_NEW_PASSWORD", "Password of the new person: ", true,
				   &c->err));
	LSEC_TRY(lsec_line_person_add(c->line, &c->who, c->a.args[0], role, pw, &c->err));
	printf("added %s (%s)\n", c->a.args[0], lsec_role_name(role));
out:
	lsec_secret_free(pw);
	return rc;
}

static const cli_spec add_spec = {
	.usage = "person add [--line DIR] [--as NAME] --role ROLE NAME",
	.summary = "add a person to the line (security officer only)",
	.opts = add_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "The new person's password is read from the terminal (twice); scripts and tests "
		   "may\nset LINESEC_NEW_PASSWORD instead. Passwords are stored as Argon2id hashes.",
	.body = add_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "add a person",
};

static const cli_opt list_opts[] = {
	CLI_OPT_JSON("the people"),
	CLI_OPT_END,
};

static int list_body(cli_ctx *c)
{
	int rc = 0;
	lsec_store_person *people = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	LSEC_TRY(lsec_store_person_list(&people, &n, lsec_line_store(c->line), &c->err));
	if (cli_flag(&c->a, "json")) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:s}", "name", people[i].name,
							     "role", lsec_role_name(people[i].role),
							     "disabled", people[i].disabled, "created",
							     people[i].created));
		}
		LSEC_TRY(cli_print_json(arr, &c->err));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%-24s %-17s %s%s\n", cli_esc(people[i].name), lsec_role_name(people[i].role),
		       cli_esc(people[i].created), people[i].disabled ? "  disabled" : "");
	}
out:
	lsec_free(people);
	return rc;
}

static const cli_spec list_spec = {
	.usage = "person list [--line DIR] [--as NAME] [--json]",
	.summary = "list the line's people and roles (security officer or auditor)",
	.opts = list_opts,
	.body = list_body,
	.setup = CLI_LINE,
	.roles = OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR),
	.action = "list people",
};

static int disable_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_line_person_disable(c->line, &c->who, c->a.args[0], &c->err));
	printf("disabled %s\n", c->a.args[0]);
out:
	return rc;
}

static const cli_spec disable_spec = {
	.usage = "person disable [--line DIR] [--as NAME] NAME",
	.summary = "disable a person and end their sessions (security officer only)",
	.min_args = 1,
	.max_args = 1,
	.body = disable_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "disable a person",
};

const cli_cmd cli_person_cmds[] = {
	{"add", &add_spec, NULL, "add a person with a role (security officer only)"},
	{"list", &list_spec, NULL, "list people and roles"},
	{"disable", &disable_spec, NULL, "disable a person and end their sessions"},
	{NULL, NULL, NULL, NULL},
};
