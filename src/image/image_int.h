/*
 * image_int.h - internals of the image module (MCUboot image format).
 * Nothing outside src/image includes this file.
 */
#ifndef LINESEC_IMAGE_INT_H
#define LINESEC_IMAGE_INT_H

#include "linesec/image.h"

/* TLV info headers (bootutil/image.h: IMAGE_TLV_INFO_MAGIC, IMAGE_TLV_PROT_INFO_MAGIC). */
#define IMG_TLV_INFO_MAGIC 0x6907u
#define IMG_TLV_PROT_INFO_MAGIC 0x6908u
#define IMG_TLV_INFO_SIZE 4u
#define IMG_TLV_HDR_SIZE 4u

/* TLV types used by linesec (MCUboot's numbers; vendor types 0xa0.. are ours). */
#define IMG_TLV_KEYHASH 0x01u
#define IMG_TLV_PUBKEY 0x02u
#define IMG_TLV_SHA256 0x10u
#define IMG_TLV_ECDSA_SIG 0x22u
#define IMG_TLV_ED25519 0x24u
#define IMG_TLV_SEC_CNT 0x50u
#define IMG_TLV_LSEC_PRODUCT 0xa0u
#define IMG_TLV_LSEC_BUILD 0xa1u

/* Header flags (bootutil/image.h IMAGE_F_*). */
#define IMG_F_RAM_LOAD 0x20u
/* Payload transforms linesec cannot check: ENCRYPTED_AES128/256, COMPRESSED_LZMA1/2. */
#define IMG_F_UNSUPPORTED (0x04u | 0x08u | 0x200u | 0x400u)
#define IMG_TLV_SIG_PURE 0x25u

/* A product id is 1..64 printable ASCII bytes (no spaces). */
#define IMG_PRODUCT_MAX 64u

/* One TLV entry: where its value lies in the image bytes. */
typedef struct img_tlv {
	uint16_t type;
	uint16_t len;
	bool prot;  /* in the protected area (covered by the hash) */
	size_t off; /* offset of the value within img->data */
} img_tlv;

struct lsec_image {
	uint8_t *data; /* header through the last TLV (len bytes), owned */
	size_t len;
	char *name; /* label for messages, owned */

	uint32_t load_addr;
	uint16_t hdr_size;
	uint16_t protect_tlv_size;
	uint32_t img_size;
	uint32_t flags;
	lsec_image_version version;

	size_t prot_end; /* end of the hashed region: header + payload + protected TLVs */

	img_tlv *tlvs;
	size_t ntlvs;

	/* Decoded from TLVs (NULL / false when absent). */
	const img_tlv *sha256;
	const img_tlv *keyhash;
	const img_tlv *pubkey;
	const img_tlv *sig; /* 0x22 or 0x24 */
	const img_tlv *sec_cnt;
	bool sig_pure; /* a SIG_PURE TLV is present */
	char product[IMG_PRODUCT_MAX + 1];
	bool has_product;
	lsec_image_build build;
	uint32_t security_counter;
};

/* Name of a TLV type ("SHA256", "linesec-product", ...) or NULL if unknown. */
const char *lsec_image__tlv_name(uint16_t type);
/*
 * Checks a product id: 1..64 printable ASCII characters, no space.
 * Returns false otherwise.
 */
bool lsec_image__product_valid(const uint8_t *p, size_t len);

#endif
