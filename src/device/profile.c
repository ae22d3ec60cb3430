/*
 * profile.c - device profiles (docs/device-profiles.md): the YAML that
 * says how a chip family's device operations are done over a debug probe.
 * Parses with libfyaml, checks every field (unknown keys, missing fields,
 * numbers, placeholders, fuse layout), and answers the probe backend's
 * questions: the steps of an operation, where a fuse lives, a monitor
 * command with its placeholders filled, whether the chip is the product's.
 */
#include "device/profile_int.h"

#include <dirent.h>
#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Placeholders an operation offers. */
enum {
	P_ADDR = 1u << 0,
	P_LEN = 1u << 1,
	P_WORD = 1u << 2,
	P_N = 1u << 3,
	P_BITS = 1u << 4,
	P_SLOT = 1u << 5,
	P_HEX = 1u << 6,
	P_WADDR = 1u << 7,
};
static const char *const param_names[] = {"addr", "len",  "word", "n",
					  "bits", "slot", "hex",  "word-address"};
#define NPARAMS (sizeof(param_names) / sizeof(param_names[0]))

/* What an operation is: its field, placeholders, and whether it gives a result. */
typedef struct opdef {
	const char *field;
	unsigned params;
	bool result;
} opdef;

static const opdef opdefs[LSEC_PROFILE_OP_COUNT] = {
	[LSEC_PROFILE_OP_FAMILY_READ] = {"family.read", 0, true},
	[LSEC_PROFILE_OP_REVISION_READ] = {"revision.read", 0, true},
	[LSEC_PROFILE_OP_UID_READ] = {"uid.read", 0, true},
	[LSEC_PROFILE_OP_ATTACH] = {"attach", 0, false},
	[LSEC_PROFILE_OP_RESET] = {"reset", 0, false},
	[LSEC_PROFILE_OP_FLASH_ERASE] = {"flash.erase", P_ADDR | P_LEN, false},
	[LSEC_PROFILE_OP_FLASH_WRITE] = {"flash.write", P_ADDR | P_LEN | P_HEX, false},
	[LSEC_PROFILE_OP_FLASH_HASH] = {"flash.hash", P_ADDR | P_LEN, true},
	[LSEC_PROFILE_OP_OTP_READ] = {"otp.read", P_WORD | P_N | P_WADDR, true},
	[LSEC_PROFILE_OP_OTP_BURN] = {"otp.burn", P_WORD | P_BITS | P_WADDR, false},
	[LSEC_PROFILE_OP_OTP_LOCK] = {"otp.lock", P_WORD | P_WADDR, false},
	[LSEC_PROFILE_OP_OTP_LOCKED] = {"otp.locked", P_WORD | P_WADDR, true},
	[LSEC_PROFILE_OP_DEBUG_LOCK_READ] = {"debug-lock.read", 0, true},
	[LSEC_PROFILE_OP_DEBUG_LOCK_SET1] = {"debug-lock.set.1", 0, false},
	[LSEC_PROFILE_OP_DEBUG_LOCK_SET2] = {"debug-lock.set.2", 0, false},
	[LSEC_PROFILE_OP_KEY_GENERATE] = {"keystore.generate", P_SLOT, false},
	[LSEC_PROFILE_OP_KEY_INJECT] = {"keystore.inject", P_SLOT | P_HEX, false},
	[LSEC_PROFILE_OP_KEY_PUBLIC] = {"keystore.public", P_SLOT, true},
	[LSEC_PROFILE_OP_KEY_SIGN] = {"keystore.sign", P_SLOT | P_HEX, true},
	[LSEC_PROFILE_OP_KEY_STATUS] = {"keystore.status", P_SLOT, true},
	[LSEC_PROFILE_OP_CERT_STORE] = {"keystore.cert-store", P_SLOT | P_HEX, false},
	[LSEC_PROFILE_OP_CERT_READ] = {"keystore.cert-read", P_SLOT, true},
	[LSEC_PROFILE_OP_CREDENTIAL_STORE] = {"keystore.credential-store", P_HEX, false},
	[LSEC_PROFILE_OP_ERASE_ALL] = {"erase.all", 0, false},
	[LSEC_PROFILE_OP_ERASE_CHALLENGE] = {"erase.challenge", 0, true},
	[LSEC_PROFILE_OP_ERASE_AUTH] = {"erase.authenticated", P_HEX, false},
	[LSEC_PROFILE_OP_COMMIT] = {"commit", 0, false},
};

/* The named fuses as a profile spells them (lsec_device_fuse_name). */
static const char *const fuse_keys[LSEC_FUSE_COUNT] = {
	"SECURE_BOOT_KEY_DIGEST", "SECURE_BOOT_EN",   "SECURE_VERSION",       "DEBUG_LOCK",
	"UART_CONSOLE_DIS",       "OTP_LOCK",         "DEBUG_AUTH_KEY_DIGEST",
};

enum { SEQ_ABSENT = 0, SEQ_UNSUPPORTED, SEQ_STEPS };

typedef struct seq {
	int state;
	lsec_device_profile_step *steps;
	size_t n;
} seq;

/* family.values / revision.values: what a read gives (text) and its label. */
typedef struct valmap {
	char **keys;
	char **labels;
	size_t n;
	bool supported;
} valmap;

struct lsec_device_profile {
	char *file, *name, *description, *family;
	const char *protocol;
	bool tested;
	lsec_device_profile_layout lay;
	seq ops[LSEC_PROFILE_OP_COUNT];
	bool fuse_ok[LSEC_FUSE_COUNT];
	lsec_device_fuse_field fuses[LSEC_FUSE_COUNT];
	valmap values[2];
	char **warnings;
	size_t nwarnings;
	void **owned; /* everything else allocated for the profile */
	size_t nowned, capowned;
};

typedef struct pctx {
	lsec_device_profile *p;
	const char *file;
	lsec_err *err;
	unsigned params; /* of the operation being read */
	bool result;
} pctx;

/* ---- memory --------------------------------------------------------------- */

static void *own(lsec_device_profile *p, void *ptr)
{
	if (ptr == NULL) {
		return NULL;
	}
	if (p->nowned == p->capowned) {
		size_t cap = p->capowned ? 2 * p->capowned : 32;
		void **n = lsec_calloc(cap, sizeof(*n));
		if (n == NULL) {
			lsec_free(ptr);
			return NULL;
		}
		if (p->nowned > 0) {
			memcpy(n, p->owned, p->nowned * sizeof(*n));
		}
		lsec_free(p->owned);
		p->owned = n;
		p->capowned = cap;
	}
	p->owned[p->nowned++] = ptr;
	return ptr;
}

void lsec_device_profile_free(lsec_device_profile *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->nowned; i++) {
		lsec_free(p->owned[i]);
	}
	lsec_free(p->owned);
	lsec_free(p);
}

/* ---- errors and locations ------------------------------------------------ */

/* Where a node starts (its first scalar): "line L, column C: ", or "". */
static void node_where(char *out, size_t cap, struct fy_node *n)
{
	for (int depth = 0; n != NULL && depth < 64 && !fy_node_is_scalar(n); depth++) {
		if (fy_node_is_mapping(n)) {
			void *it = NULL;
			struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
			n = pair != NULL ? fy_node_pair_key(pair) : NULL;
		} else if (fy_node_is_sequence(n)) {
			n = fy_node_sequence_get_by_index(n, 0);
		} else {
			n = NULL;
		}
	}
	struct fy_token *t = n != NULL && fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t != NULL ? fy_token_start_mark(t) : NULL;
	if (m != NULL) {
		snprintf(out, cap, "line %d, column %d: ", m->line + 1, m->column + 1);
	} else if (cap > 0) {
		out[0] = '\0';
	}
}

static int line_of(struct fy_node *n)
{
	char at[64];
	node_where(at, sizeof(at), n);
	return strncmp(at, "line ", 5) == 0 ? (int)strtol(at + 5, NULL, 10) : 0;
}

/* LSEC_E_PARSE "cannot read 'FILE': line L, column C: FIELD: message". */
static int perr(pctx *c, struct fy_node *at_node, const char *field, const char *fmt, ...)
	LSEC_PRINTF(4, 5);
static int perr(pctx *c, struct fy_node *at_node, const char *field, const char *fmt, ...)
{
	char at[64], msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	node_where(at, sizeof(at), at_node);
	return lsec_err_set(c->err, LSEC_E_PARSE, __FILE__, __LINE__, "cannot read '%s': %s%s: %s",
			    c->file, at, field, msg);
}

static int nomem(pctx *c)
{
	return lsec_err_set(c->err, LSEC_E_NOMEM, __FILE__, __LINE__, "cannot read '%s': out of memory",
			    c->file);
}

/* ---- YAML access ------------------------------------------------------------ */

/* The value of key in map (and the key node into *key_out), or NULL. */
static struct fy_node *get(struct fy_node *map, const char *key, struct fy_node **key_out)
{
	void *it = NULL;
	struct fy_node_pair *pair;
	size_t klen = strlen(key);
	if (key_out != NULL) {
		*key_out = NULL;
	}
	if (map == NULL || !fy_node_is_mapping(map)) {
		return NULL;
	}
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(pair);
		size_t len = 0;
		const char *text = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
		if (text != NULL && len == klen && memcmp(text, key, klen) == 0) {
			if (key_out != NULL) {
				*key_out = k;
			}
			return fy_node_pair_value(pair);
		}
	}
	return NULL;
}

