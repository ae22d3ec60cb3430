/*
 * Parsing an MCUboot image from untrusted bytes.
 *
 * Layout (MCUboot docs/design.md "Image format", bootutil/image.h):
 *
 *     0            header (32 bytes, little-endian) + padding up to hdr_size
 *     hdr_size     payload (img_size bytes)
 *     P = hdr_size + img_size
 *                  protected TLV area, only if protect_tlv_size != 0:
 *                  info {u16 magic 0x6908, u16 tlv_tot == protect_tlv_size}
 *                  then TLVs {u16 type, u16 len, value}
 *     P + protect_tlv_size
 *                  unprotected TLV area: info {0x6907, tlv_tot}, TLVs
 *
 * tlv_tot counts the 4-byte info header. The SHA-256 TLV covers bytes
 * [0, P + protect_tlv_size). Every size field is checked against the
 * buffer before use; offsets are computed in 64 bits and must fit the
 * 32-bit flash offsets MCUboot uses. Bytes after the unprotected area
 * (slot padding, trailer) are ignored and not kept.
 *
 * @test tests/unit/image/test_parse.c
 */
#include "image_int.h"

#include <string.h>

static const struct {
	uint16_t type;
	const char *name;
} tlv_names[] = {
	{IMG_TLV_KEYHASH, "KEYHASH"},
	{IMG_TLV_PUBKEY, "PUBKEY"},
	{IMG_TLV_SHA256, "SHA256"},
	{0x11, "SHA384"},
	{0x12, "SHA512"},
	{0x20, "RSA2048"},
	{IMG_TLV_ECDSA_SIG, "ECDSASIG"},
	{0x23, "RSA3072"},
	{IMG_TLV_ED25519, "ED25519"},
	{IMG_TLV_SIG_PURE, "SIG_PURE"},
	{0x30, "ENCRSA2048"},
	{0x31, "ENCKW"},
	{0x32, "ENCEC256"},
	{0x33, "ENCX25519"},
	{0x40, "DEPENDENCY"},
	{IMG_TLV_SEC_CNT, "SEC_CNT"},
	{0x60, "BOOT_RECORD"},
	{IMG_TLV_LSEC_PRODUCT, "LINESEC_PRODUCT"},
	{IMG_TLV_LSEC_BUILD, "LINESEC_BUILD"},
};

const char *lsec_image__tlv_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(tlv_names) / sizeof(tlv_names[0]); i++) {
		if (tlv_names[i].type == type) {
			return tlv_names[i].name;
		}
	}
	return NULL;
}

const char *lsec_image_build_name(lsec_image_build b)
{
	switch (b) {
	case LSEC_IMAGE_BUILD_RELEASE:
		return "release";
	case LSEC_IMAGE_BUILD_DEBUG:
		return "debug";
	default:
		return "unknown";
	}
}

