/* `linesec keygen` and `linesec pubkey`: signing key pairs. */
#include "cli.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt keygen_opts[] = {
	{"type", "TYPE", "key type: ecdsa-p256 (default) or ed25519"},
	{"out", "KEY.pem", "private key file to create (PKCS#8 PEM, mode 0600; never replaced)"},
	{"passphrase-file", "FILE", "encrypt the key with the passphrase in FILE"},
	{"json", NULL, "print the public key and fingerprint as JSON"},
	{NULL, NULL, NULL},
};

static const cli_spec keygen_spec = {
	"keygen --out KEY.pem [--type ecdsa-p256|ed25519] [--passphrase-file FILE] [--json]",
	"Create a signing key pair; print the public key (PEM) and its fingerprint.",
	keygen_opts,
	0,
	0,
	"The fingerprint is the SHA-256 of the DER SubjectPublicKeyInfo: the value MCUboot's\n"
	"KEYHASH TLV carries and a device fuses. Without --passphrase-file the passphrase is\n"
	"taken from LINESEC_KEY_PASSPHRASE if set; otherwise the key is stored unencrypted.",
};

static const cli_opt pubkey_opts[] = {
	{"out", "PUB.pem", "write the public key to this new file instead of printing it"},
	{"passphrase-file", "FILE", "passphrase of an encrypted private key"},
	{"json", NULL, "print the public key and fingerprint as JSON"},
	{NULL, NULL, NULL},
};

static const cli_spec pubkey_spec = {
	"pubkey KEY.pem [--out PUB.pem] [--json]",
	"Export the public key (PEM SubjectPublicKeyInfo) of a key file, with its fingerprint.",
	pubkey_opts,
	1,
	1,
	NULL,
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

int cmd_keygen(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = NULL;
	lsec_secret *pass = NULL;
	lsec_key_type type = LSEC_KEY_ECDSA_P256;
	int rc = cli_parse(&a, &keygen_spec, argc, argv);
	if (rc != 0) {
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	const char *outpath = cli_get(&a, "out");
	if (outpath == NULL) {
		lsec_err_set(&err, LSEC_E_USAGE, __FILE__, __LINE__, "keygen needs --out KEY.pem");
		return cli_fail(&err);
	}
	const char *t = cli_get(&a, "type");
	if ((t != NULL && lsec_key_type_parse(&type, t, &err) < 0) ||
	    lsec_key_passphrase_load(&pass, cli_get(&a, "passphrase-file"), &err) < 0 ||
	    lsec_key_generate(&key, type, &err) < 0 ||
	    lsec_key_write_private(key, outpath, pass, &err) < 0 ||
	    print_public(key, cli_flag(&a, "json"), &err) < 0) {
		rc = cli_fail(&err);
	}
	lsec_secret_free(pass);
	lsec_key_free(key);
	return rc;
}

int cmd_pubkey(int argc, char **argv)
{
	cli_args a;
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *key = NULL;
	lsec_secret *pass = NULL;
	lsec_buf pem = LSEC_BUF_INIT(16384);
	int rc = cli_parse(&a, &pubkey_spec, argc, argv);
	if (rc != 0) {
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	const char *outpath = cli_get(&a, "out");
	const char *pf = cli_get(&a, "passphrase-file");
	/* A public key or clear private key needs no passphrase; an encrypted one does. */
	int r = lsec_key_load_public(&key, a.args[0], &err);
	if (r == LSEC_E_PARSE && (pf != NULL || getenv("LINESEC_KEY_PASSPHRASE") != NULL)) {
		r = lsec_key_passphrase_load(&pass, pf, &err);
		if (r == 0) {
			r = lsec_key_load_private(&key, a.args[0], pass, &err);
		}
	}
	if (r == 0 && outpath != NULL) {
		r = lsec_key_public_pem(&pem, key, &err);
		if (r == 0) {
			r = lsec_file_write_new(outpath, pem.data, pem.len, 0644, &err);
		}
	}
	if (r == 0 && (outpath == NULL || cli_flag(&a, "json"))) {
		r = print_public(key, cli_flag(&a, "json"), &err);
	}
	if (r < 0) {
		rc = cli_fail(&err);
	}
	lsec_buf_release(&pem);
	lsec_secret_free(pass);
	lsec_key_free(key);
	return rc;
}
