/*
 * utf8.c - UTF-8 validation (RFC 3629) and the check every text passes
 * before linesec hands it to the YAML parser.
 */
#include "linesec/util.h"

#include <string.h>

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

/*
 * libfyaml 0.8 (Debian 12) crashes or hangs on some inputs no linesec YAML
 * file needs, all found by the fuzz targets under tests/fuzz: tabs in some
 * placements (a SEGV in its indentation tracking), a directive holding a
 * NUL byte (an endless loop), invalid UTF-8 in quoted scalars and runs of
 * escaped single quotes (leaks). Such bytes are refused before it sees them.
 */
bool lsec_yaml_text_check(lsec_text_fault *out, const uint8_t *s, size_t len)
{
	const char *why = NULL;
	size_t i = 0;
	while (i < len && why == NULL) {
		size_t n = sequence_len(s + i, len - i);
		/*
		 * A directive starts a line; YAML also breaks lines at '\r' and
		 * (YAML 1.1) at NEL, LS and PS, so a '%' after any control or
		 * non-ASCII byte is treated as one.
		 */
		uint8_t prev = i ? s[i - 1] : '\n';
		if (s[i] == '\0') {
			why = "a NUL byte (not text)";
		} else if (n == 0) {
			why = "invalid UTF-8 (the file must be UTF-8 text)";
		} else if (s[i] == '\t') {
			why = "a tab character (indent and separate with spaces)";
		} else if (len - i >= 4 && memcmp(s + i, "''''", 4) == 0) {
			why = "a run of single quotes (not used in linesec's YAML files)";
		} else if (s[i] == '%' && (prev < 0x20 || prev >= 0x7f)) {
			why = "a YAML directive ('%' at the start of a line; not used in linesec's YAML "
			      "files)";
		} else {
			i += n;
		}
	}
	memset(out, 0, sizeof(*out));
	out->why = why;
	out->offset = i;
	out->line = 1;
	out->column = 1;
	for (size_t j = 0; j < i; j++) {
		if (s[j] == '\n') {
			out->line++;
			out->column = 1;
		} else if ((s[j] & 0xc0) != 0x80) {
			out->column++;
		}
	}
	return why == NULL;
}
