/*
 * fuzz_profile.c - the device profile parser and checker on arbitrary bytes.
 *
 * Target functions: lsec_device_profile_parse (libfyaml document, every
 * section, step vocabulary, placeholders, numbers, fuse layout, warnings)
 * and, on a profile that loads, the accessors a backend uses. Any input must
 * give a profile or an error, never a crash, a leak or undefined behaviour.
 */
#include "linesec/device.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	if (lsec_device_profile_parse(&p, data, size, "fuzz", &err) < 0) {
		if (err.msg[0] == '\0' || p != NULL) {
			__builtin_trap(); /* every refusal says why, and leaves nothing */
		}
		return 0;
	}
	lsec_device_profile_args a = {0x1000, 0x100, 3, 2, 0x5, 1, "00"};
	for (int op = 0; op < LSEC_PROFILE_OP_COUNT; op++) {
		const lsec_device_profile_step *s = NULL;
		size_t n = 0;
		if (lsec_device_profile_op_steps(&s, &n, p, (lsec_device_profile_op)op, &err) < 0) {
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t v = 0;
			char *cmd = NULL;
			if (s[i].kind == LSEC_PROFILE_STEP_MONITOR) {
				if (s[i].command == NULL ||
				    lsec_device_profile_expand(&cmd, p, s[i].command, &a, &err) < 0) {
					__builtin_trap(); /* a checked template always expands */
				}
				lsec_free(cmd);
			} else if (s[i].kind != LSEC_PROFILE_STEP_DELAY &&
				   lsec_device_profile_value_get(&v, p, &s[i].address, &a, &err) < 0) {
				__builtin_trap(); /* a checked address always resolves */
			}
		}
	}
	const char *label = NULL;
	if (lsec_device_profile_match(&label, p, 0, "0x1", &err) == 0 && label == NULL) {
		__builtin_trap(); /* a match names what matched */
	}
	if (lsec_device_profile_check_product(p, lsec_device_profile_family(p),
					      lsec_device_profile_revision(p, 0), NULL, &err) < 0) {
		__builtin_trap(); /* a profile matches its own family and revision */
	}
	for (size_t i = 0; lsec_device_profile_warning(p, i) != NULL; i++) {
		(void)strlen(lsec_device_profile_warning(p, i));
	}
	lsec_device_profile_free(p);
	return 0;
}
