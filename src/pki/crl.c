/*
 * crl.c - revocation: the CRL of every revoked identity (RFC 5280 section
 * 5: v2, reason codes, AKI, CRL number) and the plain list a cloud device
 * registry imports.
 *
 * The CRL number lives in the CA folder (crlnumber) and only grows: the next
 * number is written durably before the CRL is signed, so a crash between the
 * two skips a number and never issues one twice.
 *
 * @test tests/unit/pki/test_crl.c
 */
#include "pki_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#define CRL_NUMBER "crlnumber"

/*
 * RFC 5280 section 5.3.1 reason names, indexed by reason code. Code 7 is
 * not used and 8 (removeFromCRL) belongs to delta CRLs, which are not
 * issued: both are holes.
 */
static const char *const reason_names[] = {
	[LSEC_CRL_UNSPECIFIED] = "unspecified",
	[LSEC_CRL_KEY_COMPROMISE] = "keyCompromise",
	[LSEC_CRL_CA_COMPROMISE] = "cACompromise",
	[LSEC_CRL_AFFILIATION_CHANGED] = "affiliationChanged",
	[LSEC_CRL_SUPERSEDED] = "superseded",
	[LSEC_CRL_CESSATION_OF_OPERATION] = "cessationOfOperation",
	[LSEC_CRL_CERTIFICATE_HOLD] = "certificateHold",
	[LSEC_CRL_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
	[LSEC_CRL_AA_COMPROMISE] = "aACompromise",
};
#define N_REASONS (sizeof(reason_names) / sizeof(reason_names[0]))

static bool reason_known(lsec_crl_reason r)
{
	return (unsigned)r < N_REASONS && reason_names[r] != NULL;
}

const char *lsec_crl_reason_name(lsec_crl_reason r)
{
	return reason_known(r) ? reason_names[r] : "unspecified";
}

int lsec_crl_reason_parse(lsec_crl_reason *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, reason_names, N_REASONS, name, "revocation reason", err);
	*out = (lsec_crl_reason)i;
	return rc;
}

int lsec_pki__crl_last(uint64_t *out, const lsec_ca *ca, lsec_err *err)
{
	int rc = 0;
	char *path = lsec_pki__ca_path(ca, CRL_NUMBER);
	lsec_buf b = LSEC_BUF_INIT(64);
	*out = 0;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	if (!lsec_pki__file_exists(path)) {
		goto out;
	}
	LSEC_TRY(lsec_file_read(&b, path, err));
	const char *text = lsec_buf_cstr(&b, err);
	LSEC_ENSURE(text != NULL, LSEC_E_NOMEM, "out of memory");
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	LSEC_ENSURE(errno == 0 && end != text && (*end == '\n' || *end == '\0') &&
			    text[0] >= '0' && text[0] <= '9' && v < (1ull << 62),
		    LSEC_E_PKI_CA_CONFIG, "cannot read '%s': a decimal CRL number expected", path);
	*out = v;
out:
	lsec_buf_release(&b);
	lsec_free(path);
	return rc;
}

