/*
 * sqlite.c - the SQLite backend: one file beside line.yaml, WAL mode (readers
 * never block the writer), a busy timeout so stations on one file queue up
 * instead of failing, and foreign keys on.
 *
 * Durability with group commit: SQLite commits with synchronous=NORMAL (the
 * commit is written to the write-ahead log, atomic and in order, but not
 * synced), and a durable commit then waits for a sync of the log (sq_sync),
 * outside the write lock. One sync covers every commit already written, so
 * the handles of one process on one registry (the sockets of a gang) share
 * them: the first waiter syncs for all commits waiting at that moment, the
 * others wait for it (docs/station.md, "Durability").
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <string.h>
#include <time.h>

#define SQLITE_BUSY_MS 15000
#define STMT_CACHE 128

typedef struct stmt_slot {
	const char *sql; /* the literal's address: the cache key */
	sqlite3_stmt *stmt;
} stmt_slot;

/*
 * The group commit of one write-ahead log in this process. A ticket is
 * taken after a commit was written; a sync started after the ticket covers
 * it. Shared by every handle of the process on the same registry file.
 */
typedef struct wal_syncer {
	struct wal_syncer *next;
	unsigned refs;
	char *path; /* the write-ahead log */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t requested; /* tickets handed out */
	uint64_t synced;    /* every ticket up to this one is durable */
	/*
	 * The errno of the first failed sync, 0 if none: sticky until the
	 * registry is reopened (the last handle of the process closed). After a
	 * failed fdatasync, Linux marks the pages clean and reports the error
	 * once; the next sync succeeds while frames written before it may be
	 * lost at power loss, and WAL recovery stops at the first lost frame,
	 * losing every later commit too. So no commit is durable after one.
	 */
	int fail_errno;
	int fail_next; /* test hook: the next sync fails with this errno */
	bool running; /* a sync is under way (outside mu) */
	uint64_t rounds; /* syncs done */
	unsigned gather; /* test hook: the next sync waits until this ticket is taken */
} wal_syncer;

static pthread_mutex_t syncers_mu = PTHREAD_MUTEX_INITIALIZER;
static wal_syncer *syncers;

typedef struct sqlite_impl {
	sqlite3 *db;
	stmt_slot cache[STMT_CACHE];
	size_t ncache;
	wal_syncer *syncer; /* NULL: not in WAL mode, every commit is synced by SQLite */
} sqlite_impl;

static int map_error(lsec_store *st, int src, const char *what, lsec_err *err)
{
	sqlite_impl *im = st->impl;
	int ext = sqlite3_extended_errcode(im->db);
	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
		return lsec_err_set(err, LSEC_E_EXISTS, __FILE__, __LINE__,
				    "cannot write registry '%s': %s", st->location,
				    sqlite3_errmsg(im->db));
	}
	if ((src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED) {
		return lsec_err_set(err, LSEC_E_STORE_BUSY, __FILE__, __LINE__,
				    "cannot %s registry '%s': database still locked after %d ms",
				    what, st->location, SQLITE_BUSY_MS);
	}
	return lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__, "cannot %s registry '%s': %s",
			    what, st->location, sqlite3_errmsg(im->db));
}

/*
 * An immutable copy is read without its write-ahead log, so a copy taken
 * while a write was pending would silently lack it: refused instead.
 */
static int check_no_wal(const char *location, lsec_err *err)
{
	int rc = 0;
	struct stat sb;
	char *wal = lsec_asprintf("%s-wal", location);
	LSEC_ENSURE(wal != NULL, LSEC_E_NOMEM, "cannot open registry '%s': out of memory",
		    location);
	LSEC_ENSURE(stat(wal, &sb) != 0 || sb.st_size == 0, LSEC_E_STATE,
		    "cannot read registry '%s' read-only: '%s' holds %lld bytes not yet written "
		    "into it (copy the line folder again while no command runs on it)",
		    location, wal, (long long)sb.st_size);
out:
	lsec_free(wal);
	return rc;
}

