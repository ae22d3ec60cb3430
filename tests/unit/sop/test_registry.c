/*
 * SOP versions in the registry, on both backends: submit, approve by two
 * security officers who are not the submitter, fetch only approved
 * versions with their SHA-256, tampering caught, history rendered, diff,
 * audit leaves written with each change.
 */
#include "helpers/store_fixture.h"

#include "linesec/audit.h"
#include "linesec/sop.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static char *read_default(const char *kind, size_t *len)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "sops/%s.yaml", kind);
	return lsec_test_source(rel, len);
}

static void people(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	static const char hash[] = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
	assert_lsec_ok(lsec_store_person_add(st, "sam", LSEC_ROLE_SUPERVISOR, hash, &err), &err);
	assert_lsec_ok(lsec_store_person_add(st, "olga", LSEC_ROLE_SECURITY_OFFICER, hash, &err), &err);
	assert_lsec_ok(lsec_store_person_add(st, "otto", LSEC_ROLE_SECURITY_OFFICER, hash, &err), &err);
	assert_lsec_ok(lsec_store_person_add(st, "opal", LSEC_ROLE_OPERATOR, hash, &err), &err);
}

static void test_sop_registry__submit_approve_fetch(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	people(db->st);
	size_t len = 0;
	char *text = read_default("flash", &len);
	lsec_actor sam = {"sam", "st-1"}, olga = {"olga", "st-1"}, otto = {"otto", "st-1"},
		       opal = {"opal", "st-1"};
	lsec_sop *sop = NULL;
	uint64_t leaves0 = 0, leaves1 = 0;
	assert_lsec_ok(lsec_store_leaf_count(&leaves0, db->st, &err), &err);

	/* an operator may not submit */
	assert_lsec_code(lsec_sop_submit(NULL, db->st, &opal, LSEC_ROLE_OPERATOR, (const uint8_t *)text, len, "flash.yaml",
					 &err),
			 LSEC_E_AUTH, &err);
	assert_lsec_ok(lsec_sop_submit(&sop, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)text, len, "flash.yaml",
				       &err),
		       &err);
	assert_int_equal(lsec_sop_version(sop), 1);
	assert_lsec_ok(lsec_store_leaf_count(&leaves1, db->st, &err), &err);
	assert_int_equal(leaves1, leaves0 + 1);
	/* the same version again is refused */
	assert_lsec_code(lsec_sop_submit(NULL, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)text, len, "flash.yaml",
					 &err),
			 LSEC_E_EXISTS, &err);

	/* not approved: the station gets nothing */
	lsec_sop *run = NULL;
	assert_lsec_code(lsec_sop_fetch_approved(&run, db->st, LSEC_SOP_FLASH, &err),
			 LSEC_E_SOP_NOT_APPROVED, &err);
	assert_null(run);

	/* the submitter cannot approve; an operator cannot; a supervisor cannot */
	assert_lsec_code(lsec_sop_approve(db->st, &sam, LSEC_ROLE_SUPERVISOR, "flash", 1, &err), LSEC_E_AUTH, &err);
	assert_lsec_code(lsec_sop_approve(db->st, &opal, LSEC_ROLE_OPERATOR, "flash", 1, &err), LSEC_E_AUTH, &err);
	/* the role is the one the caller proved, never the people row: raised by SQL, still refused */
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE people SET role = 'security-officer' WHERE name = 'opal'",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_sop_approve(db->st, &opal, LSEC_ROLE_OPERATOR, "flash", 1, &err), LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "'opal' is a operator"));
	assert_lsec_code(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "flash", 2, &err), LSEC_E_NOTFOUND, &err);
	assert_lsec_ok(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "flash", 1, &err), &err);
	assert_lsec_code(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "flash", 1, &err), LSEC_E_STORE_APPROVAL, &err);
	/* one approval is not enough */
	assert_lsec_code(lsec_sop_fetch_approved(&run, db->st, LSEC_SOP_FLASH, &err),
			 LSEC_E_SOP_NOT_APPROVED, &err);
	/* the approver names the digest of the file reviewed: a different one is refused */
	char hex1[65];
	lsec_hex_encode(hex1, lsec_sop_sha256(sop), 32);
	assert_lsec_code(lsec_sop_approve_reviewed(db->st, &otto, LSEC_ROLE_SECURITY_OFFICER, "flash", 1,
					  "1111111111111111111111111111111111111111111111111111111111111111",
					  &err),
			 LSEC_E_SOP_DIGEST, &err);
	assert_lsec_ok(lsec_sop_approve_reviewed(db->st, &otto, LSEC_ROLE_SECURITY_OFFICER, "flash", 1, hex1, &err), &err);
	assert_lsec_ok(lsec_sop_fetch_approved(&run, db->st, LSEC_SOP_FLASH, &err), &err);
	assert_memory_equal(lsec_sop_sha256(run), lsec_sop_sha256(sop), 32);
	assert_int_equal(lsec_sop_version(run), 1);
	lsec_sop_free(run);
	assert_lsec_ok(lsec_store_leaf_count(&leaves1, db->st, &err), &err);
	assert_int_equal(leaves1, leaves0 + 3);

	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_sop_versions(&v, &n, db->st, NULL, &err), &err);
	assert_int_equal(n, 1);
	assert_true(v[0].approved);
	assert_string_equal(v[0].approved_at, ""); /* the cheap list reads no log */
	lsec_free(v);
	assert_lsec_ok(lsec_sop_versions_dated(&v, &n, db->st, NULL, &err), &err);
	assert_int_equal(n, 1);
	assert_true(v[0].approved);
	assert_string_equal(v[0].submitter, "sam");
	assert_string_equal(v[0].approvers[0], "olga");
	assert_string_equal(v[0].approvers[1], "otto");
	assert_int_equal(strlen(v[0].approved_at), 20);
	char hex[65];
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	assert_string_equal(v[0].sha256_hex, hex);
	lsec_free(v);
	lsec_sop_free(sop);
	lsec_free(text);
}

