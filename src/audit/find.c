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
	uint64_t next;  /* the tail: the next leaf expected */
	uint64_t until; /* lookup_run: only the leaves below it (UINT64_MAX: all) */
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

/* The index keys one leaf names (borrowed from a memo entry, or in buf). */
struct leaf_keys {
	const char *k[LSEC_AUDIT__INDEX_KEYS];
	size_t n;
	char buf[LSEC_AUDIT__INDEX_KEYS][LSEC_STORE_INDEX_KEY_MAX + 1];
};

static bool names(const struct leaf_keys *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++) {
		if (same(k->k[i], key)) {
			return true;
		}
	}
	return false;
}

/*
 * Leaf seq of the tail: its bytes must match its stored hash (h: that hash);
 * *k: the index keys its content files it under. A row holding the very
 * bytes and stored hash this process already checked is answered from the
 * memo of signer (the same hash, the same keys); any other is checked in
 * full and remembered.
 */
static int tail_leaf(struct leaf_keys *k, uint8_t h[32], lsec_audit_signer *signer, uint64_t seq,
		     const uint8_t *leaf, size_t len, const uint8_t leaf_hash[32], lsec_err *err)
{
	int rc = 0;
	lsec_audit__memo *m = signer != NULL ? lsec_audit__signer_memo(signer) : NULL;
	const lsec_audit__memo_entry *e = lsec_audit__memo_get(m, seq, leaf, len, leaf_hash);
	k->n = 0;
	if (e == NULL) {
		LSEC_TRY(tail_hash_check(h, seq, leaf, len, leaf_hash, err));
		size_t n = lsec_audit__index_leaf_keys(k->buf, leaf, len);
		if ((e = lsec_audit__memo_put(m, seq, leaf, len, h, k->buf, n)) == NULL) {
			for (size_t i = 0; i < n; i++) {
				k->k[i] = k->buf[i];
			}
			k->n = n;
			goto out;
		}
	}
	memcpy(h, lsec_audit__memo_hash(e), 32);
	k->n = lsec_audit__memo_keys(e, k->k);
out:
	return rc;
}

/* Leaf seq's bytes parsed, as a JSON object naming position seq (LSEC_E_AUDIT_LEAF_HASH). */
static int tail_parse(json_t **out, uint64_t seq, const uint8_t *leaf, size_t len, lsec_err *err)
{
	int rc = 0;
	json_t *j = json_loadb((const char *)leaf, len, JSON_REJECT_DUPLICATES, NULL);
	json_int_t named = json_integer_value(json_object_get(j, "seq"));
	LSEC_ENSURE(json_is_object(j) && (uint64_t)named == seq, LSEC_E_AUDIT_LEAF_HASH,
		    "registry table audit_leaves holds at %llu a leaf that names position %lld",
		    (unsigned long long)seq, (long long)named);
	*out = j;
	j = NULL;
out:
	json_decref(j);
	return rc;
}

