/*
 * walk.c - reads the YAML tree of a SOP against the schema
 * (docs/sop-format.md) and the action table, collecting every problem with
 * its line and column.
 *
 * Nothing in the file is trusted: every node's type is checked before use,
 * aliases are refused (a SOP must read the same to a person as to the
 * station), and counts are bounded (SOP_MAX_* in sop_int.h). A named value
 * (state, role, then, when, parameter) is parsed by lsec_name_lookup; the
 * walker puts the node's location in front of its message.
 */
#include "sop/sop_int.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

/* The walk's state: the SOP being filled, its problems, and whether memory ran out. */
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

sop_loc lsec_sop__node_loc(struct fy_node *n, sop_loc fallback)
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
		return p != NULL ? lsec_sop__node_loc(fy_node_pair_key(p), fallback) : fallback;
	}
	case FYNT_SEQUENCE: {
		struct fy_node *i = fy_node_sequence_iterate(n, &it);
		return i != NULL ? lsec_sop__node_loc(i, fallback) : fallback;
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
	sop_loc l = lsec_sop__node_loc(n, at);
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
	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > SOP_MAX_INT_DIGITS) {
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

/* A label naming a field: a step id (at most SOP_MAX_ID_LEN) and a key or parameter. */
#define LABEL_MAX 128
/* The accepted values written "a, b, c": as long as an error message. */
#define LIST_MAX sizeof(((lsec_err *)0)->msg)

/* Number of entries of a NULL-terminated list. */
static size_t count_of(const char *const *list)
{
	size_t n = 0;
	while (list[n] != NULL) {
		n++;
	}
	return n;
}

/*
 * Parses a named value (kind names it: "role", "unit state") through
 * lsec_name_lookup. When s is not one of names, adds the lookup's message
 * at loc with code, after what, and returns -1; else returns the index.
 */
static int named(ctx *c, const char *const *names, size_t count, const char *s, const char *kind,
		 int code, sop_loc at, const char *what)
{
	lsec_err e = LSEC_ERR_INIT;
	size_t i = 0;
	if (lsec_name_lookup(&i, names, count, s, kind, &e) < 0) {
		lsec_sop__diag(c->d, code, at, NULL, "%s: %s", what, e.msg);
		return -1;
	}
	return (int)i;
}

/* Checks the {placeholders} of a text against the fixed list. */
static void check_placeholders(ctx *c, const char *s, sop_loc at, const char *what)
{
	const char *const *names = lsec_sop_placeholders();
	for (const char *p = s; p != NULL && (p = strchr(p, '{')) != NULL;) {
		const char *close = strchr(p, '}');
		char name[SOP_ECHO_MAX + 1];
		if (close == NULL) {
			lsec_sop__diag(c->d, LSEC_E_SOP_PLACEHOLDER, at, NULL,
				       "%s: '{' without a closing '}': placeholders are written {name}",
				       what);
			return;
		}
		/* no placeholder is near SOP_ECHO_MAX long: a cut name stays unknown */
		snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
		(void)named(c, names, count_of(names), name, "placeholder", LSEC_E_SOP_PLACEHOLDER, at,
			    what);
		p = close + 1;
	}
}

/* A text field, with its placeholders checked. */
static char *text_field(ctx *c, struct fy_node *n, sop_loc at, const char *what)
{
	char *s = scalar(c, n, at, what);
	if (s != NULL) {
		check_placeholders(c, s, lsec_sop__node_loc(n, at), what);
	}
	return s;
}

typedef struct field {
	const char *key;
	bool required;
} field;

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
			       lsec_sop__node_loc(map, at), NULL, "%s: expected a mapping of fields", what);
		return false;
	}
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p);
		sop_loc kl = lsec_sop__node_loc(k, at);
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
				       ks != NULL ? (int)(len > SOP_ECHO_MAX ? SOP_ECHO_MAX : len) : 1,
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
	sop_loc ml = lsec_sop__node_loc(map, at);
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
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(n, at), NULL,
			       "%s: expected a list of at least one sentence", what);
		return NULL;
	}
	int cnt = fy_node_sequence_item_count(n);
	if (cnt > SOP_MAX_LIST) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(n, at), NULL,
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

