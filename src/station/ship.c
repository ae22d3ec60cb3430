/*
 * ship.c - the ship gate, checkpoints and the device history record.
 *
 * The ship gate is the only way to shipped: it reads the unit's runs from
 * the registry and its evidence from its audit leaves, and refuses with the
 * first missing piece named. Its last check signs a fresh checkpoint and
 * proves every leaf of the unit against it, after the whole log verified.
 *
 * @test tests/unit/station/test_ship.c
 */
#include "station/station_int.h"

#include <stdlib.h>

#include <jansson.h>

static const char *const build_sops[] = {"flash", "provision", "secure-boot", "debug-lock"};
#define NBUILD 4

int lsec_station__unit_leaves(json_t **out, lsec_store *store, const char *serial,
			      lsec_err *err)
{
	int rc = 0;
	uint64_t *seqs = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	uint8_t h[32];
	*out = NULL;
	LSEC_ENSURE(arr != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_leaf_seqs_for_unit(&seqs, &n, store, serial, err));
	for (size_t i = 0; i < n; i++) {
		json_t *j = NULL;
		lsec_buf_reset(&leaf);
		leaf.len = 0;
		LSEC_TRY(lsec_store_leaf_get(&leaf, h, store, seqs[i], err));
		LSEC_TRY(lsec_audit_leaf_check_unit(leaf.data, leaf.len, seqs[i], serial, err));
		LSEC_TRY(lsec_json_parse(&j, (const char *)leaf.data, leaf.len, "audit leaf", err));
		LSEC_TRY(lsec_json_append(arr, j, err));
	}
	*out = arr;
	arr = NULL;
out:
	lsec_buf_release(&leaf);
	lsec_free(seqs);
	json_decref(arr);
	return rc;
}

int lsec_station_checkpoint(lsec_station *st, lsec_err *err)
{
	int rc = 0;
	char *note = NULL;
	LSEC_ENSURE(st->station_key != NULL, LSEC_E_STATION_CONFIG,
		    "cannot sign a checkpoint: no station key configured");
	LSEC_TRY(lsec_audit_checkpoint_create(&note, st->store,
					      st->cfg->line_id ? st->cfg->line_id : "line",
					      st->cfg->station_id, lsec_key_evp(st->station_key),
					      st->cfg->operator_name, err));
out:
	lsec_free(note);
	return rc;
}

/* The public station key, for verification. */
static int station_pub(lsec_key **out, lsec_station *st, lsec_err *err)
{
	int rc = 0;
	lsec_buf spki = LSEC_BUF_INIT(4096);
	*out = NULL;
	LSEC_TRY(lsec_key_spki_der(&spki, st->station_key, err));
	LSEC_TRY(lsec_key_from_spki(out, spki.data, spki.len, err));
out:
	lsec_buf_release(&spki);
	return rc;
}

/* The unit's leaves are all in the log, which verifies, under a fresh checkpoint. */
static int gate_log(lsec_station *st, const char *serial, uint64_t *proven, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_audit_verify_report rep;
	lsec_audit_proof *proof = NULL;
	lsec_key *pub = NULL;
	lsec_audit_checkpoint cp;
	LSEC_TRY(lsec_station_checkpoint(st, err));
	LSEC_TRY(station_pub(&pub, st, err));
	/* One snapshot: other sockets keep appending while the log is verified. */
	LSEC_TRY(lsec_store_tx_begin_read(&tx, st->store, err));
	LSEC_TRY(lsec_audit_verify(&rep, st->store, st->cfg->station_id, lsec_key_evp(pub), NULL, 0,
				   err));
	LSEC_TRY(lsec_audit_prove(&proof, st->store, serial, 0, err));
	LSEC_TRY(lsec_store_tx_end(&tx, rc, err));
	LSEC_TRY(lsec_audit_proof_check(&cp, proof, lsec_key_evp(pub), err));
	*proven = lsec_audit_proof_count(proof);
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_audit_proof_free(proof);
	lsec_key_free(pub);
	return rc;
}

/* The version of SOP name with this number is approved. */
static bool sop_approved(const lsec_sop_version_info *v, size_t n, const char *name,
			 const char *version)
{
	for (size_t i = 0; i < n; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", v[i].version);
		if (lsec_station__eq(v[i].name, name) && lsec_station__eq(num, version)) {
			return v[i].approved;
		}
	}
	return false;
}

/* The last leaf recording a passed step of this action, or NULL. */
static json_t *passed_leaf(json_t *leaves, const char *action)
{
	size_t i;
	json_t *l, *found = NULL;
	json_array_foreach(leaves, i, l)
	{
		if (lsec_station__eq(json_string_value(json_object_get(l, "action")), action) &&
		    lsec_station__eq(json_string_value(json_object_get(l, "outcome")), "passed")) {
			found = l;
		}
	}
	return found;
}

