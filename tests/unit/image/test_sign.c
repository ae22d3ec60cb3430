/* Signing: byte-identical to imgtool, round trips, option checks. */
#include "imgtest.h"

/* Ed25519 is deterministic: linesec must reproduce imgtool's images exactly. */
static void test_image_sign__matches_imgtool_byte_for_byte(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = imgtest_key("test-ed25519.pem");
	lsec_buf payload = LSEC_BUF_INIT(1 << 20);
	imgtest_read(&payload, "payload.bin");

	static const struct {
		const char *golden;
		lsec_image_build build;
		uint16_t header_size;
		uint32_t load_addr;
		bool embed;
	} cases[] = {
		{"imgtool-ed25519-release.img", LSEC_IMAGE_BUILD_RELEASE, 32, 0, false},
		{"imgtool-ed25519-debug-pubkey.img", LSEC_IMAGE_BUILD_DEBUG, 0x200, 0x20000000, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lsec_buf golden = LSEC_BUF_INIT(1 << 20), mine = LSEC_BUF_INIT(1 << 20);
		lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
		imgtest_read(&golden, cases[i].golden);
		o.key = key;
		o.product = "acme-sensor";
		o.build = cases[i].build;
		assert_lsec_ok(lsec_image_version_parse(&o.image_version, "1.2.3+4", &err), &err);
		o.header_size = cases[i].header_size;
		o.load_addr = cases[i].load_addr;
		o.has_security_counter = true;
		o.security_counter = 7;
		o.embed_pubkey = cases[i].embed;
		assert_lsec_ok(lsec_image_sign(&mine, payload.data, payload.len, &o, &err), &err);
		assert_int_equal(mine.len, golden.len);
		assert_memory_equal(mine.data, golden.data, golden.len);
		lsec_buf_release(&golden);
		lsec_buf_release(&mine);
	}
	lsec_buf_release(&payload);
	lsec_key_free(key);
}

static void test_image_sign__layout_and_roundtrip_both_keys(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const char *keys[] = {"test-ecdsa-p256.pem", "test-ed25519.pem"};
	uint8_t payload[300];
	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)(i * 13);
	}
	for (size_t k = 0; k < 2; k++) {
		lsec_key *key = imgtest_key(keys[k]);
		lsec_buf out = LSEC_BUF_INIT(1 << 20), spki = LSEC_BUF_INIT(4096);
		lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
		lsec_image_verify_options vo;
		lsec_image *img = NULL;
		o.key = key;
		o.product = "acme-sensor";
		o.header_size = 0x100;
		o.load_addr = 0x20001000;
		o.image_version = (lsec_image_version){3, 1, 4, 1592};
		assert_lsec_ok(lsec_image_sign(&out, payload, sizeof(payload), &o, &err), &err);

		/* Header fields at MCUboot's offsets, padding erased (0xff). */
		assert_int_equal(lsec_get_u32le(out.data), LSEC_IMAGE_MAGIC);
		assert_int_equal(lsec_get_u32le(out.data + 4), 0x20001000);
		assert_int_equal(lsec_get_u16le(out.data + 8), 0x100);
		assert_int_equal(lsec_get_u16le(out.data + 10), 4 + 4 + 11 + 4 + 1);
		assert_int_equal(lsec_get_u32le(out.data + 12), sizeof(payload));
		assert_int_equal(lsec_get_u32le(out.data + 16), IMG_F_RAM_LOAD);
		assert_int_equal(out.data[20], 3);
		assert_int_equal(out.data[21], 1);
		assert_int_equal(lsec_get_u16le(out.data + 22), 4);
		assert_int_equal(lsec_get_u32le(out.data + 24), 1592);
		for (size_t b = 32; b < 0x100; b++) {
			assert_int_equal(out.data[b], 0xff);
		}
		assert_memory_equal(out.data + 0x100, payload, sizeof(payload));
		assert_int_equal(lsec_get_u16le(out.data + 0x100 + sizeof(payload)),
				 IMG_TLV_PROT_INFO_MAGIC);

		assert_lsec_ok(lsec_image_parse(&img, out.data, out.len, "rt.img", &err), &err);
		imgtest_vo(&vo, &spki, key);
		assert_lsec_ok(lsec_image_verify(img, &vo, &err), &err);
		assert_string_equal(lsec_image_product(img), "acme-sensor");
		assert_int_equal(lsec_image_build_type(img), LSEC_IMAGE_BUILD_RELEASE);
		uint32_t cnt = 99;
		assert_false(lsec_image_security_counter(&cnt, img));
		assert_int_equal(cnt, 0);
		size_t plen = 0;
		const uint8_t *p = lsec_image_payload(img, &plen);
		assert_int_equal(plen, sizeof(payload));
		assert_memory_equal(p, payload, plen);
		uint8_t kh[32], fp[32];
		assert_true(lsec_image_key_hash(kh, img));
		assert_lsec_ok(lsec_key_fingerprint(fp, key, &err), &err);
		assert_memory_equal(kh, fp, 32);
		lsec_image_free(img);
		lsec_buf_release(&out);
		lsec_buf_release(&spki);
		lsec_key_free(key);
	}
}

