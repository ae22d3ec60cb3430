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
			l->in_pos += rsp_decode(&l->dec, l->in + l->in_pos, l->in_len - l->in_pos, ev);
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

/* ---- profiles: how each device operation reaches the target ------------ */

typedef enum rsp_op {
	OP_INFO,
	OP_FLASH_ERASE,
	OP_FLASH_WRITE,
	OP_FLASH_READ,
	OP_FLASH_HASH,
	OP_RESET,
	OP_OTP,          /* read, burn, lock, locked */
	OP_DEBUG_ATTACH,
	OP_DEBUG_LEVEL,
	OP_KEYS,         /* generate, inject, public, sign, status, certificates */
	OP_CREDENTIAL,
	OP_ERASE,        /* erase all, challenge, authenticated */
	OP_COUNT
} rsp_op;

typedef enum rsp_method {
	M_UNSUPPORTED = 0, /* the device cannot: refused, never pretended */
	M_MONITOR,         /* the `lsec` monitor protocol over qRcmd */
	M_MEMORY,          /* memory packets: m, X / M, vFlash* */
} rsp_method;

typedef struct rsp_profile {
	const char *name;
	rsp_method how[OP_COUNT];
} rsp_profile;

/*
 * The built-in profiles. `linesec-sim` is a simulated unit served by
 * `linesec sim serve`: flash through memory packets, everything else
 * through its monitor commands.
 */
static const rsp_profile builtin_profiles[] = {
	{"linesec-sim",
	 {[OP_INFO] = M_MONITOR,
	  [OP_FLASH_ERASE] = M_MEMORY,
	  [OP_FLASH_WRITE] = M_MEMORY,
	  [OP_FLASH_READ] = M_MEMORY,
	  [OP_FLASH_HASH] = M_MONITOR,
	  [OP_RESET] = M_MONITOR,
	  [OP_OTP] = M_MONITOR,
	  [OP_DEBUG_ATTACH] = M_MONITOR,
	  [OP_DEBUG_LEVEL] = M_MONITOR,
	  [OP_KEYS] = M_MONITOR,
	  [OP_CREDENTIAL] = M_MONITOR,
	  [OP_ERASE] = M_MONITOR}},
	/* QEMU's board: memory only until its profile file describes the rest. */
	{"qemu-lm3s6965evb",
	 {[OP_FLASH_WRITE] = M_MEMORY, [OP_FLASH_READ] = M_MEMORY}},
};

/* ---- the session ------------------------------------------------------- */

typedef struct rsp_session {
	lsec_device *dev;
	const rsp_profile *profile;
	rsp_link link;
	lsec_buf reply;          /* the last reply's payload */
	lsec_buf out;            /* O-packet output of the last monitor command */
	size_t packet_size;      /* the most payload bytes the server takes */
	int binary;              /* X: -1 unknown, 0 no, 1 yes */
	int vflash;              /* vFlash*: -1 unknown, 0 no, 1 yes */
	bool no_ack;
	bool broken;             /* the link failed: nothing more is sent on it */
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
			    what, s->dev->uri, s->profile->name);
}

/* Fails unless the profile has a way (want) to do op. */
static int need(rsp_session *s, rsp_op op, rsp_method want, const char *what, lsec_err *err)
{
	if (s->profile->how[op] == want) {
		return 0;
	}
	return unsupported(s, what, err);
}

