/*
 * serve.c - `linesec serve`: the web console over libmicrohttpd, and the
 * dispatch of a request to its route. One polling thread serves every
 * request in turn over the one line handle. Each route names the roles it
 * needs; dispatch calls lsec_line_authorize for the session's person on
 * every request (who may act, the session's expiry and idle timeout are
 * the line module's rules, never this file's) and checks the CSRF token
 * of every POST before the route's function runs.
 */
#include "web_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Connections one client address may hold open (of 64 in all). */
#define PER_IP_CONNECTIONS 16

/* One request's state between libmicrohttpd's calls: the body so far. */
typedef struct web_request {
	char body[LSEC_WEB_BODY_MAX];
	size_t len;
	bool too_big;
} web_request;

/* Every page file's routes. */
static const lsec_web__routes *const tables[] = {
    &lsec_web__session_routes,
    &lsec_web__dashboard_routes,
    &lsec_web__releases_routes,
    &lsec_web__people_routes,
    &lsec_web__units_routes,
    &lsec_web__scrap_routes,
    &lsec_web__live_routes,
    &lsec_web__sops_routes,
    &lsec_web__ack_routes,
    &lsec_web__sopctl_routes,
};

/* The route of method and url: an exact path, or the longest prefix route
 * ("/units/") the url starts with. */
static const lsec_web__route *route_find(const char *method, const char *url, const char **tail)
{
	const lsec_web__route *best = NULL;
	size_t best_len = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < tables[t]->n; i++) {
			const lsec_web__route *rt = &tables[t]->route[i];
			size_t len = strlen(rt->path);
			bool prefix = len > 1 && rt->path[len - 1] == '/';
			bool match = prefix ? strncmp(rt->path, url, len) == 0 && url[len] != '\0'
					    : strcmp(rt->path, url) == 0; /* lint:ok */
			if (match && strcmp(rt->method, method) == 0 && /* lint:ok */
			    (best == NULL || len > best_len)) {
				best = rt;
				best_len = len;
				*tail = prefix ? url + len : "";
			}
		}
	}
	return best;
}

const char *lsec_web__query(const lsec_web__request *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * The request's route: session, role and CSRF checked before its function
 * runs. r is the request dispatch set up; its parsed form is wiped there.
 */
static enum MHD_Result route(lsec_web__request *r, struct MHD_Connection *c, const char *method,
			     const char *url, const web_request *req)
{
	lsec_err err = LSEC_ERR_INIT;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/style.css") == 0) { /* lint:ok */
		return lsec_web__send_buf(c, 200, "text/css; charset=utf-8", lsec_web__style_css,
					  strlen(lsec_web__style_css), NULL, NULL);
	}
	const lsec_web__route *rt = route_find(method, url, &r->tail);
	if (rt == NULL) {
		return lsec_web__send_message(c, 404, "Not found", "there is no such page");
	}
	const char *cookie_header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	if (cookie_header != NULL &&
	    lsec_web_cookie_parse(&r->cookies, cookie_header, strlen(cookie_header), &err) < 0) {
		return lsec_web__send_message(c, 400, "Bad request", err.msg);
	}
	if (strcmp(method, "POST") == 0) { /* lint:ok */
		const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		if (type == NULL || strncmp(type, "application/x-www-form-urlencoded",
					    strlen("application/x-www-form-urlencoded")) != 0) {
			return lsec_web__send_message(c, 415, "Bad request",
					    "a form is sent as application/x-www-form-urlencoded");
		}
		if (lsec_web_form_parse(&r->form, req->body, req->len, &err) < 0) {
			return lsec_web__send_message(c, 400, "Bad request", err.msg);
		}
	}
	if (rt->roles != 0) {
		r->session = lsec_web__session_find(r->srv, &r->cookies);
		if (r->session == NULL) {
			return lsec_web__send_message(c, 401, "Log in first",
					    "this page needs a session: log in");
		}
		/* The line decides: session expiry, idle time, person enabled, role. */
		int got = lsec_line_authorize(&r->who, r->srv->line, r->session->name, rt->roles,
					      rt->action, &err);
		/* The web session is the station session its login opened, not any of
		 * its person's: a later login at the station (or elsewhere) ends it. */
		if (r->who.session_seq != 0 && r->who.session_seq != r->session->session_seq) {
			lsec_web__session_drop(r->session);
			return lsec_web__send_message(
			    c, 403, "Refused",
			    "the station session this web login opened has ended (its person logged "
			    "in again since): log in again");
		}
		if (got < 0) {
			/* session_seq 0: no live session (ended, expired, idle, disabled); else
			 * the role alone was refused and the session stands. */
			if (err.code == LSEC_E_AUTH && r->who.session_seq == 0) {
				lsec_web__session_drop(r->session);
			}
			return lsec_web__send_message(c, err.code == LSEC_E_AUTH ? 403 : 500, "Refused",
					    err.msg);
		}
		r->session->last = (int64_t)time(NULL);
		if (strcmp(method, "POST") == 0 && /* lint:ok */
		    !lsec_web_token_equal(r->session->csrf, lsec_web_field_get(&r->form, "csrf"))) {
			return lsec_web__send_message(
			    c, 403, "Refused",
			    "the form's CSRF token is missing or wrong: reload the page");
		}
	}
	return rt->fn(r);
}

