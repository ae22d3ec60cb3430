/*
 * log.c - the audit log over a store: recording events, checkpoints,
 * verification of the stored log and proofs from it.
 *
 * The store keeps leaves and checkpoints as raw rows (include/linesec/
 * store.h); everything about the tree happens here.
 *
 * @test tests/unit/audit/test_log.c
 */
#include "audit/audit_int.h"

#include "linesec/store.h"

#include <jansson.h>
#include <string.h>

int lsec_audit_record(uint64_t *seq_out, lsec_store *st, const lsec_audit_event *ev,
		      lsec_err *err)
{
	int rc = 0;
	char *leaf = NULL;
	uint64_t seq = 0;
	uint8_t hash[32], sig[LSEC_AUDIT_LEAF_SIG_LEN];
	lsec_audit_signer *signer = NULL;
	if (seq_out != NULL) {
		*seq_out = 0;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(ev);
	LSEC_ENSURE((signer = lsec_audit__signer(st)) != NULL, LSEC_E_AUDIT_NO_SIGNER,
		    "cannot record event '%s': no station key is attached to the registry to sign "
		    "its leaf (the line folder has no station.key?)",
		    ev->action != NULL ? ev->action : "(no action)");
	/* Refuse a nameless event before taking the log lock. */
	LSEC_ENSURE(ev->person != NULL && ev->person[0] != 0, LSEC_E_AUDIT_NO_PERSON,
		    "cannot record event '%s': no person is named, and every event needs one",
		    ev->action != NULL ? ev->action : "(no action)");
	LSEC_TRY(lsec_store_leaf_reserve(&seq, st, err));
	LSEC_TRY(lsec_audit_leaf_build(&leaf, ev, seq, NULL, err));
	size_t len = strlen(leaf);
	LSEC_TRY(lsec_audit_leaf_hash(hash, (const uint8_t *)leaf, len, err));
	LSEC_TRY(lsec_audit__leaf_sign(sig, signer, seq, hash, err));
	LSEC_TRY(lsec_store_leaf_put(st, seq, ev->unit, (const uint8_t *)leaf, len, hash, sig,
				     sizeof(sig), err));
	lsec_audit__signer_wrote(signer, seq, hash, sig);
	if (seq_out != NULL) {
		*seq_out = seq;
	}
out:
	lsec_free(leaf);
	return rc;
}

struct append_ctx {
	uint64_t *seq_out;
	const lsec_audit_event *ev;
};

static int append_body(void *ctx, lsec_store *st, lsec_err *err)
{
	struct append_ctx *a = ctx;
	return lsec_audit_record(a->seq_out, st, a->ev, err);
}

int lsec_audit_append(uint64_t *seq_out, lsec_store *st, const lsec_audit_event *ev,
		      lsec_err *err)
{
	int rc = 0;
	struct append_ctx a = {seq_out, ev};
	if (seq_out != NULL) {
		*seq_out = 0;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(!lsec_store_in_transaction(st), LSEC_E_STATE,
		    "cannot append to the audit log: a transaction is open (record inside it)");
	/* A transaction PostgreSQL undid for another station's is run again. */
	rc = lsec_store_tx_run(st, false, append_body, &a, err);
out:
	if (rc < 0 && seq_out != NULL) {
		*seq_out = 0;
	}
	return rc;
}

/* ---- the store as a source of leaf hashes ------------------------------ */

struct store_src {
	lsec_audit_hash_cb cb;
	void *cb_ctx;
};

static int store_leaf_hash(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf,
			   size_t len, const uint8_t hash[32], const uint8_t *sig, size_t sig_len,
			   lsec_err *err)
{
	struct store_src *s = ctx;
	(void)unit;
	(void)leaf;
	(void)len;
	(void)sig;
	(void)sig_len;
	return s->cb(s->cb_ctx, seq, hash, err);
}

/* lsec_audit_source over a store's stored leaf hashes (src is the store). */
static int store_source(void *src, uint64_t from, uint64_t to, lsec_audit_hash_cb cb,
			void *cb_ctx, lsec_err *err)
{
	struct store_src s = {cb, cb_ctx};
	return lsec_store_leaf_foreach(src, from, to, store_leaf_hash, &s, err);
}

/* ---- checkpoints as the store keeps them ------------------------------- */

struct cp_row {
	uint64_t id;
	uint64_t size;
	uint8_t root[32];
};

struct cp_rows {
	struct cp_row *v;
	size_t n, cap;
	const char *key_name;
	const struct evp_pkey_st *const *pubs;
	size_t npubs;
	char *last_note; /* the latest note (lsec_free) */
};

static int cp_row_cb(void *ctx, uint64_t id, uint64_t tree_size, const uint8_t root[32],
		     const char *note, lsec_err *err)
{
	int rc = 0;
	struct cp_rows *r = ctx;
	lsec_audit_checkpoint cp;
	lsec_err e = LSEC_ERR_INIT;
	rc = lsec_audit_checkpoint_verify_keys(&cp, note, strlen(note), r->key_name, r->pubs,
					      r->npubs, &e);
	if (rc < 0) {
		LSEC_BAIL(rc, "checkpoint %llu is bad: %s", (unsigned long long)id, e.msg);
	}
	LSEC_ENSURE(cp.size == tree_size && lsec_ct_equal(cp.root, root, 32), LSEC_E_AUDIT_ROOT,
		    "checkpoint %llu is bad: its stored size or root differs from its signed note",
		    (unsigned long long)id);
	LSEC_ENSURE(r->n == 0 || r->v[r->n - 1].size <= tree_size, LSEC_E_AUDIT_ORDER,
		    "checkpoint %llu is bad: it covers %llu leaves, fewer than checkpoint %llu "
		    "before it (%llu)",
		    (unsigned long long)id, (unsigned long long)tree_size,
		    (unsigned long long)r->v[r->n > 0 ? r->n - 1 : 0].id,
		    (unsigned long long)r->v[r->n > 0 ? r->n - 1 : 0].size);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct cp_row *nv = lsec_realloc(r->v, cap * sizeof(*nv));
		LSEC_ENSURE(nv != NULL, LSEC_E_NOMEM, "cannot read checkpoints: out of memory");
		r->v = nv;
		r->cap = cap;
	}
	r->v[r->n].id = id;
	r->v[r->n].size = tree_size;
	memcpy(r->v[r->n].root, root, 32);
	r->n++;
	lsec_free(r->last_note);
	LSEC_ENSURE((r->last_note = lsec_strdup(note)) != NULL, LSEC_E_NOMEM,
		    "cannot read checkpoints: out of memory");
out:
	return rc;
}

static void cp_rows_release(struct cp_rows *r)
{
	lsec_free(r->v);
	lsec_free(r->last_note);
	memset(r, 0, sizeof(*r));
}

/* ---- walking the stored leaves ----------------------------------------- */

/*
 * The walk over stored leaves that both checkpointing and verification do:
 * no gaps, each leaf's bytes against its stored hash, the station signature
 * of each leaf from sig_from on (when keys is set), the root at
 * anchor->size (when anchor is set), and (full) each leaf's "seq" against
 * its position, "checkpoint" leaves against the checkpoint rows in order,
 * and checkpoint roots against the tree.
 */
struct walk {
	lsec_audit_tree tree;
	lsec_audit__keyring *keys; /* NULL: signatures are not checked */
	lsec_audit_signer *signer; /* checkpoints: keys is its keyring, each signature checked once */
	const char *origin;        /* the log the signatures are for */
	uint64_t sig_from;
	const lsec_audit_checkpoint *anchor; /* a trusted checkpoint the leaves must match */
	bool full;
	const struct cp_rows *rows; /* full only */
	size_t root_row;            /* next row whose root is due */
	size_t leaf_row;            /* next row a checkpoint leaf must match */
	const lsec_audit_checkpoint *against;
	bool against_done;
	lsec_buf *nodes; /* NULL, or where completed subtrees are collected (node_rec) */
	lsec_buf *pending; /* NULL, or the index keys of leaves from index_from on (pending_add) */
	uint64_t index_from;
};

/* A completed subtree as the walk collects it, to be stored under the log lock. */
struct node_rec {
	uint64_t index;
	unsigned level;
	uint8_t hash[32];
};

static int collect_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32],
			lsec_err *err)
{
	struct node_rec r;
	memset(&r, 0, sizeof(r));
	r.index = index;
	r.level = level;
	memcpy(r.hash, hash, 32);
	return lsec_buf_append(ctx, (const uint8_t *)&r, sizeof(r), err);
}

