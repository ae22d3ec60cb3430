/*
 * sop_pdf.c - a SOP version as a controlled PDF document.
 *
 * The sections, their order and every sentence come from the sop module's
 * render walk (lsec_sop_render_walk), the same that writes the Markdown and
 * HTML; this file only decides how each block looks on a page. Every page
 * carries the SOP's name, version, SHA-256 and approvers (or the DRAFT
 * mark) in its header, and "page N of M" in its footer.
 */
#include "report/report_int.h"

#include <stdio.h>

/* Every callback adds to the document; the first error stops the walk. */
static int p_begin(void *c, const lsec_sop_render_head *h, lsec_err *err)
{
	int rc = 0;
	lsec_report_doc *d = c;
	char l1[320], l2[96], l3[320], title[320];
	snprintf(l1, sizeof(l1), "SOP %s \xc2\xb7 version %d \xc2\xb7 %s", h->kind, h->version,
		 h->title);
	snprintf(l2, sizeof(l2), "SHA-256 %s", h->sha256_hex);
	if (h->approved) {
		snprintf(l3, sizeof(l3), "Approved by %s on %s", h->approvers, h->approved_at);
	} else {
		snprintf(l3, sizeof(l3), "Approved by: nobody; this version is not approved");
	}
	const char *lines[] = {l1, l2, l3};
	LSEC_TRY(lsec_report_doc_header(d, lines, 3, h->approved ? NULL : h->status, err));
	snprintf(title, sizeof(title), "SOP %s version %d: %s", h->kind, h->version, h->title);
	LSEC_TRY(lsec_report_doc_info(d, title, h->approved ? h->approved_at : NULL, err));
	LSEC_TRY(lsec_report_doc_heading(d, 1, h->title, err));
	snprintf(title, sizeof(title), "Standard operating procedure %s, version %d.", h->kind,
		 h->version);
	LSEC_TRY(lsec_report_doc_para(d, 0, NULL, title, err));
	if (h->approved) {
		LSEC_TRY(lsec_report_doc_para(d, 0, NULL, h->status, err));
	} else {
		LSEC_TRY(lsec_report_doc_warning(d, NULL, h->status, err));
	}
out:
	return rc;
}

static int p_heading(void *c, int level, const char *id, const char *text, lsec_err *err)
{
	(void)id;
	return lsec_report_doc_heading(c, level, text, err);
}

static int p_para(void *c, const char *label, const char *text, lsec_err *err)
{
	return lsec_report_doc_para(c, 0, label, text, err);
}

static int p_list(void *c, const char *const *items, size_t n, lsec_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(lsec_report_doc_bullet(c, items[i], err));
	}
out:
	return rc;
}

static int p_table_begin(void *c, const char *cls, const char *const *head, size_t n,
			 lsec_err *err)
{
	(void)cls;
	return lsec_report_doc_table(c, head, n, err);
}

static int p_table_row(void *c, const char *const *cells, size_t n, lsec_err *err)
{
	return lsec_report_doc_row(c, cells, n, err);
}

static int p_nothing(void *c, lsec_err *err)
{
	(void)c;
	(void)err;
	return 0;
}

static int p_step_begin(void *c, size_t num, const char *title, const char *action,
			const char *irreversible, lsec_err *err)
{
	int rc = 0;
	char h[200];
	snprintf(h, sizeof(h), "%zu. %s", num, title);
	LSEC_TRY(lsec_report_doc_heading(c, 3, h, err));
	LSEC_TRY(lsec_report_doc_para(c, 1, "Action:", action, err));
	if (irreversible != NULL) {
		LSEC_TRY(lsec_report_doc_warning(c, "IRREVERSIBLE:", irreversible, err));
	}
out:
	return rc;
}

static int p_field(void *c, const char *label, const char *text, lsec_err *err)
{
	char l[64];
	snprintf(l, sizeof(l), "%s:", label);
	return lsec_report_doc_para(c, 1, l, text, err);
}

static int p_end(void *c, const lsec_sop_render_head *h, lsec_err *err)
{
	int rc = 0;
	static const char *const sh[] = {"Name", "Role", "Signature", "Date"};
	static const char *const blank[] = {" \n ", "", "", ""};
	char closing[400];
	LSEC_TRY(lsec_report_doc_heading(c, 2, "Acknowledgement", err));
	LSEC_TRY(lsec_report_doc_table(c, sh, 4, err));
	LSEC_TRY(lsec_report_doc_row(c, blank, 4, err));
	LSEC_TRY(lsec_report_doc_row(c, blank, 4, err));
	snprintf(closing, sizeof(closing),
		 "SOP %s, version %d, SHA-256 %s. Rendered by linesec from the file the station "
		 "runs.",
		 h->kind, h->version, h->sha256_hex);
	LSEC_TRY(lsec_report_doc_para(c, 0, NULL, closing, err));
out:
	return rc;
}

static const lsec_sop_render_sink pdf_sink = {
	p_begin,   p_heading,	 p_para,     p_list,	p_table_begin, p_table_row,
	p_nothing, p_step_begin, p_field,    p_nothing, p_end,
};

int lsec_report_sop_pdf(lsec_buf *out, struct lsec_store *st, const char *name, int version,
			lsec_err *err)
{
	int rc = 0;
	lsec_report_doc *d = NULL;
	LSEC_ENSURE_REF(out);
	LSEC_TRY(lsec_report_doc_new(&d, err));
	LSEC_TRY(lsec_sop_render_stored_walk(st, name, version, &pdf_sink, d, err));
	LSEC_TRY(lsec_report_doc_pdf(out, NULL, d, err));
out:
	lsec_report_doc_free(d);
	return rc;
}

int lsec_report_sop_pdf_loaded(lsec_buf *out, const lsec_sop *sop,
			       const lsec_sop_render_options *opts, lsec_err *err)
{
	int rc = 0;
	lsec_report_doc *d = NULL;
	LSEC_ENSURE_REF(out);
	LSEC_TRY(lsec_report_doc_new(&d, err));
	LSEC_TRY(lsec_sop_render_walk(sop, opts, &pdf_sink, d, err));
	LSEC_TRY(lsec_report_doc_pdf(out, NULL, d, err));
out:
	lsec_report_doc_free(d);
	return rc;
}
