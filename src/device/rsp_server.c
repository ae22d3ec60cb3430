/*
 * rsp_server.c - serves one device over the GDB Remote Serial Protocol
 * (`linesec sim serve`): one connection at a time, each one device
 * session. Memory packets (m, M, X, vFlash*) reach the device's flash; the
 * `lsec` monitor commands (qRcmd) reach its other operations, the way a
 * probe's server exposes chip-specific commands (docs/device.md, "RSP
 * backend"). The device's own checks stay in force: a locked debug port
 * refuses attach, and without attach every memory packet is refused.
 *
 * Writes are made durable (the device's commit) at the end of each monitor
 * command but a flash erase, on `lsec commit` and when the connection ends;
 * memory writes and erases in between are deferred like a probe's write
 * buffer, so a server killed mid-write loses them as a unit loses power.
 *
 * @test tests/unit/device/test_rsp.c
 * @test tests/e2e/test_rsp.sh
 */
#include "device/rsp_int.h"
#include "linesec/image.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SRV_NREGS 17u /* r0-r12, sp, lr, pc, xpsr */
#define SRV_POLL_MS 200
#define SRV_OUT_CHUNK 4000u /* output bytes per O packet */
#define SRV_MAX_ARGS 8

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\"><architecture>arm</architecture>\n"
	"<feature name=\"org.gnu.gdb.arm.m-profile\">\n"
	"<reg name=\"r0\" bitsize=\"32\"/><reg name=\"r1\" bitsize=\"32\"/>"
	"<reg name=\"r2\" bitsize=\"32\"/><reg name=\"r3\" bitsize=\"32\"/>"
	"<reg name=\"r4\" bitsize=\"32\"/><reg name=\"r5\" bitsize=\"32\"/>"
	"<reg name=\"r6\" bitsize=\"32\"/><reg name=\"r7\" bitsize=\"32\"/>"
	"<reg name=\"r8\" bitsize=\"32\"/><reg name=\"r9\" bitsize=\"32\"/>"
	"<reg name=\"r10\" bitsize=\"32\"/><reg name=\"r11\" bitsize=\"32\"/>"
	"<reg name=\"r12\" bitsize=\"32\"/>"
	"<reg name=\"sp\" bitsize=\"32\" type=\"data_ptr\"/>"
	"<reg name=\"lr\" bitsize=\"32\"/>"
	"<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\"/>"
	"<reg name=\"xpsr\" bitsize=\"32\" regnum=\"25\"/>\n</feature>\n</target>\n";

typedef struct srv {
	const lsec_device_serve_options *o;
	lsec_device *t;
	rsp_link link;
	lsec_buf reply;   /* the reply being built */
	lsec_buf line;    /* a monitor command's output line */
	uint8_t pkt[RSP_MAX_PACKET + 1]; /* the request, NUL-terminated */
	size_t pkt_len;
	bool running;     /* after c, until an interrupt */
	bool err_text;    /* the client takes "E.text" errors */
	bool killed;      /* k: end the connection and the server */
	bool detached;    /* D: end the connection */
	unsigned drop_seen; /* monitor commands matching o->drop_on so far */
	uint32_t regs[SRV_NREGS];
} srv;

/* ---- replies ------------------------------------------------------------ */

/* Sends a packet; in ack mode waits for its '+', resending on '-'. */
static int send_packet(srv *v, const uint8_t *p, size_t n, lsec_err *err)
{
	int rc = 0;
	unsigned tries = 0;
	LSEC_TRY(rsp_link_send(&v->link, p, n, "a reply", err));
	while (v->link.ack) {
		rsp_event_kind ev;
		LSEC_TRY(rsp_link_next(&v->link, &ev, (int)v->link.timeout_ms, "an ack", err));
		if (ev == RSP_EV_ACK) {
			break;
		}
		if (ev == RSP_EV_NAK) {
			LSEC_ENSURE(tries++ < RSP_RETRIES, LSEC_E_TGT_PROTOCOL,
				    "client refused a reply %u times", tries);
			LSEC_TRY(rsp_link_send_raw(&v->link, v->link.tx.data, v->link.tx.len,
						   "a reply", err));
		}
	}
out:
	return rc;
}

static int reply_str(srv *v, const char *s, lsec_err *err)
{
	int rc = 0;
	lsec_buf_reset(&v->reply);
	LSEC_TRY(lsec_buf_append_str(&v->reply, s, err));
out:
	return rc;
}

/* A memory packet's error: "E.CODE MESSAGE" to a client that takes text, else "ENN". */
static int reply_error(srv *v, int code, const lsec_err *e, lsec_err *err)
{
	int rc = 0;
	lsec_buf_reset(&v->reply);
	if (v->err_text) {
		LSEC_TRY(lsec_buf_printf(&v->reply, err, "E.%d %s", code, e->msg));
		goto out;
	}
	unsigned nn = code == LSEC_E_TGT_NOT_ATTACHED || code == LSEC_E_TGT_ATTACH_REFUSED ? 1u
		      : code == LSEC_E_TGT_RANGE					   ? 2u
		      : code == LSEC_E_TGT_POWER_LOSS					   ? 3u
											   : 4u;
	LSEC_TRY(lsec_buf_printf(&v->reply, err, "E%02x", nn));
out:
	return rc;
}

