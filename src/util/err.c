/* Errors: one caller-owned lsec_err per operation, no global state. */
#include "linesec/util.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int code;
	const char *name;
	lsec_category cat;
} general_codes[] = {
	{LSEC_OK, "ok", LSEC_CAT_NONE},
	{LSEC_E_USAGE, "usage", LSEC_CAT_USAGE},
	{LSEC_E_NOMEM, "nomem", LSEC_CAT_INTERNAL},
	{LSEC_E_IO, "io", LSEC_CAT_IO},
	{LSEC_E_PARSE, "parse", LSEC_CAT_PARSE},
	{LSEC_E_CRYPTO, "crypto", LSEC_CAT_CRYPTO},
	{LSEC_E_NOTFOUND, "notfound", LSEC_CAT_STATE},
	{LSEC_E_EXISTS, "exists", LSEC_CAT_POLICY},
	{LSEC_E_POLICY, "policy", LSEC_CAT_POLICY},
	{LSEC_E_STATE, "state", LSEC_CAT_STATE},
	{LSEC_E_AUTH, "auth", LSEC_CAT_POLICY},
	{LSEC_E_DEVICE, "device", LSEC_CAT_IO},
	{LSEC_E_LIMIT, "limit", LSEC_CAT_PARSE},
	{LSEC_E_INTERNAL, "internal", LSEC_CAT_INTERNAL},
};

static const char *const module_names[] = {"image", "device", "store", "audit",
					   "pki", "sop", "station"};

lsec_category lsec_code_category(int code)
{
	for (size_t i = 0; i < sizeof(general_codes) / sizeof(general_codes[0]); i++) {
		if (general_codes[i].code == code) {
			return general_codes[i].cat;
		}
	}
	if (code <= -100 && code > -100 - 50 * (int)(sizeof(module_names) / sizeof(module_names[0]))) {
		int off = (-code - 100) % 50;
		if (off < 20) {
			return LSEC_CAT_PARSE;
		}
		if (off < 30) {
			return LSEC_CAT_CRYPTO;
		}
		if (off < 40) {
			return LSEC_CAT_POLICY;
		}
		return LSEC_CAT_STATE;
	}
	return LSEC_CAT_INTERNAL;
}

const char *lsec_code_name(int code)
{
	for (size_t i = 0; i < sizeof(general_codes) / sizeof(general_codes[0]); i++) {
		if (general_codes[i].code == code) {
			return general_codes[i].name;
		}
	}
	if (code <= -100) {
		size_t m = (size_t)((-code - 100) / 50);
		if (m < sizeof(module_names) / sizeof(module_names[0])) {
			return module_names[m];
		}
	}
	return "unknown";
}

const char *lsec_category_name(lsec_category cat)
{
	switch (cat) {
	case LSEC_CAT_NONE:
		return "none";
	case LSEC_CAT_IO:
		return "io";
	case LSEC_CAT_PARSE:
		return "parse";
	case LSEC_CAT_CRYPTO:
		return "crypto";
	case LSEC_CAT_POLICY:
		return "policy";
	case LSEC_CAT_STATE:
		return "state";
	case LSEC_CAT_USAGE:
		return "usage";
	case LSEC_CAT_INTERNAL:
		return "internal";
	default:
		return "unknown";
	}
}

int lsec_err_setv(lsec_err *err, int code, const char *file, int line, const char *fmt,
		  va_list ap)
{
	if (err == NULL) {
		return code;
	}
	err->code = code;
	err->category = lsec_code_category(code);
	err->file = file;
	err->line = line;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n >= (int)sizeof(err->msg)) {
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4); /* never cut silently */
	}
	return code;
}

int lsec_err_set(lsec_err *err, int code, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lsec_err_setv(err, code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

int lsec_err_ossl(lsec_err *err, int code, const char *file, int line, const char *fmt, ...)
{
	char reason[128] = "no detail from OpenSSL";
	unsigned long e = ERR_peek_last_error();
	if (e != 0) {
		const char *r = ERR_reason_error_string(e);
		if (r != NULL) {
			snprintf(reason, sizeof(reason), "%s", r);
		} else {
			ERR_error_string_n(e, reason, sizeof(reason));
		}
	}
	ERR_clear_error();
	if (err == NULL) {
		return code;
	}
	va_list ap;
	va_start(ap, fmt);
	lsec_err_setv(err, code, file, line, fmt, ap);
	va_end(ap);
	size_t n = strlen(err->msg);
	if (n + 3 < sizeof(err->msg)) {
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", reason);
	}
	return code;
}

void lsec_err_clear(lsec_err *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
}
