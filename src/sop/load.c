/*
 * load.c - reads a SOP file with libfyaml and checks it against the schema
 * (docs/sop-format.md) and the action table, collecting every problem with
 * its line and column, then runs the policy check (policy.c).
 *
 * Nothing in the file is trusted: every node's type is checked before use,
 * aliases are refused (a SOP must read the same to a person as to the
 * station), and counts are bounded (SOP_MAX_*).
 */
#include "sop/sop_int.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ------------------------------------------------------ */

void lsec_sop__diag(lsec_sop_diags *d, int code, sop_loc loc, const char *rule, const char *fmt,
		    ...)
{
	char msg[512];
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

const char *lsec_sop_code_name(int code)
{
	switch (code) {
	case LSEC_E_SOP_SYNTAX:
		return "syntax";
	case LSEC_E_SOP_UNKNOWN_KEY:
		return "unknown-key";
	case LSEC_E_SOP_MISSING:
		return "missing-field";
	case LSEC_E_SOP_BAD_VALUE:
		return "bad-value";
	case LSEC_E_SOP_UNKNOWN_ACTION:
		return "unknown-action";
	case LSEC_E_SOP_BAD_PARAM:
		return "bad-parameter";
	case LSEC_E_SOP_DUP_STEP:
		return "duplicate-step";
	case LSEC_E_SOP_UNKNOWN_ROLE:
		return "unknown-role";
	case LSEC_E_SOP_BAD_ON_FAILURE:
		return "bad-on-failure";
	case LSEC_E_SOP_PLACEHOLDER:
		return "unknown-placeholder";
	case LSEC_E_SOP_POLICY:
		return "policy";
	case LSEC_E_SOP_SELF_APPROVAL:
		return "self-approval";
	case LSEC_E_SOP_DIGEST:
		return "digest-mismatch";
	case LSEC_E_SOP_NOT_APPROVED:
		return "not-approved";
	default:
		return NULL;
	}
}

/* ---- the SOP object --------------------------------------------------- */

void lsec_sop_free(lsec_sop *sop)
{
	if (sop == NULL) {
		return;
	}
	for (size_t i = 0; i < sop->nowned; i++) {
		lsec_free(sop->owned[i]);
	}
	lsec_free(sop->owned);
	lsec_free(sop->roles);
	lsec_free(sop->prereqs);
	lsec_free(sop->records);
	lsec_free(sop->steps);
	lsec_free(sop);
}

lsec_sop_kind lsec_sop_get_kind(const lsec_sop *sop)
{
	return sop->kind;
}

const char *lsec_sop_name(const lsec_sop *sop)
{
	return lsec_sop_kind_name(sop->kind);
}

const char *lsec_sop_title(const lsec_sop *sop)
{
	return sop->title;
}

int lsec_sop_version(const lsec_sop *sop)
{
	return sop->version;
}

const uint8_t *lsec_sop_sha256(const lsec_sop *sop)
{
	return sop->sha256;
}

size_t lsec_sop_step_count(const lsec_sop *sop)
{
	return sop->nsteps;
}

const lsec_sop_step *lsec_sop_step_at(const lsec_sop *sop, size_t i)
{
	return i < sop->nsteps ? &sop->steps[i].pub : NULL;
}

const char *lsec_sop_step_param(const lsec_sop_step *st, const char *name)
{
	for (size_t i = 0; i < st->nparams; i++) {
		if (strcmp(st->param_names[i], name) == 0) {
			return st->param_values[i];
		}
	}
	return NULL;
}

const char *lsec_sop_then_name(lsec_sop_then t)
{
	switch (t) {
	case LSEC_SOP_THEN_QUARANTINE:
		return "quarantine";
	case LSEC_SOP_THEN_STOP_LINE:
		return "stop-line";
	case LSEC_SOP_THEN_DECOMMISSION:
		return "decommission";
	case LSEC_SOP_THEN_CONTINUE:
		return "continue";
	default:
		return NULL;
	}
}

const char *lsec_sop_when_name(lsec_sop_when w)
{
	switch (w) {
	case LSEC_SOP_WHEN_ALWAYS:
		return "always";
	case LSEC_SOP_WHEN_REACHABLE:
		return "reachable";
	case LSEC_SOP_WHEN_UNREACHABLE:
		return "unreachable";
	default:
		return NULL;
	}
}

/* ---- walking the document ---------------------------------------------- */

typedef struct ctx {
	lsec_sop *sop;
	lsec_sop_diags *d;
	bool oom;
} ctx;

static char *own(ctx *c, char *s)
{
	lsec_sop *sop = c->sop;
	if (s == NULL) {
		c->oom = true;
		return NULL;
	}
	if (sop->nowned == sop->capowned) {
		size_t ncap = sop->capowned ? sop->capowned * 2 : 32;
		char **no = lsec_realloc(sop->owned, ncap * sizeof(*no));
		if (no == NULL) {
			lsec_free(s);
			c->oom = true;
			return NULL;
		}
		sop->owned = no;
		sop->capowned = ncap;
	}
	sop->owned[sop->nowned++] = s;
	return s;
}

static sop_loc token_loc(struct fy_token *t)
{
	sop_loc l = {0, 0};
	const struct fy_mark *m = t != NULL ? fy_token_start_mark(t) : NULL;
	if (m != NULL) {
		l.line = m->line + 1;
		l.column = m->column + 1;
	}
	return l;
}

/* Where a node starts: its token for a scalar, its first entry otherwise. */
static sop_loc node_loc(struct fy_node *n, sop_loc fallback)
{
	void *it = NULL;
	if (n == NULL) {
		return fallback;
	}
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR: {
		sop_loc l = token_loc(fy_node_get_scalar_token(n));
		return l.line > 0 ? l : fallback;
	}
	case FYNT_MAPPING: {
		struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
		return p != NULL ? node_loc(fy_node_pair_key(p), fallback) : fallback;
	}
	case FYNT_SEQUENCE: {
		struct fy_node *i = fy_node_sequence_iterate(n, &it);
		return i != NULL ? node_loc(i, fallback) : fallback;
	}
	default:
		return fallback;
	}
}

