/*
 * station.c - the station handle: registry, station key, line CA, people,
 * the compiled-in deny list of published keys and default SOPs, approved SOP versions.
 *
 * @test tests/unit/station/test_station.c
 */
#include "station/station_int.h"

#include "linesec/line.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static const struct {
	int code;
	const char *name;
} station_codes[] = {
	{LSEC_E_STATION_CONFIG, "station-config"},
	{LSEC_E_STATION_SAMPLE_KEY, "sample-key"},
	{LSEC_E_STATION_RELEASE, "no-approved-release"},
	{LSEC_E_STATION_SELF_APPROVAL, "self-approval"},
	{LSEC_E_STATION_CLONE, "cloned-uid"},
	{LSEC_E_STATION_HAS_IDENTITY, "has-identity"},
	{LSEC_E_STATION_ROLE, "role"},
	{LSEC_E_STATION_SHIP_GATE, "ship-gate"},
	{LSEC_E_STATION_QUOTA, "quota"},
	{LSEC_E_STATION_NOT_CONFIRMED, "not-confirmed"},
	{LSEC_E_STATION_NOT_GENUINE, "not-genuine"},
	{LSEC_E_STATION_STEP, "step-failed"},
	{LSEC_E_STATION_STOP_LINE, "stop-line"},
	{LSEC_E_STATION_WRONG_STATE, "wrong-state"},
};

const char *lsec_station_code_name(int code)
{
	for (size_t i = 0; i < sizeof(station_codes) / sizeof(station_codes[0]); i++) {
		if (station_codes[i].code == code) {
			return station_codes[i].name;
		}
	}
	return NULL;
}

/* ---- the deny list of published keys ----------------------------------------------- */

/*
 * The hashes are computed once from the compiled-in PEM files (the same
 * bytes as data/denied-keys/), so the list cannot drift from the keys.
 * An image names its key by the SHA-256 of the key as MCUboot's imgtool
 * embeds it: the SubjectPublicKeyInfo DER for ECDSA and Ed25519, but the
 * PKCS#1 RSAPublicKey DER for RSA. A denied RSA key is therefore matched
 * under both hashes, or an RSA image signed with it would slip through.
 */
#define MAX_DENIED_KEYS 256
static struct {
	uint8_t spki_hash[32];
	uint8_t image_hash[32]; /* equal to spki_hash except for RSA */
	char name[80];
	char origin[320];
	bool ok;
} denied[MAX_DENIED_KEYS];
static pthread_once_t denied_once = PTHREAD_ONCE_INIT;

/* SHA-256 of the DER that i2d writes for pk. */
static int der_hash(uint8_t out[32], EVP_PKEY *pk, int (*i2d)(const EVP_PKEY *, unsigned char **),
		    lsec_err *err)
{
	int rc = 0;
	unsigned char *der = NULL;
	int n = i2d(pk, &der);
	LSEC_ENSURE(n > 0, LSEC_E_CRYPTO, "cannot encode the public key");
	LSEC_TRY(lsec_sha256(out, der, (size_t)n, err));
out:
	OPENSSL_free(der);
	return rc;
}

int lsec_station__key_hashes(uint8_t spki[32], uint8_t image[32], struct evp_pkey_st *pk,
			     lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(pk);
	LSEC_TRY(der_hash(spki, pk, i2d_PUBKEY, err));
	memcpy(image, spki, 32);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		/* i2d_PublicKey writes an RSA key as PKCS#1 RSAPublicKey, which MCUboot hashes. */
		LSEC_TRY(der_hash(image, pk, i2d_PublicKey, err));
	}
out:
	return rc;
}

/*
 * Sets the origin of the key called name from the first row of KEYS.tsv
 * that lists it: "https://github.com/<repository>/blob/<commit>/<path>".
 * A key without a row keeps an origin that says so (a test forbids it).
 */
