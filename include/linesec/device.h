/*
 * linesec/device.h - the device interface: one table of operations that
 * every backend (the built-in simulated MCU "sim:PATH", a GDB remote serial
 * protocol probe "rsp:HOST:PORT", ...) implements.
 *
 * Invariants:
 *  - A session (lsec_device) talks to one device. Every operation goes
 *    through the backend's operations table; an operation a backend does
 *    not implement fails with LSEC_E_TGT_UNSUPPORTED (the generic layer
 *    supplies a fallback where one exists: flash hash by read-back).
 *  - A session that fails (power loss, link or I/O failure) stays failed:
 *    every later call returns LSEC_E_TGT_FAILED until lsec_device_reset()
 *    power-cycles the device and re-reads its state. Refusals (a locked OTP
 *    word, a locked debug port, a refused boot) leave the device in a known
 *    state and do not fail the session.
 *  - Flash, keystore and OTP writes need an attached debug session
 *    (lsec_device_debug_attach). Information, OTP reads, the debug lock
 *    level, key slot status, signing a challenge with a slot key (the
 *    device's identity service, which a locked unit still offers), reset
 *    and authenticated erase do not.
 *  - OTP bits only go from 0 to 1. The named fuses the SOPs use are
 *    located through the device's OTP layout (lsec_device_info.fuses), so
 *    the SOP code never hard-codes word numbers.
 *  - Keys generated in a slot never leave the device: no operation returns
 *    private key material.
 *
 * Idiom:
 *     lsec_device *t = NULL;
 *     lsec_device_boot_report br;
 *     LSEC_TRY(lsec_device_open(&t, "sim:units/unit-001.sim", err));
 *     LSEC_TRY(lsec_device_debug_attach(t, err));
 *     LSEC_TRY(lsec_device_flash_erase(t, 0, img_len, err));
 *     LSEC_TRY(lsec_device_flash_write(t, 0, img, img_len, err));
 *     LSEC_TRY(lsec_device_reset(&br, t, err));
 *     ...
 *     lsec_device_close(t);
 */
#ifndef LINESEC_DEVICE_H
#define LINESEC_DEVICE_H

#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Target failures (-150..-199). The offset from -150 gives the category:
 * 0-19 parse, 20-29 crypto, 30-39 policy, 40-49 state.
 */
enum {
	LSEC_E_TGT_BAD_URI = -150,       /* device URI or fault option malformed */
	LSEC_E_TGT_BAD_STATE = -151,     /* sim state file corrupt or of an unknown version */
	LSEC_E_TGT_RANGE = -152,         /* address, length, OTP word or key slot out of range */
	LSEC_E_TGT_PROTOCOL = -153,      /* the debug server's reply breaks the protocol (permanent) */
	LSEC_E_TGT_AUTH_TOKEN = -170,    /* authenticated-erase token does not verify */
	LSEC_E_TGT_VERIFY = -171,        /* flash read-back digest differs from what was written */
	LSEC_E_TGT_ATTACH_REFUSED = -180, /* debug port locked: attach refused */
	LSEC_E_TGT_OTP_LOCKED = -181,    /* OTP word write-locked: the write was ignored */
	LSEC_E_TGT_OTP_CLEAR = -182,     /* the write would clear OTP bits (impossible) */
	LSEC_E_TGT_BOOT_REFUSED = -183,  /* the boot stage refused to boot (see boot report) */
	LSEC_E_TGT_DUPLICATE_UID = -184, /* the UID is already held by another unit (cloned chip) */
	LSEC_E_TGT_UNSUPPORTED = -185,   /* the device lacks this capability */
	LSEC_E_TGT_WRONG_CHIP = -186,    /* chip family or revision is not the product's */
	LSEC_E_TGT_POWER_LOSS = -190,    /* power lost mid-operation: partial state kept */
	LSEC_E_TGT_FAILED = -191,        /* the session failed earlier; reset the device */
	LSEC_E_TGT_NOT_ATTACHED = -192,  /* the operation needs an attached debug session */
	LSEC_E_TGT_ATTACH_FAILED = -193, /* attach failed (link fault); may succeed on retry */
	LSEC_E_TGT_SLOT_EMPTY = -194,    /* no key in this slot */
	LSEC_E_TGT_SLOT_FULL = -195,     /* the slot already holds a key */
	LSEC_E_TGT_NOT_BLANK = -196,     /* blank check: flash or a key slot still holds data */
	LSEC_E_TGT_LINK = -197,          /* link to the debug server lost or refused (transient) */
	LSEC_E_TGT_TIMEOUT = -198,       /* the debug server did not answer in time (transient) */
};

#define LSEC_DEVICE_UID_LEN 16u
#define LSEC_DEVICE_DIGEST_LEN 32u

/* Capabilities (lsec_device_info.caps). */
enum lsec_device_caps {
	LSEC_DEVICE_CAP_KEYGEN = 1u << 0,     /* key pairs generated on the device */
	LSEC_DEVICE_CAP_KEY_INJECT = 1u << 1, /* a private key can be written into a slot */
	LSEC_DEVICE_CAP_AUTH_ERASE = 1u << 2, /* authenticated erase of a locked device */
	LSEC_DEVICE_CAP_FLASH_HASH = 1u << 3, /* SHA-256 of flash computed on the device */
};