static void test_sop_registry__versions_history_and_diff(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	people(db->st);
	size_t len = 0;
	char *v1 = read_default("debug-lock", &len);
	lsec_actor sam = {"sam", NULL}, olga = {"olga", NULL}, otto = {"otto", NULL};
	assert_lsec_ok(lsec_sop_submit(NULL, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)v1, len, "a.yaml", &err),
		       &err);
	assert_lsec_ok(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "debug-lock", 1, &err), &err);
	assert_lsec_ok(lsec_sop_approve(db->st, &otto, LSEC_ROLE_SECURITY_OFFICER, "debug-lock", 1, &err), &err);
	char *v2 = lsec_asprintf("%s", v1);
	char *p = strstr(v2, "version: 1\n");
	assert_non_null(p);
	p[9] = '2';
	p = strstr(v2, "change: First issue.");
	assert_non_null(p);
	char *v2b = lsec_asprintf("%.*schange: Seal witnessed by the supervisor.%s", (int)(p - v2), v2,
				  p + strlen("change: First issue."));
	/* a lower version than stored is refused once version 2 exists */
	assert_lsec_ok(lsec_sop_submit(NULL, db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, (const uint8_t *)v2b, strlen(v2b), "b.yaml",
				       &err),
		       &err);
	assert_lsec_code(lsec_sop_submit(NULL, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)v1, len, "a.yaml", &err),
			 LSEC_E_EXISTS, &err);

	/* the station still runs version 1 until version 2 is approved */
	lsec_sop *run = NULL;
	assert_lsec_ok(lsec_sop_fetch_approved(&run, db->st, LSEC_SOP_DEBUG_LOCK, &err), &err);
	assert_int_equal(lsec_sop_version(run), 1);
	lsec_sop_free(run);

	/* olga submitted version 2, so she cannot approve it */
	assert_lsec_code(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "debug-lock", 2, &err),
			 LSEC_E_SOP_SELF_APPROVAL, &err);

	lsec_buf out = LSEC_BUF_INIT(1u << 22);
	assert_lsec_ok(lsec_sop_diff(&out, db->st, "debug-lock", 1, 2, &err), &err);
	const char *d = lsec_buf_cstr(&out, &err);
	assert_non_null(strstr(d, "--- debug-lock version 1\n+++ debug-lock version 2\n"));
	assert_non_null(strstr(d, "\n-version: 1\n+version: 2\n"));
	assert_non_null(strstr(d, "\n+change: Seal witnessed by the supervisor.\n"));
	lsec_buf_reset(&out);

	/* rendered v2: draft, with both versions in its history */
	assert_lsec_ok(lsec_sop_render_stored(&out, db->st, "debug-lock", 2, LSEC_SOP_FORMAT_MD, &err),
		       &err);
	d = lsec_buf_cstr(&out, &err);
	assert_non_null(strstr(d, "DRAFT - NOT APPROVED"));
	assert_non_null(strstr(d, "| 1 |"));
	assert_non_null(strstr(d, "| 2 |"));
	assert_non_null(strstr(d, "olga, otto"));
	lsec_buf_reset(&out);
	/* rendered latest approved (v1): approved, by whom and when */
	assert_lsec_ok(lsec_sop_render_stored(&out, db->st, "debug-lock", 0, LSEC_SOP_FORMAT_HTML, &err),
		       &err);
	d = lsec_buf_cstr(&out, &err);
	assert_non_null(strstr(d, "APPROVED by olga, otto on 20"));
	assert_null(strstr(d, "DRAFT - NOT APPROVED"));
	lsec_buf_release(&out);
	lsec_free(v1);
	lsec_free(v2);
	lsec_free(v2b);
}

