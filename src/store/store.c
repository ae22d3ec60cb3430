/*
 * store.c - opening a registry, versioned migrations, transactions, and the
 * raw audit log storage (leaves and checkpoints).
 */
#include "store/store_int.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Migrations: migrations[v - 1] brings a database from version v - 1 to v.
 * "@ID" and "@BLOB" stand for the backend's auto-numbered key and byte
 * string types. Never edit a released step; append a new one.
 */
static const char *const migrations[] = {
	/* 1: the registry and the audit log */
	"CREATE TABLE units ("
	" id @ID, serial TEXT NOT NULL UNIQUE, uid TEXT NOT NULL UNIQUE,"
	" product TEXT NOT NULL, station TEXT NOT NULL, state TEXT NOT NULL,"
	" prev_state TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE identities ("
	" id @ID, unit_id BIGINT NOT NULL REFERENCES units(id),"
	" key_fp TEXT NOT NULL UNIQUE, cert_serial TEXT UNIQUE, cert_der @BLOB,"
	" key_state TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE credentials ("
	" id @ID, unit_id BIGINT NOT NULL REFERENCES units(id),"
	" keyed_fp TEXT NOT NULL UNIQUE, created TEXT NOT NULL);"
	"CREATE TABLE releases ("
	" id @ID, product TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,"
	" manifest TEXT, created_by TEXT NOT NULL, created TEXT NOT NULL,"
	" UNIQUE (product, version));"
	"CREATE TABLE release_approvals ("
	" release_id BIGINT NOT NULL REFERENCES releases(id), person TEXT NOT NULL,"
	" created TEXT NOT NULL, PRIMARY KEY (release_id, person));"
	"CREATE TABLE sop_versions ("
	" id @ID, sop TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,"
	" body TEXT, created_by TEXT NOT NULL, created TEXT NOT NULL,"
	" UNIQUE (sop, version));"
	"CREATE TABLE sop_approvals ("
	" sop_version_id BIGINT NOT NULL REFERENCES sop_versions(id),"
	" person TEXT NOT NULL, created TEXT NOT NULL,"
	" PRIMARY KEY (sop_version_id, person));"
	"CREATE TABLE people ("
	" id @ID, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, pw_hash TEXT NOT NULL,"
	" disabled BIGINT NOT NULL DEFAULT 0, created TEXT NOT NULL);"
	"CREATE TABLE sessions ("
	" id @ID, person_id BIGINT NOT NULL REFERENCES people(id),"
	" token_hash @BLOB NOT NULL UNIQUE, station TEXT NOT NULL,"
	" created BIGINT NOT NULL, expires BIGINT NOT NULL,"
	" revoked BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE runs ("
	" id @ID, unit_id BIGINT NOT NULL REFERENCES units(id), sop TEXT NOT NULL,"
	" sop_version TEXT NOT NULL, person TEXT NOT NULL, station TEXT NOT NULL,"
	" outcome TEXT, started TEXT NOT NULL, finished TEXT);"
	"CREATE TABLE steps ("
	" id @ID, run_id BIGINT NOT NULL REFERENCES runs(id), step TEXT NOT NULL,"
	" person TEXT NOT NULL, witness TEXT, outcome TEXT, evidence TEXT,"
	" started TEXT NOT NULL, finished TEXT);"
	"CREATE TABLE revocations ("
	" id @ID, unit_id BIGINT NOT NULL REFERENCES units(id),"
	" cert_serial TEXT NOT NULL UNIQUE, reason TEXT NOT NULL, person TEXT NOT NULL,"
	" created TEXT NOT NULL);"
	"CREATE TABLE scrap_records ("
	" id @ID, unit_id BIGINT NOT NULL UNIQUE REFERENCES units(id),"
	" method TEXT NOT NULL, person TEXT NOT NULL, witness TEXT NOT NULL, note TEXT,"
	" created TEXT NOT NULL);"
	"CREATE TABLE audit_leaves ("
	" seq BIGINT PRIMARY KEY, unit TEXT, leaf @BLOB NOT NULL,"
	" leaf_hash @BLOB NOT NULL, created TEXT NOT NULL);"
	"CREATE TABLE checkpoints ("
	" id @ID, tree_size BIGINT NOT NULL, root_hash @BLOB NOT NULL,"
	" note TEXT NOT NULL, created TEXT NOT NULL);",
	/* 2: indexes for per-unit lookups (audit proofs by unit, device history) */
	("CREATE INDEX audit_leaves_unit ON audit_leaves (unit);"
	 "CREATE INDEX identities_unit ON identities (unit_id);"
	 "CREATE INDEX runs_unit ON runs (unit_id);"
	 "CREATE INDEX steps_run ON steps (run_id);"),
	/* 3: credentials revoked at decommissioning keep their row (never reissued) */
	("ALTER TABLE credentials ADD COLUMN revoked TEXT;"
	 "CREATE INDEX credentials_unit ON credentials (unit_id);"),
	/* 4: the release a run used (production quotas count per release) */
	("ALTER TABLE runs ADD COLUMN release TEXT;"
	 "CREATE INDEX runs_release ON runs (release, sop);"),
	/*
	 * 5: release revocation is a column (when, by whom); the rows that
	 * marked it before ("<version>~revoked", digest "revoked") become the
	 * columns of the release they revoked and are dropped
	 */
	("ALTER TABLE releases ADD COLUMN revoked TEXT;"
	 "ALTER TABLE releases ADD COLUMN revoked_by TEXT;"
	 "UPDATE releases SET"
	 " revoked = (SELECT m.created FROM releases m WHERE m.product = releases.product"
	 "  AND m.version = releases.version || '~revoked'),"
	 " revoked_by = (SELECT m.created_by FROM releases m WHERE m.product = releases.product"
	 "  AND m.version = releases.version || '~revoked')"
	 " WHERE EXISTS (SELECT 1 FROM releases m WHERE m.product = releases.product"
	 "  AND m.version = releases.version || '~revoked');"
	 "DELETE FROM release_approvals WHERE release_id IN"
	 " (SELECT id FROM releases WHERE version LIKE '%~revoked');"
	 "DELETE FROM releases WHERE version LIKE '%~revoked';"),
	/*
	 * 6: the action of each leaf, a lookup hint outside the leaf hash (the
	 * approvals and submissions a decision reads, found without a scan of
	 * the log); filled for the leaves already stored by fill_leaf_actions
	 */
	("ALTER TABLE audit_leaves ADD COLUMN action TEXT;"
	 "CREATE INDEX audit_leaves_action ON audit_leaves (action);"),
	/*
	 * 7: every leaf carries the signature of the station that wrote it
	 * (signed-note key id || Ed25519 signature; docs/audit-log.md)
	 */
	("ALTER TABLE audit_leaves ADD COLUMN leaf_sig @BLOB;"),
	/*
	 * 8: the registry's identity (one row, a random id given when the
	 * schema reaches this version; the line folder's anchor names it) and
	 * checkpoints found by size (the anchor check on every open)
	 */
	("CREATE TABLE registry_identity (id TEXT NOT NULL UNIQUE, created TEXT NOT NULL);"
	 "CREATE INDEX checkpoints_size ON checkpoints (tree_size);"),
	/*
	 * 9: incremental verification (docs/audit-log.md): each checkpoint
	 * keeps the compact range of the tree it signs, and the hashes of
	 * complete subtrees are kept so an inclusion path takes O(log n)
	 * lookups; neither is trusted before it is checked against a signed
	 * checkpoint
	 */
	("ALTER TABLE checkpoints ADD COLUMN tree_range @BLOB;"
	 "CREATE TABLE audit_nodes (level BIGINT NOT NULL, idx BIGINT NOT NULL,"
	 " hash @BLOB NOT NULL, PRIMARY KEY (level, idx));"),
	/*
	 * 10: the signed index (docs/audit-log.md, "The signed index"): per
	 * key ("unit:<unit>", "action:<action>") the count and chain head of
	 * the leaves naming it, in 65536 buckets under a Merkle tree whose root
	 * each checkpoint signs; neither table is trusted before the bucket
	 * read is checked against a signed root
	 */
	("CREATE TABLE audit_index (ikey TEXT PRIMARY KEY, bucket BIGINT NOT NULL,"
	 " leaves BIGINT NOT NULL, head @BLOB NOT NULL);"
	 "CREATE INDEX audit_index_bucket ON audit_index (bucket);"
	 "CREATE TABLE audit_index_nodes (level BIGINT NOT NULL, idx BIGINT NOT NULL,"
	 " hash @BLOB NOT NULL, PRIMARY KEY (level, idx));"),
	/*
	 * 11: changes of trust that take two security officers (docs/line.md,
	 * "Two-officer changes"): one requests, another approves or rejects;
	 * enrol_hash keeps the Argon2id hash of the requester's half of an
	 * enrolment code, never the code
	 */
	("CREATE TABLE change_requests ("
	 " id @ID, kind TEXT NOT NULL, subject TEXT NOT NULL, payload TEXT NOT NULL,"
	 " enrol_hash TEXT, requested_by TEXT NOT NULL, created TEXT NOT NULL,"
	 " state TEXT NOT NULL, decided_by TEXT, decided TEXT);"),
	/*
	 * 12: a product's firmware verification key is a registry record (its
	 * SHA-256 and its SubjectPublicKeyInfo in base64), one row per key the product has had (version 1, 2,
	 * ...), approved like a release by two security officers
	 */
	("CREATE TABLE product_keys ("
	 " id @ID, product TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,"
	 " spki TEXT NOT NULL, created_by TEXT NOT NULL, created TEXT NOT NULL,"
	 " UNIQUE (product, version));"
	 "CREATE TABLE product_key_approvals ("
	 " product_key_id BIGINT NOT NULL REFERENCES product_keys(id), person TEXT NOT NULL,"
	 " created TEXT NOT NULL, PRIMARY KEY (product_key_id, person));"),
	/*
	 * 13: a unit holds at most one active (unrevoked) credential, whoever
	 * writes the table; an empty revocation time is read as none, so it
	 * counts as active here too
	 */
	("CREATE UNIQUE INDEX credentials_one_active ON credentials (unit_id)"
	 " WHERE revoked IS NULL OR revoked = '';"),
	/*
	 * 14: the gang socket a run was built on (NULL outside a gang run), so
	 * a live view can show each socket's unit, step and result
	 */
	("ALTER TABLE runs ADD COLUMN socket BIGINT;"
	 "CREATE INDEX runs_station_socket ON runs (station, socket);"),
	/*
	 * 15: SOP controls (docs/sop.md): who acknowledged reading which SOP
	 * version (its SHA-256), and the versions withdrawn from every station
	 * by a two-officer change; each row is backed by its sop.acknowledge
	 * or sop.withdraw leaf, which is what the station reads
	 */
	("CREATE TABLE sop_acknowledgements ("
	 " id @ID, sop TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,"
	 " person TEXT NOT NULL, created TEXT NOT NULL, UNIQUE (sop, version, person));"
	 "CREATE TABLE sop_withdrawals ("
	 " id @ID, sop TEXT NOT NULL, version TEXT NOT NULL, reason TEXT NOT NULL,"
	 " change_id BIGINT NOT NULL, withdrawn_by TEXT NOT NULL, created TEXT NOT NULL,"
	 " UNIQUE (sop, version));"),
	/*
	 * 16: no table changes. From here on PostgreSQL's log and migration
	 * locks are keyed by the registry's schema; a program older than this
	 * takes another key, so its appends would not queue behind these. It
	 * refuses a registry whose schema is newer than it knows.
	 */
	("SELECT 1;"),
};

