/*
 * PKI costs at the station, against a floor measured in the same run:
 *  - device certificate issuance (file key): ratio to one raw ECDSA P-256
 *    signature (the unavoidable cost);
 *  - issuance with the key in a SoftHSM2 token: ratio to the file key;
 *  - CSR parse + self-signature check: ratio to one raw ECDSA verification;
 *  - initial password + keyed fingerprint: per second;
 *  - a CRL of 10000 revocations: milliseconds.
 *
 * Usage: bench_pki [SECONDS_PER_CASE] (default 1)
 */
#include "linesec/pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const lsec_err *err)
{
	fprintf(stderr, "bench_pki: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

typedef struct ctx {
	lsec_ca *ca;
	EVP_PKEY *dev;
	uint8_t csr[1024];
	size_t csrlen;
	uint8_t tbs[300];
	lsec_cert_request req;
} ctx;

typedef void (*op_fn)(ctx *c);

/* Runs op for about seconds; returns seconds per operation. */
static double measure(op_fn op, ctx *c, double seconds)
{
	unsigned long n = 0;
	double t0 = now(), t;
	do {
		op(c);
		n++;
		t = now();
	} while (t - t0 < seconds);
	return (t - t0) / (double)n;
}

static void raw_sign(ctx *c)
{
	uint8_t sig[80];
	size_t len = sizeof(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, c->dev) != 1 ||
	    EVP_DigestSign(m, sig, &len, c->tbs, sizeof(c->tbs)) != 1) {
		die("raw sign", NULL);
	}
	EVP_MD_CTX_free(m);
}

static void raw_verify(ctx *c)
{
	static uint8_t sig[80];
	static size_t len;
	if (len == 0) {
		len = sizeof(sig);
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, c->dev) != 1 ||
		    EVP_DigestSign(m, sig, &len, c->tbs, sizeof(c->tbs)) != 1) {
			die("raw sign", NULL);
		}
		EVP_MD_CTX_free(m);
	}
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, c->dev) != 1 ||
	    EVP_DigestVerify(m, sig, len, c->tbs, sizeof(c->tbs)) != 1) {
		die("raw verify", NULL);
	}
	EVP_MD_CTX_free(m);
}

static void issue(ctx *c)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_cert *cert = NULL;
	if (lsec_ca_issue(&cert, c->ca, c->dev, &c->req, &err) < 0) {
		die("issue", &err);
	}
	lsec_cert_free(cert);
}

static void csr_parse(ctx *c)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_csr *csr = NULL;
	if (lsec_csr_parse(&csr, c->csr, c->csrlen, &err) < 0) {
		die("csr parse", &err);
	}
	lsec_csr_free(csr);
}

static void cred(ctx *c)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = NULL;
	uint8_t fp[32];
	if (lsec_cred_generate(&pw, &err) < 0 ||
	    lsec_cred_fingerprint(fp, c->ca, lsec_secret_cdata(pw), lsec_secret_len(pw), &err) < 0) {
		die("credential", &err);
	}
	lsec_secret_free(pw);
}

