/* What the station verified last (verified.json): resuming from it, and refusing a bad one. */
#include "line/line_fixture.h"
#include "linesec/audit.h"
#include "linesec/pki.h"
#include "store/store_int.h"

#include <stdio.h>

typedef struct verify_fx {
	line_fx line;
	lsec_key *key; /* the station's key */
} verify_fx;

static int setup(void **state)
{
	lsec_err err = LSEC_ERR_INIT;
	void *inner = NULL;
	line_fx_setup(&inner);
	verify_fx *fx = lsec_calloc(1, sizeof(*fx));
	fx->line = *(line_fx *)inner;
	lsec_free(inner);
	assert_lsec_ok(lsec_key_load_private(&fx->key, lsec_line_station_key_path(fx->line.line),
					     NULL, &err),
		       &err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	verify_fx *fx = *state;
	lsec_key_free(fx->key);
	line_fx *inner = lsec_calloc(1, sizeof(*inner));
	*inner = fx->line;
	lsec_free(fx);
	void *p = inner;
	return line_fx_teardown(&p);
}

/* lsec_line_verify of line with key (NULL: nothing kept); want is the expected code. */
static lsec_line_verify_report verify(lsec_line *line, const lsec_key *key, bool full, int want)
{
	lsec_err err = LSEC_ERR_INIT;
	struct evp_pkey_st **pubs = NULL;
	size_t n = 0;
	lsec_line_verify_report rep;
	lsec_audit_state_report st;
	lsec_line_verify_options o = LSEC_LINE_VERIFY_OPTIONS_INIT;
	o.key = key != NULL ? lsec_key_evp(key) : NULL;
	o.full = full;
	assert_lsec_ok(lsec_audit_pubkeys_load(&pubs, &n, lsec_line_station_pub_path(line), &err),
		       &err);
	int rc = lsec_line_verify(&rep, &st, line, (const struct evp_pkey_st *const *)pubs, n, &o,
				  &err);
	if (want == 0) {
		assert_lsec_ok(rc, &err);
	} else {
		assert_lsec_code(rc, want, &err);
	}
	lsec_audit_state_report_release(&st);
	lsec_audit_pubkeys_free(pubs, n);
	return rep;
}

static void grow(verify_fx *fx)
{
	fx_login(&fx->line, "admin", "admin-password");
}

static char *record_path(verify_fx *fx)
{
	return lsec_test_path(fx->line.dir, LSEC_LINE_VERIFIED);
}

/* Replaces the first `from` in the record's text with `to` (same length or not). */
static void record_edit(verify_fx *fx, const char *from, const char *to)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf text = LSEC_BUF_INIT(1 << 20);
	char *path = record_path(fx);
	assert_lsec_ok(lsec_file_read(&text, path, &err), &err);
	assert_non_null(lsec_buf_cstr(&text, &err));
	char *at = strstr((char *)text.data, from);
	assert_non_null(at);
	char *edited = lsec_asprintf("%.*s%s%s", (int)(at - (char *)text.data),
				     (const char *)text.data, to, at + strlen(from));
	assert_lsec_ok(lsec_file_write_atomic(path, edited, strlen(edited), 0644, &err), &err);
	lsec_free(edited);
	lsec_free(path);
	lsec_buf_release(&text);
}

static void test_verified__resumes_where_it_stopped(void **state)
{
	verify_fx *fx = *state;
	lsec_line_verify_report rep = verify(fx->line.line, fx->key, false, 0);
	assert_int_equal(rep.since, 0);
	assert_true(rep.remembered);
	uint64_t first = rep.log.leaves;
	grow(fx);
	grow(fx);
	rep = verify(fx->line.line, fx->key, false, 0);
	assert_int_equal(rep.since, first);
	assert_int_equal(rep.log.leaves, first + 2);
	/* --full walks everything again; without a key nothing is kept or read. */
	rep = verify(fx->line.line, fx->key, true, 0);
	assert_int_equal(rep.since, 0);
	rep = verify(fx->line.line, NULL, false, 0);
	assert_int_equal(rep.since, 0);
	assert_false(rep.remembered);
}