/* Makes what the session changed durable (see the file comment). */
static int commit_now(srv *v, lsec_err *err)
{
	int rc = 0;
	if (v->t->failed || v->t->ops->commit == NULL) {
		return 0;
	}
	rc = v->t->ops->commit(v->t, err);
	if (rc < 0) {
		v->t->failed = true;
		snprintf(v->t->fail_msg, sizeof(v->t->fail_msg), "%s", err->msg);
	}
	return rc;
}

/* ---- the `lsec` monitor commands ----------------------------------------- */

/* Decimal, or hex after 0x; at most max. */
static bool num(const char *s, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	if (s == NULL || s[0] < '0' || s[0] > '9') {
		return false;
	}
	errno = 0;
	unsigned long long v = strncmp(s, "0x", 2) == 0 ? strtoull(s + 2, &end, 16)
							: strtoull(s, &end, 10);
	if (errno != 0 || *end != 0 || v > max || (strncmp(s, "0x", 2) == 0 && s[2] == 0)) {
		return false;
	}
	*out = v;
	return true;
}

static int out_hex(srv *v, const uint8_t *p, size_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_buf_append_u8(&v->line, ' ', err));
	LSEC_TRY(rsp_hex_append(&v->line, p, n, err));
out:
	return rc;
}

/* Decodes a hex argument; into a secret when secret is set (the text is wiped by the caller). */
static int arg_hex(lsec_buf *out, const char *hex, lsec_err *err)
{
	return lsec_hex_decode(out, hex, strlen(hex), "monitor argument", err);
}

static int info_json(srv *v, lsec_err *err)
{
	int rc = 0;
	lsec_device_info in;
	char uid[2 * LSEC_DEVICE_UID_LEN + 1];
	char *text = NULL;
	json_t *fuses = json_array(), *j = NULL;
	LSEC_ENSURE(fuses != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_device_info_get(&in, v->t, err));
	lsec_hex_encode(uid, in.uid, sizeof(in.uid));
	for (size_t i = 0; i < LSEC_FUSE_COUNT; i++) {
		LSEC_TRY(lsec_json_append(fuses,
					  json_pack("[I,I,I]", (json_int_t)in.fuses[i].word,
						    (json_int_t)in.fuses[i].nwords,
						    (json_int_t)in.fuses[i].mask),
					  err));
	}
	j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:O}", "chip", in.chip_id, "uid", uid,
		      "flash_size", (json_int_t)in.flash_size, "page_size",
		      (json_int_t)in.page_size, "otp_words", (json_int_t)in.otp_words, "key_slots",
		      (json_int_t)in.key_slots, "caps", (json_int_t)in.caps, "fuses", fuses);
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory");
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	LSEC_ENSURE(text != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_buf_printf(&v->line, err, " %s", text));
out:
	free(text); /* allocated by jansson */
	json_decref(fuses);
	json_decref(j);
	return rc;
}

static int boot_json(lsec_buf *line, const lsec_device_boot_report *r, lsec_err *err)
{
	int rc = 0;
	char hex[2 * LSEC_DEVICE_DIGEST_LEN + 1];
	char *text = NULL;
	lsec_hex_encode(hex, r->digest, sizeof(r->digest));
	json_t *j = json_pack("{s:b,s:I,s:b,s:s,s:[IIII],s:s,s:b,s:b}", "booted", r->booted,
			      "boot_error", (json_int_t)r->boot_error, "measured", r->measured,
			      "digest", hex, "version", (json_int_t)r->ver_major,
			      (json_int_t)r->ver_minor, (json_int_t)r->ver_revision,
			      (json_int_t)r->ver_build, "build",
			      lsec_image_build_name((lsec_image_build)r->build_type), "secure_boot",
			      r->secure_boot, "uart_open", r->uart_open);
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory");
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	LSEC_ENSURE(text != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_buf_printf(line, err, " %s", text));
out:
	free(text); /* allocated by jansson */
	json_decref(j);
	return rc;
}

#define ARGC(n) LSEC_ENSURE(argc == (n), LSEC_E_USAGE, "monitor command '%s' takes %d argument(s)", cmd, (n) - 2)
#define NUM(var, i, max)                                                                   \
	LSEC_ENSURE(num(argv[i], (max), &(var)), LSEC_E_USAGE,                              \
		    "monitor command '%s': argument '%.40s' is not a number up to %llu", cmd,  \
		    argv[i], (unsigned long long)(max))

