/*
 * actions.c - the fixed action vocabulary of SOP steps.
 *
 * This table is the one place that declares each action: its parameters,
 * what it verifies, the evidence it records, whether it is irreversible (the
 * station then records its intent before acting and reconciles by reading
 * the device back after a crash) and which SOP kinds may use it. The loader
 * validates `do:`/`with:` against it, the policy reads its flags, the
 * renderer prints its sentences and `linesec sop actions` documents it. The
 * station attaches implementations by lsec_sop_action_index.
 */
#include "sop/sop_int.h"

#include "linesec/audit.h"

#include <jansson.h>
#include <string.h>

#define K(x) LSEC_SOP_KIND_BIT(LSEC_SOP_##x)
#define END_PARAMS {NULL, LSEC_SOP_PARAM_STRING, false, NULL, 0, 0, NULL, NULL}
#define NO_PARAMS (const lsec_sop_param[]){END_PARAMS}
#define EVIDENCE(...) (const char *const[]){__VA_ARGS__, NULL}
#define ALLOWED(...) (const char *const[]){__VA_ARGS__, NULL}

enum {
	IRREV = LSEC_SOP_ACTION_IRREVERSIBLE,
	MANUAL = LSEC_SOP_ACTION_MANUAL,
	VERIFIES = LSEC_SOP_ACTION_VERIFIES,
	DEVICE = LSEC_SOP_ACTION_DEVICE,
	ADVISORY = LSEC_SOP_ACTION_ADVISORY,
};

/* The device CSR and the line CA use ECDSA P-256: the one key type the station provisions. */
/*
 * Who may perform each action (a step's `who`; rule action-roles). The line
 * runs its procedures with operators and supervisors; a security officer,
 * who approves procedures and releases, may also confirm a manual step and
 * revoke. Auditors only read: they perform no action.
 */
#define ROLES_LINE ALLOWED("operator", "supervisor")
#define ROLES_ANY_STAFF ALLOWED("operator", "supervisor", "security-officer")

static const char *const key_types[] = {"ecdsa-p256", NULL};

/* device.keygen and station.keygen take the same parameters. */
static const lsec_sop_param keygen_params[] = {
	{"slot", LSEC_SOP_PARAM_INT, false, NULL, 0, 15, "0", "Key slot on the device."},
	{"type", LSEC_SOP_PARAM_ENUM, true, key_types, 0, 0, NULL,
	 "Key type; the station checks the key read back is of this type."},
	END_PARAMS,
};

