/* The RSP packet codec: framing, escaping, run-length decoding, checksums, every malformed input. */
#include "device/rsp_int.h"
#include "helpers/testutil.h"

#include <string.h>

/* Decodes all of in; returns the events in order (at most 16) and the last packet into pkt. */
typedef struct decoded {
	rsp_event_kind ev[16];
	rsp_fault fault[16];
	size_t n;
	uint8_t pkt[RSP_MAX_PACKET];
	size_t pkt_len;
} decoded;

static void decode_all(decoded *o, rsp_decoder *d, const uint8_t *in, size_t len)
{
	o->n = 0;
	while (len > 0) {
		rsp_event_kind ev;
		size_t used = rsp_decode(d, in, len, &ev);
		assert_true(used > 0 && used <= len);
		in += used;
		len -= used;
		if (ev == RSP_EV_NONE) {
			continue;
		}
		assert_true(o->n < 16);
		o->ev[o->n] = ev;
		o->fault[o->n] = ev == RSP_EV_ERROR ? d->fault : RSP_FAULT_NONE;
		o->n++;
		if (ev == RSP_EV_PACKET) {
			memcpy(o->pkt, d->buf, d->len);
			o->pkt_len = d->len;
		}
	}
}

static void decode_str(decoded *o, const char *s, size_t cap)
{
	static uint8_t buf[RSP_MAX_PACKET];
	rsp_decoder d;
	rsp_decoder_init(&d, buf, cap);
	decode_all(o, &d, (const uint8_t *)s, strlen(s));
}

static void test_device_rsp_packet__round_trip_every_byte(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t payload[512], buf[1024];
	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)i;
	}
	lsec_buf frame = LSEC_BUF_INIT(1u << 20);
	assert_lsec_ok(rsp_encode(&frame, payload, sizeof(payload), &err), &err);
	assert_int_equal(frame.len, rsp_encoded_len(payload, sizeof(payload)));
	/* Each of $ # } * appears twice in 0..511 and is escaped. */
	assert_int_equal(frame.len, 4 + 512 + 8);
	assert_int_equal(frame.data[0], '$');
	assert_int_equal(frame.data[frame.len - 3], '#');
	/* Fed one byte at a time, the packet comes out whole, once. */
	rsp_decoder d;
	rsp_decoder_init(&d, buf, sizeof(buf));
	int packets = 0;
	for (size_t i = 0; i < frame.len; i++) {
		rsp_event_kind ev;
		assert_int_equal(rsp_decode(&d, frame.data + i, 1, &ev), 1);
		if (ev == RSP_EV_PACKET) {
			assert_int_equal(i, frame.len - 1);
			assert_int_equal(d.len, sizeof(payload));
			assert_memory_equal(d.buf, payload, sizeof(payload));
			packets++;
		} else {
			assert_int_equal(ev, RSP_EV_NONE);
		}
	}
	assert_int_equal(packets, 1);
	/* The empty packet: "$#00". */
	lsec_buf_reset(&frame);
	assert_lsec_ok(rsp_encode(&frame, NULL, 0, &err), &err);
	assert_int_equal(frame.len, 4);
	assert_memory_equal(frame.data, "$#00", 4);
	lsec_buf_release(&frame);
}

static void test_device_rsp_packet__acks_interrupts_and_known_frames(void **state)
{
	(void)state;
	decoded o;
	/* A reply QEMU sends, with an ack before and an interrupt after. */
	decode_str(&o, "+$OK#9a\x03-", RSP_MAX_PACKET);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.ev[0], RSP_EV_ACK);
	assert_int_equal(o.ev[1], RSP_EV_PACKET);
	assert_int_equal(o.ev[2], RSP_EV_INTERRUPT);
	assert_int_equal(o.ev[3], RSP_EV_NAK);
	assert_int_equal(o.pkt_len, 2);
	assert_memory_equal(o.pkt, "OK", 2);
	/* Upper-case checksum digits are accepted. */
	decode_str(&o, "$qSupported#37", RSP_MAX_PACKET);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	decode_str(&o, "$T05#B9", RSP_MAX_PACKET);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	/* Escapes: "}]" is '}' (0x7d), "}\x03" is '#'. */
	decode_str(&o, "$a}]b}\x03#1d", RSP_MAX_PACKET);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	assert_int_equal(o.pkt_len, 4);
	assert_memory_equal(o.pkt, "a}b#", 4);
}

static void test_device_rsp_packet__run_length(void **state)
{
	(void)state;
	decoded o;
	/* "0* " is '0' and 32 - 29 = 3 more: "0000" (the GDB manual's example). */
	decode_str(&o, "$0* #7a", RSP_MAX_PACKET);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	assert_int_equal(o.pkt_len, 4);
	assert_memory_equal(o.pkt, "0000", 4);
	/* The longest run, '~' (126): 97 more. */
	decode_str(&o, "$x*~#20", RSP_MAX_PACKET);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	assert_int_equal(o.pkt_len, 98);
	for (size_t i = 0; i < 98; i++) {
		assert_int_equal(o.pkt[i], 'x');
	}
	/* A run repeats the decoded (unescaped) byte. */
	decode_str(&o, "$}]* #24", RSP_MAX_PACKET);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	assert_int_equal(o.pkt_len, 4);
	assert_memory_equal(o.pkt, "}}}}", 4);
}

