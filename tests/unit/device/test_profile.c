/*
 * Device profiles: every shipped profile loads and checks clean (from its
 * file and built in), each malformed profile is refused naming the file,
 * line and field, and the backend's helpers (steps, fuses, placeholders,
 * chip match, the product check) answer as documented.
 */
#include "helpers/testutil.h"
#include "linesec/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const shipped[] = {"linesec-sim", "qemu-lm3s6965evb", "nrf52", "stm32f4"};
#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))

/* The source text of a shipped profile (lsec_free). */
static char *source(const char *name)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "profiles/%s.yaml", name);
	char *s = lsec_test_source(rel, NULL);
	assert_non_null(s);
	return s;
}

/* text with the first occurrence of from replaced by to (lsec_free). */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	if (at == NULL) {
		fail_msg("'%s' is not in the profile", from);
	}
	char *out = lsec_asprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	assert_non_null(out);
	return out;
}

/* Parses text as FILE and expects LSEC_E_PARSE with each of the NULL-terminated needles. */
static void expect_refused(const char *text, const char *file, ...)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	int rc = lsec_device_profile_parse(&p, (const uint8_t *)text, strlen(text), file, &err);
	assert_null(p);
	assert_lsec_code(rc, LSEC_E_PARSE, &err);
	va_list ap;
	va_start(ap, file);
	for (const char *n = va_arg(ap, const char *); n != NULL; n = va_arg(ap, const char *)) {
		if (strstr(err.msg, n) == NULL) {
			fail_msg("error '%s' lacks '%s'", err.msg, n);
		}
	}
	va_end(ap);
}

/* Mutates shipped profile name and expects the refusal. */
#define REFUSED(name, from, to, ...)                                                      \
	do {                                                                              \
		char *src_ = source(name);                                                \
		char *bad_ = replace(src_, from, to);                                     \
		expect_refused(bad_, "case.yml", __VA_ARGS__, NULL);                      \
		lsec_free(bad_);                                                          \
		lsec_free(src_);                                                          \
	} while (0)

static void test_device_profile__shipped_profiles_load_clean(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSHIPPED; i++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_device_profile *p = NULL, *q = NULL;
		char rel[128];
		snprintf(rel, sizeof(rel), "%s/profiles/%s.yaml", getenv("LSEC_SOURCE_DIR"),
			 shipped[i]);
		assert_lsec_ok(lsec_device_profile_load(&p, rel, &err), &err);
		assert_string_equal(lsec_device_profile_name(p), shipped[i]);
		assert_false(lsec_device_profile_tested(p)); /* nothing shipped was on hardware */
		/* built in: the same profile without a source tree */
		assert_lsec_ok(lsec_device_profile_load(&q, shipped[i], &err), &err);
		assert_string_equal(lsec_device_profile_family(q), lsec_device_profile_family(p));
		assert_non_null(strstr(lsec_device_profile_file(q), "built-in"));
		lsec_device_profile_free(p);
		lsec_device_profile_free(q);
	}
}

