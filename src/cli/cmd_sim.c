/* `linesec sim`: create fleets of simulated units and show one unit's state. */
#include "cli.h"
#include "linesec/device.h"
#include "linesec/image.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt new_opts[] = {
	CLI_REQUIRED("count", "N", "number of units (1 to 999)"),
	CLI_REQUIRED("dir", "DIR", "folder for the units and fleet.json (created if missing)"),
	CLI_OPT("seed", "S", "seed for UIDs and fault randomness (reproducible fleet); default random"),
	CLI_OPT("flash-size", "BYTES", "flash size per unit (default 1048576)"),
	CLI_OPT("page-size", "BYTES", "flash page (erase unit) size (default 4096)"),
	CLI_FLAG("no-keygen", "units without on-device key generation (the station injects keys)"),
	CLI_OPT("faults", "SPEC", "fault options in URI query syntax, e.g. 'flash_cut=4096&boot_fail=1'"),
	CLI_OPT("fault-units", "LIST", "units (1-based, comma-separated) given --faults; default all"),
	CLI_OPT("fault-plan", "FILE", "JSON object from unit number to its fault options"),
	CLI_OPT("clone", "A:B", "unit B gets unit A's UID (a cloned chip)"),
	CLI_OPT("prefix", "P", "file names PNNN.sim, hence serials PNNN (default 'unit-'); a second "
			       "batch on a line takes a prefix of its own"),
	CLI_FLAG("json", "print the fleet description as JSON"),
	CLI_OPT_END,
};


static const cli_opt show_opts[] = {
	CLI_FLAG("json", "print the unit as JSON"),
	CLI_OPT_END,
};


static const cli_opt flash_opts[] = {
	CLI_FLAG("json", "print the result as JSON"),
	CLI_OPT_END,
};



/* Opens UNIT, a state file or a sim: URI; attaches when asked. */
static int open_unit(lsec_device **t, const char *unit, bool attach, lsec_err *err)
{
	int rc = 0;
	char *uri = strncmp(unit, "sim:", 4) == 0 || strncmp(unit, "rsp:", 4) == 0
			    ? lsec_strdup(unit)
			    : lsec_asprintf("sim:%s", unit);
	LSEC_ENSURE(uri != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_device_open(t, uri, err));
	if (attach) {
		LSEC_TRY(lsec_device_debug_attach(*t, err));
	}
out:
	lsec_free(uri);
	return rc;
}

static int parse_clone(lsec_device_sim_options *o, const char *s, lsec_err *err)
{
	int rc = 0;
	char *end = NULL;
	if (s == NULL) {
		return 0;
	}
	LSEC_ENSURE(s[0] >= '1' && s[0] <= '9', LSEC_E_USAGE,
		    "invalid --clone '%s': expected A:B (unit numbers)", s);
	unsigned long a = strtoul(s, &end, 10);
	LSEC_ENSURE(*end == ':' && end[1] >= '1' && end[1] <= '9', LSEC_E_USAGE,
		    "invalid --clone '%s': expected A:B (unit numbers)", s);
	const char *bs = end + 1;
	unsigned long b = strtoul(bs, &end, 10);
	LSEC_ENSURE(*end == 0 && a <= 999 && b <= 999, LSEC_E_USAGE,
		    "invalid --clone '%s': expected A:B (unit numbers)", s);
	o->clone_src = (unsigned)a;
	o->clone_dst = (unsigned)b;
out:
	return rc;
}