/* Waits for the '+' of the packet just sent, resending it on '-' or silence. */
static int wait_ack(rsp_session *s, const char *what, bool *got_packet, lsec_err *err)
{
	int rc = 0;
	unsigned tries = 0;
	*got_packet = false;
	for (;;) {
		rsp_event_kind ev;
		lsec_err lerr = LSEC_ERR_INIT;
		int r = rsp_link_next(&s->link, &ev, (int)s->link.timeout_ms, what, &lerr);
		if (r == LSEC_E_TGT_TIMEOUT && tries < RSP_RETRIES) {
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
		if (ev == RSP_EV_PACKET) { /* the ack was lost; the reply is here */
			*got_packet = true;
			break;
		}
		if (ev == RSP_EV_NAK) {
			LSEC_ENSURE(tries < RSP_RETRIES, LSEC_E_TGT_PROTOCOL,
				    "cannot %s on device '%s': the server refused the packet %u times "
				    "(bad checksum on the link)",
				    what, s->dev->uri, tries + 1);
			tries++;
			s->stats.retransmits++;
			LSEC_TRY(rsp_link_send_raw(&s->link, s->link.tx.data, s->link.tx.len, what, err));
		}
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
	bool have = false;
	lsec_buf_reset(&s->reply);
	if (collect) {
		lsec_buf_reset(&s->out);
	}
	LSEC_ENSURE(n <= s->packet_size, LSEC_E_LIMIT,
		    "cannot %s on device '%s': packet of %zu bytes exceeds the server's %zu", what,
		    s->dev->uri, n, s->packet_size);
	s->stats.packets++;
	LSEC_TRY(rsp_link_send(&s->link, p, n, what, err));
	if (s->link.ack) {
		LSEC_TRY(wait_ack(s, what, &have, err));
	}
	if (!expect_reply) {
		goto out;
	}
	for (;;) {
		rsp_event_kind ev = RSP_EV_PACKET;
		if (!have) {
			LSEC_TRY(rsp_link_next(&s->link, &ev, (int)s->link.timeout_ms, what, err));
		}
		have = false;
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
			continue; /* stray acks and interrupts */
		}
		if (s->link.ack) {
			LSEC_TRY(rsp_link_send_raw(&s->link, "+", 1, what, err));
		}
		const uint8_t *d = s->link.dec.buf;
		size_t len = s->link.dec.len;
		if (len > 1 && d[0] == 'O' && !(len == 2 && d[1] == 'K')) {
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
	s->broken |= rc == LSEC_E_TGT_LINK || rc == LSEC_E_TGT_TIMEOUT || rc == LSEC_E_TGT_PROTOCOL;
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

/* ---- the `lsec` monitor protocol --------------------------------------- */

/*
 * Runs "lsec FORMAT..." as qRcmd. On "ok[ ARGS]" *args (may be NULL) points
 * at ARGS inside s->out (NUL-terminated, "" without). On "error CODE
 * MESSAGE" fails with CODE and the message prefixed with the device URI.
 * The command text and the packet are wiped afterwards: they may carry a
 * secret (key inject, credential store).
 */
static int monitor(rsp_session *s, const char *what, const char **args, lsec_err *err,
		   const char *fmt, ...) LSEC_PRINTF(5, 6);
static int monitor(rsp_session *s, const char *what, const char **args, lsec_err *err,
		   const char *fmt, ...)
{
	int rc = 0;
	lsec_buf cmd = LSEC_BUF_INIT(4 * RSP_MAX_PACKET);
	lsec_buf pkt = LSEC_BUF_INIT(4 * RSP_MAX_PACKET);
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	LSEC_ENSURE(len >= 0, LSEC_E_INTERNAL, "internal error: bad monitor format");
	text = lsec_malloc((size_t)len + 1);
	LSEC_ENSURE(text != NULL, LSEC_E_NOMEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(text, (size_t)len + 1, fmt, ap);
	va_end(ap);
	LSEC_TRY(lsec_buf_append_str(&cmd, "lsec ", err));
	LSEC_TRY(lsec_buf_append(&cmd, text, (size_t)len, err));
	LSEC_TRY(lsec_buf_append_str(&pkt, "qRcmd,", err));
	LSEC_TRY(rsp_hex_append(&pkt, cmd.data, cmd.len, err));
	LSEC_TRY(transact(s, what, pkt.data, pkt.len, true, true, err));
	LSEC_TRY(expect_ok(s, what, err));
	LSEC_TRY(lsec_buf_append_u8(&s->out, 0, err));
	s->out.len--;
	char *o = (char *)s->out.data;
	size_t on = strlen(o);
	while (on > 0 && (o[on - 1] == '\n' || o[on - 1] == '\r')) {
		o[--on] = 0;
	}
	if (strncmp(o, "ok", 2) == 0 && (o[2] == 0 || o[2] == ' ')) {
		if (args != NULL) {
			*args = o[2] == 0 ? o + 2 : o + 3;
		}
		goto out;
	}
	if (strncmp(o, "error ", 6) == 0) {
		char *end = NULL;
		long code = strtol(o + 6, &end, 10);
		LSEC_ENSURE(end != o + 6 && code < 0 && code > -1000 && (*end == ' ' || *end == 0),
			    LSEC_E_TGT_PROTOCOL,
			    "cannot %s on device '%s': malformed monitor error '%.80s'", what,
			    s->dev->uri, o);
		LSEC_BAIL((int)code, "device '%s': %s", s->dev->uri, *end ? end + 1 : "(no message)");
	}
	LSEC_BAIL(LSEC_E_TGT_PROTOCOL,
		  "cannot %s on device '%s': unexpected monitor output '%.80s' (expected ok or error)",
		  what, s->dev->uri, o);
out:
	lsec_wipe(cmd.data, cmd.len);
	lsec_wipe(pkt.data, pkt.len);
	lsec_wipe(s->link.tx.data, s->link.tx.len);
	if (text != NULL) {
		lsec_wipe(text, (size_t)len);
	}
	lsec_free(text);
	lsec_buf_release(&cmd);
	lsec_buf_release(&pkt);
	return rc;
}

/* Decodes a monitor result's hex into out (at most max bytes). */
static int args_hex(lsec_buf *out, rsp_session *s, const char *args, const char *what,
		    lsec_err *err)
{
	int rc = 0;
	size_t n = strlen(args);
	LSEC_ENSURE(n % 2 == 0, LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': monitor result is not hex", what, s->dev->uri);
	LSEC_TRY(lsec_buf_reserve(out, n / 2 + 1, err));
	LSEC_ENSURE(rsp_hex_bytes(out->data + out->len, n / 2, args, n), LSEC_E_TGT_PROTOCOL,
		    "cannot %s on device '%s': monitor result is not hex", what, s->dev->uri);
	out->len += n / 2;
out:
	return rc;
}

/* The monitor command's argument as hex of a secret, then wiped. */
static int monitor_secret(rsp_session *s, const char *what, const char *prefix,
			  const lsec_secret *secret, lsec_err *err)
{
	int rc = 0;
	size_t n = lsec_secret_len(secret);
	char *hex = lsec_malloc(2 * n + 1);
	LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_hex_encode(hex, lsec_secret_cdata(secret), n);
	LSEC_TRY(monitor(s, what, NULL, err, "%s %s", prefix, hex));
out:
	if (hex != NULL) {
		lsec_wipe(hex, 2 * n + 1);
	}
	lsec_free(hex);
	return rc;
}

/* ---- opening ----------------------------------------------------------- */

static int tcp_connect(int *fd_out, const char *uri, const char *host, const char *port,
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
static int parse_uri(char **host, char **port, char **profile, unsigned *timeout_ms,
		     const char *uri, const char *rest, lsec_err *err)
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
			/* The serial console: read by the profiles that attest over it. */
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
	if (s->out.data != NULL) {
		lsec_wipe(s->out.data, s->out.cap);
	}
	lsec_buf_release(&s->out);
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
	LSEC_TRY(tcp_connect(&fd, s->dev->uri, s->host, s->port, timeout_ms, err));
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
	LSEC_TRY(parse_uri(&s->host, &s->port, &profile, &timeout_ms, t->uri, rest, err));
	for (size_t i = 0; i < sizeof(builtin_profiles) / sizeof(builtin_profiles[0]); i++) {
		if (strcmp(builtin_profiles[i].name, profile) == 0) {
			s->profile = &builtin_profiles[i];
		}
	}
	LSEC_ENSURE(s->profile != NULL, LSEC_E_TGT_BAD_URI,
		    "cannot open device '%s': unknown profile '%s' (known: linesec-sim, "
		    "qemu-lm3s6965evb)",
		    t->uri, profile);
	lsec_buf_init(&s->reply, RSP_MAX_PACKET);
	lsec_buf_init(&s->out, 4 * RSP_MAX_PACKET);
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
	LSEC_ENSURE(s->reply.len >= 3 && strchr("STWX", r[0]) != NULL &&
			    rsp_hex_bytes(&v, 1, r + 1, 2),
		    LSEC_E_TGT_PROTOCOL, "cannot %s on device '%s': '%.20s' is not a stop reply",
		    what, s->dev->uri, r);
	*sig = v;
out:
	return rc;
}

int lsec_device__rsp_halt_reason(lsec_device *t, unsigned *sig, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(transact_str(s, "ask why the target stopped (?)", "?", err));
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
	LSEC_TRY(rsp_link_send_raw(&s->link, "\x03", 1, what, err));
	/* The stop reply answers the c sent before. */
	lsec_buf_reset(&s->reply);
	for (;;) {
		rsp_event_kind ev;
		LSEC_TRY(rsp_link_next(&s->link, &ev, (int)s->link.timeout_ms, what, err));
		if (ev != RSP_EV_PACKET) {
			continue;
		}
		if (s->link.ack) {
			LSEC_TRY(rsp_link_send_raw(&s->link, "+", 1, what, err));
		}
		if (s->link.dec.len > 0 && s->link.dec.buf[0] == 'O') {
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
	lsec_buf pkt = LSEC_BUF_INIT(RSP_MAX_PACKET + 64);
	const char *what = kind == 'M' ? "write memory (M)" : kind == 'X' ? "write memory (X)"
									   : "write flash (vFlashWrite)";
	size_t room = s->packet_size - 32, n = 0;
	if (kind == 'M') {
		n = len < room / 2 ? len : room / 2;
		LSEC_TRY(lsec_buf_printf(&pkt, err, "M%lx,%zx:", (unsigned long)addr, n));
		LSEC_TRY(rsp_hex_append(&pkt, data, n, err));
	} else {
		n = binary_fit(data, len, room);
		if (kind == 'X') {
			LSEC_TRY(lsec_buf_printf(&pkt, err, "X%lx,%zx:", (unsigned long)addr, n));
		} else {
			LSEC_TRY(lsec_buf_printf(&pkt, err, "vFlashWrite:%lx:", (unsigned long)addr));
		}
		LSEC_TRY(lsec_buf_append(&pkt, data, n, err));
	}
	LSEC_TRY(transact(s, what, pkt.data, pkt.len, false, true, err));
	LSEC_TRY(expect_ok(s, what, err));
	*took = n;
out:
	lsec_buf_release(&pkt);
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

/* ---- the operations ----------------------------------------------------- */

static int rsp_info(lsec_device *t, lsec_device_info *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL, *uid = NULL, *chip = NULL;
	json_t *j = NULL, *fuses = NULL;
	json_int_t fs = 0, ps = 0, ow = 0, ks = 0, caps = 0;
	LSEC_TRY(need(s, OP_INFO, M_MONITOR, "read the device's identity", err));
	LSEC_TRY(monitor(s, "read the device's identity (lsec info)", &a, err, "info"));
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
		    t->uri, je.text);
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
				    w >= 0 && n >= 1 && w + n <= ow && m >= 0 && m <= UINT32_MAX,
			    LSEC_E_TGT_PROTOCOL,
			    "cannot read the identity of device '%s': malformed fuse %zu", t->uri, i);
		out->fuses[i].word = (uint16_t)w;
		out->fuses[i].nwords = (uint16_t)n;
		out->fuses[i].mask = (uint32_t)m;
	}
out:
	json_decref(j);
	return rc;
}

/*
 * Memory writes and erases wait on the server for a commit point: outside
 * a multi-step operation (whose end commits) the operation itself asks.
 */
static int commit_unless_held(rsp_session *s, lsec_err *err)
{
	if (s->dev->hold > 0 || s->profile->how[OP_INFO] != M_MONITOR) {
		return 0;
	}
	return monitor(s, "commit flash (lsec commit)", NULL, err, "commit");
}

static int rsp_flash_erase(lsec_device *t, uint32_t addr, uint32_t len, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	char pkt[64];
	LSEC_TRY(need(s, OP_FLASH_ERASE, M_MEMORY, "erase flash", err));
	if (s->vflash != 0) {
		snprintf(pkt, sizeof(pkt), "vFlashErase:%lx,%lx", (unsigned long)addr,
			 (unsigned long)len);
		LSEC_TRY(transact_str(s, "erase flash (vFlashErase)", pkt, err));
		if (s->reply.len == 0 && s->vflash < 0) {
			s->vflash = 0; /* not offered: the monitor erases */
		} else {
			LSEC_TRY(expect_ok(s, "erase flash (vFlashErase)", err));
			s->vflash = 1;
			LSEC_TRY(vflash_done(s, err));
		}
	}
	if (s->vflash == 0) {
		LSEC_TRY(monitor(s, "erase flash (lsec flash erase)", NULL, err,
				 "flash erase 0x%lx 0x%lx", (unsigned long)addr, (unsigned long)len));
	}
	LSEC_TRY(commit_unless_held(s, err));
out:
	return rc;
}

static int rsp_flash_write(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			   lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_FLASH_WRITE, M_MEMORY, "write flash", err));
	if (s->vflash < 0 && len > 0) {
		/* An empty vFlashWrite tells whether the server programs flash itself. */
		char pkt[48];
		snprintf(pkt, sizeof(pkt), "vFlashWrite:%lx:", (unsigned long)addr);
		LSEC_TRY(transact_str(s, "probe flash programming (vFlashWrite)", pkt, err));
		s->vflash = reply_is(s, "OK") ? 1 : 0;
	}
	char kind = 'F';
	if (s->vflash != 1) {
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
	return rc;
}

static int rsp_flash_read(lsec_device *t, uint32_t addr, uint8_t *out, size_t len, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_FLASH_READ, M_MEMORY, "read flash", err));
	LSEC_TRY(mem_read(s, addr, out, len, err));
out:
	return rc;
}

static int rsp_flash_hash(lsec_device *t, uint32_t addr, uint32_t len, uint8_t out[32],
			  lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	if (s->profile->how[OP_FLASH_HASH] != M_MONITOR) {
		/* Read back and hash here. */
		uint8_t *buf = lsec_malloc(len ? len : 1);
		LSEC_ENSURE(buf != NULL, LSEC_E_NOMEM, "out of memory");
		rc = mem_read(s, addr, buf, len, err);
		if (rc == 0) {
			rc = lsec_sha256(out, buf, len, err);
		}
		lsec_free(buf);
		goto out;
	}
	LSEC_TRY(monitor(s, "hash flash (lsec flash hash)", &a, err, "flash hash 0x%lx 0x%lx",
			 (unsigned long)addr, (unsigned long)len));
	LSEC_ENSURE(strlen(a) == 64 && rsp_hex_bytes(out, 32, a, 64), LSEC_E_TGT_PROTOCOL,
		    "cannot hash flash on device '%s': malformed digest", t->uri);
out:
	return rc;
}

static int boot_report_parse(lsec_device_boot_report *out, rsp_session *s, const char *text,
			     lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL;
	int booted = 0, measured = 0, sb = 0, uart = 0;
	json_int_t be = 0, ma = 0, mi = 0, rev = 0, build = 0;
	const char *digest = NULL;
	LSEC_TRY(lsec_json_parse(&j, text, strlen(text), "lsec reset", err));
	LSEC_ENSURE(json_unpack(j, "{s:b,s:I,s:b,s:s,s:[IIII],s:b,s:b}", "booted", &booted,
				"boot_error", &be, "measured", &measured, "digest", &digest,
				"version", &ma, &mi, &rev, &build, "secure_boot", &sb, "uart_open",
				&uart) == 0 &&
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

static int rsp_reset(lsec_device *t, lsec_device_boot_report *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	lsec_err merr = LSEC_ERR_INIT;
	LSEC_TRY(need(s, OP_RESET, M_MONITOR, "reset", err));
	if (s->broken) {
		/* The reset of a failed session reseats the link first. */
		LSEC_TRY(rsp_connect(s, err));
	}
	int mrc = monitor(s, "reset (lsec reset)", &a, &merr, "reset");
	if (mrc == LSEC_E_TGT_BOOT_REFUSED) {
		/* "error -183 {report}": the report is the message. */
		const char *m = strchr(merr.msg, '{');
		LSEC_ENSURE(m != NULL, LSEC_E_TGT_PROTOCOL,
			    "cannot reset device '%s': refused boot without a report", t->uri);
		LSEC_TRY(boot_report_parse(out, s, m, err));
		goto out;
	}
	if (mrc < 0) {
		*err = merr;
		LSEC_TRY(mrc);
	}
	LSEC_TRY(boot_report_parse(out, s, a, err));
out:
	return rc;
}

static int rsp_otp_read(lsec_device *t, uint32_t word, uint32_t n, uint32_t *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	LSEC_TRY(need(s, OP_OTP, M_MONITOR, "read OTP", err));
	LSEC_TRY(monitor(s, "read OTP (lsec otp read)", &a, err, "otp read %lu %lu",
			 (unsigned long)word, (unsigned long)n));
	for (uint32_t i = 0; i < n; i++) {
		char *end = NULL;
		LSEC_ENSURE(strspn(a, "0123456789abcdef") == 8, LSEC_E_TGT_PROTOCOL,
			    "cannot read OTP on device '%s': malformed word %lu", t->uri,
			    (unsigned long)(word + i));
		out[i] = (uint32_t)strtoul(a, &end, 16);
		a = end;
		LSEC_ENSURE(*a == (i + 1 < n ? ' ' : 0), LSEC_E_TGT_PROTOCOL,
			    "cannot read OTP on device '%s': expected %lu words", t->uri,
			    (unsigned long)n);
		a += *a == ' ';
	}
out:
	return rc;
}

static int rsp_otp_burn(lsec_device *t, uint32_t word, uint32_t bits, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_OTP, M_MONITOR, "burn OTP", err));
	LSEC_TRY(monitor(s, "burn OTP (lsec otp burn)", NULL, err, "otp burn %lu 0x%lx",
			 (unsigned long)word, (unsigned long)bits));
out:
	return rc;
}

static int rsp_otp_lock(lsec_device *t, uint32_t word, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_OTP, M_MONITOR, "lock OTP", err));
	LSEC_TRY(monitor(s, "lock OTP (lsec otp lock)", NULL, err, "otp lock %lu",
			 (unsigned long)word));
out:
	return rc;
}

/* A monitor result that is one decimal number up to max. */
static int args_number(unsigned long *v, rsp_session *s, const char *a, unsigned long max,
		       const char *what, lsec_err *err)
{
	int rc = 0;
	char *end = NULL;
	*v = strtoul(a, &end, 10);
	LSEC_ENSURE(a[0] >= '0' && a[0] <= '9' && (*end == 0 || *end == ' ') && *v <= max,
		    LSEC_E_TGT_PROTOCOL, "cannot %s on device '%s': malformed result '%.40s'", what,
		    s->dev->uri, a);
out:
	return rc;
}

static int rsp_otp_locked(lsec_device *t, uint32_t word, bool *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	unsigned long v = 0;
	LSEC_TRY(need(s, OP_OTP, M_MONITOR, "read an OTP lock", err));
	LSEC_TRY(monitor(s, "read an OTP lock (lsec otp locked)", &a, err, "otp locked %lu",
			 (unsigned long)word));
	LSEC_TRY(args_number(&v, s, a, 1, "read an OTP lock", err));
	*out = v == 1;
out:
	return rc;
}

static int rsp_debug_attach(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_DEBUG_ATTACH, M_MONITOR, "attach", err));
	LSEC_TRY(monitor(s, "attach (lsec attach)", NULL, err, "attach"));
