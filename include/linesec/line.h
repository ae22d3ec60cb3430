/*
 * linesec/line.h - the line folder, its people and who is acting.
 *
 * A line folder holds line.yaml (line and station ids, registry location,
 * session lifetime, products with their target URIs and policies; see
 * docs/line.md), the SQLite registry (registry.db, unless line.yaml names a
 * PostgreSQL URL), the station's Ed25519 key (station.key, 0600, and
 * station.pub) and the shift sessions of the people logged in on this
 * station (.sessions/<name>, 0600, one per person, so a witness can be
 * logged in beside the operator).
 *
 * Invariants:
 *  - Passwords are hashed with Argon2id (RFC 9106; OWASP parameters:
 *    m = 19 MiB, t = 2, p = 1) and compared in constant time; they are held
 *    in lsec_secret only and never reach a log, a leaf or argv.
 *  - A session token lives only in its 0600 file; the registry keeps its
 *    SHA-256 and its expiry.
 *  - Every change (init, person add/disable, login, logout, and refused
 *    logins) is recorded in the audit log in the same transaction.
 *  - Every command that acts resolves its actor with lsec_line_authorize,
 *    which checks the session, its expiry, that the person is enabled and
 *    holds one of the roles the action needs.
 *  - The people and sessions rows are acted on only as their leaves record
 *    them: a person's latest leaf (line-init, person-add, person-disable)
 *    holds role, disabled and the SHA-256 of the password hash; a login
 *    leaf holds the token's SHA-256, station and expiry.
 *
 * Idiom:
 *     lsec_line *line = NULL;
 *     lsec_line_actor who;
 *     LSEC_TRY(lsec_line_open(&line, NULL, err));   (--line, LINESEC_LINE, ".")
 *     LSEC_TRY(lsec_line_authorize(&who, line, NULL,
 *                                  LSEC_ROLE_BIT(LSEC_ROLE_OPERATOR), "flash unit", err));
 *     ... lsec_line_store(line), who.name in every audit event ...
 *   out:
 *     lsec_line_close(line);
 */
#ifndef LINESEC_LINE_H
#define LINESEC_LINE_H

#include "linesec/audit.h"
#include "linesec/store.h"
#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

#define LSEC_LINE_CONFIG "line.yaml"
/* The anchor in the line folder, and the default checkpoint folder (line.yaml `checkpoints`). */
#define LSEC_LINE_ANCHOR "anchor.json"
/* What this station verified last, in the line folder (lsec_line_verify). */
#define LSEC_LINE_VERIFIED "verified.json"
#define LSEC_LINE_CHECKPOINTS "checkpoints"
/* The product `linesec init` writes when none is given: an example to replace. */
#define LSEC_LINE_EXAMPLE_PRODUCT "sensor"
#define LSEC_LINE_ENV "LINESEC_LINE"
/* In the line folder: this station's public key (PEM). */
#define LSEC_LINE_STATION_PUB "station.pub"
/* Shortest password accepted (bytes). */
#define LSEC_LINE_PASSWORD_MIN 8
#define LSEC_LINE_PASSWORD_MAX 1024

/* A role as a bit of a role mask. */
#define LSEC_ROLE_BIT(r) (1u << (unsigned)(r))

typedef struct lsec_line lsec_line;

typedef struct lsec_line_init_options {
	unsigned version;          /* 1 */
	const char *dir;           /* the line folder (created if missing) */
	const char *line_id;       /* default "line1" */
	const char *station_id;    /* default "station1" */
	const char *registry;      /* NULL: SQLite registry.db in the folder; or a postgresql:// URL */
	const char *admin;         /* the first security officer; default "admin" */
	const lsec_secret *admin_password; /* required when the registry has nobody yet */
	unsigned session_minutes;  /* shift session lifetime; default 480 */
	const char *second_officer; /* the second security officer, present at init */
	const lsec_secret *second_password; /* typed by the second officer; required with nobody yet */
	/*
	 * Joining a registry that has people (all three required): the station
	 * joined, its station.pub, and this station's Ed25519 private key, which
	 * the joined station's log must already trust (docs/line.md).
	 */
	const char *trust_station;
	const char *trust_pub;
	const char *station_key;
	/*
	 * The product the line builds (line.yaml's products; an identifier).
	 * NULL: the example product "sensor", which lsec_line_init's caller
	 * tells the user to replace with their own.
	 */
	const char *product;
} lsec_line_init_options;

