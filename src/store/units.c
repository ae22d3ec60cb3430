/*
 * units.c - units and their lifecycle, identities (with SP 800-57 key
 * states) and credential fingerprints. Uniqueness is left to the database's
 * UNIQUE constraints; this file only turns a violation into a message that
 * names the unit holding the value.
 */
#include "store/store_int.h"

#include <string.h>

static const char *const unit_state_names[LSEC_UNIT_STATE_COUNT] = {
	"new",      "flashed",     "provisioned", "secured",
	"locked",   "shipped",     "quarantined", "returned",
	"decommission-pending", "decommissioned", "scrapped",
};

static const char *const key_state_names[LSEC_KEY_STATE_COUNT] = {
	"pre-activation", "active", "suspended", "deactivated", "compromised", "destroyed",
};

/* Index of name in names[n]; -1 when absent. */
static int name_index(const char *const *names, size_t n, const char *name)
{
	if (name == NULL) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * States read back from the registry. Only this file writes them, so an
 * unknown name means a newer program wrote it; it reads as the most
 * restrictive state (scrapped, destroyed), which allows no change.
 */
static lsec_unit_state unit_state_of(const char *name)
{
	int i = name_index(unit_state_names, LSEC_UNIT_STATE_COUNT, name);
	return i < 0 ? LSEC_UNIT_SCRAPPED : (lsec_unit_state)i;
}

static lsec_key_state key_state_of(const char *name)
{
	int i = name_index(key_state_names, LSEC_KEY_STATE_COUNT, name);
	return i < 0 ? LSEC_KEY_DESTROYED : (lsec_key_state)i;
}

const char *lsec_unit_state_name(lsec_unit_state s)
{
	return (unsigned)s < LSEC_UNIT_STATE_COUNT ? unit_state_names[s] : "unknown";
}

int lsec_unit_state_parse(lsec_unit_state *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, unit_state_names, LSEC_UNIT_STATE_COUNT, name, "unit state",
				  err);
	*out = (lsec_unit_state)i;
	return rc;
}

const char *lsec_key_state_name(lsec_key_state s)
{
	return (unsigned)s < LSEC_KEY_STATE_COUNT ? key_state_names[s] : "unknown";
}

int lsec_key_state_parse(lsec_key_state *out, const char *name, lsec_err *err)
{
	size_t i = 0;
	int rc = lsec_name_lookup(&i, key_state_names, LSEC_KEY_STATE_COUNT, name, "key state",
				  err);
	*out = (lsec_key_state)i;
	return rc;
}

static bool is_build_state(lsec_unit_state s)
{
	return s <= LSEC_UNIT_LOCKED;
}

bool lsec_unit_transition_allowed(lsec_unit_state from, lsec_unit_state prev,
				  lsec_unit_state to, unsigned flags)
{
	if (from >= LSEC_UNIT_STATE_COUNT || to >= LSEC_UNIT_STATE_COUNT) {
		return false;
	}
	switch (to) {
	case LSEC_UNIT_NEW:
	case LSEC_UNIT_FLASHED:
	case LSEC_UNIT_PROVISIONED:
	case LSEC_UNIT_SECURED:
	case LSEC_UNIT_LOCKED:
		if (is_build_state(from)) {
			return to == from + 1; /* the build SOPs run in order */
		}
		/* Rework goes back to the SOP that failed, never past it. */
		return from == LSEC_UNIT_QUARANTINED && (flags & LSEC_STORE_REWORK) &&
		       is_build_state(prev) && to <= prev;
	case LSEC_UNIT_SHIPPED:
		return from == LSEC_UNIT_LOCKED && (flags & LSEC_STORE_SHIP_GATE);
	case LSEC_UNIT_QUARANTINED:
		return is_build_state(from) || from == LSEC_UNIT_RETURNED;
	case LSEC_UNIT_RETURNED:
		return from == LSEC_UNIT_SHIPPED;
	case LSEC_UNIT_DECOMMISSION_PENDING:
		return from == LSEC_UNIT_QUARANTINED || from == LSEC_UNIT_RETURNED;
	case LSEC_UNIT_DECOMMISSIONED:
		return from == LSEC_UNIT_QUARANTINED || from == LSEC_UNIT_RETURNED ||
		       from == LSEC_UNIT_DECOMMISSION_PENDING;
	case LSEC_UNIT_SCRAPPED:
		return from == LSEC_UNIT_DECOMMISSIONED;
	case LSEC_UNIT_STATE_COUNT:
	default:
		return false;
	}
}

