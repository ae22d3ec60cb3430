/*
 * exec.c - the SOP executor: one approved SOP on one unit.
 *
 * Before anything is written the unit's UID is checked against the
 * registry. Then every step is recorded twice, each time in one store
 * transaction with its audit leaf: its intent (parameters) before the
 * device is touched, and its outcome with the evidence read back after.
 * Only some of these commits wait to be durable (lsec_station__intent_durable,
 * and the end of a run); the others become durable with the next one
 * (docs/station.md, "Durability").
 * A failed step is retried as the SOP allows, then the SOP's on-failure is
 * applied and the operator is told, in the SOP's words, what to do next.
 *
 * @test tests/unit/station/test_exec.c
 */
#include "station/station_int.h"

#include <stdlib.h>

#include <jansson.h>

/* ---- action table ------------------------------------------------------------------ */

/*
 * CHANGES: the action changes the device although the SOP vocabulary calls
 * it a verification (it resets the unit, or writes its flash and restores
 * it): its intent is durable before it runs, as every device change's is.
 * BY_FLAGS: its SOP flags say whether it changes the device.
 */
enum { BY_FLAGS = 0, CHANGES = 1 };

static const struct {
	const char *id;
	lsec_station__action_fn fn;
	bool changes_device;
} impls[] = {
	{"confirm", lsec_station__act_confirm, BY_FLAGS},
	{"device.identify", lsec_station__act_identify, BY_FLAGS},
	{"label.print", lsec_station__act_label, BY_FLAGS},
	{"image.check", lsec_station__act_image_check, BY_FLAGS},
	{"device.flash", lsec_station__act_flash, BY_FLAGS},
	{"device.verify-flash", lsec_station__act_verify_flash, BY_FLAGS},
	{"device.boot-attest", lsec_station__act_boot_attest, CHANGES},
	{"device.keygen", lsec_station__act_keygen, BY_FLAGS},
	{"station.keygen", lsec_station__act_station_keygen, BY_FLAGS},
	{"ca.issue", lsec_station__act_ca_issue, BY_FLAGS},
	{"device.write-cert", lsec_station__act_write_cert, BY_FLAGS},
	{"device.prove-possession", lsec_station__act_prove, BY_FLAGS},
	{"credential.generate", lsec_station__act_cred_generate, BY_FLAGS},
	{"device.write-credential", lsec_station__act_cred_write, BY_FLAGS},
	{"otp.burn-key-digest", lsec_station__act_burn_digest, BY_FLAGS},
	{"otp.burn-debug-auth-digest", lsec_station__act_burn_debug_auth, BY_FLAGS},
	{"otp.burn-counter", lsec_station__act_burn_counter, BY_FLAGS},
	{"otp.enable-secure-boot", lsec_station__act_enable_sb, BY_FLAGS},
	{"otp.lock", lsec_station__act_otp_lock, BY_FLAGS},
	{"otp.verify", lsec_station__act_otp_verify, BY_FLAGS},
	{"secure-boot.negative-test", lsec_station__act_negative_test, CHANGES},
	{"debug.lock", lsec_station__act_debug_lock, BY_FLAGS},
	{"debug.verify-locked", lsec_station__act_debug_verify, BY_FLAGS},
	{"console.close", lsec_station__act_console_close, BY_FLAGS},
	{"console.verify-closed", lsec_station__act_console_verify, BY_FLAGS},
	{"device.erase", lsec_station__act_erase, BY_FLAGS},
	{"device.blank-check", lsec_station__act_blank_check, BY_FLAGS},
	{"identity.revoke", lsec_station__act_identity_revoke, BY_FLAGS},
	{"credential.revoke", lsec_station__act_credential_revoke, BY_FLAGS},
};

/* a's row of impls, or -1. */
static ptrdiff_t impl_index(const lsec_sop_action *a)
{
	for (size_t i = 0; a != NULL && i < sizeof(impls) / sizeof(impls[0]); i++) {
		if (lsec_station__eq(impls[i].id, a->id)) {
			return (ptrdiff_t)i;
		}
	}
	return -1;
}

lsec_station__action_fn lsec_station__action(const lsec_sop_action *a)
{
	ptrdiff_t i = impl_index(a);
	return i < 0 ? NULL : impls[i].fn;
}

/* ---- evidence helpers -------------------------------------------------------------- */

static int ev_set(lsec_station__run *r, const char *key, json_t *v, lsec_err *err)
{
	if (v == NULL || json_object_set_new(r->evidence, key, v) != 0) {
		return lsec_err_set(err, LSEC_E_NOMEM, __FILE__, __LINE__,
				    "cannot record evidence '%s': out of memory", key);
	}
	return 0;
}

int lsec_station__ev_str(lsec_station__run *r, const char *key, const char *val, lsec_err *err)
{
	return ev_set(r, key, json_string(val), err);
}

int lsec_station__ev_int(lsec_station__run *r, const char *key, int64_t val, lsec_err *err)
{
	return ev_set(r, key, json_integer((json_int_t)val), err);
}

int lsec_station__ev_bool(lsec_station__run *r, const char *key, bool val, lsec_err *err)
{
	return ev_set(r, key, json_boolean(val), err);
}

int lsec_station__ev_hex(lsec_station__run *r, const char *key, const uint8_t *p, size_t n,
			 lsec_err *err)
{
	char *hex = lsec_hex_alloc(p, n);
	int rc = ev_set(r, key, hex ? json_string(hex) : NULL, err);
	lsec_free(hex);
	return rc;
}

/*
 * A link fault on attach (LSEC_E_TGT_ATTACH_FAILED) is the cable or the
 * fixture, not the unit: the station power-cycles the socket and tries
 * again, up to ATTACH_TRIES times, and records how many it took. A refused
 * attach (locked port) is an answer, not a fault, and is not retried.
 */
#define ATTACH_TRIES 4

int lsec_station__attach(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	if (r->attached) {
		return 0;
	}
	for (unsigned i = 0; i < ATTACH_TRIES; i++) {
		rc = lsec_device_debug_attach(r->tgt, err);
		if (rc != LSEC_E_TGT_ATTACH_FAILED) {
			break;
		}
		lsec_device_boot_report br;
		lsec_err e = LSEC_ERR_INIT;
		if (lsec_device_reset(&br, r->tgt, &e) < 0 && lsec_device_failed(r->tgt)) {
			break;
		}
		r->attach_retries++;
	}
	if (rc == 0) {
		r->attached = true;
		if (r->attach_retries > 0 && r->evidence != NULL) {
			json_object_set_new(r->evidence, "attach-retries",
					    json_integer((json_int_t)r->attach_retries));
		}
	}
	return rc;
}

/* ---- recording ---------------------------------------------------------------------- */

static const char *sop_name(const lsec_station__run *r)
{
	return lsec_sop_name(r->sop);
}

