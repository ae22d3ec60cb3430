/*
 * linesec/store.h - the registry: units, identities, credentials, releases,
 * SOP versions, people, sessions, runs and steps, revocations, scrap records,
 * and the raw storage of the audit log (leaves and checkpoints).
 *
 * Invariants:
 *  - One interface, two backends with the same schema: SQLite (the default;
 *    a file path; WAL mode, busy timeout; a commit returns once it is
 *    synced, the syncs of one process's handles shared: group commit) and PostgreSQL
 *    (a "postgresql://" or "postgres://" URL, through libpq).
 *  - Uniqueness is the database's job: UNIQUE constraints on unit serial,
 *    UID, key fingerprint, certificate serial and credential fingerprint,
 *    across every station sharing the database. A violation is
 *    LSEC_E_EXISTS with a message naming the unit that holds the value.
 *  - The unit lifecycle (docs/registry.md) is enforced inside the
 *    transaction that changes the state; an illegal transition is
 *    LSEC_E_STORE_TRANSITION and changes nothing.
 *  - The schema is versioned (table schema_version): an older database is
 *    migrated on open; a newer one is refused (LSEC_E_STORE_SCHEMA).
 *  - All SQL goes through prepared statements with bound parameters.
 *  - Every mutating call runs in the caller's transaction when one is open
 *    (lsec_store_tx_begin), else in a transaction of its own.
 *  - The store knows nothing of Merkle trees: it keeps audit leaves and
 *    checkpoints as the audit module hands them over.
 *
 * Idiom (a state change and its audit leaf land together or not at all):
 *     lsec_store_tx tx = LSEC_STORE_TX_INIT;
 *     LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
 *     LSEC_TRY(lsec_store_unit_transition(st, serial, LSEC_UNIT_FLASHED, 0, err));
 *     LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
 * out:
 *     rc = lsec_store_tx_end(&tx, rc, err);
 */
#ifndef LINESEC_STORE_H
#define LINESEC_STORE_H

#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Store error codes (-200..-249). */
enum {
	LSEC_E_STORE_TAMPERED = -220,   /* a value linesec never writes (text with a NUL byte) */
	LSEC_E_STORE_TRANSITION = -230, /* illegal unit lifecycle or key state change */
	LSEC_E_STORE_APPROVAL = -231,   /* separation of duties: approver repeated */
	LSEC_E_STORE_SCHEMA = -240,     /* the schema is newer than this program, or cannot be migrated */
	LSEC_E_STORE_BUSY = -241,       /* the database stayed locked past the busy timeout */
	LSEC_E_STORE_MISSING = -242,    /* no registry (or an empty one) where one must be */
	LSEC_E_STORE_ANCHOR = -243,     /* not the registry the line anchors, or older than it */
};

/* Size limits of names and identifiers (bytes, without the NUL). */
#define LSEC_STORE_NAME_MAX 64
#define LSEC_STORE_FP_MAX 128 /* hex fingerprints and certificate serials */
#define LSEC_STORE_ID_LEN 32  /* a registry id: 128 random bits in hex */

typedef struct lsec_store lsec_store;

/* ---- opening --------------------------------------------------------- */

/*
 * Opens an existing registry and migrates an older schema. location is a
 * file path for SQLite or a "postgresql://" URL for PostgreSQL (libpq
 * connection URI, e.g. with "?options=-csearch_path%3Dline1" to use a schema
 * of its own). Opening never creates a registry: a missing database, or one
 * without linesec's schema (deleted, emptied or replaced), is refused, so a
 * lost registry can never be silently replaced by a blank one that
 * "verifies". *out belongs to the caller: lsec_store_close.
 * Errors: LSEC_E_STORE_MISSING (no registry there, or an empty one),
 * LSEC_E_IO (cannot open or connect), LSEC_E_STORE_SCHEMA (the database is
 * newer than this program), LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_store_open(lsec_store **out, const char *location, lsec_err *err);
/*
 * Opens an existing registry for reading only: never migrated, never
 * written (an auditor's copy of a line folder). A SQLite file is opened
 * immutable (no journal, no lock files, so the folder may be read-only);
 * the copy must have been taken with no write in progress: a non-empty
 * write-ahead log beside it is refused. The schema must be this program's.
 * Errors: those of lsec_store_open; LSEC_E_STORE_SCHEMA for an older schema;
 * LSEC_E_STATE for a pending write-ahead log.
 */
LSEC_API LSEC_MUST_USE int lsec_store_open_read_only(lsec_store **out, const char *location,
						     lsec_err *err);
/*
 * The registry's identity into out: a random id given when the registry was
 * created (or first migrated to the schema that holds it). A line folder
 * keeps it to tell its own registry from any other valid one.
 * Errors: LSEC_E_STORE_MISSING (the identity row was deleted), store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_store_registry_id(char out[LSEC_STORE_ID_LEN + 1],
						  lsec_store *st, lsec_err *err);
/*
 * Creates a new registry with the latest schema: a SQLite file that must not
 * exist yet (made 0600), or a PostgreSQL database (schema) that holds no
 * registry yet. Only a line's creation calls this.
 * Errors: LSEC_E_EXISTS (a file or a registry is already there), those of
 * lsec_store_open.
 */
LSEC_API LSEC_MUST_USE int lsec_store_create(lsec_store **out, const char *location,
					     lsec_err *err);
/*
 * Removes the files of a SQLite registry that a failed creation left (the
 * database and its journals). A PostgreSQL registry is shared by stations and
 * never dropped by one: nothing happens.
 */
