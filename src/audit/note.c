/*
 * note.c - checkpoints as C2SP signed notes (c2sp.org/signed-note,
 * c2sp.org/tlog-checkpoint), signed and verified with Ed25519 through
 * OpenSSL EVP.
 *
 * A note is its text (one or more non-empty lines, each ending in a
 * newline), a blank line, then signature lines
 *     U+2014 EM DASH, space, key name, space, base64(key id || signature)
 * The signature covers the text including its final newline. The Ed25519
 * key id is the first four bytes of SHA-256(name || 0x0A || 0x01 || public
 * key), 0x01 being the signature type of Ed25519.
 *
 * The parser is strict: printable ASCII text, exactly three checkpoint lines
 * (origin, decimal size without leading zeros, base64 of 32 bytes), at most
 * one extension line and only "linesec-index <base64 of 32 bytes>" (the
 * signed index root), well-formed signature lines only, no trailing bytes.
 *
 * @test tests/unit/audit/test_note.c, tests/fuzz/fuzz_checkpoint.c
 */
#include "audit/audit_int.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#define EM_DASH "\xe2\x80\x94"
#define ED25519_SIG_TYPE 0x01
#define MAX_SIGNATURES 16
/* The one extension line a checkpoint may carry: the signed index root. */
#define INDEX_LINE "linesec-index "

static bool is_printable(char c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* A key name: non-empty printable ASCII without spaces or '+'. */
static bool valid_key_name(const char *s, size_t len)
{
	if (len == 0 || len > 128) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_printable(s[i]) || s[i] == '+') {
			return false;
		}
	}
	return true;
}

/* An origin: non-empty printable ASCII, inner spaces allowed. */
static bool valid_origin(const char *s, size_t len)
{
	if (len == 0 || len >= sizeof(((lsec_audit_checkpoint *)0)->origin) || s[0] == ' ' ||
	    s[len - 1] == ' ') {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_printable(s[i]) && s[i] != ' ') {
			return false;
		}
	}
	return true;
}

static int raw_public_key(uint8_t out[32], const EVP_PKEY *pub, lsec_err *err)
{
	int rc = 0;
	size_t n = 32;
	LSEC_ENSURE(pub != NULL && EVP_PKEY_is_a(pub, "ED25519"), LSEC_E_USAGE,
		    "cannot use the station key: checkpoints need an Ed25519 key");
	LSEC_TRY_OSSL(EVP_PKEY_get_raw_public_key(pub, out, &n), LSEC_E_CRYPTO,
		      "cannot read the Ed25519 public key");
	LSEC_ENSURE(n == 32, LSEC_E_CRYPTO, "cannot read the Ed25519 public key: %zu bytes", n);
out:
	return rc;
}

static int key_id_raw(uint8_t out[4], const char *name, size_t name_len, const EVP_PKEY *pub,
		      lsec_err *err)
{
	int rc = 0;
	uint8_t buf[128 + 2 + 32], pk[32], h[32];
	LSEC_ENSURE(valid_key_name(name, name_len), LSEC_E_USAGE,
		    "cannot use key name '%.*s': expected printable ASCII without spaces or '+'",
		    (int)(name_len > 128 ? 128 : name_len), name);
	LSEC_TRY(raw_public_key(pk, pub, err));
	memcpy(buf, name, name_len);
	buf[name_len] = '\n';
	buf[name_len + 1] = ED25519_SIG_TYPE;
	memcpy(buf + name_len + 2, pk, 32);
	LSEC_TRY(lsec_sha256(h, buf, name_len + 2 + 32, err));
	memcpy(out, h, 4);
out:
	return rc;
}

int lsec_audit_key_id(uint8_t out[4], const char *name, const struct evp_pkey_st *pub,
		      lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(name);
	rc = key_id_raw(out, name, strlen(name), pub, err);
out:
	return rc;
}

