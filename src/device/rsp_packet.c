/*
 * rsp_packet.c - the GDB Remote Serial Protocol packet codec: framing,
 * escaping, run-length decoding, checksums and hex. Pure: no I/O, no
 * allocation but the caller's output buffer; the decoder never writes past
 * the buffer it was given, whatever it is fed.
 *
 * @test tests/unit/device/test_rsp_packet.c
 * @fuzz tests/fuzz/fuzz_rsp.c
 */
#include "device/rsp_int.h"

#include <stdio.h>
#include <string.h>

enum {
	ST_IDLE = 0, /* between packets */
	ST_BODY,     /* inside $...# */
	ST_ESC,      /* after '}' */
	ST_RLE,      /* after '*' */
	ST_CS1,      /* after '#' */
	ST_CS2,      /* after the first checksum digit */
};

void rsp_decoder_init(rsp_decoder *d, uint8_t *buf, size_t cap)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = cap > RSP_MAX_PACKET ? RSP_MAX_PACKET : cap;
}

/* The value of a hex digit (either case), or -1. */
static int hexval(uint8_t c)
{
	unsigned lower = c | 0x20u;
	if ((unsigned)(c - '0') < 10u) {
		return c - '0';
	}
	return lower - 'a' < 6u ? (int)(lower - 'a') + 10 : -1;
}

/* The first fault of a body wins; later ones are consequences. */
static void body_fail(rsp_decoder *d, rsp_fault f, uint8_t b)
{
	if (d->pending == RSP_FAULT_NONE) {
		d->pending = f;
		d->pending_byte = b;
	}
}

static void put(rsp_decoder *d, uint8_t b)
{
	if (d->pending != RSP_FAULT_NONE) {
		return;
	}
	if (d->len >= d->cap) {
		body_fail(d, RSP_FAULT_TOO_LONG, b);
		return;
	}
	d->buf[d->len++] = b;
}

static void start_packet(rsp_decoder *d)
{
	d->state = ST_BODY;
	d->len = 0;
	d->sum = 0;
	d->pending = RSP_FAULT_NONE;
}

/* One byte inside $...# (states BODY, ESC, RLE). Returns an event or NONE. */
static rsp_event_kind body_byte(rsp_decoder *d, uint8_t c)
{
	if (c == '$') {
		/* A new packet starts: the one before it never ended. */
		start_packet(d);
		d->fault = RSP_FAULT_RESTART;
		d->byte = c;
		return RSP_EV_ERROR;
	}
	if (c == '#') {
		if (d->state == ST_ESC) {
			body_fail(d, RSP_FAULT_BAD_ESCAPE, c);
		} else if (d->state == ST_RLE) {
			body_fail(d, RSP_FAULT_RLE_COUNT, c);
		}
		d->state = ST_CS1;
		return RSP_EV_NONE;
	}
	d->sum = (uint8_t)(d->sum + c);
	switch (d->state) {
	case ST_ESC:
		put(d, (uint8_t)(c ^ 0x20));
		d->state = ST_BODY;
		break;
	case ST_RLE:
		d->state = ST_BODY;
		if (c < 32 || c > 126) {
			body_fail(d, RSP_FAULT_RLE_COUNT, c);
			break;
		}
		for (unsigned i = 0; i < (unsigned)(c - 29) && d->pending == RSP_FAULT_NONE; i++) {
			put(d, d->buf[d->len - 1]);
		}
		break;
	default:
		if (c == '}') {
			d->state = ST_ESC;
		} else if (c == '*') {
			d->state = ST_RLE;
			if (d->len == 0) {
				body_fail(d, RSP_FAULT_RLE_START, c);
			}
		} else {
			put(d, c);
		}
		break;
	}
	return RSP_EV_NONE;
}

static rsp_event_kind idle_byte(rsp_decoder *d, uint8_t c)
{
	switch (c) {
	case '$':
		start_packet(d);
		return RSP_EV_NONE;
	case '+':
		return RSP_EV_ACK;
	case '-':
		return RSP_EV_NAK;
	case 0x03:
		return RSP_EV_INTERRUPT;
	default:
		d->fault = RSP_FAULT_STRAY_BYTE;
		d->byte = c;
		d->len = 0;
		return RSP_EV_ERROR;
	}
}

static rsp_event_kind checksum_byte(rsp_decoder *d, uint8_t c)
{
	int v = hexval(c);
	if (d->state == ST_CS1) {
		if (v < 0) {
			body_fail(d, RSP_FAULT_CHECKSUM_HEX, c);
			d->cs_hi = 0;
		} else {
			d->cs_hi = (uint8_t)v;
		}
		d->state = ST_CS2;
		return RSP_EV_NONE;
	}
	d->state = ST_IDLE;
	if (v < 0) {
		body_fail(d, RSP_FAULT_CHECKSUM_HEX, c);
	}
	uint8_t want = (uint8_t)(d->cs_hi << 4 | (v < 0 ? 0 : v));
	if (d->pending == RSP_FAULT_NONE && want != d->sum) {
		d->pending = RSP_FAULT_CHECKSUM;
		d->want_cs = want;
	}
	if (d->pending != RSP_FAULT_NONE) {
		d->fault = d->pending;
		d->byte = d->pending_byte;
		d->pending = RSP_FAULT_NONE;
		d->len = 0;
		return RSP_EV_ERROR;
	}
	return RSP_EV_PACKET;
}

