/* Secrets, files, JSON and errors. */
#include "helpers/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_util_secret__equal_and_free(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *a = NULL, *b = NULL, *c = NULL;
	assert_lsec_ok(lsec_secret_from(&a, "hunter22", 8, &err), &err);
	assert_lsec_ok(lsec_secret_from(&b, "hunter22", 8, &err), &err);
	assert_lsec_ok(lsec_secret_from(&c, "hunter23", 8, &err), &err);
	assert_true(lsec_secret_equal(a, b));
	assert_false(lsec_secret_equal(a, c));
	assert_int_equal(lsec_secret_len(a), 8);
	lsec_secret_free(c);
	assert_lsec_code(lsec_secret_new(&c, 0, &err), LSEC_E_USAGE, &err);
	assert_null(c);
	lsec_secret_free(a);
	lsec_secret_free(b);
	lsec_secret_free(NULL);
}

static void test_util_file__atomic_write_mode_and_replace(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *p = lsec_test_path(dir, "unit.state");
	assert_lsec_ok(lsec_file_write_atomic(p, "one", 3, 0600, &err), &err);
	assert_lsec_ok(lsec_file_write_atomic(p, "two!", 4, 0600, &err), &err);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	lsec_buf b = LSEC_BUF_INIT(16);
	assert_lsec_ok(lsec_file_read(&b, p, &err), &err);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "two!", 4);
	lsec_buf_release(&b);
	/* The unsynced replace: the same whole-file swap, mode set, no temporary left. */
	assert_lsec_ok(lsec_file_write_atomic_unsynced(p, "three", 5, 0640, &err), &err);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_lsec_ok(lsec_file_read(&b, p, &err), &err);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "three", 5);
	lsec_buf_release(&b);
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		assert_null(strstr(e->d_name, ".tmp."));
	}
	closedir(d);
	assert_lsec_ok(lsec_file_write_atomic(p, "two!", 4, 0600, &err), &err);
	/* A file larger than the buffer's max is refused, naming the file. */
	lsec_buf small = LSEC_BUF_INIT(2);
	assert_lsec_code(lsec_file_read(&small, p, &err), LSEC_E_LIMIT, &err);
	assert_non_null(strstr(err.msg, "unit.state"));
	lsec_buf_release(&small);
	/* write_new never overwrites. */
	assert_lsec_code(lsec_file_write_new(p, "x", 1, 0600, &err), LSEC_E_EXISTS, &err);
	char *missing = lsec_test_path(dir, "nope/none");
	lsec_buf m = LSEC_BUF_INIT(16);
	assert_lsec_code(lsec_file_read(&m, missing, &err), LSEC_E_IO, &err);
	assert_non_null(strstr(err.msg, "nope/none"));
	lsec_free(missing);
	lsec_free(p);
	lsec_test_rmtree(dir);
}

/*
 * A published file appears whole (a poller never reads half of it), never
 * replaces one, leaves no hidden part behind, and stays held: a sweep's
 * LOCK_EX | LOCK_NB fails until the holder closes it.
 */
static void test_util_file__publish_held_appears_whole_and_held(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *p = lsec_test_path(dir, "u1.label");
	char *part = lsec_test_path(dir, ".u1.label.part");
	int fd = -1, other;
	assert_lsec_ok(lsec_file_publish_held(&fd, p, "serial: u1\n", 11, 0640, &err), &err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_size, 11);
	assert_int_not_equal(stat(part, &st), 0);
	other = open(p, O_RDONLY);
	assert_true(other >= 0);
	assert_int_not_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(errno, EWOULDBLOCK);
	close(fd);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* Never replaces: the existing file is kept, and the refused copy leaves no part file. */
	assert_lsec_code(lsec_file_publish_held(&fd, p, "other", 5, 0640, &err), LSEC_E_EXISTS,
			 &err);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.msg, "u1.label"));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 11);
	assert_int_not_equal(stat(part, &st), 0);
	lsec_free(part);
	lsec_free(p);
	lsec_test_rmtree(dir);
}

/* The bytes of the file open as fd, from its start. */
static size_t read_fd(char *buf, size_t cap, int fd)
{
	ssize_t n = pread(fd, buf, cap, 0);
	assert_true(n >= 0);
	return (size_t)n;
}

/*
 * Destroying a held file overwrites the very file it published (a reader
 * holding it open sees zeros) and removes its name; when the name was taken
 * (moved away) and something else now stands under it, neither the taken
 * file nor the planted one is touched.
 */
