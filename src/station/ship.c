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

#include "linesec/line.h"

#include <stdlib.h>

#include <jansson.h>

static const char *const build_sops[] = {"flash", "provision", "secure-boot", "debug-lock"};
#define NBUILD 4

int lsec_station__unit_leaves(json_t **out, lsec_store *store, const char *serial,
			      lsec_err *err)
{
	return lsec_audit_unit_leaves(out, store, serial, err);
}

int lsec_station__unit_state_check(const json_t *leaves, const lsec_store_unit *unit,
				   lsec_err *err)
{
	int rc = 0;
	const char *moved = NULL;
	json_int_t at = -1;
	size_t i;
	const json_t *l;
	json_array_foreach(leaves, i, l)
	{
		const json_t *to = json_object_get(json_object_get(l, "evidence"), LSEC_EV_UNIT_STATE);
		if (json_is_string(to)) {
			moved = json_string_value(to);
			at = json_integer_value(json_object_get(l, "seq"));
		}
	}
	LSEC_ENSURE(moved != NULL, LSEC_E_AUDIT_INDEX,
		    "registry table units holds unit '%s', but no leaf records its state: the "
		    "registry was changed outside linesec",
		    unit->serial);
	LSEC_ENSURE(lsec_station__eq(moved, lsec_unit_state_name(unit->state)), LSEC_E_AUDIT_INDEX,
		    "registry table units holds unit '%s' in state %s, but its latest state leaf "
		    "%lld moved it to %s: the registry was changed outside linesec",
		    unit->serial, lsec_unit_state_name(unit->state), (long long)at, moved);
out:
	return rc;
}

/*
 * Every unit.register leaf of the unit that records key must have recorded
 * have, the row's value of it (what names it in the refusal).
 */
static int register_check(const json_t *leaves, const lsec_store_unit *unit, const char *key,
			  const char *what, const char *have, lsec_err *err)
{
	int rc = 0;
	size_t i;
	const json_t *l;
	json_array_foreach(leaves, i, l)
	{
		const char *v =
			json_string_value(json_object_get(json_object_get(l, "evidence"), key));
		if (!lsec_station__eq(json_string_value(json_object_get(l, "action")),
				      "unit.register") ||
		    v == NULL) {
			continue;
		}
		LSEC_ENSURE(lsec_station__eq(v, have), LSEC_E_AUDIT_INDEX,
			    "registry table units holds unit '%s' with %s %s, but its "
			    "unit.register leaf %lld registered %s %s: the registry was changed "
			    "outside linesec; nothing was done to the unit (set the row's %s back to "
			    "%s and find who changed it: linesec audit verify)",
			    unit->serial, what, have,
			    (long long)json_integer_value(json_object_get(l, "seq")), what, v, key, v);
	}
out:
	return rc;
}

int lsec_station__unit_uid_check(const json_t *leaves, const lsec_store_unit *unit,
				 lsec_err *err)
{
	return register_check(leaves, unit, LSEC_EV_UID, "UID", unit->uid, err);
}

int lsec_station__unit_product_check(const json_t *leaves, const lsec_store_unit *unit,
				     lsec_err *err)
{
	return register_check(leaves, unit, LSEC_EV_PRODUCT, "product", unit->product, err);
}

int lsec_station__unit_get_checked(lsec_store_unit *out, json_t **leaves_out, lsec_station *st,
				   const char *serial, lsec_err *err)
{
	int rc = 0;
	json_t *leaves = NULL;
	if (leaves_out != NULL) {
		*leaves_out = NULL;
	}
	LSEC_TRY(lsec_store_unit_get(out, st->store, serial, err));
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
	LSEC_TRY(lsec_station__unit_state_check(leaves, out, err));
	LSEC_TRY(lsec_station__unit_uid_check(leaves, out, err));
	LSEC_TRY(lsec_station__unit_product_check(leaves, out, err));
	if (leaves_out != NULL) {
		*leaves_out = leaves;
		leaves = NULL;
	}
out:
	json_decref(leaves);
	return rc;
}

