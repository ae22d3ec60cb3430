/*
 * stations.c - the other stations whose leaves this station trusts, as the
 * signed log records them.
 *
 * Trusting or distrusting another station's key is a change of trust: one
 * security officer requests it (lsec_line_station_request), a second,
 * distinct one approves it (lsec_line_change_approve), which records a
 * station.trust or station.distrust leaf naming the station, its key
 * (base64 SubjectPublicKeyInfo) and the key's SHA-256. The set of trusted
 * keys is derived from those leaves (lsec_audit_signer_trust_log), starting
 * from this station's own key: no file in the line folder adds one. A
 * station joining a registry records, at `linesec init`, a station.trust
 * leaf of its own for the station it joins (meaning "joined").
 *
 * @test tests/e2e/test_station_trust.sh
 */
#include "line/line_int.h"

#include "linesec/audit.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok: public text */
}

bool lsec_line__station_kind(const char *kind)
{
	return same(kind, LSEC_LINE_CHANGE_STATION_TRUST) ||
	       same(kind, LSEC_LINE_CHANGE_STATION_DISTRUST);
}

int lsec_line__station_payload(json_t **out, const char *name, const char *pub_path,
			       lsec_err *err)
{
	int rc = 0;
	lsec_key *k = NULL;
	lsec_buf der = LSEC_BUF_INIT(1u << 12);
	char *b64 = NULL, hex[65];
	uint8_t fp[32];
	*out = NULL;
	LSEC_TRY(lsec_ident_check(name, "station id", err));
	LSEC_ENSURE(pub_path != NULL, LSEC_E_USAGE,
		    "station '%s': give its public key (--pubkey FILE, its station.pub)", name);
	LSEC_TRY(lsec_key_load_public(&k, pub_path, err));
	LSEC_ENSURE(lsec_key_get_type(k) == LSEC_KEY_ED25519, LSEC_E_USAGE,
		    "station key '%s' is not an Ed25519 key (a station.pub)", pub_path);
	LSEC_TRY(lsec_key_spki_der(&der, k, err));
	LSEC_TRY(lsec_key_fingerprint(fp, k, err));
	LSEC_TRY(lsec_base64_encode(&b64, der.data, der.len, err));
	lsec_hex_encode(hex, fp, 32);
	*out = json_pack("{s:s,s:s,s:s}", LSEC_EV_STATION, name, LSEC_EV_PUBKEY, b64,
			 LSEC_EV_KEY_SHA256, hex);
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory");
out:
	lsec_free(b64);
	lsec_buf_release(&der);
	lsec_key_free(k);
	return rc;
}

/* The Ed25519 key payload names, checked against its SHA-256. */
static int payload_key(lsec_key **out, const char *subject, const json_t *payload, lsec_err *err)
{
	int rc = 0;
	lsec_buf der = LSEC_BUF_INIT(1u << 12);
	const char *b64 = json_string_value(json_object_get(payload, LSEC_EV_PUBKEY));
	const char *hex = json_string_value(json_object_get(payload, LSEC_EV_KEY_SHA256));
	uint8_t fp[32];
	char got[65];
	*out = NULL;
	LSEC_ENSURE(same(json_string_value(json_object_get(payload, LSEC_EV_STATION)), subject) &&
			    b64 != NULL && hex != NULL,
		    LSEC_E_USAGE, "change of station '%s': the payload must name the station, its "
				  "pubkey and key-sha256",
		    subject);
	LSEC_TRY(lsec_base64_decode(&der, b64, strlen(b64), "pubkey", err));
	LSEC_TRY(lsec_key_from_spki(out, der.data, der.len, err));
	LSEC_ENSURE(lsec_key_get_type(*out) == LSEC_KEY_ED25519, LSEC_E_USAGE,
		    "station '%s': its key is not an Ed25519 key", subject);
	LSEC_TRY(lsec_key_fingerprint(fp, *out, err));
	lsec_hex_encode(got, fp, 32);
	LSEC_ENSURE(same(got, hex), LSEC_E_USAGE,
		    "station '%s': the key's SHA-256 is %s, not %s as the change names", subject, got,
		    hex);
out:
	if (rc < 0) {
		lsec_key_free(*out);
		*out = NULL;
	}
	lsec_buf_release(&der);
	return rc;
}

