/*
 * enroll.c - the provisioning steps that talk to the unit: the device's own
 * key makes the CSR, the certificate goes onto the device and is read back,
 * and the device proves it holds the key.
 *
 * @test tests/unit/pki/test_enroll.c
 */
#include "pki_int.h"

#include <ctype.h>
#include <string.h>

#include "linesec/store.h"
#include "linesec/device.h"

/* The slot the device signs with, for lsec_csr_build. */
typedef struct device_key {
	lsec_device *t;
	unsigned slot;
} device_key;

static int device_sign(void *ctx, const uint8_t *msg, size_t len, lsec_buf *sig, lsec_err *err)
{
	const device_key *k = ctx;
	return lsec_device_key_sign(sig, k->t, k->slot, msg, len, err);
}

int lsec_pki_device_csr(lsec_buf *out, lsec_device *t, unsigned slot, const char *cn,
			lsec_err *err)
{
	int rc = 0;
	lsec_buf spki = LSEC_BUF_INIT(1024);
	device_key k = {t, slot};
	LSEC_TRY(lsec_device_key_public(&spki, t, slot, err));
	LSEC_TRY(lsec_csr_build(out, spki.data, spki.len, cn, device_sign, &k, err));
out:
	lsec_buf_release(&spki);
	return rc;
}

int lsec_pki_device_pop(uint8_t challenge_sha256[32], const lsec_cert *cert, lsec_device *t,
			unsigned slot, lsec_err *err)
{
	int rc = 0;
	uint8_t ch[32];
	lsec_buf sig = LSEC_BUF_INIT(256);
	LSEC_TRY(lsec_pop_challenge(ch, err));
	LSEC_TRY(lsec_device_key_sign(&sig, t, slot, ch, sizeof(ch), err));
	LSEC_TRY(lsec_pop_verify(cert, ch, sizeof(ch), sig.data, sig.len, err));
	if (challenge_sha256 != NULL) {
		LSEC_TRY(lsec_sha256(challenge_sha256, ch, sizeof(ch), err));
	}
out:
	lsec_buf_release(&sig);
	return rc;
}

/* Case-insensitive equality of a registry UID and the device's, as hex. */
static bool uid_matches(const char *registered, const char *device_hex)
{
	size_t n = strlen(registered);
	if (n != strlen(device_hex)) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (tolower((unsigned char)registered[i]) != device_hex[i]) {
			return false;
		}
	}
	return true;
}

/* The key in the slot: made by the device, or by the station and injected. */
static int make_key(lsec_key_origin *origin, lsec_device *t, const lsec_device_info *info,
		    unsigned slot, lsec_err *err)
{
	int rc = 0;
	lsec_secret *p8 = NULL;
	EVP_PKEY *pub = NULL, *reported = NULL;
	lsec_buf spki = LSEC_BUF_INIT(1024);
	if (info->caps & LSEC_DEVICE_CAP_KEYGEN) {
		*origin = LSEC_KEY_ORIGIN_DEVICE;
		LSEC_TRY(lsec_device_key_generate(t, slot, err));
		goto out;
	}
	*origin = LSEC_KEY_ORIGIN_STATION;
	LSEC_ENSURE(info->caps & LSEC_DEVICE_CAP_KEY_INJECT, LSEC_E_DEVICE,
		    "device '%s' can neither generate nor take a key", lsec_device_uri(t));
	LSEC_TRY(lsec_pki_station_keygen(&p8, &pub, err));
	rc = lsec_device_key_inject(t, slot, p8, err);
	lsec_secret_free(p8); /* wiped: the station keeps no copy */
	p8 = NULL;
	LSEC_TRY(rc);
	LSEC_TRY(lsec_device_key_public(&spki, t, slot, err));
	const uint8_t *p = spki.data;
	reported = d2i_PUBKEY(NULL, &p, (long)spki.len);
	LSEC_ENSURE(reported != NULL && EVP_PKEY_eq(reported, pub) == 1, LSEC_E_DEVICE,
		    "device '%s' reports another public key than the one injected in slot %u",
		    lsec_device_uri(t), slot);
out:
	lsec_buf_release(&spki);
	EVP_PKEY_free(reported);
	EVP_PKEY_free(pub);
	lsec_secret_free(p8);
	return rc;
}

int lsec_pki_enroll(lsec_cert **out, lsec_ca *ca, lsec_store *st, const lsec_actor *who,
		    const char *unit, lsec_device *t, unsigned slot, uint32_t days, lsec_err *err)
{
	int rc = 0;
	lsec_device_info info;
	lsec_store_unit u;
	lsec_buf csrder = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	lsec_buf certder = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	lsec_buf back = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	lsec_csr *csr = NULL;
	lsec_cert *cert = NULL;
	lsec_key_origin origin = LSEC_KEY_ORIGIN_DEVICE;
	char uidhex[2 * LSEC_DEVICE_UID_LEN + 1];
	*out = NULL;
	LSEC_ENSURE(unit != NULL && t != NULL, LSEC_E_USAGE, "cannot enrol: missing unit or device");
	LSEC_TRY(lsec_store_unit_get(&u, st, unit, err));
	LSEC_TRY(lsec_device_info_get(&info, t, err));
	lsec_hex_encode(uidhex, info.uid, sizeof(info.uid));
	LSEC_ENSURE(uid_matches(u.uid, uidhex), LSEC_E_POLICY,
		    "cannot enrol unit '%s': registered with UID %s, but device '%s' reports %s",
		    unit, u.uid, lsec_device_uri(t), uidhex);
	LSEC_TRY(make_key(&origin, t, &info, slot, err));
	LSEC_TRY(lsec_pki_device_csr(&csrder, t, slot, u.serial, err));
	LSEC_TRY(lsec_csr_parse(&csr, csrder.data, csrder.len, err));
	LSEC_TRY(lsec_pki_issue_recorded(&cert, ca, st, who, u.serial, lsec_csr_key(csr), origin,
					 days, err));
	LSEC_TRY(lsec_cert_encode(&certder, cert, true, err));
	LSEC_TRY(lsec_device_cert_store(t, slot, certder.data, certder.len, err));
	LSEC_TRY(lsec_device_cert_read(&back, t, slot, err));
	LSEC_ENSURE(back.len == certder.len &&
			    lsec_ct_equal(back.data, certder.data, certder.len),
		    LSEC_E_POLICY,
		    "certificate read back from device '%s' slot %u is not the one issued",
		    lsec_device_uri(t), slot);
	LSEC_TRY(lsec_pki_device_pop(NULL, cert, t, slot, err));
	*out = cert;
	cert = NULL;
out:
	lsec_cert_free(cert);
	lsec_csr_free(csr);
	lsec_buf_release(&back);
	lsec_buf_release(&certder);
	lsec_buf_release(&csrder);
	return rc;
}
