/*
 * index.c - the signed index: for every key a leaf names ("unit:<unit>",
 * "action:<action>", read from the leaf's bytes, never from the registry's
 * columns), how many leaves name it and a chain head over their positions
 * and hashes; committed by every checkpoint (docs/audit-log.md, "The signed
 * index").
 *
 *     head_0 = 32 zero bytes
 *     head_i = SHA-256("linesec-index/1\n" || head_(i-1) || seq (8 bytes,
 *              big-endian) || leaf hash)
 *
 * A key falls into bucket SHA-256(key)[0..2) (16 bits). A bucket hashes as
 * SHA-256("linesec-index-bucket/1\n" || its entries sorted by key, each
 * key length (4 bytes, big-endian) || key || count (8 bytes, big-endian) ||
 * head), and the index root is the binary Merkle tree
 * (lsec_audit_node_hash) over the 65536 bucket hashes; a node never stored
 * is the hash of an empty subtree, so an empty index costs nothing.
 *
 * The registry keeps the entries and nodes, and none of it is trusted:
 * every bucket read is hashed up to a signed root before it is used, so a
 * changed row makes a lookup or a checkpoint fail, never pass.
 *
 * @test tests/unit/audit/test_index.c
 */
#include "audit/audit_int.h"

#include "linesec/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define LEVELS LSEC_AUDIT__INDEX_LEVELS
#define BUCKETS ((uint32_t)1 << LEVELS)

static const char chain_prefix[] = "linesec-index/1\n";
static const char bucket_prefix[] = "linesec-index-bucket/1\n";

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

int lsec_audit__index_chain(uint8_t head[32], uint64_t seq, const uint8_t leaf_hash[32],
			    lsec_err *err)
{
	uint8_t msg[sizeof(chain_prefix) - 1 + 32 + 8 + 32];
	size_t p = sizeof(chain_prefix) - 1;
	memcpy(msg, chain_prefix, p);
	memcpy(msg + p, head, 32);
	be64(msg + p + 32, seq);
	memcpy(msg + p + 40, leaf_hash, 32);
	return lsec_sha256(head, msg, sizeof(msg), err);
}

int lsec_audit__index_bucket_of(uint32_t *out, const char *key, lsec_err *err)
{
	int rc = 0;
	uint8_t h[32];
	*out = 0;
	LSEC_TRY(lsec_sha256(h, key, strlen(key), err));
	*out = (uint32_t)h[0] << 8 | h[1];
out:
	return rc;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const lsec_store_index_entry *)a)->key, /* lint:ok: public text */
		      ((const lsec_store_index_entry *)b)->key);
}

/* The hash of a bucket's entries (sorted here: e is reordered). */
static int bucket_hash(uint8_t out[32], lsec_store_index_entry *e, size_t n, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT((size_t)1 << 30);
	uint8_t num[8];
	if (n > 1) {
		qsort(e, n, sizeof(*e), by_key);
	}
	LSEC_TRY(lsec_buf_append(&b, bucket_prefix, sizeof(bucket_prefix) - 1, err));
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(e[i].key);
		uint8_t len[4] = {(uint8_t)(kl >> 24), (uint8_t)(kl >> 16), (uint8_t)(kl >> 8),
				  (uint8_t)kl};
		be64(num, e[i].count);
		LSEC_TRY(lsec_buf_append(&b, len, 4, err));
		LSEC_TRY(lsec_buf_append(&b, e[i].key, kl, err));
		LSEC_TRY(lsec_buf_append(&b, num, 8, err));
		LSEC_TRY(lsec_buf_append(&b, e[i].head, 32, err));
	}
	LSEC_TRY(lsec_sha256(out, b.data, b.len, err));
out:
	lsec_buf_release(&b);
	return rc;
}

/* empty[l]: the hash of an empty subtree of 2^l buckets. */
static int empty_hashes(uint8_t empty[LEVELS + 1][32], lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(bucket_hash(empty[0], NULL, 0, err));
	for (unsigned l = 0; l < LEVELS; l++) {
		LSEC_TRY(lsec_audit_node_hash(empty[l + 1], empty[l], empty[l], err));
	}
out:
	return rc;
}

int lsec_audit__index_empty_root(uint8_t out[32], lsec_err *err)
{
	int rc = 0;
	uint8_t empty[LEVELS + 1][32];
	LSEC_TRY(empty_hashes(empty, err));
	memcpy(out, empty[LEVELS], 32);
out:
	return rc;
}

/* ---- one bucket, checked against a signed root ----------------------------- */