/* Every key of map is one of allowed (NULL-terminated), each at most once. */
static int check_keys(pctx *c, struct fy_node *map, const char *field, const char *const *allowed)
{
	int rc = 0;
	void *it = NULL;
	struct fy_node_pair *pair;
	size_t na = 0;
	char list[400];
	while (allowed[na] != NULL) {
		na++;
	}
	bool seen[32] = {false};
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(pair);
		size_t len = 0;
		const char *key = k != NULL && fy_node_is_scalar(k) && !fy_node_is_alias(k)
					  ? fy_node_get_scalar(k, &len)
					  : NULL;
		if (key == NULL) {
			return perr(c, k != NULL ? k : map, field, "a key is not plain text");
		}
		size_t i = 0;
		while (i < na && !(strlen(allowed[i]) == len && memcmp(allowed[i], key, len) == 0)) {
			i++;
		}
		if (i == na) {
			return perr(c, k, field, "unknown key '%.*s': expected %s",
				    (int)(len > 40 ? 40 : len), key,
				    na > 0 ? lsec_name_list(list, sizeof(list), allowed, na) : "no keys");
		}
		if (i < 32 && seen[i]) {
			return perr(c, k, field, "key '%s' given twice", allowed[i]);
		}
		if (i < 32) {
			seen[i] = true;
		}
	}
	return rc;
}

/* A plain scalar's text, or NULL (aliases and collections are not). */
static const char *scalar(struct fy_node *n)
{
	if (n == NULL || !fy_node_is_scalar(n) || fy_node_is_alias(n)) {
		return NULL;
	}
	return fy_node_get_scalar0(n);
}

static bool is_unsupported(struct fy_node *n)
{
	const char *s = scalar(n);
	return s != NULL && strcmp(s, "unsupported") == 0;
}

/* A mapping, or refused: field must be a mapping (or `unsupported` when it may be). */
static int need_map(pctx *c, struct fy_node *n, struct fy_node *key, const char *field,
		    const char *what)
{
	if (n == NULL || !fy_node_is_mapping(n)) {
		return perr(c, n != NULL ? n : key, field, "must be %s", what);
	}
	return 0;
}

