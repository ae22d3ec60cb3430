/*
 * merkle.c - RFC 6962 / RFC 9162 Merkle tree: hashing, the streaming compact
 * range, inclusion and consistency proofs.
 *
 * Proof generation walks the recursion of RFC 9162 sections 2.1.3.1 and
 * 2.1.4.1 top-down: each step splits the current range at the largest power
 * of two below its size and names one sibling subtree. The siblings are
 * disjoint, so each leaf hash is read at most once, and each subtree hash is
 * computed by streaming its leaves through a compact range.
 *
 * Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step.
 *
 * @test tests/unit/audit/test_merkle.c
 */
#include "audit/audit_int.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Frees a thread's digest context when the thread ends (see thread_ctx). */
static pthread_key_t ctx_key;

static void ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void sha256_fetch(void)
{
	/* Fetched once and kept for the life of the process: an implicit
	 * fetch per hash costs more than the hash of a 65-byte node. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	(void)pthread_key_create(&ctx_key, ctx_free);
}

/*
 * One digest context per thread, reused: verifying a log hashes two or three
 * short inputs per leaf, and allocating a context for each costs more than
 * hashing a 65-byte node. It lives as long as the thread: a thread that
 * ends (a gang-run socket) frees it through the key's destructor.
 */
static _Thread_local EVP_MD_CTX *thread_ctx;

int lsec_audit__hash(uint8_t out[32], uint8_t prefix, const uint8_t *a, size_t alen,
		     const uint8_t *b, size_t blen, lsec_err *err)
{
	int rc = 0;
	EVP_MD_CTX *ctx = NULL;
	unsigned int n = 0;
	pthread_once(&sha256_once, sha256_fetch);
	LSEC_TRY_OSSL_PTR(sha256_md, LSEC_E_CRYPTO, "cannot fetch SHA-256");
	if (thread_ctx == NULL) {
		LSEC_TRY_OSSL_PTR(thread_ctx = EVP_MD_CTX_new(), LSEC_E_NOMEM,
				  "cannot hash: out of memory");
		(void)pthread_setspecific(ctx_key, thread_ctx);
	}
	ctx = thread_ctx;
	LSEC_TRY_OSSL(EVP_DigestInit_ex2(ctx, sha256_md, NULL), LSEC_E_CRYPTO,
		      "cannot start SHA-256");
	LSEC_TRY_OSSL(EVP_DigestUpdate(ctx, &prefix, 1), LSEC_E_CRYPTO, "cannot hash");
	if (alen > 0) {
		LSEC_TRY_OSSL(EVP_DigestUpdate(ctx, a, alen), LSEC_E_CRYPTO, "cannot hash");
	}
	if (blen > 0) {
		LSEC_TRY_OSSL(EVP_DigestUpdate(ctx, b, blen), LSEC_E_CRYPTO, "cannot hash");
	}
	LSEC_TRY_OSSL(EVP_DigestFinal_ex(ctx, out, &n), LSEC_E_CRYPTO, "cannot finish SHA-256");
out:
	return rc;
}

int lsec_audit_leaf_hash(uint8_t out[32], const uint8_t *leaf, size_t len, lsec_err *err)
{
	return lsec_audit__hash(out, 0x00, leaf, len, NULL, 0, err);
}

int lsec_audit_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32],
			 lsec_err *err)
{
	/* Copy first: out may alias left or right. */
	uint8_t buf[64];
	memcpy(buf, left, 32);
	memcpy(buf + 32, right, 32);
	return lsec_audit__hash(out, 0x01, buf, sizeof(buf), NULL, 0, err);
}

/* ---- compact range ----------------------------------------------------- */

void lsec_audit_tree_init(lsec_audit_tree *t)
{
	memset(t, 0, sizeof(*t));
}

int lsec_audit__tree_append_nodes(lsec_audit_tree *t, const uint8_t leaf_hash[32],
				  lsec_audit__node_cb cb, void *ctx, lsec_err *err)
{
	int rc = 0;
	uint8_t h[32];
	unsigned level = 0;
	LSEC_ENSURE(t->size < UINT64_MAX, LSEC_E_LIMIT, "cannot append to the audit tree: full");
	memcpy(h, leaf_hash, 32);
	/* Each trailing one bit of the old size is a perfect subtree of the
	 * same height as the one being completed: merge it in. */
	for (uint64_t s = t->size; s & 1; s >>= 1) {
		LSEC_TRY(lsec_audit_node_hash(h, t->stack[--t->depth], h, err));
		level++;
		if (cb != NULL) {
			LSEC_TRY(cb(ctx, level, t->size >> level, h, err));
		}
	}
	memcpy(t->stack[t->depth++], h, 32);
	t->size++;
out:
	return rc;
}

