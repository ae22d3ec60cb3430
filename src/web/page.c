/*
 * page.c - building a page and sending a response. Markup comes from
 * linesec's source (lsec_web__raw); every value goes through
 * lsec_web__text, which escapes it. Every response carries the security
 * headers: no script, no framing, nothing from elsewhere, nothing cached.
 */
#include "web_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lsec_web__raw(lsec_web__page *p, const char *markup)
{
	lsec_err e = LSEC_ERR_INIT;
	if (!p->failed && lsec_buf_append(&p->b, markup, strlen(markup), &e) < 0) {
		p->failed = true;
	}
}

void lsec_web__text(lsec_web__page *p, const char *value)
{
	size_t cap = 6 * strlen(value ? value : "") + 1;
	char *out = lsec_malloc(cap);
	if (out == NULL || !lsec_web_escape(out, cap, value)) {
		p->failed = true;
	} else {
		lsec_web__raw(p, out);
	}
	lsec_free(out);
}

void lsec_web__textf(lsec_web__page *p, const char *fmt, ...)
{
	char v[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	lsec_web__text(p, v);
}

void lsec_web__head_with(lsec_web__page *p, const char *title, const char *head_markup)
{
	lsec_web__raw(p, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			 "<link rel=\"stylesheet\" href=\"/style.css\"><title>");
	lsec_web__text(p, title);
	lsec_web__raw(p, " - linesec</title>");
	lsec_web__raw(p, head_markup ? head_markup : "");
	lsec_web__raw(p, "</head><body><header><h1>linesec</h1>"
			 "<nav><a href=\"/\">Dashboard</a><a href=\"/live\">Live</a>"
			 "<a href=\"/sops\">SOPs</a><a href=\"/ack\">Acknowledge</a>"
			 "<a href=\"/releases\">Releases</a><a href=\"/units\">Units</a>"
			 "<a href=\"/people\">People</a><a href=\"/scrap\">Scrap</a></nav>"
			 "</header><main>\n");
}

void lsec_web__head(lsec_web__page *p, const char *title)
{
	lsec_web__head_with(p, title, NULL);
}

void lsec_web__foot(lsec_web__page *p)
{
	lsec_web__raw(p, "</main></body></html>\n");
}

void lsec_web__csrf_field(lsec_web__page *p, const char *token)
{
	lsec_web__raw(p, "<input type=\"hidden\" name=\"csrf\" value=\"");
	lsec_web__text(p, token);
	lsec_web__raw(p, "\">");
}

void lsec_web__error(lsec_web__page *p, const char *msg)
{
	lsec_web__raw(p, "<p class=\"bad\">");
	lsec_web__text(p, msg);
	lsec_web__raw(p, "</p>");
}

void lsec_web__result(lsec_web__page *p, const char *msg, bool ok)
{
	if (msg == NULL) {
		return;
	}
	lsec_web__raw(p, ok ? "<p class=\"ok\" id=\"result\">" : "<p class=\"bad\" id=\"result\">");
	lsec_web__text(p, msg);
	lsec_web__raw(p, "</p>");
}

const char lsec_web__style_css[] =
    "body{font-family:sans-serif;margin:0;color:#222;background:#fafafa}"
    "header{background:#1f3a5f;color:#fff;padding:.5em 1em}header "
    "h1{margin:0;font-size:1.3em;display:inline;margin-right:1em}"
    "nav{display:inline}nav a{color:#fff;margin-right:1em}"
    "main{padding:1em;max-width:60em}table{border-collapse:collapse;margin:."
    "5em 0}"
    "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}"
    ".bad{color:#a00;font-weight:bold}.ok{color:#060;font-weight:bold}"
    "form.inline{display:inline}label{display:block;margin:.4em 0}"
    "#quarantine td:nth-child(-n+3),#live td{white-space:nowrap}"
    "@media print{form,nav{display:none}}";

static void security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; img-src 'self'; "
				"script-src 'self'; connect-src 'self'; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result send_full(struct MHD_Connection *c, unsigned status, const char *type,
				 const void *data, size_t len, const char *location,
				 const char *disposition, const char *const *cookies)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (r == NULL) {
		return MHD_NO;
	}
	security_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	if (location != NULL) {
		MHD_add_response_header(r, "Location", location);
	}
	if (disposition != NULL) {
		MHD_add_response_header(r, "Content-Disposition", disposition);
	}
	for (size_t i = 0; cookies != NULL && cookies[i] != NULL; i++) {
		MHD_add_response_header(r, "Set-Cookie", cookies[i]);
	}
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result lsec_web__send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				   const void *data, size_t len, const char *location,
				   const char *const *cookies)
{
	return send_full(c, status, type, data, len, location, NULL, cookies);
}

enum MHD_Result lsec_web__send_download(struct MHD_Connection *c, const char *type,
					const char *filename, const void *data, size_t len)
{
	char disposition[160];
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
	return send_full(c, 200, type, data, len, NULL, disposition, NULL);
}

enum MHD_Result lsec_web__send_page(struct MHD_Connection *c, unsigned status, lsec_web__page *p,
				    const char *const *cookies)
{
	enum MHD_Result ret;
	if (p->failed) {
		static const char oops[] = "the page could not be built\n";
		ret = lsec_web__send_buf(c, 500, "text/plain; charset=utf-8", oops,
					 sizeof(oops) - 1, NULL, NULL);
	} else {
		ret = lsec_web__send_buf(c, status, "text/html; charset=utf-8", p->b.data,
					 p->b.len, NULL, cookies);
	}
	lsec_buf_release(&p->b);
	return ret;
}

enum MHD_Result lsec_web__send_message(struct MHD_Connection *c, unsigned status,
				       const char *title, const char *msg)
{
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	lsec_web__head(&p, title);
	lsec_web__raw(&p, "<h2>");
	lsec_web__text(&p, title);
	lsec_web__raw(&p, "</h2>");
	lsec_web__error(&p, msg);
	lsec_web__raw(&p, "<p><a href=\"/login\">Log in</a> · <a href=\"/\">Dashboard</a></p>");
	lsec_web__foot(&p);
	return lsec_web__send_page(c, status, &p, NULL);
}

enum MHD_Result lsec_web__redirect(struct MHD_Connection *c, const char *location,
				   const char *const *cookies)
{
	static const char moved[] = "see other\n";
	return lsec_web__send_buf(c, 303, "text/plain; charset=utf-8", moved, sizeof(moved) - 1,
				  location, cookies);
}