/* The last value of an evidence string among the passed leaves of this action, or NULL. */
static const char *passed_ev(json_t *leaves, const char *action, const char *key)
{
	size_t i;
	json_t *l;
	const char *found = NULL;
	json_array_foreach(leaves, i, l)
	{
		const char *v = json_string_value(json_object_get(json_object_get(l, "evidence"), key));
		if (v != NULL &&
		    lsec_station__eq(json_string_value(json_object_get(l, "action")), action) &&
		    lsec_station__eq(json_string_value(json_object_get(l, "outcome")), "passed")) {
			found = v;
		}
	}
	return found;
}

int lsec_station_ship(lsec_station *st, const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_unit unit;
	lsec_store_run *runs = NULL;
	size_t nruns = 0, nv = 0;
	lsec_sop_version_info *vers = NULL;
	json_t *leaves = NULL, *ev = NULL;
	lsec_store_identity id;
	int64_t last = -1;
	uint64_t proven = 0;
	const char *passed_run[NBUILD] = {NULL};
	char release[160] = "";
	LSEC_ENSURE(serial != NULL, LSEC_E_USAGE, "ship needs a unit serial");
	LSEC_TRY(lsec_station__require_role(st, st->cfg->operator_name, "operator", "ship a unit",
					    err));
	LSEC_TRY(lsec_store_unit_get(&unit, st->store, serial, err));
#define REFUSE(...) LSEC_BAIL(LSEC_E_STATION_SHIP_GATE, "cannot ship unit '%s': " __VA_ARGS__)
	if (unit.state != LSEC_UNIT_LOCKED) {
		REFUSE("it is %s; only a locked unit ships", serial, lsec_unit_state_name(unit.state));
	}
	LSEC_TRY(lsec_store_run_list(&runs, &nruns, st->store, serial, err));
	LSEC_TRY(lsec_sop_versions(&vers, &nv, st->store, NULL, err));
	/* The four build SOPs passed, in order, each under an approved version. */
	for (int k = 0; k < NBUILD; k++) {
		const lsec_store_run *pr = NULL;
		for (size_t i = 0; i < nruns; i++) {
			if (lsec_station__eq(runs[i].sop, build_sops[k]) &&
			    lsec_station__eq(runs[i].outcome, "passed")) {
				pr = &runs[i];
			}
		}
		if (pr == NULL) {
			REFUSE("SOP '%s' has no passed run", serial, build_sops[k]);
		}
		if (pr->id <= last) {
			REFUSE("SOP '%s' passed before the SOP it follows", serial, build_sops[k]);
		}
		last = pr->id;
		if (!sop_approved(vers, nv, build_sops[k], pr->sop_version)) {
			REFUSE("SOP '%s' ran under version %s, which is not approved", serial,
			       build_sops[k], pr->sop_version);
		}
		LSEC_TRY(lsec_station__require_role(st, pr->person, "operator", "ship a unit", err));
		passed_run[k] = pr->sop;
	}
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
	{
		const char *rel = passed_ev(leaves, "image.check", "release");
		const char *att = passed_ev(leaves, "device.boot-attest", "attested-sha256");
		if (rel == NULL || att == NULL) {
			REFUSE("no passed image check and boot attestation of an approved release",
			       serial);
		}
		snprintf(release, sizeof(release), "%s", rel);
		/* The release must still be approved and not revoked. */
		lsec_station_release *rl = NULL;
		size_t nrl = 0;
		bool ok = false;
		LSEC_TRY(lsec_station_release_list(&rl, &nrl, st, err));
		for (size_t i = 0; i < nrl; i++) {
			char pv[2 * LSEC_STORE_NAME_MAX + 2];
			snprintf(pv, sizeof(pv), "%s@%s", rl[i].row.name, rl[i].row.version);
			if (lsec_station__eq(pv, rel) &&
			    rl[i].state == LSEC_STATION_RELEASE_APPROVED &&
			    lsec_station__eq(rl[i].row.digest, att)) {
				ok = true;
			}
		}
		lsec_free(rl);
		if (!ok) {
			REFUSE("release %s is not approved (or was revoked) or is not what the unit "
			       "attested",
			       serial, rel);
		}
	}
	{
		const char *fp = passed_ev(leaves, "ca.issue", LSEC_EV_KEY_SHA256);
		lsec_err e = LSEC_ERR_INIT;
		if (fp == NULL || lsec_store_identity_get(&id, NULL, st->store, fp, &e) < 0) {
			REFUSE("no identity was issued", serial);
		}
		if (!lsec_station__eq(id.serial, serial) || id.state != LSEC_KEY_ACTIVE) {
			REFUSE("its identity is %s, not active", serial, lsec_key_state_name(id.state));
		}
		if (passed_ev(leaves, "device.prove-possession", LSEC_EV_CERT_SERIAL) == NULL) {
			REFUSE("proof of possession of its key is missing", serial);
		}
	}
	if (passed_ev(leaves, "credential.generate", LSEC_EV_CREDENTIAL_FP) == NULL ||
	    passed_leaf(leaves, "device.write-credential") == NULL) {
		REFUSE("its initial credential is not set", serial);
	}
	if (passed_ev(leaves, "otp.verify", "clear-attempt") == NULL) {
		REFUSE("the secure-boot fuses were not verified", serial);
	}
	if (passed_leaf(leaves, "debug.verify-locked") == NULL ||
	    passed_leaf(leaves, "console.verify-closed") == NULL) {
		REFUSE("the debug lock and closed console were not verified", serial);
	}
	rc = gate_log(st, serial, &proven, err);
	if (rc < 0) {
		lsec_err inner = *err;
		REFUSE("its audit leaves are not proven in a verifying log (%s)", serial, inner.msg);
	}
	ev = json_pack("{s:[ssss],s:s,s:s,s:I}", "sops", passed_run[0], passed_run[1],
		       passed_run[2], passed_run[3], LSEC_EV_RELEASE, release, LSEC_EV_KEY_SHA256, id.key_fp,
		       "leaves-proven", (json_int_t)proven);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_UNIT_STATE,
			       json_string(lsec_unit_state_name(LSEC_UNIT_SHIPPED)), err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_unit_transition(st->store, serial, LSEC_UNIT_SHIPPED,
					    LSEC_STORE_SHIP_GATE, err));
	LSEC_TRY(lsec_station__leaf(st, st->cfg->operator_name, serial, "ship-gate", "shipped", ev, err));
