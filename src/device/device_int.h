/*
 * device_int.h - the backend operations table and the session object.
 * Private to src/device. A backend fills one lsec_device_ops; the generic
 * layer (device.c) checks arguments, keeps the sticky failure state and
 * builds the named-fuse and describe operations on top of the table.
 */
#ifndef LINESEC_DEVICE_INT_H
#define LINESEC_DEVICE_INT_H

#include "linesec/device.h"

typedef struct lsec_device_ops {
	const char *scheme; /* "sim" */
	/* Opens the device named by rest (the URI after "scheme:"); sets t->impl. */
	int (*open)(lsec_device *t, const char *rest, lsec_err *err);
	void (*close)(lsec_device *t);
	int (*info)(lsec_device *t, lsec_device_info *out, lsec_err *err);
	int (*flash_erase)(lsec_device *t, uint32_t addr, uint32_t len, lsec_err *err);
	int (*flash_write)(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			   lsec_err *err);
	int (*flash_read)(lsec_device *t, uint32_t addr, uint8_t *out, size_t len, lsec_err *err);
	/* Optional: NULL means the generic layer reads back and hashes. */
	int (*flash_hash)(lsec_device *t, uint32_t addr, uint32_t len, uint8_t out[32],
			  lsec_err *err);
	/* Power-cycles the device (re-reading its state) and runs its boot stage. */
	int (*reset)(lsec_device *t, lsec_device_boot_report *out, lsec_err *err);
	int (*otp_read)(lsec_device *t, uint32_t word, uint32_t n, uint32_t *out, lsec_err *err);
	int (*otp_burn)(lsec_device *t, uint32_t word, uint32_t bits, lsec_err *err);
	int (*otp_lock)(lsec_device *t, uint32_t word, lsec_err *err);
	int (*otp_locked)(lsec_device *t, uint32_t word, bool *out, lsec_err *err);
	int (*debug_attach)(lsec_device *t, lsec_err *err);
	int (*debug_lock_level)(lsec_device *t, unsigned *out, lsec_err *err);
	int (*key_generate)(lsec_device *t, unsigned slot, lsec_err *err);
	int (*key_inject)(lsec_device *t, unsigned slot, const lsec_secret *pkcs8, lsec_err *err);
	int (*key_public)(lsec_device *t, unsigned slot, lsec_buf *spki, lsec_err *err);
	int (*key_sign)(lsec_device *t, unsigned slot, const uint8_t *msg, size_t len,
			lsec_buf *sig, lsec_err *err);
	int (*key_status)(lsec_device *t, unsigned slot, lsec_device_slot_status *out,
			  lsec_err *err);
	int (*cert_store)(lsec_device *t, unsigned slot, const uint8_t *der, size_t len,
			  lsec_err *err);
	int (*cert_read)(lsec_device *t, unsigned slot, lsec_buf *der, lsec_err *err);
	int (*credential_store)(lsec_device *t, const lsec_secret *blob, lsec_err *err);
	int (*erase_all)(lsec_device *t, lsec_err *err);
	int (*erase_challenge)(lsec_device *t, uint8_t *out, lsec_err *err);
	int (*erase_authenticated)(lsec_device *t, const uint8_t *token, size_t len, lsec_err *err);
	/*
	 * Optional: makes durable what the operations since the last commit
	 * changed. A backend that defers its writes while t->hold > 0 (inside
	 * one of the generic layer's multi-step operations: a fuse field, a
	 * flash program) gets this call once the outermost one ends.
	 */
	int (*commit)(lsec_device *t, lsec_err *err);
	/*
	 * Optional: where a named fuse lives, or LSEC_E_TGT_UNSUPPORTED naming
	 * why the device has none. NULL: from the info's fuse layout.
	 */
	int (*fuse_field)(lsec_device *t, lsec_device_fuse fuse, lsec_device_fuse_field *out,
			  lsec_err *err);
	/*
	 * Optional: the early chip check's reads: the device's profile
	 * (borrowed) and what its family.read and revision.read gave (*family,
	 * *revision: lsec_free; *revision NULL when the profile has no
	 * revision read). NULL: the built-in profile linesec-sim matched
	 * against the info's chip id (the simulated MCU).
	 */
	int (*chip_read)(lsec_device *t, const lsec_device_profile **profile, char **family,
			 char **revision, lsec_err *err);
} lsec_device_ops;

struct lsec_device {
	const lsec_device_ops *ops;
	void *impl;          /* the backend's session */
	char *uri;
	bool failed;         /* sticky: set by a failure that leaves the device half-known */
	unsigned hold;       /* depth of multi-step operations in progress (ops->commit) */
	char fail_msg[LSEC_ERR_MSG_MAX]; /* what failed, for the LSEC_E_TGT_FAILED message */
};