static void test_verified__row_changed_since_is_named(void **state)
{
	verify_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	struct evp_pkey_st **pubs = NULL;
	size_t n = 0;
	lsec_line_verify_report rep;
	lsec_audit_state_report st;
	lsec_line_verify_options o = LSEC_LINE_VERIFY_OPTIONS_INIT;
	(void)verify(fx->line.line, fx->key, false, 0);
	grow(fx);
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line.line),
					 "UPDATE people SET disabled = 1 WHERE name = 'admin'", NULL,
					 0, NULL, NULL, &err),
		       &err);
	o.key = lsec_key_evp(fx->key);
	assert_lsec_ok(lsec_audit_pubkeys_load(&pubs, &n, lsec_line_station_pub_path(fx->line.line),
					       &err),
		       &err);
	assert_lsec_code(lsec_line_verify(&rep, &st, fx->line.line,
					  (const struct evp_pkey_st *const *)pubs, n, &o, &err),
			 LSEC_E_AUDIT_STATE, &err);
	assert_true(rep.since > 0);
	assert_int_equal(st.ndiffs, 1);
	assert_string_equal(st.diffs[0].table, "people");
	assert_string_equal(st.diffs[0].key, "admin");
	assert_string_equal(st.diffs[0].column, "disabled");
	lsec_audit_state_report_release(&st);
	lsec_audit_pubkeys_free(pubs, n);
}

static void test_verified__rewritten_old_leaf_is_named(void **state)
{
	verify_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	(void)verify(fx->line.line, fx->key, false, 0);
	grow(fx);
	/* Leaf 0's bytes and hash replaced by leaf 1's: consistent, but not signed for 0. */
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line.line),
					 "UPDATE audit_leaves SET leaf = (SELECT leaf FROM audit_leaves "
					 "WHERE seq = 1), leaf_hash = (SELECT leaf_hash FROM "
					 "audit_leaves WHERE seq = 1) WHERE seq = 0",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	(void)verify(fx->line.line, fx->key, false, LSEC_E_AUDIT_LEAF_HASH);
}

static void test_verified__tampered_record_is_refused(void **state)
{
	verify_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	(void)verify(fx->line.line, fx->key, false, 0);
	grow(fx);
	/* The kept state changed (an officer no longer in it): the signature fails. */
	record_edit(fx, "security-officer", "operator");
	(void)verify(fx->line.line, fx->key, false, LSEC_E_AUDIT_SIGNATURE);
	/* --full ignores it and records anew; then it resumes again. */
	(void)verify(fx->line.line, fx->key, true, 0);
	lsec_line_verify_report rep = verify(fx->line.line, fx->key, false, 0);
	assert_true(rep.since > 0);
	(void)err;
}

static void test_verified__record_of_another_key_is_refused(void **state)
{
	verify_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *other = NULL;
	assert_lsec_ok(lsec_key_generate(&other, LSEC_KEY_ED25519, &err), &err);
	/* Someone with another key swaps the record in: refused. */
	(void)verify(fx->line.line, other, false, 0);
	(void)verify(fx->line.line, fx->key, false, LSEC_E_AUDIT_SIGNATURE);
	lsec_key_free(other);
}

static void test_verified__record_of_another_registry_is_refused(void **state)
{
	verify_fx *fx = *state;
	void *p = NULL;
	lsec_err err = LSEC_ERR_INIT;
	line_fx_setup(&p);
	line_fx *two = p;
	/* The same station key records what it verified of another line's registry. */
	(void)verify(two->line, fx->key, false, 0);
	char *from = lsec_test_path(two->dir, LSEC_LINE_VERIFIED), *to = record_path(fx);
	assert_int_equal(rename(from, to), 0);
	(void)verify(fx->line.line, fx->key, false, LSEC_E_STORE_ANCHOR);
	lsec_free(from);
	lsec_free(to);
	line_fx_teardown(&p);
	(void)err;
}

static void test_verified__stale_record_is_refused(void **state)
{
	verify_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	grow(fx);
	(void)verify(fx->line.line, fx->key, false, 0);
	/* The registry lost leaves the record says were verified. */
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line.line),
					 "DELETE FROM audit_leaves WHERE seq = (SELECT MAX(seq) FROM "
					 "audit_leaves)",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	(void)verify(fx->line.line, fx->key, false, LSEC_E_AUDIT_TRUNCATED);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_verified__resumes_where_it_stopped),
		T(test_verified__row_changed_since_is_named),
		T(test_verified__rewritten_old_leaf_is_named),
		T(test_verified__tampered_record_is_refused),
		T(test_verified__record_of_another_key_is_refused),
		T(test_verified__record_of_another_registry_is_refused),
		T(test_verified__stale_record_is_refused),
	};
	return lsec_test_run_backends("line/verified", tests, sizeof(tests) / sizeof(tests[0]));
}
