/*
 * actions_secure_boot.c - SOP 3, enabling secure boot: otp.burn-key-digest,
 * otp.burn-debug-auth-digest, otp.burn-counter, otp.enable-secure-boot,
 * otp.lock, otp.verify, secure-boot.negative-test.
 *
 * Fuse bits only go from 0 to 1. Each burn reads the fuse first: a fuse
 * that already holds the wanted value is left alone (an interrupted run
 * burned it), one whose bits are a subset of the wanted value is completed
 * (a power loss cut the burn short), and one holding a bit the wanted value
 * lacks can never be right again: the step fails and the unit is
 * quarantined by the SOP.
 *
 * @test tests/unit/station/test_exec.c
 */
#include "station/station_int.h"

#include <stdlib.h>

#include <jansson.h>

/*
 * The digest the boot ROM checks: that of the approved release's signer,
 * which must be the product's registered firmware key (its registry
 * record, two officers): the release is checked again here, so neither a
 * file in the line folder nor a release signed by another key decides
 * what is fused.
 */
static int fw_key_digest(lsec_station__run *r, uint8_t out[32], lsec_err *err)
{
	int rc = 0;
	const lsec_key *k = NULL;
	LSEC_ENSURE(r->have_release && r->image != NULL, LSEC_E_STATION_RELEASE,
		    "unit '%s': no approved release of '%s' names the key to fuse", r->serial,
		    r->product);
	/* Signed by the registered key, carrying it, no published key: else nothing is burned. */
	LSEC_TRY(lsec_station__image_check(r->image, r->st, r->product, r->release_counter, err));
	LSEC_TRY(lsec_station__product_key(&k, r->st, r->product, err));
	LSEC_TRY(lsec_key_fingerprint(out, k, err));
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_RELEASE, r->release, err));
out:
	return rc;
}

/*
 * Burns want into digest fuse f (left alone when it holds it, completed
 * when a power loss cut the burn short) and reads it back into evidence.
 */
static int burn_key_digest(lsec_station__run *r, lsec_device_fuse f, const uint8_t want[32],
			   const char *whose, lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_value v;
	bool subset = true, equal;
	LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, f, err));
	for (size_t i = 0; i < 32; i++) {
		subset = subset && (v.bytes[i] & (uint8_t)~want[i]) == 0;
	}
	equal = lsec_ct_equal(v.bytes, want, 32);
	LSEC_TRY(lsec_station__ev_hex(r, LSEC_EV_KEY_DIGEST, want, 32, err));
	/* The loader allows slot 0 only: the device has one key-digest fuse per key. */
	const char *slot = lsec_sop_step_param(r->step, "slot");
	if (slot != NULL) {
		LSEC_TRY(lsec_station__ev_str(r, "slot", slot, err));
	}
	LSEC_ENSURE(subset, LSEC_E_TGT_OTP_CLEAR,
		    "unit '%s' already holds another key digest in %s: it can never hold the "
		    "%s",
		    r->serial, lsec_device_fuse_name(f), whose);
	if (!equal) {
		LSEC_TRY(lsec_station__ev_bool(r, "completed-partial-burn",
					       !lsec_ct_equal(v.bytes, (uint8_t[32]){0}, 32), err));
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_fuse_burn_key_digest(r->tgt, f, want, err));
		LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, f, err));
	}
	LSEC_TRY(lsec_station__ev_hex(r, "otp-readback", v.bytes, 32, err));
	LSEC_ENSURE(lsec_ct_equal(v.bytes, want, 32), LSEC_E_DEVICE,
		    "the key digest read back from %s of unit '%s' is not the %s",
		    lsec_device_fuse_name(f), r->serial, whose);
out:
	return rc;
}

int lsec_station__act_burn_digest(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint8_t want[32];
	LSEC_TRY(fw_key_digest(r, want, err));
	/* The loader allows slot 0 only: the device has one key-digest fuse. */
	LSEC_TRY(lsec_station__ev_str(r, "slot", lsec_sop_step_param(r->step, "slot"), err));
	LSEC_TRY(burn_key_digest(r, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, want, "product's", err));
out:
	return rc;
}

