/*
 * session.c - web sessions, login and logout. A web session maps a random
 * cookie id to the station session lsec_line_login_with opened (its login
 * leaf), with a CSRF token every form carries: at most
 * LSEC_WEB__SESSIONS_PER_PERSON per person. Who may log in, the back-off
 * and lock of a name's web login, a session's lifetime and idle time are
 * the line module's rules; the server adds a budget of refused logins per
 * client address and in all, and answers every wait at once (429).
 */
#include "web_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define COOKIE_SESSION "lsec_session"
#define COOKIE_LOGIN   "lsec_login"

void lsec_web__cookie(char *out, size_t cap, const lsec_web__server *srv, const char *name,
		      const char *value, bool clear)
{
	snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name, value,
		 srv->tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

void lsec_web__session_drop(lsec_web__session *s)
{
	lsec_wipe(s, sizeof(*s));
}

/* Whether s is unused for the line's idle time (the server forgets it). */
static bool session_idle(const lsec_web__server *srv, const lsec_web__session *s, int64_t now)
{
	return now - s->last >= (int64_t)lsec_line_session_idle_seconds(srv->line);
}

lsec_web__session *lsec_web__session_find(lsec_web__server *srv, const lsec_web_fields *cookies)
{
	const char *id = lsec_web_field_get(cookies, COOKIE_SESSION);
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < LSEC_WEB__SESSIONS_MAX; i++) {
		lsec_web__session *s = &srv->sessions[i];
		if (s->id[0] == '\0') {
			continue;
		}
		if (session_idle(srv, s, now)) {
			lsec_web__session_drop(s);
			continue;
		}
		if (lsec_web_token_equal(s->id, id)) {
			return s;
		}
	}
	return NULL;
}

lsec_web__session *lsec_web__session_slot(lsec_web__server *srv, const char *name)
{
	lsec_web__session *free_slot = NULL, *own_oldest = NULL;
	size_t own = 0;
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < LSEC_WEB__SESSIONS_MAX; i++) {
		lsec_web__session *s = &srv->sessions[i];
		if (s->id[0] != '\0' && session_idle(srv, s, now)) {
			lsec_web__session_drop(s);
		}
		if (s->id[0] == '\0') {
			free_slot = free_slot ? free_slot : s;
		} else if (strcmp(s->name, name) == 0) { /* lint:ok: public names */
			own++;
			if (own_oldest == NULL || s->last < own_oldest->last) {
				own_oldest = s;
			}
		}
	}
	/* A person's own sessions are bounded; another person's are never evicted. */
	if (own >= LSEC_WEB__SESSIONS_PER_PERSON || (free_slot == NULL && own_oldest != NULL)) {
		return own_oldest;
	}
	return free_slot;
}

int lsec_web__session_new(lsec_web__session *slot, const char *name, uint64_t session_seq,
			  lsec_err *err)
{
	int rc = 0;
	lsec_web__session_drop(slot);
	LSEC_TRY(lsec_web_token_new(slot->id, err));
	LSEC_TRY(lsec_web_token_new(slot->csrf, err));
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->session_seq = session_seq;
	slot->last = (int64_t)time(NULL);
out:
	if (rc < 0) {
		lsec_web__session_drop(slot);
	}
	return rc;
}

/* ---- refused logins per address and in all */

/* The window over which refused logins are counted, in seconds. */
#define THROTTLE_WINDOW 60
/* Refused passwords per address, and from every address, in a window. */
#define THROTTLE_PER_CLIENT 10
#define THROTTLE_ALL        30

/* The client's address as text ("" when unknown). */
static void client_addr(char *out, size_t cap, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ci->client_addr;
		inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)cap);
	}
}

/* The address's record, its window started again when over; a new one takes
 * the slot whose window started first. */