/* Reserves the next CRL number, durably. */
static int crl_next(uint64_t *out, const lsec_ca *ca, lsec_err *err)
{
	int rc = 0;
	uint64_t last = 0;
	char *path = NULL;
	char text[32];
	LSEC_TRY(lsec_pki__crl_last(&last, ca, err));
	*out = last + 1;
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", *out);
	LSEC_ENSURE((path = lsec_pki__ca_path(ca, CRL_NUMBER)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	LSEC_TRY(lsec_file_write_atomic(path, text, (size_t)n, 0644, err));
out:
	lsec_free(path);
	return rc;
}

static bool is_hex(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 40) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

static int add_revoked(X509_CRL *crl, const lsec_revoked *e, lsec_err *err)
{
	int rc = 0;
	X509_REVOKED *rev = X509_REVOKED_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	LSEC_TRY_OSSL_PTR(rev, LSEC_E_NOMEM, "out of memory for a CRL entry");
	LSEC_ENSURE(e->serial_hex != NULL && is_hex(e->serial_hex), LSEC_E_USAGE,
		    "cannot list serial '%s' in a CRL: 1..40 hex digits expected",
		    e->serial_hex ? e->serial_hex : "");
	LSEC_ENSURE(reason_known(e->reason), LSEC_E_USAGE,
		    "cannot list serial '%s' in a CRL: unknown reason code %d", e->serial_hex,
		    (int)e->reason);
	LSEC_TRY_OSSL(BN_hex2bn(&bn, e->serial_hex), LSEC_E_USAGE, "cannot read serial '%s'",
		      e->serial_hex);
	LSEC_TRY_OSSL_PTR(sn = BN_to_ASN1_INTEGER(bn, NULL), LSEC_E_NOMEM, "out of memory");
	LSEC_TRY_OSSL(X509_REVOKED_set_serialNumber(rev, sn), LSEC_E_CRYPTO,
		      "cannot set serial '%s'", e->serial_hex);
	LSEC_TRY_OSSL_PTR(t = ASN1_TIME_set(NULL, (time_t)e->revoked_at), LSEC_E_USAGE,
			  "cannot set the revocation time of serial '%s'", e->serial_hex);
	LSEC_TRY_OSSL(X509_REVOKED_set_revocationDate(rev, t), LSEC_E_CRYPTO,
		      "cannot set the revocation time of serial '%s'", e->serial_hex);
	/* RFC 5280 5.3.1: the reason code unspecified SHOULD be left out. */
	if (e->reason != LSEC_CRL_UNSPECIFIED) {
		LSEC_TRY_OSSL_PTR(reason = ASN1_ENUMERATED_new(), LSEC_E_NOMEM, "out of memory");
		LSEC_TRY_OSSL(ASN1_ENUMERATED_set(reason, (long)e->reason), LSEC_E_CRYPTO,
			      "cannot set a reason code");
		LSEC_TRY_OSSL(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0),
			      LSEC_E_CRYPTO, "cannot set the reason of serial '%s'", e->serial_hex);
	}
	LSEC_TRY_OSSL(X509_CRL_add0_revoked(crl, rev), LSEC_E_NOMEM, "out of memory");
	rev = NULL;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_REVOKED_free(rev);
	return rc;
}

int lsec_ca_crl(lsec_buf *out, uint64_t *number_out, lsec_ca *ca, const lsec_revoked *list,
		size_t n, const lsec_crl_options *opts, lsec_err *err)
{
	int rc = 0;
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *aki = NULL;
	uint8_t *der = NULL;
	uint64_t number = 0;
	X509V3_CTX ctx;
	*number_out = 0;
	LSEC_ENSURE(opts != NULL && opts->version == LSEC_CRL_OPTIONS_VERSION, LSEC_E_USAGE,
		    "cannot make a CRL: missing or unknown options");
	LSEC_ENSURE(opts->next_update_hours > 0 && opts->next_update_hours <= 24u * 366u,
		    LSEC_E_USAGE, "cannot make a CRL: nextUpdate in %u hours, 1..8784 expected",
		    (unsigned)opts->next_update_hours);
	LSEC_ENSURE(list != NULL || n == 0, LSEC_E_USAGE, "cannot make a CRL: missing list");
	LSEC_TRY(lsec_pki__ca_ready(ca, "make a CRL", err));
	X509 *cax = lsec_cert_x509(ca->cert);
	LSEC_TRY_OSSL_PTR(crl = X509_CRL_new(), LSEC_E_NOMEM, "out of memory for a CRL");
	LSEC_TRY_OSSL(X509_CRL_set_version(crl, X509_CRL_VERSION_2), LSEC_E_CRYPTO,
		      "cannot set the CRL version");
	LSEC_TRY_OSSL(X509_CRL_set_issuer_name(crl, X509_get_subject_name(cax)), LSEC_E_CRYPTO,
		      "cannot set the CRL issuer");
	time_t now = time(NULL);
	LSEC_TRY_OSSL_PTR(t = ASN1_TIME_set(NULL, now), LSEC_E_NOMEM, "out of memory");
	LSEC_TRY_OSSL(X509_CRL_set1_lastUpdate(crl, t), LSEC_E_CRYPTO, "cannot set thisUpdate");
	LSEC_TRY_OSSL_PTR(ASN1_TIME_adj(t, now, 0, (long)opts->next_update_hours * 3600),
			  LSEC_E_CRYPTO, "cannot compute nextUpdate");
	LSEC_TRY_OSSL(X509_CRL_set1_nextUpdate(crl, t), LSEC_E_CRYPTO, "cannot set nextUpdate");
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(add_revoked(crl, &list[i], err));
	}
	LSEC_TRY_OSSL(X509_CRL_sort(crl), LSEC_E_CRYPTO, "cannot sort the CRL");
	X509V3_set_ctx(&ctx, cax, NULL, NULL, crl, 0);
	aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	LSEC_TRY_OSSL_PTR(aki, LSEC_E_CRYPTO, "cannot build the CRL's authorityKeyIdentifier");
	LSEC_TRY_OSSL(X509_CRL_add_ext(crl, aki, -1), LSEC_E_CRYPTO,
		      "cannot add the CRL's authorityKeyIdentifier");
	LSEC_TRY(crl_next(&number, ca, err));
	LSEC_TRY_OSSL_PTR(num = ASN1_INTEGER_new(), LSEC_E_NOMEM, "out of memory");
	LSEC_TRY_OSSL(ASN1_INTEGER_set_uint64(num, number), LSEC_E_CRYPTO,
		      "cannot set the CRL number");
	LSEC_TRY_OSSL(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0), LSEC_E_CRYPTO,
		      "cannot set the CRL number");
	LSEC_TRY(lsec_pki__sign_crl(&ca->signer, &crl, err));
	if (opts->der) {
		int len = i2d_X509_CRL(crl, &der);
		LSEC_TRY_OSSL(len, LSEC_E_CRYPTO, "cannot encode the CRL");
		LSEC_TRY(lsec_buf_append(out, der, (size_t)len, err));
	} else {
		LSEC_TRY(lsec_pki__pem_append(out, lsec_pki__pem_crl, crl, "cannot encode the CRL",
					      err));
	}
	*number_out = number;