static void test_device_profile__sim_profile_is_the_sim(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	lsec_device_fuse_field f;
	const lsec_device_profile_step *s = NULL;
	size_t n = 0;
	char *cmd = NULL;
	assert_lsec_ok(lsec_device_profile_load(&p, "linesec-sim", &err), &err);
	assert_string_equal(lsec_device_profile_monitor_protocol(p), "lsec");
	assert_null(lsec_device_profile_warning(p, 0)); /* every SOP can run on the sim */
	const lsec_device_profile_layout *l = lsec_device_profile_layout_get(p);
	assert_int_equal(l->otp_words, 64);
	assert_int_equal(l->key_slots, 4);
	assert_int_equal(l->attestation, LSEC_PROFILE_ATTEST_RESET);
	assert_true(l->debug_lock_by_fuse);
	/* the fuse map is the sim's (docs/device.md, "Named fuses") */
	assert_lsec_ok(lsec_device_profile_fuse(&f, p, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_int_equal(f.word, 9);
	assert_int_equal(f.nwords, 2);
	assert_lsec_ok(lsec_device_profile_fuse(&f, p, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST, &err), &err);
	assert_int_equal(f.word, 14);
	assert_int_equal(f.nwords, 8);
	assert_lsec_ok(lsec_device_profile_fuse(&f, p, LSEC_FUSE_DEBUG_LOCK, &err), &err);
	assert_int_equal(f.word, 11);
	assert_int_equal(f.mask, 3);
	/* monitor commands with placeholders filled, as the lsec protocol spells them */
	lsec_device_profile_args a = {.addr = 0x1000, .len = 0x2000, .word = 9, .bits = 0x3,
				      .slot = 2, .hex = "c0ffee"};
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_OTP_BURN, &err), &err);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].kind, LSEC_PROFILE_STEP_MONITOR);
	assert_lsec_ok(lsec_device_profile_expand(&cmd, p, s[0].command, &a, &err), &err);
	assert_string_equal(cmd, "lsec otp burn 9 0x3");
	lsec_free(cmd);
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_FLASH_ERASE, &err),
		       &err);
	assert_lsec_ok(lsec_device_profile_expand(&cmd, p, s[0].command, &a, &err), &err);
	assert_string_equal(cmd, "lsec flash erase 0x1000 0x2000");
	lsec_free(cmd);
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_KEY_INJECT, &err),
		       &err);
	assert_lsec_ok(lsec_device_profile_expand(&cmd, p, s[0].command, &a, &err), &err);
	assert_string_equal(cmd, "lsec key inject 2 c0ffee");
	lsec_free(cmd);
	a.hex = NULL; /* {hex} without a value is a caller error, never an empty argument */
	assert_lsec_code(lsec_device_profile_expand(&cmd, p, s[0].command, &a, &err), LSEC_E_USAGE,
			 &err);
	assert_null(cmd);
	/* a word or slot outside the layout never becomes a command */
	a.hex = "c0ffee";
	a.slot = 4;
	assert_lsec_code(lsec_device_profile_expand(&cmd, p, s[0].command, &a, &err),
			 LSEC_E_TGT_RANGE, &err);
	assert_null(cmd);
	a.slot = 2;
	a.word = 64;
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_OTP_BURN, &err), &err);
	assert_lsec_code(lsec_device_profile_expand(&cmd, p, s[0].command, &a, &err),
			 LSEC_E_TGT_RANGE, &err);
	assert_null(cmd);
	/* the UID and the family come from `lsec info` */
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_UID_READ, &err), &err);
	assert_string_equal(s[0].command, "lsec info");
	assert_string_equal(s[0].json, "uid");
	/* flash data goes through vFlash; no write steps */
	assert_int_equal(l->flash_method, LSEC_PROFILE_FLASH_VFLASH);
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_FLASH_WRITE, &err),
		       &err);
	assert_int_equal(n, 0);
	lsec_device_profile_free(p);
}