int lsec_audit_tree_append(lsec_audit_tree *t, const uint8_t leaf_hash[32], lsec_err *err)
{
	return lsec_audit__tree_append_nodes(t, leaf_hash, NULL, NULL, err);
}

void lsec_audit__tree_encode(uint8_t *out, size_t *len_out, const lsec_audit_tree *t)
{
	for (unsigned i = 0; i < 8; i++) {
		out[i] = (uint8_t)(t->size >> (56 - 8 * i));
	}
	memcpy(out + 8, t->stack, 32 * (size_t)t->depth);
	*len_out = 8 + 32 * (size_t)t->depth;
}

int lsec_audit__tree_decode(lsec_audit_tree *out, const uint8_t *in, size_t len, lsec_err *err)
{
	int rc = 0;
	uint64_t size = 0;
	lsec_audit_tree_init(out);
	LSEC_ENSURE(len >= 8, LSEC_E_PARSE, "cannot read a compact range: %zu bytes", len);
	for (unsigned i = 0; i < 8; i++) {
		size = size << 8 | in[i];
	}
	/* One perfect subtree per one bit of the size, largest first. */
	unsigned depth = (unsigned)__builtin_popcountll(size);
	LSEC_ENSURE(len == 8 + 32 * (size_t)depth, LSEC_E_PARSE,
		    "cannot read a compact range of %llu leaves: %zu bytes, expected %zu",
		    (unsigned long long)size, len, 8 + 32 * (size_t)depth);
	out->size = size;
	out->depth = depth;
	memcpy(out->stack, in + 8, 32 * (size_t)depth);
out:
	return rc;
}

int lsec_audit_tree_root(uint8_t out[32], const lsec_audit_tree *t, lsec_err *err)
{
	int rc = 0;
	uint8_t r[32];
	if (t->depth == 0) {
		return lsec_sha256(out, "", 0, err);
	}
	/* MTH splits at the largest power of two, which is the largest
	 * subtree: fold from the smallest (rightmost) subtree up. */
	memcpy(r, t->stack[t->depth - 1], 32);
	for (unsigned i = t->depth - 1; i-- > 0;) {
		LSEC_TRY(lsec_audit_node_hash(r, t->stack[i], r, err));
	}
	memcpy(out, r, 32);
out:
	return rc;
}

/* ---- sources ----------------------------------------------------------- */

int lsec_audit_hashes_source(void *src, uint64_t from, uint64_t to, lsec_audit_hash_cb cb,
			     void *cb_ctx, lsec_err *err)
{
	int rc = 0;
	const lsec_audit_hashes *h = src;
	LSEC_ENSURE(from <= to && to <= h->n, LSEC_E_USAGE,
		    "cannot read leaves [%llu, %llu): the tree has %llu",
		    (unsigned long long)from, (unsigned long long)to, (unsigned long long)h->n);
	for (uint64_t i = from; i < to; i++) {
		LSEC_TRY(cb(cb_ctx, i, h->hashes + 32 * i, err));
	}
out:
	return rc;
}

struct range_walk {
	lsec_audit_tree tree;
	uint64_t next;
};

static int range_cb(void *ctx, uint64_t index, const uint8_t hash[32], lsec_err *err)
{
	int rc = 0;
	struct range_walk *w = ctx;
	LSEC_ENSURE(index == w->next, LSEC_E_INTERNAL,
		    "internal error: leaf source gave leaf %llu, expected %llu",
		    (unsigned long long)index, (unsigned long long)w->next);
	w->next++;
	LSEC_TRY(lsec_audit_tree_append(&w->tree, hash, err));
out:
	return rc;
}

/* MTH(D[from:to]): streams the leaves of the range through a compact range. */
static int subtree_hash(uint8_t out[32], uint64_t from, uint64_t to, lsec_audit_source src,
			void *src_ctx, lsec_err *err)
{
	int rc = 0;
	struct range_walk w;
	lsec_audit_tree_init(&w.tree);
	w.next = from;
	LSEC_TRY(src(src_ctx, from, to, range_cb, &w, err));
	LSEC_ENSURE(w.next == to, LSEC_E_NOTFOUND,
		    "cannot hash leaves [%llu, %llu): leaf %llu is missing",
		    (unsigned long long)from, (unsigned long long)to, (unsigned long long)w.next);
	LSEC_TRY(lsec_audit_tree_root(out, &w.tree, err));
out:
	return rc;
}

