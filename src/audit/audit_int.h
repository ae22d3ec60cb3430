/*
 * audit_int.h - internals of the audit module, shared between its files.
 * Nothing outside src/audit includes this header (the unit tests do).
 */
#ifndef LINESEC_AUDIT_INT_H
#define LINESEC_AUDIT_INT_H

#include "linesec/audit.h"

/*
 * SHA-256(prefix || a || b) with a digest fetched once per process.
 * b may be NULL (blen 0). Fails only when OpenSSL does (LSEC_E_CRYPTO).
 */
int lsec_audit__hash(uint8_t out[32], uint8_t prefix, const uint8_t *a, size_t alen,
		     const uint8_t *b, size_t blen, lsec_err *err);

/* Decimal uint64 without sign, spaces or leading zeros ("0" itself is fine). */
bool lsec_audit__parse_u64(const char *s, size_t len, uint64_t *out);

#endif