/* One audit leaf for this run (inside the caller's transaction). */
static int leaf(lsec_station__run *r, const char *person, const char *step, const char *action,
		const char *outcome, const json_t *evidence, lsec_err *err)
{
	lsec_audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.person = person;
	ev.station = r->st->cfg->station_id;
	ev.unit = r->serial;
	ev.sop = sop_name(r);
	ev.sop_version = lsec_sop_version(r->sop);
	ev.step = step;
	ev.action = action;
	ev.outcome = outcome;
	ev.evidence = evidence;
	return lsec_audit_record(NULL, r->st->store, &ev, err);
}

static const char *const state_from[LSEC_SOP_KIND_COUNT] = {"new", "flashed", "provisioned",
							    "secured", NULL};
static const lsec_unit_state state_to[LSEC_SOP_KIND_COUNT] = {
	LSEC_UNIT_FLASHED, LSEC_UNIT_PROVISIONED, LSEC_UNIT_SECURED, LSEC_UNIT_LOCKED,
	LSEC_UNIT_DECOMMISSIONED};

/* Expands a SOP text with the run's placeholders. */
static void expand(char *out, size_t cap, const lsec_station__run *r, const char *text)
{
	lsec_buf b = LSEC_BUF_INIT(cap > 0 ? cap - 1 : 0);
	lsec_err e = LSEC_ERR_INIT;
	const char *names[] = {"serial", "uid", "socket", "station", "line", "product", "release"};
	const char *vals[] = {r->serial,
			      r->uid_hex,
			      r->socket,
			      r->st->cfg->station_id,
			      r->st->cfg->line_id ? r->st->cfg->line_id : "",
			      r->product,
			      r->have_release ? r->release : "the approved release"};
	out[0] = '\0';
	if (text == NULL) {
		return;
	}
	if (lsec_sop_expand(&b, text, names, vals, sizeof(names) / sizeof(names[0]), &e) == 0 &&
	    b.len < cap) {
		memcpy(out, b.data, b.len);
		out[b.len] = '\0';
	} else {
		snprintf(out, cap, "%s", text);
	}
	lsec_buf_release(&b);
}

/* ---- identification before anything is written ---------------------------------- */

/*
 * The serial printed on the unit's label when none is given: the name of
 * the unit file a sim: URI names.
 */
static int default_serial(char *out, size_t cap, const char *uri)
{
	const char *p = strrchr(uri, '/');
	p = p ? p + 1 : (strchr(uri, ':') ? strchr(uri, ':') + 1 : uri);
	size_t n = strcspn(p, ".?");
	if (n >= cap) {
		n = cap - 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int lsec_station__unit_serial(char *out, size_t cap, lsec_station *st, const char *uri,
			      const char *uid_hex, lsec_err *err)
{
	int rc = 0;
	lsec_device *t = NULL;
	lsec_device_info info;
	lsec_store_unit unit;
	lsec_err e = LSEC_ERR_INIT;
	json_t *leaves = NULL;
	char uid[2 * LSEC_DEVICE_UID_LEN + 1];
	if (strncmp(uri, "sim:", 4) == 0) { /* lint:ok */
		return default_serial(out, cap, uri);
	}
	if (uid_hex == NULL) {
		LSEC_TRY(lsec_device_open(&t, uri, err));
		LSEC_TRY(lsec_device_info_get(&info, t, err));
		lsec_hex_encode(uid, info.uid, LSEC_DEVICE_UID_LEN);
		uid_hex = uid;
	}
	LSEC_ENSURE(lsec_store_unit_get_by_uid(&unit, st->store, uid_hex, &e) == 0, LSEC_E_USAGE,
		    "cannot name the unit at '%s': its URI names no unit file and no unit of UID %s "
		    "is registered; pass the serial on the unit's label (--serial SN, or the "
		    "fixture file's serial)",
		    uri, uid_hex);
	/* The row's serial names the unit only while its UID is the one its leaf registered. */
	LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, unit.serial, err));
	LSEC_TRY(lsec_station__unit_uid_check(leaves, &unit, err));
	LSEC_ENSURE(strlen(unit.serial) < cap, LSEC_E_LIMIT, "serial '%s' is too long", unit.serial);
	memcpy(out, unit.serial, strlen(unit.serial) + 1);
out:
	json_decref(leaves);
	lsec_device_close(t);
	return rc;
}

int lsec_station__new_unit_product(const char **out, lsec_station *st, const char *serial,
				   lsec_err *err)
{
	int rc = 0;
	char names[512];
	*out = NULL;
	LSEC_ENSURE(st->cfg->nproducts > 0, LSEC_E_STATION_CONFIG,
		    "cannot register unit '%s': line '%s' has no product; add one to "
		    "line.yaml's products",
		    serial, st->cfg->line_id);
	if (st->cfg->product != NULL) {
		LSEC_TRY(lsec_station__require_product(st, st->cfg->product, "register a new unit",
						       err));
		*out = st->cfg->product;
		goto out;
	}
	LSEC_ENSURE(st->cfg->nproducts == 1, LSEC_E_STATION_CONFIG,
		    "cannot register unit '%s': line '%s' builds %zu products (%s): name the "
		    "unit's product with --product; nothing was written to the unit",
		    serial, st->cfg->line_id, st->cfg->nproducts,
		    lsec_station__product_names(names, sizeof(names), st));
	*out = st->cfg->products[0].id;
out:
	return rc;
}

int lsec_station__device_open(lsec_station__run *r, const char *uri, const char *serial,
			      lsec_err *err)
{
	int rc = 0;
	lsec_station *st = r->st;
	lsec_store_unit unit;
	lsec_err e = LSEC_ERR_INIT;
	const char *product = st->cfg->nproducts > 0 ? st->cfg->products[0].id : NULL;
	const lsec_station_product *p = NULL;
	json_t *ev = NULL, *leaves = NULL;
	LSEC_TRY(lsec_device_open(&r->tgt, uri, err));
	LSEC_TRY(lsec_device_info_get(&r->info, r->tgt, err));
	lsec_hex_encode(r->uid_hex, r->info.uid, LSEC_DEVICE_UID_LEN);
	if (lsec_store_unit_get_by_uid(&unit, st->store, r->uid_hex, &e) == 0) {
		/* The product the unit's leaf registered, not one its row was given by SQL. */
		LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, unit.serial, err));
		LSEC_TRY(lsec_station__unit_product_check(leaves, &unit, err));
		product = unit.product;
	} else if (st->cfg->product != NULL) {
		product = st->cfg->product; /* a new unit registered as --product names */
	}
	for (size_t i = 0; product != NULL && i < st->cfg->nproducts; i++) {
		if (lsec_station__eq(st->cfg->products[i].id, product)) {
			p = &st->cfg->products[i];
		}
	}
	if (p == NULL || p->family == NULL) {
		goto out;
	}
	lsec_err why = LSEC_ERR_INIT;
	int crc = lsec_device_chip_check(r->tgt, p->family, p->revision, &why);
	if (crc == LSEC_E_TGT_WRONG_CHIP) {
		ev = json_pack("{s:s,s:s,s:s,s:s?,s:s}", LSEC_EV_UID, r->uid_hex, LSEC_EV_PRODUCT,
			       p->id, "family", p->family, "revision", p->revision, "target", uri);
		lsec_err ignored = LSEC_ERR_INIT;
		if (ev != NULL && !r->dry_run) {
			(void)lsec_station__record(st, serial != NULL ? serial : r->uid_hex,
						   "device.identify", "wrong-chip-refused", ev,
						   &ignored);
		}
		LSEC_BAIL(crc, "unit at '%s' refused before anything was written: product '%s': %s",
			  uri, p->id, why.msg);
	}
	if (crc < 0) {
		*err = why;
		LSEC_TRY(crc);
	}
