/* The line CA with a file key: ceremony, open, import, issuance. */
#include "helpers/pkitest.h"
#include "helpers/testutil.h"

#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki_int.h"

static const uint8_t uid[] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb, 0xcc, 0xdd};

static lsec_cert_request request(void)
{
	lsec_cert_request r = LSEC_CERT_REQUEST_INIT;
	r.serial = "SN-000123";
	r.product = "sensor-node-3";
	r.uid = uid;
	r.uid_len = sizeof(uid);
	r.validity_days = 365;
	return r;
}

static char *ext_text(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);
	assert_true(i >= 0);
	X509_EXTENSION *e = X509_get_ext(x, i);
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(X509V3_EXT_print(b, e, 0, 0), 1);
	char *mem = NULL;
	long n = BIO_get_mem_data(b, &mem);
	char *s = lsec_malloc((size_t)n + 1);
	memcpy(s, mem, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static bool ext_critical(X509 *x, int nid)
{
	return X509_EXTENSION_get_critical(X509_get_ext(x, X509_get_ext_by_NID(x, nid, -1))) == 1;
}

static void test_pki_ca__issue_from_csr(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *cadir = lsec_test_path(dir, "ca");
	lsec_ca *ca = pkitest_file_ca(cadir);
	EVP_PKEY *dev = pkitest_key("P-256");
	lsec_buf csrb = LSEC_BUF_INIT(1 << 16);
	lsec_csr *csr = NULL;
	lsec_cert *cert = NULL;
	lsec_cert_request req = request();

	pkitest_csr(&csrb, dev, false);
	assert_lsec_ok(lsec_csr_parse(&csr, csrb.data, csrb.len, &err), &err);
	assert_lsec_ok(lsec_ca_issue(&cert, ca, lsec_csr_key(csr), &req, &err), &err);
	X509 *x = lsec_cert_x509(cert);
	X509 *cax = lsec_cert_x509(lsec_ca_cert(ca));

	assert_int_equal(pkitest_verify(x, cax, NULL), X509_V_OK);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), dev), 1);
	/* Subject from the registry, not from the CSR. */
	char cn[80] = "", o[80] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o, sizeof(o));
	assert_string_equal(cn, "SN-000123");
	assert_string_equal(o, "sensor-node-3");
	/* Serial: 16 bytes, positive. */
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	assert_int_equal(ASN1_STRING_length(sn), 16);
	assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
	char hex[41];
	lsec_cert_serial_hex(hex, cert);
	assert_int_equal(strlen(hex), 32);
	/* Extensions. */
	char *t = ext_text(x, NID_basic_constraints);
	assert_string_equal(t, "CA:FALSE");
	lsec_free(t);
	assert_true(ext_critical(x, NID_basic_constraints));
	t = ext_text(x, NID_key_usage);
	assert_string_equal(t, "Digital Signature");
	lsec_free(t);
	assert_true(ext_critical(x, NID_key_usage));
	t = ext_text(x, NID_ext_key_usage);
	assert_string_equal(t, "TLS Web Client Authentication");
	lsec_free(t);
	t = ext_text(x, NID_subject_alt_name);
	assert_string_equal(t, "URI:urn:linesec:uid:00112233aabbccdd");
	lsec_free(t);
	assert_true(X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) >= 0);
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(cax)),
			 0);
	/* The key fingerprint is the SHA-256 of the device's SPKI. */
	uint8_t fp[32], want[32];
	uint8_t *spki = NULL;
	int spkilen = i2d_PUBKEY(dev, &spki);
	assert_lsec_ok(lsec_sha256(want, spki, (size_t)spkilen, &err), &err);
	OPENSSL_free(spki);
	assert_lsec_ok(lsec_cert_key_fingerprint(fp, cert, &err), &err);
	assert_memory_equal(fp, want, 32);

	/* Two issuances never share a serial. */
	lsec_cert *cert2 = NULL;
	char hex2[41];
	assert_lsec_ok(lsec_ca_issue(&cert2, ca, lsec_csr_key(csr), &req, &err), &err);
	lsec_cert_serial_hex(hex2, cert2);
	assert_string_not_equal(hex, hex2);

	lsec_cert_free(cert2);
	lsec_cert_free(cert);
	lsec_csr_free(csr);
	lsec_buf_release(&csrb);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_free(cadir);
	lsec_test_rmtree(dir);
}