/* Stores the collected subtrees (inside the caller's transaction). */
static int nodes_store(lsec_store *st, const lsec_buf *nodes, lsec_err *err)
{
	int rc = 0;
	struct node_rec r;
	for (size_t off = 0; off + sizeof(r) <= nodes->len; off += sizeof(r)) {
		memcpy(&r, nodes->data + off, sizeof(r));
		LSEC_TRY(lsec_store_node_put(st, r.level, r.index, r.hash, err));
	}
out:
	return rc;
}

/* Checks every checkpoint (and the exported one) of the current tree size. */
static int check_roots(struct walk *w, lsec_err *err)
{
	int rc = 0;
	uint8_t root[32];
	bool have = false;
	while (w->rows != NULL && w->root_row < w->rows->n &&
	       w->rows->v[w->root_row].size == w->tree.size) {
		const struct cp_row *r = &w->rows->v[w->root_row];
		if (!have) {
			LSEC_TRY(lsec_audit_tree_root(root, &w->tree, err));
			have = true;
		}
		LSEC_ENSURE(lsec_ct_equal(root, r->root, 32), LSEC_E_AUDIT_ROOT,
			    "checkpoint %llu is bad: its signed root of %llu leaves differs from the "
			    "stored leaves (one before leaf %llu was changed)",
			    (unsigned long long)r->id, (unsigned long long)r->size,
			    (unsigned long long)r->size);
		w->root_row++;
	}
	if (w->against != NULL && !w->against_done && w->against->size == w->tree.size) {
		if (!have) {
			LSEC_TRY(lsec_audit_tree_root(root, &w->tree, err));
		}
		LSEC_ENSURE(lsec_ct_equal(root, w->against->root, 32), LSEC_E_AUDIT_ROOT,
			    "the exported checkpoint of %llu leaves differs from the stored leaves: "
			    "the log was rewritten",
			    (unsigned long long)w->against->size);
		w->against_done = true;
	}
out:
	return rc;
}

