/*
 * `linesec ca init|import-cert|show|issue|revoke|crl|cred|label-done`: the
 * line CA of a security officer. Passphrases and PINs come from a file, an
 * environment variable or a prompt, never from the command line.
 */
#include "cli.h"
#include "linesec/pki.h"
#include "linesec/line.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CA_ENV_PASS "LINESEC_CA_PASSPHRASE"
#define CA_ENV_PIN "LINESEC_PKCS11_PIN"
#define CA_ENV_DIR "LINESEC_CA"

#define OPT_CA CLI_OPT("ca", "DIR", "the CA folder (else $" CA_ENV_DIR ", else line.yaml's ca folder)")
#define OPT_SECRET                                                                                 \
	CLI_OPT("secret-file", "FILE",                                                             \
		"passphrase (file key) or PIN (token) in FILE; else $" CA_ENV_PASS " or $" CA_ENV_PIN \
		", else a prompt")
#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

/* The CA folder: --ca, $LINESEC_CA, else the folder line.yaml names. *out: lsec_free. */
static int ca_dir(char **out, const cli_ctx *c, lsec_err *err)
{
	int rc = 0;
	const char *dir = cli_get(&c->a, "ca");
	if (dir == NULL || dir[0] == '\0') {
		dir = getenv(CA_ENV_DIR);
	}
	if (dir == NULL || dir[0] == '\0') {
		dir = lsec_line_ca_dir(c->line);
	}
	LSEC_ENSURE((*out = lsec_strdup(dir)) != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

/* The person acting at this station, as the pki module records it. */
static lsec_actor ca_actor(const cli_ctx *c)
{
	lsec_actor who = {c->person, lsec_line_station(c->line)};
	return who;
}

typedef enum ca_unlock {
	CA_LOCKED,       /* certificate and metadata only */
	CA_UNLOCKED,     /* the key unlocked: passphrase or PIN */
	CA_TOKEN_UNLOCK, /* unlocked only when the key is in a token (the fingerprint key is too) */
} ca_unlock;

/* Opens the line's CA (*out: lsec_ca_free), unlocked as asked. */
static int ca_open(lsec_ca **out, const cli_ctx *c, ca_unlock unlock, lsec_err *err)
{
	int rc = 0;
	char *dir = NULL;
	lsec_secret *s = NULL;
	*out = NULL;
	LSEC_TRY(ca_dir(&dir, c, err));
	LSEC_TRY(lsec_ca_open(out, dir, NULL, err));
	bool token = lsec_ca_uses_token(*out);
	if (unlock == CA_UNLOCKED || (unlock == CA_TOKEN_UNLOCK && token)) {
		LSEC_TRY(lsec_pki_secret_read(&s, cli_get(&c->a, "secret-file"),
					      token ? CA_ENV_PIN : CA_ENV_PASS,
					      token ? "token PIN" : "CA passphrase", err));
		LSEC_TRY(lsec_ca_unlock(*out, s, err));
	}
out:
	lsec_secret_free(s);
	lsec_free(dir);
	if (rc < 0) {
		lsec_ca_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- ca init ------------------------------------------------------------ */

static const cli_opt init_opts[] = {
	OPT_CA,
	CLI_REQUIRED("cn", "NAME", "CA common name"),
	CLI_OPT("org", "NAME", "CA organization"),
	CLI_OPT("days", "N", "validity of a self-signed root in days (default 10950: the default "
			    "provision SOP's 7300-day device certificates fit for 3650 days)"),
	CLI_OPT("csr-out", "FILE", "write a CSR for an offline root instead of a self-signed root"),
	CLI_OPT("pkcs11", "MODULE", "keep the key in a PKCS#11 token: the module's path"),
	CLI_OPT("token", "LABEL", "the token's label"),
	CLI_OPT("key-label", "LABEL", "the label of the key made in the token"),
	OPT_SECRET,
	CLI_OPT_JSON("the CA"),
	CLI_OPT_END,
};

static int init_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_secret *s = NULL;
	lsec_ca *ca = NULL;
	lsec_ca_description *d = NULL;
	char *dir = NULL;
	json_t *j = NULL;
	uint64_t days = LSEC_CA_DEFAULT_DAYS;
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	lsec_actor who = ca_actor(c);
	LSEC_TRY(cli_get_u64(a, "days", 36500, &days, err));
	LSEC_TRY(ca_dir(&dir, c, err));
	o.common_name = cli_get(a, "cn");
	o.organization = cli_get(a, "org");
	o.validity_days = (uint32_t)days;
	o.csr_out = cli_get(a, "csr-out");
	o.pkcs11_module = cli_get(a, "pkcs11");
	o.token_label = cli_get(a, "token");
	o.key_label = cli_get(a, "key-label");
	bool token = o.pkcs11_module != NULL;
	LSEC_TRY(lsec_pki_secret_read(&s, cli_get(a, "secret-file"),
				      token ? CA_ENV_PIN : CA_ENV_PASS,
				      token ? "token PIN" : "new CA passphrase", err));
	if (token) {
		o.pin = s;
	} else {
		o.passphrase = s;
	}
	LSEC_TRY(lsec_pki_ca_init_recorded(dir, &o, lsec_line_store(c->line), &who, err));
	LSEC_TRY(lsec_ca_open(&ca, dir, NULL, err));
	LSEC_TRY(lsec_ca_describe(&d, ca, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(lsec_ca_description_json(&j, d, err));
		LSEC_TRY(lsec_json_print(stdout, j, err));
		goto out;
	}
	printf("CA created in %s (%s, key %s)\n", dir, d->state, d->key_sha256);
	if (o.csr_out != NULL) {
		printf("CSR for the offline root: %s (then: linesec ca import-cert)\n", o.csr_out);
	}
out:
	json_decref(j);
	lsec_ca_description_free(d);
	lsec_ca_free(ca);
	lsec_free(dir);
	lsec_secret_free(s);
	return rc;
}

static const cli_spec init_spec = {
	.usage = "ca init [--line DIR] [--as NAME] [--ca DIR] --cn NAME [--org NAME] [--days N] "
		 "[--csr-out FILE] [--pkcs11 MODULE --token LABEL --key-label LABEL] "
		 "[--secret-file FILE]",
	.summary = "Key ceremony: generate the line CA key (ECDSA P-256) and a self-signed root or a "
		   "CSR.",
	.opts = init_opts,
	.details = "Without --pkcs11 the key is written encrypted (PKCS#8, scrypt) under the "
		   "passphrase\nto DIR/ca.key.pem (mode 0600). With --pkcs11 it is generated inside "
		   "the token,\nsensitive and not extractable, and every certificate and CRL is "
		   "signed there.\nThe line credential key is made alongside (DIR/cred.key, 0600, or "
		   "in the token).",
	.body = init_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "create the line CA",
};

/* ---- ca import-cert ------------------------------------------------------- */

static const cli_opt import_opts[] = {
	OPT_CA,
	CLI_OPT("root", "FILE", "the offline root the certificate must verify under (kept)"),
	CLI_OPT_END,
};

static int import_body(cli_ctx *c)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	lsec_actor who = ca_actor(c);
	LSEC_TRY(ca_open(&ca, c, CA_LOCKED, &c->err));
	LSEC_TRY(lsec_pki_ca_import_recorded(ca, c->a.args[0], cli_get(&c->a, "root"),
					     lsec_line_store(c->line), &who, &c->err));
	printf("CA certificate installed: %s\n", c->a.args[0]);
out:
	lsec_ca_free(ca);
	return rc;
}

static const cli_spec import_spec = {
	.usage = "ca import-cert [--line DIR] [--ca DIR] [--root ROOT.pem] CERT.pem",
	.summary = "Install the root-signed certificate of a CA created with --csr-out.",
	.opts = import_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "The certificate must carry the CA key and basicConstraints CA:TRUE.",
	.body = import_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "import the CA certificate",
};

/* ---- ca show -------------------------------------------------------------- */

static const cli_opt show_opts[] = {OPT_CA, CLI_OPT_JSON("the CA"), CLI_OPT_END};

static int show_body(cli_ctx *c)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	lsec_ca_description *d = NULL;
	json_t *j = NULL;
	const char *key;
	json_t *v;
	LSEC_TRY(ca_open(&ca, c, CA_LOCKED, &c->err));
	LSEC_TRY(lsec_ca_describe(&d, ca, &c->err));
	LSEC_TRY(lsec_ca_description_json(&j, d, &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
		goto out;
	}
	json_object_foreach(j, key, v)
	{
		if (json_is_string(v)) {
			printf("%-16s %s\n", key, json_string_value(v));
		} else {
			printf("%-16s %lld\n", key, (long long)json_integer_value(v));
		}
	}
out:
	json_decref(j);
	lsec_ca_description_free(d);
	lsec_ca_free(ca);
	return rc;
}

static const cli_spec show_spec = {
	.usage = "ca show [--line DIR] [--ca DIR] [--json]",
	.summary = "Describe the line CA: state, key storage and fingerprint, subject, validity.",
	.opts = show_opts,
	.body = show_body,
	.setup = CLI_LINE,
	.roles = OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR),
	.action = "show the CA",
};

/* ---- ca issue ------------------------------------------------------------- */

static const cli_opt issue_opts[] = {
	OPT_CA,
	CLI_REQUIRED("csr", "FILE", "the device's certificate request (PEM or DER)"),
	CLI_REQUIRED("serial", "SN", "the unit serial"),
	CLI_OPT("product", "NAME", "the product (without --registry)"),
	CLI_OPT("uid", "HEX", "the unit UID (without --registry)"),
	CLI_OPT("days", "N", "validity in days (default 365)"),
	CLI_REQUIRED("out", "FILE", "write the certificate here"),
	CLI_FLAG("der", "write DER instead of PEM"),
	OPT_SECRET,
	CLI_OPT_JSON("the certificate's facts"),
	CLI_OPT_END,
};

static int issue_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_buf in = LSEC_BUF_INIT(64 * 1024), out = LSEC_BUF_INIT(64 * 1024),
		 uid = LSEC_BUF_INIT(64);
	lsec_csr *csr = NULL;
	lsec_cert *cert = NULL;
	lsec_ca *ca = NULL;
	uint64_t days = 365;
	const char *serial = cli_get(a, "serial"), *outpath = cli_get(a, "out");
	const char *product = cli_get(a, "product"), *hex = cli_get(a, "uid");
	bool recorded = product == NULL && hex == NULL;
	lsec_actor who = ca_actor(c);
	LSEC_TRY(cli_get_u64(a, "days", 36500, &days, err));
	LSEC_TRY(lsec_file_read(&in, cli_get(a, "csr"), err));
	LSEC_TRY(lsec_csr_parse(&csr, in.data, in.len, err));
	if (recorded) {
		LSEC_TRY(ca_open(&ca, c, CA_UNLOCKED, err));
		LSEC_TRY(lsec_pki_issue_recorded(&cert, ca, lsec_line_store(c->line), &who, serial,
						 lsec_csr_key(csr), LSEC_KEY_ORIGIN_DEVICE,
						 (uint32_t)days, err));
	} else {
		LSEC_ENSURE(product != NULL && hex != NULL, LSEC_E_USAGE,
			    "a certificate issued by hand needs both --product NAME and --uid HEX");
		LSEC_TRY(lsec_hex_decode(&uid, hex, strlen(hex), "--uid", err));
		LSEC_TRY(ca_open(&ca, c, CA_UNLOCKED, err));
		lsec_cert_request req = LSEC_CERT_REQUEST_INIT;
		req.serial = serial;
		req.product = product;
		req.uid = uid.data;
		req.uid_len = uid.len;
		req.validity_days = (uint32_t)days;
		LSEC_TRY(lsec_ca_issue(&cert, ca, lsec_csr_key(csr), &req, err));
	}
	LSEC_TRY(lsec_cert_encode(&out, cert, cli_flag(a, "der"), err));
	LSEC_TRY(lsec_file_write_new(outpath, out.data, out.len, 0644, err));
	char sn[41], fphex[65];
	uint8_t fp[32];
	lsec_cert_serial_hex(sn, cert);
	LSEC_TRY(lsec_cert_key_fingerprint(fp, cert, err));
	lsec_hex_encode(fphex, fp, sizeof(fp));
	if (cli_flag(a, "json")) {
		LSEC_TRY(cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:b}", "unit", serial,
						  "cert_serial", sn, "key_sha256", fphex, "out",
						  outpath, "recorded", recorded),
					err));
	} else {
		printf("issued certificate %s for unit %s (key %s) -> %s\n", sn, serial, fphex,
		       outpath);
	}
