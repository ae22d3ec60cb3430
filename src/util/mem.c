/* The one allocator, with a fault-injection hook for tests. */
#include "linesec/util.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong fail_after; /* 0: never fail */

void lsec_alloc_fail_after(unsigned long n)
{
	atomic_store(&fail_after, n);
}

/* True when the fault hook says this allocation must fail. */
static bool injected_failure(void)
{
	unsigned long n = atomic_load(&fail_after);
	if (n == 0) {
		return false;
	}
	if (n == 1) {
		return true; /* stays at 1: every later allocation fails too */
	}
	atomic_compare_exchange_strong(&fail_after, &n, n - 1);
	return false;
}

void *lsec_malloc(size_t n)
{
	if (injected_failure()) {
		return NULL;
	}
	return malloc(n == 0 ? 1 : n);
}

void *lsec_calloc(size_t nmemb, size_t size)
{
	if (injected_failure()) {
		return NULL;
	}
	return calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);
}

void *lsec_realloc(void *p, size_t n)
{
	if (injected_failure()) {
		return NULL;
	}
	return realloc(p, n == 0 ? 1 : n);
}

void lsec_free(void *p)
{
	free(p);
}

char *lsec_strdup(const char *s)
{
	if (s == NULL) {
		return NULL;
	}
	size_t n = strlen(s) + 1;
	char *d = lsec_malloc(n);
	if (d != NULL) {
		memcpy(d, s, n);
	}
	return d;
}

char *lsec_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return NULL;
	}
	char *s = lsec_malloc((size_t)n + 1);
	if (s == NULL) {
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void lsec_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0) {
		OPENSSL_cleanse(p, n);
	}
}

bool lsec_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
