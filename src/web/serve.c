/*
 * serve.c - `linesec serve`: the web console over libmicrohttpd. One
 * polling thread serves every request in turn over the one line handle.
 * Each route names the roles it needs and calls lsec_line_authorize for
 * the session's person on every request: who may act, the session's
 * expiry and idle timeout are the line module's rules, never this file's.
 * A web session maps a random cookie id to the person whose station
 * session lsec_line_login opened, with a CSRF token every form carries.
 */
#include "linesec/web.h"

#include "linesec/audit.h"
#include "linesec/line.h"
#include "linesec/store.h"

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

#define SESSIONS_MAX   64
#define COOKIE_SESSION "lsec_session"
#define COOKIE_LOGIN   "lsec_login"
#define PAGE_MAX       (1u << 20)

typedef struct web_session {
	char id[LSEC_WEB_TOKEN_HEX + 1];
	char csrf[LSEC_WEB_TOKEN_HEX + 1];
	char name[LSEC_STORE_NAME_MAX + 1];
	int64_t last;
} web_session;

typedef struct web_server {
	lsec_line *line;
	bool tls;
	web_session sessions[SESSIONS_MAX];
} web_server;

/* One request's state between libmicrohttpd's calls: the body so far. */
typedef struct web_request {
	char body[LSEC_WEB_BODY_MAX];
	size_t len;
	bool too_big;
} web_request;

/* ---- pages
 * ------------------------------------------------------------------------- */

typedef struct page {
	lsec_buf b;
	bool failed;
} page;

/* Markup of this file, never a value. */
static void raw(page *p, const char *s)
{
	lsec_err e = LSEC_ERR_INIT;
	if (!p->failed && lsec_buf_append(&p->b, s, strlen(s), &e) < 0) {
		p->failed = true;
	}
}

/* Every value that reaches a page goes through here (lsec_web_escape). */
static void text(page *p, const char *s)
{
	size_t cap = 6 * strlen(s ? s : "") + 1;
	char *out = lsec_malloc(cap);
	if (out == NULL || !lsec_web_escape(out, cap, s)) {
		p->failed = true;
	} else {
		raw(p, out);
	}
	lsec_free(out);
}

/* text() of a formatted value. */
LSEC_PRINTF(2, 3) static void textf(page *p, const char *fmt, ...)
{
	char v[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	text(p, v);
}

static void head(page *p, const char *title)
{
	raw(p, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	       "<link rel=\"stylesheet\" href=\"/style.css\"><title>");
	text(p, title);
	raw(p, " - "
	       "linesec</title></head><body><header><h1>linesec</h1></header><main>\n");
}

static void foot(page *p)
{
	raw(p, "</main></body></html>\n");
}

static void csrf_field(page *p, const char *token)
{
	raw(p, "<input type=\"hidden\" name=\"csrf\" value=\"");
	text(p, token);
	raw(p, "\">");
}

static const char style_css[] =
    "body{font-family:sans-serif;margin:0;color:#222;background:#fafafa}"
    "header{background:#1f3a5f;color:#fff;padding:.5em 1em}header "
    "h1{margin:0;font-size:1.3em}"
    "main{padding:1em;max-width:60em}table{border-collapse:collapse;margin:."
    "5em 0}"
    "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}"
    ".bad{color:#a00;font-weight:bold}.ok{color:#060;font-weight:bold}"
    "form.inline{display:inline}label{display:block;margin:.4em 0}"
    "@media print{form{display:none}}";

/* ---- responses
 * --------------------------------------------------------------------- */

static void security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; img-src 'self'; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				const void *data, size_t len, const char *location,
				const char *const *cookies)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (r == NULL) {
		return MHD_NO;
	}
	security_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	if (location != NULL) {
		MHD_add_response_header(r, "Location", location);
	}
	for (size_t i = 0; cookies != NULL && cookies[i] != NULL; i++) {
		MHD_add_response_header(r, "Set-Cookie", cookies[i]);
	}
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_page(struct MHD_Connection *c, unsigned status, page *p,
				 const char *const *cookies)
{
	if (p->failed) {
		static const char oops[] = "the page could not be built\n";
		return send_buf(c, 500, "text/plain; charset=utf-8", oops, sizeof(oops) - 1, NULL,
				NULL);
	}
	return send_buf(c, status, "text/html; charset=utf-8", p->b.data, p->b.len, NULL, cookies);
}