#undef REFUSE
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	json_decref(leaves);
	lsec_free(vers);
	lsec_free(runs);
	return rc;
}

/* ---- the device history record ---------------------------------------------------- */

static json_t *unit_json(const lsec_store_unit *u)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "serial", u->serial, "uid", u->uid, "product",
			 u->product, "state", lsec_unit_state_name(u->state), "created", u->created,
			 "updated", u->updated);
}

/* Copies leaf field k (a string) into out[size]; "" when absent. */
static void leaf_str(char *out, size_t size, const json_t *leaf, const char *k)
{
	const char *v = json_string_value(json_object_get(leaf, k));
	snprintf(out, size, "%s", v ? v : "");
}

/* The event of one parsed leaf. Errors: LSEC_E_NOMEM. */
static int unit_event(lsec_station_unit_event *e, const json_t *leaf, lsec_err *err)
{
	int rc = 0;
	json_int_t seq = json_integer_value(json_object_get(leaf, "seq"));
	e->seq = seq > 0 ? (uint64_t)seq : 0;
	leaf_str(e->time, sizeof(e->time), leaf, "time");
	leaf_str(e->sop, sizeof(e->sop), leaf, "sop");
	leaf_str(e->step, sizeof(e->step), leaf, "step");
	leaf_str(e->action, sizeof(e->action), leaf, "action");
	leaf_str(e->outcome, sizeof(e->outcome), leaf, "outcome");
	leaf_str(e->person, sizeof(e->person), leaf, "person");
	LSEC_TRY(lsec_json_canonical(&e->leaf, leaf, err));
out:
	return rc;
}

/*
 * The inclusion proof of the unit's leaves against the latest checkpoint
 * into r, or why there is none (r->proof_missing). Errors: LSEC_E_NOMEM,
 * LSEC_E_AUDIT_NOTE.
 */
static int unit_proof(lsec_station_unit_record *r, lsec_station *st, lsec_err *err)
{
	int rc = 0;
	lsec_audit_proof *proof = NULL;
	json_t *pj = NULL;
	lsec_err pe = LSEC_ERR_INIT;
	lsec_audit_checkpoint cp;
	if (lsec_audit_prove(&proof, st->store, r->unit.serial, 0, &pe) < 0) {
		snprintf(r->proof_missing, sizeof(r->proof_missing), "%s", pe.msg);
		goto out;
	}
	LSEC_TRY(lsec_audit_proof_write(&r->proof, proof, err));
	LSEC_TRY(lsec_json_parse(&pj, r->proof, strlen(r->proof), "proof", err));
	const char *note = json_string_value(json_object_get(pj, "checkpoint"));
	LSEC_ENSURE(note != NULL, LSEC_E_INTERNAL, "proof of unit '%s' has no checkpoint",
		    r->unit.serial);
	LSEC_TRY(lsec_audit_checkpoint_parse(&cp, note, strlen(note), err));
	r->proof_leaves = lsec_audit_proof_count(proof);
	r->proof_tree_size = cp.size;
out:
	json_decref(pj);
	lsec_audit_proof_free(proof);
	return rc;
}

