/* Two-officer changes, enrolment, signatures and the lock after refused passwords. */
#include "line/line_fixture.h"
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

static uint64_t leaves(line_fx *fx)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, lsec_line_store(fx->line), &err), &err);
	return n;
}

/* How many leaves of action with outcome name person. */
static size_t count(line_fx *fx, const char *action, const char *person, const char *outcome)
{
	lsec_err err = LSEC_ERR_INIT;
	json_t *found = NULL;
	const char *match[] = {"person", person, "outcome", outcome, NULL};
	assert_lsec_ok(lsec_audit_leaves_find(&found, lsec_line_store(fx->line), action, match, &err),
		       &err);
	size_t n = json_array_size(found);
	json_decref(found);
	return n;
}

static int64_t request_add(line_fx *fx, const lsec_line_actor *by, const char *name,
			   const char *role, char *half, size_t cap, int want)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t id = 0;
	json_t *payload = json_pack("{s:s,s:s}", "name", name, "role", role);
	int rc = lsec_line_change_request(&id, half, cap, fx->line, by, LSEC_LINE_CHANGE_PERSON_ADD,
					  name, payload, &err);
	json_decref(payload);
	assert_int_equal(rc, want);
	return id;
}

static void test_line_changes__one_officer_cannot_add_an_officer(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char a[LSEC_LINE_ENROL_HALF + 1], b[LSEC_LINE_ENROL_HALF + 1];
	fx_login(fx, "admin", "admin-password");
	lsec_line_actor admin = fx_sign(fx, "admin", "admin-password");
	int64_t id = request_add(fx, &admin, "mallory", "security-officer", a, sizeof(a), 0);
	assert_int_equal(strlen(a), LSEC_LINE_ENROL_HALF);
	/* Nothing changed but the request. */
	lsec_store_person p;
	assert_lsec_code(lsec_store_person_get(&p, lsec_line_store(fx->line), "mallory", &err),
			 LSEC_E_NOTFOUND, &err);
	assert_int_equal(count(fx, "change.request", "admin", "ok"), 1);
	/* The requester approving: refused, and nothing recorded. */
	uint64_t before = leaves(fx);
	assert_lsec_code(lsec_line_change_approve(NULL, b, sizeof(b), fx->line, &admin, id, NULL,
						  NULL, &err),
			 LSEC_E_POLICY, &err);
	assert_non_null(strstr(err.msg, "a second, distinct security officer must approve"));
	assert_int_equal(leaves(fx), before);
	/* A session without a signature approves nothing. */
	fx_login(fx, "second", "second-password");
	lsec_line_actor session;
	assert_lsec_ok(lsec_line_authorize(&session, fx->line, "second",
					   LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "x", &err),
		       &err);
	assert_false(session.authenticated);
	assert_lsec_code(lsec_line_change_approve(NULL, b, sizeof(b), fx->line, &session, id, NULL,
						  NULL, &err),
			 LSEC_E_AUTH, &err);
	/* A wrong password signs nothing, and is recorded. */
	lsec_secret *wrong = fx_pw("not-seconds-password");
	lsec_line_actor forged;
	assert_lsec_code(lsec_line_sign(&forged, fx->line, "second", wrong,
					LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "approve", &err),
			 LSEC_E_AUTH, &err);
	lsec_secret_free(wrong);
	assert_false(forged.authenticated);
	assert_int_equal(count(fx, "signature", "second", "refused"), 1);
	/* The second officer signs: applied, with both leaves. */
	lsec_line_actor second = fx_sign(fx, "second", "second-password");
	lsec_store_change ch;
	assert_lsec_ok(lsec_line_change_approve(&ch, b, sizeof(b), fx->line, &second, id, NULL, NULL,
						&err),
		       &err);
	assert_string_equal(ch.state, "approved");
	assert_string_equal(ch.requested_by, "admin");
	assert_string_equal(ch.enrol_hash, "");
	assert_int_equal(count(fx, "change.approve", "second", "ok"), 1);
	/* The second officer's own person-add (init), then mallory's by the approval. */
	assert_int_equal(count(fx, "person-add", "second", "ok"), 2);
	char again[LSEC_LINE_ENROL_HALF + 1];
	assert_lsec_code(lsec_line_change_approve(NULL, again, sizeof(again), fx->line, &second, id,
						  NULL, NULL, &err),
			 LSEC_E_STATE, &err);
	assert_string_equal(again, "");
	/* No password logs mallory in before she enrols, and one half alone does not enrol her. */
	lsec_secret *code = NULL, *pw = fx_pw("mallory-password");
	assert_lsec_code(lsec_line_login(fx->line, "mallory", pw, &err), LSEC_E_AUTH, &err);
	char text[2 * LSEC_LINE_ENROL_HALF + 2];
	snprintf(text, sizeof(text), "%s-%s", a, a);
	code = fx_pw(text);
	assert_lsec_code(lsec_line_enrol(fx->line, "mallory", code, pw, &err), LSEC_E_AUTH, &err);
	lsec_secret_free(code);
	assert_int_equal(count(fx, "enrol", "mallory", "refused"), 1);
	snprintf(text, sizeof(text), "%s-%s", a, b);
	code = fx_pw(text);
	assert_lsec_ok(lsec_line_enrol(fx->line, "mallory", code, pw, &err), &err);
	/* A code serves once. */
	assert_lsec_code(lsec_line_enrol(fx->line, "mallory", code, pw, &err), LSEC_E_AUTH, &err);
	lsec_secret_free(code);
	assert_lsec_ok(lsec_line_login(fx->line, "mallory", pw, &err), &err);
	lsec_secret_free(pw);
}