static int new_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	lsec_device_sim_fleet *fleet = NULL;
	json_t *j = NULL, *plan = NULL;
	lsec_buf plan_text = LSEC_BUF_INIT(1u << 20);
	uint64_t count = 0, flash = 0, page = 0, seed = 0;
	const char *plan_path = cli_get(a, "fault-plan");
	LSEC_TRY(cli_get_u64(a, "count", 999, &count, err));
	LSEC_TRY(cli_get_u64(a, "flash-size", UINT32_MAX, &flash, err));
	LSEC_TRY(cli_get_u64(a, "page-size", UINT32_MAX, &page, err));
	LSEC_TRY(cli_get_u64(a, "seed", UINT64_MAX, &seed, err));
	LSEC_TRY(parse_clone(&o, cli_get(a, "clone"), err));
	o.count = (unsigned)count;
	o.flash_size = (uint32_t)flash;
	o.page_size = (uint32_t)page;
	o.has_seed = cli_get(a, "seed") != NULL;
	o.seed = seed;
	o.no_keygen = cli_flag(a, "no-keygen");
	o.faults = cli_get(a, "faults");
	o.fault_units = cli_get(a, "fault-units");
	o.prefix = cli_get(a, "prefix");
	if (plan_path != NULL) {
		LSEC_TRY(lsec_file_read(&plan_text, plan_path, err));
		LSEC_TRY(lsec_json_parse(&plan, (const char *)plan_text.data, plan_text.len, plan_path,
					 err));
		o.fault_plan = plan;
	}
	LSEC_TRY(lsec_device_sim_fleet_new(&fleet, cli_get(a, "dir"), &o, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(lsec_device_sim_fleet_json(&j, fleet, err));
		LSEC_TRY(lsec_json_print(stdout, j, err));
		goto out;
	}
	for (size_t i = 0; i < fleet->nunits; i++) {
		const lsec_device_sim_unit_info *u = &fleet->units[i];
		printf("%s  uid %s%s%s\n", u->uri, u->uid_hex, u->faults ? "  faults " : "",
		       u->faults ? u->faults : "");
	}
out:
	json_decref(j);
	lsec_device_sim_fleet_free(fleet);
	json_decref(plan);
	lsec_buf_release(&plan_text);
	return rc;
}

static const cli_spec new_spec = {
	.usage = "sim new --count N --dir DIR [--seed S] [--flash-size BYTES] [--faults SPEC] "
		 "[options]",
	.summary = "Create a fleet of simulated MCUs: DIR/unit-NNN.sim, their device secrets and "
		   "DIR/fleet.json.",
	.opts = new_opts,
	.details = "Open a unit as the device URI sim:DIR/unit-NNN.sim. Fault options "
		   "(docs/device.md):\nflash_cut=K (power loss after K bytes of flash writes), "
		   "otp_cut=N (power loss during\nthe Nth OTP burn), attach_fail=P, boot_fail=N, "
		   "stuck=ADDR:BIT:VALUE, lat_kib_us=U,\nlat_op_us=U. A unit's own faults fire once; "
		   "the same options in a URI's query fire\nonce per session. A fault plan gives each "
		   "unit its own: {\"2\": \"flash_cut=4096\"}.",
	.body = new_body,
};

static void print_fuse(const lsec_device_description *d, lsec_device_fuse fuse)
{
	char where[48];
	const lsec_device_fuse_field *fl = &d->info.fuses[fuse];
	const lsec_device_fuse_value *v = &d->fuses[fuse];
	const char *desc = lsec_device_fuse_description(fuse);
	long long w = fl->word, n = fl->nwords;
	if (n > 1) {
		snprintf(where, sizeof(where), "W%lld-%lld", w, w + n - 1);
	} else {
		snprintf(where, sizeof(where), "W%lld", w);
	}
	const char *rw = v->locked ? "R/-" : "R/W";
	char left[96];
	snprintf(left, sizeof(left), "%s (%s)", lsec_device_fuse_name(fuse), where);
	if (lsec_device_fuse_is_digest(fuse)) {
		char hex[2 * LSEC_DEVICE_DIGEST_LEN + 1];
		lsec_hex_encode(hex, v->bytes, sizeof(v->bytes));
		printf("%-32s %-40s\n   = %s %s\n", left, desc, hex, rw);
		return;
	}
	long long val = v->value;
	int nbits = __builtin_popcount(fl->mask) * (int)n;
	if (nbits == 1) {
		printf("%-32s %-52s = %s %s (0b%lld)\n", left, desc, val ? "True" : "False", rw, val);
	} else {
		printf("%-32s %-52s = %lld %s (%d bits)\n", left, desc, val, rw, nbits);
	}
}

