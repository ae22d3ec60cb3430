/*
 * main.c - the `linesec` command: one dispatch table of command groups, one
 * file per group (src/cli/cmd_<group>.c).
 */
#include "cli.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const cli_cmd commands[] = {
	{"help", cmd_help, "show the commands, or one command's help"},
	{"version", cmd_version, "print the version"},
	{"keygen", cmd_keygen, "create a signing key pair (ECDSA P-256 or Ed25519)"},
	{"pubkey", cmd_pubkey, "export a key file's public key and fingerprint"},
	{"image", cmd_image, "sign, inspect and verify MCUboot firmware images"},
	{"sop", cmd_sop, "check, render and approve the line SOP files"},
	{"ca", cmd_ca, "the line CA: key ceremony, device certificates, CRLs, initial passwords"},
	{"sim", cmd_sim, "create and inspect simulated devices (the built-in MCU)"},
	{"init", cmd_init, "create a line: configuration, registry, station key, first officer"},
	{"person", cmd_person, "add, list and disable the line's people"},
	{"login", cmd_login, "open a shift session on this station"},
	{"logout", cmd_logout, "end a shift session"},
	{"audit", cmd_audit, "verify the audit log, sign checkpoints, write and check proofs"},
	{"release", cmd_release, "submit, approve, list and revoke firmware releases"},
	{"run", cmd_run, "run one approved SOP on one unit"},
	{"build", cmd_build, "run the four build SOPs on one unit, then the ship gate"},
	{"ship", cmd_ship, "the ship gate: ship a unit whose evidence is complete"},
	{"unit", cmd_unit, "show a unit's device history record, list units"},
	{"line", cmd_line, "a gang run: build many units on N sockets in parallel"},
	{"decommission", cmd_decommission, "wipe, blank-check and revoke a unit (SOP 5)"},
	{"scrap", cmd_scrap, "record the witnessed destruction of decommissioned units"},
	{"rma", cmd_rma, "returns: check a returned unit is genuine, send it to rework"},
	{"report", cmd_report, "reports: the sanitisation record of scrapped units"},
	{NULL, NULL, NULL},
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

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("linesec %s (%s)\n", LSEC_VERSION_STRING, OpenSSL_version(OPENSSL_VERSION));
	return CLI_EXIT_OK;
}

int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		print_commands(stdout);
		return CLI_EXIT_OK;
	}
	for (const cli_cmd *c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0 && c->fn != cmd_help) {
			char help[] = "--help";
			char *hargv[] = {argv[1], help, NULL};
			return c->fn(2, hargv);
		}
	}
	fprintf(stderr, "linesec: unknown command '%s'\n", argv[1]);
	return CLI_EXIT_USAGE;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		print_commands(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		return cmd_version(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_commands(stdout);
		return CLI_EXIT_OK;
	}
	for (const cli_cmd *c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0) {
			return c->fn(argc - 1, argv + 1);
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