/* The migration that adds audit_leaves.action (its rows are filled after it runs). */
#define SCHEMA_LEAF_ACTION 6
/* The migration that adds registry_identity: from it on every registry has an id. */
#define SCHEMA_IDENTITY 8
/* The migration that allows one active credential per unit. */
#define SCHEMA_ONE_CREDENTIAL 13

#define SCHEMA_LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))

int lsec_store_schema_latest(void)
{
	return SCHEMA_LATEST;
}

const char *lsec_store_backend(const lsec_store *st)
{
	return st ? st->ops->name : "none";
}

void lsec_store__fail_after(lsec_store *st, unsigned long n)
{
	st->fail_after = n;
}

static void tx_rollback(lsec_store *st);

/* True when the injected fault fires now (see lsec_store__fail_after). */
static bool injected_fault(lsec_store *st, lsec_err *err)
{
	if (st->fail_after == 0 || --st->fail_after != 0) {
		return false;
	}
	lsec_err_set(err, LSEC_E_IO, __FILE__, __LINE__,
		     "cannot write registry '%s': injected fault", st->location);
	return true;
}

int lsec_store__query(lsec_store *st, const char *sql, const store_val *p, size_t np,
		      store_row_fn fn, void *ctx, lsec_err *err)
{
	if (injected_fault(st, err)) {
		return LSEC_E_IO;
	}
	return st->ops->query(st, sql, p, np, fn, ctx, err);
}

int lsec_store__row_int(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	int64_t *out = ctx;
	*out = (ncols > 0 && cols[0].t == SV_INT) ? cols[0].i : 0;
	return 0;
}

void lsec_store__copy(char *dst, size_t cap, const store_val *v)
{
	if (v->t != SV_TEXT || v->s == NULL) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, cap, "%s", v->s);
}

