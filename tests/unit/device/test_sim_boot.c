/* The simulated boot ROM: secure boot against the fused key digest, rollback, UART. */
#include "sim_fixture.h"

#include "linesec/image.h"
#include "linesec/pki.h"

typedef struct boot_fixture {
	sim_fixture fx;
	lsec_key *key;   /* the line's firmware signing key */
	lsec_key *other; /* someone else's */
	uint8_t key_digest[32];
	lsec_device *t;
} boot_fixture;

static int setup(void **state)
{
	lsec_err err = LSEC_ERR_INIT;
	boot_fixture *b = lsec_calloc(1, sizeof(*b));
	fixture_default(&b->fx);
	assert_lsec_ok(lsec_key_generate(&b->key, LSEC_KEY_ECDSA_P256, &err), &err);
	assert_lsec_ok(lsec_key_generate(&b->other, LSEC_KEY_ECDSA_P256, &err), &err);
	assert_lsec_ok(lsec_key_fingerprint(b->key_digest, b->key, &err), &err);
	b->t = fixture_open(b->fx.uri, true);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	boot_fixture *b = *state;
	lsec_device_close(b->t);
	lsec_key_free(b->key);
	lsec_key_free(b->other);
	fixture_free(&b->fx);
	lsec_free(b);
	return 0;
}

/* Signs a small payload and writes the image at flash offset 0; its digest into digest. */
static void flash_image(boot_fixture *b, const lsec_key *key, bool embed, lsec_image_build build,
			uint32_t counter, uint8_t digest[32], bool corrupt_sig)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf img = LSEC_BUF_INIT(1u << 16);
	uint8_t payload[700];
	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)(i ^ 0x3c);
	}
	lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	o.key = key;
	o.product = "acme-sensor";
	o.build = build;
	o.image_version = (lsec_image_version){1, 4, 2, 9};
	o.has_security_counter = true;
	o.security_counter = counter;
	o.embed_pubkey = embed;
	assert_lsec_ok(lsec_image_sign(&img, payload, sizeof(payload), &o, &err), &err);
	lsec_image *parsed = NULL;
	assert_lsec_ok(lsec_image_parse(&parsed, img.data, img.len, "test", &err), &err);
	assert_true(lsec_image_digest(digest, parsed));
	lsec_image_free(parsed);
	if (corrupt_sig) {
		img.data[img.len - 1] ^= 0x01; /* the signature TLV comes last */
	}
	assert_lsec_ok(lsec_device_flash_erase(b->t, 0, 4096, &err), &err);
	assert_lsec_ok(lsec_device_flash_write(b->t, 0, img.data, img.len, &err), &err);
	lsec_buf_release(&img);
}

