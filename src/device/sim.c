/*
 * sim.c - the simulated MCU backend ("sim:PATH[?OPTIONS]").
 *
 * Silicon semantics it keeps: OTP bits only set and a locked word ignores
 * writes (and says so); nothing clears secure-boot enable; a debug lock
 * takes effect at the next reset, after which attach is refused and only
 * authenticated erase works; flash erases to 0xff in pages and programming
 * only clears bits (NOR); keys generated in a slot never leave.
 *
 * Persistence: the unit lives in memory for the session. Each operation
 * that changes it ends with one commit, before it returns: the state file
 * replaced atomically if identity, OTP, keys or fault counters changed,
 * then the flash pages it changed written in place and synced once. So
 * whatever an operation reported done is on disk, a process killed
 * between operations loses nothing, and reads, hashes and resets write and
 * read nothing (a reset re-reads the files only after a failed commit left
 * memory and disk apart). docs/device.md, "Persistence". Faults come from the unit's
 * state (its fleet) and from the URI query; both are deterministic under
 * the seed.
 *
 * A session holds an exclusive lock on the unit's device-secret file, as a
 * probe holds the one debug port: a second session on the same unit fails
 * with LSEC_E_DEVICE.
 *
 * @test tests/unit/device/test_sim.c
 */
#include "device/device_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

typedef struct sim_session {
	const lsec_device *dev; /* its hold count defers commits (device_int.h) */
	char *path;
	sim_unit u;
	sim_faults faults; /* this session's, from the URI */
	bool has_seed;     /* the URI gave a seed */
	uint64_t seed;
	lsec_secret *huk;
	int lock_fd;
	bool attached;
	unsigned lock_level; /* debug lock in effect since the last reset */
	/* The authenticated-erase challenge given last; RAM only, one attempt. */
	uint8_t challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
	bool has_challenge;
	int flash_fd;        /* the flash file, updated in place page by page */
	uint8_t *dirty;      /* one per flash page: changed since the last commit */
	bool state_dirty;    /* the state file lags memory */
	bool stale;          /* a commit failed: memory and files may differ */
	lsec_device__sim_stats stats;
} sim_session;

#define S(t) ((sim_session *)(t)->impl)
#define FAULTS(s) {&(s)->faults, &(s)->u.faults}

static unsigned fused_lock_level(const sim_unit *u)
{
	return (unsigned)__builtin_popcount(u->otp[SIM_OTP_DEBUG_LOCK] & 3u);
}

/* Makes every change so far durable: the state file first, then the changed flash pages. */
static int flush(sim_session *s, lsec_err *err)
{
	int rc = 0;
	uint32_t pages = 0;
	if (s->state_dirty) {
		LSEC_TRY(lsec_device__sim_save(&s->u, s->path, SIM_SAVE_STATE, err));
		s->state_dirty = false;
		s->stats.state_writes++;
	}
	LSEC_TRY(lsec_device__sim_flash_sync(&pages, s->flash_fd, &s->u, s->dirty, s->path, err));
	if (pages > 0) {
		memset(s->dirty, 0, s->u.flash_size / s->u.page_size);
		s->stats.flash_pages += pages;
		s->stats.flash_syncs++;
	}
out:
	if (rc < 0) {
		s->stale = true;
	}
	return rc;
}

/* The end of one operation: flush, unless it is a step of a larger one (then its end flushes). */
static int commit(sim_session *s, lsec_err *err)
{
	return s->dev->hold > 0 ? 0 : flush(s, err);
}

static int sim_commit(lsec_device *t, lsec_err *err)
{
	return flush(S(t), err);
}

/* Sets flash byte addr to v, marking its page changed if it is. */
static void flash_set(sim_session *s, uint32_t addr, uint8_t v)
{
	if (s->u.flash[addr] != v) {
		s->u.flash[addr] = v;
		s->dirty[addr / s->u.page_size] = 1;
	}
}

