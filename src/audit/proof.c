/*
 * proof.c - self-contained proof files: a signed checkpoint and, for each
 * proved leaf, its exact bytes, its index and its RFC 9162 inclusion path.
 *
 *     {"checkpoint":"<signed note>",
 *      "entries":[{"index":N,"inclusion":["<hex hash>",...],"leaf":"<leaf>"}],
 *      "format":"linesec-audit-proof/1"}
 *
 * The parser is strict: exactly these keys, no duplicates, hashes of 64
 * lowercase or uppercase hex digits, at most 64 path hashes per entry, sizes
 * bounded. Checking needs only the file and the station's public key.
 *
 * @test tests/unit/audit/test_proof.c, tests/fuzz/fuzz_checkpoint.c
 */
#include "audit/audit_int.h"

#include <jansson.h>
#include <string.h>

#define PROOF_FORMAT "linesec-audit-proof/1"
#define MAX_PATH 64
#define MAX_ENTRIES 100000

struct entry {
	uint64_t index;
	char *leaf; /* NUL-terminated; leaf_len bytes */
	size_t leaf_len;
	uint8_t *path;
	size_t path_len;
};

struct lsec_audit_proof {
	char *note;
	struct entry *e;
	size_t n, cap;
};

int lsec_audit_proof_new(lsec_audit_proof **out, const char *note, lsec_err *err)
{
	int rc = 0;
	lsec_audit_proof *p = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(note);
	LSEC_ENSURE((p = lsec_calloc(1, sizeof(*p))) != NULL && (p->note = lsec_strdup(note)) != NULL,
		    LSEC_E_NOMEM, "cannot build proof: out of memory");
	*out = p;
	p = NULL;
out:
	lsec_audit_proof_free(p);
	return rc;
}

int lsec_audit_proof_add(lsec_audit_proof *p, uint64_t index, const uint8_t *leaf,
			 size_t leaf_len, const uint8_t *path, size_t path_len, lsec_err *err)
{
	int rc = 0;
	struct entry e = {index, NULL, leaf_len, NULL, path_len};
	LSEC_ENSURE(path_len % 32 == 0 && path_len <= 32 * MAX_PATH, LSEC_E_USAGE,
		    "cannot add leaf %llu to proof: bad path length %zu", (unsigned long long)index,
		    path_len);
	LSEC_ENSURE(leaf_len <= LSEC_AUDIT_LEAF_MAX && memchr(leaf, 0, leaf_len) == NULL,
		    LSEC_E_AUDIT_LEAF_FORMAT,
		    "cannot add leaf %llu to proof: not a text leaf of at most %u bytes",
		    (unsigned long long)index, (unsigned)LSEC_AUDIT_LEAF_MAX);
	LSEC_ENSURE(p->n < MAX_ENTRIES, LSEC_E_LIMIT, "cannot add leaf to proof: more than %d",
		    MAX_ENTRIES);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4;
		struct entry *ne = lsec_realloc(p->e, cap * sizeof(*ne));
		LSEC_ENSURE(ne != NULL, LSEC_E_NOMEM, "cannot build proof: out of memory");
		p->e = ne;
		p->cap = cap;
	}
	LSEC_ENSURE((e.leaf = lsec_malloc(leaf_len + 1)) != NULL &&
			    (e.path = lsec_malloc(path_len + 1)) != NULL,
		    LSEC_E_NOMEM, "cannot build proof: out of memory");
	memcpy(e.leaf, leaf, leaf_len);
	e.leaf[leaf_len] = 0;
	if (path_len > 0) {
		memcpy(e.path, path, path_len);
	}
	p->e[p->n++] = e;
	e.leaf = NULL;
	e.path = NULL;
out:
	lsec_free(e.leaf);
	lsec_free(e.path);
	return rc;
}

void lsec_audit_proof_free(lsec_audit_proof *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		lsec_free(p->e[i].leaf);
		lsec_free(p->e[i].path);
	}
	lsec_free(p->e);
	lsec_free(p->note);
	lsec_free(p);
}

size_t lsec_audit_proof_count(const lsec_audit_proof *p)
{
	return p->n;
}

uint64_t lsec_audit_proof_index(const lsec_audit_proof *p, size_t i)
{
	return i < p->n ? p->e[i].index : UINT64_MAX;
}

