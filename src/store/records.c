/*
 * records.c - releases, SOP versions and product keys (with two-person approval), SOP
 * runs and their steps with evidence, revocations and scrap records.
 */
#include "store/store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ---- approvables: releases and SOP versions share one shape ------------------ */

typedef struct approvable_kind {
	const char *what;     /* "release", "SOP version" */
	const char *name_what; /* "product", "SOP" */
	const char *sql_insert;
	const char *sql_id;
	const char *sql_get;
	const char *sql_list_all;
	const char *sql_list_one;
	const char *sql_approve;
	const char *sql_approvers;
} approvable_kind;

static const approvable_kind release_kind = {
	"release",
	"product",
	"INSERT INTO releases (product, version, digest, manifest, created_by, created)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"SELECT id FROM releases WHERE product = ? AND version = ?",
	"SELECT id, product, version, digest, created_by, created, revoked, revoked_by, manifest"
	" FROM releases WHERE product = ? AND version = ?",
	"SELECT id, product, version, digest, created_by, created, revoked, revoked_by"
	" FROM releases ORDER BY product, id",
	"SELECT id, product, version, digest, created_by, created, revoked, revoked_by"
	" FROM releases WHERE product = ? ORDER BY product, id",
	"INSERT INTO release_approvals (release_id, person, created) VALUES (?, ?, ?)",
	"SELECT person FROM release_approvals WHERE release_id = ? ORDER BY created, person",
};

static const approvable_kind sop_kind = {
	"SOP version",
	"SOP",
	"INSERT INTO sop_versions (sop, version, digest, body, created_by, created)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"SELECT id FROM sop_versions WHERE sop = ? AND version = ?",
	"SELECT id, sop, version, digest, created_by, created, NULL, NULL, body FROM sop_versions"
	" WHERE sop = ? AND version = ?",
	"SELECT id, sop, version, digest, created_by, created, NULL, NULL FROM sop_versions"
	" ORDER BY sop, id",
	"SELECT id, sop, version, digest, created_by, created, NULL, NULL FROM sop_versions"
	" WHERE sop = ? ORDER BY sop, id",
	"INSERT INTO sop_approvals (sop_version_id, person, created) VALUES (?, ?, ?)",
	"SELECT person FROM sop_approvals WHERE sop_version_id = ? ORDER BY created, person",
};

static const approvable_kind product_key_kind = {
	"product key",
	"product",
	"INSERT INTO product_keys (product, version, digest, spki, created_by, created)"
	" VALUES (?, ?, ?, ?, ?, ?)",
	"SELECT id FROM product_keys WHERE product = ? AND version = ?",
	"SELECT id, product, version, digest, created_by, created, NULL, NULL, spki"
	" FROM product_keys WHERE product = ? AND version = ?",
	"SELECT id, product, version, digest, created_by, created, NULL, NULL"
	" FROM product_keys ORDER BY product, id",
	"SELECT id, product, version, digest, created_by, created, NULL, NULL"
	" FROM product_keys WHERE product = ? ORDER BY product, id",
	"INSERT INTO product_key_approvals (product_key_id, person, created) VALUES (?, ?, ?)",
	"SELECT person FROM product_key_approvals WHERE product_key_id = ?"
	" ORDER BY created, person",
};

