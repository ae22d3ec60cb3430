/*
 * `linesec ca init|import-cert|show|issue|revoke|crl|cred|label-done`: the
 * line CA of a security officer. Passphrases and PINs come from a file, an
 * environment variable or a prompt, never from the command line.
 */
#include "cli.h"
#include "linesec/pki.h"
#include "linesec/line.h"
#include "linesec/device.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CA_ENV_PASS "LINESEC_CA_PASSPHRASE"
#define CA_ENV_PIN "LINESEC_PKCS11_PIN"
#define CA_ENV_DIR "LINESEC_CA"

#define OPT_CA {"ca", "DIR", "the CA folder (else $" CA_ENV_DIR ", else line.yaml's ca folder)"}
#define OPT_LINE {"line", "DIR", "the line folder (default: $LINESEC_LINE, then the current folder)"}
#define OPT_AS {"as", "NAME", "who acts, when several people are logged in on this station"}
#define OPT_SECRET                                                             \
	{"secret-file", "FILE",                                                \
	 "passphrase (file key) or PIN (token) in FILE; else $" CA_ENV_PASS    \
	 " or $" CA_ENV_PIN ", else a prompt"}
#define OPT_JSON {"json", NULL, "print canonical JSON"}
#define OPT_END {NULL, NULL, NULL}

/* Everything a CA command may hold; released by ctx_release. */
typedef struct ca_ctx {
	lsec_line *line;
	lsec_line_actor actor;
	lsec_actor who;
	lsec_store *st; /* the line's registry (borrowed) */
	char *cadir;
	lsec_ca *ca;
} ca_ctx;

static void ctx_release(ca_ctx *c)
{
	lsec_ca_free(c->ca);
	lsec_free(c->cadir);
	lsec_line_close(c->line);
	memset(c, 0, sizeof(*c));
}

/* An option's value, else the environment variable's; NULL when neither is set or both empty. */
static const char *opt_or_env(const cli_args *a, const char *name, const char *env)
{
	const char *v = cli_get(a, name);
	if (v == NULL) {
		v = getenv(env);
	}
	return v != NULL && v[0] != '\0' ? v : NULL;
}

static int need(const char *v, const char *what, lsec_err *err)
{
	if (v == NULL || v[0] == '\0') {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__, "missing %s", what);
	}
	return 0;
}

/*
 * Opens the line, resolves who acts through their login session (roles: a
 * mask of LSEC_ROLE_BIT) and finds the CA folder: --ca, $LINESEC_CA, else
 * the folder line.yaml names (lsec_line_ca_dir).
 */
static int open_line(ca_ctx *c, const cli_args *a, unsigned roles, const char *action,
		     lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_line_open(&c->line, cli_get(a, "line"), err));
	LSEC_TRY(lsec_line_authorize(c->line, &c->actor, cli_get(a, "as"), roles, action, err));
	c->who.person = c->actor.name;
	c->who.station = lsec_line_station(c->line);
	c->st = lsec_line_store(c->line);
	const char *dir = opt_or_env(a, "ca", CA_ENV_DIR);
	c->cadir = lsec_strdup(dir != NULL ? dir : lsec_line_ca_dir(c->line));
	LSEC_ENSURE(c->cadir != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

#define OFFICER LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER)

/* Opens the line's CA; unlocks it (passphrase or PIN) when asked. */
static int open_ca(ca_ctx *c, const cli_args *a, bool unlock, lsec_err *err)
{
	int rc = 0;
	lsec_secret *s = NULL;
	LSEC_TRY(lsec_ca_open(&c->ca, c->cadir, NULL, err));
	if (unlock) {
		bool token = lsec_ca_uses_token(c->ca);
		LSEC_TRY(lsec_pki_secret_read(&s, cli_get(a, "secret-file"),
					      token ? CA_ENV_PIN : CA_ENV_PASS,
					      token ? "token PIN" : "CA passphrase", err));
		LSEC_TRY(lsec_ca_unlock(c->ca, s, err));
	}
out:
	lsec_secret_free(s);
	return rc;
}

static int print_json(json_t *j, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory for output");
	rc = lsec_json_print(stdout, j, err);
out:
	json_decref(j);
	return rc;
}

/* Runs body after parsing; maps its result to the exit status. */
typedef int (*ca_body)(const cli_args *a, ca_ctx *c, lsec_err *err);

static int run(const cli_spec *spec, ca_body body, int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	ca_ctx c;
	memset(&c, 0, sizeof(c));
	int rc = cli_parse(&a, spec, argc, argv);
	if (rc != 0) {
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	rc = body(&a, &c, &err) < 0 ? cli_fail(&err) : CLI_EXIT_OK;
	ctx_release(&c);
	return rc;
}

/* ---- ca init ------------------------------------------------------------ */

static const cli_opt init_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"cn", "NAME", "CA common name (required)"},
	{"org", "NAME", "CA organization"},
	{"days", "N", "validity of a self-signed root in days (default 3650)"},
	{"csr-out", "FILE", "write a CSR for an offline root instead of a self-signed root"},
	{"pkcs11", "MODULE", "keep the key in a PKCS#11 token: the module's path"},
	{"token", "LABEL", "the token's label"},
	{"key-label", "LABEL", "the label of the key made in the token"},
	OPT_SECRET,
	OPT_JSON,
	OPT_END,
};

