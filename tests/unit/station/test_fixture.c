/* Fixture files (parser, malformed cases naming file:line and field) and the failure classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linesec/device.h"
#include "linesec/station.h"
#include "station/station_int.h"

static int parse(lsec_station_fixture **f, const char *text, lsec_err *err)
{
	return lsec_station_fixture_parse(f, (const uint8_t *)text, strlen(text), "jig.yaml", err);
}

static void test_fixture__parses_sockets(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_fixture *f = NULL;
	assert_int_equal(parse(&f,
			       "fixture: 1\nname: jig-a\nsockets:\n"
			       "  - {socket: 2, probe: \"rsp://127.0.0.1:3333?profile=linesec-sim\", "
			       "probe-serial: JIG-2, serial: unit-002}\n"
			       "  - socket: 1\n    probe: rsp://127.0.0.1:3334\n    serial: scan\n",
			       &err),
			 0);
	assert_int_equal(lsec_station_fixture_count(f), 2);
	const lsec_station_fixture_socket *a = lsec_station_fixture_at(f, 0);
	const lsec_station_fixture_socket *b = lsec_station_fixture_at(f, 1);
	assert_int_equal(a->socket, 2);
	assert_string_equal(a->probe, "rsp://127.0.0.1:3333?profile=linesec-sim");
	assert_string_equal(a->probe_serial, "JIG-2");
	assert_string_equal(a->serial, "unit-002");
	assert_int_equal(a->line, 4);
	assert_int_equal(b->socket, 1);
	assert_null(b->probe_serial);
	assert_null(b->serial); /* scan: read from the unit */
	assert_null(lsec_station_fixture_at(f, 2));
	lsec_station_fixture_free(f);
}

static void test_fixture__malformed_refused_naming_line_and_field(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{"", "empty"},
		{"fixture: 2\nsockets: []\n", "jig.yaml:1:10: fixture: format version '2'"},
		{"sockets:\n  - {socket: 1, probe: rsp://h:1}\n", "fixture: missing"},
		{"fixture: 1\n", "sockets: missing"},
		{"fixture: 1\nsockets: []\n", "sockets: must be a list"},
		{"fixture: 1\nsockets:\n  - {socket: 0, probe: rsp://h:1}\n", "jig.yaml:3:14: socket:"},
		{"fixture: 1\nsockets:\n  - {socket: 1x, probe: rsp://h:1}\n", "socket: '1x'"},
		{"fixture: 1\nsockets:\n  - {socket: 1}\n", "probe is missing"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: http://h:1}\n", "probe: 'http://h:1'"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://h:1, color: red}\n",
		 "unknown key 'color'"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://h:1}\n  - {socket: 1, probe: "
		 "rsp://h:2}\n",
		 "jig.yaml:4:14: socket: socket 1 is bound twice"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://h:1}\n  - {socket: 2, probe: "
		 "rsp://h:1}\n",
		 "probe: probe 'rsp://h:1' is bound to sockets 1 and 2"},
		/* One server under two spellings of its loopback host or port. */
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: \"rsp://127.0.0.1:3333?profile=p\"}\n"
		 "  - {socket: 2, probe: \"rsp://localhost:3333?profile=p\"}\n",
		 "jig.yaml:4:25: probe: probe 'rsp://localhost:3333?profile=p' of socket 2 names the "
		 "server of socket 1's probe 'rsp://127.0.0.1:3333?profile=p' (loopback:3333)"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: \"rsp://[::1]:3333\"}\n  - {socket: 2, "
		 "probe: rsp://127.1.2.3:03333}\n",
		 "names the server of socket 1's probe 'rsp://[::1]:3333'"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://Jig-A:1}\n  - {socket: 2, "
		 "probe: rsp://jig-a:1}\n",
		 "(jig-a:1)"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://h:1, probe-serial: A}\n  - {socket: "
		 "2, probe: rsp://h:2, probe-serial: A}\n",
		 "probe-serial: probe serial 'A'"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://h:1, serial: u1}\n  - {socket: 2, "
		 "probe: rsp://h:2, serial: u1}\n",
		 "serial: unit 'u1' is placed in sockets 1 and 2"},
		{"fixture: 1\nsockets:\n  - {socket: 1, probe: rsp://h:1, serial: \"a b\"}\n", "serial:"},
		{"fixture: 1\nsockets:\n  - [1, 2]\n", "sockets[0]: must be a mapping"},
		{"fixture: 1\nsockets: {a: 1}\n", "sockets: must be a list"},
		{"fixture: [1\n", "not valid YAML"},
		{"- 1\n", "expected a mapping"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lsec_err err = LSEC_ERR_INIT;
		lsec_station_fixture *f = NULL;
		int rc = parse(&f, bad[i].text, &err);
		if (rc >= 0 || strstr(err.msg, bad[i].want) == NULL) {
			print_error("case %zu: rc %d, message '%s', wanted '%s'\n", i, rc, err.msg,
				    bad[i].want);
			fail();
		}
		assert_null(f);
	}
}

