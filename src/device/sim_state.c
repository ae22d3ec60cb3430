/*
 * sim_state.c - the simulated unit's state file, its fault options and
 * fleet creation.
 *
 * A unit is two files: PATH, the state (below), and PATH.flash, the raw
 * flash contents (flash_size bytes).
 * State file, version 1 (all integers little-endian; docs/device.md):
 *   "LSECSIM\0" | u32 version | chip_id[32] | uid[16] | u32 flash_size |
 *   u32 page_size | u32 caps | u64 seed | u64 attach_count | faults |
 *   u32 otp_words (64) | otp[64] u32 | u32 key_slots (4) |
 *   per slot: u8 state, u32 len + wrapped key, u32 len + SPKI, u32 len + cert |
 *   u32 len + wrapped credential | SHA-256 of all before
 * faults: u64 flash_cut | u32 otp_cut | u32 attach_fail_ppm | u32 boot_fail |
 *   u8 stuck | u8 stuck_bit | u8 stuck_val | u32 stuck_addr | u32 lat_kib_us |
 *   u32 lat_op_us
 * Every state update rewrites the file through
 * lsec_file_write_atomic_unsynced, so a crash of the station process leaves
 * either the old or the new state; a session updates the flash file in
 * place, page by page (lsec_device__sim_flash_sync).
 *
 * @test tests/unit/device/test_sim_state.c
 */
#include "device/device_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_MAGIC "LSECSIM"
#define SIM_BLOB_MAX 8192u /* largest key, certificate or credential blob */
#define SIM_FLASH_MAX (64u << 20)
#define SIM_STATE_MAX (1u << 20)
#define SIM_DEFAULT_FLASH (1u << 20)
#define SIM_DEFAULT_PAGE 4096u

static bool page_ok(uint32_t page_size)
{
	return page_size >= 256 && page_size <= (1u << 20) && (page_size & (page_size - 1)) == 0;
}

static bool flash_ok(uint32_t flash_size, uint32_t page_size)
{
	return flash_size >= page_size && flash_size <= SIM_FLASH_MAX && flash_size % page_size == 0;
}

int lsec_device__sim_unit_init(sim_unit *u, uint32_t flash_size, uint32_t page_size,
			       lsec_err *err)
{
	int rc = 0;
	memset(u, 0, sizeof(*u));
	for (unsigned i = 0; i < SIM_KEY_SLOTS; i++) {
		lsec_buf_init(&u->slots[i].wrapped, SIM_BLOB_MAX);
		lsec_buf_init(&u->slots[i].spki, SIM_BLOB_MAX);
		lsec_buf_init(&u->slots[i].cert, SIM_BLOB_MAX);
	}
	lsec_buf_init(&u->cred, SIM_BLOB_MAX);
	LSEC_ENSURE(page_ok(page_size), LSEC_E_USAGE, "invalid page size %u: expected a power of two from 256 to 1048576",
		    page_size);
	LSEC_ENSURE(flash_ok(flash_size, page_size), LSEC_E_USAGE,
		    "invalid flash size %u: expected a multiple of the page size (%u), at most %u",
		    flash_size, page_size, SIM_FLASH_MAX);
	u->flash_size = flash_size;
	u->page_size = page_size;
	u->flash = lsec_malloc(flash_size);
	LSEC_ENSURE(u->flash != NULL, LSEC_E_NOMEM, "out of memory");
	memset(u->flash, 0xff, flash_size);
	snprintf(u->chip_id, sizeof(u->chip_id), "%s", SIM_CHIP_ID);
out:
	return rc;
}

void lsec_device__sim_unit_release(sim_unit *u)
{
	for (unsigned i = 0; i < SIM_KEY_SLOTS; i++) {
		lsec_buf_release(&u->slots[i].wrapped);
		lsec_buf_release(&u->slots[i].spki);
		lsec_buf_release(&u->slots[i].cert);
	}
	lsec_buf_release(&u->cred);
	if (u->flash != NULL) {
		lsec_free(u->flash);
	}
	memset(u, 0, sizeof(*u));
}