static void test_device_profile__qemu_says_what_it_cannot_do(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	lsec_device_fuse_field f;
	const lsec_device_profile_step *s = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_device_profile_load(&p, "qemu-lm3s6965evb", &err), &err);
	const lsec_device_profile_layout *l = lsec_device_profile_layout_get(p);
	/* the application slot: above the boot stage, below the factory info block */
	assert_int_equal(l->flash_base, 0x8000);
	assert_int_equal(l->flash_size, 0x37c00);
	assert_int_equal(l->flash_method, LSEC_PROFILE_FLASH_MEMORY);
	/* QEMU's flash is overwritten in place: nothing to erase before a write */
	assert_true(l->flash_erase_none);
	assert_true(l->has_ram);
	assert_int_equal(l->ram_base, 0x20000000u);
	assert_true(l->uid_memory);
	assert_int_equal(l->uid_address, 0x3FC00);
	assert_int_equal(l->uid_length, 16);
	assert_int_equal(l->attestation, LSEC_PROFILE_ATTEST_UART);
	assert_int_equal(l->uart_base, 0x4000C000u);
	/* the firmware's own line (firmware/boot.c) */
	assert_string_equal(l->attestation_line,
			    "LSEC-ATTEST v1 digest={digest} version={version} build={build} uid={uid}");
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_RESET, &err), &err);
	assert_string_equal(s[0].command, "system_reset");
	/* no fuses, no lock, no key store, no erase: said, never pretended */
	assert_lsec_code(lsec_device_profile_fuse(&f, p, LSEC_FUSE_SECURE_BOOT_ENABLE, &err),
			 LSEC_E_TGT_UNSUPPORTED, &err);
	assert_non_null(strstr(err.msg, "fuse SECURE_BOOT_EN: not supported by this device "
					"(profile qemu-lm3s6965evb)"));
	assert_lsec_code(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_DEBUG_LOCK_SET1,
						      &err),
			 LSEC_E_TGT_UNSUPPORTED, &err);
	assert_non_null(strstr(err.msg, "debug-lock.set.1: not supported by this device "
					"(profile qemu-lm3s6965evb)"));
	assert_null(s);
	assert_lsec_code(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_KEY_GENERATE, &err),
			 LSEC_E_TGT_UNSUPPORTED, &err);
	assert_lsec_code(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_ERASE_ALL, &err),
			 LSEC_E_TGT_UNSUPPORTED, &err);
	/* and the check warns that the SOPs needing them cannot run in full */
	bool secure_boot = false, debug_lock = false;
	for (size_t i = 0; lsec_device_profile_warning(p, i) != NULL; i++) {
		const char *w = lsec_device_profile_warning(p, i);
		secure_boot |= strstr(w, "SOP secure-boot step otp.enable-secure-boot") != NULL;
		debug_lock |= strstr(w, "SOP debug-lock step debug.lock") != NULL;
		assert_non_null(strstr(w, "the ship gate refuses"));
	}
	assert_true(secure_boot);
	assert_true(debug_lock);
	lsec_device_profile_free(p);
}

static void test_device_profile__register_steps(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	const lsec_device_profile_step *s = NULL;
	size_t n = 0;
	uint32_t v = 0;
	assert_lsec_ok(lsec_device_profile_load(&p, "nrf52", &err), &err);
	/* UICR burn: NVMC write-enable, the word at its address, wait READY, write-disable */
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_OTP_BURN, &err), &err);
	assert_int_equal(n, 4);
	assert_int_equal(s[0].kind, LSEC_PROFILE_STEP_WRITE32);
	assert_int_equal(s[0].address.number, 0x4001E504u);
	assert_int_equal(s[1].kind, LSEC_PROFILE_STEP_WRITE32);
	assert_string_equal(s[1].address.param, "word-address");
	assert_string_equal(s[1].value.param, "bits");
	lsec_device_profile_args a = {.word = 3, .bits = 0x1};
	assert_lsec_ok(lsec_device_profile_value_get(&v, p, &s[1].address, &a, &err), &err);
	assert_int_equal(v, 0x10001080u + 12u);
	assert_lsec_ok(lsec_device_profile_value_get(&v, p, &s[1].value, &a, &err), &err);
	assert_int_equal(v, 0xfffffffeu); /* inverted OTP: programming clears the bit */
	assert_int_equal(s[2].kind, LSEC_PROFILE_STEP_POLL32);
	assert_int_equal(s[2].timeout_ms, 100);
	/* debug lock level from APPROTECT through the map */
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_DEBUG_LOCK_READ, &err),
		       &err);
	assert_int_equal(s[0].kind, LSEC_PROFILE_STEP_READ32);
	assert_int_equal(s[0].mask, 0xff);
	assert_int_equal(s[0].nmap, 2);
	assert_true(s[0].has_default);
	assert_int_equal(s[0].dflt, 1);
	lsec_device_profile_free(p);

	assert_lsec_ok(lsec_device_profile_load(&p, "stm32f4", &err), &err);
	assert_lsec_ok(lsec_device_profile_op_steps(&s, &n, p, LSEC_PROFILE_OP_DEBUG_LOCK_SET2, &err),
		       &err);
	assert_int_equal(s[3].kind, LSEC_PROFILE_STEP_MODIFY32);
	assert_int_equal(s[3].mask, 0xff00);
	assert_int_equal(s[3].value.number, 0xcc00);
	lsec_device_profile_free(p);
}