static void test_sop_registry__refusals(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	people(db->st);
	size_t len = 0;
	char *text = read_default("flash", &len);
	lsec_actor sam = {"sam", NULL};
	uint64_t before = 0, after = 0;
	assert_lsec_ok(lsec_store_leaf_count(&before, db->st, &err), &err);
	/* a weakened file never reaches the registry */
	char *weak = lsec_asprintf("%s", text);
	char *p = strstr(weak, "do: device.verify-flash");
	memcpy(p, "do: device.identify    ", strlen("do: device.verify-flash"));
	assert_lsec_code(lsec_sop_submit(NULL, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)weak, len, "f.yaml", &err),
			 LSEC_E_SOP_POLICY, &err);
	assert_non_null(strstr(err.msg, "flash-order"));
	/* a file with a NUL byte is not a SOP text */
	weak[0] = 0;
	assert_lsec_code(lsec_sop_submit(NULL, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)weak, len, "f.yaml", &err),
			 LSEC_E_SOP_BAD_VALUE, &err);
	lsec_sop_version_info *v = NULL;
	size_t n = 9;
	assert_lsec_ok(lsec_sop_versions(&v, &n, db->st, NULL, &err), &err);
	assert_int_equal(n, 0);
	assert_lsec_ok(lsec_store_leaf_count(&after, db->st, &err), &err);
	assert_int_equal(after, before);
	lsec_free(v);

	/* a stored row whose bytes no longer match their digest is refused */
	assert_lsec_ok(lsec_store_sop_add(NULL, db->st, "flash", "1",
					  "0000000000000000000000000000000000000000000000000000000000000000",
					  text, "sam", &err),
		       &err);
	lsec_sop *sop = NULL;
	assert_lsec_code(lsec_sop_fetch(&sop, NULL, NULL, db->st, "flash", 1, &err), LSEC_E_CRYPTO, &err);
	assert_null(sop);
	lsec_actor olga = {"olga", NULL};
	assert_lsec_code(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "flash", 1, &err), LSEC_E_CRYPTO, &err);
	lsec_free(weak);
	lsec_free(text);
}