out:
	lsec_ca_free(ca);
	lsec_cert_free(cert);
	lsec_csr_free(csr);
	lsec_buf_release(&uid);
	lsec_buf_release(&out);
	lsec_buf_release(&in);
	return rc;
}

static const cli_spec issue_spec = {
	.usage = "ca issue [--line DIR] [--ca DIR] --csr FILE --serial SN --out CERT "
		 "[--product NAME --uid HEX] [--days N] [--der] [--json]",
	.summary = "Issue a device certificate from a CSR (its signature is verified, its subject "
		   "ignored).",
	.opts = issue_opts,
	.details = "The unit's product and UID come from the line's registry, the identity is "
		   "recorded\n(a key or certificate serial held by another unit is refused) and the "
		   "act is audited.\nWith --product and --uid a certificate is issued by hand for a "
		   "unit the registry does\nnot know (bench trials) and is recorded nowhere. A "
		   "logged-in security officer only.",
	.body = issue_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "issue a device certificate",
};

/* ---- ca revoke ------------------------------------------------------------ */

static const cli_opt revoke_opts[] = {
	OPT_CA,
	CLI_REQUIRED("cert", "FILE", "the certificate to revoke"),
	CLI_REQUIRED("reason", "NAME",
		     "RFC 5280 reason (keyCompromise, superseded, cessationOfOperation, ...)"),
	CLI_OPT_END,
};

