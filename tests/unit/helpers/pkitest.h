/* Helpers for the PKI tests: device keys, CSRs, CAs, SoftHSM2 tokens. */
#ifndef LSEC_PKITEST_H
#define LSEC_PKITEST_H

#include "linesec/pki.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PKITEST_PASSPHRASE "correct horse battery"
#define PKITEST_PIN "246810"
#define PKITEST_TOKEN "linesec-test"

/* A fresh key on the named curve ("P-256", "P-384"). */
EVP_PKEY *pkitest_key(const char *curve);
/* A PKCS#10 request signed by k (subject CN=untrusted), PEM or DER, into out. */
void pkitest_csr(lsec_buf *out, EVP_PKEY *k, bool der);
/* Creates a file-key CA with a self-signed root in dir and opens it unlocked. */
lsec_ca *pkitest_file_ca(const char *dir);
/* A secret holding a C string (without its NUL). */
lsec_secret *pkitest_secret(const char *s);
/* Verifies leaf under the trust anchor; returns X509_V_OK or the error. */
int pkitest_verify(X509 *leaf, X509 *anchor, X509_CRL *crl);
/*
 * Points SOFTHSM2_CONF at a fresh token folder under dir and initialises a
 * token labelled PKITEST_TOKEN with user PIN PKITEST_PIN. Returns the module
 * path, or NULL when SoftHSM2 is not installed.
 */
const char *pkitest_softhsm(const char *dir);

#endif
