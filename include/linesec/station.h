/*
 * linesec/station.h - the station: releases, the SOPs run on units, the
 * ship gate, gang runs and crash recovery.
 *
 * The station runs the approved version of a SOP (src/sop) on one unit
 * through the device interface (src/device), recording every step in the
 * registry (src/store) together with its audit leaf (src/audit):
 *
 *     intent:  begin -> step started (its parameters) -> audit leaf -> commit
 *     act on the device, then read back
 *     outcome: begin -> step finished (evidence) [-> registry change]
 *              -> audit leaf -> commit
 *
 * Invariants:
 *  - Nothing is written to a device before its UID has been checked against
 *    the registry: a UID held by another serial (a cloned chip) or a unit
 *    that already holds an identity when it should be blank is stopped.
 *  - Every action is idempotent against the device: it reads the device
 *    back first and completes, repeats (when repeating is safe) or refuses.
 *    A run interrupted by a crash is closed as "interrupted" on the next
 *    run of the unit, and the SOP runs again from its first step, so an
 *    unfinished step is reconciled by reading the device back, never by
 *    guessing. Fuse bits only go from 0 to 1: a partial burn whose bits are
 *    all in the wanted value is completed; anything else is quarantined.
 *  - Only lsec_station_ship (the ship gate) moves a unit to shipped; it
 *    names the first missing piece of evidence when it refuses.
 *  - A station handle is used by one thread at a time; a gang run opens one
 *    per socket (its own registry connection and device session).
 *
 * Idiom:
 *     lsec_station_config cfg = LSEC_STATION_CONFIG_INIT;
 *     cfg.registry = "line/registry.db"; cfg.line_dir = "line"; ...
 *     lsec_station *st = NULL;
 *     lsec_station_result res;
 *     LSEC_TRY(lsec_station_open(&st, &cfg, err));
 *     rc = lsec_station_build(&res, st, "sim:fleet/unit-001.sim", NULL, err);
 *     if (rc < 0 && res.failed) puts(res.message);   what the operator does next
 *     lsec_station_close(st);
 */
#ifndef LINESEC_STATION_H
#define LINESEC_STATION_H

#include "linesec/line.h"
#include "linesec/sop.h"
#include "linesec/store.h"
#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

/* Station error codes (-400..-449; offset 30-39 policy, 40-49 state). */
enum {
	LSEC_E_STATION_CONFIG = -400,      /* the station's configuration is incomplete */
	LSEC_E_STATION_SAMPLE_KEY = -430,  /* image signed with a published (denied) key */
	LSEC_E_STATION_RELEASE = -431,     /* no approved release, or it is revoked */
	LSEC_E_STATION_SELF_APPROVAL = -432, /* the submitter cannot approve */
	LSEC_E_STATION_CLONE = -433,       /* the UID is held by another unit */
	LSEC_E_STATION_HAS_IDENTITY = -434, /* a blank unit already holds a key or certificate */
	LSEC_E_STATION_ROLE = -435,        /* the person lacks the role the step needs */
	LSEC_E_STATION_SHIP_GATE = -436,   /* the ship gate refused: evidence missing */
	LSEC_E_STATION_QUOTA = -437,       /* the release's production quota is reached */
	LSEC_E_STATION_NOT_CONFIRMED = -438, /* a manual step was not confirmed */
	LSEC_E_STATION_NOT_GENUINE = -439, /* a returned unit failed the genuineness check */
	LSEC_E_STATION_STEP = -440,        /* a step failed; the unit was handled per the SOP */
	LSEC_E_STATION_STOP_LINE = -441,   /* a step failed with stop-line: the line stops */
	LSEC_E_STATION_WRONG_STATE = -442, /* the unit is not in the state the SOP starts from */
};

/* Stable short name of a station code ("sample-key", ...); NULL for other codes. */
LSEC_API const char *lsec_station_code_name(int code);

/* ---- the deny list of published keys ------------------------------------ */

/*
 * The deny list: firmware signing keys whose private halves were published
 * (MCUboot's sample and test keys, and the sample, test and development
 * keys of other firmware SDKs), compiled in from data/denied-keys/. A
 * release signed with one is refused at approval and at flashing.
 *
 * Whether key_hash is a denied key. key_hash is the SHA-256 of a DER
 * SubjectPublicKeyInfo (lsec_key_fingerprint) or an image's key hash
 * (lsec_image_key_hash: for RSA, MCUboot hashes the PKCS#1 RSAPublicKey,
 * and a denied RSA key matches under both). *name_out and *origin_out
 * (either may be NULL) get the key's name ("mcuboot-root-ed25519") and
 * where it was published (a URL of the file and commit); both are static.
 */
/* The change of trust that adds a key to the line's deny list: payload {name, key-sha256, ...}. */
#define LSEC_STATION_CHANGE_DENY_KEY "denied-key-add"
/*
 * Requests (lsec_line_change_request) that the line add the public key in
 * pub_path to its deny list under name, published at origin. Nothing is
 * denied until a second, distinct officer approves it with
 * lsec_line_change_approve(..., lsec_station_denied_key_apply, NULL, ...),
 * which records a denied-key.add leaf; release approval, flashing and
 * product key registration then refuse the key. The built-in list is never
 * weakened and no line removes a key. Errors: LSEC_E_EXISTS (denied
 * already), those of lsec_key_load_public and lsec_line_change_request.
 */
LSEC_API LSEC_MUST_USE int lsec_station_denied_key_request(int64_t *id_out, lsec_line *line,
							   const lsec_line_actor *by,
							   const char *name, const char *pub_path,
							   const char *origin, lsec_err *err);
/*
 * The lsec_line_change_apply_fn of a denied-key-add change (ctx unused):
 * records its denied-key.add leaf in the approval's transaction. Another
 * kind is refused with LSEC_E_USAGE.
 */
LSEC_API LSEC_MUST_USE int lsec_station_denied_key_apply(void *ctx, lsec_line *line,
							 const lsec_store_change *change,
							 const char *approver, lsec_err *err);
