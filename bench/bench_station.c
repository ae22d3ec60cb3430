/*
 * bench_station.c - the station's throughput.
 *
 *  1. Units per second through the whole build (flash, provision,
 *     secure-boot, debug-lock, ship gate) on zero-latency simulated units,
 *     1 and 2 sockets, SQLite registry, beside the crypto floor: the
 *     cryptography one unit needs (crypto_floor lists it), each item
 *     measured alone. Rounds interleave floor and builds; each round's
 *     build/floor ratio uses its own floor; medians are printed, with the
 *     share of each SOP step in the build time.
 *  2. Gang scaling with realistic device latency: 6 s of flashing and 2 s of
 *     fuse work per unit on a real line, scaled down 100 times here (60 ms and
 *     20 ms) so the benchmark finishes in a few minutes; 1, 8, 32 and 64
 *     sockets against the ideal, sockets / device time.
 *  3. (bench_station gang-real [SOCKETS [LEAVES]]) the gang at real device
 *     latency, 6 s of flash writes and 2 s of other device operations per
 *     unit, not scaled: SOCKETS (default 64) sockets, three units each, on a
 *     fresh log and on a log prefilled to LEAVES (default 1,000,000) leaves,
 *     against the ideal, sockets / device time per unit. Scaled latency hides
 *     lock waits; this does not (it takes minutes).
 *
 * Usage: bench_station [UNITS [ROUNDS [floor]]]   (part 1: UNITS per build,
 * default 20, ROUNDS default 3; "floor" skips part 2)
 *        bench_station gang-real [SOCKETS [LEAVES]]
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"
#include "linesec/audit.h"
#include "linesec/image.h"
#include "linesec/line.h"
#include "linesec/pki.h"
#include "linesec/sop.h"
#include "linesec/station.h"
#include "linesec/store.h"
#include "linesec/device.h"
#include "store/store_int.h"

#include <sys/wait.h>

#define HASH "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
#define IMAGE_KIB 64u

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_station: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

#define OK(call, what)                                                                             \
	do {                                                                                       \
		if ((call) < 0) {                                                                  \
			die(what, &err);                                                           \
		}                                                                                  \
	} while (0)

/*
 * The witness's signature: a person typing a password is not station work,
 * so it is granted here as in the unit tests (its check is lsec_line_sign's).
 */
/* The operator confirms each identity label is on its unit. */
static int label_on_unit(void *ctx, const char *person, const char *role, const char *text,
			 bool *ok, lsec_err *err)
{
	(void)ctx;
	(void)person;
	(void)role;
	(void)text;
	(void)err;
	*ok = true;
	return 0;
}

static int witness_signs(void *ctx, const char *witness, const char *role, const char *what,
			 bool probe, lsec_err *err)
{
	(void)ctx, (void)witness, (void)role, (void)what, (void)probe, (void)err;
	return 0;
}

typedef struct bench_line {
	char dir[256];
	char registry[300], ca[300], fw_pub[300], fw_priv[300], skey[300];
	lsec_secret *pass;
	lsec_station_product product;
	lsec_station_config cfg;
	/* The label printer: takes every identity label from <dir>/labels as it appears. */
	pthread_t printer;
	atomic_bool printer_stop;
} bench_line;

static void *printer_main(void *arg)
{
	bench_line *b = arg;
	char spool[300];
	snprintf(spool, sizeof(spool), "%s/labels", b->dir);
	while (!atomic_load(&b->printer_stop)) {
		DIR *d = opendir(spool);
		struct dirent *de;
		while (d != NULL && (de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);
			if (n > 6 && de->d_name[0] != '.' && strcmp(de->d_name + n - 6, ".label") == 0) {
				char path[600];
				snprintf(path, sizeof(path), "%s/%s", spool, de->d_name);
				(void)unlink(path);
			}
		}
		if (d != NULL) {
			closedir(d);
		}
		usleep(500);
	}
	return NULL;
}

