/*
 * cred.c - initial device credentials: no default passwords.
 *
 * Each unit gets LSEC_CRED_LEN characters drawn uniformly from the 56
 * characters of LSEC_CRED_ALPHABET (the digits, upper- and lowercase letters
 * without 0 O o 1 I l). A random byte b is used only when b < 224 = 4 * 56,
 * and then b mod 56 picks the character, so each character is uniform:
 * 16 * log2(56) = 16 * 5.807 = 92.9 bits. Crockford's base32 (32 characters,
 * every byte used, b mod 32) serves upper-case-only devices: 5 bits a
 * character. Fewer than 80 bits is refused. The bytes come from the OS
 * CSPRNG (RAND_bytes); nothing about the unit goes in.
 *
 * The registry keeps HMAC-SHA-256(line credential key, password): an 80-bit
 * random secret needs no slow hash, the fingerprint catches duplicates and
 * checks a claimed password, and without the key (0600 file or token) the
 * fingerprints reveal nothing.
 *
 * @test tests/unit/pki/test_cred.c
 */
#include "pki_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/hmac.h>

#define CRED_KEY_FILE "cred.key"

/* The alphabets' names (the SOP parameter values), indexed like alphabets[]. */
static const char *const alphabet_names[] = {
	[LSEC_CRED_ALNUM] = "alnum",
	[LSEC_CRED_BASE32] = "base32",
};

/* The alphabets and their entropy in thousandths of a bit per character. */
static const struct {
	const char *chars;
	unsigned millibits; /* floor(1000 * log2(size)) */
} alphabets[] = {
	[LSEC_CRED_ALNUM] = {LSEC_CRED_ALPHABET, 5807},
	[LSEC_CRED_BASE32] = {LSEC_CRED_ALPHABET_BASE32, 5000},
};
#define N_ALPHABETS (sizeof(alphabets) / sizeof(alphabets[0]))
_Static_assert(sizeof(alphabet_names) / sizeof(alphabet_names[0]) == N_ALPHABETS,
	       "every alphabet has a name");

int lsec_cred_alphabet_parse(lsec_cred_alphabet *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, alphabet_names, N_ALPHABETS, name, "credential alphabet", err);
	*out = (lsec_cred_alphabet)i;
	return rc;
}

unsigned lsec_cred_entropy_bits(size_t len, lsec_cred_alphabet a)
{
	if ((size_t)a >= N_ALPHABETS || len > 1000) {
		return 0;
	}
	return (unsigned)(len * alphabets[a].millibits / 1000);
}

int lsec_cred_generate_ex(lsec_secret **out, size_t len, lsec_cred_alphabet a, lsec_err *err)
{
	int rc = 0;
	uint8_t pool[32];
	size_t used = sizeof(pool);
	lsec_secret *s = NULL;
	*out = NULL;
	LSEC_ENSURE((size_t)a < N_ALPHABETS, LSEC_E_USAGE, "unknown credential alphabet %d",
		    (int)a);
	LSEC_ENSURE(len >= 16 && len <= 64, LSEC_E_USAGE,
		    "credential length %zu out of range: 16..64 characters expected", len);
	LSEC_ENSURE(lsec_cred_entropy_bits(len, a) >= 80, LSEC_E_POLICY,
		    "%zu %s characters give %u bits: at least 80 are required", len,
		    alphabet_names[a], lsec_cred_entropy_bits(len, a));
	const char *chars = alphabets[a].chars;
	const size_t n = strlen(chars);
	const size_t limit = 256 - 256 % n; /* the largest multiple of n: no modulo bias */
	LSEC_TRY(lsec_secret_new(&s, len, err));
	uint8_t *pw = lsec_secret_data(s);
	for (size_t i = 0; i < len;) {
		if (used == sizeof(pool)) {
			LSEC_TRY(lsec_random(pool, sizeof(pool), err));
			used = 0;
		}
		uint8_t b = pool[used++];
		if (b < limit) {
			pw[i++] = (uint8_t)chars[b % n];
		}
	}
	*out = s;
	s = NULL;
out:
	lsec_wipe(pool, sizeof(pool));
	lsec_secret_free(s);
	return rc;
}

int lsec_cred_generate(lsec_secret **out, lsec_err *err)
{
	return lsec_cred_generate_ex(out, LSEC_CRED_LEN, LSEC_CRED_ALNUM, err);
}

