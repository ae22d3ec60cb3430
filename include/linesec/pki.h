/*
 * linesec/pki.h - keys, certificates, CRLs and credentials (OpenSSL 3).
 *
 * This header grows with the PKI work (line CA, device certificates,
 * revocation, PKCS#11). Its first part is the key pair, which firmware
 * signing already needs.
 *
 * Invariants: an lsec_key wraps one EVP_PKEY of a supported type (ECDSA
 * P-256 or Ed25519) with its DER SubjectPublicKeyInfo and fingerprint;
 * private key files are written 0600, never replaced, and, when a
 * passphrase is given, as encrypted PKCS#8; passphrases live in
 * lsec_secret and never come from argv.
 *
 * Idiom (MCUboot-style signature over an image digest):
 *     lsec_key *k = NULL;
 *     LSEC_TRY(lsec_key_load_private(&k, "release.pem", pass, err));
 *     LSEC_TRY(lsec_key_sign_digest(&sig, k, digest, err));
 *     ...
 *     lsec_key_free(k);
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

/*
 * A fresh key pair from the OS CSPRNG. *out belongs to the caller
 * (lsec_key_free). Fails with LSEC_E_USAGE (unknown type), LSEC_E_CRYPTO,
 * LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_key_generate(lsec_key **out, lsec_key_type type, lsec_err *err);
/*
 * Loads a private key (PEM, PKCS#8 or traditional; passphrase NULL if clear).
 * Fails with LSEC_E_IO (unreadable), LSEC_E_PARSE (not a PEM key, or not
 * ECDSA P-256 / Ed25519), LSEC_E_CRYPTO (encrypted: no or wrong passphrase).
 * Never prompts on a terminal.
 */
LSEC_API LSEC_MUST_USE int lsec_key_load_private(lsec_key **out, const char *path,
						 const lsec_secret *passphrase, lsec_err *err);
/*
 * Loads a public key (PEM SubjectPublicKeyInfo) or the public half of an
 * unencrypted private key file. Fails with LSEC_E_IO, LSEC_E_PARSE (not a
 * key, an encrypted one, or not ECDSA P-256 / Ed25519).
 */
LSEC_API LSEC_MUST_USE int lsec_key_load_public(lsec_key **out, const char *path, lsec_err *err);
/*
 * From DER SubjectPublicKeyInfo, which must be exactly len bytes. Fails
 * with LSEC_E_PARSE (malformed, trailing bytes, unsupported type).
 */
LSEC_API LSEC_MUST_USE int lsec_key_from_spki(lsec_key **out, const uint8_t *der, size_t len,
					      lsec_err *err);
/*
 * Writes the private key as PKCS#8 PEM, mode 0600, never replacing a file
 * (LSEC_E_EXISTS); encrypted PKCS#8 (PBES2: scrypt N=2^14 r=8 p=1,
 * AES-256-CBC) when passphrase is not NULL.
 */
LSEC_API LSEC_MUST_USE int lsec_key_write_private(const lsec_key *key, const char *path,
						  const lsec_secret *passphrase, lsec_err *err);
/* PEM SubjectPublicKeyInfo appended to out. */
LSEC_API LSEC_MUST_USE int lsec_key_public_pem(lsec_buf *out, const lsec_key *key, lsec_err *err);
/* DER SubjectPublicKeyInfo appended to out (computed once, when the key was made or loaded). */
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
/* Parses "ecdsa-p256" or "ed25519" (lsec_name_lookup); LSEC_E_USAGE otherwise. */
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