static bool is_alias(struct fy_node *n)
{
	return fy_node_get_type(n) == FYNT_SCALAR && fy_node_get_style(n) == FYNS_ALIAS;
}

/* A copy of a scalar's text, or NULL with a diagnostic (what names the field). */
static char *scalar(ctx *c, struct fy_node *n, sop_loc at, const char *what)
{
	sop_loc l = node_loc(n, at);
	if (n == NULL || fy_node_get_type(n) != FYNT_SCALAR || is_alias(n)) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, l, NULL, "%s: expected %s", what,
			       n != NULL && is_alias(n) ? "plain text, not an alias" : "text");
		return NULL;
	}
	size_t len = 0;
	const char *s = fy_node_get_scalar(n, &len);
	if (s == NULL || len == 0) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, l, NULL, "%s: expected text, found nothing",
			       what);
		return NULL;
	}
	if (memchr(s, 0, len) != NULL) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, l, NULL, "%s: contains a NUL byte", what);
		return NULL;
	}
	char *copy = lsec_malloc(len + 1);
	if (copy != NULL) {
		memcpy(copy, s, len);
		copy[len] = 0;
	}
	return own(c, copy);
}

static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 18) {
		return false;
	}
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != 0 || v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

static int find_in(const char *const *list, const char *s)
{
	for (int i = 0; list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0) {
			return i;
		}
	}
	return -1;
}

/* "a, b or c" into buf. */
static const char *join_list(char *buf, size_t cap, const char *const *list)
{
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; list[i] != NULL && off < cap; i++) {
		const char *sep = i == 0 ? "" : list[i + 1] == NULL ? " or " : ", ";
		int n = snprintf(buf + off, cap - off, "%s%s", sep, list[i]);
		if (n < 0) {
			break;
		}
		off += (size_t)n;
	}
	return buf;
}

/* Checks the {placeholders} of a text against the fixed list. */
static void check_placeholders(ctx *c, const char *s, sop_loc at, const char *what)
{
	const char *const *names = lsec_sop_placeholders();
	for (const char *p = s; p != NULL && (p = strchr(p, '{')) != NULL;) {
		const char *close = strchr(p, '}');
		char list[256];
		if (close == NULL) {
			lsec_sop__diag(c->d, LSEC_E_SOP_PLACEHOLDER, at, NULL,
				       "%s: '{' without a closing '}': placeholders are written {name}",
				       what);
			return;
		}
		size_t n = (size_t)(close - p - 1);
		bool known = false;
		for (size_t i = 0; names[i] != NULL; i++) {
			if (strlen(names[i]) == n && strncmp(names[i], p + 1, n) == 0) {
				known = true;
			}
		}
		if (!known) {
			lsec_sop__diag(c->d, LSEC_E_SOP_PLACEHOLDER, at, NULL,
				       "%s: unknown placeholder '{%.*s}': expected one of %s", what,
				       (int)(n > 40 ? 40 : n), p + 1,
				       join_list(list, sizeof(list), names));
		}
		p = close + 1;
	}
}

