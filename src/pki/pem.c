/*
 * pem.c - PEM encoding of keys, certificates, requests and CRLs into an
 * lsec_buf: the one place that drains an OpenSSL memory BIO.
 *
 * @test tests/unit/pki/test_cert.c
 */
#include "pki_int.h"

#include <openssl/pem.h>

int lsec_pki__bio_to_buf(lsec_buf *out, BIO *bio, const char *what, lsec_err *err)
{
	int rc = 0;
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	LSEC_ENSURE(n > 0 && p != NULL, LSEC_E_CRYPTO, "%s: empty output", what);
	LSEC_TRY(lsec_buf_append(out, p, (size_t)n, err));
out:
	return rc;
}

int lsec_pki__pem_append(lsec_buf *out, lsec_pki__pem_writer writer, const void *obj,
			 const char *what, lsec_err *err)
{
	int rc = 0;
	BIO *bio = NULL;
	LSEC_TRY_OSSL_PTR(bio = BIO_new(BIO_s_mem()), LSEC_E_NOMEM, "%s", what);
	LSEC_TRY_OSSL(writer(bio, obj), LSEC_E_CRYPTO, "%s", what);
	LSEC_TRY(lsec_pki__bio_to_buf(out, bio, what, err));
out:
	BIO_free(bio);
	return rc;
}

/* OpenSSL's PEM writers take some objects non-const although writing does not change them. */
int lsec_pki__pem_pubkey(BIO *b, const void *o)
{
	return PEM_write_bio_PUBKEY(b, o);
}
int lsec_pki__pem_cert(BIO *b, const void *o)
{
	return PEM_write_bio_X509(b, (X509 *)(uintptr_t)o);
}
int lsec_pki__pem_req(BIO *b, const void *o)
{
	return PEM_write_bio_X509_REQ(b, (X509_REQ *)(uintptr_t)o);
}
int lsec_pki__pem_crl(BIO *b, const void *o)
{
	return PEM_write_bio_X509_CRL(b, (X509_CRL *)(uintptr_t)o);
}