#define LSEC_LINE_INIT_OPTIONS_INIT                                                                \
	{1, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL}

/*
 * Creates a line folder: line.yaml, the registry, the station key and, when
 * the registry has nobody yet, its two security officers (admin and
 * second_officer, distinct, each with the password they typed; the
 * line-init leaf names the first, a person-add leaf the second): every
 * later change of trust takes both (docs/line.md). Records the
 * event in the audit log. On failure nothing it created is left behind.
 * Errors: LSEC_E_EXISTS (the folder already holds a line), LSEC_E_USAGE
 * (bad id or missing password), LSEC_E_POLICY (password too short),
 * LSEC_E_IO, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_init(const lsec_line_init_options *opts, lsec_err *err);

/*
 * Finds the line folder: dir when not NULL (--line), else $LINESEC_LINE,
 * else the current folder. *out (lsec_free) is the folder.
 * Errors: LSEC_E_NOTFOUND naming where it looked.
 */
LSEC_API LSEC_MUST_USE int lsec_line_find(char **out, const char *dir, lsec_err *err);

/*
 * Opens the line found as lsec_line_find does: reads line.yaml, opens the
 * registry and checks it against the line's anchor (lsec_line_anchor_check).
 * A line folder this process may not write is opened read-only, as
 * lsec_line_open_read_only does. A line it writes must be private: the line
 * folder, line.yaml, a registry file and the sessions folder writable by
 * the owner alone, the station key, CA key and credential key readable by
 * the owner alone (linesec creates them 0700/0600).
 * *out belongs to the caller: lsec_line_close.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_PARSE (line.yaml, naming the field),
 * LSEC_E_POLICY (a mode as above, naming the file and the chmod that fixes
 * it), LSEC_E_STORE_ANCHOR, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_open(lsec_line **out, const char *dir, lsec_err *err);
/*
 * lsec_line_open for reading only (an auditor's copy of a line folder): the
 * registry is opened with lsec_store_open_read_only and nothing in the
 * folder is written. Same errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_open_read_only(lsec_line **out, const char *dir,
						    lsec_err *err);
LSEC_API void lsec_line_close(lsec_line *line);

/* Borrowed strings, valid while the line is open. */
LSEC_API const char *lsec_line_dir(const lsec_line *line);
LSEC_API const char *lsec_line_id(const lsec_line *line);
LSEC_API const char *lsec_line_station(const lsec_line *line);
LSEC_API const char *lsec_line_registry(const lsec_line *line);
/* Paths of the station's Ed25519 private key (0600) and public key (PEM). */
LSEC_API const char *lsec_line_station_key_path(const lsec_line *line);
LSEC_API const char *lsec_line_station_pub_path(const lsec_line *line);
LSEC_API unsigned lsec_line_session_minutes(const lsec_line *line);
/* After how long without activity a session ends (line.yaml session.idle_minutes), seconds. */
LSEC_API unsigned lsec_line_session_idle_seconds(const lsec_line *line);

/*
 * The audit leaf signer of station station_id of line line_id: its Ed25519
 * key (a reference is taken). The other stations it trusts come from the
 * log once it is attached (lsec_line_trust_log), never from a file in dir.
 * *out is freed with lsec_audit_signer_free (or handed to the registry
 * with lsec_audit_signer_attach). lsec_line_open and lsec_station_open
 * attach one. Errors: those of lsec_audit_signer_new.
 */
LSEC_API LSEC_MUST_USE int lsec_line_signer_new(lsec_audit_signer **out, const char *dir,
						const char *line_id, const char *station_id,
						const struct evp_pkey_st *key, lsec_err *err);