/* One leaf of the tail: checked like any leaf read, kept when its content names the key. */
static int tail_cb(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		   const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	struct lookup *l = ctx;
	uint8_t h[32];
	struct leaf_keys k;
	json_t *j = NULL;
	(void)unit;
	LSEC_TRY(tail_next(l, seq, err));
	LSEC_TRY(tail_leaf(&k, h, l->signer, seq, leaf, len, leaf_hash, err));
	LSEC_TRY(lsec_audit__signer_sig_check(l->signer, seq, h, sig, sig_len, err));
	if (!names(&k, l->key)) {
		goto out;
	}
	LSEC_TRY(tail_parse(&j, seq, leaf, len, err));
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
	LSEC_TRY(lsec_store_leaf_refs(&refs, &n, st, l->col, l->name, l->until, err));
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
		if (refs[i].seq < from || refs[i].seq >= l->until) {
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
	if (l->next < l->until) {
		LSEC_TRY(lsec_store_leaf_foreach(st, l->next, l->until, tail_cb, l, err));
	}
out:
	json_decref(j);
	lsec_free(refs);
	return rc;
}

/* ---- lookups kept (what this process read, answered again) --------------- */

/*
 * A station looks the same few things up again and again (a person's role,
 * an SOP's approvals, its acknowledgements, the approved keys and releases),
 * and each lookup read every leaf since the latest checkpoint and every
 * leaf of its key below it. The lookups kept answer from what this process
 * already read and checked: every leaf below lk->to was read with its hash
 * and station signature checked (under the keys trusted now: a change of
 * them forgets everything), and each key kept holds the leaves naming it
 * below lk->to, as a complete lookup found them. Each lookup first reads
 * the leaves appended since (each checked as the tail's are), so a leaf is
 * read once per process, not once per lookup.
 *
 * The log is append-only: a leaf read and checked stays what its station
 * signed, and what is kept must stay the log's. So each lookup first checks
 * that leaf lk->to - 1 still holds the bytes and hash read (a log cut back
 * under the process, or rewritten, stops it: LSEC_E_AUDIT_LEAF_HASH), and
 * every new checkpoint that covers leaves read must hash, from the range of
 * the one before, to its signed root (a fork that ends in the very row read
 * last stops it: LSEC_E_AUDIT_ROOT); the station signs one at each ship and
 * after every command that removes trust. Nothing read inside a
 * transaction is kept (its own rows may be rolled back): there the leaves
 * since lk->to are read for the one key asked. A change of the trusted
 * keys, or any failure, forgets all.
 */
#define KEPT_KEYS 32	  /* keys kept; the least recently used gives way */
#define KEPT_LEAVES 2048 /* leaves kept over all keys */
#define KEPT_KEY_LEAVES 256 /* a key with more is looked up in full each time */

struct kept {
	char key[LSEC_STORE_INDEX_KEY_MAX + 1]; /* "": a free slot */
	json_t *arr; /* the leaves naming key below lk->to; NULL: more than KEPT_KEY_LEAVES */
	uint64_t used;
};

struct lsec_audit__lookups {
	bool started;
	uint64_t to;	       /* every leaf below it was read and checked */
	lsec_audit_tree base;  /* the leaves below base.size: a range matching a signed root */
	uint8_t (*read)[32];   /* the hashes of leaves base.size .. to - 1, as read */
	size_t nread, capread;
	size_t nleaves;
	uint64_t clock;
	struct kept k[KEPT_KEYS];
};

int lsec_audit__lookups_new(lsec_audit__lookups **out)
{
	*out = lsec_calloc(1, sizeof(**out));
	return *out != NULL ? 0 : -1;
}

void lsec_audit__lookups_reset(lsec_audit__lookups *lk)
{
	if (lk == NULL) {
		return;
	}
	for (size_t i = 0; i < KEPT_KEYS; i++) {
		json_decref(lk->k[i].arr);
	}
	lsec_free(lk->read);
	memset(lk, 0, sizeof(*lk));
}

void lsec_audit__lookups_free(lsec_audit__lookups *lk)
{
	lsec_audit__lookups_reset(lk);
	lsec_free(lk);
}

/* Drops k's leaves (its key stays: a key looked up in full). */
static void kept_release(lsec_audit__lookups *lk, struct kept *k)
{
	lk->nleaves -= json_array_size(k->arr);
	json_decref(k->arr);
	k->arr = NULL;
}

/* Frees slot k. */
static void kept_drop(lsec_audit__lookups *lk, struct kept *k)
{
	kept_release(lk, k);
	memset(k, 0, sizeof(*k));
}

/* The least recently used slot (a free one first). */
static struct kept *kept_lru(lsec_audit__lookups *lk)
{
	struct kept *lru = &lk->k[0];
	for (size_t i = 0; i < KEPT_KEYS && lru->key[0] != '\0'; i++) {
		if (lk->k[i].key[0] == '\0' || lk->k[i].used < lru->used) {
			lru = &lk->k[i];
		}
	}
	return lru;
}

static struct kept *kept_find(lsec_audit__lookups *lk, const char *key)
{
	for (size_t i = 0; i < KEPT_KEYS; i++) {
		if (same(lk->k[i].key, key)) {
			lk->k[i].used = ++lk->clock;
			return &lk->k[i];
		}
	}
	return NULL;
}

/*
 * Within bounds again: a key holding more than KEPT_KEY_LEAVES keeps only
 * that (it is looked up in full), then the least recently used give way
 * until at most KEPT_LEAVES are kept.
 */
static void kept_trim(lsec_audit__lookups *lk)
{
	for (size_t i = 0; i < KEPT_KEYS; i++) {
		if (json_array_size(lk->k[i].arr) > KEPT_KEY_LEAVES) {
			kept_release(lk, &lk->k[i]);
		}
	}
	while (lk->nleaves > KEPT_LEAVES) {
		struct kept *old = NULL;
		for (size_t i = 0; i < KEPT_KEYS; i++) {
			if (lk->k[i].arr != NULL && (old == NULL || lk->k[i].used < old->used)) {
				old = &lk->k[i];
			}
		}
		if (old == NULL) {
			break;
		}
		kept_drop(lk, old);
	}
}

/* Keeps key's leaves below lk->to (arr, taken); NULL when they are not kept. */
static struct kept *kept_put(lsec_audit__lookups *lk, const char *key, json_t *arr)
{
	struct kept *k = kept_lru(lk);
	kept_drop(lk, k);
	snprintf(k->key, sizeof(k->key), "%s", key);
	k->used = ++lk->clock;
	k->arr = arr;
	lk->nleaves += json_array_size(arr);
	kept_trim(lk);
	return same(k->key, key) ? k : NULL;
}

/* A read of the leaves from lk->to on. */
struct scan {
	lsec_audit__lookups *lk;
	struct lookup l;  /* its signer; next: the leaf expected */
	bool one;	  /* only l.key's leaves from `from` on into l.arr; nothing kept */
	uint64_t from;
	bool first;	  /* the first row must be leaf lk->to - 1 as it was read */
	bool moved;	  /* it was not: the log changed under this process */
};

/* A log whose leaves this process read are gone or others: LSEC_E_AUDIT_LEAF_HASH. */
static int kept_moved(const lsec_audit__lookups *lk, lsec_err *err)
{
	return lsec_err_set(err, LSEC_E_AUDIT_LEAF_HASH, __FILE__, __LINE__,
			    "registry table audit_leaves no longer holds leaf %llu as this station "
			    "read it: the log was cut back or changed under this station (run "
			    "'linesec audit verify', then start the station again)",
			    (unsigned long long)(lk->to - 1));
}

/* Remembers leaf lk->to's hash as read; -1 when out of memory. */
static int read_push(lsec_audit__lookups *lk, const uint8_t h[32])
{
	if (lk->nread == lk->capread) {
		size_t cap = lk->capread ? 2 * lk->capread : 256;
		void *p = lsec_realloc(lk->read, cap * 32);
		if (p == NULL) {
			return -1;
		}
		lk->read = p;
		lk->capread = cap;
	}
	memcpy(lk->read[lk->nread++], h, 32);
	lk->to++;
	return 0;
}

static int scan_cb(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		   const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	struct scan *s = ctx;
	lsec_audit__lookups *lk = s->lk;
	struct leaf_keys k;
	uint8_t h[32];
	json_t *j = NULL;
	(void)unit;
	if (s->first || s->moved) {
		/* Its bytes as well as its stored hash: both as they were read. */
		s->first = false;
		if (!s->moved && seq + 1 == lk->to) {
			LSEC_TRY(lsec_audit_leaf_hash(h, leaf, len, err));
		}
		s->moved = s->moved || seq + 1 != lk->to ||
			   !lsec_ct_equal(leaf_hash, lk->read[lk->nread - 1], 32) ||
			   !lsec_ct_equal(h, lk->read[lk->nread - 1], 32);
		goto out; /* once moved, the rest of the walk is not read */
	}
	LSEC_TRY(tail_next(&s->l, seq, err));
	LSEC_TRY(tail_leaf(&k, h, s->l.signer, seq, leaf, len, leaf_hash, err));
	LSEC_TRY(lsec_audit__signer_sig_check(s->l.signer, seq, h, sig, sig_len, err));
	for (size_t i = 0; i < (s->one ? 1 : KEPT_KEYS); i++) {
		const char *key = s->one ? s->l.key : lk->k[i].key;
		json_t *arr = s->one ? s->l.arr : lk->k[i].arr;
		if (arr == NULL || !names(&k, key) || seq < s->from) {
			continue;
		}
		if (j == NULL) {
			LSEC_TRY(tail_parse(&j, seq, leaf, len, err));
		}
		LSEC_TRY(lsec_json_append(arr, json_incref(j), err));
		lk->nleaves += s->one ? 0 : 1;
	}
	if (!s->one) {
		LSEC_ENSURE(read_push(lk, h) == 0, LSEC_E_NOMEM, "out of memory");
	}
out:
	json_decref(j);
	return rc;
}

/*
 * Reads the leaves from lk->to on (s set up by the caller), after checking
 * that leaf lk->to - 1 is still the one read: kept_moved's error when it is
 * not, or is gone.
 */
static int scan_run(struct scan *s, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	s->l.next = s->lk->to;
	s->first = s->lk->nread > 0;
	LSEC_TRY(lsec_store_leaf_foreach(st, s->lk->to - (s->first ? 1 : 0), UINT64_MAX, scan_cb,
					 s, err));
	if (s->moved || s->first) {
		rc = kept_moved(s->lk, err);
	}
out:
	return rc;
}

/*
 * What lk read against the latest trusted checkpoint: when it covers leaves
 * lk read (more than base, at most to), they must hash with base to its
 * signed root, else the registry's log is not the one this process read
 * (LSEC_E_AUDIT_ROOT). move: base becomes that checkpoint's range.
 */
static int kept_check(lsec_audit__lookups *lk, lsec_store *st, lsec_audit_signer *signer,
		      bool move, lsec_err *err)
{
	int rc = 0;
	lsec_audit_checkpoint cp;
	bool found = false;
	lsec_audit_tree t = lk->base;
	uint8_t root[32];
	LSEC_TRY(lsec_audit__trusted_latest(&cp, &found, st, signer, err));
	if (!found || cp.size <= lk->base.size || cp.size > lk->to) {
		goto out;
	}
	size_t n = (size_t)(cp.size - lk->base.size);
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(lsec_audit_tree_append(&t, lk->read[i], err));
	}
	LSEC_TRY(lsec_audit_tree_root(root, &t, err));
	LSEC_ENSURE(lsec_ct_equal(root, cp.root, 32), LSEC_E_AUDIT_ROOT,
		    "the leaves %llu to %llu this station read do not hash to the signed root of "
		    "the checkpoint of %llu leaves: the registry's log was changed under this "
		    "station (run 'linesec audit verify', then start the station again)",
		    (unsigned long long)lk->base.size, (unsigned long long)cp.size - 1,
		    (unsigned long long)cp.size);
	if (move) {
		lk->base = t;
		memmove(lk->read, lk->read + n, (lk->nread - n) * 32);
		lk->nread -= n;
	}
out:
	return rc;
}