/*
 * The digest of the product's debug-authentication key: its newest
 * approved record, checked against its leaves and the deny list; all
 * zeros (and *have false) when the product has none.
 */
static int debug_auth_digest(lsec_station__run *r, uint8_t out[32], bool *have,
			     char ver[LSEC_STORE_NAME_MAX + 1], lsec_err *err)
{
	int rc = 0;
	const lsec_key *k = NULL;
	memset(out, 0, 32);
	LSEC_TRY(lsec_station__debug_auth_key(&k, ver, r->st, r->product, NULL, err));
	*have = k != NULL;
	if (k != NULL) {
		LSEC_TRY(lsec_key_fingerprint(out, k, err));
	}
out:
	return rc;
}

int lsec_station__act_burn_debug_auth(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint8_t want[32];
	bool have = false;
	char ver[LSEC_STORE_NAME_MAX + 1] = "";
	LSEC_TRY(debug_auth_digest(r, want, &have, ver, err));
	if (!have) {
		/*
		 * A product without a debug-authentication key: nothing is burned,
		 * otp.lock closes the fuse, and a locked unit can never be erased,
		 * only destroyed.
		 */
		LSEC_TRY(lsec_station__ev_str(r, "debug-auth-key", "none", err));
		goto out;
	}
	LSEC_TRY(lsec_station__ev_str(r, "debug-auth-key", ver, err));
	LSEC_TRY(burn_key_digest(r, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, want,
				 "product's debug-authentication key digest", err));
out:
	return rc;
}

/* Raises a counter or flag fuse to want (no-op when it is there), then reads it back. */
static int raise_fuse(lsec_station__run *r, lsec_device_fuse f, uint32_t want, uint32_t *back,
		      lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_value v;
	LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, f, err));
	LSEC_ENSURE(v.value <= want, LSEC_E_TGT_OTP_CLEAR,
		    "fuse %s of unit '%s' reads %u, above the wanted %u: it cannot be lowered",
		    lsec_device_fuse_name(f), r->serial, v.value, want);
	if (v.value < want) {
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_fuse_set(r->tgt, f, want, err));
		LSEC_TRY(lsec_device_fuse_read(&v, r->tgt, f, err));
	}
	*back = v.value;
	LSEC_ENSURE(v.value == want, LSEC_E_DEVICE, "fuse %s of unit '%s' reads %u, expected %u",
		    lsec_device_fuse_name(f), r->serial, v.value, want);
out:
	return rc;
}

int lsec_station__act_burn_counter(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint32_t back = 0;
	LSEC_TRY(lsec_station__ev_int(r, "counter", r->release_counter, err));
	rc = raise_fuse(r, LSEC_FUSE_ANTI_ROLLBACK, r->release_counter, &back, err);
	LSEC_TRY(lsec_station__ev_int(r, "otp-readback", back, err));
	LSEC_TRY(rc);
out:
	return rc;
}

int lsec_station__act_enable_sb(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint32_t back = 0;
	rc = raise_fuse(r, LSEC_FUSE_SECURE_BOOT_ENABLE, 1, &back, err);
	LSEC_TRY(lsec_station__ev_int(r, "otp-readback", back, err));
	LSEC_TRY(rc);
out:
	return rc;
}

int lsec_station__act_otp_lock(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint32_t back = 0;
	rc = raise_fuse(r, LSEC_FUSE_OTP_LOCK, 1, &back, err);
	LSEC_TRY(lsec_station__ev_int(r, "otp-readback", back, err));
	LSEC_TRY(rc);
out:
	return rc;
}

