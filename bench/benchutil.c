/*
 * benchutil.c - what several benchmarks share.
 */
#include "benchutil.h"

#include "linesec/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void bench_pg_exec(const char *url, const char *sql_text)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	if ((lsec_store_open(&st, url, &err) != 0 && lsec_store_create(&st, url, &err) != 0) ||
	    st->ops->exec(st, sql_text, &err) != 0) {
		fprintf(stderr, "bench: %s: %s\n", sql_text, err.msg);
		exit(1);
	}
	lsec_store_close(st);
}

double bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}
