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

/* {"by","time"} plus the leaf's evidence fields named in keys (NULL-terminated). */
static json_t *summary(const json_t *leaf, const char *const *keys)
{
	json_t *o = json_pack("{s:s?,s:s?}", "by", str(leaf, "person"), "time", str(leaf, "time"));
	const json_t *ev = json_object_get(leaf, "evidence");
	for (size_t i = 0; o != NULL && keys[i] != NULL; i++) {
		json_t *v = json_object_get(ev, keys[i]);
		if (v != NULL) {
			json_object_set(o, keys[i], v);
		}
	}
	return o;
}

/* The report entry of one unit from its leaves (those of its last decommissioning). */
static json_t *unit_entry(const lsec_store_unit *u, const json_t *leaves)
{
	static const char *const k_start[] = {"reason", "reachable", "unreachable", NULL};
	static const char *const k_erase[] = {"erase", "debug-lock-level", "regions", NULL};
	static const char *const k_blank[] = {"readback-sha256", "flash-bytes", "key-slots-empty",
					      "sanitisation", "sanitisation-technique", NULL};
	static const char *const k_revoke[] = {"certificates", "crl-reason", "crl-number", "keys",
					       NULL};
	static const char *const k_cred[] = {"credentials-revoked", NULL};
	static const char *const k_scrap[] = {"method", "sanitisation", "destroyed-by",
					      "witnessed-by", "photo-sha256", "note", "warning",
					      "batch-seq", NULL};
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
	const char *status = u->state == LSEC_UNIT_SCRAPPED ? "scrapped"
			     : u->state == LSEC_UNIT_DECOMMISSIONED
				     ? (blank ? "wiped, pending destruction"
					      : "decommissioned, not wiped, pending destruction")
				     : "decommission pending";
	const char *san = scrap != NULL ? str(json_object_get(scrap, "evidence"), "sanitisation")
			  : blank != NULL ? "purge"
					  : "none";
	json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "serial", u->serial, "product",
			      u->product, "uid", u->uid, "state", lsec_unit_state_name(u->state),
			      "status", status, "sanitisation", san);
	if (e == NULL) {
		return NULL;
	}
	json_object_set_new(e, "decommissioned", start ? summary(start, k_start) : json_null());
	json_object_set_new(e, "wiped", erase ? summary(erase, k_erase) : json_null());
	json_object_set_new(e, "verified", blank ? summary(blank, k_blank) : json_null());
	json_object_set_new(e, "revoked", revoke ? summary(revoke, k_revoke) : json_null());
	json_object_set_new(e, "credential", cred ? summary(cred, k_cred) : json_null());
	json_object_set_new(e, "destroyed", scrap ? summary(scrap, k_scrap) : json_null());
	return e;
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

int lsec_station_report_scrap(json_t **out, lsec_station *st, const char *since, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit *units = NULL;
	size_t n = 0;
	json_t *list = json_array(), *pending = json_array(), *leaves = NULL, *rep = NULL;
	char now[32];
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(list != NULL && pending != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(since == NULL || date_ok(since), LSEC_E_USAGE,
		    "cannot report since '%s': expected a date YYYY-MM-DD or an RFC 3339 UTC time",
		    since ? since : "");
	LSEC_TRY(lsec_store_unit_list(&units, &n, st->store, NULL, err));
	for (size_t i = 0; i < n; i++) {
		lsec_unit_state s = units[i].state;
		if (s != LSEC_UNIT_DECOMMISSION_PENDING && s != LSEC_UNIT_DECOMMISSIONED &&
		    s != LSEC_UNIT_SCRAPPED) {
			continue;
		}
		json_decref(leaves);
		leaves = NULL;
		LSEC_TRY(lsec_station__unit_leaves(&leaves, st->store, units[i].serial, err));
		json_t *e = unit_entry(&units[i], leaves);
		LSEC_ENSURE(e != NULL, LSEC_E_NOMEM, "out of memory");
		if (s != LSEC_UNIT_SCRAPPED) {
			json_array_append_new(pending, json_string(units[i].serial));
		}
		const char *when = str(json_object_get(e, "decommissioned"), "time");
		if (since != NULL && (when == NULL || strcmp(when, since) < 0)) { /* lint:ok */
			json_decref(e);
			continue;
		}
		json_array_append_new(list, e);
	}
	lsec_time_utc(now);
	rep = json_pack("{s:s,s:s?,s:O,s:O,s:I,s:I}", "generated", now, "since", since, "units",
			list, "pending-destruction", pending, "count", (json_int_t)json_array_size(list),
			"pending", (json_int_t)json_array_size(pending));
	LSEC_ENSURE(rep != NULL, LSEC_E_NOMEM, "out of memory");
	*out = rep;
out:
	json_decref(leaves);
	json_decref(list);
	json_decref(pending);
	lsec_free(units);
	return rc;
}
