/*
 * people.c - people with their roles and password hashes, and shift
 * sessions kept by the SHA-256 of their token (the token itself lives only
 * in a 0600 file on the station).
 */
#include "store/store_int.h"

#include <string.h>

static const char *const role_names[LSEC_ROLE_COUNT] = {
	"operator", "supervisor", "security-officer", "auditor",
};

const char *lsec_role_name(lsec_role r)
{
	return (unsigned)r < LSEC_ROLE_COUNT ? role_names[r] : "unknown";
}

/* Index of a role name; -1 when unknown. */
static int role_index(const char *name)
{
	for (size_t i = 0; name != NULL && i < LSEC_ROLE_COUNT; i++) {
		if (strcmp(role_names[i], name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

int lsec_role_parse(lsec_role *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, role_names, LSEC_ROLE_COUNT, name, "role", err);
	*out = (lsec_role)i;
	return rc;
}

int lsec_store_person_add(lsec_store *st, const char *name, lsec_role role, const char *pw_hash,
			  lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_ident_check(name, "person name", err));
	LSEC_TRY(lsec_store__check_name(pw_hash, "password hash",
					sizeof(((lsec_store_person *)0)->pw_hash) - 1, err));
	LSEC_ENSURE((unsigned)role < LSEC_ROLE_COUNT, LSEC_E_USAGE,
		    "cannot add person '%s': unknown role %d", name, (int)role);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(name), SV_S(lsec_role_name(role)), SV_S(pw_hash), SV_S(now)};
	rc = lsec_store__insert_guarded(st,
					"INSERT INTO people (name, role, pw_hash, disabled, created)"
					" VALUES (?, ?, ?, 0, ?)",
					p, 4, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		LSEC_BAIL(rc, "cannot add person '%s': the name is already taken", name);
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

static void fill_person(void *rec, const store_val *c)
{
	lsec_store_person *p = rec;
	memset(p, 0, sizeof(*p));
	p->id = c[0].i;
	lsec_store__copy(p->name, sizeof(p->name), &c[1]);
	int r = role_index(c[2].s);
	/* A role this program does not know gets the least privilege: auditor (read-only). */
	p->role = r < 0 ? LSEC_ROLE_AUDITOR : (lsec_role)r;
	p->disabled = c[3].t == SV_INT && c[3].i != 0;
	lsec_store__copy(p->created, sizeof(p->created), &c[4]);
	lsec_store__copy(p->pw_hash, sizeof(p->pw_hash), &c[5]);
}

typedef struct person_ctx {
	lsec_store_person *out;
	bool found;
} person_ctx;

static int row_person(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)ncols;
	(void)err;
	person_ctx *x = ctx;
	fill_person(x->out, cols);
	x->found = true;
	return 0;
}

int lsec_store_person_get(lsec_store_person *out, lsec_store *st, const char *name,
			  lsec_err *err)
{
	int rc = 0;
	person_ctx x = {out, false};
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	store_val p[] = {SV_S(name)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT id, name, role, disabled, created, pw_hash FROM people"
				   " WHERE name = ?",
				   p, 1, row_person, &x, err));
	LSEC_ENSURE(x.found, LSEC_E_NOTFOUND, "person '%s' not found in the registry", name);
out:
	return rc;
}

int lsec_store_person_list(lsec_store_person **out, size_t *n_out, lsec_store *st,
			   lsec_err *err)
{
	/* The hash column is left out: lists never carry password hashes. */
	return lsec_store__list(st,
				"SELECT id, name, role, disabled, created, NULL FROM people"
				" ORDER BY name",
				NULL, 0, fill_person, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_person_disable(lsec_store *st, const char *name, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_person p;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_person_get(&p, st, name, err));
	store_val q[] = {SV_I(p.id)};
	LSEC_TRY(lsec_store__query(st, "UPDATE people SET disabled = 1 WHERE id = ?", q, 1, NULL,
				   NULL, err));
	LSEC_TRY(lsec_store__query(st, "UPDATE sessions SET revoked = 1 WHERE person_id = ?", q, 1,
				   NULL, NULL, err));
out:
	lsec_wipe(&p, sizeof(p));
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_person_count(uint64_t *out, lsec_store *st, lsec_err *err)
{
	return lsec_store__count(st, "SELECT COUNT(*) FROM people", out, err);
}

/* ---- sessions ------------------------------------------------------------------ */

int lsec_store_session_add(lsec_store *st, const char *person, const uint8_t token_hash[32],
			   const char *station, int64_t created, int64_t expires, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t pid = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(token_hash);
	LSEC_TRY(lsec_store__check_name(person, "person name", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(station, "station", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	store_val q[] = {SV_S(person)};
	LSEC_TRY(lsec_store__query(st, "SELECT id FROM people WHERE name = ?", q, 1,
				   lsec_store__row_int, &pid, err));
	LSEC_ENSURE(pid != 0, LSEC_E_NOTFOUND, "person '%s' not found in the registry", person);
	store_val p[] = {SV_I(pid), SV_B(token_hash, 32), SV_S(station), SV_I(created),
			 SV_I(expires)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO sessions (person_id, token_hash, station, created,"
				   " expires, revoked) VALUES (?, ?, ?, ?, ?, 0)",
				   p, 5, NULL, NULL, err));
out:
	return lsec_store_tx_end(&tx, rc, err);
}

typedef struct session_ctx {
	lsec_store_session *out;
	bool found;
} session_ctx;

static int row_session(void *ctx, const store_val *c, size_t ncols, lsec_err *err)
{
	(void)ncols;
	(void)err;
	session_ctx *x = ctx;
	x->out->id = c[0].i;
	lsec_store__copy(x->out->person, sizeof(x->out->person), &c[1]);
	lsec_store__copy(x->out->station, sizeof(x->out->station), &c[2]);
	x->out->created = c[3].i;
	x->out->expires = c[4].i;
	x->out->revoked = c[5].i != 0;
	x->found = true;
	return 0;
}

int lsec_store_session_get(lsec_store_session *out, lsec_store *st,
			   const uint8_t token_hash[32], lsec_err *err)
{
	int rc = 0;
	session_ctx x = {out, false};
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(token_hash);
	store_val p[] = {SV_B(token_hash, 32)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT s.id, p.name, s.station, s.created, s.expires, s.revoked"
				   " FROM sessions s JOIN people p ON p.id = s.person_id"
				   " WHERE s.token_hash = ?",
				   p, 1, row_session, &x, err));
	LSEC_ENSURE(x.found, LSEC_E_NOTFOUND, "session not found in the registry");
out:
	return rc;
}

int lsec_store_session_revoke(lsec_store *st, const uint8_t token_hash[32], lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(token_hash);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	store_val p[] = {SV_B(token_hash, 32)};
	LSEC_TRY(lsec_store__query(st, "UPDATE sessions SET revoked = 1 WHERE token_hash = ?", p, 1,
				   NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_NOTFOUND,
		    "cannot revoke session: not found in the registry");
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_person_update(lsec_store *st, const char *name, lsec_role role,
			     const char *pw_hash, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(name, "person name", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(pw_hash, "password hash",
					sizeof(((lsec_store_person *)0)->pw_hash) - 1, err));
	LSEC_ENSURE((unsigned)role < LSEC_ROLE_COUNT, LSEC_E_USAGE,
		    "cannot change person '%s': unknown role %d", name, (int)role);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	store_val p[] = {SV_S(lsec_role_name(role)), SV_S(pw_hash), SV_S(name)};
	LSEC_TRY(lsec_store__query(st, "UPDATE people SET role = ?, pw_hash = ? WHERE name = ?", p,
				   3, NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_NOTFOUND,
		    "person '%s' not found in the registry", name);
out:
	return lsec_store_tx_end(&tx, rc, err);
}

/* ---- changes that take two security officers ------------------------------------ */

int lsec_store_change_add(int64_t *id_out, lsec_store *st, const char *kind, const char *subject,
			  const char *payload, const char *enrol_hash, const char *requested_by,
			  lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32];
	int64_t id = 0;
	*id_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(kind, "change kind", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(subject, "change subject", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(payload, "change payload", LSEC_STORE_PAYLOAD_MAX, err));
	LSEC_TRY(lsec_store__check_name(requested_by, "person name", LSEC_STORE_NAME_MAX, err));
	LSEC_ENSURE(enrol_hash == NULL ||
			    strlen(enrol_hash) < sizeof(((lsec_store_change *)0)->enrol_hash),
		    LSEC_E_LIMIT, "cannot record change of '%s': enrolment hash too long", subject);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(kind),	     SV_S(subject), SV_S(payload),
			 SV_S(enrol_hash),   SV_S(requested_by), SV_S(now)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO change_requests (kind, subject, payload, enrol_hash,"
				   " requested_by, created, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')"
				   " RETURNING id",
				   p, 6, lsec_store__row_int, &id, err));
	*id_out = id;
out:
	return lsec_store_tx_end(&tx, rc, err);
}

static void fill_change(void *rec, const store_val *c)
{
	lsec_store_change *x = rec;
	memset(x, 0, sizeof(*x));
	x->id = c[0].i;
	lsec_store__copy(x->kind, sizeof(x->kind), &c[1]);
	lsec_store__copy(x->subject, sizeof(x->subject), &c[2]);
	lsec_store__copy(x->payload, sizeof(x->payload), &c[3]);
	lsec_store__copy(x->enrol_hash, sizeof(x->enrol_hash), &c[4]);
	lsec_store__copy(x->requested_by, sizeof(x->requested_by), &c[5]);
	lsec_store__copy(x->created, sizeof(x->created), &c[6]);
	lsec_store__copy(x->state, sizeof(x->state), &c[7]);
	lsec_store__copy(x->decided_by, sizeof(x->decided_by), &c[8]);
	lsec_store__copy(x->decided, sizeof(x->decided), &c[9]);
}

int lsec_store_change_get(lsec_store_change *out, lsec_store *st, int64_t id, lsec_err *err)
{
	int rc = 0;
	lsec_store_change *found = NULL;
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	store_val p[] = {SV_I(id)};
	LSEC_TRY(lsec_store__list(st,
				  "SELECT id, kind, subject, payload, enrol_hash, requested_by, created,"
				  " state, decided_by, decided FROM change_requests WHERE id = ?",
				  p, 1, fill_change, sizeof(*found), (void **)&found, &n, err));
	LSEC_ENSURE(n == 1, LSEC_E_NOTFOUND, "change %lld not found in the registry (table "
					     "change_requests)",
		    (long long)id);
	*out = found[0];
out:
	if (found != NULL) {
		lsec_wipe(found, n * sizeof(*found));
	}
	lsec_free(found);
	return rc;
}

int lsec_store_change_list(lsec_store_change **out, size_t *n_out, lsec_store *st,
			   bool pending_only, lsec_err *err)
{
	store_val p[] = {SV_I(pending_only ? 1 : 0)};
	/* The enrolment hash column is left out: lists never carry it. */
	return lsec_store__list(st,
				"SELECT id, kind, subject, payload, NULL, requested_by, created, state,"
				" decided_by, decided FROM change_requests"
				" WHERE ? = 0 OR state = 'pending' ORDER BY id",
				p, 1, fill_change, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_change_decide(lsec_store *st, int64_t id, const char *state, const char *person,
			     lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(state != NULL && (strcmp(state, "approved") == 0 ||
				      strcmp(state, "rejected") == 0),
		    LSEC_E_USAGE, "cannot decide change %lld: state must be approved or rejected",
		    (long long)id);
	LSEC_TRY(lsec_store__check_name(person, "person name", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(state), SV_S(person), SV_S(now), SV_I(id)};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE change_requests SET state = ?, decided_by = ?, decided = ?"
				   " WHERE id = ? AND state = 'pending'",
				   p, 4, NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_STATE,
		    "cannot decide change %lld: it is not pending in table change_requests",
		    (long long)id);
out:
	return lsec_store_tx_end(&tx, rc, err);
}