/*
 * A verifier (lsec_audit_signer_new_verifier) of the log of line line_id
 * whose line folder is dir, trusting dir/station.pub (the other stations
 * come from the log once it is attached: lsec_line_trust_log): what a
 * handle that only reads checks every leaf with. lsec_line_open attaches one to a read-only
 * line, lsec_station_open to a station without its key. *out is freed with
 * lsec_audit_signer_free. Errors: those of lsec_audit_signer_new_verifier
 * and lsec_audit_signer_trust_file.
 */
LSEC_API LSEC_MUST_USE int lsec_line_verifier_new(lsec_audit_signer **out, const char *dir,
						  const char *line_id, lsec_err *err);
/*
 * Makes the signer attached to st also trust the stations its log trusts
 * (lsec_audit_signer_trust_log): station.trust and station.distrust leaves
 * signed by a station already trusted, starting from this station's own
 * key. lsec_line_open and lsec_station_open call it.
 * Errors: LSEC_E_AUDIT_NO_SIGNER, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_trust_log(lsec_store *st, lsec_err *err);
/*
 * The public keys the line trusts for its audit log: this station's, then
 * those of the stations its log trusts (lsec_line_trust_log). *out is freed
 * with lsec_audit_pubkeys_free. Errors as for lsec_audit_signer_pubkeys.
 */
LSEC_API LSEC_MUST_USE int lsec_line_trusted_keys(struct evp_pkey_st ***out, size_t *n_out,
						  const lsec_line *line, lsec_err *err);
/* The line CA folder: line.yaml's `ca` (default "ca") resolved against the line folder. */
LSEC_API const char *lsec_line_ca_dir(const lsec_line *line);
/* The checkpoint folder: line.yaml's `checkpoints` (default "checkpoints") resolved against the line folder. */
LSEC_API const char *lsec_line_checkpoint_dir(const lsec_line *line);
/*
 * The label printer's spool folder, where identity labels are delivered:
 * line.yaml's `labels` (or `labels.spool`; default "labels") resolved against
 * the line folder.
 */
LSEC_API const char *lsec_line_label_dir(const lsec_line *line);
/*
 * How long the label printer has to take a delivered label from its spool
 * folder: line.yaml's `labels.accept_seconds` (default
 * LSEC_LINE_LABEL_ACCEPT_SECONDS).
 */
#define LSEC_LINE_LABEL_ACCEPT_SECONDS 30u
LSEC_API unsigned lsec_line_label_accept_seconds(const lsec_line *line);
/* The registry (borrowed; closed by lsec_line_close). */
LSEC_API lsec_store *lsec_line_store(lsec_line *line);

/* Products of line.yaml, in file order. */
LSEC_API size_t lsec_line_product_count(const lsec_line *line);
/*
 * Product i: id, target URI and policies (a JSON object; borrowed): its one
 * key is "firmware_key" (text) when line.yaml sets it. Returns false when i
 * is out of range.
 */
LSEC_API bool lsec_line_product(const lsec_line *line, size_t i, const char **id,
				const char **target, const struct json_t **policies);
/*
 * Product i's chip: the family and revision line.yaml names (each NULL when
 * not given; a revision only with a family), which the station compares with
 * the unit's device profile before anything is written
 * (lsec_device_profile_check_product). Returns false when i is out of range.
 */
LSEC_API bool lsec_line_product_chip(const lsec_line *line, size_t i, const char **family,
				     const char **revision);

/* ---- the anchor and the exported checkpoints ----------------------------------- */