static lsec_ca *make_ca(const char *dir, const char *module, lsec_secret *secret)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	lsec_ca *ca = NULL;
	o.common_name = "Bench CA";
	if (module != NULL) {
		o.pkcs11_module = module;
		o.token_label = "bench";
		o.key_label = "bench-ca";
		o.pin = secret;
	} else {
		o.passphrase = secret;
	}
	if (lsec_ca_init(dir, &o, &err) < 0 || lsec_ca_open(&ca, dir, secret, &err) < 0) {
		die("CA", &err);
	}
	return ca;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	lsec_err err = LSEC_ERR_INIT;
	char tmpl[] = "/tmp/lsec-bench-pki-XXXXXX";
	if (mkdtemp(tmpl) == NULL) {
		die("mkdtemp", NULL);
	}
	char *cadir = lsec_asprintf("%s/ca", tmpl);
	lsec_secret *pass = NULL;
	if (lsec_secret_from(&pass, "bench passphrase", 16, &err) < 0) {
		die("secret", &err);
	}
	ctx c;
	memset(&c, 0, sizeof(c));
	static const uint8_t uid[] = {1, 2, 3, 4, 5, 6, 7, 8};
	c.req = (lsec_cert_request)LSEC_CERT_REQUEST_INIT;
	c.req.serial = "SN-BENCH";
	c.req.product = "Bench";
	c.req.uid = uid;
	c.req.uid_len = sizeof(uid);
	c.dev = EVP_EC_gen("P-256");
	memset(c.tbs, 0x5a, sizeof(c.tbs));
	c.ca = make_ca(cadir, NULL, pass);
	/* A DER CSR of the device key. */
	X509_REQ *r = X509_REQ_new();
	X509_REQ_set_pubkey(r, c.dev);
	X509_REQ_sign(r, c.dev, EVP_sha256());
	uint8_t *p = c.csr;
	c.csrlen = (size_t)i2d_X509_REQ(r, &p);
	X509_REQ_free(r);

	double t_sign = measure(raw_sign, &c, secs);
	double t_issue = measure(issue, &c, secs);
	double t_verify = measure(raw_verify, &c, secs);
	double t_csr = measure(csr_parse, &c, secs);
	double t_cred = measure(cred, &c, secs);
	printf("raw ECDSA P-256 sign          %9.0f /s\n", 1 / t_sign);
	printf("issue (file key)              %9.0f /s   %.2fx the raw signature\n", 1 / t_issue,
	       t_issue / t_sign);
	printf("raw ECDSA P-256 verify        %9.0f /s\n", 1 / t_verify);
	printf("CSR parse + signature check   %9.0f /s   %.2fx the raw verification\n", 1 / t_csr,
	       t_csr / t_verify);
	printf("password + keyed fingerprint  %9.0f /s\n", 1 / t_cred);

	/* A CRL of 10000 revocations. */
	enum { N = 10000 };
	lsec_revoked *list = lsec_calloc(N, sizeof(*list));
	char(*sns)[17] = lsec_calloc(N, sizeof(*sns));
	for (size_t i = 0; i < N; i++) {
		snprintf(sns[i], sizeof(sns[i]), "%016zx", i + 1);
		list[i].serial_hex = sns[i];
		list[i].revoked_at = 1700000000;
		list[i].reason = LSEC_CRL_SUPERSEDED;
	}
	lsec_buf crl = LSEC_BUF_INIT(64u << 20);
	lsec_crl_options co = LSEC_CRL_OPTIONS_INIT;
	co.der = true;
	uint64_t num = 0;
	double t0 = now();
	if (lsec_ca_crl(&crl, &num, c.ca, list, N, &co, &err) < 0) {
		die("crl", &err);
	}
	printf("CRL of %d revocations          %9.1f ms  (%zu bytes)\n", N, (now() - t0) * 1e3,
	       crl.len);
	lsec_buf_release(&crl);
	lsec_free(sns);
	lsec_free(list);

	/* The same issuance with the key in a SoftHSM2 token. */
	const char *module = "/usr/lib/softhsm/libsofthsm2.so";
	if (access(module, R_OK) == 0) {
		char *conf = lsec_asprintf("%s/softhsm2.conf", tmpl);
		char *cmd = lsec_asprintf(
			"mkdir -p %s/tokens && printf 'directories.tokendir = %s/tokens\\n"
			"objectstore.backend = file\\nlog.level = ERROR\\n' > %s && "
			"SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label bench "
			"--pin 123456 --so-pin 12345678 >/dev/null",
			tmpl, tmpl, conf, conf);
		if (system(cmd) != 0) {
			die("softhsm2-util", NULL);
		}
		setenv("SOFTHSM2_CONF", conf, 1);
		lsec_secret *pin = NULL;
		if (lsec_secret_from(&pin, "123456", 6, &err) < 0) {
			die("secret", &err);
		}
		char *hsmdir = lsec_asprintf("%s/hsmca", tmpl);
		lsec_ca *file_ca = c.ca;
		c.ca = make_ca(hsmdir, module, pin);
		double t_hsm = measure(issue, &c, secs);
		printf("issue (SoftHSM2 token)        %9.0f /s   %.2fx the file key\n", 1 / t_hsm,
		       t_hsm / t_issue);
		lsec_ca_free(c.ca);
		c.ca = file_ca;
		lsec_secret_free(pin);
		lsec_free(hsmdir);
		lsec_free(cmd);
		lsec_free(conf);
	}
	lsec_ca_free(c.ca);
	EVP_PKEY_free(c.dev);
	lsec_secret_free(pass);
	char *rm = lsec_asprintf("rm -rf %s", tmpl);
	if (system(rm) != 0) {
		fprintf(stderr, "bench_pki: could not remove %s\n", tmpl);
	}
	lsec_free(rm);
	lsec_free(cadir);
	return 0;
}
