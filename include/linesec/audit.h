/*
 * linesec/audit.h - the tamper-evident audit log.
 *
 * Every event of the line is one leaf: canonical JSON naming the person,
 * station, unit, SOP id and version, step, action, outcome, evidence, UTC
 * time and sequence number. The leaves form a Merkle tree hashed as RFC 6962
 * and RFC 9162 section 2.1 define it:
 *
 *     leaf hash  = SHA-256(0x00 || leaf)
 *     node hash  = SHA-256(0x01 || left || right)
 *     MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
 *                  two smaller than n; MTH of no leaves is SHA-256("")
 *
 * The station signs checkpoints (tree size and root) in the C2SP
 * tlog-checkpoint signed-note format with its Ed25519 key. Inclusion and
 * consistency proofs follow RFC 9162 sections 2.1.3 and 2.1.4, so any
 * RFC 9162 verifier checks them.
 *
 * Invariants:
 *  - A leaf is written in the same store transaction as the change it
 *    records (lsec_store_tx_begin -> change -> lsec_audit_record ->
 *    lsec_store_tx_end), so either both land or neither does.
 *  - Every leaf names a person. No secret ever goes into a leaf: evidence
 *    holds hashes, read-backs and public values only, and keys named like
 *    secrets (password, secret, private, token, pin, credential) are refused.
 *  - Verification streams: a tree of any size is recomputed with a compact
 *    range (one subtree root per set bit of the size, at most 64 hashes),
 *    never with all leaf hashes in memory.
 *
 * Idiom (recording an event with a state change):
 *     LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
 *     LSEC_TRY(... the change ...);
 *     LSEC_TRY(lsec_audit_record(&seq, st, &ev, err));
 *   out:  rc = lsec_store_tx_end(&tx, rc, err);
 */
#ifndef LINESEC_AUDIT_H
#define LINESEC_AUDIT_H

#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsec_store lsec_store;
struct evp_pkey_st;
struct json_t;

#define LSEC_AUDIT_HASH_LEN 32
/* Largest checkpoint note accepted (bytes). */
#define LSEC_AUDIT_NOTE_MAX 8192
/* Largest proof file accepted (bytes). */
#define LSEC_AUDIT_PROOF_MAX (16u << 20)
/* Largest leaf accepted (bytes of canonical JSON). */
#define LSEC_AUDIT_LEAF_MAX (1u << 20)

/* Audit error codes (-250..-299; see util.h for the ranges). */
enum {
	LSEC_E_AUDIT_NOTE = -250,           /* malformed checkpoint note */
	LSEC_E_AUDIT_PROOF_FORMAT = -251,   /* malformed proof file */
	LSEC_E_AUDIT_LEAF_FORMAT = -252,    /* malformed leaf or event */
	LSEC_E_AUDIT_SIGNATURE = -270,      /* checkpoint signature missing or invalid */
	LSEC_E_AUDIT_PROOF = -271,          /* inclusion or consistency proof does not verify */
	LSEC_E_AUDIT_LEAF_HASH = -272,      /* a stored leaf does not match its hash or position */
	LSEC_E_AUDIT_ROOT = -273,           /* a checkpoint's root differs from the recomputed tree */
	LSEC_E_AUDIT_INDEX = -274,          /* a registry column outside the leaf hash disagrees with the leaf */
	LSEC_E_AUDIT_LEAF_SIGNATURE = -275, /* a leaf unsigned, or not signed by a trusted station for its place */
	LSEC_E_AUDIT_NO_SIGNER = -276,      /* no station key to sign, or none trusted to check, a leaf */
	LSEC_E_AUDIT_STATE = -278,          /* registry rows differ from the state the log replays to */
	LSEC_E_AUDIT_NO_PERSON = -280,      /* an event without a person */
	LSEC_E_AUDIT_SECRET = -281,         /* evidence that looks like a secret */
	LSEC_E_AUDIT_TRUNCATED = -290,      /* the log is shorter than a checkpoint says */
	LSEC_E_AUDIT_ORDER = -291,          /* checkpoints or leaves out of order */
	LSEC_E_AUDIT_NO_CHECKPOINT = -292,  /* no checkpoint covers the leaf */
};

/*
 * Checks that leaf (its bytes as stored at seq) names unit in its hashed
 * "unit" field. The registry files leaves under a unit in a column that the
 * leaf hash does not cover; whatever reads a unit's leaves through that
 * column checks each one with this, so a leaf moved to another unit by SQL
 * is never counted for it. Errors: LSEC_E_AUDIT_INDEX naming the table, the
 * leaf and both units; LSEC_E_AUDIT_LEAF_FORMAT (not a JSON object).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_leaf_check_unit(const uint8_t *leaf, size_t len,
						      uint64_t seq, const char *unit,
						      lsec_err *err);

/* ---- reading leaves back for a decision ------------------------------- */

/*
 * Leaf seq of the stored log, its bytes hashed and compared with the stored
 * leaf hash (the one the verified tree covers) and its "seq" with seq,
 * parsed into *out (json_decref), and its station signature checked under
 * the keys the signer attached to st trusts (a verifier will do). When unit
 * is not NULL (the leaf was found by the registry's unit column) the leaf
 * must name it (lsec_audit_leaf_check_unit). Errors:
 * LSEC_E_AUDIT_NO_SIGNER (no trusted station keys attached: nothing is
 * read by its hash alone), LSEC_E_AUDIT_LEAF_SIGNATURE, LSEC_E_NOTFOUND,
 * LSEC_E_AUDIT_LEAF_HASH (bytes or position differ, naming the table and
 * the leaf), LSEC_E_AUDIT_INDEX, LSEC_E_AUDIT_LEAF_FORMAT (not a JSON
 * object).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_leaf_read(struct json_t **out, lsec_store *st,
						uint64_t seq, const char *unit, lsec_err *err);
/*
 * Whether a parsed leaf has the hashed action and every field match asks:
 * match (may be NULL) is a NULL-terminated list of key, value pairs, where
 * a key names a top-level field ("person", "sop", "sop_version", "unit") or
 * an evidence field ("evidence.<key>"), and an integer field matches its
 * decimal text.
 */