/* Parses decimal or 0x hex into a 32-bit number. */
static bool parse_u32(uint32_t *out, const char *s)
{
	if (s == NULL || s[0] < '0' || s[0] > '9') {
		return false;
	}
	int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
	const char *digits = base == 16 ? s + 2 : s;
	/* Digits only: strtoull alone would take a sign, spaces or a second 0x. */
	size_t ndigits = strspn(digits, base == 16 ? "0123456789abcdefABCDEF" : "0123456789");
	if (ndigits == 0 || digits[ndigits] != '\0') {
		return false;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(digits, &end, base);
	if (errno != 0 || end == NULL || *end != '\0' || v > 0xffffffffull) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static int number(pctx *c, uint32_t *out, struct fy_node *n, struct fy_node *key,
		  const char *field, uint32_t min, uint32_t max)
{
	const char *s = scalar(n);
	uint32_t v = 0;
	if (!parse_u32(&v, s) || v < min || v > max) {
		return perr(c, n != NULL ? n : key, field,
			    "'%s' is not a number %lu..%lu (decimal or 0x hex)",
			    s != NULL ? s : "(not a single value)", (unsigned long)min,
			    (unsigned long)max);
	}
	*out = v;
	return 0;
}

/* A required field's node: refused when absent. */
static int required(struct fy_node **out, pctx *c, struct fy_node *map, struct fy_node *map_key,
		    const char *key, const char *field)
{
	*out = get(map, key, NULL);
	if (*out == NULL) {
		return perr(c, map_key != NULL ? map_key : map, field, "missing required field '%s'",
			    key);
	}
	return 0;
}

static int text(pctx *c, char **out, struct fy_node *n, const char *field, size_t maxlen)
{
	const char *s = scalar(n);
	if (s == NULL || s[0] == '\0' || strlen(s) > maxlen) {
		return perr(c, n, field, "must be text of 1..%zu characters", maxlen);
	}
	*out = own(c->p, lsec_strdup(s));
	return *out == NULL ? nomem(c) : 0;
}

/* text() into a const field. */
static int ctext(pctx *c, const char **out, struct fy_node *n, const char *field, size_t maxlen)
{
	char *t = NULL;
	int rc = text(c, &t, n, field, maxlen);
	*out = t;
	return rc;
}

/* An identifier (lsec_ident_check), refused at its line. */
static int ident(pctx *c, struct fy_node *n, const char *field, const char *v)
{
	lsec_err e = LSEC_ERR_INIT;
	if (lsec_ident_check(v, field, &e) < 0) {
		return perr(c, n, field, "%s", e.msg);
	}
	return 0;
}

/* ---- placeholders ------------------------------------------------------------ */

static int param_index(const char *name, size_t len)
{
	for (size_t i = 0; i < NPARAMS; i++) {
		if (strlen(param_names[i]) == len && memcmp(param_names[i], name, len) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static void offered(char *out, size_t cap, unsigned params)
{
	const char *names[NPARAMS];
	size_t n = 0;
	for (size_t i = 0; i < NPARAMS; i++) {
		if (params & (1u << i)) {
			names[n++] = param_names[i];
		}
	}
	if (n == 0) {
		snprintf(out, cap, "none");
	} else {
		lsec_name_list(out, cap, names, n);
	}
}

static int check_param(pctx *c, struct fy_node *n, const char *field, const char *name,
		       size_t len)
{
	int i = param_index(name, len);
	char list[200];
	if (i < 0 || !(c->params & (1u << i))) {
		offered(list, sizeof(list), c->params);
		return perr(c, n, field, "placeholder '{%.*s}' is not offered here (offered: %s)",
			    (int)(len > 40 ? 40 : len), name, list);
	}
	if ((1u << i) == P_WADDR && !c->p->lay.otp_memory) {
		return perr(c, n, field, "placeholder '{word-address}' needs otp.base");
	}
	return 0;
}

static int check_template(pctx *c, struct fy_node *n, const char *field, const char *t)
{
	for (const char *s = t; *s != '\0'; s++) {
		if (*s == '}') {
			return perr(c, n, field, "'}' without '{' in \"%s\"", t);
		}
		if (*s != '{') {
			continue;
		}
		const char *e = strchr(s, '}');
		if (e == NULL) {
			return perr(c, n, field, "'{' without '}' in \"%s\"", t);
		}
		int rc = check_param(c, n, field, s + 1, (size_t)(e - s - 1));
		if (rc != 0) {
			return rc;
		}
		s = e;
	}
	return 0;
}

/* A step value: a number or "{placeholder}". */
static int value(pctx *c, lsec_device_profile_value *out, struct fy_node *n, struct fy_node *key,
		 const char *field)
{
	const char *s = scalar(n);
	size_t len = s != NULL ? strlen(s) : 0;
	if (len > 2 && s[0] == '{' && s[len - 1] == '}') {
		int rc = check_param(c, n, field, s + 1, len - 2);
		if (rc != 0) {
			return rc;
		}
		out->param = param_names[param_index(s + 1, len - 2)];
		return 0;
	}
	out->param = NULL;
	return number(c, &out->number, n, key, field, 0, 0xffffffffu);
}

/* ---- steps and sequences ------------------------------------------------------ */

static int read_map(pctx *c, lsec_device_profile_step *st, struct fy_node *m, const char *field)
{
	int rc = 0;
	void *it = NULL;
	struct fy_node_pair *pair;
	int n = fy_node_mapping_item_count(m);
	if (!fy_node_is_mapping(m) || n <= 0) {
		return perr(c, m, field, "must be a mapping from register value to value");
	}
	lsec_device_profile_map *e = own(c->p, lsec_calloc((size_t)n, sizeof(*e)));
	if (e == NULL) {
		return nomem(c);
	}
	size_t i = 0;
	while ((pair = fy_node_mapping_iterate(m, &it)) != NULL && i < (size_t)n) {
		LSEC_TRY(number(c, &e[i].from, fy_node_pair_key(pair), m, field, 0, 0xffffffffu));
		LSEC_TRY(number(c, &e[i].to, fy_node_pair_value(pair), m, field, 0, 0xffffffffu));
		for (size_t j = 0; j < i; j++) {
			if (e[j].from == e[i].from) {
				return perr(c, fy_node_pair_key(pair), field,
					    "register value 0x%lx given twice",
					    (unsigned long)e[i].from);
			}
		}
		i++;
	}
	st->map = e;
	st->nmap = i;
out:
	return rc;
}

static int read_step(pctx *c, lsec_device_profile_step *st, struct fy_node *n, const char *field)
{
	int rc = 0;
	static const char *const kinds[] = {"monitor", "read32",  "write32", "modify32",
					    "poll32",  "delay-ms", NULL};
	char f[160], fk[200];
#define SUB(key) (snprintf(fk, sizeof(fk), "%s.%s", f, (key)), fk)
	if (n == NULL || !fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1) {
		return perr(c, n, field,
			    "a step is a mapping with one key: monitor, read32, write32, "
			    "modify32, poll32 or delay-ms");
	}
	LSEC_TRY(check_keys(c, n, field, kinds));
	void *it = NULL;
	struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
	const char *kind = scalar(fy_node_pair_key(pair));
	struct fy_node *v = fy_node_pair_value(pair);
	st->line = line_of(n);
	st->mask = 0xffffffffu;
	snprintf(f, sizeof(f), "%s.%s", field, kind);
	if (strcmp(kind, "monitor") == 0) {
		static const char *const keys[] = {"command", "expect", "json", NULL};
		struct fy_node *cmd = v;
		st->kind = LSEC_PROFILE_STEP_MONITOR;
		if (v != NULL && fy_node_is_mapping(v)) {
			LSEC_TRY(check_keys(c, v, f, keys));
			LSEC_TRY(required(&cmd, c, v, NULL, "command", f));
			struct fy_node *x = get(v, "expect", NULL);
			if (x != NULL) {
				LSEC_TRY(ctext(c, &st->expect, x, f, 200));
			}
			x = get(v, "json", NULL);
			if (x != NULL) {
				LSEC_TRY(ctext(c, &st->json, x, f, 64));
			}
		}
		LSEC_TRY(ctext(c, &st->command, cmd, f, 400));
		LSEC_TRY(check_template(c, cmd, f, st->command));
	} else if (strcmp(kind, "delay-ms") == 0) {
		st->kind = LSEC_PROFILE_STEP_DELAY;
		LSEC_TRY(number(c, &st->timeout_ms, v, NULL, f, 1, 600000));
	} else {
		static const char *const r_keys[] = {"address", "mask", "shift", "map", "default",
						     NULL};
		static const char *const w_keys[] = {"address", "value", NULL};
		static const char *const m_keys[] = {"address", "mask", "value", NULL};
		static const char *const p_keys[] = {"address", "mask", "value", "timeout-ms", NULL};
		struct fy_node *x = NULL;
		LSEC_TRY(need_map(c, v, fy_node_pair_key(pair), f, "a mapping (address, ...)"));
		if (strcmp(kind, "read32") == 0) {
			st->kind = LSEC_PROFILE_STEP_READ32;
			LSEC_TRY(check_keys(c, v, f, r_keys));
		} else if (strcmp(kind, "write32") == 0) {
			st->kind = LSEC_PROFILE_STEP_WRITE32;
			LSEC_TRY(check_keys(c, v, f, w_keys));
		} else if (strcmp(kind, "modify32") == 0) {
			st->kind = LSEC_PROFILE_STEP_MODIFY32;
			LSEC_TRY(check_keys(c, v, f, m_keys));
		} else {
			st->kind = LSEC_PROFILE_STEP_POLL32;
			st->timeout_ms = 1000;
			LSEC_TRY(check_keys(c, v, f, p_keys));
		}
		LSEC_TRY(required(&x, c, v, fy_node_pair_key(pair), "address", f));
		LSEC_TRY(value(c, &st->address, x, NULL, SUB("address")));
		if (st->address.param == NULL && (st->address.number & 3u) != 0) {
			return perr(c, x, SUB("address"), "0x%lx is not 32-bit aligned",
				    (unsigned long)st->address.number);
		}
		if (st->kind != LSEC_PROFILE_STEP_READ32) {
			LSEC_TRY(required(&x, c, v, fy_node_pair_key(pair), "value", f));
			LSEC_TRY(value(c, &st->value, x, NULL, SUB("value")));
		}
		if (st->kind == LSEC_PROFILE_STEP_MODIFY32 || st->kind == LSEC_PROFILE_STEP_POLL32) {
			LSEC_TRY(required(&x, c, v, fy_node_pair_key(pair), "mask", f));
		} else {
			x = get(v, "mask", NULL);
		}
		if (x != NULL) {
			LSEC_TRY(number(c, &st->mask, x, NULL, SUB("mask"), 1, 0xffffffffu));
		}
		if (st->value.param == NULL && st->kind != LSEC_PROFILE_STEP_WRITE32 &&
		    (st->value.number & ~st->mask) != 0) {
			return perr(c, v, f, "value 0x%lx has bits outside mask 0x%lx",
				    (unsigned long)st->value.number, (unsigned long)st->mask);
		}
		if ((x = get(v, "shift", NULL)) != NULL) {
			LSEC_TRY(number(c, &st->shift, x, NULL, SUB("shift"), 0, 31));
		}
		if ((x = get(v, "map", NULL)) != NULL) {
			LSEC_TRY(read_map(c, st, x, SUB("map")));
		}
		if ((x = get(v, "default", NULL)) != NULL) {
			LSEC_TRY(number(c, &st->dflt, x, NULL, SUB("default"), 0, 0xffffffffu));
			st->has_default = true;
		}
		if ((x = get(v, "timeout-ms", NULL)) != NULL) {
			LSEC_TRY(number(c, &st->timeout_ms, x, NULL, SUB("timeout-ms"), 1, 600000));
		}
	}
out:
#undef SUB
	return rc;
}

/*
 * An operation: `unsupported`, one step, or a list of steps. optional: an
 * absent field is allowed (SEQ_ABSENT); may_unsupported: `unsupported` is.
 */
static int read_seq(pctx *c, lsec_device_profile_op op, struct fy_node *parent,
		    struct fy_node *parent_key, const char *key, bool optional,
		    bool may_unsupported)
{
	int rc = 0;
	seq *s = &c->p->ops[op];
	const char *field = opdefs[op].field;
	struct fy_node *n = get(parent, key, NULL);
	c->params = opdefs[op].params;
	c->result = opdefs[op].result;
	if (n == NULL) {
		if (!optional) {
			return perr(c, parent_key != NULL ? parent_key : parent, field,
				    "missing: give its steps%s", may_unsupported ? " or `unsupported`" : "");
		}
		s->state = SEQ_ABSENT;
		goto out;
	}
	if (is_unsupported(n)) {
		if (!may_unsupported) {
			return perr(c, n, field, "cannot be `unsupported`: every device needs it");
		}
		s->state = SEQ_UNSUPPORTED;
		goto out;
	}
	int count = fy_node_is_sequence(n) ? fy_node_sequence_item_count(n) : 1;
	if (count <= 0 || (size_t)count > LSEC_PROFILE_MAX_STEPS) {
		return perr(c, n, field, "must have 1..%u steps", LSEC_PROFILE_MAX_STEPS);
	}
	s->steps = own(c->p, lsec_calloc((size_t)count, sizeof(*s->steps)));
	if (s->steps == NULL) {
		return nomem(c);
	}
	for (int i = 0; i < count; i++) {
		struct fy_node *item = fy_node_is_sequence(n) ? fy_node_sequence_get_by_index(n, i) : n;
		LSEC_TRY(read_step(c, &s->steps[i], item, field));
	}
	s->n = (size_t)count;
	s->state = SEQ_STEPS;
	if (opdefs[op].result) {
		lsec_device_profile_step_kind k = s->steps[s->n - 1].kind;
		if (k != LSEC_PROFILE_STEP_MONITOR && k != LSEC_PROFILE_STEP_READ32) {
			return perr(c, n, field,
				    "gives a result: its last step must be monitor or read32");
		}
	}
out:
	return rc;
}

/* ---- sections ------------------------------------------------------------------ */

static int read_values(pctx *c, valmap *vm, struct fy_node *n, const char *field)
{
	void *it = NULL;
	struct fy_node_pair *pair;
	int count = n != NULL && fy_node_is_mapping(n) ? fy_node_mapping_item_count(n) : 0;
	if (count <= 0) {
		return perr(c, n, field, "must be a mapping from what the read gives to its name");
	}
	vm->keys = own(c->p, lsec_calloc((size_t)count, sizeof(char *)));
	vm->labels = own(c->p, lsec_calloc((size_t)count, sizeof(char *)));
	if (vm->keys == NULL || vm->labels == NULL) {
		return nomem(c);
	}
	while ((pair = fy_node_mapping_iterate(n, &it)) != NULL && vm->n < (size_t)count) {
		int rc = text(c, &vm->keys[vm->n], fy_node_pair_key(pair), field, 100);
		if (rc == 0) {
			rc = text(c, &vm->labels[vm->n], fy_node_pair_value(pair), field, 60);
		}
		if (rc != 0) {
			return rc;
		}
		vm->n++;
	}
	vm->supported = true;
	return 0;
}

static int read_ident(pctx *c, struct fy_node *root, const char *key, int which)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL;
	struct fy_node *n = get(root, key, &k);
	static const char *const fam_keys[] = {"name", "read", "values", NULL};
	static const char *const rev_keys[] = {"read", "values", NULL};
	if (n == NULL) {
		return perr(c, root, key, "missing required field '%s'", key);
	}
	if (which == 1 && is_unsupported(n)) {
		c->p->ops[LSEC_PROFILE_OP_REVISION_READ].state = SEQ_UNSUPPORTED;
		goto out;
	}
	LSEC_TRY(need_map(c, n, k, key,
			  which == 0 ? "a mapping with name, read and values"
				     : "a mapping with read and values, or `unsupported`"));
	LSEC_TRY(check_keys(c, n, key, which == 0 ? fam_keys : rev_keys));
	if (which == 0) {
		LSEC_TRY(required(&x, c, n, k, "name", "family"));
		LSEC_TRY(text(c, &c->p->family, x, "family.name", 60));
		LSEC_TRY(ident(c, x, "family.name", c->p->family));
	}
	LSEC_TRY(read_seq(c, which == 0 ? LSEC_PROFILE_OP_FAMILY_READ : LSEC_PROFILE_OP_REVISION_READ,
			  n, k, "read", false, false));
	LSEC_TRY(required(&x, c, n, k, "values", key));
	LSEC_TRY(read_values(c, &c->p->values[which], x, which == 0 ? "family.values" : "revision.values"));
out:
	return rc;
}

static int read_uid(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL;
	struct fy_node *n = get(root, "uid", &k);
	static const char *const keys[] = {"address", "length", "read", NULL};
	lsec_device_profile_layout *l = &c->p->lay;
	if (n == NULL) {
		return perr(c, root, "uid", "missing required field 'uid': every unit needs one");
	}
	LSEC_TRY(need_map(c, n, k, "uid", "a mapping: address and length, or read"));
	LSEC_TRY(check_keys(c, n, "uid", keys));
	if (get(n, "read", NULL) != NULL) {
		if (get(n, "address", NULL) != NULL || get(n, "length", NULL) != NULL) {
			return perr(c, n, "uid", "give address and length, or read, not both");
		}
		LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_UID_READ, n, k, "read", false, false));
		goto out;
	}
	LSEC_TRY(required(&x, c, n, k, "address", "uid"));
	LSEC_TRY(number(c, &l->uid_address, x, NULL, "uid.address", 0, 0xffffffffu));
	LSEC_TRY(required(&x, c, n, k, "length", "uid"));
	LSEC_TRY(number(c, &l->uid_length, x, NULL, "uid.length", 4, LSEC_DEVICE_UID_LEN));
	if (l->uid_address > 0xffffffffu - l->uid_length + 1) {
		return perr(c, x, "uid", "address + length passes the end of the address space");
	}
	l->uid_memory = true;
out:
	return rc;
}

static int read_flash(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL;
	struct fy_node *n = get(root, "flash", &k);
	static const char *const keys[] = {"base", "size", "page-size", "method",
					   "erase", "write", "hash", NULL};
	lsec_device_profile_layout *l = &c->p->lay;
	if (n == NULL) {
		return perr(c, root, "flash", "missing required field 'flash'");
	}
	LSEC_TRY(need_map(c, n, k, "flash", "a mapping with base, size, page-size and method"));
	LSEC_TRY(check_keys(c, n, "flash", keys));
	LSEC_TRY(required(&x, c, n, k, "base", "flash"));
	LSEC_TRY(number(c, &l->flash_base, x, NULL, "flash.base", 0, 0xffffffffu));
	LSEC_TRY(required(&x, c, n, k, "size", "flash"));
	LSEC_TRY(number(c, &l->flash_size, x, NULL, "flash.size", 1, 0xffffffffu));
	if ((uint64_t)l->flash_base + l->flash_size > 0x100000000ull) {
		return perr(c, x, "flash.size", "base + size passes the end of the address space");
	}
	LSEC_TRY(required(&x, c, n, k, "page-size", "flash"));
	LSEC_TRY(number(c, &l->page_size, x, NULL, "flash.page-size", 4, 0x1000000u));
	if ((l->page_size & (l->page_size - 1)) != 0 || l->flash_size % l->page_size != 0 ||
	    l->flash_base % l->page_size != 0) {
		return perr(c, x, "flash.page-size",
			    "%lu must be a power of two dividing flash.base and flash.size",
			    (unsigned long)l->page_size);
	}
	LSEC_TRY(required(&x, c, n, k, "method", "flash"));
	const char *m = scalar(x);
	if (m != NULL && strcmp(m, "memory") == 0) {
		l->flash_method = LSEC_PROFILE_FLASH_MEMORY;
	} else if (m != NULL && strcmp(m, "vflash") == 0) {
		l->flash_method = LSEC_PROFILE_FLASH_VFLASH;
	} else if (m != NULL && strcmp(m, "monitor") == 0) {
		l->flash_method = LSEC_PROFILE_FLASH_MONITOR;
	} else {
		return perr(c, x, "flash.method", "'%s' is not one of memory, vflash, monitor",
			    m != NULL ? m : "(not a single value)");
	}
	bool mon = l->flash_method == LSEC_PROFILE_FLASH_MONITOR;
	x = get(n, "erase", NULL);
	m = x != NULL ? scalar(x) : NULL;
	if (m != NULL && strcmp(m, "none") == 0) {
		if (l->flash_method != LSEC_PROFILE_FLASH_MEMORY) {
			return perr(c, x, "flash.erase",
				    "`none` only with method memory (flash the probe writes in place)");
		}
		l->flash_erase_none = true;
	} else {
		LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_FLASH_ERASE, n, k, "erase", !mon, false));
	}
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_FLASH_WRITE, n, k, "write", !mon, false));
	if (!mon && c->p->ops[LSEC_PROFILE_OP_FLASH_WRITE].state != SEQ_ABSENT) {
		return perr(c, get(n, "write", NULL), "flash.write",
			    "only with method monitor (memory and vflash write through the probe)");
	}
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_FLASH_HASH, n, k, "hash", true, false));
out:
	return rc;
}

