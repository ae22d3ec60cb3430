/*
 * Policy rules: for every rule, a default SOP edited to break it is refused
 * with LSEC_E_SOP_POLICY naming that rule, at a line of the file.
 */
#include "helpers/testutil.h"

#include "linesec/sop.h"

#include <stdlib.h>
#include <string.h>

static char *read_default(const char *kind)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "sops/%s.yaml", kind);
	return lsec_test_source(rel, NULL);
}

/* Applies edits (pairs from, to; each `from` must occur) to a default SOP. */
static char *edited(const char *kind, const char *const *edits, size_t n)
{
	char *s = read_default(kind);
	for (size_t i = 0; i + 1 < n; i += 2) {
		const char *at = strstr(s, edits[i]);
		if (at == NULL) {
			fail_msg("test edit: '%s' not found in %s", edits[i], kind);
		}
		char *t = lsec_asprintf("%.*s%s%s", (int)(at - s), s, edits[i + 1],
					at + strlen(edits[i]));
		lsec_free(s);
		s = t;
	}
	return s;
}

static void expect_rule(const char *kind, const char *const *edits, size_t n, const char *rule)
{
	char *text = edited(kind, edits, n);
	lsec_err err = LSEC_ERR_INIT;
	lsec_sop *sop = NULL;
	lsec_sop_diags *d = NULL;
	int rc = lsec_sop_parse(&sop, &d, (const uint8_t *)text, strlen(text), "t.yaml", &err);
	bool found = false;
	for (size_t i = 0; i < lsec_sop_diags_count(d); i++) {
		const lsec_sop_diag *g = lsec_sop_diags_at(d, i);
		if (g->code == LSEC_E_SOP_POLICY && g->rule != NULL && strcmp(g->rule, rule) == 0) {
			found = true;
			assert_true(g->line > 0);
			assert_non_null(strstr(g->text, rule));
		}
	}
	if (!found) {
		for (size_t i = 0; i < lsec_sop_diags_count(d); i++) {
			print_message("  have: %s\n", lsec_sop_diags_at(d, i)->text);
		}
		fail_msg("rule '%s' not reported", rule);
	}
	assert_int_equal(rc, LSEC_E_SOP_POLICY);
	assert_null(sop);
	lsec_sop_diags_free(d);
	lsec_free(text);
}

#define EXPECT_RULE(kind, rule, ...)                                                   \
	do {                                                                           \
		static const char *const e_[] = {__VA_ARGS__};                        \
		expect_rule((kind), e_, sizeof(e_) / sizeof(e_[0]), (rule));          \
	} while (0)

static void test_sop_policy__flash_order(void **state)
{
	(void)state;
	/* verify-flash dropped */
	EXPECT_RULE("flash", "flash-order", "do: device.verify-flash", "do: device.identify");
	/* boot-attest dropped */
	EXPECT_RULE("flash", "flash-order", "do: device.boot-attest\n    with: {timeout-s: 30}",
		    "do: device.identify");
	/* image.check moved after device.flash */
	EXPECT_RULE("flash", "flash-order", "    with: {slot: primary}\n", "", "do: image.check",
		    "do: TMP", "do: device.flash", "do: image.check", "do: TMP", "do: device.flash");
}

static void test_sop_policy__provision_key_order(void **state)
{
	(void)state;
	EXPECT_RULE("provision", "provision-key-order", "do: device.prove-possession",
		    "do: device.identify");
	EXPECT_RULE("provision", "provision-key-order",
		    "do: device.keygen\n    with: {slot: 0, type: ecdsa-p256}", "do: device.identify");
	/* write-cert before ca.issue */
	EXPECT_RULE("provision", "provision-key-order", "do: ca.issue\n    with: {profile: device, validity-days: 7300}",
		    "do: TMP", "do: device.write-cert\n    with: {slot: 0}", "do: ca.issue",
		    "do: TMP", "do: device.write-cert");
}