/* A line in a scratch folder: people, CA, keys, approved SOPs and release. */
static void line_new_at(bench_line *b, const char *tag, const char *registry)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	lsec_key *k = NULL;
	lsec_buf pem = LSEC_BUF_INIT(4096), img = LSEC_BUF_INIT(1 << 20);
	snprintf(b->dir, sizeof(b->dir), "%s/bench-station-%s-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", tag);
	if (mkdtemp(b->dir) == NULL) {
		die("mkdtemp", NULL);
	}
	if (registry != NULL) {
		snprintf(b->registry, sizeof(b->registry), "%s", registry);
	} else {
		snprintf(b->registry, sizeof(b->registry), "%s/registry.db", b->dir);
	}
	snprintf(b->ca, sizeof(b->ca), "%s/ca", b->dir);
	snprintf(b->fw_pub, sizeof(b->fw_pub), "%s/fw.pub.pem", b->dir);
	snprintf(b->fw_priv, sizeof(b->fw_priv), "%s/fw.pem", b->dir);
	snprintf(b->skey, sizeof(b->skey), "%s/station.key", b->dir);
	OK(lsec_store_create(&st, b->registry, &err), "registry");
	/* The station key signs every leaf, the SOP approvals below included. */
	lsec_audit_signer *signer = NULL;
	OK(lsec_key_generate(&k, LSEC_KEY_ED25519, &err), "station key");
	OK(lsec_key_write_private(k, b->skey, NULL, &err), "station key write");
	OK(lsec_line_signer_new(&signer, b->dir, "line1", "st1", lsec_key_evp(k), &err), "signer");
	lsec_audit_signer_attach(st, signer);
	lsec_key_free(k);
	k = NULL;
	OK(lsec_store_person_add(st, "sec1", LSEC_ROLE_SECURITY_OFFICER, HASH, &err), "person");
	OK(lsec_store_person_add(st, "sec2", LSEC_ROLE_SECURITY_OFFICER, HASH, &err), "person");
	OK(lsec_store_person_add(st, "op", LSEC_ROLE_OPERATOR, HASH, &err), "person");
	OK(lsec_store_person_add(st, "sup", LSEC_ROLE_SUPERVISOR, HASH, &err), "person");
	{
		/* Their person-add leaves, as `linesec person add` records them: role checks read them. */
		static const char *const names[] = {"sec1", "sec2", "op", "sup"};
		static const lsec_role roles[] = {LSEC_ROLE_SECURITY_OFFICER,
						  LSEC_ROLE_SECURITY_OFFICER, LSEC_ROLE_OPERATOR,
						  LSEC_ROLE_SUPERVISOR};
		uint8_t h[32];
		char pw[65];
		OK(lsec_sha256(h, (const uint8_t *)HASH, strlen(HASH), &err), "hash");
		lsec_hex_encode(pw, h, sizeof(h));
		for (size_t i = 0; i < 4; i++) {
			json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_NAME, names[i],
					       LSEC_EV_ROLE, lsec_role_name(roles[i]),
					       LSEC_EV_DISABLED, "no", LSEC_EV_PW_HASH_SHA256, pw);
			lsec_audit_event e = {"sec1", "st1", NULL, NULL, 0,
					      NULL, "person-add", "ok", ev};
			OK(lsec_audit_append(NULL, st, &e, &err), "person leaf");
			json_decref(ev);
		}
	}
	OK(lsec_line_anchor_create(b->dir, st, &err), "anchor");
	lsec_actor sup = {"sup", "st1"}, s1 = {"sec1", "st1"}, s2 = {"sec2", "st1"};
	lsec_actor op = {"op", "st1"};
	for (size_t i = 0; i < lsec_station_default_sop_count(); i++) {
		const char *name = NULL;
		const uint8_t *data = NULL;
		size_t len = 0;
		lsec_sop *sop = NULL;
		(void)lsec_station_default_sop(i, &name, &data, &len);
		OK(lsec_sop_submit(&sop, st, &sup, LSEC_ROLE_SUPERVISOR, data, len, name, &err), "sop submit");
		OK(lsec_sop_approve(st, &s1, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), 1, &err), "sop approve");
		OK(lsec_sop_approve(st, &s2, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), 1, &err), "sop approve");
		/* The operator has read each approved version, as a station requires. */
		OK(lsec_sop_acknowledge(NULL, st, &op, lsec_sop_name(sop), 1, NULL, &err), "sop ack");
		lsec_sop_free(sop);
	}
	lsec_store_close(st);
	OK(lsec_secret_from(&b->pass, "bench-ca-passphrase", 19, &err), "secret");
	lsec_ca_options co = LSEC_CA_OPTIONS_INIT;
	co.common_name = "Bench CA";
	co.passphrase = b->pass;
	co.validity_days = 10950;
	OK(lsec_ca_init(b->ca, &co, &err), "ca init");
	OK(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, &err), "keygen");
	OK(lsec_key_write_private(k, b->fw_priv, NULL, &err), "key write");
	OK(lsec_key_public_pem(&pem, k, &err), "pem");
	OK(lsec_file_write_new(b->fw_pub, pem.data, pem.len, 0644, &err), "pem write");
	uint8_t *payload = calloc(IMAGE_KIB, 1024);
	lsec_image_sign_options so = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	so.key = k;
	so.product = "sensor";
	so.has_security_counter = true;
	so.security_counter = 1;
	so.embed_pubkey = true;
	so.image_version.major = 1;
	OK(lsec_image_sign(&img, payload, IMAGE_KIB * 1024u, &so, &err), "image sign");
	free(payload);
	char imgpath[320];
	snprintf(imgpath, sizeof(imgpath), "%s/fw.img", b->dir);
	OK(lsec_file_write_new(imgpath, img.data, img.len, 0644, &err), "image write");
	lsec_key_free(k);
	k = NULL;
	b->product.id = "sensor";
	lsec_station_config c = LSEC_STATION_CONFIG_INIT;
	c.registry = b->registry;
	c.line_id = "line1";
	c.station_id = "st1";
	c.line_dir = b->dir;
	c.ca_dir = b->ca;
	c.ca_unlock = b->pass;
	c.station_key = b->skey;
	c.products = &b->product;
	c.nproducts = 1;
	c.operator_name = "op";
	c.witness_name = "sup";
	c.witness_sign = witness_signs;
	c.batch = true;
	c.confirm = label_on_unit;
	b->cfg = c;
	lsec_station *st2 = NULL;
	OK(lsec_station_open(&st2, &b->cfg, &err), "station");
	OK(lsec_station_product_key_submit(NULL, st2, "sensor", b->fw_pub, "sec1", &err),
	   "product key submit");
	OK(lsec_station_product_key_approve(st2, "sensor@1", "sec2", &err), "product key approve");
	OK(lsec_station_release_submit(NULL, st2, imgpath, "sensor", 0, "sec1", &err), "submit");
	OK(lsec_station_release_approve(st2, "sensor@1.0.0", "sec2", &err), "approve");
	lsec_station_close(st2);
	lsec_buf_release(&pem);
	lsec_buf_release(&img);
	atomic_init(&b->printer_stop, false);
	if (pthread_create(&b->printer, NULL, printer_main, b) != 0) {
		die("printer thread", NULL);
	}
}