/* A text field, with its placeholders checked. */
static char *text_field(ctx *c, struct fy_node *n, sop_loc at, const char *what)
{
	char *s = scalar(c, n, at, what);
	if (s != NULL) {
		check_placeholders(c, s, node_loc(n, at), what);
	}
	return s;
}

typedef struct field {
	const char *key;
	bool required;
} field;

#define MAX_FIELDS 16

/*
 * Reads a mapping against a table of keys: unknown keys, non-scalar keys
 * and missing required keys are each reported (with the given codes).
 * vals[i]/locs[i] receive the value and key location of fields[i].
 * Returns false when map is not a mapping.
 */
static bool walk_map(ctx *c, struct fy_node *map, sop_loc at, const char *what,
		     const field *fields, size_t nf, int unknown_code, int missing_code,
		     struct fy_node **vals, sop_loc *locs)
{
	for (size_t i = 0; i < nf; i++) {
		vals[i] = NULL;
		locs[i] = at;
	}
	if (map == NULL || fy_node_get_type(map) != FYNT_MAPPING) {
		lsec_sop__diag(c->d, unknown_code == LSEC_E_SOP_UNKNOWN_KEY ? LSEC_E_SOP_BAD_VALUE
									 : unknown_code,
			       node_loc(map, at), NULL, "%s: expected a mapping of fields", what);
		return false;
	}
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p);
		sop_loc kl = node_loc(k, at);
		size_t len = 0;
		const char *ks = k != NULL && fy_node_get_type(k) == FYNT_SCALAR && !is_alias(k)
					 ? fy_node_get_scalar(k, &len)
					 : NULL;
		size_t i = 0;
		for (; ks != NULL && i < nf; i++) {
			if (strlen(fields[i].key) == len && strncmp(fields[i].key, ks, len) == 0) {
				break;
			}
		}
		if (ks == NULL || i >= nf) {
			char expected[512];
			size_t off = 0;
			expected[0] = 0;
			for (size_t j = 0; j < nf && off < sizeof(expected); j++) {
				int w = snprintf(expected + off, sizeof(expected) - off, "%s%s",
						 j ? ", " : "", fields[j].key);
				off += w > 0 ? (size_t)w : 0;
			}
			lsec_sop__diag(c->d, unknown_code, kl, NULL,
				       "unknown key '%.*s' in %s: expected %s",
				       ks != NULL ? (int)(len > 40 ? 40 : len) : 1,
				       ks != NULL ? ks : "?", what, expected);
			continue;
		}
		vals[i] = fy_node_pair_value(p);
		locs[i] = kl;
		if (vals[i] == NULL) {
			/* "key:" with nothing after it: treat as missing below, at the key */
			lsec_sop__diag(c->d, missing_code, kl, NULL, "%s: '%s' has no value", what,
				       fields[i].key);
			vals[i] = NULL;
			locs[i].line = -locs[i].line; /* reported already */
		}
	}
	sop_loc ml = node_loc(map, at);
	for (size_t i = 0; i < nf; i++) {
		if (fields[i].required && vals[i] == NULL && locs[i].line >= 0) {
			lsec_sop__diag(c->d, missing_code, ml, NULL, "%s: missing '%s'", what,
				       fields[i].key);
		}
		if (locs[i].line < 0) {
			locs[i].line = -locs[i].line;
		}
	}
	return true;
}

/* A sequence of texts (prerequisites, records). */
static char **text_list(ctx *c, struct fy_node *n, sop_loc at, const char *what, size_t *count)
{
	*count = 0;
	if (n == NULL) {
		return NULL;
	}
	if (fy_node_get_type(n) != FYNT_SEQUENCE || fy_node_sequence_item_count(n) < 1) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(n, at), NULL,
			       "%s: expected a list of at least one sentence", what);
		return NULL;
	}
	int cnt = fy_node_sequence_item_count(n);
	if (cnt > SOP_MAX_LIST) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(n, at), NULL,
			       "%s: at most %d entries", what, SOP_MAX_LIST);
		return NULL;
	}
	char **list = lsec_calloc((size_t)cnt, sizeof(*list));
	if (list == NULL) {
		c->oom = true;
		return NULL;
	}
	void *it = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
		char *s = text_field(c, item, at, what);
		if (s != NULL) {
			list[(*count)++] = s;
		}
	}
	return list;
}