int lsec_audit_root(uint8_t out[32], uint64_t size, lsec_audit_source src, void *src_ctx,
		    lsec_err *err)
{
	return subtree_hash(out, 0, size, src, src_ctx, err);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/* Sibling ranges collected top-down; a tree of 2^64 leaves has depth 64. */
struct ranges {
	uint64_t from[65];
	uint64_t to[65];
	unsigned n;
};

static void ranges_push(struct ranges *r, uint64_t from, uint64_t to)
{
	r->from[r->n] = from;
	r->to[r->n] = to;
	r->n++;
}

/* Appends the hashes of r's ranges, deepest (last pushed) first. */
static int emit_reversed(lsec_buf *out, const struct ranges *r, lsec_audit_source src,
			 void *src_ctx, lsec_err *err)
{
	int rc = 0;
	uint8_t h[32];
	for (unsigned i = r->n; i-- > 0;) {
		LSEC_TRY(subtree_hash(h, r->from[i], r->to[i], src, src_ctx, err));
		LSEC_TRY(lsec_buf_append(out, h, 32, err));
	}
out:
	return rc;
}

/* The sibling ranges of leaf index's path, top-down (PATH of RFC 9162 2.1.3.1). */
static void inclusion_ranges(struct ranges *r, uint64_t index, uint64_t size)
{
	uint64_t lo = 0, hi = size;
	r->n = 0;
	/* PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, else
	 * PATH(m - k, D[k:n]) : MTH(D[0:k]). */
	while (hi - lo > 1) {
		uint64_t k = split_point(hi - lo);
		if (index - lo < k) {
			ranges_push(r, lo + k, hi);
			hi = lo + k;
		} else {
			ranges_push(r, lo, lo + k);
			lo += k;
		}
	}
}

struct node {
	uint64_t from, to;
	uint8_t hash[32];
};

static int node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	if (x->from != y->from) {
		return x->from < y->from ? -1 : 1;
	}
	return x->to < y->to ? -1 : x->to > y->to;
}

int lsec_audit__inclusion_prove_many(lsec_buf *paths, const uint64_t *idx, size_t k,
				     uint64_t size, lsec_audit_source src, void *src_ctx,
				     lsec_err *err)
{
	int rc = 0;
	struct ranges r;
	struct node *nodes = NULL;
	size_t n = 0;
	for (size_t i = 0; i < k; i++) {
		LSEC_ENSURE(idx[i] < size, LSEC_E_USAGE,
			    "cannot prove inclusion of leaf %llu: the tree has %llu leaves",
			    (unsigned long long)idx[i], (unsigned long long)size);
	}
	LSEC_ENSURE(k <= SIZE_MAX / (64 * sizeof(*nodes)), LSEC_E_LIMIT,
		    "cannot prove inclusion of %zu leaves at once", k);
	LSEC_ENSURE(k == 0 || (nodes = lsec_calloc(k * 64, sizeof(*nodes))) != NULL, LSEC_E_NOMEM,
		    "cannot prove inclusion: out of memory");
	/* Paths of nearby leaves share most of their siblings: hash each
	 * distinct subtree once, which reads about size * (log2(k) + 2) leaves
	 * instead of size * k. */
	for (size_t i = 0; i < k; i++) {
		inclusion_ranges(&r, idx[i], size);
		for (unsigned j = 0; j < r.n; j++) {
			nodes[n].from = r.from[j];
			nodes[n].to = r.to[j];
			n++;
		}
	}
	if (n > 0) {
		qsort(nodes, n, sizeof(*nodes), node_cmp);
	}
	size_t u = 0;
	for (size_t i = 0; i < n; i++) {
		if (u == 0 || node_cmp(&nodes[u - 1], &nodes[i]) != 0) {
			nodes[u++] = nodes[i];
		}
	}
	for (size_t i = 0; i < u; i++) {
		LSEC_TRY(subtree_hash(nodes[i].hash, nodes[i].from, nodes[i].to, src, src_ctx, err));
	}
	for (size_t i = 0; i < k; i++) {
		inclusion_ranges(&r, idx[i], size);
		for (unsigned j = r.n; j-- > 0;) {
			struct node key = {r.from[j], r.to[j], {0}};
			const struct node *hit = bsearch(&key, nodes, u, sizeof(*nodes), node_cmp);
			LSEC_ENSURE(hit != NULL, LSEC_E_INTERNAL, "internal error: subtree not hashed");
			LSEC_TRY(lsec_buf_append(&paths[i], hit->hash, 32, err));
		}
	}
out:
	lsec_free(nodes);
	return rc;
}