/* A line on a SQLite registry in its folder. */
static void line_new(bench_line *b, const char *tag)
{
	line_new_at(b, tag, NULL);
}

static void line_free(bench_line *b)
{
	char cmd[400];
	atomic_store(&b->printer_stop, true);
	pthread_join(b->printer, NULL);
	lsec_secret_free(b->pass);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_station: could not remove %s\n", b->dir);
	}
}

static char **fleet_seeded(bench_line *b, const char *name, unsigned n, const char *faults,
			   uint64_t seed, const char *prefix)
{
	lsec_err err = LSEC_ERR_INIT;
	char dir[320], pat[340];
	char **uris = NULL;
	size_t got = 0;
	snprintf(dir, sizeof(dir), "%s/%s", b->dir, name);
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = n;
	o.faults = faults;
	o.has_seed = true;
	o.seed = seed;
	o.prefix = prefix;
	OK(lsec_device_sim_fleet_new(NULL, dir, &o, &err), "fleet");
	snprintf(pat, sizeof(pat), "sim:%s/*", dir);
	OK(lsec_station_uris_expand(&uris, &got, pat, &err), "expand");
	return uris;
}

/* A fleet of UIDs derived from one seed, the same in every run (one fleet per line). */
static char **fleet(bench_line *b, const char *name, unsigned n, const char *faults)
{
	return fleet_seeded(b, name, n, faults, 99, NULL);
}

/* ---- share of each step ------------------------------------------------------ */

#define MAX_STEPS 64
static struct {
	char name[96];
	uint64_t ms_total;
	uint64_t count;
} steps[MAX_STEPS];
static size_t nsteps;
static uint64_t step_t0;
static pthread_mutex_t steps_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_step(void *ctx, unsigned socket, const char *serial, const char *sop,
		    const char *step, const char *outcome)
{
	(void)ctx;
	(void)serial;
	if (socket != 1) {
		return;
	}
	pthread_mutex_lock(&steps_mu);
	if (outcome == NULL) {
		step_t0 = now_us();
	} else {
		char name[96];
		snprintf(name, sizeof(name), "%s/%s", sop, step);
		size_t i = 0;
		while (i < nsteps && strcmp(steps[i].name, name) != 0) {
			i++;
		}
		if (i == nsteps && nsteps < MAX_STEPS) {
			snprintf(steps[nsteps++].name, sizeof(steps[0].name), "%s", name);
		}
		if (i < MAX_STEPS) {
			steps[i].ms_total += now_us() - step_t0;
			steps[i].count++;
		}
	}
	pthread_mutex_unlock(&steps_mu);
}

/* ---- the crypto floor ------------------------------------------------------------ */

/*
 * The floor: the cryptography one unit needs, each item timed alone. The
 * station's: CSR verification, certificate signature, proof-of-possession
 * verification, the credential's keyed fingerprint, its leaf hashes (two per
 * step), a share of one checkpoint signature (counted whole: one per unit).
 * The device's, done by the simulated unit on its behalf: key generation, CSR
 * and challenge signatures, its boot ROM's image check (one boot with secure
 * boot on: signature and hash of the image).
 */
enum {
	F_CSR_VERIFY,
	F_CERT_SIGN,
	F_POP_VERIFY,
	F_CRED_FP,
	F_LEAF_HASHES,
	F_CHECKPOINT,
	F_KEYGEN,
	F_CSR_SIGN,
	F_POP_SIGN,
	F_BOOT_CHECK,
	F_COUNT
};
static const char *const floor_names[F_COUNT] = {
	"station: CSR verification",
	"station: certificate signature",
	"station: proof-of-possession verification",
	"station: credential keyed fingerprint",
	"station: leaf hashes (2 per step)",
	"station: checkpoint signature (1 per unit)",
	"device: key generation (P-256)",
	"device: CSR signature",
	"device: challenge signature",
	"device: boot ROM image check",
};

static int sign_with(void *ctx, const uint8_t *msg, size_t len, lsec_buf *sig, lsec_err *err)
{
	return lsec_key_sign(sig, ctx, msg, len, err);
}

