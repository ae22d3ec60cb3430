/*
 * Verifying a parsed image, and describing it.
 *
 * The checks follow MCUboot's bootutil_img_validate: the SHA-256 TLV must
 * equal the hash of header + payload + protected TLVs; the KEYHASH TLV
 * (or the SHA-256 of the PUBKEY TLV) must name the trusted key; the
 * signature TLV must verify over that hash (lsec_key_verify_digest).
 * linesec then applies its own policy from the protected TLVs: product,
 * build type and the minimum security counter.
 *
 * @test tests/unit/image/test_verify.c
 */
#include "image_int.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <string.h>

/* SHA-256 over the hashed region: header, payload, protected TLV area. */
static int compute_hash(uint8_t out[32], const lsec_image *img, lsec_err *err)
{
	return lsec_sha256(out, img->data, img->prot_end, err);
}

/*
 * Resolves the key to verify with and checks that the image names it.
 * Fails with LSEC_E_IMG_KEY_MISMATCH, or LSEC_E_USAGE without a key.
 */
static int resolve_key(lsec_key **out, const lsec_key **use, const lsec_image *img,
		       const lsec_image_verify_options *opts, lsec_err *err)
{
	int rc = 0;
	uint8_t want[32], have[32];
	const uint8_t *der = opts->pubkey_der;
	size_t der_len = opts->pubkey_der_len;
	lsec_buf spki = LSEC_BUF_INIT(4096);

	*out = NULL;
	*use = NULL;
	if (opts->key != NULL) {
		LSEC_TRY(lsec_key_spki_der(&spki, opts->key, err));
		der = spki.data;
		der_len = spki.len;
		LSEC_TRY(lsec_key_fingerprint(want, opts->key, err));
	} else if (der != NULL) {
		LSEC_TRY(lsec_sha256(want, der, der_len, err));
	} else if (opts->key_hash != NULL) {
		memcpy(want, opts->key_hash, 32);
		LSEC_ENSURE(img->pubkey != NULL, LSEC_E_IMG_KEY_MISMATCH,
			    "cannot verify image '%s': no PUBKEY TLV, and only the key's hash is "
			    "trusted",
			    img->name);
		der = img->data + img->pubkey->off;
		der_len = img->pubkey->len;
	} else {
		LSEC_BAIL(LSEC_E_USAGE, "cannot verify image '%s': no public key given", img->name);
	}
	LSEC_ENSURE(lsec_image_key_hash(have, img), LSEC_E_IMG_KEY_MISMATCH,
		    "cannot verify image '%s': no KEYHASH or PUBKEY TLV", img->name);
	LSEC_ENSURE(lsec_ct_equal(want, have, 32), LSEC_E_IMG_KEY_MISMATCH,
		    "cannot verify image '%s': signed by another key (the image's key hash is not "
		    "the trusted key's)",
		    img->name);
	LSEC_ENSURE(img->pubkey == NULL || (opts->pubkey_der == NULL && opts->key == NULL) ||
			    (img->pubkey->len == der_len &&
			     lsec_ct_equal(img->data + img->pubkey->off, der, der_len)),
		    LSEC_E_IMG_KEY_MISMATCH,
		    "cannot verify image '%s': PUBKEY TLV is not the given public key", img->name);
	if (opts->key != NULL) {
		*use = opts->key;
		goto out;
	}
	lsec_err kerr = LSEC_ERR_INIT;
	int krc = lsec_key_from_spki(out, der, der_len, &kerr);
	/* Out of memory is not a verdict on the image. */
	LSEC_ENSURE(krc != LSEC_E_NOMEM, LSEC_E_NOMEM, "cannot verify image '%s': out of memory",
		    img->name);
	LSEC_ENSURE(krc == 0, LSEC_E_IMG_KEY_MISMATCH,
		    "cannot verify image '%s': unusable signing key: %s", img->name, kerr.msg);
	*use = *out;
out:
	lsec_buf_release(&spki);
	return rc;
}