/* A bucket as read and checked: its entries and the siblings on its path. */
struct bucket {
	uint32_t no;
	lsec_store_index_entry *e;
	size_t n, cap;
	uint8_t sib[LEVELS][32]; /* sib[l]: the sibling of the node of level l on the path */
	bool dirty;
};

static int bucket_load(struct bucket *b, lsec_store *st, uint32_t no, const uint8_t root[32],
		       uint64_t size, const uint8_t empty[LEVELS + 1][32], lsec_err *err)
{
	int rc = 0;
	uint8_t h[32];
	bool found = false;
	memset(b, 0, sizeof(*b));
	b->no = no;
	LSEC_TRY(lsec_store_index_bucket(&b->e, &b->n, st, no, err));
	b->cap = b->n;
	LSEC_TRY(bucket_hash(h, b->e, b->n, err));
	for (unsigned l = 0; l < LEVELS; l++) {
		uint32_t idx = no >> l;
		LSEC_TRY(lsec_store_index_node_get(b->sib[l], &found, st, l, idx ^ 1u, err));
		if (!found) {
			memcpy(b->sib[l], empty[l], 32);
		}
		if ((idx & 1u) == 0) {
			LSEC_TRY(lsec_audit_node_hash(h, h, b->sib[l], err));
		} else {
			LSEC_TRY(lsec_audit_node_hash(h, b->sib[l], h, err));
		}
	}
	LSEC_ENSURE(lsec_ct_equal(h, root, 32), LSEC_E_AUDIT_INDEX,
		    "registry table audit_index holds bucket %u (or table audit_index_nodes its "
		    "path) unlike the signed index of the checkpoint of %llu leaves: the registry "
		    "was changed outside linesec",
		    (unsigned)no, (unsigned long long)size);
out:
	if (rc < 0) {
		lsec_free(b->e);
		b->e = NULL;
		b->n = 0;
	}
	return rc;
}

int lsec_audit__index_get(uint64_t *count_out, uint8_t head_out[32], lsec_store *st,
			  const uint8_t root[32], uint64_t size, const char *key, lsec_err *err)
{
	int rc = 0;
	uint8_t empty[LEVELS + 1][32];
	uint32_t no = 0;
	struct bucket b;
	memset(&b, 0, sizeof(b));
	*count_out = 0;
	memset(head_out, 0, 32);
	LSEC_TRY(empty_hashes(empty, err));
	LSEC_TRY(lsec_audit__index_bucket_of(&no, key, err));
	LSEC_TRY(bucket_load(&b, st, no, root, size, empty, err));
	for (size_t i = 0; i < b.n; i++) {
		if (strcmp(b.e[i].key, key) == 0) { /* lint:ok: public text */
			*count_out = b.e[i].count;
			memcpy(head_out, b.e[i].head, 32);
		}
	}
out:
	lsec_free(b.e);
	return rc;
}

/* ---- updating the index at a checkpoint --------------------------------------- */

struct lsec_audit__index {
	uint8_t root[32]; /* the trusted root every bucket is checked against */
	uint64_t size;    /* the checkpoint size it belongs to (for messages) */
	uint8_t empty[LEVELS + 1][32];
	uint32_t *pos; /* bucket number -> position in b + 1 (0: not loaded) */
	struct bucket *b;
	size_t n, cap;
};

int lsec_audit__index_new(lsec_audit__index **out, const uint8_t root[32], uint64_t size,
			  lsec_err *err)
{
	int rc = 0;
	lsec_audit__index *x = NULL;
	*out = NULL;
	LSEC_ENSURE((x = lsec_calloc(1, sizeof(*x))) != NULL &&
			    (x->pos = lsec_calloc(BUCKETS, sizeof(*x->pos))) != NULL,
		    LSEC_E_NOMEM, "cannot update the signed index: out of memory");
	memcpy(x->root, root, 32);
	x->size = size;
	LSEC_TRY(empty_hashes(x->empty, err));
	*out = x;
	x = NULL;
out:
	lsec_audit__index_free(x);
	return rc;
}

void lsec_audit__index_free(lsec_audit__index *x)
{
	if (x == NULL) {
		return;
	}
	for (size_t i = 0; i < x->n; i++) {
		lsec_free(x->b[i].e);
	}
	lsec_free(x->b);
	lsec_free(x->pos);
	lsec_free(x);
}

