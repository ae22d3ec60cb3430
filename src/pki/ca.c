/*
 * ca.c - the line CA: key ceremony, opening, import of a root-signed
 * certificate, and device certificate issuance.
 *
 * A CA folder holds:
 *   ca.json      storage of the key ("file" or "pkcs11": module, token, labels)
 *   ca.pub.pem   the CA public key (SubjectPublicKeyInfo)
 *   ca.key.pem   file storage only: the private key, PKCS#8 encrypted, 0600
 *   cred.key     file storage only: the 32-byte line credential key, 0600
 *   ca.csr.pem   while pending: the request for the offline root
 *   ca.cert.pem  the CA certificate (self-signed root or root-signed)
 *   ca.root.pem  the offline root, when one was given at import
 *   crlnumber    the last CRL number issued (decimal)
 *
 * @test tests/unit/pki/test_ca.c, tests/unit/pki/test_p11.c
 */
#include "pki_int.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#define CA_JSON "ca.json"
#define CA_PUB "ca.pub.pem"
#define CA_KEY "ca.key.pem"
#define CA_CERT "ca.cert.pem"
#define CA_CSR "ca.csr.pem"
#define CA_ROOT "ca.root.pem"
#define CA_CRED "cred.key"

char *lsec_pki__ca_path(const lsec_ca *ca, const char *name)
{
	return lsec_asprintf("%s/%s", ca->dir, name);
}

bool lsec_pki__file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Writes a PEM-encoded object (through writer) to a new file of the given mode. */
static int write_pem_new(const char *path, unsigned mode, lsec_pki__pem_writer writer,
			 const void *obj, lsec_err *err)
{
	int rc = 0;
	lsec_buf pem = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "cannot encode '%s'", path);
	LSEC_TRY(lsec_pki__pem_append(&pem, writer, obj, what, err));
	LSEC_TRY(lsec_file_write_new(path, pem.data, pem.len, mode, err));
out:
	lsec_buf_release(&pem);
	return rc;
}

/* Checks a subject text field: 1..64 printable ASCII characters. */
static int check_name(const char *v, const char *field, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(v != NULL && v[0] != '\0', LSEC_E_USAGE, "missing %s", field);
	size_t n = strlen(v);
	LSEC_ENSURE(n <= 64, LSEC_E_USAGE, "%s '%.64s...' too long: at most 64 characters", field,
		    v);
	for (size_t i = 0; i < n; i++) {
		LSEC_ENSURE(v[i] >= 0x20 && v[i] < 0x7f, LSEC_E_USAGE,
			    "%s '%s': only printable ASCII expected", field, v);
	}
out:
	return rc;
}

static int make_name(X509_NAME **out, const char *cn, const char *o, lsec_err *err)
{
	int rc = 0;
	X509_NAME *n = X509_NAME_new();
	LSEC_TRY_OSSL_PTR(n, LSEC_E_NOMEM, "out of memory for a name");
	if (o != NULL) {
		LSEC_TRY_OSSL(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
							 (const unsigned char *)o, -1, -1, 0),
			      LSEC_E_CRYPTO, "cannot set organization '%s'", o);
	}
	LSEC_TRY_OSSL(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
						 -1, -1, 0),
		      LSEC_E_CRYPTO, "cannot set common name '%s'", cn);
	*out = n;
	n = NULL;
out:
	X509_NAME_free(n);
	return rc;
}

int lsec_pki__add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, lsec_err *err)
{
	int rc = 0;
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	LSEC_TRY_OSSL_PTR(ext, LSEC_E_CRYPTO, "cannot build extension %s '%s'", OBJ_nid2sn(nid),
			  value);
	LSEC_TRY_OSSL(X509_add_ext(cert, ext, -1), LSEC_E_CRYPTO, "cannot add extension %s",
		      OBJ_nid2sn(nid));
out:
	X509_EXTENSION_free(ext);
	return rc;
}

/* A positive 16-byte serial: 126 random bits (the top two bits fixed to 01
 * so the DER INTEGER is always exactly 16 bytes and positive). */