/* Times each floor item over n repetitions; us[i] = microseconds per unit. */
static void crypto_floor(double us[F_COUNT], bench_line *b, unsigned n, unsigned leaves)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_ca *ca = NULL;
	lsec_key *fw = NULL, *sk = NULL, *dev = NULL;
	lsec_buf img = LSEC_BUF_INIT(1 << 20), spki = LSEC_BUF_INIT(4096);
	lsec_buf dspki = LSEC_BUF_INIT(4096), csr = LSEC_BUF_INIT(4096);
	lsec_buf sig = LSEC_BUF_INIT(256), popsig = LSEC_BUF_INIT(256);
	lsec_image *im = NULL;
	lsec_cert *cert = NULL;
	uint8_t ch[32], h[32], fp[32], leaf[600], kh[32];
	char path[320];
	lsec_cert_request req = LSEC_CERT_REQUEST_INIT;
	OK(lsec_ca_open(&ca, b->ca, b->pass, &err), "ca open");
	OK(lsec_key_load_public(&fw, b->fw_pub, &err), "fw key");
	OK(lsec_key_load_private(&sk, b->skey, NULL, &err), "station key");
	snprintf(path, sizeof(path), "%s/fw.img", b->dir);
	OK(lsec_file_read(&img, path, &err), "image");
	OK(lsec_image_parse(&im, img.data, img.len, "fw.img", &err), "parse");
	OK(lsec_key_spki_der(&spki, fw, &err), "spki");
	OK(lsec_sha256(kh, spki.data, spki.len, &err), "key hash");
	OK(lsec_key_generate(&dev, LSEC_KEY_ECDSA_P256, &err), "keygen");
	OK(lsec_key_spki_der(&dspki, dev, &err), "spki");
	OK(lsec_csr_build(&csr, dspki.data, dspki.len, "unit-000", sign_with, dev, &err), "csr");
	OK(lsec_pop_challenge(ch, &err), "challenge");
	OK(lsec_key_sign(&popsig, dev, ch, 32, &err), "pop sign");
	memset(leaf, 'x', sizeof(leaf));
	req.serial = "unit-000";
	req.product = "sensor";
	req.uid = ch;
	req.uid_len = 16;
	req.validity_days = 7300;
	OK(lsec_ca_issue(&cert, ca, lsec_key_evp(dev), &req, &err), "issue");
	for (int item = 0; item < F_COUNT; item++) {
		uint64_t t0 = now_us();
		for (unsigned i = 0; i < n; i++) {
			lsec_csr *c = NULL;
			lsec_cert *cc = NULL;
			lsec_key *k = NULL;
			lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
			lsec_buf_reset(&sig);
			switch (item) {
			case F_CSR_VERIFY:
				OK(lsec_csr_parse(&c, csr.data, csr.len, &err), "csr verify");
				lsec_csr_free(c);
				break;
			case F_CERT_SIGN:
				OK(lsec_ca_issue(&cc, ca, lsec_key_evp(dev), &req, &err), "issue");
				lsec_cert_free(cc);
				break;
			case F_POP_VERIFY:
				OK(lsec_pop_verify(cert, ch, 32, popsig.data, popsig.len, &err), "pop");
				break;
			case F_CRED_FP:
				OK(lsec_cred_fingerprint(fp, ca, ch, 16, &err), "cred");
				break;
			case F_LEAF_HASHES:
				for (unsigned l = 0; l < leaves; l++) {
					OK(lsec_audit_leaf_hash(h, leaf, sizeof(leaf), &err), "leaf");
				}
				break;
			case F_CHECKPOINT:
				OK(lsec_key_sign(&sig, sk, h, 32, &err), "checkpoint sign");
				break;
			case F_KEYGEN:
				OK(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, &err), "keygen");
				lsec_key_free(k);
				break;
			case F_CSR_SIGN:
				OK(lsec_key_sign(&sig, dev, csr.data, csr.len / 2, &err), "csr sign");
				break;
			case F_POP_SIGN:
				OK(lsec_key_sign(&sig, dev, ch, 32, &err), "pop sign");
				break;
			case F_BOOT_CHECK:
				vo.key_hash = kh;
				vo.check_min_counter = true;
				vo.min_counter = 1;
				OK(lsec_image_verify(im, &vo, &err), "boot check");
				break;
			}
		}
		us[item] = (double)(now_us() - t0) / n;
	}
	lsec_cert_free(cert);
	lsec_image_free(im);
	lsec_buf_release(&img);
	lsec_buf_release(&spki);
	lsec_buf_release(&dspki);
	lsec_buf_release(&csr);
	lsec_buf_release(&sig);
	lsec_buf_release(&popsig);
	lsec_key_free(fw);
	lsec_key_free(sk);
	lsec_key_free(dev);
	lsec_ca_free(ca);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Builds n units on `sockets`; returns units per second and sets shipped. */
static double gang(bench_line *b, char **uris, unsigned n, unsigned sockets, long *shipped)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_gang_summary *sum = NULL;
	uint64_t t0 = now_us();
	OK(lsec_station_gang(&sum, &b->cfg, (const char *const *)uris, n, sockets, &err), "gang");
	double secs = (double)(now_us() - t0) / 1e6;
	*shipped = (long)sum->shipped;
	for (size_t i = 0; i < sum->attempted; i++) {
		if (!sum->results[i].res.shipped) {
			fprintf(stderr, "  not shipped: %s\n", sum->results[i].error);
			break;
		}
	}
	lsec_station_gang_summary_free(sum);
	return (double)n / secs;
}

/* What the registry holds: its files' size (database and write-ahead log) and its leaves. */
typedef struct footprint {
	double file_bytes;
	uint64_t leaves;
	double leaf_bytes; /* leaf text, hash and signature of the leaves from `from` on */
} footprint;

static double file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (double)sb.st_size : 0;
}

static int add_leaf(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		    const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	(void)seq, (void)unit, (void)leaf, (void)leaf_hash, (void)sig, (void)err;
	*(double *)ctx += (double)(len + 32 + sig_len);
	return 0;
}

static footprint measure(bench_line *b, uint64_t from)
{
	lsec_err err = LSEC_ERR_INIT;
	footprint f = {0, 0, 0};
	char wal[320];
	lsec_store *st = NULL;
	OK(lsec_store_open(&st, b->registry, &err), "open registry");
	OK(lsec_store_leaf_count(&f.leaves, st, &err), "count leaves");
	if (from > 0) {
		OK(lsec_store_leaf_foreach(st, from, f.leaves, add_leaf, &f.leaf_bytes, &err),
		   "read leaves");
	}
	lsec_store_close(st); /* the last handle: SQLite checkpoints the log into the file */
	snprintf(wal, sizeof(wal), "%s-wal", b->registry);
	f.file_bytes = file_size(b->registry) + file_size(wal);
	return f;
}

#define ROUNDS_MAX 9

/* ---- PostgreSQL: station processes on one server ------------------------------ */

#define PG_PROCS_MAX 4

