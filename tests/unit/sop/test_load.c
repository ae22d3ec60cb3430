/* Loading SOP files: every validation error class, with its line and column. */
#include "helpers/testutil.h"

#include "linesec/sop.h"

#include <stdlib.h>
#include <string.h>

/* A small valid debug-lock SOP; line numbers below refer to it. */
static const char base[] = "sop: debug-lock\n"                                            /* 1 */
			   "title: T\n"                                                    /* 2 */
			   "version: 2\n"                                                  /* 3 */
			   "purpose: P\n"                                                  /* 4 */
			   "scope: S\n"                                                    /* 5 */
			   "applies-to: {product: any, from-state: secured, to-state: locked}\n" /* 6 */
			   "roles: {operator: O, supervisor: S}\n"                         /* 7 */
			   "prerequisites: [A]\n"                                          /* 8 */
			   "records: [R]\n"                                                /* 9 */
			   "steps:\n"                                                      /* 10 */
			   "  - {id: ident, do: device.identify, who: operator,\n"          /* 11 */
			   "     on-failure: {then: quarantine, message: M}}\n"             /* 12 */
			   "  - id: lock\n"                                                /* 13 */
			   "    do: debug.lock\n"                                          /* 14 */
			   "    who: operator\n"                                           /* 15 */
			   "    on-failure: {then: quarantine, message: M}\n"              /* 16 */
			   "  - id: check\n"                                               /* 17 */
			   "    do: debug.verify-locked\n"                                 /* 18 */
			   "    who: operator\n"                                           /* 19 */
			   "    on-failure: {then: quarantine, message: M}\n"              /* 20 */
			   "  - {id: close, do: console.close, who: operator,\n"           /* 21 */
			   "     on-failure: {then: quarantine, message: M}}\n"             /* 22 */
			   "  - {id: probe, do: console.verify-closed, who: operator,\n"   /* 23 */
			   "     on-failure: {then: quarantine, message: M}}\n"             /* 24 */
			   "  - {id: seal, do: confirm, who: operator, witness: supervisor,\n" /* 25 */
			   "     text: Seal it, on-failure: {then: quarantine, message: M}}\n"; /* 26 */

/* base with its first occurrence of `from` replaced by `to`. */
static char *edit(const char *src, const char *from, const char *to)
{
	const char *at = strstr(src, from);
	if (at == NULL) {
		fail_msg("test edit: '%s' not found", from);
	}
	return lsec_asprintf("%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
}

static lsec_sop_diags *parse_fail(const char *text, int code)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	assert_lsec_code(lsec_sop_parse(&sop, &d, (const uint8_t *)text, strlen(text), "t.yaml", &err),
			 code, &err);
	assert_null(sop);
	assert_non_null(d);
	assert_true(lsec_sop_diags_count(d) >= 1);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.msg, "t.yaml"));
	return d;
}

/* Asserts that d holds a problem of code at line:column. */
static void has_diag(const lsec_sop_diags *d, int code, int line, int column)
{
	for (size_t i = 0; i < lsec_sop_diags_count(d); i++) {
		const lsec_sop_diag *g = lsec_sop_diags_at(d, i);
		if (g->code == code && g->line == line && g->column == column) {
			char prefix[64];
			snprintf(prefix, sizeof(prefix), "t.yaml:%d:%d: ", line, column);
			assert_true(strncmp(g->text, prefix, strlen(prefix)) == 0);
			return;
		}
	}
	for (size_t i = 0; i < lsec_sop_diags_count(d); i++) {
		print_message("  have %d %s\n", lsec_sop_diags_at(d, i)->code,
			      lsec_sop_diags_at(d, i)->text);
	}
	fail_msg("no problem %d at %d:%d", code, line, column);
}

static void expect_one(const char *from, const char *to, int code, int line, int column)
{
	char *text = edit(base, from, to);
	lsec_sop_diags *d = parse_fail(text, code);
	has_diag(d, code, line, column);
	lsec_sop_diags_free(d);
	lsec_free(text);
}