static const char *const states[] = {"any",     "new",    "flashed",     "provisioned",
				     "secured", "locked", "shipped",     "returned",
				     "quarantined", "decommissioned", "scrapped", NULL};

static void read_applies_to(ctx *c, struct fy_node *n, sop_loc at)
{
	static const field f[] = {{"product", true}, {"from-state", true}, {"to-state", true}};
	struct fy_node *v[3];
	sop_loc l[3];
	char list[256];
	c->sop->applies_loc = at;
	if (!walk_map(c, n, at, "applies-to", f, 3, LSEC_E_SOP_UNKNOWN_KEY, LSEC_E_SOP_MISSING, v,
		      l)) {
		return;
	}
	c->sop->product = v[0] ? scalar(c, v[0], l[0], "applies-to.product") : NULL;
	char **dst[2] = {&c->sop->from_state, &c->sop->to_state};
	for (int i = 0; i < 2; i++) {
		if (v[i + 1] == NULL) {
			continue;
		}
		char *s = scalar(c, v[i + 1], l[i + 1], f[i + 1].key);
		if (s != NULL && find_in(states, s) < 0) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(v[i + 1], l[i + 1]), NULL,
				       "applies-to.%s: unknown unit state '%s': expected %s",
				       f[i + 1].key, s, join_list(list, sizeof(list), states));
			s = NULL;
		}
		*dst[i] = s;
	}
}

static void read_roles(ctx *c, struct fy_node *n, sop_loc at)
{
	char list[256];
	if (n == NULL) {
		return;
	}
	if (fy_node_get_type(n) != FYNT_MAPPING || fy_node_mapping_item_count(n) < 1) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(n, at), NULL,
			       "roles: expected a mapping of role to its responsibility");
		return;
	}
	int cnt = fy_node_mapping_item_count(n);
	c->sop->roles = lsec_calloc((size_t)cnt, sizeof(*c->sop->roles));
	if (c->sop->roles == NULL) {
		c->oom = true;
		return;
	}
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p);
		char *name = scalar(c, k, at, "roles");
		if (name == NULL) {
			continue;
		}
		if (find_in(lsec_sop_roles(), name) < 0) {
			lsec_sop__diag(c->d, LSEC_E_SOP_UNKNOWN_ROLE, node_loc(k, at), NULL,
				       "roles: unknown role '%s': expected %s", name,
				       join_list(list, sizeof(list), lsec_sop_roles()));
			continue;
		}
		char what[64];
		snprintf(what, sizeof(what), "roles.%s", name);
		char *text = scalar(c, fy_node_pair_value(p), node_loc(k, at), what);
		if (text != NULL) {
			c->sop->roles[c->sop->nroles].name = name;
			c->sop->roles[c->sop->nroles++].text = text;
		}
	}
}

/* A role used by a step: a line role, and declared under `roles:`. */
static const char *step_role(ctx *c, struct fy_node *n, sop_loc at, const char *what,
			     bool roles_read)
{
	char list[256];
	char *r = scalar(c, n, at, what);
	if (r == NULL) {
		return NULL;
	}
	sop_loc l = node_loc(n, at);
	if (find_in(lsec_sop_roles(), r) < 0) {
		lsec_sop__diag(c->d, LSEC_E_SOP_UNKNOWN_ROLE, l, NULL, "%s: unknown role '%s': expected %s",
			       what, r, join_list(list, sizeof(list), lsec_sop_roles()));
		return NULL;
	}
	bool declared = false;
	for (size_t i = 0; i < c->sop->nroles; i++) {
		declared |= strcmp(c->sop->roles[i].name, r) == 0;
	}
	if (!declared && roles_read) {
		lsec_sop__diag(c->d, LSEC_E_SOP_UNKNOWN_ROLE, l, NULL,
			       "%s: role '%s' is not declared under 'roles'", what, r);
	}
	return r;
}

