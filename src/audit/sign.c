/*
 * sign.c - leaf signatures: every leaf carries the signature of the station
 * that wrote it, so a leaf appended to the registry by SQL (a well-formed
 * leaf with a correct hash) is never attributed to a station, never covered
 * by a checkpoint and never passes lsec_audit_verify.
 *
 * The signed message binds the log, the position and the bytes of the leaf
 * (docs/audit-log.md, "Leaf signatures"):
 *
 *     "linesec-leaf-sig/1\n" <origin> "\n" <seq, decimal> "\n"
 *     <leaf hash, 64 lowercase hex digits> "\n"
 *
 * and the stored signature is key id[4] || Ed25519 signature[64], the key id
 * being the signed-note key id of the signer (lsec_audit_key_id), so a
 * verifier finds the key without trying them all. The id is outside the
 * signed message (leaves signed so far stay verifiable) and only a hint:
 * when the key it names does not verify, every trusted key is tried, so an
 * id rewritten in the registry neither forges nor breaks a leaf.
 *
 * @test tests/unit/audit/test_sign.c
 */
#include "audit/audit_int.h"

#include "linesec/store.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIGNER_MAGIC 0x6c736967u /* "lsig": the store's opaque pointer is ours */
#define INDEX_SEEN 32           /* index entries a signer remembers (index_seen) */

struct lsec_audit_signer {
	uint32_t magic;
	char origin[256];
	EVP_PKEY *key; /* private (NULL in a verifier); the keyring owns it */
	uint8_t key_id[4];
	lsec_audit__keyring trust; /* entry 0 is the signer's own key */
	lsec_audit_tree verified;  /* the tree of the last checkpoint it made */
	uint8_t index[32];         /* and the index root that checkpoint signs */
	size_t nbase;              /* keys given by the caller; the log's trusted stations follow */
	uint8_t origin_sha256[32]; /* of origin: the process's seen slots name their log by it */
	lsec_audit__memo *memo;    /* leaves' bytes, hashes and index keys read (memo.c) */
	/* The latest checkpoint note verified (lsec_audit__signer_note_seen): its SHA-256, what it
	 * says, the keys trusted then (references held) and the entry whose key signed it. */
	uint8_t note_sha256[32];
	lsec_audit_checkpoint note_cp;
	EVP_PKEY *note_keys[LSEC_AUDIT_MAX_KEYS + 1];
	size_t note_nkeys;
	size_t note_at;
	bool note_ok;
	struct index_seen {
		uint8_t root[32];
		uint64_t size;
		char key[LSEC_STORE_INDEX_KEY_MAX + 1];
		uint64_t count;
		uint8_t head[32];
		bool set;
	} index_seen[INDEX_SEEN];
	size_t index_next;
};

/*
 * A leaf whose signature was checked (or made) in this process, by any
 * signer: the log (its origin's SHA-256), seq, its hash, the stored
 * signature bytes, and the key that verified them (a reference held here,
 * so the pointer names that key as long as the slot does). Slot
 * seq % SEEN_SLOTS of one table per process, shared by every signer under
 * seen_mu: the sockets of a gang each hold a signer of their own, and each
 * read every other socket's leaves, so one table per signer checked every
 * leaf once per socket (64 Ed25519 verifications per leaf on 64 sockets).
 */
struct seen_slot {
	uint64_t seq1; /* seq + 1; 0: empty */
	uint8_t origin[32];
	uint8_t hash[32];
	uint8_t sig[LSEC_AUDIT_LEAF_SIG_LEN];
	EVP_PKEY *by;
};
#define SEEN_SLOTS ((size_t)1 << 15)
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen_slot *seen_table; /* allocated on first use, kept for the process */

/* EVP counts references on keys it never changes; the key stays const to the caller. */
static EVP_PKEY *key_ref(const EVP_PKEY *key)
{
	EVP_PKEY *k = (EVP_PKEY *)(uintptr_t)key;
	return EVP_PKEY_up_ref(k) == 1 ? k : NULL;
}

/* ---- the message ----------------------------------------------------------- */

static int sig_message(char *out, size_t size, size_t *len_out, const char *origin, uint64_t seq,
		       const uint8_t hash[32], lsec_err *err)
{
	int rc = 0;
	char hex[65];
	lsec_hex_encode(hex, hash, 32);
	int n = snprintf(out, size, "linesec-leaf-sig/1\n%s\n%llu\n%s\n", origin,
			 (unsigned long long)seq, hex);
	LSEC_ENSURE(n > 0 && (size_t)n < size, LSEC_E_USAGE,
		    "cannot sign leaf %llu: the log origin is too long", (unsigned long long)seq);
	*len_out = (size_t)n;
out:
	return rc;
}

/* ---- keyrings ---------------------------------------------------------------- */

void lsec_audit__keyring_release(lsec_audit__keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++) {
		EVP_PKEY_free(kr->k[i].pub);
	}
	memset(kr, 0, sizeof(*kr));
}

int lsec_audit__keyring_add(lsec_audit__keyring *kr, const char *key_name,
			    const struct evp_pkey_st *pub, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(pub);
	LSEC_ENSURE(EVP_PKEY_is_a(pub, "ED25519"), LSEC_E_USAGE,
		    "cannot trust a station key that is not Ed25519");
	LSEC_ENSURE(kr->n < sizeof(kr->k) / sizeof(kr->k[0]), LSEC_E_LIMIT,
		    "cannot trust more than %zu station keys", sizeof(kr->k) / sizeof(kr->k[0]));
	lsec_audit__key *k = &kr->k[kr->n];
	memset(k, 0, sizeof(*k));
	if (key_name != NULL) {
		LSEC_TRY(lsec_audit_key_id(k->id, key_name, pub, err));
		k->id_known = true;
	}
	LSEC_ENSURE((k->pub = key_ref(pub)) != NULL, LSEC_E_NOMEM,
		    "cannot trust a station key: out of memory");
	kr->n++;
out:
	return rc;
}

