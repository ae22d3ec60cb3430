/* utf8.c - UTF-8 validation (RFC 3629) for text handed to the YAML parser. */
#include "linesec/util.h"

/* Length of the valid sequence at p (at most left bytes), 0 when invalid. */
static size_t sequence_len(const uint8_t *p, size_t left)
{
	uint32_t min, cp;
	size_t n;
	if (p[0] < 0x80) {
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		n = 2, min = 0x80, cp = p[0] & 0x1fu;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3, min = 0x800, cp = p[0] & 0x0fu;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4, min = 0x10000, cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (n > left) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	/* overlong forms, surrogates and code points above U+10FFFF are not UTF-8 */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return n;
}

size_t lsec_utf8_invalid_at(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = sequence_len(s + i, len - i);
		if (n == 0) {
			return i;
		}
		i += n;
	}
	return len;
}
