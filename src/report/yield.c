/*
 * yield.c - first-pass yield by SOP and by step: of the units whose first
 * run of a SOP started in a window, how many passed it the first time,
 * and, step by step, how many passed each step at its first attempt.
 *
 * A unit is counted once per SOP, by its first run of that SOP ever: a
 * rerun (after a failure, a rework or a resumed crash) is never a first
 * pass, and a unit first run before the window is not in it.
 */
#include "report/report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
	lsec_report_yield y;
	size_t sop_order;  /* the SOP's first appearance */
	size_t step_order; /* 0 for the SOP's row, then the step's first appearance */
} row;

typedef struct rows {
	row *r;
	size_t n, cap, sops, steps;
} rows;

static bool eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* The row of (sop, step), added at the end when new. */
static row *row_get(rows *t, const char *sop, const char *step, lsec_err *err)
{
	size_t sop_order = t->sops;
	for (size_t i = 0; i < t->n; i++) {
		if (eq(t->r[i].y.sop, sop)) {
			sop_order = t->r[i].sop_order;
			if (eq(t->r[i].y.step, step)) {
				return &t->r[i];
			}
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		row *r = lsec_realloc(t->r, cap * sizeof(*r));
		if (r == NULL) {
			lsec_err_set(err, LSEC_E_NOMEM, __FILE__, __LINE__,
				     "cannot compute first-pass yield: out of memory");
			return NULL;
		}
		t->r = r;
		t->cap = cap;
	}
	row *r = &t->r[t->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->y.sop, sizeof(r->y.sop), "%s", sop);
	snprintf(r->y.step, sizeof(r->y.step), "%s", step);
	r->sop_order = sop_order;
	t->sops += sop_order == t->sops;
	r->step_order = step[0] == '\0' ? 0 : ++t->steps;
	return r;
}

static int by_unit_sop_id(const void *a, const void *b)
{
	const lsec_store_run *x = *(const lsec_store_run *const *)a;
	const lsec_store_run *y = *(const lsec_store_run *const *)b;
	int c = strcmp(x->serial, y->serial);
	c = c ? c : strcmp(x->sop, y->sop);
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static int by_order(const void *a, const void *b)
{
	const row *x = a, *y = b;
	if (x->sop_order != y->sop_order) {
		return x->sop_order < y->sop_order ? -1 : 1;
	}
	return (x->step_order > y->step_order) - (x->step_order < y->step_order);
}

/* The first of steps[0..n) whose run is run_id (steps are in run order). */
static size_t steps_of(const lsec_store_step *steps, size_t n, int64_t run_id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (steps[mid].run_id < run_id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* Counts one first run: the SOP's row and each step's. */
static int count_run(rows *t, const lsec_store_run *run, const lsec_store_step *steps,
		     size_t nsteps, lsec_err *err)
{
	size_t first = steps_of(steps, nsteps, run->id), end = first;
	while (end < nsteps && steps[end].run_id == run->id) {
		end++;
	}
	bool clean = eq(run->outcome, "passed");
	for (size_t i = first; i < end; i++) {
		bool seen = false, again = false;
		for (size_t j = first; j < i && !seen; j++) {
			seen = eq(steps[j].step, steps[i].step);
		}
		if (seen) {
			continue; /* counted with its first attempt */
		}
		for (size_t j = i + 1; j < end && !again; j++) {
			again = eq(steps[j].step, steps[i].step);
		}
		bool pass = eq(steps[i].outcome, "passed") && !again;
		clean = clean && pass;
		if (row_get(t, run->sop, "", err) == NULL) {
			return -1; /* the SOP's row first, so it sorts before its steps */
		}
		row *r = row_get(t, run->sop, steps[i].step, err);
		if (r == NULL) {
			return -1;
		}
		r->y.units++;
		r->y.first_pass += pass;
	}
	row *r = row_get(t, run->sop, "", err);
	if (r == NULL) {
		return -1;
	}
	r->y.units++;
	r->y.first_pass += clean;
	return 0;
}

int lsec_report_yield_list(lsec_report_yield **out, size_t *n_out, struct lsec_store *st,
			   const char *since, const char *until, lsec_err *err)
{
	int rc = 0;
	lsec_store_run *runs = NULL;
	lsec_store_step *steps = NULL;
	const lsec_store_run **order = NULL;
	size_t nruns = 0, nsteps = 0;
	rows t = {NULL, 0, 0, 0, 0};
	LSEC_ENSURE(out != NULL && n_out != NULL, LSEC_E_USAGE,
		    "cannot compute first-pass yield: no output");
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store_run_list_all(&runs, &nruns, st, err));
	LSEC_TRY(lsec_store_step_list_all(&steps, &nsteps, st, err));
	if (nruns > 0) {
		order = lsec_calloc(nruns, sizeof(*order));
		LSEC_ENSURE(order != NULL, LSEC_E_NOMEM,
			    "cannot compute first-pass yield: out of memory");
	}
	for (size_t i = 0; i < nruns; i++) {
		order[i] = &runs[i];
	}
	if (nruns > 0) {
		qsort(order, nruns, sizeof(*order), by_unit_sop_id);
	}
	/* In id order, so that SOPs and steps appear in the order they first ran. */
	for (size_t i = 0; i < nruns; i++) {
		const lsec_store_run *run = &runs[i];
		const lsec_store_run key = *run, *kp = &key;
		const lsec_store_run **at = bsearch(&kp, order, nruns, sizeof(*order), by_unit_sop_id);
		bool first = at != NULL && (at == order || !eq((*(at - 1))->serial, run->serial) ||
					    !eq((*(at - 1))->sop, run->sop));
		bool in = (since == NULL || strcmp(run->started, since) >= 0) &&
			  (until == NULL || strcmp(run->started, until) < 0);
		if (first && in && run->serial[0] != '\0') {
			LSEC_TRY(count_run(&t, run, steps, nsteps, err));
		}
	}
	if (t.n > 0) {
		qsort(t.r, t.n, sizeof(*t.r), by_order);
		*out = lsec_calloc(t.n, sizeof(**out));
		LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM,
			    "cannot compute first-pass yield: out of memory");
	}
	for (size_t i = 0; i < t.n; i++) {
		(*out)[i] = t.r[i].y;
	}
	*n_out = t.n;
out:
	lsec_free(t.r);
	lsec_free(order);
	lsec_free(steps);
	lsec_free(runs);
	return rc;
}
