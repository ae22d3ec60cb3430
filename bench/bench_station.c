/*
 * bench_station.c - the station's throughput.
 *
 *  1. Units per second through the whole build (flash, provision,
 *     secure-boot, debug-lock, ship gate) on zero-latency simulated units,
 *     1 and 2 sockets, SQLite registry, beside the crypto floor: the same
 *     cryptographic operations per unit (device key generation, CSR signature
 *     and check, certificate issuance, proof of possession, image signature
 *     checks, credential fingerprint, checkpoint signature, hashes) measured
 *     alone in the same run. Printed as a ratio, with the share of each SOP
 *     step in the build time.
 *  2. Gang scaling with realistic device latency: 6 s of flashing and 2 s of
 *     fuse work per unit on a real line, scaled down 100 times here (60 ms and
 *     20 ms) so the benchmark finishes in a few minutes; 1, 8, 32 and 64
 *     sockets against the ideal, sockets / device time.
 *
 * Usage: bench_station [UNITS]   (UNITS for part 1, default 40)
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linesec/audit.h"
#include "linesec/image.h"
#include "linesec/line.h"
#include "linesec/pki.h"
#include "linesec/sop.h"
#include "linesec/station.h"
#include "linesec/store.h"
#include "linesec/device.h"

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

typedef struct bench_line {
	char dir[256];
	char registry[300], ca[300], fw_pub[300], fw_priv[300], skey[300];
	lsec_secret *pass;
	lsec_station_product product;
	lsec_station_config cfg;
} bench_line;

/* A line in a scratch folder: people, CA, keys, approved SOPs and release. */
static void line_new(bench_line *b, const char *tag)
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
	snprintf(b->registry, sizeof(b->registry), "%s/registry.db", b->dir);
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
	for (size_t i = 0; i < lsec_station_default_sop_count(); i++) {
		const char *name = NULL;
		const uint8_t *data = NULL;
		size_t len = 0;
		lsec_sop *sop = NULL;
		(void)lsec_station_default_sop(i, &name, &data, &len);
		OK(lsec_sop_submit(&sop, st, &sup, LSEC_ROLE_SUPERVISOR, data, len, name, &err), "sop submit");
		OK(lsec_sop_approve(st, &s1, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), 1, &err), "sop approve");
		OK(lsec_sop_approve(st, &s2, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), 1, &err), "sop approve");
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
	c.batch = true;
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
}

static void line_free(bench_line *b)
{
	char cmd[400];
	lsec_secret_free(b->pass);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_station: could not remove %s\n", b->dir);
	}
}

static char **fleet(bench_line *b, const char *name, unsigned n, const char *faults)
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
	o.seed = 99;
	OK(lsec_device_sim_fleet_new(NULL, dir, &o, &err), "fleet");
	snprintf(pat, sizeof(pat), "sim:%s/*", dir);
	OK(lsec_station_uris_expand(&uris, &got, pat, &err), "expand");
	return uris;
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