/* The change of trust that withdraws a SOP version from every station. */
#define LSEC_STATION_CHANGE_SOP_WITHDRAW "sop-withdraw"
/*
 * Requests (lsec_line_change_request, by a signing security officer) that
 * version of SOP name be withdrawn from every station, for reason. Nothing
 * changes until a second, distinct officer approves it with
 * lsec_line_change_approve(..., lsec_station_change_apply, NULL, ...),
 * which records a sop.withdraw leaf (lsec_sop_withdraw_record); from then
 * on no station runs that version, nor an older one in its place.
 * Errors: LSEC_E_USAGE (no reason), LSEC_E_STATE (withdrawn already),
 * those of lsec_sop_fetch and lsec_line_change_request.
 */
LSEC_API LSEC_MUST_USE int lsec_station_sop_withdraw_request(int64_t *id_out, lsec_line *line,
							     const lsec_line_actor *by,
							     const char *name, int version,
							     const char *reason, lsec_err *err);
/*
 * The lsec_line_change_apply_fn of the station's kinds of change (ctx
 * unused): a sop-withdraw records its withdrawal, a denied-key-add its
 * denied-key.add leaf (lsec_station_denied_key_apply); another kind is
 * refused with LSEC_E_USAGE.
 */
LSEC_API LSEC_MUST_USE int lsec_station_change_apply(void *ctx, lsec_line *line,
						     const lsec_store_change *change,
						     const char *approver, lsec_err *err);
LSEC_API bool lsec_station_sample_key(const char **name_out, const char **origin_out,
				      const uint8_t key_hash[32]);
/* The number of denied keys, and the i-th (SubjectPublicKeyInfo hash, name). */
LSEC_API size_t lsec_station_sample_key_count(void);
LSEC_API bool lsec_station_sample_key_at(size_t i, const uint8_t **hash, const char **name);

/* ---- the default SOPs ---------------------------------------------------- */

/*
 * The default SOP files compiled into the program (the .yaml files of the
 * source tree's sops folder): the file name and its bytes, borrowed and
 * static.
 */
LSEC_API size_t lsec_station_default_sop_count(void);
LSEC_API bool lsec_station_default_sop(size_t i, const char **name, const uint8_t **data,
				       size_t *len);
/*
 * Writes the default SOPs into dir (created if missing; existing files are
 * kept). Errors: LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_station_write_default_sops(const char *dir, lsec_err *err);

/* ---- configuration and handle ------------------------------------------- */

/*
 * A product the station builds. Its firmware verification key is a
 * registry record (lsec_station_product_key_submit), never a file.
 */
typedef struct lsec_station_product {
	const char *id;
	/* The chip it is made on (lsec_line_product_chip; NULL: not said), checked first. */
	const char *family, *revision;
} lsec_station_product;

/*
 * The operator scans (or types) the serial printed on a unit's label: the
 * text read into out (outlen bytes, NUL-terminated); "" when nothing was
 * read. prompt says which unit's label.
 */
typedef int (*lsec_station_scan_cb)(void *ctx, const char *person, const char *prompt,
				    char *out, size_t outlen, lsec_err *err);

/* Called for a manual step: set *ok to whether person confirmed it. */
typedef int (*lsec_station_confirm_cb)(void *ctx, const char *person, const char *role,
				       const char *text, bool *ok, lsec_err *err);

/*
 * The witness signs now: witness types their password at this moment and it
 * is checked (lsec_line_sign, for the role role); what names the act in the
 * prompt and in messages. With probe, nothing is signed: 0 when the witness
 * could sign (a password can be asked for), so a run that will need a
 * witness is refused before its first step. Called from one thread at a
 * time per station; a gang run's sockets call it concurrently, so it
 * serialises itself. Returns 0 when signed, LSEC_E_AUTH when not.
 */
typedef int (*lsec_station_witness_cb)(void *ctx, const char *witness, const char *role,
				       const char *what, bool probe, lsec_err *err);

/* Progress of a run: a step starts (outcome NULL) or ends. */
typedef void (*lsec_station_progress_cb)(void *ctx, unsigned socket, const char *serial,
					 const char *sop, const char *step, const char *outcome);

typedef struct lsec_station_config {
	unsigned version;
	const char *registry;    /* SQLite path or postgresql:// URL */
	const char *line_id;     /* origin of checkpoints */
	const char *station_id;
	const char *line_dir;    /* label files go to <line_dir>/labels */
	const char *ca_dir;      /* the line CA folder */
	const lsec_secret *ca_unlock; /* CA passphrase or PIN (borrowed) */
	const char *station_key; /* Ed25519 private key signing checkpoints (PEM) */
	const lsec_station_product *products;
	size_t nproducts;
	const char *operator_name;  /* the logged-in person running the line */
	const char *witness_name;   /* a second logged-in person (witness steps); may be NULL */
	bool batch;              /* manual steps confirmed by their person in batch mode */
	lsec_station_confirm_cb confirm; /* interactive confirmation (when not batch) */
	void *confirm_ctx;
	lsec_station_progress_cb progress;
	void *progress_ctx;
	unsigned socket;         /* socket number shown to the operator (from 1) */
	uint32_t sample_seed;    /* selects the units of sampled steps */
	const char *checkpoint_dir; /* exported checkpoints; NULL: <line_dir>/checkpoints */
	/*
	 * The witness's signature (witness steps, scrap): NULL, and no step or
	 * destruction is ever witnessed. A session is never a witness by itself.
	 */
	lsec_station_witness_cb witness_sign;
	void *witness_ctx;
	/*
	 * The product a new unit is registered as (one of products); NULL: the
	 * line's only product. With several and none named, a new unit is
	 * refused before anything is written to it.
	 */
	const char *product;
	/*
	 * The label printer's spool folder identity labels are delivered to
	 * (line.yaml's `labels`); NULL: <line_dir>/labels. A label carrying an
	 * initial credential is written there (mode 0640) and is accepted when
	 * the printer's spooler takes it (the file is gone) within
	 * label_accept_seconds (0: LSEC_LINE_LABEL_ACCEPT_SECONDS); not taken
	 * by then, it is overwritten and removed and the step fails. Nothing
	 * else accepts a label.
	 */
	const char *label_dir;
	unsigned label_accept_seconds;
	/*
	 * Not batch: once the printer took a unit's label, the operator scans
	 * (or types) the serial printed on it, which must be the unit's; with
	 * no callback an interactive run cannot confirm a label and the step
	 * fails. Called with confirm_ctx. Batch runs rely on the spooler alone.
	 */
	lsec_station_scan_cb label_scan;
} lsec_station_config;

