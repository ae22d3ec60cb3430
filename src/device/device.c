/*
 * device.c - the generic device layer: picks the backend by URI scheme,
 * checks arguments, keeps a failed session failed (STYLE.md 22) and builds
 * named fuses, describe and the authenticated-erase token on top of the
 * backend's operations table.
 *
 * @test tests/unit/device/test_device.c
 */
#include "device/device_int.h"
#include "device/rsp_int.h"
#include "linesec/image.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

static const lsec_device_ops *const backends[] = {&lsec_device__sim_ops, &lsec_device__rsp_ops};

/* Failures after which the device's state is not known: the session fails. */
static bool is_sticky(int code)
{
	switch (code) {
	case LSEC_E_TGT_POWER_LOSS:
	case LSEC_E_TGT_ATTACH_FAILED:
	case LSEC_E_TGT_LINK:
	case LSEC_E_TGT_TIMEOUT:
	case LSEC_E_TGT_PROTOCOL:
	case LSEC_E_IO:
	case LSEC_E_DEVICE:
	case LSEC_E_NOMEM:
	case LSEC_E_INTERNAL:
		return true;
	default:
		return false;
	}
}

static int enter(lsec_device *t, lsec_err *err)
{
	if (!t->failed) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_TGT_FAILED, __FILE__, __LINE__,
			    "cannot use device '%s': the session failed earlier (%s); reset the device first",
			    t->uri, t->fail_msg);
}

static int leave(lsec_device *t, int rc, lsec_err *err)
{
	if (rc < 0 && is_sticky(rc)) {
		t->failed = true;
		snprintf(t->fail_msg, sizeof(t->fail_msg), "%s",
			 err != NULL && err->msg[0] ? err->msg : lsec_code_name(rc));
	}
	return rc;
}

/*
 * Runs one backend operation: refuses on a failed session, reports an
 * operation the backend lacks, and marks the session failed on a sticky
 * failure. Expects `int rc`, `lsec_err *err` and `out:`.
 */
#define DISPATCH(t, op, ...)                                                   \
	do {                                                                   \
		LSEC_ENSURE_REF(t);                                            \
		LSEC_TRY(enter((t), err));                                     \
		LSEC_ENSURE((t)->ops->op != NULL, LSEC_E_TGT_UNSUPPORTED,      \
			    "cannot run '%s' on device '%s': not supported by its backend", \
			    #op, (t)->uri);                                    \
		LSEC_TRY(leave((t), (t)->ops->op((t), __VA_ARGS__), err));     \
	} while (0)

/*
 * One multi-step operation (a fuse field burned word by word, a flash
 * erase-write-verify) is one device operation: the backend may defer its
 * durable writes to the end (ops->commit), which comes before the caller
 * hears the outcome. What the steps changed is committed on failure too.
 */
#define HELD(t, call)                                                          \
	do {                                                                   \
		LSEC_ENSURE_REF(t);                                            \
		(t)->hold++;                                                   \
		rc = (call);                                                   \
		rc = release((t), rc, err);                                    \
	} while (0)

static int release(lsec_device *t, int rc, lsec_err *err)
{
	lsec_err quiet = LSEC_ERR_INIT;
	if (--t->hold > 0 || t->ops->commit == NULL) {
		return rc;
	}
	/* After a failure the first error stands; a failed commit still fails the session. */
	lsec_err *cerr = rc < 0 ? &quiet : err;
	int crc = leave(t, t->ops->commit(t, cerr), cerr);
	return rc < 0 ? rc : crc;
}

int lsec_device_open(lsec_device **out, const char *uri, lsec_err *err)
{
	int rc = 0;
	lsec_device *t = NULL;
	LSEC_ENSURE_REF(out);
	*out = NULL;
	LSEC_ENSURE_REF(uri);
	const char *colon = strchr(uri, ':');
	LSEC_ENSURE(colon != NULL, LSEC_E_TGT_BAD_URI,
		    "cannot open device '%s': expected SCHEME:ADDRESS (sim:PATH, rsp://HOST:PORT?profile=NAME)", uri);
	const lsec_device_ops *ops = NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i]->scheme);
		if (n == (size_t)(colon - uri) && strncmp(uri, backends[i]->scheme, n) == 0) {
			ops = backends[i];
		}
	}
	LSEC_ENSURE(ops != NULL, LSEC_E_TGT_BAD_URI,
		    "cannot open device '%s': unknown scheme (expected sim: or rsp:)", uri);
	t = lsec_calloc(1, sizeof(*t));
	LSEC_ENSURE(t != NULL, LSEC_E_NOMEM, "out of memory");
	t->ops = ops;
	t->uri = lsec_strdup(uri);
	LSEC_ENSURE(t->uri != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(ops->open(t, colon + 1, err));
	*out = t;
	t = NULL;
out:
	lsec_device_close(t);
	return rc;
}