/* Runs one command (argv[0] "lsec" stripped: argv[0] is the verb); the result into v->line. */
static int monitor_run(srv *v, int argc, char **argv, lsec_err *err)
{
	int rc = 0;
	lsec_device *t = v->t;
	const char *cmd = argv[0];
	char two[48];
	uint64_t a = 0, b = 0;
	lsec_buf bin = LSEC_BUF_INIT(1u << 20), res = LSEC_BUF_INIT(1u << 20);
	lsec_secret *sec = NULL;
	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		cmd = two;
	}
	if (strcmp(argv[0], "info") == 0) {
		cmd = "info";
		LSEC_TRY(info_json(v, err));
	} else if (strcmp(argv[0], "probe-serial") == 0) {
		/* The probe's serial, as a probe's server reports its adapter's. */
		LSEC_ENSURE(v->o->probe_serial != NULL, LSEC_E_TGT_UNSUPPORTED,
			    "this server reports no probe serial");
		LSEC_TRY(lsec_buf_printf(&v->line, err, " %s", v->o->probe_serial));
	} else if (strcmp(argv[0], "attach") == 0) {
		LSEC_TRY(lsec_device_debug_attach(t, err));
	} else if (strcmp(argv[0], "lock-level") == 0) {
		unsigned lvl = 0;
		LSEC_TRY(lsec_device_debug_lock_level(&lvl, t, err));
		LSEC_TRY(lsec_buf_printf(&v->line, err, " %u", lvl));
	} else if (strcmp(argv[0], "commit") == 0) {
		/* commit_now runs after every command */
	} else if (strcmp(argv[0], "reset") == 0) {
		lsec_device_boot_report br;
		lsec_err berr = LSEC_ERR_INIT;
		int brc = lsec_device_reset(&br, t, &berr);
		if (brc == LSEC_E_TGT_BOOT_REFUSED) {
			/* The report is the refusal's message. */
			lsec_buf_reset(&v->line);
			LSEC_TRY(boot_json(&v->line, &br, err));
			LSEC_BAIL(LSEC_E_TGT_BOOT_REFUSED, "%s", (const char *)v->line.data + 1);
		}
		if (brc < 0) {
			*err = berr;
			LSEC_TRY(brc);
		}
		LSEC_TRY(boot_json(&v->line, &br, err));
	} else if (strcmp(cmd, "otp read") == 0) {
		uint32_t words[64];
		ARGC(4);
		NUM(a, 2, UINT32_MAX);
		NUM(b, 3, 64);
		LSEC_TRY(lsec_device_otp_read(words, t, (uint32_t)a, (uint32_t)b, err));
		for (uint64_t i = 0; i < b; i++) {
			LSEC_TRY(lsec_buf_printf(&v->line, err, " %08lx", (unsigned long)words[i]));
		}
	} else if (strcmp(cmd, "otp burn") == 0) {
		ARGC(4);
		NUM(a, 2, UINT32_MAX);
		NUM(b, 3, UINT32_MAX);
		LSEC_TRY(lsec_device_otp_burn(t, (uint32_t)a, (uint32_t)b, err));
	} else if (strcmp(cmd, "otp lock") == 0) {
		ARGC(3);
		NUM(a, 2, UINT32_MAX);
		LSEC_TRY(lsec_device_otp_lock(t, (uint32_t)a, err));
	} else if (strcmp(cmd, "otp locked") == 0) {
		bool locked = false;
		ARGC(3);
		NUM(a, 2, UINT32_MAX);
		LSEC_TRY(lsec_device_otp_locked(&locked, t, (uint32_t)a, err));
		LSEC_TRY(lsec_buf_printf(&v->line, err, " %d", locked ? 1 : 0));
	} else if (strcmp(cmd, "flash erase") == 0 || strcmp(cmd, "flash hash") == 0) {
		ARGC(4);
		NUM(a, 2, UINT32_MAX);
		NUM(b, 3, UINT32_MAX);
		if (strcmp(argv[1], "erase") == 0) {
			LSEC_TRY(lsec_device_flash_erase(t, (uint32_t)a, (uint32_t)b, err));
		} else {
			uint8_t h[32];
			LSEC_TRY(lsec_device_flash_hash(h, t, (uint32_t)a, (uint32_t)b, err));
			LSEC_TRY(out_hex(v, h, sizeof(h), err));
		}
	} else if (strcmp(cmd, "key generate") == 0) {
		ARGC(3);
		NUM(a, 2, 255);
		LSEC_TRY(lsec_device_key_generate(t, (unsigned)a, err));
	} else if (strcmp(cmd, "key inject") == 0) {
		ARGC(4);
		NUM(a, 2, 255);
		LSEC_TRY(arg_hex(&bin, argv[3], err));
		LSEC_TRY(lsec_secret_from(&sec, bin.data, bin.len, err));
		LSEC_TRY(lsec_device_key_inject(t, (unsigned)a, sec, err));
	} else if (strcmp(cmd, "key public") == 0 || strcmp(cmd, "cert read") == 0) {
		ARGC(3);
		NUM(a, 2, 255);
		if (argv[0][0] == 'k') {
			LSEC_TRY(lsec_device_key_public(&res, t, (unsigned)a, err));
		} else {
			LSEC_TRY(lsec_device_cert_read(&res, t, (unsigned)a, err));
		}
		LSEC_TRY(out_hex(v, res.data, res.len, err));
	} else if (strcmp(cmd, "key sign") == 0) {
		ARGC(4);
		NUM(a, 2, 255);
		LSEC_TRY(arg_hex(&bin, argv[3], err));
		LSEC_TRY(lsec_device_key_sign(&res, t, (unsigned)a, bin.data, bin.len, err));
		LSEC_TRY(out_hex(v, res.data, res.len, err));
	} else if (strcmp(cmd, "key status") == 0) {
		lsec_device_slot_status st;
		ARGC(3);
		NUM(a, 2, 255);
		LSEC_TRY(lsec_device_key_status(&st, t, (unsigned)a, err));
		LSEC_TRY(lsec_buf_printf(&v->line, err, " %d %d", (int)st.state, st.has_cert ? 1 : 0));
	} else if (strcmp(cmd, "cert store") == 0) {
		ARGC(4);
		NUM(a, 2, 255);
		LSEC_TRY(arg_hex(&bin, argv[3], err));
		LSEC_TRY(lsec_device_cert_store(t, (unsigned)a, bin.data, bin.len, err));
	} else if (strcmp(cmd, "credential store") == 0) {
		ARGC(3);
		LSEC_TRY(arg_hex(&bin, argv[2], err));
		LSEC_TRY(lsec_secret_from(&sec, bin.data, bin.len, err));
		LSEC_TRY(lsec_device_credential_store(t, sec, err));
	} else if (strcmp(cmd, "erase all") == 0) {
		ARGC(2);
		LSEC_TRY(lsec_device_erase_all(t, err));
	} else if (strcmp(cmd, "erase challenge") == 0) {
		uint8_t ch[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
		ARGC(2);
		LSEC_TRY(lsec_device_erase_challenge(ch, t, err));
		LSEC_TRY(out_hex(v, ch, sizeof(ch), err));
	} else if (strcmp(cmd, "erase auth") == 0) {
		ARGC(3);
		LSEC_TRY(arg_hex(&bin, argv[2], err));
		LSEC_TRY(lsec_device_erase_authenticated(t, bin.data, bin.len, err));
	} else {
		LSEC_BAIL(LSEC_E_USAGE, "unknown monitor command 'lsec %s' (expected info, attach, "
					"lock-level, otp, flash, key, cert, credential, erase, reset, "
					"commit)",
			  cmd);
	}
out:
	if (bin.data != NULL) {
		lsec_wipe(bin.data, bin.cap);
	}
	lsec_buf_release(&bin);
	lsec_buf_release(&res);
	lsec_secret_free(sec);
	return rc;
}

