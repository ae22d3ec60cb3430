/*
 * fuzz_line.c - the line configuration (line.yaml) parser on arbitrary bytes.
 *
 * Target functions: lsec_line__config_parse (libfyaml document, required
 * fields, ids, session lifetime, products with targets and policies, unknown keys). Any
 * input must give a configuration or an error, never a crash, a leak or
 * undefined behaviour.
 */
#include "line/line_int.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *line = lsec_calloc(1, sizeof(*line));
	if (line == NULL) {
		return 0;
	}
	if (lsec_line__config_parse(line, (const char *)data, size, "fuzz.yaml", &err) == 0) {
		const char *id, *target;
		const struct json_t *pol;
		for (size_t i = 0; lsec_line_product(line, i, &id, &target, &pol); i++) {
			if (id == NULL || target == NULL || pol == NULL) {
				__builtin_trap(); /* a parsed product is complete */
			}
		}
	} else if (err.msg[0] == '\0') {
		__builtin_trap(); /* every refusal says why */
	}
	lsec_line_close(line);
	return 0;
}
