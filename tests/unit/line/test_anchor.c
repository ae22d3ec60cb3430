/* The anchor (anchor.json), the checkpoint folder and verification against both. */
#include "line/line_fixture.h"
#include "linesec/audit.h"
#include "linesec/pki.h"
#include "store/store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

/* Signs a checkpoint through the line as its station; returns its tree size. */
static uint64_t sign(line_fx *fx)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = NULL;
	char *note = NULL;
	lsec_audit_checkpoint cp;
	assert_lsec_ok(lsec_key_load_private(&key, lsec_line_station_key_path(fx->line), NULL, &err),
		       &err);
	assert_lsec_ok(lsec_line_checkpoint(&note, fx->line, lsec_key_evp(key), "admin", &err),
		       &err);
	assert_lsec_ok(lsec_audit_checkpoint_parse(&cp, note, strlen(note), &err), &err);
	lsec_free(note);
	lsec_key_free(key);
	return cp.size;
}

/* Appends one leaf (a login) so the next checkpoint covers more. */
static void grow(line_fx *fx)
{
	fx_login(fx, "admin", "admin-password");
}

static lsec_line_verify_report verify(line_fx *fx, const char *against, int want)
{
	lsec_err err = LSEC_ERR_INIT;
	struct evp_pkey_st **pubs = NULL;
	size_t n = 0;
	lsec_line_verify_report rep;
	assert_lsec_ok(lsec_audit_pubkeys_load(&pubs, &n, lsec_line_station_pub_path(fx->line),
					       &err),
		       &err);
	int rc = lsec_line_audit_verify(&rep, fx->line, (const struct evp_pkey_st *const *)pubs, n,
					against, &err);
	if (want == 0) {
		assert_lsec_ok(rc, &err);
	} else {
		assert_lsec_code(rc, want, &err);
	}
	lsec_audit_pubkeys_free(pubs, n);
	return rep;
}

static char *note_path(line_fx *fx, uint64_t size)
{
	char name[64];
	snprintf(name, sizeof(name), "checkpoints/%llu.note", (unsigned long long)size);
	return lsec_test_path(fx->dir, name);
}

static void test_line_anchor__init_anchors_the_registry(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char id[LSEC_STORE_ID_LEN + 1];
	lsec_buf text = LSEC_BUF_INIT(1 << 16);
	char *path = lsec_test_path(fx->dir, LSEC_LINE_ANCHOR);
	assert_lsec_ok(lsec_store_registry_id(id, lsec_line_store(fx->line), &err), &err);
	assert_int_equal(strlen(id), LSEC_STORE_ID_LEN);
	assert_lsec_ok(lsec_file_read(&text, path, &err), &err);
	assert_lsec_ok(lsec_buf_cstr(&text, &err) != NULL ? 0 : -1, &err);
	assert_non_null(strstr((const char *)text.data, id));
	assert_null(strstr((const char *)text.data, "checkpoint"));
	/* A second anchor is never made over the first. */
	assert_lsec_code(lsec_line_anchor_create(fx->dir, lsec_line_store(fx->line), &err),
			 LSEC_E_EXISTS, &err);
	lsec_buf_release(&text);
	lsec_free(path);
}

static void test_line_anchor__another_registry_is_refused(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_test_db *other = lsec_test_db_new();
	lsec_store *st = NULL;
	/* A valid registry of another init: its own id. */
	assert_lsec_ok(lsec_store_create(&st, other->location, &err), &err);
	assert_lsec_code(lsec_line_anchor_check(st, fx->dir, &err), LSEC_E_STORE_ANCHOR, &err);
	assert_non_null(strstr(err.msg, "is not this line's"));
	assert_non_null(strstr(err.msg, "restore this line's registry from its backup"));
	/* Its identity row deleted: refused too. */
	assert_lsec_ok(lsec_store__query(st, "DELETE FROM registry_identity", NULL, 0, NULL, NULL,
					 &err),
		       &err);
	assert_lsec_code(lsec_line_anchor_check(st, fx->dir, &err), LSEC_E_STORE_MISSING, &err);
	lsec_store_close(st);
	lsec_test_db_free(other);
	/* The line's own registry passes. */
	assert_lsec_ok(lsec_line_anchor_check(lsec_line_store(fx->line), fx->dir, &err), &err);
}