out:
	return rc;
}

static int rsp_debug_lock_level(lsec_device *t, unsigned *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	unsigned long v = 0;
	LSEC_TRY(need(s, OP_DEBUG_LEVEL, M_MONITOR, "read the debug lock level", err));
	LSEC_TRY(monitor(s, "read the debug lock level (lsec lock-level)", &a, err, "lock-level"));
	LSEC_TRY(args_number(&v, s, a, 2, "read the debug lock level", err));
	*out = (unsigned)v;
out:
	return rc;
}

static int rsp_key_generate(lsec_device *t, unsigned slot, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "generate a key", err));
	LSEC_TRY(monitor(s, "generate a key (lsec key generate)", NULL, err, "key generate %u",
			 slot));
out:
	return rc;
}

static int rsp_key_inject(lsec_device *t, unsigned slot, const lsec_secret *pkcs8, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	char prefix[32];
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "inject a key", err));
	snprintf(prefix, sizeof(prefix), "key inject %u", slot);
	LSEC_TRY(monitor_secret(s, "inject a key (lsec key inject)", prefix, pkcs8, err));
out:
	return rc;
}

static int rsp_key_public(lsec_device *t, unsigned slot, lsec_buf *spki, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "read a public key", err));
	LSEC_TRY(monitor(s, "read a public key (lsec key public)", &a, err, "key public %u", slot));
	LSEC_TRY(args_hex(spki, s, a, "read a public key", err));
