/*
 * policy.c - the named rules a SOP must satisfy. A file that weakens a
 * procedure (drops or reorders a mandatory action, lets an irreversible
 * step fail open, lets one person witness themselves, ...) is refused with
 * the id of the rule it breaks, at the line and column of the offending
 * step. Each rule has a test in tests/unit/sop/test_policy.c.
 *
 * Mandatory sequences per kind (issue "SOPs as data"):
 *   flash         image.check < device.flash < device.verify-flash < device.boot-attest
 *   provision     (device.keygen | station.keygen) < ca.issue < device.write-cert
 *                 < device.prove-possession; credential.generate < device.write-credential
 *                 < label.print (the identity label carries the credential)
 *   secure-boot   otp.burn-key-digest < otp.enable-secure-boot < otp.lock < otp.verify;
 *                 otp.burn-counter < otp.lock; otp.burn-debug-auth-digest < otp.lock;
 *                 otp.lock < secure-boot.negative-test
 *   debug-lock    debug.lock < debug.verify-locked; console.close < console.verify-closed;
 *                 debug.verify-locked < a confirm witnessed by a supervisor or security
 *                 officer (the tamper seal)
 *   decommission  identity.revoke and credential.revoke (every unit);
 *                 device.erase < device.blank-check (every reachable unit)
 *
 * The rules hold for every product of every line: each target the station
 * drives has a UART service console and an anti-rollback counter (the
 * device interface's UART_DISABLE and ANTI_ROLLBACK fuses), so no line.yaml
 * setting exempts a product from the console or counter steps; a release
 * without a security counter burns 0, which changes nothing.
 */
#include "sop/sop_int.h"

#include <string.h>

typedef struct rule rule;
typedef void (*rule_fn)(const lsec_sop *sop, const rule *r, lsec_sop_diags *d);

struct rule {
	lsec_sop_rule pub;
	rule_fn check;
};

#define STEP(sop, i) (&(sop)->steps[i])
#define ACT(sop, i) ((sop)->steps[i].pub.action)
#define HAS(sop, i, fl) ((ACT(sop, i)->flags & (fl)) != 0)

static void violation(lsec_sop_diags *d, const rule *r, sop_loc at, const char *fmt, ...)
	LSEC_PRINTF(4, 5);

static void violation(lsec_sop_diags *d, const rule *r, sop_loc at, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lsec_sop__diag(d, LSEC_E_SOP_POLICY, at, r->pub.id, "refused by rule '%s': %s (rule: %s)",
		       r->pub.id, msg, r->pub.sentence);
}

/* Whether an action id matches "a" or "a|b". */
static bool matches(const char *id, const char *spec)
{
	size_t n = strlen(id);
	for (const char *p = spec; p != NULL && *p != 0;) {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, id, n) == 0) {
			return true;
		}
		p = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}

/* Steps that run on a unit that answers (all but `when: unreachable`). */
static bool runs_on_reachable(const sop_step *st)
{
	return st->pub.when != LSEC_SOP_WHEN_UNREACHABLE;
}

/*
 * Each spec must occur (on a reachable unit), and every occurrence of
 * spec[i] must come after the first occurrence of spec[i-1].
 */
static void chain(const lsec_sop *sop, const rule *r, lsec_sop_diags *d, const char *const *spec,
		  size_t n)
{
	ptrdiff_t prev_first = -1;
	for (size_t k = 0; k < n; k++) {
		ptrdiff_t first = -1;
		for (size_t i = 0; i < sop->nsteps; i++) {
			if (!runs_on_reachable(STEP(sop, i)) || !matches(ACT(sop, i)->id, spec[k])) {
				continue;
			}
			if (first < 0) {
				first = (ptrdiff_t)i;
			}
			if (k > 0 && prev_first >= 0 && (ptrdiff_t)i < prev_first) {
				violation(d, r, STEP(sop, i)->loc,
					  "step '%s' (%s) comes before the first '%s' (step '%s')",
					  STEP(sop, i)->pub.id, ACT(sop, i)->id, spec[k - 1],
					  STEP(sop, prev_first)->pub.id);
			}
		}
		if (first < 0) {
			violation(d, r, sop->steps_loc, "%s SOP has no step doing '%s'",
				  lsec_sop_kind_name(sop->kind), spec[k]);
		}
		prev_first = first;
	}
}

