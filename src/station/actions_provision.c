/*
 * actions_provision.c - SOP 2, key and credential provisioning:
 * device.keygen, station.keygen, ca.issue, device.write-cert,
 * device.prove-possession, credential.generate, device.write-credential.
 *
 * The device's CSR is built here and signed by the device's own slot key
 * (the target signs SHA-256 of the CertificationRequestInfo), so the line
 * CA verifies a real proof that the device holds the key. Each action reads
 * the device and the registry first: a key or certificate this unit already
 * holds from an interrupted run is reused, never issued twice.
 *
 * @test tests/unit/station/test_exec.c
 */
#include "station/station_int.h"

#include <stdlib.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

static unsigned slot_of(const lsec_station__run *r)
{
	const char *s = lsec_sop_step_param(r->step, "slot");
	return s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

/* Whether the registry holds key_fp for this unit (identity recorded). */
static int identity_of(bool *mine, bool *other, lsec_station__run *r, const char *fp_hex,
		       lsec_buf *cert_der, lsec_err *err)
{
	int rc = 0;
	lsec_store_identity id;
	lsec_err e = LSEC_ERR_INIT;
	*mine = *other = false;
	int g = lsec_store_identity_get(&id, cert_der, r->st->store, fp_hex, &e);
	if (g == LSEC_E_NOTFOUND) {
		goto out;
	}
	if (g < 0) {
		*err = e;
		rc = g;
		goto out;
	}
	*mine = lsec_station__eq(id.serial, r->serial);
	*other = !*mine;
out:
	return rc;
}

/* Reads the slot's public key: fingerprint into r->key_fp, checked unique. */
static int read_public(lsec_station__run *r, unsigned slot, lsec_err *err)
{
	int rc = 0;
	lsec_buf spki = LSEC_BUF_INIT(4096);
	lsec_key *k = NULL;
	char hex[65];
	bool mine = false, other = false;
	LSEC_TRY(lsec_station__attach(r, err));
	LSEC_TRY(lsec_device_key_public(&spki, r->tgt, slot, err));
	LSEC_TRY(lsec_key_from_spki(&k, spki.data, spki.len, err));
	LSEC_ENSURE(lsec_key_get_type(k) == LSEC_KEY_ECDSA_P256, LSEC_E_PKI_KEY_TYPE,
		    "unit '%s' slot %u holds a key that is not ECDSA P-256", r->serial, slot);
	LSEC_TRY(lsec_key_fingerprint(r->key_fp, k, err));
	lsec_hex_encode(hex, r->key_fp, 32);
	LSEC_TRY(identity_of(&mine, &other, r, hex, NULL, err));
	LSEC_ENSURE(!other, LSEC_E_EXISTS,
		    "the public key of unit '%s' (%s) is already held by another unit", r->serial,
		    hex);
	r->have_key = true;
	r->key_slot = slot;
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_KEY_SHA256, hex, err));
	LSEC_TRY(lsec_station__ev_str(r, "key-type", "ecdsa-p256", err));
	/* The SOP's type: the loader allows ecdsa-p256 only, checked on the key above. */
	LSEC_TRY(lsec_station__ev_str(r, "type", lsec_sop_step_param(r->step, "type"), err));
	LSEC_TRY(lsec_station__ev_int(r, LSEC_EV_SLOT, slot, err));
out:
	lsec_key_free(k);
	lsec_buf_release(&spki);
	return rc;
}

/*
 * A key already in the slot of a unit being provisioned is only accepted
 * when it is this unit's own (an interrupted run made it, or the registry
 * records it for this unit).
 */
static int slot_ready(bool *has_key, lsec_station__run *r, unsigned slot, lsec_err *err)
{
	int rc = 0;
	lsec_device_slot_status ss;
	LSEC_TRY(lsec_device_key_status(&ss, r->tgt, slot, err));
	*has_key = ss.state != LSEC_SLOT_EMPTY;
	LSEC_ENSURE(!*has_key || r->resumed, LSEC_E_STATION_HAS_IDENTITY,
		    "unit '%s' already holds a key in slot %u and no interrupted run of it "
		    "explains it",
		    r->serial, slot);
out:
	return rc;
}