void lsec_device_close(lsec_device *t)
{
	if (t == NULL) {
		return;
	}
	if (t->impl != NULL) {
		t->ops->close(t);
	}
	lsec_free(t->uri);
	lsec_free(t);
}

const char *lsec_device_uri(const lsec_device *t)
{
	return t->uri;
}

bool lsec_device_failed(const lsec_device *t)
{
	return t->failed;
}

int lsec_device_info_get(lsec_device_info *out, lsec_device *t, lsec_err *err)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	DISPATCH(t, info, out, err);
out:
	return rc;
}

int lsec_device_flash_erase(lsec_device *t, uint32_t addr, uint32_t len, lsec_err *err)
{
	int rc = 0;
	DISPATCH(t, flash_erase, addr, len, err);
out:
	return rc;
}

int lsec_device_flash_write(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			    lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(data != NULL || len == 0, LSEC_E_USAGE, "missing argument 'data'");
	DISPATCH(t, flash_write, addr, data, len, err);
out:
	return rc;
}

int lsec_device_flash_read(uint8_t *out, lsec_device *t, uint32_t addr, size_t len, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(out != NULL || len == 0, LSEC_E_USAGE, "missing argument 'out'");
	DISPATCH(t, flash_read, addr, out, len, err);
out:
	return rc;
}

int lsec_device_flash_hash(uint8_t out[32], lsec_device *t, uint32_t addr, uint32_t len,
			   lsec_err *err)
{
	int rc = 0;
	EVP_MD_CTX *ctx = NULL;
	uint8_t chunk[4096];
	LSEC_ENSURE_REF(t);
	if (t->ops->flash_hash != NULL) {
		DISPATCH(t, flash_hash, addr, len, out, err);
		goto out;
	}
	/* No hash on the device: read back in chunks and hash here. */
	ctx = EVP_MD_CTX_new();
	LSEC_TRY_OSSL_PTR(ctx, LSEC_E_NOMEM, "cannot hash flash");
	LSEC_TRY_OSSL(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), LSEC_E_CRYPTO,
		      "cannot hash flash");
	for (uint32_t done = 0; done < len;) {
		uint32_t n = len - done < sizeof(chunk) ? len - done : (uint32_t)sizeof(chunk);
		LSEC_TRY(lsec_device_flash_read(chunk, t, addr + done, n, err));
		LSEC_TRY_OSSL(EVP_DigestUpdate(ctx, chunk, n), LSEC_E_CRYPTO, "cannot hash flash");
		done += n;
	}
	LSEC_TRY_OSSL(EVP_DigestFinal_ex(ctx, out, NULL), LSEC_E_CRYPTO, "cannot hash flash");
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int lsec_device_flash_compare(bool *same, uint8_t have_out[32], lsec_device *t, uint32_t addr,
			      const uint8_t *data, size_t len, lsec_err *err)
{
	int rc = 0;
	uint8_t want[32], have[32];
	LSEC_ENSURE_REF(same);
	*same = false;
	LSEC_ENSURE((data != NULL || len == 0) && len <= UINT32_MAX, LSEC_E_USAGE,
		    "cannot compare flash: no data or %zu bytes", len);
	LSEC_TRY(lsec_sha256(want, data, len, err));
	LSEC_TRY(lsec_device_flash_hash(have, t, addr, (uint32_t)len, err));
	*same = lsec_ct_equal(have, want, sizeof(have));
	if (have_out != NULL) {
		memcpy(have_out, have, sizeof(have));
	}
out:
	return rc;
}

static int flash_program(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			 lsec_err *err)
{
	int rc = 0;
	lsec_device_info info;
	bool same = false;
	LSEC_ENSURE(data != NULL && len > 0 && len <= UINT32_MAX, LSEC_E_USAGE,
		    "cannot program flash: no data");
	LSEC_TRY(lsec_device_info_get(&info, t, err));
	LSEC_ENSURE(info.page_size > 0 && addr % info.page_size == 0, LSEC_E_TGT_RANGE,
		    "cannot program flash of device '%s' at 0x%x: not aligned to the %u-byte page",
		    t->uri, addr, info.page_size);
	uint64_t span = (len + info.page_size - 1) / info.page_size * (uint64_t)info.page_size;
	LSEC_ENSURE(span <= info.flash_size && addr <= info.flash_size - span, LSEC_E_TGT_RANGE,
		    "cannot program %zu bytes at 0x%x on device '%s': flash has %u bytes", len, addr,
		    t->uri, info.flash_size);
	LSEC_TRY(lsec_device_flash_erase(t, addr, (uint32_t)span, err));
	LSEC_TRY(lsec_device_flash_write(t, addr, data, len, err));
	LSEC_TRY(lsec_device_flash_compare(&same, NULL, t, addr, data, len, err));
	LSEC_ENSURE(same, LSEC_E_TGT_VERIFY,
		    "cannot program flash of device '%s': read-back SHA-256 of 0x%x+%zu differs from the data written",
		    t->uri, addr, len);
out:
	return rc;
}

