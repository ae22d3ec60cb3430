/*
 * dashboard.c - the dashboard (GET /): units by state, the quarantine list
 * with each unit's reason and next action (from its leaves), today's
 * first-pass yield, whether the audit log verifies and its last
 * checkpoint.
 */
#include "web_int.h"

#include "linesec/audit.h"
#include "linesec/report.h"
#include "linesec/sop.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* What each SOP on-failure "then" (lsec_sop_then_name) leaves the line to do, in words. */
static const char *const then_words[] = {
    [LSEC_SOP_THEN_QUARANTINE] = "A supervisor decides on rework or scrap.",
    [LSEC_SOP_THEN_STOP_LINE] = "The line stopped: nothing runs until a supervisor saw it.",
    [LSEC_SOP_THEN_DECOMMISSION] = "Decommission the unit.",
    [LSEC_SOP_THEN_CONTINUE] = "Recorded; the run went on.",
};

/* The words of a recorded "then" name, or the name itself when no SOP then has it. */
static const char *then_text(const char *then)
{
	for (size_t t = 0; then != NULL && t < sizeof(then_words) / sizeof(then_words[0]); t++) {
		const char *name = lsec_sop_then_name((lsec_sop_then)t);
		if (name != NULL && strcmp(name, then) == 0) { /* lint:ok */
			return then_words[t];
		}
	}
	return then != NULL ? then : "?";
}

/* A string of a leaf, or "?" when it has none. */
static const char *field_or(const json_t *v)
{
	const char *s = json_string_value(v);
	return s != NULL ? s : "?";
}

/*
 * The quarantine reason and next action of a unit, from the signed log
 * (its last unit.quarantine leaf: the failed step, why, and the SOP's
 * on-failure with its message), not from a registry column SQL could
 * rewrite. A unit quarantined another way shows its last leaf.
 */
static void quarantine_cells(lsec_web__page *p, lsec_store *st, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	json_t *leaves = NULL, *l, *q = NULL, *last = NULL;
	size_t i;
	if (lsec_audit_unit_leaves(&leaves, st, serial, &err) < 0) {
		lsec_web__raw(p, "<td colspan=\"2\" class=\"bad\">");
		lsec_web__textf(p, "cannot read its leaves: %s", err.msg);
		lsec_web__raw(p, "</td>");
		return;
	}
	json_array_foreach(leaves, i, l)
	{
		last = l;
		if (lsec_audit_leaf_matches(l, "unit.quarantine", NULL)) {
			q = l;
		}
	}
	lsec_web__raw(p, "<td>");
	if (q != NULL) {
		json_t *ev = json_object_get(q, "evidence");
		const char *then = json_string_value(json_object_get(ev, "then"));
		const char *msg = json_string_value(json_object_get(ev, "message"));
		lsec_web__textf(p, "SOP %s, step %s: ",
				field_or(json_object_get(q, "sop")),
				field_or(json_object_get(ev, "failed-step")));
		lsec_web__text(p, field_or(json_object_get(ev, "reason")));
		lsec_web__raw(p, "</td><td class=\"next\">");
		lsec_web__text(p, then_text(then));
		if (msg != NULL && msg[0] != '\0') {
			lsec_web__raw(p, " <strong>");
			lsec_web__text(p, msg);
			lsec_web__raw(p, "</strong>");
		}
	} else if (last != NULL) {
		lsec_web__textf(p, "%s: %s",
				field_or(json_object_get(last, "action")),
				field_or(json_object_get(last, "outcome")));
		lsec_web__raw(p, "</td><td class=\"next\">");
		lsec_web__text(p, "See the unit's record.");
	} else {
		lsec_web__raw(p, "(no leaf names the unit)</td><td class=\"next\">");
	}
	lsec_web__raw(p, "</td>");
	json_decref(leaves);
}

