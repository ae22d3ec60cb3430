/*
 * decommission.c - SOP 5: a unit taken out of service. The approved
 * decommission SOP runs through the executor (exec.c) with the actions
 * here: erase (an authenticated erase with a UID-bound token when the debug
 * port is locked), blank check, identity and credential revocation. The
 * sanitisation is named as NIST SP 800-88 Rev. 1 does: the whole flash
 * erased and every key slot emptied is "purge" (destroying the keys that
 * protect data is a cryptographic erase); physical destruction
 * (lsec_station_scrap) is "destroy". A unit that cannot be reached is
 * revoked only and stays pending destruction.
 *
 * @test tests/unit/station/test_decommission.c
 */
#include "station/station_int.h"

#include <jansson.h>

/* What one decommission run carries from step to step. */
struct lsec_station__decom {
	lsec_decom_reason reason;
	const lsec_station_decom_options *opts; /* the debug-auth key's unlock */
	bool wiped;          /* erased and blank-checked in this run */
};

static const char *const reason_names[LSEC_DECOM_REASON_COUNT] = {"failed", "returned",
								  "end-of-life", "compromised"};

const char *lsec_decom_reason_name(lsec_decom_reason r)
{
	return (unsigned)r < LSEC_DECOM_REASON_COUNT ? reason_names[r] : "unknown";
}

int lsec_decom_reason_parse(lsec_decom_reason *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, reason_names, LSEC_DECOM_REASON_COUNT, name,
				  "decommission reason", err);
	*out = (lsec_decom_reason)i;
	return rc;
}

bool lsec_station__step_applies(const lsec_station__run *r, const lsec_sop_step *s)
{
	if (s->when == LSEC_SOP_WHEN_REACHABLE && r->tgt == NULL) {
		return false;
	}
	if (s->when == LSEC_SOP_WHEN_UNREACHABLE && r->tgt != NULL) {
		return false;
	}
	/* The destruction is its own record, witnessed (lsec_station_scrap). */
	return r->decom == NULL || s->action == NULL ||
	       !lsec_station__eq(s->action->id, "scrap.record");
}

/* ---- revocation shared with returns (rma.c) ------------------------------------ */

int lsec_station__crl_publish(uint64_t *number_out, lsec_station *st, const char *person,
			      lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	lsec_buf crl = LSEC_BUF_INIT(1u << 24);
	char *dir = NULL, *path = NULL;
	lsec_crl_options o = LSEC_CRL_OPTIONS_INIT;
	lsec_actor who = {person, st->cfg->station_id};
	*number_out = 0;
	LSEC_TRY(lsec_station__ca(&ca, st, err));
	LSEC_TRY(lsec_pki_crl_recorded(&crl, NULL, number_out, false, ca, st->store, &who, &o, err));
	dir = lsec_asprintf("%s/crl", st->cfg->line_dir);
	path = lsec_asprintf("%s/crl/line.crl.pem", st->cfg->line_dir);
	LSEC_ENSURE(dir != NULL && path != NULL, LSEC_E_NOMEM, "cannot write the CRL: out of memory");
	LSEC_TRY(lsec_mkdir_p(dir, 0755, err));
	LSEC_TRY(lsec_file_write_atomic(path, crl.data, crl.len, 0644, err));
out:
	lsec_free(dir);
	lsec_free(path);
	lsec_buf_release(&crl);
	return rc;
}