bool lsec_audit__key_live(const lsec_audit__key *k, uint64_t seq)
{
	bool live = k->nspan == 0;
	for (size_t i = 0; i < k->nspan && !live; i++) {
		live = seq >= k->span[i].from && (!k->span[i].bounded || seq < k->span[i].until);
	}
	return live;
}

bool lsec_audit__key_checkpoints(const lsec_audit__key *k, uint64_t size)
{
	return lsec_audit__key_live(k, size) && (k->nspan == 0 || k->since <= size);
}

/* Whether sig (64 bytes) verifies over msg (of leaf seq) under k. */
static int try_key(bool *ok, const lsec_audit__key *k, uint64_t seq, const char *msg, size_t len,
		   const uint8_t *sig, lsec_err *err)
{
	*ok = false;
	if (!lsec_audit__key_live(k, seq)) {
		return 0; /* distrusted by the log before this leaf */
	}
	return lsec_evp_verify(ok, k->pub, NULL, (const uint8_t *)msg, len, sig, 64,
			       "cannot check a leaf signature", err);
}

/* lsec_audit__leaf_sig_check; *which: the entry of kr whose key verified it. */
static int sig_check(size_t *which, lsec_audit__keyring *kr, const char *origin, uint64_t seq,
		     const uint8_t hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	size_t i;
	char msg[400];
	size_t len = 0;
	bool ok = false, named = false;
	LSEC_ENSURE(sig != NULL && sig_len > 0, LSEC_E_AUDIT_LEAF_SIGNATURE,
		    "leaf %llu is not signed by any station (it was not written by linesec: "
		    "added to the registry by hand?)",
		    (unsigned long long)seq);
	LSEC_ENSURE(sig_len == LSEC_AUDIT_LEAF_SIG_LEN, LSEC_E_AUDIT_LEAF_SIGNATURE,
		    "leaf %llu is bad: its signature is %zu bytes (expected %d)",
		    (unsigned long long)seq, sig_len, LSEC_AUDIT_LEAF_SIG_LEN);
	LSEC_TRY(sig_message(msg, sizeof(msg), &len, origin, seq, hash, err));
	/* The stored key id is a hint (the signature does not cover it): the key it names first. */
	for (i = 0; i < kr->n && !named; i++) {
		const lsec_audit__key *k = &kr->k[i];
		if (k->id_known && lsec_ct_equal(k->id, sig, 4)) {
			named = true;
			LSEC_TRY(try_key(&ok, k, seq, msg, len, sig + 4, err));
			if (ok) {
				*which = i;
				goto out;
			}
		}
	}
	/* An id not seen yet (a key given without its name): the key that verifies names it. */
	for (i = 0; i < kr->n; i++) {
		lsec_audit__key *k = &kr->k[i];
		if (k->id_known) {
			continue;
		}
		LSEC_TRY(try_key(&ok, k, seq, msg, len, sig + 4, err));
		if (ok) {
			memcpy(k->id, sig, 4);
			k->id_known = true;
			*which = i;
			goto out;
		}
	}
	/* An id rewritten outside linesec does not make a genuine leaf fail: every key is tried. */
	for (i = 0; i < kr->n; i++) {
		const lsec_audit__key *k = &kr->k[i];
		if (k->id_known && !lsec_ct_equal(k->id, sig, 4)) {
			LSEC_TRY(try_key(&ok, k, seq, msg, len, sig + 4, err));
			if (ok) {
				*which = i;
				goto out;
			}
		}
	}
	LSEC_ENSURE(!named, LSEC_E_AUDIT_LEAF_SIGNATURE,
		    "leaf %llu is bad: its signature by station key %02x%02x%02x%02x does not "
		    "verify over leaf %llu of log '%s' (it was moved, copied from another leaf or "
		    "forged)",
		    (unsigned long long)seq, sig[0], sig[1], sig[2], sig[3],
		    (unsigned long long)seq, origin);
	LSEC_BAIL(LSEC_E_AUDIT_LEAF_SIGNATURE,
		  "leaf %llu is bad: it is signed by key id %02x%02x%02x%02x, which is no trusted "
		  "station key (or the signature does not verify over leaf %llu of log '%s')",
		  (unsigned long long)seq, sig[0], sig[1], sig[2], sig[3], (unsigned long long)seq,
		  origin);
out:
	return rc;
}

int lsec_audit__leaf_sig_check(lsec_audit__keyring *kr, const char *origin, uint64_t seq,
			       const uint8_t hash[32], const uint8_t *sig, size_t sig_len,
			       lsec_err *err)
{
	size_t which = SIZE_MAX;
	return sig_check(&which, kr, origin, seq, hash, sig, sig_len, err);
}

/*
 * Bounds entry d of kr at leaf seq, and every key still trusted whose trust
 * leaf d's key signed, transitively: a distrusted station's word trusts no one
 * from there on.
 */
static void distrust_from(lsec_audit__keyring *kr, size_t d, uint64_t seq)
{
	lsec_audit__key *k = &kr->k[d];
	if (k->nspan == 0 || k->span[k->nspan - 1].bounded) {
		return; /* given by the caller, or distrusted already */
	}
	k->span[k->nspan - 1].bounded = true;
	k->span[k->nspan - 1].until = seq;
	for (size_t j = 0; j < kr->n; j++) {
		if (kr->k[j].by == d) {
			distrust_from(kr, j, seq);
		}
	}
}