int lsec_station__act_keygen(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	unsigned slot = slot_of(r);
	bool has = false;
	LSEC_TRY(slot_ready(&has, r, slot, err));
	if (!has) {
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_key_generate(r->tgt, slot, err));
	}
	LSEC_TRY(lsec_station__ev_bool(r, "reused", has, err));
	LSEC_TRY(read_public(r, slot, err));
out:
	return rc;
}

int lsec_station__act_station_keygen(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	unsigned slot = slot_of(r);
	bool has = false;
	lsec_key *k = NULL;
	lsec_secret *der = NULL;
	unsigned char *p = NULL;
	int n = 0;
	LSEC_TRY(slot_ready(&has, r, slot, err));
	if (!has) {
		LSEC_TRY(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, err));
		n = i2d_PrivateKey(lsec_key_evp(k), &p);
		LSEC_ENSURE(n > 0, LSEC_E_CRYPTO, "cannot encode the station-generated key");
		LSEC_TRY(lsec_secret_from(&der, p, (size_t)n, err));
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_key_inject(r->tgt, slot, der, err));
	}
	LSEC_TRY(lsec_station__ev_bool(r, "station-generated", true, err));
	LSEC_TRY(read_public(r, slot, err));
out:
	if (p != NULL) {
		OPENSSL_clear_free(p, (size_t)n);
	}
	lsec_secret_free(der);
	lsec_key_free(k);
	return rc;
}

/* A CSR for the slot's key, signed by the device itself. */
static int device_csr(lsec_buf *out, lsec_station__run *r, unsigned slot, lsec_err *err)
{
	int rc = 0;
	lsec_buf spki = LSEC_BUF_INIT(4096), sig = LSEC_BUF_INIT(512);
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bs = NULL;
	unsigned char *tbs = NULL, *der = NULL;
	int tl = 0, dl = 0;
	LSEC_TRY(lsec_station__attach(r, err));
	LSEC_TRY(lsec_device_key_public(&spki, r->tgt, slot, err));
	const unsigned char *q = spki.data;
	LSEC_TRY_OSSL_PTR(pub = d2i_PUBKEY(NULL, &q, (long)spki.len), LSEC_E_CRYPTO,
			  "cannot read the public key of unit '%s'", r->serial);
	LSEC_TRY_OSSL_PTR(req = X509_REQ_new(), LSEC_E_NOMEM, "cannot build a CSR");
	LSEC_TRY_OSSL(X509_REQ_set_version(req, 0), LSEC_E_CRYPTO, "cannot build a CSR");
	LSEC_TRY_OSSL(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
						 (const unsigned char *)r->serial, -1, -1, 0),
		      LSEC_E_CRYPTO, "cannot build a CSR");
	LSEC_TRY_OSSL(X509_REQ_set_pubkey(req, pub), LSEC_E_CRYPTO, "cannot build a CSR");
	LSEC_TRY_OSSL_PTR(alg = X509_ALGOR_new(), LSEC_E_NOMEM, "cannot build a CSR");
	LSEC_TRY_OSSL(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL),
		      LSEC_E_CRYPTO, "cannot build a CSR");
	LSEC_TRY_OSSL(X509_REQ_set1_signature_algo(req, alg), LSEC_E_CRYPTO, "cannot build a CSR");
	LSEC_TRY_OSSL(tl = i2d_re_X509_REQ_tbs(req, &tbs), LSEC_E_CRYPTO, "cannot encode a CSR");
	/* The device signs SHA-256 of the request info: ecdsa-with-SHA256. */
	LSEC_TRY(lsec_device_key_sign(&sig, r->tgt, slot, tbs, (size_t)tl, err));
	LSEC_TRY_OSSL_PTR(bs = ASN1_BIT_STRING_new(), LSEC_E_NOMEM, "cannot build a CSR");
	LSEC_TRY_OSSL(ASN1_BIT_STRING_set(bs, sig.data, (int)sig.len), LSEC_E_NOMEM,
		      "cannot build a CSR");
	/* A signature is whole bytes: say so, or the encoder trims trailing zero bits. */
	bs->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07L);
	bs->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bs);
	bs = NULL;
	LSEC_TRY_OSSL(dl = i2d_X509_REQ(req, &der), LSEC_E_CRYPTO, "cannot encode a CSR");
	LSEC_TRY(lsec_buf_append(out, der, (size_t)dl, err));