static int revoke_body(cli_ctx *c)
{
	int rc = 0;
	lsec_cert *cert = NULL;
	lsec_crl_reason reason = LSEC_CRL_UNSPECIFIED;
	lsec_actor who = ca_actor(c);
	LSEC_TRY(lsec_crl_reason_parse(&reason, cli_get(&c->a, "reason"), &c->err));
	LSEC_TRY(lsec_cert_load(&cert, cli_get(&c->a, "cert"), &c->err));
	LSEC_TRY(lsec_pki_revoke_recorded(lsec_line_store(c->line), &who, cert, reason, &c->err));
	LSEC_TRY(lsec_line_checkpoint_now(c->line, c->person, &c->err));
	char sn[41];
	lsec_cert_serial_hex(sn, cert);
	printf("revoked certificate %s (%s)\n", sn, lsec_crl_reason_name(reason));
out:
	lsec_cert_free(cert);
	return rc;
}

static const cli_spec revoke_spec = {
	.usage = "ca revoke [--line DIR] --cert FILE --reason NAME",
	.summary = "Revoke a recorded device certificate; it is listed on the next CRL.",
	.opts = revoke_opts,
	.details = "The key state becomes compromised (keyCompromise, cACompromise) or deactivated.",
	.body = revoke_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "revoke a certificate",
};

