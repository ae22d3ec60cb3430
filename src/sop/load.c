/*
 * load.c - loads a SOP file: checks the bytes are one YAML document of
 * UTF-8 text, has libfyaml parse it (keeping its first syntax error with
 * line and column), walks the tree against the schema (walk.c), then runs
 * the policy check (policy.c). Every problem found is a diagnostic; the
 * first one gives the error.
 */
#include "sop/sop_int.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

/* Longest libfyaml diagnostic line read, and the part of its message kept. */
#define SYNTAX_LINE_MAX 512
#define SYNTAX_MSG_MAX 160

/* ---- YAML syntax errors -------------------------------------------------- */

typedef struct syntax {
	bool seen;
	int line, column;
	char msg[SYNTAX_MSG_MAX];
} syntax;

/* libfyaml prints "<input>:LINE:COL: error: MESSAGE"; keep the first one. */
static void diag_output(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	syntax *sx = user;
	char tmp[SYNTAX_LINE_MAX];
	if (sx->seen || len == 0) {
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1), buf);
	char *e = strstr(tmp, ": error: ");
	if (e == NULL) {
		return;
	}
	char *p = e;
	int nums[2] = {0, 0};
	for (int k = 1; k >= 0; k--) {
		char *end = p;
		while (p > tmp && p[-1] >= '0' && p[-1] <= '9') {
			p--;
		}
		if (p == end || p == tmp || p[-1] != ':') {
			return;
		}
		nums[k] = (int)strtol(p, NULL, 10);
		p--;
	}
	sx->seen = true;
	sx->line = nums[0];
	sx->column = nums[1];
	char *m = e + strlen(": error: ");
	m[strcspn(m, "\n")] = 0;
	snprintf(sx->msg, sizeof(sx->msg), "%s", m);
}

/* ---- entry points ---------------------------------------------------------- */

int lsec_sop_parse(lsec_sop **out, lsec_sop_diags **diags_out, const uint8_t *data, size_t len,
		   const char *name, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	struct fy_diag *diag = NULL;
	struct fy_parser *fyp = NULL;
	struct fy_document *doc = NULL;
	syntax sx = {false, 0, 0, {0}};
	*out = NULL;
	if (diags_out != NULL) {
		*diags_out = NULL;
	}
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE(data != NULL || len == 0, LSEC_E_USAGE, "missing argument 'data'");
	LSEC_ENSURE(len <= LSEC_SOP_MAX_FILE, LSEC_E_LIMIT,
		    "cannot load SOP '%s': %zu bytes, at most %u", name, len, LSEC_SOP_MAX_FILE);
	sop = lsec_calloc(1, sizeof(*sop));
	d = lsec_calloc(1, sizeof(*d));
	LSEC_ENSURE(sop != NULL && d != NULL, LSEC_E_NOMEM, "out of memory");
	d->name = name;
	LSEC_TRY(lsec_sha256(sop->sha256, data, len, err));

	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_output;
	dc.user = &sx;
	dc.colorize = false;
	diag = fy_diag_create(&dc);
	LSEC_ENSURE(diag != NULL, LSEC_E_NOMEM, "out of memory");
	struct fy_parse_cfg pc;
	memset(&pc, 0, sizeof(pc));
	pc.flags = FYPCF_QUIET;
	pc.diag = diag;
	sop_loc start = {1, 1};
	lsec_text_fault fault;
	if (len == 0) {
		lsec_sop__diag(d, LSEC_E_SOP_MISSING, start, NULL,
			       "empty file: expected a SOP (sop, title, version, purpose, ...)");
	} else if (!lsec_yaml_text_check(&fault, data, len)) {
		sop_loc at = {(int)fault.line, (int)fault.column}; /* at most LSEC_SOP_MAX_FILE */
		lsec_sop__diag(d, LSEC_E_SOP_SYNTAX, at, NULL, "%s", fault.why);
	} else {
		fyp = fy_parser_create(&pc);
		LSEC_ENSURE(fyp != NULL && fy_parser_set_string(fyp, (const char *)data, len) == 0,
			    LSEC_E_NOMEM, "out of memory");
		doc = fy_parse_load_document(fyp);
		if (doc != NULL && !sx.seen) {
			/* one document per file: a second one would be invisible to a reader */
			struct fy_document *extra = fy_parse_load_document(fyp);
			if (extra != NULL) {
				lsec_sop__diag(d, LSEC_E_SOP_SYNTAX,
					       lsec_sop__node_loc(fy_document_root(extra), start), NULL,
					       "more than one YAML document: a SOP file holds exactly one");
				fy_parse_document_destroy(fyp, extra);
			}
		}
		if (sx.seen) {
			sop_loc at = {sx.line, sx.column};
			lsec_sop__diag(d, LSEC_E_SOP_SYNTAX, at, NULL, "not valid YAML: %s", sx.msg);
		} else if (doc == NULL || fy_document_root(doc) == NULL) {
			lsec_sop__diag(d, LSEC_E_SOP_MISSING, start, NULL,
				       "empty document: expected a SOP (sop, title, version, purpose, ...)");
		} else {
			LSEC_ENSURE(lsec_sop__walk(sop, d, fy_document_root(doc)), LSEC_E_NOMEM,
				    "out of memory");
			if (d->n == 0) {
				lsec_sop__policy_check(sop, d);
			}
		}
	}
	LSEC_ENSURE(!d->truncated || d->n > 0, LSEC_E_NOMEM, "out of memory");
	lsec_sop__diags_sort(d);
	if (d->n > 0) {
		const lsec_sop_diag *first = &d->items[0];
		rc = lsec_err_set(err, first->code, __FILE__, __LINE__,
				  "cannot load SOP '%s': %zu problem%s%s; first: %s", name, d->n,
				  d->n == 1 ? "" : "s", d->truncated ? " or more" : "", first->text);
		goto out;
	}
	*out = sop;
	sop = NULL;
out:
	if (doc != NULL) {
		fy_parse_document_destroy(fyp, doc);
	}
	if (fyp != NULL) {
		fy_parser_destroy(fyp);
	}
	if (diag != NULL) {
		fy_diag_destroy(diag);
	}
	lsec_sop_free(sop);
	if (diags_out != NULL && d != NULL && (rc == 0 || d->n > 0)) {
		d->name = NULL;
		*diags_out = d;
	} else {
		lsec_sop_diags_free(d);
	}
	return rc;
}

int lsec_sop_load(lsec_sop **out, lsec_sop_diags **diags_out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	*out = NULL;
	if (diags_out != NULL) {
		*diags_out = NULL;
	}
	LSEC_ENSURE_REF(path);
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_sop_parse(out, diags_out, b.data, b.len, path, err));
out:
	lsec_buf_release(&b);
	return rc;
}