#define LSEC_STATION_CONFIG_VERSION 1u
#define LSEC_STATION_CONFIG_INIT                                                                   \
	{LSEC_STATION_CONFIG_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,      \
	 NULL, false, NULL, NULL, NULL, NULL, 1, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL}

typedef struct lsec_station lsec_station;

/*
 * Opens a station: the registry, checked against the line folder's anchor
 * (lsec_line_anchor_check), the station key; the CA is opened when a
 * provisioning step first needs it. cfg and what it points to must outlive
 * the handle. *out is freed with lsec_station_close.
 * Errors: LSEC_E_STATION_CONFIG, LSEC_E_USAGE, LSEC_E_STORE_ANCHOR, store
 * errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_open(lsec_station **out, const lsec_station_config *cfg,
					     lsec_err *err);
LSEC_API void lsec_station_close(lsec_station *st);
/* The registry (borrowed). */
LSEC_API lsec_store *lsec_station_store(lsec_station *st);

/* ---- a station set up from its line folder ------------------------------ */

/*
 * What the command line needs to act at a station: the line (line.yaml),
 * the person acting (the session of `as`, or of the only person logged in
 * when as is NULL, holding one of roles), a second
 * logged-in person for witness steps, and the station configuration built
 * from them. The line CA is <line>/ca (or $LINESEC_CA); a product's firmware
 * key is its registry record (lsec_station_product_key_submit).
 * Errors: those of lsec_line_open and lsec_line_authorize.
 */
typedef struct lsec_station_setup lsec_station_setup;
LSEC_API LSEC_MUST_USE int lsec_station_setup_open(lsec_station_setup **out, const char *dir,
						   const char *as, unsigned roles,
						   const char *action, lsec_err *err);
/*
 * An SOP against the line CA in ca_dir (opened read-only): one warning line
 * in *out (lsec_free; "" when none) for each ca.issue step whose
 * certificates, issued now for its validity-days, would outlive the CA
 * certificate, naming the SOP, the step, the days and the CA's not-after.
 * A pending CA gives none. Errors: those of lsec_ca_open (LSEC_E_NOTFOUND:
 * no CA there yet), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_sop_ca_check(char **out, const lsec_sop *sop,
						     const char *ca_dir, lsec_err *err);

/* The configuration (borrowed; the caller may set batch, confirm, progress). */
LSEC_API lsec_station_config *lsec_station_setup_config(lsec_station_setup *s);
/* The person acting (borrowed). */
LSEC_API const char *lsec_station_setup_person(const lsec_station_setup *s);
/*
 * Names the witness: name must be logged in on this station and not be the
 * person acting (lsec_line_session_check; their role is checked at each
 * witnessed step). Errors: LSEC_E_USAGE (not an identifier), LSEC_E_AUTH
 * (not logged in here), LSEC_E_STATION_ROLE (the person acting).
 */
LSEC_API LSEC_MUST_USE int lsec_station_setup_witness(lsec_station_setup *s, const char *name,
						      lsec_err *err);
/* The line the setup opened (borrowed): where a witness signs (lsec_line_sign). */
LSEC_API struct lsec_line *lsec_station_setup_line(lsec_station_setup *s);
/*
 * Reads the CA passphrase (or the token PIN) from $LINESEC_CA_PASSPHRASE
 * ($LINESEC_PKCS11_PIN) or a prompt, for provisioning. Never from argv.
 */
LSEC_API LSEC_MUST_USE int lsec_station_setup_unlock_ca(lsec_station_setup *s, lsec_err *err);
LSEC_API void lsec_station_setup_close(lsec_station_setup *s);

/* ---- releases --------------------------------------------------------- */

/*
 * Submits a firmware image as a release of product (by person, who must be
 * a security officer): parses it, keeps a copy in <line_dir>/releases and
 * records product, version, digest and its manifest (image description and
 * optional production quota; 0: none). Nothing is checked against keys
 * yet: approval does that.
 * *id_out (may be NULL) receives the release id.
 * Errors: LSEC_E_IMG_*, LSEC_E_STATION_ROLE, LSEC_E_EXISTS, LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_station_release_submit(int64_t *id_out, lsec_station *st,
						       const char *image_path, const char *product,
						       uint64_t quota, const char *person,
						       lsec_err *err);
/* ---- product keys --------------------------------------------------------- */

/*
 * Submits the public key in pub_path (PEM) as product's firmware
 * verification key, by person (a security officer): its next version
 * ("1", then "2" for a rotation) into version_out (may be NULL), with its
 * product-key.submit leaf. It is the product's key once a second, distinct
 * security officer approves it; until then nothing changes.
 * Errors: LSEC_E_STATION_SAMPLE_KEY (a published key of the deny list),
 * LSEC_E_STATION_CONFIG (not a product of the line), LSEC_E_STATION_ROLE,
 * key errors, LSEC_E_AUDIT_INDEX (a row changed outside linesec).
 */
LSEC_API LSEC_MUST_USE int lsec_station_product_key_submit(char version_out[LSEC_STORE_NAME_MAX + 1],
							   lsec_station *st, const char *product,
							   const char *pub_path, const char *person,
							   lsec_err *err);
/* Key purposes (lsec_station_product_key_show's "purpose"). */
#define LSEC_STATION_KEY_FIRMWARE "firmware"
#define LSEC_STATION_KEY_DEBUG_AUTH "debug-auth"
/*
 * Submits the private key in key_path (PEM, opened with key_pass; NULL
 * when clear) as product's debug-authentication key, by person (a security
 * officer): version "debug-auth-1" (then "-2" for a rotation) into
 * version_out (may be NULL), with its product-key.submit leaf (purpose
 * debug-auth). The station keeps the private half encrypted under
 * keep_pass (PKCS#8, scrypt) in <line_dir>/debug-auth/PRODUCT@VERSION.key.pem;
 * secure boot fuses its digest into DEBUG_AUTH_KEY_DIGEST, and it signs
 * the token of an authenticated erase, once a second officer approved it.
 * Errors as lsec_station_product_key_submit, and LSEC_E_EXISTS (a key the
 * product already has, e.g. its firmware key).
 */
