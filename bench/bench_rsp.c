/*
 * Flashing throughput over the GDB Remote Serial Protocol into a QEMU test
 * unit (docs/qemu.md): a signed 200 KiB image (the test application padded
 * with random bytes) written into the application slot at 0x8000.
 *
 * Baseline: gdb-multiarch's own `restore IMG binary 0x8000` (the same M
 * packets its `load` sends to QEMU, which offers no flash commands), and its
 * read-back (`dump binary memory`). Each is timed inside one gdb session by
 * gdb's Python (connect and start-up not counted); the best of ROUNDS is
 * kept. After the last round the unit is reset and its boot stage must
 * attest the image's digest, which proves the bytes arrived.
 *
 * linesec's side: flash_linesec() programs the same image into the same
 * unit in the same run through the RSP backend
 * (rsp://127.0.0.1:PORT?profile=qemu-lm3s6965evb): the erase (skipped: the
 * profile says erase: none), write and read-back compare a line does, so
 * the bench prints linesec's best time as a ratio of gdb-multiarch's
 * restore plus read-back (goal >= 1.0).
 *
 * Needs qemu-system-arm, gdb-multiarch and the firmware build; says so and
 * exits 0 when one is missing. Usage: bench_rsp [ROUNDS] (default 5)
 */
#include "linesec/device.h"
#include "linesec/image.h"
#include "linesec/pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOT_ADDR 0x8000u
#define IMAGE_SIZE (200u * 1024u)

static char tmp[] = "/tmp/bench_rsp_XXXXXX";
static char unit[512], img_path[512], qemu_unit[512], cmd[4096];
static int unit_started;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cleanup(void)
{
	if (unit_started) {
		snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", qemu_unit, unit);
		if (system(cmd) != 0) {
			fprintf(stderr, "bench_rsp: qemu-unit stop failed\n");
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_rsp: cannot remove %s\n", tmp);
	}
}

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_rsp: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
	cleanup();
	exit(1);
}

static int have(const char *prog)
{
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static int file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* Reads one line of a file into out (newline dropped); returns 0 on success. */
static int read_line(char *out, size_t n, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		return -1;
	}
	int ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	out[strcspn(out, "\r\n")] = 0;
	return ok ? 0 : -1;
}

/* One gdb-multiarch batch session on the unit's GDB stub; returns its wall time. */
static double gdb_session(const char *port, const char *commands)
{
	snprintf(cmd, sizeof(cmd),
		 "timeout 120 gdb-multiarch -nx -batch -ex 'set architecture arm' "
		 "-ex 'target remote 127.0.0.1:%s' %s >>'%s/gdb.log' 2>&1",
		 port, commands, unit);
	double t0 = now();
	if (system(cmd) != 0) {
		die("gdb-multiarch session failed (see its log in the unit folder)", NULL);
	}
	return now() - t0;
}

/*
 * The hook for linesec's RSP backend: writes img (len bytes) at SLOT_ADDR of
 * the unit behind uri, reads it back, and sets *secs to the time the write
 * took (connect and attach excluded, as for the baseline). Returns 0, or -1
 * when it cannot measure (*why says why).
 */
static int flash_linesec(const char *uri, const uint8_t *img, size_t len, int rounds, double *secs,
			 const char **why)
{
	static char msg[LSEC_ERR_MSG_MAX + 32];
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	double best = 1e9;
	int rc = -1;
	if (lsec_device_open(&t, uri, &err) != 0 || lsec_device_debug_attach(t, &err) != 0) {
		goto out;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now();
		/* Device addresses are offsets from the profile's flash base (the slot). */
		if (lsec_device_flash_program(t, 0, img, len, &err) != 0) {
			goto out;
		}
		double d = now() - t0;
		best = d > 0 && d < best ? d : best;
	}
	*secs = best < 1e9 ? best : 0;
	rc = 0;
out:
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		*why = msg;
	}
	lsec_device_close(t);
	return rc;
}

