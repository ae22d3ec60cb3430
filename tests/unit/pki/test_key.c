/* Key pairs: generation, files, passphrases, fingerprints, signatures. */
#include "helpers/testutil.h"

#include "linesec/pki.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const lsec_key_type both_types[] = {LSEC_KEY_ECDSA_P256, LSEC_KEY_ED25519};

static void test_pki_key__generate_write_load_roundtrip(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	for (size_t i = 0; i < 2; i++) {
		lsec_key *k = NULL, *back = NULL, *pub = NULL;
		uint8_t fa[32], fb[32], fc[32];
		char *p = lsec_test_path(dir, i ? "ed.pem" : "ec.pem");
		assert_lsec_ok(lsec_key_generate(&k, both_types[i], &err), &err);
		assert_int_equal(lsec_key_get_type(k), both_types[i]);
		assert_true(lsec_key_has_private(k));
		assert_lsec_ok(lsec_key_write_private(k, p, NULL, &err), &err);
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		/* Never replaced. */
		assert_lsec_code(lsec_key_write_private(k, p, NULL, &err), LSEC_E_EXISTS, &err);
		assert_lsec_ok(lsec_key_load_private(&back, p, NULL, &err), &err);
		assert_lsec_ok(lsec_key_load_public(&pub, p, &err), &err);
		assert_false(lsec_key_has_private(pub));
		assert_lsec_ok(lsec_key_fingerprint(fa, k, &err), &err);
		assert_lsec_ok(lsec_key_fingerprint(fb, back, &err), &err);
		assert_lsec_ok(lsec_key_fingerprint(fc, pub, &err), &err);
		assert_memory_equal(fa, fb, 32);
		assert_memory_equal(fa, fc, 32);
		lsec_key_free(k);
		lsec_key_free(back);
		lsec_key_free(pub);
		lsec_free(p);
	}
	lsec_test_rmtree(dir);
}

static void test_pki_key__encrypted_private_key(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *p = lsec_test_path(dir, "k.pem");
	lsec_key *k = NULL, *back = NULL;
	lsec_secret *pass = NULL, *wrong = NULL;
	lsec_buf pem = LSEC_BUF_INIT(1 << 16);
	uint8_t fa[32], fb[32];

	assert_lsec_ok(lsec_secret_from(&pass, "correct horse", 13, &err), &err);
	assert_lsec_ok(lsec_secret_from(&wrong, "correct hors3", 13, &err), &err);
	assert_lsec_ok(lsec_key_generate(&k, LSEC_KEY_ED25519, &err), &err);
	assert_lsec_ok(lsec_key_write_private(k, p, pass, &err), &err);
	assert_lsec_ok(lsec_file_read(&pem, p, &err), &err);
	const char *text = lsec_buf_cstr(&pem, &err);
	assert_non_null(strstr(text, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));

	assert_lsec_code(lsec_key_load_private(&back, p, NULL, &err), LSEC_E_CRYPTO, &err);
	assert_non_null(strstr(err.msg, "passphrase"));
	assert_lsec_code(lsec_key_load_private(&back, p, wrong, &err), LSEC_E_CRYPTO, &err);
	assert_null(back);
	/* The public half of an encrypted file is not readable without it. */
	assert_lsec_code(lsec_key_load_public(&back, p, &err), LSEC_E_PARSE, &err);
	assert_lsec_ok(lsec_key_load_private(&back, p, pass, &err), &err);
	assert_lsec_ok(lsec_key_fingerprint(fa, k, &err), &err);
	assert_lsec_ok(lsec_key_fingerprint(fb, back, &err), &err);
	assert_memory_equal(fa, fb, 32);

	lsec_buf_release(&pem);
	lsec_key_free(k);
	lsec_key_free(back);
	lsec_secret_free(pass);
	lsec_secret_free(wrong);
	lsec_free(p);
	lsec_test_rmtree(dir);
}

static void test_pki_key__passphrase_sources(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *p = lsec_test_path(dir, "pass.txt");
	char *empty = lsec_test_path(dir, "empty.txt");
	lsec_secret *s = NULL;

	unsetenv("LINESEC_KEY_PASSPHRASE");
	assert_lsec_ok(lsec_key_passphrase_load(&s, NULL, &err), &err);
	assert_null(s);
	assert_lsec_ok(lsec_file_write_new(p, "s3cret\n", 7, 0600, &err), &err);
	assert_lsec_ok(lsec_key_passphrase_load(&s, p, &err), &err);
	assert_int_equal(lsec_secret_len(s), 6);
	assert_memory_equal(lsec_secret_cdata(s), "s3cret", 6);
	lsec_secret_free(s);
	setenv("LINESEC_KEY_PASSPHRASE", "from-env", 1);
	assert_lsec_ok(lsec_key_passphrase_load(&s, NULL, &err), &err);
	assert_int_equal(lsec_secret_len(s), 8);
	lsec_secret_free(s);
	/* A file wins over the environment. */
	assert_lsec_ok(lsec_key_passphrase_load(&s, p, &err), &err);
	assert_int_equal(lsec_secret_len(s), 6);
	lsec_secret_free(s);
	unsetenv("LINESEC_KEY_PASSPHRASE");
	assert_lsec_ok(lsec_file_write_new(empty, "\n", 1, 0600, &err), &err);
	assert_lsec_code(lsec_key_passphrase_load(&s, empty, &err), LSEC_E_USAGE, &err);
	assert_null(s);
	lsec_free(p);
	lsec_free(empty);
	lsec_test_rmtree(dir);
}

