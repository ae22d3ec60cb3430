/*
 * pki_int.h - internals of the PKI module, shared between its files.
 * Nothing outside src/pki (and its unit tests) includes this header.
 */
#ifndef LSEC_PKI_INT_H
#define LSEC_PKI_INT_H

#include "linesec/pki.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Largest CSR, certificate or CRL input accepted. */
#define LSEC_PKI_MAX_INPUT (64u * 1024u)

/* ---- PKCS#11 (p11.c) ---------------------------------------------------
 * A logged-in read-write session on one token of one module. The module is
 * dlopen()ed; C_Initialize is asked for OS locking. Object handles are
 * passed as unsigned long (CK_OBJECT_HANDLE) so that this header does not
 * need pkcs11.h.
 */
typedef struct lsec_p11 lsec_p11;

/*
 * Loads module, finds the token labelled token_label and logs in as user.
 * Errors: LSEC_E_IO (module cannot be loaded), LSEC_E_NOTFOUND (no such
 * token), LSEC_E_AUTH (wrong PIN), LSEC_E_PKI_TOKEN.
 */
int lsec_pki__p11_open(lsec_p11 **out, const char *module, const char *token_label,
		       const lsec_secret *pin, lsec_err *err);
/* Logs out, closes the session and unloads the module; NULL is a no-op. */
void lsec_pki__p11_close(lsec_p11 *p);
/*
 * Generates a P-256 key pair in the token (private key sensitive, never
 * extractable, sign only) under label; the public key comes back in
 * *pub_out, the private key's handle in *key_out. Errors: LSEC_E_EXISTS (the label is taken), LSEC_E_PKI_TOKEN.
 */
int lsec_pki__p11_ec_generate(lsec_p11 *p, const char *label, unsigned long *key_out,
			      EVP_PKEY **pub_out, lsec_err *err);
/*
 * Finds the private key labelled label and reads its public key.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_PKI_TOKEN.
 */
int lsec_pki__p11_ec_find(lsec_p11 *p, const char *label, unsigned long *key_out,
			  EVP_PKEY **pub_out, lsec_err *err);
/*
 * Signs a SHA-256 digest with CKM_ECDSA (the host hashes: SoftHSM2 has no
 * CKM_ECDSA_SHA256) and converts the raw r||s into a DER ECDSA-Sig-Value
 * appended to sig. Errors: LSEC_E_PKI_TOKEN.
 */
int lsec_pki__p11_ec_sign(lsec_p11 *p, unsigned long key, const uint8_t digest[32],
			  lsec_buf *sig, lsec_err *err);
/*
 * Generates a 32-byte generic secret (sensitive, non-extractable, sign only)
 * for CKM_SHA256_HMAC under label. Errors: LSEC_E_EXISTS, LSEC_E_PKI_TOKEN.
 */
int lsec_pki__p11_hmac_generate(lsec_p11 *p, const char *label, lsec_err *err);
/* Destroys every key object labelled label (private, public, secret). */
int lsec_pki__p11_destroy(lsec_p11 *p, const char *label, lsec_err *err);
/* HMAC-SHA-256 of msg under the secret labelled label, inside the token. */
int lsec_pki__p11_hmac(lsec_p11 *p, const char *label, const uint8_t *msg, size_t len,
		       uint8_t out[32], lsec_err *err);

/* ---- signing (sign.c) -------------------------------------------------- */

/*
 * A signing key: an OpenSSL key, a key inside a token, or a key the caller
 * reaches through a callback (a device keystore). Token and callback keys
 * sign the TBS bytes handed to them (ECDSA-SHA256, DER signature).
 */
typedef struct lsec_signer {
	EVP_PKEY *pkey;    /* file key with its private part, or NULL */
	lsec_p11 *p11;     /* token session, or NULL */
	unsigned long key; /* token private key handle */
	lsec_pki_sign_fn fn; /* external signer, or NULL (not owned) */
	void *fn_ctx;
	EVP_PKEY *pub;     /* public key (always set; owned) */
} lsec_signer;

void lsec_pki__signer_release(lsec_signer *s);
/* True when the signer can sign (a private key or a token key). */
bool lsec_pki__signer_ready(const lsec_signer *s);
/* ECDSA over SHA-256(msg), DER signature appended to sig. */
int lsec_pki__signer_sign(const lsec_signer *s, const uint8_t *msg, size_t len, lsec_buf *sig,
			  lsec_err *err);