static int random_serial(X509 *x, lsec_err *err)
{
	int rc = 0;
	uint8_t b[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	LSEC_TRY(lsec_random(b, sizeof(b), err));
	b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
	LSEC_TRY_OSSL_PTR(bn = BN_bin2bn(b, sizeof(b), NULL), LSEC_E_NOMEM, "cannot make a serial");
	LSEC_TRY_OSSL_PTR(ai = BN_to_ASN1_INTEGER(bn, NULL), LSEC_E_NOMEM, "cannot make a serial");
	LSEC_TRY_OSSL(X509_set_serialNumber(x, ai), LSEC_E_CRYPTO, "cannot set the serial");
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

/*
 * A certificate skeleton: v3, random serial, subject, issuer, validity from
 * now for days, public key. issuer NULL: self-signed (issuer = subject).
 */
static int cert_skeleton(X509 **out, const X509_NAME *subject, const X509 *issuer,
			 EVP_PKEY *pub, uint32_t days, lsec_err *err)
{
	int rc = 0;
	X509 *x = X509_new();
	*out = NULL;
	LSEC_TRY_OSSL_PTR(x, LSEC_E_NOMEM, "out of memory for a certificate");
	LSEC_TRY_OSSL(X509_set_version(x, X509_VERSION_3), LSEC_E_CRYPTO, "cannot set version");
	LSEC_TRY(random_serial(x, err));
	LSEC_TRY_OSSL(X509_set_subject_name(x, subject), LSEC_E_CRYPTO, "cannot set the subject");
	LSEC_TRY_OSSL(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject),
		      LSEC_E_CRYPTO, "cannot set the issuer");
	LSEC_TRY_OSSL_PTR(X509_gmtime_adj(X509_getm_notBefore(x), 0), LSEC_E_CRYPTO,
			  "cannot set notBefore");
	LSEC_TRY_OSSL_PTR(X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL),
			  LSEC_E_CRYPTO, "cannot set notAfter");
	LSEC_TRY_OSSL(X509_set_pubkey(x, pub), LSEC_E_CRYPTO, "cannot set the public key");
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return rc;
}

static const char *ca_basic = "critical,CA:TRUE,pathlen:0";
static const char *ca_usage = "critical,keyCertSign,cRLSign";

static int make_root(X509 **out, const lsec_signer *s, const X509_NAME *name, uint32_t days,
		     lsec_err *err)
{
	int rc = 0;
	X509 *x = NULL;
	X509V3_CTX ctx;
	*out = NULL;
	LSEC_TRY(cert_skeleton(&x, name, NULL, s->pub, days, err));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_basic_constraints, ca_basic, err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_key_usage, ca_usage, err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_subject_key_identifier, "hash", err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err));
	LSEC_TRY(lsec_pki__sign_x509(s, &x, err));
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return rc;
}

static int make_root_csr(X509_REQ **out, const lsec_signer *s, const X509_NAME *name,
			 lsec_err *err)
{
	int rc = 0;
	X509_REQ *r = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *e = NULL;
	X509V3_CTX ctx;
	*out = NULL;
	LSEC_TRY_OSSL_PTR(r, LSEC_E_NOMEM, "out of memory for a request");
	LSEC_TRY_OSSL_PTR(exts, LSEC_E_NOMEM, "out of memory for a request");
	LSEC_TRY_OSSL(X509_REQ_set_version(r, X509_REQ_VERSION_1), LSEC_E_CRYPTO,
		      "cannot set version");
	LSEC_TRY_OSSL(X509_REQ_set_subject_name(r, name), LSEC_E_CRYPTO, "cannot set the subject");
	LSEC_TRY_OSSL(X509_REQ_set_pubkey(r, s->pub), LSEC_E_CRYPTO, "cannot set the public key");
	X509V3_set_ctx(&ctx, NULL, NULL, r, NULL, 0);
	const struct {
		int nid;
		const char *v;
	} want[] = {{NID_basic_constraints, ca_basic}, {NID_key_usage, ca_usage}};
	for (size_t i = 0; i < 2; i++) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, want[i].nid, want[i].v);
		LSEC_TRY_OSSL_PTR(e, LSEC_E_CRYPTO, "cannot build extension '%s'", want[i].v);
		LSEC_TRY_OSSL(sk_X509_EXTENSION_push(exts, e), LSEC_E_NOMEM,
			      "out of memory for a request");
		e = NULL;
	}
	LSEC_TRY_OSSL(X509_REQ_add_extensions(r, exts), LSEC_E_CRYPTO,
		      "cannot add the requested extensions");
	LSEC_TRY(lsec_pki__sign_req(s, &r, err));
	*out = r;
	r = NULL;
out:
	X509_EXTENSION_free(e);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(r);
	return rc;
}

