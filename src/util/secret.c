/*
 * lsec_secret: key and credential material on pages of its own, locked in
 * memory where the OS allows (RLIMIT_MEMLOCK may refuse; that is not an
 * error), excluded from core dumps, and wiped before it is released.
 */
#include "linesec/util.h"

#include <openssl/rand.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct lsec_secret {
	uint8_t *data;
	size_t len;
	size_t maplen;
};

int lsec_secret_new(lsec_secret **out, size_t len, lsec_err *err)
{
	int rc = 0;
	lsec_secret *s = NULL;
	*out = NULL;
	LSEC_ENSURE(len > 0, LSEC_E_USAGE, "a secret cannot be empty");
	s = lsec_calloc(1, sizeof(*s));
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "out of memory for a secret");
	long page = sysconf(_SC_PAGESIZE);
	size_t pg = page > 0 ? (size_t)page : 4096;
	LSEC_ENSURE(len <= SIZE_MAX - pg, LSEC_E_LIMIT, "secret of %zu bytes too large", len);
	s->maplen = (len + pg - 1) / pg * pg;
	void *p = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LSEC_ENSURE(p != MAP_FAILED, LSEC_E_NOMEM, "cannot map %zu bytes for a secret", s->maplen);
	s->data = p;
	s->len = len;
	(void)mlock(p, s->maplen);
#ifdef MADV_DONTDUMP
	(void)madvise(p, s->maplen, MADV_DONTDUMP);
#endif
	*out = s;
	s = NULL;
out:
	lsec_secret_free(s);
	return rc;
}

int lsec_secret_from(lsec_secret **out, const void *p, size_t len, lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	LSEC_TRY(lsec_secret_new(out, len, err));
	memcpy((*out)->data, p, len);
out:
	return rc;
}

uint8_t *lsec_secret_data(lsec_secret *s)
{
	return s->data;
}

const uint8_t *lsec_secret_cdata(const lsec_secret *s)
{
	return s->data;
}

size_t lsec_secret_len(const lsec_secret *s)
{
	return s->len;
}

bool lsec_secret_equal(const lsec_secret *a, const lsec_secret *b)
{
	if (a == NULL || b == NULL || a->len != b->len) {
		return false;
	}
	return lsec_ct_equal(a->data, b->data, a->len);
}

void lsec_secret_free(lsec_secret *s)
{
	if (s == NULL) {
		return;
	}
	if (s->data != NULL) {
		lsec_wipe(s->data, s->maplen);
		(void)munlock(s->data, s->maplen);
		munmap(s->data, s->maplen);
	}
	lsec_free(s);
}

int lsec_random(void *p, size_t n, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(n <= INT32_MAX, LSEC_E_LIMIT, "random request of %zu bytes too large", n);
	LSEC_TRY_OSSL(RAND_bytes(p, (int)n), LSEC_E_CRYPTO, "cannot draw %zu random bytes", n);
out:
	return rc;
}
