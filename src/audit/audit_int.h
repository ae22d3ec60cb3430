/*
 * audit_int.h - internals of the audit module, shared between its files.
 * Nothing outside src/audit includes this header (the unit tests do).
 */
#ifndef LINESEC_AUDIT_INT_H
#define LINESEC_AUDIT_INT_H

#include "linesec/audit.h"

/*
 * SHA-256(prefix || a || b) with a digest fetched once per process.
 * b may be NULL (blen 0). Fails only when OpenSSL does (LSEC_E_CRYPTO).
 */
int lsec_audit__hash(uint8_t out[32], uint8_t prefix, const uint8_t *a, size_t alen,
		     const uint8_t *b, size_t blen, lsec_err *err);

/* Decimal uint64 without sign, spaces or leading zeros ("0" itself is fine). */
bool lsec_audit__parse_u64(const char *s, size_t len, uint64_t *out);

/*
 * Inclusion paths of k leaves of one tree, appended to paths[0..k) (each an
 * initialised lsec_buf). Each distinct sibling subtree is hashed once, so
 * proving k leaves reads about size * (log2(k) + 2) leaf hashes, not
 * size * k. LSEC_E_USAGE for an index >= size.
 */
int lsec_audit__inclusion_prove_many(lsec_buf *paths, const uint64_t *idx, size_t k,
				     uint64_t size, lsec_audit_source src, void *src_ctx,
				     lsec_err *err);

/* Called with each complete subtree (2^level leaves from index * 2^level) and its hash. */
typedef int (*lsec_audit__node_cb)(void *ctx, unsigned level, uint64_t index,
				   const uint8_t hash[32], lsec_err *err);
/*
 * lsec_audit_tree_append that also hands cb (when not NULL) every subtree
 * of level >= 1 the leaf completes, lowest first. After an error the tree
 * is half-updated and must be dropped. LSEC_E_LIMIT, LSEC_E_CRYPTO or cb's
 * code.
 */
int lsec_audit__tree_append_nodes(lsec_audit_tree *t, const uint8_t leaf_hash[32],
				  lsec_audit__node_cb cb, void *ctx, lsec_err *err);
/* Largest encoding of a compact range: its size and 64 hashes. */
#define LSEC_AUDIT__RANGE_MAX (8 + 64 * 32)
/*
 * A compact range as bytes (at most LSEC_AUDIT__RANGE_MAX): its size as
 * 8 big-endian bytes, then its subtree hashes, largest first.
 */
void lsec_audit__tree_encode(uint8_t *out, size_t *len_out, const lsec_audit_tree *t);
/* The inverse; LSEC_E_PARSE when the length does not fit the size. */
int lsec_audit__tree_decode(lsec_audit_tree *out, const uint8_t *in, size_t len, lsec_err *err);
/*
 * Where lsec_audit__inclusion_prove_nodes reads the hash of the complete
 * subtree of 2^level leaves from leaf index * 2^level (level 0: a leaf
 * hash). An error (LSEC_E_NOTFOUND for a node not kept) stops the proof.
 */
typedef int (*lsec_audit__node_fn)(void *ctx, uint8_t out[32], unsigned level, uint64_t index,
				   lsec_err *err);
/*
 * The inclusion path of leaf index in a tree of size leaves, appended to
 * path_out, from O(log^2 size) node lookups instead of reading the leaves:
 * the same path lsec_audit_inclusion_prove gives when the nodes are right.
 * LSEC_E_USAGE for index >= size; node's errors.
 * @test tests/unit/audit/test_merkle.c (against the streamed paths, sizes 1..70)
 */
int lsec_audit__inclusion_prove_nodes(lsec_buf *path_out, uint64_t index, uint64_t size,
				      lsec_audit__node_fn node, void *ctx, lsec_err *err);

/* What lsec_audit__leaf_scan reads of a leaf. */
typedef struct lsec_audit__leaf_fields {
	uint64_t seq;
	bool checkpoint;     /* "action" is "checkpoint" */
	const uint8_t *unit; /* the "unit" string's bytes inside the leaf, or NULL */
	size_t unit_len;
	const uint8_t *action; /* the "action" string's bytes inside the leaf, or NULL */
	size_t action_len;
} lsec_audit__leaf_fields;

