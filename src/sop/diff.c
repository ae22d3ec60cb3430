/*
 * diff.c - a unified line diff of two SOP versions (longest common
 * subsequence; SOP files are small and bounded, so the quadratic table is
 * capped by DIFF_MAX_LINES).
 */
#include "sop/sop_int.h"

#include <string.h>

#define DIFF_MAX_LINES 2000u
#define DIFF_CONTEXT 3u

typedef struct lines {
	const char **at;
	size_t *len;
	size_t n;
} lines;

static int split(lines *l, const uint8_t *data, size_t len, const char *label, lsec_err *err)
{
	int rc = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		n += data[i] == '\n';
	}
	n += len > 0 && data[len - 1] != '\n';
	LSEC_ENSURE(n <= DIFF_MAX_LINES, LSEC_E_LIMIT, "cannot diff '%s': %zu lines, at most %u",
		    label, n, DIFF_MAX_LINES);
	l->at = lsec_calloc(n + 1, sizeof(*l->at));
	l->len = lsec_calloc(n + 1, sizeof(*l->len));
	LSEC_ENSURE(l->at != NULL && l->len != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0, start = 0; i < len; i++) {
		if (data[i] == '\n' || i + 1 == len) {
			l->at[l->n] = (const char *)data + start;
			l->len[l->n++] = i + 1 - start - (data[i] == '\n');
			start = i + 1;
		}
	}
out:
	return rc;
}

static bool same(const lines *a, size_t i, const lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

enum { OP_SAME = 0, OP_DEL = 1, OP_ADD = 2 };

int lsec_sop_diff_text(lsec_buf *out, const char *la, const uint8_t *a, size_t alen,
		       const char *lb, const uint8_t *b, size_t blen, lsec_err *err)
{
	int rc = 0;
	lines A = {0}, B = {0};
	uint16_t *t = NULL;
	uint8_t *ops = NULL;
	size_t *oi = NULL, *oj = NULL;
	LSEC_TRY(split(&A, a, alen, la, err));
	LSEC_TRY(split(&B, b, blen, lb, err));
	size_t w = B.n + 1;
	t = lsec_calloc((A.n + 1) * w, sizeof(*t));
	size_t maxops = A.n + B.n;
	ops = lsec_malloc(maxops + 1);
	oi = lsec_calloc(maxops + 1, sizeof(*oi));
	oj = lsec_calloc(maxops + 1, sizeof(*oj));
	LSEC_ENSURE(t != NULL && ops != NULL && oi != NULL && oj != NULL, LSEC_E_NOMEM,
		    "out of memory");
	/* t[i][j] = LCS length of A[i..] and B[j..] */
	for (size_t i = A.n; i-- > 0;) {
		for (size_t j = B.n; j-- > 0;) {
			uint16_t down = t[(i + 1) * w + j], right = t[i * w + j + 1];
			t[i * w + j] = same(&A, i, &B, j) ? (uint16_t)(t[(i + 1) * w + j + 1] + 1)
							 : (down > right ? down : right);
		}
	}
	size_t n = 0, i = 0, j = 0;
	while (i < A.n || j < B.n) {
		if (i < A.n && j < B.n && same(&A, i, &B, j)) {
			ops[n] = OP_SAME, oi[n] = i++, oj[n++] = j++;
		} else if (j < B.n && (i >= A.n || t[i * w + j + 1] > t[(i + 1) * w + j])) {
			ops[n] = OP_ADD, oi[n] = i, oj[n++] = j++;
		} else {
			ops[n] = OP_DEL, oi[n] = i++, oj[n++] = j;
		}
	}
	bool any = false;
	for (size_t k = 0; k < n && !any; k++) {
		any = ops[k] != OP_SAME;
	}
	if (!any) {
		goto out;
	}
	LSEC_TRY(lsec_buf_printf(out, err, "--- %s\n+++ %s\n", la, lb));
	for (size_t k = 0; k < n;) {
		if (ops[k] == OP_SAME) {
			k++;
			continue;
		}
		/* a hunk: from DIFF_CONTEXT before this change to DIFF_CONTEXT after the last
		 * change that is within 2*DIFF_CONTEXT of the previous one */
		size_t start = k > DIFF_CONTEXT ? k - DIFF_CONTEXT : 0;
		size_t end = k, gap = 0;
		for (size_t m = k; m < n; m++) {
			if (ops[m] != OP_SAME) {
				end = m;
				gap = 0;
			} else if (++gap > 2 * DIFF_CONTEXT) {
				break;
			}
		}
		size_t stop = end + 1 + DIFF_CONTEXT < n ? end + 1 + DIFF_CONTEXT : n;
		size_t na = 0, nb = 0;
		for (size_t m = start; m < stop; m++) {
			na += ops[m] != OP_ADD;
			nb += ops[m] != OP_DEL;
		}
		LSEC_TRY(lsec_buf_printf(out, err, "@@ -%zu,%zu +%zu,%zu @@\n", oi[start] + (na ? 1 : 0),
					 na, oj[start] + (nb ? 1 : 0), nb));
		for (size_t m = start; m < stop; m++) {
			const lines *src = ops[m] == OP_ADD ? &B : &A;
			size_t idx = ops[m] == OP_ADD ? oj[m] : oi[m];
			LSEC_TRY(lsec_buf_append_u8(out, (uint8_t)" -+"[ops[m]], err));
			LSEC_TRY(lsec_buf_append(out, src->at[idx], src->len[idx], err));
			LSEC_TRY(lsec_buf_append_u8(out, '\n', err));
		}
		k = stop;
	}
out:
	lsec_free(A.at);
	lsec_free(A.len);
	lsec_free(B.at);
	lsec_free(B.len);
	lsec_free(t);
	lsec_free(ops);
	lsec_free(oi);
	lsec_free(oj);
	return rc;
}
