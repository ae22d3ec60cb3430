/* Hex and base64. Base64 goes through OpenSSL's encoders. */
#include "linesec/util.h"

#include <openssl/evp.h>
#include <string.h>

void lsec_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = 0;
}

char *lsec_hex_alloc(const uint8_t *in, size_t n)
{
	if (n > (SIZE_MAX - 1) / 2) {
		return NULL;
	}
	char *s = lsec_malloc(2 * n + 1);
	if (s != NULL) {
		lsec_hex_encode(s, in, n);
	}
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

int lsec_hex_decode(lsec_buf *out, const char *hex, size_t hexlen, const char *what, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(hexlen % 2 == 0, LSEC_E_PARSE, "invalid %s: odd number of hex digits (%zu)", what,
		    hexlen);
	LSEC_TRY(lsec_buf_reserve(out, hexlen / 2, err));
	for (size_t i = 0; i < hexlen; i += 2) {
		int hi = hexval(hex[i]);
		int lo = hexval(hex[i + 1]);
		LSEC_ENSURE(hi >= 0 && lo >= 0, LSEC_E_PARSE,
			    "invalid %s: not a hex digit at position %zu", what, hi < 0 ? i : i + 1);
		out->data[out->len++] = (uint8_t)(hi << 4 | lo);
	}
out:
	return rc;
}

int lsec_hex_decode_fixed(uint8_t *out, size_t n, const char *hex, const char *what, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(n);
	size_t len = strlen(hex);
	LSEC_ENSURE(len == 2 * n, LSEC_E_PARSE, "invalid %s: expected %zu hex digits, got %zu", what,
		    2 * n, len);
	LSEC_TRY(lsec_hex_decode(&b, hex, len, what, err));
	memcpy(out, b.data, n);
out:
	lsec_buf_release(&b);
	return rc;
}

int lsec_base64_encode(char **out, const uint8_t *in, size_t n, lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	LSEC_ENSURE(n <= (size_t)INT32_MAX / 4 * 3 - 3, LSEC_E_LIMIT,
		    "cannot base64-encode %zu bytes: too large", n);
	size_t outlen = 4 * ((n + 2) / 3) + 1;
	char *s = lsec_malloc(outlen);
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "out of memory for base64");
	EVP_EncodeBlock((unsigned char *)s, in, (int)n);
	*out = s;
out:
	return rc;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int lsec_base64_decode(lsec_buf *out, const char *b64, size_t len, const char *what, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(len % 4 == 0, LSEC_E_PARSE, "invalid %s: base64 length %zu is not a multiple of 4",
		    what, len);
	LSEC_ENSURE(len <= (size_t)INT32_MAX, LSEC_E_LIMIT, "invalid %s: too long", what);
	size_t pad = 0;
	for (size_t i = 0; i < len; i++) {
		if (b64[i] == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		LSEC_ENSURE(pad == 0 && is_b64(b64[i]), LSEC_E_PARSE,
			    "invalid %s: bad base64 character at position %zu", what, i);
	}
	if (len == 0) {
		goto out;
	}
	LSEC_TRY(lsec_buf_reserve(out, len / 4 * 3, err));
	int n = EVP_DecodeBlock(out->data + out->len, (const unsigned char *)b64, (int)len);
	LSEC_ENSURE(n >= 0 && (size_t)n >= pad, LSEC_E_PARSE, "invalid %s: bad base64", what);
	out->len += (size_t)n - pad;
out:
	return rc;
}
