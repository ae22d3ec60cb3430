/* The PDF writer and a SOP version as PDF: pages, page count, determinism, refusals. */
#include "helpers/testutil.h"

#include "linesec/report.h"
#include "linesec/sop.h"

#include <stdlib.h>
#include <string.h>

static lsec_sop *load_default(const char *kind)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	char *path = lsec_asprintf("%s/sops/%s.yaml", getenv("LSEC_SOURCE_DIR"), kind);
	assert_lsec_ok(lsec_sop_load(&sop, NULL, path, &err), &err);
	lsec_free(path);
	return sop;
}

/* Page objects in a PDF: "/Type /Page" not followed by "s" (that is /Pages). */
static unsigned count_pages(const lsec_buf *b)
{
	static const char key[] = "/Type /Page";
	unsigned n = 0;
	for (size_t i = 0; i + sizeof(key) < b->len; i++) {
		if (memcmp(b->data + i, key, sizeof(key) - 1) == 0 &&
		    b->data[i + sizeof(key) - 1] != 's') {
			n++;
		}
	}
	return n;
}

static bool has(const lsec_buf *b, const char *s)
{
	return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static void pdf_of(lsec_buf *b, const lsec_sop *sop, bool draft, const lsec_sop_revision *h,
		   size_t nh)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	ro.draft = draft;
	ro.history = h;
	ro.nhistory = nh;
	assert_lsec_ok(lsec_report_sop_pdf_loaded(b, sop, &ro, &err), &err);
}

static void test_report__every_sop_is_a_pdf(void **state)
{
	(void)state;
	static const char *const kinds[] = {"flash", "provision", "secure-boot", "debug-lock",
					    "decommission"};
	for (size_t k = 0; k < 5; k++) {
		lsec_sop *sop = load_default(kinds[k]);
		lsec_buf b = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
		pdf_of(&b, sop, true, NULL, 0);
		assert_true(b.len > 1000);
		assert_memory_equal(b.data, "%PDF-", 5);
		assert_true(has(&b, "%%EOF"));
		assert_true(count_pages(&b) >= 2);
		/* the fonts are embedded */
		assert_true(has(&b, "/FontFile"));
		assert_true(has(&b, "DejaVuSans"));
		lsec_buf_release(&b);
		lsec_sop_free(sop);
	}
}

/* A longer document has more pages; the count is the writer's own and the file's. */
static void test_report__long_document_has_more_pages(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_report_doc *d = NULL;
	lsec_buf one = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX), many = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
	unsigned p1 = 0, pn = 0;
	const char *hdr[] = {"a header line"};
	assert_lsec_ok(lsec_report_doc_new(&d, &err), &err);
	assert_lsec_ok(lsec_report_doc_header(d, hdr, 1, NULL, &err), &err);
	assert_lsec_ok(lsec_report_doc_para(d, 0, NULL, "one paragraph", &err), &err);
	assert_lsec_ok(lsec_report_doc_pdf(&one, &p1, d, &err), &err);
	assert_int_equal(p1, 1);
	assert_int_equal(count_pages(&one), 1);
	/* 300 paragraphs of three lines and a 200-row table: many pages */
	char text[600];
	memset(text, 0, sizeof(text));
	for (size_t i = 0; i < 50; i++) {
		strcat(text, "word word ");
	}
	for (int i = 0; i < 300; i++) {
		assert_lsec_ok(lsec_report_doc_para(d, i % 3, "Label:", text, &err), &err);
	}
	const char *head[] = {"A", "B", "C"};
	assert_lsec_ok(lsec_report_doc_table(d, head, 3, &err), &err);
	for (int i = 0; i < 200; i++) {
		const char *row[] = {"1", text, NULL};
		assert_lsec_ok(lsec_report_doc_row(d, row, 3, &err), &err);
	}
	/* a row taller than a page: its cells flow over pages instead of running off one */
	char *huge = lsec_calloc(1, 60001);
	assert_non_null(huge);
	for (size_t i = 0; i < 6000; i++) {
		memcpy(huge + i * 10, "word word ", 10);
	}
	const char *tall[] = {"2", huge, "after"};
	assert_lsec_ok(lsec_report_doc_row(d, tall, 3, &err), &err);
	const char *last[] = {"3", "a row after it", NULL};
	assert_lsec_ok(lsec_report_doc_row(d, last, 3, &err), &err);
	lsec_free(huge);
	assert_lsec_ok(lsec_report_doc_pdf(&many, &pn, d, &err), &err);
	assert_true(pn > 20);
	assert_int_equal(count_pages(&many), pn);
	lsec_buf_release(&one);
	lsec_buf_release(&many);
	lsec_report_doc_free(d);
}

/* An approved version: the same facts give the same bytes (creation date = approval). */
static void test_report__approved_is_deterministic(void **state)
{
	(void)state;
	lsec_sop *sop = load_default("flash");
	char hex[65];
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	lsec_sop_revision h[60];
	for (int i = 0; i < 60; i++) {
		h[i] = (lsec_sop_revision){i + 1,
					   hex,
					   "sam",
					   "2026-01-02T03:04:05Z",
					   "alice, bob",
					   "2026-01-03T04:05:06Z",
					   "a change"};
	}
	assert_int_equal(lsec_sop_version(sop), 1);
	lsec_buf a = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX), b = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
	lsec_buf shortb = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
	pdf_of(&a, sop, false, h, 60);
	pdf_of(&b, sop, false, h, 60);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* the approval time as the creation date, however cairo spells it */
	assert_true(has(&a, "20260103040506"));
	/* a long revision history takes more pages than a short one */
	pdf_of(&shortb, sop, false, h, 1);
	assert_true(count_pages(&a) > count_pages(&shortb));
	lsec_buf_release(&a);
	lsec_buf_release(&b);
	lsec_buf_release(&shortb);
	lsec_sop_free(sop);
}

