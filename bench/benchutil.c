/*
 * benchutil.c - what several benchmarks share.
 */
#include "benchutil.h"

#include "linesec/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>

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
