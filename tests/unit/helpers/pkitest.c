#include "helpers/pkitest.h"
#include "helpers/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

EVP_PKEY *pkitest_key(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);
	assert_non_null(k);
	return k;
}

void pkitest_csr(lsec_buf *out, EVP_PKEY *k, bool der)
{
	lsec_err err = LSEC_ERR_INIT;
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	assert_non_null(r);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)"untrusted", -1, -1, 0),
			 1);
	assert_int_equal(X509_REQ_set_subject_name(r, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
	assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	if (der) {
		uint8_t *p = NULL;
		int len = i2d_X509_REQ(r, &p);
		assert_true(len > 0);
		assert_lsec_ok(lsec_buf_append(out, p, (size_t)len, &err), &err);
		OPENSSL_free(p);
	} else {
		BIO *b = BIO_new(BIO_s_mem());
		char *mem = NULL;
		assert_int_equal(PEM_write_bio_X509_REQ(b, r), 1);
		long len = BIO_get_mem_data(b, &mem);
		assert_lsec_ok(lsec_buf_append(out, mem, (size_t)len, &err), &err);
		BIO_free(b);
	}
	X509_NAME_free(n);
	X509_REQ_free(r);
}

lsec_secret *pkitest_secret(const char *s)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *sec = NULL;
	assert_lsec_ok(lsec_secret_from(&sec, s, strlen(s), &err), &err);
	return sec;
}

lsec_ca *pkitest_file_ca(const char *dir)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	lsec_secret *pass = pkitest_secret(PKITEST_PASSPHRASE);
	lsec_ca *ca = NULL;
	o.common_name = "Test Line CA";
	o.organization = "Example Devices";
	o.passphrase = pass;
	assert_lsec_ok(lsec_ca_init(dir, &o, &err), &err);
	assert_lsec_ok(lsec_ca_open(&ca, dir, pass, &err), &err);
	lsec_secret_free(pass);
	return ca;
}

int pkitest_verify(X509 *leaf, X509 *anchor, X509_CRL *crl)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	assert_int_equal(X509_STORE_add_cert(st, anchor), 1);
	if (crl != NULL) {
		assert_int_equal(X509_STORE_add_crl(st, crl), 1);
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	int ok = X509_verify_cert(ctx);
	int e = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return e;
}

const char *pkitest_softhsm(const char *dir)
{
	if (access(SOFTHSM_MODULE, R_OK) != 0) {
		return NULL;
	}
	char *tokens = lsec_asprintf("%s/tokens", dir);
	char *conf = lsec_asprintf("%s/softhsm2.conf", dir);
	char *text = lsec_asprintf("directories.tokendir = %s\nobjectstore.backend = file\n"
				   "log.level = ERROR\n",
				   tokens);
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_mkdir_p(tokens, 0700, &err), &err);
	assert_lsec_ok(lsec_file_write_new(conf, text, strlen(text), 0600, &err), &err);
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	char *cmd = lsec_asprintf("softhsm2-util --init-token --free --label %s --pin %s "
				  "--so-pin 13579111 >/dev/null",
				  PKITEST_TOKEN, PKITEST_PIN);
	assert_int_equal(system(cmd), 0);
	lsec_free(cmd);
	lsec_free(text);
	lsec_free(conf);
	lsec_free(tokens);
	return SOFTHSM_MODULE;
}