static void test_sop_load__base_is_valid(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	assert_lsec_ok(lsec_sop_parse(&sop, &d, (const uint8_t *)base, strlen(base), "t.yaml", &err),
		       &err);
	assert_int_equal(lsec_sop_diags_count(d), 0);
	assert_int_equal(lsec_sop_get_kind(sop), LSEC_SOP_DEBUG_LOCK);
	assert_int_equal(lsec_sop_version(sop), 2);
	assert_int_equal(lsec_sop_step_count(sop), 6);
	assert_string_equal(lsec_sop_step_at(sop, 0)->id, "ident");
	const lsec_sop_step *st = lsec_sop_step_at(sop, 1);
	assert_string_equal(st->id, "lock");
	assert_string_equal(st->action->id, "debug.lock");
	/* defaults from the action table are filled in */
	assert_string_equal(lsec_sop_step_param(st, "interface"), "all");
	assert_string_equal(st->verify, st->action->verifies);
	assert_int_equal(st->then, LSEC_SOP_THEN_QUARANTINE);
	assert_null(lsec_sop_step_at(sop, 6));
	uint8_t want[32];
	assert_lsec_ok(lsec_sha256(want, base, strlen(base), &err), &err);
	assert_memory_equal(lsec_sop_sha256(sop), want, 32);
	lsec_sop_diags_free(d);
	lsec_sop_free(sop);
	lsec_sop_free(NULL);
	lsec_sop_diags_free(NULL);
}

static void test_sop_load__syntax_error_has_position(void **state)
{
	(void)state;
	char *text = edit(base, "title: T\n", "title: [T\n");
	lsec_sop_diags *d = parse_fail(text, LSEC_E_SOP_SYNTAX);
	assert_true(lsec_sop_diags_at(d, 0)->line > 0);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "not valid YAML"));
	lsec_sop_diags_free(d);
	lsec_free(text);
	/* a duplicate key is a YAML error too */
	text = edit(base, "title: T\n", "title: T\ntitle: U\n");
	d = parse_fail(text, LSEC_E_SOP_SYNTAX);
	has_diag(d, LSEC_E_SOP_SYNTAX, 3, 1);
	lsec_sop_diags_free(d);
	lsec_free(text);
}

static void test_sop_load__unknown_key(void **state)
{
	(void)state;
	expect_one("    who: operator\n", "    who: operator\n    colour: red\n", LSEC_E_SOP_UNKNOWN_KEY,
		   16, 5);
	/* a misspelt key is unknown, and the key it stands for is missing; in file order */
	char *text = edit(base, "title: T\n", "titel: T\n");
	lsec_sop_diags *d = parse_fail(text, LSEC_E_SOP_MISSING);
	assert_int_equal(lsec_sop_diags_count(d), 2);
	has_diag(d, LSEC_E_SOP_MISSING, 1, 1);
	has_diag(d, LSEC_E_SOP_UNKNOWN_KEY, 2, 1);
	assert_int_equal(lsec_sop_diags_at(d, 1)->code, LSEC_E_SOP_UNKNOWN_KEY);
	lsec_sop_diags_free(d);
	lsec_free(text);
}

static void test_sop_load__missing_field(void **state)
{
	(void)state;
	/* reported at the step's first key */
	expect_one("    do: debug.lock\n    who: operator\n", "    do: debug.lock\n",
		   LSEC_E_SOP_MISSING, 13, 5);
	expect_one("purpose: P\n", "", LSEC_E_SOP_MISSING, 1, 1);
	/* a manual step needs its instruction text */
	expect_one("do: debug.verify-locked", "do: confirm", LSEC_E_SOP_MISSING, 17, 5);
}

