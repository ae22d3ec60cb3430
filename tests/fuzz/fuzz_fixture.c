/*
 * fuzz_fixture.c - the fixture file parser on arbitrary bytes.
 *
 * Target function: lsec_station_fixture_parse (libfyaml document, keys,
 * socket numbers, probe URIs, serials, duplicates). Any input must give a
 * fixture or an error, never a crash, a leak or undefined behaviour.
 */
#include "linesec/station.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_fixture *f = NULL;
	if (lsec_station_fixture_parse(&f, data, size, "fuzz", &err) < 0) {
		if (err.msg[0] == '\0' || f != NULL) {
			__builtin_trap(); /* every refusal says why, and leaves nothing */
		}
		return 0;
	}
	for (size_t i = 0; i < lsec_station_fixture_count(f); i++) {
		const lsec_station_fixture_socket *s = lsec_station_fixture_at(f, i);
		if (s == NULL || s->probe == NULL || s->socket == 0 ||
		    s->socket > LSEC_STATION_FIXTURE_MAX_SOCKETS) {
			__builtin_trap(); /* a parsed socket is whole */
		}
	}
	lsec_station_fixture_free(f);
	return 0;
}
