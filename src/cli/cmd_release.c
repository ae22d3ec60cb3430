/*
 * cmd_release.c - `linesec release submit|approve|list|revoke`: firmware
 * releases, approved by a second security officer after every image check.
 */
#include "cli.h"

#include <string.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define OPT_LINE {"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"},\
	{"as", "NAME", "the logged-in person acting (when several are logged in)"}

typedef int (*release_body)(const cli_args *a, lsec_station *st, const char *person,
			    lsec_err *err);

/* Opens the station as the logged-in person holding roles and runs body. */
static int with_station(const cli_spec *spec, unsigned roles, const char *action,
			release_body body, int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	int p = cli_parse(&a, spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = cli_station_open(&setup, &a, roles, action, true, false, &err);
	if (rc == 0) {
		rc = lsec_station_open(&st, lsec_station_setup_config(setup), &err);
	}
	if (rc == 0) {
		rc = body(&a, st, lsec_station_setup_person(setup), &err);
	}
	int status = rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	return status;
}

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)
#define ANYONE ((1u << LSEC_ROLE_COUNT) - 1u)

static const cli_opt submit_opts[] = {
	{"product", "P", "the product the image is a release of (required)"},
	{"quota", "N", "production quota: the line stops after N units of this release"},
	OPT_LINE,
	{NULL, NULL, NULL},
};
static const cli_spec submit_spec = {
	"release submit IMG --product P [--quota N]",
	"submit a signed firmware image as a release (security officer)", submit_opts, 1, 1,
	"A second security officer approves it with 'linesec release approve ID'.",
};

static int submit_body(const cli_args *a, lsec_station *st, const char *person, lsec_err *err)
{
	int rc = 0;
	int64_t id = 0;
	uint64_t quota = 0;
	LSEC_ENSURE(cli_get(a, "product") != NULL, LSEC_E_USAGE, "--product P is required");
	LSEC_TRY(cli_get_u64(a, "quota", UINT32_MAX, &quota, err));
	LSEC_TRY(lsec_station_release_submit(&id, st, a->args[0], cli_get(a, "product"), quota,
					     person, err));
	printf("release %lld submitted by %s; it needs the approval of a second security officer\n",
	       (long long)id, person);
out:
	return rc;
}

static int cmd_submit(int argc, char **argv)
{
	return with_station(&submit_spec, OFFICER, "submit a release", submit_body, argc, argv);
}

static const cli_opt id_opts[] = {OPT_LINE, {NULL, NULL, NULL}};
static const cli_spec approve_spec = {
	"release approve ID", "approve a release after every image check (a second security officer)",
	id_opts, 1, 1,
	"ID is the number 'release list' shows, or PRODUCT@VERSION. Refused: the submitter, an "
	"image signed with a published sample key, a debug build, another product, a lower "
	"security counter, a signature that does not verify under the product's firmware key.",
};

static int approve_body(const cli_args *a, lsec_station *st, const char *person, lsec_err *err)
{
	int rc = lsec_station_release_approve(st, a->args[0], person, err);
	if (rc == 0) {
		printf("release %s approved by %s\n", a->args[0], person);
	}
	return rc;
}

static int cmd_approve(int argc, char **argv)
{
	return with_station(&approve_spec, OFFICER, "approve a release", approve_body, argc, argv);
}

static const cli_spec revoke_spec = {
	"release revoke ID", "revoke a release: it is never flashed again (security officer)",
	id_opts, 1, 1, NULL,
};

static int revoke_body(const cli_args *a, lsec_station *st, const char *person, lsec_err *err)
{
	int rc = lsec_station_release_revoke(st, a->args[0], person, err);
	if (rc == 0) {
		printf("release %s revoked by %s\n", a->args[0], person);
	}
	return rc;
}

static int cmd_revoke(int argc, char **argv)
{
	return with_station(&revoke_spec, OFFICER, "revoke a release", revoke_body, argc, argv);
}

static const cli_opt list_opts[] = {
	{"json", NULL, "print canonical JSON"},
	OPT_LINE,
	{NULL, NULL, NULL},
};
static const cli_spec list_spec = {
	"release list [--json]", "list the releases and their approvals", list_opts, 0, 0, NULL,
};

static int list_body(const cli_args *a, lsec_station *st, const char *person, lsec_err *err)
{
	int rc = 0;
	json_t *l = NULL;
	size_t i;
	json_t *r;
	(void)person;
	LSEC_TRY(lsec_station_release_list(&l, st, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(lsec_json_print(stdout, l, err));
		goto out;
	}
	printf("%-4s %-16s %-12s %-10s %-22s %s\n", "ID", "PRODUCT", "VERSION", "STATE",
	       "APPROVERS", "SHA-256");
	json_array_foreach(l, i, r)
	{
		char appr[160] = "";
		size_t k;
		json_t *p;
		json_array_foreach(json_object_get(r, "approvers"), k, p)
		{
			size_t used = strlen(appr);
			snprintf(appr + used, sizeof(appr) - used, "%s%s", k ? "," : "",
				 json_string_value(p));
		}
		printf("%-4lld %-16s %-12s %-10s %-22s %.16s\n",
		       (long long)json_integer_value(json_object_get(r, "id")),
		       json_string_value(json_object_get(r, "product")),
		       json_string_value(json_object_get(r, "version")),
		       json_string_value(json_object_get(r, "state")), appr[0] ? appr : "-",
		       json_string_value(json_object_get(r, "digest")));
	}
out:
	json_decref(l);
	return rc;
}

static int cmd_list(int argc, char **argv)
{
	return with_station(&list_spec, ANYONE, "list releases", list_body, argc, argv);
}

static const cli_cmd release_cmds[] = {
	{"submit", cmd_submit, "submit a signed image as a release of a product"},
	{"approve", cmd_approve, "approve a release (a second security officer)"},
	{"list", cmd_list, "list releases"},
	{"revoke", cmd_revoke, "revoke a release"},
	{NULL, NULL, NULL},
};

int cmd_release(int argc, char **argv)
{
	return cli_dispatch("release", release_cmds, argc, argv);
}
