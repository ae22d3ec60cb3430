/*
 * fuzz_sim_state.c - the simulated unit's parsers on arbitrary bytes.
 *
 * Target functions: lsec_device__sim_parse (the versioned state file:
 * header, sizes, faults, OTP, key slots, blobs, checksum), and on the same
 * bytes as text lsec_device__sim_faults_parse (URI fault options). The
 * state checksum would stop mutations early, so each input is tried both
 * as given and with its trailing SHA-256 recomputed. Any input must parse
 * or fail with an error code, never crash, leak or read out of bounds.
 */
#include "device/device_int.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_state(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	sim_unit u;
	if (lsec_device__sim_parse(&u, data, size, "fuzz.sim", &err) == 0) {
		lsec_device__sim_unit_release(&u);
	} else if (err.code != LSEC_E_TGT_BAD_STATE && err.code != LSEC_E_NOMEM) {
		__builtin_trap(); /* every rejection names the bad field */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	if (size > (1u << 20)) {
		return 0;
	}
	parse_state(data, size);
	uint8_t *copy = lsec_malloc(size + 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);
	if (size > 32 && lsec_sha256(copy + size - 32, copy, size - 32, &err) == 0) {
		parse_state(copy, size);
	}
	memcpy(copy, data, size);
	copy[size] = 0;
	sim_faults f;
	bool has_seed = false;
	uint64_t seed = 0;
	int rc = lsec_device__sim_faults_parse(&f, &has_seed, &seed, (const char *)copy, &err);
	if (rc < 0 && rc != LSEC_E_TGT_BAD_URI && rc != LSEC_E_NOMEM) {
		__builtin_trap();
	}
	lsec_free(copy);
	return 0;
}
