/* The line folder: init, line.yaml, discovery. */
#include "line/line_fixture.h"
#include "line/line_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_line_config__init_creates_the_line(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	assert_string_equal(lsec_line_id(fx->line), "line1");
	assert_string_equal(lsec_line_station(fx->line), "station1");
	assert_int_equal(lsec_line_session_minutes(fx->line), 480);
	assert_int_equal(lsec_line_session_idle_seconds(fx->line), 15 * 60);
	struct stat sb;
	assert_int_equal(stat(lsec_line_station_key_path(fx->line), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(lsec_line_station_pub_path(fx->line), &sb), 0);
	if (fx->db->backend == LSEC_TEST_SQLITE) {
		char *reg = lsec_test_path(fx->dir, "registry.db");
		assert_int_equal(stat(reg, &sb), 0);
		lsec_free(reg);
		assert_string_equal(lsec_line_registry(fx->line), "registry.db");
	}
	/* The default product with its target; it sets no policy. */
	assert_int_equal(lsec_line_product_count(fx->line), 1);
	const char *id, *target;
	const json_t *pol;
	assert_true(lsec_line_product(fx->line, 0, &id, &target, &pol));
	assert_string_equal(id, "sensor");
	assert_string_equal(target, "sim://");
	assert_int_equal(json_object_size(pol), 0);
	assert_false(lsec_line_product(fx->line, 1, &id, &target, &pol));
	/* The first security officer exists, and init is in the audit log. */
	lsec_store_person p;
	assert_lsec_ok(lsec_store_person_get(&p, lsec_line_store(fx->line), "admin", &err), &err);
	assert_int_equal(p.role, LSEC_ROLE_SECURITY_OFFICER);
	lsec_buf leaf = LSEC_BUF_INIT(4096);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, lsec_line_store(fx->line), 0, &err), &err);
	assert_non_null(lsec_buf_cstr(&leaf, &err));
	assert_non_null(strstr((const char *)leaf.data, "\"action\":\"line-init\""));
	assert_non_null(strstr((const char *)leaf.data, "\"person\":\"admin\""));
	assert_null(strstr((const char *)leaf.data, "admin-password"));
	lsec_buf_release(&leaf);

	/* A second init in the same folder is refused and changes nothing. */
	lsec_line_init_options o = LSEC_LINE_INIT_OPTIONS_INIT;
	o.dir = fx->dir;
	lsec_secret *pw = fx_pw("another-password");
	o.admin_password = pw;
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "already holds line.yaml"));
	assert_int_equal(stat(lsec_line_station_key_path(fx->line), &sb), 0);
	lsec_secret_free(pw);
}

static void test_line_config__failed_init_leaves_nothing(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *tmp = lsec_test_tmpdir();
	char *dir = lsec_test_path(tmp, "l");
	lsec_line_init_options o = LSEC_LINE_INIT_OPTIONS_INIT;
	o.dir = dir;
	/* No password for the first officer: refused after the files were made. */
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "needs a password"));
	char *cfg = lsec_test_path(dir, "line.yaml"), *key = lsec_test_path(dir, "station.key"),
	     *reg = lsec_test_path(dir, "registry.db");
	assert_int_equal(access(cfg, F_OK), -1);
	assert_int_equal(access(key, F_OK), -1);
	assert_int_equal(access(reg, F_OK), -1);
	/* A bad id is refused before anything is made. */
	lsec_secret *pw = fx_pw("admin-password");
	o.admin_password = pw;
	o.station_id = "st 1";
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "station id 'st 1'"));
	o.station_id = NULL;
	/* A line starts with two officers: one alone, or one name twice, is refused. */
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "two security officers"));
	lsec_secret *pw2 = fx_pw("second-password");
	o.admin = "alice";
	o.second_officer = "alice";
	o.second_password = pw2;
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "not 'alice' twice"));
	/* Both accounts with one password: one person typed both. */
	o.second_officer = "bob";
	o.second_password = pw;
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_POLICY, &err);
	assert_non_null(strstr(err.msg, "same password"));
	assert_int_equal(access(cfg, F_OK), -1);
	o.second_password = pw2;
	lsec_secret *shortpw = fx_pw("short");
	o.admin_password = shortpw;
	assert_lsec_code(lsec_line_init(&o, &err), LSEC_E_POLICY, &err);
	assert_int_equal(access(cfg, F_OK), -1);
	assert_int_equal(access(reg, F_OK), -1);
	lsec_secret_free(pw2);
	lsec_secret_free(pw);
	lsec_secret_free(shortpw);
	lsec_free(cfg);
	lsec_free(key);
	lsec_free(reg);
	lsec_free(dir);
	lsec_test_rmtree(tmp);
}