LSEC_API bool lsec_audit_leaf_matches(const struct json_t *leaf, const char *action,
				      const char *const *match);
/*
 * Whether a credential.revoke leaf's outcome records a revocation that
 * happened: the revocation itself ("revoked" from a station, "done" from a
 * replacement) or its step "passed". A step's "started" intent or a
 * "failed" outcome revoked nothing. outcome may be NULL (false).
 */
LSEC_API bool lsec_audit_revocation_done(const char *outcome);
/* Field key of a parsed leaf (as for match) as text, buf holding integers; NULL when absent. */
LSEC_API const char *lsec_audit_leaf_field(char buf[32], const struct json_t *leaf,
					   const char *key);
/*
 * The leaves of one kind naming one thing: every leaf whose hashed action
 * is action and that matches match (lsec_audit_leaf_matches), in log order,
 * parsed into the JSON array *out (json_decref). Complete, not only
 * correct (docs/audit-log.md, "The signed index"): the leaves below the
 * latest trusted checkpoint are those the registry's action column lists
 * once their (seq, hash) chain matches the count and head that
 * checkpoint's signed index holds for "action:<action>"; every leaf after
 * it is read and kept by its content. So the cost is the number of leaves
 * of that action plus the leaves since the latest checkpoint. Each leaf
 * is checked as lsec_audit_leaf_read checks it. Errors: those of
 * lsec_audit_leaf_read; LSEC_E_AUDIT_INDEX when the column files a leaf
 * under another action than the leaf names, lists leaves other than the
 * signed index holds (a leaf hidden or added by SQL), or the index's
 * rows differ from its signed root. Without station keys attached
 * (lsec_audit_signer_attach) the column's list is taken as it is.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_leaves_find(struct json_t **out, lsec_store *st,
						  const char *action, const char *const *match,
						  lsec_err *err);
/*
 * As lsec_audit_leaves_find, only the leaves from sequence number from on
 * (what happened after a given leaf, e.g. whether a session was ended):
 * only those are read, though the hashes of all the action's leaves are
 * chained for the completeness check.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_leaves_find_from(struct json_t **out, lsec_store *st,
						       const char *action, uint64_t from,
						       const char *const *match, lsec_err *err);
/*
 * Every leaf that names unit, in log order, parsed into the JSON array *out
 * (json_decref): complete as lsec_audit_leaves_find is, through the
 * registry's unit column and the signed index's "unit:<unit>". Errors as
 * lsec_audit_leaves_find's.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_unit_leaves(struct json_t **out, lsec_store *st,
						  const char *unit, lsec_err *err);
/*
 * How many leaves are filed under the signed index key kind:name ("uid"
 * and "release" keys have no registry column: docs/audit-log.md, "The
 * signed index"): the count the latest trusted checkpoint's index holds,
 * checked against its root, plus the leaves after it that name the key,
 * each hash- and signature-checked. On a line whose checkpoints predate
 * the index only the leaves after the latest checkpoint are counted.
 * Errors as lsec_audit_leaves_find's.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_leaves_count(uint64_t *out, lsec_store *st,
						   const char *kind, const char *name,
						   lsec_err *err);

/* ---- hashing and the streaming tree (RFC 6962 section 2.1) ------------ */

/* out = SHA-256(0x00 || leaf). Fails only if OpenSSL fails (LSEC_E_CRYPTO). */
LSEC_API LSEC_MUST_USE int lsec_audit_leaf_hash(uint8_t out[32], const uint8_t *leaf, size_t len,
						lsec_err *err);
/* out = SHA-256(0x01 || left || right); out may alias left or right. */
LSEC_API LSEC_MUST_USE int lsec_audit_node_hash(uint8_t out[32], const uint8_t left[32],
						const uint8_t right[32], lsec_err *err);

/*
 * A compact range over leaves [0, size): the roots of the perfect subtrees
 * the binary decomposition of size gives, largest first. Caller-allocated;
 * lsec_audit_tree_init makes it empty. Appending costs amortised one node
 * hash; memory stays at 64 hashes whatever the size.
 */
typedef struct lsec_audit_tree {
	uint64_t size;
	unsigned depth;
	uint8_t stack[64][32];
} lsec_audit_tree;

LSEC_API void lsec_audit_tree_init(lsec_audit_tree *t);
/* Appends one leaf hash. LSEC_E_LIMIT at 2^64-1 leaves. */
LSEC_API LSEC_MUST_USE int lsec_audit_tree_append(lsec_audit_tree *t, const uint8_t leaf_hash[32],
						  lsec_err *err);
/* The root hash of the leaves appended so far (SHA-256("") when empty). */
LSEC_API LSEC_MUST_USE int lsec_audit_tree_root(uint8_t out[32], const lsec_audit_tree *t,
						lsec_err *err);

/*
 * Where proof generation reads leaf hashes: a function that calls cb for the
 * leaf hashes of [from, to) in order. A callback returning < 0 stops the
 * walk, and the source returns that code.
 */
typedef int (*lsec_audit_hash_cb)(void *ctx, uint64_t index, const uint8_t hash[32],
				  lsec_err *err);
typedef int (*lsec_audit_source)(void *src, uint64_t from, uint64_t to, lsec_audit_hash_cb cb,
				 void *cb_ctx, lsec_err *err);

/* An in-memory source over n contiguous 32-byte leaf hashes. */
typedef struct lsec_audit_hashes {
	const uint8_t *hashes; /* 32 * n bytes, borrowed */
	uint64_t n;
} lsec_audit_hashes;
/* The lsec_audit_source for a lsec_audit_hashes (pass it as src). */
LSEC_API int lsec_audit_hashes_source(void *src, uint64_t from, uint64_t to,
				      lsec_audit_hash_cb cb, void *cb_ctx, lsec_err *err);