/* A "checkpoint" leaf must record the next checkpoint row: same size and root. */
static int check_cp_leaf(struct walk *w, uint64_t seq, const json_t *evd, lsec_err *err)
{
	int rc = 0;
	uint8_t root[32];
	const json_t *size = json_object_get(evd, "tree_size");
	const json_t *hex = json_object_get(evd, "root");
	LSEC_ENSURE(json_is_integer(size) && json_integer_value(size) == (json_int_t)seq &&
			    json_is_string(hex) && json_string_length(hex) == 64 &&
			    lsec_hex_decode_fixed(root, 32, json_string_value(hex), "root", err) == 0,
		    LSEC_E_AUDIT_LEAF_HASH,
		    "leaf %llu is bad: a checkpoint leaf must name its own position as tree_size "
		    "and a root",
		    (unsigned long long)seq);
	LSEC_ENSURE(w->leaf_row < w->rows->n, LSEC_E_AUDIT_ORDER,
		    "leaf %llu records a checkpoint of %llu leaves that is not stored (a checkpoint "
		    "was deleted)",
		    (unsigned long long)seq, (unsigned long long)seq);
	const struct cp_row *r = &w->rows->v[w->leaf_row];
	LSEC_ENSURE(r->size == seq && lsec_ct_equal(r->root, root, 32), LSEC_E_AUDIT_ORDER,
		    "checkpoint %llu is bad: leaf %llu records a checkpoint of %llu leaves in its "
		    "place (a checkpoint was deleted, inserted or moved)",
		    (unsigned long long)r->id, (unsigned long long)seq, (unsigned long long)seq);
	w->leaf_row++;
out:
	return rc;
}

/* The leaf's seq, and the registry's index columns (unit, action) against what it names. */
static int check_leaf_json(struct walk *w, uint64_t seq, const char *unit, const char *action,
			   const uint8_t *leaf, size_t len, lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL;
	lsec_err e = LSEC_ERR_INIT;
	lsec_audit__leaf_fields f;
	/* The fast path: most leaves need only their seq, unit and action checked. */
	if (lsec_audit__leaf_scan(&f, leaf, len) && !f.checkpoint) {
		LSEC_ENSURE(f.seq == seq, LSEC_E_AUDIT_LEAF_HASH,
			    "leaf %llu is bad: it says it is leaf %lld (leaves were moved or inserted)",
			    (unsigned long long)seq, (long long)f.seq);
		LSEC_TRY(lsec_audit__unit_check(seq, unit, (const char *)f.unit, f.unit_len, err));
		rc = lsec_audit__action_check(seq, action, (const char *)f.action, f.action_len,
					      err);
		goto out;
	}
	if (lsec_json_parse(&j, (const char *)leaf, len, "leaf", &e) < 0) {
		LSEC_BAIL(LSEC_E_AUDIT_LEAF_HASH, "leaf %llu is bad: %s", (unsigned long long)seq,
			  e.msg);
	}
	const json_t *s = json_object_get(j, "seq");
	LSEC_ENSURE(json_is_integer(s) && json_integer_value(s) == (json_int_t)seq,
		    LSEC_E_AUDIT_LEAF_HASH,
		    "leaf %llu is bad: it says it is leaf %lld (leaves were moved or inserted)",
		    (unsigned long long)seq, json_is_integer(s) ? (long long)json_integer_value(s) : -1);
	const char *named = json_string_value(json_object_get(j, "unit"));
	LSEC_TRY(lsec_audit__unit_check(seq, unit, named, named != NULL ? strlen(named) : 0, err));
	const char *act = json_string_value(json_object_get(j, "action"));
	LSEC_TRY(lsec_audit__action_check(seq, action, act, act != NULL ? strlen(act) : 0, err));
	if (act != NULL && strcmp(act, "checkpoint") == 0) { /* lint:ok: public text */
		LSEC_TRY(check_cp_leaf(w, seq, json_object_get(j, "evidence"), err));
	}
out:
	json_decref(j);
	return rc;
}

/* At the anchor's size the tree must have the anchor's root. */
static int check_anchor(struct walk *w, lsec_err *err)
{
	int rc = 0;
	uint8_t root[32];
	if (w->anchor == NULL || w->anchor->size != w->tree.size) {
		goto out;
	}
	LSEC_TRY(lsec_audit_tree_root(root, &w->tree, err));
	LSEC_ENSURE(lsec_ct_equal(root, w->anchor->root, 32), LSEC_E_AUDIT_ROOT,
		    "the latest signed checkpoint (%llu leaves) differs from the stored leaves: the "
		    "log was rewritten (run 'linesec audit verify')",
		    (unsigned long long)w->anchor->size);
out:
	return rc;
}

/* A leaf's index keys, kept as seq (8) || hash (32) || key length (2) || key. */
static int pending_add(lsec_buf *p, uint64_t seq, const uint8_t hash[32], const uint8_t *leaf,
		       size_t len, lsec_err *err)
{
	int rc = 0;
	char keys[LSEC_AUDIT__INDEX_KEYS][LSEC_STORE_INDEX_KEY_MAX + 1];
	size_t n = lsec_audit__index_leaf_keys(keys, leaf, len);
	for (size_t i = 0; i < n; i++) {
		uint16_t kl = (uint16_t)strlen(keys[i]);
		LSEC_TRY(lsec_buf_append(p, &seq, sizeof(seq), err));
		LSEC_TRY(lsec_buf_append(p, hash, 32, err));
		LSEC_TRY(lsec_buf_append(p, &kl, sizeof(kl), err));
		LSEC_TRY(lsec_buf_append(p, keys[i], kl, err));
	}
out:
	return rc;
}