out:
	OPENSSL_free(tbs);
	OPENSSL_free(der);
	ASN1_BIT_STRING_free(bs);
	X509_ALGOR_free(alg);
	X509_REQ_free(req);
	EVP_PKEY_free(pub);
	lsec_buf_release(&sig);
	lsec_buf_release(&spki);
	return rc;
}

int lsec_station__act_ca_issue(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_buf csr_der = LSEC_BUF_INIT(8192), cert_der = LSEC_BUF_INIT(1 << 16),
		 uid = LSEC_BUF_INIT(64);
	lsec_csr *csr = NULL;
	lsec_ca *ca = NULL;
	char fp[65], cs[41];
	uint8_t csha[32];
	bool mine = false, other = false;
	const char *days = lsec_sop_step_param(r->step, "validity-days");
	LSEC_ENSURE(r->have_key, LSEC_E_STATE, "unit '%s' has no key to certify", r->serial);
	lsec_hex_encode(fp, r->key_fp, 32);
	lsec_cert_free(r->cert);
	r->cert = NULL;
	LSEC_TRY(identity_of(&mine, &other, r, fp, &cert_der, err));
	LSEC_ENSURE(!other, LSEC_E_EXISTS, "the key of unit '%s' is held by another unit",
		    r->serial);
	if (mine) {
		/* Issued and recorded by an interrupted run: the same identity, not a second. */
		LSEC_TRY(lsec_cert_parse(&r->cert, cert_der.data, cert_der.len, err));
		LSEC_TRY(lsec_station__ev_bool(r, "reused", true, err));
	} else {
		lsec_cert_request req = LSEC_CERT_REQUEST_INIT;
		LSEC_TRY(device_csr(&csr_der, r, r->key_slot, err));
		LSEC_TRY(lsec_csr_parse(&csr, csr_der.data, csr_der.len, err));
		LSEC_TRY(lsec_station__ca(&ca, r->st, err));
		LSEC_TRY(lsec_hex_decode(&uid, r->uid_hex, strlen(r->uid_hex), "UID", err));
		req.serial = r->serial;
		req.product = r->product;
		req.uid = uid.data;
		req.uid_len = uid.len;
		req.validity_days = days ? (uint32_t)strtoul(days, NULL, 10) : 7300;
		LSEC_TRY(lsec_ca_issue(&r->cert, ca, lsec_csr_key(csr), &req, err));
		r->add_identity = true; /* recorded with the step outcome, in one transaction */
		lsec_buf_reset(&cert_der);
		LSEC_TRY(lsec_cert_encode(&cert_der, r->cert, true, err));
	}
	lsec_cert_serial_hex(cs, r->cert);
	LSEC_TRY(lsec_sha256(csha, cert_der.data, cert_der.len, err));
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_CERT_SERIAL, cs, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_CERT_SHA256, csha, 32, err));
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_KEY_SHA256, fp, err));
	/* The only profile the loader allows is the line CA's device profile. */
	LSEC_TRY(lsec_station__ev_str(r, "profile", lsec_sop_step_param(r->step, "profile"), err));
	LSEC_TRY(lsec_station__ev_str(r, "validity-days", days, err));
	{
		X509 *x = lsec_cert_x509(r->cert);
		char issuer[256];
		X509_NAME_oneline(X509_get_issuer_name(x), issuer, sizeof(issuer));
		LSEC_TRY(lsec_station__ev_str(r, "issuer", issuer, err));
		char nb[32], na[32];
		lsec_cert_validity(nb, na, r->cert);
		if (na[0] != '\0') {
			LSEC_TRY(lsec_station__ev_str(r, "not-after", na, err));
		}
	}