/* ==== line CA, device certificates, revocation, initial credentials ====
 *
 * Invariants:
 *  - The line CA key is ECDSA P-256. It lives either in an encrypted PKCS#8
 *    file (mode 0600) in the CA folder or in a PKCS#11 token, where it is
 *    generated non-extractable and sensitive; with a token every certificate
 *    and CRL is signed inside it.
 *  - A device certificate is built from the registry's facts only: the CSR
 *    contributes its (verified) public key, never its subject or extensions.
 *  - CRL numbers only grow: the next number is made durable before a CRL is
 *    returned, so a failure later can skip a number but never reuse one.
 *  - Initial passwords exist only in lsec_secret; the registry keeps a keyed
 *    fingerprint (HMAC-SHA-256 under the line credential key).
 *
 * Idiom (security officer, then station):
 *     lsec_ca_init(dir, &opts, &err);                 key ceremony
 *     lsec_ca_open(&ca, dir, passphrase_or_pin, &err);
 *     lsec_csr_parse(&csr, der, len, &err);           verifies the CSR
 *     lsec_ca_issue(&cert, ca, lsec_csr_key(csr), &req, &err);
 *     lsec_pop_verify(cert, challenge, 32, sig, siglen, &err);
 */

/* PKI error codes (-300..-349: parse, crypto, policy, state). */
enum {
	LSEC_E_PKI_CSR = -300,        /* malformed certificate request */
	LSEC_E_PKI_CERT = -301,       /* malformed certificate */
	LSEC_E_PKI_CA_CONFIG = -302,  /* malformed CA folder (ca.json, crlnumber) */
	LSEC_E_PKI_CSR_SIG = -320,    /* the CSR signature does not verify */
	LSEC_E_PKI_MISMATCH = -321,   /* a certificate does not belong to the CA key */
	LSEC_E_PKI_POP = -322,        /* proof of possession failed */
	LSEC_E_PKI_TOKEN = -323,      /* the PKCS#11 token failed */
	LSEC_E_PKI_KEY_TYPE = -330,   /* key is not ECDSA P-256 */
	LSEC_E_PKI_CA_PENDING = -340, /* the CA waits for its root-signed certificate */
	LSEC_E_PKI_LOCKED = -341,     /* the CA was opened without passphrase or PIN */
};

/* A parsed, signature-checked certificate signing request. */
typedef struct lsec_csr lsec_csr;

/*
 * An external signer: ECDSA P-256 over SHA-256(msg), the DER signature
 * appended to sig (e.g. a device keystore through lsec_device_key_sign).
 * Returns 0 or a negative LSEC_E_* with err filled.
 */
typedef int (*lsec_pki_sign_fn)(void *ctx, const uint8_t *msg, size_t len, lsec_buf *sig,
				lsec_err *err);
/* An X.509 certificate. */
typedef struct lsec_cert lsec_cert;
/* The line CA: its certificate and (when unlocked) its signing key. */
typedef struct lsec_ca lsec_ca;

/*
 * Parses a CSR (PEM or DER), checks that its self-signature verifies under
 * its own key and that the key is ECDSA P-256. The subject and any requested
 * extensions are ignored. *out is freed with lsec_csr_free.
 * Errors: LSEC_E_PKI_CSR (malformed), LSEC_E_PKI_CSR_SIG (bad signature),
 * LSEC_E_PKI_KEY_TYPE, LSEC_E_LIMIT (over 64 KiB).
 */
LSEC_API LSEC_MUST_USE int lsec_csr_parse(lsec_csr **out, const uint8_t *data, size_t len,
					  lsec_err *err);
/*
 * Builds the PKCS#10 request (DER, into out) for the P-256 key spki (DER
 * SubjectPublicKeyInfo) signed by that key through sign: the CSR a device's
 * own key makes when the device cannot build one itself. Subject CN = cn.
 * Errors: LSEC_E_PKI_KEY_TYPE, LSEC_E_PARSE (spki), the signer's errors.
 */
LSEC_API LSEC_MUST_USE int lsec_csr_build(lsec_buf *out, const uint8_t *spki, size_t spki_len,
					  const char *cn, lsec_pki_sign_fn sign, void *ctx,
					  lsec_err *err);
/* The CSR's public key (borrowed, lives as long as csr). */
LSEC_API struct evp_pkey_st *lsec_csr_key(const lsec_csr *csr);
LSEC_API void lsec_csr_free(lsec_csr *csr);