bool lsec_image_build_parse(lsec_image_build *out, const char *name, size_t len)
{
	static const lsec_image_build all[] = {LSEC_IMAGE_BUILD_UNKNOWN, LSEC_IMAGE_BUILD_RELEASE,
					       LSEC_IMAGE_BUILD_DEBUG};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = lsec_image_build_name(all[i]);
		if (strlen(n) == len && memcmp(n, name, len) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

bool lsec_image__product_valid(const uint8_t *p, size_t len)
{
	if (len == 0 || len > IMG_PRODUCT_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

/*
 * Walks the TLV entries of one area [start, end) of d. With out == NULL it
 * only counts them into *n; otherwise it also fills out[*n...]. Fails with
 * LSEC_E_IMG_BAD_TLV when an entry's header or value crosses the area's end.
 */
static int walk_area(img_tlv *out, size_t *n, const uint8_t *d, size_t start, size_t end, bool prot,
		     const char *name, lsec_err *err)
{
	int rc = 0;
	lsec_reader r;
	lsec_reader_init(&r, d + start, end - start);
	while (lsec_reader_left(&r) > 0) {
		size_t at = start + r.off;
		uint16_t type = 0, len = 0;
		const uint8_t *val = NULL;
		LSEC_ENSURE(lsec_reader_u16le(&r, &type) && lsec_reader_u16le(&r, &len),
			    LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': %s TLV entry at offset %zu crosses the end of "
			    "its area (%zu bytes left, 4 needed)",
			    name, prot ? "protected" : "unprotected", at, end - at);
		LSEC_ENSURE(lsec_reader_bytes(&r, &val, len), LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': TLV 0x%02x at offset %zu has length %u, past "
			    "the end of its area (%zu bytes left)",
			    name, type, at, len, end - at - IMG_TLV_HDR_SIZE);
		if (out != NULL) {
			out[*n] = (img_tlv){type, len, prot, (size_t)(val - d)};
		}
		(*n)++;
	}
out:
	return rc;
}

/* Reads a TLV info header at off; checks its magic and that its size fits. */
static int read_info(uint16_t *tot, const uint8_t *d, size_t len, size_t off, uint16_t magic,
		     const char *name, lsec_err *err)
{
	int rc = 0;
	const char *area = magic == IMG_TLV_PROT_INFO_MAGIC ? "protected" : "unprotected";
	*tot = 0;
	LSEC_ENSURE(off <= len && len - off >= IMG_TLV_INFO_SIZE, LSEC_E_IMG_TRUNCATED,
		    "cannot parse image '%s': file ends at %zu bytes, before the %s TLV area at "
		    "offset %zu",
		    name, len, area, off);
	uint16_t m = lsec_get_u16le(d + off);
	LSEC_ENSURE(m == magic, LSEC_E_IMG_BAD_TLV,
		    "cannot parse image '%s': %s TLV area at offset %zu has magic 0x%04x, expected "
		    "0x%04x",
		    name, area, off, m, magic);
	*tot = lsec_get_u16le(d + off + 2);
	LSEC_ENSURE(*tot >= IMG_TLV_INFO_SIZE, LSEC_E_IMG_BAD_TLV,
		    "cannot parse image '%s': %s TLV area size %u is smaller than its 4-byte header",
		    name, area, *tot);
	LSEC_ENSURE(len - off >= *tot, LSEC_E_IMG_TRUNCATED,
		    "cannot parse image '%s': %s TLV area at offset %zu needs %u bytes, file has %zu",
		    name, area, off, *tot, len - off);
out:
	return rc;
}

/* Fails with LSEC_E_IMG_BAD_TLV when the TLV is not what its type requires. */
static int check_tlv(lsec_image *img, const img_tlv *t, lsec_err *err)
{
	int rc = 0;
	const uint8_t *v = img->data + t->off;
	const char *tname = lsec_image__tlv_name(t->type);
	const img_tlv **slot = NULL;
	bool want_prot = false;

	switch (t->type) {
	case IMG_TLV_SHA256:
		LSEC_ENSURE(t->len == 32, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': SHA256 TLV has length %u, expected 32",
			    img->name, t->len);
		slot = &img->sha256;
		break;
	case IMG_TLV_KEYHASH:
		/* SHA-256, or SHA-384/512 in images hashed that way (verify refuses those). */
		LSEC_ENSURE(t->len == 32 || t->len == 48 || t->len == 64, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': KEYHASH TLV has length %u, expected 32 (or 48, 64)",
			    img->name, t->len);
		LSEC_ENSURE(img->pubkey == NULL, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': both KEYHASH and PUBKEY TLVs present", img->name);
		slot = &img->keyhash;
		break;
	case IMG_TLV_PUBKEY:
		LSEC_ENSURE(t->len > 0, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': PUBKEY TLV is empty", img->name);
		LSEC_ENSURE(img->keyhash == NULL, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': both KEYHASH and PUBKEY TLVs present", img->name);
		slot = &img->pubkey;
		break;
	case IMG_TLV_ECDSA_SIG:
	case IMG_TLV_ED25519:
		LSEC_ENSURE(t->type != IMG_TLV_ED25519 || t->len == 64, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': ED25519 TLV has length %u, expected 64",
			    img->name, t->len);
		LSEC_ENSURE(t->type != IMG_TLV_ECDSA_SIG || (t->len >= 8 && t->len <= 72),
			    LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': ECDSASIG TLV has length %u, expected 8 to 72",
			    img->name, t->len);
		slot = &img->sig;
		break;
	case IMG_TLV_SEC_CNT:
		LSEC_ENSURE(t->len == 4, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': SEC_CNT TLV has length %u, expected 4",
			    img->name, t->len);
		want_prot = true;
		slot = &img->sec_cnt;
		img->security_counter = lsec_get_u32le(v);
		break;
	case IMG_TLV_LSEC_PRODUCT:
		LSEC_ENSURE(lsec_image__product_valid(v, t->len), LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': product TLV (0x%02x) must be 1 to %u printable "
			    "characters",
			    img->name, t->type, IMG_PRODUCT_MAX);
		LSEC_ENSURE(!img->has_product, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': more than one product TLV (0x%02x)", img->name,
			    t->type);
		LSEC_ENSURE(t->prot, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': product TLV (0x%02x) outside the protected area",
			    img->name, t->type);
		memcpy(img->product, v, t->len);
		img->product[t->len] = 0;
		img->has_product = true;
		break;
	case IMG_TLV_LSEC_BUILD:
		LSEC_ENSURE(t->len == 1 && (v[0] == LSEC_IMAGE_BUILD_RELEASE ||
					    v[0] == LSEC_IMAGE_BUILD_DEBUG),
			    LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': build TLV (0x%02x) must be one byte, 1 (release) "
			    "or 2 (debug)",
			    img->name, t->type);
		LSEC_ENSURE(img->build == LSEC_IMAGE_BUILD_UNKNOWN, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': more than one build TLV (0x%02x)", img->name,
			    t->type);
		LSEC_ENSURE(t->prot, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': build TLV (0x%02x) outside the protected area",
			    img->name, t->type);
		img->build = (lsec_image_build)v[0];
		break;
	case IMG_TLV_SIG_PURE:
		img->sig_pure = true;
		break;
	default:
		/* Other TLVs (dependencies, boot record, ...) are kept and listed. */
		break;
	}
	if (slot != NULL) {
		LSEC_ENSURE(*slot == NULL, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': more than one %s TLV%s", img->name, tname,
			    t->type == IMG_TLV_ECDSA_SIG || t->type == IMG_TLV_ED25519
				    ? " (one signature per image)"
				    : "");
		/* The hash, key and signature sit outside the hashed region; the
		 * counter must sit inside it or anyone could change it. */
		LSEC_ENSURE(t->prot == want_prot, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': %s TLV in the %s area, expected in the %s area",
			    img->name, tname, t->prot ? "protected" : "unprotected",
			    want_prot ? "protected" : "unprotected");
		*slot = t;
	}
out:
	return rc;
}

int lsec_image_parse(lsec_image **out, const uint8_t *data, size_t len, const char *name,
		     lsec_err *err)
{
	int rc = 0;
	lsec_image *img = NULL;
	lsec_reader r;
	uint32_t magic = 0;
	uint16_t ptot = 0, utot = 0;
	size_t n = 0;

	*out = NULL;
	if (name == NULL) {
		name = "image";
	}
	LSEC_ENSURE(data != NULL || len == 0, LSEC_E_USAGE, "cannot parse image '%s': no data", name);
	LSEC_ENSURE(len >= LSEC_IMAGE_HEADER_SIZE, LSEC_E_IMG_TRUNCATED,
		    "cannot parse image '%s': %zu bytes, shorter than the 32-byte header", name, len);
	img = lsec_calloc(1, sizeof(*img));
	LSEC_ENSURE(img != NULL, LSEC_E_NOMEM, "cannot parse image '%s': out of memory", name);
	img->name = lsec_strdup(name);
	LSEC_ENSURE(img->name != NULL, LSEC_E_NOMEM, "cannot parse image '%s': out of memory", name);

	lsec_reader_init(&r, data, len);
	/* 32 bytes are there: these reads cannot fail. */
	(void)(lsec_reader_u32le(&r, &magic) && lsec_reader_u32le(&r, &img->load_addr) &&
	       lsec_reader_u16le(&r, &img->hdr_size) &&
	       lsec_reader_u16le(&r, &img->protect_tlv_size) &&
	       lsec_reader_u32le(&r, &img->img_size) && lsec_reader_u32le(&r, &img->flags) &&
	       lsec_reader_u8(&r, &img->version.major) && lsec_reader_u8(&r, &img->version.minor) &&
	       lsec_reader_u16le(&r, &img->version.revision) &&
	       lsec_reader_u32le(&r, &img->version.build));
	LSEC_ENSURE(magic == LSEC_IMAGE_MAGIC, LSEC_E_IMG_BAD_MAGIC,
		    "cannot parse image '%s': header magic 0x%08x, expected 0x%08x (MCUboot image)",
		    name, magic, LSEC_IMAGE_MAGIC);
	LSEC_ENSURE(img->hdr_size >= LSEC_IMAGE_HEADER_SIZE, LSEC_E_IMG_BAD_SIZE,
		    "cannot parse image '%s': header size %u is smaller than 32", name, img->hdr_size);
	LSEC_ENSURE(img->protect_tlv_size == 0 || img->protect_tlv_size >= IMG_TLV_INFO_SIZE,
		    LSEC_E_IMG_BAD_SIZE,
		    "cannot parse image '%s': protected TLV size %u is smaller than its 4-byte header",
		    name, img->protect_tlv_size);

	uint64_t payload_end = (uint64_t)img->hdr_size + img->img_size;
	uint64_t prot_end = payload_end + img->protect_tlv_size;
	LSEC_ENSURE(prot_end + IMG_TLV_INFO_SIZE <= UINT32_MAX, LSEC_E_IMG_BAD_SIZE,
		    "cannot parse image '%s': header size %u + image size %u + protected TLV size %u "
		    "overflows 32 bits",
		    name, img->hdr_size, img->img_size, img->protect_tlv_size);
	LSEC_ENSURE(payload_end <= len, LSEC_E_IMG_TRUNCATED,
		    "cannot parse image '%s': payload ends at offset %llu, file has %zu bytes", name,
		    (unsigned long long)payload_end, len);

	if (img->protect_tlv_size != 0) {
		LSEC_TRY(read_info(&ptot, data, len, (size_t)payload_end, IMG_TLV_PROT_INFO_MAGIC, name,
				   err));
		LSEC_ENSURE(ptot == img->protect_tlv_size, LSEC_E_IMG_BAD_TLV,
			    "cannot parse image '%s': protected TLV area says %u bytes, header says %u",
			    name, ptot, img->protect_tlv_size);
	}
	img->prot_end = (size_t)prot_end;
	LSEC_TRY(read_info(&utot, data, len, img->prot_end, IMG_TLV_INFO_MAGIC, name, err));
	img->len = img->prot_end + utot;

	/* Count, then collect, the entries of both areas. */
	size_t pstart = (size_t)payload_end + IMG_TLV_INFO_SIZE;
	size_t ustart = img->prot_end + IMG_TLV_INFO_SIZE;
	if (ptot != 0) {
		LSEC_TRY(walk_area(NULL, &n, data, pstart, img->prot_end, true, name, err));
	}
	LSEC_TRY(walk_area(NULL, &n, data, ustart, img->len, false, name, err));
	img->data = lsec_malloc(img->len);
	img->tlvs = lsec_calloc(n ? n : 1, sizeof(img_tlv));
	LSEC_ENSURE(img->data != NULL && img->tlvs != NULL, LSEC_E_NOMEM,
		    "cannot parse image '%s': out of memory", name);
	memcpy(img->data, data, img->len);
	if (ptot != 0) {
		LSEC_TRY(walk_area(img->tlvs, &img->ntlvs, img->data, pstart, img->prot_end, true,
				   name, err));
	}
	LSEC_TRY(walk_area(img->tlvs, &img->ntlvs, img->data, ustart, img->len, false, name, err));
	for (size_t i = 0; i < img->ntlvs; i++) {
		LSEC_TRY(check_tlv(img, &img->tlvs[i], err));
	}
	*out = img;
	img = NULL;
out:
	lsec_image_free(img);
	return rc;
}

void lsec_image_free(lsec_image *img)
{
	if (img == NULL) {
		return;
	}
	lsec_free(img->data);
	lsec_free(img->tlvs);
	lsec_free(img->name);
	lsec_free(img);
}

lsec_image_version lsec_image_get_version(const lsec_image *img)
{
	return img->version;
}

uint32_t lsec_image_load_addr(const lsec_image *img)
{
	return img->load_addr;
}

const char *lsec_image_product(const lsec_image *img)
{
	return img->has_product ? img->product : NULL;
}

lsec_image_build lsec_image_build_type(const lsec_image *img)
{
	return img->build;
}

bool lsec_image_security_counter(uint32_t *out, const lsec_image *img)
{
	*out = img->sec_cnt != NULL ? img->security_counter : 0;
	return img->sec_cnt != NULL;
}

bool lsec_image_digest(uint8_t out[32], const lsec_image *img)
{
	if (img->sha256 == NULL) {
		memset(out, 0, 32);
		return false;
	}
	memcpy(out, img->data + img->sha256->off, 32);
	return true;
}

bool lsec_image_key_hash(uint8_t out[32], const lsec_image *img)
{
	memset(out, 0, 32);
	if (img->keyhash != NULL) {
		if (img->keyhash->len != 32) {
			return false; /* not a SHA-256 key hash */
		}
		memcpy(out, img->data + img->keyhash->off, 32);
		return true;
	}
	if (img->pubkey != NULL) {
		lsec_err e = LSEC_ERR_INIT;
		return lsec_sha256(out, img->data + img->pubkey->off, img->pubkey->len, &e) == 0;
	}
	return false;
}

const uint8_t *lsec_image_bytes(const lsec_image *img, size_t *len)
{
	*len = img->len;
	return img->data;
}

const uint8_t *lsec_image_payload(const lsec_image *img, size_t *len)
{
	*len = img->img_size;
	return img->data + img->hdr_size;
}

uint16_t lsec_image_header_size(const lsec_image *img)
{
	return img->hdr_size;
}
