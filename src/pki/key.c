/*
 * Key pairs: ECDSA P-256 and Ed25519 through OpenSSL's EVP layer.
 *
 * Private key files are PKCS#8 PEM, created 0600 and never replaced; with a
 * passphrase they are encrypted PKCS#8 (PBES2: scrypt + AES-256-CBC). The
 * PEM text of a private key only ever lives in wiped memory (lsec_buf,
 * OpenSSL's secure-heap BIO).
 *
 * Signatures follow what MCUboot checks (bootutil image_validate.c and
 * imgtool's keys/): an ECDSA P-256 signature is ECDSA-with-SHA256, DER,
 * so signing a 32-byte digest means signing it prehashed; Ed25519 signs
 * the 32-byte digest itself as its message (not the "pure" mode).
 *
 * @test tests/unit/pki/test_key.c
 */
#include "pki_int.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

struct lsec_key {
	EVP_PKEY *pkey;
	lsec_key_type type;
	bool has_private;
	/*
	 * The DER SubjectPublicKeyInfo and its SHA-256, computed once: OpenSSL 3
	 * encodes keys through its provider framework, which costs more than
	 * a signature verification.
	 */
	uint8_t *spki;
	size_t spki_len;
	uint8_t fingerprint[32];
};

/* Public key and private key files are small; anything larger is not a key. */
#define KEY_FILE_MAX (64u * 1024u)

/*
 * scrypt cost for encrypted key files: N = 2^14, r = 8, p = 1 (16 MiB),
 * inside OpenSSL's default 32 MiB decryption limit.
 */
#define KEY_SCRYPT_N 16384u
#define KEY_SCRYPT_R 8u
#define KEY_SCRYPT_P 1u

/*
 * Wraps pkey (taking ownership, also on failure) after checking it is one
 * of the two supported types, with its DER SubjectPublicKeyInfo (spki if
 * the caller has it, else encoded here). Fails with LSEC_E_PARSE for any
 * other key type.
 */
static int key_wrap(lsec_key **out, EVP_PKEY *pkey, bool has_private, const uint8_t *spki,
		    size_t spki_len, const char *what, lsec_err *err)
{
	int rc = 0;
	lsec_key *k = NULL;
	lsec_key_type type;
	char group[32] = "";
	unsigned char *der = NULL;

	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		type = LSEC_KEY_ED25519;
	} else if (EVP_PKEY_is_a(pkey, "EC") &&
		   EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						  sizeof(group), NULL) == 1 &&
		   strcmp(group, "prime256v1") == 0) { /* lint:ok: curve name, not a secret */
		type = LSEC_KEY_ECDSA_P256;
	} else {
		ERR_clear_error();
		LSEC_BAIL(LSEC_E_PARSE, "unsupported key '%s': expected ECDSA P-256 or Ed25519, got %s",
			  what, EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
	}
	k = lsec_calloc(1, sizeof(*k));
	LSEC_ENSURE(k != NULL, LSEC_E_NOMEM, "cannot load key '%s': out of memory", what);
	k->pkey = pkey;
	pkey = NULL;
	k->type = type;
	k->has_private = has_private;
	if (spki == NULL) {
		int n = i2d_PUBKEY(k->pkey, &der);
		LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot encode public key of '%s'", what);
		spki = der;
		spki_len = (size_t)n;
	}
	k->spki = lsec_malloc(spki_len);
	LSEC_ENSURE(k->spki != NULL, LSEC_E_NOMEM, "cannot load key '%s': out of memory", what);
	memcpy(k->spki, spki, spki_len);
	k->spki_len = spki_len;
	LSEC_TRY(lsec_sha256(k->fingerprint, k->spki, k->spki_len, err));
	*out = k;
	k = NULL;
out:
	OPENSSL_free(der);
	lsec_key_free(k);
	EVP_PKEY_free(pkey);
	return rc;
}

