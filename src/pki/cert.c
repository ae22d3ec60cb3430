/*
 * cert.c - certificates and certificate requests as the station sees them:
 * parsing (PEM or DER, bounded), the CSR self-signature check, key
 * fingerprints, and the proof of possession of a device key.
 *
 * @test tests/unit/pki/test_cert.c
 */
#include "pki_int.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

struct lsec_csr {
	X509_REQ *req;
};

struct lsec_cert {
	X509 *x;
};

static bool looks_pem(const uint8_t *data, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	for (size_t i = 0; i + sizeof(tag) - 1 <= len && i < 256; i++) {
		if (memcmp(data + i, tag, sizeof(tag) - 1) == 0) { /* lint:ok - public text */
			return true;
		}
	}
	return false;
}

int lsec_csr_parse(lsec_csr **out, const uint8_t *data, size_t len, lsec_err *err)
{
	int rc = 0;
	lsec_csr *c = NULL;
	BIO *bio = NULL;
	*out = NULL;
	LSEC_ENSURE(data != NULL || len == 0, LSEC_E_USAGE, "missing certificate request");
	LSEC_ENSURE(len <= LSEC_PKI_MAX_INPUT, LSEC_E_LIMIT,
		    "cannot parse certificate request: %zu bytes, at most %u expected", len,
		    LSEC_PKI_MAX_INPUT);
	LSEC_ENSURE(len > 0, LSEC_E_PKI_CSR, "cannot parse certificate request: empty");
	c = lsec_calloc(1, sizeof(*c));
	LSEC_ENSURE(c != NULL, LSEC_E_NOMEM, "out of memory for a certificate request");
	if (looks_pem(data, len)) {
		LSEC_TRY_OSSL_PTR(bio = BIO_new_mem_buf(data, (int)len), LSEC_E_NOMEM,
				  "out of memory reading a certificate request");
		c->req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	} else {
		const uint8_t *p = data;
		c->req = d2i_X509_REQ(NULL, &p, (long)len);
		if (c->req != NULL && p != data + len) {
			X509_REQ_free(c->req);
			c->req = NULL;
		}
	}
	LSEC_TRY_OSSL_PTR(c->req, LSEC_E_PKI_CSR,
			  "cannot parse certificate request: not a PKCS#10 request");
	EVP_PKEY *key = X509_REQ_get0_pubkey(c->req);
	LSEC_TRY_OSSL_PTR(key, LSEC_E_PKI_CSR,
			  "cannot parse certificate request: unreadable public key");
	LSEC_TRY(lsec_pki__check_p256(key, "cannot accept certificate request", err));
	LSEC_TRY_OSSL(X509_REQ_verify(c->req, key), LSEC_E_PKI_CSR_SIG,
		      "cannot accept certificate request: signature does not verify under its key");
	*out = c;
	c = NULL;
out:
	BIO_free(bio);
	lsec_csr_free(c);
	return rc;
}

int lsec_csr_build(lsec_buf *out, const uint8_t *spki, size_t spki_len, const char *cn,
		   lsec_pki_sign_fn sign, void *ctx, lsec_err *err)
{
	int rc = 0;
	lsec_signer s;
	X509_REQ *r = NULL;
	uint8_t *der = NULL;
	memset(&s, 0, sizeof(s));
	LSEC_ENSURE(spki != NULL && sign != NULL && cn != NULL, LSEC_E_USAGE,
		    "cannot build a certificate request: missing key, signer or name");
	const uint8_t *p = spki;
	s.pub = d2i_PUBKEY(NULL, &p, (long)spki_len);
	LSEC_TRY_OSSL_PTR(s.pub, LSEC_E_PARSE,
			  "cannot build a certificate request: the device key is not a "
			  "SubjectPublicKeyInfo");
	LSEC_TRY(lsec_pki__check_p256(s.pub, "cannot build a certificate request", err));
	s.fn = sign;
	s.fn_ctx = ctx;
	LSEC_TRY_OSSL_PTR(r = X509_REQ_new(), LSEC_E_NOMEM, "out of memory for a request");
	LSEC_TRY_OSSL(X509_REQ_set_version(r, X509_REQ_VERSION_1), LSEC_E_CRYPTO,
		      "cannot set version");
	LSEC_TRY_OSSL(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_UTF8,
						 (const unsigned char *)cn, -1, -1, 0),
		      LSEC_E_USAGE, "cannot set common name '%s'", cn);
	LSEC_TRY_OSSL(X509_REQ_set_pubkey(r, s.pub), LSEC_E_CRYPTO, "cannot set the public key");
	LSEC_TRY(lsec_pki__sign_req(&s, &r, err));
	int n = i2d_X509_REQ(r, &der);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot encode the request");
	LSEC_TRY(lsec_buf_append(out, der, (size_t)n, err));