int lsec_image_verify(const lsec_image *img, const lsec_image_verify_options *opts, lsec_err *err)
{
	int rc = 0;
	uint8_t digest[32];
	lsec_key *key = NULL;     /* decoded here, owned */
	const lsec_key *use = NULL; /* the key to verify with */

	LSEC_ENSURE(img != NULL && opts != NULL, LSEC_E_USAGE, "cannot verify image: no image or options");
	LSEC_ENSURE(opts->version == LSEC_IMAGE_VERIFY_OPTIONS_VERSION, LSEC_E_USAGE,
		    "cannot verify image '%s': options version %u, expected %u", img->name,
		    opts->version, LSEC_IMAGE_VERIFY_OPTIONS_VERSION);
	LSEC_ENSURE((img->flags & IMG_F_UNSUPPORTED) == 0, LSEC_E_IMG_UNSUPPORTED,
		    "cannot verify image '%s': encrypted or compressed payload (flags 0x%08x), "
		    "which linesec cannot check",
		    img->name, img->flags);
	LSEC_ENSURE(!img->sig_pure, LSEC_E_IMG_UNSUPPORTED,
		    "cannot verify image '%s': \"pure\" signature (TLV 0x25), which linesec cannot "
		    "check",
		    img->name);
	LSEC_ENSURE(img->sha256 != NULL, LSEC_E_IMG_HASH,
		    "cannot verify image '%s': SHA256 TLV missing", img->name);
	LSEC_ENSURE(img->keyhash == NULL || img->keyhash->len == 32, LSEC_E_IMG_UNSUPPORTED,
		    "cannot verify image '%s': KEYHASH TLV of %u bytes is not a SHA-256", img->name,
		    img->keyhash->len);
	LSEC_TRY(compute_hash(digest, img, err));
	LSEC_ENSURE(lsec_ct_equal(digest, img->data + img->sha256->off, 32), LSEC_E_IMG_HASH,
		    "cannot verify image '%s': SHA-256 of header, payload and protected TLVs does not "
		    "match the SHA256 TLV",
		    img->name);
	LSEC_ENSURE(img->sig != NULL, LSEC_E_IMG_UNSIGNED,
		    "cannot verify image '%s': unsigned (no ECDSASIG or ED25519 signature TLV)",
		    img->name);
	LSEC_TRY(resolve_key(&key, &use, img, opts, err));
	bool ed = lsec_key_get_type(use) == LSEC_KEY_ED25519;
	LSEC_ENSURE((img->sig->type == IMG_TLV_ED25519) == ed, LSEC_E_IMG_KEY_MISMATCH,
		    "cannot verify image '%s': %s signature TLV, but the key is %s", img->name,
		    lsec_image__tlv_name(img->sig->type), lsec_key_type_name(lsec_key_get_type(use)));
	int vrc = lsec_key_verify_digest(use, digest, img->data + img->sig->off, img->sig->len, err);
	LSEC_ENSURE(vrc != LSEC_E_NOMEM, LSEC_E_NOMEM, "cannot verify image '%s': out of memory",
		    img->name);
	LSEC_ENSURE(vrc == 0, LSEC_E_IMG_BAD_SIGNATURE, "cannot verify image '%s': %s TLV does not verify",
		    img->name, lsec_image__tlv_name(img->sig->type));
	if (opts->product != NULL) {
		LSEC_ENSURE(img->has_product, LSEC_E_IMG_WRONG_PRODUCT,
			    "cannot verify image '%s': no product TLV, expected product '%s'",
			    img->name, opts->product);
		LSEC_ENSURE(strcmp(img->product, opts->product) == 0, LSEC_E_IMG_WRONG_PRODUCT,
			    "cannot verify image '%s': built for product '%s', expected '%s'",
			    img->name, img->product, opts->product);
	}
	LSEC_ENSURE(!opts->require_release || img->build == LSEC_IMAGE_BUILD_RELEASE,
		    LSEC_E_IMG_DEBUG_BUILD,
		    "cannot verify image '%s': %s, expected a release build", img->name,
		    img->build == LSEC_IMAGE_BUILD_DEBUG ? "debug build"
							 : "build type not declared (no TLV 0xa1)");
	if (opts->check_min_counter) {
		LSEC_ENSURE(img->sec_cnt != NULL, LSEC_E_IMG_COUNTER,
			    "cannot verify image '%s': no SEC_CNT TLV, minimum security counter is %u",
			    img->name, opts->min_counter);
		LSEC_ENSURE(img->security_counter >= opts->min_counter, LSEC_E_IMG_COUNTER,
			    "cannot verify image '%s': security counter %u is below the minimum %u",
			    img->name, img->security_counter, opts->min_counter);
	}
out:
	lsec_key_free(key);
	return rc;
}