static int read_ram(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL;
	struct fy_node *n = get(root, "ram", &k);
	static const char *const keys[] = {"base", "size", NULL};
	lsec_device_profile_layout *l = &c->p->lay;
	if (n == NULL) {
		goto out;
	}
	LSEC_TRY(need_map(c, n, k, "ram", "a mapping with base and size"));
	LSEC_TRY(check_keys(c, n, "ram", keys));
	LSEC_TRY(required(&x, c, n, k, "base", "ram"));
	LSEC_TRY(number(c, &l->ram_base, x, NULL, "ram.base", 0, 0xffffffffu));
	LSEC_TRY(required(&x, c, n, k, "size", "ram"));
	LSEC_TRY(number(c, &l->ram_size, x, NULL, "ram.size", 1, 0xffffffffu));
	if ((uint64_t)l->ram_base + l->ram_size > 0x100000000ull) {
		return perr(c, x, "ram.size", "base + size passes the end of the address space");
	}
	uint64_t fb = l->flash_base, fe = fb + l->flash_size;
	if ((uint64_t)l->ram_base < fe && fb < (uint64_t)l->ram_base + l->ram_size) {
		return perr(c, n, "ram", "overlaps flash");
	}
	l->has_ram = true;
out:
	return rc;
}

/*
 * Opens a section that may say `unsupported` (otp, fuses, debug-lock,
 * keystore, erase, attestation): *out is its mapping, checked against keys,
 * or NULL when it says `unsupported` (then the operations first..last, if
 * first >= 0, are marked unsupported). Missing, it is refused saying
 * `unsupported` is the answer when the device has none (lacks: "the device
 * has none"); neither, refused as not "what, or `unsupported`".
 */
static int open_section(struct fy_node **out, struct fy_node **key, pctx *c, struct fy_node *root,
			const char *name, int first, int last, const char *lacks, const char *what,
			const char *const *keys)
{
	int rc = 0;
	struct fy_node *n = get(root, name, key);
	*out = NULL;
	if (n == NULL) {
		return perr(c, root, name, "missing required field '%s' (say `unsupported` when %s)",
			    name, lacks);
	}
	if (is_unsupported(n)) {
		for (int op = first; first >= 0 && op <= last; op++) {
			c->p->ops[op].state = SEQ_UNSUPPORTED;
		}
		goto out;
	}
	char want[160];
	snprintf(want, sizeof(want), "%s, or `unsupported`", what);
	LSEC_TRY(need_map(c, n, *key, name, want));
	LSEC_TRY(check_keys(c, n, name, keys));
	*out = n;
out:
	return rc;
}

static int read_otp(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL, *n = NULL;
	static const char *const keys[] = {"words", "base", "inverted", "read",
					   "burn",  "lock", "locked",   NULL};
	lsec_device_profile_layout *l = &c->p->lay;
	LSEC_TRY(open_section(&n, &k, c, root, "otp", LSEC_PROFILE_OP_OTP_READ,
			      LSEC_PROFILE_OP_OTP_LOCKED, "the device has none",
			      "a mapping with words, read, burn, lock, locked", keys));
	if (n == NULL) {
		goto out;
	}
	LSEC_TRY(required(&x, c, n, k, "words", "otp"));
	LSEC_TRY(number(c, &l->otp_words, x, NULL, "otp.words", 1, 4096));
	if ((x = get(n, "base", NULL)) != NULL) {
		LSEC_TRY(number(c, &l->otp_base, x, NULL, "otp.base", 0, 0xffffffffu));
		if ((l->otp_base & 3u) != 0 ||
		    (uint64_t)l->otp_base + 4ull * l->otp_words > 0x100000000ull) {
			return perr(c, x, "otp.base", "must be 32-bit aligned, its words inside the "
						      "address space");
		}
		l->otp_memory = true;
	}
	if ((x = get(n, "inverted", NULL)) != NULL) {
		const char *v = scalar(x);
		if (v == NULL || (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)) {
			return perr(c, x, "otp.inverted", "must be true or false");
		}
		l->otp_inverted = strcmp(v, "true") == 0;
	}
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_OTP_READ, n, k, "read", l->otp_memory, false));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_OTP_BURN, n, k, "burn", false, true));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_OTP_LOCK, n, k, "lock", false, true));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_OTP_LOCKED, n, k, "locked", false, true));
out:
	return rc;
}