int lsec_device_flash_program(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			      lsec_err *err)
{
	int rc = 0;
	HELD(t, flash_program(t, addr, data, len, err));
out:
	return rc;
}

static const char *const boot_error_names[] = {
	"ok", "no-image", "bad-image", "bad-hash", "unsigned", "bad-key",
	"bad-signature", "rollback", "hw-fault", "no-key-digest",
};

const char *lsec_device_boot_error_name(uint32_t code)
{
	if (code < sizeof(boot_error_names) / sizeof(boot_error_names[0])) {
		return boot_error_names[code];
	}
	return "unknown";
}

int lsec_device_reset(lsec_device_boot_report *out, lsec_device *t, lsec_err *err)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(t);
	/* The explicit reset is what clears a failed session. */
	t->failed = false;
	t->fail_msg[0] = 0;
	DISPATCH(t, reset, out, err);
	LSEC_ENSURE(out->booted, LSEC_E_TGT_BOOT_REFUSED,
		    "device '%s' did not boot: boot error %u (%s)", t->uri, out->boot_error,
		    lsec_device_boot_error_name(out->boot_error));
out:
	return rc;
}

int lsec_device_boot_report_describe(json_t **out, const lsec_device_boot_report *r, lsec_err *err)
{
	int rc = 0;
	char hex[2 * LSEC_DEVICE_DIGEST_LEN + 1] = "";
	char ver[48];
	LSEC_ENSURE_REF(out);
	*out = NULL;
	LSEC_ENSURE_REF(r);
	if (r->measured) {
		lsec_hex_encode(hex, r->digest, sizeof(r->digest));
	}
	snprintf(ver, sizeof(ver), "%u.%u.%u+%lu", r->ver_major, r->ver_minor, r->ver_revision,
		 (unsigned long)r->ver_build);
	*out = json_pack("{s:b,s:I,s:s,s:s?,s:s?,s:s?,s:b,s:b}", "booted", r->booted,
			 "boot_error", (json_int_t)r->boot_error, "boot_error_name",
			 lsec_device_boot_error_name(r->boot_error), "digest",
			 r->measured ? hex : NULL, "version", r->booted ? ver : NULL, "build",
			 r->booted ? lsec_image_build_name((lsec_image_build)r->build_type) : NULL,
			 "secure_boot", r->secure_boot, "uart_open", r->uart_open);
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

int lsec_device_otp_read(uint32_t *out, lsec_device *t, uint32_t word, uint32_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(out);
	DISPATCH(t, otp_read, word, n, out, err);
out:
	return rc;
}

int lsec_device_otp_burn(lsec_device *t, uint32_t word, uint32_t bits, lsec_err *err)
{
	int rc = 0;
	DISPATCH(t, otp_burn, word, bits, err);
out:
	return rc;
}

int lsec_device_otp_lock(lsec_device *t, uint32_t word, lsec_err *err)
{
	int rc = 0;
	DISPATCH(t, otp_lock, word, err);
out:
	return rc;
}

int lsec_device_otp_locked(bool *out, lsec_device *t, uint32_t word, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(out);
	*out = false;
	DISPATCH(t, otp_locked, word, out, err);
out:
	return rc;
}

int lsec_device_otp_write(lsec_device *t, uint32_t word, uint32_t value, lsec_err *err)
{
	int rc = 0;
	uint32_t old = 0;
	LSEC_TRY(lsec_device_otp_read(&old, t, word, 1, err));
	LSEC_ENSURE((old & ~value) == 0, LSEC_E_TGT_OTP_CLEAR,
		    "cannot write OTP word %u of device '%s' to 0x%08x: it holds 0x%08x and OTP bits only go from 0 to 1",
		    word, t->uri, value, old);
	if (value != old) {
		LSEC_TRY(lsec_device_otp_burn(t, word, value & ~old, err));
	}
out:
	return rc;
}

/* ---- named fuses ------------------------------------------------------ */

static const struct {
	const char *name;
	const char *desc;
} fuse_names[LSEC_FUSE_COUNT] = {
	{"SECURE_BOOT_KEY_DIGEST", "Secure boot key digest (SHA-256 of the key's SPKI)"},
	{"SECURE_BOOT_EN", "Secure boot enable"},
	{"SECURE_VERSION", "Anti-rollback counter (thermometer code)"},
	{"DEBUG_LOCK", "Debug port lock level (1 locked, 2 locked for good)"},
	{"UART_CONSOLE_DIS", "UART console disable"},
	{"OTP_LOCK", "Write lock of the secure boot and debug-auth words"},
	{"DEBUG_AUTH_KEY_DIGEST", "Debug-auth key digest (SHA-256 of the key's SPKI)"},
};

bool lsec_device_fuse_is_digest(lsec_device_fuse fuse)
{
	return fuse == LSEC_FUSE_SECURE_BOOT_KEY_DIGEST || fuse == LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST;
}

const char *lsec_device_fuse_name(lsec_device_fuse fuse)
{
	return (unsigned)fuse < LSEC_FUSE_COUNT ? fuse_names[fuse].name : "UNKNOWN";
}

const char *lsec_device_fuse_description(lsec_device_fuse fuse)
{
	return (unsigned)fuse < LSEC_FUSE_COUNT ? fuse_names[fuse].desc : "unknown fuse";
}

#define FIELD_MAX_WORDS 8u

/* Locates a fuse in the device's layout and reads its words. */
static int field_read(lsec_device_fuse_field *fld, uint32_t words[FIELD_MAX_WORDS], lsec_device *t,
		      lsec_device_fuse fuse, lsec_err *err)
{
	int rc = 0;
	lsec_device_info info;
	LSEC_ENSURE((unsigned)fuse < LSEC_FUSE_COUNT, LSEC_E_USAGE, "unknown fuse %d", (int)fuse);
	if (t != NULL && t->ops->fuse_field != NULL) {
		LSEC_TRY(enter(t, err));
		LSEC_TRY(leave(t, t->ops->fuse_field(t, fuse, fld, err), err));
	} else {
		LSEC_TRY(lsec_device_info_get(&info, t, err));
		*fld = info.fuses[fuse];
	}
	LSEC_ENSURE(fld->nwords >= 1 && fld->nwords <= FIELD_MAX_WORDS && fld->mask != 0 &&
			    (!lsec_device_fuse_is_digest(fuse) ||
			     (fld->nwords == 8 && fld->mask == 0xffffffffu)),
		    LSEC_E_DEVICE, "cannot use fuse '%s' of device '%s': bad OTP layout",
		    fuse_names[fuse].name, t->uri);
	LSEC_TRY(lsec_device_otp_read(words, t, fld->word, fld->nwords, err));
out:
	return rc;
}

static uint32_t field_count(const lsec_device_fuse_field *fld, const uint32_t *words)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < fld->nwords; i++) {
		n += (uint32_t)__builtin_popcount(words[i] & fld->mask);
	}
	return n;
}

