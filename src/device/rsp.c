/*
 * rsp.c - the GDB Remote Serial Protocol client backend, scheme "rsp":
 * rsp://HOST:PORT?profile=NAME[&uart=PATH][&timeout=MS] (docs/device.md,
 * "RSP backend"). A device operation becomes memory packets (m, X or M,
 * vFlash*) or a monitor command (qRcmd), as the profile's method table
 * says; an operation the profile lacks is refused as unsupported.
 *
 * @test tests/unit/device/test_rsp.c
 */
#include "device/rsp_int.h"
#include "linesec/image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RSP_DEFAULT_TIMEOUT_MS 5000u
#define RSP_MAX_TIMEOUT_MS 600000u
#define RSP_MAX_REGS 64u
#define RSP_TARGET_XML_MAX (64u * 1024u)

/* ---- the link --------------------------------------------------------- */

void rsp_link_init(rsp_link *l, int fd, unsigned timeout_ms, const char *name)
{
	/* Request and reply alternate: Nagle's algorithm would hold each tail back. */
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->ack = true;
	l->timeout_ms = timeout_ms;
	l->name = name;
	rsp_decoder_init(&l->dec, l->dbuf, sizeof(l->dbuf));
	lsec_buf_init(&l->tx, 4 * RSP_MAX_PACKET);
}

void rsp_link_close(rsp_link *l)
{
	if (l->tx.data != NULL) {
		lsec_wipe(l->tx.data, l->tx.cap);
	}
	lsec_buf_release(&l->tx);
	lsec_wipe(l->dbuf, sizeof(l->dbuf));
	lsec_wipe(l->in, sizeof(l->in));
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
}

int rsp_link_send_raw(rsp_link *l, const void *p, size_t n, const char *what, lsec_err *err)
{
	int rc = 0;
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(l->fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		LSEC_ENSURE(w > 0, LSEC_E_TGT_LINK, "cannot send %s to '%s': %s (link lost)", what,
			    l->name, strerror(errno));
		b += w;
		n -= (size_t)w;
	}
out:
	return rc;
}

int rsp_link_send(rsp_link *l, const uint8_t *payload, size_t len, const char *what,
		  lsec_err *err)
{
	int rc = 0;
	lsec_wipe(l->tx.data, l->tx.len);
	lsec_buf_reset(&l->tx);
	LSEC_TRY(rsp_encode(&l->tx, payload, len, err));
	LSEC_TRY(rsp_link_send_raw(l, l->tx.data, l->tx.len, what, err));
out:
	return rc;
}

int rsp_link_next(rsp_link *l, rsp_event_kind *ev, int timeout_ms, const char *what,
		  lsec_err *err)
{
	int rc = 0;
	uint64_t deadline = timeout_ms < 0 ? 0 : lsec_time_mono_ms() + (uint64_t)timeout_ms;
	*ev = RSP_EV_NONE;
	for (;;) {
		if (l->in_pos < l->in_len) {
			size_t used =
			    rsp_decode(&l->dec, l->in + l->in_pos, l->in_len - l->in_pos, ev);
			/* The bytes may carry a secret (a key inject on the server side). */
			lsec_wipe(l->in + l->in_pos, used);
			l->in_pos += used;
			if (*ev != RSP_EV_NONE) {
				break;
			}
			continue;
		}
		int wait = -1;
		if (timeout_ms >= 0) {
			uint64_t now = lsec_time_mono_ms();
			wait = now >= deadline ? 0 : (int)(deadline - now);
		}
		struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
		int pr = poll(&pfd, 1, wait);
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		LSEC_ENSURE(pr >= 0, LSEC_E_TGT_LINK, "cannot read %s from '%s': %s (link lost)",
			    what, l->name, strerror(errno));
		LSEC_ENSURE(pr > 0, LSEC_E_TGT_TIMEOUT,
			    "cannot %s on '%s': no answer within %d ms (link timeout)", what, l->name,
			    timeout_ms);
		ssize_t r = recv(l->fd, l->in, sizeof(l->in), 0);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		LSEC_ENSURE(r >= 0, LSEC_E_TGT_LINK, "cannot read %s from '%s': %s (link lost)",
			    what, l->name, strerror(errno));
		LSEC_ENSURE(r > 0, LSEC_E_TGT_LINK,
			    "cannot %s on '%s': the connection was closed by the other side (link lost)",
			    what, l->name);
		l->in_pos = 0;
		l->in_len = (size_t)r;
	}
out:
	return rc;
}

/* ---- the session ------------------------------------------------------- */

/*
 * What the device can do and how is its profile's word
 * (lsec_device_profile_load, docs/device-profiles.md): the backend runs
 * the profile's steps and knows no chip itself.
 */
typedef struct rsp_session {
	lsec_device *dev;
	lsec_device_profile *profile;
	const lsec_device_profile_layout *lay;
	bool lsec_proto;         /* monitor-protocol lsec: "ok ARGS" / "error CODE MESSAGE" */
	char *uart;              /* uart=PATH: the serial console's log (UART attestation) */
	rsp_link link;
	lsec_buf reply;          /* the last reply's payload */
	lsec_buf out;            /* O-packet output of the last monitor command */
	lsec_buf res;            /* the last operation's result (text, NUL-terminated) */
	lsec_buf pkt;            /* the write packet being built (kept: no allocation per packet) */
	bool res_num;            /* the result is a number (a read32 step's): res_value */
	uint32_t res_value;
	size_t packet_size;      /* the most payload bytes the server takes */
	int binary;              /* X: -1 unknown, 0 no, 1 yes */
	int vflash;              /* vFlash*: -1 unknown, 0 no, 1 yes */
	bool no_ack;
	bool broken;             /* the link failed: nothing more is sent on it */
	uint64_t deadline;       /* of the transaction under way (monotonic ms) */
	unsigned ignored;        /* events and O packets it skipped so far */
	char *host, *port;       /* where to connect again (reset of a failed session) */
	char regs[RSP_MAX_REGS][16];
	unsigned reg_bits[RSP_MAX_REGS];
	unsigned nregs;
	bool regs_known;
	lsec_device__rsp_stats stats;
} rsp_session;

#define S(t) ((rsp_session *)(t)->impl)

static int unsupported(rsp_session *s, const char *what, lsec_err *err)
{
	return lsec_err_set(err, LSEC_E_TGT_UNSUPPORTED, __FILE__, __LINE__,
			    "cannot %s on device '%s': not supported by this device (profile %s)",
			    what, s->dev->uri, lsec_device_profile_name(s->profile));
}

/*
 * One transaction (a packet and its reply, or an interrupt and its stop
 * reply) has one deadline, timeout x (RSP_RETRIES + 1), and skips at most
 * RSP_MAX_IGNORED stray events and O packets: a server that trickles acks
 * or output forever does not hold the client.
 */
#define RSP_MAX_IGNORED 4096u

static void txn_begin(rsp_session *s)
{
	s->deadline = lsec_time_mono_ms() + (uint64_t)s->link.timeout_ms * (RSP_RETRIES + 1);
	s->ignored = 0;
}

/* Counts one skipped event or O packet (kind names it). */
static int txn_ignore(rsp_session *s, const char *what, const char *kind, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(++s->ignored <= RSP_MAX_IGNORED, LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': more than %u %s instead of a reply (misbehaving "
		    "server)",
		    what, s->dev->uri, RSP_MAX_IGNORED, kind);
out:
	return rc;
}

/* The next event, waiting at most one timeout and never past the deadline. */
static int txn_next(rsp_session *s, rsp_event_kind *ev, const char *what, lsec_err *err)
{
	int rc = 0;
	uint64_t now = lsec_time_mono_ms();
	*ev = RSP_EV_NONE;
	LSEC_ENSURE(now < s->deadline, LSEC_E_TGT_TIMEOUT,
		    "cannot %s on device '%s': no reply within %llu ms (link timeout)", what,
		    s->dev->uri,
		    (unsigned long long)s->link.timeout_ms * (RSP_RETRIES + 1));
	uint64_t left = s->deadline - now;
	int wait = left < s->link.timeout_ms ? (int)left : (int)s->link.timeout_ms;
	LSEC_TRY(rsp_link_next(&s->link, ev, wait, what, err));
out:
	return rc;
}

/* Waits for the '+' of the packet just sent, resending it on '-' or silence. */
static int wait_ack(rsp_session *s, const char *what, lsec_err *err)
{
	int rc = 0;
	unsigned tries = 0;
	for (;;) {
		rsp_event_kind ev;
		lsec_err lerr = LSEC_ERR_INIT;
		int r = txn_next(s, &ev, what, &lerr);
		if (r == LSEC_E_TGT_TIMEOUT && tries < RSP_RETRIES && lsec_time_mono_ms() < s->deadline) {
			tries++;
			s->stats.retransmits++;
			LSEC_TRY(rsp_link_send_raw(&s->link, s->link.tx.data, s->link.tx.len, what, err));
			continue;
		}
		if (r < 0) {
			*err = lerr;
			LSEC_TRY(r);
		}
		if (ev == RSP_EV_ACK) {
			break;
		}
		if (ev == RSP_EV_PACKET) {
			/*
			 * In ack mode the server acks a packet before it answers it: a
			 * packet before the ack is not the reply but something the
			 * server had queued (QEMU's stop reply to a debugger that
			 * connects to a running board). Acked and skipped; taken as
			 * the reply, it would shift every later reply by one.
			 */
			bool o = s->link.dec.len > 1 && s->link.dec.buf[0] == 'O';
			LSEC_TRY(rsp_link_send_raw(&s->link, "+", 1, what, err));
			LSEC_TRY(txn_ignore(s, what, o ? "output (O) packets" : "packets before the ack",
					    err));
			continue;
		}
		if (ev == RSP_EV_NAK) {
			LSEC_ENSURE(tries < RSP_RETRIES, LSEC_E_TGT_PROTOCOL,
				    "cannot %s on device '%s': the server refused the packet %u times "
				    "(bad checksum on the link)",
				    what, s->dev->uri, tries + 1);
			tries++;
			s->stats.retransmits++;
			LSEC_TRY(rsp_link_send_raw(&s->link, s->link.tx.data, s->link.tx.len, what, err));
			continue;
		}
		LSEC_TRY(txn_ignore(s, what, "stray bytes or interrupts", err));
	}
out:
	return rc;
}

/*
 * Sends one packet and reads its reply into s->reply. O packets before the
 * reply are output: collected into s->out when collect, else dropped.
 * expect_reply false: only the ack is awaited (c, k).
 */