/* A page saying why, with a way on. */
static enum MHD_Result send_message(struct MHD_Connection *c, unsigned status, const char *title,
				    const char *msg)
{
	page p = {LSEC_BUF_INIT(PAGE_MAX), false};
	head(&p, title);
	raw(&p, "<h2>");
	text(&p, title);
	raw(&p, "</h2><p class=\"bad\">");
	text(&p, msg);
	raw(&p, "</p><p><a href=\"/login\">Log in</a> · <a href=\"/\">Dashboard</a></p>");
	foot(&p);
	enum MHD_Result r = send_page(c, status, &p, NULL);
	lsec_buf_release(&p.b);
	return r;
}

/* Set-Cookie text of name=value: HttpOnly, SameSite=Strict, Secure under TLS. */
static void cookie(char *out, size_t cap, const web_server *srv, const char *name,
		   const char *value, bool clear)
{
	snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name, value,
		 srv->tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

/* ---- sessions
 * ---------------------------------------------------------------------- */

static void session_drop(web_session *s)
{
	lsec_wipe(s, sizeof(*s));
}

/* The web session the request's cookie names, or NULL (an unknown or idle one
 * is dropped). */
static web_session *session_find(web_server *srv, const lsec_web_fields *cookies)
{
	const char *id = lsec_web_field_get(cookies, COOKIE_SESSION);
	int64_t now = (int64_t)time(NULL);
	int64_t idle = (int64_t)lsec_line_session_idle_seconds(srv->line);
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		web_session *s = &srv->sessions[i];
		if (s->id[0] == '\0') {
			continue;
		}
		if (now - s->last >= idle) {
			session_drop(s);
			continue;
		}
		if (lsec_web_token_equal(s->id, id)) {
			return s;
		}
	}
	return NULL;
}

static int session_new(web_session **out, web_server *srv, const char *name, lsec_err *err)
{
	int rc = 0;
	web_session *s = NULL, *oldest = &srv->sessions[0];
	*out = NULL;
	for (size_t i = 0; i < SESSIONS_MAX && s == NULL; i++) {
		if (srv->sessions[i].id[0] == '\0') {
			s = &srv->sessions[i];
		} else if (srv->sessions[i].last < oldest->last) {
			oldest = &srv->sessions[i];
		}
	}
	s = s ? s : oldest; /* full: the least recently used session ends */
	session_drop(s);
	LSEC_TRY(lsec_web_token_new(s->id, err));
	LSEC_TRY(lsec_web_token_new(s->csrf, err));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->last = (int64_t)time(NULL);
	*out = s;
out:
	if (rc < 0) {
		session_drop(s);
	}
	return rc;
}

/* ---- routes
 * ------------------------------------------------------------------------ */

typedef struct route_ctx {
	web_server *srv;
	struct MHD_Connection *c;
	lsec_web_fields cookies;
	lsec_web_fields form; /* POST only */
	web_session *session; /* NULL when none */
	lsec_line_actor who;  /* with a session: lsec_line_authorize's answer */
} route_ctx;

static enum MHD_Result login_page(route_ctx *r, unsigned status, const char *msg)
{
	char token[LSEC_WEB_TOKEN_HEX + 1], set[256];
	lsec_err err = LSEC_ERR_INIT;
	if (lsec_web_token_new(token, &err) < 0) {
		return send_message(r->c, 500, "Error", err.msg);
	}
	cookie(set, sizeof(set), r->srv, COOKIE_LOGIN, token, false);
	const char *cookies[] = {set, NULL};
	page p = {LSEC_BUF_INIT(PAGE_MAX), false};
	head(&p, "Log in");
	raw(&p, "<h2>Log in</h2>");
	if (msg != NULL) {
		raw(&p, "<p class=\"bad\">");
		text(&p, msg);
		raw(&p, "</p>");
	}
	raw(&p, "<form method=\"post\" action=\"/login\">");
	csrf_field(&p, token);
	raw(&p, "<label>Name <input name=\"name\" autocomplete=\"username\" "
		"required></label>"
		"<label>Password <input name=\"password\" type=\"password\" "
		"autocomplete=\"current-password\" required></label>"
		"<button type=\"submit\">Log in</button></form>");
	foot(&p);
	enum MHD_Result ret = send_page(r->c, status, &p, cookies);
	lsec_buf_release(&p.b);
	return ret;
}

