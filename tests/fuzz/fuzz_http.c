/*
 * fuzz_http.c - the web console's request parsing on arbitrary bytes.
 *
 * Target functions: lsec_web_form_parse (form bodies), lsec_web_cookie_parse
 * (Cookie headers), lsec_web_escape and lsec_web_token_equal on the same
 * bytes. Any input must give fields or an error, never a crash or undefined
 * behaviour; parsed fields have a name, stay within their bounds and are
 * never repeated; escaped text holds no markup character.
 */
#include "linesec/web.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fields(const lsec_web_fields *f, int rc, const lsec_err *err)
{
	if (rc < 0) {
		if (err->msg[0] == '\0' || f->n != 0) {
			__builtin_trap(); /* every refusal says why and leaves nothing */
		}
		return;
	}
	if (f->n > LSEC_WEB_FIELDS_MAX) {
		__builtin_trap();
	}
	for (size_t i = 0; i < f->n; i++) {
		size_t nl = strnlen(f->f[i].name, sizeof(f->f[i].name));
		size_t vl = strnlen(f->f[i].value, sizeof(f->f[i].value));
		if (nl == 0 || nl > LSEC_WEB_NAME_MAX || vl > LSEC_WEB_VALUE_MAX) {
			__builtin_trap();
		}
		if (lsec_web_field_get(f, f->f[i].name) != f->f[i].value) {
			__builtin_trap(); /* a name given twice */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lsec_web_fields f;
	lsec_err err = LSEC_ERR_INIT;
	int rc = lsec_web_form_parse(&f, (const char *)data, size, &err);
	check_fields(&f, rc, &err);
	err = (lsec_err)LSEC_ERR_INIT;
	rc = lsec_web_cookie_parse(&f, (const char *)data, size, &err);
	check_fields(&f, rc, &err);

	/* The same bytes as a NUL-terminated value: escaped, and as a sent token. */
	char text[512], out[512 * 6 + 1];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	if (!lsec_web_escape(out, sizeof(out), text)) {
		__builtin_trap(); /* six bytes per byte always fit */
	}
	if (strpbrk(out, "<>\"'") != NULL) {
		__builtin_trap();
	}
	static const char token[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	if (lsec_web_token_equal(token, text) != (strcmp(token, text) == 0)) {
		__builtin_trap();
	}
	return 0;
}
