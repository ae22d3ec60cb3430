/*
 * names.c - the one parser from a name to an enum value, and the one way a
 * list of accepted names is written ("a, b, c"). Every lsec_*_parse of a
 * named enum goes through lsec_name_lookup, so a bad name fails the same
 * way in every module.
 */
#include "linesec/util.h"

#include <string.h>

/*
 * Longest part of an unknown value echoed back: enough for any real name,
 * and the accepted names still fit in lsec_err.msg after it.
 */
#define NAME_ECHO_MAX 64

const char *lsec_name_list(char *buf, size_t cap, const char *const *names, size_t count)
{
	size_t off = 0;
	if (cap == 0) {
		return buf;
	}
	buf[0] = 0;
	for (size_t i = 0; i < count && off < cap; i++) {
		if (names[i] == NULL) {
			continue;
		}
		int n = snprintf(buf + off, cap - off, "%s%s", off == 0 ? "" : ", ", names[i]);
		if (n < 0) {
			break;
		}
		off += (size_t)n;
	}
	return buf;
}

int lsec_name_lookup(size_t *out, const char *const *names, size_t count, const char *value,
		     const char *what, lsec_err *err)
{
	char list[sizeof(err->msg)];
	*out = 0;
	for (size_t i = 0; value != NULL && i < count; i++) {
		if (names[i] != NULL && strcmp(names[i], value) == 0) {
			*out = i;
			return 0;
		}
	}
	return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
			    "unknown %s '%.*s': expected one of %s", what, NAME_ECHO_MAX,
			    value != NULL ? value : "", lsec_name_list(list, sizeof(list), names, count));
}

bool lsec_ident_ok(const char *v)
{
	if (v == NULL || !((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z') ||
			   (v[0] >= '0' && v[0] <= '9'))) {
		return false;
	}
	size_t n = 0;
	for (const char *c = v; *c; c++, n++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
		if (!ok || n >= LSEC_IDENT_MAX) {
			return false;
		}
	}
	return true;
}

/* Longest part of a refused identifier echoed back (escaped). */
#define IDENT_ECHO_MAX 80

int lsec_ident_check(const char *v, const char *what, lsec_err *err)
{
	char shown[4 * IDENT_ECHO_MAX + 1], more[48] = "";
	if (v == NULL || v[0] == '\0') {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
				    "missing %s: expected " LSEC_IDENT_GRAMMAR, what);
	}
	if (lsec_ident_ok(v)) {
		return 0;
	}
	size_t len = strlen(v);
	lsec_text_escape(shown, sizeof(shown), v, len < IDENT_ECHO_MAX ? len : IDENT_ECHO_MAX);
	if (len > IDENT_ECHO_MAX) {
		snprintf(more, sizeof(more), "... (%zu bytes)", len);
	}
	return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
			    "%s '%s%s' is not an identifier: expected " LSEC_IDENT_GRAMMAR, what,
			    shown, more);
}

const char *lsec_text_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t o = 0;
	if (cap == 0) {
		return out;
	}
	for (size_t i = 0; p != NULL && i < len;) {
		char esc[5] = "";
		size_t n = lsec_utf8_invalid_at(p + i, 1) == 1 ? 1 : 0;
		if (p[i] >= 0x80) {
			/* the length of the UTF-8 sequence starting here, 0 when invalid */
			size_t want = (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3
								  : (p[i] & 0xf8) == 0xf0 ? 4
											  : 0;
			n = want != 0 && want <= len - i &&
					    lsec_utf8_invalid_at(p + i, want) == want
				    ? want
				    : 0;
			if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
				n = 0; /* a C1 control (U+0080..U+009F: CSI is U+009B) */
			}
		}
		if (p[i] == '\n') {
			memcpy(esc, "\\n", 3);
		} else if (p[i] == '\r') {
			memcpy(esc, "\\r", 3);
		} else if (p[i] == '\t') {
			memcpy(esc, "\\t", 3);
		} else if (p[i] < 0x20 || p[i] == 0x7f || n == 0) {
			esc[0] = '\\', esc[1] = 'x', esc[2] = hex[p[i] >> 4], esc[3] = hex[p[i] & 15];
		}
		const char *piece = esc[0] ? esc : (const char *)p + i;
		size_t plen = esc[0] ? strlen(esc) : n;
		if (o + plen >= cap) {
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
		i += esc[0] ? 1 : n;
	}
	out[o] = '\0';
	return out;
}
