/* The generic device layer: URIs, named fuses, OTP rules, sticky failures, describe. */
#include "sim_fixture.h"
#include "linesec/image.h"
#include "linesec/pki.h"
#include "device/device_int.h"

#include <openssl/evp.h>

static void test_device_device__open_rejects_bad_uris(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = (lsec_device *)&err; /* must be reset to NULL */
	assert_lsec_code(lsec_device_open(&t, "no-scheme", &err), LSEC_E_TGT_BAD_URI, &err);
	assert_null(t);
	assert_lsec_code(lsec_device_open(&t, "jtag:1.2.3.4", &err), LSEC_E_TGT_BAD_URI, &err);
	assert_non_null(strstr(err.msg, "unknown scheme"));
	assert_lsec_code(lsec_device_open(&t, "sim:", &err), LSEC_E_TGT_BAD_URI, &err);
	assert_lsec_code(lsec_device_open(&t, "sim:/nonexistent/unit.sim", &err), LSEC_E_NOTFOUND,
			 &err);
	assert_non_null(strstr(err.msg, "/nonexistent/unit.sim"));

	sim_fixture fx;
	fixture_default(&fx);
	const char *bad[] = {"flash_cut=x", "attach_fail=1.5", "stuck=1:9:0", "nosuch=1",
			     "flash_cut", "stuck=99999999:0:0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *uri = fixture_uri(&fx, 1, bad[i]);
		assert_lsec_code(lsec_device_open(&t, uri, &err), LSEC_E_TGT_BAD_URI, &err);
		assert_null(t);
		lsec_free(uri);
	}
	fixture_free(&fx);
}

static void test_device_device__info_and_layout(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, false);
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	assert_string_equal(info.chip_id, "linesec-sim-m1");
	assert_int_equal(info.flash_size, 64 * 1024);
	assert_int_equal(info.page_size, 4096);
	assert_int_equal(info.key_slots, 4);
	assert_true(info.caps & LSEC_DEVICE_CAP_KEYGEN);
	assert_int_equal(info.fuses[LSEC_FUSE_SECURE_BOOT_KEY_DIGEST].nwords, 8);
	uint8_t zero[16] = {0};
	assert_memory_not_equal(info.uid, zero, sizeof(zero));
	assert_string_equal(lsec_device_uri(t), fx.uri);
	lsec_device_close(t);
	lsec_device_close(NULL);
	fixture_free(&fx);
}

