/*
 * sops.c - the SOP library: every SOP with its versions and approvals
 * (GET /sops), a version's written procedure inside the console's page
 * (GET /sops/NAME/VERSION, /sops/NAME/current: the latest approved one),
 * the diff of two versions (GET /sops/NAME/diff?from=A&to=B), the exports
 * (GET /sops/NAME/VERSION/export.md, export.html, export.pdf: the bytes of `linesec sop
 * render`) and a QR code of each SOP's current version for a tablet at the
 * station (GET /sops/NAME/qr.svg); a security officer approves a draft
 * version on its page (POST /sops/approve). Every call is the one the `linesec sop`
 * command makes; this file holds no rule of its own. Every logged-in role
 * reads SOPs: an operator reads the procedure at the station.
 */
#include "sign.h"

#include "linesec/sop.h"
#include "linesec/report.h"

#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFICER        LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)
#define APPROVE_ACTION "approve a SOP version"

/* A rendered SOP or a diff, before it goes into the page. */
#define SOP_RENDER_MAX (LSEC_WEB__PAGE_MAX / 2)

/* The SOP pages' own style, next to the console's (/style.css). */
static const char sops_css[] =
    ".sop .step{border:1px solid #bbb;border-left:4px solid #1f3a5f;padding:.3em .8em;"
    "margin:.6em 0;background:#fff}"
    ".sop .step.irreversible{border-left-color:#a00}"
    ".sop .warn{color:#a00;font-weight:bold}"
    ".sop dl{display:grid;grid-template-columns:12em 1fr;gap:.2em .8em;margin:0}"
    ".sop dt{font-weight:bold;color:#555}.sop dd{margin:0}"
    ".sop .num{display:inline-block;min-width:1.6em;text-align:center;border-radius:50%;"
    "background:#1f3a5f;color:#fff;margin-right:.4em}"
    ".sop .status,.sop .draftmark{display:inline-block;font-weight:bold;padding:.2em .5em}"
    ".sop .status.draft,.sop .draftmark,.draft{background:#fde7e9;color:#9b1c1c}"
    ".sop .status.approved{background:#e6f4ea;color:#14532d}"
    "pre.diff{background:#fff;border:1px solid #bbb;padding:.5em;overflow-x:auto}"
    "pre.diff .add{background:#e6f4ea;color:#14532d}"
    "pre.diff .del{background:#fde7e9;color:#9b1c1c}"
    "pre.diff .hunk{color:#1f3a5f;font-weight:bold}pre.diff .file{color:#555}"
    ".current{font-weight:bold;color:#060}"
    "img.qr{width:12em;height:12em;image-rendering:pixelated;display:block}";

/* Names, versions and path parts: nothing secret is compared in this file. */
static bool same(const char *a, const char *b)
{
	return strcmp(a, b) == 0; /* lint:ok */
}

/* The parts of a /sops/ path: NAME, then up to two more. */
typedef struct sop_path {
	char name[LSEC_STORE_NAME_MAX + 1];
	char part[2][32];
	size_t nparts; /* after NAME */
} sop_path;

/* A SOP name in a URL: letters, digits, '-', '_', '.' (it names files too). */
static bool name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.') {
		return false;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p) ==
		    NULL) {
			return false;
		}
	}
	return true;
}

static bool path_split(sop_path *out, const char *tail)
{
	char *slots[3] = {out->name, out->part[0], out->part[1]};
	size_t caps[3] = {sizeof(out->name), sizeof(out->part[0]), sizeof(out->part[1])};
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	for (const char *p = tail; n < 3; n++) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= caps[n]) {
			return false;
		}
		memcpy(slots[n], p, len);
		if (slash == NULL) {
			out->nparts = n;
			return name_ok(out->name);
		}
		p = slash + 1;
	}
	return false;
}

