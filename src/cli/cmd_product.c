/*
 * cmd_product.c - `linesec product key submit|approve|show`: a product's
 * firmware verification key and its debug-authentication key, registered
 * and rotated by two security officers.
 */
#include "cli.h"

#include <jansson.h>
#include <string.h>

#include "linesec/line.h"
#include "linesec/pki.h"
#include "linesec/station.h"

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

static const cli_opt submit_opts[] = {
    CLI_OPT("purpose", "PURPOSE",
	    "firmware (default: KEY.pem is the public key releases are signed with) or "
	    "debug-auth (KEY.pem is the private key of authenticated erase, kept by the "
	    "station encrypted under $LINESEC_DEBUG_AUTH_PASSPHRASE or a prompt)"),
    CLI_OPT_END,
};

static int submit_body(cli_ctx *c)
{
	int rc = 0;
	char ver[LSEC_STORE_NAME_MAX + 1];
	const char *purpose = cli_get(&c->a, "purpose");
	lsec_secret *pass = NULL;
	lsec_err *err = &c->err;
	if (purpose == NULL || strcmp(purpose, LSEC_STATION_KEY_FIRMWARE) == 0) {
		LSEC_TRY(lsec_station_product_key_submit(ver, c->st, c->a.args[0], c->a.args[1],
							 c->person, &c->err));
	} else {
		LSEC_ENSURE(strcmp(purpose, LSEC_STATION_KEY_DEBUG_AUTH) == 0, LSEC_E_USAGE,
			    "unknown key purpose '%s': expected firmware or debug-auth", purpose);
		/* One passphrase opens the key file (when encrypted) and keeps it. */
		LSEC_TRY(lsec_pki_secret_read(&pass, NULL, "LINESEC_DEBUG_AUTH_PASSPHRASE",
					      "debug-authentication key passphrase", &c->err));
		LSEC_TRY(lsec_station_debug_auth_key_submit(ver, c->st, c->a.args[0], c->a.args[1],
							    pass, pass, c->person, &c->err));
	}
	printf("product key %s@%s submitted by %s; it needs the approval of a second "
	       "security "
	       "officer\n",
	       c->a.args[0], ver, c->person);
out:
	lsec_secret_free(pass);
	return rc;
}

static const cli_spec submit_spec = {
    .usage = "product key submit PRODUCT KEY.pem [--purpose firmware|debug-auth]",
    .summary = "submit a product's firmware or debug-authentication key (security officer)",
    .opts = submit_opts,
    .min_args = 2,
    .max_args = 2,
    .details = "The first firmware key of a product is version 1, its first debug-auth key "
	       "debug-auth-1; a rotation submits the next. A second security officer approves "
	       "it with 'linesec product key approve PRODUCT@VERSION'. Refused: a published key "
	       "of the deny list, a key the product already has.",
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
    .details = "Refused: its submitter, a published key of the deny list. Once approved, a "
	       "firmware key is the key the product's releases are signed with and whose digest "
	       "secure boot fuses; a debug-auth key is the one whose digest secure boot fuses into "
	       "DEBUG_AUTH_KEY_DIGEST and that signs the authenticated erase of a locked unit.",
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
	printf("%-16s %-13s %-10s %-11s %-12s %-20s %s\n", "PRODUCT", "VERSION", "PURPOSE",
	       "STATE", "SUBMITTED-BY", "APPROVERS", "KEY SHA-256");
	json_array_foreach (j, i, o) {
		const json_t *ap = json_object_get(o, "approvers");
		char appr[2 * LSEC_STORE_NAME_MAX + 2];
		snprintf(appr, sizeof(appr), "%s%s%s",
			 json_array_size(ap) > 0 ? json_string_value(json_array_get(ap, 0)) : "-",
			 json_array_size(ap) > 1 ? "," : "",
			 json_array_size(ap) > 1 ? json_string_value(json_array_get(ap, 1)) : "");
		printf("%-16s %-13s %-10s %-11s %-12s %-20s %s\n",
		       json_string_value(json_object_get(o, "product")),
		       json_string_value(json_object_get(o, "version")),
		       json_string_value(json_object_get(o, "purpose")),
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
    {"submit", &submit_spec, NULL, "submit a product's firmware or debug-auth key (security officer)"},
    {"approve", &approve_spec, NULL, "approve a product key (a second security officer)"},
    {"show", &show_spec, NULL, "list the product keys"},
    {NULL, NULL, NULL, NULL},
};

const cli_cmd cli_product_cmds[] = {
    {"key", NULL, key_cmds, "a product's firmware and debug-auth keys (two security officers)"},
    {NULL, NULL, NULL, NULL},
};