/* Moves a key to state `to` with its audit leaf, in one transaction. */
static int key_state(lsec_station *st, const char *person, const lsec_store_identity *id,
		     lsec_key_state to, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	json_t *ev = json_pack("{s:s,s:s,s:s}", LSEC_EV_KEY_SHA256, id->key_fp, "from",
			       lsec_key_state_name(id->state), LSEC_EV_KEY_STATE,
			       lsec_key_state_name(to));
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_identity_set_state(st->store, id->key_fp, to, err));
	LSEC_TRY(lsec_station__leaf(st, person, id->serial, "key.state", lsec_key_state_name(to), ev,
				    err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	return rc;
}

static bool key_live(lsec_key_state s)
{
	return s == LSEC_KEY_PRE_ACTIVATION || s == LSEC_KEY_ACTIVE || s == LSEC_KEY_SUSPENDED;
}

/*
 * The certificate serial and key fingerprint an issuance leaf records;
 * false when leaf records no issuance.
 */
static bool issued(const char **serial, const char **key_fp, const json_t *leaf)
{
	const char *action = json_string_value(json_object_get(leaf, "action"));
	const json_t *e = json_object_get(leaf, "evidence");
	*serial = *key_fp = NULL;
	if (!lsec_station__eq(action, "ca.issue") &&
	    !lsec_station__eq(action, "pki.certificate.issue")) {
		return false;
	}
	*serial = json_string_value(json_object_get(e, LSEC_EV_CERT_SERIAL));
	*serial = *serial != NULL ? *serial
				  : json_string_value(json_object_get(e, LSEC_EV_OLD_CERT_SERIAL));
	*key_fp = json_string_value(json_object_get(e, LSEC_EV_KEY_SHA256));
	*key_fp = *key_fp != NULL ? *key_fp
				  : json_string_value(json_object_get(e, LSEC_EV_OLD_KEY_SHA256));
	return *serial != NULL;
}

/* Whether a leaf of the unit's records certificate cert_serial issued for key key_fp. */
static bool log_issued(const json_t *leaves, const char *cert_serial, const char *key_fp)
{
	size_t i;
	const json_t *l;
	json_array_foreach(leaves, i, l)
	{
		const char *sn, *fp;
		if (issued(&sn, &fp, l) && lsec_station__eq(sn, cert_serial) &&
		    lsec_station__eq(fp, key_fp)) {
			return true;
		}
	}
	return false;
}

/*
 * The certificate stored in an identity row is the one its columns (checked
 * against the log) name: same serial, same key. A DER copied into the row
 * from another unit would otherwise be what gets revoked.
 */
static int cert_is_row(const lsec_cert *cert, const lsec_store_identity *row, const char *unit,
		       lsec_err *err)
{
	int rc = 0;
	char sn[41], fphex[65];
	uint8_t fp[32];
	lsec_cert_serial_hex(sn, cert);
	LSEC_TRY(lsec_cert_key_fingerprint(fp, cert, err));
	lsec_hex_encode(fphex, fp, sizeof(fp));
	LSEC_ENSURE(lsec_station__eq(sn, row->cert_serial) && lsec_station__eq(fphex, row->key_fp),
		    LSEC_E_AUDIT_INDEX,
		    "cannot revoke the identities of unit '%s': registry table identities holds, "
		    "in the row of certificate %s (key %.16s), the certificate %s of key %.16s: "
		    "the registry was changed outside linesec",
		    unit, row->cert_serial, row->key_fp, sn, fphex);
out:
	return rc;
}

/*
 * The unit's identity rows are exactly the certificates its leaves say were
 * issued to it: a row the log does not back (moved or copied by SQL) and an
 * issuance with no row (deleted) both stop decommissioning before anything
 * is revoked, so a healthy unit's certificate is never put on the CRL in
 * another's name. Errors: LSEC_E_AUDIT_INDEX naming the table and the row.
 */
static int identities_match_log(lsec_station *st, const char *serial, lsec_err *err)
{
	int rc = 0;
	json_t *leaves = NULL;
	lsec_store_identity *ids = NULL;
	size_t i, n = 0;
	lsec_buf der = LSEC_BUF_INIT(1u << 16);
	lsec_cert *cert = NULL;
	const json_t *l;
	LSEC_TRY(lsec_store_identity_list(&ids, &n, st->store, serial, err));
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
	for (size_t k = 0; k < n; k++) {
		if (ids[k].cert_serial[0] != '\0') {
			lsec_store_identity row;
			lsec_buf_reset(&der);
			lsec_cert_free(cert);
			cert = NULL;
			LSEC_TRY(lsec_store_identity_get(&row, &der, st->store, ids[k].key_fp, err));
			LSEC_TRY(lsec_cert_parse(&cert, der.data, der.len, err));
			LSEC_TRY(cert_is_row(cert, &ids[k], serial, err));
		}
		LSEC_ENSURE(ids[k].cert_serial[0] == '\0' ||
				    log_issued(leaves, ids[k].cert_serial, ids[k].key_fp),
			    LSEC_E_AUDIT_INDEX,
			    "cannot revoke the identities of unit '%s': registry table identities "
			    "holds certificate %s (key %.16s) for it, but no audit leaf of the unit "
			    "records its issuance for that key: the registry was changed outside "
			    "linesec",
			    serial, ids[k].cert_serial, ids[k].key_fp);
	}
	json_array_foreach(leaves, i, l)
	{
		const char *sn, *fp;
		bool held = false;
		(void)issued(&sn, &fp, l);
		for (size_t k = 0; sn != NULL && k < n; k++) {
			held = held || lsec_station__eq(ids[k].cert_serial, sn);
		}
		LSEC_ENSURE(sn == NULL || held, LSEC_E_AUDIT_INDEX,
			    "cannot revoke the identities of unit '%s': audit leaf %lld records "
			    "certificate %s issued to it, but registry table identities holds no "
			    "such row for the unit: the registry was changed outside linesec",
			    serial, (long long)json_integer_value(json_object_get(l, "seq")), sn);
	}
out:
	lsec_cert_free(cert);
	lsec_buf_release(&der);
	lsec_free(ids);
	json_decref(leaves);
	return rc;
}

int lsec_station__revoke_identities(json_t *ev, lsec_station *st, const char *person,
				    const char *serial, lsec_crl_reason reason, bool destroyed,
				    lsec_err *err)
{
	int rc = 0;
	lsec_store_identity *ids = NULL, cur;
	size_t n = 0;
	lsec_buf der = LSEC_BUF_INIT(1u << 16);
	lsec_cert *cert = NULL;
	json_t *certs = json_array(), *keys = json_array();
	lsec_actor who = {person, st->cfg->station_id};
	bool revoked_now = false;
	LSEC_ENSURE(certs != NULL && keys != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_identity_list(&ids, &n, st->store, serial, err));
	LSEC_TRY(identities_match_log(st, serial, err));
	for (size_t i = 0; i < n; i++) {
		if (key_live(ids[i].state) && ids[i].cert_serial[0] != '\0') {
			lsec_buf_reset(&der);
			lsec_cert_free(cert);
			cert = NULL;
			LSEC_TRY(lsec_store_identity_get(&cur, &der, st->store, ids[i].key_fp, err));
			LSEC_TRY(lsec_cert_parse(&cert, der.data, der.len, err));
			LSEC_TRY(cert_is_row(cert, &ids[i], serial, err));
			LSEC_TRY(lsec_pki_revoke_recorded(st->store, &who, cert, reason, err));
			revoked_now = true;
		} else if (key_live(ids[i].state)) {
			/* A key that never got its certificate: retired all the same. */
			LSEC_TRY(key_state(st, person, &ids[i], LSEC_KEY_COMPROMISED, err));
		}
		/* SP 800-57: a key wiped from the device is destroyed; a compromise stays recorded. */
		LSEC_TRY(lsec_store_identity_get(&cur, NULL, st->store, ids[i].key_fp, err));
		if (destroyed && reason != LSEC_CRL_KEY_COMPROMISE && cur.state != LSEC_KEY_DESTROYED) {
			LSEC_TRY(key_state(st, person, &cur, LSEC_KEY_DESTROYED, err));
			LSEC_TRY(lsec_store_identity_get(&cur, NULL, st->store, ids[i].key_fp, err));
		}
		if (ids[i].cert_serial[0] != '\0') {
			json_array_append_new(certs, json_string(ids[i].cert_serial));
		}
		json_array_append_new(keys, json_pack("{s:s,s:s}", LSEC_EV_KEY_SHA256, cur.key_fp,
						      LSEC_EV_KEY_STATE,
						      lsec_key_state_name(cur.state)));
	}
	json_object_set_new(ev, "crl-reason", json_string(lsec_crl_reason_name(reason)));
	json_object_set(ev, "certificates", certs);
	json_object_set(ev, LSEC_EV_KEYS, keys);
	if (revoked_now) {
		uint64_t number = 0;
		LSEC_TRY(lsec_station__crl_publish(&number, st, person, err));
		json_object_set_new(ev, "crl-number", json_integer((json_int_t)number));
	}
out:
	json_decref(certs);
	json_decref(keys);
	lsec_cert_free(cert);
	lsec_buf_release(&der);
	lsec_free(ids);
	return rc;
}

int lsec_station__revoke_credentials(json_t *ev, lsec_station *st, const char *person,
				     const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	size_t n = 0;
	json_t *lev = NULL;
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_credential_revoke(&n, st->store, serial, err));
	lev = json_pack("{s:I}", "revoked", (json_int_t)n);
	LSEC_ENSURE(lev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_station__leaf(st, person, serial, "credential.revoke", "revoked", lev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	json_object_set_new(ev, "credentials-revoked", json_integer((json_int_t)n));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(lev);
	return rc;
}

/* ---- the actions ------------------------------------------------------------------ */

/*
 * The token of an authenticated erase, signed with the product's
 * debug-authentication key whose digest the unit's DEBUG_AUTH_KEY_DIGEST
 * fuse holds: its registry record (checked against its leaves), its private
 * half kept encrypted by the station and unlocked now. Never the firmware
 * key: the device checks the token against the debug-auth fuse only.
 */
static int debug_auth_token(lsec_buf *token, lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const lsec_station_decom_options *o = r->decom->opts;
	lsec_device_fuse_value v;
	const lsec_key *pub = NULL;
	lsec_key *priv = NULL;
	lsec_secret *pass = NULL;
	char ver[LSEC_STORE_NAME_MAX + 1], what[256], *path = NULL;
	uint8_t fp[32], challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
	LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, err));
	LSEC_ENSURE(!lsec_ct_equal(v.bytes, (uint8_t[32]){0}, 32), LSEC_E_TGT_AUTH_TOKEN,
		    "cannot erase unit '%s': its debug port is locked and it holds no "
		    "debug-authentication key digest (it was secured before its product had a "
		    "debug-authentication key): it cannot be erased, only destroyed (linesec scrap)",
		    r->serial);
	LSEC_TRY(lsec_station__ev_hex(r, "debug-auth-key-digest", v.bytes, 32, err));
	LSEC_TRY(lsec_station__debug_auth_key(&pub, ver, r->st, r->product, v.bytes, err));
	LSEC_TRY(lsec_station__ev_str(r, "debug-auth-key", ver, err));
	path = lsec_station__debug_auth_path(r->st, r->product, ver);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(o != NULL && o->debug_auth_unlock != NULL, LSEC_E_TGT_AUTH_TOKEN,
		    "cannot erase unit '%s': its debug port is locked and the authenticated erase "
		    "needs the passphrase of debug-authentication key %s@%s",
		    r->serial, r->product, ver);
	snprintf(what, sizeof(what), "passphrase of debug-authentication key %s@%s", r->product,
		 ver);
	LSEC_TRY(o->debug_auth_unlock(&pass, o->debug_auth_ctx, what, err));
	LSEC_TRY(lsec_key_load_private(&priv, path, pass, err));
	LSEC_TRY(lsec_key_fingerprint(fp, priv, err));
	LSEC_ENSURE(lsec_ct_equal(fp, v.bytes, 32), LSEC_E_AUDIT_INDEX,
		    "cannot erase unit '%s': the key file %s is not debug-authentication key "
		    "%s@%s of the registry (it was changed outside linesec)",
		    r->serial, path, r->product, ver);
	/* The device's fresh challenge makes the token good for this one erase. */
	LSEC_TRY(lsec_device_erase_challenge(challenge, r->tgt, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_ERASE_CHALLENGE, challenge, sizeof(challenge), err));
	LSEC_TRY(lsec_device_erase_token(token, r->info.uid, challenge, lsec_key_evp(priv), err));
out:
	lsec_secret_free(pass);
	lsec_key_free(priv);
	lsec_free(path);
	return rc;
}