int lsec_store__check_name(const char *v, const char *what, size_t max, lsec_err *err)
{
	if (v == NULL || v[0] == '\0') {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__, "missing %s", what);
	}
	if (strlen(v) > max) {
		return lsec_err_set(err, LSEC_E_LIMIT, __FILE__, __LINE__,
				    "%s '%.32s...' is too long: at most %zu bytes", what, v, max);
	}
	return 0;
}

/* Copies the location for messages, leaving out a PostgreSQL password. */
static void set_location(lsec_store *st, const char *location)
{
	const char *at = strchr(location, '@');
	const char *scheme = strstr(location, "://");
	if (at != NULL && scheme != NULL && scheme < at) {
		snprintf(st->location, sizeof(st->location), "%.*s%s",
			 (int)(scheme + 3 - location), location, at + 1);
	} else {
		snprintf(st->location, sizeof(st->location), "%s", location);
	}
}

/*
 * The action a leaf names, copied into out[cap], or NULL. A leaf is
 * canonical JSON with sorted keys, so its action (when it has one) is its
 * first member: {"action":"<action>",... The value is only a lookup hint:
 * whoever reads a leaf found by it checks the hashed leaf itself. An action
 * holding an escape or longer than cap - 1 gets no hint.
 */
static const char *leaf_action(char *out, size_t cap, const uint8_t *leaf, size_t len)
{
	static const char head[] = "{\"action\":\"";
	size_t h = sizeof(head) - 1;
	if (len <= h || memcmp(leaf, head, h) != 0) { /* lint:ok: public text */
		return NULL;
	}
	for (size_t i = h; i < len && i - h < cap; i++) {
		if (leaf[i] == '\\' || leaf[i] < 0x20) {
			return NULL;
		}
		if (leaf[i] == '"') {
			memcpy(out, leaf + h, i - h);
			out[i - h] = '\0';
			return out;
		}
	}
	return NULL;
}

/* One leaf's action hint, read by fill_leaf_actions. */
typedef struct leaf_hint {
	int64_t seq;
	char action[LSEC_STORE_NAME_MAX + 1];
	bool has;
} leaf_hint;

static int row_leaf_hint(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	lsec_store__array *a = ctx;
	leaf_hint *h = NULL;
	(void)ncols;
	LSEC_TRY(lsec_store__array_push(a, (void **)&h, err));
	h->seq = cols[0].i;
	h->has = cols[1].t == SV_BLOB &&
		 leaf_action(h->action, sizeof(h->action), cols[1].b, cols[1].n) != NULL;
out:
	return rc;
}

/*
 * Fills audit_leaves.action for the leaves stored before the column
 * existed, a thousand leaves at a time (inside the migration's
 * transaction). Errors: store errors.
 */
static int fill_leaf_actions(lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store__array a = LSEC_STORE_ARRAY_INIT(sizeof(leaf_hint));
	int64_t from = 0;
	for (;;) {
		a.n = 0;
		store_val p[] = {SV_I(from)};
		LSEC_TRY(lsec_store__query(st,
					   "SELECT seq, leaf FROM audit_leaves WHERE seq >= ?"
					   " ORDER BY seq LIMIT 1000",
					   p, 1, row_leaf_hint, &a, err));
		if (a.n == 0) {
			break;
		}
		for (size_t i = 0; i < a.n; i++) {
			const leaf_hint *h = (const leaf_hint *)a.v + i;
			store_val u[] = {SV_S(h->has ? h->action : NULL), SV_I(h->seq)};
			LSEC_TRY(lsec_store__query(st,
						   "UPDATE audit_leaves SET action = ? WHERE seq = ?",
						   u, 2, NULL, NULL, err));
			from = h->seq + 1;
		}
	}
out:
	lsec_free(a.v);
	return rc;
}

