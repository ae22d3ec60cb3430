/* CSR parsing and checks, certificate parsing, proof of possession. */
#include "helpers/pkitest.h"
#include "helpers/testutil.h"

#include <string.h>

#include <openssl/ec.h>

static void test_pki_cert__csr_pem_and_der(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = pkitest_key("P-256");
	for (int der = 0; der < 2; der++) {
		lsec_buf b = LSEC_BUF_INIT(1 << 16);
		lsec_csr *csr = NULL;
		pkitest_csr(&b, k, der == 1);
		assert_lsec_ok(lsec_csr_parse(&csr, b.data, b.len, &err), &err);
		assert_int_equal(EVP_PKEY_eq(lsec_csr_key(csr), k), 1);
		lsec_csr_free(csr);
		lsec_buf_release(&b);
	}
	EVP_PKEY_free(k);
}

static void test_pki_cert__csr_bad_signature(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = pkitest_key("P-256");
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	lsec_csr *csr = NULL;
	pkitest_csr(&b, k, true);
	/* The signature BIT STRING ends the DER: flip a bit of s. */
	b.data[b.len - 3] ^= 0x01;
	assert_lsec_code(lsec_csr_parse(&csr, b.data, b.len, &err), LSEC_E_PKI_CSR_SIG, &err);
	assert_null(csr);
	assert_non_null(strstr(err.msg, "signature does not verify"));
	lsec_buf_release(&b);
	EVP_PKEY_free(k);
}

static void test_pki_cert__csr_rejects(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_csr *csr = NULL;
	/* Wrong curve. */
	EVP_PKEY *k = pkitest_key("P-384");
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	pkitest_csr(&b, k, false);
	assert_lsec_code(lsec_csr_parse(&csr, b.data, b.len, &err), LSEC_E_PKI_KEY_TYPE, &err);
	lsec_buf_release(&b);
	EVP_PKEY_free(k);
	/* Garbage, empty, truncated, trailing bytes, too large. */
	const uint8_t junk[] = "not a request";
	assert_lsec_code(lsec_csr_parse(&csr, junk, sizeof(junk), &err), LSEC_E_PKI_CSR, &err);
	assert_lsec_code(lsec_csr_parse(&csr, junk, 0, &err), LSEC_E_PKI_CSR, &err);
	k = pkitest_key("P-256");
	pkitest_csr(&b, k, true);
	assert_lsec_code(lsec_csr_parse(&csr, b.data, b.len - 1, &err), LSEC_E_PKI_CSR, &err);
	assert_lsec_ok(lsec_buf_append_u8(&b, 0, &err), &err);
	assert_lsec_code(lsec_csr_parse(&csr, b.data, b.len, &err), LSEC_E_PKI_CSR, &err);
	uint8_t *big = lsec_calloc(1, 64 * 1024 + 1);
	assert_lsec_code(lsec_csr_parse(&csr, big, 64 * 1024 + 1, &err), LSEC_E_LIMIT, &err);
	assert_null(csr);
	lsec_free(big);
	lsec_buf_release(&b);
	EVP_PKEY_free(k);
}

static const uint8_t uid[] = {0xde, 0xad, 0xbe, 0xef};

static lsec_cert *issue(lsec_ca *ca, EVP_PKEY *k)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_cert *c = NULL;
	lsec_cert_request r = LSEC_CERT_REQUEST_INIT;
	r.serial = "U1";
	r.product = "P";
	r.uid = uid;
	r.uid_len = sizeof(uid);
	assert_lsec_ok(lsec_ca_issue(&c, ca, k, &r, &err), &err);
	return c;
}

static void sign_challenge(lsec_buf *sig, EVP_PKEY *k, const uint8_t *msg, size_t len)
{
	lsec_err err = LSEC_ERR_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = 0;
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, NULL, &n, msg, len), 1);
	assert_lsec_ok(lsec_buf_reserve(sig, n, &err), &err);
	assert_int_equal(EVP_DigestSign(md, sig->data, &n, msg, len), 1);
	sig->len = n;
	EVP_MD_CTX_free(md);
}

static void test_pki_cert__proof_of_possession(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	EVP_PKEY *dev = pkitest_key("P-256");
	EVP_PKEY *other = pkitest_key("P-256");
	lsec_cert *cert = issue(ca, dev);
	uint8_t ch[32], ch2[32];
	assert_lsec_ok(lsec_pop_challenge(ch, &err), &err);
	assert_lsec_ok(lsec_pop_challenge(ch2, &err), &err);
	assert_memory_not_equal(ch, ch2, 32);

	lsec_buf sig = LSEC_BUF_INIT(128);
	sign_challenge(&sig, dev, ch, 32);
	assert_lsec_ok(lsec_pop_verify(cert, ch, 32, sig.data, sig.len, &err), &err);
	/* The same signature as raw r||s. */
	const uint8_t *p = sig.data;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig.len);
	uint8_t raw[64];
	BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
	ECDSA_SIG_free(es);
	assert_lsec_ok(lsec_pop_verify(cert, ch, 32, raw, 64, &err), &err);
	/* Over another challenge: refused. */
	assert_lsec_code(lsec_pop_verify(cert, ch2, 32, sig.data, sig.len, &err), LSEC_E_PKI_POP,
			 &err);
	raw[5] ^= 1;
	assert_lsec_code(lsec_pop_verify(cert, ch, 32, raw, 64, &err), LSEC_E_PKI_POP, &err);
	assert_lsec_code(lsec_pop_verify(cert, ch, 32, raw, 10, &err), LSEC_E_PKI_POP, &err);
	/* Signed by another key: refused. */
	lsec_buf_reset(&sig);
	sign_challenge(&sig, other, ch, 32);
	assert_lsec_code(lsec_pop_verify(cert, ch, 32, sig.data, sig.len, &err), LSEC_E_PKI_POP,
			 &err);

	lsec_buf_release(&sig);
	lsec_cert_free(cert);
	EVP_PKEY_free(other);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

