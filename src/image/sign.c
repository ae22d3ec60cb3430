/*
 * Building a signed image, byte for byte as MCUboot's imgtool does it
 * (`imgtool sign --pad-header -H N [-s CNT] [-L ADDR] --custom-tlv 0xa0
 * PRODUCT --custom-tlv 0xa1 0x01|0x02`): header, payload, protected TLVs
 * (SEC_CNT, then the linesec product and build TLVs), then the unprotected
 * TLVs (SHA256, KEYHASH or PUBKEY, the signature). Header padding between
 * byte 32 and hdr_size is 0xff, flash's erased value, as imgtool writes it
 * by default; a non-zero load address sets IMAGE_F_RAM_LOAD as imgtool does.
 * Ed25519 signatures are deterministic, so the same inputs give the same
 * bytes as imgtool (tests/data/images).
 *
 * @test tests/unit/image/test_sign.c
 */
#include "image_int.h"
#include "linesec/pki.h"

#include <string.h>

/* An image never exceeds what its 32-bit offsets can address. */
#define IMG_MAX_TOTAL ((size_t)UINT32_MAX)

static int add_tlv(lsec_buf *b, uint16_t type, const void *v, size_t len, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(len <= UINT16_MAX, LSEC_E_LIMIT, "cannot sign image: TLV 0x%02x of %zu bytes", type,
		    len);
	LSEC_TRY(lsec_buf_append_u16le(b, type, err));
	LSEC_TRY(lsec_buf_append_u16le(b, (uint16_t)len, err));
	LSEC_TRY(lsec_buf_append(b, v, len, err));
out:
	return rc;
}

/* Appends a TLV area (info header + entries) built in body. */
static int add_area(lsec_buf *out, uint16_t magic, const lsec_buf *body, lsec_err *err)
{
	int rc = 0;
	size_t tot = body->len + IMG_TLV_INFO_SIZE;
	LSEC_ENSURE(tot <= UINT16_MAX, LSEC_E_LIMIT, "cannot sign image: TLV area of %zu bytes", tot);
	LSEC_TRY(lsec_buf_append_u16le(out, magic, err));
	LSEC_TRY(lsec_buf_append_u16le(out, (uint16_t)tot, err));
	LSEC_TRY(lsec_buf_append(out, body->data, body->len, err));
out:
	return rc;
}

static int check_options(const lsec_image_sign_options *o, size_t len, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(o != NULL && o->version == LSEC_IMAGE_SIGN_OPTIONS_VERSION, LSEC_E_USAGE,
		    "cannot sign image: options missing or of another version");
	LSEC_ENSURE(o->key != NULL && lsec_key_has_private(o->key), LSEC_E_USAGE,
		    "cannot sign image: a private key is required");
	LSEC_ENSURE(o->product != NULL &&
			    lsec_image__product_valid((const uint8_t *)o->product, strlen(o->product)),
		    LSEC_E_USAGE,
		    "cannot sign image: invalid product id '%s': expected 1 to %u printable "
		    "characters without spaces",
		    o->product ? o->product : "", IMG_PRODUCT_MAX);
	LSEC_ENSURE(o->build == LSEC_IMAGE_BUILD_RELEASE || o->build == LSEC_IMAGE_BUILD_DEBUG,
		    LSEC_E_USAGE, "cannot sign image: build type must be release or debug");
	LSEC_ENSURE(o->header_size == 0 || o->header_size >= LSEC_IMAGE_HEADER_SIZE, LSEC_E_USAGE,
		    "cannot sign image: header size %u is smaller than 32", o->header_size);
	LSEC_ENSURE(len <= UINT32_MAX, LSEC_E_LIMIT,
		    "cannot sign image: payload of %zu bytes does not fit a 32-bit image size", len);
out:
	return rc;
}