int lsec_key_generate(lsec_key **out, lsec_key_type type, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	switch (type) {
	case LSEC_KEY_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case LSEC_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		LSEC_BAIL(LSEC_E_USAGE, "cannot generate key: unknown key type %d", (int)type);
	}
	LSEC_TRY_OSSL_PTR(pkey, LSEC_E_CRYPTO, "cannot generate %s key",
			  type == LSEC_KEY_ED25519 ? "Ed25519" : "ECDSA P-256");
	rc = key_wrap(out, pkey, true, NULL, 0, "generated", err);
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	return rc;
}

/* Hands OpenSSL the passphrase from the lsec_secret; never prompts. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const lsec_secret *pass = u;
	if (pass == NULL || size <= 0 || lsec_secret_len(pass) > (size_t)size) {
		return -1;
	}
	memcpy(buf, lsec_secret_cdata(pass), lsec_secret_len(pass));
	return (int)lsec_secret_len(pass);
}

static bool pem_has(const lsec_buf *b, const char *label)
{
	size_t n = strlen(label);
	for (size_t i = 0; b->len >= n && i <= b->len - n; i++) {
		if (memcmp(b->data + i, label, n) == 0) { /* lint:ok: PEM label, not secret */
			return true;
		}
	}
	return false;
}

int lsec_key_load_private(lsec_key **out, const char *path, const lsec_secret *passphrase,
			  lsec_err *err)
{
	int rc = 0;
	lsec_buf pem = LSEC_BUF_INIT(KEY_FILE_MAX);
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	LSEC_TRY(lsec_file_read(&pem, path, err));
	bool encrypted = pem_has(&pem, "ENCRYPTED");
	LSEC_ENSURE(!encrypted || passphrase != NULL, LSEC_E_CRYPTO,
		    "cannot load private key '%s': the file is encrypted and no passphrase was "
		    "given (--passphrase-file or LINESEC_KEY_PASSPHRASE)",
		    path);
	bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	LSEC_TRY_OSSL_PTR(bio, LSEC_E_NOMEM, "cannot load private key '%s'", path);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)(uintptr_t)passphrase);
	if (pkey == NULL) {
		rc = lsec_err_ossl(err, encrypted ? LSEC_E_CRYPTO : LSEC_E_PARSE, __FILE__, __LINE__,
				   "cannot load private key '%s': %s", path,
				   encrypted ? "wrong passphrase or damaged file"
					     : "expected a PEM private key");
		goto out;
	}
	rc = key_wrap(out, pkey, true, NULL, 0, path, err);
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	lsec_buf_release(&pem);
	return rc;
}

int lsec_key_load_public(lsec_key **out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf pem = LSEC_BUF_INIT(KEY_FILE_MAX);
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL, *pub = NULL;

	*out = NULL;
	LSEC_TRY(lsec_file_read(&pem, path, err));
	bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	LSEC_TRY_OSSL_PTR(bio, LSEC_E_NOMEM, "cannot load public key '%s'", path);
	if (pem_has(&pem, "-----BEGIN PUBLIC KEY-----")) {
		pub = PEM_read_bio_PUBKEY(bio, NULL, pass_cb, NULL);
	} else if (!pem_has(&pem, "ENCRYPTED")) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, NULL);
		if (pkey != NULL) {
			LSEC_TRY(lsec_pki__key_public_only(&pub, pkey, path, err));
		}
	}
	LSEC_TRY_OSSL_PTR(pub, LSEC_E_PARSE,
			  "cannot load public key '%s': expected a PEM public key (SubjectPublicKeyInfo) "
			  "or an unencrypted private key",
			  path);
	rc = key_wrap(out, pub, false, NULL, 0, path, err);
	pub = NULL;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	lsec_buf_release(&pem);
	return rc;
}

