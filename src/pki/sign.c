/*
 * sign.c - signing certificates, CRLs and requests with the CA key, whether
 * that key is an OpenSSL key or lives in a PKCS#11 token.
 *
 * OpenSSL 3.0 offers no setter for a certificate's or CRL's signature
 * fields, and without a provider for the token it cannot sign with a key it
 * does not hold. So for a token key the object is first signed with a
 * throw-away P-256 key: that sets both AlgorithmIdentifiers (inner TBS one
 * and outer one) to ecdsa-with-SHA256 with absent parameters, exactly what
 * the CA key's signature needs. The TBS is then re-encoded, hashed on the
 * host, signed in the token, and the object is rebuilt from
 *     SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING signature }
 * (RFC 5280 section 4.1, RFC 2986 section 4.2), which OpenSSL parses back.
 * The throw-away signature never leaves this file.
 *
 * @test tests/unit/pki/test_p11.c, tests/unit/pki/test_ca.c
 */
#include "pki_int.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>

/* AlgorithmIdentifier ecdsa-with-SHA256 (RFC 5758 section 3.2: no parameters). */
static const uint8_t ecdsa_sha256_alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					   0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

void lsec_pki__signer_release(lsec_signer *s)
{
	if (s == NULL) {
		return;
	}
	EVP_PKEY_free(s->pkey);
	EVP_PKEY_free(s->pub);
	lsec_pki__p11_close(s->p11);
	memset(s, 0, sizeof(*s));
}

bool lsec_pki__signer_ready(const lsec_signer *s)
{
	return s->pkey != NULL || s->p11 != NULL || s->fn != NULL;
}

int lsec_pki__signer_sign(const lsec_signer *s, const uint8_t *msg, size_t len, lsec_buf *sig,
			  lsec_err *err)
{
	int rc = 0;
	uint8_t digest[32];
	LSEC_ENSURE(lsec_pki__signer_ready(s), LSEC_E_PKI_LOCKED,
		    "cannot sign: the CA was opened without its passphrase or PIN");
	if (s->p11 != NULL) {
		LSEC_TRY(lsec_sha256(digest, msg, len, err));
		LSEC_TRY(lsec_pki__p11_ec_sign(s->p11, s->key, digest, sig, err));
		goto out;
	}
	if (s->fn != NULL) {
		LSEC_TRY(s->fn(s->fn_ctx, msg, len, sig, err));
		goto out;
	}
	LSEC_TRY(lsec_evp_sign(sig, s->pkey, "SHA256", msg, len, "cannot sign with the CA key", err));
out:
	return rc;
}

/* Appends a DER tag and definite length. */
static int der_header(lsec_buf *b, uint8_t tag, size_t len, lsec_err *err)
{
	int rc = 0;
	uint8_t h[6];
	size_t n = 0;
	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else if (len <= 0xff) {
		h[n++] = 0x81;
		h[n++] = (uint8_t)len;
	} else if (len <= 0xffff) {
		h[n++] = 0x82;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		LSEC_BUG("DER value of %zu bytes too long", len);
	}
	LSEC_TRY(lsec_buf_append(b, h, n, err));
out:
	return rc;
}

/*
 * Signs tbs with the token or external key and writes the signed object's DER into out.
 * tbs is the DER the caller got from i2d_re_*_tbs.
 */
static int token_resign(const lsec_signer *s, const uint8_t *tbs, size_t tbslen, lsec_buf *out,
			lsec_err *err)
{
	int rc = 0;
	lsec_buf sig = LSEC_BUF_INIT(128);
	LSEC_TRY(lsec_pki__signer_sign(s, tbs, tbslen, &sig, err));
	size_t bitlen = 1 + sig.len;
	size_t bithdr = bitlen < 0x80 ? 2 : 3;
	size_t body = tbslen + sizeof(ecdsa_sha256_alg) + bithdr + bitlen;
	LSEC_TRY(der_header(out, 0x30, body, err));
	LSEC_TRY(lsec_buf_append(out, tbs, tbslen, err));
	LSEC_TRY(lsec_buf_append(out, ecdsa_sha256_alg, sizeof(ecdsa_sha256_alg), err));
	LSEC_TRY(der_header(out, 0x03, bitlen, err));
	LSEC_TRY(lsec_buf_append_u8(out, 0, err)); /* no unused bits */
	LSEC_TRY(lsec_buf_append(out, sig.data, sig.len, err));
out:
	lsec_buf_release(&sig);
	return rc;
}