/* The named fuses the SOPs use. */
typedef enum lsec_device_fuse {
	LSEC_FUSE_SECURE_BOOT_KEY_DIGEST = 0, /* 32 bytes: SHA-256 of the boot key's SPKI */
	LSEC_FUSE_SECURE_BOOT_ENABLE,         /* flag; nothing clears it */
	LSEC_FUSE_ANTI_ROLLBACK,              /* counter (thermometer code) */
	LSEC_FUSE_DEBUG_LOCK,                 /* level: 0 open, 1 locked, 2 locked for good */
	LSEC_FUSE_UART_DISABLE,               /* flag: UART console closed */
	LSEC_FUSE_OTP_LOCK,                   /* flag: secure-boot words write-locked */
	LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST,      /* 32 bytes: SHA-256 of the debug-auth key's SPKI */
	LSEC_FUSE_COUNT
} lsec_device_fuse;

/*
 * Where a named fuse lives: nwords OTP words from word; in each, the bits
 * of mask. The digest uses its words whole (little-endian bytes); every
 * other fuse is a thermometer code over its bits in order: its value is
 * the number of bits set and raising it to N sets the first N bits.
 */
typedef struct lsec_device_fuse_field {
	uint16_t word;
	uint16_t nwords;
	uint32_t mask;
} lsec_device_fuse_field;

typedef struct lsec_device_info {
	char chip_id[32];
	uint8_t uid[LSEC_DEVICE_UID_LEN]; /* unique device id */
	uint32_t flash_size;             /* bytes */
	uint32_t page_size;              /* erase unit, bytes */
	uint32_t otp_words;              /* 32-bit OTP words */
	uint32_t key_slots;
	uint32_t caps;                   /* enum lsec_device_caps */
	lsec_device_fuse_field fuses[LSEC_FUSE_COUNT];
} lsec_device_info;

/* Boot stage error codes (lsec_device_boot_report.boot_error). */
typedef enum lsec_device_boot_error {
	LSEC_BOOT_OK = 0,
	LSEC_BOOT_NO_IMAGE = 1,   /* no image header in flash */
	LSEC_BOOT_BAD_IMAGE = 2,  /* malformed header or TLVs */
	LSEC_BOOT_BAD_HASH = 3,   /* SHA-256 TLV does not match */
	LSEC_BOOT_UNSIGNED = 4,   /* secure boot on, no signature */
	LSEC_BOOT_BAD_KEY = 5,    /* key absent or not the fused digest */
	LSEC_BOOT_BAD_SIGNATURE = 6,
	LSEC_BOOT_ROLLBACK = 7,   /* security counter below the anti-rollback fuse */
	LSEC_BOOT_HW_FAULT = 8,   /* the device failed to start (injected boot failure) */
	LSEC_BOOT_NO_KEY_DIGEST = 9, /* secure boot on with no key digest fused */
} lsec_device_boot_error;

typedef struct lsec_device_boot_report {
	bool booted;
	uint32_t boot_error;                    /* lsec_device_boot_error */
	bool measured;                          /* digest holds the measured image digest */
	uint8_t digest[LSEC_DEVICE_DIGEST_LEN]; /* SHA-256 TLV of the image the boot stage ran */
	uint8_t ver_major, ver_minor;
	uint16_t ver_revision;
	uint32_t ver_build;
	bool secure_boot;                       /* secure boot was enforced */
	bool uart_open;                         /* the UART console is open */
	uint32_t build_type; /* lsec_image_build the boot stage attests (UNKNOWN: none said) */
} lsec_device_boot_report;

typedef enum lsec_device_slot_state {
	LSEC_SLOT_EMPTY = 0,
	LSEC_SLOT_GENERATED = 1, /* generated on the device */
	LSEC_SLOT_INJECTED = 2,  /* written by the station */
} lsec_device_slot_state;

typedef struct lsec_device_slot_status {
	lsec_device_slot_state state;
	bool has_cert;
} lsec_device_slot_status;

typedef struct lsec_device_fuse_value {
	uint32_t value;                        /* flag, counter or level */
	uint8_t bytes[LSEC_DEVICE_DIGEST_LEN]; /* a digest fuse's bytes (lsec_device_fuse_is_digest) */
	bool locked;                           /* every word of the field is write-locked */
} lsec_device_fuse_value;

typedef struct lsec_device lsec_device;

/*
 * Opens a session to the device named by uri: "sim:PATH[?OPTIONS]" for
 * the simulated MCU, "rsp://HOST:PORT?profile=NAME[&timeout=MS]" for a
 * GDB remote serial protocol server (a probe's, QEMU's, `linesec sim
 * serve`) (docs/device.md). *out belongs to the caller, who
 * closes it with lsec_device_close.
 * Fails with LSEC_E_TGT_BAD_URI (unknown scheme, bad option),
 * LSEC_E_TGT_BAD_STATE, LSEC_E_IO, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_device_open(lsec_device **out, const char *uri, lsec_err *err);
/* Ends the session; NULL is a no-op. */
LSEC_API void lsec_device_close(lsec_device *t);
/* The URI the session was opened with (borrowed; lives as long as t). */
LSEC_API const char *lsec_device_uri(const lsec_device *t);
/* True when the session failed and needs lsec_device_reset. */
LSEC_API bool lsec_device_failed(const lsec_device *t);

/* Chip id, UID, sizes, OTP layout and capabilities. */
LSEC_API LSEC_MUST_USE int lsec_device_info_get(lsec_device_info *out, lsec_device *t,
						lsec_err *err);