/*
 * Records the registry's identity (lsec_store_registry_id) in a new
 * line_dir/anchor.json (0644). lsec_line_init does this; a line folder has
 * one anchor for its life. Errors: LSEC_E_EXISTS, LSEC_E_IO, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_anchor_create(const char *line_dir, lsec_store *st,
						   lsec_err *err);
/*
 * Checks that st is the registry line_dir's anchor names and is not older
 * than the last checkpoint anchored there: the registry id, the leaf count
 * and the stored checkpoint row of the anchored size with the anchored root
 * (cheap: the full recomputation is lsec_line_audit_verify's). Every open of
 * a line or station calls it. An anchor behind the registry is fine (a
 * crash between a checkpoint's commit and its anchoring).
 * Errors: LSEC_E_STORE_ANCHOR (no anchor.json, another registry, an older
 * or rewritten one; the message says what was found and what to do),
 * LSEC_E_PARSE, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_anchor_check(lsec_store *st, const char *line_dir,
						  lsec_err *err);

typedef struct lsec_line_checkpoint_options {
	unsigned version;               /* 1 */
	const char *line_dir;           /* the line folder holding anchor.json */
	const char *export_dir;         /* NULL: <line_dir>/checkpoints */
	const char *line_id;            /* names the log: lsec_audit_origin */
	const char *key_name;           /* the station id, on the signature line */
	const struct evp_pkey_st *key;  /* the station's Ed25519 key */
	const char *person;             /* who the checkpoint leaf names */
} lsec_line_checkpoint_options;

#define LSEC_LINE_CHECKPOINT_OPTIONS_INIT {1, NULL, NULL, NULL, NULL, NULL, NULL}

/*
 * Signs a checkpoint of the whole log (lsec_audit_checkpoint_create), then
 * exports its note to export_dir/<tree size>.note (written atomically; a
 * file of that name holding another note is never replaced) and records
 * its size, root and note in line_dir/anchor.json, unless the anchor
 * already names a later one. The station and `audit checkpoint` both sign
 * through here. *note_out (may be NULL; lsec_free) is the note.
 * Errors: those of lsec_audit_checkpoint_create; LSEC_E_EXISTS (another
 * note under that name); LSEC_E_IO; LSEC_E_STORE_ANCHOR (no anchor). On an
 * error after the registry committed, the checkpoint stays stored and the
 * anchor lags behind it.
 */
LSEC_API LSEC_MUST_USE int lsec_line_checkpoint_sign(char **note_out, lsec_store *st,
						     const lsec_line_checkpoint_options *opts,
						     lsec_err *err);
/* lsec_line_checkpoint_sign for an open line, signing as its station. */
LSEC_API LSEC_MUST_USE int lsec_line_checkpoint(char **note_out, lsec_line *line,
						const struct evp_pkey_st *key, const char *person,
						lsec_err *err);
/*
 * lsec_line_checkpoint with the line's own station key: what a command that
 * removes trust (a person disabled, a logout, a certificate revoked) calls
 * once its leaf is committed, so the leaf does not stay in the tail after
 * the latest checkpoint, where it could be deleted with its rows until the
 * next checkpoint covered it. Errors as lsec_line_checkpoint's, and those of
 * loading the key.
 */
LSEC_API LSEC_MUST_USE int lsec_line_checkpoint_now(lsec_line *line, const char *person,
						    lsec_err *err);

/* What lsec_line_audit_verify found when everything verifies. */
typedef struct lsec_line_verify_report {
	lsec_audit_verify_report log;
	bool anchored;          /* anchor.json names a checkpoint */
	uint64_t anchored_size; /* its tree size */
	size_t exported;        /* exported checkpoints checked (against a folder) */
	uint64_t since;         /* lsec_line_verify: leaves verified before, not walked again */
	bool remembered;        /* lsec_line_verify: LSEC_LINE_VERIFIED now records this */
} lsec_line_verify_report;

