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

#include <string.h>

int lsec_audit_record(lsec_store *st, const lsec_audit_event *ev, uint64_t *seq_out,
		      lsec_err *err)
{
	int rc = 0;
	char *leaf = NULL;
	uint64_t seq = 0;
	uint8_t hash[32];
	if (seq_out != NULL) {
		*seq_out = 0;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(ev);
	/* Refuse a nameless event before taking the log lock. */
	LSEC_ENSURE(ev->person != NULL && ev->person[0] != 0, LSEC_E_AUDIT_NO_PERSON,
		    "cannot record event '%s': no person is named, and every event needs one",
		    ev->action != NULL ? ev->action : "(no action)");
	LSEC_TRY(lsec_store_leaf_reserve(st, &seq, err));
	LSEC_TRY(lsec_audit_leaf_build(&leaf, ev, seq, NULL, err));
	size_t len = strlen(leaf);
	LSEC_TRY(lsec_audit_leaf_hash(hash, (const uint8_t *)leaf, len, err));
	LSEC_TRY(lsec_store_leaf_put(st, seq, ev->unit, (const uint8_t *)leaf, len, hash, err));
	if (seq_out != NULL) {
		*seq_out = seq;
	}
out:
	lsec_free(leaf);
	return rc;
}
