/*
 * store_int.h - the storage interface behind linesec/store.h: a table of
 * backend operations (sqlite.c, postgres.c) and the typed values that cross
 * it. Everything above the table (schema, migrations, lifecycle, uniqueness
 * messages) is written once in store.c and the record files.
 *
 * SQL is written once with '?' placeholders; the PostgreSQL backend numbers
 * them ($1, $2, ...) when it prepares a statement. Statements are prepared
 * once per handle and cached by their text's address, so every SQL string
 * handed to query() must be a string literal (static storage).
 */
#ifndef LINESEC_STORE_INT_H
#define LINESEC_STORE_INT_H

#include "linesec/store.h"

typedef enum store_vtype { SV_NULL = 0, SV_INT, SV_TEXT, SV_BLOB } store_vtype;

/* A parameter or a column value; pointers are borrowed. */
typedef struct store_val {
	store_vtype t;
	int64_t i;
	const char *s; /* SV_TEXT: NUL-terminated */
	const uint8_t *b;
	size_t n; /* SV_BLOB length; SV_TEXT length in columns */
} store_val;

#define SV_I(x) ((store_val){SV_INT, (int64_t)(x), NULL, NULL, 0})
#define SV_S(x) ((x) != NULL ? (store_val){SV_TEXT, 0, (x), NULL, 0} : (store_val){SV_NULL, 0, NULL, NULL, 0})
#define SV_B(p, len) ((store_val){SV_BLOB, 0, NULL, (p), (len)})
#define SV_NUL ((store_val){SV_NULL, 0, NULL, NULL, 0})

/* Called once per result row; cols are borrowed for the call. < 0 stops. */
typedef int (*store_row_fn)(void *ctx, const store_val *cols, size_t ncols, lsec_err *err);

typedef struct store_ops {
	const char *name;
	const char *ddl_id;   /* an auto-numbered primary key column type */
	const char *ddl_blob; /* the byte-string column type */
	const char *begin_sql;
	const char *log_lock_sql;     /* NULL when begin_sql already serialises writers */
	const char *migrate_lock_sql; /* NULL likewise */
	/* One row, one column: 1 when the database holds a schema_version table. */
	const char *has_schema_sql;
	int (*open)(lsec_store *st, const char *location, lsec_err *err);
	void (*close)(lsec_store *st);
	/* Runs SQL text without parameters or results (DDL, BEGIN, SAVEPOINT). */
	int (*exec)(lsec_store *st, const char *sql, lsec_err *err);
	/*
	 * Runs one prepared statement with bound parameters, calling fn (may be
	 * NULL) per row, streaming. A UNIQUE or PRIMARY KEY violation is
	 * LSEC_E_EXISTS; a lock held past the busy timeout LSEC_E_STORE_BUSY;
	 * anything else LSEC_E_IO with the database's message.
	 */
	int (*query)(lsec_store *st, const char *sql, const store_val *params, size_t np,
		     store_row_fn fn, void *ctx, lsec_err *err);
	/* Rows changed by the last query. */
	int64_t (*changes)(lsec_store *st);
	/*
	 * After a commit: makes every commit this handle made durable (SQLite:
	 * the group commit of sqlite.c). NULL when a commit is durable when it
	 * returns (PostgreSQL, unless unsynced_sql turned that off).
	 */
	int (*sync)(lsec_store *st, lsec_err *err);
	/* Run after BEGIN of an unsynced transaction; NULL: its commit skips sync. */
	const char *unsynced_sql;
} store_ops;

struct lsec_store {
	const store_ops *ops;
	void *impl;
	bool in_tx;
	bool tx_unsynced; /* the open write transaction need not be durable at its commit */
	bool creating;     /* lsec_store_create: the database must be new */
	bool created_file; /* this handle made the SQLite file (removed if creation fails) */
	bool read_only;    /* lsec_store_open_read_only: never migrated, never written */
	bool conflict; /* the open transaction was undone by a deadlock or serialization failure */
	uint64_t retries; /* transactions lsec_store_tx_run re-ran after a conflict */
	char location[256]; /* for messages (PostgreSQL: without credentials) */
	unsigned long fail_after; /* fault injection: the nth query or commit from now fails */
	void *signer;                  /* the writer's leaf signer (lsec_store_set_signer) */
	void (*signer_release)(void *); /* frees it at close; NULL: not owned */
};

extern const store_ops lsec_store__sqlite_ops;
extern const store_ops lsec_store__postgres_ops;