out:
	json_decref(ev);
	json_decref(leaves);
	return rc;
}

/*
 * The transaction bodies below touch nothing but the registry and the log
 * (no device action) and read what they decide on inside: a conflict with
 * another station's transaction runs them again (lsec_store_tx_run).
 */
struct register_tx {
	lsec_station__run *r;
	const json_t *ev;
	const char *product;
};

static int register_body(void *ctx, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	struct register_tx *b = ctx;
	lsec_station__run *r = b->r;
	const lsec_station_config *cfg = r->st->cfg;
	LSEC_TRY(lsec_store_unit_create(store, r->serial, r->uid_hex, b->product, cfg->station_id,
					err));
	LSEC_TRY(leaf(r, cfg->operator_name, NULL, "unit.register", "registered", b->ev, err));
out:
	return rc;
}

/*
 * Checks the unit against the registry before anything is written: a UID
 * held by another serial, or a serial registered with another UID, is a
 * clone; a blank unit that already holds a key or certificate is stopped.
 * Registers a new unit for the flash SOP.
 */
static int identify_unit(lsec_station__run *r, const char *uri, const char *serial,
			 lsec_store_unit *unit, lsec_err *err)
{
	int rc = 0;
	lsec_station *st = r->st;
	lsec_store_unit by_uid, by_serial;
	lsec_err e = LSEC_ERR_INIT;
	json_t *ev = NULL;
	bool uid_known, serial_known;
	char fallback[LSEC_IDENT_MAX + 2];
	if (serial == NULL) {
		LSEC_TRY(lsec_station__unit_serial(fallback, sizeof(fallback), st, uri, r->uid_hex,
						   err));
		serial = fallback;
	}
	LSEC_TRY(lsec_ident_check(serial, "unit serial", err));
	_Static_assert(LSEC_IDENT_MAX < sizeof(r->serial), "a serial fits the run");
	memcpy(r->serial, serial, strlen(serial) + 1);
	uid_known = lsec_store_unit_get_by_uid(&by_uid, st->store, r->uid_hex, &e) == 0;
	serial_known = lsec_store_unit_get(&by_serial, st->store, r->serial, &e) == 0;
	/* Whether the UID is new is the signed log's word; the rows only cross-check it. */
	uint64_t registered = 0;
	LSEC_TRY(lsec_audit_leaves_count(&registered, st->store, "uid", r->uid_hex, err));
	LSEC_ENSURE(uid_known || registered == 0, LSEC_E_AUDIT_INDEX,
		    "unit '%s' at '%s' refused before anything was written: registry table units "
		    "holds no unit with UID %s, but the signed index files %llu unit.register "
		    "leaves under 'uid:%s': the registry was changed outside linesec (cloned chip)",
		    r->serial, uri, r->uid_hex, (unsigned long long)registered, r->uid_hex);
	if ((uid_known && !lsec_station__eq(by_uid.serial, r->serial)) ||
	    (!uid_known && serial_known)) {
		const char *holder = uid_known ? by_uid.serial : r->serial;
		ev = json_pack("{s:s,s:s,s:s}", LSEC_EV_UID, r->uid_hex, "claimed-serial", r->serial,
			       "held-by", holder);
		LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
		lsec_err ignored = LSEC_ERR_INIT;
		(void)lsec_station__record(st, r->serial, "device.identify", "clone-refused", ev,
					   &ignored);
		LSEC_BAIL(LSEC_E_STATION_CLONE,
			  uid_known ? "unit '%s' at '%s' refused before anything was written: its "
				      "UID %s is held by unit '%s' (cloned chip)"
				    : "unit '%s' at '%s' refused before anything was written: its "
				      "UID %s is not the UID registered for serial '%s'",
			  r->serial, uri, r->uid_hex, holder);
	}
	if (!uid_known) {
		lsec_device_slot_status ss;
		LSEC_ENSURE(lsec_sop_get_kind(r->sop) == LSEC_SOP_FLASH, LSEC_E_NOTFOUND,
			    "unit '%s' (UID %s) is not registered: run the flash SOP first",
			    r->serial, r->uid_hex);
		memset(&ss, 0, sizeof(ss));
		if (r->info.key_slots > 0) { /* a device without a key store holds no key */
			LSEC_TRY(lsec_device_key_status(&ss, r->tgt, 0, err));
		}
		if (ss.state != LSEC_SLOT_EMPTY || ss.has_cert) {
			ev = json_pack("{s:s,s:b,s:b}", LSEC_EV_UID, r->uid_hex, "slot-key",
				       ss.state != LSEC_SLOT_EMPTY, "slot-cert", ss.has_cert);
			LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
			lsec_err ignored = LSEC_ERR_INIT;
			(void)lsec_station__record(st, r->serial, "device.identify",
						   "identity-refused", ev, &ignored);
			LSEC_BAIL(LSEC_E_STATION_HAS_IDENTITY,
				  "unit '%s' at '%s' refused before anything was written: a new "
				  "unit already holds a key or certificate in slot 0",
				  r->serial, uri);
		}
		const char *product = NULL;
		LSEC_TRY(lsec_station__new_unit_product(&product, st, r->serial, err));
		ev = json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_UID, r->uid_hex, LSEC_EV_PRODUCT,
			       product, "chip", r->info.chip_id, LSEC_EV_UNIT_STATE,
			       lsec_unit_state_name(LSEC_UNIT_NEW));
		LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
		/* Durable with the intent of the first step that writes to the unit. */
		struct register_tx b = {r, ev, product};
		LSEC_TRY(lsec_store_tx_run(st->store, true, register_body, &b, err));
	}
	LSEC_TRY(lsec_store_unit_get(unit, st->store, r->serial, err));
	snprintf(r->product, sizeof(r->product), "%s", unit->product);
out:
	json_decref(ev);
	return rc;
}