static enum MHD_Result login_post(route_ctx *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = NULL;
	web_session *s = NULL;
	enum MHD_Result ret;
	/* The login form's token is the one its page set in the login cookie. */
	if (!lsec_web_token_equal(lsec_web_field_get(&r->cookies, COOKIE_LOGIN),
				  lsec_web_field_get(&r->form, "csrf"))) {
		return send_message(r->c, 403, "Refused",
				    "the form's CSRF token is missing or wrong: reload the page");
	}
	const char *name = lsec_web_field_get(&r->form, "name");
	const char *password = lsec_web_field_get(&r->form, "password");
	if (name == NULL || password == NULL || password[0] == '\0') {
		return login_page(r, 400, "give a name and a password");
	}
	if (lsec_secret_from(&pw, password, strlen(password), &err) < 0 ||
	    lsec_line_login(r->srv->line, name, pw, &err) < 0 ||
	    session_new(&s, r->srv, name, &err) < 0) {
		ret = login_page(r, err.code == LSEC_E_AUTH ? 403 : 400, err.msg);
		goto out;
	}
	char set[256], clear[256];
	cookie(set, sizeof(set), r->srv, COOKIE_SESSION, s->id, false);
	cookie(clear, sizeof(clear), r->srv, COOKIE_LOGIN, "", true);
	const char *cookies[] = {set, clear, NULL};
	static const char moved[] = "logged in\n";
	ret = send_buf(r->c, 303, "text/plain; charset=utf-8", moved, sizeof(moved) - 1, "/",
		       cookies);
out:
	lsec_secret_free(pw);
	lsec_wipe(&r->form, sizeof(r->form));
	return ret;
}

static enum MHD_Result logout_post(route_ctx *r)
{
	lsec_err err = LSEC_ERR_INIT;
	char clear[256];
	if (lsec_line_logout(r->srv->line, r->session->name, &err) < 0) {
		/* The station session may have ended already; the web one ends all the
		 * same. */
	}
	session_drop(r->session);
	cookie(clear, sizeof(clear), r->srv, COOKIE_SESSION, "", true);
	const char *cookies[] = {clear, NULL};
	static const char moved[] = "logged out\n";
	return send_buf(r->c, 303, "text/plain; charset=utf-8", moved, sizeof(moved) - 1, "/login",
			cookies);
}

/* The quarantine reason of a unit: its last run, as the registry holds it. */
static void quarantine_reason(page *p, lsec_store *st, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_run *runs = NULL;
	size_t n = 0;
	if (lsec_store_run_list(&runs, &n, st, serial, &err) < 0) {
		textf(p, "(cannot read its runs: %s)", err.msg);
	} else if (n == 0) {
		text(p, "(no run recorded)");
	} else {
		const lsec_store_run *last = &runs[n - 1];
		textf(p, "SOP %s %s: %s at %s by %s", last->sop, last->sop_version,
		      last->outcome[0] ? last->outcome : "open",
		      last->finished[0] ? last->finished : last->started, last->person);
	}
	lsec_free(runs);
}

