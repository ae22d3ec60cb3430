/* expand.c - filling in the {placeholders} of a step's texts from a run. */
#include "sop/sop_int.h"

#include <string.h>

int lsec_sop_expand(lsec_buf *out, const char *text, const char *const *names,
		    const char *const *values, size_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(text);
	for (const char *p = text; *p != 0;) {
		const char *open = strchr(p, '{');
		const char *close = open != NULL ? strchr(open, '}') : NULL;
		if (open == NULL || close == NULL) {
			LSEC_TRY(lsec_buf_append_str(out, p, err));
			break;
		}
		LSEC_TRY(lsec_buf_append(out, p, (size_t)(open - p), err));
		size_t nl = (size_t)(close - open - 1);
		const char *val = NULL;
		for (size_t i = 0; i < n; i++) {
			if (strlen(names[i]) == nl && strncmp(names[i], open + 1, nl) == 0) {
				val = values[i];
			}
		}
		if (val != NULL) {
			LSEC_TRY(lsec_buf_append_str(out, val, err));
		} else {
			LSEC_TRY(lsec_buf_append(out, open, nl + 2, err));
		}
		p = close + 1;
	}
out:
	return rc;
}