/* The migration step's SQL with the backend's column types. */
static int render_ddl(lsec_buf *out, const store_ops *ops, const char *ddl, lsec_err *err)
{
	int rc = 0;
	for (const char *c = ddl; *c;) {
		if (strncmp(c, "@ID", 3) == 0) {
			LSEC_TRY(lsec_buf_append_str(out, ops->ddl_id, err));
			c += 3;
		} else if (strncmp(c, "@BLOB", 5) == 0) {
			LSEC_TRY(lsec_buf_append_str(out, ops->ddl_blob, err));
			c += 5;
		} else {
			LSEC_TRY(lsec_buf_append_u8(out, (uint8_t)*c, err));
			c++;
		}
	}
	LSEC_ENSURE(lsec_buf_cstr(out, err) != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

static int read_version(lsec_store *st, int64_t *out, lsec_err *err)
{
	*out = 0;
	return lsec_store__query(st, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
				 NULL, 0, lsec_store__row_int, out, err);
}

/* Stores a fresh random registry id (128 bits, hex) in the migration's transaction. */
static int give_identity(lsec_store *st, lsec_err *err)
{
	int rc = 0;
	uint8_t raw[LSEC_STORE_ID_LEN / 2];
	char id[LSEC_STORE_ID_LEN + 1], now[32];
	LSEC_TRY(lsec_random(raw, sizeof(raw), err));
	lsec_hex_encode(id, raw, sizeof(raw));
	lsec_time_utc(now);
	store_val p[] = {SV_S(id), SV_S(now)};
	LSEC_TRY(lsec_store__query(st, "INSERT INTO registry_identity (id, created) VALUES (?, ?)",
				   p, 2, NULL, NULL, err));
out:
	return rc;
}

/* Appends each serial (cols[0]) to the list ctx, comma separated, up to its capacity. */
static int row_serials(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	lsec_buf *b = ctx;
	char serial[LSEC_STORE_NAME_MAX + 1];
	char shown[4 * LSEC_STORE_NAME_MAX + 1]; /* each byte at most "\xNN" */
	if (ncols > 0) {
		lsec_store__copy(serial, sizeof(serial), &cols[0]);
		lsec_text_escape(shown, sizeof(shown), serial, strlen(serial));
		if (lsec_buf_printf(b, NULL, "%s'%s'", b->len > 0 ? ", " : "", shown) != 0) {
			return 0; /* the list is full: the first units are named */
		}
	}
	return 0;
}

/*
 * Before migration 13: a registry whose units hold two active credentials
 * (written before the rule) cannot take the index; say which units, and
 * what to do, rather than the database's own words.
 */
static int check_one_credential(lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_buf units = LSEC_BUF_INIT(1024);
	LSEC_TRY(lsec_store__query(st,
				   "SELECT u.serial FROM credentials c JOIN units u ON u.id = c.unit_id"
				   " WHERE c.revoked IS NULL OR c.revoked = ''"
				   " GROUP BY u.serial HAVING COUNT(*) > 1 ORDER BY u.serial",
				   NULL, 0, row_serials, &units, err));
	LSEC_ENSURE(units.len == 0, LSEC_E_STORE_SCHEMA,
		    "cannot upgrade registry '%s' to schema version %d: unit(s) %s hold more than "
		    "one active credential (table credentials), and a unit may hold only one; "
		    "this version of linesec upgrades every registry it opens, so it cannot "
		    "revoke them: with the previous version of linesec (registry schema "
		    "version %d), find which credential each unit's label carries and revoke "
		    "the others, then open the registry with this version again",
		    st->location, SCHEMA_ONE_CREDENTIAL, lsec_buf_cstr(&units, NULL),
		    SCHEMA_ONE_CREDENTIAL - 1);
out:
	lsec_buf_release(&units);
	return rc;
}

static int migrate(lsec_store *st, int target, lsec_err *err)
{
	int rc = 0;
	lsec_buf ddl = LSEC_BUF_INIT(1 << 16);
	int64_t cur = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	if (st->ops->migrate_lock_sql != NULL) {
		LSEC_TRY(lsec_store__query(st, st->ops->migrate_lock_sql, NULL, 0, NULL, NULL, err));
	}
	LSEC_TRY(st->ops->exec(st,
			       "CREATE TABLE IF NOT EXISTS schema_version ("
			       " version BIGINT NOT NULL, applied TEXT NOT NULL)",
			       err));
	LSEC_TRY(read_version(st, &cur, err));
	LSEC_ENSURE(cur <= SCHEMA_LATEST, LSEC_E_STORE_SCHEMA,
		    "cannot open registry '%s': schema version %lld is newer than this "
		    "program's %d (upgrade linesec)",
		    st->location, (long long)cur, SCHEMA_LATEST);
	for (int64_t v = cur + 1; v <= target; v++) {
		char now[32];
		lsec_time_utc(now);
		if (v == SCHEMA_ONE_CREDENTIAL) {
			LSEC_TRY(check_one_credential(st, err));
		}
		lsec_buf_reset(&ddl);
		LSEC_TRY(render_ddl(&ddl, st->ops, migrations[v - 1], err));
		LSEC_TRY(st->ops->exec(st, (const char *)ddl.data, err));
		store_val p[] = {SV_I(v), SV_S(now)};
		LSEC_TRY(lsec_store__query(st,
					   "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
					   p, 2, NULL, NULL, err));
		if (v == SCHEMA_LEAF_ACTION) {
			LSEC_TRY(fill_leaf_actions(st, err));
		}
		if (v == SCHEMA_IDENTITY) {
			LSEC_TRY(give_identity(st, err));
		}
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_buf_release(&ddl);
	return rc;
}

static bool is_postgres_url(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0 ||
	       strncmp(location, "postgres://", 11) == 0;
}

void lsec_store_discard(const char *location)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	if (location == NULL || is_postgres_url(location)) {
		return;
	}
	/* No allocation: this runs when an allocation has just failed. */
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s%s", location, suffix[i]) < (int)sizeof(p)) {
			(void)unlink(p);
		}
	}
}

/*
 * Connects to location and brings it to schema version. create: the
 * database must hold no registry yet (a SQLite file must not exist); else it
 * must hold one, which is never made up on the spot.
 */
static int store_connect(lsec_store **out, const char *location, int version, bool create,
			 bool read_only, lsec_err *err)
{
	int rc = 0;
	lsec_store *st = NULL;
	int64_t has_schema = 0;
	*out = NULL;
	LSEC_ENSURE(location != NULL && location[0] != '\0', LSEC_E_USAGE,
		    "cannot open registry: no location given");
	LSEC_ENSURE(version >= 1 && version <= SCHEMA_LATEST, LSEC_E_USAGE,
		    "cannot open registry '%s': no schema version %d", location, version);
	st = lsec_calloc(1, sizeof(*st));
	LSEC_ENSURE(st != NULL, LSEC_E_NOMEM, "cannot open registry '%s': out of memory", location);
	st->ops = is_postgres_url(location) ? &lsec_store__postgres_ops : &lsec_store__sqlite_ops;
	st->creating = create;
	st->read_only = read_only;
	set_location(st, location);
	LSEC_TRY(st->ops->open(st, location, err));
	LSEC_TRY(lsec_store__query(st, st->ops->has_schema_sql, NULL, 0, lsec_store__row_int,
				   &has_schema, err));
	if (create) {
		LSEC_ENSURE(has_schema == 0, LSEC_E_EXISTS,
			    "cannot create registry '%s': it already holds a registry", st->location);
	} else {
		LSEC_ENSURE(has_schema != 0, LSEC_E_STORE_MISSING,
			    "registry '%s' is empty (no linesec schema): it was emptied, replaced "
			    "or never made; only 'linesec init' creates a registry; restore this "
			    "line's registry from its backup",
			    st->location);
	}
	if (read_only) {
		/* A read-only copy is read as it is: never migrated. */
		int64_t cur = 0;
		LSEC_TRY(read_version(st, &cur, err));
		LSEC_ENSURE(cur == SCHEMA_LATEST, LSEC_E_STORE_SCHEMA,
			    "cannot read registry '%s' read-only: its schema version is %lld, this "
			    "program reads %d (open a copy of it once with write access to migrate "
			    "it, or use the matching linesec)",
			    st->location, (long long)cur, SCHEMA_LATEST);
	} else {
		LSEC_TRY(migrate(st, version, err));
	}
	*out = st;
	st = NULL;
out:
	if (st != NULL && st->created_file) {
		/* A registry that could not be made whole leaves nothing behind. */
		lsec_store_close(st);
		lsec_store_discard(location);
		st = NULL;
	}
	lsec_store_close(st);
	return rc;
}

int lsec_store__create_version(lsec_store **out, const char *location, int version,
			       lsec_err *err)
{
	return store_connect(out, location, version, true, false, err);
}

int lsec_store_create(lsec_store **out, const char *location, lsec_err *err)
{
	return store_connect(out, location, SCHEMA_LATEST, true, false, err);
}

int lsec_store_open(lsec_store **out, const char *location, lsec_err *err)
{
	return store_connect(out, location, SCHEMA_LATEST, false, false, err);
}

int lsec_store_open_read_only(lsec_store **out, const char *location, lsec_err *err)
{
	return store_connect(out, location, SCHEMA_LATEST, false, true, err);
}

static int row_id(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	if (ncols > 0) {
		lsec_store__copy(ctx, LSEC_STORE_ID_LEN + 1, &cols[0]);
	}
	return 0;
}