static bool field_locked(bool *out, lsec_device *t, const lsec_device_fuse_field *fld,
			 lsec_err *err, int *rcp)
{
	*out = true;
	for (unsigned i = 0; i < fld->nwords; i++) {
		bool l = false;
		*rcp = lsec_device_otp_locked(&l, t, fld->word + i, err);
		if (*rcp < 0) {
			return false;
		}
		*out = *out && l;
	}
	return true;
}

/*
 * Burns a field to the given words: refuses, changing nothing, when a word
 * would lose a bit or a word that needs bits is locked; then burns word by
 * word (a power loss keeps what was burned, as silicon would).
 */
static int field_burn(lsec_device *t, lsec_device_fuse fuse, const lsec_device_fuse_field *fld,
		      const uint32_t *old, const uint32_t *want, lsec_err *err)
{
	int rc = 0;
	for (unsigned i = 0; i < fld->nwords; i++) {
		LSEC_ENSURE((old[i] & ~want[i]) == 0, LSEC_E_TGT_OTP_CLEAR,
			    "cannot burn fuse '%s' of device '%s': word %u holds 0x%08x, which has bits the new value lacks (OTP bits only go from 0 to 1)",
			    fuse_names[fuse].name, t->uri, fld->word + i, old[i]);
		bool locked = false;
		LSEC_TRY(lsec_device_otp_locked(&locked, t, fld->word + i, err));
		LSEC_ENSURE(!locked || want[i] == old[i], LSEC_E_TGT_OTP_LOCKED,
			    "cannot burn fuse '%s' of device '%s': OTP word %u is write-locked",
			    fuse_names[fuse].name, t->uri, fld->word + i);
	}
	for (unsigned i = 0; i < fld->nwords; i++) {
		if (want[i] != old[i]) {
			LSEC_TRY(lsec_device_otp_burn(t, fld->word + i, want[i] & ~old[i], err));
		}
	}
out:
	return rc;
}