static const lsec_sop_action actions[] = {
	{"confirm", "A person does a manual step and confirms it under their own login.",
	 "The person (and the witness, when the step names one) confirms the step was done as written.",
	 EVIDENCE("confirmed-by", "witnessed-by"), NO_PARAMS, LSEC_SOP_KIND_ALL, MANUAL, ROLES_ANY_STAFF},
	{"device.identify",
	 "Reads the unit's hardware UID and binds it to the serial of the unit being worked on; once the unit holds an issued identity, has it prove possession of its key.",
	 "The UID read from the device is the one registered for this serial, or is new and held by no other unit; once the log issued the unit a certificate, the device signs a fresh random challenge with its key slot and the signature verifies under that certificate (a clone with the same UID and no key is stopped before anything is written).",
	 EVIDENCE(LSEC_EV_UID, "serial", LSEC_EV_CERT_SERIAL, LSEC_EV_SLOT, "challenge-sha256"), NO_PARAMS, LSEC_SOP_KIND_ALL, DEVICE | VERIFIES, ROLES_LINE},
	{"image.check",
	 "Checks the firmware image against the approved release of the product before anything is written.",
	 "The image's SHA-256 equals the approved release digest, its signature verifies under the product's signing key, and it declares itself a release build of this product.",
	 EVIDENCE(LSEC_EV_RELEASE, LSEC_EV_IMAGE_SHA256, LSEC_EV_SIGNER_KEY_SHA256, "image-version"), NO_PARAMS,
	 K(FLASH), VERIFIES, ROLES_LINE},
	{"device.flash", "Writes the checked image to the unit's flash.",
	 "The programmer reports every block written without error.",
	 EVIDENCE(LSEC_EV_IMAGE_SHA256, LSEC_EV_SLOT, "address", "bytes-written"),
	 (const lsec_sop_param[]){{"slot", LSEC_SOP_PARAM_ENUM, false, ALLOWED("primary"),
				   0, 0, "primary",
				   "Image slot to write: the boot ROM boots the primary slot only."},
				  END_PARAMS},
	 K(FLASH), DEVICE, ROLES_LINE},
	{"device.verify-flash", "Reads the written flash back and hashes it.",
	 "The SHA-256 of the flash read back equals the approved image digest.",
	 EVIDENCE(LSEC_EV_READBACK_SHA256), NO_PARAMS, K(FLASH), DEVICE | VERIFIES, ROLES_LINE},
	{"device.boot-attest", "Resets the unit and reads its boot attestation.",
	 "After reset the unit reports the digest of the image it booted, and it equals the approved digest.",
	 EVIDENCE(LSEC_EV_ATTESTED_SHA256, "boot-time-ms", "timeout-s"),
	 (const lsec_sop_param[]){{"timeout-s", LSEC_SOP_PARAM_INT, false, NULL, 1, 300, "30",
				   "Seconds the attestation report may take; a later one fails the step."},
				  END_PARAMS},
	 K(FLASH), DEVICE | VERIFIES, ROLES_LINE},
	{"device.keygen", "Has the unit generate its own key pair; the private key never leaves it.",
	 "The public key read back is a valid key of the declared type and no other unit in the registry holds it.",
	 EVIDENCE(LSEC_EV_KEY_SHA256, "key-type", "type", LSEC_EV_SLOT),
	 keygen_params,
	 K(PROVISION), DEVICE, ROLES_LINE},
	{"station.keygen",
	 "For targets without on-device key generation: the station generates the key pair in locked memory, writes the private key to the unit and wipes its copy.",
	 "The public key is valid and unique in the registry, the unit reports the same public key, and the station's copy of the private key was wiped.",
	 EVIDENCE(LSEC_EV_KEY_SHA256, "key-type", "type", LSEC_EV_SLOT),
	 keygen_params,
	 K(PROVISION), DEVICE, ROLES_LINE},
	{"ca.issue", "Issues the unit's certificate from the line CA for its public key.",
	 "The certificate binds the unit's serial and UID to its public key, chains to the line CA, and its serial number is unique.",
	 EVIDENCE(LSEC_EV_CERT_SERIAL, LSEC_EV_CERT_SHA256, "issuer", "not-after", "profile", "validity-days"),
	 (const lsec_sop_param[]){{"profile", LSEC_SOP_PARAM_ENUM, false, ALLOWED("device"), 0, 0,
				   "device", "Certificate profile of the line CA."},
				  {"validity-days", LSEC_SOP_PARAM_INT, false, NULL, 1, 10950, "7300",
				   "Validity period in days."},
				  END_PARAMS},
	 K(PROVISION), 0, ROLES_LINE},
	{"device.write-cert", "Writes the issued certificate to the unit.",
	 "The certificate read back from the unit is byte for byte the one issued.",
	 EVIDENCE(LSEC_EV_CERT_SHA256, LSEC_EV_CERT_READBACK_SHA256, LSEC_EV_SLOT),
	 (const lsec_sop_param[]){{"slot", LSEC_SOP_PARAM_INT, false, NULL, 0, 15, "0",
				   "Certificate slot on the device."},
				  END_PARAMS},
	 K(PROVISION), DEVICE, ROLES_LINE},
	{"credential.generate",
	 "Generates the unit's random initial credential (no default password, ever).",
	 "The credential comes from the operating system's random generator and its keyed fingerprint is held by no other unit.",
	 EVIDENCE("credential-fingerprint", "length", "alphabet"),
	 (const lsec_sop_param[]){{"length", LSEC_SOP_PARAM_INT, false, NULL, 16, 64, "20",
				   "Length in characters."},
				  {"alphabet", LSEC_SOP_PARAM_ENUM, false, ALLOWED("base32", "alnum"), 0,
				   0, "base32", "Characters used."},
				  END_PARAMS},
	 K(PROVISION), 0, ROLES_LINE},
	{"device.write-credential", "Writes the initial credential to the unit.",
	 "The unit answers a challenge computed from the credential; the credential itself is never written to the station's disk, logs or records.",
	 EVIDENCE("credential-fingerprint"), NO_PARAMS, K(PROVISION), DEVICE, ROLES_LINE},
	{"device.prove-possession", "Has the unit sign a fresh random challenge with its new key.",
	 "The signature over the fresh challenge verifies under the public key of the issued certificate.",
	 EVIDENCE("challenge-sha256", LSEC_EV_CERT_SERIAL), NO_PARAMS, K(PROVISION), DEVICE | VERIFIES, ROLES_LINE},
	{"otp.burn-key-digest", "Burns the SHA-256 of the product's boot public key into OTP.",
	 "The digest read back from OTP equals the SHA-256 of the product's boot public key.",
	 EVIDENCE(LSEC_EV_KEY_DIGEST, LSEC_EV_SLOT, "otp-readback"),
	 (const lsec_sop_param[]){{"slot", LSEC_SOP_PARAM_INT, false, NULL, 0, 0, "0",
				   "OTP key-digest slot: the device has one, slot 0."},
				  END_PARAMS},
	 K(SECURE_BOOT), DEVICE | IRREV, ROLES_LINE},
	{"otp.burn-debug-auth-digest",
	 "Burns the SHA-256 of the product's approved debug-authentication key into OTP (nothing when the product has none).",
	 "The digest read back from OTP equals the SHA-256 of the product's debug-authentication key, as its registry record and audit leaf name it.",
	 EVIDENCE("debug-auth-key", "key-digest", "otp-readback"), NO_PARAMS, K(SECURE_BOOT),
	 DEVICE | IRREV, ROLES_LINE},
	{"otp.burn-counter",
	 "Burns the release's security counter into the anti-rollback OTP counter.",
	 "The counter read back equals the approved release's security counter.",
	 EVIDENCE("counter", "otp-readback"), NO_PARAMS, K(SECURE_BOOT), DEVICE | IRREV, ROLES_LINE},
	{"otp.enable-secure-boot", "Sets the secure-boot enable bit in OTP.",
	 "The secure-boot enable bit reads back set.", EVIDENCE("otp-readback"), NO_PARAMS,
	 K(SECURE_BOOT), DEVICE | IRREV, ROLES_LINE},
	{"otp.lock", "Sets the OTP write-lock so no fuse can be changed again.",
	 "The write-lock bit reads back set.", EVIDENCE("otp-readback"), NO_PARAMS, K(SECURE_BOOT),
	 DEVICE | IRREV, ROLES_LINE},
	{"otp.verify", "Reads every security fuse back and tries to clear them.",
	 "Key digest, enable bit, counter and lock read back as expected, and an attempt to clear or rewrite them is refused.",
	 EVIDENCE("otp-readback", LSEC_EV_CLEAR_ATTEMPT), NO_PARAMS, K(SECURE_BOOT), DEVICE | VERIFIES, ROLES_LINE},
	{"secure-boot.negative-test",
	 "On a sample of units, offers an unsigned canary image to the boot ROM, then restores the approved image.",
	 "The boot ROM refuses the unsigned canary image, and the approved image boots again afterwards.",
	 EVIDENCE("sample", "sampled", "canary-sha256", "refused", "restored-sha256"),
	 (const lsec_sop_param[]){{"sample", LSEC_SOP_PARAM_INT, false, NULL, 1,
				   LSEC_SOP_MAX_NEGATIVE_SAMPLE, "1",
				   "Test one unit in this many (1: every unit; at most one in 100)."},
				  END_PARAMS},
	 K(SECURE_BOOT), DEVICE | VERIFIES, ROLES_LINE},
	{"debug.lock", "Locks the debug interfaces (JTAG/SWD) permanently.",
	 "The debug lock state reads back set.",
	 EVIDENCE("interface", "interfaces", "lock-readback"),
	 (const lsec_sop_param[]){{"interface", LSEC_SOP_PARAM_ENUM, false,
				   ALLOWED("all"), 0, 0, "all",
				   "Interfaces to lock: the debug-lock fuse closes SWD and JTAG together, and no procedure may leave one open."},
				  END_PARAMS},
	 K(DEBUG_LOCK), DEVICE | IRREV, ROLES_LINE},
	{"debug.verify-locked", "Attempts a debug connection to the locked unit.",
	 "The debug connection attempt is refused and the lock state reads back set.",
	 EVIDENCE("connect-refused", "lock-readback"), NO_PARAMS, K(DEBUG_LOCK),
	 DEVICE | VERIFIES, ROLES_LINE},
	{"console.close", "Turns the UART service console off.",
	 "The console-disable setting reads back set.", EVIDENCE("setting-readback"), NO_PARAMS,
	 K(DEBUG_LOCK), DEVICE, ROLES_LINE},
	{"console.verify-closed", "Probes the UART service console.",
	 "The console gives no prompt and accepts no command.", EVIDENCE("probe-transcript-sha256"),
	 NO_PARAMS, K(DEBUG_LOCK), DEVICE | VERIFIES, ROLES_LINE},
	{"device.erase", "Erases the unit's flash, keys and credentials.",
	 "The programmer reports every region erased without error.", EVIDENCE("region", "regions"),
	 (const lsec_sop_param[]){{"region", LSEC_SOP_PARAM_ENUM, false, ALLOWED("all"), 0, 0,
				   "all",
				   "What to erase: the whole flash and every key slot (a partial erase leaves data behind)."},
				  END_PARAMS},
	 K(DECOMMISSION), DEVICE | IRREV, ROLES_LINE},
	{"device.blank-check", "Reads the erased regions back.",
	 "Every byte of the erased regions reads back as erased.", EVIDENCE("regions", LSEC_EV_READBACK_SHA256),
	 NO_PARAMS, K(DECOMMISSION), DEVICE | VERIFIES, ROLES_LINE},
	{"identity.revoke", "Revokes the unit's certificate and retires its identity.",
	 "The certificate is on the line CA's CRL and the serial, UID and key are marked retired, never to be issued again.",
	 EVIDENCE(LSEC_EV_CERT_SERIAL, "crl-number", "reason"), NO_PARAMS, K(DECOMMISSION), IRREV, ROLES_ANY_STAFF},
	{"credential.revoke", "Revokes the unit's initial credential in the registry.",
	 "The credential's fingerprint is marked revoked and can never be issued again.",
	 EVIDENCE("credential-fingerprint"), NO_PARAMS, K(DECOMMISSION), IRREV, ROLES_ANY_STAFF},
	{"scrap.record", "Records the physical destruction of the unit.",
	 "The destruction method, the person and the witness are recorded and the unit is marked scrapped.",
	 EVIDENCE("method", "destroyed-by", "witnessed-by"),
	 (const lsec_sop_param[]){{"method", LSEC_SOP_PARAM_ENUM, true,
				   ALLOWED("shred", "crush", "incinerate", "disintegrate", "pulverize",
					   "melt"),
				   0, 0, NULL,
				   "How the board is destroyed; `linesec scrap` records this method and refuses any other."},
				  END_PARAMS},
	 K(DECOMMISSION), MANUAL | IRREV, ROLES_LINE},
	{"label.print", "Prints the unit's label.",
	 "The label printer reports the label printed; the operator checks it against the unit.",
	 EVIDENCE("label-sha256", "template"),
	 (const lsec_sop_param[]){{"template", LSEC_SOP_PARAM_STRING, false, NULL, 0, 0, "unit",
				   "Label template name (lowercase letters, digits and '-'), printed on the label."},
				  END_PARAMS},
	 LSEC_SOP_KIND_ALL, ADVISORY, ROLES_LINE},
};