static int row_setting(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	if (ncols > 0) {
		lsec_store__copy(ctx, 32, &cols[0]);
	}
	return 0;
}

/* A server setting, for the header: a benchmark of commits needs fsync on. */
static void pg_setting(char out[32], const char *url, const char *sql_text)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	OK(lsec_store_open(&st, url, &err), "open");
	OK(lsec_store__query(st, sql_text, NULL, 0, row_setting, out, &err), sql_text);
	lsec_store_close(st);
}

/*
 * procs station processes (fork), one socket each, each building n units of
 * its own fleet on one line whose registry is a fresh schema; returns units
 * per second over all of them, from the forks to the last exit (each process
 * opens its station and unlocks the CA inside that time, as a real one does).
 */
static double pg_build(const char *url, unsigned procs, unsigned n, double *refusals_s)
{
	lsec_err err = LSEC_ERR_INIT;
	bench_line b;
	char schema[64], loc[300];
	snprintf(schema, sizeof(schema), "bench_station_%ld_%u", (long)getpid(), procs);
	snprintf(loc, sizeof(loc), "%s%coptions=-csearch_path%%3D%s", url,
		 strchr(url, '?') ? '&' : '?', schema);
	char create[96], drop[96];
	snprintf(create, sizeof(create), "CREATE SCHEMA %s", schema);
	snprintf(drop, sizeof(drop), "DROP SCHEMA %s CASCADE", schema);
	bench_pg_exec(url, create);
	memset(&b, 0, sizeof(b));
	line_new_at(&b, "pg", loc);
	/* One fleet, n units (serials of their own) per process. */
	char **uris = fleet(&b, "fleet", procs * n, NULL);
	fflush(NULL);
	uint64_t t0 = now_us();
	pid_t pids[PG_PROCS_MAX];
	for (unsigned p = 0; p < procs; p++) {
		pids[p] = fork();
		if (pids[p] < 0) {
			die("fork", NULL);
		}
		if (pids[p] == 0) {
			lsec_station_gang_summary *sum = NULL;
			OK(lsec_station_gang(&sum, &b.cfg, (const char *const *)uris + p * n, n, 1,
						     &err),
			   "gang");
			int code = sum->shipped == n ? 0 : 1;
			for (size_t i = 0; i < sum->attempted && code; i++) {
				if (!sum->results[i].res.shipped) {
					fprintf(stderr, "  not shipped: %s\n", sum->results[i].error);
					break;
				}
			}
			_exit(code);
		}
	}
	bool all = true;
	for (unsigned p = 0; p < procs; p++) {
		int status = 0;
		all = waitpid(pids[p], &status, 0) == pids[p] && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0 && all;
	}
	double ups = (double)(procs * n) / ((double)(now_us() - t0) / 1e6);
	if (!all) {
		fprintf(stderr, "bench_station: not every unit shipped with %u processes\n", procs);
	}
	if (refusals_s != NULL) {
		/* A registration of a serial already registered: refused, holder named. */
		lsec_store *st = NULL;
		OK(lsec_store_open(&st, loc, &err), "open");
		OK(lsec_store_unit_create(st, "DUP-1", "DUP-UID-1", "sensor", "st1", &err), "unit");
		unsigned ops = 2000;
		uint64_t r0 = now_us();
		for (unsigned i = 0; i < ops; i++) {
			if (lsec_store_unit_create(st, "DUP-1", "DUP-UID-2", "sensor", "st1", &err) !=
			    LSEC_E_EXISTS) {
				die("duplicate not refused", &err);
			}
		}
		*refusals_s = (double)ops / ((double)(now_us() - r0) / 1e6);
		lsec_store_close(st);
	}
	lsec_station_uris_free(uris, procs * n);
	line_free(&b);
	bench_pg_exec(url, drop);
	return ups;
}