/*
 * Reads a leaf's top-level "seq" (a non-negative integer), its "action"
 * (and whether it is "checkpoint") and its "unit", without a JSON tree.
 * Returns false when the leaf is not one well-formed object with a "seq",
 * or its unit or action holds an escape (the caller then parses it fully
 * and reports why).
 */
bool lsec_audit__leaf_scan(lsec_audit__leaf_fields *out, const uint8_t *leaf, size_t len);
/*
 * Whether the registry's unit column (NULL or "": none) names the unit the
 * leaf names (named, named_len bytes; NULL: none); else LSEC_E_AUDIT_INDEX
 * naming the table, the leaf and both units. The one comparison behind
 * lsec_audit_verify and lsec_audit_leaf_check_unit.
 */
int lsec_audit__unit_check(uint64_t seq, const char *column, const char *named, size_t named_len,
			   lsec_err *err);
/*
 * Whether the registry's action column (NULL or "": none) is the lookup
 * hint the store files the leaf under when it names action named
 * (named_len bytes; NULL: none): the action itself, or none when it is
 * longer than LSEC_STORE_NAME_MAX or holds a character JSON escapes. Else
 * LSEC_E_AUDIT_INDEX naming the table, the leaf and both actions.
 */
int lsec_audit__action_check(uint64_t seq, const char *column, const char *named,
			     size_t named_len, lsec_err *err);

/* True when an evidence key is named like a secret (password, secret, pin...). */
bool lsec_audit__secret_key(const char *key);

struct evp_pkey_st;
/*
 * Signs a note's text (lines ending in newlines) with an Ed25519 key under
 * key_name; *note_out (lsec_free) is the text, a blank line and the
 * signature line. LSEC_E_USAGE for a bad name, key or text.
 */
int lsec_audit__note_sign(char **note_out, const char *text, size_t len, const char *key_name,
			  const struct evp_pkey_st *key, lsec_err *err);
/*
 * Verifies a signed note of any text (at most 64 lines) under pub; *text_len_out
 * is the length of the signed text. LSEC_E_AUDIT_NOTE or LSEC_E_AUDIT_SIGNATURE.
 */
int lsec_audit__note_verify(size_t *text_len_out, const char *note, size_t len,
			    const char *key_name, const struct evp_pkey_st *pub, lsec_err *err);

/* ---- leaf signatures (sign.c) --------------------------------------------- */

#define LSEC_AUDIT__SPANS 8 /* trusted, distrusted and trusted again: at most 8 times */

/* One trusted station key; id is its signed-note key id once known. */
typedef struct lsec_audit__key {
	struct evp_pkey_st *pub; /* an owned reference */
	uint8_t id[4];
	bool id_known;
	/*
	 * The leaves a key from the log verifies: those of its spans (from <= seq, and
	 * seq < until when bounded: distrusted at leaf until). No span: every leaf (a key
	 * given by the caller). The first span starts at 0 (a station's leaves before it was
	 * trusted stay readable); one trusted again starts at the leaf trusting it again.
	 */
	struct {
		uint64_t from, until;
		bool bounded;
	} span[LSEC_AUDIT__SPANS];
	size_t nspan;
	uint64_t since; /* the leaf trusting it: the first whose change of trust it may sign */
	size_t by;      /* the entry whose key signed that leaf (SIZE_MAX: none) */
} lsec_audit__key;

/* Whether k verifies leaf seq (its spans). */
bool lsec_audit__key_live(const lsec_audit__key *k, uint64_t seq);
/*
 * Whether k's signature on a checkpoint of size leaves counts: k is live at
 * size (the checkpoint's own leaf) and was trusted at or before it.
 */
bool lsec_audit__key_checkpoints(const lsec_audit__key *k, uint64_t size);

/*
 * The station keys leaf signatures are checked against. A key added with
 * its name has its key id at once; one added without (a station.pub file
 * holds no names) learns it from the first leaf it verifies, so each leaf
 * costs one signature check whatever the number of keys.
 */
typedef struct lsec_audit__keyring {
	lsec_audit__key k[LSEC_AUDIT_MAX_KEYS + 1];
	size_t n;
} lsec_audit__keyring;

