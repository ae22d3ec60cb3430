/*
 * scrap_report.c - the sanitisation record an auditor asks for (NIST SP
 * 800-88 Rev. 1, section 4.7 "Documentation"): for every decommissioned
 * unit, why, how it was wiped and verified, what was revoked, how it was
 * destroyed, by whom and who witnessed it; and the units still pending
 * destruction. Built from the unit's audit leaves, so it says only what the
 * verifying log holds.
 *
 * @test tests/unit/station/test_decommission.c
 */
#include "station/station_int.h"

#include <ctype.h>

#include <jansson.h>

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* obj[key] = v, taking v; false when v is NULL or cannot be set. */
static bool put(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

static json_t *text_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/*
 * The step a leaf records: by, time and the leaf's evidence fields named in
 * keys (NULL-terminated), the texts borrowed from the kept evidence. False
 * when out of memory.
 */
static bool step_of(lsec_station_scrap_step *sp, const json_t *leaf, const char *const *keys)
{
	const json_t *ev = json_object_get(leaf, "evidence");
	sp->recorded = true;
	sp->evidence = json_object();
	if (sp->evidence == NULL) {
		return false;
	}
	bool ok = put(sp->evidence, "by", text_or_null(str(leaf, "person"))) &&
		  put(sp->evidence, "time", text_or_null(str(leaf, "time")));
	for (size_t i = 0; ok && keys[i] != NULL; i++) {
		json_t *v = json_object_get(ev, keys[i]);
		ok = v == NULL || json_object_set(sp->evidence, keys[i], v) == 0;
	}
	const json_t *e = sp->evidence;
	sp->by = str(e, "by");
	sp->time = str(e, "time");
	sp->reason = str(e, "reason");
	sp->unreachable = str(e, "unreachable");
	sp->erase = str(e, "erase");
	sp->readback_sha256 = str(e, LSEC_EV_READBACK_SHA256);
	sp->sanitisation = str(e, "sanitisation");
	sp->crl_reason = str(e, "crl-reason");
	sp->ncertificates = json_array_size(json_object_get(e, "certificates"));
	sp->crl_number = (int64_t)json_integer_value(json_object_get(e, "crl-number"));
	sp->method = str(e, "method");
	sp->destroyed_by = str(e, "destroyed-by");
	sp->witnessed_by = str(e, "witnessed-by");
	sp->photo_sha256 = str(e, "photo-sha256");
	return ok;
}

/* The report entry of one unit from its leaves (those of its last decommissioning). */
static int unit_entry(lsec_station_scrap_report_unit *e, const lsec_store_unit *u,
		      const json_t *leaves, lsec_err *err)
{
	static const char *const k_start[] = {"reason", "reachable", "unreachable", NULL};
	static const char *const k_erase[] = {"erase", "debug-lock-level", "regions", NULL};
	static const char *const k_blank[] = {LSEC_EV_READBACK_SHA256, "flash-bytes", "key-slots-empty",
					      "sanitisation", "sanitisation-technique", NULL};
	static const char *const k_revoke[] = {"certificates", "crl-reason", "crl-number", LSEC_EV_KEYS,
					       NULL};
	static const char *const k_cred[] = {"credentials-revoked", NULL};
	static const char *const k_scrap[] = {"method", "sanitisation", "destroyed-by",
					      "witnessed-by", "photo-sha256", "note", "warning",
					      "batch-seq", NULL};
	int rc = 0;
	const json_t *start = NULL, *erase = NULL, *blank = NULL, *revoke = NULL, *cred = NULL,
		     *scrap = NULL, *l;
	size_t i;
	json_array_foreach(leaves, i, l)
	{
		const char *a = str(l, "action"), *oc = str(l, "outcome");
		if (lsec_station__eq(a, "decommission.start")) {
			start = l;
			erase = blank = revoke = cred = scrap = NULL;
		} else if (!lsec_station__eq(oc, "passed") && !lsec_station__eq(a, "scrap.unit")) {
			continue;
		} else if (lsec_station__eq(a, "device.erase")) {
			erase = l;
		} else if (lsec_station__eq(a, "device.blank-check")) {
			blank = l;
		} else if (lsec_station__eq(a, "identity.revoke")) {
			revoke = l;
		} else if (lsec_station__eq(a, "credential.revoke")) {
			cred = l;
		} else if (lsec_station__eq(a, "scrap.unit")) {
			scrap = l;
		}
	}
	e->state = lsec_unit_state_name(u->state);
	e->status = u->state == LSEC_UNIT_SCRAPPED ? "scrapped"
		    : u->state == LSEC_UNIT_DECOMMISSIONED
			    ? (blank ? "wiped, pending destruction"
				     : "decommissioned, not wiped, pending destruction")
			    : "decommission pending";
	bool ok = (e->serial = lsec_strdup(u->serial)) != NULL &&
		  (e->product = lsec_strdup(u->product)) != NULL &&
		  (e->uid = lsec_strdup(u->uid)) != NULL;
	ok = ok && (start == NULL || step_of(&e->decommissioned, start, k_start));
	ok = ok && (erase == NULL || step_of(&e->wiped, erase, k_erase));
	ok = ok && (blank == NULL || step_of(&e->verified, blank, k_blank));
	ok = ok && (revoke == NULL || step_of(&e->revoked, revoke, k_revoke));
	ok = ok && (cred == NULL || step_of(&e->credential, cred, k_cred));
	ok = ok && (scrap == NULL || step_of(&e->destroyed, scrap, k_scrap));
	LSEC_ENSURE(ok, LSEC_E_NOMEM, "cannot report unit '%s': out of memory", u->serial);
	e->sanitisation = scrap != NULL ? e->destroyed.sanitisation
			  : blank != NULL ? "purge"
					  : "none";
out:
	return rc;
}

static void unit_release(lsec_station_scrap_report_unit *e)
{
	lsec_station_scrap_step *steps[] = {&e->decommissioned, &e->wiped,      &e->verified,
					    &e->revoked,        &e->credential, &e->destroyed};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		json_decref(steps[i]->evidence);
	}
	lsec_free(e->serial);
	lsec_free(e->product);
	lsec_free(e->uid);
}

