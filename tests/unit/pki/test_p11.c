/* The CA key and credential key in a PKCS#11 token (SoftHSM2). */
#include "helpers/pkitest.h"
#include "helpers/testutil.h"

#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "pki/pki_int.h"

typedef struct fixture {
	char *dir;
	const char *module;
	lsec_secret *pin;
} fixture;

static int setup(void **state)
{
	fixture *f = lsec_calloc(1, sizeof(*f));
	f->dir = lsec_test_tmpdir();
	f->module = pkitest_softhsm(f->dir);
	f->pin = pkitest_secret(PKITEST_PIN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	lsec_secret_free(f->pin);
	lsec_test_rmtree(f->dir);
	lsec_free(f);
	return 0;
}

static X509 *cax3_of(const lsec_ca *ca)
{
	return lsec_cert_x509(lsec_ca_cert(ca));
}

static lsec_ca_options token_opts(const fixture *f, const char *label)
{
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	o.common_name = "Token Line CA";
	o.pkcs11_module = f->module;
	o.token_label = PKITEST_TOKEN;
	o.key_label = label;
	o.pin = f->pin;
	return o;
}

static void test_pki_p11__ca_in_token(void **state)
{
	fixture *f = *state;
	if (f->module == NULL) {
		skip();
	}
	lsec_err err = LSEC_ERR_INIT;
	char *cadir = lsec_test_path(f->dir, "ca");
	lsec_ca_options o = token_opts(f, "line-ca");
	assert_lsec_ok(lsec_ca_init(cadir, &o, &err), &err);
	/* No key file, no credential key file: both live in the token. */
	char *keyfile = lsec_test_path(cadir, "ca.key.pem");
	char *credfile = lsec_test_path(cadir, "cred.key");
	assert_false(lsec_pki__file_exists(keyfile));
	assert_false(lsec_pki__file_exists(credfile));

	lsec_ca *ca = NULL;
	assert_lsec_ok(lsec_ca_open(&ca, cadir, f->pin, &err), &err);
	X509 *cax = lsec_cert_x509(lsec_ca_cert(ca));
	/* The self-signed root was signed inside the token and verifies. */
	assert_int_equal(X509_verify(cax, X509_get0_pubkey(cax)), 1);

	/* A device certificate signed in the token. */
	EVP_PKEY *dev = pkitest_key("P-256");
	lsec_buf csrb = LSEC_BUF_INIT(1 << 16);
	lsec_csr *csr = NULL;
	pkitest_csr(&csrb, dev, true);
	assert_lsec_ok(lsec_csr_parse(&csr, csrb.data, csrb.len, &err), &err);
	const uint8_t uid[] = {9, 8, 7, 6};
	lsec_cert_request r = LSEC_CERT_REQUEST_INIT;
	r.serial = "HSM-1";
	r.product = "P";
	r.uid = uid;
	r.uid_len = sizeof(uid);
	lsec_cert *cert = NULL;
	assert_lsec_ok(lsec_ca_issue(&cert, ca, lsec_csr_key(csr), &r, &err), &err);
	assert_int_equal(pkitest_verify(lsec_cert_x509(cert), cax, NULL), X509_V_OK);

	/* A CRL signed in the token. */
	char sn[41];
	lsec_cert_serial_hex(sn, cert);
	lsec_revoked rev[] = {{sn, NULL, 1700000000, LSEC_CRL_KEY_COMPROMISE}};
	lsec_crl_options co = LSEC_CRL_OPTIONS_INIT;
	co.der = true;
	lsec_buf crlb = LSEC_BUF_INIT(1 << 20);
	uint64_t num = 0;
	assert_lsec_ok(lsec_ca_crl(&crlb, &num, ca, rev, 1, &co, &err), &err);
	assert_int_equal(num, 1);
	const uint8_t *p = crlb.data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)crlb.len);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
	assert_int_equal(pkitest_verify(lsec_cert_x509(cert), cax, crl), X509_V_ERR_CERT_REVOKED);

	/* Credential fingerprints: HMAC inside the token, stable across sessions. */
	uint8_t fp[32], fp2[32];
	const uint8_t pw[] = "k7PmQ2xZr9WtYb3N";
	assert_lsec_ok(lsec_cred_fingerprint(fp, ca, pw, 16, &err), &err);
	lsec_ca *ca2 = NULL;
	assert_lsec_ok(lsec_ca_open(&ca2, cadir, f->pin, &err), &err);
	assert_lsec_ok(lsec_cred_fingerprint(fp2, ca2, pw, 16, &err), &err);
	assert_memory_equal(fp, fp2, 32);
	assert_lsec_ok(lsec_cred_check(ca2, pw, 16, fp, &err), &err);
	assert_lsec_code(lsec_cred_check(ca2, pw, 15, fp, &err), LSEC_E_AUTH, &err);
	lsec_ca_free(ca2);

	/* Two sessions at once: closing one leaves the other logged in and signing. */
	lsec_ca *ca3 = NULL;
	assert_lsec_ok(lsec_ca_open(&ca3, cadir, f->pin, &err), &err);
	lsec_ca_free(ca);
	ca = NULL;
	lsec_cert *cert3 = NULL;
	r.serial = "HSM-3";
	assert_lsec_ok(lsec_ca_issue(&cert3, ca3, lsec_csr_key(csr), &r, &err), &err);
	assert_int_equal(pkitest_verify(lsec_cert_x509(cert3), cax3_of(ca3), NULL), X509_V_OK);
	lsec_cert_free(cert3);
	ca = ca3;
	cax = lsec_cert_x509(lsec_ca_cert(ca));
	/* Read-only open: no session, no signing, no fingerprints. */
	assert_lsec_ok(lsec_ca_open(&ca2, cadir, NULL, &err), &err);
	assert_lsec_code(lsec_cred_fingerprint(fp2, ca2, pw, 16, &err), LSEC_E_PKI_LOCKED, &err);
	lsec_ca_description *d = NULL;
	assert_lsec_ok(lsec_ca_describe(&d, ca2, &err), &err);
	assert_string_equal(d->storage, "pkcs11");
	assert_string_equal(d->key_label, "line-ca");
	json_t *j = NULL;
	assert_lsec_ok(lsec_ca_description_json(&j, d, &err), &err);
	assert_string_equal(json_string_value(json_object_get(j, "key_label")), "line-ca");
	json_decref(j);
	lsec_ca_description_free(d);
	lsec_ca_free(ca2);

	X509_CRL_free(crl);
	lsec_buf_release(&crlb);
	lsec_cert_free(cert);
	lsec_csr_free(csr);
	lsec_buf_release(&csrb);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_free(credfile);
	lsec_free(keyfile);
	lsec_free(cadir);
}

