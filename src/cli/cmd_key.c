/* `linesec keygen` and `linesec pubkey`: signing key pairs. */
#include "cli.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt keygen_opts[] = {
	CLI_OPT("type", "TYPE", "key type: ecdsa-p256 (default) or ed25519"),
	CLI_REQUIRED("out", "KEY.pem", "private key file to create (PKCS#8 PEM, mode 0600; never replaced)"),
	CLI_OPT("passphrase-file", "FILE", "encrypt the key with the passphrase in FILE"),
	CLI_FLAG("json", "print the public key and fingerprint as JSON"),
	CLI_OPT_END,
};


static const cli_opt pubkey_opts[] = {
	CLI_OPT("out", "PUB.pem", "write the public key to this new file instead of printing it"),
	CLI_OPT("passphrase-file", "FILE", "passphrase of an encrypted private key"),
	CLI_FLAG("json", "print the public key and fingerprint as JSON"),
	CLI_OPT_END,
};


/* Prints the public key PEM and fingerprint, as text or JSON. */
static int print_public(const lsec_key *key, bool json, lsec_err *err)
{
	int rc = 0;
	lsec_buf pem = LSEC_BUF_INIT(16384);
	uint8_t fp[32];
	char hex[65];
	json_t *j = NULL;

	LSEC_TRY(lsec_key_public_pem(&pem, key, err));
	LSEC_TRY(lsec_key_fingerprint(fp, key, err));
	lsec_hex_encode(hex, fp, sizeof(fp));
	const char *pemstr = lsec_buf_cstr(&pem, err);
	LSEC_ENSURE(pemstr != NULL, LSEC_E_NOMEM, "cannot print public key: out of memory");
	if (json) {
		j = json_pack("{s:s, s:s, s:s}", "type", lsec_key_type_name(lsec_key_get_type(key)),
			      "public_key_pem", pemstr, "fingerprint_sha256", hex);
		LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "cannot print public key: out of memory");
		LSEC_TRY(lsec_json_print(stdout, j, err));
	} else {
		printf("%sfingerprint (SHA-256 of SubjectPublicKeyInfo): %s\ntype: %s\n", pemstr, hex,
		       lsec_key_type_name(lsec_key_get_type(key)));
	}
out:
	json_decref(j);
	lsec_buf_release(&pem);
	return rc;
}

static int keygen_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_key *key = NULL;
	lsec_secret *pass = NULL;
	lsec_key_type type = LSEC_KEY_ECDSA_P256;
	const char *t = cli_get(&c->a, "type");
	if (t != NULL) {
		LSEC_TRY(lsec_key_type_parse(&type, t, err));
	}
	LSEC_TRY(lsec_key_passphrase_load(&pass, cli_get(&c->a, "passphrase-file"), err));
	LSEC_TRY(lsec_key_generate(&key, type, err));
	LSEC_TRY(lsec_key_write_private(key, cli_get(&c->a, "out"), pass, err));
	LSEC_TRY(print_public(key, cli_flag(&c->a, "json"), err));
out:
	lsec_secret_free(pass);
	lsec_key_free(key);
	return rc;
}

const cli_spec cli_keygen_spec = {
	.usage = "keygen --out KEY.pem [--type ecdsa-p256|ed25519] [--passphrase-file FILE] [--json]",
	.summary = "Create a signing key pair; print the public key (PEM) and its fingerprint.",
	.opts = keygen_opts,
	.details = "The fingerprint is the SHA-256 of the DER SubjectPublicKeyInfo: the value "
		   "MCUboot's\nKEYHASH TLV carries and a device fuses. Without --passphrase-file the "
		   "passphrase is\ntaken from LINESEC_KEY_PASSPHRASE if set; otherwise the key is "
		   "stored unencrypted.",
	.body = keygen_body,
};

static int pubkey_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	lsec_key *key = NULL;
	lsec_secret *pass = NULL;
	lsec_buf pem = LSEC_BUF_INIT(16384);
	const char *outpath = cli_get(&c->a, "out");
	const char *pf = cli_get(&c->a, "passphrase-file");
	/* A public key or clear private key needs no passphrase; an encrypted one does. */
	rc = lsec_key_load_public(&key, c->a.args[0], err);
	if (rc == LSEC_E_PARSE && (pf != NULL || getenv("LINESEC_KEY_PASSPHRASE") != NULL)) {
		LSEC_TRY(lsec_key_passphrase_load(&pass, pf, err));
		rc = lsec_key_load_private(&key, c->a.args[0], pass, err);
	}
	LSEC_TRY(rc);
	if (outpath != NULL) {
		LSEC_TRY(lsec_key_public_pem(&pem, key, err));
		LSEC_TRY(lsec_file_write_new(outpath, pem.data, pem.len, 0644, err));
	}
	if (outpath == NULL || cli_flag(&c->a, "json")) {
		LSEC_TRY(print_public(key, cli_flag(&c->a, "json"), err));
	}
out:
	lsec_buf_release(&pem);
	lsec_secret_free(pass);
	lsec_key_free(key);
	return rc;
}

const cli_spec cli_pubkey_spec = {
	.usage = "pubkey KEY.pem [--out PUB.pem] [--json]",
	.summary = "Export the public key (PEM SubjectPublicKeyInfo) of a key file, with its "
		   "fingerprint.",
	.opts = pubkey_opts,
	.min_args = 1,
	.max_args = 1,
	.body = pubkey_body,
};
