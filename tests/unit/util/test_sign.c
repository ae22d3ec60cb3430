/* lsec_evp_sign and lsec_evp_verify: ECDSA (SHA-256, DER) and Ed25519 one-shot signatures. */
#include "helpers/testutil.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

static const uint8_t msg[] = "unit SN-0001 challenge";

static int verify(EVP_PKEY *k, const char *digest, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL && EVP_DigestVerifyInit_ex(md, NULL, digest, NULL, NULL, k, NULL) == 1 &&
		 EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

static void test_util_sign__ecdsa_appends_a_verifying_der_signature(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(k);
	lsec_buf sig = LSEC_BUF_INIT(256);
	assert_lsec_ok(lsec_buf_append(&sig, "hdr", 3, &err), &err);
	assert_lsec_ok(lsec_evp_sign(&sig, k, "SHA256", msg, sizeof(msg), "cannot sign", &err),
		       &err);
	assert_true(sig.len > 3 + 8 && sig.len <= 3 + 72);
	assert_memory_equal(sig.data, "hdr", 3);
	assert_int_equal(sig.data[3], 0x30); /* a DER SEQUENCE */
	assert_true(verify(k, "SHA256", sig.data + 3, sig.len - 3));
	lsec_buf_release(&sig);
	EVP_PKEY_free(k);
}

static void test_util_sign__ed25519_signs_the_message_whole(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	lsec_buf sig = LSEC_BUF_INIT(64);
	assert_lsec_ok(lsec_evp_sign(&sig, k, NULL, msg, sizeof(msg), "cannot sign", &err), &err);
	assert_int_equal(sig.len, 64);
	assert_true(verify(k, NULL, sig.data, sig.len));
	/* Ed25519 takes no separate digest. */
	lsec_buf_reset(&sig);
	assert_lsec_code(lsec_evp_sign(&sig, k, "SHA256", msg, sizeof(msg), "cannot sign note",
				       &err),
			 LSEC_E_CRYPTO, &err);
	assert_true(strncmp(err.msg, "cannot sign note", 16) == 0);
	assert_int_equal(sig.len, 0);
	lsec_buf_release(&sig);
	EVP_PKEY_free(k);
}

static void test_util_sign__full_buffer_is_left_as_it_was(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	lsec_buf sig = LSEC_BUF_INIT(4 + 63);
	assert_lsec_ok(lsec_buf_append(&sig, "abcd", 4, &err), &err);
	assert_lsec_code(lsec_evp_sign(&sig, k, NULL, msg, sizeof(msg), "cannot sign", &err),
			 LSEC_E_LIMIT, &err);
	assert_int_equal(sig.len, 4);
	assert_memory_equal(sig.data, "abcd", 4);
	lsec_buf_release(&sig);
	EVP_PKEY_free(k);
}

static void test_util_sign__verify_tells_match_from_mismatch(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	assert_non_null(other);
	assert_non_null(ed);
	lsec_buf sig = LSEC_BUF_INIT(128);
	bool ok = false;
	assert_lsec_ok(lsec_evp_sign(&sig, k, "SHA256", msg, sizeof(msg), "cannot sign", &err),
		       &err);
	assert_lsec_ok(lsec_evp_verify(&ok, k, "SHA256", msg, sizeof(msg), sig.data, sig.len,
				       "cannot verify", &err),
		       &err);
	assert_true(ok);
	/* Another key, a changed message or a garbled signature: no error, not ok. */
	assert_lsec_ok(lsec_evp_verify(&ok, other, "SHA256", msg, sizeof(msg), sig.data, sig.len,
				       "cannot verify", &err),
		       &err);
	assert_false(ok);
	assert_lsec_ok(lsec_evp_verify(&ok, k, "SHA256", msg, sizeof(msg) - 1, sig.data, sig.len,
				       "cannot verify", &err),
		       &err);
	assert_false(ok);
	assert_lsec_ok(lsec_evp_verify(&ok, k, "SHA256", msg, sizeof(msg), sig.data, 3,
				       "cannot verify", &err),
		       &err);
	assert_false(ok);
	assert_int_equal(ERR_peek_error(), 0);
	/* A key that cannot verify with that digest is an error. */
	ok = true;
	assert_lsec_code(lsec_evp_verify(&ok, ed, "SHA256", msg, sizeof(msg), sig.data, sig.len,
					 "cannot verify", &err),
			 LSEC_E_CRYPTO, &err);
	assert_false(ok);
	lsec_buf_release(&sig);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_sign__ecdsa_appends_a_verifying_der_signature),
		cmocka_unit_test(test_util_sign__ed25519_signs_the_message_whole),
		cmocka_unit_test(test_util_sign__full_buffer_is_left_as_it_was),
		cmocka_unit_test(test_util_sign__verify_tells_match_from_mismatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