static void print_unit(const lsec_device_description *d)
{
	printf("%s unit %s\nUID %s, flash %lld bytes (page %lld), %lld OTP words\ncapabilities:",
	       d->info.chip_id, d->uri, d->uid_hex, (long long)d->info.flash_size,
	       (long long)d->info.page_size, (long long)d->info.otp_words);
	for (size_t i = 0; i < d->ncapabilities; i++) {
		printf(" %s", d->capabilities[i]);
	}
	printf("\n\nEFUSE_NAME (Word)                Description%42s= [Meaningful Value] [Readable/Writeable] (Hex Value)\n",
	       "");
	printf("%.*s\nSecurity fuses:\n", 120,
	       "------------------------------------------------------------------------------------------------------------------------");
	for (int f = 0; f < LSEC_FUSE_COUNT; f++) {
		print_fuse(d, (lsec_device_fuse)f);
	}
	printf("\nDebug lock level in effect: %lld\nKey slots:\n", (long long)d->debug_lock_level);
	for (unsigned s = 0; s < d->info.key_slots; s++) {
		printf("  slot %u: %s%s\n", s, d->slots[s].state_name,
		       d->slots[s].status.has_cert ? ", certificate stored" : "");
	}
}

static int show_body(cli_ctx *c)
{
	int rc = 0;
	lsec_device *t = NULL;
	lsec_device_description *d = NULL;
	json_t *j = NULL;
	LSEC_TRY(open_unit(&t, c->a.args[0], false, &c->err));
	LSEC_TRY(lsec_device_describe(&d, t, &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_device_description_json(&j, d, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
	} else {
		print_unit(d);
	}
out:
	json_decref(j);
	lsec_device_description_free(d);
	lsec_device_close(t);
	return rc;
}

static const cli_spec show_spec = {
	.usage = "sim show UNIT [--json]",
	.summary = "Show a simulated unit: identity, capabilities, named fuses (like espefuse "
		   "summary), key slots.",
	.opts = show_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "UNIT is a state file (DIR/unit-001.sim) or a device URI (sim:DIR/unit-001.sim).",
	.body = show_body,
};

static int flash_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_device *t = NULL;
	lsec_buf img = LSEC_BUF_INIT(64u << 20);
	uint8_t digest[32];
	char hex[65];
	LSEC_TRY(lsec_file_read(&img, c->a.args[1], err));
	LSEC_TRY(open_unit(&t, c->a.args[0], true, err));
	LSEC_TRY(lsec_device_flash_program(t, 0, img.data, img.len, err));
	LSEC_TRY(lsec_sha256(digest, img.data, img.len, err));
	lsec_hex_encode(hex, digest, sizeof(digest));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(cli_print_json(json_pack("{s:s,s:I,s:s}", "unit", lsec_device_uri(t), "bytes",
						  (json_int_t)img.len, "sha256", hex),
					err));
	} else {
		printf("programmed %zu bytes at 0x0 of %s, read-back SHA-256 %s\n", img.len,
		       lsec_device_uri(t), hex);
	}
out:
	lsec_device_close(t);
	lsec_buf_release(&img);
	return rc;
}

static const cli_spec flash_spec = {
	.usage = "sim flash UNIT IMAGE [--json]",
	.summary = "Program a file at flash offset 0 of a simulated unit: erase, write, verify the "
		   "read-back SHA-256.",
	.opts = flash_opts,
	.min_args = 2,
	.max_args = 2,
	.details = "For rehearsals and demos; on the line, flashing is SOP 1, run by the station.",
	.body = flash_body,
};

static int boot_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err, berr = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	lsec_device_boot_report br;
	json_t *j = NULL;
	LSEC_TRY(open_unit(&t, c->a.args[0], false, err));
	/* A refused boot is an outcome to report, with its own exit status. */
	int brc = lsec_device_reset(&br, t, &berr);
	if (brc < 0 && brc != LSEC_E_TGT_BOOT_REFUSED) {
		*err = berr;
		LSEC_TRY(brc);
	}
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_device_boot_report_describe(&j, &br, err));
		LSEC_TRY(lsec_json_print(stdout, j, err));
	} else {
		char digest[2 * LSEC_DEVICE_DIGEST_LEN + 1] = "-", version[32] = "-";
		lsec_image_version v = {br.ver_major, br.ver_minor, br.ver_revision, br.ver_build};
		if (br.measured) {
			lsec_hex_encode(digest, br.digest, sizeof(br.digest));
		}
		if (br.booted) {
			LSEC_TRY(lsec_image_version_format(version, sizeof(version), v));
		}
		printf("booted: %s\nboot error: %u (%s)\nmeasured digest: %s\nversion: %s\n"
		       "secure boot: %s\nuart console: %s\n",
		       br.booted ? "yes" : "no", br.boot_error,
		       lsec_device_boot_error_name(br.boot_error), digest, version,
		       br.secure_boot ? "on" : "off", br.uart_open ? "open" : "closed");
	}
	c->status = brc < 0 ? cli_exit_code(brc) : CLI_EXIT_OK;
