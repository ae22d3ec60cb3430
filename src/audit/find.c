/*
 * find.c - reading leaves back for a decision: one leaf checked against its
 * stored hash, and the leaves of one kind naming one thing.
 *
 * What the station acts on (an approval, an approved SOP body, a passed run)
 * is read from leaves, never from the registry rows around them. The rows a
 * leaf is found by (the unit and action columns) lie outside the leaf hash:
 * they only say where to look, and every leaf read is hashed and compared
 * with its stored hash (which the verified tree covers) and with the action
 * it was looked up by.
 *
 * @test tests/unit/audit/test_find.c
 */
#include "audit/audit_int.h"

#include "linesec/store.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int lsec_audit_leaf_read(struct json_t **out, lsec_store *st, uint64_t seq, const char *unit,
			 lsec_err *err)
{
	int rc = 0;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	lsec_buf sig = LSEC_BUF_INIT(1u << 16); /* any stored length: the check names a wrong one */
	uint8_t h[32], stored[32];
	json_t *j = NULL;
	lsec_audit_signer *signer = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_audit__trusted(&signer, st, "read an audit leaf", err));
	LSEC_TRY(lsec_store_leaf_get(&leaf, stored, &sig, st, seq, err));
	LSEC_TRY(lsec_audit_leaf_hash(h, leaf.data, leaf.len, err));
	LSEC_ENSURE(lsec_ct_equal(h, stored, 32), LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves holds leaf %llu with bytes that do not match its "
		    "stored hash: the registry was changed outside linesec",
		    (unsigned long long)seq);
	/* Bytes and hash rewritten together still need a station's signature. */
	LSEC_TRY(lsec_audit__leaf_sig_check(lsec_audit__signer_keyring(signer),
					    lsec_audit__signer_origin(signer), seq, h, sig.data,
					    sig.len, err));
	if (unit != NULL) {
		LSEC_TRY(lsec_audit_leaf_check_unit(leaf.data, leaf.len, seq, unit, err));
	}
	j = json_loadb((const char *)leaf.data, leaf.len, JSON_REJECT_DUPLICATES, NULL);
	LSEC_ENSURE(json_is_object(j), LSEC_E_AUDIT_LEAF_FORMAT,
		    "audit leaf %llu is not a JSON object", (unsigned long long)seq);
	json_int_t named = json_integer_value(json_object_get(j, "seq"));
	LSEC_ENSURE(json_is_integer(json_object_get(j, "seq")) && (uint64_t)named == seq,
		    LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves holds at %llu a leaf that names position %lld",
		    (unsigned long long)seq, (long long)named);
	*out = j;
	j = NULL;
out:
	json_decref(j);
	lsec_buf_release(&leaf);
	lsec_buf_release(&sig);
	return rc;
}

/* Public names (actions, field values), not secrets. */
static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok: public text */
}

/* Field key of leaf as text into buf ("evidence.<k>" reads the evidence); NULL when absent. */
static const char *field(char *buf, size_t cap, const json_t *leaf, const char *key)
{
	const json_t *v = NULL;
	if (strncmp(key, "evidence.", 9) == 0) {
		v = json_object_get(json_object_get(leaf, "evidence"), key + 9);
	} else {
		v = json_object_get(leaf, key);
	}
	if (json_is_string(v)) {
		return json_string_value(v);
	}
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

bool lsec_audit_leaf_matches(const struct json_t *leaf, const char *action,
			     const char *const *match)
{
	char buf[32];
	const char *a = json_string_value(json_object_get(leaf, "action"));
	if (!same(a, action)) {
		return false;
	}
	for (size_t i = 0; match != NULL && match[i] != NULL; i += 2) {
		const char *v = field(buf, sizeof(buf), leaf, match[i]);
		if (!same(v, match[i + 1])) {
			return false;
		}
	}
	return true;
}

const char *lsec_audit_leaf_field(char buf[32], const struct json_t *leaf, const char *key)
{
	return leaf != NULL && key != NULL ? field(buf, 32, leaf, key) : NULL;
}

int lsec_audit_leaves_find(struct json_t **out, lsec_store *st, const char *action,
			   const char *const *match, lsec_err *err)
{
	return lsec_audit_leaves_find_from(out, st, action, 0, match, err);
}

int lsec_audit_leaves_find_from(struct json_t **out, lsec_store *st, const char *action,
				uint64_t from, const char *const *match, lsec_err *err)
{
	int rc = 0;
	uint64_t *seqs = NULL;
	size_t n = 0;
	json_t *arr = json_array(), *j = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(action);
	LSEC_ENSURE(arr != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_leaf_seqs_for_action_from(&seqs, &n, st, action, from, err));
	for (size_t i = 0; i < n; i++) {
		json_decref(j);
		j = NULL;
		LSEC_TRY(lsec_audit_leaf_read(&j, st, seqs[i], NULL, err));
		const char *named = json_string_value(json_object_get(j, "action"));
		LSEC_ENSURE(same(named, action), LSEC_E_AUDIT_INDEX,
			    "registry table audit_leaves files leaf %llu under action '%s', but the "
			    "leaf names action '%s': the registry was changed outside linesec",
			    (unsigned long long)seqs[i], action, named ? named : "(none)");
		if (lsec_audit_leaf_matches(j, action, match)) {
			json_t *keep = j; /* the array owns it, also on failure */
			j = NULL;
			LSEC_TRY(lsec_json_append(arr, keep, err));
		}
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(j);
	json_decref(arr);
	lsec_free(seqs);
	return rc;
}
