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

/* The names of the set flags into d; unknown bits last as "0x...". */
static void describe_flags(lsec_image_description *d)
{
	uint32_t flags = d->flags;
	for (size_t i = 0; i < sizeof(image_flags) / sizeof(image_flags[0]); i++) {
		if (flags & image_flags[i].bit) {
			flags &= ~image_flags[i].bit;
			snprintf(d->flag_names[d->nflag_names++], sizeof(d->flag_names[0]), "%s",
				 image_flags[i].name);
		}
	}
	if (flags != 0) {
		snprintf(d->flag_names[d->nflag_names++], sizeof(d->flag_names[0]), "0x%x",
			 (unsigned)flags);
	}
}

int lsec_image_version_format(char *out, size_t outlen, lsec_image_version v)
{
	int n = snprintf(out, outlen, "%u.%u.%u+%lu", v.major, v.minor, v.revision,
			 (unsigned long)v.build);
	return n < 0 || (size_t)n >= outlen ? LSEC_E_LIMIT : 0;
}

/* One TLV into *ti; fails with LSEC_E_NOMEM (the hex value). */
static int describe_tlv(lsec_image_tlv_info *ti, const lsec_image_description *d,
			const lsec_image *img, const img_tlv *t, lsec_err *err)
{
	int rc = 0;
	ti->prot = t->prot;
	ti->type = t->type;
	ti->name = lsec_image__tlv_name(t->type);
	ti->len = t->len;
	ti->offset = t->off;
	ti->value_hex = lsec_hex_alloc(img->data + t->off, t->len);
	LSEC_ENSURE(ti->value_hex != NULL, LSEC_E_NOMEM, "cannot describe image: out of memory");
	if (t->type == IMG_TLV_SEC_CNT && t == img->sec_cnt) {
		ti->has_decoded_number = true;
		ti->decoded_number = img->security_counter;
	} else if (t->type == IMG_TLV_LSEC_PRODUCT && img->has_product) {
		ti->decoded_text = d->product;
	} else if (t->type == IMG_TLV_LSEC_BUILD) {
		ti->decoded_text = d->build;
	}
out:
	return rc;
}

void lsec_image_description_free(lsec_image_description *d)
{
	if (d == NULL) {
		return;
	}
	for (size_t i = 0; i < d->ntlvs; i++) {
		lsec_free(d->tlvs[i].value_hex);
	}
	lsec_free(d->tlvs);
	lsec_free(d);
}

int lsec_image_describe(lsec_image_description **out, const lsec_image *img, lsec_err *err)
{
	int rc = 0;
	lsec_image_description *d = NULL;
	uint8_t digest[32], kh[32];

	*out = NULL;
	d = lsec_calloc(1, sizeof(*d));
	LSEC_ENSURE(d != NULL, LSEC_E_NOMEM, "cannot describe image: out of memory");
	d->magic = LSEC_IMAGE_MAGIC;
	d->load_addr = img->load_addr;
	d->hdr_size = img->hdr_size;
	d->protect_tlv_size = img->protect_tlv_size;
	d->img_size = img->img_size;
	d->flags = img->flags;
	describe_flags(d);
	d->version = img->version;
	LSEC_TRY(lsec_image_version_format(d->version_text, sizeof(d->version_text), img->version));
	d->size = img->len;
	if (img->has_product) {
		snprintf(d->product, sizeof(d->product), "%s", img->product);
	}
	d->build = lsec_image_build_name(img->build);
	d->has_security_counter = lsec_image_security_counter(&d->security_counter, img);
	if (lsec_image_key_hash(kh, img)) {
		lsec_hex_encode(d->key_hash, kh, 32);
	}
	d->signature = img->sig ? lsec_image__tlv_name(img->sig->type) : NULL;

	if (img->ntlvs > 0) {
		d->tlvs = lsec_calloc(img->ntlvs, sizeof(*d->tlvs));
		LSEC_ENSURE(d->tlvs != NULL, LSEC_E_NOMEM, "cannot describe image: out of memory");
	}
	for (size_t i = 0; i < img->ntlvs; i++) {
		d->ntlvs = i + 1; /* freed with d from here on */
		LSEC_TRY(describe_tlv(&d->tlvs[i], d, img, &img->tlvs[i], err));
	}

	LSEC_TRY(compute_hash(digest, img, err));
	lsec_hex_encode(d->hash_computed, digest, 32);
	d->hash_status = "missing";
	if (img->sha256 != NULL) {
		const uint8_t *tlv = img->data + img->sha256->off;
		lsec_hex_encode(d->hash_tlv, tlv, 32);
		d->hash_status = lsec_ct_equal(digest, tlv, 32) ? "ok" : "mismatch";
	}
	*out = d;
	d = NULL;
out:
	lsec_image_description_free(d);
	return rc;
}

