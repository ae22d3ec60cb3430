/* A fresh line folder for the line tests, on the current registry backend. */
#ifndef LSEC_LINE_FIXTURE_H
#define LSEC_LINE_FIXTURE_H

#include "helpers/store_fixture.h"
#include "linesec/line.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct line_fx {
	lsec_test_db *db; /* registry location (SQLite: ignored, the line makes its own) */
	char *dir;        /* the line folder */
	lsec_line *line;
} line_fx;

static inline lsec_secret *fx_pw(const char *s)
{
	lsec_secret *p = NULL;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_secret_from(&p, s, strlen(s), &err), &err);
	return p;
}

/*
 * Creates a line with security officers "admin" (password "admin-password")
 * and "second" ("second-password") and opens it.
 */
static inline int line_fx_setup(void **state)
{
	line_fx *fx = lsec_calloc(1, sizeof(*fx));
	lsec_err err = LSEC_ERR_INIT;
	fx->db = lsec_test_db_new();
	fx->dir = lsec_test_path(fx->db->dir, "line");
	lsec_line_init_options o = LSEC_LINE_INIT_OPTIONS_INIT;
	o.dir = fx->dir;
	o.registry = fx->db->backend == LSEC_TEST_POSTGRES ? fx->db->location : NULL;
	lsec_secret *pw = fx_pw("admin-password");
	lsec_secret *pw2 = fx_pw("second-password");
	o.admin_password = pw;
	o.second_officer = "second";
	o.second_password = pw2;
	assert_lsec_ok(lsec_line_init(&o, &err), &err);
	lsec_secret_free(pw);
	lsec_secret_free(pw2);
	assert_lsec_ok(lsec_line_open(&fx->line, fx->dir, &err), &err);
	*state = fx;
	return 0;
}

static inline int line_fx_teardown(void **state)
{
	line_fx *fx = *state;
	lsec_line_close(fx->line);
	lsec_free(fx->dir);
	lsec_test_db_free(fx->db);
	lsec_free(fx);
	return 0;
}

static inline void fx_login(line_fx *fx, const char *name, const char *password)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = fx_pw(password);
	assert_lsec_ok(lsec_line_login(fx->line, name, pw, &err), &err);
	lsec_secret_free(pw);
}

/* name (logged in) signs with password. */
static inline lsec_line_actor fx_sign(line_fx *fx, const char *name, const char *password)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_line_actor who;
	lsec_secret *pw = fx_pw(password);
	assert_lsec_ok(lsec_line_sign(&who, fx->line, name, pw,
				      LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), "sign", &err),
		       &err);
	lsec_secret_free(pw);
	return who;
}

/*
 * "second" logs in, approves change id (signing), logs out; half (may be
 * NULL) receives the approver's half of an enrolment code.
 */
static inline void fx_second_approves(line_fx *fx, int64_t id, char *half, size_t cap)
{
	lsec_err err = LSEC_ERR_INIT;
	char ignored[LSEC_LINE_ENROL_HALF + 1];
	fx_login(fx, "second", "second-password");
	lsec_line_actor so = fx_sign(fx, "second", "second-password");
	assert_lsec_ok(lsec_line_change_approve(NULL, half ? half : ignored,
						half ? cap : sizeof(ignored), fx->line, &so, id,
						NULL, NULL, &err),
		       &err);
	assert_lsec_ok(lsec_line_logout(fx->line, "second", &err), &err);
}

/*
 * Adds name with role the one way there is: "admin" (logged in) requests,
 * "second" approves, name enrols with both halves and password.
 */
static inline void fx_add_person(line_fx *fx, const char *name, lsec_role role,
				 const char *password)
{
	lsec_err err = LSEC_ERR_INIT;
	char a[LSEC_LINE_ENROL_HALF + 1], b[LSEC_LINE_ENROL_HALF + 1],
		code[2 * LSEC_LINE_ENROL_HALF + 2];
	int64_t id = 0;
	lsec_line_actor so = fx_sign(fx, "admin", "admin-password");
	json_t *payload = json_pack("{s:s,s:s}", "name", name, "role", lsec_role_name(role));
	assert_lsec_ok(lsec_line_change_request(&id, a, sizeof(a), fx->line, &so,
						LSEC_LINE_CHANGE_PERSON_ADD, name, payload, &err),
		       &err);
	json_decref(payload);
	fx_second_approves(fx, id, b, sizeof(b));
	snprintf(code, sizeof(code), "%s-%s", a, b);
	lsec_secret *c = fx_pw(code), *pw = fx_pw(password);
	assert_lsec_ok(lsec_line_enrol(fx->line, name, c, pw, &err), &err);
	lsec_secret_free(c);
	lsec_secret_free(pw);
}

/* "admin" (logged in) requests that name be disabled, "second" approves. */
static inline void fx_disable(line_fx *fx, const char *name)
{
	lsec_err err = LSEC_ERR_INIT;
	int64_t id = 0;
	lsec_line_actor so = fx_sign(fx, "admin", "admin-password");
	json_t *payload = json_pack("{s:s}", "name", name);
	assert_lsec_ok(lsec_line_change_request(&id, NULL, 0, fx->line, &so,
						LSEC_LINE_CHANGE_PERSON_DISABLE, name, payload,
						&err),
		       &err);
	json_decref(payload);
	fx_second_approves(fx, id, NULL, 0);
}

#endif