static void test_pki_ca__files_and_reopen(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	struct stat st;
	char *key = lsec_test_path(dir, "ca.key.pem");
	char *cred = lsec_test_path(dir, "cred.key");
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(cred, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The key file is encrypted PKCS#8: no clear private key in it. */
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	assert_lsec_ok(lsec_file_read(&b, key, &err), &err);
	const char *text = lsec_buf_cstr(&b, &err);
	assert_non_null(strstr(text, "BEGIN ENCRYPTED PRIVATE KEY"));
	assert_null(strstr(text, "BEGIN PRIVATE KEY"));
	BIO *bio = BIO_new_mem_buf(b.data, (int)b.len);
	EVP_PKEY *nokey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(uintptr_t)"");
	assert_null(nokey);
	BIO_free(bio);
	lsec_buf_release(&b);

	/* A second ceremony in the same folder is refused. */
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	lsec_secret *pass = pkitest_secret(PKITEST_PASSPHRASE);
	o.common_name = "Again";
	o.passphrase = pass;
	assert_lsec_code(lsec_ca_init(dir, &o, &err), LSEC_E_EXISTS, &err);

	/* Wrong passphrase. */
	lsec_ca *ca2 = NULL;
	lsec_secret *wrong = pkitest_secret("not the passphrase");
	assert_lsec_code(lsec_ca_open(&ca2, dir, wrong, &err), LSEC_E_CRYPTO, &err);
	assert_null(ca2);

	/* Opened read-only: describes itself but cannot sign. */
	assert_lsec_ok(lsec_ca_open(&ca2, dir, NULL, &err), &err);
	lsec_ca_description *d = NULL;
	assert_lsec_ok(lsec_ca_describe(&d, ca2, &err), &err);
	assert_string_equal(d->state, "active");
	assert_string_equal(d->storage, "file");
	assert_null(d->key_label);
	assert_non_null(d->subject);
	assert_int_equal(strlen(d->key_sha256), 64);
	json_t *j = NULL;
	assert_lsec_ok(lsec_ca_description_json(&j, d, &err), &err);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "active");
	assert_string_equal(json_string_value(json_object_get(j, "key_sha256")), d->key_sha256);
	assert_null(json_object_get(j, "key_label"));
	assert_string_equal(json_string_value(json_object_get(j, "serial")), d->serial);
	json_decref(j);
	lsec_ca_description_free(d);
	lsec_cert *cert = NULL;
	lsec_cert_request req = request();
	EVP_PKEY *dev = pkitest_key("P-256");
	assert_lsec_code(lsec_ca_issue(&cert, ca2, dev, &req, &err), LSEC_E_PKI_LOCKED, &err);
	assert_null(cert);

	/* Missing CA. */
	lsec_ca *none = NULL;
	char *empty = lsec_test_path(dir, "nothing");
	assert_lsec_code(lsec_ca_open(&none, empty, NULL, &err), LSEC_E_NOTFOUND, &err);

	EVP_PKEY_free(dev);
	lsec_free(empty);
	lsec_ca_free(ca2);
	lsec_secret_free(wrong);
	lsec_secret_free(pass);
	lsec_free(key);
	lsec_free(cred);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

static void test_pki_ca__bad_requests(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	EVP_PKEY *dev = pkitest_key("P-256");
	EVP_PKEY *p384 = pkitest_key("P-384");
	lsec_cert *cert = NULL;
	lsec_cert_request req = request();

	assert_lsec_code(lsec_ca_issue(&cert, ca, p384, &req, &err), LSEC_E_PKI_KEY_TYPE, &err);
	req.serial = "";
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_USAGE, &err);
	req = request();
	req.product = "bad\nname";
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_USAGE, &err);
	/* the certificate's CN is the serial: only an identifier becomes one */
	req = request();
	req.serial = "../../../../tmp/x";
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "is not an identifier"));
	req.serial = "a\x1b[31m";
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_USAGE, &err);
	req = request();
	req.uid_len = 0;
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_USAGE, &err);
	req = request();
	req.validity_days = 0;
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_USAGE, &err);
	/* A device certificate cannot outlive the CA root (valid 10950 days by default). */
	req.validity_days = 12000;
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_POLICY, &err);
	assert_null(cert);

	EVP_PKEY_free(p384);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

/* An offline root signs the CA's request; the CA imports the result. */
static X509 *root_sign(X509 *root, EVP_PKEY *rootkey, X509_REQ *req)
{
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_version(x, X509_VERSION_3);
	X509_set_issuer_name(x, X509_get_subject_name(root));
	X509_set_subject_name(x, X509_REQ_get_subject_name(req));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 3000);
	X509_set_pubkey(x, X509_REQ_get0_pubkey(req));
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, root, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
						"critical,CA:TRUE,pathlen:0");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, rootkey, EVP_sha256()) > 0);
	return x;
}

static X509 *self_root(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Offline Root",
				   -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 4000);
	X509_set_pubkey(x, k);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
						"critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