int lsec_station_unit_show(lsec_station_unit_record **out, lsec_station *st, const char *serial,
			   lsec_err *err)
{
	int rc = 0;
	lsec_station_unit_record *r = NULL;
	json_t *leaves = NULL;
	*out = NULL;
	r = lsec_calloc(1, sizeof(*r));
	LSEC_ENSURE(r != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_unit_get(&r->unit, st->store, serial, err));
	LSEC_TRY(lsec_store_run_list(&r->runs, &r->nruns, st->store, serial, err));
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
	r->events = lsec_calloc(json_array_size(leaves) + 1, sizeof(*r->events));
	LSEC_ENSURE(r->events != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(leaves); i++) {
		r->nevents++;
		LSEC_TRY(unit_event(&r->events[i], json_array_get(leaves, i), err));
	}
	LSEC_TRY(unit_proof(r, st, err));
	*out = r;
	r = NULL;
out:
	lsec_station_unit_record_free(r);
	json_decref(leaves);
	return rc;
}

void lsec_station_unit_record_free(lsec_station_unit_record *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->nevents; i++) {
		lsec_free(r->events[i].leaf);
	}
	lsec_free(r->events);
	lsec_free(r->runs);
	lsec_free(r->proof);
	lsec_free(r);
}

int lsec_station_unit_record_json(json_t **out, const lsec_station_unit_record *r, lsec_err *err)
{
	int rc = 0;
	json_t *o = NULL, *jr = json_array(), *ev = json_array(), *pj = NULL;
	*out = NULL;
	LSEC_ENSURE(jr != NULL && ev != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < r->nruns; i++) {
		const lsec_store_run *run = &r->runs[i];
		json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)run->id,
				      "sop", run->sop, "sop-version", run->sop_version, "person",
				      run->person, "station", run->station, "outcome", run->outcome,
				      "started", run->started, "finished", run->finished);
		LSEC_TRY(lsec_json_append(jr, j, err));
	}
	for (size_t i = 0; i < r->nevents; i++) {
		json_t *j = NULL;
		const char *leaf = r->events[i].leaf;
		LSEC_TRY(lsec_json_parse(&j, leaf, strlen(leaf), "audit leaf", err));
		LSEC_TRY(lsec_json_append(ev, j, err));
	}
	o = json_pack("{s:o,s:O,s:O}", "unit", unit_json(&r->unit), "runs", jr, "events", ev);
	LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "out of memory");
	if (r->proof != NULL) {
		LSEC_TRY(lsec_json_parse(&pj, r->proof, strlen(r->proof), "proof", err));
		LSEC_ENSURE(json_object_set(o, "proof", pj) == 0, LSEC_E_NOMEM, "out of memory");
	} else {
		LSEC_TRY(lsec_json_set(o, "proof", json_null(), err));
		LSEC_TRY(lsec_json_set(o, "proof-missing", json_string(r->proof_missing), err));
	}
	*out = o;
	o = NULL;
out:
	json_decref(pj);
	json_decref(o);
	json_decref(jr);
	json_decref(ev);
	return rc;
}

int lsec_station_unit_list(lsec_store_unit **out, size_t *n_out, lsec_station *st,
			   const lsec_unit_state *state, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit *units = NULL;
	size_t n = 0, kept = 0;
	*out = NULL;
	*n_out = 0;
	LSEC_TRY(lsec_store_unit_list(&units, &n, st->store, NULL, err));
	for (size_t i = 0; i < n; i++) {
		if (state == NULL || units[i].state == *state) {
			units[kept++] = units[i];
		}
	}
	*out = units;
	*n_out = kept;
	units = NULL;
out:
	lsec_free(units);
	return rc;
}

int lsec_station_unit_list_json(json_t **out, const lsec_store_unit *units, size_t n,
				lsec_err *err)
{
	int rc = 0;
	json_t *arr = json_array();
	*out = NULL;
	LSEC_ENSURE(arr != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *u = unit_json(&units[i]);
		LSEC_TRY(lsec_json_append(arr, u, err));
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	return rc;
}
