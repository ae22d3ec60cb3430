/*
 * units.c - GET /units (?state=S): the units of the registry (as `linesec
 * unit list`); GET /units/SERIAL: the device history record (as `linesec
 * unit show`: every run and every leaf, who, when, evidence) with its
 * inclusion proof, the checkpoint it is proven against and whether it
 * checks under the line's trusted keys; GET /units/SERIAL/proof: the proof
 * file itself, for `linesec audit check-proof`.
 */
#include "sign.h"

#include "linesec/audit.h"

#include <stdio.h>
#include <string.h>

#define ACTION_READ "read unit records"

static enum MHD_Result units_list(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	lsec_store_unit *units = NULL;
	size_t n = 0;
	lsec_unit_state s;
	unsigned status = 200;
	const char *want = lsec_web__query(r, "state");
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, "Units");
	lsec_web__raw(&p, "<h2>Units</h2><form method=\"get\" action=\"/units\"><label>State "
			  "<select name=\"state\"><option value=\"\">any</option>");
	for (unsigned i = 0; i < LSEC_UNIT_STATE_COUNT; i++) {
		const char *name = lsec_unit_state_name((lsec_unit_state)i);
		lsec_web__raw(&p, "<option");
		if (want != NULL && strcmp(want, name) == 0) { /* lint:ok */
			lsec_web__raw(&p, " selected");
		}
		lsec_web__raw(&p, ">");
		lsec_web__text(&p, name);
		lsec_web__raw(&p, "</option>");
	}
	lsec_web__raw(&p, "</select></label> <button type=\"submit\">Show</button></form>");
	if (want != NULL && want[0] == '\0') {
		want = NULL;
	}
	if ((want != NULL && lsec_unit_state_parse(&s, want, &err) < 0) ||
	    lsec_web__station_open(&setup, &st, r, LSEC_WEB__ANYONE, ACTION_READ, &err) < 0 ||
	    lsec_station_unit_list(&units, &n, st, want ? &s : NULL, &err) < 0) {
		status = lsec_web__status_of(&err);
		lsec_web__error(&p, err.msg);
		goto out;
	}
	lsec_web__raw(&p, "<table id=\"units\"><tr><th>serial</th><th>product</th><th>state</th>"
			  "<th>UID</th><th>updated</th></tr>");
	for (size_t i = 0; i < n; i++) {
		lsec_web__raw(&p, "<tr><td><a href=\"/units/");
		lsec_web__text(&p, units[i].serial);
		lsec_web__raw(&p, "\">");
		lsec_web__text(&p, units[i].serial);
		lsec_web__raw(&p, "</a></td><td>");
		lsec_web__text(&p, units[i].product);
		lsec_web__raw(&p, "</td><td>");
		lsec_web__text(&p, lsec_unit_state_name(units[i].state));
		lsec_web__raw(&p, "</td><td>");
		lsec_web__text(&p, units[i].uid);
		lsec_web__raw(&p, "</td><td>");
		lsec_web__text(&p, units[i].updated);
		lsec_web__raw(&p, "</td></tr>");
	}
	lsec_web__raw(&p, "</table>");
	lsec_web__textf(&p, "%zu unit(s).", n);
out:
	lsec_free(units);
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	lsec_web__foot(&p);
	return lsec_web__send_page(r->c, status, &p, NULL);
}

static void record_runs(lsec_web__page *p, const lsec_station_unit_record *rec)
{
	lsec_web__raw(p, "<h3>Runs</h3><table id=\"runs\"><tr><th>SOP</th><th>version</th>"
			 "<th>outcome</th><th>who</th><th>station</th><th>started</th>"
			 "<th>finished</th><th>release</th></tr>");
	for (size_t i = 0; i < rec->nruns; i++) {
		const lsec_store_run *run = &rec->runs[i];
		const char *cells[] = {run->sop,     run->sop_version, run->outcome[0] ? run->outcome : "open",
				       run->person,  run->station,     run->started,
				       run->finished, run->release};
		lsec_web__raw(p, "<tr>");
		for (size_t k = 0; k < sizeof(cells) / sizeof(cells[0]); k++) {
			lsec_web__raw(p, "<td>");
			lsec_web__text(p, cells[k]);
			lsec_web__raw(p, "</td>");
		}
		lsec_web__raw(p, "</tr>");
	}
	lsec_web__raw(p, "</table>");
}

static void record_events(lsec_web__page *p, const lsec_station_unit_record *rec)
{
	lsec_web__raw(p, "<h3>Steps and leaves</h3><table id=\"events\"><tr><th>leaf</th>"
			 "<th>time</th><th>SOP</th><th>step</th><th>action</th><th>outcome</th>"
			 "<th>who</th><th>evidence (the leaf)</th></tr>");
	for (size_t i = 0; i < rec->nevents; i++) {
		const lsec_station_unit_event *e = &rec->events[i];
		lsec_web__raw(p, "<tr><td>");
		lsec_web__textf(p, "%llu", (unsigned long long)e->seq);
		const char *cells[] = {e->time, e->sop, e->step, e->action, e->outcome, e->person};
		for (size_t k = 0; k < sizeof(cells) / sizeof(cells[0]); k++) {
			lsec_web__raw(p, "</td><td>");
			lsec_web__text(p, cells[k]);
		}
		lsec_web__raw(p, "</td><td><details><summary>leaf</summary><pre>");
		lsec_web__text(p, e->leaf != NULL ? e->leaf : "");
		lsec_web__raw(p, "</pre></details></td></tr>");
	}
	lsec_web__raw(p, "</table>");
}