out:
	OPENSSL_free(der);
	X509_REQ_free(r);
	EVP_PKEY_free(s.pub);
	return rc;
}

EVP_PKEY *lsec_csr_key(const lsec_csr *csr)
{
	return X509_REQ_get0_pubkey(csr->req);
}

void lsec_csr_free(lsec_csr *csr)
{
	if (csr == NULL) {
		return;
	}
	X509_REQ_free(csr->req);
	lsec_free(csr);
}

int lsec_pki__cert_wrap(lsec_cert **out, X509 *x, lsec_err *err)
{
	int rc = 0;
	*out = lsec_calloc(1, sizeof(**out));
	if (*out == NULL) {
		X509_free(x);
		LSEC_BAIL(LSEC_E_NOMEM, "out of memory for a certificate");
	}
	(*out)->x = x;
out:
	return rc;
}

int lsec_cert_parse(lsec_cert **out, const uint8_t *data, size_t len, lsec_err *err)
{
	int rc = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	*out = NULL;
	LSEC_ENSURE(len <= LSEC_PKI_MAX_INPUT, LSEC_E_LIMIT,
		    "cannot parse certificate: %zu bytes, at most %u expected", len,
		    LSEC_PKI_MAX_INPUT);
	LSEC_ENSURE(len > 0, LSEC_E_PKI_CERT, "cannot parse certificate: empty");
	if (looks_pem(data, len)) {
		LSEC_TRY_OSSL_PTR(bio = BIO_new_mem_buf(data, (int)len), LSEC_E_NOMEM,
				  "out of memory reading a certificate");
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	} else {
		const uint8_t *p = data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != data + len) {
			X509_free(x);
			x = NULL;
		}
	}
	LSEC_TRY_OSSL_PTR(x, LSEC_E_PKI_CERT, "cannot parse certificate: not an X.509 certificate");
	LSEC_TRY(lsec_pki__cert_wrap(out, x, err));
out:
	BIO_free(bio);
	return rc;
}

int lsec_cert_load(lsec_cert **out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	*out = NULL;
	LSEC_TRY(lsec_file_read(&b, path, err));
	rc = lsec_cert_parse(out, b.data, b.len, err);
	if (rc < 0 && rc != LSEC_E_NOMEM && err != NULL) {
		char why[sizeof(err->msg)];
		memcpy(why, err->msg, sizeof(why));
		LSEC_BAIL(rc, "'%s': %.200s", path, why);
	}
out:
	lsec_buf_release(&b);
	return rc;
}

int lsec_cert_encode(lsec_buf *out, const lsec_cert *cert, bool der, lsec_err *err)
{
	int rc = 0;
	uint8_t *p = NULL;
	int n = 0;
	if (der) {
		n = i2d_X509(cert->x, &p);
		LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot encode certificate");
		LSEC_TRY(lsec_buf_append(out, p, (size_t)n, err));
		goto out;
	}
	LSEC_TRY(lsec_pki__pem_append(out, lsec_pki__pem_cert, cert->x, "cannot encode certificate",
				      err));
out:
	OPENSSL_free(p);
	return rc;
}

