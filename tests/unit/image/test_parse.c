/* Parsing hostile bytes: truncation, sizes, TLV areas; describe. */
#include "imgtest.h"

#include <jansson.h>

/* One TLV to craft: type, value. */
typedef struct ctlv {
	uint16_t type;
	uint16_t len;
	const void *val;
} ctlv;

/*
 * Crafts an image: 32-byte header, payload of plen bytes, the given
 * protected and unprotected TLVs, each area with a correct info header,
 * and header sizes that agree (so each test breaks exactly one thing).
 */
static void craft(lsec_buf *out, size_t plen, const ctlv *prot, size_t np, const ctlv *unprot,
		  size_t nu)
{
	lsec_err err = LSEC_ERR_INIT;
	size_t ptot = 0, utot = IMG_TLV_INFO_SIZE;
	for (size_t i = 0; i < np; i++) {
		ptot += IMG_TLV_HDR_SIZE + prot[i].len;
	}
	if (np > 0) {
		ptot += IMG_TLV_INFO_SIZE;
	}
	for (size_t i = 0; i < nu; i++) {
		utot += IMG_TLV_HDR_SIZE + unprot[i].len;
	}
	uint8_t hdr[32] = {0};
	lsec_put_u32le(hdr, LSEC_IMAGE_MAGIC);
	lsec_put_u16le(hdr + 8, 32);
	lsec_put_u16le(hdr + 10, (uint16_t)ptot);
	lsec_put_u32le(hdr + 12, (uint32_t)plen);
	assert_lsec_ok(lsec_buf_append(out, hdr, 32, &err), &err);
	for (size_t i = 0; i < plen; i++) {
		assert_lsec_ok(lsec_buf_append_u8(out, (uint8_t)i, &err), &err);
	}
	if (np > 0) {
		assert_lsec_ok(lsec_buf_append_u16le(out, IMG_TLV_PROT_INFO_MAGIC, &err), &err);
		assert_lsec_ok(lsec_buf_append_u16le(out, (uint16_t)ptot, &err), &err);
	}
	for (size_t i = 0; i < np; i++) {
		assert_lsec_ok(lsec_buf_append_u16le(out, prot[i].type, &err), &err);
		assert_lsec_ok(lsec_buf_append_u16le(out, prot[i].len, &err), &err);
		assert_lsec_ok(lsec_buf_append(out, prot[i].val, prot[i].len, &err), &err);
	}
	assert_lsec_ok(lsec_buf_append_u16le(out, IMG_TLV_INFO_MAGIC, &err), &err);
	assert_lsec_ok(lsec_buf_append_u16le(out, (uint16_t)utot, &err), &err);
	for (size_t i = 0; i < nu; i++) {
		assert_lsec_ok(lsec_buf_append_u16le(out, unprot[i].type, &err), &err);
		assert_lsec_ok(lsec_buf_append_u16le(out, unprot[i].len, &err), &err);
		assert_lsec_ok(lsec_buf_append(out, unprot[i].val, unprot[i].len, &err), &err);
	}
}

static int parse_code(const lsec_buf *b, lsec_err *err)
{
	lsec_image *img = NULL;
	int rc = lsec_image_parse(&img, b->data, b->len, "crafted.img", err);
	assert_true(rc == 0 ? img != NULL : img == NULL);
	lsec_image_free(img);
	return rc;
}

static const uint8_t zeros[80];
static const uint8_t cnt7[4] = {7, 0, 0, 0};
static const uint8_t rel[1] = {LSEC_IMAGE_BUILD_RELEASE};

static void test_image_parse__truncated_at_every_offset(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	const char *keys[] = {"test-ecdsa-p256.pem", "test-ed25519.pem"};
	uint8_t payload[40];
	memset(payload, 0x5a, sizeof(payload));
	for (size_t k = 0; k < 2; k++) {
		lsec_key *key = imgtest_key(keys[k]);
		lsec_buf b = LSEC_BUF_INIT(1 << 16);
		lsec_image *img = NULL;
		imgtest_sign(&b, key, LSEC_IMAGE_BUILD_RELEASE, payload, sizeof(payload));
		for (size_t n = 0; n < b.len; n++) {
			/* A copy of exactly n bytes, so ASan sees any read past it. */
			uint8_t *cut = lsec_malloc(n ? n : 1);
			memcpy(cut, b.data, n);
			assert_lsec_code(lsec_image_parse(&img, cut, n, "cut.img", &err),
					 LSEC_E_IMG_TRUNCATED, &err);
			assert_null(img);
			lsec_free(cut);
		}
		/* Trailing bytes (slot padding) are ignored and not kept. */
		size_t full = b.len;
		assert_lsec_ok(lsec_buf_append(&b, zeros, 16, &err), &err);
		assert_lsec_ok(lsec_image_parse(&img, b.data, b.len, "padded.img", &err), &err);
		size_t len = 0;
		(void)lsec_image_bytes(img, &len);
		assert_int_equal(len, full);
		lsec_image_free(img);
		lsec_buf_release(&b);
		lsec_key_free(key);
	}
}