/* Erases the pages of [addr, addr+len) that are not erased already. */
static void flash_erase_pages(sim_session *s, uint32_t addr, uint32_t len)
{
	uint32_t ps = s->u.page_size;
	for (uint32_t a = addr; a < addr + len; a += ps) {
		uint8_t *p = s->u.flash + a;
		if (p[0] != 0xff || memcmp(p, p + 1, ps - 1) != 0) {
			memset(p, 0xff, ps);
			s->dirty[a / ps] = 1;
		}
	}
}

/* Models programming time: per operation and per KiB moved. */
static void delay(sim_session *s, size_t bytes)
{
	const sim_faults *fs[2] = FAULTS(s);
	uint64_t us = 0;
	for (int i = 0; i < 2; i++) {
		us += fs[i]->lat_op_us + (uint64_t)fs[i]->lat_kib_us * bytes / 1024u;
	}
	if (us > 0) {
		struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		}
	}
}

static void apply_stuck(sim_session *s)
{
	const sim_faults *fs[2] = FAULTS(s);
	for (int i = 0; i < 2; i++) {
		if (fs[i]->stuck && fs[i]->stuck_addr < s->u.flash_size) {
			uint8_t m = (uint8_t)(1u << fs[i]->stuck_bit);
			uint8_t p = s->u.flash[fs[i]->stuck_addr];
			flash_set(s, fs[i]->stuck_addr,
				  (uint8_t)((p & ~m) | (fs[i]->stuck_val ? m : 0)));
		}
	}
}

static int need_attached(sim_session *s, const char *what, lsec_err *err)
{
	if (s->attached) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_TGT_NOT_ATTACHED, __FILE__, __LINE__,
			    "cannot %s on sim unit '%s': no debug session attached", what, s->path);
}

static int check_range(sim_session *s, uint64_t addr, uint64_t len, const char *what,
		       lsec_err *err)
{
	if (addr <= s->u.flash_size && len <= s->u.flash_size - addr) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_TGT_RANGE, __FILE__, __LINE__,
			    "cannot %s 0x%llx+%llu on sim unit '%s': outside flash (%u bytes)", what,
			    (unsigned long long)addr, (unsigned long long)len, s->path,
			    s->u.flash_size);
}

static int power_loss(sim_session *s, const char *what, lsec_err *err)
{
	int rc = 0;
	s->attached = false;
	s->state_dirty = true;
	LSEC_TRY(flush(s, err));
	LSEC_BAIL(LSEC_E_TGT_POWER_LOSS, "power lost on sim unit '%s' during %s (partial state kept)",
		  s->path, what);
out:
	return rc;
}

/* ---- session ------------------------------------------------------------ */

static void sim_close(lsec_device *t)
{
	sim_session *s = S(t);
	lsec_device__sim_unit_release(&s->u);
	lsec_secret_free(s->huk);
	if (s->flash_fd >= 0) {
		close(s->flash_fd);
	}
	lsec_free(s->dirty);
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
	}
	lsec_free(s->path);
	lsec_free(s);
	t->impl = NULL;
}

static int load_huk(sim_session *s, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(SIM_HUK_LEN);
	char *hp = lsec_asprintf("%s.huk", s->path);
	LSEC_ENSURE(hp != NULL, LSEC_E_NOMEM, "out of memory");
	s->lock_fd = open(hp, O_RDONLY | O_CLOEXEC);
	LSEC_ENSURE(s->lock_fd >= 0, LSEC_E_IO, "cannot open device secret '%s': %s", hp,
		    strerror(errno));
	LSEC_ENSURE(flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0, LSEC_E_DEVICE,
		    "cannot open sim unit '%s': another session holds it", s->path);
	LSEC_TRY(lsec_file_read(&b, hp, err));
	LSEC_ENSURE(b.len == SIM_HUK_LEN, LSEC_E_TGT_BAD_STATE,
		    "cannot load device secret '%s': expected %u bytes", hp, SIM_HUK_LEN);
	LSEC_TRY(lsec_secret_from(&s->huk, b.data, b.len, err));
out:
	lsec_buf_release(&b);
	lsec_free(hp);
	return rc;
}