static lsec_web__client *client_get(lsec_web__server *srv, const char *addr, int64_t now)
{
	lsec_web__client *oldest = &srv->clients[0];
	for (size_t i = 0; i < LSEC_WEB__CLIENTS_MAX; i++) {
		lsec_web__client *cl = &srv->clients[i];
		if (strcmp(cl->addr, addr) == 0 && cl->addr[0] != '\0') { /* lint:ok */
			oldest = cl;
			break;
		}
		if (cl->start < oldest->start) {
			oldest = cl;
		}
	}
	if (strcmp(oldest->addr, addr) != 0 || now - oldest->start >= THROTTLE_WINDOW) { /* lint:ok */
		memset(oldest, 0, sizeof(*oldest));
		snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
		oldest->start = now;
	}
	return oldest;
}

/* Seconds until cl's (or every address's) window lets a login be tried; 0: now. */
static unsigned throttle_wait(lsec_web__server *srv, const lsec_web__client *cl, int64_t now,
			      bool *all)
{
	if (now - srv->refused_start >= THROTTLE_WINDOW) {
		srv->refused_start = now;
		srv->refused = 0;
	}
	*all = srv->refused >= THROTTLE_ALL;
	if (*all) {
		return (unsigned)(srv->refused_start + THROTTLE_WINDOW - now);
	}
	if (cl->refused >= THROTTLE_PER_CLIENT) {
		return (unsigned)(cl->start + THROTTLE_WINDOW - now);
	}
	return 0;
}

/* A name as the server's log shows it: printable ASCII only. */
static void log_name(char *out, size_t cap, const char *name)
{
	size_t i = 0;
	for (; name != NULL && name[i] != '\0' && i + 1 < cap; i++) {
		out[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	}
	out[i] = '\0';
}

/* The message too, on the server's log: printable ASCII only. */
static void log_refusal(const char *addr, const char *name, const char *why)
{
	char n[80], w[LSEC_ERR_MSG_MAX];
	log_name(n, sizeof(n), name);
	log_name(w, sizeof(w), why);
	fprintf(stderr, "linesec serve: login of '%s' from %s refused: %s\n", n,
		addr[0] ? addr : "?", w);
}

static enum MHD_Result login_page(lsec_web__request *r, unsigned status, const char *msg)
{
	char token[LSEC_WEB_TOKEN_HEX + 1], set[256];
	lsec_err err = LSEC_ERR_INIT;
	if (lsec_web_token_new(token, &err) < 0) {
		return lsec_web__send_message(r->c, 500, "Error", "the login form failed");
	}
	lsec_web__cookie(set, sizeof(set), r->srv, COOKIE_LOGIN, token, false);
	const char *cookies[] = {set, NULL};
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Log in");
	lsec_web__raw(&p, "<h2>Log in</h2>");
	if (msg != NULL) {
		lsec_web__error(&p, msg);
	}
	lsec_web__raw(&p, "<form method=\"post\" action=\"/login\">");
	lsec_web__csrf_field(&p, token);
	lsec_web__raw(&p, "<label>Name <input name=\"name\" autocomplete=\"username\" "
			  "required></label>"
			  "<label>Password <input name=\"password\" type=\"password\" "
			  "autocomplete=\"current-password\" required></label>"
			  "<button type=\"submit\">Log in</button></form>"
			  "<p>Each refused password makes the next try of that name wait a second "
			  "more; after 5 the name's web login is locked: log in at the station "
			  "(<code>linesec login</code>), where the lock does not hold.</p>");
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, cookies);
}

static enum MHD_Result login_get(lsec_web__request *r)
{
	return login_page(r, 200, NULL);
}

/* A login refused within a wait: 429 with the seconds left. */
static enum MHD_Result login_wait(lsec_web__request *r, const char *what, unsigned seconds)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%s; try again in %u s", what, seconds ? seconds : 1);
	return login_page(r, 429, msg);
}

/*
 * POST /login. Refusals through the web lock the name's web login, never the
 * person at the station (lsec_line_login_with, channel "web"); a wait is a
 * 429 at once, never a sleep of the serving thread. An anonymous client
 * learns only that the name or password was refused (and how long to wait);
 * the reason goes to the server's log.
 */
