/*
 * bench_verify - what `audit verify` costs from scratch and from what it
 * verified last, printed as a table.
 *
 * For each log size n (default 10k and 100k leaves; other sizes as
 * arguments) a SQLite registry is prefilled with n signed step leaves
 * (lsec_audit_record, 5000 per transaction). Then, as `audit verify` does
 * (lsec_line_verify without the line folder): a full verification
 * (lsec_audit_verify_since from scratch, then lsec_audit_state_verify_from
 * leaf 0) in leaves/s; K (100) more leaves are appended; the incremental
 * one (the kept size and root, the kept replayed state) and a full one of
 * the same n + K leaves, each timed, the incremental reported as a ratio
 * of the full one measured in the same run.
 *
 * Nothing here is a test: numbers depend on the machine.
 */
#include "audit/audit_int.h"
#include "linesec/store.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PER_TX 5000
#define NEW_LEAVES 100
#define SIZES_MAX 8

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_verify: %s: %s\n", what, err->msg);
	exit(1);
}

static double now_s(void)
{
	return (double)lsec_time_mono_ms() / 1000.0;
}

static void append(lsec_store *st, uint64_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	char name[32];
	json_t *evd = json_pack("{s:s}", "image_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {"operator-1", "station-1", NULL,	  "sop-1-flash", 1,
			       "flash",	     "write-image", "pass", evd};
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int rc = 0;
	for (uint64_t done = 0; done < n && rc == 0;) {
		rc = lsec_store_tx_begin(&tx, st, &err);
		for (uint64_t k = 0; k < PER_TX && done < n && rc == 0; k++, done++) {
			snprintf(name, sizeof(name), "SN-%llu", (unsigned long long)(done / 10));
			ev.unit = name;
			rc = lsec_audit_record(NULL, st, &ev, &err);
		}
		rc = lsec_store_tx_end(&tx, rc, &err);
	}
	json_decref(evd);
	if (rc != 0) {
		die("append", &err);
	}
}

/*
 * One verification, from scratch (since NULL) or from since and state;
 * returns seconds. *root_out and *state_out (lsec_free) are what it kept.
 */
static double verify(lsec_store *st, EVP_PKEY *key, const lsec_audit_checkpoint *since,
		     const char *state, lsec_audit_checkpoint *kept, char **state_out)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_verify_report rep;
	lsec_audit_state_report srep;
	const EVP_PKEY *pubs[1] = {key};
	double t0 = now_s();
	if (lsec_audit_verify_since(&rep, st, "bench", (const struct evp_pkey_st *const *)pubs, 1,
				    since, NULL, 0, &err) != 0) {
		die("verify", &err);
	}
	if (lsec_audit_state_verify_from(&srep, state_out, st, since ? since->size : 0, state,
					 state ? strlen(state) : 0, &err) != 0) {
		die("state", &err);
	}
	double t = now_s() - t0;
	memset(kept, 0, sizeof(*kept));
	kept->size = rep.leaves;
	memcpy(kept->root, rep.root, 32);
	lsec_audit_state_report_release(&srep);
	return t;
}

struct row {
	uint64_t n;
	double full_s, incr_s, full2_s;
};

static void run_size(struct row *r, const char *dir, uint64_t n, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	lsec_audit_signer *s = NULL;
	lsec_audit_checkpoint kept, again;
	char *state = NULL, *state2 = NULL;
	char *db = lsec_asprintf("%s/registry-%llu.db", dir, (unsigned long long)n);
	if (db == NULL || lsec_store_create(&st, db, &err) != 0 ||
	    lsec_audit_signer_new(&s, "bench", "station-1", key, &err) != 0) {
		die("open", &err);
	}
	lsec_audit_signer_attach(st, s);
	append(st, n);
	r->n = n;
	r->full_s = verify(st, key, NULL, NULL, &kept, &state);
	append(st, NEW_LEAVES);
	r->incr_s = verify(st, key, &kept, state, &again, &state2);
	lsec_free(state2);
	state2 = NULL;
	r->full2_s = verify(st, key, NULL, NULL, &again, &state2);
	lsec_free(state);
	lsec_free(state2);
	lsec_store_close(st);
	unlink(db);
	lsec_free(db);
}

int main(int argc, char **argv)
{
	uint64_t sizes[SIZES_MAX] = {10000, 100000};
	size_t n = 2;
	struct row rows[SIZES_MAX];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char dir[] = "/tmp/lsec-bench-verify-XXXXXX";
	if (argc > 1) {
		n = 0;
		for (int i = 1; i < argc && n < SIZES_MAX; i++) {
			sizes[n++] = strtoull(argv[i], NULL, 10);
		}
	}
	if (key == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: bench_verify [LEAVES...]\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		run_size(&rows[i], dir, sizes[i], key);
	}
	rmdir(dir);
	printf("audit verify (tree and state), SQLite: from scratch, and after %d new leaves "
	       "from what it verified last\n\n",
	       NEW_LEAVES);
	printf("%10s | %14s | %12s | %16s | %14s | %9s\n", "leaves n", "full lv/s", "full ms",
	       "incr ms (n+100)", "full ms (n+100)", "incr/full");
	printf("-----------+----------------+--------------+------------------+----------------+"
	       "----------\n");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		printf("%10llu | %14.0f | %12.1f | %16.1f | %14.1f | %8.3fx\n",
		       (unsigned long long)r->n, (double)r->n / (r->full_s > 0 ? r->full_s : 1e-3),
		       1000 * r->full_s, 1000 * r->incr_s, 1000 * r->full2_s,
		       r->incr_s / (r->full2_s > 0 ? r->full2_s : 1e-3));
	}
	printf("\nincr: leaves before n hashed again against the kept root (no signatures, no "
	       "replay), the %d new ones checked and replayed onto the kept state.\n",
	       NEW_LEAVES);
	EVP_PKEY_free(key);
	return 0;
}