static void test_sop_load__bad_value(void **state)
{
	(void)state;
	expect_one("version: 2", "version: two", LSEC_E_SOP_BAD_VALUE, 3, 10);
	expect_one("sop: debug-lock", "sop: debug-unlock", LSEC_E_SOP_BAD_VALUE, 1, 6);
	expect_one("to-state: locked", "to-state: lockd", LSEC_E_SOP_BAD_VALUE, 6, 59);
	expect_one("id: check", "id: Check!", LSEC_E_SOP_BAD_VALUE, 17, 9);
	expect_one("prerequisites: [A]", "prerequisites: A", LSEC_E_SOP_BAD_VALUE, 8, 16);
}

static void test_sop_load__unknown_action(void **state)
{
	(void)state;
	expect_one("do: debug.verify-locked", "do: debug.verfy-locked", LSEC_E_SOP_UNKNOWN_ACTION, 18,
		   9);
}

static void test_sop_load__bad_parameters(void **state)
{
	(void)state;
	/* a value outside the declared allowed values */
	expect_one("    do: debug.lock\n", "    do: debug.lock\n    with: {interface: usb}\n",
		   LSEC_E_SOP_BAD_PARAM, 15, 23);
	/* a parameter the action does not declare */
	expect_one("    do: debug.lock\n", "    do: debug.lock\n    with: {speed: 3}\n",
		   LSEC_E_SOP_BAD_PARAM, 15, 12);
	/* an action with no parameters at all */
	expect_one("    do: debug.verify-locked\n", "    do: debug.verify-locked\n    with: {x: 1}\n",
		   LSEC_E_SOP_BAD_PARAM, 19, 12);
}

/* A ninth `with` entry is refused at its key, naming the step and the limit. */
static void test_sop_load__ninth_parameter_refused(void **state)
{
	(void)state;
	char *text = edit(base, "    do: debug.lock\n",
			  "    do: debug.lock\n"
			  "    with: {interface: all, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n");
	lsec_sop_diags *d = parse_fail(text, LSEC_E_SOP_BAD_PARAM);
	has_diag(d, LSEC_E_SOP_BAD_PARAM, 15, 70);
	bool found = false;
	for (size_t i = 0; i < lsec_sop_diags_count(d); i++) {
		const char *t = lsec_sop_diags_at(d, i)->text;
		if (strstr(t, "t.yaml:15:70: step 'lock': too many parameters at 'h': a step takes at "
			      "most 8") != NULL) {
			found = true;
		}
	}
	assert_true(found);
	lsec_sop_diags_free(d);
	lsec_free(text);

	/* eight entries are read: each unknown one is reported, none for the count */
	text = edit(base, "    do: debug.lock\n",
		    "    do: debug.lock\n"
		    "    with: {interface: all, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7}\n");
	d = parse_fail(text, LSEC_E_SOP_BAD_PARAM);
	assert_int_equal(lsec_sop_diags_count(d), 7);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text,
			       "step 'lock' action 'debug.lock': unknown parameter 'a': expected one of "
			       "interface"));
	lsec_sop_diags_free(d);
	lsec_free(text);
}

static void test_sop_load__bad_integer_and_required_parameter(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	char *path = lsec_asprintf("%s/sops/provision.yaml", getenv("LSEC_SOURCE_DIR"));
	lsec_buf b = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
	assert_lsec_ok(lsec_file_read(&b, path, &err), &err);
	assert_lsec_ok(lsec_buf_cstr(&b, &err) ? 0 : -1, &err);
	const char *src = (const char *)b.data;
	/* slot out of range: integer bounds come from the table */
	char *t1 = edit(src, "{slot: 0, type: ecdsa-p256}", "{slot: 99, type: ecdsa-p256}");
	assert_lsec_code(lsec_sop_parse(&sop, &d, (const uint8_t *)t1, strlen(t1), "t.yaml", &err),
			 LSEC_E_SOP_BAD_PARAM, &err);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "'99' is not an integer from 0 to 15"));
	lsec_sop_diags_free(d);
	/* a required parameter left out */
	char *t2 = edit(src, "{slot: 0, type: ecdsa-p256}", "{slot: 0}");
	assert_lsec_code(lsec_sop_parse(&sop, &d, (const uint8_t *)t2, strlen(t2), "t.yaml", &err),
			 LSEC_E_SOP_BAD_PARAM, &err);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "needs parameter 'type'"));
	lsec_sop_diags_free(d);
	lsec_free(t1);
	lsec_free(t2);
	lsec_free(path);
	lsec_buf_release(&b);
}

