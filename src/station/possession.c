/*
 * possession.c - the unit's issued identity, as the log says, and the
 * device's proof that it holds that identity's key.
 *
 * A clone copies a UID, not a private key: the key generated in a slot
 * never leaves the genuine device. So wherever the station must know it
 * faces the unit it certified (the identify step of every SOP once an
 * identity is issued, the ship gate), the device signs a fresh random
 * challenge with the slot key and the signature must verify under the
 * certificate the log issued. The certificate bytes come from the registry
 * but are only used when they are the ones the unit's ca.issue leaf
 * records (key fingerprint, serial and SHA-256 all equal): a row copied
 * from another unit is named, not trusted.
 *
 * @test tests/unit/station/test_ship.c
 * @test tests/e2e/test_tamper_device.sh
 */
#include "station/station_int.h"

#include <jansson.h>

static const char *ev_str(const json_t *leaf, const char *key)
{
	return json_string_value(json_object_get(json_object_get(leaf, "evidence"), key));
}

static bool leaf_is(const json_t *leaf, const char *action, const char *outcome)
{
	return lsec_station__eq(json_string_value(json_object_get(leaf, "action")), action) &&
	       (outcome == NULL ||
		lsec_station__eq(json_string_value(json_object_get(leaf, "outcome")), outcome));
}

static long long leaf_seq(const json_t *leaf)
{
	return (long long)json_integer_value(json_object_get(leaf, "seq"));
}

/* Whether a leaf after index from retires the identity (revoked certificate, key state). */
static bool retired_after(const json_t *leaves, size_t from, const char *cert_serial,
			  const char *key_fp)
{
	for (size_t i = from + 1; i < json_array_size(leaves); i++) {
		const json_t *l = json_array_get(leaves, i);
		if (leaf_is(l, "pki.certificate.revoke", NULL) &&
		    lsec_station__eq(ev_str(l, LSEC_EV_CERT_SERIAL), cert_serial)) {
			return true;
		}
		if (leaf_is(l, "key.state", NULL) && !leaf_is(l, "key.state", "active") &&
		    lsec_station__eq(ev_str(l, LSEC_EV_KEY_SHA256), key_fp)) {
			return true;
		}
	}
	return false;
}

/* The slot of the passed keygen leaf that read key_fp back; -1 when none. */
static long long key_slot(const json_t *leaves, const char *key_fp)
{
	size_t i;
	const json_t *l;
	long long slot = -1;
	json_array_foreach(leaves, i, l)
	{
		if ((leaf_is(l, "device.keygen", "passed") || leaf_is(l, "station.keygen", "passed")) &&
		    lsec_station__eq(ev_str(l, LSEC_EV_KEY_SHA256), key_fp)) {
			slot = (long long)json_integer_value(
				json_object_get(json_object_get(l, "evidence"), LSEC_EV_SLOT));
		}
	}
	return slot;
}

/*
 * The registry's certificate of the identity the leaf issued, checked
 * against the leaf. LSEC_E_AUDIT_INDEX naming the table, the key and the
 * leaf when the row is missing, another unit's or holds another certificate.
 */
static int issued_cert(lsec_station__identity *id, lsec_station *st, const char *serial,
		       const json_t *leaf, lsec_err *err)
{
	int rc = 0;
	lsec_store_identity row;
	lsec_buf der = LSEC_BUF_INIT(1u << 16);
	lsec_err e = LSEC_ERR_INIT;
	uint8_t fp[32], sha[32];
	char fp_hex[65], sha_hex[65], cs[41];
	const char *want_sha = ev_str(leaf, LSEC_EV_CERT_SHA256);
	int g = lsec_store_identity_get(&row, &der, st->store, id->key_fp, &e);
	LSEC_ENSURE(g != LSEC_E_NOTFOUND, LSEC_E_AUDIT_INDEX,
		    "unit '%s': audit leaf %lld records certificate %s issued for key %.16s, but "
		    "registry table identities holds no row for that key",
		    serial, (long long)id->leaf_seq, id->cert_serial, id->key_fp);
	if (g < 0) {
		*err = e;
		LSEC_TRY(g);
	}
	LSEC_TRY(lsec_cert_parse(&id->cert, der.data, der.len, err));
	LSEC_TRY(lsec_cert_key_fingerprint(fp, id->cert, err));
	LSEC_TRY(lsec_sha256(sha, der.data, der.len, err));
	lsec_hex_encode(fp_hex, fp, sizeof(fp));
	lsec_hex_encode(sha_hex, sha, sizeof(sha));
	lsec_cert_serial_hex(cs, id->cert);
	LSEC_ENSURE(lsec_station__eq(row.serial, serial) && lsec_station__eq(fp_hex, id->key_fp) &&
			    lsec_station__eq(cs, id->cert_serial) &&
			    (want_sha == NULL || lsec_station__eq(sha_hex, want_sha)),
		    LSEC_E_AUDIT_INDEX,
		    "unit '%s': registry table identities row of key %.16s holds certificate %s "
		    "(key %.16s, sha256 %.16s, unit '%s'), but audit leaf %lld records certificate "
		    "%s (sha256 %.16s) issued to this unit: the registry was changed outside linesec",
		    serial, id->key_fp, cs, fp_hex, sha_hex, row.serial, (long long)id->leaf_seq,
		    id->cert_serial, want_sha ? want_sha : "-");
out:
	lsec_buf_release(&der);
	return rc;
}