/* "file:<path, percent-encoded>?immutable=1" (RFC 3986 URI; sqlite.org/uri.html). */
static int immutable_uri(lsec_buf *out, const char *location, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_buf_append_str(out, "file:", err));
	for (const char *c = location; *c; c++) {
		bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || strchr("/._-~", *c) != NULL;
		if (plain) {
			LSEC_TRY(lsec_buf_append_u8(out, (uint8_t)*c, err));
		} else {
			LSEC_TRY(lsec_buf_printf(out, err, "%%%02X", (unsigned)(uint8_t)*c));
		}
	}
	LSEC_TRY(lsec_buf_append_str(out, "?immutable=1", err));
	LSEC_ENSURE(lsec_buf_cstr(out, err) != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

static int sq_query(lsec_store *st, const char *sql, const store_val *p, size_t np,
		    store_row_fn fn, void *ctx, lsec_err *err);

/* ---- group commit --------------------------------------------------------------------- */

static int row_text_copy(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	if (ncols > 0) {
		lsec_store__copy(ctx, 16, &cols[0]); /* a journal mode name: char[16] */
	}
	return 0;
}

/*
 * In WAL mode the handle commits with synchronous=NORMAL and joins the
 * process's syncer of its write-ahead log; in any other journal mode (a file
 * system without shared memory) SQLite syncs every commit itself (FULL).
 */
static int syncer_attach(lsec_store *st, lsec_err *err)
{
	int rc = 0;
	sqlite_impl *im = st->impl;
	char mode[16] = "";
	wal_syncer *s = NULL;
	LSEC_TRY(sq_query(st, "PRAGMA journal_mode", NULL, 0, row_text_copy, mode, err));
	if (strcmp(mode, "wal") != 0) {
		LSEC_TRY(st->ops->exec(st, "PRAGMA synchronous=FULL", err));
		goto out;
	}
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(im->db, "main"));
	LSEC_ENSURE(wal != NULL && wal[0] != '\0', LSEC_E_IO,
		    "cannot open registry '%s': its write-ahead log has no name", st->location);
	pthread_mutex_lock(&syncers_mu);
	for (s = syncers; s != NULL && strcmp(s->path, wal) != 0; s = s->next) {
	}
	if (s == NULL && (s = lsec_calloc(1, sizeof(*s))) != NULL) {
		s->path = lsec_strdup(wal);
		if (s->path == NULL) {
			lsec_free(s);
			s = NULL;
		} else {
			pthread_mutex_init(&s->mu, NULL);
			pthread_cond_init(&s->cv, NULL);
			s->next = syncers;
			syncers = s;
		}
	}
	if (s != NULL) {
		s->refs++;
	}
	pthread_mutex_unlock(&syncers_mu);
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "cannot open registry '%s': out of memory",
		    st->location);
	im->syncer = s;
	LSEC_TRY(st->ops->exec(st, "PRAGMA synchronous=NORMAL", err));
out:
	return rc;
}

static void syncer_detach(wal_syncer *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&syncers_mu);
	if (--s->refs == 0) {
		wal_syncer **p = &syncers;
		while (*p != s) {
			p = &(*p)->next;
		}
		*p = s->next;
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		lsec_free(s->path);
		lsec_free(s);
	}
	pthread_mutex_unlock(&syncers_mu);
}

/* Syncs the write-ahead log file: 0 or an errno. */
static int wal_fdatasync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno;
	}
	int e = fdatasync(fd) == 0 ? 0 : errno;
	close(fd);
	return e;
}

/* The test hook's wait (under s->mu): up to 10 s for ticket s->gather. */
static void gather_wait(wal_syncer *s)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (s->gather > 0 && s->requested < s->gather) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0) {
			break;
		}
	}
	s->gather = 0;
}

/* st's syncer, or NULL (PostgreSQL, or SQLite not in WAL mode). */
static wal_syncer *syncer_of(lsec_store *st)
{
	return st->ops == &lsec_store__sqlite_ops && st->impl != NULL
		       ? ((sqlite_impl *)st->impl)->syncer
		       : NULL;
}

void lsec_store__sqlite_gather(lsec_store *st, unsigned n)
{
	wal_syncer *s = syncer_of(st);
	if (s != NULL) {
		pthread_mutex_lock(&s->mu);
		s->gather = n == 0 ? 0 : (unsigned)s->requested + n;
		pthread_mutex_unlock(&s->mu);
	}
}

void lsec_store__sqlite_fail_sync(lsec_store *st, int e)
{
	wal_syncer *s = syncer_of(st);
	if (s != NULL) {
		pthread_mutex_lock(&s->mu);
		s->fail_next = e;
		pthread_mutex_unlock(&s->mu);
	}
}

uint64_t lsec_store__sqlite_syncs(lsec_store *st)
{
	uint64_t n = 0;
	wal_syncer *s = syncer_of(st);
	if (s != NULL) {
		pthread_mutex_lock(&s->mu);
		n = s->rounds;
		pthread_mutex_unlock(&s->mu);
	}
	return n;
}

/*
 * Makes every commit this handle wrote durable: one fdatasync of the log,
 * by whichever waiter finds no sync under way, for all tickets taken by
 * then. A commit's frames are in the file (the page cache) before its
 * ticket is taken, and fsync acts on the file, not on a descriptor.
 */