const char *lsec_audit_proof_leaf(const lsec_audit_proof *p, size_t i)
{
	return i < p->n ? p->e[i].leaf : NULL;
}

static int add_new(json_t *o, const char *key, json_t *v, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(v != NULL && json_object_set_new(o, key, v) == 0, LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot write proof: field '%s' (out of memory or not UTF-8)", key);
out:
	return rc;
}

int lsec_audit_proof_write(char **out, const lsec_audit_proof *p, lsec_err *err)
{
	int rc = 0;
	json_t *root = NULL, *entries = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(p);
	LSEC_ENSURE((root = json_object()) != NULL && (entries = json_array()) != NULL,
		    LSEC_E_NOMEM, "cannot write proof: out of memory");
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		json_t *eo = json_object(), *path = json_array();
		int r = eo != NULL && path != NULL && json_array_append_new(entries, eo) == 0 ? 0 : -1;
		if (r < 0) {
			json_decref(eo);
			json_decref(path);
			LSEC_BAIL(LSEC_E_NOMEM, "cannot write proof: out of memory");
		}
		LSEC_TRY(add_new(eo, "inclusion", path, err));
		for (size_t k = 0; k < e->path_len / 32; k++) {
			char hex[65];
			lsec_hex_encode(hex, e->path + 32 * k, 32);
			LSEC_TRY(lsec_json_append(path, json_string(hex), err));
		}
		LSEC_TRY(add_new(eo, "index", json_integer((json_int_t)e->index), err));
		LSEC_TRY(add_new(eo, "leaf", json_stringn(e->leaf, e->leaf_len), err));
	}
	json_t *e = entries;
	entries = NULL; /* owned by root from here, even when adding fails */
	LSEC_TRY(add_new(root, "entries", e, err));
	LSEC_TRY(add_new(root, "checkpoint", json_string(p->note), err));
	LSEC_TRY(add_new(root, "format", json_string(PROOF_FORMAT), err));
	LSEC_TRY(lsec_json_canonical(out, root, err));
out:
	json_decref(entries);
	json_decref(root);
	return rc;
}

