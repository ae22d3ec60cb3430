/*
 * cmd_unit.c - `linesec unit show SERIAL` (the device history record) and
 * `linesec unit list [--state S]`.
 */
#include "cli.h"

#include <string.h>

#include <jansson.h>

#include "linesec/line.h"
#include "linesec/station.h"

#define OPT_LINE {"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"},\
	{"as", "NAME", "the logged-in person acting (when several are logged in)"}
#define ANYONE ((1u << LSEC_ROLE_COUNT) - 1u)

static const cli_opt show_opts[] = {
	{"json", NULL, "print the record as canonical JSON (with the proof file)"},
	OPT_LINE,
	{NULL, NULL, NULL},
};
static const cli_spec show_spec = {
	"unit show SERIAL [--json]",
	"the device history record: every run and step, who, when, evidence, inclusion proof",
	show_opts, 1, 1, NULL,
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

static int run_unit(const cli_spec *spec, bool show, int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	json_t *j = NULL;
	int p = cli_parse(&a, spec, argc, argv);
	if (p != 0) {
		return p > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = cli_station_open(&setup, &a, ANYONE, "read unit records", true,
				  false, &err);
	if (rc == 0) {
		rc = lsec_station_open(&st, lsec_station_setup_config(setup), &err);
	}
	if (rc == 0 && show) {
		rc = lsec_station_unit_show(&j, st, a.args[0], &err);
	} else if (rc == 0) {
		lsec_unit_state s;
		const char *want = cli_get(&a, "state");
		if (want != NULL) {
			rc = lsec_unit_state_parse(&s, want, &err);
		}
		if (rc == 0) {
			rc = lsec_station_unit_list(&j, st, want ? &s : NULL, &err);
		}
	}
	if (rc == 0 && cli_flag(&a, "json")) {
		rc = lsec_json_print(stdout, j, &err);
	} else if (rc == 0 && show) {
		print_record(j);
	} else if (rc == 0) {
		size_t i;
		json_t *u;
		printf("%-16s %-12s %-22s %s\n", "SERIAL", "PRODUCT", "STATE", "UID");
		json_array_foreach(j, i, u)
		{
			printf("%-16s %-12s %-22s %s\n", str(u, "serial"), str(u, "product"),
			       str(u, "state"), str(u, "uid"));
		}
	}
	int status = rc < 0 ? cli_fail(&err) : CLI_EXIT_OK;
	json_decref(j);
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	return status;
}

static int cmd_show(int argc, char **argv)
{
	return run_unit(&show_spec, true, argc, argv);
}

static const cli_opt list_opts[] = {
	{"state", "S", "only units in state S (new, flashed, ..., quarantined, shipped)"},
	{"json", NULL, "print canonical JSON"},
	OPT_LINE,
	{NULL, NULL, NULL},
};
static const cli_spec list_spec = {
	"unit list [--state S] [--json]", "list the units of the registry", list_opts, 0, 0, NULL,
};

static int cmd_list(int argc, char **argv)
{
	return run_unit(&list_spec, false, argc, argv);
}

static const cli_cmd unit_cmds[] = {
	{"show", cmd_show, "show a unit's device history record"},
	{"list", cmd_list, "list units"},
	{NULL, NULL, NULL},
};

int cmd_unit(int argc, char **argv)
{
	return cli_dispatch("unit", unit_cmds, argc, argv);
}