/* The fingerprint is MCUboot's key hash: check it against the sample keys' published hashes. */
static void test_pki_key__fingerprint_matches_mcuboot_keyhash(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static const struct {
		const char *file, *hash;
	} kat[] = {
		{"../../data/denied-keys/mcuboot-root-ec-p256.pub.pem",
		 "e30466f6b8470c1f29070b17f1e2d3e94d445e3f608087fdc711e4382bb538b6"},
		{"../../data/denied-keys/mcuboot-root-ed25519.pub.pem",
		 "c1907fa4eac7fae3840a78902b6f0710b037e9968e5c6274a12a28790c7d4e3c"},
		{"../../data/denied-keys/mcuboot-mynewt-key_ec256.pub.pem",
		 "6dc968724fdedb71be7c8ad62540ea148996f96adb5c48e9cc3112c588f26d89"},
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		char *p = lsec_test_data(kat[i].file);
		lsec_key *k = NULL;
		uint8_t fp[32];
		char hex[65];
		assert_lsec_ok(lsec_key_load_public(&k, p, &err), &err);
		assert_lsec_ok(lsec_key_fingerprint(fp, k, &err), &err);
		lsec_hex_encode(hex, fp, 32);
		assert_string_equal(hex, kat[i].hash);
		lsec_key_free(k);
		lsec_free(p);
	}
}