/* Closes the unit's unfinished runs as interrupted (a crash happened). */
static int close_interrupted(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_run *runs = NULL;
	size_t n = 0;
	json_t *ev = NULL;
	LSEC_TRY(lsec_store_run_list(&runs, &n, r->st->store, r->serial, err));
	for (size_t i = 0; i < n; i++) {
		if (runs[i].outcome[0] != '\0') {
			continue;
		}
		json_decref(ev);
		ev = json_pack("{s:I,s:s,s:s,s:s}", LSEC_EV_RUN, (json_int_t)runs[i].id, "sop",
			       runs[i].sop, "started", runs[i].started, LSEC_EV_RUN_OUTCOME,
			       "interrupted");
		LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
		LSEC_TRY(lsec_store_tx_begin_unsynced(&tx, r->st->store, err));
		LSEC_TRY(lsec_store_run_finish(r->st->store, runs[i].id, "interrupted", err));
		LSEC_TRY(leaf(r, r->st->cfg->operator_name, NULL, "run.reconcile", "interrupted", ev,
			      err));
		LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
		r->resumed = true;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_free(runs);
	return rc;
}

/* ---- one step -------------------------------------------------------------------------- */

int lsec_station__witness(const char **name, lsec_station *st, const char *person,
			  const char *role, const char *what, bool probe, lsec_err *err)
{
	int rc = 0;
	const char *w = st->cfg->witness_name;
	*name = NULL;
	LSEC_ENSURE(w != NULL && !lsec_station__eq(w, person), LSEC_E_STATION_ROLE,
		    "%s needs a witness: a %s logged in on station '%s' besides '%s' "
		    "('linesec login NAME'), who signs with their password",
		    what, role, st->cfg->station_id, person ? person : "(nobody)");
	{
		char act[224];
		snprintf(act, sizeof(act), "witness %s", what);
		rc = lsec_station__require_role(st, w, role, act, err);
		if (rc < 0) {
			char inner[sizeof(err->msg)];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			LSEC_BAIL(rc, "%s: a %s logs in on station '%s' ('linesec login NAME'), or "
				      "--witness NAME names one already logged in",
				  inner, role, st->cfg->station_id);
		}
	}
	LSEC_ENSURE(st->cfg->witness_sign != NULL, LSEC_E_AUTH,
		    "%s needs the witness '%s' to sign, and nothing here can ask for their "
		    "signature",
		    what, w);
	LSEC_TRY(st->cfg->witness_sign(st->cfg->witness_ctx, w, role, what, probe, err));
	*name = w;
out:
	return rc;
}

int lsec_station__witness_evidence(json_t *ev, const char *witness, const char *role,
				   lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_WITNESSED_BY, json_string(witness), err));
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_WITNESS_ROLE, json_string(role), err));
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_MEANING, json_string(LSEC_MEANING_WITNESSED), err));
out:
	return rc;
}

/*
 * The step's witness signs now (lsec_station__witness): 0 and *witness, or
 * 1 with why set (the step fails; a refused password is the line's
 * "signature" leaf), < 0 when something else broke.
 */
static int witness_step(const char **witness, lsec_station__run *r, const char *person,
			lsec_err *why)
{
	char what[160];
	snprintf(what, sizeof(what), "step '%s' of SOP '%s' on unit '%s'", r->step->id, sop_name(r),
		 r->serial);
	return lsec_station__witness(witness, r->st, person, r->step->witness, what, false, why) ==
			       0
		       ? 0
		       : 1;
}

/* Whether two people rows are the same, field by field. */
static bool same_person_row(const lsec_store_person *a, const lsec_store_person *b)
{
	return a->id == b->id && a->role == b->role && a->disabled == b->disabled &&
	       lsec_station__eq(a->name, b->name) && lsec_station__eq(a->created, b->created) &&
	       lsec_ct_equal(a->pw_hash, b->pw_hash, sizeof(a->pw_hash));
}

/*
 * lsec_station__require_role for a step of r. The people row is read for
 * every step; the check of that row against the person's leaves (a walk of
 * the log) is made in full the first time in the run and again whenever the
 * row differs in any field from the one checked, or a person leaf naming
 * them was appended since (a row disabled and written back to its old bytes
 * by SQL is the same row, its leaf is not). 0 or < 0 with err set.
 */
static int run_role(lsec_station__run *r, const char *person, const char *role, lsec_err *err)
{
	int rc = 0;
	lsec_store_person p;
	lsec_err e = LSEC_ERR_INIT;
	uint64_t size = 0;
	bool changed = true;
	memset(&p, 0, sizeof(p));
	if (person != NULL && lsec_store_person_get(&p, r->st->store, person, &e) == 0) {
		for (size_t i = 0; i < r->n_role_ok; i++) {
			if (same_person_row(&r->role_ok[i].row, &p) &&
			    lsec_station__eq(r->role_ok[i].role, role) &&
			    lsec_line_person_changed(&changed, r->st->store, person,
						     r->role_ok[i].log_size, &e) == 0 &&
			    !changed) {
				goto out;
			}
		}
	}
	LSEC_TRY(lsec_store_leaf_count(&size, r->st->store, err));
	LSEC_TRY(lsec_station__require_role(r->st, person, role, "do this step", err));
	for (size_t i = 0; i < r->n_role_ok; i++) {
		if (lsec_station__eq(r->role_ok[i].row.name, p.name) &&
		    lsec_station__eq(r->role_ok[i].role, role)) {
			r->role_ok[i].row = p; /* checked again in full: the entry is renewed */
			r->role_ok[i].log_size = size;
			goto out;
		}
	}
	if (p.name[0] != '\0' && r->n_role_ok < sizeof(r->role_ok) / sizeof(r->role_ok[0]) &&
	    strlen(role) < sizeof(r->role_ok[0].role)) {
		r->role_ok[r->n_role_ok].log_size = size;
		r->role_ok[r->n_role_ok].row = p;
		snprintf(r->role_ok[r->n_role_ok].role, sizeof(r->role_ok[0].role), "%s", role);
		r->n_role_ok++;
	}
out:
	lsec_wipe(p.pw_hash, sizeof(p.pw_hash));
	return rc;
}

/* Who does the step: the operator, or the second logged-in person holding its role. */
static int step_person(const char **out, lsec_station__run *r, const char *role, lsec_err *err)
{
	int rc = 0;
	lsec_err e1 = LSEC_ERR_INIT;
	const char *op = r->st->cfg->operator_name, *wit = r->st->cfg->witness_name;
	*out = NULL;
	if (run_role(r, op, role, &e1) == 0) {
		*out = op;
		goto out;
	}
	if (wit != NULL) {
		lsec_err e2 = LSEC_ERR_INIT;
		if (run_role(r, wit, role, &e2) == 0) {
			*out = wit;
			goto out;
		}
	}
	LSEC_BAIL(LSEC_E_STATION_ROLE, "cannot do step '%s' of SOP '%s' on unit '%s': it needs a %s "
				       "and nobody logged in here is one",
		  r->step->id, sop_name(r), r->serial, role);
out:
	return rc;
}

static json_t *params_json(const lsec_sop_step *s)
{
	json_t *o = json_object();
	for (size_t i = 0; o != NULL && i < s->nparams; i++) {
		json_object_set_new(o, s->param_names[i], json_string(s->param_values[i]));
	}
	return o;
}

struct outcome_tx {
	lsec_station__run *r;
	int64_t step_id;
	const char *person, *witness;
	bool passed;
};