/* A hex text as a JSON string, or null when it is "" (absent). */
static json_t *hex_or_null(const char *hex)
{
	return hex[0] != '\0' ? json_string(hex) : json_null();
}

static int tlv_json(json_t *arr, const lsec_image_tlv_info *t, lsec_err *err)
{
	int rc = 0;
	json_t *o = json_object();
	LSEC_ENSURE(o != NULL, LSEC_E_NOMEM, "cannot describe image: out of memory");
	LSEC_TRY(lsec_json_set(o, "area", json_string(t->prot ? "protected" : "unprotected"), err));
	LSEC_TRY(lsec_json_set(o, "type", json_integer(t->type), err));
	LSEC_TRY(lsec_json_set(o, "name", t->name ? json_string(t->name) : json_null(), err));
	LSEC_TRY(lsec_json_set(o, "length", json_integer(t->len), err));
	LSEC_TRY(lsec_json_set(o, "offset", json_integer((json_int_t)t->offset), err));
	LSEC_TRY(lsec_json_set(o, "value", json_string(t->value_hex), err));
	if (t->has_decoded_number) {
		LSEC_TRY(lsec_json_set(o, "decoded", json_integer(t->decoded_number), err));
	} else if (t->decoded_text != NULL) {
		LSEC_TRY(lsec_json_set(o, "decoded", json_string(t->decoded_text), err));
	}
	LSEC_ENSURE(json_array_append(arr, o) == 0, LSEC_E_NOMEM,
		    "cannot describe image: out of memory");
out:
	json_decref(o);
	return rc;
}

int lsec_image_description_json(json_t **out, const lsec_image_description *d, lsec_err *err)
{
	int rc = 0;
	json_t *o = json_object(), *h = json_object(), *fl = json_array(), *tl = json_array(),
	       *hs = json_object();

	*out = NULL;
	LSEC_ENSURE(o && h && fl && tl && hs, LSEC_E_NOMEM, "cannot describe image: out of memory");
	for (size_t i = 0; i < d->nflag_names; i++) {
		LSEC_TRY(lsec_json_append(fl, json_string(d->flag_names[i]), err));
	}
	LSEC_TRY(lsec_json_set(h, "magic", json_integer(d->magic), err));
	LSEC_TRY(lsec_json_set(h, "load_addr", json_integer(d->load_addr), err));
	LSEC_TRY(lsec_json_set(h, "hdr_size", json_integer(d->hdr_size), err));
	LSEC_TRY(lsec_json_set(h, "protect_tlv_size", json_integer(d->protect_tlv_size), err));
	LSEC_TRY(lsec_json_set(h, "img_size", json_integer(d->img_size), err));
	LSEC_TRY(lsec_json_set(h, "flags", json_integer(d->flags), err));
	LSEC_TRY(lsec_json_set(h, "flag_names", json_incref(fl), err));
	LSEC_TRY(lsec_json_set(h, "version", json_string(d->version_text), err));
	LSEC_TRY(lsec_json_set(o, "header", json_incref(h), err));
	for (size_t i = 0; i < d->ntlvs; i++) {
		LSEC_TRY(tlv_json(tl, &d->tlvs[i], err));
	}
	LSEC_TRY(lsec_json_set(o, "tlvs", json_incref(tl), err));
	LSEC_TRY(lsec_json_set(hs, "computed", json_string(d->hash_computed), err));
	LSEC_TRY(lsec_json_set(hs, "tlv", hex_or_null(d->hash_tlv), err));
	LSEC_TRY(lsec_json_set(hs, "status", json_string(d->hash_status), err));
	LSEC_TRY(lsec_json_set(o, "hash", json_incref(hs), err));
	LSEC_TRY(lsec_json_set(o, "size", json_integer((json_int_t)d->size), err));
	LSEC_TRY(lsec_json_set(o, "product", d->product[0] ? json_string(d->product) : json_null(), err));
	LSEC_TRY(lsec_json_set(o, "build", json_string(d->build), err));
	LSEC_TRY(lsec_json_set(o, "security_counter",
			 d->has_security_counter ? json_integer(d->security_counter) : json_null(),
			 err));
	LSEC_TRY(lsec_json_set(o, "key_hash", hex_or_null(d->key_hash), err));
	LSEC_TRY(lsec_json_set(o, "signature", d->signature ? json_string(d->signature) : json_null(),
			 err));
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(h);
	json_decref(fl);
	json_decref(tl);
	json_decref(hs);
	return rc;
}