out:
	lsec_csr_free(csr);
	lsec_buf_release(&uid);
	lsec_buf_release(&cert_der);
	lsec_buf_release(&csr_der);
	return rc;
}

/* The certificate this run holds, or the one the registry records for the unit's key. */
static int need_cert(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_buf der = LSEC_BUF_INIT(1 << 16);
	char fp[65];
	bool mine = false, other = false;
	if (r->cert != NULL) {
		goto out;
	}
	LSEC_ENSURE(r->have_key, LSEC_E_STATE, "unit '%s' has no key yet", r->serial);
	lsec_hex_encode(fp, r->key_fp, 32);
	LSEC_TRY(identity_of(&mine, &other, r, fp, &der, err));
	LSEC_ENSURE(mine, LSEC_E_STATE, "unit '%s' has no certificate yet", r->serial);
	LSEC_TRY(lsec_cert_parse(&r->cert, der.data, der.len, err));
out:
	lsec_buf_release(&der);
	return rc;
}

int lsec_station__act_write_cert(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_buf der = LSEC_BUF_INIT(1 << 16), back = LSEC_BUF_INIT(1 << 16);
	uint8_t a[32], b[32];
	unsigned slot = slot_of(r);
	LSEC_TRY(need_cert(r, err));
	LSEC_TRY(lsec_cert_encode(&der, r->cert, true, err));
	LSEC_TRY(lsec_station__attach(r, err));
	LSEC_TRY(lsec_device_cert_store(r->tgt, slot, der.data, der.len, err));
	LSEC_TRY(lsec_device_cert_read(&back, r->tgt, slot, err));
	LSEC_TRY(lsec_sha256(a, der.data, der.len, err));
	LSEC_TRY(lsec_sha256(b, back.data, back.len, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_CERT_SHA256, a, 32, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_CERT_READBACK_SHA256, b, 32, err));
	LSEC_TRY(lsec_station__ev_int(r, LSEC_EV_SLOT, slot, err));
	LSEC_ENSURE(lsec_ct_equal(a, b, 32), LSEC_E_DEVICE,
		    "the certificate read back from unit '%s' is not the one issued", r->serial);
out:
	lsec_buf_release(&back);
	lsec_buf_release(&der);
	return rc;
}

int lsec_station__act_prove(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint8_t ch[32], chs[32];
	lsec_buf sig = LSEC_BUF_INIT(512);
	char cs[41];
	LSEC_TRY(need_cert(r, err));
	LSEC_TRY(lsec_pop_challenge(ch, err));
	LSEC_TRY(lsec_station__attach(r, err));
	LSEC_TRY(lsec_device_key_sign(&sig, r->tgt, r->key_slot, ch, sizeof(ch), err));
	LSEC_TRY(lsec_sha256(chs, ch, sizeof(ch), err));
	lsec_cert_serial_hex(cs, r->cert);
	LSEC_TRY(lsec_station__ev_hex(r, "challenge-sha256", chs, 32, err));
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_CERT_SERIAL, cs, err));
	LSEC_TRY(lsec_pop_verify(r->cert, ch, sizeof(ch), sig.data, sig.len, err));
out:
	lsec_buf_release(&sig);
	return rc;
}

/*
 * What the unit's log says of its initial credential from earlier runs:
 * none, delivered (written and its label printed), or recorded only (the
 * device may or may not hold it).
 */
enum cred_history { CRED_NONE, CRED_DELIVERED, CRED_UNKNOWN };