LSEC_API LSEC_MUST_USE int lsec_station_debug_auth_key_submit(
    char version_out[LSEC_STORE_NAME_MAX + 1], lsec_station *st, const char *product,
    const char *key_path, const lsec_secret *key_pass, const lsec_secret *keep_pass,
    const char *person, lsec_err *err);
/*
 * Approves product key id ("PRODUCT@VERSION" or its row id) by person, a
 * security officer other than its submitter; from then on it is the key
 * the product's releases must be signed with and whose digest secure boot
 * fuses (a firmware key), or the key whose digest secure boot fuses into
 * DEBUG_AUTH_KEY_DIGEST and that signs authenticated erases (debug-auth). Errors: LSEC_E_STATION_SELF_APPROVAL, LSEC_E_STATION_SAMPLE_KEY,
 * LSEC_E_EXISTS (approved already), LSEC_E_NOTFOUND, LSEC_E_STATION_ROLE,
 * LSEC_E_AUDIT_INDEX.
 */
LSEC_API LSEC_MUST_USE int lsec_station_product_key_approve(lsec_station *st, const char *id,
							    const char *person, lsec_err *err);
/*
 * The product keys of product (all when NULL) as a JSON array (json_decref):
 * product, version, purpose (firmware, debug-auth), key-sha256,
 * submitted-by, approvers, state (submitted, active, superseded: per
 * purpose), leaf (its submission leaf), created.
 */
LSEC_API LSEC_MUST_USE int lsec_station_product_key_show(struct json_t **out, lsec_station *st,
							 const char *product, lsec_err *err);

/*
 * Approves release id (or "product@version") by person, a security officer
 * other than the submitter, after every image check: signature under the
 * product's firmware key, release build, product, security counter not
 * below the last approved release of the product, and no published sample
 * key. The image is read from the line's release store
 * (<line_dir>/releases/<digest>.img, written by submit) and must still
 * have the recorded digest.
 * Errors: LSEC_E_STATION_SELF_APPROVAL, LSEC_E_STATION_SAMPLE_KEY,
 * LSEC_E_IMG_*, LSEC_E_STATION_ROLE, LSEC_E_NOTFOUND, LSEC_E_STORE_APPROVAL.
 */
LSEC_API LSEC_MUST_USE int lsec_station_release_approve(lsec_station *st, const char *id,
							const char *person, lsec_err *err);
/* Revokes a release (security officer): it is never flashed again. */
LSEC_API LSEC_MUST_USE int lsec_station_release_revoke(lsec_station *st, const char *id,
						       const char *person, lsec_err *err);

/* Where a release stands: revocation is final and outranks approval. */
typedef enum lsec_station_release_state {
	LSEC_STATION_RELEASE_SUBMITTED = 0, /* fewer than two approvals */
	LSEC_STATION_RELEASE_APPROVED,      /* two distinct security officers approved it */
	LSEC_STATION_RELEASE_REVOKED,       /* revoked: never flashed again */
	LSEC_STATION_RELEASE_STATE_COUNT
} lsec_station_release_state;

/* "submitted", "approved", "revoked"; "unknown" out of range. */
LSEC_API const char *lsec_station_release_state_name(lsec_station_release_state s);

/* One release as the registry holds it. */
typedef struct lsec_station_release {
	lsec_store_approvable row; /* id, product (name), version, digest, submitter
				    * (created_by), approvers, created, revoked, revoked_by */
	lsec_station_release_state state;
} lsec_station_release;

/*
 * Every release of the registry, by product then id: *out is an array of *n_out
 * releases, freed with lsec_free.
 * Errors: store errors, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_release_list(lsec_station_release **out, size_t *n_out,
						     lsec_station *st, lsec_err *err);
/*
 * Releases as a canonical JSON array (*out: json_decref) of {id, product,
 * version, digest, submitted-by, approvers, state, created}.
 * Errors: LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_release_list_json(struct json_t **out,
							  const lsec_station_release *rels,
							  size_t n, lsec_err *err);

/* ---- running SOPs --------------------------------------------------------- */

/* What happened to one unit. */
typedef struct lsec_station_result {
	char serial[LSEC_STORE_NAME_MAX + 1];
	lsec_unit_state state;      /* the unit's state at the end */
	bool failed;                /* a step failed (or the unit was stopped) */
	bool stop_line;             /* the line must stop */
	bool shipped;
	char sop[32];               /* the SOP and step that failed */
	char step[LSEC_STORE_NAME_MAX + 1];
	char then[32];              /* what was done: quarantine, stop-line, ... */
	char message[LSEC_ERR_MSG_MAX];          /* what the operator does next, from the SOP */
	unsigned steps_run;
	int cause; /* the LSEC_E_* code the unit failed with (the failed step's), 0 when none */
} lsec_station_result;

/*
 * Runs the approved version of SOP kind on the unit at uri (serial: the
 * unit's serial; NULL: the registered serial of its UID, or a new one).
 * On a failed step the SOP's on-failure is followed and res says what the
 * operator does next. Returns 0 when every step passed.
 * Errors: LSEC_E_STATION_STEP, LSEC_E_STATION_STOP_LINE,
 * LSEC_E_STATION_CLONE, LSEC_E_STATION_HAS_IDENTITY,
 * LSEC_E_STATION_WRONG_STATE, LSEC_E_SOP_NOT_APPROVED, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_run(lsec_station_result *res, lsec_station *st,
					    lsec_sop_kind kind, const char *uri,
					    const char *serial, lsec_err *err);
/*
 * Runs flash, provision, secure-boot and debug-lock in order (from the
 * unit's current state) and then the ship gate.
 */
LSEC_API LSEC_MUST_USE int lsec_station_build(lsec_station_result *res, lsec_station *st,
					      const char *uri, const char *serial,
					      lsec_err *err);
