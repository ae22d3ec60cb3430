/*
 * cmd_init.c - `linesec init`: create a line folder with its registry,
 * station key and first security officer. Parses, calls liblinesec
 * (linesec/line.h) and prints.
 */
#include "cli.h"

#include "linesec/line.h"
#include "linesec/station.h"

static const cli_opt init_opts[] = {
	CLI_OPT("dir", "DIR", "the line folder to create (default: the current folder)"),
	CLI_OPT("line-id", "ID", "the line's id (default: line1)"),
	CLI_OPT("station-id", "ID", "this station's id (default: station1)"),
	CLI_OPT("registry", "URL", "a postgresql:// URL shared by many stations (default: SQLite "
				   "registry.db in the folder)"),
	CLI_OPT("admin", "NAME", "the first security officer (default: admin)"),
	CLI_OPT("second-officer", "NAME", "the second security officer, present at init (required for a new registry)"),
	CLI_OPT("trust-station", "ID", "joining a shared registry: the station it joins"),
	CLI_OPT("trust-pubkey", "FILE", "joining: that station's public key (its station.pub)"),
	CLI_OPT("station-key", "FILE", "joining: this station's Ed25519 key, already trusted there"),
	CLI_OPT("session-minutes", "N", "shift session lifetime in minutes (default: 480)"),
	CLI_OPT("product", "ID", "the product this line builds (line.yaml's products; without it, "
				 "the example product 'sensor')"),
	CLI_OPT_END,
};

static int init_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_secret *pw = NULL, *pw2 = NULL;
	char *sops = NULL;
	uint64_t minutes = 0;
	lsec_line_init_options o = LSEC_LINE_INIT_OPTIONS_INIT;
	o.dir = cli_get(&c->a, "dir") ? cli_get(&c->a, "dir") : ".";
	o.line_id = cli_get(&c->a, "line-id");
	o.station_id = cli_get(&c->a, "station-id");
	o.registry = cli_get(&c->a, "registry");
	o.admin = cli_get(&c->a, "admin");
	LSEC_TRY(cli_get_u64(&c->a, "session-minutes", 7 * 24 * 60, &minutes, err));
	o.session_minutes = (unsigned)minutes;
	LSEC_TRY(cli_read_password(&pw, "LINESEC_PASSWORD", "Password of the first security officer: ",
				   true, err));
	o.admin_password = pw;
	o.second_officer = cli_get(&c->a, "second-officer");
	if (o.second_officer != NULL) {
		LSEC_TRY(cli_read_password(&pw2, "LINESEC_SECOND_PASSWORD",
					   "Password of the second security officer: ", true, err));
	}
	o.second_password = pw2;
	o.trust_station = cli_get(&c->a, "trust-station");
	o.trust_pub = cli_get(&c->a, "trust-pubkey");
	o.station_key = cli_get(&c->a, "station-key");
	o.product = cli_get(&c->a, "product");
	LSEC_TRY(lsec_line_init(&o, err));
	/* The default SOPs, compiled into the program, ready for submission and approval. */
	LSEC_ENSURE((sops = lsec_asprintf("%s/sops", o.dir)) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_station_write_default_sops(sops, err));
	printf("created line in %s (security officers: %s and %s)\n"
	       "every later change of trust (person add, disable, role, password reset) is requested\n"
	       "by one of them and approved by the other: 'linesec change list'\n",
	       o.dir, o.admin ? o.admin : "admin",
	       o.second_officer ? o.second_officer : "(already in the registry)");
	if (o.product != NULL) {
		printf("product: %s (line.yaml's products)\n", o.product);
	} else {
		printf("product: '%s', an example: put your own product's id in %s/line.yaml's products\n"
		       "(or create the line with --product ID) before its firmware key and releases\n",
		       LSEC_LINE_EXAMPLE_PRODUCT, o.dir);
	}
out:
	lsec_free(sops);
	lsec_secret_free(pw);
	lsec_secret_free(pw2);
	return rc;
}

const cli_spec cli_init_spec = {
	.usage = "init [--dir DIR] [--line-id ID] [--station-id ID] [--registry URL] [--admin NAME]\n     [--second-officer NAME] [--product ID]\n     [--trust-station ID --trust-pubkey FILE --station-key FILE]",
	.summary = "create a line: line.yaml, the registry, the station key and the first security "
		   "officer",
	.opts = init_opts,
	.details = "A line starts with two security officers, both present: each types their own "
		   "password\n(twice) at the terminal; scripts and tests may set LINESEC_PASSWORD and\n"
		   "LINESEC_SECOND_PASSWORD instead. Passwords are never taken from the command line.",
	.body = init_body,
};