static void dashboard_units(page *p, lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_unit *units = NULL;
	size_t n = 0, count[LSEC_UNIT_STATE_COUNT] = {0};
	raw(p, "<h2>Units by state</h2>");
	if (lsec_store_unit_list(&units, &n, st, NULL, &err) < 0) {
		raw(p, "<p class=\"bad\">");
		text(p, err.msg);
		raw(p, "</p>");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)units[i].state < LSEC_UNIT_STATE_COUNT) {
			count[units[i].state]++;
		}
	}
	raw(p, "<table id=\"states\"><tr><th>state</th><th>units</th></tr>");
	for (unsigned s = 0; s < LSEC_UNIT_STATE_COUNT; s++) {
		raw(p, "<tr><td>");
		text(p, lsec_unit_state_name((lsec_unit_state)s));
		raw(p, "</td><td>");
		textf(p, "%zu", count[s]);
		raw(p, "</td></tr>");
	}
	raw(p, "</table><h2>Quarantine</h2>");
	if (count[LSEC_UNIT_QUARANTINED] == 0) {
		raw(p, "<p>No unit is quarantined.</p>");
	} else {
		raw(p, "<table "
		       "id=\"quarantine\"><tr><th>unit</th><th>product</th><th>since</th>"
		       "<th>reason</th></tr>");
		for (size_t i = 0; i < n; i++) {
			if (units[i].state != LSEC_UNIT_QUARANTINED) {
				continue;
			}
			raw(p, "<tr><td>");
			text(p, units[i].serial);
			raw(p, "</td><td>");
			text(p, units[i].product);
			raw(p, "</td><td>");
			text(p, units[i].updated);
			raw(p, "</td><td>");
			quarantine_reason(p, st, units[i].serial);
			raw(p, "</td></tr>");
		}
		raw(p, "</table>");
	}
	lsec_free(units);
}

static void dashboard_log(page *p, lsec_line *line)
{
	lsec_err err = LSEC_ERR_INIT;
	struct evp_pkey_st **pubs = NULL;
	size_t npubs = 0;
	lsec_line_verify_report rep;
	memset(&rep, 0, sizeof(rep));
	raw(p, "<h2>Audit log</h2><p id=\"log\">");
	if (lsec_line_trusted_keys(&pubs, &npubs, line, &err) < 0 ||
	    lsec_line_audit_verify(&rep, line, (const struct evp_pkey_st *const *)pubs, npubs, NULL,
				   &err) < 0) {
		raw(p, "<span class=\"bad\">The log does not verify: ");
		text(p, err.msg);
		raw(p, "</span></p>");
		goto out;
	}
	raw(p, "<span class=\"ok\">The log verifies</span>: ");
	textf(p, "%llu leaves, %llu checkpoints.", (unsigned long long)rep.log.leaves,
	      (unsigned long long)rep.log.checkpoints);
	raw(p, "</p><p id=\"checkpoint\">");
	if (rep.log.has_checkpoint) {
		char hex[65];
		lsec_hex_encode(hex, rep.log.latest.root, 32);
		textf(p, "Last checkpoint: %llu leaves, root %s (%s).",
		      (unsigned long long)rep.log.latest.size, hex, rep.log.latest.origin);
	} else {
		text(p, "No checkpoint has been signed yet.");
	}
	raw(p, "</p>");
out:
	lsec_audit_pubkeys_free(pubs, npubs);
}

static enum MHD_Result dashboard(route_ctx *r)
{
	lsec_line *line = r->srv->line;
	page p = {LSEC_BUF_INIT(PAGE_MAX), false};
	head(&p, "Dashboard");
	raw(&p, "<p>");
	textf(&p, "Line %s, station %s. %s (%s).", lsec_line_id(line), lsec_line_station(line),
	      r->who.name, lsec_role_name(r->who.role));
	raw(&p, "</p><form class=\"inline\" method=\"post\" action=\"/logout\">");
	csrf_field(&p, r->session->csrf);
	raw(&p, "<button type=\"submit\">Log out</button></form>");
	dashboard_units(&p, lsec_line_store(line));
	dashboard_log(&p, line);
	foot(&p);
	enum MHD_Result ret = send_page(r->c, 200, &p, NULL);
	lsec_buf_release(&p.b);
	return ret;
}

typedef struct route {
	const char *method;
	const char *path;
	unsigned roles; /* 0: no session needed */
	const char *action;
	enum MHD_Result (*fn)(route_ctx *r);
} route;

#define ANYONE ((1u << LSEC_ROLE_COUNT) - 1u)

