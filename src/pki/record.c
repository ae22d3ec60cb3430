/*
 * record.c - the PKI acts that change the registry: issuance, revocation,
 * CRLs and initial credentials, each with its audit leaf in the same store
 * transaction.
 *
 * @test tests/unit/pki/test_record.c
 */
#include "pki_int.h"

#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "linesec/audit.h"
#include "linesec/store.h"

/* Appends the audit leaf of a PKI act; takes evidence (may be NULL). */
static int audit(lsec_store *st, const lsec_actor *who, const char *unit, const char *action,
		 json_t *evidence, lsec_err *err)
{
	lsec_audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.person = who->person;
	ev.station = who->station;
	ev.unit = unit;
	ev.action = action;
	ev.outcome = "done";
	ev.evidence = evidence;
	int rc = lsec_audit_record(NULL, st, &ev, err);
	json_decref(evidence);
	return rc;
}

int lsec_pki_ca_init_recorded(const char *dir, const lsec_ca_options *opts, lsec_store *st,
			      const lsec_actor *who, lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	lsec_ca_description *desc = NULL;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	bool created = false;
	LSEC_ENSURE(who != NULL && st != NULL, LSEC_E_USAGE, "cannot create a CA: missing person");
	LSEC_TRY(lsec_ca_init(dir, opts, err));
	created = true;
	LSEC_TRY(lsec_ca_open(&ca, dir, NULL, err));
	LSEC_TRY(lsec_ca_describe(&desc, ca, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(audit(st, who, NULL, "pki.ca.init",
		       json_pack("{s:s,s:s,s:s}", LSEC_EV_KEY_SHA256, desc->key_sha256, "storage",
				 desc->storage, "state", desc->state),
		       err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (rc < 0 && created && ca != NULL) {
		lsec_pki__ca_undo(ca);
	}
	lsec_ca_description_free(desc);
	lsec_ca_free(ca);
	return rc;
}

int lsec_pki_ca_import_recorded(lsec_ca *ca, const char *cert_path, const char *root_path,
				lsec_store *st, const lsec_actor *who, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char sn[41];
	LSEC_ENSURE(who != NULL && st != NULL, LSEC_E_USAGE,
		    "cannot import a CA certificate: missing person");
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_ca_import_cert(ca, cert_path, root_path, err));
	lsec_cert_serial_hex(sn, lsec_ca_cert(ca));
	LSEC_TRY(audit(st, who, NULL, "pki.ca.import-cert",
		       json_pack("{s:s,s:b}", LSEC_EV_CERT_SERIAL, sn, "root_checked",
				 root_path != NULL),
		       err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	return rc;
}

/* The unit's UID as bytes: hex decoded when it is hex, else its text. */
static int uid_bytes(lsec_buf *out, const char *uid, lsec_err *err)
{
	int rc = 0;
	lsec_err ignore = LSEC_ERR_INIT;
	size_t n = strlen(uid);
	if (n % 2 == 0 && lsec_hex_decode(out, uid, n, "unit UID", &ignore) == 0) {
		goto out;
	}
	lsec_buf_reset(out);
	LSEC_TRY(lsec_buf_append(out, uid, n, err));
out:
	return rc;
}

int lsec_pki_issue_recorded(lsec_cert **out, lsec_ca *ca, lsec_store *st,
			    const lsec_actor *who, const char *unit, EVP_PKEY *pubkey,
			    lsec_key_origin origin, uint32_t days, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit u;
	lsec_buf uid = LSEC_BUF_INIT(LSEC_STORE_NAME_MAX);
	lsec_buf der = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	lsec_cert *cert = NULL;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	uint8_t fp[32];
	char fphex[65], sn[41];
	*out = NULL;
	LSEC_ENSURE(who != NULL && unit != NULL && pubkey != NULL, LSEC_E_USAGE,
		    "cannot issue a certificate: missing person, unit or device key");
	LSEC_ENSURE(origin == LSEC_KEY_ORIGIN_DEVICE || origin == LSEC_KEY_ORIGIN_STATION,
		    LSEC_E_USAGE, "cannot issue a certificate for unit '%s': unknown key origin %d",
		    unit, (int)origin);
	LSEC_TRY(lsec_store_unit_get(&u, st, unit, err));
	LSEC_TRY(uid_bytes(&uid, u.uid, err));
	lsec_cert_request req = LSEC_CERT_REQUEST_INIT;
	req.serial = u.serial;
	req.product = u.product;
	req.uid = uid.data;
	req.uid_len = uid.len;
	req.validity_days = days;
	LSEC_TRY(lsec_ca_issue(&cert, ca, pubkey, &req, err));
	LSEC_TRY(lsec_cert_key_fingerprint(fp, cert, err));
	lsec_hex_encode(fphex, fp, sizeof(fp));
	lsec_cert_serial_hex(sn, cert);
	LSEC_TRY(lsec_cert_encode(&der, cert, true, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_identity_add(st, u.serial, fphex, sn, der.data, der.len,
					 LSEC_KEY_ACTIVE, err));
	LSEC_TRY(audit(st, who, u.serial, "pki.certificate.issue",
		       json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_CERT_SERIAL, sn, LSEC_EV_KEY_SHA256,
				 fphex, LSEC_EV_KEY_STATE, lsec_key_state_name(LSEC_KEY_ACTIVE),
				 "key_origin",
				 origin == LSEC_KEY_ORIGIN_DEVICE ? "device" : "station-generated"),
		       err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	*out = cert;
	cert = NULL;
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_cert_free(cert);
	lsec_buf_release(&der);
	lsec_buf_release(&uid);
	return rc;
}

int lsec_pki_revoke_recorded(lsec_store *st, const lsec_actor *who, const lsec_cert *cert,
			     lsec_crl_reason reason, lsec_err *err)
{
	int rc = 0;
	lsec_store_identity id;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	uint8_t fp[32];
	char fphex[65], sn[41];
	LSEC_ENSURE(who != NULL && cert != NULL, LSEC_E_USAGE,
		    "cannot revoke: missing person or certificate");
	LSEC_TRY(lsec_cert_key_fingerprint(fp, cert, err));
	lsec_hex_encode(fphex, fp, sizeof(fp));
	lsec_cert_serial_hex(sn, cert);
	LSEC_TRY(lsec_store_identity_get(&id, NULL, st, fphex, err));
	LSEC_ENSURE(strcmp(id.cert_serial, sn) == 0, /* lint:ok - public serials */
		    LSEC_E_PKI_MISMATCH,
		    "cannot revoke certificate '%s': unit '%s' holds certificate '%s' for that key",
		    sn, id.serial, id.cert_serial);
	bool compromised = reason == LSEC_CRL_KEY_COMPROMISE || reason == LSEC_CRL_CA_COMPROMISE;
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_revocation_add(st, id.serial, sn, lsec_crl_reason_name(reason),
					   who->person, err));
	lsec_key_state to = compromised ? LSEC_KEY_COMPROMISED : LSEC_KEY_DEACTIVATED;
	LSEC_TRY(lsec_store_identity_set_state(st, fphex, to, err));
	LSEC_TRY(audit(st, who, id.serial, "pki.certificate.revoke",
		       json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_CERT_SERIAL, sn, LSEC_EV_KEY_SHA256,
				 fphex, LSEC_EV_KEY_STATE, lsec_key_state_name(to), "reason",
				 lsec_crl_reason_name(reason)),
		       err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	return rc;
}

/* "2026-11-25T04:05:38Z" to Unix seconds. */
static int parse_utc(int64_t *out, const char *text, lsec_err *err)
{
	int rc = 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	LSEC_ENSURE(end != NULL && *end == '\0', LSEC_E_PARSE,
		    "cannot read time '%s': RFC 3339 UTC expected", text);
	*out = (int64_t)timegm(&tm);
out:
	return rc;
}

/* Evidence field key of a leaf, or its older spelling; NULL when absent. */
static const char *ev(const json_t *leaf, const char *key, const char *old)
{
	const json_t *e = json_object_get(leaf, "evidence");
	const char *v = json_string_value(json_object_get(e, key));
	return v != NULL || old == NULL ? v : json_string_value(json_object_get(e, old));
}

static const char *field(const json_t *leaf, const char *key)
{
	return json_string_value(json_object_get(leaf, key));
}

/*
 * The registry's revocations rows checked against the signed revocation
 * leaves, one for one: a row no leaf backs, a row that differs from its
 * leaf (another unit's certificate, another reason) or a leaf with no row
 * stops the CRL, naming the table, the certificate and the leaf.
 */
static int rows_match_leaves(const lsec_store_record *recs, size_t n, const json_t *leaves,
			     lsec_err *err)
{
	int rc = 0;
	size_t nl = json_array_size(leaves);
	for (size_t i = 0; i < n; i++) {
		const json_t *hit = NULL;
		for (size_t k = 0; k < nl && hit == NULL; k++) {
			const json_t *l = json_array_get(leaves, k);
			const char *sn = ev(l, LSEC_EV_CERT_SERIAL, LSEC_EV_OLD_CERT_SERIAL);
			hit = sn != NULL && strcasecmp(sn, recs[i].subject) == 0 ? l : NULL;
		}
		LSEC_ENSURE(hit != NULL, LSEC_E_AUDIT_INDEX,
			    "cannot make a CRL: registry table revocations holds certificate '%s' "
			    "of unit '%s', but no pki.certificate.revoke leaf revokes it: the "
			    "registry was changed outside linesec",
			    recs[i].subject, recs[i].serial);
		const char *unit = field(hit, "unit"), *reason = ev(hit, "reason", NULL);
		bool same = unit != NULL && reason != NULL &&
			    strcmp(unit, recs[i].serial) == 0 && /* lint:ok - public names */
			    strcmp(reason, recs[i].reason) == 0; /* lint:ok - public names */
		LSEC_ENSURE(same,
			    LSEC_E_AUDIT_INDEX,
			    "cannot make a CRL: registry table revocations holds certificate '%s' "
			    "as unit '%s''s (%s), but leaf %lld revokes it as unit '%s''s (%s): the "
			    "registry was changed outside linesec",
			    recs[i].subject, recs[i].serial, recs[i].reason,
			    (long long)json_integer_value(json_object_get(hit, "seq")),
			    unit ? unit : "(none)", reason ? reason : "(none)");
	}
	for (size_t k = 0; k < nl; k++) {
		const json_t *l = json_array_get(leaves, k);
		const char *sn = ev(l, LSEC_EV_CERT_SERIAL, LSEC_EV_OLD_CERT_SERIAL);
		bool found = false;
		for (size_t i = 0; i < n && !found && sn != NULL; i++) {
			found = strcasecmp(sn, recs[i].subject) == 0;
		}
		LSEC_ENSURE(found, LSEC_E_AUDIT_INDEX,
			    "cannot make a CRL: leaf %lld revokes certificate '%s' of unit '%s', but "
			    "registry table revocations has no row for it: the registry was changed "
			    "outside linesec",
			    (long long)json_integer_value(json_object_get(l, "seq")),
			    sn ? sn : "(none)", field(l, "unit") ? field(l, "unit") : "(none)");
	}
out:
	return rc;
}

/* SHA-256 over the revoked serials in CRL order, each as lowercase hex and a newline. */
static int serials_digest(char out[65], const lsec_revoked *list, size_t n, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT((size_t)1 << 30);
	uint8_t h[32];
	for (size_t i = 0; i < n; i++) {
		for (const char *c = list[i].serial_hex; *c != '\0'; c++) {
			char lc = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
			LSEC_TRY(lsec_buf_append(&b, &lc, 1, err));
		}
		LSEC_TRY(lsec_buf_append(&b, "\n", 1, err));
	}
	LSEC_TRY(lsec_sha256(h, b.data, b.len, err));
	lsec_hex_encode(out, h, sizeof(h));
out:
	lsec_buf_release(&b);
	return rc;
}

int lsec_pki_crl_recorded(lsec_buf *crl_out, lsec_buf *list_out, uint64_t *number_out,
			  bool list_json, lsec_ca *ca, lsec_store *st,
			  const lsec_actor *who, const lsec_crl_options *opts, lsec_err *err)
{
	int rc = 0;
	lsec_store_record *recs = NULL;
	lsec_revoked *list = NULL;
	uint8_t(*fps)[32] = NULL;
	size_t n = 0, nl = 0;
	json_t *leaves = NULL;
	char digest[65];
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	*number_out = 0;
	LSEC_ENSURE(who != NULL, LSEC_E_USAGE, "cannot make a CRL: missing person");
	/* What is revoked is what the signed log says; the rows must agree with it. */
	LSEC_TRY(lsec_audit_leaves_find(&leaves, st, "pki.certificate.revoke", NULL, err));
	LSEC_TRY(lsec_store_revocation_list(&recs, &n, st, err));
	LSEC_TRY(rows_match_leaves(recs, n, leaves, err));
	nl = json_array_size(leaves);
	if (nl > 0) {
		list = lsec_calloc(nl, sizeof(*list));
		fps = lsec_calloc(nl, sizeof(*fps));
		LSEC_ENSURE(list != NULL && fps != NULL, LSEC_E_NOMEM,
			    "out of memory for %zu revocations", nl);
	}
	for (size_t i = 0; i < nl; i++) {
		const json_t *l = json_array_get(leaves, i);
		const char *fp = ev(l, LSEC_EV_KEY_SHA256, LSEC_EV_OLD_KEY_SHA256);
		const char *reason = ev(l, "reason", NULL), *when = field(l, "time");
		list[i].serial_hex = ev(l, LSEC_EV_CERT_SERIAL, LSEC_EV_OLD_CERT_SERIAL);
		LSEC_ENSURE(list[i].serial_hex != NULL && reason != NULL && when != NULL,
			    LSEC_E_AUDIT_LEAF_FORMAT,
			    "cannot make a CRL: leaf %lld (pki.certificate.revoke) lacks the "
			    "certificate serial, reason or time",
			    (long long)json_integer_value(json_object_get(l, "seq")));
		list[i].key_fp = NULL;
		if (fp != NULL && strlen(fp) == 64) {
			LSEC_TRY(lsec_hex_decode_fixed(fps[i], 32, fp, "key fingerprint", err));
			list[i].key_fp = fps[i];
		}
		LSEC_TRY(lsec_crl_reason_parse(&list[i].reason, reason, err));
		LSEC_TRY(parse_utc(&list[i].revoked_at, when, err));
	}
	LSEC_TRY(serials_digest(digest, list, nl, err));
	LSEC_TRY(lsec_ca_crl(crl_out, number_out, ca, list, nl, opts, err));
	if (list_out != NULL) {
		LSEC_TRY(lsec_revoked_export(list_out, list, nl, *number_out, list_json, err));
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(audit(st, who, NULL, "pki.crl.issue",
		       json_pack("{s:I,s:I,s:s}", "crl_number", (json_int_t)*number_out, "revoked",
				 (json_int_t)nl, LSEC_EV_REVOKED_SHA256, digest),
		       err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(leaves);
	lsec_free(fps);
	lsec_free(list);
	lsec_free(recs);
	return rc;
}

/*
 * The unit's valid initial credential as its leaves tell it: the last leaf
 * recording one (a passed step or pki.initial-password.issue with
 * credential-fingerprint), unless a credential.revoke that happened
 * (revocation_done) follows it. *live is
 * that leaf's seq (-1: none valid; *revoked is then the revoking leaf, or
 * -1 when none was ever recorded) and fp its fingerprint (lowercase hex).
 */
static int live_credential(long long *live, long long *revoked, char fp[65], lsec_store *st,
			   const char *serial, lsec_err *err)
{
	int rc = 0;
	json_t *leaves = NULL;
	size_t i;
	const json_t *l;
	*live = *revoked = -1;
	fp[0] = '\0';
	LSEC_TRY(lsec_audit_unit_leaves(&leaves, st, serial, err));
	json_array_foreach(leaves, i, l)
	{
		const char *action = json_string_value(json_object_get(l, "action"));
		const char *outcome = json_string_value(json_object_get(l, "outcome"));
		const char *f = json_string_value(
			json_object_get(json_object_get(l, "evidence"), LSEC_EV_CREDENTIAL_FP));
		long long seq = (long long)json_integer_value(json_object_get(l, "seq"));
		if (action == NULL || outcome == NULL) {
			continue;
		}
		if (strcmp(action, "credential.revoke") == 0) { /* lint:ok - public names */
			if (!lsec_audit_revocation_done(outcome)) {
				continue; /* a step's intent, or a revocation that failed */
			}
			*revoked = *live >= 0 ? seq : *revoked;
			*live = -1;
		} else if (f != NULL &&
			   (strcmp(outcome, "passed") == 0 || /* lint:ok - public names */
			    strcmp(action, "pki.initial-password.issue") == 0)) { /* lint:ok - public names */
			*live = seq;
			snprintf(fp, 65, "%s", f);
		}
	}
out:
	json_decref(leaves);
	return rc;
}

/*
 * The unit holds no valid initial credential as its leaves tell it. Called
 * once the rows said the same, so a leaf naming one means a row deleted or
 * revoked by SQL: LSEC_E_AUDIT_INDEX naming the table, the unit and the leaf.
 */
static int no_live_credential(lsec_store *st, const char *serial, lsec_err *err)
{
	int rc = 0;
	long long live = -1, revoked = -1;
	char fp[65];
	LSEC_TRY(live_credential(&live, &revoked, fp, st, serial, err));
	LSEC_ENSURE(live < 0, LSEC_E_AUDIT_INDEX,
		    "cannot issue a credential to unit '%s': registry table credentials holds no "
		    "valid one for it, but audit leaf %lld records credential %.16s and no leaf "
		    "revoked it: the registry was changed outside linesec",
		    serial, live, fp);
out:
	return rc;
}

/*
 * Issues unit's initial password in one transaction; replace first revokes
 * the valid one it must hold (a credential.revoke leaf, meaning
 * "replaced"), so the unit never holds two.
 */
static int cred_issue(char **label_out, lsec_ca *ca, lsec_store *st, const lsec_actor *who,
		      const char *unit, const char *label_dir, size_t len, lsec_cred_alphabet a,
		      bool replace, lsec_err *err)
{
	int rc = 0;
	lsec_secret *pw = NULL;
	int label_fd = -1;
	lsec_store_unit u;
	uint8_t fp[32];
	char fphex[65];
	char *label = NULL;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	*label_out = NULL;
	LSEC_ENSURE(who != NULL && unit != NULL && label_dir != NULL, LSEC_E_USAGE,
		    "cannot issue a credential: missing person, unit or label folder");
	LSEC_TRY(lsec_ident_check(unit, "unit serial", err));
	LSEC_TRY(lsec_store_unit_get(&u, st, unit, err));
	LSEC_TRY(lsec_cred_generate_ex(&pw, len, a, err));
	LSEC_TRY(lsec_cred_fingerprint(fp, ca, lsec_secret_cdata(pw), lsec_secret_len(pw), err));
	lsec_hex_encode(fphex, fp, sizeof(fp));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	if (replace) {
		size_t n = 0;
		LSEC_TRY(lsec_store_credential_revoke(&n, st, u.serial, err));
		LSEC_ENSURE(n == 1, LSEC_E_STATE,
			    "cannot replace the credential of unit '%s': it holds %zu valid ones "
			    "(a replacement revokes exactly one; issue a first one with 'linesec ca "
			    "cred')",
			    u.serial, n);
		LSEC_TRY(audit(st, who, u.serial, "credential.revoke",
			       json_pack("{s:I,s:s}", "revoked", (json_int_t)n, LSEC_EV_MEANING,
					 "replaced"),
			       err));
	}
	LSEC_TRY(lsec_store_credential_add(st, u.serial, fphex, err));
	/* The rows hold no valid credential (else the add refused): neither may the log. */
	LSEC_TRY(no_live_credential(st, u.serial, err));
	LSEC_TRY(audit(st, who, u.serial, "pki.initial-password.issue",
		       json_pack("{s:I,s:I,s:s}", "entropy_bits",
				 (json_int_t)lsec_cred_entropy_bits(len, a), "length", (json_int_t)len,
				 LSEC_EV_CREDENTIAL_FP, fphex),
		       err));
	/* The label is the only place the password goes: written before the commit. */
	LSEC_TRY(lsec_cred_label_write_mode(&label, &label_fd, label_dir, u.serial, pw, 0600, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	*label_out = label;
	label = NULL;
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (label != NULL) {
		lsec_err ignored = LSEC_ERR_INIT;
		bool gone = false;
		if (lsec_file_destroy_held(&gone, label_fd, label, true, &ignored) < 0) {
			/* a 0600 file of a credential never recorded: useless to anyone */
		}
		lsec_free(label);
	}
	if (label_fd >= 0) {
		close(label_fd);
	}
	lsec_wipe(fphex, sizeof(fphex));
	lsec_wipe(fp, sizeof(fp));
	lsec_secret_free(pw);
	return rc;
}

int lsec_pki_cred_recorded(char **label_out, lsec_ca *ca, lsec_store *st, const lsec_actor *who,
			   const char *unit, const char *label_dir, size_t len,
			   lsec_cred_alphabet a, lsec_err *err)
{
	return cred_issue(label_out, ca, st, who, unit, label_dir, len, a, false, err);
}

int lsec_pki_cred_replace_recorded(char **label_out, lsec_ca *ca, lsec_store *st,
				   const lsec_actor *who, const char *unit, const char *label_dir,
				   size_t len, lsec_cred_alphabet a, lsec_err *err)
{
	return cred_issue(label_out, ca, st, who, unit, label_dir, len, a, true, err);
}

int lsec_pki_cred_active(bool *out, lsec_store *st, const char *unit, lsec_err *err)
{
	int rc = 0;
	lsec_store_credential *creds = NULL;
	size_t n = 0;
	*out = false;
	LSEC_TRY(lsec_ident_check(unit, "unit serial", err));
	LSEC_TRY(lsec_store_credential_list(&creds, &n, st, unit, err));
	for (size_t i = 0; i < n; i++) {
		*out = *out || creds[i].revoked[0] == '\0';
	}
out:
	lsec_free(creds);
	return rc;
}

int lsec_pki_cred_check_recorded(lsec_ca *ca, lsec_store *st, const lsec_actor *who,
				 const char *unit, const lsec_secret *claimed, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int verdict = LSEC_E_NOTFOUND;
	lsec_store_credential *creds = NULL;
	size_t n = 0;
	lsec_err why = LSEC_ERR_INIT;
	const char *outcome = "no-credential", *matched = NULL;
	bool revoked_match = false;
	long long live = -1, revoked_seq = -1;
	char live_fp[65] = "";
	LSEC_ENSURE(who != NULL && unit != NULL && claimed != NULL, LSEC_E_USAGE,
		    "cannot check a credential: missing person, unit or password");
	LSEC_TRY(lsec_store_credential_list(&creds, &n, st, unit, err));
	for (size_t i = 0; i < n; i++) {
		uint8_t fp[32];
		if (lsec_hex_decode_fixed(fp, sizeof(fp), creds[i].keyed_fp, "credential fingerprint",
					  err) < 0) {
			LSEC_BAIL(LSEC_E_STATE, "cannot check unit '%s': its credential fingerprint "
						"in the registry is malformed",
				  unit);
		}
		int r = lsec_cred_check(ca, lsec_secret_cdata(claimed), lsec_secret_len(claimed), fp,
					&why);
		lsec_wipe(fp, sizeof(fp));
		if (r == 0) {
			revoked_match = creds[i].revoked[0] != 0;
			verdict = revoked_match ? LSEC_E_AUTH : 0;
			outcome = revoked_match ? "matches-revoked" : "match";
			matched = creds[i].keyed_fp;
			break;
		}
		if (r != LSEC_E_AUTH) {
			LSEC_TRY(lsec_err_set(err, r, __FILE__, __LINE__, "%s", why.msg));
		}
		verdict = LSEC_E_AUTH;
		outcome = "no-match";
	}
	if (verdict == 0) {
		/* The row matched: it counts only as the unit's leaves record its credential. */
		LSEC_TRY(live_credential(&live, &revoked_seq, live_fp, st, unit, err));
		if (live < 0 || strcmp(live_fp, matched) != 0) { /* lint:ok - hex fingerprints */
			verdict = LSEC_E_AUDIT_INDEX;
			outcome = "unbacked-row";
		}
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	rc = audit(st, who, unit, "pki.initial-password.check",
		   json_pack("{s:s,s:I}", "outcome", outcome, "credentials", (json_int_t)n), err);
	LSEC_TRY(lsec_store_tx_end(&tx, rc, err));
	if (verdict == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_NOTFOUND, "unit '%s' has no recorded initial credential", unit);
	}
	if (verdict == LSEC_E_AUDIT_INDEX && live >= 0) {
		LSEC_BAIL(LSEC_E_AUDIT_INDEX,
			  "cannot accept the password claimed for unit '%s': it matches registry "
			  "table credentials, row %.16s, which no audit leaf backs; the unit's "
			  "valid credential is %.16s, which audit leaf %lld records: the registry "
			  "was changed outside linesec",
			  unit, matched, live_fp, live);
	}
	if (verdict == LSEC_E_AUDIT_INDEX) {
		char said[96] = "no audit leaf records a credential for it";
		if (revoked_seq >= 0) {
			snprintf(said, sizeof(said), "its last credential was revoked by audit leaf %lld",
				 revoked_seq);
		}
		LSEC_BAIL(LSEC_E_AUDIT_INDEX,
			  "cannot accept the password claimed for unit '%s': it matches registry "
			  "table credentials, row %.16s, which no audit leaf backs (%s): the "
			  "registry was changed outside linesec",
			  unit, matched, said);
	}
	LSEC_ENSURE(verdict == 0, LSEC_E_AUTH, "the password claimed for unit '%s' %s", unit,
		    revoked_match ? "is its revoked credential"
				  : "does not match its initial credential");
out:
	lsec_free(creds);
	return rc;
}
