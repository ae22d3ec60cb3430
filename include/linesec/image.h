/*
 * linesec/image.h - MCUboot-compatible firmware images: sign, parse, verify.
 *
 * Format (MCUboot docs/design.md, bootutil/image.h): a 32-byte little-endian
 * header (magic 0x96f3b83d, load_addr, hdr_size, protect_tlv_size, img_size,
 * flags, version major.minor.revision+build, pad), the payload at hdr_size,
 * then the protected TLV area (info magic 0x6908) and the unprotected one
 * (0x6907). TLV 0x10 is SHA-256 over header + payload + protected TLVs;
 * 0x01 the SHA-256 of the signer's DER SubjectPublicKeyInfo (or 0x02 the
 * SPKI itself); 0x22 an ECDSA P-256 signature (DER) or 0x24 Ed25519 over
 * that hash. Security counter: protected TLV 0x50. linesec's own protected
 * TLVs (docs/image-format.md) carry the product id and the build type.
 *
 * Invariants: an lsec_image owns a copy of the bytes it was parsed from;
 * parsing trusts no size field and never reads past the buffer; every
 * rejection has its own code below, so the CLI gives each its own status.
 *
 * Idiom:
 *     lsec_image *img = NULL;
 *     lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
 *     vo.pubkey_der = spki; vo.pubkey_der_len = spki_len;
 *     vo.product = "acme-sensor"; vo.require_release = true;
 *     LSEC_TRY(lsec_image_parse(&img, data, len, "fw.img", err));
 *     LSEC_TRY(lsec_image_verify(img, &vo, err));
 *     ...
 *     lsec_image_free(img);
 */
#ifndef LINESEC_IMAGE_H
#define LINESEC_IMAGE_H

#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rejections, each with its own exit status (20 + offset from -100). */
enum {
	LSEC_E_IMG_TRUNCATED = -100,   /* file shorter than its header says */
	LSEC_E_IMG_BAD_MAGIC = -101,   /* not an MCUboot image */
	LSEC_E_IMG_BAD_SIZE = -102,    /* header sizes out of bounds or overflowing */
	LSEC_E_IMG_BAD_TLV = -103,     /* malformed TLV area */
	LSEC_E_IMG_UNSUPPORTED = -104, /* encrypted, compressed or "pure"-signed: not checkable */
	LSEC_E_IMG_HASH = -120,        /* SHA-256 TLV does not match the contents */
	LSEC_E_IMG_KEY_MISMATCH = -121, /* key hash/key TLV is not the given key */
	LSEC_E_IMG_BAD_SIGNATURE = -122, /* signature does not verify */
	LSEC_E_IMG_UNSIGNED = -130,    /* no signature TLV */
	LSEC_E_IMG_WRONG_PRODUCT = -131, /* product TLV missing or not the expected one */
	LSEC_E_IMG_DEBUG_BUILD = -132, /* not declared a release build */
	LSEC_E_IMG_COUNTER = -133,     /* security counter below the minimum */
};

#define LSEC_IMAGE_MAGIC 0x96f3b83du
#define LSEC_IMAGE_HEADER_SIZE 32u

typedef enum lsec_image_build {
	LSEC_IMAGE_BUILD_UNKNOWN = 0,
	LSEC_IMAGE_BUILD_RELEASE = 1,
	LSEC_IMAGE_BUILD_DEBUG = 2,
} lsec_image_build;

typedef struct lsec_image_version {
	uint8_t major;
	uint8_t minor;
	uint16_t revision;
	uint32_t build;
} lsec_image_version;

typedef struct lsec_image lsec_image;
struct lsec_key; /* linesec/pki.h */

/*
 * Parses and structurally checks an image: header, sizes, both TLV areas
 * and the TLV rules of docs/image-format.md (no duplicates, lengths, the
 * product, build and counter TLVs only in the protected area). Copies the
 * bytes from the header through the last TLV; bytes after that (slot
 * padding, trailer) are ignored. name labels error messages (usually the
 * file name). *out belongs to the caller: lsec_image_free.
 * Fails with LSEC_E_IMG_TRUNCATED, _BAD_MAGIC, _BAD_SIZE, _BAD_TLV,
 * LSEC_E_NOMEM; *out is NULL then.
 */
LSEC_API LSEC_MUST_USE int lsec_image_parse(lsec_image **out, const uint8_t *data, size_t len,
					    const char *name, lsec_err *err);