/* bench_station pg [UNITS [ROUNDS]]: 1, 2 and 4 station processes on one server. */
static int pg_main(int argc, char **argv)
{
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20;
	unsigned rounds = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 3;
	const char *url = getenv("LSEC_BENCH_PG_URL");
	if (url == NULL || url[0] == '\0') {
		url = getenv("LSEC_TEST_PG_URL");
	}
	if (n < 4 || n > 500 || rounds < 1 || rounds > ROUNDS_MAX || url == NULL || url[0] == '\0') {
		fprintf(stderr, "usage: LSEC_BENCH_PG_URL=URL bench_station pg [UNITS 4..500 "
				"[ROUNDS 1..9]]\n");
		return 2;
	}
	char fsync_on[32] = "", sync_commit[32] = "";
	{
		lsec_err err = LSEC_ERR_INIT;
		lsec_store *st = NULL;
		/* The base database holds no registry: made on first use, as bench_store does. */
		if (lsec_store_open(&st, url, &err) != 0) {
			OK(lsec_store_create(&st, url, &err), "registry");
		}
		lsec_store_close(st);
	}
	pg_setting(fsync_on, url, "SELECT current_setting('fsync')");
	pg_setting(sync_commit, url, "SELECT current_setting('synchronous_commit')");
	printf("bench_station pg: whole builds on zero-latency simulated units, PostgreSQL "
	       "registry\n(server: fsync=%s, synchronous_commit=%s), %u units per process, "
	       "medians of %u interleaved rounds\n",
	       fsync_on, sync_commit, n, rounds);
	if (strcmp(fsync_on, "on") != 0) {
		printf("WARNING: fsync is off: commits are not durable and the figures are not a "
		       "real server's\n");
	}
	static const unsigned levels[] = {1, 2, 4};
	double ups[3][ROUNDS_MAX], scale[3][ROUNDS_MAX], refusals[ROUNDS_MAX];
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned l = 0; l < 3; l++) {
			ups[l][r] = pg_build(url, levels[l], n, l == 0 ? &refusals[r] : NULL);
		}
		for (unsigned l = 0; l < 3; l++) {
			scale[l][r] = ups[l][r] / ups[0][r]; /* against 1 process, same round */
		}
	}
	printf("%10s %12s %22s\n", "processes", "units/s", "scaling (vs 1 process)");
	for (unsigned l = 0; l < 3; l++) {
		printf("%10u %12.2f %21.2fx\n", levels[l], median(ups[l], rounds),
		       median(scale[l], rounds));
	}
	printf("duplicate refusal (registering a registered serial, refused with its holder "
	       "named):\n  %.0f/s, one statement per refusal\n",
	       median(refusals, rounds));
	printf("(this machine has %ld cores; the server, the stations and the simulated units "
	       "share them)\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

/* ---- the gang at real device latency ----------------------------------------------- */

#define PREFILL_TX 20000

/*
 * Fills the line's log to `leaves` leaves with step leaves of units of their
 * own (ten per unit, as a flash run writes them), signed by the station key,
 * in large transactions with a checkpoint after each; then signs and exports
 * a checkpoint, as a line that has run for a while has one: the station
 * starts from it, not from the first leaf.
 */
static void prefill(bench_line *b, uint64_t leaves)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	lsec_key *k = NULL;
	lsec_audit_signer *signer = NULL;
	uint64_t have = 0;
	char unit[32];
	OK(lsec_store_open(&st, b->registry, &err), "open registry");
	OK(lsec_key_load_private(&k, b->skey, NULL, &err), "station key");
	OK(lsec_line_signer_new(&signer, b->dir, "line1", "st1", lsec_key_evp(k), &err), "signer");
	lsec_audit_signer_attach(st, signer);
	OK(lsec_store_leaf_count(&have, st, &err), "count leaves");
	json_t *evd = json_pack("{s:s}", "image_sha256",
				"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
	lsec_audit_event ev = {"op",	"st1",		 NULL,	 "flash", 1,
			       "flash", "write-image", "pass", evd};
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	for (uint64_t done = have; done < leaves;) {
		OK(lsec_store_tx_begin(&tx, st, &err), "begin");
		for (uint64_t i = 0; i < PREFILL_TX && done < leaves; i++, done++) {
			snprintf(unit, sizeof(unit), "PRE-%llu", (unsigned long long)(done / 10));
			ev.unit = unit;
			OK(lsec_audit_record(NULL, st, &ev, &err), "prefill leaf");
		}
		OK(lsec_store_tx_end(&tx, 0, &err), "commit");
		/* One per transaction, as a line signs one per unit: each walks only the leaves
		 * since the last, whose signatures this process made (no Ed25519 check). */
		OK(lsec_audit_checkpoint_create(NULL, st, "line1", "st1", lsec_key_evp(k), "op", &err),
		   "checkpoint");
	}
	json_decref(evd);
	lsec_line_checkpoint_options o = LSEC_LINE_CHECKPOINT_OPTIONS_INIT;
	o.line_dir = b->dir;
	o.line_id = "line1";
	o.key_name = "st1";
	o.key = lsec_key_evp(k);
	o.person = "op";
	OK(lsec_line_checkpoint_sign(NULL, st, &o, &err), "checkpoint");
	lsec_key_free(k);
	lsec_store_close(st);
}

/*
 * When each socket started each of its units (its first step): the time from
 * one unit's start to the next one's on the same socket is what a unit costs
 * there in steady state, the socket's start-up (station open, CA unlock) left
 * out, its waits for locks and the ship gate in.
 */
#define REAL_SOCKETS_MAX 256
#define REAL_UNITS_MAX 4
static struct {
	char serial[64];
	unsigned n;
	uint64_t start[REAL_UNITS_MAX];
} real_sock[REAL_SOCKETS_MAX + 1];
static pthread_mutex_t real_mu = PTHREAD_MUTEX_INITIALIZER;

static void real_step(void *ctx, unsigned socket, const char *serial, const char *sop,
		      const char *step, const char *outcome)
{
	(void)ctx, (void)sop, (void)step, (void)outcome;
	if (socket > REAL_SOCKETS_MAX || serial == NULL) {
		return;
	}
	pthread_mutex_lock(&real_mu);
	if (strcmp(real_sock[socket].serial, serial) != 0 && real_sock[socket].n < REAL_UNITS_MAX) {
		snprintf(real_sock[socket].serial, sizeof(real_sock[0].serial), "%s", serial);
		real_sock[socket].start[real_sock[socket].n++] = now_us();
	}
	pthread_mutex_unlock(&real_mu);
}

/*
 * One gang of `units` units on `sockets` sockets, a fleet with these faults:
 * units/s from the start to the last unit, and (*steady) the sum over sockets
 * of one unit per mean start-to-start time.
 */
static double real_run(bench_line *b, const char *tag, unsigned units, unsigned sockets,
		       const char *faults, long *shipped, double *steady)
{
	static uint64_t seed = 1000;
	char prefix[40];
	snprintf(prefix, sizeof(prefix), "%s-", tag); /* serials of its own on the line */
	char **uris = fleet_seeded(b, tag, units, faults, seed++, prefix);
	memset(real_sock, 0, sizeof(real_sock));
	b->cfg.progress = real_step;
	double ups = gang(b, uris, units, sockets, shipped);
	b->cfg.progress = NULL;
	lsec_station_uris_free(uris, units);
	*steady = 0;
	for (unsigned k = 1; k <= sockets && k <= REAL_SOCKETS_MAX; k++) {
		unsigned n = real_sock[k].n;
		if (n >= 2) {
			double per = (double)(real_sock[k].start[n - 1] - real_sock[k].start[0]) /
				     1e6 / (n - 1);
			*steady += 1.0 / per;
		}
	}
	return ups;
}

static void real_row(const char *what, unsigned units, double ups, double steady, double ideal,
		     long shipped)
{
	printf("%-20s %6u %9.2f %8.1f%% %9.2f %8.1f%% %9.2f%s\n", what, units, ups,
	       100.0 * ups / ideal, steady, 100.0 * steady / ideal, ideal,
	       shipped == (long)units ? "" : "  (not all shipped)");
	fflush(stdout);
}

/* bench_station gang-real [SOCKETS [LEAVES]]: the goal's figure, at real device latency. */
static int real_main(int argc, char **argv)
{
	unsigned sockets = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 64;
	uint64_t leaves = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
	if (sockets < 1 || sockets > 256 || leaves > 100000000) {
		fprintf(stderr, "usage: bench_station gang-real [SOCKETS 1..256 [LEAVES]]\n");
		return 2;
	}
	/*
	 * 6 s of flash writes for the image (per KiB), 2 s spread over the ~40
	 * other device operations (fuses, keys, locks); read-backs are charged at
	 * the flash rate too, so the device time per unit is measured, not assumed.
	 */
	char faults[96];
	snprintf(faults, sizeof(faults), "lat_kib_us=%u&lat_op_us=50000",
		 6000000u / (2 * IMAGE_KIB)); /* the image written, then read back */
	unsigned units = 3 * sockets;
	long shipped = 0;
	printf("bench_station gang-real: %u sockets, %u units (three per socket), device latency "
	       "not scaled\n(%s: 6 s writing and reading back the image, 2 s of other device operations), SQLite "
	       "registry\n\n",
	       sockets, units, faults);
	fflush(stdout);
	bench_line b;
	memset(&b, 0, sizeof(b));
	line_new(&b, "real");
	/* Device time per unit: one socket, real latency, less the same on zero latency. */
	double st0 = 0, st1 = 0, steady = 0;
	(void)real_run(&b, "zero", 3, 1, NULL, &shipped, &st0);
	(void)real_run(&b, "one", 3, 1, faults, &shipped, &st1);
	double dev_s = 1.0 / st1 - 1.0 / st0;
	printf("one socket: %.2f s per unit; the station's work alone (zero latency) %.3f s; "
	       "device time %.2f s\n",
	       1.0 / st1, 1.0 / st0, dev_s);
	double ideal = (double)sockets / dev_s;
	printf("%-20s %6s %9s %9s %9s %9s %9s\n", "log", "units", "units/s", "of ideal",
	       "steady/s", "of ideal", "ideal/s");
	fflush(stdout);
	double ups = real_run(&b, "fresh", units, sockets, faults, &shipped, &steady);
	uint64_t n = 0;
	{
		lsec_err err = LSEC_ERR_INIT;
		lsec_store *st = NULL;
		OK(lsec_store_open(&st, b.registry, &err), "open registry");
		OK(lsec_store_leaf_count(&n, st, &err), "count leaves");
		lsec_store_close(st);
	}
	char what[64];
	snprintf(what, sizeof(what), "fresh (%llu leaves)", (unsigned long long)n);
	real_row(what, units, ups, steady, ideal, shipped);
	if (leaves > n) {
		double t0 = (double)now_us() / 1e6;
		prefill(&b, leaves);
		printf("  (prefilled to %llu leaves and checkpointed in %.0f s)\n",
		       (unsigned long long)leaves, (double)now_us() / 1e6 - t0);
		ups = real_run(&b, "full", units, sockets, faults, &shipped, &steady);
		snprintf(what, sizeof(what), "%llu leaves", (unsigned long long)leaves);
		real_row(what, units, ups, steady, ideal, shipped);
	}
	printf("(ideal = sockets / device time per unit; units/s: from the start to the last unit, "
	       "start-up included;\n steady/s: per socket, one unit per start-to-start time of its "
	       "units, summed; goal: 95 %% on both logs)\n");
	line_free(&b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "pg") == 0) {
		return pg_main(argc, argv);
	}
	if (argc > 1 && strcmp(argv[1], "gang-real") == 0) {
		return real_main(argc, argv);
	}
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20;
	unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 3;
	bool part2 = !(argc > 3 && strcmp(argv[3], "floor") == 0);
	long shipped = 0;
	if (n < 4 || n > 500 || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: bench_station [UNITS 4..500 [ROUNDS 1..9 [floor]]]\n");
		return 2;
	}
	printf("bench_station: whole build (flash, provision, secure-boot, debug-lock, ship gate)\n");
	printf("zero-latency simulated units, SQLite registry (durable commits synced, group "
	       "commit), %u units,\n"
	       "medians of %u interleaved rounds (each: the floor items, then 1 and 2 sockets)\n\n",
	       n, rounds);

	bench_line b;
	double fl[F_COUNT][ROUNDS_MAX], floor_r[ROUNDS_MAX], ups_r[2][ROUNDS_MAX];
	unsigned leaves = 60; /* two per step; the first round counts the steps */
	footprint grown = {0, 0, 0};
	for (unsigned r = 0; r < rounds; r++) {
		double us[F_COUNT];
		floor_r[r] = 0;
		for (unsigned sockets = 1; sockets <= 2; sockets++) {
			/* A fresh line each build: a registry of its own, units never seen before. */
			memset(&b, 0, sizeof(b));
			line_new(&b, "zero");
			if (sockets == 1) {
				crypto_floor(us, &b, n, leaves);
				for (int i = 0; i < F_COUNT; i++) {
					fl[i][r] = us[i];
					floor_r[r] += us[i];
				}
			}
			b.cfg.progress = on_step;
			char **uris = fleet(&b, "fleet", n, NULL);
			footprint before = measure(&b, 0);
			ups_r[sockets - 1][r] = gang(&b, uris, n, sockets, &shipped);
			if (r == 0 && sockets == 1) {
				footprint after = measure(&b, before.leaves);
				grown.file_bytes = after.file_bytes - before.file_bytes;
				grown.leaves = after.leaves - before.leaves;
				grown.leaf_bytes = after.leaf_bytes;
			}
			if (shipped != (long)n) {
				/* A rate of units that did not ship measures nothing. */
				fprintf(stderr, "bench_station: %ld of %u units shipped\n", shipped, n);
				exit(1);
			}
			lsec_station_uris_free(uris, n);
			if (r == 0 && sockets == 1) {
				uint64_t nstep = 0; /* socket 1 built all n units */
				for (size_t i = 0; i < nsteps; i++) {
					nstep += steps[i].count;
				}
				leaves = (unsigned)(2 * nstep / n);
			}
			line_free(&b);
		}
	}
	printf("the crypto floor per unit, each item alone (median, us):\n");
	double floor_us = 0;
	for (int i = 0; i < F_COUNT; i++) {
		double m = median(fl[i], rounds);
		floor_us += m;
		printf("  %-44s %9.1f\n", floor_names[i], m);
	}
	printf("  %-44s %9.1f  (%u leaf hashes of 600 bytes)\n", "total (sum of the medians)",
	       floor_us, leaves);
	printf("crypto floor: %8.1f units/s\n", 1e6 / floor_us);
	for (unsigned s = 0; s < 2; s++) {
		double ratio[ROUNDS_MAX];
		for (unsigned r = 0; r < rounds; r++) {
			ratio[r] = (1e6 / ups_r[s][r]) / floor_r[r]; /* build time / floor, same round */
		}
		printf("station, %u socket%s:  %8.1f units/s   build/floor = %.1f (median per round)\n",
		       s + 1, s ? "s" : " ", median(ups_r[s], rounds), median(ratio, rounds));
	}
	printf("storage per built unit: registry %.0f bytes (file growth), of which the log "
	       "%.0f bytes\n(%.1f leaves: text, hash and signature); goal 10 KB\n",
	       grown.file_bytes / n, grown.leaf_bytes / n, (double)grown.leaves / n);
	uint64_t total = 0;
	for (size_t i = 0; i < nsteps; i++) {
		total += steps[i].ms_total;
	}
	printf("\nshare of each step in the build time (socket 1, all rounds):\n");
	for (size_t i = 0; i < nsteps; i++) {
		printf("  %-34s %5.1f %%  %7.2f ms\n", steps[i].name,
		       100.0 * (double)steps[i].ms_total / (double)(total ? total : 1),
		       (double)steps[i].ms_total / 1000.0 / (double)(steps[i].count ? steps[i].count : 1));
	}
	if (!part2) {
		return 0;
	}

	/* Part 2: realistic latency, scaled down 100 times. */
	printf("\ngang scaling with device latency: a real unit spends 6 s flashing and 2 s on "
	       "fuses;\nhere scaled down 100x (%u KiB image: 60 ms of flash writes; 20 ms of fuse "
	       "and other device operations)\n",
	       IMAGE_KIB);
	/*
	 * Flash latency per KiB so writing the image takes 60 ms; the unit also
	 * reads it back a few times, which the same rate charges. Per-operation
	 * latency spreads the 20 ms of fuse work over the ~40 device operations.
	 */
	char faults[96];
	snprintf(faults, sizeof(faults), "lat_kib_us=%u&lat_op_us=500", 60000u / IMAGE_KIB);
	const unsigned levels[] = {1, 8, 32, 64};
	double dev_s = 0, best = 0;
	printf("%8s %8s %14s %14s %10s\n", "sockets", "units", "units/s", "ideal units/s", "of ideal");
	for (size_t li = 0; li < sizeof(levels) / sizeof(levels[0]); li++) {
		unsigned s = levels[li];
		unsigned units = s == 1 ? 4 : 2 * s;
		memset(&b, 0, sizeof(b));
		line_new(&b, "lat");
		char **uris = fleet(&b, "fleet", units, faults);
		double ups = gang(&b, uris, units, s, &shipped);
		if (s == 1) {
			dev_s = 1.0 / ups; /* one socket: the time a unit takes, device bound */
		}
		double ideal = (double)s / dev_s;
		printf("%8u %8u %14.2f %14.2f %9.1f %%%s\n", s, units, ups, ideal, 100.0 * ups / ideal,
		       shipped == (long)units ? "" : "  (not all shipped)");
		lsec_station_uris_free(uris, units);
		line_free(&b);
		best = ups > best ? ups : best;
	}
	printf("(ideal = sockets / the one-socket time per unit, %.0f ms)\n", dev_s * 1000.0);
	printf("\nAt real device times (8 s per unit) 64 sockets need %.1f units/s; this station "
	       "sustained %.1f units/s\nat its busiest above, %.1f times that.\n",
	       64.0 / 8.0, best, best / (64.0 / 8.0));
	return 0;
}