int lsec_audit__note_sign(char **note_out, const char *text, size_t len, const char *key_name,
			  const struct evp_pkey_st *key, lsec_err *err)
{
	int rc = 0;
	lsec_buf note = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX);
	lsec_buf sig = LSEC_BUF_INIT(4 + 128); /* key ID, then the signature (64 bytes if Ed25519) */
	char *sig_b64 = NULL;
	uint8_t id[4];
	*note_out = NULL;
	LSEC_ENSURE_REF(key_name);
	LSEC_ENSURE(len > 0 && text[len - 1] == '\n', LSEC_E_USAGE,
		    "cannot sign note: the text must end with a newline");
	LSEC_TRY(key_id_raw(id, key_name, strlen(key_name), key, err));
	LSEC_TRY(lsec_buf_append(&sig, id, sizeof(id), err));
	/* Ed25519 is a one-shot scheme: no digest is named. */
	LSEC_TRY(lsec_evp_sign(&sig, key, NULL, (const uint8_t *)text, len, "cannot sign note",
			       err));
	LSEC_ENSURE(sig.len == 4 + 64, LSEC_E_CRYPTO, "cannot sign note: %zu-byte signature",
		    sig.len - 4);
	LSEC_TRY(lsec_base64_encode(&sig_b64, sig.data, sig.len, err));
	LSEC_TRY(lsec_buf_append(&note, text, len, err));
	LSEC_TRY(lsec_buf_printf(&note, err, "\n" EM_DASH " %s %s\n", key_name, sig_b64));
	LSEC_TRY(lsec_buf_append_u8(&note, 0, err));
	*note_out = (char *)note.data;
	note.data = NULL;
	note.len = note.cap = 0;
out:
	lsec_free(sig_b64);
	lsec_buf_release(&sig);
	lsec_buf_release(&note);
	return rc;
}

int lsec_audit_checkpoint_sign(char **note_out, const lsec_audit_checkpoint *cp,
			       const char *key_name, const struct evp_pkey_st *key, lsec_err *err)
{
	int rc = 0;
	lsec_buf text = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX);
	char *root_b64 = NULL;
	*note_out = NULL;
	LSEC_ENSURE_REF(cp);
	LSEC_ENSURE(valid_origin(cp->origin, strnlen(cp->origin, sizeof(cp->origin))),
		    LSEC_E_USAGE,
		    "cannot sign checkpoint: origin '%.64s' must be printable ASCII, 1-255 bytes",
		    cp->origin);
	LSEC_TRY(lsec_base64_encode(&root_b64, cp->root, 32, err));
	LSEC_TRY(lsec_buf_printf(&text, err, "%s\n%llu\n%s\n", cp->origin,
				 (unsigned long long)cp->size, root_b64));
	if (cp->has_index) {
		lsec_free(root_b64);
		root_b64 = NULL;
		LSEC_TRY(lsec_base64_encode(&root_b64, cp->index_root, 32, err));
		LSEC_TRY(lsec_buf_printf(&text, err, INDEX_LINE "%s\n", root_b64));
	}
	LSEC_TRY(lsec_audit__note_sign(note_out, (const char *)text.data, text.len, key_name, key,
				       err));
out:
	lsec_free(root_b64);
	lsec_buf_release(&text);
	return rc;
}

/*
 * Strict base64: decodes and re-encodes, so that a string with non-zero
 * padding bits (two spellings of the same bytes) is refused. Returns false
 * when s is not the canonical encoding of at most out->max bytes.
 */
static bool b64_canonical(lsec_buf *out, const char *s, size_t len)
{
	lsec_err e = LSEC_ERR_INIT;
	char *again = NULL;
	bool ok = lsec_base64_decode(out, s, len, "base64", &e) == 0 &&
		  lsec_base64_encode(&again, out->data, out->len, &e) == 0 &&
		  strlen(again) == len && memcmp(again, s, len) == 0; /* lint:ok: public bytes */
	lsec_free(again);
	return ok;
}

/* One signature line, borrowed from the note. */
struct sigline {
	const char *name;
	size_t name_len;
	uint8_t blob[4 + 64];
	size_t blob_len;
};

struct parsed_note {
	size_t text_len; /* bytes covered by the signatures */
	struct sigline sigs[MAX_SIGNATURES];
	size_t nsigs;
};

