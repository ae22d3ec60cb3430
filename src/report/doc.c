/*
 * doc.c - the document writer: blocks kept in memory, laid out on A4 pages
 * with cairo and pango, written as PDF into an lsec_buf.
 *
 * Layout runs twice with the same code on the same kind of surface: the
 * first pass only counts the pages (its bytes are dropped), the second
 * writes them with "page N of M". Texts are set with pango_layout_set_text
 * (never markup), so nothing in a document can change its form.
 */
#include "report/report_int.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <string.h>

/* A4 in points, and the frame of the body. */
#define PAGE_W 595.276
#define PAGE_H 841.89
#define MARGIN 56.0
#define BODY_W (PAGE_W - 2 * MARGIN)
#define HEAD_TOP 28.0
#define BODY_BOTTOM (PAGE_H - 56.0)
#define FOOT_Y (PAGE_H - 40.0)
#define INDENT 14.0
#define CELL_PAD 3.5
#define MAX_COLS 8

typedef enum bkind { B_HEADING, B_PARA, B_BULLET, B_WARN, B_TABLE } bkind;

typedef struct block {
	bkind kind;
	int level; /* heading level, paragraph indent */
	char *label;
	char *text;
	size_t ncols, nrows; /* table: row 0 is the header */
	char **cells;        /* nrows * ncols */
} block;

struct lsec_report_doc {
	block *b;
	size_t n, cap;
	char *header[LSEC_REPORT_HEADER_MAX];
	size_t nheader;
	char *mark;
	char *title, *created;
	bool table_open;
};

/* A copy that pango can draw: bad UTF-8 replaced. NULL: out of memory. */
static char *dup_text(const char *s)
{
	gchar *g = g_utf8_make_valid(s != NULL ? s : "", -1);
	char *r = g != NULL ? lsec_strdup(g) : NULL;
	g_free(g);
	return r;
}

