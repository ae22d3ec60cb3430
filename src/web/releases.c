/*
 * releases.c - GET /releases: every release with its product, version,
 * image SHA-256, build, state and who submitted and approved it
 * (lsec_station_release_list, as `linesec release list`); POST
 * /releases/approve: a security officer approves one, re-entering their
 * password, exactly as `linesec release approve` signs (lsec_line_sign,
 * then lsec_station_release_approve).
 */
#include "sign.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define OFFICER        LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)
#define ACTION_APPROVE "approve a release"

/* What the approver's signature means, in words. */
static void approval_meaning(char *out, size_t cap, const lsec_store_approvable *row)
{
	snprintf(out, cap,
		 "I approve release %s of product %s, image SHA-256 %s, for production on this line.",
		 row->version, row->name, row->digest);
}

/* The build type submit recorded in the release's manifest ("?" when it cannot be read). */
static void release_build(lsec_web__page *p, lsec_store *st, const lsec_store_approvable *row)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_approvable again;
	lsec_buf man = LSEC_BUF_INIT(1 << 16);
	json_t *j = NULL;
	const char *build = NULL;
	if (lsec_store_release_get(&again, &man, st, row->name, row->version, &err) == 0 &&
	    lsec_json_parse(&j, (const char *)man.data, man.len, "manifest", &err) == 0) {
		build = json_string_value(json_object_get(j, "build"));
	}
	lsec_web__text(p, build != NULL ? build : "?");
	json_decref(j);
	lsec_buf_release(&man);
}

static void release_row(lsec_web__page *p, lsec_store *st, const lsec_station_release *rel,
			bool officer, const char *csrf)
{
	const lsec_store_approvable *row = &rel->row;
	lsec_web__raw(p, "<tr><td>");
	lsec_web__textf(p, "%lld", (long long)row->id);
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, row->name);
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, row->version);
	lsec_web__raw(p, "</td><td><code>");
	lsec_web__text(p, row->digest);
	lsec_web__raw(p, "</code></td><td>");
	release_build(p, st, row);
	lsec_web__raw(p, "</td><td class=\"state\">");
	lsec_web__text(p, lsec_station_release_state_name(rel->state));
	if (rel->state == LSEC_STATION_RELEASE_REVOKED) {
		lsec_web__textf(p, " by %s at %s", row->revoked_by, row->revoked);
	}
	lsec_web__raw(p, "</td><td>");
	lsec_web__textf(p, "%s at %s", row->created_by, row->created);
	lsec_web__raw(p, "</td><td>");
	lsec_web__textf(p, "%s%s%s", row->approvers[0], row->approvers[1][0] ? ", " : "",
			row->approvers[1]);
	lsec_web__raw(p, "</td></tr>");
	if (officer && rel->state == LSEC_STATION_RELEASE_SUBMITTED) {
		char meaning[sizeof(lsec_store_approvable) + 128];
		approval_meaning(meaning, sizeof(meaning), row);
		lsec_web__raw(p, "<tr><td colspan=\"8\"><form method=\"post\" "
				 "action=\"/releases/approve\">");
		lsec_web__raw(p, "<input type=\"hidden\" name=\"release\" value=\"");
		lsec_web__textf(p, "%lld", (long long)row->id);
		lsec_web__raw(p, "\">");
		lsec_web__sign_fields(p, csrf, meaning);
		lsec_web__raw(p, "<button type=\"submit\">Approve and sign</button></form></td></tr>");
	}
}

static enum MHD_Result releases_page(lsec_web__request *r, unsigned status, const char *msg,
				     bool msg_ok)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	lsec_station_release *rels = NULL;
	size_t n = 0;
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Releases");
	lsec_web__raw(&p, "<h2>Releases</h2>");
	lsec_web__result(&p, msg, msg_ok);
	if (lsec_web__station_open(&setup, &st, r, LSEC_WEB__ANYONE, "list releases", &err) < 0 ||
	    lsec_station_release_list(&rels, &n, st, &err) < 0) {
		lsec_web__error(&p, err.msg);
		goto out;
	}
	lsec_web__raw(&p, "<p>A release is approved when a second security officer, not its "
			  "submitter, signs it after every image check.</p>"
			  "<table id=\"releases\"><tr><th>id</th><th>product</th><th>version</th>"
			  "<th>image SHA-256</th><th>build</th><th>state</th><th>submitted</th>"
			  "<th>signed by</th></tr>");
	for (size_t i = 0; i < n; i++) {
		release_row(&p, lsec_station_store(st), &rels[i], r->who.role == LSEC_ROLE_SECURITY_OFFICER, r->session->csrf);
	}
	lsec_web__raw(&p, "</table>");
	if (n == 0) {
		lsec_web__raw(&p, "<p>No release has been submitted.</p>");
	}
out:
	lsec_free(rels);
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, NULL);
}

static enum MHD_Result releases_get(lsec_web__request *r)
{
	return releases_page(r, 200, NULL, false);
}

static enum MHD_Result approve_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	char done[LSEC_WEB_BODY_MAX + LSEC_STORE_NAME_MAX + 64];
	const char *id = lsec_web_field_get(&r->form, "release");
	memset(&who, 0, sizeof(who));
	if (id == NULL || id[0] == '\0') {
		return releases_page(r, 400, "the form's field 'release' is empty: which release?",
				     false);
	}
	/* As `linesec release approve`: the signature now, then the library's approval. */
	if (lsec_web__sign(&who, r, OFFICER, ACTION_APPROVE, &err) < 0 ||
	    lsec_web__station_open(&setup, &st, r, OFFICER, ACTION_APPROVE, &err) < 0 ||
	    lsec_station_release_approve(st, id, who.name, &err) < 0) {
		lsec_station_close(st);
		lsec_station_setup_close(setup);
		return releases_page(r, lsec_web__status_of(&err), err.msg, false);
	}
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	snprintf(done, sizeof(done), "release %s approved by %s", id, who.name);
	return releases_page(r, 200, done, true);
}

static const lsec_web__route routes[] = {
    {"GET", "/releases", LSEC_WEB__ANYONE, "list releases", releases_get},
    {"POST", "/releases/approve", OFFICER, ACTION_APPROVE, approve_post},
};

const lsec_web__routes lsec_web__releases_routes = {routes, sizeof(routes) / sizeof(routes[0])};