/*
 * A qRcmd payload (HEX after "qRcmd,"): decodes it, splits its words, runs
 * the `lsec` command and leaves its one output line ("ok ..." or "error
 * CODE MESSAGE", newline-terminated) in v->line; *valid false (nothing
 * run) when the payload is not hex, holds a NUL or is not an lsec command.
 */
static int monitor_line(srv *v, const char *hex, size_t len, bool *valid, lsec_err *err)
{
	int rc = 0;
	lsec_err merr = LSEC_ERR_INIT;
	char *argv[SRV_MAX_ARGS + 1];
	int argc = 0;
	char *text = lsec_malloc(len / 2 + 1);
	*valid = false;
	LSEC_ENSURE(text != NULL, LSEC_E_NOMEM, "out of memory");
	if (len % 2 != 0 || !rsp_hex_bytes((uint8_t *)text, len / 2, hex, len) ||
	    memchr(text, 0, len / 2) != NULL) {
		goto out;
	}
	text[len / 2] = 0;
	if (v->o->drop_on != NULL && strncmp(text, v->o->drop_on, strlen(v->o->drop_on)) == 0 &&
	    ++v->drop_seen == (v->o->drop_nth ? v->o->drop_nth : 1u)) {
		/* The link drops once, before the command runs (the server's drop-on option). */
		LSEC_BAIL(LSEC_E_TGT_LINK, "dropped the link at '%s' (drop-on)", v->o->drop_on);
	}
	char *save = NULL;
	for (char *w = strtok_r(text, " ", &save); w != NULL && argc <= SRV_MAX_ARGS;
	     w = strtok_r(NULL, " ", &save)) {
		argv[argc++] = w;
	}
	if (argc < 2 || argc > SRV_MAX_ARGS || strcmp(argv[0], "lsec") != 0) {
		goto out;
	}
	*valid = true;
	lsec_buf_reset(&v->line);
	LSEC_TRY(lsec_buf_append_str(&v->line, "ok", err));
	int mrc = monitor_run(v, argc - 1, argv + 1, &merr);
	/* A flash erase is a memory operation: it waits for the next commit point as writes do. */
	bool deferred = argc >= 3 && strcmp(argv[1], "flash") == 0 && strcmp(argv[2], "erase") == 0;
	if (mrc == 0 && !deferred) {
		mrc = commit_now(v, &merr);
	} else if (mrc < 0) {
		lsec_err quiet = LSEC_ERR_INIT;
		(void)commit_now(v, &quiet);
	}
	if (mrc < 0) {
		lsec_buf_reset(&v->line);
		LSEC_TRY(lsec_buf_printf(&v->line, err, "error %d %s", mrc, merr.msg));
	}
	LSEC_TRY(lsec_buf_append_u8(&v->line, '\n', err));
out:
	if (text != NULL) {
		lsec_wipe(text, len / 2 + 1);
	}
	lsec_free(text);
	return rc;
}

