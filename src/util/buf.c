/* lsec_buf: the bounded growable buffer, and lsec_reader: the checked cursor. */
#include "linesec/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lsec_buf_init(lsec_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void lsec_buf_release(lsec_buf *b)
{
	if (b == NULL) {
		return;
	}
	lsec_wipe(b->data, b->cap);
	lsec_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void lsec_buf_reset(lsec_buf *b)
{
	lsec_wipe(b->data, b->len);
	b->len = 0;
}

/*
 * Grows the storage so that extra more bytes (plus a NUL) fit. Growth
 * reallocates by hand so that the old storage is wiped, never left behind
 * by realloc. Fails with LSEC_E_LIMIT past max, LSEC_E_NOMEM otherwise.
 */
int lsec_buf_reserve(lsec_buf *b, size_t extra, lsec_err *err)
{
	int rc = 0;
	if (extra > b->max || b->len > b->max - extra) {
		LSEC_BAIL(LSEC_E_LIMIT, "buffer limit of %zu bytes exceeded", b->max);
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap) {
		return 0;
	}
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need) {
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	}
	if (cap > b->max + 1) {
		cap = b->max + 1;
	}
	uint8_t *p = lsec_malloc(cap);
	LSEC_ENSURE(p != NULL, LSEC_E_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
	if (b->len > 0) {
		memcpy(p, b->data, b->len);
	}
	lsec_wipe(b->data, b->cap);
	lsec_free(b->data);
	b->data = p;
	b->cap = cap;
out:
	return rc;
}

int lsec_buf_append(lsec_buf *b, const void *p, size_t n, lsec_err *err)
{
	int rc = 0;
	if (n == 0) {
		return 0;
	}
	LSEC_TRY(lsec_buf_reserve(b, n, err));
	memcpy(b->data + b->len, p, n);
	b->len += n;
out:
	return rc;
}

int lsec_buf_append_u8(lsec_buf *b, uint8_t v, lsec_err *err)
{
	return lsec_buf_append(b, &v, 1, err);
}

int lsec_buf_append_u16le(lsec_buf *b, uint16_t v, lsec_err *err)
{
	uint8_t t[2];
	lsec_put_u16le(t, v);
	return lsec_buf_append(b, t, sizeof(t), err);
}

int lsec_buf_append_u32le(lsec_buf *b, uint32_t v, lsec_err *err)
{
	uint8_t t[4];
	lsec_put_u32le(t, v);
	return lsec_buf_append(b, t, sizeof(t), err);
}

int lsec_buf_append_str(lsec_buf *b, const char *s, lsec_err *err)
{
	return lsec_buf_append(b, s, strlen(s), err);
}

int lsec_buf_printf(lsec_buf *b, lsec_err *err, const char *fmt, ...)
{
	int rc = 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	LSEC_ENSURE(n >= 0, LSEC_E_INTERNAL, "bad format string");
	LSEC_TRY(lsec_buf_reserve(b, (size_t)n, err));
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
out:
	return rc;
}

const char *lsec_buf_cstr(lsec_buf *b, lsec_err *err)
{
	if (lsec_buf_reserve(b, 0, err) < 0) {
		return NULL;
	}
	b->data[b->len] = 0;
	return (const char *)b->data;
}

void lsec_reader_init(lsec_reader *r, const uint8_t *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->off = 0;
}

size_t lsec_reader_left(const lsec_reader *r)
{
	return r->len - r->off;
}

bool lsec_reader_bytes(lsec_reader *r, const uint8_t **p, size_t n)
{
	if (lsec_reader_left(r) < n) {
		return false;
	}
	*p = r->data + r->off;
	r->off += n;
	return true;
}

bool lsec_reader_skip(lsec_reader *r, size_t n)
{
	const uint8_t *p;
	return lsec_reader_bytes(r, &p, n);
}

bool lsec_reader_u8(lsec_reader *r, uint8_t *v)
{
	const uint8_t *p;
	if (!lsec_reader_bytes(r, &p, 1)) {
		return false;
	}
	*v = p[0];
	return true;
}

bool lsec_reader_u16le(lsec_reader *r, uint16_t *v)
{
	const uint8_t *p;
	if (!lsec_reader_bytes(r, &p, 2)) {
		return false;
	}
	*v = lsec_get_u16le(p);
	return true;
}

bool lsec_reader_u32le(lsec_reader *r, uint32_t *v)
{
	const uint8_t *p;
	if (!lsec_reader_bytes(r, &p, 4)) {
		return false;
	}
	*v = lsec_get_u32le(p);
	return true;
}

bool lsec_reader_u16be(lsec_reader *r, uint16_t *v)
{
	const uint8_t *p;
	if (!lsec_reader_bytes(r, &p, 2)) {
		return false;
	}
	*v = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	return true;
}

bool lsec_reader_u32be(lsec_reader *r, uint32_t *v)
{
	const uint8_t *p;
	if (!lsec_reader_bytes(r, &p, 4)) {
		return false;
	}
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return true;
}

void lsec_put_u16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

void lsec_put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
	p[2] = (uint8_t)((v >> 16) & 0xff);
	p[3] = (uint8_t)(v >> 24);
}

uint16_t lsec_get_u16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

uint32_t lsec_get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