static int transact(rsp_session *s, const char *what, const uint8_t *p, size_t n, bool collect,
		    bool expect_reply, lsec_err *err)
{
	int rc = 0;
	char fault[160];
	unsigned bad = 0;
	bool sent = false;
	lsec_buf_reset(&s->reply);
	if (collect) {
		lsec_buf_reset(&s->out);
	}
	LSEC_ENSURE(n <= s->packet_size, LSEC_E_LIMIT,
		    "cannot %s on device '%s': packet of %zu bytes exceeds the server's %zu", what,
		    s->dev->uri, n, s->packet_size);
	s->stats.packets++;
	txn_begin(s);
	sent = true;
	LSEC_TRY(rsp_link_send(&s->link, p, n, what, err));
	if (s->link.ack) {
		LSEC_TRY(wait_ack(s, what, err));
	}
	if (!expect_reply) {
		goto out;
	}
	for (;;) {
		rsp_event_kind ev = RSP_EV_PACKET;
		LSEC_TRY(txn_next(s, &ev, what, err));
		if (ev == RSP_EV_ERROR) {
			rsp_fault_text(&s->link.dec, fault, sizeof(fault));
			LSEC_ENSURE(s->link.ack && bad < RSP_RETRIES, LSEC_E_TGT_PROTOCOL,
				    "cannot %s on device '%s': malformed reply: %s", what, s->dev->uri,
				    fault);
			bad++;
			s->stats.retransmits++;
			LSEC_TRY(rsp_link_send_raw(&s->link, "-", 1, what, err));
			continue;
		}
		if (ev != RSP_EV_PACKET) {
			LSEC_TRY(txn_ignore(s, what, "stray acks or interrupts", err));
			continue;
		}
		if (s->link.ack) {
			LSEC_TRY(rsp_link_send_raw(&s->link, "+", 1, what, err));
		}
		const uint8_t *d = s->link.dec.buf;
		size_t len = s->link.dec.len;
		if (len > 1 && d[0] == 'O' && !(len == 2 && d[1] == 'K')) {
			LSEC_TRY(txn_ignore(s, what, "output (O) packets", err));
			if (collect) {
				LSEC_ENSURE(len % 2 == 1, LSEC_E_TGT_PROTOCOL,
					    "cannot %s on device '%s': malformed output packet", what,
					    s->dev->uri);
				size_t at = s->out.len;
				LSEC_TRY(lsec_buf_reserve(&s->out, len / 2 + 1, err));
				LSEC_ENSURE(rsp_hex_bytes(s->out.data + at, len / 2,
							  (const char *)d + 1, len - 1),
					    LSEC_E_TGT_PROTOCOL,
					    "cannot %s on device '%s': output packet is not hex", what,
					    s->dev->uri);
				s->out.len += len / 2;
			}
			continue;
		}
		LSEC_TRY(lsec_buf_append(&s->reply, d, len, err));
		break;
	}
out:
	/*
	 * A packet went out and its exchange did not finish: what is left on
	 * the link would be read as the next command's reply. The session is
	 * broken, and the error says so with a sticky code.
	 */
	if (rc < 0 && sent) {
		s->broken = true;
		if (rc != LSEC_E_TGT_LINK && rc != LSEC_E_TGT_TIMEOUT && rc != LSEC_E_TGT_PROTOCOL) {
			char why[LSEC_ERR_MSG_MAX];
			snprintf(why, sizeof(why), "%s", err->msg);
			rc = lsec_err_set(err, LSEC_E_TGT_PROTOCOL, __FILE__, __LINE__,
					  "cannot %s on device '%s': the exchange was left unfinished "
					  "(%s)",
					  what, s->dev->uri, why);
		}
	}
	return rc;
}

static int transact_str(rsp_session *s, const char *what, const char *p, lsec_err *err)
{
	return transact(s, what, (const uint8_t *)p, strlen(p), false, true, err);
}

static bool reply_is(const rsp_session *s, const char *want)
{
	size_t n = strlen(want);
	return s->reply.len == n && memcmp(s->reply.data, want, n) == 0;
}

/*
 * Turns an error reply into an error: "E.CODE MESSAGE" (the message text
 * GDB's error-message feature allows; CODE is a linesec code from a
 * linesec server), "ENN" (a plain errno-style number), or the empty reply
 * (the server does not know the packet). 0 for any other reply.
 */