/*
 * Gives each key of kr that the signer attached to st also trusts the bound
 * the log set on it (a station distrusted at a leaf): a verification with
 * keys given as a list honours the log's distrust too.
 */
void lsec_audit__keyring_bounds(lsec_audit__keyring *kr, lsec_store *st);

/*
 * Adds pub (Ed25519; a reference is taken) under key_name (NULL: unknown).
 * LSEC_E_USAGE for another key type, LSEC_E_LIMIT past the ring's size.
 */
int lsec_audit__keyring_add(lsec_audit__keyring *kr, const char *key_name,
			    const struct evp_pkey_st *pub, lsec_err *err);
void lsec_audit__keyring_release(lsec_audit__keyring *kr);
/*
 * Checks the stored signature of leaf seq of the log origin with hash hash.
 * LSEC_E_AUDIT_LEAF_SIGNATURE naming the leaf when it is unsigned, malformed,
 * by no key of kr, or does not verify over this origin, seq and hash.
 */
int lsec_audit__leaf_sig_check(lsec_audit__keyring *kr, const char *origin, uint64_t seq,
			       const uint8_t hash[32], const uint8_t *sig, size_t sig_len,
			       lsec_err *err);
/*
 * The signature of leaf seq (hash) by s: key id || Ed25519 signature.
 * LSEC_E_AUDIT_NO_SIGNER for a verifier, LSEC_E_CRYPTO.
 */
int lsec_audit__leaf_sign(uint8_t out[LSEC_AUDIT_LEAF_SIG_LEN], const lsec_audit_signer *s,
			  uint64_t seq, const uint8_t hash[32], lsec_err *err);
/*
 * Leaf seq as the registry holds it, checked: its bytes against its stored
 * hash (LSEC_E_AUDIT_LEAF_HASH), its signature when signer is not NULL
 * (LSEC_E_AUDIT_LEAF_SIGNATURE; NULL: the caller judges it, from sig_out),
 * its unit when unit is not NULL, parsed as a JSON object
 * (LSEC_E_AUDIT_LEAF_FORMAT) that names position seq (LSEC_E_AUDIT_LEAF_HASH).
 * *out: the leaf (json_decref), hash_out its hash, sig_out (may be NULL)
 * gets its stored signature appended. Errors of the store as well.
 */
int lsec_audit__leaf_load(struct json_t **out, uint8_t hash_out[32], lsec_buf *sig_out,
			  lsec_store *st, uint64_t seq, lsec_audit_signer *signer, const char *unit,
			  lsec_err *err);
/* The signer attached to st (lsec_audit_signer_attach), or NULL. */
lsec_audit_signer *lsec_audit__signer(lsec_store *st);
/*
 * The signer attached to st when it trusts at least one station key (a
 * verifier will do): what every leaf read checks signatures with.
 * LSEC_E_AUDIT_NO_SIGNER, saying it cannot what, otherwise.
 */
int lsec_audit__trusted(lsec_audit_signer **out, lsec_store *st, const char *what, lsec_err *err);
/* The log origin a signer signs for (borrowed). */
const char *lsec_audit__signer_origin(const lsec_audit_signer *s);
/* The keys a signer trusts, its own first (borrowed; lookups may learn key ids). */
lsec_audit__keyring *lsec_audit__signer_keyring(lsec_audit_signer *s);
/*
 * The compact range of the last checkpoint this signer made in this
 * process (borrowed; empty before the first): a station that signs many
 * checkpoints starts each from the last without reading the registry.
 */
lsec_audit_tree *lsec_audit__signer_verified(lsec_audit_signer *s);

/* ---- the signed index (index.c) --------------------------------------------- */

#include "linesec/store.h"

/* Levels of the index tree over its 2^16 buckets. */
#define LSEC_AUDIT__INDEX_LEVELS 16
/* The root of the index of no leaves. LSEC_E_CRYPTO. */
int lsec_audit__index_empty_root(uint8_t out[32], lsec_err *err);
/* head = SHA-256("linesec-index/1\n" || head || seq (8 bytes BE) || leaf_hash). */
int lsec_audit__index_chain(uint8_t head[32], uint64_t seq, const uint8_t leaf_hash[32],
			    lsec_err *err);