/* The entry of kr from `from` on holding pub, or kr->n. */
static size_t key_at(const lsec_audit__keyring *kr, size_t from, const EVP_PKEY *pub)
{
	for (size_t k = from; k < kr->n; k++) {
		if (EVP_PKEY_eq(kr->k[k].pub, pub) == 1) {
			return k;
		}
	}
	return kr->n;
}

/* ---- signers ----------------------------------------------------------------- */

int lsec_audit_signer_new(lsec_audit_signer **out, const char *line_id, const char *key_name,
			  const struct evp_pkey_st *key, lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(key_name);
	LSEC_ENSURE_REF(key);
	LSEC_ENSURE(EVP_PKEY_is_a(key, "ED25519"), LSEC_E_USAGE,
		    "cannot sign leaves as '%s': the station key is not Ed25519", key_name);
	LSEC_ENSURE((s = lsec_calloc(1, sizeof(*s))) != NULL, LSEC_E_NOMEM,
		    "cannot sign leaves: out of memory");
	s->magic = SIGNER_MAGIC;
	LSEC_TRY(lsec_audit_origin(s->origin, sizeof(s->origin), line_id, err));
	LSEC_TRY(lsec_sha256(s->origin_sha256, (const uint8_t *)s->origin, strlen(s->origin), err));
	LSEC_TRY(lsec_audit__keyring_add(&s->trust, key_name, key, err));
	memcpy(s->key_id, s->trust.k[0].id, 4);
	s->key = s->trust.k[0].pub; /* the private key verifies too; the keyring owns it */
	*out = s;
	s = NULL;
out:
	lsec_audit_signer_free(s);
	return rc;
}

int lsec_audit_signer_new_verifier(lsec_audit_signer **out, const char *line_id, lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s = NULL;
	*out = NULL;
	LSEC_ENSURE((s = lsec_calloc(1, sizeof(*s))) != NULL, LSEC_E_NOMEM,
		    "cannot check leaves: out of memory");
	s->magic = SIGNER_MAGIC;
	LSEC_TRY(lsec_audit_origin(s->origin, sizeof(s->origin), line_id, err));
	LSEC_TRY(lsec_sha256(s->origin_sha256, (const uint8_t *)s->origin, strlen(s->origin), err));
	*out = s;
	s = NULL;
out:
	lsec_audit_signer_free(s);
	return rc;
}

int lsec_audit_signer_trust(lsec_audit_signer *s, const struct evp_pkey_st *pub, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(s);
	rc = lsec_audit__keyring_add(&s->trust, NULL, pub, err);
out:
	return rc;
}

int lsec_audit_signer_trust_file(lsec_audit_signer *s, const char *path, lsec_err *err)
{
	int rc = 0;
	struct evp_pkey_st **pubs = NULL;
	size_t n = 0;
	LSEC_ENSURE_REF(s);
	LSEC_ENSURE_REF(path);
	if (access(path, F_OK) != 0) {
		goto out; /* a line without other stations has no such file */
	}
	LSEC_TRY(lsec_audit_pubkeys_load(&pubs, &n, path, err));
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(lsec_audit__keyring_add(&s->trust, NULL, pubs[i], err));
	}
out:
	lsec_audit_pubkeys_free(pubs, n);
	return rc;
}

void lsec_audit_signer_free(lsec_audit_signer *s)
{
	if (s == NULL) {
		return;
	}
	lsec_audit__keyring_release(&s->trust);
	for (size_t i = 0; i < s->note_nkeys; i++) {
		EVP_PKEY_free(s->note_keys[i]);
	}
	lsec_audit__memo_free(s->memo);
	lsec_free(s);
}

int lsec_audit_signer_pubkeys(struct evp_pkey_st ***out, size_t *n_out, lsec_store *st,
			      lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s;
	EVP_PKEY **keys = NULL;
	size_t n = 0;
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_audit__trusted(&s, st, "list the trusted station keys", err));
	n = s->trust.n;
	LSEC_ENSURE((keys = lsec_calloc(n, sizeof(*keys))) != NULL, LSEC_E_NOMEM,
		    "cannot list the trusted station keys: out of memory");
	/* Public copies: the signer's own entry is its private key. */
	for (size_t i = 0; i < n; i++) {
		uint8_t raw[32];
		size_t len = sizeof(raw);
		LSEC_TRY_OSSL(EVP_PKEY_get_raw_public_key(s->trust.k[i].pub, raw, &len), LSEC_E_CRYPTO,
			      "cannot list the trusted station keys");
		LSEC_TRY_OSSL_PTR(keys[i] = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
									 len),
				  LSEC_E_CRYPTO, "cannot list the trusted station keys");
	}
	*out = keys;
	*n_out = n;
	keys = NULL;
out:
	lsec_audit_pubkeys_free(keys, n);
	return rc;
}

static void signer_release(void *p)
{
	lsec_audit_signer_free(p);
}

void lsec_audit_signer_attach(lsec_store *st, lsec_audit_signer *s)
{
	lsec_store_set_signer(st, s, s != NULL ? signer_release : NULL);
}

lsec_audit_signer *lsec_audit__signer(lsec_store *st)
{
	lsec_audit_signer *s = lsec_store_signer(st);
	return s != NULL && s->magic == SIGNER_MAGIC ? s : NULL;
}

