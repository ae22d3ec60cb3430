/* `linesec image sign|inspect|verify`: MCUboot-compatible firmware images. */
#include "cli.h"
#include "linesec/image.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <string.h>

/* Largest payload or image file read (flash parts are far smaller). */
#define IMAGE_FILE_MAX (256u * 1024u * 1024u)

static const cli_opt sign_opts[] = {
	CLI_REQUIRED("key", "KEY.pem", "private signing key (ECDSA P-256 or Ed25519)"),
	CLI_REQUIRED("product", "ID", "product id carried in the protected TLVs"),
	CLI_REQUIRED("version", "X.Y.Z+B", "image version (minor, revision and build optional)"),
	CLI_REQUIRED("build", "TYPE", "build type: release or debug"),
	CLI_OPT("load-addr", "ADDR", "load address (non-zero sets the RAM-load flag, as imgtool)"),
	CLI_OPT("header-size", "N", "header size, payload offset (default 32)"),
	CLI_OPT("security-counter", "N", "security counter (protected TLV 0x50)"),
	CLI_FLAG("embed-pubkey", "embed the public key (TLV 0x02) instead of its hash (0x01)"),
	CLI_OPT("passphrase-file", "FILE", "passphrase of an encrypted key (else LINESEC_KEY_PASSPHRASE)"),
	CLI_FLAG("json", "print the signed image's facts as JSON"),
	CLI_OPT_END,
};


static const cli_opt inspect_opts[] = {
	CLI_FLAG("json", "print canonical JSON"),
	CLI_OPT_END,
};


static const cli_opt verify_opts[] = {
	CLI_OPT("pubkey", "PUB.pem", "the trusted public key (or a private key file)"),
	CLI_OPT("key-hash", "HEX", "trust only this SHA-256 of the key (a fused digest); needs a PUBKEY TLV"),
	CLI_OPT("product", "ID", "require this product id"),
	CLI_FLAG("require-release", "refuse debug and undeclared builds"),
	CLI_OPT("min-counter", "N", "refuse a security counter below N"),
	CLI_FLAG("json", "print the verified image's facts as JSON"),
	CLI_OPT_END,
};


static int read_image(lsec_image **out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(IMAGE_FILE_MAX);
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_image_parse(out, b.data, b.len, path, err));
out:
	lsec_buf_release(&b);
	return rc;
}

static int sign_body(cli_ctx *c)
{
	int rc = 0;
	const cli_args *a = &c->a;
	lsec_err *err = &c->err;
	lsec_key *key = NULL;
	lsec_secret *pass = NULL;
	lsec_buf in = LSEC_BUF_INIT(IMAGE_FILE_MAX);
	lsec_buf img = LSEC_BUF_INIT(IMAGE_FILE_MAX + 65536u);
	lsec_image_sign_options o = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	uint64_t v = 0;
	const char *build = cli_get(a, "build");
	char ver[32];
	uint8_t digest[32];
	char hex[65];
	lsec_image *parsed = NULL;
	json_t *j = NULL;

	LSEC_ENSURE(lsec_image_build_parse(&o.build, build, strlen(build)) &&
			o.build != LSEC_IMAGE_BUILD_UNKNOWN,
		    LSEC_E_USAGE, "invalid --build '%s': expected release or debug", build);
	o.product = cli_get(a, "product");
	LSEC_TRY(lsec_image_version_parse(&o.image_version, cli_get(a, "version"), err));
	LSEC_TRY(cli_get_u64(a, "load-addr", UINT32_MAX, &v, err));
	o.load_addr = (uint32_t)v;
	v = 0;
	LSEC_TRY(cli_get_u64(a, "header-size", UINT16_MAX, &v, err));
	o.header_size = (uint16_t)v;
	if (cli_get(a, "security-counter") != NULL) {
		LSEC_TRY(cli_get_u64(a, "security-counter", UINT32_MAX, &v, err));
		o.has_security_counter = true;
		o.security_counter = (uint32_t)v;
	}
	o.embed_pubkey = cli_flag(a, "embed-pubkey");
	LSEC_TRY(lsec_key_passphrase_load(&pass, cli_get(a, "passphrase-file"), err));
	LSEC_TRY(lsec_key_load_private(&key, cli_get(a, "key"), pass, err));
	o.key = key;
	LSEC_TRY(lsec_file_read(&in, a->args[0], err));
	LSEC_TRY(lsec_image_sign(&img, in.data, in.len, &o, err));
	LSEC_TRY(lsec_file_write_atomic(a->args[1], img.data, img.len, 0644, err));
	/* Read back what was written, as the verifier will see it. */
	LSEC_TRY(read_image(&parsed, a->args[1], err));
	LSEC_ENSURE(lsec_image_digest(digest, parsed), LSEC_E_INTERNAL,
		    "signed image '%s' has no SHA256 TLV", a->args[1]);
	lsec_hex_encode(hex, digest, sizeof(digest));
	LSEC_TRY(lsec_image_version_format(ver, sizeof(ver), o.image_version));
	if (cli_flag(a, "json")) {
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "input", a->args[0], "image",
			      a->args[1], "product", o.product, "version", ver, "build", build, "size",
			      (json_int_t)img.len, "key_type", lsec_key_type_name(lsec_key_get_type(key)),
			      "sha256", hex);
		LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "cannot print result: out of memory");
		LSEC_TRY(lsec_json_print(stdout, j, err));
	} else {
		printf("signed '%s' -> '%s': product %s, version %s, %s build, %zu bytes, %s key\n"
		       "image SHA-256: %s\n",
		       a->args[0], a->args[1], o.product, ver, build, img.len,
		       lsec_key_type_name(lsec_key_get_type(key)), hex);
	}