/* qRcmd,HEX: runs the command, answers O packets with its one line, then OK (E01 if malformed). */
static int handle_monitor(srv *v, const char *hex, size_t len, lsec_err *err)
{
	int rc = 0;
	bool valid = false;
	LSEC_TRY(monitor_line(v, hex, len, &valid, err));
	if (!valid) {
		LSEC_TRY(reply_str(v, "E01", err));
		goto out;
	}
	/* The line as O packets, then OK. */
	for (size_t at = 0; at < v->line.len; at += SRV_OUT_CHUNK) {
		size_t n = v->line.len - at < SRV_OUT_CHUNK ? v->line.len - at : SRV_OUT_CHUNK;
		lsec_buf_reset(&v->reply);
		LSEC_TRY(lsec_buf_append_u8(&v->reply, 'O', err));
		LSEC_TRY(rsp_hex_append(&v->reply, v->line.data + at, n, err));
		LSEC_TRY(send_packet(v, v->reply.data, v->reply.len, err));
	}
	LSEC_TRY(reply_str(v, "OK", err));
out:
	return rc;
}

int rsp_server__monitor(lsec_buf *out, lsec_device *t, const char *hex, size_t len,
			lsec_err *err)
{
	int rc = 0;
	bool valid = false;
	static const lsec_device_serve_options o = LSEC_DEVICE_SERVE_OPTIONS_INIT;
	srv *v = lsec_calloc(1, sizeof(*v));
	LSEC_ENSURE(v != NULL, LSEC_E_NOMEM, "out of memory");
	v->o = &o;
	v->t = t;
	v->link.fd = -1;
	lsec_buf_init(&v->reply, 2 * RSP_MAX_PACKET);
	lsec_buf_init(&v->line, 4 * RSP_MAX_PACKET);
	LSEC_TRY(monitor_line(v, hex, len, &valid, err));
	if (valid) {
		LSEC_TRY(lsec_buf_append(out, v->line.data, v->line.len, err));
	} else {
		LSEC_TRY(lsec_buf_append_str(out, "E01", err));
	}
out:
	if (v != NULL) {
		lsec_buf_release(&v->reply);
		lsec_buf_release(&v->line);
	}
	lsec_free(v);
	return rc;
}

/* ---- memory and registers ---------------------------------------------- */

/* "ADDR,LEN" then sep; p moves past sep. */
static bool addr_len(const char **p, const char *end, uint32_t *addr, uint32_t *len, char sep)
{
	if (!rsp_hex_u32(addr, p, end) || *p >= end || **p != ',') {
		return false;
	}
	(*p)++;
	if (!rsp_hex_u32(len, p, end)) {
		return false;
	}
	if (sep == 0) {
		return *p == end;
	}
	if (*p >= end || **p != sep) {
		return false;
	}
	(*p)++;
	return true;
}

static int mem_result(srv *v, int mrc, const lsec_err *merr, lsec_err *err)
{
	if (mrc < 0) {
		return reply_error(v, mrc, merr, err);
	}
	return reply_str(v, "OK", err);
}

static int handle_read(srv *v, const char *p, const char *end, lsec_err *err)
{
	int rc = 0;
	uint32_t addr = 0, len = 0;
	lsec_err merr = LSEC_ERR_INIT;
	uint8_t *buf = NULL;
	if (!addr_len(&p, end, &addr, &len, 0) || len > (RSP_MAX_PACKET - 4) / 2) {
		LSEC_TRY(reply_str(v, "E01", err));
		goto out;
	}
	buf = lsec_malloc(len ? len : 1);
	LSEC_ENSURE(buf != NULL, LSEC_E_NOMEM, "out of memory");
	int mrc = lsec_device_flash_read(buf, v->t, addr, len, &merr);
	if (mrc < 0) {
		LSEC_TRY(reply_error(v, mrc, &merr, err));
		goto out;
	}
	lsec_buf_reset(&v->reply);
	LSEC_TRY(rsp_hex_append(&v->reply, buf, len, err));
out:
	lsec_free(buf);
	return rc;
}