/* What differs between signing a certificate, a CRL and a request. */
typedef struct obj_ops {
	const char *what;
	int (*sign)(void *obj, EVP_PKEY *key);
	int (*tbs)(void *obj, uint8_t **pp);
	void *(*d2i)(const uint8_t **pp, long len);
	void (*release)(void *obj);
} obj_ops;

static int x509_sign(void *o, EVP_PKEY *k)
{
	return X509_sign(o, k, EVP_sha256());
}
static int x509_tbs(void *o, uint8_t **pp)
{
	return i2d_re_X509_tbs(o, pp);
}
static void *x509_d2i(const uint8_t **pp, long len)
{
	return d2i_X509(NULL, pp, len);
}
static void x509_free(void *o)
{
	X509_free(o);
}
static int crl_sign(void *o, EVP_PKEY *k)
{
	return X509_CRL_sign(o, k, EVP_sha256());
}
static int crl_tbs(void *o, uint8_t **pp)
{
	return i2d_re_X509_CRL_tbs(o, pp);
}
static void *crl_d2i(const uint8_t **pp, long len)
{
	return d2i_X509_CRL(NULL, pp, len);
}
static void crl_free(void *o)
{
	X509_CRL_free(o);
}
static int req_sign(void *o, EVP_PKEY *k)
{
	return X509_REQ_sign(o, k, EVP_sha256());
}
static int req_tbs(void *o, uint8_t **pp)
{
	return i2d_re_X509_REQ_tbs(o, pp);
}
static void *req_d2i(const uint8_t **pp, long len)
{
	return d2i_X509_REQ(NULL, pp, len);
}
static void req_free(void *o)
{
	X509_REQ_free(o);
}

static const obj_ops x509_ops = {"certificate", x509_sign, x509_tbs, x509_d2i, x509_free};
static const obj_ops crl_ops = {"CRL", crl_sign, crl_tbs, crl_d2i, crl_free};
static const obj_ops req_ops = {"request", req_sign, req_tbs, req_d2i, req_free};

/* Signs *obj; with a token or external key, *obj is replaced by the rebuilt object. */
static int sign_obj(const lsec_signer *s, const obj_ops *ops, void **obj, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *ph = NULL;
	uint8_t *tbs = NULL;
	int tbslen = 0;
	lsec_buf der = LSEC_BUF_INIT(64u * 1024u * 1024u);
	void *signed_obj = NULL;
	LSEC_ENSURE(lsec_pki__signer_ready(s), LSEC_E_PKI_LOCKED,
		    "cannot sign: the CA was opened without its passphrase or PIN");
	if (s->pkey != NULL) {
		LSEC_TRY_OSSL(ops->sign(*obj, s->pkey), LSEC_E_CRYPTO, "cannot sign the %s",
			      ops->what);
		goto out;
	}
	ph = EVP_EC_gen("P-256");
	LSEC_TRY_OSSL_PTR(ph, LSEC_E_CRYPTO, "cannot generate a key");
	LSEC_TRY_OSSL(ops->sign(*obj, ph), LSEC_E_CRYPTO, "cannot encode the %s", ops->what);
	tbslen = ops->tbs(*obj, &tbs);
	LSEC_TRY_OSSL(tbslen, LSEC_E_CRYPTO, "cannot encode the %s", ops->what);
	LSEC_TRY(token_resign(s, tbs, (size_t)tbslen, &der, err));
	const uint8_t *p = der.data;
	signed_obj = ops->d2i(&p, (long)der.len);
	LSEC_TRY_OSSL_PTR(signed_obj, LSEC_E_INTERNAL, "cannot rebuild the signed %s",
			  ops->what);
	ops->release(*obj);
	*obj = signed_obj;
out:
	OPENSSL_free(tbs);
	EVP_PKEY_free(ph);
	lsec_buf_release(&der);
	return rc;
}