/* ---- ca crl --------------------------------------------------------------- */

static const cli_opt crl_opts[] = {
	OPT_CA,
	CLI_OPT("out", "FILE", "write the CRL here (else standard output)"),
	CLI_FLAG("der", "DER instead of PEM"),
	CLI_OPT("list", "FILE", "also write the plain list of revoked serials and key fingerprints"),
	CLI_FLAG("list-json", "write that list as JSON instead of text"),
	CLI_OPT("next-update", "HOURS", "nextUpdate this many hours ahead (default 168)"),
	OPT_SECRET,
	CLI_OPT_JSON("the CRL number"),
	CLI_OPT_END,
};

static int crl_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_buf crl = LSEC_BUF_INIT(64u << 20), list = LSEC_BUF_INIT(64u << 20);
	lsec_ca *ca = NULL;
	uint64_t hours = 168, num = 0;
	lsec_crl_options o = LSEC_CRL_OPTIONS_INIT;
	const char *outpath = cli_get(a, "out"), *listpath = cli_get(a, "list");
	lsec_actor who = ca_actor(c);
	LSEC_TRY(cli_get_u64(a, "next-update", 24 * 366, &hours, err));
	o.next_update_hours = (uint32_t)hours;
	o.der = cli_flag(a, "der");
	LSEC_TRY(ca_open(&ca, c, CA_UNLOCKED, err));
	LSEC_TRY(lsec_pki_crl_recorded(&crl, listpath ? &list : NULL, &num,
				       cli_flag(a, "list-json"), ca, lsec_line_store(c->line), &who, &o, err));
	if (listpath != NULL) {
		LSEC_TRY(lsec_file_write_atomic(listpath, list.data, list.len, 0644, err));
	}
	if (outpath != NULL) {
		LSEC_TRY(lsec_file_write_atomic(outpath, crl.data, crl.len, 0644, err));
	} else {
		LSEC_ENSURE(!o.der, LSEC_E_USAGE, "a DER CRL needs --out FILE");
		fwrite(crl.data, 1, crl.len, stdout);
	}
	if (cli_flag(a, "json")) {
		LSEC_TRY(cli_print_json(json_pack("{s:I,s:s?}", "crl_number", (json_int_t)num, "out",
						  outpath),
					err));
	} else if (outpath != NULL) {
		printf("CRL number %llu -> %s\n", (unsigned long long)num, outpath);
	}
