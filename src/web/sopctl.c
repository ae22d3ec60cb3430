/*
 * sopctl.c - withdrawing a SOP version from every station on the web
 * (security officers): GET /sops/withdraw lists the withdrawals waiting
 * for a second officer and the form to request one; POST /sops/withdraw
 * requests it and POST /sops/withdraw/approve approves it, each signing
 * with the password re-entered (lsec_line_sign, as `linesec sop withdraw`
 * and `linesec change approve` sign) and calling the same library
 * functions (lsec_station_sop_withdraw_request, lsec_line_change_approve
 * with lsec_station_change_apply).
 */
#include "sign.h"

#include "linesec/audit.h"
#include "linesec/sop.h"
#include "linesec/station.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)
#define REQUEST_ACTION "request a SOP withdrawal"
#define APPROVE_ACTION "approve a change"

/* A pending sop-withdraw change: what it withdraws, why, who asked, and its approval form. */
static void pending_row(lsec_web__page *p, const lsec_web__request *r, const lsec_store_change *c)
{
	json_t *pl = json_loads(c->payload, 0, NULL);
	const char *reason = json_string_value(json_object_get(pl, LSEC_EV_REASON));
	lsec_web__raw(p, "<tr><td>");
	lsec_web__textf(p, "%lld", (long long)c->id);
	lsec_web__raw(p, "</td><td>");
	lsec_web__textf(p, "%s version %lld", c->subject,
			(long long)json_integer_value(json_object_get(pl, LSEC_EV_SOP_VERSION)));
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, reason != NULL ? reason : "?");
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, c->requested_by);
	lsec_web__raw(p, "</td><td><form method=\"post\" action=\"/sops/withdraw/approve\">"
			 "<input type=\"hidden\" name=\"change\" value=\"");
	lsec_web__textf(p, "%lld", (long long)c->id);
	lsec_web__raw(p, "\">");
	lsec_web__sign_fields(p, r->session->csrf, LSEC_MEANING_APPROVED);
	lsec_web__raw(p, "<button type=\"submit\">Approve</button></form></td></tr>");
	json_decref(pl);
}

static enum MHD_Result withdraw_page(lsec_web__request *r, unsigned status, const char *msg,
				     bool good)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_change *ch = NULL;
	size_t n = 0, shown = 0;
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Withdraw a SOP version");
	lsec_web__result(&p, msg, good);
	lsec_web__raw(&p, "<p>A withdrawn version runs on no station, and no older version runs "
			  "in its place: the SOP runs again once a new version is approved. One "
			  "security officer requests it, a second, distinct one approves it.</p>"
			  "<h2>Waiting for a second officer</h2>");
	if (lsec_store_change_list(&ch, &n, lsec_line_store(r->srv->line), true, &err) < 0) {
		lsec_web__error(&p, err.msg);
	} else {
		lsec_web__raw(&p, "<table id=\"pending\"><tr><th>change</th><th>version</th>"
				  "<th>reason</th><th>requested by</th><th>approve</th></tr>");
		for (size_t i = 0; i < n; i++) {
			if (strcmp(ch[i].kind, LSEC_STATION_CHANGE_SOP_WITHDRAW) == 0) { /* lint:ok */
				pending_row(&p, r, &ch[i]);
				shown++;
			}
		}
		lsec_web__raw(&p, "</table>");
		if (shown == 0) {
			lsec_web__raw(&p, "<p id=\"none\">No withdrawal is waiting.</p>");
		}
	}
	lsec_web__raw(&p, "<h2>Request a withdrawal</h2><form method=\"post\" "
			  "action=\"/sops/withdraw\"><label>SOP <input name=\"sop\" required>"
			  "</label><label>Version <input name=\"version\" required></label>"
			  "<label>Reason <input name=\"reason\" required></label>");
	lsec_web__sign_fields(&p, r->session->csrf, LSEC_MEANING_SUBMITTED);
	lsec_web__raw(&p, "<button type=\"submit\">Request</button></form>");
	lsec_free(ch);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, NULL);
}

static enum MHD_Result withdraw_get(lsec_web__request *r)
{
	return withdraw_page(r, 200, NULL, false);
}

/* A positive whole number of a form field, or 0. */
static long long form_number(const lsec_web__request *r, const char *field, long long max)
{
	const char *v = lsec_web_field_get(&r->form, field);
	char *end = NULL;
	long long n = v != NULL ? strtoll(v, &end, 10) : 0;
	return v != NULL && end != v && *end == '\0' && n >= 1 && n <= max ? n : 0;
}

static enum MHD_Result withdraw_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	char msg[LSEC_ERR_MSG_MAX + 64];
	int64_t id = 0;
	enum MHD_Result ret;
	const char *name = lsec_web_field_get(&r->form, "sop");
	const char *reason = lsec_web_field_get(&r->form, "reason");
	long long version = form_number(r, "version", 1000000);
	memset(&who, 0, sizeof(who));
	if (name == NULL || reason == NULL || version == 0) {
		ret = withdraw_page(r, 400, "the form needs fields sop, version (a number from 1) "
					    "and reason",
				    false);
		goto out;
	}
	if (lsec_web__sign(&who, r, OFFICER, REQUEST_ACTION, &err) < 0 ||
	    lsec_station_sop_withdraw_request(&id, r->srv->line, &who, name, (int)version, reason,
					      &err) < 0) {
		ret = withdraw_page(r, lsec_web__status_of(&err), err.msg, false);
		goto out;
	}
	snprintf(msg, sizeof(msg),
		 "change %lld requested: withdraw SOP %s version %lld from every station; a "
		 "second security officer approves it",
		 (long long)id, name, version);
	ret = withdraw_page(r, 200, msg, true);
out:
	lsec_wipe(&r->form, sizeof(r->form));
	return ret;
}

static enum MHD_Result approve_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	lsec_store_change ch;
	char msg[LSEC_ERR_MSG_MAX + 64];
	enum MHD_Result ret;
	long long id = form_number(r, "change", INT64_MAX);
	memset(&who, 0, sizeof(who));
	if (id == 0) {
		ret = withdraw_page(r, 400, "the form needs field change (a change id)", false);
		goto out;
	}
	if (lsec_store_change_get(&ch, lsec_line_store(r->srv->line), id, &err) < 0 ||
	    strcmp(ch.kind, LSEC_STATION_CHANGE_SOP_WITHDRAW) != 0) { /* lint:ok */
		ret = withdraw_page(r, 404, "no such SOP withdrawal", false);
		goto out;
	}
	if (lsec_web__sign(&who, r, OFFICER, APPROVE_ACTION, &err) < 0 ||
	    lsec_line_change_approve(&ch, NULL, 0, r->srv->line, &who, id,
				     lsec_station_change_apply, NULL, &err) < 0) {
		ret = withdraw_page(r, lsec_web__status_of(&err), err.msg, false);
		goto out;
	}
	snprintf(msg, sizeof(msg), "change %lld approved by %s: SOP %s withdrawn from every station",
		 id, who.name, ch.subject);
	ret = withdraw_page(r, 200, msg, true);
out:
	lsec_wipe(&r->form, sizeof(r->form));
	return ret;
}

static const lsec_web__route routes[] = {
    {"GET", "/sops/withdraw", OFFICER, "see SOP withdrawals", withdraw_get},
    {"POST", "/sops/withdraw", OFFICER, REQUEST_ACTION, withdraw_post},
    {"POST", "/sops/withdraw/approve", OFFICER, APPROVE_ACTION, approve_post},
};

const lsec_web__routes lsec_web__sopctl_routes = {routes, sizeof(routes) / sizeof(routes[0])};