static void test_device_device__fuse_flags_counters_only_rise(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_ENABLE, &err), &err);
	assert_int_equal(v.value, 1);
	/* Nothing clears secure-boot enable: not the named fuse, not a raw word write. */
	assert_lsec_code(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 0, &err),
			 LSEC_E_TGT_OTP_CLEAR, &err);
	assert_non_null(strstr(err.msg, "SECURE_BOOT_EN"));
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	uint32_t w = info.fuses[LSEC_FUSE_SECURE_BOOT_ENABLE].word;
	assert_lsec_code(lsec_device_otp_write(t, w, 0, &err), LSEC_E_TGT_OTP_CLEAR, &err);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_ENABLE, &err), &err);
	assert_int_equal(v.value, 1);

	/* Counter: thermometer code over two words; raising works, lowering does not. */
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 3, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 40, &err), &err);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_int_equal(v.value, 40);
	uint32_t words[2];
	assert_lsec_ok(lsec_device_otp_read(words, t, info.fuses[LSEC_FUSE_ANTI_ROLLBACK].word, 2,
					    &err),
		       &err);
	assert_int_equal(words[0], 0xffffffffu);
	assert_int_equal(words[1], 0xffu);
	assert_lsec_code(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 39, &err),
			 LSEC_E_TGT_OTP_CLEAR, &err);
	assert_lsec_code(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 65, &err),
			 LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, 1, &err),
			 LSEC_E_USAGE, &err);
	assert_lsec_code(lsec_device_fuse_set(t, (lsec_device_fuse)99, 1, &err), LSEC_E_USAGE,
			 &err);
	lsec_device_close(t);

	/* Fuses survive the process: a new session reads them back. */
	t = fixture_open(fx.uri, false);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_int_equal(v.value, 40);
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_device__digest_burn_and_lock(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	uint8_t d1[32], d2[32];
	for (int i = 0; i < 32; i++) {
		d1[i] = (uint8_t)(0x11 * (i % 15));
		d2[i] = (uint8_t)~d1[i];
	}
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_burn_digest(t, d1, &err), &err);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	assert_memory_equal(v.bytes, d1, 32);
	assert_false(v.locked);
	/* Burning the same digest again is a no-op; another one would need cleared bits. */
	assert_lsec_ok(lsec_device_fuse_burn_digest(t, d1, &err), &err);
	assert_lsec_code(lsec_device_fuse_burn_digest(t, d2, &err), LSEC_E_TGT_OTP_CLEAR, &err);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	assert_memory_equal(v.bytes, d1, 32);

	/* The OTP lock fuse write-locks the secure-boot words. */
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_OTP_LOCK, 1, &err), &err);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	assert_true(v.locked);
	assert_lsec_code(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err),
			 LSEC_E_TGT_OTP_LOCKED, &err);
	assert_non_null(strstr(err.msg, "write-locked"));
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_ENABLE, &err), &err);
	assert_int_equal(v.value, 0);
	assert_lsec_code(lsec_device_otp_burn(t, 3, 0x80000000u, &err), LSEC_E_TGT_OTP_LOCKED,
			 &err);
	/* The debug lock and UART words are not covered: SOP 4 still runs after SOP 3. */
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_UART_DISABLE, 1, &err), &err);

	/* Per-word locks: a locked word ignores writes and says so. */
	assert_lsec_ok(lsec_device_otp_burn(t, 30, 0x1, &err), &err);
	assert_lsec_ok(lsec_device_otp_lock(t, 30, &err), &err);
	bool locked = false;
	assert_lsec_ok(lsec_device_otp_locked(&locked, t, 30, &err), &err);
	assert_true(locked);
	assert_lsec_code(lsec_device_otp_burn(t, 30, 0x2, &err), LSEC_E_TGT_OTP_LOCKED, &err);
	uint32_t w = 0;
	assert_lsec_ok(lsec_device_otp_read(&w, t, 30, 1, &err), &err);
	assert_int_equal(w, 0x1);
	assert_lsec_ok(lsec_device_fuse_lock(t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_lsec_code(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 1, &err),
			 LSEC_E_TGT_OTP_LOCKED, &err);
	assert_lsec_code(lsec_device_otp_read(&w, t, 64, 1, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_otp_burn(t, 64, 1, &err), LSEC_E_TGT_RANGE, &err);
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_device__writes_need_attach(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, false);
	uint8_t b[4] = {1, 2, 3, 4};
	assert_lsec_code(lsec_device_flash_write(t, 0, b, 4, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_lsec_code(lsec_device_otp_burn(t, 20, 1, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_lsec_code(lsec_device_key_generate(t, 0, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	assert_lsec_code(lsec_device_erase_all(t, &err), LSEC_E_TGT_NOT_ATTACHED, &err);
	/* A refusal is not a failure: the session stays usable. */
	assert_false(lsec_device_failed(t));
	uint32_t w = 0;
	assert_lsec_ok(lsec_device_otp_read(&w, t, 0, 1, &err), &err);
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_device__failed_session_stays_failed(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	char *uri = fixture_uri(&fx, 1, "flash_cut=10");
	lsec_device *t = fixture_open(uri, true);
	uint8_t data[32];
	memset(data, 0x5a, sizeof(data));
	assert_lsec_ok(lsec_device_flash_erase(t, 0, 4096, &err), &err);
	assert_lsec_code(lsec_device_flash_write(t, 0, data, sizeof(data), &err),
			 LSEC_E_TGT_POWER_LOSS, &err);
	assert_true(lsec_device_failed(t));
	/* Every later call refuses, naming the first failure, until an explicit reset. */
	uint32_t w = 0;
	assert_lsec_code(lsec_device_otp_read(&w, t, 0, 1, &err), LSEC_E_TGT_FAILED, &err);
	assert_non_null(strstr(err.msg, "power lost"));
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_FAILED, &err);
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_int_equal(br.boot_error, LSEC_BOOT_NO_IMAGE);
	assert_false(lsec_device_failed(t));
	assert_lsec_ok(lsec_device_otp_read(&w, t, 0, 1, &err), &err);
	/* The power loss detached the probe; after the reset it attaches again. */
	assert_lsec_code(lsec_device_flash_write(t, 0, data, 1, &err), LSEC_E_TGT_NOT_ATTACHED,
			 &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	lsec_device_close(t);
	lsec_free(uri);
	fixture_free(&fx);
}

static void test_device_device__describe_lists_fuses_and_slots(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 1, &err), &err);
	assert_lsec_ok(lsec_device_key_generate(t, 2, &err), &err);
	lsec_device_description *d = NULL;
	assert_lsec_ok(lsec_device_describe(&d, t, &err), &err);
	assert_int_equal(d->fuses[LSEC_FUSE_DEBUG_LOCK].value, 1);
	/* Burned, not yet in effect: the lock applies at the next reset. */
	assert_int_equal(d->debug_lock_level, 0);
	assert_int_equal(d->slots[2].status.state, LSEC_SLOT_GENERATED);
	assert_string_equal(d->slots[2].state_name, "generated");
	assert_string_equal(d->slots[0].state_name, "empty");
	assert_string_equal(d->info.chip_id, "linesec-sim-m1");
	assert_string_equal(d->uri, lsec_device_uri(t));
	assert_int_equal(strlen(d->uid_hex), 2 * LSEC_DEVICE_UID_LEN);

	/* The JSON rendering carries the same values under its keys. */
	json_t *j = NULL;
	assert_lsec_ok(lsec_device_description_json(&j, d, &err), &err);
	json_t *fuses = json_object_get(j, "fuses");
	assert_int_equal(json_object_size(fuses), LSEC_FUSE_COUNT);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fuses, "DEBUG_LOCK"),
							    "value")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(j, "debug_lock_level")), 0);
	json_t *slot2 = json_array_get(json_object_get(j, "key_slots"), 2);
	assert_string_equal(json_string_value(json_object_get(slot2, "state")), "generated");
	assert_string_equal(json_string_value(json_object_get(j, "chip")), "linesec-sim-m1");
	assert_string_equal(json_string_value(json_object_get(j, "uid")), d->uid_hex);
	json_decref(j);
	lsec_device_description_free(d);
	assert_string_equal(lsec_device_fuse_name(LSEC_FUSE_SECURE_BOOT_ENABLE), "SECURE_BOOT_EN");
	assert_string_equal(lsec_device_boot_error_name(LSEC_BOOT_ROLLBACK), "rollback");
	assert_string_equal(lsec_device_boot_error_name(999), "unknown");
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_device__generic_fallbacks(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	/* A backend without a device-side hash and without key generation. */
	lsec_device_ops ops = *t->ops;
	const lsec_device_ops *orig = t->ops;
	ops.flash_hash = NULL;
	ops.key_generate = NULL;
	t->ops = &ops;
	uint8_t data[10000], want[32], got[32];
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i % 251);
	}
	assert_lsec_ok(lsec_device_flash_erase(t, 0, 12288, &err), &err);
	assert_lsec_ok(lsec_device_flash_write(t, 0, data, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_device_flash_hash(got, t, 0, sizeof(data), &err), &err);
	assert_lsec_ok(lsec_sha256(want, data, sizeof(data), &err), &err);
	assert_memory_equal(got, want, 32);
	assert_lsec_code(lsec_device_flash_hash(got, t, 65000, 1000, &err), LSEC_E_TGT_RANGE, &err);
	assert_lsec_code(lsec_device_key_generate(t, 0, &err), LSEC_E_TGT_UNSUPPORTED, &err);
	assert_non_null(strstr(err.msg, "key_generate"));
	assert_false(lsec_device_failed(t));
	t->ops = orig;
	lsec_device_close(t);
	fixture_free(&fx);
}

/* Signs a payload as release 2.0.0 with counter 2, embedding the public key. */
static void sign_release(lsec_buf *img, const lsec_key *key, uint8_t digest[32])
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t payload[2048];
	memset(payload, 0xa7, sizeof(payload));
	lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	o.key = key;
	o.product = "acme-sensor";
	o.image_version = (lsec_image_version){2, 0, 0, 0};
	o.has_security_counter = true;
	o.security_counter = 2;
	o.embed_pubkey = true;
	assert_lsec_ok(lsec_image_sign(img, payload, sizeof(payload), &o, &err), &err);
	lsec_image *parsed = NULL;
	assert_lsec_ok(lsec_image_parse(&parsed, img->data, img->len, "release", &err), &err);
	assert_true(lsec_image_digest(digest, parsed));
	lsec_image_free(parsed);
}

/*
 * The device side of the line's SOPs, in order, through the generic
 * interface only: what the station does to every unit.
 */
static void test_device_device__line_sequence_on_a_sim_unit(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_key *fw_key = NULL;
	lsec_buf img = LSEC_BUF_INIT(1u << 16), spki = LSEC_BUF_INIT(1024),
		 sig = LSEC_BUF_INIT(256);
	uint8_t digest[32], key_digest[32];
	lsec_device_boot_report br;
	assert_lsec_ok(lsec_key_generate(&fw_key, LSEC_KEY_ECDSA_P256, &err), &err);
	assert_lsec_ok(lsec_key_fingerprint(key_digest, fw_key, &err), &err);
	sign_release(&img, fw_key, digest);
	lsec_device *t = fixture_open(fx.uri, true);

	/* SOP 1: flash, verify the read-back, boot, compare the measured digest. */
	assert_lsec_ok(lsec_device_flash_program(t, 0, img.data, img.len, &err), &err);
	assert_lsec_ok(lsec_device_reset(&br, t, &err), &err);
	assert_memory_equal(br.digest, digest, 32);

	/* SOP 2: key pair on the device; it signs a fresh challenge. */
	const uint8_t challenge[32] = {1, 2, 3};
	assert_lsec_ok(lsec_device_key_generate(t, 0, &err), &err);
	assert_lsec_ok(lsec_device_key_public(&spki, t, 0, &err), &err);
	assert_lsec_ok(lsec_device_key_sign(&sig, t, 0, challenge, sizeof(challenge), &err), &err);
	lsec_key *dev = NULL;
	assert_lsec_ok(lsec_key_from_spki(&dev, spki.data, spki.len, &err), &err);
	assert_lsec_ok(lsec_key_verify(dev, challenge, sizeof(challenge), sig.data, sig.len, &err),
		       &err);

	/* SOP 3: digest, enable, lock; clearing fails; the release still boots. */
	assert_lsec_ok(lsec_device_fuse_burn_digest(t, key_digest, &err), &err);
	/* The debug-auth key (here the same key pair, for brevity) signs erase tokens. */
	assert_lsec_ok(
	    lsec_device_fuse_burn_key_digest(t, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, key_digest, &err),
	    &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 2, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_OTP_LOCK, 1, &err), &err);
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	uint32_t sb_word = info.fuses[LSEC_FUSE_SECURE_BOOT_ENABLE].word;
	assert_lsec_code(lsec_device_otp_write(t, sb_word, 0, &err), LSEC_E_TGT_OTP_CLEAR, &err);
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	assert_memory_equal(v.bytes, key_digest, 32);
	assert_true(v.locked);
	assert_lsec_ok(lsec_device_reset(&br, t, &err), &err);
	assert_true(br.secure_boot);

	/* SOP 4: debug and UART closed; after reset the port refuses. */
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_UART_DISABLE, 1, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_DEBUG_LOCK, 1, &err), &err);
	assert_lsec_ok(lsec_device_reset(&br, t, &err), &err);
	assert_false(br.uart_open);
	assert_lsec_code(lsec_device_debug_attach(t, &err), LSEC_E_TGT_ATTACH_REFUSED, &err);
	unsigned level = 0;
	assert_lsec_ok(lsec_device_debug_lock_level(&level, t, &err), &err);
	assert_int_equal(level, 1);

	/* SOP 5: authenticated erase, then blank check. */
	lsec_buf token = LSEC_BUF_INIT(1024);
	uint8_t erase_ch[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
	assert_lsec_ok(lsec_device_erase_challenge(erase_ch, t, &err), &err);
	assert_lsec_ok(lsec_device_erase_token(&token, info.uid, erase_ch, lsec_key_evp(fw_key), &err),
		       &err);
	assert_lsec_ok(lsec_device_erase_authenticated(t, token.data, token.len, &err), &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	uint8_t blank[32], erased[32];
	assert_lsec_ok(lsec_device_blank_check(blank, t, &err), &err);
	lsec_test_erased_sha256(erased, info.flash_size);
	assert_memory_equal(blank, erased, sizeof(blank));
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_int_equal(br.boot_error, LSEC_BOOT_NO_IMAGE);

	lsec_device_close(t);
	lsec_key_free(dev);
	lsec_key_free(fw_key);
	lsec_buf_release(&token);
	lsec_buf_release(&img);
	lsec_buf_release(&spki);
	lsec_buf_release(&sig);
	fixture_free(&fx);
}

static void test_device_device__codes_have_their_categories(void **state)
{
	(void)state;
	assert_int_equal(lsec_code_category(LSEC_E_TGT_BAD_URI), LSEC_CAT_PARSE);
	assert_int_equal(lsec_code_category(LSEC_E_TGT_AUTH_TOKEN), LSEC_CAT_CRYPTO);
	assert_int_equal(lsec_code_category(LSEC_E_TGT_ATTACH_REFUSED), LSEC_CAT_POLICY);
	assert_int_equal(lsec_code_category(LSEC_E_TGT_OTP_LOCKED), LSEC_CAT_POLICY);
	assert_int_equal(lsec_code_category(LSEC_E_TGT_DUPLICATE_UID), LSEC_CAT_POLICY);
	assert_int_equal(lsec_code_category(LSEC_E_TGT_POWER_LOSS), LSEC_CAT_STATE);
	assert_int_equal(lsec_code_category(LSEC_E_TGT_SLOT_FULL), LSEC_CAT_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_device__open_rejects_bad_uris),
		cmocka_unit_test(test_device_device__info_and_layout),
		cmocka_unit_test(test_device_device__fuse_flags_counters_only_rise),
		cmocka_unit_test(test_device_device__digest_burn_and_lock),
		cmocka_unit_test(test_device_device__writes_need_attach),
		cmocka_unit_test(test_device_device__failed_session_stays_failed),
		cmocka_unit_test(test_device_device__describe_lists_fuses_and_slots),
		cmocka_unit_test(test_device_device__generic_fallbacks),
		cmocka_unit_test(test_device_device__line_sequence_on_a_sim_unit),
		cmocka_unit_test(test_device_device__codes_have_their_categories),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