static void read_params(ctx *c, sop_step *st, struct fy_node *with, sop_loc at, const char *sid)
{
	const lsec_sop_action *a = st->pub.action;
	char what[128];
	char list[256];
	const char *given[8] = {0};
	sop_loc given_loc[8];
	size_t np = 0;
	while (a->params[np].name != NULL) {
		np++;
	}
	if (with != NULL) {
		if (fy_node_get_type(with) != FYNT_MAPPING) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, node_loc(with, at), NULL,
				       "step '%s': 'with' expected a mapping of parameters of '%s'",
				       sid, a->id);
			return;
		}
		void *it = NULL;
		struct fy_node_pair *p;
		while ((p = fy_node_mapping_iterate(with, &it)) != NULL) {
			struct fy_node *k = fy_node_pair_key(p);
			snprintf(what, sizeof(what), "step '%s' parameter", sid);
			char *name = scalar(c, k, at, what);
			if (name == NULL) {
				continue;
			}
			sop_loc kl = node_loc(k, at);
			size_t i = 0;
			while (i < np && strcmp(a->params[i].name, name) != 0) {
				i++;
			}
			if (i >= np) {
				const char *names[9] = {0};
				for (size_t j = 0; j < np; j++) {
					names[j] = a->params[j].name;
				}
				lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, kl, NULL,
					       "step '%s': action '%s' has no parameter '%s': expected %s",
					       sid, a->id, name,
					       np ? join_list(list, sizeof(list), names) : "no parameters");
				continue;
			}
			const lsec_sop_param *pd = &a->params[i];
			struct fy_node *v = fy_node_pair_value(p);
			snprintf(what, sizeof(what), "step '%s' parameter '%s'", sid, pd->name);
			char *val = v != NULL ? scalar(c, v, kl, what) : NULL;
			if (val == NULL) {
				if (v == NULL) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, kl, NULL,
						       "%s: has no value", what);
				}
				continue;
			}
			sop_loc vl = node_loc(v, kl);
			int64_t iv = 0;
			bool ok = true;
			switch (pd->type) {
			case LSEC_SOP_PARAM_INT:
				ok = parse_int(val, pd->min, pd->max, &iv);
				if (!ok) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, vl, NULL,
						       "%s: '%s' is not an integer from %lld to %lld",
						       what, val, (long long)pd->min, (long long)pd->max);
				}
				break;
			case LSEC_SOP_PARAM_BOOL:
				ok = strcmp(val, "true") == 0 || strcmp(val, "false") == 0;
				if (!ok) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, vl, NULL,
						       "%s: '%s' is not true or false", what, val);
				}
				break;
			case LSEC_SOP_PARAM_ENUM:
				ok = find_in(pd->allowed, val) >= 0;
				if (!ok) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, vl, NULL,
						       "%s: '%s' is not allowed: expected %s", what, val,
						       join_list(list, sizeof(list), pd->allowed));
				}
				break;
			case LSEC_SOP_PARAM_STRING:
			default:
				check_placeholders(c, val, vl, what);
				break;
			}
			if (ok && i < 8) {
				given[i] = val;
				given_loc[i] = vl;
			}
		}
	}
	(void)given_loc;
	for (size_t i = 0; i < np && i < 8; i++) {
		const lsec_sop_param *pd = &a->params[i];
		const char *v = given[i] != NULL ? given[i] : pd->deflt;
		if (v == NULL && pd->required) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, at, NULL,
				       "step '%s': action '%s' needs parameter '%s' under 'with'%s%s", sid,
				       a->id, pd->name, pd->allowed ? ": one of " : "",
				       pd->allowed ? join_list(list, sizeof(list), pd->allowed) : "");
			continue;
		}
		if (v != NULL) {
			st->names[st->pub.nparams] = pd->name;
			st->values[st->pub.nparams++] = v;
		}
	}
	st->pub.param_names = st->names;
	st->pub.param_values = st->values;
}