int lsec_store_registry_id(char out[LSEC_STORE_ID_LEN + 1], lsec_store *st, lsec_err *err)
{
	int rc = 0;
	out[0] = '\0';
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__query(st, "SELECT id FROM registry_identity ORDER BY id", NULL, 0,
				   row_id, out, err));
	LSEC_ENSURE(out[0] != '\0', LSEC_E_STORE_MISSING,
		    "registry '%s' has no identity (its registry_identity row was deleted): restore "
		    "this line's registry from its backup",
		    st->location);
out:
	return rc;
}

void lsec_store_close(lsec_store *st)
{
	if (st == NULL) {
		return;
	}
	if (st->impl != NULL) {
		tx_rollback(st);
		st->ops->close(st);
	}
	if (st->signer_release != NULL) {
		st->signer_release(st->signer);
	}
	lsec_free(st);
}

void lsec_store_set_signer(lsec_store *st, void *signer, void (*release)(void *))
{
	if (st->signer_release != NULL && st->signer != signer) {
		st->signer_release(st->signer);
	}
	st->signer = signer;
	st->signer_release = release;
}

void *lsec_store_signer(const lsec_store *st)
{
	return st == NULL ? NULL : st->signer;
}

int lsec_store_schema_version(int *out, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	int64_t v = 0;
	*out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(read_version(st, &v, err));
	*out = (int)v;
out:
	return rc;
}

/* ---- transactions ------------------------------------------------------- */

static int tx_open(lsec_store *st, const char *sql, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(!st->in_tx, LSEC_E_STATE,
		    "cannot begin a transaction on registry '%s': one is already open",
		    st->location);
	LSEC_TRY(st->ops->exec(st, sql, err));
	st->in_tx = true;
out:
	return rc;
}

/*
 * Test hook (docs/station.md, "Crash safety"): LINESEC_TEST_CRASH_AT=
 * "group-commit:N" kills the process (SIGKILL) inside its Nth durable commit,
 * counted over the process: after the commit is written, before the sync
 * that makes it durable, while other handles may be waiting on the same sync.
 */
static void group_commit_crash_point(void)
{
	static atomic_ulong durable_commits;
	const char *want = getenv("LINESEC_TEST_CRASH_AT");
	if (want == NULL || strncmp(want, "group-commit:", 13) != 0) {
		return;
	}
	unsigned long n = atomic_fetch_add(&durable_commits, 1) + 1;
	if (strtoul(want + 13, NULL, 10) == n) {
		raise(SIGKILL);
	}
}

static int tx_commit(lsec_store *st, lsec_err *err)
{
	bool durable = !st->tx_unsynced;
	int rc = injected_fault(st, err) ? LSEC_E_IO : st->ops->exec(st, "COMMIT", err);
	if (rc < 0) {
		tx_rollback(st);
		return rc;
	}
	st->in_tx = false;
	st->tx_unsynced = false;
	if (durable && st->ops->sync != NULL) {
		group_commit_crash_point();
		rc = st->ops->sync(st, err);
	}
	return rc;
}

static void tx_rollback(lsec_store *st)
{
	if (st == NULL || !st->in_tx) {
		return;
	}
	lsec_err ignored = LSEC_ERR_INIT;
	/* A failed ROLLBACK leaves nothing to do: the server or file undoes it. */
	(void)st->ops->exec(st, "ROLLBACK", &ignored);
	st->in_tx = false;
	st->tx_unsynced = false;
}

static int tx_begin(lsec_store_tx *out, lsec_store *st, bool read, bool unsynced,
		    lsec_err *err)
{
	int rc = 0;
	*out = (lsec_store_tx)LSEC_STORE_TX_INIT;
	LSEC_ENSURE(st != NULL, LSEC_E_USAGE, "cannot begin a transaction: missing registry");
	if (st->in_tx) {
		goto out; /* joined: the caller's transaction decides */
	}
	/*
	 * A read: SQLite in WAL mode reads one snapshot from the first read of a
	 * deferred transaction on, while writers go on; PostgreSQL sees one
	 * snapshot in a repeatable-read, read-only transaction.
	 */
	LSEC_TRY(tx_open(st,
			 !read ? st->ops->begin_sql
			 : strcmp(lsec_store_backend(st), "sqlite") == 0
				 ? "BEGIN DEFERRED"
				 : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			 err));
	if (unsynced && !read) {
		st->tx_unsynced = true;
		if (st->ops->unsynced_sql != NULL) {
			rc = st->ops->exec(st, st->ops->unsynced_sql, err);
			if (rc < 0) {
				tx_rollback(st);
				goto out;
			}
		}
	}
	out->st = st;
	out->read = read;
out:
	return rc;
}

int lsec_store_tx_begin(lsec_store_tx *out, lsec_store *st, lsec_err *err)
{
	return tx_begin(out, st, false, false, err);
}

int lsec_store_tx_begin_unsynced(lsec_store_tx *out, lsec_store *st, lsec_err *err)
{
	return tx_begin(out, st, false, true, err);
}

int lsec_store_tx_begin_read(lsec_store_tx *out, lsec_store *st, lsec_err *err)
{
	return tx_begin(out, st, true, false, err);
}

int lsec_store_tx_end(lsec_store_tx *tx, int rc, lsec_err *err)
{
	lsec_store *st = tx->st;
	bool read = tx->read;
	*tx = (lsec_store_tx)LSEC_STORE_TX_INIT;
	if (st == NULL) {
		return rc;
	}
	if (rc < 0 || read) {
		tx_rollback(st);
		return rc;
	}
	return tx_commit(st, err);
}

bool lsec_store_in_transaction(const lsec_store *st)
{
	return st != NULL && st->in_tx;
}

#define TX_ATTEMPTS 8

/* A random wait before attempt n (1-based) of a conflicted transaction: up to 2^n ms. */
static void conflict_backoff(unsigned n)
{
	uint32_t r = 0;
	lsec_err ignored = LSEC_ERR_INIT;
	if (lsec_random(&r, sizeof(r), &ignored) < 0) {
		r = (uint32_t)getpid() * 2654435761u;
	}
	unsigned cap_us = 1000u << (n < 10 ? n : 10);
	usleep(500 + r % cap_us);
}

int lsec_store_tx_run(lsec_store *st, bool unsynced, lsec_store_tx_body body, void *ctx,
		      lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(st != NULL && body != NULL, LSEC_E_USAGE,
		    "cannot run a transaction: missing registry or body");
	if (st->in_tx) {
		return body(ctx, st, err); /* joined: the owner decides, and retries */
	}
	for (unsigned attempt = 1;; attempt++) {
		lsec_store_tx tx = LSEC_STORE_TX_INIT;
		st->conflict = false;
		rc = tx_begin(&tx, st, false, unsynced, err);
		if (rc == 0) {
			rc = body(ctx, st, err);
			rc = lsec_store_tx_end(&tx, rc, err);
		}
		if (rc == 0 || !st->conflict) {
			break;
		}
		if (attempt == TX_ATTEMPTS) {
			rc = lsec_err_set(err, LSEC_E_STORE_BUSY, __FILE__, __LINE__,
					  "cannot write registry '%s': %u attempts in a row were undone by"
					  " conflicts with other stations' transactions (deadlock or"
					  " serialization failure); nothing was written, try again",
					  st->location, attempt);
			break;
		}
		st->retries++;
		conflict_backoff(attempt);
	}
	st->conflict = false;
out:
	return rc;
}