static int read_fuses(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL, *n = NULL;
	static const char *const keys[] = {"word", "nwords", "mask", NULL};
	const char *fkeys[LSEC_FUSE_COUNT + 1];
	lsec_device_profile *p = c->p;
	char f[80];
	memcpy(fkeys, fuse_keys, sizeof(fuse_keys));
	fkeys[LSEC_FUSE_COUNT] = NULL;
	LSEC_TRY(open_section(&n, &k, c, root, "fuses", -1, -1, "the device has none",
			      "a mapping of the named fuses", fkeys));
	if (n == NULL) {
		goto out;
	}
	if (p->lay.otp_words == 0) {
		return perr(c, n, "fuses", "the device has no OTP (otp: unsupported): say "
					   "`fuses: unsupported`");
	}
	for (int i = 0; i < LSEC_FUSE_COUNT; i++) {
		struct fy_node *fk = NULL;
		struct fy_node *fv = get(n, fuse_keys[i], &fk);
		lsec_device_fuse_field *ff = &p->fuses[i];
		bool digest = lsec_device_fuse_is_digest((lsec_device_fuse)i);
		uint32_t v = 0;
		snprintf(f, sizeof(f), "fuses.%s", fuse_keys[i]);
		if (fv == NULL) {
			return perr(c, k, f, "missing: give word, nwords and mask, or `unsupported`");
		}
		if (is_unsupported(fv)) {
			continue;
		}
		LSEC_TRY(need_map(c, fv, fk, f, "a mapping with word, nwords and mask, or "
						"`unsupported`"));
		LSEC_TRY(check_keys(c, fv, f, keys));
		LSEC_TRY(required(&x, c, fv, fk, "word", f));
		LSEC_TRY(number(c, &v, x, NULL, f, 0, p->lay.otp_words - 1));
		ff->word = (uint16_t)v;
		LSEC_TRY(required(&x, c, fv, fk, "nwords", f));
		/* The device layer reads a field of at most 8 words (device.c). */
		LSEC_TRY(number(c, &v, x, NULL, f, 1, 8));
		ff->nwords = (uint16_t)v;
		LSEC_TRY(required(&x, c, fv, fk, "mask", f));
		LSEC_TRY(number(c, &ff->mask, x, NULL, f, 1, 0xffffffffu));
		if (digest && (ff->nwords != 8 || ff->mask != 0xffffffffu)) {
			return perr(c, fv, f, "a 32-byte digest takes nwords 8 and mask 0xffffffff");
		}
		if ((uint32_t)ff->word + ff->nwords > p->lay.otp_words) {
			return perr(c, fv, f, "words %u..%u pass the end of the OTP (%lu words)",
				    ff->word, ff->word + ff->nwords - 1,
				    (unsigned long)p->lay.otp_words);
		}
		for (int j = 0; j < i; j++) {
			const lsec_device_fuse_field *o = &p->fuses[j];
			if (p->fuse_ok[j] && ff->word < o->word + o->nwords &&
			    o->word < ff->word + ff->nwords && (ff->mask & o->mask) != 0) {
				return perr(c, fv, f, "overlaps fuses.%s (words %u..%u, mask 0x%lx)",
					    fuse_keys[j], o->word, o->word + o->nwords - 1,
					    (unsigned long)o->mask);
			}
		}
		p->fuse_ok[i] = true;
	}
out:
	return rc;
}

static int read_debug_lock(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL, *sk = NULL, *n = NULL;
	static const char *const keys[] = {"levels", "read", "set", NULL};
	static const char *const set_keys[] = {"1", "2", NULL};
	lsec_device_profile *p = c->p;
	uint32_t levels = 0;
	LSEC_TRY(open_section(&n, &k, c, root, "debug-lock", LSEC_PROFILE_OP_DEBUG_LOCK_READ,
			      LSEC_PROFILE_OP_DEBUG_LOCK_SET2, "the device has none",
			      "a mapping with levels, read and set", keys));
	if (n == NULL) {
		goto out;
	}
	LSEC_TRY(required(&x, c, n, k, "levels", "debug-lock"));
	LSEC_TRY(number(c, &levels, x, NULL, "debug-lock.levels", 1, 2));
	p->lay.debug_lock_max = levels;
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_DEBUG_LOCK_READ, n, k, "read", false, false));
	struct fy_node *s = get(n, "set", &sk);
	if (s == NULL) {
		return perr(c, k, "debug-lock.set", "missing: `fuse` or the steps of each level");
	}
	const char *sv = scalar(s);
	if (sv != NULL && strcmp(sv, "fuse") == 0) {
		if (!p->fuse_ok[LSEC_FUSE_DEBUG_LOCK]) {
			return perr(c, s, "debug-lock.set", "`fuse` needs fuses.DEBUG_LOCK");
		}
		p->lay.debug_lock_by_fuse = true;
		p->ops[LSEC_PROFILE_OP_DEBUG_LOCK_SET1].state = SEQ_ABSENT;
		p->ops[LSEC_PROFILE_OP_DEBUG_LOCK_SET2].state = levels >= 2 ? SEQ_ABSENT
									      : SEQ_UNSUPPORTED;
		goto out;
	}
	LSEC_TRY(need_map(c, s, sk, "debug-lock.set", "`fuse` or a mapping of levels 1 and 2"));
	LSEC_TRY(check_keys(c, s, "debug-lock.set", set_keys));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_DEBUG_LOCK_SET1, s, sk, "1", false, false));
	if (levels < 2) {
		if (get(s, "2", NULL) != NULL) {
			return perr(c, get(s, "2", NULL), "debug-lock.set.2", "levels is 1");
		}
		p->ops[LSEC_PROFILE_OP_DEBUG_LOCK_SET2].state = SEQ_UNSUPPORTED;
	} else {
		LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_DEBUG_LOCK_SET2, s, sk, "2", false, true));
	}
out:
	return rc;
}

static int read_keystore(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL, *n = NULL;
	static const char *const keys[] = {"slots",  "generate",  "inject",    "public",
					   "sign",   "status",    "cert-store", "cert-read",
					   "credential-store", NULL};
	LSEC_TRY(open_section(&n, &k, c, root, "keystore", LSEC_PROFILE_OP_KEY_GENERATE,
			      LSEC_PROFILE_OP_CREDENTIAL_STORE, "the device has none",
			      "a mapping with slots and each operation", keys));
	if (n == NULL) {
		goto out;
	}
	LSEC_TRY(required(&x, c, n, k, "slots", "keystore"));
	LSEC_TRY(number(c, &c->p->lay.key_slots, x, NULL, "keystore.slots", 1, 64));
	for (int op = LSEC_PROFILE_OP_KEY_GENERATE; op <= LSEC_PROFILE_OP_CREDENTIAL_STORE; op++) {
		LSEC_TRY(read_seq(c, (lsec_device_profile_op)op, n, k,
				  strchr(opdefs[op].field, '.') + 1, false, true));
	}
out:
	return rc;
}

static int read_erase(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *n = NULL;
	static const char *const keys[] = {"all", "challenge", "authenticated", NULL};
	LSEC_TRY(open_section(&n, &k, c, root, "erase", LSEC_PROFILE_OP_ERASE_ALL,
			      LSEC_PROFILE_OP_ERASE_AUTH, "the device has none",
			      "a mapping with all, challenge and authenticated", keys));
	if (n == NULL) {
		goto out;
	}
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_ERASE_ALL, n, k, "all", false, true));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_ERASE_CHALLENGE, n, k, "challenge", false, true));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_ERASE_AUTH, n, k, "authenticated", false, true));
	if ((c->p->ops[LSEC_PROFILE_OP_ERASE_CHALLENGE].state == SEQ_UNSUPPORTED) !=
	    (c->p->ops[LSEC_PROFILE_OP_ERASE_AUTH].state == SEQ_UNSUPPORTED)) {
		return perr(c, n, "erase", "challenge and authenticated go together: both steps or "
					   "both `unsupported`");
	}
out:
	return rc;
}

static int read_attestation(pctx *c, struct fy_node *root)
{
	int rc = 0;
	struct fy_node *k = NULL, *x = NULL, *n = NULL;
	static const char *const keys[] = {"source", "line", "timeout-ms", "uart", NULL};
	lsec_device_profile_layout *l = &c->p->lay;
	LSEC_TRY(open_section(&n, &k, c, root, "attestation", -1, -1,
			      "the boot stage gives none", "a mapping with source (reset or uart)",
			      keys));
	if (n == NULL) {
		l->attestation = LSEC_PROFILE_ATTEST_UNSUPPORTED;
		goto out;
	}
	LSEC_TRY(required(&x, c, n, k, "source", "attestation"));
	const char *src = scalar(x);
	if (src != NULL && strcmp(src, "reset") == 0) {
		l->attestation = LSEC_PROFILE_ATTEST_RESET;
		if (get(n, "line", NULL) != NULL || get(n, "uart", NULL) != NULL) {
			return perr(c, n, "attestation", "line and uart only with source uart");
		}
	} else if (src != NULL && strcmp(src, "uart") == 0) {
		l->attestation = LSEC_PROFILE_ATTEST_UART;
		LSEC_TRY(required(&x, c, n, k, "line", "attestation"));
		char *line = NULL;
		LSEC_TRY(text(c, &line, x, "attestation.line", 200));
		l->attestation_line = line;
		if (strstr(line, "{digest}") == NULL) {
			return perr(c, x, "attestation.line", "must hold {digest}");
		}
		for (const char *s = strchr(line, '{'); s != NULL; s = strchr(s + 1, '{')) {
			if (strncmp(s, "{digest}", 8) != 0 && strncmp(s, "{version}", 9) != 0 &&
			    strncmp(s, "{build}", 7) != 0 && strncmp(s, "{uid}", 5) != 0) {
				return perr(c, x, "attestation.line",
					    "placeholder at '%.20s': expected {digest}, {version}, "
					    "{build} or {uid}",
					    s);
			}
		}
		if ((x = get(n, "uart", NULL)) != NULL) {
			LSEC_TRY(number(c, &l->uart_base, x, NULL, "attestation.uart", 1,
					0xffffffffu));
		}
	} else {
		return perr(c, x, "attestation.source", "'%s' is not one of reset, uart",
			    src != NULL ? src : "(not a single value)");
	}
	l->attestation_timeout_ms = 5000;
	if ((x = get(n, "timeout-ms", NULL)) != NULL) {
		LSEC_TRY(number(c, &l->attestation_timeout_ms, x, NULL, "attestation.timeout-ms", 1,
				600000));
	}
out:
	return rc;
}