int lsec_audit_signer_trusts(bool *out, lsec_store *st, const struct evp_pkey_st *pub,
			     lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s = NULL;
	*out = false;
	LSEC_ENSURE_REF(pub);
	LSEC_TRY(lsec_audit__trusted(&s, st, "list the trusted station keys", err));
	size_t at = key_at(&s->trust, 0, pub);
	const lsec_audit__key *k = &s->trust.k[at];
	*out = at < s->trust.n && (k->nspan == 0 || !k->span[k->nspan - 1].bounded);
out:
	return rc;
}

int lsec_audit__trusted(lsec_audit_signer **out, lsec_store *st, const char *what, lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s = lsec_audit__signer(st);
	*out = NULL;
	LSEC_ENSURE(s != NULL && s->trust.n > 0, LSEC_E_AUDIT_NO_SIGNER,
		    "cannot %s: no trusted station keys are attached to the registry (a leaf "
		    "checked by its hash alone may have been rewritten by SQL)",
		    what);
	*out = s;
out:
	return rc;
}

const char *lsec_audit__signer_origin(const lsec_audit_signer *s)
{
	return s->origin;
}

lsec_audit__keyring *lsec_audit__signer_keyring(lsec_audit_signer *s)
{
	return &s->trust;
}

lsec_audit_tree *lsec_audit__signer_verified(lsec_audit_signer *s)
{
	return &s->verified;
}

lsec_audit__memo *lsec_audit__signer_memo(lsec_audit_signer *s)
{
	if (s->memo == NULL && lsec_audit__memo_new(&s->memo) < 0) {
		return NULL; /* nothing kept: each leaf is checked in full */
	}
	return s->memo;
}

uint8_t *lsec_audit__signer_index(lsec_audit_signer *s)
{
	return s->index;
}

/*
 * Whether these very signature bytes of leaf seq of s's log with this hash
 * were checked (or made) in this process under a key s still trusts for
 * seq: a key of s's keyring equal to the one that verified them (the same
 * public key), live at seq (a distrust since then bounds it). Then checking
 * them again gives the same answer: the signature is a function of the
 * origin, seq, hash and public key alone.
 */
static bool seen(const lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
		 const uint8_t *sig, size_t sig_len)
{
	bool ok = false;
	if (sig == NULL || sig_len != LSEC_AUDIT_LEAF_SIG_LEN) {
		return false;
	}
	pthread_mutex_lock(&seen_mu);
	const struct seen_slot *e = seen_table != NULL ? &seen_table[seq % SEEN_SLOTS] : NULL;
	if (e != NULL && e->seq1 == seq + 1 && lsec_ct_equal(e->origin, s->origin_sha256, 32) &&
	    lsec_ct_equal(e->hash, hash, 32) && lsec_ct_equal(e->sig, sig, LSEC_AUDIT_LEAF_SIG_LEN)) {
		for (size_t i = 0; i < s->trust.n && !ok; i++) {
			if (s->trust.k[i].pub == e->by || EVP_PKEY_eq(s->trust.k[i].pub, e->by) == 1) {
				ok = lsec_audit__key_live(&s->trust.k[i], seq);
			}
		}
	}
	pthread_mutex_unlock(&seen_mu);
	return ok;
}

/* Remembers that sig (LSEC_AUDIT_LEAF_SIG_LEN bytes) by key by of s's keyring signs leaf seq. */
static void saw(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32], const uint8_t *sig,
		EVP_PKEY *by)
{
	EVP_PKEY *ref = key_ref(by), *old = NULL;
	if (ref == NULL) {
		return;
	}
	pthread_mutex_lock(&seen_mu);
	if (seen_table == NULL) {
		seen_table = lsec_calloc(SEEN_SLOTS, sizeof(*seen_table));
	}
	if (seen_table == NULL) {
		old = ref; /* nothing remembered: each signature is checked again */
	} else {
		struct seen_slot *e = &seen_table[seq % SEEN_SLOTS];
		old = e->by;
		e->seq1 = seq + 1;
		memcpy(e->origin, s->origin_sha256, 32);
		memcpy(e->hash, hash, 32);
		memcpy(e->sig, sig, LSEC_AUDIT_LEAF_SIG_LEN);
		e->by = ref;
	}
	pthread_mutex_unlock(&seen_mu);
	EVP_PKEY_free(old);
}

int lsec_audit__signer_sig_check(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
				 const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	size_t by = SIZE_MAX;
	if (seen(s, seq, hash, sig, sig_len)) {
		goto out;
	}
	LSEC_TRY(sig_check(&by, &s->trust, s->origin, seq, hash, sig, sig_len, err));
	if (by < s->trust.n) { /* sig_check refuses any other length */
		saw(s, seq, hash, sig, s->trust.k[by].pub);
	}
out:
	return rc;
}

int lsec_audit__signer_sig_known(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
				 const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	char msg[400];
	size_t len = 0;
	bool ok = false;
	size_t by = SIZE_MAX;
	if (seen(s, seq, hash, sig, sig_len)) {
		goto out;
	}
	if (sig != NULL && sig_len == LSEC_AUDIT_LEAF_SIG_LEN) {
		LSEC_TRY(sig_message(msg, sizeof(msg), &len, s->origin, seq, hash, err));
		for (size_t i = 0; i < s->trust.n && !ok; i++) {
			LSEC_TRY(lsec_evp_verify(&ok, s->trust.k[i].pub, NULL, (const uint8_t *)msg,
						 len, sig + 4, 64, "cannot check a leaf signature",
						 err));
		}
	}
	if (!ok) {
		/* No key it knows signed it: named as a lookup names it (no key verifies it then). */
		LSEC_TRY(sig_check(&by, &s->trust, s->origin, seq, hash, sig, sig_len, err));
	}
out:
	return rc;
}

