/*
 * benchutil.h - what several benchmarks share.
 */
#ifndef LINESEC_BENCH_BENCHUTIL_H
#define LINESEC_BENCH_BENCHUTIL_H

/*
 * Runs one SQL text on a fresh handle of the registry at url (schema
 * creation and removal on a PostgreSQL server's base database, which holds
 * no registry of its own and gets one on first use). Exits the benchmark
 * with the store's message when it fails.
 */
void bench_pg_exec(const char *url, const char *sql_text);

/* Milliseconds on the monotonic clock. */
double bench_now_ms(void);

/* qsort's comparison of two doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

#endif
