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

static void print_record(const lsec_station_unit_record *r)
{
	const lsec_store_unit *u = &r->unit;
	printf("unit %s  product %s  state %s\nUID %s  registered %s\n\n", cli_esc(u->serial),
	       cli_esc(u->product), lsec_unit_state_name(u->state), cli_esc(u->uid),
	       cli_esc(u->created));
	printf("%-6s %-20s %-12s %-12s %-26s %-9s %s\n", "SEQ", "TIME", "SOP", "STEP", "ACTION",
	       "OUTCOME", "WHO");
	for (size_t i = 0; i < r->nevents; i++) {
		const lsec_station_unit_event *e = &r->events[i];
		printf("%-6llu %-20s %-12s %-12s %-26s %-9s %s\n", (unsigned long long)e->seq,
		       cli_esc(e->time), cli_esc(e->sop), cli_esc(e->step), cli_esc(e->action),
		       cli_esc(e->outcome), cli_esc(e->person));
	}
	if (r->proof != NULL) {
		printf("\ninclusion proof: %zu leaves, each proven against the signed checkpoint "
		       "of tree size %llu\n(the proof file is in 'unit show --json')\n",
		       r->proof_leaves, (unsigned long long)r->proof_tree_size);
	} else {
		printf("\nno inclusion proof yet: %s\n", r->proof_missing);
	}
}

static int show_body(cli_ctx *c)
{
	int rc = 0;
	lsec_station_unit_record *r = NULL;
	json_t *j = NULL;
	LSEC_TRY(lsec_station_unit_show(&r, c->st, c->a.args[0], &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_unit_record_json(&j, r, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
	} else {
		print_record(r);
	}
out:
	json_decref(j);
	lsec_station_unit_record_free(r);
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
	lsec_store_unit *units = NULL;
	size_t n = 0;
	json_t *j = NULL;
	lsec_unit_state s;
	const char *want = cli_get(&c->a, "state");
	if (want != NULL) {
		LSEC_TRY(lsec_unit_state_parse(&s, want, &c->err));
	}
	LSEC_TRY(lsec_station_unit_list(&units, &n, c->st, want ? &s : NULL, &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_station_unit_list_json(&j, units, n, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
		goto out;
	}
	printf("%-16s %-12s %-22s %s\n", "SERIAL", "PRODUCT", "STATE", "UID");
	for (size_t i = 0; i < n; i++) {
		printf("%-16s %-12s %-22s %s\n", cli_esc(units[i].serial),
		       cli_esc(units[i].product), lsec_unit_state_name(units[i].state),
		       cli_esc(units[i].uid));
	}
out:
	json_decref(j);
	lsec_free(units);
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