int lsec_report_doc_new(lsec_report_doc **out, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(out);
	*out = lsec_calloc(1, sizeof(**out));
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

void lsec_report_doc_free(lsec_report_doc *d)
{
	if (d == NULL) {
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		block *k = &d->b[i];
		lsec_free(k->label);
		lsec_free(k->text);
		for (size_t c = 0; k->cells != NULL && c < k->nrows * k->ncols; c++) {
			lsec_free(k->cells[c]);
		}
		lsec_free(k->cells);
	}
	for (size_t i = 0; i < d->nheader; i++) {
		lsec_free(d->header[i]);
	}
	lsec_free(d->b);
	lsec_free(d->mark);
	lsec_free(d->title);
	lsec_free(d->created);
	lsec_free(d);
}

int lsec_report_doc_header(lsec_report_doc *d, const char *const *lines, size_t n,
			   const char *mark, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	LSEC_ENSURE(n <= LSEC_REPORT_HEADER_MAX && (n == 0 || lines != NULL), LSEC_E_USAGE,
		    "cannot set the page header: %zu lines, at most %d", n, LSEC_REPORT_HEADER_MAX);
	for (size_t i = 0; i < d->nheader; i++) {
		lsec_free(d->header[i]);
	}
	lsec_free(d->mark);
	d->mark = NULL;
	d->nheader = 0;
	for (size_t i = 0; i < n; i++) {
		d->header[i] = dup_text(lines[i]);
		LSEC_ENSURE(d->header[i] != NULL, LSEC_E_NOMEM, "out of memory");
		d->nheader++;
	}
	if (mark != NULL) {
		d->mark = dup_text(mark);
		LSEC_ENSURE(d->mark != NULL, LSEC_E_NOMEM, "out of memory");
	}
out:
	return rc;
}

int lsec_report_doc_info(lsec_report_doc *d, const char *title, const char *created,
			 lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	lsec_free(d->title);
	lsec_free(d->created);
	d->title = title != NULL ? dup_text(title) : NULL;
	d->created = created != NULL && created[0] != 0 ? dup_text(created) : NULL;
	LSEC_ENSURE((title == NULL || d->title != NULL) &&
			    (created == NULL || created[0] == 0 || d->created != NULL),
		    LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

static int add(block **out, lsec_report_doc *d, bkind kind, int level, const char *label,
	       const char *text, lsec_err *err)
{
	int rc = 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		block *nb = lsec_realloc(d->b, cap * sizeof(*nb));
		LSEC_ENSURE(nb != NULL, LSEC_E_NOMEM, "out of memory");
		d->b = nb;
		d->cap = cap;
	}
	block *k = &d->b[d->n];
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->level = level;
	d->n++;
	d->table_open = false;
	k->label = label != NULL ? dup_text(label) : NULL;
	k->text = text != NULL ? dup_text(text) : NULL;
	LSEC_ENSURE((label == NULL || k->label != NULL) && (text == NULL || k->text != NULL),
		    LSEC_E_NOMEM, "out of memory");
	if (out != NULL) {
		*out = k;
	}
out:
	return rc;
}

int lsec_report_doc_heading(lsec_report_doc *d, int level, const char *text, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	LSEC_ENSURE(level >= 1 && level <= 3, LSEC_E_USAGE,
		    "cannot add a heading of level %d: expected 1 to 3", level);
	LSEC_TRY(add(NULL, d, B_HEADING, level, NULL, text, err));
out:
	return rc;
}

int lsec_report_doc_para(lsec_report_doc *d, int indent, const char *label, const char *text,
			 lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	LSEC_ENSURE(indent >= 0 && indent <= 3, LSEC_E_USAGE,
		    "cannot add a paragraph indented %d levels: expected 0 to 3", indent);
	LSEC_TRY(add(NULL, d, B_PARA, indent, label, text, err));
out:
	return rc;
}

int lsec_report_doc_bullet(lsec_report_doc *d, const char *text, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	LSEC_TRY(add(NULL, d, B_BULLET, 0, NULL, text, err));
out:
	return rc;
}

int lsec_report_doc_warning(lsec_report_doc *d, const char *label, const char *text,
			    lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	LSEC_TRY(add(NULL, d, B_WARN, 0, label, text, err));
out:
	return rc;
}

int lsec_report_doc_table(lsec_report_doc *d, const char *const *head, size_t n, lsec_err *err)
{
	int rc = 0;
	block *k = NULL;
	LSEC_ENSURE_REF(d);
	LSEC_ENSURE(n >= 1 && n <= MAX_COLS && head != NULL, LSEC_E_USAGE,
		    "cannot begin a table of %zu columns: expected 1 to %d", n, MAX_COLS);
	LSEC_TRY(add(&k, d, B_TABLE, 0, NULL, NULL, err));
	k->ncols = n;
	LSEC_TRY(lsec_report_doc_row(d, head, n, err));
out:
	return rc;
}

int lsec_report_doc_row(lsec_report_doc *d, const char *const *cells, size_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(d);
	LSEC_ENSURE(d->n > 0 && d->b[d->n - 1].kind == B_TABLE, LSEC_E_USAGE,
		    "cannot add a table row: no table begun");
	block *k = &d->b[d->n - 1];
	LSEC_ENSURE(n == k->ncols && cells != NULL, LSEC_E_USAGE,
		    "cannot add a table row of %zu cells to a table of %zu columns", n, k->ncols);
	char **nc = lsec_realloc(k->cells, (k->nrows + 1) * k->ncols * sizeof(*nc));
	LSEC_ENSURE(nc != NULL, LSEC_E_NOMEM, "out of memory");
	k->cells = nc;
	char **row = nc + k->nrows * k->ncols;
	memset(row, 0, k->ncols * sizeof(*row));
	k->nrows++;
	for (size_t i = 0; i < n; i++) {
		row[i] = dup_text(cells[i]);
		LSEC_ENSURE(row[i] != NULL, LSEC_E_NOMEM, "out of memory");
	}
out:
	return rc;
}

/* ---- layout ----------------------------------------------------------------- */

typedef struct lay {
	const lsec_report_doc *d;
	cairo_surface_t *surf;
	cairo_t *cr;
	unsigned page, total;
	double y, body_top;
	bool nomem; /* an allocation of the layout failed: the pass fails */
} lay;

typedef enum font { F_BODY, F_BOLD, F_SMALL, F_SMALL_BOLD, F_H1, F_H2, F_H3 } font;

static PangoLayout *make(lay *l, font f, double width, const char *label, const char *text)
{
	static const struct {
		double size;
		bool bold;
	} fonts[] = {{9.5, false}, {9.5, true}, {8.0, false}, {8.0, true},
		     {18.0, true}, {13.0, true}, {10.5, true}};
	PangoLayout *pl = pango_cairo_create_layout(l->cr);
	PangoFontDescription *fd = pango_font_description_new();
	pango_font_description_set_family(fd, LSEC_REPORT_FONT);
	pango_font_description_set_absolute_size(fd, fonts[f].size * PANGO_SCALE);
	pango_font_description_set_weight(fd, fonts[f].bold ? PANGO_WEIGHT_BOLD
							     : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(pl, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(pl, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(pl, PANGO_WRAP_WORD_CHAR);
	if (label == NULL) {
		pango_layout_set_text(pl, text != NULL ? text : "", -1);
		return pl;
	}
	gchar *all = g_strconcat(label, " ", text != NULL ? text : "", NULL);
	pango_layout_set_text(pl, all, -1);
	PangoAttrList *al = pango_attr_list_new();
	PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
	a->start_index = 0;
	a->end_index = (guint)strlen(label);
	pango_attr_list_insert(al, a);
	pango_layout_set_attributes(pl, al);
	pango_attr_list_unref(al);
	g_free(all);
	return pl;
}

static double height(PangoLayout *pl)
{
	int w, h;
	pango_layout_get_size(pl, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double width_of(PangoLayout *pl)
{
	int w, h;
	pango_layout_get_size(pl, &w, &h);
	return (double)w / PANGO_SCALE;
}

static void show(lay *l, PangoLayout *pl, double x, double y)
{
	cairo_move_to(l->cr, x, y);
	pango_cairo_show_layout(l->cr, pl);
}

/* The header and footer of the page just begun. */
static void furniture(lay *l)
{
	const lsec_report_doc *d = l->d;
	double y = HEAD_TOP;
	cairo_set_source_rgb(l->cr, 0.3, 0.33, 0.38);
	if (d->mark != NULL) {
		PangoLayout *pl = make(l, F_SMALL_BOLD, BODY_W, NULL, d->mark);
		cairo_set_source_rgb(l->cr, 0.7, 0.1, 0.05);
		show(l, pl, MARGIN, y);
		y += height(pl);
		g_object_unref(pl);
		cairo_set_source_rgb(l->cr, 0.3, 0.33, 0.38);
	}
	for (size_t i = 0; i < d->nheader; i++) {
		PangoLayout *pl = make(l, F_SMALL, BODY_W, NULL, d->header[i]);
		show(l, pl, MARGIN, y);
		y += height(pl);
		g_object_unref(pl);
	}
	y += 3;
	cairo_set_line_width(l->cr, 0.8);
	cairo_move_to(l->cr, MARGIN, y);
	cairo_line_to(l->cr, PAGE_W - MARGIN, y);
	cairo_stroke(l->cr);
	l->body_top = y + 12;

	char foot[64];
	snprintf(foot, sizeof(foot), "page %u of %u", l->page, l->total ? l->total : l->page);
	PangoLayout *pl = make(l, F_SMALL, BODY_W, NULL, foot);
	pango_layout_set_alignment(pl, PANGO_ALIGN_CENTER);
	show(l, pl, MARGIN, FOOT_Y);
	g_object_unref(pl);
	cairo_set_source_rgb(l->cr, 0.1, 0.12, 0.14);
	l->y = l->body_top;
}

static void new_page(lay *l)
{
	if (l->page > 0) {
		cairo_show_page(l->cr);
	}
	l->page++;
	furniture(l);
}

/* Starts a new page unless need points still fit (or the page is empty). */
static void need(lay *l, double h)
{
	if (l->y + h > BODY_BOTTOM && l->y > l->body_top) {
		new_page(l);
	}
}

/*
 * Flows a layout down the pages at x, line by line; a boxed one is framed
 * and shaded on each page it spans (pad points around its text).
 */
static void flow(lay *l, PangoLayout *pl, double x, bool boxed)
{
	double pad = boxed ? 5.0 : 0.0;
	PangoLayoutIter *it = pango_layout_get_iter(pl);
	int nl = pango_layout_get_line_count(pl);
	double *top = lsec_calloc((size_t)nl + 1, sizeof(double) * 3);
	if (top == NULL) {
		pango_layout_iter_free(it);
		l->nomem = true;
		return;
	}
	double *bot = top + nl + 1, *base = bot + nl + 1;
	int i = 0;
	do {
		PangoRectangle r;
		pango_layout_iter_get_line_extents(it, NULL, &r);
		top[i] = (double)r.y / PANGO_SCALE;
		bot[i] = (double)(r.y + r.height) / PANGO_SCALE;
		base[i] = (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE;
		i++;
	} while (i < nl && pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	nl = i;
	int from = 0;
	while (from < nl) {
		need(l, bot[from] - top[from] + 2 * pad);
		int to = from;
		while (to + 1 < nl && l->y + pad + (bot[to + 1] - top[from]) + pad <= BODY_BOTTOM) {
			to++;
		}
		double y0 = l->y + pad - top[from];
		if (boxed) {
			double h = bot[to] - top[from] + 2 * pad;
			cairo_rectangle(l->cr, x, l->y, BODY_W - (x - MARGIN), h);
			cairo_set_source_rgb(l->cr, 1.0, 0.95, 0.91);
			cairo_fill_preserve(l->cr);
			cairo_set_source_rgb(l->cr, 0.6, 0.2, 0.07);
			cairo_set_line_width(l->cr, 0.8);
			cairo_stroke(l->cr);
			cairo_rectangle(l->cr, x, l->y, 3.0, h);
			cairo_fill(l->cr);
			cairo_set_source_rgb(l->cr, 0.1, 0.12, 0.14);
		}
		for (int k = from; k <= to; k++) {
			cairo_move_to(l->cr, x + pad + (boxed ? 3.0 : 0.0), y0 + base[k]);
			pango_cairo_show_layout_line(l->cr, pango_layout_get_line_readonly(pl, k));
		}
		l->y += bot[to] - top[from] + 2 * pad;
		from = to + 1;
		if (from < nl) {
			new_page(l);
		}
	}
	lsec_free(top);
}

/* Column widths: each column its natural width up to a fair share, the rest to the wider ones. */
static void columns(lay *l, const block *k, double *w)
{
	double nat[MAX_COLS], sum = 0, fair = BODY_W / (double)k->ncols, extra = 0, over = 0;
	for (size_t c = 0; c < k->ncols; c++) {
		nat[c] = 24;
		for (size_t r = 0; r < k->nrows; r++) {
			PangoLayout *pl = make(l, r == 0 ? F_SMALL_BOLD : F_SMALL, -1, NULL,
					       k->cells[r * k->ncols + c]);
			pango_layout_set_width(pl, -1);
			double x = width_of(pl) + 2 * CELL_PAD + 1;
			nat[c] = x > nat[c] ? x : nat[c];
			g_object_unref(pl);
		}
		sum += nat[c];
	}
	if (sum <= BODY_W) {
		for (size_t c = 0; c < k->ncols; c++) {
			w[c] = nat[c];
		}
		w[k->ncols - 1] += BODY_W - sum;
		return;
	}
	for (size_t c = 0; c < k->ncols; c++) {
		w[c] = nat[c] < fair ? nat[c] : fair;
		extra += fair - w[c];
		over += nat[c] > fair ? nat[c] - fair : 0;
	}
	for (size_t c = 0; c < k->ncols; c++) {
		if (nat[c] > fair && over > 0) {
			w[c] += extra * (nat[c] - fair) / over;
		}
	}
}

static double row_draw(lay *l, const block *k, size_t r, const double *w, bool draw)
{
	PangoLayout *pl[MAX_COLS];
	double h = 12;
	for (size_t c = 0; c < k->ncols; c++) {
		pl[c] = make(l, r == 0 ? F_SMALL_BOLD : F_SMALL, w[c] - 2 * CELL_PAD, NULL,
			     k->cells[r * k->ncols + c]);
		double ch = height(pl[c]) + 2 * CELL_PAD;
		h = ch > h ? ch : h;
	}
	if (draw) {
		double x = MARGIN;
		for (size_t c = 0; c < k->ncols; c++) {
			cairo_rectangle(l->cr, x, l->y, w[c], h);
			if (r == 0) {
				cairo_set_source_rgb(l->cr, 0.93, 0.95, 0.96);
				cairo_fill_preserve(l->cr);
			}
			cairo_set_source_rgb(l->cr, 0.75, 0.78, 0.82);
			cairo_set_line_width(l->cr, 0.5);
			cairo_stroke(l->cr);
			cairo_set_source_rgb(l->cr, 0.1, 0.12, 0.14);
			show(l, pl[c], x + CELL_PAD, l->y + CELL_PAD);
			x += w[c];
		}
		l->y += h;
	}
	for (size_t c = 0; c < k->ncols; c++) {
		g_object_unref(pl[c]);
	}
	return h;
}

/*
 * A row taller than a page cannot be a row: its cells follow as labelled
 * paragraphs ("Header: text"), which flow over the pages, so nothing is cut.
 */
static void tall_row(lay *l, const block *k, size_t r)
{
	l->y += 4;
	for (size_t c = 0; c < k->ncols; c++) {
		char label[160];
		snprintf(label, sizeof(label), "%s:", k->cells[c]);
		PangoLayout *pl = make(l, F_SMALL, BODY_W, label, k->cells[r * k->ncols + c]);
		flow(l, pl, MARGIN, false);
		g_object_unref(pl);
		l->y += 2;
	}
	l->y += 4;
}

static void table(lay *l, const block *k)
{
	double w[MAX_COLS];
	columns(l, k, w);
	l->y += 3;
	double hh = row_draw(l, k, 0, w, false);
	need(l, hh + (k->nrows > 1 ? row_draw(l, k, 1, w, false) : 0));
	row_draw(l, k, 0, w, true);
	for (size_t r = 1; r < k->nrows; r++) {
		double h = row_draw(l, k, r, w, false);
		if (h > BODY_BOTTOM - l->body_top - hh) {
			tall_row(l, k, r);
			if (r + 1 < k->nrows) {
				need(l, hh + 24);
				row_draw(l, k, 0, w, true);
			}
			continue;
		}
		if (l->y + h > BODY_BOTTOM && l->y > l->body_top + hh) {
			new_page(l);
			row_draw(l, k, 0, w, true);
		}
		row_draw(l, k, r, w, true);
	}
	l->y += 8;
}

static void heading(lay *l, const block *k)
{
	font f = k->level == 1 ? F_H1 : k->level == 2 ? F_H2 : F_H3;
	PangoLayout *pl = make(l, f, BODY_W, NULL, k->text);
	double h = height(pl);
	l->y += k->level == 3 ? 6 : 10;
	need(l, h + 48); /* a heading stays with the start of what it heads */
	if (k->level == 2) {
		cairo_set_source_rgb(l->cr, 0.04, 0.31, 0.54);
	}
	show(l, pl, MARGIN, l->y);
	l->y += h + 2;
	if (k->level == 2) {
		cairo_set_line_width(l->cr, 0.6);
		cairo_move_to(l->cr, MARGIN, l->y);
		cairo_line_to(l->cr, PAGE_W - MARGIN, l->y);
		cairo_stroke(l->cr);
		cairo_set_source_rgb(l->cr, 0.1, 0.12, 0.14);
		l->y += 4;
	}
	l->y += 2;
	g_object_unref(pl);
}

static void block_draw(lay *l, const block *k)
{
	PangoLayout *pl = NULL;
	switch (k->kind) {
	case B_HEADING:
		heading(l, k);
		return;
	case B_TABLE:
		table(l, k);
		return;
	case B_PARA: {
		double x = MARGIN + INDENT * k->level;
		pl = make(l, F_BODY, BODY_W - (x - MARGIN), k->label, k->text);
		flow(l, pl, x, false);
		l->y += k->level > 0 ? 2 : 5;
		break;
	}
	case B_BULLET: {
		pl = make(l, F_BODY, BODY_W - INDENT, NULL, k->text);
		PangoLayout *dot = make(l, F_BODY, INDENT, NULL, "\xe2\x80\xa2");
		need(l, height(dot));
		show(l, dot, MARGIN + 3, l->y);
		g_object_unref(dot);
		flow(l, pl, MARGIN + INDENT, false);
		l->y += 2;
		break;
	}
	case B_WARN:
		pl = make(l, F_BODY, BODY_W - 13, k->label, k->text);
		l->y += 2;
		flow(l, pl, MARGIN, true);
		l->y += 5;
		break;
	}
	g_object_unref(pl);
}

typedef struct sink {
	lsec_buf *b; /* NULL: count only */
	int rc;
	lsec_err *err;
} sink;

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
	sink *s = closure;
	if (s->b == NULL) {
		return CAIRO_STATUS_SUCCESS;
	}
	if (s->rc == 0) {
		s->rc = lsec_buf_append(s->b, data, len, s->err);
	}
	return s->rc == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* One pass: lays out d on a PDF surface writing to s; *pages the page count. */
static int pass(unsigned *pages, const lsec_report_doc *d, sink *s, unsigned total, lsec_err *err)
{
	int rc = 0;
	lay l;
	memset(&l, 0, sizeof(l));
	l.d = d;
	l.total = total;
	l.surf = cairo_pdf_surface_create_for_stream(write_cb, s, PAGE_W, PAGE_H);
	l.cr = cairo_create(l.surf);
	LSEC_ENSURE(cairo_surface_status(l.surf) == CAIRO_STATUS_SUCCESS &&
			    cairo_status(l.cr) == CAIRO_STATUS_SUCCESS,
		    LSEC_E_IO, "cannot write PDF: cairo: %s",
		    cairo_status_to_string(cairo_surface_status(l.surf)));
	cairo_pdf_surface_set_metadata(l.surf, CAIRO_PDF_METADATA_CREATOR, "linesec");
	if (d->title != NULL) {
		cairo_pdf_surface_set_metadata(l.surf, CAIRO_PDF_METADATA_TITLE, d->title);
	}
	if (d->created != NULL) {
		cairo_pdf_surface_set_metadata(l.surf, CAIRO_PDF_METADATA_CREATE_DATE, d->created);
	}
	new_page(&l);
	for (size_t i = 0; i < d->n; i++) {
		block_draw(&l, &d->b[i]);
	}
	cairo_destroy(l.cr);
	l.cr = NULL;
	cairo_surface_finish(l.surf);
	LSEC_ENSURE(!l.nomem, LSEC_E_NOMEM, "cannot write PDF: out of memory");
	LSEC_TRY(s->rc);
	LSEC_ENSURE(cairo_surface_status(l.surf) == CAIRO_STATUS_SUCCESS, LSEC_E_IO,
		    "cannot write PDF: cairo: %s",
		    cairo_status_to_string(cairo_surface_status(l.surf)));
	*pages = l.page;
out:
	if (l.cr != NULL) {
		cairo_destroy(l.cr);
	}
	cairo_surface_destroy(l.surf);
	return rc;
}

int lsec_report_doc_pdf(lsec_buf *out, unsigned *pages_out, const lsec_report_doc *d,
			lsec_err *err)
{
	int rc = 0;
	unsigned pages = 0, again = 0;
	size_t start = out != NULL ? out->len : 0;
	LSEC_ENSURE_REF(out);
	LSEC_ENSURE_REF(d);
	sink count = {NULL, 0, err};
	LSEC_TRY(pass(&pages, d, &count, 0, err));
	sink write = {out, 0, err};
	LSEC_TRY(pass(&again, d, &write, pages, err));
	LSEC_ENSURE(again == pages, LSEC_E_INTERNAL,
		    "cannot write PDF: the layout gave %u pages, then %u", pages, again);
	if (pages_out != NULL) {
		*pages_out = pages;
	}
out:
	if (rc != 0 && out != NULL) {
		out->len = start; /* no half-written document */
	}
	return rc;
}