out:
	json_decref(j);
	lsec_image_free(parsed);
	lsec_buf_release(&in);
	lsec_buf_release(&img);
	lsec_secret_free(pass);
	lsec_key_free(key);
	return rc;
}

static const cli_spec sign_spec = {
	.usage = "image sign --key KEY.pem --product ID --version 1.2.3+4 --build release|debug "
		 "[--load-addr A] [--header-size N] [--security-counter N] IN.bin OUT.img",
	.summary = "Sign a raw firmware binary into an MCUboot image.",
	.opts = sign_opts,
	.min_args = 2,
	.max_args = 2,
	.body = sign_body,
};

/* Text rendering of lsec_image_describe's description. */
static void print_description(const lsec_image_description *d)
{
	printf("header:\n");
	printf("  magic             0x%08llx\n", (unsigned long long)d->magic);
	printf("  load_addr         0x%08llx\n", (unsigned long long)d->load_addr);
	printf("  hdr_size          %lld\n", (long long)d->hdr_size);
	printf("  protect_tlv_size  %lld\n", (long long)d->protect_tlv_size);
	printf("  img_size          %lld\n", (long long)d->img_size);
	printf("  flags             0x%08llx", (unsigned long long)d->flags);
	for (size_t i = 0; i < d->nflag_names; i++) {
		printf(" %s", d->flag_names[i]);
	}
	printf("\n");
	printf("  version           %s\n", d->version_text);
	printf("TLVs:\n");
	for (size_t i = 0; i < d->ntlvs; i++) {
		const lsec_image_tlv_info *t = &d->tlvs[i];
		printf("  %-11s 0x%02llx %-16s len %-4lld ", t->prot ? "protected" : "unprotected",
		       (unsigned long long)t->type, t->name ? t->name : "(unknown)",
		       (long long)t->len);
		if (t->decoded_text != NULL) {
			printf("%s\n", t->decoded_text);
		} else if (t->has_decoded_number) {
			printf("%lld\n", (long long)t->decoded_number);
		} else {
			printf("%s\n", t->value_hex);
		}
	}
	printf("hash:\n  computed  %s\n  TLV       %s\n  status    %s\n", d->hash_computed,
	       d->hash_tlv[0] != '\0' ? d->hash_tlv : "(none)", d->hash_status);
}

static int inspect_body(cli_ctx *c)
{
	int rc = 0;
	lsec_image *img = NULL;
	lsec_image_description *d = NULL;
	json_t *j = NULL;
	LSEC_TRY(read_image(&img, c->a.args[0], &c->err));
	LSEC_TRY(lsec_image_describe(&d, img, &c->err));
	if (cli_flag(&c->a, "json")) {
		LSEC_TRY(lsec_image_description_json(&j, d, &c->err));
		LSEC_TRY(lsec_json_print(stdout, j, &c->err));
	} else {
		print_description(d);
	}
out:
	json_decref(j);
	lsec_image_description_free(d);
	lsec_image_free(img);
	return rc;
}

static const cli_spec inspect_spec = {
	.usage = "image inspect IMG [--json]",
	.summary = "Show every header field, every TLV and whether the SHA-256 TLV matches.",
	.opts = inspect_opts,
	.min_args = 1,
	.max_args = 1,
	.body = inspect_body,
};