/* The bucket of key: the first 16 bits of SHA-256(key). */
int lsec_audit__index_bucket_of(uint32_t *out, const char *key, lsec_err *err);
/*
 * "<kind>:<name>" into out; -1 (nothing written) when name is empty, holds
 * a NUL or the key would be longer than LSEC_STORE_INDEX_KEY_MAX.
 */
int lsec_audit__index_key(char out[LSEC_STORE_INDEX_KEY_MAX + 1], const char *kind,
			  const char *name, size_t name_len);
/*
 * The count and chain head the index with root root (that of the trusted
 * checkpoint of size leaves) holds for key (0 and zeros when none), after
 * its bucket and path read from st hash up to root. LSEC_E_AUDIT_INDEX
 * naming the bucket when they do not.
 */
int lsec_audit__index_get(uint64_t *count_out, uint8_t head_out[32], lsec_store *st,
			  const uint8_t root[32], uint64_t size, const char *key, lsec_err *err);
/* An update of the index from the trusted root of a checkpoint of size leaves. */
typedef struct lsec_audit__index lsec_audit__index;
int lsec_audit__index_new(lsec_audit__index **out, const uint8_t root[32], uint64_t size,
			  lsec_err *err);
void lsec_audit__index_free(lsec_audit__index *x);
/* The most keys one leaf is filed under. */
#define LSEC_AUDIT__INDEX_KEYS 3
/*
 * The index keys leaf names by its content ("unit:<unit>" when it names a
 * unit, "action:<action>", "uid:<hex>" for a unit.register leaf's UID,
 * "release:<release>" for a run.start leaf that begins the first flash of
 * its unit under that release), into keys; returns how many.
 */
size_t lsec_audit__index_leaf_keys(char keys[LSEC_AUDIT__INDEX_KEYS][LSEC_STORE_INDEX_KEY_MAX + 1],
				  const uint8_t *leaf, size_t len);
/*
 * Adds leaf (seq, hash) to key's entry; the bucket is read from st and
 * checked against the trusted root on first use (LSEC_E_AUDIT_INDEX).
 * Leaves are added in seq order.
 */
int lsec_audit__index_add(lsec_audit__index *x, lsec_store *st, const char *key, uint64_t seq,
			  const uint8_t hash[32], lsec_err *err);
/* Stores the touched entries and nodes (in the caller's transaction); *root_out: the new root. */
int lsec_audit__index_commit(uint8_t root_out[32], lsec_audit__index *x, lsec_store *st,
			     lsec_err *err);
/*
 * The latest checkpoint in st whose note verifies under a key s trusts for
 * it (lsec_audit__key_checkpoints: a key distrusted before its size, or
 * trusted after it, does not count) and names s's log: *found false when the registry holds none. A stored latest
 * checkpoint that does not verify is an error (its code).
 */
int lsec_audit__trusted_latest(lsec_audit_checkpoint *out, bool *found, lsec_store *st,
			       lsec_audit_signer *s, lsec_err *err);
/*
 * Checks the stored signature of leaf seq (hash hash) against the keys s
 * trusts, as lsec_audit__leaf_sig_check does, unless this process checked
 * or made these very signature bytes of leaf seq with this very hash before
 * under a key s still trusts for seq (a lookup reads the leaves after the latest
 * checkpoint each time, the ship gate's checkpoint walks the leaves this
 * station just wrote: each signature is checked once). A leaf whose bytes
 * or stored signature changed is checked again.
 */
int lsec_audit__signer_sig_check(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
				 const uint8_t *sig, size_t sig_len, lsec_err *err);
/*
 * Whether leaf seq (hash hash) was signed by a station key s knows, trusted
 * at that position or not (whoever judges trust judges the position): its
 * content is then that station's, not bytes rewritten together with their
 * hash or added by hand. LSEC_E_AUDIT_LEAF_SIGNATURE naming the leaf when no
 * known key signed it.
 */
int lsec_audit__signer_sig_known(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
				 const uint8_t *sig, size_t sig_len, lsec_err *err);
/*
 * Whether s verified the checkpoint note of this SHA-256 before, under the
 * very keys it trusts now, its signer's key (entry at) still counting for
 * it (lsec_audit__key_checkpoints; then *out is what the note says): the
 * latest checkpoint every lookup starts from is verified once, not per
 * lookup. lsec_audit__signer_note_saw remembers one (the last).
 */