static int outcome_body(void *ctx, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	struct outcome_tx *b = ctx;
	char fp[65], cs[41];
	if (b->passed && b->r->add_identity) {
		lsec_buf der = LSEC_BUF_INIT(1 << 16);
		lsec_hex_encode(fp, b->r->key_fp, 32);
		lsec_cert_serial_hex(cs, b->r->cert);
		rc = lsec_cert_encode(&der, b->r->cert, true, err);
		if (rc == 0) {
			rc = lsec_store_identity_add(store, b->r->serial, fp, cs, der.data, der.len,
						     LSEC_KEY_ACTIVE, err);
		}
		lsec_buf_release(&der);
		LSEC_TRY(rc);
	}
	if (b->passed && b->r->add_credential) {
		LSEC_TRY(lsec_store_credential_add(store, b->r->serial, b->r->cred_fp_hex, err));
	}
	const char *outcome = b->passed ? "passed" : "failed";
	LSEC_TRY(lsec_store_step_finish(store, b->step_id, outcome, b->witness, b->r->evidence,
					err));
	LSEC_TRY(leaf(b->r, b->person, b->r->step->id, b->r->step->action->id, outcome,
		      b->r->evidence, err));
out:
	return rc;
}

/*
 * The outcome transaction: the step closes with its evidence, the registry
 * changes the action asked for land, and so does the audit leaf.
 */
static int record_outcome(lsec_station__run *r, int64_t step_id, const char *person,
			  const char *witness, bool passed, const lsec_err *why, lsec_err *err)
{
	int rc = 0;
	lsec_station *st = r->st;
	if (!passed && why != NULL) {
		json_object_set_new(r->evidence, "error", json_string(why->msg));
		json_object_set_new(r->evidence, "error-code",
				    json_string(lsec_code_name(why->code) ? lsec_code_name(why->code)
									  : "error"));
		json_object_set_new(r->evidence, LSEC_EV_FAILURE_CLASS,
				    json_string(lsec_station_failure_class_name(
					    lsec_station_failure_classify(why->code))));
	}
	if (witness != NULL) {
		/* Who witnessed, in which role and what the signature means; the leaf says when. */
		LSEC_TRY(lsec_station__witness_evidence(r->evidence, witness, r->step->witness,
							err));
	}
	if (passed && r->add_identity) {
		/* The step's leaf records the identity the registry now holds. */
		LSEC_TRY(lsec_json_set(r->evidence, LSEC_EV_KEY_STATE,
				       json_string(lsec_key_state_name(LSEC_KEY_ACTIVE)), err));
	}
	/*
	 * Unsynced: the step is safe to repeat from its intent, and what it
	 * issued (an identity, a credential) leaves the station only after the
	 * durable intent of the step that hands it over.
	 */
	struct outcome_tx ob = {r, step_id, person, witness, passed};
	LSEC_TRY(lsec_store_tx_run(st->store, true, outcome_body, &ob, err));
out:
	return rc;
}

/*
 * Whether a step's intent must be durable before the action: the action is
 * irreversible, or it changes the device (the next run must find the
 * interrupted run that explains a key in the slot, and what the station
 * issued is durable before it is handed over; a verification that resets
 * the unit or rewrites its flash is marked CHANGES in impls), or it prints
 * a label. A step that only reads the device back, computes in the station
 * (image.check, ca.issue, credential.generate) or asks a person to confirm
 * is repeated after a crash instead, from the last durable record.
 */
bool lsec_station__intent_durable(const lsec_sop_action *a)
{
	unsigned outside = LSEC_SOP_ACTION_DEVICE | LSEC_SOP_ACTION_ADVISORY;
	ptrdiff_t i = impl_index(a);
	return (a->flags & LSEC_SOP_ACTION_IRREVERSIBLE) != 0 ||
	       (i >= 0 && impls[i].changes_device) ||
	       ((a->flags & LSEC_SOP_ACTION_VERIFIES) == 0 && (a->flags & outside) != 0);
}

/* The run and the steps row a step leaf records (LSEC_EV_RUN, LSEC_EV_ATTEMPT). */
static int step_ids(json_t *ev, int64_t run_id, int64_t step_id, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_RUN, json_integer((json_int_t)run_id), err));
	LSEC_TRY(lsec_json_set(ev, LSEC_EV_ATTEMPT, json_integer((json_int_t)step_id), err));
out:
	return rc;
}

struct intent_tx {
	lsec_station__run *r;
	const char *person;
	json_t *intent;
	int64_t *step_id;
};

static int intent_body(void *ctx, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	struct intent_tx *b = ctx;
	const lsec_sop_step *s = b->r->step;
	LSEC_TRY(lsec_store_step_begin(b->step_id, store, b->r->run_id, s->id, b->person, err));
	/* The leaf names its run and its steps row, inside the hash (audit verify replays them). */
	LSEC_TRY(step_ids(b->intent, b->r->run_id, *b->step_id, err));
	LSEC_TRY(leaf(b->r, b->person, s->id, s->action->id, "started", b->intent, err));
out:
	return rc;
}

/*
 * Runs one attempt of the current step. Returns 0 when it passed, 1 when
 * the device or a check failed (why says how), < 0 when recording failed.
 */