static int sq_sync(lsec_store *st, lsec_err *err)
{
	sqlite_impl *im = st->impl;
	wal_syncer *s = im->syncer;
	int e = 0;
	if (s == NULL) {
		return 0; /* synchronous=FULL: synced by the commit */
	}
	pthread_mutex_lock(&s->mu);
	uint64_t mine = ++s->requested;
	if (s->gather > 0) {
		pthread_cond_broadcast(&s->cv); /* a gathering leader counts the tickets */
	}
	for (;;) {
		if (s->fail_errno != 0) {
			e = s->fail_errno;
			break;
		}
		if (s->synced >= mine) {
			break;
		}
		if (s->running) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		s->running = true;
		gather_wait(s);
		uint64_t upto = s->requested;
		int r = s->fail_next;
		s->fail_next = 0;
		pthread_mutex_unlock(&s->mu);
		if (r == 0) {
			r = wal_fdatasync(s->path);
		}
		pthread_mutex_lock(&s->mu);
		s->running = false;
		s->rounds++;
		if (r == 0) {
			s->synced = upto;
		} else {
			s->fail_errno = r;
		}
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	if (e == 0) {
		return 0;
	}
	return lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__,
			    "cannot make a commit to registry '%s' durable: the disk failed to sync "
			    "its write-ahead log '%s' (%s), so commits written since its last good "
			    "sync may be lost at power loss; no commit is made durable any more "
			    "until the registry is reopened: stop the station, check the disk "
			    "(and its free space), then restart the station",
			    st->location, s->path, strerror(e));
}