static void test_image_parse__header_fields(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	ctlv sha = {IMG_TLV_SHA256, 32, zeros};
	craft(&b, 100, NULL, 0, &sha, 1);
	assert_lsec_ok(parse_code(&b, &err), &err);

	b.data[0] ^= 1;
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_MAGIC, &err);
	b.data[0] ^= 1;

	lsec_put_u16le(b.data + 8, 31); /* hdr_size below the header */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_SIZE, &err);
	lsec_put_u16le(b.data + 8, 0xffff);
	lsec_put_u32le(b.data + 12, 0xffffffffu); /* hdr_size + img_size overflows */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_SIZE, &err);
	assert_non_null(strstr(err.msg, "overflows"));
	lsec_put_u16le(b.data + 8, 32);
	lsec_put_u32le(b.data + 12, 0xffffffe0u); /* + TLV info header overflows */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_SIZE, &err);
	lsec_put_u32le(b.data + 12, 0x7fffffffu); /* fits 32 bits, not the file */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_TRUNCATED, &err);
	lsec_put_u32le(b.data + 12, 100);
	lsec_put_u16le(b.data + 10, 2); /* protected area smaller than its info header */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_SIZE, &err);
	lsec_put_u16le(b.data + 10, 0xfff0); /* points past the file */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	lsec_put_u16le(b.data + 10, 0);
	lsec_put_u32le(b.data + 12, 99); /* TLV area one byte off */
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	lsec_buf_release(&b);
}

static void test_image_parse__malformed_tlv_areas(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	ctlv prot[] = {{IMG_TLV_SEC_CNT, 4, cnt7}, {IMG_TLV_LSEC_BUILD, 1, rel}};
	ctlv sha = {IMG_TLV_SHA256, 32, zeros};
	craft(&b, 10, prot, 2, &sha, 1);
	assert_lsec_ok(parse_code(&b, &err), &err);
	size_t poff = 32 + 10, uoff = poff + 4 + 8 + 5;

	/* Protected info: magic, size disagreeing with the header. */
	b.data[poff] ^= 1;
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	b.data[poff] ^= 1;
	lsec_put_u16le(b.data + poff + 2, 16);
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	lsec_put_u16le(b.data + poff + 2, 17);
	/* A protected entry whose length runs past its area. */
	lsec_put_u16le(b.data + poff + 4 + 8 + 2, 2);
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	assert_non_null(strstr(err.msg, "past the end of its area"));
	lsec_put_u16le(b.data + poff + 4 + 8 + 2, 1);
	/* Unprotected info: magic, a size below 4, a size past the file. */
	b.data[uoff + 1] ^= 0x80;
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	b.data[uoff + 1] ^= 0x80;
	lsec_put_u16le(b.data + uoff + 2, 3);
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	lsec_put_u16le(b.data + uoff + 2, 41);
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_TRUNCATED, &err);
	/* An entry header cut by the area's end (area 2 bytes too short). */
	lsec_put_u16le(b.data + uoff + 2, 6);
	assert_lsec_code(parse_code(&b, &err), LSEC_E_IMG_BAD_TLV, &err);
	assert_non_null(strstr(err.msg, "crosses the end"));
	lsec_put_u16le(b.data + uoff + 2, 40);
	assert_lsec_ok(parse_code(&b, &err), &err);
	lsec_buf_release(&b);
}

