/* Rendering the written procedure: sections, identity, escaping, history. */
#include "helpers/testutil.h"

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

static char *render(const lsec_sop *sop, lsec_sop_format fmt, bool draft,
		    const lsec_sop_revision *hist, size_t nhist)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1u << 22);
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	ro.format = fmt;
	ro.draft = draft;
	ro.history = hist;
	ro.nhistory = nhist;
	assert_lsec_ok(lsec_sop_render(&b, sop, &ro, &err), &err);
	char *s = lsec_strdup(lsec_buf_cstr(&b, &err));
	lsec_buf_release(&b);
	return s;
}

static void test_sop_render__defaults_have_every_section(void **state)
{
	(void)state;
	static const char *const kinds[] = {"flash", "provision", "secure-boot", "debug-lock",
					    "decommission"};
	static const char *const sections[] = {
		"Document identity", "Purpose", "Scope", "Roles and responsibilities",
		"Prerequisites", "Sequence", "Records kept", "Revision history",
		"Controls the station enforces", "How it is verified", "If it fails", "Who"};
	for (size_t k = 0; k < 5; k++) {
		lsec_sop *sop = load_default(kinds[k]);
		char hex[65];
		lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
		for (int f = 0; f < 2; f++) {
			char *doc = render(sop, f ? LSEC_SOP_FORMAT_HTML : LSEC_SOP_FORMAT_MD, true, NULL, 0);
			for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
				if (strstr(doc, sections[s]) == NULL) {
					fail_msg("%s (%s) lacks '%s'", kinds[k], f ? "html" : "md",
						 sections[s]);
				}
			}
			assert_non_null(strstr(doc, hex));
			assert_non_null(strstr(doc, "DRAFT - NOT APPROVED"));
			assert_non_null(strstr(doc, lsec_sop_title(sop)));
			/* every step is numbered, with its action */
			for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
				assert_non_null(strstr(doc, lsec_sop_step_at(sop, i)->action->id));
			}
			if (f) {
				assert_true(strncmp(doc, "<!DOCTYPE html>", 15) == 0);
				assert_non_null(strstr(doc, "<style>"));
				assert_non_null(strstr(doc, "@media print"));
				/* self-contained: nothing fetched from elsewhere */
				assert_null(strstr(doc, "src="));
				assert_null(strstr(doc, "href="));
			}
			lsec_free(doc);
		}
		lsec_sop_free(sop);
	}
}

static void test_sop_render__irreversible_steps_are_marked(void **state)
{
	(void)state;
	lsec_sop *sop = load_default("secure-boot");
	char *html = render(sop, LSEC_SOP_FORMAT_HTML, true, NULL, 0);
	char *md = render(sop, LSEC_SOP_FORMAT_MD, true, NULL, 0);
	size_t irrev = 0;
	for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
		irrev += (lsec_sop_step_at(sop, i)->action->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0;
	}
	size_t seen = 0;
	for (const char *p = html; (p = strstr(p, "class=\"step irreversible\"")) != NULL; p++) {
		seen++;
	}
	assert_int_equal(seen, irrev);
	assert_true(irrev >= 4);
	assert_non_null(strstr(md, "**IRREVERSIBLE:**"));
	lsec_free(html);
	lsec_free(md);
	lsec_sop_free(sop);
}

