/*
 * sha256.h - a compact SHA-256 (FIPS 180-4) for the test firmware's boot
 * stage. Firmware code: no libc, no allocation, no OpenSSL.
 */
#ifndef LSEC_FW_SHA256_H
#define LSEC_FW_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct fw_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	uint32_t used; /* bytes in buf */
} fw_sha256;

void fw_sha256_init(fw_sha256 *c);
void fw_sha256_update(fw_sha256 *c, const uint8_t *p, size_t n);
void fw_sha256_final(fw_sha256 *c, uint8_t out[32]);

#endif
