/*
 * Fuzz target for the MCUboot image parser.
 * Target functions: lsec_image_parse, lsec_image_verify, lsec_image_describe,
 * lsec_image_description_json, lsec_image_sign, lsec_key_from_spki (on the
 * PUBKEY TLV), the accessors.
 *
 * Verification runs against a fixed Ed25519 key (tests/data/images/
 * test-ed25519.pub.pem) and with the key-hash mode, so hash, key and
 * signature checks all see hostile input. Inputs that do not parse are
 * also signed as payloads (lsec_image_sign), and the result must parse
 * and verify: the signer and the parser agree on every payload.
 */
#include "../../src/image/image_int.h"
#include "linesec/image.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DER SubjectPublicKeyInfo of test-ed25519.pub.pem. */
static const uint8_t test_spki[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 0xdd, 0x20, 0x8d,
	0x8f, 0x33, 0x09, 0xbf, 0x0e, 0xe3, 0xff, 0x4c, 0x6f, 0x43, 0x47, 0x16, 0xfc, 0xf3, 0x66,
	0x74, 0x85, 0xce, 0x76, 0xc3, 0xf4, 0xa5, 0xd4, 0x7e, 0x4d, 0xbf, 0x96, 0xe1, 0x0a,
};

/* A failure must carry its code and a message; a code outside the image range is a bug. */
static void check_result(int rc, const lsec_err *err)
{
	if (rc != 0 && (err->code != rc || err->msg[0] == 0 || rc < -149 || rc > -100)) {
		abort();
	}
}

/* Signs data as a payload; the image must parse and verify (abort otherwise). */
static void sign_roundtrip(const uint8_t *data, size_t size)
{
	static lsec_key *key; /* one key for the whole run */
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf out = LSEC_BUF_INIT(1u << 20);
	lsec_image *img = NULL;
	if (key == NULL && lsec_key_generate(&key, LSEC_KEY_ED25519, &err) != 0) {
		abort();
	}
	lsec_image_sign_options so = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	so.key = key;
	so.product = "acme-sensor";
	so.header_size = (uint16_t)(32u + (size > 0 ? data[0] : 0u));
	so.has_security_counter = size > 1 && (data[1] & 1u);
	so.security_counter = (uint32_t)size;
	so.build = size > 2 && (data[2] & 1u) ? LSEC_IMAGE_BUILD_DEBUG : LSEC_IMAGE_BUILD_RELEASE;
	so.embed_pubkey = size > 3 && (data[3] & 1u);
	lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	vo.key = key;
	vo.product = "acme-sensor";
	if (lsec_image_sign(&out, data, size, &so, &err) != 0 ||
	    lsec_image_parse(&img, out.data, out.len, "roundtrip.img", &err) != 0 ||
	    lsec_image_verify(img, &vo, &err) != 0 ||
	    lsec_image_build_type(img) != so.build) {
		abort();
	}
	size_t plen = 0;
	const uint8_t *p = lsec_image_payload(img, &plen);
	if (plen != size || (size > 0 && memcmp(p, data, size) != 0)) {
		abort();
	}
	lsec_image_free(img);
	lsec_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_image *img = NULL;
	json_t *d = NULL;
	lsec_image_description *desc = NULL;
	char *text = NULL;
	uint8_t h[32];
	uint32_t cnt = 0;
	size_t n = 0;

	if (lsec_image_parse(&img, data, size, "fuzz.img", &err) != 0) {
		check_result(err.code, &err);
		sign_roundtrip(data, size);
		return 0;
	}
	if (lsec_image_describe(&desc, img, &err) == 0) {
		if (lsec_image_description_json(&d, desc, &err) == 0 &&
		    lsec_json_canonical(&text, d, &err) == 0) {
			lsec_free(text);
		}
		json_decref(d);
		d = NULL;
		lsec_image_description_free(desc);
	}
	lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	vo.pubkey_der = test_spki;
	vo.pubkey_der_len = sizeof(test_spki);
	vo.product = "acme-sensor";
	vo.require_release = true;
	vo.check_min_counter = true;
	vo.min_counter = 1;
	check_result(lsec_image_verify(img, &vo, &err), &err);
	/* Key-hash mode: the image's own PUBKEY TLV is the key. */
	lsec_image_verify_options hv = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	if (lsec_image_key_hash(h, img)) {
		hv.key_hash = h;
		check_result(lsec_image_verify(img, &hv, &err), &err);
	}
	if (img->pubkey != NULL) {
		lsec_key *k = NULL;
		if (lsec_key_from_spki(&k, img->data + img->pubkey->off, img->pubkey->len, &err) == 0) {
			lsec_key_free(k);
		}
	}
	(void)lsec_image_digest(h, img);
	(void)lsec_image_security_counter(&cnt, img);
	(void)lsec_image_product(img);
	(void)lsec_image_payload(img, &n);
	(void)lsec_image_bytes(img, &n);
	lsec_image_free(img);
	return 0;
}