static void dashboard_units(lsec_web__page *p, lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_unit *units = NULL;
	size_t n = 0, count[LSEC_UNIT_STATE_COUNT] = {0};
	lsec_web__raw(p, "<h2>Units by state</h2>");
	if (lsec_store_unit_list(&units, &n, st, NULL, &err) < 0) {
		lsec_web__raw(p, "<p class=\"bad\">");
		lsec_web__text(p, err.msg);
		lsec_web__raw(p, "</p>");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)units[i].state < LSEC_UNIT_STATE_COUNT) {
			count[units[i].state]++;
		}
	}
	lsec_web__raw(p, "<table id=\"states\"><tr><th>state</th><th>units</th></tr>");
	for (unsigned s = 0; s < LSEC_UNIT_STATE_COUNT; s++) {
		lsec_web__raw(p, "<tr><td>");
		lsec_web__text(p, lsec_unit_state_name((lsec_unit_state)s));
		lsec_web__raw(p, "</td><td>");
		lsec_web__textf(p, "%zu", count[s]);
		lsec_web__raw(p, "</td></tr>");
	}
	lsec_web__raw(p, "</table><h2>Quarantine</h2>");
	if (count[LSEC_UNIT_QUARANTINED] == 0) {
		lsec_web__raw(p, "<p>No unit is quarantined.</p>");
	} else {
		lsec_web__raw(p, "<table "
		       "id=\"quarantine\"><tr><th>unit</th><th>product</th><th>since</th>"
		       "<th>reason</th><th>next action</th></tr>");
		for (size_t i = 0; i < n; i++) {
			if (units[i].state != LSEC_UNIT_QUARANTINED) {
				continue;
			}
			lsec_web__raw(p, "<tr><td><a href=\"/units/");
			lsec_web__text(p, units[i].serial);
			lsec_web__raw(p, "\">");
			lsec_web__text(p, units[i].serial);
			lsec_web__raw(p, "</a></td><td>");
			lsec_web__text(p, units[i].product);
			lsec_web__raw(p, "</td><td>");
			lsec_web__text(p, units[i].updated);
			lsec_web__raw(p, "</td>");
			quarantine_cells(p, st, units[i].serial);
			lsec_web__raw(p, "</tr>");
		}
		lsec_web__raw(p, "</table>");
	}
	lsec_free(units);
}

/* Today's first-pass yield (UTC day) by SOP and step (lsec_report_yield_list). */
static void dashboard_yield(lsec_web__page *p, lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_report_yield *y = NULL;
	size_t n = 0;
	char now[32], today[16];
	lsec_time_utc(now);
	snprintf(today, sizeof(today), "%.10s", now);
	lsec_web__raw(p, "<h2>First-pass yield today</h2>");
	if (lsec_report_yield_list(&y, &n, st, today, NULL, &err) < 0) {
		lsec_web__error(p, err.msg);
		return;
	}
	if (n == 0) {
		lsec_web__raw(p, "<p id=\"yield-none\">No unit ran a SOP for the first time today.</p>");
	} else {
		lsec_web__raw(p, "<table id=\"yield\"><tr><th>SOP</th><th>step</th><th>units</th>"
				 "<th>first pass</th><th>yield</th></tr>");
	}
	for (size_t i = 0; i < n; i++) {
		lsec_web__raw(p, y[i].step[0] ? "<tr><td>" : "<tr class=\"sop\"><td>");
		lsec_web__text(p, y[i].sop);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, y[i].step[0] ? y[i].step : "(all steps)");
		lsec_web__raw(p, "</td><td>");
		lsec_web__textf(p, "%zu", y[i].units);
		lsec_web__raw(p, "</td><td>");
		lsec_web__textf(p, "%zu", y[i].first_pass);
		lsec_web__raw(p, "</td><td>");
		lsec_web__textf(p, "%.1f %%", 100.0 * (double)y[i].first_pass / (double)y[i].units);
		lsec_web__raw(p, "</td></tr>");
	}
	if (n > 0) {
		lsec_web__raw(p, "</table>");
	}
	lsec_free(y);
}