/* Every return of route passes here: the parsed form (passwords too) is wiped. */
static enum MHD_Result dispatch(lsec_web__server *srv, struct MHD_Connection *c,
				const char *method, const char *url, const web_request *req)
{
	lsec_web__request r;
	enum MHD_Result ret;
	memset(&r, 0, sizeof(r));
	r.srv = srv;
	r.c = c;
	r.method = method;
	ret = route(&r, c, method, url, req);
	lsec_wipe(&r, sizeof(r));
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *size, void **con_cls)
{
	(void)version;
	lsec_web__server *srv = cls;
	web_request *req = *con_cls;
	if (req == NULL) {
		req = lsec_calloc(1, sizeof(*req));
		if (req == NULL) {
			return MHD_NO;
		}
		*con_cls = req;
		return MHD_YES;
	}
	if (*size != 0) {
		if (req->too_big || *size > sizeof(req->body) - req->len) {
			req->too_big = true;
		} else {
			memcpy(req->body + req->len, data, *size);
			req->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (req->too_big) {
		char msg[96];
		snprintf(msg, sizeof(msg), "a request body is at most %d bytes", LSEC_WEB_BODY_MAX);
		return lsec_web__send_message(c, 413, "Too large", msg);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) { /* lint:ok */
		return lsec_web__send_message(c, 405, "Not allowed", "only GET and POST are served");
	}
	return dispatch(srv, c, method, url, req);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (*con_cls != NULL) {
		lsec_wipe(*con_cls, sizeof(web_request));
		lsec_free(*con_cls);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own messages (TLS handshakes, sockets), marked as the server's. */
LSEC_PRINTF(2, 0) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("linesec serve: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static int parse_listen(struct sockaddr_in *sa, const char *listen, lsec_err *err)
{
	int rc = 0;
	char host[64];
	memset(sa, 0, sizeof(*sa));
	const char *colon = strrchr(listen, ':');
	LSEC_ENSURE(colon != NULL && (size_t)(colon - listen) < sizeof(host), LSEC_E_USAGE,
		    "--listen '%s': expected HOST:PORT (an IPv4 address)", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	char *end = NULL;
	unsigned long port = strtoul(colon + 1, &end, 10);
	LSEC_ENSURE(colon[1] != '\0' && *end == '\0' && port <= 65535, LSEC_E_USAGE,
		    "--listen '%s': the port must be a number from 0 to 65535", listen);
	LSEC_ENSURE(inet_pton(AF_INET, host, &sa->sin_addr) == 1, LSEC_E_USAGE,
		    "--listen '%s': '%s' is not an IPv4 address", listen, host);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
out:
	return rc;
}

/* --public-url: http(s)://, printable, no space or quote; a trailing '/' dropped. */
static int parse_public_url(char *out, const char *u, lsec_err *err)
{
	int rc = 0;
	size_t len = strlen(u);
	LSEC_ENSURE(strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0,
		    LSEC_E_USAGE, "--public-url '%s': expected http://HOST[:PORT] or https://...",
		    u);
	size_t scheme = u[4] == 's' ? 8 : 7;
	LSEC_ENSURE(u[scheme] != '\0' && u[scheme] != '/', LSEC_E_USAGE,
		    "--public-url '%s': the host is missing", u);
	LSEC_ENSURE(len <= LSEC_WEB_URL_MAX, LSEC_E_USAGE,
		    "--public-url: at most %d characters, not %zu", LSEC_WEB_URL_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)u[i];
		LSEC_ENSURE(ch > 0x20 && ch < 0x7f && strchr("\"'<>\\`", ch) == NULL,
			    LSEC_E_USAGE,
			    "--public-url '%s': character %zu is a space, a quote or not printable "
			    "ASCII",
			    u, i + 1);
	}
	while (len > 0 && u[len - 1] == '/') {
		len--;
	}
	memcpy(out, u, len);
	out[len] = '\0';
out:
	return rc;
}

int lsec_web_serve(lsec_line *line, const lsec_web_options *opts, lsec_err *err)
{
	int rc = 0;
	struct MHD_Daemon *d = NULL;
	lsec_web__server *srv = NULL;
	struct sockaddr_in sa;
	lsec_buf cert = LSEC_BUF_INIT(1 << 20), key = LSEC_BUF_INIT(1 << 20);
	sigset_t stop, old;
	bool masked = false;
	const char *listen = opts && opts->listen ? opts->listen : "127.0.0.1:8080";
	LSEC_ENSURE_REF(line);
	LSEC_TRY(parse_listen(&sa, listen, err));
	bool tls = opts && (opts->tls_cert || opts->tls_key);
	LSEC_ENSURE(!tls || (opts->tls_cert && opts->tls_key), LSEC_E_USAGE,
		    "--tls-cert and --tls-key go together");
	if (tls) {
		LSEC_TRY(lsec_file_read(&cert, opts->tls_cert, err));
		LSEC_TRY(lsec_file_read(&key, opts->tls_key, err));
		LSEC_TRY(lsec_buf_append(&cert, "", 1, err)); /* NUL-terminated PEM */
		LSEC_TRY(lsec_buf_append(&key, "", 1, err));
	}
	srv = lsec_calloc(1, sizeof(*srv));
	LSEC_ENSURE(srv != NULL, LSEC_E_NOMEM, "out of memory");
	srv->line = line;
	srv->tls = tls;
	if (opts && opts->public_url) {
		LSEC_TRY(parse_public_url(srv->base_url, opts->public_url, err));
	}
	/* SIGINT and SIGTERM are waited for here, never delivered to the server's
	 * thread. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	LSEC_ENSURE(pthread_sigmask(SIG_BLOCK, &stop, &old) == 0, LSEC_E_IO,
		    "cannot block signals");
	masked = true;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (tls) {
		d = MHD_start_daemon(
		    flags | MHD_USE_TLS, 0, NULL, NULL, handler, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		    NULL, MHD_OPTION_SOCK_ADDR,
		    (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)(64 * 1024), MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_CONNECTIONS,
		    MHD_OPTION_HTTPS_MEM_CERT, (const char *)cert.data, MHD_OPTION_HTTPS_MEM_KEY,
		    (const char *)key.data, MHD_OPTION_END);
	} else {
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, srv, MHD_OPTION_EXTERNAL_LOGGER,
				     mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
				     NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_CONNECTIONS, MHD_OPTION_END);
	}
	LSEC_ENSURE(d != NULL, LSEC_E_IO,
		    "cannot serve on %s: the address is taken or not this machine's%s", listen,
		    tls ? ", or the TLS certificate or key is not valid PEM" : "");
	{
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		char host[INET_ADDRSTRLEN], bound[96];
		inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
		snprintf(bound, sizeof(bound), "%s://%s:%u", tls ? "https" : "http", host,
			 info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port));
		if (srv->base_url[0] == '\0') {
			snprintf(srv->base_url, sizeof(srv->base_url), "%s", bound);
		}
		if (opts && opts->on_listen) {
			opts->on_listen(opts->ctx, bound);
		}
	}
	int sig = 0;
	sigwait(&stop, &sig);
out:
	if (d != NULL) {
		MHD_stop_daemon(d);
	}
	if (masked) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (srv != NULL) {
		lsec_wipe(srv, sizeof(*srv));
		lsec_free(srv);
	}
	lsec_buf_release(&key);
	lsec_buf_release(&cert);
	return rc;
}