LSEC_API void lsec_store_discard(const char *location);
/* Closes the handle; an open transaction is rolled back. NULL is a no-op. */
LSEC_API void lsec_store_close(lsec_store *st);
/* "sqlite" or "postgres" (borrowed, static). */
LSEC_API const char *lsec_store_backend(const lsec_store *st);
/* The schema version this program writes. */
LSEC_API int lsec_store_schema_latest(void);
/* The schema version of the open database. */
LSEC_API LSEC_MUST_USE int lsec_store_schema_version(int *out, lsec_store *st, lsec_err *err);

/* ---- transactions ---------------------------------------------------- */

/*
 * A transaction scope, held on the caller's stack. lsec_store_tx_begin opens
 * a write transaction (SQLite: BEGIN IMMEDIATE, so writers queue up front
 * within the busy timeout; PostgreSQL: BEGIN), or joins the caller's when
 * one is already open. lsec_store_tx_begin_read opens a read-only
 * transaction over one snapshot of the database, so that several reads (a
 * whole-log verification) see the same state while other stations keep
 * writing; it too joins an open transaction.
 *
 * The one cleanup rule: every path ends the scope with lsec_store_tx_end
 * (at the out: label). It commits a write transaction the scope opened when
 * rc is 0, rolls it back otherwise (a read transaction is always rolled
 * back), and returns rc or the commit's failure. A scope that joined its
 * caller's transaction leaves commit and rollback to that caller; a scope
 * that was never begun (LSEC_STORE_TX_INIT, or a failed begin) or has
 * already ended returns rc untouched. The fields are the store's.
 */
typedef struct lsec_store_tx {
	lsec_store *st; /* the registry of a transaction this scope opened, else NULL */
	bool read;
} lsec_store_tx;
#define LSEC_STORE_TX_INIT {NULL, false}

LSEC_API LSEC_MUST_USE int lsec_store_tx_begin(lsec_store_tx *out, lsec_store *st, lsec_err *err);
/*
 * A write transaction like lsec_store_tx_begin's whose commit is atomic and
 * ordered but need not be durable when lsec_store_tx_end returns: a process
 * crash loses nothing committed, a power loss may lose it, but only together
 * with every later commit (the registry is as of an earlier commit). The next
 * durable commit of the registry, from any handle, makes it durable. For
 * records a station may lose with the device left as it is because the step
 * they record is safe to repeat (docs/station.md, "Durability"). Joins an
 * open transaction, whose own begin decides.
 */