/*
 * Flash. Erase works in whole pages (addr and len page-aligned) and sets
 * bytes to 0xff; a write programs bits from 1 to 0 (NOR flash: write only
 * erased areas, then read back). Need an attached session.
 * Fail with LSEC_E_TGT_RANGE, _NOT_ATTACHED, _POWER_LOSS, _FAILED, LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_device_flash_erase(lsec_device *t, uint32_t addr, uint32_t len,
						   lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_flash_write(lsec_device *t, uint32_t addr,
						   const uint8_t *data, size_t len, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_flash_read(uint8_t *out, lsec_device *t, uint32_t addr,
						  size_t len, lsec_err *err);
/* SHA-256 of a flash range, on the device where it can (else read back and hashed here). */
LSEC_API LSEC_MUST_USE int lsec_device_flash_hash(uint8_t out[32], lsec_device *t, uint32_t addr,
						  uint32_t len, lsec_err *err);
/*
 * Compares the len bytes of flash at addr with data by SHA-256 (see
 * lsec_device_flash_hash): *same says whether they hold data; have_out
 * (may be NULL) gets the flash's digest of the range. A difference is not
 * an error. Fails as lsec_device_flash_hash, and with LSEC_E_USAGE when
 * len does not fit in 32 bits.
 */
LSEC_API LSEC_MUST_USE int lsec_device_flash_compare(bool *same, uint8_t have_out[32],
						     lsec_device *t, uint32_t addr,
						     const uint8_t *data, size_t len, lsec_err *err);

/*
 * Programs data at addr the way a line does it: erases the pages it covers,
 * writes, then compares the device's SHA-256 of the range with the data's.
 * addr must be page-aligned. Fails as erase and write do, and with
 * LSEC_E_TGT_VERIFY when the read-back digest differs (a bad flash cell).
 */
LSEC_API LSEC_MUST_USE int lsec_device_flash_program(lsec_device *t, uint32_t addr,
						     const uint8_t *data, size_t len, lsec_err *err);

/*
 * Resets the device and reports what its boot stage did. Also the explicit
 * reset of a failed session: the device is power-cycled and its state read
 * again. A debug lock burned since the last reset takes effect here (the
 * session is detached if the port is now locked).
 * Returns 0 when the device booted; LSEC_E_TGT_BOOT_REFUSED (report filled,
 * message naming the boot error) when it did not.
 */
LSEC_API LSEC_MUST_USE int lsec_device_reset(lsec_device_boot_report *out, lsec_device *t,
					     lsec_err *err);
/* Short name of a boot error code ("bad-signature"). */
LSEC_API const char *lsec_device_boot_error_name(uint32_t code);
/*
 * A boot report as JSON (booted, boot_error and its name, digest in hex,
 * version "1.2.3+4", build "release"/"debug"/"unknown", secure_boot, uart_open), for output and audit leaves.
 * *out is freed with json_decref.
 */
struct json_t;
LSEC_API LSEC_MUST_USE int lsec_device_boot_report_describe(struct json_t **out,
							    const lsec_device_boot_report *r,
							    lsec_err *err);

/*
 * OTP. Read n words from word. Burn sets the given bits of one word (bits
 * only go 0 to 1); a locked word ignores the write and the call fails with
 * LSEC_E_TGT_OTP_LOCKED. Write asks for a word to hold exactly value: it
 * fails with LSEC_E_TGT_OTP_CLEAR, changing nothing, when value lacks a bit
 * that is already set. Lock write-locks one word for good. Burn, write and
 * lock need an attached session; a power loss during a burn keeps the bits
 * programmed so far (LSEC_E_TGT_POWER_LOSS).
 */