static int verify_body(cli_ctx *c)
{
	int rc = 0;
	const cli_args *a = &c->a;
	lsec_err *err = &c->err;
	lsec_key *key = NULL;
	lsec_image *img = NULL;
	lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	uint64_t v = 0;
	uint8_t digest[32], key_hash[32];
	char hex[65], ver[32];
	uint32_t cnt = 0;
	json_t *j = NULL;

	LSEC_ENSURE((cli_get(a, "pubkey") != NULL) != (cli_get(a, "key-hash") != NULL), LSEC_E_USAGE,
		    "image verify needs either --pubkey PUB.pem or --key-hash HEX");
	if (cli_get(a, "pubkey") != NULL) {
		LSEC_TRY(lsec_key_load_public(&key, cli_get(a, "pubkey"), err));
		vo.key = key;
	} else {
		/* A malformed option value is a usage error. */
		lsec_err herr = LSEC_ERR_INIT;
		LSEC_ENSURE(lsec_hex_decode_fixed(key_hash, sizeof(key_hash), cli_get(a, "key-hash"),
						  "--key-hash", &herr) == 0,
			    LSEC_E_USAGE, "%s", herr.msg);
		vo.key_hash = key_hash;
	}
	vo.product = cli_get(a, "product");
	vo.require_release = cli_flag(a, "require-release");
	if (cli_get(a, "min-counter") != NULL) {
		LSEC_TRY(cli_get_u64(a, "min-counter", UINT32_MAX, &v, err));
		vo.check_min_counter = true;
		vo.min_counter = (uint32_t)v;
	}
	LSEC_TRY(read_image(&img, a->args[0], err));
	LSEC_TRY(lsec_image_verify(img, &vo, err));
	(void)lsec_image_digest(digest, img);
	lsec_hex_encode(hex, digest, sizeof(digest));
	LSEC_TRY(lsec_image_version_format(ver, sizeof(ver), lsec_image_get_version(img)));
	bool has_cnt = lsec_image_security_counter(&cnt, img);
	const char *product = lsec_image_product(img);
	const char *build = lsec_image_build_name(lsec_image_build_type(img));
	if (cli_flag(a, "json")) {
		j = json_pack("{s:s, s:b, s:s?, s:s, s:s, s:s}", "image", a->args[0], "verified", 1,
			      "product", product, "version", ver, "build", build, "sha256", hex);
		LSEC_ENSURE(j != NULL, LSEC_E_NOMEM, "cannot print result: out of memory");
		LSEC_ENSURE(json_object_set_new(j, "security_counter",
						has_cnt ? json_integer(cnt) : json_null()) == 0,
			    LSEC_E_NOMEM, "cannot print result: out of memory");
		LSEC_TRY(lsec_json_print(stdout, j, err));
	} else {
		printf("image '%s' verified: product %s, version %s, %s build, security counter ",
		       a->args[0], product ? product : "(none)", ver, build);
		if (has_cnt) {
			printf("%u\n", cnt);
		} else {
			printf("(none)\n");
		}
		printf("image SHA-256: %s\n", hex);
	}
out:
	json_decref(j);
	lsec_image_free(img);
	lsec_key_free(key);
	return rc;
}

static const cli_spec verify_spec = {
	.usage = "image verify IMG --pubkey PUB.pem|--key-hash HEX [--product ID] "
		 "[--require-release] [--min-counter N]",
	.summary = "Verify an image: hash, key, signature, then product, build type and counter.",
	.opts = verify_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Exit status 0 only if every check passes; each failure has its own status\n"
		   "(20 truncated, 21 bad magic, 22 bad sizes, 23 malformed TLV area, 24 unsupported\n"
		   "(encrypted, compressed or pure-signed), 40 hash mismatch,\n"
		   "41 another key, 42 bad signature, 50 unsigned, 51 wrong product, 52 not a release\n"
		   "build, 53 security counter below the minimum; see docs/image-format.md).",
	.body = verify_body,
};

const cli_cmd cli_image_cmds[] = {
	{"sign", &sign_spec, NULL, "sign a raw binary into an MCUboot image"},
	{"inspect", &inspect_spec, NULL, "show an image's header, TLVs and hash status"},
	{"verify", &verify_spec, NULL, "verify an image against a public key and the line's policy"},
	{NULL, NULL, NULL, NULL},
};