static int sim_open(lsec_device *t, const char *rest, lsec_err *err)
{
	int rc = 0;
	char *fp = NULL;
	sim_session *s = lsec_calloc(1, sizeof(*s));
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "out of memory");
	s->lock_fd = -1;
	s->flash_fd = -1;
	s->dev = t;
	t->impl = s;
	const char *q = strchr(rest, '?');
	size_t plen = q ? (size_t)(q - rest) : strlen(rest);
	LSEC_ENSURE(plen > 0, LSEC_E_TGT_BAD_URI, "cannot open device 'sim:%s': missing unit path",
		    rest);
	s->path = lsec_malloc(plen + 1);
	LSEC_ENSURE(s->path != NULL, LSEC_E_NOMEM, "out of memory");
	memcpy(s->path, rest, plen);
	s->path[plen] = 0;
	LSEC_TRY(lsec_device__sim_faults_parse(&s->faults, &s->has_seed, &s->seed, q ? q + 1 : NULL,
					       err));
	LSEC_ENSURE(access(s->path, F_OK) == 0, LSEC_E_NOTFOUND,
		    "cannot open sim unit '%s': no such unit", s->path);
	LSEC_TRY(load_huk(s, err));
	LSEC_TRY(lsec_device__sim_load(&s->u, s->path, err));
	s->stats.loads++;
	s->dirty = lsec_calloc(s->u.flash_size / s->u.page_size, 1);
	LSEC_ENSURE(s->dirty != NULL, LSEC_E_NOMEM, "out of memory");
	fp = lsec_asprintf("%s.flash", s->path);
	LSEC_ENSURE(fp != NULL, LSEC_E_NOMEM, "out of memory");
	s->flash_fd = open(fp, O_RDWR | O_CLOEXEC);
	LSEC_ENSURE(s->flash_fd >= 0, LSEC_E_IO, "cannot open sim flash '%s': %s", fp,
		    strerror(errno));
	LSEC_ENSURE(!s->faults.stuck || s->faults.stuck_addr < s->u.flash_size, LSEC_E_TGT_BAD_URI,
		    "invalid fault option 'stuck': address 0x%x beyond flash of '%s'",
		    s->faults.stuck_addr, s->path);
	if (!s->has_seed) {
		s->seed = s->u.seed;
	}
	s->lock_level = fused_lock_level(&s->u);
	apply_stuck(s); /* a stuck bit's page is written with the next commit */
out:
	lsec_free(fp);
	return rc;
}

static int sim_info(lsec_device *t, lsec_device_info *out, lsec_err *err)
{
	(void)err;
	sim_session *s = S(t);
	snprintf(out->chip_id, sizeof(out->chip_id), "%s", s->u.chip_id);
	memcpy(out->uid, s->u.uid, sizeof(out->uid));
	out->flash_size = s->u.flash_size;
	out->page_size = s->u.page_size;
	out->otp_words = SIM_OTP_WORDS;
	out->key_slots = SIM_KEY_SLOTS;
	out->caps = s->u.caps;
	out->fuses[LSEC_FUSE_SECURE_BOOT_KEY_DIGEST] = (lsec_device_fuse_field){SIM_OTP_KEY_DIGEST, 8, 0xffffffffu};
	out->fuses[LSEC_FUSE_SECURE_BOOT_ENABLE] = (lsec_device_fuse_field){SIM_OTP_SB_ENABLE, 1, 1u};
	out->fuses[LSEC_FUSE_ANTI_ROLLBACK] = (lsec_device_fuse_field){SIM_OTP_ROLLBACK, 2, 0xffffffffu};
	out->fuses[LSEC_FUSE_DEBUG_LOCK] = (lsec_device_fuse_field){SIM_OTP_DEBUG_LOCK, 1, 3u};
	out->fuses[LSEC_FUSE_UART_DISABLE] = (lsec_device_fuse_field){SIM_OTP_UART_DIS, 1, 1u};
	out->fuses[LSEC_FUSE_OTP_LOCK] = (lsec_device_fuse_field){SIM_OTP_LOCK, 1, 1u};
	out->fuses[LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST] = (lsec_device_fuse_field){SIM_OTP_DEBUG_AUTH, 8, 0xffffffffu};
	return 0;
}

/* ---- flash -------------------------------------------------------------- */