bool lsec_audit__signer_note_seen(lsec_audit_checkpoint *out, const lsec_audit_signer *s,
				  const uint8_t note_sha256[32]);
void lsec_audit__signer_note_saw(lsec_audit_signer *s, const uint8_t note_sha256[32],
				 const lsec_audit_checkpoint *cp, size_t at);
/*
 * Whether s checked key's bucket against the signed index root root (of
 * the checkpoint of size size) before: *count and head are then what that
 * root holds for key. A bucket checked against a signed root gives the
 * same answer whatever its rows say later; lsec_audit__signer_index_saw
 * remembers one.
 */
bool lsec_audit__signer_index_seen(uint64_t *count, uint8_t head[32], const lsec_audit_signer *s,
				   const uint8_t root[32], uint64_t size, const char *key);
void lsec_audit__signer_index_saw(lsec_audit_signer *s, const uint8_t root[32], uint64_t size,
				  const char *key, uint64_t count, const uint8_t head[32]);
/* Remembers that s signed leaf seq with this hash, giving sig (lsec_audit_record). */
void lsec_audit__signer_wrote(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
			      const uint8_t sig[LSEC_AUDIT_LEAF_SIG_LEN]);
/*
 * The positions of the leaves whose content names action, in log order, for
 * deriving the trusted stations (which checks each leaf itself): below the
 * latest checkpoint s's keys verify, the action column's list once it
 * matched that checkpoint's signed index (LSEC_E_AUDIT_INDEX otherwise);
 * from there on (from leaf 0 when no checkpoint verifies, or when the index
 * cannot be read: then the leaves below the checkpoint must hash to its
 * root, LSEC_E_AUDIT_ROOT otherwise) every leaf, by its content, each
 * matching its stored hash (LSEC_E_AUDIT_LEAF_HASH naming it). *out: lsec_free.
 */
int lsec_audit__action_seqs(uint64_t **out, size_t *n_out, lsec_store *st, lsec_audit_signer *s,
			    const char *action, lsec_err *err);
/* ---- what a process derived from a leaf's bytes (memo.c) ------------------- */

/*
 * A memo of leaves read: per position, the bytes, their SHA-256 and the
 * index keys they name (lsec_audit__index_leaf_keys). Pure functions of the
 * bytes: it grants no trust (signatures are judged at each read).
 */
typedef struct lsec_audit__memo lsec_audit__memo;
typedef struct lsec_audit__memo_entry lsec_audit__memo_entry;
/* -1 when out of memory (*out NULL: nothing is kept). */
int lsec_audit__memo_new(lsec_audit__memo **out);
void lsec_audit__memo_free(lsec_audit__memo *m);
/*
 * The entry of leaf seq when m (may be NULL) holds these very bytes with
 * this very stored hash; NULL otherwise (the caller checks the row in full).
 */
const lsec_audit__memo_entry *lsec_audit__memo_get(const lsec_audit__memo *m, uint64_t seq,
						   const uint8_t *leaf, size_t len,
						   const uint8_t stored_hash[32]);
/*
 * Keeps leaf seq: its bytes, hash (the caller computed it from these bytes
 * and compared it with the stored one) and keys. The entry, or NULL when
 * nothing was kept (m NULL, out of memory).
 */
const lsec_audit__memo_entry *lsec_audit__memo_put(lsec_audit__memo *m, uint64_t seq,
						   const uint8_t *leaf, size_t len,
						   const uint8_t hash[32],
						   const char keys[][LSEC_STORE_INDEX_KEY_MAX + 1],
						   size_t nkeys);
/* The entry's leaf hash (32 bytes). */
const uint8_t *lsec_audit__memo_hash(const lsec_audit__memo_entry *e);
/* Whether the entry's leaf is filed under key. */
bool lsec_audit__memo_names(const lsec_audit__memo_entry *e, const char *key);
/* The memo of signer s (made on first use; NULL when out of memory). */
lsec_audit__memo *lsec_audit__signer_memo(lsec_audit_signer *s);

/* The index root of the last checkpoint s made in this process (see signer_verified). */
uint8_t *lsec_audit__signer_index(lsec_audit_signer *s);

#endif
