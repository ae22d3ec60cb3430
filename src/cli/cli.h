/*
 * cli.h - the `linesec` command line: option tables, the command table, the
 * one runner and exit codes. Private to src/cli.
 *
 * Every command is a cli_spec: its options, its setup flags (does it open the
 * line, act as a logged-in person with which roles, open the station, unlock
 * the CA) and a body. cli_run parses argv against the spec, refuses a missing
 * required option, does the setup the flags ask for, runs the body with a
 * cli_ctx and maps its result to the exit status. A body only reads its
 * options, calls the library and prints.
 *
 * Idiom:
 *     static int list_body(cli_ctx *c)
 *     {
 *             ... lsec_station_release_list(&l, &n, c->st, &c->err) ...
 *     }
 *     static const cli_spec list_spec = {
 *             .usage = "release list [--json]", .summary = "...", .opts = list_opts,
 *             .body = list_body, .setup = CLI_STATION, .roles = CLI_ANYONE,
 *             .action = "list releases",
 *     };
 *     const cli_cmd cli_release_cmds[] = {{"list", &list_spec, NULL, "list releases"}, ...};
 */
#ifndef LINESEC_CLI_H
#define LINESEC_CLI_H

#include "linesec/line.h"
#include "linesec/station.h"
#include "linesec/util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_OPTS 40

/* One option of a command; the same table parses and renders --help. */
typedef struct cli_opt {
	const char *name;    /* long name: "key" for --key */
	const char *metavar; /* NULL for a flag, else the value's name ("FILE") */
	const char *help;
	bool required;       /* cli_parse refuses the command without it */
} cli_opt;

#define CLI_OPT(n, m, h) {.name = (n), .metavar = (m), .help = (h)}
#define CLI_REQUIRED(n, m, h) {.name = (n), .metavar = (m), .help = (h), .required = true}
#define CLI_FLAG(n, h) {.name = (n), .help = (h)}
#define CLI_OPT_JSON(what) CLI_FLAG("json", "print " what " as canonical JSON")
#define CLI_OPT_END {.name = NULL}

/* The options the runner adds to every command whose setup opens the line. */
#define CLI_OPT_LINE                                                                               \
	CLI_OPT("line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)")
#define CLI_OPT_AS CLI_OPT("as", "NAME", "the logged-in person acting (when several are logged in)")

/* What cli_run does before the body (cli_spec.setup). */
enum cli_setup_flags {
	/* Opens the line folder (--line): c->line. */
	CLI_LINE = 1u << 0,
	/*
	 * Sets the station up from the line folder and opens it: c->setup and
	 * c->st. The acting person always needs one of roles.
	 */
	CLI_STATION = 1u << 1,
	/* With CLI_STATION: unlocks the line CA before the station opens. */
	CLI_NEED_CA = 1u << 2,
	/* With CLI_STATION: manual steps are confirmed in batch mode (else by --batch). */
	CLI_BATCH = 1u << 3,
	/* With CLI_STATION: the setup only, no station handle (the gang run opens its own). */
	CLI_SETUP_ONLY = 1u << 4,
	/* With CLI_LINE: no acting person and no --as (login, logout: the person is an argument). */
	CLI_NO_ACTOR = 1u << 5,
	/*
	 * The act is a signature: the person acting types their password now
	 * (LINESEC_PASSWORD for scripts and tests), lsec_line_sign; a session
	 * alone, or --as alone, is not enough.
	 */
	CLI_SIGN = 1u << 6,
};

/* Every role: any logged-in person. */
#define CLI_ANYONE ((1u << LSEC_ROLE_COUNT) - 1u)

struct cli_ctx;

typedef struct cli_spec {
	const char *usage;   /* "image sign [options] IN.bin OUT.img" (after "linesec ") */
	const char *summary; /* one line */
	const cli_opt *opts; /* terminated by CLI_OPT_END; may be NULL */
	int min_args;        /* positional arguments */
	int max_args;        /* -1: no limit */
	const char *details; /* optional paragraph after the options */
	/* The command: 0 or a negative LSEC_E_* code with c->err set. */
	int (*body)(struct cli_ctx *c);
	unsigned setup;      /* enum cli_setup_flags */
	/*
	 * Roles (LSEC_ROLE_BIT mask) of the person acting. With CLI_LINE and 0,
	 * nobody needs to be logged in; a given --as is still checked.
	 */
	unsigned roles;
	const char *action; /* the act in an authorisation error: "approve a release" */
} cli_spec;

typedef struct cli_args {
	const cli_spec *spec;
	const char *val[CLI_MAX_OPTS]; /* value, "" for a set flag, NULL when absent */
	int nargs;
	char **args; /* positional arguments, in order (points into argv) */
} cli_args;