bool lsec_audit__signer_note_seen(lsec_audit_checkpoint *out, const lsec_audit_signer *s,
				  const uint8_t note_sha256[32])
{
	if (!s->note_ok || s->note_nkeys != s->trust.n ||
	    !lsec_ct_equal(s->note_sha256, note_sha256, 32)) {
		return false;
	}
	for (size_t i = 0; i < s->trust.n; i++) {
		if (s->note_keys[i] != s->trust.k[i].pub) {
			return false;
		}
	}
	/* The same keys, but the one that signed it may have been distrusted since. */
	if (s->note_at >= s->trust.n ||
	    !lsec_audit__key_checkpoints(&s->trust.k[s->note_at], s->note_cp.size)) {
		return false;
	}
	*out = s->note_cp;
	return true;
}

void lsec_audit__signer_note_saw(lsec_audit_signer *s, const uint8_t note_sha256[32],
				 const lsec_audit_checkpoint *cp, size_t at)
{
	for (size_t i = 0; i < s->note_nkeys; i++) {
		EVP_PKEY_free(s->note_keys[i]);
	}
	s->note_nkeys = 0;
	s->note_ok = false;
	for (size_t i = 0; i < s->trust.n; i++) {
		if ((s->note_keys[i] = key_ref(s->trust.k[i].pub)) == NULL) {
			return; /* nothing remembered: verified again next time */
		}
		s->note_nkeys++;
	}
	memcpy(s->note_sha256, note_sha256, 32);
	s->note_cp = *cp;
	s->note_at = at;
	s->note_ok = true;
}

bool lsec_audit__signer_index_seen(uint64_t *count, uint8_t head[32], const lsec_audit_signer *s,
				   const uint8_t root[32], uint64_t size, const char *key)
{
	for (size_t i = 0; i < INDEX_SEEN; i++) {
		const struct index_seen *e = &s->index_seen[i];
		if (e->set && e->size == size && lsec_ct_equal(e->root, root, 32) &&
		    strcmp(e->key, key) == 0) { /* lint:ok: public text */
			*count = e->count;
			memcpy(head, e->head, 32);
			return true;
		}
	}
	return false;
}

void lsec_audit__signer_index_saw(lsec_audit_signer *s, const uint8_t root[32], uint64_t size,
				  const char *key, uint64_t count, const uint8_t head[32])
{
	struct index_seen *e = &s->index_seen[s->index_next++ % INDEX_SEEN];
	if (strlen(key) >= sizeof(e->key)) {
		return;
	}
	memcpy(e->root, root, 32);
	e->size = size;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->count = count;
	memcpy(e->head, head, 32);
	e->set = true;
}

void lsec_audit__signer_wrote(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32],
			      const uint8_t sig[LSEC_AUDIT_LEAF_SIG_LEN])
{
	if (s->key != NULL) {
		saw(s, seq, hash, sig, s->key);
	}
}

int lsec_audit__leaf_sign(uint8_t out[LSEC_AUDIT_LEAF_SIG_LEN], const lsec_audit_signer *s,
			  uint64_t seq, const uint8_t hash[32], lsec_err *err)
{
	int rc = 0;
	char msg[400];
	size_t len = 0;
	lsec_buf sig = LSEC_BUF_INIT(128);
	LSEC_ENSURE(s->key != NULL, LSEC_E_AUDIT_NO_SIGNER,
		    "cannot sign audit leaf %llu: only trusted station keys are attached to the "
		    "registry, no station key to sign with",
		    (unsigned long long)seq);
	LSEC_TRY(sig_message(msg, sizeof(msg), &len, s->origin, seq, hash, err));
	/* Ed25519 is a one-shot scheme: no digest is named. */
	LSEC_TRY(lsec_evp_sign(&sig, s->key, NULL, (const uint8_t *)msg, len,
			       "cannot sign audit leaf", err));
	LSEC_ENSURE(sig.len == 64, LSEC_E_CRYPTO, "cannot sign audit leaf: %zu-byte signature",
		    sig.len);
	memcpy(out, s->key_id, 4);
	memcpy(out + 4, sig.data, 64);
out:
	lsec_buf_release(&sig);
	return rc;
}

/* ---- the stations the log trusts ------------------------------------------- */

/*
 * One station.trust, station.distrust, station.change.request or
 * station.change.approve leaf (change.request or change.approve in a log
 * written before those) as read (its signature not yet judged).
 */
struct station_event {
	uint64_t seq;
	uint8_t hash[32];
	uint8_t sig[LSEC_AUDIT_LEAF_SIG_LEN];
	size_t sig_len;
	bool trust;        /* station.trust, or a change of kind station-trust */
	bool joined;       /* the leaf a joining station records for the station it joins */
	json_int_t change; /* the change it belongs to (0: none) */
	char person[65];
	char name[65];  /* the station (subject) */
	uint8_t fp[32]; /* SHA-256 of the key's SubjectPublicKeyInfo */
	EVP_PKEY *pub;  /* station.trust and station.distrust only */
};

/* Public text (actions), not secrets. */
static bool same_text(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok: public text */
}