/* Takes the signing key (and, when no public key is known yet, the public key) from key. */
static int adopt_key(lsec_ca *ca, const lsec_key *key, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *pk = lsec_key_evp(key);
	LSEC_TRY_OSSL(EVP_PKEY_up_ref(pk), LSEC_E_INTERNAL, "cannot share the CA key");
	ca->signer.pkey = pk;
	if (ca->signer.pub == NULL) {
		LSEC_TRY_OSSL(EVP_PKEY_up_ref(pk), LSEC_E_INTERNAL, "cannot share the CA key");
		ca->signer.pub = pk;
	}
out:
	return rc;
}

/* The key and credential key of a new CA: generated in memory or in the token. */
static int ceremony_keys(lsec_ca *ca, const lsec_ca_options *o, lsec_err *err)
{
	int rc = 0;
	char *path = NULL;
	lsec_secret *cred = NULL;
	lsec_key *key = NULL;
	if (ca->pkcs11) {
		LSEC_TRY(lsec_pki__p11_open(&ca->signer.p11, ca->module, ca->token, o->pin, err));
		LSEC_TRY(lsec_pki__p11_ec_generate(ca->signer.p11, ca->key_label, &ca->signer.key,
						   &ca->signer.pub, err));
		ca->made_key = true;
		LSEC_TRY(lsec_pki__p11_hmac_generate(ca->signer.p11, ca->cred_label, err));
		ca->made_cred = true;
		goto out;
	}
	/* PKCS#8 encrypted under the passphrase (scrypt, AES-256-CBC), 0600. */
	LSEC_TRY(lsec_key_generate(&key, LSEC_KEY_ECDSA_P256, err));
	LSEC_TRY_OSSL_PTR(path = lsec_pki__ca_path(ca, CA_KEY), LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_key_write_private(key, path, o->passphrase, err));
	lsec_free(path);
	path = NULL;
	LSEC_TRY(adopt_key(ca, key, err));
	LSEC_TRY(lsec_secret_new(&cred, 32, err));
	LSEC_TRY(lsec_random(lsec_secret_data(cred), 32, err));
	LSEC_TRY_OSSL_PTR(path = lsec_pki__ca_path(ca, CA_CRED), LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_write_new(path, lsec_secret_cdata(cred), 32, 0600, err));
out:
	lsec_key_free(key);
	lsec_secret_free(cred);
	lsec_free(path);
	return rc;
}

static int write_config(const lsec_ca *ca, lsec_err *err)
{
	int rc = 0;
	char *text = NULL, *path = NULL;
	json_t *j = NULL;
	if (ca->pkcs11) {
		j = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s}", "format", 1, "storage", "pkcs11",
			      "pkcs11_module", ca->module, "token_label", ca->token, "key_label",
			      ca->key_label, "cred_label", ca->cred_label);
	} else {
		j = json_pack("{s:i,s:s}", "format", 1, "storage", "file");
	}
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory for the CA configuration");
	LSEC_TRY(lsec_json_canonical(&text, j, err));
	LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_JSON)) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_write_new(path, text, strlen(text), 0644, err));
out:
	lsec_free(path);
	lsec_free(text);
	json_decref(j);
	return rc;
}

void lsec_pki__ca_undo(const lsec_ca *ca)
{
	lsec_err ignore = LSEC_ERR_INIT;
	if (ca->signer.p11 != NULL && ca->made_key) {
		(void)lsec_pki__p11_destroy(ca->signer.p11, ca->key_label, &ignore);
	}
	if (ca->signer.p11 != NULL && ca->made_cred) {
		(void)lsec_pki__p11_destroy(ca->signer.p11, ca->cred_label, &ignore);
	}
	static const char *const files[] = {CA_JSON, CA_PUB, CA_KEY, CA_CRED, CA_CERT, CA_CSR};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = lsec_pki__ca_path(ca, files[i]);
		if (p != NULL) {
			(void)unlink(p);
		}
		lsec_free(p);
	}
}

static int ca_alloc(lsec_ca **out, const char *dir, lsec_err *err)
{
	int rc = 0;
	*out = lsec_calloc(1, sizeof(**out));
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory for the CA");
	(*out)->dir = lsec_strdup(dir);
	LSEC_ENSURE((*out)->dir != NULL, LSEC_E_NOMEM, "out of memory for the CA");
out:
	return rc;
}

