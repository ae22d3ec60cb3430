/*
 * verified.c - what this station verified last (verified.json in the line
 * folder, next to anchor.json), so `linesec audit verify` costs what came
 * since.
 *
 * verified.json (canonical JSON, 0644, replaced atomically):
 *     {"format":"linesec-verified/1","registry":"<registry id>",
 *      "root":"<hex>","signature":"<hex>","state":[<replayed rows>],
 *      "station":"<station id>","tree_size":N}
 * "state" is the state the first N leaves replay to (as
 * lsec_audit_state_verify_from returns it). "signature" is the station's
 * Ed25519 signature over the canonical JSON of the other fields: the
 * registry's writers have no station key, so they cannot make or change a
 * record unseen, and a record of another registry is refused.
 *
 * @test tests/unit/line/test_verified.c, tests/e2e/test_tamper_verify.sh
 */
#include "line/line_int.h"

#include "linesec/audit.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

#define VERIFIED_FORMAT "linesec-verified/1"
/* Largest record read back (bytes). */
#define VERIFIED_MAX ((size_t)1 << 30)

typedef struct record {
	bool has;
	lsec_audit_checkpoint at; /* size and root; origin unused */
	char *state;              /* canonical JSON text (lsec_free) */
} record;

static char *verified_path(const lsec_line *line)
{
	return lsec_asprintf("%s/%s", line->dir, LSEC_LINE_VERIFIED);
}

/* The bytes the signature covers: the record without its signature, canonical. */
static int signed_text(char **out, json_t *j, lsec_err *err)
{
	int rc = 0;
	json_t *copy = json_copy(j);
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	json_object_del(copy, "signature");
	LSEC_TRY(lsec_json_canonical(out, copy, err));
out:
	json_decref(copy);
	return rc;
}

/*
 * Reads the record and checks it: signed by key, of this registry, well
 * formed. A missing file is no record (out->has false), not an error.
 */
static int record_read(record *out, lsec_line *line, const struct evp_pkey_st *key,
		       lsec_err *err)
{
	int rc = 0;
	char *path = verified_path(line), *text = NULL;
	char reg[LSEC_STORE_ID_LEN + 1];
	lsec_buf file = LSEC_BUF_INIT(VERIFIED_MAX);
	lsec_buf sig = LSEC_BUF_INIT(256);
	json_t *j = NULL;
	bool ok = false;
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	if (access(path, F_OK) != 0) {
		goto out;
	}
	LSEC_TRY(lsec_file_read(&file, path, err));
	LSEC_TRY(lsec_json_parse(&j, file.data ? (const char *)file.data : "", file.len, path,
				 err));
	const char *format = json_string_value(json_object_get(j, "format"));
	const char *hex = json_string_value(json_object_get(j, "signature"));
	LSEC_ENSURE(format != NULL && strcmp(format, VERIFIED_FORMAT) == 0 && hex != NULL,
		    LSEC_E_PARSE, "cannot read '%s': format must be '" VERIFIED_FORMAT
		    "' with a signature (run 'linesec audit verify --full' to verify from "
		    "scratch and record it anew)", path);
	LSEC_TRY(lsec_hex_decode(&sig, hex, strlen(hex), "signature", err));
	LSEC_TRY(signed_text(&text, j, err));
	LSEC_TRY(lsec_evp_verify(&ok, key, NULL, (const uint8_t *)text, strlen(text), sig.data,
				 sig.len, "cannot check what this station verified last", err));
	LSEC_ENSURE(ok, LSEC_E_AUDIT_SIGNATURE,
		    "'%s' (what this station verified last) is not signed by this station's key: "
		    "it was changed or swapped; run 'linesec audit verify --full' to verify from "
		    "scratch and record it anew",
		    path);
	const char *r = json_string_value(json_object_get(j, "registry"));
	const char *root = json_string_value(json_object_get(j, "root"));
	const json_t *size = json_object_get(j, "tree_size"), *state = json_object_get(j, "state");
	LSEC_TRY(lsec_store_registry_id(reg, line->st, err));
	LSEC_ENSURE(r != NULL && strcmp(r, reg) == 0, LSEC_E_STORE_ANCHOR,
		    "'%s' records what was verified of registry '%s', not of this registry ('%s'): "
		    "run 'linesec audit verify --full'",
		    path, r != NULL ? r : "(none)", reg);
	LSEC_ENSURE(json_is_integer(size) && json_integer_value(size) >= 0 && root != NULL &&
			    json_is_array(state),
		    LSEC_E_PARSE, "cannot read '%s': tree_size, root and state are required", path);
	LSEC_TRY(lsec_hex_decode_fixed(out->at.root, 32, root, "root", err));
	out->at.size = (uint64_t)json_integer_value(size);
	LSEC_TRY(lsec_json_canonical(&out->state, state, err));
	out->has = true;
out:
	if (rc < 0) {
		lsec_free(out->state);
		memset(out, 0, sizeof(*out));
	}
	json_decref(j);
	lsec_free(text);
	lsec_free(path);
	lsec_buf_release(&file);
	lsec_buf_release(&sig);
	return rc;
}