LSEC_API LSEC_MUST_USE int lsec_device_otp_read(uint32_t *out, lsec_device *t, uint32_t word,
						uint32_t n, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_otp_burn(lsec_device *t, uint32_t word, uint32_t bits,
						lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_otp_write(lsec_device *t, uint32_t word, uint32_t value,
						 lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_otp_lock(lsec_device *t, uint32_t word, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_otp_locked(bool *out, lsec_device *t, uint32_t word,
						  lsec_err *err);

/*
 * Named fuses, through the device's OTP layout. Read fills value (and the
 * digest bytes) and whether the field is locked. Set raises a flag,
 * counter or level to value; a lower value fails with LSEC_E_TGT_OTP_CLEAR
 * and changes nothing. Burn digest programs the 32-byte key digest; bits
 * already set that the digest lacks fail with LSEC_E_TGT_OTP_CLEAR. A
 * locked word anywhere in the field fails with LSEC_E_TGT_OTP_LOCKED
 * before any bit is burned. Lock write-locks every word of the field.
 */
LSEC_API LSEC_MUST_USE int lsec_device_fuse_read(lsec_device_fuse_value *out, lsec_device *t,
						 lsec_device_fuse fuse, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_fuse_set(lsec_device *t, lsec_device_fuse fuse,
						uint32_t value, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_fuse_burn_digest(lsec_device *t, const uint8_t digest[32],
							lsec_err *err);
/* As lsec_device_fuse_burn_digest, into either digest fuse (lsec_device_fuse_is_digest). */
LSEC_API LSEC_MUST_USE int lsec_device_fuse_burn_key_digest(lsec_device *t, lsec_device_fuse fuse,
							    const uint8_t digest[32],
							    lsec_err *err);
/* True for the 32-byte key digest fuses (secure boot, debug authentication). */
LSEC_API bool lsec_device_fuse_is_digest(lsec_device_fuse fuse);
LSEC_API LSEC_MUST_USE int lsec_device_fuse_lock(lsec_device *t, lsec_device_fuse fuse,
						 lsec_err *err);
/* espefuse-style name ("SECURE_BOOT_EN") and description of a fuse. */
LSEC_API const char *lsec_device_fuse_name(lsec_device_fuse fuse);
LSEC_API const char *lsec_device_fuse_description(lsec_device_fuse fuse);

/*
 * Debug port. Attach fails with LSEC_E_TGT_ATTACH_REFUSED when the port is
 * locked (the session is still usable) and with LSEC_E_TGT_ATTACH_FAILED
 * on a link fault (the session fails). Lock level: 0 open, 1 locked
 * (authenticated erase still works), 2 locked for good.
 */
LSEC_API LSEC_MUST_USE int lsec_device_debug_attach(lsec_device *t, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_debug_lock_level(unsigned *out, lsec_device *t,
							lsec_err *err);

/*
 * Keystore (ECDSA P-256). Generate creates a key pair inside the device
 * (LSEC_E_TGT_UNSUPPORTED without LSEC_DEVICE_CAP_KEYGEN; the station then
 * injects a key it generated: PKCS#8 DER in a secret, which the caller
 * wipes). A slot holding a key fails with LSEC_E_TGT_SLOT_FULL; erase
 * frees it. Public gives the DER SubjectPublicKeyInfo into spki (empty).
 * Sign signs SHA-256(challenge) giving a DER ECDSA signature into sig
 * (empty); LSEC_E_TGT_SLOT_EMPTY without a key. The certificate (DER) is
 * stored beside the slot's key; the initial-credential blob is a secret
 * stored once per device and never read back.
 */
LSEC_API LSEC_MUST_USE int lsec_device_key_generate(lsec_device *t, unsigned slot, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_key_inject(lsec_device *t, unsigned slot,
						  const lsec_secret *pkcs8_der, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_key_public(lsec_buf *spki, lsec_device *t, unsigned slot,
						  lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_key_sign(lsec_buf *sig, lsec_device *t, unsigned slot,
						const uint8_t *challenge, size_t len, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_key_status(lsec_device_slot_status *out, lsec_device *t,
						  unsigned slot, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_cert_store(lsec_device *t, unsigned slot,
						  const uint8_t *der, size_t len, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_cert_read(lsec_buf *der, lsec_device *t, unsigned slot,
						 lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_credential_store(lsec_device *t, const lsec_secret *blob,
							lsec_err *err);

/*
 * Erase all wipes flash (to 0xff), every key slot, certificate and the
 * credential; never OTP. It needs an attached session. Authenticated erase
 * does the same on a device whose debug port is locked (level 1), given a
 * token (lsec_device_erase_token) bound to the device's UID and to the
 * challenge the device gave last (lsec_device_erase_challenge): the
 * debug-authentication key digest fused in OTP (never the secure-boot key
 * digest) must match the token's key and its signature over the UID and
 * that challenge must verify (LSEC_E_TGT_AUTH_TOKEN otherwise). A challenge
 * serves one attempt, verified or not, and a reset forgets it, so a token
 * seen once can never erase the device again. The session may then attach
 * until the next reset, to blank-check.
 */
#define LSEC_DEVICE_ERASE_CHALLENGE_LEN 32
LSEC_API LSEC_MUST_USE int lsec_device_erase_all(lsec_device *t, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_erase_challenge(uint8_t out[LSEC_DEVICE_ERASE_CHALLENGE_LEN],
						       lsec_device *t, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_device_erase_authenticated(lsec_device *t, const uint8_t *token,
							   size_t len, lsec_err *err);

/*
 * Blank check after an erase (SOP 5): the whole flash must read 0xff (its
 * device-side SHA-256 equals that of an erased flash) and every key slot
 * must be empty with no certificate. Needs an attached session for the
 * flash hash.
 *
 * @param[out] digest_out  the device's read-back SHA-256 of its whole flash,
 *                         which the check found equal to an erased flash's:
 *                         the evidence of the wipe. Zeroed on entry, so it
 *                         holds all zeros on any failure.
 * @return 0; LSEC_E_TGT_NOT_BLANK naming what still holds data;
 *         LSEC_E_TGT_NOT_ATTACHED without a session; a device error.
 */
LSEC_API LSEC_MUST_USE int lsec_device_blank_check(uint8_t digest_out[32], lsec_device *t,
						   lsec_err *err);

struct evp_pkey_st;
/*
 * Builds an authenticated-erase token for the device with this UID and the
 * challenge it gave, signed by key (ECDSA P-256 or Ed25519: the product's
 * debug-authentication key, whose SPKI digest is fused as
 * DEBUG_AUTH_KEY_DIGEST). Format (docs/device.md): u16le SPKI length, SPKI,
 * signature over "linesec-erase-v2" || UID || challenge (ECDSA-SHA256 DER,
 * or Ed25519's 64 bytes).
 */
LSEC_API LSEC_MUST_USE int
lsec_device_erase_token(lsec_buf *out, const uint8_t uid[16],
			const uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN], struct evp_pkey_st *key,
			lsec_err *err);

/* One key slot as lsec_device_describe shows it. */
typedef struct lsec_device_slot_info {
	lsec_device_slot_status status;
	const char *state_name; /* "empty", "generated" or "injected" (static) */
} lsec_device_slot_info;

/* Everything lsec_device_describe reads from a device. */
typedef struct lsec_device_description {
	char *uri;              /* the session's device URI (owned by the description) */
	lsec_device_info info;  /* chip, UID, sizes, capabilities, fuse layout */
	char uid_hex[2 * LSEC_DEVICE_UID_LEN + 1];
	const char *capabilities[8]; /* names of the set capabilities (static), in bit order */
	size_t ncapabilities;
	/* Every named fuse, by lsec_device_fuse (lsec_device_fuse_name names it). */
	lsec_device_fuse_value fuses[LSEC_FUSE_COUNT];
	unsigned debug_lock_level; /* the level in effect */
	lsec_device_slot_info *slots; /* info.key_slots entries */
} lsec_device_description;

/*
 * Everything readable without an attached session: chip, UID, sizes,
 * capabilities, every named fuse (value, locked), debug lock level, key
 * slot status. *out belongs to the caller (lsec_device_description_free).
 * Fails as lsec_device_info_get, lsec_device_fuse_read and
 * lsec_device_key_status do, and with LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_device_describe(lsec_device_description **out, lsec_device *t,
						lsec_err *err);
LSEC_API void lsec_device_description_free(lsec_device_description *d);
/*
 * The description as a JSON object (*out: json_decref): uri, chip, uid,
 * flash_size, page_size, otp_words, capabilities, fuses {NAME: {value (hex
 * for the key digest), locked, word, words, mask (not for the digest),
 * description}}, debug_lock_level, key_slots [{slot, state, cert}].
 * Fails with LSEC_E_NOMEM.
 */
struct json_t;
LSEC_API LSEC_MUST_USE int lsec_device_description_json(struct json_t **out,
							const lsec_device_description *d,
							lsec_err *err);

/* ---- the simulated MCU: creating units ------------------------------ */

typedef struct lsec_device_sim_options {
	unsigned version;
	unsigned count;         /* units in the fleet (>= 1) */
	uint32_t flash_size;    /* bytes, a multiple of page_size (0: 1 MiB) */
	uint32_t page_size;     /* bytes, a power of two (0: 4096) */
	bool no_keygen;         /* units without on-device key generation */
	bool has_seed;          /* derive UIDs and fault randomness from seed */
	uint64_t seed;
	const char *faults;     /* fault options (URI query syntax) or NULL */
	const char *fault_units; /* "2,5": the units (1-based) given faults; NULL: all */
	unsigned clone_src;     /* unit clone_dst gets unit clone_src's UID (0: none) */
	unsigned clone_dst;
	/*
	 * A fault plan: a JSON object from unit number to fault options,
	 * {"2": "flash_cut=4096", "5": "boot_fail=1&attach_fail=0.3"}; a unit
	 * it names gets those faults instead of faults/fault_units. NULL: none.
	 */
	const struct json_t *fault_plan;
	/*
	 * The units' file names, hence the serials the station gives them:
	 * PREFIX001.sim, PREFIX002.sim, ... ([A-Za-z0-9][A-Za-z0-9._-]{0,31});
	 * NULL: "unit-". A second batch takes a prefix of its own.
	 */
	const char *prefix;
} lsec_device_sim_options;

#define LSEC_DEVICE_SIM_OPTIONS_VERSION 1
#define LSEC_DEVICE_SIM_OPTIONS_INIT {LSEC_DEVICE_SIM_OPTIONS_VERSION, 1, 0, 0, false, false, 0, NULL, NULL, 0, 0, NULL, NULL}

/* One unit of a simulated fleet. */
typedef struct lsec_device_sim_unit_info {
	unsigned unit; /* 1-based, as in unit-NNN.sim (PREFIXNNN.sim) */
	char *uri;     /* "sim:DIR/unit-NNN.sim" (owned by the fleet) */
	char uid_hex[2 * LSEC_DEVICE_UID_LEN + 1];
	char *faults;  /* the unit's own fault options (owned by the fleet), or NULL */
} lsec_device_sim_unit_info;

/* A simulated fleet as lsec_device_sim_fleet_new created it. */
typedef struct lsec_device_sim_fleet {
	const char *chip; /* the chip id of every unit (static) */
	lsec_device_sim_unit_info *units;
	size_t nunits;
} lsec_device_sim_fleet;

/*
 * Creates a fleet of simulated units in dir (created if missing):
 * unit-NNN.sim state files, their device secrets (unit-NNN.sim.huk, 0600)
 * and fleet.json listing each unit's URI, UID and faults. Never replaces a
 * file; on failure removes what it created. *out (may be NULL) receives
 * the fleet, freed with lsec_device_sim_fleet_free.
 * Every fault option is checked before anything is written.
 * Fails with LSEC_E_USAGE (counts, sizes, unit lists, a plan naming no
 * unit of the fleet), LSEC_E_TGT_BAD_URI (fault options), LSEC_E_EXISTS,
 * LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_device_sim_fleet_new(lsec_device_sim_fleet **out,
						     const char *dir,
						     const lsec_device_sim_options *opts,
						     lsec_err *err);
LSEC_API void lsec_device_sim_fleet_free(lsec_device_sim_fleet *f);

/* How lsec_device_sim_serve serves a unit. */
typedef struct lsec_device_serve_options {
	unsigned version;
	const char *listen;  /* "HOST:PORT" to listen on (PORT 0: any free port) */
	/* Called once listening, with the port (may be NULL). */
	void (*ready)(void *arg, unsigned port);
	void *arg;
	/* When set and nonzero the server stops (checked between packets; may be NULL). */
	const volatile int *stop;
	bool no_binary;      /* refuse X (as QEMU does): clients fall back to M */
	bool no_vflash;      /* refuse vFlash* packets: clients erase with the monitor */
	/* The probe serial `lsec probe-serial` reports (NULL: none, the command is refused). */
	const char *probe_serial;
	/*
	 * A link that drops once (tests): the drop_nth-th monitor command
	 * starting with drop_on (NULL: never) closes the connection unanswered
	 * and unrun; later connections are served as usual.
	 */
	const char *drop_on;
	unsigned drop_nth;   /* 0 counts as 1 */
} lsec_device_serve_options;

#define LSEC_DEVICE_SERVE_OPTIONS_VERSION 1
#define LSEC_DEVICE_SERVE_OPTIONS_INIT {LSEC_DEVICE_SERVE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, false, false, NULL, NULL, 0}

/*
 * The serial of the probe serving uri (rsp://HOST:PORT...), as its server
 * reports it (`monitor lsec probe-serial`): into out (cap bytes), "" when
 * the server reports none. Opens and closes a connection of its own.
 * Fails with LSEC_E_TGT_BAD_URI (not an rsp:// URI), LSEC_E_TGT_LINK,
 * LSEC_E_TGT_TIMEOUT (the server does not answer).
 */
LSEC_API LSEC_MUST_USE int lsec_device_probe_serial(char *out, size_t cap, const char *uri,
						    lsec_err *err);

/*
 * Serves one device (unit: a device URI, "sim:DIR/unit-001.sim") over the
 * GDB remote serial protocol on opts->listen, one connection at a time,
 * until a `k` packet or opts->stop: memory packets reach its flash, the
 * `lsec` monitor commands (qRcmd) its operations (docs/device.md, "RSP
 * backend"). Each connection is one device session: opened when it comes,
 * committed and closed when it ends. Fails with LSEC_E_USAGE (listen
 * address), LSEC_E_TGT_LINK (cannot listen), and as lsec_device_open.
 */
LSEC_API LSEC_MUST_USE int lsec_device_sim_serve(const char *unit,
						 const lsec_device_serve_options *opts,
						 lsec_err *err);
/*
 * The fleet as fleet.json holds it (*out: json_decref): version 1, chip,
 * units [{unit, uri, uid, faults (null without)}].
 * Fails with LSEC_E_NOMEM.
 */
struct json_t;
LSEC_API LSEC_MUST_USE int lsec_device_sim_fleet_json(struct json_t **out,
						      const lsec_device_sim_fleet *f,
						      lsec_err *err);

/* ---- device profiles ------------------------------------------------------
 *
 * A device profile (profiles/NAME.yaml, docs/device-profiles.md) says how a
 * chip family's device operations are done over a debug probe: through
 * monitor commands, 32-bit memory-mapped register accesses, or not at all
 * ("unsupported"). A probe backend executes a profile's steps without
 * knowing the chip. A loaded profile is immutable.
 */
typedef struct lsec_device_profile lsec_device_profile;

/* The operations a profile describes; each is a sequence of steps. */
typedef enum lsec_device_profile_op {
	LSEC_PROFILE_OP_FAMILY_READ = 0, /* family.read: result matched against family.values */
	LSEC_PROFILE_OP_REVISION_READ,   /* revision.read: result matched against revision.values */
	LSEC_PROFILE_OP_UID_READ,        /* uid.read: result = UID bytes (hex) */
	LSEC_PROFILE_OP_ATTACH,          /* attach: after connecting, before memory access */
	LSEC_PROFILE_OP_RESET,           /* reset: {} */
	LSEC_PROFILE_OP_FLASH_ERASE,     /* flash.erase: {addr} {len} */
	LSEC_PROFILE_OP_FLASH_WRITE,     /* flash.write: {addr} {len} {hex} */
	LSEC_PROFILE_OP_FLASH_HASH,      /* flash.hash: {addr} {len}; result 32 bytes (hex) */
	LSEC_PROFILE_OP_OTP_READ,        /* otp.read: {word} {n} {word-address}; result n words */
	LSEC_PROFILE_OP_OTP_BURN,        /* otp.burn: {word} {bits} {word-address} */
	LSEC_PROFILE_OP_OTP_LOCK,        /* otp.lock: {word} {word-address} */
	LSEC_PROFILE_OP_OTP_LOCKED,      /* otp.locked: {word} {word-address}; result 0 or 1 */
	LSEC_PROFILE_OP_DEBUG_LOCK_READ, /* debug-lock.read: result the level */
	LSEC_PROFILE_OP_DEBUG_LOCK_SET1, /* debug-lock.set.1 */
	LSEC_PROFILE_OP_DEBUG_LOCK_SET2, /* debug-lock.set.2 */
	LSEC_PROFILE_OP_KEY_GENERATE,    /* keystore.generate: {slot} */
	LSEC_PROFILE_OP_KEY_INJECT,      /* keystore.inject: {slot} {hex} (PKCS#8 DER) */
	LSEC_PROFILE_OP_KEY_PUBLIC,      /* keystore.public: {slot}; result SPKI (hex) */
	LSEC_PROFILE_OP_KEY_SIGN,        /* keystore.sign: {slot} {hex}; result signature (hex) */
	LSEC_PROFILE_OP_KEY_STATUS,      /* keystore.status: {slot}; result the slot state */
	LSEC_PROFILE_OP_CERT_STORE,      /* keystore.cert-store: {slot} {hex} */
	LSEC_PROFILE_OP_CERT_READ,       /* keystore.cert-read: {slot}; result DER (hex) */
	LSEC_PROFILE_OP_CREDENTIAL_STORE, /* keystore.credential-store: {hex} */
	LSEC_PROFILE_OP_ERASE_ALL,       /* erase.all */
	LSEC_PROFILE_OP_ERASE_CHALLENGE, /* erase.challenge: result 32 bytes (hex) */
	LSEC_PROFILE_OP_ERASE_AUTH,      /* erase.authenticated: {hex} (the token) */
	LSEC_PROFILE_OP_COMMIT,          /* commit: after a multi-step operation */
	LSEC_PROFILE_OP_COUNT
} lsec_device_profile_op;

typedef enum lsec_device_profile_step_kind {
	LSEC_PROFILE_STEP_MONITOR = 0, /* a monitor command (qRcmd) */
	LSEC_PROFILE_STEP_READ32,      /* result = (word at address & mask) >> shift, mapped */
	LSEC_PROFILE_STEP_WRITE32,     /* word at address = value */
	LSEC_PROFILE_STEP_MODIFY32,    /* word at address = (old & ~mask) | (value & mask) */
	LSEC_PROFILE_STEP_POLL32,      /* until (word & mask) == value, at most timeout_ms */
	LSEC_PROFILE_STEP_DELAY,       /* wait timeout_ms */
} lsec_device_profile_step_kind;

/* A number, or a placeholder the backend fills ("{addr}", "{word-address}", ...). */
typedef struct lsec_device_profile_value {
	const char *param; /* placeholder name without braces, or NULL for number */
	uint32_t number;
} lsec_device_profile_value;

/* One read32 map entry: a masked, shifted register value and what it means. */
typedef struct lsec_device_profile_map {
	uint32_t from, to;
} lsec_device_profile_map;

typedef struct lsec_device_profile_step {
	lsec_device_profile_step_kind kind;
	int line;                          /* where the step is in the profile file */
	const char *command;               /* MONITOR: template with {placeholders} */
	const char *expect;                /* MONITOR: the output must contain it; NULL: any */
	const char *json;                  /* MONITOR: result = this member of the output's JSON */
	lsec_device_profile_value address; /* READ32, WRITE32, MODIFY32, POLL32 */
	lsec_device_profile_value value;   /* WRITE32, MODIFY32, POLL32 */
	uint32_t mask;                     /* READ32, MODIFY32, POLL32 (default 0xffffffff) */
	uint32_t shift;                    /* READ32 */
	/* READ32: nmap entries; a value not in them gives dflt (has_default), else itself */
	const lsec_device_profile_map *map;
	size_t nmap;
	bool has_default;
	uint32_t dflt;
	uint32_t timeout_ms;               /* POLL32 (default 1000), DELAY */
} lsec_device_profile_step;

/* The values a step's placeholders take (lsec_device_profile_expand). */
typedef struct lsec_device_profile_args {
	uint32_t addr, len, word, n, bits, slot;
	const char *hex; /* binary argument as lowercase hex, or NULL */
} lsec_device_profile_args;

typedef enum lsec_device_profile_flash_method {
	LSEC_PROFILE_FLASH_MEMORY = 0, /* m/M/X memory writes; erase writes 0xff unless flash.erase
					* (steps, or none) */
	LSEC_PROFILE_FLASH_VFLASH,     /* the probe server's vFlashErase/vFlashWrite/vFlashDone */
	LSEC_PROFILE_FLASH_MONITOR,    /* flash.erase and flash.write monitor steps */
} lsec_device_profile_flash_method;

typedef enum lsec_device_profile_attest {
	LSEC_PROFILE_ATTEST_UNSUPPORTED = 0,
	LSEC_PROFILE_ATTEST_RESET, /* the reset step's result is the boot report (JSON) */
	LSEC_PROFILE_ATTEST_UART,  /* a line on the UART (format: the attestation template) */
} lsec_device_profile_attest;

/* The numbers of a profile: memory map and sizes. */
typedef struct lsec_device_profile_layout {
	uint32_t flash_base, flash_size, page_size;
	lsec_device_profile_flash_method flash_method;
	/*
	 * flash.erase: none (method memory): the cells are overwritten in place
	 * (RAM-like, QEMU's flash), so erasing before a write is skipped.
	 */
	bool flash_erase_none;
	bool has_ram;
	uint32_t ram_base, ram_size;
	bool uid_memory;        /* UID read from memory: uid_length bytes at uid_address */
	uint32_t uid_address, uid_length;
	uint32_t otp_words;     /* 0: no OTP */
	bool otp_memory;        /* OTP words memory-mapped from otp_base ({word-address}) */
	uint32_t otp_base;
	/*
	 * An erased cell reads 1 and programming clears bits (flash-based OTP,
	 * UICR): the backend reads ~word and burns {bits} as ~bits, so a set
	 * linesec bit is a programmed cell.
	 */
	bool otp_inverted;
	uint32_t key_slots;     /* 0: no keystore */
	unsigned debug_lock_max; /* highest debug lock level the device offers (0: none) */
	bool debug_lock_by_fuse; /* the level is set through the DEBUG_LOCK fuse */
	lsec_device_profile_attest attestation;
	const char *attestation_line;  /* UART: the line's template ({digest} {version} {build}) */
	uint32_t attestation_timeout_ms;
	uint32_t uart_base;     /* UART: the UART's register base (0: not said) */
} lsec_device_profile_layout;

/*
 * Loads a profile by name or path. A name holding '/' or ending in ".yaml"
 * is a file path; otherwise NAME.yaml is looked up in the folder named by
 * $LINESEC_PROFILES, then among the profiles built into linesec (the
 * source tree's profiles/). The profile is checked (lsec_device_profile_parse).
 * Fails with LSEC_E_NOTFOUND (no such profile, naming where it looked),
 * LSEC_E_PARSE (file:line and field), LSEC_E_IO, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_load(lsec_device_profile **out, const char *name,
						    lsec_err *err);
/*
 * Parses and checks a profile's bytes; file names it in errors (and, when
 * it ends in NAME.yaml, must match the profile's name). Refused: YAML
 * errors, unknown keys, missing required fields, numbers that are not
 * 32-bit decimal or 0x hex, placeholders an operation does not offer,
 * steps without effect, fuses overlapping in the same OTP word bits or
 * outside the OTP, a flash layout that does not add up. Each error is
 * LSEC_E_PARSE "cannot read 'FILE': line L, column C: FIELD: what".
 * What parses but leaves an SOP without what it needs is a warning
 * (lsec_device_profile_warning).
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_parse(lsec_device_profile **out,
						     const uint8_t *data, size_t len,
						     const char *file, lsec_err *err);
LSEC_API void lsec_device_profile_free(lsec_device_profile *p);

/* Accessors (borrowed strings, live as long as p). */
LSEC_API const char *lsec_device_profile_name(const lsec_device_profile *p);
LSEC_API const char *lsec_device_profile_file(const lsec_device_profile *p);
LSEC_API const char *lsec_device_profile_description(const lsec_device_profile *p);
LSEC_API const char *lsec_device_profile_family(const lsec_device_profile *p);
/* The revisions the profile knows (revision.values' names), i < count; NULL past the end. */
LSEC_API const char *lsec_device_profile_revision(const lsec_device_profile *p, size_t i);
LSEC_API bool lsec_device_profile_tested(const lsec_device_profile *p);
/* "lsec" (the linesec monitor protocol: "ok ARGS" / "error CODE MESSAGE") or "text". */
LSEC_API const char *lsec_device_profile_monitor_protocol(const lsec_device_profile *p);
LSEC_API const lsec_device_profile_layout *
lsec_device_profile_layout_get(const lsec_device_profile *p);
/* The YAML field of an operation ("flash.erase") and its name in messages. */
LSEC_API const char *lsec_device_profile_op_field(lsec_device_profile_op op);

/*
 * The steps of op into *steps / *n. *n == 0 (0 returned) when the profile
 * leaves the operation out and the backend does its default (docs). Fails
 * with LSEC_E_TGT_UNSUPPORTED, "FIELD: not supported by this device
 * (profile NAME)", when the profile says the device cannot do it.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_op_steps(const lsec_device_profile_step **steps,
							size_t *n,
							const lsec_device_profile *p,
							lsec_device_profile_op op, lsec_err *err);
/*
 * Where a named fuse lives (*out); LSEC_E_TGT_UNSUPPORTED "fuse NAME: not
 * supported by this device (profile NAME)" when the profile has no such fuse.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_fuse(lsec_device_fuse_field *out,
						    const lsec_device_profile *p,
						    lsec_device_fuse fuse, lsec_err *err);
/*
 * A monitor step's command with its placeholders filled:
 * {addr} {len} {bits} {word-address} in 0x hex, {word} {n} {slot} in
 * decimal, {hex} as given ({bits} is ~bits when the OTP is inverted).
 * *out: lsec_free (wipe it when it held a secret).
 * LSEC_E_USAGE for {hex} without args->hex.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_expand(char **out, const lsec_device_profile *p,
						      const char *tmpl,
						      const lsec_device_profile_args *args,
						      lsec_err *err);
/* A step value: the number, or the placeholder's value from args. LSEC_E_USAGE. */
LSEC_API LSEC_MUST_USE int lsec_device_profile_value_get(uint32_t *out,
							 const lsec_device_profile *p,
							 const lsec_device_profile_value *v,
							 const lsec_device_profile_args *args,
							 lsec_err *err);
/*
 * Matches what family.read (which 0) or revision.read (which 1) gave —
 * text from a monitor step's result, or a read32 result printed as
 * "0x%x" — against the profile's values; *label (borrowed) gets the value's
 * label (the revision name). LSEC_E_TGT_WRONG_CHIP naming what was read
 * and what the profile accepts.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_match(const char **label,
						     const lsec_device_profile *p, int which,
						     const char *read, lsec_err *err);
/*
 * The early check: a product naming family (and maybe revision) is made
 * only on a device whose profile is for that family and knows that
 * revision; device_revision (what lsec_device_profile_match gave for the
 * unit, or NULL when not read yet) must then be the product's revision.
 * NULL product family: nothing to check. LSEC_E_TGT_WRONG_CHIP naming
 * both sides.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_check_product(const lsec_device_profile *p,
							     const char *family,
							     const char *revision,
							     const char *device_revision,
							     lsec_err *err);
/*
 * The early chip check on an open device, before anything is written to
 * it: reads the chip's family and revision as the device's profile says
 * (family.read, revision.read; a sim: device is the built-in profile
 * linesec-sim, read through its chip id), matches them against the
 * profile (lsec_device_profile_match) and checks them against a product
 * made on family and revision (lsec_device_profile_check_product). NULL
 * family: nothing to check, nothing read. LSEC_E_TGT_WRONG_CHIP naming the
 * device and both sides; read failures as the device's operations.
 */
LSEC_API LSEC_MUST_USE int lsec_device_chip_check(lsec_device *t, const char *family,
						  const char *revision, lsec_err *err);
/* Warnings of the check: an SOP step the profile cannot do; NULL past the end. */
LSEC_API const char *lsec_device_profile_warning(const lsec_device_profile *p, size_t i);

/* One profile lsec_device_profile_list found. */
typedef struct lsec_device_profile_entry {
	char *name;
	char *source; /* the file path, or "built-in" */
} lsec_device_profile_entry;
/*
 * Every profile that lsec_device_profile_load finds by name: $LINESEC_PROFILES'
 * *.yaml, then the built-in ones it does not shadow, sorted by name.
 * *out: lsec_device_profile_list_free.
 */
LSEC_API LSEC_MUST_USE int lsec_device_profile_list(lsec_device_profile_entry **out, size_t *n,
						    lsec_err *err);
LSEC_API void lsec_device_profile_list_free(lsec_device_profile_entry *l, size_t n);

#ifdef __cplusplus
}
#endif
#endif