out:
	lsec_ca_free(ca);
	lsec_buf_release(&list);
	lsec_buf_release(&crl);
	return rc;
}

static const cli_spec crl_spec = {
	.usage = "ca crl [--line DIR] [--ca DIR] [--der] [--out FILE] [--list FILE [--list-json]] "
		 "[--next-update HOURS]",
	.summary = "Sign a CRL of every revoked identity in the registry; its number only grows.",
	.opts = crl_opts,
	.body = crl_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "sign the CRL",
};

/* ---- ca cred, ca cred-check, ca label-done ---------------------------------- */

static const cli_opt cred_opts[] = {
	OPT_CA,
	CLI_REQUIRED("serial", "SN", "the unit"),
	CLI_REQUIRED("label-dir", "DIR", "where the per-unit label file is written"),
	CLI_OPT("length", "N", "characters, 16..64 (default 16)"),
	CLI_OPT("alphabet", "NAME",
		"alnum (56 characters, no look-alikes; default) or base32 (Crockford)"),
	OPT_SECRET,
	CLI_OPT_JSON("the label file"),
	CLI_OPT_END,
};

static int cred_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_ca *ca = NULL;
	char *label = NULL;
	const char *serial = cli_get(a, "serial"), *dir = cli_get(a, "label-dir");
	uint64_t len = LSEC_CRED_LEN;
	lsec_cred_alphabet alpha = LSEC_CRED_ALNUM;
	lsec_actor who = ca_actor(c);
	LSEC_TRY(ca_open(&ca, c, CA_TOKEN_UNLOCK, err));
	LSEC_TRY(cli_get_u64(a, "length", 64, &len, err));
	if (cli_get(a, "alphabet") != NULL) {
		LSEC_TRY(lsec_cred_alphabet_parse(&alpha, cli_get(a, "alphabet"), err));
	}
	LSEC_TRY(lsec_pki_cred_recorded(&label, ca, lsec_line_store(c->line), &who, serial, dir,
					(size_t)len, alpha, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(cli_print_json(json_pack("{s:s,s:s}", "unit", serial, "label_file", label),
					err));
	} else {
		printf("initial password for unit %s recorded; label file %s\n", serial, label);
	}
out:
	lsec_free(label);
	lsec_ca_free(ca);
	return rc;
}

static const cli_spec cred_spec = {
	.usage = "ca cred [--line DIR] [--ca DIR] --serial SN --label-dir DIR [--length N] "
		 "[--alphabet alnum|base32] [--json]",
	.summary = "Issue a unit's random initial password: its keyed fingerprint goes to the "
		   "registry,\nthe password only to the label file (mode 0600).",
	.opts = cred_opts,
	.details = "The password is never printed. Remove the label file with 'linesec ca "
		   "label-done'\nonce the label is printed.",
	.body = cred_body,
	.setup = CLI_LINE,
	.roles = OFFICER,
	.action = "issue an initial password",
};