int lsec_ca_init(const char *dir, const lsec_ca_options *o, lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	char *path = NULL;
	X509_NAME *name = NULL;
	X509 *root = NULL;
	X509_REQ *req = NULL;
	bool started = false;
	LSEC_ENSURE(dir != NULL && o != NULL && o->version == LSEC_CA_OPTIONS_VERSION,
		    LSEC_E_USAGE, "cannot create a CA: missing folder or options");
	LSEC_TRY(check_name(o->common_name, "CA common name", err));
	if (o->organization != NULL) {
		LSEC_TRY(check_name(o->organization, "CA organization", err));
	}
	LSEC_ENSURE(o->csr_out != NULL || (o->validity_days > 0 && o->validity_days <= 36500),
		    LSEC_E_USAGE, "cannot create a CA: validity of %u days, 1..36500 expected",
		    (unsigned)o->validity_days);
	LSEC_TRY(ca_alloc(&ca, dir, err));
	ca->pkcs11 = o->pkcs11_module != NULL;
	if (ca->pkcs11) {
		LSEC_ENSURE(o->token_label != NULL && o->key_label != NULL && o->pin != NULL,
			    LSEC_E_USAGE,
			    "cannot create a CA in a token: module, token label, key label and PIN "
			    "are all needed");
		LSEC_TRY(check_name(o->key_label, "key label", err));
		ca->module = lsec_strdup(o->pkcs11_module);
		ca->token = lsec_strdup(o->token_label);
		ca->key_label = lsec_strdup(o->key_label);
		ca->cred_label = lsec_asprintf("%s-cred", o->key_label);
		LSEC_ENSURE(ca->module && ca->token && ca->key_label && ca->cred_label,
			    LSEC_E_NOMEM, "out of memory for the CA");
	} else {
		LSEC_ENSURE(o->passphrase != NULL && lsec_secret_len(o->passphrase) >= 8,
			    LSEC_E_USAGE,
			    "cannot create a CA key file: a passphrase of at least 8 characters is "
			    "needed");
	}
	LSEC_TRY(lsec_mkdir_p(dir, 0700, err));
	LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_JSON)) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(!lsec_pki__file_exists(path), LSEC_E_EXISTS, "cannot create a CA in '%s': it holds one",
		    dir);
	started = true;
	LSEC_TRY(write_config(ca, err));
	LSEC_TRY(ceremony_keys(ca, o, err));
	lsec_free(path);
	LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_PUB)) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(write_pem_new(path, 0644, lsec_pki__pem_pubkey, ca->signer.pub, err));
	LSEC_TRY(make_name(&name, o->common_name, o->organization, err));
	lsec_free(path);
	path = NULL;
	if (o->csr_out != NULL) {
		LSEC_TRY(make_root_csr(&req, &ca->signer, name, err));
		LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_CSR)) != NULL, LSEC_E_NOMEM,
			    "out of memory");
		LSEC_TRY(write_pem_new(path, 0644, lsec_pki__pem_req, req, err));
		LSEC_TRY(write_pem_new(o->csr_out, 0644, lsec_pki__pem_req, req, err));
	} else {
		LSEC_TRY(make_root(&root, &ca->signer, name, o->validity_days, err));
		LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_CERT)) != NULL, LSEC_E_NOMEM,
			    "out of memory");
		LSEC_TRY(write_pem_new(path, 0644, lsec_pki__pem_cert, root, err));
	}
out:
	if (rc < 0 && started && ca != NULL) {
		lsec_pki__ca_undo(ca);
	}
	X509_REQ_free(req);
	X509_free(root);
	X509_NAME_free(name);
	lsec_free(path);
	lsec_ca_free(ca);
	return rc;
}