uint64_t lsec_store__retries(const lsec_store *st)
{
	return st->retries;
}

int lsec_store__insert_guarded(lsec_store *st, const char *sql, const store_val *p, size_t np,
			       store_row_fn fn, void *ctx, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(st->in_tx, LSEC_E_INTERNAL, "internal error: guarded insert outside a transaction");
	LSEC_TRY(st->ops->exec(st, "SAVEPOINT lsec_guard", err));
	rc = lsec_store__query(st, sql, p, np, fn, ctx, err);
	if (rc < 0) {
		lsec_err ignored = LSEC_ERR_INIT;
		(void)st->ops->exec(st, "ROLLBACK TO SAVEPOINT lsec_guard", &ignored);
	}
	int rel = st->ops->exec(st, "RELEASE SAVEPOINT lsec_guard", rc < 0 ? NULL : err);
	if (rc == 0) {
		rc = rel;
	}
out:
	return rc;
}

static int row_text(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	char *dst = ctx;
	if (ncols > 0) {
		lsec_store__copy(dst, LSEC_STORE_NAME_MAX + 1, &cols[0]);
	}
	return 0;
}

int lsec_store__name_holder(lsec_store *st, const char *lookup_sql, const char *value,
			    const char *action, const char *subject, const char *what,
			    lsec_err *err)
{
	char holder[LSEC_STORE_NAME_MAX + 1] = "";
	lsec_err lerr = LSEC_ERR_INIT;
	store_val p[] = {SV_S(value)};
	int rc = lsec_store__query(st, lookup_sql, p, 1, row_text, holder, &lerr);
	if (rc < 0) {
		*err = lerr;
		return rc;
	}
	if (holder[0] == '\0') {
		return 0;
	}
	lsec_err_set(err, LSEC_E_EXISTS, __FILE__, __LINE__,
		     "cannot %s '%s': %s '%s' is already held by unit '%s'", action, subject, what,
		     value, holder);
	return 1;
}

/* ---- audit log storage --------------------------------------------------- */

int lsec_store_leaf_reserve(uint64_t *seq_out, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	int64_t next = 0;
	*seq_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(st->in_tx, LSEC_E_STATE,
		    "cannot reserve an audit leaf in registry '%s': no transaction is open",
		    st->location);
	if (st->ops->log_lock_sql != NULL) {
		LSEC_TRY(lsec_store__query(st, st->ops->log_lock_sql, NULL, 0, NULL, NULL, err));
	}
	LSEC_TRY(lsec_store__query(st, "SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_leaves", NULL,
				   0, lsec_store__row_int, &next, err));
	*seq_out = (uint64_t)next;
out:
	return rc;
}

int lsec_store_leaf_put(lsec_store *st, uint64_t seq, const char *unit, const uint8_t *leaf,
			size_t len, const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len,
			lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32], hint[LSEC_STORE_NAME_MAX + 1];
	LSEC_ENSURE_REF(leaf);
	LSEC_ENSURE_REF(leaf_hash);
	LSEC_ENSURE(sig != NULL || sig_len == 0, LSEC_E_USAGE,
		    "cannot store audit leaf %llu: no signature bytes", (unsigned long long)seq);
	LSEC_ENSURE(seq <= INT64_MAX, LSEC_E_LIMIT, "cannot store audit leaf %llu: out of range",
		    (unsigned long long)seq);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	const char *action = leaf_action(hint, sizeof(hint), leaf, len);
	store_val p[] = {SV_I(seq),
			 SV_S(unit),
			 SV_B(leaf, len),
			 SV_B(leaf_hash, 32),
			 sig != NULL ? SV_B(sig, sig_len) : SV_NUL,
			 SV_S(now),
			 SV_S(action)};
	rc = lsec_store__query(st,
			       "INSERT INTO audit_leaves (seq, unit, leaf, leaf_hash, leaf_sig, created,"
			       " action)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?)",
			       p, 7, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		lsec_err_set(err, rc, __FILE__, __LINE__,
			     "cannot store audit leaf %llu in registry '%s': that sequence number is taken",
			     (unsigned long long)seq, st->location);
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_leaf_count(uint64_t *out, lsec_store *st, lsec_err *err)
{
	return lsec_store__count(st, "SELECT COUNT(*) FROM audit_leaves", out, err);
}

typedef struct leaf_get_ctx {
	lsec_buf *leaf;
	uint8_t *hash;
	lsec_buf *sig; /* NULL: not wanted */
	bool found;
	uint64_t seq;
} leaf_get_ctx;

static int check_hash(const store_val *v, uint64_t seq, lsec_err *err)
{
	if (v->t != SV_BLOB || v->n != 32) {
		return lsec_err_set(err, LSEC_E_PARSE, __FILE__, __LINE__,
				    "cannot read audit leaf %llu: stored leaf hash is not 32 bytes",
				    (unsigned long long)seq);
	}
	return 0;
}

static int row_leaf_get(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	leaf_get_ctx *c = ctx;
	(void)ncols;
	LSEC_TRY(check_hash(&cols[1], c->seq, err));
	if (cols[0].n > 0) {
		LSEC_TRY(lsec_buf_append(c->leaf, cols[0].b, cols[0].n, err));
	}
	memcpy(c->hash, cols[1].b, 32);
	if (c->sig != NULL && cols[2].t == SV_BLOB && cols[2].n > 0) {
		LSEC_TRY(lsec_buf_append(c->sig, cols[2].b, cols[2].n, err));
	}
	c->found = true;
out:
	return rc;
}

int lsec_store_leaf_get(lsec_buf *leaf_out, uint8_t leaf_hash_out[32], lsec_buf *sig_out,
			lsec_store *st, uint64_t seq, lsec_err *err)
{
	int rc = 0;
	leaf_get_ctx c = {leaf_out, leaf_hash_out, sig_out, false, seq};
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(leaf_out);
	LSEC_ENSURE(seq <= INT64_MAX, LSEC_E_NOTFOUND, "audit leaf %llu not found",
		    (unsigned long long)seq);
	store_val p[] = {SV_I(seq)};
	LSEC_TRY(lsec_store__query(st, "SELECT leaf, leaf_hash, leaf_sig FROM audit_leaves WHERE seq = ?", p,
				   1, row_leaf_get, &c, err));
	LSEC_ENSURE(c.found, LSEC_E_NOTFOUND, "audit leaf %llu not found in registry '%s'",
		    (unsigned long long)seq, st->location);
out:
	return rc;
}

typedef struct leaf_walk {
	lsec_store_leaf_cb cb;             /* one of cb and index_cb is set */
	lsec_store_leaf_index_cb index_cb;
	void *ctx;
} leaf_walk;

static int row_leaf_walk(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	leaf_walk *w = ctx;
	(void)ncols;
	uint64_t seq = (uint64_t)cols[0].i;
	LSEC_TRY(check_hash(&cols[3], seq, err));
	const char *unit = cols[1].t == SV_TEXT ? cols[1].s : NULL;
	const uint8_t *leaf = cols[2].t == SV_BLOB ? cols[2].b : (const uint8_t *)"";
	size_t len = cols[2].t == SV_BLOB ? cols[2].n : 0;
	const uint8_t *sig = cols[4].t == SV_BLOB ? cols[4].b : NULL;
	size_t sig_len = sig != NULL ? cols[4].n : 0;
	const char *action = cols[5].t == SV_TEXT ? cols[5].s : NULL;
	rc = w->cb != NULL ? w->cb(w->ctx, seq, unit, leaf, len, cols[3].b, sig, sig_len, err)
			   : w->index_cb(w->ctx, seq, unit, action, leaf, len, cols[3].b, sig,
					 sig_len, err);
out:
	return rc;
}

static int leaf_walk_run(lsec_store *st, uint64_t from, uint64_t to, leaf_walk *w,
			 lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(st);
	if (from >= to || from > INT64_MAX) {
		goto out;
	}
	if (to > INT64_MAX) {
		to = INT64_MAX;
	}
	store_val p[] = {SV_I(from), SV_I(to)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT seq, unit, leaf, leaf_hash, leaf_sig, action FROM audit_leaves"
				   " WHERE seq >= ? AND seq < ? ORDER BY seq",
				   p, 2, row_leaf_walk, w, err));
out:
	return rc;
}

