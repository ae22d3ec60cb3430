#include "helpers/testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