void lsec_cert_serial_hex(char out[41], const lsec_cert *cert)
{
	out[0] = '\0';
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert->x);
	const uint8_t *d = ASN1_STRING_get0_data(sn);
	int n = ASN1_STRING_length(sn);
	if (d == NULL || n <= 0) {
		return;
	}
	size_t len = (size_t)n > 20 ? 20 : (size_t)n;
	lsec_hex_encode(out, d, len);
}

/* Formats an ASN.1 time as lsec_time_format does; "" when it cannot be read. */
static void asn1_time_format(char out[32], const ASN1_TIME *t)
{
	struct tm tm;
	out[0] = '\0';
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		out[0] = '\0';
		ERR_clear_error();
	}
}

void lsec_cert_validity(char not_before[32], char not_after[32], const lsec_cert *cert)
{
	asn1_time_format(not_before, X509_get0_notBefore(cert->x));
	asn1_time_format(not_after, X509_get0_notAfter(cert->x));
}

int lsec_cert_key_fingerprint(uint8_t out[32], const lsec_cert *cert, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *k = X509_get0_pubkey(cert->x);
	LSEC_TRY_OSSL_PTR(k, LSEC_E_PKI_CERT, "cannot read the certificate's public key");
	LSEC_TRY(lsec_pki__key_fingerprint(out, k, err));
out:
	return rc;
}

X509 *lsec_cert_x509(const lsec_cert *cert)
{
	return cert->x;
}

void lsec_cert_free(lsec_cert *cert)
{
	if (cert == NULL) {
		return;
	}
	X509_free(cert->x);
	lsec_free(cert);
}

int lsec_pop_challenge(uint8_t out[32], lsec_err *err)
{
	return lsec_random(out, 32, err);
}

/*
 * The signature as DER: taken as is when it parses as an ECDSA-Sig-Value
 * covering all of sig, else read as raw r||s when it is 64 bytes long.
 */
static int sig_to_der(lsec_buf *der, const uint8_t *sig, size_t siglen, lsec_err *err)
{
	int rc = 0;
	const uint8_t *p = sig;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
	if (es != NULL && p == sig + siglen) {
		LSEC_TRY(lsec_buf_append(der, sig, siglen, err));
		goto out;
	}
	ECDSA_SIG_free(es);
	es = NULL;
	ERR_clear_error();
	LSEC_ENSURE(siglen == 64, LSEC_E_PKI_POP,
		    "proof of possession failed: signature of %zu bytes is neither DER nor "
		    "64-byte r||s",
		    siglen);
	LSEC_TRY(lsec_pki__sig_raw_to_der(der, sig, err));
out:
	ECDSA_SIG_free(es);
	return rc;
}

int lsec_pop_verify(const lsec_cert *cert, const uint8_t *challenge, size_t len,
		    const uint8_t *sig, size_t siglen, lsec_err *err)
{
	int rc = 0;
	lsec_buf der = LSEC_BUF_INIT(128);
	bool ok = false;
	char sn[41];
	lsec_cert_serial_hex(sn, cert);
	LSEC_ENSURE(len >= 16, LSEC_E_USAGE,
		    "proof of possession for certificate '%s': challenge of %zu bytes, at least 16 "
		    "expected",
		    sn, len);
	LSEC_TRY(sig_to_der(&der, sig, siglen, err));
	EVP_PKEY *k = X509_get0_pubkey(cert->x);
	LSEC_TRY_OSSL_PTR(k, LSEC_E_PKI_CERT, "cannot read the public key of certificate '%s'",
			  sn);
	LSEC_TRY(lsec_evp_verify(&ok, k, "SHA256", challenge, len, der.data, der.len,
				 "cannot verify a proof of possession", err));
	LSEC_ENSURE(ok, LSEC_E_PKI_POP,
		    "proof of possession failed: the signature does not verify under "
		    "certificate '%s'",
		    sn);
out:
	lsec_buf_release(&der);
	return rc;
}