/* The station, key and key hash of ev (a station leaf's evidence or a change's payload). */
static bool station_key_read(struct station_event *e, const json_t *ev, bool want_pub,
			     lsec_buf *der, lsec_err *ignored)
{
	const char *name = json_string_value(json_object_get(ev, LSEC_EV_STATION));
	const char *pub = json_string_value(json_object_get(ev, LSEC_EV_PUBKEY));
	const char *fp = json_string_value(json_object_get(ev, LSEC_EV_KEY_SHA256));
	if (name == NULL || pub == NULL || fp == NULL || strlen(name) >= sizeof(e->name) ||
	    lsec_hex_decode_fixed(e->fp, 32, fp, "key-sha256", ignored) != 0) {
		return false;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (!want_pub) {
		return true;
	}
	uint8_t got[32];
	if (lsec_base64_decode(der, pub, strlen(pub), "pubkey", ignored) != 0) {
		return false;
	}
	const uint8_t *p = der->data;
	e->pub = d2i_PUBKEY(NULL, &p, (long)der->len);
	return e->pub != NULL && EVP_PKEY_is_a(e->pub, "ED25519") &&
	       lsec_sha256(got, der->data, der->len, ignored) == 0 && lsec_ct_equal(got, e->fp, 32);
}

/*
 * Reads leaf seq into *e when it is a well-formed leaf of action whose bytes
 * match their stored hash; *ok false otherwise (a leaf that is not is named
 * by lsec_audit_verify, never used). A change leaf counts only when it is of
 * a change of station trust.
 */
static int station_event_read(bool *ok, struct station_event *e, lsec_store *st, uint64_t seq,
			      const char *action, lsec_err *err)
{
	int rc = 0;
	lsec_buf sig = LSEC_BUF_INIT(1u << 16);
	lsec_buf der = LSEC_BUF_INIT(1u << 12);
	json_t *j = NULL;
	lsec_err ignored = LSEC_ERR_INIT;
	*ok = false;
	memset(e, 0, sizeof(*e));
	/* Its signature is judged by the derivation, against the keys trusted at its place. */
	rc = lsec_audit__leaf_load(&j, e->hash, &sig, st, seq, NULL, NULL, err);
	if (rc == LSEC_E_AUDIT_LEAF_HASH || rc == LSEC_E_AUDIT_LEAF_FORMAT) {
		lsec_err_clear(err); /* not the leaf its hash says: never used */
		rc = 0;
		goto out;
	}
	LSEC_TRY(rc);
	if (sig.len != LSEC_AUDIT_LEAF_SIG_LEN) {
		goto out;
	}
	json_t *ev = json_object_get(j, "evidence");
	const char *person = json_string_value(json_object_get(j, "person"));
	if (!same_text(json_string_value(json_object_get(j, "action")), action) ||
	    !same_text(json_string_value(json_object_get(j, "outcome")), "ok") || person == NULL ||
	    strlen(person) >= sizeof(e->person)) {
		goto out;
	}
	snprintf(e->person, sizeof(e->person), "%s", person);
	e->change = json_integer_value(json_object_get(ev, LSEC_EV_CHANGE));
	bool station = same_text(action, LSEC_AUDIT_STATION_TRUST) ||
		       same_text(action, LSEC_AUDIT_STATION_DISTRUST);
	if (station) {
		e->trust = same_text(action, LSEC_AUDIT_STATION_TRUST);
		e->joined = same_text(json_string_value(json_object_get(ev, LSEC_EV_MEANING)),
				      "joined");
		if (!station_key_read(e, ev, true, &der, &ignored)) {
			goto out;
		}
	} else {
		const char *kind = json_string_value(json_object_get(ev, LSEC_EV_KIND));
		e->trust = same_text(kind, LSEC_AUDIT_CHANGE_STATION_TRUST);
		if ((!e->trust && !same_text(kind, LSEC_AUDIT_CHANGE_STATION_DISTRUST)) ||
		    e->change <= 0) {
			goto out;
		}
		const json_t *payload = json_object_get(ev, LSEC_EV_PAYLOAD);
		if (payload != NULL) {
			if (!station_key_read(e, payload, false, &der, &ignored)) {
				goto out;
			}
		} else {
			const char *subject =
				json_string_value(json_object_get(ev, LSEC_EV_SUBJECT));
			if (subject == NULL || strlen(subject) >= sizeof(e->name)) {
				goto out;
			}
			snprintf(e->name, sizeof(e->name), "%s", subject);
		}
	}
	e->seq = seq;
	memcpy(e->sig, sig.data, sig.len);
	e->sig_len = sig.len;
	*ok = true;
out:
	if (!*ok && e->pub != NULL) {
		EVP_PKEY_free(e->pub);
		e->pub = NULL;
	}
	lsec_err_clear(&ignored);
	json_decref(j);
	lsec_buf_release(&sig);
	lsec_buf_release(&der);
	return rc;
}

/*
 * The leaves of action before leaf `before`, in log order, appended to
 * (*ev)[*n]: as the action column lists them, or (checked, with the keys s
 * derived from that list) as the signed index and the leaves' content do
 * (lsec_audit__action_seqs).
 */
static int events_read(struct station_event **ev, size_t *n, lsec_audit_signer *s, bool checked,
		       lsec_store *st, const char *action, uint64_t before, lsec_err *err)
{
	int rc = 0;
	uint64_t *seqs = NULL;
	size_t ns = 0;
	struct station_event *grown = NULL;
	if (checked) {
		LSEC_TRY(lsec_audit__action_seqs(&seqs, &ns, st, s, action, err));
	} else {
		LSEC_TRY(lsec_store_leaf_seqs_for_action(&seqs, &ns, st, action, err));
	}
	LSEC_ENSURE((grown = lsec_realloc(*ev, (*n + ns + 1) * sizeof(**ev))) != NULL,
		    LSEC_E_NOMEM, "cannot read the trusted stations: out of memory");
	*ev = grown;
	for (size_t i = 0; i < ns && seqs[i] < before; i++) {
		bool ok = false;
		LSEC_TRY(station_event_read(&ok, &(*ev)[*n], st, seqs[i], action, err));
		*n += ok ? 1 : 0;
	}
out:
	lsec_free(seqs);
	return rc;
}

static void events_free(struct station_event *ev, size_t n)
{
	for (size_t i = 0; ev != NULL && i < n; i++) {
		EVP_PKEY_free(ev[i].pub);
	}
	lsec_free(ev);
}

/* The change leaves the derivation reads: requests and approvals of station trust. */
struct change_leaves {
	struct station_event *req, *appr;
	size_t nreq, nappr;
};

static int by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct station_event *)a)->seq;
	uint64_t y = ((const struct station_event *)b)->seq;
	return x < y ? -1 : x > y;
}