int lsec_station__act_erase(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	unsigned level = 0;
	lsec_buf token = LSEC_BUF_INIT(4096);
	struct lsec_station__decom *d = r->decom;
	LSEC_ENSURE(r->tgt != NULL && d != NULL, LSEC_E_STATE,
		    "cannot erase unit '%s': no device session", r->serial);
	LSEC_TRY(lsec_device_debug_lock_level(&level, r->tgt, err));
	LSEC_TRY(lsec_station__ev_int(r, "debug-lock-level", level, err));
	if (level == 0) {
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_erase_all(r->tgt, err));
		LSEC_TRY(lsec_station__ev_str(r, "erase", "chip-erase", err));
	} else {
		LSEC_ENSURE(level == 1, LSEC_E_TGT_ATTACH_REFUSED,
			    "cannot erase unit '%s': its debug port is locked for good (level %u); "
			    "only physical destruction remains",
			    r->serial, level);
		LSEC_TRY(debug_auth_token(&token, r, err));
		LSEC_TRY(lsec_device_erase_authenticated(r->tgt, token.data, token.len, err));
		r->attached = false; /* the erase reopened the port until the next reset */
		LSEC_TRY(lsec_station__ev_str(r, "erase", "authenticated-erase", err));
	}
	/* The loader allows `all` only: the whole flash and every key slot, as recorded here. */
	LSEC_TRY(lsec_station__ev_str(r, "region", lsec_sop_step_param(r->step, "region"), err));
	LSEC_TRY(lsec_station__ev_str(r, "regions", "flash, key slots, certificates, credential",
				      err));
	LSEC_TRY(lsec_station__ev_int(r, "flash-bytes", r->info.flash_size, err));
	LSEC_TRY(lsec_station__ev_int(r, "key-slots", r->info.key_slots, err));
