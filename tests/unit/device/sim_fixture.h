/* Shared by the device tests: a scratch folder with one simulated unit. */
#ifndef LSEC_TEST_SIM_FIXTURE_H
#define LSEC_TEST_SIM_FIXTURE_H

#include "helpers/testutil.h"
#include "linesec/device.h"

#include <jansson.h>
#include <string.h>

typedef struct sim_fixture {
	char *dir;
	char *path; /* DIR/unit-001.sim */
	char *uri;  /* sim:DIR/unit-001.sim */
} sim_fixture;

/* Creates `count` units in a fresh folder with the given options (count, faults...). */
static inline void fixture_make(sim_fixture *fx, lsec_device_sim_options *o)
{
	lsec_err err = LSEC_ERR_INIT;
	fx->dir = lsec_test_tmpdir();
	if (o->flash_size == 0) {
		o->flash_size = 64 * 1024;
	}
	assert_lsec_ok(lsec_device_sim_fleet_new(NULL, fx->dir, o, &err), &err);
	fx->path = lsec_asprintf("%s/unit-001.sim", fx->dir);
	fx->uri = lsec_asprintf("sim:%s", fx->path);
}

static inline void fixture_default(sim_fixture *fx)
{
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.has_seed = true;
	o.seed = 42;
	fixture_make(fx, &o);
}

/* "sim:DIR/unit-NNN.sim" plus an optional "?query". */
static inline char *fixture_uri(const sim_fixture *fx, unsigned unit, const char *query)
{
	return lsec_asprintf("sim:%s/unit-%03u.sim%s%s", fx->dir, unit, query ? "?" : "",
			     query ? query : "");
}

static inline lsec_device *fixture_open(const char *uri, bool attach)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	if (attach) {
		assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	}
	return t;
}

static inline void fixture_free(sim_fixture *fx)
{
	lsec_free(fx->path);
	lsec_free(fx->uri);
	lsec_test_rmtree(fx->dir);
}

/* True when needle occurs in the file at path. */
static inline bool file_contains(const char *path, const uint8_t *needle, size_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(64u << 20);
	assert_lsec_ok(lsec_file_read(&b, path, &err), &err);
	bool found = false;
	for (size_t i = 0; n > 0 && i + n <= b.len && !found; i++) {
		found = memcmp(b.data + i, needle, n) == 0;
	}
	lsec_buf_release(&b);
	return found;
}

#endif