int lsec_image_sign(lsec_buf *out, const uint8_t *payload, size_t len,
		    const lsec_image_sign_options *o, lsec_err *err)
{
	int rc = 0;
	lsec_buf prot = LSEC_BUF_INIT(UINT16_MAX);
	lsec_buf body = LSEC_BUF_INIT(UINT16_MAX);
	lsec_buf unprot = LSEC_BUF_INIT(UINT16_MAX);
	lsec_buf spki = LSEC_BUF_INIT(4096);
	lsec_buf sig = LSEC_BUF_INIT(128);
	uint8_t hdr[LSEC_IMAGE_HEADER_SIZE];
	uint8_t digest[32], keyhash[32], cnt[4];
	bool started = false;

	LSEC_ENSURE(out != NULL && out->len == 0, LSEC_E_USAGE, "cannot sign image: output buffer not empty");
	started = true;
	LSEC_ENSURE(payload != NULL || len == 0, LSEC_E_USAGE, "cannot sign image: no payload");
	LSEC_TRY(check_options(o, len, err));
	uint16_t hsize = o->header_size ? o->header_size : (uint16_t)LSEC_IMAGE_HEADER_SIZE;

	/* Protected TLVs, in imgtool's order: SEC_CNT, then custom TLVs. */
	if (o->has_security_counter) {
		lsec_put_u32le(cnt, o->security_counter);
		LSEC_TRY(add_tlv(&body, IMG_TLV_SEC_CNT, cnt, 4, err));
	}
	LSEC_TRY(add_tlv(&body, IMG_TLV_LSEC_PRODUCT, o->product, strlen(o->product), err));
	uint8_t build = (uint8_t)o->build;
	LSEC_TRY(add_tlv(&body, IMG_TLV_LSEC_BUILD, &build, 1, err));
	LSEC_TRY(add_area(&prot, IMG_TLV_PROT_INFO_MAGIC, &body, err));

	uint64_t total = (uint64_t)hsize + len + prot.len;
	LSEC_ENSURE(total + IMG_TLV_INFO_SIZE <= IMG_MAX_TOTAL, LSEC_E_LIMIT,
		    "cannot sign image: %llu bytes overflow 32-bit offsets", (unsigned long long)total);
	LSEC_ENSURE(total + 512 <= out->max, LSEC_E_LIMIT,
		    "cannot sign image: %llu bytes exceed the output limit of %zu",
		    (unsigned long long)total, out->max);

	memset(hdr, 0, sizeof(hdr));
	lsec_put_u32le(hdr + 0, LSEC_IMAGE_MAGIC);
	lsec_put_u32le(hdr + 4, o->load_addr);
	lsec_put_u16le(hdr + 8, hsize);
	lsec_put_u16le(hdr + 10, (uint16_t)prot.len);
	lsec_put_u32le(hdr + 12, (uint32_t)len);
	lsec_put_u32le(hdr + 16, o->load_addr != 0 ? IMG_F_RAM_LOAD : 0);
	hdr[20] = o->image_version.major;
	hdr[21] = o->image_version.minor;
	lsec_put_u16le(hdr + 22, o->image_version.revision);
	lsec_put_u32le(hdr + 24, o->image_version.build);

	LSEC_TRY(lsec_buf_reserve(out, (size_t)total + 256, err));
	LSEC_TRY(lsec_buf_append(out, hdr, sizeof(hdr), err));
	for (size_t i = LSEC_IMAGE_HEADER_SIZE; i < hsize; i++) {
		LSEC_TRY(lsec_buf_append_u8(out, 0xff, err));
	}
	LSEC_TRY(lsec_buf_append(out, payload, len, err));
	LSEC_TRY(lsec_buf_append(out, prot.data, prot.len, err));

	/* Unprotected: SHA256 over everything so far, the key, the signature. */
	LSEC_TRY(lsec_sha256(digest, out->data, out->len, err));
	LSEC_TRY(lsec_key_spki_der(&spki, o->key, err));
	lsec_buf_reset(&body);
	LSEC_TRY(add_tlv(&body, IMG_TLV_SHA256, digest, 32, err));
	if (o->embed_pubkey) {
		LSEC_TRY(add_tlv(&body, IMG_TLV_PUBKEY, spki.data, spki.len, err));
	} else {
		LSEC_TRY(lsec_sha256(keyhash, spki.data, spki.len, err));
		LSEC_TRY(add_tlv(&body, IMG_TLV_KEYHASH, keyhash, 32, err));
	}
	LSEC_TRY(lsec_key_sign_digest(&sig, o->key, digest, err));
	LSEC_TRY(add_tlv(&body,
			 lsec_key_get_type(o->key) == LSEC_KEY_ED25519 ? IMG_TLV_ED25519
								       : IMG_TLV_ECDSA_SIG,
			 sig.data, sig.len, err));
	LSEC_TRY(add_area(&unprot, IMG_TLV_INFO_MAGIC, &body, err));
	LSEC_TRY(lsec_buf_append(out, unprot.data, unprot.len, err));
out:
	if (rc < 0 && started) {
		/* Nothing half-built is left behind. */
		lsec_buf_reset(out);
	}
	lsec_buf_release(&prot);
	lsec_buf_release(&body);
	lsec_buf_release(&unprot);
	lsec_buf_release(&spki);
	lsec_buf_release(&sig);
	return rc;
}
