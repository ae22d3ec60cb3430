#include "helpers/testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

char *lsec_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = lsec_asprintf("%s/lsec-test-XXXXXX", base && *base ? base : "/tmp");
	if (tmpl == NULL || mkdtemp(tmpl) == NULL) {
		fail_msg("cannot create a scratch folder");
	}
	return tmpl;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void lsec_test_rmtree(char *path)
{
	if (path == NULL) {
		return;
	}
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	lsec_free(path);
}

char *lsec_test_path(const char *dir, const char *name)
{
	return lsec_asprintf("%s/%s", dir, name);
}

char *lsec_test_data(const char *name)
{
	const char *d = getenv("LSEC_TEST_DATA");
	if (d == NULL) {
		fail_msg("LSEC_TEST_DATA is not set (run the tests through ctest)");
	}
	return lsec_asprintf("%s/%s", d, name);
}

char *lsec_test_source(const char *rel, size_t *len_out)
{
	lsec_err err = LSEC_ERR_INIT;
	const char *d = getenv("LSEC_SOURCE_DIR");
	if (d == NULL) {
		fail_msg("LSEC_SOURCE_DIR is not set (run the tests through ctest)");
	}
	char *path = lsec_asprintf("%s/%s", d, rel);
	lsec_buf b = LSEC_BUF_INIT(16u << 20);
	if (path == NULL || lsec_file_read(&b, path, &err) < 0) {
		fail_msg("cannot read %s: %s", rel, err.msg);
	}
	char *s = lsec_malloc(b.len + 1);
	if (s == NULL) {
		fail_msg("out of memory");
	}
	memcpy(s, b.data, b.len);
	s[b.len] = 0;
	if (len_out != NULL) {
		*len_out = b.len;
	}
	lsec_buf_release(&b);
	lsec_free(path);
	return s;
}

void lsec_test_erased_sha256(uint8_t out[32], uint32_t size)
{
	uint8_t *ff = lsec_malloc(size > 0 ? size : 1);
	assert_non_null(ff);
	memset(ff, 0xff, size);
	assert_non_null(SHA256(ff, size, out));
	lsec_free(ff);
}