static const cli_spec init_spec = {
	"ca init [--line DIR] [--as NAME] [--ca DIR] --cn NAME [--org NAME] [--days N] [--csr-out FILE] "
	"[--pkcs11 MODULE --token LABEL --key-label LABEL] [--secret-file FILE]",
	"Key ceremony: generate the line CA key (ECDSA P-256) and a self-signed root or a CSR.",
	init_opts,
	0,
	0,
	"Without --pkcs11 the key is written encrypted (PKCS#8, scrypt) under the passphrase\n"
	"to DIR/ca.key.pem (mode 0600). With --pkcs11 it is generated inside the token,\n"
	"sensitive and not extractable, and every certificate and CRL is signed there.\n"
	"The line credential key is made alongside (DIR/cred.key, 0600, or in the token).",
};

static int init_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_secret *s = NULL;
	uint64_t days = 3650;
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	LSEC_TRY(cli_get_u64(a, "days", 36500, &days, err));
	LSEC_TRY(open_line(c, a, OFFICER, "create the line CA", err));
	const char *dir = c->cadir;
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
	LSEC_TRY(lsec_pki_ca_init_recorded(dir, &o, c->st, &c->who, err));
	LSEC_TRY(lsec_ca_open(&c->ca, dir, NULL, err));
	json_t *j = NULL;
	LSEC_TRY(lsec_ca_describe(&j, c->ca, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(print_json(j, err));
	} else {
		printf("CA created in %s (%s, key %s)\n", dir,
		       json_string_value(json_object_get(j, "state")),
		       json_string_value(json_object_get(j, "key_sha256")));
		if (o.csr_out != NULL) {
			printf("CSR for the offline root: %s (then: linesec ca import-cert)\n",
			       o.csr_out);
		}
		json_decref(j);
	}
out:
	lsec_secret_free(s);
	return rc;
}


/* ---- ca import-cert ------------------------------------------------------- */

static const cli_opt import_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"root", "FILE", "the offline root the certificate must verify under (kept)"},
	OPT_END,
};

static const cli_spec import_spec = {
	"ca import-cert [--line DIR] [--ca DIR] [--root ROOT.pem] CERT.pem",
	"Install the root-signed certificate of a CA created with --csr-out.",
	import_opts,
	1,
	1,
	"The certificate must carry the CA key and basicConstraints CA:TRUE.",
};

static int import_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(open_line(c, a, OFFICER, "import the CA certificate", err));
	LSEC_TRY(open_ca(c, a, false, err));
	LSEC_TRY(lsec_pki_ca_import_recorded(c->ca, a->args[0], cli_get(a, "root"), c->st, &c->who,
					     err));
	printf("CA certificate installed: %s\n", a->args[0]);
out:
	return rc;
}

/* ---- ca show -------------------------------------------------------------- */

static const cli_opt show_opts[] = {OPT_CA, OPT_LINE, OPT_AS, OPT_JSON, OPT_END};

static const cli_spec show_spec = {
	"ca show [--line DIR] [--ca DIR] [--json]",
	"Describe the line CA: state, key storage and fingerprint, subject, validity.",
	show_opts,
	0,
	0,
	NULL,
};

static int show_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	json_t *j = NULL;
	LSEC_TRY(open_line(c, a, OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_AUDITOR), "show the CA", err));
	LSEC_TRY(open_ca(c, a, false, err));
	LSEC_TRY(lsec_ca_describe(&j, c->ca, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(print_json(j, err));
		j = NULL;
		goto out;
	}
	const char *key;
	json_t *v;
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
	return rc;
}

/* ---- ca issue ------------------------------------------------------------- */