/* Runs a query; see store_ops.query. */
int lsec_store__query(lsec_store *st, const char *sql, const store_val *p, size_t np,
		      store_row_fn fn, void *ctx, lsec_err *err);

/*
 * Runs an INSERT under a savepoint so that a uniqueness violation leaves
 * the transaction usable (PostgreSQL aborts it otherwise) and the caller can
 * look up who holds the value. Returns LSEC_E_EXISTS on a violation.
 */
int lsec_store__insert_guarded(lsec_store *st, const char *sql, const store_val *p, size_t np,
			       store_row_fn fn, void *ctx, lsec_err *err);

/* Copies a text column into a fixed field (truncating); NULL gives "". */
void lsec_store__copy(char *dst, size_t cap, const store_val *v);
/* Checks a required name-like argument: present, non-empty, at most max bytes. */
int lsec_store__check_name(const char *v, const char *what, size_t max, lsec_err *err);
/* Row callback storing column 0 as an int64 into *(int64_t *)ctx. */
int lsec_store__row_int(void *ctx, const store_val *cols, size_t ncols, lsec_err *err);
/* The unit id for serial; LSEC_E_NOTFOUND naming it. */
int lsec_store__unit_id(lsec_store *st, const char *serial, int64_t *out, lsec_err *err);
/*
 * After LSEC_E_EXISTS: finds the unit holding value by running lookup_sql
 * (one text parameter, one text column: the holder's serial) and sets err to
 * "cannot <action> '<subject>': <what> '<value>' is already held by unit 'X'".
 * Returns 1 when a holder was found, 0 when not, < 0 on failure.
 */
int lsec_store__name_holder(lsec_store *st, const char *lookup_sql, const char *value,
			    const char *action, const char *subject, const char *what,
			    lsec_err *err);

/* A growable array of fixed-size records for the list calls. */
typedef struct lsec_store__array {
	void *v;
	size_t n, cap, elem;
} lsec_store__array;
#define LSEC_STORE_ARRAY_INIT(size) {NULL, 0, 0, (size)}
/* Appends a zeroed record and points *slot at it; LSEC_E_NOMEM. */
int lsec_store__array_push(lsec_store__array *a, void **slot, lsec_err *err);

/* Fills one record of a list from a result row. */
typedef void (*store_fill_fn)(void *rec, const store_val *cols);
/*
 * Runs a query and collects one record of elem bytes per row (filled by
 * fill) into *out (lsec_free) and *n_out. Nothing is returned on failure.
 */
int lsec_store__list(lsec_store *st, const char *sql, const store_val *p, size_t np,
		     store_fill_fn fill, size_t elem, void **out, size_t *n_out, lsec_err *err);
/*
 * lsec_store__list for the rows of one unit: sql takes the unit id as its
 * one parameter. LSEC_E_NOTFOUND naming serial when there is no such unit.
 */
int lsec_store__list_for_unit(lsec_store *st, const char *sql, const char *serial,
			      store_fill_fn fill, size_t elem, void **out, size_t *n_out,
			      lsec_err *err);
/* Runs a COUNT query into *out. */
int lsec_store__count(lsec_store *st, const char *sql, uint64_t *out, lsec_err *err);

/*
 * Test hook (a failing backend): the nth query or commit from now (1-based)
 * fails with LSEC_E_IO, as a lost connection or a full disk would; 0 turns
 * it off. Used to show that a change and its audit leaf land together or
 * not at all.
 */
void lsec_store__fail_after(lsec_store *st, unsigned long n);

/*
 * Test hooks of the SQLite group commit (no-ops on PostgreSQL): the next
 * sync of st's registry in this process waits (up to 10 s) until n more
 * commits wait for it, so that they share it; and the number of syncs made
 * for st's registry in this process so far.
 */
void lsec_store__sqlite_gather(lsec_store *st, unsigned n);
uint64_t lsec_store__sqlite_syncs(lsec_store *st);
/* Test hook (no-op on PostgreSQL): the next sync of st's registry fails with errno e. */
void lsec_store__sqlite_fail_sync(lsec_store *st, int e);

/* Test hook: how many times lsec_store_tx_run re-ran a body on st after a conflict. */
uint64_t lsec_store__retries(const lsec_store *st);

/* Test hook: creates a new registry migrated only up to `version` (1..latest). */
int lsec_store__create_version(lsec_store **out, const char *location, int version,
			       lsec_err *err);

#endif