static enum MHD_Result login_get(route_ctx *r)
{
	return login_page(r, 200, NULL);
}

static enum MHD_Result login_post_route(route_ctx *r)
{
	return login_post(r);
}

static const route routes[] = {
    {"GET", "/login", 0, "log in", login_get},
    {"POST", "/login", 0, "log in", login_post_route},
    {"GET", "/", ANYONE, "see the dashboard", dashboard},
    {"POST", "/logout", ANYONE, "log out", logout_post},
};

/* The request's route: session, role and CSRF checked before its function runs. */
static enum MHD_Result dispatch(web_server *srv, struct MHD_Connection *c, const char *method,
				const char *url, const web_request *req)
{
	route_ctx r;
	lsec_err err = LSEC_ERR_INIT;
	const route *rt = NULL;
	enum MHD_Result ret;
	memset(&r, 0, sizeof(r));
	r.srv = srv;
	r.c = c;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/style.css") == 0) { /* lint:ok */
		return send_buf(c, 200, "text/css; charset=utf-8", style_css, sizeof(style_css) - 1,
				NULL, NULL);
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		bool path = strcmp(routes[i].path, url) == 0;           /* lint:ok */
		bool method_ok = strcmp(routes[i].method, method) == 0; /* lint:ok */
		if (path && method_ok) {
			rt = &routes[i];
		}
	}
	if (rt == NULL) {
		return send_message(c, 404, "Not found", "there is no such page");
	}
	const char *cookie_header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	if (cookie_header != NULL &&
	    lsec_web_cookie_parse(&r.cookies, cookie_header, strlen(cookie_header), &err) < 0) {
		return send_message(c, 400, "Bad request", err.msg);
	}
	if (strcmp(method, "POST") == 0) { /* lint:ok */
		const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		if (type == NULL || strncmp(type, "application/x-www-form-urlencoded",
					    strlen("application/x-www-form-urlencoded")) != 0) {
			return send_message(c, 415, "Bad request",
					    "a form is sent as application/x-www-form-urlencoded");
		}
		if (lsec_web_form_parse(&r.form, req->body, req->len, &err) < 0) {
			return send_message(c, 400, "Bad request", err.msg);
		}
	}
	if (rt->roles != 0) {
		r.session = session_find(srv, &r.cookies);
		if (r.session == NULL) {
			return send_message(c, 401, "Log in first",
					    "this page needs a session: log in");
		}
		/* The line decides: session expiry, idle time, person enabled, role. */
		if (lsec_line_authorize(&r.who, srv->line, r.session->name, rt->roles, rt->action,
					&err) < 0) {
			if (err.code == LSEC_E_AUTH && strstr(err.msg, "needs a") == NULL) {
				session_drop(r.session);
			}
			return send_message(c, err.code == LSEC_E_AUTH ? 403 : 500, "Refused",
					    err.msg);
		}
		r.session->last = (int64_t)time(NULL);
		if (strcmp(method, "POST") == 0 && /* lint:ok */
		    !lsec_web_token_equal(r.session->csrf, lsec_web_field_get(&r.form, "csrf"))) {
			return send_message(
			    c, 403, "Refused",
			    "the form's CSRF token is missing or wrong: reload the page");
		}
	}
	ret = rt->fn(&r);
	lsec_wipe(&r.form, sizeof(r.form));
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *size, void **con_cls)
{
	(void)version;
	web_server *srv = cls;
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
		return send_message(c, 413, "Too large", msg);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) { /* lint:ok */
		return send_message(c, 405, "Not allowed", "only GET and POST are served");
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

int lsec_web_serve(lsec_line *line, const lsec_web_options *opts, lsec_err *err)
{
	int rc = 0;
	struct MHD_Daemon *d = NULL;
	web_server *srv = NULL;
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
		    (size_t)(64 * 1024), MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
		    MHD_OPTION_HTTPS_MEM_CERT, (const char *)cert.data, MHD_OPTION_HTTPS_MEM_KEY,
		    (const char *)key.data, MHD_OPTION_END);
	} else {
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, srv, MHD_OPTION_EXTERNAL_LOGGER,
				     mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
				     NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
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