/* ---- warnings: what the SOPs need ---------------------------------------------- */

typedef struct need {
	const char *sop, *step;
	int op;   /* lsec_device_profile_op, or -1 */
	int fuse; /* lsec_device_fuse, or -1 */
} need;

static const need needs[] = {
	{"flash", "device.boot-attest", -1, -1}, /* attestation */
	{"secure-boot", "otp.burn-key-digest", -1, LSEC_FUSE_SECURE_BOOT_KEY_DIGEST},
	{"secure-boot", "otp.enable-secure-boot", -1, LSEC_FUSE_SECURE_BOOT_ENABLE},
	{"secure-boot", "otp.burn-counter", -1, LSEC_FUSE_ANTI_ROLLBACK},
	{"secure-boot", "otp.lock", -1, LSEC_FUSE_OTP_LOCK},
	{"secure-boot", "otp.lock", LSEC_PROFILE_OP_OTP_LOCK, -1},
	{"provision", "device.keygen", LSEC_PROFILE_OP_KEY_PUBLIC, -1},
	{"provision", "device.write-cert", LSEC_PROFILE_OP_CERT_STORE, -1},
	{"provision", "device.write-credential", LSEC_PROFILE_OP_CREDENTIAL_STORE, -1},
	{"provision", "device.prove-possession", LSEC_PROFILE_OP_KEY_SIGN, -1},
	{"debug-lock", "otp.burn-debug-auth-digest", -1, LSEC_FUSE_DEBUG_AUTH_KEY_DIGEST},
	{"debug-lock", "console.close", -1, LSEC_FUSE_UART_DISABLE},
	{"debug-lock", "debug.lock", LSEC_PROFILE_OP_DEBUG_LOCK_SET1, -1},
	{"decommission", "device.erase", LSEC_PROFILE_OP_ERASE_ALL, -1},
	{"decommission", "device.erase", LSEC_PROFILE_OP_ERASE_AUTH, -1},
};

static int add_warnings(pctx *c)
{
	lsec_device_profile *p = c->p;
	size_t max = sizeof(needs) / sizeof(needs[0]) + 1;
	p->warnings = own(p, lsec_calloc(max, sizeof(char *)));
	if (p->warnings == NULL) {
		return nomem(c);
	}
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		const need *nd = &needs[i];
		char what[80];
		bool missing;
		if (nd->fuse >= 0) {
			missing = !p->fuse_ok[nd->fuse] ||
				  p->ops[LSEC_PROFILE_OP_OTP_BURN].state == SEQ_UNSUPPORTED;
			snprintf(what, sizeof(what), "fuse %s", fuse_keys[nd->fuse]);
		} else if (nd->op >= 0) {
			missing = p->ops[nd->op].state == SEQ_UNSUPPORTED &&
				  !(nd->op == LSEC_PROFILE_OP_DEBUG_LOCK_SET1 &&
				    p->lay.debug_lock_by_fuse);
			snprintf(what, sizeof(what), "%s", opdefs[nd->op].field);
		} else {
			missing = p->lay.attestation == LSEC_PROFILE_ATTEST_UNSUPPORTED;
			snprintf(what, sizeof(what), "attestation");
		}
		if (!missing) {
			continue;
		}
		char *w = own(p, lsec_asprintf("SOP %s step %s needs %s: not supported by this device "
					       "(profile %s); the ship gate refuses its units",
					       nd->sop, nd->step, what, p->name));
		if (w == NULL) {
			return nomem(c);
		}
		p->warnings[p->nwarnings++] = w;
	}
	return 0;
}

/* ---- parsing -------------------------------------------------------------------- */

/* Keeps the first line of libfyaml's first diagnostic, without the file name. */
static void keep_first(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	char *first = user;
	if (first[0] != '\0') {
		return;
	}
	/* The message as a string of its own: libfyaml's buffer need not end in NUL. */
	char msg[512];
	snprintf(msg, sizeof(msg), "%.*s", (int)(len < sizeof(msg) ? len : sizeof(msg) - 1), buf);
	const char *tail = msg;
	for (size_t i = 0; msg[i] != '\0' && msg[i + 1] != '\0'; i++) {
		if (msg[i] == ':' && msg[i + 1] >= '0' && msg[i + 1] <= '9') {
			tail = msg + i + 1;
			break;
		}
	}
	size_t n = strcspn(tail, "\n");
	const char *e = strstr(tail, ": error: ");
	if (e != NULL && e + 9 <= tail + n) {
		snprintf(first, 200, "line %.*s: %.*s", (int)(e - tail), tail,
			 (int)(n - (size_t)(e + 9 - tail)), e + 9);
	} else {
		snprintf(first, 200, "line %.*s", (int)n, tail);
	}
}

/* The file name's NAME when it ends in NAME.yaml, else "" (into out). */
static void file_stem(char *out, size_t cap, const char *file)
{
	const char *base = strrchr(file, '/');
	base = base != NULL ? base + 1 : file;
	size_t len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0) {
		snprintf(out, cap, "%.*s", (int)(len - 5), base);
	} else if (cap > 0) {
		out[0] = '\0';
	}
}

static int read_top(pctx *c, struct fy_node *root)
{
	int rc = 0;
	static const char *const top[] = {
		"profile", "name",      "description", "reference", "tested-on-hardware",
		"monitor-protocol", "family", "revision", "uid", "attach", "reset", "ram",
		"flash",   "otp",       "fuses",       "debug-lock", "keystore", "erase",
		"attestation", "commit", NULL};
	lsec_device_profile *p = c->p;
	struct fy_node *x = NULL;
	char stem[128];
	LSEC_TRY(check_keys(c, root, "top level", top));
	LSEC_TRY(required(&x, c, root, NULL, "profile", "profile"));
	const char *v = scalar(x);
	if (v == NULL || strcmp(v, "1") != 0) {
		return perr(c, x, "profile", "format version '%s' is not supported (expected 1)",
			    v != NULL ? v : "(not a single value)");
	}
	LSEC_TRY(required(&x, c, root, NULL, "name", "name"));
	LSEC_TRY(text(c, &p->name, x, "name", 60));
	LSEC_TRY(ident(c, x, "name", p->name));
	file_stem(stem, sizeof(stem), c->file);
	if (stem[0] != '\0' && strcmp(stem, p->name) != 0) {
		return perr(c, x, "name", "'%s' differs from the file name '%s.yaml'", p->name, stem);
	}
	if ((x = get(root, "description", NULL)) != NULL) {
		LSEC_TRY(text(c, &p->description, x, "description", 400));
	}
	if ((x = get(root, "reference", NULL)) != NULL) {
		char *ignored = NULL;
		LSEC_TRY(text(c, &ignored, x, "reference", 400));
	}
	LSEC_TRY(required(&x, c, root, NULL, "tested-on-hardware", "tested-on-hardware"));
	v = scalar(x);
	if (v == NULL || (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)) {
		return perr(c, x, "tested-on-hardware", "must be true or false");
	}
	p->tested = strcmp(v, "true") == 0;
	p->protocol = "text";
	if ((x = get(root, "monitor-protocol", NULL)) != NULL) {
		v = scalar(x);
		if (v == NULL || (strcmp(v, "lsec") != 0 && strcmp(v, "text") != 0)) {
			return perr(c, x, "monitor-protocol", "'%s' is not one of lsec, text",
				    v != NULL ? v : "(not a single value)");
		}
		p->protocol = strcmp(v, "lsec") == 0 ? "lsec" : "text";
	}
	LSEC_TRY(read_ident(c, root, "family", 0));
	LSEC_TRY(read_ident(c, root, "revision", 1));
	LSEC_TRY(read_uid(c, root));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_ATTACH, root, NULL, "attach", true, false));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_RESET, root, NULL, "reset", false, false));
	LSEC_TRY(read_flash(c, root));
	LSEC_TRY(read_ram(c, root));
	LSEC_TRY(read_otp(c, root));
	LSEC_TRY(read_fuses(c, root));
	LSEC_TRY(read_debug_lock(c, root));
	LSEC_TRY(read_keystore(c, root));
	LSEC_TRY(read_erase(c, root));
	LSEC_TRY(read_attestation(c, root));
	LSEC_TRY(read_seq(c, LSEC_PROFILE_OP_COMMIT, root, NULL, "commit", true, false));
	if (p->lay.attestation == LSEC_PROFILE_ATTEST_RESET &&
	    p->ops[LSEC_PROFILE_OP_RESET].steps[p->ops[LSEC_PROFILE_OP_RESET].n - 1].kind !=
		    LSEC_PROFILE_STEP_MONITOR) {
		return perr(c, get(root, "reset", NULL), "reset",
			    "attestation source reset: the last reset step must be a monitor "
			    "command whose output is the boot report");
	}
	LSEC_TRY(add_warnings(c));