static int sim_flash_erase(lsec_device *t, uint32_t addr, uint32_t len, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "erase flash", err));
	LSEC_TRY(check_range(s, addr, len, "erase", err));
	LSEC_ENSURE(addr % s->u.page_size == 0 && len % s->u.page_size == 0, LSEC_E_TGT_RANGE,
		    "cannot erase 0x%x+%u on sim unit '%s': not aligned to the %u-byte page", addr,
		    len, s->path, s->u.page_size);
	delay(s, len);
	flash_erase_pages(s, addr, len);
	apply_stuck(s);
	LSEC_TRY(commit(s, err));
out:
	return rc;
}

static int sim_flash_write(lsec_device *t, uint32_t addr, const uint8_t *data, size_t len,
			   lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	sim_faults *fs[2] = FAULTS(s);
	LSEC_TRY(need_attached(s, "write flash", err));
	LSEC_TRY(check_range(s, addr, len, "write", err));
	/* Power loss after K bytes: the first K land, then the unit goes down. */
	bool unit_cut = s->u.faults.flash_cut != 0; /* its counter lives in the state file */
	size_t n = len;
	bool cut = false;
	for (int i = 0; i < 2; i++) {
		if (fs[i]->flash_cut == 0) {
			continue;
		}
		if (fs[i]->flash_cut <= n) {
			n = (size_t)fs[i]->flash_cut;
			cut = true;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (fs[i]->flash_cut != 0) {
			fs[i]->flash_cut = fs[i]->flash_cut <= n ? 0 : fs[i]->flash_cut - n;
		}
	}
	delay(s, n);
	for (size_t i = 0; i < n; i++) {
		/* NOR programming only clears bits */
		flash_set(s, (uint32_t)(addr + i), (uint8_t)(s->u.flash[addr + i] & data[i]));
	}
	apply_stuck(s);
	s->state_dirty |= unit_cut; /* the unit's counter moved */
	if (cut) {
		LSEC_TRY(power_loss(s, "a flash write", err));
	}
	LSEC_TRY(commit(s, err));
out:
	return rc;
}

static int sim_flash_read(lsec_device *t, uint32_t addr, uint8_t *out, size_t len, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "read flash", err));
	LSEC_TRY(check_range(s, addr, len, "read", err));
	delay(s, len);
	if (len > 0) {
		memcpy(out, s->u.flash + addr, len);
	}
out:
	return rc;
}

static int sim_flash_hash(lsec_device *t, uint32_t addr, uint32_t len, uint8_t out[32],
			  lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "hash flash", err));
	LSEC_TRY(check_range(s, addr, len, "hash", err));
	delay(s, 0);
	LSEC_TRY(lsec_sha256(out, s->u.flash + addr, len, err));
out:
	return rc;
}

/* ---- reset and boot ------------------------------------------------------ */

static int sim_reset(lsec_device *t, lsec_device_boot_report *out, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	sim_faults *fs[2] = FAULTS(s);
	sim_unit fresh;
	/*
	 * Power cycle: the device comes back with what its storage kept. Every
	 * operation committed its changes, so memory is what the files hold,
	 * unless a commit failed: then read them again.
	 */
	lsec_err quiet = LSEC_ERR_INIT;
	(void)flush(s, &quiet); /* a failure leaves it stale: the files decide */
	if (s->stale) {
		LSEC_TRY(lsec_device__sim_load(&fresh, s->path, err));
		lsec_device__sim_unit_release(&s->u);
		s->u = fresh;
		memset(s->dirty, 0, s->u.flash_size / s->u.page_size);
		s->state_dirty = false;
		s->stale = false;
		s->stats.loads++;
	}
	apply_stuck(s);
	s->has_challenge = false;
	s->lock_level = fused_lock_level(&s->u);
	if (s->lock_level > 0) {
		s->attached = false;
	}
	delay(s, 0);
	for (int i = 0; i < 2; i++) {
		if (fs[i]->boot_fail > 0) {
			fs[i]->boot_fail--;
			out->boot_error = LSEC_BOOT_HW_FAULT;
			if (i == 1) {
				s->state_dirty = true;
				LSEC_TRY(commit(s, err));
			}
			goto out;
		}
	}
	LSEC_TRY(lsec_device__sim_boot(out, &s->u, err));
out:
	return rc;
}