out:
	lsec_buf_release(&token);
	return rc;
}

int lsec_station__act_blank_check(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint8_t h[32];
	LSEC_ENSURE(r->tgt != NULL && r->decom != NULL, LSEC_E_STATE,
		    "cannot blank-check unit '%s': no device session", r->serial);
	LSEC_TRY(lsec_station__attach(r, err));
	/*
	 * The device reads its whole flash back; the digest the blank check
	 * found equal to an erased flash's (every byte 0xff) is the evidence.
	 */
	LSEC_TRY(lsec_device_blank_check(h, r->tgt, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_READBACK_SHA256, h, sizeof(h), err));
	LSEC_TRY(lsec_station__ev_int(r, "flash-bytes", r->info.flash_size, err));
	LSEC_TRY(lsec_station__ev_int(r, "key-slots-empty", r->info.key_slots, err));
	LSEC_TRY(lsec_station__ev_str(r, "sanitisation", "purge", err));
	LSEC_TRY(lsec_station__ev_str(r, "sanitisation-technique",
				      "whole-flash erase verified by read-back; key slots emptied "
				      "(cryptographic erase)",
				      err));
	r->decom->wiped = true;
out:
	return rc;
}

static lsec_crl_reason crl_reason_of(lsec_decom_reason reason)
{
	return reason == LSEC_DECOM_COMPROMISED ? LSEC_CRL_KEY_COMPROMISE
						: LSEC_CRL_CESSATION_OF_OPERATION;
}

