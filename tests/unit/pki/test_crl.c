/* CRLs: entries with reasons, growing numbers, PEM/DER; the plain export. */
#include "helpers/pkitest.h"
#include "helpers/testutil.h"

#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static X509_CRL *parse_crl(const lsec_buf *b, bool der)
{
	X509_CRL *crl = NULL;
	if (der) {
		const uint8_t *p = b->data;
		crl = d2i_X509_CRL(NULL, &p, (long)b->len);
	} else {
		BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	assert_non_null(crl);
	return crl;
}

static long crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_non_null(n);
	long v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

static void test_pki_crl__revokes_and_numbers(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	EVP_PKEY *dev = pkitest_key("P-256"), *dev2 = pkitest_key("P-256");
	const uint8_t uid[] = {1, 2, 3};
	lsec_cert_request r = LSEC_CERT_REQUEST_INIT;
	r.serial = "U7";
	r.product = "P";
	r.uid = uid;
	r.uid_len = sizeof(uid);
	lsec_cert *cert = NULL, *good = NULL;
	assert_lsec_ok(lsec_ca_issue(&cert, ca, dev, &r, &err), &err);
	assert_lsec_ok(lsec_ca_issue(&good, ca, dev2, &r, &err), &err);
	char sn[41];
	lsec_cert_serial_hex(sn, cert);
	uint8_t fp[32];
	assert_lsec_ok(lsec_cert_key_fingerprint(fp, cert, &err), &err);
	lsec_revoked list[] = {
		{sn, fp, 1700000000, LSEC_CRL_KEY_COMPROMISE},
		{"0a0b0c", NULL, 1700000100, LSEC_CRL_UNSPECIFIED},
	};
	lsec_crl_options o = LSEC_CRL_OPTIONS_INIT;
	o.next_update_hours = 48;
	X509 *cax = lsec_cert_x509(lsec_ca_cert(ca));
	uint64_t num = 0;
	for (int round = 1; round <= 3; round++) {
		lsec_buf b = LSEC_BUF_INIT(1 << 20);
		o.der = (round == 2);
		assert_lsec_ok(lsec_ca_crl(&b, &num, ca, list, 2, &o, &err), &err);
		assert_int_equal(num, (uint64_t)round);
		X509_CRL *crl = parse_crl(&b, o.der);
		assert_int_equal(crl_number(crl), round);
		assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
		assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
		/* nextUpdate is 48 hours after thisUpdate. */
		int days = 0, secs = 0;
		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
						X509_CRL_get0_nextUpdate(crl)),
				 1);
		assert_int_equal(days * 86400 + secs, 48 * 3600);
		/* The revoked certificate fails verification, the other passes. */
		assert_int_equal(pkitest_verify(lsec_cert_x509(cert), cax, crl),
				 X509_V_ERR_CERT_REVOKED);
		assert_int_equal(pkitest_verify(lsec_cert_x509(good), cax, crl), X509_V_OK);
		X509_REVOKED *rev = NULL;
		assert_int_equal(X509_CRL_get0_by_cert(crl, &rev, lsec_cert_x509(cert)), 1);
		ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
		assert_non_null(reason);
		assert_int_equal(ASN1_ENUMERATED_get(reason), 1);
		ASN1_ENUMERATED_free(reason);
		X509_CRL_free(crl);
		lsec_buf_release(&b);
	}
	/* The number survives reopening the CA. */
	lsec_ca_free(ca);
	lsec_secret *pass = pkitest_secret(PKITEST_PASSPHRASE);
	assert_lsec_ok(lsec_ca_open(&ca, dir, pass, &err), &err);
	lsec_buf b = LSEC_BUF_INIT(1 << 20);
	assert_lsec_ok(lsec_ca_crl(&b, &num, ca, NULL, 0, &o, &err), &err);
	assert_int_equal(num, 4);
	lsec_buf_release(&b);

	/* Bad entries: nothing issued, number not consumed. */
	lsec_revoked bad[] = {{"xyz", NULL, 0, LSEC_CRL_SUPERSEDED}};
	assert_lsec_code(lsec_ca_crl(&b, &num, ca, bad, 1, &o, &err), LSEC_E_USAGE, &err);
	lsec_revoked bad2[] = {{"01", NULL, 0, (lsec_crl_reason)7}};
	assert_lsec_code(lsec_ca_crl(&b, &num, ca, bad2, 1, &o, &err), LSEC_E_USAGE, &err);
	assert_int_equal(b.len, 0);
	assert_lsec_ok(lsec_ca_crl(&b, &num, ca, NULL, 0, &o, &err), &err);
	assert_int_equal(num, 5);
	lsec_buf_release(&b);

	/* A damaged number file is an error, not a restart at 1. */
	char *numpath = lsec_test_path(dir, "crlnumber");
	assert_lsec_ok(lsec_file_write_atomic(numpath, "x9\n", 3, 0644, &err), &err);
	assert_lsec_code(lsec_ca_crl(&b, &num, ca, NULL, 0, &o, &err), LSEC_E_PKI_CA_CONFIG, &err);
	lsec_free(numpath);

	lsec_secret_free(pass);
	lsec_cert_free(good);
	lsec_cert_free(cert);
	EVP_PKEY_free(dev2);
	EVP_PKEY_free(dev);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