/*
 * Verifies the line's log (lsec_audit_verify_keys, one snapshot) and what
 * is kept outside it: the checkpoint in anchor.json, and against (may be
 * NULL) either one exported note or a folder of them (files *.note and
 * *.checkpoint). Each must be signed by one of pubs, be of this line's log,
 * and equal the registry's checkpoint of its size, which the verification
 * recomputed; against a folder, every stored checkpoint this station signed
 * must also be in it. Errors: those of lsec_audit_verify_keys;
 * LSEC_E_AUDIT_TRUNCATED (a note covers more leaves than the log),
 * LSEC_E_AUDIT_ROOT (a note the registry does not hold: rewritten),
 * LSEC_E_AUDIT_SIGNATURE (bad signature or another line's note),
 * LSEC_E_AUDIT_NO_CHECKPOINT (a stored checkpoint missing from the folder),
 * LSEC_E_STORE_ANCHOR, LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_line_audit_verify(lsec_line_verify_report *out, lsec_line *line,
						  const struct evp_pkey_st *const *pubs,
						  size_t npubs, const char *against,
						  lsec_err *err);
/*
 * lsec_line_audit_verify from a point the caller verified before and kept
 * outside the registry (since: the size and root of a report's log; NULL:
 * from scratch): the leaves before since->size are hashed again against its
 * root, later ones get every check (lsec_audit_verify_since). For a reader
 * that verifies again and again (the web console's dashboard). Errors as
 * lsec_line_audit_verify's; LSEC_E_AUDIT_ROOT when a leaf before
 * since->size changed (verify from scratch to name it).
 */
LSEC_API LSEC_MUST_USE int lsec_line_audit_verify_since(lsec_line_verify_report *out,
							lsec_line *line,
							const struct evp_pkey_st *const *pubs,
							size_t npubs,
							const lsec_audit_checkpoint *since,
							lsec_err *err);

typedef struct lsec_line_verify_options {
	unsigned version;              /* 1 */
	const char *against;           /* as for lsec_line_audit_verify (may be NULL) */
	const struct evp_pkey_st *key; /* the station's key; NULL: from scratch, nothing kept */
	bool full;                     /* from scratch even when a record is kept */
} lsec_line_verify_options;

#define LSEC_LINE_VERIFY_OPTIONS_INIT {1, NULL, NULL, false}

/*
 * `linesec audit verify`: lsec_line_audit_verify, then the registry's rows
 * against the state the log replays to (lsec_audit_state_verify_from;
 * state is filled as that fills it). With opts->key, the station
 * remembers what it verified in line_dir/LSEC_LINE_VERIFIED (tree size,
 * root, replayed state; signed with key) and the next call costs what
 * came since: the leaves verified before are only hashed again against
 * the kept root (a changed one makes the walk start from scratch, which
 * names it), later leaves get every check and are applied to the kept
 * state, and every row is compared. A record signed by another key, of
 * another registry or for more leaves than the log holds is refused;
 * opts->full ignores it and records anew. Errors: those of
 * lsec_line_audit_verify and lsec_audit_state_verify_from
 * (LSEC_E_AUDIT_STATE after recording: the log verified, rows differ);
 * LSEC_E_AUDIT_SIGNATURE (a record not signed by key), LSEC_E_STORE_ANCHOR
 * (a record of another registry), LSEC_E_AUDIT_TRUNCATED (fewer leaves
 * than recorded), LSEC_E_AUDIT_ROOT (leaves recorded as verified changed
 * yet verify: rewritten under a station key), LSEC_E_PARSE, LSEC_E_IO.
 */
LSEC_API LSEC_MUST_USE int lsec_line_verify(lsec_line_verify_report *out,
					    lsec_audit_state_report *state, lsec_line *line,
					    const struct evp_pkey_st *const *pubs, size_t npubs,
					    const lsec_line_verify_options *opts, lsec_err *err);

/* ---- people ---------------------------------------------------------------- */

/* Who is acting, as lsec_line_authorize resolved it. */
typedef struct lsec_line_actor {
	char name[LSEC_STORE_NAME_MAX + 1];
	lsec_role role;
	bool authenticated; /* signed with their password just now (lsec_line_sign) */
	uint64_t session_seq; /* the login leaf of the station session acting */
} lsec_line_actor;