/*
 * The ship gate. First the unit itself, seated at uri (docs/station.md):
 * its UID is the registered and logged one; it signs a fresh challenge
 * with its key slot that verifies under the certificate the log issued it;
 * its fuses read back the approved product key digest the secure-boot leaf
 * recorded, secure boot enabled and write-locked; a debug attach is
 * refused and the console closed; after reset it attests the approved
 * release's digest. Then the records: the four build SOPs passed in order
 * under approved SOP versions and an approved release, by people holding
 * the roles; identity active; credential set; every leaf of the unit
 * included in the verifying log under a fresh checkpoint. Moves the unit
 * to shipped with a leaf holding every device check's evidence.
 * Errors: LSEC_E_STATION_SHIP_GATE naming what is missing (a device check:
 * what the device said and what the log says), LSEC_E_USAGE (no uri),
 * device, store and audit errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_ship(lsec_station *st, const char *serial,
					     const char *uri, lsec_err *err);
/* Signs a checkpoint of the whole log with the station key. */
LSEC_API LSEC_MUST_USE int lsec_station_checkpoint(lsec_station *st, lsec_err *err);

/* ---- units ---------------------------------------------------------------- */

/* One audit leaf of a unit, as its device history record lists it. */
typedef struct lsec_station_unit_event {
	uint64_t seq;
	char time[32];
	char sop[LSEC_STORE_NAME_MAX + 1];
	char step[LSEC_STORE_NAME_MAX + 1];
	char action[LSEC_STORE_NAME_MAX + 1];
	char outcome[LSEC_STORE_NAME_MAX + 1];
	char person[LSEC_STORE_NAME_MAX + 1];
	char *leaf; /* the whole leaf, evidence included: its canonical JSON text */
} lsec_station_unit_event;

/* The device history record of a unit. */
typedef struct lsec_station_unit_record {
	lsec_store_unit unit;             /* its registry row */
	lsec_store_run *runs; /* every run, oldest first, as its leaves record it (never the rows) */
	size_t nruns;
	lsec_station_unit_event *events;  /* every audit leaf, in log order */
	size_t nevents;
	char *proof;            /* the inclusion proof file text, NULL when there is none */
	size_t proof_leaves;    /* the leaves it proves */
	uint64_t proof_tree_size; /* the tree size of the checkpoint it is proven against */
	char proof_missing[LSEC_ERR_MSG_MAX]; /* why there is no proof */
} lsec_station_unit_record;

/*
 * The device history record of a unit: its registry row, every run, every
 * audit leaf (step, who, when, evidence) and an inclusion proof of its
 * leaves against the latest checkpoint. *out is freed with
 * lsec_station_unit_record_free.
 * Errors: LSEC_E_NOTFOUND (no such unit), store errors, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_unit_show(lsec_station_unit_record **out,
						  lsec_station *st, const char *serial,
						  lsec_err *err);
LSEC_API void lsec_station_unit_record_free(lsec_station_unit_record *r);
/*
 * The record as canonical JSON (*out: json_decref): unit (serial, uid,
 * product, state, created, updated), runs, events (the leaves), proof (the
 * proof file, or null and proof-missing). Errors: LSEC_E_NOMEM, LSEC_E_PARSE.
 */
LSEC_API LSEC_MUST_USE int lsec_station_unit_record_json(struct json_t **out,
							 const lsec_station_unit_record *r,
							 lsec_err *err);
/*
 * The units of the registry (only those in *state when not NULL): *out is
 * an array of *n_out rows, freed with lsec_free.
 * Errors: store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_unit_list(lsec_store_unit **out, size_t *n_out,
						  lsec_station *st, const lsec_unit_state *state,
						  lsec_err *err);
/*
 * Units as a canonical JSON array (*out: json_decref) of {serial, uid,
 * product, state, created, updated}. Errors: LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_unit_list_json(struct json_t **out,
						       const lsec_store_unit *units, size_t n,
						       lsec_err *err);

/* ---- failure classes ------------------------------------------------------ */

/*
 * What a failure asks of the fixture: transient (reseat the unit or its
 * probe and try again: a lost link, a timeout, a failed attach, power lost)
 * or permanent (the unit or the line's set-up is wrong: wrong chip, bad or
 * duplicate UID, verify mismatch, protocol error, refused boot, ...). One
 * table (src/station/failclass.c) classifies every code; a code it does not
 * name is permanent, so a lamp never waits on a misconfiguration.
 */
typedef enum lsec_station_failure_class {
	LSEC_FAILURE_NONE = 0, /* no failure (code >= 0) */
	LSEC_FAILURE_TRANSIENT,
	LSEC_FAILURE_PERMANENT,
} lsec_station_failure_class;

LSEC_API lsec_station_failure_class lsec_station_failure_classify(int code);
/* "transient", "permanent", or NULL for LSEC_FAILURE_NONE. */
LSEC_API const char *lsec_station_failure_class_name(lsec_station_failure_class c);

/* ---- fixture files --------------------------------------------------------- */

#define LSEC_STATION_FIXTURE_MAX_SOCKETS 256u

/* One socket of a jig and the probe it is wired to (strings owned by the fixture). */
typedef struct lsec_station_fixture_socket {
	unsigned socket;          /* its number, from 1 */
	const char *probe;        /* device URI: rsp://HOST:PORT?profile=NAME (or sim:PATH) */
	const char *probe_serial; /* the probe's serial as its server reports it; NULL: unchecked */
	const char *serial;       /* the unit serial expected there; NULL: scanned from the unit */
	unsigned line;            /* where the file binds it */
} lsec_station_fixture_socket;

typedef struct lsec_station_fixture lsec_station_fixture;

/*
 * Parses a fixture file (docs/station.md, "Fixture files"): `fixture: 1`,
 * optional `name`, and `sockets`, a list of {socket, probe, probe-serial,
 * serial}; serial `scan` (or none) reads it from the unit. Each socket,
 * probe, probe serial and unit serial is named once. file names the text in
 * errors. *out is freed with lsec_station_fixture_free.
 * Errors: LSEC_E_PARSE "fixture file FILE:LINE:COL: FIELD: what was
 * expected", LSEC_E_LIMIT (file too big), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_fixture_parse(lsec_station_fixture **out,
						      const uint8_t *data, size_t len,
						      const char *file, lsec_err *err);
/* Reads and parses the fixture file at path. Errors: LSEC_E_IO, those of _parse. */
LSEC_API LSEC_MUST_USE int lsec_station_fixture_load(lsec_station_fixture **out,
						     const char *path, lsec_err *err);