/* ---- the simulated MCU (sim.c, sim_state.c, sim_keys.c, sim_boot.c) ---- */

extern const lsec_device_ops lsec_device__sim_ops;

#define SIM_STATE_VERSION 1u
#define SIM_OTP_WORDS 64u
#define SIM_KEY_SLOTS 4u
#define SIM_LOCK_WORD 62u /* words 62-63: per-word write-lock bitmap (bit i locks word i) */
#define SIM_HUK_LEN 32u
#define SIM_CHIP_ID "linesec-sim-m1"

/* OTP word numbers of the named fuses (docs/device.md). */
enum {
	SIM_OTP_KEY_DIGEST = 0,  /* words 0-7 */
	SIM_OTP_SB_ENABLE = 8,   /* bit 0 */
	SIM_OTP_ROLLBACK = 9,    /* words 9-10, 64-bit thermometer */
	SIM_OTP_DEBUG_LOCK = 11, /* bits 0-1 */
	SIM_OTP_UART_DIS = 12,   /* bit 0 */
	SIM_OTP_LOCK = 13,       /* bit 0: locks words 0-8, 13 and 14-21 */
	SIM_OTP_DEBUG_AUTH = 14, /* words 14-21: the debug-auth key digest */
};

/*
 * Injected faults. A unit's own faults (from its fleet) live in its state
 * file and each fires once; a session's faults (from the URI) fire once
 * per session. Counters count down; 0 is off.
 */
typedef struct sim_faults {
	uint64_t flash_cut;       /* power lost once this many more flash bytes are written */
	uint32_t otp_cut;         /* power lost during the Nth OTP burn from now */
	uint32_t attach_fail_ppm; /* attach fails with this probability (parts per million) */
	uint32_t boot_fail;       /* the next N resets fail to boot */
	uint8_t stuck;            /* 1: flash bit stuck_bit of byte stuck_addr reads stuck_val */
	uint8_t stuck_bit;
	uint8_t stuck_val;
	uint32_t stuck_addr;
	uint32_t lat_kib_us;      /* latency per KiB of flash programmed, read or erased */
	uint32_t lat_op_us;       /* latency per operation */
} sim_faults;

typedef struct sim_slot {
	uint8_t state;    /* lsec_device_slot_state */
	lsec_buf wrapped; /* nonce || AES-256-GCM(PKCS#8 DER) || tag, under the unit's HUK */
	lsec_buf spki;    /* DER SubjectPublicKeyInfo */
	lsec_buf cert;    /* DER certificate, empty if none */
} sim_slot;

/* What a unit's state file holds (docs/device.md, "State file"). */
typedef struct sim_unit {
	char chip_id[32];
	uint8_t uid[LSEC_DEVICE_UID_LEN];
	uint32_t flash_size;
	uint32_t page_size;
	uint32_t caps;
	uint64_t seed;
	uint64_t attach_count; /* attach attempts so far: drives the attach-fault sequence */
	sim_faults faults;
	uint32_t otp[SIM_OTP_WORDS];
	sim_slot slots[SIM_KEY_SLOTS];
	lsec_buf cred;         /* the wrapped initial credential, empty if none */
	uint8_t *flash;
} sim_unit;

/* Sets up an empty unit (flash erased); release with lsec_device__sim_unit_release. */
int lsec_device__sim_unit_init(sim_unit *u, uint32_t flash_size, uint32_t page_size,
			       lsec_err *err);
void lsec_device__sim_unit_release(sim_unit *u);
/*
 * Reads and checks a unit: the state file at path and its flash at
 * path.flash, into u (initialised by this call). LSEC_E_TGT_BAD_STATE,
 * LSEC_E_IO.
 */
int lsec_device__sim_load(sim_unit *u, const char *path, lsec_err *err);
/*
 * Parses a state file's bytes (name labels errors) into u, initialised by
 * this call with an erased flash of the size it declares.
 * LSEC_E_TGT_BAD_STATE naming the field.
 */
int lsec_device__sim_parse(sim_unit *u, const uint8_t *data, size_t len, const char *name,
			   lsec_err *err);
/*
 * Writes what changed: the state file (SIM_SAVE_STATE) and/or the flash
 * file (SIM_SAVE_FLASH), each replaced atomically (mode 0600), state first.
 * Flash and OTP are separate memories on silicon too: a crash between the
 * two files leaves each one whole. LSEC_E_IO.
 */
