/* The sim state file: round trip, integrity, versions, fault option parsing, sealed keys. */
#include "sim_fixture.h"
#include "device/device_int.h"

static void test_device_sim_state__round_trip(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *path = lsec_test_path(dir, "u.sim");
	sim_unit u, v;
	assert_lsec_ok(lsec_device__sim_unit_init(&u, 8192, 1024, &err), &err);
	memset(u.uid, 0xa5, sizeof(u.uid));
	u.caps = LSEC_DEVICE_CAP_KEYGEN;
	u.seed = 0x1122334455667788ull;
	u.attach_count = 7;
	u.faults.flash_cut = 0x1ffffffffull;
	u.faults.attach_fail_ppm = 250000;
	u.faults.stuck = 1;
	u.faults.stuck_addr = 8191;
	u.faults.stuck_bit = 7;
	u.otp[5] = 0xdeadbeef;
	u.otp[63] = 0x80000000u;
	u.flash[0] = 0x12;
	u.flash[8191] = 0x34;
	u.slots[2].state = LSEC_SLOT_INJECTED;
	assert_lsec_ok(lsec_buf_append(&u.slots[2].spki, "spki", 4, &err), &err);
	assert_lsec_ok(lsec_buf_append(&u.slots[2].cert, "cert!", 5, &err), &err);
	assert_lsec_ok(lsec_buf_append(&u.cred, "sealed", 6, &err), &err);
	assert_lsec_ok(lsec_device__sim_save(&u, path, SIM_SAVE_STATE | SIM_SAVE_FLASH, &err), &err);
	assert_lsec_ok(lsec_device__sim_load(&v, path, &err), &err);
	assert_memory_equal(v.uid, u.uid, sizeof(u.uid));
	assert_string_equal(v.chip_id, "linesec-sim-m1");
	assert_int_equal(v.flash_size, 8192);
	assert_int_equal(v.page_size, 1024);
	assert_int_equal(v.caps, LSEC_DEVICE_CAP_KEYGEN);
	assert_true(v.seed == u.seed);
	assert_int_equal(v.attach_count, 7);
	assert_true(v.faults.flash_cut == 0x1ffffffffull);
	assert_int_equal(v.faults.attach_fail_ppm, 250000);
	assert_int_equal(v.faults.stuck_addr, 8191);
	assert_int_equal(v.faults.stuck_bit, 7);
	assert_memory_equal(v.otp, u.otp, sizeof(u.otp));
	assert_memory_equal(v.flash, u.flash, 8192);
	assert_int_equal(v.slots[2].state, LSEC_SLOT_INJECTED);
	assert_int_equal(v.slots[2].cert.len, 5);
	assert_memory_equal(v.cred.data, "sealed", 6);
	lsec_device__sim_unit_release(&u);
	lsec_device__sim_unit_release(&v);
	lsec_free(path);
	lsec_test_rmtree(dir);
}

/* Rewrites the file at path after changing one byte (and optionally fixing the checksum). */
static void poke(const char *path, size_t off, uint8_t val, bool fix_sum)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(64u << 20);
	assert_lsec_ok(lsec_file_read(&b, path, &err), &err);
	assert_true(off < b.len);
	b.data[off] = val;
	if (fix_sum) {
		assert_lsec_ok(lsec_sha256(b.data + b.len - 32, b.data, b.len - 32, &err), &err);
	}
	assert_lsec_ok(lsec_file_write_atomic(path, b.data, b.len, 0600, &err), &err);
	lsec_buf_release(&b);
}

static void test_device_sim_state__refuses_corrupt_files(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	sim_unit u;
	/* A flipped OTP byte: the checksum catches it. */
	poke(fx.path, 300, 0x01, false);
	assert_lsec_code(lsec_device__sim_load(&u, fx.path, &err), LSEC_E_TGT_BAD_STATE, &err);
	assert_non_null(strstr(err.msg, "checksum"));
	lsec_device *t = NULL;
	assert_lsec_code(lsec_device_open(&t, fx.uri, &err), LSEC_E_TGT_BAD_STATE, &err);
	assert_null(t);
	/* An unknown version, with a valid checksum. */
	poke(fx.path, 8, 2, true);
	assert_lsec_code(lsec_device__sim_load(&u, fx.path, &err), LSEC_E_TGT_BAD_STATE, &err);
	assert_non_null(strstr(err.msg, "version 2"));
	/* Bad magic. */
	poke(fx.path, 8, 1, true);
	poke(fx.path, 0, 'X', true);
	assert_lsec_code(lsec_device__sim_load(&u, fx.path, &err), LSEC_E_TGT_BAD_STATE, &err);
	assert_non_null(strstr(err.msg, "magic"));
	poke(fx.path, 0, 'L', true);
	assert_lsec_ok(lsec_device__sim_load(&u, fx.path, &err), &err);
	lsec_device__sim_unit_release(&u);
	/* A flash size that disagrees with the file's length. */
	poke(fx.path, 8 + 4 + 32 + 16 + 1, 0x02, true);
	assert_lsec_code(lsec_device__sim_load(&u, fx.path, &err), LSEC_E_TGT_BAD_STATE, &err);
	poke(fx.path, 8 + 4 + 32 + 16 + 1, 0x00, true);
	assert_lsec_ok(lsec_device__sim_load(&u, fx.path, &err), &err);
	lsec_device__sim_unit_release(&u);
	/* A flash file of the wrong size. */
	char *flash = lsec_asprintf("%s.flash", fx.path);
	assert_lsec_ok(lsec_file_write_atomic(flash, "\xff\xff", 2, 0600, &err), &err);
	assert_lsec_code(lsec_device__sim_load(&u, fx.path, &err), LSEC_E_TGT_BAD_STATE, &err);
	assert_non_null(strstr(err.msg, "expected 65536"));
	lsec_free(flash);
	/* Too short to be a state file at all. */
	assert_lsec_ok(lsec_file_write_atomic(fx.path, "LSECSIM", 7, 0600, &err), &err);
	assert_lsec_code(lsec_device__sim_load(&u, fx.path, &err), LSEC_E_TGT_BAD_STATE, &err);
	fixture_free(&fx);
}

