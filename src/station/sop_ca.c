/*
 * sop_ca.c - an SOP checked against the line CA: certificates its ca.issue
 * steps would issue must not outlive the CA certificate that signs them.
 *
 * @test tests/e2e/test_sop.sh
 */
#include "station/station_int.h"

#include <openssl/x509.h>
#include <time.h>

int lsec_station_sop_ca_check(char **out, const lsec_sop *sop, const char *ca_dir, lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	lsec_buf b = LSEC_BUF_INIT(16384);
	char nb[32], na[32];
	*out = NULL;
	LSEC_ENSURE_REF(sop);
	LSEC_ENSURE_REF(ca_dir);
	LSEC_TRY(lsec_ca_open(&ca, ca_dir, NULL, err));
	const lsec_cert *cert = lsec_ca_cert(ca);
	const ASN1_TIME *until = cert != NULL ? X509_get0_notAfter(lsec_cert_x509(cert)) : NULL;
	if (until != NULL) {
		lsec_cert_validity(nb, na, cert);
	}
	for (size_t i = 0; until != NULL && i < lsec_sop_step_count(sop); i++) {
		const lsec_sop_step *s = lsec_sop_step_at(sop, i);
		const char *days = lsec_sop_step_param(s, "validity-days");
		if (!lsec_station__eq(s->action->id, "ca.issue") || days == NULL) {
			continue;
		}
		unsigned long d = strtoul(days, NULL, 10);
		/* Issued now, valid until now + d days: after the CA's not-after? */
		time_t end = time(NULL) + (time_t)d * 86400;
		if (X509_cmp_time(until, &end) < 0) {
			LSEC_TRY(lsec_buf_printf(&b, err,
						 "SOP '%s' step '%s' issues certificates valid for %lu "
						 "days, past the line CA's not-after (%s): every unit "
						 "would fail at that step; lower validity-days or renew "
						 "the CA\n",
						 lsec_sop_name(sop), s->id, d, na));
		}
	}
	LSEC_TRY(lsec_buf_append_u8(&b, '\0', err));
	*out = (char *)b.data;
	b.data = NULL;
	b.cap = 0;
out:
	lsec_buf_release(&b);
	lsec_ca_free(ca);
	return rc;
}