static void denied_origin(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "no provenance listed");
	if (lsec_station__denied_list_count == 0) {
		return;
	}
	const char *p = (const char *)lsec_station__denied_list[0].data;
	const char *end = p + lsec_station__denied_list[0].len;
	size_t nlen = strlen(name);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;
		const char *f[6];
		size_t flen[6];
		size_t nf = 0;
		const char *q = p;
		const char *lend = eol != NULL ? eol : end;
		while (nf < 6 && q <= lend) {
			const char *tab = memchr(q, '\t', (size_t)(lend - q));
			const char *fe = tab != NULL ? tab : lend;
			f[nf] = q;
			flen[nf++] = (size_t)(fe - q);
			q = fe + 1;
		}
		if (p[0] != '#' && nf == 6 && flen[0] == nlen && strncmp(f[0], name, nlen) == 0) {
			snprintf(out, cap, "https://github.com/%.*s/blob/%.*s/%.*s", (int)flen[3], f[3],
				 (int)flen[5], f[5], (int)flen[4], f[4]);
			return;
		}
		p = next;
	}
}

static void denied_init(void)
{
	for (size_t i = 0; i < lsec_station_sample_key_count(); i++) {
		const lsec_station__file *f = &lsec_station__denied_pems[i];
		BIO *bio = BIO_new_mem_buf(f->data, (int)f->len);
		EVP_PKEY *pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		size_t n = strlen(f->name);
		const char *suffix = ".pub.pem";
		if (n > strlen(suffix) && strcmp(f->name + n - strlen(suffix), suffix) == 0) { /* lint:ok */
			n -= strlen(suffix);
		}
		snprintf(denied[i].name, sizeof(denied[i].name), "%.*s", (int)n, f->name);
		denied_origin(denied[i].origin, sizeof(denied[i].origin), denied[i].name);
		denied[i].ok = pk != NULL && lsec_station__key_hashes(denied[i].spki_hash,
								      denied[i].image_hash, pk,
								      NULL) == 0;
		EVP_PKEY_free(pk);
		BIO_free(bio);
	}
}

size_t lsec_station_sample_key_count(void)
{
	return lsec_station__denied_pems_count < MAX_DENIED_KEYS ? lsec_station__denied_pems_count
								 : MAX_DENIED_KEYS;
}

bool lsec_station_sample_key_at(size_t i, const uint8_t **hash, const char **name)
{
	pthread_once(&denied_once, denied_init);
	if (i >= lsec_station_sample_key_count() || !denied[i].ok) {
		return false;
	}
	*hash = denied[i].spki_hash;
	*name = denied[i].name;
	return true;
}

bool lsec_station_sample_key(const char **name_out, const char **origin_out,
			     const uint8_t key_hash[32])
{
	pthread_once(&denied_once, denied_init);
	for (size_t i = 0; i < lsec_station_sample_key_count(); i++) {
		/* Public values: no secret is compared here. */
		if (denied[i].ok && (memcmp(denied[i].spki_hash, key_hash, 32) == 0 || /* lint:ok */
				     memcmp(denied[i].image_hash, key_hash, 32) == 0)) { /* lint:ok */
			if (name_out != NULL) {
				*name_out = denied[i].name;
			}
			if (origin_out != NULL) {
				*origin_out = denied[i].origin;
			}
			return true;
		}
	}
	return false;
}

/* ---- default SOPs ---------------------------------------------------------------------- */

size_t lsec_station_default_sop_count(void)
{
	return lsec_station__sops_count;
}

bool lsec_station_default_sop(size_t i, const char **name, const uint8_t **data, size_t *len)
{
	if (i >= lsec_station__sops_count) {
		return false;
	}
	*name = lsec_station__sops[i].name;
	*data = lsec_station__sops[i].data;
	*len = lsec_station__sops[i].len;
	return true;
}

int lsec_station_write_default_sops(const char *dir, lsec_err *err)
{
	int rc = 0;
	char *path = NULL;
	LSEC_ENSURE_REF(dir);
	LSEC_TRY(lsec_mkdir_p(dir, 0755, err));
	for (size_t i = 0; i < lsec_station__sops_count; i++) {
		lsec_free(path);
		path = lsec_asprintf("%s/%s", dir, lsec_station__sops[i].name);
		LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "cannot write default SOPs: out of memory");
		if (access(path, F_OK) == 0) {
			continue; /* an edited SOP is never overwritten */
		}
		LSEC_TRY(lsec_file_write_new(path, lsec_station__sops[i].data,
					     lsec_station__sops[i].len, 0644, err));
	}
