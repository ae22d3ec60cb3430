/* Verification: imgtool's images, tampering, keys, policy checks. */
#include "imgtest.h"

/* imgtool-signed images verify under linesec with the matching key. */
static void test_image_verify__imgtool_images(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static const struct {
		const char *img, *pub;
		bool release;
		bool has_product;
		uint32_t counter;
	} cases[] = {
		{"imgtool-ed25519-release.img", "test-ed25519.pub.pem", true, true, 7},
		{"imgtool-ed25519-debug-pubkey.img", "test-ed25519.pub.pem", false, true, 7},
		{"imgtool-ecdsa-p256-release.img", "test-ecdsa-p256.pub.pem", true, true, 3},
		{"imgtool-ecdsa-p256-padsig.img", "test-ecdsa-p256.pub.pem", true, true, 1},
		{"imgtool-ecdsa-p256-plain.img", "test-ecdsa-p256.pub.pem", false, false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lsec_buf b = LSEC_BUF_INIT(1 << 16), spki = LSEC_BUF_INIT(4096);
		lsec_key *pub = imgtest_key(cases[i].pub);
		lsec_image_verify_options vo;
		imgtest_read(&b, cases[i].img);
		imgtest_vo(&vo, &spki, pub);
		vo.require_release = cases[i].release;
		vo.product = cases[i].has_product ? "acme-sensor" : NULL;
		if (cases[i].counter > 0) {
			vo.check_min_counter = true;
			vo.min_counter = cases[i].counter;
		}
		int rc = imgtest_check(b.data, b.len, &vo, &err);
		if (rc != 0) {
			fail_msg("%s: %s", cases[i].img, err.msg);
		}
		/* The other key type's key never verifies it. */
		lsec_key *other = imgtest_key(strstr(cases[i].pub, "ed25519") ? "test-ecdsa-p256.pub.pem"
									       : "test-ed25519.pub.pem");
		imgtest_vo(&vo, &spki, other);
		vo.require_release = false;
		vo.product = NULL;
		assert_lsec_code(imgtest_check(b.data, b.len, &vo, &err), LSEC_E_IMG_KEY_MISMATCH, &err);
		lsec_key_free(other);
		lsec_key_free(pub);
		lsec_buf_release(&b);
		lsec_buf_release(&spki);
	}
}

/*
 * One flipped bit anywhere in an image is refused, and each region with its
 * own code: header and payload and protected TLVs by the hash, the hash
 * TLV itself, the key hash, the signature.
 */
static void test_image_verify__tampered_byte_in_every_region(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const char *keys[] = {"test-ecdsa-p256.pem", "test-ed25519.pem"};
	for (size_t k = 0; k < 2; k++) {
		imgtest_fx fx;
		imgtest_fx_init(&fx, keys[k], LSEC_IMAGE_BUILD_RELEASE, 48, 0xa5);
		lsec_buf b = fx.img;
		const lsec_image *img = fx.parsed;
		assert_lsec_ok(imgtest_check(b.data, b.len, &fx.vo, &err), &err);

		/* The expected code for a flip at offset i, from the parsed layout. */
		size_t payload_end = img->hdr_size + img->img_size;
		for (size_t i = 0; i < b.len; i++) {
			int want = 0; /* 0: any image rejection code */
			if (i < 4) {
				want = LSEC_E_IMG_BAD_MAGIC;
			} else if ((i >= 4 && i < 8) || (i >= 20 && i < payload_end)) {
				want = LSEC_E_IMG_HASH; /* load_addr, version, padding, payload */
			} else if (i >= 16 && i < 20) {
				/* flags: bit 0x04 of bytes 16 and 17 is ENCRYPTED_AES128 and
				 * COMPRESSED_LZMA2; any other bit changes the hash */
				want = (i == 16 || i == 17) ? LSEC_E_IMG_UNSUPPORTED : LSEC_E_IMG_HASH;
			}
			for (size_t t = 0; t < img->ntlvs; t++) {
				const img_tlv *tl = &img->tlvs[t];
				if (tl->prot || i < tl->off || i >= tl->off + tl->len) {
					continue;
				}
				want = tl->type == IMG_TLV_KEYHASH  ? LSEC_E_IMG_KEY_MISMATCH
				       : tl->type == IMG_TLV_SHA256 ? LSEC_E_IMG_HASH
								    : LSEC_E_IMG_BAD_SIGNATURE;
			}
			b.data[i] ^= 0x04;
			int rc = imgtest_check(b.data, b.len, &fx.vo, &err);
			b.data[i] ^= 0x04;
			/* Size fields, TLV info and entry headers, protected values:
			 * rejected as structural damage or by the hash. */
			if (want == 0 && (rc == 0 || rc > -100 || rc <= -150)) {
				fail_msg("offset %zu: expected a rejection, got %d: %s", i, rc, err.msg);
			}
			if (want != 0 && rc != want) {
				fail_msg("offset %zu: expected %d, got %d: %s", i, want, rc, err.msg);
			}
		}
		imgtest_fx_release(&fx);
	}
}

/* Specific regions, each with its exact code. */
static void test_image_verify__tamper_codes(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	imgtest_fx fx;
	imgtest_fx_init(&fx, "test-ed25519.pem", LSEC_IMAGE_BUILD_RELEASE, 20, 0);
	const lsec_image *img = fx.parsed;
	uint8_t *d = fx.img.data;
	size_t product_off = 0;
	for (size_t t = 0; t < img->ntlvs; t++) {
		if (img->tlvs[t].type == IMG_TLV_LSEC_PRODUCT) {
			product_off = img->tlvs[t].off; /* 'a' -> 'c': still a valid id */
		}
	}
	struct {
		size_t off;
		int code;
	} cases[] = {
		{20, LSEC_E_IMG_HASH},                       /* version major */
		{32 + 3, LSEC_E_IMG_HASH},                   /* payload */
		{img->sec_cnt->off, LSEC_E_IMG_HASH},        /* SEC_CNT value */
		{img->sha256->off + 31, LSEC_E_IMG_HASH},    /* SHA256 value */
		{img->keyhash->off, LSEC_E_IMG_KEY_MISMATCH}, /* KEYHASH value */
		{img->sig->off + 63, LSEC_E_IMG_BAD_SIGNATURE},
		{product_off, LSEC_E_IMG_HASH},
		{0, LSEC_E_IMG_BAD_MAGIC},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d[cases[i].off] ^= 0x02;
		assert_lsec_code(imgtest_check(d, fx.img.len, &fx.vo, &err), cases[i].code, &err);
		d[cases[i].off] ^= 0x02;
	}
	imgtest_fx_release(&fx);
}

static void test_image_verify__keys(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = imgtest_key("test-ecdsa-p256.pem");
	lsec_key *other = imgtest_key("other-ecdsa-p256.pub.pem");
	lsec_buf b = LSEC_BUF_INIT(1 << 16), spki = LSEC_BUF_INIT(4096);
	lsec_image_verify_options vo;
	lsec_image *img = NULL;
	uint8_t payload[20] = {0}, fp[32];
	imgtest_sign(&b, key, LSEC_IMAGE_BUILD_RELEASE, payload, sizeof(payload));

	/* Wrong key. */
	imgtest_vo(&vo, &spki, other);
	assert_lsec_code(imgtest_check(b.data, b.len, &vo, &err), LSEC_E_IMG_KEY_MISMATCH, &err);
	assert_non_null(strstr(err.msg, "another key"));
	/* KEYHASH rewritten to name the other key: the signature gives it away. */
	assert_lsec_ok(lsec_image_parse(&img, b.data, b.len, "map.img", &err), &err);
	assert_lsec_ok(lsec_key_fingerprint(fp, other, &err), &err);
	memcpy(b.data + img->keyhash->off, fp, 32);
	assert_lsec_code(imgtest_check(b.data, b.len, &vo, &err), LSEC_E_IMG_BAD_SIGNATURE, &err);
	lsec_image_free(img);
	img = NULL;
	/* A loaded key instead of DER: same answers. */
	lsec_image_verify_options kv = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	kv.key = other;
	assert_lsec_code(imgtest_check(b.data, b.len, &kv, &err), LSEC_E_IMG_BAD_SIGNATURE, &err);
	kv.key = key;
	assert_lsec_code(imgtest_check(b.data, b.len, &kv, &err), LSEC_E_IMG_KEY_MISMATCH, &err);
	/* No key at all. */
	vo.pubkey_der = NULL;
	assert_lsec_code(imgtest_check(b.data, b.len, &vo, &err), LSEC_E_USAGE, &err);
	lsec_buf_release(&b);

	/* Only the key's hash is trusted (a fused digest): PUBKEY TLV needed. */
	lsec_key *ed = imgtest_key("test-ed25519.pub.pem");
	imgtest_read(&b, "imgtool-ed25519-debug-pubkey.img");
	assert_lsec_ok(lsec_key_fingerprint(fp, ed, &err), &err);
	lsec_image_verify_options hv = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	hv.key_hash = fp;
	assert_lsec_ok(imgtest_check(b.data, b.len, &hv, &err), &err);
	fp[0] ^= 1;
	assert_lsec_code(imgtest_check(b.data, b.len, &hv, &err), LSEC_E_IMG_KEY_MISMATCH, &err);
	fp[0] ^= 1;
	/* pubkey_der that is not the embedded key. */
	imgtest_vo(&vo, &spki, other);
	vo.require_release = false;
	assert_lsec_code(imgtest_check(b.data, b.len, &vo, &err), LSEC_E_IMG_KEY_MISMATCH, &err);
	imgtest_vo(&vo, &spki, ed);
	vo.require_release = false;
	assert_lsec_ok(imgtest_check(b.data, b.len, &vo, &err), &err);
	kv.key = ed;
	assert_lsec_ok(imgtest_check(b.data, b.len, &kv, &err), &err);
	kv.key = other;
	assert_lsec_code(imgtest_check(b.data, b.len, &kv, &err), LSEC_E_IMG_KEY_MISMATCH, &err);
	lsec_buf_release(&b);
	/* An image with only KEYHASH cannot be checked against a bare hash. */
	imgtest_read(&b, "imgtool-ed25519-release.img");
	assert_lsec_code(imgtest_check(b.data, b.len, &hv, &err), LSEC_E_IMG_KEY_MISMATCH, &err);

	lsec_buf_release(&b);
	lsec_buf_release(&spki);
	lsec_key_free(ed);
	lsec_key_free(key);
	lsec_key_free(other);
}

/* Drops the last unprotected TLV (the signature) and fixes the area size. */
static void drop_last_tlv(lsec_buf *b, const lsec_image *img, size_t keep_tlvs)
{
	const img_tlv *last = &img->tlvs[keep_tlvs];
	size_t cut = last->off - IMG_TLV_HDR_SIZE;
	uint16_t tot = lsec_get_u16le(b->data + img->prot_end + 2);
	lsec_put_u16le(b->data + img->prot_end + 2, (uint16_t)(tot - (b->len - cut)));
	b->len = cut;
}

static void test_image_verify__unsigned_and_hashless(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	imgtest_fx fx;
	imgtest_fx_init(&fx, "test-ed25519.pem", LSEC_IMAGE_BUILD_RELEASE, 20, 0);
	lsec_buf *b = &fx.img;
	const lsec_image *img = fx.parsed;
	size_t n = img->ntlvs; /* SEC_CNT, product, build, SHA256, KEYHASH, ED25519 */
	assert_int_equal(n, 6);
	drop_last_tlv(b, img, n - 1);
	assert_lsec_code(imgtest_check(b->data, b->len, &fx.vo, &err), LSEC_E_IMG_UNSIGNED, &err);
	drop_last_tlv(b, img, n - 2);
	drop_last_tlv(b, img, n - 3);
	assert_lsec_code(imgtest_check(b->data, b->len, &fx.vo, &err), LSEC_E_IMG_HASH, &err);
	assert_non_null(strstr(err.msg, "missing"));
	imgtest_fx_release(&fx);
}

static void test_image_verify__policy(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = imgtest_key("test-ecdsa-p256.pem");
	lsec_buf rel = LSEC_BUF_INIT(1 << 16), dbg = LSEC_BUF_INIT(1 << 16), plain = LSEC_BUF_INIT(1 << 16);
	lsec_buf spki = LSEC_BUF_INIT(4096);
	lsec_image_verify_options vo;
	uint8_t payload[20] = {0};
	imgtest_sign(&rel, key, LSEC_IMAGE_BUILD_RELEASE, payload, sizeof(payload));
	imgtest_sign(&dbg, key, LSEC_IMAGE_BUILD_DEBUG, payload, sizeof(payload));
	imgtest_read(&plain, "imgtool-ecdsa-p256-plain.img");
	imgtest_vo(&vo, &spki, key);

	/* Debug build: refused under require_release, accepted otherwise. */
	assert_lsec_code(imgtest_check(dbg.data, dbg.len, &vo, &err), LSEC_E_IMG_DEBUG_BUILD, &err);
	assert_non_null(strstr(err.msg, "debug"));
	vo.require_release = false;
	assert_lsec_ok(imgtest_check(dbg.data, dbg.len, &vo, &err), &err);
	vo.require_release = true;
	/* Undeclared build (imgtool without linesec TLVs). */
	vo.product = NULL;
	assert_lsec_code(imgtest_check(plain.data, plain.len, &vo, &err), LSEC_E_IMG_DEBUG_BUILD,
			 &err);
	/* Product. */
	vo.product = "acme-gateway";
	assert_lsec_code(imgtest_check(rel.data, rel.len, &vo, &err), LSEC_E_IMG_WRONG_PRODUCT, &err);
	vo.product = "acme-sensor";
	vo.require_release = false;
	assert_lsec_code(imgtest_check(plain.data, plain.len, &vo, &err), LSEC_E_IMG_WRONG_PRODUCT,
			 &err);
	/* Counter: 7 in the image. */
	vo.require_release = true;
	vo.check_min_counter = true;
	vo.min_counter = 7;
	assert_lsec_ok(imgtest_check(rel.data, rel.len, &vo, &err), &err);
	vo.min_counter = 8;
	assert_lsec_code(imgtest_check(rel.data, rel.len, &vo, &err), LSEC_E_IMG_COUNTER, &err);
	vo.product = NULL;
	vo.require_release = false;
	vo.min_counter = 0;
	assert_lsec_code(imgtest_check(plain.data, plain.len, &vo, &err), LSEC_E_IMG_COUNTER, &err);
	/* Order: the hash fails before any policy check. */
	vo.min_counter = 100;
	rel.data[40] ^= 1;
	assert_lsec_code(imgtest_check(rel.data, rel.len, &vo, &err), LSEC_E_IMG_HASH, &err);
	/* Unknown options version. */
	rel.data[40] ^= 1;
	vo.version = 2;
	assert_lsec_code(imgtest_check(rel.data, rel.len, &vo, &err), LSEC_E_USAGE, &err);

	lsec_buf_release(&rel);
	lsec_buf_release(&dbg);
	lsec_buf_release(&plain);
	lsec_buf_release(&spki);
	lsec_key_free(key);
}

/* imgtool images linesec cannot check are refused as unsupported, never half-checked. */
static void test_image_verify__unsupported(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const char *imgs[] = {"imgtool-ed25519-encrypted.img", "imgtool-ed25519-pure.img"};
	lsec_key *pub = imgtest_key("test-ed25519.pub.pem");
	lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	vo.key = pub;
	for (size_t i = 0; i < 2; i++) {
		lsec_buf b = LSEC_BUF_INIT(1 << 16);
		imgtest_read(&b, imgs[i]);
		assert_lsec_code(imgtest_check(b.data, b.len, &vo, &err), LSEC_E_IMG_UNSUPPORTED, &err);
		lsec_buf_release(&b);
	}
	/* A compression flag on an otherwise good image. */
	imgtest_fx fx;
	imgtest_fx_init(&fx, "test-ed25519.pem", LSEC_IMAGE_BUILD_RELEASE, 16, 1);
	lsec_put_u32le(fx.img.data + 16, 0x400);
	assert_lsec_code(imgtest_check(fx.img.data, fx.img.len, &fx.vo, &err), LSEC_E_IMG_UNSUPPORTED,
			 &err);
	imgtest_fx_release(&fx);
	lsec_key_free(pub);
}

static void test_image_verify__allocation_failures(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	imgtest_fx fx;
	imgtest_fx_init(&fx, "test-ecdsa-p256.pem", LSEC_IMAGE_BUILD_RELEASE, 64, 3);
	int rc = -1;
	for (unsigned long n = 1; rc != 0 && n < 100; n++) {
		lsec_alloc_fail_after(n);
		rc = lsec_image_verify(fx.parsed, &fx.vo, &err);
		lsec_alloc_fail_after(0);
		if (rc != 0) {
			/* A failed allocation is never reported as a bad image. */
			assert_int_equal(rc, LSEC_E_NOMEM);
		}
	}
	assert_int_equal(rc, 0);
	imgtest_fx_release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_verify__imgtool_images),
		cmocka_unit_test(test_image_verify__tampered_byte_in_every_region),
		cmocka_unit_test(test_image_verify__tamper_codes),
		cmocka_unit_test(test_image_verify__keys),
		cmocka_unit_test(test_image_verify__unsigned_and_hashless),
		cmocka_unit_test(test_image_verify__policy),
		cmocka_unit_test(test_image_verify__unsupported),
		cmocka_unit_test(test_image_verify__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
