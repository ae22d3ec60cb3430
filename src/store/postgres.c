/*
 * postgres.c - the PostgreSQL backend (libpq): many stations share one
 * database, which enforces uniqueness and the order of the audit log.
 *
 * Statements are prepared once per connection (PQprepare, parameter types
 * inferred by the server) and run with parameters in text format and
 * results in binary format; rows are read in single-row mode so a walk over
 * a million audit leaves never holds them all in memory.
 */
#include "store/store_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE 128
#define MAX_PARAMS 16
#define MAX_COLS 16

/* Type OIDs (pg_type.h) of the columns the schema uses. */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23 };

typedef struct pg_slot {
	const char *sql;
	char name[16];
} pg_slot;

typedef struct pg_impl {
	PGconn *conn;
	pg_slot cache[STMT_CACHE];
	size_t ncache;
	int64_t changes;
} pg_impl;

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Error for a failed result: uniqueness, lock trouble or the server's message. */
static int result_error(lsec_store *st, PGresult *res, const char *what, lsec_err *err)
{
	pg_impl *im = st->impl;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[200];
	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(im->conn));
	size_t l = strlen(msg);
	while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' ')) {
		msg[--l] = '\0';
	}
	if (state != NULL && strcmp(state, "23505") == 0) {
		return lsec_err_set(err, LSEC_E_EXISTS, __FILE__, __LINE__,
				    "cannot write registry '%s': %s", st->location, msg);
	}
	/*
	 * A deadlock or a serialization failure: the server rolled the
	 * transaction back because of another one; re-running it will do
	 * (lsec_store_tx_run does, after a short random wait).
	 */
	if (state != NULL && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0)) {
		st->conflict = true;
		return lsec_err_set(err, LSEC_E_STORE_BUSY, __FILE__, __LINE__,
				    "cannot %s registry '%s': another station's transaction conflicted"
				    " with this one, which was undone (%s)",
				    what, st->location, strcmp(state, "40P01") == 0
							    ? "deadlock detected"
							    : "serialization failure");
	}
	if (state != NULL && strcmp(state, "55P03") == 0) {
		return lsec_err_set(err, LSEC_E_STORE_BUSY, __FILE__, __LINE__,
				    "cannot %s registry '%s': %s", what, st->location, msg);
	}
	return lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__, "cannot %s registry '%s': %s",
			    what, st->location, msg);
}

static int row_seen(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)cols;
	(void)ncols;
	(void)err;
	*(bool *)ctx = true;
	return 0;
}

static int pg_open(lsec_store *st, const char *location, lsec_err *err)
{
	int rc = 0;
	bool has_schema = false;
	pg_impl *im = lsec_calloc(1, sizeof(*im));
	LSEC_ENSURE(im != NULL, LSEC_E_NOMEM, "cannot open registry '%s': out of memory",
		    st->location);
	st->impl = im;
	im->conn = PQconnectdb(location);
	LSEC_ENSURE(im->conn != NULL, LSEC_E_NOMEM, "cannot connect to registry '%s': out of memory",
		    st->location);
	if (PQstatus(im->conn) != CONNECTION_OK) {
		char msg[200];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(im->conn));
		msg[strcspn(msg, "\n")] = '\0';
		LSEC_BAIL(LSEC_E_IO, "cannot connect to registry '%s': %s", st->location, msg);
	}
	PQsetNoticeProcessor(im->conn, quiet_notices, NULL);
	LSEC_TRY(st->ops->exec(st, "SET client_min_messages = warning", err));
	/*
	 * The registry's schema is fixed for the connection's life: where its
	 * tables are found and what its locks are keyed by. A schema created
	 * later earlier in the search path moves neither.
	 */
	LSEC_TRY(lsec_store__query(st,
				   "SELECT set_config('search_path', quote_ident(s), false)"
				   " FROM (SELECT current_schema() AS s) q WHERE s IS NOT NULL",
				   NULL, 0, row_seen, &has_schema, err));
	LSEC_ENSURE(has_schema, LSEC_E_STORE_MISSING,
		    "cannot open registry '%s': its search path names no schema that exists (name "
		    "the registry's schema with options=-csearch_path=SCHEMA)",
		    st->location);