int lsec_device_fuse_read(lsec_device_fuse_value *out, lsec_device *t, lsec_device_fuse fuse,
			  lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_field fld;
	uint32_t words[FIELD_MAX_WORDS] = {0};
	memset(out, 0, sizeof(*out));
	LSEC_TRY(field_read(&fld, words, t, fuse, err));
	if (lsec_device_fuse_is_digest(fuse)) {
		for (unsigned i = 0; i < 8; i++) {
			lsec_put_u32le(out->bytes + 4 * i, words[i]);
		}
	} else {
		out->value = field_count(&fld, words);
	}
	if (!field_locked(&out->locked, t, &fld, err, &rc)) {
		goto out;
	}
out:
	return rc;
}

static int fuse_set(lsec_device *t, lsec_device_fuse fuse, uint32_t value, lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_field fld;
	uint32_t old[FIELD_MAX_WORDS] = {0}, want[FIELD_MAX_WORDS] = {0};
	LSEC_ENSURE(!lsec_device_fuse_is_digest(fuse), LSEC_E_USAGE,
		    "cannot set fuse '%s' to a number: burn the digest", lsec_device_fuse_name(fuse));
	LSEC_TRY(field_read(&fld, old, t, fuse, err));
	uint32_t cur = field_count(&fld, old);
	uint32_t nbits = 0;
	for (unsigned i = 0; i < fld.nwords; i++) {
		nbits += (uint32_t)__builtin_popcount(fld.mask);
	}
	LSEC_ENSURE(value <= nbits, LSEC_E_TGT_RANGE,
		    "cannot set fuse '%s' of device '%s' to %u: at most %u", fuse_names[fuse].name,
		    t->uri, value, nbits);
	LSEC_ENSURE(value >= cur, LSEC_E_TGT_OTP_CLEAR,
		    "cannot set fuse '%s' of device '%s' to %u: it is %u and OTP bits only go from 0 to 1",
		    fuse_names[fuse].name, t->uri, value, cur);
	/* Keep every bit already set (a partial burn may have set later ones). */
	uint32_t need = value - cur;
	for (unsigned i = 0; i < fld.nwords; i++) {
		want[i] = old[i];
		for (unsigned b = 0; b < 32 && need > 0; b++) {
			uint32_t bit = 1u << b;
			if ((fld.mask & bit) && !(want[i] & bit)) {
				want[i] |= bit;
				need--;
			}
		}
	}
	LSEC_TRY(field_burn(t, fuse, &fld, old, want, err));
out:
	return rc;
}

int lsec_device_fuse_set(lsec_device *t, lsec_device_fuse fuse, uint32_t value, lsec_err *err)
{
	int rc = 0;
	HELD(t, fuse_set(t, fuse, value, err));
out:
	return rc;
}

static int fuse_burn_key_digest(lsec_device *t, lsec_device_fuse fuse, const uint8_t digest[32],
				lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_field fld;
	uint32_t old[FIELD_MAX_WORDS] = {0}, want[FIELD_MAX_WORDS] = {0};
	LSEC_ENSURE_REF(digest);
	LSEC_ENSURE(lsec_device_fuse_is_digest(fuse), LSEC_E_USAGE,
		    "cannot burn a digest into fuse '%s': it is not a key digest",
		    lsec_device_fuse_name(fuse));
	LSEC_TRY(field_read(&fld, old, t, fuse, err));
	for (unsigned i = 0; i < 8; i++) {
		want[i] = lsec_get_u32le(digest + 4 * i);
	}
	LSEC_TRY(field_burn(t, fuse, &fld, old, want, err));
out:
	return rc;
}

int lsec_device_fuse_burn_digest(lsec_device *t, const uint8_t digest[32], lsec_err *err)
{
	return lsec_device_fuse_burn_key_digest(t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, digest, err);
}

int lsec_device_fuse_burn_key_digest(lsec_device *t, lsec_device_fuse fuse,
				     const uint8_t digest[32], lsec_err *err)
{
	int rc = 0;
	HELD(t, fuse_burn_key_digest(t, fuse, digest, err));
out:
	return rc;
}

static int fuse_lock(lsec_device *t, lsec_device_fuse fuse, lsec_err *err)
{
	int rc = 0;
	lsec_device_fuse_field fld;
	uint32_t words[FIELD_MAX_WORDS] = {0};
	LSEC_TRY(field_read(&fld, words, t, fuse, err));
	for (unsigned i = 0; i < fld.nwords; i++) {
		bool locked = false;
		LSEC_TRY(lsec_device_otp_locked(&locked, t, fld.word + i, err));
		if (!locked) {
			LSEC_TRY(lsec_device_otp_lock(t, fld.word + i, err));
		}
	}
out:
	return rc;
}

int lsec_device_fuse_lock(lsec_device *t, lsec_device_fuse fuse, lsec_err *err)
{
	int rc = 0;
	HELD(t, fuse_lock(t, fuse, err));
out:
	return rc;
}

/* ---- debug, keystore, erase --------------------------------------------- */