static void test_device_profile__chip_match_and_product_check(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	const char *label = NULL;
	assert_lsec_ok(lsec_device_profile_load(&p, "qemu-lm3s6965evb", &err), &err);
	/* what QEMU's DID1 and DID0 give, masked */
	assert_lsec_ok(lsec_device_profile_match(&label, p, 0, "0x10730000", &err), &err);
	assert_string_equal(label, "LM3S6965");
	assert_lsec_ok(lsec_device_profile_match(&label, p, 1, "0x10010002", &err), &err);
	assert_string_equal(label, "A2");
	assert_lsec_code(lsec_device_profile_match(&label, p, 1, "0x10010100", &err),
			 LSEC_E_TGT_WRONG_CHIP, &err);
	assert_null(label);
	assert_non_null(strstr(err.msg, "0x10010100"));
	assert_non_null(strstr(err.msg, "A2"));
	/* the product check */
	assert_lsec_ok(lsec_device_profile_check_product(p, NULL, NULL, NULL, &err), &err);
	assert_lsec_ok(lsec_device_profile_check_product(p, "lm3s6965", NULL, NULL, &err), &err);
	assert_lsec_ok(lsec_device_profile_check_product(p, "lm3s6965", "A2", "A2", &err), &err);
	assert_lsec_code(lsec_device_profile_check_product(p, "stm32f40x", NULL, NULL, &err),
			 LSEC_E_TGT_WRONG_CHIP, &err);
	assert_non_null(strstr(err.msg, "family 'stm32f40x'"));
	assert_non_null(strstr(err.msg, "family 'lm3s6965'"));
	assert_lsec_code(lsec_device_profile_check_product(p, "lm3s6965", "C1", NULL, &err),
			 LSEC_E_TGT_WRONG_CHIP, &err);
	assert_non_null(strstr(err.msg, "revision 'C1'"));
	assert_lsec_code(lsec_device_profile_check_product(p, "lm3s6965", "A2", "B0", &err),
			 LSEC_E_TGT_WRONG_CHIP, &err);
	assert_non_null(strstr(err.msg, "the device is revision 'B0'"));
	lsec_device_profile_free(p);

	/* the sim's family is read as text from `lsec info` */
	assert_lsec_ok(lsec_device_profile_load(&p, "linesec-sim", &err), &err);
	assert_lsec_ok(lsec_device_profile_match(&label, p, 1, "linesec-sim-m1", &err), &err);
	assert_string_equal(label, "m1");
	assert_lsec_code(lsec_device_profile_match(&label, p, 0, "other-chip", &err),
			 LSEC_E_TGT_WRONG_CHIP, &err);
	lsec_device_profile_free(p);
}

