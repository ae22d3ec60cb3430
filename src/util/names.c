/*
 * names.c - the one parser from a name to an enum value, and the one way a
 * list of accepted names is written ("a, b, c"). Every lsec_*_parse of a
 * named enum goes through lsec_name_lookup, so a bad name fails the same
 * way in every module.
 */
#include "linesec/util.h"

#include <string.h>

/*
 * Longest part of an unknown value echoed back: enough for any real name,
 * and the accepted names still fit in lsec_err.msg after it.
 */
#define NAME_ECHO_MAX 64

const char *lsec_name_list(char *buf, size_t cap, const char *const *names, size_t count)
{
	size_t off = 0;
	if (cap == 0) {
		return buf;
	}
	buf[0] = 0;
	for (size_t i = 0; i < count && off < cap; i++) {
		if (names[i] == NULL) {
			continue;
		}
		int n = snprintf(buf + off, cap - off, "%s%s", off == 0 ? "" : ", ", names[i]);
		if (n < 0) {
			break;
		}
		off += (size_t)n;
	}
	return buf;
}

int lsec_name_lookup(size_t *out, const char *const *names, size_t count, const char *value,
		     const char *what, lsec_err *err)
{
	char list[sizeof(err->msg)];
	*out = 0;
	for (size_t i = 0; value != NULL && i < count; i++) {
		if (names[i] != NULL && strcmp(names[i], value) == 0) {
			*out = i;
			return 0;
		}
	}
	return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
			    "unknown %s '%.*s': expected one of %s", what, NAME_ECHO_MAX,
			    value != NULL ? value : "", lsec_name_list(list, sizeof(list), names, count));
}