static int config_str(char **out, const json_t *j, const char *key, const char *path,
		      lsec_err *err)
{
	int rc = 0;
	const char *v = json_string_value(json_object_get(j, key));
	LSEC_ENSURE(v != NULL, LSEC_E_PKI_CA_CONFIG, "cannot read '%s': field '%s' missing", path,
		    key);
	LSEC_ENSURE((*out = lsec_strdup(v)) != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

static int read_config(lsec_ca *ca, lsec_err *err)
{
	int rc = 0;
	char *path = lsec_pki__ca_path(ca, CA_JSON);
	lsec_buf b = LSEC_BUF_INIT(16 * 1024);
	json_t *j = NULL;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(lsec_pki__file_exists(path), LSEC_E_NOTFOUND, "cannot open the CA: no '%s'", path);
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_json_parse(&j, (const char *)b.data, b.len, path, err));
	const char *storage = json_string_value(json_object_get(j, "storage"));
	LSEC_ENSURE(json_integer_value(json_object_get(j, "format")) == 1 && storage != NULL,
		    LSEC_E_PKI_CA_CONFIG, "cannot read '%s': format 1 and a storage expected", path);
	if (strcmp(storage, "pkcs11") == 0) { /* lint:ok - configuration word */
		ca->pkcs11 = true;
		LSEC_TRY(config_str(&ca->module, j, "pkcs11_module", path, err));
		LSEC_TRY(config_str(&ca->token, j, "token_label", path, err));
		LSEC_TRY(config_str(&ca->key_label, j, "key_label", path, err));
		LSEC_TRY(config_str(&ca->cred_label, j, "cred_label", path, err));
	} else {
		LSEC_ENSURE(strcmp(storage, "file") == 0, /* lint:ok - configuration word */
			    LSEC_E_PKI_CA_CONFIG,
			    "cannot read '%s': storage '%s', expected 'file' or 'pkcs11'", path,
			    storage);
	}
out:
	json_decref(j);
	lsec_buf_release(&b);
	lsec_free(path);
	return rc;
}

/* Reads a PEM object from a file in the CA folder; *found false when absent. */
static int read_pem(lsec_ca *ca, const char *name, bool optional, lsec_buf *b, bool *found,
		    lsec_err *err)
{
	int rc = 0;
	char *path = lsec_pki__ca_path(ca, name);
	*found = false;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	if (optional && !lsec_pki__file_exists(path)) {
		goto out;
	}
	LSEC_TRY(lsec_file_read(b, path, err));
	*found = true;
out:
	lsec_free(path);
	return rc;
}

static int unlock_file_key(lsec_ca *ca, const lsec_secret *pass, lsec_err *err)
{
	int rc = 0;
	lsec_key *key = NULL;
	char *path = lsec_pki__ca_path(ca, CA_KEY);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_key_load_private(&key, path, pass, err));
	LSEC_TRY(adopt_key(ca, key, err));
	LSEC_ENSURE(EVP_PKEY_eq(ca->signer.pkey, ca->signer.pub) == 1, LSEC_E_PKI_MISMATCH,
		    "cannot open the CA in '%s': %s does not match %s", ca->dir, CA_KEY, CA_PUB);
out:
	lsec_key_free(key);
	lsec_free(path);
	return rc;
}

static int unlock_token_key(lsec_ca *ca, const lsec_secret *pin, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *tokpub = NULL;
	LSEC_TRY(lsec_pki__p11_open(&ca->signer.p11, ca->module, ca->token, pin, err));
	LSEC_TRY(lsec_pki__p11_ec_find(ca->signer.p11, ca->key_label, &ca->signer.key, &tokpub,
				       err));
	LSEC_ENSURE(EVP_PKEY_eq(tokpub, ca->signer.pub) == 1, LSEC_E_PKI_MISMATCH,
		    "cannot open the CA in '%s': token key '%s' does not match %s", ca->dir,
		    ca->key_label, CA_PUB);
out:
	EVP_PKEY_free(tokpub);
	return rc;
}

int lsec_ca_open(lsec_ca **out, const char *dir, const lsec_secret *unlock, lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	lsec_buf b = LSEC_BUF_INIT(LSEC_PKI_MAX_INPUT);
	BIO *bio = NULL;
	bool found = false;
	*out = NULL;
	LSEC_ENSURE_REF(dir);
	LSEC_TRY(ca_alloc(&ca, dir, err));
	LSEC_TRY(read_config(ca, err));
	LSEC_TRY(read_pem(ca, CA_PUB, false, &b, &found, err));
	LSEC_TRY_OSSL_PTR(bio = BIO_new_mem_buf(b.data, (int)b.len), LSEC_E_NOMEM,
			  "out of memory");
	ca->signer.pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	LSEC_TRY_OSSL_PTR(ca->signer.pub, LSEC_E_PKI_CA_CONFIG,
			  "cannot read '%s/%s': not a PEM public key", dir, CA_PUB);
	LSEC_TRY(lsec_pki__check_p256(ca->signer.pub, "cannot open the CA", err));
	lsec_buf_reset(&b);
	LSEC_TRY(read_pem(ca, CA_CERT, true, &b, &found, err));
	if (found) {
		LSEC_TRY(lsec_cert_parse(&ca->cert, b.data, b.len, err));
		LSEC_ENSURE(EVP_PKEY_eq(X509_get0_pubkey(lsec_cert_x509(ca->cert)),
					ca->signer.pub) == 1,
			    LSEC_E_PKI_MISMATCH, "cannot open the CA in '%s': %s is not for %s", dir,
			    CA_CERT, CA_PUB);
	}
	if (unlock != NULL) {
		LSEC_TRY(lsec_ca_unlock(ca, unlock, err));
	}
	*out = ca;
	ca = NULL;
out:
	BIO_free(bio);
	lsec_buf_release(&b);
	lsec_ca_free(ca);
	return rc;
}

