/* Helpers shared by the image tests: keys, signing, parsing, verifying. */
#ifndef LSEC_IMGTEST_H
#define LSEC_IMGTEST_H

#include "helpers/testutil.h"

#include "../../../src/image/image_int.h"
#include "linesec/image.h"
#include "linesec/pki.h"

#include <string.h>

/* Loads tests/data/images/<name> into b (empty). */
static inline void imgtest_read(lsec_buf *b, const char *name)
{
	lsec_err err = LSEC_ERR_INIT;
	char *rel = lsec_asprintf("images/%s", name);
	char *p = lsec_test_data(rel);
	assert_lsec_ok(lsec_file_read(b, p, &err), &err);
	lsec_free(p);
	lsec_free(rel);
}

/* A test key from tests/data/images (private "test-ed25519.pem", public "*.pub.pem"). */
static inline lsec_key *imgtest_key(const char *name)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *k = NULL;
	char *rel = lsec_asprintf("images/%s", name);
	char *p = lsec_test_data(rel);
	if (strstr(name, ".pub.") != NULL) {
		assert_lsec_ok(lsec_key_load_public(&k, p, &err), &err);
	} else {
		assert_lsec_ok(lsec_key_load_private(&k, p, NULL, &err), &err);
	}
	lsec_free(p);
	lsec_free(rel);
	return k;
}

/* Options that verify a release of "acme-sensor" signed by key. */
static inline void imgtest_vo(lsec_image_verify_options *vo, lsec_buf *spki, const lsec_key *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_image_verify_options init = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	*vo = init;
	lsec_buf_reset(spki);
	assert_lsec_ok(lsec_key_spki_der(spki, key, &err), &err);
	vo->pubkey_der = spki->data;
	vo->pubkey_der_len = spki->len;
	vo->product = "acme-sensor";
	vo->require_release = true;
}

/* Parses then verifies; returns the first failing code (0 if all pass). */
static inline int imgtest_check(const uint8_t *d, size_t n, const lsec_image_verify_options *vo,
				lsec_err *err)
{
	lsec_image *img = NULL;
	int rc = lsec_image_parse(&img, d, n, "test.img", err);
	if (rc == 0) {
		rc = lsec_image_verify(img, vo, err);
	}
	lsec_image_free(img);
	return rc;
}

/* Signs payload into out (empty) with the given key and build. */
static inline void imgtest_sign(lsec_buf *out, const lsec_key *key, lsec_image_build build,
				const uint8_t *payload, size_t len)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	o.key = key;
	o.product = "acme-sensor";
	o.build = build;
	o.image_version = (lsec_image_version){1, 2, 3, 4};
	o.has_security_counter = true;
	o.security_counter = 7;
	assert_lsec_ok(lsec_image_sign(out, payload, len, &o, &err), &err);
}

/* A signed image of a payload of len bytes of fill, parsed, with verify options for it. */
typedef struct imgtest_fx {
	lsec_key *key;
	lsec_buf img;
	lsec_buf spki;
	lsec_image_verify_options vo;
	lsec_image *parsed;
} imgtest_fx;

static inline void imgtest_fx_init(imgtest_fx *fx, const char *keyname, lsec_image_build build,
				   size_t len, uint8_t fill)
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t payload[256];
	assert_true(len <= sizeof(payload));
	memset(payload, fill, len);
	lsec_buf_init(&fx->img, 1 << 16);
	lsec_buf_init(&fx->spki, 4096);
	fx->key = imgtest_key(keyname);
	imgtest_sign(&fx->img, fx->key, build, payload, len);
	imgtest_vo(&fx->vo, &fx->spki, fx->key);
	assert_lsec_ok(lsec_image_parse(&fx->parsed, fx->img.data, fx->img.len, "fx.img", &err), &err);
}

static inline void imgtest_fx_release(imgtest_fx *fx)
{
	lsec_image_free(fx->parsed);
	lsec_buf_release(&fx->img);
	lsec_buf_release(&fx->spki);
	lsec_key_free(fx->key);
}

#endif