LSEC_API void lsec_station_fixture_free(lsec_station_fixture *f);
LSEC_API size_t lsec_station_fixture_count(const lsec_station_fixture *f);
/* The i-th socket in file order, or NULL. */
LSEC_API const lsec_station_fixture_socket *lsec_station_fixture_at(const lsec_station_fixture *f,
								    size_t i);
LSEC_API const char *lsec_station_fixture_file(const lsec_station_fixture *f);

/* ---- gang runs ------------------------------------------------------------ */

/* One unit of a gang run, in the order the sockets took them. */
typedef struct lsec_station_gang_unit {
	char *uri;               /* the unit's device (owned by the summary) */
	int rc;                  /* 0, or the LSEC_E_* code its build failed with */
	char error[256];         /* the failure's message when rc < 0 */
	lsec_station_result res; /* serial, end state, shipped, the failed SOP and step */
	unsigned socket;         /* the fixture socket (0 without a fixture file) */
	bool skipped;            /* not touched: error says why (wrong probe, probe not in file) */
	lsec_station_failure_class failure_class; /* of res.cause (or rc) when it failed */
	bool dry_run;            /* resolved only: error is empty, plan says what would be done */
	char plan[512];          /* a dry run's plan for the unit */
} lsec_station_gang_unit;

/*
 * A count of failures at one place: a quarantine at (sop, step) ("other"
 * when unknown), or a unit refused at entry as ("refused", the code's name).
 */
typedef struct lsec_station_gang_failure {
	char sop[32];
	char step[LSEC_STORE_NAME_MAX + 1];
	size_t count;
} lsec_station_gang_failure;

/*
 * The production summary of a gang run. failures are grouped by sop, the
 * SOPs and, within one, the steps in the order they first failed.
 */
typedef struct lsec_station_gang_summary {
	size_t units;           /* presented */
	size_t attempted;       /* taken by a socket (fewer when the line stopped) */
	size_t shipped;
	size_t quarantined;
	size_t refused;         /* refused at entry (clone, wrong state, ...) */
	size_t skipped;         /* fixture runs: units not touched (wrong probe, probe not in file) */
	size_t transient;       /* failures (quarantined or refused) classed transient */
	size_t permanent;       /* ... and permanent */
	size_t planned;         /* dry runs: units resolved */
	bool dry_run;
	unsigned sockets;
	uint64_t milliseconds;  /* wall time of the run */
	unsigned yield_permille; /* shipped per mille of attempted, less those already shipped */
	bool stopped;           /* a stop-line condition (or the quota) stopped the line */
	char stop_reason[LSEC_ERR_MSG_MAX];
	lsec_station_gang_unit *results; /* attempted entries */
	lsec_station_gang_failure *failures;
	size_t nfailures;
	/* of attempted, the units shipped before this run (a re-run): not refused, not built */
	size_t already_shipped;
} lsec_station_gang_summary;

/*
 * Builds every unit of uris on `sockets` threads, each with its own station
 * handle (cfg with its socket number) and device session. A stop-line
 * condition stops every socket after its current unit. *out (freed with
 * lsec_station_gang_summary_free) is the production summary.
 * Errors: LSEC_E_USAGE (no unit, sockets out of 1..256), LSEC_E_NOMEM, and
 * the first error of a socket that could not open its station.
 */
LSEC_API LSEC_MUST_USE int lsec_station_gang(lsec_station_gang_summary **out,
					     const lsec_station_config *cfg,
					     const char *const *uris, size_t n, unsigned sockets,
					     lsec_err *err);
/* How lsec_station_gang_fixture runs. */
typedef struct lsec_station_gang_options {
	bool dry_run; /* resolve the profile, release and every step on each unit; write nothing */
} lsec_station_gang_options;

/*
 * A gang run over a fixture file: socket k builds the unit seen through its
 * probe, on its own thread. Before a unit is touched its probe is checked:
 * a probe whose server reports a serial other than the file's (the probe of
 * another socket, or one the file does not name), or a unit whose UID the
 * registry holds under another serial than the file places there, is
 * skipped with the reason, not failed. A probe that does not answer fails
 * transient. Each failure is classed (lsec_station_failure_classify).
 * With opts->dry_run nothing is written to a unit or the registry: each
 * unit is identified and its plan resolved (lsec_station_dry_run).
 * Errors: as lsec_station_gang.
 */
LSEC_API LSEC_MUST_USE int lsec_station_gang_fixture(lsec_station_gang_summary **out,
						     const lsec_station_config *cfg,
						     const lsec_station_fixture *fx,
						     const lsec_station_gang_options *opts,
						     lsec_err *err);
/*
 * Resolves what lsec_station_build would do to the unit at uri, against the
 * real target, and writes nothing (device or registry): identifies it
 * (UID, chip, registered serial and state), then for each SOP still to run
 * its approved version, the approved release (and whether the unit's flash
 * already holds it: preverify), and that every step that applies has an
 * implementation. plan (cap bytes) gets one line saying so.
 * Errors: LSEC_E_STATION_CLONE, LSEC_E_STATION_WRONG_STATE,
 * LSEC_E_SOP_NOT_APPROVED, LSEC_E_STATION_RELEASE, device errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_dry_run(char *plan, size_t cap, lsec_station *st,
						const char *uri, const char *serial,
						lsec_err *err);
LSEC_API void lsec_station_gang_summary_free(lsec_station_gang_summary *s);
/*
 * The summary as canonical JSON (*out: json_decref): units, attempted,
 * shipped, quarantined, refused, sockets, failures ({sop: {step: count}}),
 * results (uri, serial, state, shipped; error, next, sop, step when failed),
 * yield-permille, milliseconds, stopped, stop-reason when stopped.
 * Errors: LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_gang_summary_json(struct json_t **out,
							  const lsec_station_gang_summary *s,
							  lsec_err *err);
/*
 * Expands a unit pattern "sim:DIR/GLOB" into sorted URIs. *out is an array
 * of *n_out strings, freed with lsec_station_uris_free.
 */
LSEC_API LSEC_MUST_USE int lsec_station_uris_expand(char ***out, size_t *n_out,
						    const char *pattern, lsec_err *err);
LSEC_API void lsec_station_uris_free(char **uris, size_t n);

