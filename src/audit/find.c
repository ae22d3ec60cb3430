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

int lsec_audit__leaf_load(json_t **out, uint8_t hash_out[32], lsec_buf *sig_out, lsec_store *st,
			  uint64_t seq, lsec_audit_signer *signer, const char *unit, lsec_err *err)
{
	int rc = 0;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	lsec_buf sig = LSEC_BUF_INIT(1u << 16); /* any stored length: the check names a wrong one */
	uint8_t h[32], stored[32];
	json_t *j = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store_leaf_get(&leaf, stored, &sig, st, seq, err));
	LSEC_TRY(lsec_audit_leaf_hash(h, leaf.data, leaf.len, err));
	LSEC_ENSURE(lsec_ct_equal(h, stored, 32), LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves holds leaf %llu with bytes that do not match its "
		    "stored hash: the registry was changed outside linesec",
		    (unsigned long long)seq);
	/* Bytes and hash rewritten together still need a station's signature. */
	if (signer != NULL) {
		LSEC_TRY(lsec_audit__signer_sig_check(signer, seq, h, sig.data, sig.len, err));
	}
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
	if (sig_out != NULL) {
		LSEC_TRY(lsec_buf_append(sig_out, sig.data, sig.len, err));
	}
	memcpy(hash_out, h, 32);
	*out = j;
	j = NULL;
out:
	json_decref(j);
	lsec_buf_release(&leaf);
	lsec_buf_release(&sig);
	return rc;
}

/* lsec_audit_leaf_read that also gives the leaf's checked hash. */
static int leaf_read(json_t **out, uint8_t hash_out[32], lsec_store *st, uint64_t seq,
		     const char *unit, lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *signer = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_audit__trusted(&signer, st, "read an audit leaf", err));
	LSEC_TRY(lsec_audit__leaf_load(out, hash_out, NULL, st, seq, signer, unit, err));
out:
	return rc;
}

