/* Initial credentials: generation, keyed fingerprints, label files. */
#include "helpers/pkitest.h"
#include "helpers/testutil.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/hmac.h>

static void test_pki_cred__generate(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const char *alpha = LSEC_CRED_ALPHABET;
	assert_int_equal(strlen(alpha), 56);
	/* No look-alikes. */
	for (const char *c = "0Oo1Il"; *c; c++) {
		assert_null(strchr(alpha, *c));
	}
	unsigned counts[56] = {0};
	lsec_secret *prev = NULL;
	const int rounds = 2000;
	for (int i = 0; i < rounds; i++) {
		lsec_secret *s = NULL;
		assert_lsec_ok(lsec_cred_generate(&s, &err), &err);
		assert_int_equal(lsec_secret_len(s), LSEC_CRED_LEN);
		const uint8_t *p = lsec_secret_cdata(s);
		for (size_t k = 0; k < LSEC_CRED_LEN; k++) {
			const char *at = strchr(alpha, p[k]);
			assert_non_null(at);
			counts[at - alpha]++;
		}
		if (prev != NULL) {
			assert_false(lsec_secret_equal(prev, s));
		}
		lsec_secret_free(prev);
		prev = s;
	}
	lsec_secret_free(prev);
	/* 32000 draws, 571 expected per character: every one within +-35%. */
	for (size_t k = 0; k < 56; k++) {
		assert_in_range(counts[k], 370, 772);
	}
}

static void test_pki_cred__base32_and_limits(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *s = NULL;
	lsec_cred_alphabet a;
	assert_int_equal(strlen(LSEC_CRED_ALPHABET_BASE32), 32);
	for (const char *c = "ILOU"; *c; c++) {
		assert_null(strchr(LSEC_CRED_ALPHABET_BASE32, *c));
	}
	assert_lsec_ok(lsec_cred_alphabet_parse(&a, "base32", &err), &err);
	assert_int_equal(a, LSEC_CRED_BASE32);
	assert_lsec_code(lsec_cred_alphabet_parse(&a, "hex", &err), LSEC_E_USAGE, &err);
	assert_int_equal(lsec_cred_entropy_bits(16, LSEC_CRED_ALNUM), 92);
	assert_int_equal(lsec_cred_entropy_bits(20, LSEC_CRED_BASE32), 100);
	assert_lsec_ok(lsec_cred_generate_ex(&s, 20, LSEC_CRED_BASE32, &err), &err);
	assert_int_equal(lsec_secret_len(s), 20);
	for (size_t i = 0; i < 20; i++) {
		assert_non_null(strchr(LSEC_CRED_ALPHABET_BASE32, lsec_secret_cdata(s)[i]));
	}
	lsec_secret_free(s);
	/* 16 base32 characters are 80 bits: the floor, accepted; 15 is below the range. */
	assert_lsec_ok(lsec_cred_generate_ex(&s, 16, LSEC_CRED_BASE32, &err), &err);
	lsec_secret_free(s);
	s = NULL;
	assert_lsec_code(lsec_cred_generate_ex(&s, 15, LSEC_CRED_ALNUM, &err), LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_cred_generate_ex(&s, 65, LSEC_CRED_ALNUM, &err), LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_cred_generate_ex(&s, 20, (lsec_cred_alphabet)9, &err), LSEC_E_USAGE,
			 &err);
	assert_null(s);
}

static void test_pki_cred__fingerprint_and_check(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_ca *ca = pkitest_file_ca(dir);
	lsec_secret *pw = NULL;
	uint8_t fp[32], fp2[32], want[32];
	assert_lsec_ok(lsec_cred_generate(&pw, &err), &err);
	assert_lsec_ok(lsec_cred_fingerprint(fp, ca, lsec_secret_cdata(pw), LSEC_CRED_LEN, &err),
		       &err);
	/* HMAC-SHA-256 under the 0600 credential key of the CA folder. */
	char *keypath = lsec_test_path(dir, "cred.key");
	lsec_buf key = LSEC_BUF_INIT(64);
	assert_lsec_ok(lsec_file_read(&key, keypath, &err), &err);
	unsigned int wl = 0;
	assert_non_null(HMAC(EVP_sha256(), key.data, (int)key.len, lsec_secret_cdata(pw),
			     LSEC_CRED_LEN, want, &wl));
	assert_memory_equal(fp, want, 32);
	/* The same password on a reopened CA gives the same fingerprint. */
	lsec_ca *ro = NULL;
	assert_lsec_ok(lsec_ca_open(&ro, dir, NULL, &err), &err);
	assert_lsec_ok(lsec_cred_fingerprint(fp2, ro, lsec_secret_cdata(pw), LSEC_CRED_LEN, &err),
		       &err);
	assert_memory_equal(fp, fp2, 32);
	assert_lsec_ok(lsec_cred_check(ro, lsec_secret_cdata(pw), LSEC_CRED_LEN, fp, &err), &err);
	const uint8_t wrong[] = "23456789ABCDEFGH";
	assert_lsec_code(lsec_cred_check(ro, wrong, 16, fp, &err), LSEC_E_AUTH, &err);
	assert_lsec_code(lsec_cred_fingerprint(fp2, ro, wrong, 0, &err), LSEC_E_USAGE, &err);
	lsec_ca_free(ro);
	lsec_buf_release(&key);
	lsec_free(keypath);
	lsec_secret_free(pw);
	lsec_ca_free(ca);
	lsec_test_rmtree(dir);
}

static void test_pki_cred__label_file(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_secret *pw = NULL;
	char *path = NULL;
	struct stat st;
	assert_lsec_ok(lsec_cred_generate(&pw, &err), &err);
	assert_lsec_ok(lsec_cred_label_write(&path, dir, "SN-42", pw, &err), &err);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	lsec_buf b = LSEC_BUF_INIT(4096);
	assert_lsec_ok(lsec_file_read(&b, path, &err), &err);
	assert_non_null(memmem(b.data, b.len, lsec_secret_cdata(pw), LSEC_CRED_LEN));
	lsec_buf_release(&b);
	/* Never replaced. */
	char *again = NULL;
	assert_lsec_code(lsec_cred_label_write(&again, dir, "SN-42", pw, &err), LSEC_E_EXISTS,
			 &err);
	assert_lsec_ok(lsec_cred_label_remove(path, &err), &err);
	assert_int_equal(access(path, F_OK), -1);
	assert_lsec_code(lsec_cred_label_remove(path, &err), LSEC_E_IO, &err);
	/*
	 * What stands under a label's name and is no label is refused at once and
	 * left as it is: a FIFO (never waited on), a link (never followed).
	 */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_lsec_code(lsec_cred_label_remove(path, &err), LSEC_E_IO, &err);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(unlink(path), 0);
	char *target = lsec_test_path(dir, "kept");
	assert_lsec_ok(lsec_file_write_new(target, "kept", 4, 0600, &err), &err);
	assert_int_equal(symlink(target, path), 0);
	assert_lsec_code(lsec_cred_label_remove(path, &err), LSEC_E_IO, &err);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 4);
	lsec_free(target);
	/* A serial that would escape the folder is refused. */
	assert_lsec_code(lsec_cred_label_write(&again, dir, "../x", pw, &err), LSEC_E_USAGE, &err);
	assert_null(again);
	lsec_free(path);
	lsec_secret_free(pw);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_cred__generate),
		cmocka_unit_test(test_pki_cred__base32_and_limits),
		cmocka_unit_test(test_pki_cred__fingerprint_and_check),
		cmocka_unit_test(test_pki_cred__label_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