static int reply_error(rsp_session *s, const char *what, lsec_err *err)
{
	int rc = 0;
	const char *r = (const char *)s->reply.data;
	size_t n = s->reply.len;
	LSEC_ENSURE(n > 0, LSEC_E_TGT_UNSUPPORTED,
		    "cannot %s on device '%s': the server does not support the packet", what,
		    s->dev->uri);
	if (n >= 2 && r[0] == 'E' && r[1] == '.') {
		char *end = NULL;
		char text[512];
		snprintf(text, sizeof(text), "%.*s", (int)(n - 2), r + 2);
		long code = strtol(text, &end, 10);
		if (end != text && code <= -150 && code >= -199 && *end == ' ') {
			LSEC_BAIL((int)code, "cannot %s on device '%s': %s", what, s->dev->uri, end + 1);
		}
		LSEC_BAIL(LSEC_E_DEVICE, "cannot %s on device '%s': the server says: %s", what,
			  s->dev->uri, text);
	}
	if (n == 3 && r[0] == 'E') {
		uint8_t code = 0;
		LSEC_ENSURE(rsp_hex_bytes(&code, 1, r + 1, 2), LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': malformed error reply", what, s->dev->uri);
		LSEC_BAIL(LSEC_E_DEVICE, "cannot %s on device '%s': the server answered error %u",
			  what, s->dev->uri, code);
	}
out:
	return rc;
}

/* Expects "OK". */
static int expect_ok(rsp_session *s, const char *what, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(reply_error(s, what, err));
	LSEC_ENSURE(reply_is(s, "OK"), LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': expected OK, got '%.*s'", what, s->dev->uri,
		    (int)(s->reply.len > 40 ? 40 : s->reply.len), (const char *)s->reply.data);
out:
	return rc;
}

/* ---- monitor commands ----------------------------------------------------- */

/*
 * Runs the monitor command cmd (qRcmd) and leaves its output in s->out,
 * NUL-terminated, trailing line ends cut; *args points at the result:
 * with the lsec protocol the ARGS of "ok[ ARGS]" (an "error CODE MESSAGE"
 * fails with CODE and the message prefixed with the device URI), else the
 * whole output. The packet is wiped afterwards: it may carry a secret (key
 * inject, credential store).
 */
static int monitor(rsp_session *s, const char *what, const char *cmd, const char **args,
		   lsec_err *err)
{
	int rc = 0;
	lsec_buf pkt = LSEC_BUF_INIT(4 * RSP_MAX_PACKET);
	LSEC_TRY(lsec_buf_append_str(&pkt, "qRcmd,", err));
	LSEC_TRY(rsp_hex_append(&pkt, (const uint8_t *)cmd, strlen(cmd), err));
	LSEC_TRY(transact(s, what, pkt.data, pkt.len, true, true, err));
	LSEC_TRY(expect_ok(s, what, err));
	LSEC_TRY(lsec_buf_append_u8(&s->out, 0, err));
	s->out.len--;
	char *o = (char *)s->out.data;
	size_t on = strlen(o);
	while (on > 0 && (o[on - 1] == '\n' || o[on - 1] == '\r')) {
		o[--on] = 0;
	}
	if (!s->lsec_proto) {
		*args = o;
		goto out;
	}
	if (strncmp(o, "ok", 2) == 0 && (o[2] == 0 || o[2] == ' ')) {
		*args = o[2] == 0 ? o + 2 : o + 3;
		goto out;
	}
	if (strncmp(o, "error ", 6) == 0) {
		char *end = NULL;
		long code = strtol(o + 6, &end, 10);
		LSEC_ENSURE(end != o + 6 && (*end == ' ' || *end == 0), LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': malformed monitor error '%.80s'", what,
			    s->dev->uri, o);
		/* Only the device range is the server's to name (as reply_error). */
		LSEC_BAIL(code <= -150 && code >= -199 ? (int)code : LSEC_E_DEVICE,
			  "device '%s': %s", s->dev->uri, *end ? end + 1 : "(no message)");
	}
	LSEC_BAIL(LSEC_E_TGT_PROTOCOL,
		  "cannot %s on device '%s': unexpected monitor output '%.80s' (expected ok or error)",
		  what, s->dev->uri, o);
out:
	lsec_wipe(pkt.data, pkt.len);
	lsec_wipe(s->link.tx.data, s->link.tx.len);
	lsec_buf_release(&pkt);
	return rc;
}

/* Decodes a result's hex into out. */
static int args_hex(lsec_buf *out, rsp_session *s, const char *args, const char *what,
		    lsec_err *err)
{
	int rc = 0;
	size_t n = strlen(args);
	LSEC_ENSURE(n % 2 == 0, LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': result is not hex", what, s->dev->uri);
	LSEC_TRY(lsec_buf_reserve(out, n / 2 + 1, err));
	LSEC_ENSURE(rsp_hex_bytes(out->data + out->len, n / 2, args, n), LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': result is not hex", what, s->dev->uri);
	out->len += n / 2;
out:
	return rc;
}

/* ---- opening ----------------------------------------------------------- */

int rsp_tcp_connect(int *fd_out, const char *uri, const char *host, const char *port,
		       unsigned timeout_ms, lsec_err *err)
{
	int rc = 0, fd = -1;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(host, port, &hints, &ai);
	LSEC_ENSURE(gai == 0, LSEC_E_TGT_LINK, "cannot connect to device '%s': %s", uri,
		    gai_strerror(gai));
	int last = ECONNREFUSED;
	for (struct addrinfo *a = ai; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    a->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		int c = connect(fd, a->ai_addr, a->ai_addrlen);
		if (c < 0 && errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int pr = poll(&p, 1, (int)timeout_ms);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    soerr == 0) {
				c = 0;
			} else {
				errno = pr == 0 ? ETIMEDOUT : soerr;
			}
		}
		if (c < 0) {
			last = errno;
			close(fd);
			fd = -1;
		}
	}
	LSEC_ENSURE(fd >= 0, last == ETIMEDOUT ? LSEC_E_TGT_TIMEOUT : LSEC_E_TGT_LINK,
		    "cannot connect to device '%s': %s (link failure: is the debug server running?)", uri,
		    strerror(last));
	int flags = fcntl(fd, F_GETFL);
	LSEC_ENSURE(flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0, LSEC_E_TGT_LINK,
		    "cannot connect to device '%s': %s", uri, strerror(errno));
	*fd_out = fd;
	fd = -1;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (ai != NULL) {
		freeaddrinfo(ai);
	}
	return rc;
}

/* Splits "//HOST:PORT?k=v&..." into host, port, profile name and timeout. */
int rsp_uri_parse(char **host, char **port, char **profile, char **uart,
		     unsigned *timeout_ms, const char *uri, const char *rest, lsec_err *err)
{
	int rc = 0;
	char *copy = NULL;
	LSEC_ENSURE(strncmp(rest, "//", 2) == 0, LSEC_E_TGT_BAD_URI,
		    "cannot open device '%s': expected rsp://HOST:PORT?profile=NAME", uri);
	copy = lsec_strdup(rest + 2);
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	char *q = strchr(copy, '?');
	if (q != NULL) {
		*q++ = 0;
	}
	char *colon = strrchr(copy, ':');
	LSEC_ENSURE(colon != NULL && colon != copy && colon[1] != 0, LSEC_E_TGT_BAD_URI,
		    "cannot open device '%s': expected HOST:PORT after rsp://", uri);
	*colon = 0;
	char *end = NULL;
	unsigned long pn = strtoul(colon + 1, &end, 10);
	LSEC_ENSURE(*end == 0 && pn > 0 && pn < 65536 && colon[1] >= '0' && colon[1] <= '9',
		    LSEC_E_TGT_BAD_URI, "cannot open device '%s': port '%s' is not 1-65535", uri,
		    colon + 1);
	char *h = copy;
	if (h[0] == '[' && colon[-1] == ']') { /* [::1]:PORT */
		h++;
		colon[-1] = 0;
	}
	*host = lsec_strdup(h);
	*port = lsec_strdup(colon + 1);
	LSEC_ENSURE(*host != NULL && *port != NULL, LSEC_E_NOMEM, "out of memory");
	char *save = NULL;
	for (char *kv = q ? strtok_r(q, "&", &save) : NULL; kv != NULL;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		LSEC_ENSURE(eq != NULL, LSEC_E_TGT_BAD_URI,
			    "cannot open device '%s': option '%s' lacks '=VALUE'", uri, kv);
		*eq++ = 0;
		if (strcmp(kv, "profile") == 0) {
			lsec_free(*profile);
			*profile = lsec_strdup(eq);
			LSEC_ENSURE(*profile != NULL, LSEC_E_NOMEM, "out of memory");
		} else if (strcmp(kv, "timeout") == 0) {
			unsigned long ms = strtoul(eq, &end, 10);
			LSEC_ENSURE(*end == 0 && eq[0] >= '0' && eq[0] <= '9' && ms >= 1 &&
					    ms <= RSP_MAX_TIMEOUT_MS,
				    LSEC_E_TGT_BAD_URI,
				    "cannot open device '%s': timeout '%s' is not 1-%u (milliseconds)",
				    uri, eq, RSP_MAX_TIMEOUT_MS);
			*timeout_ms = (unsigned)ms;
		} else if (strcmp(kv, "uart") == 0) {
			/* The serial console's log: read by the profiles that attest over it. */
			LSEC_ENSURE(eq[0] != 0, LSEC_E_TGT_BAD_URI,
				    "cannot open device '%s': uart= needs the path of the unit's "
				    "UART log",
				    uri);
			lsec_free(*uart);
			*uart = lsec_strdup(eq);
			LSEC_ENSURE(*uart != NULL, LSEC_E_NOMEM, "out of memory");
		} else {
			LSEC_BAIL(LSEC_E_TGT_BAD_URI,
				  "cannot open device '%s': unknown option '%s' (expected profile, "
				  "timeout, uart)",
				  uri, kv);
		}
	}
	LSEC_ENSURE(*profile != NULL, LSEC_E_TGT_BAD_URI,
		    "cannot open device '%s': missing profile=NAME (e.g. profile=linesec-sim)", uri);
out:
	lsec_free(copy);
	return rc;
}

/* qSupported: packet size and whether no-ack mode is offered. */
static int handshake(rsp_session *s, lsec_err *err)
{
	int rc = 0;
	bool offers_noack = false;
	LSEC_TRY(transact_str(s, "negotiate features (qSupported)",
			      "qSupported:multiprocess-;swbreak+;hwbreak+;error-message+", err));
	LSEC_TRY(reply_error(s, "negotiate features (qSupported)", err));
	LSEC_TRY(lsec_buf_append_u8(&s->reply, 0, err));
	char *save = NULL;
	for (char *f = strtok_r((char *)s->reply.data, ";", &save); f != NULL;
	     f = strtok_r(NULL, ";", &save)) {
		if (strncmp(f, "PacketSize=", 11) == 0) {
			const char *p = f + 11;
			uint64_t v = 0;
			LSEC_ENSURE(rsp_hex_u64(&v, &p, p + strlen(p)) && *p == 0 && v >= 64,
				    LSEC_E_TGT_PROTOCOL,
				    "cannot open device '%s': malformed qSupported feature '%.40s'",
				    s->dev->uri, f);
			s->packet_size = v > RSP_MAX_PACKET ? RSP_MAX_PACKET : (size_t)v;
		} else if (strcmp(f, "QStartNoAckMode+") == 0) {
			offers_noack = true;
		}
	}
	if (offers_noack) {
		LSEC_TRY(transact_str(s, "leave ack mode (QStartNoAckMode)", "QStartNoAckMode", err));
		LSEC_TRY(expect_ok(s, "leave ack mode (QStartNoAckMode)", err));
		s->link.ack = false;
		s->no_ack = true;
	}
	/* Why the target is stopped: every server answers this one. */
	unsigned sig = 0;
	LSEC_TRY(lsec_device__rsp_halt_reason(s->dev, &sig, err));
out:
	return rc;
}

static void rsp_close(lsec_device *t)
{
	rsp_session *s = S(t);
	if (s->link.fd >= 0 && s->link.tx.data != NULL && !s->broken) {
		lsec_err quiet = LSEC_ERR_INIT;
		/* Detach: the target runs on; the server takes the next connection. */
		(void)transact(s, "detach (D)", (const uint8_t *)"D", 1, false, false, &quiet);
	}
	rsp_link_close(&s->link);
	lsec_buf_release(&s->reply);
	lsec_buf_release(&s->pkt);
	if (s->out.data != NULL) {
		lsec_wipe(s->out.data, s->out.cap);
	}
	lsec_buf_release(&s->out);
	if (s->res.data != NULL) {
		lsec_wipe(s->res.data, s->res.cap);
	}
	lsec_buf_release(&s->res);
	lsec_device_profile_free(s->profile);
	lsec_free(s->uart);
	lsec_free(s->host);
	lsec_free(s->port);
	lsec_free(s);
	t->impl = NULL;
}

/* Connects (again) and negotiates: a fresh link in ack mode, features unknown. */
static int rsp_connect(rsp_session *s, lsec_err *err)
{
	int rc = 0, fd = -1;
	unsigned timeout_ms = s->link.timeout_ms;
	rsp_link_close(&s->link);
	s->link.fd = -1;
	LSEC_TRY(rsp_tcp_connect(&fd, s->dev->uri, s->host, s->port, timeout_ms, err));
	rsp_link_init(&s->link, fd, timeout_ms, s->dev->uri);
	fd = -1;
	s->packet_size = 400; /* until qSupported says more */
	s->binary = -1;
	s->vflash = -1;
	s->no_ack = false;
	s->broken = false;
	s->regs_known = false;
	rc = handshake(s, err);
	s->broken = rc < 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static int rsp_open(lsec_device *t, const char *rest, lsec_err *err)
{
	int rc = 0;
	char *profile = NULL;
	unsigned timeout_ms = RSP_DEFAULT_TIMEOUT_MS;
	rsp_session *s = lsec_calloc(1, sizeof(*s));
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "out of memory");
	s->dev = t;
	s->link.fd = -1;
	t->impl = s;
	LSEC_TRY(rsp_uri_parse(&s->host, &s->port, &profile, &s->uart, &timeout_ms, t->uri, rest,
			   err));
	lsec_buf_init(&s->reply, RSP_MAX_PACKET);
	lsec_buf_init(&s->pkt, RSP_MAX_PACKET + 64);
	lsec_buf_init(&s->out, 4 * RSP_MAX_PACKET);
	lsec_buf_init(&s->res, 4 * RSP_MAX_PACKET);
	{
		lsec_err perr = LSEC_ERR_INIT;
		int prc = lsec_device_profile_load(&s->profile, profile, &perr);
		if (prc < 0) {
			LSEC_BAIL(prc == LSEC_E_NOTFOUND ? LSEC_E_TGT_BAD_URI : prc,
				  "cannot open device '%s': %s", t->uri, perr.msg);
		}
	}
	s->lay = lsec_device_profile_layout_get(s->profile);
	s->lsec_proto = strcmp(lsec_device_profile_monitor_protocol(s->profile), "lsec") == 0;

	s->link.timeout_ms = timeout_ms;
	LSEC_TRY(rsp_connect(s, err));
out:
	lsec_free(profile);
	return rc;
}

/* ---- registers (target.xml) --------------------------------------------- */

/* Reads target.xml through qXfer (m: more follows, l: last) and lists its registers. */
static int read_target_xml(rsp_session *s, lsec_err *err)
{
	int rc = 0;
	const char *what = "read the register description (qXfer:features:read:target.xml)";
	lsec_buf xml = LSEC_BUF_INIT(RSP_TARGET_XML_MAX);
	char pkt[96];
	for (;;) {
		snprintf(pkt, sizeof(pkt), "qXfer:features:read:target.xml:%zx,%zx", xml.len,
			 s->packet_size - 8);
		LSEC_TRY(transact_str(s, what, pkt, err));
		LSEC_TRY(reply_error(s, what, err));
		const uint8_t *r = s->reply.data;
		LSEC_ENSURE(r[0] == 'm' || r[0] == 'l', LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': reply starts with '%c' (expected m or l)", what,
			    s->dev->uri, r[0]);
		LSEC_TRY(lsec_buf_append(&xml, r + 1, s->reply.len - 1, err));
		if (r[0] == 'l') {
			break;
		}
		LSEC_ENSURE(s->reply.len > 1, LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': empty chunk before the end", what, s->dev->uri);
	}
	LSEC_TRY(lsec_buf_append_u8(&xml, 0, err));
	/* <reg name="r0" bitsize="32" .../> in order: the register numbers. */
	s->nregs = 0;
	for (const char *p = (const char *)xml.data; (p = strstr(p, "<reg ")) != NULL; p++) {
		const char *end = strchr(p, '>');
		const char *nm = strstr(p, "name=\"");
		const char *bs = strstr(p, "bitsize=\"");
		LSEC_ENSURE(end != NULL && nm != NULL && nm < end && bs != NULL && bs < end &&
				    s->nregs < RSP_MAX_REGS,
			    LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': malformed <reg> element", what, s->dev->uri);
		nm += 6;
		size_t nl = strcspn(nm, "\"");
		LSEC_ENSURE(nl > 0 && nl < sizeof(s->regs[0]), LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': register name too long", what, s->dev->uri);
		memcpy(s->regs[s->nregs], nm, nl);
		s->regs[s->nregs][nl] = 0;
		s->reg_bits[s->nregs] = (unsigned)strtoul(bs + 9, NULL, 10);
		s->nregs++;
	}
	LSEC_ENSURE(s->nregs > 0, LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': target.xml lists no registers", what, s->dev->uri);
	s->regs_known = true;
	s->stats.nregs = s->nregs;
out:
	lsec_buf_release(&xml);
	return rc;
}

static int reg_number(rsp_session *s, const char *name, unsigned *n, lsec_err *err)
{
	int rc = 0;
	if (!s->regs_known) {
		LSEC_TRY(read_target_xml(s, err));
	}
	for (unsigned i = 0; i < s->nregs; i++) {
		if (strcmp(s->regs[i], name) == 0) {
			LSEC_ENSURE(s->reg_bits[i] == 32, LSEC_E_TGT_UNSUPPORTED,
				    "cannot access register '%s' of device '%s': %u bits (only 32)",
				    name, s->dev->uri, s->reg_bits[i]);
			*n = i;
			goto out;
		}
	}
	LSEC_BAIL(LSEC_E_TGT_RANGE, "device '%s' has no register '%s' (its target.xml lists %u)",
		  s->dev->uri, name, s->nregs);
out:
	return rc;
}

int lsec_device__rsp_reg_read(lsec_device *t, const char *name, uint32_t *out, lsec_err *err)
{
	int rc = 0;
	unsigned n = 0;
	uint8_t le[4];
	char pkt[32];
	LSEC_ENSURE(t->ops == &lsec_device__rsp_ops, LSEC_E_USAGE, "not an rsp: device");
	rsp_session *s = S(t);
	LSEC_TRY(reg_number(s, name, &n, err));
	snprintf(pkt, sizeof(pkt), "p%x", n);
	LSEC_TRY(transact_str(s, "read a register (p)", pkt, err));
	LSEC_TRY(reply_error(s, "read a register (p)", err));
	LSEC_ENSURE(s->reply.len == 8 && rsp_hex_bytes(le, 4, (const char *)s->reply.data, 8),
		    LSEC_E_TGT_PROTOCOL,
		    "cannot read register '%s' of device '%s': malformed reply (expected 8 hex digits)",
		    name, t->uri);
	*out = lsec_get_u32le(le); /* target byte order: little-endian Arm */
out:
	return rc;
}

int lsec_device__rsp_reg_write(lsec_device *t, const char *name, uint32_t v, lsec_err *err)
{
	int rc = 0;
	unsigned n = 0;
	uint8_t le[4];
	char pkt[40], hex[9];
	LSEC_ENSURE(t->ops == &lsec_device__rsp_ops, LSEC_E_USAGE, "not an rsp: device");
	rsp_session *s = S(t);
	LSEC_TRY(reg_number(s, name, &n, err));
	lsec_put_u32le(le, v);
	lsec_hex_encode(hex, le, 4);
	snprintf(pkt, sizeof(pkt), "P%x=%s", n, hex);
	LSEC_TRY(transact_str(s, "write a register (P)", pkt, err));
	LSEC_TRY(expect_ok(s, "write a register (P)", err));
out:
	return rc;
}

/* ---- run control -------------------------------------------------------- */

/* A stop reply: "S05", "T05...", or "W00"/"X09" (the process exited). */
static int stop_reply(rsp_session *s, const char *what, unsigned *sig, lsec_err *err)
{
	int rc = 0;
	const char *r = (const char *)s->reply.data;
	uint8_t v = 0;
	LSEC_TRY(reply_error(s, what, err));
	LSEC_ENSURE(s->reply.len >= 3 && r[0] != 0 && strchr("STWX", r[0]) != NULL &&
			    rsp_hex_bytes(&v, 1, r + 1, 2),
		    LSEC_E_TGT_PROTOCOL, "cannot %s on device '%s': '%.*s' is not a stop reply",
		    what, s->dev->uri, (int)(s->reply.len > 20 ? 20 : s->reply.len), r);
	*sig = v;
out:
	return rc;
}

int lsec_device__rsp_halt_reason(lsec_device *t, unsigned *sig, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(transact_str(s, "ask why the target stopped (?)", "?", err));
	if (s->link.ack && s->reply.len > 0 && (s->reply.data[0] == 0 || strchr("STWXE", s->reply.data[0]) == NULL)) {
		/*
		 * In ack mode a server may send the previous reply again (it took
		 * our ack late, as QEMU does for a running target it has just
		 * stopped): the stop reply follows it.
		 */
		rsp_event_kind ev = RSP_EV_NONE;
		while (ev != RSP_EV_PACKET) {
			LSEC_TRY(txn_next(s, &ev, "ask why the target stopped (?)", err));
			if (ev != RSP_EV_PACKET) {
				LSEC_TRY(txn_ignore(s, "ask why the target stopped (?)",
						    "stray acks or interrupts", err));
			}
		}
		LSEC_TRY(rsp_link_send_raw(&s->link, "+", 1, "ask why the target stopped (?)", err));
		lsec_buf_reset(&s->reply);
		LSEC_TRY(lsec_buf_append(&s->reply, s->link.dec.buf, s->link.dec.len, err));
	}
	LSEC_TRY(stop_reply(s, "ask why the target stopped (?)", sig, err));
out:
	return rc;
}

int lsec_device__rsp_continue(lsec_device *t, lsec_err *err)
{
	return transact(S(t), "resume the target (c)", (const uint8_t *)"c", 1, false, false, err);
}

int lsec_device__rsp_interrupt(lsec_device *t, unsigned *sig, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *what = "interrupt the target (0x03)";
	txn_begin(s);
	LSEC_TRY(rsp_link_send_raw(&s->link, "\x03", 1, what, err));
	/* The stop reply answers the c sent before. */
	lsec_buf_reset(&s->reply);
	for (;;) {
		rsp_event_kind ev;
		LSEC_TRY(txn_next(s, &ev, what, err));
		if (ev != RSP_EV_PACKET) {
			LSEC_TRY(txn_ignore(s, what, "stray acks or interrupts", err));
			continue;
		}
		if (s->link.ack) {
			LSEC_TRY(rsp_link_send_raw(&s->link, "+", 1, what, err));
		}
		if (s->link.dec.len > 0 && s->link.dec.buf[0] == 'O') {
			LSEC_TRY(txn_ignore(s, what, "output (O) packets", err));
			continue;
		}
		LSEC_TRY(lsec_buf_append(&s->reply, s->link.dec.buf, s->link.dec.len, err));
		break;
	}
	LSEC_TRY(stop_reply(s, what, sig, err));
out:
	s->broken |= rc == LSEC_E_TGT_LINK || rc == LSEC_E_TGT_TIMEOUT || rc == LSEC_E_TGT_PROTOCOL;
	return rc;
}

int lsec_device__rsp_stats_get(lsec_device__rsp_stats *out, const lsec_device *t, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(t != NULL && t->ops == &lsec_device__rsp_ops, LSEC_E_USAGE,
		    "not an rsp: device");
	const rsp_session *s = t->impl;
	*out = s->stats;
	out->packet_size = s->packet_size;
	out->binary = s->binary == 1;
	out->vflash = s->vflash == 1;
	out->no_ack = s->no_ack;
out:
	return rc;
}

/* ---- memory ------------------------------------------------------------- */

static int mem_read(rsp_session *s, uint32_t addr, uint8_t *out, size_t len, lsec_err *err)
{
	int rc = 0;
	char pkt[40];
	size_t chunk = (s->packet_size - 4) / 2;
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;
		snprintf(pkt, sizeof(pkt), "m%lx,%zx", (unsigned long)addr, n);
		LSEC_TRY(transact_str(s, "read memory (m)", pkt, err));
		if (!(s->reply.len == 2 * n)) {
			LSEC_TRY(reply_error(s, "read memory (m)", err));
		}
		LSEC_ENSURE(s->reply.len == 2 * n &&
				    rsp_hex_bytes(out, n, (const char *)s->reply.data, 2 * n),
			    LSEC_E_TGT_PROTOCOL,
			    "cannot read memory (m) at 0x%lx on device '%s': expected %zu hex digits, "
			    "got %zu",
			    (unsigned long)addr, s->dev->uri, 2 * n, s->reply.len);
		out += n;
		addr += (uint32_t)n;
		len -= n;
	}
out:
	return rc;
}

/* How many of data's bytes fit in room bytes once escaped. */
static size_t binary_fit(const uint8_t *data, size_t len, size_t room)
{
	size_t used = 0, n = 0;
	while (n < len) {
		size_t c = (data[n] == '$' || data[n] == '#' || data[n] == '}' || data[n] == '*') ? 2 : 1;
		if (used + c > room) {
			break;
		}
		used += c;
		n++;
	}
	return n;
}

/*
 * One write packet: kind 'X' (binary), 'M' (hex) or 'F' (vFlashWrite,
 * binary). Returns the bytes it took in *took.
 */
static int write_packet(rsp_session *s, char kind, uint32_t addr, const uint8_t *data,
			size_t len, size_t *took, lsec_err *err)
{
	int rc = 0;
	lsec_buf *pkt = &s->pkt;
	const char *what = kind == 'M' ? "write memory (M)" : kind == 'X' ? "write memory (X)"
									   : "write flash (vFlashWrite)";
	size_t room = s->packet_size - 32, n = 0;
	lsec_buf_reset(pkt);
	if (kind == 'M') {
		n = len < room / 2 ? len : room / 2;
		LSEC_TRY(lsec_buf_printf(pkt, err, "M%lx,%zx:", (unsigned long)addr, n));
		LSEC_TRY(rsp_hex_append(pkt, data, n, err));
	} else {
		n = binary_fit(data, len, room);
		if (kind == 'X') {
			LSEC_TRY(lsec_buf_printf(pkt, err, "X%lx,%zx:", (unsigned long)addr, n));
		} else {
			LSEC_TRY(lsec_buf_printf(pkt, err, "vFlashWrite:%lx:", (unsigned long)addr));
		}
		LSEC_TRY(lsec_buf_append(pkt, data, n, err));
	}
	LSEC_TRY(transact(s, what, pkt->data, pkt->len, false, true, err));
	LSEC_TRY(expect_ok(s, what, err));
	*took = n;
out:
	return rc;
}

/* Does the server take X (binary writes)? GDB's probe: an empty X at addr. */
static int probe_binary(rsp_session *s, uint32_t addr, lsec_err *err)
{
	int rc = 0;
	char pkt[40];
	if (s->binary >= 0) {
		return 0;
	}
	snprintf(pkt, sizeof(pkt), "X%lx,0:", (unsigned long)addr);
	LSEC_TRY(transact_str(s, "probe binary writes (X)", pkt, err));
	s->binary = reply_is(s, "OK") ? 1 : 0;
	if (s->binary == 0 && s->reply.len > 0) {
		LSEC_TRY(reply_error(s, "probe binary writes (X)", err));
	}
out:
	return rc;
}

static int vflash_done(rsp_session *s, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(transact_str(s, "finish flash programming (vFlashDone)", "vFlashDone", err));
	LSEC_TRY(expect_ok(s, "finish flash programming (vFlashDone)", err));
out:
	return rc;
}

/* ---- the profile's steps ------------------------------------------------ */

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static int word_read(rsp_session *s, uint32_t addr, uint32_t *out, lsec_err *err)
{
	int rc = 0;
	uint8_t le[4];
	LSEC_TRY(mem_read(s, addr, le, 4, err));
	*out = lsec_get_u32le(le); /* target byte order: little-endian Arm */
out:
	return rc;
}

static int word_write(rsp_session *s, uint32_t addr, uint32_t v, lsec_err *err)
{
	int rc = 0;
	uint8_t le[4];
	size_t took = 0;
	lsec_put_u32le(le, v);
	LSEC_TRY(write_packet(s, 'M', addr, le, 4, &took, err));
	LSEC_ENSURE(took == 4, LSEC_E_INTERNAL, "internal error: short word write");
out:
	return rc;
}

/* The result s->res as text (a number as 0x hex), for what needs text. */
static int res_set(rsp_session *s, const char *text, lsec_err *err)
{
	int rc = 0;
	if (s->res.data != NULL) {
		lsec_wipe(s->res.data, s->res.len);
	}
	lsec_buf_reset(&s->res);
	LSEC_TRY(lsec_buf_append_str(&s->res, text, err));
	LSEC_TRY(lsec_buf_append_u8(&s->res, 0, err));
	s->res.len--;
out:
	return rc;
}

/* A monitor step: the command with its placeholders filled; the result is its output. */
static int step_monitor(rsp_session *s, const lsec_device_profile_step *st,
			const lsec_device_profile_args *args, const char *what, lsec_err *err)
{
	int rc = 0;
	char *cmd = NULL;
	const char *a = NULL;
	json_t *j = NULL;
	LSEC_TRY(lsec_device_profile_expand(&cmd, s->profile, st->command, args, err));
	LSEC_TRY(monitor(s, what, cmd, &a, err));
	if (st->expect != NULL) {
		LSEC_ENSURE(strstr(a, st->expect) != NULL, LSEC_E_DEVICE,
			    "cannot %s on device '%s': monitor command '%.60s' answered '%.120s', "
			    "not '%s' (profile %s, line %d)",
			    what, s->dev->uri, st->command, a, st->expect,
			    lsec_device_profile_name(s->profile), st->line);
	}
	s->res_num = false;
	if (st->json == NULL) {
		LSEC_TRY(res_set(s, a, err));
		goto out;
	}
	json_error_t je;
	j = json_loads(a, 0, &je);
	json_t *m = j != NULL ? json_object_get(j, st->json) : NULL;
	LSEC_ENSURE(json_is_string(m) || json_is_integer(m), LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': monitor command '%.60s' gave no member '%s' "
		    "(profile %s, line %d)",
		    what, s->dev->uri, st->command, st->json, lsec_device_profile_name(s->profile),
		    st->line);
	if (json_is_string(m)) {
		LSEC_TRY(res_set(s, json_string_value(m), err));
	} else {
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(m));
		LSEC_TRY(res_set(s, num, err));
	}
out:
	json_decref(j);
	if (cmd != NULL) {
		lsec_wipe(cmd, strlen(cmd));
	}
	lsec_free(cmd);
	return rc;
}

/* One register step: read32, write32, modify32, poll32 or delay-ms. */
static int step_register(rsp_session *s, const lsec_device_profile_step *st,
			 const lsec_device_profile_args *args, const char *what, lsec_err *err)
{
	int rc = 0;
	uint32_t addr = 0, value = 0, w = 0;
	if (st->kind == LSEC_PROFILE_STEP_DELAY) {
		sleep_ms(st->timeout_ms);
		goto out;
	}
	LSEC_TRY(lsec_device_profile_value_get(&addr, s->profile, &st->address, args, err));
	if (st->kind != LSEC_PROFILE_STEP_READ32) {
		LSEC_TRY(lsec_device_profile_value_get(&value, s->profile, &st->value, args, err));
	}
	switch (st->kind) {
	case LSEC_PROFILE_STEP_READ32: {
		char num[16];
		LSEC_TRY(word_read(s, addr, &w, err));
		w = (w & st->mask) >> st->shift;
		bool mapped = false;
		for (size_t i = 0; i < st->nmap && !mapped; i++) {
			if (st->map[i].from == w) {
				w = st->map[i].to;
				mapped = true;
			}
		}
		if (!mapped && st->has_default) {
			w = st->dflt;
		}
		snprintf(num, sizeof(num), "0x%lx", (unsigned long)w);
		LSEC_TRY(res_set(s, num, err));
		s->res_num = true;
		s->res_value = w;
		break;
	}
	case LSEC_PROFILE_STEP_WRITE32:
		LSEC_TRY(word_write(s, addr, value, err));
		break;
	case LSEC_PROFILE_STEP_MODIFY32:
		LSEC_TRY(word_read(s, addr, &w, err));
		LSEC_TRY(word_write(s, addr, (w & ~st->mask) | (value & st->mask), err));
		break;
	case LSEC_PROFILE_STEP_POLL32: {
		uint64_t until = lsec_time_mono_ms() + st->timeout_ms;
		for (;;) {
			LSEC_TRY(word_read(s, addr, &w, err));
			if ((w & st->mask) == value) {
				break;
			}
			LSEC_ENSURE(lsec_time_mono_ms() < until, LSEC_E_TGT_TIMEOUT,
				    "cannot %s on device '%s': the word at 0x%08lx reads 0x%08lx, not "
				    "0x%08lx under mask 0x%08lx, after %lu ms (profile %s, line %d)",
				    what, s->dev->uri, (unsigned long)addr, (unsigned long)w,
				    (unsigned long)value, (unsigned long)st->mask,
				    (unsigned long)st->timeout_ms,
				    lsec_device_profile_name(s->profile), st->line);
			sleep_ms(1);
		}
		break;
	}
	default:
		LSEC_BAIL(LSEC_E_INTERNAL, "internal error: step kind %d", (int)st->kind);
	}
out:
	return rc;
}

/*
 * Runs the profile's steps of op with args; the result of the last step
 * that gives one is in s->res (text) and, for read32, s->res_value.
 * *given (may be NULL) says whether the profile has steps for op; without
 * them nothing is done (the backend's default). LSEC_E_TGT_UNSUPPORTED
 * when the profile says the device cannot, naming what.
 */
static int run_op(rsp_session *s, lsec_device_profile_op op, const lsec_device_profile_args *args,
		  const char *what, bool *given, lsec_err *err)
{
	int rc = 0;
	const lsec_device_profile_step *steps = NULL;
	size_t n = 0;
	lsec_err perr = LSEC_ERR_INIT;
	static const lsec_device_profile_args none = {0};
	int prc = lsec_device_profile_op_steps(&steps, &n, s->profile, op, &perr);
	if (prc == LSEC_E_TGT_UNSUPPORTED) {
		LSEC_TRY(unsupported(s, what, err));
	}
	if (prc < 0) {
		*err = perr;
		LSEC_TRY(prc);
	}
	if (given != NULL) {
		*given = n > 0;
	}
	LSEC_TRY(res_set(s, "", err));
	s->res_num = false;
	for (size_t i = 0; i < n; i++) {
		if (steps[i].kind == LSEC_PROFILE_STEP_MONITOR) {
			LSEC_TRY(step_monitor(s, &steps[i], args ? args : &none, what, err));
		} else {
			LSEC_TRY(step_register(s, &steps[i], args ? args : &none, what, err));
		}
	}
out:
	return rc;
}

/* As run_op, for an operation the device must have steps for. */
static int run_required(rsp_session *s, lsec_device_profile_op op,
			const lsec_device_profile_args *args, const char *what, lsec_err *err)
{
	int rc = 0;
	bool given = false;
	LSEC_TRY(run_op(s, op, args, what, &given, err));
	if (!given) {
		LSEC_TRY(unsupported(s, what, err));
	}
out:
	return rc;
}

/* The result as a number up to max: a read32's, or decimal (or 0x hex) text. */
static int res_number(unsigned long *v, rsp_session *s, unsigned long max, const char *what,
		      lsec_err *err)
{
	int rc = 0;
	const char *a = (const char *)s->res.data;
	char *end = NULL;
	if (s->res_num) {
		*v = s->res_value;
	} else {
		*v = strtoul(a, &end, 0);
		LSEC_ENSURE(a[0] >= '0' && a[0] <= '9' && (*end == 0 || *end == ' '),
			    LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': malformed result '%.40s'", what, s->dev->uri,
			    a);
	}
	LSEC_ENSURE(*v <= max, LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': result %lu is above %lu", what, s->dev->uri, *v, max);
out:
	return rc;
}

/* ---- the operations ----------------------------------------------------- */

/* Range check of a flash access; the device address is an offset from flash.base. */
static int flash_range(rsp_session *s, uint32_t addr, size_t len, const char *what,
		       lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(addr <= s->lay->flash_size && len <= s->lay->flash_size - addr,
		    LSEC_E_TGT_RANGE,
		    "cannot %s on device '%s': 0x%lx+0x%zx is outside its 0x%lx bytes of flash "
		    "(profile %s)",
		    what, s->dev->uri, (unsigned long)addr, len, (unsigned long)s->lay->flash_size,
		    lsec_device_profile_name(s->profile));
out:
	return rc;
}

/* The lsec protocol's own description of the unit (sizes of this sim unit). */
static int info_lsec(rsp_session *s, lsec_device_info *out, lsec_err *err)
{
	int rc = 0;
	const char *a = NULL, *uid = NULL, *chip = NULL;
	json_t *j = NULL, *fuses = NULL;
	json_int_t fs = 0, ps = 0, ow = 0, ks = 0, caps = 0;
	LSEC_TRY(monitor(s, "read the device's identity (lsec info)", "lsec info", &a, err));
	LSEC_TRY(lsec_json_parse(&j, a, strlen(a), "lsec info", err));
	json_error_t je;
	LSEC_ENSURE(json_unpack_ex(j, &je, JSON_STRICT, "{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "chip",
				   &chip, "uid", &uid, "flash_size", &fs, "page_size", &ps,
				   "otp_words", &ow, "key_slots", &ks, "caps", &caps, "fuses",
				   &fuses) == 0 &&
			    json_is_array(fuses) && json_array_size(fuses) == LSEC_FUSE_COUNT &&
			    strlen(chip) < sizeof(out->chip_id) && fs > 0 && fs <= UINT32_MAX &&
			    ps > 0 && ps <= fs && ow >= 0 && ow <= 65536 && ks >= 0 && ks <= 64 &&
			    caps >= 0 && caps <= UINT32_MAX,
		    LSEC_E_TGT_PROTOCOL, "cannot read the identity of device '%s': malformed info %s",
		    s->dev->uri, je.text);
	LSEC_TRY(lsec_hex_decode_fixed(out->uid, sizeof(out->uid), uid, "lsec info uid", err));
	snprintf(out->chip_id, sizeof(out->chip_id), "%s", chip);
	out->flash_size = (uint32_t)fs;
	out->page_size = (uint32_t)ps;
	out->otp_words = (uint32_t)ow;
	out->key_slots = (uint32_t)ks;
	out->caps = (uint32_t)caps;
	for (size_t i = 0; i < LSEC_FUSE_COUNT; i++) {
		json_int_t w = 0, n = 0, m = 0;
		LSEC_ENSURE(json_unpack(json_array_get(fuses, i), "[I,I,I]", &w, &n, &m) == 0 &&
				    w >= 0 && w <= UINT16_MAX && n >= 1 && n <= 8 && w <= ow && n <= ow - w && m >= 0 && m <= UINT32_MAX,
			    LSEC_E_TGT_PROTOCOL,
			    "cannot read the identity of device '%s': malformed fuse %zu",
			    s->dev->uri, i);
		out->fuses[i].word = (uint16_t)w;
		out->fuses[i].nwords = (uint16_t)n;
		out->fuses[i].mask = (uint32_t)m;
	}
out:
	json_decref(j);
	return rc;
}

/* Whether the profile can do op (its steps or its default). */
static bool can(const rsp_session *s, lsec_device_profile_op op)
{
	const lsec_device_profile_step *steps = NULL;
	size_t n = 0;
	lsec_err quiet = LSEC_ERR_INIT;
	return lsec_device_profile_op_steps(&steps, &n, s->profile, op, &quiet) == 0;
}

static int rsp_info(lsec_device *t, lsec_device_info *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const lsec_device_profile_layout *l = s->lay;
	lsec_buf uid = LSEC_BUF_INIT(LSEC_DEVICE_UID_LEN);
	if (s->lsec_proto) {
		LSEC_TRY(info_lsec(s, out, err));
		goto out;
	}
	/* Everything else from the profile: its numbers, and the UID it says where to read. */
	snprintf(out->chip_id, sizeof(out->chip_id), "%s", lsec_device_profile_family(s->profile));
	if (l->uid_memory) {
		LSEC_ENSURE(l->uid_length >= 1 && l->uid_length <= LSEC_DEVICE_UID_LEN,
			    LSEC_E_TGT_RANGE,
			    "cannot read the UID of device '%s': %lu bytes (at most %u)", t->uri,
			    (unsigned long)l->uid_length, LSEC_DEVICE_UID_LEN);
		LSEC_TRY(mem_read(s, l->uid_address, out->uid, l->uid_length, err));
	} else {
		LSEC_TRY(run_required(s, LSEC_PROFILE_OP_UID_READ, NULL, "read the UID", err));
		LSEC_TRY(args_hex(&uid, s, (const char *)s->res.data, "read the UID", err));
		LSEC_ENSURE(uid.len >= 1 && uid.len <= LSEC_DEVICE_UID_LEN, LSEC_E_TGT_PROTOCOL,
			    "cannot read the UID of device '%s': %zu bytes (at most %u)", t->uri,
			    uid.len, LSEC_DEVICE_UID_LEN);
		memcpy(out->uid, uid.data, uid.len);
	}
	out->flash_size = l->flash_size;
	out->page_size = l->page_size;
	out->otp_words = l->otp_words;
	out->key_slots = l->key_slots;
	out->caps = (can(s, LSEC_PROFILE_OP_KEY_GENERATE) ? LSEC_DEVICE_CAP_KEYGEN : 0) |
		    (can(s, LSEC_PROFILE_OP_KEY_INJECT) ? LSEC_DEVICE_CAP_KEY_INJECT : 0) |
		    (can(s, LSEC_PROFILE_OP_ERASE_AUTH) ? LSEC_DEVICE_CAP_AUTH_ERASE : 0);
	for (int f = 0; f < LSEC_FUSE_COUNT; f++) {
		lsec_err quiet = LSEC_ERR_INIT;
		if (lsec_device_profile_fuse(&out->fuses[f], s->profile, (lsec_device_fuse)f,
					     &quiet) < 0) {
			memset(&out->fuses[f], 0, sizeof(out->fuses[f]));
		}
	}
out:
	lsec_buf_release(&uid);
	return rc;
}

static int rsp_fuse_field(lsec_device *t, lsec_device_fuse fuse, lsec_device_fuse_field *out,
			  lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	char what[64];
	lsec_err quiet = LSEC_ERR_INIT;
	if (s->lsec_proto) {
		lsec_device_info info;
		memset(&info, 0, sizeof(info));
		LSEC_TRY(info_lsec(s, &info, err));
		*out = info.fuses[fuse];
		goto out;
	}
	snprintf(what, sizeof(what), "use fuse %s", lsec_device_fuse_name(fuse));
	if (lsec_device_profile_fuse(out, s->profile, fuse, &quiet) < 0) {
		LSEC_TRY(unsupported(s, what, err));
	}
out:
	return rc;
}

/*
 * Memory writes and erases wait on the server for a commit point: outside
 * a multi-step operation (whose end commits) the operation itself asks.
 */
static int commit_unless_held(rsp_session *s, lsec_err *err)
{
	if (s->dev->hold > 0) {
		return 0;
	}
	return run_op(s, LSEC_PROFILE_OP_COMMIT, NULL, "commit", NULL, err);
}

static int rsp_flash_erase(lsec_device *t, uint32_t addr, uint32_t len, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	char pkt[64];
	bool done = false;
	lsec_device_profile_args a = {.addr = s->lay->flash_base + addr, .len = len};
	uint8_t *ff = NULL;
	LSEC_TRY(flash_range(s, addr, len, "erase flash", err));
	if (s->lay->flash_erase_none) {
		goto out; /* written in place: nothing to erase */
	}
	if (s->lay->flash_method == LSEC_PROFILE_FLASH_VFLASH && s->vflash != 0) {
		snprintf(pkt, sizeof(pkt), "vFlashErase:%lx,%lx", (unsigned long)a.addr,
			 (unsigned long)len);
		LSEC_TRY(transact_str(s, "erase flash (vFlashErase)", pkt, err));
		if (s->reply.len == 0 && s->vflash < 0) {
			s->vflash = 0; /* not offered: the profile's erase steps */
		} else {
			LSEC_TRY(expect_ok(s, "erase flash (vFlashErase)", err));
			s->vflash = 1;
			LSEC_TRY(vflash_done(s, err));
			done = true;
		}
	}
	if (!done) {
		LSEC_TRY(run_op(s, LSEC_PROFILE_OP_FLASH_ERASE, &a, "erase flash", &done, err));
	}
	if (!done && s->lay->flash_method == LSEC_PROFILE_FLASH_MEMORY) {
		/* Memory-mapped flash without erase steps: erased is 0xff. */
		ff = lsec_malloc(len ? len : 1);
		LSEC_ENSURE(ff != NULL, LSEC_E_NOMEM, "out of memory");
		memset(ff, 0xff, len);
		LSEC_TRY(probe_binary(s, a.addr, err));
		for (uint32_t at = 0; at < len;) {
			size_t took = 0;
			LSEC_TRY(write_packet(s, s->binary == 1 ? 'X' : 'M', a.addr + at, ff + at,
					      len - at, &took, err));
			at += (uint32_t)took;
		}
		done = true;
	}
	if (!done) {
		LSEC_TRY(unsupported(s, "erase flash", err));
	}
	LSEC_TRY(commit_unless_held(s, err));
out:
	lsec_free(ff);
	return rc;
}

static int rsp_flash_write(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			   lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	char *hex = NULL;
	LSEC_TRY(flash_range(s, addr, len, "write flash", err));
	addr += s->lay->flash_base;
	if (s->lay->flash_method == LSEC_PROFILE_FLASH_MONITOR) {
		/* flash.write steps, one chunk of the packet's size at a time. */
		size_t chunk = (s->packet_size - 64) / 4;
		LSEC_ENSURE(chunk > 0, LSEC_E_TGT_PROTOCOL,
			    "cannot write flash of '%s' by monitor commands: the server's PacketSize "
			    "(%zu bytes) leaves no room for data (at least 68 expected)",
			    s->dev->uri, s->packet_size);
		while (len > 0) {
			size_t n = len < chunk ? len : chunk;
			hex = lsec_hex_alloc(data, n);
			LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
			lsec_device_profile_args a = {.addr = addr, .len = (uint32_t)n, .hex = hex};
			LSEC_TRY(run_required(s, LSEC_PROFILE_OP_FLASH_WRITE, &a, "write flash", err));
			lsec_free(hex);
			hex = NULL;
			data += n;
			addr += (uint32_t)n;
			len -= n;
		}
		LSEC_TRY(commit_unless_held(s, err));
		goto out;
	}
	if (s->lay->flash_method == LSEC_PROFILE_FLASH_VFLASH && s->vflash < 0 && len > 0) {
		/* An empty vFlashWrite tells whether the server programs flash itself. */
		char pkt[48];
		snprintf(pkt, sizeof(pkt), "vFlashWrite:%lx:", (unsigned long)addr);
		LSEC_TRY(transact_str(s, "probe flash programming (vFlashWrite)", pkt, err));
		s->vflash = reply_is(s, "OK") ? 1 : 0;
	}
	char kind = 'F';
	if (s->lay->flash_method != LSEC_PROFILE_FLASH_VFLASH || s->vflash != 1) {
		LSEC_TRY(probe_binary(s, addr, err));
		kind = s->binary == 1 ? 'X' : 'M';
	}
	while (len > 0) {
		size_t took = 0;
		LSEC_TRY(write_packet(s, kind, addr, data, len, &took, err));
		LSEC_ENSURE(took > 0, LSEC_E_INTERNAL, "internal error: empty write packet");
		data += took;
		addr += (uint32_t)took;
		len -= took;
	}
	if (kind == 'F') {
		LSEC_TRY(vflash_done(s, err));
	}
	LSEC_TRY(commit_unless_held(s, err));
out:
	lsec_free(hex);
	return rc;
}

static int rsp_flash_read(lsec_device *t, uint32_t addr, uint8_t *out, size_t len, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(flash_range(s, addr, len, "read flash", err));
	LSEC_TRY(mem_read(s, s->lay->flash_base + addr, out, len, err));
out:
	return rc;
}

static int rsp_flash_hash(lsec_device *t, uint32_t addr, uint32_t len, uint8_t out[32],
			  lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	bool given = false;
	uint8_t *buf = NULL;
	lsec_device_profile_args a = {.addr = s->lay->flash_base + addr, .len = len};
	LSEC_TRY(flash_range(s, addr, len, "hash flash", err));
	LSEC_TRY(run_op(s, LSEC_PROFILE_OP_FLASH_HASH, &a, "hash flash", &given, err));
	if (given) {
		const char *h = (const char *)s->res.data;
		LSEC_ENSURE(strlen(h) == 64 && rsp_hex_bytes(out, 32, h, 64), LSEC_E_TGT_PROTOCOL,
			    "cannot hash flash on device '%s': malformed digest", t->uri);
		goto out;
	}
	/* Read back and hash here. */
	buf = lsec_malloc(len ? len : 1);
	LSEC_ENSURE(buf != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(mem_read(s, a.addr, buf, len, err));
	LSEC_TRY(lsec_sha256(out, buf, len, err));
out:
	lsec_free(buf);
	return rc;
}

/*
 * An attested build type: a name of lsec_image_build_name, or "none" (the
 * image declares none: unknown). False for any other word.
 */
static bool build_type_of(uint32_t *out, const char *w, size_t n)
{
	lsec_image_build b = LSEC_IMAGE_BUILD_UNKNOWN;
	bool none = n == 4 && memcmp(w, "none", 4) == 0;
	if (!none && !lsec_image_build_parse(&b, w, n)) {
		return false;
	}
	*out = (uint32_t)b;
	return true;
}

static int boot_report_parse(lsec_device_boot_report *out, rsp_session *s, const char *text,
			     lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL;
	int booted = 0, measured = 0, sb = 0, uart = 0;
	json_int_t be = 0, ma = 0, mi = 0, rev = 0, build = 0;
	const char *digest = NULL, *btype = "unknown";
	LSEC_TRY(lsec_json_parse(&j, text, strlen(text), "the reset's boot report", err));
	LSEC_ENSURE(json_unpack(j, "{s:b,s:I,s:b,s:s,s:[IIII],s?s,s:b,s:b}", "booted", &booted,
				"boot_error", &be, "measured", &measured, "digest", &digest,
				"version", &ma, &mi, &rev, &build, "build", &btype, "secure_boot",
				&sb, "uart_open", &uart) == 0 &&
			    build_type_of(&out->build_type, btype, strlen(btype)) &&
			    be >= 0 && be <= UINT32_MAX && ma >= 0 && ma <= 255 && mi >= 0 &&
			    mi <= 255 && rev >= 0 && rev <= 65535 && build >= 0 &&
			    build <= UINT32_MAX && strlen(digest) == 64 &&
			    rsp_hex_bytes(out->digest, 32, digest, 64),
		    LSEC_E_TGT_PROTOCOL, "cannot reset device '%s': malformed boot report",
		    s->dev->uri);
	out->booted = booted;
	out->boot_error = (uint32_t)be;
	out->measured = measured;
	out->ver_major = (uint8_t)ma;
	out->ver_minor = (uint8_t)mi;
	out->ver_revision = (uint16_t)rev;
	out->ver_build = (uint32_t)build;
	out->secure_boot = sb;
	out->uart_open = uart;
out:
	json_decref(j);
	return rc;
}

/* attestation source reset: the reset's last monitor output is the boot report. */
static int reset_report(rsp_session *s, lsec_device_boot_report *out, lsec_err *err)
{
	int rc = 0;
	lsec_err merr = LSEC_ERR_INIT;
	int mrc = run_required(s, LSEC_PROFILE_OP_RESET, NULL, "reset", &merr);
	if (mrc == LSEC_E_TGT_BOOT_REFUSED) {
		/* "error -183 {report}": the report is the message. */
		const char *m = strchr(merr.msg, '{');
		LSEC_ENSURE(m != NULL, LSEC_E_TGT_PROTOCOL,
			    "cannot reset device '%s': refused boot without a report", s->dev->uri);
		LSEC_TRY(boot_report_parse(out, s, m, err));
		goto out;
	}
	if (mrc < 0) {
		*err = merr;
		LSEC_TRY(mrc);
	}
	LSEC_TRY(boot_report_parse(out, s, (const char *)s->res.data, err));
out:
	return rc;
}

/* The boot stage's error reasons (docs/qemu.md) as boot errors. */
static uint32_t boot_error_of(const char *reason, size_t n)
{
	static const struct {
		const char *reason;
		uint32_t code;
	} map[] = {{"empty-slot", LSEC_BOOT_NO_IMAGE}, {"hash-mismatch", LSEC_BOOT_BAD_HASH},
		   {"no-hash", LSEC_BOOT_BAD_IMAGE}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i].reason) == n && memcmp(map[i].reason, reason, n) == 0) {
			return map[i].code;
		}
	}
	return LSEC_BOOT_BAD_IMAGE;
}

/*
 * Matches one UART line against the profile's attestation template: its
 * text must be the template's, each {field} standing for the text up to
 * the template's next character. Fills the report; false when the line is
 * not the template's.
 */
static bool attest_match(lsec_device_boot_report *out, const char *tmpl, const char *line)
{
	const char *l = line;
	bool digest = false;
	for (const char *t = tmpl; *t != 0;) {
		if (*t != '{') {
			if (*l != *t) {
				return false;
			}
			t++;
			l++;
			continue;
		}
		const char *close = strchr(t, '}');
		if (close == NULL) {
			return false;
		}
		size_t fl = (size_t)(close - t + 1);
		char stop = close[1];
		size_t vl = stop ? strcspn(l, (char[]){stop, 0}) : strlen(l);
		if (strncmp(t, "{digest}", fl) == 0) {
			if (vl != 64 || !rsp_hex_bytes(out->digest, 32, l, 64)) {
				return false;
			}
			digest = true;
		} else if (strncmp(t, "{version}", fl) == 0) {
			unsigned ma = 0, mi = 0, rev = 0;
			unsigned long b = 0;
			char v[48];
			int used = 0;
			snprintf(v, sizeof(v), "%.*s", (int)(vl < 47 ? vl : 47), l);
			if (sscanf(v, "%u.%u.%u+%lu%n", &ma, &mi, &rev, &b, &used) != 4 ||
			    (size_t)used != vl || ma > 255 || mi > 255 || rev > 65535 ||
			    b > UINT32_MAX) {
				return false;
			}
			out->ver_major = (uint8_t)ma;
			out->ver_minor = (uint8_t)mi;
			out->ver_revision = (uint16_t)rev;
			out->ver_build = (uint32_t)b;
		} else if (strncmp(t, "{build}", fl) == 0) {
			if (!build_type_of(&out->build_type, l, vl)) {
				return false;
			}
			/* The debug build opens its UART console (docs/qemu.md). */
			out->uart_open = out->build_type == LSEC_IMAGE_BUILD_DEBUG;
		}
		l += vl;
		t = close + 1;
	}
	out->booted = digest && *l == 0;
	out->measured = out->booted;
	return out->booted;
}

/*
 * attestation source uart: notes the UART log's size, resets, lets the
 * target run, waits (at most attestation.timeout-ms) for a complete line
 * from the boot stage after that point, then interrupts the target so the
 * debug port answers again. A line "HEAD error=REASON[ ...]" (HEAD: the
 * template's text before its first field) is a refused boot.
 */
static int reset_uart(rsp_session *s, lsec_device_boot_report *out, lsec_err *err)
{
	int rc = 0;
	FILE *f = NULL;
	char line[512], head[128];
	unsigned sig = 0;
	bool running = false, found = false;
	long from = 0;
	const char *tmpl = s->lay->attestation_line;
	LSEC_ENSURE(s->uart != NULL, LSEC_E_TGT_BAD_URI,
		    "cannot reset device '%s': profile %s attests over the UART: add uart=PATH "
		    "(the unit's UART log) to the URI",
		    s->dev->uri, lsec_device_profile_name(s->profile));
	/* HEAD: up to the first field, without that field's own "name=". */
	size_t hl = strcspn(tmpl, "{");
	while (hl > 0 && tmpl[hl - 1] != ' ') {
		hl--;
	}
	snprintf(head, sizeof(head), "%.*s", (int)hl, tmpl);
	f = fopen(s->uart, "rb");
	LSEC_ENSURE(f != NULL, LSEC_E_IO, "cannot read the UART log '%s' of device '%s': %s",
		    s->uart, s->dev->uri, strerror(errno));
	LSEC_ENSURE(fseek(f, 0, SEEK_END) == 0 && (from = ftell(f)) >= 0, LSEC_E_IO,
		    "cannot read the UART log '%s' of device '%s': %s", s->uart, s->dev->uri,
		    strerror(errno));
	LSEC_TRY(run_required(s, LSEC_PROFILE_OP_RESET, NULL, "reset", err));
	LSEC_TRY(lsec_device__rsp_continue(s->dev, err));
	running = true;
	uint64_t until = lsec_time_mono_ms() + s->lay->attestation_timeout_ms;
	while (!found) {
		clearerr(f);
		LSEC_ENSURE(fseek(f, from, SEEK_SET) == 0, LSEC_E_IO,
			    "cannot read the UART log '%s' of device '%s': %s", s->uart, s->dev->uri,
			    strerror(errno));
		while (!found && fgets(line, sizeof(line), f) != NULL) {
			size_t n = strlen(line);
			if (n == 0 || line[n - 1] != '\n') {
				break; /* not complete yet */
			}
			from += (long)n;
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
				line[--n] = 0;
			}
			found = hl > 0 && strncmp(line, head, hl) == 0;
		}
		if (!found) {
			LSEC_ENSURE(lsec_time_mono_ms() < until, LSEC_E_TGT_TIMEOUT,
				    "cannot reset device '%s': no attestation line ('%s...') in '%s' "
				    "within %lu ms of the reset",
				    s->dev->uri, head, s->uart,
				    (unsigned long)s->lay->attestation_timeout_ms);
			sleep_ms(10);
		}
	}
	running = false;
	LSEC_TRY(lsec_device__rsp_interrupt(s->dev, &sig, err));
	if (strncmp(line + hl, "error=", 6) == 0) {
		const char *r = line + hl + 6;
		size_t rn = strcspn(r, " ");
		const char *d = strstr(r, " digest=");
		out->booted = false;
		out->boot_error = boot_error_of(r, rn);
		out->measured = d != NULL && strlen(d + 8) == 64 &&
				rsp_hex_bytes(out->digest, 32, d + 8, 64);
		LSEC_BAIL(LSEC_E_TGT_BOOT_REFUSED,
			  "device '%s' did not boot: its boot stage says error=%.*s (%s)", s->dev->uri,
			  (int)rn, r, lsec_device_boot_error_name(out->boot_error));
	}
	LSEC_ENSURE(attest_match(out, tmpl, line), LSEC_E_TGT_PROTOCOL,
		    "cannot reset device '%s': attestation line '%.160s' is not of the form '%s' "
		    "(profile %s)",
		    s->dev->uri, line, tmpl, lsec_device_profile_name(s->profile));
out:
	if (running) {
		/* Whatever happened, the debug port answers again. */
		lsec_err quiet = LSEC_ERR_INIT;
		(void)lsec_device__rsp_interrupt(s->dev, &sig, &quiet);
	}
	if (f != NULL) {
		fclose(f);
	}
	return rc;
}

static int rsp_reset(lsec_device *t, lsec_device_boot_report *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	if (s->broken) {
		/* The reset of a failed session reseats the link first. */
		LSEC_TRY(rsp_connect(s, err));
	}
	switch (s->lay->attestation) {
	case LSEC_PROFILE_ATTEST_RESET:
		LSEC_TRY(reset_report(s, out, err));
		break;
	case LSEC_PROFILE_ATTEST_UART:
		LSEC_TRY(reset_uart(s, out, err));
		break;
	default:
		/* No attestation: the device restarts, its boot unmeasured. */
		LSEC_TRY(run_required(s, LSEC_PROFILE_OP_RESET, NULL, "reset", err));
		out->booted = true;
		break;
	}
out:
	return rc;
}

/* An inverted OTP (erased reads 1) reads ~word: a set linesec bit is a programmed cell. */
static uint32_t otp_value(const rsp_session *s, uint32_t w)
{
	return s->lay->otp_inverted ? ~w : w;
}

static int rsp_otp_read(lsec_device *t, uint32_t word, uint32_t n, uint32_t *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	bool given = false;
	lsec_device_profile_args a = {.word = word, .n = n};
	LSEC_ENSURE(s->lay->otp_words > 0, LSEC_E_TGT_UNSUPPORTED,
		    "cannot read OTP on device '%s': not supported by this device (profile %s)",
		    t->uri, lsec_device_profile_name(s->profile));
	LSEC_TRY(run_op(s, LSEC_PROFILE_OP_OTP_READ, &a, "read OTP", &given, err));
	if (!given || s->res_num) {
		/* Memory-mapped words, or steps that read one word: word by word. */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t w = 0;
			if (!given) {
				LSEC_ENSURE(s->lay->otp_memory, LSEC_E_TGT_UNSUPPORTED,
					    "cannot read OTP on device '%s': not supported by this "
					    "device (profile %s)",
					    t->uri, lsec_device_profile_name(s->profile));
				LSEC_TRY(word_read(s, s->lay->otp_base + 4 * (word + i), &w, err));
			} else {
				a.word = word + i;
				a.n = 1;
				LSEC_TRY(run_op(s, LSEC_PROFILE_OP_OTP_READ, &a, "read OTP", NULL, err));
				w = s->res_value;
			}
			out[i] = otp_value(s, w);
		}
		goto out;
	}
	const char *r = (const char *)s->res.data;
	for (uint32_t i = 0; i < n; i++) {
		char *end = NULL;
		LSEC_ENSURE(strspn(r, "0123456789abcdef") == 8, LSEC_E_TGT_PROTOCOL,
			    "cannot read OTP on device '%s': malformed word %lu", t->uri,
			    (unsigned long)(word + i));
		out[i] = otp_value(s, (uint32_t)strtoul(r, &end, 16));
		r = end;
		LSEC_ENSURE(*r == (i + 1 < n ? ' ' : 0), LSEC_E_TGT_PROTOCOL,
			    "cannot read OTP on device '%s': expected %lu words", t->uri,
			    (unsigned long)n);
		r += *r == ' ';
	}
out:
	return rc;
}

static int rsp_otp_burn(lsec_device *t, uint32_t word, uint32_t bits, lsec_err *err)
{
	lsec_device_profile_args a = {.word = word, .bits = bits};
	return run_required(S(t), LSEC_PROFILE_OP_OTP_BURN, &a, "burn OTP", err);
}

static int rsp_otp_lock(lsec_device *t, uint32_t word, lsec_err *err)
{
	lsec_device_profile_args a = {.word = word};
	return run_required(S(t), LSEC_PROFILE_OP_OTP_LOCK, &a, "lock OTP", err);
}

static int rsp_otp_locked(lsec_device *t, uint32_t word, bool *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	unsigned long v = 0;
	lsec_device_profile_args a = {.word = word};
	LSEC_TRY(run_required(s, LSEC_PROFILE_OP_OTP_LOCKED, &a, "read an OTP lock", err));
	LSEC_TRY(res_number(&v, s, 1, "read an OTP lock", err));
	*out = v == 1;
out:
	return rc;
}

static int rsp_debug_attach(lsec_device *t, lsec_err *err)
{
	/* Without attach steps the connection is the attach (QEMU halts the CPU on connect). */
	return run_op(S(t), LSEC_PROFILE_OP_ATTACH, NULL, "attach", NULL, err);
}

static int rsp_debug_lock_level(lsec_device *t, unsigned *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	unsigned long v = 0;
	LSEC_TRY(run_required(s, LSEC_PROFILE_OP_DEBUG_LOCK_READ, NULL,
			      "read the debug lock level", err));
	LSEC_TRY(res_number(&v, s, 2, "read the debug lock level", err));
	*out = (unsigned)v;
out:
	return rc;
}

static int rsp_key_generate(lsec_device *t, unsigned slot, lsec_err *err)
{
	lsec_device_profile_args a = {.slot = slot};
	return run_required(S(t), LSEC_PROFILE_OP_KEY_GENERATE, &a, "generate a key", err);
}

/* An operation whose argument is a secret: its hex is wiped after use. */
static int run_secret(rsp_session *s, lsec_device_profile_op op, unsigned slot,
		      const lsec_secret *secret, const char *what, lsec_err *err)
{
	int rc = 0;
	size_t n = lsec_secret_len(secret);
	char *hex = lsec_malloc(2 * n + 1);
	LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_hex_encode(hex, lsec_secret_cdata(secret), n);
	lsec_device_profile_args a = {.slot = slot, .hex = hex};
	LSEC_TRY(run_required(s, op, &a, what, err));
out:
	if (hex != NULL) {
		lsec_wipe(hex, 2 * n + 1);
	}
	lsec_free(hex);
	return rc;
}

static int rsp_key_inject(lsec_device *t, unsigned slot, const lsec_secret *pkcs8, lsec_err *err)
{
	return run_secret(S(t), LSEC_PROFILE_OP_KEY_INJECT, slot, pkcs8, "inject a key", err);
}

/* An operation with a binary argument (hex) and/or a hex result (into res, may be NULL). */
static int run_hex(rsp_session *s, lsec_device_profile_op op, unsigned slot, const uint8_t *arg,
		   size_t len, lsec_buf *res, const char *what, lsec_err *err)
{
	int rc = 0;
	char *hex = arg != NULL ? lsec_hex_alloc(arg, len) : NULL;
	LSEC_ENSURE(arg == NULL || hex != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_device_profile_args a = {.slot = slot, .hex = hex};
	LSEC_TRY(run_required(s, op, &a, what, err));
	if (res != NULL) {
		LSEC_TRY(args_hex(res, s, (const char *)s->res.data, what, err));
	}
out:
	lsec_free(hex);
	return rc;
}

static int rsp_key_public(lsec_device *t, unsigned slot, lsec_buf *spki, lsec_err *err)
{
	return run_hex(S(t), LSEC_PROFILE_OP_KEY_PUBLIC, slot, NULL, 0, spki, "read a public key",
		       err);
}

static int rsp_key_sign(lsec_device *t, unsigned slot, const uint8_t *msg, size_t len,
			lsec_buf *sig, lsec_err *err)
{
	return run_hex(S(t), LSEC_PROFILE_OP_KEY_SIGN, slot, msg, len, sig, "sign", err);
}

static int rsp_key_status(lsec_device *t, unsigned slot, lsec_device_slot_status *out,
			  lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	unsigned long st = 0, cert = 0;
	lsec_device_profile_args a = {.slot = slot};
	LSEC_TRY(run_required(s, LSEC_PROFILE_OP_KEY_STATUS, &a, "read a key slot", err));
	LSEC_TRY(res_number(&st, s, LSEC_SLOT_INJECTED, "read a key slot", err));
	const char *sp = strchr((const char *)s->res.data, ' ');
	if (sp != NULL) {
		char *end = NULL;
		cert = strtoul(sp + 1, &end, 10);
		LSEC_ENSURE(sp[1] >= '0' && sp[1] <= '1' && *end == 0 && cert <= 1,
			    LSEC_E_TGT_PROTOCOL,
			    "cannot read a key slot on device '%s': malformed result '%.40s'",
			    t->uri, (const char *)s->res.data);
	}
	out->state = (lsec_device_slot_state)st;
	out->has_cert = cert == 1;
out:
	return rc;
}

static int rsp_cert_store(lsec_device *t, unsigned slot, const uint8_t *der, size_t len,
			  lsec_err *err)
{
	return run_hex(S(t), LSEC_PROFILE_OP_CERT_STORE, slot, der, len, NULL,
		       "store a certificate", err);
}

static int rsp_cert_read(lsec_device *t, unsigned slot, lsec_buf *der, lsec_err *err)
{
	return run_hex(S(t), LSEC_PROFILE_OP_CERT_READ, slot, NULL, 0, der, "read a certificate",
		       err);
}

static int rsp_credential_store(lsec_device *t, const lsec_secret *blob, lsec_err *err)
{
	return run_secret(S(t), LSEC_PROFILE_OP_CREDENTIAL_STORE, 0, blob, "store the credential",
			  err);
}

static int rsp_erase_all(lsec_device *t, lsec_err *err)
{
	return run_required(S(t), LSEC_PROFILE_OP_ERASE_ALL, NULL, "erase the device", err);
}

static int rsp_erase_challenge(lsec_device *t, uint8_t *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *what = "get an erase challenge";
	LSEC_TRY(run_required(s, LSEC_PROFILE_OP_ERASE_CHALLENGE, NULL, what, err));
	const char *a = (const char *)s->res.data;
	LSEC_ENSURE(strlen(a) == 2 * LSEC_DEVICE_ERASE_CHALLENGE_LEN &&
			    rsp_hex_bytes(out, LSEC_DEVICE_ERASE_CHALLENGE_LEN, a, strlen(a)),
		    LSEC_E_TGT_PROTOCOL, "cannot get an erase challenge from device '%s': malformed",
		    t->uri);
out:
	return rc;
}

static int rsp_erase_authenticated(lsec_device *t, const uint8_t *token, size_t len,
				   lsec_err *err)
{
	return run_hex(S(t), LSEC_PROFILE_OP_ERASE_AUTH, 0, token, len, NULL, "erase with a token",
		       err);
}

static int rsp_chip_read(lsec_device *t, const lsec_device_profile **profile, char **family,
			 char **revision, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	*profile = s->profile;
	LSEC_TRY(run_required(s, LSEC_PROFILE_OP_FAMILY_READ, NULL, "read the chip family", err));
	*family = lsec_strdup((const char *)s->res.data);
	LSEC_ENSURE(*family != NULL, LSEC_E_NOMEM, "out of memory");
	if (can(s, LSEC_PROFILE_OP_REVISION_READ)) {
		LSEC_TRY(run_required(s, LSEC_PROFILE_OP_REVISION_READ, NULL,
				      "read the chip revision", err));
		*revision = lsec_strdup((const char *)s->res.data);
		LSEC_ENSURE(*revision != NULL, LSEC_E_NOMEM, "out of memory");
	}
out:
	return rc;
}

static int rsp_commit(lsec_device *t, lsec_err *err)
{
	return run_op(S(t), LSEC_PROFILE_OP_COMMIT, NULL, "commit", NULL, err);
}

const lsec_device_ops lsec_device__rsp_ops = {
	.scheme = "rsp",
	.open = rsp_open,
	.close = rsp_close,
	.info = rsp_info,
	.flash_erase = rsp_flash_erase,
	.flash_write = rsp_flash_write,
	.flash_read = rsp_flash_read,
	.flash_hash = rsp_flash_hash,
	.reset = rsp_reset,
	.otp_read = rsp_otp_read,
	.otp_burn = rsp_otp_burn,
	.otp_lock = rsp_otp_lock,
	.otp_locked = rsp_otp_locked,
	.debug_attach = rsp_debug_attach,
	.debug_lock_level = rsp_debug_lock_level,
	.key_generate = rsp_key_generate,
	.key_inject = rsp_key_inject,
	.key_public = rsp_key_public,
	.key_sign = rsp_key_sign,
	.key_status = rsp_key_status,
	.cert_store = rsp_cert_store,
	.cert_read = rsp_cert_read,
	.credential_store = rsp_credential_store,
	.erase_all = rsp_erase_all,
	.erase_challenge = rsp_erase_challenge,
	.erase_authenticated = rsp_erase_authenticated,
	.commit = rsp_commit,
	.fuse_field = rsp_fuse_field,
	.chip_read = rsp_chip_read,
};