/* The checked bucket no, loaded on first use. */
static int bucket_get(struct bucket **out, lsec_audit__index *x, lsec_store *st, uint32_t no,
		      lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	if (x->pos[no] == 0) {
		if (x->n == x->cap) {
			size_t cap = x->cap ? 2 * x->cap : 64;
			struct bucket *nb = lsec_realloc(x->b, cap * sizeof(*nb));
			LSEC_ENSURE(nb != NULL, LSEC_E_NOMEM,
				    "cannot update the signed index: out of memory");
			x->b = nb;
			x->cap = cap;
		}
		LSEC_TRY(bucket_load(&x->b[x->n], st, no, x->root, x->size, x->empty, err));
		x->n++;
		x->pos[no] = (uint32_t)x->n;
	}
	*out = &x->b[x->pos[no] - 1];
out:
	return rc;
}

int lsec_audit__index_add(lsec_audit__index *x, lsec_store *st, const char *key, uint64_t seq,
			  const uint8_t hash[32], lsec_err *err)
{
	int rc = 0;
	uint32_t no = 0;
	struct bucket *b = NULL;
	lsec_store_index_entry *e = NULL;
	LSEC_TRY(lsec_audit__index_bucket_of(&no, key, err));
	LSEC_TRY(bucket_get(&b, x, st, no, err));
	for (size_t i = 0; i < b->n && e == NULL; i++) {
		if (strcmp(b->e[i].key, key) == 0) { /* lint:ok: public text */
			e = &b->e[i];
		}
	}
	if (e == NULL) {
		if (b->n == b->cap) {
			size_t cap = b->cap ? 2 * b->cap : 4;
			lsec_store_index_entry *ne = lsec_realloc(b->e, cap * sizeof(*ne));
			LSEC_ENSURE(ne != NULL, LSEC_E_NOMEM,
				    "cannot update the signed index: out of memory");
			b->e = ne;
			b->cap = cap;
		}
		e = &b->e[b->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, strlen(key) + 1);
	}
	LSEC_TRY(lsec_audit__index_chain(e->head, seq, hash, err));
	e->count++;
	b->dirty = true;
out:
	return rc;
}

int lsec_audit__index_key(char out[LSEC_STORE_INDEX_KEY_MAX + 1], const char *kind,
			  const char *name, size_t name_len)
{
	size_t kl = strlen(kind);
	if (name == NULL || name_len == 0 || kl + 1 + name_len > LSEC_STORE_INDEX_KEY_MAX ||
	    memchr(name, '\0', name_len) != NULL) {
		return -1;
	}
	memcpy(out, kind, kl);
	out[kl] = ':';
	memcpy(out + kl + 1, name, name_len);
	out[kl + 1 + name_len] = '\0';
	return 0;
}

/* Public names (actions, field values), not secrets. */
static bool is(const char *a, size_t alen, const char *b)
{
	return a != NULL && alen == strlen(b) && memcmp(a, b, alen) == 0; /* lint:ok: public text */
}

/*
 * The content keys of a unit.register or a first flash run.start leaf
 * (docs/audit-log.md, "The signed index"): "uid:<hex>", "release:<release>".
 */
static size_t content_keys(char (*keys)[LSEC_STORE_INDEX_KEY_MAX + 1], const json_t *j,
			   const char *action, size_t action_len)
{
	const json_t *ev = json_object_get(j, "evidence");
	const json_t *v = NULL;
	const char *kind = NULL;
	if (is(action, action_len, "unit.register")) {
		kind = "uid";
		v = json_object_get(ev, LSEC_EV_UID);
	} else if (is(action, action_len, "run.start") &&
		   json_is_true(json_object_get(ev, LSEC_EV_RELEASE_FIRST))) {
		kind = "release";
		v = json_object_get(ev, LSEC_EV_RELEASE);
	}
	if (kind == NULL || !json_is_string(v)) {
		return 0;
	}
	return lsec_audit__index_key(keys[0], kind, json_string_value(v), json_string_length(v)) == 0
		       ? 1
		       : 0;
}

size_t lsec_audit__index_leaf_keys(char keys[LSEC_AUDIT__INDEX_KEYS][LSEC_STORE_INDEX_KEY_MAX + 1],
				  const uint8_t *leaf, size_t len)
{
	lsec_audit__leaf_fields f;
	json_t *j = NULL;
	const char *unit = NULL, *action = NULL;
	size_t unit_len = 0, action_len = 0, n = 0;
	bool scanned = lsec_audit__leaf_scan(&f, leaf, len);
	if (scanned) {
		unit = (const char *)f.unit;
		unit_len = f.unit_len;
		action = (const char *)f.action;
		action_len = f.action_len;
	}
	if (!scanned || is(action, action_len, "unit.register") ||
	    is(action, action_len, "run.start")) {
		/* Escapes, evidence to read (or a malformed leaf, which the walk reports): whole. */
		j = json_loadb((const char *)leaf, len, JSON_REJECT_DUPLICATES, NULL);
	}
	if (!scanned) {
		unit = json_string_value(json_object_get(j, "unit"));
		unit_len = unit != NULL ? json_string_length(json_object_get(j, "unit")) : 0;
		action = json_string_value(json_object_get(j, "action"));
		action_len = action != NULL ? json_string_length(json_object_get(j, "action")) : 0;
	}
	/* A key too long to look up is never looked up: it needs no entry. */
	if (lsec_audit__index_key(keys[n], "unit", unit, unit_len) == 0) {
		n++;
	}
	if (lsec_audit__index_key(keys[n], "action", action, action_len) == 0) {
		n++;
	}
	if (j != NULL) {
		n += content_keys(&keys[n], j, action, action_len);
	}
	json_decref(j);
	return n;
}