/* Unit states a SOP may name in applies-to ("any": whatever the unit's state). */
static const char *const states[] = {"any",     "new",    "flashed",     "provisioned",
				     "secured", "locked", "shipped",     "returned",
				     "quarantined", "decommissioned", "scrapped"};
#define N_STATES (sizeof(states) / sizeof(states[0]))

static void read_applies_to(ctx *c, struct fy_node *n, sop_loc at)
{
	static const field f[] = {{"product", true}, {"from-state", true}, {"to-state", true}};
	struct fy_node *v[3];
	sop_loc l[3];
	char what[LABEL_MAX];
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
		snprintf(what, sizeof(what), "applies-to.%s", f[i + 1].key);
		if (s != NULL && named(c, states, N_STATES, s, "unit state", LSEC_E_SOP_BAD_VALUE,
				       lsec_sop__node_loc(v[i + 1], l[i + 1]), what) < 0) {
			s = NULL;
		}
		*dst[i] = s;
	}
}

static void read_roles(ctx *c, struct fy_node *n, sop_loc at)
{
	const char *const *roles = lsec_sop_roles();
	if (n == NULL) {
		return;
	}
	if (fy_node_get_type(n) != FYNT_MAPPING || fy_node_mapping_item_count(n) < 1) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(n, at), NULL,
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
		if (named(c, roles, count_of(roles), name, "role", LSEC_E_SOP_UNKNOWN_ROLE,
			  lsec_sop__node_loc(k, at), "roles") < 0) {
			continue;
		}
		char what[LABEL_MAX];
		snprintf(what, sizeof(what), "roles.%s", name);
		char *text = scalar(c, fy_node_pair_value(p), lsec_sop__node_loc(k, at), what);
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
	const char *const *roles = lsec_sop_roles();
	char *r = scalar(c, n, at, what);
	if (r == NULL) {
		return NULL;
	}
	sop_loc l = lsec_sop__node_loc(n, at);
	if (named(c, roles, count_of(roles), r, "role", LSEC_E_SOP_UNKNOWN_ROLE, l, what) < 0) {
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

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SOP_MAX_ID_LEN || s[0] == '-') {
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

/*
 * Reads a step's `with` against its action's declared parameters; the step
 * keeps them in the declared order, defaults filled in. An entry past
 * SOP_MAX_STEP_PARAMS is refused (it would have nowhere to go).
 */
static void read_params(ctx *c, sop_step *st, struct fy_node *with, sop_loc at, const char *sid)
{
	const lsec_sop_action *a = st->pub.action;
	char what[LABEL_MAX], owner[LABEL_MAX], list[LIST_MAX];
	const char *names[SOP_MAX_STEP_PARAMS] = {0};
	const char *given[SOP_MAX_STEP_PARAMS] = {0};
	size_t np = 0;
	/* the action table declares at most SOP_MAX_STEP_PARAMS (test_actions.c checks it) */
	while (np < SOP_MAX_STEP_PARAMS && a->params[np].name != NULL) {
		names[np] = a->params[np].name;
		np++;
	}
	snprintf(owner, sizeof(owner), "step '%s' action '%s'", sid, a->id);
	if (with != NULL) {
		if (fy_node_get_type(with) != FYNT_MAPPING) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, lsec_sop__node_loc(with, at), NULL,
				       "step '%s': 'with' expected a mapping of parameters of '%s'",
				       sid, a->id);
			return;
		}
		void *it = NULL;
		struct fy_node_pair *p;
		size_t seen = 0;
		while ((p = fy_node_mapping_iterate(with, &it)) != NULL) {
			struct fy_node *k = fy_node_pair_key(p);
			snprintf(what, sizeof(what), "step '%s' parameter", sid);
			char *name = scalar(c, k, at, what);
			if (name == NULL) {
				continue;
			}
			sop_loc kl = lsec_sop__node_loc(k, at);
			if (++seen > SOP_MAX_STEP_PARAMS) {
				lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, kl, NULL,
					       "step '%s': too many parameters at '%.*s': a step takes at most %d",
					       sid, SOP_ECHO_MAX, name, SOP_MAX_STEP_PARAMS);
				break;
			}
			if (np == 0) {
				lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, kl, NULL,
					       "%s: takes no parameters, not '%.*s'", owner, SOP_ECHO_MAX,
					       name);
				continue;
			}
			int i = named(c, names, np, name, "parameter", LSEC_E_SOP_BAD_PARAM, kl, owner);
			if (i < 0) {
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
			sop_loc vl = lsec_sop__node_loc(v, kl);
			int64_t iv = 0;
			bool ok = true;
			switch (pd->type) {
			case LSEC_SOP_PARAM_INT:
				ok = parse_int(val, pd->min, pd->max, &iv);
				if (!ok) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, vl, NULL,
						       "%s: '%.*s' is not an integer from %lld to %lld",
						       what, SOP_ECHO_MAX, val, (long long)pd->min,
						       (long long)pd->max);
				}
				break;
			case LSEC_SOP_PARAM_BOOL:
				ok = strcmp(val, "true") == 0 || strcmp(val, "false") == 0;
				if (!ok) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, vl, NULL,
						       "%s: '%.*s' is not true or false", what,
						       SOP_ECHO_MAX, val);
				}
				break;
			case LSEC_SOP_PARAM_ENUM:
				ok = named(c, pd->allowed, count_of(pd->allowed), val, "value",
					   LSEC_E_SOP_BAD_PARAM, vl, what) >= 0;
				break;
			case LSEC_SOP_PARAM_STRING:
			default:
				/* a name the station prints as written: no placeholder it would not fill */
				ok = valid_id(val);
				if (!ok) {
					lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, vl, NULL,
						       "%s: '%.*s' is not a name: expected lowercase letters, digits and '-' (at most %d)",
						       what, SOP_ECHO_MAX, val, SOP_MAX_ID_LEN);
				}
				break;
			}
			if (ok) {
				given[i] = val;
			}
		}
	}
	for (size_t i = 0; i < np; i++) {
		const lsec_sop_param *pd = &a->params[i];
		const char *v = given[i] != NULL ? given[i] : pd->deflt;
		if (v == NULL && pd->required) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_PARAM, at, NULL,
				       "step '%s': action '%s' needs parameter '%s' under 'with'%s%s", sid,
				       a->id, pd->name, pd->allowed ? ": one of " : "",
				       pd->allowed ? lsec_name_list(list, sizeof(list), pd->allowed,
								    count_of(pd->allowed))
						   : "");
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
	struct fy_node *v[3];
	sop_loc l[3];
	char what[LABEL_MAX];
	snprintf(what, sizeof(what), "on-failure of step '%s'", sid);
	st->then_loc = at;
	if (!walk_map(c, n, at, what, f, 3, LSEC_E_SOP_BAD_ON_FAILURE, LSEC_E_SOP_BAD_ON_FAILURE, v,
		      l)) {
		return;
	}
	if (v[0] != NULL) {
		char *s = scalar(c, v[0], l[0], what);
		int64_t r = 0;
		st->retry_loc = lsec_sop__node_loc(v[0], l[0]);
		if (s != NULL && !parse_int(s, 0, SOP_MAX_RETRY, &r)) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_ON_FAILURE, st->retry_loc, NULL,
				       "%s: retry '%.*s' is not an integer from 0 to %d", what,
				       SOP_ECHO_MAX, s, SOP_MAX_RETRY);
		}
		st->pub.retry = (unsigned)r;
	}
	if (v[1] != NULL) {
		char *s = scalar(c, v[1], l[1], what);
		st->then_loc = lsec_sop__node_loc(v[1], l[1]);
		int t = s != NULL ? named(c, lsec_sop__then_names, SOP_THEN_COUNT, s, "'then' value",
					  LSEC_E_SOP_BAD_ON_FAILURE, st->then_loc, what)
				  : -1;
		st->pub.then = t < 0 ? LSEC_SOP_THEN_QUARANTINE : (lsec_sop_then)t;
	}
	if (v[2] != NULL) {
		st->pub.failure_message = text_field(c, v[2], l[2], what);
	}
}

