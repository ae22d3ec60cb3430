/*
 * leaf.c - audit leaves: one event as canonical JSON.
 *
 * A leaf is the canonical JSON (sorted keys, no whitespace, no reals) of
 *     {"action","evidence","outcome","person","seq","sop","sop_version",
 *      "station","step","time","unit","v":1}
 * where absent event fields are left out. Canonical form makes the leaf
 * hash a function of the event alone, so any tool that re-serialises the
 * leaf the same way gets the same hash; verifiers hash the stored bytes.
 *
 * Evidence is screened for secrets before it can reach the log: object keys
 * named like secrets and PEM private keys anywhere in it are refused.
 *
 * @test tests/unit/audit/test_leaf.c
 */
#include "audit/audit_int.h"

#include "linesec/store.h"

#include <strings.h>
#include <jansson.h>
#include <string.h>

/* Key fragments that name a secret; matched case-insensitively. */
static const char *const secret_words[] = {
	"password", "passwd", "passphrase", "secret", "private", "privkey",
};
/* Keys that are a secret when they are the whole name or one _-separated part. */
static const char *const secret_parts[] = {"pin", "psk", "puk"};

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; *p != 0; p++) {
		if (strncasecmp(p, needle, n) == 0) {
			return true;
		}
	}
	return false;
}

static bool has_part_ci(const char *key, const char *part)
{
	size_t n = strlen(part);
	for (const char *p = key; *p != 0;) {
		size_t len = strcspn(p, "_-.");
		if (len == n && strncasecmp(p, part, n) == 0) {
			return true;
		}
		p += len;
		if (*p != 0) {
			p++;
		}
	}
	return false;
}

bool lsec_audit__secret_key(const char *key)
{
	for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
		if (contains_ci(key, secret_words[i])) {
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++) {
		if (has_part_ci(key, secret_parts[i])) {
			return true;
		}
	}
	return false;
}

/* Walks evidence; path names where a refused value was found. */
static int screen(const json_t *j, const char *path, unsigned depth, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(depth < 16, LSEC_E_AUDIT_LEAF_FORMAT,
		    "cannot record evidence: nested deeper than 16 levels at '%s'", path);
	if (json_is_string(j)) {
		LSEC_ENSURE(!contains_ci(json_string_value(j), "PRIVATE KEY"), LSEC_E_AUDIT_SECRET,
			    "cannot record evidence '%s': it holds a private key", path);
	} else if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v) /* jansson iterates non-const */
		{
			LSEC_ENSURE(!lsec_audit__secret_key(k), LSEC_E_AUDIT_SECRET,
				    "cannot record evidence '%s.%s': the key names a secret, and "
				    "secrets never go into the audit log",
				    path, k);
			LSEC_TRY(screen(v, k, depth + 1, err));
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			LSEC_TRY(screen(v, path, depth + 1, err));
		}
	}
out:
	return rc;
}

/* Sets key to the string s unless s is NULL. */
static int set_str(json_t *o, const char *key, const char *s, lsec_err *err)
{
	int rc = 0;
	if (s == NULL) {
		return 0;
	}
	json_t *v = json_string(s);
	LSEC_ENSURE(v != NULL, LSEC_E_AUDIT_LEAF_FORMAT,
		    "cannot record event: field '%s' is not valid UTF-8", key);
	LSEC_TRY(lsec_json_set(o, key, v, err));
out:
	return rc;
}