/* Why from -> to is refused, for the message. */
static const char *refusal_reason(lsec_unit_state from, lsec_unit_state to, unsigned flags)
{
	if (from == LSEC_UNIT_SCRAPPED) {
		return "a scrapped unit never changes state";
	}
	if (to == LSEC_UNIT_SHIPPED && from == LSEC_UNIT_LOCKED && !(flags & LSEC_STORE_SHIP_GATE)) {
		return "only the ship gate ships a unit";
	}
	if (from == LSEC_UNIT_QUARANTINED && is_build_state(to) && !(flags & LSEC_STORE_REWORK)) {
		return "rework out of quarantine needs a supervisor's approval";
	}
	if (from == LSEC_UNIT_QUARANTINED && is_build_state(to)) {
		return "rework goes back no further than the procedure that failed";
	}
	return "not a step of the unit lifecycle";
}

/* ---- units ---------------------------------------------------------------- */

#define UNIT_COLS "u.id, u.serial, u.uid, u.product, u.station, u.state, u.prev_state, " \
		  "u.created, u.updated"

static void fill_unit(void *rec, const store_val *c)
{
	lsec_store_unit *u = rec;
	memset(u, 0, sizeof(*u));
	u->id = c[0].i;
	lsec_store__copy(u->serial, sizeof(u->serial), &c[1]);
	lsec_store__copy(u->uid, sizeof(u->uid), &c[2]);
	lsec_store__copy(u->product, sizeof(u->product), &c[3]);
	lsec_store__copy(u->station, sizeof(u->station), &c[4]);
	u->state = unit_state_of(c[5].s);
	u->prev_state = unit_state_of(c[6].s);
	lsec_store__copy(u->created, sizeof(u->created), &c[7]);
	lsec_store__copy(u->updated, sizeof(u->updated), &c[8]);
}

typedef struct one_ctx {
	void *out;
	bool found;
} one_ctx;

static int row_unit(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)ncols;
	(void)err;
	one_ctx *c = ctx;
	fill_unit(c->out, cols);
	c->found = true;
	return 0;
}

/* After a refused registration: names the unit holding serial, else uid (name_holder). */
static int unit_holder_lookup(lsec_store *st, const char *serial, const char *uid, lsec_err *err)
{
	int found = lsec_store__name_holder(st, "SELECT serial FROM units WHERE serial = ?", serial,
					    "register unit", serial, "serial", err);
	if (found == 0) {
		found = lsec_store__name_holder(st, "SELECT serial FROM units WHERE uid = ?", uid,
						"register unit", serial, "UID", err);
	}
	return found;
}

/* The holder found by the statement of unit_create_pg: which value, whose. */
typedef struct unit_holder {
	bool inserted;
	int64_t kind; /* 1: the serial is taken, 2: the UID */
	char serial[LSEC_STORE_NAME_MAX + 1];
} unit_holder;

static int row_unit_holder(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)err;
	unit_holder *h = ctx;
	if (ncols < 2 || cols[0].t != SV_INT) {
		return 0;
	}
	if (cols[0].i == 0) {
		h->inserted = true;
	} else if (h->kind == 0 || cols[0].i < h->kind) {
		h->kind = cols[0].i;
		lsec_store__copy(h->serial, sizeof(h->serial), &cols[1]);
	}
	return 0;
}