/*
 * Resolves who is acting on this station: the session of `name`, or, when
 * name is NULL, of the only person logged in. Checks the token against the
 * registry, the expiry, that the person is enabled and that their role is
 * in roles (a mask of LSEC_ROLE_BIT). action names the act in messages.
 * The person's row must match their latest person leaf and the session its
 * login leaf, not ended by a later login or logout leaf of the person on
 * this station. A session unused for line.yaml's session.idle_minutes
 * ends: a logout leaf (reason idle), then LSEC_E_AUTH asking to log in
 * again. Acting is activity: the idle clock, kept in the session file beside
 * the token (never in the registry), starts again.
 * On LSEC_E_AUTH for a role not in roles alone, *out is the actor resolved
 * (the session stands; out->session_seq is not 0); on every other error
 * *out is zeroed (session_seq 0: there is no live session).
 * Errors: LSEC_E_AUTH (nobody or several people logged in, no or ended or
 * expired or idle session, disabled, wrong role), LSEC_E_AUDIT_INDEX (a
 * people or sessions row no leaf backs, naming table, person and leaf),
 * errors of lsec_audit_leaf_read, store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_authorize(lsec_line_actor *out, lsec_line *line,
					       const char *name, unsigned roles,
					       const char *action, lsec_err *err);
/*
 * lsec_line_authorize without counting as name's activity (the idle clock
 * is not restarted): for finding who else is logged in here (a witness).
 */
LSEC_API LSEC_MUST_USE int lsec_line_session_check(lsec_line_actor *out, lsec_line *line,
						   const char *name, unsigned roles,
						   const char *action, lsec_err *err);

/*
 * The people row of name in st, checked against the person's latest person
 * leaf (role, disabled, password commitment): what anything deciding from a
 * person's role reads, never the bare row. Errors: LSEC_E_NOTFOUND (no such
 * person), LSEC_E_AUDIT_INDEX (a row no leaf backs, or that differs from it,
 * naming table, person and leaf), errors of lsec_audit_leaf_read.
 */
LSEC_API LSEC_MUST_USE int lsec_line_person_get(lsec_store_person *out, lsec_store *st,
						const char *name, lsec_err *err);
/*
 * Whether the log holds a person leaf (line-init, person-add,
 * person-disable, person-update; any outcome) naming name at sequence
 * number from or later: read complete through the signed index
 * (lsec_audit_leaves_find_from), so a cache of lsec_line_person_get's
 * answer taken when the log held from leaves is stale exactly when this is
 * true. Errors: those of lsec_audit_leaves_find_from.
 */
LSEC_API LSEC_MUST_USE int lsec_line_person_changed(bool *out, lsec_store *st, const char *name,
						    uint64_t from, lsec_err *err);

/*
 * A signature: lsec_line_authorize, then name's password checked at this
 * moment (refusals recorded as "signature" leaves and counted towards the
 * lock, as refused logins are). *out is marked authenticated. Every act
 * that signs (approving a release, an SOP version or a change; unlocking a
 * person) takes an actor from here, never from a session alone.
 * Errors: those of lsec_line_authorize; LSEC_E_AUTH (wrong password,
 * locked).
 */
LSEC_API LSEC_MUST_USE int lsec_line_sign(lsec_line_actor *out, lsec_line *line,
					  const char *name, const lsec_secret *password,
					  unsigned roles, const char *action, lsec_err *err);

/* Refused passwords in a row after which a person is locked (docs/line.md). */
#define LSEC_LINE_LOCK_AFTER 5
/*
 * Lifts the lock of name after refused passwords (by a signing security
 * officer other than name): a person-unlock leaf. LSEC_E_NOTFOUND.
 */
LSEC_API LSEC_MUST_USE int lsec_line_person_unlock(lsec_line *line, const lsec_line_actor *by,
						   const char *name, lsec_err *err);

/* ---- changes that take two security officers (docs/line.md) ---------------- */

/* The line's own kinds of change; other modules name theirs ("station.product-key", ...). */
#define LSEC_LINE_CHANGE_PERSON_ADD "person-add"        /* payload {"name", "role"} */
#define LSEC_LINE_CHANGE_PERSON_DISABLE "person-disable" /* payload {"name"} */
#define LSEC_LINE_CHANGE_ROLE "role-change"              /* payload {"name", "role"} */
/* payload {"station", "pubkey", "key-sha256"}: trust or distrust another station's key */
#define LSEC_LINE_CHANGE_STATION_TRUST LSEC_AUDIT_CHANGE_STATION_TRUST
#define LSEC_LINE_CHANGE_STATION_DISTRUST LSEC_AUDIT_CHANGE_STATION_DISTRUST
#define LSEC_LINE_CHANGE_PASSWORD_RESET "password-reset" /* payload {"name"} */
/* Hex characters in each half of an enrolment code. */
#define LSEC_LINE_ENROL_HALF 16