int lsec_station_checkpoint(lsec_station *st, lsec_err *err)
{
	int rc = 0;
	char *note = NULL;
	LSEC_ENSURE(st->station_key != NULL, LSEC_E_STATION_CONFIG,
		    "cannot sign a checkpoint: no station key configured");
	lsec_line_checkpoint_options o = LSEC_LINE_CHECKPOINT_OPTIONS_INIT;
	o.line_dir = st->cfg->line_dir;
	o.export_dir = st->cfg->checkpoint_dir;
	o.line_id = st->cfg->line_id ? st->cfg->line_id : "line";
	o.key_name = st->cfg->station_id;
	o.key = lsec_key_evp(st->station_key);
	o.person = st->cfg->operator_name;
	LSEC_TRY(lsec_line_checkpoint_sign(&note, st->store, &o, err));
out:
	lsec_free(note);
	return rc;
}

/*
 * The unit's leaves are all in the log under a fresh checkpoint. Signing it
 * is the log check: the new root is computed from the tree this station
 * last verified plus the leaves after it, each hashed from its bytes and
 * signature-checked, so the gate costs the same whatever the log's size
 * (docs/audit-log.md; the whole log is replayed by 'linesec audit verify').
 * The keys are those the attached signer trusts (this station's and those
 * its log's station.trust leaves add): stations sharing a registry write
 * one log.
 */
static int gate_log(lsec_station *st, const char *serial, uint64_t *proven, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_audit_proof *proof = NULL;
	struct evp_pkey_st **pubs = NULL;
	size_t npubs = 0;
	LSEC_TRY(lsec_station_checkpoint(st, err));
	LSEC_TRY(lsec_audit_signer_pubkeys(&pubs, &npubs, st->store, err));
	/* One snapshot: other sockets keep appending while the unit is proven. */
	LSEC_TRY(lsec_store_tx_begin_read(&tx, st->store, err));
	LSEC_TRY(lsec_audit_prove(&proof, st->store, serial, 0, err));
	LSEC_TRY(lsec_store_tx_end(&tx, rc, err));
	LSEC_TRY(lsec_audit_proof_check_keys(NULL, proof, (const struct evp_pkey_st *const *)pubs,
					     npubs, err));
	*proven = lsec_audit_proof_count(proof);
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_audit_proof_free(proof);
	lsec_audit_pubkeys_free(pubs, npubs);
	return rc;
}

/* The version of SOP name with this number and SHA-256 is approved (v checked against its leaves). */
static bool sop_approved(const lsec_sop_version_info *v, size_t n, const char *name,
			 const char *version, const char *sha256)
{
	for (size_t i = 0; i < n; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", v[i].version);
		if (lsec_station__eq(v[i].name, name) && lsec_station__eq(num, version)) {
			return v[i].approved && lsec_station__eq(v[i].sha256_hex, sha256);
		}
	}
	return false;
}

static json_int_t seq_of(const json_t *leaf)
{
	return json_integer_value(json_object_get(leaf, "seq"));
}

/*
 * The unit's runs as its leaves tell them: the run.start leaves in order,
 * each passed when a passed run.finish of its SOP follows before the next
 * run starts. Checks the runs rows against them one by one (a run's row and
 * its run.start leaf are written in one transaction): same count, SOP,
 * version, person and station, and passed exactly when the leaves say so.
 * *finish_out[i] (borrowed from leaves) is the passed run.finish leaf of
 * run i, or NULL. Errors: LSEC_E_AUDIT_INDEX naming the table, the row and
 * the leaf; LSEC_E_NOMEM.
 */
