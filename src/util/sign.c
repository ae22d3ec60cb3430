/*
 * One-shot signatures with an OpenSSL key: the one place that drives
 * EVP_DigestSign and EVP_DigestVerify.
 */
#include "linesec/util.h"

#include <openssl/err.h>
#include <openssl/evp.h>

int lsec_evp_sign(lsec_buf *sig, const EVP_PKEY *key, const char *digest, const uint8_t *msg,
		  size_t len, const char *what, lsec_err *err)
{
	int rc = 0;
	EVP_MD_CTX *md = NULL;
	size_t n = 0;
	LSEC_ENSURE_REF(sig);
	LSEC_ENSURE_REF(key);
	LSEC_ENSURE_REF(what);
	LSEC_ENSURE(msg != NULL || len == 0, LSEC_E_USAGE, "%s: no message", what);
	LSEC_TRY_OSSL_PTR(md = EVP_MD_CTX_new(), LSEC_E_NOMEM, "%s: out of memory", what);
	/* EVP takes the key non-const although signing does not change it. */
	LSEC_TRY_OSSL(EVP_DigestSignInit_ex(md, NULL, digest, NULL, NULL,
					    (EVP_PKEY *)(uintptr_t)key, NULL),
		      LSEC_E_CRYPTO, "%s", what);
	/* The first call gives the largest size; an ECDSA DER signature may come out shorter. */
	LSEC_TRY_OSSL(EVP_DigestSign(md, NULL, &n, msg, len), LSEC_E_CRYPTO, "%s", what);
	LSEC_TRY(lsec_buf_reserve(sig, n, err));
	LSEC_TRY_OSSL(EVP_DigestSign(md, sig->data + sig->len, &n, msg, len), LSEC_E_CRYPTO, "%s",
		      what);
	sig->len += n;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int lsec_evp_verify(bool *ok, const EVP_PKEY *key, const char *digest, const uint8_t *msg,
		    size_t len, const uint8_t *sig, size_t siglen, const char *what, lsec_err *err)
{
	int rc = 0;
	EVP_MD_CTX *md = NULL;
	*ok = false;
	LSEC_ENSURE_REF(key);
	LSEC_ENSURE_REF(what);
	LSEC_ENSURE((msg != NULL || len == 0) && (sig != NULL || siglen == 0), LSEC_E_USAGE,
		    "%s: no message or signature", what);
	LSEC_TRY_OSSL_PTR(md = EVP_MD_CTX_new(), LSEC_E_NOMEM, "%s: out of memory", what);
	LSEC_TRY_OSSL(EVP_DigestVerifyInit_ex(md, NULL, digest, NULL, NULL,
					      (EVP_PKEY *)(uintptr_t)key, NULL),
		      LSEC_E_CRYPTO, "%s", what);
	*ok = EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
	ERR_clear_error(); /* a bad signature leaves its reason on the queue */
out:
	EVP_MD_CTX_free(md);
	return rc;
}