static void test_sop_registry__rows_checked_against_leaves(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	size_t len = 0;
	char *text = read_default("flash", &len);
	lsec_actor sam = {"sam", NULL}, olga = {"olga", NULL};
	char hex[65], other[65];
	lsec_sop *sop = NULL;
	people(db->st);
	assert_lsec_ok(lsec_sop_submit(&sop, db->st, &sam, LSEC_ROLE_SUPERVISOR, (const uint8_t *)text, len, "flash.yaml",
				       &err),
		       &err);
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	lsec_sop_free(sop);
	assert_lsec_ok(lsec_sop_approve(db->st, &olga, LSEC_ROLE_SECURITY_OFFICER, "flash", 1, &err), &err);
	/* A second approval that is a bare row: no leaf backs it. */
	assert_lsec_ok(lsec_store_sop_approve(db->st, "flash", "1", "otto", &err), &err);
	assert_lsec_code(lsec_sop_fetch_approved(&sop, db->st, LSEC_SOP_FLASH, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_non_null(strstr(err.msg, "registry table sop_approvals approves SOP 'flash' version 1"));
	assert_non_null(strstr(err.msg, "by 'otto', but no approval leaf backs it"));
	store_val p1[] = {SV_S("otto")};
	assert_lsec_ok(lsec_store__query(db->st, "DELETE FROM sop_approvals WHERE person = ?", p1, 1,
					 NULL, NULL, &err),
		       &err);
	assert_lsec_ok(lsec_sop_approve(db->st, &(lsec_actor){"otto", NULL}, LSEC_ROLE_SECURITY_OFFICER, "flash", 1, &err), &err);
	assert_lsec_ok(lsec_sop_fetch_approved(&sop, db->st, LSEC_SOP_FLASH, &err), &err);
	lsec_sop_free(sop);
	/* The approved body rewritten, with a digest that matches the new body. */
	char *body = lsec_asprintf("%s# nobody approved this\n", text);
	uint8_t d[32];
	assert_lsec_ok(lsec_sha256(d, (const uint8_t *)body, strlen(body), &err), &err);
	lsec_hex_encode(other, d, 32);
	store_val p2[] = {SV_S(body), SV_S(other)};
	assert_lsec_ok(lsec_store__query(db->st, "UPDATE sop_versions SET body = ?, digest = ?", p2,
					 2, NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_sop_fetch_approved(&sop, db->st, LSEC_SOP_FLASH, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_null(sop);
	assert_non_null(strstr(err.msg, "registry table sop_versions holds SOP 'flash' version 1"));
	assert_non_null(strstr(err.msg, other));
	assert_non_null(strstr(err.msg, hex)); /* the digest the approval leaf recorded */
	/* A deleted approval row is named too (the leaves record two). */
	store_val p3[] = {SV_S(text), SV_S(hex)};
	assert_lsec_ok(lsec_store__query(db->st, "UPDATE sop_versions SET body = ?, digest = ?", p3,
					 2, NULL, NULL, &err),
		       &err);
	assert_lsec_ok(lsec_store__query(db->st, "DELETE FROM sop_approvals WHERE person = ?", p1, 1,
					 NULL, NULL, &err),
		       &err);
	lsec_sop_version_info *v = NULL;
	size_t n = 0;
	assert_lsec_code(lsec_sop_versions(&v, &n, db->st, "flash", &err), LSEC_E_AUDIT_INDEX, &err);
	assert_non_null(strstr(err.msg, "holds 1 approvals of SOP 'flash' version 1, but its leaves "
					"record 2"));
	lsec_free(body);
	lsec_free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, lsec_test_db_setup, lsec_test_db_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sop_registry__submit_approve_fetch),
		T(test_sop_registry__versions_history_and_diff),
		T(test_sop_registry__refusals),
		T(test_sop_registry__rows_checked_against_leaves),
	};
	return lsec_test_run_backends("sop/registry", tests, sizeof(tests) / sizeof(tests[0]));
}