/* ---- decommissioning, returns and scrap (SOP 5) ------------------------------ */

/*
 * Why a unit is taken out of service. The CRL reason follows (RFC 5280
 * 5.3.1): compromised is keyCompromise, the others cessationOfOperation; a
 * reworked return is superseded.
 */
typedef enum lsec_decom_reason {
	LSEC_DECOM_FAILED = 0,
	LSEC_DECOM_RETURNED,
	LSEC_DECOM_END_OF_LIFE,
	LSEC_DECOM_COMPROMISED,
	LSEC_DECOM_REASON_COUNT
} lsec_decom_reason;

/* "failed", "returned", "end-of-life", "compromised" (static). */
LSEC_API const char *lsec_decom_reason_name(lsec_decom_reason r);
/* Parses such a name (lsec_name_lookup). Errors: LSEC_E_USAGE naming the value. */
LSEC_API LSEC_MUST_USE int lsec_decom_reason_parse(lsec_decom_reason *out, const char *name,
						   lsec_err *err);

typedef struct lsec_station_decom_options {
	unsigned version;
	lsec_decom_reason reason;
	const char *uri;       /* the unit's device; NULL: not reachable, revoke only */
	/*
	 * Asked, only when a locked unit is to be erased, for the passphrase of
	 * the product's debug-authentication key the station keeps (whose
	 * digest the unit's DEBUG_AUTH_KEY_DIGEST fuse holds); *out is freed by
	 * the station. NULL: a locked unit cannot be erased (the step fails).
	 */
	int (*debug_auth_unlock)(lsec_secret **out, void *ctx, const char *what, lsec_err *err);
	void *debug_auth_ctx;
} lsec_station_decom_options;

#define LSEC_STATION_DECOM_OPTIONS_VERSION 2u
#define LSEC_STATION_DECOM_OPTIONS_INIT                                                            \
	{LSEC_STATION_DECOM_OPTIONS_VERSION, LSEC_DECOM_FAILED, NULL, NULL, NULL}

/*
 * Runs the approved decommission SOP on unit serial (quarantined, returned,
 * decommission pending, or still in a build state, which is quarantined
 * first; a shipped unit only when it cannot be reached - lost or dead in
 * the field - else it is received first, lsec_station_rma_receive). A unit reached at opts->uri whose UID is the registered one is
 * erased (an authenticated erase when its debug port is locked) and blank
 * checked, the sanitisation recorded as NIST SP 800-88 purge (flash erased,
 * the key slots holding its keys destroyed: a cryptographic erase). With no
 * uri, or a device that does not answer, the wipe steps are skipped and
 * the unit is "decommissioned, not wiped". In both cases every identity is
 * revoked (key state compromised for a compromise, else destroyed once
 * wiped and deactivated until destroyed), a CRL carrying the reason is
 * signed into <line_dir>/crl/line.crl.pem, and the credentials are revoked.
 * The unit ends decommissioned, on the list of units pending destruction
 * until lsec_station_scrap. The SOP's last step (scrap.record) is left to
 * lsec_station_scrap.
 * Errors: LSEC_E_STATION_STEP (a step failed: the unit is decommission
 * pending; res says what to do next), LSEC_E_STATION_STOP_LINE,
 * LSEC_E_STATION_CLONE (the device at uri has another UID: nothing done),
 * LSEC_E_STATION_WRONG_STATE, LSEC_E_SOP_NOT_APPROVED, LSEC_E_NOTFOUND.
 */
LSEC_API LSEC_MUST_USE int lsec_station_decommission(lsec_station_result *res, lsec_station *st,
						     const char *serial,
						     const lsec_station_decom_options *opts,
						     lsec_err *err);

typedef struct lsec_station_scrap_options {
	unsigned version;
	const char *method; /* shred, crush, incinerate, degauss, disintegrate, pulverize, melt */
	const char *photo;  /* a photo of the destroyed boards (file), or NULL */
	const char *note;   /* free text (e.g. the recycler's certificate number), or NULL */
} lsec_station_scrap_options;

#define LSEC_STATION_SCRAP_OPTIONS_VERSION 1u
#define LSEC_STATION_SCRAP_OPTIONS_INIT {LSEC_STATION_SCRAP_OPTIONS_VERSION, NULL, NULL, NULL}

/* One witnessed destruction record (lsec_station_scrap). */
typedef struct lsec_station_scrap_record {
	const char *method;       /* as the operator named it (static) */
	const char *sanitisation; /* NIST SP 800-88 Rev. 1 category it achieves (static) */
	char destroyed_by[LSEC_STORE_NAME_MAX + 1];
	char witnessed_by[LSEC_STORE_NAME_MAX + 1];
	char (*units)[LSEC_STORE_NAME_MAX + 1]; /* the serials destroyed, in the given order */
	size_t nunits;
	char photo_sha256[65]; /* "" without a photo */
	char photo[80];        /* its file name in <line_dir>/evidence; "" without a photo */
	char *note;            /* NULL without one */
	const char *warning;   /* what the method leaves undone (static), or NULL */
	uint64_t seq;          /* the audit sequence number of the batch leaf */
	const char *witness_role; /* the role the witness signed in (static) */
} lsec_station_scrap_record;

