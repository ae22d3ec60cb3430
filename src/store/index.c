/*
 * index.c - the rows of the signed index (docs/audit-log.md, "The signed
 * index") and the leaf references a lookup checks against it.
 *
 * The store only keeps these rows: nothing here is trusted. Every bucket
 * read is hashed and checked against a signed root by src/audit/index.c,
 * so a changed row can make a lookup fail, never pass.
 *
 * @test tests/unit/audit/test_index.c
 */
#include "store/store_int.h"

#include <string.h>

static void fill_entry(void *rec, const store_val *cols)
{
	lsec_store_index_entry *e = rec;
	size_t n = cols[0].t == SV_TEXT ? cols[0].n : 0;
	/* A key too long for the record is cut: its bucket then fails its check. */
	if (n > LSEC_STORE_INDEX_KEY_MAX) {
		n = LSEC_STORE_INDEX_KEY_MAX;
	}
	if (n > 0) {
		memcpy(e->key, cols[0].s, n);
	}
	e->key[n] = '\0';
	e->count = cols[1].i > 0 ? (uint64_t)cols[1].i : 0;
	if (cols[2].t == SV_BLOB && cols[2].n == 32) {
		memcpy(e->head, cols[2].b, 32);
	}
}

int lsec_store_index_bucket(lsec_store_index_entry **out, size_t *n_out, lsec_store *st,
			    uint32_t bucket, lsec_err *err)
{
	store_val p[] = {SV_I(bucket)};
	*out = NULL;
	*n_out = 0;
	if (st == NULL) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__, "missing argument 'st'");
	}
	return lsec_store__list(st, "SELECT ikey, leaves, head FROM audit_index WHERE bucket = ?",
				p, 1, fill_entry, sizeof(lsec_store_index_entry), (void **)out,
				n_out, err);
}

int lsec_store_index_put(lsec_store *st, uint32_t bucket, const lsec_store_index_entry *e,
			 lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(e);
	LSEC_ENSURE(e->count <= INT64_MAX, LSEC_E_LIMIT, "cannot store index entry '%s': count out "
		    "of range", e->key);
	store_val p[] = {SV_S(e->key), SV_I(bucket), SV_I(e->count), SV_B(e->head, 32)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO audit_index (ikey, bucket, leaves, head)"
				   " VALUES (?, ?, ?, ?) ON CONFLICT (ikey) DO UPDATE SET"
				   " bucket = excluded.bucket, leaves = excluded.leaves,"
				   " head = excluded.head",
				   p, 4, NULL, NULL, err));
out:
	return rc;
}

int lsec_store_index_node_put(lsec_store *st, unsigned level, uint32_t index,
			      const uint8_t hash[32], lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(st);
	store_val p[] = {SV_I(level), SV_I(index), SV_B(hash, 32)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO audit_index_nodes (level, idx, hash) VALUES (?, ?, ?)"
				   " ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash",
				   p, 3, NULL, NULL, err));
out:
	return rc;
}

struct node_ctx {
	uint8_t *hash;
	bool found;
};

static int row_node(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	struct node_ctx *c = ctx;
	(void)ncols;
	(void)err;
	/* A hash of another length is kept as zeros: the bucket check then fails. */
	memset(c->hash, 0, 32);
	if (cols[0].t == SV_BLOB && cols[0].n == 32) {
		memcpy(c->hash, cols[0].b, 32);
	}
	c->found = true;
	return 0;
}

int lsec_store_index_node_get(uint8_t hash_out[32], bool *found_out, lsec_store *st,
			      unsigned level, uint32_t index, lsec_err *err)
{
	int rc = 0;
	struct node_ctx c = {hash_out, false};
	*found_out = false;
	LSEC_ENSURE_REF(st);
	store_val p[] = {SV_I(level), SV_I(index)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT hash FROM audit_index_nodes WHERE level = ? AND idx = ?", p,
				   2, row_node, &c, err));
	*found_out = c.found;
out:
	return rc;
}

static void fill_ref(void *rec, const store_val *cols)
{
	lsec_store_leaf_ref *r = rec;
	r->seq = (uint64_t)cols[0].i;
	/* A stored hash of another length stays zeros: the chain check then fails. */
	if (cols[1].t == SV_BLOB && cols[1].n == 32) {
		memcpy(r->hash, cols[1].b, 32);
	}
}

int lsec_store_leaf_refs(lsec_store_leaf_ref **out, size_t *n_out, lsec_store *st,
			 lsec_store_leaf_column column, const char *value, uint64_t to,
			 lsec_err *err)
{
	*out = NULL;
	*n_out = 0;
	if (st == NULL || value == NULL) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
				    "missing argument 'st' or 'value'");
	}
	store_val p[] = {SV_S(value), SV_I(to > INT64_MAX ? INT64_MAX : to)};
	return lsec_store__list(st,
				column == LSEC_STORE_LEAF_UNIT
					? "SELECT seq, leaf_hash FROM audit_leaves WHERE unit = ?"
					  " AND seq < ? ORDER BY seq"
					: "SELECT seq, leaf_hash FROM audit_leaves WHERE action = ?"
					  " AND seq < ? ORDER BY seq",
				p, 2, fill_ref, sizeof(lsec_store_leaf_ref), (void **)out, n_out, err);
}