enum { SIM_SAVE_STATE = 1u << 0, SIM_SAVE_FLASH = 1u << 1 };
int lsec_device__sim_save(const sim_unit *u, const char *path, unsigned what, lsec_err *err);
/*
 * Writes the flash pages marked in dirty (one byte per page, nonzero =
 * changed) in place into the open flash file fd (not synced: the unit's
 * memory must outlive the station process, not this machine; docs/device.md,
 * "Persistence"); the number written into *pages (0: nothing written). path
 * (the state file's) labels errors. A crash during the call can leave some
 * pages old and others new, as an interrupted programming run leaves
 * silicon. LSEC_E_IO.
 */
int lsec_device__sim_flash_sync(uint32_t *pages, int fd, const sim_unit *u,
				const uint8_t *dirty, const char *path, lsec_err *err);
/*
 * Parses fault options ("flash_cut=4096&attach_fail=0.2&seed=7", the
 * URI query syntax) into f; seed, when given, into *seed and *has_seed.
 * LSEC_E_TGT_BAD_URI naming the option.
 */
int lsec_device__sim_faults_parse(sim_faults *f, bool *has_seed, uint64_t *seed,
				  const char *query, lsec_err *err);
/* Deterministic 64-bit mix of a seed and a counter (SplitMix64). */
uint64_t lsec_device__sim_mix(uint64_t seed, uint64_t n);

/*
 * What a sim session wrote to its files since it opened (for tests and the
 * benchmark): state file replacements, flash pages written, flash syncs,
 * and loads of the unit from its files (the open and any reset that had to
 * re-read them).
 */
typedef struct lsec_device__sim_stats {
	uint64_t state_writes;
	uint64_t flash_pages;
	uint64_t flash_syncs;
	uint64_t loads;
} lsec_device__sim_stats;
/* The counters of a session on a sim: device; LSEC_E_USAGE for another backend. */
int lsec_device__sim_stats_get(lsec_device__sim_stats *out, const lsec_device *t, lsec_err *err);

/* Key wrapping under the unit's hardware unique key (sim_keys.c). */
int lsec_device__sim_wrap(lsec_buf *out, const lsec_secret *huk, const sim_unit *u,
			  uint32_t label, const uint8_t *pt, size_t len, lsec_err *err);
int lsec_device__sim_unwrap(lsec_secret **out, const lsec_secret *huk, const sim_unit *u,
			    uint32_t label, const lsec_buf *wrapped, lsec_err *err);
/* A fresh P-256 key as PKCS#8 DER in a secret, and its SPKI. */
int lsec_device__sim_keygen(lsec_secret **pkcs8, lsec_buf *spki, lsec_err *err);
/* Checks PKCS#8 DER holds a P-256 private key; its SPKI into spki. */
int lsec_device__sim_key_check(const lsec_secret *pkcs8, lsec_buf *spki, lsec_err *err);
/* ECDSA-SHA256 (DER) of msg with the PKCS#8 key. */
int lsec_device__sim_sign(lsec_buf *sig, const lsec_secret *pkcs8, const uint8_t *msg,
			  size_t len, lsec_err *err);
/*
 * Verifies an authenticated-erase token for uid and the challenge the
 * device gave against the fused debug-auth key digest (ECDSA P-256 or
 * Ed25519). LSEC_E_TGT_AUTH_TOKEN when it does not verify.
 */
int lsec_device__sim_token_verify(const uint8_t *token, size_t len, const uint8_t uid[16],
				  const uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN],
				  const uint8_t key_digest[32], lsec_err *err);

/*
 * The boot ROM (sim_boot.c): checks the image at flash offset 0 as the
 * OTP fuses ask and fills the report. Never fails for a bad image (that
 * is a report); fails only on internal errors.
 */
int lsec_device__sim_boot(lsec_device_boot_report *out, const sim_unit *u, lsec_err *err);

/*
 * The message an authenticated-erase token signs: "linesec-erase-v2" ||
 * UID || challenge, into out (at least LSEC_DEVICE__ERASE_MSG_LEN bytes).
 */
#define LSEC_DEVICE__ERASE_DOMAIN "linesec-erase-v2"
#define LSEC_DEVICE__ERASE_MSG_LEN                                                          \
	(sizeof(LSEC_DEVICE__ERASE_DOMAIN) - 1 + LSEC_DEVICE_UID_LEN +                      \
	 LSEC_DEVICE_ERASE_CHALLENGE_LEN)
void lsec_device__erase_message(uint8_t *out, const uint8_t uid[16],
				const uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN]);

#endif