/* MTH of leaves [0, size) read from src. */
LSEC_API LSEC_MUST_USE int lsec_audit_root(uint8_t out[32], uint64_t size, lsec_audit_source src,
					   void *src_ctx, lsec_err *err);

/* ---- proofs (RFC 9162 sections 2.1.3 and 2.1.4) ----------------------- */

/*
 * The inclusion path of leaf index in the tree of size leaves, leaf to root,
 * appended to path_out as 32-byte hashes. Streams each leaf at most once.
 * LSEC_E_USAGE when index >= size.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_inclusion_prove(lsec_buf *path_out, uint64_t index,
						      uint64_t size, lsec_audit_source src,
						      void *src_ctx, lsec_err *err);
/*
 * Checks that leaf_hash is leaf index of the tree of size leaves whose root
 * is root, given the path (path_len bytes, a multiple of 32).
 * LSEC_E_AUDIT_PROOF when it does not verify.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_inclusion_verify(const uint8_t leaf_hash[32], uint64_t index,
						       uint64_t size, const uint8_t *path,
						       size_t path_len, const uint8_t root[32],
						       lsec_err *err);
/*
 * The consistency proof between the trees of old_size and new_size leaves,
 * appended to proof_out. LSEC_E_USAGE when old_size > new_size.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_consistency_prove(lsec_buf *proof_out, uint64_t old_size,
							uint64_t new_size, lsec_audit_source src,
							void *src_ctx, lsec_err *err);
/*
 * Checks that the tree of new_size leaves with root new_root extends the tree
 * of old_size leaves with root old_root. Equal sizes need an empty proof and
 * equal roots; old_size 0 needs an empty proof. LSEC_E_AUDIT_PROOF otherwise.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_consistency_verify(uint64_t old_size, uint64_t new_size,
							 const uint8_t old_root[32],
							 const uint8_t new_root[32],
							 const uint8_t *proof, size_t proof_len,
							 lsec_err *err);

/* ---- checkpoints (C2SP tlog-checkpoint signed notes) ------------------ */

/*
 * The body of a checkpoint:
 *     <origin>\n<tree size, decimal>\n<base64 root>\n
 * then, when has_index, one extension line committing the signed index of
 * the leaves it covers (docs/audit-log.md, "The signed index"):
 *     linesec-index <base64 index root>\n
 * followed by a blank line and one or more signature lines
 *     "\u2014 <key name> <base64(key id[4] || Ed25519 signature[64])>\n"
 * where key id = SHA-256(key name || 0x0A || 0x01 || public key)[0:4].
 */
typedef struct lsec_audit_checkpoint {
	char origin[256];
	uint64_t size;
	uint8_t root[32];
	bool has_index;        /* the note commits an index root */
	uint8_t index_root[32];
} lsec_audit_checkpoint;

/*
 * Signs cp with an Ed25519 private key under key_name (no spaces, no '+').
 * *note_out is the whole note text, freed with lsec_free.
 * LSEC_E_USAGE for a bad origin, name or a key that is not Ed25519.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_checkpoint_sign(char **note_out,
						      const lsec_audit_checkpoint *cp,
						      const char *key_name,
						      const struct evp_pkey_st *key, lsec_err *err);
/*
 * Parses a note strictly (structure only; no signature is checked).
 * LSEC_E_AUDIT_NOTE naming the line and what was expected.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_checkpoint_parse(lsec_audit_checkpoint *out, const char *note,
						       size_t len, lsec_err *err);
/*
 * Parses a note and checks that one of its signatures is by pub (Ed25519):
 * the key id must match key_name (or, when key_name is NULL, the name on the
 * signature line) and pub, and the signature must verify over the body.
 * Signatures by other keys are ignored. LSEC_E_AUDIT_NOTE or
 * LSEC_E_AUDIT_SIGNATURE.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_checkpoint_verify(lsec_audit_checkpoint *out,
							const char *note, size_t len,
							const char *key_name,
							const struct evp_pkey_st *pub,
							lsec_err *err);
/*
 * As lsec_audit_checkpoint_verify under any of pubs[0..npubs) (stations
 * sharing a registry sign checkpoints in turn): the first key that verifies
 * wins, a malformed note fails at once. LSEC_E_AUDIT_SIGNATURE when no key
 * verifies (or none is given), LSEC_E_AUDIT_NOTE.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_checkpoint_verify_keys(lsec_audit_checkpoint *out,
							     const char *note, size_t len,
							     const char *key_name,
							     const struct evp_pkey_st *const *pubs,
							     size_t npubs, lsec_err *err);
/* The signed-note key id of an Ed25519 public key under name. */
LSEC_API LSEC_MUST_USE int lsec_audit_key_id(uint8_t out[4], const char *name,
					     const struct evp_pkey_st *pub, lsec_err *err);

/* ---- proof files ------------------------------------------------------ */

/*
 * A proof file is self-contained JSON (docs/audit-log.md):
 *     {"checkpoint":"<note>","entries":[{"index":N,"inclusion":["<hex>",...],
 *      "leaf":"<leaf JSON text>"},...],"format":"linesec-audit-proof/1"}
 * With the station's public key alone, an auditor checks that each leaf is
 * in the log the checkpoint signs.
 */
typedef struct lsec_audit_proof lsec_audit_proof;

/* An empty proof over a checkpoint note (copied). */
LSEC_API LSEC_MUST_USE int lsec_audit_proof_new(lsec_audit_proof **out, const char *note,
						lsec_err *err);
/* Adds one leaf with its index and inclusion path (all copied). */
LSEC_API LSEC_MUST_USE int lsec_audit_proof_add(lsec_audit_proof *p, uint64_t index,
						const uint8_t *leaf, size_t leaf_len,
						const uint8_t *path, size_t path_len,
						lsec_err *err);