/* ---- OTP ------------------------------------------------------------------ */

static bool word_locked(const sim_unit *u, uint32_t word)
{
	if (u->otp[SIM_LOCK_WORD + word / 32] & (1u << (word % 32))) {
		return true;
	}
	/* The OTP lock fuse write-locks the secure-boot and debug-auth words and itself. */
	return (u->otp[SIM_OTP_LOCK] & 1u) &&
	       (word <= SIM_OTP_SB_ENABLE || word == SIM_OTP_LOCK ||
		(word >= SIM_OTP_DEBUG_AUTH && word < SIM_OTP_DEBUG_AUTH + 8));
}

static int check_word(sim_session *s, uint32_t word, uint32_t n, lsec_err *err)
{
	if (word < SIM_OTP_WORDS && n <= SIM_OTP_WORDS - word) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_TGT_RANGE, __FILE__, __LINE__,
			    "cannot access OTP words %u+%u of sim unit '%s': it has %u words", word,
			    n, s->path, SIM_OTP_WORDS);
}

static int sim_otp_read(lsec_device *t, uint32_t word, uint32_t n, uint32_t *out, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(check_word(s, word, n, err));
	memcpy(out, s->u.otp + word, n * sizeof(uint32_t));
out:
	return rc;
}

/* The bits a burn cut by power loss keeps: every other one, lowest first. */
static uint32_t partial_bits(uint32_t bits)
{
	uint32_t kept = 0;
	bool take = true;
	for (unsigned b = 0; b < 32; b++) {
		if (bits & (1u << b)) {
			if (take) {
				kept |= 1u << b;
			}
			take = !take;
		}
	}
	return kept;
}

static int burn(sim_session *s, uint32_t word, uint32_t bits, lsec_err *err)
{
	int rc = 0;
	sim_faults *fs[2] = FAULTS(s);
	LSEC_TRY(need_attached(s, "burn OTP", err));
	LSEC_TRY(check_word(s, word, 1, err));
	LSEC_ENSURE(!word_locked(&s->u, word) || (s->u.otp[word] | bits) == s->u.otp[word],
		    LSEC_E_TGT_OTP_LOCKED,
		    "cannot burn OTP word %u of sim unit '%s': the word is write-locked (write ignored)",
		    word, s->path);
	delay(s, 0);
	bool cut = false;
	for (int i = 0; i < 2; i++) {
		if (fs[i]->otp_cut == 1) {
			cut = true;
		}
		if (fs[i]->otp_cut > 0) {
			fs[i]->otp_cut--;
			s->state_dirty |= i == 1; /* the unit's counter moved */
		}
	}
	if (cut) {
		s->u.otp[word] |= partial_bits(bits);
		LSEC_TRY(power_loss(s, "an OTP burn", err));
	}
	s->state_dirty |= (s->u.otp[word] | bits) != s->u.otp[word];
	s->u.otp[word] |= bits;
	LSEC_TRY(commit(s, err));
out:
	return rc;
}

static int sim_otp_burn(lsec_device *t, uint32_t word, uint32_t bits, lsec_err *err)
{
	return burn(S(t), word, bits, err);
}

static int sim_otp_lock(lsec_device *t, uint32_t word, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(check_word(s, word, 1, err));
	LSEC_TRY(burn(s, SIM_LOCK_WORD + word / 32, 1u << (word % 32), err));
out:
	return rc;
}

static int sim_otp_locked(lsec_device *t, uint32_t word, bool *out, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(check_word(s, word, 1, err));
	*out = word_locked(&s->u, word);
out:
	return rc;
}

/* ---- debug ------------------------------------------------------------------ */