int lsec_line__station_check(lsec_line *line, const char *kind, const char *subject,
			     const json_t *payload, lsec_err *err)
{
	int rc = 0;
	lsec_key *k = NULL, *own = NULL;
	struct evp_pkey_st **keys = NULL;
	size_t n = 0;
	bool trusted = false, known = false;
	LSEC_TRY(lsec_ident_check(subject, "station id", err));
	LSEC_ENSURE(!same(subject, line->station), LSEC_E_POLICY,
		    "cannot request %s of '%s': it is this station", kind, subject);
	LSEC_TRY(payload_key(&k, subject, payload, err));
	LSEC_TRY(lsec_key_load_public(&own, line->pub_path, err));
	LSEC_ENSURE(EVP_PKEY_eq(lsec_key_evp(k), lsec_key_evp(own)) != 1, LSEC_E_POLICY,
		    "cannot request %s of '%s': the key is this station's own", kind, subject);
	LSEC_TRY(lsec_audit_signer_trusts(&trusted, line->st, lsec_key_evp(k), err));
	LSEC_TRY(lsec_audit_signer_pubkeys(&keys, &n, line->st, err));
	for (size_t i = 0; i < n; i++) {
		known = known || EVP_PKEY_eq(keys[i], lsec_key_evp(k)) == 1;
	}
	if (same(kind, LSEC_LINE_CHANGE_STATION_TRUST)) {
		/* A distrusted key may be trusted again (its leaves from then on only). */
		LSEC_ENSURE(!trusted, LSEC_E_EXISTS,
			    "cannot trust station '%s': its key is trusted already", subject);
		LSEC_ENSURE(known || n < LSEC_AUDIT_MAX_KEYS, LSEC_E_LIMIT,
			    "cannot trust station '%s': the log trusts %zu station keys already, "
			    "the most a line reads (%d); distrusting one does not free its place",
			    subject, n, LSEC_AUDIT_MAX_KEYS);
	} else {
		LSEC_ENSURE(trusted, LSEC_E_NOTFOUND,
			    "cannot distrust station '%s': the log trusts no such key", subject);
	}
out:
	lsec_audit_pubkeys_free(keys, n);
	lsec_key_free(k);
	lsec_key_free(own);
	return rc;
}

int lsec_line__station_record(lsec_line *line, const char *person, bool trust,
			      const json_t *payload, const json_t *extra, lsec_err *err)
{
	int rc = 0;
	json_t *ev = json_deep_copy(payload);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	if (extra != NULL) {
		LSEC_ENSURE(json_object_update(ev, (json_t *)(uintptr_t)extra) == 0, LSEC_E_NOMEM,
			    "out of memory");
	}
	LSEC_TRY(lsec_line__record(line, person,
				   trust ? LSEC_AUDIT_STATION_TRUST : LSEC_AUDIT_STATION_DISTRUST,
				   "ok", ev, err));
out:
	json_decref(ev);
	return rc;
}

int lsec_line_station_request(int64_t *id_out, lsec_line *line, const lsec_line_actor *by,
			      bool trust, const char *name, const char *pub_path, lsec_err *err)
{
	int rc = 0;
	json_t *payload = NULL;
	*id_out = 0;
	LSEC_ENSURE_REF(line);
	LSEC_TRY(lsec_line__station_payload(&payload, name, pub_path, err));
	LSEC_TRY(lsec_line_change_request(id_out, NULL, 0, line, by,
					  trust ? LSEC_LINE_CHANGE_STATION_TRUST
						: LSEC_LINE_CHANGE_STATION_DISTRUST,
					  name, payload, err));
out:
	json_decref(payload);
	return rc;
}
