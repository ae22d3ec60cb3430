/*
 * rsp_int.h - the GDB Remote Serial Protocol (RSP) layer, private to
 * src/device: the packet codec (rsp_packet.c, pure: no I/O, no allocation
 * beyond what the caller hands it), the client backend (rsp.c, scheme
 * "rsp") and the server that serves a simulated unit (rsp_server.c).
 *
 * Framing: $PAYLOAD#CS, CS the two lowercase hex digits of the sum modulo
 * 256 of the payload bytes as sent. In the payload '}' (0x7d) escapes the
 * next byte (sent XOR 0x20); '*' followed by a count byte N repeats the
 * previous payload byte N - 29 times (run-length encoding). Outside a
 * packet '+' acknowledges, '-' asks for a retransmission and 0x03 is an
 * interrupt request.
 */
#ifndef LINESEC_RSP_INT_H
#define LINESEC_RSP_INT_H

#include "device/device_int.h"

#include <stddef.h>
#include <stdint.h>

/* The largest decoded payload either side accepts (the decoder's buffer). */
#define RSP_MAX_PACKET 16384u
/* What the server advertises (qSupported PacketSize, hex 0x4000 = 16384 bytes). */
#define RSP_SERVER_PACKET_SIZE 0x4000u

/* What the decoder reports for one step. */
typedef enum rsp_event_kind {
	RSP_EV_NONE = 0,  /* all input consumed, no event yet */
	RSP_EV_ACK,       /* '+' */
	RSP_EV_NAK,       /* '-' */
	RSP_EV_INTERRUPT, /* 0x03 outside a packet */
	RSP_EV_PACKET,    /* a whole packet with a good checksum: d->buf, d->len */
	RSP_EV_ERROR,     /* a malformed input: d->fault; decoding goes on after it */
} rsp_event_kind;

/* Each way a packet can be malformed (rsp_fault_text describes it). */
typedef enum rsp_fault {
	RSP_FAULT_NONE = 0,
	RSP_FAULT_STRAY_BYTE,   /* a byte outside a packet that is none of $ + - 0x03 */
	RSP_FAULT_RESTART,      /* '$' inside a packet: the packet before it was cut off */
	RSP_FAULT_TOO_LONG,     /* the decoded payload exceeds the decoder's buffer */
	RSP_FAULT_BAD_ESCAPE,   /* '}' right before '#' */
	RSP_FAULT_RLE_START,    /* '*' with no byte before it to repeat */
	RSP_FAULT_RLE_COUNT,    /* a run-length count byte outside 32..126 or '#' or '$' */
	RSP_FAULT_CHECKSUM_HEX, /* the checksum is not two hex digits */
	RSP_FAULT_CHECKSUM,     /* the checksum does not match the payload */
} rsp_fault;

/* An incremental decoder; the caller owns buf (cap bytes, at most RSP_MAX_PACKET useful). */
typedef struct rsp_decoder {
	uint8_t *buf;
	size_t cap;
	size_t len;      /* decoded payload bytes so far / of the packet reported */
	int state;       /* private */
	uint8_t sum;     /* running checksum of the bytes as sent */
	uint8_t cs_hi;   /* first checksum digit */
	uint8_t byte;    /* the byte a fault is about */
	rsp_fault fault; /* of the last RSP_EV_ERROR */
	uint8_t want_cs; /* of the last RSP_FAULT_CHECKSUM: the checksum sent */
	rsp_fault pending; /* private: the first fault of the packet being read */
	uint8_t pending_byte;
} rsp_decoder;

void rsp_decoder_init(rsp_decoder *d, uint8_t *buf, size_t cap);
/*
 * Feeds up to n bytes; returns how many it consumed (always at least one
 * when n > 0 and an event comes out, all n when *ev is RSP_EV_NONE) and
 * the event those bytes completed. After RSP_EV_PACKET the payload is in
 * d->buf[0..d->len) until the next call. After RSP_EV_ERROR the decoder is
 * between packets again (a '$' restart is already inside the new packet).
 */
size_t rsp_decode(rsp_decoder *d, const uint8_t *in, size_t n, rsp_event_kind *ev);
/* A sentence saying what fault was found ("checksum 0x12 does not match the payload's 0x34"). */
const char *rsp_fault_text(const rsp_decoder *d, char *buf, size_t cap);

/*
 * Frames payload as $...#cs into out (appended), escaping $ # } and *.
 * Fails with LSEC_E_NOMEM or LSEC_E_LIMIT (out's maximum).
 */
int rsp_encode(lsec_buf *out, const uint8_t *payload, size_t len, lsec_err *err);
/* Bytes rsp_encode appends for payload: 4 + len + the escapes. */
size_t rsp_encoded_len(const uint8_t *payload, size_t len);

/*
 * Hex helpers. rsp_hex_bytes decodes exactly len hex digits (even) into
 * out (at most cap bytes): false on a non-hex digit, an odd length or
 * overflow. rsp_hex_u32/u64 parse hex digits at *p (up to end) and move *p
 * past them: false without a digit or on overflow.
 */