static void test_sop_load__duplicate_step(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	char *text = edit(base, "id: check", "id: lock");
	assert_lsec_code(lsec_sop_parse(&sop, &d, (const uint8_t *)text, strlen(text), "t.yaml", &err),
			 LSEC_E_SOP_DUP_STEP, &err);
	has_diag(d, LSEC_E_SOP_DUP_STEP, 17, 9);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "first used at line 13"));
	lsec_sop_diags_free(d);
	lsec_free(text);
}

static void test_sop_load__unknown_role(void **state)
{
	(void)state;
	/* not a role of the line */
	expect_one("    who: operator\n    on-failure: {then: quarantine, message: M}\n  - id: check",
		   "    who: janitor\n    on-failure: {then: quarantine, message: M}\n  - id: check",
		   LSEC_E_SOP_UNKNOWN_ROLE, 15, 10);
	/* a line role the file does not declare under roles */
	expect_one("    who: operator\n    on-failure: {then: quarantine, message: M}\n  - id: check",
		   "    who: security-officer\n    on-failure: {then: quarantine, message: M}\n  - id: check",
		   LSEC_E_SOP_UNKNOWN_ROLE, 15, 10);
	/* roles declares something that is not a role */
	expect_one("supervisor: S}", "janitor: S}", LSEC_E_SOP_UNKNOWN_ROLE, 7, 22);
}

static void test_sop_load__bad_on_failure(void **state)
{
	(void)state;
	expect_one("{then: quarantine, message: M}\n  - id: check", "{then: ignore, message: M}\n  - id: check",
		   LSEC_E_SOP_BAD_ON_FAILURE, 16, 24);
	expect_one("{then: quarantine, message: M}\n  - id: check",
		   "{retry: 9, then: quarantine, message: M}\n  - id: check", LSEC_E_SOP_BAD_ON_FAILURE,
		   16, 25);
	expect_one("{then: quarantine, message: M}\n  - id: check", "{then: quarantine}\n  - id: check",
		   LSEC_E_SOP_BAD_ON_FAILURE, 16, 18);
	expect_one("{then: quarantine, message: M}\n  - id: check",
		   "{then: quarantine, message: M, notify: x}\n  - id: check", LSEC_E_SOP_BAD_ON_FAILURE,
		   16, 48);
}

static void test_sop_load__placeholders(void **state)
{
	(void)state;
	expect_one("    do: debug.verify-locked\n",
		   "    do: debug.verify-locked\n    text: Check unit {serial} in {colour}.\n",
		   LSEC_E_SOP_PLACEHOLDER, 19, 11);
	expect_one("    do: debug.verify-locked\n",
		   "    do: debug.verify-locked\n    text: Check unit {serial\n",
		   LSEC_E_SOP_PLACEHOLDER, 19, 11);
	/* known placeholders pass, and expand */
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(256);
	const char *names[] = {"serial", "socket"};
	const char *values[] = {"SN-1", "3"};
	assert_lsec_ok(lsec_sop_expand(&b, "Seat {serial} in {socket}; {release} stays", names, values,
				       2, &err),
		       &err);
	assert_string_equal(lsec_buf_cstr(&b, &err), "Seat SN-1 in 3; {release} stays");
	lsec_buf_release(&b);
}