static void test_device_profile__malformed_refused_naming_line_and_field(void **state)
{
	(void)state;
	/* unknown key, at its line */
	REFUSED("qemu-lm3s6965evb", "ram: {", "colour: red\nram: {", "case.yml",
		"unknown key 'colour'", "line 51, column 1");
	REFUSED("linesec-sim", "  slots: 4", "  slots: 4\n  sealed: true", "keystore",
		"unknown key 'sealed'");
	/* missing required fields */
	REFUSED("qemu-lm3s6965evb", "reset: {monitor: \"system_reset\"}", "", "reset: missing");
	REFUSED("linesec-sim", "  OTP_LOCK: {word: 13, nwords: 1, mask: 0x1}\n", "",
		"fuses.OTP_LOCK: missing");
	REFUSED("qemu-lm3s6965evb", "  page-size: 1024\n", "", "missing required field 'page-size'");
	REFUSED("qemu-lm3s6965evb", "tested-on-hardware: false\n", "",
		"missing required field 'tested-on-hardware'");
	REFUSED("qemu-lm3s6965evb", "otp: unsupported\n", "", "missing required field 'otp'");
	/* bad numbers */
	REFUSED("qemu-lm3s6965evb", "size: 0x37c00", "size: 0x4000G", "flash.size",
		"'0x4000G' is not a number");
	REFUSED("qemu-lm3s6965evb", "size: 0x37c00", "size: -1", "flash.size");
	REFUSED("qemu-lm3s6965evb", "size: 0x37c00", "size: 0x100000000", "flash.size");
	REFUSED("qemu-lm3s6965evb", "page-size: 1024", "page-size: 1000", "flash.page-size",
		"power of two");
	REFUSED("linesec-sim", "words: 64", "words: sixty-four", "otp.words");
	REFUSED("qemu-lm3s6965evb", "size: 0x37c00", "size: 0x0x37c00", "flash.size");
	REFUSED("qemu-lm3s6965evb", "size: 0x37c00", "size: 0x 37c00", "flash.size");
	REFUSED("linesec-sim", "SECURE_VERSION: {word: 9, nwords: 2,",
		"SECURE_VERSION: {word: 9, nwords: 9,", "fuses.SECURE_VERSION", "not a number 1..8");
	REFUSED("nrf52", "timeout-ms: 100}", "timeout-ms: 0}", "timeout-ms", "not a number 1..");
	/* the fuse layout */
	REFUSED("linesec-sim", "SECURE_BOOT_EN: {word: 8,", "SECURE_BOOT_EN: {word: 7,",
		"fuses.SECURE_BOOT_EN", "overlaps fuses.SECURE_BOOT_KEY_DIGEST");
	REFUSED("linesec-sim", "DEBUG_AUTH_KEY_DIGEST: {word: 14,",
		"DEBUG_AUTH_KEY_DIGEST: {word: 60,", "fuses.DEBUG_AUTH_KEY_DIGEST",
		"pass the end of the OTP");
	REFUSED("linesec-sim", "SECURE_BOOT_KEY_DIGEST: {word: 0, nwords: 8,",
		"SECURE_BOOT_KEY_DIGEST: {word: 0, nwords: 4,", "nwords 8");
	REFUSED("qemu-lm3s6965evb", "fuses: unsupported",
		"fuses:\n  SECURE_BOOT_EN: {word: 0, nwords: 1, mask: 1}", "no OTP");
	/* steps */
	REFUSED("linesec-sim", "\"lsec reset\"", "\"lsec reset {slot}\"", "reset.monitor",
		"placeholder '{slot}' is not offered here");
	REFUSED("linesec-sim", "\"lsec otp lock {word}\"", "\"lsec otp lock {word\"",
		"'{' without '}'");
	REFUSED("linesec-sim", "erase: {monitor: \"lsec flash", "erase: {monitr: \"lsec flash",
		"unknown key 'monitr'");
	REFUSED("qemu-lm3s6965evb", "reset: {monitor: \"system_reset\"}", "reset: unsupported",
		"reset: cannot be `unsupported`");
	REFUSED("qemu-lm3s6965evb", "read: {read32: {address: 0x400FE004, mask: 0xFFFF0000}}",
		"read: {write32: {address: 0x400FE004, value: 1}}", "family.read",
		"last step must be monitor or read32");
	REFUSED("qemu-lm3s6965evb", "address: 0x400FE004", "address: 0x400FE005", "family.read",
		"not 32-bit aligned");
	REFUSED("stm32f4", "mask: 0xFF00, value: 0x5500", "mask: 0xFF00, value: 0x15500",
		"outside mask");
	REFUSED("nrf52", "address: \"{word-address}\"", "address: \"{slot}\"", "otp.burn",
		"'{slot}' is not offered");
	REFUSED("qemu-lm3s6965evb", "method: memory", "method: jtag", "flash.method",
		"'jtag' is not one of memory, vflash, monitor");
	REFUSED("qemu-lm3s6965evb", "method: memory\n  erase: none", "method: monitor",
		"flash.erase: missing");
	REFUSED("qemu-lm3s6965evb", "method: memory", "method: vflash", "flash.erase",
		"`none` only with method memory");
	REFUSED("nrf52", "levels: 1", "levels: 3", "debug-lock.levels");
	REFUSED("qemu-lm3s6965evb", "{digest}", "{digset}", "attestation.line");
	REFUSED("linesec-sim", "challenge: {monitor: \"lsec erase challenge\"}",
		"challenge: unsupported", "challenge and authenticated go together");
	/* the document itself */
	REFUSED("qemu-lm3s6965evb", "profile: 1", "profile: 2", "format version '2'");
	REFUSED("qemu-lm3s6965evb", "flash:\n", "flash: [\n", "not valid YAML");
	REFUSED("qemu-lm3s6965evb", "name: qemu-lm3s6965evb", "name: qemu lm3s", "name: ",
		"not an identifier");
	expect_refused("", "empty.yaml", "empty file", NULL);
	expect_refused("- a\n- b\n", "list.yaml", "expected a mapping", NULL);
	expect_refused("profile: 1\n\tname: x\n", "tab.yaml", "tab.yaml", "line 2", NULL);
	/* a file's name is its profile's name */
	char *src = source("nrf52");
	expect_refused(src, "/x/other.yaml", "'nrf52' differs from the file name 'other.yaml'",
		       NULL);
	lsec_free(src);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = lsec_test_path(dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	lsec_free(path);
}

static void test_device_profile__lookup_order_and_list(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_profile *p = NULL;
	lsec_device_profile_entry *l = NULL;
	size_t n = 0;
	char *dir = lsec_test_tmpdir();
	char *src = source("qemu-lm3s6965evb");
	char *mine = replace(src, "name: qemu-lm3s6965evb", "name: my-board");
	char *shadow = replace(src, "family:\n  name: lm3s6965", "family:\n  name: lm3s6965x");
	write_file(dir, "my-board.yaml", mine);
	write_file(dir, "qemu-lm3s6965evb.yaml", shadow);
	assert_int_equal(setenv("LINESEC_PROFILES", dir, 1), 0);
	/* $LINESEC_PROFILES first, then built in */
	assert_lsec_ok(lsec_device_profile_load(&p, "my-board", &err), &err);
	lsec_device_profile_free(p);
	assert_lsec_ok(lsec_device_profile_load(&p, "qemu-lm3s6965evb", &err), &err);
	assert_string_equal(lsec_device_profile_family(p), "lm3s6965x");
	lsec_device_profile_free(p);
	assert_lsec_ok(lsec_device_profile_load(&p, "stm32f4", &err), &err);
	lsec_device_profile_free(p);
	assert_lsec_code(lsec_device_profile_load(&p, "no-such-chip", &err), LSEC_E_NOTFOUND, &err);
	assert_non_null(strstr(err.msg, "no device profile 'no-such-chip'"));
	assert_non_null(strstr(err.msg, dir));
	assert_non_null(strstr(err.msg, "linesec-sim"));
	assert_lsec_code(lsec_device_profile_load(&p, "../etc", &err), LSEC_E_IO, &err);
	assert_lsec_ok(lsec_device_profile_list(&l, &n, &err), &err);
	assert_int_equal(n, NSHIPPED + 1);
	bool seen_mine = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(l[i].name, "my-board") == 0) {
			seen_mine = true;
			assert_non_null(strstr(l[i].source, dir));
		}
		if (strcmp(l[i].name, "qemu-lm3s6965evb") == 0) {
			assert_non_null(strstr(l[i].source, dir)); /* the shadowing file */
		}
		if (strcmp(l[i].name, "nrf52") == 0) {
			assert_string_equal(l[i].source, "built-in");
		}
		assert_true(i == 0 || strcmp(l[i - 1].name, l[i].name) < 0);
	}
	assert_true(seen_mine);
	lsec_device_profile_list_free(l, n);
	assert_int_equal(unsetenv("LINESEC_PROFILES"), 0);
	lsec_free(mine);
	lsec_free(shadow);
	lsec_free(src);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_profile__shipped_profiles_load_clean),
		cmocka_unit_test(test_device_profile__sim_profile_is_the_sim),
		cmocka_unit_test(test_device_profile__qemu_says_what_it_cannot_do),
		cmocka_unit_test(test_device_profile__register_steps),
		cmocka_unit_test(test_device_profile__chip_match_and_product_check),
		cmocka_unit_test(test_device_profile__malformed_refused_naming_line_and_field),
		cmocka_unit_test(test_device_profile__lookup_order_and_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