out:
	return rc;
}

static int rsp_key_sign(lsec_device *t, unsigned slot, const uint8_t *msg, size_t len,
			lsec_buf *sig, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	char *hex = lsec_hex_alloc(msg, len);
	LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "sign", err));
	LSEC_TRY(monitor(s, "sign (lsec key sign)", &a, err, "key sign %u %s", slot, hex));
	LSEC_TRY(args_hex(sig, s, a, "sign", err));
out:
	lsec_free(hex);
	return rc;
}

static int rsp_key_status(lsec_device *t, unsigned slot, lsec_device_slot_status *out,
			  lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	unsigned long st = 0, cert = 0;
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "read a key slot", err));
	LSEC_TRY(monitor(s, "read a key slot (lsec key status)", &a, err, "key status %u", slot));
	LSEC_TRY(args_number(&st, s, a, LSEC_SLOT_INJECTED, "read a key slot", err));
	const char *sp = strchr(a, ' ');
	if (sp != NULL) {
		LSEC_TRY(args_number(&cert, s, sp + 1, 1, "read a key slot", err));
	}
	out->state = (lsec_device_slot_state)st;
	out->has_cert = cert == 1;
out:
	return rc;
}

static int rsp_cert_store(lsec_device *t, unsigned slot, const uint8_t *der, size_t len,
			  lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	char *hex = lsec_hex_alloc(der, len);
	LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "store a certificate", err));
	LSEC_TRY(monitor(s, "store a certificate (lsec cert store)", NULL, err, "cert store %u %s",
			 slot, hex));
