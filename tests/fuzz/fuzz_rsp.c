/*
 * fuzz_rsp.c - the RSP packet decoder on arbitrary bytes from the link.
 *
 * Target functions: rsp_decode (framing, escapes, run-length decoding,
 * checksums) fed in chunks whose size the first input byte picks, with a
 * small buffer so the length limit is reached; every packet decoded is
 * encoded again (rsp_encode) and must decode to the same bytes; the hex
 * helpers run on each payload. Any input must decode or report a fault,
 * never crash, leak, overrun the buffer or loop.
 */
#include "device/rsp_int.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *payload, size_t len)
{
	static uint8_t buf[RSP_MAX_PACKET];
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf frame = LSEC_BUF_INIT(4 * RSP_MAX_PACKET);
	if (rsp_encode(&frame, payload, len, &err) != 0 ||
	    frame.len != rsp_encoded_len(payload, len)) {
		__builtin_trap();
	}
	rsp_decoder d;
	rsp_decoder_init(&d, buf, sizeof(buf));
	rsp_event_kind ev = RSP_EV_NONE;
	size_t used = rsp_decode(&d, frame.data, frame.len, &ev);
	if (used != frame.len || ev != RSP_EV_PACKET || d.len != len ||
	    (len > 0 && memcmp(d.buf, payload, len) != 0)) {
		__builtin_trap();
	}
	lsec_buf_release(&frame);
}

static void hex_on(const uint8_t *p, size_t len)
{
	uint8_t out[64];
	const char *s = (const char *)p, *end = s + len;
	uint64_t v = 0;
	(void)rsp_hex_bytes(out, sizeof(out), s, len < 128 ? len : 128);
	while (s < end) {
		if (!rsp_hex_u64(&v, &s, end)) {
			s++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[RSP_MAX_PACKET];
	char text[160];
	if (size == 0 || size > (1u << 20)) {
		return 0;
	}
	size_t chunk = (size_t)data[0] % 17 + 1;
	size_t cap = data[0] & 0x80 ? 64 : sizeof(buf);
	rsp_decoder d;
	rsp_decoder_init(&d, buf, cap);
	const uint8_t *in = data + 1;
	size_t left = size - 1;
	while (left > 0) {
		size_t n = left < chunk ? left : chunk;
		rsp_event_kind ev = RSP_EV_NONE;
		size_t used = rsp_decode(&d, in, n, &ev);
		if (used == 0 || used > n || d.len > cap) {
			__builtin_trap();
		}
		in += used;
		left -= used;
		if (ev == RSP_EV_PACKET) {
			hex_on(d.buf, d.len);
			round_trip(d.buf, d.len);
		} else if (ev == RSP_EV_ERROR) {
			if (d.fault == RSP_FAULT_NONE || rsp_fault_text(&d, text, sizeof(text))[0] == 0) {
				__builtin_trap();
			}
		}
	}
	return 0;
}
