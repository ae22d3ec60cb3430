/*
 * Fuzz target for certificate request and certificate parsing.
 * Target functions: lsec_csr_parse (PEM and DER, the self-signature check,
 * the key type check), lsec_csr_key, lsec_cert_parse, lsec_cert_serial_hex,
 * lsec_cert_key_fingerprint, lsec_cert_encode.
 *
 * The same bytes go to both parsers: a certificate and a request share
 * their outer shape, so each sees the other's near-misses.
 */
#include "linesec/pki.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failure must carry its code and a message; a crash-free success must be usable. */
static void check_result(int rc, const lsec_err *err)
{
	if (rc != 0 && (err->code != rc || err->msg[0] == 0)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_csr *csr = NULL;
	int rc = lsec_csr_parse(&csr, data, size, &err);
	check_result(rc, &err);
	if (rc == 0) {
		/* Accepted: the key must be a P-256 public key. */
		EVP_PKEY *k = lsec_csr_key(csr);
		if (k == NULL || !EVP_PKEY_is_a(k, "EC") || EVP_PKEY_get_bits(k) != 256) {
			abort();
		}
	} else if (csr != NULL) {
		abort();
	}
	lsec_csr_free(csr);

	lsec_err cerr = LSEC_ERR_INIT;
	lsec_cert *cert = NULL;
	rc = lsec_cert_parse(&cert, data, size, &cerr);
	check_result(rc, &cerr);
	if (rc == 0) {
		char sn[41];
		uint8_t fp[32];
		lsec_buf b = LSEC_BUF_INIT(1u << 20);
		lsec_cert_serial_hex(sn, cert);
		if (strlen(sn) > 40) {
			abort();
		}
		check_result(lsec_cert_key_fingerprint(fp, cert, &cerr), &cerr);
		/* What parsed re-encodes. */
		if (lsec_cert_encode(&b, cert, true, &cerr) != 0 || b.len == 0) {
			abort();
		}
		lsec_buf_release(&b);
	}
	lsec_cert_free(cert);
	return 0;
}
