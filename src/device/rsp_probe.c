/*
 * rsp_probe.c - asks a probe's GDB server for the probe's serial, on a
 * connection of its own (before the device session): a jig's fixture file
 * binds each socket to one probe, and a unit seen through another probe is
 * not built (docs/station.md, "Fixture files").
 *
 * @test tests/e2e/test_fixture.sh
 */
#include "device/rsp_int.h"

#include <string.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 3000

/* The next packet (acked in ack mode) into l->dbuf[0..l->dec.len). */
static int next_packet(rsp_link *l, const char *uri, lsec_err *err)
{
	int rc = 0;
	for (;;) {
		rsp_event_kind ev;
		LSEC_TRY(rsp_link_next(l, &ev, (int)l->timeout_ms, "ask the probe serial", err));
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
	char *host = NULL, *port = NULL, *profile = NULL, *uart = NULL;
	unsigned timeout_ms = PROBE_TIMEOUT_MS;
	static const char cmd[] = "lsec probe-serial";
	lsec_buf pkt = LSEC_BUF_INIT(256), line = LSEC_BUF_INIT(1024);
	rsp_link l;
	bool linked = false;
	LSEC_ENSURE(out != NULL && cap > 0 && uri != NULL, LSEC_E_USAGE, "missing argument");
	out[0] = '\0';
	LSEC_ENSURE(strncmp(uri, "rsp://", 6) == 0, LSEC_E_TGT_BAD_URI,
		    "device '%s' is not a probe (rsp://HOST:PORT?profile=NAME)", uri);
	/* The device session's own URI parser and connect, its timeout included. */
	LSEC_TRY(rsp_uri_parse(&host, &port, &profile, &uart, &timeout_ms, uri, uri + 4, err));
	LSEC_TRY(rsp_tcp_connect(&fd, uri, host, port, timeout_ms, err));
	rsp_link_init(&l, fd, timeout_ms, uri);
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
	lsec_free(host);
	lsec_free(port);
	lsec_free(profile);
	lsec_free(uart);
	return rc;
}