/* ---- ca cred-replace, ca cred-approve: a replacement takes two security officers ---- */

#define CHANGE_CRED_REPLACE "credential-replace" /* payload {"serial"} */

static const cli_opt replace_opts[] = {
	CLI_REQUIRED("serial", "SN", "the unit whose valid credential is replaced"),
	CLI_OPT_END,
};

static int replace_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const char *serial = cli_get(&c->a, "serial");
	bool active = false;
	int64_t id = 0;
	json_t *payload = NULL;
	LSEC_TRY(lsec_pki_cred_active(&active, lsec_line_store(c->line), serial, err));
	LSEC_ENSURE(active, LSEC_E_STATE,
		    "unit '%s' holds no valid credential: issue one with 'linesec ca cred'", serial);
	LSEC_ENSURE((payload = json_pack("{s:s}", "serial", serial)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	LSEC_TRY(lsec_line_change_request(&id, NULL, 0, c->line, &c->who, CHANGE_CRED_REPLACE,
					  serial, payload, err));
	printf("change %lld requested: replace the credential of unit %s; a second security "
	       "officer approves it with 'linesec ca cred-approve --label-dir DIR %lld'\n",
	       (long long)id, serial, (long long)id);
out:
	json_decref(payload);
	return rc;
}

static const cli_spec replace_spec = {
	.usage = "ca cred-replace [--line DIR] [--as NAME] --serial SN",
	.summary = "request a replacement of a unit's initial password (two security officers)",
	.opts = replace_opts,
	.details = "Nothing changes until a second, distinct security officer approves it with "
		   "'linesec ca\ncred-approve', which revokes the old credential and records the "
		   "new one in one transaction.",
	.body = replace_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "request a credential replacement",
};

typedef struct replace_ctx {
	lsec_ca *ca;
	const char *label_dir;
	size_t len;
	lsec_cred_alphabet alpha;
	const char *station;
	char *label; /* out */
} replace_ctx;

/* The approved change applied inside its transaction (lsec_line_change_apply_fn). */
static int replace_apply(void *ctx, lsec_line *line, const lsec_store_change *change,
			 const char *approver, lsec_err *err)
{
	int rc = 0;
	replace_ctx *r = ctx;
	lsec_actor who = {approver, r->station};
	LSEC_ENSURE(strcmp(change->kind, CHANGE_CRED_REPLACE) == 0, LSEC_E_USAGE,
		    "change %lld is a %s, not a credential replacement (approve it with 'linesec "
		    "change approve')",
		    (long long)change->id, change->kind);
	LSEC_TRY(lsec_pki_cred_replace_recorded(&r->label, r->ca, lsec_line_store(line), &who,
						change->subject, r->label_dir, r->len, r->alpha,
						err));
out:
	return rc;
}

static const cli_opt approve_opts[] = {
	OPT_CA,
	CLI_REQUIRED("label-dir", "DIR", "where the new label file is written"),
	CLI_OPT("length", "N", "characters, 16..64 (default 16)"),
	CLI_OPT("alphabet", "NAME",
		"alnum (56 characters, no look-alikes; default) or base32 (Crockford)"),
	OPT_SECRET,
	CLI_OPT_END,
};

static int approve_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	uint64_t len = LSEC_CRED_LEN;
	int64_t id = 0;
	lsec_store_change ch;
	replace_ctx r = {NULL, cli_get(a, "label-dir"), 0, LSEC_CRED_ALNUM,
			 lsec_line_station(c->line), NULL};
	LSEC_TRY(cli_change_id(&id, a->args[0], err));
	LSEC_TRY(ca_open(&r.ca, c, CA_TOKEN_UNLOCK, err));
	LSEC_TRY(cli_get_u64(a, "length", 64, &len, err));
	r.len = (size_t)len;
	if (cli_get(a, "alphabet") != NULL) {
		LSEC_TRY(lsec_cred_alphabet_parse(&r.alpha, cli_get(a, "alphabet"), err));
	}
	LSEC_TRY(lsec_line_change_approve(&ch, NULL, 0, c->line, &c->who, id, replace_apply, &r,
					  err));
	printf("change %lld approved by %s: the credential of unit %s replaced (the old one "
	       "revoked); label file %s\n",
	       (long long)id, c->who.name, ch.subject, r.label);
out:
	lsec_free(r.label);
	lsec_ca_free(r.ca);
	return rc;
}