/* The walk gives a writer every step, and the consequence of each irreversible one. */
typedef struct seen {
	size_t steps, irreversible, begins, ends;
	bool approved;
} seen;

static int w_begin(void *c, const lsec_sop_render_head *h, lsec_err *err)
{
	(void)err;
	((seen *)c)->begins++;
	((seen *)c)->approved = h->approved;
	return 0;
}
static int w_heading(void *c, int l, const char *id, const char *t, lsec_err *err)
{
	(void)c, (void)l, (void)id, (void)t, (void)err;
	return 0;
}
static int w_para(void *c, const char *l, const char *t, lsec_err *err)
{
	(void)c, (void)l, (void)t, (void)err;
	return 0;
}
static int w_list(void *c, const char *const *i, size_t n, lsec_err *err)
{
	(void)c, (void)i, (void)n, (void)err;
	return 0;
}
static int w_tb(void *c, const char *cls, const char *const *h, size_t n, lsec_err *err)
{
	(void)c, (void)cls, (void)h, (void)n, (void)err;
	return 0;
}
static int w_row(void *c, const char *const *h, size_t n, lsec_err *err)
{
	(void)c, (void)h, (void)n, (void)err;
	return 0;
}
static int w_none(void *c, lsec_err *err)
{
	(void)c, (void)err;
	return 0;
}
static int w_step(void *c, size_t num, const char *t, const char *a, const char *irr,
		  lsec_err *err)
{
	(void)t, (void)a, (void)err;
	seen *s = c;
	assert_int_equal(num, s->steps + 1);
	s->steps++;
	if (irr != NULL) {
		assert_non_null(strstr(irr, "records its intent before acting"));
		s->irreversible++;
	}
	return 0;
}
static int w_field(void *c, const char *l, const char *t, lsec_err *err)
{
	(void)c, (void)l, (void)t, (void)err;
	return 0;
}
static int w_end(void *c, const lsec_sop_render_head *h, lsec_err *err)
{
	(void)h, (void)err;
	((seen *)c)->ends++;
	return 0;
}
static int w_fail(void *c, size_t num, const char *t, const char *a, const char *irr,
		  lsec_err *err)
{
	(void)c, (void)num, (void)t, (void)a, (void)irr;
	return lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__, "sink failed");
}

static void test_report__walk_reaches_every_step(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = load_default("secure-boot");
	lsec_sop_render_sink sink = {w_begin, w_heading, w_para,  w_list, w_tb, w_row,
				     w_none,  w_step,	 w_field, w_none, w_end};
	seen s = {0};
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	assert_lsec_ok(lsec_sop_render_walk(sop, &ro, &sink, &s, &err), &err);
	assert_int_equal(s.steps, lsec_sop_step_count(sop));
	size_t irr = 0;
	for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
		irr += (lsec_sop_step_at(sop, i)->action->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0;
	}
	assert_true(irr > 0);
	assert_int_equal(s.irreversible, irr);
	assert_int_equal(s.begins, 1);
	assert_int_equal(s.ends, 1);
	assert_false(s.approved);
	/* a failing writer stops the walk with its error */
	sink.step_begin = w_fail;
	s = (seen){0};
	assert_lsec_code(lsec_sop_render_walk(sop, &ro, &sink, &s, &err), LSEC_E_IO, &err);
	assert_int_equal(s.ends, 0);
	lsec_sop_free(sop);
}

static void test_report__refusals(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_report_doc *d = NULL;
	const char *cells[] = {"a", "b", "c"};
	assert_lsec_ok(lsec_report_doc_new(&d, &err), &err);
	assert_lsec_code(lsec_report_doc_row(d, cells, 2, &err), LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_report_doc_table(d, cells, 0, &err), LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_report_doc_heading(d, 4, "x", &err), LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_report_doc_header(d, cells, LSEC_REPORT_HEADER_MAX + 1, NULL, &err),
			 LSEC_E_USAGE, &err);
	assert_lsec_ok(lsec_report_doc_table(d, cells, 3, &err), &err);
	assert_lsec_code(lsec_report_doc_row(d, cells, 2, &err), LSEC_E_USAGE, &err);
	/* bad UTF-8 is drawn, not refused, and not passed to pango as is */
	assert_lsec_ok(lsec_report_doc_para(d, 0, "\xff\xfe", "ok \xc3", &err), &err);
	/* a buffer too small: LSEC_E_LIMIT and nothing half-written left in it */
	lsec_buf b = LSEC_BUF_INIT(2000);
	assert_lsec_ok(lsec_buf_append_str(&b, "kept", &err), &err);
	assert_lsec_code(lsec_report_doc_pdf(&b, NULL, d, &err), LSEC_E_LIMIT, &err);
	assert_int_equal(b.len, 4);
	lsec_buf_release(&b);
	/* a bad option version is refused before anything is written */
	lsec_sop *sop = load_default("flash");
	lsec_buf p = LSEC_BUF_INIT(LSEC_REPORT_PDF_MAX);
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	ro.version = 99;
	assert_lsec_code(lsec_report_sop_pdf_loaded(&p, sop, &ro, &err), LSEC_E_USAGE, &err);
	assert_int_equal(p.len, 0);
	lsec_buf_release(&p);
	lsec_sop_free(sop);
	lsec_report_doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report__every_sop_is_a_pdf),
		cmocka_unit_test(test_report__long_document_has_more_pages),
		cmocka_unit_test(test_report__approved_is_deterministic),
		cmocka_unit_test(test_report__walk_reaches_every_step),
		cmocka_unit_test(test_report__refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
