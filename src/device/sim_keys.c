/*
 * sim_keys.c - the simulated secure element: P-256 keys held wrapped.
 *
 * A simulated device must keep its keys across processes, so they are
 * persisted, but never in clear: each private key (PKCS#8 DER) is sealed
 * with AES-256-GCM under the unit's hardware unique key (HUK, a 32-byte
 * random secret in its own 0600 file beside the state file, standing in
 * for the key silicon derives from its fuses). The associated data binds a
 * blob to the unit's UID and its slot, so a blob copied into another slot
 * or unit does not open. No device operation returns a private key.
 *
 * @test tests/unit/device/test_sim.c
 */
#include "device/device_int.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#define GCM_NONCE 12
#define GCM_TAG 16

static void make_aad(uint8_t aad[LSEC_DEVICE_UID_LEN + 4], const sim_unit *u, uint32_t label)
{
	memcpy(aad, u->uid, LSEC_DEVICE_UID_LEN);
	lsec_put_u32le(aad + LSEC_DEVICE_UID_LEN, label);
}

int lsec_device__sim_wrap(lsec_buf *out, const lsec_secret *huk, const sim_unit *u,
			  uint32_t label, const uint8_t *pt, size_t len, lsec_err *err)
{
	int rc = 0;
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t nonce[GCM_NONCE], tag[GCM_TAG], aad[LSEC_DEVICE_UID_LEN + 4];
	int n = 0;
	LSEC_ENSURE(len <= out->max - GCM_NONCE - GCM_TAG && len <= INT32_MAX, LSEC_E_LIMIT,
		    "cannot store blob of %zu bytes in the device: at most %zu", len,
		    out->max - GCM_NONCE - GCM_TAG);
	make_aad(aad, u, label);
	LSEC_TRY(lsec_random(nonce, sizeof(nonce), err));
	lsec_buf_reset(out);
	LSEC_TRY(lsec_buf_append(out, nonce, sizeof(nonce), err));
	LSEC_TRY(lsec_buf_reserve(out, len + GCM_TAG, err));
	ctx = EVP_CIPHER_CTX_new();
	LSEC_TRY_OSSL_PTR(ctx, LSEC_E_NOMEM, "cannot seal key blob");
	LSEC_TRY_OSSL(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, lsec_secret_cdata(huk), nonce),
		      LSEC_E_CRYPTO, "cannot seal key blob");
	LSEC_TRY_OSSL(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)sizeof(aad)), LSEC_E_CRYPTO,
		      "cannot seal key blob");
	LSEC_TRY_OSSL(EVP_EncryptUpdate(ctx, out->data + out->len, &n, pt, (int)len), LSEC_E_CRYPTO,
		      "cannot seal key blob");
	out->len += (size_t)n;
	LSEC_TRY_OSSL(EVP_EncryptFinal_ex(ctx, out->data + out->len, &n), LSEC_E_CRYPTO,
		      "cannot seal key blob");
	out->len += (size_t)n;
	LSEC_TRY_OSSL(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag), LSEC_E_CRYPTO,
		      "cannot seal key blob");
	LSEC_TRY(lsec_buf_append(out, tag, sizeof(tag), err));
out:
	if (rc < 0) {
		lsec_buf_reset(out);
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int lsec_device__sim_unwrap(lsec_secret **out, const lsec_secret *huk, const sim_unit *u,
			    uint32_t label, const lsec_buf *wrapped, lsec_err *err)
{
	int rc = 0;
	EVP_CIPHER_CTX *ctx = NULL;
	lsec_secret *pt = NULL;
	uint8_t aad[LSEC_DEVICE_UID_LEN + 4];
	uint8_t tag[GCM_TAG];
	int n = 0;
	*out = NULL;
	LSEC_ENSURE(wrapped->len > GCM_NONCE + GCM_TAG, LSEC_E_TGT_BAD_STATE,
		    "cannot open key blob %u: too short", label);
	size_t ctlen = wrapped->len - GCM_NONCE - GCM_TAG;
	make_aad(aad, u, label);
	memcpy(tag, wrapped->data + wrapped->len - GCM_TAG, GCM_TAG);
	LSEC_TRY(lsec_secret_new(&pt, ctlen, err));
	ctx = EVP_CIPHER_CTX_new();
	LSEC_TRY_OSSL_PTR(ctx, LSEC_E_NOMEM, "cannot open key blob");
	LSEC_TRY_OSSL(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, lsec_secret_cdata(huk),
					 wrapped->data),
		      LSEC_E_CRYPTO, "cannot open key blob");
	LSEC_TRY_OSSL(EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)sizeof(aad)), LSEC_E_CRYPTO,
		      "cannot open key blob");
	LSEC_TRY_OSSL(EVP_DecryptUpdate(ctx, lsec_secret_data(pt), &n, wrapped->data + GCM_NONCE,
					(int)ctlen),
		      LSEC_E_CRYPTO, "cannot open key blob");
	LSEC_TRY_OSSL(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag), LSEC_E_CRYPTO,
		      "cannot open key blob");
	LSEC_TRY_OSSL(EVP_DecryptFinal_ex(ctx, lsec_secret_data(pt) + n, &n), LSEC_E_TGT_BAD_STATE,
		      "cannot open key blob %u: authentication failed (wrong device secret or corrupt state)",
		      label);
	*out = pt;
	pt = NULL;
out:
	lsec_secret_free(pt);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* PKCS#8 DER of pkey into a fresh secret. */
