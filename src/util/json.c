/*
 * Canonical JSON through jansson: keys sorted, compact separators, real
 * numbers refused (only integers, strings, booleans, null, arrays and
 * objects hash stably across implementations).
 */
#include "linesec/util.h"

#include <jansson.h>
#include <string.h>

static bool has_real(const json_t *j)
{
	if (json_is_real(j)) {
		return true;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			if (has_real(v)) {
				return true;
			}
		}
	}
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v) /* jansson iterates non-const */
		{
			if (has_real(v)) {
				return true;
			}
		}
	}
	return false;
}

int lsec_json_canonical(char **out, const json_t *j, lsec_err *err)
{
	int rc = 0;
	char *s = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(j);
	LSEC_ENSURE(!has_real(j), LSEC_E_USAGE,
		    "cannot write canonical JSON: floating-point values are not allowed");
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "cannot serialise JSON");
	*out = lsec_strdup(s);
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory");
out:
	if (s != NULL) {
		lsec_wipe(s, strlen(s));
		free(s); /* allocated by jansson */
	}
	return rc;
}

int lsec_json_set(json_t *obj, const char *key, json_t *v, lsec_err *err)
{
	int rc = 0;
	if (v == NULL || obj == NULL || key == NULL) {
		json_decref(v);
		LSEC_BAIL(LSEC_E_NOMEM, "cannot build JSON: out of memory at '%s'", key ? key : "?");
	}
	/* json_object_set_new takes v even when it fails. */
	LSEC_ENSURE(json_object_set_new(obj, key, v) == 0, LSEC_E_NOMEM,
		    "cannot build JSON: out of memory at '%s'", key);
out:
	return rc;
}

int lsec_json_append(json_t *arr, json_t *v, lsec_err *err)
{
	int rc = 0;
	if (v == NULL || arr == NULL) {
		json_decref(v);
		LSEC_BAIL(LSEC_E_NOMEM, "cannot build JSON: out of memory");
	}
	LSEC_ENSURE(json_array_append_new(arr, v) == 0, LSEC_E_NOMEM,
		    "cannot build JSON: out of memory");
out:
	return rc;
}

int lsec_json_print(FILE *f, const json_t *j, lsec_err *err)
{
	int rc = 0;
	char *s = NULL;
	LSEC_TRY(lsec_json_canonical(&s, j, err));
	LSEC_ENSURE(fputs(s, f) >= 0 && fputc('\n', f) != EOF, LSEC_E_IO, "cannot write output");
out:
	lsec_free(s);
	return rc;
}

int lsec_json_parse(json_t **out, const char *text, size_t len, const char *what, lsec_err *err)
{
	int rc = 0;
	json_error_t je;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	LSEC_ENSURE(*out != NULL, LSEC_E_PARSE, "cannot parse %s: line %d column %d: %s", what,
		    je.line, je.column, je.text);
out:
	return rc;
}