/*
 * Applies an approved change of a kind the line does not know, inside the
 * approval's transaction (lsec_line_store(line)); a failure undoes the
 * approval. approver is the second officer.
 */
typedef int (*lsec_line_change_apply_fn)(void *ctx, lsec_line *line,
					 const lsec_store_change *change, const char *approver,
					 lsec_err *err);

/*
 * Requests a change of kind about subject (a person name for the line's
 * kinds) with payload (a JSON object, stored as canonical JSON), by a
 * security officer who signed (lsec_line_sign): a pending change_requests
 * row and a change.request leaf (meaning "submitted"); nothing else
 * changes. For person-add and password-reset, half_out (cap >
 * LSEC_LINE_ENROL_HALF) receives the requester's half of the enrolment
 * code, kept only as a hash. *id_out is the change's id.
 * Errors: LSEC_E_AUTH (not a signing officer), LSEC_E_POLICY (a change of
 * the requester's own account), LSEC_E_EXISTS (person-add of a taken name),
 * LSEC_E_NOTFOUND, LSEC_E_STATE (a disabled person), LSEC_E_USAGE (bad
 * role, kind or payload), store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_line_change_request(int64_t *id_out, char *half_out,
						    size_t half_cap, lsec_line *line,
						    const lsec_line_actor *by, const char *kind,
						    const char *subject,
						    const struct json_t *payload, lsec_err *err);
/*
 * Approves pending change id by a second security officer who signed
 * (neither its requester nor its subject), after checking the row against
 * its change.request leaf, and applies it in the same transaction: the
 * line's kinds here (person-add, person-disable, person-update leaves),
 * others through apply(ctx, ...). For person-add and password-reset,
 * half_out receives the approver's half of the enrolment code. *out (may
 * be NULL) is the change as approved, its payload for the caller.
 * Errors: LSEC_E_AUTH, LSEC_E_POLICY (the requester or the subject
 * approving), LSEC_E_STATE (not pending), LSEC_E_NOTFOUND,
 * LSEC_E_AUDIT_INDEX (a row no request leaf backs), LSEC_E_USAGE (another
 * module's kind without apply), errors of the change itself.
 */
LSEC_API LSEC_MUST_USE int lsec_line_change_approve(lsec_store_change *out, char *half_out,
						    size_t half_cap, lsec_line *line,
						    const lsec_line_actor *by, int64_t id,
						    lsec_line_change_apply_fn apply, void *ctx,
						    lsec_err *err);
/* Rejects pending change id (a signing security officer): change.reject. LSEC_E_STATE. */
LSEC_API LSEC_MUST_USE int lsec_line_change_reject(lsec_line *line, const lsec_line_actor *by,
						   int64_t id, lsec_err *err);
/*
 * Requests (lsec_line_change_request) that the line trust (trust) or stop
 * trusting station name, whose Ed25519 public key is pub_path (its
 * station.pub): a station-trust or station-distrust change. A second,
 * distinct officer's lsec_line_change_approve records the station.trust or
 * station.distrust leaf the trusted keys are derived from. Errors:
 * LSEC_E_POLICY (this station, its own key), LSEC_E_EXISTS (trusted
 * already), LSEC_E_NOTFOUND (distrusting a key not trusted), those of
 * lsec_line_change_request.
 */
LSEC_API LSEC_MUST_USE int lsec_line_station_request(int64_t *id_out, lsec_line *line,
						     const lsec_line_actor *by, bool trust,
						     const char *name, const char *pub_path,
						     lsec_err *err);
/*
 * A person added or reset by an approved change sets their own password
 * with the two halves of the enrolment code ("REQUESTER-APPROVER"): a
 * person-update leaf (meaning "enrolled"). A wrong code is recorded
 * ("enrol", "refused") and counts towards the lock. Errors: LSEC_E_AUTH
 * (wrong name or code, locked), LSEC_E_POLICY (password too short),
 * LSEC_E_AUDIT_INDEX.
 */