/* Each malformed input is one error naming its fault, and the decoder recovers after it. */
static void expect_fault(const char *in, rsp_fault want, size_t cap)
{
	decoded o;
	char text[160];
	decode_str(&o, in, cap);
	assert_true(o.n >= 1);
	assert_int_equal(o.ev[0], RSP_EV_ERROR);
	assert_int_equal(o.fault[0], want);
	rsp_decoder d = {.fault = want};
	assert_null(strstr(rsp_fault_text(&d, text, sizeof(text)), "no fault"));
	/* The next good packet after the fault decodes. */
	char *again = lsec_asprintf("%s$OK#9a", in);
	decode_str(&o, again, cap);
	lsec_free(again);
	assert_int_equal(o.ev[o.n - 1], RSP_EV_PACKET);
	assert_memory_equal(o.pkt, "OK", 2);
}

static void test_device_rsp_packet__every_malformed_input(void **state)
{
	(void)state;
	expect_fault("$OK#9b", RSP_FAULT_CHECKSUM, RSP_MAX_PACKET);
	expect_fault("$OK#9g", RSP_FAULT_CHECKSUM_HEX, RSP_MAX_PACKET);
	expect_fault("$OK#x0", RSP_FAULT_CHECKSUM_HEX, RSP_MAX_PACKET);
	expect_fault("x", RSP_FAULT_STRAY_BYTE, RSP_MAX_PACKET);
	expect_fault("#", RSP_FAULT_STRAY_BYTE, RSP_MAX_PACKET);
	expect_fault("$ab}#00", RSP_FAULT_BAD_ESCAPE, RSP_MAX_PACKET);
	expect_fault("$* #00", RSP_FAULT_RLE_START, RSP_MAX_PACKET);
	expect_fault("$a*\x1f#00", RSP_FAULT_RLE_COUNT, RSP_MAX_PACKET);
	expect_fault("$a*\x7f#00", RSP_FAULT_RLE_COUNT, RSP_MAX_PACKET);
	expect_fault("$a*#00", RSP_FAULT_RLE_COUNT, RSP_MAX_PACKET);
	expect_fault("$abcdefgh#34", RSP_FAULT_TOO_LONG, 4);
	expect_fault("$ab*~#00", RSP_FAULT_TOO_LONG, 64);
	/* A '$' inside a packet: the cut-off packet is an error, the new one decodes. */
	decoded o;
	decode_str(&o, "$abc$OK#9a", RSP_MAX_PACKET);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.ev[0], RSP_EV_ERROR);
	assert_int_equal(o.fault[0], RSP_FAULT_RESTART);
	assert_int_equal(o.ev[1], RSP_EV_PACKET);
	assert_memory_equal(o.pkt, "OK", 2);
	/* A packet exactly the buffer's size fits; one more byte does not. */
	decode_str(&o, "$abcd#8a", 4);
	assert_int_equal(o.ev[0], RSP_EV_PACKET);
	decode_str(&o, "$abcde#ef", 4);
	assert_int_equal(o.fault[0], RSP_FAULT_TOO_LONG);
	/* A checksum error message names both sums. */
	char text[160];
	rsp_decoder d = {.fault = RSP_FAULT_CHECKSUM, .want_cs = 0x9b, .sum = 0x9a};
	assert_string_equal(rsp_fault_text(&d, text, sizeof(text)),
			    "checksum 0x9b does not match the payload's 0x9a");
}

static void test_device_rsp_packet__encode_respects_limit(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t p[64];
	memset(p, '#', sizeof(p));
	lsec_buf small = LSEC_BUF_INIT(100);
	assert_lsec_code(rsp_encode(&small, p, sizeof(p), &err), LSEC_E_LIMIT, &err);
	lsec_buf_release(&small);
}

static void test_device_rsp_packet__hex(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t out[4];
	assert_true(rsp_hex_bytes(out, sizeof(out), "00ff7Ea5", 8));
	assert_memory_equal(out, "\x00\xff\x7e\xa5", 4);
	assert_false(rsp_hex_bytes(out, sizeof(out), "0", 1));
	assert_false(rsp_hex_bytes(out, sizeof(out), "0g", 2));
	assert_false(rsp_hex_bytes(out, sizeof(out), "0011223344", 10));
	const char *s = "20000000,1f0";
	const char *p = s;
	uint32_t v = 0;
	assert_true(rsp_hex_u32(&v, &p, s + strlen(s)));
	assert_int_equal(v, 0x20000000u);
	assert_int_equal(*p, ',');
	p++;
	assert_true(rsp_hex_u32(&v, &p, s + strlen(s)));
	assert_int_equal(v, 0x1f0);
	assert_int_equal(p, s + strlen(s));
	assert_false(rsp_hex_u32(&v, &p, s + strlen(s))); /* no digit */
	const char *big = "100000000";
	p = big;
	assert_false(rsp_hex_u32(&v, &p, big + strlen(big)));
	const char *huge = "10000000000000000";
	uint64_t w = 0;
	p = huge;
	assert_false(rsp_hex_u64(&w, &p, huge + strlen(huge)));
	lsec_buf b = LSEC_BUF_INIT(64);
	assert_lsec_ok(rsp_hex_append(&b, (const uint8_t *)"\x01\xab", 2, &err), &err);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "01ab", 4);
	lsec_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_rsp_packet__round_trip_every_byte),
		cmocka_unit_test(test_device_rsp_packet__acks_interrupts_and_known_frames),
		cmocka_unit_test(test_device_rsp_packet__run_length),
		cmocka_unit_test(test_device_rsp_packet__every_malformed_input),
		cmocka_unit_test(test_device_rsp_packet__encode_respects_limit),
		cmocka_unit_test(test_device_rsp_packet__hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