/* Adds the pending keys of leaves from from on to the index x. */
static int pending_apply(lsec_audit__index *x, lsec_store *st, const lsec_buf *p, uint64_t from,
			 lsec_err *err)
{
	int rc = 0;
	char key[LSEC_STORE_INDEX_KEY_MAX + 1];
	uint64_t seq;
	uint16_t kl;
	for (size_t off = 0; off < p->len;) {
		memcpy(&seq, p->data + off, sizeof(seq));
		const uint8_t *hash = p->data + off + sizeof(seq);
		memcpy(&kl, hash + 32, sizeof(kl));
		memcpy(key, hash + 32 + sizeof(kl), kl);
		key[kl] = '\0';
		off += sizeof(seq) + 32 + sizeof(kl) + kl;
		if (seq >= from) {
			LSEC_TRY(lsec_audit__index_add(x, st, key, seq, hash, err));
		}
	}
out:
	return rc;
}

static int walk_cb(void *ctx, uint64_t seq, const char *unit, const char *action,
		   const uint8_t *leaf, size_t len, const uint8_t stored[32], const uint8_t *sig,
		   size_t sig_len, lsec_err *err)
{
	int rc = 0;
	struct walk *w = ctx;
	uint8_t h[32];
	LSEC_ENSURE(seq == w->tree.size, LSEC_E_AUDIT_LEAF_HASH,
		    "leaf %llu is missing (the next stored leaf is %llu)",
		    (unsigned long long)w->tree.size, (unsigned long long)seq);
	if (w->full) {
		LSEC_TRY(check_roots(w, err));
	}
	LSEC_TRY(check_anchor(w, err));
	LSEC_TRY(lsec_audit_leaf_hash(h, leaf, len, err));
	LSEC_ENSURE(lsec_ct_equal(h, stored, 32), LSEC_E_AUDIT_LEAF_HASH,
		    "leaf %llu is bad: its bytes do not match its stored hash",
		    (unsigned long long)seq);
	if (w->full) {
		LSEC_TRY(check_leaf_json(w, seq, unit, action, leaf, len, err));
	}
	if (w->signer != NULL && seq >= w->sig_from) {
		LSEC_TRY(lsec_audit__signer_sig_check(w->signer, seq, h, sig, sig_len, err));
	} else if (w->keys != NULL && seq >= w->sig_from) {
		LSEC_TRY(lsec_audit__leaf_sig_check(w->keys, w->origin, seq, h, sig, sig_len, err));
	}
	if (w->pending != NULL && seq >= w->index_from) {
		LSEC_TRY(pending_add(w->pending, seq, h, leaf, len, err));
	}
	LSEC_TRY(lsec_audit__tree_append_nodes(&w->tree, h, w->nodes != NULL ? collect_node : NULL,
					       w->nodes, err));
out:
	return rc;
}

static int walk_leaves(struct walk *w, lsec_store *st, uint64_t from, uint64_t to, lsec_err *err)
{
	return lsec_store_leaf_foreach_indexed(st, from, to, walk_cb, w, err);
}

/* ---- checkpoint, verify, prove ----------------------------------------- */

int lsec_audit_origin(char *out, size_t size, const char *line_id, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(line_id);
	int n = snprintf(out, size, "linesec/%s", line_id);
	LSEC_ENSURE(n > 0 && (size_t)n < size, LSEC_E_USAGE,
		    "cannot name the log of line '%.64s': the line id is too long", line_id);
out:
	return rc;
}

/*
 * Verifies note under the key of kr that counts for a checkpoint of its size
 * (lsec_audit__key_checkpoints); *at: that key's entry. LSEC_E_AUDIT_SIGNATURE
 * when there is none, LSEC_E_AUDIT_NOTE for a malformed note.
 */
static int note_verify_trusted(lsec_audit_checkpoint *out, size_t *at,
			       const lsec_audit__keyring *kr, const char *note, size_t len,
			       lsec_err *err)
{
	int rc = 0;
	*at = kr->n;
	for (size_t i = 0; i < kr->n && *at == kr->n; i++) {
		lsec_err e = LSEC_ERR_INIT;
		rc = lsec_audit_checkpoint_verify(out, note, len, NULL, kr->k[i].pub, &e);
		if (rc != LSEC_E_AUDIT_SIGNATURE) {
			if (rc < 0) {
				*err = e;
				goto out;
			}
			*at = lsec_audit__key_checkpoints(&kr->k[i], out->size) ? i : kr->n;
		}
	}
	LSEC_ENSURE(*at < kr->n, LSEC_E_AUDIT_SIGNATURE,
		    "cannot verify the latest checkpoint: no signature by any of the %zu station "
		    "keys trusted at its size",
		    kr->n);
out:
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/*
 * Where a checkpoint starts (docs/audit-log.md, "Incremental verification"):
 * the compact range this signer made its last checkpoint over in this
 * process, or the range stored with the latest checkpoint when that note
 * verifies under a key of the signer's keyring trusted at its size
 * (lsec_audit__key_checkpoints), names origin, and the
 * range hashes to its size and root, whichever covers more. Everything
 * in *start was hashed from the leaves' bytes and signature-checked when
 * it was made. A stored range that is missing or does not match its note
 * is not an error: the walk then starts earlier (at worst at leaf 0) and
 * recomputes it. *anchored: the latest trusted note (*anchor) when its range
 * was not usable; its leaves need no signature check, but the walk checks
 * its root on the way, as before ranges were kept. *noted: the walk's
 * leaves from anchor->size on are new to the index anchor's note commits
 * (anchored, or the stored range was used); else they are new from
 * start->size on to the signer's own last index.
 */
static int trusted_start(lsec_audit_tree *start, lsec_audit_checkpoint *anchor, bool *anchored,
			 bool *noted, lsec_store *st, const char *origin,
			 lsec_audit_signer *signer, lsec_err *err)
{
	int rc = 0;
	uint64_t size = 0;
	uint8_t root[32], tree_root[32];
	lsec_buf note = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX + 1);
	lsec_buf range = LSEC_BUF_INIT(LSEC_AUDIT__RANGE_MAX);
	lsec_audit__keyring *kr = lsec_audit__signer_keyring(signer);
	size_t at = 0;
	lsec_audit_tree stored;
	lsec_err e = LSEC_ERR_INIT;
	*anchored = false;
	*noted = false;
	*start = *lsec_audit__signer_verified(signer);
	rc = lsec_store_checkpoint_latest(&size, root, &note, &range, st, &e);
	if (rc == LSEC_E_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		*err = e;
		goto out;
	}
	if (note_verify_trusted(anchor, &at, kr, (const char *)note.data, note.len, &e) < 0 ||
	    strcmp(anchor->origin, origin) != 0 /* lint:ok: public text */ ||
	    anchor->size <= start->size) {
		goto out;
	}
	if (range.len > 0 && lsec_audit__tree_decode(&stored, range.data, range.len, &e) == 0 &&
	    stored.size == anchor->size && lsec_audit_tree_root(tree_root, &stored, &e) == 0 &&
	    lsec_ct_equal(tree_root, anchor->root, 32)) {
		*start = stored;
		*noted = true;
		goto out;
	}
	*anchored = true;
	*noted = true;
out:
	lsec_buf_release(&note);
	lsec_buf_release(&range);
	return rc;
}

