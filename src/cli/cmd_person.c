/*
 * cmd_person.c - `linesec person add|disable|role|reset|unlock|list`,
 * `linesec change list|approve|reject` and `linesec enrol`: the line's
 * people. Every change of trust is requested by one security officer and
 * applied only when a second one approves it (docs/line.md). Parses, calls
 * liblinesec (linesec/line.h) and prints.
 */
#include "cli.h"

#include "linesec/line.h"
#include "linesec/station.h"

#include <jansson.h>
#include <stdlib.h>

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

/* Requests kind about the person args[0] with payload {name[, role]}; prints the change. */
static int request(cli_ctx *c, const char *kind, const char *role)
{
	int rc = 0;
	lsec_err *err = &c->err;
	int64_t id = 0;
	char half[LSEC_LINE_ENROL_HALF + 1] = "";
	json_t *payload = json_pack("{s:s}", "name", c->a.args[0]);
	LSEC_ENSURE(payload != NULL, LSEC_E_NOMEM, "out of memory");
	if (role != NULL) {
		LSEC_ENSURE(json_object_set_new(payload, "role", json_string(role)) == 0,
			    LSEC_E_NOMEM, "out of memory");
	}
	LSEC_TRY(lsec_line_change_request(&id, half, sizeof(half), c->line, &c->who, kind,
					  c->a.args[0], payload, err));
	printf("change %lld requested: %s of %s; a second security officer approves it with "
	       "'linesec change approve %lld'\n",
	       (long long)id, kind, c->a.args[0], (long long)id);
	if (half[0] != '\0') {
		printf("enrolment code, first half (give it to %s only): %s\n", c->a.args[0], half);
	}
out:
	lsec_wipe(half, sizeof(half));
	json_decref(payload);
	return rc;
}

static const cli_opt add_opts[] = {
	CLI_REQUIRED("role", "ROLE", "operator, supervisor, security-officer or auditor"),
	CLI_OPT_END,
};

static int add_body(cli_ctx *c)
{
	return request(c, LSEC_LINE_CHANGE_PERSON_ADD, cli_get(&c->a, "role"));
}

static const cli_spec add_spec = {
	.usage = "person add [--line DIR] [--as NAME] --role ROLE NAME",
	.summary = "request a new person (a second security officer approves)",
	.opts = add_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "The requesting officer signs (LINESEC_PASSWORD for scripts and tests) and is "
		   "shown the first\nhalf of the new person's enrolment code; the approving officer "
		   "is shown the second.\nThe new person sets their own password with 'linesec enrol "
		   "NAME'.",
	.body = add_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request a new person",
};

static int disable_body(cli_ctx *c)
{
	return request(c, LSEC_LINE_CHANGE_PERSON_DISABLE, NULL);
}

static const cli_spec disable_spec = {
	.usage = "person disable [--line DIR] [--as NAME] NAME",
	.summary = "request to disable a person and end their sessions (two security officers)",
	.min_args = 1,
	.max_args = 1,
	.body = disable_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request to disable a person",
};

static const cli_opt role_opts[] = {
	CLI_REQUIRED("role", "ROLE", "the new role"),
	CLI_OPT_END,
};

static int role_body(cli_ctx *c)
{
	return request(c, LSEC_LINE_CHANGE_ROLE, cli_get(&c->a, "role"));
}

static const cli_spec role_spec = {
	.usage = "person role [--line DIR] [--as NAME] --role ROLE NAME",
	.summary = "request a person's role change (two security officers)",
	.opts = role_opts,
	.min_args = 1,
	.max_args = 1,
	.body = role_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request a role change",
};

static int reset_body(cli_ctx *c)
{
	return request(c, LSEC_LINE_CHANGE_PASSWORD_RESET, NULL);
}

static const cli_spec reset_spec = {
	.usage = "person reset [--line DIR] [--as NAME] NAME",
	.summary = "request a password reset of someone else (two security officers; they enrol "
		   "again)",
	.min_args = 1,
	.max_args = 1,
	.body = reset_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request a password reset",
};

static int unlock_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_line_person_unlock(c->line, &c->who, c->a.args[0], &c->err));
	printf("unlocked %s\n", c->a.args[0]);
out:
	return rc;
}