/* Replaces the record with the state of the first size leaves, whose root is root. */
static int record_write(lsec_line *line, const struct evp_pkey_st *key, uint64_t size,
			const uint8_t root[32], const char *state, lsec_err *err)
{
	int rc = 0;
	char *path = verified_path(line), *text = NULL, *hex_sig = NULL;
	char reg[LSEC_STORE_ID_LEN + 1], hex[65];
	lsec_buf sig = LSEC_BUF_INIT(256);
	json_t *j = NULL, *st = NULL;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_registry_id(reg, line->st, err));
	LSEC_TRY(lsec_json_parse(&st, state, strlen(state), "the replayed state", err));
	lsec_hex_encode(hex, root, 32);
	j = json_pack("{s:s,s:s,s:s,s:O,s:s,s:I}", "format", VERIFIED_FORMAT, "registry", reg,
		      "root", hex, "state", st, "station", line->station, "tree_size",
		      (json_int_t)size);
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(signed_text(&text, j, err));
	LSEC_TRY(lsec_evp_sign(&sig, key, NULL, (const uint8_t *)text, strlen(text),
			       "cannot sign what this station verified", err));
	LSEC_ENSURE((hex_sig = lsec_calloc(1, 2 * sig.len + 1)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	lsec_hex_encode(hex_sig, sig.data, sig.len);
	LSEC_TRY(lsec_json_set(j, "signature", json_string(hex_sig), err));
	lsec_free(text);
	text = NULL;
	LSEC_TRY(lsec_json_canonical(&text, j, err));
	LSEC_TRY(lsec_file_write_atomic(path, text, strlen(text), 0644, err));
out:
	json_decref(j);
	json_decref(st);
	lsec_free(text);
	lsec_free(hex_sig);
	lsec_free(path);
	lsec_buf_release(&sig);
	return rc;
}

int lsec_line_verify(lsec_line_verify_report *out, lsec_audit_state_report *state,
		     lsec_line *line, const struct evp_pkey_st *const *pubs, size_t npubs,
		     const lsec_line_verify_options *opts, lsec_err *err)
{
	int rc = 0, state_rc = 0;
	record r;
	char *next = NULL;
	lsec_err e = LSEC_ERR_INIT;
	memset(&r, 0, sizeof(r));
	LSEC_ENSURE_REF(out);
	LSEC_ENSURE_REF(state);
	memset(out, 0, sizeof(*out));
	memset(state, 0, sizeof(*state));
	LSEC_ENSURE_REF(line);
	LSEC_ENSURE_REF(opts);
	LSEC_ENSURE(opts->version == 1, LSEC_E_USAGE, "unsupported lsec_line_verify_options v%u",
		    opts->version);
	if (opts->key != NULL && !opts->full) {
		LSEC_TRY(record_read(&r, line, opts->key, err));
	}
	const lsec_audit_checkpoint *since = r.has ? &r.at : NULL;
	rc = lsec_line__audit_verify(out, line, pubs, npubs, opts->against, since, &e);
	if (rc == LSEC_E_AUDIT_ROOT && since != NULL) {
		/* A leaf verified before was changed: the walk from scratch names it. */
		rc = lsec_line__audit_verify(out, line, pubs, npubs, opts->against, NULL, err);
		LSEC_TRY(rc);
		LSEC_BAIL(LSEC_E_AUDIT_ROOT,
			  "the first %llu leaves no longer have the root this station verified (%s), "
			  "yet every leaf verifies: the log was rewritten under a station key, or "
			  "this is another copy of the registry",
			  (unsigned long long)since->size, LSEC_LINE_VERIFIED);
	}
	if (rc < 0) {
		*err = e;
		goto out;
	}
	out->since = since != NULL ? since->size : 0;
	state_rc = lsec_audit_state_verify_from(state, opts->key != NULL ? &next : NULL,
						line->st, out->since, r.state,
						r.state != NULL ? strlen(r.state) : 0, err);
	LSEC_TRY(state_rc == LSEC_E_AUDIT_STATE ? 0 : state_rc);
	/* Remembered only when the replay is of the very leaves the walk verified. */
	if (next != NULL && state->tree_size == out->log.leaves) {
		LSEC_TRY(record_write(line, opts->key, out->log.leaves, out->log.root, next, err));
		out->remembered = true;
	}
	rc = state_rc;
out:
	lsec_free(r.state);
	lsec_free(next);
	return rc;
}
