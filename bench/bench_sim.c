/*
 * bench_sim - what a zero-latency simulated unit costs the station.
 *
 * 1. Flash: erase, write and device-side SHA-256 of 1 MiB through the
 *    target interface, against two baselines measured in the same run:
 *    memcpy + SHA-256 of 1 MiB in memory, and a plain file write + fsync of
 *    1 MiB + SHA-256 (the least a durable device model can do).
 * 2. Fuses: every named fuse burned (digest, secure boot, a 64-step
 *    anti-rollback counter, debug lock, UART, OTP lock) and read back,
 *    against the same number of fsync'd writes of a 256-byte OTP image.
 * 3. Flash in 4 KiB chunks: the same 1 MiB as 256 writes (each one durable:
 *    the unit's flash file is replaced every time), against 256 fsync'd
 *    4 KiB writes to one file.
 * Each figure is the median of RUNS runs (3 for the chunked case); ratios
 * are sim / baseline.
 */
#include "benchutil.h"
#include "linesec/device.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUNS 7
#define MIB (1u << 20)

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), bench_cmp_double);
	return v[n / 2];
}

static void check(int rc, const lsec_err *err)
{
	if (rc < 0) {
		fprintf(stderr, "bench_sim: %s\n", err->msg);
		exit(1);
	}
}

/* One durable write of n bytes to path (open, write, fsync, close). */
static void file_write_sync(const char *path, const uint8_t *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n || fsync(fd) != 0) {
		perror("bench_sim: baseline write");
		exit(1);
	}
	close(fd);
}

static lsec_device *open_unit(const char *dir, unsigned idx)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	char uri[512];
	snprintf(uri, sizeof(uri), "sim:%s/unit-%03u.sim", dir, idx);
	check(lsec_device_open(&t, uri, &err), &err);
	check(lsec_device_debug_attach(t, &err), &err);
	return t;
}

int main(void)
{
	lsec_err err = LSEC_ERR_INIT;
	char dir[] = "/tmp/bench-sim-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("bench_sim: mkdtemp");
		return 1;
	}
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = RUNS + 1;
	o.flash_size = 2 * MIB;
	check(lsec_device_sim_fleet_new(NULL, dir, &o, &err), &err);

	uint8_t *img = lsec_malloc(MIB), *copy = lsec_malloc(MIB);
	if (img == NULL || copy == NULL) {
		return 1;
	}
	for (size_t i = 0; i < MIB; i++) {
		img[i] = (uint8_t)(i * 2654435761u >> 13);
	}
	uint8_t h1[32], h2[32];
	double sim_flash[RUNS], mem[RUNS], file[RUNS];
	char base_path[600];
	snprintf(base_path, sizeof(base_path), "%s/baseline.bin", dir);

	lsec_device *t = open_unit(dir, 1);
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_ms();
		check(lsec_device_flash_erase(t, 0, MIB, &err), &err);
		check(lsec_device_flash_write(t, 0, img, MIB, &err), &err);
		check(lsec_device_flash_hash(h1, t, 0, MIB, &err), &err);
		double t1 = bench_now_ms();
		memcpy(copy, img, MIB);
		check(lsec_sha256(h2, copy, MIB, &err), &err);
		double t2 = bench_now_ms();
		file_write_sync(base_path, img, MIB);
		check(lsec_sha256(h2, img, MIB, &err), &err);
		double t3 = bench_now_ms();
		sim_flash[r] = t1 - t0;
		mem[r] = t2 - t1;
		file[r] = t3 - t2;
		if (memcmp(h1, h2, 32) != 0) {
			fprintf(stderr, "bench_sim: flash hash differs from the image's\n");
			return 1;
		}
	}
	lsec_device_close(t);

	/* Fuses: a fresh unit per run (fuses only burn once). */
	double sim_fuse[RUNS], otp_file[RUNS];
	int burns = 0;
	uint8_t digest[32], otp_image[256];
	memset(digest, 0x5a, sizeof(digest));
	memset(otp_image, 0, sizeof(otp_image));
	for (int r = 0; r < RUNS; r++) {
		t = open_unit(dir, (unsigned)r + 2);
		double t0 = bench_now_ms();
		check(lsec_device_fuse_burn_digest(t, digest, &err), &err);
		check(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
		check(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 64, &err), &err);
		check(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 2, &err), &err);
		check(lsec_device_fuse_set(t, LSEC_FUSE_UART_DISABLE, 1, &err), &err);
		check(lsec_device_fuse_set(t, LSEC_FUSE_OTP_LOCK, 1, &err), &err);
		for (int f = 0; f < LSEC_FUSE_COUNT; f++) {
			lsec_device_fuse_value v;
			check(lsec_device_fuse_read(&v, t, (lsec_device_fuse)f, &err), &err);
		}
		double t1 = bench_now_ms();
		/* One durable OTP write per word burned: 8 digest + 1 + 2 + 1 + 1 + 1. */
		burns = 14;
		for (int k = 0; k < burns; k++) {
			otp_image[k] = 0xff;
			file_write_sync(base_path, otp_image, sizeof(otp_image));
		}
		double t2 = bench_now_ms();
		sim_fuse[r] = t1 - t0;
		otp_file[r] = t2 - t1;
		lsec_device_close(t);
	}

	/* Chunked writes: fewer runs, each is 256 durable updates. */
	double sim_chunk[3], raw_chunk[3];
	t = open_unit(dir, 1);
	for (int r = 0; r < 3; r++) {
		double t0 = bench_now_ms();
		check(lsec_device_flash_erase(t, 0, MIB, &err), &err);
		for (uint32_t off = 0; off < MIB; off += 4096) {
			check(lsec_device_flash_write(t, off, img + off, 4096, &err), &err);
		}
		double t1 = bench_now_ms();
		int fd = open(base_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		for (uint32_t off = 0; fd >= 0 && off < MIB; off += 4096) {
			if (pwrite(fd, img + off, 4096, off) != 4096 || fsync(fd) != 0) {
				perror("bench_sim: baseline chunk");
				return 1;
			}
		}
		if (fd >= 0) {
			close(fd);
		}
		double t2 = bench_now_ms();
		sim_chunk[r] = t1 - t0;
		raw_chunk[r] = t2 - t1;
	}
	lsec_device_close(t);

	double sf = median(sim_flash, RUNS), m = median(mem, RUNS), fw = median(file, RUNS);
	double su = median(sim_fuse, RUNS), of = median(otp_file, RUNS);
	printf("bench_sim: zero-latency sim unit, 2 MiB flash, median of %d runs\n", RUNS);
	printf("  flash erase+write+hash 1 MiB (sim)     %8.2f ms\n", sf);
	printf("  baseline memcpy+SHA-256 1 MiB          %8.2f ms   sim/baseline %6.1fx\n", m,
	       sf / m);
	printf("  baseline file write+fsync+SHA-256 1 MiB%8.2f ms   sim/baseline %6.1fx\n", fw,
	       sf / fw);
	double sc = median(sim_chunk, 3), rc = median(raw_chunk, 3);
	printf("  flash 1 MiB as 256 x 4 KiB writes (sim)%8.2f ms\n", sc);
	printf("  baseline 256 x (pwrite 4 KiB + fsync)  %8.2f ms   sim/baseline %6.1fx\n", rc,
	       sc / rc);
	printf("  full fuse burn + read-back (sim)       %8.2f ms\n", su);
	printf("  baseline %d fsync'd 256-byte OTP writes%8.2f ms   sim/baseline %6.1fx\n", burns,
	       of, su / of);

	lsec_free(img);
	lsec_free(copy);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
