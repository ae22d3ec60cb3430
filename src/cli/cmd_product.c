/*
 * cmd_product.c - `linesec product key submit|approve|show`: a product's
 * firmware verification key, registered and rotated by two security
 * officers.
 */
#include "cli.h"

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

static int submit_body(cli_ctx *c)
{
	int rc = 0;
	char ver[LSEC_STORE_NAME_MAX + 1];
	LSEC_TRY(lsec_station_product_key_submit(ver, c->st, c->a.args[0], c->a.args[1], c->person,
						 &c->err));
	printf("product key %s@%s submitted by %s; it needs the approval of a second "
	       "security "
	       "officer\n",
	       c->a.args[0], ver, c->person);
out:
	return rc;
}

static const cli_spec submit_spec = {
    .usage = "product key submit PRODUCT PUB.pem",
    .summary = "submit a product's firmware verification key (security officer)",
    .min_args = 2,
    .max_args = 2,
    .details = "The first key of a product is version 1; a rotation submits "
	       "the next. A second "
	       "security officer approves it with 'linesec product key approve "
	       "PRODUCT@VERSION'. "
	       "Refused: a published key of the deny list.",
    .body = submit_body,
    .setup = CLI_STATION | CLI_BATCH | CLI_SIGN,
    .roles = OFFICER,
    .action = "submit a product key",
};

static int approve_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_station_product_key_approve(c->st, c->a.args[0], c->person, &c->err));
	printf("product key %s approved by %s\n", c->a.args[0], c->person);
out:
	return rc;
}

static const cli_spec approve_spec = {
    .usage = "product key approve PRODUCT@VERSION",
    .summary = "approve a product key (a second security officer)",
    .min_args = 1,
    .max_args = 1,
    .details = "Refused: its submitter, a published key of the deny list. Once "
	       "approved it is "
	       "the key the product's releases are signed with and whose "
	       "digest secure boot "
	       "fuses.",
    .body = approve_body,
    .setup = CLI_STATION | CLI_BATCH | CLI_SIGN,
    .roles = OFFICER,
    .action = "approve a product key",
};

static const cli_opt show_opts[] = {
    CLI_OPT_JSON("the product keys"),
    CLI_OPT_END,
};

static int show_body(cli_ctx *c)
{
	int rc = 0;
	json_t *j = NULL, *o;
	size_t i;
	LSEC_TRY(lsec_station_product_key_show(&j, c->st, c->a.nargs > 0 ? c->a.args[0] : NULL,
					       &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
		goto out;
	}
	printf("%-16s %-8s %-11s %-12s %-20s %s\n", "PRODUCT", "VERSION", "STATE", "SUBMITTED-BY",
	       "APPROVERS", "KEY SHA-256");
	json_array_foreach (j, i, o) {
		const json_t *ap = json_object_get(o, "approvers");
		char appr[2 * LSEC_STORE_NAME_MAX + 2];
		snprintf(appr, sizeof(appr), "%s%s%s",
			 json_array_size(ap) > 0 ? json_string_value(json_array_get(ap, 0)) : "-",
			 json_array_size(ap) > 1 ? "," : "",
			 json_array_size(ap) > 1 ? json_string_value(json_array_get(ap, 1)) : "");
		printf("%-16s %-8s %-11s %-12s %-20s %s\n",
		       json_string_value(json_object_get(o, "product")),
		       json_string_value(json_object_get(o, "version")),
		       json_string_value(json_object_get(o, "state")),
		       json_string_value(json_object_get(o, "submitted-by")), appr,
		       json_string_value(json_object_get(o, LSEC_EV_KEY_SHA256)));
	}
out:
	json_decref(j);
	return rc;
}

static const cli_spec show_spec = {
    .usage = "product key show [PRODUCT] [--json]",
    .summary = "list the product keys, their approvals and which is active",
    .opts = show_opts,
    .max_args = 1,
    .body = show_body,
    .setup = CLI_STATION | CLI_BATCH,
    .roles = CLI_ANYONE,
    .action = "list product keys",
};

static const cli_cmd key_cmds[] = {
    {"submit", &submit_spec, NULL, "submit a product's firmware key (security officer)"},
    {"approve", &approve_spec, NULL, "approve a product key (a second security officer)"},
    {"show", &show_spec, NULL, "list the product keys"},
    {NULL, NULL, NULL, NULL},
};

const cli_cmd cli_product_cmds[] = {
    {"key", NULL, key_cmds, "a product's firmware verification key (two security officers)"},
    {NULL, NULL, NULL, NULL},
};