int lsec_audit_inclusion_prove(lsec_buf *path_out, uint64_t index, uint64_t size,
			       lsec_audit_source src, void *src_ctx, lsec_err *err)
{
	return lsec_audit__inclusion_prove_many(path_out, &index, 1, size, src, src_ctx, err);
}

/*
 * MTH(D[from:to]) from complete subtrees: an aligned power-of-two range is
 * one node, any other splits at its largest power of two (RFC 9162 2.1.1),
 * so a range costs O(log n) lookups.
 */
static int nodes_hash(uint8_t out[32], uint64_t from, uint64_t to, lsec_audit__node_fn node,
		      void *ctx, lsec_err *err)
{
	int rc = 0;
	uint64_t n = to - from;
	if ((n & (n - 1)) == 0 && from % n == 0) {
		unsigned level = (unsigned)__builtin_ctzll(n);
		return node(ctx, out, level, from >> level, err);
	}
	uint8_t l[32], r[32];
	uint64_t k = split_point(n);
	LSEC_TRY(nodes_hash(l, from, from + k, node, ctx, err));
	LSEC_TRY(nodes_hash(r, from + k, to, node, ctx, err));
	LSEC_TRY(lsec_audit_node_hash(out, l, r, err));
out:
	return rc;
}

int lsec_audit__inclusion_prove_nodes(lsec_buf *path_out, uint64_t index, uint64_t size,
				      lsec_audit__node_fn node, void *ctx, lsec_err *err)
{
	int rc = 0;
	struct ranges r;
	uint8_t h[32];
	LSEC_ENSURE(index < size, LSEC_E_USAGE,
		    "cannot prove inclusion of leaf %llu: the tree has %llu leaves",
		    (unsigned long long)index, (unsigned long long)size);
	inclusion_ranges(&r, index, size);
	for (unsigned i = r.n; i-- > 0;) {
		LSEC_TRY(nodes_hash(h, r.from[i], r.to[i], node, ctx, err));
		LSEC_TRY(lsec_buf_append(path_out, h, 32, err));
	}
out:
	return rc;
}

int lsec_audit_consistency_prove(lsec_buf *proof_out, uint64_t old_size, uint64_t new_size,
				 lsec_audit_source src, void *src_ctx, lsec_err *err)
{
	int rc = 0;
	struct ranges r = {.n = 0};
	uint64_t lo = 0, hi = new_size, m = old_size;
	bool whole = true; /* SUBPROOF's b: still on the left edge of the tree */
	uint8_t h[32];
	LSEC_ENSURE(old_size <= new_size, LSEC_E_USAGE,
		    "cannot prove consistency from %llu to %llu leaves: the old tree is larger",
		    (unsigned long long)old_size, (unsigned long long)new_size);
	if (old_size == 0 || old_size == new_size) {
		goto out; /* the empty proof */
	}
	/* SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) when
	 * m <= k, else SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]); at m = n
	 * it is {} when b, else {MTH(D[n])}. */
	while (m != hi - lo) {
		uint64_t k = split_point(hi - lo);
		if (m <= k) {
			ranges_push(&r, lo + k, hi);
			hi = lo + k;
		} else {
			ranges_push(&r, lo, lo + k);
			lo += k;
			m -= k;
			whole = false;
		}
	}
	if (!whole) {
		LSEC_TRY(subtree_hash(h, lo, hi, src, src_ctx, err));
		LSEC_TRY(lsec_buf_append(proof_out, h, 32, err));
	}
	LSEC_TRY(emit_reversed(proof_out, &r, src, src_ctx, err));
out:
	return rc;
}

/* ---- verification ------------------------------------------------------ */