/* The proof file text (canonical JSON); *out freed with lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_audit_proof_write(char **out, const lsec_audit_proof *p,
						  lsec_err *err);
/* Parses a proof file strictly. LSEC_E_AUDIT_PROOF_FORMAT or LSEC_E_AUDIT_NOTE. */
LSEC_API LSEC_MUST_USE int lsec_audit_proof_parse(lsec_audit_proof **out, const char *text,
						  size_t len, lsec_err *err);
/*
 * Verifies a parsed proof offline: the checkpoint signature under pub, then
 * every entry's leaf hash and inclusion path against the checkpoint root.
 * cp_out (may be NULL) receives the checkpoint. LSEC_E_AUDIT_SIGNATURE or
 * LSEC_E_AUDIT_PROOF naming the entry.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_proof_check(lsec_audit_checkpoint *cp_out,
						  const lsec_audit_proof *p,
						  const struct evp_pkey_st *pub, lsec_err *err);
/*
 * lsec_audit_proof_check with the checkpoint signed by any of
 * pubs[0..npubs) (lsec_audit_checkpoint_verify_keys). Same errors.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_proof_check_keys(lsec_audit_checkpoint *cp_out,
						       const lsec_audit_proof *p,
						       const struct evp_pkey_st *const *pubs,
						       size_t npubs, lsec_err *err);
LSEC_API size_t lsec_audit_proof_count(const lsec_audit_proof *p);
/* Entry i's index and leaf text (borrowed; lives as long as p). */
LSEC_API uint64_t lsec_audit_proof_index(const lsec_audit_proof *p, size_t i);
LSEC_API const char *lsec_audit_proof_leaf(const lsec_audit_proof *p, size_t i);
LSEC_API void lsec_audit_proof_free(lsec_audit_proof *p);

/* ---- leaves ------------------------------------------------------------ */

/*
 * One event. person is required; the other strings may be NULL (left out of
 * the leaf); sop_version 0 means none. evidence (may be NULL) is a JSON
 * object of hashes, read-backs and public values; it is never a secret.
 */
typedef struct lsec_audit_event {
	const char *person;
	const char *station;
	const char *unit;
	const char *sop;
	int sop_version;
	const char *step;
	const char *action;
	const char *outcome;
	const struct json_t *evidence;
} lsec_audit_event;

/*
 * Builds the canonical JSON leaf of ev with seq and time (RFC 3339 UTC),
 * into *out (lsec_free). LSEC_E_AUDIT_NO_PERSON without a person,
 * LSEC_E_AUDIT_SECRET when an evidence key is named like a secret,
 * LSEC_E_AUDIT_LEAF_FORMAT for evidence that is not an object.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_leaf_build(char **out, const lsec_audit_event *ev,
						 uint64_t seq, const char *time_utc,
						 lsec_err *err);

/* ---- leaf signatures ---------------------------------------------------- */

/*
 * Every leaf carries the signature of the station that wrote it, so write
 * access to the registry alone cannot add a leaf the log trusts: a
 * checkpoint covers only leaves whose signatures verify, and
 * lsec_audit_verify checks every one. The signature is Ed25519 by the
 * station key over
 *     "linesec-leaf-sig/1\n" <origin> "\n" <seq> "\n" <hex leaf hash> "\n"
 * (origin lsec_audit_origin of the line), stored beside the leaf as
 * key id[4] || signature[64], the key id that of lsec_audit_key_id. A
 * signature copied to another leaf, another position or another line's log
 * does not verify (docs/audit-log.md).
 *
 * The signer travels with the store handle: whoever opens the registry to
 * write (lsec_line_open, lsec_station_open, linesec init) makes one from the
 * station key and attaches it; lsec_audit_record signs with it and refuses
 * to write without one. The store keeps only an opaque pointer (it does not
 * depend on this module) and frees the signer when the handle closes.
 *
 * Idiom:
 *     LSEC_TRY(lsec_audit_signer_new(&s, line_id, station_id, key, err));
 *     lsec_audit_signer_attach(st, s);  (st owns s from here)
 *     LSEC_TRY(lsec_audit_signer_trust_log(s, st, err));
 */
#define LSEC_AUDIT_LEAF_SIG_LEN 68

typedef struct lsec_audit_signer lsec_audit_signer;

/*
 * A signer for the log of line line_id with the station's Ed25519 private
 * key under key_name (the station id; the name its checkpoints carry). A
 * reference to key is taken: the caller may free its own. The signer
 * trusts its own public key. *out is freed with lsec_audit_signer_free.
 * Errors: LSEC_E_USAGE (not Ed25519, a bad name or line id), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_new(lsec_audit_signer **out, const char *line_id,
						 const char *key_name,
						 const struct evp_pkey_st *key, lsec_err *err);
/*
 * A verifier for the log of line line_id: a signer without a private key
 * that trusts only the keys given with lsec_audit_signer_trust(_file), for
 * a handle that reads leaves and never writes them (an auditor's copy, a
 * station without its key). Every leaf read checks signatures, so a
 * registry is read only with one attached. Recording through it fails
 * with LSEC_E_AUDIT_NO_SIGNER. *out is freed with lsec_audit_signer_free.
 * Errors: LSEC_E_USAGE (a bad line id), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_new_verifier(lsec_audit_signer **out,
							  const char *line_id, lsec_err *err);
/*
 * Also trusts another station's public key (Ed25519; a reference is
 * taken): stations sharing a registry check each other's leaves before a
 * checkpoint covers them. LSEC_E_USAGE, LSEC_E_LIMIT (LSEC_AUDIT_MAX_KEYS).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_trust(lsec_audit_signer *s,
						   const struct evp_pkey_st *pub, lsec_err *err);
/*
 * Trusts every PEM public key in path (lsec_audit_pubkeys_load), e.g. a
 * read-only line's station.pub; a missing file adds none. Errors as for
 * lsec_audit_pubkeys_load and lsec_audit_signer_trust.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_trust_file(lsec_audit_signer *s, const char *path,
							lsec_err *err);
LSEC_API void lsec_audit_signer_free(lsec_audit_signer *s);

/* The leaves that trust or distrust another station (evidence: station, pubkey, key-sha256). */
#define LSEC_AUDIT_STATION_TRUST "station.trust"
#define LSEC_AUDIT_STATION_DISTRUST "station.distrust"
/* The kinds of change (LSEC_EV_KIND) that ask for them (line.h names them for the line). */
#define LSEC_AUDIT_CHANGE_STATION_TRUST "station-trust"
#define LSEC_AUDIT_CHANGE_STATION_DISTRUST "station-distrust"
/*
 * The request, approval and rejection leaves of those changes (evidence as
 * change.request, change.approve, change.reject: docs/line.md). Their own
 * actions, so that deriving the trusted stations reads them alone, however
 * many other changes the log holds; a log written before them holds
 * change.* leaves for its changes of station trust, which are read too.
 */