static void write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void test_pki_ca__offline_root(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *cadir = lsec_test_path(dir, "ca");
	char *csrpath = lsec_test_path(dir, "ca.csr");
	char *certpath = lsec_test_path(dir, "ca.crt");
	char *rootpath = lsec_test_path(dir, "root.crt");
	char *otherpath = lsec_test_path(dir, "other.crt");
	lsec_secret *pass = pkitest_secret(PKITEST_PASSPHRASE);
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	o.common_name = "Line 4 CA";
	o.passphrase = pass;
	o.csr_out = csrpath;
	assert_lsec_ok(lsec_ca_init(cadir, &o, &err), &err);

	lsec_ca *ca = NULL;
	assert_lsec_ok(lsec_ca_open(&ca, cadir, pass, &err), &err);
	assert_null(lsec_ca_cert(ca));
	EVP_PKEY *dev = pkitest_key("P-256");
	lsec_cert *cert = NULL;
	lsec_cert_request req = request();
	assert_lsec_code(lsec_ca_issue(&cert, ca, dev, &req, &err), LSEC_E_PKI_CA_PENDING, &err);

	/* The CSR is signed by the CA key and asks for CA:TRUE. */
	FILE *f = fopen(csrpath, "r");
	X509_REQ *r = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(r);
	assert_int_equal(X509_REQ_verify(r, X509_REQ_get0_pubkey(r)), 1);

	EVP_PKEY *rootkey = pkitest_key("P-256");
	X509 *root = self_root(rootkey);
	X509 *signed_ca = root_sign(root, rootkey, r);
	write_cert(certpath, signed_ca);
	write_cert(rootpath, root);
	/* A certificate for another key is refused. */
	EVP_PKEY *otherkey = pkitest_key("P-256");
	X509 *other = self_root(otherkey);
	write_cert(otherpath, other);
	assert_lsec_code(lsec_ca_import_cert(ca, otherpath, NULL, &err), LSEC_E_PKI_MISMATCH,
			 &err);
	/* Under the wrong root: refused. */
	assert_lsec_code(lsec_ca_import_cert(ca, certpath, otherpath, &err), LSEC_E_PKI_MISMATCH,
			 &err);
	assert_lsec_ok(lsec_ca_import_cert(ca, certpath, rootpath, &err), &err);
	assert_lsec_code(lsec_ca_import_cert(ca, certpath, rootpath, &err), LSEC_E_STATE, &err);

	/* Device certificates now chain to the offline root. */
	assert_lsec_ok(lsec_ca_issue(&cert, ca, dev, &req, &err), &err);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_add_cert(st, root);
	STACK_OF(X509) *chain = sk_X509_new_null();
	sk_X509_push(chain, lsec_cert_x509(lsec_ca_cert(ca)));
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, st, lsec_cert_x509(cert), chain);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(chain);
	X509_STORE_free(st);

	lsec_cert_free(cert);
	X509_free(other);
	EVP_PKEY_free(otherkey);
	X509_free(signed_ca);
	X509_free(root);
	EVP_PKEY_free(rootkey);
	X509_REQ_free(r);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_secret_free(pass);
	lsec_free(otherpath);
	lsec_free(rootpath);
	lsec_free(certpath);
	lsec_free(csrpath);
	lsec_free(cadir);
	lsec_test_rmtree(dir);
}

static void test_pki_ca__station_keygen(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	lsec_cert *cert = NULL;
	lsec_secret *p8 = NULL;
	EVP_PKEY *pub = NULL;
	lsec_cert_request req = request();
	assert_lsec_ok(lsec_pki_station_keygen(&p8, &pub, &err), &err);
	/* The PKCS#8 DER holds the private half of pub, and pub has no private part. */
	const uint8_t *p = lsec_secret_cdata(p8);
	PKCS8_PRIV_KEY_INFO *info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)lsec_secret_len(p8));
	assert_non_null(info);
	assert_ptr_equal(p, lsec_secret_cdata(p8) + lsec_secret_len(p8));
	EVP_PKEY *priv = EVP_PKCS82PKEY(info);
	assert_non_null(priv);
	assert_int_equal(EVP_PKEY_eq(priv, pub), 1);
	BIGNUM *d = NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(pub, "priv", &d), 0);
	ERR_clear_error();
	assert_lsec_ok(lsec_ca_issue(&cert, ca, pub, &req, &err), &err);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(lsec_cert_x509(cert)), priv), 1);
	assert_int_equal(pkitest_verify(lsec_cert_x509(cert), lsec_cert_x509(lsec_ca_cert(ca)),
					NULL),
			 X509_V_OK);
	/* Two calls, two keys. */
	lsec_secret *p8b = NULL;
	EVP_PKEY *pubb = NULL;
	assert_lsec_ok(lsec_pki_station_keygen(&p8b, &pubb, &err), &err);
	assert_int_equal(EVP_PKEY_eq(pub, pubb), 0);
	EVP_PKEY_free(pubb);
	lsec_secret_free(p8b);
	EVP_PKEY_free(priv);
	PKCS8_PRIV_KEY_INFO_free(info);
	EVP_PKEY_free(pub);
	lsec_secret_free(p8);
	lsec_cert_free(cert);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_ca__issue_from_csr),
		cmocka_unit_test(test_pki_ca__files_and_reopen),
		cmocka_unit_test(test_pki_ca__bad_requests),
		cmocka_unit_test(test_pki_ca__offline_root),
		cmocka_unit_test(test_pki_ca__station_keygen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