static int load_cred_key(lsec_ca *ca, lsec_err *err)
{
	int rc = 0;
	char *path = NULL;
	lsec_buf b = LSEC_BUF_INIT(64);
	if (ca->cred_key != NULL) {
		goto out;
	}
	LSEC_ENSURE((path = lsec_pki__ca_path(ca, CRED_KEY_FILE)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_ENSURE(b.len == 32, LSEC_E_PKI_CA_CONFIG,
		    "cannot read the credential key '%s': %zu bytes, 32 expected", path, b.len);
	LSEC_TRY(lsec_secret_from(&ca->cred_key, b.data, b.len, err));
out:
	lsec_buf_release(&b);
	lsec_free(path);
	return rc;
}

int lsec_cred_fingerprint(uint8_t out[32], lsec_ca *ca, const uint8_t *pw, size_t len,
			  lsec_err *err)
{
	int rc = 0;
	unsigned int outlen = 0;
	LSEC_ENSURE(pw != NULL && len > 0, LSEC_E_USAGE, "cannot fingerprint an empty credential");
	if (ca->pkcs11) {
		LSEC_ENSURE(ca->signer.p11 != NULL, LSEC_E_PKI_LOCKED,
			    "cannot fingerprint a credential: the CA in '%s' was opened without "
			    "its PIN",
			    ca->dir);
		LSEC_TRY(lsec_pki__p11_hmac(ca->signer.p11, ca->cred_label, pw, len, out, err));
		goto out;
	}
	LSEC_TRY(load_cred_key(ca, err));
	LSEC_TRY_OSSL_PTR(HMAC(EVP_sha256(), lsec_secret_cdata(ca->cred_key), 32, pw, len, out,
			       &outlen),
			  LSEC_E_CRYPTO, "cannot fingerprint a credential");
out:
	return rc;
}

int lsec_cred_check(lsec_ca *ca, const uint8_t *claimed, size_t len,
		    const uint8_t fingerprint[32], lsec_err *err)
{
	int rc = 0;
	uint8_t fp[32];
	LSEC_TRY(lsec_cred_fingerprint(fp, ca, claimed, len, err));
	LSEC_ENSURE(lsec_ct_equal(fp, fingerprint, sizeof(fp)), LSEC_E_AUTH,
		    "credential does not match the registered fingerprint");
out:
	lsec_wipe(fp, sizeof(fp));
	return rc;
}

int lsec_cred_label_write(char **path_out, const char *dir, const char *serial,
			  const lsec_secret *pw, lsec_err *err)
{
	return lsec_cred_label_write_mode(path_out, NULL, dir, serial, pw, 0600, err);
}

int lsec_cred_label_write_mode(char **path_out, int *held_fd, const char *dir,
			       const char *serial, const lsec_secret *pw, unsigned mode,
			       lsec_err *err)
{
	int rc = 0;
	int fd = -1;
	lsec_buf b = LSEC_BUF_INIT(512);
	char *path = NULL;
	*path_out = NULL;
	LSEC_ENSURE(dir != NULL && serial != NULL && pw != NULL, LSEC_E_USAGE,
		    "cannot write a label: missing folder, serial or credential");
	LSEC_TRY(lsec_ident_check(serial, "unit serial (label file name)", err));
	LSEC_ENSURE((path = lsec_asprintf("%s/%s.label", dir, serial)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	LSEC_TRY(lsec_buf_printf(&b, err, "serial: %s\npassword: ", serial));
	LSEC_TRY(lsec_buf_append(&b, lsec_secret_cdata(pw), lsec_secret_len(pw), err));
	LSEC_TRY(lsec_buf_append_u8(&b, '\n', err));
	LSEC_ENSURE((mode & 0007u) == 0, LSEC_E_USAGE,
		    "cannot write label '%s' with mode %03o: never readable by others", path, mode);
	LSEC_TRY(lsec_file_publish_held(&fd, path, b.data, b.len, mode, err));
	*path_out = path;
	path = NULL;
	if (held_fd != NULL) {
		*held_fd = fd;
		fd = -1;
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	lsec_buf_release(&b); /* wipes the copy of the password */
	lsec_free(path);
	return rc;
}

int lsec_cred_label_remove(const char *path, lsec_err *err)
{
	int rc = 0;
	bool gone = false;
	/* Never waits on what the name holds (a FIFO), never follows a link. */
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	LSEC_ENSURE(fd >= 0, LSEC_E_IO, "cannot open label '%s' to remove it: %s", path,
		    strerror(errno));
	LSEC_TRY(lsec_file_destroy_held(&gone, fd, path, false, err));
	LSEC_ENSURE(!gone, LSEC_E_IO, "cannot remove label '%s': it was moved while being removed",
		    path);
out:
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}