/* Finds the end of the line starting at p (the '\n'); NULL when there is none. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

static int parse_sigline(struct sigline *s, const char *p, const char *nl, unsigned lineno,
			 lsec_err *err)
{
	int rc = 0;
	lsec_buf blob = LSEC_BUF_INIT(sizeof(s->blob) + 3); /* the decoder reserves whole groups */
	const size_t dash = sizeof(EM_DASH) - 1;
	LSEC_ENSURE((size_t)(nl - p) > dash + 1 && memcmp(p, EM_DASH " ", dash + 1) == 0, /* lint:ok */
		    LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line %u: expected a signature line starting with an em dash",
		    lineno);
	p += dash + 1;
	const char *sp = memchr(p, ' ', (size_t)(nl - p));
	LSEC_ENSURE(sp != NULL, LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line %u: expected '<key name> <signature>'", lineno);
	LSEC_ENSURE(valid_key_name(p, (size_t)(sp - p)), LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line %u: bad key name", lineno);
	s->name = p;
	s->name_len = (size_t)(sp - p);
	/* Type-specific lengths are checked by the verifier; here the blob
	 * must hold a key id and at most one Ed25519 signature. */
	LSEC_ENSURE(b64_canonical(&blob, sp + 1, (size_t)(nl - sp - 1)), LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line %u: signature is not canonical base64 of at most "
		    "68 bytes",
		    lineno);
	LSEC_ENSURE(blob.len > 4, LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line %u: signature too short", lineno);
	LSEC_ENSURE(blob.len <= sizeof(s->blob), LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line %u: signature too long", lineno);
	memcpy(s->blob, blob.data, blob.len);
	s->blob_len = blob.len;
out:
	lsec_buf_release(&blob);
	return rc;
}

/*
 * Splits a note into its text (non-empty printable ASCII lines) and its
 * signature lines. lines_out/lens_out receive up to max_lines text lines.
 */
static int split_note(struct parsed_note *pn, const char *note, size_t len, const char **lines,
		      size_t *lens, size_t max_lines, size_t *nlines, lsec_err *err)
{
	int rc = 0;
	const char *end, *p = note, *nl;
	unsigned lineno = 0;
	memset(pn, 0, sizeof(*pn));
	*nlines = 0;
	LSEC_ENSURE(note != NULL && len > 0, LSEC_E_AUDIT_NOTE, "cannot parse checkpoint: empty");
	LSEC_ENSURE(len <= LSEC_AUDIT_NOTE_MAX, LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: %zu bytes, at most %u expected", len,
		    (unsigned)LSEC_AUDIT_NOTE_MAX);
	LSEC_ENSURE(note[len - 1] == '\n', LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: the last line does not end with a newline");
	end = note + len;
	/* The text: non-empty lines up to the blank line. */
	while (p < end && *p != '\n') {
		lineno++;
		nl = line_end(p, end);
		for (const char *c = p; c < nl; c++) {
			LSEC_ENSURE(is_printable(*c) || *c == ' ', LSEC_E_AUDIT_NOTE,
				    "cannot parse checkpoint: line %u: byte 0x%02x is not printable ASCII",
				    lineno, (unsigned)(unsigned char)*c);
		}
		LSEC_ENSURE(*nlines < max_lines, LSEC_E_AUDIT_NOTE,
			    "cannot parse checkpoint: line %u: expected the blank line before the "
			    "signatures (only the index extension line is used)",
			    lineno);
		lines[*nlines] = p;
		lens[*nlines] = (size_t)(nl - p);
		(*nlines)++;
		p = nl + 1;
	}
	LSEC_ENSURE(*nlines > 0 && p < end, LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: expected text, a blank line and signature lines");
	pn->text_len = (size_t)(p - note);
	p++;
	lineno++;
	while (p < end) {
		lineno++;
		nl = line_end(p, end);
		LSEC_ENSURE(pn->nsigs < MAX_SIGNATURES, LSEC_E_AUDIT_NOTE,
			    "cannot parse checkpoint: more than %d signatures", MAX_SIGNATURES);
		LSEC_TRY(parse_sigline(&pn->sigs[pn->nsigs], p, nl, lineno, err));
		pn->nsigs++;
		p = nl + 1;
	}
	LSEC_ENSURE(pn->nsigs > 0, LSEC_E_AUDIT_NOTE, "cannot parse checkpoint: no signature line");
out:
	return rc;
}

static int parse_note(lsec_audit_checkpoint *cp, struct parsed_note *pn, const char *note,
		      size_t len, lsec_err *err)
{
	int rc = 0;
	lsec_buf root = LSEC_BUF_INIT(33);
	const char *lines[4];
	size_t lens[4], n = 0, h = sizeof(INDEX_LINE) - 1;
	memset(cp, 0, sizeof(*cp));
	LSEC_TRY(split_note(pn, note, len, lines, lens, 4, &n, err));
	LSEC_ENSURE(n == 3 || n == 4, LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: %zu text lines, expected origin, tree size and root", n);
	LSEC_ENSURE(valid_origin(lines[0], lens[0]), LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line 1: origin must be 1-255 bytes without outer spaces");
	memcpy(cp->origin, lines[0], lens[0]);
	LSEC_ENSURE(lsec_audit__parse_u64(lines[1], lens[1], &cp->size), LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line 2: expected a decimal tree size");
	LSEC_ENSURE(b64_canonical(&root, lines[2], lens[2]) && root.len == 32, LSEC_E_AUDIT_NOTE,
		    "cannot parse checkpoint: line 3: expected the base64 of a 32-byte root hash");
	memcpy(cp->root, root.data, 32);
	if (n == 4) {
		root.len = 0;
		LSEC_ENSURE(lens[3] > h && memcmp(lines[3], INDEX_LINE, h) == 0 && /* lint:ok */
				    b64_canonical(&root, lines[3] + h, lens[3] - h) && root.len == 32,
			    LSEC_E_AUDIT_NOTE,
			    "cannot parse checkpoint: line 4: expected 'linesec-index' and the base64 "
			    "of a 32-byte index root");
		memcpy(cp->index_root, root.data, 32);
		cp->has_index = true;
	}
out:
	lsec_buf_release(&root);
	return rc;
}

int lsec_audit_checkpoint_parse(lsec_audit_checkpoint *out, const char *note, size_t len,
				lsec_err *err)
{
	struct parsed_note pn;
	return parse_note(out, &pn, note, len, err);
}

/* Checks that one of pn's signatures is by pub over the text. */
static int verify_sigs(const struct parsed_note *pn, const char *note, const char *key_name,
		       const EVP_PKEY *pub, bool *known, lsec_err *err)
{
	int rc = 0;
	bool ok = false;
	*known = false;
	for (size_t i = 0; i < pn->nsigs && !ok; i++) {
		const struct sigline *s = &pn->sigs[i];
		uint8_t id[4];
		if (key_name != NULL && (strlen(key_name) != s->name_len ||
					 memcmp(key_name, s->name, s->name_len) != 0)) { /* lint:ok */
			continue;
		}
		LSEC_TRY(key_id_raw(id, s->name, s->name_len, pub, err));
		if (!lsec_ct_equal(id, s->blob, 4)) {
			continue; /* another key's signature: ignored, as the spec says */
		}
		*known = true;
		if (s->blob_len != 4 + 64) {
			continue;
		}
		LSEC_TRY(lsec_evp_verify(&ok, pub, NULL, (const uint8_t *)note, pn->text_len,
					 s->blob + 4, 64, "cannot verify note", err));
	}
	rc = ok ? 0 : LSEC_E_AUDIT_SIGNATURE;
out:
	return rc;
}

int lsec_audit__note_verify(size_t *text_len_out, const char *note, size_t len,
			    const char *key_name, const struct evp_pkey_st *pub, lsec_err *err)
{
	int rc = 0;
	struct parsed_note pn;
	const char *lines[64];
	size_t lens[64], n;
	bool known;
	*text_len_out = 0;
	LSEC_TRY(split_note(&pn, note, len, lines, lens, 64, &n, err));
	rc = verify_sigs(&pn, note, key_name, pub, &known, err);
	if (rc == LSEC_E_AUDIT_SIGNATURE) {
		LSEC_BAIL(rc, "cannot verify note: %s",
			  known ? "the signature does not verify" : "no signature by the key");
	}
	LSEC_TRY(rc);
	*text_len_out = pn.text_len;
out:
	return rc;
}

int lsec_audit_checkpoint_verify(lsec_audit_checkpoint *out, const char *note, size_t len,
				 const char *key_name, const struct evp_pkey_st *pub, lsec_err *err)
{
	int rc = 0;
	struct parsed_note pn;
	bool known;
	LSEC_TRY(parse_note(out, &pn, note, len, err));
	rc = verify_sigs(&pn, note, key_name, pub, &known, err);
	if (rc == LSEC_E_AUDIT_SIGNATURE) {
		LSEC_BAIL(rc, "cannot verify checkpoint of '%s' at size %llu: %s", out->origin,
			  (unsigned long long)out->size,
			  known ? "the signature does not verify" : "no signature by the station key");
	}
out:
	if (rc < 0 && out != NULL) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int lsec_audit_checkpoint_verify_keys(lsec_audit_checkpoint *out, const char *note, size_t len,
				      const char *key_name, const struct evp_pkey_st *const *pubs,
				      size_t npubs, lsec_err *err)
{
	int rc = LSEC_E_AUDIT_SIGNATURE;
	LSEC_ENSURE(npubs > 0 && pubs != NULL, LSEC_E_AUDIT_SIGNATURE,
		    "cannot verify a checkpoint: no trusted station key given");
	for (size_t i = 0; i < npubs && rc == LSEC_E_AUDIT_SIGNATURE; i++) {
		lsec_err_clear(err);
		rc = lsec_audit_checkpoint_verify(out, note, len, key_name, pubs[i], err);
	}
	if (rc == LSEC_E_AUDIT_SIGNATURE && npubs > 1) {
		LSEC_BAIL(rc, "no signature by any of the %zu trusted station keys", npubs);
	}
out:
	return rc;
}

void lsec_audit_pubkeys_free(struct evp_pkey_st **keys, size_t n)
{
	if (keys == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		EVP_PKEY_free(keys[i]);
	}
	lsec_free(keys);
}

int lsec_audit_pubkeys_load(struct evp_pkey_st ***out, size_t *n_out, const char *path,
			    lsec_err *err)
{
	int rc = 0;
	lsec_buf text = LSEC_BUF_INIT(1u << 20);
	BIO *bio = NULL;
	EVP_PKEY **keys = NULL, *k = NULL;
	size_t n = 0;
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(path);
	LSEC_TRY(lsec_file_read(&text, path, err));
	LSEC_ENSURE(text.len > 0 && text.len <= INT32_MAX, LSEC_E_PARSE,
		    "cannot read public keys from '%s': empty", path);
	LSEC_TRY_OSSL_PTR(bio = BIO_new_mem_buf(text.data, (int)text.len), LSEC_E_NOMEM,
			  "cannot read public keys from '%s'", path);
	LSEC_ENSURE((keys = lsec_calloc(LSEC_AUDIT_MAX_KEYS, sizeof(*keys))) != NULL, LSEC_E_NOMEM,
		    "cannot read public keys from '%s': out of memory", path);
	while ((k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
		LSEC_ENSURE(n < LSEC_AUDIT_MAX_KEYS, LSEC_E_LIMIT,
			    "cannot read public keys from '%s': more than %d", path,
			    LSEC_AUDIT_MAX_KEYS);
		LSEC_ENSURE(EVP_PKEY_is_a(k, "ED25519"), LSEC_E_USAGE,
			    "cannot use public key %zu of '%s': station keys are Ed25519", n + 1,
			    path);
		keys[n++] = k;
		k = NULL;
	}
	ERR_clear_error(); /* the end of the PEM data reads as an error */
	LSEC_ENSURE(n > 0, LSEC_E_PARSE, "cannot read public keys from '%s': no PEM public key",
		    path);
	*out = keys;
	*n_out = n;
	keys = NULL;
out:
	EVP_PKEY_free(k);
	lsec_audit_pubkeys_free(keys, n);
	BIO_free(bio);
	lsec_buf_release(&text);
	return rc;
}
