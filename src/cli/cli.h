/*
 * cli.h - the `linesec` command line: option tables, dispatch and exit codes.
 * Private to src/cli. Command files parse, call the library and print;
 * they hold no logic of their own.
 */
#ifndef LINESEC_CLI_H
#define LINESEC_CLI_H

#include "linesec/util.h"

#include <stdbool.h>
#include <stdint.h>

#define CLI_MAX_OPTS 40

/* One option of a command; the same table parses and renders --help. */
typedef struct cli_opt {
	const char *name;    /* long name: "key" for --key */
	const char *metavar; /* NULL for a flag, else the value's name ("FILE") */
	const char *help;
} cli_opt;

typedef struct cli_spec {
	const char *usage;   /* "image sign [options] IN.bin OUT.img" (after "linesec ") */
	const char *summary; /* one line */
	const cli_opt *opts; /* terminated by an entry with name NULL; may be NULL */
	int min_args;        /* positional arguments */
	int max_args;        /* -1: no limit */
	const char *details; /* optional paragraph after the options */
} cli_spec;

typedef struct cli_args {
	const cli_spec *spec;
	const char *val[CLI_MAX_OPTS]; /* value, "" for a set flag, NULL when absent */
	int nargs;
	char **args; /* positional arguments, in order (points into argv) */
} cli_args;

/*
 * Parses argv (argv[0] is the command name) against spec. Returns 0 when the
 * command should run, 1 when --help was printed (exit 0), or -1 after
 * printing a usage error (exit 2).
 */
int cli_parse(cli_args *a, const cli_spec *spec, int argc, char **argv);
const char *cli_get(const cli_args *a, const char *name);
bool cli_flag(const cli_args *a, const char *name);
/* Parses an unsigned option value (decimal or 0x hex) into out; absent leaves out as is. */
int cli_get_u64(const cli_args *a, const char *name, uint64_t max, uint64_t *out, lsec_err *err);
void cli_print_help(FILE *f, const cli_spec *spec);

/* A command or subcommand: returns the process exit status. */
typedef struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cli_cmd;

/* Runs the subcommand of a group ("image sign ..."); argv[0] is the group name. */
int cli_dispatch(const char *group, const cli_cmd *table, int argc, char **argv);
void cli_print_table(FILE *f, const char *group, const cli_cmd *table);

/* Prints "linesec: <message>" to stderr and returns the exit status for err. */
int cli_fail(const lsec_err *err);
/* The documented exit status of an LSEC_E_* code (README.md, "Exit status"). */
int cli_exit_code(int code);

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,
	CLI_EXIT_USAGE = 2,
};

/* Command groups, one file each (src/cli/cmd_<group>.c). */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_sop(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);

/*
 * Reads a password into *out (lsec_secret_free): from the environment
 * variable env when set (for scripts and tests only), else from the terminal
 * without echo, twice when confirm. Never from argv.
 */
int cli_read_password(struct lsec_secret **out, const char *env, const char *prompt,
		      bool confirm, lsec_err *err);
int cmd_ca(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_ship(int argc, char **argv);
int cmd_unit(int argc, char **argv);
int cmd_line(int argc, char **argv);
int cmd_decommission(int argc, char **argv);
int cmd_scrap(int argc, char **argv);
int cmd_rma(int argc, char **argv);
int cmd_report(int argc, char **argv);

/*
 * The station commands' common opening (cmd_run.c): the line (--line), the
 * person acting (--as, or the only one logged in) with one of roles, batch or terminal confirmation, and the CA
 * unlocked when need_ca. *out: lsec_station_setup_close.
 */
struct lsec_station_setup;
struct lsec_station_result;
int cli_station_open(struct lsec_station_setup **out, const cli_args *a, unsigned roles,
		     const char *action, bool batch, bool need_ca, lsec_err *err);
/* Prints a run's outcome, and what to do next in the SOP's words when it failed. */
void cli_station_print_result(const struct lsec_station_result *res, int rc, const lsec_err *err);

#endif