int lsec_audit_leaf_read(struct json_t **out, lsec_store *st, uint64_t seq, const char *unit,
			 lsec_err *err)
{
	uint8_t h[32];
	return leaf_read(out, h, st, seq, unit, err);
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

bool lsec_audit_revocation_done(const char *outcome)
{
	return outcome != NULL &&
	       (strcmp(outcome, "revoked") == 0 || strcmp(outcome, "done") == 0 || /* lint:ok */
		strcmp(outcome, "passed") == 0);				   /* lint:ok */
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

/* ---- complete lookups (docs/audit-log.md, "The signed index") ------------ */

/* What a lookup is for: the leaves whose content names kind:name. */
struct lookup {
	lsec_store_leaf_column col;
	const char *kind; /* "unit" or "action" */
	const char *name;
	char key[LSEC_STORE_INDEX_KEY_MAX + 1];
	lsec_audit_signer *signer;
	uint64_t next; /* the tail: the next leaf expected */
	json_t *arr;
	lsec_audit_tree *tree; /* not NULL: the leaves below tree_to hashed into it */
	uint64_t tree_to;
	bool tail_signed; /* tail_seq_cb: the tail follows a checkpoint; its signatures checked */
};

/* Whether leaf j names what l looks for; else LSEC_E_AUDIT_INDEX naming where it was filed. */
static int names_key(const struct lookup *l, const json_t *j, uint64_t seq, lsec_err *err)
{
	int rc = 0;
	const char *named = json_string_value(json_object_get(j, l->kind));
	LSEC_ENSURE(same(named, l->name), LSEC_E_AUDIT_INDEX,
		    "registry table audit_leaves files leaf %llu under %s '%s', but the leaf names "
		    "%s '%s': the registry was changed outside linesec",
		    (unsigned long long)seq, l->kind, l->name, l->kind, named ? named : "(none)");
out:
	return rc;
}

/* The tail is read without a gap: seq must be the next leaf expected. */
static int tail_next(struct lookup *l, uint64_t seq, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(seq == l->next, LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves lacks leaf %llu (the next stored leaf is %llu): "
		    "the registry was changed outside linesec",
		    (unsigned long long)l->next, (unsigned long long)seq);
	l->next++;
out:
	return rc;
}

/* A leaf of the tail whose bytes do not match its stored hash: LSEC_E_AUDIT_LEAF_HASH naming it. */
static int tail_hash_check(uint8_t h[32], uint64_t seq, const uint8_t *leaf, size_t len,
			   const uint8_t leaf_hash[32], lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_audit_leaf_hash(h, leaf, len, err));
	LSEC_ENSURE(lsec_ct_equal(h, leaf_hash, 32), LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves holds leaf %llu with bytes that do not match its "
		    "stored hash: the registry was changed outside linesec",
		    (unsigned long long)seq);
out:
	return rc;
}

/*
 * Leaf seq of the tail: its bytes must match its stored hash (h: that hash);
 * *match: whether its content files it under l's key. A row holding the very
 * bytes and stored hash this process already checked is answered from the
 * memo of l's signer (the same hash, the same keys); any other is checked
 * in full and remembered.
 */
static int tail_leaf(bool *match, uint8_t h[32], const struct lookup *l, uint64_t seq,
		     const uint8_t *leaf, size_t len, const uint8_t leaf_hash[32], lsec_err *err)
{
	int rc = 0;
	char keys[LSEC_AUDIT__INDEX_KEYS][LSEC_STORE_INDEX_KEY_MAX + 1];
	lsec_audit__memo *m = l->signer != NULL ? lsec_audit__signer_memo(l->signer) : NULL;
	const lsec_audit__memo_entry *e = lsec_audit__memo_get(m, seq, leaf, len, leaf_hash);
	*match = false;
	if (e == NULL) {
		LSEC_TRY(tail_hash_check(h, seq, leaf, len, leaf_hash, err));
		size_t n = lsec_audit__index_leaf_keys(keys, leaf, len);
		if ((e = lsec_audit__memo_put(m, seq, leaf, len, h, keys, n)) == NULL) {
			for (size_t i = 0; i < n; i++) {
				*match = *match || same(keys[i], l->key);
			}
			goto out;
		}
	}
	memcpy(h, lsec_audit__memo_hash(e), 32);
	*match = lsec_audit__memo_names(e, l->key);
out:
	return rc;
}

/* One leaf of the tail: checked like any leaf read, kept when its content names the key. */
static int tail_cb(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		   const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	struct lookup *l = ctx;
	uint8_t h[32];
	bool match = false;
	json_t *j = NULL;
	(void)unit;
	LSEC_TRY(tail_next(l, seq, err));
	LSEC_TRY(tail_leaf(&match, h, l, seq, leaf, len, leaf_hash, err));
	LSEC_TRY(lsec_audit__signer_sig_check(l->signer, seq, h, sig, sig_len, err));
	if (!match) {
		goto out;
	}
	j = json_loadb((const char *)leaf, len, JSON_REJECT_DUPLICATES, NULL);
	json_int_t named = json_integer_value(json_object_get(j, "seq"));
	LSEC_ENSURE(json_is_object(j) && (uint64_t)named == seq, LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves holds at %llu a leaf that names position %lld",
		    (unsigned long long)seq, (long long)named);
	json_t *keep = j; /* the array owns it, also on failure */
	j = NULL;
	LSEC_TRY(lsec_json_append(l->arr, keep, err));
out:
	json_decref(j);
	return rc;
}

/*
 * The column's list taken as it is, each leaf checked: without station keys
 * (nothing read is trusted then), or on a line whose checkpoints predate
 * the index.
 */
static int lookup_columns(struct lookup *l, lsec_store *st, uint64_t from, lsec_err *err)
{
	int rc = 0;
	lsec_store_leaf_ref *refs = NULL;
	size_t n = 0;
	uint8_t h[32];
	json_t *j = NULL;
	LSEC_TRY(lsec_store_leaf_refs(&refs, &n, st, l->col, l->name, UINT64_MAX, err));
	for (size_t i = 0; i < n; i++) {
		if (refs[i].seq < from) {
			continue;
		}
		json_decref(j);
		j = NULL;
		LSEC_TRY(leaf_read(&j, h, st, refs[i].seq, NULL, err));
		LSEC_TRY(names_key(l, j, refs[i].seq, err));
		json_t *keep = j;
		j = NULL;
		LSEC_TRY(lsec_json_append(l->arr, keep, err));
	}
out:
	json_decref(j);
	lsec_free(refs);
	return rc;
}

/*
 * The latest trusted checkpoint (*found false: none) and, when it commits
 * an index, the count and head it holds for l's key. Another station may
 * sign a checkpoint between reading the note and the bucket (the rows then
 * belong to a newer root): a bucket that does not match is read again
 * under the newer checkpoint, and refused when the checkpoint stayed.
 */
static int signed_entry(lsec_audit_checkpoint *cp, bool *found, uint64_t *count,
			uint8_t head[32], lsec_store *st, const struct lookup *l, lsec_err *err)
{
	int rc = 0;
	for (int attempt = 0;; attempt++) {
		lsec_audit_checkpoint again;
		bool still = false;
		lsec_err e = LSEC_ERR_INIT;
		LSEC_TRY(lsec_audit__trusted_latest(cp, found, st, l->signer, err));
		if (!*found || !cp->has_index) {
			goto out;
		}
		if (lsec_audit__signer_index_seen(count, head, l->signer, cp->index_root, cp->size,
						  l->key)) {
			goto out;
		}
		rc = lsec_audit__index_get(count, head, st, cp->index_root, cp->size, l->key, err);
		if (rc == 0) {
			lsec_audit__signer_index_saw(l->signer, cp->index_root, cp->size, l->key, *count,
						     head);
		}
		if (rc != LSEC_E_AUDIT_INDEX || attempt == 4 ||
		    lsec_audit__trusted_latest(&again, &still, st, l->signer, &e) < 0 || !still ||
		    again.size == cp->size) {
			goto out;
		}
	}
out:
	return rc;
}

/*
 * The column's list of l's leaves below leaf size (*refs, lsec_free), after
 * its (seq, hash) chain matched the count and head the signed index of the
 * checkpoint of that size holds for the key: LSEC_E_AUDIT_INDEX otherwise.
 */
static int signed_refs(lsec_store_leaf_ref **refs, size_t *n, lsec_store *st,
		       const struct lookup *l, uint64_t size, uint64_t count,
		       const uint8_t head[32], lsec_err *err)
{
	int rc = 0;
	uint8_t chain[32] = {0};
	*refs = NULL;
	*n = 0;
	if (size == 0) {
		goto out;
	}
	LSEC_TRY(lsec_store_leaf_refs(refs, n, st, l->col, l->name, size, err));
	for (size_t i = 0; i < *n; i++) {
		LSEC_TRY(lsec_audit__index_chain(chain, (*refs)[i].seq, (*refs)[i].hash, err));
	}
	LSEC_ENSURE(*n == count && lsec_ct_equal(chain, head, 32), LSEC_E_AUDIT_INDEX,
		    "registry table audit_leaves lists %zu leaves under %s '%s' below leaf "
		    "%llu, but the signed index of that checkpoint holds %llu%s: a leaf's "
		    "index column was changed outside linesec",
		    *n, l->kind, l->name, (unsigned long long)size, (unsigned long long)count,
		    *n == count ? " others" : "");
out:
	return rc;
}

/*
 * The leaves whose content names l's key, from seq from on, in order, into
 * l->arr: those below the latest trusted checkpoint (size N) as the column
 * lists them, after the list's (seq, hash) chain matched the count and head
 * the checkpoint's signed index holds for the key, then every leaf from N
 * on, each checked, kept by its content.
 */
static int lookup_run(struct lookup *l, lsec_store *st, uint64_t from, lsec_err *err)
{
	int rc = 0;
	lsec_audit_checkpoint cp;
	bool found = false;
	lsec_store_leaf_ref *refs = NULL;
	size_t n = 0;
	uint64_t size = 0, count = 0;
	uint8_t head[32], h[32];
	json_t *j = NULL;
	LSEC_TRY(signed_entry(&cp, &found, &count, head, st, l, err));
	if (found && !cp.has_index) {
		/* A line whose checkpoints predate the index: the column, as then. */
		rc = lookup_columns(l, st, from, err);
		goto out;
	}
	size = found ? cp.size : 0;
	LSEC_TRY(signed_refs(&refs, &n, st, l, size, count, head, err));
	for (size_t i = 0; i < n; i++) {
		if (refs[i].seq < from) {
			continue;
		}
		json_decref(j);
		j = NULL;
		LSEC_TRY(leaf_read(&j, h, st, refs[i].seq, NULL, err));
		LSEC_ENSURE(lsec_ct_equal(h, refs[i].hash, 32), LSEC_E_AUDIT_LEAF_HASH,
			    "registry table audit_leaves changed leaf %llu while it was read",
			    (unsigned long long)refs[i].seq);
		LSEC_TRY(names_key(l, j, refs[i].seq, err));
		json_t *keep = j; /* the array owns it, also on failure */
		j = NULL;
		LSEC_TRY(lsec_json_append(l->arr, keep, err));
	}
	l->next = size > from ? size : from;
	LSEC_TRY(lsec_store_leaf_foreach(st, l->next, UINT64_MAX, tail_cb, l, err));
out:
	json_decref(j);
	lsec_free(refs);
	return rc;
}

/* The one lookup behind lsec_audit_unit_leaves and lsec_audit_leaves_find_from. */
static int lookup(json_t **out, lsec_store *st, lsec_store_leaf_column col, const char *name,
		  uint64_t from, lsec_err *err)
{
	int rc = 0;
	struct lookup l;
	memset(&l, 0, sizeof(l));
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	l.col = col;
	l.kind = col == LSEC_STORE_LEAF_UNIT ? "unit" : "action";
	l.name = name;
	LSEC_ENSURE(lsec_audit__index_key(l.key, l.kind, name, strlen(name)) == 0, LSEC_E_USAGE,
		    "cannot look up %s '%.64s': empty or too long", l.kind, name);
	LSEC_ENSURE((l.arr = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_audit__trusted(&l.signer, st, "look up audit leaves", err));
	LSEC_TRY(lookup_run(&l, st, from, err));
	*out = l.arr;
	l.arr = NULL;
out:
	json_decref(l.arr);
	return rc;
}

int lsec_audit_leaves_count(uint64_t *out, lsec_store *st, const char *kind, const char *name,
			    lsec_err *err)
{
	int rc = 0;
	struct lookup l;
	lsec_audit_checkpoint cp;
	bool found = false;
	uint64_t count = 0;
	uint8_t head[32];
	memset(&l, 0, sizeof(l));
	*out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(kind);
	LSEC_ENSURE_REF(name);
	l.kind = kind;
	l.name = name;
	LSEC_ENSURE(lsec_audit__index_key(l.key, kind, name, strlen(name)) == 0, LSEC_E_USAGE,
		    "cannot count leaves of %s '%.64s': empty or too long", kind, name);
	LSEC_ENSURE((l.arr = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_audit__trusted(&l.signer, st, "count audit leaves", err));
	LSEC_TRY(signed_entry(&cp, &found, &count, head, st, &l, err));
	if (found && !cp.has_index) {
		count = 0; /* a line whose checkpoints predate the index: only the tail is known */
	}
	l.next = found ? cp.size : 0;
	LSEC_TRY(lsec_store_leaf_foreach(st, l.next, UINT64_MAX, tail_cb, &l, err));
	*out = count + json_array_size(l.arr);
out:
	json_decref(l.arr);
	return rc;
}

int lsec_audit_unit_leaves(struct json_t **out, lsec_store *st, const char *unit, lsec_err *err)
{
	return lookup(out, st, LSEC_STORE_LEAF_UNIT, unit, 0, err);
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
	json_t *all = NULL, *arr = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(action);
	LSEC_TRY(lookup(&all, st, LSEC_STORE_LEAF_ACTION, action, from, err));
	LSEC_ENSURE((arr = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(all); i++) {
		json_t *j = json_array_get(all, i);
		if (lsec_audit_leaf_matches(j, action, match)) {
			LSEC_TRY(lsec_json_append(arr, json_incref(j), err));
		}
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(all);
	json_decref(arr);
	return rc;
}

/*
 * One leaf of the tail, for lsec_audit__action_seqs: its seq kept when its
 * content names l's key. Its bytes must match its stored hash (a leaf
 * changed so that it no longer names the action is refused, not skipped).
 * After a checkpoint, a leaf its signed root does not cover must also carry
 * the signature of a station key l's signer knows (trusted at its place or
 * not: a distrusted station's later leaf is void, not a reason to refuse):
 * bytes and hash rewritten together so that it no longer names the action
 * are refused too, naming the leaf. A log with no checkpoint yet is read by
 * content alone. The caller reads each leaf kept again and judges its
 * signature against the keys trusted at its place.
 */
static int tail_seq_cb(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		       const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len,
		       lsec_err *err)
{
	int rc = 0;
	struct lookup *l = ctx;
	uint8_t h[32];
	bool match = false;
	(void)unit;
	LSEC_TRY(tail_next(l, seq, err));
	LSEC_TRY(tail_leaf(&match, h, l, seq, leaf, len, leaf_hash, err));
	if (l->tree != NULL && seq < l->tree_to) {
		LSEC_TRY(lsec_audit_tree_append(l->tree, h, err));
	} else if (l->tail_signed && l->signer != NULL) {
		LSEC_TRY(lsec_audit__signer_sig_known(l->signer, seq, h, sig, sig_len, err));
	}
	if (match) {
		LSEC_TRY(lsec_json_append(l->arr, json_integer((json_int_t)seq), err));
	}
out:
	return rc;
}

int lsec_audit__action_seqs(uint64_t **out, size_t *n_out, lsec_store *st, lsec_audit_signer *s,
			    const char *action, lsec_err *err)
{
	int rc = 0;
	struct lookup l;
	lsec_audit_checkpoint cp;
	bool found = false, unverified = false;
	uint64_t count = 0;
	uint8_t head[32];
	lsec_store_leaf_ref *refs = NULL;
	size_t n = 0;
	lsec_err e = LSEC_ERR_INIT;
	lsec_audit_tree tree;
	uint8_t root[32];
	memset(&l, 0, sizeof(l));
	*out = NULL;
	*n_out = 0;
	l.col = LSEC_STORE_LEAF_ACTION;
	l.kind = "action";
	l.name = action;
	l.signer = s;
	LSEC_ENSURE(lsec_audit__index_key(l.key, l.kind, action, strlen(action)) == 0, LSEC_E_USAGE,
		    "cannot look up action '%.64s': empty or too long", action);
	LSEC_ENSURE((l.arr = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
	rc = signed_entry(&cp, &found, &count, head, st, &l, &e);
	if (rc == LSEC_E_AUDIT_SIGNATURE || rc == LSEC_E_AUDIT_NOTE) {
		/*
		 * No checkpoint the keys derived so far verify: every leaf is read
		 * by its content, and each must still carry the signature of a
		 * station key the log knows (a checkpoint row appended to switch the
		 * check off gains nothing).
		 */
		rc = 0;
		found = false;
		unverified = true;
	} else if (rc == LSEC_E_AUDIT_INDEX && found) {
		/*
		 * A bad index node (or the rows of a newer checkpoint, the checkpoints
		 * table cut back: audit verify names that): every leaf is read by its
		 * content, those below the checkpoint only once they hash to its signed
		 * root, so that no leaf rewritten with its hash goes unseen.
		 */
		rc = 0;
		lsec_audit_tree_init(&tree);
		l.tree = &tree;
		l.tree_to = cp.size;
		found = false;
	} else if (rc < 0) {
		*err = e; /* a store error: refused */
		goto out;
	} else if (found && !cp.has_index) {
		/* A line whose checkpoints predate the index: the column, as then. */
		rc = lsec_store_leaf_seqs_for_action(out, n_out, st, action, err);
		goto out;
	}
	LSEC_TRY(signed_refs(&refs, &n, st, &l, found ? cp.size : 0, count, head, err));
	l.next = found ? cp.size : 0;
	l.tail_signed = found || unverified || l.tree != NULL;
	LSEC_TRY(lsec_store_leaf_foreach(st, l.next, UINT64_MAX, tail_seq_cb, &l, err));
	if (l.tree != NULL) {
		LSEC_TRY(lsec_audit_tree_root(root, l.tree, err));
		LSEC_ENSURE(l.tree->size == cp.size && lsec_ct_equal(root, cp.root, 32),
			    LSEC_E_AUDIT_ROOT,
			    "registry table audit_leaves does not hash to the root of the latest "
			    "checkpoint (%llu leaves) and its signed index cannot be read: the "
			    "registry was changed outside linesec",
			    (unsigned long long)cp.size);
	}
	size_t total = n + json_array_size(l.arr);
	LSEC_ENSURE((*out = lsec_calloc(total + 1, sizeof(**out))) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	for (size_t i = 0; i < n; i++) {
		(*out)[i] = refs[i].seq;
	}
	for (size_t i = n; i < total; i++) {
		(*out)[i] = (uint64_t)json_integer_value(json_array_get(l.arr, i - n));
	}
	*n_out = total;
out:
	lsec_err_clear(&e);
	if (rc < 0) {
		lsec_free(*out);
		*out = NULL;
		*n_out = 0;
	}
	json_decref(l.arr);
	lsec_free(refs);
	return rc;
}