int lsec_audit_leaf_build(char **out, const lsec_audit_event *ev, uint64_t seq,
			  const char *time_utc, lsec_err *err)
{
	int rc = 0;
	json_t *o = NULL;
	char now[32];
	*out = NULL;
	LSEC_ENSURE_REF(ev);
	LSEC_ENSURE(ev->person != NULL && ev->person[0] != 0, LSEC_E_AUDIT_NO_PERSON,
		    "cannot record event '%s': no person is named, and every event needs one",
		    ev->action != NULL ? ev->action : "(no action)");
	LSEC_ENSURE(seq <= (uint64_t)INT64_MAX, LSEC_E_LIMIT,
		    "cannot record event: sequence number %llu too large", (unsigned long long)seq);
	if (time_utc == NULL) {
		lsec_time_utc(now);
		time_utc = now;
	}
	LSEC_ENSURE((o = json_object()) != NULL, LSEC_E_NOMEM, "cannot record event: out of memory");
	LSEC_TRY(set_str(o, "person", ev->person, err));
	LSEC_TRY(set_str(o, "station", ev->station, err));
	LSEC_TRY(set_str(o, "unit", ev->unit, err));
	LSEC_TRY(set_str(o, "sop", ev->sop, err));
	LSEC_TRY(set_str(o, "step", ev->step, err));
	LSEC_TRY(set_str(o, "action", ev->action, err));
	LSEC_TRY(set_str(o, "outcome", ev->outcome, err));
	LSEC_TRY(set_str(o, "time", time_utc, err));
	if (ev->sop_version != 0) {
		LSEC_TRY(lsec_json_set(o, "sop_version", json_integer(ev->sop_version), err));
	}
	LSEC_TRY(lsec_json_set(o, "seq", json_integer((json_int_t)seq), err));
	LSEC_TRY(lsec_json_set(o, "v", json_integer(1), err));
	if (ev->evidence != NULL) {
		LSEC_ENSURE(json_is_object(ev->evidence), LSEC_E_AUDIT_LEAF_FORMAT,
			    "cannot record event '%s': evidence must be a JSON object",
			    ev->action != NULL ? ev->action : "(no action)");
		LSEC_TRY(screen(ev->evidence, "evidence", 0, err));
		/* A deep copy: the leaf must not change if the caller's object does. */
		json_t *copy = json_deep_copy(ev->evidence);
		LSEC_ENSURE(copy != NULL && json_object_set_new(o, "evidence", copy) == 0,
			    LSEC_E_NOMEM, "cannot record event: out of memory");
	}
	LSEC_TRY(lsec_json_canonical(out, o, err));
	LSEC_ENSURE(strlen(*out) <= LSEC_AUDIT_LEAF_MAX, LSEC_E_LIMIT,
		    "cannot record event: the leaf is %zu bytes, at most %u allowed", strlen(*out),
		    (unsigned)LSEC_AUDIT_LEAF_MAX);
out:
	if (rc < 0 && *out != NULL) {
		lsec_free(*out);
		*out = NULL;
	}
	json_decref(o);
	return rc;
}

int lsec_audit__unit_check(uint64_t seq, const char *column, const char *named, size_t named_len,
			   lsec_err *err)
{
	size_t clen = column != NULL ? strlen(column) : 0;
	bool same = named == NULL ? clen == 0
				  : clen == named_len &&
					    memcmp(column, named, clen) == 0; /* lint:ok: public text */
	if (same) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_AUDIT_INDEX, __FILE__, __LINE__,
			    "registry table audit_leaves files leaf %llu under unit '%s', but the "
			    "signed leaf names unit '%.*s': the registry was changed outside linesec",
			    (unsigned long long)seq, clen != 0 ? column : "(none)",
			    named != NULL ? (int)named_len : 6, named != NULL ? named : "(none)");
}

int lsec_audit__action_check(uint64_t seq, const char *column, const char *named,
			     size_t named_len, lsec_err *err)
{
	size_t clen = column != NULL ? strlen(column) : 0;
	bool hinted = named != NULL && named_len <= LSEC_STORE_NAME_MAX;
	for (size_t i = 0; hinted && i < named_len; i++) {
		hinted = (uint8_t)named[i] >= 0x20 && named[i] != '"' && named[i] != '\\';
	}
	bool same = !hinted ? clen == 0
			    : clen == named_len &&
				      memcmp(column, named, clen) == 0; /* lint:ok: public text */
	if (same) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_AUDIT_INDEX, __FILE__, __LINE__,
			    "registry table audit_leaves files leaf %llu under action '%s', but the "
			    "signed leaf names action '%.*s': the registry was changed outside "
			    "linesec (a leaf filed under another action is hidden from the decisions "
			    "that look for it)",
			    (unsigned long long)seq, clen != 0 ? column : "(none)",
			    named != NULL ? (int)named_len : 6, named != NULL ? named : "(none)");
}

int lsec_audit_leaf_check_unit(const uint8_t *leaf, size_t len, uint64_t seq, const char *unit,
			       lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL;
	lsec_audit__leaf_fields f;
	LSEC_ENSURE_REF(leaf);
	LSEC_ENSURE_REF(unit);
	/* The strict scanner reads the unit without a JSON tree; anything odd takes the full parse. */
	if (lsec_audit__leaf_scan(&f, leaf, len)) {
		rc = lsec_audit__unit_check(seq, unit, (const char *)f.unit, f.unit_len, err);
		goto out;
	}
	j = json_loadb((const char *)leaf, len, JSON_REJECT_DUPLICATES, NULL);
	LSEC_ENSURE(json_is_object(j), LSEC_E_AUDIT_LEAF_FORMAT,
		    "audit leaf %llu is not a JSON object", (unsigned long long)seq);
	const char *named = json_string_value(json_object_get(j, "unit"));
	rc = lsec_audit__unit_check(seq, unit, named, named != NULL ? strlen(named) : 0, err);
out:
	json_decref(j);
	return rc;
}