/* What a command body works with; cli_run sets it up and releases it. */
typedef struct cli_ctx {
	cli_args a;
	lsec_line *line;           /* CLI_LINE */
	lsec_line_actor who;       /* CLI_LINE with roles or --as */
	lsec_station_setup *setup; /* CLI_STATION */
	lsec_station *st;          /* CLI_STATION without CLI_SETUP_ONLY */
	const char *person;        /* who acts (borrowed), NULL when nobody was resolved */
	lsec_err err;
	int status;    /* exit status of a body that returns 0 (default CLI_EXIT_OK) */
	bool reported; /* the body printed its failure itself: exit with its status only */
} cli_ctx;

/* A command or a group of subcommands (sub), as listed in a command table. */
typedef struct cli_cmd {
	const char *name;
	const cli_spec *spec;      /* a command */
	const struct cli_cmd *sub; /* or a group: its table, terminated by a NULL name */
	const char *summary;
} cli_cmd;

/*
 * Parses argv (argv[0] is the command name) against spec. Returns 0 when the
 * command should run, 1 when --help was printed (exit 0), or -1 after
 * printing a usage error (exit 2): an unknown option, a missing value or
 * required option, too few or too many arguments.
 */
int cli_parse(cli_args *a, const cli_spec *spec, int argc, char **argv);
const char *cli_get(const cli_args *a, const char *name);
bool cli_flag(const cli_args *a, const char *name);
/* Parses an unsigned option value (decimal or 0x hex) into out; absent leaves out as is. */
int cli_get_u64(const cli_args *a, const char *name, uint64_t max, uint64_t *out, lsec_err *err);
void cli_print_help(FILE *f, const cli_spec *spec);

/* Parses, sets up, runs spec's body and returns the process exit status. */
int cli_run(const cli_spec *spec, int argc, char **argv);
/* Runs the command or subcommand table entry c (argv[0] is its name). */
int cli_exec(const cli_cmd *c, int argc, char **argv);
/* Runs the subcommand of a group ("image sign ..."); argv[0] is the group name. */
int cli_dispatch(const char *group, const cli_cmd *table, int argc, char **argv);
void cli_print_table(FILE *f, const char *group, const cli_cmd *table);

/* Unlocks the line CA of c's station setup when a body finds it needs it. */
int cli_unlock_ca(cli_ctx *c);
/* Prints json (consumed, may be NULL after a failed allocation) as canonical JSON. */
int cli_print_json(struct json_t *json, lsec_err *err);

/*
 * s escaped for the terminal (lsec_text_escape: control bytes, backslashes
 * and invalid UTF-8 as escapes), in one of a few per-thread buffers reused
 * in turn, so one printf may hold up to 8 of them. Every message and every
 * value from a file or the registry is printed through it.
 */
const char *cli_esc(const char *s);
/* Prints "linesec: <message>" (escaped) to stderr and returns the exit status for err. */
int cli_fail(const lsec_err *err);
/* The documented exit status of an LSEC_E_* code (README.md, "Exit status"). */
int cli_exit_code(int code);

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,
	CLI_EXIT_USAGE = 2,
};

/*
 * Reads a password into *out (lsec_secret_free): from the environment
 * variable env when set (for scripts and tests only), else from the terminal
 * without echo, twice when confirm. Never from argv.
 */
/* The witness's password, for scripts and tests only (docs/line.md). */
#define CLI_WITNESS_PASSWORD_ENV "LINESEC_WITNESS_PASSWORD"
int cli_read_password(struct lsec_secret **out, const char *env, const char *prompt,
		      bool confirm, lsec_err *err);

/* Prints a run's outcome, and what to do next in the SOP's words when it failed. */
void cli_station_print_result(const struct lsec_station_result *res, int rc, const lsec_err *err);
/* Signs a checkpoint over what a station command recorded; a failure is a warning only. */
void cli_station_checkpoint(lsec_station *st);

/* A change id (`linesec change list`) from the command line; LSEC_E_USAGE. */
int cli_change_id(int64_t *out, const char *text, lsec_err *err);

/* The commands and command groups, one file each (src/cli/cmd_<group>.c). */
extern const cli_spec cli_keygen_spec, cli_pubkey_spec, cli_init_spec, cli_login_spec,
	cli_logout_spec, cli_run_spec, cli_build_spec, cli_ship_spec, cli_line_spec,
	cli_decommission_spec, cli_scrap_spec, cli_enrol_spec, cli_serve_spec;
extern const cli_cmd cli_image_cmds[], cli_sop_cmds[], cli_ca_cmds[], cli_sim_cmds[],
	cli_person_cmds[], cli_change_cmds[], cli_station_cmds[], cli_audit_cmds[], cli_release_cmds[], cli_product_cmds[],
	cli_unit_cmds[], cli_rma_cmds[], cli_profile_cmds[],
	cli_report_cmds[];

#endif
