/*
 * dashboard.c - the dashboard (GET /): units by state, the quarantine list
 * with each unit's last run, whether the audit log verifies and its last
 * checkpoint.
 */
#include "web_int.h"

#include "linesec/audit.h"
#include "linesec/report.h"

#include <stdio.h>
#include <string.h>

/* The quarantine reason of a unit: its last run, as the registry holds it. */
static void quarantine_reason(lsec_web__page *p, lsec_store *st, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_run *runs = NULL;
	size_t n = 0;
	if (lsec_store_run_list(&runs, &n, st, serial, &err) < 0) {
		lsec_web__textf(p, "(cannot read its runs: %s)", err.msg);
	} else if (n == 0) {
		lsec_web__text(p, "(no run recorded)");
	} else {
		const lsec_store_run *last = &runs[n - 1];
		lsec_web__textf(p, "SOP %s %s: %s at %s by %s", last->sop, last->sop_version,
		      last->outcome[0] ? last->outcome : "open",
		      last->finished[0] ? last->finished : last->started, last->person);
	}
	lsec_free(runs);
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
		       "<th>reason</th></tr>");
		for (size_t i = 0; i < n; i++) {
			if (units[i].state != LSEC_UNIT_QUARANTINED) {
				continue;
			}
			lsec_web__raw(p, "<tr><td>");
			lsec_web__text(p, units[i].serial);
			lsec_web__raw(p, "</td><td>");
			lsec_web__text(p, units[i].product);
			lsec_web__raw(p, "</td><td>");
			lsec_web__text(p, units[i].updated);
			lsec_web__raw(p, "</td><td>");
			quarantine_reason(p, st, units[i].serial);
			lsec_web__raw(p, "</td></tr>");
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

static void dashboard_log(lsec_web__page *p, lsec_line *line)
{
	lsec_err err = LSEC_ERR_INIT;
	struct evp_pkey_st **pubs = NULL;
	size_t npubs = 0;
	lsec_line_verify_report rep;
	memset(&rep, 0, sizeof(rep));
	lsec_web__raw(p, "<h2>Audit log</h2><p id=\"log\">");
	if (lsec_line_trusted_keys(&pubs, &npubs, line, &err) < 0 ||
	    lsec_line_audit_verify(&rep, line, (const struct evp_pkey_st *const *)pubs, npubs, NULL,
				   &err) < 0) {
		lsec_web__raw(p, "<span class=\"bad\">The log does not verify: ");
		lsec_web__text(p, err.msg);
		lsec_web__raw(p, "</span></p>");
		goto out;
	}
	lsec_web__raw(p, "<span class=\"ok\">The log verifies</span>: ");
	lsec_web__textf(p, "%llu leaves, %llu checkpoints.", (unsigned long long)rep.log.leaves,
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
	dashboard_log(&p, line);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, 200, &p, NULL);
}


static const lsec_web__route routes[] = {
    {"GET", "/", LSEC_WEB__ANYONE, "see the dashboard", dashboard},
};

const lsec_web__routes lsec_web__dashboard_routes = {routes, sizeof(routes) / sizeof(routes[0])};