static int sim_debug_attach(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	const sim_faults *fs[2] = FAULTS(s);
	delay(s, 0);
	LSEC_ENSURE(s->lock_level == 0, LSEC_E_TGT_ATTACH_REFUSED,
		    "cannot attach to sim unit '%s': debug port locked (level %u)", s->path,
		    s->lock_level);
	uint32_t ppm = fs[0]->attach_fail_ppm > fs[1]->attach_fail_ppm ? fs[0]->attach_fail_ppm
								       : fs[1]->attach_fail_ppm;
	if (ppm > 0) {
		/* Attempt n of this unit fails as the seed says, in any process. */
		uint64_t r = lsec_device__sim_mix(s->seed, s->u.attach_count++);
		s->state_dirty = true;
		LSEC_TRY(commit(s, err));
		LSEC_ENSURE((r >> 11) % 1000000u >= ppm, LSEC_E_TGT_ATTACH_FAILED,
			    "cannot attach to sim unit '%s': no response from the debug port (attempt %llu)",
			    s->path, (unsigned long long)s->u.attach_count);
	}
	s->attached = true;
out:
	return rc;
}

static int sim_debug_lock_level(lsec_device *t, unsigned *out, lsec_err *err)
{
	(void)err;
	*out = S(t)->lock_level;
	return 0;
}

/* ---- keystore --------------------------------------------------------------- */

static int check_slot(sim_session *s, unsigned slot, const char *what, bool need_key,
		      lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(slot < SIM_KEY_SLOTS, LSEC_E_TGT_RANGE,
		    "cannot %s: key slot %u of sim unit '%s' does not exist (0 to %u)", what, slot,
		    s->path, SIM_KEY_SLOTS - 1);
	LSEC_ENSURE(!need_key || s->u.slots[slot].state != LSEC_SLOT_EMPTY, LSEC_E_TGT_SLOT_EMPTY,
		    "cannot %s: key slot %u of sim unit '%s' is empty", what, slot, s->path);
out:
	return rc;
}

/* Seals pkcs8 into an empty slot. */
static int slot_fill(sim_session *s, unsigned slot, const lsec_secret *pkcs8, lsec_buf *spki,
		     uint8_t state, lsec_err *err)
{
	int rc = 0;
	sim_slot *sl = &s->u.slots[slot];
	LSEC_TRY(lsec_device__sim_wrap(&sl->wrapped, s->huk, &s->u, slot, lsec_secret_cdata(pkcs8),
				       lsec_secret_len(pkcs8), err));
	lsec_buf_reset(&sl->spki);
	LSEC_TRY(lsec_buf_append(&sl->spki, spki->data, spki->len, err));
	lsec_buf_reset(&sl->cert);
	sl->state = state;
	s->state_dirty = true;
	LSEC_TRY(commit(s, err));
out:
	if (rc < 0) {
		sl->state = LSEC_SLOT_EMPTY;
		lsec_buf_reset(&sl->wrapped);
		lsec_buf_reset(&sl->spki);
	}
	return rc;
}

static int key_add(lsec_device *t, unsigned slot, const lsec_secret *inject, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	lsec_secret *gen = NULL;
	lsec_buf spki = LSEC_BUF_INIT(1024);
	const char *what = inject ? "inject a key" : "generate a key";
	LSEC_TRY(need_attached(s, what, err));
	LSEC_TRY(check_slot(s, slot, what, false, err));
	LSEC_ENSURE(inject != NULL || (s->u.caps & LSEC_DEVICE_CAP_KEYGEN), LSEC_E_TGT_UNSUPPORTED,
		    "cannot generate a key on sim unit '%s': no on-device key generation (inject one)",
		    s->path);
	LSEC_ENSURE(s->u.slots[slot].state == LSEC_SLOT_EMPTY, LSEC_E_TGT_SLOT_FULL,
		    "cannot %s: key slot %u of sim unit '%s' already holds a key", what, slot,
		    s->path);
	delay(s, 0);
	if (inject != NULL) {
		LSEC_TRY(lsec_device__sim_key_check(inject, &spki, err));
		LSEC_TRY(slot_fill(s, slot, inject, &spki, LSEC_SLOT_INJECTED, err));
	} else {
		LSEC_TRY(lsec_device__sim_keygen(&gen, &spki, err));
		LSEC_TRY(slot_fill(s, slot, gen, &spki, LSEC_SLOT_GENERATED, err));
	}
out:
	lsec_secret_free(gen);
	lsec_buf_release(&spki);
	return rc;
}