static int attempt(lsec_station__run *r, const char *person, lsec_err *why, lsec_err *err)
{
	int rc = 0;
	lsec_station *st = r->st;
	const lsec_sop_step *s = r->step;
	int64_t step_id = 0;
	json_t *intent = params_json(s);
	lsec_station__action_fn fn = lsec_station__action(s->action);
	const char *witness = NULL;
	LSEC_ENSURE(intent != NULL, LSEC_E_NOMEM, "out of memory");
	json_object_set_new(intent, "role", json_string(s->who));
	if (r->resumed) {
		json_object_set_new(intent, "reconcile", json_true());
	}
	if (r->transient_retry) {
		/* the automatic retry after a dropped link or a timeout */
		json_object_set_new(intent, "transient-retry", json_true());
	}
	/* Intent first: before an irreversible act the registry knows what is about to happen. */
	struct intent_tx ib = {r, person, intent, &step_id};
	LSEC_TRY(lsec_store_tx_run(st->store, !lsec_station__intent_durable(s->action), intent_body,
				   &ib, err));
	lsec_station__crash_point(sop_name(r), s->id, "intent");

	json_decref(r->evidence);
	r->evidence = json_object();
	LSEC_ENSURE(r->evidence != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(step_ids(r->evidence, r->run_id, step_id, err));
	r->add_identity = r->add_credential = false;
	r->person = person;
	int arc = 0;
	/*
	 * The witness signs at the moment of witnessing: before an irreversible
	 * act (a refused signature leaves it undone), after a manual or
	 * reversible one (they sign for what they saw done).
	 */
	bool sign_first = s->witness != NULL && (s->action->flags & LSEC_SOP_ACTION_IRREVERSIBLE);
	if (sign_first) {
		arc = witness_step(&witness, r, person, why);
	}
	if (arc != 0) {
		/* not acted on: the witness did not sign */
	} else if (fn == NULL) {
		arc = lsec_err_set(why, LSEC_E_INTERNAL, __FILE__, __LINE__,
				   "action '%s' has no implementation in this station",
				   s->action->id);
	} else {
		arc = fn(r, why);
	}
	if (arc == 0 && s->witness != NULL && !sign_first) {
		arc = witness_step(&witness, r, person, why);
	}
	if (arc != 0) {
		/* A retry that only met the session the first failure left failed is classed by it. */
		why->code = lsec_station__failure_cause(r->step_cause, why->code);
		r->step_cause = r->step_cause != 0 ? r->step_cause : why->code;
	}
	lsec_station__crash_point(sop_name(r), s->id, "acted");
	LSEC_TRY(record_outcome(r, step_id, person, witness, arc == 0, why, err));
	lsec_station__crash_point(sop_name(r), s->id, "done");
	rc = arc == 0 ? 0 : 1;
out:
	json_decref(intent);
	return rc;
}

/*
 * A link that dropped or timed out (LSEC_E_TGT_LINK, LSEC_E_TGT_TIMEOUT) in
 * a step that is safe to repeat gets one more attempt, after the SOP's own
 * retries, on a reconnected session. Never after an irreversible action: a
 * fuse burn or lock may have reached the device before the link went.
 */
static bool transient_retry(const lsec_sop_step *s, const lsec_err *why)
{
	return (why->code == LSEC_E_TGT_LINK || why->code == LSEC_E_TGT_TIMEOUT) &&
	       (s->action->flags & LSEC_SOP_ACTION_IRREVERSIBLE) == 0;
}

/* Applies the SOP's on-failure to the unit and fills res; returns the run's code. */
static int on_failure(lsec_station_result *res, lsec_station__run *r, const lsec_err *why,
		      lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_station *st = r->st;
	const lsec_sop_step *s = r->step;
	json_t *ev = NULL;
	lsec_store_unit unit;
	lsec_unit_state to = LSEC_UNIT_QUARANTINED;
	res->failed = true;
	res->cause = why->code;
	snprintf(res->sop, sizeof(res->sop), "%s", sop_name(r));
	snprintf(res->step, sizeof(res->step), "%s", s->id);
	/* A step allowed to continue that must not (a lost credential) quarantines. */
	lsec_sop_then then = s->then == LSEC_SOP_THEN_CONTINUE ? LSEC_SOP_THEN_QUARANTINE : s->then;
	snprintf(res->then, sizeof(res->then), "%s", lsec_sop_then_name(then));
	expand(res->message, sizeof(res->message), r, s->failure_message);
	if (then == LSEC_SOP_THEN_DECOMMISSION || r->decom != NULL) {
		/* A unit failing its decommissioning stays pending until resolved. */
		to = LSEC_UNIT_DECOMMISSION_PENDING;
	}
	ev = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "then", res->then, "message", res->message,
		       "reason", why->msg, "failed-step", s->id, LSEC_EV_RUN, (json_int_t)r->run_id,
		       LSEC_EV_RUN_OUTCOME, "failed", LSEC_EV_UNIT_STATE, lsec_unit_state_name(to));
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_run_finish(st->store, r->run_id, "failed", err));
	LSEC_TRY(lsec_store_unit_get(&unit, st->store, r->serial, err));
	if (unit.state != to) {
		LSEC_TRY(lsec_store_unit_transition(st->store, r->serial, to, 0, err));
	}
	LSEC_TRY(leaf(r, st->cfg->operator_name, s->id,
		      to == LSEC_UNIT_QUARANTINED ? "unit.quarantine" : "unit.decommission",
		      lsec_unit_state_name(to), ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	res->state = to;
	res->stop_line = then == LSEC_SOP_THEN_STOP_LINE;
	{
		/* What happened, to what, and what became of the unit; never an empty slot. */
		const char *done = to == LSEC_UNIT_DECOMMISSION_PENDING
					   ? "the unit is pending decommissioning"
				   : res->stop_line ? "the unit is quarantined and the line stops"
						    : "the unit is quarantined";
		const char *reason = why->msg[0] != '\0' ? why->msg
					: lsec_code_name(why->code) != NULL
					    ? lsec_code_name(why->code)
					    : "no reason given";
		rc = lsec_err_set(err,
				  res->stop_line ? LSEC_E_STATION_STOP_LINE : LSEC_E_STATION_STEP,
				  __FILE__, __LINE__,
				  "unit '%s': step '%s' of SOP '%s' failed: %s; %s (SOP: %s)",
				  r->serial, s->id, sop_name(r), reason, done, res->then);
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	return rc;
}

static void progress(lsec_station__run *r, const char *step, const char *outcome)
{
	const lsec_station_config *c = r->st->cfg;
	if (c->progress != NULL) {
		c->progress(c->progress_ctx, c->socket, r->serial, sop_name(r), step, outcome);
	}
}

static void run_release(lsec_station__run *r)
{
	lsec_device_close(r->tgt);
	lsec_image_free(r->image);
	lsec_cert_free(r->cert);
	lsec_secret_free(r->credential);
	json_decref(r->evidence);
	lsec_sop_free((lsec_sop *)(uintptr_t)r->sop);
	lsec_wipe(r->role_ok, sizeof(r->role_ok));
	memset(r, 0, sizeof(*r));
}

/*
 * Every witness sop's steps need is logged in here and can sign (asked
 * nothing yet), or the error, ending "nothing was done to the unit". r: the
 * run, whose steps may not all apply; NULL: a later SOP of a build, every
 * step that runs on a reachable unit.
 */
static int witnesses_ready(lsec_station *st, const lsec_sop *sop, const lsec_station__run *r,
			   const char *serial, lsec_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
		const lsec_sop_step *s = lsec_sop_step_at(sop, i);
		const char *w = NULL;
		char what[160];
		if (s->witness == NULL || (r != NULL && !lsec_station__step_applies(r, s)) ||
		    (r == NULL && s->when == LSEC_SOP_WHEN_UNREACHABLE)) {
			continue;
		}
		snprintf(what, sizeof(what), "step '%s' of SOP '%s' on unit '%s'", s->id,
			 lsec_sop_kind_name(lsec_sop_get_kind(sop)), serial);
		rc = lsec_station__witness(&w, st, st->cfg->operator_name, s->witness, what, true,
					   err);
		if (rc < 0) {
			char inner[sizeof(err->msg)];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			LSEC_BAIL(rc, "%s; nothing was done to the unit", inner);
		}
	}
out:
	return rc;
}

struct run_tx {
	lsec_station__run *r;
	json_t *ev;
	lsec_unit_state to; /* run_finish_body */
};

/* The run opens: its row, its release, its run.start leaf, the release quota. */
static int run_start_body(void *ctx, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	struct run_tx *b = ctx;
	lsec_station__run *r = b->r;
	const lsec_station_config *cfg = r->st->cfg;
	LSEC_TRY(lsec_store_run_begin(&r->run_id, store, r->serial, sop_name(r), r->sop_version,
				      cfg->operator_name, cfg->station_id, err));
	LSEC_TRY(lsec_json_set(b->ev, LSEC_EV_RUN, json_integer((json_int_t)r->run_id), err));
	if (r->have_release) {
		LSEC_TRY(lsec_store_run_set_release(store, r->run_id, r->release, err));
	}
	if (cfg->socket != 0) {
		LSEC_TRY(lsec_store_run_set_socket(store, r->run_id, cfg->socket, err));
	}
	LSEC_TRY(leaf(r, cfg->operator_name, NULL, "run.start", "started", b->ev, err));
	LSEC_TRY(lsec_station__quota_check(r, err));
out:
	return rc;
}

/* The run passed: its row closed, the unit's new state, the run.finish leaf. */
static int run_finish_body(void *ctx, lsec_store *store, lsec_err *err)
{
	int rc = 0;
	struct run_tx *b = ctx;
	lsec_station__run *r = b->r;
	LSEC_TRY(lsec_store_run_finish(store, r->run_id, "passed", err));
	LSEC_TRY(lsec_store_unit_transition(store, r->serial, b->to, 0, err));
	LSEC_TRY(leaf(r, r->st->cfg->operator_name, NULL, "run.finish", "passed", b->ev, err));
out:
	return rc;
}

/* Runs the SOP's steps on an identified unit (r->sop, r->tgt set). */
static int run_steps(lsec_station_result *res, lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_station *st = r->st;
	json_t *ev = NULL;
	lsec_sop_kind kind = lsec_sop_get_kind(r->sop);
	char shahex[65];
	lsec_hex_encode(shahex, lsec_sop_sha256(r->sop), 32);
	snprintf(r->sop_version, sizeof(r->sop_version), "%d", lsec_sop_version(r->sop));
	snprintf(r->sop_sha256, sizeof(r->sop_sha256), "%s", shahex);
	{
		/* applies-to.product is honoured: a SOP written for one product runs on no other. */
		const char *ap = lsec_sop_product(r->sop);
		LSEC_ENSURE(ap != NULL && (lsec_station__eq(ap, "any") || lsec_station__eq(ap, r->product)),
			    LSEC_E_STATION_CONFIG,
			    "the approved %s SOP (version %d) applies to product '%s', not to unit "
			    "'%s' of product '%s': nothing was done",
			    sop_name(r), lsec_sop_version(r->sop), ap ? ap : "?", r->serial, r->product);
	}
	/* Every witness the run will need is here and can sign before anything is done. */
	LSEC_TRY(witnesses_ready(st, r->sop, r, r->serial, err));
	if (kind == LSEC_SOP_FLASH || kind == LSEC_SOP_SECURE_BOOT) {
		LSEC_TRY(lsec_station__release_load(r, err));
	}
	LSEC_TRY(lsec_station__release_first(r, err));
	ev = json_pack("{s:s,s:s,s:s,s:s,s:s}", LSEC_EV_SOP_VERSION, r->sop_version,
		       LSEC_EV_SOP_SHA256, shahex, LSEC_EV_UID, r->uid_hex, "target",
		       r->tgt ? lsec_device_uri(r->tgt) : "", LSEC_EV_RELEASE,
		       r->have_release ? r->release : "");
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	if (r->release_first) {
		LSEC_TRY(lsec_json_set(ev, LSEC_EV_RELEASE_FIRST, json_true(), err));
	}
	/* Durable with the first durable intent of its steps. */
	LSEC_TRY(lsec_store_tx_run(st->store, true, run_start_body, &(struct run_tx){.r = r, .ev = ev},
				   err));

	for (size_t i = 0; i < lsec_sop_step_count(r->sop); i++) {
		const lsec_sop_step *s = lsec_sop_step_at(r->sop, i);
		const char *person = NULL;
		lsec_err why = LSEC_ERR_INIT;
		int a = 1;
		if (!lsec_station__step_applies(r, s)) {
			continue;
		}
		r->step = s;
		LSEC_TRY(step_person(&person, r, s->who, err));
		progress(r, s->id, NULL);
		bool again = false; /* the one automatic retry of a transient failure */
		r->step_cause = 0;
		for (unsigned k = 0; k <= s->retry + (again ? 1u : 0u); k++) {
			lsec_err_clear(&why);
			if (k > 0 && r->tgt != NULL && lsec_device_failed(r->tgt)) {
				lsec_device_boot_report br;
				lsec_err e = LSEC_ERR_INIT;
				if (lsec_device_reset(&br, r->tgt, &e) < 0) {
					/* the retry below meets the device as it is */
				}
				r->attached = false;
			}
			LSEC_TRY(a = attempt(r, person, &why, err));
			res->steps_run++;
			if (a == 0) {
				break;
			}
			if (!again && k == s->retry && transient_retry(s, &why)) {
				again = true;
				r->transient_retry = true;
			}
		}
		r->transient_retry = false;
		progress(r, s->id, a == 0 ? "passed" : "failed");
		if (a != 0 && s->then == LSEC_SOP_THEN_CONTINUE && r->credential == NULL) {
			continue;
		}
		if (a != 0) {
			if (r->credential != NULL) {
				/* An advisory step may continue, but not past a credential nobody has. */
				char inner[sizeof(why.msg)];
				snprintf(inner, sizeof(inner), "%s", why.msg);
				lsec_err_set(&why, why.code, __FILE__, __LINE__,
					     "the label carrying the unit's initial credential was not "
					     "produced: %s",
					     inner);
			}
			rc = on_failure(res, r, &why, err);
			goto out;
		}
	}
	if (r->credential != NULL && r->step != NULL) {
		/* A credential generated and never put on a label: the unit is not shipped. */
		lsec_err why = LSEC_ERR_INIT;
		lsec_err_set(&why, LSEC_E_STATE, __FILE__, __LINE__,
			     "the unit's initial credential was generated but no label carried it");
		rc = on_failure(res, r, &why, err);
		goto out;
	}
	json_decref(ev);
	ev = json_pack("{s:s,s:s,s:I,s:s,s:s}", LSEC_EV_SOP_VERSION, r->sop_version,
		       LSEC_EV_SOP_SHA256, shahex, LSEC_EV_RUN, (json_int_t)r->run_id,
		       LSEC_EV_RUN_OUTCOME, "passed", LSEC_EV_UNIT_STATE,
		       lsec_unit_state_name(state_to[kind]));
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_run(st->store, false, run_finish_body,
				   &(struct run_tx){r, ev, state_to[kind]}, err));
	res->state = state_to[kind];
out:
	json_decref(ev);
	return rc;
}