static void test_device_sim_state__fault_options(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_faults f;
	bool has_seed = true;
	uint64_t seed = 1;
	assert_lsec_ok(lsec_device__sim_faults_parse(&f, &has_seed, &seed, NULL, &err), &err);
	assert_false(has_seed);
	assert_lsec_ok(lsec_device__sim_faults_parse(
			       &f, &has_seed, &seed,
			       "seed=0x10&flash_cut=4096&otp_cut=2&attach_fail=0.25&boot_fail=3&stuck=0x20:5:1&lat_kib_us=7&lat_op_us=9",
			       &err),
		       &err);
	assert_true(has_seed);
	assert_int_equal(seed, 16);
	assert_int_equal(f.flash_cut, 4096);
	assert_int_equal(f.otp_cut, 2);
	assert_int_equal(f.attach_fail_ppm, 250000);
	assert_int_equal(f.boot_fail, 3);
	assert_int_equal(f.stuck, 1);
	assert_int_equal(f.stuck_addr, 0x20);
	assert_int_equal(f.stuck_bit, 5);
	assert_int_equal(f.stuck_val, 1);
	assert_int_equal(f.lat_kib_us, 7);
	assert_int_equal(f.lat_op_us, 9);
	const char *bad[] = {"x", "seed=-1", "flash_cut=99999999999", "attach_fail=abc",
			     "attach_fail=-0.1", "stuck=1:2", "stuck=1:8:0", "stuck=1:1:2",
			     "lat_op_us=10000001", "otp_cut=1x", "=3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_lsec_code(lsec_device__sim_faults_parse(&f, &has_seed, &seed, bad[i], &err),
				 LSEC_E_TGT_BAD_URI, &err);
	}
	/* Determinism: the mix of (seed, n) never changes. */
	assert_true(lsec_device__sim_mix(1, 0) == lsec_device__sim_mix(1, 0));
	assert_true(lsec_device__sim_mix(1, 0) != lsec_device__sim_mix(1, 1));
	assert_true(lsec_device__sim_mix(1, 0) != lsec_device__sim_mix(2, 0));
}

static void test_device_sim_state__sealed_key_bound_to_unit_and_slot(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_unit u, other;
	lsec_secret *huk = NULL, *huk2 = NULL, *pt = NULL;
	lsec_buf sealed = LSEC_BUF_INIT(256);
	uint8_t k[32], k2[32];
	memset(k, 1, sizeof(k));
	memset(k2, 2, sizeof(k2));
	assert_lsec_ok(lsec_secret_from(&huk, k, sizeof(k), &err), &err);
	assert_lsec_ok(lsec_secret_from(&huk2, k2, sizeof(k2), &err), &err);
	assert_lsec_ok(lsec_device__sim_unit_init(&u, 4096, 4096, &err), &err);
	assert_lsec_ok(lsec_device__sim_unit_init(&other, 4096, 4096, &err), &err);
	memset(other.uid, 0x77, sizeof(other.uid));
	assert_lsec_ok(lsec_device__sim_wrap(&sealed, huk, &u, 1, (const uint8_t *)"private!", 8,
					     &err),
		       &err);
	assert_null(memmem(sealed.data, sealed.len, "private!", 8));
	assert_lsec_ok(lsec_device__sim_unwrap(&pt, huk, &u, 1, &sealed, &err), &err);
	assert_memory_equal(lsec_secret_cdata(pt), "private!", 8);
	lsec_secret_free(pt);
	/* Another slot, another unit, another device secret, a flipped byte: all refused. */
	assert_lsec_code(lsec_device__sim_unwrap(&pt, huk, &u, 2, &sealed, &err),
			 LSEC_E_TGT_BAD_STATE, &err);
	assert_lsec_code(lsec_device__sim_unwrap(&pt, huk, &other, 1, &sealed, &err),
			 LSEC_E_TGT_BAD_STATE, &err);
	assert_lsec_code(lsec_device__sim_unwrap(&pt, huk2, &u, 1, &sealed, &err),
			 LSEC_E_TGT_BAD_STATE, &err);
	sealed.data[14] ^= 1;
	assert_lsec_code(lsec_device__sim_unwrap(&pt, huk, &u, 1, &sealed, &err),
			 LSEC_E_TGT_BAD_STATE, &err);
	assert_null(pt);
	/* Over-fill: a blob larger than the slot's buffer is refused. */
	uint8_t big[300] = {0};
	assert_lsec_code(lsec_device__sim_wrap(&sealed, huk, &u, 1, big, sizeof(big), &err),
			 LSEC_E_LIMIT, &err);
	lsec_buf_release(&sealed);
	lsec_secret_free(huk);
	lsec_secret_free(huk2);
	lsec_device__sim_unit_release(&u);
	lsec_device__sim_unit_release(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_sim_state__round_trip),
		cmocka_unit_test(test_device_sim_state__refuses_corrupt_files),
		cmocka_unit_test(test_device_sim_state__fault_options),
		cmocka_unit_test(test_device_sim_state__sealed_key_bound_to_unit_and_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