int lsec_store_leaf_foreach(lsec_store *st, uint64_t from, uint64_t to, lsec_store_leaf_cb cb,
			    void *ctx, lsec_err *err)
{
	int rc = 0;
	leaf_walk w = {cb, NULL, ctx};
	LSEC_ENSURE_REF(cb);
	rc = leaf_walk_run(st, from, to, &w, err);
out:
	return rc;
}

int lsec_store_leaf_foreach_indexed(lsec_store *st, uint64_t from, uint64_t to,
				    lsec_store_leaf_index_cb cb, void *ctx, lsec_err *err)
{
	int rc = 0;
	leaf_walk w = {NULL, cb, ctx};
	LSEC_ENSURE_REF(cb);
	rc = leaf_walk_run(st, from, to, &w, err);
out:
	return rc;
}

int lsec_store__array_push(lsec_store__array *a, void **slot, lsec_err *err)
{
	*slot = NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void *v = lsec_realloc(a->v, cap * a->elem);
		if (v == NULL) {
			return lsec_err_set(err, LSEC_E_NOMEM, __FILE__, __LINE__,
					    "cannot list registry records: out of memory");
		}
		a->v = v;
		a->cap = cap;
	}
	*slot = (uint8_t *)a->v + a->n * a->elem;
	memset(*slot, 0, a->elem);
	a->n++;
	return 0;
}

typedef struct list_ctx {
	lsec_store__array a;
	store_fill_fn fill;
} list_ctx;

static int row_list(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	list_ctx *l = ctx;
	void *rec = NULL;
	(void)ncols;
	LSEC_TRY(lsec_store__array_push(&l->a, &rec, err));
	l->fill(rec, cols);
out:
	return rc;
}

int lsec_store__list(lsec_store *st, const char *sql, const store_val *p, size_t np,
		     store_fill_fn fill, size_t elem, void **out, size_t *n_out, lsec_err *err)
{
	int rc = 0;
	list_ctx l = {LSEC_STORE_ARRAY_INIT(elem), fill};
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__query(st, sql, p, np, row_list, &l, err));
	*out = l.a.v;
	*n_out = l.a.n;
	l.a.v = NULL;
out:
	lsec_free(l.a.v);
	return rc;
}

int lsec_store__count(lsec_store *st, const char *sql, uint64_t *out, lsec_err *err)
{
	int rc = 0;
	int64_t n = 0;
	*out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__query(st, sql, NULL, 0, lsec_store__row_int, &n, err));
	*out = (uint64_t)n;
out:
	return rc;
}

static void fill_seq(void *rec, const store_val *cols)
{
	*(uint64_t *)rec = (uint64_t)cols[0].i;
}

int lsec_store_leaf_seqs_for_unit(uint64_t **seqs_out, size_t *n_out, lsec_store *st,
				  const char *unit, lsec_err *err)
{
	store_val p[] = {SV_S(unit)};
	*seqs_out = NULL;
	*n_out = 0;
	if (unit == NULL) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__, "missing argument 'unit'");
	}
	return lsec_store__list(st, "SELECT seq FROM audit_leaves WHERE unit = ? ORDER BY seq", p,
				1, fill_seq, sizeof(uint64_t), (void **)seqs_out, n_out, err);
}

int lsec_store_leaf_seqs_for_action(uint64_t **seqs_out, size_t *n_out, lsec_store *st,
				    const char *action, lsec_err *err)
{
	return lsec_store_leaf_seqs_for_action_from(seqs_out, n_out, st, action, 0, err);
}

int lsec_store_leaf_seqs_for_action_from(uint64_t **seqs_out, size_t *n_out, lsec_store *st,
					 const char *action, uint64_t from, lsec_err *err)
{
	*seqs_out = NULL;
	*n_out = 0;
	if (action == NULL) {
		return lsec_err_set(err, LSEC_E_USAGE, __FILE__, __LINE__,
				    "missing argument 'action'");
	}
	if (from > INT64_MAX) {
		return 0;
	}
	store_val p[] = {SV_S(action), SV_I(from)};
	return lsec_store__list(st,
				"SELECT seq FROM audit_leaves WHERE action = ? AND seq >= ?"
				" ORDER BY seq",
				p, 2, fill_seq, sizeof(uint64_t), (void **)seqs_out, n_out, err);
}