static int runs_from_leaves(const json_t ***finish_out, json_t *leaves, const lsec_store_run *runs,
			    size_t nruns, const char *serial, lsec_err *err)
{
	int rc = 0;
	const json_t **fin = NULL, **start = NULL;
	const json_t *l;
	size_t i, ns = 0;
	char vb[32];
	*finish_out = NULL;
	fin = lsec_calloc(json_array_size(leaves) + 1, sizeof(*fin));
	start = lsec_calloc(json_array_size(leaves) + 1, sizeof(*start));
	LSEC_ENSURE(fin != NULL && start != NULL, LSEC_E_NOMEM, "out of memory");
	json_array_foreach(leaves, i, l)
	{
		const char *sop = json_string_value(json_object_get(l, "sop"));
		const char *pm[] = {"sop", sop, "outcome", "passed", NULL};
		if (lsec_audit_leaf_matches(l, "run.start", NULL)) {
			start[ns++] = l;
		} else if (ns > 0 && fin[ns - 1] == NULL &&
			   lsec_audit_leaf_matches(l, "run.finish", pm) &&
			   lsec_station__eq(sop, json_string_value(
							 json_object_get(start[ns - 1], "sop")))) {
			fin[ns - 1] = l;
		}
	}
	for (i = 0; i < nruns || i < ns; i++) {
		const lsec_store_run *r = i < nruns ? &runs[i] : NULL;
		l = i < ns ? start[i] : NULL;
		LSEC_ENSURE(r != NULL, LSEC_E_AUDIT_INDEX,
			    "registry table runs lacks the run of unit '%s' that leaf %lld started: "
			    "the registry was changed outside linesec",
			    serial, (long long)seq_of(l));
		LSEC_ENSURE(l != NULL, LSEC_E_AUDIT_INDEX,
			    "registry table runs holds run %lld of unit '%s' (SOP '%s', %s), but no "
			    "run.start leaf backs it: the registry was changed outside linesec",
			    (long long)r->id, serial, r->sop, r->outcome[0] ? r->outcome : "open");
		const char *sop = json_string_value(json_object_get(l, "sop"));
		const char *ver = lsec_audit_leaf_field(vb, l, "sop_version");
		const char *who = json_string_value(json_object_get(l, "person"));
		const char *where = json_string_value(json_object_get(l, "station"));
		LSEC_ENSURE(lsec_station__eq(sop, r->sop) && lsec_station__eq(ver, r->sop_version) &&
				    lsec_station__eq(who, r->person) &&
				    lsec_station__eq(where, r->station),
			    LSEC_E_AUDIT_INDEX,
			    "registry table runs holds run %lld of unit '%s' as SOP '%s' version %s by "
			    "'%s' at '%s', but its run.start leaf %lld says SOP '%s' version %s by '%s' "
			    "at '%s': the registry was changed outside linesec",
			    (long long)r->id, serial, r->sop, r->sop_version, r->person, r->station,
			    (long long)seq_of(l), sop ? sop : "", ver ? ver : "", who ? who : "",
			    where ? where : "");
		LSEC_ENSURE(lsec_station__eq(r->outcome, "passed") == (fin[i] != NULL),
			    LSEC_E_AUDIT_INDEX,
			    "registry table runs shows run %lld of unit '%s' (SOP '%s') as '%s', but "
			    "the leaves of the run started by leaf %lld say it %s: the registry was "
			    "changed outside linesec",
			    (long long)r->id, serial, r->sop, r->outcome[0] ? r->outcome : "open",
			    (long long)seq_of(l), fin[i] != NULL ? "passed" : "did not pass");
	}
	*finish_out = fin;
	fin = NULL;
out:
	lsec_free(fin);
	lsec_free(start);
	return rc;
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

/* Whether a passed label.print carried the credential a passed credential.generate made. */
static bool credential_labelled(json_t *leaves)
{
	size_t i;
	json_t *l;
	bool generated = false, labelled = false;
	json_array_foreach(leaves, i, l)
	{
		const char *a = json_string_value(json_object_get(l, "action"));
		if (!lsec_station__eq(json_string_value(json_object_get(l, "outcome")), "passed")) {
			continue;
		}
		generated = generated || lsec_station__eq(a, "credential.generate");
		labelled = labelled ||
			   (generated && lsec_station__eq(a, "label.print") &&
			    json_is_true(json_object_get(json_object_get(l, "evidence"),
							 "carries-credential")));
	}
	return labelled;
}

/* ---- the device at the gate ---------------------------------------------------------- */

/*
 * A device check failed: names the check, what the device said and what
 * the log says. The unit stays where it is.
 */
#define DEVICE_REFUSE(check, ...)                                                          \
	LSEC_BAIL(LSEC_E_STATION_SHIP_GATE,                                                 \
		  "cannot ship unit '%s': device check '" check "' failed: " __VA_ARGS__)

/* The fuses the gate reads back, in the order the evidence lists them. */
static const lsec_device_fuse gate_fuses[] = {
	LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, LSEC_FUSE_SECURE_BOOT_ENABLE, LSEC_FUSE_OTP_LOCK,
	LSEC_FUSE_ANTI_ROLLBACK,          LSEC_FUSE_DEBUG_LOCK,         LSEC_FUSE_UART_DISABLE,
	LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST,
};

/* The UID the unit's registration leaf records, and that leaf's seq; NULL when none. */
static const char *registered_uid(json_t *leaves, long long *seq)
{
	size_t i;
	json_t *l;
	json_array_foreach(leaves, i, l)
	{
		if (lsec_station__eq(json_string_value(json_object_get(l, "action")),
				     "unit.register")) {
			*seq = (long long)json_integer_value(json_object_get(l, "seq"));
			return json_string_value(
				json_object_get(json_object_get(l, "evidence"), LSEC_EV_UID));
		}
	}
	return NULL;
}

/*
 * The UID: the device's equals the registry's, which equals the one the
 * unit's registration leaf and every passed identify step recorded.
 */
static int gate_uid(json_t *dev, lsec_device *t, const lsec_store_unit *unit, json_t *leaves,
		    lsec_err *err)
{
	int rc = 0;
	lsec_device_info info;
	char uid[2 * LSEC_DEVICE_UID_LEN + 1];
	long long seq = 0;
	const char *logged = registered_uid(leaves, &seq);
	size_t i;
	json_t *l;
	LSEC_TRY(lsec_device_info_get(&info, t, err));
	lsec_hex_encode(uid, info.uid, LSEC_DEVICE_UID_LEN);
	LSEC_TRY(lsec_json_set(dev, LSEC_EV_UID, json_string(uid), err));
	if (!lsec_station__eq(uid, unit->uid) || !lsec_station__eq(logged, unit->uid)) {
		DEVICE_REFUSE("uid",
			      "the device reports UID %s; the registry holds %s and the "
			      "registration leaf %lld records %s",
			      unit->serial, uid, unit->uid, seq, logged ? logged : "none");
	}
	json_array_foreach(leaves, i, l)
	{
		const char *a = json_string_value(json_object_get(l, "action"));
		const char *o = json_string_value(json_object_get(l, "outcome"));
		const char *u = json_string_value(json_object_get(json_object_get(l, "evidence"), LSEC_EV_UID));
		if (lsec_station__eq(a, "device.identify") && lsec_station__eq(o, "passed") &&
		    !lsec_station__eq(u, uid)) {
			DEVICE_REFUSE("uid", "the device reports UID %s; identify leaf %lld records %s",
				      unit->serial, uid,
				      (long long)json_integer_value(json_object_get(l, "seq")),
				      u ? u : "none");
		}
	}
out:
	return rc;
}

/* Possession of the key the log certified: a fresh challenge signed by its slot. */
static int gate_possession(json_t *dev, lsec_station *st, lsec_device *t, const char *serial,
			   json_t *leaves, lsec_err *err)
{
	int rc = 0;
	lsec_station__identity id;
	char chs[65] = "";
	memset(&id, 0, sizeof(id));
	LSEC_TRY(lsec_station__issued_identity(&id, st, serial, leaves, err));
	if (!id.issued) {
		DEVICE_REFUSE("possession", "the log records no live certificate issued to it",
			      serial);
	}
	LSEC_TRY(lsec_json_set(dev, LSEC_EV_CERT_SERIAL, json_string(id.cert_serial), err));
	LSEC_TRY(lsec_json_set(dev, LSEC_EV_SLOT, json_integer((json_int_t)id.slot), err));
	if (lsec_station__prove_identity(chs, t, serial, &id, err) < 0) {
		lsec_err inner = *err;
		DEVICE_REFUSE("possession", "%s", serial, inner.msg);
	}
	LSEC_TRY(lsec_json_set(dev, "challenge-sha256", json_string(chs), err));
	LSEC_TRY(lsec_json_set(dev, "signature", json_string("verified"), err));
out:
	lsec_station__identity_release(&id);
	return rc;
}

/*
 * The secure-boot fuses read back: the key digest is the approved product
 * key digest the secure-boot SOP recorded burning, secure boot is enabled
 * and the words are write-locked. v receives every fuse the gate reads.
 */
static int gate_fuses_check(json_t *dev, lsec_device_fuse_value v[LSEC_FUSE_COUNT],
			    lsec_device *t, const char *serial, json_t *leaves, lsec_err *err)
{
	int rc = 0;
	json_t *fuses = json_object();
	char digest[65], dbg_digest[65];
	const char *want = passed_ev(leaves, "otp.burn-key-digest", LSEC_EV_KEY_DIGEST);
	/* No debug-auth burn recorded (no key, or secured before there was one): an empty fuse. */
	const char *dbg_want = passed_ev(leaves, "otp.burn-debug-auth-digest", LSEC_EV_KEY_DIGEST);
	dbg_want = dbg_want != NULL ? dbg_want
				    : "0000000000000000000000000000000000000000000000000000000000000000";
	LSEC_ENSURE(fuses != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(gate_fuses) / sizeof(gate_fuses[0]); i++) {
		lsec_device_fuse f = gate_fuses[i];
		json_t *val;
		LSEC_TRY(lsec_device_fuse_read(&v[f], t, f, err));
		if (f == LSEC_FUSE_SECURE_BOOT_KEY_DIGEST) {
			lsec_hex_encode(digest, v[f].bytes, sizeof(v[f].bytes));
			val = json_string(digest);
		} else if (f == LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST) {
			lsec_hex_encode(dbg_digest, v[f].bytes, sizeof(v[f].bytes));
			val = json_string(dbg_digest);
		} else {
			val = json_integer((json_int_t)v[f].value);
		}
		LSEC_TRY(lsec_json_set(fuses, lsec_device_fuse_name(f),
				       json_pack("{s:o,s:b}", "value", val, "locked", v[f].locked),
				       err));
	}
	LSEC_TRY(lsec_json_set(dev, "fuses", fuses, err));
	fuses = NULL;
	const lsec_device_fuse_value *en = &v[LSEC_FUSE_SECURE_BOOT_ENABLE],
				     *dig = &v[LSEC_FUSE_SECURE_BOOT_KEY_DIGEST],
				     *lock = &v[LSEC_FUSE_OTP_LOCK];
	if (en->value < 1) {
		DEVICE_REFUSE("secure-boot fuses",
			      "the device reads SECURE_BOOT_EN %u (secure boot off); the log %s",
			      serial, en->value,
			      passed_leaf(leaves, "otp.enable-secure-boot")
				      ? "says the secure-boot SOP enabled it"
				      : "records no passed enabling of secure boot");
	}
	if (want == NULL || !lsec_station__eq(digest, want)) {
		DEVICE_REFUSE("secure-boot fuses",
			      "the device holds boot key digest %s; the secure-boot leaf records the "
			      "approved product key digest %s",
			      serial, digest, want ? want : "none");
	}
	if (!lsec_station__eq(dbg_digest, dbg_want)) {
		DEVICE_REFUSE("secure-boot fuses",
			      "the device holds debug-auth key digest %s; the secure-boot leaf records "
			      "%s",
			      serial, dbg_digest, dbg_want);
	}
	if (lock->value < 1 || !dig->locked || !en->locked ||
	    !v[LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST].locked) {
		DEVICE_REFUSE("secure-boot fuses",
			      "the device reads OTP_LOCK %u, key digest words %s, SECURE_BOOT_EN word "
			      "%s; the log says the secure-boot fuses were write-locked",
			      serial, lock->value, dig->locked ? "locked" : "writable",
			      en->locked ? "locked" : "writable");
	}
out:
	json_decref(fuses);
	return rc;
}

/*
 * After a reset (the lock in force, the boot stage measuring what it runs):
 * the unit attests a release build (a debug build is refused by name) and
 * the attested boot digest is the approved release's, as the unit's boot
 * attestation leaf recorded it (the record checks compare that with the
 * approved release). *br receives the boot report.
 */
static int gate_boot(json_t *dev, lsec_device_boot_report *br, lsec_device *t,
		     const char *serial, json_t *leaves, lsec_err *err)
{
	int rc = 0;
	lsec_err why = LSEC_ERR_INIT;
	char att[65];
	const char *want = passed_ev(leaves, "device.boot-attest", LSEC_EV_ATTESTED_SHA256);
	const char *build = NULL;
	memset(br, 0, sizeof(*br));
	int brc = lsec_device_reset(br, t, &why);
	if (brc < 0 && brc != LSEC_E_TGT_BOOT_REFUSED) {
		DEVICE_REFUSE("boot attestation", "the device did not come back from reset: %s",
			      serial, why.msg);
	}
	lsec_hex_encode(att, br->digest, sizeof(br->digest));
	build = lsec_image_build_name((lsec_image_build)br->build_type);
	LSEC_TRY(lsec_json_set(dev, LSEC_EV_ATTESTED_SHA256, json_string(br->measured ? att : ""),
			       err));
	LSEC_TRY(lsec_json_set(dev, LSEC_EV_ATTESTED_BUILD, json_string(br->booted ? build : ""),
			       err));
	LSEC_TRY(lsec_json_set(dev, "secure-boot-enforced", json_boolean(br->secure_boot), err));
	if (br->booted && br->build_type != LSEC_IMAGE_BUILD_RELEASE) {
		DEVICE_REFUSE("boot attestation",
			      "after reset the device attests a %s build (build=%s, digest %s); only "
			      "a unit that attests build=release ships",
			      serial, build, build, br->measured ? att : "none");
	}
	if (!br->booted || !br->measured || want == NULL || !lsec_station__eq(att, want)) {
		DEVICE_REFUSE("boot attestation",
			      "after reset the device %s %s; the log's boot attestation of the "
			      "approved release records %s",
			      serial, br->booted ? "attests" : "did not boot:",
			      br->booted ? (br->measured ? att : "no digest")
					 : lsec_device_boot_error_name(br->boot_error),
			      want ? want : "none");
	}
out:
	return rc;
}

/* After that reset: a debug attach is refused and the console is closed. */
static int gate_locked(json_t *dev, lsec_device *t, const char *serial,
		       const lsec_device_fuse_value v[LSEC_FUSE_COUNT],
		       const lsec_device_boot_report *br, lsec_err *err)
{
	int rc = 0;
	lsec_err probe = LSEC_ERR_INIT;
	unsigned level = 0;
	LSEC_TRY(lsec_device_debug_lock_level(&level, t, err));
	int arc = lsec_device_debug_attach(t, &probe);
	LSEC_TRY(lsec_json_set(dev, "debug-lock-level", json_integer((json_int_t)level), err));
	LSEC_TRY(lsec_json_set(dev, "debug-attach",
			       json_string(arc == LSEC_E_TGT_ATTACH_REFUSED ? "refused"
					   : arc == 0			     ? "accepted"
									     : "failed"),
			       err));
	if (arc != LSEC_E_TGT_ATTACH_REFUSED || level < 1) {
		DEVICE_REFUSE("debug lock",
			      "a debug attach was %s (lock level %u%s%s); the log says the debug "
			      "port was locked",
			      serial, arc == 0 ? "accepted" : "not refused", level, arc == 0 ? "" : ": ",
			      arc == 0 ? "" : probe.msg);
	}
	LSEC_TRY(lsec_json_set(dev, "console-open", json_boolean(br->uart_open), err));
	if (v[LSEC_FUSE_UART_DISABLE].value < 1 || br->uart_open) {
		DEVICE_REFUSE("console",
			      "the device reads UART_DISABLE %u and its console is %s after reset; "
			      "the log says the console was closed",
			      serial, v[LSEC_FUSE_UART_DISABLE].value, br->uart_open ? "open" : "closed");
	}
out:
	return rc;
}

/*
 * The unit itself, seated at uri: its UID, possession of its certified
 * key, its secure-boot fuses, its debug lock and console, and what it
 * boots. The records say what was done; the device says what is. Every
 * check's evidence goes into *dev_out (json_decref) for the ship-gate leaf.
 * Errors: LSEC_E_STATION_SHIP_GATE naming the check, what the device said
 * and what the log says; LSEC_E_AUDIT_INDEX; device and store errors.
 */
static int gate_device(json_t **dev_out, lsec_station *st, const lsec_store_unit *unit,
		       const char *uri, bool boot_only, lsec_err *err)
{
	int rc = 0;
	lsec_device *t = NULL;
	json_t *leaves = NULL, *dev = json_object();
	lsec_device_fuse_value v[LSEC_FUSE_COUNT];
	lsec_device_boot_report br;
	*dev_out = NULL;
	memset(v, 0, sizeof(v));
	LSEC_ENSURE(dev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(uri != NULL, LSEC_E_USAGE,
		    "cannot ship unit '%s': the ship gate reads the unit, seat it (--device URI)",
		    unit->serial);
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, unit->serial, err));
	LSEC_TRY(lsec_device_open(&t, uri, err));
	LSEC_TRY(lsec_json_set(dev, "target", json_string(uri), err));
	LSEC_TRY(gate_uid(dev, t, unit, leaves, err));
	if (boot_only) {
		LSEC_TRY(gate_boot(dev, &br, t, unit->serial, leaves, err));
		goto done;
	}
	LSEC_TRY(gate_possession(dev, st, t, unit->serial, leaves, err));
	LSEC_TRY(gate_fuses_check(dev, v, t, unit->serial, leaves, err));
	LSEC_TRY(gate_boot(dev, &br, t, unit->serial, leaves, err));
	LSEC_TRY(gate_locked(dev, t, unit->serial, v, &br, err));
done:
	*dev_out = dev;
	dev = NULL;
out:
	lsec_device_close(t);
	json_decref(leaves);
	json_decref(dev);
	return rc;
}
#undef DEVICE_REFUSE