/* The proof, the checkpoint it is proven against, and whether it checks. */
static void record_proof(lsec_web__page *p, lsec_line *line, const lsec_station_unit_record *rec)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_proof *proof = NULL;
	lsec_audit_checkpoint cp;
	struct evp_pkey_st **pubs = NULL;
	size_t npubs = 0;
	char root[65];
	memset(&cp, 0, sizeof(cp));
	lsec_web__raw(p, "<h3>Inclusion proof</h3>");
	if (rec->proof == NULL) {
		lsec_web__raw(p, "<p id=\"proof\">No inclusion proof yet: ");
		lsec_web__text(p, rec->proof_missing);
		lsec_web__raw(p, "</p>");
		return;
	}
	lsec_web__raw(p, "<p id=\"proof\">");
	if (lsec_line_trusted_keys(&pubs, &npubs, line, &err) < 0 ||
	    lsec_audit_proof_parse(&proof, rec->proof, strlen(rec->proof), &err) < 0 ||
	    lsec_audit_proof_check_keys(&cp, proof, (const struct evp_pkey_st *const *)pubs, npubs,
					&err) < 0) {
		lsec_web__raw(p, "<span class=\"bad\">The proof does not check: ");
		lsec_web__text(p, err.msg);
		lsec_web__raw(p, "</span>");
	} else {
		lsec_hex_encode(root, cp.root, 32);
		lsec_web__raw(p, "<span class=\"ok\">The proof checks</span>: ");
		lsec_web__textf(p,
				"%zu leaves, each included in the tree of the signed checkpoint "
				"of %s: tree size %llu, root %s.",
				lsec_audit_proof_count(proof), cp.origin,
				(unsigned long long)cp.size, root);
	}
	lsec_web__raw(p, "</p><details><summary>The leaves the proof covers</summary><table "
			 "id=\"proof-leaves\"><tr><th>leaf index</th><th>tree size</th></tr>");
	for (size_t i = 0; proof != NULL && i < lsec_audit_proof_count(proof); i++) {
		lsec_web__raw(p, "<tr><td>");
		lsec_web__textf(p, "%llu", (unsigned long long)lsec_audit_proof_index(proof, i));
		lsec_web__raw(p, "</td><td>");
		lsec_web__textf(p, "%llu", (unsigned long long)rec->proof_tree_size);
		lsec_web__raw(p, "</td></tr>");
	}
	lsec_web__raw(p, "</table></details><p><a href=\"/units/");
	lsec_web__text(p, rec->unit.serial);
	lsec_web__raw(p, "/proof\">Download the proof file</a> (check it offline with "
			 "<code>linesec audit check-proof FILE --pubkey station.pub</code>). Its "
			 "checkpoint and audit paths:</p><details><summary>proof file</summary><pre "
			 "id=\"proof-file\">");
	lsec_web__text(p, rec->proof);
	lsec_web__raw(p, "</pre></details>");
	lsec_audit_proof_free(proof);
	lsec_audit_pubkeys_free(pubs, npubs);
}

static enum MHD_Result unit_show(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_setup *setup = NULL;
	lsec_station *st = NULL;
	lsec_station_unit_record *rec = NULL;
	char serial[LSEC_STORE_NAME_MAX + 1];
	unsigned status = 200;
	enum MHD_Result ret;
	const char *slash = strchr(r->tail, '/');
	size_t len = slash != NULL ? (size_t)(slash - r->tail) : strlen(r->tail);
	bool want_proof = slash != NULL && strcmp(slash, "/proof") == 0; /* lint:ok */
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	if ((slash != NULL && !want_proof) || len == 0 || len >= sizeof(serial)) {
		lsec_buf_release(&p.b);
		return lsec_web__send_message(r->c, 404, "Not found",
					      "there is no such page: /units/SERIAL or "
					      "/units/SERIAL/proof");
	}
	memcpy(serial, r->tail, len);
	serial[len] = '\0';
	if (lsec_web__station_open(&setup, &st, r, LSEC_WEB__ANYONE, ACTION_READ, &err) < 0 ||
	    lsec_station_unit_show(&rec, st, serial, &err) < 0) {
		lsec_buf_release(&p.b);
		ret = lsec_web__send_message(r->c, lsec_web__status_of(&err), "Unit", err.msg);
		goto out;
	}
	if (want_proof) {
		lsec_buf_release(&p.b);
		if (rec->proof == NULL) {
			ret = lsec_web__send_message(r->c, 404, "No proof yet", rec->proof_missing);
		} else {
			ret = lsec_web__send_buf(r->c, 200, "application/json", rec->proof,
						 strlen(rec->proof), NULL, NULL);
		}
		goto out;
	}
	lsec_web__head(&p, serial);
	lsec_web__raw(&p, "<h2>Device history record of ");
	lsec_web__text(&p, serial);
	lsec_web__raw(&p, "</h2><p id=\"unit\">");
	lsec_web__textf(&p, "Product %s, state %s, UID %s, registered %s.", rec->unit.product,
			lsec_unit_state_name(rec->unit.state), rec->unit.uid, rec->unit.created);
	lsec_web__raw(&p, "</p>");
	record_runs(&p, rec);
	record_events(&p, rec);
	record_proof(&p, r->srv->line, rec);
	lsec_web__foot(&p);
	ret = lsec_web__send_page(r->c, status, &p, NULL);
out:
	lsec_station_unit_record_free(rec);
	lsec_station_close(st);
	lsec_station_setup_close(setup);
	return ret;
}

static const lsec_web__route routes[] = {
    {"GET", "/units", LSEC_WEB__ANYONE, ACTION_READ, units_list},
    {"GET", "/units/", LSEC_WEB__ANYONE, ACTION_READ, unit_show},
};

const lsec_web__routes lsec_web__units_routes = {routes, sizeof(routes) / sizeof(routes[0])};
