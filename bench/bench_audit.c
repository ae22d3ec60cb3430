/*
 * bench_audit - audit log throughput, printed as a table.
 *
 *   durable appends per second: lsec_audit_record in committed transactions,
 *     one leaf per transaction and GROUP leaves per transaction, and WRITERS
 *     concurrent writers (a thread and a handle each, as the sockets of a
 *     gang) of one leaf per transaction, whose commits share their syncs
 *     (group commit)
 *   verification leaves per second: lsec_audit_verify over the stored log
 *     (hash check, seq check, tree), against a raw SHA-256 baseline over the
 *     same leaf bytes measured in the same run
 *   proof size at 1M leaves: inclusion path and whole proof file, and a
 *     consistency proof, from an in-memory tree of 1M leaves
 *
 * SQLite always (a file in a scratch folder: WAL, synchronous=FULL);
 * PostgreSQL when LSEC_TEST_PG_URL is set (a schema of its own, dropped
 * after). Usage: bench_audit [LEAVES] (default 100000 verified leaves).
 * Nothing here is a test: numbers depend on the machine.
 */
#include "audit/audit_int.h"
#include "benchutil.h"
#include "linesec/store.h"
#include "store/store_int.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GROUP 200
#define SINGLE 200
#define WRITERS 16
#define PER_WRITER 100

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_audit: %s: %s\n", what, err->msg);
	exit(1);
}

static double now_s(void)
{
	return (double)lsec_time_mono_ms() / 1000.0;
}

static int append(lsec_store *st, uint64_t n, uint64_t per_tx, lsec_err *err)
{
	int rc = 0;
	json_t *evd = json_pack("{s:s,s:s}", "image_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
				"readback_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {"operator-1", "station-1", "SN-000001", "sop-1-flash", 1,
			       "flash", "write-image", "pass", evd};
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	for (uint64_t done = 0; done < n;) {
		LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
		for (uint64_t k = 0; k < per_tx && done < n; k++, done++) {
			LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
		}
		LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(evd);
	return rc;
}

struct row {
	const char *backend;
	double single, group, concurrent, verify;
};

struct writer {
	const char *location;
	EVP_PKEY *key;
	int rc;
	lsec_err err;
};

/* One concurrent writer: its own handle and signer, PER_WRITER leaves, one per durable commit. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	lsec_store *st = NULL;
	lsec_audit_signer *signer = NULL;
	w->rc = lsec_store_open(&st, w->location, &w->err);
	if (w->rc == 0) {
		w->rc = lsec_audit_signer_new(&signer, "bench", "station-1", w->key, &w->err);
	}
	if (w->rc == 0) {
		lsec_audit_signer_attach(st, signer);
		w->rc = append(st, PER_WRITER, 1, &w->err);
	}
	lsec_store_close(st);
	return NULL;
}

/* WRITERS threads appending at once: durable leaves per second over all of them. */
static double concurrent(const char *location, EVP_PKEY *key)
{
	pthread_t t[WRITERS];
	struct writer w[WRITERS];
	double t0 = now_s();
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){location, key, 0, LSEC_ERR_INIT};
		if (pthread_create(&t[i], NULL, writer_main, &w[i]) != 0) {
			fprintf(stderr, "bench_audit: cannot start a writer\n");
			exit(1);
		}
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].rc != 0) {
			die("concurrent append", &w[i].err);
		}
	}
	double t1 = now_s();
	return (double)(WRITERS * PER_WRITER) / (t1 - t0 > 0 ? t1 - t0 : 1e-3);
}