/* "current": 0 (the latest approved, as `sop render NAME` chooses); else 1..1000000. */
static bool version_parse(int *out, const char *s)
{
	char *end = NULL;
	if (same(s, "current")) {
		*out = 0;
		return true;
	}
	long v = (s[0] >= '0' && s[0] <= '9') ? strtol(s, &end, 10) : 0;
	if (end == NULL || *end != '\0' || v < 1 || v > 1000000) {
		return false;
	}
	*out = (int)v;
	return true;
}

/* A refusal of the library as a page: what is not there is a 404 naming it. */
static enum MHD_Result send_err(lsec_web__request *r, const lsec_err *err)
{
	bool missing = err->code == LSEC_E_NOTFOUND || err->code == LSEC_E_SOP_NOT_APPROVED;
	return lsec_web__send_message(r->c, missing ? 404 : err->code == LSEC_E_USAGE ? 400 : 500,
				      missing ? "Not found" : "Cannot show the SOP", err->msg);
}

static void stylesheet(lsec_web__page *p)
{
	lsec_web__raw(p, "<link rel=\"stylesheet\" href=\"/sops.css\">");
}

/* The latest approved version in v (one SOP's entries), 0 when none is. */
static int current_of(const lsec_sop_version_info *v, size_t n, const char *name)
{
	int cur = 0;
	for (size_t i = 0; i < n; i++) {
		if (same(v[i].name, name) && v[i].approved && v[i].version > cur) {
			cur = v[i].version;
		}
	}
	return cur;
}

/* ---- GET /sops --------------------------------------------------------- */

static void list_versions(lsec_web__page *p, const lsec_sop_version_info *v, size_t n,
			  const char *name, int cur)
{
	lsec_web__raw(p, "<table class=\"versions\"><tr><th>version</th><th>SHA-256</th>"
			 "<th>submitted by</th><th>submitted</th><th>status</th>"
			 "<th>approved by</th><th>approved</th></tr>");
	for (size_t i = 0; i < n; i++) {
		if (!same(v[i].name, name)) {
			continue;
		}
		lsec_web__raw(p, "<tr><td><a href=\"/sops/");
		lsec_web__textf(p, "%s/%d", name, v[i].version);
		lsec_web__raw(p, "\">");
		lsec_web__textf(p, "%d", v[i].version);
		lsec_web__raw(p, "</a></td><td><code>");
		lsec_web__textf(p, "%.16s", v[i].sha256_hex);
		lsec_web__raw(p, "</code></td><td>");
		lsec_web__text(p, v[i].submitter);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, v[i].submitted);
		if (v[i].version == cur) {
			lsec_web__raw(p, "</td><td class=\"current\">approved, current");
		} else if (v[i].approved) {
			lsec_web__raw(p, "</td><td>approved, superseded");
		} else {
			lsec_web__raw(p, "</td><td class=\"draft\">");
			lsec_web__textf(p, "awaiting approval (%u/2)", v[i].napprovals);
		}
		lsec_web__raw(p, "</td><td>");
		lsec_web__textf(p, "%s%s%s", v[i].approvers[0], v[i].approvers[1][0] ? ", " : "",
				v[i].approvers[1]);
		lsec_web__raw(p, "</td><td>");
		lsec_web__text(p, v[i].approved_at[0] ? v[i].approved_at : "-");
		lsec_web__raw(p, "</td></tr>");
	}
	lsec_web__raw(p, "</table>");
}

/* The diff form: two versions of name (a GET form: it changes nothing). */
static void diff_form(lsec_web__page *p, const lsec_sop_version_info *v, size_t n,
		      const char *name)
{
	lsec_web__raw(p, "<form method=\"get\" action=\"/sops/");
	lsec_web__text(p, name);
	lsec_web__raw(p, "/diff\">Compare ");
	for (int f = 0; f < 2; f++) {
		lsec_web__raw(p, f == 0 ? "<select name=\"from\">" : " with <select name=\"to\">");
		for (size_t i = 0; i < n; i++) {
			if (same(v[i].name, name)) {
				lsec_web__raw(p, "<option>");
				lsec_web__textf(p, "%d", v[i].version);
				lsec_web__raw(p, "</option>");
			}
		}
		lsec_web__raw(p, "</select>");
	}
	lsec_web__raw(p, " <button type=\"submit\">Diff</button></form>");
}