static void test_sop_load__every_problem_is_reported(void **state)
{
	(void)state;
	char *t1 = edit(base, "version: 2", "version: x");
	char *t2 = edit(t1, "do: debug.verify-locked", "do: debug.nope");
	char *t3 = edit(t2, "    who: operator\n", "    who: operator\n    colour: red\n");
	lsec_sop_diags *d = parse_fail(t3, LSEC_E_SOP_BAD_VALUE);
	assert_int_equal(lsec_sop_diags_count(d), 3);
	has_diag(d, LSEC_E_SOP_BAD_VALUE, 3, 10);
	has_diag(d, LSEC_E_SOP_UNKNOWN_KEY, 16, 5);
	has_diag(d, LSEC_E_SOP_UNKNOWN_ACTION, 19, 9);
	lsec_sop_diags_free(d);
	lsec_free(t1);
	lsec_free(t2);
	lsec_free(t3);
}

static void test_sop_load__hostile_inputs(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = parse_fail("", LSEC_E_SOP_MISSING);
	lsec_sop_diags_free(d);
	d = parse_fail("- a\n- b\n", LSEC_E_SOP_BAD_VALUE);
	lsec_sop_diags_free(d);
	/* one document per file: a second one would hide from a reader */
	char *two = lsec_asprintf("%s---\nsop: flash\n", base);
	d = parse_fail(two, LSEC_E_SOP_SYNTAX);
	has_diag(d, LSEC_E_SOP_SYNTAX, 28, 1);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "more than one YAML document"));
	lsec_sop_diags_free(d);
	lsec_free(two);
	d = parse_fail("# only a comment\n", LSEC_E_SOP_MISSING);
	lsec_sop_diags_free(d);
	/* tabs never reach the YAML parser either (one placement crashed it) */
	d = parse_fail("title: T\n? a :\t?x\n", LSEC_E_SOP_SYNTAX);
	has_diag(d, LSEC_E_SOP_SYNTAX, 2, 6);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "tab character"));
	lsec_sop_diags_free(d);
	/* invalid UTF-8 never reaches the YAML parser (a directive with a bad byte hung it) */
	d = parse_fail("a: 1\n%\xfe\n", LSEC_E_SOP_SYNTAX);
	assert_int_equal(lsec_sop_diags_at(d, 0)->line, 2);
	assert_int_equal(lsec_sop_diags_at(d, 0)->column, 1);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "YAML directive"));
	lsec_sop_diags_free(d);
	d = parse_fail("a: 1\nb: %\xfe\n", LSEC_E_SOP_SYNTAX);
	assert_int_equal(lsec_sop_diags_at(d, 0)->line, 2);
	assert_int_equal(lsec_sop_diags_at(d, 0)->column, 5);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "UTF-8"));
	lsec_sop_diags_free(d);
	d = parse_fail("title: caf\xc3\n", LSEC_E_SOP_SYNTAX); /* truncated sequence */
	lsec_sop_diags_free(d);
	d = parse_fail("title: \xed\xa0\x80\n", LSEC_E_SOP_SYNTAX); /* a surrogate */
	lsec_sop_diags_free(d);
	d = parse_fail("title: \xc0\xaf\n", LSEC_E_SOP_SYNTAX); /* overlong */
	lsec_sop_diags_free(d);
	/* aliases are refused: the document must read as the station runs it */
	char *t = edit(base, "title: T\n", "title: &t T\nscope2: *t\n");
	d = parse_fail(t, LSEC_E_SOP_UNKNOWN_KEY);
	lsec_sop_diags_free(d);
	lsec_free(t);
	t = edit(base, "title: T\nversion: 2\n", "title: &t T\nversion: *t\n");
	d = parse_fail(t, LSEC_E_SOP_BAD_VALUE);
	assert_non_null(strstr(lsec_sop_diags_at(d, 0)->text, "not an alias"));
	lsec_sop_diags_free(d);
	lsec_free(t);
	/* over the size limit */
	size_t big = LSEC_SOP_MAX_FILE + 1;
	uint8_t *huge = lsec_calloc(1, big);
	assert_lsec_code(lsec_sop_parse(&sop, NULL, huge, big, "big.yaml", &err), LSEC_E_LIMIT, &err);
	lsec_free(huge);
	/* a file that does not exist */
	assert_lsec_code(lsec_sop_load(&sop, &d, "/nonexistent/x.yaml", &err), LSEC_E_IO, &err);
	assert_null(d);
}

