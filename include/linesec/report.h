/*
 * linesec/report.h - documents for people: PDF written with cairo and pango.
 *
 * A document is built block by block (headings, paragraphs, bullets,
 * warnings set apart in a box, tables), then laid out on A4 pages with a
 * running header on every page (the lines the caller gives, and a mark
 * such as DRAFT - NOT APPROVED) and a footer "page N of M". Layout runs
 * twice: the first pass counts the pages, the second writes them, so M is
 * known on every page. Text is wrapped by pango in the font family "DejaVu
 * Sans" (the package fonts-dejavu-core); cairo embeds the fonts it uses.
 * Every text is drawn as text, never read as markup. Text that is not
 * valid UTF-8 is drawn with its bad bytes replaced.
 *
 * The first document is a SOP version (lsec_report_sop_pdf): the same
 * sections and sentences as `sop render`'s Markdown and HTML.
 */
#ifndef LINESEC_REPORT_H
#define LINESEC_REPORT_H

#include "linesec/sop.h"
#include "linesec/store.h"
#include "linesec/util.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest PDF written; a SOP of the largest size stays far below it. */
#define LSEC_REPORT_PDF_MAX (32u << 20)
/* Lines of the running header. */
#define LSEC_REPORT_HEADER_MAX 4
/* The font family every text is set in (fonts-dejavu-core). */
#define LSEC_REPORT_FONT "DejaVu Sans"

typedef struct lsec_report_doc lsec_report_doc;

LSEC_API LSEC_MUST_USE int lsec_report_doc_new(lsec_report_doc **out, lsec_err *err);
LSEC_API void lsec_report_doc_free(lsec_report_doc *d);

/*
 * The running header: up to LSEC_REPORT_HEADER_MAX lines drawn at the top of
 * every page, and mark (NULL: none), drawn in bold above them on every page.
 * Errors: LSEC_E_USAGE (too many lines), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_report_doc_header(lsec_report_doc *d, const char *const *lines,
						  size_t n, const char *mark, lsec_err *err);
/*
 * The PDF's metadata: title, and its creation date (ISO 8601,
 * "2026-01-31T09:00:00Z") so that the same document gives the same bytes;
 * created NULL: cairo writes the time of writing.
 */
LSEC_API LSEC_MUST_USE int lsec_report_doc_info(lsec_report_doc *d, const char *title,
						const char *created, lsec_err *err);
/* A heading: level 1 (document title), 2 (section) or 3 (sub-section). */
LSEC_API LSEC_MUST_USE int lsec_report_doc_heading(lsec_report_doc *d, int level,
						   const char *text, lsec_err *err);
/* A paragraph, with a bold label before it when label is not NULL; indent in levels (0..3). */
LSEC_API LSEC_MUST_USE int lsec_report_doc_para(lsec_report_doc *d, int indent, const char *label,
						const char *text, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_report_doc_bullet(lsec_report_doc *d, const char *text,
						  lsec_err *err);
/* A paragraph set apart: framed, shaded, a heavy rule on its left, label in bold. */
LSEC_API LSEC_MUST_USE int lsec_report_doc_warning(lsec_report_doc *d, const char *label,
						   const char *text, lsec_err *err);
/*
 * A table: its header row (n columns, 1..8), then rows of n cells (NULL
 * cells are empty). The header row is repeated on each page the table
 * spans. Errors: LSEC_E_USAGE (a row with another count of cells, no table
 * begun), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_report_doc_table(lsec_report_doc *d, const char *const *head,
						 size_t n, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_report_doc_row(lsec_report_doc *d, const char *const *cells,
					       size_t n, lsec_err *err);
/*
 * Lays the document out and appends the PDF to out; *pages_out (may be
 * NULL) receives the number of pages. Errors: LSEC_E_LIMIT (out->max),
 * LSEC_E_IO (cairo failed, named), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_report_doc_pdf(lsec_buf *out, unsigned *pages_out,
					       const lsec_report_doc *d, lsec_err *err);

/* ---- SOP ------------------------------------------------------------------ */

struct lsec_store;

/*
 * A stored SOP version as a controlled PDF document (version 0: the latest
 * approved one), appended to out: the sections of lsec_sop_render_stored,
 * with SOP name, version, SHA-256 and approvers (or DRAFT - NOT APPROVED)
 * in the header of every page, "page N of M", and each irreversible step
 * set apart with its consequence. The PDF's creation date is the
 * version's approval time, so an approved version always gives the same
 * bytes. Errors: those of lsec_sop_render_stored_walk, LSEC_E_LIMIT,
 * LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_report_sop_pdf(lsec_buf *out, struct lsec_store *st,
					       const char *name, int version, lsec_err *err);
/*
 * The same for a loaded SOP and its registry facts (opts: draft and
 * history, as for lsec_sop_render; opts->format is not read). A draft
 * (opts->draft, or no approval of this version in the history) is marked
 * DRAFT - NOT APPROVED on every page.
 */
LSEC_API LSEC_MUST_USE int lsec_report_sop_pdf_loaded(lsec_buf *out, const lsec_sop *sop,
						      const lsec_sop_render_options *opts,
						      lsec_err *err);

/* ---- first-pass yield ------------------------------------------------------ */

/* One row of first-pass yield: a SOP (step "") or one step of it. */
typedef struct lsec_report_yield {
	char sop[LSEC_STORE_NAME_MAX + 1];
	char step[LSEC_STORE_NAME_MAX + 1]; /* "" for the SOP as a whole */
	size_t units;      /* units whose first run of the SOP started in the window
			      (and, for a step, reached it) */
	size_t first_pass; /* of those: passed the first time, without a retry */
} lsec_report_yield;

/*
 * First-pass yield by SOP and by step over the runs whose start time is in
 * [since, until) (ISO 8601 UTC text, compared as text: "2026-12-03" is the
 * start of that day; NULL: unbounded). A unit counts once per SOP, by its
 * first run of that SOP ever: a unit whose first run was before the window
 * is not counted, and a rerun is never a first pass. The SOP's first pass:
 * that run passed and every step of it passed at its first attempt. A
 * step's: its first attempt in that run passed and it was not attempted
 * again. Rows come from the registry's runs and steps tables, which
 * `audit verify`'s replay rebuilds from the log and compares. Rows are in
 * SOP order of first appearance, each SOP's row before its steps in the
 * order they first ran; *out belongs to the caller (lsec_free).
 * Errors: store errors, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_report_yield_list(lsec_report_yield **out, size_t *n_out,
						  struct lsec_store *st, const char *since,
						  const char *until, lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
