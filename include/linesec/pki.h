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
/* Loads a private key (PEM, PKCS#8 or traditional; passphrase NULL if clear). */
LSEC_API LSEC_MUST_USE int lsec_key_load_private(lsec_key **out, const char *path,
						 const lsec_secret *passphrase, lsec_err *err);
/* Loads a public key (PEM SubjectPublicKeyInfo) or the public half of a private key file. */
LSEC_API LSEC_MUST_USE int lsec_key_load_public(lsec_key **out, const char *path, lsec_err *err);
/* From DER SubjectPublicKeyInfo. */
LSEC_API LSEC_MUST_USE int lsec_key_from_spki(lsec_key **out, const uint8_t *der, size_t len,
					      lsec_err *err);
/* Writes the private key as PKCS#8 PEM, mode 0600, never replacing a file;
 * encrypted (AES-256-CBC, scrypt) when passphrase is not NULL. */
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
 * over msg. Result into sig (empty).
 */
LSEC_API LSEC_MUST_USE int lsec_key_sign(lsec_buf *sig, const lsec_key *key, const uint8_t *msg,
					 size_t len, lsec_err *err);
/* Verifies such a signature; LSEC_E_CRYPTO when it does not verify. */
LSEC_API LSEC_MUST_USE int lsec_key_verify(const lsec_key *key, const uint8_t *msg, size_t len,
					   const uint8_t *sig, size_t siglen, lsec_err *err);
LSEC_API void lsec_key_free(lsec_key *key);

#ifdef __cplusplus
}
#endif
#endif