int lsec_device_chip_check(lsec_device *t, const char *family, const char *revision,
			   lsec_err *err)
{
	int rc = 0;
	lsec_device_profile *own = NULL;
	const lsec_device_profile *p = NULL;
	char *fam = NULL, *rev = NULL;
	const char *label = NULL, *rev_label = NULL;
	lsec_err why = LSEC_ERR_INIT;
	LSEC_ENSURE_REF(t);
	if (family == NULL) {
		goto out;
	}
	LSEC_TRY(enter(t, err));
	if (t->ops->chip_read != NULL) {
		LSEC_TRY(leave(t, t->ops->chip_read(t, &p, &fam, &rev, err), err));
	} else {
		lsec_device_info info;
		LSEC_TRY(lsec_device_info_get(&info, t, err));
		LSEC_TRY(lsec_device_profile_load(&own, "linesec-sim", err));
		p = own;
		fam = lsec_strdup(info.chip_id);
		rev = lsec_strdup(info.chip_id);
		LSEC_ENSURE(fam != NULL && rev != NULL, LSEC_E_NOMEM, "out of memory");
	}
	int mrc = lsec_device_profile_match(&label, p, 0, fam, &why);
	if (mrc == 0 && rev != NULL) {
		mrc = lsec_device_profile_match(&rev_label, p, 1, rev, &why);
	}
	if (mrc == 0) {
		mrc = lsec_device_profile_check_product(p, family, revision, rev_label, &why);
	}
	if (mrc < 0) {
		LSEC_BAIL(mrc, "device '%s' is not the product's chip (%s%s%s): %s", t->uri, family,
			  revision ? " revision " : "", revision ? revision : "", why.msg);
	}
out:
	lsec_free(fam);
	lsec_free(rev);
	lsec_device_profile_free(own);
	return rc;
}

int lsec_device_debug_attach(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	DISPATCH(t, debug_attach, err);
out:
	return rc;
}

int lsec_device_debug_lock_level(unsigned *out, lsec_device *t, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(out);
	*out = 0;
	DISPATCH(t, debug_lock_level, out, err);
out:
	return rc;
}

int lsec_device_key_generate(lsec_device *t, unsigned slot, lsec_err *err)
{
	int rc = 0;
	DISPATCH(t, key_generate, slot, err);
out:
	return rc;
}

int lsec_device_key_inject(lsec_device *t, unsigned slot, const lsec_secret *pkcs8_der,
			   lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(pkcs8_der);
	DISPATCH(t, key_inject, slot, pkcs8_der, err);
out:
	return rc;
}

int lsec_device_key_public(lsec_buf *spki, lsec_device *t, unsigned slot, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(spki);
	DISPATCH(t, key_public, slot, spki, err);
out:
	return rc;
}

int lsec_device_key_sign(lsec_buf *sig, lsec_device *t, unsigned slot, const uint8_t *challenge,
			 size_t len, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(sig);
	LSEC_ENSURE(challenge != NULL && len > 0, LSEC_E_USAGE,
		    "cannot sign: the challenge is empty");
	DISPATCH(t, key_sign, slot, challenge, len, sig, err);
out:
	return rc;
}

int lsec_device_key_status(lsec_device_slot_status *out, lsec_device *t, unsigned slot,
			   lsec_err *err)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	DISPATCH(t, key_status, slot, out, err);
out:
	return rc;
}

int lsec_device_cert_store(lsec_device *t, unsigned slot, const uint8_t *der, size_t len,
			   lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(der != NULL && len > 0, LSEC_E_USAGE, "cannot store certificate: it is empty");
	DISPATCH(t, cert_store, slot, der, len, err);
out:
	return rc;
}

int lsec_device_cert_read(lsec_buf *der, lsec_device *t, unsigned slot, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(der);
	DISPATCH(t, cert_read, slot, der, err);
out:
	return rc;
}

int lsec_device_credential_store(lsec_device *t, const lsec_secret *blob, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(blob);
	DISPATCH(t, credential_store, blob, err);
out:
	return rc;
}

int lsec_device_erase_all(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	DISPATCH(t, erase_all, err);
out:
	return rc;
}

int lsec_device_erase_challenge(uint8_t out[LSEC_DEVICE_ERASE_CHALLENGE_LEN], lsec_device *t,
				lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(out);
	memset(out, 0, LSEC_DEVICE_ERASE_CHALLENGE_LEN);
	DISPATCH(t, erase_challenge, out, err);
out:
	return rc;
}

int lsec_device_erase_authenticated(lsec_device *t, const uint8_t *token, size_t len,
				    lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(token != NULL && len > 0, LSEC_E_USAGE,
		    "cannot erase: the authentication token is empty");
	DISPATCH(t, erase_authenticated, token, len, err);
out:
	return rc;
}

