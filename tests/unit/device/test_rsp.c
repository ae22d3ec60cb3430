/*
 * The RSP client against the real server (lsec_device_sim_serve on a
 * loopback port, in a thread): every device operation through the monitor
 * protocol and memory packets, the X/vFlash fallbacks, registers and run
 * control, and each failure: refused attach, unsupported profile methods,
 * bad URIs, a refused connection, a silent server, a garbling server and a
 * server that goes away mid-session.
 */
#include "device/rsp_int.h"
#include "sim_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct server {
	pthread_t th;
	lsec_device_serve_options o;
	char *unit;
	volatile unsigned port;
	volatile int stop;
	int rc;
	lsec_err err;
} server;

static void on_ready(void *arg, unsigned port)
{
	((server *)arg)->port = port;
}

static void *serve_main(void *arg)
{
	server *s = arg;
	s->rc = lsec_device_sim_serve(s->unit, &s->o, &s->err);
	return NULL;
}

static char listen_addr[32];

/* Serves unit on port (0: any free one). */
static void server_start_on(server *s, const char *unit, bool like_qemu, unsigned port)
{
	lsec_device_serve_options o = LSEC_DEVICE_SERVE_OPTIONS_INIT;
	memset(s, 0, sizeof(*s));
	s->o = o;
	snprintf(listen_addr, sizeof(listen_addr), "127.0.0.1:%u", port);
	s->o.listen = listen_addr;
	s->o.ready = on_ready;
	s->o.arg = s;
	s->o.stop = &s->stop;
	s->o.no_binary = like_qemu;
	s->o.no_vflash = like_qemu;
	s->unit = lsec_strdup(unit);
	assert_int_equal(pthread_create(&s->th, NULL, serve_main, s), 0);
	for (int i = 0; i < 500 && s->port == 0; i++) {
		usleep(10000);
	}
	assert_true(s->port != 0);
}

static void server_start(server *s, const char *unit, bool like_qemu)
{
	server_start_on(s, unit, like_qemu, 0);
}

static void server_stop(server *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	assert_lsec_ok(s->rc, &s->err);
	lsec_free(s->unit);
}

static char *rsp_uri(const server *s, const char *query)
{
	return lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim%s", s->port, query ? query : "");
}

static void flash_and_check(lsec_device *t)
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t data[9000], back[9000];
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i * 13 + (i >> 7)); /* every byte value, $ # } * included */
	}
	assert_lsec_ok(lsec_device_flash_program(t, 4096, data, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_device_flash_read(back, t, 4096, sizeof(back), &err), &err);
	assert_memory_equal(back, data, sizeof(data));
}