static void test_pki_crl__export(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t fp[32];
	memset(fp, 0xab, sizeof(fp));
	lsec_revoked list[] = {
		{"4f01", fp, 0, LSEC_CRL_KEY_COMPROMISE},
		{"4f02", NULL, 86400, LSEC_CRL_CESSATION_OF_OPERATION},
	};
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	assert_lsec_ok(lsec_revoked_export(&b, list, 2, 9, false, &err), &err);
	char want_text[256];
	snprintf(want_text, sizeof(want_text), "4f01 %s keyCompromise\n4f02 - cessationOfOperation\n",
		 "abababababababababababababababababababababababababababababababab");
	assert_string_equal(lsec_buf_cstr(&b, &err), want_text);
	lsec_buf_reset(&b);
	assert_lsec_ok(lsec_revoked_export(&b, list, 2, 9, true, &err), &err);
	json_t *j = NULL;
	assert_lsec_ok(lsec_json_parse(&j, (const char *)b.data, b.len, "export", &err), &err);
	assert_int_equal(json_integer_value(json_object_get(j, "crl_number")), 9);
	json_t *arr = json_object_get(j, "revoked");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "reason")),
			    "keyCompromise");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(arr, 1), "revoked_at")),
		"1970-01-02T00:00:00Z");
	assert_true(json_is_null(json_object_get(json_array_get(arr, 1), "key_sha256")));
	json_decref(j);
	lsec_revoked bad[] = {{"-1", NULL, 0, LSEC_CRL_UNSPECIFIED}};
	assert_lsec_code(lsec_revoked_export(&b, bad, 1, 1, true, &err), LSEC_E_USAGE, &err);
	lsec_buf_release(&b);
}

static void test_pki_crl__reason_names(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_crl_reason r;
	assert_lsec_ok(lsec_crl_reason_parse(&r, "superseded", &err), &err);
	assert_int_equal(r, LSEC_CRL_SUPERSEDED);
	assert_string_equal(lsec_crl_reason_name(LSEC_CRL_AA_COMPROMISE), "aACompromise");
	assert_lsec_code(lsec_crl_reason_parse(&r, "stolen", &err), LSEC_E_USAGE, &err);
	/* the unused codes 7 and 8 are neither parsed nor listed */
	assert_string_equal(err.msg,
			    "unknown revocation reason 'stolen': expected one of unspecified, "
			    "keyCompromise, cACompromise, affiliationChanged, superseded, "
			    "cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise");
	assert_string_equal(lsec_crl_reason_name((lsec_crl_reason)7), "unspecified");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_crl__revokes_and_numbers),
		cmocka_unit_test(test_pki_crl__export),
		cmocka_unit_test(test_pki_crl__reason_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