static const cli_spec approve_spec = {
	.usage = "ca cred-approve [--line DIR] [--as NAME] [--ca DIR] --label-dir DIR [--length N] "
		 "[--alphabet alnum|base32] ID",
	.summary = "approve a credential replacement: revoke the old, record the new (a second "
		   "security officer; signs)",
	.opts = approve_opts,
	.min_args = 1,
	.max_args = 1,
	.body = approve_body,
	.setup = CLI_LINE | CLI_SIGN,
	.roles = OFFICER,
	.action = "approve a credential replacement",
};

static const cli_opt cred_check_opts[] = {
	OPT_CA,
	CLI_OPT("secret-file", "FILE",
		"read the claimed password from FILE (else LINESEC_CLAIMED_PASSWORD, else a prompt)"),
	CLI_OPT_END,
};

static int cred_check_body(cli_ctx *c)
{
	int rc = 0;
	lsec_secret *claimed = NULL;
	lsec_ca *ca = NULL;
	lsec_actor who = ca_actor(c);
	LSEC_TRY(ca_open(&ca, c, CA_TOKEN_UNLOCK, &c->err));
	LSEC_TRY(lsec_pki_secret_read(&claimed, cli_get(&c->a, "secret-file"),
				      "LINESEC_CLAIMED_PASSWORD", "claimed password: ", &c->err));
	LSEC_TRY(lsec_pki_cred_check_recorded(ca, lsec_line_store(c->line), &who, c->a.args[0],
					      claimed, &c->err));
	printf("the password is the valid initial credential of unit %s\n", c->a.args[0]);
out:
	lsec_secret_free(claimed);
	lsec_ca_free(ca);
	return rc;
}

static const cli_spec cred_check_spec = {
	.usage = "ca cred-check [--line DIR] [--as NAME] [--ca DIR] [--secret-file FILE] SERIAL",
	.summary = "Check a password claimed for a unit against its recorded keyed fingerprint.",
	.opts = cred_check_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Exit 0 when it is the unit's valid initial credential, 10 when it is not (or "
		   "was\nrevoked), 6 when the unit has none. The check is recorded; the password "
		   "never is.",
	.body = cred_check_body,
	.setup = CLI_LINE,
	.roles = OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR),
	.action = "check a claimed initial password",
};

static int label_done_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_cred_label_remove(c->a.args[0], &c->err));
	printf("removed %s\n", c->a.args[0]);
out:
	return rc;
}

static const cli_spec label_done_spec = {
	.usage = "ca label-done [--line DIR] [--as NAME] LABEL-FILE",
	.summary = "Printing confirmed: overwrite the label file with zeros and remove it.",
	.min_args = 1,
	.max_args = 1,
	.body = label_done_body,
	.setup = CLI_LINE,
	.roles = OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR) | LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR),
	.action = "confirm a printed label",
};

/* ---- the table ------------------------------------------------------------ */

const cli_cmd cli_ca_cmds[] = {
	{"init", &init_spec, NULL, "key ceremony: CA key and self-signed root or CSR"},
	{"import-cert", &import_spec, NULL, "install the root-signed CA certificate"},
	{"show", &show_spec, NULL, "describe the CA"},
	{"issue", &issue_spec, NULL, "issue a device certificate from a CSR"},
	{"revoke", &revoke_spec, NULL, "revoke a recorded device certificate"},
	{"crl", &crl_spec, NULL, "sign the CRL (and the plain list for a cloud registry)"},
	{"cred", &cred_spec, NULL, "issue a unit's initial password (label file only)"},
	{"cred-replace", &replace_spec, NULL,
	 "request a replacement of a unit's initial password (two officers)"},
	{"cred-approve", &approve_spec, NULL,
	 "approve a replacement: the old credential revoked, the new one recorded"},
	{"label-done", &label_done_spec, NULL, "remove a printed label file"},
	{"cred-check", &cred_check_spec, NULL,
	 "check a password claimed for a unit (keyed fingerprint)"},
	{NULL, NULL, NULL, NULL},
};