static void test_line_anchor__missing_anchor_is_refused(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *again = NULL;
	char *path = lsec_test_path(fx->dir, LSEC_LINE_ANCHOR);
	char *moved = lsec_test_path(fx->dir, "anchor.bak");
	assert_int_equal(rename(path, moved), 0);
	assert_lsec_code(lsec_line_open(&again, fx->dir, &err), LSEC_E_STORE_ANCHOR, &err);
	assert_non_null(strstr(err.msg, "has no anchor.json"));
	assert_null(again);
	assert_int_equal(rename(moved, path), 0);
	assert_lsec_ok(lsec_line_open(&again, fx->dir, &err), &err);
	lsec_line_close(again);
	lsec_free(path);
	lsec_free(moved);
}

static void test_line_anchor__checkpoint_is_exported_and_anchored(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t s1 = sign(fx);
	grow(fx);
	uint64_t s2 = sign(fx);
	assert_true(s2 > s1);
	char *p1 = note_path(fx, s1), *p2 = note_path(fx, s2);
	assert_int_equal(access(p1, F_OK), 0);
	assert_int_equal(access(p2, F_OK), 0);
	lsec_line_verify_report rep = verify(fx, NULL, 0);
	assert_true(rep.anchored);
	assert_int_equal(rep.anchored_size, s2);
	char *folder = lsec_test_path(fx->dir, "checkpoints");
	rep = verify(fx, folder, 0);
	assert_int_equal(rep.exported, 2);
	rep = verify(fx, p1, 0);
	/* An exported note is never replaced by another one. */
	assert_lsec_ok(lsec_file_write_atomic(p1, "other\n", 6, 0644, &err), &err);
	assert_lsec_code(lsec_audit_checkpoint_parse(&rep.log.latest, "other\n", 6, &err),
			 LSEC_E_AUDIT_NOTE, &err);
	verify(fx, folder, LSEC_E_AUDIT_NOTE);
	/* A deleted exported note is reported. */
	assert_int_equal(unlink(p1), 0);
	verify(fx, folder, LSEC_E_AUDIT_NO_CHECKPOINT);
	lsec_free(folder);
	lsec_free(p1);
	lsec_free(p2);
}

static void test_line_anchor__anchor_behind_registry_opens(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = NULL;
	lsec_line *again = NULL;
	sign(fx);
	grow(fx);
	/* A crash after the registry committed, before the anchor moved. */
	assert_lsec_ok(lsec_key_load_private(&key, lsec_line_station_key_path(fx->line), NULL, &err),
		       &err);
	assert_lsec_ok(lsec_audit_checkpoint_create(NULL, lsec_line_store(fx->line),
						    lsec_line_id(fx->line), lsec_line_station(fx->line),
						    lsec_key_evp(key), "admin", &err),
		       &err);
	assert_lsec_ok(lsec_line_open(&again, fx->dir, &err), &err);
	lsec_line_close(again);
	/* The next checkpoint anchors again. */
	uint64_t s = sign(fx);
	lsec_line_verify_report rep = verify(fx, NULL, 0);
	assert_int_equal(rep.anchored_size, s);
	lsec_key_free(key);
}

