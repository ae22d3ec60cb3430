/*
 * cmd_init.c - `linesec init`: create a line folder with its registry,
 * station key and first security officer. Parses, calls liblinesec
 * (linesec/line.h) and prints.
 */
#include "cli.h"

#include "linesec/line.h"
#include "linesec/station.h"

static const cli_opt init_opts[] = {
	{"dir", "DIR", "the line folder to create (default: the current folder)"},
	{"line-id", "ID", "the line's id (default: line1)"},
	{"station-id", "ID", "this station's id (default: station1)"},
	{"registry", "URL", "a postgresql:// URL shared by many stations (default: SQLite "
			    "registry.db in the folder)"},
	{"admin", "NAME", "the first security officer (default: admin)"},
	{"session-minutes", "N", "shift session lifetime in minutes (default: 480)"},
	{NULL, NULL, NULL},
};
static const cli_spec init_spec = {
	"init [--dir DIR] [--line-id ID] [--station-id ID] [--registry URL] [--admin NAME]",
	"create a line: line.yaml, the registry, the station key and the first security officer",
	init_opts,
	0,
	0,
	"The first security officer's password is read from the terminal (twice); scripts and\n"
	"tests may set LINESEC_PASSWORD instead. It is never taken from the command line.",
};

int cmd_init(int argc, char **argv)
{
	cli_args a;
	int p = cli_parse(&a, &init_spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = NULL;
	uint64_t minutes = 0;
	lsec_line_init_options o = LSEC_LINE_INIT_OPTIONS_INIT;
	o.dir = cli_get(&a, "dir") ? cli_get(&a, "dir") : ".";
	o.line_id = cli_get(&a, "line-id");
	o.station_id = cli_get(&a, "station-id");
	o.registry = cli_get(&a, "registry");
	o.admin = cli_get(&a, "admin");
	int rc = cli_get_u64(&a, "session-minutes", 7 * 24 * 60, &minutes, &err);
	o.session_minutes = (unsigned)minutes;
	if (rc == 0) {
		rc = cli_read_password(&pw, "LINESEC_PASSWORD",
				       "Password of the first security officer: ", true, &err);
	}
	o.admin_password = pw;
	if (rc == 0) {
		rc = lsec_line_init(&o, &err);
	}
	if (rc == 0) {
		/* The default SOPs, compiled into the program, ready for submission and approval. */
		char *sops = lsec_asprintf("%s/sops", o.dir);
		rc = sops ? lsec_station_write_default_sops(sops, &err)
			  : lsec_err_set(&err, LSEC_E_NOMEM, __FILE__, __LINE__, "out of memory");
		lsec_free(sops);
	}
	if (rc == 0) {
		printf("created line in %s (security officer: %s)\n", o.dir,
		       o.admin ? o.admin : "admin");
	}
	lsec_secret_free(pw);
	return rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
}