int main(int argc, char **argv)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = NULL;
	lsec_buf img = LSEC_BUF_INIT(4u << 20);
	uint8_t digest[32];
	char hex[65], port[16], fwdir[512], path[600], app[600];
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	const char *env = getenv("LINESEC_FIRMWARE_DIR");

	if (rounds < 1) {
		rounds = 1;
	}
	snprintf(fwdir, sizeof(fwdir), "%s", env ? env : LSEC_FIRMWARE_DIR);
	snprintf(path, sizeof(path), "%s/boot.bin", fwdir);
	snprintf(app, sizeof(app), "%s/app-release.bin", fwdir);
	if (!have("qemu-system-arm") || !have("gdb-multiarch") || !file_exists(path) ||
	    !file_exists(app)) {
		printf("bench_rsp: skipped: needs qemu-system-arm, gdb-multiarch and the firmware "
		       "build (%s)\n",
		       fwdir);
		return 0;
	}
	if (!mkdtemp(tmp)) {
		die("mkdtemp", NULL);
	}
	snprintf(qemu_unit, sizeof(qemu_unit), "%s/scripts/qemu-unit", LSEC_SOURCE_DIR);
	snprintf(unit, sizeof(unit), "%s/unit", tmp);
	snprintf(img_path, sizeof(img_path), "%s/app.img", tmp);

	/* The image: the release application padded with random bytes, signed. */
	static uint8_t payload[IMAGE_SIZE];
	FILE *f = fopen(app, "rb");
	size_t n = f ? fread(payload, 1, sizeof(payload), f) : 0;
	if (f) {
		fclose(f);
	}
	if (n == 0) {
		die("cannot read the application binary", NULL);
	}
	srand(1);
	size_t plen = IMAGE_SIZE - 0x200u - 1024u; /* header and TLVs bring it near 200 KiB */
	for (size_t i = n; i < plen; i++) {
		payload[i] = (uint8_t)rand();
	}
	lsec_image_sign_options so = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	if (lsec_key_generate(&key, LSEC_KEY_ED25519, &err) != 0) {
		die("key", &err);
	}
	so.key = key;
	so.product = "qemu-test";
	so.header_size = 0x200;
	so.embed_pubkey = true;
	so.image_version.major = 1;
	if (lsec_image_sign(&img, payload, plen, &so, &err) != 0) {
		die("lsec_image_sign", &err);
	}
	lsec_image *parsed = NULL;
	if (lsec_image_parse(&parsed, img.data, img.len, "bench image", &err) != 0) {
		die("lsec_image_parse", &err);
	}
	(void)lsec_image_digest(digest, parsed);
	lsec_image_free(parsed);
	lsec_hex_encode(hex, digest, sizeof(digest));
	f = fopen(img_path, "wb");
	if (!f || fwrite(img.data, 1, img.len, f) != img.len || fclose(f) != 0) {
		die("cannot write the image", NULL);
	}

	snprintf(cmd, sizeof(cmd), "'%s' start '%s' --boot '%s' >/dev/null", qemu_unit, unit, path);
	if (system(cmd) != 0) {
		die("qemu-unit start failed", NULL);
	}
	unit_started = 1;
	snprintf(path, sizeof(path), "%s/port", unit);
	if (read_line(port, sizeof(port), path) != 0) {
		die("no port file", NULL);
	}

	char gdbcmds[3072], rb[600];
	size_t off = 0;
	snprintf(rb, sizeof(rb), "%s/readback.bin", tmp);
	off += (size_t)snprintf(gdbcmds + off, sizeof(gdbcmds) - off, "-ex 'python import time'");
	for (int r = 0; r < rounds && off < sizeof(gdbcmds) - 600; r++) {
		off += (size_t)snprintf(
			gdbcmds + off, sizeof(gdbcmds) - off,
			" -ex 'python t0 = time.monotonic()' -ex 'restore %s binary 0x%x'"
			" -ex 'python print(\"LSEC-WRITE %%.6f\" %% (time.monotonic() - t0))'"
			" -ex 'python t0 = time.monotonic()' -ex 'dump binary memory %s 0x%x 0x%zx'"
			" -ex 'python print(\"LSEC-READ %%.6f\" %% (time.monotonic() - t0))'",
			img_path, SLOT_ADDR, rb, SLOT_ADDR, SLOT_ADDR + img.len);
	}
	snprintf(path, sizeof(path), "%s/gdb.log", unit);
	gdb_session(port, gdbcmds);
	double best = 1e9, best_read = 1e9, t;
	f = fopen(path, "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "LSEC-WRITE %lf", &t) == 1 && t > 0 && t < best) {
			best = t;
		}
		if (sscanf(line, "LSEC-READ %lf", &t) == 1 && t > 0 && t < best_read) {
			best_read = t;
		}
	}
	if (f) {
		fclose(f);
	}
	if (best >= 1e9 || best_read >= 1e9) {
		die("no timing from gdb-multiarch (is it built with Python?)", NULL);
	}
	f = fopen(rb, "rb");
	n = f ? fread(payload, 1, sizeof(payload), f) : 0;
	if (f) {
		fclose(f);
	}
	if (n != img.len || memcmp(payload, img.data, n) != 0) {
		die("the read-back differs from the image", NULL);
	}
	double mib = (double)img.len / (1024.0 * 1024.0);

	/* The boot stage attests the image: the bytes arrived. */
	gdb_session(port, "-ex 'monitor system_reset' -ex detach");
	char want[128];
	snprintf(want, sizeof(want), "LSEC-ATTEST v1 digest=%s ", hex);
	snprintf(path, sizeof(path), "%s/uart.log", unit);
	int attested = 0;
	for (int i = 0; i < 100 && !attested; i++) {
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			attested |= strncmp(line, want, strlen(want)) == 0;
		}
		if (f) {
			fclose(f);
		}
		if (!attested) {
			usleep(100000);
		}
	}
	if (!attested) {
		die("the unit did not attest the image after the baseline's restore", NULL);
	}

	printf("image %zu bytes (%.1f KiB) into QEMU lm3s6965evb at 0x%x, best of %d rounds\n",
	       img.len, (double)img.len / 1024.0, SLOT_ADDR, rounds);
	printf("gdb-multiarch restore (baseline)  %8.4f s  %8.2f MiB/s  (attested by the boot "
	       "stage)\n",
	       best, mib / best);
	printf("gdb-multiarch read-back           %8.4f s  %8.2f MiB/s\n", best_read, mib / best_read);

	char uri[128];
	const char *why = NULL;
	double lt = 0;
	snprintf(uri, sizeof(uri), "rsp://127.0.0.1:%s?profile=qemu-lm3s6965evb", port);
	if (flash_linesec(uri, img.data, img.len, rounds, &lt, &why) == 0 && lt > 0) {
		/* linesec programs as a line does: erase, write and a read-back compare. */
		printf("linesec RSP flash_program         %8.4f s  %8.2f MiB/s  ratio %.2f against "
		       "restore + read-back (goal >= 1.0)\n",
		       lt, mib / lt, (best + best_read) / lt);
	} else {
		printf("linesec RSP backend               not measured: %s\n", why);
	}
	lsec_buf_release(&img);
	lsec_key_free(key);
	cleanup();
	return 0;
}