#define LSEC_AUDIT_STATION_CHANGE_REQUEST "station.change.request"
#define LSEC_AUDIT_STATION_CHANGE_APPROVE "station.change.approve"
#define LSEC_AUDIT_STATION_CHANGE_REJECT "station.change.reject"
/*
 * Also trusts the stations the log of st trusts. Starting from the keys s
 * trusts now (the station's own; they are never taken away), every
 * station.trust leaf signed by a station trusted at its position adds the
 * key it names, and every station.distrust leaf so signed bounds it: that
 * station's leaves from the distrust on do not verify. Repeated until
 * nothing changes, so a station trusted by a station trusted later in the
 * log is found too. A leaf signed by no trusted station (one written by a
 * station nobody trusted, or by SQL) changes nothing; lsec_audit_verify
 * names it. Called again, it starts over from the same keys. A verifier
 * that trusts no key stays so (every leaf read is refused).
 * Errors: store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_trust_log(lsec_audit_signer *s, lsec_store *st,
						       lsec_err *err);
/*
 * The public keys the signer attached to st trusts, its own first: the
 * stations whose leaves and checkpoints a check of the shared log accepts
 * (lsec_audit_verify_keys). *out is freed with lsec_audit_pubkeys_free.
 * Errors: LSEC_E_AUDIT_NO_SIGNER without a signer or trusted keys,
 * LSEC_E_CRYPTO, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_pubkeys(struct evp_pkey_st ***out, size_t *n_out,
						     lsec_store *st, lsec_err *err);
/*
 * Whether the signer attached to st trusts pub now (*out): a key it was
 * given, or one the log trusts and has not distrusted since (a distrusted
 * key is listed by lsec_audit_signer_pubkeys for its earlier leaves, but is
 * not trusted now). Errors as for lsec_audit_signer_pubkeys.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_signer_trusts(bool *out, lsec_store *st,
						    const struct evp_pkey_st *pub, lsec_err *err);

/*
 * Attaches s to st, which owns it from then on and frees it when closed or
 * when another signer is attached (NULL detaches).
 */
LSEC_API void lsec_audit_signer_attach(lsec_store *st, lsec_audit_signer *s);
/* ---- evidence keys ------------------------------------------------------
 *
 * The one spelling of each fact a leaf's evidence records, used by every
 * writer and every reader (docs/audit-log.md lists each leaf type with its
 * keys). A fact has one key; a key has one meaning.
 */
#define LSEC_EV_CERT_SERIAL "cert-serial"   /* hex serial of a certificate issued or revoked */
#define LSEC_EV_CERT_SHA256 "cert-sha256"   /* SHA-256 of a certificate's DER, as issued */
/* SHA-256 the station computed over the certificate it read back from a key slot */
#define LSEC_EV_CERT_READBACK_SHA256 "cert-readback-sha256"
/* SHA-256 the device computed over its flash, read back (flash verify, blank check) */
#define LSEC_EV_READBACK_SHA256 "readback-sha256"
/* A failed step's class: "transient" (reseat, retry) or "permanent" (lsec_station_failure_classify) */
#define LSEC_EV_FAILURE_CLASS "failure-class"
/* true: the flash already held the approved image (read-back compared) and was not written */
#define LSEC_EV_PREVERIFIED "preverified"
#define LSEC_EV_KEY_SHA256 "key-sha256"     /* hex SHA-256 of a SubjectPublicKeyInfo */
#define LSEC_EV_KEY_STATE "key-state"       /* the state the key named by key-sha256 is in now */
#define LSEC_EV_KEYS "keys"                 /* array of {key-sha256, key-state} */
#define LSEC_EV_UNIT_STATE "unit-state"     /* the state the leaf's unit moved to */
#define LSEC_EV_UID "uid"                   /* hex UID the device reported */
#define LSEC_EV_SOCKET "socket"             /* a fixture's socket number */
#define LSEC_EV_PROBE "probe"               /* a probe's device URI (rsp://HOST:PORT...) */
#define LSEC_EV_PROBE_SERIAL "probe-serial" /* the serial a probe's server reported ("": none) */
/* the probe serial the fixture file binds to the socket ("": none) */
#define LSEC_EV_EXPECTED_PROBE_SERIAL "expected-probe-serial"
#define LSEC_EV_PRODUCT "product"
#define LSEC_EV_VERSION "version"           /* a release's version */
#define LSEC_EV_IMAGE_SHA256 "image-sha256" /* SHA-256 of a signed firmware image */
/* SHA-256 of a release's manifest as the registry keeps it (release.submit) */
#define LSEC_EV_MANIFEST_SHA256 "manifest-sha256"
#define LSEC_EV_RELEASE "release"           /* "product@version" */
/* true on the run.start leaf of a unit's first flash under its release (what the quota counts) */
#define LSEC_EV_RELEASE_FIRST "release-first"
#define LSEC_EV_RUN "run"                   /* the registry id of the run the leaf belongs to */
/*
 * The registry id of the step attempt (steps row) a step leaf records; with
 * "run", on every step leaf written since step leaves name their run
 */