static void list_one(lsec_web__page *p, const lsec_web__request *r,
		     const lsec_sop_version_info *v, size_t n, const char *name)
{
	size_t count = 0;
	int cur = current_of(v, n, name);
	for (size_t i = 0; i < n; i++) {
		count += same(v[i].name, name);
	}
	lsec_web__raw(p, "<section class=\"sopname\" id=\"sop-");
	lsec_web__text(p, name);
	lsec_web__raw(p, "\"><h2>");
	lsec_web__text(p, name);
	lsec_web__raw(p, "</h2>");
	if (count == 0) {
		lsec_web__raw(p, "<p>No version stored.</p></section>");
		return;
	}
	list_versions(p, v, n, name, cur);
	if (count > 1) {
		diff_form(p, v, n, name);
	}
	if (cur == 0) {
		lsec_web__raw(p, "<p class=\"bad\">No approved version: the station runs none.</p>");
	} else {
		lsec_web__raw(p, "<p><a href=\"/sops/");
		lsec_web__text(p, name);
		lsec_web__raw(p, "/current\">Current procedure</a> (version ");
		lsec_web__textf(p, "%d", cur);
		lsec_web__raw(p, ") at the station: <img class=\"qr\" src=\"/sops/");
		lsec_web__text(p, name);
		lsec_web__raw(p, "/qr.svg\" alt=\"QR code of ");
		lsec_web__textf(p, "%s/sops/%s/current", r->srv->base_url, name);
		lsec_web__raw(p, "\"><code>");
		lsec_web__textf(p, "%s/sops/%s/current", r->srv->base_url, name);
		lsec_web__raw(p, "</code></p>");
	}
	lsec_web__raw(p, "</section>");
}

static enum MHD_Result sop_list(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	if (lsec_sop_versions_dated(&v, &n, lsec_line_store(r->srv->line), NULL, &err) < 0) {
		return send_err(r, &err);
	}
	lsec_web__head(&p, "SOPs");
	stylesheet(&p);
	lsec_web__raw(&p, "<p>Every SOP of the line with its stored versions; only an approved "
			  "version runs, the latest approved one is current.</p>");
	for (unsigned k = 0; k < LSEC_SOP_KIND_COUNT; k++) {
		list_one(&p, r, v, n, lsec_sop_kind_name((lsec_sop_kind)k));
	}
	for (size_t i = 0; i < n; i++) {
		lsec_sop_kind kind;
		lsec_err kerr = LSEC_ERR_INIT;
		bool first = i == 0 || !same(v[i - 1].name, v[i].name);
		if (first && lsec_sop_kind_parse(&kind, v[i].name, &kerr) < 0) {
			list_one(&p, r, v, n, v[i].name);
		}
	}
	lsec_web__foot(&p);
	lsec_free(v);
	return lsec_web__send_page(r->c, 200, &p, NULL);
}

/* ---- GET /sops/NAME/VERSION -------------------------------------------- */

/* The version's status line: approved and current, approved and superseded, or a draft. */
static void version_status(lsec_web__page *p, const lsec_sop_version_info *v, size_t n,
			   const lsec_sop_version_info *info)
{
	int cur = current_of(v, n, info->name);
	if (info->approved) {
		lsec_web__raw(p, "<p id=\"status\" class=\"ok\">");
		lsec_web__textf(p, "Approved by %s, %s. ", info->approvers[0], info->approvers[1]);
		if (info->version == cur) {
			lsec_web__text(p, "This is the current version: the station runs it.");
		} else {
			lsec_web__textf(p, "Superseded by version %d: the station runs that one.", cur);
		}
	} else {
		lsec_web__raw(p, "<p id=\"status\" class=\"bad draft\">");
		lsec_web__textf(p,
				"DRAFT - NOT APPROVED (%u of 2 approvals): the station does not run "
				"this version.",
				info->napprovals);
	}
	lsec_web__raw(p, "</p>");
}