size_t rsp_decode(rsp_decoder *d, const uint8_t *in, size_t n, rsp_event_kind *ev)
{
	*ev = RSP_EV_NONE;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		switch (d->state) {
		case ST_IDLE:
			*ev = idle_byte(d, c);
			break;
		case ST_CS1:
		case ST_CS2:
			*ev = checksum_byte(d, c);
			break;
		default:
			*ev = body_byte(d, c);
			break;
		}
		if (*ev != RSP_EV_NONE) {
			return i + 1;
		}
	}
	return n;
}

const char *rsp_fault_text(const rsp_decoder *d, char *buf, size_t cap)
{
	switch (d->fault) {
	case RSP_FAULT_NONE:
		snprintf(buf, cap, "no fault");
		break;
	case RSP_FAULT_STRAY_BYTE:
		snprintf(buf, cap, "unexpected byte 0x%02x outside a packet (expected $, +, - or 0x03)",
			 d->byte);
		break;
	case RSP_FAULT_RESTART:
		snprintf(buf, cap, "a packet was cut off by the start of another ('$' before '#')");
		break;
	case RSP_FAULT_TOO_LONG:
		snprintf(buf, cap, "packet longer than %zu bytes", d->cap);
		break;
	case RSP_FAULT_BAD_ESCAPE:
		snprintf(buf, cap, "escape character '}' at the end of a packet");
		break;
	case RSP_FAULT_RLE_START:
		snprintf(buf, cap, "run-length marker '*' with no byte before it to repeat");
		break;
	case RSP_FAULT_RLE_COUNT:
		snprintf(buf, cap, "run-length count byte 0x%02x invalid (expected 0x20-0x7e, not # or $)",
			 d->byte);
		break;
	case RSP_FAULT_CHECKSUM_HEX:
		snprintf(buf, cap, "checksum byte 0x%02x is not a hex digit", d->byte);
		break;
	case RSP_FAULT_CHECKSUM:
		snprintf(buf, cap, "checksum 0x%02x does not match the payload's 0x%02x", d->want_cs,
			 d->sum);
		break;
	}
	return buf;
}

static bool needs_escape(uint8_t c)
{
	return c == '$' || c == '#' || c == '}' || c == '*';
}

size_t rsp_encoded_len(const uint8_t *payload, size_t len)
{
	size_t n = 4 + len;
	for (size_t i = 0; i < len; i++) {
		n += needs_escape(payload[i]);
	}
	return n;
}

int rsp_encode(lsec_buf *out, const uint8_t *payload, size_t len, lsec_err *err)
{
	int rc = 0;
	static const char digits[] = "0123456789abcdef";
	LSEC_TRY(lsec_buf_reserve(out, rsp_encoded_len(payload, len), err));
	uint8_t *p = out->data + out->len;
	uint8_t sum = 0;
	*p++ = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = payload[i];
		if (needs_escape(c)) {
			*p++ = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		*p++ = c;
		sum = (uint8_t)(sum + c);
	}
	*p++ = '#';
	*p++ = (uint8_t)digits[sum >> 4];
	*p++ = (uint8_t)digits[sum & 15];
	out->len = (size_t)(p - out->data);
out:
	return rc;
}

bool rsp_hex_bytes(uint8_t *out, size_t cap, const char *hex, size_t len)
{
	if (len % 2 != 0 || len / 2 > cap) {
		return false;
	}
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval((uint8_t)hex[i]), lo = hexval((uint8_t)hex[i + 1]);
		if (hi < 0 || lo < 0) {
			return false;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool rsp_hex_u64(uint64_t *out, const char **p, const char *end)
{
	uint64_t v = 0;
	const char *s = *p;
	while (s < end && hexval((uint8_t)*s) >= 0) {
		if (v >> 60 != 0) {
			return false;
		}
		v = v << 4 | (uint64_t)hexval((uint8_t)*s);
		s++;
	}
	if (s == *p) {
		return false;
	}
	*out = v;
	*p = s;
	return true;
}

bool rsp_hex_u32(uint32_t *out, const char **p, const char *end)
{
	uint64_t v = 0;
	const char *s = *p;
	if (!rsp_hex_u64(&v, &s, end) || v > UINT32_MAX) {
		return false;
	}
	*out = (uint32_t)v;
	*p = s;
	return true;
}

int rsp_hex_append(lsec_buf *out, const uint8_t *in, size_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(n <= (SIZE_MAX - 1) / 2, LSEC_E_LIMIT, "hex data too large");
	LSEC_TRY(lsec_buf_reserve(out, 2 * n + 1, err));
	lsec_hex_encode((char *)out->data + out->len, in, n);
	out->len += 2 * n;
out:
	return rc;
}