static void test_util_file__destroy_held_touches_only_its_file(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *p = lsec_test_path(dir, "u1.label");
	char *taken = lsec_test_path(dir, "printing-u1");
	char buf[64];
	int fd = -1, peek;
	bool gone = true;
	DIR *d;
	struct dirent *de;
	size_t entries = 0;
	assert_lsec_ok(lsec_file_publish_held(&fd, p, "serial: u1\n", 11, 0640, &err), &err);
	/* Written unnamed, then linked: the folder holds the label and nothing else. */
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		entries += de->d_name[0] != '.';
		assert_true(strstr(de->d_name, ".part") == NULL);
	}
	closedir(d);
	assert_int_equal(entries, 1);
	assert_int_equal(lsec_file_names_fd(p, fd), 1);
	peek = open(p, O_RDONLY);
	assert_true(peek >= 0);
	assert_lsec_ok(lsec_file_destroy_held(&gone, fd, p, false, &err), &err);
	assert_false(gone);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(read_fd(buf, sizeof(buf), peek), 11);
	for (size_t i = 0; i < 11; i++) {
		assert_int_equal(buf[i], 0);
	}
	close(peek);
	close(fd);

	/* Taken by the spooler (moved away), then a file planted under the name. */
	assert_lsec_ok(lsec_file_publish_held(&fd, p, "serial: u1\n", 11, 0640, &err), &err);
	assert_int_equal(rename(p, taken), 0);
	assert_lsec_ok(lsec_file_write_new(p, "planted", 7, 0600, &err), &err);
	assert_int_equal(lsec_file_names_fd(p, fd), 0);
	assert_lsec_ok(lsec_file_destroy_held(&gone, fd, p, false, &err), &err);
	assert_true(gone);
	peek = open(p, O_RDONLY);
	assert_true(peek >= 0);
	assert_int_equal(read_fd(buf, sizeof(buf), peek), 7);
	assert_memory_equal(buf, "planted", 7);
	close(peek);
	peek = open(taken, O_RDONLY);
	assert_true(peek >= 0);
	assert_int_equal(read_fd(buf, sizeof(buf), peek), 11);
	assert_memory_equal(buf, "serial: u1\n", 11);
	close(peek);

	/* A failure's file is zeroed even once taken: nobody may use it. The planted one stays. */
	assert_lsec_ok(lsec_file_destroy_held(&gone, fd, p, true, &err), &err);
	assert_true(gone);
	peek = open(taken, O_RDONLY);
	assert_true(peek >= 0);
	assert_int_equal(read_fd(buf, sizeof(buf), peek), 11);
	for (size_t i = 0; i < 11; i++) {
		assert_int_equal(buf[i], 0);
	}
	close(peek);
	peek = open(p, O_RDONLY);
	assert_int_equal(read_fd(buf, sizeof(buf), peek), 7);
	assert_memory_equal(buf, "planted", 7);
	close(peek);
	close(fd);

	/*
	 * No telling what the name holds (a lookup fails otherwise than "no such
	 * file"): never counted as taken; the file is zeroed and the error says so.
	 */
	char *odd = lsec_test_path(dir, "planted-dir-not/u2.label");
	char *u2 = lsec_test_path(dir, "u2.label");
	char *notdir = lsec_test_path(dir, "planted-dir-not");
	assert_int_equal(rename(p, notdir), 0);
	assert_lsec_ok(lsec_file_publish_held(&fd, u2, "serial: u2\n", 11, 0640, &err), &err);
	assert_int_equal(lsec_file_names_fd(odd, fd), -1);
	assert_lsec_code(lsec_file_destroy_held(&gone, fd, odd, false, &err), LSEC_E_IO, &err);
	assert_non_null(strstr(err.msg, "cannot tell whether"));
	assert_false(gone);
	assert_int_equal(read_fd(buf, sizeof(buf), fd), 11);
	for (size_t i = 0; i < 11; i++) {
		assert_int_equal(buf[i], 0);
	}
	close(fd);
	lsec_free(notdir);
	lsec_free(u2);
	lsec_free(odd);
	lsec_free(taken);
	lsec_free(p);
	lsec_test_rmtree(dir);
}

static void test_util_json__canonical_sorted_compact(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *j = json_pack("{s:i, s:s, s:[i,b], s:{s:n, s:s}}", "zeta", 1, "alpha", "a\"b",
			      "mid", 2, 1, "obj", "y", "x", "v");
	char *s = NULL;
	assert_lsec_ok(lsec_json_canonical(&s, j, &err), &err);
	assert_string_equal(s, "{\"alpha\":\"a\\\"b\",\"mid\":[2,true],\"obj\":{\"x\":\"v\",\"y\":null},\"zeta\":1}");
	lsec_free(s);
	json_decref(j);
	j = json_pack("{s:f}", "x", 1.5);
	assert_lsec_code(lsec_json_canonical(&s, j, &err), LSEC_E_USAGE, &err);
	json_decref(j);
	json_t *p = NULL;
	assert_lsec_code(lsec_json_parse(&p, "{\"a\":1,\"a\":2}", 13, "leaf 3", &err), LSEC_E_PARSE,
			 &err);
	assert_non_null(strstr(err.msg, "leaf 3"));
}