/* Most leaves read past base before what was kept is dropped (their hashes: 2 MiB). */
#define KEPT_READ_MAX ((size_t)1 << 16)

/*
 * Brings lk up to the end of the log (outside a transaction). Started at
 * the latest trusted checkpoint with its stored range (checked against its
 * root); *usable false on a line whose checkpoints predate the signed
 * index or whose range cannot be used.
 */
static int kept_advance(bool *usable, lsec_audit__lookups *lk, lsec_store *st,
			lsec_audit_signer *signer, lsec_err *err)
{
	int rc = 0;
	struct scan s;
	uint64_t to = 0;
	*usable = false;
	if (!lk->started) {
		lsec_audit_checkpoint cp;
		bool found = false;
		bool ranged = false;
		LSEC_TRY(lsec_audit__trusted_range(&cp, &found, &lk->base, &ranged, st, signer,
						   err));
		if (found && (!cp.has_index || !ranged)) {
			goto out;
		}
		lk->to = lk->base.size;
		lk->started = true;
	}
	memset(&s, 0, sizeof(s));
	s.lk = lk;
	s.l.signer = signer;
	to = lk->to;
	LSEC_TRY(scan_run(&s, st, err));
	/* A checkpoint is signed with a leaf of its own: none new, no new checkpoint. */
	if (lk->to != to) {
		LSEC_TRY(kept_check(lk, st, signer, true, err));
	}
	if (lk->nread > KEPT_READ_MAX) {
		lsec_audit__lookups_reset(lk); /* started again from the latest checkpoint */
		goto out;
	}
	kept_trim(lk);
	*usable = true;
out:
	return rc;
}

