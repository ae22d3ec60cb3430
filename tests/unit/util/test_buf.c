#include "helpers/testutil.h"

#include <string.h>

static void test_util_buf__append_grows_up_to_max(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(100);
	uint8_t chunk[30];
	memset(chunk, 0xab, sizeof(chunk));
	for (int i = 0; i < 3; i++) {
		assert_lsec_ok(lsec_buf_append(&b, chunk, sizeof(chunk), &err), &err);
	}
	assert_int_equal(b.len, 90);
	/* Over-fill: the 4th chunk would pass max and must be refused whole. */
	assert_lsec_code(lsec_buf_append(&b, chunk, sizeof(chunk), &err), LSEC_E_LIMIT, &err);
	assert_int_equal(b.len, 90);
	assert_non_null(strstr(err.msg, "limit of 100 bytes"));
	assert_lsec_ok(lsec_buf_append(&b, chunk, 10, &err), &err);
	assert_int_equal(b.len, 100);
	lsec_buf_release(&b);
	assert_null(b.data);
}

static void test_util_buf__printf_and_cstr(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(64);
	assert_lsec_ok(lsec_buf_printf(&b, &err, "unit %s step %d", "SN1", 3), &err);
	assert_string_equal(lsec_buf_cstr(&b, &err), "unit SN1 step 3");
	assert_lsec_code(lsec_buf_printf(&b, &err, "%070d", 1), LSEC_E_LIMIT, &err);
	lsec_buf_release(&b);
}

static void test_util_buf__append_fails_cleanly_out_of_memory(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(1 << 20);
	assert_lsec_ok(lsec_buf_append(&b, "abc", 3, &err), &err);
	uint8_t big[512] = {0};
	lsec_alloc_fail_after(1);
	int rc = lsec_buf_append(&b, big, sizeof(big), &err);
	lsec_alloc_fail_after(0);
	assert_lsec_code(rc, LSEC_E_NOMEM, &err);
	/* Nothing half-done: the old contents are intact. */
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	lsec_buf_release(&b);
}

static void test_util_buf__reader_never_reads_past_end(void **state)
{
	(void)state;
	const uint8_t data[] = {0x3d, 0xb8, 0xf3, 0x96, 0x01, 0x02, 0x03};
	lsec_reader r;
	lsec_reader_init(&r, data, sizeof(data));
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;
	assert_true(lsec_reader_u32le(&r, &v32));
	assert_int_equal(v32, 0x96f3b83d);
	assert_false(lsec_reader_u32le(&r, &v32));
	assert_int_equal(lsec_reader_left(&r), 3);
	assert_true(lsec_reader_u16be(&r, &v16));
	assert_int_equal(v16, 0x0102);
	assert_true(lsec_reader_u8(&r, &v8));
	assert_false(lsec_reader_u8(&r, &v8));
	assert_false(lsec_reader_skip(&r, 1));
	assert_int_equal(lsec_reader_left(&r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_buf__append_grows_up_to_max),
		cmocka_unit_test(test_util_buf__printf_and_cstr),
		cmocka_unit_test(test_util_buf__append_fails_cleanly_out_of_memory),
		cmocka_unit_test(test_util_buf__reader_never_reads_past_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
