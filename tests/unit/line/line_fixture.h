/* A fresh line folder for the line tests, on the current registry backend. */
#ifndef LSEC_LINE_FIXTURE_H
#define LSEC_LINE_FIXTURE_H

#include "helpers/store_fixture.h"
#include "linesec/line.h"

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

/* Creates a line with security officer "admin" (password "admin-password") and opens it. */
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
	o.admin_password = pw;
	assert_lsec_ok(lsec_line_init(&o, &err), &err);
	lsec_secret_free(pw);
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

#endif