int lsec_device_blank_check(uint8_t digest_out[32], lsec_device *t, lsec_err *err)
{
	int rc = 0;
	lsec_device_info info;
	EVP_MD_CTX *ctx = NULL;
	uint8_t ff[4096], want[32], got[32];
	memset(digest_out, 0, 32);
	LSEC_TRY(lsec_device_info_get(&info, t, err));
	for (unsigned s = 0; s < info.key_slots; s++) {
		lsec_device_slot_status st;
		LSEC_TRY(lsec_device_key_status(&st, t, s, err));
		LSEC_ENSURE(st.state == LSEC_SLOT_EMPTY && !st.has_cert, LSEC_E_TGT_NOT_BLANK,
			    "device '%s' is not blank: key slot %u still holds %s", t->uri, s,
			    st.state != LSEC_SLOT_EMPTY ? "a key" : "a certificate");
	}
	memset(ff, 0xff, sizeof(ff));
	ctx = EVP_MD_CTX_new();
	LSEC_TRY_OSSL_PTR(ctx, LSEC_E_NOMEM, "cannot blank-check flash");
	LSEC_TRY_OSSL(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), LSEC_E_CRYPTO,
		      "cannot blank-check flash");
	for (uint32_t done = 0; done < info.flash_size;) {
		uint32_t n = info.flash_size - done < sizeof(ff) ? info.flash_size - done
								 : (uint32_t)sizeof(ff);
		LSEC_TRY_OSSL(EVP_DigestUpdate(ctx, ff, n), LSEC_E_CRYPTO, "cannot blank-check flash");
		done += n;
	}
	LSEC_TRY_OSSL(EVP_DigestFinal_ex(ctx, want, NULL), LSEC_E_CRYPTO, "cannot blank-check flash");
	LSEC_TRY(lsec_device_flash_hash(got, t, 0, info.flash_size, err));
	LSEC_ENSURE(lsec_ct_equal(want, got, sizeof(got)), LSEC_E_TGT_NOT_BLANK,
		    "device '%s' is not blank: flash does not read back erased (0xff)", t->uri);
	memcpy(digest_out, got, sizeof(got));
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

void lsec_device__erase_message(uint8_t *out, const uint8_t uid[16],
				const uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN])
{
	size_t n = sizeof(LSEC_DEVICE__ERASE_DOMAIN) - 1;
	memcpy(out, LSEC_DEVICE__ERASE_DOMAIN, n);
	memcpy(out + n, uid, LSEC_DEVICE_UID_LEN);
	memcpy(out + n + LSEC_DEVICE_UID_LEN, challenge, LSEC_DEVICE_ERASE_CHALLENGE_LEN);
}

int lsec_device_erase_token(lsec_buf *out, const uint8_t uid[16],
			    const uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN], EVP_PKEY *key,
			    lsec_err *err)
{
	int rc = 0;
	uint8_t *spki = NULL;
	uint8_t msg[LSEC_DEVICE__ERASE_MSG_LEN];
	LSEC_ENSURE_REF(out);
	LSEC_ENSURE_REF(uid);
	LSEC_ENSURE_REF(challenge);
	LSEC_ENSURE_REF(key);
	bool ed = EVP_PKEY_is_a(key, "ED25519");
	LSEC_ENSURE(ed || EVP_PKEY_is_a(key, "EC"), LSEC_E_USAGE,
		    "cannot build erase token: expected an ECDSA P-256 or Ed25519 key");
	int n = i2d_PUBKEY(key, &spki);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot build erase token: cannot encode the public key");
	LSEC_ENSURE(n <= 0xffff, LSEC_E_USAGE, "cannot build erase token: public key too large");
	lsec_device__erase_message(msg, uid, challenge);
	LSEC_TRY(lsec_buf_append_u16le(out, (uint16_t)n, err));
	LSEC_TRY(lsec_buf_append(out, spki, (size_t)n, err));
	LSEC_TRY(lsec_evp_sign(out, key, ed ? NULL : "SHA256", msg, sizeof(msg),
			       "cannot build erase token: cannot sign", err));
out:
	OPENSSL_free(spki);
	return rc;
}

/* ---- describe ------------------------------------------------------------ */

static const char *const cap_names[] = {"keygen", "key-inject", "auth-erase", "flash-hash"};
static const char *const slot_state_names[] = {"empty", "generated", "injected"};

void lsec_device_description_free(lsec_device_description *d)
{
	if (d == NULL) {
		return;
	}
	lsec_free(d->uri);
	lsec_free(d->slots);
	lsec_free(d);
}