/* What an officer's approval of the version means, in words (the form shows it). */
static void approval_meaning(char *out, size_t cap, const lsec_sop_version_info *info)
{
	snprintf(out, cap,
		 "I reviewed SOP %s version %d (SHA-256 %s) and approve it for every station of "
		 "this line.",
		 info->name, info->version, info->sha256_hex);
}

/*
 * A draft version's approval form, for a security officer who did not
 * submit it and has not approved it yet (the library refuses the others
 * anyway). It carries the SHA-256 of the version shown: approving a
 * version whose bytes are not the ones reviewed is refused.
 */
static void approve_form(lsec_web__page *p, const lsec_web__request *r,
			 const lsec_sop_version_info *info)
{
	char meaning[512];
	if (info->approved || info->withdrawn || r->who.role != LSEC_ROLE_SECURITY_OFFICER ||
	    same(info->submitter, r->who.name) || same(info->approvers[0], r->who.name)) {
		return;
	}
	approval_meaning(meaning, sizeof(meaning), info);
	lsec_web__raw(p, "<form method=\"post\" action=\"/sops/approve\" id=\"approve\">"
			 "<input type=\"hidden\" name=\"sop\" value=\"");
	lsec_web__text(p, info->name);
	lsec_web__raw(p, "\"><input type=\"hidden\" name=\"version\" value=\"");
	lsec_web__textf(p, "%d", info->version);
	lsec_web__raw(p, "\"><input type=\"hidden\" name=\"sha256\" value=\"");
	lsec_web__text(p, info->sha256_hex);
	lsec_web__raw(p, "\">");
	lsec_web__sign_fields(p, r->session->csrf, meaning);
	lsec_web__raw(p, "<button type=\"submit\">Approve and sign</button></form>");
}

static enum MHD_Result sop_version(lsec_web__request *r, const char *name, int version,
				   unsigned status, const char *msg, bool ok)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(r->srv->line);
	lsec_sop *sop = NULL;
	lsec_sop_version_info info, *v = NULL;
	size_t n = 0;
	lsec_buf b = LSEC_BUF_INIT(SOP_RENDER_MAX);
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	enum MHD_Result ret;
	char title[128];
	if (lsec_sop_fetch(&sop, &info, NULL, st, name, version, &err) < 0 ||
	    lsec_sop_versions(&v, &n, st, name, &err) < 0 ||
	    lsec_sop_render_stored(&b, st, name, info.version, LSEC_SOP_FORMAT_HTML_BODY, &err) <
		0 ||
	    lsec_buf_append(&b, "", 1, &err) < 0) {
		ret = send_err(r, &err);
		goto out;
	}
	snprintf(title, sizeof(title), "SOP %s version %d", name, info.version);
	lsec_web__head(&p, title);
	stylesheet(&p);
	lsec_web__result(&p, msg, ok);
	version_status(&p, v, n, &info);
	approve_form(&p, r, &info);
	lsec_web__raw(&p, "<p class=\"links\"><a href=\"/sops#sop-");
	lsec_web__text(&p, name);
	lsec_web__raw(&p, "\">All versions</a> · Download: <a href=\"/sops/");
	lsec_web__textf(&p, "%s/%d", name, info.version);
	lsec_web__raw(&p, "/export.md\">Markdown</a> · <a href=\"/sops/");
	lsec_web__textf(&p, "%s/%d", name, info.version);
	lsec_web__raw(&p, "/export.html\">HTML</a> · <a href=\"/sops/");
	lsec_web__textf(&p, "%s/%d", name, info.version);
	lsec_web__raw(&p, "/export.pdf\">PDF</a></p>\n");
	/* The library's renderer escaped every text of the file. */
	lsec_web__raw(&p, (const char *)b.data);
	lsec_web__foot(&p);
	ret = lsec_web__send_page(r->c, status, &p, NULL);