static const cli_spec unlock_spec = {
	.usage = "person unlock [--line DIR] [--as NAME] NAME",
	.summary = "lift the lock a person got after refused passwords (security officer, signs)",
	.min_args = 1,
	.max_args = 1,
	.body = unlock_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "unlock a person",
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

const cli_cmd cli_person_cmds[] = {
	{"add", &add_spec, NULL, "request a new person with a role (two security officers)"},
	{"disable", &disable_spec, NULL, "request to disable a person (two security officers)"},
	{"role", &role_spec, NULL, "request a role change (two security officers)"},
	{"reset", &reset_spec, NULL, "request a password reset (two security officers)"},
	{"unlock", &unlock_spec, NULL, "lift a lock after refused passwords"},
	{"list", &list_spec, NULL, "list people and roles"},
	{NULL, NULL, NULL, NULL},
};

/* ---- change list|approve|reject ------------------------------------------------ */

static const cli_opt clist_opts[] = {
	CLI_FLAG("all", "also the approved and rejected ones"),
	CLI_OPT_JSON("the changes"),
	CLI_OPT_END,
};

static int clist_body(cli_ctx *c)
{
	int rc = 0;
	lsec_store_change *ch = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	LSEC_TRY(lsec_store_change_list(&ch, &n, lsec_line_store(c->line), !cli_flag(&c->a, "all"),
					&c->err));
	if (cli_flag(&c->a, "json")) {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_array_append_new(
				arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)ch[i].id,
					       "kind", ch[i].kind, "subject", ch[i].subject, "payload",
					       ch[i].payload, "requested_by", ch[i].requested_by,
					       "state", ch[i].state, "decided_by", ch[i].decided_by));
		}
		LSEC_TRY(cli_print_json(arr, &c->err));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%-5lld %-15s %-20s %-9s by %s%s%s  %s\n", (long long)ch[i].id, ch[i].kind,
		       ch[i].subject, ch[i].state, ch[i].requested_by, ch[i].decided_by[0] ? ", " : "",
		       ch[i].decided_by, ch[i].payload);
	}
out:
	lsec_free(ch);
	return rc;
}

static const cli_spec clist_spec = {
	.usage = "change list [--line DIR] [--as NAME] [--all] [--json]",
	.summary = "list the changes of trust waiting for a second security officer",
	.opts = clist_opts,
	.body = clist_body,
	.setup = CLI_LINE,
	.roles = OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR),
	.action = "list changes",
};

int cli_change_id(int64_t *out, const char *text, lsec_err *err)
{
	char *end = NULL;
	long long v = strtoll(text, &end, 10);
	if (end == text || *end != '\0' || v <= 0) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
				    "change id '%s' is not a positive number (see 'linesec change "
				    "list')",
				    text);
	}
	*out = v;
	return 0;
}

static int approve_body(cli_ctx *c)
{
	int rc = 0;
	int64_t id = 0;
	lsec_store_change ch;
	char half[LSEC_LINE_ENROL_HALF + 1] = "";
	LSEC_TRY(cli_change_id(&id, c->a.args[0], &c->err));
	/* The line's own kinds apply themselves; a deny-list addition or a SOP withdrawal is the
	 * station's. */
	LSEC_TRY(lsec_line_change_approve(&ch, half, sizeof(half), c->line, &c->who, id,
					  lsec_station_change_apply, NULL, &c->err));
	printf("change %lld approved by %s: %s of %s (requested by %s)\n", (long long)id,
	       c->who.name, ch.kind, ch.subject, ch.requested_by);
	if (half[0] != '\0') {
		printf("enrolment code, second half (give it to %s only): %s\n", ch.subject, half);
		printf("%s sets their password with 'linesec enrol %s' and both halves\n", ch.subject,
		       ch.subject);
	}
out:
	lsec_wipe(half, sizeof(half));
	return rc;
}

static const cli_spec approve_spec = {
	.usage = "change approve [--line DIR] [--as NAME] ID",
	.summary = "approve and apply a change (a second, distinct security officer; signs)",
	.min_args = 1,
	.max_args = 1,
	.details = "The approver signs: their password is read from the terminal (scripts and "
		   "tests may set\nLINESEC_PASSWORD). The requester and the person the change is "
		   "about cannot approve it.",
	.body = approve_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "approve a change",
};

static int reject_body(cli_ctx *c)
{
	int rc = 0;
	int64_t id = 0;
	LSEC_TRY(cli_change_id(&id, c->a.args[0], &c->err));
	LSEC_TRY(lsec_line_change_reject(c->line, &c->who, id, &c->err));
	printf("change %lld rejected by %s\n", (long long)id, c->who.name);
out:
	return rc;
}

static const cli_spec reject_spec = {
	.usage = "change reject [--line DIR] [--as NAME] ID",
	.summary = "reject a pending change (a security officer; signs)",
	.min_args = 1,
	.max_args = 1,
	.body = reject_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "reject a change",
};

/* ---- station trust|distrust ------------------------------------------------------ */

static const cli_opt station_opts[] = {
	CLI_REQUIRED("pubkey", "FILE", "the station's public key (its station.pub)"),
	CLI_OPT_END,
};

