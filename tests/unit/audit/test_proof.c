/* Proof files: round trip, offline check, strict parsing, tampered proofs. */
#include "helpers/testutil.h"

#include "audit/audit_int.h"

#include <openssl/evp.h>
#include <string.h>

#define NLEAVES 7

static EVP_PKEY *key;
static char leaves[NLEAVES][48];
static uint8_t hashes[NLEAVES][32];

static int setup(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	for (int i = 0; i < NLEAVES; i++) {
		snprintf(leaves[i], sizeof(leaves[i]), "{\"person\":\"p%d\",\"seq\":%d,\"v\":1}", i, i);
		if (lsec_audit_leaf_hash(hashes[i], (const uint8_t *)leaves[i], strlen(leaves[i]),
					 &err) != 0) {
			return -1;
		}
	}
	return key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

/* A proof file for leaves idx[0..n) of the 7-leaf tree. */
static char *make_proof(const uint64_t *idx, size_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_hashes src = {&hashes[0][0], NLEAVES};
	lsec_audit_checkpoint cp = {.origin = "linesec/proof-test", .size = NLEAVES};
	assert_lsec_ok(lsec_audit_root(cp.root, NLEAVES, lsec_audit_hashes_source, &src, &err), &err);
	char *note = NULL, *text = NULL;
	assert_lsec_ok(lsec_audit_checkpoint_sign(&note, &cp, "st", key, &err), &err);
	lsec_audit_proof *p = NULL;
	assert_lsec_ok(lsec_audit_proof_new(&p, note, &err), &err);
	for (size_t i = 0; i < n; i++) {
		lsec_buf path = LSEC_BUF_INIT(64 * 32);
		assert_lsec_ok(lsec_audit_inclusion_prove(&path, idx[i], NLEAVES,
							  lsec_audit_hashes_source, &src, &err),
			       &err);
		assert_lsec_ok(lsec_audit_proof_add(p, idx[i], (const uint8_t *)leaves[idx[i]],
						    strlen(leaves[idx[i]]), path.data, path.len,
						    &err),
			       &err);
		lsec_buf_release(&path);
	}
	assert_lsec_ok(lsec_audit_proof_write(&text, p, &err), &err);
	lsec_audit_proof_free(p);
	lsec_free(note);
	return text;
}

static int check_text(const char *text, lsec_err *err)
{
	lsec_audit_proof *p = NULL;
	int rc = lsec_audit_proof_parse(&p, text, strlen(text), err);
	if (rc == 0) {
		rc = lsec_audit_proof_check(NULL, p, key, err);
	}
	lsec_audit_proof_free(p);
	return rc;
}

/* Replaces the first occurrence of from with to (same length or not). */
static char *replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	return lsec_asprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

static void test_audit_proof__round_trip_and_check(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const uint64_t idx[] = {0, 3, 6};
	char *text = make_proof(idx, 3);
	lsec_audit_proof *p = NULL;
	assert_lsec_ok(lsec_audit_proof_parse(&p, text, strlen(text), &err), &err);
	assert_int_equal(lsec_audit_proof_count(p), 3);
	assert_int_equal(lsec_audit_proof_index(p, 1), 3);
	assert_string_equal(lsec_audit_proof_leaf(p, 2), leaves[6]);
	lsec_audit_checkpoint cp;
	assert_lsec_ok(lsec_audit_proof_check(&cp, p, key, &err), &err);
	assert_int_equal(cp.size, NLEAVES);
	/* Written again, byte for byte the same. */
	char *again = NULL;
	assert_lsec_ok(lsec_audit_proof_write(&again, p, &err), &err);
	assert_string_equal(again, text);
	lsec_free(again);
	lsec_audit_proof_free(p);
	/* Another station's key: the checkpoint is not ours. */
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_lsec_ok(lsec_audit_proof_parse(&p, text, strlen(text), &err), &err);
	assert_lsec_code(lsec_audit_proof_check(NULL, p, other, &err), LSEC_E_AUDIT_SIGNATURE, &err);
	/* Under any of several trusted keys: one that signed it is enough, none is not. */
	const EVP_PKEY *both[] = {other, key}, *neither[] = {other, other};
	assert_lsec_ok(lsec_audit_proof_check_keys(&cp, p, both, 2, &err), &err);
	assert_lsec_code(lsec_audit_proof_check_keys(NULL, p, neither, 2, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "no signature by any of the 2 trusted station keys"));
	assert_lsec_code(lsec_audit_proof_check_keys(NULL, p, both, 0, &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	lsec_audit_proof_free(p);
	EVP_PKEY_free(other);
	lsec_free(text);
}

static void test_audit_proof__tampered_proofs_fail(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const uint64_t idx[] = {3};
	char *text = make_proof(idx, 1);
	assert_lsec_ok(check_text(text, &err), &err);
	/* A changed leaf, a changed index, a dropped path hash: not in the signed tree. */
	char *t1 = replaced(text, "\\\"p3\\\"", "\\\"p9\\\"");
	assert_lsec_code(check_text(t1, &err), LSEC_E_AUDIT_PROOF, &err);
	assert_non_null(strstr(err.msg, "entry 0 (leaf 3)"));
	char *t2 = replaced(text, "\"index\":3", "\"index\":2");
	assert_lsec_code(check_text(t2, &err), LSEC_E_AUDIT_PROOF, &err);
	char *t3 = replaced(text, "\"inclusion\":[\"", "\"inclusion\":[\"00");
	assert_lsec_code(check_text(t3, &err), LSEC_E_AUDIT_PROOF_FORMAT, &err);
	/* The checkpoint's size changed: the signature breaks. */
	char *t4 = replaced(text, "proof-test\\n7\\n", "proof-test\\n8\\n");
	assert_lsec_code(check_text(t4, &err), LSEC_E_AUDIT_SIGNATURE, &err);
	lsec_free(t1);
	lsec_free(t2);
	lsec_free(t3);
	lsec_free(t4);
	lsec_free(text);
}

static void test_audit_proof__strict_parser(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const uint64_t idx[] = {1};
	char *text = make_proof(idx, 1);
	lsec_audit_proof *p = NULL;
	const struct {
		const char *from, *to;
	} edits[] = {
		{"\"format\":\"linesec-audit-proof/1\"", "\"format\":\"linesec-audit-proof/2\""},
		{"\"format\"", "\"formats\""},
		{"{\"checkpoint\"", "{\"extra\":1,\"checkpoint\""},
		{"\"index\":1", "\"index\":-1"},
		{"\"index\":1", "\"index\":\"1\""},
		{"\"entries\":[", "\"entries\":[{},"},
		{"\"leaf\":\"", "\"leaf\":\"\\u0000"},
		{"\"inclusion\":[\"", "\"inclusion\":[\"zz"},
		{"\\n\\n", "\\n"},
		{"\"index\":1", "\"index\":1,\"index\":1"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *t = replaced(text, edits[i].from, edits[i].to);
		int rc = lsec_audit_proof_parse(&p, t, strlen(t), &err);
		if (rc != LSEC_E_AUDIT_PROOF_FORMAT && rc != LSEC_E_AUDIT_NOTE) {
			fail_msg("edit %zu (%s) accepted: rc %d", i, edits[i].to, rc);
		}
		assert_null(p);
		lsec_free(t);
	}
	assert_lsec_code(lsec_audit_proof_parse(&p, "[]", 2, &err), LSEC_E_AUDIT_PROOF_FORMAT, &err);
	assert_lsec_code(lsec_audit_proof_parse(&p, "{", 1, &err), LSEC_E_AUDIT_PROOF_FORMAT, &err);
	/* No entries. */
	char *t = replaced(text, "\"entries\":[", "\"entries\":[],\"x\":[");
	assert_lsec_code(lsec_audit_proof_parse(&p, t, strlen(t), &err), LSEC_E_AUDIT_PROOF_FORMAT,
			 &err);
	lsec_free(t);
	lsec_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_proof__round_trip_and_check),
		cmocka_unit_test(test_audit_proof__tampered_proofs_fail),
		cmocka_unit_test(test_audit_proof__strict_parser),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