static void test_sop_policy__provision_credential(void **state)
{
	(void)state;
	EXPECT_RULE("provision", "provision-credential", "do: device.write-credential",
		    "do: device.identify");
	EXPECT_RULE("provision", "provision-credential",
		    "do: credential.generate\n    with: {length: 20, alphabet: base32}",
		    "do: device.identify");
}

static void test_sop_policy__secure_boot_order(void **state)
{
	(void)state;
	EXPECT_RULE("secure-boot", "secure-boot-order", "do: otp.verify", "do: device.identify");
	EXPECT_RULE("secure-boot", "secure-boot-order", "do: otp.lock", "do: device.identify");
	/* enable before the digest burn */
	EXPECT_RULE("secure-boot", "secure-boot-order", "do: otp.burn-key-digest\n    with: {slot: 0}",
		    "do: TMP", "do: otp.enable-secure-boot", "do: otp.burn-key-digest", "do: TMP",
		    "do: otp.enable-secure-boot");
	/* counter burned after the lock */
	EXPECT_RULE("secure-boot", "secure-boot-order", "do: otp.burn-counter", "do: TMP",
		    "do: otp.lock", "do: otp.burn-counter", "do: TMP", "do: otp.lock");
}

static void test_sop_policy__debug_lock_order(void **state)
{
	(void)state;
	EXPECT_RULE("debug-lock", "debug-lock-order", "do: debug.verify-locked", "do: device.identify");
	EXPECT_RULE("debug-lock", "debug-lock-order", "do: debug.lock\n    with: {interface: all}",
		    "do: device.identify");
}

static void test_sop_policy__console_verified(void **state)
{
	(void)state;
	EXPECT_RULE("debug-lock", "console-verified", "do: console.verify-closed",
		    "do: device.identify");
}

static void test_sop_policy__decommission_revoke(void **state)
{
	(void)state;
	EXPECT_RULE("decommission", "decommission-revoke", "do: identity.revoke\n",
		    "do: identity.revoke\n    when: unreachable\n");
	EXPECT_RULE("decommission", "decommission-revoke", "do: identity.revoke",
		    "do: device.identify");
}

static void test_sop_policy__decommission_wipe(void **state)
{
	(void)state;
	EXPECT_RULE("decommission", "decommission-wipe",
		    "do: device.erase\n    with: {region: all}\n    who: operator\n    when: reachable",
		    "do: device.erase\n    with: {region: all}\n    who: operator\n    when: unreachable");
	EXPECT_RULE("decommission", "decommission-wipe", "do: device.blank-check", "do: device.identify");
}

static void test_sop_policy__scrap_witness(void **state)
{
	(void)state;
	EXPECT_RULE("decommission", "scrap-witness", "    witness: supervisor\n", "");
	EXPECT_RULE("decommission", "scrap-witness",
		    "do: scrap.record\n    with: {method: shred}\n    who: operator\n    witness: supervisor\n    text: >-\n      Shred the board of unit {serial} in front of the supervisor and confirm.\n      The supervisor confirms under their own login that it was destroyed.\n",
		    "do: confirm\n    who: operator\n    witness: supervisor\n    text: Shred it.\n");
}

static void test_sop_policy__action_kind(void **state)
{
	(void)state;
	EXPECT_RULE("flash", "action-kind", "do: device.identify", "do: credential.revoke");
	EXPECT_RULE("debug-lock", "action-kind", "do: console.close", "do: otp.lock");
}

static void test_sop_policy__irreversible_fail_safe(void **state)
{
	(void)state;
	EXPECT_RULE("secure-boot", "irreversible-fail-safe",
		    "then: quarantine\n      message: >-\n        Do not retry and do not reseat.",
		    "then: decommission\n      message: >-\n        Do not retry and do not reseat.");
	EXPECT_RULE("debug-lock", "irreversible-fail-safe",
		    "with: {interface: all}\n    who: operator\n    on-failure:\n      then: quarantine",
		    "with: {interface: all}\n    who: operator\n    on-failure:\n      then: continue");
}

