/*
 * rsp_probe.c - asks a probe's GDB server for the probe's serial, on a
 * connection of its own (before the device session): a jig's fixture file
 * binds each socket to one probe, and a unit seen through another probe is
 * not built (docs/station.md, "Fixture files").
 *
 * @test tests/e2e/test_fixture.sh
 */
#include "device/rsp_int.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 3000

/* HOST and PORT of "rsp://HOST:PORT[?...]" into host/port. */
static int split(char *host, size_t hcap, char *port, size_t pcap, const char *uri, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(strncmp(uri, "rsp://", 6) == 0, LSEC_E_TGT_BAD_URI,
		    "device '%s' is not a probe (rsp://HOST:PORT)", uri);
	const char *h = uri + 6, *end = h + strcspn(h, "?/");
	const char *colon = NULL;
	for (const char *p = h; p < end; p++) {
		if (*p == ':') {
			colon = p;
		}
	}
	LSEC_ENSURE(colon != NULL && colon > h && end - colon > 1 && (size_t)(colon - h) < hcap &&
			    (size_t)(end - colon - 1) < pcap,
		    LSEC_E_TGT_BAD_URI, "device '%s': expected rsp://HOST:PORT", uri);
	snprintf(host, hcap, "%.*s", (int)(colon - h), h);
	snprintf(port, pcap, "%.*s", (int)(end - colon - 1), colon + 1);
out:
	return rc;
}

static int dial(int *fd_out, const char *uri, const char *host, const char *port, lsec_err *err)
{
	int rc = 0, fd = -1, last = ECONNREFUSED;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(host, port, &hints, &ai);
	LSEC_ENSURE(gai == 0, LSEC_E_TGT_LINK, "cannot reach the probe of '%s': %s", uri,
		    gai_strerror(gai));
	for (struct addrinfo *a = ai; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			last = errno;
			close(fd);
			fd = -1;
		}
	}
	LSEC_ENSURE(fd >= 0, LSEC_E_TGT_LINK,
		    "cannot reach the probe of '%s': %s (link failure: is the debug server running?)",
		    uri, strerror(last));
	*fd_out = fd;
out:
	if (ai != NULL) {
		freeaddrinfo(ai);
	}
	return rc;
}

/* The next packet (acked in ack mode) into l->dbuf[0..l->dec.len). */
static int next_packet(rsp_link *l, const char *uri, lsec_err *err)
{
	int rc = 0;
	for (;;) {
		rsp_event_kind ev;
		LSEC_TRY(rsp_link_next(l, &ev, PROBE_TIMEOUT_MS, "ask the probe serial", err));
		if (ev == RSP_EV_PACKET) {
			LSEC_TRY(rsp_link_send_raw(l, "+", 1, "ask the probe serial", err));
			break;
		}
		LSEC_ENSURE(ev != RSP_EV_ERROR, LSEC_E_TGT_PROTOCOL,
			    "the probe of '%s' sent a malformed packet", uri);
	}
out:
	return rc;
}

int lsec_device_probe_serial(char *out, size_t cap, const char *uri, lsec_err *err)
{
	int rc = 0, fd = -1;
	char host[256], port[16];
	static const char cmd[] = "lsec probe-serial";
	lsec_buf pkt = LSEC_BUF_INIT(256), line = LSEC_BUF_INIT(1024);
	rsp_link l;
	bool linked = false;
	LSEC_ENSURE(out != NULL && cap > 0 && uri != NULL, LSEC_E_USAGE, "missing argument");
	out[0] = '\0';
	LSEC_TRY(split(host, sizeof(host), port, sizeof(port), uri, err));
	LSEC_TRY(dial(&fd, uri, host, port, err));
	rsp_link_init(&l, fd, PROBE_TIMEOUT_MS, uri);
	linked = true;
	LSEC_TRY(lsec_buf_append_str(&pkt, "qRcmd,", err));
	LSEC_TRY(rsp_hex_append(&pkt, (const uint8_t *)cmd, sizeof(cmd) - 1, err));
	LSEC_TRY(rsp_link_send(&l, pkt.data, pkt.len, "ask the probe serial", err));
	/* O packets carry the command's output; OK, E.. or an empty reply ends it. */
	for (;;) {
		LSEC_TRY(next_packet(&l, uri, err));
		const char *p = (const char *)l.dbuf;
		size_t n = l.dec.len;
		if (n >= 1 && p[0] == 'O' && n % 2 == 1 && n > 1) {
			uint8_t chunk[512];
			size_t k = (n - 1) / 2 < sizeof(chunk) ? (n - 1) / 2 : sizeof(chunk);
			LSEC_ENSURE(rsp_hex_bytes(chunk, k, p + 1, 2 * k), LSEC_E_TGT_PROTOCOL,
				    "the probe of '%s' sent output that is not hex", uri);
			LSEC_TRY(lsec_buf_append(&line, chunk, k, err));
			continue;
		}
		break;
	}
	/* "ok SERIAL\n" reports it; anything else (an error, nothing) reports none. */
	if (line.len > 3 && memcmp(line.data, "ok ", 3) == 0) {
		size_t k = 3;
		while (k < line.len && line.data[k] > 0x20 && line.data[k] < 0x7f) {
			k++;
		}
		LSEC_ENSURE(k - 3 < cap, LSEC_E_TGT_PROTOCOL,
			    "the probe of '%s' reports a serial longer than %zu bytes", uri, cap - 1);
		memcpy(out, line.data + 3, k - 3);
		out[k - 3] = '\0';
	}
	/* Detach: the server takes the station's connection next. */
	{
		lsec_err quiet = LSEC_ERR_INIT;
		if (rsp_link_send(&l, (const uint8_t *)"D", 1, "detach", &quiet) == 0 &&
		    next_packet(&l, uri, &quiet) < 0) {
			/* the serial is read; how the server ends the connection does not matter */
		}
	}
out:
	if (linked) {
		rsp_link_close(&l);
	} else if (fd >= 0) {
		close(fd);
	}
	lsec_buf_release(&pkt);
	lsec_buf_release(&line);
	return rc;
}
