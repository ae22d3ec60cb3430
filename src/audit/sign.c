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
#include <openssl/x509.h>
#include <stdio.h>
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
	size_t nbase;              /* keys given by the caller; the log's trusted stations follow */
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

/* Whether sig (64 bytes) verifies over msg (of leaf seq) under k. */
static int try_key(bool *ok, const lsec_audit__key *k, uint64_t seq, const char *msg, size_t len,
		   const uint8_t *sig, lsec_err *err)
{
	*ok = false;
	if (k->bounded && seq >= k->until) {
		return 0; /* distrusted by the log before this leaf */
	}
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
			LSEC_TRY(try_key(&ok, k, seq, msg, len, sig + 4, err));
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
		LSEC_TRY(try_key(&ok, k, seq, msg, len, sig + 4, err));
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
			LSEC_TRY(try_key(&ok, k, seq, msg, len, sig + 4, err));
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

/* ---- the stations the log trusts ------------------------------------------- */

/* One station.trust or station.distrust leaf as read (its signature not yet judged). */
struct station_event {
	uint64_t seq;
	uint8_t hash[32];
	uint8_t sig[LSEC_AUDIT_LEAF_SIG_LEN];
	size_t sig_len;
	bool trust;
	char name[65];
	uint8_t fp[32]; /* SHA-256 of the key's SubjectPublicKeyInfo */
	EVP_PKEY *pub;
};

/* Public text (actions), not secrets. */
static bool same_text(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok: public text */
}

/*
 * Reads leaf seq into *e when it is a well-formed station.trust or
 * station.distrust leaf whose bytes match their stored hash; *ok false
 * otherwise (a leaf that is not is named by lsec_audit_verify, never used).
 */
static int station_event_read(bool *ok, struct station_event *e, lsec_store *st, uint64_t seq,
			      lsec_err *err)
{
	int rc = 0;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX), sig = LSEC_BUF_INIT(1u << 16);
	lsec_buf der = LSEC_BUF_INIT(1u << 12);
	uint8_t h[32];
	json_t *j = NULL;
	lsec_err ignored = LSEC_ERR_INIT;
	*ok = false;
	memset(e, 0, sizeof(*e));
	LSEC_TRY(lsec_store_leaf_get(&leaf, e->hash, &sig, st, seq, err));
	LSEC_TRY(lsec_audit_leaf_hash(h, leaf.data, leaf.len, err));
	if (!lsec_ct_equal(h, e->hash, 32) || sig.len != LSEC_AUDIT_LEAF_SIG_LEN) {
		goto out;
	}
	j = json_loadb((const char *)leaf.data, leaf.len, JSON_REJECT_DUPLICATES, NULL);
	const char *action = json_string_value(json_object_get(j, "action"));
	json_t *ev = json_object_get(j, "evidence");
	const char *name = json_string_value(json_object_get(ev, LSEC_EV_STATION));
	const char *pub = json_string_value(json_object_get(ev, LSEC_EV_PUBKEY));
	const char *fp = json_string_value(json_object_get(ev, LSEC_EV_KEY_SHA256));
	if ((!same_text(action, LSEC_AUDIT_STATION_TRUST) &&
	     !same_text(action, LSEC_AUDIT_STATION_DISTRUST)) ||
	    json_integer_value(json_object_get(j, "seq")) != (json_int_t)seq ||
	    !same_text(json_string_value(json_object_get(j, "outcome")), "ok") || name == NULL ||
	    pub == NULL || fp == NULL || strlen(name) >= sizeof(e->name) ||
	    lsec_base64_decode(&der, pub, strlen(pub), "pubkey", &ignored) != 0 ||
	    lsec_hex_decode_fixed(e->fp, 32, fp, "key-sha256", &ignored) != 0) {
		goto out;
	}
	uint8_t got[32];
	const uint8_t *p = der.data;
	e->pub = d2i_PUBKEY(NULL, &p, (long)der.len);
	if (e->pub == NULL || !EVP_PKEY_is_a(e->pub, "ED25519")) {
		goto out;
	}
	LSEC_TRY(lsec_sha256(got, der.data, der.len, err));
	if (!lsec_ct_equal(got, e->fp, 32)) {
		goto out;
	}
	e->seq = seq;
	e->trust = same_text(action, LSEC_AUDIT_STATION_TRUST);
	snprintf(e->name, sizeof(e->name), "%s", name);
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
	lsec_buf_release(&leaf);
	lsec_buf_release(&sig);
	lsec_buf_release(&der);
	return rc;
}

/* The keyring's entries from s->nbase on, rebuilt: each event's key, by fingerprint, as the
 * events signed by a key trusted at their position leave it. */