static void test_line_changes__reject_and_tampered_rows(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char a[LSEC_LINE_ENROL_HALF + 1], b[LSEC_LINE_ENROL_HALF + 1];
	fx_login(fx, "admin", "admin-password");
	fx_login(fx, "second", "second-password");
	lsec_line_actor admin = fx_sign(fx, "admin", "admin-password");
	lsec_line_actor second = fx_sign(fx, "second", "second-password");
	int64_t id = request_add(fx, &admin, "olga", "operator", a, sizeof(a), 0);
	assert_lsec_ok(lsec_line_change_reject(fx->line, &second, id, &err), &err);
	assert_int_equal(count(fx, "change.reject", "second", "ok"), 1);
	assert_lsec_code(lsec_line_change_approve(NULL, b, sizeof(b), fx->line, &second, id, NULL,
						  NULL, &err),
			 LSEC_E_STATE, &err);
	/* A request raised to security officer by SQL: the request leaf says otherwise. */
	id = request_add(fx, &admin, "otto", "operator", a, sizeof(a), 0);
	store_val up[] = {SV_S("{\"name\":\"otto\",\"role\":\"security-officer\"}"), SV_I(id)};
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line),
					 "UPDATE change_requests SET payload = ? WHERE id = ?", up, 2,
					 NULL, NULL, &err),
		       &err);
	assert_lsec_code(lsec_line_change_approve(NULL, b, sizeof(b), fx->line, &second, id, NULL,
						  NULL, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_non_null(strstr(err.msg, "registry table change_requests holds change"));
	/* A request inserted by SQL alone, as if the second officer had asked. */
	store_val ins[] = {SV_S("{\"name\":\"eve\",\"role\":\"security-officer\"}")};
	assert_lsec_ok(lsec_store__query(lsec_line_store(fx->line),
					 "INSERT INTO change_requests (kind, subject, payload,"
					 " requested_by, created, state) VALUES ('person-add', 'eve', ?,"
					 " 'second', 'x', 'pending')",
					 ins, 1, NULL, NULL, &err),
		       &err);
	lsec_store_change *list = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_store_change_list(&list, &n, lsec_line_store(fx->line), true, &err),
		       &err);
	assert_int_equal(n, 2);
	int64_t forged = list[1].id;
	lsec_free(list);
	assert_lsec_code(lsec_line_change_approve(NULL, b, sizeof(b), fx->line, &admin, forged, NULL,
						  NULL, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	/* An officer cannot request a change of their own account. */
	json_t *payload = json_pack("{s:s,s:s}", "name", "admin", "role", "operator");
	assert_lsec_code(lsec_line_change_request(&id, NULL, 0, fx->line, &admin,
						  LSEC_LINE_CHANGE_ROLE, "admin", payload, &err),
			 LSEC_E_POLICY, &err);
	json_decref(payload);
}

typedef struct applied {
	int calls;
	char payload[LSEC_STORE_PAYLOAD_MAX + 1];
	char approver[LSEC_STORE_NAME_MAX + 1];
	int fail;
} applied;

static int apply_key(void *ctx, lsec_line *line, const lsec_store_change *c, const char *approver,
		     lsec_err *err)
{
	applied *a = ctx;
	(void)line;
	a->calls++;
	snprintf(a->payload, sizeof(a->payload), "%s", c->payload);
	snprintf(a->approver, sizeof(a->approver), "%s", approver);
	return a->fail ? lsec_err_set(err, LSEC_E_POLICY, __FILE__, __LINE__, "key denied") : 0;
}

static void test_line_changes__other_kinds_are_applied_by_their_module(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	fx_login(fx, "admin", "admin-password");
	fx_login(fx, "second", "second-password");
	lsec_line_actor admin = fx_sign(fx, "admin", "admin-password");
	lsec_line_actor second = fx_sign(fx, "second", "second-password");
	int64_t id = 0;
	json_t *payload = json_pack("{s:s,s:s}", "product", "sensor", "key-sha256", "ab12");
	assert_lsec_ok(lsec_line_change_request(&id, NULL, 0, fx->line, &admin, "product-key",
						"sensor", payload, &err),
		       &err);
	json_decref(payload);
	/* Without its module's apply function the line cannot approve it. */
	assert_lsec_code(lsec_line_change_approve(NULL, NULL, 0, fx->line, &second, id, NULL, NULL,
						  &err),
			 LSEC_E_USAGE, &err);
	/* A failing apply undoes the approval. */
	applied a = {0, "", "", 1};
	uint64_t before = leaves(fx);
	assert_lsec_code(lsec_line_change_approve(NULL, NULL, 0, fx->line, &second, id, apply_key,
						  &a, &err),
			 LSEC_E_POLICY, &err);
	assert_int_equal(a.calls, 1);
	assert_int_equal(leaves(fx), before);
	lsec_store_change ch;
	assert_lsec_ok(lsec_store_change_get(&ch, lsec_line_store(fx->line), id, &err), &err);
	assert_string_equal(ch.state, "pending");
	a.fail = 0;
	assert_lsec_ok(lsec_line_change_approve(&ch, NULL, 0, fx->line, &second, id, apply_key, &a,
						&err),
		       &err);
	assert_int_equal(a.calls, 2);
	assert_string_equal(a.payload, "{\"key-sha256\":\"ab12\",\"product\":\"sensor\"}");
	assert_string_equal(a.approver, "second");
	assert_string_equal(ch.kind, "product-key");
	assert_string_equal(ch.payload, a.payload);
}

static void test_line_changes__refused_passwords_lock(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	fx_login(fx, "admin", "admin-password");
	fx_add_person(fx, "olga", LSEC_ROLE_OPERATOR, "olga-password");
	lsec_secret *wrong = fx_pw("wrong-password"), *right = fx_pw("olga-password");
	for (int i = 0; i < LSEC_LINE_LOCK_AFTER; i++) {
		assert_lsec_code(lsec_line_login(fx->line, "olga", wrong, &err), LSEC_E_AUTH, &err);
		assert_non_null(strstr(err.msg, "wrong name or password"));
	}
	assert_lsec_code(lsec_line_login(fx->line, "olga", right, &err), LSEC_E_AUTH, &err);
	assert_non_null(strstr(err.msg, "locked after 5 refused passwords"));
	assert_int_equal(count(fx, "login", "olga", "refused"), LSEC_LINE_LOCK_AFTER);
	assert_int_equal(count(fx, "login", "olga", "refused-locked"), 1);
	/* Unlocking is a signature of another officer. */
	lsec_line_actor session;
	assert_lsec_ok(lsec_line_authorize(&session, fx->line, "admin",
					   LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "x", &err),
		       &err);
	assert_lsec_code(lsec_line_person_unlock(fx->line, &session, "olga", &err), LSEC_E_AUTH,
			 &err);
	lsec_line_actor admin = fx_sign(fx, "admin", "admin-password");
	assert_lsec_ok(lsec_line_person_unlock(fx->line, &admin, "olga", &err), &err);
	assert_lsec_ok(lsec_line_login(fx->line, "olga", right, &err), &err);
	lsec_secret_free(wrong);
	lsec_secret_free(right);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, line_fx_setup, line_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_line_changes__one_officer_cannot_add_an_officer),
		T(test_line_changes__reject_and_tampered_rows),
		T(test_line_changes__other_kinds_are_applied_by_their_module),
		T(test_line_changes__refused_passwords_lock),
	};
	return lsec_test_run_backends("line/changes", tests, sizeof(tests) / sizeof(tests[0]));
}
