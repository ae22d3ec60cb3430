/*
 * bench_store - unit lookup and uniqueness check at 1M units, SQLite and
 * PostgreSQL side by side, printed as a table.
 *
 * For each backend the registry is filled to a small size (the baseline,
 * 1000 units) and then to the full size (default 1M units), and the same
 * operations are timed at both sizes:
 *   lookup serial   lsec_store_unit_get on random existing serials
 *   lookup UID      lsec_store_unit_get_by_uid on random existing UIDs
 *   refuse dup      lsec_store_unit_create of an existing serial: the
 *                   database refuses it (UNIQUE) and the holder is looked up
 *   create          lsec_store_unit_create of a new unit, committed
 * The ratio full/baseline shows how the operations scale with the registry
 * (B-tree indexes: close to 1). Units are bulk-loaded with one INSERT per
 * chunk; loading is not what is measured.
 *
 * SQLite always (a file in a scratch folder: WAL, synchronous=FULL);
 * PostgreSQL when --pg URL or LSEC_TEST_PG_URL is given (a schema of its
 * own, dropped after). Usage: bench_store [--units N] [--ops N] [--pg URL].
 * Nothing here is a test: numbers depend on the machine.
 */
#include "benchutil.h"
#include "linesec/store.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASELINE_UNITS 1000
#define CHUNK 50000

enum { OP_SERIAL, OP_UID, OP_DUP, OP_CREATE, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"lookup serial", "lookup UID", "refuse dup",
					       "create"};

typedef struct result {
	const char *backend;
	double base[OP_COUNT]; /* ops/s at BASELINE_UNITS */
	double full[OP_COUNT]; /* ops/s at the full size */
	double load_s;
} result;

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, err->msg);
	exit(1);
}

static double now_s(void)
{
	return (double)lsec_time_mono_ms() / 1000.0;
}

/* Adds units with numbers [from, to) in chunks, one statement each. */
static void fill(lsec_store *st, uint64_t from, uint64_t to)
{
	lsec_err err = LSEC_ERR_INIT;
	char now[32];
	lsec_time_utc(now);
	for (uint64_t a = from; a < to; a += CHUNK) {
		uint64_t b = a + CHUNK < to ? a + CHUNK : to;
		store_val p[] = {SV_I(a), SV_I(b - 1), SV_S(now), SV_S(now)};
		lsec_store_tx tx = LSEC_STORE_TX_INIT;
		if (lsec_store_tx_begin(&tx, st, &err) != 0 ||
		    lsec_store__query(st,
				      "INSERT INTO units (serial, uid, product, station, state,"
				      " prev_state, created, updated)"
				      " WITH RECURSIVE c(x) AS (SELECT CAST(? AS BIGINT) UNION ALL"
				      " SELECT x + 1 FROM c WHERE x < CAST(? AS BIGINT))"
				      " SELECT 'SN-' || x, 'UID-' || x, 'sensor', 'bench', 'new', 'new',"
				      " ?, ? FROM c",
				      p, 4, NULL, NULL, &err) != 0 ||
		    lsec_store_tx_end(&tx, 0, &err) != 0) {
			die("bulk load", &err);
		}
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void)
{
	/* xorshift64*: a fixed sequence, so both backends see the same keys */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static double time_op(lsec_store *st, int op, uint64_t units, unsigned n, uint64_t *next_new)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_unit u;
	char a[32], b[32];
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = next_rand() % units;
		int rc = 0;
		switch (op) {
		case OP_SERIAL:
			snprintf(a, sizeof(a), "SN-%llu", (unsigned long long)k);
			rc = lsec_store_unit_get(&u, st, a, &err);
			break;
		case OP_UID:
			snprintf(a, sizeof(a), "UID-%llu", (unsigned long long)k);
			rc = lsec_store_unit_get_by_uid(&u, st, a, &err);
			break;
		case OP_DUP:
			snprintf(a, sizeof(a), "SN-%llu", (unsigned long long)k);
			snprintf(b, sizeof(b), "NEWUID-%llu", (unsigned long long)k);
			rc = lsec_store_unit_create(st, a, b, "sensor", "bench", &err);
			rc = rc == LSEC_E_EXISTS ? 0 : (rc == 0 ? -1 : rc);
			break;
		case OP_CREATE:
		default:
			snprintf(a, sizeof(a), "NEW-%llu", (unsigned long long)*next_new);
			snprintf(b, sizeof(b), "NEWUID-%llu", (unsigned long long)*next_new);
			(*next_new)++;
			rc = lsec_store_unit_create(st, a, b, "sensor", "bench", &err);
			break;
		}
		if (rc != 0) {
			die(op_names[op], &err);
		}
	}
	double dt = now_s() - t0;
	return dt > 0 ? n / dt : 0;
}