/*
 * l's lookup answered from the lookups kept (*done true; l->arr filled),
 * or left to the complete lookup (*done false). Errors are those of the
 * complete lookup (the leaves read since are checked as its tail's are),
 * and those of a log changed under this process (kept_moved, kept_check);
 * each forgets what was kept.
 */
static int kept_lookup(bool *done, struct lookup *l, lsec_store *st, uint64_t from, lsec_err *err)
{
	int rc = 0;
	lsec_audit__lookups *lk = lsec_audit__signer_lookups(l->signer);
	bool in_tx = lsec_store_in_transaction(st), usable = lk != NULL && lk->started;
	struct kept *k = NULL;
	struct lookup full;
	struct scan s;
	*done = false;
	memset(&full, 0, sizeof(full));
	if (lk != NULL && !in_tx) {
		LSEC_TRY(kept_advance(&usable, lk, st, l->signer, err));
	}
	if (!usable) {
		goto out;
	}
	if ((k = kept_find(lk, l->key)) == NULL && !in_tx) {
		full = *l;
		full.until = lk->to;
		LSEC_ENSURE((full.arr = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
		LSEC_TRY(lookup_run(&full, st, 0, err));
		k = kept_put(lk, l->key, full.arr);
		full.arr = NULL;
	}
	if (k == NULL || k->arr == NULL) {
		goto out;
	}
	for (size_t i = 0; i < json_array_size(k->arr); i++) {
		json_t *leaf = json_array_get(k->arr, i);
		if ((uint64_t)json_integer_value(json_object_get(leaf, "seq")) >= from) {
			LSEC_TRY(lsec_json_append(l->arr, json_incref(leaf), err));
		}
	}
	if (in_tx) {
		memset(&s, 0, sizeof(s));
		s.lk = lk;
		s.l = *l;
		s.one = true;
		s.from = from;
		LSEC_TRY(scan_run(&s, st, err));
		if (s.l.next != lk->to) {
			LSEC_TRY(kept_check(lk, st, l->signer, false, err));
		}
	}
	*done = true;
out:
	if (rc < 0 && lk != NULL) {
		lsec_audit__lookups_reset(lk);
	}
	json_decref(full.arr);
	return rc;
}

/* The one lookup behind lsec_audit_unit_leaves and lsec_audit_leaves_find_from. */
static int lookup(json_t **out, lsec_store *st, lsec_store_leaf_column col, const char *name,
		  uint64_t from, lsec_err *err)
{
	int rc = 0;
	struct lookup l;
	bool done = false;
	memset(&l, 0, sizeof(l));
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	l.col = col;
	l.kind = col == LSEC_STORE_LEAF_UNIT ? "unit" : "action";
	l.name = name;
	l.until = UINT64_MAX;
	LSEC_ENSURE(lsec_audit__index_key(l.key, l.kind, name, strlen(name)) == 0, LSEC_E_USAGE,
		    "cannot look up %s '%.64s': empty or too long", l.kind, name);
	LSEC_ENSURE((l.arr = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_audit__trusted(&l.signer, st, "look up audit leaves", err));
	LSEC_TRY(kept_lookup(&done, &l, st, from, err));
	if (!done) {
		LSEC_TRY(lookup_run(&l, st, from, err));
	}
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
	struct leaf_keys k;
	(void)unit;
	LSEC_TRY(tail_next(l, seq, err));
	LSEC_TRY(tail_leaf(&k, h, l->signer, seq, leaf, len, leaf_hash, err));
	if (l->tree != NULL && seq < l->tree_to) {
		LSEC_TRY(lsec_audit_tree_append(l->tree, h, err));
	} else if (l->tail_signed && l->signer != NULL) {
		LSEC_TRY(lsec_audit__signer_sig_known(l->signer, seq, h, sig, sig_len, err));
	}
	if (names(&k, l->key)) {
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