static int put_u64(lsec_buf *b, uint64_t v, lsec_err *err)
{
	int rc = lsec_buf_append_u32le(b, (uint32_t)v, err);
	return rc < 0 ? rc : lsec_buf_append_u32le(b, (uint32_t)(v >> 32), err);
}

static int put_blob(lsec_buf *b, const lsec_buf *blob, lsec_err *err)
{
	int rc = lsec_buf_append_u32le(b, (uint32_t)blob->len, err);
	return rc < 0 ? rc : lsec_buf_append(b, blob->data, blob->len, err);
}

static int save_flash(const sim_unit *u, const char *path, lsec_err *err)
{
	int rc = 0;
	char *fp = lsec_asprintf("%s.flash", path);
	LSEC_ENSURE(fp != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_write_atomic_unsynced(fp, u->flash, u->flash_size, 0600, err));
out:
	lsec_free(fp);
	return rc;
}

int lsec_device__sim_flash_sync(uint32_t *pages, int fd, const sim_unit *u,
				const uint8_t *dirty, const char *path, lsec_err *err)
{
	int rc = 0;
	uint32_t npages = u->flash_size / u->page_size;
	*pages = 0;
	for (uint32_t p = 0; p < npages;) {
		if (!dirty[p]) {
			p++;
			continue;
		}
		uint32_t q = p; /* a run of changed pages: one write */
		while (q < npages && dirty[q]) {
			q++;
		}
		size_t off = (size_t)p * u->page_size, len = (size_t)(q - p) * u->page_size;
		for (size_t done = 0; done < len;) {
			ssize_t w = pwrite(fd, u->flash + off + done, len - done, (off_t)(off + done));
			LSEC_ENSURE(w > 0 || (w < 0 && errno == EINTR), LSEC_E_IO,
				    "cannot write sim flash '%s.flash' at 0x%zx: %s", path, off + done,
				    w < 0 ? strerror(errno) : "short write");
			done += w > 0 ? (size_t)w : 0;
		}
		*pages += q - p;
		p = q;
	}
out:
	return rc;
}

int lsec_device__sim_save(const sim_unit *u, const char *path, unsigned what, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(SIM_STATE_MAX);
	const sim_faults *f = &u->faults;
	uint8_t digest[32];
	if (!(what & SIM_SAVE_STATE)) {
		goto flash;
	}
	LSEC_TRY(lsec_buf_append(&b, SIM_MAGIC, sizeof(SIM_MAGIC), err));
	LSEC_TRY(lsec_buf_append_u32le(&b, SIM_STATE_VERSION, err));
	LSEC_TRY(lsec_buf_append(&b, u->chip_id, sizeof(u->chip_id), err));
	LSEC_TRY(lsec_buf_append(&b, u->uid, sizeof(u->uid), err));
	LSEC_TRY(lsec_buf_append_u32le(&b, u->flash_size, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, u->page_size, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, u->caps, err));
	LSEC_TRY(put_u64(&b, u->seed, err));
	LSEC_TRY(put_u64(&b, u->attach_count, err));
	LSEC_TRY(put_u64(&b, f->flash_cut, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, f->otp_cut, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, f->attach_fail_ppm, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, f->boot_fail, err));
	LSEC_TRY(lsec_buf_append_u8(&b, f->stuck, err));
	LSEC_TRY(lsec_buf_append_u8(&b, f->stuck_bit, err));
	LSEC_TRY(lsec_buf_append_u8(&b, f->stuck_val, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, f->stuck_addr, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, f->lat_kib_us, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, f->lat_op_us, err));
	LSEC_TRY(lsec_buf_append_u32le(&b, SIM_OTP_WORDS, err));
	for (unsigned i = 0; i < SIM_OTP_WORDS; i++) {
		LSEC_TRY(lsec_buf_append_u32le(&b, u->otp[i], err));
	}
	LSEC_TRY(lsec_buf_append_u32le(&b, SIM_KEY_SLOTS, err));
	for (unsigned i = 0; i < SIM_KEY_SLOTS; i++) {
		LSEC_TRY(lsec_buf_append_u8(&b, u->slots[i].state, err));
		LSEC_TRY(put_blob(&b, &u->slots[i].wrapped, err));
		LSEC_TRY(put_blob(&b, &u->slots[i].spki, err));
		LSEC_TRY(put_blob(&b, &u->slots[i].cert, err));
	}
	LSEC_TRY(put_blob(&b, &u->cred, err));
	LSEC_TRY(lsec_sha256(digest, b.data, b.len, err));
	LSEC_TRY(lsec_buf_append(&b, digest, sizeof(digest), err));
	LSEC_TRY(lsec_file_write_atomic_unsynced(path, b.data, b.len, 0600, err));
flash:
	if (what & SIM_SAVE_FLASH) {
		LSEC_TRY(save_flash(u, path, err));
	}
out:
	lsec_buf_release(&b);
	return rc;
}