/*
 * The request e's change rests on (NULL: none): the last of c's requests
 * before e of the same change, kind, station and key.
 */
static const struct station_event *request_of(const struct change_leaves *c,
					      const struct station_event *e)
{
	const struct station_event *req = NULL;
	for (size_t i = 0; e->change > 0 && i < c->nreq; i++) {
		const struct station_event *r = &c->req[i];
		if (r->change == e->change && r->seq < e->seq && r->trust == e->trust &&
		    same_text(r->name, e->name) && lsec_ct_equal(r->fp, e->fp, 32)) {
			req = r;
		}
	}
	return req;
}

/*
 * The requests and approvals of changes of station trust: their own leaves
 * (LSEC_AUDIT_STATION_CHANGE_*), so that the cost does not grow with the
 * other changes of the log. A log written before them holds change.request
 * and change.approve leaves for its changes of station trust: those are
 * read, up to the last of the n station leaves ev that has no request of
 * its own before it (request_of), only when there is one.
 */
static int change_leaves_read(struct change_leaves *c, lsec_audit_signer *s, bool checked,
			      lsec_store *st, const struct station_event *ev, size_t n,
			      lsec_err *err)
{
	int rc = 0;
	uint64_t before = 0;
	LSEC_TRY(events_read(&c->req, &c->nreq, s, checked, st, LSEC_AUDIT_STATION_CHANGE_REQUEST,
			     UINT64_MAX, err));
	LSEC_TRY(events_read(&c->appr, &c->nappr, s, checked, st,
			     LSEC_AUDIT_STATION_CHANGE_APPROVE, UINT64_MAX, err));
	for (size_t i = 0; i < n; i++) {
		/* A request of the same change elsewhere (after it, of another kind) is not its. */
		bool requested = ev[i].joined || ev[i].change <= 0 || request_of(c, &ev[i]) != NULL;
		before = requested ? before : ev[i].seq;
	}
	if (before > 0) {
		LSEC_TRY(events_read(&c->req, &c->nreq, s, checked, st, "change.request", before,
				     err));
		LSEC_TRY(events_read(&c->appr, &c->nappr, s, checked, st, "change.approve", before,
				     err));
		qsort(c->req, c->nreq, sizeof(*c->req), by_seq);
		qsort(c->appr, c->nappr, sizeof(*c->appr), by_seq);
	}
out:
	return rc;
}

/*
 * The entry of kr whose key signed e as a signer of changes of trust (*at,
 * kr->n when none): live at e's position, and trusted at or before it.
 */
static int signer_of(size_t *at, lsec_audit_signer *s, const lsec_audit__keyring *kr,
		     const struct station_event *e, lsec_err *err)
{
	int rc = 0;
	char msg[400];
	size_t len = 0;
	bool ok = false;
	*at = kr->n;
	LSEC_TRY(sig_message(msg, sizeof(msg), &len, s->origin, e->seq, e->hash, err));
	for (size_t k = 0; k < kr->n && !ok; k++) {
		if (kr->k[k].since <= e->seq) {
			LSEC_TRY(try_key(&ok, &kr->k[k], e->seq, msg, len, e->sig + 4, err));
			*at = ok ? k : kr->n;
		}
	}
out:
	return rc;
}

/*
 * Whether e (a station.trust or station.distrust leaf) is backed by two
 * officers: its change's change.request and change.approve leaves are in the
 * log before it, of the same kind, station and key, by two distinct persons,
 * the approval signed by a key trusted there.
 */
static int two_officers(bool *ok, lsec_audit_signer *s, const lsec_audit__keyring *kr,
			const struct change_leaves *c, const struct station_event *e,
			lsec_err *err)
{
	int rc = 0;
	*ok = false;
	const struct station_event *req = request_of(c, e);
	for (size_t i = 0; req != NULL && i < c->nappr && !*ok; i++) {
		const struct station_event *a = &c->appr[i];
		if (a->change == e->change && a->seq > req->seq && a->seq < e->seq &&
		    a->trust == e->trust && same_text(a->name, e->name) &&
		    !same_text(a->person, req->person)) {
			size_t at = kr->n;
			LSEC_TRY(signer_of(&at, s, kr, a, err));
			*ok = at < kr->n;
		}
	}
out:
	return rc;
}

/*
 * The keyring's entries from s->nbase on, rebuilt in one pass in log order:
 * a station.trust or station.distrust leaf counts when it is signed by a key
 * trusted at its position (from the leaf trusting that key on, before its
 * distrust) and backed by two officers' change leaves; the leaf a joining
 * station records (meaning "joined") counts only when this signer's own key
 * signed it, and trusts the joined station's whole log.
 */
