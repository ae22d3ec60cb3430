/*
 * live.c - the live station view (GET /live): each socket's unit, SOP, step
 * and result, the newest run of every socket as the registry holds it
 * (lsec_store_socket_runs), while a gang run in another process builds.
 *
 * GET /live/events is a server-sent event stream of short responses: each
 * carries the current state as one event and a retry: field, and ends; the
 * browser's EventSource reconnects after that many milliseconds. No
 * connection is held open, so the one polling thread of the server is never
 * blocked by a watcher. GET /live.js is the page's one script (no inline
 * script: the CSP allows script from this server only); it inserts every
 * value with textContent. Without script the page refreshes itself.
 */
#include "web_int.h"

#include <stdio.h>
#include <string.h>

/* Milliseconds between two events of the stream (the EventSource retry). */
#define LIVE_RETRY_MS 1000

/* The result shown for a run: its outcome, or "running" while open. */
static const char *live_result(const lsec_store_socket_run *s)
{
	return s->outcome[0] ? s->outcome : "running";
}

/* The step shown for a run: "step (outcome)", "step (running)", or "". */
static void live_step(char *out, size_t cap, const lsec_store_socket_run *s)
{
	if (s->step[0] == '\0') {
		snprintf(out, cap, "%s", "");
	} else {
		snprintf(out, cap, "%s (%s)", s->step, s->step_outcome[0] ? s->step_outcome : "running");
	}
}

static enum MHD_Result live_page(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_socket_run *socks = NULL;
	size_t n = 0;
	char step[2 * LSEC_STORE_NAME_MAX + 16];
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head_with(&p, "Live",
			    "<script src=\"/live.js\" defer></script>"
			    "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>");
	lsec_web__raw(&p, "<h2>Live station view</h2><p id=\"live-status\">");
	lsec_web__text(&p, "The newest run of each socket, as the registry holds it.");
	lsec_web__raw(&p, "</p><table id=\"live\"><thead><tr><th>station</th><th>socket</th>"
			  "<th>unit</th><th>SOP</th><th>step</th><th>result</th></tr></thead><tbody>");
	if (lsec_store_socket_runs(&socks, &n, lsec_line_store(r->srv->line), &err) < 0) {
		lsec_web__raw(&p, "</tbody></table>");
		lsec_web__error(&p, err.msg);
	} else {
		for (size_t i = 0; i < n; i++) {
			const lsec_store_socket_run *s = &socks[i];
			live_step(step, sizeof(step), s);
			lsec_web__raw(&p, "<tr><td>");
			lsec_web__text(&p, s->station);
			lsec_web__raw(&p, "</td><td>");
			lsec_web__textf(&p, "%u", s->socket);
			lsec_web__raw(&p, "</td><td>");
			lsec_web__text(&p, s->serial);
			lsec_web__raw(&p, "</td><td>");
			lsec_web__text(&p, s->sop);
			lsec_web__raw(&p, "</td><td>");
			lsec_web__text(&p, step);
			lsec_web__raw(&p, "</td><td>");
			lsec_web__text(&p, live_result(s));
			lsec_web__raw(&p, "</td></tr>");
		}
		lsec_web__raw(&p, "</tbody></table>");
		if (n == 0) {
			lsec_web__raw(&p, "<p id=\"live-none\">No socket has built a unit yet.</p>");
		}
	}
	lsec_web__foot(&p);
	lsec_free(socks);
	return lsec_web__send_page(r->c, 200, &p, NULL);
}

/* A JSON string of v: quotes, backslashes and control characters escaped, and
 * <, >, & as \u escapes too. */
static void json_str(lsec_buf *b, const char *v, bool *failed)
{
	lsec_err e = LSEC_ERR_INIT;
	char u[8];
	*failed |= lsec_buf_append(b, "\"", 1, &e) < 0;
	for (const unsigned char *c = (const unsigned char *)v; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\' || *c < 0x20 || *c == '<' || *c == '>' || *c == '&') {
			snprintf(u, sizeof(u), "\\u%04x", *c);
			*failed |= lsec_buf_append(b, u, 6, &e) < 0;
		} else {
			*failed |= lsec_buf_append(b, c, 1, &e) < 0;
		}
	}
	*failed |= lsec_buf_append(b, "\"", 1, &e) < 0;
}

static void json_field(lsec_buf *b, const char *name, const char *v, bool last, bool *failed)
{
	lsec_err e = LSEC_ERR_INIT;
	json_str(b, name, failed);
	*failed |= lsec_buf_append(b, ":", 1, &e) < 0;
	json_str(b, v, failed);
	*failed |= lsec_buf_append(b, last ? "}" : ",", 1, &e) < 0;
}

