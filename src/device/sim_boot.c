/*
 * sim_boot.c - the simulated boot ROM.
 *
 * On reset it looks for an MCUboot image at flash offset 0 and decides as
 * a ROM holding only fused values would:
 *  - secure boot on (SECURE_BOOT_EN): the image must embed its public key
 *    (PUBKEY TLV 0x02) whose SHA-256 equals the fused key digest, its
 *    signature must verify, and its security counter must not be below the
 *    anti-rollback fuse; otherwise it refuses with the matching boot error;
 *  - secure boot off: any image with a valid header and SHA-256 TLV boots.
 * The report carries the measured digest (the SHA-256 TLV) and version. A
 * debug build leaves the UART console open unless UART_CONSOLE_DIS is
 * burned; a release build closes it.
 *
 * @test tests/unit/device/test_sim_boot.c
 */
#include "linesec/image.h"
#include "device/device_int.h"

#include <string.h>

static uint32_t boot_error_of(int rc)
{
	switch (rc) {
	case LSEC_E_IMG_BAD_MAGIC:
		return LSEC_BOOT_NO_IMAGE;
	case LSEC_E_IMG_HASH:
		return LSEC_BOOT_BAD_HASH;
	case LSEC_E_IMG_UNSIGNED:
		return LSEC_BOOT_UNSIGNED;
	case LSEC_E_IMG_KEY_MISMATCH:
		return LSEC_BOOT_BAD_KEY;
	case LSEC_E_IMG_BAD_SIGNATURE:
		return LSEC_BOOT_BAD_SIGNATURE;
	case LSEC_E_IMG_COUNTER:
		return LSEC_BOOT_ROLLBACK;
	default:
		return LSEC_BOOT_BAD_IMAGE;
	}
}

int lsec_device__sim_boot(lsec_device_boot_report *out, const sim_unit *u, lsec_err *err)
{
	int rc = 0;
	lsec_image *img = NULL;
	lsec_err ierr = LSEC_ERR_INIT; /* an image's rejection is a report, not a failure */
	uint8_t key_digest[32], zero[32] = {0};
	memset(out, 0, sizeof(*out));
	out->secure_boot = (u->otp[SIM_OTP_SB_ENABLE] & 1u) != 0;
	int irc = lsec_image_parse(&img, u->flash, u->flash_size, "flash", &ierr);
	if (irc == LSEC_E_NOMEM) {
		LSEC_BAIL(LSEC_E_NOMEM, "out of memory");
	}
	if (irc < 0) {
		out->boot_error = boot_error_of(irc);
		goto out;
	}
	lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	if (out->secure_boot) {
		for (unsigned i = 0; i < 8; i++) {
			lsec_put_u32le(key_digest + 4 * i, u->otp[SIM_OTP_KEY_DIGEST + i]);
		}
		if (lsec_ct_equal(key_digest, zero, sizeof(zero))) {
			out->boot_error = LSEC_BOOT_NO_KEY_DIGEST;
			goto out;
		}
		vo.key_hash = key_digest;
		vo.check_min_counter = true;
		vo.min_counter = (uint32_t)(__builtin_popcount(u->otp[SIM_OTP_ROLLBACK]) +
					    __builtin_popcount(u->otp[SIM_OTP_ROLLBACK + 1]));
		irc = lsec_image_verify(img, &vo, &ierr);
	} else {
		/*
		 * No key: lsec_image_verify checks the hash first and then stops
		 * for want of a key, so anything but a hash failure means the
		 * header and SHA-256 TLV are good.
		 */
		irc = lsec_image_verify(img, &vo, &ierr);
		irc = irc == LSEC_E_IMG_HASH ? irc : 0;
	}
	if (irc == LSEC_E_NOMEM) {
		LSEC_BAIL(LSEC_E_NOMEM, "out of memory");
	}
	if (irc < 0) {
		out->boot_error = boot_error_of(irc);
		goto out;
	}
	lsec_image_version v = lsec_image_get_version(img);
	out->booted = true;
	out->measured = lsec_image_digest(out->digest, img);
	out->ver_major = v.major;
	out->ver_minor = v.minor;
	out->ver_revision = v.revision;
	out->ver_build = v.build;
	out->build_type = (uint32_t)lsec_image_build_type(img);
	out->uart_open = lsec_image_build_type(img) == LSEC_IMAGE_BUILD_DEBUG &&
			 (u->otp[SIM_OTP_UART_DIS] & 1u) == 0;
out:
	lsec_image_free(img);
	return rc;
}