/* One node of the partial tree rebuilt at commit. */
struct node {
	uint32_t idx;
	bool computed;
	uint8_t hash[32];
};

static int by_idx(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	if (x->idx != y->idx) {
		return x->idx < y->idx ? -1 : 1;
	}
	return (int)y->computed - (int)x->computed; /* a computed node first */
}

/* The hash of node idx in v[0..n) (sorted by by_idx), or NULL. */
static const uint8_t *node_find(const struct node *v, size_t n, uint32_t idx)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].idx < idx) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < n && v[lo].idx == idx ? v[lo].hash : NULL;
}

int lsec_audit__index_commit(uint8_t root_out[32], lsec_audit__index *x, lsec_store *st,
			     lsec_err *err)
{
	int rc = 0;
	struct node *cur = NULL, *up = NULL;
	size_t ncur = 0, nup = 0;
	memcpy(root_out, x->root, 32);
	if (x->n == 0) {
		goto out;
	}
	LSEC_ENSURE((cur = lsec_calloc(2 * x->n, sizeof(*cur))) != NULL &&
			    (up = lsec_calloc(2 * x->n, sizeof(*up))) != NULL,
		    LSEC_E_NOMEM, "cannot update the signed index: out of memory");
	/* Level 0: the touched buckets, rehashed and stored, with their siblings. */
	for (size_t i = 0; i < x->n; i++) {
		struct bucket *b = &x->b[i];
		for (size_t k = 0; b->dirty && k < b->n; k++) {
			LSEC_TRY(lsec_store_index_put(st, b->no, &b->e[k], err));
		}
		cur[ncur].idx = b->no;
		cur[ncur].computed = true;
		LSEC_TRY(bucket_hash(cur[ncur].hash, b->e, b->n, err));
		ncur++;
		cur[ncur].idx = b->no ^ 1u;
		memcpy(cur[ncur].hash, b->sib[0], 32);
		ncur++;
	}
	for (unsigned l = 0; l < LEVELS; l++) {
		qsort(cur, ncur, sizeof(*cur), by_idx);
		nup = 0;
		for (size_t i = 0; i < ncur; i++) {
			if (!cur[i].computed || (i > 0 && cur[i - 1].idx == cur[i].idx)) {
				continue;
			}
			LSEC_TRY(lsec_store_index_node_put(st, l, cur[i].idx, cur[i].hash, err));
			uint32_t parent = cur[i].idx >> 1;
			if (nup > 0 && up[nup - 1].idx == parent && up[nup - 1].computed) {
				continue;
			}
			const uint8_t *left = node_find(cur, ncur, parent << 1);
			const uint8_t *right = node_find(cur, ncur, (parent << 1) | 1u);
			LSEC_ENSURE(left != NULL && right != NULL, LSEC_E_INTERNAL,
				    "cannot update the signed index: node %u of level %u unknown",
				    (unsigned)parent, l);
			up[nup].idx = parent;
			up[nup].computed = true;
			LSEC_TRY(lsec_audit_node_hash(up[nup].hash, left, right, err));
			nup++;
		}
		/* The next level's siblings: from the paths checked at load. */
		for (size_t i = 0; l + 1 < LEVELS && i < x->n; i++) {
			up[nup].idx = (x->b[i].no >> (l + 1)) ^ 1u;
			up[nup].computed = false;
			memcpy(up[nup].hash, x->b[i].sib[l + 1], 32);
			nup++;
		}
		struct node *t = cur;
		cur = up;
		up = t;
		ncur = nup;
	}
	LSEC_ENSURE(ncur >= 1 && cur[0].idx == 0 && cur[0].computed, LSEC_E_INTERNAL,
		    "cannot update the signed index: no root");
	memcpy(root_out, cur[0].hash, 32);
out:
	lsec_free(cur);
	lsec_free(up);
	return rc;
}
