/*
 * cmd_profile.c - `linesec profile check|list`: device profiles
 * (docs/device-profiles.md).
 */
#include "cli.h"

#include "linesec/device.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The operations a profile says the device cannot do, as a JSON list of fields. */
static json_t *unsupported_json(const lsec_device_profile *p)
{
	json_t *l = json_array();
	for (int op = 0; l != NULL && op < LSEC_PROFILE_OP_COUNT; op++) {
		const lsec_device_profile_step *s = NULL;
		size_t n = 0;
		lsec_err e = LSEC_ERR_INIT;
		if (lsec_device_profile_op_steps(&s, &n, p, (lsec_device_profile_op)op, &e) ==
		    LSEC_E_TGT_UNSUPPORTED) {
			json_array_append_new(l, json_string(lsec_device_profile_op_field(
							 (lsec_device_profile_op)op)));
		}
	}
	for (int f = 0; l != NULL && f < LSEC_FUSE_COUNT; f++) {
		lsec_device_fuse_field ff;
		lsec_err e = LSEC_ERR_INIT;
		if (lsec_device_profile_fuse(&ff, p, (lsec_device_fuse)f, &e) < 0) {
			char name[64];
			snprintf(name, sizeof(name), "fuses.%s", lsec_device_fuse_name((lsec_device_fuse)f));
			json_array_append_new(l, json_string(name));
		}
	}
	return l;
}

static json_t *profile_json(const char *arg, const lsec_device_profile *p)
{
	json_t *revs = json_array(), *warns = json_array();
	for (size_t i = 0; revs != NULL && lsec_device_profile_revision(p, i) != NULL; i++) {
		json_array_append_new(revs, json_string(lsec_device_profile_revision(p, i)));
	}
	for (size_t i = 0; warns != NULL && lsec_device_profile_warning(p, i) != NULL; i++) {
		json_array_append_new(warns, json_string(lsec_device_profile_warning(p, i)));
	}
	return json_pack("{s:s, s:b, s:s, s:s, s:s, s:o, s:b, s:o, s:o}", "profile", arg, "ok", 1,
			 "name", lsec_device_profile_name(p), "file", lsec_device_profile_file(p),
			 "family", lsec_device_profile_family(p), "revisions", revs,
			 "tested_on_hardware", lsec_device_profile_tested(p), "unsupported",
			 unsupported_json(p), "warnings", warns);
}

static int check_body(cli_ctx *c)
{
	const cli_args *a = &c->a;
	int status = CLI_EXIT_OK;
	bool json = cli_flag(a, "json");
	for (int i = 0; i < a->nargs; i++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_device_profile *p = NULL;
		if (lsec_device_profile_load(&p, a->args[i], &err) < 0) {
			int s = cli_fail(&err);
			status = status ? status : s;
			continue;
		}
		if (json) {
			lsec_err perr = LSEC_ERR_INIT;
			if (cli_print_json(profile_json(a->args[i], p), &perr) < 0) {
				status = status ? status : cli_fail(&perr);
			}
		} else {
			json_t *u = unsupported_json(p);
			printf("%s: ok: profile %s, family %s, %s on hardware (%s)\n",
			       cli_esc(a->args[i]), cli_esc(lsec_device_profile_name(p)),
			       cli_esc(lsec_device_profile_family(p)),
			       lsec_device_profile_tested(p) ? "tested" : "NOT tested",
			       cli_esc(lsec_device_profile_file(p)));
			if (u != NULL && json_array_size(u) > 0) {
				printf("  not supported by this device:");
				for (size_t k = 0; k < json_array_size(u); k++) {
					printf(" %s", json_string_value(json_array_get(u, k)));
				}
				printf("\n");
			}
			json_decref(u);
			for (size_t k = 0; lsec_device_profile_warning(p, k) != NULL; k++) {
				printf("  warning: %s\n", cli_esc(lsec_device_profile_warning(p, k)));
			}
		}
		lsec_device_profile_free(p);
	}
	c->status = status;
	c->reported = status != CLI_EXIT_OK;
	return 0;
}

static const cli_opt check_opts[] = {
	CLI_OPT_JSON("each profile's summary"),
	CLI_OPT_END,
};

static const cli_spec check_spec = {
	.usage = "profile check [--json] FILE|NAME...",
	.summary = "check device profiles: the format, every field, the fuse layout",
	.opts = check_opts,
	.min_args = 1,
	.max_args = -1,
	.details = "NAME is looked up in $LINESEC_PROFILES, then among the built-in profiles; an\n"
		   "argument holding '/' or ending in .yaml is a file. An error names the file,\n"
		   "line, column and field. A warning names an SOP step the device cannot do: the\n"
		   "ship gate refuses such units.\nExit status: 0 when every profile loads, else the "
		   "status of the first failure.",
	.body = check_body,
};

static int list_body(cli_ctx *c)
{
	int rc = 0;
	lsec_device_profile_entry *l = NULL;
	size_t n = 0;
	LSEC_TRY(lsec_device_profile_list(&l, &n, &c->err));
	if (cli_flag(&c->a, "json")) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_array_append_new(arr, json_pack("{s:s, s:s}", "name", l[i].name,
							     "source", l[i].source));
		}
		rc = cli_print_json(arr, &c->err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%-24s %s\n", cli_esc(l[i].name), cli_esc(l[i].source));
	}
out:
	lsec_device_profile_list_free(l, n);
	return rc;
}

static const cli_opt list_opts[] = {
	CLI_OPT_JSON("the profiles"),
	CLI_OPT_END,
};

static const cli_spec list_spec = {
	.usage = "profile list [--json]",
	.summary = "list the device profiles found by name ($LINESEC_PROFILES, then built in)",
	.opts = list_opts,
	.body = list_body,
};

const cli_cmd cli_profile_cmds[] = {
	{"check", &check_spec, NULL, "check device profiles"},
	{"list", &list_spec, NULL, "list the device profiles found by name"},
	{NULL, NULL, NULL, NULL},
};