static void test_pki_key__unsupported_and_malformed(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *k = NULL;
	char *rsa = lsec_test_data("../../data/denied-keys/mcuboot-root-rsa-2048.pub.pem");
	char *p384 = lsec_test_data("../../data/denied-keys/mcuboot-root-ec-p384.pub.pem");
	char *readme = lsec_test_data("images/README.md");
	assert_lsec_code(lsec_key_load_public(&k, rsa, &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "ECDSA P-256 or Ed25519"));
	assert_lsec_code(lsec_key_load_public(&k, p384, &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_key_load_public(&k, readme, &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_key_load_private(&k, readme, NULL, &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_key_load_private(&k, "/nonexistent/key.pem", NULL, &err), LSEC_E_IO,
			 &err);
	assert_null(k);

	/* DER SPKI: exact, with trailing bytes, truncated. */
	lsec_key *g = NULL;
	lsec_buf der = LSEC_BUF_INIT(4096);
	assert_lsec_ok(lsec_key_generate(&g, LSEC_KEY_ECDSA_P256, &err), &err);
	assert_lsec_ok(lsec_key_spki_der(&der, g, &err), &err);
	assert_lsec_ok(lsec_key_from_spki(&k, der.data, der.len, &err), &err);
	assert_int_equal(lsec_key_get_type(k), LSEC_KEY_ECDSA_P256);
	lsec_key_free(k);
	k = NULL;
	assert_lsec_ok(lsec_buf_append_u8(&der, 0, &err), &err);
	assert_lsec_code(lsec_key_from_spki(&k, der.data, der.len, &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_key_from_spki(&k, der.data, der.len - 10, &err), LSEC_E_PARSE, &err);
	assert_lsec_code(lsec_key_from_spki(&k, der.data, 0, &err), LSEC_E_PARSE, &err);
	assert_null(k);
	lsec_buf_release(&der);
	lsec_key_free(g);
	lsec_free(rsa);
	lsec_free(p384);
	lsec_free(readme);
}

static void test_pki_key__sign_verify_both_types(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const uint8_t msg[] = "header+payload+protected TLVs";
	uint8_t digest[32];
	assert_lsec_ok(lsec_sha256(digest, msg, sizeof(msg), &err), &err);
	for (size_t i = 0; i < 2; i++) {
		lsec_key *k = NULL, *other = NULL, *pub = NULL;
		lsec_buf sig = LSEC_BUF_INIT(128), sig2 = LSEC_BUF_INIT(128), der = LSEC_BUF_INIT(4096);
		assert_lsec_ok(lsec_key_generate(&k, both_types[i], &err), &err);
		assert_lsec_ok(lsec_key_generate(&other, both_types[i], &err), &err);
		assert_lsec_ok(lsec_key_spki_der(&der, k, &err), &err);
		assert_lsec_ok(lsec_key_from_spki(&pub, der.data, der.len, &err), &err);

		assert_lsec_ok(lsec_key_sign_digest(&sig, k, digest, &err), &err);
		assert_lsec_ok(lsec_key_verify_digest(pub, digest, sig.data, sig.len, &err), &err);
		assert_lsec_code(lsec_key_verify_digest(other, digest, sig.data, sig.len, &err),
				 LSEC_E_CRYPTO, &err);
		/* The public key cannot sign. */
		assert_lsec_code(lsec_key_sign_digest(&sig2, pub, digest, &err), LSEC_E_USAGE, &err);
		assert_int_equal(sig2.len, 0);

		/* ECDSA: signing the digest equals ECDSA-with-SHA256 over the message,
		 * so each verifies the other's signature. Ed25519 signs the digest as
		 * its message, so lsec_key_verify over the digest accepts it. */
		assert_lsec_ok(lsec_key_sign(&sig2, k, msg, sizeof(msg), &err), &err);
		assert_lsec_ok(lsec_key_verify(pub, msg, sizeof(msg), sig2.data, sig2.len, &err), &err);
		if (both_types[i] == LSEC_KEY_ECDSA_P256) {
			assert_lsec_ok(lsec_key_verify(pub, msg, sizeof(msg), sig.data, sig.len, &err),
				       &err);
			assert_lsec_ok(lsec_key_verify_digest(pub, digest, sig2.data, sig2.len, &err),
				       &err);
		} else {
			assert_int_equal(sig.len, 64);
			assert_lsec_ok(lsec_key_verify(pub, digest, 32, sig.data, sig.len, &err), &err);
		}
		/* One flipped bit anywhere in the signature is refused. */
		for (size_t b = 0; b < sig.len; b++) {
			sig.data[b] ^= 0x10;
			assert_lsec_code(lsec_key_verify_digest(pub, digest, sig.data, sig.len, &err),
					 LSEC_E_CRYPTO, &err);
			sig.data[b] ^= 0x10;
		}
		lsec_buf_release(&sig);
		lsec_buf_release(&sig2);
		lsec_buf_release(&der);
		lsec_key_free(k);
		lsec_key_free(other);
		lsec_key_free(pub);
	}
}

static void test_pki_key__type_names(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key_type t;
	assert_lsec_ok(lsec_key_type_parse(&t, "ed25519", &err), &err);
	assert_int_equal(t, LSEC_KEY_ED25519);
	assert_lsec_ok(lsec_key_type_parse(&t, "ecdsa-p256", &err), &err);
	assert_int_equal(t, LSEC_KEY_ECDSA_P256);
	assert_string_equal(lsec_key_type_name(t), "ecdsa-p256");
	assert_lsec_code(lsec_key_type_parse(&t, "rsa-2048", &err), LSEC_E_USAGE, &err);
	assert_string_equal(err.msg, "unknown key type 'rsa-2048': expected one of ecdsa-p256, ed25519");
	assert_string_equal(lsec_key_type_name((lsec_key_type)0), "unknown");
	lsec_key *none = NULL;
	assert_lsec_code(lsec_key_generate(&none, (lsec_key_type)99, &err), LSEC_E_USAGE, &err);
	assert_null(none);
	lsec_key_free(NULL);
}

/* Allocation failures at every point of load, write and verify: an error, no leak. */
static void test_pki_key__allocation_failures(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *src = lsec_test_data("images/test-ecdsa-p256.pem");
	uint8_t digest[32] = {1};
	int rc = -1;
	for (unsigned long n = 1; rc != 0 && n < 200; n++) {
		lsec_key *k = NULL;
		lsec_secret *pass = NULL;
		lsec_buf sig = LSEC_BUF_INIT(128);
		char name[32];
		snprintf(name, sizeof(name), "k%lu.pem", n);
		char *p = lsec_test_path(dir, name);
		lsec_alloc_fail_after(n);
		rc = lsec_key_load_private(&k, src, NULL, &err);
		if (rc == 0) {
			rc = lsec_secret_from(&pass, "pw", 2, &err);
		}
		if (rc == 0) {
			rc = lsec_key_write_private(k, p, pass, &err);
		}
		if (rc == 0) {
			rc = lsec_key_sign_digest(&sig, k, digest, &err);
		}
		if (rc == 0) {
			rc = lsec_key_verify_digest(k, digest, sig.data, sig.len, &err);
		}
		lsec_alloc_fail_after(0);
		if (rc != 0) {
			assert_true(rc == LSEC_E_NOMEM || rc == LSEC_E_IO || rc == LSEC_E_CRYPTO);
		} else {
			assert_int_equal(sig.len > 0, 1);
		}
		lsec_buf_release(&sig);
		lsec_secret_free(pass);
		lsec_key_free(k);
		lsec_free(p);
	}
	assert_int_equal(rc, 0);
	lsec_free(src);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_key__generate_write_load_roundtrip),
		cmocka_unit_test(test_pki_key__encrypted_private_key),
		cmocka_unit_test(test_pki_key__passphrase_sources),
		cmocka_unit_test(test_pki_key__fingerprint_matches_mcuboot_keyhash),
		cmocka_unit_test(test_pki_key__unsupported_and_malformed),
		cmocka_unit_test(test_pki_key__sign_verify_both_types),
		cmocka_unit_test(test_pki_key__type_names),
		cmocka_unit_test(test_pki_key__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