static int sq_open(lsec_store *st, const char *location, lsec_err *err)
{
	int rc = 0;
	lsec_buf uri = LSEC_BUF_INIT(16384);
	sqlite_impl *im = lsec_calloc(1, sizeof(*im));
	LSEC_ENSURE(im != NULL, LSEC_E_NOMEM, "cannot open registry '%s': out of memory", location);
	st->impl = im;
	if (st->creating) {
		/* A new registry is the owner's alone from its first byte. */
		int fd = open(location, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		LSEC_ENSURE(fd >= 0, errno == EEXIST ? LSEC_E_EXISTS : LSEC_E_IO,
			    "cannot create registry '%s': %s", location, strerror(errno));
		close(fd);
		st->created_file = true;
	} else {
		struct stat sb;
		LSEC_ENSURE(stat(location, &sb) == 0, LSEC_E_STORE_MISSING,
			    "registry '%s' does not exist (%s): only 'linesec init' creates a "
			    "registry; restore this line's registry from its backup, or point "
			    "line.yaml at it",
			    location, strerror(errno));
	}
	if (st->read_only) {
		LSEC_TRY(check_no_wal(location, err));
		LSEC_TRY(immutable_uri(&uri, location, err));
	}
	int src = sqlite3_open_v2(
		uri.data != NULL ? (const char *)uri.data : location, &im->db,
		(st->read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI : SQLITE_OPEN_READWRITE) |
			SQLITE_OPEN_NOMUTEX,
		NULL);
	if (src != SQLITE_OK) {
		LSEC_BAIL(LSEC_E_IO, "cannot open registry '%s': %s", location,
			  im->db ? sqlite3_errmsg(im->db) : sqlite3_errstr(src));
	}
	sqlite3_extended_result_codes(im->db, 1);
	sqlite3_busy_timeout(im->db, SQLITE_BUSY_MS);
	if (st->read_only) {
		goto out; /* nothing is set that would write */
	}
	LSEC_TRY(st->ops->exec(st, "PRAGMA journal_mode=WAL", err));
	LSEC_TRY(st->ops->exec(st, "PRAGMA foreign_keys=ON", err));
	LSEC_TRY(syncer_attach(st, err));
out:
	lsec_buf_release(&uri);
	return rc;
}

static void sq_close(lsec_store *st)
{
	sqlite_impl *im = st->impl;
	if (im == NULL) {
		return;
	}
	for (size_t i = 0; i < im->ncache; i++) {
		sqlite3_finalize(im->cache[i].stmt);
	}
	sqlite3_close(im->db);
	syncer_detach(im->syncer);
	lsec_free(im);
	st->impl = NULL;
}

static int sq_exec(lsec_store *st, const char *sql, lsec_err *err)
{
	sqlite_impl *im = st->impl;
	int src = sqlite3_exec(im->db, sql, NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		return map_error(st, src, "update", err);
	}
	return 0;
}

static int prepare(lsec_store *st, const char *sql, sqlite3_stmt **out, lsec_err *err)
{
	sqlite_impl *im = st->impl;
	for (size_t i = 0; i < im->ncache; i++) {
		if (im->cache[i].sql == sql) {
			*out = im->cache[i].stmt;
			return 0;
		}
	}
	sqlite3_stmt *stmt = NULL;
	int src = sqlite3_prepare_v3(im->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (src != SQLITE_OK) {
		return map_error(st, src, "prepare a statement for", err);
	}
	if (im->ncache < STMT_CACHE) {
		im->cache[im->ncache].sql = sql;
		im->cache[im->ncache].stmt = stmt;
		im->ncache++;
	} else {
		/* A full cache is a bug: there are fewer statements than slots. */
		sqlite3_finalize(stmt);
		return lsec_err_set(err, LSEC_E_INTERNAL, __FILE__, __LINE__,
				    "internal error: statement cache full");
	}
	*out = stmt;
	return 0;
}

static int bind_all(lsec_store *st, sqlite3_stmt *stmt, const store_val *p, size_t np,
		    lsec_err *err)
{
	for (size_t i = 0; i < np; i++) {
		int idx = (int)i + 1;
		int src;
		switch (p[i].t) {
		case SV_INT:
			src = sqlite3_bind_int64(stmt, idx, p[i].i);
			break;
		case SV_TEXT:
			src = sqlite3_bind_text(stmt, idx, p[i].s, -1, SQLITE_STATIC);
			break;
		case SV_BLOB:
			src = sqlite3_bind_blob64(stmt, idx, p[i].b ? (const void *)p[i].b : "",
						  p[i].n, SQLITE_STATIC);
			break;
		case SV_NULL:
		default:
			src = sqlite3_bind_null(stmt, idx);
			break;
		}
		if (src != SQLITE_OK) {
			return map_error(st, src, "bind a value for", err);
		}
	}
	return 0;
}

#define MAX_COLS 16

static int sq_query(lsec_store *st, const char *sql, const store_val *p, size_t np,
		    store_row_fn fn, void *ctx, lsec_err *err)
{
	int rc = 0;
	sqlite3_stmt *stmt = NULL;
	LSEC_TRY(prepare(st, sql, &stmt, err));
	LSEC_TRY(bind_all(st, stmt, p, np, err));
	for (;;) {
		int src = sqlite3_step(stmt);
		if (src == SQLITE_DONE) {
			break;
		}
		if (src != SQLITE_ROW) {
			rc = map_error(st, src, "query", err);
			goto out;
		}
		if (fn == NULL) {
			continue;
		}
		store_val cols[MAX_COLS];
		int nc = sqlite3_column_count(stmt);
		LSEC_ENSURE(nc <= MAX_COLS, LSEC_E_INTERNAL, "internal error: too many columns");
		for (int c = 0; c < nc; c++) {
			store_val *v = &cols[c];
			memset(v, 0, sizeof(*v));
			switch (sqlite3_column_type(stmt, c)) {
			case SQLITE_INTEGER:
				v->t = SV_INT;
				v->i = sqlite3_column_int64(stmt, c);
				break;
			case SQLITE_TEXT:
				v->t = SV_TEXT;
				v->s = (const char *)sqlite3_column_text(stmt, c);
				v->n = (size_t)sqlite3_column_bytes(stmt, c);
				/*
				 * linesec binds text without NUL bytes; SQL compares the
				 * whole value while C stops at the NUL ("alice\0x" read
				 * as a second "alice"), so such a value is refused.
				 */
				LSEC_ENSURE(v->s == NULL || memchr(v->s, '\0', v->n) == NULL,
					    LSEC_E_STORE_TAMPERED,
					    "registry column '%s' holds text with a NUL byte: the "
					    "registry was changed outside linesec",
					    sqlite3_column_name(stmt, c));
				break;
			case SQLITE_BLOB:
				v->t = SV_BLOB;
				v->b = sqlite3_column_blob(stmt, c);
				v->n = (size_t)sqlite3_column_bytes(stmt, c);
				break;
			case SQLITE_NULL:
			default:
				v->t = SV_NULL;
				break;
			}
		}
		LSEC_TRY(fn(ctx, cols, (size_t)nc, err));
	}
out:
	if (stmt != NULL) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
	return rc;
}

static int64_t sq_changes(lsec_store *st)
{
	sqlite_impl *im = st->impl;
	return sqlite3_changes64(im->db);
}

const store_ops lsec_store__sqlite_ops = {
	.name = "sqlite",
	.ddl_id = "INTEGER PRIMARY KEY AUTOINCREMENT",
	.ddl_blob = "BLOB",
	.begin_sql = "BEGIN IMMEDIATE",
	.log_lock_sql = NULL,
	.migrate_lock_sql = NULL,
	.has_schema_sql = "SELECT COUNT(*) FROM sqlite_master"
			  " WHERE type = 'table' AND name = 'schema_version'",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.query = sq_query,
	.changes = sq_changes,
	.sync = sq_sync,
	.unsynced_sql = NULL,
};