out:
	lsec_buf_release(&b);
	lsec_free(v);
	lsec_sop_free(sop);
	return ret;
}

/* ---- GET /sops/NAME/VERSION/export.md|html|pdf ------------------------- */

/* The exports: the bytes of `linesec sop render --format md|html|pdf`. */
static const struct {
	const char *part, *ext, *type;
} exports[] = {
    {"export.md", "md", "text/markdown; charset=utf-8"},
    {"export.html", "html", "text/html; charset=utf-8"},
    {"export.pdf", "pdf", "application/pdf"},
};

static enum MHD_Result sop_export(lsec_web__request *r, const char *name, int version, size_t x)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(r->srv->line);
	lsec_sop *sop = NULL;
	lsec_sop_version_info info;
	lsec_buf b = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
	enum MHD_Result ret;
	char file[LSEC_STORE_NAME_MAX + 32];
	int rc = lsec_sop_fetch(&sop, &info, NULL, st, name, version, &err);
	if (rc == 0 && same(exports[x].ext, "pdf")) {
		rc = lsec_report_sop_pdf(&b, st, name, info.version, &err);
	} else if (rc == 0) {
		rc = lsec_sop_render_stored(&b, st, name, info.version,
					    same(exports[x].ext, "md") ? LSEC_SOP_FORMAT_MD
								       : LSEC_SOP_FORMAT_HTML,
					    &err);
	}
	if (rc < 0) {
		ret = send_err(r, &err);
		goto out;
	}
	snprintf(file, sizeof(file), "%s-%d.%s", name, info.version, exports[x].ext);
	ret = lsec_web__send_download(r->c, exports[x].type, file, b.data, b.len);
out:
	lsec_buf_release(&b);
	lsec_sop_free(sop);
	return ret;
}

/* ---- GET /sops/NAME/diff?from=A&to=B ----------------------------------- */

/* The class of a unified diff line: added, removed, a hunk, the file labels, context. */
static const char *diff_class(const char *line)
{
	if (strncmp(line, "+++ ", 4) == 0 || strncmp(line, "--- ", 4) == 0) {
		return "file";
	}
	switch (line[0]) {
	case '+':
		return "add";
	case '-':
		return "del";
	case '@':
		return "hunk";
	default:
		return "ctx";
	}
}

static void diff_lines(lsec_web__page *p, char *text)
{
	size_t added = 0, removed = 0;
	lsec_web__raw(p, "<pre class=\"diff\">");
	for (char *line = text, *nl = NULL; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL) {
			*nl++ = '\0';
		}
		const char *cls = diff_class(line);
		added += same(cls, "add");
		removed += same(cls, "del");
		lsec_web__raw(p, "<span class=\"");
		lsec_web__raw(p, cls);
		lsec_web__raw(p, "\">");
		lsec_web__text(p, line);
		lsec_web__raw(p, "</span>\n");
	}
	lsec_web__raw(p, "</pre><p id=\"summary\">");
	lsec_web__textf(p, "%zu line%s added, %zu removed.", added, added == 1 ? "" : "s", removed);
	lsec_web__raw(p, "</p>");
}