/* Most subtree records one checkpoint collects: one per leaf it walks, 1 GiB at most. */
#define NODES_MAX ((size_t)1 << 30)

int lsec_audit_checkpoint_create(char **note_out, lsec_store *st, const char *line_id,
				 const char *key_name, const struct evp_pkey_st *key,
				 const char *person, lsec_err *err)
{
	int rc = 0;
	struct walk w;
	uint64_t size = 0;
	char *note = NULL, hex[65];
	json_t *evd = NULL;
	lsec_audit_checkpoint cp, anchor;
	bool anchored = false;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_audit_signer *signer = NULL;
	lsec_buf nodes = LSEC_BUF_INIT(NODES_MAX);
	lsec_buf pending = LSEC_BUF_INIT(NODES_MAX);
	lsec_audit__index *x = NULL;
	bool noted = false, has_index = true;
	uint8_t index_root[32];
	uint8_t range[LSEC_AUDIT__RANGE_MAX];
	size_t range_len = 0;
	char origin[sizeof(cp.origin)];
	if (note_out != NULL) {
		*note_out = NULL;
	}
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_audit_origin(origin, sizeof(origin), line_id, err));
	LSEC_ENSURE((signer = lsec_audit__signer(st)) != NULL, LSEC_E_AUDIT_NO_SIGNER,
		    "cannot make checkpoint: no station key is attached to the registry");
	LSEC_ENSURE(strcmp(lsec_audit__signer_origin(signer), origin) == 0, /* lint:ok: public */
		    LSEC_E_USAGE, "cannot make checkpoint of log '%s': the station signs leaves of '%s'",
		    origin, lsec_audit__signer_origin(signer));
	memset(&w, 0, sizeof(w));
	/* No leaf is covered before its station signature is checked. */
	w.keys = lsec_audit__signer_keyring(signer);
	w.signer = signer;
	w.origin = origin;
	w.nodes = &nodes;
	LSEC_TRY(trusted_start(&w.tree, &anchor, &anchored, &noted, st, origin, signer, err));
	w.sig_from = w.tree.size;
	if (anchored) {
		w.anchor = &anchor;
		w.sig_from = anchor.size;
	}
	/* The signed index the new leaves are added to: each bucket they touch
	 * is checked against its trusted root before it changes. A log whose
	 * trusted checkpoint commits no index (made before it existed) gets none. */
	if (noted) {
		has_index = anchor.has_index;
		memcpy(index_root, anchor.index_root, 32);
		w.index_from = anchor.size;
	} else if (w.tree.size == 0) {
		LSEC_TRY(lsec_audit__index_empty_root(index_root, err));
	} else {
		memcpy(index_root, lsec_audit__signer_index(signer), 32);
		has_index = !lsec_ct_equal(index_root, (const uint8_t[32]){0}, 32);
		w.index_from = w.tree.size;
	}
	if (has_index) {
		w.pending = &pending;
	}
	/* Hash what is there without the lock, then catch up under it (no
	 * COUNT(*): its cost grows with the log). */
	LSEC_TRY(walk_leaves(&w, st, w.tree.size, UINT64_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_leaf_reserve(&size, st, err));
	LSEC_ENSURE(size >= w.tree.size, LSEC_E_AUDIT_TRUNCATED,
		    "cannot make checkpoint: the log has %llu leaves but %llu were verified before "
		    "(leaves were deleted)",
		    (unsigned long long)size, (unsigned long long)w.tree.size);
	LSEC_TRY(walk_leaves(&w, st, w.tree.size, size, err));
	LSEC_ENSURE(w.tree.size == size, LSEC_E_AUDIT_LEAF_HASH,
		    "cannot make checkpoint: the log has %llu leaves, %llu were read",
		    (unsigned long long)size, (unsigned long long)w.tree.size);
	LSEC_ENSURE(!anchored || anchor.size <= size, LSEC_E_AUDIT_TRUNCATED,
		    "cannot make checkpoint: the latest signed checkpoint covers %llu leaves but the "
		    "log has %llu (leaves were deleted)",
		    (unsigned long long)anchor.size, (unsigned long long)size);
	LSEC_TRY(check_anchor(&w, err));
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
	cp.size = size;
	LSEC_TRY(lsec_audit_tree_root(cp.root, &w.tree, err));
	if (has_index) {
		/* Under the lock: the index rows are those of the latest checkpoint,
		 * which another station may have signed since this walk began. */
		lsec_audit_checkpoint latest;
		bool found = false;
		lsec_err e = LSEC_ERR_INIT;
		if (lsec_audit__trusted_latest(&latest, &found, st, signer, &e) == 0 && found &&
		    latest.has_index && latest.size > w.index_from && latest.size <= size) {
			memcpy(index_root, latest.index_root, 32);
			w.index_from = latest.size;
		}
		LSEC_TRY(lsec_audit__index_new(&x, index_root, w.index_from, err));
		LSEC_TRY(pending_apply(x, st, &pending, w.index_from, err));
		LSEC_TRY(lsec_audit__index_commit(cp.index_root, x, st, err));
		cp.has_index = true;
	}
	LSEC_TRY(lsec_audit_checkpoint_sign(&note, &cp, key_name, key, err));
	lsec_hex_encode(hex, cp.root, 32);
	evd = json_pack("{s:I,s:s}", "tree_size", (json_int_t)size, "root", hex);
	LSEC_ENSURE(evd != NULL, LSEC_E_NOMEM, "cannot make checkpoint: out of memory");
	lsec_audit_event ev = {.person = person, .station = key_name, .action = "checkpoint",
			       .outcome = "signed", .evidence = evd};
	LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
	lsec_audit__tree_encode(range, &range_len, &w.tree);
	LSEC_TRY(lsec_store_checkpoint_put(st, size, cp.root, note, range, range_len, err));
	LSEC_TRY(nodes_store(st, &nodes, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	/* Only a committed checkpoint is remembered. */
	*lsec_audit__signer_verified(signer) = w.tree;
	memcpy(lsec_audit__signer_index(signer), cp.index_root, 32);
	if (note_out != NULL) {
		*note_out = note;
		note = NULL;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(evd);
	lsec_free(note);
	lsec_buf_release(&nodes);
	lsec_buf_release(&pending);
	lsec_audit__index_free(x);
	return rc;
}

int lsec_audit__trusted_latest(lsec_audit_checkpoint *out, bool *found, lsec_store *st,
			       lsec_audit_signer *s, lsec_err *err)
{
	int rc = 0;
	uint64_t size = 0;
	size_t at = 0;
	uint8_t root[32], nh[32];
	lsec_buf note = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX + 1);
	lsec_audit__keyring *kr = lsec_audit__signer_keyring(s);
	lsec_err e = LSEC_ERR_INIT;
	memset(out, 0, sizeof(*out));
	*found = false;
	rc = lsec_store_checkpoint_latest(&size, root, &note, NULL, st, &e);
	if (rc == LSEC_E_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		*err = e;
		goto out;
	}
	LSEC_TRY(lsec_sha256(nh, note.data, note.len, err));
	if (!lsec_audit__signer_note_seen(out, s, nh)) {
		LSEC_TRY(note_verify_trusted(out, &at, kr, (const char *)note.data, note.len, err));
		lsec_audit__signer_note_saw(s, nh, out, at);
	}
	LSEC_ENSURE(strcmp(out->origin, lsec_audit__signer_origin(s)) == 0, /* lint:ok: public */
		    LSEC_E_AUDIT_SIGNATURE,
		    "the latest checkpoint in the registry is of log '%s', not '%s'", out->origin,
		    lsec_audit__signer_origin(s));
	*found = true;
out:
	lsec_buf_release(&note);
	return rc;
}

static int verify_log(lsec_audit_verify_report *out, lsec_store *st, const char *line_id,
		      const char *key_name, const struct evp_pkey_st *const *pubs, size_t npubs,
		      const lsec_audit_checkpoint *since, const char *against, size_t against_len,
		      lsec_err *err);

int lsec_audit_verify(lsec_audit_verify_report *out, lsec_store *st, const char *line_id,
		      const char *key_name, const struct evp_pkey_st *pub, const char *against,
		      size_t against_len, lsec_err *err)
{
	return verify_log(out, st, line_id, key_name, &pub, pub != NULL ? 1 : 0, NULL, against,
			  against_len, err);
}

int lsec_audit_verify_keys(lsec_audit_verify_report *out, lsec_store *st, const char *line_id,
			   const struct evp_pkey_st *const *pubs, size_t npubs, const char *against,
			   size_t against_len, lsec_err *err)
{
	return verify_log(out, st, line_id, NULL, pubs, npubs, NULL, against, against_len, err);
}

int lsec_audit_verify_since(lsec_audit_verify_report *out, lsec_store *st, const char *line_id,
			    const struct evp_pkey_st *const *pubs, size_t npubs,
			    const lsec_audit_checkpoint *since, const char *against,
			    size_t against_len, lsec_err *err)
{
	return verify_log(out, st, line_id, NULL, pubs, npubs, since, against, against_len, err);
}

static int verify_log(lsec_audit_verify_report *out, lsec_store *st, const char *line_id,
		      const char *key_name, const struct evp_pkey_st *const *pubs, size_t npubs,
		      const lsec_audit_checkpoint *since, const char *against, size_t against_len,
		      lsec_err *err)
{
	int rc = 0;
	struct cp_rows rows = {.key_name = key_name, .pubs = pubs, .npubs = npubs};
	struct walk w;
	lsec_audit_checkpoint exported;
	lsec_audit__keyring *keys = NULL;
	char origin[sizeof(exported.origin)];
	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(npubs > 0 && pubs != NULL, LSEC_E_USAGE,
		    "cannot verify the audit log: no station public key given");
	LSEC_TRY(lsec_audit_origin(origin, sizeof(origin), line_id, err));
	LSEC_ENSURE((keys = lsec_calloc(1, sizeof(*keys))) != NULL, LSEC_E_NOMEM,
		    "cannot verify the audit log: out of memory");
	for (size_t i = 0; i < npubs; i++) {
		LSEC_TRY(lsec_audit__keyring_add(keys, key_name, pubs[i], err));
	}
	lsec_audit__keyring_bounds(keys, st);
	LSEC_TRY(lsec_store_checkpoint_foreach(st, cp_row_cb, &rows, err));
	if (against != NULL) {
		lsec_err e = LSEC_ERR_INIT;
		rc = lsec_audit_checkpoint_verify_keys(&exported, against, against_len, key_name, pubs,
						       npubs, &e);
		if (rc < 0) {
			LSEC_BAIL(rc, "the exported checkpoint is bad: %s", e.msg);
		}
		w.against = &exported;
	}
	lsec_audit_tree_init(&w.tree);
	w.full = true;
	w.rows = &rows;
	w.keys = keys;
	w.origin = origin;
	if (since != NULL) {
		/* Leaves verified before are hashed again, not signature-checked again. */
		w.anchor = since;
		w.sig_from = since->size;
	}
	LSEC_TRY(walk_leaves(&w, st, 0, UINT64_MAX, err));
	LSEC_TRY(check_roots(&w, err));
	LSEC_ENSURE(since == NULL || since->size <= w.tree.size, LSEC_E_AUDIT_TRUNCATED,
		    "the log has %llu leaves but %llu verified before (leaves were deleted)",
		    (unsigned long long)w.tree.size, (unsigned long long)since->size);
	LSEC_TRY(check_anchor(&w, err));
	if (w.root_row < rows.n) {
		const struct cp_row *r = &rows.v[w.root_row];
		LSEC_BAIL(LSEC_E_AUDIT_TRUNCATED,
			  "checkpoint %llu is bad: it covers %llu leaves but the log has %llu "
			  "(leaves were deleted)",
			  (unsigned long long)r->id, (unsigned long long)r->size,
			  (unsigned long long)w.tree.size);
	}
	LSEC_ENSURE(w.against == NULL || w.against_done, LSEC_E_AUDIT_TRUNCATED,
		    "the exported checkpoint covers %llu leaves but the log has %llu (leaves were "
		    "deleted)",
		    (unsigned long long)exported.size, (unsigned long long)w.tree.size);
	LSEC_ENSURE(w.leaf_row == rows.n, LSEC_E_AUDIT_ORDER,
		    "checkpoint %llu is bad: no leaf records it (a checkpoint was inserted)",
		    (unsigned long long)(w.leaf_row < rows.n ? rows.v[w.leaf_row].id : 0));
	out->leaves = w.tree.size;
	out->checkpoints = rows.n;
	LSEC_TRY(lsec_audit_tree_root(out->root, &w.tree, err));
	if (rows.n > 0) {
		LSEC_TRY(lsec_audit_checkpoint_parse(&out->latest, rows.last_note,
						     strlen(rows.last_note), err));
		out->has_checkpoint = true;
	}
out:
	if (keys != NULL) {
		lsec_audit__keyring_release(keys);
	}
	lsec_free(keys);
	cp_rows_release(&rows);
	return rc;
}

/* lsec_audit__node_fn over a store: kept subtrees, leaf hashes at level 0. */
static int store_node(void *ctx, uint8_t out[32], unsigned level, uint64_t index, lsec_err *err)
{
	int rc = 0;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	if (level > 0) {
		return lsec_store_node_get(out, ctx, level, index, err);
	}
	LSEC_TRY(lsec_store_leaf_get(&leaf, out, NULL, ctx, index, err));
out:
	lsec_buf_release(&leaf);
	return rc;
}

/*
 * The inclusion paths of want[0..k) in a tree of size leaves: from the kept
 * subtrees (O(log n) lookups per path), or, when one is not kept (a log
 * checkpointed before they were), by streaming the stored leaf hashes.
 * Either way the caller verifies each path against the signed root.
 */
static int prove_paths(lsec_buf *paths, const uint64_t *want, size_t k, uint64_t size,
		       lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_err e = LSEC_ERR_INIT;
	for (size_t i = 0; i < k && rc == 0; i++) {
		rc = lsec_audit__inclusion_prove_nodes(&paths[i], want[i], size, store_node, st, &e);
	}
	if (rc == LSEC_E_NOTFOUND) {
		for (size_t i = 0; i < k; i++) {
			lsec_buf_reset(&paths[i]);
		}
		rc = lsec_audit__inclusion_prove_many(paths, want, k, size, store_source, st, err);
	} else if (rc < 0) {
		*err = e;
	}
	return rc;
}

int lsec_audit_prove(lsec_audit_proof **out, lsec_store *st, const char *unit, uint64_t seq,
		     lsec_err *err)
{
	int rc = 0;
	lsec_audit_proof *p = NULL;
	uint64_t *seqs = NULL, one = seq;
	size_t n = 1;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	lsec_buf note = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX + 1);
	lsec_buf *paths = NULL;
	lsec_audit_checkpoint cp;
	uint64_t size = 0;
	uint8_t root[32];
	size_t k = 0;
	lsec_err e = LSEC_ERR_INIT;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	rc = lsec_store_checkpoint_latest(&size, root, &note, NULL, st, &e);
	LSEC_ENSURE(rc != LSEC_E_NOTFOUND, LSEC_E_AUDIT_NO_CHECKPOINT,
		    "cannot prove: the log has no checkpoint yet (run 'linesec audit checkpoint')");
	if (rc < 0) {
		*err = e;
		goto out;
	}
	LSEC_TRY(lsec_buf_append(&note, (const uint8_t *)"", 1, err));
	LSEC_TRY(lsec_audit_checkpoint_parse(&cp, (const char *)note.data, note.len - 1, err));
	LSEC_ENSURE(cp.size == size && lsec_ct_equal(cp.root, root, 32), LSEC_E_AUDIT_ROOT,
		    "cannot prove: the latest checkpoint's stored size or root differs from its "
		    "signed note");
	if (unit != NULL) {
		LSEC_TRY(lsec_store_leaf_seqs_for_unit(&seqs, &n, st, unit, err));
		LSEC_ENSURE(n > 0, LSEC_E_NOTFOUND, "cannot prove unit '%s': it has no audit events",
			    unit);
		LSEC_ENSURE(seqs[0] < cp.size, LSEC_E_AUDIT_NO_CHECKPOINT,
			    "cannot prove unit '%s': its events are newer than the latest checkpoint "
			    "(run 'linesec audit checkpoint')",
			    unit);
	} else {
		LSEC_ENSURE(seq < cp.size, LSEC_E_AUDIT_NO_CHECKPOINT,
			    "cannot prove leaf %llu: the latest checkpoint covers %llu leaves (run "
			    "'linesec audit checkpoint')",
			    (unsigned long long)seq, (unsigned long long)cp.size);
	}
	LSEC_TRY(lsec_audit_proof_new(&p, (const char *)note.data, err));
	const uint64_t *want = seqs != NULL ? seqs : &one;
	while (k < n && want[k] < cp.size) {
		k++; /* seqs ascend: the rest are newer than the checkpoint */
	}
	LSEC_ENSURE((paths = lsec_calloc(k, sizeof(*paths))) != NULL, LSEC_E_NOMEM,
		    "cannot prove: out of memory");
	for (size_t i = 0; i < k; i++) {
		lsec_buf_init(&paths[i], 64 * 32);
	}
	LSEC_TRY(prove_paths(paths, want, k, cp.size, st, err));
	for (size_t i = 0; i < k; i++) {
		uint8_t h[32], stored[32];
		lsec_buf_reset(&leaf);
		LSEC_TRY(lsec_store_leaf_get(&leaf, stored, NULL, st, want[i], err));
		LSEC_TRY(lsec_audit_leaf_hash(h, leaf.data, leaf.len, err));
		LSEC_ENSURE(lsec_ct_equal(h, stored, 32), LSEC_E_AUDIT_LEAF_HASH,
			    "cannot prove leaf %llu: its bytes do not match its stored hash",
			    (unsigned long long)want[i]);
		if (unit != NULL) {
			LSEC_TRY(lsec_audit_leaf_check_unit(leaf.data, leaf.len, want[i], unit, err));
		}
		/* A proof that would not verify is never handed out. */
		LSEC_TRY(lsec_audit_inclusion_verify(h, want[i], cp.size, paths[i].data,
						     paths[i].len, cp.root, err));
		LSEC_TRY(lsec_audit_proof_add(p, want[i], leaf.data, leaf.len, paths[i].data,
					      paths[i].len, err));
	}
	*out = p;
	p = NULL;
out:
	lsec_audit_proof_free(p);
	lsec_free(seqs);
	lsec_buf_release(&leaf);
	lsec_buf_release(&note);
	for (size_t i = 0; paths != NULL && i < k; i++) {
		lsec_buf_release(&paths[i]);
	}
	lsec_free(paths);
	return rc;
}

int lsec_audit_consistency(lsec_buf *proof_out, lsec_audit_checkpoint *old_out,
			   lsec_audit_checkpoint *new_out, lsec_store *st, const char *old_note,
			   const char *new_note, const struct evp_pkey_st *pub, lsec_err *err)
{
	int rc = 0;
	uint64_t count = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(old_note);
	LSEC_ENSURE_REF(new_note);
	LSEC_TRY(lsec_audit_checkpoint_verify(old_out, old_note, strlen(old_note), NULL, pub, err));
	LSEC_TRY(lsec_audit_checkpoint_verify(new_out, new_note, strlen(new_note), NULL, pub, err));
	LSEC_ENSURE(old_out->size <= new_out->size, LSEC_E_USAGE,
		    "cannot prove consistency: the old checkpoint (%llu leaves) is larger than the "
		    "new one (%llu)",
		    (unsigned long long)old_out->size, (unsigned long long)new_out->size);
	LSEC_TRY(lsec_store_leaf_count(&count, st, err));
	LSEC_ENSURE(new_out->size <= count, LSEC_E_AUDIT_TRUNCATED,
		    "cannot prove consistency: the checkpoint covers %llu leaves but the log has "
		    "%llu (leaves were deleted)",
		    (unsigned long long)new_out->size, (unsigned long long)count);
	LSEC_TRY(lsec_audit_consistency_prove(proof_out, old_out->size, new_out->size, store_source,
					      st, err));
	LSEC_TRY(lsec_audit_consistency_verify(old_out->size, new_out->size, old_out->root,
					       new_out->root, proof_out->data, proof_out->len,
					       err));
out:
	return rc;
}
