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

#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#define SIGNER_MAGIC 0x6c736967u /* "lsig": the store's opaque pointer is ours */

struct lsec_audit_signer {
	uint32_t magic;
	char origin[256];
	EVP_PKEY *key; /* private (NULL in a verifier); the keyring owns it */
	uint8_t key_id[4];
	lsec_audit__keyring trust; /* entry 0 is the signer's own key */
	lsec_audit_tree verified;  /* the tree of the last checkpoint it made */
	uint8_t index[32];         /* and the index root that checkpoint signs */
	uint8_t (*seen)[32];       /* seen[i]: hash of leaf seen_from + i, signature checked */
	uint64_t seen_from;
	size_t nseen;
};

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

/* Whether sig (64 bytes) verifies over msg under k. */
static int try_key(bool *ok, const lsec_audit__key *k, const char *msg, size_t len,
		   const uint8_t *sig, lsec_err *err)
{
	return lsec_evp_verify(ok, k->pub, NULL, (const uint8_t *)msg, len, sig, 64,
			       "cannot check a leaf signature", err);
}

int lsec_audit__leaf_sig_check(lsec_audit__keyring *kr, const char *origin, uint64_t seq,
			       const uint8_t hash[32], const uint8_t *sig, size_t sig_len,
			       lsec_err *err)
{
	int rc = 0;
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
	for (size_t i = 0; i < kr->n && !named; i++) {
		const lsec_audit__key *k = &kr->k[i];
		if (k->id_known && lsec_ct_equal(k->id, sig, 4)) {
			named = true;
			LSEC_TRY(try_key(&ok, k, msg, len, sig + 4, err));
			if (ok) {
				goto out;
			}
		}
	}
	/* An id not seen yet (a key given without its name): the key that verifies names it. */
	for (size_t i = 0; i < kr->n; i++) {
		lsec_audit__key *k = &kr->k[i];
		if (k->id_known) {
			continue;
		}
		LSEC_TRY(try_key(&ok, k, msg, len, sig + 4, err));
		if (ok) {
			memcpy(k->id, sig, 4);
			k->id_known = true;
			goto out;
		}
	}
	/* An id rewritten outside linesec does not make a genuine leaf fail: every key is tried. */
	for (size_t i = 0; i < kr->n; i++) {
		const lsec_audit__key *k = &kr->k[i];
		if (k->id_known && !lsec_ct_equal(k->id, sig, 4)) {
			LSEC_TRY(try_key(&ok, k, msg, len, sig + 4, err));
			if (ok) {
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
	lsec_free(s->seen);
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

uint8_t *lsec_audit__signer_index(lsec_audit_signer *s)
{
	return s->index;
}

/* Most leaf hashes a signer remembers (32 MiB). */
#define SEEN_MAX ((size_t)1 << 20)

bool lsec_audit__signer_seen(const lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32])
{
	return seq >= s->seen_from && seq - s->seen_from < s->nseen &&
	       lsec_ct_equal(s->seen[seq - s->seen_from], hash, 32);
}

void lsec_audit__signer_saw(lsec_audit_signer *s, uint64_t seq, const uint8_t hash[32])
{
	/* Only the next leaf extends the run; anything else starts a new one. */
	if (s->nseen == 0 || seq != s->seen_from + s->nseen) {
		if (seq >= s->seen_from && seq - s->seen_from < s->nseen) {
			return;
		}
		s->seen_from = seq;
		s->nseen = 0;
	}
	if (s->nseen % 1024 == 0) {
		if (s->nseen >= SEEN_MAX) {
			return;
		}
		uint8_t(*n)[32] = lsec_realloc(s->seen, (s->nseen + 1024) * sizeof(*n));
		if (n == NULL) {
			return;
		}
		s->seen = n;
	}
	memcpy(s->seen[s->nseen++], hash, 32);
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