int lsec_station__act_otp_verify(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint8_t want[32], more[32];
	lsec_device_fuse_value dig, en, ctr, lock, dbg;
	lsec_err probe = LSEC_ERR_INIT;
	uint8_t dbg_want[32];
	bool dbg_have = false;
	char dbg_ver[LSEC_STORE_NAME_MAX + 1] = "";
	LSEC_TRY(fw_key_digest(r, want, err));
	LSEC_TRY(debug_auth_digest(r, dbg_want, &dbg_have, dbg_ver, err));
	LSEC_TRY(lsec_device_fuse_read(&dbg, r->tgt, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, err));
	LSEC_TRY(lsec_device_fuse_read(&dig, r->tgt, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, err));
	LSEC_TRY(lsec_device_fuse_read(&en, r->tgt, LSEC_FUSE_SECURE_BOOT_ENABLE, err));
	LSEC_TRY(lsec_device_fuse_read(&ctr, r->tgt, LSEC_FUSE_ANTI_ROLLBACK, err));
	LSEC_TRY(lsec_device_fuse_read(&lock, r->tgt, LSEC_FUSE_OTP_LOCK, err));
	{
		json_t *o = json_pack("{s:s?,s:I,s:I,s:I,s:b}", LSEC_EV_KEY_DIGEST, NULL, "secure-boot",
				      (json_int_t)en.value, "anti-rollback", (json_int_t)ctr.value,
				      "otp-lock", (json_int_t)lock.value, "digest-locked", dig.locked);
		char *hex = lsec_hex_alloc(dig.bytes, 32);
		LSEC_ENSURE(o != NULL && hex != NULL, LSEC_E_NOMEM, "out of memory");
		json_object_set_new(o, LSEC_EV_KEY_DIGEST, json_string(hex));
		lsec_free(hex);
		hex = lsec_hex_alloc(dbg.bytes, 32);
		LSEC_ENSURE(hex != NULL, LSEC_E_NOMEM, "out of memory");
		json_object_set_new(o, "debug-auth-key-digest", json_string(hex));
		json_object_set_new(o, "debug-auth-locked", json_boolean(dbg.locked));
		lsec_free(hex);
		LSEC_TRY(lsec_json_set(r->evidence, "otp-readback", o, err));
	}
	LSEC_ENSURE(lsec_ct_equal(dig.bytes, want, 32), LSEC_E_DEVICE,
		    "unit '%s': the key digest in OTP is not the product's", r->serial);
	LSEC_ENSURE(en.value == 1, LSEC_E_DEVICE, "unit '%s': secure boot is not enabled",
		    r->serial);
	LSEC_ENSURE(ctr.value == r->release_counter, LSEC_E_DEVICE,
		    "unit '%s': anti-rollback counter %u, release needs %u", r->serial, ctr.value,
		    r->release_counter);
	LSEC_ENSURE(lsec_ct_equal(dbg.bytes, dbg_want, 32), LSEC_E_DEVICE,
		    "unit '%s': the debug-auth key digest in OTP is not %s", r->serial,
		    dbg_have ? "the product's debug-authentication key's" : "empty");
	LSEC_ENSURE(lock.value == 1 && dig.locked && dbg.locked, LSEC_E_DEVICE,
		    "unit '%s': the secure-boot fuses are not write-locked", r->serial);
	/*
	 * Try to change the locked digest (one more bit set): the device must
	 * refuse. The lock was read back above, so the probe cannot burn.
	 */
	memcpy(more, want, 32);
	for (size_t i = 0; i < 32; i++) {
		if (more[i] != 0xff) {
			uint8_t zeros = (uint8_t)~more[i];
			more[i] = (uint8_t)(more[i] | (zeros & (uint8_t)(0u - zeros)));
			break;
		}
	}
	LSEC_TRY(lsec_station__attach(r, err));
	int prc = lsec_device_fuse_burn_digest(r->tgt, more, &probe);
	LSEC_TRY(lsec_station__ev_str(r, LSEC_EV_CLEAR_ATTEMPT,
				      prc == LSEC_E_TGT_OTP_LOCKED ? "refused (otp-locked)"
								   : "not refused",
				      err));
	LSEC_ENSURE(prc == LSEC_E_TGT_OTP_LOCKED, LSEC_E_DEVICE,
		    "unit '%s': an attempt to change the locked key digest was not refused",
		    r->serial);
out:
	return rc;
}