static void test_image_sign__bad_options(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = imgtest_key("test-ed25519.pem");
	lsec_key *pub = imgtest_key("test-ed25519.pub.pem");
	lsec_buf out = LSEC_BUF_INIT(1 << 20);
	uint8_t payload[16] = {0};
	lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	o.key = key;
	o.product = "acme-sensor";

	o.product = "has space";
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.product = "";
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.product = "x12345678901234567890123456789012345678901234567890123456789012345";
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.product = "acme-sensor";
	o.header_size = 31;
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.header_size = 0;
	o.build = LSEC_IMAGE_BUILD_UNKNOWN;
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.build = LSEC_IMAGE_BUILD_DEBUG;
	o.key = pub;
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.key = NULL;
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.key = key;
	o.version = 99;
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	o.version = LSEC_IMAGE_SIGN_OPTIONS_VERSION;
	assert_int_equal(out.len, 0);

	/* Too big for the output buffer: refused, nothing left in it. */
	lsec_buf small = LSEC_BUF_INIT(64);
	assert_lsec_code(lsec_image_sign(&small, payload, 16, &o, &err), LSEC_E_LIMIT, &err);
	assert_int_equal(small.len, 0);
	/* A non-empty output buffer is refused and left as it was. */
	assert_lsec_ok(lsec_buf_append(&out, "x", 1, &err), &err);
	assert_lsec_code(lsec_image_sign(&out, payload, 16, &o, &err), LSEC_E_USAGE, &err);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], 'x');

	lsec_buf_release(&small);
	lsec_buf_release(&out);
	lsec_key_free(key);
	lsec_key_free(pub);
}

/* Allocation failures at every point: an error, never a crash or a leak. */
static void test_image_sign__allocation_failures(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = imgtest_key("test-ecdsa-p256.pem");
	uint8_t payload[64] = {1, 2, 3};
	lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	o.key = key;
	o.product = "acme-sensor";
	int rc = -1;
	for (unsigned long n = 1; rc != 0 && n < 200; n++) {
		lsec_buf out = LSEC_BUF_INIT(1 << 20);
		lsec_image *img = NULL;
		lsec_alloc_fail_after(n);
		rc = lsec_image_sign(&out, payload, sizeof(payload), &o, &err);
		if (rc != 0) {
			/* Nothing half-built is left in the output. */
			assert_int_equal(out.len, 0);
		} else {
			rc = lsec_image_parse(&img, out.data, out.len, "oom.img", &err);
		}
		lsec_alloc_fail_after(0);
		if (rc != 0) {
			assert_true(rc == LSEC_E_NOMEM || rc == LSEC_E_CRYPTO);
		}
		lsec_image_free(img);
		lsec_buf_release(&out);
	}
	assert_int_equal(rc, 0);
	lsec_key_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_sign__matches_imgtool_byte_for_byte),
		cmocka_unit_test(test_image_sign__layout_and_roundtrip_both_keys),
		cmocka_unit_test(test_image_sign__bad_options),
		cmocka_unit_test(test_image_sign__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
