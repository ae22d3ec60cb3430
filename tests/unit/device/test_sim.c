/* The simulated MCU: flash, debug port, keystore, erase and every injected fault. */
#include "sim_fixture.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

static void test_device_sim__flash_is_nor_and_persists(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	uint8_t data[5000], back[5000], h1[32], h2[32];
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i * 7);
	}
	assert_lsec_ok(lsec_device_flash_erase(t, 4096, 8192, &err), &err);
	assert_lsec_ok(lsec_device_flash_write(t, 4096, data, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_device_flash_read(back, t, 4096, sizeof(back), &err), &err);
	assert_memory_equal(back, data, sizeof(data));
	assert_lsec_ok(lsec_device_flash_hash(h1, t, 4096, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_sha256(h2, data, sizeof(data), &err), &err);
	assert_memory_equal(h1, h2, 32);
	/* Programming without an erase only clears bits: 0x0f over 0xf0 reads 0x00. */
	uint8_t a = 0xf0, b = 0x0f, r = 0;
	assert_lsec_ok(lsec_device_flash_write(t, 20000, &a, 1, &err), &err);
	assert_lsec_ok(lsec_device_flash_write(t, 20000, &b, 1, &err), &err);
	assert_lsec_ok(lsec_device_flash_read(&r, t, 20000, 1, &err), &err);
	assert_int_equal(r, 0x00);
	/* Erase works in whole pages and sets bytes to 0xff. */
	assert_lsec_code(lsec_device_flash_erase(t, 100, 4096, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_flash_erase(t, 0, 100, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_flash_write(t, 65535, data, 2, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_flash_read(back, t, 0xffffffffu, 2, &err), LSEC_E_TGT_RANGE,
			 &err);
	assert_non_null(strstr(err.msg, "outside flash"));
	lsec_device_close(t);

	/* Another process (session) sees the same flash. */
	t = fixture_open(fx.uri, true);
	assert_lsec_ok(lsec_device_flash_read(back, t, 4096, sizeof(back), &err), &err);
	assert_memory_equal(back, data, sizeof(data));
	assert_lsec_ok(lsec_device_flash_erase(t, 4096, 4096, &err), &err);
	assert_lsec_ok(lsec_device_flash_read(back, t, 4096, 4096, &err), &err);
	for (size_t i = 0; i < 4096; i++) {
		assert_int_equal(back[i], 0xff);
	}
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_sim__program_verifies_read_back(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	o.fault_units = "2";
	o.faults = "stuck=0x1003:0:1";
	fixture_make(&fx, &o);
	uint8_t data[6000];
	memset(data, 0x00, sizeof(data));
	lsec_device *t = fixture_open(fx.uri, true);
	/* Programming erases what it covers first: old contents do not leak through. */
	assert_lsec_ok(lsec_device_flash_write(t, 4096, (const uint8_t *)"\x0f", 1, &err), &err);
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(0xf0 | (i & 0x0f));
	}
	assert_lsec_ok(lsec_device_flash_program(t, 0, data, sizeof(data), &err), &err);
	uint8_t back[sizeof(data)];
	assert_lsec_ok(lsec_device_flash_read(back, t, 0, sizeof(back), &err), &err);
	assert_memory_equal(back, data, sizeof(data));
	/* Compare: the flash's digest comes back; a difference is an answer, not an error. */
	bool same = false;
	uint8_t have[32], want[32];
	assert_lsec_ok(lsec_device_flash_compare(&same, have, t, 0, data, sizeof(data), &err), &err);
	assert_true(same);
	assert_lsec_ok(lsec_sha256(want, data, sizeof(data), &err), &err);
	assert_memory_equal(have, want, 32);
	data[5999] ^= 1;
	assert_lsec_ok(lsec_device_flash_compare(&same, NULL, t, 0, data, sizeof(data), &err), &err);
	assert_false(same);
	data[5999] ^= 1;
	assert_lsec_code(lsec_device_flash_compare(&same, NULL, t, 61440, data, sizeof(data), &err),
			 LSEC_E_TGT_RANGE, &err);
	assert_false(same);
	assert_lsec_code(lsec_device_flash_program(t, 100, data, 10, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_flash_program(t, 61440, data, sizeof(data), &err),
			 LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_flash_program(t, 0, data, 0, &err), LSEC_E_USAGE, &err);
	lsec_device_close(t);
	/* Unit 2 has a bit stuck at 1: the read-back digest catches it. */
	char *u2 = fixture_uri(&fx, 2, NULL);
	t = fixture_open(u2, true);
	memset(data, 0, sizeof(data));
	assert_lsec_code(lsec_device_flash_program(t, 0, data, sizeof(data), &err),
			 LSEC_E_TGT_VERIFY, &err);
	assert_non_null(strstr(err.msg, "read-back"));
	lsec_device_close(t);
	lsec_free(u2);
	fixture_free(&fx);
}

static void test_device_sim__one_session_per_unit(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, false), *t2 = NULL;
	assert_lsec_code(lsec_device_open(&t2, fx.uri, &err), LSEC_E_DEVICE, &err);
	assert_null(t2);
	lsec_device_close(t);
	t2 = fixture_open(fx.uri, false);
	lsec_device_close(t2);
	fixture_free(&fx);
}

static void test_device_sim__debug_lock_applies_at_reset(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	lsec_device_boot_report br;
	unsigned level = 9;
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 1, &err), &err);
	assert_lsec_ok(lsec_device_debug_lock_level(&level, t, &err), &err);
	assert_int_equal(level, 0);
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_lsec_ok(lsec_device_debug_lock_level(&level, t, &err), &err);
	assert_int_equal(level, 1);
	/* Locked: the reset detached the probe and attach is refused, session intact. */
	uint8_t x = 0;
	assert_lsec_code(lsec_device_flash_read(&x, t, 0, 1, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);
	assert_non_null(strstr(err.msg, "debug port locked"));
	assert_false(lsec_device_failed(t));
	lsec_device_close(t);
	/* Still locked in a new session. */
	t = fixture_open(fx.uri, false);
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);
	lsec_device_close(t);
	fixture_free(&fx);
}

/* Verifies a DER ECDSA-SHA256 signature with a DER SPKI, using OpenSSL directly. */
static bool verify_sig(const lsec_buf *spki, const uint8_t *msg, size_t len, const lsec_buf *sig)
{
	const uint8_t *p = spki->data;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)spki->len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = pub != NULL && ctx != NULL &&
		  EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
		  EVP_DigestVerify(ctx, sig->data, sig->len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	return ok;
}

static void test_device_sim__keystore_generates_signs_and_keeps_keys(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	lsec_buf spki = LSEC_BUF_INIT(1024), sig = LSEC_BUF_INIT(256), cert = LSEC_BUF_INIT(4096);
	const uint8_t challenge[] = "nonce-1234567890";
	assert_lsec_code(lsec_device_key_public(&spki, t, 0, &err), LSEC_E_TGT_SLOT_EMPTY, &err);
	assert_lsec_code(lsec_device_key_sign(&sig, t, 0, challenge, 16, &err),
			 LSEC_E_TGT_SLOT_EMPTY, &err);
	assert_lsec_ok(lsec_device_key_generate(t, 0, &err), &err);
	assert_lsec_code(lsec_device_key_generate(t, 0, &err), LSEC_E_TGT_SLOT_FULL, &err);
	assert_lsec_code(lsec_device_key_generate(t, 4, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_ok(lsec_device_key_public(&spki, t, 0, &err), &err);
	assert_lsec_ok(lsec_device_key_sign(&sig, t, 0, challenge, 16, &err), &err);
	assert_true(verify_sig(&spki, challenge, 16, &sig));
	assert_false(verify_sig(&spki, (const uint8_t *)"other-challenge!", 16, &sig));

	/* Certificate blob stored beside the key and read back. */
	const uint8_t fake_cert[] = {0x30, 0x03, 0x02, 0x01, 0x07};
	assert_lsec_code(lsec_device_cert_read(&cert, t, 0, &err), LSEC_E_NOTFOUND, &err);
	assert_lsec_code(lsec_device_cert_store(t, 1, fake_cert, sizeof(fake_cert), &err),
			 LSEC_E_TGT_SLOT_EMPTY, &err);
	assert_lsec_ok(lsec_device_cert_store(t, 0, fake_cert, sizeof(fake_cert), &err), &err);
	assert_lsec_ok(lsec_device_cert_read(&cert, t, 0, &err), &err);
	assert_int_equal(cert.len, sizeof(fake_cert));
	assert_memory_equal(cert.data, fake_cert, sizeof(fake_cert));

	/* The initial credential goes in, never in clear on disk. */
	lsec_secret *cred = NULL;
	const char *pw = "Xk3-initial-credential-7Qz";
	assert_lsec_ok(lsec_secret_from(&cred, pw, strlen(pw), &err), &err);
	assert_lsec_ok(lsec_device_credential_store(t, cred, &err), &err);
	lsec_device_slot_status st;
	assert_lsec_ok(lsec_device_key_status(&st, t, 0, &err), &err);
	assert_int_equal(st.state, LSEC_SLOT_GENERATED);
	assert_true(st.has_cert);
	lsec_device_close(t);
	assert_false(file_contains(fx.path, (const uint8_t *)pw, strlen(pw)));

	/* A new session signs with the same key (it persisted, sealed). */
	t = fixture_open(fx.uri, true);
	lsec_buf sig2 = LSEC_BUF_INIT(256);
	assert_lsec_ok(lsec_device_key_sign(&sig2, t, 0, challenge, 16, &err), &err);
	assert_true(verify_sig(&spki, challenge, 16, &sig2));
	lsec_device_close(t);

	lsec_buf_release(&sig2);
	lsec_secret_free(cred);
	lsec_buf_release(&spki);
	lsec_buf_release(&sig);
	lsec_buf_release(&cert);
	fixture_free(&fx);
}

static void test_device_sim__inject_when_no_keygen(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.no_keygen = true;
	fixture_make(&fx, &o);
	lsec_device *t = fixture_open(fx.uri, true);
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	assert_false(info.caps & LSEC_DEVICE_CAP_KEYGEN);
	assert_true(info.caps & LSEC_DEVICE_CAP_KEY_INJECT);
	assert_lsec_code(lsec_device_key_generate(t, 0, &err), LSEC_E_TGT_UNSUPPORTED, &err);

	/* The station generates the key and injects it as PKCS#8 DER. */
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
	uint8_t *der = NULL;
	int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	assert_true(n > 0);
	lsec_secret *sec = NULL;
	assert_lsec_ok(lsec_secret_from(&sec, der, (size_t)n, &err), &err);
	assert_lsec_ok(lsec_device_key_inject(t, 1, sec, &err), &err);
	lsec_buf spki = LSEC_BUF_INIT(1024), sig = LSEC_BUF_INIT(256);
	assert_lsec_ok(lsec_device_key_public(&spki, t, 1, &err), &err);
	uint8_t *want = NULL;
	int wn = i2d_PUBKEY(k, &want);
	assert_int_equal(spki.len, (size_t)wn);
	assert_memory_equal(spki.data, want, (size_t)wn);
	assert_lsec_ok(lsec_device_key_sign(&sig, t, 1, (const uint8_t *)"abc", 3, &err), &err);
	assert_true(verify_sig(&spki, (const uint8_t *)"abc", 3, &sig));
	lsec_device_slot_status st;
	assert_lsec_ok(lsec_device_key_status(&st, t, 1, &err), &err);
	assert_int_equal(st.state, LSEC_SLOT_INJECTED);
	lsec_device_close(t);
	/* The private key is not in the state file in clear. */
	assert_false(file_contains(fx.path, der, (size_t)n));

	/* A key that is not P-256 is refused; garbage is refused. */
	t = fixture_open(fx.uri, true);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	PKCS8_PRIV_KEY_INFO *p8e = EVP_PKEY2PKCS8(ed);
	uint8_t *dere = NULL;
	int ne = i2d_PKCS8_PRIV_KEY_INFO(p8e, &dere);
	lsec_secret *sece = NULL, *junk = NULL;
	assert_lsec_ok(lsec_secret_from(&sece, dere, (size_t)ne, &err), &err);
	assert_lsec_code(lsec_device_key_inject(t, 2, sece, &err), LSEC_E_USAGE, &err);
	assert_lsec_ok(lsec_secret_from(&junk, "junk", 4, &err), &err);
	assert_lsec_code(lsec_device_key_inject(t, 2, junk, &err), LSEC_E_PARSE, &err);
	lsec_device_slot_status st2;
	assert_lsec_ok(lsec_device_key_status(&st2, t, 2, &err), &err);
	assert_int_equal(st2.state, LSEC_SLOT_EMPTY);
	lsec_device_close(t);

	lsec_secret_free(junk);
	lsec_secret_free(sece);
	OPENSSL_clear_free(dere, (size_t)ne);
	PKCS8_PRIV_KEY_INFO_free(p8e);
	EVP_PKEY_free(ed);
	OPENSSL_free(want);
	lsec_secret_free(sec);
	OPENSSL_clear_free(der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(k);
	lsec_buf_release(&spki);
	lsec_buf_release(&sig);
	fixture_free(&fx);
}

/* Burns the SPKI digest of key into digest fuse f. */
static void fuse_digest_of(lsec_device *t, lsec_device_fuse f, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t *spki = NULL, digest[32];
	int n = i2d_PUBKEY(key, &spki);
	assert_true(n > 0);
	assert_lsec_ok(lsec_sha256(digest, spki, (size_t)n, &err), &err);
	assert_lsec_ok(lsec_device_fuse_burn_key_digest(t, f, digest, &err), &err);
	OPENSSL_free(spki);
}

/* Burns the SPKI digest of key as the debug-authentication key digest. */
static void fuse_key_digest(lsec_device *t, EVP_PKEY *key)
{
	fuse_digest_of(t, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, key);
}

static void assert_wiped(lsec_device *t)
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t page[4096];
	lsec_device_slot_status st;
	assert_lsec_ok(lsec_device_flash_read(page, t, 0, sizeof(page), &err), &err);
	for (size_t i = 0; i < sizeof(page); i++) {
		assert_int_equal(page[i], 0xff);
	}
	for (unsigned s = 0; s < 4; s++) {
		assert_lsec_ok(lsec_device_key_status(&st, t, s, &err), &err);
		assert_int_equal(st.state, LSEC_SLOT_EMPTY);
		assert_false(st.has_cert);
	}
}

static void test_device_sim__erase_all_and_authenticated_erase(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	fixture_make(&fx, &o);
	EVP_PKEY *oem = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	lsec_device *t = fixture_open(fx.uri, true);
	uint8_t data[16], erased[32], dg[32], zero[32];
	memset(data, 0, sizeof(data));
	memset(zero, 0, sizeof(zero));
	lsec_device_info info, info2;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	lsec_test_erased_sha256(erased, info.flash_size);
	assert_lsec_ok(lsec_device_flash_write(t, 0, data, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_device_key_generate(t, 0, &err), &err);
	memset(dg, 0xaa, sizeof(dg));
	assert_lsec_code(lsec_device_blank_check(dg, t, &err), LSEC_E_TGT_NOT_BLANK, &err);
	assert_non_null(strstr(err.msg, "key slot 0"));
	assert_memory_equal(dg, zero, sizeof(dg));
	assert_lsec_ok(lsec_device_erase_all(t, &err), &err);
	assert_wiped(t);
	/* The digest returned is that of the whole erased flash. */
	assert_lsec_ok(lsec_device_blank_check(dg, t, &err), &err);
	assert_memory_equal(dg, erased, sizeof(dg));
	assert_lsec_ok(lsec_device_flash_write(t, 60000, data, 1, &err), &err);
	memset(dg, 0xaa, sizeof(dg));
	assert_lsec_code(lsec_device_blank_check(dg, t, &err), LSEC_E_TGT_NOT_BLANK, &err);
	assert_non_null(strstr(err.msg, "flash"));
	assert_memory_equal(dg, zero, sizeof(dg));
	assert_lsec_ok(lsec_device_erase_all(t, &err), &err);

	/* Set up a locked unit: key digest fused, data and a key, debug locked. */
	fuse_key_digest(t, oem);
	assert_lsec_ok(lsec_device_flash_write(t, 0, data, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_device_key_generate(t, 3, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 1, &err), &err);
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_lsec_code(lsec_device_erase_all(t, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);

	/* Tokens answer a challenge: one made in an earlier session is worth nothing. */
	uint8_t ch[LSEC_DEVICE_ERASE_CHALLENGE_LEN], ch2[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
	lsec_buf good = LSEC_BUF_INIT(1024), wrong_key = LSEC_BUF_INIT(1024),
		 wrong_uid = LSEC_BUF_INIT(1024), old = LSEC_BUF_INIT(1024);
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	assert_lsec_ok(lsec_device_erase_token(&old, info.uid, ch, oem, &err), &err);
	lsec_device_close(t);
	char *uri2 = fixture_uri(&fx, 2, NULL);
	lsec_device *t2 = fixture_open(uri2, false);
	assert_lsec_ok(lsec_device_info_get(&info2, t2, &err), &err);
	/* Unit 2 has no key digest fused: no token can authenticate. */
	assert_lsec_ok(lsec_device_erase_challenge(ch2, t2, &err), &err);
	assert_lsec_ok(lsec_device_erase_token(&wrong_uid, info2.uid, ch2, oem, &err), &err);
	assert_lsec_code(lsec_device_erase_authenticated(t2, wrong_uid.data, wrong_uid.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_non_null(strstr(err.msg, "no debug-auth key digest"));
	lsec_device_close(t2);

	t = fixture_open(fx.uri, false);
	assert_lsec_code(lsec_device_erase_authenticated(t, old.data, old.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_non_null(strstr(err.msg, "no challenge"));
	assert_lsec_ok(lsec_device_erase_challenge(ch2, t, &err), &err);
	assert_memory_not_equal(ch, ch2, sizeof(ch));
	assert_lsec_code(lsec_device_erase_authenticated(t, old.data, old.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_non_null(strstr(err.msg, "does not verify"));
	/* Each refused attempt used its challenge up; a fresh one for each. */
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	assert_lsec_ok(lsec_device_erase_token(&wrong_key, info.uid, ch, other, &err), &err);
	assert_lsec_code(lsec_device_erase_authenticated(t, wrong_key.data, wrong_key.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	lsec_buf_reset(&wrong_uid);
	assert_lsec_ok(lsec_device_erase_token(&wrong_uid, info2.uid, ch, oem, &err), &err);
	assert_lsec_code(lsec_device_erase_authenticated(t, wrong_uid.data, wrong_uid.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	assert_lsec_ok(lsec_device_erase_token(&good, info.uid, ch, oem, &err), &err);
	assert_lsec_code(lsec_device_erase_authenticated(t, good.data, 5, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	/* The good token's challenge went with the truncated attempt. */
	assert_lsec_code(lsec_device_erase_authenticated(t, good.data, good.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	lsec_device_slot_status st;
	assert_lsec_ok(lsec_device_key_status(&st, t, 3, &err), &err);
	assert_int_equal(st.state, LSEC_SLOT_GENERATED);
	/* A reset forgets the challenge given before it. */
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	lsec_buf_reset(&good);
	assert_lsec_ok(lsec_device_erase_token(&good, info.uid, ch, oem, &err), &err);
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_lsec_code(lsec_device_erase_authenticated(t, good.data, good.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	lsec_buf_reset(&good);
	assert_lsec_ok(lsec_device_erase_token(&good, info.uid, ch, oem, &err), &err);
	assert_lsec_ok(lsec_device_erase_authenticated(t, good.data, good.len, &err), &err);
	/* The token that erased it cannot erase it again. */
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	assert_lsec_code(lsec_device_erase_authenticated(t, good.data, good.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	/* Wiped: flash and slots; OTP kept (still locked, secure boot still on). */
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_ENABLE, &err), &err);
	assert_int_equal(v.value, 1);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_DEBUG_LOCK, &err), &err);
	assert_int_equal(v.value, 1);
	for (unsigned s = 0; s < 4; s++) {
		assert_lsec_ok(lsec_device_key_status(&st, t, s, &err), &err);
		assert_int_equal(st.state, LSEC_SLOT_EMPTY);
	}
	/* Until the next reset the authenticated session may attach, to blank-check. */
	assert_lsec_code(lsec_device_blank_check(dg, t, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	assert_lsec_ok(lsec_device_blank_check(dg, t, &err), &err);
	assert_memory_equal(dg, erased, sizeof(dg));
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);
	lsec_device_close(t);
	lsec_free(uri2);
	lsec_buf_release(&good);
	lsec_buf_release(&wrong_key);
	lsec_buf_release(&wrong_uid);
	lsec_buf_release(&old);
	EVP_PKEY_free(oem);
	EVP_PKEY_free(other);
	fixture_free(&fx);
}

/* Asks the device for a challenge and answers it with key, into tok. */
static void token_for(lsec_buf *tok, lsec_device *t, const uint8_t uid[16], EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t ch[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
	lsec_buf_reset(tok);
	assert_lsec_ok(lsec_device_erase_challenge(ch, t, &err), &err);
	assert_lsec_ok(lsec_device_erase_token(tok, uid, ch, key, &err), &err);
}

/*
 * The erase token under both key types: an Ed25519 and a P-256
 * debug-auth key each erase a locked unit whose DEBUG_AUTH fuse holds its
 * digest; the secure-boot (firmware) key, fused as SECURE_BOOT_KEY_DIGEST,
 * never does; the OTP lock write-locks the debug-auth words.
 */
static void erase_with(const char *type)
{
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	EVP_PKEY *dbg = strcmp(type, "ed25519") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
						     : EVP_EC_gen("P-256");
	EVP_PKEY *fw = EVP_EC_gen("P-256");
	assert_non_null(dbg);
	lsec_device *t = fixture_open(fx.uri, true);
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	lsec_buf by_fw = LSEC_BUF_INIT(1024), by_dbg = LSEC_BUF_INIT(1024);
	fuse_digest_of(t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, fw);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 1, &err), &err);
	/* No debug-auth digest yet: nothing authenticates, the firmware key least of all. */
	token_for(&by_fw, t, info.uid, fw);
	assert_lsec_code(lsec_device_erase_authenticated(t, by_fw.data, by_fw.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_non_null(strstr(err.msg, "no debug-auth key digest"));
	fuse_key_digest(t, dbg);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_OTP_LOCK, 1, &err), &err);
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, &err), &err);
	assert_true(v.locked);
	uint8_t ones[32];
	memset(ones, 0xff, sizeof(ones));
	assert_lsec_code(lsec_device_fuse_burn_key_digest(t, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, ones,
							  &err),
			 LSEC_E_TGT_OTP_LOCKED, &err);
	token_for(&by_fw, t, info.uid, fw);
	assert_lsec_code(lsec_device_erase_authenticated(t, by_fw.data, by_fw.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	assert_non_null(strstr(err.msg, "not the fused debug-auth key digest"));
	/* A signature byte flipped: refused. */
	token_for(&by_dbg, t, info.uid, dbg);
	by_dbg.data[by_dbg.len - 1] ^= 1;
	assert_lsec_code(lsec_device_erase_authenticated(t, by_dbg.data, by_dbg.len, &err),
			 LSEC_E_TGT_AUTH_TOKEN, &err);
	token_for(&by_dbg, t, info.uid, dbg);
	assert_lsec_ok(lsec_device_erase_authenticated(t, by_dbg.data, by_dbg.len, &err), &err);
	lsec_device_close(t);
	lsec_buf_release(&by_fw);
	lsec_buf_release(&by_dbg);
	EVP_PKEY_free(dbg);
	EVP_PKEY_free(fw);
	fixture_free(&fx);
}

static void test_device_sim__debug_auth_erase_ed25519(void **state)
{
	(void)state;
	erase_with("ed25519");
}

static void test_device_sim__debug_auth_erase_p256(void **state)
{
	(void)state;
	erase_with("ecdsa-p256");
}

static void test_device_sim__level2_lock_refuses_authenticated_erase(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	EVP_PKEY *oem = EVP_EC_gen("P-256");
	lsec_device *t = fixture_open(fx.uri, true);
	fuse_key_digest(t, oem);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 2, &err), &err);
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	lsec_buf tok = LSEC_BUF_INIT(1024);
	uint8_t ch[LSEC_DEVICE_ERASE_CHALLENGE_LEN] = {0};
	/* Locked for good: no challenge is given, and no token is taken. */
	assert_lsec_code(lsec_device_erase_challenge(ch, t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);
	assert_lsec_ok(lsec_device_erase_token(&tok, info.uid, ch, oem, &err), &err);
	assert_lsec_code(lsec_device_erase_authenticated(t, tok.data, tok.len, &err),
			 LSEC_E_TGT_ATTACH_REFUSED, &err);
	assert_non_null(strstr(err.msg, "level 2"));
	lsec_device_close(t);
	lsec_buf_release(&tok);
	EVP_PKEY_free(oem);
	fixture_free(&fx);
}

/* ---- faults ------------------------------------------------------------ */

static void test_device_sim__power_loss_mid_flash_write_keeps_prefix(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	char *uri = fixture_uri(&fx, 1, "flash_cut=1000");
	lsec_device *t = fixture_open(uri, true);
	uint8_t data[3000], back[3000];
	memset(data, 0x00, sizeof(data));
	assert_lsec_ok(lsec_device_flash_write(t, 0, data, 600, &err), &err);
	/* 400 more bytes land, then power goes. */
	assert_lsec_code(lsec_device_flash_write(t, 600, data, 2000, &err), LSEC_E_TGT_POWER_LOSS,
			 &err);
	lsec_device_close(t);
	t = fixture_open(fx.uri, true);
	assert_lsec_ok(lsec_device_flash_read(back, t, 0, sizeof(back), &err), &err);
	for (size_t i = 0; i < sizeof(back); i++) {
		assert_int_equal(back[i], i < 1000 ? 0x00 : 0xff);
	}
	lsec_device_close(t);
	lsec_free(uri);
	fixture_free(&fx);
}

static void test_device_sim__power_loss_mid_otp_burn_keeps_some_bits(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	char *uri = fixture_uri(&fx, 1, "otp_cut=3");
	lsec_device *t = fixture_open(uri, true);
	uint8_t digest[32];
	memset(digest, 0xff, sizeof(digest));
	/* The digest is 8 word burns: the third is cut after half its bits. */
	assert_lsec_code(lsec_device_fuse_burn_digest(t, digest, &err), LSEC_E_TGT_POWER_LOSS, &err);
	lsec_device_close(t);
	t = fixture_open(fx.uri, true);
	uint32_t w[8];
	assert_lsec_ok(lsec_device_otp_read(w, t, 0, 8, &err), &err);
	assert_int_equal(w[0], 0xffffffffu);
	assert_int_equal(w[1], 0xffffffffu);
	assert_int_equal(w[2], 0x55555555u);
	assert_int_equal(w[3], 0);
	/* The station reconciles by reading back and finishing the burn. */
	assert_lsec_ok(lsec_device_fuse_burn_digest(t, digest, &err), &err);
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	assert_memory_equal(v.bytes, digest, 32);
	lsec_device_close(t);
	lsec_free(uri);
	fixture_free(&fx);
}

/* Outcome (1 ok, 0 failed) of n attach attempts with fresh sessions. */
static void attach_pattern(char *out, const char *uri, int n)
{
	lsec_err err = LSEC_ERR_INIT;
	for (int i = 0; i < n; i++) {
		lsec_device *t = fixture_open(uri, false);
		int rc = lsec_device_debug_attach(t, &err);
		assert_true(rc == 0 || rc == LSEC_E_TGT_ATTACH_FAILED);
		out[i] = rc == 0 ? '1' : '0';
		if (rc < 0) {
			assert_true(lsec_device_failed(t));
		}
		lsec_device_close(t);
	}
	out[n] = 0;
}

static void test_device_sim__attach_failure_is_seeded(void **state)
{
	(void)state;
	sim_fixture fx;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	o.has_seed = true;
	o.seed = 1;
	fixture_make(&fx, &o);
	char *u1 = fixture_uri(&fx, 1, "attach_fail=0.5&seed=99");
	char *u2 = fixture_uri(&fx, 2, "attach_fail=0.5&seed=99");
	char p1[41], p2[41];
	attach_pattern(p1, u1, 40);
	attach_pattern(p2, u2, 40);
	/* Same seed, same attempt numbers: the same sequence, in any process. */
	assert_string_equal(p1, p2);
	assert_non_null(strchr(p1, '0'));
	assert_non_null(strchr(p1, '1'));
	char *always = fixture_uri(&fx, 1, "attach_fail=1");
	char *never = fixture_uri(&fx, 1, "attach_fail=0");
	attach_pattern(p1, always, 5);
	assert_string_equal(p1, "00000");
	attach_pattern(p1, never, 5);
	assert_string_equal(p1, "11111");
	lsec_free(always);
	lsec_free(never);
	lsec_free(u1);
	lsec_free(u2);
	fixture_free(&fx);
}

static void test_device_sim__stuck_bit_and_boot_failure(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.faults = "stuck=0x100:2:0&boot_fail=1";
	fixture_make(&fx, &o);
	lsec_device *t = fixture_open(fx.uri, true);
	uint8_t v = 0, ff = 0xff;
	/* Stuck at 0: erased, it still reads 0xfb; read-back catches it. */
	assert_lsec_ok(lsec_device_flash_erase(t, 0, 4096, &err), &err);
	assert_lsec_ok(lsec_device_flash_read(&v, t, 0x100, 1, &err), &err);
	assert_int_equal(v, 0xfb);
	assert_lsec_ok(lsec_device_flash_write(t, 0x100, &ff, 1, &err), &err);
	assert_lsec_ok(lsec_device_flash_read(&v, t, 0x101, 1, &err), &err);
	assert_int_equal(v, 0xff);
	/* The unit's boot failure fires once, then the boot ROM runs normally. */
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_int_equal(br.boot_error, LSEC_BOOT_HW_FAULT);
	assert_non_null(strstr(err.msg, "hw-fault"));
	lsec_device_close(t);
	t = fixture_open(fx.uri, false);
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_int_equal(br.boot_error, LSEC_BOOT_NO_IMAGE);
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_sim__cloned_uid_and_fleet_faults(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 3;
	o.flash_size = 8192;
	o.has_seed = true;
	o.seed = 5;
	o.clone_src = 1;
	o.clone_dst = 3;
	o.faults = "boot_fail=2";
	o.fault_units = "2";
	lsec_device_sim_fleet *fleet = NULL;
	assert_lsec_ok(lsec_device_sim_fleet_new(&fleet, dir, &o, &err), &err);
	assert_int_equal(fleet->nunits, 3);
	assert_string_equal(fleet->chip, "linesec-sim-m1");
	const char *uid1 = fleet->units[0].uid_hex;
	const char *uid2 = fleet->units[1].uid_hex;
	const char *uid3 = fleet->units[2].uid_hex;
	assert_string_equal(uid1, uid3);
	assert_string_not_equal(uid1, uid2);
	assert_int_equal(fleet->units[1].unit, 2);
	char *uri2 = lsec_asprintf("sim:%s/unit-002.sim", dir);
	assert_string_equal(fleet->units[1].uri, uri2);
	lsec_free(uri2);
	assert_null(fleet->units[0].faults);
	assert_string_equal(fleet->units[1].faults, "boot_fail=2");
	/* fleet.json is the fleet's JSON rendering. */
	json_t *fleet_json = NULL;
	char *want = NULL, *fpath = lsec_asprintf("%s/fleet.json", dir);
	lsec_buf fb = LSEC_BUF_INIT(1 << 16);
	assert_lsec_ok(lsec_device_sim_fleet_json(&fleet_json, fleet, &err), &err);
	assert_lsec_ok(lsec_json_canonical(&want, fleet_json, &err), &err);
	assert_lsec_ok(lsec_file_read(&fb, fpath, &err), &err);
	assert_int_equal(fb.len, strlen(want));
	assert_memory_equal(fb.data, want, fb.len);
	json_t *units = json_object_get(fleet_json, "units");
	assert_true(json_is_null(json_object_get(json_array_get(units, 0), "faults")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(units, 1), "faults")),
			    "boot_fail=2");
	lsec_buf_release(&fb);
	lsec_free(fpath);
	lsec_free(want);
	json_decref(fleet_json);
	/* The same seed gives the same UIDs (a reproducible fleet). */
	char *dir2 = lsec_test_tmpdir();
	lsec_device_sim_fleet *fleet2 = NULL;
	o.clone_src = o.clone_dst = 0;
	assert_lsec_ok(lsec_device_sim_fleet_new(&fleet2, dir2, &o, &err), &err);
	assert_string_equal(fleet2->units[1].uid_hex, uid2);
	/* Never over an existing fleet; bad options write nothing. */
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir2, &o, &err), LSEC_E_EXISTS, &err);
	char *dir3 = lsec_test_tmpdir();
	o.faults = "bogus=1";
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir3, &o, &err), LSEC_E_TGT_BAD_URI, &err);
	o.faults = NULL;
	o.fault_units = "7";
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir3, &o, &err), LSEC_E_USAGE, &err);
	o.fault_units = NULL;
	o.clone_src = 2;
	o.clone_dst = 2;
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir3, &o, &err), LSEC_E_USAGE, &err);
	o.clone_src = o.clone_dst = 0;
	o.page_size = 1000;
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir3, &o, &err), LSEC_E_USAGE, &err);
	char *f = lsec_test_path(dir3, "unit-001.sim");
	char *fj = lsec_test_path(dir3, "fleet.json");
	lsec_buf b = LSEC_BUF_INIT(16);
	assert_lsec_code(lsec_file_read(&b, f, &err), LSEC_E_IO, &err);
	assert_lsec_code(lsec_file_read(&b, fj, &err), LSEC_E_IO, &err);
	lsec_free(f);
	lsec_free(fj);
	lsec_device_sim_fleet_free(fleet);
	lsec_device_sim_fleet_free(fleet2);
	lsec_test_rmtree(dir);
	lsec_test_rmtree(dir2);
	lsec_test_rmtree(dir3);
}

static void test_device_sim__fault_plan_gives_each_unit_its_faults(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	json_t *plan = json_pack("{s:s,s:s}", "1", "flash_cut=3", "3", "boot_fail=1");
	o.count = 3;
	o.faults = "otp_cut=1";
	o.fault_plan = plan;
	fixture_make(&fx, &o);
	uint8_t b[8] = {0};
	lsec_device *t = fixture_open(fx.uri, true);
	assert_lsec_code(lsec_device_flash_write(t, 0, b, sizeof(b), &err), LSEC_E_TGT_POWER_LOSS,
			 &err);
	lsec_device_close(t);
	/* Unit 2 is not in the plan: it gets --faults (the first OTP burn is cut). */
	char *u2 = fixture_uri(&fx, 2, NULL);
	t = fixture_open(u2, true);
	assert_lsec_ok(lsec_device_flash_write(t, 0, b, sizeof(b), &err), &err);
	assert_lsec_code(lsec_device_otp_burn(t, 20, 3, &err), LSEC_E_TGT_POWER_LOSS, &err);
	lsec_device_close(t);
	char *u3 = fixture_uri(&fx, 3, NULL);
	t = fixture_open(u3, true);
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_int_equal(br.boot_error, LSEC_BOOT_HW_FAULT);
	assert_lsec_ok(lsec_device_otp_burn(t, 20, 3, &err), &err);
	lsec_device_close(t);
	/* A plan naming a unit the fleet does not have, or bad options: nothing written. */
	char *dir = lsec_test_tmpdir();
	json_t *bad = json_pack("{s:s}", "4", "boot_fail=1");
	o.fault_plan = bad;
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir, &o, &err), LSEC_E_USAGE, &err);
	json_decref(bad);
	bad = json_pack("{s:i}", "2", 5);
	o.fault_plan = bad;
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir, &o, &err), LSEC_E_USAGE, &err);
	json_decref(bad);
	bad = json_pack("{s:s}", "2", "stuck=0x10000:1:1");
	o.fault_plan = bad;
	assert_lsec_code(lsec_device_sim_fleet_new(NULL, dir, &o, &err), LSEC_E_TGT_BAD_URI, &err);
	json_decref(bad);
	char *f = lsec_test_path(dir, "unit-001.sim.huk");
	lsec_buf buf = LSEC_BUF_INIT(64);
	assert_lsec_code(lsec_file_read(&buf, f, &err), LSEC_E_IO, &err);
	lsec_free(f);
	lsec_test_rmtree(dir);
	lsec_free(u2);
	lsec_free(u3);
	json_decref(plan);
	fixture_free(&fx);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_device_sim__latency_is_modelled(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	/* A lower bound only: the sim must wait at least what it models. */
	char *uri = fixture_uri(&fx, 1, "lat_op_us=20000&lat_kib_us=10000");
	lsec_device *t = fixture_open(uri, false);
	uint64_t t0 = now_us();
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	uint64_t t1 = now_us();
	assert_true(t1 - t0 >= 20000);
	uint8_t buf[4096];
	assert_lsec_ok(lsec_device_flash_read(buf, t, 0, sizeof(buf), &err), &err);
	assert_true(now_us() - t1 >= 20000 + 4 * 10000);
	lsec_device_close(t);
	lsec_free(uri);
	fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_sim__flash_is_nor_and_persists),
		cmocka_unit_test(test_device_sim__program_verifies_read_back),
		cmocka_unit_test(test_device_sim__one_session_per_unit),
		cmocka_unit_test(test_device_sim__debug_lock_applies_at_reset),
		cmocka_unit_test(test_device_sim__keystore_generates_signs_and_keeps_keys),
		cmocka_unit_test(test_device_sim__inject_when_no_keygen),
		cmocka_unit_test(test_device_sim__erase_all_and_authenticated_erase),
		cmocka_unit_test(test_device_sim__level2_lock_refuses_authenticated_erase),
		cmocka_unit_test(test_device_sim__debug_auth_erase_ed25519),
		cmocka_unit_test(test_device_sim__debug_auth_erase_p256),
		cmocka_unit_test(test_device_sim__power_loss_mid_flash_write_keeps_prefix),
		cmocka_unit_test(test_device_sim__power_loss_mid_otp_burn_keeps_some_bits),
		cmocka_unit_test(test_device_sim__attach_failure_is_seeded),
		cmocka_unit_test(test_device_sim__stuck_bit_and_boot_failure),
		cmocka_unit_test(test_device_sim__cloned_uid_and_fleet_faults),
		cmocka_unit_test(test_device_sim__fault_plan_gives_each_unit_its_faults),
		cmocka_unit_test(test_device_sim__latency_is_modelled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
