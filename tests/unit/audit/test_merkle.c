/*
 * RFC 6962 Merkle tree: the transparency-dev/merkle known answers (leaves,
 * roots for sizes 1..8, inclusion and consistency proofs), generated proofs
 * against a recursive reference, and the corruption matrix.
 */
#include "helpers/testutil.h"

#include "audit/audit_int.h"

#include <string.h>

/* Leaf inputs of the transparency-dev/merkle test vectors (hex). */
static const char *const vec_leaves[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

/* Root of the tree of the first n leaves, n = 0..8. */
static const char *const vec_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Known inclusion proofs: 0-based leaf index, tree size, path (hex). */
static const struct {
	uint64_t index, size;
	const char *path[3];
} vec_incl[] = {
	{0, 8,
	 {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8,
	 {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5,
	 {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{0, 1, {NULL}},
};

/* Known consistency proofs. */
static const struct {
	uint64_t m, n;
	const char *proof[3];
} vec_cons[] = {
	{1, 1, {NULL}},
	{1, 8,
	 {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{6, 8,
	 {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{2, 5,
	 {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{6, 7,
	 {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	  "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static void hex32(uint8_t out[32], const char *hex)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_hex_decode_fixed(out, 32, hex, "vector", &err), &err);
}

/* Decodes up to three hex hashes (NULL-terminated list) into out; returns the byte length. */
static size_t decode_path(uint8_t out[3 * 32], const char *const hex[3])
{
	size_t n = 0;
	while (n < 3 && hex[n] != NULL) {
		hex32(out + 32 * n, hex[n]);
		n++;
	}
	return 32 * n;
}

/* Leaf hashes of the eight vector leaves. */
static void vector_hashes(uint8_t h[8][32])
{
	lsec_err err = LSEC_ERR_INIT;
	for (int i = 0; i < 8; i++) {
		lsec_buf b = LSEC_BUF_INIT(64);
		assert_lsec_ok(lsec_hex_decode(&b, vec_leaves[i], strlen(vec_leaves[i]), "leaf", &err),
			       &err);
		assert_lsec_ok(lsec_audit_leaf_hash(h[i], b.data, b.len, &err), &err);
		lsec_buf_release(&b);
	}
}

static void test_audit_merkle__vector_roots_every_size(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t h[8][32], want[32], got[32];
	vector_hashes(h);
	lsec_audit_tree t;
	lsec_audit_tree_init(&t);
	for (uint64_t n = 0; n <= 8; n++) {
		hex32(want, vec_roots[n]);
		/* The streaming tree after n appends ... */
		assert_lsec_ok(lsec_audit_tree_root(got, &t, &err), &err);
		assert_memory_equal(got, want, 32);
		/* ... and the root read from a source. */
		lsec_audit_hashes src = {&h[0][0], 8};
		assert_lsec_ok(lsec_audit_root(got, n, lsec_audit_hashes_source, &src, &err), &err);
		assert_memory_equal(got, want, 32);
		if (n < 8) {
			assert_lsec_ok(lsec_audit_tree_append(&t, h[n], &err), &err);
		}
	}
	assert_int_equal(t.size, 8);
	assert_int_equal(t.depth, 1);
}

/* A reference MTH by the recursive definition, independent of the code under test. */
static void ref_mth(uint8_t out[32], const uint8_t (*h)[32], uint64_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	if (n == 1) {
		memcpy(out, h[0], 32);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < n) {
		k *= 2;
	}
	uint8_t l[32], r[32];
	ref_mth(l, h, k);
	ref_mth(r, h + k, n - k);
	assert_lsec_ok(lsec_audit_node_hash(out, l, r, &err), &err);
}

#define GEN_MAX 70

static void gen_hashes(uint8_t h[GEN_MAX][32])
{
	lsec_err err = LSEC_ERR_INIT;
	for (int i = 0; i < GEN_MAX; i++) {
		uint8_t leaf[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0xa5, 0x5a};
		assert_lsec_ok(lsec_audit_leaf_hash(h[i], leaf, (size_t)(i % 5), &err), &err);
		h[i][31] ^= (uint8_t)i; /* distinct even for equal short leaves */
	}
}

static void test_audit_merkle__roots_match_reference(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static uint8_t h[GEN_MAX][32];
	gen_hashes(h);
	lsec_audit_tree t;
	lsec_audit_tree_init(&t);
	for (uint64_t n = 1; n <= GEN_MAX; n++) {
		uint8_t want[32], got[32];
		assert_lsec_ok(lsec_audit_tree_append(&t, h[n - 1], &err), &err);
		ref_mth(want, (const uint8_t(*)[32])h, n);
		assert_lsec_ok(lsec_audit_tree_root(got, &t, &err), &err);
		assert_memory_equal(got, want, 32);
		/* The stack holds one subtree per set bit of the size. */
		assert_int_equal(t.depth, __builtin_popcountll(n));
	}
}

static void test_audit_merkle__known_inclusion_proofs(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t h[8][32], root[32];
	vector_hashes(h);
	lsec_audit_hashes src = {&h[0][0], 8};
	for (size_t v = 0; v < sizeof(vec_incl) / sizeof(vec_incl[0]); v++) {
		uint8_t want[3 * 32];
		size_t n = decode_path(want, vec_incl[v].path) / 32;
		lsec_buf path = LSEC_BUF_INIT(64 * 32);
		assert_lsec_ok(lsec_audit_inclusion_prove(&path, vec_incl[v].index, vec_incl[v].size,
							  lsec_audit_hashes_source, &src, &err),
			       &err);
		assert_int_equal(path.len, 32 * n);
		if (n > 0) {
			assert_memory_equal(path.data, want, 32 * n);
		}
		hex32(root, vec_roots[vec_incl[v].size]);
		assert_lsec_ok(lsec_audit_inclusion_verify(h[vec_incl[v].index], vec_incl[v].index,
							   vec_incl[v].size, want, 32 * n, root,
							   &err),
			       &err);
		lsec_buf_release(&path);
	}
}

static void test_audit_merkle__known_consistency_proofs(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t h[8][32], r1[32], r2[32];
	vector_hashes(h);
	lsec_audit_hashes src = {&h[0][0], 8};
	for (size_t v = 0; v < sizeof(vec_cons) / sizeof(vec_cons[0]); v++) {
		uint8_t want[3 * 32];
		size_t n = decode_path(want, vec_cons[v].proof) / 32;
		lsec_buf proof = LSEC_BUF_INIT(130 * 32);
		assert_lsec_ok(lsec_audit_consistency_prove(&proof, vec_cons[v].m, vec_cons[v].n,
							    lsec_audit_hashes_source, &src, &err),
			       &err);
		assert_int_equal(proof.len, 32 * n);
		if (n > 0) {
			assert_memory_equal(proof.data, want, 32 * n);
		}
		hex32(r1, vec_roots[vec_cons[v].m]);
		hex32(r2, vec_roots[vec_cons[v].n]);
		assert_lsec_ok(lsec_audit_consistency_verify(vec_cons[v].m, vec_cons[v].n, r1, r2,
							     want, 32 * n, &err),
			       &err);
		lsec_buf_release(&proof);
	}
}

/* ---- corruption matrix ------------------------------------------------- */

static const uint8_t some_hash[32] = {0xab, 0xac, 0xab, 0xa0, [25] = 0x60, 0x06, 0x1e, 0x00,
				      0x12, 0x34, 0x56};

/* memcpy that also takes an empty proof (NULL, 0). */
static void copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n > 0) {
		memcpy(dst, src, n);
	}
}

static void expect_bad_inclusion(const uint8_t *leaf, uint64_t index, uint64_t size,
				 const uint8_t *path, size_t len, const uint8_t *root,
				 const char *what)
{
	lsec_err err = LSEC_ERR_INIT;
	int rc = lsec_audit_inclusion_verify(leaf, index, size, path, len, root, &err);
	if (rc != LSEC_E_AUDIT_PROOF) {
		fail_msg("inclusion of %llu in %llu verified after %s (rc %d)",
			 (unsigned long long)index, (unsigned long long)size, what, rc);
	}
}

/* Every corruption of one valid inclusion proof must fail. */
static void corrupt_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
			      const uint8_t *path, size_t len, const uint8_t root[32])
{
	uint8_t buf[66 * 32], empty_root[32];
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_sha256(empty_root, "", 0, &err), &err);
	assert_lsec_ok(lsec_audit_inclusion_verify(leaf, index, size, path, len, root, &err), &err);
	expect_bad_inclusion(leaf, index - 1, size, path, len, root, "index - 1");
	expect_bad_inclusion(leaf, index + 1, size, path, len, root, "index + 1");
	expect_bad_inclusion(leaf, index ^ 2, size, path, len, root, "index ^ 2");
	expect_bad_inclusion(leaf, index, size * 2, path, len, root, "size * 2");
	expect_bad_inclusion(leaf, index, size / 2, path, len, root, "size / 2");
	expect_bad_inclusion(some_hash, index, size, path, len, root, "wrong leaf");
	expect_bad_inclusion(leaf, index, size, path, len, empty_root, "empty root");
	expect_bad_inclusion(leaf, index, size, path, len, some_hash, "random root");
	/* Extended at the end or the front, with the root or a random hash. */
	copy(buf, path, len);
	memcpy(buf + len, root, 32);
	expect_bad_inclusion(leaf, index, size, buf, len + 32, root, "trailing root");
	memcpy(buf + len, some_hash, 32);
	expect_bad_inclusion(leaf, index, size, buf, len + 32, root, "trailing hash");
	memcpy(buf, root, 32);
	copy(buf + 32, path, len);
	expect_bad_inclusion(leaf, index, size, buf, len + 32, root, "preceding root");
	/* Not a whole number of hashes. */
	copy(buf, path, len);
	buf[len] = 0;
	expect_bad_inclusion(leaf, index, size, buf, len + 1, root, "trailing byte");
	if (len > 0) {
		expect_bad_inclusion(leaf, index, size, path, len - 32, root, "truncated");
		expect_bad_inclusion(leaf, index, size, path, 0, root, "empty proof");
		memcpy(buf, path, 32);
		memcpy(buf + 32, some_hash, 32);
		memcpy(buf + 64, path + 32, len - 32);
		expect_bad_inclusion(leaf, index, size, buf, len + 32, root, "inserted hash");
	}
	/* Every single-bit flip of every path element. */
	for (size_t bit = 0; bit < len * 8; bit++) {
		copy(buf, path, len);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_bad_inclusion(leaf, index, size, buf, len, root, "bit flip");
	}
}

static void expect_bad_consistency(uint64_t m, uint64_t n, const uint8_t *r1, const uint8_t *r2,
				   const uint8_t *proof, size_t len, const char *what)
{
	lsec_err err = LSEC_ERR_INIT;
	int rc = lsec_audit_consistency_verify(m, n, r1, r2, proof, len, &err);
	if (rc != LSEC_E_AUDIT_PROOF) {
		fail_msg("consistency %llu -> %llu verified after %s (rc %d)", (unsigned long long)m,
			 (unsigned long long)n, what, rc);
	}
}

/* Every corruption of one valid, non-empty consistency proof must fail. */
static void corrupt_consistency(uint64_t m, uint64_t n, const uint8_t r1[32],
				const uint8_t r2[32], const uint8_t *proof, size_t len)
{
	uint8_t buf[130 * 32];
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_audit_consistency_verify(m, n, r1, r2, proof, len, &err), &err);
	assert_true(len > 0);
	expect_bad_consistency(m - 1, n, r1, r2, proof, len, "old size - 1");
	expect_bad_consistency(m + 1, n, r1, r2, proof, len, "old size + 1");
	expect_bad_consistency(m ^ 2, n, r1, r2, proof, len, "old size ^ 2");
	expect_bad_consistency(m, n * 2, r1, r2, proof, len, "new size * 2");
	expect_bad_consistency(m, n / 2, r1, r2, proof, len, "new size / 2");
	expect_bad_consistency(m, n, some_hash, r2, proof, len, "wrong old root");
	expect_bad_consistency(m, n, r1, some_hash, proof, len, "wrong new root");
	expect_bad_consistency(m, n, r2, r1, proof, len, "swapped roots");
	expect_bad_consistency(m, n, r1, r2, proof, 0, "empty proof");
	expect_bad_consistency(m, n, r1, r2, proof, len - 32, "truncated");
	const uint8_t *extra[] = {r1, r2, some_hash, proof};
	for (size_t e = 0; e < 4; e++) {
		copy(buf, proof, len);
		memcpy(buf + len, extra[e], 32);
		expect_bad_consistency(m, n, r1, r2, buf, len + 32, "trailing hash");
		memcpy(buf, extra[e], 32);
		copy(buf + 32, proof, len);
		expect_bad_consistency(m, n, r1, r2, buf, len + 32, "preceding hash");
	}
	copy(buf, proof, len);
	buf[len] = 0;
	expect_bad_consistency(m, n, r1, r2, buf, len + 1, "trailing byte");
	for (size_t bit = 0; bit < len * 8; bit++) {
		copy(buf, proof, len);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_bad_consistency(m, n, r1, r2, buf, len, "bit flip");
	}
}

static void test_audit_merkle__corruption_matrix_vectors(void **state)
{
	(void)state;
	uint8_t h[8][32], root[32], r1[32], r2[32], path[3 * 32];
	vector_hashes(h);
	for (size_t v = 0; v < sizeof(vec_incl) / sizeof(vec_incl[0]); v++) {
		size_t n = decode_path(path, vec_incl[v].path) / 32;
		hex32(root, vec_roots[vec_incl[v].size]);
		corrupt_inclusion(h[vec_incl[v].index], vec_incl[v].index, vec_incl[v].size, path,
				  32 * n, root);
	}
	for (size_t v = 0; v < sizeof(vec_cons) / sizeof(vec_cons[0]); v++) {
		size_t n = decode_path(path, vec_cons[v].proof) / 32;
		if (n == 0) {
			continue;
		}
		hex32(r1, vec_roots[vec_cons[v].m]);
		hex32(r2, vec_roots[vec_cons[v].n]);
		corrupt_consistency(vec_cons[v].m, vec_cons[v].n, r1, r2, path, 32 * n);
	}
}

/* Every proof of every tree up to 20 leaves verifies, and every corruption fails. */
static void test_audit_merkle__generated_proofs_and_corruptions(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static uint8_t h[GEN_MAX][32];
	gen_hashes(h);
	lsec_audit_hashes src = {&h[0][0], GEN_MAX};
	uint8_t roots[21][32];
	assert_lsec_ok(lsec_sha256(roots[0], "", 0, &err), &err);
	for (uint64_t n = 1; n <= 20; n++) {
		ref_mth(roots[n], (const uint8_t(*)[32])h, n);
	}
	for (uint64_t n = 1; n <= 20; n++) {
		for (uint64_t i = 0; i < n; i++) {
			lsec_buf path = LSEC_BUF_INIT(64 * 32);
			assert_lsec_ok(lsec_audit_inclusion_prove(&path, i, n, lsec_audit_hashes_source,
								  &src, &err),
				       &err);
			corrupt_inclusion(h[i], i, n, path.data, path.len, roots[n]);
			lsec_buf_release(&path);
		}
		for (uint64_t m = 0; m <= n; m++) {
			lsec_buf proof = LSEC_BUF_INIT(130 * 32);
			assert_lsec_ok(lsec_audit_consistency_prove(&proof, m, n,
								    lsec_audit_hashes_source, &src,
								    &err),
				       &err);
			if (m == 0 || m == n) {
				assert_int_equal(proof.len, 0);
				assert_lsec_ok(lsec_audit_consistency_verify(m, n, roots[m], roots[n],
									     NULL, 0, &err),
					       &err);
			} else {
				corrupt_consistency(m, n, roots[m], roots[n], proof.data, proof.len);
			}
			lsec_buf_release(&proof);
		}
	}
}

/* Many paths at once equal the paths one at a time, and read fewer leaves. */
struct counting {
	lsec_audit_hashes h;
	uint64_t reads;
};

static int counting_source(void *src, uint64_t from, uint64_t to, lsec_audit_hash_cb cb,
			   void *cb_ctx, lsec_err *err)
{
	struct counting *c = src;
	c->reads += to - from;
	return lsec_audit_hashes_source(&c->h, from, to, cb, cb_ctx, err);
}

static void test_audit_merkle__prove_many_matches_single(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static uint8_t h[GEN_MAX][32];
	gen_hashes(h);
	const uint64_t idx[] = {0, 1, 5, 17, 18, 40, 63, 64, 68, 69};
	const size_t k = sizeof(idx) / sizeof(idx[0]);
	struct counting many = {{&h[0][0], GEN_MAX}, 0}, single = {{&h[0][0], GEN_MAX}, 0};
	lsec_buf paths[10];
	for (size_t i = 0; i < k; i++) {
		lsec_buf_init(&paths[i], 64 * 32);
	}
	assert_lsec_ok(lsec_audit__inclusion_prove_many(paths, idx, k, GEN_MAX, counting_source,
							&many, &err),
		       &err);
	for (size_t i = 0; i < k; i++) {
		lsec_buf one = LSEC_BUF_INIT(64 * 32);
		assert_lsec_ok(lsec_audit_inclusion_prove(&one, idx[i], GEN_MAX, counting_source,
							  &single, &err),
			       &err);
		assert_int_equal(one.len, paths[i].len);
		assert_memory_equal(one.data, paths[i].data, one.len);
		lsec_buf_release(&one);
		lsec_buf_release(&paths[i]);
	}
	assert_true(many.reads * 2 < single.reads);
	/* Any index out of the tree refuses the whole call. */
	const uint64_t bad[] = {3, GEN_MAX};
	lsec_buf two[2] = {LSEC_BUF_INIT(64 * 32), LSEC_BUF_INIT(64 * 32)};
	assert_lsec_code(lsec_audit__inclusion_prove_many(two, bad, 2, GEN_MAX, counting_source,
							  &many, &err),
			 LSEC_E_USAGE, &err);
	assert_int_equal(two[0].len, 0);
}

/* Subtrees of level >= 1 as the appends hand them over, indexed [level][index]. */
struct kept {
	uint8_t h[8][GEN_MAX][32];
	bool have[8][GEN_MAX];
	uint64_t lookups;
};

static int keep_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32],
		     lsec_err *err)
{
	struct kept *k = ctx;
	(void)err;
	assert_true(level >= 1 && level < 8 && index < GEN_MAX);
	assert_false(k->have[level][index]); /* each subtree completes once */
	memcpy(k->h[level][index], hash, 32);
	k->have[level][index] = true;
	return 0;
}

struct kept_src {
	struct kept *k;
	const uint8_t (*leaves)[32];
	uint64_t size; /* leaves appended so far: no node past them is asked for */
};

static int kept_node(void *ctx, uint8_t out[32], unsigned level, uint64_t index, lsec_err *err)
{
	struct kept_src *s = ctx;
	s->k->lookups++;
	assert_true((index + 1) << level <= s->size);
	if (level == 0) {
		memcpy(out, s->leaves[index], 32);
		return 0;
	}
	if (!s->k->have[level][index]) {
		return lsec_err_set(err, LSEC_E_NOTFOUND, __FILE__, __LINE__, "no node");
	}
	memcpy(out, s->k->h[level][index], 32);
	return 0;
}

/*
 * Paths from kept subtrees equal the streamed ones for every index of
 * every size 1..GEN_MAX, the subtrees being those appends report as the
 * tree grows (so a path never needs one not completed yet).
 */
static void test_audit_merkle__prove_from_nodes_matches_streaming(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static uint8_t h[GEN_MAX][32];
	static struct kept k;
	gen_hashes(h);
	memset(&k, 0, sizeof(k));
	lsec_audit_tree t;
	lsec_audit_tree_init(&t);
	for (uint64_t size = 1; size <= GEN_MAX; size++) {
		assert_lsec_ok(lsec_audit__tree_append_nodes(&t, h[size - 1], keep_node, &k, &err),
			       &err);
		struct kept_src src = {&k, (const uint8_t(*)[32])h, size};
		lsec_audit_hashes hs = {&h[0][0], size};
		for (uint64_t i = 0; i < size; i++) {
			lsec_buf a = LSEC_BUF_INIT(64 * 32), b = LSEC_BUF_INIT(64 * 32);
			k.lookups = 0;
			assert_lsec_ok(lsec_audit__inclusion_prove_nodes(&a, i, size, kept_node, &src,
									 &err),
				       &err);
			/* O(log^2 n) lookups: at most 7 * 7 here. */
			assert_true(k.lookups <= 49);
			assert_lsec_ok(lsec_audit_inclusion_prove(&b, i, size, lsec_audit_hashes_source,
								  &hs, &err),
				       &err);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.data, b.data, a.len);
			lsec_buf_release(&a);
			lsec_buf_release(&b);
		}
	}
	/* A node that was never kept stops the proof; an index past the tree is refused. */
	struct kept_src src = {&k, (const uint8_t(*)[32])h, GEN_MAX};
	lsec_buf a = LSEC_BUF_INIT(64 * 32);
	k.have[2][0] = false; /* leaves [0, 4): a sibling on leaf 5's path */
	assert_lsec_code(lsec_audit__inclusion_prove_nodes(&a, 5, GEN_MAX, kept_node, &src, &err),
			 LSEC_E_NOTFOUND, &err);
	assert_lsec_code(lsec_audit__inclusion_prove_nodes(&a, GEN_MAX, GEN_MAX, kept_node, &src,
							   &err),
			 LSEC_E_USAGE, &err);
	lsec_buf_release(&a);
}

/* A compact range survives its encoding; a length that does not fit its size is refused. */
static void test_audit_merkle__range_encoding(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static uint8_t h[GEN_MAX][32];
	uint8_t enc[LSEC_AUDIT__RANGE_MAX], r1[32], r2[32];
	size_t len = 0;
	gen_hashes(h);
	lsec_audit_tree t, back;
	lsec_audit_tree_init(&t);
	for (uint64_t size = 0; size <= GEN_MAX; size++) {
		lsec_audit__tree_encode(enc, &len, &t);
		assert_int_equal(len, 8 + 32 * (size_t)__builtin_popcountll(size));
		assert_lsec_ok(lsec_audit__tree_decode(&back, enc, len, &err), &err);
		assert_int_equal(back.size, size);
		assert_lsec_ok(lsec_audit_tree_root(r1, &t, &err), &err);
		assert_lsec_ok(lsec_audit_tree_root(r2, &back, &err), &err);
		assert_memory_equal(r1, r2, 32);
		if (size < GEN_MAX) {
			assert_lsec_ok(lsec_audit_tree_append(&t, h[size], &err), &err);
		}
	}
	lsec_audit__tree_encode(enc, &len, &t);
	assert_lsec_code(lsec_audit__tree_decode(&back, enc, len - 1, &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_audit__tree_decode(&back, enc, 7, &err), LSEC_E_PARSE, &err);
	enc[7] ^= 1; /* 71 leaves need four hashes, not three */
	assert_lsec_code(lsec_audit__tree_decode(&back, enc, len, &err), LSEC_E_PARSE, &err);
}

/* The edge cases RFC 9162 leaves to the verifier. */
static void test_audit_merkle__trivial_and_refused_cases(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t empty[32], a[32], b[32];
	assert_lsec_ok(lsec_sha256(empty, "", 0, &err), &err);
	memset(a, 1, 32);
	memset(b, 2, 32);
	/* Empty tree: nothing is included. */
	assert_lsec_code(lsec_audit_inclusion_verify(a, 0, 0, NULL, 0, empty, &err),
			 LSEC_E_AUDIT_PROOF, &err);
	/* One leaf: the root is the leaf hash, the path empty. */
	assert_lsec_ok(lsec_audit_inclusion_verify(a, 0, 1, NULL, 0, a, &err), &err);
	assert_lsec_code(lsec_audit_inclusion_verify(a, 1, 1, NULL, 0, a, &err),
			 LSEC_E_AUDIT_PROOF, &err);
	/* Always consistent: 0 -> n, equal trees. */
	assert_lsec_ok(lsec_audit_consistency_verify(0, 0, a, a, NULL, 0, &err), &err);
	assert_lsec_ok(lsec_audit_consistency_verify(0, 5, a, b, NULL, 0, &err), &err);
	assert_lsec_ok(lsec_audit_consistency_verify(3, 3, b, b, NULL, 0, &err), &err);
	/* Equal sizes, different roots: a fork. */
	assert_lsec_code(lsec_audit_consistency_verify(3, 3, a, b, NULL, 0, &err),
			 LSEC_E_AUDIT_PROOF, &err);
	/* A non-empty proof where none is needed. */
	assert_lsec_code(lsec_audit_consistency_verify(0, 1, empty, empty, empty, 32, &err),
			 LSEC_E_AUDIT_PROOF, &err);
	assert_lsec_code(lsec_audit_consistency_verify(1, 1, a, a, empty, 32, &err),
			 LSEC_E_AUDIT_PROOF, &err);
	/* The log shrank. */
	assert_lsec_code(lsec_audit_consistency_verify(2, 1, a, b, NULL, 0, &err),
			 LSEC_E_AUDIT_PROOF, &err);
	/* Proof generation refuses what cannot be proved. */
	lsec_audit_hashes src = {a, 1};
	lsec_buf out = LSEC_BUF_INIT(1024);
	assert_lsec_code(lsec_audit_inclusion_prove(&out, 1, 1, lsec_audit_hashes_source, &src, &err),
			 LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_audit_consistency_prove(&out, 2, 1, lsec_audit_hashes_source, &src,
						      &err),
			 LSEC_E_USAGE, &err);
	/* A source shorter than the tree it is asked for. */
	assert_lsec_code(lsec_audit_inclusion_prove(&out, 0, 4, lsec_audit_hashes_source, &src, &err),
			 LSEC_E_USAGE, &err);
	lsec_buf_release(&out);
}

static void test_audit_merkle__parse_u64_strict(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_true(lsec_audit__parse_u64("0", 1, &v));
	assert_int_equal(v, 0);
	assert_true(lsec_audit__parse_u64("18446744073709551615", 20, &v));
	assert_true(v == UINT64_MAX);
	assert_false(lsec_audit__parse_u64("18446744073709551616", 20, &v));
	assert_false(lsec_audit__parse_u64("01", 2, &v));
	assert_false(lsec_audit__parse_u64("", 0, &v));
	assert_false(lsec_audit__parse_u64("+1", 2, &v));
	assert_false(lsec_audit__parse_u64("1 ", 2, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_merkle__vector_roots_every_size),
		cmocka_unit_test(test_audit_merkle__roots_match_reference),
		cmocka_unit_test(test_audit_merkle__known_inclusion_proofs),
		cmocka_unit_test(test_audit_merkle__known_consistency_proofs),
		cmocka_unit_test(test_audit_merkle__corruption_matrix_vectors),
		cmocka_unit_test(test_audit_merkle__generated_proofs_and_corruptions),
		cmocka_unit_test(test_audit_merkle__prove_many_matches_single),
		cmocka_unit_test(test_audit_merkle__prove_from_nodes_matches_streaming),
		cmocka_unit_test(test_audit_merkle__range_encoding),
		cmocka_unit_test(test_audit_merkle__trivial_and_refused_cases),
		cmocka_unit_test(test_audit_merkle__parse_u64_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