out:
	OPENSSL_free(der);
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return rc;
}

int lsec_revoked_export(lsec_buf *out, const lsec_revoked *list, size_t n, uint64_t crl_number,
			bool json, lsec_err *err)
{
	int rc = 0;
	json_t *root = NULL, *arr = NULL;
	char *text = NULL;
	char fp[65], when[32];
	LSEC_ENSURE(list != NULL || n == 0, LSEC_E_USAGE, "cannot export revocations: missing list");
	if (json) {
		root = json_object();
		arr = json_array();
		LSEC_ENSURE(root != NULL && arr != NULL, LSEC_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const lsec_revoked *e = &list[i];
		LSEC_ENSURE(e->serial_hex != NULL && is_hex(e->serial_hex), LSEC_E_USAGE,
			    "cannot export serial '%s': 1..40 hex digits expected",
			    e->serial_hex ? e->serial_hex : "");
		if (e->key_fp != NULL) {
			lsec_hex_encode(fp, e->key_fp, 32);
		} else {
			snprintf(fp, sizeof(fp), "-");
		}
		if (!json) {
			LSEC_TRY(lsec_buf_printf(out, err, "%s %s %s\n", e->serial_hex, fp,
						 lsec_crl_reason_name(e->reason)));
			continue;
		}
		lsec_time_format(when, e->revoked_at);
		json_t *o = json_pack("{s:s,s:s?,s:s,s:s}", "serial", e->serial_hex, "key_sha256",
				      e->key_fp ? fp : NULL, "reason",
				      lsec_crl_reason_name(e->reason), "revoked_at", when);
		LSEC_TRY(lsec_json_append(arr, o, err));
	}
	if (json) {
		LSEC_TRY(lsec_json_set(root, "crl_number", json_integer((json_int_t)crl_number), err));
		LSEC_TRY(lsec_json_set(root, "revoked", json_incref(arr), err));
		LSEC_TRY(lsec_json_canonical(&text, root, err));
		LSEC_TRY(lsec_buf_printf(out, err, "%s\n", text));
	}
out:
	lsec_free(text);
	json_decref(arr);
	json_decref(root);
	return rc;
}