static void read_step(ctx *c, sop_step *st, struct fy_node *n, sop_loc at, size_t idx,
		      bool roles_read)
{
	enum { ID, TITLE, DO, WHO, WITNESS, WITH, TEXT, VERIFY, WHEN, ON_FAILURE, NF };
	static const field f[NF] = {{"id", true},     {"title", false},   {"do", true},
				    {"who", true},    {"witness", false}, {"with", false},
				    {"text", false},  {"verify", false},  {"when", false},
				    {"on-failure", true}};
	struct fy_node *v[NF];
	sop_loc l[NF];
	char what[LABEL_MAX], sid[SOP_MAX_ID_LEN + 1];
	snprintf(sid, sizeof(sid), "#%zu", idx + 1);
	snprintf(what, sizeof(what), "step %zu", idx + 1);
	st->loc = lsec_sop__node_loc(n, at);
	if (!walk_map(c, n, st->loc, what, f, NF, LSEC_E_SOP_UNKNOWN_KEY, LSEC_E_SOP_MISSING, v, l)) {
		return;
	}
	if (v[ID] != NULL) {
		char *id = scalar(c, v[ID], l[ID], "step id");
		if (id != NULL && !valid_id(id)) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(v[ID], l[ID]), NULL,
				       "step id '%.*s': expected lowercase letters, digits and '-' (at most %d)",
				       SOP_ECHO_MAX, id, SOP_MAX_ID_LEN);
		} else if (id != NULL) {
			st->pub.id = id;
			snprintf(sid, sizeof(sid), "%s", id);
			for (size_t j = 0; j < idx; j++) {
				const sop_step *o = &c->sop->steps[j];
				if (o->pub.id != NULL && strcmp(o->pub.id, id) == 0) {
					lsec_sop__diag(c->d, LSEC_E_SOP_DUP_STEP, lsec_sop__node_loc(v[ID], l[ID]),
						       NULL, "duplicate step id '%s': first used at line %d",
						       id, o->loc.line);
					break;
				}
			}
		}
	}
	snprintf(what, sizeof(what), "step '%s'", sid);
	char fw[NF][LABEL_MAX];
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
			lsec_sop__diag(c->d, LSEC_E_SOP_UNKNOWN_ACTION, lsec_sop__node_loc(v[DO], l[DO]), NULL,
				       "step '%s': unknown action '%.*s' (see 'linesec sop actions')",
				       sid, SOP_ECHO_MAX, act);
		}
	}
	if (v[WHO] != NULL) {
		st->who_loc = lsec_sop__node_loc(v[WHO], l[WHO]);
		st->pub.who = step_role(c, v[WHO], l[WHO], fw[WHO], roles_read);
	}
	if (v[WITNESS] != NULL) {
		st->witness_loc = lsec_sop__node_loc(v[WITNESS], l[WITNESS]);
		st->pub.witness = step_role(c, v[WITNESS], l[WITNESS], fw[WITNESS], roles_read);
	}
	if (st->pub.action != NULL) {
		read_params(c, st, v[WITH], lsec_sop__node_loc(n, at), sid);
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
		st->when_loc = lsec_sop__node_loc(v[WHEN], l[WHEN]);
		int wi = w != NULL ? named(c, lsec_sop__when_names, SOP_WHEN_COUNT, w, "'when' value",
					   LSEC_E_SOP_BAD_VALUE, st->when_loc, what)
				   : -1;
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
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(n, at), NULL,
			       "steps: expected a list of at least one step");
		return;
	}
	int cnt = fy_node_sequence_item_count(n);
	if (cnt > SOP_MAX_STEPS) {
		lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(n, at), NULL,
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
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE, lsec_sop__node_loc(v[SOP], l[SOP]), NULL, "sop: %s",
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
		if (s != NULL && !parse_int(s, 1, SOP_MAX_VERSION, &ver)) {
			lsec_sop__diag(c->d, LSEC_E_SOP_BAD_VALUE,
				       lsec_sop__node_loc(v[VERSION], l[VERSION]), NULL,
				       "version '%.*s': expected an integer from 1 to %d", SOP_ECHO_MAX, s,
				       SOP_MAX_VERSION);
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

bool lsec_sop__walk(lsec_sop *sop, lsec_sop_diags *d, struct fy_node *root)
{
	ctx c = {sop, d, false};
	read_top(&c, root);
	return !c.oom;
}
