/*
 * render.c - the written procedure, rendered from the same SOP file the
 * station executes: Markdown or one self-contained printable HTML page.
 *
 * One walk over the document serves both formats; the format only changes
 * the primitives (headings, paragraphs, lists, tables) and the escaping.
 * Every text from the file is escaped for its format, so a SOP cannot
 * inject markup into the document handed to an auditor. The output holds
 * no clock time: the same SOP and history always render the same bytes.
 */
#include "sop/sop_int.h"

#include <string.h>

typedef struct out {
	lsec_buf *b;
	lsec_err *err;
	bool html;
	bool body_only; /* LSEC_SOP_FORMAT_HTML_BODY: no document around it */
	int rc;
} out;

static void raw(out *o, const char *s)
{
	if (o->rc == 0) {
		o->rc = lsec_buf_append_str(o->b, s, o->err);
	}
}

static void rawf(out *o, const char *fmt, ...) LSEC_PRINTF(2, 3);

static void rawf(out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	raw(o, tmp);
}

/* Escaped text; in HTML, {placeholders} are set apart as variables. */
static void text(out *o, const char *s)
{
	char one[2] = {0, 0};
	bool in_ph = false;
	for (const char *p = s != NULL ? s : ""; *p != 0 && o->rc == 0; p++) {
		const char *rep = NULL;
		if (o->html) {
			switch (*p) {
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&#39;";
				break;
			case '{':
				in_ph = strchr(p, '}') != NULL;
				rep = in_ph ? "<var>{" : "{";
				break;
			case '}':
				rep = in_ph ? "}</var>" : "}";
				in_ph = false;
				break;
			default:
				break;
			}
		} else if (strchr("\\`*_[]<>|#", *p) != NULL) {
			raw(o, "\\");
		} else if (*p == '\n') {
			rep = " ";
		}
		if (rep == NULL) {
			one[0] = *p;
			rep = one;
		}
		raw(o, rep);
	}
}

static void heading(out *o, int level, const char *id, const char *t)
{
	if (o->html) {
		rawf(o, "<h%d%s%s%s>", level, id ? " id=\"" : "", id ? id : "", id ? "\"" : "");
		text(o, t);
		rawf(o, "</h%d>\n", level);
	} else {
		rawf(o, "%.*s ", level, "######");
		text(o, t);
		raw(o, "\n\n");
	}
}

static void para(out *o, const char *label, const char *t)
{
	raw(o, o->html ? "<p>" : "");
	if (label != NULL) {
		raw(o, o->html ? "<strong>" : "**");
		text(o, label);
		raw(o, o->html ? "</strong> " : "** ");
	}
	text(o, t);
	raw(o, o->html ? "</p>\n" : "\n\n");
}

static void list(out *o, const char *const *items, size_t n)
{
	raw(o, o->html ? "<ul>\n" : "");
	for (size_t i = 0; i < n; i++) {
		raw(o, o->html ? "<li>" : "- ");
		text(o, items[i]);
		raw(o, o->html ? "</li>\n" : "\n");
	}
	raw(o, o->html ? "</ul>\n" : "\n");
}