int lsec_key_from_spki(lsec_key **out, const uint8_t *der, size_t len, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pub = NULL;

	*out = NULL;
	LSEC_ENSURE(der != NULL && len > 0 && len <= KEY_FILE_MAX, LSEC_E_PARSE,
		    "cannot load public key: SubjectPublicKeyInfo of %zu bytes", len);
	const unsigned char *p = der;
	pub = d2i_PUBKEY(NULL, &p, (long)len);
	LSEC_TRY_OSSL_PTR(pub, LSEC_E_PARSE, "cannot load public key: malformed DER SubjectPublicKeyInfo");
	LSEC_ENSURE(p == der + len, LSEC_E_PARSE,
		    "cannot load public key: %zu trailing bytes after the SubjectPublicKeyInfo",
		    (size_t)(der + len - p));
	rc = key_wrap(out, pub, false, der, len, "SubjectPublicKeyInfo", err);
	pub = NULL;
out:
	EVP_PKEY_free(pub);
	return rc;
}

int lsec_key_write_private(const lsec_key *key, const char *path, const lsec_secret *passphrase,
			   lsec_err *err)
{
	int rc = 0;
	BIO *bio = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8e = NULL;
	lsec_buf pem = LSEC_BUF_INIT(KEY_FILE_MAX);

	LSEC_ENSURE_REF(key);
	LSEC_ENSURE(key->has_private, LSEC_E_USAGE, "cannot write private key '%s': the key has no private part",
		    path);
	/* Secure-heap BIO: cleared when freed. */
	bio = BIO_new(BIO_s_secmem());
	LSEC_TRY_OSSL_PTR(bio, LSEC_E_NOMEM, "cannot write private key '%s'", path);
	if (passphrase == NULL) {
		LSEC_TRY_OSSL(PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL),
			      LSEC_E_CRYPTO, "cannot encode private key '%s'", path);
	} else {
		LSEC_ENSURE(lsec_secret_len(passphrase) <= INT32_MAX, LSEC_E_USAGE,
			    "cannot write private key '%s': passphrase too long", path);
		p8 = EVP_PKEY2PKCS8(key->pkey);
		LSEC_TRY_OSSL_PTR(p8, LSEC_E_CRYPTO, "cannot encode private key '%s'", path);
		pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, 0, NULL, KEY_SCRYPT_N,
					    KEY_SCRYPT_R, KEY_SCRYPT_P);
		LSEC_TRY_OSSL_PTR(pbe, LSEC_E_CRYPTO, "cannot encrypt private key '%s'", path);
		p8e = PKCS8_set0_pbe((const char *)lsec_secret_cdata(passphrase),
				     (int)lsec_secret_len(passphrase), p8, pbe);
		LSEC_TRY_OSSL_PTR(p8e, LSEC_E_CRYPTO, "cannot encrypt private key '%s'", path);
		pbe = NULL; /* now owned by p8e */
		LSEC_TRY_OSSL(PEM_write_bio_PKCS8(bio, p8e), LSEC_E_CRYPTO,
			      "cannot encode private key '%s'", path);
	}
	LSEC_TRY(lsec_pki__bio_to_buf(&pem, bio, "cannot encode key", err));
	LSEC_TRY(lsec_file_write_new(path, pem.data, pem.len, 0600, err));
out:
	X509_SIG_free(p8e);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8);
	BIO_free(bio);
	lsec_buf_release(&pem);
	return rc;
}

int lsec_key_public_pem(lsec_buf *out, const lsec_key *key, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(key);
	LSEC_TRY(lsec_pki__pem_append(out, lsec_pki__pem_pubkey, key->pkey, "cannot encode public key",
				      err));
out:
	return rc;
}

int lsec_key_spki_der(lsec_buf *out, const lsec_key *key, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(key);
	LSEC_TRY(lsec_buf_append(out, key->spki, key->spki_len, err));
out:
	return rc;
}

int lsec_key_fingerprint(uint8_t out[32], const lsec_key *key, lsec_err *err)
{
	int rc = 0;
	memset(out, 0, 32);
	LSEC_ENSURE_REF(key);
	memcpy(out, key->fingerprint, 32);
out:
	return rc;
}

lsec_key_type lsec_key_get_type(const lsec_key *key)
{
	return key->type;
}