static void read_on_failure(ctx *c, sop_step *st, struct fy_node *n, sop_loc at, const char *sid)
{
	static const field f[] = {{"retry", false}, {"then", true}, {"message", true}};
	static const char *const thens[] = {"quarantine", "stop-line", "decommission", "continue",
					    NULL};
	struct fy_node *v[3];
	sop_loc l[3];
	char what[128], list[128];
	snprintf(what, sizeof(what), "on-failure of step '%s'", sid);
	st->then_loc = at;
	if (!walk_map(c, n, at, what, f, 3, LSEC_E_SOP_BAD_ON_FAILURE, LSEC_E_SOP_BAD_ON_FAILURE, v,
		      l)) {
		return;
	}
	if (v[0] != NULL) {
		char *s = scalar(c, v[0], l[0], what);
		int64_t r = 0;
		st->retry_loc = node_loc(v[0], l[0]);
		if (s != NULL && !parse_int(s, 0, 5, &r)) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_ON_FAILURE, st->retry_loc, NULL,
				       "%s: retry '%s' is not an integer from 0 to 5", what, s);
		}
		st->pub.retry = (unsigned)r;
	}
	if (v[1] != NULL) {
		char *s = scalar(c, v[1], l[1], what);
		st->then_loc = node_loc(v[1], l[1]);
		int t = s != NULL ? find_in(thens, s) : -1;
		if (s != NULL && t < 0) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_ON_FAILURE, st->then_loc, NULL,
				       "%s: then '%s' is not allowed: expected %s", what, s,
				       join_list(list, sizeof(list), thens));
		}
		st->pub.then = t < 0 ? LSEC_SOP_THEN_QUARANTINE : (lsec_sop_then)t;
	}
	if (v[2] != NULL) {
		st->pub.failure_message = text_field(c, v[2], l[2], what);
	}
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 40 || s[0] == '-') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
			return false;
		}
	}
	return true;
}

static void read_step(ctx *c, sop_step *st, struct fy_node *n, sop_loc at, size_t idx,
		      bool roles_read)
{
	enum { ID, TITLE, DO, WHO, WITNESS, WITH, TEXT, VERIFY, WHEN, ON_FAILURE, NF };
	static const field f[NF] = {{"id", true},     {"title", false},   {"do", true},
				    {"who", true},    {"witness", false}, {"with", false},
				    {"text", false},  {"verify", false},  {"when", false},
				    {"on-failure", true}};
	static const char *const whens[] = {"always", "reachable", "unreachable", NULL};
	struct fy_node *v[NF];
	sop_loc l[NF];
	char what[96], sid[48], list[128];
	snprintf(sid, sizeof(sid), "#%zu", idx + 1);
	snprintf(what, sizeof(what), "step %zu", idx + 1);
	st->loc = node_loc(n, at);
	if (!walk_map(c, n, st->loc, what, f, NF, LSEC_E_SOP_UNKNOWN_KEY, LSEC_E_SOP_MISSING, v, l)) {
		return;
	}
	if (v[ID] != NULL) {
		char *id = scalar(c, v[ID], l[ID], "step id");
		if (id != NULL && !valid_id(id)) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(v[ID], l[ID]), NULL,
				       "step id '%.40s': expected lowercase letters, digits and '-' (at most 40)",
				       id);
		} else if (id != NULL) {
			st->pub.id = id;
			snprintf(sid, sizeof(sid), "%s", id);
			for (size_t j = 0; j < idx; j++) {
				const sop_step *o = &c->sop->steps[j];
				if (o->pub.id != NULL && strcmp(o->pub.id, id) == 0) {
					lsec_sop__diag(c->d, LSEC_E_SOP_DUP_STEP, node_loc(v[ID], l[ID]),
						       NULL, "duplicate step id '%s': first used at line %d",
						       id, o->loc.line);
					break;
				}
			}
		}
	}
	snprintf(what, sizeof(what), "step '%s'", sid);
	char fw[NF][128];
	for (int k = 0; k < NF; k++) {
		snprintf(fw[k], sizeof(fw[k]), "step '%s' %s", sid, f[k].key);
	}
	if (v[TITLE] != NULL) {
		st->pub.title = text_field(c, v[TITLE], l[TITLE], fw[TITLE]);
	}
	if (v[DO] != NULL) {
		char *act = scalar(c, v[DO], l[DO], fw[DO]);
		st->pub.action = lsec_sop_action_find(act);
		if (act != NULL && st->pub.action == NULL) {
			lsec_sop__diag(c->d, LSEC_E_SOP_UNKNOWN_ACTION, node_loc(v[DO], l[DO]), NULL,
				       "step '%s': unknown action '%.60s' (see 'linesec sop actions')",
				       sid, act);
		}
	}
	if (v[WHO] != NULL) {
		st->who_loc = node_loc(v[WHO], l[WHO]);
		st->pub.who = step_role(c, v[WHO], l[WHO], fw[WHO], roles_read);
	}
	if (v[WITNESS] != NULL) {
		st->witness_loc = node_loc(v[WITNESS], l[WITNESS]);
		st->pub.witness = step_role(c, v[WITNESS], l[WITNESS], fw[WITNESS], roles_read);
	}
	if (st->pub.action != NULL) {
		read_params(c, st, v[WITH], node_loc(n, at), sid);
	} else if (v[WITH] != NULL && v[DO] == NULL) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, l[WITH], NULL,
			       "step '%s': 'with' given but no action ('do') to take it", sid);
	}
	if (v[TEXT] != NULL) {
		st->pub.text = text_field(c, v[TEXT], l[TEXT], fw[TEXT]);
	} else if (st->pub.action != NULL && (st->pub.action->flags & LSEC_SOP_ACTION_MANUAL) != 0) {
		lsec_sop__diag(c->d, LSEC_E_SOP_MISSING, st->loc, NULL,
			       "step '%s': missing 'text': a manual step ('%s') says what the person does",
			       sid, st->pub.action->id);
	}
	if (v[VERIFY] != NULL) {
		st->pub.verify = text_field(c, v[VERIFY], l[VERIFY], fw[VERIFY]);
	} else if (st->pub.action != NULL) {
		st->pub.verify = st->pub.action->verifies;
	}
	if (v[WHEN] != NULL) {
		char *w = scalar(c, v[WHEN], l[WHEN], fw[WHEN]);
		int wi = w != NULL ? find_in(whens, w) : -1;
		st->when_loc = node_loc(v[WHEN], l[WHEN]);
		if (w != NULL && wi < 0) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, st->when_loc, NULL,
				       "step '%s': when '%.40s' is not allowed: expected %s", sid, w,
				       join_list(list, sizeof(list), whens));
		}
		st->pub.when = wi < 0 ? LSEC_SOP_WHEN_ALWAYS : (lsec_sop_when)wi;
	}
	if (v[ON_FAILURE] != NULL) {
		read_on_failure(c, st, v[ON_FAILURE], l[ON_FAILURE], sid);
	}
}