static void expect_refused(boot_fixture *b, uint32_t code)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_boot_report br;
	assert_lsec_code(lsec_device_reset(&br, b->t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	assert_false(br.booted);
	assert_int_equal(br.boot_error, code);
	assert_non_null(strstr(err.msg, lsec_device_boot_error_name(code)));
	/* A refused boot is a known state: the session goes on. */
	assert_false(lsec_device_failed(b->t));
}

static void enable_secure_boot(boot_fixture *b)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_device_fuse_burn_digest(b->t, b->key_digest, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(b->t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
}

static void test_device_sim_boot__open_part_boots_any_valid_image(void **state)
{
	boot_fixture *b = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t digest[32];
	lsec_device_boot_report br;
	expect_refused(b, LSEC_BOOT_NO_IMAGE);
	/* Signed by anyone, key hash only: fine while secure boot is off. */
	flash_image(b, b->other, false, LSEC_IMAGE_BUILD_RELEASE, 0, digest, false);
	assert_lsec_ok(lsec_device_reset(&br, b->t, &err), &err);
	assert_true(br.booted);
	assert_false(br.secure_boot);
	assert_true(br.measured);
	assert_memory_equal(br.digest, digest, 32);
	assert_int_equal(br.ver_major, 1);
	assert_int_equal(br.ver_minor, 4);
	assert_int_equal(br.ver_revision, 2);
	assert_int_equal(br.ver_build, 9);
	assert_false(br.uart_open);
	json_t *j = NULL;
	assert_lsec_ok(lsec_device_boot_report_describe(&j, &br, &err), &err);
	assert_true(json_is_true(json_object_get(j, "booted")));
	assert_string_equal(json_string_value(json_object_get(j, "version")), "1.4.2+9");
	char hex[65];
	lsec_hex_encode(hex, digest, 32);
	assert_string_equal(json_string_value(json_object_get(j, "digest")), hex);
	json_decref(j);
	/* A flipped payload byte breaks the hash. */
	uint8_t byte = 0;
	assert_lsec_ok(lsec_device_flash_read(&byte, b->t, 100, 1, &err), &err);
	byte = 0;
	assert_lsec_ok(lsec_device_flash_write(b->t, 100, &byte, 1, &err), &err);
	expect_refused(b, LSEC_BOOT_BAD_HASH);
	lsec_device_boot_report refused;
	assert_lsec_code(lsec_device_reset(&refused, b->t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	json_t *r = NULL;
	assert_lsec_ok(lsec_device_boot_report_describe(&r, &refused, &err), &err);
	assert_string_equal(json_string_value(json_object_get(r, "boot_error_name")), "bad-hash");
	assert_true(json_is_null(json_object_get(r, "digest")));
	json_decref(r);
}

static void test_device_sim_boot__secure_boot_checks_key_signature_counter(void **state)
{
	boot_fixture *b = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t digest[32];
	lsec_device_boot_report br;
	/* Secure boot on without a key digest: nothing boots. */
	assert_lsec_ok(lsec_device_fuse_set(b->t, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &err), &err);
	flash_image(b, b->key, true, LSEC_IMAGE_BUILD_RELEASE, 3, digest, false);
	expect_refused(b, LSEC_BOOT_NO_KEY_DIGEST);
	enable_secure_boot(b);
	assert_lsec_ok(lsec_device_reset(&br, b->t, &err), &err);
	assert_true(br.secure_boot);
	assert_memory_equal(br.digest, digest, 32);

	/* Another key, the right key without its PUBKEY TLV, a bad signature. */
	flash_image(b, b->other, true, LSEC_IMAGE_BUILD_RELEASE, 3, digest, false);
	expect_refused(b, LSEC_BOOT_BAD_KEY);
	flash_image(b, b->key, false, LSEC_IMAGE_BUILD_RELEASE, 3, digest, false);
	expect_refused(b, LSEC_BOOT_BAD_KEY);
	flash_image(b, b->key, true, LSEC_IMAGE_BUILD_RELEASE, 3, digest, true);
	expect_refused(b, LSEC_BOOT_BAD_SIGNATURE);

	/* Anti-rollback: counter 3 boots until the fuse says 4. */
	flash_image(b, b->key, true, LSEC_IMAGE_BUILD_RELEASE, 3, digest, false);
	assert_lsec_ok(lsec_device_fuse_set(b->t, LSEC_FUSE_ANTI_ROLLBACK, 3, &err), &err);
	assert_lsec_ok(lsec_device_reset(&br, b->t, &err), &err);
	assert_lsec_ok(lsec_device_fuse_set(b->t, LSEC_FUSE_ANTI_ROLLBACK, 4, &err), &err);
	expect_refused(b, LSEC_BOOT_ROLLBACK);
	flash_image(b, b->key, true, LSEC_IMAGE_BUILD_RELEASE, 4, digest, false);
	assert_lsec_ok(lsec_device_reset(&br, b->t, &err), &err);
	assert_memory_equal(br.digest, digest, 32);
}

static void test_device_sim_boot__debug_build_opens_uart_until_fused(void **state)
{
	boot_fixture *b = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t digest[32];
	lsec_device_boot_report br;
	flash_image(b, b->key, true, LSEC_IMAGE_BUILD_DEBUG, 0, digest, false);
	assert_lsec_ok(lsec_device_reset(&br, b->t, &err), &err);
	assert_true(br.uart_open);
	assert_lsec_ok(lsec_device_fuse_set(b->t, LSEC_FUSE_UART_DISABLE, 1, &err), &err);
	assert_lsec_ok(lsec_device_reset(&br, b->t, &err), &err);
	assert_true(br.booted);
	assert_false(br.uart_open);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_sim_boot__open_part_boots_any_valid_image,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_sim_boot__secure_boot_checks_key_signature_counter,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_sim_boot__debug_build_opens_uart_until_fused,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