/*
 * PostgreSQL: the insert and, when a UNIQUE value is taken, the unit holding
 * it, in one statement and one round trip. ON CONFLICT DO NOTHING leaves an
 * open transaction usable (no savepoint) and outside one the statement is its
 * own transaction. A value taken by a transaction that committed while this
 * statement waited is not in its snapshot: then the holder is looked up again.
 */
static int unit_create_pg(lsec_store *st, const store_val p8[8], const char *serial,
			  const char *uid, lsec_err *err)
{
	int rc = 0;
	unit_holder h = {false, 0, ""};
	store_val p[] = {p8[0], p8[1], p8[2], p8[3], p8[4], p8[5], p8[6], p8[7], p8[0], p8[1]};
	LSEC_TRY(lsec_store__query(
		st,
		"WITH ins AS (INSERT INTO units (serial, uid, product, station, state, prev_state,"
		" created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
		" RETURNING serial)"
		" SELECT 0, serial FROM ins"
		" UNION ALL SELECT CASE WHEN u.serial = h.s THEN 1 ELSE 2 END, u.serial"
		" FROM units u, (SELECT CAST(? AS TEXT) AS s, CAST(? AS TEXT) AS d) h"
		" WHERE (u.serial = h.s OR u.uid = h.d) AND NOT EXISTS (SELECT 1 FROM ins)",
		p, 10, row_unit_holder, &h, err));
	if (h.inserted) {
		goto out;
	}
	if (h.kind != 0) {
		rc = lsec_err_set(err, LSEC_E_EXISTS, __FILE__, __LINE__,
				  "cannot register unit '%s': %s '%s' is already held by unit '%s'",
				  serial, h.kind == 1 ? "serial" : "UID", h.kind == 1 ? serial : uid,
				  h.serial);
		goto out;
	}
	int found = unit_holder_lookup(st, serial, uid, err);
	if (found == 0) {
		lsec_err_set(err, LSEC_E_EXISTS, __FILE__, __LINE__,
			     "cannot register unit '%s': its serial or UID '%s' is already registered",
			     serial, uid);
	}
	rc = found < 0 ? found : LSEC_E_EXISTS;
out:
	return rc;
}

