/*
 * denied.c - the line's own additions to the deny list.
 *
 * The built-in deny list (data/denied-keys/, compiled in: station.c) can
 * never be weakened: nothing removes an entry. A line may add a key to it,
 * as a change of trust: one security officer requests it
 * (lsec_station_denied_key_request), a second, distinct one approves it
 * (lsec_line_change_approve with lsec_station_denied_key_apply), which
 * records a denied-key.add leaf (the key's name, where it was published,
 * its SubjectPublicKeyInfo SHA-256 and, for RSA, the SHA-256 of its PKCS#1
 * form that MCUboot hashes). What the station refuses is the built-in list
 * and those leaves, read checked (lsec_audit_leaves_find): release
 * approval, flashing and product key registration all ask
 * lsec_station__denied. No line removes a key from its list.
 *
 * @test tests/e2e/test_denied_keys.sh
 */
#include "station/station_int.h"

#include "linesec/line.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define DENY_LEAF "denied-key.add"
#define EV_IMAGE_KEY "image-key-sha256" /* SHA-256 of the key as an image's KEYHASH covers it */
#define EV_ORIGIN "origin"

/* The two hashes a key is denied under, hex: the same as the built-in list's (station.c). */
static int key_hashes(char spki[65], char image[65], const lsec_key *k, lsec_err *err)
{
	int rc = 0;
	uint8_t s[32], i[32];
	LSEC_TRY(lsec_station__key_hashes(s, i, lsec_key_evp(k), err));
	lsec_hex_encode(spki, s, 32);
	lsec_hex_encode(image, i, 32);
out:
	return rc;
}

int lsec_station__denied(lsec_station__denial *out, lsec_store *store, const uint8_t kh[32],
			 lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL;
	const char *name = NULL, *origin = NULL;
	char hex[65];
	memset(out, 0, sizeof(*out));
	if (lsec_station_sample_key(&name, &origin, kh)) {
		out->hit = true;
		snprintf(out->name, sizeof(out->name), "%s", name);
		snprintf(out->origin, sizeof(out->origin), "%s", origin);
		goto out;
	}
	lsec_hex_encode(hex, kh, 32);
	LSEC_TRY(lsec_audit_leaves_find(&found, store, DENY_LEAF, NULL, err));
	for (size_t i = 0; i < json_array_size(found) && !out->hit; i++) {
		const json_t *l = json_array_get(found, i);
		const json_t *ev = json_object_get(l, "evidence");
		const char *spki = json_string_value(json_object_get(ev, LSEC_EV_KEY_SHA256));
		const char *image = json_string_value(json_object_get(ev, EV_IMAGE_KEY));
		if (!lsec_station__eq(spki, hex) && !lsec_station__eq(image, hex)) {
			continue;
		}
		out->hit = true;
		name = json_string_value(json_object_get(ev, "name"));
		origin = json_string_value(json_object_get(ev, EV_ORIGIN));
		snprintf(out->name, sizeof(out->name), "%s", name ? name : "?");
		snprintf(out->origin, sizeof(out->origin), "%s; added to this line's deny list by leaf %lld",
			 origin ? origin : "?", (long long)json_integer_value(json_object_get(l, "seq")));
	}
out:
	json_decref(found);
	return rc;
}

int lsec_station_denied_key_request(int64_t *id_out, lsec_line *line, const lsec_line_actor *by,
				    const char *name, const char *pub_path, const char *origin,
				    lsec_err *err)
{
	int rc = 0;
	lsec_key *k = NULL;
	json_t *payload = NULL;
	char spki[65], image[65];
	uint8_t h[32];
	lsec_station__denial d;
	*id_out = 0;
	LSEC_TRY(lsec_ident_check(name, "denied key name", err));
	LSEC_ENSURE(pub_path != NULL && origin != NULL && origin[0] != '\0', LSEC_E_USAGE,
		    "denied key '%s': give its public key (--pubkey FILE) and where it was "
		    "published (--origin TEXT)",
		    name);
	LSEC_TRY(lsec_key_load_public(&k, pub_path, err));
	LSEC_TRY(key_hashes(spki, image, k, err));
	LSEC_TRY(lsec_hex_decode_fixed(h, 32, spki, "key hash", err));
	LSEC_TRY(lsec_station__denied(&d, lsec_line_store(line), h, err));
	LSEC_ENSURE(!d.hit, LSEC_E_EXISTS, "key '%s' is on the deny list already, as '%s' (%s)",
		    pub_path, d.name, d.origin);
	payload = json_pack("{s:s,s:s,s:s,s:s}", "name", name, LSEC_EV_KEY_SHA256, spki,
			    EV_IMAGE_KEY, image, EV_ORIGIN, origin);
	LSEC_ENSURE(payload != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_line_change_request(id_out, NULL, 0, line, by, LSEC_STATION_CHANGE_DENY_KEY,
					  name, payload, err));
out:
	json_decref(payload);
	lsec_key_free(k);
	return rc;
}

int lsec_station_denied_key_apply(void *ctx, lsec_line *line, const lsec_store_change *change,
				  const char *approver, lsec_err *err)
{
	int rc = 0;
	json_t *payload = NULL, *ev = NULL;
	lsec_audit_event e;
	(void)ctx;
	LSEC_ENSURE(lsec_station__eq(change->kind, LSEC_STATION_CHANGE_DENY_KEY), LSEC_E_USAGE,
		    "cannot approve change %lld here: kind %s is applied by another command",
		    (long long)change->id, change->kind);
	payload = json_loads(change->payload, 0, NULL);
	const char *spki = json_string_value(json_object_get(payload, LSEC_EV_KEY_SHA256));
	const char *image = json_string_value(json_object_get(payload, EV_IMAGE_KEY));
	LSEC_ENSURE(lsec_station__eq(json_string_value(json_object_get(payload, "name")),
				     change->subject) &&
			    spki != NULL && strlen(spki) == 64 && image != NULL &&
			    strlen(image) == 64 &&
			    json_string_value(json_object_get(payload, EV_ORIGIN)) != NULL,
		    LSEC_E_AUDIT_INDEX,
		    "registry table change_requests holds change %lld whose payload is not a "
		    "denied key",
		    (long long)change->id);
	ev = json_deep_copy(payload);
	LSEC_ENSURE(ev != NULL &&
			    json_object_set_new(ev, "change", json_integer(change->id)) == 0 &&
			    json_object_set_new(ev, "requested-by",
						json_string(change->requested_by)) == 0,
		    LSEC_E_NOMEM, "out of memory");
	memset(&e, 0, sizeof(e));
	e.person = approver;
	e.station = lsec_line_station(line);
	e.action = DENY_LEAF;
	e.outcome = "ok";
	e.evidence = ev;
	LSEC_TRY(lsec_audit_record(NULL, lsec_line_store(line), &e, err));
out:
	json_decref(payload);
	json_decref(ev);
	return rc;
}