/* The ship record: the unit's state shipped (the gate's transition) and its ship-gate leaf. */
struct ship_record {
	lsec_station *st;
	const char *serial;
	const json_t *ev;
};

static int ship_record_body(void *ctx, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	struct ship_record *b = ctx;
	LSEC_TRY(lsec_store_unit_transition(store, b->serial, LSEC_UNIT_SHIPPED,
					    LSEC_STORE_SHIP_GATE, err));
	LSEC_TRY(lsec_station__leaf(b->st, b->st->cfg->operator_name, b->serial, "ship-gate",
				    "shipped", b->ev, err));
out:
	return rc;
}

int lsec_station_ship(lsec_station *st, const char *serial, const char *uri,
		      lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_unit unit;
	lsec_store_run *runs = NULL;
	const json_t **fin = NULL;
	size_t nruns = 0, nv = 0;
	lsec_sop_version_info *vers = NULL;
	json_t *leaves = NULL, *ev = NULL, *dev = NULL;
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
		/*
		 * A unit seated before it is locked still says what it boots: a debug
		 * build written over its debug port is named before the missing SOPs.
		 */
		if (uri != NULL && unit.state < LSEC_UNIT_LOCKED && unit.state >= LSEC_UNIT_FLASHED) {
			LSEC_TRY(gate_device(&dev, st, &unit, uri, true, err));
		}
		REFUSE("it is %s; only a locked unit ships (%s)", serial,
		       lsec_unit_state_name(unit.state),
		       unit.state < LSEC_UNIT_LOCKED
			       ? "run the SOPs it has not passed: linesec build --device URI"
			       : "its record: linesec unit show SERIAL");
	}
	/* The unit itself first: what it is decides before what its records claim. */
	LSEC_TRY(gate_device(&dev, st, &unit, uri, false, err));
	/* Runs are counted from the unit's leaves; the rows must agree with them. */
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
	LSEC_TRY(lsec_station__unit_state_check(leaves, &unit, err));
	LSEC_TRY(lsec_store_run_list(&runs, &nruns, st->store, serial, err));
	LSEC_TRY(runs_from_leaves(&fin, leaves, runs, nruns, serial, err));
	LSEC_TRY(lsec_sop_versions(&vers, &nv, st->store, NULL, err));
	/* The four build SOPs passed, in order, each under an approved version and body. */
	for (int k = 0; k < NBUILD; k++) {
		const json_t *pr = NULL;
		const char *pm[] = {"sop", build_sops[k], NULL};
		char vb[32], sb[32];
		for (size_t i = 0; i < nruns; i++) {
			if (fin[i] != NULL && lsec_audit_leaf_matches(fin[i], "run.finish", pm)) {
				pr = fin[i];
			}
		}
		if (pr == NULL) {
			REFUSE("SOP '%s' has no passed run", serial, build_sops[k]);
		}
		if (seq_of(pr) <= last) {
			REFUSE("SOP '%s' passed before the SOP it follows", serial, build_sops[k]);
		}
		last = seq_of(pr);
		const char *ver = lsec_audit_leaf_field(vb, pr, "sop_version");
		const char *sha = lsec_audit_leaf_field(sb, pr, "evidence." LSEC_EV_SOP_SHA256);
		if (!sop_approved(vers, nv, build_sops[k], ver, sha)) {
			REFUSE("SOP '%s' ran under version %s (SHA-256 %s), which is not approved",
			       serial, build_sops[k], ver ? ver : "(none)", sha ? sha : "(none)");
		}
		LSEC_TRY(lsec_station__require_role(st, json_string_value(json_object_get(pr, "person")),
						    "operator", "ship a unit", err));
		passed_run[k] = build_sops[k];
	}
	{
		const char *rel = passed_ev(leaves, "image.check", "release");
		const char *att = passed_ev(leaves, "device.boot-attest", LSEC_EV_ATTESTED_SHA256);
		const char *abuild =
			passed_ev(leaves, "device.boot-attest", LSEC_EV_ATTESTED_BUILD);
		if (rel == NULL || att == NULL) {
			REFUSE("no passed image check and boot attestation of an approved release",
			       serial);
		}
		/* Leaves written before the build type was attested carry none. */
		if (abuild != NULL && !lsec_station__eq(abuild, "release")) {
			REFUSE("its boot attestation records a %s build (build=%s), not a release",
			       serial, abuild, abuild);
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
	if (!credential_labelled(leaves)) {
		REFUSE("the label carrying its initial credential was not produced", serial);
	}
	if (passed_ev(leaves, "otp.verify", LSEC_EV_CLEAR_ATTEMPT) == NULL) {
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
	LSEC_TRY(lsec_json_set(ev, "device", dev, err));
	dev = NULL;
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_UNIT_STATE,
			       json_string(lsec_unit_state_name(LSEC_UNIT_SHIPPED)), err));
	/* Re-run after a conflict with another station's transaction: registry and log only. */
	LSEC_TRY(lsec_store_tx_run(st->store, false, ship_record_body,
				   &(struct ship_record){st, serial, ev}, err));
#undef REFUSE
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(dev);
	json_decref(ev);
	json_decref(leaves);
	lsec_free(fin);
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

/*
 * The unit's runs as its verified leaves record them, never the runs rows
 * (a row inserted or changed by SQL is not history): each run.start opens
 * one (its id, SOP, version, person, station, time, release), a leaf with
 * its run-outcome (run.finish, unit.quarantine, unit.decommission,
 * run.reconcile) closes it.
 */
static int history_runs(lsec_station_unit_record *r, const json_t *leaves, lsec_err *err)
{
	int rc = 0;
	size_t i;
	const json_t *l;
	r->runs = lsec_calloc(json_array_size(leaves) + 1, sizeof(*r->runs));
	LSEC_ENSURE(r->runs != NULL, LSEC_E_NOMEM, "out of memory");
	json_array_foreach(leaves, i, l)
	{
		const json_t *ev = json_object_get(l, "evidence");
		const json_t *id = json_object_get(ev, LSEC_EV_RUN);
		const char *outcome = json_string_value(json_object_get(ev, LSEC_EV_RUN_OUTCOME));
		lsec_store_run *run = NULL;
		if (!json_is_integer(id)) {
			continue;
		}
		for (size_t k = 0; k < r->nruns; k++) {
			run = r->runs[k].id == (int64_t)json_integer_value(id) ? &r->runs[k] : run;
		}
		if (run == NULL && lsec_station__eq(json_string_value(json_object_get(l, "action")),
						     "run.start")) {
			run = &r->runs[r->nruns++];
			run->id = (int64_t)json_integer_value(id);
			leaf_str(run->serial, sizeof(run->serial), l, "unit");
			leaf_str(run->sop, sizeof(run->sop), l, "sop");
			leaf_str(run->sop_version, sizeof(run->sop_version), ev, LSEC_EV_SOP_VERSION);
			leaf_str(run->person, sizeof(run->person), l, "person");
			leaf_str(run->station, sizeof(run->station), l, "station");
			leaf_str(run->started, sizeof(run->started), l, "time");
			leaf_str(run->release, sizeof(run->release), ev, LSEC_EV_RELEASE);
		}
		if (run != NULL && outcome != NULL) {
			snprintf(run->outcome, sizeof(run->outcome), "%s", outcome);
			leaf_str(run->finished, sizeof(run->finished), l, "time");
		}
	}
out:
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
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, serial, err));
	LSEC_TRY(history_runs(r, leaves, err));
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