static bool get_u64(lsec_reader *r, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;
	if (!lsec_reader_u32le(r, &lo) || !lsec_reader_u32le(r, &hi)) {
		return false;
	}
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static bool get_blob(lsec_reader *r, lsec_buf *blob, lsec_err *err)
{
	uint32_t n = 0;
	const uint8_t *p = NULL;
	return lsec_reader_u32le(r, &n) && n <= blob->max && lsec_reader_bytes(r, &p, n) &&
	       lsec_buf_append(blob, p, n, err) == 0;
}

#define FIELD(ok, what)                                                        \
	LSEC_ENSURE((ok), LSEC_E_TGT_BAD_STATE,                                \
		    "cannot load sim unit '%s': bad or truncated field '%s'", path, what)

int lsec_device__sim_parse(sim_unit *u, const uint8_t *data, size_t len, const char *path,
			   lsec_err *err)
{
	int rc = 0;
	lsec_reader r;
	const uint8_t *p = NULL;
	uint32_t v = 0, flash_size = 0, page_size = 0;
	uint8_t digest[32];
	memset(u, 0, sizeof(*u));
	LSEC_ENSURE(len > sizeof(digest) + sizeof(SIM_MAGIC), LSEC_E_TGT_BAD_STATE,
		    "cannot load sim unit '%s': not a sim state file (too short)", path);
	LSEC_TRY(lsec_sha256(digest, data, len - sizeof(digest), err));
	LSEC_ENSURE(memcmp(data, SIM_MAGIC, sizeof(SIM_MAGIC)) == 0, LSEC_E_TGT_BAD_STATE,
		    "cannot load sim unit '%s': not a sim state file (bad magic)", path);
	LSEC_ENSURE(lsec_ct_equal(digest, data + len - sizeof(digest), sizeof(digest)),
		    LSEC_E_TGT_BAD_STATE, "cannot load sim unit '%s': checksum mismatch (corrupt file)",
		    path);
	lsec_reader_init(&r, data, len - sizeof(digest));
	FIELD(lsec_reader_skip(&r, sizeof(SIM_MAGIC)) && lsec_reader_u32le(&r, &v), "version");
	LSEC_ENSURE(v == SIM_STATE_VERSION, LSEC_E_TGT_BAD_STATE,
		    "cannot load sim unit '%s': state version %u, expected %u", path, v,
		    SIM_STATE_VERSION);
	lsec_reader hdr = r;
	FIELD(lsec_reader_skip(&hdr, sizeof(u->chip_id) + sizeof(u->uid)) &&
		      lsec_reader_u32le(&hdr, &flash_size) && lsec_reader_u32le(&hdr, &page_size) &&
		      page_ok(page_size) && flash_ok(flash_size, page_size),
	      "flash_size");
	LSEC_TRY(lsec_device__sim_unit_init(u, flash_size, page_size, err));
	FIELD(lsec_reader_bytes(&r, &p, sizeof(u->chip_id)) && p[sizeof(u->chip_id) - 1] == 0,
	      "chip_id");
	memcpy(u->chip_id, p, sizeof(u->chip_id));
	FIELD(lsec_reader_bytes(&r, &p, sizeof(u->uid)), "uid");
	memcpy(u->uid, p, sizeof(u->uid));
	FIELD(lsec_reader_skip(&r, 8) && lsec_reader_u32le(&r, &u->caps), "caps");
	FIELD(get_u64(&r, &u->seed) && get_u64(&r, &u->attach_count), "seed");
	sim_faults *f = &u->faults;
	FIELD(get_u64(&r, &f->flash_cut) && lsec_reader_u32le(&r, &f->otp_cut) &&
		      lsec_reader_u32le(&r, &f->attach_fail_ppm) &&
		      lsec_reader_u32le(&r, &f->boot_fail) && lsec_reader_u8(&r, &f->stuck) &&
		      lsec_reader_u8(&r, &f->stuck_bit) && lsec_reader_u8(&r, &f->stuck_val) &&
		      lsec_reader_u32le(&r, &f->stuck_addr) && lsec_reader_u32le(&r, &f->lat_kib_us) &&
		      lsec_reader_u32le(&r, &f->lat_op_us) && f->stuck_bit < 8 &&
		      f->stuck_val < 2 && f->stuck_addr < u->flash_size,
	      "faults");
	FIELD(lsec_reader_u32le(&r, &v) && v == SIM_OTP_WORDS, "otp_words");
	for (unsigned i = 0; i < SIM_OTP_WORDS; i++) {
		FIELD(lsec_reader_u32le(&r, &u->otp[i]), "otp");
	}
	FIELD(lsec_reader_u32le(&r, &v) && v == SIM_KEY_SLOTS, "key_slots");
	for (unsigned i = 0; i < SIM_KEY_SLOTS; i++) {
		sim_slot *s = &u->slots[i];
		FIELD(lsec_reader_u8(&r, &s->state) && s->state <= LSEC_SLOT_INJECTED, "slot state");
		FIELD(get_blob(&r, &s->wrapped, err) && get_blob(&r, &s->spki, err) &&
			      get_blob(&r, &s->cert, err),
		      "slot");
	}
	FIELD(get_blob(&r, &u->cred, err), "credential");
	FIELD(lsec_reader_left(&r) == 0, "end of file");
out:
	if (rc < 0) {
		lsec_device__sim_unit_release(u);
	}
	return rc;
}

int lsec_device__sim_load(sim_unit *u, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(SIM_STATE_MAX);
	lsec_buf fl = LSEC_BUF_INIT(SIM_FLASH_MAX);
	char *fp = NULL;
	memset(u, 0, sizeof(*u));
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_device__sim_parse(u, b.data, b.len, path, err));
	fp = lsec_asprintf("%s.flash", path);
	LSEC_ENSURE(fp != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_read(&fl, fp, err));
	LSEC_ENSURE(fl.len == u->flash_size, LSEC_E_TGT_BAD_STATE,
		    "cannot load sim flash '%s': %zu bytes, expected %u", fp, fl.len, u->flash_size);
	memcpy(u->flash, fl.data, fl.len);
out:
	if (rc < 0) {
		lsec_device__sim_unit_release(u);
	}
	lsec_free(fp);
	lsec_buf_release(&fl);
	lsec_buf_release(&b);
	return rc;
}

