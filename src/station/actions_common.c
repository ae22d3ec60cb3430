/*
 * actions_common.c - the actions every SOP uses: confirm, device.identify,
 * label.print.
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

/*
 * Delivers the identity label of unit r->serial carrying its initial
 * credential to the label printer: today a 0600 file in the line's label
 * spool folder (line.yaml's `labels`, default <line>/labels), which the
 * printer takes it from. *path_out (the caller frees it) is what holds the
 * credential in clear until the label is confirmed on the unit. The one
 * place a printer protocol goes (a ZPL printer on TCP 9100 delivers here
 * and leaves *path_out NULL).
 */
static int label_deliver(char **path_out, lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const lsec_station_config *c = r->st->cfg;
	char *dir = c->label_dir != NULL ? lsec_strdup(c->label_dir)
					 : lsec_asprintf("%s/labels", c->line_dir);
	*path_out = NULL;
	LSEC_ENSURE(dir != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_mkdir_p(dir, 0700, err));
	LSEC_TRY(lsec_cred_label_write(path_out, dir, r->serial, r->credential, err));
out:
	if (rc != 0) {
		char inner[sizeof(err->msg)];
		snprintf(inner, sizeof(inner), "%s", err->msg);
		lsec_err_set(err, rc, __FILE__, __LINE__,
			     "the identity label of unit '%s' could not be delivered to the label "
			     "printer's folder '%s': %s",
			     r->serial, dir != NULL ? dir : "(none)", inner);
	}
	lsec_free(dir);
	return rc;
}

/*
 * The operator confirms the delivered label is on the unit: at the
 * terminal, or in batch mode from the scripted source the caller's confirm
 * callback reads (the command line: LINESEC_LABEL_CONFIRM). Never assumed:
 * without a callback it is not confirmed.
 */
static int label_confirm(lsec_station__run *r, const char *where, lsec_err *err)
{
	int rc = 0;
	const lsec_station_config *c = r->st->cfg;
	bool ok = false;
	char text[768];
	snprintf(text, sizeof(text),
		 "Put the identity label of unit %s (delivered to %s) on the unit: it carries "
		 "the unit's initial password, which is destroyed once you confirm",
		 r->serial, where);
	LSEC_ENSURE(c->confirm != NULL, LSEC_E_STATION_NOT_CONFIRMED,
		    "the identity label of unit '%s' was delivered to '%s' and nobody can confirm "
		    "it is on the unit: %s",
		    r->serial, where,
		    c->batch ? "batch mode has no scripted confirmation of labels (the command "
			       "line reads LINESEC_LABEL_CONFIRM=yes)"
			     : "no terminal is attached");
	LSEC_TRY(c->confirm(c->confirm_ctx, r->person, r->step->who, text, &ok, err));
	LSEC_ENSURE(ok, LSEC_E_STATION_NOT_CONFIRMED,
		    "the identity label of unit '%s' was not confirmed on the unit by '%s'",
		    r->serial, r->person);
	LSEC_TRY(lsec_station__ev_str(r, "label-confirmed-by", r->person, err));
	LSEC_TRY(lsec_station__ev_str(r, "label-confirm", c->batch ? "scripted" : "interactive",
				      err));
out:
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
		 * the printer, confirmed on the unit by the operator, and only then
		 * is the credential's last copy destroyed. Not confirmed, the
		 * delivered copy is destroyed all the same and the step fails: the
		 * unit keeps a password nobody has and is never shipped with it.
		 */
		if (r->label_path != NULL) {
			lsec_err ignored = LSEC_ERR_INIT;
			if (lsec_cred_label_remove(r->label_path, &ignored) < 0) {
				/* The delivery below refuses to replace it and says so. */
			}
			lsec_free(r->label_path);
			r->label_path = NULL;
		}
		LSEC_TRY(label_deliver(&r->label_path, r, err));
		rc = label_confirm(r, r->label_path != NULL ? r->label_path : "the label printer",
				   err);
		if (r->label_path != NULL) {
			lsec_err e = LSEC_ERR_INIT;
			int wrc = lsec_cred_label_remove(r->label_path, rc == 0 ? err : &e);
			lsec_free(r->label_path);
			r->label_path = NULL;
			rc = rc != 0 ? rc : wrc;
		}
		LSEC_TRY(rc);
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