void lsec_station_scrap_report_free(lsec_station_scrap_report *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->nunits; i++) {
		unit_release(&r->units[i]);
	}
	for (size_t i = 0; i < r->npending; i++) {
		lsec_free(r->pending[i]);
	}
	lsec_free(r->units);
	lsec_free(r->pending);
	lsec_free(r->since);
	lsec_free(r);
}

/* "YYYY-MM-DD" optionally followed by "T..." (compared as text with RFC 3339 times). */
static bool date_ok(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		bool digit = isdigit((unsigned char)s[i]) != 0;
		if ((shape[i] == 'd') != digit || (shape[i] == '-' && s[i] != '-')) {
			return false;
		}
	}
	return s[10] == '\0' || s[10] == 'T';
}

int lsec_station_report_scrap(lsec_station_scrap_report **out, lsec_station *st,
			      const char *since, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit *units = NULL;
	size_t n = 0;
	json_t *leaves = NULL;
	lsec_station_scrap_report *r = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(since == NULL || date_ok(since), LSEC_E_USAGE,
		    "cannot report since '%s': expected a date YYYY-MM-DD or an RFC 3339 UTC time",
		    since ? since : "");
	r = lsec_calloc(1, sizeof(*r));
	LSEC_ENSURE(r != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(since == NULL || (r->since = lsec_strdup(since)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	LSEC_TRY(lsec_store_unit_list(&units, &n, st->store, NULL, err));
	if (n > 0) {
		r->units = lsec_calloc(n, sizeof(*r->units));
		r->pending = lsec_calloc(n, sizeof(*r->pending));
		LSEC_ENSURE(r->units != NULL && r->pending != NULL, LSEC_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		lsec_unit_state s = units[i].state;
		if (s != LSEC_UNIT_DECOMMISSION_PENDING && s != LSEC_UNIT_DECOMMISSIONED &&
		    s != LSEC_UNIT_SCRAPPED) {
			continue;
		}
		json_decref(leaves);
		leaves = NULL;
		LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, units[i].serial, err));
		lsec_station_scrap_report_unit *e = &r->units[r->nunits++];
		LSEC_TRY(unit_entry(e, &units[i], leaves, err));
		if (s != LSEC_UNIT_SCRAPPED) {
			LSEC_ENSURE((r->pending[r->npending] = lsec_strdup(units[i].serial)) != NULL,
				    LSEC_E_NOMEM, "out of memory");
			r->npending++;
		}
		const char *when = e->decommissioned.time;
		if (since != NULL && (when == NULL || strcmp(when, since) < 0)) { /* lint:ok */
			unit_release(e);
			memset(e, 0, sizeof(*e));
			r->nunits--;
		}
	}
	lsec_time_utc(r->generated);
	*out = r;
	r = NULL;
out:
	json_decref(leaves);
	lsec_station_scrap_report_free(r);
	lsec_free(units);
	return rc;
}

static json_t *step_json(const lsec_station_scrap_step *sp)
{
	return sp->recorded ? json_deep_copy(sp->evidence) : json_null();
}

int lsec_station_scrap_report_json(json_t **out, const lsec_station_scrap_report *r,
				   lsec_err *err)
{
	int rc = 0;
	json_t *o = json_object(), *list = json_array(), *pending = json_array();
	*out = NULL;
	LSEC_ENSURE(o != NULL && list != NULL && pending != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < r->nunits; i++) {
		const lsec_station_scrap_report_unit *u = &r->units[i];
		json_t *e = json_object();
		bool ok = e != NULL && json_array_append_new(list, e) == 0;
		ok = ok && put(e, "serial", json_string(u->serial)) &&
		     put(e, "product", json_string(u->product)) &&
		     put(e, "uid", json_string(u->uid)) && put(e, "state", json_string(u->state)) &&
		     put(e, "status", json_string(u->status)) &&
		     put(e, "sanitisation", text_or_null(u->sanitisation)) &&
		     put(e, "decommissioned", step_json(&u->decommissioned)) &&
		     put(e, "wiped", step_json(&u->wiped)) &&
		     put(e, "verified", step_json(&u->verified)) &&
		     put(e, "revoked", step_json(&u->revoked)) &&
		     put(e, "credential", step_json(&u->credential)) &&
		     put(e, "destroyed", step_json(&u->destroyed));
		LSEC_ENSURE(ok, LSEC_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->npending; i++) {
		LSEC_ENSURE(json_array_append_new(pending, json_string(r->pending[i])) == 0,
			    LSEC_E_NOMEM, "out of memory");
	}
	bool ok = put(o, "generated", json_string(r->generated)) &&
		  put(o, "since", text_or_null(r->since)) &&
		  put(o, "units", json_incref(list)) &&
		  put(o, "pending-destruction", json_incref(pending)) &&
		  put(o, "count", json_integer((json_int_t)r->nunits)) &&
		  put(o, "pending", json_integer((json_int_t)r->npending));
	LSEC_ENSURE(ok, LSEC_E_NOMEM, "out of memory");
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(list);
	json_decref(pending);
	return rc;
}