static enum MHD_Result sop_diff(lsec_web__request *r, const char *name)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(SOP_RENDER_MAX);
	lsec_web__page p = LSEC_WEB__PAGE_INIT;
	enum MHD_Result ret;
	const char *from = lsec_web__query(r, "from"), *to = lsec_web__query(r, "to");
	int a = 0, z = 0;
	char title[128];
	if (from == NULL || to == NULL || !version_parse(&a, from) || !version_parse(&z, to) ||
	    a == 0 || z == 0) {
		return lsec_web__send_message(
		    r->c, 400, "Bad request",
		    "a diff needs ?from=VERSION&to=VERSION, two version numbers from 1");
	}
	if (lsec_sop_diff(&b, lsec_line_store(r->srv->line), name, a, z, &err) < 0 ||
	    lsec_buf_append(&b, "", 1, &err) < 0) {
		ret = send_err(r, &err);
		goto out;
	}
	snprintf(title, sizeof(title), "SOP %s: version %d to %d", name, a, z);
	lsec_web__head(&p, title);
	stylesheet(&p);
	lsec_web__raw(&p, "<h2>");
	lsec_web__text(&p, title);
	lsec_web__raw(&p, "</h2><p><a href=\"/sops#sop-");
	lsec_web__text(&p, name);
	lsec_web__raw(&p, "\">All versions</a></p>");
	if (b.len <= 1) {
		lsec_web__raw(&p, "<p id=\"summary\">The two versions are the same file.</p>");
	} else {
		diff_lines(&p, (char *)b.data);
	}
	lsec_web__foot(&p);
	ret = lsec_web__send_page(r->c, 200, &p, NULL);
out:
	lsec_buf_release(&b);
	return ret;
}

/* ---- GET /sops/NAME/qr.svg --------------------------------------------- */

/* text as a QR code (level M) drawn as SVG: one path of dark modules, a
 * quiet zone of four. */
static int qr_svg(lsec_buf *out, const char *text, lsec_err *err)
{
	int rc = 0;
	char s[160];
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	LSEC_ENSURE(q != NULL, errno == ENOMEM ? LSEC_E_NOMEM : LSEC_E_LIMIT,
		    "cannot encode '%s' as a QR code: %s", text, strerror(errno));
	int w = q->width, size = q->width + 8;
	snprintf(s, sizeof(s),
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		 "height=\"%d\" shape-rendering=\"crispEdges\">",
		 size, size, size * 6, size * 6);
	LSEC_TRY(lsec_buf_append_str(out, s, err));
	LSEC_TRY(lsec_buf_append_str(out, "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
					  "<path fill=\"#000\" d=\"",
				     err));
	for (int y = 0; y < w; y++) {
		for (int x = 0; x < w; x++) {
			if ((q->data[y * w + x] & 1) != 0) {
				snprintf(s, sizeof(s), "M%d %dh1v1h-1z", x + 4, y + 4);
				LSEC_TRY(lsec_buf_append_str(out, s, err));
			}
		}
	}
	LSEC_TRY(lsec_buf_append_str(out, "\"/></svg>\n", err));
out:
	if (q != NULL) {
		QRcode_free(q);
	}
	return rc;
}

static enum MHD_Result sop_qr(lsec_web__request *r, const char *name)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1u << 20);
	enum MHD_Result ret;
	char target[LSEC_WEB_URL_MAX + LSEC_STORE_NAME_MAX + 32];
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	snprintf(target, sizeof(target), "%s/sops/%s/current", r->srv->base_url, name);
	if (lsec_sop_versions(&v, &n, lsec_line_store(r->srv->line), name, &err) < 0) {
		ret = send_err(r, &err);
	} else if (n == 0) {
		snprintf(target, sizeof(target), "no version of SOP '%s' is stored", name);
		ret = lsec_web__send_message(r->c, 404, "Not found", target);
	} else if (qr_svg(&b, target, &err) < 0) {
		ret = send_err(r, &err);
	} else {
		ret = lsec_web__send_buf(r->c, 200, "image/svg+xml", b.data, b.len, NULL, NULL);
	}
	lsec_buf_release(&b);
	lsec_free(v);
	return ret;
}

/* ---- dispatch of /sops/... --------------------------------------------- */