/*
 * Whether the log verifies: from scratch on the first load, then from what
 * the last load verified (the leaves before it hashed again against its
 * root, every later leaf checked in full), so a load costs what came since
 * plus one hash per older leaf, not a signature check per leaf. A leaf
 * changed before that point makes it verify from scratch, which names it.
 */
static void dashboard_log(lsec_web__page *p, lsec_web__server *srv)
{
	lsec_err err = LSEC_ERR_INIT;
	struct evp_pkey_st **pubs = NULL;
	size_t npubs = 0;
	lsec_line_verify_report rep;
	uint64_t before = srv->verified ? srv->verified_at.size : 0;
	int rc;
	memset(&rep, 0, sizeof(rep));
	lsec_web__raw(p, "<h2>Audit log</h2><p id=\"log\">");
	rc = lsec_line_trusted_keys(&pubs, &npubs, srv->line, &err);
	if (rc == 0) {
		rc = lsec_line_audit_verify_since(&rep, srv->line,
						  (const struct evp_pkey_st *const *)pubs, npubs,
						  srv->verified ? &srv->verified_at : NULL, &err);
		if (rc < 0 && srv->verified) {
			/*
			 * A failure from the kept point stands (leaves deleted after it
			 * was verified are not seen by a pass from scratch): the full
			 * pass only names the leaf when it can, and the kept point stays.
			 */
			lsec_err full = LSEC_ERR_INIT;
			lsec_line_verify_report again;
			if (lsec_line_audit_verify_since(&again, srv->line,
							 (const struct evp_pkey_st *const *)pubs,
							 npubs, NULL, &full) < 0) {
				err = full;
			}
		}
	}
	if (rc < 0) {
		lsec_web__raw(p, "<span class=\"bad\">The log does not verify: ");
		lsec_web__text(p, err.msg);
		lsec_web__raw(p, "</span></p>");
		goto out;
	}
	srv->verified = true;
	srv->verified_at.size = rep.log.leaves;
	memcpy(srv->verified_at.root, rep.log.root, 32);
	lsec_web__raw(p, "<span class=\"ok\">The log verifies</span>: ");
	lsec_web__textf(p, "%llu leaves (%llu checked in full now), %llu checkpoints.",
			(unsigned long long)rep.log.leaves,
			(unsigned long long)(rep.log.leaves - before),
			(unsigned long long)rep.log.checkpoints);
	lsec_web__raw(p, "</p><p id=\"checkpoint\">");
	if (rep.log.has_checkpoint) {
		char hex[65];
		lsec_hex_encode(hex, rep.log.latest.root, 32);
		lsec_web__textf(p, "Last checkpoint: %llu leaves, root %s (%s).",
		      (unsigned long long)rep.log.latest.size, hex, rep.log.latest.origin);
	} else {
		lsec_web__text(p, "No checkpoint has been signed yet.");
	}
	lsec_web__raw(p, "</p>");
out:
	lsec_audit_pubkeys_free(pubs, npubs);
}

static enum MHD_Result dashboard(lsec_web__request *r)
{
	lsec_line *line = r->srv->line;
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Dashboard");
	lsec_web__raw(&p, "<p>");
	lsec_web__textf(&p, "Line %s, station %s. %s (%s).", lsec_line_id(line), lsec_line_station(line),
	      r->who.name, lsec_role_name(r->who.role));
	lsec_web__raw(&p, "</p><form class=\"inline\" method=\"post\" action=\"/logout\">");
	lsec_web__csrf_field(&p, r->session->csrf);
	lsec_web__raw(&p, "<button type=\"submit\">Log out</button></form>");
	dashboard_units(&p, lsec_line_store(line));
	dashboard_yield(&p, lsec_line_store(line));
	dashboard_log(&p, r->srv);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, 200, &p, NULL);
}


static const lsec_web__route routes[] = {
    {"GET", "/", LSEC_WEB__ANYONE, "see the dashboard", dashboard},
};

const lsec_web__routes lsec_web__dashboard_routes = {routes, sizeof(routes) / sizeof(routes[0])};