/* TLVs in the wrong area, duplicated or of the wrong size. */
static void test_image_parse__tlv_rules(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	static const uint8_t prod_bad[] = {'a', 0x07, 'b'};
	static const uint8_t build3[1] = {3};
	static const struct {
		ctlv prot[2];
		size_t np;
		ctlv unprot[3];
		size_t nu;
		int code;
	} cases[] = {
		/* valid: an unknown TLV is allowed */
		{{{0x60, 3, zeros}}, 1, {{IMG_TLV_SHA256, 32, zeros}, {0x7777, 5, zeros}}, 2, 0},
		{{{0}}, 0, {{IMG_TLV_SEC_CNT, 4, cnt7}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_LSEC_PRODUCT, 4, "acme"}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_LSEC_BUILD, 1, rel}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_SHA256, 32, zeros}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_ED25519, 64, zeros}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_SHA256, 32, zeros}, {IMG_TLV_SHA256, 32, zeros}}, 2, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_SHA256, 31, zeros}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_KEYHASH, 33, zeros}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_KEYHASH, 64, zeros}}, 1, 0}, /* SHA-512 key hash: parses */
		{{{0}}, 0, {{IMG_TLV_KEYHASH, 32, zeros}, {IMG_TLV_PUBKEY, 8, zeros}}, 2, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_PUBKEY, 0, zeros}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_ED25519, 63, zeros}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_ECDSA_SIG, 73, zeros}}, 1, LSEC_E_IMG_BAD_TLV},
		{{{0}}, 0, {{IMG_TLV_ECDSA_SIG, 70, zeros}, {IMG_TLV_ED25519, 64, zeros}}, 2, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_SEC_CNT, 4, cnt7}, {IMG_TLV_SEC_CNT, 4, cnt7}}, 2, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_SEC_CNT, 8, zeros}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_PRODUCT, 3, prod_bad}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_PRODUCT, 0, zeros}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_PRODUCT, 65, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde"}},
		 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_PRODUCT, 4, "acme"}, {IMG_TLV_LSEC_PRODUCT, 4, "acme"}}, 2, {{0}}, 0,
		 LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_BUILD, 1, build3}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_BUILD, 2, zeros}}, 1, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
		{{{IMG_TLV_LSEC_BUILD, 1, rel}, {IMG_TLV_LSEC_BUILD, 1, rel}}, 2, {{0}}, 0, LSEC_E_IMG_BAD_TLV},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lsec_buf b = LSEC_BUF_INIT(1 << 16);
		craft(&b, 8, cases[i].prot, cases[i].np, cases[i].unprot, cases[i].nu);
		int rc = parse_code(&b, &err);
		if (rc != cases[i].code) {
			fail_msg("case %zu: expected %d, got %d: %s", i, cases[i].code, rc, err.msg);
		}
		lsec_buf_release(&b);
	}
}

static void test_image_parse__describe_golden(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	lsec_image *img = NULL;
	lsec_image_description *d = NULL;
	json_t *j = NULL;
	imgtest_read(&b, "imgtool-ecdsa-p256-release.img");
	assert_lsec_ok(lsec_image_parse(&img, b.data, b.len, "golden.img", &err), &err);
	assert_lsec_ok(lsec_image_describe(&d, img, &err), &err);
	assert_int_equal(d->magic, LSEC_IMAGE_MAGIC);
	assert_int_equal(d->hdr_size, 0x200);
	assert_int_equal(d->img_size, 1000);
	assert_string_equal(d->version_text, "2.0.0+17");
	assert_int_equal(d->version.build, 17);
	assert_string_equal(d->product, "acme-sensor");
	assert_string_equal(d->build, "release");
	assert_true(d->has_security_counter);
	assert_int_equal(d->security_counter, 3);
	assert_string_equal(d->hash_status, "ok");
	assert_string_equal(d->hash_computed, d->hash_tlv);
	assert_string_equal(d->signature, "ECDSASIG");
	assert_int_equal(d->ntlvs, 6);
	const char *names[] = {"SEC_CNT", "LINESEC_PRODUCT", "LINESEC_BUILD", "SHA256", "KEYHASH",
			       "ECDSASIG"};
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(d->tlvs[i].name, names[i]);
	}
	assert_true(d->tlvs[0].has_decoded_number);
	assert_int_equal(d->tlvs[0].decoded_number, 3);
	assert_string_equal(d->tlvs[1].decoded_text, "acme-sensor");
	assert_string_equal(d->tlvs[2].decoded_text, "release");
	assert_null(d->tlvs[3].decoded_text);
	assert_false(d->tlvs[3].has_decoded_number);
	assert_string_equal(d->tlvs[3].value_hex, d->hash_tlv);
	assert_string_equal(d->tlvs[4].value_hex, d->key_hash);

	/* The JSON rendering carries the same values under its keys. */
	assert_lsec_ok(lsec_image_description_json(&j, d, &err), &err);
	json_t *h = json_object_get(j, "header");
	assert_int_equal(json_integer_value(json_object_get(h, "hdr_size")), 0x200);
	assert_string_equal(json_string_value(json_object_get(h, "version")), "2.0.0+17");
	assert_string_equal(json_string_value(json_object_get(j, "product")), "acme-sensor");
	assert_int_equal(json_integer_value(json_object_get(j, "security_counter")), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "hash"), "status")),
			    "ok");
	json_t *tlvs = json_object_get(j, "tlvs");
	assert_int_equal(json_array_size(tlvs), 6);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(tlvs, 0), "decoded")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tlvs, 5), "name")),
			    "ECDSASIG");
	assert_null(json_object_get(json_array_get(tlvs, 5), "decoded"));
	json_decref(j);
	lsec_image_description_free(d);
	lsec_image_free(img);
	img = NULL;

	/* A changed payload byte shows as a hash mismatch, not a parse failure. */
	b.data[0x200 + 5] ^= 1;
	assert_lsec_ok(lsec_image_parse(&img, b.data, b.len, "tampered.img", &err), &err);
	assert_lsec_ok(lsec_image_describe(&d, img, &err), &err);
	assert_string_equal(d->hash_status, "mismatch");
	assert_string_not_equal(d->hash_computed, d->hash_tlv);
	lsec_image_description_free(d);
	lsec_image_free(img);
	lsec_buf_release(&b);

	/* Flag names: RAM_LOAD from imgtool's -L, unknown bits in hex. */
	imgtest_read(&b, "imgtool-ed25519-debug-pubkey.img");
	lsec_put_u32le(b.data + 16, 0x20 | 0x10000);
	assert_lsec_ok(lsec_image_parse(&img, b.data, b.len, "flags.img", &err), &err);
	assert_lsec_ok(lsec_image_describe(&d, img, &err), &err);
	assert_int_equal(d->nflag_names, 2);
	assert_string_equal(d->flag_names[0], "RAM_LOAD");
	assert_string_equal(d->flag_names[1], "0x10000");
	assert_string_equal(d->build, "debug");
	assert_lsec_ok(lsec_image_description_json(&j, d, &err), &err);
	json_t *fl = json_object_get(json_object_get(j, "header"), "flag_names");
	assert_int_equal(json_array_size(fl), 2);
	assert_string_equal(json_string_value(json_array_get(fl, 1)), "0x10000");
	json_decref(j);
	lsec_image_description_free(d);
	lsec_image_free(img);
	lsec_buf_release(&b);

	/* No SHA256 TLV at all. */
	lsec_buf c = LSEC_BUF_INIT(1 << 16);
	craft(&c, 4, NULL, 0, NULL, 0);
	assert_lsec_ok(lsec_image_parse(&img, c.data, c.len, "nohash.img", &err), &err);
	assert_lsec_ok(lsec_image_describe(&d, img, &err), &err);
	assert_string_equal(d->hash_status, "missing");
	assert_string_equal(d->hash_tlv, "");
	assert_string_equal(d->product, "");
	assert_lsec_ok(lsec_image_description_json(&j, d, &err), &err);
	assert_true(json_is_null(json_object_get(j, "product")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "hash"), "tlv")));
	assert_true(json_is_null(json_object_get(j, "signature")));
	json_decref(j);
	lsec_image_description_free(d);
	lsec_image_free(img);
	lsec_buf_release(&c);
}