#define LSEC_EV_ATTEMPT "attempt"
#define LSEC_EV_RUN_OUTCOME "run-outcome"   /* how that run ended ("passed", "failed", ...) */
#define LSEC_EV_SOP_VERSION "sop-version"   /* decimal SOP version of a run */
#define LSEC_EV_SOP_SHA256 "sop-sha256"     /* SHA-256 of a SOP version's body */
#define LSEC_EV_SOP_NAME "sop-name"         /* a SOP's name, where the leaf is not the SOP's own */
#define LSEC_EV_REQUESTED_BY "requested-by" /* who requested the change a leaf applies */
/*
 * SOP controls (docs/sop.md): an operator's acknowledgement that they read
 * a SOP version (its SHA-256, meaning LSEC_MEANING_READ), a version
 * withdrawn from every station by a two-officer change (its reason and
 * change), and a run the station refused for either (evidence
 * sop-name, sop-version, sop-sha256, reason).
 */
#define LSEC_AUDIT_SOP_ACKNOWLEDGE "sop.acknowledge"
#define LSEC_AUDIT_SOP_WITHDRAW "sop.withdraw"
#define LSEC_AUDIT_SOP_REFUSED "sop.refused"
#define LSEC_EV_NAME "name"                 /* a person's name */
#define LSEC_EV_STATION "station"           /* a station id (station.trust, station.distrust) */
#define LSEC_EV_PUBKEY "pubkey"             /* base64 DER SubjectPublicKeyInfo of a station key */
#define LSEC_EV_ROLE "role"                 /* a role: the person's, or the one a step needs */
#define LSEC_EV_FIRST_OFFICER "first_officer" /* the security officer a line was created with */
#define LSEC_EV_DISABLED "disabled"             /* "yes" or "no": whether a person is disabled */
#define LSEC_EV_PW_HASH_SHA256 "pw-hash-sha256" /* hex SHA-256 of a person's stored password hash */
#define LSEC_EV_TOKEN_SHA256 "token-sha256"     /* hex SHA-256 of a session token, never the token */
#define LSEC_EV_EXPIRES "expires"               /* when a session ends (RFC 3339 UTC) */
#define LSEC_EV_LAST_ACTIVE "last-active" /* a session's last activity (RFC 3339 UTC) */
#define LSEC_EV_IDLE_SECONDS "idle-seconds" /* the idle time after which a session ends */
#define LSEC_EV_REASON "reason"             /* why a session, unit or key was ended */
#define LSEC_EV_CHANNEL "channel" /* where a login came from: "web" (none: the station) */
#define LSEC_EV_CLIENT "client"   /* the address a web request came from */
#define LSEC_EV_PURPOSE "purpose" /* a product key's use: "firmware" or "debug-auth" */
/* A change of trust's leaves (change.request, change.approve, change.reject: docs/line.md) */
#define LSEC_EV_CHANGE "change"   /* the change's id (also on the leaf the change records) */
#define LSEC_EV_KIND "kind"       /* the kind of change ("person-add", "station-trust", ...) */
#define LSEC_EV_SUBJECT "subject" /* what the change is about (a person, a station, a key) */
#define LSEC_EV_PAYLOAD "payload" /* the change's JSON object, as requested */
/*
 * What a signature means (21 CFR Part 11 §11.50): one of the LSEC_MEANING_*
 * values below, on the leaf of every signed act.
 */
#define LSEC_EV_MEANING "meaning"
#define LSEC_MEANING_SUBMITTED "submitted" /* the first signature of a request */
#define LSEC_MEANING_APPROVED "approved"   /* a second person's approval */
#define LSEC_MEANING_REJECTED "rejected"
#define LSEC_MEANING_REVOKED "revoked"     /* an officer withdrew an approval (a release) */
#define LSEC_MEANING_ENROLLED "enrolled"   /* a person set their own password */
#define LSEC_MEANING_WITNESSED "witnessed" /* a witness saw the step or destruction done */
#define LSEC_MEANING_READ "read-and-understood" /* an operator read a SOP version */
#define LSEC_MEANING_WITHDRAWN "withdrawn"        /* a SOP version taken from every station */
#define LSEC_EV_WITNESSED_BY "witnessed-by" /* who signed as witness */
#define LSEC_EV_WITNESS_ROLE "witness-role" /* the role the witness signed in */
#define LSEC_EV_CREDENTIAL_FP "credential-fingerprint" /* keyed fingerprint, never the credential */
#define LSEC_EV_SLOT "slot"                 /* a device key slot (or image slot) a step used */
#define LSEC_EV_QUOTA "quota"               /* a release's production quota (0: none) */
/* SHA-256 of the SubjectPublicKeyInfo that signed the image checked */
#define LSEC_EV_SIGNER_KEY_SHA256 "signer-key-sha256"
/* the secure-boot key digest fused into (or read back from) the device's OTP */
#define LSEC_EV_KEY_DIGEST "key-digest"
/* the boot digest the device attested, as it reported it */
#define LSEC_EV_ATTESTED_SHA256 "attested-sha256"
/* the build type the device attested: "release", "debug" or "unknown" (none declared) */
#define LSEC_EV_ATTESTED_BUILD "attested-build"
/* the outcome of trying to clear a write-locked fuse (it must be refused) */
#define LSEC_EV_CLEAR_ATTEMPT "clear-attempt"
/* the fresh challenge a locked device gave for one authenticated erase */
#define LSEC_EV_ERASE_CHALLENGE "erase-challenge"
/* SHA-256 over a CRL's revoked serials in its order, each as lowercase hex and "\n" */
#define LSEC_EV_REVOKED_SHA256 "revoked-sha256"
/* Spellings written by older versions, read from older logs only. */
#define LSEC_EV_OLD_CERT_SERIAL "cert_serial"
#define LSEC_EV_OLD_KEY_SHA256 "key_sha256"
#define LSEC_EV_OLD_SOP_SHA256 "sha256"

/* ---- the log over a store ---------------------------------------------- */