static void test_util_err__categories_and_names(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	int rc = lsec_err_set(&err, LSEC_E_IO, __FILE__, __LINE__, "cannot open '%s'", "x.img");
	assert_int_equal(rc, LSEC_E_IO);
	assert_int_equal(err.category, LSEC_CAT_IO);
	assert_string_equal(err.msg, "cannot open 'x.img'");
	assert_int_equal(lsec_code_category(-100), LSEC_CAT_PARSE);
	assert_int_equal(lsec_code_category(-125), LSEC_CAT_CRYPTO);
	assert_int_equal(lsec_code_category(-135), LSEC_CAT_POLICY);
	assert_int_equal(lsec_code_category(-245), LSEC_CAT_STATE);
	assert_string_equal(lsec_code_name(-160), "device");
	assert_string_equal(lsec_code_name(LSEC_E_EXISTS), "exists");

	/* A message longer than the buffer says it was cut. */
	char longname[2000];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	lsec_err_set(&err, LSEC_E_IO, __FILE__, __LINE__, "cannot open '%s'", longname);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_string_equal(err.msg + sizeof(err.msg) - 4, "...");
	assert_memory_equal(err.msg, "cannot open 'aaa", 16);
}

/* The builders take their value whatever happens and never leave half a document. */
static void test_util_json__set_and_append_take_ownership(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	json_t *o = json_object(), *a = json_array();
	assert_lsec_ok(lsec_json_set(o, "n", json_integer(7), &err), &err);
	assert_lsec_ok(lsec_json_append(a, json_string("x"), &err), &err);
	assert_lsec_ok(lsec_json_set(o, "list", a, &err), &err);
	char *s = NULL;
	assert_lsec_ok(lsec_json_canonical(&s, o, &err), &err);
	assert_string_equal(s, "{\"list\":[\"x\"],\"n\":7}");
	lsec_free(s);
	/* A failed constructor (NULL) is refused, naming the key; nothing is added. */
	assert_lsec_code(lsec_json_set(o, "bad", NULL, &err), LSEC_E_NOMEM, &err);
	assert_non_null(strstr(err.msg, "'bad'"));
	assert_lsec_code(lsec_json_append(a, NULL, &err), LSEC_E_NOMEM, &err);
	assert_int_equal(json_object_size(o), 2);
	assert_int_equal(json_array_size(a), 1);
	/* A value that cannot be set (an invalid key) is released, not leaked (ASan checks). */
	assert_lsec_code(lsec_json_set(o, "\xff", json_string("leak?"), &err), LSEC_E_NOMEM, &err);
	json_decref(o);
}

/* The check before the YAML parser names the first refused byte by line and column. */
static void test_util_yaml__text_check_names_the_first_refused_byte(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t len, line, column;
		const char *why;
	} cases[] = {
		{"a: caf\xc3\xa9\nb: 1\n", 14, 0, 0, NULL},
		{"a: caf\xc3\xa9\n\tb: 1\n", 15, 2, 1, "tab character"},
		{"a: caf\xc3\xa9 \x00", 11, 1, 9, "NUL byte"},
		{"a: b\n%YAML 1.2\n", 15, 2, 1, "YAML directive"},
		{"a: b\xc2\x85%TAG\n", 10, 1, 6, "YAML directive"},
		{"a: \"x\xc3\"\n", 8, 1, 6, "invalid UTF-8"},
		{"a: 'x''''y'\n", 12, 1, 6, "single quotes"},
		{"a: 50%\n", 7, 0, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lsec_text_fault f;
		bool ok = lsec_yaml_text_check(&f, (const uint8_t *)cases[i].text, cases[i].len);
		if (cases[i].why == NULL) {
			assert_true(ok);
			assert_null(f.why);
			continue;
		}
		assert_false(ok);
		if (strstr(f.why, cases[i].why) == NULL || f.line != cases[i].line ||
		    f.column != cases[i].column) {
			fail_msg("case %zu: got '%s' at %zu:%zu", i, f.why, f.line, f.column);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_secret__equal_and_free),
		cmocka_unit_test(test_util_file__atomic_write_mode_and_replace),
		cmocka_unit_test(test_util_file__publish_held_appears_whole_and_held),
		cmocka_unit_test(test_util_file__destroy_held_touches_only_its_file),
		cmocka_unit_test(test_util_json__canonical_sorted_compact),
		cmocka_unit_test(test_util_json__set_and_append_take_ownership),
		cmocka_unit_test(test_util_err__categories_and_names),
		cmocka_unit_test(test_util_yaml__text_check_names_the_first_refused_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
