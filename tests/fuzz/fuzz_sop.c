/*
 * fuzz_sop.c - the SOP loader on arbitrary bytes.
 *
 * Target functions: lsec_sop_parse (libfyaml document, schema walk, action
 * parameters, policy rules), then lsec_sop_render in both formats for any
 * input that loads. Any input must give a SOP or a list of problems, never
 * a crash, a leak or undefined behaviour.
 */
#include "linesec/sop.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	if (lsec_sop_parse(&sop, &d, data, size, "fuzz.yaml", &err) == 0) {
		for (int f = 0; f < 2; f++) {
			lsec_buf b = LSEC_BUF_INIT(1u << 22);
			lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
			ro.format = f ? LSEC_SOP_FORMAT_HTML : LSEC_SOP_FORMAT_MD;
			if (lsec_sop_render(&b, sop, &ro, &err) < 0 && err.code != LSEC_E_LIMIT) {
				__builtin_trap(); /* a loaded SOP always renders */
			}
			lsec_buf_release(&b);
		}
	}
	for (size_t i = 0; i < lsec_sop_diags_count(d); i++) {
		(void)lsec_sop_diags_at(d, i)->text[0];
	}
	lsec_sop_diags_free(d);
	lsec_sop_free(sop);
	return 0;
}