static void test_pki_p11__csr_for_offline_root(void **state)
{
	fixture *f = *state;
	if (f->module == NULL) {
		skip();
	}
	lsec_err err = LSEC_ERR_INIT;
	char *cadir = lsec_test_path(f->dir, "ca2");
	char *csrpath = lsec_test_path(f->dir, "ca2.csr");
	lsec_ca_options o = token_opts(f, "line-ca-2");
	o.csr_out = csrpath;
	assert_lsec_ok(lsec_ca_init(cadir, &o, &err), &err);
	FILE *fp = fopen(csrpath, "r");
	X509_REQ *r = PEM_read_X509_REQ(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(r);
	assert_int_equal(X509_REQ_verify(r, X509_REQ_get0_pubkey(r)), 1);
	/* The request carries the token's key. */
	lsec_ca *ca = NULL;
	assert_lsec_ok(lsec_ca_open(&ca, cadir, f->pin, &err), &err);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(r), ca->signer.pub), 1);
	lsec_ca_free(ca);
	X509_REQ_free(r);
	lsec_free(csrpath);
	lsec_free(cadir);
}

static void test_pki_p11__refusals(void **state)
{
	fixture *f = *state;
	if (f->module == NULL) {
		skip();
	}
	lsec_err err = LSEC_ERR_INIT;
	char *a = lsec_test_path(f->dir, "a");
	char *b = lsec_test_path(f->dir, "b");
	lsec_ca_options o = token_opts(f, "dup");
	assert_lsec_ok(lsec_ca_init(a, &o, &err), &err);
	/* The label is taken: refused, and the folder is left empty for a retry. */
	assert_lsec_code(lsec_ca_init(b, &o, &err), LSEC_E_EXISTS, &err);
	char *bjson = lsec_test_path(b, "ca.json");
	assert_false(lsec_pki__file_exists(bjson));
	/* A ceremony that fails after making its keys removes them from the token too. */
	lsec_ca_options late = token_opts(f, "undone");
	late.csr_out = "/nonexistent/dir/ca.csr";
	assert_lsec_code(lsec_ca_init(b, &late, &err), LSEC_E_IO, &err);
	assert_false(lsec_pki__file_exists(bjson));
	late.csr_out = NULL;
	assert_lsec_ok(lsec_ca_init(b, &late, &err), &err);
	/* Wrong PIN. */
	lsec_secret *wrong = pkitest_secret("000000");
	lsec_ca *ca = NULL;
	assert_lsec_code(lsec_ca_open(&ca, a, wrong, &err), LSEC_E_AUTH, &err);
	assert_null(ca);
	/* No such token. */
	char *c = lsec_test_path(f->dir, "c");
	o.token_label = "no-such-token";
	o.key_label = "other";
	assert_lsec_code(lsec_ca_init(c, &o, &err), LSEC_E_NOTFOUND, &err);
	/* No such module. */
	o.pkcs11_module = "/nonexistent/module.so";
	assert_lsec_code(lsec_ca_init(c, &o, &err), LSEC_E_IO, &err);
	lsec_free(c);
	lsec_secret_free(wrong);
	lsec_free(bjson);
	lsec_free(b);
	lsec_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_p11__ca_in_token),
		cmocka_unit_test(test_pki_p11__csr_for_offline_root),
		cmocka_unit_test(test_pki_p11__refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