static int sim_key_generate(lsec_device *t, unsigned slot, lsec_err *err)
{
	return key_add(t, slot, NULL, err);
}

static int sim_key_inject(lsec_device *t, unsigned slot, const lsec_secret *pkcs8, lsec_err *err)
{
	return key_add(t, slot, pkcs8, err);
}

static int sim_key_public(lsec_device *t, unsigned slot, lsec_buf *spki, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "export a public key", err));
	LSEC_TRY(check_slot(s, slot, "export a public key", true, err));
	LSEC_TRY(lsec_buf_append(spki, s->u.slots[slot].spki.data, s->u.slots[slot].spki.len, err));
out:
	return rc;
}

static int sim_key_sign(lsec_device *t, unsigned slot, const uint8_t *msg, size_t len,
			lsec_buf *sig, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	lsec_secret *key = NULL;
	/*
	 * The device's identity service answers on its console, not through the
	 * debug port: a locked unit still proves possession (returns, SOP 5).
	 */
	LSEC_TRY(check_slot(s, slot, "sign a challenge", true, err));
	delay(s, 0);
	LSEC_TRY(lsec_device__sim_unwrap(&key, s->huk, &s->u, slot, &s->u.slots[slot].wrapped, err));
	LSEC_TRY(lsec_device__sim_sign(sig, key, msg, len, err));
out:
	lsec_secret_free(key);
	return rc;
}

static int sim_key_status(lsec_device *t, unsigned slot, lsec_device_slot_status *out,
			  lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(check_slot(s, slot, "read key status", false, err));
	out->state = (lsec_device_slot_state)s->u.slots[slot].state;
	out->has_cert = s->u.slots[slot].cert.len > 0;
out:
	return rc;
}

static int sim_cert_store(lsec_device *t, unsigned slot, const uint8_t *der, size_t len,
			  lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	sim_slot *sl = &s->u.slots[slot % SIM_KEY_SLOTS];
	LSEC_TRY(need_attached(s, "store a certificate", err));
	LSEC_TRY(check_slot(s, slot, "store a certificate", true, err));
	LSEC_ENSURE(len <= sl->cert.max, LSEC_E_LIMIT,
		    "cannot store certificate of %zu bytes on sim unit '%s': at most %zu", len,
		    s->path, sl->cert.max);
	delay(s, len);
	lsec_buf_reset(&sl->cert);
	LSEC_TRY(lsec_buf_append(&sl->cert, der, len, err));
	s->state_dirty = true;
	LSEC_TRY(commit(s, err));
out:
	return rc;
}

static int sim_cert_read(lsec_device *t, unsigned slot, lsec_buf *der, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "read a certificate", err));
	LSEC_TRY(check_slot(s, slot, "read a certificate", false, err));
	LSEC_ENSURE(s->u.slots[slot].cert.len > 0, LSEC_E_NOTFOUND,
		    "cannot read certificate: key slot %u of sim unit '%s' holds none", slot,
		    s->path);
	LSEC_TRY(lsec_buf_append(der, s->u.slots[slot].cert.data, s->u.slots[slot].cert.len, err));
out:
	return rc;
}

#define SIM_CRED_LABEL 0x100u

static int sim_credential_store(lsec_device *t, const lsec_secret *blob, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "store the credential", err));
	delay(s, 0);
	LSEC_TRY(lsec_device__sim_wrap(&s->u.cred, s->huk, &s->u, SIM_CRED_LABEL,
				       lsec_secret_cdata(blob), lsec_secret_len(blob), err));
	s->state_dirty = true;
	LSEC_TRY(commit(s, err));
out:
	return rc;
}

/* ---- erase --------------------------------------------------------------------- */

/* Flash to 0xff, every slot and the credential gone; OTP untouched. */
static int wipe(sim_session *s, lsec_err *err)
{
	delay(s, s->u.flash_size);
	flash_erase_pages(s, 0, s->u.flash_size);
	apply_stuck(s);
	for (unsigned i = 0; i < SIM_KEY_SLOTS; i++) {
		s->u.slots[i].state = LSEC_SLOT_EMPTY;
		lsec_buf_release(&s->u.slots[i].wrapped);
		lsec_buf_release(&s->u.slots[i].spki);
		lsec_buf_release(&s->u.slots[i].cert);
	}
	lsec_buf_release(&s->u.cred);
	s->state_dirty = true;
	return commit(s, err);
}