int lsec_ca_unlock(lsec_ca *ca, const lsec_secret *unlock, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(unlock != NULL, LSEC_E_USAGE, "cannot unlock the CA in '%s': no %s", ca->dir,
		    ca->pkcs11 ? "PIN" : "passphrase");
	LSEC_ENSURE(!lsec_pki__signer_ready(&ca->signer), LSEC_E_STATE,
		    "the CA in '%s' is already unlocked", ca->dir);
	LSEC_TRY(ca->pkcs11 ? unlock_token_key(ca, unlock, err) : unlock_file_key(ca, unlock, err));
out:
	if (rc < 0) {
		/* A failed unlock leaves the CA read-only, not half-open. */
		EVP_PKEY_free(ca->signer.pkey);
		ca->signer.pkey = NULL;
		lsec_pki__p11_close(ca->signer.p11);
		ca->signer.p11 = NULL;
	}
	return rc;
}

bool lsec_ca_uses_token(const lsec_ca *ca)
{
	return ca->pkcs11;
}

void lsec_ca_free(lsec_ca *ca)
{
	if (ca == NULL) {
		return;
	}
	lsec_pki__signer_release(&ca->signer);
	lsec_cert_free(ca->cert);
	lsec_secret_free(ca->cred_key);
	lsec_free(ca->dir);
	lsec_free(ca->module);
	lsec_free(ca->token);
	lsec_free(ca->key_label);
	lsec_free(ca->cred_label);
	lsec_free(ca);
}

const lsec_cert *lsec_ca_cert(const lsec_ca *ca)
{
	return ca->cert;
}

int lsec_ca_import_cert(lsec_ca *ca, const char *cert_path, const char *root_path,
			lsec_err *err)
{
	int rc = 0;
	lsec_cert *cert = NULL, *root = NULL;
	char *path = NULL;
	LSEC_ENSURE(ca->cert == NULL, LSEC_E_STATE,
		    "cannot import '%s': the CA in '%s' already has its certificate", cert_path,
		    ca->dir);
	LSEC_TRY(lsec_cert_load(&cert, cert_path, err));
	X509 *x = lsec_cert_x509(cert);
	LSEC_ENSURE(EVP_PKEY_eq(X509_get0_pubkey(x), ca->signer.pub) == 1, LSEC_E_PKI_MISMATCH,
		    "cannot import '%s': its public key is not the CA key", cert_path);
	LSEC_ENSURE(X509_check_ca(x) >= 1, LSEC_E_PKI_MISMATCH,
		    "cannot import '%s': not a CA certificate (basicConstraints CA:TRUE expected)",
		    cert_path);
	if (root_path != NULL) {
		LSEC_TRY(lsec_cert_load(&root, root_path, err));
		if (X509_verify(x, X509_get0_pubkey(lsec_cert_x509(root))) != 1) {
			ERR_clear_error();
			LSEC_BAIL(LSEC_E_PKI_MISMATCH,
				  "cannot import '%s': it does not verify under root '%s'",
				  cert_path, root_path);
		}
		LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_ROOT)) != NULL, LSEC_E_NOMEM,
			    "out of memory");
		LSEC_TRY(write_pem_new(path, 0644, lsec_pki__pem_cert, lsec_cert_x509(root), err));
		lsec_free(path);
	}
	LSEC_ENSURE((path = lsec_pki__ca_path(ca, CA_CERT)) != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(write_pem_new(path, 0644, lsec_pki__pem_cert, x, err));
	ca->cert = cert;
	cert = NULL;
out:
	lsec_free(path);
	lsec_cert_free(root);
	lsec_cert_free(cert);
	return rc;
}

void lsec_ca_description_free(lsec_ca_description *d)
{
	if (d == NULL) {
		return;
	}
	lsec_free(d->folder);
	lsec_free(d->pkcs11_module);
	lsec_free(d->token_label);
	lsec_free(d->key_label);
	lsec_free(d->subject);
	lsec_free(d->issuer);
	lsec_free(d);
}

