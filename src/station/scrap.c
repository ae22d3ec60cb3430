/*
 * scrap.c - the physical destruction of decommissioned units (NIST SP
 * 800-88 "destroy"): done by an operator, witnessed by a supervisor, both
 * logged in; a photo kept under its SHA-256 in the line's evidence folder;
 * many units in one record, all or nothing.
 *
 * @test tests/unit/station/test_decommission.c
 */
#include "station/station_int.h"

#include <ctype.h>
#include <unistd.h>

#include <jansson.h>

/* Destruction methods, as the operator names them. */
static const char *const method_names[] = {"shred", "crush", "incinerate", "disintegrate",
					   "pulverize", "melt", "degauss"};

/* What each method of method_names achieves, in the same order. */
static const struct {
	const char *sanitisation; /* NIST SP 800-88 Rev. 1 */
	const char *note;
} methods[] = {
	{"destroy", NULL}, /* shred */
	{"destroy", NULL}, /* crush */
	{"destroy", NULL}, /* incinerate */
	{"destroy", NULL}, /* disintegrate */
	{"destroy", NULL}, /* pulverize */
	{"destroy", NULL}, /* melt */
	{"purge",          /* degauss */
	 "degaussing sanitises magnetic media only; it leaves flash memory readable"},
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))
_Static_assert(sizeof(method_names) / sizeof(method_names[0]) == N_METHODS,
	       "every destruction method has a name");

static int method_find(size_t *out, const char *m, lsec_err *err)
{
	return lsec_name_lookup(out, method_names, N_METHODS, m, "destruction method", err);
}

/*
 * Keeps the photo as <line_dir>/evidence/<sha256>.<ext> (never replacing
 * one: the same photo twice is the same file) and gives its SHA-256 in hex.
 */
static int keep_photo(char sha_hex[65], char **path_out, bool *new_out, lsec_station *st,
		      const char *photo, lsec_err *err)
{
	int rc = 0;
	lsec_buf data = LSEC_BUF_INIT(64u << 20);
	uint8_t sha[32];
	char ext[9] = "bin", *dir = NULL;
	const char *dot = strrchr(photo, '.'), *slash = strrchr(photo, '/');
	*path_out = NULL;
	*new_out = false;
	if (dot != NULL && (slash == NULL || dot > slash) && strlen(dot + 1) < sizeof(ext) &&
	    dot[1] != '\0') {
		size_t i = 0;
		for (; dot[1 + i] != '\0' && isalnum((unsigned char)dot[1 + i]); i++) {
			ext[i] = (char)tolower((unsigned char)dot[1 + i]);
		}
		ext[i] = '\0';
		if (dot[1 + i] != '\0' || i == 0) {
			snprintf(ext, sizeof(ext), "bin");
		}
	}
	LSEC_TRY(lsec_file_read(&data, photo, err));
	LSEC_ENSURE(data.len > 0, LSEC_E_USAGE, "cannot keep photo '%s': the file is empty", photo);
	LSEC_TRY(lsec_sha256(sha, data.data, data.len, err));
	lsec_hex_encode(sha_hex, sha, sizeof(sha));
	dir = lsec_asprintf("%s/evidence", st->cfg->line_dir);
	*path_out = lsec_asprintf("%s/evidence/%s.%s", st->cfg->line_dir, sha_hex, ext);
	LSEC_ENSURE(dir != NULL && *path_out != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_mkdir_p(dir, 0755, err));
	rc = lsec_file_write_new(*path_out, data.data, data.len, 0444, err);
	*new_out = rc == 0;
	if (rc == LSEC_E_EXISTS) {
		rc = 0; /* named by its digest: the same bytes are already kept */
		lsec_err_clear(err);
	}
out:
	lsec_free(dir);
	lsec_buf_release(&data);
	return rc;
}

/* The step of the approved decommission SOP that records the destruction. */
static int scrap_step(const lsec_sop_step **step_out, int *version_out, lsec_sop **sop_out,
		      lsec_station *st, lsec_err *err)
{
	int rc = 0;
	*step_out = NULL;
	LSEC_TRY(lsec_sop_fetch_approved(sop_out, st->store, LSEC_SOP_DECOMMISSION, err));
	*version_out = lsec_sop_version(*sop_out);
	for (size_t i = 0; i < lsec_sop_step_count(*sop_out); i++) {
		const lsec_sop_step *s = lsec_sop_step_at(*sop_out, i);
		if (s->action != NULL && lsec_station__eq(s->action->id, "scrap.record")) {
			*step_out = s;
		}
	}
	LSEC_ENSURE(*step_out != NULL, LSEC_E_STATION_CONFIG,
		    "the approved decommission SOP has no scrap.record step");
out:
	return rc;
}

