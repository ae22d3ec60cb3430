/*
 * actions_common.c - the actions every SOP uses: confirm, device.identify,
 * label.print (its credential label: label.c).
 *
 * @test tests/unit/station/test_exec.c
 */
#include "station/station_int.h"

#include <jansson.h>

int lsec_station__act_confirm(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const lsec_station_config *c = r->st->cfg;
	lsec_buf text = LSEC_BUF_INIT(2048);
	const char *names[] = {"serial", "uid", "socket", "station", "product"};
	const char *vals[] = {r->serial, r->uid_hex, r->socket, c->station_id, r->product};
	bool ok = false;
	if (r->step->text != NULL) {
		LSEC_TRY(lsec_sop_expand(&text, r->step->text, names, vals, 5, err));
	}
	LSEC_ENSURE(lsec_buf_cstr(&text, err) != NULL, LSEC_E_NOMEM, "out of memory");
	if (c->batch) {
		/* Batch mode: the logged-in person gave the confirmation for the whole batch. */
		ok = true;
		LSEC_TRY(lsec_station__ev_str(r, "mode", "batch", err));
	} else {
		LSEC_ENSURE(c->confirm != NULL, LSEC_E_STATION_NOT_CONFIRMED,
			    "step '%s' needs a confirmation and no terminal is attached (use "
			    "--batch to confirm as the logged-in person)",
			    r->step->id);
		LSEC_TRY(c->confirm(c->confirm_ctx, r->person, r->step->who,
				    (const char *)text.data, &ok, err));
		LSEC_TRY(lsec_station__ev_str(r, "mode", "interactive", err));
	}
	LSEC_ENSURE(ok, LSEC_E_STATION_NOT_CONFIRMED, "step '%s' was not confirmed by '%s'",
		    r->step->id, r->person);
	LSEC_TRY(lsec_station__ev_str(r, "confirmed-by", r->person, err));
out:
	lsec_buf_release(&text);
	return rc;
}

int lsec_station__act_identify(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_device_info info;
	lsec_store_unit unit;
	char uid[2 * LSEC_DEVICE_UID_LEN + 1], chs[65] = "";
	json_t *leaves = NULL;
	lsec_station__identity id;
	memset(&id, 0, sizeof(id));
	LSEC_TRY(lsec_device_info_get(&info, r->tgt, err));
	lsec_hex_encode(uid, info.uid, LSEC_DEVICE_UID_LEN);
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_UID, uid, err));
	LSEC_TRY(lsec_station__ev_str(r, "serial", r->serial, err));
	LSEC_TRY(lsec_store_unit_get(&unit, r->st->store, r->serial, err));
	LSEC_ENSURE(lsec_station__eq(unit.uid, uid), LSEC_E_STATION_CLONE,
		    "unit '%s' reports UID %s, the registry holds %s for it", r->serial, uid,
		    unit.uid);
	/*
	 * Once the log issued the unit an identity, a UID is not enough: a
	 * clone swapped in between two SOPs copies the UID but not the key.
	 */
	LSEC_TRY(lsec_station__unit_leaves(&leaves, r->st->store, r->serial, err));
	LSEC_TRY(lsec_station__issued_identity(&id, r->st, r->serial, leaves, err));
	if (id.issued) {
		LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_CERT_SERIAL, id.cert_serial, err));
		LSEC_TRY(lsec_station__ev_int(r, LSEC_EV_SLOT, id.slot, err));
		int prc = lsec_station__prove_identity(chs, r->tgt, r->serial, &id, err);
		if (chs[0] != '\0') {
			LSEC_TRY(lsec_station__ev_str(r, "challenge-sha256", chs, err));
		}
		LSEC_TRY(prc);
	}
out:
	lsec_station__identity_release(&id);
	json_decref(leaves);
	return rc;
}

int lsec_station__act_label(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const char *tmpl = lsec_sop_step_param(r->step, "template");
	lsec_buf text = LSEC_BUF_INIT(1024);
	uint8_t sha[32];
	/* What the label shows besides any credential: its hash is the evidence. */
	LSEC_TRY(lsec_buf_printf(&text, err, "serial=%s\nproduct=%s\nrelease=%s\ntemplate=%s\n",
				 r->serial, r->product, r->have_release ? r->release : "",
				 tmpl));
	LSEC_TRY(lsec_sha256(sha, text.data, text.len, err));
	if (r->credential != NULL) {
		/*
		 * The identity label carries the initial credential: delivered to
		 * the printer's spool folder and accepted when the spooler takes it
		 * (label.c). Not taken in time, the delivered copy is destroyed and
		 * the step fails: the unit keeps a password nobody has and is never
		 * shipped with it.
		 */
		LSEC_TRY(lsec_station__label_credential(r, err));
		lsec_secret_free(r->credential);
		r->credential = NULL;
		LSEC_TRY(lsec_station__ev_bool(r, "carries-credential", true, err));
	}
	LSEC_TRY(lsec_station__ev_hex(r, "label-sha256", sha, 32, err));
	LSEC_TRY(lsec_station__ev_str(r, "template", tmpl, err));
out:
	lsec_buf_release(&text);
	return rc;
}