out:
	lsec_free(path);
	return rc;
}

/* ---- crash hook ------------------------------------------------------------------------- */

void lsec_station__crash_point(const char *sop, const char *step, const char *phase)
{
	const char *want = getenv("LINESEC_TEST_CRASH_AT");
	if (want == NULL || want[0] == '\0') {
		return;
	}
	char here[160];
	int n = snprintf(here, sizeof(here), "%s:%s:%s", sop, step, phase);
	if (n > 0 && (size_t)n < sizeof(here) && lsec_station__eq(here, want)) {
		raise(SIGKILL);
	}
}

/* ---- the handle ---------------------------------------------------------------------------- */

int lsec_station_open(lsec_station **out, const lsec_station_config *cfg, lsec_err *err)
{
	int rc = 0;
	lsec_station *st = NULL;
	LSEC_ENSURE_REF(out);
	*out = NULL;
	LSEC_ENSURE_REF(cfg);
	LSEC_ENSURE(cfg->version == LSEC_STATION_CONFIG_VERSION, LSEC_E_USAGE,
		    "cannot open station: configuration version %u (expected %u)", cfg->version,
		    LSEC_STATION_CONFIG_VERSION);
	LSEC_ENSURE(cfg->registry != NULL, LSEC_E_STATION_CONFIG,
		    "cannot open station: no registry configured");
	LSEC_ENSURE(cfg->station_id != NULL && cfg->line_dir != NULL, LSEC_E_STATION_CONFIG,
		    "cannot open station: station id and line folder are required");
	st = lsec_calloc(1, sizeof(*st));
	LSEC_ENSURE(st != NULL, LSEC_E_NOMEM, "cannot open station: out of memory");
	st->cfg = cfg;
	LSEC_TRY(lsec_store_open(&st->store, cfg->registry, err));
	LSEC_TRY(lsec_line_anchor_check(st->store, cfg->line_dir, err));
	if (cfg->station_key != NULL) {
		LSEC_TRY(lsec_key_load_private(&st->station_key, cfg->station_key, NULL, err));
		LSEC_ENSURE(lsec_key_get_type(st->station_key) == LSEC_KEY_ED25519,
			    LSEC_E_STATION_CONFIG,
			    "cannot open station: station key '%s' is not an Ed25519 key",
			    cfg->station_key);
		/* Every leaf this station writes carries its signature. */
		lsec_audit_signer *signer = NULL;
		LSEC_TRY(lsec_line_signer_new(&signer, cfg->line_dir,
					      cfg->line_id ? cfg->line_id : "line", cfg->station_id,
					      lsec_key_evp(st->station_key), err));
		lsec_audit_signer_attach(st->store, signer);
	} else {
		/* Without its key the station writes nothing, and reads only checked leaves. */
		lsec_audit_signer *verifier = NULL;
		LSEC_TRY(lsec_line_verifier_new(&verifier, cfg->line_dir,
						cfg->line_id ? cfg->line_id : "line", err));
		lsec_audit_signer_attach(st->store, verifier);
	}
	/* The other stations whose leaves it trusts: those the log trusts. */
	LSEC_TRY(lsec_line_trust_log(st->store, err));
	/* A killed run's label left in the spool folder: destroyed before anything else. */
	LSEC_TRY(lsec_station__label_sweep(st, err));
	*out = st;
	st = NULL;
out:
	lsec_station_close(st);
	return rc;
}

void lsec_station_close(lsec_station *st)
{
	if (st == NULL) {
		return;
	}
	lsec_ca_free(st->ca);
	for (size_t i = 0; i < st->nkeys; i++) {
		lsec_key_free(st->keys[i].key);
	}
	lsec_free(st->keys);
	lsec_key_free(st->station_key);
	lsec_store_close(st->store);
	lsec_free(st);
}

