/*
 * bench_gate - what the ship gate's log check costs per unit against the
 * size of the log, and full-replay verification, printed as a table.
 *
 * For each log size (default 1k, 100k and 1M leaves, a few minutes; other
 * sizes as arguments, e.g. 1000 10000 for a quick look) a SQLite registry is prefilled with
 * signed leaves (lsec_audit_record, 5000 per transaction, a checkpoint after
 * each). Then, per unit, 10 leaves are appended and the gate's log
 * part is timed: a checkpoint (lsec_audit_checkpoint_create), the unit's
 * inclusion proof (lsec_audit_prove) and its offline check
 * (lsec_audit_proof_check). Measured twice: by the station process that
 * signed the previous checkpoint (its range in memory) and by a fresh one
 * (the range stored with the checkpoint). Each is reported against the gate
 * at the smallest size, measured in the same run. Full verification
 * (lsec_audit_verify) is reported in leaves/s against a raw baseline of
 * one SHA-256 of a leaf plus one Ed25519 verification per leaf.
 *
 * Nothing here is a test: numbers depend on the machine.
 */
#include "audit/audit_int.h"
#include "linesec/store.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PER_TX 5000
#define UNIT_LEAVES 10
#define UNITS 20
#define SIZES_MAX 8

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_gate: %s: %s\n", what, err->msg);
	exit(1);
}

static double now_s(void)
{
	return (double)lsec_time_mono_ms() / 1000.0;
}

/* Processor time of this process: what a loaded machine's other work does not add to. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rate(double n, double t0, double t1)
{
	return n / (t1 - t0 > 0 ? t1 - t0 : 1e-3);
}

/*
 * n leaves of unit (SN-<seq / 10> when unit is NULL), per_tx per transaction;
 * with key, a checkpoint after each transaction, as a line signs one per unit
 * (each walks only the leaves since the one before, whose signatures this
 * process made: without them the first checkpoint of a 1M-leaf log checks
 * 1M signatures, many minutes).
 */
static int append(lsec_store *st, uint64_t n, const char *unit, EVP_PKEY *key, lsec_err *err)
{
	int rc = 0;
	char name[32];
	json_t *evd = json_pack("{s:s}", "image_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {"operator-1", "station-1", NULL,	  "sop-1-flash", 1,
			       "flash",	     "write-image", "pass", evd};
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	for (uint64_t done = 0; done < n;) {
		LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
		for (uint64_t k = 0; k < PER_TX && done < n; k++, done++) {
			snprintf(name, sizeof(name), "SN-%llu", (unsigned long long)(done / 10));
			ev.unit = unit != NULL ? unit : name;
			LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
		}
		LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
		if (key != NULL) {
			LSEC_TRY(lsec_audit_checkpoint_create(NULL, st, "bench", "station-1", key,
							      "operator-1", err));
		}
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(evd);
	return rc;
}

static void attach(lsec_store *st, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_signer *s = NULL;
	if (lsec_audit_signer_new(&s, "bench", "station-1", key, &err) != 0) {
		die("signer", &err);
	}
	lsec_audit_signer_attach(st, s);
}

/* The gate's log part for one unit: checkpoint, prove, check. */
static void gate(lsec_store *st, EVP_PKEY *key, const char *unit)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_proof *p = NULL;
	lsec_audit_checkpoint cp;
	if (lsec_audit_checkpoint_create(NULL, st, "bench", "station-1", key, "operator-1",
					 &err) != 0 ||
	    lsec_audit_prove(&p, st, unit, 0, &err) != 0 ||
	    lsec_audit_proof_check(&cp, p, key, &err) != 0) {
		die("gate", &err);
	}
	if (lsec_audit_proof_count(p) != UNIT_LEAVES) {
		fprintf(stderr, "bench_gate: %zu leaves proven\n", lsec_audit_proof_count(p));
		exit(1);
	}
	lsec_audit_proof_free(p);
}

struct row {
	uint64_t leaves;
	double prefill, first_cp, gate_mem_ms, gate_fresh_ms, verify;
	double cpu_mem_ms, cpu_fresh_ms; /* the same, processor time */
};

/* Mean milliseconds of the gate over UNITS units (fresh: a new signer each time); *cpu_ms: CPU. */
static double gate_ms(double *cpu_ms, lsec_store *st, EVP_PKEY *key, bool fresh, int *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	double total = 0, cpu = 0;
	char unit[32];
	for (int i = 0; i < UNITS; i++) {
		snprintf(unit, sizeof(unit), "UNIT-%d", (*serial)++);
		if (append(st, UNIT_LEAVES, unit, NULL, &err) != 0) {
			die("append", &err);
		}
		if (fresh) {
			attach(st, key);
		}
		double t0 = now_s(), c0 = cpu_s();
		gate(st, key, unit);
		total += now_s() - t0;
		cpu += cpu_s() - c0;
	}
	*cpu_ms = 1000.0 * cpu / UNITS;
	return 1000.0 * total / UNITS;
}