static void test_image_parse__allocation_failures(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	imgtest_read(&b, "imgtool-ed25519-release.img");
	int rc = -1;
	for (unsigned long n = 1; rc != 0 && n < 200; n++) {
		lsec_image *img = NULL;
		lsec_image_description *d = NULL;
		json_t *j = NULL;
		lsec_alloc_fail_after(n);
		rc = lsec_image_parse(&img, b.data, b.len, "oom.img", &err);
		if (rc == 0) {
			rc = lsec_image_describe(&d, img, &err);
		}
		if (rc == 0) {
			rc = lsec_image_description_json(&j, d, &err);
		}
		lsec_alloc_fail_after(0);
		if (rc != 0) {
			assert_int_equal(rc, LSEC_E_NOMEM);
		}
		json_decref(j);
		lsec_image_description_free(d);
		lsec_image_free(img);
	}
	assert_int_equal(rc, 0);
	lsec_buf_release(&b);
}

/* Every build name parses back to its type; other words, prefixes and the
 * firmware's "none" do not. */
static void test_image_parse__build_names(void **state)
{
	(void)state;
	const lsec_image_build all[] = {LSEC_IMAGE_BUILD_UNKNOWN, LSEC_IMAGE_BUILD_RELEASE,
					LSEC_IMAGE_BUILD_DEBUG};
	lsec_image_build b;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = lsec_image_build_name(all[i]);
		b = (lsec_image_build)99;
		assert_true(lsec_image_build_parse(&b, n, strlen(n)));
		assert_int_equal(b, all[i]);
	}
	assert_false(lsec_image_build_parse(&b, "releasex", 8));
	assert_false(lsec_image_build_parse(&b, "releasex", 7 - 1));
	assert_false(lsec_image_build_parse(&b, "none", 4));
	assert_false(lsec_image_build_parse(&b, "", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_parse__truncated_at_every_offset),
		cmocka_unit_test(test_image_parse__header_fields),
		cmocka_unit_test(test_image_parse__malformed_tlv_areas),
		cmocka_unit_test(test_image_parse__tlv_rules),
		cmocka_unit_test(test_image_parse__describe_golden),
		cmocka_unit_test(test_image_parse__build_names),
		cmocka_unit_test(test_image_parse__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