static void test_line_anchor__older_or_rewritten_registry_is_refused(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(fx->line);
	grow(fx);
	uint64_t s = sign(fx);
	/* Cut back below the anchored checkpoint (an older copy put back). */
	store_val p[] = {SV_I(s - 1)};
	assert_lsec_ok(lsec_store__query(st, "DELETE FROM audit_leaves WHERE seq >= ?", p, 1, NULL,
					 NULL, &err),
		       &err);
	assert_lsec_code(lsec_line_anchor_check(st, fx->dir, &err), LSEC_E_STORE_ANCHOR, &err);
	assert_non_null(strstr(err.msg, "older than the last checkpoint this station signed"));
	char want[64];
	snprintf(want, sizeof(want), "checkpoint of %llu leaves", (unsigned long long)s);
	assert_non_null(strstr(err.msg, want));
	verify(fx, NULL, LSEC_E_AUDIT_TRUNCATED);
}

static void test_line_anchor__rewritten_checkpoint_is_refused(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_line_store(fx->line);
	uint64_t s = sign(fx);
	uint8_t zero[32] = {0};
	store_val p[] = {SV_B(zero, 32), SV_I(s)};
	assert_lsec_ok(lsec_store__query(st, "UPDATE checkpoints SET root_hash = ? WHERE tree_size = ?",
					 p, 2, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_line_anchor_check(st, fx->dir, &err), LSEC_E_STORE_ANCHOR, &err);
	assert_non_null(strstr(err.msg, "was rewritten"));
	store_val q[] = {SV_I(s)};
	assert_lsec_ok(lsec_store__query(st, "DELETE FROM checkpoints WHERE tree_size = ?", q, 1,
					 NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_line_anchor_check(st, fx->dir, &err), LSEC_E_STORE_ANCHOR, &err);
	assert_non_null(strstr(err.msg, "holds no checkpoint"));
}

static void test_line_anchor__note_of_another_line_is_reported(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = NULL;
	char *note = NULL;
	lsec_audit_checkpoint cp;
	sign(fx);
	/* Signed by this station's key, but for the log of line "line2". */
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "linesec/line2");
	cp.size = 1;
	assert_lsec_ok(lsec_key_load_private(&key, lsec_line_station_key_path(fx->line), NULL, &err),
		       &err);
	assert_lsec_ok(lsec_audit_checkpoint_sign(&note, &cp, lsec_line_station(fx->line),
						  lsec_key_evp(key), &err),
		       &err);
	char *folder = lsec_test_path(fx->dir, "checkpoints");
	char *path = lsec_test_path(fx->dir, "checkpoints/line2-1.checkpoint");
	assert_lsec_ok(lsec_file_write_atomic(path, note, strlen(note), 0644, &err), &err);
	verify(fx, folder, LSEC_E_AUDIT_SIGNATURE);
	lsec_free(folder);
	lsec_free(path);
	lsec_free(note);
	lsec_key_free(key);
}

static void test_line_anchor__read_only_open(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_line *ro = NULL;
	sign(fx);
	lsec_line_close(fx->line);
	fx->line = NULL;
	assert_lsec_ok(lsec_line_open_read_only(&ro, fx->dir, &err), &err);
	fx->line = ro;
	lsec_line_verify_report rep = verify(fx, NULL, 0);
	assert_true(rep.anchored);
	if (lsec_test_current_backend == LSEC_TEST_SQLITE) {
		/* Nothing is written through a read-only line (the file is opened immutable). */
		lsec_secret *pw = fx_pw("admin-password");
		assert_true(lsec_line_login(fx->line, "admin", pw, &err) < 0);
		lsec_secret_free(pw);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, line_fx_setup, line_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_line_anchor__init_anchors_the_registry),
		T(test_line_anchor__another_registry_is_refused),
		T(test_line_anchor__missing_anchor_is_refused),
		T(test_line_anchor__checkpoint_is_exported_and_anchored),
		T(test_line_anchor__anchor_behind_registry_opens),
		T(test_line_anchor__older_or_rewritten_registry_is_refused),
		T(test_line_anchor__rewritten_checkpoint_is_refused),
		T(test_line_anchor__note_of_another_line_is_reported),
		T(test_line_anchor__read_only_open),
	};
	return lsec_test_run_backends("line/anchor", tests, sizeof(tests) / sizeof(tests[0]));
}
