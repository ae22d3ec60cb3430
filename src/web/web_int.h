/*
 * web_int.h - the web console's own parts, shared by its files and by
 * nothing outside src/web: the server and its sessions, pages built into a
 * buffer with every value escaped, responses with the security headers,
 * and the route tables each page file contributes.
 *
 * A page file (dashboard.c, ...) holds its handlers and one table of its
 * routes (lsec_web__routes); serve.c lists the tables. Dispatch checks the
 * session, the route's roles (lsec_line_authorize, on every request) and
 * the CSRF token of every POST before a handler runs: a handler never
 * checks them again and never skips them.
 */
#ifndef LINESEC_WEB_INT_H
#define LINESEC_WEB_INT_H

#include "linesec/audit.h"
#include "linesec/line.h"
#include "linesec/store.h"
#include "linesec/web.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#define LSEC_WEB__SESSIONS_MAX 64
#define LSEC_WEB__PAGE_MAX     (1u << 20)

#define LSEC_WEB__SESSIONS_PER_PERSON 4
#define LSEC_WEB__CLIENTS_MAX 256 /* addresses whose refused logins are counted */

typedef struct lsec_web__session {
	char id[LSEC_WEB_TOKEN_HEX + 1];
	char csrf[LSEC_WEB_TOKEN_HEX + 1];
	char name[LSEC_STORE_NAME_MAX + 1];
	uint64_t session_seq; /* the login leaf of the station session its login opened */
	int64_t last;
} lsec_web__session;

/* Refused logins of one address in its current window (session.c). */
typedef struct lsec_web__client {
	char addr[48];
	int64_t start;        /* the window's start */
	unsigned refused;     /* password refusals in it */
	bool unknown_recorded; /* a refusal of a name that is no person recorded in it */
} lsec_web__client;

typedef struct lsec_web__server {
	lsec_line *line;
	bool tls;
	char base_url[LSEC_WEB_URL_MAX + 1]; /* --public-url, else the address served on */
	lsec_web__session sessions[LSEC_WEB__SESSIONS_MAX];
	lsec_web__client clients[LSEC_WEB__CLIENTS_MAX];
	int64_t refused_start; /* every address: the window's start and its refusals */
	unsigned refused;
	/* What the dashboard verified last (size, root): the next load checks what came since. */
	bool verified;
	lsec_audit_checkpoint verified_at;
} lsec_web__server;

/* ---- pages: markup of linesec's own, every value through text() */

typedef struct lsec_web__page {
	lsec_buf b;
	bool failed; /* out of memory or a value too long: the page is a 500 */
} lsec_web__page;

#define LSEC_WEB__PAGE_INIT {LSEC_BUF_INIT(LSEC_WEB__PAGE_MAX), false}

/* Markup of linesec's own source, never a value. */
void lsec_web__raw(lsec_web__page *p, const char *markup);
/* Every value that reaches a page goes through here (lsec_web_escape). */
void lsec_web__text(lsec_web__page *p, const char *value);
/* lsec_web__text of a formatted value. */
LSEC_PRINTF(2, 3) void lsec_web__textf(lsec_web__page *p, const char *fmt, ...);
/* The page's head (title escaped) with the navigation, and its foot. */
void lsec_web__head(lsec_web__page *p, const char *title);
/* lsec_web__head with more markup of linesec's own in <head> (a script tag). */
void lsec_web__head_with(lsec_web__page *p, const char *title, const char *head_markup);
void lsec_web__foot(lsec_web__page *p);
/* The hidden csrf field every form carries. */
void lsec_web__csrf_field(lsec_web__page *p, const char *token);
/* A paragraph class="bad" with a message (escaped). */
void lsec_web__error(lsec_web__page *p, const char *msg);
/* The outcome of a form (id="result"): ok or refused, msg escaped; nothing when msg is NULL. */
void lsec_web__result(lsec_web__page *p, const char *msg, bool ok);

/* ---- responses: every one with the security headers */

enum MHD_Result lsec_web__send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				   const void *data, size_t len, const char *location,
				   const char *const *cookies);
/* A 200 download: Content-Disposition attachment with filename, which the
 * caller made of letters, digits, '.', '-' and '_' alone (it is not quoted
 * further). */
enum MHD_Result lsec_web__send_download(struct MHD_Connection *c, const char *type,
					const char *filename, const void *data, size_t len);
/* Sends the page (a 500 when it failed) and releases its buffer. */
enum MHD_Result lsec_web__send_page(struct MHD_Connection *c, unsigned status, lsec_web__page *p,
				    const char *const *cookies);
/* A page saying why, with a way on. */
enum MHD_Result lsec_web__send_message(struct MHD_Connection *c, unsigned status,
				       const char *title, const char *msg);
/* A 303 to location. */
enum MHD_Result lsec_web__redirect(struct MHD_Connection *c, const char *location,
				   const char *const *cookies);
/* The stylesheet (GET /style.css). */
extern const char lsec_web__style_css[];

/* ---- sessions */

/* Set-Cookie text of name=value: HttpOnly, SameSite=Strict, Secure under TLS. */
void lsec_web__cookie(char *out, size_t cap, const lsec_web__server *srv, const char *name,
		      const char *value, bool clear);
/* The web session the request's cookies name, or NULL (an idle one is
 * dropped). */
lsec_web__session *lsec_web__session_find(lsec_web__server *srv, const lsec_web_fields *cookies);
/* A free slot for a session of name: a free or idle one, else name's oldest when
 * name holds LSEC_WEB__SESSIONS_PER_PERSON; NULL when every slot is another
 * person's live session (never evicted). */
lsec_web__session *lsec_web__session_slot(lsec_web__server *srv, const char *name);
/* A new session of name in slot (from lsec_web__session_slot). */
int lsec_web__session_new(lsec_web__session *slot, const char *name, uint64_t session_seq,
			  lsec_err *err);
void lsec_web__session_drop(lsec_web__session *s);

/* ---- routes */

typedef struct lsec_web__request {
	lsec_web__server *srv;
	struct MHD_Connection *c;
	const char *method;
	const char *tail;            /* a prefix route: the path after its prefix */
	lsec_web_fields cookies;
	lsec_web_fields form;        /* POST only */
	lsec_web__session *session;  /* NULL when the route needs none */
	lsec_line_actor who;         /* with a session: lsec_line_authorize's answer */
} lsec_web__request;

/* A query argument of the request's URL (?name=value), NULL when absent. */
const char *lsec_web__query(const lsec_web__request *r, const char *name);

typedef struct lsec_web__route {
	const char *method;
	const char *path; /* ending in '/': a prefix, the rest is r->tail */
	unsigned roles;   /* 0: no session needed */
	const char *action;
	enum MHD_Result (*fn)(lsec_web__request *r);
} lsec_web__route;

#define LSEC_WEB__ANYONE ((1u << LSEC_ROLE_COUNT) - 1u)

typedef struct lsec_web__routes {
	const lsec_web__route *route;
	size_t n;
} lsec_web__routes;

/* Each page file's routes. */
extern const lsec_web__routes lsec_web__session_routes;
extern const lsec_web__routes lsec_web__dashboard_routes;
extern const lsec_web__routes lsec_web__releases_routes;
extern const lsec_web__routes lsec_web__people_routes;
extern const lsec_web__routes lsec_web__units_routes;
extern const lsec_web__routes lsec_web__scrap_routes;
extern const lsec_web__routes lsec_web__live_routes;
extern const lsec_web__routes lsec_web__sops_routes;
extern const lsec_web__routes lsec_web__ack_routes;
extern const lsec_web__routes lsec_web__sopctl_routes;


#endif