LSEC_API void lsec_image_free(lsec_image *img);

typedef struct lsec_image_verify_options {
	unsigned version;
	/* The signer: DER SubjectPublicKeyInfo, or NULL to use key_hash. */
	const uint8_t *pubkey_der;
	size_t pubkey_der_len;
	/*
	 * Alternative to pubkey_der (a boot ROM holding only a fused key
	 * digest): the image must then embed its public key (TLV 0x02) and
	 * that key's SHA-256 must equal key_hash.
	 */
	const uint8_t *key_hash; /* 32 bytes, or NULL */
	const char *product;     /* required product id, or NULL for any */
	bool require_release;    /* refuse debug or undeclared builds */
	bool check_min_counter;
	uint32_t min_counter;
	/*
	 * The signer as a loaded key (borrowed), instead of pubkey_der: saves
	 * decoding the DER key on every verification (a station verifying
	 * many images). Takes precedence over pubkey_der and key_hash.
	 */
	const struct lsec_key *key;
} lsec_image_verify_options;

#define LSEC_IMAGE_VERIFY_OPTIONS_VERSION 1
#define LSEC_IMAGE_VERIFY_OPTIONS_INIT {LSEC_IMAGE_VERIFY_OPTIONS_VERSION, NULL, 0, NULL, NULL, false, false, 0, NULL}

/*
 * Runs every check: hash, key, signature, then product, build type and
 * counter as the options ask. 0 only if all pass; otherwise the first
 * failure's code (order: unsupported, hash, unsigned, key, signature,
 * product, build, counter). A missing SHA256 TLV is LSEC_E_IMG_HASH; a signature TLV of
 * the other key type, a missing or foreign key hash is
 * LSEC_E_IMG_KEY_MISMATCH; check_min_counter with no SEC_CNT TLV is
 * LSEC_E_IMG_COUNTER. An encrypted or compressed payload, or a "pure"
 * signature (TLV 0x25), is LSEC_E_IMG_UNSUPPORTED: its hash and signature
 * do not cover the bytes as stored. LSEC_E_USAGE when no key is given.
 */
LSEC_API LSEC_MUST_USE int lsec_image_verify(const lsec_image *img,
					     const lsec_image_verify_options *opts, lsec_err *err);

/* Accessors; borrowed values live as long as img. */
LSEC_API lsec_image_version lsec_image_get_version(const lsec_image *img);
LSEC_API uint32_t lsec_image_load_addr(const lsec_image *img);
LSEC_API const char *lsec_image_product(const lsec_image *img);       /* NULL if absent */
LSEC_API lsec_image_build lsec_image_build_type(const lsec_image *img);
/* "release", "debug" or "unknown" (static string). */
LSEC_API const char *lsec_image_build_name(lsec_image_build b);
/* The build type lsec_image_build_name gives the len bytes of name (not
 * NUL-terminated); false for any other word. */
LSEC_API bool lsec_image_build_parse(lsec_image_build *out, const char *name, size_t len);
LSEC_API bool lsec_image_security_counter(uint32_t *out, const lsec_image *img);
/* The SHA-256 TLV value (the image digest a boot stage measures); false if absent. */
LSEC_API bool lsec_image_digest(uint8_t out[32], const lsec_image *img);
/* SHA-256 of the signing key's SPKI (from TLV 0x01, or computed from 0x02);
 * false when absent or when the KEYHASH TLV is not a SHA-256. */
LSEC_API bool lsec_image_key_hash(uint8_t out[32], const lsec_image *img);
/* The whole image as parsed (header through the last TLV). */
LSEC_API const uint8_t *lsec_image_bytes(const lsec_image *img, size_t *len);
/* The payload (img_size bytes at hdr_size), borrowed. */
LSEC_API const uint8_t *lsec_image_payload(const lsec_image *img, size_t *len);
LSEC_API uint16_t lsec_image_header_size(const lsec_image *img);
/* Formats "1.2.3+4" into out; LSEC_E_LIMIT if outlen is too small (24 is enough). */
LSEC_API LSEC_MUST_USE int lsec_image_version_format(char *out, size_t outlen,
						     lsec_image_version v);