out:
	lsec_free(hex);
	return rc;
}

static int rsp_cert_read(lsec_device *t, unsigned slot, lsec_buf *der, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	LSEC_TRY(need(s, OP_KEYS, M_MONITOR, "read a certificate", err));
	LSEC_TRY(monitor(s, "read a certificate (lsec cert read)", &a, err, "cert read %u", slot));
	LSEC_TRY(args_hex(der, s, a, "read a certificate", err));
out:
	return rc;
}

static int rsp_credential_store(lsec_device *t, const lsec_secret *blob, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_CREDENTIAL, M_MONITOR, "store the credential", err));
	LSEC_TRY(monitor_secret(s, "store the credential (lsec credential store)",
				"credential store", blob, err));
out:
	return rc;
}

static int rsp_erase_all(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	LSEC_TRY(need(s, OP_ERASE, M_MONITOR, "erase the device", err));
	LSEC_TRY(monitor(s, "erase the device (lsec erase all)", NULL, err, "erase all"));
out:
	return rc;
}

static int rsp_erase_challenge(lsec_device *t, uint8_t *out, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	const char *a = NULL;
	LSEC_TRY(need(s, OP_ERASE, M_MONITOR, "get an erase challenge", err));
	LSEC_TRY(monitor(s, "get an erase challenge (lsec erase challenge)", &a, err,
			 "erase challenge"));
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
	int rc = 0;
	rsp_session *s = S(t);
	char *hex = lsec_hex_alloc(token, len);
	LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(need(s, OP_ERASE, M_MONITOR, "erase with a token", err));
	LSEC_TRY(monitor(s, "erase with a token (lsec erase auth)", NULL, err, "erase auth %s",
			 hex));
out:
	lsec_free(hex);
	return rc;
}

static int rsp_commit(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	rsp_session *s = S(t);
	if (s->profile->how[OP_INFO] != M_MONITOR) {
		return 0;
	}
	LSEC_TRY(monitor(s, "commit (lsec commit)", NULL, err, "commit"));
out:
	return rc;
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
};