static int to_pkcs8(lsec_secret **out, EVP_PKEY *pkey, lsec_err *err)
{
	int rc = 0;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	uint8_t *der = NULL;
	int n = 0;
	p8 = EVP_PKEY2PKCS8(pkey);
	LSEC_TRY_OSSL_PTR(p8, LSEC_E_CRYPTO, "cannot encode private key");
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot encode private key");
	LSEC_TRY(lsec_secret_from(out, der, (size_t)n, err));
out:
	if (der != NULL) {
		OPENSSL_clear_free(der, (size_t)n);
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

static int spki_of(lsec_buf *spki, EVP_PKEY *pkey, lsec_err *err)
{
	int rc = 0;
	uint8_t *der = NULL;
	int n = i2d_PUBKEY(pkey, &der);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot encode public key");
	lsec_buf_reset(spki);
	LSEC_TRY(lsec_buf_append(spki, der, (size_t)n, err));
out:
	OPENSSL_free(der);
	return rc;
}

/* Decodes PKCS#8 DER, insisting on a P-256 key. */
static int load_p256(EVP_PKEY **out, const lsec_secret *pkcs8, lsec_err *err)
{
	int rc = 0;
	char group[32] = {0};
	const uint8_t *p = lsec_secret_cdata(pkcs8);
	*out = d2i_AutoPrivateKey(NULL, &p, (long)lsec_secret_len(pkcs8));
	LSEC_TRY_OSSL_PTR(*out, LSEC_E_PARSE, "cannot load key: not a PKCS#8 private key");
	LSEC_ENSURE(EVP_PKEY_is_a(*out, "EC") &&
			    EVP_PKEY_get_utf8_string_param(*out, OSSL_PKEY_PARAM_GROUP_NAME, group,
							   sizeof(group), NULL) == 1 &&
			    strcmp(group, "prime256v1") == 0,
		    LSEC_E_USAGE, "cannot load key: expected an ECDSA P-256 key");
out:
	if (rc < 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

int lsec_device__sim_keygen(lsec_secret **pkcs8, lsec_buf *spki, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	*pkcs8 = NULL;
	LSEC_TRY_OSSL_PTR(pkey, LSEC_E_CRYPTO, "cannot generate a P-256 key");
	LSEC_TRY(to_pkcs8(pkcs8, pkey, err));
	LSEC_TRY(spki_of(spki, pkey, err));
out:
	if (rc < 0) {
		lsec_secret_free(*pkcs8);
		*pkcs8 = NULL;
	}
	EVP_PKEY_free(pkey);
	return rc;
}

int lsec_device__sim_key_check(const lsec_secret *pkcs8, lsec_buf *spki, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pkey = NULL;
	LSEC_TRY(load_p256(&pkey, pkcs8, err));
	LSEC_TRY(spki_of(spki, pkey, err));
out:
	EVP_PKEY_free(pkey);
	return rc;
}

int lsec_device__sim_sign(lsec_buf *sig, const lsec_secret *pkcs8, const uint8_t *msg, size_t len,
			  lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pkey = NULL;
	LSEC_TRY(load_p256(&pkey, pkcs8, err));
	LSEC_TRY(lsec_evp_sign(sig, pkey, "SHA256", msg, len, "cannot sign challenge", err));
out:
	EVP_PKEY_free(pkey);
	return rc;
}

int lsec_device__sim_token_verify(const uint8_t *token, size_t len, const uint8_t uid[16],
				  const uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN],
				  const uint8_t key_digest[32], lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pub = NULL;
	bool ok = false;
	lsec_reader r;
	uint16_t n = 0;
	const uint8_t *spki = NULL;
	uint8_t digest[32], zero[32] = {0};
	uint8_t msg[LSEC_DEVICE__ERASE_MSG_LEN];
	lsec_reader_init(&r, token, len);
	LSEC_ENSURE(!lsec_ct_equal(key_digest, zero, sizeof(zero)), LSEC_E_TGT_AUTH_TOKEN,
		    "cannot authenticate erase: no debug-auth key digest is fused (the unit was "
		    "secured without one): only physical destruction remains");
	LSEC_ENSURE(lsec_reader_u16le(&r, &n) && lsec_reader_bytes(&r, &spki, n) &&
			    lsec_reader_left(&r) > 0,
		    LSEC_E_TGT_AUTH_TOKEN, "cannot authenticate erase: malformed token (%zu bytes)",
		    len);
	LSEC_TRY(lsec_sha256(digest, spki, n, err));
	LSEC_ENSURE(lsec_ct_equal(digest, key_digest, sizeof(digest)), LSEC_E_TGT_AUTH_TOKEN,
		    "cannot authenticate erase: the token's key is not the fused debug-auth key digest");
	const uint8_t *p = spki;
	pub = d2i_PUBKEY(NULL, &p, n);
	LSEC_TRY_OSSL_PTR(pub, LSEC_E_TGT_AUTH_TOKEN, "cannot authenticate erase: bad token key");
	lsec_device__erase_message(msg, uid, challenge);
	bool ed = EVP_PKEY_is_a(pub, "ED25519");
	LSEC_ENSURE(ed || EVP_PKEY_is_a(pub, "EC"), LSEC_E_TGT_AUTH_TOKEN,
		    "cannot authenticate erase: the token's key is neither ECDSA nor Ed25519");
	LSEC_TRY(lsec_evp_verify(&ok, pub, ed ? NULL : "SHA256", msg, sizeof(msg), token + r.off,
				 lsec_reader_left(&r), "cannot authenticate erase", err));
	LSEC_ENSURE(ok, LSEC_E_TGT_AUTH_TOKEN,
		    "cannot authenticate erase: the token's signature does not verify for this UID "
		    "and the device's last challenge");
out:
	EVP_PKEY_free(pub);
	return rc;
}