/*
 * Sign a certificate, a CRL or a request: the TBS part is encoded by OpenSSL
 * and signed by the signer (inside the token if there is one), and the
 * signed object is rebuilt from its DER. *obj may be replaced.
 */
int lsec_pki__sign_x509(const lsec_signer *s, X509 **obj, lsec_err *err);
int lsec_pki__sign_crl(const lsec_signer *s, X509_CRL **obj, lsec_err *err);
int lsec_pki__sign_req(const lsec_signer *s, X509_REQ **obj, lsec_err *err);

/* ---- shared helpers ---------------------------------------------------- */

/* Appends the DER ECDSA-Sig-Value of a raw P-256 r||s signature to der. */
int lsec_pki__sig_raw_to_der(lsec_buf *der, const uint8_t raw[64], lsec_err *err);

/* LSEC_E_PKI_KEY_TYPE unless pkey is an EC key on P-256; what names it. */
int lsec_pki__check_p256(const EVP_PKEY *pkey, const char *what, lsec_err *err);
/* ---- PEM (pem.c) ----------------------------------------------------- */
/* Writes obj as PEM to b; returns OpenSSL's status (1 on success). */
typedef int (*lsec_pki__pem_writer)(BIO *b, const void *obj);
int lsec_pki__pem_pubkey(BIO *b, const void *pkey);
int lsec_pki__pem_cert(BIO *b, const void *x509);
int lsec_pki__pem_req(BIO *b, const void *x509_req);
int lsec_pki__pem_crl(BIO *b, const void *x509_crl);
/*
 * Appends a memory BIO's contents to out. Fails with LSEC_E_CRYPTO when
 * it is empty (what starts the message) or out's limit (LSEC_E_LIMIT).
 */
int lsec_pki__bio_to_buf(lsec_buf *out, BIO *bio, const char *what, lsec_err *err);
/*
 * Appends obj as PEM (through writer) to out. what starts every error
 * message ("cannot encode the CRL"). Fails with LSEC_E_NOMEM,
 * LSEC_E_CRYPTO or LSEC_E_LIMIT.
 */
int lsec_pki__pem_append(lsec_buf *out, lsec_pki__pem_writer writer, const void *obj,
			 const char *what, lsec_err *err);

/*
 * Copies the public half of pkey into a new key with no private part
 * (re-encoding through SPKI); *out belongs to the caller (EVP_PKEY_free).
 * Fails with LSEC_E_CRYPTO, naming what.
 */
int lsec_pki__key_public_only(EVP_PKEY **out, const EVP_PKEY *pkey, const char *what,
			      lsec_err *err);
/* SHA-256 of the DER SubjectPublicKeyInfo of pkey. */
int lsec_pki__key_fingerprint(uint8_t out[32], const EVP_PKEY *pkey, lsec_err *err);
/* Wraps an X509 (ownership moves into *out, even on failure). */
int lsec_pki__cert_wrap(lsec_cert **out, X509 *x, lsec_err *err);
/* Adds one extension given in OpenSSL's configuration syntax. */
int lsec_pki__add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, lsec_err *err);

/* ---- the CA (ca.c, crl.c, cred.c) ----------------------------------------- */

struct lsec_ca {
	char *dir;
	bool pkcs11;
	char *module, *token, *key_label, *cred_label; /* token storage */
	lsec_signer signer;
	lsec_cert *cert;       /* NULL while pending */
	lsec_secret *cred_key; /* file storage: loaded on first use */
	bool made_key, made_cred; /* token objects this ceremony created */
};

/* "<ca dir>/<name>", lsec_free; NULL when out of memory. */
char *lsec_pki__ca_path(const lsec_ca *ca, const char *name);
bool lsec_pki__file_exists(const char *path);
/* Removes the files and token objects a failed ceremony made, so that it can be run again. */
void lsec_pki__ca_undo(const lsec_ca *ca);
/* LSEC_E_PKI_CA_PENDING or LSEC_E_PKI_LOCKED unless the CA can sign; what names the act. */
int lsec_pki__ca_ready(const lsec_ca *ca, const char *what, lsec_err *err);
/* The last CRL number issued (0 when none). Errors: LSEC_E_PKI_CA_CONFIG, LSEC_E_IO. */
int lsec_pki__crl_last(uint64_t *out, const lsec_ca *ca, lsec_err *err);

#endif