/* One unit inside the batch transaction: scrap record, keys destroyed, scrapped. */
static int scrap_unit(lsec_station *st, const char *serial, const char *method,
		      const char *note, const json_t *batch_ev, uint64_t batch_seq,
		      lsec_err *err)
{
	int rc = 0;
	lsec_store_identity *ids = NULL;
	size_t n = 0;
	json_t *keys = NULL;
	json_t *ev = json_deep_copy(batch_ev);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	json_object_del(ev, "units");
	json_object_set_new(ev, "batch-seq", json_integer((json_int_t)batch_seq));
	const char *witness = json_string_value(json_object_get(batch_ev, LSEC_EV_WITNESSED_BY));
	LSEC_TRY(lsec_store_scrap_add(st->store, serial, method, st->cfg->operator_name, witness,
				      note, err));
	LSEC_TRY(lsec_store_identity_list(&ids, &n, st->store, serial, err));
	keys = json_array();
	LSEC_ENSURE(keys != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		/* Revoked at decommissioning; the key now goes with the board. */
		if (ids[i].state != LSEC_KEY_DESTROYED) {
			LSEC_TRY(lsec_store_identity_set_state(st->store, ids[i].key_fp,
							       LSEC_KEY_DESTROYED, err));
		}
		LSEC_ENSURE(json_array_append_new(
				    keys, json_pack("{s:s,s:s}", LSEC_EV_KEY_SHA256, ids[i].key_fp,
						    LSEC_EV_KEY_STATE,
						    lsec_key_state_name(LSEC_KEY_DESTROYED))) == 0,
			    LSEC_E_NOMEM, "out of memory");
	}
	json_object_set_new(ev, "keys-destroyed", json_integer((json_int_t)n));
	json_t *owned = keys; /* lsec_json_set takes it, failing or not */
	keys = NULL;
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_KEYS, owned, err));
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_UNIT_STATE,
			       json_string(lsec_unit_state_name(LSEC_UNIT_SCRAPPED)), err));
	LSEC_TRY(lsec_store_unit_transition(st->store, serial, LSEC_UNIT_SCRAPPED, 0, err));
	LSEC_TRY(lsec_station__leaf(st, st->cfg->operator_name, serial, "scrap.unit", "scrapped", ev,
				    err));
out:
	json_decref(keys);
	json_decref(ev);
	lsec_free(ids);
	return rc;
}

void lsec_station_scrap_record_free(lsec_station_scrap_record *r)
{
	if (r == NULL) {
		return;
	}
	lsec_free(r->units);
	lsec_free(r->note);
	lsec_free(r);
}

/* The record as JSON: the batch leaf's evidence, and with seq what the caller gets. */
static int record_json(json_t **out, const lsec_station_scrap_record *r, bool with_seq,
		       lsec_err *err)
{
	int rc = 0;
	json_t *units = json_array(), *o = NULL;
	*out = NULL;
	LSEC_ENSURE(units != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < r->nunits; i++) {
		LSEC_TRY(lsec_json_append(units, json_string(r->units[i]), err));
	}
	o = json_pack("{s:s,s:s,s:s,s:O}", "method", r->method, "sanitisation", r->sanitisation,
		      "destroyed-by", r->destroyed_by, "units", units);
	LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_station__witness_evidence(o, r->witnessed_by,
						r->witness_role ? r->witness_role : "supervisor",
						err));
	if (r->photo_sha256[0] != '\0') {
		LSEC_TRY(lsec_json_set(o, "photo-sha256", json_string(r->photo_sha256), err));
		LSEC_TRY(lsec_json_set(o, "photo", json_string(r->photo), err));
	}
	if (r->note != NULL) {
		LSEC_TRY(lsec_json_set(o, "note", json_string(r->note), err));
	}
	if (r->warning != NULL) {
		LSEC_TRY(lsec_json_set(o, "warning", json_string(r->warning), err));
	}
	if (with_seq) {
		LSEC_TRY(lsec_json_set(o, "seq", json_integer((json_int_t)r->seq), err));
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(units);
	return rc;
}

int lsec_station_scrap_record_json(json_t **out, const lsec_station_scrap_record *r,
				   lsec_err *err)
{
	return record_json(out, r, true, err);
}