bool lsec_key_has_private(const lsec_key *key)
{
	return key->has_private;
}

struct evp_pkey_st *lsec_key_evp(const lsec_key *key)
{
	return key->pkey;
}

static const char *const key_type_names[] = {
	[LSEC_KEY_ECDSA_P256] = "ecdsa-p256",
	[LSEC_KEY_ED25519] = "ed25519",
};
#define N_KEY_TYPES (sizeof(key_type_names) / sizeof(key_type_names[0]))

const char *lsec_key_type_name(lsec_key_type type)
{
	return (unsigned)type < N_KEY_TYPES && key_type_names[type] != NULL ? key_type_names[type]
									      : "unknown";
}

int lsec_key_type_parse(lsec_key_type *out, const char *s, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, key_type_names, N_KEY_TYPES, s, "key type", err);
	*out = (lsec_key_type)i;
	return rc;
}

/* Ed25519 signs msg whole (one-shot DigestSign with no digest). */
static int ed25519_sign(lsec_buf *sig, const lsec_key *key, const uint8_t *msg, size_t len,
			lsec_err *err)
{
	return lsec_evp_sign(sig, key->pkey, NULL, msg, len, "cannot sign with Ed25519", err);
}

static int ed25519_verify(const lsec_key *key, const uint8_t *msg, size_t len, const uint8_t *sig,
			  size_t siglen, lsec_err *err)
{
	int rc = 0;
	bool ok = false;
	LSEC_TRY(lsec_evp_verify(&ok, key->pkey, NULL, msg, len, sig, siglen,
				 "cannot verify Ed25519 signature", err));
	LSEC_ENSURE(ok, LSEC_E_CRYPTO, "Ed25519 signature does not verify");
out:
	return rc;
}

/* ECDSA over a SHA-256 digest computed elsewhere (prehashed), DER out. */
static int ecdsa_sign_digest(lsec_buf *sig, const lsec_key *key, const uint8_t digest[32],
			     lsec_err *err)
{
	int rc = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	uint8_t s[80];
	size_t slen = sizeof(s);
	LSEC_TRY_OSSL_PTR(ctx, LSEC_E_NOMEM, "cannot sign with ECDSA P-256");
	LSEC_TRY_OSSL(EVP_PKEY_sign_init(ctx), LSEC_E_CRYPTO, "cannot sign with ECDSA P-256");
	LSEC_TRY_OSSL(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), LSEC_E_CRYPTO,
		      "cannot sign with ECDSA P-256");
	LSEC_TRY_OSSL(EVP_PKEY_sign(ctx, s, &slen, digest, 32), LSEC_E_CRYPTO,
		      "cannot sign with ECDSA P-256");
	LSEC_TRY(lsec_buf_append(sig, s, slen, err));
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/*
 * imgtool may pad an ECDSA signature with zero bytes to a fixed 72; the DER
 * SEQUENCE says how long the signature really is. Returns the unpadded
 * length, or siglen when the bytes after the SEQUENCE are not all zero
 * (so the verifier rejects them).
 */
static size_t der_unpadded_len(const uint8_t *sig, size_t siglen)
{
	if (siglen < 2 || sig[0] != 0x30 || sig[1] >= 0x80 || (size_t)sig[1] + 2 > siglen) {
		return siglen;
	}
	size_t n = (size_t)sig[1] + 2;
	for (size_t i = n; i < siglen; i++) {
		if (sig[i] != 0) {
			return siglen;
		}
	}
	return n;
}

