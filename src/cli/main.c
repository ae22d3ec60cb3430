/*
 * main.c - the `linesec` command: one dispatch table of command groups, one
 * file per group (src/cli/cmd_<group>.c).
 */
#include "cli.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const cli_spec help_spec, version_spec;

static const cli_cmd commands[] = {
	{"help", &help_spec, NULL, "show the commands, or one command's help"},
	{"version", &version_spec, NULL, "print the version"},
	{"keygen", &cli_keygen_spec, NULL, "create a signing key pair (ECDSA P-256 or Ed25519)"},
	{"pubkey", &cli_pubkey_spec, NULL, "export a key file's public key and fingerprint"},
	{"image", NULL, cli_image_cmds, "sign, inspect and verify MCUboot firmware images"},
	{"sop", NULL, cli_sop_cmds, "check, render and approve the line SOP files"},
	{"ca", NULL, cli_ca_cmds,
	 "the line CA: key ceremony, device certificates, CRLs, initial passwords"},
	{"sim", NULL, cli_sim_cmds, "create and inspect simulated devices (the built-in MCU)"},
	{"profile", NULL, cli_profile_cmds, "check and list device profiles (how a chip is driven)"},
	{"init", &cli_init_spec, NULL,
	 "create a line: configuration, registry, station key, first officer"},
	{"person", NULL, cli_person_cmds, "request, list and unlock the line's people"},
	{"change", NULL, cli_change_cmds, "approve or reject changes of trust (two officers)"},
	{"station", NULL, cli_station_cmds, "trust or distrust another station's leaves (two officers)"},
	{"enrol", &cli_enrol_spec, NULL, "set your own password with your enrolment code"},
	{"login", &cli_login_spec, NULL, "open a shift session on this station"},
	{"logout", &cli_logout_spec, NULL, "end a shift session"},
	{"serve", &cli_serve_spec, NULL, "serve the web console (dashboard) of this station"},
	{"audit", NULL, cli_audit_cmds,
	 "verify the audit log, sign checkpoints, write and check proofs"},
	{"product", NULL, cli_product_cmds, "register and rotate a product's firmware key"},
	{"release", NULL, cli_release_cmds, "submit, approve, list and revoke firmware releases"},
	{"run", &cli_run_spec, NULL, "run one approved SOP on one unit"},
	{"build", &cli_build_spec, NULL,
	 "run the four build SOPs on one unit, then the ship gate"},
	{"ship", &cli_ship_spec, NULL, "the ship gate: ship a unit whose evidence is complete"},
	{"unit", NULL, cli_unit_cmds, "show a unit's device history record, list units"},
	{"line", &cli_line_spec, NULL, "a gang run: build many units on N sockets in parallel"},
	{"decommission", &cli_decommission_spec, NULL,
	 "wipe, blank-check and revoke a unit (SOP 5)"},
	{"scrap", &cli_scrap_spec, NULL, "record the witnessed destruction of decommissioned units"},
	{"rma", NULL, cli_rma_cmds, "returns: check a returned unit is genuine, send it to rework"},
	{"report", NULL, cli_report_cmds, "reports: the sanitisation record of scrapped units"},
	{NULL, NULL, NULL, NULL},
};

static void print_commands(FILE *f)
{
	fprintf(f, "usage: linesec [--version] [--help] COMMAND [ARGS]\n\n"
		   "linesec runs the security procedures of a production line and keeps the proof.\n\n"
		   "commands:\n");
	for (const cli_cmd *c = commands; c->name != NULL; c++) {
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	}
	fprintf(f, "\nRun 'linesec COMMAND --help' for a command's options.\n");
}

static int version_body(cli_ctx *c)
{
	(void)c;
	printf("linesec %s (%s)\n", LSEC_VERSION_STRING, OpenSSL_version(OPENSSL_VERSION));
	return 0;
}

static const cli_spec version_spec = {
	.usage = "version",
	.summary = "print the version",
	.body = version_body,
};

static int help_body(cli_ctx *c)
{
	if (c->a.nargs == 0) {
		print_commands(stdout);
		return 0;
	}
	for (const cli_cmd *k = commands; k->name != NULL; k++) {
		if (strcmp(k->name, c->a.args[0]) == 0 && k->spec != &help_spec) {
			if (k->sub != NULL) {
				cli_print_table(stdout, k->name, k->sub);
			} else {
				cli_print_help(stdout, k->spec);
			}
			return 0;
		}
	}
	fprintf(stderr, "linesec: unknown command '%s'\n", c->a.args[0]);
	c->status = CLI_EXIT_USAGE;
	return 0;
}

static const cli_spec help_spec = {
	.usage = "help [COMMAND]",
	.summary = "show the commands, or one command's help",
	.max_args = -1,
	.body = help_body,
};

static int run(int argc, char **argv)
{
	if (argc < 2) {
		print_commands(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		return cli_run(&version_spec, argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_commands(stdout);
		return CLI_EXIT_OK;
	}
	for (const cli_cmd *c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0) {
			return cli_exec(c, argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "linesec: unknown command '%s' (see 'linesec help')\n", argv[1]);
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int status = run(argc, argv);
	/* Output that could not be written is a failure, not a success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "linesec: cannot write to standard output\n");
		if (status == 0) {
			status = 3;
		}
	}
	return status;
}
