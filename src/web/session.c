/*
 * session.c - web sessions, login and logout. A web session maps a random
 * cookie id to the person whose station session lsec_line_login opened,
 * with a CSRF token every form carries. Who may log in, the back-off, a
 * session's lifetime and idle time are the line module's rules.
 */
#include "web_int.h"

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

lsec_web__session *lsec_web__session_find(lsec_web__server *srv, const lsec_web_fields *cookies)
{
	const char *id = lsec_web_field_get(cookies, COOKIE_SESSION);
	int64_t now = (int64_t)time(NULL);
	int64_t idle = (int64_t)lsec_line_session_idle_seconds(srv->line);
	for (size_t i = 0; i < LSEC_WEB__SESSIONS_MAX; i++) {
		lsec_web__session *s = &srv->sessions[i];
		if (s->id[0] == '\0') {
			continue;
		}
		if (now - s->last >= idle) {
			lsec_web__session_drop(s);
			continue;
		}
		if (lsec_web_token_equal(s->id, id)) {
			return s;
		}
	}
	return NULL;
}

int lsec_web__session_new(lsec_web__session **out, lsec_web__server *srv, const char *name,
			  lsec_err *err)
{
	int rc = 0;
	lsec_web__session *s = NULL, *oldest = &srv->sessions[0];
	*out = NULL;
	for (size_t i = 0; i < LSEC_WEB__SESSIONS_MAX && s == NULL; i++) {
		if (srv->sessions[i].id[0] == '\0') {
			s = &srv->sessions[i];
		} else if (srv->sessions[i].last < oldest->last) {
			oldest = &srv->sessions[i];
		}
	}
	s = s ? s : oldest; /* full: the least recently used session ends */
	lsec_web__session_drop(s);
	LSEC_TRY(lsec_web_token_new(s->id, err));
	LSEC_TRY(lsec_web_token_new(s->csrf, err));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->last = (int64_t)time(NULL);
	*out = s;
out:
	if (rc < 0) {
		lsec_web__session_drop(s);
	}
	return rc;
}

static enum MHD_Result login_page(lsec_web__request *r, unsigned status, const char *msg)
{
	char token[LSEC_WEB_TOKEN_HEX + 1], set[256];
	lsec_err err = LSEC_ERR_INIT;
	if (lsec_web_token_new(token, &err) < 0) {
		return lsec_web__send_message(r->c, 500, "Error", err.msg);
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
			  "<button type=\"submit\">Log in</button></form>");
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, cookies);
}

static enum MHD_Result login_get(lsec_web__request *r)
{
	return login_page(r, 200, NULL);
}

static enum MHD_Result login_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = NULL;
	lsec_web__session *s = NULL;
	enum MHD_Result ret;
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
	if (lsec_secret_from(&pw, password, strlen(password), &err) < 0 ||
	    lsec_line_login(r->srv->line, name, pw, &err) < 0 ||
	    lsec_web__session_new(&s, r->srv, name, &err) < 0) {
		ret = login_page(r, err.code == LSEC_E_AUTH ? 403 : 400, err.msg);
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
