/*
 * Signed notes and checkpoints: the Go sumdb/note known answer (key id and
 * signature bytes), round trips, strict parsing and refused signatures.
 */
#include "helpers/testutil.h"

#include "audit/audit_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

/* The golang.org/x/mod/sumdb/note example key and note. */
static const char go_private_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_public_b64[] = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
			      "then you don't know what your problem is.\n";
static const char go_note[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann "
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/* Decodes "type byte || 32 bytes" base64 into a raw Ed25519 key. */
static EVP_PKEY *go_key(const char *b64, bool private_key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(64);
	assert_lsec_ok(lsec_base64_decode(&b, b64, strlen(b64), "key", &err), &err);
	assert_int_equal(b.len, 33);
	assert_int_equal(b.data[0], 0x01);
	EVP_PKEY *k = private_key
			      ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, b.data + 1, 32)
			      : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, b.data + 1, 32);
	assert_non_null(k);
	lsec_buf_release(&b);
	return k;
}

static EVP_PKEY *fresh_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	return k;
}

static void test_audit_note__go_known_answer(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *priv = go_key(go_private_b64, true);
	EVP_PKEY *pub = go_key(go_public_b64, false);
	uint8_t id[4];
	const uint8_t want_id[4] = {0xc7, 0x4f, 0x20, 0xa3};
	assert_lsec_ok(lsec_audit_key_id(id, "PeterNeumann", pub, &err), &err);
	assert_memory_equal(id, want_id, 4);
	/* Ed25519 is deterministic: the same key and text give the same note. */
	char *note = NULL;
	assert_lsec_ok(lsec_audit__note_sign(&note, go_text, strlen(go_text), "PeterNeumann", priv,
					     &err),
		       &err);
	assert_string_equal(note, go_note);
	size_t text_len = 0;
	assert_lsec_ok(lsec_audit__note_verify(&text_len, go_note, strlen(go_note), "PeterNeumann",
					       pub, &err),
		       &err);
	assert_int_equal(text_len, strlen(go_text));
	/* Under another name the key id differs: not our signature. */
	assert_lsec_code(lsec_audit__note_verify(&text_len, go_note, strlen(go_note), "Peter",
						 pub, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	lsec_free(note);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
}

static char *sign_cp(const char *origin, uint64_t size, uint8_t fill, EVP_PKEY *k)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_checkpoint cp;
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
	cp.size = size;
	memset(cp.root, fill, 32);
	char *note = NULL;
	assert_lsec_ok(lsec_audit_checkpoint_sign(&note, &cp, "station-1", k, &err), &err);
	return note;
}

static void test_audit_note__checkpoint_round_trip(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = fresh_key();
	char *note = sign_cp("linesec/line-a", 1234567, 0xab, k);
	/* The body is exactly origin, size, base64 root, as tlog-checkpoint says. */
	assert_true(strncmp(note,
			    "linesec/line-a\n1234567\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n"
			    "\xe2\x80\x94 station-1 ",
			    strlen("linesec/line-a\n1234567\n") + 45 + 1 + 14) == 0);
	lsec_audit_checkpoint cp;
	assert_lsec_ok(lsec_audit_checkpoint_verify(&cp, note, strlen(note), "station-1", k, &err),
		       &err);
	assert_string_equal(cp.origin, "linesec/line-a");
	assert_true(cp.size == 1234567);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(cp.root[i], 0xab);
	}
	/* Any name: the name on the signature line is used for the key id. */
	assert_lsec_ok(lsec_audit_checkpoint_verify(&cp, note, strlen(note), NULL, k, &err), &err);
	lsec_free(note);
	EVP_PKEY_free(k);
}

static void test_audit_note__every_bit_flip_is_refused(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = fresh_key();
	char *note = sign_cp("linesec/l", 8, 0x11, k);
	size_t len = strlen(note);
	char *copy = lsec_malloc(len + 1);
	assert_non_null(copy);
	for (size_t bit = 0; bit < len * 8; bit++) {
		memcpy(copy, note, len + 1);
		copy[bit / 8] = (char)(copy[bit / 8] ^ (1 << (bit % 8)));
		lsec_audit_checkpoint cp;
		int rc = lsec_audit_checkpoint_verify(&cp, copy, len, NULL, k, &err);
		if (rc != LSEC_E_AUDIT_NOTE && rc != LSEC_E_AUDIT_SIGNATURE) {
			fail_msg("bit %zu flipped: rc %d", bit, rc);
		}
	}
	lsec_free(copy);
	lsec_free(note);
	EVP_PKEY_free(k);
}