static void measure(double out[OP_COUNT], lsec_store *st, uint64_t units, unsigned ops,
		    uint64_t *next_new)
{
	for (int op = 0; op < OP_COUNT; op++) {
		/* Committed creates wait for the disk: fewer of them. */
		unsigned n = op == OP_CREATE ? ops / 10 + 1 : ops;
		out[op] = time_op(st, op, units, n, next_new);
	}
}

static void run_backend(result *r, const char *location, const char *name, uint64_t units,
			unsigned ops)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	uint64_t next_new = 0;
	r->backend = name;
	if (lsec_store_create(&st, location, &err) != 0) {
		die(location, &err);
	}
	fill(st, 0, BASELINE_UNITS);
	rng_state = 0x9e3779b97f4a7c15u;
	measure(r->base, st, BASELINE_UNITS, ops, &next_new);
	double t0 = now_s();
	fill(st, BASELINE_UNITS, units);
	r->load_s = now_s() - t0;
	rng_state = 0x9e3779b97f4a7c15u;
	measure(r->full, st, units, ops, &next_new);
	uint64_t n = 0;
	if (lsec_store_unit_count(&n, st, &err) != 0) {
		die("count", &err);
	}
	fprintf(stderr, "bench_store: %s done, %llu units\n", name, (unsigned long long)n);
	lsec_store_close(st);
}

int main(int argc, char **argv)
{
	uint64_t units = 1000000;
	unsigned ops = 20000;
	const char *pg = getenv("LSEC_TEST_PG_URL");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--units") == 0 && i + 1 < argc) {
			units = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
			ops = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc) {
			pg = argv[++i];
		} else {
			fprintf(stderr, "usage: bench_store [--units N] [--ops N] [--pg URL]\n");
			return 2;
		}
	}
	if (units < 10 * BASELINE_UNITS || ops < 100) {
		fprintf(stderr, "bench_store: --units must be >= %d and --ops >= 100\n",
			10 * BASELINE_UNITS);
		return 2;
	}
	result rows[2];
	size_t nrows = 0;
	char dir[] = "/tmp/lsec-bench-store-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_store: cannot create a scratch folder\n");
		return 1;
	}
	char *db = lsec_asprintf("%s/registry.db", dir);
	run_backend(&rows[nrows++], db, "sqlite", units, ops);
	char *cmd = lsec_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_store: cannot remove %s\n", dir);
	}
	lsec_free(cmd);
	lsec_free(db);
	if (pg != NULL && pg[0] != '\0') {
		char *schema = lsec_asprintf("bench_store_%ld", (long)getpid());
		char *create = lsec_asprintf("CREATE SCHEMA %s", schema);
		char *drop = lsec_asprintf("DROP SCHEMA %s CASCADE", schema);
		char *loc = lsec_asprintf("%s%coptions=-csearch_path%%3D%s", pg,
					  strchr(pg, '?') ? '&' : '?', schema);
		bench_pg_exec(pg, create);
		run_backend(&rows[nrows++], loc, "postgres", units, ops);
		bench_pg_exec(pg, drop);
		lsec_free(schema);
		lsec_free(create);
		lsec_free(drop);
		lsec_free(loc);
	}
	printf("registry: units, %llu units vs a %d-unit baseline, %u operations each "
	       "(creates: %u; PostgreSQL %s)\n\n",
	       (unsigned long long)units, BASELINE_UNITS, ops, ops / 10 + 1,
	       nrows > 1 ? "included" : "skipped: no --pg URL or LSEC_TEST_PG_URL");
	printf("%-9s | %-13s | %14s | %14s | %8s\n", "backend", "operation", "ops/s (1k)",
	       "ops/s (full)", "full/1k");
	printf("----------+---------------+----------------+----------------+---------\n");
	for (size_t i = 0; i < nrows; i++) {
		for (int op = 0; op < OP_COUNT; op++) {
			printf("%-9s | %-13s | %14.0f | %14.0f | %7.2fx\n", rows[i].backend,
			       op_names[op], rows[i].base[op], rows[i].full[op],
			       rows[i].base[op] > 0 ? rows[i].full[op] / rows[i].base[op] : 0);
		}
	}
	for (size_t i = 0; i < nrows; i++) {
		printf("%s: bulk load of %llu units took %.1f s\n", rows[i].backend,
		       (unsigned long long)(units - BASELINE_UNITS), rows[i].load_s);
	}
	if (nrows > 1) {
		printf("PostgreSQL commits are as durable as the server's fsync setting makes them "
		       "(scripts/with-postgres starts it with fsync=off).\n");
	}
	return 0;
}