/* Opens the device, identifies the unit and checks its state for kind. */
static int run_open(lsec_station__run *r, lsec_station *st, lsec_sop_kind kind, const char *uri,
		    const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit unit;
	lsec_sop *sop = NULL;
	json_t *leaves = NULL;
	r->st = st;
	snprintf(r->socket, sizeof(r->socket), "%u", st->cfg->socket);
	LSEC_ENSURE(uri != NULL, LSEC_E_USAGE, "no unit given (--device URI)");
	LSEC_TRY(lsec_station__sop_ready(&sop, st, kind, err));
	r->sop = sop;
	/* Manual steps need someone to confirm them: refuse before the unit is touched. */
	for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
		const lsec_sop_step *s = lsec_sop_step_at(sop, i);
		LSEC_ENSURE(!(s->action->flags & LSEC_SOP_ACTION_MANUAL) || st->cfg->batch ||
				    st->cfg->confirm != NULL,
			    LSEC_E_STATION_NOT_CONFIRMED,
			    "SOP '%s' has manual steps ('%s'): run it at a terminal, or with --batch "
			    "to confirm them as the logged-in person",
			    lsec_sop_kind_name(kind), s->id);
	}
	LSEC_TRY(lsec_station__device_open(r, uri, serial, err));
	LSEC_TRY(identify_unit(r, uri, serial, &unit, err));
	LSEC_TRY(close_interrupted(r, err));
	LSEC_ENSURE(state_from[kind] != NULL, LSEC_E_USAGE,
		    "SOP '%s' is not run by 'linesec run' (see 'linesec decommission')",
		    lsec_sop_kind_name(kind));
	/* The state the run starts from is the one the unit's leaves prove. */
	LSEC_TRY(lsec_station__unit_leaves(&leaves, r->st->store, r->serial, err));
	LSEC_TRY(lsec_station__unit_state_check(leaves, &unit, err));
	LSEC_TRY(lsec_station__unit_uid_check(leaves, &unit, err));
	LSEC_TRY(lsec_station__unit_product_check(leaves, &unit, err));
	LSEC_ENSURE(lsec_station__eq(lsec_unit_state_name(unit.state), state_from[kind]),
		    LSEC_E_STATION_WRONG_STATE,
		    "cannot run SOP '%s' on unit '%s': it is %s, the SOP starts from %s",
		    lsec_sop_kind_name(kind), r->serial, lsec_unit_state_name(unit.state),
		    state_from[kind]);