/* An X509_NAME as one line of text in *out (lsec_free). */
static int name_text(char **out, const X509_NAME *name, const char *what, lsec_err *err)
{
	int rc = 0;
	char *s = X509_NAME_oneline(name, NULL, 0);
	LSEC_TRY_OSSL_PTR(s, LSEC_E_NOMEM, "cannot format the CA %s", what);
	LSEC_ENSURE((*out = lsec_strdup(s)) != NULL, LSEC_E_NOMEM, "out of memory");
out:
	OPENSSL_free(s);
	return rc;
}

int lsec_ca_describe(lsec_ca_description **out, const lsec_ca *ca, lsec_err *err)
{
	int rc = 0;
	lsec_ca_description *d = NULL;
	uint8_t fp[32];
	*out = NULL;
	d = lsec_calloc(1, sizeof(*d));
	LSEC_ENSURE(d != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_pki__key_fingerprint(fp, ca->signer.pub, err));
	lsec_hex_encode(d->key_sha256, fp, sizeof(fp));
	LSEC_TRY(lsec_pki__crl_last(&d->last_crl_number, ca, err));
	d->state = ca->cert ? "active" : "pending";
	d->storage = ca->pkcs11 ? "pkcs11" : "file";
	d->key_type = "ecdsa-p256";
	bool bad = (d->folder = lsec_strdup(ca->dir)) == NULL;
	if (ca->pkcs11) {
		bad |= (d->pkcs11_module = lsec_strdup(ca->module)) == NULL;
		bad |= (d->token_label = lsec_strdup(ca->token)) == NULL;
		bad |= (d->key_label = lsec_strdup(ca->key_label)) == NULL;
	}
	LSEC_ENSURE(!bad, LSEC_E_NOMEM, "cannot describe the CA in '%s': out of memory", ca->dir);
	if (ca->cert != NULL) {
		X509 *x = lsec_cert_x509(ca->cert);
		lsec_cert_serial_hex(d->serial, ca->cert);
		lsec_cert_validity(d->not_before, d->not_after, ca->cert);
		LSEC_ENSURE(d->not_before[0] != '\0' && d->not_after[0] != '\0', LSEC_E_NOMEM,
			    "cannot describe the CA in '%s'", ca->dir);
		LSEC_TRY(name_text(&d->subject, X509_get_subject_name(x), "subject", err));
		LSEC_TRY(name_text(&d->issuer, X509_get_issuer_name(x), "issuer", err));
	}
	*out = d;
	d = NULL;
out:
	lsec_ca_description_free(d);
	return rc;
}

int lsec_ca_description_json(json_t **out, const lsec_ca_description *d, lsec_err *err)
{
	int rc = 0;
	json_t *j = json_object();
	*out = NULL;
	LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "out of memory");
	int bad = json_object_set_new(j, "folder", json_string(d->folder));
	bad |= json_object_set_new(j, "state", json_string(d->state));
	bad |= json_object_set_new(j, "storage", json_string(d->storage));
	bad |= json_object_set_new(j, "key_sha256", json_string(d->key_sha256));
	bad |= json_object_set_new(j, "key_type", json_string(d->key_type));
	bad |= json_object_set_new(j, "last_crl_number",
				   json_integer((json_int_t)d->last_crl_number));
	if (d->pkcs11_module != NULL) {
		bad |= json_object_set_new(j, "pkcs11_module", json_string(d->pkcs11_module));
		bad |= json_object_set_new(j, "token_label", json_string(d->token_label));
		bad |= json_object_set_new(j, "key_label", json_string(d->key_label));
	}
	if (d->subject != NULL) {
		bad |= json_object_set_new(j, "subject", json_string(d->subject));
		bad |= json_object_set_new(j, "issuer", json_string(d->issuer));
		bad |= json_object_set_new(j, "serial", json_string(d->serial));
		bad |= json_object_set_new(j, "not_before", json_string(d->not_before));
		bad |= json_object_set_new(j, "not_after", json_string(d->not_after));
	}
	LSEC_ENSURE(bad == 0, LSEC_E_NOMEM, "cannot describe the CA in '%s'", d->folder);
	*out = j;
	j = NULL;
out:
	json_decref(j);
	return rc;
}

/* The issuer check shared by issuance and CRLs. */
int lsec_pki__ca_ready(const lsec_ca *ca, const char *what, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(ca->cert != NULL, LSEC_E_PKI_CA_PENDING,
		    "cannot %s: the CA in '%s' waits for its root-signed certificate "
		    "(ca import-cert)",
		    what, ca->dir);
	LSEC_ENSURE(lsec_pki__signer_ready(&ca->signer), LSEC_E_PKI_LOCKED,
		    "cannot %s: the CA in '%s' was opened without its passphrase or PIN", what,
		    ca->dir);
out:
	return rc;
}