static int apply_events(bool *changed, lsec_audit_signer *s, const struct station_event *ev,
			size_t n, lsec_err *err)
{
	int rc = 0;
	lsec_audit__keyring next;
	lsec_err ignored = LSEC_ERR_INIT;
	memset(&next, 0, sizeof(next));
	for (size_t i = 0; i < s->nbase; i++) {
		next.k[i] = s->trust.k[i];
		LSEC_ENSURE((next.k[i].pub = key_ref(s->trust.k[i].pub)) != NULL, LSEC_E_NOMEM,
			    "cannot read the trusted stations: out of memory");
		next.n++;
	}
	for (size_t i = 0; i < n; i++) {
		/* Judged under the stations trusted so far (this round's view). */
		if (lsec_audit__leaf_sig_check(&s->trust, s->origin, ev[i].seq, ev[i].hash,
					       ev[i].sig, ev[i].sig_len, &ignored) != 0) {
			lsec_err_clear(&ignored);
			continue;
		}
		bool base = false;
		for (size_t k = 0; k < s->nbase; k++) {
			base = base || EVP_PKEY_eq(s->trust.k[k].pub, ev[i].pub) == 1;
		}
		if (base) {
			continue; /* the keys this station was opened with are never taken away */
		}
		size_t at = next.n;
		for (size_t k = s->nbase; k < next.n; k++) {
			if (EVP_PKEY_eq(next.k[k].pub, ev[i].pub) == 1) {
				at = k;
			}
		}
		if (at == next.n) {
			if (!ev[i].trust) {
				continue; /* distrusting a station never trusted */
			}
			LSEC_TRY(lsec_audit__keyring_add(&next, ev[i].name, ev[i].pub, err));
		}
		next.k[at].bounded = !ev[i].trust;
		next.k[at].until = ev[i].trust ? 0 : ev[i].seq;
	}
	*changed = next.n != s->trust.n;
	for (size_t k = s->nbase; k < next.n && !*changed; k++) {
		*changed = EVP_PKEY_eq(next.k[k].pub, s->trust.k[k].pub) != 1 ||
			   next.k[k].bounded != s->trust.k[k].bounded ||
			   next.k[k].until != s->trust.k[k].until;
	}
	lsec_audit__keyring_release(&s->trust);
	s->trust = next;
	memset(&next, 0, sizeof(next));
out:
	lsec_audit__keyring_release(&next);
	return rc;
}

int lsec_audit_signer_trust_log(lsec_audit_signer *s, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	uint64_t *t = NULL, *d = NULL;
	size_t nt = 0, nd = 0, n = 0;
	struct station_event *ev = NULL;
	LSEC_ENSURE_REF(s);
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(s->magic == SIGNER_MAGIC, LSEC_E_USAGE, "not a leaf signer");
	if (s->nbase == 0) {
		s->nbase = s->trust.n;
	}
	if (s->nbase == 0) {
		goto out; /* no key to start from: it trusts nothing, and reads nothing */
	}
	LSEC_TRY(lsec_store_leaf_seqs_for_action(&t, &nt, st, LSEC_AUDIT_STATION_TRUST, err));
	LSEC_TRY(lsec_store_leaf_seqs_for_action(&d, &nd, st, LSEC_AUDIT_STATION_DISTRUST, err));
	LSEC_ENSURE((ev = lsec_calloc(nt + nd + 1, sizeof(*ev))) != NULL, LSEC_E_NOMEM,
		    "cannot read the trusted stations: out of memory");
	/* Both lists ascend: merged in log order. */
	for (size_t i = 0, j = 0; i < nt || j < nd;) {
		uint64_t seq = j >= nd || (i < nt && t[i] < d[j]) ? t[i++] : d[j++];
		bool ok = false;
		LSEC_TRY(station_event_read(&ok, &ev[n], st, seq, err));
		n += ok ? 1 : 0;
	}
	/* A station trusted by a leaf of one trusted later in the log: until nothing changes. */
	bool changed = true;
	for (unsigned round = 0; changed && round <= LSEC_AUDIT_MAX_KEYS; round++) {
		LSEC_TRY(apply_events(&changed, s, ev, n, err));
	}
out:
	for (size_t i = 0; ev != NULL && i < n; i++) {
		EVP_PKEY_free(ev[i].pub);
	}
	lsec_free(ev);
	lsec_free(t);
	lsec_free(d);
	return rc;
}

void lsec_audit__keyring_bounds(lsec_audit__keyring *kr, lsec_store *st)
{
	lsec_audit_signer *s = lsec_audit__signer(st);
	for (size_t i = 0; s != NULL && i < kr->n; i++) {
		for (size_t k = 0; k < s->trust.n; k++) {
			if (EVP_PKEY_eq(kr->k[i].pub, s->trust.k[k].pub) == 1) {
				kr->k[i].bounded = s->trust.k[k].bounded;
				kr->k[i].until = s->trust.k[k].until;
			}
		}
	}
}