static void test_device_rsp__every_operation_through_the_server(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	server srv;
	fixture_default(&fx);
	/* What the sim says directly. */
	lsec_device *d = fixture_open(fx.uri, false);
	lsec_device_info want, got;
	assert_lsec_ok(lsec_device_info_get(&want, d, &err), &err);
	lsec_device_close(d);

	server_start(&srv, fx.uri, false);
	char *uri = rsp_uri(&srv, "&timeout=5000");
	lsec_device *t = NULL;
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	assert_lsec_ok(lsec_device_info_get(&got, t, &err), &err);
	assert_memory_equal(&got, &want, sizeof(got));
	/* Memory before attach is refused by the device, and the client says so. */
	uint8_t b[4];
	assert_lsec_code(lsec_device_flash_read(b, t, 0, 4, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_non_null(strstr(err.msg, uri));
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	flash_and_check(t);
	lsec_device__rsp_stats st;
	assert_lsec_ok(lsec_device__rsp_stats_get(&st, t, &err), &err);
	assert_true(st.no_ack);
	assert_true(st.vflash);
	assert_int_equal(st.packet_size, RSP_SERVER_PACKET_SIZE);
	/* OTP and named fuses. */
	uint32_t w[2];
	bool locked = true;
	assert_lsec_ok(lsec_device_otp_burn(t, 30, 0x5, &err), &err);
	assert_lsec_ok(lsec_device_otp_read(w, t, 30, 2, &err), &err);
	assert_int_equal(w[0], 0x5);
	assert_int_equal(w[1], 0);
	assert_lsec_ok(lsec_device_otp_locked(&locked, t, 30, &err), &err);
	assert_false(locked);
	assert_lsec_ok(lsec_device_otp_lock(t, 30, &err), &err);
	assert_lsec_ok(lsec_device_otp_locked(&locked, t, 30, &err), &err);
	assert_true(locked);
	assert_lsec_code(lsec_device_otp_burn(t, 30, 0x8, &err), LSEC_E_TGT_OTP_LOCKED, &err);
	assert_non_null(strstr(err.msg, uri));
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 3, &err), &err);
	lsec_device_fuse_value fv;
	assert_lsec_ok(lsec_device_fuse_read(&fv, t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_int_equal(fv.value, 3);
	/* Keys, certificates, the credential (a secret crossing the link). */
	lsec_buf spki = LSEC_BUF_INIT(4096), sig = LSEC_BUF_INIT(4096), cert = LSEC_BUF_INIT(4096);
	lsec_device_slot_status ss;
	assert_lsec_ok(lsec_device_key_generate(t, 0, &err), &err);
	assert_lsec_code(lsec_device_key_generate(t, 0, &err), LSEC_E_TGT_SLOT_FULL, &err);
	assert_lsec_ok(lsec_device_key_public(&spki, t, 0, &err), &err);
	assert_true(spki.len > 60);
	assert_lsec_ok(lsec_device_key_sign(&sig, t, 0, (const uint8_t *)"hello", 5, &err), &err);
	assert_true(sig.len > 60);
	assert_lsec_ok(lsec_device_cert_store(t, 0, spki.data, spki.len, &err), &err);
	assert_lsec_ok(lsec_device_cert_read(&cert, t, 0, &err), &err);
	assert_int_equal(cert.len, spki.len);
	assert_lsec_ok(lsec_device_key_status(&ss, t, 0, &err), &err);
	assert_int_equal(ss.state, LSEC_SLOT_GENERATED);
	assert_true(ss.has_cert);
	assert_lsec_code(lsec_device_key_public(&spki, t, 1, &err), LSEC_E_TGT_SLOT_EMPTY, &err);
	lsec_secret *blob = NULL;
	assert_lsec_ok(lsec_secret_from(&blob, "credential-bytes", 16, &err), &err);
	assert_lsec_ok(lsec_device_credential_store(t, blob, &err), &err);
	lsec_secret_free(blob);
	/* Reset: the boot report crosses intact (no image at 0: refused, with its report). */
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_false(br.booted);
	assert_int_equal(br.boot_error, LSEC_BOOT_NO_IMAGE);
	/* Erase with a challenge, then everything is blank. */
	uint8_t ch[LSEC_DEVICE_ERASE_CHALLENGE_LEN], dg[32];
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	assert_lsec_ok(lsec_device_erase_all(t, &err), &err);
	assert_lsec_ok(lsec_device_blank_check(dg, t, &err), &err);
	lsec_device_close(t);
	server_stop(&srv);
	/* What went over the link is durable in the unit's files. */
	d = fixture_open(fx.uri, false);
	assert_lsec_ok(lsec_device_fuse_read(&fv, d, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_int_equal(fv.value, 3);
	lsec_device_close(d);
	lsec_buf_release(&spki);
	lsec_buf_release(&sig);
	lsec_buf_release(&cert);
	lsec_free(uri);
	fixture_free(&fx);
}

static void test_device_rsp__falls_back_to_m_without_x_or_vflash(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	server srv;
	fixture_default(&fx);
	server_start(&srv, fx.uri, true);
	char *uri = rsp_uri(&srv, NULL);
	lsec_device *t = NULL;
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	flash_and_check(t);
	lsec_device__rsp_stats st;
	assert_lsec_ok(lsec_device__rsp_stats_get(&st, t, &err), &err);
	assert_false(st.binary);
	assert_false(st.vflash);
	/* Registers after target.xml; run control. */
	uint32_t pc = 0;
	unsigned sig = 0;
	assert_lsec_ok(lsec_device__rsp_reg_write(t, "pc", 0x1234, &err), &err);
	assert_lsec_ok(lsec_device__rsp_reg_read(t, "pc", &pc, &err), &err);
	assert_int_equal(pc, 0x1234);
	assert_lsec_ok(lsec_device__rsp_stats_get(&st, t, &err), &err);
	assert_int_equal(st.nregs, 17);
	assert_lsec_code(lsec_device__rsp_reg_read(t, "r99", &pc, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_ok(lsec_device__rsp_continue(t, &err), &err);
	assert_lsec_ok(lsec_device__rsp_interrupt(t, &sig, &err), &err);
	assert_int_equal(sig, 2);
	assert_lsec_ok(lsec_device__rsp_halt_reason(t, &sig, &err), &err);
	assert_int_equal(sig, 5);
	lsec_device_close(t);
	server_stop(&srv);
	lsec_free(uri);
	fixture_free(&fx);
}

static void test_device_rsp__locked_port_and_unsupported_methods(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	server srv;
	fixture_default(&fx);
	lsec_device *d = fixture_open(fx.uri, true);
	assert_lsec_ok(lsec_device_fuse_set(d, LSEC_FUSE_DEBUG_LOCK, 1, &err), &err);
	lsec_device_close(d);
	server_start(&srv, fx.uri, false);
	char *uri = rsp_uri(&srv, NULL);
	lsec_device *t = NULL;
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);
	assert_non_null(strstr(err.msg, "debug port locked"));
	assert_false(lsec_device_failed(t));
	uint8_t b[4];
	assert_lsec_code(lsec_device_flash_read(b, t, 0, 4, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	unsigned lvl = 0;
	assert_lsec_ok(lsec_device_debug_lock_level(&lvl, t, &err), &err);
	assert_int_equal(lvl, 1);
	lsec_device_close(t);
	/* A profile without OTP methods says so instead of pretending. */
	char *q = lsec_asprintf("rsp://127.0.0.1:%u?profile=qemu-lm3s6965evb", srv.port);
	assert_lsec_ok(lsec_device_open(&t, q, &err), &err);
	uint32_t w = 0;
	assert_lsec_code(lsec_device_otp_read(&w, t, 0, 1, &err), LSEC_E_TGT_UNSUPPORTED, &err);
	assert_non_null(strstr(err.msg, "not supported by this device (profile qemu-lm3s6965evb)"));
	assert_false(lsec_device_failed(t));
	lsec_device_close(t);
	lsec_free(q);
	server_stop(&srv);
	lsec_free(uri);
	fixture_free(&fx);
}

static void test_device_rsp__bad_uris(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	const char *bad[] = {
		"rsp:127.0.0.1:1?profile=linesec-sim",
		"rsp://127.0.0.1?profile=linesec-sim",
		"rsp://127.0.0.1:0?profile=linesec-sim",
		"rsp://127.0.0.1:70000?profile=linesec-sim",
		"rsp://127.0.0.1:1234",
		"rsp://127.0.0.1:1234?profile=nope",
		"rsp://127.0.0.1:1234?profile=linesec-sim&timeout=0",
		"rsp://127.0.0.1:1234?profile=linesec-sim&speed=9",
		"rsp://127.0.0.1:1234?profile",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_lsec_code(lsec_device_open(&t, bad[i], &err), LSEC_E_TGT_BAD_URI, &err);
		assert_null(t);
	}
}

/* A listening socket on a free loopback port. */
static int listener(unsigned *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A peer that accepts and answers every byte it gets with `answer` (or nothing). */
typedef struct rogue {
	pthread_t th;
	int lfd;
	const char *answer;
	unsigned flood_us; /* > 0: after the first request, send answer every flood_us forever */
} rogue;

static void *rogue_main(void *arg)
{
	rogue *r = arg;
	int c = accept(r->lfd, NULL, NULL);
	char buf[512];
	ssize_t n;
	while (c >= 0 && (n = read(c, buf, sizeof(buf))) > 0) {
		while (r->flood_us > 0 && send(c, r->answer, strlen(r->answer), MSG_NOSIGNAL) > 0) {
			usleep(r->flood_us);
		}
		if (r->answer != NULL && r->flood_us == 0 && (memchr(buf, '$', (size_t)n) != NULL || buf[0] == '-')) {
			ssize_t w = write(c, r->answer, strlen(r->answer));
			(void)w;
		}
	}
	if (c >= 0) {
		close(c);
	}
	return NULL;
}

static void test_device_rsp__link_failures(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	unsigned port = 0;
	/* Nobody listening: a link failure (transient). */
	int fd = listener(&port);
	close(fd);
	char *uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim", port);
	assert_lsec_code(lsec_device_open(&t, uri, &err), LSEC_E_TGT_LINK, &err);
	assert_non_null(strstr(err.msg, uri));
	lsec_free(uri);
	/* A server that acks nothing: retried, then a timeout. */
	rogue r = {.lfd = listener(&port), .answer = NULL};
	pthread_create(&r.th, NULL, rogue_main, &r);
	uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim&timeout=100", port);
	assert_lsec_code(lsec_device_open(&t, uri, &err), LSEC_E_TGT_TIMEOUT, &err);
	assert_non_null(strstr(err.msg, "qSupported"));
	pthread_join(r.th, NULL);
	close(r.lfd);
	lsec_free(uri);
	/* A server whose replies never check out: NAKed, then a protocol error. */
	r.lfd = listener(&port);
	r.answer = "+$OK#00";
	pthread_create(&r.th, NULL, rogue_main, &r);
	uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim&timeout=2000", port);
	assert_lsec_code(lsec_device_open(&t, uri, &err), LSEC_E_TGT_PROTOCOL, &err);
	assert_non_null(strstr(err.msg, "checksum"));
	pthread_join(r.th, NULL);
	close(r.lfd);
	lsec_free(uri);
}

/* A server that answers with an endless stream: the call ends all the same. */
static void flood_fails(const char *answer, unsigned flood_us, unsigned timeout, int code,
			const char *says)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	unsigned port = 0;
	rogue r = {.answer = answer, .flood_us = flood_us};
	r.lfd = listener(&port);
	pthread_create(&r.th, NULL, rogue_main, &r);
	char *uri =
	    lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim&timeout=%u", port, timeout);
	uint64_t t0 = lsec_time_mono_ms();
	assert_lsec_code(lsec_device_open(&t, uri, &err), code, &err);
	uint64_t took = lsec_time_mono_ms() - t0;
	assert_true(took <= (uint64_t)timeout * (RSP_RETRIES + 1) + 1000);
	assert_non_null(strstr(err.msg, uri));
	assert_non_null(strstr(err.msg, says));
	pthread_join(r.th, NULL);
	close(r.lfd);
	lsec_free(uri);
}

static void test_device_rsp__endless_acks_or_output_end_the_call(void **state)
{
	(void)state;
	/* A trickle of acks, each within the timeout: the transaction's deadline ends it. */
	flood_fails("+", 20000, 200, LSEC_E_TGT_TIMEOUT, "qSupported");
	/* A flood of acks: the cap on ignored events ends it. */
	flood_fails("+", 1, 5000, LSEC_E_TGT_PROTOCOL, "stray acks");
	/* A flood of output packets: the cap on O packets ends it. */
	flood_fails("$O00#af", 1, 5000, LSEC_E_TGT_PROTOCOL, "output (O) packets");
}

/* More monitor output than the client holds: the session fails, nothing left to misread. */
static void test_device_rsp__oversized_output_fails_the_session(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	unsigned port = 0;
	/* Each packet: "+", nine O packets of 8000 bytes (72000 > 64 KiB), then a stop reply. */
	lsec_buf a = LSEC_BUF_INIT(1u << 20);
	assert_lsec_ok(lsec_buf_append_str(&a, "+", &err), &err);
	for (int i = 0; i < 9; i++) {
		unsigned sum = 'O';
		assert_lsec_ok(lsec_buf_append_str(&a, "$O", &err), &err);
		for (int k = 0; k < 16000; k++) {
			assert_lsec_ok(lsec_buf_append_u8(&a, '4', &err), &err);
			sum += '4';
		}
		char tail[8];
		snprintf(tail, sizeof(tail), "#%02x", sum & 0xff);
		assert_lsec_ok(lsec_buf_append_str(&a, tail, &err), &err);
	}
	assert_lsec_ok(lsec_buf_append_str(&a, "$S05#b8", &err), &err);
	assert_lsec_ok(lsec_buf_append_u8(&a, 0, &err), &err);
	rogue r = {.answer = (const char *)a.data};
	r.lfd = listener(&port);
	pthread_create(&r.th, NULL, rogue_main, &r);
	char *uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim&timeout=2000", port);
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	lsec_device_info info;
	assert_lsec_code(lsec_device_info_get(&info, t, &err), LSEC_E_TGT_PROTOCOL, &err);
	assert_non_null(strstr(err.msg, uri));
	assert_true(lsec_device_failed(t));
	assert_lsec_code(lsec_device_info_get(&info, t, &err), LSEC_E_TGT_FAILED, &err);
	lsec_device_close(t);
	pthread_join(r.th, NULL);
	close(r.lfd);
	lsec_buf_release(&a);
	lsec_free(uri);
}

/* The probe-serial query parses its URI and connects as the device session does. */
static void test_device_rsp__probe_serial_uri_and_timeout(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char serial[64];
	unsigned port = 0;
	assert_lsec_code(lsec_device_probe_serial(serial, sizeof(serial), "sim:x.sim", &err),
			 LSEC_E_TGT_BAD_URI, &err);
	assert_lsec_code(lsec_device_probe_serial(serial, sizeof(serial), "rsp://127.0.0.1:1", &err),
			 LSEC_E_TGT_BAD_URI, &err);
	assert_non_null(strstr(err.msg, "missing profile=NAME"));
	assert_lsec_code(lsec_device_probe_serial(serial, sizeof(serial),
						  "rsp://127.0.0.1:99999?profile=linesec-sim", &err),
			 LSEC_E_TGT_BAD_URI, &err);
	/* Nobody listening: a link failure. */
	int fd = listener(&port);
	close(fd);
	char *uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim", port);
	assert_lsec_code(lsec_device_probe_serial(serial, sizeof(serial), uri, &err),
			 LSEC_E_TGT_LINK, &err);
	lsec_free(uri);
	/* A server that never answers: the URI's timeout bounds the query. */
	rogue r = {.lfd = listener(&port), .answer = NULL};
	pthread_create(&r.th, NULL, rogue_main, &r);
	uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=linesec-sim&timeout=200", port);
	uint64_t t0 = lsec_time_mono_ms();
	assert_lsec_code(lsec_device_probe_serial(serial, sizeof(serial), uri, &err),
			 LSEC_E_TGT_TIMEOUT, &err);
	assert_true(lsec_time_mono_ms() - t0 < 2000);
	pthread_join(r.th, NULL);
	close(r.lfd);
	lsec_free(uri);
}

/* A minimal server for a monitor-flash profile: PacketSize 0x40, every command OK, memory zero. */
static void *small_main(void *arg)
{
	rogue *r = arg;
	int c = accept(r->lfd, NULL, NULL);
	char buf[4096], out[600];
	size_t have = 0;
	ssize_t n;
	while (c >= 0 && (n = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = 0;
		char *d = strchr(buf, '$'), *h = d != NULL ? strchr(d, '#') : NULL;
		if (h == NULL || (size_t)(h - buf) + 3 > have) {
			continue;
		}
		const char *reply = "";
		unsigned long len = 0;
		if (strncmp(d + 1, "qSupported", 10) == 0) {
			reply = "PacketSize=40";
		} else if (d[1] == '?') {
			reply = "S05";
		} else if (strncmp(d + 1, "qRcmd,", 6) == 0) {
			reply = "OK";
		} else if (d[1] == 'm' && sscanf(d + 2, "%*x,%lx", &len) == 1 && len < 200) {
			memset(out, '0', 2 * len);
			out[2 * len] = 0;
			reply = out;
		}
		unsigned sum = 0;
		for (const char *p = reply; *p; p++) {
			sum += (unsigned char)*p;
		}
		char pkt[700];
		int w = snprintf(pkt, sizeof(pkt), "+$%s#%02x", reply, sum & 0xff);
		assert_true(write(c, pkt, (size_t)w) == w);
		size_t used = (size_t)(h - buf) + 3;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	if (c >= 0) {
		close(c);
	}
	return NULL;
}

/* Flash by monitor commands when PacketSize leaves no room for data: refused, not an endless loop. */
static void test_device_rsp__monitor_flash_needs_room_in_a_packet(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = NULL;
	unsigned port = 0;
	char dir[] = "/tmp/lsec-rsp-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *prof = lsec_asprintf("%s/mon.yaml", dir);
	FILE *f = fopen(prof, "w");
	assert_non_null(f);
	fputs("profile: 1\nname: mon\ndescription: monitor flash\nreference: none\n"
	      "tested-on-hardware: false\nmonitor-protocol: text\n"
	      "family:\n  name: x\n  read: {read32: {address: 0x0, mask: 0xFFFF0000}}\n"
	      "  values: {0x0: X}\nrevision: unsupported\nuid: {address: 0x100, length: 16}\n"
	      "reset: {monitor: \"reset\"}\nflash:\n  base: 0x8000\n  size: 0x10000\n"
	      "  page-size: 1024\n  method: monitor\n  erase: {monitor: \"erase {addr} {len}\"}\n"
	      "  write: {monitor: \"w {addr} {hex}\"}\notp: unsupported\nfuses: unsupported\n"
	      "debug-lock: unsupported\nkeystore: unsupported\nerase: unsupported\n"
	      "attestation:\n  source: reset\n",
	      f);
	assert_int_equal(fclose(f), 0);
	rogue r = {.lfd = listener(&port)};
	pthread_create(&r.th, NULL, small_main, &r);
	char *uri = lsec_asprintf("rsp://127.0.0.1:%u?profile=%s&timeout=2000", port, prof);
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	const uint8_t data[16] = {1, 2, 3};
	uint64_t t0 = lsec_time_mono_ms();
	assert_lsec_code(lsec_device_flash_write(t, 0, data, sizeof(data), &err),
			 LSEC_E_TGT_PROTOCOL, &err);
	assert_non_null(strstr(err.msg, "PacketSize"));
	assert_true(lsec_time_mono_ms() - t0 < 2000);
	lsec_device_close(t);
	pthread_join(r.th, NULL);
	close(r.lfd);
	unlink(prof);
	rmdir(dir);
	lsec_free(prof);
	lsec_free(uri);
}

static void test_device_rsp__server_gone_fails_the_session(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	server srv;
	fixture_default(&fx);
	server_start(&srv, fx.uri, false);
	char *uri = rsp_uri(&srv, "&timeout=1000");
	lsec_device *t = NULL;
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	server_stop(&srv);
	unsigned lvl = 0;
	assert_lsec_code(lsec_device_debug_lock_level(&lvl, t, &err), LSEC_E_TGT_LINK, &err);
	assert_non_null(strstr(err.msg, "link lost"));
	assert_true(lsec_device_failed(t));
	assert_lsec_code(lsec_device_debug_lock_level(&lvl, t, &err), LSEC_E_TGT_FAILED, &err);
	/* The server back on its port: the reset of the failed session reconnects. */
	unsigned port = srv.port;
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_LINK, &err);
	server_start_on(&srv, fx.uri, false, port);
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_int_equal(br.boot_error, LSEC_BOOT_NO_IMAGE);
	assert_false(lsec_device_failed(t));
	assert_lsec_ok(lsec_device_debug_lock_level(&lvl, t, &err), &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	lsec_device_close(t);
	server_stop(&srv);
	lsec_free(uri);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_rsp__every_operation_through_the_server),
		cmocka_unit_test(test_device_rsp__falls_back_to_m_without_x_or_vflash),
		cmocka_unit_test(test_device_rsp__probe_serial_uri_and_timeout),
		cmocka_unit_test(test_device_rsp__locked_port_and_unsupported_methods),
		cmocka_unit_test(test_device_rsp__bad_uris),
		cmocka_unit_test(test_device_rsp__link_failures),
		cmocka_unit_test(test_device_rsp__endless_acks_or_output_end_the_call),
		cmocka_unit_test(test_device_rsp__oversized_output_fails_the_session),
		cmocka_unit_test(test_device_rsp__monitor_flash_needs_room_in_a_packet),
		cmocka_unit_test(test_device_rsp__server_gone_fails_the_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