int lsec_ca_issue(lsec_cert **out, lsec_ca *ca, EVP_PKEY *pubkey, const lsec_cert_request *req,
		  lsec_err *err)
{
	int rc = 0;
	X509 *x = NULL;
	X509_NAME *name = NULL;
	char *uidhex = NULL, *san = NULL;
	X509V3_CTX ctx;
	*out = NULL;
	LSEC_ENSURE(req != NULL && req->version == LSEC_CERT_REQUEST_VERSION, LSEC_E_USAGE,
		    "cannot issue a certificate: missing or unknown request");
	LSEC_TRY(lsec_ident_check(req->serial, "unit serial (certificate CN)", err));
	LSEC_TRY(lsec_ident_check(req->product, "product", err));
	LSEC_ENSURE(req->uid != NULL && req->uid_len > 0 && req->uid_len <= 64, LSEC_E_USAGE,
		    "cannot issue a certificate for unit '%s': UID of %zu bytes, 1..64 expected",
		    req->serial, req->uid_len);
	LSEC_ENSURE(req->validity_days > 0 && req->validity_days <= 36500, LSEC_E_USAGE,
		    "cannot issue a certificate for unit '%s': validity of %u days, 1..36500 "
		    "expected",
		    req->serial, (unsigned)req->validity_days);
	LSEC_TRY(lsec_pki__check_p256(pubkey, "cannot issue a certificate", err));
	LSEC_TRY(lsec_pki__ca_ready(ca, "issue a certificate", err));
	X509 *cax = lsec_cert_x509(ca->cert);
	LSEC_TRY(make_name(&name, req->serial, req->product, err));
	LSEC_TRY(cert_skeleton(&x, name, cax, pubkey, req->validity_days, err));
	LSEC_ENSURE(ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(cax)) <= 0,
		    LSEC_E_POLICY,
		    "cannot issue a certificate for unit '%s': %u days would outlive the CA "
		    "certificate",
		    req->serial, (unsigned)req->validity_days);
	LSEC_ENSURE((uidhex = lsec_hex_alloc(req->uid, req->uid_len)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	LSEC_ENSURE((san = lsec_asprintf("URI:urn:linesec:uid:%s", uidhex)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	X509V3_set_ctx(&ctx, cax, x, NULL, NULL, 0);
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature", err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_ext_key_usage, "clientAuth", err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_subject_key_identifier, "hash", err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err));
	LSEC_TRY(lsec_pki__add_ext(x, &ctx, NID_subject_alt_name, san, err));
	LSEC_TRY(lsec_pki__sign_x509(&ca->signer, &x, err));
	LSEC_TRY(lsec_pki__cert_wrap(out, x, err));
	x = NULL;
out:
	lsec_free(san);
	lsec_free(uidhex);
	X509_NAME_free(name);
	X509_free(x);
	return rc;
}

int lsec_pki_station_keygen(lsec_secret **pkcs8_out, EVP_PKEY **pub_out, lsec_err *err)
{
	int rc = 0;
	EVP_PKEY *k = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	lsec_secret *der = NULL;
	*pkcs8_out = NULL;
	*pub_out = NULL;
	k = EVP_EC_gen("P-256");
	LSEC_TRY_OSSL_PTR(k, LSEC_E_CRYPTO, "cannot generate a device key");
	LSEC_TRY_OSSL_PTR(p8 = EVP_PKEY2PKCS8(k), LSEC_E_CRYPTO,
			  "cannot export the generated device key");
	int n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
	LSEC_TRY_OSSL(n, LSEC_E_CRYPTO, "cannot export the generated device key");
	LSEC_TRY(lsec_secret_new(&der, (size_t)n, err));
	/* Encoded straight into the locked secret: no other copy of the DER. */
	uint8_t *p = lsec_secret_data(der);
	LSEC_TRY_OSSL(i2d_PKCS8_PRIV_KEY_INFO(p8, &p), LSEC_E_CRYPTO,
		      "cannot export the generated device key");
	LSEC_TRY(lsec_pki__key_public_only(pub_out, k, "the generated device key", err));
	*pkcs8_out = der;
	der = NULL;
out:
	lsec_secret_free(der);
	PKCS8_PRIV_KEY_INFO_free(p8); /* clears the key octets */
	EVP_PKEY_free(k);             /* clears the private scalar */
	return rc;
}