int lsec_store_checkpoint_put(lsec_store *st, uint64_t tree_size, const uint8_t root[32],
			      const char *note, const uint8_t *range, size_t range_len, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32];
	LSEC_ENSURE_REF(root);
	LSEC_ENSURE_REF(note);
	LSEC_ENSURE(tree_size <= INT64_MAX, LSEC_E_LIMIT,
		    "cannot store checkpoint: tree size %llu out of range",
		    (unsigned long long)tree_size);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_I(tree_size), SV_B(root, 32), SV_S(note), SV_S(now),
			 range != NULL ? SV_B(range, range_len) : SV_NUL};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO checkpoints (tree_size, root_hash, note, created,"
				   " tree_range) VALUES (?, ?, ?, ?, ?)",
				   p, 5, NULL, NULL, err));
out:
	return lsec_store_tx_end(&tx, rc, err);
}

typedef struct cp_get_ctx {
	uint8_t *root;
	lsec_buf *note;
	bool found;
} cp_get_ctx;

static int row_checkpoint_get(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	cp_get_ctx *c = ctx;
	(void)ncols;
	if (c->found) {
		goto out; /* the first row of that size (sizes are unique in a sound log) */
	}
	LSEC_ENSURE(cols[0].t == SV_BLOB && cols[0].n == 32, LSEC_E_PARSE,
		    "cannot read a checkpoint: stored root hash is not 32 bytes");
	memcpy(c->root, cols[0].b, 32);
	if (c->note != NULL && cols[1].t == SV_TEXT) {
		LSEC_TRY(lsec_buf_append(c->note, (const uint8_t *)cols[1].s, cols[1].n, err));
	}
	c->found = true;
out:
	return rc;
}

int lsec_store_checkpoint_get(uint8_t root_out[32], lsec_buf *note_out, lsec_store *st,
			      uint64_t tree_size, lsec_err *err)
{
	int rc = 0;
	cp_get_ctx c = {root_out, note_out, false};
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(tree_size <= INT64_MAX, LSEC_E_NOTFOUND, "no checkpoint of %llu leaves",
		    (unsigned long long)tree_size);
	store_val p[] = {SV_I(tree_size)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT root_hash, note FROM checkpoints WHERE tree_size = ?"
				   " ORDER BY id",
				   p, 1, row_checkpoint_get, &c, err));
	LSEC_ENSURE(c.found, LSEC_E_NOTFOUND,
		    "registry '%s' holds no checkpoint of %llu leaves", st->location,
		    (unsigned long long)tree_size);
out:
	return rc;
}

typedef struct cp_walk {
	lsec_store_checkpoint_cb cb;
	void *ctx;
} cp_walk;

static int row_checkpoint(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	cp_walk *w = ctx;
	(void)ncols;
	uint64_t id = (uint64_t)cols[0].i;
	if (cols[2].t != SV_BLOB || cols[2].n != 32) {
		return lsec_err_set(err, LSEC_E_PARSE, __FILE__, __LINE__,
				    "cannot read checkpoint %llu: stored root hash is not 32 bytes",
				    (unsigned long long)id);
	}
	return w->cb(w->ctx, id, (uint64_t)cols[1].i, cols[2].b,
		     cols[3].t == SV_TEXT ? cols[3].s : "", err);
}

int lsec_store_checkpoint_foreach(lsec_store *st, lsec_store_checkpoint_cb cb, void *ctx,
				  lsec_err *err)
{
	int rc = 0;
	cp_walk w = {cb, ctx};
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(cb);
	LSEC_TRY(lsec_store__query(st,
				   "SELECT id, tree_size, root_hash, note FROM checkpoints ORDER BY id",
				   NULL, 0, row_checkpoint, &w, err));
out:
	return rc;
}

typedef struct cp_latest_ctx {
	uint64_t *size;
	uint8_t *root;
	lsec_buf *note;
	lsec_buf *range;
	bool found;
} cp_latest_ctx;

static int row_checkpoint_latest(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	cp_latest_ctx *c = ctx;
	(void)ncols;
	LSEC_ENSURE(cols[1].t == SV_BLOB && cols[1].n == 32, LSEC_E_PARSE,
		    "cannot read the latest checkpoint: stored root hash is not 32 bytes");
	*c->size = (uint64_t)cols[0].i;
	memcpy(c->root, cols[1].b, 32);
	if (c->note != NULL && cols[2].t == SV_TEXT) {
		LSEC_TRY(lsec_buf_append(c->note, (const uint8_t *)cols[2].s, cols[2].n, err));
	}
	if (c->range != NULL && cols[3].t == SV_BLOB) {
		LSEC_TRY(lsec_buf_append(c->range, cols[3].b, cols[3].n, err));
	}
	c->found = true;
out:
	return rc;
}

int lsec_store_checkpoint_latest(uint64_t *size_out, uint8_t root_out[32], lsec_buf *note_out,
				 lsec_buf *range_out, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	cp_latest_ctx c = {size_out, root_out, note_out, range_out, false};
	*size_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__query(st,
				   "SELECT tree_size, root_hash, note, tree_range FROM checkpoints"
				   " ORDER BY id DESC LIMIT 1",
				   NULL, 0, row_checkpoint_latest, &c, err));
	LSEC_ENSURE(c.found, LSEC_E_NOTFOUND, "registry '%s' holds no checkpoint", st->location);
out:
	return rc;
}

int lsec_store_node_put(lsec_store *st, unsigned level, uint64_t index, const uint8_t hash[32],
			lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(level < 64 && index <= INT64_MAX, LSEC_E_LIMIT,
		    "cannot store tree node (%u, %llu): out of range", level,
		    (unsigned long long)index);
	store_val p[] = {SV_I(level), SV_I(index), SV_B(hash, 32)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)"
				   " ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash",
				   p, 3, NULL, NULL, err));
out:
	return rc;
}

typedef struct node_get_ctx {
	uint8_t *hash;
	bool found;
} node_get_ctx;

static int row_node(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	node_get_ctx *c = ctx;
	(void)ncols;
	if (cols[0].t != SV_BLOB || cols[0].n != 32) {
		return lsec_err_set(err, LSEC_E_PARSE, __FILE__, __LINE__,
				    "cannot read a tree node: stored hash is not 32 bytes");
	}
	memcpy(c->hash, cols[0].b, 32);
	c->found = true;
	return 0;
}

int lsec_store_node_get(uint8_t hash_out[32], lsec_store *st, unsigned level, uint64_t index,
			lsec_err *err)
{
	int rc = 0;
	node_get_ctx c = {hash_out, false};
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(level < 64 && index <= INT64_MAX, LSEC_E_NOTFOUND,
		    "no tree node (%u, %llu)", level, (unsigned long long)index);
	store_val p[] = {SV_I(level), SV_I(index)};
	LSEC_TRY(lsec_store__query(st, "SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?",
				   p, 2, row_node, &c, err));
	LSEC_ENSURE(c.found, LSEC_E_NOTFOUND, "registry '%s' holds no tree node (%u, %llu)",
		    st->location, level, (unsigned long long)index);
out:
	return rc;
}