lsec_store *lsec_station_store(lsec_station *st)
{
	return st == NULL ? NULL : st->store;
}

int lsec_station__key_decode(const lsec_key **out, uint8_t fp_out[32], lsec_station *st,
			     const uint8_t *der, size_t len, lsec_err *err)
{
	int rc = 0;
	uint8_t h[32], fp[32];
	lsec_key *k = NULL;
	*out = NULL;
	LSEC_TRY(lsec_sha256(h, der, len, err));
	for (size_t i = 0; i < st->nkeys; i++) {
		if (lsec_ct_equal(st->keys[i].der_sha256, h, 32)) {
			*out = st->keys[i].key;
			memcpy(fp_out, st->keys[i].fp, 32);
			goto out;
		}
	}
	LSEC_TRY(lsec_key_from_spki(&k, der, len, err));
	LSEC_TRY(lsec_key_fingerprint(fp, k, err));
	if (st->nkeys == st->keys_cap) {
		size_t cap = st->keys_cap == 0 ? 8 : 2 * st->keys_cap;
		lsec_station__key_entry *grown = lsec_realloc(st->keys, cap * sizeof(*grown));
		LSEC_ENSURE(grown != NULL, LSEC_E_NOMEM, "cannot decode a public key: out of memory");
		st->keys = grown;
		st->keys_cap = cap;
	}
	lsec_station__key_entry *e = &st->keys[st->nkeys++];
	memcpy(e->der_sha256, h, 32);
	memcpy(e->fp, fp, 32);
	e->key = k;
	k = NULL;
	*out = e->key;
	memcpy(fp_out, e->fp, 32);
out:
	lsec_key_free(k);
	return rc;
}

int lsec_station__ca(lsec_ca **out, lsec_station *st, lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	if (st->ca == NULL) {
		LSEC_ENSURE(st->cfg->ca_dir != NULL, LSEC_E_STATION_CONFIG,
			    "cannot provision: no line CA folder configured");
		LSEC_TRY(lsec_ca_open(&st->ca, st->cfg->ca_dir, st->cfg->ca_unlock, err));
	}
	*out = st->ca;
out:
	return rc;
}

int lsec_station__require_role(lsec_station *st, const char *person, const char *role,
			       const char *what, lsec_err *err)
{
	int rc = 0;
	lsec_store_person p;
	lsec_err inner = LSEC_ERR_INIT;
	memset(&p, 0, sizeof(p));
	LSEC_ENSURE(person != NULL && person[0] != '\0', LSEC_E_STATION_ROLE,
		    "cannot %s: nobody is logged in as %s", what, role);
	/* The row as its person leaf records it: a role raised by SQL is refused, named. */
	rc = lsec_line_person_get(&p, st->store, person, &inner);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_STATION_ROLE, "cannot %s: '%s' is not a person of this line", what,
			  person);
	}
	if (rc < 0) {
		*err = inner;
		goto out;
	}
	LSEC_ENSURE(!p.disabled, LSEC_E_STATION_ROLE, "cannot %s: '%s' is disabled", what, person);
	LSEC_ENSURE(lsec_station__eq(lsec_role_name(p.role), role), LSEC_E_STATION_ROLE,
		    "cannot %s: '%s' is a %s, the step needs a %s", what, person,
		    lsec_role_name(p.role), role);
out:
	lsec_wipe(p.pw_hash, sizeof(p.pw_hash));
	return rc;
}

int lsec_station__leaf(lsec_station *st, const char *person, const char *unit,
		       const char *action, const char *outcome, const json_t *evidence,
		       lsec_err *err)
{
	lsec_audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.person = person;
	ev.station = st->cfg->station_id;
	ev.unit = unit;
	ev.action = action;
	ev.outcome = outcome;
	ev.evidence = evidence;
	return lsec_audit_record(NULL, st->store, &ev, err);
}

int lsec_station__record(lsec_station *st, const char *unit, const char *action,
			 const char *outcome, const json_t *evidence, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_station__leaf(st, st->cfg->operator_name, unit, action, outcome, evidence,
				    err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	return rc;
}
