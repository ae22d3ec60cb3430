/*
 * The simulated unit's persistence: state in memory, one commit per device
 * operation, only changed flash pages written, nothing reported done lost
 * when the process is killed.
 */
#include "sim_fixture.h"
#include "device/device_int.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static lsec_device__sim_stats stats_of(lsec_device *t)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device__sim_stats st;
	assert_lsec_ok(lsec_device__sim_stats_get(&st, t, &err), &err);
	return st;
}

static void test_device_sim__state_survives_reopening(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	lsec_device *t = fixture_open(fx.uri, true);
	uint8_t digest[32], cert[100];
	lsec_buf spki = LSEC_BUF_INIT(1024), spki2 = LSEC_BUF_INIT(1024);
	lsec_buf back = LSEC_BUF_INIT(4096);
	for (size_t i = 0; i < sizeof(digest); i++) {
		digest[i] = (uint8_t)(0x11 * (i + 1));
	}
	memset(cert, 0x30, sizeof(cert));
	lsec_device__sim_stats s0 = stats_of(t);
	/* Eight OTP words burned, one device operation: one state file write. */
	assert_lsec_ok(lsec_device_fuse_burn_digest(t, digest, &err), &err);
	lsec_device__sim_stats s1 = stats_of(t);
	assert_int_equal(s1.state_writes, s0.state_writes + 1);
	assert_lsec_ok(lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, 40, &err), &err);
	assert_int_equal(stats_of(t).state_writes, s1.state_writes + 1);
	assert_lsec_ok(lsec_device_key_generate(t, 0, &err), &err);
	assert_lsec_ok(lsec_device_key_public(&spki, t, 0, &err), &err);
	assert_lsec_ok(lsec_device_cert_store(t, 0, cert, sizeof(cert), &err), &err);
	/* Reads, hashes and resets write nothing and read nothing back. */
	lsec_device__sim_stats s2 = stats_of(t);
	lsec_device_fuse_value v;
	uint8_t h[32];
	lsec_device_boot_report br;
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_lsec_ok(lsec_device_flash_hash(h, t, 0, 4096, &err), &err);
	assert_lsec_code(lsec_device_reset(&br, t, &err), LSEC_E_TGT_BOOT_REFUSED, &err);
	lsec_device__sim_stats s3 = stats_of(t);
	assert_memory_equal(&s2, &s3, sizeof(s2));
	assert_int_equal(s3.loads, 1); /* the open */
	lsec_device_close(t);

	t = fixture_open(fx.uri, true);
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST, &err), &err);
	assert_memory_equal(v.bytes, digest, sizeof(digest));
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_int_equal(v.value, 40);
	assert_lsec_ok(lsec_device_key_public(&spki2, t, 0, &err), &err);
	assert_int_equal(spki.len, spki2.len);
	assert_memory_equal(spki.data, spki2.data, spki.len);
	assert_lsec_ok(lsec_device_cert_read(&back, t, 0, &err), &err);
	assert_int_equal(back.len, sizeof(cert));
	lsec_device_close(t);
	lsec_buf_release(&spki);
	lsec_buf_release(&spki2);
	lsec_buf_release(&back);
	fixture_free(&fx);
}

