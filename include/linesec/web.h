/*
 * linesec/web.h - the web console (`linesec serve`): an HTTP front end over
 * the same library as the command line. It parses, calls liblinesec and
 * prints HTML; it holds no rule of its own (who may log in, the back-off,
 * sessions' lifetime and roles are the line module's).
 *
 * The web console is not part of liblinesec: it is linked by the linesec
 * executable only (with libmicrohttpd). Its request parsing is bounded: a
 * form body, a cookie header and every field have a maximum size, and
 * anything longer or malformed is refused (LSEC_E_LIMIT, LSEC_E_PARSE).
 */
#ifndef LINESEC_WEB_H
#define LINESEC_WEB_H

#include "linesec/line.h"
#include "linesec/util.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of what a request may carry. */
#define LSEC_WEB_BODY_MAX   8192 /* a form body (bytes) */
#define LSEC_WEB_FIELDS_MAX 16   /* fields in a form, cookies in a header */
#define LSEC_WEB_NAME_MAX   64   /* a field's or cookie's name */
#define LSEC_WEB_VALUE_MAX  1024 /* a field's or cookie's decoded value */
#define LSEC_WEB_COOKIE_MAX 4096 /* a Cookie header */
/* A session id and a CSRF token: 32 random bytes, hex. */
#define LSEC_WEB_TOKEN_HEX 64

/* One name=value pair of a form or a cookie header (decoded, NUL-terminated).
 */
typedef struct lsec_web_field {
	char name[LSEC_WEB_NAME_MAX + 1];
	char value[LSEC_WEB_VALUE_MAX + 1];
} lsec_web_field;

typedef struct lsec_web_fields {
	lsec_web_field f[LSEC_WEB_FIELDS_MAX];
	size_t n;
} lsec_web_fields;

/*
 * Parses an application/x-www-form-urlencoded body of len bytes (not
 * NUL-terminated) into *out: '+' is a space, %XX a byte; a decoded byte 0
 * is refused. Errors: LSEC_E_LIMIT (body, field count, name or value too
 * long), LSEC_E_PARSE (a bad %-escape, a field without '=' or name, a
 * repeated name, a NUL byte), each naming the field.
 */
LSEC_MUST_USE int lsec_web_form_parse(lsec_web_fields *out, const char *body, size_t len,
				      lsec_err *err);
/*
 * Parses a Cookie header ("a=1; b=2") into *out; values are taken as sent
 * (no decoding). Errors as lsec_web_form_parse's.
 */
LSEC_MUST_USE int lsec_web_cookie_parse(lsec_web_fields *out, const char *header, size_t len,
					lsec_err *err);
/* The value of name in f, NULL when absent. */
const char *lsec_web_field_get(const lsec_web_fields *f, const char *name);

/*
 * HTML-escapes s into out (cap bytes, always NUL-terminated): & < > " '
 * and every control byte but tab and newline. Returns false when out was
 * too small (then out holds an empty string, never a cut entity).
 */
bool lsec_web_escape(char *out, size_t cap, const char *s);

/* A fresh random token (RAND_bytes): LSEC_WEB_TOKEN_HEX hex characters and a
 * NUL. */
LSEC_MUST_USE int lsec_web_token_new(char out[LSEC_WEB_TOKEN_HEX + 1], lsec_err *err);
/*
 * Whether sent is the token expected (constant time over the token's
 * length; a NULL, empty or wrongly sized sent is false).
 */
bool lsec_web_token_equal(const char *expected, const char *sent);

/* How `linesec serve` runs. */
typedef struct lsec_web_options {
	const char *listen;   /* "HOST:PORT" (IPv4); NULL: 127.0.0.1:8080 */
	const char *tls_cert; /* PEM files: both or neither */
	const char *tls_key;
	/* Called once listening (may be NULL): the address actually bound. */
	void (*on_listen)(void *ctx, const char *address);
	void *ctx;
	/* The console's address as a phone or tablet at the station reaches it
	 * ("http://HOST:PORT" or "https://...", no trailing '/'), encoded in
	 * the SOP pages' QR codes. NULL: the address served on, which is no
	 * use to another device when it is 127.0.0.1. */
	const char *public_url;
} lsec_web_options;

/* Longest --public-url. */
#define LSEC_WEB_URL_MAX 200

/*
 * Serves the web console of line until SIGINT or SIGTERM. Errors:
 * LSEC_E_USAGE (a bad address, one of cert and key without the other),
 * LSEC_E_IO (the certificate or key unreadable, the address not bound).
 */
LSEC_MUST_USE int lsec_web_serve(lsec_line *line, const lsec_web_options *opts, lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