#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

size_t lsec_sop_action_count(void)
{
	return NACTIONS;
}

const lsec_sop_action *lsec_sop_action_at(size_t i)
{
	return i < NACTIONS ? &actions[i] : NULL;
}

const lsec_sop_action *lsec_sop_action_find(const char *id)
{
	if (id == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < NACTIONS; i++) {
		if (strcmp(actions[i].id, id) == 0) {
			return &actions[i];
		}
	}
	return NULL;
}

size_t lsec_sop_action_index(const lsec_sop_action *a)
{
	return (size_t)(a - actions);
}

static const char *const placeholders[] = {
	"serial", "uid", "socket", "station", "line", "product", "release", "image-sha256",
	"person", "witness", "sop", "sop-version", "date", NULL};

const char *const *lsec_sop_placeholders(void)
{
	return placeholders;
}

static const char *const roles[] = {"operator", "supervisor", "security-officer", "auditor",
				    NULL};

const char *const *lsec_sop_roles(void)
{
	return roles;
}

static const char *const kind_names[LSEC_SOP_KIND_COUNT] = {"flash", "provision", "secure-boot",
							     "debug-lock", "decommission"};

const char *lsec_sop_kind_name(lsec_sop_kind kind)
{
	return (unsigned)kind < LSEC_SOP_KIND_COUNT ? kind_names[kind] : NULL;
}

