/*
 * control.c - the SOP controls the station enforces: read-and-acknowledge
 * and withdrawal.
 *
 * An acknowledgement is a person's signature that they read and understood
 * one SOP version (its SHA-256): a sop_acknowledgements row and a
 * sop.acknowledge leaf (meaning "read-and-understood"). A withdrawal takes
 * a version from every station once two security officers agreed (the
 * station's apply of a sop-withdraw change): a sop_withdrawals row and a
 * sop.withdraw leaf. Decisions read the leaves alone: a row inserted by SQL
 * acknowledges nothing, a row deleted by SQL restores nothing.
 *
 * @test tests/e2e/test_sop_ack.sh
 */
#include "sop/sop_int.h"

#include "linesec/audit.h"
#include "linesec/store.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int lsec_sop_withdrawn(bool *out, int64_t *seq_out, char *reason, size_t cap, lsec_store *st,
		       const char *name, int version, lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL;
	char ver[16];
	*out = false;
	if (seq_out != NULL) {
		*seq_out = 0;
	}
	if (reason != NULL && cap > 0) {
		reason[0] = '\0';
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	snprintf(ver, sizeof(ver), "%d", version);
	const char *match[] = {"sop", name, "sop_version", ver, NULL};
	LSEC_TRY(lsec_audit_leaves_find(&found, st, LSEC_AUDIT_SOP_WITHDRAW, match, err));
	const json_t *leaf = json_array_get(found, 0);
	if (leaf != NULL) {
		*out = true;
		if (seq_out != NULL) {
			*seq_out = (int64_t)json_integer_value(json_object_get(leaf, "seq"));
		}
		const char *why = json_string_value(
			json_object_get(json_object_get(leaf, "evidence"), LSEC_EV_REASON));
		if (reason != NULL && cap > 0) {
			snprintf(reason, cap, "%s", why != NULL ? why : "");
		}
	}
out:
	json_decref(found);
	return rc;
}

int lsec_sop_acknowledged(bool *out, lsec_store *st, const char *person, const char *name,
			  int version, const char *sha256_hex, lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL;
	char ver[16];
	*out = false;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(person);
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE_REF(sha256_hex);
	snprintf(ver, sizeof(ver), "%d", version);
	const char *match[] = {"sop",
			       name,
			       "sop_version",
			       ver,
			       "person",
			       person,
			       "evidence." LSEC_EV_SOP_SHA256,
			       sha256_hex,
			       "evidence." LSEC_EV_MEANING,
			       LSEC_MEANING_READ,
			       NULL};
	LSEC_TRY(lsec_audit_leaves_find(&found, st, LSEC_AUDIT_SOP_ACKNOWLEDGE, match, err));
	*out = json_array_size(found) > 0;
out:
	json_decref(found);
	return rc;
}

int lsec_sop_require_acknowledged(lsec_store *st, const char *person, const lsec_sop *sop,
				  lsec_err *err)
{
	int rc = 0;
	bool acked = false, row = false;
	char hex[65], ver[16];
	LSEC_ENSURE_REF(sop);
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	snprintf(ver, sizeof(ver), "%d", lsec_sop_version(sop));
	LSEC_TRY(lsec_sop_acknowledged(&acked, st, person, lsec_sop_name(sop),
				       lsec_sop_version(sop), hex, err));
	if (acked) {
		goto out;
	}
	LSEC_TRY(lsec_store_sop_ack_exists(&row, st, lsec_sop_name(sop), ver, person, err));
	LSEC_BAIL(LSEC_E_SOP_NOT_ACKNOWLEDGED,
		  "'%s' has not acknowledged SOP '%s' version %d (SHA-256 %.16s...), the approved "
		  "version: read it (linesec sop render %s) and acknowledge it with 'linesec sop ack "
		  "%s --version %d' before running it%s",
		  person, lsec_sop_name(sop), lsec_sop_version(sop), hex, lsec_sop_name(sop),
		  lsec_sop_name(sop), lsec_sop_version(sop),
		  row ? "; registry table sop_acknowledgements holds an acknowledgement that no "
			"sop.acknowledge leaf records: the registry was changed outside linesec"
		      : "");
out:
	return rc;
}

/* A leaf of a SOP control about version of SOP name, with its evidence. */
static int record(lsec_store *st, const lsec_actor *who, const char *name, int version,
		  const char *action, json_t *ev, lsec_err *err)
{
	lsec_audit_event e;
	memset(&e, 0, sizeof(e));
	e.person = who->person;
	e.station = who->station;
	e.sop = name;
	e.sop_version = version;
	e.action = action;
	e.outcome = "done";
	e.evidence = ev;
	return lsec_audit_record(NULL, st, &e, err);
}