static const cli_opt issue_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"csr", "FILE", "the device's certificate request (PEM or DER; required)"},
	{"serial", "SN", "the unit serial (required)"},
	{"product", "NAME", "the product (without --registry)"},
	{"uid", "HEX", "the unit UID (without --registry)"},
	{"days", "N", "validity in days (default 365)"},
	{"out", "FILE", "write the certificate here (required)"},
	{"der", NULL, "write DER instead of PEM"},
	OPT_SECRET,
	OPT_JSON,
	OPT_END,
};

static const cli_spec issue_spec = {
	"ca issue [--line DIR] [--ca DIR] --csr FILE --serial SN --out CERT "
	"[--product NAME --uid HEX] [--days N] [--der] [--json]",
	"Issue a device certificate from a CSR (its signature is verified, its subject ignored).",
	issue_opts,
	0,
	0,
	"The unit's product and UID come from the line's registry, the identity is recorded\n"
	"(a key or certificate serial held by another unit is refused) and the act is audited.\n"
	"With --product and --uid a certificate is issued by hand for a unit the registry does\n"
	"not know (bench trials) and is recorded nowhere. A logged-in security officer only.",
};

static int issue_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_buf in = LSEC_BUF_INIT(64 * 1024), out = LSEC_BUF_INIT(64 * 1024),
		 uid = LSEC_BUF_INIT(64);
	lsec_csr *csr = NULL;
	lsec_cert *cert = NULL;
	uint64_t days = 365;
	const char *csrpath = cli_get(a, "csr"), *serial = cli_get(a, "serial");
	const char *outpath = cli_get(a, "out");
	bool recorded = cli_get(a, "product") == NULL && cli_get(a, "uid") == NULL;
	LSEC_TRY(need(csrpath, "--csr FILE", err));
	LSEC_TRY(need(serial, "--serial SN", err));
	LSEC_TRY(need(outpath, "--out FILE", err));
	LSEC_TRY(cli_get_u64(a, "days", 36500, &days, err));
	LSEC_TRY(lsec_file_read(&in, csrpath, err));
	LSEC_TRY(lsec_csr_parse(&csr, in.data, in.len, err));
	LSEC_TRY(open_line(c, a, OFFICER, "issue a device certificate", err));
	if (recorded) {
		LSEC_TRY(open_ca(c, a, true, err));
		LSEC_TRY(lsec_pki_issue_recorded(&cert, c->ca, c->st, &c->who, serial,
						 lsec_csr_key(csr), LSEC_KEY_ORIGIN_DEVICE,
						 (uint32_t)days, err));
	} else {
		const char *hex = cli_get(a, "uid");
		LSEC_TRY(need(cli_get(a, "product"), "--product NAME (with --uid)", err));
		LSEC_TRY(need(hex, "--uid HEX (with --product)", err));
		LSEC_TRY(lsec_hex_decode(&uid, hex, strlen(hex), "--uid", err));
		LSEC_TRY(open_ca(c, a, true, err));
		lsec_cert_request req = LSEC_CERT_REQUEST_INIT;
		req.serial = serial;
		req.product = cli_get(a, "product");
		req.uid = uid.data;
		req.uid_len = uid.len;
		req.validity_days = (uint32_t)days;
		LSEC_TRY(lsec_ca_issue(&cert, c->ca, lsec_csr_key(csr), &req, err));
	}
	LSEC_TRY(lsec_cert_encode(&out, cert, cli_flag(a, "der"), err));
	LSEC_TRY(lsec_file_write_new(outpath, out.data, out.len, 0644, err));
	char sn[41], fphex[65];
	uint8_t fp[32];
	lsec_cert_serial_hex(sn, cert);
	LSEC_TRY(lsec_cert_key_fingerprint(fp, cert, err));
	lsec_hex_encode(fphex, fp, sizeof(fp));
	if (cli_flag(a, "json")) {
		LSEC_TRY(print_json(json_pack("{s:s,s:s,s:s,s:s,s:b}", "unit", serial, "cert_serial",
					      sn, "key_sha256", fphex, "out", outpath, "recorded",
					      recorded),
				    err));
	} else {
		printf("issued certificate %s for unit %s (key %s) -> %s\n", sn, serial, fphex,
		       outpath);
	}
out:
	lsec_cert_free(cert);
	lsec_csr_free(csr);
	lsec_buf_release(&uid);
	lsec_buf_release(&out);
	lsec_buf_release(&in);
	return rc;
}

/* ---- ca enroll ------------------------------------------------------------ */