int lsec_sop_kind_parse(lsec_sop_kind *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, kind_names, LSEC_SOP_KIND_COUNT, name, "SOP kind", err);
	*out = (lsec_sop_kind)i;
	return rc;
}

const char *lsec_sop__param_type_name(lsec_sop_param_type t)
{
	switch (t) {
	case LSEC_SOP_PARAM_STRING:
		return "string";
	case LSEC_SOP_PARAM_INT:
		return "integer";
	case LSEC_SOP_PARAM_BOOL:
		return "boolean";
	case LSEC_SOP_PARAM_ENUM:
		return "one of";
	default:
		return "unknown";
	}
}

static json_t *str_array(const char *const *list)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && list != NULL && list[i] != NULL; i++) {
		if (json_array_append_new(a, json_string(list[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *param_json(const lsec_sop_param *p)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:s}", "name", p->name, "type",
			      p->type == LSEC_SOP_PARAM_ENUM ? "enum" : lsec_sop__param_type_name(p->type),
			      "required", p->required, "help", p->help);
	if (o == NULL) {
		return NULL;
	}
	int bad = 0;
	if (p->type == LSEC_SOP_PARAM_ENUM) {
		bad |= json_object_set_new(o, "allowed", str_array(p->allowed));
	}
	if (p->type == LSEC_SOP_PARAM_INT) {
		bad |= json_object_set_new(o, "min", json_integer(p->min));
		bad |= json_object_set_new(o, "max", json_integer(p->max));
	}
	if (p->deflt != NULL) {
		bad |= json_object_set_new(o, "default", json_string(p->deflt));
	}
	if (bad != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *action_json(const lsec_sop_action *a)
{
	json_t *kinds = json_array(), *params = json_array();
	for (unsigned k = 0; kinds != NULL && k < LSEC_SOP_KIND_COUNT; k++) {
		if ((a->kinds & LSEC_SOP_KIND_BIT(k)) != 0) {
			json_array_append_new(kinds, json_string(kind_names[k]));
		}
	}
	for (const lsec_sop_param *p = a->params; params != NULL && p->name != NULL; p++) {
		json_t *pj = param_json(p);
		if (pj == NULL || json_array_append_new(params, pj) != 0) {
			json_decref(params);
			params = NULL;
		}
	}
	if (kinds == NULL || params == NULL) {
		json_decref(kinds);
		json_decref(params);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:b, s:b}", "id",
			 a->id, "summary", a->summary, "verifies", a->verifies, "evidence",
			 str_array(a->evidence), "params", params, "kinds", kinds, "roles",
			 str_array(a->roles), "irreversible",
			 (a->flags & IRREV) != 0, "manual", (a->flags & MANUAL) != 0, "verification",
			 (a->flags & VERIFIES) != 0, "device", (a->flags & DEVICE) != 0, "advisory",
			 (a->flags & ADVISORY) != 0);
}

int lsec_sop_actions_json(json_t **out, lsec_err *err)
{
	int rc = 0;
	json_t *arr = json_array();
	*out = NULL;
	LSEC_ENSURE(arr != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < NACTIONS; i++) {
		json_t *a = action_json(&actions[i]);
		LSEC_TRY(lsec_json_append(arr, a, err));
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	return rc;
}