static enum MHD_Result sop_page(lsec_web__request *r)
{
	sop_path sp;
	int version = 0;
	char msg[256];
	if (!path_split(&sp, r->tail) || sp.nparts == 0) {
		return lsec_web__send_message(r->c, 404, "Not found",
					      "there is no such page: /sops/NAME/VERSION, "
					      "/sops/NAME/current or /sops/NAME/diff?from=A&to=B");
	}
	if (sp.nparts == 1 && same(sp.part[0], "diff")) {
		return sop_diff(r, sp.name);
	}
	if (sp.nparts == 1 && same(sp.part[0], "qr.svg")) {
		return sop_qr(r, sp.name);
	}
	if (!version_parse(&version, sp.part[0])) {
		snprintf(msg, sizeof(msg),
			 "SOP '%s' has no version '%s': expected a number from 1 or current",
			 sp.name, sp.part[0]);
		return lsec_web__send_message(r->c, 404, "Not found", msg);
	}
	if (sp.nparts == 1) {
		return sop_version(r, sp.name, version, 200, NULL, false);
	}
	for (size_t x = 0; x < sizeof(exports) / sizeof(exports[0]); x++) {
		if (same(sp.part[1], exports[x].part)) {
			return sop_export(r, sp.name, version, x);
		}
	}
	snprintf(msg, sizeof(msg),
		 "there is no '%s' of a SOP version: export.md, export.html or export.pdf",
		 sp.part[1]);
	return lsec_web__send_message(r->c, 404, "Not found", msg);
}

/* ---- POST /sops/approve ------------------------------------------------ */

/*
 * A security officer approves a SOP version, re-entering their password:
 * as `linesec sop approve --sha256 HEX NAME VERSION` signs (lsec_line_sign,
 * then lsec_sop_approve_reviewed, which refuses the submitter, a second
 * approval by the same officer and bytes other than the ones reviewed).
 */
static enum MHD_Result approve_post(lsec_web__request *r)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	char msg[LSEC_ERR_MSG_MAX + 64];
	enum MHD_Result ret;
	const char *name = lsec_web_field_get(&r->form, "sop");
	const char *sha = lsec_web_field_get(&r->form, "sha256");
	const char *vs = lsec_web_field_get(&r->form, "version");
	int version = 0;
	memset(&who, 0, sizeof(who));
	if (name == NULL || !name_ok(name) || vs == NULL || !version_parse(&version, vs) ||
	    version == 0 || sha == NULL || sha[0] == '\0') {
		ret = lsec_web__send_message(r->c, 400, "Bad request",
					     "the form needs fields sop (a SOP name), version (a "
					     "number from 1) and sha256 (of the version reviewed)");
		goto out;
	}
	if (lsec_web__sign(&who, r, OFFICER, APPROVE_ACTION, &err) < 0 ||
	    lsec_sop_approve_reviewed(lsec_line_store(r->srv->line),
				      &(lsec_actor){who.name, lsec_line_station(r->srv->line)},
				      who.role, name, version, sha, &err) < 0) {
		ret = sop_version(r, name, version, lsec_web__status_of(&err), err.msg, false);
		goto out;
	}
	snprintf(msg, sizeof(msg), "SOP %s version %d: approved by %s", name, version, who.name);
	ret = sop_version(r, name, version, 200, msg, true);
out:
	lsec_wipe(&r->form, sizeof(r->form));
	return ret;
}

static enum MHD_Result sop_css(lsec_web__request *r)
{
	return lsec_web__send_buf(r->c, 200, "text/css; charset=utf-8", sops_css,
				  strlen(sops_css), NULL, NULL);
}

static const lsec_web__route routes[] = {
    {"GET", "/sops", LSEC_WEB__ANYONE, "read the SOPs", sop_list},
    {"GET", "/sops/", LSEC_WEB__ANYONE, "read a SOP", sop_page},
    {"GET", "/sops.css", 0, "read the SOP pages' style", sop_css},
    {"POST", "/sops/approve", OFFICER, APPROVE_ACTION, approve_post},
};

const lsec_web__routes lsec_web__sops_routes = {routes, sizeof(routes) / sizeof(routes[0])};