/* Loads a certificate (PEM or DER). Errors: LSEC_E_IO, LSEC_E_PKI_CERT. */
LSEC_API LSEC_MUST_USE int lsec_cert_load(lsec_cert **out, const char *path, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_cert_parse(lsec_cert **out, const uint8_t *data, size_t len,
					   lsec_err *err);
/* PEM (der false) or DER encoding, appended to out. */
LSEC_API LSEC_MUST_USE int lsec_cert_encode(lsec_buf *out, const lsec_cert *cert, bool der,
					    lsec_err *err);
/* Serial number as lowercase hex (at most 40 digits), NUL-terminated. */
LSEC_API void lsec_cert_serial_hex(char out[41], const lsec_cert *cert);
/*
 * The certificate's validity bounds as RFC 3339 UTC ("2026-11-25T04:05:38Z",
 * as lsec_time_format writes); a bound that cannot be read is "".
 * @test tests/unit/pki/test_cert.c
 */
LSEC_API void lsec_cert_validity(char not_before[32], char not_after[32], const lsec_cert *cert);
/* SHA-256 of the certificate's DER SubjectPublicKeyInfo (the key fingerprint). */
LSEC_API LSEC_MUST_USE int lsec_cert_key_fingerprint(uint8_t out[32], const lsec_cert *cert,
						     lsec_err *err);
/* The wrapped X509 (borrowed). */
LSEC_API struct x509_st *lsec_cert_x509(const lsec_cert *cert);
LSEC_API void lsec_cert_free(lsec_cert *cert);

/* Where `lsec_ca_init` puts the CA key. */
typedef struct lsec_ca_options {
	unsigned version;
	const char *common_name;    /* CA subject CN; required */
	const char *organization;   /* CA subject O; NULL to omit */
	uint32_t validity_days;     /* self-signed root only */
	const char *csr_out;        /* NULL: self-signed root; else write the CSR here */
	const lsec_secret *passphrase; /* file key: encrypts the PKCS#8 file */
	const char *pkcs11_module;  /* token key: module path, token label, key label */
	const char *token_label;
	const char *key_label;
	const lsec_secret *pin;     /* token user PIN */
} lsec_ca_options;
#define LSEC_CA_OPTIONS_VERSION 1
/*
 * The validity `linesec ca init` gives a self-signed CA when not told: 30
 * years, so the default provision SOP's 7300-day device certificates (which
 * never outlive their CA) can be issued for the CA's first 10 years.
 */
#define LSEC_CA_DEFAULT_DAYS 10950u

#define LSEC_CA_OPTIONS_INIT                                                   \
	{LSEC_CA_OPTIONS_VERSION, NULL, NULL, LSEC_CA_DEFAULT_DAYS, NULL, NULL, NULL, NULL, NULL, NULL}

/*
 * The key ceremony: creates the CA folder dir (must not hold a CA yet),
 * generates the P-256 CA key (file or token), a fresh line credential key
 * (a 0600 file, or a generic secret in the token) and either a self-signed
 * root (CA:TRUE, pathlen 0, keyCertSign|cRLSign) or, with csr_out, a CSR for
 * an offline root; the CA then stays pending until lsec_ca_import_cert.
 * Errors: LSEC_E_EXISTS (a CA is already there, or the token holds the
 * label), LSEC_E_USAGE, LSEC_E_IO, LSEC_E_AUTH (wrong PIN), LSEC_E_PKI_TOKEN.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_init(const char *dir, const lsec_ca_options *opts,
					lsec_err *err);
/*
 * Opens the CA in dir. unlock is the passphrase (file key) or the PIN (token
 * key); NULL opens it read-only (show, fingerprints of the public parts), and
 * signing then fails with LSEC_E_PKI_LOCKED. *out is freed with lsec_ca_free.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_PKI_CA_CONFIG, LSEC_E_CRYPTO (wrong
 * passphrase), LSEC_E_AUTH (wrong PIN), LSEC_E_PKI_TOKEN.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_open(lsec_ca **out, const char *dir, const lsec_secret *unlock,
					lsec_err *err);
LSEC_API void lsec_ca_free(lsec_ca *ca);
/*
 * Unlocks a CA opened read-only: unlock is the passphrase (file key) or the
 * PIN (token key). Errors: as lsec_ca_open; LSEC_E_STATE if already unlocked.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_unlock(lsec_ca *ca, const lsec_secret *unlock, lsec_err *err);
/* True when the CA key lives in a PKCS#11 token (unlock with the PIN). */
LSEC_API bool lsec_ca_uses_token(const lsec_ca *ca);
/*
 * Reads a passphrase or PIN, never from argv: from file when it is not NULL
 * (one trailing newline dropped), else from the environment variable env
 * (its value is wiped and the variable removed once read), else from the
 * terminal with echo off after printing prompt. *out is freed with
 * lsec_secret_free. Errors: LSEC_E_USAGE (none available or empty), LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_secret_read(lsec_secret **out, const char *file,
						const char *env, const char *prompt,
						lsec_err *err);
/*
 * Installs the root-signed certificate of a pending CA: its key must be the
 * CA key and it must be a CA certificate; when root_path is given the
 * certificate must verify under that root, which is kept as ca.root.pem.
 * Errors: LSEC_E_PKI_MISMATCH, LSEC_E_PKI_CERT, LSEC_E_STATE (already active).
 */
LSEC_API LSEC_MUST_USE int lsec_ca_import_cert(lsec_ca *ca, const char *cert_path,
					       const char *root_path, lsec_err *err);
/* The CA certificate (borrowed); NULL while pending. */
LSEC_API const lsec_cert *lsec_ca_cert(const lsec_ca *ca);
/* Everything lsec_ca_describe reports about a CA. Never secret. */
typedef struct lsec_ca_description {
	char *folder;
	const char *state;    /* "active" or "pending" (static) */
	const char *storage;  /* "pkcs11" or "file" (static) */
	char key_sha256[65];  /* SHA-256 of the CA key's SPKI in hex */
	const char *key_type; /* "ecdsa-p256" (static) */
	uint64_t last_crl_number;
	/* The token holding the key; all NULL for a key in a file. */
	char *pkcs11_module;
	char *token_label;
	char *key_label;
	/* The CA certificate; subject and issuer NULL, the rest "", while pending. */
	char *subject;
	char *issuer;
	char serial[41];
	char not_before[32];
	char not_after[32];
} lsec_ca_description;

/*
 * A description for `ca show`: folder, state, key storage, key fingerprint
 * and type, last CRL number, the token for a PKCS#11 key and, once active,
 * the certificate's subject, issuer, serial and validity. *out belongs to
 * the caller (lsec_ca_description_free) and does not borrow from ca.
 * Fails with LSEC_E_NOMEM or while reading the CRL counter.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_describe(lsec_ca_description **out, const lsec_ca *ca,
					    lsec_err *err);
LSEC_API void lsec_ca_description_free(lsec_ca_description *d);
/*
 * The description as a flat JSON object (*out: json_decref) with the keys
 * folder, state, storage, key_sha256, key_type, last_crl_number, then
 * pkcs11_module, token_label, key_label for a token key, then subject,
 * issuer, serial, not_before, not_after once active; absent fields are
 * left out. Fails with LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_description_json(struct json_t **out,
						    const lsec_ca_description *d, lsec_err *err);

/* What the registry says about the unit a device certificate is for. */
typedef struct lsec_cert_request {
	unsigned version;
	const char *serial;  /* unit serial: subject CN (1..64 printable ASCII) */
	const char *product; /* product: subject O (1..64 printable ASCII) */
	const uint8_t *uid;  /* unit UID: SAN URI urn:linesec:uid:<hex> */
	size_t uid_len;      /* 1..64 */
	uint32_t validity_days;
} lsec_cert_request;
#define LSEC_CERT_REQUEST_VERSION 1
#define LSEC_CERT_REQUEST_INIT {LSEC_CERT_REQUEST_VERSION, NULL, NULL, NULL, 0, 365}

/*
 * Issues a device certificate for pubkey (a P-256 public key, normally
 * lsec_csr_key of a verified CSR): serial 16 random bytes, basicConstraints
 * CA:FALSE and keyUsage digitalSignature (both critical), extendedKeyUsage
 * clientAuth, SKI, AKI, SAN URI. *out is freed with lsec_cert_free.
 * Errors: LSEC_E_USAGE (bad request field), LSEC_E_PKI_KEY_TYPE,
 * LSEC_E_PKI_CA_PENDING, LSEC_E_PKI_LOCKED, LSEC_E_PKI_TOKEN, LSEC_E_CRYPTO.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_issue(lsec_cert **out, lsec_ca *ca,
					 struct evp_pkey_st *pubkey,
					 const lsec_cert_request *req, lsec_err *err);
/*
 * For targets that cannot generate keys: a P-256 key pair generated in
 * memory. The private key comes out as PKCS#8 DER in *pkcs8_out (what
 * lsec_device_key_inject takes), the public key in *pub_out
 * (EVP_PKEY_free); the caller injects the key, then frees the secret at
 * once (it is wiped). OpenSSL's own copy is cleared when freed here.
 * Errors: LSEC_E_CRYPTO, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_station_keygen(lsec_secret **pkcs8_out,
						   struct evp_pkey_st **pub_out, lsec_err *err);

/* Proof of possession: a fresh 32-byte challenge from the CSPRNG. */
LSEC_API LSEC_MUST_USE int lsec_pop_challenge(uint8_t out[32], lsec_err *err);
/*
 * Verifies the device's ECDSA-SHA256 signature over the challenge under the
 * issued certificate's key; sig is DER or raw r||s (64 bytes).
 * Errors: LSEC_E_PKI_POP.
 */
LSEC_API LSEC_MUST_USE int lsec_pop_verify(const lsec_cert *cert, const uint8_t *challenge,
					   size_t len, const uint8_t *sig, size_t siglen,
					   lsec_err *err);

/* CRL reason codes (RFC 5280 section 5.3.1). */
typedef enum lsec_crl_reason {
	LSEC_CRL_UNSPECIFIED = 0,
	LSEC_CRL_KEY_COMPROMISE = 1,
	LSEC_CRL_CA_COMPROMISE = 2,
	LSEC_CRL_AFFILIATION_CHANGED = 3,
	LSEC_CRL_SUPERSEDED = 4,
	LSEC_CRL_CESSATION_OF_OPERATION = 5,
	LSEC_CRL_CERTIFICATE_HOLD = 6,
	LSEC_CRL_PRIVILEGE_WITHDRAWN = 9,
	LSEC_CRL_AA_COMPROMISE = 10,
} lsec_crl_reason;

/* RFC 5280 name ("keyCompromise") of a reason; "unspecified" for unknown. */
LSEC_API const char *lsec_crl_reason_name(lsec_crl_reason r);
/* Parses such a name (lsec_name_lookup). Errors: LSEC_E_USAGE. */
LSEC_API LSEC_MUST_USE int lsec_crl_reason_parse(lsec_crl_reason *out, const char *name,
						 lsec_err *err);

/* One revoked identity. */
typedef struct lsec_revoked {
	const char *serial_hex;  /* certificate serial, hex */
	const uint8_t *key_fp;   /* 32-byte key fingerprint, NULL if unknown */
	int64_t revoked_at;      /* Unix seconds */
	lsec_crl_reason reason;
} lsec_revoked;

typedef struct lsec_crl_options {
	unsigned version;
	uint32_t next_update_hours; /* nextUpdate = now + this */
	bool der;                   /* DER instead of PEM */
} lsec_crl_options;
#define LSEC_CRL_OPTIONS_VERSION 1
#define LSEC_CRL_OPTIONS_INIT {LSEC_CRL_OPTIONS_VERSION, 168, false}

/*
 * Signs a CRL v2 of the n revoked identities (each with its reason code,
 * AKI and the CRL number extension) and appends it to out. The number is one
 * more than the last one issued from this CA folder and is made durable
 * before returning. Errors: LSEC_E_USAGE (bad serial), LSEC_E_PKI_CA_PENDING,
 * LSEC_E_PKI_LOCKED, LSEC_E_PKI_CA_CONFIG, LSEC_E_IO, LSEC_E_PKI_TOKEN.
 */
LSEC_API LSEC_MUST_USE int lsec_ca_crl(lsec_buf *out, uint64_t *number_out, lsec_ca *ca,
				       const lsec_revoked *list, size_t n,
				       const lsec_crl_options *opts, lsec_err *err);
/*
 * The plain revocation list for a cloud device registry, appended to out:
 * JSON (canonical: {"crl_number":N,"revoked":[{"key_sha256","reason",
 * "revoked_at","serial"}...]}, key_sha256 null when unknown) or text (one "serial key_sha256 reason" line
 * per identity, "-" for an unknown key).
 */
LSEC_API LSEC_MUST_USE int lsec_revoked_export(lsec_buf *out, const lsec_revoked *list, size_t n,
					       uint64_t crl_number, bool json, lsec_err *err);

/*
 * Initial device credentials: LSEC_CRED_LEN characters drawn uniformly (by
 * rejection sampling) from the LSEC_CRED_ALPHABET of 56 characters, which
 * leaves out the look-alikes 0 O o 1 I l: 16 * log2(56) = 92.9 bits of
 * entropy, above the 80-bit floor. Never derived from serial, MAC or UID.
 */
#define LSEC_CRED_ALPHABET "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"
#define LSEC_CRED_LEN 16

/*
 * The second alphabet, for devices that take upper case only: Crockford's
 * base32 (digits and upper-case letters without I L O U), 5 bits a
 * character, 20 characters = 100 bits by default in the SOPs.
 */
#define LSEC_CRED_ALPHABET_BASE32 "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

typedef enum lsec_cred_alphabet {
	LSEC_CRED_ALNUM = 0,  /* LSEC_CRED_ALPHABET, 56 characters */
	LSEC_CRED_BASE32 = 1, /* LSEC_CRED_ALPHABET_BASE32, 32 characters */
} lsec_cred_alphabet;

/* Parses "alnum" or "base32" (the SOP parameter values; lsec_name_lookup). Errors: LSEC_E_USAGE. */
LSEC_API LSEC_MUST_USE int lsec_cred_alphabet_parse(lsec_cred_alphabet *out, const char *name,
						    lsec_err *err);
/* Whole bits of entropy of len characters from the alphabet: floor(len * log2(size)). */
LSEC_API unsigned lsec_cred_entropy_bits(size_t len, lsec_cred_alphabet a);
/* A fresh password of LSEC_CRED_LEN characters (no NUL) from LSEC_CRED_ALPHABET in *out. */
LSEC_API LSEC_MUST_USE int lsec_cred_generate(lsec_secret **out, lsec_err *err);
/*
 * A fresh password of len characters (16..64) from the alphabet.
 * Errors: LSEC_E_USAGE (length out of range, unknown alphabet),
 * LSEC_E_POLICY (fewer than 80 bits of entropy).
 */
LSEC_API LSEC_MUST_USE int lsec_cred_generate_ex(lsec_secret **out, size_t len,
						 lsec_cred_alphabet a, lsec_err *err);
/*
 * Keyed fingerprint of a password: HMAC-SHA-256 under the line credential
 * key (in the token when the CA lives there). What the registry stores.
 * Errors: LSEC_E_PKI_TOKEN, LSEC_E_CRYPTO.
 */
LSEC_API LSEC_MUST_USE int lsec_cred_fingerprint(uint8_t out[32], lsec_ca *ca, const uint8_t *pw,
						 size_t len, lsec_err *err);
/*
 * Checks a claimed password against a stored fingerprint in constant time.
 * Errors: LSEC_E_AUTH when it does not match.
 */
LSEC_API LSEC_MUST_USE int lsec_cred_check(lsec_ca *ca, const uint8_t *claimed, size_t len,
					   const uint8_t fingerprint[32], lsec_err *err);
/*
 * Writes the per-unit label file "<dir>/<serial>.label" (mode 0600, never
 * replacing one) with the serial and the password for the label printer.
 * *path_out (lsec_free) names it. Errors: LSEC_E_IO, LSEC_E_USAGE.
 */
LSEC_API LSEC_MUST_USE int lsec_cred_label_write(char **path_out, const char *dir,
						 const char *serial, const lsec_secret *pw,
						 lsec_err *err);
/*
 * As lsec_cred_label_write, with mode (0600, or 0640 for a printer daemon
 * reading it through the folder's group; never readable by others:
 * LSEC_E_USAGE). The file appears complete (lsec_file_publish_held); with
 * held_fd, *held_fd (close it) keeps a shared flock on it, which a sweep of
 * leftover labels respects.
 */
LSEC_API LSEC_MUST_USE int lsec_cred_label_write_mode(char **path_out, int *held_fd,
						      const char *dir, const char *serial,
						      const lsec_secret *pw, unsigned mode,
						      lsec_err *err);
/*
 * Once printing is confirmed: overwrites the label file with zeros and
 * removes it (lsec_file_destroy_held). Anything under the name that is no
 * regular file (a FIFO, a link) is refused at once and left as it is:
 * LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_cred_label_remove(const char *path, lsec_err *err);

/* ==== recorded in the registry and the audit log ==========================
 *
 * Each of these changes the registry and appends its audit leaf in one store
 * transaction (lsec_store_tx_begin -> change -> lsec_audit_record ->
 * lsec_store_tx_end), so both land or neither does. Uniqueness is the
 * registry's: a key fingerprint, certificate serial or credential
 * fingerprint already held is LSEC_E_EXISTS naming the unit that holds it.
 * Authorisation is the caller's (lsec_line_authorize); who is recorded.
 */
typedef struct lsec_store lsec_store;

/*
 * The key ceremony (lsec_ca_init) recorded in the audit log with the CA key
 * fingerprint and storage. The caller has authorised who (a security
 * officer, lsec_line_authorize). If recording fails, the CA files are
 * removed again. Errors: as lsec_ca_init, audit and store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_ca_init_recorded(const char *dir, const lsec_ca_options *opts,
						     lsec_store *st, const lsec_actor *who,
						     lsec_err *err);
/* lsec_ca_import_cert recorded in the audit log. Errors: as lsec_ca_import_cert. */
LSEC_API LSEC_MUST_USE int lsec_pki_ca_import_recorded(lsec_ca *ca, const char *cert_path,
						       const char *root_path, lsec_store *st,
						       const lsec_actor *who, lsec_err *err);
/* Where a device key was made: recorded with the identity. */
typedef enum lsec_key_origin {
	LSEC_KEY_ORIGIN_DEVICE = 0,  /* generated on the device; never left it */
	LSEC_KEY_ORIGIN_STATION = 1, /* generated by the station, injected, wiped */
} lsec_key_origin;

/*
 * Issues the certificate of a registered unit (CN = its serial, O = its
 * product, SAN = its UID) for pubkey (from a verified CSR, or read back
 * from the device) and records the identity as active with its key origin.
 * Errors: as lsec_ca_issue, LSEC_E_NOTFOUND (no such unit), LSEC_E_EXISTS
 * (duplicate key or certificate serial), audit and store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_issue_recorded(lsec_cert **out, lsec_ca *ca, lsec_store *st,
						   const lsec_actor *who, const char *unit,
						   struct evp_pkey_st *pubkey,
						   lsec_key_origin origin, uint32_t days,
						   lsec_err *err);
/*
 * Revokes a recorded certificate: revocation record with its reason, key
 * state compromised (keyCompromise, cACompromise) or deactivated (others).
 * Errors: LSEC_E_NOTFOUND (not a recorded identity), LSEC_E_PKI_MISMATCH
 * (the identity holds another certificate), LSEC_E_EXISTS (already revoked),
 * LSEC_E_STORE_TRANSITION.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_revoke_recorded(lsec_store *st, const lsec_actor *who,
						    const lsec_cert *cert, lsec_crl_reason reason,
						    lsec_err *err);
/*
 * The CRL of every revocation in the registry (into crl_out) and, when
 * list_out is not NULL, the plain list (lsec_revoked_export) with each
 * certificate's key fingerprint from the unit's recorded identities.
 * Records the CRL number in the audit log.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_crl_recorded(lsec_buf *crl_out, lsec_buf *list_out,
						 uint64_t *number_out, bool list_json, lsec_ca *ca,
						 lsec_store *st, const lsec_actor *who,
						 const lsec_crl_options *opts, lsec_err *err);
/*
 * A unit's initial password, issued by hand (`linesec ca cred`): generated
 * (lsec_cred_generate_ex), its keyed fingerprint recorded for the unit, the
 * event audited (without the password) and the password written to the
 * unit's label file in label_dir (lsec_cred_label_write), all in one
 * transaction: the label file is written before the commit and removed
 * when the commit fails, so a failure (no label folder, a stale label
 * file) records nothing. The password is never returned. *label_out
 * (lsec_free) is the label file's path.
 * Errors: LSEC_E_NOTFOUND (no such unit), LSEC_E_EXISTS (duplicate),
 * LSEC_E_STATE (the unit already holds a valid credential: a unit has at
 * most one), LSEC_E_USAGE (the serial is not an identifier), LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_cred_recorded(char **label_out, lsec_ca *ca, lsec_store *st,
						  const lsec_actor *who, const char *unit,
						  const char *label_dir, size_t len,
						  lsec_cred_alphabet a, lsec_err *err);
/*
 * A replacement of unit's initial password (the change of trust two
 * security officers approve: `linesec ca cred --replace`, then `--approve
 * ID`): in one transaction the unit's valid credential is revoked (a
 * credential.revoke leaf, meaning "replaced"), the new one recorded and its
 * label written, as lsec_pki_cred_recorded; a failure records nothing.
 * Errors: LSEC_E_STATE (the unit holds no valid credential), those of
 * lsec_pki_cred_recorded.
 */
LSEC_API LSEC_MUST_USE int lsec_pki_cred_replace_recorded(char **label_out, lsec_ca *ca,
							  lsec_store *st, const lsec_actor *who,
							  const char *unit, const char *label_dir,
							  size_t len, lsec_cred_alphabet a,
							  lsec_err *err);
/* Whether unit holds a valid (unrevoked) initial credential. LSEC_E_NOTFOUND, LSEC_E_USAGE. */
LSEC_API LSEC_MUST_USE int lsec_pki_cred_active(bool *out, lsec_store *st, const char *unit,
						lsec_err *err);
/*
 * Checks a password claimed for a unit (a customer's support call, a
 * returned unit) against the keyed fingerprint of the unit's valid initial
 * credential, in constant time, and records the check and its outcome in
 * the audit log (never the password). Errors: LSEC_E_AUTH (no match, or the
 * credential is revoked), LSEC_E_NOTFOUND (unknown unit or no credential).
 */
LSEC_API LSEC_MUST_USE int lsec_pki_cred_check_recorded(lsec_ca *ca, lsec_store *st,
							const lsec_actor *who,
							const char *unit,
							const lsec_secret *claimed,
							lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
