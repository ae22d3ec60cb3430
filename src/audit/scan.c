/*
 * scan.c - reads the top-level fields verification needs ("seq", "unit" and
 * "action") from a leaf without building a JSON tree: verifying a log
 * spends most of its time parsing otherwise.
 *
 * It is a strict, bounded scanner of one JSON object: every byte is looked
 * at once, nesting is limited, and anything it does not understand makes it
 * give up (the caller then parses the leaf with jansson and reports the
 * error). It never decides that a malformed leaf is good: the leaf's hash
 * and the tree are checked independently.
 *
 * @test tests/unit/audit/test_scan.c, tests/fuzz/fuzz_checkpoint.c
 */
#include "audit/audit_int.h"

#include <string.h>

#define MAX_DEPTH 32

struct cursor {
	const uint8_t *p;
	size_t len, off;
};

static bool at(const struct cursor *c, uint8_t ch)
{
	return c->off < c->len && c->p[c->off] == ch;
}

/* A string starting at '"'; [*s, *s + *n) is its raw body (escapes kept). */
static bool skip_string(struct cursor *c, const uint8_t **s, size_t *n)
{
	if (!at(c, '"')) {
		return false;
	}
	size_t start = ++c->off;
	while (c->off < c->len) {
		uint8_t ch = c->p[c->off];
		if (ch == '"') {
			*s = c->p + start;
			*n = c->off - start;
			c->off++;
			return true;
		}
		if (ch < 0x20) {
			return false;
		}
		if (ch != '\\') {
			c->off++;
			continue;
		}
		/* An escape: one of \" \\ \/ \b \f \n \r \t, or \u and four hex digits. */
		if (c->off + 1 >= c->len) {
			return false;
		}
		uint8_t e = c->p[c->off + 1];
		if (e == 'u') {
			if (c->len - c->off < 6) {
				return false;
			}
			for (size_t i = 2; i < 6; i++) {
				uint8_t h = c->p[c->off + i];
				if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
				      (h >= 'A' && h <= 'F'))) {
					return false;
				}
			}
			c->off += 6;
		} else if (strchr("\"\\/bfnrt", e) != NULL && e != 0) {
			c->off += 2;
		} else {
			return false;
		}
	}
	return false;
}

static bool skip_literal(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	if (c->len - c->off < n || memcmp(c->p + c->off, lit, n) != 0) { /* lint:ok: public text */
		return false;
	}
	c->off += n;
	return true;
}

static bool skip_number(struct cursor *c)
{
	size_t start = c->off;
	if (at(c, '-')) {
		c->off++;
	}
	while (c->off < c->len && c->p[c->off] >= '0' && c->p[c->off] <= '9') {
		c->off++;
	}
	return c->off > start && c->p[c->off - 1] != '-';
}

static bool skip_value(struct cursor *c, unsigned depth);

/* An object or array starting at its opening bracket. */
static bool skip_container(struct cursor *c, unsigned depth, uint8_t close)
{
	const uint8_t *s;
	size_t n;
	if (depth >= MAX_DEPTH) {
		return false;
	}
	c->off++;
	if (at(c, close)) {
		c->off++;
		return true;
	}
	for (;;) {
		if (close == '}' && !(skip_string(c, &s, &n) && at(c, ':') && ++c->off)) {
			return false;
		}
		if (!skip_value(c, depth + 1)) {
			return false;
		}
		if (at(c, close)) {
			c->off++;
			return true;
		}
		if (!at(c, ',')) {
			return false;
		}
		c->off++;
	}
}

static bool skip_value(struct cursor *c, unsigned depth)
{
	const uint8_t *s;
	size_t n;
	if (c->off >= c->len) {
		return false;
	}
	switch (c->p[c->off]) {
	case '"':
		return skip_string(c, &s, &n);
	case '{':
		return skip_container(c, depth, '}');
	case '[':
		return skip_container(c, depth, ']');
	case 't':
		return skip_literal(c, "true");
	case 'f':
		return skip_literal(c, "false");
	case 'n':
		return skip_literal(c, "null");
	default:
		return skip_number(c);
	}
}

bool lsec_audit__leaf_scan(lsec_audit__leaf_fields *out, const uint8_t *leaf, size_t len)
{
	struct cursor c = {leaf, len, 0};
	const uint8_t *key, *val;
	size_t klen, vlen;
	bool have_seq = false, have_unit = false, have_action = false;
	uint64_t *seq = &out->seq;
	memset(out, 0, sizeof(*out));
	if (!at(&c, '{')) {
		return false;
	}
	c.off++;
	while (!at(&c, '}')) {
		if (!skip_string(&c, &key, &klen) || !at(&c, ':')) {
			return false;
		}
		c.off++;
		size_t vstart = c.off;
		if (klen == 3 && memcmp(key, "seq", 3) == 0) { /* lint:ok: public text */
			if (have_seq || !skip_number(&c) ||
			    !lsec_audit__parse_u64((const char *)leaf + vstart, c.off - vstart, seq)) {
				return false;
			}
			have_seq = true;
		} else if (klen == 6 && memcmp(key, "action", 6) == 0 && at(&c, '"')) { /* lint:ok */
			if (have_action || !skip_string(&c, &val, &vlen) || memchr(val, '\\', vlen)) {
				return false;
			}
			have_action = true;
			out->checkpoint = vlen == 10 && memcmp(val, "checkpoint", 10) == 0; /* lint:ok */
			out->action = val;
			out->action_len = vlen;
		} else if (klen == 4 && memcmp(key, "unit", 4) == 0 && at(&c, '"')) { /* lint:ok */
			if (have_unit || !skip_string(&c, &val, &vlen) || memchr(val, '\\', vlen)) {
				return false;
			}
			have_unit = true;
			out->unit = val;
			out->unit_len = vlen;
		} else if (!skip_value(&c, 1)) {
			return false;
		}
		if (at(&c, ',')) {
			c.off++;
			if (at(&c, '}')) {
				return false; /* trailing comma */
			}
		} else if (!at(&c, '}')) {
			return false;
		}
	}
	return have_seq && c.off + 1 == len;
}
