/*
 * diag.c - the problems found while loading a SOP: each with its code,
 * FILE:LINE:COLUMN and message, kept in file order.
 */
#include "sop/sop_int.h"

#include <string.h>

/* Longest message of one problem, before its FILE:LINE:COLUMN prefix. */
#define DIAG_MSG_MAX 512

void lsec_sop__diag(lsec_sop_diags *d, int code, sop_loc loc, const char *rule, const char *fmt,
		    ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->n >= SOP_MAX_DIAGS) {
		d->truncated = true;
		return;
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		lsec_sop_diag *ni = lsec_realloc(d->items, ncap * sizeof(*ni));
		if (ni == NULL) {
			d->truncated = true;
			return;
		}
		d->items = ni;
		d->cap = ncap;
	}
	char *text = loc.line > 0 ? lsec_asprintf("%s:%d:%d: %s", d->name, loc.line, loc.column, msg)
				  : lsec_asprintf("%s: %s", d->name, msg);
	if (text == NULL) {
		d->truncated = true;
		return;
	}
	lsec_sop_diag *it = &d->items[d->n++];
	it->code = code;
	it->line = loc.line;
	it->column = loc.column;
	it->rule = rule;
	it->text = text;
}

size_t lsec_sop_diags_count(const lsec_sop_diags *d)
{
	return d == NULL ? 0 : d->n;
}

const lsec_sop_diag *lsec_sop_diags_at(const lsec_sop_diags *d, size_t i)
{
	return d != NULL && i < d->n ? &d->items[i] : NULL;
}

void lsec_sop_diags_free(lsec_sop_diags *d)
{
	if (d == NULL) {
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		lsec_free((void *)(uintptr_t)d->items[i].text);
	}
	lsec_free(d->items);
	lsec_free(d);
}

void lsec_sop__diags_sort(lsec_sop_diags *d)
{
	for (size_t i = 1; i < d->n; i++) {
		for (size_t j = i; j > 0; j--) {
			const lsec_sop_diag *p = &d->items[j - 1], *q = &d->items[j];
			if (p->line < q->line || (p->line == q->line && p->column <= q->column)) {
				break;
			}
			lsec_sop_diag tmp = d->items[j - 1];
			d->items[j - 1] = d->items[j];
			d->items[j] = tmp;
		}
	}
}
