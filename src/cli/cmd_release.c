/*
 * cmd_release.c - `linesec release submit|approve|list|revoke`: firmware
 * releases, approved by a second security officer after every image check.
 */
#include "cli.h"

#include <string.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

static const cli_opt submit_opts[] = {
	CLI_REQUIRED("product", "P", "the product the image is a release of"),
	CLI_OPT("quota", "N", "production quota: the line stops after N units of this release"),
	CLI_OPT_END,
};

static int submit_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	int64_t id = 0;
	uint64_t quota = 0;
	LSEC_TRY(cli_get_u64(&c->a, "quota", UINT32_MAX, &quota, err));
	LSEC_TRY(lsec_station_release_submit(&id, c->st, c->a.args[0], cli_get(&c->a, "product"),
					     quota, c->person, err));
	printf("release %lld submitted by %s; it needs the approval of a second security officer\n",
	       (long long)id, c->person);
out:
	return rc;
}

static const cli_spec submit_spec = {
	.usage = "release submit IMG --product P [--quota N]",
	.summary = "submit a signed firmware image as a release (security officer)",
	.opts = submit_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "The submitter signs (their password is read from the terminal; scripts and "
		   "tests may set\nLINESEC_PASSWORD): the first of the release's two signatures. A "
		   "second security officer\napproves it with 'linesec release approve ID'.",
	.body = submit_body,
	.setup = CLI_STATION | CLI_BATCH | CLI_SIGN,
	.roles = OFFICER,
	.action = "submit a release",
};

static int approve_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_station_release_approve(c->st, c->a.args[0], c->person, &c->err));
	printf("release %s approved by %s\n", c->a.args[0], c->person);
out:
	return rc;
}

static const cli_spec approve_spec = {
	.usage = "release approve ID",
	.summary = "approve a release after every image check (a second security officer)",
	.min_args = 1,
	.max_args = 1,
	.details = "ID is the number 'release list' shows, or PRODUCT@VERSION. Refused: the "
		   "submitter, an image signed with a published (denied) key, a debug build, another "
		   "product, a lower security counter, a signature that does not verify under the "
		   "product's firmware key. The approver signs:\ntheir password is read from the terminal (scripts and tests may set LINESEC_PASSWORD).",
	.body = approve_body,
	.setup = CLI_STATION | CLI_BATCH | CLI_SIGN,
	.roles = OFFICER,
	.action = "approve a release",
};

static int revoke_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_station_release_revoke(c->st, c->a.args[0], c->person, &c->err));
	printf("release %s revoked by %s\n", c->a.args[0], c->person);
out:
	return rc;
}

static const cli_spec revoke_spec = {
	.usage = "release revoke ID",
	.summary = "revoke a release: it is never flashed again (security officer)",
	.min_args = 1,
	.max_args = 1,
	.body = revoke_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = OFFICER,
	.action = "revoke a release",
};

static const cli_opt list_opts[] = {
	CLI_OPT_JSON("the releases"),
	CLI_OPT_END,
};

static int list_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_station_release *l = NULL;
	size_t n = 0;
	json_t *j = NULL;
	LSEC_TRY(lsec_station_release_list(&l, &n, c->st, err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_release_list_json(&j, l, n, err));
		LSEC_TRY(lsec_json_print(stdout, j, err));
		goto out;
	}
	printf("%-4s %-16s %-12s %-10s %-22s %s\n", "ID", "PRODUCT", "VERSION", "STATE",
	       "APPROVERS", "SHA-256");
	for (size_t i = 0; i < n; i++) {
		const lsec_store_approvable *r = &l[i].row;
		char appr[160] = "";
		size_t k = 0;
		for (unsigned m = 0; m < 2; m++) {
			if (r->approvers[m][0] == '\0') {
				continue;
			}
			size_t used = strlen(appr);
			snprintf(appr + used, sizeof(appr) - used, "%s%s", k++ ? "," : "",
				 r->approvers[m]);
		}
		printf("%-4lld %-16s %-12s %-10s %-22s %.16s\n", (long long)r->id, r->name,
		       r->version, lsec_station_release_state_name(l[i].state), appr[0] ? appr : "-",
		       r->digest);
	}
out:
	json_decref(j);
	lsec_free(l);
	return rc;
}

static const cli_spec list_spec = {
	.usage = "release list [--json]",
	.summary = "list the releases and their approvals",
	.opts = list_opts,
	.body = list_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = CLI_ANYONE,
	.action = "list releases",
};

const cli_cmd cli_release_cmds[] = {
	{"submit", &submit_spec, NULL, "submit a signed image as a release of a product"},
	{"approve", &approve_spec, NULL, "approve a release (a second security officer)"},
	{"list", &list_spec, NULL, "list releases"},
	{"revoke", &revoke_spec, NULL, "revoke a release"},
	{NULL, NULL, NULL, NULL},
};
