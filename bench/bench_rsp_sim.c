/*
 * bench_rsp_sim - flashing throughput over the GDB remote serial protocol
 * into `linesec sim serve` (lsec_device_sim_serve, in a thread on a
 * loopback port) against the same unit opened directly (sim:), measured in
 * one run: lsec_device_flash_program of 1 MiB (erase, write, device-side
 * SHA-256 verify), the median of RUNS runs each. Two servers: one taking
 * vFlash/X (binary writes) and one refusing them as QEMU's gdbstub does
 * (hex M writes). Prints MiB/s and the ratio rsp / sim (1.0: the link
 * costs nothing).
 */
#include "benchutil.h"
#include "linesec/device.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUNS 9
#define MIB (1u << 20)

typedef struct server {
	pthread_t th;
	lsec_device_serve_options o;
	const char *unit;
	volatile unsigned port;
	volatile int stop;
	int rc;
	lsec_err err;
} server;

static void check(int rc, const lsec_err *err)
{
	if (rc < 0) {
		fprintf(stderr, "bench_rsp_sim: %s\n", err->msg);
		exit(1);
	}
}

static void on_ready(void *arg, unsigned port)
{
	((server *)arg)->port = port;
}

static void *serve_main(void *arg)
{
	server *s = arg;
	s->rc = lsec_device_sim_serve(s->unit, &s->o, &s->err);
	return NULL;
}

/* Median ms of RUNS programs of data (MIB bytes) into the device at uri. */
static double program_ms(const char *uri, const uint8_t *data)
{
	lsec_err err = LSEC_ERR_INIT;
	double t[RUNS];
	lsec_device *d = NULL;
	check(lsec_device_open(&d, uri, &err), &err);
	check(lsec_device_debug_attach(d, &err), &err);
	for (int i = 0; i < RUNS; i++) {
		double t0 = bench_now_ms();
		check(lsec_device_flash_program(d, 0, data, MIB, &err), &err);
		t[i] = bench_now_ms() - t0;
	}
	lsec_device_close(d);
	qsort(t, RUNS, sizeof(double), bench_cmp_double);
	return t[RUNS / 2];
}

static double over_rsp(const char *unit, const uint8_t *data, bool like_qemu)
{
	lsec_device_serve_options o = LSEC_DEVICE_SERVE_OPTIONS_INIT;
	server s;
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.o.listen = "127.0.0.1:0";
	s.o.ready = on_ready;
	s.o.arg = &s;
	s.o.stop = &s.stop;
	s.o.no_binary = like_qemu;
	s.o.no_vflash = like_qemu;
	s.unit = unit;
	if (pthread_create(&s.th, NULL, serve_main, &s) != 0) {
		fprintf(stderr, "bench_rsp_sim: cannot start the server thread\n");
		exit(1);
	}
	for (int i = 0; i < 500 && s.port == 0; i++) {
		usleep(10000);
	}
	char uri[96];
	snprintf(uri, sizeof(uri), "rsp://127.0.0.1:%u?profile=linesec-sim", s.port);
	double ms = program_ms(uri, data);
	s.stop = 1;
	pthread_join(s.th, NULL);
	check(s.rc, &s.err);
	return ms;
}

int main(void)
{
	lsec_err err = LSEC_ERR_INIT;
	char dir[] = "/tmp/bench-rsp-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char fleet[64], unit[96];
	snprintf(fleet, sizeof(fleet), "%s/fleet", dir);
	lsec_device_sim_options so = LSEC_DEVICE_SIM_OPTIONS_INIT;
	so.flash_size = 2 * MIB;
	so.has_seed = true;
	so.seed = 1;
	check(lsec_device_sim_fleet_new(NULL, fleet, &so, &err), &err);
	snprintf(unit, sizeof(unit), "sim:%s/unit-001.sim", fleet);
	uint8_t *data = malloc(MIB);
	if (data == NULL) {
		return 1;
	}
	srand(7);
	for (size_t i = 0; i < MIB; i++) {
		data[i] = (uint8_t)rand();
	}
	double sim = program_ms(unit, data);
	double bin = over_rsp(unit, data, false);
	double hex = over_rsp(unit, data, true);
	printf("flash_program 1 MiB (median of %d)\n", RUNS);
	printf("  sim: directly            %8.1f ms  %7.2f MiB/s\n", sim, 1e3 / sim);
	printf("  rsp: vFlash/X (binary)   %8.1f ms  %7.2f MiB/s  ratio rsp/sim %.2f\n", bin,
	       1e3 / bin, sim / bin);
	printf("  rsp: M (hex, as QEMU)    %8.1f ms  %7.2f MiB/s  ratio rsp/sim %.2f\n", hex,
	       1e3 / hex, sim / hex);
	free(data);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
