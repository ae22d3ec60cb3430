/*
 * linesec/util.h - the low-level toolkit every module builds on.
 *
 * Invariants:
 *  - A fallible function returns 0 or a negative LSEC_E_* code and fills the
 *    caller-owned lsec_err with a one-line message naming the file, field or
 *    unit and what was expected. There is no global error state.
 *  - All allocation goes through lsec_malloc/lsec_free (a test hook can make
 *    the Nth allocation fail).
 *  - lsec_buf is the only growable buffer; it always has a maximum size and is
 *    wiped before its memory is released.
 *  - lsec_secret holds key and credential material: locked in memory where the
 *    OS allows, excluded from core dumps, wiped on free.
 *
 * Idiom:
 *     int f(lsec_thing **out, const char *path, lsec_err *err)
 *     {
 *         int rc = 0;
 *         lsec_buf b = LSEC_BUF_INIT(1 << 20);
 *         *out = NULL;
 *         LSEC_TRY(lsec_file_read(&b, path, err));
 *         LSEC_ENSURE(b.len >= 4, LSEC_E_PARSE, "cannot read '%s': too short", path);
 *     out:
 *         lsec_buf_release(&b);
 *         return rc;
 *     }
 */
#ifndef LINESEC_UTIL_H
#define LINESEC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LSEC_API __attribute__((visibility("default")))
#define LSEC_MUST_USE __attribute__((warn_unused_result))
#define LSEC_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define LSEC_VERSION_STRING "0.1.0"

/* ---- errors ---------------------------------------------------------- */

typedef enum lsec_category {
	LSEC_CAT_NONE = 0,
	LSEC_CAT_IO,
	LSEC_CAT_PARSE,
	LSEC_CAT_CRYPTO,
	LSEC_CAT_POLICY,
	LSEC_CAT_STATE,
	LSEC_CAT_USAGE,
	LSEC_CAT_INTERNAL
} lsec_category;

/*
 * Error codes. General codes are -1..-99; each module owns a range of its
 * own for failures a caller must tell apart (image: -100..-149, device:
 * -150..-199, store: -200..-249, audit: -250..-299, pki: -300..-349,
 * sop: -350..-399, station: -400..-449). Within a module's block of 50
 * the offset from its start gives the category: 0-19 parse, 20-29 crypto,
 * 30-39 policy, 40-49 state. The CLI maps every code to a documented exit
 * status (README.md).
 */
enum {
	LSEC_OK = 0,
	LSEC_E_USAGE = -1,    /* bad argument or command line */
	LSEC_E_NOMEM = -2,    /* allocation failed */
	LSEC_E_IO = -3,       /* file or device I/O failed */
	LSEC_E_PARSE = -4,    /* malformed input */
	LSEC_E_CRYPTO = -5,   /* a cryptographic operation failed */
	LSEC_E_NOTFOUND = -6, /* the named thing does not exist */
	LSEC_E_EXISTS = -7,   /* uniqueness violated: the value is already held */
	LSEC_E_POLICY = -8,   /* refused by policy */
	LSEC_E_STATE = -9,    /* not allowed in the current state */
	LSEC_E_AUTH = -10,    /* not authenticated or not authorised */
	LSEC_E_DEVICE = -11,  /* the device failed or refused */
	LSEC_E_LIMIT = -12,   /* a size or count limit was exceeded */
	LSEC_E_INTERNAL = -13 /* a bug: a broken invariant */
};

/* Size of an error message buffer; buffers that keep a copy of one use it. */
#define LSEC_ERR_MSG_MAX 1024

typedef struct lsec_err {
	int code;
	lsec_category category;
	char msg[LSEC_ERR_MSG_MAX]; /* a longer message ends in "..." */
	const char *file; /* source location that raised it (debugging) */
	int line;
} lsec_err;

#define LSEC_ERR_INIT {0, LSEC_CAT_NONE, {0}, NULL, 0}