int lsec_pki__sign_x509(const lsec_signer *s, X509 **obj, lsec_err *err)
{
	void *o = *obj;
	int rc = sign_obj(s, &x509_ops, &o, err);
	*obj = o;
	return rc;
}

int lsec_pki__sign_crl(const lsec_signer *s, X509_CRL **obj, lsec_err *err)
{
	void *o = *obj;
	int rc = sign_obj(s, &crl_ops, &o, err);
	*obj = o;
	return rc;
}

int lsec_pki__sign_req(const lsec_signer *s, X509_REQ **obj, lsec_err *err)
{
	void *o = *obj;
	int rc = sign_obj(s, &req_ops, &o, err);
	*obj = o;
	return rc;
}

int lsec_pki__sig_raw_to_der(lsec_buf *der, const uint8_t raw[64], lsec_err *err)
{
	int rc = 0;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	uint8_t *enc = NULL;
	LSEC_TRY_OSSL_PTR(r = BN_bin2bn(raw, 32, NULL), LSEC_E_NOMEM, "cannot convert signature");
	LSEC_TRY_OSSL_PTR(s = BN_bin2bn(raw + 32, 32, NULL), LSEC_E_NOMEM,
			  "cannot convert signature");
	LSEC_TRY_OSSL_PTR(es = ECDSA_SIG_new(), LSEC_E_NOMEM, "cannot convert signature");
	LSEC_TRY_OSSL(ECDSA_SIG_set0(es, r, s), LSEC_E_CRYPTO, "cannot convert signature");
	r = s = NULL;
	int n = i2d_ECDSA_SIG(es, &enc);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot encode signature");
	LSEC_TRY(lsec_buf_append(der, enc, (size_t)n, err));
out:
	OPENSSL_free(enc);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

int lsec_pki__check_p256(const EVP_PKEY *pkey, const char *what, lsec_err *err)
{
	int rc = 0;
	char group[64] = "";
	size_t glen = 0;
	LSEC_ENSURE(pkey != NULL && EVP_PKEY_is_a(pkey, "EC"), LSEC_E_PKI_KEY_TYPE,
		    "%s: key is not an EC key, expected ECDSA P-256", what);
	LSEC_ENSURE(EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), &glen) == 1 &&
			    strcmp(group, "prime256v1") == 0, /* lint:ok - a curve name */
		    LSEC_E_PKI_KEY_TYPE, "%s: key is on curve '%s', expected P-256", what,
		    group[0] ? group : "unknown");
out:
	return rc;
}

int lsec_pki__key_public_only(EVP_PKEY **out, const EVP_PKEY *pkey, const char *what,
			      lsec_err *err)
{
	int rc = 0;
	unsigned char *der = NULL;
	*out = NULL;
	int n = i2d_PUBKEY(pkey, &der);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot extract public key of '%s'", what);
	const unsigned char *p = der;
	*out = d2i_PUBKEY(NULL, &p, n);
	LSEC_TRY_OSSL_PTR(*out, LSEC_E_CRYPTO, "cannot extract public key of '%s'", what);
out:
	OPENSSL_free(der);
	return rc;
}

int lsec_pki__key_fingerprint(uint8_t out[32], const EVP_PKEY *pkey, lsec_err *err)
{
	int rc = 0;
	uint8_t *der = NULL;
	int len = i2d_PUBKEY(pkey, &der);
	LSEC_TRY_OSSL(len, LSEC_E_CRYPTO, "cannot encode the public key");
	LSEC_TRY(lsec_sha256(out, der, (size_t)len, err));
out:
	OPENSSL_free(der);
	return rc;
}