/*
 * Records the physical destruction of n decommissioned units as one record:
 * destroyed by the station's operator (cfg->operator_name), witnessed by a
 * second logged-in person (cfg->witness_name), holding the roles the
 * approved decommission SOP's scrap.record step names (who, witness: an
 * operator and a supervisor in the default SOP).
 * The photo is kept in <line_dir>/evidence/<sha256>.<ext> and its SHA-256
 * goes into the audit leaf. In one transaction: each unit's scrap record,
 * its keys destroyed, the unit scrapped, a leaf per unit and one for the
 * batch (the decommission SOP's scrap.record step). All or nothing.
 * *out (may be NULL) is the record, freed with lsec_station_scrap_record_free.
 * Errors: LSEC_E_STATION_ROLE (operator or witness missing, or the same
 * person), LSEC_E_STATION_WRONG_STATE (a unit not decommissioned: names
 * it), LSEC_E_USAGE (method, no unit, a unit twice), LSEC_E_IO (photo),
 * LSEC_E_SOP_NOT_APPROVED, LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_scrap(lsec_station_scrap_record **out, lsec_station *st,
					      const char *const *serials, size_t n,
					      const lsec_station_scrap_options *opts,
					      lsec_err *err);
LSEC_API void lsec_station_scrap_record_free(lsec_station_scrap_record *r);
/*
 * The record as canonical JSON (*out: json_decref): method, sanitisation,
 * destroyed-by, witnessed-by, units, seq, and photo-sha256 and photo, note
 * and warning when there are any. Errors: LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_scrap_record_json(struct json_t **out,
							  const lsec_station_scrap_record *r,
							  lsec_err *err);

/* The evidence of a genuine return (lsec_station_rma_receive). */
typedef struct lsec_station_rma_evidence {
	char uid[LSEC_STORE_NAME_MAX + 1];            /* what the device reports (hex) */
	char registered_uid[LSEC_STORE_NAME_MAX + 1]; /* what the registry holds */
	char target[512];                             /* the device URI */
	char cert_serial[LSEC_STORE_FP_MAX + 1];      /* the certificate the log issued ("": none) */
	int64_t issue_leaf;                           /* its ca.issue leaf (0: none) */
	unsigned slot;                                /* the key slot that signed */
	char challenge_sha256[65]; /* SHA-256 of the fresh challenge it signed (hex; "": none) */
	bool genuine;
} lsec_station_rma_evidence;

/*
 * Receives a returned unit: the device at uri must be ours and genuine -
 * its UID registered for serial, and a fresh 32-byte challenge signed by
 * the key slot of the identity the unit's log issued and did not retire
 * must verify under the certificate its ca.issue leaf recorded (a clone
 * carrying a copied UID fails). A shipped unit becomes returned. The
 * verdict is recorded either way. *out (may be NULL): the evidence.
 * Errors: LSEC_E_STATION_NOT_GENUINE, LSEC_E_STATION_CLONE (UID not the
 * registered one), LSEC_E_AUDIT_INDEX (the registry's identities row is
 * not the one the log issued: no verdict, nothing recorded),
 * LSEC_E_STATION_WRONG_STATE, LSEC_E_NOTFOUND, LSEC_E_USAGE (uri longer
 * than the evidence holds).
 */
LSEC_API LSEC_MUST_USE int lsec_station_rma_receive(lsec_station_rma_evidence *out,
						    lsec_station *st, const char *serial,
						    const char *uri, lsec_err *err);
/*
 * The evidence as canonical JSON (*out: json_decref): uid, registered-uid,
 * target, genuine, and cert-serial, issue-leaf, slot and challenge-sha256
 * once they are known.
 * Errors: LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_rma_evidence_json(struct json_t **out,
							  const lsec_station_rma_evidence *e,
							  lsec_err *err);
/*
 * Sends a received return to rework: its identities revoked (superseded;
 * keys deactivated), its credentials revoked, the unit quarantined for the
 * supervisor. Provisioning issues a new identity later: the old key,
 * certificate and credential are never accepted again.
 * Errors: LSEC_E_STATION_WRONG_STATE (not returned), store and PKI errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_rma_rework(lsec_station *st, const char *serial,
						   lsec_err *err);

/*
 * One step of a unit's decommissioning as its audit leaf recorded it. The
 * texts are borrowed from evidence and NULL (numbers 0) when the leaf does
 * not hold them.
 */
typedef struct lsec_station_scrap_step {
	bool recorded; /* false: the step is not in the log (nothing below is set) */
	const char *by;
	const char *time;
	const char *reason;          /* decommissioned */
	const char *unreachable;     /* decommissioned: why the device was not reached */
	const char *erase;           /* wiped: how */
	const char *readback_sha256; /* verified: the flash read back after the wipe */
	const char *sanitisation;    /* verified, destroyed: the SP 800-88 category */
	const char *crl_reason;      /* revoked */
	size_t ncertificates;        /* revoked */
	int64_t crl_number;          /* revoked */
	const char *method;          /* destroyed */
	const char *destroyed_by;    /* destroyed */
	const char *witnessed_by;    /* destroyed */
	const char *photo_sha256;    /* destroyed */
	/* The leaf's evidence fields the record keeps for this step (owned). */
	struct json_t *evidence;
} lsec_station_scrap_step;

/* One unit of the sanitisation record. */
typedef struct lsec_station_scrap_report_unit {
	char *serial;
	char *product;
	char *uid;
	const char *state;        /* lsec_unit_state_name (static) */
	const char *status;       /* "scrapped", "wiped, pending destruction", ... (static) */
	const char *sanitisation; /* "destroy", "purge", "none" (borrowed), NULL if unrecorded */
	lsec_station_scrap_step decommissioned, wiped, verified, revoked, credential, destroyed;
} lsec_station_scrap_report_unit;

/* The sanitisation record lsec_station_report_scrap builds. */
typedef struct lsec_station_scrap_report {
	char generated[32]; /* RFC 3339 UTC */
	char *since;        /* NULL: all units */
	lsec_station_scrap_report_unit *units; /* decommissioned since `since` */
	size_t nunits;
	char **pending; /* serials of every unit still pending destruction */
	size_t npending;
} lsec_station_scrap_report;

/*
 * The sanitisation record (NIST SP 800-88): every unit decommissioned since
 * `since` (RFC 3339 date or time; NULL: all) with the reason, how it was
 * wiped and verified, what was revoked, how it was destroyed, by whom and
 * the witness; and the units still pending destruction. *out belongs to
 * the caller (lsec_station_scrap_report_free).
 * Errors: LSEC_E_USAGE (since malformed), LSEC_E_NOMEM, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_station_report_scrap(lsec_station_scrap_report **out,
						     lsec_station *st, const char *since,
						     lsec_err *err);
LSEC_API void lsec_station_scrap_report_free(lsec_station_scrap_report *r);
/*
 * The record as a JSON object (*out: json_decref): generated, since (null
 * for all), units [{serial, product, uid, state, status, sanitisation,
 * decommissioned, wiped, verified, revoked, credential, destroyed: each
 * {by, time, evidence fields...} or null when not recorded}],
 * pending-destruction [serial], count, pending. Fails with LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_station_scrap_report_json(struct json_t **out,
							  const lsec_station_scrap_report *r,
							  lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
