/*
 * scrap.c - GET /scrap (?since=DATE): the sanitisation record (NIST SP
 * 800-88) of the decommissioned units, built from the audit log by
 * lsec_station_report_scrap, as `linesec report scrap` prints it.
 */
#include "sign.h"

#include <stdio.h>

static const char *dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void step_cell(lsec_web__page *p, const lsec_station_scrap_step *s, const char *what)
{
	lsec_web__raw(p, "<td>");
	if (s->recorded) {
		lsec_web__textf(p, "%s by %s%s%s", dash(s->time), dash(s->by), what ? ", " : "",
				what ? what : "");
	} else {
		lsec_web__text(p, "no");
	}
	lsec_web__raw(p, "</td>");
}

static void scrap_unit(lsec_web__page *p, const lsec_station_scrap_report_unit *e)
{
	char buf[256];
	lsec_web__raw(p, "<tr><td>");
	lsec_web__text(p, e->serial);
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, e->product);
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, e->status);
	lsec_web__raw(p, "</td><td>");
	lsec_web__text(p, dash(e->sanitisation));
	lsec_web__raw(p, "</td>");
	snprintf(buf, sizeof(buf), "reason %s", dash(e->decommissioned.reason));
	step_cell(p, &e->decommissioned, buf);
	if (e->wiped.recorded) {
		step_cell(p, &e->wiped, e->wiped.erase);
	} else {
		lsec_web__raw(p, "<td>");
		lsec_web__textf(p, "no (%s)", e->decommissioned.unreachable ? e->decommissioned.unreachable
									 : "not done");
		lsec_web__raw(p, "</td>");
	}
	snprintf(buf, sizeof(buf), "flash read back sha256 %s", dash(e->verified.readback_sha256));
	step_cell(p, &e->verified, buf);
	snprintf(buf, sizeof(buf), "%s, %zu certificate(s), CRL %lld", dash(e->revoked.crl_reason),
		 e->revoked.ncertificates, (long long)e->revoked.crl_number);
	step_cell(p, &e->revoked, buf);
	snprintf(buf, sizeof(buf), "%s, destroyed by %s, witnessed by %s%s%s",
		 dash(e->destroyed.method), dash(e->destroyed.destroyed_by),
		 dash(e->destroyed.witnessed_by), e->destroyed.photo_sha256 ? ", photo sha256 " : "",
		 e->destroyed.photo_sha256 ? e->destroyed.photo_sha256 : "");
	step_cell(p, &e->destroyed, buf);
	lsec_web__raw(p, "</tr>");
}

static enum MHD_Result scrap_page(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	lsec_station_scrap_report *rep = NULL;
	unsigned status = 200;
	const char *since = lsec_web__query(r, "since");
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Scrap");
	lsec_web__raw(&p, "<h2>Scrap and sanitisation record</h2>");
	if (since != NULL && since[0] == '\0') {
		since = NULL;
	}
	if (lsec_web__station_open(&setup, &st, r, LSEC_WEB__ANYONE, "report on scrap", &err) < 0 ||
	    lsec_station_report_scrap(&rep, st, since, &err) < 0) {
		status = lsec_web__status_of(&err);
		lsec_web__error(&p, err.msg);
		goto out;
	}
	lsec_web__raw(&p, "<p>");
	lsec_web__textf(&p, "NIST SP 800-88, built from the audit log; generated %s, since %s.",
			rep->generated, dash(rep->since));
	lsec_web__raw(&p, "</p><table id=\"scrap\"><tr><th>unit</th><th>product</th><th>status</th>"
			  "<th>sanitisation</th><th>decommissioned</th><th>wiped</th>"
			  "<th>verified</th><th>revoked</th><th>destroyed</th></tr>");
	for (size_t i = 0; i < rep->nunits; i++) {
		scrap_unit(&p, &rep->units[i]);
	}
	lsec_web__raw(&p, "</table><p id=\"pending\">");
	lsec_web__textf(&p, "%zu unit(s) reported; %zu pending destruction", rep->nunits,
			rep->npending);
	for (size_t i = 0; i < rep->npending; i++) {
		lsec_web__text(&p, i == 0 ? ": " : ", ");
		lsec_web__text(&p, rep->pending[i]);
	}
	lsec_web__raw(&p, ".</p>");
out:
	lsec_station_scrap_report_free(rep);
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, NULL);
}

static const lsec_web__route routes[] = {
    {"GET", "/scrap", LSEC_WEB__ANYONE, "report on scrap", scrap_page},
};

const lsec_web__routes lsec_web__scrap_routes = {routes, sizeof(routes) / sizeof(routes[0])};