#define CHAIN(sop, r, d, ...)                                                          \
	do {                                                                           \
		static const char *const spec_[] = {__VA_ARGS__};                     \
		chain((sop), (r), (d), spec_, sizeof(spec_) / sizeof(spec_[0]));       \
	} while (0)

static void flash_order(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_FLASH) {
		CHAIN(sop, r, d, "image.check", "device.flash", "device.verify-flash",
		      "device.boot-attest");
	}
}

static void provision_key_order(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_PROVISION) {
		CHAIN(sop, r, d, "device.keygen|station.keygen", "ca.issue", "device.write-cert",
		      "device.prove-possession");
	}
}

static void provision_credential(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_PROVISION) {
		CHAIN(sop, r, d, "credential.generate", "device.write-credential");
	}
}

static void secure_boot_order(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind != LSEC_SOP_SECURE_BOOT) {
		return;
	}
	CHAIN(sop, r, d, "otp.burn-key-digest", "otp.enable-secure-boot", "otp.lock", "otp.verify");
	/* Nothing is burned once the OTP is locked: it would fail, or worse, not. */
	ptrdiff_t lock = -1;
	for (size_t i = 0; i < sop->nsteps; i++) {
		if (lock < 0 && strcmp(ACT(sop, i)->id, "otp.lock") == 0) {
			lock = (ptrdiff_t)i;
		} else if (lock >= 0 && HAS(sop, i, LSEC_SOP_ACTION_IRREVERSIBLE) &&
			   strncmp(ACT(sop, i)->id, "otp.", 4) == 0) {
			violation(d, r, STEP(sop, i)->loc, "step '%s' (%s) comes after otp.lock",
				  STEP(sop, i)->pub.id, ACT(sop, i)->id);
		}
	}
}

static void debug_lock_order(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_DEBUG_LOCK) {
		CHAIN(sop, r, d, "debug.lock", "debug.verify-locked");
	}
}

static void console_verified(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	bool verified_after = false;
	for (size_t i = sop->nsteps; i-- > 0;) {
		if (strcmp(ACT(sop, i)->id, "console.verify-closed") == 0) {
			verified_after = true;
		} else if (strcmp(ACT(sop, i)->id, "console.close") == 0 && !verified_after) {
			violation(d, r, STEP(sop, i)->loc,
				  "step '%s' closes the console but no console.verify-closed follows",
				  STEP(sop, i)->pub.id);
		}
	}
}

/* A witness confirms under their own login: someone who answers for the line. */
static bool witness_role_ok(const char *role)
{
	return strcmp(role, "supervisor") == 0 || strcmp(role, "security-officer") == 0;
}

/* A step doing action must run on every unit (when: always), and none only on some. */
static void every_unit(const lsec_sop *sop, const rule *r, lsec_sop_diags *d, const char *action,
		       const char *what)
{
	bool always = false;
	for (size_t i = 0; i < sop->nsteps; i++) {
		if (strcmp(ACT(sop, i)->id, action) != 0) {
			continue;
		}
		if (STEP(sop, i)->pub.when == LSEC_SOP_WHEN_ALWAYS) {
			always = true;
		} else {
			violation(d, r, STEP(sop, i)->when_loc, "step '%s' %s only when the unit is %s",
				  STEP(sop, i)->pub.id, what, lsec_sop_when_name(STEP(sop, i)->pub.when));
		}
	}
	if (!always) {
		violation(d, r, sop->steps_loc, "%s SOP has no %s for every unit",
			  lsec_sop_kind_name(sop->kind), action);
	}
}

static void decommission_revoke(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_DECOMMISSION) {
		every_unit(sop, r, d, "identity.revoke", "revokes the identity");
	}
}

static void decommission_credential(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_DECOMMISSION) {
		every_unit(sop, r, d, "credential.revoke", "revokes the initial credential");
	}
}

static void provision_label(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_PROVISION) {
		CHAIN(sop, r, d, "device.write-credential", "label.print");
	}
}

static void secure_boot_counter(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_SECURE_BOOT) {
		CHAIN(sop, r, d, "otp.burn-counter", "otp.lock");
	}
}

static void secure_boot_debug_auth(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_SECURE_BOOT) {
		CHAIN(sop, r, d, "otp.burn-debug-auth-digest", "otp.lock");
	}
}

static void secure_boot_negative_test(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_SECURE_BOOT) {
		CHAIN(sop, r, d, "otp.lock", "secure-boot.negative-test");
	}
}