static void test_line_config__discovery(void **state)
{
	line_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *found = NULL;
	char *empty = lsec_test_tmpdir();
	assert_lsec_code(lsec_line_find(&found, empty, &err), LSEC_E_NOTFOUND, &err);
	assert_non_null(strstr(err.msg, "(from --line) has no line.yaml"));
	setenv("LINESEC_LINE", fx->dir, 1);
	assert_lsec_ok(lsec_line_find(&found, NULL, &err), &err);
	assert_string_equal(found, fx->dir);
	lsec_free(found);
	unsetenv("LINESEC_LINE");
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(empty), 0);
	assert_lsec_code(lsec_line_find(&found, NULL, &err), LSEC_E_NOTFOUND, &err);
	assert_non_null(strstr(err.msg, "the current folder"));
	assert_int_equal(chdir(fx->dir), 0);
	lsec_line *l = NULL;
	assert_lsec_ok(lsec_line_open(&l, NULL, &err), &err);
	assert_string_equal(lsec_line_station(l), "station1");
	lsec_line_close(l);
	assert_int_equal(chdir(cwd), 0);
	lsec_test_rmtree(empty);
}

static void write_file(const char *path, const char *text)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_file_write_atomic(path, text, strlen(text), 0640, &err), &err);
}

static void test_line_config__bad_config_names_the_field(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	char *dir = lsec_test_tmpdir();
	char *cfg = lsec_test_path(dir, "line.yaml");
	lsec_line *l = NULL;
	const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{"version: 1\nstation: s\nregistry: r.db\n", "field 'line' is missing"},
		{"version: 2\nline: l\nstation: s\nregistry: r.db\n", "version '2' is not supported"},
		{"version: 1\nline: [a]\nstation: s\nregistry: r.db\n", "field 'line' must be a single value"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  lifetime_minutes: 0\n",
		 "session.lifetime_minutes '0'"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - target: x\n",
		 "products[0] has no id"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts: 3\n", "'products' must be a list"},
		{"version: 1\nline: [unclosed\n", "not valid YAML at line 3"},
		{"version: 1\n%YAML 1.2\n---\nline: l\n", "line 2, column 1 (offset 11) holds a YAML directive"},
		/* unknown keys are refused at their line and column, never dropped */
		{"version: 1\nline: l\nstaton: s\nregistry: r.db\n",
		 "line 3, column 1: unknown key 'staton' in line.yaml: expected version, line, station"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  lifetime_minute: 5\n",
		 "line 6, column 3: unknown key 'lifetime_minute' in session: expected lifetime_minutes"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession: 5\n",
		 "field 'session' must be a mapping"},
		/* the idle time: a whole number in bounds, one key, not past the lifetime */
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_minutes: 0\n",
		 "line 6, column 17: session.idle_minutes '0' must be a whole number 1..1440"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_minutes: 15m\n",
		 "line 6, column 17: session.idle_minutes '15m' must be a whole number 1..1440"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_minutes: -5\n",
		 "session.idle_minutes '-5' must be a whole number"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_minutes: [1]\n",
		 "session.idle_minutes '(not a single value)'"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_seconds: "
		 "99999999999999999999999\n",
		 "line 6, column 17: session.idle_seconds '99999999999999999999999' must be a whole "
		 "number 1..86400"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_minutes: 5\n"
		 "  idle_seconds: 5\n",
		 "line 7, column 17: session.idle_seconds and session.idle_minutes both set"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  lifetime_minutes: 10\n"
		 "  idle_minutes: 30\n",
		 "line 7, column 17: session.idle_minutes is longer than session.lifetime_minutes (10)"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nsession:\n  idle_minute: 5\n",
		 "line 6, column 3: unknown key 'idle_minute' in session: expected lifetime_minutes, "
		 "idle_minutes, idle_seconds"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    targt: y\n",
		 "line 8, column 5: unknown key 'targt' in products[0]: expected id, target, family, "
		 "revision, policies"},
		/* the chip a product is made on: a family, and a revision only with it */
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    revision: A2\n",
		 "line 8, column 15: product 'p': a revision needs its family"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    family: lm3s 6965\n",
		 "line 8, column 13: product 'p': family 'lm3s 6965' is not a chip family name"},
		/* the policies that set nothing are refused, not accepted and ignored */
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    policies:\n      require_attestation: false\n",
		 "line 9, column 7: unknown key 'require_attestation' in the policies of product 'p': "
		 "expected no keys; the firmware key is a registry record ('linesec product key'); "
		 "retries and witnesses are set by the SOPs"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    policies:\n      witness_scrap: false\n",
		 "line 9, column 7: unknown key 'witness_scrap'"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    policies:\n      flash_retries: 0\n",
		 "line 9, column 7: unknown key 'flash_retries'"},
		{"version: 1\nline: l\nstation: s\nregistry: r.db\nproducts:\n  - id: p\n    target: x\n"
		 "    policies:\n      firmware_key: [a]\n",
		 "line 9, column 7: unknown key 'firmware_key'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(cfg, cases[i].text);
		int rc = lsec_line_open(&l, dir, &err);
		if (rc != LSEC_E_PARSE || strstr(err.msg, cases[i].msg) == NULL) {
			fail_msg("case %zu: got %d '%s', expected parse error with '%s'", i, rc, err.msg,
				 cases[i].msg);
		}
		assert_null(l);
	}
	/* family and revision are kept for the early chip check */
	{
		static const char text[] = "version: 1\nline: l\nstation: s\nregistry: r.db\n"
					   "products:\n  - id: p\n    target: x\n"
					   "    family: lm3s6965\n    revision: A2\n  - id: q\n"
					   "    target: y\n";
		lsec_line *ok = lsec_calloc(1, sizeof(*ok));
		const char *fam = NULL, *rev = NULL;
		assert_non_null(ok);
		assert_lsec_ok(lsec_line__config_parse(ok, text, sizeof(text) - 1, "line.yaml", &err),
			       &err);
		assert_true(lsec_line_product_chip(ok, 0, &fam, &rev));
		assert_string_equal(fam, "lm3s6965");
		assert_string_equal(rev, "A2");
		assert_true(lsec_line_product_chip(ok, 1, &fam, &rev));
		assert_null(fam);
		assert_null(rev);
		assert_false(lsec_line_product_chip(ok, 2, &fam, &rev));
		lsec_line_close(ok);
	}
	/* A NUL byte (libfyaml 0.8 hangs on "%v\0...") is refused before parsing. */
	assert_lsec_ok(lsec_file_write_atomic(cfg, "%v\0: x", 7, 0640, &err), &err);
	assert_lsec_code(lsec_line_open(&l, dir, &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "column 1 (offset 0) holds a YAML directive"));
	assert_lsec_ok(lsec_file_write_atomic(cfg, "v: \0x", 6, 0640, &err), &err);
	assert_lsec_code(lsec_line_open(&l, dir, &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "column 4 (offset 3) holds a NUL byte"));
	assert_lsec_ok(lsec_file_write_atomic(cfg, "line: '\x8f'\n", 10, 0640, &err), &err);
	assert_lsec_code(lsec_line_open(&l, dir, &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "line 1, column 8 (offset 7) holds invalid UTF-8"));
	assert_lsec_ok(lsec_file_write_atomic(cfg, "line: ''''''''''\n", 17, 0640, &err), &err);
	assert_lsec_code(lsec_line_open(&l, dir, &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "(offset 6) holds a run of single quotes"));
	/* a tab after a complex key crashed libfyaml 0.8 (found by fuzz_line) */
	write_file(cfg, "version: 1\nline: l\n?  e:\t : 1\n");
	assert_lsec_code(lsec_line_open(&l, dir, &err), LSEC_E_PARSE, &err);
	assert_non_null(strstr(err.msg, "line 3, column 6 (offset 24) holds a tab character"));
	lsec_free(cfg);
	lsec_test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_config__init_creates_the_line,
						line_fx_setup, line_fx_teardown),
		cmocka_unit_test(test_line_config__failed_init_leaves_nothing),
		cmocka_unit_test_setup_teardown(test_line_config__discovery, line_fx_setup,
						line_fx_teardown),
		cmocka_unit_test(test_line_config__bad_config_names_the_field),
	};
	return lsec_test_run_backends("line/config", tests, sizeof(tests) / sizeof(tests[0]));
}