/* The cryptographic work of one unit, alone: returns microseconds per unit. */
static double crypto_floor(bench_line *b, unsigned n)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_ca *ca = NULL;
	lsec_key *fw = NULL, *sk = NULL;
	lsec_buf img = LSEC_BUF_INIT(1 << 20), spki = LSEC_BUF_INIT(4096);
	lsec_image *im = NULL;
	char path[320];
	OK(lsec_ca_open(&ca, b->ca, b->pass, &err), "ca open");
	OK(lsec_key_load_public(&fw, b->fw_pub, &err), "fw key");
	OK(lsec_key_load_private(&sk, b->skey, NULL, &err), "station key");
	snprintf(path, sizeof(path), "%s/fw.img", b->dir);
	OK(lsec_file_read(&img, path, &err), "image");
	OK(lsec_image_parse(&im, img.data, img.len, "fw.img", &err), "parse");
	OK(lsec_key_spki_der(&spki, fw, &err), "spki");
	uint64_t t0 = now_us();
	for (unsigned i = 0; i < n; i++) {
		lsec_key *dev = NULL;
		lsec_cert *cert = NULL;
		lsec_buf sig = LSEC_BUF_INIT(256), note = LSEC_BUF_INIT(256);
		uint8_t ch[32], h[32], fp[32];
		lsec_cert_request req = LSEC_CERT_REQUEST_INIT;
		lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
		/* image check (twice: by key and by embedded key), flash and read-back hashes */
		vo.pubkey_der = spki.data;
		vo.pubkey_der_len = spki.len;
		vo.product = "sensor";
		vo.require_release = true;
		OK(lsec_image_verify(im, &vo, &err), "verify");
		OK(lsec_image_verify(im, &vo, &err), "verify");
		for (int k = 0; k < 4; k++) {
			OK(lsec_sha256(h, img.data, img.len, &err), "hash");
		}
		/* device key, CSR signature and its check, issuance, proof of possession */
		OK(lsec_key_generate(&dev, LSEC_KEY_ECDSA_P256, &err), "keygen");
		OK(lsec_key_sign(&sig, dev, h, 32, &err), "csr sign");
		OK(lsec_key_verify(dev, h, 32, sig.data, sig.len, &err), "csr verify");
		req.serial = "unit-000";
		req.product = "sensor";
		req.uid = h;
		req.uid_len = 16;
		req.validity_days = 7300;
		OK(lsec_ca_issue(&cert, ca, lsec_key_evp(dev), &req, &err), "issue");
		OK(lsec_pop_challenge(ch, &err), "challenge");
		lsec_buf_reset(&sig);
		OK(lsec_key_sign(&sig, dev, ch, 32, &err), "pop sign");
		OK(lsec_pop_verify(cert, ch, 32, sig.data, sig.len, &err), "pop verify");
		/* credential fingerprint, checkpoint signature */
		OK(lsec_cred_fingerprint(fp, ca, ch, 16, &err), "cred");
		lsec_buf_reset(&sig);
		OK(lsec_key_sign(&sig, sk, h, 32, &err), "checkpoint sign");
		lsec_buf_release(&sig);
		lsec_buf_release(&note);
		lsec_cert_free(cert);
		lsec_key_free(dev);
	}
	double us = (double)(now_us() - t0) / n;
	lsec_image_free(im);
	lsec_buf_release(&img);
	lsec_buf_release(&spki);
	lsec_key_free(fw);
	lsec_key_free(sk);
	lsec_ca_free(ca);
	return us;
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

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 40;
	long shipped = 0;
	if (n < 4 || n > 500) {
		fprintf(stderr, "usage: bench_station [UNITS 4..500]\n");
		return 2;
	}
	printf("bench_station: whole build (flash, provision, secure-boot, debug-lock, ship gate)\n");
	printf("zero-latency simulated units, SQLite registry (synchronous=FULL), %u units\n\n", n);

	bench_line b;
	double floor_us = 0;
	for (unsigned sockets = 1; sockets <= 2; sockets++) {
		/* A fresh line each time: a registry of its own, units never seen before. */
		memset(&b, 0, sizeof(b));
		line_new(&b, "zero");
		if (sockets == 1) {
			floor_us = crypto_floor(&b, n);
			printf("crypto floor, the same operations alone: %8.1f units/s (%.2f ms per "
			       "unit)\n",
			       1e6 / floor_us, floor_us / 1000.0);
		}
		b.cfg.progress = on_step;
		char **uris = fleet(&b, "fleet", n, NULL);
		double ups = gang(&b, uris, n, sockets, &shipped);
		printf("station, %u socket%s:                  %8.1f units/s (%ld shipped) = %.1f %% "
		       "of the crypto floor\n",
		       sockets, sockets > 1 ? "s" : " ", ups, shipped,
		       100.0 * ups / (1e6 / floor_us));
		lsec_station_uris_free(uris, n);
		line_free(&b);
	}
	uint64_t total = 0;
	for (size_t i = 0; i < nsteps; i++) {
		total += steps[i].ms_total;
	}
	printf("(the station's time goes to durable registry commits: two per step, each with its\n"
	       " audit leaf, fsynced; the crypto itself is about 1 ms per unit)\n");
	printf("\nshare of each step in the build time (socket 1, both runs):\n");
	for (size_t i = 0; i < nsteps; i++) {
		printf("  %-34s %5.1f %%  %7.2f ms\n", steps[i].name,
		       100.0 * (double)steps[i].ms_total / (double)(total ? total : 1),
		       (double)steps[i].ms_total / 1000.0 / (double)(steps[i].count ? steps[i].count : 1));
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
