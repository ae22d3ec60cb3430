/*
 * rma.c - returns: a returned unit is checked to be ours and genuine before
 * anything else happens to it, then reworked (its identity retired, a new
 * one issued by provisioning later) or decommissioned (decommission.c).
 *
 * Genuineness is possession of the identity the log issued to the unit and
 * did not retire (possession.c): a fresh challenge signed by the key slot
 * its keygen leaf recorded must verify under the certificate its ca.issue
 * leaf recorded. A clone that copied the UID does not hold the private key,
 * which never leaves the genuine device; a registry row swapped for another
 * unit's certificate is named, not trusted.
 *
 * @test tests/unit/station/test_decommission.c
 * @test tests/e2e/test_tamper_rma.sh
 */
#include "station/station_int.h"

#include <jansson.h>

int lsec_station_rma_evidence_json(json_t **out, const lsec_station_rma_evidence *e,
				   lsec_err *err)
{
	int rc = 0;
	json_t *o = json_pack("{s:s,s:s,s:s,s:b}", LSEC_EV_UID, e->uid, "registered-uid",
			      e->registered_uid, "target", e->target, "genuine", e->genuine);
	*out = NULL;
	LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "out of memory");
	if (e->cert_serial[0] != '\0') {
		LSEC_TRY(lsec_json_set(o, LSEC_EV_CERT_SERIAL, json_string(e->cert_serial), err));
	}
	if (e->issue_leaf > 0) {
		LSEC_TRY(lsec_json_set(o, "issue-leaf", json_integer((json_int_t)e->issue_leaf), err));
		LSEC_TRY(lsec_json_set(o, LSEC_EV_SLOT, json_integer((json_int_t)e->slot), err));
	}
	if (e->challenge_sha256[0] != '\0') {
		LSEC_TRY(lsec_json_set(o, "challenge-sha256", json_string(e->challenge_sha256), err));
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	return rc;
}

int lsec_station_rma_receive(lsec_station_rma_evidence *out, lsec_station *st,
			     const char *serial, const char *uri, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_unit unit;
	lsec_device *t = NULL;
	lsec_device_info info;
	lsec_station__identity id;
	json_t *leaves = NULL;
	lsec_err why = LSEC_ERR_INIT;
	lsec_station_rma_evidence e;
	json_t *ev = NULL;
	const char *person;
	memset(&e, 0, sizeof(e));
	memset(&id, 0, sizeof(id));
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(serial != NULL && uri != NULL, LSEC_E_USAGE,
		    "receiving a return needs the unit serial and its device (--device URI)");
	LSEC_ENSURE(strlen(uri) < sizeof(e.target), LSEC_E_USAGE,
		    "cannot receive a return at '%s': the device URI is too long", uri);
	person = st->cfg->operator_name;
	LSEC_TRY(lsec_station__unit_get_checked(&unit, NULL, st, serial, err));
	LSEC_ENSURE(unit.state == LSEC_UNIT_SHIPPED || unit.state == LSEC_UNIT_RETURNED,
		    LSEC_E_STATION_WRONG_STATE,
		    "cannot receive unit '%s' as a return: it is %s, not shipped", serial,
		    lsec_unit_state_name(unit.state));
	LSEC_TRY(lsec_device_open(&t, uri, err));
	LSEC_TRY(lsec_device_info_get(&info, t, err));
	lsec_hex_encode(e.uid, info.uid, LSEC_DEVICE_UID_LEN);
	snprintf(e.registered_uid, sizeof(e.registered_uid), "%s", unit.uid);
	snprintf(e.target, sizeof(e.target), "%s", uri);
	int verdict = 1;
	if (!lsec_station__eq(e.uid, unit.uid)) {
		lsec_err_set(&why, LSEC_E_STATION_CLONE, __FILE__, __LINE__,
			     "the device reports UID %s, the registry holds %s for unit '%s'", e.uid,
			     unit.uid, serial);
	} else {
		/* A registry that disagrees with the log gives no verdict either way. */
		LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
		LSEC_TRY(lsec_station__issued_identity(&id, st, serial, leaves, err));
		if (!id.issued) {
			lsec_err_set(&why, LSEC_E_STATION_NOT_GENUINE, __FILE__, __LINE__,
				     "the log records no live certificate issued to unit '%s'",
				     serial);
		} else {
			snprintf(e.cert_serial, sizeof(e.cert_serial), "%s", id.cert_serial);
			e.issue_leaf = id.leaf_seq;
			e.slot = id.slot;
			int prc = lsec_station__prove_identity(e.challenge_sha256, t, serial, &id,
							       &why);
			if (prc < 0 && prc != LSEC_E_STATION_NOT_GENUINE) {
				*err = why;
				LSEC_TRY(prc);
			}
			verdict = prc < 0 ? 1 : 0;
		}
	}
	e.genuine = verdict == 0;
	LSEC_TRY(lsec_station_rma_evidence_json(&ev, &e, err));
	if (verdict != 0) {
		json_object_set_new(ev, "reason", json_string(why.msg));
		lsec_err ignored = LSEC_ERR_INIT;
		(void)lsec_station__record(st, serial, "rma.receive", "not-genuine", ev, &ignored);
		LSEC_BAIL(why.code == LSEC_E_STATION_CLONE ? LSEC_E_STATION_CLONE
							   : LSEC_E_STATION_NOT_GENUINE,
			  "unit at '%s' refused as the return of '%s': %s", uri, serial, why.msg);
	}
	lsec_unit_state to = unit.state == LSEC_UNIT_SHIPPED ? LSEC_UNIT_RETURNED : unit.state;
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_UNIT_STATE, json_string(lsec_unit_state_name(to)), err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	if (to != unit.state) {
		LSEC_TRY(lsec_store_unit_transition(st->store, serial, to, 0, err));
	}
	LSEC_TRY(lsec_station__leaf(st, person, serial, "rma.receive", "genuine", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (out != NULL) {
		*out = e;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	json_decref(leaves);
	lsec_station__identity_release(&id);
	lsec_device_close(t);
	return rc;
}

int lsec_station_rma_rework(lsec_station *st, const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_unit unit;
	json_t *ev = json_object();
	const char *person;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	person = st->cfg->operator_name;
	LSEC_TRY(lsec_station__unit_get_checked(&unit, NULL, st, serial, err));
	LSEC_ENSURE(unit.state == LSEC_UNIT_RETURNED, LSEC_E_STATION_WRONG_STATE,
		    "cannot rework unit '%s': it is %s; a return is received first (linesec rma "
		    "receive)",
		    serial, lsec_unit_state_name(unit.state));
	/* The old identity is superseded: never to be issued or accepted again. */
	LSEC_TRY(lsec_station__revoke_identities(ev, st, person, serial, LSEC_CRL_SUPERSEDED, false,
						 err));
	LSEC_TRY(lsec_station__revoke_credentials(ev, st, person, serial, err));
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_UNIT_STATE,
			       json_string(lsec_unit_state_name(LSEC_UNIT_QUARANTINED)), err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_unit_transition(st->store, serial, LSEC_UNIT_QUARANTINED, 0, err));
	LSEC_TRY(lsec_station__leaf(st, person, serial, "rma.rework", "quarantined", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	return rc;
}