int lsec_station__act_identity_revoke(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(r->decom != NULL, LSEC_E_STATE,
		    "identity.revoke runs only in a decommission run (unit '%s')", r->serial);
	LSEC_TRY(lsec_station__ev_str(r, "reason", lsec_decom_reason_name(r->decom->reason), err));
	LSEC_TRY(lsec_station__revoke_identities(r->evidence, r->st, r->person, r->serial,
						 crl_reason_of(r->decom->reason), r->decom->wiped,
						 err));
out:
	return rc;
}

int lsec_station__act_credential_revoke(lsec_station__run *r, lsec_err *err)
{
	return lsec_station__revoke_credentials(r->evidence, r->st, r->person, r->serial, err);
}

/* ---- the run ------------------------------------------------------------------------ */

static bool build_state(lsec_unit_state s)
{
	return s <= LSEC_UNIT_LOCKED;
}

/*
 * Opens the device when a URI is given, with the early chip check of the
 * build SOPs (lsec_station__device_open): a chip of another family or
 * revision than the unit's product is refused before anything is erased.
 * A device that does not answer leaves r->tgt NULL (unreachable: revoke
 * only) and says why in *why. A device answering with another UID than the
 * registered one is refused.
 */
static int reach(lsec_station__run *r, const lsec_store_unit *unit, const char *uri,
		 lsec_err *why, lsec_err *err)
{
	int rc = 0;
	if (uri == NULL) {
		lsec_err_set(why, LSEC_E_NOTFOUND, __FILE__, __LINE__, "no device given");
		goto out;
	}
	int orc = lsec_station__device_open(r, uri, r->serial, why);
	if (orc == LSEC_E_TGT_WRONG_CHIP) {
		*err = *why;
		LSEC_TRY(orc);
	}
	if (orc < 0) {
		lsec_device_close(r->tgt);
		r->tgt = NULL;
		goto out;
	}
	lsec_hex_encode(r->uid_hex, r->info.uid, LSEC_DEVICE_UID_LEN);
	if (!lsec_station__eq(r->uid_hex, unit->uid)) {
		json_t *ev = json_pack("{s:s,s:s,s:s}", LSEC_EV_UID, r->uid_hex, "registered-uid",
				       unit->uid, "target", uri);
		lsec_err ignored = LSEC_ERR_INIT;
		if (ev != NULL) {
			(void)lsec_station__record(r->st, r->serial, "decommission.identify",
						   "uid-refused", ev, &ignored);
		}
		json_decref(ev);
		LSEC_BAIL(LSEC_E_STATION_CLONE,
			  "cannot decommission unit '%s' at '%s': the device reports UID %s, the "
			  "registry holds %s for it; nothing was erased",
			  r->serial, uri, r->uid_hex, unit->uid);
	}
out:
	return rc;
}