bool rsp_hex_bytes(uint8_t *out, size_t cap, const char *hex, size_t len);
bool rsp_hex_u32(uint32_t *out, const char **p, const char *end);
bool rsp_hex_u64(uint64_t *out, const char **p, const char *end);
/* Appends the lowercase hex of in (n bytes) to out. */
int rsp_hex_append(lsec_buf *out, const uint8_t *in, size_t n, lsec_err *err);

/* ---- the link: one TCP connection carrying packets (rsp.c) ---------- */

/* Retransmissions of one packet after a NAK or a missing ack before giving up. */
#define RSP_RETRIES 3

typedef struct rsp_link {
	int fd;
	bool ack;          /* ack mode in effect (until QStartNoAckMode) */
	unsigned timeout_ms; /* per packet */
	const char *name;  /* what errors name: the device URI, or "client" */
	rsp_decoder dec;
	uint8_t dbuf[RSP_MAX_PACKET];
	uint8_t in[RSP_MAX_PACKET]; /* a whole reply in one read */
	size_t in_pos, in_len;
	lsec_buf tx;       /* the last packet sent, framed: what a NAK resends */
} rsp_link;

/*
 * An rsp: URI's rest ("//HOST:PORT?profile=NAME[&uart=PATH][&timeout=MS]",
 * uri the whole URI for messages) into host, port, profile and uart
 * (lsec_free each; uart stays NULL without uart=) and *timeout_ms (kept
 * without timeout=). LSEC_E_TGT_BAD_URI naming what is wrong.
 */
int rsp_uri_parse(char **host, char **port, char **profile, char **uart, unsigned *timeout_ms,
		  const char *uri, const char *rest, lsec_err *err);
/*
 * A TCP connection to host:port, given up after timeout_ms; blocking once
 * made. LSEC_E_TGT_LINK (refused, unreachable), LSEC_E_TGT_TIMEOUT.
 */
int rsp_tcp_connect(int *fd_out, const char *uri, const char *host, const char *port,
		    unsigned timeout_ms, lsec_err *err);

/*
 * The sim server's monitor command handling without a link (rsp_server.c;
 * the fuzz target): runs the qRcmd payload hex[0..len) against t as `sim
 * serve` does and appends to out what the client would read: the output
 * line ("ok ..."/"error CODE MESSAGE", newline-terminated) or "E01".
 */
int rsp_server__monitor(lsec_buf *out, lsec_device *t, const char *hex, size_t len,
			lsec_err *err);

void rsp_link_init(rsp_link *l, int fd, unsigned timeout_ms, const char *name);
/* Wipes what was sent (it may have held a secret) and closes the socket. */
void rsp_link_close(rsp_link *l);
/* Frames payload and writes it (kept in l->tx). LSEC_E_TGT_LINK. */
int rsp_link_send(rsp_link *l, const uint8_t *payload, size_t len, const char *what,
		  lsec_err *err);
/* Writes raw bytes ('+', '-', 0x03). LSEC_E_TGT_LINK. */
int rsp_link_send_raw(rsp_link *l, const void *p, size_t n, const char *what, lsec_err *err);
/*
 * The next event from the link, waiting at most timeout_ms (-1: forever).
 * LSEC_E_TGT_TIMEOUT, or LSEC_E_TGT_LINK when the peer closed the
 * connection or the socket failed.
 */
int rsp_link_next(rsp_link *l, rsp_event_kind *ev, int timeout_ms, const char *what,
		  lsec_err *err);

/* ---- the client (rsp.c), for the tests ------------------------------- */

extern const lsec_device_ops lsec_device__rsp_ops;

/*
 * Resumes the target (c) and returns at once; rsp_interrupt then stops it
 * (0x03) and reads the stop reply ("T02..." / "S02") into sig. rsp_halt_reason
 * asks why the target stopped (?). LSEC_E_TGT_PROTOCOL on a reply that is
 * not a stop reply.
 */
int lsec_device__rsp_continue(lsec_device *t, lsec_err *err);
int lsec_device__rsp_interrupt(lsec_device *t, unsigned *sig, lsec_err *err);
int lsec_device__rsp_halt_reason(lsec_device *t, unsigned *sig, lsec_err *err);
/* Register n (from target.xml: r0-r12, sp, lr, pc, xpsr on an M-profile core). */
int lsec_device__rsp_reg_read(lsec_device *t, const char *name, uint32_t *out, lsec_err *err);
int lsec_device__rsp_reg_write(lsec_device *t, const char *name, uint32_t v, lsec_err *err);
/* What the session learnt: the server's packet size, whether X and vFlash* work. */
typedef struct lsec_device__rsp_stats {
	size_t packet_size;
	bool binary;   /* X works */
	bool vflash;   /* vFlashErase/Write/Done work */
	bool no_ack;   /* QStartNoAckMode accepted */
	unsigned nregs; /* registers target.xml describes */
	uint64_t packets, retransmits;
} lsec_device__rsp_stats;
int lsec_device__rsp_stats_get(lsec_device__rsp_stats *out, const lsec_device *t, lsec_err *err);

#endif