static void debug_lock_console(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_DEBUG_LOCK) {
		CHAIN(sop, r, d, "console.close", "console.verify-closed");
	}
}

static void debug_lock_seal(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind != LSEC_SOP_DEBUG_LOCK) {
		return;
	}
	ptrdiff_t verified = -1;
	bool sealed = false;
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (verified < 0 && strcmp(ACT(sop, i)->id, "debug.verify-locked") == 0) {
			verified = (ptrdiff_t)i;
		} else if (verified >= 0 && strcmp(ACT(sop, i)->id, "confirm") == 0) {
			sealed |= st->pub.witness != NULL && witness_role_ok(st->pub.witness);
		}
	}
	if (!sealed) {
		violation(d, r, verified >= 0 ? STEP(sop, verified)->loc : sop->steps_loc,
			  "no confirm step (the tamper seal) after debug.verify-locked is witnessed "
			  "by a supervisor or security officer");
	}
}

static void decommission_wipe(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_DECOMMISSION) {
		CHAIN(sop, r, d, "device.erase", "device.blank-check");
	}
}

static void decommission_scrap_witness(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	bool found = false;
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (strcmp(ACT(sop, i)->id, "scrap.record") != 0) {
			continue;
		}
		found = true;
		if (st->pub.witness == NULL) {
			violation(d, r, st->loc, "step '%s' records destruction without a witness",
				  st->pub.id);
		}
	}
	if (sop->kind == LSEC_SOP_DECOMMISSION && !found) {
		violation(d, r, sop->steps_loc, "decommission SOP has no scrap.record step");
	}
}

static void action_kind(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		if ((ACT(sop, i)->kinds & LSEC_SOP_KIND_BIT(sop->kind)) == 0) {
			violation(d, r, STEP(sop, i)->loc, "action '%s' (step '%s') is not part of a %s SOP",
				  ACT(sop, i)->id, STEP(sop, i)->pub.id, lsec_sop_kind_name(sop->kind));
		}
	}
}

static void irreversible_fail_safe(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (HAS(sop, i, LSEC_SOP_ACTION_IRREVERSIBLE) && st->pub.then != LSEC_SOP_THEN_QUARANTINE &&
		    st->pub.then != LSEC_SOP_THEN_STOP_LINE) {
			violation(d, r, st->then_loc,
				  "irreversible step '%s' (%s) has on-failure then '%s': expected quarantine or stop-line",
				  st->pub.id, ACT(sop, i)->id, lsec_sop_then_name(st->pub.then));
		}
	}
}

static void irreversible_no_retry(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (HAS(sop, i, LSEC_SOP_ACTION_IRREVERSIBLE) && st->pub.retry != 0) {
			violation(d, r, st->retry_loc, "irreversible step '%s' (%s) has retry %u: expected 0",
				  st->pub.id, ACT(sop, i)->id, st->pub.retry);
		}
	}
}

static void irreversible_once(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		if (!HAS(sop, i, LSEC_SOP_ACTION_IRREVERSIBLE)) {
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (ACT(sop, j) == ACT(sop, i)) {
				violation(d, r, STEP(sop, i)->loc,
					  "step '%s' repeats irreversible action '%s' of step '%s'",
					  STEP(sop, i)->pub.id, ACT(sop, i)->id, STEP(sop, j)->pub.id);
				break;
			}
		}
	}
}

static void verify_after_irreversible(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		if (!HAS(sop, i, LSEC_SOP_ACTION_IRREVERSIBLE) || !HAS(sop, i, LSEC_SOP_ACTION_DEVICE)) {
			continue;
		}
		bool verified = false;
		for (size_t j = i + 1; j < sop->nsteps && !verified; j++) {
			verified = HAS(sop, j, LSEC_SOP_ACTION_VERIFIES) &&
				   HAS(sop, j, LSEC_SOP_ACTION_DEVICE);
		}
		if (!verified) {
			violation(d, r, STEP(sop, i)->loc,
				  "irreversible step '%s' (%s) is not followed by a device read-back",
				  STEP(sop, i)->pub.id, ACT(sop, i)->id);
		}
	}
}