int lsec_station_decommission(lsec_station_result *res, lsec_station *st, const char *serial,
			      const lsec_station_decom_options *opts, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_station__run r;
	struct lsec_station__decom d;
	lsec_store_unit unit;
	lsec_sop *sop = NULL;
	lsec_err why = LSEC_ERR_INIT;
	json_t *ev = NULL;
	memset(&r, 0, sizeof(r));
	memset(&d, 0, sizeof(d));
	LSEC_ENSURE_REF(res);
	memset(res, 0, sizeof(*res));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(serial != NULL && opts != NULL, LSEC_E_USAGE,
		    "decommission needs a unit serial and options");
	LSEC_ENSURE(opts->version == LSEC_STATION_DECOM_OPTIONS_VERSION &&
			    (unsigned)opts->reason < LSEC_DECOM_REASON_COUNT,
		    LSEC_E_USAGE, "cannot decommission unit '%s': bad options", serial);
	snprintf(res->serial, sizeof(res->serial), "%s", serial);
	LSEC_TRY(lsec_store_unit_get(&unit, st->store, serial, err));
	res->state = unit.state;
	LSEC_TRY(lsec_station__sop_ready(&sop, st, LSEC_SOP_DECOMMISSION, err));
	/* The state and UID acted on are the ones the unit's leaves prove. */
	LSEC_TRY(lsec_station__unit_get_checked(&unit, NULL, st, serial, err));
	LSEC_ENSURE(unit.state != LSEC_UNIT_DECOMMISSIONED && unit.state != LSEC_UNIT_SCRAPPED,
		    LSEC_E_STATION_WRONG_STATE, "cannot decommission unit '%s': it is already %s",
		    serial, lsec_unit_state_name(unit.state));
	r.sop = sop;
	r.st = st;
	r.decom = &d;
	d.reason = opts->reason;
	snprintf(r.serial, sizeof(r.serial), "%s", serial);
	snprintf(r.product, sizeof(r.product), "%s", unit.product);
	snprintf(r.socket, sizeof(r.socket), "%u", st->cfg->socket);
	snprintf(r.uid_hex, sizeof(r.uid_hex), "%.*s", (int)sizeof(r.uid_hex) - 1, unit.uid);
	/* What will be revoked is what the log says was issued, checked before anything runs. */
	LSEC_TRY(identities_match_log(st, serial, err));
	d.opts = opts;
	LSEC_TRY(reach(&r, &unit, opts->uri, &why, err));
	/*
	 * A shipped unit at hand is received (proven genuine) first; one that
	 * is lost or dead in the field is revoked all the same.
	 */
	LSEC_ENSURE(unit.state != LSEC_UNIT_SHIPPED || r.tgt == NULL, LSEC_E_STATION_WRONG_STATE,
		    "cannot decommission unit '%s': it is shipped; receive it as a return first "
		    "(linesec rma receive)",
		    serial);

	lsec_unit_state to = unit.state;
	if (build_state(unit.state)) {
		to = LSEC_UNIT_QUARANTINED;
	} else if (unit.state == LSEC_UNIT_SHIPPED) {
		to = LSEC_UNIT_RETURNED;
	}
	ev = json_pack("{s:s,s:b,s:s,s:s,s:s}", "reason", lsec_decom_reason_name(opts->reason),
		       "reachable", r.tgt != NULL, "from-state", lsec_unit_state_name(unit.state),
		       "target", opts->uri ? opts->uri : "", LSEC_EV_UNIT_STATE,
		       lsec_unit_state_name(to));
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	if (r.tgt == NULL) {
		json_object_set_new(ev, "unreachable", json_string(why.msg));
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	if (to != unit.state) {
		LSEC_TRY(lsec_store_unit_transition(st->store, serial, to, 0, err));
	}
	LSEC_TRY(lsec_station__leaf(st, st->cfg->operator_name, serial, "decommission.start",
				    r.tgt ? "reachable" : "unreachable", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	/*
	 * A decommission run cut short by a crash is closed first; every step
	 * is safe to run again: the erase repeats, the blank check reads the
	 * device back, a revoked identity is not revoked twice.
	 */
	LSEC_TRY(lsec_station__close_interrupted(&r, err));
	LSEC_TRY(lsec_station__run_steps(res, &r, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (rc < 0 && res != NULL && !res->failed) {
		res->failed = true;
		res->stop_line = rc == LSEC_E_SOP_NOT_APPROVED || rc == LSEC_E_SOP_WITHDRAWN;
	}
	json_decref(ev);
	if (r.st != NULL) {
		lsec_station__run_release(&r);
	} else {
		lsec_sop_free(sop);
	}
	return rc;
}