/*
 * Records one event: builds its leaf (lsec_audit_leaf_build, with the next
 * sequence number and the current UTC time), hashes it and appends it
 * through the store, inside the caller's open transaction (the store's log
 * lock serialises concurrent stations). *seq_out (may be NULL) receives the
 * leaf's sequence number. The leaf is signed by the signer attached to st
 * (lsec_audit_signer_attach); no unsigned leaf is ever written. Nothing is
 * written on failure; the caller rolls back. Errors: those of
 * lsec_audit_leaf_build, LSEC_E_AUDIT_NO_SIGNER without a signer,
 * LSEC_E_STATE outside a transaction, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_record(uint64_t *seq_out, lsec_store *st,
					     const lsec_audit_event *ev, lsec_err *err);

/*
 * Records one event that goes with no other change (a refused login, an
 * operator's confirmation): lsec_audit_record in a transaction of its own,
 * committed, or rolled back on any failure. LSEC_E_STATE when the caller
 * already has a transaction open (use lsec_audit_record inside it).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_append(uint64_t *seq_out, lsec_store *st,
					     const lsec_audit_event *ev, lsec_err *err);

/*
 * The origin of the log of line line_id, the first line of its every
 * checkpoint: "linesec/<line id>" (one name wherever a checkpoint is signed
 * or checked). Errors: LSEC_E_USAGE (does not fit in size).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_origin(char *out, size_t size, const char *line_id,
					     lsec_err *err);

/*
 * Signs and stores a checkpoint of the whole log of line line_id: the one
 * function that signs checkpoints. The tree is hashed from the stored
 * leaves; then, in one transaction holding the log lock, the leaves
 * appended meanwhile are added, the checkpoint is signed (lsec_audit_origin
 * of line_id, key_name, Ed25519 key), a "checkpoint" leaf naming its size and root is
 * recorded for person, and the checkpoint row is stored. So the log lists
 * its own checkpoints, and a deleted or inserted checkpoint row is found by
 * lsec_audit_verify. *note_out (may be NULL; lsec_free) is the note.
 * Before signing, the signature of every leaf after the latest checkpoint a
 * trusted station signed (whose root must still match the leaves) is
 * checked against the keys the attached signer trusts; an unsigned leaf,
 * one signed by an unknown key or one whose signature fails stops it with
 * LSEC_E_AUDIT_LEAF_SIGNATURE naming the leaf. LSEC_E_AUDIT_NO_SIGNER
 * without a signer, LSEC_E_USAGE when the signer is for another line.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_checkpoint_create(char **note_out, lsec_store *st,
							const char *line_id, const char *key_name,
							const struct evp_pkey_st *key,
							const char *person, lsec_err *err);

/* What lsec_audit_verify found when the log verifies. */
typedef struct lsec_audit_verify_report {
	uint64_t leaves;      /* leaves checked */
	uint64_t checkpoints; /* stored checkpoints checked */
	uint8_t root[32];     /* root of the whole log */
	bool has_checkpoint;  /* latest is set */
	lsec_audit_checkpoint latest; /* the latest stored checkpoint */
} lsec_audit_verify_report;

/*
 * Verifies the stored log of line line_id from scratch, streaming: every
 * leaf's hash against its bytes, its "seq" against its position, no gaps,
 * its station signature (over lsec_audit_origin of line_id) by pub; every
 * checkpoint's signature by pub (under key_name, or any name when NULL),
 * its row against its note, sizes never decreasing, each checkpoint row
 * matching the "checkpoint" leaf that records it, and each root against
 * the tree recomputed at its size (which makes every later checkpoint
 * consistent with every earlier one). When against (a note kept off the
 * station; may be NULL) is given, it must verify under pub and match the
 * recomputed tree at its size. Stops at the first fault and names it:
 * LSEC_E_AUDIT_LEAF_HASH (leaf N), LSEC_E_AUDIT_LEAF_SIGNATURE (leaf N),
 * LSEC_E_AUDIT_SIGNATURE,
 * LSEC_E_AUDIT_ROOT, LSEC_E_AUDIT_ORDER (checkpoint N),
 * LSEC_E_AUDIT_TRUNCATED (the log is shorter than a checkpoint).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_verify(lsec_audit_verify_report *out, lsec_store *st,
					     const char *line_id, const char *key_name,
					     const struct evp_pkey_st *pub,
					     const char *against, size_t against_len,
					     lsec_err *err);

/*
 * lsec_audit_verify for a log that several stations share (one PostgreSQL
 * registry, each station its own key): a checkpoint is good when it is
 * signed by any of the npubs Ed25519 keys (under the name on its signature
 * line, bound to the key by the key id), and so is every leaf. Same checks
 * and errors otherwise.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_verify_keys(lsec_audit_verify_report *out, lsec_store *st,
						  const char *line_id,
						  const struct evp_pkey_st *const *pubs,
						  size_t npubs, const char *against,
						  size_t against_len, lsec_err *err);
/*
 * lsec_audit_verify_keys from a point verified before: since (may be NULL:
 * from scratch) is the size and root the first since->size leaves had when
 * they verified last, as the caller kept it outside the registry. Those
 * leaves are hashed again from their stored bytes and must give the same
 * root; their signatures are not checked again. Every later leaf gets
 * every check. Errors: those of lsec_audit_verify_keys; LSEC_E_AUDIT_ROOT
 * (a leaf before since->size changed: verify from scratch to name it),
 * LSEC_E_AUDIT_TRUNCATED (fewer leaves than since->size).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_verify_since(lsec_audit_verify_report *out, lsec_store *st,
						   const char *line_id,
						   const struct evp_pkey_st *const *pubs,
						   size_t npubs,
						   const lsec_audit_checkpoint *since,
						   const char *against, size_t against_len,
						   lsec_err *err);

/* ---- state replay ----------------------------------------------------- */

