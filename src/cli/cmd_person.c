/*
 * cmd_person.c - `linesec person add|list|disable`: the line's people, by a
 * logged-in security officer. Parses, calls liblinesec (linesec/line.h) and
 * prints.
 */
#include "cli.h"

#include "linesec/line.h"

#include <jansson.h>

#define PERSON_COMMON_OPTS                                                                   \
	{"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"},  \
	{                                                                                    \
		"as", "NAME", "who acts, when several people are logged in on this station"     \
	}

static const cli_opt add_opts[] = {
	{"role", "ROLE", "operator, supervisor, security-officer or auditor (required)"},
	PERSON_COMMON_OPTS,
	{NULL, NULL, NULL},
};
static const cli_spec add_spec = {
	"person add [--line DIR] [--as NAME] --role ROLE NAME",
	"add a person to the line (security officer only)",
	add_opts,
	1,
	1,
	"The new person's password is read from the terminal (twice); scripts and tests may\n"
	"set LINESEC_NEW_PASSWORD instead. Passwords are stored as Argon2id hashes.",
};

/* Opens the line and resolves the acting person for roles. */
static int open_as(lsec_line **line, lsec_line_actor *who, const cli_args *a, unsigned roles,
		   const char *action, lsec_err *err)
{
	int rc = lsec_line_open(line, cli_get(a, "line"), err);
	if (rc == 0) {
		rc = lsec_line_authorize(who, *line, cli_get(a, "as"), roles, action, err);
	}
	return rc;
}

static int cmd_add(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &add_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_line_actor who;
	lsec_secret *pw = NULL;
	lsec_role role = LSEC_ROLE_OPERATOR;
	int rc = 0;
	if (cli_get(&a, "role") == NULL) {
		rc = lsec_err_set(&err, LSEC_E_USAGE, __FILE__, __LINE__,
				  "cannot add person '%s': --role is required", a.args[0]);
	}
	if (rc == 0) {
		rc = lsec_role_parse(&role, cli_get(&a, "role"), &err);
	}
	if (rc == 0) {
		rc = open_as(&line, &who, &a, LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "add a person",
			     &err);
	}
	if (rc == 0) {
		rc = cli_read_password(&pw, "LINESEC_NEW_PASSWORD", "Password of the new person: ",
				       true, &err);
	}
	if (rc == 0) {
		rc = lsec_line_person_add(line, &who, a.args[0], role, pw, &err);
	}
	if (rc == 0) {
		printf("added %s (%s)\n", a.args[0], lsec_role_name(role));
	}
	lsec_secret_free(pw);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt list_opts[] = {
	{"json", NULL, "print canonical JSON"},
	PERSON_COMMON_OPTS,
	{NULL, NULL, NULL},
};
static const cli_spec list_spec = {
	"person list [--line DIR] [--as NAME] [--json]",
	"list the line's people and roles (security officer or auditor)",
	list_opts,
	0,
	0,
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
	lsec_line_actor who;
	lsec_store_person *people = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	int rc = open_as(&line, &who, &a,
			 LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER) | LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR),
			 "list people", &err);
	if (rc == 0) {
		rc = lsec_store_person_list(&people, &n, lsec_line_store(line), &err);
	}
	if (rc == 0 && cli_flag(&a, "json")) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:s}", "name", people[i].name,
							     "role", lsec_role_name(people[i].role),
							     "disabled", people[i].disabled, "created",
							     people[i].created));
		}
		rc = arr != NULL ? lsec_json_print(stdout, arr, &err)
				 : lsec_err_set(&err, LSEC_E_NOMEM, __FILE__, __LINE__, "out of memory");
	} else if (rc == 0) {
		for (size_t i = 0; i < n; i++) {
			printf("%-24s %-17s %s%s\n", people[i].name, lsec_role_name(people[i].role),
			       people[i].created, people[i].disabled ? "  disabled" : "");
		}
	}
	json_decref(arr);
	lsec_free(people);
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_opt disable_opts[] = {
	PERSON_COMMON_OPTS,
	{NULL, NULL, NULL},
};
static const cli_spec disable_spec = {
	"person disable [--line DIR] [--as NAME] NAME",
	"disable a person and end their sessions (security officer only)",
	disable_opts,
	1,
	1,
	NULL,
};

static int cmd_disable(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &disable_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = NULL;
	lsec_line_actor who;
	int rc = open_as(&line, &who, &a, LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER),
			 "disable a person", &err);
	if (rc == 0) {
		rc = lsec_line_person_disable(line, &who, a.args[0], &err);
	}
	if (rc == 0) {
		printf("disabled %s\n", a.args[0]);
	}
	lsec_line_close(line);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static const cli_cmd person_cmds[] = {
	{"add", cmd_add, "add a person with a role (security officer only)"},
	{"list", cmd_list, "list people and roles"},
	{"disable", cmd_disable, "disable a person and end their sessions"},
	{NULL, NULL, NULL},
};

int cmd_person(int argc, char **argv)
{
	return cli_dispatch("person", person_cmds, argc, argv);
}