/* M (hex), X (binary) and vFlashWrite (binary, no length). */
static int handle_write(srv *v, char kind, const char *p, const char *end, lsec_err *err)
{
	int rc = 0;
	uint32_t addr = 0, len = 0;
	lsec_err merr = LSEC_ERR_INIT;
	uint8_t *buf = NULL;
	const uint8_t *data = NULL;
	bool ok = true;
	if (kind == 'F') {
		ok = rsp_hex_u32(&addr, &p, end) && p < end && *p++ == ':';
		len = (uint32_t)(end - p);
		data = (const uint8_t *)p;
	} else {
		ok = addr_len(&p, end, &addr, &len, ':');
		if (ok && kind == 'X') {
			ok = (size_t)(end - p) == len;
			data = (const uint8_t *)p;
		} else if (ok) {
			ok = (size_t)(end - p) == 2 * (size_t)len;
			buf = ok ? lsec_malloc(len ? len : 1) : NULL;
			ok = ok && buf != NULL && rsp_hex_bytes(buf, len, p, 2 * (size_t)len);
			data = buf;
		}
	}
	if (!ok) {
		LSEC_TRY(reply_str(v, "E01", err));
		goto out;
	}
	if (len == 0) {
		/* GDB's probe for X: a zero-length write does nothing. */
		LSEC_TRY(reply_str(v, "OK", err));
		goto out;
	}
	int mrc = lsec_device_flash_write(v->t, addr, data, len, &merr);
	LSEC_TRY(mem_result(v, mrc, &merr, err));
out:
	lsec_free(buf);
	return rc;
}

static int handle_xfer(srv *v, const char *p, const char *end, lsec_err *err)
{
	int rc = 0;
	uint32_t off = 0, len = 0;
	static const char prefix[] = "qXfer:features:read:target.xml:";
	if ((size_t)(end - p) < sizeof(prefix) - 1 || memcmp(p, prefix, sizeof(prefix) - 1) != 0) {
		LSEC_TRY(reply_str(v, "", err)); /* no other object */
		goto out;
	}
	p += sizeof(prefix) - 1;
	if (!addr_len(&p, end, &off, &len, 0)) {
		LSEC_TRY(reply_str(v, "E00", err));
		goto out;
	}
	size_t total = sizeof(target_xml) - 1;
	size_t at = off < total ? off : total;
	size_t n = total - at < len ? total - at : len;
	if (n > RSP_SERVER_PACKET_SIZE / 2) {
		n = RSP_SERVER_PACKET_SIZE / 2;
	}
	lsec_buf_reset(&v->reply);
	LSEC_TRY(lsec_buf_append_u8(&v->reply, at + n < total ? 'm' : 'l', err));
	LSEC_TRY(lsec_buf_append(&v->reply, target_xml + at, n, err));
out:
	return rc;
}

static int handle_regs(srv *v, char kind, const char *p, const char *end, lsec_err *err)
{
	int rc = 0;
	uint32_t n = 0, val = 0;
	uint8_t le[4];
	if (kind == 'g') {
		lsec_buf_reset(&v->reply);
		for (unsigned i = 0; i < SRV_NREGS; i++) {
			lsec_put_u32le(le, v->regs[i]);
			LSEC_TRY(rsp_hex_append(&v->reply, le, 4, err));
		}
		goto out;
	}
	if (!rsp_hex_u32(&n, &p, end) || n >= SRV_NREGS) {
		LSEC_TRY(reply_str(v, "E00", err));
		goto out;
	}
	if (kind == 'p') {
		lsec_put_u32le(le, v->regs[n]);
		lsec_buf_reset(&v->reply);
		LSEC_TRY(rsp_hex_append(&v->reply, le, 4, err));
		goto out;
	}
	if (p >= end || *p++ != '=' || end - p != 8 || !rsp_hex_bytes(le, 4, p, 8)) {
		LSEC_TRY(reply_str(v, "E00", err));
		goto out;
	}
	(void)val;
	v->regs[n] = lsec_get_u32le(le);
	LSEC_TRY(reply_str(v, "OK", err));
out:
	return rc;
}