static void read_steps(ctx *c, struct fy_node *n, sop_loc at, bool roles_read)
{
	c->sop->steps_loc = at;
	if (n == NULL) {
		return;
	}
	if (fy_node_get_type(n) != FYNT_SEQUENCE || fy_node_sequence_item_count(n) < 1) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(n, at), NULL,
			       "steps: expected a list of at least one step");
		return;
	}
	int cnt = fy_node_sequence_item_count(n);
	if (cnt > SOP_MAX_STEPS) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(n, at), NULL,
			       "steps: at most %d steps", SOP_MAX_STEPS);
		return;
	}
	c->sop->steps = lsec_calloc((size_t)cnt, sizeof(*c->sop->steps));
	if (c->sop->steps == NULL) {
		c->oom = true;
		return;
	}
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	while ((item = fy_node_sequence_iterate(n, &it)) != NULL && i < (size_t)cnt) {
		read_step(c, &c->sop->steps[i], item, at, i, roles_read);
		i++;
	}
	c->sop->nsteps = i;
}

static void read_top(ctx *c, struct fy_node *root)
{
	enum { SOP, TITLE, VERSION, PURPOSE, SCOPE, APPLIES, ROLES, PREREQ, RECORDS, CHANGE, STEPS,
	       NF };
	static const field f[NF] = {{"sop", true},        {"title", true},         {"version", true},
				    {"purpose", true},    {"scope", true},         {"applies-to", true},
				    {"roles", true},      {"prerequisites", true}, {"records", true},
				    {"change", false},    {"steps", true}};
	struct fy_node *v[NF];
	sop_loc l[NF];
	sop_loc start = {1, 1};
	if (!walk_map(c, root, start, "the SOP", f, NF, LSEC_E_SOP_UNKNOWN_KEY, LSEC_E_SOP_MISSING, v,
		      l)) {
		return;
	}
	if (v[SOP] != NULL) {
		char *k = scalar(c, v[SOP], l[SOP], "sop");
		lsec_err e2 = LSEC_ERR_INIT;
		if (k != NULL && lsec_sop_kind_parse(&c->sop->kind, k, &e2) < 0) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(v[SOP], l[SOP]), NULL, "sop: %s",
				       e2.msg);
		} else if (k != NULL) {
			c->sop->kind_known = true;
		}
	}
	if (v[TITLE] != NULL) {
		c->sop->title = scalar(c, v[TITLE], l[TITLE], "title");
	}
	if (v[VERSION] != NULL) {
		char *s = scalar(c, v[VERSION], l[VERSION], "version");
		int64_t ver = 0;
		if (s != NULL && !parse_int(s, 1, 1000000, &ver)) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, node_loc(v[VERSION], l[VERSION]), NULL,
				       "version '%.20s': expected an integer from 1 to 1000000", s);
		}
		c->sop->version = (int)ver;
	}
	c->sop->purpose = v[PURPOSE] ? scalar(c, v[PURPOSE], l[PURPOSE], "purpose") : NULL;
	c->sop->scope = v[SCOPE] ? scalar(c, v[SCOPE], l[SCOPE], "scope") : NULL;
	c->sop->change = v[CHANGE] ? scalar(c, v[CHANGE], l[CHANGE], "change") : NULL;
	if (v[APPLIES] != NULL) {
		read_applies_to(c, v[APPLIES], l[APPLIES]);
	}
	read_roles(c, v[ROLES], l[ROLES]);
	c->sop->prereqs = text_list(c, v[PREREQ], l[PREREQ], "prerequisites", &c->sop->nprereqs);
	c->sop->records = text_list(c, v[RECORDS], l[RECORDS], "records", &c->sop->nrecords);
	read_steps(c, v[STEPS], l[STEPS], v[ROLES] != NULL);
}

