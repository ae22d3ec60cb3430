/*
 * fuzz_monitor.c - the sim server's monitor commands (`linesec sim serve`)
 * on arbitrary bytes.
 *
 * Target function: rsp_server__monitor (src/device/rsp_server.c): the
 * qRcmd payload's hex decoding, the word split and every `lsec` command's
 * argument parsing (decimal and 0x numbers, hex blobs, slots, words, OTP
 * bits), run against one simulated unit (state and flash files) restored
 * to the same bytes before each input. An input whose first byte is '!' is given as the payload
 * itself (the hex decoding under test); any other is the command text,
 * hex-encoded as a client sends it. Any input must give an "ok", "error
 * CODE MESSAGE" or E01 answer, never a crash, a leak or undefined
 * behaviour.
 */
#include "device/rsp_int.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/lsec-fuzz-monitor-XXXXXX";
static char unit_path[128], flash_path[160], uri[160];
static lsec_buf pristine = LSEC_BUF_INIT(1u << 20), pristine_flash = LSEC_BUF_INIT(1u << 20);
static int ready;

static void cleanup(void)
{
	static const char *const files[] = {"unit-001.sim", "unit-001.sim.huk", "unit-001.sim.flash",
					    "fleet.json"};
	char p[192];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		(void)remove(p);
	}
	(void)rmdir(dir);
	lsec_buf_release(&pristine);
	lsec_buf_release(&pristine_flash);
}

/* One small unit, kept as bytes: each input starts from the same state. */
static void setup(void)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	lsec_device_sim_fleet *f = NULL;
	o.flash_size = 16384;
	o.page_size = 4096;
	o.has_seed = true;
	o.seed = 7;
	if (mkdtemp(dir) == NULL || lsec_device_sim_fleet_new(&f, dir, &o, &err) != 0) {
		fprintf(stderr, "fuzz_monitor: cannot create the unit: %s\n", err.msg);
		abort();
	}
	snprintf(uri, sizeof(uri), "%s", f->units[0].uri);
	snprintf(unit_path, sizeof(unit_path), "%s/unit-001.sim", dir);
	snprintf(flash_path, sizeof(flash_path), "%s.flash", unit_path);
	lsec_device_sim_fleet_free(f);
	if (lsec_file_read(&pristine, unit_path, &err) != 0 ||
	    lsec_file_read(&pristine_flash, flash_path, &err) != 0) {
		fprintf(stderr, "fuzz_monitor: %s\n", err.msg);
		abort();
	}
	atexit(cleanup);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	lsec_buf out = LSEC_BUF_INIT(1u << 20), payload = LSEC_BUF_INIT(1u << 16);
	if (!ready) {
		setup();
	}
	if (size > 4096) {
		return 0;
	}
	if (lsec_file_write_atomic(unit_path, pristine.data, pristine.len, 0600, &err) != 0 ||
	    lsec_file_write_atomic(flash_path, pristine_flash.data, pristine_flash.len, 0600,
				   &err) != 0 ||
	    lsec_device_open(&t, uri, &err) != 0) {
		__builtin_trap(); /* the pristine unit always opens */
	}
	int rc;
	if (size > 0 && data[0] == '!') {
		rc = rsp_server__monitor(&out, t, (const char *)data + 1, size - 1, &err);
	} else {
		rc = rsp_hex_append(&payload, data, size, &err);
		if (rc == 0) {
			rc = rsp_server__monitor(&out, t, (const char *)payload.data, payload.len, &err);
		}
	}
	if (rc == 0 && !(out.len == 3 && memcmp(out.data, "E01", 3) == 0) &&
	    !(out.len >= 3 && out.data[out.len - 1] == '\n' &&
	      (memcmp(out.data, "ok", 2) == 0 || memcmp(out.data, "error ", 6) == 0))) {
		__builtin_trap(); /* every answer is one of the protocol's */
	}
	lsec_device_close(t);
	lsec_buf_release(&out);
	lsec_buf_release(&payload);
	return 0;
}