static void continue_advisory_only(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (st->pub.then == LSEC_SOP_THEN_CONTINUE && !HAS(sop, i, LSEC_SOP_ACTION_ADVISORY)) {
			violation(d, r, st->then_loc, "step '%s' (%s) would let the run continue after a failure",
				  st->pub.id, ACT(sop, i)->id);
		}
	}
}

static void witness_distinct(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (st->pub.witness != NULL && st->pub.who != NULL &&
		    strcmp(st->pub.witness, st->pub.who) == 0) {
			violation(d, r, st->witness_loc, "step '%s' has '%s' witnessing '%s'", st->pub.id,
				  st->pub.witness, st->pub.who);
		}
	}
}

static void action_roles(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	char list[128];
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		const char *const *roles = ACT(sop, i)->roles;
		size_t n = 0;
		bool ok = false;
		for (; roles[n] != NULL; n++) {
			ok |= st->pub.who != NULL && strcmp(st->pub.who, roles[n]) == 0;
		}
		if (st->pub.who != NULL && !ok) {
			violation(d, r, st->who_loc, "step '%s' (%s) is done by %s: expected %s",
				  st->pub.id, ACT(sop, i)->id, st->pub.who,
				  lsec_name_list(list, sizeof(list), roles, n));
		}
	}
}

static void witness_role(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (st->pub.witness != NULL && !witness_role_ok(st->pub.witness)) {
			violation(d, r, st->witness_loc,
				  "step '%s' has witness '%s': expected supervisor or security-officer",
				  st->pub.id, st->pub.witness);
		}
	}
}

static void conditional_decommission_only(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	if (sop->kind == LSEC_SOP_DECOMMISSION) {
		return;
	}
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (st->pub.when != LSEC_SOP_WHEN_ALWAYS) {
			violation(d, r, st->when_loc, "step '%s' runs only when the unit is %s",
				  st->pub.id, lsec_sop_when_name(st->pub.when));
		}
	}
}

static void identify_first(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	for (size_t i = 0; i < sop->nsteps; i++) {
		const sop_step *st = STEP(sop, i);
		if (!HAS(sop, i, LSEC_SOP_ACTION_DEVICE) || strcmp(ACT(sop, i)->id, "device.identify") == 0) {
			continue;
		}
		bool identified = false;
		for (size_t j = 0; j < i && !identified; j++) {
			lsec_sop_when w = STEP(sop, j)->pub.when;
			identified = strcmp(ACT(sop, j)->id, "device.identify") == 0 &&
				     (w == LSEC_SOP_WHEN_ALWAYS || w == st->pub.when ||
				      st->pub.when == LSEC_SOP_WHEN_ALWAYS);
		}
		if (!identified) {
			violation(d, r, st->loc, "step '%s' (%s) acts on a unit not yet identified",
				  st->pub.id, ACT(sop, i)->id);
			return;
		}
	}
}

static void lifecycle_states(const lsec_sop *sop, const rule *r, lsec_sop_diags *d)
{
	static const char *const expect[LSEC_SOP_KIND_COUNT][2] = {
		{"new", "flashed"},       {"flashed", "provisioned"}, {"provisioned", "secured"},
		{"secured", "locked"},    {"any", "scrapped"}};
	const char *const *e = expect[sop->kind];
	if (sop->from_state == NULL || sop->to_state == NULL || strcmp(sop->from_state, e[0]) != 0 ||
	    strcmp(sop->to_state, e[1]) != 0) {
		violation(d, r, sop->applies_loc, "%s SOP applies from '%s' to '%s': expected '%s' to '%s'",
			  lsec_sop_kind_name(sop->kind), sop->from_state ? sop->from_state : "?",
			  sop->to_state ? sop->to_state : "?", e[0], e[1]);
	}
}

