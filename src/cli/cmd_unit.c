/*
 * cmd_unit.c - `linesec unit show SERIAL` (the device history record) and
 * `linesec unit list [--state S]`.
 */
#include "cli.h"

#include <string.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

static const cli_opt show_opts[] = {
	CLI_OPT_JSON("the record (with the proof file)"),
	CLI_OPT_END,
};

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

static void print_record(json_t *rec)
{
	json_t *u = json_object_get(rec, "unit");
	size_t i;
	json_t *e;
	printf("unit %s  product %s  state %s\nUID %s  registered %s\n\n", str(u, "serial"),
	       str(u, "product"), str(u, "state"), str(u, "uid"), str(u, "created"));
	printf("%-6s %-20s %-12s %-12s %-26s %-9s %s\n", "SEQ", "TIME", "SOP", "STEP", "ACTION",
	       "OUTCOME", "WHO");
	json_array_foreach(json_object_get(rec, "events"), i, e)
	{
		printf("%-6lld %-20s %-12s %-12s %-26s %-9s %s\n",
		       (long long)json_integer_value(json_object_get(e, "seq")), str(e, "time"),
		       str(e, "sop"), str(e, "step"), str(e, "action"), str(e, "outcome"),
		       str(e, "person"));
	}
	json_t *proof = json_object_get(rec, "proof");
	if (json_is_object(proof)) {
		const char *note = str(proof, "checkpoint");
		const char *nl = strchr(note, '\n');
		printf("\ninclusion proof: %zu leaves, each proven against the signed checkpoint "
		       "of tree size %.*s\n(the proof file is in 'unit show --json')\n",
		       json_array_size(json_object_get(proof, "entries")),
		       nl ? (int)strcspn(nl + 1, "\n") : 1, nl ? nl + 1 : "?");
	} else {
		printf("\nno inclusion proof yet: %s\n", str(rec, "proof-missing"));
	}
}

static int show_body(cli_ctx *c)
{
	int rc = 0;
	json_t *j = NULL;
	LSEC_TRY(lsec_station_unit_show(&j, c->st, c->a.args[0], &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
	} else {
		print_record(j);
	}
out:
	json_decref(j);
	return rc;
}

static const cli_spec show_spec = {
	.usage = "unit show SERIAL [--json]",
	.summary = "the device history record: every run and step, who, when, evidence, inclusion "
		   "proof",
	.opts = show_opts,
	.min_args = 1,
	.max_args = 1,
	.body = show_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = CLI_ANYONE,
	.action = "read unit records",
};

static const cli_opt list_opts[] = {
	CLI_OPT("state", "S", "only units in state S (new, flashed, ..., quarantined, shipped)"),
	CLI_OPT_JSON("the units"),
	CLI_OPT_END,
};

static int list_body(cli_ctx *c)
{
	int rc = 0;
	json_t *j = NULL;
	lsec_unit_state s;
	const char *want = cli_get(&c->a, "state");
	size_t i;
	json_t *u;
	if (want != NULL) {
		LSEC_TRY(lsec_unit_state_parse(&s, want, &c->err));
	}
	LSEC_TRY(lsec_station_unit_list(&j, c->st, want ? &s : NULL, &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
		goto out;
	}
	printf("%-16s %-12s %-22s %s\n", "SERIAL", "PRODUCT", "STATE", "UID");
	json_array_foreach(j, i, u)
	{
		printf("%-16s %-12s %-22s %s\n", str(u, "serial"), str(u, "product"),
		       str(u, "state"), str(u, "uid"));
	}
out:
	json_decref(j);
	return rc;
}

static const cli_spec list_spec = {
	.usage = "unit list [--state S] [--json]",
	.summary = "list the units of the registry",
	.opts = list_opts,
	.body = list_body,
	.setup = CLI_STATION | CLI_BATCH,
	.roles = CLI_ANYONE,
	.action = "read unit records",
};

const cli_cmd cli_unit_cmds[] = {
	{"show", &show_spec, NULL, "show a unit's device history record"},
	{"list", &list_spec, NULL, "list units"},
	{NULL, NULL, NULL, NULL},
};