static void test_device_sim__only_changed_pages_are_written(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx); /* 64 KiB flash, 4 KiB pages */
	char *fpath = lsec_asprintf("%s.flash", fx.path);
	lsec_device *t = fixture_open(fx.uri, true);
	struct stat st0, st1;
	assert_int_equal(stat(fpath, &st0), 0);
	/* A mark in page 0 written behind the session's back: only a rewrite of page 0 clears it. */
	static const uint8_t mark[8] = "LSECMARK";
	int fd = open(fpath, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, mark, sizeof(mark), 100), (ssize_t)sizeof(mark));
	close(fd);
	uint8_t img[5000];
	for (size_t i = 0; i < sizeof(img); i++) {
		img[i] = (uint8_t)(i * 13 + 1);
	}
	lsec_device__sim_stats s0 = stats_of(t);
	/* Erase (pages already blank: nothing to write) + write + verify: 2 pages, one sync. */
	assert_lsec_ok(lsec_device_flash_program(t, 8192, img, sizeof(img), &err), &err);
	lsec_device__sim_stats s1 = stats_of(t);
	assert_int_equal(s1.flash_pages - s0.flash_pages, 2);
	assert_int_equal(s1.flash_syncs - s0.flash_syncs, 1);
	assert_int_equal(s1.state_writes, s0.state_writes);
	/* The same image again: erase and rewrite 2 pages. */
	assert_lsec_ok(lsec_device_flash_program(t, 8192, img, sizeof(img), &err), &err);
	assert_int_equal(stats_of(t).flash_pages - s1.flash_pages, 2);
	lsec_device_close(t);
	/* The file was updated in place (same inode) and page 0 was never rewritten. */
	assert_int_equal(stat(fpath, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino);
	assert_int_equal(st1.st_size, 64 * 1024);
	assert_true(file_contains(fpath, mark, sizeof(mark)));
	assert_true(file_contains(fpath, img, sizeof(img)));
	/* Erase-all writes the written pages (and page 0, marked), not the blank ones. */
	t = fixture_open(fx.uri, true);
	s0 = stats_of(t);
	assert_lsec_ok(lsec_device_erase_all(t, &err), &err);
	assert_int_equal(stats_of(t).flash_pages - s0.flash_pages, 3);
	lsec_device_close(t);
	assert_false(file_contains(fpath, mark, sizeof(mark)));
	lsec_free(fpath);
	fixture_free(&fx);
}

/*
 * A child runs device operations and reports each one the device reported
 * done; it is killed (SIGKILL) while it runs. Everything it reported is on
 * disk, and the unit opens cleanly.
 */
static void test_device_sim__kill_loses_nothing_reported_done(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	sim_fixture fx;
	fixture_default(&fx);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		lsec_device *t = NULL;
		if (lsec_device_open(&t, fx.uri, &err) < 0 || lsec_device_debug_attach(t, &err) < 0) {
			_exit(1);
		}
		uint8_t page[4096];
		for (uint8_t i = 1; i < 16; i++) {
			memset(page, i, sizeof(page));
			if (lsec_device_fuse_set(t, LSEC_FUSE_ANTI_ROLLBACK, i, &err) < 0 ||
			    write(p[1], "c", 1) != 1 ||
			    lsec_device_flash_program(t, (uint32_t)i * 4096u, page, sizeof(page),
						      &err) < 0 ||
			    write(p[1], "f", 1) != 1) {
				_exit(1);
			}
		}
		for (;;) {
			pause();
		}
	}
	close(p[1]);
	char c;
	unsigned fuses = 0, pages = 0;
	while (fuses + pages < 12 && read(p[0], &c, 1) == 1) {
		fuses += c == 'c';
		pages += c == 'f';
	}
	kill(pid, SIGKILL);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	while (read(p[0], &c, 1) == 1) { /* what it reported before it died */
		fuses += c == 'c';
		pages += c == 'f';
	}
	close(p[0]);
	assert_true(fuses >= 6);

	lsec_device *t = fixture_open(fx.uri, true);
	lsec_device_fuse_value v;
	assert_lsec_ok(lsec_device_fuse_read(&v, t, LSEC_FUSE_ANTI_ROLLBACK, &err), &err);
	assert_true(v.value >= fuses);
	uint8_t back[4096];
	for (unsigned i = 1; i <= pages; i++) {
		assert_lsec_ok(lsec_device_flash_read(back, t, i * 4096u, sizeof(back), &err), &err);
		for (size_t k = 0; k < sizeof(back); k++) {
			assert_int_equal(back[k], i);
		}
	}
	lsec_device_close(t);
	fixture_free(&fx);
}

static void test_device_sim__stats_only_for_sim_sessions(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device__sim_stats st;
	assert_lsec_code(lsec_device__sim_stats_get(&st, NULL, &err), LSEC_E_USAGE, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_sim__state_survives_reopening),
		cmocka_unit_test(test_device_sim__only_changed_pages_are_written),
		cmocka_unit_test(test_device_sim__kill_loses_nothing_reported_done),
		cmocka_unit_test(test_device_sim__stats_only_for_sim_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