static const cli_opt enroll_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"target", "URI", "the unit's device (sim:PATH, ...; required)"},
	{"serial", "SN", "the unit serial (required)"},
	{"slot", "N", "key slot on the device (default 0)"},
	{"days", "N", "validity in days (default 365)"},
	{"out", "FILE", "also write the certificate here (PEM)"},
	OPT_SECRET,
	OPT_JSON,
	OPT_END,
};

static const cli_spec enroll_spec = {
	"ca enroll [--line DIR] [--ca DIR] --target URI --serial SN [--slot N] [--days N] "
	"[--out FILE] [--json]",
	"Enrol a registered unit on its device: key, device-signed CSR, certificate, proof.",
	enroll_opts,
	0,
	0,
	"The device's UID must be the unit's. The device generates its key in the slot; a\n"
	"device that cannot gets a key generated by the station, injected and wiped. The\n"
	"device's CSR is verified, the certificate issued and recorded, written to the device\n"
	"and read back, and the device signs a fresh challenge that must verify under it.",
};

static int enroll_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_device *t = NULL;
	lsec_cert *cert = NULL;
	lsec_buf pem = LSEC_BUF_INIT(64 * 1024);
	uint64_t days = 365, slot = 0;
	const char *uri = cli_get(a, "target"), *serial = cli_get(a, "serial");
	const char *outpath = cli_get(a, "out");
	LSEC_TRY(need(uri, "--target URI", err));
	LSEC_TRY(need(serial, "--serial SN", err));
	LSEC_TRY(cli_get_u64(a, "days", 36500, &days, err));
	LSEC_TRY(cli_get_u64(a, "slot", 255, &slot, err));
	LSEC_TRY(open_line(c, a, OFFICER, "enrol a unit", err));
	LSEC_TRY(open_ca(c, a, true, err));
	LSEC_TRY(lsec_device_open(&t, uri, err));
	LSEC_TRY(lsec_device_debug_attach(t, err));
	LSEC_TRY(lsec_pki_enroll(&cert, c->ca, c->st, &c->who, serial, t, (unsigned)slot,
				 (uint32_t)days, err));
	if (outpath != NULL) {
		LSEC_TRY(lsec_cert_encode(&pem, cert, false, err));
		LSEC_TRY(lsec_file_write_new(outpath, pem.data, pem.len, 0644, err));
	}
	char sn[41];
	lsec_cert_serial_hex(sn, cert);
	if (cli_flag(a, "json")) {
		LSEC_TRY(print_json(json_pack("{s:s,s:s,s:s,s:I}", "unit", serial, "cert_serial", sn,
					      "target", uri, "slot", (json_int_t)slot),
				    err));
	} else {
		printf("enrolled unit %s on %s slot %llu: certificate %s, possession proven\n",
		       serial, uri, (unsigned long long)slot, sn);
	}
out:
	lsec_buf_release(&pem);
	lsec_cert_free(cert);
	lsec_device_close(t);
	return rc;
}

/* ---- ca revoke ------------------------------------------------------------ */

static const cli_opt revoke_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"cert", "FILE", "the certificate to revoke (required)"},
	{"reason", "NAME", "RFC 5280 reason (keyCompromise, superseded, cessationOfOperation, ...)"},
	OPT_END,
};

static const cli_spec revoke_spec = {
	"ca revoke [--line DIR] --cert FILE --reason NAME",
	"Revoke a recorded device certificate; it is listed on the next CRL.",
	revoke_opts,
	0,
	0,
	"The key state becomes compromised (keyCompromise, cACompromise) or deactivated.",
};

static int revoke_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_cert *cert = NULL;
	lsec_crl_reason reason = LSEC_CRL_UNSPECIFIED;
	const char *path = cli_get(a, "cert"), *r = cli_get(a, "reason");
	LSEC_TRY(need(path, "--cert FILE", err));
	LSEC_TRY(need(r, "--reason NAME", err));
	LSEC_TRY(lsec_crl_reason_parse(&reason, r, err));
	LSEC_TRY(lsec_cert_load(&cert, path, err));
	LSEC_TRY(open_line(c, a, OFFICER, "revoke a certificate", err));
	LSEC_TRY(lsec_pki_revoke_recorded(c->st, &c->who, cert, reason, err));
	char sn[41];
	lsec_cert_serial_hex(sn, cert);
	printf("revoked certificate %s (%s)\n", sn, lsec_crl_reason_name(reason));
out:
	lsec_cert_free(cert);
	return rc;
}

/* ---- ca crl --------------------------------------------------------------- */