static void test_sop_policy__irreversible_no_retry(void **state)
{
	(void)state;
	EXPECT_RULE("secure-boot", "irreversible-no-retry",
		    "      then: quarantine\n      message: >-\n        Do not retry and do not reseat.",
		    "      retry: 1\n      then: quarantine\n      message: >-\n        Do not retry and do not reseat.");
}

static void test_sop_policy__irreversible_once(void **state)
{
	(void)state;
	EXPECT_RULE("secure-boot", "irreversible-once", "  - id: verify\n",
		    "  - id: lock-again\n    do: otp.lock\n    who: operator\n"
		    "    on-failure: {then: quarantine, message: Quarantine it.}\n  - id: verify\n");
}

static void test_sop_policy__verify_after_irreversible(void **state)
{
	(void)state;
	EXPECT_RULE("debug-lock", "verify-after-irreversible", "do: debug.verify-locked",
		    "do: console.close", "do: console.verify-closed", "do: console.close");
}

static void test_sop_policy__continue_advisory_only(void **state)
{
	(void)state;
	EXPECT_RULE("flash", "continue-advisory-only", "      retry: 2\n      then: quarantine",
		    "      retry: 2\n      then: continue");
}

static void test_sop_policy__witness_distinct(void **state)
{
	(void)state;
	EXPECT_RULE("debug-lock", "witness-distinct", "    witness: supervisor", "    witness: operator");
}

static void test_sop_policy__action_roles(void **state)
{
	(void)state;
	/* an auditor doing a step */
	EXPECT_RULE("flash", "action-roles", "roles:\n", "roles:\n  auditor: Reads the records.\n",
		    "do: device.identify\n    who: operator", "do: device.identify\n    who: auditor");
	/* a security officer running the flash itself */
	EXPECT_RULE("flash", "action-roles", "roles:\n",
		    "roles:\n  security-officer: Approves.\n",
		    "do: device.flash\n    with: {slot: primary}\n    who: operator",
		    "do: device.flash\n    with: {slot: primary}\n    who: security-officer");
}

static void test_sop_policy__witness_role(void **state)
{
	(void)state;
	/* the tamper seal witnessed by an auditor */
	EXPECT_RULE("debug-lock", "witness-role", "roles:\n", "roles:\n  auditor: Reads the records.\n",
		    "    witness: supervisor", "    witness: auditor");
	/* destruction witnessed by another operator's role */
	EXPECT_RULE("decommission", "witness-role", "roles:\n", "roles:\n  auditor: Reads the records.\n",
		    "    witness: supervisor", "    witness: auditor");
}

static void test_sop_policy__mandatory_steps(void **state)
{
	(void)state;
	/* decommission without credential.revoke, or with it on reachable units only */
	EXPECT_RULE("decommission", "decommission-credential", "do: credential.revoke",
		    "do: device.identify");
	EXPECT_RULE("decommission", "decommission-credential", "do: credential.revoke\n",
		    "do: credential.revoke\n    when: reachable\n");
	/* the tamper seal without the supervisor's witness */
	EXPECT_RULE("debug-lock", "debug-lock-seal", "    witness: supervisor\n", "");
	/* without the console steps */
	EXPECT_RULE("debug-lock", "debug-lock-console", "do: console.close", "do: device.identify");
	EXPECT_RULE("debug-lock", "debug-lock-console", "do: console.close", "do: device.identify",
		    "do: console.verify-closed", "do: device.identify");
	/* without the debug-auth digest burn, or with it after the lock */
	EXPECT_RULE("secure-boot", "secure-boot-debug-auth", "do: otp.burn-debug-auth-digest",
		    "do: device.identify");
	/* without the rollback-counter burn */
	EXPECT_RULE("secure-boot", "secure-boot-counter", "do: otp.burn-counter", "do: device.identify");
	/* without the negative boot test, or with it before the lock */
	EXPECT_RULE("secure-boot", "secure-boot-negative-test",
		    "do: secure-boot.negative-test\n    with: {sample: 50}", "do: device.identify");
	EXPECT_RULE("secure-boot", "secure-boot-negative-test",
		    "do: secure-boot.negative-test\n    with: {sample: 50}", "do: TMP", "do: otp.lock",
		    "do: secure-boot.negative-test\n    with: {sample: 50}", "do: TMP", "do: otp.lock");
	/* a provision that never prints the label carrying the credential */
	EXPECT_RULE("provision", "provision-label", "do: label.print\n    with: {template: identity}",
		    "do: device.identify");
}