static void test_audit_note__wrong_key_and_name(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k = fresh_key(), *other = fresh_key();
	char *note = sign_cp("linesec/l", 3, 0x22, k);
	lsec_audit_checkpoint cp;
	assert_lsec_code(lsec_audit_checkpoint_verify(&cp, note, strlen(note), NULL, other, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "no signature by the station key"));
	assert_true(cp.size == 0); /* nothing half-filled on failure */
	assert_lsec_code(lsec_audit_checkpoint_verify(&cp, note, strlen(note), "station-2", k, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	/* A key that is not Ed25519 cannot sign checkpoints. */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	lsec_audit_checkpoint c2 = {.origin = "o", .size = 1};
	char *n2 = NULL;
	assert_lsec_code(lsec_audit_checkpoint_sign(&n2, &c2, "s", ec, &err), LSEC_E_USAGE, &err);
	assert_null(n2);
	assert_lsec_code(lsec_audit_checkpoint_sign(&n2, &c2, "bad name", k, &err), LSEC_E_USAGE,
			 &err);
	assert_lsec_code(lsec_audit_checkpoint_sign(&n2, &c2, "a+b", k, &err), LSEC_E_USAGE, &err);
	c2.origin[0] = 0;
	assert_lsec_code(lsec_audit_checkpoint_sign(&n2, &c2, "s", k, &err), LSEC_E_USAGE, &err);
	EVP_PKEY_free(ec);
	lsec_free(note);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void test_audit_note__strict_parser(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static const char root[] = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
	static const char sig[] = "\xe2\x80\x94 s AAAAAAAA\n";
	const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"", "empty"},
		{"o\n1\n", "no blank line or signature"},
		{"o\n01\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n", "leading zero"},
		{"o\n-1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n", "negative size"},
		{"o\n18446744073709551616\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n",
		 "size overflow"},
		{"o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urqw==\n\n", "31-byte root"},
		{"o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s\n\n", "unpadded root"},
		{"o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\next\n\n", "extension line"},
		{"o\n1\n\n", "two lines"},
		{" o\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n", "leading space"},
		{"o\t\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n", "tab"},
		{"o\r\n1\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n", "carriage return"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[512];
		lsec_audit_checkpoint cp;
		snprintf(buf, sizeof(buf), "%s%s", bad[i].text, bad[i].text[0] ? sig : "");
		int rc = lsec_audit_checkpoint_parse(&cp, buf, strlen(buf), &err);
		if (rc != LSEC_E_AUDIT_NOTE) {
			fail_msg("accepted a checkpoint with %s (rc %d)", bad[i].why, rc);
		}
	}
	/* Signature lines: dash, name, base64 of more than a key id. */
	const char *badsig[] = {
		"- s AAAAAAAA\n",                     /* ASCII hyphen */
		"\xe2\x80\x94 sAAAAAAAA\n",           /* no space */
		"\xe2\x80\x94 s AAAA\n",              /* only a key id */
		"\xe2\x80\x94 s AAAAAAA!\n",          /* not base64 */
		"\xe2\x80\x94 s+x AAAAAAAA\n",        /* '+' in the name */
		"\xe2\x80\x94  AAAAAAAA\n",           /* empty name */
		"\xe2\x80\x94 s AAAAAAAA\n\n",        /* trailing blank line */
		"\xe2\x80\x94 s AAAAAAAA",            /* no final newline */
	};
	for (size_t i = 0; i < sizeof(badsig) / sizeof(badsig[0]); i++) {
		char buf[512];
		lsec_audit_checkpoint cp;
		snprintf(buf, sizeof(buf), "o\n1\n%s\n\n%s", root, badsig[i]);
		assert_lsec_code(lsec_audit_checkpoint_parse(&cp, buf, strlen(buf), &err),
				 LSEC_E_AUDIT_NOTE, &err);
	}
	/* The well-formed one parses (no signature check here). */
	char good[512];
	lsec_audit_checkpoint cp;
	snprintf(good, sizeof(good), "o\n1\n%s\n\n%s", root, sig);
	assert_lsec_ok(lsec_audit_checkpoint_parse(&cp, good, strlen(good), &err), &err);
	assert_true(cp.size == 1);
	/* Over-long notes are refused before any work. */
	size_t big = LSEC_AUDIT_NOTE_MAX + 1;
	char *huge = lsec_malloc(big);
	assert_non_null(huge);
	memset(huge, 'a', big);
	huge[big - 1] = '\n';
	assert_lsec_code(lsec_audit_checkpoint_parse(&cp, huge, big, &err), LSEC_E_AUDIT_NOTE, &err);
	lsec_free(huge);
}

static void test_audit_note__cosigned_note_verifies_with_either_key(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *a = fresh_key(), *b = fresh_key();
	char *one = sign_cp("linesec/l", 5, 0x33, a);
	/* Add a second signature line by b over the same text. */
	size_t text_len = 0;
	assert_lsec_ok(lsec_audit__note_verify(&text_len, one, strlen(one), NULL, a, &err), &err);
	char *two = NULL;
	assert_lsec_ok(lsec_audit__note_sign(&two, one, text_len, "witness", b, &err), &err);
	const char *sigb = two + text_len + 1;
	char *both = lsec_asprintf("%s%s", one, sigb);
	assert_non_null(both);
	lsec_audit_checkpoint cp;
	assert_lsec_ok(lsec_audit_checkpoint_verify(&cp, both, strlen(both), "station-1", a, &err),
		       &err);
	assert_lsec_ok(lsec_audit_checkpoint_verify(&cp, both, strlen(both), "witness", b, &err),
		       &err);
	assert_lsec_code(lsec_audit_checkpoint_verify(&cp, both, strlen(both), "witness", a, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	lsec_free(both);
	lsec_free(two);
	lsec_free(one);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* Writes the PEM public keys of ks to path, one after the other. */
static void write_pems(const char *path, EVP_PKEY *const *ks, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(PEM_write_PUBKEY(f, ks[i]), 1);
	}
	assert_int_equal(fclose(f), 0);
}

static void test_audit_note__pubkeys_load(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *p = lsec_test_path(dir, "stations.pub");
	EVP_PKEY *ks[3] = {fresh_key(), fresh_key(), EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")};
	EVP_PKEY **got = NULL;
	size_t n = 0;
	write_pems(p, ks, 2);
	assert_lsec_ok(lsec_audit_pubkeys_load(&got, &n, p, &err), &err);
	assert_int_equal(n, 2);
	assert_int_equal(EVP_PKEY_eq(got[0], ks[0]), 1);
	assert_int_equal(EVP_PKEY_eq(got[1], ks[1]), 1);
	lsec_audit_pubkeys_free(got, n);
	/* A key that is not Ed25519, an empty file, a file of no PEM, a missing file. */
	write_pems(p, ks, 3);
	assert_lsec_code(lsec_audit_pubkeys_load(&got, &n, p, &err), LSEC_E_USAGE, &err);
	assert_null(got);
	assert_non_null(strstr(err.msg, "public key 3"));
	write_pems(p, ks, 0);
	assert_lsec_code(lsec_audit_pubkeys_load(&got, &n, p, &err), LSEC_E_PARSE, &err);
	assert_lsec_ok(lsec_file_write_atomic(p, "not a key\n", 10, 0644, &err), &err);
	assert_lsec_code(lsec_audit_pubkeys_load(&got, &n, p, &err), LSEC_E_PARSE, &err);
	char *missing = lsec_test_path(dir, "none.pub");
	assert_lsec_code(lsec_audit_pubkeys_load(&got, &n, missing, &err), LSEC_E_IO, &err);
	lsec_free(missing);
	for (int i = 0; i < 3; i++) {
		EVP_PKEY_free(ks[i]);
	}
	lsec_free(p);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_note__go_known_answer),
		cmocka_unit_test(test_audit_note__checkpoint_round_trip),
		cmocka_unit_test(test_audit_note__every_bit_flip_is_refused),
		cmocka_unit_test(test_audit_note__wrong_key_and_name),
		cmocka_unit_test(test_audit_note__strict_parser),
		cmocka_unit_test(test_audit_note__cosigned_note_verifies_with_either_key),
		cmocka_unit_test(test_audit_note__pubkeys_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