static enum MHD_Result login_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = NULL;
	lsec_web__session *s = NULL;
	lsec_line_login_result res;
	enum MHD_Result ret;
	char addr[48];
	bool all = false;
	memset(&res, 0, sizeof(res));
	/* The login form's token is the one its page set in the login cookie. */
	if (!lsec_web_token_equal(lsec_web_field_get(&r->cookies, COOKIE_LOGIN),
				  lsec_web_field_get(&r->form, "csrf"))) {
		return lsec_web__send_message(
		    r->c, 403, "Refused", "the form's CSRF token is missing or wrong: reload the page");
	}
	const char *name = lsec_web_field_get(&r->form, "name");
	const char *password = lsec_web_field_get(&r->form, "password");
	if (name == NULL || password == NULL || password[0] == '\0') {
		return login_page(r, 400, "give a name and a password");
	}
	int64_t now = (int64_t)time(NULL);
	client_addr(addr, sizeof(addr), r->c);
	lsec_web__client *cl = client_get(r->srv, addr, now);
	unsigned wait = throttle_wait(r->srv, cl, now, &all);
	if (wait > 0) {
		log_refusal(addr, name, all ? "too many refused logins on this console"
					    : "too many refused logins from this address");
		ret = login_wait(r,
				 all ? "too many refused logins on this console"
				     : "too many refused logins from this address",
				 wait);
		goto out;
	}
	/* Room for the session before the password: a full table opens no station session. */
	s = lsec_web__session_slot(r->srv, lsec_ident_ok(name) ? name : "");
	if (s == NULL) {
		ret = login_page(r, 503,
				 "every web session of this console is taken by other people's "
				 "live sessions; try again later or log in at the station");
		goto out;
	}
	lsec_line_login_options opts = LSEC_LINE_LOGIN_OPTIONS_INIT;
	opts.channel = LSEC_LINE_CHANNEL_WEB;
	opts.client = addr;
	opts.record_unknown = !cl->unknown_recorded;
	if (lsec_secret_from(&pw, password, strlen(password), &err) < 0 ||
	    lsec_line_login_with(&res, r->srv->line, name, pw, &opts, &err) < 0) {
		log_refusal(addr, name, err.msg);
		if (res.retry_after > 0) {
			ret = login_wait(r, "name or password refused", res.retry_after);
		} else if (err.code == LSEC_E_AUTH || err.code == LSEC_E_USAGE) {
			if (!res.locked) {
				/* A password checked and refused (or a name no person can have). */
				cl->refused++;
				r->srv->refused++;
				cl->unknown_recorded = cl->unknown_recorded || (!res.person && opts.record_unknown);
			}
			ret = login_page(r, 403, "name or password refused");
		} else {
			ret = login_page(r, 500, "the login failed; the server's log says why");
		}
		goto out;
	}
	if (lsec_web__session_new(s, name, res.session_seq, &err) < 0) {
		log_refusal(addr, name, err.msg);
		ret = login_page(r, 500, "the login failed; the server's log says why");
		goto out;
	}
	char set[256], clear[256];
	lsec_web__cookie(set, sizeof(set), r->srv, COOKIE_SESSION, s->id, false);
	lsec_web__cookie(clear, sizeof(clear), r->srv, COOKIE_LOGIN, "", true);
	const char *cookies[] = {set, clear, NULL};
	ret = lsec_web__redirect(r->c, "/", cookies);
out:
	lsec_secret_free(pw);
	lsec_wipe(&r->form, sizeof(r->form));
	return ret;
}

static enum MHD_Result logout_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	char clear[256];
	if (lsec_line_logout(r->srv->line, r->session->name, &err) < 0) {
		/* The station session may have ended already; the web one ends all the
		 * same. */
	}
	lsec_web__session_drop(r->session);
	lsec_web__cookie(clear, sizeof(clear), r->srv, COOKIE_SESSION, "", true);
	const char *cookies[] = {clear, NULL};
	return lsec_web__redirect(r->c, "/login", cookies);
}

static const lsec_web__route routes[] = {
    {"GET", "/login", 0, "log in", login_get},
    {"POST", "/login", 0, "log in", login_post},
    {"POST", "/logout", LSEC_WEB__ANYONE, "log out", logout_post},
};

const lsec_web__routes lsec_web__session_routes = {routes, sizeof(routes) / sizeof(routes[0])};