static void run_size(struct row *r, const char *dir, uint64_t leaves, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	int serial = 0;
	char *db = lsec_asprintf("%s/registry-%llu.db", dir, (unsigned long long)leaves);
	if (db == NULL || lsec_store_create(&st, db, &err) != 0) {
		die("open", &err);
	}
	attach(st, key);
	r->leaves = leaves;
	double t0 = now_s();
	if (append(st, leaves, NULL, key, &err) != 0) {
		die("prefill", &err);
	}
	double t1 = now_s();
	r->prefill = rate((double)leaves, t0, t1);
	/* A checkpoint over the whole log, by this process (its range in memory). */
	t0 = now_s();
	if (lsec_audit_checkpoint_create(NULL, st, "bench", "station-1", key, "operator-1",
					 &err) != 0) {
		die("checkpoint", &err);
	}
	r->first_cp = now_s() - t0;
	r->gate_mem_ms = gate_ms(&r->cpu_mem_ms, st, key, false, &serial);
	r->gate_fresh_ms = gate_ms(&r->cpu_fresh_ms, st, key, true, &serial);
	lsec_audit_verify_report rep;
	t0 = now_s();
	if (lsec_audit_verify(&rep, st, "bench", "station-1", key, NULL, 0, &err) != 0) {
		die("verify", &err);
	}
	r->verify = rate((double)rep.leaves, t0, now_s());
	lsec_store_close(st);
	unlink(db);
	lsec_free(db);
}

/* One SHA-256 of a typical leaf and one Ed25519 verification, per second. */
static double raw_baseline(EVP_PKEY *key, uint64_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	json_t *evd = json_pack("{s:s}", "image_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {"operator-1", "station-1", "SN-000001", "sop-1-flash", 1,
			       "flash",	     "write-image", "pass",	     evd};
	char *leaf = NULL;
	uint8_t h[32];
	lsec_buf sig = LSEC_BUF_INIT(128);
	bool ok = false;
	if (lsec_audit_leaf_build(&leaf, &ev, 123456, NULL, &err) != 0 ||
	    lsec_audit_leaf_hash(h, (const uint8_t *)leaf, strlen(leaf), &err) != 0 ||
	    lsec_evp_sign(&sig, key, NULL, h, 32, "bench", &err) != 0) {
		die("baseline", &err);
	}
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		if (lsec_audit_leaf_hash(h, (const uint8_t *)leaf, strlen(leaf), &err) != 0 ||
		    lsec_evp_verify(&ok, key, NULL, h, 32, sig.data, sig.len, "bench", &err) != 0 ||
		    !ok) {
			die("baseline", &err);
		}
	}
	double r = rate((double)n, t0, now_s());
	lsec_buf_release(&sig);
	lsec_free(leaf);
	json_decref(evd);
	return r;
}

int main(int argc, char **argv)
{
	uint64_t sizes[SIZES_MAX] = {1000, 100000, 1000000};
	size_t n = 3;
	struct row rows[SIZES_MAX];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char dir[] = "/tmp/lsec-bench-gate-XXXXXX";
	if (argc > 1) {
		n = 0;
		for (int i = 1; i < argc && n < SIZES_MAX; i++) {
			sizes[n++] = strtoull(argv[i], NULL, 10);
		}
	}
	if (key == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: bench_gate [LEAVES...]\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		run_size(&rows[i], dir, sizes[i], key);
	}
	rmdir(dir);
	double base = raw_baseline(key, 20000);
	printf("ship gate log check per unit (%d leaves each, mean of %d units), SQLite\n\n",
	       UNIT_LEAVES, UNITS);
	printf("%10s | %10s | %13s | %12s | %7s | %12s | %7s | %12s | %8s\n", "leaves",
	       "prefill/s", "last cp (s)", "gate ms", "vs 1st", "gate ms (new)", "vs 1st",
	       "verify lv/s", "vs raw");
	printf("-----------+------------+---------------+--------------+---------+---------------+"
	       "---------+--------------+---------\n");
	for (size_t i = 0; i < n; i++) {
		printf("%10llu | %10.0f | %13.2f | %12.2f | %6.2fx | %13.2f | %6.2fx | %12.0f | "
		       "%7.3fx\n",
		       (unsigned long long)rows[i].leaves, rows[i].prefill, rows[i].first_cp,
		       rows[i].gate_mem_ms, rows[i].gate_mem_ms / rows[0].gate_mem_ms,
		       rows[i].gate_fresh_ms, rows[i].gate_fresh_ms / rows[0].gate_fresh_ms,
		       rows[i].verify, rows[i].verify / base);
	}
	printf("\nprocessor time of the same gates (not raised by other work on the machine):\n");
	printf("%10s | %12s | %7s | %13s | %7s\n", "leaves", "gate cpu ms", "vs 1st",
	       "cpu ms (new)", "vs 1st");
	for (size_t i = 0; i < n; i++) {
		printf("%10llu | %12.2f | %6.2fx | %13.2f | %6.2fx\n",
		       (unsigned long long)rows[i].leaves, rows[i].cpu_mem_ms,
		       rows[i].cpu_mem_ms / rows[0].cpu_mem_ms, rows[i].cpu_fresh_ms,
		       rows[i].cpu_fresh_ms / rows[0].cpu_fresh_ms);
	}
	printf("\ngate ms: the station that signed the previous checkpoint (range in memory); "
	       "(new): a fresh station process (range stored with the checkpoint).\n");
	printf("raw baseline: SHA-256 of a leaf + Ed25519 verify, %.0f leaves/s\n", base);
	EVP_PKEY_free(key);
	return 0;
}
