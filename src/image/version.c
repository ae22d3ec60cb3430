/*
 * Image versions: "MAJOR[.MINOR[.REVISION]][+BUILD]" as imgtool's --version
 * takes them, with each field range-checked against the header's widths
 * (u8, u8, u16, u32).
 *
 * @test tests/unit/image/test_version.c
 */
#include "image_int.h"

#include <string.h>

/* Reads decimal digits at *p (at least one, no sign) up to max. */
static bool read_field(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9') {
		return false;
	}
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max) {
			return false;
		}
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

int lsec_image_version_parse(lsec_image_version *out, const char *s, lsec_err *err)
{
	int rc = 0;
	uint64_t f[4] = {0, 0, 0, 0};
	const uint64_t max[4] = {UINT8_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX};
	const char *p = s;

	memset(out, 0, sizeof(*out));
	LSEC_ENSURE(s != NULL, LSEC_E_USAGE, "invalid version: none given");
	bool ok = read_field(&p, max[0], &f[0]);
	for (int i = 1; ok && i < 3 && *p == '.'; i++) {
		p++;
		ok = read_field(&p, max[i], &f[i]);
	}
	if (ok && *p == '+') {
		p++;
		ok = read_field(&p, max[3], &f[3]);
	}
	LSEC_ENSURE(ok && *p == 0, LSEC_E_USAGE,
		    "invalid version '%s': expected MAJOR[.MINOR[.REVISION]][+BUILD] with major and "
		    "minor up to 255, revision up to 65535, build up to 4294967295",
		    s);
	out->major = (uint8_t)f[0];
	out->minor = (uint8_t)f[1];
	out->revision = (uint16_t)f[2];
	out->build = (uint32_t)f[3];
out:
	return rc;
}