static bool starts(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* One request; the reply into v->reply (send says whether to send it). */
static int handle(srv *v, bool *send, lsec_err *err)
{
	int rc = 0;
	const char *p = (const char *)v->pkt, *end = p + v->pkt_len;
	*send = true;
	if (v->pkt_len == 0) {
		LSEC_TRY(reply_str(v, "", err));
		goto out;
	}
	switch (p[0]) {
	case '?':
		LSEC_TRY(reply_str(v, "S05", err));
		goto out;
	case 'g':
	case 'p':
	case 'P':
		LSEC_TRY(handle_regs(v, p[0], p + 1, end, err));
		goto out;
	case 'G':
	case 'H':
		LSEC_TRY(reply_str(v, "OK", err));
		goto out;
	case 'm':
		LSEC_TRY(handle_read(v, p + 1, end, err));
		goto out;
	case 'M':
		LSEC_TRY(handle_write(v, 'M', p + 1, end, err));
		goto out;
	case 'X':
		if (v->o->no_binary) {
			LSEC_TRY(reply_str(v, "", err));
		} else {
			LSEC_TRY(handle_write(v, 'X', p + 1, end, err));
		}
		goto out;
	case 'c':
		v->running = true;
		*send = false;
		goto out;
	case 's':
		LSEC_TRY(reply_str(v, "S05", err));
		goto out;
	case 'D':
		v->detached = true;
		LSEC_TRY(reply_str(v, "OK", err));
		goto out;
	case 'k':
		v->killed = true;
		*send = false;
		goto out;
	default:
		break;
	}
	if (starts(p, end, "qSupported")) {
		v->err_text = strstr((const char *)v->pkt, "error-message+") != NULL;
		LSEC_TRY(reply_str(v, "PacketSize=4000;QStartNoAckMode+;qXfer:features:read+", err));
	} else if (starts(p, end, "QStartNoAckMode")) {
		LSEC_TRY(send_packet(v, (const uint8_t *)"OK", 2, err));
		v->link.ack = false;
		*send = false;
	} else if (starts(p, end, "qRcmd,")) {
		LSEC_TRY(handle_monitor(v, p + 6, (size_t)(end - p - 6), err));
	} else if (starts(p, end, "qXfer:")) {
		LSEC_TRY(handle_xfer(v, p, end, err));
	} else if (starts(p, end, "qAttached")) {
		LSEC_TRY(reply_str(v, "1", err));
	} else if (starts(p, end, "qC")) {
		LSEC_TRY(reply_str(v, "QC1", err));
	} else if (starts(p, end, "qfThreadInfo")) {
		LSEC_TRY(reply_str(v, "m1", err));
	} else if (starts(p, end, "qsThreadInfo")) {
		LSEC_TRY(reply_str(v, "l", err));
	} else if (!v->o->no_vflash && starts(p, end, "vFlashErase:")) {
		uint32_t addr = 0, len = 0;
		const char *q = p + 12;
		lsec_err merr = LSEC_ERR_INIT;
		if (!addr_len(&q, end, &addr, &len, 0)) {
			LSEC_TRY(reply_str(v, "E01", err));
		} else {
			int mrc = lsec_device_flash_erase(v->t, addr, len, &merr);
			LSEC_TRY(mem_result(v, mrc, &merr, err));
		}
	} else if (!v->o->no_vflash && starts(p, end, "vFlashWrite:")) {
		LSEC_TRY(handle_write(v, 'F', p + 12, end, err));
	} else if (!v->o->no_vflash && starts(p, end, "vFlashDone")) {
		LSEC_TRY(reply_str(v, "OK", err));
	} else {
		LSEC_TRY(reply_str(v, "", err)); /* not supported: the empty reply */
	}
out:
	return rc;
}

/* ---- connections ---------------------------------------------------------- */

static int serve_connection(srv *v, int fd, const char *unit, lsec_err *err)
{
	int rc = 0;
	rsp_link_init(&v->link, fd, 5000, "client");
	v->running = v->err_text = v->detached = false;
	memset(v->regs, 0, sizeof(v->regs));
	LSEC_TRY(lsec_device_open(&v->t, unit, err));
	v->t->hold = 1; /* writes wait for the next commit point (file comment) */
	while (!v->killed && !v->detached && (v->o->stop == NULL || *v->o->stop == 0)) {
		rsp_event_kind ev;
		lsec_err lerr = LSEC_ERR_INIT;
		int r = rsp_link_next(&v->link, &ev, SRV_POLL_MS, "a request", &lerr);
		if (r == LSEC_E_TGT_TIMEOUT) {
			continue;
		}
		if (r < 0) {
			break; /* the client went away */
		}
		if (ev == RSP_EV_ERROR && v->link.ack) {
			LSEC_TRY(rsp_link_send_raw(&v->link, "-", 1, "a nak", err));
		} else if (ev == RSP_EV_INTERRUPT && v->running) {
			v->running = false;
			LSEC_TRY(send_packet(v, (const uint8_t *)"T02thread:01;", 13, err));
		} else if (ev == RSP_EV_PACKET) {
			bool send = true;
			if (v->link.ack) {
				LSEC_TRY(rsp_link_send_raw(&v->link, "+", 1, "an ack", err));
			}
			memcpy(v->pkt, v->link.dec.buf, v->link.dec.len);
			v->pkt_len = v->link.dec.len;
			v->pkt[v->pkt_len] = 0;
			/* The request may carry a key or a credential: one copy, wiped below. */
			lsec_wipe(v->link.dec.buf, v->link.dec.len);
			LSEC_TRY(handle(v, &send, err));
			lsec_wipe(v->pkt, v->pkt_len);
			if (send) {
				LSEC_TRY(send_packet(v, v->reply.data, v->reply.len, err));
			}
			lsec_wipe(v->reply.data, v->reply.len);
		}
	}
out:
	if (v->t != NULL) {
		lsec_err quiet = LSEC_ERR_INIT;
		v->t->hold = 0;
		(void)commit_now(v, &quiet);
		lsec_device_close(v->t);
		v->t = NULL;
	}
	rsp_link_close(&v->link);
	return rc;
}

static int listen_on(int *out, unsigned *port, const char *listen_addr, lsec_err *err)
{
	int rc = 0, fd = -1;
	char *copy = lsec_strdup(listen_addr);
	struct addrinfo *ai = NULL;
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	char *colon = strrchr(copy, ':');
	LSEC_ENSURE(colon != NULL && colon != copy && colon[1] != 0, LSEC_E_USAGE,
		    "invalid listen address '%s': expected HOST:PORT (127.0.0.1:0)", listen_addr);
	*colon = 0;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	int gai = getaddrinfo(copy, colon + 1, &hints, &ai);
	LSEC_ENSURE(gai == 0, LSEC_E_USAGE, "invalid listen address '%s': %s", listen_addr,
		    gai_strerror(gai));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	LSEC_ENSURE(fd >= 0, LSEC_E_TGT_LINK, "cannot listen on '%s': %s", listen_addr,
		    strerror(errno));
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	LSEC_ENSURE(bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0,
		    LSEC_E_TGT_LINK, "cannot listen on '%s': %s", listen_addr, strerror(errno));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	LSEC_ENSURE(getsockname(fd, (struct sockaddr *)&ss, &sl) == 0, LSEC_E_TGT_LINK,
		    "cannot listen on '%s': %s", listen_addr, strerror(errno));
	char serv[16];
	LSEC_ENSURE(getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv, sizeof(serv),
				NI_NUMERICSERV) == 0,
		    LSEC_E_TGT_LINK, "cannot listen on '%s': no port", listen_addr);
	*port = (unsigned)strtoul(serv, NULL, 10);
	*out = fd;
	fd = -1;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (ai != NULL) {
		freeaddrinfo(ai);
	}
	lsec_free(copy);
	return rc;
}