int lsec_station__issued_identity(lsec_station__identity *out, lsec_station *st,
				  const char *serial, const json_t *leaves, lsec_err *err)
{
	int rc = 0;
	size_t i, at = 0;
	const json_t *l, *issue = NULL;
	memset(out, 0, sizeof(*out));
	json_array_foreach(leaves, i, l)
	{
		if (leaf_is(l, "ca.issue", "passed")) {
			issue = l;
			at = i;
		}
	}
	if (issue == NULL) {
		goto out;
	}
	const char *cs = ev_str(issue, LSEC_EV_CERT_SERIAL),
		   *fp = ev_str(issue, LSEC_EV_KEY_SHA256);
	out->leaf_seq = leaf_seq(issue);
	LSEC_ENSURE(cs != NULL && fp != NULL && strlen(cs) < sizeof(out->cert_serial) &&
			    strlen(fp) < sizeof(out->key_fp),
		    LSEC_E_AUDIT_INDEX,
		    "unit '%s': audit leaf %lld (ca.issue) records no certificate serial or key",
		    serial, (long long)out->leaf_seq);
	if (retired_after(leaves, at, cs, fp)) {
		goto out;
	}
	snprintf(out->cert_serial, sizeof(out->cert_serial), "%s", cs);
	snprintf(out->key_fp, sizeof(out->key_fp), "%s", fp);
	long long slot = key_slot(leaves, fp);
	LSEC_ENSURE(slot >= 0 && slot <= 15, LSEC_E_AUDIT_INDEX,
		    "unit '%s': no passed keygen leaf records the key slot of key %.16s that audit "
		    "leaf %lld certified",
		    serial, fp, (long long)out->leaf_seq);
	out->slot = (unsigned)slot;
	LSEC_TRY(issued_cert(out, st, serial, issue, err));
	out->issued = true;
out:
	if (rc < 0) {
		lsec_station__identity_release(out);
	}
	return rc;
}

void lsec_station__identity_release(lsec_station__identity *id)
{
	lsec_cert_free(id->cert);
	memset(id, 0, sizeof(*id));
}

int lsec_station__prove_identity(char chs_hex[65], lsec_device *t, const char *serial,
				 const lsec_station__identity *id, lsec_err *err)
{
	int rc = 0;
	uint8_t ch[32], chs[32];
	lsec_buf sig = LSEC_BUF_INIT(512);
	lsec_err why = LSEC_ERR_INIT;
	chs_hex[0] = '\0';
	LSEC_ENSURE(id->issued && id->cert != NULL, LSEC_E_USAGE,
		    "unit '%s' has no issued identity to prove", serial);
	LSEC_TRY(lsec_pop_challenge(ch, err));
	LSEC_TRY(lsec_sha256(chs, ch, sizeof(ch), err));
	lsec_hex_encode(chs_hex, chs, sizeof(chs));
	if (lsec_device_key_sign(&sig, t, id->slot, ch, sizeof(ch), &why) < 0 ||
	    lsec_pop_verify(id->cert, ch, sizeof(ch), sig.data, sig.len, &why) < 0) {
		LSEC_BAIL(LSEC_E_STATION_NOT_GENUINE,
			  "unit '%s' does not prove possession of its issued key: a fresh challenge "
			  "signed with key slot %u does not verify under certificate %s (audit leaf "
			  "%lld): %s",
			  serial, id->slot, id->cert_serial, (long long)id->leaf_seq, why.msg);
	}
out:
	lsec_buf_release(&sig);
	return rc;
}