/* ---- describe ---------------------------------------------------------- */

static int set_new(json_t *obj, const char *key, json_t *v, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(v != NULL && json_object_set_new(obj, key, v) == 0, LSEC_E_NOMEM,
		    "cannot describe image: out of memory at '%s'", key);
out:
	return rc;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = lsec_hex_alloc(p, n);
	json_t *j = h ? json_string(h) : NULL;
	lsec_free(h);
	return j;
}

/* MCUboot's IMAGE_F_* header flags (bootutil/image.h). */
static const struct {
	uint32_t bit;
	const char *name;
} image_flags[] = {
	{0x01, "PIC"},
	{0x04, "ENCRYPTED_AES128"},
	{0x08, "ENCRYPTED_AES256"},
	{0x10, "NON_BOOTABLE"},
	{IMG_F_RAM_LOAD, "RAM_LOAD"},
	{0x100, "ROM_FIXED"},
	{0x200, "COMPRESSED_LZMA1"},
	{0x400, "COMPRESSED_LZMA2"},
	{0x800, "COMPRESSED_ARM_THUMB"},
};

/* The names of the set flags; unknown bits as "0x..." (NULL when out of memory). */
static json_t *flag_names(uint32_t flags)
{
	json_t *a = json_array();
	char hex[16];
	for (size_t i = 0; a != NULL && i < sizeof(image_flags) / sizeof(image_flags[0]); i++) {
		if (flags & image_flags[i].bit) {
			flags &= ~image_flags[i].bit;
			if (json_array_append_new(a, json_string(image_flags[i].name)) != 0) {
				json_decref(a);
				return NULL;
			}
		}
	}
	if (a != NULL && flags != 0) {
		snprintf(hex, sizeof(hex), "0x%x", (unsigned)flags);
		if (json_array_append_new(a, json_string(hex)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int lsec_image_version_format(char *out, size_t outlen, lsec_image_version v)
{
	int n = snprintf(out, outlen, "%u.%u.%u+%lu", v.major, v.minor, v.revision,
			 (unsigned long)v.build);
	return n < 0 || (size_t)n >= outlen ? LSEC_E_LIMIT : 0;
}

static int describe_tlv(json_t *arr, const lsec_image *img, const img_tlv *t, lsec_err *err)
{
	int rc = 0;
	json_t *o = json_object();
	const char *name = lsec_image__tlv_name(t->type);
	const uint8_t *v = img->data + t->off;
	LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "cannot describe image: out of memory");
	LSEC_TRY(set_new(o, "area", json_string(t->prot ? "protected" : "unprotected"), err));
	LSEC_TRY(set_new(o, "type", json_integer(t->type), err));
	LSEC_TRY(set_new(o, "name", name ? json_string(name) : json_null(), err));
	LSEC_TRY(set_new(o, "length", json_integer(t->len), err));
	LSEC_TRY(set_new(o, "offset", json_integer((json_int_t)t->off), err));
	LSEC_TRY(set_new(o, "value", hex_json(v, t->len), err));
	if (t->type == IMG_TLV_SEC_CNT && t == img->sec_cnt) {
		LSEC_TRY(set_new(o, "decoded", json_integer(img->security_counter), err));
	} else if (t->type == IMG_TLV_LSEC_PRODUCT && img->has_product) {
		LSEC_TRY(set_new(o, "decoded", json_string(img->product), err));
	} else if (t->type == IMG_TLV_LSEC_BUILD) {
		LSEC_TRY(set_new(o, "decoded", json_string(lsec_image_build_name(img->build)), err));
	}
	LSEC_ENSURE(json_array_append(arr, o) == 0, LSEC_E_NOMEM, "cannot describe image: out of memory");
out:
	json_decref(o);
	return rc;
}

int lsec_image_describe(json_t **out, const lsec_image *img, lsec_err *err)
{
	int rc = 0;
	json_t *o = json_object(), *h = json_object(), *tl = json_array(), *hs = json_object();
	uint8_t digest[32], kh[32];
	char ver[48];
	uint32_t cnt = 0;

	*out = NULL;
	LSEC_ENSURE(o && h && tl && hs, LSEC_E_NOMEM, "cannot describe image: out of memory");
	LSEC_TRY(set_new(h, "magic", json_integer(LSEC_IMAGE_MAGIC), err));
	LSEC_TRY(set_new(h, "load_addr", json_integer(img->load_addr), err));
	LSEC_TRY(set_new(h, "hdr_size", json_integer(img->hdr_size), err));
	LSEC_TRY(set_new(h, "protect_tlv_size", json_integer(img->protect_tlv_size), err));
	LSEC_TRY(set_new(h, "img_size", json_integer(img->img_size), err));
	LSEC_TRY(set_new(h, "flags", json_integer(img->flags), err));
	LSEC_TRY(set_new(h, "flag_names", flag_names(img->flags), err));
	LSEC_TRY(lsec_image_version_format(ver, sizeof(ver), img->version));
	LSEC_TRY(set_new(h, "version", json_string(ver), err));
	json_t *h_ = h;
	h = NULL; /* set_new takes it, also on failure */
	LSEC_TRY(set_new(o, "header", h_, err));
	for (size_t i = 0; i < img->ntlvs; i++) {
		LSEC_TRY(describe_tlv(tl, img, &img->tlvs[i], err));
	}
	json_t *tl_ = tl;
	tl = NULL; /* set_new takes it, also on failure */
	LSEC_TRY(set_new(o, "tlvs", tl_, err));

	LSEC_TRY(compute_hash(digest, img, err));
	LSEC_TRY(set_new(hs, "computed", hex_json(digest, 32), err));
	if (img->sha256 != NULL) {
		bool ok = lsec_ct_equal(digest, img->data + img->sha256->off, 32);
		LSEC_TRY(set_new(hs, "tlv", hex_json(img->data + img->sha256->off, 32), err));
		LSEC_TRY(set_new(hs, "status", json_string(ok ? "ok" : "mismatch"), err));
	} else {
		LSEC_TRY(set_new(hs, "tlv", json_null(), err));
		LSEC_TRY(set_new(hs, "status", json_string("missing"), err));
	}
	json_t *hs_ = hs;
	hs = NULL; /* set_new takes it, also on failure */
	LSEC_TRY(set_new(o, "hash", hs_, err));

	LSEC_TRY(set_new(o, "size", json_integer((json_int_t)img->len), err));
	LSEC_TRY(set_new(o, "product", img->has_product ? json_string(img->product) : json_null(), err));
	LSEC_TRY(set_new(o, "build", json_string(lsec_image_build_name(img->build)), err));
	LSEC_TRY(set_new(o, "security_counter",
			 lsec_image_security_counter(&cnt, img) ? json_integer(cnt) : json_null(), err));
	LSEC_TRY(set_new(o, "key_hash", lsec_image_key_hash(kh, img) ? hex_json(kh, 32) : json_null(),
			 err));
	LSEC_TRY(set_new(o, "signature",
			 img->sig ? json_string(lsec_image__tlv_name(img->sig->type)) : json_null(),
			 err));
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(h);
	json_decref(tl);
	json_decref(hs);
	return rc;
}