static int sim_erase_all(lsec_device *t, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(need_attached(s, "erase all", err));
	LSEC_TRY(wipe(s, err));
out:
	return rc;
}

/* Authenticated erase is offered while the port is not locked for good. */
static int can_auth_erase(const sim_session *s, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(s->u.caps & LSEC_DEVICE_CAP_AUTH_ERASE, LSEC_E_TGT_UNSUPPORTED,
		    "cannot erase sim unit '%s': no authenticated erase", s->path);
	LSEC_ENSURE(fused_lock_level(&s->u) < 2, LSEC_E_TGT_ATTACH_REFUSED,
		    "cannot erase sim unit '%s': debug port locked for good (level 2)", s->path);
out:
	return rc;
}

static int sim_erase_challenge(lsec_device *t, uint8_t *out, lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	LSEC_TRY(can_auth_erase(s, err));
	delay(s, 0);
	LSEC_TRY(lsec_random(s->challenge, sizeof(s->challenge), err));
	s->has_challenge = true;
	memcpy(out, s->challenge, sizeof(s->challenge));
out:
	return rc;
}

static int sim_erase_authenticated(lsec_device *t, const uint8_t *token, size_t len,
				   lsec_err *err)
{
	int rc = 0;
	sim_session *s = S(t);
	uint8_t digest[32], challenge[LSEC_DEVICE_ERASE_CHALLENGE_LEN];
	LSEC_TRY(can_auth_erase(s, err));
	LSEC_ENSURE(s->has_challenge, LSEC_E_TGT_AUTH_TOKEN,
		    "cannot authenticate erase on sim unit '%s': it gave no challenge since its "
		    "last reset or erase attempt (ask for one first)",
		    s->path);
	/* One attempt per challenge, whether the token verifies or not. */
	memcpy(challenge, s->challenge, sizeof(challenge));
	s->has_challenge = false;
	for (unsigned i = 0; i < 8; i++) {
		lsec_put_u32le(digest + 4 * i, s->u.otp[SIM_OTP_DEBUG_AUTH + i]);
	}
	delay(s, 0);
	LSEC_TRY(lsec_device__sim_token_verify(token, len, s->u.uid, challenge, digest, err));
	LSEC_TRY(wipe(s, err));
	/*
	 * As with debug authentication, the authenticated session may attach
	 * until the next reset (to blank-check); the fused lock comes back then.
	 */
	s->lock_level = 0;
out:
	return rc;
}

int lsec_device__sim_stats_get(lsec_device__sim_stats *out, const lsec_device *t, lsec_err *err)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE(t != NULL && t->ops == &lsec_device__sim_ops && t->impl != NULL, LSEC_E_USAGE,
		    "cannot read sim counters: not a sim device session");
	*out = S(t)->stats;
out:
	return rc;
}

const lsec_device_ops lsec_device__sim_ops = {
	.scheme = "sim",
	.open = sim_open,
	.close = sim_close,
	.info = sim_info,
	.flash_erase = sim_flash_erase,
	.flash_write = sim_flash_write,
	.flash_read = sim_flash_read,
	.flash_hash = sim_flash_hash,
	.reset = sim_reset,
	.otp_read = sim_otp_read,
	.otp_burn = sim_otp_burn,
	.otp_lock = sim_otp_lock,
	.otp_locked = sim_otp_locked,
	.debug_attach = sim_debug_attach,
	.debug_lock_level = sim_debug_lock_level,
	.key_generate = sim_key_generate,
	.key_inject = sim_key_inject,
	.key_public = sim_key_public,
	.key_sign = sim_key_sign,
	.key_status = sim_key_status,
	.cert_store = sim_cert_store,
	.cert_read = sim_cert_read,
	.credential_store = sim_credential_store,
	.erase_all = sim_erase_all,
	.erase_challenge = sim_erase_challenge,
	.erase_authenticated = sim_erase_authenticated,
	.commit = sim_commit,
};