static enum MHD_Result live_events(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_socket_run *socks = NULL;
	size_t n = 0;
	bool failed = false;
	char head[96], num[16], step[2 * LSEC_STORE_NAME_MAX + 16];
	lsec_buf b = LSEC_BUF_INIT(LSEC_WEB__PAGE_MAX);
	enum MHD_Result ret;
	snprintf(head, sizeof(head), "retry: %d\nevent: sockets\ndata: [", LIVE_RETRY_MS);
	failed |= lsec_buf_append(&b, head, strlen(head), &err) < 0;
	if (lsec_store_socket_runs(&socks, &n, lsec_line_store(r->srv->line), &err) < 0) {
		ret = lsec_web__send_message(r->c, 500, "Error", err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const lsec_store_socket_run *s = &socks[i];
		live_step(step, sizeof(step), s);
		snprintf(num, sizeof(num), "%u", s->socket);
		failed |= lsec_buf_append(&b, i ? ",{" : "{", i ? 2 : 1, &err) < 0;
		json_field(&b, "station", s->station, false, &failed);
		json_field(&b, "socket", num, false, &failed);
		json_field(&b, "unit", s->serial, false, &failed);
		json_field(&b, "sop", s->sop, false, &failed);
		json_field(&b, "step", step, false, &failed);
		json_field(&b, "result", live_result(s), true, &failed);
	}
	failed |= lsec_buf_append(&b, "]\n\n", 3, &err) < 0;
	if (failed) {
		ret = lsec_web__send_message(r->c, 500, "Error", "the event could not be built");
	} else {
		ret = lsec_web__send_buf(r->c, 200, "text/event-stream; charset=utf-8", b.data, b.len,
					 NULL, NULL);
	}
out:
	lsec_free(socks);
	lsec_buf_release(&b);
	return ret;
}

/* The live page's script: rows from each event, every value as textContent. */
static const char live_js[] =
    "'use strict';\n"
    "(function () {\n"
    "  var table = document.getElementById('live');\n"
    "  var status = document.getElementById('live-status');\n"
    "  if (!table || !window.EventSource) { return; }\n"
    "  var cells = ['station', 'socket', 'unit', 'sop', 'step', 'result'];\n"
    "  var good = { passed: 1 }, bad = { failed: 1, interrupted: 1 };\n"
    "  function render(rows) {\n"
    "    var body = document.createElement('tbody');\n"
    "    rows.forEach(function (row) {\n"
    "      var tr = document.createElement('tr');\n"
    "      cells.forEach(function (name) {\n"
    "        var td = document.createElement('td');\n"
    "        td.textContent = String(row[name] === undefined ? '' : row[name]);\n"
    "        if (name === 'result') {\n"
    "          td.className = good[row.result] ? 'ok' : (bad[row.result] ? 'bad' : '');\n"
    "        }\n"
    "        tr.appendChild(td);\n"
    "      });\n"
    "      body.appendChild(tr);\n"
    "    });\n"
    "    table.replaceChild(body, table.tBodies[0]);\n"
    "    var none = document.getElementById('live-none');\n"
    "    if (none && rows.length) { none.parentNode.removeChild(none); }\n"
    "  }\n"
    "  var events = new EventSource('/live/events');\n"
    "  events.addEventListener('sockets', function (ev) {\n"
    "    var rows;\n"
    "    try { rows = JSON.parse(ev.data); } catch (e) { return; }\n"
    "    if (!Array.isArray(rows)) { return; }\n"
    "    render(rows);\n"
    "    status.textContent = 'Live: updated ' + new Date().toLocaleTimeString() + '.';\n"
    "  });\n"
    "  events.addEventListener('error', function () {\n"
    "    if (events.readyState === EventSource.CLOSED) {\n"
    "      status.textContent = 'Not live: the server refused the events (log in again).';\n"
    "    }\n"
    "  });\n"
    "})();\n";

static enum MHD_Result live_script(lsec_web__request *r)
{
	return lsec_web__send_buf(r->c, 200, "text/javascript; charset=utf-8", live_js,
				  sizeof(live_js) - 1, NULL, NULL);
}

static const lsec_web__route routes[] = {
    {"GET", "/live", LSEC_WEB__ANYONE, "see the live station view", live_page},
    {"GET", "/live/events", LSEC_WEB__ANYONE, "see the live station view", live_events},
    {"GET", "/live.js", 0, "load the live view's script", live_script},
};

const lsec_web__routes lsec_web__live_routes = {routes, sizeof(routes) / sizeof(routes[0])};