static const cli_opt crl_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"out", "FILE", "write the CRL here (else standard output)"},
	{"der", NULL, "DER instead of PEM"},
	{"list", "FILE", "also write the plain list of revoked serials and key fingerprints"},
	{"list-json", NULL, "write that list as JSON instead of text"},
	{"next-update", "HOURS", "nextUpdate this many hours ahead (default 168)"},
	OPT_SECRET,
	OPT_JSON,
	OPT_END,
};

static const cli_spec crl_spec = {
	"ca crl [--line DIR] [--ca DIR] [--der] [--out FILE] [--list FILE [--list-json]] "
	"[--next-update HOURS]",
	"Sign a CRL of every revoked identity in the registry; its number only grows.",
	crl_opts,
	0,
	0,
	NULL,
};

static int crl_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_buf crl = LSEC_BUF_INIT(64u << 20), list = LSEC_BUF_INIT(64u << 20);
	uint64_t hours = 168, num = 0;
	lsec_crl_options o = LSEC_CRL_OPTIONS_INIT;
	const char *outpath = cli_get(a, "out"), *listpath = cli_get(a, "list");
	LSEC_TRY(cli_get_u64(a, "next-update", 24 * 366, &hours, err));
	o.next_update_hours = (uint32_t)hours;
	o.der = cli_flag(a, "der");
	LSEC_TRY(open_line(c, a, OFFICER, "sign the CRL", err));
	LSEC_TRY(open_ca(c, a, true, err));
	LSEC_TRY(lsec_pki_crl_recorded(&crl, listpath ? &list : NULL, cli_flag(a, "list-json"),
				       &num, c->ca, c->st, &c->who, &o, err));
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
		LSEC_TRY(print_json(json_pack("{s:I,s:s?}", "crl_number", (json_int_t)num, "out",
					      outpath),
				    err));
	} else if (outpath != NULL) {
		printf("CRL number %llu -> %s\n", (unsigned long long)num, outpath);
	}
out:
	lsec_buf_release(&list);
	lsec_buf_release(&crl);
	return rc;
}

/* ---- ca cred, ca label-done ---------------------------------------------- */

static const cli_opt cred_opts[] = {
	OPT_CA,
	OPT_LINE,
	OPT_AS,
	{"serial", "SN", "the unit (required)"},
	{"label-dir", "DIR", "where the per-unit label file is written (required)"},
	{"length", "N", "characters, 16..64 (default 16)"},
	{"alphabet", "NAME", "alnum (56 characters, no look-alikes; default) or base32 (Crockford)"},
	OPT_SECRET,
	OPT_JSON,
	OPT_END,
};

static const cli_spec cred_spec = {
	"ca cred [--line DIR] [--ca DIR] --serial SN --label-dir DIR [--length N] [--alphabet alnum|base32] [--json]",
	"Issue a unit's random initial password: its keyed fingerprint goes to the registry,\n"
	"the password only to the label file (mode 0600).",
	cred_opts,
	0,
	0,
	"The password is never printed. Remove the label file with 'linesec ca label-done'\n"
	"once the label is printed.",
};

static int cred_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_secret *pw = NULL;
	char *label = NULL;
	const char *serial = cli_get(a, "serial"), *dir = cli_get(a, "label-dir");
	LSEC_TRY(need(serial, "--serial SN", err));
	LSEC_TRY(need(dir, "--label-dir DIR", err));
	LSEC_TRY(open_line(c, a, OFFICER, "issue an initial password", err));
	LSEC_TRY(open_ca(c, a, false, err));
	if (lsec_ca_uses_token(c->ca)) {
		lsec_ca_free(c->ca);
		c->ca = NULL;
		LSEC_TRY(open_ca(c, a, true, err));
	}
	uint64_t len = LSEC_CRED_LEN;
	lsec_cred_alphabet alpha = LSEC_CRED_ALNUM;
	LSEC_TRY(cli_get_u64(a, "length", 64, &len, err));
	if (cli_get(a, "alphabet") != NULL) {
		LSEC_TRY(lsec_cred_alphabet_parse(&alpha, cli_get(a, "alphabet"), err));
	}
	LSEC_TRY(lsec_pki_cred_recorded(&pw, c->ca, c->st, &c->who, serial, (size_t)len, alpha,
					err));
	LSEC_TRY(lsec_cred_label_write(&label, dir, serial, pw, err));
	if (cli_flag(a, "json")) {
		LSEC_TRY(print_json(json_pack("{s:s,s:s}", "unit", serial, "label_file", label),
				    err));
	} else {
		printf("initial password for unit %s recorded; label file %s\n", serial, label);
	}