static void test_sop_render__text_is_escaped(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	char *path = lsec_asprintf("%s/sops/debug-lock.yaml", getenv("LSEC_SOURCE_DIR"));
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	assert_lsec_ok(lsec_file_read(&b, path, &err), &err);
	const char *src = lsec_buf_cstr(&b, &err);
	const char *at = strstr(src, "title: Locking the debug interfaces");
	assert_non_null(at);
	char *text = lsec_asprintf("%.*stitle: \"<script>alert(1)</script> & *bold* | x\"%s",
				   (int)(at - src), src, at + strlen("title: Locking the debug interfaces"));
	assert_lsec_ok(lsec_sop_parse(&sop, NULL, (const uint8_t *)text, strlen(text), "t.yaml", &err),
		       &err);
	char *html = render(sop, LSEC_SOP_FORMAT_HTML, true, NULL, 0);
	assert_null(strstr(html, "<script>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold*"));
	char *body = render(sop, LSEC_SOP_FORMAT_HTML_BODY, true, NULL, 0);
	assert_null(strstr(body, "<script>"));
	assert_non_null(strstr(body, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold*"));
	lsec_free(body);
	char *md = render(sop, LSEC_SOP_FORMAT_MD, true, NULL, 0);
	assert_non_null(strstr(md, "\\<script\\>"));
	assert_non_null(strstr(md, "\\*bold\\* \\| x"));
	lsec_free(html);
	lsec_free(md);
	lsec_free(text);
	lsec_free(path);
	lsec_buf_release(&b);
	lsec_sop_free(sop);
}

static void test_sop_render__history_and_approval(void **state)
{
	(void)state;
	lsec_sop *sop = load_default("flash");
	char hex[65];
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	lsec_sop_revision hist[] = {
		{1, hex, "alice", "2026-11-20T10:00:00Z", "carol, dave", "2026-11-21T09:30:00Z",
		 "First issue."},
	};
	char *html = render(sop, LSEC_SOP_FORMAT_HTML, false, hist, 1);
	assert_non_null(strstr(html, "APPROVED by carol, dave on 2026-11-21T09:30:00Z"));
	assert_null(strstr(html, "DRAFT - NOT APPROVED"));
	assert_non_null(strstr(html, "2026-11-20T10:00:00Z"));
	assert_non_null(strstr(html, "alice"));
	/* the same input renders the same bytes */
	char *again = render(sop, LSEC_SOP_FORMAT_HTML, false, hist, 1);
	assert_string_equal(html, again);
	lsec_free(again);
	lsec_free(html);
	/* forced draft wins over the history */
	html = render(sop, LSEC_SOP_FORMAT_MD, true, hist, 1);
	assert_non_null(strstr(html, "DRAFT - NOT APPROVED"));
	lsec_free(html);
	/* bad options are refused */
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1024);
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	ro.version = 99;
	assert_lsec_code(lsec_sop_render(&b, sop, &ro, &err), LSEC_E_USAGE, &err);
	ro.version = LSEC_SOP_RENDER_OPTIONS_VERSION;
	ro.format = (lsec_sop_format)7;
	assert_lsec_code(lsec_sop_render(&b, sop, &ro, &err), LSEC_E_USAGE, &err);
	/* the output buffer's limit holds */
	ro.format = LSEC_SOP_FORMAT_HTML;
	assert_lsec_code(lsec_sop_render(&b, sop, &ro, &err), LSEC_E_LIMIT, &err);
	lsec_buf_release(&b);
	lsec_sop_free(sop);
}

/* The body alone: the document's content in one <article>, without the
 * document around it, the same bytes in between. */
static void test_sop_render__html_body_is_the_document_content(void **state)
{
	(void)state;
	lsec_sop *sop = load_default("flash");
	char *html = render(sop, LSEC_SOP_FORMAT_HTML, true, NULL, 0);
	char *body = render(sop, LSEC_SOP_FORMAT_HTML_BODY, true, NULL, 0);
	assert_true(strncmp(body, "<article class=\"sop\">\n", 22) == 0);
	assert_null(strstr(body, "<html"));
	assert_null(strstr(body, "<head>"));
	assert_null(strstr(body, "<style"));
	assert_null(strstr(body, "<body"));
	size_t blen = strlen(body), tail = strlen("</article>\n");
	assert_string_equal(body + blen - tail, "</article>\n");
	const char *from = strstr(html, "<div class=\"draftmark\">");
	const char *to = strstr(html, "</body></html>\n");
	assert_non_null(from);
	assert_non_null(to);
	size_t inner = blen - tail - 22;
	assert_int_equal((size_t)(to - from), inner);
	assert_true(memcmp(from, body + 22, inner) == 0);
	lsec_free(body);
	lsec_free(html);
	lsec_sop_free(sop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sop_render__defaults_have_every_section),
		cmocka_unit_test(test_sop_render__irreversible_steps_are_marked),
		cmocka_unit_test(test_sop_render__text_is_escaped),
		cmocka_unit_test(test_sop_render__history_and_approval),
		cmocka_unit_test(test_sop_render__html_body_is_the_document_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