out:
	return rc;
}

int lsec_device_profile_parse(lsec_device_profile **out, const uint8_t *data, size_t len,
			      const char *file, lsec_err *err)
{
	int rc = 0;
	lsec_device_profile *p = NULL;
	struct fy_diag *diag = NULL;
	struct fy_document *doc = NULL;
	char first[200] = "";
	lsec_text_fault fault;
	LSEC_ENSURE(out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	*out = NULL;
	LSEC_ENSURE_REF(file);
	LSEC_ENSURE(data != NULL || len == 0, LSEC_E_USAGE, "missing argument 'data'");
	LSEC_ENSURE(len <= LSEC_PROFILE_MAX_FILE, LSEC_E_LIMIT,
		    "cannot read '%s': %zu bytes, at most %u", file, len, LSEC_PROFILE_MAX_FILE);
	LSEC_ENSURE(len > 0, LSEC_E_PARSE, "cannot read '%s': empty file: expected a device profile",
		    file);
	LSEC_ENSURE(lsec_yaml_text_check(&fault, data, len), LSEC_E_PARSE,
		    "cannot read '%s': line %zu, column %zu holds %s", file, fault.line,
		    fault.column, fault.why);
	p = lsec_calloc(1, sizeof(*p));
	LSEC_ENSURE(p != NULL, LSEC_E_NOMEM, "out of memory");
	p->file = own(p, lsec_strdup(file));
	LSEC_ENSURE(p->file != NULL, LSEC_E_NOMEM, "out of memory");

	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = keep_first;
	dcfg.user = first;
	dcfg.colorize = false;
	dcfg.show_source = false;
	diag = fy_diag_create(&dcfg);
	LSEC_ENSURE(diag != NULL, LSEC_E_NOMEM, "out of memory");
	struct fy_parse_cfg cfg = {NULL, FYPCF_QUIET, NULL, diag};
	doc = fy_document_build_from_string(&cfg, (const char *)data, len);
	LSEC_ENSURE(doc != NULL, LSEC_E_PARSE, "cannot read '%s': not valid YAML%s%s", file,
		    first[0] ? " at " : "", first);
	struct fy_node *root = fy_document_root(doc);
	LSEC_ENSURE(root != NULL && fy_node_is_mapping(root), LSEC_E_PARSE,
		    "cannot read '%s': expected a mapping (profile, name, family, ...)", file);
	pctx c = {p, file, err, 0, false};
	LSEC_TRY(read_top(&c, root));
	*out = p;
	p = NULL;
out:
	fy_document_destroy(doc);
	if (diag != NULL) {
		fy_diag_destroy(diag);
	}
	lsec_device_profile_free(p);
	return rc;
}

/* ---- finding ------------------------------------------------------------------------- */

static const lsec_device__file *builtin(const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < lsec_device__profiles_count; i++) {
		const char *f = lsec_device__profiles[i].name;
		if (strncmp(f, name, len) == 0 && strcmp(f + len, ".yaml") == 0) {
			return &lsec_device__profiles[i];
		}
	}
	return NULL;
}

static int load_file(lsec_device_profile **out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(LSEC_PROFILE_MAX_FILE);
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_device_profile_parse(out, b.data, b.len, path, err));
out:
	lsec_buf_release(&b);
	return rc;
}

int lsec_device_profile_load(lsec_device_profile **out, const char *name, lsec_err *err)
{
	int rc = 0;
	char *path = NULL;
	char list[400] = "";
	LSEC_ENSURE(out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	*out = NULL;
	LSEC_ENSURE_REF(name);
	size_t len = strlen(name);
	if (strchr(name, '/') != NULL || (len > 5 && strcmp(name + len - 5, ".yaml") == 0)) {
		LSEC_TRY(load_file(out, name, err));
		goto out;
	}
	LSEC_TRY(lsec_ident_check(name, "profile name", err));
	const char *dir = getenv("LINESEC_PROFILES");
	if (dir != NULL && dir[0] != '\0') {
		struct stat sb;
		path = lsec_asprintf("%s/%s.yaml", dir, name);
		LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
		if (stat(path, &sb) == 0) {
			LSEC_TRY(load_file(out, path, err));
			goto out;
		}
	}
	const lsec_device__file *f = builtin(name);
	if (f != NULL) {
		char file[160];
		snprintf(file, sizeof(file), "built-in profile %s", name);
		LSEC_TRY(lsec_device_profile_parse(out, f->data, f->len, file, err));
		goto out;
	}
	for (size_t i = 0; i < lsec_device__profiles_count; i++) {
		size_t at = strlen(list);
		snprintf(list + at, sizeof(list) - at, "%s%.*s", i ? ", " : "",
			 (int)(strlen(lsec_device__profiles[i].name) - 5),
			 lsec_device__profiles[i].name);
	}
	LSEC_ENSURE(false, LSEC_E_NOTFOUND,
		    "no device profile '%s': not in $LINESEC_PROFILES%s%s%s, not built in (%s)", name,
		    dir != NULL && dir[0] ? " (" : " (unset)", dir != NULL && dir[0] ? dir : "",
		    dir != NULL && dir[0] ? ")" : "", list[0] ? list : "none");
out:
	lsec_free(path);
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	const lsec_device_profile_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static bool listed(const lsec_device_profile_entry *l, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(l[i].name) == len && strncmp(l[i].name, name, len) == 0) {
			return true;
		}
	}
	return false;
}