out:
	lsec_free(label);
	lsec_secret_free(pw);
	return rc;
}

static const cli_opt cred_check_opts[] = {
	OPT_LINE, OPT_AS, OPT_CA,
	{"secret-file", "FILE", "read the claimed password from FILE (else LINESEC_CLAIMED_PASSWORD, else a prompt)"},
	OPT_END};

static const cli_spec cred_check_spec = {
	"ca cred-check [--line DIR] [--as NAME] [--ca DIR] [--secret-file FILE] SERIAL",
	"Check a password claimed for a unit against its recorded keyed fingerprint.",
	cred_check_opts,
	1,
	1,
	"Exit 0 when it is the unit's valid initial credential, 10 when it is not (or was\n"
	"revoked), 6 when the unit has none. The check is recorded; the password never is.",
};

static int cred_check_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	lsec_secret *claimed = NULL;
	LSEC_TRY(open_line(c, a,
			   OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR),
			   "check a claimed initial password", err));
	LSEC_TRY(open_ca(c, a, false, err));
	if (lsec_ca_uses_token(c->ca)) { /* the fingerprint key is in the token */
		lsec_ca_free(c->ca);
		c->ca = NULL;
		LSEC_TRY(open_ca(c, a, true, err));
	}
	LSEC_TRY(lsec_pki_secret_read(&claimed, cli_get(a, "secret-file"),
				      "LINESEC_CLAIMED_PASSWORD", "claimed password: ", err));
	LSEC_TRY(lsec_pki_cred_check_recorded(c->ca, c->st, &c->who, a->args[0], claimed, err));
	printf("the password is the valid initial credential of unit %s\n", a->args[0]);
out:
	lsec_secret_free(claimed);
	return rc;
}

static const cli_opt label_done_opts[] = {OPT_LINE, OPT_AS, OPT_END};

static const cli_spec label_done_spec = {
	"ca label-done [--line DIR] [--as NAME] LABEL-FILE",
	"Printing confirmed: overwrite the label file with zeros and remove it.",
	label_done_opts,
	1,
	1,
	NULL,
};

static int label_done_body(const cli_args *a, ca_ctx *c, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(open_line(c, a,
			   OFFICER | LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR) |
				   LSEC_ROLE_BIT(LSEC_ROLE_SUPERVISOR),
			   "confirm a printed label", err));
	LSEC_TRY(lsec_cred_label_remove(a->args[0], err));
	printf("removed %s\n", a->args[0]);
out:
	return rc;
}

/* ---- dispatch ------------------------------------------------------------- */

#define CA_CMD(fn, spec, body)                                                 \
	static int fn(int argc, char **argv)                                   \
	{                                                                      \
		return run(&(spec), (body), argc, argv);                       \
	}
CA_CMD(ca_init, init_spec, init_body)
CA_CMD(ca_import, import_spec, import_body)
CA_CMD(ca_show, show_spec, show_body)
CA_CMD(ca_issue, issue_spec, issue_body)
CA_CMD(ca_enroll, enroll_spec, enroll_body)
CA_CMD(ca_revoke, revoke_spec, revoke_body)
CA_CMD(ca_crl, crl_spec, crl_body)
CA_CMD(ca_cred, cred_spec, cred_body)
CA_CMD(ca_label_done, label_done_spec, label_done_body)
CA_CMD(ca_cred_check, cred_check_spec, cred_check_body)

static const cli_cmd ca_cmds[] = {
	{"init", ca_init, "key ceremony: CA key and self-signed root or CSR"},
	{"import-cert", ca_import, "install the root-signed CA certificate"},
	{"show", ca_show, "describe the CA"},
	{"issue", ca_issue, "issue a device certificate from a CSR"},
	{"enroll", ca_enroll, "enrol a registered unit on its device (key, CSR, cert, proof)"},
	{"revoke", ca_revoke, "revoke a recorded device certificate"},
	{"crl", ca_crl, "sign the CRL (and the plain list for a cloud registry)"},
	{"cred", ca_cred, "issue a unit's initial password (label file only)"},
	{"label-done", ca_label_done, "remove a printed label file"},
	{"cred-check", ca_cred_check, "check a password claimed for a unit (keyed fingerprint)"},
	{NULL, NULL, NULL},
};

int cmd_ca(int argc, char **argv)
{
	return cli_dispatch("ca", ca_cmds, argc, argv);
}