static int credential_history(enum cred_history *out, lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	json_t *leaves = NULL;
	size_t i;
	json_t *l;
	bool recorded = false, written = false, labelled = false;
	*out = CRED_NONE;
	LSEC_TRY(lsec_station__unit_leaves(&leaves, r->st->store, r->serial, err));
	json_array_foreach(leaves, i, l)
	{
		const char *a = json_string_value(json_object_get(l, "action"));
		if (!lsec_station__eq(json_string_value(json_object_get(l, "outcome")), "passed")) {
			continue;
		}
		recorded = recorded || lsec_station__eq(a, "credential.generate");
		written = written || (recorded && lsec_station__eq(a, "device.write-credential"));
		labelled = labelled ||
			   (written && lsec_station__eq(a, "label.print") &&
			    json_is_true(json_object_get(json_object_get(l, "evidence"),
							 "carries-credential")));
	}
	*out = !recorded ? CRED_NONE : (labelled ? CRED_DELIVERED : CRED_UNKNOWN);
out:
	json_decref(leaves);
	return rc;
}

int lsec_station__act_cred_generate(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	uint8_t fp[32];
	enum cred_history h = CRED_NONE;
	LSEC_TRY(credential_history(&h, r, err));
	if (h == CRED_DELIVERED) {
		/* An interrupted run delivered it: device and label have it. */
		LSEC_TRY(lsec_station__ev_bool(r, "already-delivered", true, err));
		r->cred_delivered = true;
		goto out;
	}
	/*
	 * The credential of an interrupted run existed only in memory: whether
	 * the device got it cannot be read back, so the unit is not guessed at.
	 */
	LSEC_ENSURE(h == CRED_NONE, LSEC_E_STATE,
		    "unit '%s' already has a recorded initial credential from an interrupted "
		    "run; whether the device holds it cannot be read back",
		    r->serial);
	lsec_secret_free(r->credential);
	r->credential = NULL;
	{
		/* The SOP's length and alphabet (the loader checked their ranges). */
		const char *len_s = lsec_sop_step_param(r->step, "length");
		const char *alpha_s = lsec_sop_step_param(r->step, "alphabet");
		lsec_cred_alphabet alpha = LSEC_CRED_ALNUM;
		size_t len = len_s ? (size_t)strtoul(len_s, NULL, 10) : LSEC_CRED_LEN;
		if (alpha_s != NULL) {
			LSEC_TRY(lsec_cred_alphabet_parse(&alpha, alpha_s, err));
		}
		LSEC_TRY(lsec_cred_generate_ex(&r->credential, len, alpha, err));
		LSEC_TRY(lsec_station__ev_str(r, "alphabet", alpha == LSEC_CRED_BASE32 ? "base32" : "alnum", err));
	}
	LSEC_TRY(lsec_station__ca(&ca, r->st, err));
	LSEC_TRY(lsec_cred_fingerprint(fp, ca, lsec_secret_cdata(r->credential),
				       lsec_secret_len(r->credential), err));
	lsec_hex_encode(r->cred_fp_hex, fp, 32);
	r->add_credential = true;
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_CREDENTIAL_FP, r->cred_fp_hex, err));
	LSEC_TRY(lsec_station__ev_int(r, "length", (int64_t)lsec_secret_len(r->credential), err));
out:
	return rc;
}

int lsec_station__act_cred_write(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	if (r->cred_delivered) {
		LSEC_TRY(lsec_station__ev_bool(r, "already-delivered", true, err));
		goto out;
	}
	LSEC_ENSURE(r->credential != NULL, LSEC_E_STATE,
		    "no initial credential was generated in this run for unit '%s'", r->serial);
	LSEC_TRY(lsec_station__attach(r, err));
	LSEC_TRY(lsec_device_credential_store(r->tgt, r->credential, err));
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_CREDENTIAL_FP, r->cred_fp_hex, err));
out:
	return rc;
}