static void test_pki_cert__encode_parse_roundtrip(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	EVP_PKEY *dev = pkitest_key("P-256");
	lsec_cert *cert = issue(ca, dev);
	for (int der = 0; der < 2; der++) {
		lsec_buf b = LSEC_BUF_INIT(1 << 16);
		lsec_cert *back = NULL;
		assert_lsec_ok(lsec_cert_encode(&b, cert, der == 1, &err), &err);
		assert_lsec_ok(lsec_cert_parse(&back, b.data, b.len, &err), &err);
		assert_int_equal(X509_cmp(lsec_cert_x509(back), lsec_cert_x509(cert)), 0);
		lsec_cert_free(back);
		lsec_buf_release(&b);
	}
	/* Validity bounds in the registry's time format, not after now, in order. */
	char nb[32], na[32], now[32];
	lsec_cert_validity(nb, na, cert);
	lsec_time_utc(now);
	assert_int_equal(strlen(nb), 20);
	assert_int_equal(strlen(na), 20);
	assert_true(nb[10] == 'T' && nb[19] == 'Z' && na[10] == 'T' && na[19] == 'Z');
	assert_true(strcmp(nb, now) <= 0); /* lint:ok - times, not secrets */
	assert_true(strcmp(nb, na) < 0);   /* lint:ok - times, not secrets */
	const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01};
	lsec_cert *bad = NULL;
	assert_lsec_code(lsec_cert_parse(&bad, junk, sizeof(junk), &err), LSEC_E_PKI_CERT, &err);
	char *missing = lsec_test_path(dir, "missing.pem");
	assert_lsec_code(lsec_cert_load(&bad, missing, &err), LSEC_E_IO, &err);
	lsec_free(missing);
	lsec_cert_free(cert);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

/* An external signer over an OpenSSL key (stands in for a device keystore). */
static int key_signer(void *ctx, const uint8_t *msg, size_t len, lsec_buf *sig, lsec_err *err)
{
	EVP_PKEY *k = ctx;
	if (k == NULL) {
		return lsec_err_set(err, LSEC_E_DEVICE, __FILE__, __LINE__, "device refused to sign");
	}
	sign_challenge(sig, k, msg, len);
	return 0;
}

static void test_pki_cert__csr_build(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *dev = pkitest_key("P-256"), *other = pkitest_key("P-256");
	EVP_PKEY *p384 = pkitest_key("P-384");
	uint8_t *spki = NULL, *spki384 = NULL;
	int sl = i2d_PUBKEY(dev, &spki), sl384 = i2d_PUBKEY(p384, &spki384);
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	lsec_csr *csr = NULL;
	/* Signed by the key itself: parses, verifies, carries the key. */
	assert_lsec_ok(lsec_csr_build(&b, spki, (size_t)sl, "SN-1", key_signer, dev, &err), &err);
	assert_lsec_ok(lsec_csr_parse(&csr, b.data, b.len, &err), &err);
	assert_int_equal(EVP_PKEY_eq(lsec_csr_key(csr), dev), 1);
	lsec_csr_free(csr);
	csr = NULL;
	/* Signed by another key: the request is refused when parsed. */
	lsec_buf_reset(&b);
	assert_lsec_ok(lsec_csr_build(&b, spki, (size_t)sl, "SN-1", key_signer, other, &err), &err);
	assert_lsec_code(lsec_csr_parse(&csr, b.data, b.len, &err), LSEC_E_PKI_CSR_SIG, &err);
	/* The signer's error comes through unchanged. */
	lsec_buf_reset(&b);
	assert_lsec_code(lsec_csr_build(&b, spki, (size_t)sl, "SN-1", key_signer, NULL, &err),
			 LSEC_E_DEVICE, &err);
	/* Not P-256, not a key. */
	assert_lsec_code(lsec_csr_build(&b, spki384, (size_t)sl384, "x", key_signer, p384, &err),
			 LSEC_E_PKI_KEY_TYPE, &err);
	assert_lsec_code(lsec_csr_build(&b, spki, 10, "x", key_signer, dev, &err), LSEC_E_PARSE,
			 &err);
	assert_int_equal(b.len, 0);
	lsec_buf_release(&b);
	OPENSSL_free(spki384);
	OPENSSL_free(spki);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(other);
	EVP_PKEY_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_cert__csr_pem_and_der),
		cmocka_unit_test(test_pki_cert__csr_bad_signature),
		cmocka_unit_test(test_pki_cert__csr_rejects),
		cmocka_unit_test(test_pki_cert__proof_of_possession),
		cmocka_unit_test(test_pki_cert__encode_parse_roundtrip),
		cmocka_unit_test(test_pki_cert__csr_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