int lsec_station_scrap(lsec_station_scrap_record **out, lsec_station *st, const char *const *serials, size_t n,
		       const lsec_station_scrap_options *opts, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	size_t m = 0;
	char sha_hex[65] = "";
	char *photo_path = NULL;
	json_t *ev = NULL;
	lsec_station_scrap_record *r = NULL;
	lsec_sop *sop = NULL;
	const lsec_sop_step *step = NULL;
	int sop_version = 0;
	uint64_t seq = 0;
	bool photo_new = false;
	lsec_audit_event ae;
	if (out != NULL) {
		*out = NULL;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(opts != NULL && opts->version == LSEC_STATION_SCRAP_OPTIONS_VERSION,
		    LSEC_E_USAGE, "cannot record scrap: bad options");
	LSEC_ENSURE(serials != NULL && n > 0, LSEC_E_USAGE, "cannot record scrap: no unit given");
	LSEC_TRY(method_find(&m, opts->method, err));
	/* Who destroys and who witnesses: the roles the approved SOP's step names. */
	LSEC_TRY(scrap_step(&step, &sop_version, &sop, st, err));
	{
		/* The approved SOP names the method: the record is what the procedure says. */
		const char *want = lsec_sop_step_param(step, "method");
		LSEC_ENSURE(want != NULL && lsec_station__eq(want, method_names[m]), LSEC_E_SOP_POLICY,
			    "cannot record scrap: step '%s' of the approved decommission SOP (version "
			    "%d) destroys units by '%s', not '%s'",
			    step->id, sop_version, want ? want : "?", method_names[m]);
	}
	const char *op = st->cfg->operator_name, *wit = NULL;
	const char *wrole = step->witness ? step->witness : "supervisor";
	char what[128];
	snprintf(what, sizeof(what), "recording the destruction of %zu unit%s", n,
		 n == 1 ? "" : "s");
	LSEC_TRY(lsec_station__require_role(st, op, step->who, "destroy units", err));
	/* The witness is here and can sign; they sign below, once the record is known. */
	LSEC_TRY(lsec_station__witness(&wit, st, op, wrole, what, true, err));
	r = lsec_calloc(1, sizeof(*r));
	LSEC_ENSURE(r != NULL, LSEC_E_NOMEM, "out of memory");
	r->units = lsec_calloc(n, sizeof(*r->units));
	LSEC_ENSURE(r->units != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		lsec_store_unit u;
		/* The state the unit's leaves prove: a row set to decommissioned by SQL is refused. */
		LSEC_TRY(lsec_station__unit_get_checked(&u, NULL, st, serials[i], err));
		LSEC_ENSURE(u.state == LSEC_UNIT_DECOMMISSIONED, LSEC_E_STATION_WRONG_STATE,
			    "cannot scrap unit '%s': it is %s; only a decommissioned unit (identity "
			    "revoked) is destroyed (linesec decommission)",
			    serials[i], lsec_unit_state_name(u.state));
		for (size_t j = 0; j < i; j++) {
			LSEC_ENSURE(!lsec_station__eq(serials[i], serials[j]), LSEC_E_USAGE,
				    "cannot scrap unit '%s' twice in one record", serials[i]);
		}
		snprintf(r->units[i], sizeof(r->units[i]), "%s", serials[i]);
	}
	r->nunits = n;
	/* The witness's signature, typed now: a session alone witnesses nothing. */
	LSEC_TRY(lsec_station__witness(&wit, st, op, wrole, what, false, err));
	{
		lsec_role wr;
		LSEC_TRY(lsec_role_parse(&wr, wrole, err));
		r->witness_role = lsec_role_name(wr);
	}
	r->method = method_names[m];
	r->sanitisation = methods[m].sanitisation;
	r->warning = methods[m].note;
	snprintf(r->destroyed_by, sizeof(r->destroyed_by), "%s", op);
	snprintf(r->witnessed_by, sizeof(r->witnessed_by), "%s", wit);
	if (opts->note != NULL) {
		r->note = lsec_strdup(opts->note);
		LSEC_ENSURE(r->note != NULL, LSEC_E_NOMEM, "out of memory");
	}
	if (opts->photo != NULL) {
		LSEC_TRY(keep_photo(sha_hex, &photo_path, &photo_new, st, opts->photo, err));
		snprintf(r->photo_sha256, sizeof(r->photo_sha256), "%s", sha_hex);
		snprintf(r->photo, sizeof(r->photo), "%s", strrchr(photo_path, '/') + 1);
	}
	LSEC_TRY(record_json(&ev, r, false, err));

	/* One record: the batch leaf (the SOP step), then each unit, or nothing. */
	memset(&ae, 0, sizeof(ae));
	ae.person = op;
	ae.station = st->cfg->station_id;
	ae.sop = lsec_sop_name(sop);
	ae.sop_version = sop_version;
	ae.step = step->id;
	ae.action = "scrap.record";
	ae.outcome = "destroyed";
	ae.evidence = ev;
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_audit_record(&seq, st->store, &ae, err));
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(scrap_unit(st, serials[i], method_names[m], opts->note, ev, seq, err));
	}
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	r->seq = seq;
	if (out != NULL) {
		*out = r;
		r = NULL;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (rc < 0 && photo_new) {
		(void)unlink(photo_path); /* nothing recorded: the evidence file goes too */
	}
	json_decref(ev);
	lsec_station_scrap_record_free(r);
	lsec_sop_free(sop);
	lsec_free(photo_path);
	return rc;
}