static void test_sop_load__defaults_pass(void **state)
{
	(void)state;
	static const char *const files[] = {"flash", "provision", "secure-boot", "debug-lock",
					    "decommission"};
	for (size_t i = 0; i < 5; i++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_sop *sop = NULL;
		char *path = lsec_asprintf("%s/sops/%s.yaml", getenv("LSEC_SOURCE_DIR"), files[i]);
		assert_lsec_ok(lsec_sop_load(&sop, NULL, path, &err), &err);
		assert_string_equal(lsec_sop_name(sop), files[i]);
		assert_int_equal(lsec_sop_get_kind(sop), (lsec_sop_kind)i);
		lsec_sop_free(sop);
		lsec_free(path);
	}
}

static void test_sop_load__oom_leaves_nothing(void **state)
{
	(void)state;
	/* every allocation failing in turn: a clean error, no leak, no crash */
	bool loaded = false;
	for (unsigned long n = 1; n < 2000 && !loaded; n++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_sop *sop = NULL;
		lsec_sop_diags *d = NULL;
		lsec_alloc_fail_after(n);
		int rc = lsec_sop_parse(&sop, &d, (const uint8_t *)base, strlen(base), "t.yaml", &err);
		lsec_alloc_fail_after(0);
		if (rc == 0) {
			assert_non_null(sop);
			lsec_sop_free(sop);
			lsec_sop_diags_free(d);
			loaded = true;
			continue;
		}
		assert_null(sop);
		assert_true(rc == LSEC_E_NOMEM);
		lsec_sop_diags_free(d);
	}
	assert_true(loaded);
}

static void test_sop_load__problem_count_is_bounded(void **state)
{
	(void)state;
	/* 150 unknown keys: the first 100 are reported, and the message says there are more */
	lsec_buf b = LSEC_BUF_INIT(1u << 16);
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_buf_append_str(&b, base, &err), &err);
	for (int i = 0; i < 150; i++) {
		assert_lsec_ok(lsec_buf_printf(&b, &err, "extra%d: x\n", i), &err);
	}
	const char *text = lsec_buf_cstr(&b, &err);
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	assert_lsec_code(lsec_sop_parse(&sop, &d, (const uint8_t *)text, strlen(text), "t.yaml", &err),
			 LSEC_E_SOP_UNKNOWN_KEY, &err);
	assert_int_equal(lsec_sop_diags_count(d), 100);
	assert_non_null(strstr(err.msg, "100 problems or more"));
	lsec_sop_diags_free(d);
	lsec_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sop_load__base_is_valid),
		cmocka_unit_test(test_sop_load__syntax_error_has_position),
		cmocka_unit_test(test_sop_load__unknown_key),
		cmocka_unit_test(test_sop_load__missing_field),
		cmocka_unit_test(test_sop_load__bad_value),
		cmocka_unit_test(test_sop_load__unknown_action),
		cmocka_unit_test(test_sop_load__bad_parameters),
		cmocka_unit_test(test_sop_load__ninth_parameter_refused),
		cmocka_unit_test(test_sop_load__bad_integer_and_required_parameter),
		cmocka_unit_test(test_sop_load__duplicate_step),
		cmocka_unit_test(test_sop_load__unknown_role),
		cmocka_unit_test(test_sop_load__bad_on_failure),
		cmocka_unit_test(test_sop_load__placeholders),
		cmocka_unit_test(test_sop_load__every_problem_is_reported),
		cmocka_unit_test(test_sop_load__hostile_inputs),
		cmocka_unit_test(test_sop_load__defaults_pass),
		cmocka_unit_test(test_sop_load__oom_leaves_nothing),
		cmocka_unit_test(test_sop_load__problem_count_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