out:
	json_decref(leaves);
	return rc;
}

int lsec_station_run(lsec_station_result *res, lsec_station *st, lsec_sop_kind kind,
		     const char *uri, const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_station__run r;
	memset(&r, 0, sizeof(r));
	LSEC_ENSURE_REF(res);
	memset(res, 0, sizeof(*res));
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_station__label_sweep(st, err));
	rc = run_open(&r, st, kind, uri, serial, err);
	snprintf(res->serial, sizeof(res->serial), "%s", r.serial);
	LSEC_TRY(rc);
	LSEC_TRY(run_steps(res, &r, err));
out:
	if (rc < 0 && !res->failed) {
		res->failed = true;
		res->cause = rc;
		res->stop_line = rc == LSEC_E_STATION_QUOTA || rc == LSEC_E_STATION_RELEASE ||
				 rc == LSEC_E_SOP_NOT_APPROVED || rc == LSEC_E_SOP_WITHDRAWN;
	}
	run_release(&r);
	return rc;
}

int lsec_station_build(lsec_station_result *res, lsec_station *st, const char *uri,
		       const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit unit;
	lsec_err e = LSEC_ERR_INIT;
	char sn[LSEC_STORE_NAME_MAX + 1];
	LSEC_ENSURE_REF(res);
	memset(res, 0, sizeof(*res));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(uri != NULL, LSEC_E_USAGE, "no unit given (--device URI)");
	if (serial != NULL) {
		snprintf(sn, sizeof(sn), "%s", serial);
	} else {
		LSEC_TRY(lsec_station__unit_serial(sn, sizeof(sn), st, uri, NULL, err));
	}
	/*
	 * The witnesses of every SOP still to run are here before the first
	 * one starts: a missing supervisor is not found after the fuses burnt.
	 */
	for (int kind = LSEC_SOP_FLASH; kind <= LSEC_SOP_DEBUG_LOCK; kind++) {
		lsec_sop *sop = NULL;
		if (lsec_store_unit_get(&unit, st->store, sn, &e) == 0 &&
		    unit.state > (lsec_unit_state)kind && unit.state <= LSEC_UNIT_LOCKED) {
			continue;
		}
		/* A SOP the person may not run stops the build before the first one starts. */
		rc = lsec_station__sop_ready(&sop, st, (lsec_sop_kind)kind, err);
		if (rc == LSEC_E_SOP_NOT_ACKNOWLEDGED || rc == LSEC_E_SOP_WITHDRAWN) {
			res->failed = true;
			res->cause = rc;
			res->stop_line = rc == LSEC_E_SOP_WITHDRAWN;
			snprintf(res->serial, sizeof(res->serial), "%s", sn);
			goto out;
		}
		if (rc < 0) {
			lsec_err_clear(err);
			rc = 0;
			continue; /* the run of that SOP names it */
		}
		rc = witnesses_ready(st, sop, NULL, sn, err);
		lsec_sop_free(sop);
		if (rc < 0) {
			res->failed = true;
			snprintf(res->serial, sizeof(res->serial), "%s", sn);
			goto out;
		}
	}
	for (int kind = LSEC_SOP_FLASH; kind <= LSEC_SOP_DEBUG_LOCK; kind++) {
		/* Each SOP starts where the unit is: a rebuilt or resumed unit skips what it passed. */
		if (lsec_store_unit_get(&unit, st->store, sn, &e) == 0 &&
		    unit.state > (lsec_unit_state)kind && unit.state <= LSEC_UNIT_LOCKED) {
			continue;
		}
		unsigned steps = res->steps_run;
		rc = lsec_station_run(res, st, (lsec_sop_kind)kind, uri, serial, err);
		if (rc == LSEC_E_STATION_WRONG_STATE && res->serial[0] != '\0' &&
		    lsec_store_unit_get(&unit, st->store, res->serial, &e) == 0 &&
		    unit.state == LSEC_UNIT_SHIPPED) {
			/* This very unit (its UID checked) was built before: nothing to do again. */
			res->state = LSEC_UNIT_SHIPPED;
			LSEC_BAIL(rc, "unit '%s' at '%s' is already shipped: nothing was built again "
				      "(its record: linesec unit show %s)",
				  res->serial, uri, res->serial);
		}
		LSEC_TRY(rc);
		res->steps_run += steps;
		snprintf(sn, sizeof(sn), "%s", res->serial);
	}
	snprintf(res->serial, sizeof(res->serial), "%s", sn);
	rc = lsec_station_ship(st, sn, uri, err);
	if (rc < 0) {
		res->failed = true;
		res->cause = rc;
		snprintf(res->step, sizeof(res->step), "ship-gate");
		snprintf(res->message, sizeof(res->message),
			 "Unit '%s' is not shipped. Deal with what the ship gate names above, then "
			 "run the gate again: linesec ship %s --device %s",
			 sn, sn, uri);
		goto out;
	}
	res->shipped = true;
	res->state = LSEC_UNIT_SHIPPED;
out:
	return rc;
}

int lsec_station__run_steps(lsec_station_result *res, lsec_station__run *r, lsec_err *err)
{
	return run_steps(res, r, err);
}

void lsec_station__run_release(lsec_station__run *r)
{
	run_release(r);
}

int lsec_station__close_interrupted(lsec_station__run *r, lsec_err *err)
{
	return close_interrupted(r, err);
}