LSEC_API LSEC_MUST_USE int lsec_line_enrol(lsec_line *line, const char *name,
					   const lsec_secret *code, const lsec_secret *password,
					   lsec_err *err);

/*
 * Opens a shift session for name after checking the password: a random
 * 256-bit token in .sessions/<name> (0600), its SHA-256 in the registry,
 * expiring after the line's session lifetime. A previous session of the
 * same person on this station is ended. A refused login is recorded too.
 * The person's row is checked against their latest leaf before the
 * password; the login leaf records the token's SHA-256, and the session
 * file names that leaf after the token.
 * Errors: LSEC_E_AUTH (unknown person or wrong password: one message for
 * both; disabled person), LSEC_E_AUDIT_INDEX (a people row no leaf backs).
 */
LSEC_API LSEC_MUST_USE int lsec_line_login(lsec_line *line, const char *name,
					   const lsec_secret *password, lsec_err *err);

/* Where a login comes from (lsec_line_login_with). */
typedef struct lsec_line_login_options {
	unsigned version;    /* 1 */
	const char *channel; /* NULL: the station's terminal; LSEC_LINE_CHANNEL_WEB */
	const char *client;  /* the client's address, recorded with a web refusal (may be NULL) */
	bool record_unknown; /* web: record a refusal of a name that is no person */
} lsec_line_login_options;

#define LSEC_LINE_LOGIN_OPTIONS_INIT {1, NULL, NULL, true}
#define LSEC_LINE_CHANNEL_WEB "web"

/* What lsec_line_login_with tells its caller. */
typedef struct lsec_line_login_result {
	uint64_t session_seq; /* the login leaf of the session opened */
	unsigned retry_after; /* refused within the web back-off: seconds left to wait */
	bool locked;          /* refused because the person (or their web login) is locked */
	bool person;          /* refused for a password or a lock of a person (not an unknown name) */
} lsec_line_login_result;

/*
 * lsec_line_login from a channel. With opts->channel LSEC_LINE_CHANNEL_WEB
 * the refusals are the web login's own: each is a "login" leaf, "refused",
 * with evidence channel "web" and client (a name that is no person only
 * when opts->record_unknown); they count towards a lock of the person's
 * web login (LSEC_LINE_LOCK_AFTER), never of the person at the station.
 * A web attempt within the back-off (a second more after each web
 * refusal, up to 8, counted from the last one's leaf time) is refused at
 * once with out->retry_after set, without checking the password or
 * recording a leaf; nothing sleeps. A station lock refuses the web too.
 * A successful login on any channel, a person-unlock or a new password
 * starts both counts again. Without a channel: lsec_line_login (web
 * refusals do not count towards the station's lock). out->session_seq is
 * the new session's login leaf (as lsec_line_actor.session_seq).
 * Errors as lsec_line_login's.
 */
LSEC_API LSEC_MUST_USE int lsec_line_login_with(lsec_line_login_result *out, lsec_line *line,
						const char *name, const lsec_secret *password,
						const lsec_line_login_options *opts, lsec_err *err);
/*
 * Ends the session of name (NULL: the only person logged in) and removes
 * its token file. Errors: LSEC_E_AUTH (nobody or several logged in),
 * LSEC_E_NOTFOUND (name not logged in here).
 */
LSEC_API LSEC_MUST_USE int lsec_line_logout(lsec_line *line, const char *name, lsec_err *err);

/* Argon2id (OWASP parameters) of password as an encoded string into out (cap >= 128). */
LSEC_API LSEC_MUST_USE int lsec_line_password_hash(char *out, size_t cap,
						   const lsec_secret *password, lsec_err *err);
/* Checks password against an encoded Argon2id hash in constant time. LSEC_E_AUTH when wrong. */
LSEC_API LSEC_MUST_USE int lsec_line_password_verify(const char *encoded,
						     const lsec_secret *password, lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