/* ---- YAML syntax errors -------------------------------------------------- */

typedef struct syntax {
	bool seen;
	int line, column;
	char msg[160];
} syntax;

/* libfyaml prints "<input>:LINE:COL: error: MESSAGE"; keep the first one. */
static void diag_output(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	syntax *sx = user;
	char tmp[512];
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

/*
 * Length of the first invalid UTF-8 sequence's offset, or len when the
 * whole input is valid (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF). libfyaml is only ever given valid UTF-8: some of its scanners
 * do not terminate on a malformed sequence.
 */
static size_t utf8_invalid_at(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
				   : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || i + n > len) {
			return i;
		}
		uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return i;
			}
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return i;
		}
		i += n;
	}
	return len;
}

/* Line and column (1-based, in characters) of byte offset off. */
static sop_loc loc_of(const uint8_t *s, size_t off)
{
	sop_loc l = {1, 1};
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			l.line++;
			l.column = 1;
		} else if ((s[i] & 0xc0) != 0x80) {
			l.column++;
		}
	}
	return l;
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
	size_t bad = utf8_invalid_at(data, len);
	const uint8_t *tab = NULL;
	if (len == 0) {
		lsec_sop__diag(d, LSEC_E_SOP_MISSING, start, NULL,
			       "empty file: expected a SOP (sop, title, version, purpose, ...)");
	} else if (bad < len) {
		lsec_sop__diag(d, LSEC_E_SOP_SYNTAX, loc_of(data, bad), NULL,
			       "not valid UTF-8 (byte 0x%02x): a SOP file is UTF-8 text", data[bad]);
	} else if ((tab = memchr(data, '\t', len)) != NULL) {
		/* YAML indents with spaces; libfyaml 0.7.12 crashes on some tab placements */
		lsec_sop__diag(d, LSEC_E_SOP_SYNTAX, loc_of(data, (size_t)(tab - data)), NULL,
			       "tab character: indent and separate with spaces");
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
					       node_loc(fy_document_root(extra), start), NULL,
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
			ctx c = {sop, d, false};
			read_top(&c, fy_document_root(doc));
			LSEC_ENSURE(!c.oom, LSEC_E_NOMEM, "out of memory");
			if (d->n == 0) {
				lsec_sop__policy_check(sop, d);
			}
		}
	}
	LSEC_ENSURE(!d->truncated || d->n > 0, LSEC_E_NOMEM, "out of memory");
	/* in file order (stable: problems at one place keep the order found) */
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

int lsec_sop_expand(lsec_buf *out, const char *text, const char *const *names,
		    const char *const *values, size_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(text);
	for (const char *p = text; *p != 0;) {
		const char *open = strchr(p, '{');
		const char *close = open != NULL ? strchr(open, '}') : NULL;
		if (open == NULL || close == NULL) {
			LSEC_TRY(lsec_buf_append_str(out, p, err));
			break;
		}
		LSEC_TRY(lsec_buf_append(out, p, (size_t)(open - p), err));
		size_t nl = (size_t)(close - open - 1);
		const char *val = NULL;
		for (size_t i = 0; i < n; i++) {
			if (strlen(names[i]) == nl && strncmp(names[i], open + 1, nl) == 0) {
				val = values[i];
			}
		}
		if (val != NULL) {
			LSEC_TRY(lsec_buf_append_str(out, val, err));
		} else {
			LSEC_TRY(lsec_buf_append(out, open, nl + 2, err));
		}
		p = close + 1;
	}
out:
	return rc;
}