/* How a registry row differs from the state the log replays to. */
typedef enum lsec_audit_diff_kind {
	LSEC_AUDIT_ROW_DIFFERENT = 0, /* a column differs from what a leaf says */
	LSEC_AUDIT_ROW_EXTRA,         /* a row no leaf records */
	LSEC_AUDIT_ROW_MISSING,       /* a leaf records a row the registry lacks */
} lsec_audit_diff_kind;

typedef struct lsec_audit_state_diff {
	lsec_audit_diff_kind kind;
	char table[32];     /* registry table: units, runs, identities, ... */
	char key[160];      /* the row's natural key (serial, run id, key fingerprint, ...) */
	char column[32];    /* LSEC_AUDIT_ROW_DIFFERENT only, else "" */
	char registry[160]; /* the row's value ("" unless DIFFERENT) */
	char log[160];      /* what the leaf says ("" unless DIFFERENT) */
	bool has_seq;       /* false for an EXTRA row: no leaf records it */
	uint64_t seq;       /* the leaf that says otherwise */
} lsec_audit_state_diff;

/* What lsec_audit_state_verify found. Caller-allocated; release with _release. */
typedef struct lsec_audit_state_report {
	uint64_t leaves;              /* leaves replayed */
	uint64_t tree_size;           /* the state replayed is that of this many leaves */
	uint64_t rows;                /* registry rows compared */
	lsec_audit_state_diff *diffs; /* every difference, by table; owned by the report */
	size_t ndiffs;
} lsec_audit_state_report;

/*
 * Replays the stored log (one streaming pass: each leaf's bytes checked
 * against its stored hash, then applied) into the state it records, then
 * compares every row of the state tables with it: units (uid, product,
 * state), runs (unit, SOP, version, outcome), identities (unit, certificate
 * serial, key state), releases (digest, revoked, approvals), SOP versions
 * (digest, body digest, approvals), people (role, disabled), credentials
 * (unit, revoked), revocations (unit, reason, person), scrap records
 * (method, person, witness) and steps (run, step, person, witness, outcome,
 * evidence digest).
 * docs/audit-log.md says which leaf records what. out lists every row that
 * is missing, extra or different, naming the table, the key, the column and
 * the leaf; release it with lsec_audit_state_report_release, also on error.
 * Errors: LSEC_E_AUDIT_STATE (at least one difference; the message gives
 * the count and the first), LSEC_E_AUDIT_LEAF_HASH (a leaf's bytes differ
 * from its stored hash), LSEC_E_AUDIT_LEAF_FORMAT, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_state_verify(lsec_audit_state_report *out, lsec_store *st,
						   lsec_err *err);
/*
 * lsec_audit_state_verify resuming from the state of the first `from`
 * leaves (state, state_len: text an earlier call returned; NULL when from
 * is 0): only leaves from `from` on are read and applied, every row is
 * compared. *state_out (may be NULL; lsec_free) is the replayed state of
 * out->tree_size leaves, also when rows differ (LSEC_E_AUDIT_STATE). The
 * caller keeps the state where the registry's writers cannot change it
 * and checks it is the one it kept. Errors: those of
 * lsec_audit_state_verify; LSEC_E_PARSE (state malformed),
 * LSEC_E_AUDIT_TRUNCATED (fewer than `from` leaves).
 */
LSEC_API LSEC_MUST_USE int lsec_audit_state_verify_from(lsec_audit_state_report *out,
							char **state_out, lsec_store *st,
							uint64_t from, const char *state,
							size_t state_len, lsec_err *err);
/* Frees the differences; the report may be used again. NULL is a no-op. */
LSEC_API void lsec_audit_state_report_release(lsec_audit_state_report *r);
/* "different", "extra" or "missing" (static). */
LSEC_API const char *lsec_audit_diff_kind_name(lsec_audit_diff_kind k);
/* One line describing d ("table units, row 'unit-004': state is ..."), NUL-terminated. */
LSEC_API void lsec_audit_state_diff_text(char *out, size_t size, const lsec_audit_state_diff *d);

/* Most public keys lsec_audit_pubkeys_load reads from one file. */
#define LSEC_AUDIT_MAX_KEYS 64

/*
 * Reads one or more PEM public keys (SubjectPublicKeyInfo, concatenated) from
 * path, e.g. the station.pub files of every station sharing a registry.
 * Each must be Ed25519. *out (an array of *n_out keys) is freed with
 * lsec_audit_pubkeys_free. Errors: LSEC_E_IO, LSEC_E_PARSE (no key, or
 * not PEM), LSEC_E_USAGE (a key that is not Ed25519), LSEC_E_LIMIT.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_pubkeys_load(struct evp_pkey_st ***out, size_t *n_out,
						   const char *path, lsec_err *err);
LSEC_API void lsec_audit_pubkeys_free(struct evp_pkey_st **keys, size_t n);

/*
 * A proof file (lsec_audit_proof_write) for leaves of the stored log against
 * its latest checkpoint: the leaf seq when unit is NULL, else every leaf of
 * unit the checkpoint covers. *out is freed with lsec_audit_proof_free.
 * LSEC_E_AUDIT_NO_CHECKPOINT when no checkpoint covers the leaf (make one
 * first), LSEC_E_NOTFOUND for an unknown leaf or a unit without leaves.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_prove(lsec_audit_proof **out, lsec_store *st,
					    const char *unit, uint64_t seq, lsec_err *err);

/*
 * The consistency proof between two checkpoints of the stored log (their
 * notes, verified under pub), verified before it is returned; *proof_out
 * receives 32-byte hashes. LSEC_E_AUDIT_PROOF when the checkpoints are not
 * of one log, LSEC_E_AUDIT_TRUNCATED when the log is shorter than the newer.
 */
LSEC_API LSEC_MUST_USE int lsec_audit_consistency(lsec_buf *proof_out,
						  lsec_audit_checkpoint *old_out,
						  lsec_audit_checkpoint *new_out, lsec_store *st,
						  const char *old_note, const char *new_note,
						  const struct evp_pkey_st *pub, lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