static int ecdsa_verify_digest(const lsec_key *key, const uint8_t digest[32], const uint8_t *sig,
			       size_t siglen, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	LSEC_TRY_OSSL_PTR(ctx, LSEC_E_NOMEM, "cannot verify ECDSA signature");
	LSEC_TRY_OSSL(EVP_PKEY_verify_init(ctx), LSEC_E_CRYPTO, "cannot verify ECDSA signature");
	LSEC_TRY_OSSL(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), LSEC_E_CRYPTO,
		      "cannot verify ECDSA signature");
	if (EVP_PKEY_verify(ctx, sig, der_unpadded_len(sig, siglen), digest, 32) != 1) {
		ERR_clear_error();
		LSEC_BAIL(LSEC_E_CRYPTO, "ECDSA P-256 signature does not verify");
	}
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int lsec_key_sign_digest(lsec_buf *sig, const lsec_key *key, const uint8_t digest[32],
			 lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(key);
	LSEC_ENSURE(key->has_private, LSEC_E_USAGE, "cannot sign: the key has no private part");
	if (key->type == LSEC_KEY_ED25519) {
		LSEC_TRY(ed25519_sign(sig, key, digest, 32, err));
	} else {
		LSEC_TRY(ecdsa_sign_digest(sig, key, digest, err));
	}
out:
	return rc;
}

int lsec_key_verify_digest(const lsec_key *key, const uint8_t digest[32], const uint8_t *sig,
			   size_t siglen, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(key);
	if (key->type == LSEC_KEY_ED25519) {
		LSEC_TRY(ed25519_verify(key, digest, 32, sig, siglen, err));
	} else {
		LSEC_TRY(ecdsa_verify_digest(key, digest, sig, siglen, err));
	}
out:
	return rc;
}

int lsec_key_sign(lsec_buf *sig, const lsec_key *key, const uint8_t *msg, size_t len,
		  lsec_err *err)
{
	int rc = 0;
	uint8_t digest[32];
	LSEC_ENSURE_REF(key);
	LSEC_ENSURE(key->has_private, LSEC_E_USAGE, "cannot sign: the key has no private part");
	if (key->type == LSEC_KEY_ED25519) {
		LSEC_TRY(ed25519_sign(sig, key, msg, len, err));
	} else {
		LSEC_TRY(lsec_sha256(digest, msg, len, err));
		LSEC_TRY(ecdsa_sign_digest(sig, key, digest, err));
	}
out:
	return rc;
}

int lsec_key_verify(const lsec_key *key, const uint8_t *msg, size_t len, const uint8_t *sig,
		    size_t siglen, lsec_err *err)
{
	int rc = 0;
	uint8_t digest[32];
	LSEC_ENSURE_REF(key);
	if (key->type == LSEC_KEY_ED25519) {
		LSEC_TRY(ed25519_verify(key, msg, len, sig, siglen, err));
	} else {
		LSEC_TRY(lsec_sha256(digest, msg, len, err));
		LSEC_TRY(ecdsa_verify_digest(key, digest, sig, siglen, err));
	}
out:
	return rc;
}

void lsec_key_free(lsec_key *key)
{
	if (key == NULL) {
		return;
	}
	EVP_PKEY_free(key->pkey);
	lsec_free(key->spki);
	lsec_free(key);
}

int lsec_key_passphrase_load(lsec_secret **out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(4096);
	const char *env = NULL;
	const char *src = path;
	size_t n = 0;

	*out = NULL;
	if (path != NULL) {
		LSEC_TRY(lsec_file_read(&b, path, err));
		n = b.len;
		if (n > 0 && b.data[n - 1] == '\n') {
			n--;
		}
		if (n > 0 && b.data[n - 1] == '\r') {
			n--;
		}
		LSEC_ENSURE(n > 0, LSEC_E_USAGE, "cannot use passphrase file '%s': it is empty", path);
		LSEC_TRY(lsec_secret_from(out, b.data, n, err));
		goto out;
	}
	env = getenv("LINESEC_KEY_PASSPHRASE");
	if (env == NULL) {
		goto out;
	}
	src = "LINESEC_KEY_PASSPHRASE";
	n = strlen(env);
	LSEC_ENSURE(n > 0, LSEC_E_USAGE, "cannot use passphrase from %s: it is empty", src);
	LSEC_TRY(lsec_secret_from(out, env, n, err));
out:
	lsec_buf_release(&b);
	return rc;
}