out:
	return rc;
}

static void pg_close(lsec_store *st)
{
	pg_impl *im = st->impl;
	if (im == NULL) {
		return;
	}
	PQfinish(im->conn);
	lsec_free(im);
	st->impl = NULL;
}

static int pg_exec(lsec_store *st, const char *sql, lsec_err *err)
{
	pg_impl *im = st->impl;
	PGresult *res = PQexec(im->conn, sql);
	ExecStatusType s = PQresultStatus(res);
	int rc = 0;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		rc = result_error(st, res, "update", err);
	}
	PQclear(res);
	return rc;
}

/* The statement's name on this connection, preparing it on first use. */
static int prepare(lsec_store *st, const char *sql, const char **name_out, lsec_err *err)
{
	int rc = 0;
	pg_impl *im = st->impl;
	lsec_buf text = LSEC_BUF_INIT(1 << 16);
	PGresult *res = NULL;
	for (size_t i = 0; i < im->ncache; i++) {
		if (im->cache[i].sql == sql) {
			*name_out = im->cache[i].name;
			return 0;
		}
	}
	LSEC_ENSURE(im->ncache < STMT_CACHE, LSEC_E_INTERNAL,
		    "internal error: statement cache full");
	/* '?' -> $1, $2, ... (the SQL literals here never hold a '?' in a string). */
	unsigned n = 0;
	for (const char *c = sql; *c; c++) {
		if (*c == '?') {
			LSEC_TRY(lsec_buf_printf(&text, err, "$%u", ++n));
		} else {
			LSEC_TRY(lsec_buf_append_u8(&text, (uint8_t)*c, err));
		}
	}
	const char *q = lsec_buf_cstr(&text, err);
	LSEC_ENSURE(q != NULL, LSEC_E_NOMEM, "cannot prepare a statement: out of memory");
	pg_slot *slot = &im->cache[im->ncache];
	snprintf(slot->name, sizeof(slot->name), "lsec%zu", im->ncache);
	res = PQprepare(im->conn, slot->name, q, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = result_error(st, res, "prepare a statement for", err);
		goto out;
	}
	slot->sql = sql;
	im->ncache++;
	*name_out = slot->name;
out:
	PQclear(res);
	lsec_buf_release(&text);
	return rc;
}

static int64_t be_int(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v = (v << 8) | p[i];
	}
	if (n < 8 && n > 0 && (p[0] & 0x80)) {
		v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
	}
	return (int64_t)v;
}

static int decode_row(PGresult *res, store_val *cols, int nc, lsec_err *err)
{
	int rc = 0;
	for (int c = 0; c < nc; c++) {
		store_val *v = &cols[c];
		memset(v, 0, sizeof(*v));
		if (PQgetisnull(res, 0, c)) {
			v->t = SV_NULL;
			continue;
		}
		const uint8_t *p = (const uint8_t *)PQgetvalue(res, 0, c);
		size_t len = (size_t)PQgetlength(res, 0, c);
		switch (PQftype(res, c)) {
		case OID_INT8:
		case OID_INT4:
		case OID_INT2:
		case OID_BOOL:
			LSEC_ENSURE(len >= 1 && len <= 8, LSEC_E_INTERNAL,
				    "internal error: integer column of %zu bytes", len);
			v->t = SV_INT;
			v->i = be_int(p, len);
			break;
		case OID_BYTEA:
			v->t = SV_BLOB;
			v->b = p;
			v->n = len;
			break;
		default:
			/* text, varchar and the like: raw bytes, NUL-terminated by libpq */
			v->t = SV_TEXT;
			v->s = (const char *)p;
			v->n = len;
			break;
		}
	}
out:
	return rc;
}