static int approvable_add(lsec_store *st, const approvable_kind *k, int64_t *id_out,
			  const char *name, const char *version, const char *digest,
			  const char *body, const char *created_by, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t id = 0;
	char now[32];
	if (id_out != NULL) {
		*id_out = 0;
	}
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(name, k->name_what, LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(version, "version", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(digest, "digest", LSEC_STORE_FP_MAX, err));
	LSEC_TRY(lsec_store__check_name(created_by, "person", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(name), SV_S(version), SV_S(digest), SV_S(body), SV_S(created_by),
			 SV_S(now)};
	rc = lsec_store__query(st, k->sql_insert, p, 6, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		LSEC_BAIL(rc, "cannot add %s '%s' version '%s': it already exists", k->what, name,
			  version);
	}
	LSEC_TRY(rc);
	store_val q[] = {SV_S(name), SV_S(version)};
	LSEC_TRY(lsec_store__query(st, k->sql_id, q, 2, lsec_store__row_int, &id, err));
	if (id_out != NULL) {
		*id_out = id;
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

static int row_approver(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	(void)ncols;
	(void)err;
	lsec_store_approvable *a = ctx;
	if (a->n_approvals < 2) {
		lsec_store__copy(a->approvers[a->n_approvals], sizeof(a->approvers[0]), &cols[0]);
	}
	a->n_approvals++;
	a->approved = a->n_approvals >= 2;
	return 0;
}

static void fill_approvable(void *rec, const store_val *c)
{
	lsec_store_approvable *a = rec;
	memset(a, 0, sizeof(*a));
	a->id = c[0].i;
	lsec_store__copy(a->name, sizeof(a->name), &c[1]);
	lsec_store__copy(a->version, sizeof(a->version), &c[2]);
	lsec_store__copy(a->digest, sizeof(a->digest), &c[3]);
	lsec_store__copy(a->created_by, sizeof(a->created_by), &c[4]);
	lsec_store__copy(a->created, sizeof(a->created), &c[5]);
	lsec_store__copy(a->revoked, sizeof(a->revoked), &c[6]);
	lsec_store__copy(a->revoked_by, sizeof(a->revoked_by), &c[7]);
}

typedef struct approvable_get_ctx {
	lsec_store_approvable *out;
	lsec_buf *body;
	bool found;
} approvable_get_ctx;

static int row_approvable_get(void *ctx, const store_val *cols, size_t ncols, lsec_err *err)
{
	int rc = 0;
	(void)ncols;
	approvable_get_ctx *x = ctx;
	fill_approvable(x->out, cols);
	if (x->body != NULL && cols[8].t == SV_TEXT && cols[8].n > 0) {
		LSEC_TRY(lsec_buf_append(x->body, cols[8].s, cols[8].n, err));
	}
	x->found = true;
out:
	return rc;
}

static int approvable_get(lsec_store *st, const approvable_kind *k, lsec_store_approvable *out,
			  lsec_buf *body_out, const char *name, const char *version,
			  lsec_err *err)
{
	int rc = 0;
	approvable_get_ctx x = {out, body_out, false};
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE_REF(version);
	store_val p[] = {SV_S(name), SV_S(version)};
	LSEC_TRY(lsec_store__query(st, k->sql_get, p, 2, row_approvable_get, &x, err));
	LSEC_ENSURE(x.found, LSEC_E_NOTFOUND, "%s '%s' version '%s' not found", k->what, name,
		    version);
	store_val q[] = {SV_I(out->id)};
	LSEC_TRY(lsec_store__query(st, k->sql_approvers, q, 1, row_approver, out, err));
out:
	return rc;
}

static int approvable_approve(lsec_store *st, const approvable_kind *k, const char *name,
			      const char *version, const char *person, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable a;
	char now[32];
	LSEC_TRY(lsec_store__check_name(person, "approver", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(approvable_get(st, k, &a, NULL, name, version, err));
	lsec_time_utc(now);
	store_val p[] = {SV_I(a.id), SV_S(person), SV_S(now)};
	rc = lsec_store__insert_guarded(st, k->sql_approve, p, 3, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		LSEC_BAIL(LSEC_E_STORE_APPROVAL,
			  "cannot approve %s '%s' version '%s': '%s' already approved it; a second "
			  "approval must come from someone else",
			  k->what, name, version, person);
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

static int approvable_list(lsec_store *st, const approvable_kind *k,
			   lsec_store_approvable **out, size_t *n_out, const char *name,
			   lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *v = NULL;
	size_t n = 0;
	*out = NULL;
	*n_out = 0;
	if (name != NULL) {
		store_val p[] = {SV_S(name)};
		LSEC_TRY(lsec_store__list(st, k->sql_list_one, p, 1, fill_approvable, sizeof(*v),
					  (void **)&v, &n, err));
	} else {
		LSEC_TRY(lsec_store__list(st, k->sql_list_all, NULL, 0, fill_approvable, sizeof(*v),
					  (void **)&v, &n, err));
	}
	for (size_t i = 0; i < n; i++) {
		store_val q[] = {SV_I(v[i].id)};
		LSEC_TRY(lsec_store__query(st, k->sql_approvers, q, 1, row_approver, &v[i], err));
	}
	*out = v;
	*n_out = n;
	v = NULL;
out:
	lsec_free(v);
	return rc;
}

int lsec_store_release_add(int64_t *id_out, lsec_store *st, const char *product,
			   const char *version, const char *digest, const char *manifest,
			   const char *created_by, lsec_err *err)
{
	return approvable_add(st, &release_kind, id_out, product, version, digest, manifest,
			      created_by, err);
}

int lsec_store_release_approve(lsec_store *st, const char *product, const char *version,
			       const char *person, lsec_err *err)
{
	return approvable_approve(st, &release_kind, product, version, person, err);
}

int lsec_store_release_revoke(lsec_store *st, const char *product, const char *version,
			      const char *person, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable a;
	char now[32];
	LSEC_TRY(lsec_store__check_name(person, "revoker", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(approvable_get(st, &release_kind, &a, NULL, product, version, err));
	LSEC_ENSURE(a.revoked[0] == '\0', LSEC_E_EXISTS,
		    "cannot revoke release '%s' version '%s': '%s' revoked it at %s", product,
		    version, a.revoked_by, a.revoked);
	lsec_time_utc(now);
	store_val p[] = {SV_S(now), SV_S(person), SV_I(a.id)};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE releases SET revoked = ?, revoked_by = ?"
				   " WHERE id = ? AND revoked IS NULL",
				   p, 3, NULL, NULL, err));
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_release_get(lsec_store_approvable *out, lsec_buf *manifest_out, lsec_store *st,
			   const char *product, const char *version, lsec_err *err)
{
	return approvable_get(st, &release_kind, out, manifest_out, product, version, err);
}

int lsec_store_release_list(lsec_store_approvable **out, size_t *n_out, lsec_store *st,
			    const char *product, lsec_err *err)
{
	return approvable_list(st, &release_kind, out, n_out, product, err);
}

int lsec_store_sop_add(int64_t *id_out, lsec_store *st, const char *sop, const char *version,
		       const char *digest, const char *body, const char *created_by,
		       lsec_err *err)
{
	return approvable_add(st, &sop_kind, id_out, sop, version, digest, body, created_by, err);
}

int lsec_store_sop_approve(lsec_store *st, const char *sop, const char *version,
			   const char *person, lsec_err *err)
{
	return approvable_approve(st, &sop_kind, sop, version, person, err);
}

int lsec_store_sop_get(lsec_store_approvable *out, lsec_buf *body_out, lsec_store *st,
		       const char *sop, const char *version, lsec_err *err)
{
	return approvable_get(st, &sop_kind, out, body_out, sop, version, err);
}

int lsec_store_sop_list(lsec_store_approvable **out, size_t *n_out, lsec_store *st,
			const char *sop, lsec_err *err)
{
	return approvable_list(st, &sop_kind, out, n_out, sop, err);
}

int lsec_store_product_key_add(int64_t *id_out, lsec_store *st, const char *product,
			       const char *version, const char *digest, const char *spki,
			       const char *created_by, lsec_err *err)
{
	return approvable_add(st, &product_key_kind, id_out, product, version, digest, spki,
			      created_by, err);
}

int lsec_store_product_key_approve(lsec_store *st, const char *product, const char *version,
				   const char *person, lsec_err *err)
{
	return approvable_approve(st, &product_key_kind, product, version, person, err);
}

int lsec_store_product_key_get(lsec_store_approvable *out, lsec_buf *spki_out, lsec_store *st,
			       const char *product, const char *version, lsec_err *err)
{
	return approvable_get(st, &product_key_kind, out, spki_out, product, version, err);
}

int lsec_store_product_key_list(lsec_store_approvable **out, size_t *n_out, lsec_store *st,
				const char *product, lsec_err *err)
{
	return approvable_list(st, &product_key_kind, out, n_out, product, err);
}

/* ---- runs and steps ---------------------------------------------------------- */

int lsec_store_run_begin(int64_t *run_id_out, lsec_store *st, const char *serial,
			 const char *sop, const char *sop_version, const char *person,
			 const char *station, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t unit_id = 0, id = 0;
	char now[32];
	*run_id_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(sop, "SOP", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(sop_version, "SOP version", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(person, "person", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(station, "station", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	lsec_time_utc(now);
	store_val p[] = {SV_I(unit_id), SV_S(sop), SV_S(sop_version), SV_S(person), SV_S(station),
			 SV_S(now)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO runs (unit_id, sop, sop_version, person, station,"
				   " started) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
				   p, 6, lsec_store__row_int, &id, err));
	*run_id_out = id;
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_run_set_release(lsec_store *st, int64_t run_id, const char *release,
			       lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(release, "release", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	store_val p[] = {SV_S(release), SV_I(run_id)};
	LSEC_TRY(lsec_store__query(st, "UPDATE runs SET release = ? WHERE id = ?", p, 2, NULL, NULL,
				   err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_NOTFOUND,
		    "cannot record the release of run %lld: no such run", (long long)run_id);
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_run_set_socket(lsec_store *st, int64_t run_id, unsigned socket, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(socket >= 1, LSEC_E_USAGE, "socket %u of run %lld: sockets count from 1",
		    socket, (long long)run_id);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	store_val p[] = {SV_I((int64_t)socket), SV_I(run_id)};
	LSEC_TRY(lsec_store__query(st, "UPDATE runs SET socket = ? WHERE id = ?", p, 2, NULL, NULL,
				   err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_NOTFOUND,
		    "cannot record the socket of run %lld: no such run", (long long)run_id);
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_run_finish(lsec_store *st, int64_t run_id, const char *outcome, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(outcome, "run outcome", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(outcome), SV_S(now), SV_I(run_id)};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE runs SET outcome = ?, finished = ?"
				   " WHERE id = ? AND outcome IS NULL",
				   p, 3, NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_STATE,
		    "cannot finish run %lld: no such open run", (long long)run_id);
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_step_begin(int64_t *step_id_out, lsec_store *st, int64_t run_id,
			  const char *step, const char *person, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t open_run = 0, id = 0;
	char now[32];
	*step_id_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(step, "step", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(person, "person", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	store_val q[] = {SV_I(run_id)};
	LSEC_TRY(lsec_store__query(st, "SELECT id FROM runs WHERE id = ? AND outcome IS NULL", q,
				   1, lsec_store__row_int, &open_run, err));
	LSEC_ENSURE(open_run != 0, LSEC_E_STATE, "cannot begin step '%s': run %lld is not open",
		    step, (long long)run_id);
	lsec_time_utc(now);
	store_val p[] = {SV_I(run_id), SV_S(step), SV_S(person), SV_S(now)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO steps (run_id, step, person, started)"
				   " VALUES (?, ?, ?, ?) RETURNING id",
				   p, 4, lsec_store__row_int, &id, err));
	*step_id_out = id;
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_step_finish(lsec_store *st, int64_t step_id, const char *outcome,
			   const char *witness, const struct json_t *evidence, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char *ev = NULL;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(outcome, "step outcome", LSEC_STORE_NAME_MAX, err));
	if (witness != NULL) {
		LSEC_TRY(lsec_store__check_name(witness, "witness", LSEC_STORE_NAME_MAX, err));
	}
	if (evidence != NULL) {
		LSEC_TRY(lsec_json_canonical(&ev, evidence, err));
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(outcome), SV_S(witness), SV_S(ev), SV_S(now), SV_I(step_id)};
	LSEC_TRY(lsec_store__query(st,
				   "UPDATE steps SET outcome = ?, witness = ?, evidence = ?,"
				   " finished = ? WHERE id = ? AND outcome IS NULL",
				   p, 5, NULL, NULL, err));
	LSEC_ENSURE(st->ops->changes(st) == 1, LSEC_E_STATE,
		    "cannot finish step %lld: no such open step", (long long)step_id);
out:
	lsec_free(ev);
	return lsec_store_tx_end(&tx, rc, err);
}

static void fill_run(void *rec, const store_val *c)
{
	lsec_store_run *r = rec;
	r->id = c[0].i;
	lsec_store__copy(r->serial, sizeof(r->serial), &c[1]);
	lsec_store__copy(r->sop, sizeof(r->sop), &c[2]);
	lsec_store__copy(r->sop_version, sizeof(r->sop_version), &c[3]);
	lsec_store__copy(r->person, sizeof(r->person), &c[4]);
	lsec_store__copy(r->station, sizeof(r->station), &c[5]);
	lsec_store__copy(r->outcome, sizeof(r->outcome), &c[6]);
	lsec_store__copy(r->started, sizeof(r->started), &c[7]);
	lsec_store__copy(r->finished, sizeof(r->finished), &c[8]);
	lsec_store__copy(r->release, sizeof(r->release), &c[9]);
}

int lsec_store__list_for_unit(lsec_store *st, const char *sql, const char *serial,
			      store_fill_fn fill, size_t elem, void **out, size_t *n_out,
			      lsec_err *err)
{
	int rc = 0;
	int64_t unit_id = 0;
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	store_val p[] = {SV_I(unit_id)};
	LSEC_TRY(lsec_store__list(st, sql, p, 1, fill, elem, out, n_out, err));
out:
	return rc;
}

int lsec_store_run_list(lsec_store_run **out, size_t *n_out, lsec_store *st, const char *serial,
			lsec_err *err)
{
	return lsec_store__list_for_unit(st,
					 "SELECT r.id, u.serial, r.sop, r.sop_version, r.person,"
					 " r.station, r.outcome, r.started, r.finished, r.release"
					 " FROM runs r JOIN units u ON u.id = r.unit_id WHERE r.unit_id = ?"
					 " ORDER BY r.id",
					 serial, fill_run, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_run_list_all(lsec_store_run **out, size_t *n_out, lsec_store *st, lsec_err *err)
{
	return lsec_store__list(st,
				"SELECT r.id, u.serial, r.sop, r.sop_version, r.person,"
				" r.station, r.outcome, r.started, r.finished, r.release FROM runs r"
				" LEFT JOIN units u ON u.id = r.unit_id ORDER BY r.id",
				NULL, 0, fill_run, sizeof(**out), (void **)out, n_out, err);
}

static void fill_socket_run(void *rec, const store_val *c)
{
	lsec_store_socket_run *r = rec;
	lsec_store__copy(r->station, sizeof(r->station), &c[0]);
	r->socket = c[1].t == SV_INT && c[1].i > 0 ? (unsigned)c[1].i : 0;
	r->run_id = c[2].i;
	lsec_store__copy(r->serial, sizeof(r->serial), &c[3]);
	lsec_store__copy(r->sop, sizeof(r->sop), &c[4]);
	lsec_store__copy(r->person, sizeof(r->person), &c[5]);
	lsec_store__copy(r->outcome, sizeof(r->outcome), &c[6]);
	lsec_store__copy(r->started, sizeof(r->started), &c[7]);
	lsec_store__copy(r->finished, sizeof(r->finished), &c[8]);
	lsec_store__copy(r->step, sizeof(r->step), &c[9]);
	lsec_store__copy(r->step_outcome, sizeof(r->step_outcome), &c[10]);
}

int lsec_store_socket_runs(lsec_store_socket_run **out, size_t *n_out, lsec_store *st,
			   lsec_err *err)
{
	/* The newest run of each (station, socket) and the newest step of that run. */
	return lsec_store__list(st,
				"SELECT r.station, r.socket, r.id, u.serial, r.sop, r.person,"
				" r.outcome, r.started, r.finished,"
				" (SELECT s.step FROM steps s WHERE s.run_id = r.id"
				"  ORDER BY s.id DESC LIMIT 1),"
				" (SELECT s.outcome FROM steps s WHERE s.run_id = r.id"
				"  ORDER BY s.id DESC LIMIT 1)"
				" FROM runs r LEFT JOIN units u ON u.id = r.unit_id"
				" WHERE r.id IN (SELECT MAX(id) FROM runs WHERE socket IS NOT NULL"
				"  GROUP BY station, socket)"
				" ORDER BY r.station, r.socket",
				NULL, 0, fill_socket_run, sizeof(**out), (void **)out, n_out, err);
}

static void fill_step(void *rec, const store_val *c)
{
	lsec_store_step *s = rec;
	uint8_t h[32];
	s->id = c[0].i;
	s->run_id = c[1].i;
	lsec_store__copy(s->step, sizeof(s->step), &c[2]);
	lsec_store__copy(s->person, sizeof(s->person), &c[3]);
	lsec_store__copy(s->witness, sizeof(s->witness), &c[4]);
	lsec_store__copy(s->outcome, sizeof(s->outcome), &c[5]);
	/* The evidence as its SHA-256: what a step leaf's evidence is compared by. */
	if (c[6].t == SV_TEXT) {
		if (lsec_sha256(h, c[6].s, strlen(c[6].s), NULL) == 0) {
			lsec_hex_encode(s->evidence_sha256, h, sizeof(h));
		} else {
			snprintf(s->evidence_sha256, sizeof(s->evidence_sha256), "(unreadable)");
		}
	}
}

int lsec_store_step_list_all(lsec_store_step **out, size_t *n_out, lsec_store *st,
			     lsec_err *err)
{
	return lsec_store__list(st,
				"SELECT id, run_id, step, person, witness, outcome, evidence"
				" FROM steps ORDER BY run_id, id",
				NULL, 0, fill_step, sizeof(**out), (void **)out, n_out, err);
}

/* ---- revocations and scrap --------------------------------------------------- */

int lsec_store_revocation_add(lsec_store *st, const char *serial, const char *cert_serial,
			      const char *reason, const char *person, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t unit_id = 0;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(cert_serial, "certificate serial", LSEC_STORE_FP_MAX, err));
	LSEC_TRY(lsec_store__check_name(reason, "revocation reason", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(person, "person", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	lsec_time_utc(now);
	store_val p[] = {SV_I(unit_id), SV_S(cert_serial), SV_S(reason), SV_S(person), SV_S(now)};
	rc = lsec_store__insert_guarded(st,
					"INSERT INTO revocations (unit_id, cert_serial, reason, person,"
					" created) VALUES (?, ?, ?, ?, ?)",
					p, 5, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		LSEC_BAIL(rc, "cannot revoke certificate '%s' of unit '%s': it is already revoked",
			  cert_serial, serial);
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

static void fill_record(void *rec, const store_val *c)
{
	lsec_store_record *r = rec;
	r->id = c[0].i;
	lsec_store__copy(r->serial, sizeof(r->serial), &c[1]);
	lsec_store__copy(r->subject, sizeof(r->subject), &c[2]);
	lsec_store__copy(r->reason, sizeof(r->reason), &c[3]);
	lsec_store__copy(r->person, sizeof(r->person), &c[4]);
	lsec_store__copy(r->witness, sizeof(r->witness), &c[5]);
	lsec_store__copy(r->created, sizeof(r->created), &c[6]);
}

int lsec_store_revocation_list(lsec_store_record **out, size_t *n_out, lsec_store *st,
			       lsec_err *err)
{
	return lsec_store__list(st,
			   "SELECT r.id, u.serial, r.cert_serial, r.reason, r.person, NULL,"
			   " r.created FROM revocations r JOIN units u ON u.id = r.unit_id"
			   " ORDER BY r.id",
			   NULL, 0, fill_record, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_scrap_add(lsec_store *st, const char *serial, const char *method,
			 const char *person, const char *witness, const char *note, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	int64_t unit_id = 0;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(method, "scrap method", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(person, "person", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(witness, "witness", LSEC_STORE_NAME_MAX, err));
	LSEC_ENSURE(strcmp(person, witness) != 0, LSEC_E_STORE_APPROVAL,
		    "cannot record scrap of unit '%s': the witness must be someone other than "
		    "'%s'",
		    serial ? serial : "", person);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store__unit_id(st, serial, &unit_id, err));
	lsec_time_utc(now);
	store_val p[] = {SV_I(unit_id), SV_S(method), SV_S(person), SV_S(witness), SV_S(note),
			 SV_S(now)};
	rc = lsec_store__insert_guarded(st,
					"INSERT INTO scrap_records (unit_id, method, person, witness,"
					" note, created) VALUES (?, ?, ?, ?, ?, ?)",
					p, 6, NULL, NULL, err);
	if (rc == LSEC_E_EXISTS) {
		LSEC_BAIL(rc, "cannot record scrap of unit '%s': it is already recorded as scrapped",
			  serial);
	}
out:
	return lsec_store_tx_end(&tx, rc, err);
}

int lsec_store_scrap_list(lsec_store_record **out, size_t *n_out, lsec_store *st, lsec_err *err)
{
	return lsec_store__list(st,
			   "SELECT s.id, u.serial, s.method, s.note, s.person, s.witness,"
			   " s.created FROM scrap_records s JOIN units u ON u.id = s.unit_id"
			   " ORDER BY s.id",
			   NULL, 0, fill_record, sizeof(**out), (void **)out, n_out, err);
}