int lsec_device_sim_serve(const char *unit, const lsec_device_serve_options *opts,
			  lsec_err *err)
{
	int rc = 0, lfd = -1;
	unsigned port = 0;
	srv *v = NULL;
	LSEC_ENSURE_REF(unit);
	LSEC_ENSURE_REF(opts);
	LSEC_ENSURE(opts->version == LSEC_DEVICE_SERVE_OPTIONS_VERSION && opts->listen != NULL,
		    LSEC_E_USAGE, "lsec_device_sim_serve: bad options (version or listen)");
	v = lsec_calloc(1, sizeof(*v));
	LSEC_ENSURE(v != NULL, LSEC_E_NOMEM, "out of memory");
	v->o = opts;
	lsec_buf_init(&v->reply, 2 * RSP_MAX_PACKET);
	lsec_buf_init(&v->line, 4 * RSP_MAX_PACKET);
	/* The unit must open before anyone is told the server is ready. */
	LSEC_TRY(lsec_device_open(&v->t, unit, err));
	lsec_device_close(v->t);
	v->t = NULL;
	LSEC_TRY(listen_on(&lfd, &port, opts->listen, err));
	if (opts->ready != NULL) {
		opts->ready(opts->arg, port);
	}
	while (!v->killed && (opts->stop == NULL || *opts->stop == 0)) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		int pr = poll(&pfd, 1, SRV_POLL_MS);
		if (pr <= 0) {
			continue;
		}
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			continue;
		}
		v->detached = false;
		int crc = serve_connection(v, cfd, unit, err);
		/* A client that goes away or garbles the link ends its connection, not the server. */
		if (crc == LSEC_E_TGT_LINK || crc == LSEC_E_TGT_TIMEOUT || crc == LSEC_E_TGT_PROTOCOL) {
			lsec_err_clear(err);
			continue;
		}
		LSEC_TRY(crc);
	}
out:
	if (lfd >= 0) {
		close(lfd);
	}
	if (v != NULL) {
		lsec_buf_release(&v->reply);
		if (v->line.data != NULL) {
			lsec_wipe(v->line.data, v->line.cap);
		}
		lsec_buf_release(&v->line);
		lsec_wipe(v->pkt, sizeof(v->pkt));
	}
	lsec_free(v);
	return rc;
}