/* Category of a code; modules register their ranges here. */
LSEC_API lsec_category lsec_code_category(int code);
/* Short stable name of a code ("io", "image-bad-signature", ...). */
LSEC_API const char *lsec_code_name(int code);
/* Name of a category ("io", "parse", ...). */
LSEC_API const char *lsec_category_name(lsec_category cat);

/* Sets err (if not NULL) and returns code. */
LSEC_API int lsec_err_set(lsec_err *err, int code, const char *file, int line,
			  const char *fmt, ...) LSEC_PRINTF(5, 6);
LSEC_API int lsec_err_setv(lsec_err *err, int code, const char *file, int line,
			   const char *fmt, va_list ap) LSEC_PRINTF(5, 0);
/*
 * Sets err from OpenSSL's error queue: "<what>: <openssl reason>", then
 * clears the queue. Returns code.
 */
LSEC_API int lsec_err_ossl(lsec_err *err, int code, const char *file, int line,
			   const char *fmt, ...) LSEC_PRINTF(5, 6);
LSEC_API void lsec_err_clear(lsec_err *err);

/*
 * Guards. They expect `int rc` and `lsec_err *err` in scope and an `out:`
 * label that releases everything.
 */
#define LSEC_TRY(expr)                                                         \
	do {                                                                   \
		if ((rc = (expr)) < 0)                                         \
			goto out;                                              \
	} while (0)
#define LSEC_BAIL(code, ...)                                                   \
	do {                                                                   \
		rc = lsec_err_set(err, (code), __FILE__, __LINE__, __VA_ARGS__); \
		goto out;                                                      \
	} while (0)
#define LSEC_ENSURE(cond, code, ...)                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			LSEC_BAIL((code), __VA_ARGS__);                        \
	} while (0)
#define LSEC_ENSURE_REF(p)                                                     \
	LSEC_ENSURE((p) != NULL, LSEC_E_USAGE, "missing argument '%s'", #p)
/* OpenSSL calls return 1 (or a positive count/pointer) on success. */
#define LSEC_TRY_OSSL(call, code, ...)                                         \
	do {                                                                   \
		if ((call) <= 0) {                                             \
			rc = lsec_err_ossl(err, (code), __FILE__, __LINE__,    \
					   __VA_ARGS__);                       \
			goto out;                                              \
		}                                                              \
	} while (0)
#define LSEC_TRY_OSSL_PTR(ptr, code, ...)                                      \
	do {                                                                   \
		if ((ptr) == NULL) {                                           \
			rc = lsec_err_ossl(err, (code), __FILE__, __LINE__,    \
					   __VA_ARGS__);                       \
			goto out;                                              \
		}                                                              \
	} while (0)
#define LSEC_BUG(...) LSEC_BAIL(LSEC_E_INTERNAL, "internal error: " __VA_ARGS__)

/* ---- memory ---------------------------------------------------------- */

LSEC_API void *lsec_malloc(size_t n);
LSEC_API void *lsec_calloc(size_t nmemb, size_t size);
LSEC_API void *lsec_realloc(void *p, size_t n);
LSEC_API void lsec_free(void *p);
LSEC_API char *lsec_strdup(const char *s);
/* Allocating printf; NULL when out of memory. Free with lsec_free. */
LSEC_API char *lsec_asprintf(const char *fmt, ...) LSEC_PRINTF(1, 2);
/* Wipes n bytes (OPENSSL_cleanse: not optimised away). */
LSEC_API void lsec_wipe(void *p, size_t n);
/*
 * Test hook: the nth allocation from now (1-based) and every one after it
 * fails; 0 turns failures off.
 */
LSEC_API void lsec_alloc_fail_after(unsigned long n);

/* ---- bounded buffer -------------------------------------------------- */

typedef struct lsec_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* the buffer never grows past this; required */
} lsec_buf;

#define LSEC_BUF_INIT(maxlen) {NULL, 0, 0, (maxlen)}