int lsec_device_profile_list(lsec_device_profile_entry **out, size_t *n_out, lsec_err *err)
{
	int rc = 0;
	lsec_device_profile_entry *l = NULL;
	size_t n = 0, cap = lsec_device__profiles_count + 16;
	DIR *d = NULL;
	LSEC_ENSURE(out != NULL && n_out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	*out = NULL;
	*n_out = 0;
	l = lsec_calloc(cap, sizeof(*l));
	LSEC_ENSURE(l != NULL, LSEC_E_NOMEM, "out of memory");
	const char *dir = getenv("LINESEC_PROFILES");
	if (dir != NULL && dir[0] != '\0') {
		d = opendir(dir);
		LSEC_ENSURE(d != NULL, LSEC_E_IO, "cannot list $LINESEC_PROFILES '%s': %s", dir,
			    strerror(errno));
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0 ||
			    e->d_name[0] == '.') {
				continue;
			}
			if (n == cap) {
				lsec_device_profile_entry *g = lsec_calloc(2 * cap, sizeof(*g));
				LSEC_ENSURE(g != NULL, LSEC_E_NOMEM, "out of memory");
				memcpy(g, l, n * sizeof(*g));
				lsec_free(l);
				l = g;
				cap *= 2;
			}
			l[n].name = lsec_asprintf("%.*s", (int)(len - 5), e->d_name);
			l[n].source = lsec_asprintf("%s/%s", dir, e->d_name);
			n++;
			LSEC_ENSURE(l[n - 1].name && l[n - 1].source, LSEC_E_NOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < lsec_device__profiles_count; i++) {
		const char *f = lsec_device__profiles[i].name;
		size_t len = strlen(f) - 5;
		if (listed(l, n, f, len)) {
			continue;
		}
		if (n == cap) {
			lsec_device_profile_entry *g = lsec_calloc(2 * cap, sizeof(*g));
			LSEC_ENSURE(g != NULL, LSEC_E_NOMEM, "out of memory");
			memcpy(g, l, n * sizeof(*g));
			lsec_free(l);
			l = g;
			cap *= 2;
		}
		l[n].name = lsec_asprintf("%.*s", (int)len, f);
		l[n].source = lsec_strdup("built-in");
		n++;
		LSEC_ENSURE(l[n - 1].name && l[n - 1].source, LSEC_E_NOMEM, "out of memory");
	}
	if (n > 1) {
		qsort(l, n, sizeof(*l), entry_cmp);
	}
	*out = l;
	*n_out = n;
	l = NULL;
out:
	if (d != NULL) {
		closedir(d);
	}
	lsec_device_profile_list_free(l, n);
	return rc;
}

void lsec_device_profile_list_free(lsec_device_profile_entry *l, size_t n)
{
	if (l == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		lsec_free(l[i].name);
		lsec_free(l[i].source);
	}
	lsec_free(l);
}

/* ---- accessors ------------------------------------------------------------------------ */

const char *lsec_device_profile_name(const lsec_device_profile *p)
{
	return p != NULL ? p->name : NULL;
}

const char *lsec_device_profile_file(const lsec_device_profile *p)
{
	return p != NULL ? p->file : NULL;
}

const char *lsec_device_profile_description(const lsec_device_profile *p)
{
	return p != NULL ? p->description : NULL;
}

const char *lsec_device_profile_family(const lsec_device_profile *p)
{
	return p != NULL ? p->family : NULL;
}

const char *lsec_device_profile_revision(const lsec_device_profile *p, size_t i)
{
	return p != NULL && i < p->values[1].n ? p->values[1].labels[i] : NULL;
}

bool lsec_device_profile_tested(const lsec_device_profile *p)
{
	return p != NULL && p->tested;
}

const char *lsec_device_profile_monitor_protocol(const lsec_device_profile *p)
{
	return p != NULL ? p->protocol : NULL;
}

const lsec_device_profile_layout *lsec_device_profile_layout_get(const lsec_device_profile *p)
{
	return p != NULL ? &p->lay : NULL;
}

const char *lsec_device_profile_op_field(lsec_device_profile_op op)
{
	return (unsigned)op < LSEC_PROFILE_OP_COUNT ? opdefs[op].field : "?";
}

const char *lsec_device_profile_warning(const lsec_device_profile *p, size_t i)
{
	return p != NULL && i < p->nwarnings ? p->warnings[i] : NULL;
}

int lsec_device_profile_op_steps(const lsec_device_profile_step **steps, size_t *n,
				 const lsec_device_profile *p, lsec_device_profile_op op,
				 lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(steps != NULL && n != NULL, LSEC_E_USAGE, "missing argument 'steps'");
	*steps = NULL;
	*n = 0;
	LSEC_ENSURE_REF(p);
	LSEC_ENSURE((unsigned)op < LSEC_PROFILE_OP_COUNT, LSEC_E_USAGE, "no profile operation %d",
		    (int)op);
	LSEC_ENSURE(p->ops[op].state != SEQ_UNSUPPORTED, LSEC_E_TGT_UNSUPPORTED,
		    "%s: not supported by this device (profile %s)", opdefs[op].field, p->name);
	*steps = p->ops[op].steps;
	*n = p->ops[op].n;
out:
	return rc;
}

int lsec_device_profile_fuse(lsec_device_fuse_field *out, const lsec_device_profile *p,
			     lsec_device_fuse fuse, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(p);
	LSEC_ENSURE((unsigned)fuse < LSEC_FUSE_COUNT, LSEC_E_USAGE, "no fuse %d", (int)fuse);
	LSEC_ENSURE(p->fuse_ok[fuse], LSEC_E_TGT_UNSUPPORTED,
		    "fuse %s: not supported by this device (profile %s)", fuse_keys[fuse], p->name);
	*out = p->fuses[fuse];
out:
	return rc;
}

/* ---- executing helpers ---------------------------------------------------------------- */

static uint32_t param_value(const lsec_device_profile *p, const lsec_device_profile_args *a,
			    int i)
{
	switch (1u << i) {
	case P_ADDR:
		return a->addr;
	case P_LEN:
		return a->len;
	case P_WORD:
		return a->word;
	case P_N:
		return a->n;
	case P_BITS:
		return p->lay.otp_inverted ? ~a->bits : a->bits;
	case P_SLOT:
		return a->slot;
	case P_WADDR:
		return p->lay.otp_base + 4u * a->word;
	default:
		return 0;
	}
}

/*
 * Refuses a word or slot outside the profile's layout, so that a caller's
 * bad number never becomes an address outside the OTP (the flash range is
 * checked by the generic device layer before any backend call).
 */
static int param_check(const lsec_device_profile *p, const lsec_device_profile_args *a, int i,
		       lsec_err *err)
{
	int rc = 0;
	unsigned bit = 1u << i;
	if (bit == P_WORD || bit == P_WADDR) {
		LSEC_ENSURE(a->word < p->lay.otp_words, LSEC_E_TGT_RANGE,
			    "profile %s: OTP word %lu is outside its %lu words", p->name,
			    (unsigned long)a->word, (unsigned long)p->lay.otp_words);
	} else if (bit == P_SLOT) {
		LSEC_ENSURE(a->slot < p->lay.key_slots, LSEC_E_TGT_RANGE,
			    "profile %s: key slot %lu is outside its %lu slots", p->name,
			    (unsigned long)a->slot, (unsigned long)p->lay.key_slots);
	}
out:
	return rc;
}

int lsec_device_profile_value_get(uint32_t *out, const lsec_device_profile *p,
				  const lsec_device_profile_value *v,
				  const lsec_device_profile_args *args, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(out != NULL && p != NULL && v != NULL, LSEC_E_USAGE, "missing argument");
	if (v->param == NULL) {
		*out = v->number;
		goto out;
	}
	int i = param_index(v->param, strlen(v->param));
	LSEC_ENSURE(args != NULL && i >= 0 && (1u << i) != P_HEX, LSEC_E_USAGE,
		    "profile %s: no value for placeholder {%s}", p->name, v->param);
	LSEC_TRY(param_check(p, args, i, err));
	*out = param_value(p, args, i);
out:
	return rc;
}

int lsec_device_profile_expand(char **out, const lsec_device_profile *p, const char *tmpl,
			       const lsec_device_profile_args *args, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(1u << 24);
	LSEC_ENSURE(out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	*out = NULL;
	LSEC_ENSURE(p != NULL && tmpl != NULL, LSEC_E_USAGE, "missing argument");
	for (const char *s = tmpl; *s != '\0';) {
		const char *open = strchr(s, '{');
		size_t plain = open != NULL ? (size_t)(open - s) : strlen(s);
		LSEC_TRY(lsec_buf_append(&b, (const uint8_t *)s, plain, err));
		if (open == NULL) {
			break;
		}
		const char *close = strchr(open, '}');
		LSEC_ENSURE(close != NULL, LSEC_E_USAGE, "profile %s: '{' without '}' in \"%s\"",
			    p->name, tmpl);
		int i = param_index(open + 1, (size_t)(close - open - 1));
		LSEC_ENSURE(i >= 0 && args != NULL, LSEC_E_USAGE,
			    "profile %s: no value for placeholder '%.*s'", p->name,
			    (int)(close - open + 1), open);
		LSEC_TRY(param_check(p, args, i, err));
		char num[24];
		const char *piece = num;
		unsigned bit = 1u << i;
		if (bit == P_HEX) {
			LSEC_ENSURE(args->hex != NULL, LSEC_E_USAGE,
				    "profile %s: no value for placeholder {hex}", p->name);
			piece = args->hex;
		} else if (bit == P_ADDR || bit == P_LEN || bit == P_BITS || bit == P_WADDR) {
			snprintf(num, sizeof(num), "0x%lx", (unsigned long)param_value(p, args, i));
		} else {
			snprintf(num, sizeof(num), "%lu", (unsigned long)param_value(p, args, i));
		}
		LSEC_TRY(lsec_buf_append(&b, (const uint8_t *)piece, strlen(piece), err));
		s = close + 1;
	}
	*out = lsec_calloc(1, b.len + 1);
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory");
	if (b.len > 0) {
		memcpy(*out, b.data, b.len);
	}
out:
	if (b.data != NULL) {
		lsec_wipe(b.data, b.len); /* {hex} may be a key */
	}
	lsec_buf_release(&b);
	return rc;
}

/* Both texts are numbers (decimal or 0x hex) and equal, or the texts are equal. */
static bool same_value(const char *a, const char *b)
{
	uint32_t x = 0, y = 0;
	if (parse_u32(&x, a) && parse_u32(&y, b)) {
		return x == y;
	}
	return strcmp(a, b) == 0;
}

int lsec_device_profile_match(const char **label, const lsec_device_profile *p, int which,
			      const char *read, lsec_err *err)
{
	int rc = 0;
	char list[400] = "";
	LSEC_ENSURE(label != NULL, LSEC_E_USAGE, "missing argument 'label'");
	*label = NULL;
	LSEC_ENSURE(p != NULL && read != NULL && (which == 0 || which == 1), LSEC_E_USAGE,
		    "missing argument");
	const valmap *vm = &p->values[which];
	const char *what = which == 0 ? "chip family" : "chip revision";
	LSEC_ENSURE(vm->supported, LSEC_E_TGT_UNSUPPORTED,
		    "%s: not supported by this device (profile %s)", what, p->name);
	for (size_t i = 0; i < vm->n; i++) {
		if (same_value(vm->keys[i], read)) {
			*label = vm->labels[i];
			goto out;
		}
	}
	for (size_t i = 0; i < vm->n; i++) {
		size_t at = strlen(list);
		snprintf(list + at, sizeof(list) - at, "%s%s (%s)", i ? ", " : "", vm->keys[i],
			 vm->labels[i]);
	}
	LSEC_ENSURE(false, LSEC_E_TGT_WRONG_CHIP,
		    "%s: the device reads '%.60s', which profile %s does not know (expected %s)",
		    what, read, p->name, list);
out:
	return rc;
}

int lsec_device_profile_check_product(const lsec_device_profile *p, const char *family,
				      const char *revision, const char *device_revision,
				      lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(p);
	if (family == NULL) {
		goto out;
	}
	LSEC_ENSURE(strcmp(family, p->family) == 0, LSEC_E_TGT_WRONG_CHIP,
		    "wrong chip: the product is for family '%s', the device (profile %s) is family "
		    "'%s'",
		    family, p->name, p->family);
	if (revision == NULL) {
		goto out;
	}
	bool known = false;
	for (size_t i = 0; i < p->values[1].n && !known; i++) {
		known = strcmp(p->values[1].labels[i], revision) == 0;
	}
	LSEC_ENSURE(p->values[1].supported, LSEC_E_TGT_WRONG_CHIP,
		    "wrong chip: the product needs revision '%s', and profile %s cannot read the "
		    "chip revision",
		    revision, p->name);
	LSEC_ENSURE(known, LSEC_E_TGT_WRONG_CHIP,
		    "wrong chip: the product needs revision '%s', which profile %s does not know",
		    revision, p->name);
	LSEC_ENSURE(device_revision == NULL || strcmp(device_revision, revision) == 0,
		    LSEC_E_TGT_WRONG_CHIP,
		    "wrong chip: the product needs revision '%s', the device is revision '%s' "
		    "(profile %s)",
		    revision, device_revision, p->name);
out:
	return rc;
}