LSEC_API LSEC_MUST_USE int lsec_store_tx_begin_unsynced(lsec_store_tx *out, lsec_store *st,
							lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_tx_begin_read(lsec_store_tx *out, lsec_store *st,
						     lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_tx_end(lsec_store_tx *tx, int rc, lsec_err *err);
LSEC_API bool lsec_store_in_transaction(const lsec_store *st);

/*
 * A transaction body for lsec_store_tx_run: its database work, with no
 * effect outside the registry that a second run would repeat wrongly.
 */
typedef int (*lsec_store_tx_body)(void *ctx, lsec_store *st, lsec_err *err);
/*
 * Runs body in a write transaction (lsec_store_tx_begin's, or the unsynced
 * one of lsec_store_tx_begin_unsynced when unsynced) and commits it when it
 * returns 0. When another station's transaction makes the database undo this
 * one (PostgreSQL: a deadlock, SQLSTATE 40P01, or a serialization failure,
 * 40001), the whole body runs again in a new transaction after a short
 * random wait, up to 8 times; only then is the conflict an error
 * (LSEC_E_STORE_BUSY, saying so). Inside an open transaction body runs
 * once and the conflict goes to that transaction's owner.
 */
LSEC_API LSEC_MUST_USE int lsec_store_tx_run(lsec_store *st, bool unsynced,
					     lsec_store_tx_body body, void *ctx, lsec_err *err);

/* ---- units and their lifecycle --------------------------------------- */

/*
 * The unit lifecycle (DESIGN.md):
 *   new -> flashed -> provisioned -> secured -> locked -> shipped (ship gate only)
 *   any state but shipped/decommissioned/scrapped -> quarantined
 *   quarantined -> rework (flag) back to a build state no later than the
 *                  one it was quarantined from
 *   quarantined | returned -> decommission-pending | decommissioned
 *   decommission-pending -> decommissioned -> scrapped
 *   shipped -> returned
 * Nothing leaves scrapped.
 */
typedef enum lsec_unit_state {
	LSEC_UNIT_NEW = 0,
	LSEC_UNIT_FLASHED,
	LSEC_UNIT_PROVISIONED,
	LSEC_UNIT_SECURED,
	LSEC_UNIT_LOCKED,
	LSEC_UNIT_SHIPPED,
	LSEC_UNIT_QUARANTINED,
	LSEC_UNIT_RETURNED,
	LSEC_UNIT_DECOMMISSION_PENDING,
	LSEC_UNIT_DECOMMISSIONED,
	LSEC_UNIT_SCRAPPED,
	LSEC_UNIT_STATE_COUNT
} lsec_unit_state;

/* Flags of lsec_store_unit_transition. */
enum lsec_store_transition_flags {
	LSEC_STORE_SHIP_GATE = 1u << 0, /* the ship gate passed: allows -> shipped */
	LSEC_STORE_REWORK = 1u << 1,    /* a supervisor approved rework out of quarantine */
};

/* "new", "flashed", ..., "decommission-pending", ... (static). */
LSEC_API const char *lsec_unit_state_name(lsec_unit_state s);
/* Parses a state name (lsec_name_lookup); LSEC_E_USAGE naming the value when unknown. */
LSEC_API LSEC_MUST_USE int lsec_unit_state_parse(lsec_unit_state *out, const char *name,
						 lsec_err *err);
/* Whether from -> to is legal under flags (no database access). */
LSEC_API bool lsec_unit_transition_allowed(lsec_unit_state from, lsec_unit_state prev,
					   lsec_unit_state to, unsigned flags);

typedef struct lsec_store_unit {
	int64_t id;
	char serial[LSEC_STORE_NAME_MAX + 1];
	char uid[LSEC_STORE_NAME_MAX + 1];
	char product[LSEC_STORE_NAME_MAX + 1];
	char station[LSEC_STORE_NAME_MAX + 1];
	lsec_unit_state state;
	lsec_unit_state prev_state; /* the state before the last transition */
	char created[32];           /* RFC 3339 UTC */
	char updated[32];
} lsec_store_unit;

/*
 * Registers a new unit in state "new".
 * Errors: LSEC_E_EXISTS (serial or UID already held; the message names the
 * unit), LSEC_E_LIMIT (a field longer than LSEC_STORE_NAME_MAX), LSEC_E_USAGE.
 */
LSEC_API LSEC_MUST_USE int lsec_store_unit_create(lsec_store *st, const char *serial,
						  const char *uid, const char *product,
						  const char *station, lsec_err *err);
/* Fills *out with the unit; LSEC_E_NOTFOUND when there is none. */
LSEC_API LSEC_MUST_USE int lsec_store_unit_get(lsec_store_unit *out, lsec_store *st,
					       const char *serial, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_unit_get_by_uid(lsec_store_unit *out, lsec_store *st,
						      const char *uid, lsec_err *err);
/*
 * Lists units in serial order, optionally only one product (NULL: all).
 * *out (may be NULL when *n_out is 0) belongs to the caller: lsec_free.
 */
LSEC_API LSEC_MUST_USE int lsec_store_unit_list(lsec_store_unit **out, size_t *n_out,
						lsec_store *st, const char *product,
						lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_unit_count(uint64_t *out, lsec_store *st, lsec_err *err);
/*
 * Counts the units that have begun at least one run of sop under release
 * (lsec_store_run_set_release), leaving out the unit except_serial (NULL:
 * none). Inside a write transaction this is the production count a
 * release's quota is checked against.
 */
LSEC_API LSEC_MUST_USE int lsec_store_release_units_started(uint64_t *out, lsec_store *st,
							    const char *release, const char *sop,
							    const char *except_serial,
							    lsec_err *err);
/*
 * Moves a unit to state `to`, checking the lifecycle against the state read
 * inside the same transaction.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_STORE_TRANSITION (illegal; names both
 * states), LSEC_E_STATE (changed concurrently).
 */
LSEC_API LSEC_MUST_USE int lsec_store_unit_transition(lsec_store *st, const char *serial,
						      lsec_unit_state to, unsigned flags,
						      lsec_err *err);

/* ---- identities and credentials -------------------------------------- */

/* Key states as NIST SP 800-57 Part 1 §7 names them. */
typedef enum lsec_key_state {
	LSEC_KEY_PRE_ACTIVATION = 0,
	LSEC_KEY_ACTIVE,
	LSEC_KEY_SUSPENDED,
	LSEC_KEY_DEACTIVATED,
	LSEC_KEY_COMPROMISED,
	LSEC_KEY_DESTROYED,
	LSEC_KEY_STATE_COUNT
} lsec_key_state;

LSEC_API const char *lsec_key_state_name(lsec_key_state s);
/* Parses a key state name (lsec_name_lookup); LSEC_E_USAGE when unknown. */
LSEC_API LSEC_MUST_USE int lsec_key_state_parse(lsec_key_state *out, const char *name,
						lsec_err *err);

typedef struct lsec_store_identity {
	int64_t id;
	char serial[LSEC_STORE_NAME_MAX + 1]; /* the unit */
	char key_fp[LSEC_STORE_FP_MAX + 1];   /* hex SHA-256 of the SubjectPublicKeyInfo */
	char cert_serial[LSEC_STORE_FP_MAX + 1]; /* hex; "" when no certificate yet */
	lsec_key_state state;
	char created[32];
	char updated[32];
} lsec_store_identity;

/*
 * Records a unit's public key (and certificate, when cert_der is not NULL).
 * Errors: LSEC_E_NOTFOUND (no such unit), LSEC_E_EXISTS (key fingerprint or
 * certificate serial already held, revoked or destroyed ones included;
 * names the unit), LSEC_E_STORE_TRANSITION (the unit is decommission
 * pending, decommissioned or scrapped), LSEC_E_LIMIT.
 */
LSEC_API LSEC_MUST_USE int lsec_store_identity_add(lsec_store *st, const char *serial,
						   const char *key_fp, const char *cert_serial,
						   const uint8_t *cert_der, size_t cert_len,
						   lsec_key_state state, lsec_err *err);
/*
 * Changes a key's state along SP 800-57's transitions (pre-activation ->
 * active | compromised | destroyed; active -> suspended | deactivated |
 * compromised; suspended -> active | deactivated | compromised; deactivated
 * -> compromised | destroyed; compromised -> destroyed).
 * Errors: LSEC_E_NOTFOUND, LSEC_E_STORE_TRANSITION.
 */
LSEC_API LSEC_MUST_USE int lsec_store_identity_set_state(lsec_store *st, const char *key_fp,
							 lsec_key_state to, lsec_err *err);
/* The identity holding key_fp; cert DER into cert_der_out (may be NULL). */
LSEC_API LSEC_MUST_USE int lsec_store_identity_get(lsec_store_identity *out,
						   lsec_buf *cert_der_out, lsec_store *st,
						   const char *key_fp, lsec_err *err);
/*
 * Records a credential's keyed fingerprint (e.g. hex HMAC-SHA-256 under a
 * line key; never the credential itself). A unit holds at most one valid
 * (unrevoked) credential.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_EXISTS (names the unit; revoked
 * credentials included), LSEC_E_STATE (the unit already holds a valid
 * credential), LSEC_E_STORE_TRANSITION (the unit is retired, as for
 * lsec_store_identity_add), LSEC_E_LIMIT.
 */
LSEC_API LSEC_MUST_USE int lsec_store_credential_add(lsec_store *st, const char *serial,
						     const char *keyed_fp, lsec_err *err);

/*
 * A unit's identities in the order they were recorded (revoked ones
 * included: they are never deleted). *out (may be NULL when *n_out is 0)
 * belongs to the caller: lsec_free. Errors: LSEC_E_NOTFOUND (no such unit).
 */
LSEC_API LSEC_MUST_USE int lsec_store_identity_list(lsec_store_identity **out, size_t *n_out,
						    lsec_store *st, const char *serial,
						    lsec_err *err);
/* Every identity of the registry in the order recorded; *out: lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_store_identity_list_all(lsec_store_identity **out,
							size_t *n_out, lsec_store *st,
							lsec_err *err);

/* A recorded credential (its keyed fingerprint stays in the registry only). */
typedef struct lsec_store_credential {
	int64_t id;
	char serial[LSEC_STORE_NAME_MAX + 1];
	char created[32];
	char revoked[32]; /* RFC 3339 UTC; "" while valid */
	char keyed_fp[LSEC_STORE_FP_MAX + 1]; /* hex HMAC-SHA-256 (never the credential) */
} lsec_store_credential;

/* A unit's credentials in order; *out belongs to the caller: lsec_free. LSEC_E_NOTFOUND. */
LSEC_API LSEC_MUST_USE int lsec_store_credential_list(lsec_store_credential **out,
						      size_t *n_out, lsec_store *st,
						      const char *serial, lsec_err *err);
/*
 * Marks every valid credential of a unit revoked (decommissioning). The row
 * stays, so its fingerprint is never issued again. *n_out (may be NULL):
 * how many were revoked now (0 when all already were).
 * Errors: LSEC_E_NOTFOUND.
 */
LSEC_API LSEC_MUST_USE int lsec_store_credential_revoke(size_t *n_out, lsec_store *st,
							const char *serial, lsec_err *err);

/* ---- releases and SOP versions ---------------------------------------- */

/*
 * Releases (firmware of a product) and SOP versions share one shape: a
 * name (product or SOP id), a version, a digest, a body (manifest or SOP
 * text) and approvals. Separation of duties: it is approved once two
 * distinct people approved it.
 */
typedef struct lsec_store_approvable {
	int64_t id;
	char name[LSEC_STORE_NAME_MAX + 1];
	char version[LSEC_STORE_NAME_MAX + 1];
	char digest[LSEC_STORE_FP_MAX + 1];
	char created_by[LSEC_STORE_NAME_MAX + 1];
	char approvers[2][LSEC_STORE_NAME_MAX + 1]; /* the first two; "" when missing */
	unsigned n_approvals;
	bool approved; /* n_approvals >= 2 */
	char created[32];
	char revoked[32]; /* releases: RFC 3339 UTC of the revocation; "" while valid */
	char revoked_by[LSEC_STORE_NAME_MAX + 1]; /* releases: who revoked it; "" while valid */
} lsec_store_approvable;

/*
 * Adds a release of product at version with the image digest (hex) and its
 * manifest (JSON text, may be NULL). *id_out may be NULL.
 * Errors: LSEC_E_EXISTS (that product version exists), LSEC_E_LIMIT.
 */
LSEC_API LSEC_MUST_USE int lsec_store_release_add(int64_t *id_out, lsec_store *st,
						  const char *product, const char *version,
						  const char *digest, const char *manifest,
						  const char *created_by, lsec_err *err);
/*
 * Records person's approval. Errors: LSEC_E_NOTFOUND, LSEC_E_STORE_APPROVAL
 * (the person already approved it).
 */
LSEC_API LSEC_MUST_USE int lsec_store_release_approve(lsec_store *st, const char *product,
						      const char *version, const char *person,
						      lsec_err *err);
/*
 * Marks a release revoked by person, now. Revocation is final and every
 * station sharing the registry sees it; the release keeps its row and its
 * approvals. Errors: LSEC_E_NOTFOUND, LSEC_E_EXISTS (already revoked: names
 * who and when).
 */
LSEC_API LSEC_MUST_USE int lsec_store_release_revoke(lsec_store *st, const char *product,
						     const char *version, const char *person,
						     lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_release_get(lsec_store_approvable *out,
						  lsec_buf *manifest_out, lsec_store *st,
						  const char *product, const char *version,
						  lsec_err *err);
/* product NULL: all. *out belongs to the caller: lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_store_release_list(lsec_store_approvable **out, size_t *n_out,
						   lsec_store *st, const char *product,
						   lsec_err *err);

LSEC_API LSEC_MUST_USE int lsec_store_sop_add(int64_t *id_out, lsec_store *st, const char *sop,
					      const char *version, const char *digest,
					      const char *body, const char *created_by,
					      lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_sop_approve(lsec_store *st, const char *sop,
						  const char *version, const char *person,
						  lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_sop_get(lsec_store_approvable *out, lsec_buf *body_out,
					      lsec_store *st, const char *sop,
					      const char *version, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_sop_list(lsec_store_approvable **out, size_t *n_out,
					       lsec_store *st, const char *sop, lsec_err *err);
/*
 * SOP controls (the sop module decides; these only keep the rows its
 * leaves back): person's acknowledgement of a SOP version of SHA-256
 * digest (LSEC_E_EXISTS when recorded already), whether such a row exists,
 * and a version withdrawn by change change_id.
 */
LSEC_API LSEC_MUST_USE int lsec_store_sop_ack_add(lsec_store *st, const char *sop,
						  const char *version, const char *digest,
						  const char *person, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_sop_ack_exists(bool *out, lsec_store *st, const char *sop,
						     const char *version, const char *person,
						     lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_sop_withdraw_add(lsec_store *st, const char *sop,
						       const char *version, const char *reason,
						       int64_t change_id, const char *by,
						       lsec_err *err);

/* A row of sop_acknowledgements or sop_withdrawals, as audit verify compares it. */
typedef struct lsec_store_sop_control {
	char sop[LSEC_STORE_NAME_MAX + 1];
	char version[LSEC_STORE_NAME_MAX + 1];
	char person[LSEC_STORE_NAME_MAX + 1]; /* who read it; who applied the withdrawal */
	char digest[LSEC_STORE_NAME_MAX + 1]; /* acknowledgement: the SHA-256 read; else "" */
	int64_t change_id;                    /* withdrawal: its change; else 0 */
} lsec_store_sop_control;
/* Every acknowledgement (withdrawals: every withdrawal), in row order; *out (lsec_free). */
LSEC_API LSEC_MUST_USE int lsec_store_sop_ack_list(lsec_store_sop_control **out, size_t *n_out,
						   lsec_store *st, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_sop_withdraw_list(lsec_store_sop_control **out,
							size_t *n_out, lsec_store *st,
							lsec_err *err);

/*
 * Product keys: a product's firmware verification key (name: the product;
 * version: "1", "2", ... one per key it has had; digest: the hex SHA-256
 * of its SubjectPublicKeyInfo; body: that SubjectPublicKeyInfo DER in
 * base64), approved like a release.
 * Errors as for releases.
 */
LSEC_API LSEC_MUST_USE int lsec_store_product_key_add(int64_t *id_out, lsec_store *st,
						      const char *product, const char *version,
						      const char *digest, const char *spki,
						      const char *created_by, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_product_key_approve(lsec_store *st, const char *product,
							  const char *version, const char *person,
							  lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_product_key_get(lsec_store_approvable *out,
						      lsec_buf *spki_out, lsec_store *st,
						      const char *product, const char *version,
						      lsec_err *err);
/* product NULL: all. *out belongs to the caller: lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_store_product_key_list(lsec_store_approvable **out,
						       size_t *n_out, lsec_store *st,
						       const char *product, lsec_err *err);

/* ---- people and sessions ---------------------------------------------- */

typedef enum lsec_role {
	LSEC_ROLE_OPERATOR = 0,
	LSEC_ROLE_SUPERVISOR,
	LSEC_ROLE_SECURITY_OFFICER,
	LSEC_ROLE_AUDITOR,
	LSEC_ROLE_COUNT
} lsec_role;

/* "operator", "supervisor", "security-officer", "auditor". */
LSEC_API const char *lsec_role_name(lsec_role r);
/* Parses a role name (lsec_name_lookup); LSEC_E_USAGE when unknown. */
LSEC_API LSEC_MUST_USE int lsec_role_parse(lsec_role *out, const char *name, lsec_err *err);

typedef struct lsec_store_person {
	int64_t id;
	char name[LSEC_STORE_NAME_MAX + 1];
	lsec_role role;
	bool disabled;
	char pw_hash[160]; /* encoded Argon2id hash ("$argon2id$v=19$..."), never a password */
	char created[32];
} lsec_store_person;

/* Errors: LSEC_E_EXISTS (name taken), LSEC_E_LIMIT. */
LSEC_API LSEC_MUST_USE int lsec_store_person_add(lsec_store *st, const char *name, lsec_role role,
						 const char *pw_hash, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_person_get(lsec_store_person *out, lsec_store *st,
						 const char *name, lsec_err *err);
/* In name order; *out belongs to the caller: lsec_free (pw_hash is cleared). */
LSEC_API LSEC_MUST_USE int lsec_store_person_list(lsec_store_person **out, size_t *n_out,
						  lsec_store *st, lsec_err *err);
/* Disables a person and revokes their sessions. LSEC_E_NOTFOUND. */
LSEC_API LSEC_MUST_USE int lsec_store_person_disable(lsec_store *st, const char *name,
						     lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_person_count(uint64_t *out, lsec_store *st, lsec_err *err);

typedef struct lsec_store_session {
	int64_t id;
	char person[LSEC_STORE_NAME_MAX + 1];
	char station[LSEC_STORE_NAME_MAX + 1];
	int64_t created; /* Unix seconds */
	int64_t expires; /* Unix seconds */
	bool revoked;
} lsec_store_session;

/* Records a session by the SHA-256 of its token (never the token). */
LSEC_API LSEC_MUST_USE int lsec_store_session_add(lsec_store *st, const char *person,
						  const uint8_t token_hash[32], const char *station,
						  int64_t created, int64_t expires, lsec_err *err);
/* The session with that token hash; LSEC_E_NOTFOUND. */
LSEC_API LSEC_MUST_USE int lsec_store_session_get(lsec_store_session *out, lsec_store *st,
						  const uint8_t token_hash[32], lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_session_revoke(lsec_store *st,
						     const uint8_t token_hash[32], lsec_err *err);

/* Replaces a person's role and password hash (an approved change, an enrolment). LSEC_E_NOTFOUND. */
LSEC_API LSEC_MUST_USE int lsec_store_person_update(lsec_store *st, const char *name,
						    lsec_role role, const char *pw_hash,
						    lsec_err *err);

/* ---- changes that take two security officers ---------------------------- */

/* Longest canonical JSON payload of a change (bytes). */
#define LSEC_STORE_PAYLOAD_MAX 4000

typedef struct lsec_store_change {
	int64_t id;
	char kind[LSEC_STORE_NAME_MAX + 1];
	char subject[LSEC_STORE_NAME_MAX + 1];
	char payload[LSEC_STORE_PAYLOAD_MAX + 1]; /* canonical JSON */
	char enrol_hash[160];                     /* "" or an Argon2id hash, never a code */
	char requested_by[LSEC_STORE_NAME_MAX + 1];
	char created[32];
	char state[16]; /* "pending", "approved", "rejected" */
	char decided_by[LSEC_STORE_NAME_MAX + 1];
	char decided[32];
} lsec_store_change;

/* Records a pending change; *id_out its id. Errors: LSEC_E_USAGE, LSEC_E_LIMIT. */
LSEC_API LSEC_MUST_USE int lsec_store_change_add(int64_t *id_out, lsec_store *st,
						 const char *kind, const char *subject,
						 const char *payload, const char *enrol_hash,
						 const char *requested_by, lsec_err *err);
/* The change with that id; LSEC_E_NOTFOUND. */
LSEC_API LSEC_MUST_USE int lsec_store_change_get(lsec_store_change *out, lsec_store *st,
						 int64_t id, lsec_err *err);
/* Every change (pending only when pending_only), by id; *out: lsec_free (enrol_hash cleared). */
LSEC_API LSEC_MUST_USE int lsec_store_change_list(lsec_store_change **out, size_t *n_out,
						  lsec_store *st, bool pending_only,
						  lsec_err *err);
/*
 * Moves a pending change to state ("approved" or "rejected") by person, now.
 * LSEC_E_STATE when it is no longer pending; LSEC_E_NOTFOUND.
 */
LSEC_API LSEC_MUST_USE int lsec_store_change_decide(lsec_store *st, int64_t id, const char *state,
						    const char *person, lsec_err *err);

/* ---- runs and steps ----------------------------------------------------- */

/* Starts a run of sop (at sop_version) on a unit. LSEC_E_NOTFOUND (unit). */
LSEC_API LSEC_MUST_USE int lsec_store_run_begin(int64_t *run_id_out, lsec_store *st,
						const char *serial, const char *sop,
						const char *sop_version, const char *person,
						const char *station, lsec_err *err);
/* Records the release ("product@version") a run uses. LSEC_E_NOTFOUND: no such run. */
LSEC_API LSEC_MUST_USE int lsec_store_run_set_release(lsec_store *st, int64_t run_id,
						      const char *release, lsec_err *err);
/* Closes a run with its outcome ("passed", "failed", ...). LSEC_E_STATE if closed. */
LSEC_API LSEC_MUST_USE int lsec_store_run_finish(lsec_store *st, int64_t run_id,
						 const char *outcome, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_step_begin(int64_t *step_id_out, lsec_store *st,
						 int64_t run_id, const char *step,
						 const char *person, lsec_err *err);
/*
 * Closes a step with its outcome, an optional witness and its evidence
 * (JSON, stored canonically; may be NULL). LSEC_E_STATE if closed.
 */
LSEC_API LSEC_MUST_USE int lsec_store_step_finish(lsec_store *st, int64_t step_id,
						  const char *outcome, const char *witness,
						  const struct json_t *evidence, lsec_err *err);

typedef struct lsec_store_run {
	int64_t id;
	char serial[LSEC_STORE_NAME_MAX + 1];
	char sop[LSEC_STORE_NAME_MAX + 1];
	char sop_version[LSEC_STORE_NAME_MAX + 1];
	char person[LSEC_STORE_NAME_MAX + 1];
	char station[LSEC_STORE_NAME_MAX + 1];
	char outcome[LSEC_STORE_NAME_MAX + 1]; /* "" while open */
	char started[32];
	char finished[32];
	char release[2 * LSEC_STORE_NAME_MAX + 2]; /* "product@version"; "" when none */
} lsec_store_run;

/* A unit's runs in start order; *out belongs to the caller: lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_store_run_list(lsec_store_run **out, size_t *n_out,
					       lsec_store *st, const char *serial, lsec_err *err);
/* Every run of the registry in id order; *out belongs to the caller: lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_store_run_list_all(lsec_store_run **out, size_t *n_out,
						   lsec_store *st, lsec_err *err);

/* Records the gang socket (from 1) a run is built on. LSEC_E_NOTFOUND: no such run. */
LSEC_API LSEC_MUST_USE int lsec_store_run_set_socket(lsec_store *st, int64_t run_id,
						     unsigned socket, lsec_err *err);

/* The newest run of one socket of a station, with the newest step of that run. */
typedef struct lsec_store_socket_run {
	char station[LSEC_STORE_NAME_MAX + 1];
	unsigned socket;
	int64_t run_id;
	char serial[LSEC_STORE_NAME_MAX + 1];
	char sop[LSEC_STORE_NAME_MAX + 1];
	char person[LSEC_STORE_NAME_MAX + 1];
	char outcome[LSEC_STORE_NAME_MAX + 1];      /* "" while the run is open */
	char started[32];
	char finished[32];
	char step[LSEC_STORE_NAME_MAX + 1];         /* "" before its first step */
	char step_outcome[LSEC_STORE_NAME_MAX + 1]; /* "" while that step is open */
} lsec_store_socket_run;

/*
 * The newest run of every socket that has built a unit (runs recorded with
 * lsec_store_run_set_socket), by station then socket: what a gang run is
 * doing now, or did last. *out belongs to the caller: lsec_free.
 */
LSEC_API LSEC_MUST_USE int lsec_store_socket_runs(lsec_store_socket_run **out, size_t *n_out,
						  lsec_store *st, lsec_err *err);

/* One attempt of a step, as the steps table holds it. */
typedef struct lsec_store_step {
	int64_t id;
	int64_t run_id;
	char step[LSEC_STORE_NAME_MAX + 1];
	char person[LSEC_STORE_NAME_MAX + 1];
	char witness[LSEC_STORE_NAME_MAX + 1]; /* "" when none */
	char outcome[LSEC_STORE_NAME_MAX + 1]; /* "" while open */
	char evidence_sha256[65]; /* hex SHA-256 of the evidence as stored; "" when none */
} lsec_store_step;

/* Every step attempt of every run, by run then attempt (id). */
LSEC_API LSEC_MUST_USE int lsec_store_step_list_all(lsec_store_step **out, size_t *n_out,
						    lsec_store *st, lsec_err *err);

/* ---- revocations and scrap --------------------------------------------- */

typedef struct lsec_store_record {
	int64_t id;
	char serial[LSEC_STORE_NAME_MAX + 1];
	char subject[LSEC_STORE_FP_MAX + 1]; /* revocation: certificate serial; scrap: method */
	char reason[LSEC_STORE_NAME_MAX + 1]; /* revocation: reason; scrap: note (truncated) */
	char person[LSEC_STORE_NAME_MAX + 1];
	char witness[LSEC_STORE_NAME_MAX + 1]; /* scrap only; "" otherwise */
	char created[32];
} lsec_store_record;

/* Records a certificate revocation. LSEC_E_NOTFOUND, LSEC_E_EXISTS (already revoked). */
LSEC_API LSEC_MUST_USE int lsec_store_revocation_add(lsec_store *st, const char *serial,
						     const char *cert_serial, const char *reason,
						     const char *person, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_revocation_list(lsec_store_record **out, size_t *n_out,
						      lsec_store *st, lsec_err *err);
/*
 * Records the physical destruction of a unit with its witness (who must be
 * someone else: LSEC_E_STORE_APPROVAL). LSEC_E_NOTFOUND.
 */
LSEC_API LSEC_MUST_USE int lsec_store_scrap_add(lsec_store *st, const char *serial,
						const char *method, const char *person,
						const char *witness, const char *note, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_scrap_list(lsec_store_record **out, size_t *n_out,
						 lsec_store *st, lsec_err *err);

/* ---- audit log storage (raw; the audit module builds the tree) --------- */

/*
 * The leaf signer of whoever writes through this handle: an opaque pointer
 * the store keeps for the audit module (lsec_audit_signer_attach), which
 * signs every leaf it records with it. The store never looks inside. It
 * calls release(signer) (when release is not NULL) when another signer is
 * set or the handle is closed. Setting NULL detaches it.
 */
LSEC_API void lsec_store_set_signer(lsec_store *st, void *signer, void (*release)(void *));
/* The signer set on st (borrowed), or NULL. */
LSEC_API void *lsec_store_signer(const lsec_store *st);

/*
 * Inside a transaction: takes the log lock (PostgreSQL: a transaction-scoped
 * advisory lock, so concurrent stations serialise their appends; SQLite:
 * the write lock BEGIN IMMEDIATE already holds) and returns the next
 * sequence number (the current leaf count). LSEC_E_STATE outside a
 * transaction.
 */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_reserve(uint64_t *seq_out, lsec_store *st,
						   lsec_err *err);
/*
 * Stores leaf seq (unit may be NULL) with the signature of the station that
 * wrote it (sig_len bytes, stored as they are; NULL: none). The store does
 * not read the signature: the audit module makes and checks it.
 * LSEC_E_EXISTS if seq is taken.
 */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_put(lsec_store *st, uint64_t seq, const char *unit,
					       const uint8_t *leaf, size_t len,
					       const uint8_t leaf_hash[32], const uint8_t *sig,
					       size_t sig_len, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_leaf_count(uint64_t *out, lsec_store *st, lsec_err *err);
/*
 * Leaf seq into leaf_out (empty), its hash, and, when sig_out (empty) is
 * not NULL, the stored signature (none: left empty). LSEC_E_NOTFOUND.
 */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_get(lsec_buf *leaf_out, uint8_t leaf_hash_out[32],
					       lsec_buf *sig_out, lsec_store *st, uint64_t seq,
					       lsec_err *err);

/*
 * Called for each leaf with its stored signature (sig NULL and sig_len 0
 * when the row has none); the pointers are borrowed for the call only.
 * Returning < 0 stops the walk with that code.
 */
typedef int (*lsec_store_leaf_cb)(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf,
				  size_t len, const uint8_t leaf_hash[32], const uint8_t *sig,
				  size_t sig_len, lsec_err *err);
/*
 * Calls cb for the leaves with seq in [from, to), in order, streaming (rows
 * are not all loaded at once). A stored hash that is not 32 bytes stops
 * the walk with LSEC_E_PARSE naming the leaf.
 */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_foreach(lsec_store *st, uint64_t from, uint64_t to,
						   lsec_store_leaf_cb cb, void *ctx,
						   lsec_err *err);
/*
 * lsec_store_leaf_foreach with each row's index columns as well: unit and
 * action (NULL: none), the lookup hints lsec_store_leaf_seqs_for_unit and
 * lsec_store_leaf_seqs_for_action read, which lie outside the leaf hash.
 * For checking them against the leaves (lsec_audit_verify does).
 */
typedef int (*lsec_store_leaf_index_cb)(void *ctx, uint64_t seq, const char *unit,
					const char *action, const uint8_t *leaf, size_t len,
					const uint8_t leaf_hash[32], const uint8_t *sig,
					size_t sig_len, lsec_err *err);
LSEC_API LSEC_MUST_USE int lsec_store_leaf_foreach_indexed(lsec_store *st, uint64_t from,
							   uint64_t to,
							   lsec_store_leaf_index_cb cb,
							   void *ctx, lsec_err *err);
/* The sequence numbers of a unit's leaves, ascending; *seqs_out: lsec_free. */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_seqs_for_unit(uint64_t **seqs_out, size_t *n_out,
							 lsec_store *st, const char *unit,
							 lsec_err *err);
/*
 * The sequence numbers of the leaves the registry files under action,
 * ascending; *seqs_out: lsec_free. The registry's action column (taken from
 * the leaf when it is stored) is a lookup hint outside the leaf hash: the
 * caller checks each leaf it reads (lsec_audit_leaves_find does).
 */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_seqs_for_action(uint64_t **seqs_out, size_t *n_out,
							   lsec_store *st, const char *action,
							   lsec_err *err);
/* As lsec_store_leaf_seqs_for_action, only the leaves from sequence number from on. */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_seqs_for_action_from(uint64_t **seqs_out,
								size_t *n_out, lsec_store *st,
								const char *action, uint64_t from,
								lsec_err *err);
/*
 * Stores a checkpoint of tree_size leaves with its root and signed note,
 * and the compact range of the tree it signs (range_len bytes in the audit
 * module's encoding; NULL: none). The store does not read the range: the
 * audit module trusts it only once it hashes to the root of a note that
 * verifies under a trusted key.
 */
LSEC_API LSEC_MUST_USE int lsec_store_checkpoint_put(lsec_store *st, uint64_t tree_size,
						     const uint8_t root[32], const char *note,
						     const uint8_t *range, size_t range_len,
						     lsec_err *err);
/*
 * The stored checkpoint of tree_size leaves: its root into root_out and,
 * when note_out is not NULL, its note appended (not NUL-terminated).
 * Errors: LSEC_E_NOTFOUND (no checkpoint of that size), store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_store_checkpoint_get(uint8_t root_out[32], lsec_buf *note_out,
						     lsec_store *st, uint64_t tree_size,
						     lsec_err *err);
/*
 * The latest stored checkpoint (the last inserted): its size, its root, its
 * note appended to note_out and its stored compact range appended to
 * range_out (each when not NULL; nothing is appended for a checkpoint
 * stored without a range). Errors: LSEC_E_NOTFOUND (no checkpoint), store
 * errors.
 */
LSEC_API LSEC_MUST_USE int lsec_store_checkpoint_latest(uint64_t *size_out, uint8_t root_out[32],
							lsec_buf *note_out, lsec_buf *range_out,
							lsec_store *st, lsec_err *err);
/*
 * Stores the hash of the complete subtree of 2^level leaves starting at
 * leaf index * 2^level, replacing one stored before. The store does not
 * check it: a proof built from it is checked against a signed checkpoint.
 * LSEC_E_LIMIT for level >= 64 or an index past INT64_MAX.
 */
LSEC_API LSEC_MUST_USE int lsec_store_node_put(lsec_store *st, unsigned level, uint64_t index,
					       const uint8_t hash[32], lsec_err *err);
/* A hash stored by lsec_store_node_put. LSEC_E_NOTFOUND when there is none. */
LSEC_API LSEC_MUST_USE int lsec_store_node_get(uint8_t hash_out[32], lsec_store *st,
					       unsigned level, uint64_t index, lsec_err *err);
/* ---- the signed index's rows (src/audit/index.c checks every one) ------ */

/* Longest index key kept ("unit:<serial>", "action:<action>"). */
#define LSEC_STORE_INDEX_KEY_MAX 320
/* One entry of the signed index as stored: untrusted until its bucket is checked. */
typedef struct lsec_store_index_entry {
	char key[LSEC_STORE_INDEX_KEY_MAX + 1];
	uint64_t count;   /* leaves naming the key */
	uint8_t head[32]; /* the chain head over their (seq, leaf hash) */
} lsec_store_index_entry;
/* The stored entries of one bucket, in no order, into *out (lsec_free). Store errors. */
LSEC_API LSEC_MUST_USE int lsec_store_index_bucket(lsec_store_index_entry **out, size_t *n_out,
						   lsec_store *st, uint32_t bucket,
						   lsec_err *err);
/* Stores (or replaces) entry e of bucket. LSEC_E_LIMIT, store errors. */
LSEC_API LSEC_MUST_USE int lsec_store_index_put(lsec_store *st, uint32_t bucket,
						const lsec_store_index_entry *e, lsec_err *err);
/* Stores (or replaces) node index of level of the index tree (level 0: bucket hashes). */
LSEC_API LSEC_MUST_USE int lsec_store_index_node_put(lsec_store *st, unsigned level,
						     uint32_t index, const uint8_t hash[32],
						     lsec_err *err);
/* A node stored by lsec_store_index_node_put; *found_out false when none is. */
LSEC_API LSEC_MUST_USE int lsec_store_index_node_get(uint8_t hash_out[32], bool *found_out,
						     lsec_store *st, unsigned level,
						     uint32_t index, lsec_err *err);
/* Which index column of audit_leaves a lookup reads. */
typedef enum lsec_store_leaf_column { LSEC_STORE_LEAF_UNIT, LSEC_STORE_LEAF_ACTION } lsec_store_leaf_column;
/* A leaf as an index column lists it: its position and stored hash. */
typedef struct lsec_store_leaf_ref {
	uint64_t seq;
	uint8_t hash[32];
} lsec_store_leaf_ref;
/*
 * The leaves below to whose column (unit or action) is value, by seq, into
 * *out (lsec_free): only a hint, checked against the signed index by
 * src/audit/index.c. Store errors.
 */
LSEC_API LSEC_MUST_USE int lsec_store_leaf_refs(lsec_store_leaf_ref **out, size_t *n_out,
						lsec_store *st, lsec_store_leaf_column column,
						const char *value, uint64_t to, lsec_err *err);
/* Called for each checkpoint; borrowed pointers; < 0 stops the walk. */
typedef int (*lsec_store_checkpoint_cb)(void *ctx, uint64_t id, uint64_t tree_size,
					const uint8_t root[32], const char *note, lsec_err *err);
/* Checkpoints in insertion order. */
LSEC_API LSEC_MUST_USE int lsec_store_checkpoint_foreach(lsec_store *st,
							 lsec_store_checkpoint_cb cb, void *ctx,
							 lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
