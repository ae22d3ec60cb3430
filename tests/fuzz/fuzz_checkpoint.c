/*
 * Fuzz target for the audit module's parsers of untrusted input.
 *
 * Target functions: lsec_audit_checkpoint_parse, lsec_audit_checkpoint_verify,
 * lsec_audit_proof_parse, lsec_audit_proof_write (round trip),
 * lsec_audit_proof_check, lsec_audit__leaf_scan (against jansson).
 *
 * The same bytes go to the checkpoint (signed note) parser and to the proof
 * file parser. A proof that parses must write back to text that parses to
 * the same entries. Verification runs under a fixed Ed25519 key, so the
 * signature paths run too (a fuzzer cannot forge a signature).
 */
#include "audit/audit_int.h"

#include <jansson.h>

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *fixed_key(void)
{
	static EVP_PKEY *k;
	static const uint8_t seed[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
	if (k == NULL) {
		k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_checkpoint cp;
	const char *text = (const char *)data;

	if (lsec_audit_checkpoint_parse(&cp, text, size, &err) == 0) {
		/* Parsed fields are well-formed. */
		if (cp.origin[0] == 0 || memchr(cp.origin, 0, sizeof(cp.origin)) == NULL) {
			abort();
		}
	}
	/* Whatever verifies must also parse. */
	if (lsec_audit_checkpoint_verify(&cp, text, size, NULL, fixed_key(), &err) == 0 &&
	    lsec_audit_checkpoint_parse(&cp, text, size, &err) != 0) {
		abort();
	}

	lsec_audit_proof *p = NULL;
	if (lsec_audit_proof_parse(&p, text, size, &err) == 0) {
		char *again = NULL;
		lsec_audit_proof *q = NULL;
		if (lsec_audit_proof_write(&again, p, &err) != 0 ||
		    lsec_audit_proof_parse(&q, again, strlen(again), &err) != 0 ||
		    lsec_audit_proof_count(q) != lsec_audit_proof_count(p)) {
			abort();
		}
		for (size_t i = 0; i < lsec_audit_proof_count(p); i++) {
			if (lsec_audit_proof_index(p, i) != lsec_audit_proof_index(q, i) ||
			    strcmp(lsec_audit_proof_leaf(p, i), lsec_audit_proof_leaf(q, i)) != 0) {
				abort();
			}
		}
		/* A proof that checks has every index inside its tree. */
		if (lsec_audit_proof_check(&cp, p, fixed_key(), &err) == 0 &&
		    lsec_audit_proof_index(p, 0) >= cp.size) {
			abort();
		}
		lsec_audit_proof_free(q);
		lsec_free(again);
	}
	lsec_audit_proof_free(p);

	/* The leaf scanner never disagrees with a full parse about "seq" or "unit". */
	lsec_audit__leaf_fields f;
	if (lsec_audit__leaf_scan(&f, data, size)) {
		json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
		const json_t *s = json_object_get(j, "seq");
		if (j != NULL && json_is_integer(s) && (uint64_t)json_integer_value(s) != f.seq) {
			abort();
		}
		const char *u = json_string_value(json_object_get(j, "unit"));
		if (j != NULL && u != NULL &&
		    (f.unit == NULL || strlen(u) != f.unit_len || memcmp(u, f.unit, f.unit_len) != 0)) {
			abort();
		}
		json_decref(j);
	}
	return 0;
}
