/*
 * people.c - GET /people: the line's people and roles (as `linesec person
 * list`) and the changes of trust waiting for a second security officer
 * (as `linesec change list`); POST /changes/approve and /changes/reject:
 * a security officer decides one, re-entering their password, exactly as
 * `linesec change approve|reject` signs (lsec_line_sign, then
 * lsec_line_change_approve or lsec_line_change_reject).
 */
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFICER        LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)
#define READERS        (OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR))
#define ACTION_APPROVE "approve a change"
#define ACTION_REJECT  "reject a change"

static void people_table(lsec_web__page *p, lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_person *people = NULL;
	size_t n = 0;
	lsec_web__raw(p, "<h2>People</h2>");
	if (lsec_store_person_list(&people, &n, st, &err) < 0) {
		lsec_web__error(p, err.msg);
		return;
	}
	lsec_web__raw(p, "<table id=\"people\"><tr><th>name</th><th>role</th><th>since</th>"
			 "<th>status</th></tr>");
	for (size_t i = 0; i < n; i++) {
		lsec_web__raw(p, "<tr><td>");
		lsec_web__text(p, people[i].name);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, lsec_role_name(people[i].role));
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, people[i].created);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, people[i].disabled ? "disabled" : "enabled");
		lsec_web__raw(p, "</td></tr>");
	}
	lsec_web__raw(p, "</table>");
	lsec_wipe(people, n * sizeof(*people)); /* the password hashes */
	lsec_free(people);
}

static void change_form(lsec_web__page *p, const lsec_store_change *ch, const char *csrf)
{
	char meaning[sizeof(lsec_store_change) + 128];
	snprintf(meaning, sizeof(meaning),
		 "I approve change %lld: %s of %s (%s), requested by %s, and it is applied now.",
		 (long long)ch->id, ch->kind, ch->subject, ch->payload, ch->requested_by);
	lsec_web__raw(p, "<tr><td colspan=\"6\"><form method=\"post\" action=\"/changes/approve\">"
			 "<input type=\"hidden\" name=\"change\" value=\"");
	lsec_web__textf(p, "%lld", (long long)ch->id);
	lsec_web__raw(p, "\">");
	lsec_web__sign_fields(p, csrf, meaning);
	lsec_web__raw(p, "<button type=\"submit\">Approve and sign</button></form> "
			 "<form method=\"post\" action=\"/changes/reject\">"
			 "<input type=\"hidden\" name=\"change\" value=\"");
	lsec_web__textf(p, "%lld", (long long)ch->id);
	lsec_web__raw(p, "\">");
	snprintf(meaning, sizeof(meaning), "I reject change %lld: %s of %s, requested by %s.",
		 (long long)ch->id, ch->kind, ch->subject, ch->requested_by);
	lsec_web__sign_fields(p, csrf, meaning);
	lsec_web__raw(p, "<button type=\"submit\">Reject and sign</button></form></td></tr>");
}

static void changes_table(lsec_web__page *p, lsec_store *st, bool officer, const char *csrf)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_change *ch = NULL;
	size_t n = 0;
	lsec_web__raw(p, "<h2>Pending changes of trust</h2>");
	if (lsec_store_change_list(&ch, &n, st, true, &err) < 0) {
		lsec_web__error(p, err.msg);
		return;
	}
	if (n == 0) {
		lsec_web__raw(p, "<p id=\"changes\">No change is waiting for a second security "
				 "officer.</p>");
		goto out;
	}
	lsec_web__raw(p, "<table id=\"changes\"><tr><th>id</th><th>kind</th><th>subject</th>"
			 "<th>details</th><th>requested</th><th>state</th></tr>");
	for (size_t i = 0; i < n; i++) {
		lsec_web__raw(p, "<tr><td>");
		lsec_web__textf(p, "%lld", (long long)ch[i].id);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, ch[i].kind);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, ch[i].subject);
		lsec_web__raw(p, "</td><td><code>");
		lsec_web__text(p, ch[i].payload);
		lsec_web__raw(p, "</code></td><td>");
		lsec_web__textf(p, "%s at %s", ch[i].requested_by, ch[i].created);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, ch[i].state);
		lsec_web__raw(p, "</td></tr>");
		if (officer) {
			change_form(p, &ch[i], csrf);
		}
	}
	lsec_web__raw(p, "</table>");