/* One TLV as lsec_image_describe shows it. */
typedef struct lsec_image_tlv_info {
	bool prot;          /* in the protected area (covered by the hash) */
	uint16_t type;
	const char *name;   /* MCUboot's or linesec's name (static), NULL when unknown */
	uint16_t len;
	size_t offset;      /* of the value, from the start of the image */
	char *value_hex;    /* the value in lowercase hex (owned by the description) */
	/* The value decoded where linesec knows it: the product id or the build
	 * type as text (borrowed from the description), the security counter as
	 * a number; neither for other TLVs. */
	const char *decoded_text;
	bool has_decoded_number;
	uint32_t decoded_number;
} lsec_image_tlv_info;

/* Everything lsec_image_describe reports about an image. */
typedef struct lsec_image_description {
	/* The header. */
	uint32_t magic;
	uint32_t load_addr;
	uint16_t hdr_size;
	uint16_t protect_tlv_size;
	uint32_t img_size;
	uint32_t flags;
	/* The names of the set IMAGE_F_* flags, unknown bits last as "0x...". */
	char flag_names[16][24];
	size_t nflag_names;
	lsec_image_version version;
	char version_text[32]; /* "1.2.3+4" */
	/* Every TLV, in the order of the image. */
	lsec_image_tlv_info *tlvs;
	size_t ntlvs;
	/* SHA-256 over header, payload and protected TLVs, against the SHA256 TLV. */
	char hash_computed[65];
	char hash_tlv[65];       /* "" without a SHA256 TLV */
	const char *hash_status; /* "ok", "mismatch" or "missing" (static) */
	size_t size;             /* of the image as parsed */
	char product[65];        /* "" without a product TLV */
	const char *build;       /* lsec_image_build_name (static) */
	bool has_security_counter;
	uint32_t security_counter;
	char key_hash[65];     /* SHA-256 of the signer's SPKI in hex, "" when unknown */
	const char *signature; /* the signature TLV's name (static), NULL if unsigned */
} lsec_image_description;

/*
 * Every header field (with the names of the set flags), every TLV (area,
 * type, name, length, offset, hex value, decoded value where linesec
 * knows it) and the hash status; no key material beyond public keys.
 * *out belongs to the caller (lsec_image_description_free) and does not
 * borrow from img. Fails with LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_image_describe(lsec_image_description **out,
					       const lsec_image *img, lsec_err *err);
LSEC_API void lsec_image_description_free(lsec_image_description *d);
/*
 * The description as a JSON object (*out: json_decref): header {magic,
 * load_addr, hdr_size, protect_tlv_size, img_size, flags, flag_names,
 * version}, tlvs [{area, type, name (null when unknown), length, offset,
 * value, decoded where known}], hash {computed, tlv (null when missing),
 * status}, size, and product, build, security_counter, key_hash, signature
 * (null when absent). Fails with LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_image_description_json(struct json_t **out,
						       const lsec_image_description *d,
						       lsec_err *err);

typedef struct lsec_image_sign_options {
	unsigned version;
	const struct lsec_key *key; /* ECDSA P-256 or Ed25519 private key */
	const char *product;
	lsec_image_build build;
	lsec_image_version image_version;
	uint32_t load_addr;
	uint16_t header_size;       /* >= 32; payload starts here (0 means 32) */
	bool has_security_counter;
	uint32_t security_counter;
	bool embed_pubkey;          /* TLV 0x02 (full SPKI) instead of 0x01 (its hash) */
} lsec_image_sign_options;

#define LSEC_IMAGE_SIGN_OPTIONS_VERSION 1
#define LSEC_IMAGE_SIGN_OPTIONS_INIT {LSEC_IMAGE_SIGN_OPTIONS_VERSION, NULL, NULL, LSEC_IMAGE_BUILD_RELEASE, {0, 0, 0, 0}, 0, 0, false, 0, false}

/*
 * Builds a signed image from a raw payload into out (which must be empty),
 * exactly as imgtool lays it out (docs/image-format.md). On failure out is
 * left empty. Fails with LSEC_E_USAGE (bad options), LSEC_E_LIMIT (too big
 * for 32-bit offsets or out->max), LSEC_E_CRYPTO, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_image_sign(lsec_buf *out, const uint8_t *payload, size_t len,
					   const lsec_image_sign_options *opts, lsec_err *err);

/*
 * Parses "1.2.3+4" (minor, revision and build optional; each field within
 * the header's width). Fails with LSEC_E_USAGE.
 */
LSEC_API LSEC_MUST_USE int lsec_image_version_parse(lsec_image_version *out, const char *s,
						    lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