/* The object must have exactly the keys named (n of them). */
static int exact_keys(const json_t *o, const char *const *keys, size_t n, const char *what,
		      lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(json_is_object(o), LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: %s must be an object", what);
	for (size_t i = 0; i < n; i++) {
		LSEC_ENSURE(json_object_get(o, keys[i]) != NULL, LSEC_E_AUDIT_PROOF_FORMAT,
			    "cannot parse proof: %s has no field '%s'", what, keys[i]);
	}
	LSEC_ENSURE(json_object_size(o) == n, LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: %s has unknown fields", what);
out:
	return rc;
}

static int parse_entry(lsec_audit_proof *p, const json_t *eo, size_t i, lsec_err *err)
{
	static const char *const keys[] = {"index", "inclusion", "leaf"};
	int rc = 0;
	char what[48];
	uint8_t path[32 * MAX_PATH];
	size_t npath;
	snprintf(what, sizeof(what), "entry %zu", i);
	LSEC_TRY(exact_keys(eo, keys, 3, what, err));
	const json_t *idx = json_object_get(eo, "index");
	const json_t *inc = json_object_get(eo, "inclusion");
	const json_t *leaf = json_object_get(eo, "leaf");
	LSEC_ENSURE(json_is_integer(idx) && json_integer_value(idx) >= 0,
		    LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: entry %zu: 'index' must be a non-negative integer", i);
	LSEC_ENSURE(json_is_string(leaf), LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: entry %zu: 'leaf' must be a string", i);
	LSEC_ENSURE(json_is_array(inc) && json_array_size(inc) <= MAX_PATH,
		    LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: entry %zu: 'inclusion' must be an array of at most %d hashes",
		    i, MAX_PATH);
	npath = json_array_size(inc);
	for (size_t k = 0; k < npath; k++) {
		const json_t *h = json_array_get(inc, k);
		LSEC_ENSURE(json_is_string(h) && json_string_length(h) == 64 &&
				    lsec_hex_decode_fixed(path + 32 * k, 32, json_string_value(h),
							  "inclusion hash", err) == 0,
			    LSEC_E_AUDIT_PROOF_FORMAT,
			    "cannot parse proof: entry %zu: inclusion hash %zu must be 64 hex digits",
			    i, k);
	}
	lsec_err aerr = LSEC_ERR_INIT;
	rc = lsec_audit_proof_add(p, (uint64_t)json_integer_value(idx),
				  (const uint8_t *)json_string_value(leaf), json_string_length(leaf),
				  path, 32 * npath, &aerr);
	if (rc < 0) {
		LSEC_BAIL(rc == LSEC_E_AUDIT_LEAF_FORMAT ? LSEC_E_AUDIT_PROOF_FORMAT : rc,
			  "cannot parse proof: entry %zu: %s", i, aerr.msg);
	}
out:
	return rc;
}

int lsec_audit_proof_parse(lsec_audit_proof **out, const char *text, size_t len, lsec_err *err)
{
	static const char *const keys[] = {"checkpoint", "entries", "format"};
	int rc = 0;
	json_t *root = NULL;
	lsec_audit_proof *p = NULL;
	lsec_audit_checkpoint cp;
	*out = NULL;
	LSEC_ENSURE(text != NULL && len <= LSEC_AUDIT_PROOF_MAX, LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: larger than %u bytes", (unsigned)LSEC_AUDIT_PROOF_MAX);
	lsec_err jerr = LSEC_ERR_INIT;
	if (lsec_json_parse(&root, text, len, "proof", &jerr) < 0) {
		LSEC_BAIL(LSEC_E_AUDIT_PROOF_FORMAT, "%s", jerr.msg);
	}
	LSEC_TRY(exact_keys(root, keys, 3, "the proof", err));
	const json_t *fmt = json_object_get(root, "format");
	const json_t *note = json_object_get(root, "checkpoint");
	const json_t *entries = json_object_get(root, "entries");
	LSEC_ENSURE(json_is_string(fmt) && strcmp(json_string_value(fmt), PROOF_FORMAT) == 0, /* lint:ok */
		    LSEC_E_AUDIT_PROOF_FORMAT, "cannot parse proof: 'format' must be '%s'",
		    PROOF_FORMAT);
	LSEC_ENSURE(json_is_string(note), LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: 'checkpoint' must be a string");
	LSEC_TRY(lsec_audit_checkpoint_parse(&cp, json_string_value(note), json_string_length(note),
					     err));
	LSEC_ENSURE(json_is_array(entries) && json_array_size(entries) > 0 &&
			    json_array_size(entries) <= MAX_ENTRIES,
		    LSEC_E_AUDIT_PROOF_FORMAT,
		    "cannot parse proof: 'entries' must be an array of 1 to %d entries", MAX_ENTRIES);
	LSEC_TRY(lsec_audit_proof_new(&p, json_string_value(note), err));
	for (size_t i = 0; i < json_array_size(entries); i++) {
		LSEC_TRY(parse_entry(p, json_array_get(entries, i), i, err));
	}
	*out = p;
	p = NULL;
out:
	lsec_audit_proof_free(p);
	json_decref(root);
	return rc;
}

int lsec_audit_proof_check(lsec_audit_checkpoint *cp_out, const lsec_audit_proof *p,
			   const struct evp_pkey_st *pub, lsec_err *err)
{
	return lsec_audit_proof_check_keys(cp_out, p, &pub, 1, err);
}

int lsec_audit_proof_check_keys(lsec_audit_checkpoint *cp_out, const lsec_audit_proof *p,
				const struct evp_pkey_st *const *pubs, size_t npubs, lsec_err *err)
{
	int rc = 0;
	lsec_audit_checkpoint cp;
	LSEC_ENSURE_REF(p);
	LSEC_TRY(lsec_audit_checkpoint_verify_keys(&cp, p->note, strlen(p->note), NULL, pubs, npubs,
						   err));
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		uint8_t h[32];
		LSEC_TRY(lsec_audit_leaf_hash(h, (const uint8_t *)e->leaf, e->leaf_len, err));
		rc = lsec_audit_inclusion_verify(h, e->index, cp.size, e->path, e->path_len, cp.root,
						 err);
		if (rc < 0) {
			LSEC_BAIL(rc, "cannot verify proof entry %zu (leaf %llu) against the checkpoint "
				  "of %llu leaves: %s",
				  i, (unsigned long long)e->index, (unsigned long long)cp.size,
				  "the leaf is not in the signed tree");
		}
	}
	if (cp_out != NULL) {
		*cp_out = cp;
	}
out:
	return rc;
}