static const rule rules[] = {
	{{"flash-order",
	  "a flash SOP runs image.check, device.flash, device.verify-flash and device.boot-attest, in this order"},
	 flash_order},
	{{"provision-key-order",
	  "a provision SOP generates the key (device.keygen or station.keygen), then runs ca.issue, device.write-cert and device.prove-possession, in this order"},
	 provision_key_order},
	{{"provision-credential",
	  "a provision SOP generates a per-unit credential (credential.generate) and then writes it (device.write-credential)"},
	 provision_credential},
	{{"provision-label",
	  "a provision SOP prints the unit's label (label.print, which carries the initial credential) after writing the credential"},
	 provision_label},
	{{"secure-boot-order",
	  "a secure-boot SOP runs otp.burn-key-digest, otp.enable-secure-boot, otp.lock and otp.verify, in this order, and burns nothing after otp.lock"},
	 secure_boot_order},
	{{"secure-boot-counter",
	  "a secure-boot SOP burns the release's rollback counter (otp.burn-counter) before otp.lock; every target has the counter, and a release without one burns 0"},
	 secure_boot_counter},
	{{"secure-boot-debug-auth",
	  "a secure-boot SOP burns the product's debug-authentication key digest (otp.burn-debug-auth-digest) before otp.lock, on every product: one without such a key gets an empty fuse, locked, and its units can never be erased once locked, only destroyed"},
	 secure_boot_debug_auth},
	{{"secure-boot-negative-test",
	  "a secure-boot SOP runs the negative boot test (secure-boot.negative-test) after otp.lock, on at least one unit in 100 (its sample parameter is 1 to 100)"},
	 secure_boot_negative_test},
	{{"debug-lock-order", "a debug-lock SOP runs debug.lock and then debug.verify-locked"},
	 debug_lock_order},
	{{"debug-lock-console",
	  "a debug-lock SOP closes the service console (console.close) and then probes it (console.verify-closed); every target has one"},
	 debug_lock_console},
	{{"debug-lock-seal",
	  "a debug-lock SOP ends with the tamper seal: after debug.verify-locked, a confirm step witnessed by a supervisor or security officer"},
	 debug_lock_seal},
	{{"console-verified", "a console.close step is followed by console.verify-closed"},
	 console_verified},
	{{"decommission-revoke",
	  "a decommission SOP revokes the identity (identity.revoke) of every unit, reachable or not"},
	 decommission_revoke},
	{{"decommission-credential",
	  "a decommission SOP revokes the initial credential (credential.revoke) of every unit, reachable or not"},
	 decommission_credential},
	{{"decommission-wipe",
	  "a decommission SOP erases every reachable unit (device.erase) and then blank-checks it (device.blank-check)"},
	 decommission_wipe},
	{{"scrap-witness",
	  "physical destruction (scrap.record) is recorded in a decommission SOP and witnessed (witness-role says by whom)"},
	 decommission_scrap_witness},
	{{"action-kind", "every action is one the action table allows in this kind of SOP"},
	 action_kind},
	{{"irreversible-fail-safe",
	  "a failed irreversible step (fuse burn, lock, revocation, destruction) quarantines the unit or stops the line"},
	 irreversible_fail_safe},
	{{"irreversible-no-retry",
	  "an irreversible step is never retried blindly: its retry count is 0 and the station reconciles by reading back"},
	 irreversible_no_retry},
	{{"irreversible-once", "each irreversible action appears in one step only"}, irreversible_once},
	{{"verify-after-irreversible",
	  "every irreversible device step is followed by a step that reads the device back (a verification action)"},
	 verify_after_irreversible},
	{{"continue-advisory-only",
	  "only advisory steps (label.print) may continue after a failure; every other failure stops the unit"},
	 continue_advisory_only},
	{{"witness-distinct", "a witness has a different role from the person doing the step"},
	 witness_distinct},
	{{"action-roles",
	  "each step is done by a role the action table allows for its action (Performed by): operators and supervisors run the line, a security officer may also confirm and revoke, auditors do no step"},
	 action_roles},
	{{"witness-role", "a step's witness is a supervisor or a security officer"}, witness_role},
	{{"conditional-decommission-only",
	  "only decommission steps may depend on whether the unit is reachable; build procedures run every step on every unit"},
	 conditional_decommission_only},
	{{"identify-first",
	  "the unit is identified (device.identify) before any other device action, so nothing is done to a unit the record does not name"},
	 identify_first},
	{{"lifecycle-states",
	  "applies-to names the lifecycle move of the kind: flash new to flashed, provision flashed to provisioned, secure-boot provisioned to secured, debug-lock secured to locked, decommission any to scrapped"},
	 lifecycle_states},
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

size_t lsec_sop_rule_count(void)
{
	return NRULES;
}

const lsec_sop_rule *lsec_sop_rule_at(size_t i)
{
	return i < NRULES ? &rules[i].pub : NULL;
}

void lsec_sop__policy_check(const lsec_sop *sop, lsec_sop_diags *d)
{
	for (size_t i = 0; i < NRULES; i++) {
		rules[i].check(sop, &rules[i], d);
	}
}