/* Tables: a header row, then rows of cells; cells are escaped text. */
static void table_begin(out *o, const char *cls, const char *const *head, size_t n)
{
	if (o->html) {
		rawf(o, "<table class=\"%s\"><thead><tr>", cls);
		for (size_t i = 0; i < n; i++) {
			raw(o, "<th>");
			text(o, head[i]);
			raw(o, "</th>");
		}
		raw(o, "</tr></thead><tbody>\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		raw(o, "| ");
		text(o, head[i]);
		raw(o, " ");
	}
	raw(o, "|\n");
	for (size_t i = 0; i < n; i++) {
		raw(o, "|---");
	}
	raw(o, "|\n");
}

static void table_row(out *o, const char *const *cells, size_t n)
{
	raw(o, o->html ? "<tr>" : "");
	for (size_t i = 0; i < n; i++) {
		raw(o, o->html ? "<td>" : "| ");
		text(o, cells[i] != NULL ? cells[i] : "");
		raw(o, o->html ? "</td>" : " ");
	}
	raw(o, o->html ? "</tr>\n" : "|\n");
}

static void table_end(out *o)
{
	raw(o, o->html ? "</tbody></table>\n" : "\n");
}

/* A labelled field of a step: a definition-list entry or a bullet. */
static void field(out *o, const char *label, const char *t)
{
	if (o->html) {
		raw(o, "<dt>");
		text(o, label);
		raw(o, "</dt><dd>");
		text(o, t);
		raw(o, "</dd>\n");
	} else {
		raw(o, "- **");
		text(o, label);
		raw(o, ":** ");
		text(o, t);
		raw(o, "\n");
	}
}

static const char *then_sentence(lsec_sop_then t)
{
	switch (t) {
	case LSEC_SOP_THEN_QUARANTINE:
		return "the unit is quarantined";
	case LSEC_SOP_THEN_STOP_LINE:
		return "the station stops and the unit is quarantined";
	case LSEC_SOP_THEN_DECOMMISSION:
		return "the unit goes to decommissioning";
	case LSEC_SOP_THEN_CONTINUE:
		return "the failure is recorded and the run continues";
	default:
		return "?";
	}
}

static const char *role_title(const char *role)
{
	if (strcmp(role, "security-officer") == 0) {
		return "Security officer";
	}
	if (strcmp(role, "operator") == 0) {
		return "Operator";
	}
	if (strcmp(role, "supervisor") == 0) {
		return "Supervisor";
	}
	return "Auditor";
}

/* What the station does around an irreversible step, in one sentence. */
static const char *irreversible_note(const lsec_sop_action *a)
{
	return (a->flags & LSEC_SOP_ACTION_DEVICE) != 0
		       ? "The station records its intent before acting and never retries; after an "
			 "interruption it reads the unit back before anything else."
		       : "The station records its intent before acting, and it is never repeated.";
}


/* ---- Markdown and HTML: the two formats of this module, as sinks ---------- */

static void step_open(out *o, size_t num, const char *title, const char *action,
		      const char *irreversible)
{
	if (o->html) {
		rawf(o, "<section class=\"step%s\"><h3><span class=\"num\">%zu</span>",
		     irreversible != NULL ? " irreversible" : "", num);
		text(o, title);
		raw(o, " <code>");
		text(o, action);
		raw(o, "</code></h3>\n");
		if (irreversible != NULL) {
			raw(o, "<p class=\"warn\">Irreversible. ");
			text(o, irreversible);
			raw(o, "</p>\n");
		}
		raw(o, "<dl>\n");
		return;
	}
	char h[160];
	snprintf(h, sizeof(h), "%zu. %s", num, title);
	heading(o, 3, NULL, h);
	raw(o, "- **Action:** `");
	raw(o, action);
	raw(o, "`\n");
	if (irreversible != NULL) {
		raw(o, "- **IRREVERSIBLE:** ");
		text(o, irreversible);
		raw(o, "\n");
	}
}

static const char css[] =
	"<style>\n"
	":root{--ink:#1b1f24;--mute:#5b6470;--line:#d5dae1;--accent:#0b4f8a;--warn:#9a3412}\n"
	"*{box-sizing:border-box}\nhtml{overflow-x:hidden}\n"
	"body{font:10.5pt/1.45 'DejaVu Sans','Helvetica Neue',Arial,sans-serif;color:var(--ink);"
	"max-width:190mm;margin:12mm auto;padding:0 8mm}\n"
	"header.doc{border-bottom:3px solid var(--accent);padding-bottom:4mm;margin-bottom:5mm}\n"
	"header.doc .kind{text-transform:uppercase;letter-spacing:.08em;color:var(--mute);font-size:9pt}\n"
	"h1{font-size:20pt;margin:1mm 0 3mm}\n"
	"h2{font-size:13pt;color:var(--accent);border-bottom:1px solid var(--line);padding-bottom:1mm;"
	"margin-top:7mm}\n"
	"h3{font-size:11pt;margin:0 0 2mm;display:flex;align-items:center;gap:3mm}\n"
	"h3 code{margin-left:auto;font-weight:normal;color:var(--mute)}\n"
	".num{display:inline-block;min-width:7mm;height:7mm;line-height:7mm;text-align:center;"
	"border-radius:50%;background:var(--accent);color:#fff;font-size:10pt}\n"
	"table{border-collapse:collapse;width:100%;margin:2mm 0 4mm;font-size:9.5pt}\n"
	"th,td{border:1px solid var(--line);padding:1.5mm 2mm;text-align:left;vertical-align:top}\n"
	"th{background:#eef2f6}\n"
	"table.identity td:first-child{width:44mm;color:var(--mute)}\n"
	"table.identity tr:nth-child(4) td:last-child,table.history td:nth-child(2){"
	"font-family:'DejaVu Sans Mono',monospace;font-size:8.5pt;word-break:break-all}\n"
	"table.history{table-layout:fixed}\n"
	"table.history th:nth-child(1){width:19mm}table.history th:nth-child(2){width:42mm}\n"
	"table.history td{overflow-wrap:anywhere}\n"
	"table.rules td:first-child{width:48mm;font-family:'DejaVu Sans Mono',monospace;"
	"font-size:8.5pt}\n"
	"code,.hash{font-family:'DejaVu Sans Mono',Menlo,monospace;font-size:8.5pt;word-break:break-all}\n"
	"var{font-style:normal;font-family:'DejaVu Sans Mono',monospace;background:#eef2f6;"
	"padding:0 .8mm;border-radius:1mm}\n"
	".step{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:1.5mm;"
	"padding:3mm 4mm;margin:3mm 0;break-inside:avoid}\n"
	".step.irreversible{border-left-color:var(--warn)}\n"
	".warn{color:var(--warn);font-weight:bold;margin:0 0 2mm;font-size:9.5pt}\n"
	"dl{display:grid;grid-template-columns:42mm 1fr;gap:1mm 3mm;margin:0}\n"
	"dt{color:var(--mute);font-weight:bold}\n"
	"dd{margin:0}\n"
	".status{display:inline-block;padding:1mm 3mm;border-radius:1mm;font-weight:bold}\n"
	".status.draft{background:#fde7e9;color:#9b1c1c;border:1px solid #9b1c1c}\n"
	".status.approved{background:#e6f4ea;color:#14532d;border:1px solid #14532d}\n"
	".draftmark{position:fixed;top:45%;left:0;right:0;text-align:center;font-size:64pt;"
	"font-weight:bold;color:rgba(155,28,28,.10);transform:rotate(-30deg);pointer-events:none;"
	"z-index:-1}\n"
	"footer{margin-top:8mm;border-top:1px solid var(--line);padding-top:2mm;color:var(--mute);"
	"font-size:8.5pt}\n"
	".sign td{height:12mm}\n"
	"@page{size:A4;margin:14mm 12mm}\n"
	"@media print{body{margin:0;max-width:none;padding:0}h2{break-after:avoid}"
	".step{break-inside:avoid}a{color:inherit;text-decoration:none}}\n"
	"</style>\n";

static void doc_open(out *o, const lsec_sop_render_head *h)
{
	if (o->html) {
		if (o->body_only) {
			raw(o, "<article class=\"sop\">\n");
		} else {
			raw(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
			       "charset=\"utf-8\">\n<title>");
			text(o, h->title);
			rawf(o, " - SOP %s v%d</title>\n", h->kind, h->version);
			raw(o, css);
			raw(o, "</head><body>\n");
		}
		if (!h->approved) {
			raw(o, "<div class=\"draftmark\">DRAFT - NOT APPROVED</div>\n");
		}
		rawf(o, "<header class=\"doc\"><div class=\"kind\">Standard operating procedure &middot; "
			"%s &middot; version %d</div>\n<h1>", h->kind, h->version);
		text(o, h->title);
		rawf(o, "</h1>\n<span class=\"status %s\">", h->approved ? "approved" : "draft");
		text(o, h->status);
		raw(o, "</span></header>\n");
	} else {
		raw(o, "# ");
		text(o, h->title);
		rawf(o, "\n\nStandard operating procedure `%s`, version %d.\n\n", h->kind, h->version);
		raw(o, h->approved ? "**" : "> **");
		text(o, h->status);
		raw(o, "**\n\n");
	}
}

static void doc_close(out *o, const lsec_sop_render_head *h)
{
	if (o->html) {
		raw(o, "<h2 id=\"signoff\">Acknowledgement</h2>\n");
		static const char *const sh[] = {"Name", "Role", "Signature", "Date"};
		table_begin(o, "sign", sh, 4);
		const char *blank[] = {"", "", "", ""};
		table_row(o, blank, 4);
		table_row(o, blank, 4);
		table_end(o);
		rawf(o, "<footer>SOP %s &middot; version %d &middot; SHA-256 <span class=\"hash\">%s</span>"
			" &middot; rendered by linesec from the file the station runs</footer>\n",
		     h->kind, h->version, h->sha256_hex);
		raw(o, o->body_only ? "</article>\n" : "</body></html>\n");
	} else {
		rawf(o, "---\nSOP `%s`, version %d, SHA-256 `%s`. Rendered by linesec from the file the "
			"station runs.\n",
		     h->kind, h->version, h->sha256_hex);
	}
}

static int s_begin(void *c, const lsec_sop_render_head *h, lsec_err *err)
{
	(void)err;
	doc_open(c, h);
	return ((out *)c)->rc;
}

static int s_heading(void *c, int level, const char *id, const char *t, lsec_err *err)
{
	(void)err;
	heading(c, level, id, t);
	return ((out *)c)->rc;
}

static int s_para(void *c, const char *label, const char *t, lsec_err *err)
{
	(void)err;
	para(c, label, t);
	return ((out *)c)->rc;
}

static int s_list(void *c, const char *const *items, size_t n, lsec_err *err)
{
	(void)err;
	list(c, items, n);
	return ((out *)c)->rc;
}

static int s_table_begin(void *c, const char *cls, const char *const *h, size_t n, lsec_err *err)
{
	(void)err;
	table_begin(c, cls, h, n);
	return ((out *)c)->rc;
}

static int s_table_row(void *c, const char *const *cells, size_t n, lsec_err *err)
{
	(void)err;
	table_row(c, cells, n);
	return ((out *)c)->rc;
}

static int s_table_end(void *c, lsec_err *err)
{
	(void)err;
	table_end(c);
	return ((out *)c)->rc;
}

static int s_step_begin(void *c, size_t num, const char *title, const char *action,
			const char *irreversible, lsec_err *err)
{
	(void)err;
	step_open(c, num, title, action, irreversible);
	return ((out *)c)->rc;
}

static int s_field(void *c, const char *label, const char *t, lsec_err *err)
{
	(void)err;
	field(c, label, t);
	return ((out *)c)->rc;
}

static int s_step_end(void *c, lsec_err *err)
{
	(void)err;
	out *o = c;
	raw(o, o->html ? "</dl></section>\n" : "\n");
	return o->rc;
}

static int s_end(void *c, const lsec_sop_render_head *h, lsec_err *err)
{
	(void)err;
	doc_close(c, h);
	return ((out *)c)->rc;
}

static const lsec_sop_render_sink text_sink = {
	s_begin,     s_heading, s_para,	      s_list,	  s_table_begin, s_table_row,
	s_table_end, s_step_begin, s_field, s_step_end, s_end,
};

/* ---- the walk: one document, whatever the format ---------------------------- */

typedef struct walk {
	const lsec_sop_render_sink *s;
	void *ctx;
	lsec_err *err;
	int rc;
} walk;

/* Each call is skipped once a callback failed; the first error is kept. */
#define W(w, fn, ...)                                                                 \
	do {                                                                          \
		if ((w)->rc == 0) {                                                   \
			(w)->rc = (w)->s->fn((w)->ctx, __VA_ARGS__, (w)->err);        \
		}                                                                     \
	} while (0)
#define W0(w, fn)                                                                     \
	do {                                                                          \
		if ((w)->rc == 0) {                                                   \
			(w)->rc = (w)->s->fn((w)->ctx, (w)->err);                     \
		}                                                                     \
	} while (0)

static void walk_step(walk *w, const sop_step *s, size_t num)
{
	const lsec_sop_step *st = &s->pub;
	const lsec_sop_action *a = st->action;
	char buf[768];
	bool irr = (a->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0;
	W(w, step_begin, num, st->title != NULL ? st->title : st->id, a->id,
	  irr ? irreversible_note(a) : NULL);
	snprintf(buf, sizeof(buf), "%s%s%s", role_title(st->who),
		 st->witness ? ", witnessed by the " : "",
		 st->witness ? role_title(st->witness) : "");
	if (st->witness != NULL) {
		/* "Operator, witnessed by the supervisor": lower-case the witness role */
		char *wr = strstr(buf, "by the ");
		if (wr != NULL && wr[7] >= 'A' && wr[7] <= 'Z') {
			wr[7] = (char)(wr[7] - 'A' + 'a');
		}
	}
	W(w, field, "Who", buf);
	if (st->when != LSEC_SOP_WHEN_ALWAYS) {
		W(w, field, "When",
		  st->when == LSEC_SOP_WHEN_REACHABLE
			  ? "Only for a unit that answers on its programming port."
			  : "Only for a unit that does not answer on its programming port.");
	}
	W(w, field, "What", st->text != NULL ? st->text : a->summary);
	if (st->text != NULL && (a->flags & LSEC_SOP_ACTION_MANUAL) == 0) {
		W(w, field, "The station", a->summary);
	}
	if (st->nparams > 0) {
		size_t off = 0;
		buf[0] = 0;
		for (size_t i = 0; i < st->nparams && off < sizeof(buf); i++) {
			int n = snprintf(buf + off, sizeof(buf) - off, "%s%s = %s", i ? "; " : "",
					 st->param_names[i], st->param_values[i]);
			off += n > 0 ? (size_t)n : 0;
		}
		W(w, field, "Settings", buf);
	}
	W(w, field, "How it is verified", st->verify);
	if (st->retry > 0) {
		char times[32];
		snprintf(times, sizeof(times), st->retry == 1 ? "once" : "up to %u times", st->retry);
		snprintf(buf, sizeof(buf), "Retried %s; then %s. %s", times, then_sentence(st->then),
			 st->failure_message);
	} else {
		snprintf(buf, sizeof(buf), "No retry: %s. %s", then_sentence(st->then),
			 st->failure_message);
	}
	W(w, field, "If it fails", buf);
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; a->evidence[i] != NULL && off < sizeof(buf); i++) {
		int n = snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "", a->evidence[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	W(w, field, "Evidence recorded", buf);
	W0(w, step_end);
}

static void walk_doc(walk *w, const lsec_sop *sop, const lsec_sop_render_options *opts)
{
	char hex[65];
	char ver[32];
	lsec_hex_encode(hex, sop->sha256, 32);
	snprintf(ver, sizeof(ver), "%d", sop->version);
	const char *kind = lsec_sop_kind_name(sop->kind);
	const lsec_sop_revision *cur = NULL;
	for (size_t i = 0; i < opts->nhistory; i++) {
		if (opts->history[i].version == sop->version) {
			cur = &opts->history[i];
		}
	}
	bool approved = !opts->draft && cur != NULL && cur->approved != NULL;
	char status[320];
	if (approved) {
		snprintf(status, sizeof(status), "APPROVED by %s on %s", cur->approvers, cur->approved);
	} else {
		snprintf(status, sizeof(status), "DRAFT - NOT APPROVED: the station does not run this version");
	}
	lsec_sop_render_head h = {kind,
				  sop->title,
				  sop->version,
				  hex,
				  approved,
				  status,
				  approved && cur->approvers != NULL ? cur->approvers : "",
				  approved ? cur->approved : ""};
	W(w, begin, &h);

	W(w, heading, 2, "identity", "Document identity");
	static const char *const ih[] = {"Field", "Value"};
	W(w, table_begin, "identity", ih, 2);
	const char *r1[] = {"SOP", kind};
	const char *r2[] = {"Title", sop->title};
	const char *r3[] = {"Version", ver};
	const char *r4[] = {"SHA-256 of the file", hex};
	const char *r5[] = {"Applies to product", sop->product};
	char move[96];
	snprintf(move, sizeof(move), "%s to %s", sop->from_state, sop->to_state);
	const char *r6[] = {"Unit state", move};
	const char *r7[] = {"Status", approved ? status : "DRAFT - NOT APPROVED"};
	const char *const *rows[] = {r1, r2, r3, r4, r5, r6, r7};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		W(w, table_row, rows[i], 2);
	}
	W0(w, table_end);

	W(w, heading, 2, "purpose", "Purpose");
	W(w, para, NULL, sop->purpose);
	W(w, heading, 2, "scope", "Scope");
	W(w, para, NULL, sop->scope);

	W(w, heading, 2, "roles", "Roles and responsibilities");
	static const char *const rh[] = {"Role", "Responsibility", "Steps"};
	W(w, table_begin, "roles", rh, 3);
	for (size_t i = 0; i < sop->nroles; i++) {
		char steps[256];
		size_t off = 0;
		steps[0] = 0;
		for (size_t j = 0; j < sop->nsteps && off < sizeof(steps); j++) {
			const lsec_sop_step *st = &sop->steps[j].pub;
			bool does = strcmp(st->who, sop->roles[i].name) == 0;
			bool wit = st->witness != NULL && strcmp(st->witness, sop->roles[i].name) == 0;
			if (does || wit) {
				int n = snprintf(steps + off, sizeof(steps) - off, "%s%zu%s",
						 off ? ", " : "", j + 1, wit ? " (witness)" : "");
				off += n > 0 ? (size_t)n : 0;
			}
		}
		const char *cells[] = {role_title(sop->roles[i].name), sop->roles[i].text,
				       off ? steps : "-"};
		W(w, table_row, cells, 3);
	}
	W0(w, table_end);

	W(w, heading, 2, "prerequisites", "Prerequisites");
	W(w, list, (const char *const *)sop->prereqs, sop->nprereqs);

	W(w, heading, 2, "sequence", "Sequence");
	W(w, para, NULL,
	  "The station runs these steps in this order and refuses to skip or reorder them. "
	  "Each step is done by a person logged in with the role named; a witness confirms "
	  "under their own login.");
	for (size_t i = 0; i < sop->nsteps; i++) {
		walk_step(w, &sop->steps[i], i + 1);
	}

	W(w, heading, 2, "records", "Records kept");
	W(w, list, (const char *const *)sop->records, sop->nrecords);
	W(w, para, NULL,
	  "Every step's outcome is appended to the line's tamper-evident audit log with this "
	  "SOP's name, version and SHA-256. Secrets (private keys, credentials) are never "
	  "recorded.");

	W(w, heading, 2, "history", "Revision history");
	static const char *const hh[] = {"Version", "SHA-256", "Submitted by", "Submitted",
					 "Approved by", "Approved", "Change"};
	W(w, table_begin, "history", hh, 7);
	bool listed = false;
	for (size_t i = 0; i < opts->nhistory; i++) {
		const lsec_sop_revision *r = &opts->history[i];
		char v[16];
		snprintf(v, sizeof(v), "%d", r->version);
		listed |= r->version == sop->version;
		const char *cells[] = {v,
				       r->sha256_hex,
				       r->submitter,
				       r->submitted,
				       r->approvers != NULL && r->approvers[0] ? r->approvers : "not approved",
				       r->approved != NULL ? r->approved : "-",
				       r->change != NULL ? r->change : "-"};
		W(w, table_row, cells, 7);
	}
	if (!listed) {
		const char *cells[] = {ver, hex, "-", "-", "not approved", "-",
				       sop->change != NULL ? sop->change : "-"};
		W(w, table_row, cells, 7);
	}
	W0(w, table_end);

	W(w, heading, 2, "controls", "Controls the station enforces");
	W(w, para, NULL,
	  "This file was checked against every rule below before it could be submitted; a "
	  "version that breaks one is refused.");
	static const char *const ch[] = {"Rule", "Requirement"};
	W(w, table_begin, "rules", ch, 2);
	for (size_t i = 0; i < lsec_sop_rule_count(); i++) {
		const lsec_sop_rule *r = lsec_sop_rule_at(i);
		const char *cells[] = {r->id, r->sentence};
		W(w, table_row, cells, 2);
	}
	W0(w, table_end);
	W(w, end, &h);
}

int lsec_sop_render_walk(const lsec_sop *sop, const lsec_sop_render_options *opts,
			 const lsec_sop_render_sink *sink, void *ctx, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(sop);
	LSEC_ENSURE_REF(opts);
	LSEC_ENSURE_REF(sink);
	LSEC_ENSURE(opts->version == LSEC_SOP_RENDER_OPTIONS_VERSION, LSEC_E_USAGE,
		    "cannot render SOP: options version %u, expected %u", opts->version,
		    LSEC_SOP_RENDER_OPTIONS_VERSION);
	LSEC_ENSURE(opts->nhistory == 0 || opts->history != NULL, LSEC_E_USAGE,
		    "cannot render SOP: history missing");
	walk w = {sink, ctx, err, 0};
	walk_doc(&w, sop, opts);
	rc = w.rc;
out:
	return rc;
}

int lsec_sop_render(lsec_buf *outb, const lsec_sop *sop, const lsec_sop_render_options *opts,
		    lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(outb);
	LSEC_ENSURE_REF(opts);
	LSEC_ENSURE(opts->format == LSEC_SOP_FORMAT_MD || opts->format == LSEC_SOP_FORMAT_HTML ||
			opts->format == LSEC_SOP_FORMAT_HTML_BODY,
		    LSEC_E_USAGE, "cannot render SOP: unknown format %d", (int)opts->format);
	out o = {outb, err, opts->format != LSEC_SOP_FORMAT_MD,
		 opts->format == LSEC_SOP_FORMAT_HTML_BODY, 0};
	LSEC_TRY(lsec_sop_render_walk(sop, opts, &text_sink, &o, err));
out:
	return rc;
}
