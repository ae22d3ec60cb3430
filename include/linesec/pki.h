/*
 * linesec/pki.h - keys, certificates, CRLs and credentials (OpenSSL 3).
 *
 * This header grows with the PKI work (line CA, device certificates,
 * revocation, PKCS#11). Its first part is the key pair, which firmware
 * signing already needs.
 *
 * Invariants: an lsec_key wraps one EVP_PKEY; private key files are written
 * 0600 and, when a passphrase is given, as encrypted PKCS#8; key material
 * passed around in memory lives in lsec_secret.
 */
#ifndef LINESEC_PKI_H
#define LINESEC_PKI_H

#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lsec_key_type {
	LSEC_KEY_ECDSA_P256 = 1,
	LSEC_KEY_ED25519 = 2,
} lsec_key_type;

typedef struct lsec_key lsec_key;

/* A fresh key pair from the OS CSPRNG. */
LSEC_API LSEC_MUST_USE int lsec_key_generate(lsec_key **out, lsec_key_type type, lsec_err *err);
/*
 * Loads a private key (PEM, PKCS#8 or traditional; passphrase NULL if clear).
 * Fails with LSEC_E_IO (unreadable), LSEC_E_PARSE (not a PEM key, or not
 * ECDSA P-256 / Ed25519), LSEC_E_CRYPTO (encrypted: no or wrong passphrase).
 * Never prompts on a terminal.
 */
LSEC_API LSEC_MUST_USE int lsec_key_load_private(lsec_key **out, const char *path,
						 const lsec_secret *passphrase, lsec_err *err);
/* Loads a public key (PEM SubjectPublicKeyInfo) or the public half of a private key file. */
LSEC_API LSEC_MUST_USE int lsec_key_load_public(lsec_key **out, const char *path, lsec_err *err);
/* From DER SubjectPublicKeyInfo. */
LSEC_API LSEC_MUST_USE int lsec_key_from_spki(lsec_key **out, const uint8_t *der, size_t len,
					      lsec_err *err);
/*
 * Writes the private key as PKCS#8 PEM, mode 0600, never replacing a file
 * (LSEC_E_EXISTS); encrypted PKCS#8 (PBES2: scrypt N=2^14 r=8 p=1,
 * AES-256-CBC) when passphrase is not NULL.
 */
LSEC_API LSEC_MUST_USE int lsec_key_write_private(const lsec_key *key, const char *path,
						  const lsec_secret *passphrase, lsec_err *err);
/* PEM SubjectPublicKeyInfo into out. */
LSEC_API LSEC_MUST_USE int lsec_key_public_pem(lsec_buf *out, const lsec_key *key, lsec_err *err);
/* DER SubjectPublicKeyInfo into out. */
LSEC_API LSEC_MUST_USE int lsec_key_spki_der(lsec_buf *out, const lsec_key *key, lsec_err *err);
/* SHA-256 of the DER SubjectPublicKeyInfo (MCUboot's key hash; the key fingerprint). */
LSEC_API LSEC_MUST_USE int lsec_key_fingerprint(uint8_t out[32], const lsec_key *key,
						lsec_err *err);
LSEC_API lsec_key_type lsec_key_get_type(const lsec_key *key);
LSEC_API bool lsec_key_has_private(const lsec_key *key);
/* The wrapped EVP_PKEY (borrowed), for other modules. */
LSEC_API struct evp_pkey_st *lsec_key_evp(const lsec_key *key);
/*
 * Signs a message: ECDSA P-256 over SHA-256(msg) giving DER, or Ed25519
 * over msg. Result appended to sig (normally empty).
 */
LSEC_API LSEC_MUST_USE int lsec_key_sign(lsec_buf *sig, const lsec_key *key, const uint8_t *msg,
					 size_t len, lsec_err *err);
/* Verifies such a signature; LSEC_E_CRYPTO when it does not verify. */
LSEC_API LSEC_MUST_USE int lsec_key_verify(const lsec_key *key, const uint8_t *msg, size_t len,
					   const uint8_t *sig, size_t siglen, lsec_err *err);
/*
 * MCUboot's signature primitive (bootutil image_validate.c, imgtool keys/):
 * signs a 32-byte SHA-256 digest. ECDSA P-256: ECDSA-with-SHA256 where the
 * digest is the hash (prehashed), DER; this equals lsec_key_sign over the
 * bytes that were hashed. Ed25519: the 32 digest bytes are the message
 * (MCUboot's default, non-"pure" mode). Result appended to sig.
 * Fails with LSEC_E_USAGE (public key only), LSEC_E_CRYPTO.
 */
LSEC_API LSEC_MUST_USE int lsec_key_sign_digest(lsec_buf *sig, const lsec_key *key,
						const uint8_t digest[32], lsec_err *err);
/*
 * Verifies a signature made by lsec_key_sign_digest; LSEC_E_CRYPTO when it
 * does not verify. An ECDSA DER signature zero-padded to a fixed length (as
 * imgtool's --pad-sig writes it) is accepted.
 */
LSEC_API LSEC_MUST_USE int lsec_key_verify_digest(const lsec_key *key, const uint8_t digest[32],
						  const uint8_t *sig, size_t siglen,
						  lsec_err *err);
/* "ecdsa-p256" or "ed25519" (static string). */
LSEC_API const char *lsec_key_type_name(lsec_key_type type);
/* Parses "ecdsa-p256" or "ed25519"; LSEC_E_USAGE otherwise. */
LSEC_API LSEC_MUST_USE int lsec_key_type_parse(lsec_key_type *out, const char *s, lsec_err *err);
/*
 * The passphrase for a key file, never from argv: read from the file path
 * (if not NULL; one trailing newline dropped), else from the environment
 * variable LINESEC_KEY_PASSPHRASE, else none (*out = NULL, returns 0).
 * *out is an lsec_secret the caller frees. Fails with LSEC_E_IO, or
 * LSEC_E_USAGE for an empty passphrase.
 */
LSEC_API LSEC_MUST_USE int lsec_key_passphrase_load(lsec_secret **out, const char *path,
						    lsec_err *err);
LSEC_API void lsec_key_free(lsec_key *key);

#ifdef __cplusplus
}
#endif
#endif
