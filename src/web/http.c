/*
 * http.c - the web console's own request parsing: form bodies and cookie
 * headers with bounded sizes, HTML escaping, random tokens and their
 * comparison. No I/O: what libmicrohttpd hands over is checked here.
 */
#include "linesec/web.h"

#include <string.h>

/* Decodes s[0..len) (urlencoded when form) into out (cap max+1). */
static int decode(char *out, size_t max, const char *s, size_t len, bool form, const char *what,
		  lsec_err *err)
{
	int rc = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (form && c == '+') {
			c = ' ';
		} else if (form && c == '%') {
			LSEC_ENSURE(i + 2 < len, LSEC_E_PARSE,
				    "bad request: %s ends in a cut %%-escape", what);
			char two[3] = {s[i + 1], s[i + 2], '\0'};
			uint8_t byte = 0;
			lsec_err bad = LSEC_ERR_INIT;
			LSEC_ENSURE(lsec_hex_decode_fixed(&byte, 1, two, what, &bad) == 0, LSEC_E_PARSE,
				    "bad request: %s holds a bad %%-escape (expected %%XX, X hex)", what);
			c = (char)byte;
			i += 2;
		}
		LSEC_ENSURE(c != '\0', LSEC_E_PARSE, "bad request: %s holds a NUL byte", what);
		LSEC_ENSURE(n < max, LSEC_E_LIMIT, "bad request: %s is longer than %zu bytes", what,
			    max);
		out[n++] = c;
	}
out:
	out[n] = '\0';
	return rc;
}

static int fields_parse(lsec_web_fields *out, const char *s, size_t len, char sep, bool form,
			size_t max_len, lsec_err *err)
{
	int rc = 0;
	const char *kind = form ? "form" : "cookie header";
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE(s != NULL || len == 0, LSEC_E_USAGE, "no %s", kind);
	LSEC_ENSURE(len <= max_len, LSEC_E_LIMIT, "bad request: the %s is longer than %zu bytes",
		    kind, max_len);
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && s[i] != sep) {
			i++;
		}
		size_t end = i;
		if (i < len) {
			i++; /* the separator */
		}
		if (!form) {
			while (start < end && (s[start] == ' ' || s[start] == '\t')) {
				start++;
			}
			while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
				end--;
			}
		}
		if (start == end) {
			continue; /* "a=1&&b=2", "a=1; " */
		}
		const char *eq = memchr(s + start, '=', end - start);
		LSEC_ENSURE(eq != NULL && eq != s + start, LSEC_E_PARSE,
			    "bad request: the %s holds a field without %s (field %zu)", kind,
			    eq == NULL ? "'='" : "a name", out->n + 1);
		LSEC_ENSURE(out->n < LSEC_WEB_FIELDS_MAX, LSEC_E_LIMIT,
			    "bad request: the %s holds more than %d fields", kind,
			    LSEC_WEB_FIELDS_MAX);
		lsec_web_field *f = &out->f[out->n];
		LSEC_TRY(decode(f->name, LSEC_WEB_NAME_MAX, s + start, (size_t)(eq - (s + start)),
				form, "a field's name", err));
		char what[LSEC_WEB_NAME_MAX + 32];
		snprintf(what, sizeof(what), "field '%s'", f->name);
		LSEC_TRY(decode(f->value, LSEC_WEB_VALUE_MAX, eq + 1, (size_t)(s + end - (eq + 1)),
				form, what, err));
		LSEC_ENSURE(lsec_web_field_get(out, f->name) == NULL, LSEC_E_PARSE,
			    "bad request: %s is given twice", what);
		out->n++;
	}
out:
	if (rc < 0) {
		lsec_wipe(out, sizeof(*out));
	}
	return rc;
}

int lsec_web_form_parse(lsec_web_fields *out, const char *body, size_t len, lsec_err *err)
{
	return fields_parse(out, body, len, '&', true, LSEC_WEB_BODY_MAX, err);
}

int lsec_web_cookie_parse(lsec_web_fields *out, const char *header, size_t len, lsec_err *err)
{
	return fields_parse(out, header, len, ';', false, LSEC_WEB_COOKIE_MAX, err);
}

const char *lsec_web_field_get(const lsec_web_fields *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->f[i].name, name) == 0) { /* lint:ok */
			return f->f[i].value;
		}
	}
	return NULL;
}

bool lsec_web_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	if (cap == 0) {
		return false;
	}
	for (const char *p = s ? s : ""; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		char ent[8];
		const char *rep = NULL;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
				snprintf(ent, sizeof(ent), "&#%u;", c);
				rep = ent;
			}
		}
		size_t k = rep ? strlen(rep) : 1;
		if (n + k >= cap) {
			out[0] = '\0';
			return false;
		}
		if (rep) {
			memcpy(out + n, rep, k);
		} else {
			out[n] = (char)c;
		}
		n += k;
	}
	out[n] = '\0';
	return true;
}

int lsec_web_token_new(char out[LSEC_WEB_TOKEN_HEX + 1], lsec_err *err)
{
	int rc = 0;
	uint8_t raw[LSEC_WEB_TOKEN_HEX / 2];
	out[0] = '\0';
	LSEC_TRY(lsec_random(raw, sizeof(raw), err));
	lsec_hex_encode(out, raw, sizeof(raw));
out:
	lsec_wipe(raw, sizeof(raw));
	return rc;
}

bool lsec_web_token_equal(const char *expected, const char *sent)
{
	if (expected == NULL || sent == NULL || strlen(expected) != LSEC_WEB_TOKEN_HEX ||
	    strlen(sent) != LSEC_WEB_TOKEN_HEX) {
		return false;
	}
	return lsec_ct_equal(expected, sent, LSEC_WEB_TOKEN_HEX);
}
