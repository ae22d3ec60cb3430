/*
 * actions_flash.c - SOP 1, secure firmware flashing: image.check,
 * device.flash, device.verify-flash, device.boot-attest.
 *
 * Flashing is safe to repeat (erase, write, read back), so a step
 * interrupted by a crash is simply done again; a flash that already holds
 * the approved image is not rewritten.
 *
 * @test tests/unit/station/test_exec.c
 */
#include "station/station_int.h"

#include <stdlib.h>

static int image_bytes(const uint8_t **p, size_t *n, lsec_station__run *r, lsec_err *err)
{
	*p = r->image ? lsec_image_bytes(r->image, n) : NULL;
	if (*p == NULL) {
		return lsec_err_set(err, LSEC_E_STATION_RELEASE, __FILE__, __LINE__,
				    "no approved release image is loaded for unit '%s'", r->serial);
	}
	return 0;
}

int lsec_station__act_image_check(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint8_t kh[32];
	char ver[24];
	LSEC_ENSURE(r->image != NULL, LSEC_E_STATION_RELEASE, "no approved release to check");
	LSEC_TRY(lsec_station__image_check(r->image, r->st, r->product, r->release_counter, err));
	LSEC_TRY(lsec_image_version_format(ver, sizeof(ver), lsec_image_get_version(r->image)));
	(void)lsec_image_key_hash(kh, r->image);
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_RELEASE, r->release, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_IMAGE_SHA256, r->release_digest, 32, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_SIGNER_KEY_SHA256, kh, 32, err));
	LSEC_TRY(lsec_station__ev_str(r, "image-version", ver, err));
out:
	return rc;
}

int lsec_station__act_flash(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const uint8_t *img = NULL;
	size_t n = 0;
	bool already = false;
	uint8_t have[32];
	LSEC_TRY(image_bytes(&img, &n, r, err));
	LSEC_ENSURE(n <= r->info.flash_size, LSEC_E_LIMIT,
		    "release %s (%zu bytes) does not fit the flash of unit '%s' (%u bytes)",
		    r->release, n, r->serial, r->info.flash_size);
	LSEC_TRY(lsec_station__attach(r, err));
	/*
	 * Preverify: a unit that already holds the approved image (read back and
	 * compared, hashed on the device where it can) is not written again.
	 */
	LSEC_TRY(lsec_device_flash_compare(&already, have, r->tgt, 0, img, n, err));
	if (!already) {
		uint32_t page = r->info.page_size ? r->info.page_size : 4096;
		uint32_t len = (uint32_t)((n + page - 1) / page * page);
		LSEC_TRY(lsec_device_flash_erase(r->tgt, 0, len, err));
		LSEC_TRY(lsec_device_flash_write(r->tgt, 0, img, n, err));
	}
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_IMAGE_SHA256, r->release_digest, 32, err));
	/* The loader allows the primary slot only, which starts at address 0. */
	LSEC_TRY(lsec_station__ev_str(r, "slot", lsec_sop_step_param(r->step, "slot"), err));
	LSEC_TRY(lsec_station__ev_int(r, "address", 0, err));
	LSEC_TRY(lsec_station__ev_int(r, "bytes-written", already ? 0 : (int64_t)n, err));
	LSEC_TRY(lsec_station__ev_bool(r, "already-written", already, err));
	LSEC_TRY(lsec_station__ev_bool(r, LSEC_EV_PREVERIFIED, already, err));
	if (already) {
		LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_READBACK_SHA256, have, 32, err));
	}
out:
	return rc;
}

int lsec_station__act_verify_flash(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const uint8_t *img = NULL;
	size_t n = 0;
	uint8_t have[32];
	bool same = false;
	LSEC_TRY(image_bytes(&img, &n, r, err));
	LSEC_TRY(lsec_device_flash_compare(&same, have, r->tgt, 0, img, n, err));
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_READBACK_SHA256, have, 32, err));
	LSEC_ENSURE(same, LSEC_E_DEVICE,
		    "the flash of unit '%s' does not hold release %s (read-back hash differs)",
		    r->serial, r->release);
out:
	return rc;
}

int lsec_station__act_boot_attest(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_device_boot_report br;
	const char *to = lsec_sop_step_param(r->step, "timeout-s");
	uint64_t limit_ms = (to != NULL ? strtoull(to, NULL, 10) : 30) * 1000u;
	uint64_t t0 = lsec_time_mono_ms(), took = 0;
	lsec_image_build want = LSEC_IMAGE_BUILD_RELEASE;
	memset(&br, 0, sizeof(br));
	r->attached = false; /* a reset ends the debug session */
	LSEC_TRY(lsec_device_reset(&br, r->tgt, err));
	took = lsec_time_mono_ms() - t0;
	LSEC_TRY(lsec_station__ev_int(r, "boot-time-ms", (int64_t)took, err));
	LSEC_TRY(lsec_station__ev_int(r, "timeout-s", (int64_t)(limit_ms / 1000u), err));
	LSEC_ENSURE(took <= limit_ms, LSEC_E_DEVICE,
		    "unit '%s' took %llu ms to report its boot, above the SOP's timeout-s of %llu s",
		    r->serial, (unsigned long long)took, (unsigned long long)(limit_ms / 1000u));
	LSEC_ENSURE(br.measured, LSEC_E_DEVICE, "unit '%s' booted without attesting its image",
		    r->serial);
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_ATTESTED_SHA256, br.digest, 32, err));
	want = r->image ? lsec_image_build_type(r->image) : LSEC_IMAGE_BUILD_RELEASE;
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_ATTESTED_BUILD,
				      lsec_image_build_name((lsec_image_build)br.build_type), err));
	/* A release unit runs a release build: a debug build is caught by what it attests. */
	LSEC_ENSURE(br.build_type == (uint32_t)want, LSEC_E_DEVICE,
		    "unit '%s' attests a %s build (build=%s); release %s is a %s build and its "
		    "units must attest build=%s",
		    r->serial, lsec_image_build_name((lsec_image_build)br.build_type),
		    lsec_image_build_name((lsec_image_build)br.build_type), r->release,
		    lsec_image_build_name(want), lsec_image_build_name(want));
	LSEC_ENSURE(lsec_ct_equal(br.digest, r->release_digest, 32), LSEC_E_DEVICE,
		    "unit '%s' attests an image that is not release %s", r->serial, r->release);
out:
	return rc;
}