int lsec_sop_acknowledge(int *version_out, lsec_store *st, const lsec_actor *who,
			 const char *name, int version, const char *sha256_hex, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_version_info vi;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	json_t *ev = NULL;
	bool done = false, wd = false;
	char ver[16];
	if (version_out != NULL) {
		*version_out = 0;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(who);
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE(who->person != NULL && who->person[0] != '\0', LSEC_E_AUTH,
		    "cannot acknowledge SOP '%s': no person given", name);
	LSEC_ENSURE(version >= 0, LSEC_E_USAGE, "cannot acknowledge SOP '%s': version %d", name,
		    version);
	/* The bytes as stored, checked against their digest and the leaves. */
	LSEC_TRY(lsec_sop_fetch(&sop, &vi, NULL, st, name, version, err));
	version = vi.version;
	LSEC_ENSURE(vi.approved, LSEC_E_SOP_NOT_APPROVED,
		    "cannot acknowledge SOP '%s' version %d: it is not approved (%u of 2 "
		    "approvals); only an approved version runs",
		    name, version, vi.napprovals);
	LSEC_TRY(lsec_sop_withdrawn(&wd, NULL, NULL, 0, st, name, version, err));
	LSEC_ENSURE(!wd, LSEC_E_SOP_WITHDRAWN,
		    "cannot acknowledge SOP '%s' version %d: it was withdrawn from every station",
		    name, version);
	LSEC_ENSURE(sha256_hex == NULL || strcasecmp(sha256_hex, vi.sha256_hex) == 0,
		    LSEC_E_SOP_DIGEST,
		    "cannot acknowledge SOP '%s' version %d: its SHA-256 is %s, not the %.64s read",
		    name, version, vi.sha256_hex, sha256_hex);
	LSEC_TRY(lsec_sop_acknowledged(&done, st, who->person, name, version, vi.sha256_hex, err));
	LSEC_ENSURE(!done, LSEC_E_EXISTS, "'%s' acknowledged SOP '%s' version %d already",
		    who->person, name, version);
	ev = json_pack("{s:s,s:s}", LSEC_EV_SOP_SHA256, vi.sha256_hex, LSEC_EV_MEANING,
		       LSEC_MEANING_READ);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	snprintf(ver, sizeof(ver), "%d", version);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	bool row = false;
	LSEC_TRY(lsec_store_sop_ack_exists(&row, st, name, ver, who->person, err));
	if (!row) {
		/* A row SQL put there without its leaf stays; the leaf now backs it. */
		LSEC_TRY(lsec_store_sop_ack_add(st, name, ver, vi.sha256_hex, who->person, err));
	}
	LSEC_TRY(record(st, who, name, version, LSEC_AUDIT_SOP_ACKNOWLEDGE, ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (version_out != NULL) {
		*version_out = version;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_sop_free(sop);
	return rc;
}

int lsec_sop_withdraw_record(lsec_store *st, const lsec_actor *who, const char *name,
			     int version, const char *reason, int64_t change,
			     const char *requested_by, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_version_info vi;
	json_t *ev = NULL;
	bool wd = false;
	char ver[16];
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(who);
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE(reason != NULL && reason[0] != '\0', LSEC_E_USAGE,
		    "cannot withdraw SOP '%s' version %d: give the reason", name, version);
	LSEC_ENSURE(version > 0, LSEC_E_USAGE, "cannot withdraw SOP '%s': version %d", name,
		    version);
	LSEC_TRY(lsec_sop_fetch(&sop, &vi, NULL, st, name, version, err));
	LSEC_TRY(lsec_sop_withdrawn(&wd, NULL, NULL, 0, st, name, version, err));
	LSEC_ENSURE(!wd, LSEC_E_STATE, "SOP '%s' version %d was withdrawn already", name,
		    version);
	ev = json_pack("{s:s,s:s,s:I,s:s,s:s}", LSEC_EV_SOP_SHA256, vi.sha256_hex, LSEC_EV_REASON,
		       reason, LSEC_EV_CHANGE, (json_int_t)change, LSEC_EV_REQUESTED_BY,
		       requested_by != NULL ? requested_by : "", LSEC_EV_MEANING,
		       LSEC_MEANING_WITHDRAWN);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	snprintf(ver, sizeof(ver), "%d", version);
	LSEC_TRY(lsec_store_sop_withdraw_add(st, name, ver, reason, change, who->person, err));
	LSEC_TRY(record(st, who, name, version, LSEC_AUDIT_SOP_WITHDRAW, ev, err));
out:
	json_decref(ev);
	lsec_sop_free(sop);
	return rc;
}