static void test_sop_policy__conditional_decommission_only(void **state)
{
	(void)state;
	EXPECT_RULE("flash", "conditional-decommission-only", "do: device.identify\n",
		    "do: device.identify\n    when: reachable\n");
}

static void test_sop_policy__identify_first(void **state)
{
	(void)state;
	EXPECT_RULE("flash", "identify-first", "do: device.identify", "do: label.print");
	/* identified only after the erase */
	EXPECT_RULE("decommission", "identify-first", "do: device.identify", "do: TMP",
		    "do: device.erase\n    with: {region: all}", "do: device.identify",
		    "do: TMP", "do: device.erase\n    with: {region: all}");
}

static void test_sop_policy__lifecycle_states(void **state)
{
	(void)state;
	EXPECT_RULE("flash", "lifecycle-states", "to-state: flashed", "to-state: provisioned");
	EXPECT_RULE("decommission", "lifecycle-states", "to-state: scrapped", "to-state: returned");
}

/*
 * A parameter the station would not honour as written is refused at its
 * line by the schema (bad-parameter), naming what is allowed: one row per
 * value a weakened file could try.
 */
static void test_sop_policy__parameters_honoured_or_refused(void **state)
{
	(void)state;
	static const struct {
		const char *kind, *from, *to, *needle;
	} rows[] = {
		/* a debug lock limited to one interface would leave the other open */
		{"debug-lock", "with: {interface: all}", "with: {interface: swd}", "expected one of all"},
		{"debug-lock", "with: {interface: all}", "with: {interface: jtag}", "expected one of all"},
		/* a partial erase leaves data behind */
		{"decommission", "with: {region: all}", "with: {region: keys-and-data}", "expected one of all"},
		/* the CRL reason follows the decommission reason, not the file */
		{"decommission", "do: identity.revoke\n", "do: identity.revoke\n    with: {reason: superseded}\n",
		 "takes no parameters"},
		/* a destruction method `linesec scrap` cannot record */
		{"decommission", "with: {method: shred}", "with: {method: drill}", "expected one of shred"},
		{"decommission", "with: {method: shred}", "with: {method: degauss}", "expected one of shred"},
		/* the negative boot test sampled too rarely */
		{"secure-boot", "with: {sample: 50}", "with: {sample: 10000}", "from 1 to 100"},
		{"secure-boot", "with: {sample: 50}", "with: {sample: 101}", "from 1 to 100"},
		/* a key-digest slot the device does not have */
		{"secure-boot", "with: {slot: 0}", "with: {slot: 2}", "from 0 to 0"},
		/* a flash slot the boot ROM does not boot */
		{"flash", "with: {slot: primary}", "with: {slot: secondary}", "expected one of primary"},
		/* a key type the device CSR and the line CA do not use */
		{"provision", "type: ecdsa-p256", "type: ed25519", "expected one of ecdsa-p256"},
		/* a label template with a placeholder the label would print as written */
		{"flash", "with: {template: flashed}", "with: {template: \"{serial}\"}", "is not a name"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *const e[] = {rows[i].from, rows[i].to};
		char *text = edited(rows[i].kind, e, 2);
		lsec_err err = LSEC_ERR_INIT;
		lsec_sop *sop = NULL;
		lsec_sop_diags *d = NULL;
		int rc = lsec_sop_parse(&sop, &d, (const uint8_t *)text, strlen(text), "t.yaml", &err);
		bool named = false;
		for (size_t k = 0; k < lsec_sop_diags_count(d); k++) {
			const lsec_sop_diag *g = lsec_sop_diags_at(d, k);
			named |= g->code == LSEC_E_SOP_BAD_PARAM && g->line > 0 &&
				 strstr(g->text, rows[i].needle) != NULL;
		}
		if (rc != LSEC_E_SOP_BAD_PARAM || !named) {
			for (size_t k = 0; k < lsec_sop_diags_count(d); k++) {
				print_message("  have: %s\n", lsec_sop_diags_at(d, k)->text);
			}
			fail_msg("row %zu (%s): '%s' not refused with '%s' (rc %d)", i, rows[i].kind,
				 rows[i].to, rows[i].needle, rc);
		}
		assert_null(sop);
		lsec_sop_diags_free(d);
		lsec_free(text);
	}
}

static void test_sop_policy__every_rule_is_tested_and_named(void **state)
{
	(void)state;
	/* the rule list this file covers; a new rule must get a test here */
	static const char *const tested[] = {
		"flash-order", "provision-key-order", "provision-credential", "provision-label",
		"secure-boot-order", "secure-boot-counter", "secure-boot-debug-auth",
		"secure-boot-negative-test",
		"debug-lock-order", "debug-lock-console", "debug-lock-seal", "console-verified",
		"decommission-revoke", "decommission-credential", "decommission-wipe",
		"scrap-witness", "action-kind", "irreversible-fail-safe", "irreversible-no-retry",
		"irreversible-once", "verify-after-irreversible", "continue-advisory-only",
		"witness-distinct", "action-roles", "witness-role", "conditional-decommission-only",
		"identify-first", "lifecycle-states"};
	size_t n = sizeof(tested) / sizeof(tested[0]);
	assert_int_equal(lsec_sop_rule_count(), n);
	for (size_t i = 0; i < n; i++) {
		const lsec_sop_rule *r = lsec_sop_rule_at(i);
		assert_string_equal(r->id, tested[i]);
		assert_true(strlen(r->sentence) > 20);
	}
	assert_null(lsec_sop_rule_at(n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sop_policy__flash_order),
		cmocka_unit_test(test_sop_policy__provision_key_order),
		cmocka_unit_test(test_sop_policy__provision_credential),
		cmocka_unit_test(test_sop_policy__secure_boot_order),
		cmocka_unit_test(test_sop_policy__debug_lock_order),
		cmocka_unit_test(test_sop_policy__console_verified),
		cmocka_unit_test(test_sop_policy__decommission_revoke),
		cmocka_unit_test(test_sop_policy__decommission_wipe),
		cmocka_unit_test(test_sop_policy__scrap_witness),
		cmocka_unit_test(test_sop_policy__action_kind),
		cmocka_unit_test(test_sop_policy__irreversible_fail_safe),
		cmocka_unit_test(test_sop_policy__irreversible_no_retry),
		cmocka_unit_test(test_sop_policy__irreversible_once),
		cmocka_unit_test(test_sop_policy__verify_after_irreversible),
		cmocka_unit_test(test_sop_policy__continue_advisory_only),
		cmocka_unit_test(test_sop_policy__witness_distinct),
		cmocka_unit_test(test_sop_policy__action_roles),
		cmocka_unit_test(test_sop_policy__witness_role),
		cmocka_unit_test(test_sop_policy__mandatory_steps),
		cmocka_unit_test(test_sop_policy__conditional_decommission_only),
		cmocka_unit_test(test_sop_policy__identify_first),
		cmocka_unit_test(test_sop_policy__lifecycle_states),
		cmocka_unit_test(test_sop_policy__parameters_honoured_or_refused),
		cmocka_unit_test(test_sop_policy__every_rule_is_tested_and_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
