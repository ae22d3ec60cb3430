/*
 * approvable.c - the rows of a two-officer record (a release, a product
 * key) against the leaves that record it.
 *
 * A record is submitted by a security officer (her signature is the first
 * of two) and approved by a second, distinct one. Its row and approval rows
 * are what its submit, approve (and revoke) leaves say, or nothing is done:
 * a row injected or deleted by SQL, a digest rewritten, one name approving
 * twice or a revocation cleared stops the action, naming the table, the
 * record and the leaf.
 *
 * @test tests/unit/station/test_release.c
 */
#include "station/station_int.h"

#include <jansson.h>

int lsec_station__approvable_leaves(json_t *lv[LSEC_STATION__LV_COUNT], lsec_station *st,
				    const lsec_station__approvable_kind *k, const char *name,
				    lsec_err *err)
{
	int rc = 0;
	const char *match[] = {"evidence." LSEC_EV_PRODUCT, name, NULL};
	for (int i = 0; i < LSEC_STATION__LV_COUNT; i++) {
		lv[i] = NULL;
	}
	for (int i = 0; i < LSEC_STATION__LV_COUNT; i++) {
		if (k->actions[i] == NULL) {
			lv[i] = json_array();
			LSEC_ENSURE(lv[i] != NULL, LSEC_E_NOMEM, "out of memory");
			continue;
		}
		LSEC_TRY(lsec_audit_leaves_find(&lv[i], st->store, k->actions[i],
						name != NULL ? match : NULL, err));
	}
out:
	return rc;
}

void lsec_station__approvable_leaves_free(json_t *lv[LSEC_STATION__LV_COUNT])
{
	for (int i = 0; i < LSEC_STATION__LV_COUNT; i++) {
		json_decref(lv[i]);
		lv[i] = NULL;
	}
}

int64_t lsec_station__leaf_seq(const json_t *leaf)
{
	return leaf == NULL ? -1 : (int64_t)json_integer_value(json_object_get(leaf, "seq"));
}

const char *lsec_station__leaf_ev(const json_t *leaf, const char *key)
{
	return json_string_value(json_object_get(json_object_get(leaf, "evidence"), key));
}

const json_t *lsec_station__approvable_leaf(json_t *const lv[LSEC_STATION__LV_COUNT],
					    const lsec_station__approvable_kind *k, int kind,
					    const lsec_store_approvable *a, const char *person)
{
	const char *match[] = {"evidence." LSEC_EV_PRODUCT,
			       a->name,
			       "evidence." LSEC_EV_VERSION,
			       a->version,
			       person != NULL ? "person" : NULL,
			       person,
			       NULL};
	const json_t *found = NULL, *l;
	size_t i;
	json_array_foreach (lv[kind], i, l) {
		if (lsec_audit_leaf_matches(l, k->actions[kind], match)) {
			found = l;
		}
	}
	return found;
}

int lsec_station__approvable_check(json_t *const lv[LSEC_STATION__LV_COUNT],
				   const lsec_station__approvable_kind *k,
				   const lsec_store_approvable *a, lsec_err *err)
{
	int rc = 0;
	const json_t *sub = lsec_station__approvable_leaf(lv, k, LSEC_STATION__LV_SUBMIT, a, NULL);
	const json_t *l;
	const char *by = NULL, *dg = NULL;
	size_t i;
	unsigned backed = 0;
	LSEC_ENSURE(sub != NULL, LSEC_E_AUDIT_INDEX,
		    "registry table %s holds %s %s@%s, but no %s leaf records it: "
		    "the registry was "
		    "changed outside linesec",
		    k->table, k->what, a->name, a->version, k->actions[LSEC_STATION__LV_SUBMIT]);
	by = json_string_value(json_object_get(sub, "person"));
	dg = lsec_station__leaf_ev(sub, k->digest_ev);
	LSEC_ENSURE(lsec_station__eq(dg, a->digest) && lsec_station__eq(by, a->created_by),
		    LSEC_E_AUDIT_INDEX,
		    "registry table %s: %s %s@%s has digest %.16s... by '%s', but its submission "
		    "leaf %lld recorded %.16s... by '%s': the registry was changed outside linesec",
		    k->table, k->what, a->name, a->version, a->digest, a->created_by,
		    (long long)lsec_station__leaf_seq(sub), dg ? dg : "(none)", by ? by : "(none)");
	/* Two approvals are two people: one person's name twice is never two
	 * signatures. */
	LSEC_ENSURE(a->approvers[1][0] == '\0' ||
			!lsec_station__eq(a->approvers[0], a->approvers[1]),
		    LSEC_E_AUDIT_INDEX,
		    "registry table %s approves %s %s@%s twice by '%s': the registry "
		    "was changed "
		    "outside linesec",
		    k->approvals, k->what, a->name, a->version, a->approvers[0]);
	for (unsigned j = 0; j < 2; j++) {
		const char *p = a->approvers[j];
		if (p[0] == '\0') {
			continue;
		}
		const json_t *ap =
		    lsec_station__eq(p, by)
			? sub
			: lsec_station__approvable_leaf(lv, k, LSEC_STATION__LV_APPROVE, a, p);
		LSEC_ENSURE(ap != NULL && lsec_station__eq(lsec_station__leaf_ev(ap, k->digest_ev),
							   a->digest),
			    LSEC_E_AUDIT_INDEX,
			    "registry table %s approves %s %s@%s (digest %s) by '%s', but no "
			    "approval leaf backs it: the registry was changed outside linesec",
			    k->approvals, k->what, a->name, a->version, a->digest, p);
	}
	/* Every approval leaf has its row: a deleted approval is a changed registry
	 * too. */
	json_array_foreach (lv[LSEC_STATION__LV_APPROVE], i, l) {
		const char *match[] = {"evidence." LSEC_EV_PRODUCT, a->name,
				       "evidence." LSEC_EV_VERSION, a->version, NULL};
		if (lsec_audit_leaf_matches(l, k->actions[LSEC_STATION__LV_APPROVE], match) &&
		    lsec_station__eq(lsec_station__leaf_ev(l, k->digest_ev), a->digest)) {
			backed++;
		}
	}
	LSEC_ENSURE(a->n_approvals >= backed + 1, LSEC_E_AUDIT_INDEX,
		    "registry table %s holds %u approvals of %s %s@%s, but its "
		    "leaves record %u: "
		    "the registry was changed outside linesec",
		    k->approvals, a->n_approvals, k->what, a->name, a->version, backed + 1);
	sub = lsec_station__approvable_leaf(lv, k, LSEC_STATION__LV_REVOKE, a, NULL);
	LSEC_ENSURE((sub != NULL) == (a->revoked[0] != '\0'), LSEC_E_AUDIT_INDEX,
		    sub != NULL ? "registry table %s shows %s %s@%s as not revoked, but leaf %lld "
				  "revoked it: the registry was changed outside linesec"
				: "registry table %s shows %s %s@%s as revoked, but no revocation "
				  "leaf records it (leaf %lld): the registry was changed outside "
				  "linesec",
		    k->table, k->what, a->name, a->version, (long long)lsec_station__leaf_seq(sub));
out:
	return rc;
}

int lsec_station__approvable_second(const lsec_station__approvable_kind *k,
				    const lsec_store_approvable *a, const char *person,
				    lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(!lsec_station__eq(a->created_by, person), LSEC_E_STATION_SELF_APPROVAL,
		    "cannot approve %s %s@%s: '%s' submitted it; a second security officer must "
		    "approve",
		    k->what, a->name, a->version, person);
out:
	return rc;
}