uint64_t lsec_device__sim_mix(uint64_t seed, uint64_t n)
{
	uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int parse_u64(uint64_t *out, const char *key, const char *val, uint64_t max, lsec_err *err)
{
	int rc = 0;
	char *end = NULL;
	errno = 0;
	LSEC_ENSURE(val[0] >= '0' && val[0] <= '9', LSEC_E_TGT_BAD_URI,
		    "invalid fault option '%s=%s': expected an unsigned number", key, val);
	unsigned long long v = strtoull(val, &end, 0);
	LSEC_ENSURE(errno == 0 && *end == 0 && v <= max, LSEC_E_TGT_BAD_URI,
		    "invalid fault option '%s=%s': expected an unsigned number up to %llu", key, val,
		    (unsigned long long)max);
	*out = v;
out:
	return rc;
}

/* One "key=value" option; val points into a writable copy. */
static int parse_option(sim_faults *f, bool *has_seed, uint64_t *seed, const char *key,
			char *val, lsec_err *err)
{
	int rc = 0;
	uint64_t v = 0;
	if (strcmp(key, "seed") == 0) {
		LSEC_TRY(parse_u64(seed, key, val, UINT64_MAX, err));
		*has_seed = true;
	} else if (strcmp(key, "flash_cut") == 0) {
		LSEC_TRY(parse_u64(&f->flash_cut, key, val, UINT32_MAX, err));
	} else if (strcmp(key, "otp_cut") == 0) {
		LSEC_TRY(parse_u64(&v, key, val, UINT32_MAX, err));
		f->otp_cut = (uint32_t)v;
	} else if (strcmp(key, "boot_fail") == 0) {
		LSEC_TRY(parse_u64(&v, key, val, UINT32_MAX, err));
		f->boot_fail = (uint32_t)v;
	} else if (strcmp(key, "lat_kib_us") == 0) {
		LSEC_TRY(parse_u64(&v, key, val, 10000000, err));
		f->lat_kib_us = (uint32_t)v;
	} else if (strcmp(key, "lat_op_us") == 0) {
		LSEC_TRY(parse_u64(&v, key, val, 10000000, err));
		f->lat_op_us = (uint32_t)v;
	} else if (strcmp(key, "attach_fail") == 0) {
		char *end = NULL;
		errno = 0;
		double p = strtod(val, &end);
		LSEC_ENSURE(errno == 0 && end != val && *end == 0 && p >= 0.0 && p <= 1.0,
			    LSEC_E_TGT_BAD_URI,
			    "invalid fault option 'attach_fail=%s': expected a probability from 0 to 1",
			    val);
		f->attach_fail_ppm = (uint32_t)(p * 1000000.0 + 0.5);
	} else if (strcmp(key, "stuck") == 0) {
		/* ADDR:BIT:VALUE */
		char *save = NULL;
		char *a = strtok_r(val, ":", &save);
		char *b = strtok_r(NULL, ":", &save);
		char *c = strtok_r(NULL, ":", &save);
		LSEC_ENSURE(a != NULL && b != NULL && c != NULL, LSEC_E_TGT_BAD_URI,
			    "invalid fault option 'stuck': expected ADDR:BIT:VALUE");
		LSEC_TRY(parse_u64(&v, "stuck address", a, UINT32_MAX, err));
		f->stuck_addr = (uint32_t)v;
		LSEC_TRY(parse_u64(&v, "stuck bit", b, 7, err));
		f->stuck_bit = (uint8_t)v;
		LSEC_TRY(parse_u64(&v, "stuck value", c, 1, err));
		f->stuck_val = (uint8_t)v;
		f->stuck = 1;
	} else {
		LSEC_BAIL(LSEC_E_TGT_BAD_URI,
			  "invalid fault option '%s': expected seed, flash_cut, otp_cut, attach_fail, boot_fail, stuck, lat_kib_us or lat_op_us",
			  key);
	}
out:
	return rc;
}

int lsec_device__sim_faults_parse(sim_faults *f, bool *has_seed, uint64_t *seed,
				  const char *query, lsec_err *err)
{
	int rc = 0;
	char *copy = NULL;
	memset(f, 0, sizeof(*f));
	*has_seed = false;
	*seed = 0;
	if (query == NULL || *query == 0) {
		return 0;
	}
	copy = lsec_strdup(query);
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	char *save = NULL;
	for (char *opt = strtok_r(copy, "&", &save); opt != NULL; opt = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(opt, '=');
		LSEC_ENSURE(eq != NULL, LSEC_E_TGT_BAD_URI,
			    "invalid fault option '%s': expected NAME=VALUE", opt);
		*eq = 0;
		LSEC_TRY(parse_option(f, has_seed, seed, opt, eq + 1, err));
	}
out:
	lsec_free(copy);
	return rc;
}

/* ---- fleet creation ---------------------------------------------------- */

static bool in_list(const char *list, unsigned idx)
{
	if (list == NULL) {
		return true;
	}
	for (const char *p = list; *p;) {
		char *end = NULL;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p) {
			return false;
		}
		if (v == idx) {
			return true;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

static int check_list(const char *list, unsigned count, lsec_err *err)
{
	int rc = 0;
	if (list == NULL) {
		return 0;
	}
	for (const char *p = list; *p;) {
		char *end = NULL;
		LSEC_ENSURE(*p >= '0' && *p <= '9', LSEC_E_USAGE,
			    "invalid unit list '%s': expected numbers from 1 to %u separated by commas",
			    list, count);
		unsigned long v = strtoul(p, &end, 10);
		LSEC_ENSURE(v >= 1 && v <= count && (*end == ',' || *end == 0), LSEC_E_USAGE,
			    "invalid unit list '%s': expected numbers from 1 to %u separated by commas",
			    list, count);
		p = *end == ',' ? end + 1 : end;
	}
out:
	return rc;
}

/* The fault options of unit idx: its entry in the plan, else --faults if it is listed. */
static const char *faults_for(const lsec_device_sim_options *o, unsigned idx)
{
	char key[16];
	snprintf(key, sizeof(key), "%u", idx);
	const char *p = json_string_value(json_object_get(o->fault_plan, key));
	if (p != NULL) {
		return p;
	}
	return o->faults != NULL && in_list(o->fault_units, idx) ? o->faults : NULL;
}

/* Checks every fault option the fleet will use, before anything is written. */
static int check_faults(const lsec_device_sim_options *o, lsec_err *err)
{
	int rc = 0;
	sim_faults f;
	bool hs = false;
	uint64_t seed = 0;
	LSEC_TRY(check_list(o->fault_units, o->count, err));
	if (o->prefix != NULL) {
		/* The file name is the unit's serial: an identifier, the number appended. */
		LSEC_ENSURE(strlen(o->prefix) <= 32, LSEC_E_USAGE,
			    "invalid unit name prefix '%.40s...': at most 32 characters", o->prefix);
		LSEC_TRY(lsec_ident_check(o->prefix, "unit name prefix", err));
	}
	if (o->fault_plan != NULL) {
		const char *k;
		json_t *v;
		LSEC_ENSURE(json_is_object(o->fault_plan), LSEC_E_USAGE,
			    "invalid fault plan: expected an object from unit number to fault options");
		json_object_foreach((json_t *)(uintptr_t)o->fault_plan, k, v) /* jansson iterates non-const */
		{
			char *end = NULL;
			unsigned long n = strtoul(k, &end, 10);
			LSEC_ENSURE(k[0] >= '1' && k[0] <= '9' && *end == 0 && n <= o->count,
				    LSEC_E_USAGE, "invalid fault plan: unit '%s', expected 1 to %u", k,
				    o->count);
			LSEC_ENSURE(json_is_string(v), LSEC_E_USAGE,
				    "invalid fault plan: unit %s: expected a string of fault options", k);
		}
	}
	for (unsigned i = 1; i <= o->count; i++) {
		const char *spec = faults_for(o, i);
		if (spec != NULL) {
			LSEC_TRY(lsec_device__sim_faults_parse(&f, &hs, &seed, spec, err));
			uint32_t size = o->flash_size ? o->flash_size : SIM_DEFAULT_FLASH;
			LSEC_ENSURE(!f.stuck || f.stuck_addr < size, LSEC_E_TGT_BAD_URI,
				    "invalid fault option 'stuck' for unit %u: address 0x%x beyond flash (%u bytes)",
				    i, f.stuck_addr, size);
		}
	}
out:
	return rc;
}

static int make_unit(lsec_device_sim_unit_info *ui, const char *dir, unsigned idx,
		     const uint8_t uid[16],
		     const lsec_device_sim_options *o, uint64_t seed, char **created,
		     lsec_err *err)
{
	int rc = 0;
	sim_unit u;
	uint8_t huk[SIM_HUK_LEN];
	bool has_seed = false;
	uint64_t ignored = 0;
	const char *prefix = o->prefix != NULL ? o->prefix : "unit-";
	char *path = lsec_asprintf("%s/%s%03u.sim", dir, prefix, idx);
	char *hukpath = lsec_asprintf("%s/%s%03u.sim.huk", dir, prefix, idx);
	char *flashpath = NULL;
	char *uri = lsec_asprintf("sim:%s", path ? path : "");
	const char *faults = faults_for(o, idx);
	LSEC_TRY(lsec_device__sim_unit_init(&u, o->flash_size ? o->flash_size : SIM_DEFAULT_FLASH,
					    o->page_size ? o->page_size : SIM_DEFAULT_PAGE, err));
	LSEC_ENSURE(path != NULL && hukpath != NULL && uri != NULL, LSEC_E_NOMEM, "out of memory");
	memcpy(u.uid, uid, sizeof(u.uid));
	u.seed = seed;
	u.caps = LSEC_DEVICE_CAP_KEY_INJECT | LSEC_DEVICE_CAP_AUTH_ERASE |
		 LSEC_DEVICE_CAP_FLASH_HASH | (o->no_keygen ? 0u : LSEC_DEVICE_CAP_KEYGEN);
	if (faults != NULL) {
		LSEC_TRY(lsec_device__sim_faults_parse(&u.faults, &has_seed, &ignored, faults, err));
		if (u.faults.stuck) {
			uint8_t m = (uint8_t)(1u << u.faults.stuck_bit);
			u.flash[u.faults.stuck_addr] = (uint8_t)((u.flash[u.faults.stuck_addr] & ~m) |
								 (u.faults.stuck_val ? m : 0));
		}
	}
	/* The device secret first: a unit file never exists without it. */
	LSEC_TRY(lsec_random(huk, sizeof(huk), err));
	LSEC_TRY(lsec_file_write_new(hukpath, huk, sizeof(huk), 0600, err));
	created[0] = hukpath;
	hukpath = NULL;
	LSEC_TRY(lsec_file_write_new(path, "", 0, 0600, err));
	created[1] = path;
	path = NULL;
	flashpath = lsec_asprintf("%s.flash", created[1]);
	LSEC_ENSURE(flashpath != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_write_new(flashpath, u.flash, u.flash_size, 0600, err));
	created[2] = flashpath;
	flashpath = NULL;
	LSEC_TRY(lsec_device__sim_save(&u, created[1], SIM_SAVE_STATE, err));
	ui->unit = idx;
	lsec_hex_encode(ui->uid_hex, uid, LSEC_DEVICE_UID_LEN);
	if (faults != NULL) {
		ui->faults = lsec_strdup(faults);
		LSEC_ENSURE(ui->faults != NULL, LSEC_E_NOMEM, "out of memory");
	}
	ui->uri = uri;
	uri = NULL;
out:
	lsec_wipe(huk, sizeof(huk));
	lsec_device__sim_unit_release(&u);
	lsec_free(path);
	lsec_free(flashpath);
	lsec_free(hukpath);
	lsec_free(uri);
	return rc;
}

void lsec_device_sim_fleet_free(lsec_device_sim_fleet *f)
{
	if (f == NULL) {
		return;
	}
	for (size_t i = 0; i < f->nunits; i++) {
		lsec_free(f->units[i].uri);
		lsec_free(f->units[i].faults);
	}
	lsec_free(f->units);
	lsec_free(f);
}

int lsec_device_sim_fleet_json(json_t **out, const lsec_device_sim_fleet *f, lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL, *units = NULL;
	LSEC_ENSURE_REF(out);
	*out = NULL;
	LSEC_ENSURE_REF(f);
	j = json_pack("{s:i,s:s,s:[]}", "version", 1, "chip", f->chip, "units");
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory");
	units = json_object_get(j, "units");
	for (size_t i = 0; i < f->nunits; i++) {
		const lsec_device_sim_unit_info *u = &f->units[i];
		json_t *e = json_pack("{s:I,s:s,s:s,s:s?}", "unit", (json_int_t)u->unit, "uri",
				      u->uri, "uid", u->uid_hex, "faults", u->faults);
		LSEC_TRY(lsec_json_append(units, e, err));
	}
	*out = j;
	j = NULL;
out:
	json_decref(j);
	return rc;
}

int lsec_device_sim_fleet_new(lsec_device_sim_fleet **out, const char *dir,
			      const lsec_device_sim_options *o, lsec_err *err)
{
	int rc = 0;
	lsec_device_sim_fleet *fleet = NULL;
	json_t *fj = NULL;
	char **created = NULL;
	char *fleet_path = NULL, *text = NULL;
	uint8_t(*uids)[LSEC_DEVICE_UID_LEN] = NULL;
	if (out != NULL) {
		*out = NULL;
	}
	LSEC_ENSURE_REF(dir);
	LSEC_ENSURE_REF(o);
	LSEC_ENSURE(o->version == LSEC_DEVICE_SIM_OPTIONS_VERSION, LSEC_E_USAGE,
		    "cannot create sim fleet: options version %u, expected %u", o->version,
		    LSEC_DEVICE_SIM_OPTIONS_VERSION);
	LSEC_ENSURE(o->count >= 1 && o->count <= 999, LSEC_E_USAGE,
		    "cannot create sim fleet: count %u, expected 1 to 999", o->count);
	LSEC_ENSURE((o->clone_src == 0) == (o->clone_dst == 0) && o->clone_src <= o->count &&
			    o->clone_dst <= o->count && (o->clone_src == 0 || o->clone_src != o->clone_dst),
		    LSEC_E_USAGE, "cannot create sim fleet: clone %u:%u, expected two distinct units from 1 to %u",
		    o->clone_src, o->clone_dst, o->count);
	LSEC_TRY(check_faults(o, err));
	uint64_t seed = o->seed;
	if (!o->has_seed) {
		LSEC_TRY(lsec_random(&seed, sizeof(seed), err));
	}
	LSEC_TRY(lsec_mkdir_p(dir, 0700, err));
	fleet_path = lsec_asprintf("%s/fleet.json", dir);
	created = lsec_calloc(3 * (size_t)o->count, sizeof(char *));
	uids = lsec_calloc(o->count, sizeof(*uids));
	fleet = lsec_calloc(1, sizeof(*fleet));
	if (fleet != NULL) {
		fleet->chip = SIM_CHIP_ID;
		fleet->units = lsec_calloc(o->count, sizeof(*fleet->units));
	}
	LSEC_ENSURE(fleet_path != NULL && created != NULL && uids != NULL && fleet != NULL &&
			    fleet->units != NULL,
		    LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(access(fleet_path, F_OK) != 0, LSEC_E_EXISTS,
		    "cannot create sim fleet in '%s': '%s' exists", dir, fleet_path);
	for (unsigned i = 0; i < o->count; i++) {
		/* UIDs: derived from the seed (reproducible fleets), distinct per unit. */
		for (unsigned k = 0; k < LSEC_DEVICE_UID_LEN; k += 8) {
			uint64_t v = lsec_device__sim_mix(seed, (uint64_t)i * 2 + k / 8);
			for (unsigned b = 0; b < 8; b++) {
				uids[i][k + b] = (uint8_t)(v >> (8 * b));
			}
		}
	}
	if (o->clone_src != 0) {
		memcpy(uids[o->clone_dst - 1], uids[o->clone_src - 1], LSEC_DEVICE_UID_LEN);
	}
	for (unsigned i = 0; i < o->count; i++) {
		fleet->nunits = i + 1; /* freed with the fleet from here on */
		LSEC_TRY(make_unit(&fleet->units[i], dir, i + 1, uids[i], o,
				   lsec_device__sim_mix(seed, 0x10000u + i), created + 3 * i, err));
	}
	LSEC_TRY(lsec_device_sim_fleet_json(&fj, fleet, err));
	LSEC_TRY(lsec_json_canonical(&text, fj, err));
	LSEC_TRY(lsec_file_write_new(fleet_path, text, strlen(text), 0644, err));
	if (out != NULL) {
		*out = fleet;
		fleet = NULL;
	}
out:
	for (size_t i = 0; created != NULL && i < 3 * (size_t)o->count; i++) {
		if (rc < 0 && created[i] != NULL) {
			(void)unlink(created[i]);
		}
		lsec_free(created[i]);
	}
	lsec_free(created);
	lsec_free(uids);
	lsec_free(fleet_path);
	lsec_free(text);
	json_decref(fj);
	lsec_device_sim_fleet_free(fleet);
	return rc;
}