int lsec_device_describe(lsec_device_description **out, lsec_device *t, lsec_err *err)
{
	int rc = 0;
	lsec_device_description *d = NULL;
	LSEC_ENSURE_REF(out);
	*out = NULL;
	d = lsec_calloc(1, sizeof(*d));
	LSEC_ENSURE(d != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_device_info_get(&d->info, t, err));
	LSEC_TRY(lsec_device_debug_lock_level(&d->debug_lock_level, t, err));
	d->uri = lsec_strdup(t->uri);
	LSEC_ENSURE(d->uri != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_hex_encode(d->uid_hex, d->info.uid, sizeof(d->info.uid));
	for (unsigned i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (d->info.caps & (1u << i)) {
			d->capabilities[d->ncapabilities++] = cap_names[i];
		}
	}
	for (int f = 0; f < LSEC_FUSE_COUNT; f++) {
		LSEC_TRY(lsec_device_fuse_read(&d->fuses[f], t, (lsec_device_fuse)f, err));
	}
	if (d->info.key_slots > 0) {
		d->slots = lsec_calloc(d->info.key_slots, sizeof(*d->slots));
		LSEC_ENSURE(d->slots != NULL, LSEC_E_NOMEM, "out of memory");
	}
	for (unsigned s = 0; s < d->info.key_slots; s++) {
		lsec_device_slot_info *si = &d->slots[s];
		LSEC_TRY(lsec_device_key_status(&si->status, t, s, err));
		si->state_name = (unsigned)si->status.state < 3 ? slot_state_names[si->status.state]
								 : "unknown";
	}
	*out = d;
	d = NULL;
out:
	lsec_device_description_free(d);
	return rc;
}

int lsec_device_description_json(json_t **out, const lsec_device_description *d, lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL, *caps = NULL, *fuses = NULL, *slots = NULL;
	const lsec_device_info *info = &d->info;
	char hex[2 * LSEC_DEVICE_DIGEST_LEN + 1];
	LSEC_ENSURE_REF(out);
	*out = NULL;
	j = json_object();
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory");
	/* The containers belong to j from here on; the locals borrow them. */
	caps = json_array();
	LSEC_TRY(lsec_json_set(j, "capabilities", caps, err));
	fuses = json_object();
	LSEC_TRY(lsec_json_set(j, "fuses", fuses, err));
	slots = json_array();
	LSEC_TRY(lsec_json_set(j, "key_slots", slots, err));
	for (size_t i = 0; i < d->ncapabilities; i++) {
		if (json_array_append_new(caps, json_string(d->capabilities[i])) != 0) {
			LSEC_BAIL(LSEC_E_NOMEM, "out of memory");
		}
	}
	for (int f = 0; f < LSEC_FUSE_COUNT; f++) {
		const lsec_device_fuse_value *v = &d->fuses[f];
		json_t *e = NULL;
		if (lsec_device_fuse_is_digest((lsec_device_fuse)f)) {
			lsec_hex_encode(hex, v->bytes, sizeof(v->bytes));
			e = json_pack("{s:s,s:b,s:I,s:I,s:s}", "value", hex, "locked", v->locked,
				      "word", (json_int_t)info->fuses[f].word, "words",
				      (json_int_t)info->fuses[f].nwords, "description",
				      fuse_names[f].desc);
		} else {
			e = json_pack("{s:I,s:b,s:I,s:I,s:I,s:s}", "value", (json_int_t)v->value,
				      "locked", v->locked, "word", (json_int_t)info->fuses[f].word,
				      "words", (json_int_t)info->fuses[f].nwords, "mask",
				      (json_int_t)info->fuses[f].mask, "description",
				      fuse_names[f].desc);
		}
		LSEC_TRY(lsec_json_set(fuses, fuse_names[f].name, e, err));
	}
	for (unsigned s = 0; s < info->key_slots; s++) {
		if (json_array_append_new(slots, json_pack("{s:I,s:s,s:b}", "slot", (json_int_t)s,
							   "state", d->slots[s].state_name, "cert",
							   d->slots[s].status.has_cert)) != 0) {
			LSEC_BAIL(LSEC_E_NOMEM, "out of memory");
		}
	}
	LSEC_TRY(lsec_json_set(j, "uri", json_string(d->uri), err));
	LSEC_TRY(lsec_json_set(j, "chip", json_string(info->chip_id), err));
	LSEC_TRY(lsec_json_set(j, "uid", json_string(d->uid_hex), err));
	LSEC_TRY(lsec_json_set(j, "flash_size", json_integer(info->flash_size), err));
	LSEC_TRY(lsec_json_set(j, "page_size", json_integer(info->page_size), err));
	LSEC_TRY(lsec_json_set(j, "otp_words", json_integer(info->otp_words), err));
	LSEC_TRY(lsec_json_set(j, "debug_lock_level", json_integer(d->debug_lock_level), err));
	*out = j;
	j = NULL;
out:
	json_decref(j);
	return rc;
}