/* Whether this unit is in the sample (one in `sample`, chosen from its UID). */
static bool sampled(const lsec_station__run *r, unsigned sample)
{
	uint32_t h = 2166136261u ^ r->st->cfg->sample_seed;
	for (const char *p = r->uid_hex; *p; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
	}
	return sample <= 1 || h % sample == 0;
}

int lsec_station__act_negative_test(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const char *s = lsec_sop_step_param(r->step, "sample");
	unsigned sample = s ? (unsigned)strtoul(s, NULL, 10) : 1;
	lsec_key *canary_key = NULL;
	lsec_buf canary = LSEC_BUF_INIT(1 << 16);
	uint8_t payload[256], csha[32];
	lsec_image_sign_options so = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	lsec_device_boot_report br;
	lsec_err refused = LSEC_ERR_INIT;
	const uint8_t *img;
	size_t n = 0;
	LSEC_TRY(lsec_station__ev_int(r, "sample", sample, err));
	if (!sampled(r, sample)) {
		LSEC_TRY(lsec_station__ev_bool(r, "sampled", false, err));
		goto out;
	}
	LSEC_TRY(lsec_station__ev_bool(r, "sampled", true, err));
	/* The canary is signed by a throwaway key: not the product's, so it must not boot. */
	memset(payload, 0xa5, sizeof(payload));
	LSEC_TRY(lsec_key_generate(&canary_key, LSEC_KEY_ECDSA_P256, err));
	so.key = canary_key;
	so.product = r->product;
	so.embed_pubkey = true;
	so.has_security_counter = true;
	so.security_counter = r->release_counter;
	LSEC_TRY(lsec_image_sign(&canary, payload, sizeof(payload), &so, err));
	LSEC_TRY(lsec_sha256(csha, canary.data, canary.len, err));
	LSEC_TRY(lsec_station__ev_hex(r, "canary-sha256", csha, 32, err));
	img = lsec_image_bytes(r->image, &n);
	LSEC_ENSURE(img != NULL, LSEC_E_STATION_RELEASE, "no release image to restore");
	{
		uint32_t page = r->info.page_size ? r->info.page_size : 4096;
		size_t big = n > canary.len ? n : canary.len;
		uint32_t len = (uint32_t)((big + page - 1) / page * page);
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_flash_erase(r->tgt, 0, len, err));
		LSEC_TRY(lsec_device_flash_write(r->tgt, 0, canary.data, canary.len, err));
		memset(&br, 0, sizeof(br));
		r->attached = false;
		int brc = lsec_device_reset(&br, r->tgt, &refused);
		LSEC_TRY(lsec_station__ev_bool(r, "refused", !br.booted, err));
		/* Restore the approved image whatever happened, then check it boots. */
		LSEC_TRY(lsec_station__attach(r, err));
		LSEC_TRY(lsec_device_flash_erase(r->tgt, 0, len, err));
		LSEC_TRY(lsec_device_flash_write(r->tgt, 0, img, n, err));
		LSEC_ENSURE(brc == LSEC_E_TGT_BOOT_REFUSED && !br.booted, LSEC_E_DEVICE,
			    "unit '%s' booted an image not signed with the product key", r->serial);
		r->attached = false;
		LSEC_TRY(lsec_device_reset(&br, r->tgt, err));
		LSEC_TRY(lsec_station__ev_hex(r, "restored-sha256", br.digest, 32, err));
		LSEC_ENSURE(br.measured && lsec_ct_equal(br.digest, r->release_digest, 32),
			    LSEC_E_DEVICE, "unit '%s' did not boot the approved image again",
			    r->serial);
	}
out:
	lsec_buf_release(&canary);
	lsec_key_free(canary_key);
	return rc;
}