LSEC_API void lsec_buf_init(lsec_buf *b, size_t max);
/* Wipes and frees the storage; the buffer can be reused (empty). */
LSEC_API void lsec_buf_release(lsec_buf *b);
/* Wipes the contents and sets len to 0, keeping the storage. */
LSEC_API void lsec_buf_reset(lsec_buf *b);
LSEC_API LSEC_MUST_USE int lsec_buf_reserve(lsec_buf *b, size_t extra, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_buf_append(lsec_buf *b, const void *p, size_t n, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_buf_append_u8(lsec_buf *b, uint8_t v, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_buf_append_u16le(lsec_buf *b, uint16_t v, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_buf_append_u32le(lsec_buf *b, uint32_t v, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_buf_append_str(lsec_buf *b, const char *s, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_buf_printf(lsec_buf *b, lsec_err *err, const char *fmt, ...)
	LSEC_PRINTF(3, 4);
/* Ensures a NUL after the contents (not counted in len); returns the data as a string. */
LSEC_API const char *lsec_buf_cstr(lsec_buf *b, lsec_err *err);

/* ---- bounds-checked reader ------------------------------------------- */

/* A cursor over untrusted bytes: every read checks the remaining length. */
typedef struct lsec_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
} lsec_reader;

LSEC_API void lsec_reader_init(lsec_reader *r, const uint8_t *data, size_t len);
LSEC_API size_t lsec_reader_left(const lsec_reader *r);
/* Each returns false (and leaves off unchanged) if fewer bytes remain. */
LSEC_API bool lsec_reader_u8(lsec_reader *r, uint8_t *v);
LSEC_API bool lsec_reader_u16le(lsec_reader *r, uint16_t *v);
LSEC_API bool lsec_reader_u32le(lsec_reader *r, uint32_t *v);
LSEC_API bool lsec_reader_u16be(lsec_reader *r, uint16_t *v);
LSEC_API bool lsec_reader_u32be(lsec_reader *r, uint32_t *v);
/* Borrows n bytes in place (*p points into the reader's data). */
LSEC_API bool lsec_reader_bytes(lsec_reader *r, const uint8_t **p, size_t n);
LSEC_API bool lsec_reader_skip(lsec_reader *r, size_t n);

/* Little-endian stores for writers. */
LSEC_API void lsec_put_u16le(uint8_t *p, uint16_t v);
LSEC_API void lsec_put_u32le(uint8_t *p, uint32_t v);
LSEC_API uint16_t lsec_get_u16le(const uint8_t *p);
LSEC_API uint32_t lsec_get_u32le(const uint8_t *p);

/* ---- secrets --------------------------------------------------------- */

/*
 * Key and credential material. Allocated on its own pages, mlock()ed where
 * the OS allows, excluded from core dumps, and wiped before it is freed.
 */
typedef struct lsec_secret lsec_secret;

/* A zero-filled secret of len bytes (len > 0). */
LSEC_API LSEC_MUST_USE int lsec_secret_new(lsec_secret **out, size_t len, lsec_err *err);
/* A copy of p[0..len). The caller still wipes its own copy. */
LSEC_API LSEC_MUST_USE int lsec_secret_from(lsec_secret **out, const void *p, size_t len,
					    lsec_err *err);
LSEC_API uint8_t *lsec_secret_data(lsec_secret *s);
LSEC_API const uint8_t *lsec_secret_cdata(const lsec_secret *s);
LSEC_API size_t lsec_secret_len(const lsec_secret *s);
/* Constant-time equality of contents (lengths are not secret). */
LSEC_API bool lsec_secret_equal(const lsec_secret *a, const lsec_secret *b);
/* Wipes and frees; NULL is a no-op. */
LSEC_API void lsec_secret_free(lsec_secret *s);

/* Constant-time comparison of two equal-length byte strings (CRYPTO_memcmp). */
LSEC_API bool lsec_ct_equal(const void *a, const void *b, size_t n);

/* Fills p with n bytes from the OS CSPRNG (through OpenSSL's RAND_bytes). */
LSEC_API LSEC_MUST_USE int lsec_random(void *p, size_t n, lsec_err *err);

/* ---- hex and base64 -------------------------------------------------- */

/* Writes 2n lowercase hex digits and a NUL to out (capacity 2n+1). */
LSEC_API void lsec_hex_encode(char *out, const uint8_t *in, size_t n);
/* Allocating variant; NULL when out of memory. Free with lsec_free. */
LSEC_API char *lsec_hex_alloc(const uint8_t *in, size_t n);
/*
 * Decodes hex (upper or lower case, even length) into out; what names the
 * field in the error message.
 */
LSEC_API LSEC_MUST_USE int lsec_hex_decode(lsec_buf *out, const char *hex, size_t hexlen,
					   const char *what, lsec_err *err);
/* Decodes exactly n bytes of hex into out. */
LSEC_API LSEC_MUST_USE int lsec_hex_decode_fixed(uint8_t *out, size_t n, const char *hex,
						 const char *what, lsec_err *err);
/* Standard base64 with padding, no line breaks. *out is freed with lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_base64_encode(char **out, const uint8_t *in, size_t n,
					      lsec_err *err);
/* Strict standard base64 (padding required, no whitespace). */
LSEC_API LSEC_MUST_USE int lsec_base64_decode(lsec_buf *out, const char *b64, size_t len,
					      const char *what, lsec_err *err);

/* ---- files ----------------------------------------------------------- */

/* Reads a whole file into out (which must be empty); fails past out->max. */
LSEC_API LSEC_MUST_USE int lsec_file_read(lsec_buf *out, const char *path, lsec_err *err);
/*
 * Replaces path atomically and durably: writes a temporary file in the same
 * folder with the given mode, fsyncs it, renames it over path and fsyncs
 * the folder. Either the old or the new contents survive a crash.
 */
LSEC_API LSEC_MUST_USE int lsec_file_write_atomic(const char *path, const void *data, size_t len,
						  unsigned mode, lsec_err *err);
/*
 * As lsec_file_write_atomic without the syncs: a crash of the process
 * leaves the old or the new contents (the kernel keeps what was written),
 * a crash of the machine may leave the old. For files a power loss of this
 * machine may take back, such as the simulated unit's memory (docs/device.md,
 * "Persistence").
 */
LSEC_API LSEC_MUST_USE int lsec_file_write_atomic_unsynced(const char *path, const void *data,
							   size_t len, unsigned mode,
							   lsec_err *err);
/* Creates a new file (fails if it exists) with the given mode, durably. */
LSEC_API LSEC_MUST_USE int lsec_file_write_new(const char *path, const void *data, size_t len,
					       unsigned mode, lsec_err *err);
/*
 * Publishes a new file (fails with LSEC_E_EXISTS if path exists) that a
 * reader polling the folder only ever sees complete: written and synced as
 * an unnamed file in the folder (O_TMPFILE), then linked as path; where the
 * file system has no unnamed files, under the hidden name ".<name>.part"
 * beside it. The file is held with a shared flock from its creation on;
 * *fd_out (close it) keeps holding it, so a sweep taking LOCK_EX | LOCK_NB
 * leaves it alone. On failure nothing of data stays under either name.
 */
LSEC_API LSEC_MUST_USE int lsec_file_publish_held(int *fd_out, const char *path, const void *data,
						  size_t len, unsigned mode, lsec_err *err);
/*
 * Whether path names (without following a link) the very file open as fd:
 * 1 it does, 0 it names nothing or another file, -1 no telling (a lookup
 * failed otherwise than with ENOENT; errno says why).
 */
LSEC_API int lsec_file_names_fd(const char *path, int fd);
/*
 * Destroys the regular file open (writable) as fd, which path named: when
 * path still names that very file, it is overwritten with zeros through fd,
 * synced and removed; when path names nothing or another file, the file was
 * taken (moved or removed by a reader): *gone is set and nothing is touched,
 * so a file planted under the name afterwards is never overwritten. failed:
 * the file is zeroed through fd even when taken (a failure: nobody may use
 * it). When no lookup can tell what path names, the file is zeroed, its
 * name left, and LSEC_E_IO says so.
 */
LSEC_API LSEC_MUST_USE int lsec_file_destroy_held(bool *gone, int fd, const char *path,
						  bool failed, lsec_err *err);
/* Creates a directory and its parents (mode for the ones created). */
LSEC_API LSEC_MUST_USE int lsec_mkdir_p(const char *path, unsigned mode, lsec_err *err);
/* SHA-256 of a byte string. */
LSEC_API LSEC_MUST_USE int lsec_sha256(uint8_t out[32], const void *data, size_t len,
				       lsec_err *err);

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */
/*
 * Signs msg with an OpenSSL key in one shot and appends the signature to
 * sig. digest names the hash ("SHA256": ECDSA, DER signature out), or is
 * NULL for a scheme that signs the message whole (Ed25519). what starts
 * every error message ("cannot sign challenge"). The key is not changed.
 * Fails with LSEC_E_CRYPTO (wrong key or digest for the scheme),
 * LSEC_E_NOMEM, or LSEC_E_LIMIT when sig's max is reached; sig keeps
 * what it held before on failure.
 * @test tests/unit/util/test_sign.c
 */
LSEC_API LSEC_MUST_USE int lsec_evp_sign(lsec_buf *sig, const struct evp_pkey_st *key,
					 const char *digest, const uint8_t *msg, size_t len,
					 const char *what, lsec_err *err);
/*
 * Checks sig over msg under key, with digest as for lsec_evp_sign. A
 * signature that does not verify is not an error: *ok says whether it
 * does, and the caller reports a mismatch with its own code. Fails
 * (*ok false) with LSEC_E_CRYPTO when the key cannot verify with that
 * digest, or LSEC_E_NOMEM; what starts the message.
 * @test tests/unit/util/test_sign.c
 */
LSEC_API LSEC_MUST_USE int lsec_evp_verify(bool *ok, const struct evp_pkey_st *key,
					   const char *digest, const uint8_t *msg, size_t len,
					   const uint8_t *sig, size_t siglen, const char *what,
					   lsec_err *err);

/* ---- who acts --------------------------------------------------------- */

/*
 * Who acts in a recorded change (SOP submission and approval, issuing,
 * revocation, credentials): a person the caller has already authenticated,
 * and the station they act at. Every audit leaf of the change names both.
 * The strings are borrowed for the duration of the call.
 */
typedef struct lsec_actor {
	const char *person;  /* required */
	const char *station; /* NULL when not at a station */
} lsec_actor;

/* ---- names and text -------------------------------------------------- */

/*
 * The one parser from a name to an enum: finds value in names[0..count)
 * and sets *out to its index (NULL entries are holes and never match; a
 * NULL value matches nothing). Every lsec_*_parse of a named enum goes
 * through it, so all fail alike: LSEC_E_USAGE with the message
 * "unknown <what> '<value>': expected one of a, b, c". A caller reading a
 * file puts its own location (FILE:LINE:COLUMN) in front of that message;
 * it does not parse again. *out is 0 on failure.
 */
LSEC_API LSEC_MUST_USE int lsec_name_lookup(size_t *out, const char *const *names, size_t count,
					    const char *value, const char *what, lsec_err *err);
/*
 * Writes the names of names[0..count) (NULL entries skipped) as "a, b, c"
 * into buf (cap bytes, truncated to fit) and returns buf: the list of
 * accepted values as lsec_name_lookup writes it.
 */
LSEC_API const char *lsec_name_list(char *buf, size_t cap, const char *const *names,
				    size_t count);
/*
 * The one grammar of identifiers: unit serials, products, people, stations,
 * lines. An identifier names files (labels, sessions), certificate subjects
 * and registry rows, so it is plain: a letter or digit, then letters,
 * digits, '.', '_' or '-', at most LSEC_IDENT_MAX bytes in all.
 */
#define LSEC_IDENT_MAX 64
#define LSEC_IDENT_GRAMMAR "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
/*
 * Checks v against LSEC_IDENT_GRAMMAR. Fails with LSEC_E_USAGE and the
 * message "<what> '<value>' is not an identifier: expected
 * [A-Za-z0-9][A-Za-z0-9._-]{0,63}" (the value escaped as by
 * lsec_text_escape and cut after 80 bytes, its length then given), or
 * "missing <what>" for NULL or "". Every place an identifier enters the
 * library (command line, line.yaml, SOP files, the simulator's fleet, the
 * registry where a value becomes a file name or a certificate) calls it.
 * @test tests/unit/util/test_names.c
 */
LSEC_API LSEC_MUST_USE int lsec_ident_check(const char *v, const char *what, lsec_err *err);
/* Whether v matches LSEC_IDENT_GRAMMAR (no message). */
LSEC_API bool lsec_ident_ok(const char *v);
/*
 * Writes s[0..len) into out (cap bytes, always NUL-terminated, cut to fit)
 * so that it cannot drive a terminal: each control byte (below 0x20, 0x7f
 * and the C1 controls U+0080..U+009F) and each byte that is not valid
 * UTF-8 becomes an escape ("\n", "\t", "\x1b"); printable UTF-8 is kept.
 * Escaping escaped text changes nothing, so a message that holds an
 * escaped value may be escaped again. Returns out. The command line prints
 * every message and every listed value through it.
 * @test tests/unit/util/test_names.c
 */
LSEC_API const char *lsec_text_escape(char *out, size_t cap, const char *s, size_t len);
/*
 * Offset of the first byte of s[0..len) that does not start a valid UTF-8
 * sequence (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF),
 * or len when all of it is valid.
 */
LSEC_API size_t lsec_utf8_invalid_at(const uint8_t *s, size_t len);
/* Where a text is refused, and why (a phrase: "a tab character (...)"). */
typedef struct lsec_text_fault {
	const char *why; /* NULL when the text is accepted */
	size_t offset;	 /* byte offset of the refused byte */
	size_t line;	 /* 1-based */
	size_t column;	 /* 1-based, in characters */
} lsec_text_fault;
/*
 * Checks s[0..len) before it is handed to the YAML parser: UTF-8 text
 * without NUL bytes, tabs, YAML directives or runs of four single quotes.
 * Returns true when accepted; otherwise fills out with the first refused
 * byte. Every YAML file linesec reads passes through it.
 */
LSEC_API bool lsec_yaml_text_check(lsec_text_fault *out, const uint8_t *s, size_t len);

/* ---- time ------------------------------------------------------------ */

/* Current UTC time as RFC 3339 with seconds ("2026-11-25T04:05:38Z"). */
LSEC_API void lsec_time_utc(char out[32]);
/* Formats a Unix time the same way. */
LSEC_API void lsec_time_format(char out[32], int64_t unix_seconds);
/* Monotonic milliseconds, for durations. */
LSEC_API uint64_t lsec_time_mono_ms(void);

/* ---- JSON (jansson) -------------------------------------------------- */

struct json_t;
/*
 * Canonical JSON: object keys sorted, no insignificant whitespace, UTF-8.
 * The same value always gives the same bytes, so a hash over it is stable.
 * *out is freed with lsec_free.
 */
LSEC_API LSEC_MUST_USE int lsec_json_canonical(char **out, const struct json_t *j, lsec_err *err);
/*
 * Builders that take ownership of v (also on failure) and fail with
 * LSEC_E_NOMEM naming the key when v is NULL (a failed json_* constructor)
 * or the container could not take it, so a JSON document is either built
 * whole or not at all: one way for every module.
 */
LSEC_API LSEC_MUST_USE int lsec_json_set(struct json_t *obj, const char *key, struct json_t *v,
					 lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_json_append(struct json_t *arr, struct json_t *v, lsec_err *err);
/* Prints canonical JSON and a newline; for the CLI's --json output. */
LSEC_API LSEC_MUST_USE int lsec_json_print(FILE *f, const struct json_t *j, lsec_err *err);
/* Parses JSON text (what names the source in errors). */
LSEC_API LSEC_MUST_USE int lsec_json_parse(struct json_t **out, const char *text, size_t len,
					   const char *what, lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