out:
	lsec_free(ch);
}

static enum MHD_Result people_page(lsec_web__request *r, unsigned status, const char *msg,
				   bool msg_ok)
{
	lsec_store *st = lsec_line_store(r->srv->line);
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "People");
	lsec_web__result(&p, msg, msg_ok);
	people_table(&p, st);
	changes_table(&p, st, r->who.role == LSEC_ROLE_SECURITY_OFFICER, r->session->csrf);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, NULL);
}

static enum MHD_Result people_get(lsec_web__request *r)
{
	return people_page(r, 200, NULL, false);
}

/* The form's change id, as `linesec change` reads it. */
static int change_id(int64_t *out, const lsec_web__request *r, lsec_err *err)
{
	int rc = 0;
	const char *text = lsec_web_field_get(&r->form, "change");
	char *end = NULL;
	long long v = text != NULL ? strtoll(text, &end, 10) : 0;
	LSEC_ENSURE(text != NULL && end != text && *end == '\0' && v > 0, LSEC_E_USAGE,
		    "the form's field 'change' is not a positive number (a change id)");
	*out = v;
out:
	return rc;
}

static enum MHD_Result approve_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	lsec_store_change ch;
	int64_t id = 0;
	char half[LSEC_LINE_ENROL_HALF + 1] = "", done[sizeof(lsec_store_change) + 256];
	enum MHD_Result ret;
	memset(&who, 0, sizeof(who));
	/* As `linesec change approve`: the signature now, then the line's approval. */
	if (change_id(&id, r, &err) < 0 || lsec_web__sign(&who, r, OFFICER, ACTION_APPROVE, &err) < 0 ||
	    lsec_line_change_approve(&ch, half, sizeof(half), r->srv->line, &who, id,
				     lsec_station_change_apply, NULL, &err) < 0) {
		return people_page(r, lsec_web__status_of(&err), err.msg, false);
	}
	if (half[0] != '\0') {
		snprintf(done, sizeof(done),
			 "change %lld approved by %s: %s of %s (requested by %s). Enrolment code, "
			 "second half (give it to %s only): %s",
			 (long long)id, who.name, ch.kind, ch.subject, ch.requested_by, ch.subject,
			 half);
	} else {
		snprintf(done, sizeof(done), "change %lld approved by %s: %s of %s (requested by %s)",
			 (long long)id, who.name, ch.kind, ch.subject, ch.requested_by);
	}
	ret = people_page(r, 200, done, true);
	lsec_wipe(half, sizeof(half));
	lsec_wipe(done, sizeof(done));
	return ret;
}

static enum MHD_Result reject_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	int64_t id = 0;
	char done[LSEC_STORE_NAME_MAX + 64];
	memset(&who, 0, sizeof(who));
	if (change_id(&id, r, &err) < 0 || lsec_web__sign(&who, r, OFFICER, ACTION_REJECT, &err) < 0 ||
	    lsec_line_change_reject(r->srv->line, &who, id, &err) < 0) {
		return people_page(r, lsec_web__status_of(&err), err.msg, false);
	}
	snprintf(done, sizeof(done), "change %lld rejected by %s", (long long)id, who.name);
	return people_page(r, 200, done, true);
}

static const lsec_web__route routes[] = {
    {"GET", "/people", READERS, "list people", people_get},
    {"POST", "/changes/approve", OFFICER, ACTION_APPROVE, approve_post},
    {"POST", "/changes/reject", OFFICER, ACTION_REJECT, reject_post},
};

const lsec_web__routes lsec_web__people_routes = {routes, sizeof(routes) / sizeof(routes[0])};
