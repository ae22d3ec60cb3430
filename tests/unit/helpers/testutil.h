/* Helpers shared by the unit tests: scratch folders and test data paths. */
#ifndef LSEC_TESTUTIL_H
#define LSEC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "linesec/util.h"

/* A fresh scratch folder under $TMPDIR; free with lsec_test_rmtree. */
char *lsec_test_tmpdir(void);
/* Removes a folder and everything below it, then frees path. */
void lsec_test_rmtree(char *path);
/* "<dir>/<name>", allocated with lsec_malloc. */
char *lsec_test_path(const char *dir, const char *name);
/*
 * The contents of a file of the source tree (LSEC_SOURCE_DIR/rel) as a
 * NUL-terminated string (lsec_free); *len_out (may be NULL) gets its length.
 */
char *lsec_test_source(const char *rel, size_t *len_out);
/* A file under tests/data (LSEC_TEST_DATA), allocated with lsec_malloc. */
char *lsec_test_data(const char *name);
/*
 * SHA-256 of size bytes of 0xff (an erased NOR flash), computed with
 * OpenSSL alone: the independent expectation for a blank check's digest.
 */
void lsec_test_erased_sha256(uint8_t out[32], uint32_t size);

/* Asserts that rc is the expected code, printing err's message when not. */
#define assert_lsec_ok(rc, err)                                                \
	do {                                                                   \
		int rc_ = (rc);                                                \
		if (rc_ != 0) {                                                \
			fail_msg("expected success, got %d: %s", rc_, (err)->msg); \
		}                                                              \
	} while (0)
#define assert_lsec_code(rc, code, err)                                        \
	do {                                                                   \
		int rc_ = (rc);                                                \
		if (rc_ != (code)) {                                           \
			fail_msg("expected code %d, got %d: %s", (int)(code), rc_, \
				 (err)->msg);                                  \
		}                                                              \
	} while (0)

#endif
