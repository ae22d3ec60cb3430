/*
 * ack.c - read-and-acknowledge on the web (GET /ack, POST /ack): the
 * current approved version of each SOP that the logged-in person has not
 * acknowledged, each with a link to read it and a form that signs (the
 * password re-entered, lsec_line_sign, as `linesec sop ack` signs) and
 * calls the same library function, lsec_sop_acknowledge.
 */
#include "sign.h"

#include "linesec/audit.h"
#include "linesec/sop.h"

#include <stdlib.h>
#include <string.h>

#define ACK_ACTION "acknowledge a SOP version"

/* One row: the version to read and the form that acknowledges it. */
static void ack_row(lsec_web__page *p, const lsec_web__request *r, const lsec_sop_version_info *v)
{
	char ver[16];
	snprintf(ver, sizeof(ver), "%d", v->version);
	lsec_web__raw(p, "<tr><td>");
	lsec_web__text(p, v->name);
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, ver);
	lsec_web__raw(p, "</td><td><code>");
	lsec_web__text(p, v->sha256_hex);
	lsec_web__raw(p, "</code></td><td><a href=\"/sops/");
	lsec_web__text(p, v->name);
	lsec_web__raw(p, "/");
	lsec_web__text(p, ver);
	lsec_web__raw(p, "\">read it</a></td><td><form method=\"post\" action=\"/ack\">"
			 "<input type=\"hidden\" name=\"sop\" value=\"");
	lsec_web__text(p, v->name);
	lsec_web__raw(p, "\"><input type=\"hidden\" name=\"version\" value=\"");
	lsec_web__text(p, ver);
	lsec_web__raw(p, "\"><input type=\"hidden\" name=\"sha256\" value=\"");
	lsec_web__text(p, v->sha256_hex);
	lsec_web__raw(p, "\">");
	lsec_web__sign_fields(p, r->session->csrf, LSEC_MEANING_READ);
	lsec_web__raw(p, "<button type=\"submit\">Acknowledge</button></form></td></tr>");
}

static enum MHD_Result ack_page(lsec_web__request *r, unsigned status, const char *msg, bool good)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(r->srv->line);
	lsec_sop_version_info *v = NULL;
	size_t n = 0, shown = 0;
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Read and acknowledge");
	lsec_web__result(&p, msg, good);
	lsec_web__raw(&p, "<p>A station runs a SOP version only for a person who acknowledged "
			  "reading it. The current approved versions ");
	lsec_web__text(&p, r->who.name);
	lsec_web__raw(&p, " has not acknowledged:</p>");
	if (lsec_sop_versions(&v, &n, st, NULL, &err) < 0) {
		lsec_web__error(&p, err.msg);
		goto out;
	}
	lsec_web__raw(&p, "<table id=\"unread\"><tr><th>SOP</th><th>version</th><th>SHA-256</th>"
			  "<th></th><th>acknowledge</th></tr>");
	for (size_t i = 0; i < n; i++) {
		bool acked = false, current = v[i].approved && !v[i].withdrawn;
		/* The current version: the latest approved of its SOP (a withdrawn one runs not). */
		for (size_t k = 0; current && k < n; k++) {
			current = !(strcmp(v[k].name, v[i].name) == 0 && v[k].approved && /* lint:ok */
				    v[k].version > v[i].version);
		}
		if (!current) {
			continue;
		}
		if (lsec_sop_acknowledged(&acked, st, r->who.name, v[i].name, v[i].version,
					  v[i].sha256_hex, &err) < 0) {
			lsec_web__error(&p, err.msg);
			break;
		}
		if (!acked) {
			ack_row(&p, r, &v[i]);
			shown++;
		}
	}
	lsec_web__raw(&p, "</table>");
	if (shown == 0) {
		lsec_web__raw(&p, "<p id=\"none\">Nothing to acknowledge: you have read every "
				  "current version.</p>");
	}
out:
	lsec_free(v);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, NULL);
}

static enum MHD_Result ack_get(lsec_web__request *r)
{
	return ack_page(r, 200, NULL, false);
}

static enum MHD_Result ack_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	char msg[LSEC_ERR_MSG_MAX + 64];
	int done = 0;
	enum MHD_Result ret;
	const char *name = lsec_web_field_get(&r->form, "sop");
	const char *ver = lsec_web_field_get(&r->form, "version");
	const char *sha = lsec_web_field_get(&r->form, "sha256");
	char *end = NULL;
	long version = ver != NULL ? strtol(ver, &end, 10) : 0;
	memset(&who, 0, sizeof(who));
	if (name == NULL || ver == NULL || end == ver || *end != '\0' || version < 1 ||
	    version > 1000000 || sha == NULL) {
		ret = ack_page(r, 400, "the form needs fields sop, version (a number from 1) and "
				       "sha256",
			       false);
		goto out;
	}
	if (lsec_web__sign(&who, r, LSEC_WEB__ANYONE, ACK_ACTION, &err) < 0) {
		ret = ack_page(r, lsec_web__status_of(&err), err.msg, false);
		goto out;
	}
	lsec_actor actor = {who.name, lsec_line_station(r->srv->line)};
	if (lsec_sop_acknowledge(&done, lsec_line_store(r->srv->line), &actor, name, (int)version,
				 sha, &err) < 0) {
		ret = ack_page(r, lsec_web__status_of(&err), err.msg, false);
		goto out;
	}
	snprintf(msg, sizeof(msg), "%s acknowledged SOP %s version %d (read and understood)",
		 who.name, name, done);
	ret = ack_page(r, 200, msg, true);
out:
	lsec_wipe(&r->form, sizeof(r->form));
	return ret;
}

static const lsec_web__route routes[] = {
    {"GET", "/ack", LSEC_WEB__ANYONE, "see the SOP versions to acknowledge", ack_get},
    {"POST", "/ack", LSEC_WEB__ANYONE, ACK_ACTION, ack_post},
};

const lsec_web__routes lsec_web__ack_routes = {routes, sizeof(routes) / sizeof(routes[0])};