static int pg_query(lsec_store *st, const char *sql, const store_val *p, size_t np,
		    store_row_fn fn, void *ctx, lsec_err *err)
{
	int rc = 0;
	pg_impl *im = st->impl;
	const char *name = NULL;
	const char *values[MAX_PARAMS] = {0};
	char *owned[MAX_PARAMS] = {0};
	char ints[MAX_PARAMS][24];
	LSEC_ENSURE(np <= MAX_PARAMS, LSEC_E_INTERNAL, "internal error: too many parameters");
	LSEC_TRY(prepare(st, sql, &name, err));
	for (size_t i = 0; i < np; i++) {
		switch (p[i].t) {
		case SV_INT:
			snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)p[i].i);
			values[i] = ints[i];
			break;
		case SV_TEXT:
			values[i] = p[i].s;
			break;
		case SV_BLOB:
			/* bytea's text input form: \x followed by hex digits */
			owned[i] = lsec_malloc(2 * p[i].n + 3);
			LSEC_ENSURE(owned[i] != NULL, LSEC_E_NOMEM,
				    "cannot query registry: out of memory");
			owned[i][0] = '\\';
			owned[i][1] = 'x';
			lsec_hex_encode(owned[i] + 2, p[i].b, p[i].n);
			values[i] = owned[i];
			break;
		case SV_NULL:
		default:
			values[i] = NULL;
			break;
		}
	}
	if (!PQsendQueryPrepared(im->conn, name, (int)np, values, NULL, NULL, 1)) {
		LSEC_TRY(result_error(st, NULL, "query", err));
	}
	PQsetSingleRowMode(im->conn);
	im->changes = 0;
	/* Read every result, even after a failure, so the connection stays usable. */
	PGresult *res;
	while ((res = PQgetResult(im->conn)) != NULL) {
		ExecStatusType s = PQresultStatus(res);
		if (rc == 0 && s == PGRES_SINGLE_TUPLE && fn != NULL) {
			store_val cols[MAX_COLS];
			int nc = PQnfields(res);
			if (nc > MAX_COLS) {
				rc = lsec_err_set(err, LSEC_E_INTERNAL, __FILE__, __LINE__,
						  "internal error: too many columns");
			} else {
				rc = decode_row(res, cols, nc, err);
				if (rc == 0) {
					rc = fn(ctx, cols, (size_t)nc, err);
				}
			}
		} else if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			const char *t = PQcmdTuples(res);
			im->changes = (t && *t) ? (int64_t)strtoll(t, NULL, 10) : 0;
		} else if (s != PGRES_SINGLE_TUPLE && rc == 0) {
			rc = result_error(st, res, "query", err);
		}
		PQclear(res);
	}
out:
	for (size_t i = 0; i < MAX_PARAMS; i++) {
		lsec_free(owned[i]);
	}
	return rc;
}

static int64_t pg_changes(lsec_store *st)
{
	pg_impl *im = st->impl;
	return im->changes;
}

const store_ops lsec_store__postgres_ops = {
	.name = "postgres",
	.ddl_id = "BIGSERIAL PRIMARY KEY",
	.ddl_blob = "BYTEA",
	/* Each statement sees what committed before it: MAX(seq) read under the log lock is current. */
	.begin_sql = "BEGIN ISOLATION LEVEL READ COMMITTED",
	/*
	 * Transaction-scoped: released by COMMIT or ROLLBACK, never leaked.
	 * Advisory locks belong to the database, not the schema: keyed by the
	 * registry's schema, two registries in one database (two lines, or
	 * tests in parallel) neither queue behind each other nor join each
	 * other's deadlocks.
	 */
	.log_lock_sql = "SELECT pg_advisory_xact_lock(7003380, hashtext(current_schema()))",
	.migrate_lock_sql = "SELECT pg_advisory_xact_lock(7003381, hashtext(current_schema()))",
	.has_schema_sql = "SELECT COUNT(*) FROM information_schema.tables"
			  " WHERE table_name = 'schema_version' AND table_schema = current_schema()",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.query = pg_query,
	.changes = pg_changes,
	.sync = NULL,
	/* Asynchronous commit: made durable by the server's next synchronous one. */
	.unsynced_sql = "SET LOCAL synchronous_commit TO off",
};