/*
 * A step retried after a sticky permanent failure (a protocol error), whose
 * reset failed too, meets the failed session (LSEC_E_TGT_FAILED, transient
 * alone): it is classed by its first cause, permanent, not reseated.
 */
static void test_fixture__retry_classed_by_first_cause(void **state)
{
	(void)state;
	int code = lsec_station__failure_cause(LSEC_E_TGT_PROTOCOL, LSEC_E_TGT_FAILED);
	assert_int_equal(code, LSEC_E_TGT_PROTOCOL);
	assert_int_equal(lsec_station_failure_classify(code), LSEC_FAILURE_PERMANENT);
	code = lsec_station__failure_cause(LSEC_E_DEVICE, LSEC_E_TGT_FAILED);
	assert_int_equal(lsec_station_failure_classify(code), LSEC_FAILURE_PERMANENT);
	/* A lost link stays transient; a failed session with no cause before is itself. */
	code = lsec_station__failure_cause(LSEC_E_TGT_LINK, LSEC_E_TGT_FAILED);
	assert_int_equal(lsec_station_failure_classify(code), LSEC_FAILURE_TRANSIENT);
	assert_int_equal(lsec_station__failure_cause(0, LSEC_E_TGT_FAILED), LSEC_E_TGT_FAILED);
	/* A retry that fails its own way is classed by that. */
	assert_int_equal(lsec_station__failure_cause(LSEC_E_TGT_PROTOCOL, LSEC_E_TGT_VERIFY),
			 LSEC_E_TGT_VERIFY);
}

static void test_fixture__failure_classes(void **state)
{
	(void)state;
	assert_int_equal(lsec_station_failure_classify(0), LSEC_FAILURE_NONE);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_TGT_LINK), LSEC_FAILURE_TRANSIENT);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_TGT_TIMEOUT), LSEC_FAILURE_TRANSIENT);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_TGT_ATTACH_FAILED),
			 LSEC_FAILURE_TRANSIENT);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_TGT_POWER_LOSS),
			 LSEC_FAILURE_TRANSIENT);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_TGT_WRONG_CHIP),
			 LSEC_FAILURE_PERMANENT);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_TGT_VERIFY), LSEC_FAILURE_PERMANENT);
	assert_int_equal(lsec_station_failure_classify(LSEC_E_STATION_CLONE),
			 LSEC_FAILURE_PERMANENT);
	/* A code the table does not name is permanent: no lamp waits on a misconfiguration. */
	assert_int_equal(lsec_station_failure_classify(LSEC_E_PARSE), LSEC_FAILURE_PERMANENT);
	assert_string_equal(lsec_station_failure_class_name(LSEC_FAILURE_TRANSIENT), "transient");
	assert_null(lsec_station_failure_class_name(LSEC_FAILURE_NONE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture__parses_sockets),
		cmocka_unit_test(test_fixture__malformed_refused_naming_line_and_field),
		cmocka_unit_test(test_fixture__failure_classes),
		cmocka_unit_test(test_fixture__retry_classed_by_first_cause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