static int apply_events(lsec_audit_signer *s, const struct station_event *ev, size_t n,
			const struct change_leaves *c, lsec_err *err)
{
	int rc = 0;
	lsec_err ignored = LSEC_ERR_INIT;
	lsec_audit__keyring *next = lsec_calloc(1, sizeof(*next));
	lsec_audit__keyring *own = lsec_calloc(1, sizeof(*own));
	LSEC_ENSURE(next != NULL && own != NULL, LSEC_E_NOMEM,
		    "cannot read the trusted stations: out of memory");
	own->k[0] = s->trust.k[0]; /* borrowed */
	own->n = 1;
	for (size_t i = 0; i < s->nbase; i++) {
		next->k[i] = s->trust.k[i];
		LSEC_ENSURE((next->k[i].pub = key_ref(s->trust.k[i].pub)) != NULL, LSEC_E_NOMEM,
			    "cannot read the trusted stations: out of memory");
		next->n++;
	}
	for (size_t i = 0; i < next->n; i++) {
		next->k[i].by = SIZE_MAX;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct station_event *e = &ev[i];
			bool ok = false;
			size_t by = SIZE_MAX;
			if (pass == 0) {
				/* The station this one joined: its own leaf says so. */
				ok = e->joined && e->trust &&
				     lsec_audit__leaf_sig_check(own, s->origin, e->seq, e->hash,
								e->sig, e->sig_len, &ignored) == 0;
				lsec_err_clear(&ignored);
			} else if (!e->joined) {
				LSEC_TRY(signer_of(&by, s, next, e, err));
				ok = by < next->n;
				if (ok) {
					LSEC_TRY(two_officers(&ok, s, next, c, e, err));
				}
			}
			if (!ok || key_at(next, 0, e->pub) < s->nbase) {
				continue; /* the keys this station was opened with are never taken away */
			}
			size_t at = key_at(next, s->nbase, e->pub);
			lsec_audit__key *k = at < next->n ? &next->k[at] : NULL;
			bool live = k != NULL && !k->span[k->nspan - 1].bounded;
			if (e->trust && k == NULL) {
				if (lsec_audit__keyring_add(next, e->name, e->pub, &ignored) != 0) {
					lsec_err_clear(&ignored); /* full: the key stays untrusted */
					continue;
				}
				k = &next->k[at];
				k->since = pass == 0 ? 0 : e->seq;
				k->nspan = 1; /* span 0: from leaf 0 on */
				k->by = by;
			} else if (e->trust && !live && k->nspan < LSEC_AUDIT__SPANS) {
				/* Trusted again: its leaves from this one on only. */
				k->span[k->nspan].from = e->seq;
				k->span[k->nspan].bounded = false;
				k->nspan++;
				k->by = by;
			} else if (!e->trust && live) {
				distrust_from(next, at, e->seq);
			}
		}
	}
	lsec_audit__keyring_release(&s->trust);
	s->trust = *next;
	memset(next, 0, sizeof(*next));
out:
	if (next != NULL) {
		lsec_audit__keyring_release(next);
	}
	lsec_free(next);
	lsec_free(own);
	return rc;
}

/* One derivation of the trusted stations (see apply_events) from the lists events_read gives. */
static int trust_derive(lsec_audit_signer *s, lsec_store *st, bool checked, lsec_err *err)
{
	int rc = 0;
	struct station_event *t = NULL, *d = NULL, *ev = NULL;
	size_t nt = 0, nd = 0, n = 0;
	struct change_leaves c = {0};
	LSEC_TRY(events_read(&t, &nt, s, checked, st, LSEC_AUDIT_STATION_TRUST, UINT64_MAX, err));
	LSEC_TRY(events_read(&d, &nd, s, checked, st, LSEC_AUDIT_STATION_DISTRUST, UINT64_MAX,
			     err));
	LSEC_ENSURE((ev = lsec_calloc(nt + nd + 1, sizeof(*ev))) != NULL, LSEC_E_NOMEM,
		    "cannot read the trusted stations: out of memory");
	/* Both lists ascend: merged in log order (the keys move to ev). */
	for (size_t i = 0, j = 0; i < nt || j < nd;) {
		ev[n++] = j >= nd || (i < nt && t[i].seq < d[j].seq) ? t[i++] : d[j++];
	}
	nt = nd = 0;
	LSEC_TRY(change_leaves_read(&c, s, checked, st, ev, n, err));
	LSEC_TRY(apply_events(s, ev, n, &c, err));
out:
	events_free(ev, n);
	events_free(t, nt);
	events_free(d, nd);
	events_free(c.req, c.nreq);
	events_free(c.appr, c.nappr);
	return rc;
}

int lsec_audit_signer_trust_log(lsec_audit_signer *s, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(s);
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(s->magic == SIGNER_MAGIC, LSEC_E_USAGE, "not a leaf signer");
	if (s->nbase == 0) {
		s->nbase = s->trust.n;
	}
	if (s->nbase == 0) {
		goto out; /* no key to start from: it trusts nothing, and reads nothing */
	}
	/*
	 * The action column lies outside the leaf hash: a leaf hidden from it
	 * (a station.distrust) is found again by deriving once more from the
	 * lists the signed index and the leaves' content give, checked under
	 * the checkpoint the keys of the first derivation verify.
	 */
	LSEC_TRY(trust_derive(s, st, false, err));
	LSEC_TRY(trust_derive(s, st, true, err));
out:
	return rc;
}

void lsec_audit__keyring_bounds(lsec_audit__keyring *kr, lsec_store *st)
{
	lsec_audit_signer *s = lsec_audit__signer(st);
	for (size_t i = 0; s != NULL && i < kr->n; i++) {
		for (size_t k = 0; k < s->trust.n; k++) {
			if (EVP_PKEY_eq(kr->k[i].pub, s->trust.k[k].pub) == 1) {
				memcpy(kr->k[i].span, s->trust.k[k].span, sizeof(kr->k[i].span));
				kr->k[i].nspan = s->trust.k[k].nspan;
			}
		}
	}
}