int lsec_store_unit_create(lsec_store *st, const char *serial, const char *uid,
			   const char *product, const char *station, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_ident_check(serial, "unit serial", err));
	LSEC_TRY(lsec_store__check_name(uid, "unit UID", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_ident_check(product, "product", err));
	LSEC_TRY(lsec_ident_check(station, "station", err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(serial), SV_S(uid), SV_S(product), SV_S(station),
			 SV_S("new"), SV_S("new"), SV_S(now), SV_S(now)};
	if (strcmp(lsec_store_backend(st), "postgres") == 0) {
		return unit_create_pg(st, p, serial, uid, err);
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	rc = lsec_store__insert_guarded(st,
					"INSERT INTO units (serial, uid, product, station, state,"
					" prev_state, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					p, 8, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		int found = unit_holder_lookup(st, serial, uid, err);
		rc = found < 0 ? found : LSEC_E_EXISTS;
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_unit_get(lsec_store_unit *out, lsec_store *st, const char *serial, lsec_err *err)
{
	int rc = 0;
	one_ctx c = {out, false};
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(serial);
	store_val p[] = {SV_S(serial)};
	LSEC_TRY(lsec_store__query(st, "SELECT " UNIT_COLS " FROM units u WHERE u.serial = ?", p, 1,
				   row_unit, &c, err));
	LSEC_ENSURE(c.found, LSEC_E_NOTFOUND, "unit '%s' not found in the registry", serial);
out:
	return rc;
}

int lsec_store_unit_get_by_uid(lsec_store_unit *out, lsec_store *st, const char *uid,
			       lsec_err *err)
{
	int rc = 0;
	one_ctx c = {out, false};
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(uid);
	store_val p[] = {SV_S(uid)};
	LSEC_TRY(lsec_store__query(st, "SELECT " UNIT_COLS " FROM units u WHERE u.uid = ?", p, 1,
				   row_unit, &c, err));
	LSEC_ENSURE(c.found, LSEC_E_NOTFOUND, "no unit with UID '%s' in the registry", uid);
out:
	return rc;
}

int lsec_store__unit_id(lsec_store *st, const char *serial, int64_t *out, lsec_err *err)
{
	int rc = 0;
	*out = 0;
	LSEC_TRY(lsec_store__check_name(serial, "unit serial", LSEC_STORE_NAME_MAX, err));
	store_val p[] = {SV_S(serial)};
	LSEC_TRY(lsec_store__query(st, "SELECT id FROM units WHERE serial = ?", p, 1,
				   lsec_store__row_int, out, err));
	LSEC_ENSURE(*out != 0, LSEC_E_NOTFOUND, "unit '%s' not found in the registry", serial);
out:
	return rc;
}

int lsec_store_unit_list(lsec_store_unit **out, size_t *n_out, lsec_store *st,
			 const char *product, lsec_err *err)
{
	if (product != NULL) {
		store_val p[] = {SV_S(product)};
		return lsec_store__list(st,
					"SELECT " UNIT_COLS " FROM units u WHERE u.product = ?"
					" ORDER BY u.serial",
					p, 1, fill_unit, sizeof(**out), (void **)out, n_out, err);
	}
	return lsec_store__list(st, "SELECT " UNIT_COLS " FROM units u ORDER BY u.serial", NULL, 0,
				fill_unit, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_unit_count(uint64_t *out, lsec_store *st, lsec_err *err)
{
	return lsec_store__count(st, "SELECT COUNT(*) FROM units", out, err);
}

int lsec_store_release_units_started(uint64_t *out, lsec_store *st, const char *release,
				     const char *sop, const char *except_serial, lsec_err *err)
{
	int rc = 0;
	int64_t n = 0;
	*out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(release);
	LSEC_ENSURE_REF(sop);
	store_val p[] = {SV_S(release), SV_S(sop), SV_S(except_serial ? except_serial : "")};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT COUNT(DISTINCT r.unit_id) FROM runs r JOIN units u ON u.id = r.unit_id"
				   " WHERE r.release = ? AND r.sop = ? AND u.serial <> ?",
				   p, 3, lsec_store__row_int, &n, err));
	*out = (uint64_t)n;
out:
	return rc;
}

int lsec_store_unit_transition(lsec_store *st, const char *serial, lsec_unit_state to,
			       unsigned flags, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_unit u;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE((unsigned)to < LSEC_UNIT_STATE_COUNT, LSEC_E_USAGE,
		    "cannot move unit '%s': unknown target state %d", serial ? serial : "",
		    (int)to);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	/* Read and check inside the transaction; the UPDATE re-checks the state. */
	LSEC_TRY(lsec_store_unit_get(&u, st, serial, err));
	LSEC_ENSURE(lsec_unit_transition_allowed(u.state, u.prev_state, to, flags),
		    LSEC_E_STORE_TRANSITION, "cannot move unit '%s' from '%s' to '%s': %s", serial,
		    lsec_unit_state_name(u.state), lsec_unit_state_name(to),
		    refusal_reason(u.state, to, flags));
	lsec_time_utc(now);
	store_val p[] = {SV_S(lsec_unit_state_name(to)), SV_S(lsec_unit_state_name(u.state)),
			 SV_S(now), SV_I(u.id), SV_S(lsec_unit_state_name(u.state))};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE units SET state = ?, prev_state = ?, updated = ?"
				   " WHERE id = ? AND state = ?",
				   p, 5, NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_STATE,
		    "cannot move unit '%s' from '%s' to '%s': another station changed it first",
		    serial, lsec_unit_state_name(u.state), lsec_unit_state_name(to));
out:
	return lsec_store_tx_end(&tx, rc, err);
}

/* ---- identities and credentials -------------------------------------------- */

static bool key_transition_allowed(lsec_key_state from, lsec_key_state to)
{
	switch (from) {
	case LSEC_KEY_PRE_ACTIVATION:
		return to == LSEC_KEY_ACTIVE || to == LSEC_KEY_COMPROMISED ||
		       to == LSEC_KEY_DESTROYED;
	case LSEC_KEY_ACTIVE:
		return to == LSEC_KEY_SUSPENDED || to == LSEC_KEY_DEACTIVATED ||
		       to == LSEC_KEY_COMPROMISED;
	case LSEC_KEY_SUSPENDED:
		return to == LSEC_KEY_ACTIVE || to == LSEC_KEY_DEACTIVATED ||
		       to == LSEC_KEY_COMPROMISED;
	case LSEC_KEY_DEACTIVATED:
		return to == LSEC_KEY_COMPROMISED || to == LSEC_KEY_DESTROYED;
	case LSEC_KEY_COMPROMISED:
		return to == LSEC_KEY_DESTROYED;
	case LSEC_KEY_DESTROYED:
	case LSEC_KEY_STATE_COUNT:
	default:
		return false;
	}
}

/*
 * A unit taken out of service (decommission pending, decommissioned,
 * scrapped) never receives an identity or credential again: what was bound
 * to its UID stays retired. LSEC_E_STORE_TRANSITION naming the unit.
 */
static int refuse_retired(lsec_store *st, const char *serial, const char *what, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit u;
	LSEC_TRY(lsec_store_unit_get(&u, st, serial, err));
	LSEC_ENSURE(u.state != LSEC_UNIT_DECOMMISSION_PENDING &&
			    u.state != LSEC_UNIT_DECOMMISSIONED && u.state != LSEC_UNIT_SCRAPPED,
		    LSEC_E_STORE_TRANSITION,
		    "cannot record %s of unit '%s': the unit is %s and its identity is never "
		    "reissued",
		    what, serial, lsec_unit_state_name(u.state));
out:
	return rc;
}

int lsec_store_identity_add(lsec_store *st, const char *serial, const char *key_fp,
			    const char *cert_serial, const uint8_t *cert_der, size_t cert_len,
			    lsec_key_state state, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t unit_id = 0;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(key_fp, "key fingerprint", LSEC_STORE_FP_MAX, err));
	if (cert_serial != NULL) {
		LSEC_TRY(lsec_store__check_name(cert_serial, "certificate serial",
						LSEC_STORE_FP_MAX, err));
	}
	LSEC_ENSURE((unsigned)state < LSEC_KEY_STATE_COUNT, LSEC_E_USAGE,
		    "cannot record identity of unit '%s': unknown key state %d",
		    serial ? serial : "", (int)state);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	LSEC_TRY(refuse_retired(st, serial, "identity", err));
	lsec_time_utc(now);
	store_val p[] = {SV_I(unit_id), SV_S(key_fp), SV_S(cert_serial),
			 cert_der ? SV_B(cert_der, cert_len) : SV_NUL,
			 SV_S(lsec_key_state_name(state)), SV_S(now), SV_S(now)};
	rc = lsec_store__insert_guarded(st,
					"INSERT INTO identities (unit_id, key_fp, cert_serial,"
					" cert_der, key_state, created, updated)"
					" VALUES (?, ?, ?, ?, ?, ?, ?)",
					p, 7, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		int found = lsec_store__name_holder(
			st,
			"SELECT u.serial FROM identities i JOIN units u ON u.id = i.unit_id"
			" WHERE i.key_fp = ?",
			key_fp, "record identity of unit", serial, "key fingerprint", err);
		if (found == 0 && cert_serial != NULL) {
			found = lsec_store__name_holder(
				st,
				"SELECT u.serial FROM identities i JOIN units u ON u.id = i.unit_id"
				" WHERE i.cert_serial = ?",
				cert_serial, "record identity of unit", serial, "certificate serial",
				err);
		}
		rc = found < 0 ? found : LSEC_E_EXISTS;
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

typedef struct ident_ctx {
	lsec_store_identity *out;
	lsec_buf *der;
	bool found;
} ident_ctx;

static int row_identity(void *ctx, const store_val *c, size_t ncols, lsec_err *err)
{
	int rc = 0;
	ident_ctx *x = ctx;
	(void)ncols;
	x->out->id = c[0].i;
	lsec_store__copy(x->out->serial, sizeof(x->out->serial), &c[1]);
	lsec_store__copy(x->out->key_fp, sizeof(x->out->key_fp), &c[2]);
	lsec_store__copy(x->out->cert_serial, sizeof(x->out->cert_serial), &c[3]);
	x->out->state = key_state_of(c[4].s);
	lsec_store__copy(x->out->created, sizeof(x->out->created), &c[5]);
	lsec_store__copy(x->out->updated, sizeof(x->out->updated), &c[6]);
	if (x->der != NULL && c[7].t == SV_BLOB && c[7].n > 0) {
		LSEC_TRY(lsec_buf_append(x->der, c[7].b, c[7].n, err));
	}
	x->found = true;
out:
	return rc;
}

int lsec_store_identity_get(lsec_store_identity *out, lsec_buf *cert_der_out, lsec_store *st,
			    const char *key_fp, lsec_err *err)
{
	int rc = 0;
	ident_ctx x = {out, cert_der_out, false};
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(key_fp);
	store_val p[] = {SV_S(key_fp)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT i.id, u.serial, i.key_fp, i.cert_serial, i.key_state,"
				   " i.created, i.updated, i.cert_der FROM identities i"
				   " JOIN units u ON u.id = i.unit_id WHERE i.key_fp = ?",
				   p, 1, row_identity, &x, err));
	LSEC_ENSURE(x.found, LSEC_E_NOTFOUND, "no identity with key fingerprint '%s'", key_fp);
out:
	return rc;
}

int lsec_store_identity_set_state(lsec_store *st, const char *key_fp, lsec_key_state to,
				  lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_identity id;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE((unsigned)to < LSEC_KEY_STATE_COUNT, LSEC_E_USAGE,
		    "cannot change key '%s': unknown key state %d", key_fp ? key_fp : "", (int)to);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_identity_get(&id, NULL, st, key_fp, err));
	LSEC_ENSURE(key_transition_allowed(id.state, to), LSEC_E_STORE_TRANSITION,
		    "cannot change key '%s' of unit '%s' from '%s' to '%s': not a key state "
		    "transition of NIST SP 800-57",
		    key_fp, id.serial, lsec_key_state_name(id.state), lsec_key_state_name(to));
	lsec_time_utc(now);
	store_val p[] = {SV_S(lsec_key_state_name(to)), SV_S(now), SV_I(id.id),
			 SV_S(lsec_key_state_name(id.state))};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE identities SET key_state = ?, updated = ?"
				   " WHERE id = ? AND key_state = ?",
				   p, 4, NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_STATE,
		    "cannot change key '%s': another station changed it first", key_fp);
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_credential_add(lsec_store *st, const char *serial, const char *keyed_fp,
			      lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t unit_id = 0;
	char now[32];
	lsec_store_credential *creds = NULL;
	size_t n = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(keyed_fp, "credential fingerprint", LSEC_STORE_FP_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	LSEC_TRY(refuse_retired(st, serial, "credential", err));
	LSEC_TRY(lsec_store_credential_list(&creds, &n, st, serial, err));
	for (size_t i = 0; i < n; i++) {
		LSEC_ENSURE(creds[i].revoked[0] != '\0', LSEC_E_STATE,
			    "cannot record a second credential of unit '%s': it holds a valid one "
			    "(recorded %s) and a unit has at most one; replacing it takes two "
			    "security officers ('linesec ca cred-replace', then 'linesec ca "
			    "cred-approve')",
			    serial, creds[i].created);
	}
	lsec_time_utc(now);
	store_val p[] = {SV_I(unit_id), SV_S(keyed_fp), SV_S(now)};
	rc = lsec_store__insert_guarded(st,
					"INSERT INTO credentials (unit_id, keyed_fp, created)"
					" VALUES (?, ?, ?)",
					p, 3, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		int found = lsec_store__name_holder(
			st,
			"SELECT u.serial FROM credentials c JOIN units u ON u.id = c.unit_id"
			" WHERE c.keyed_fp = ?",
			keyed_fp, "record credential of unit", serial, "credential fingerprint", err);
		rc = found < 0 ? found : LSEC_E_EXISTS;
	}
out:
	lsec_free(creds);
	return lsec_store_tx_end(&tx, rc, err);
}

static void fill_identity(void *rec, const store_val *c)
{
	lsec_store_identity *x = rec;
	x->id = c[0].i;
	lsec_store__copy(x->serial, sizeof(x->serial), &c[1]);
	lsec_store__copy(x->key_fp, sizeof(x->key_fp), &c[2]);
	lsec_store__copy(x->cert_serial, sizeof(x->cert_serial), &c[3]);
	x->state = key_state_of(c[4].s);
	lsec_store__copy(x->created, sizeof(x->created), &c[5]);
	lsec_store__copy(x->updated, sizeof(x->updated), &c[6]);
}

int lsec_store_identity_list(lsec_store_identity **out, size_t *n_out, lsec_store *st,
			     const char *serial, lsec_err *err)
{
	return lsec_store__list_for_unit(st,
					 "SELECT i.id, u.serial, i.key_fp, i.cert_serial, i.key_state,"
					 " i.created, i.updated FROM identities i"
					 " JOIN units u ON u.id = i.unit_id WHERE i.unit_id = ?"
					 " ORDER BY i.id",
					 serial, fill_identity, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_identity_list_all(lsec_store_identity **out, size_t *n_out, lsec_store *st,
				 lsec_err *err)
{
	/* LEFT JOIN: a row whose unit is gone is listed too, with serial "". */
	return lsec_store__list(st,
				"SELECT i.id, u.serial, i.key_fp, i.cert_serial, i.key_state,"
				" i.created, i.updated FROM identities i"
				" LEFT JOIN units u ON u.id = i.unit_id ORDER BY i.id",
				NULL, 0, fill_identity, sizeof(**out), (void **)out, n_out, err);
}

static void fill_credential(void *rec, const store_val *c)
{
	lsec_store_credential *x = rec;
	x->id = c[0].i;
	lsec_store__copy(x->serial, sizeof(x->serial), &c[1]);
	lsec_store__copy(x->created, sizeof(x->created), &c[2]);
	lsec_store__copy(x->revoked, sizeof(x->revoked), &c[3]);
	lsec_store__copy(x->keyed_fp, sizeof(x->keyed_fp), &c[4]);
}

int lsec_store_credential_list(lsec_store_credential **out, size_t *n_out, lsec_store *st,
			       const char *serial, lsec_err *err)
{
	return lsec_store__list_for_unit(st,
					 "SELECT c.id, u.serial, c.created, c.revoked, c.keyed_fp FROM credentials c"
					 " JOIN units u ON u.id = c.unit_id WHERE c.unit_id = ?"
					 " ORDER BY c.id",
					 serial, fill_credential, sizeof(**out), (void **)out, n_out,
					 err);
}

int lsec_store_credential_revoke(size_t *n_out, lsec_store *st, const char *serial,
				 lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t unit_id = 0;
	char now[32];
	if (n_out != NULL) {
		*n_out = 0;
	}
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(now), SV_I(unit_id)};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE credentials SET revoked = ?"
				   " WHERE unit_id = ? AND revoked IS NULL",
				   p, 2, NULL, NULL, err));
	if (n_out != NULL) {
		*n_out = (size_t)st->ops->changes(st);
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}