/* Requests trusting (trust) or distrusting station args[0]; prints the change. */
static int station_request(cli_ctx *c, bool trust)
{
	int rc = 0;
	int64_t id = 0;
	LSEC_TRY(lsec_line_station_request(&id, c->line, &c->who, trust, c->a.args[0],
					   cli_get(&c->a, "pubkey"), &c->err));
	printf("change %lld requested: %s of station %s; a second security officer approves it "
	       "with 'linesec change approve %lld'\n",
	       (long long)id, trust ? "trust" : "distrust", c->a.args[0], (long long)id);
out:
	return rc;
}

static int trust_body(cli_ctx *c)
{
	return station_request(c, true);
}

static int distrust_body(cli_ctx *c)
{
	return station_request(c, false);
}

static const cli_spec trust_spec = {
	.usage = "station trust [--line DIR] [--as NAME] --pubkey FILE STATION",
	.summary = "request to trust another station's leaves (two security officers)",
	.opts = station_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Stations sharing a registry trust each other's leaves only through this "
		   "change: once a\nsecond officer approves it, a station.trust leaf names the "
		   "station and its key. No file\nin the line folder adds a trusted station.",
	.body = trust_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request to trust a station",
};

static const cli_spec distrust_spec = {
	.usage = "station distrust [--line DIR] [--as NAME] --pubkey FILE STATION",
	.summary = "request to stop trusting a station's leaves from now on (two security "
		   "officers)",
	.opts = station_opts,
	.min_args = 1,
	.max_args = 1,
	.body = distrust_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request to distrust a station",
};

static const cli_opt deny_opts[] = {
	CLI_REQUIRED("pubkey", "FILE", "the published key's public key (PEM)"),
	CLI_REQUIRED("origin", "TEXT", "where it was published (a URL of the file and commit)"),
	CLI_OPT_END,
};

static int deny_body(cli_ctx *c)
{
	int rc = 0;
	int64_t id = 0;
	LSEC_TRY(lsec_station_denied_key_request(&id, c->line, &c->who, c->a.args[0],
						 cli_get(&c->a, "pubkey"), cli_get(&c->a, "origin"),
						 &c->err));
	printf("change %lld requested: add key %s to the line's deny list; a second security "
	       "officer approves it with 'linesec change approve %lld'\n",
	       (long long)id, c->a.args[0], (long long)id);
out:
	return rc;
}

static const cli_spec deny_spec = {
	.usage = "station deny-key [--line DIR] [--as NAME] --pubkey FILE --origin TEXT NAME",
	.summary = "request to add a published key to the line's deny list (two security "
		   "officers)",
	.opts = deny_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Once a second officer approves it, release approval, flashing and product "
		   "key\nregistration refuse the key. The built-in list cannot be weakened and no "
		   "key is\never removed.",
	.body = deny_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request a deny-list addition",
};

const cli_cmd cli_station_cmds[] = {
	{"deny-key", &deny_spec, NULL, "request to add a key to the deny list (two officers)"},
	{"trust", &trust_spec, NULL, "request to trust another station (two officers)"},
	{"distrust", &distrust_spec, NULL, "request to stop trusting a station (two officers)"},
	{NULL, NULL, NULL, NULL},
};

const cli_cmd cli_change_cmds[] = {
	{"list", &clist_spec, NULL, "list pending changes of trust"},
	{"approve", &approve_spec, NULL, "approve and apply a change (a second officer)"},
	{"reject", &reject_spec, NULL, "reject a pending change"},
	{NULL, NULL, NULL, NULL},
};

/* ---- enrol ---------------------------------------------------------------------- */

static int enrol_body(cli_ctx *c)
{
	int rc = 0;
	lsec_secret *code = NULL, *pw = NULL;
	LSEC_TRY(cli_read_password(&code, "LINESEC_ENROL_CODE",
				   "Enrolment code (first half, then second half): ", false, &c->err));
	LSEC_TRY(cli_read_password(&pw, "LINESEC_NEW_PASSWORD", "Your new password: ", true,
				   &c->err));
	LSEC_TRY(lsec_line_enrol(c->line, c->a.args[0], code, pw, &c->err));
	printf("%s enrolled: log in with 'linesec login %s'\n", c->a.args[0], c->a.args[0]);
out:
	lsec_secret_free(code);
	lsec_secret_free(pw);
	return rc;
}

const cli_spec cli_enrol_spec = {
	.usage = "enrol [--line DIR] NAME",
	.summary = "a new person sets their own password with the two halves of their enrolment "
		   "code",
	.min_args = 1,
	.max_args = 1,
	.details = "The code (REQUESTER-HALF-APPROVER-HALF) and the new password are read from "
		   "the terminal;\nscripts and tests may set LINESEC_ENROL_CODE and "
		   "LINESEC_NEW_PASSWORD.",
	.body = enrol_body,
	.setup = CLI_LINE | CLI_NO_ACTOR,
};
