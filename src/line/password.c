/*
 * password.c - Argon2id password hashes (RFC 9106) in the PHC string form
 * "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" (unpadded base64).
 *
 * Parameters: OWASP's Password Storage Cheat Sheet minimum for Argon2id,
 * m = 19 MiB, t = 2, p = 1. Verification decodes the stored parameters,
 * recomputes the raw hash and compares it with lsec_ct_equal, so the
 * comparison is constant-time by construction here, not by trust in the
 * library.
 */
#include "line/line_int.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#define PW_M_KIB 19456u
#define PW_T 2u
#define PW_P 1u
#define PW_SALT 16u
#define PW_HASH 32u
/* Bounds on stored parameters, so a tampered hash cannot make us allocate gigabytes. */
#define PW_M_MAX (1u << 21)
#define PW_T_MAX 16u
#define PW_P_MAX 8u
#define PW_BYTES_MAX 64u

static int check_password(const lsec_secret *password, lsec_err *err)
{
	if (password == NULL) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__, "missing password");
	}
	size_t n = lsec_secret_len(password);
	if (n < LSEC_LINE_PASSWORD_MIN) {
		return lsec_err_set(err, LSEC_E_POLICY, __FILE__, __LINE__,
				    "password refused: at least %d characters are required",
				    LSEC_LINE_PASSWORD_MIN);
	}
	if (n > LSEC_LINE_PASSWORD_MAX) {
		return lsec_err_set(err, LSEC_E_LIMIT, __FILE__, __LINE__,
				    "password refused: at most %d characters", LSEC_LINE_PASSWORD_MAX);
	}
	return 0;
}

int lsec_line_password_hash(char *out, size_t cap, const lsec_secret *password, lsec_err *err)
{
	int rc = 0;
	uint8_t salt[PW_SALT];
	out[0] = '\0';
	LSEC_TRY(check_password(password, err));
	LSEC_TRY(lsec_random(salt, sizeof(salt), err));
	int arc = argon2id_hash_encoded(PW_T, PW_M_KIB, PW_P, lsec_secret_cdata(password),
					lsec_secret_len(password), salt, sizeof(salt), PW_HASH, out,
					cap);
	LSEC_ENSURE(arc == ARGON2_OK, LSEC_E_CRYPTO, "cannot hash password: %s",
		    argon2_error_message(arc));
out:
	lsec_wipe(salt, sizeof(salt));
	return rc;
}

/* Unpadded base64 (PHC) into out; adds the padding lsec_base64_decode expects. */
static int b64_nopad(lsec_buf *out, const char *s, size_t len, const char *what, lsec_err *err)
{
	int rc = 0;
	char tmp[PW_BYTES_MAX * 2];
	LSEC_ENSURE(len + 3 < sizeof(tmp), LSEC_E_PARSE, "stored password hash: %s too long", what);
	memcpy(tmp, s, len);
	while (len % 4 != 0) {
		tmp[len++] = '=';
	}
	tmp[len] = '\0';
	LSEC_TRY(lsec_base64_decode(out, tmp, len, what, err));
out:
	return rc;
}

int lsec_line_password_verify(const char *encoded, const lsec_secret *password, lsec_err *err)
{
	int rc = 0;
	unsigned v = 0, m = 0, t = 0, p = 0;
	int off = 0;
	lsec_buf salt = LSEC_BUF_INIT(PW_BYTES_MAX);
	lsec_buf want = LSEC_BUF_INIT(PW_BYTES_MAX);
	uint8_t got[PW_BYTES_MAX];
	LSEC_ENSURE_REF(encoded);
	LSEC_TRY(check_password(password, err));
	int n = sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u$%n", &v, &m, &t, &p, &off);
	LSEC_ENSURE(n == 4 && off > 0 && v == ARGON2_VERSION_13, LSEC_E_PARSE,
		    "stored password hash is not an Argon2id v19 PHC string");
	LSEC_ENSURE(m >= 8 && m <= PW_M_MAX && t >= 1 && t <= PW_T_MAX && p >= 1 && p <= PW_P_MAX,
		    LSEC_E_PARSE, "stored password hash has parameters out of range");
	const char *s = encoded + off;
	const char *dollar = strchr(s, '$');
	LSEC_ENSURE(dollar != NULL, LSEC_E_PARSE, "stored password hash has no hash part");
	LSEC_TRY(b64_nopad(&salt, s, (size_t)(dollar - s), "salt", err));
	LSEC_TRY(b64_nopad(&want, dollar + 1, strlen(dollar + 1), "hash", err));
	LSEC_ENSURE(salt.len >= 8 && want.len >= 16 && want.len <= PW_BYTES_MAX, LSEC_E_PARSE,
		    "stored password hash has a salt or hash of the wrong size");
	int arc = argon2id_hash_raw(t, m, p, lsec_secret_cdata(password), lsec_secret_len(password),
				    salt.data, salt.len, got, want.len);
	LSEC_ENSURE(arc == ARGON2_OK, LSEC_E_CRYPTO, "cannot hash password: %s",
		    argon2_error_message(arc));
	LSEC_ENSURE(lsec_ct_equal(got, want.data, want.len), LSEC_E_AUTH, "wrong password");
out:
	lsec_wipe(got, sizeof(got));
	lsec_buf_release(&salt);
	lsec_buf_release(&want);
	return rc;
}