static void run_backend(struct row *r, const char *location, uint64_t leaves, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	lsec_audit_signer *signer = NULL;
	if (lsec_store_create(&st, location, &err) != 0 ||
	    lsec_audit_signer_new(&signer, "bench", "station-1", key, &err) != 0) {
		die("open", &err);
	}
	lsec_audit_signer_attach(st, signer); /* every leaf is signed, as on a line */
	r->backend = lsec_store_backend(st);
	double t0 = now_s();
	if (append(st, SINGLE, 1, &err) != 0) {
		die("append", &err);
	}
	double t1 = now_s();
	r->single = SINGLE / (t1 - t0 > 0 ? t1 - t0 : 1e-3);
	uint64_t rest = leaves > SINGLE ? leaves - SINGLE : GROUP;
	t0 = now_s();
	if (append(st, rest, GROUP, &err) != 0) {
		die("append", &err);
	}
	t1 = now_s();
	r->group = (double)rest / (t1 - t0 > 0 ? t1 - t0 : 1e-3);
	r->concurrent = concurrent(location, key);
	if (lsec_audit_checkpoint_create(NULL, st, "bench", "station-1", key, "operator-1",
					 &err) != 0) {
		die("checkpoint", &err);
	}
	lsec_audit_verify_report rep;
	t0 = now_s();
	if (lsec_audit_verify(&rep, st, "bench", "station-1", key, NULL, 0, &err) != 0) {
		die("verify", &err);
	}
	t1 = now_s();
	r->verify = (double)rep.leaves / (t1 - t0 > 0 ? t1 - t0 : 1e-3);
	lsec_store_close(st);
}

/* Raw SHA-256 over the bytes of a typical leaf, the verification baseline. */
static double sha256_baseline(uint64_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	json_t *evd = json_pack("{s:s}", "image_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {"operator-1", "station-1", "SN-000001", "sop-1-flash", 1,
			       "flash", "write-image", "pass", evd};
	char *leaf = NULL;
	if (lsec_audit_leaf_build(&leaf, &ev, 123456, NULL, &err) != 0) {
		die("leaf", &err);
	}
	size_t len = strlen(leaf);
	uint8_t out[32];
	unsigned int olen;
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		leaf[0] = (char)('{' ^ (i & 0)); /* keep the loop from being folded */
		EVP_Digest(leaf, len, out, &olen, md, NULL);
	}
	double t1 = now_s();
	EVP_MD_free(md);
	lsec_free(leaf);
	json_decref(evd);
	return (double)n / (t1 - t0 > 0 ? t1 - t0 : 1e-3);
}

static void proof_sizes(EVP_PKEY *key)
{
	const uint64_t n = 1000000;
	lsec_err err = LSEC_ERR_INIT;
	uint8_t *h = lsec_malloc(32 * n);
	if (h == NULL) {
		exit(1);
	}
	double t0 = now_s();
	lsec_audit_tree t;
	lsec_audit_tree_init(&t);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t leaf[8];
		lsec_put_u32le(leaf, (uint32_t)i);
		lsec_put_u32le(leaf + 4, 0x5a5a5a5a);
		if (lsec_audit_leaf_hash(h + 32 * i, leaf, sizeof(leaf), &err) != 0 ||
		    lsec_audit_tree_append(&t, h + 32 * i, &err) != 0) {
			die("tree", &err);
		}
	}
	double t1 = now_s();
	lsec_audit_hashes src = {h, n};
	lsec_audit_checkpoint cp = {.origin = "linesec/bench", .size = n};
	lsec_buf path = LSEC_BUF_INIT(64 * 32), cons = LSEC_BUF_INIT(130 * 32);
	char *note = NULL, *text = NULL;
	lsec_audit_proof *p = NULL;
	const char leaf[] = "{\"action\":\"write-image\",\"evidence\":{\"image_sha256\":\"5dc9da79a70659a9"
			    "ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\"},\"outcome\":\"pass\","
			    "\"person\":\"operator-1\",\"seq\":777777,\"sop\":\"sop-1-flash\","
			    "\"sop_version\":1,\"station\":\"station-1\",\"step\":\"flash\",\"time\":"
			    "\"2026-11-25T04:05:38Z\",\"unit\":\"SN-000001\",\"v\":1}";
	if (lsec_audit_tree_root(cp.root, &t, &err) != 0 ||
	    lsec_audit_inclusion_prove(&path, 777777, n, lsec_audit_hashes_source, &src, &err) != 0 ||
	    lsec_audit_consistency_prove(&cons, 999983, n, lsec_audit_hashes_source, &src, &err) != 0 ||
	    lsec_audit_checkpoint_sign(&note, &cp, "station-1", key, &err) != 0 ||
	    lsec_audit_proof_new(&p, note, &err) != 0 ||
	    lsec_audit_proof_add(p, 777777, (const uint8_t *)leaf, strlen(leaf), path.data,
				 path.len, &err) != 0 ||
	    lsec_audit_proof_write(&text, p, &err) != 0) {
		die("proof", &err);
	}
	printf("\nin-memory tree of %llu leaves: %.0f leaves/s (leaf hash + compact range)\n",
	       (unsigned long long)n, (double)n / (t1 - t0 > 0 ? t1 - t0 : 1e-3));
	printf("proof size at 1M leaves: inclusion path %zu hashes (%zu bytes), proof file with one "
	       "leaf and the checkpoint %zu bytes, checkpoint note %zu bytes, consistency proof "
	       "999983 -> 1000000 %zu hashes (%zu bytes)\n",
	       path.len / 32, path.len, strlen(text), strlen(note), cons.len / 32, cons.len);
	lsec_audit_proof_free(p);
	lsec_free(text);
	lsec_free(note);
	lsec_buf_release(&path);
	lsec_buf_release(&cons);
	lsec_free(h);
}

