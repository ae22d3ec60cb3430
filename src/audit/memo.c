/*
 * memo.c - what a station process already derived from a leaf's bytes.
 *
 * A lookup reads every leaf after the latest checkpoint (the tail), and a
 * station looks up many times per unit: the same rows were hashed and
 * scanned for their index keys again and again. A memo entry keeps, for
 * one position, the leaf's bytes, their SHA-256 and the index keys they
 * name. It is used only when the row read now holds the very same bytes
 * and the very same stored hash: then hashing and scanning them again
 * would give what the entry holds. A row changed in any byte (or its
 * stored hash) misses and is checked in full, as without the memo.
 *
 * Nothing here grants trust: the entry is a pure function of the bytes.
 * Each leaf's signature is still judged at every read
 * (lsec_audit__signer_sig_check, against the keys trusted now), and what a
 * lookup returns is parsed from the bytes just read.
 *
 * @test tests/unit/audit/test_find.c
 */
#include "audit/audit_int.h"

#include <string.h>

#define MEMO_SLOTS ((size_t)1 << 10) /* a tail longer than this only misses more */

struct lsec_audit__memo_entry {
	uint64_t seq;
	uint8_t hash[32];
	size_t len;
	size_t nkeys;
	const char *keys[LSEC_AUDIT__INDEX_KEYS]; /* into text, after the leaf */
	uint8_t bytes[];			  /* the leaf, then each key with its NUL */
};

struct lsec_audit__memo {
	lsec_audit__memo_entry *slot[MEMO_SLOTS];
};

int lsec_audit__memo_new(lsec_audit__memo **out)
{
	*out = lsec_calloc(1, sizeof(**out));
	return *out != NULL ? 0 : -1;
}

void lsec_audit__memo_free(lsec_audit__memo *m)
{
	if (m == NULL) {
		return;
	}
	for (size_t i = 0; i < MEMO_SLOTS; i++) {
		lsec_free(m->slot[i]);
	}
	lsec_free(m);
}

const lsec_audit__memo_entry *lsec_audit__memo_get(const lsec_audit__memo *m, uint64_t seq,
						   const uint8_t *leaf, size_t len,
						   const uint8_t stored_hash[32])
{
	const lsec_audit__memo_entry *e = m != NULL ? m->slot[seq % MEMO_SLOTS] : NULL;
	/* Leaves are public records, not secrets. */
	if (e == NULL || e->seq != seq || e->len != len ||
	    memcmp(e->bytes, leaf, len) != 0 || /* lint:ok: a public leaf */
	    !lsec_ct_equal(e->hash, stored_hash, 32)) {
		return NULL;
	}
	return e;
}

const lsec_audit__memo_entry *lsec_audit__memo_put(lsec_audit__memo *m, uint64_t seq,
						   const uint8_t *leaf, size_t len,
						   const uint8_t hash[32],
						   const char keys[][LSEC_STORE_INDEX_KEY_MAX + 1],
						   size_t nkeys)
{
	size_t text = 0;
	if (m == NULL || nkeys > LSEC_AUDIT__INDEX_KEYS) {
		return NULL;
	}
	for (size_t i = 0; i < nkeys; i++) {
		text += strlen(keys[i]) + 1;
	}
	lsec_audit__memo_entry *e = lsec_calloc(1, sizeof(*e) + len + text);
	if (e == NULL) {
		return NULL; /* nothing kept: the leaf is checked in full next time */
	}
	e->seq = seq;
	memcpy(e->hash, hash, 32);
	e->len = len;
	memcpy(e->bytes, leaf, len);
	char *p = (char *)e->bytes + len;
	for (size_t i = 0; i < nkeys; i++) {
		size_t kl = strlen(keys[i]) + 1;
		memcpy(p, keys[i], kl);
		e->keys[i] = p;
		p += kl;
	}
	e->nkeys = nkeys;
	lsec_free(m->slot[seq % MEMO_SLOTS]);
	m->slot[seq % MEMO_SLOTS] = e;
	return e;
}

const uint8_t *lsec_audit__memo_hash(const lsec_audit__memo_entry *e)
{
	return e->hash;
}

bool lsec_audit__memo_names(const lsec_audit__memo_entry *e, const char *key)
{
	for (size_t i = 0; i < e->nkeys; i++) {
		if (strcmp(e->keys[i], key) == 0) { /* lint:ok: public text */
			return true;
		}
	}
	return false;
}