out:
	json_decref(j);
	lsec_device_close(t);
	return rc;
}

static const cli_spec boot_spec = {
	.usage = "sim boot UNIT [--json]",
	.summary = "Reset a simulated unit and print its boot report (booted, boot error, measured "
		   "digest, version).",
	.opts = show_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Exit status 8 when the boot stage refused to boot (the report says why).",
	.body = boot_body,
};

static const cli_opt serve_opts[] = {
	CLI_REQUIRED("listen", "HOST:PORT", "address to listen on (PORT 0: any free port)"),
	CLI_FLAG("no-x", "refuse binary writes (X), as QEMU does: clients write with M"),
	CLI_FLAG("no-vflash", "refuse vFlash packets: clients erase with the monitor command"),
	CLI_OPT("probe-serial", "SERIAL", "the probe serial the server reports (a fixture checks it)"),
	CLI_OPT("drop-on", "TEXT", "drop the link once, at a monitor command starting with TEXT (tests)"),
	CLI_OPT("drop-nth", "N", "with --drop-on: at the Nth such command (default 1)"),
	CLI_OPT_END,
};

static void serve_ready(void *arg, unsigned port)
{
	(void)arg;
	printf("%u\n", port);
	fflush(stdout);
}

static int serve_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_device_serve_options o = LSEC_DEVICE_SERVE_OPTIONS_INIT;
	const char *unit = c->a.args[0];
	char *uri = strncmp(unit, "sim:", 4) == 0 ? lsec_strdup(unit) : lsec_asprintf("sim:%s", unit);
	LSEC_ENSURE(uri != NULL, LSEC_E_NOMEM, "out of memory");
	o.listen = cli_get(&c->a, "listen");
	o.ready = serve_ready;
	o.no_binary = cli_flag(&c->a, "no-x");
	o.no_vflash = cli_flag(&c->a, "no-vflash");
	o.probe_serial = cli_get(&c->a, "probe-serial");
	o.drop_on = cli_get(&c->a, "drop-on");
	uint64_t nth = 0;
	LSEC_TRY(cli_get_u64(&c->a, "drop-nth", 1000000, &nth, err));
	o.drop_nth = (unsigned)nth;
	LSEC_TRY(lsec_device_sim_serve(uri, &o, err));
out:
	lsec_free(uri);
	return rc;
}

static const cli_spec serve_spec = {
	.usage = "sim serve UNIT --listen HOST:PORT [--no-x] [--no-vflash] [--probe-serial SERIAL] "
		 "[--drop-on TEXT [--drop-nth N]]",
	.summary = "Serve a simulated unit over the GDB remote serial protocol, one connection at "
		   "a time, until killed or sent a k packet.",
	.opts = serve_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Prints the port it listens on once ready. Open the unit as the device URI\n"
		   "rsp://HOST:PORT?profile=linesec-sim: flash moves with memory packets, the other\n"
		   "operations are `lsec` monitor commands (docs/device.md, \"RSP backend\").",
	.body = serve_body,
};

const cli_cmd cli_sim_cmds[] = {
	{"new", &new_spec, NULL, "create a fleet of simulated units"},
	{"show", &show_spec, NULL, "show one unit's identity, fuses and key slots"},
	{"flash", &flash_spec, NULL, "program an image into a unit (erase, write, verify)"},
	{"boot", &boot_spec, NULL, "reset a unit and print its boot report"},
	{"serve", &serve_spec, NULL, "serve a unit over the GDB remote serial protocol"},
	{NULL, NULL, NULL, NULL},
};