int main(int argc, char **argv)
{
	uint64_t leaves = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	struct row rows[2];
	size_t nrows = 0;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char dir[] = "/tmp/lsec-bench-audit-XXXXXX";
	if (key == NULL || mkdtemp(dir) == NULL || leaves < 1000) {
		fprintf(stderr, "usage: bench_audit [LEAVES >= 1000]\n");
		return 2;
	}
	char *db = lsec_asprintf("%s/registry.db", dir);
	run_backend(&rows[nrows++], db, leaves, key);
	char *cmd = lsec_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_audit: cannot remove %s\n", dir);
	}
	lsec_free(cmd);
	lsec_free(db);
	const char *pg = getenv("LSEC_TEST_PG_URL");
	if (pg != NULL && pg[0] != 0) {
		char *schema = lsec_asprintf("bench_audit_%ld", (long)getpid());
		char *create = lsec_asprintf("CREATE SCHEMA %s", schema);
		char *drop = lsec_asprintf("DROP SCHEMA %s CASCADE", schema);
		char *loc = lsec_asprintf("%s%coptions=-csearch_path%%3D%s", pg,
					  strchr(pg, '?') ? '&' : '?', schema);
		bench_pg_exec(pg, create);
		run_backend(&rows[nrows++], loc, leaves, key);
		bench_pg_exec(pg, drop);
		lsec_free(schema);
		lsec_free(create);
		lsec_free(drop);
		lsec_free(loc);
	}
	double base = sha256_baseline(1000000);
	printf("audit log, %llu leaves per backend (PostgreSQL %s)\n\n", (unsigned long long)leaves,
	       nrows > 1 ? "from LSEC_TEST_PG_URL" : "skipped: LSEC_TEST_PG_URL not set");
	printf("%-9s | %18s | %20s | %8s | %22s | %16s | %12s\n", "backend", "appends/s (1/tx)",
	       "appends/s (200/tx)", "group x", "appends/s (16 writers)", "verify leaves/s",
	       "vs SHA-256");
	printf("----------+--------------------+----------------------+----------+------------------"
	       "------+------------------+-------------\n");
	for (size_t i = 0; i < nrows; i++) {
		printf("%-9s | %18.0f | %20.0f | %7.1fx | %22.0f | %16.0f | %11.3fx\n",
		       rows[i].backend, rows[i].single, rows[i].group, rows[i].group / rows[i].single,
		       rows[i].concurrent, rows[i].verify, rows[i].verify / base);
	}
	printf("\nraw SHA-256 baseline over the same leaf bytes: %.0f hashes/s\n", base);
	if (nrows > 1) {
		printf("PostgreSQL appends are as durable as the server's fsync setting makes them "
		       "(scripts/with-postgres starts it with fsync=off).\n");
	}
	proof_sizes(key);
	EVP_PKEY_free(key);
	return 0;
}