static void shift_until_set(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int lsec_audit_inclusion_verify(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
				const uint8_t *path, size_t path_len, const uint8_t root[32],
				lsec_err *err)
{
	int rc = 0;
	uint8_t r[32];
	LSEC_ENSURE(path_len % 32 == 0, LSEC_E_AUDIT_PROOF,
		    "cannot verify inclusion of leaf %llu: path length %zu is not a multiple of 32",
		    (unsigned long long)index, path_len);
	LSEC_ENSURE(index < size, LSEC_E_AUDIT_PROOF,
		    "cannot verify inclusion of leaf %llu: the tree has %llu leaves",
		    (unsigned long long)index, (unsigned long long)size);
	uint64_t fn = index, sn = size - 1;
	memcpy(r, leaf_hash, 32);
	for (size_t i = 0; i < path_len / 32; i++) {
		const uint8_t *p = path + 32 * i;
		LSEC_ENSURE(sn != 0, LSEC_E_AUDIT_PROOF,
			    "cannot verify inclusion of leaf %llu: the path is too long",
			    (unsigned long long)index);
		if ((fn & 1) || fn == sn) {
			LSEC_TRY(lsec_audit_node_hash(r, p, r, err));
			shift_until_set(&fn, &sn);
		} else {
			LSEC_TRY(lsec_audit_node_hash(r, r, p, err));
		}
		fn >>= 1;
		sn >>= 1;
	}
	LSEC_ENSURE(sn == 0, LSEC_E_AUDIT_PROOF,
		    "cannot verify inclusion of leaf %llu: the path is too short",
		    (unsigned long long)index);
	LSEC_ENSURE(lsec_ct_equal(r, root, 32), LSEC_E_AUDIT_PROOF,
		    "cannot verify inclusion of leaf %llu in the tree of %llu leaves: the root differs",
		    (unsigned long long)index, (unsigned long long)size);
out:
	return rc;
}

int lsec_audit_consistency_verify(uint64_t old_size, uint64_t new_size, const uint8_t old_root[32],
				  const uint8_t new_root[32], const uint8_t *proof,
				  size_t proof_len, lsec_err *err)
{
	int rc = 0;
	uint8_t fr[32], sr[32];
	size_t n = proof_len / 32, i = 0;
	LSEC_ENSURE(proof_len % 32 == 0, LSEC_E_AUDIT_PROOF,
		    "cannot verify consistency: proof length %zu is not a multiple of 32",
		    proof_len);
	LSEC_ENSURE(old_size <= new_size, LSEC_E_AUDIT_PROOF,
		    "cannot verify consistency from %llu to %llu leaves: the log shrank",
		    (unsigned long long)old_size, (unsigned long long)new_size);
	if (old_size == new_size) {
		LSEC_ENSURE(n == 0 && lsec_ct_equal(old_root, new_root, 32), LSEC_E_AUDIT_PROOF,
			    "cannot verify consistency at %llu leaves: %s",
			    (unsigned long long)old_size,
			    n != 0 ? "the proof must be empty" : "the roots differ");
		goto out;
	}
	if (old_size == 0) {
		LSEC_ENSURE(n == 0, LSEC_E_AUDIT_PROOF,
			    "cannot verify consistency from the empty tree: the proof must be empty");
		goto out;
	}
	LSEC_ENSURE(n > 0, LSEC_E_AUDIT_PROOF,
		    "cannot verify consistency from %llu to %llu leaves: the proof is empty",
		    (unsigned long long)old_size, (unsigned long long)new_size);
	/* When old_size is a power of two, the old root is itself the first
	 * node of the path (RFC 9162 2.1.4.2 step 2). */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, 32);
	} else {
		memcpy(fr, proof, 32);
		i = 1;
	}
	memcpy(sr, fr, 32);
	uint64_t fn = old_size - 1, sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		const uint8_t *c = proof + 32 * i;
		LSEC_ENSURE(sn != 0, LSEC_E_AUDIT_PROOF,
			    "cannot verify consistency from %llu to %llu leaves: the proof is too long",
			    (unsigned long long)old_size, (unsigned long long)new_size);
		if ((fn & 1) || fn == sn) {
			LSEC_TRY(lsec_audit_node_hash(fr, c, fr, err));
			LSEC_TRY(lsec_audit_node_hash(sr, c, sr, err));
			shift_until_set(&fn, &sn);
		} else {
			LSEC_TRY(lsec_audit_node_hash(sr, sr, c, err));
		}
		fn >>= 1;
		sn >>= 1;
	}
	LSEC_ENSURE(sn == 0, LSEC_E_AUDIT_PROOF,
		    "cannot verify consistency from %llu to %llu leaves: the proof is too short",
		    (unsigned long long)old_size, (unsigned long long)new_size);
	LSEC_ENSURE(lsec_ct_equal(fr, old_root, 32) && lsec_ct_equal(sr, new_root, 32),
		    LSEC_E_AUDIT_PROOF,
		    "cannot verify consistency from %llu to %llu leaves: the %s root differs",
		    (unsigned long long)old_size, (unsigned long long)new_size,
		    lsec_ct_equal(fr, old_root, 32) ? "new" : "old");
out:
	return rc;
}

bool lsec_audit__parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 20 || (len > 1 && s[0] == '0')) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return false;
		}
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
