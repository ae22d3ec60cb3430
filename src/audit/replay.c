/*
 * replay.c - the state replay of `linesec audit verify`: every row of the
 * registry's state tables checked against what the log's leaves record.
 *
 * One streaming pass over the leaves (each one's bytes checked against its
 * stored hash) builds the replayed state in memory, in one hash table keyed
 * by (table, natural key): units by serial, runs by id, identities by key
 * fingerprint, releases by product@version, SOP versions by sop@version,
 * people by name, credentials by keyed fingerprint, revocations by
 * certificate serial, scrap records by serial, step attempts by id. Then each table's rows are
 * listed once and compared with it. The state can be kept as text and
 * resumed from (lsec_audit_state_verify_from), so only later leaves are
 * read. Which leaf records what is in docs/audit-log.md; the evidence keys
 * are the LSEC_EV_* of audit.h.
 *
 * @test tests/unit/audit/test_replay.c
 */
#include "audit/audit_int.h"

#include "linesec/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	T_UNITS,
	T_RUNS,
	T_IDENTITIES,
	T_RELEASES,
	T_SOPS,
	T_PEOPLE,
	T_CREDS,
	T_REVOCATIONS,
	T_SCRAP,
	T_PRODUCT_KEYS,
	T_CHANGES,
	T_STEPS,
	T_SOP_ACKS,
	T_SOP_WITHDRAWALS,
	T_OPEN_RUN, /* not a registry table: each unit's latest run, for older step leaves */
	T_COUNT
};
#define NCOL 6
/* Largest SOP body read back to hash (bytes). */
#define BODY_MAX (4u << 20)

/* The state tables and the columns compared, as the registry names them. */
static const struct {
	const char *name;
	const char *cols[NCOL];
} tables[T_COUNT] = {
	[T_UNITS] = {"units", {"uid", "product", "state", "station", NULL}},
	[T_RUNS] = {"runs", {"serial", "sop", "sop_version", "outcome", "release"}},
	[T_IDENTITIES] = {"identities", {"serial", "cert_serial", "key_state", "cert_der", NULL}},
	[T_RELEASES] = {"releases", {"digest", "revoked", "approvals", "manifest", NULL}},
	[T_SOPS] = {"sop_versions", {"digest", "body", "approvals", NULL}},
	[T_PEOPLE] = {"people", {"role", "disabled", "pw_hash", NULL}},
	[T_CREDS] = {"credentials", {"serial", "revoked", NULL, NULL}},
	[T_REVOCATIONS] = {"revocations", {"serial", "reason", "person", NULL}},
	[T_SCRAP] = {"scrap_records", {"method", "person", "witness", NULL}},
	[T_PRODUCT_KEYS] = {"product_keys", {"digest", "spki", "approvals", NULL}},
	[T_CHANGES] = {"change_requests", {"kind", "payload", "state", "requested_by", "decided_by"}},
	[T_STEPS] = {"steps", {"run_id", "step", "person", "witness", "outcome", "evidence"}},
	[T_SOP_ACKS] = {"sop_acknowledgements", {"digest", NULL}},
	[T_SOP_WITHDRAWALS] = {"sop_withdrawals", {"change_id", "withdrawn_by", NULL}},
	[T_OPEN_RUN] = {NULL, {NULL}},
};
/* Column indexes used by name below. */
enum { C_UNIT_UID = 0, C_UNIT_PRODUCT = 1, C_UNIT_STATE = 2, C_UNIT_STATION = 3 };
enum { C_RUN_SERIAL = 0, C_RUN_SOP = 1, C_RUN_VERSION = 2, C_RUN_OUTCOME = 3, C_RUN_RELEASE = 4 };
enum { C_ID_SERIAL = 0, C_ID_CERT = 1, C_ID_STATE = 2, C_ID_DER = 3 }; /* cert_der as its SHA-256 */
enum { C_DIGEST = 0, C_REVOKED = 1, C_SOP_BODY = 1, C_KEY_SPKI = 1, C_APPROVALS = 2 };
enum { C_REL_MANIFEST = 3 }; /* the manifest as its SHA-256 */
enum { C_ROLE = 0, C_DISABLED = 1, C_PW = 2 }; /* pw_hash as its SHA-256 */
enum { C_CRED_SERIAL = 0, C_CRED_REVOKED = 1 };
enum { C_REV_SERIAL = 0, C_REV_REASON = 1, C_REV_PERSON = 2 };
enum { C_SCRAP_METHOD = 0, C_SCRAP_PERSON = 1, C_SCRAP_WITNESS = 2 };
enum { C_CH_KIND = 0, C_CH_PAYLOAD = 1, C_CH_STATE = 2, C_CH_BY = 3, C_CH_DECIDED_BY = 4 };
/* evidence as its SHA-256 */
enum { C_ST_RUN = 0, C_ST_STEP = 1, C_ST_PERSON = 2, C_ST_WITNESS = 3, C_ST_OUTCOME = 4, C_ST_EV = 5 };
enum { C_ACK_DIGEST = 0 };                  /* key: SOP@version@person */
enum { C_WD_CHANGE = 0, C_WD_BY = 1 };      /* key: SOP@version (the reason is not compared) */
enum { C_OPEN_RUN = 0, C_OPEN_ATTEMPTS = 1 }; /* T_OPEN_RUN: the run id, its step attempts */

/* One replayed row. A column the log does not speak of stays NULL and is not compared. */
typedef struct row {
	char *key;
	char *col[NCOL];
	uint64_t seq[NCOL]; /* the leaf that set each column */
	uint64_t seq0;      /* the leaf that first named the row */
	char *approver[2];  /* the first two approvers, in log order */
	unsigned napprovals;
	uint64_t approvals_seq;
	uint8_t table;
	bool seen;
} row;

typedef struct replay {
	row *rows;
	size_t n, cap;
	size_t *slots; /* row index + 1; 0 is empty */
	size_t nslots; /* a power of two, at least twice n */
	lsec_audit_state_report *rep;
	size_t diff_cap;
} replay;

static bool eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok - public names */
}

static uint64_t hash_key(unsigned table, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ table;
	for (const unsigned char *p = (const unsigned char *)key; *p != 0; p++) {
		h = (h ^ *p) * 1099511628211ULL;
	}
	return h;
}

static row *find(const replay *rp, unsigned table, const char *key)
{
	if (rp->nslots == 0) {
		return NULL;
	}
	size_t mask = rp->nslots - 1;
	for (size_t i = (size_t)hash_key(table, key) & mask;; i = (i + 1) & mask) {
		if (rp->slots[i] == 0) {
			return NULL;
		}
		row *r = &rp->rows[rp->slots[i] - 1];
		if (r->table == table && eq(r->key, key)) {
			return r;
		}
	}
}

static void slot_put(size_t *slots, size_t nslots, const row *r, size_t index)
{
	size_t i = (size_t)hash_key(r->table, r->key) & (nslots - 1);
	while (slots[i] != 0) {
		i = (i + 1) & (nslots - 1);
	}
	slots[i] = index + 1;
}

/* The row (table, key), made when the log names it first at leaf seq. */
static int row_get(row **out, replay *rp, unsigned table, const char *key, uint64_t seq,
		   lsec_err *err)
{
	int rc = 0;
	*out = find(rp, table, key);
	if (*out != NULL) {
		goto out;
	}
	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 256;
		row *rows = lsec_realloc(rp->rows, cap * sizeof(*rows));
		LSEC_ENSURE(rows != NULL, LSEC_E_NOMEM, "cannot replay the log: out of memory");
		rp->rows = rows;
		rp->cap = cap;
	}
	if (2 * (rp->n + 1) > rp->nslots) {
		size_t nslots = rp->nslots ? rp->nslots * 2 : 512;
		size_t *slots = lsec_calloc(nslots, sizeof(*slots));
		LSEC_ENSURE(slots != NULL, LSEC_E_NOMEM, "cannot replay the log: out of memory");
		for (size_t i = 0; i < rp->n; i++) {
			slot_put(slots, nslots, &rp->rows[i], i);
		}
		lsec_free(rp->slots);
		rp->slots = slots;
		rp->nslots = nslots;
	}
	row *r = &rp->rows[rp->n];
	memset(r, 0, sizeof(*r));
	r->key = lsec_strdup(key);
	LSEC_ENSURE(r->key != NULL, LSEC_E_NOMEM, "cannot replay the log: out of memory");
	r->table = (uint8_t)table;
	r->seq0 = seq;
	slot_put(rp->slots, rp->nslots, r, rp->n);
	rp->n++;
	*out = r;
out:
	return rc;
}

static int set(row *r, unsigned c, const char *v, uint64_t seq, lsec_err *err)
{
	int rc = 0;
	if (v == NULL) {
		goto out;
	}
	char *copy = lsec_strdup(v);
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "cannot replay the log: out of memory");
	lsec_free(r->col[c]);
	r->col[c] = copy;
	r->seq[c] = seq;
out:
	return rc;
}

static int approve(row *r, const char *person, uint64_t seq, lsec_err *err)
{
	int rc = 0;
	if (r->napprovals < 2) {
		r->approver[r->napprovals] = lsec_strdup(person != NULL ? person : "");
		LSEC_ENSURE(r->approver[r->napprovals] != NULL, LSEC_E_NOMEM,
			    "cannot replay the log: out of memory");
	}
	r->napprovals++;
	r->approvals_seq = seq;
	/* The column exists once a leaf speaks of approvals; its text is made when compared. */
	LSEC_TRY(set(r, C_APPROVALS, "", seq, err));
out:
	return rc;
}

/* "N (a, b)" with the names sorted, or "N" past two (the registry lists the first two). */
static void approvals_text(char *out, size_t size, unsigned n, const char *a, const char *b)
{
	if (n == 0) {
		snprintf(out, size, "0");
	} else if (n == 1) {
		snprintf(out, size, "1 (%s)", a);
	} else if (n == 2) {
		bool swap = strcmp(a, b) > 0; /* lint:ok - public names */
		snprintf(out, size, "2 (%s, %s)", swap ? b : a, swap ? a : b);
	} else {
		snprintf(out, size, "%u", n);
	}
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- what each leaf records ---------------------------------------------- */

typedef struct leaf_ctx {
	uint64_t seq;
	const json_t *leaf;
	const json_t *ev; /* its evidence (may be NULL) */
	const char *unit, *person;
} leaf_ctx;

static int named_row(row **out, replay *rp, unsigned table, const char *a, const char *b,
		     const leaf_ctx *l, lsec_err *err)
{
	char key[160];
	*out = NULL;
	if (a == NULL || b == NULL) {
		return 0;
	}
	snprintf(key, sizeof(key), "%s@%s", a, b);
	return row_get(out, rp, table, key, l->seq, err);
}

/* The row of the leaf's SOP version ("name@version") in table. */
static int sop_row(row **out, replay *rp, const leaf_ctx *l, unsigned table, lsec_err *err)
{
	char ver[24];
	json_int_t v = json_integer_value(json_object_get(l->leaf, "sop_version"));
	snprintf(ver, sizeof(ver), "%lld", (long long)v);
	return named_row(out, rp, table, str(l->leaf, "sop"), ver, l, err);
}

static int on_line_init(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *name = str(l->ev, LSEC_EV_FIRST_OFFICER);
	if (name != NULL && name[0] != 0) {
		LSEC_TRY(row_get(&r, rp, T_PEOPLE, name, l->seq, err));
		LSEC_TRY(set(r, C_ROLE, lsec_role_name(LSEC_ROLE_SECURITY_OFFICER), l->seq, err));
		LSEC_TRY(set(r, C_DISABLED, "no", l->seq, err));
		LSEC_TRY(set(r, C_PW, str(l->ev, LSEC_EV_PW_HASH_SHA256), l->seq, err));
	}
out:
	return rc;
}

static int on_person_add(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *name = str(l->ev, LSEC_EV_NAME);
	if (name != NULL) {
		LSEC_TRY(row_get(&r, rp, T_PEOPLE, name, l->seq, err));
		LSEC_TRY(set(r, C_ROLE, str(l->ev, LSEC_EV_ROLE), l->seq, err));
		LSEC_TRY(set(r, C_DISABLED, "no", l->seq, err));
		LSEC_TRY(set(r, C_PW, str(l->ev, LSEC_EV_PW_HASH_SHA256), l->seq, err));
	}
out:
	return rc;
}

static int on_person_disable(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *name = str(l->ev, LSEC_EV_NAME);
	if (name != NULL) {
		LSEC_TRY(row_get(&r, rp, T_PEOPLE, name, l->seq, err));
		LSEC_TRY(set(r, C_DISABLED, "yes", l->seq, err));
	}
out:
	return rc;
}

/* A person's whole record anew: role-change, password-reset, enrolment. */
static int on_person_update(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *name = str(l->ev, LSEC_EV_NAME);
	if (name != NULL) {
		LSEC_TRY(row_get(&r, rp, T_PEOPLE, name, l->seq, err));
		LSEC_TRY(set(r, C_ROLE, str(l->ev, LSEC_EV_ROLE), l->seq, err));
		LSEC_TRY(set(r, C_DISABLED, str(l->ev, LSEC_EV_DISABLED), l->seq, err));
		LSEC_TRY(set(r, C_PW, str(l->ev, LSEC_EV_PW_HASH_SHA256), l->seq, err));
	}
out:
	return rc;
}

static int on_release(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *action = str(l->leaf, "action");
	LSEC_TRY(named_row(&r, rp, T_RELEASES, str(l->ev, LSEC_EV_PRODUCT),
			   str(l->ev, LSEC_EV_VERSION), l, err));
	if (r == NULL) {
		goto out;
	}
	LSEC_TRY(set(r, C_DIGEST, str(l->ev, LSEC_EV_IMAGE_SHA256), l->seq, err));
	if (eq(action, "release.submit")) {
		/* The submitter's approval is the first of the two. */
		LSEC_TRY(set(r, C_REVOKED, "no", l->seq, err));
		LSEC_TRY(set(r, C_REL_MANIFEST, str(l->ev, LSEC_EV_MANIFEST_SHA256), l->seq, err));
		LSEC_TRY(approve(r, l->person, l->seq, err));
	} else if (eq(action, "release.approve")) {
		LSEC_TRY(approve(r, l->person, l->seq, err));
	} else {
		LSEC_TRY(set(r, C_REVOKED, "yes", l->seq, err));
	}
out:
	return rc;
}

/* A product key: its SPKI is compared as its SHA-256, the digest the leaf records. */
static int on_product_key(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *digest = str(l->ev, LSEC_EV_KEY_SHA256);
	LSEC_TRY(named_row(&r, rp, T_PRODUCT_KEYS, str(l->ev, LSEC_EV_PRODUCT),
			   str(l->ev, LSEC_EV_VERSION), l, err));
	if (r == NULL) {
		goto out;
	}
	LSEC_TRY(set(r, C_DIGEST, digest, l->seq, err));
	LSEC_TRY(set(r, C_KEY_SPKI, digest, l->seq, err));
	LSEC_TRY(approve(r, l->person, l->seq, err));
out:
	return rc;
}

static int on_sop(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *digest = str(l->ev, LSEC_EV_SOP_SHA256);
	if (digest == NULL) {
		digest = str(l->ev, LSEC_EV_OLD_SOP_SHA256);
	}
	LSEC_TRY(sop_row(&r, rp, l, T_SOPS, err));
	if (r == NULL) {
		goto out;
	}
	LSEC_TRY(set(r, C_DIGEST, digest, l->seq, err));
	LSEC_TRY(set(r, C_SOP_BODY, digest, l->seq, err));
	if (eq(str(l->leaf, "action"), "sop.approve")) {
		LSEC_TRY(approve(r, l->person, l->seq, err));
	} else if (r->col[C_APPROVALS] == NULL) {
		LSEC_TRY(set(r, C_APPROVALS, "", l->seq, err));
	}
out:
	return rc;
}

/* A certificate revoked: its unit, the CRL reason and who revoked it. */
static int on_revoke(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *sn = str(l->ev, LSEC_EV_CERT_SERIAL);
	if (sn != NULL) {
		LSEC_TRY(row_get(&r, rp, T_REVOCATIONS, sn, l->seq, err));
		LSEC_TRY(set(r, C_REV_SERIAL, l->unit, l->seq, err));
		LSEC_TRY(set(r, C_REV_REASON, str(l->ev, "reason"), l->seq, err));
		LSEC_TRY(set(r, C_REV_PERSON, l->person, l->seq, err));
	}
out:
	return rc;
}

/* Every credential of the leaf's unit revoked (decommissioning, rework). */
static int on_cred_revoke(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	if (!lsec_audit_revocation_done(str(l->leaf, "outcome"))) {
		return 0; /* an intent, or a step that failed: nothing was revoked */
	}
	for (size_t i = 0; i < rp->n; i++) {
		row *r = &rp->rows[i];
		if (r->table == T_CREDS && eq(r->col[C_CRED_SERIAL], l->unit)) {
			LSEC_TRY(set(r, C_CRED_REVOKED, "yes", l->seq, err));
		}
	}
out:
	return rc;
}

/* A unit destroyed: the method, who destroyed it and who witnessed it. */
static int on_scrap(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	if (l->unit != NULL) {
		LSEC_TRY(row_get(&r, rp, T_SCRAP, l->unit, l->seq, err));
		LSEC_TRY(set(r, C_SCRAP_METHOD, str(l->ev, "method"), l->seq, err));
		LSEC_TRY(set(r, C_SCRAP_PERSON, l->person, l->seq, err));
		LSEC_TRY(set(r, C_SCRAP_WITNESS, str(l->ev, "witnessed-by"), l->seq, err));
	}
out:
	return rc;
}

/* A credential issued to the leaf's unit (a passed step, or `ca password`). */
static int on_cred(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *fp = str(l->ev, LSEC_EV_CREDENTIAL_FP);
	const char *outcome = str(l->leaf, "outcome");
	if (fp != NULL && l->unit != NULL && (eq(outcome, "passed") || eq(outcome, "done"))) {
		LSEC_TRY(row_get(&r, rp, T_CREDS, fp, l->seq, err));
		LSEC_TRY(set(r, C_CRED_SERIAL, l->unit, l->seq, err));
		LSEC_TRY(set(r, C_CRED_REVOKED, "no", l->seq, err));
	}
out:
	return rc;
}

/*
 * A change of trust (docs/line.md): change.request (station.change.request
 * for a change of station trust) gives its kind, payload (canonical JSON)
 * and requester; change.approve or change.reject (station.change.*) its
 * state and who decided.
 */
static int on_change(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	char key[24], *payload = NULL;
	const char *action = str(l->leaf, "action");
	const json_t *id = json_object_get(l->ev, LSEC_EV_CHANGE);
	if (!json_is_integer(id)) {
		goto out;
	}
	snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
	LSEC_TRY(row_get(&r, rp, T_CHANGES, key, l->seq, err));
	if (eq(action, "change.request") || eq(action, LSEC_AUDIT_STATION_CHANGE_REQUEST)) {
		const json_t *p = json_object_get(l->ev, LSEC_EV_PAYLOAD);
		if (p != NULL) {
			LSEC_TRY(lsec_json_canonical(&payload, p, err));
		}
		LSEC_TRY(set(r, C_CH_KIND, str(l->ev, LSEC_EV_KIND), l->seq, err));
		LSEC_TRY(set(r, C_CH_PAYLOAD, payload, l->seq, err));
		LSEC_TRY(set(r, C_CH_STATE, "pending", l->seq, err));
		LSEC_TRY(set(r, C_CH_BY, l->person, l->seq, err));
	} else {
		bool approved = eq(action, "change.approve") ||
				eq(action, LSEC_AUDIT_STATION_CHANGE_APPROVE);
		LSEC_TRY(set(r, C_CH_STATE, approved ? "approved" : "rejected", l->seq, err));
		LSEC_TRY(set(r, C_CH_DECIDED_BY, l->person, l->seq, err));
	}
out:
	lsec_free(payload);
	return rc;
}

/* A read-and-acknowledge signature: person read SOP version (its SHA-256). */
static int on_sop_ack(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	char key[3 * (LSEC_STORE_NAME_MAX + 1) + 24];
	const char *sop = str(l->leaf, "sop");
	json_int_t v = json_integer_value(json_object_get(l->leaf, "sop_version"));
	if (sop != NULL && l->person != NULL) {
		snprintf(key, sizeof(key), "%s@%lld@%s", sop, (long long)v, l->person);
		LSEC_TRY(row_get(&r, rp, T_SOP_ACKS, key, l->seq, err));
		LSEC_TRY(set(r, C_ACK_DIGEST, str(l->ev, LSEC_EV_SOP_SHA256), l->seq, err));
	}
out:
	return rc;
}

/* A SOP version withdrawn from every station: by whom, under which change. */
static int on_sop_withdraw(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	char change[24];
	LSEC_TRY(sop_row(&r, rp, l, T_SOP_WITHDRAWALS, err));
	if (r != NULL) {
		snprintf(change, sizeof(change), "%lld",
			 (long long)json_integer_value(json_object_get(l->ev, LSEC_EV_CHANGE)));
		LSEC_TRY(set(r, C_WD_CHANGE, change, l->seq, err));
		LSEC_TRY(set(r, C_WD_BY, l->person, l->seq, err));
	}
out:
	return rc;
}

static const struct {
	const char *action;
	int (*fn)(replay *rp, const leaf_ctx *l, lsec_err *err);
} handlers[] = {
	{LSEC_AUDIT_SOP_ACKNOWLEDGE, on_sop_ack},
	{LSEC_AUDIT_SOP_WITHDRAW, on_sop_withdraw},
	{"change.request", on_change},
	{"change.approve", on_change},
	{"change.reject", on_change},
	{LSEC_AUDIT_STATION_CHANGE_REQUEST, on_change},
	{LSEC_AUDIT_STATION_CHANGE_APPROVE, on_change},
	{LSEC_AUDIT_STATION_CHANGE_REJECT, on_change},
	{"pki.certificate.revoke", on_revoke},
	{"credential.revoke", on_cred_revoke},
	{"scrap.unit", on_scrap},
	{"line-init", on_line_init},
	{"person-add", on_person_add},
	{"person-disable", on_person_disable},
	{"person-update", on_person_update},
	{"release.submit", on_release},
	{"release.approve", on_release},
	{"release.revoke", on_release},
	{"product-key.submit", on_product_key},
	{"product-key.approve", on_product_key},
	{"sop.submit", on_sop},
	{"sop.approve", on_sop},
};

/* An identity the leaf's unit holds: {key-sha256, key-state[, cert-serial]}. */
static int on_key(replay *rp, const leaf_ctx *l, const json_t *o, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	const char *fp = str(o, LSEC_EV_KEY_SHA256), *state = str(o, LSEC_EV_KEY_STATE);
	if (fp == NULL || state == NULL) {
		goto out;
	}
	LSEC_TRY(row_get(&r, rp, T_IDENTITIES, fp, l->seq, err));
	LSEC_TRY(set(r, C_ID_SERIAL, l->unit, l->seq, err));
	LSEC_TRY(set(r, C_ID_CERT, str(o, LSEC_EV_CERT_SERIAL), l->seq, err));
	LSEC_TRY(set(r, C_ID_STATE, state, l->seq, err));
	LSEC_TRY(set(r, C_ID_DER, str(o, LSEC_EV_CERT_SHA256), l->seq, err));
out:
	return rc;
}

static int on_run(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	char key[24];
	const json_t *id = json_object_get(l->ev, LSEC_EV_RUN);
	if (!json_is_integer(id)) {
		goto out;
	}
	snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
	if (find(rp, T_RUNS, key) == NULL) {
		/* The leaf that opens the run names its unit, SOP and version. */
		char ver[24];
		const char *v = str(l->ev, LSEC_EV_SOP_VERSION);
		if (v == NULL) {
			json_int_t n = json_integer_value(json_object_get(l->leaf, "sop_version"));
			snprintf(ver, sizeof(ver), "%lld", (long long)n);
			v = ver;
		}
		LSEC_TRY(row_get(&r, rp, T_RUNS, key, l->seq, err));
		LSEC_TRY(set(r, C_RUN_SERIAL, l->unit, l->seq, err));
		LSEC_TRY(set(r, C_RUN_SOP, str(l->leaf, "sop"), l->seq, err));
		LSEC_TRY(set(r, C_RUN_VERSION, v, l->seq, err));
		LSEC_TRY(set(r, C_RUN_OUTCOME, "", l->seq, err));
		LSEC_TRY(set(r, C_RUN_RELEASE, str(l->ev, LSEC_EV_RELEASE), l->seq, err));
	}
	r = find(rp, T_RUNS, key);
	LSEC_TRY(set(r, C_RUN_OUTCOME, str(l->ev, LSEC_EV_RUN_OUTCOME), l->seq, err));
	if (eq(str(l->leaf, "action"), "run.start")) {
		/* The unit's latest run: where a step leaf that does not name its run belongs. */
		LSEC_TRY(row_get(&r, rp, T_OPEN_RUN, l->unit, l->seq, err));
		LSEC_TRY(set(r, C_OPEN_RUN, key, l->seq, err));
		LSEC_TRY(set(r, C_OPEN_ATTEMPTS, "0", l->seq, err));
	}
out:
	return rc;
}

/*
 * The steps row a step leaf records, and its run (as text). A leaf that
 * names them (LSEC_EV_RUN, LSEC_EV_ATTEMPT) is keyed by the row's id. An
 * older one is the latest attempt of the unit's latest run (the run.start
 * before it: a unit runs one SOP at a time, and a steps row and its leaf are
 * written in one transaction), keyed "<run>#<n>" for the n-th attempt of
 * that run; an intent ("started") counts a new attempt. NULL: no run to
 * place it in.
 */
static int step_row(row **out, char run[24], replay *rp, const leaf_ctx *l, bool intent,
		    lsec_err *err)
{
	int rc = 0;
	char key[64];
	const json_t *id = json_object_get(l->ev, LSEC_EV_ATTEMPT);
	const json_t *run_id = json_object_get(l->ev, LSEC_EV_RUN);
	*out = NULL;
	if (json_is_integer(id) && json_is_integer(run_id)) {
		snprintf(run, 24, "%lld", (long long)json_integer_value(run_id));
		snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
	} else {
		row *open = find(rp, T_OPEN_RUN, l->unit);
		if (open == NULL || open->col[C_OPEN_RUN] == NULL) {
			goto out;
		}
		unsigned long long n = strtoull(open->col[C_OPEN_ATTEMPTS], NULL, 10);
		if (intent) {
			char text[24];
			snprintf(text, sizeof(text), "%llu", ++n);
			LSEC_TRY(set(open, C_OPEN_ATTEMPTS, text, l->seq, err));
		}
		snprintf(run, 24, "%s", open->col[C_OPEN_RUN]);
		snprintf(key, sizeof(key), "%s#%llu", run, n);
	}
	LSEC_TRY(row_get(out, rp, T_STEPS, key, l->seq, err));
out:
	return rc;
}

/*
 * A step's intent ("started") opens its steps row: run, step, person, no
 * witness, outcome or evidence yet; its outcome ("passed", "failed") closes
 * it with the witness and the evidence (as the SHA-256 of its canonical
 * JSON, which the registry row stores).
 */
static int on_step(replay *rp, const leaf_ctx *l, lsec_err *err)
{
	int rc = 0;
	row *r = NULL;
	char run[24], sha[65];
	char *ev = NULL;
	uint8_t h[32];
	const char *outcome = str(l->leaf, "outcome");
	bool intent = eq(outcome, "started");
	if (!intent && !eq(outcome, "passed") && !eq(outcome, "failed")) {
		goto out;
	}
	LSEC_TRY(step_row(&r, run, rp, l, intent, err));
	if (r == NULL) {
		goto out;
	}
	if (intent) {
		LSEC_TRY(set(r, C_ST_RUN, run, l->seq, err));
		LSEC_TRY(set(r, C_ST_STEP, str(l->leaf, "step"), l->seq, err));
		LSEC_TRY(set(r, C_ST_PERSON, l->person, l->seq, err));
		LSEC_TRY(set(r, C_ST_WITNESS, "", l->seq, err));
		LSEC_TRY(set(r, C_ST_OUTCOME, "", l->seq, err));
		LSEC_TRY(set(r, C_ST_EV, "", l->seq, err));
		goto out;
	}
	if (l->ev != NULL) {
		LSEC_TRY(lsec_json_canonical(&ev, l->ev, err));
	}
	LSEC_TRY(lsec_sha256(h, ev != NULL ? ev : "{}", ev != NULL ? strlen(ev) : 2, err));
	lsec_hex_encode(sha, h, sizeof(h));
	const char *witness = str(l->ev, LSEC_EV_WITNESSED_BY);
	LSEC_TRY(set(r, C_ST_WITNESS, witness != NULL ? witness : "", l->seq, err));
	LSEC_TRY(set(r, C_ST_OUTCOME, outcome, l->seq, err));
	LSEC_TRY(set(r, C_ST_EV, sha, l->seq, err));
out:
	lsec_free(ev);
	return rc;
}

static int apply(replay *rp, uint64_t seq, const json_t *leaf, lsec_err *err)
{
	int rc = 0;
	leaf_ctx l = {seq, leaf, json_object_get(leaf, "evidence"), str(leaf, "unit"),
		      str(leaf, "person")};
	const char *action = str(leaf, "action");
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (eq(action, handlers[i].action)) {
			LSEC_TRY(handlers[i].fn(rp, &l, err));
		}
	}
	if (l.unit != NULL && str(leaf, "step") != NULL && !eq(action, "unit.quarantine") &&
	    !eq(action, "unit.decommission")) {
		/* A SOP step's leaf; the run it names or the unit's latest run is the one it is in. */
		LSEC_TRY(on_step(rp, &l, err));
	}
	if (l.unit == NULL || !json_is_object(l.ev)) {
		goto out;
	}
	const char *state = str(l.ev, LSEC_EV_UNIT_STATE);
	if (state != NULL) {
		row *r = NULL;
		LSEC_TRY(row_get(&r, rp, T_UNITS, l.unit, seq, err));
		LSEC_TRY(set(r, C_UNIT_STATE, state, seq, err));
		if (r->seq0 == seq) {
			/* The leaf that registers the unit names its UID, product and station. */
			LSEC_TRY(set(r, C_UNIT_UID, str(l.ev, LSEC_EV_UID), seq, err));
			LSEC_TRY(set(r, C_UNIT_PRODUCT, str(l.ev, LSEC_EV_PRODUCT), seq, err));
			LSEC_TRY(set(r, C_UNIT_STATION, str(leaf, "station"), seq, err));
		}
	}
	LSEC_TRY(on_run(rp, &l, err));
	LSEC_TRY(on_cred(rp, &l, err));
	LSEC_TRY(on_key(rp, &l, l.ev, err));
	size_t i;
	const json_t *k;
	json_array_foreach(json_object_get(l.ev, LSEC_EV_KEYS), i, k)
	{
		LSEC_TRY(on_key(rp, &l, k, err));
	}
out:
	return rc;
}

/*
 * Whether a leaf can record state: it names one of the keys or actions
 * apply() reads (step leaves included, for the steps table). A
 * leaf with an escape is always parsed; one spelled otherwise than the
 * canonical writer spells it is never applied, so skipping it can only make
 * a tampered row stand out, never hide it.
 */
static bool may_record_state(const uint8_t *leaf, size_t len)
{
	static const char *const needles[] = {
		"\"" LSEC_EV_UNIT_STATE "\":", "\"" LSEC_EV_RUN "\":",
		"\"" LSEC_EV_KEY_STATE "\":",  "\"" LSEC_EV_KEYS "\":",
		"\"" LSEC_EV_CREDENTIAL_FP "\":", "\"credential.revoke\"",
		"\"pki.certificate.revoke\"", "\"scrap.unit\"",
		"\"line-init\"",             "\"person-",
		"\"release.",                 "\"sop.",
		"\"product-key.",              "\"change.",
		"\"station.change.",          "\"step\":",
	};
	if (memchr(leaf, '\\', len) != NULL) {
		return true;
	}
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		if (memmem(leaf, len, needles[i], strlen(needles[i])) != NULL) {
			return true;
		}
	}
	return false;
}

static int leaf_cb(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		   const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	int rc = 0;
	replay *rp = ctx;
	/* Signatures are lsec_audit_verify's: it runs before the replay. */
	(void)sig;
	(void)sig_len;
	uint8_t h[32];
	json_t *j = NULL;
	json_error_t jerr;
	(void)unit; /* the column outside the hash is lsec_audit_verify's to check */
	LSEC_TRY(lsec_audit_leaf_hash(h, leaf, len, err));
	LSEC_ENSURE(lsec_ct_equal(h, leaf_hash, 32), LSEC_E_AUDIT_LEAF_HASH,
		    "cannot replay the log: leaf %llu does not match its stored hash",
		    (unsigned long long)seq);
	rp->rep->leaves++;
	if (!may_record_state(leaf, len)) {
		goto out;
	}
	j = json_loadb((const char *)leaf, len, 0, &jerr);
	LSEC_ENSURE(json_is_object(j), LSEC_E_AUDIT_LEAF_FORMAT,
		    "cannot replay the log: leaf %llu is not a JSON object",
		    (unsigned long long)seq);
	LSEC_TRY(apply(rp, seq, j, err));
out:
	json_decref(j);
	return rc;
}

/* ---- comparing the registry with the replayed state ---------------------- */

static int diff_add(replay *rp, lsec_audit_diff_kind kind, unsigned table, const char *key,
		    const char *column, const char *registry, const char *log, bool has_seq,
		    uint64_t seq, lsec_err *err)
{
	int rc = 0;
	lsec_audit_state_report *rep = rp->rep;
	if (rep->ndiffs == rp->diff_cap) {
		size_t cap = rp->diff_cap ? rp->diff_cap * 2 : 16;
		lsec_audit_state_diff *d = lsec_realloc(rep->diffs, cap * sizeof(*d));
		LSEC_ENSURE(d != NULL, LSEC_E_NOMEM, "cannot verify the registry: out of memory");
		rep->diffs = d;
		rp->diff_cap = cap;
	}
	lsec_audit_state_diff *d = &rep->diffs[rep->ndiffs++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	snprintf(d->table, sizeof(d->table), "%s", tables[table].name);
	snprintf(d->key, sizeof(d->key), "%s", key);
	snprintf(d->column, sizeof(d->column), "%s", column ? column : "");
	snprintf(d->registry, sizeof(d->registry), "%s", registry ? registry : "");
	snprintf(d->log, sizeof(d->log), "%s", log ? log : "");
	d->has_seq = has_seq;
	d->seq = seq;
out:
	return rc;
}

/*
 * Compares one registry row (its column values vals), named key, with r, the
 * replayed row it is matched with (NULL: none).
 */
static int compare_row(replay *rp, unsigned table, row *r, const char *key,
		       const char *const vals[NCOL], lsec_err *err)
{
	int rc = 0;
	rp->rep->rows++;
	if (r == NULL) {
		LSEC_TRY(diff_add(rp, LSEC_AUDIT_ROW_EXTRA, table, key, NULL, NULL, NULL, false, 0,
				  err));
		goto out;
	}
	r->seen = true;
	for (unsigned c = 0; c < NCOL && tables[table].cols[c] != NULL; c++) {
		char text[160];
		const char *want = r->col[c];
		uint64_t seq = r->seq[c];
		if (want == NULL) {
			continue;
		}
		if (c == C_APPROVALS &&
		    (table == T_RELEASES || table == T_SOPS || table == T_PRODUCT_KEYS)) {
			approvals_text(text, sizeof(text), r->napprovals, r->approver[0],
				       r->approver[1]);
			want = text;
			seq = r->approvals_seq ? r->approvals_seq : r->seq0;
		}
		if (!eq(vals[c], want)) {
			LSEC_TRY(diff_add(rp, LSEC_AUDIT_ROW_DIFFERENT, table, key,
					  tables[table].cols[c], vals[c], want, true, seq, err));
		}
	}
out:
	return rc;
}

/* Compares one registry row (its column values vals) with the replayed state. */
static int compare(replay *rp, unsigned table, const char *key, const char *const vals[NCOL],
		   lsec_err *err)
{
	return compare_row(rp, table, find(rp, table, key), key, vals, err);
}

static int compare_units(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit *u = NULL;
	size_t n = 0;
	LSEC_TRY(lsec_store_unit_list(&u, &n, st, NULL, err));
	for (size_t i = 0; i < n; i++) {
		const char *v[NCOL] = {u[i].uid, u[i].product, lsec_unit_state_name(u[i].state),
				       u[i].station};
		LSEC_TRY(compare(rp, T_UNITS, u[i].serial, v, err));
	}
out:
	lsec_free(u);
	return rc;
}

/* compare() for a table keyed by its registry id. */
static int compare_id(replay *rp, unsigned table, int64_t id, const char *const vals[NCOL],
		      lsec_err *err)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)id);
	return compare(rp, table, key, vals, err);
}

static int compare_runs(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_run *r = NULL;
	size_t n = 0;
	LSEC_TRY(lsec_store_run_list_all(&r, &n, st, err));
	for (size_t i = 0; i < n; i++) {
		const char *v[NCOL] = {r[i].serial, r[i].sop, r[i].sop_version, r[i].outcome,
				       r[i].release};
		LSEC_TRY(compare_id(rp, T_RUNS, r[i].id, v, err));
	}
out:
	lsec_free(r);
	return rc;
}

/*
 * Each steps row, named by its id: matched with the replayed row of that id,
 * or, for a step recorded before step leaves named their row, with the n-th
 * attempt of its run ("<run>#<n>", rows of a run taken in id order).
 */
static int compare_steps(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_step *s = NULL;
	size_t n = 0;
	unsigned long long nth = 0;
	LSEC_TRY(lsec_store_step_list_all(&s, &n, st, err));
	for (size_t i = 0; i < n; i++) {
		char id[24], run[24], older[64];
		nth = i > 0 && s[i - 1].run_id == s[i].run_id ? nth + 1 : 1;
		snprintf(id, sizeof(id), "%lld", (long long)s[i].id);
		snprintf(run, sizeof(run), "%lld", (long long)s[i].run_id);
		snprintf(older, sizeof(older), "%s#%llu", run, nth);
		row *r = find(rp, T_STEPS, id);
		if (r == NULL) {
			r = find(rp, T_STEPS, older);
			r = r != NULL && r->seen ? NULL : r;
		}
		const char *v[NCOL] = {run,          s[i].step,    s[i].person,
				       s[i].witness, s[i].outcome, s[i].evidence_sha256};
		LSEC_TRY(compare_row(rp, T_STEPS, r, id, v, err));
	}
out:
	lsec_free(s);
	return rc;
}

static int compare_identities(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_identity *id = NULL, one;
	size_t n = 0;
	lsec_buf der = LSEC_BUF_INIT(1 << 16);
	LSEC_TRY(lsec_store_identity_list_all(&id, &n, st, err));
	for (size_t i = 0; i < n; i++) {
		/* The certificate as stored, hashed: a DER copied from another row shows. */
		char sha[65] = "";
		uint8_t h[32];
		lsec_buf_reset(&der);
		LSEC_TRY(lsec_store_identity_get(&one, &der, st, id[i].key_fp, err));
		if (der.len > 0) {
			LSEC_TRY(lsec_sha256(h, der.data, der.len, err));
			lsec_hex_encode(sha, h, sizeof(h));
		}
		const char *v[NCOL] = {id[i].serial, id[i].cert_serial,
				       lsec_key_state_name(id[i].state), sha};
		LSEC_TRY(compare(rp, T_IDENTITIES, id[i].key_fp, v, err));
	}
out:
	lsec_buf_release(&der);
	lsec_free(id);
	return rc;
}

static int compare_approvables(replay *rp, lsec_store *st, unsigned table, lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *a = NULL;
	size_t n = 0;
	lsec_buf body = LSEC_BUF_INIT(BODY_MAX);
	if (table == T_RELEASES) {
		LSEC_TRY(lsec_store_release_list(&a, &n, st, NULL, err));
	} else if (table == T_PRODUCT_KEYS) {
		LSEC_TRY(lsec_store_product_key_list(&a, &n, st, NULL, err));
	} else {
		LSEC_TRY(lsec_store_sop_list(&a, &n, st, NULL, err));
	}
	for (size_t i = 0; i < n; i++) {
		char key[160], appr[160], second[65], manifest[65] = "";
		uint8_t h[32];
		snprintf(key, sizeof(key), "%s@%s", a[i].name, a[i].version);
		approvals_text(appr, sizeof(appr), a[i].n_approvals, a[i].approvers[0],
			       a[i].approvers[1]);
		if (table == T_RELEASES) {
			/* The manifest as stored, hashed: the leaf records its SHA-256. */
			lsec_store_approvable one;
			snprintf(second, sizeof(second), "%s", a[i].revoked[0] ? "yes" : "no");
			lsec_buf_reset(&body);
			LSEC_TRY(lsec_store_release_get(&one, &body, st, a[i].name, a[i].version, err));
			LSEC_TRY(lsec_sha256(h, body.data, body.len, err));
			lsec_hex_encode(manifest, h, sizeof(h));
		} else if (table == T_PRODUCT_KEYS) {
			/* The key as stored, hashed: a key swapped by SQL shows under any digest. */
			lsec_store_approvable one;
			lsec_buf der = LSEC_BUF_INIT(BODY_MAX);
			lsec_buf_reset(&body);
			LSEC_TRY(lsec_store_product_key_get(&one, &body, st, a[i].name, a[i].version,
							    err));
			snprintf(second, sizeof(second), "(not base64)");
			if (lsec_buf_cstr(&body, NULL) != NULL &&
			    lsec_base64_decode(&der, (const char *)body.data, strlen((const char *)body.data), "spki",
					       NULL) == 0 &&
			    lsec_sha256(h, der.data, der.len, NULL) == 0) {
				lsec_hex_encode(second, h, sizeof(h));
			}
			lsec_buf_release(&der);
		} else {
			/* The body as stored, hashed: a rewritten body shows under any digest. */
			lsec_store_approvable one;
			lsec_buf_reset(&body);
			LSEC_TRY(lsec_store_sop_get(&one, &body, st, a[i].name, a[i].version, err));
			LSEC_TRY(lsec_sha256(h, body.data, body.len, err));
			lsec_hex_encode(second, h, sizeof(h));
		}
		const char *v[NCOL] = {a[i].digest, second, appr, manifest};
		LSEC_TRY(compare(rp, table, key, v, err));
	}
out:
	lsec_buf_release(&body);
	lsec_free(a);
	return rc;
}

static int compare_people(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_person *p = NULL, one;
	size_t n = 0;
	uint8_t h[32];
	char pw[65];
	memset(&one, 0, sizeof(one));
	LSEC_TRY(lsec_store_person_list(&p, &n, st, err));
	for (size_t i = 0; i < n; i++) {
		/* The list leaves the password hash out; the leaves commit to its SHA-256. */
		LSEC_TRY(lsec_store_person_get(&one, st, p[i].name, err));
		LSEC_TRY(lsec_sha256(h, (const uint8_t *)one.pw_hash, strlen(one.pw_hash), err));
		lsec_hex_encode(pw, h, sizeof(h));
		const char *v[NCOL] = {lsec_role_name(p[i].role), p[i].disabled ? "yes" : "no", pw};
		LSEC_TRY(compare(rp, T_PEOPLE, p[i].name, v, err));
	}
out:
	lsec_wipe(&one, sizeof(one));
	lsec_free(p);
	return rc;
}

static int compare_credentials(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit *u = NULL;
	lsec_store_credential *c = NULL;
	size_t n = 0, nc = 0;
	LSEC_TRY(lsec_store_unit_list(&u, &n, st, NULL, err));
	for (size_t i = 0; i < n; i++) {
		lsec_free(c);
		c = NULL;
		LSEC_TRY(lsec_store_credential_list(&c, &nc, st, u[i].serial, err));
		for (size_t k = 0; k < nc; k++) {
			const char *v[NCOL] = {c[k].serial, c[k].revoked[0] ? "yes" : "no"};
			LSEC_TRY(compare(rp, T_CREDS, c[k].keyed_fp, v, err));
		}
	}
out:
	lsec_free(c);
	lsec_free(u);
	return rc;
}

static int compare_changes(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_change *c = NULL;
	size_t n = 0;
	LSEC_TRY(lsec_store_change_list(&c, &n, st, false, err));
	for (size_t i = 0; i < n; i++) {
		const char *v[NCOL] = {c[i].kind, c[i].payload, c[i].state, c[i].requested_by,
				       c[i].decided_by};
		LSEC_TRY(compare_id(rp, T_CHANGES, c[i].id, v, err));
	}
out:
	lsec_free(c);
	return rc;
}

/* Revocations (subject: the certificate serial) and scrap records (subject: the method). */
static int compare_records(replay *rp, lsec_store *st, unsigned table, lsec_err *err)
{
	int rc = 0;
	lsec_store_record *r = NULL;
	size_t n = 0;
	if (table == T_REVOCATIONS) {
		LSEC_TRY(lsec_store_revocation_list(&r, &n, st, err));
	} else {
		LSEC_TRY(lsec_store_scrap_list(&r, &n, st, err));
	}
	for (size_t i = 0; i < n; i++) {
		if (table == T_REVOCATIONS) {
			const char *v[NCOL] = {r[i].serial, r[i].reason, r[i].person};
			LSEC_TRY(compare(rp, table, r[i].subject, v, err));
		} else {
			const char *v[NCOL] = {r[i].subject, r[i].person, r[i].witness};
			LSEC_TRY(compare(rp, table, r[i].serial, v, err));
		}
	}
out:
	lsec_free(r);
	return rc;
}

/* Acknowledgements and withdrawals of SOP versions, keyed as on_sop_ack and on_sop_withdraw. */
static int compare_sop_controls(replay *rp, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_store_sop_control *a = NULL, *w = NULL;
	size_t na = 0, nw = 0;
	char key[3 * (LSEC_STORE_NAME_MAX + 1) + 24], change[24];
	LSEC_TRY(lsec_store_sop_ack_list(&a, &na, st, err));
	for (size_t i = 0; i < na; i++) {
		const char *v[NCOL] = {a[i].digest};
		snprintf(key, sizeof(key), "%s@%s@%s", a[i].sop, a[i].version, a[i].person);
		LSEC_TRY(compare(rp, T_SOP_ACKS, key, v, err));
	}
	LSEC_TRY(lsec_store_sop_withdraw_list(&w, &nw, st, err));
	for (size_t i = 0; i < nw; i++) {
		snprintf(change, sizeof(change), "%lld", (long long)w[i].change_id);
		const char *v[NCOL] = {change, w[i].person};
		snprintf(key, sizeof(key), "%s@%s", w[i].sop, w[i].version);
		LSEC_TRY(compare(rp, T_SOP_WITHDRAWALS, key, v, err));
	}
out:
	lsec_free(a);
	lsec_free(w);
	return rc;
}

static void replay_release(replay *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		row *r = &rp->rows[i];
		lsec_free(r->key);
		for (unsigned c = 0; c < NCOL; c++) {
			lsec_free(r->col[c]);
		}
		lsec_free(r->approver[0]);
		lsec_free(r->approver[1]);
	}
	lsec_free(rp->rows);
	lsec_free(rp->slots);
}

/* ---- the replayed state as text, to resume from ------------------------- */

/*
 * Each row as [table, key, seq0, [col...], [seq...], napprovals,
 * approvals_seq, [approver...]], in the order the log named them, then one
 * row [T_COUNT, STATE_COLUMNS, ...]: which columns the state compares. A
 * state without it, or with another, was kept before a column was compared
 * (identities.cert_der, change_requests, units.station, releases.manifest,
 * steps) and is replayed from the start once.
 */
#define STATE_COLUMNS                                                                      \
	"columns:cert_der,change_requests,units.station,releases.manifest,steps,"             \
	"sop_acknowledgements,sop_withdrawals"
static int state_dump(char **out, const replay *rp, lsec_err *err)
{
	int rc = 0;
	json_t *all = json_array(), *r = NULL;
	*out = NULL;
	LSEC_ENSURE(all != NULL, LSEC_E_NOMEM, "cannot keep the replayed state: out of memory");
	for (size_t i = 0; i < rp->n; i++) {
		const row *w = &rp->rows[i];
		json_t *cols = json_array(), *seqs = json_array(), *appr = json_array();
		r = json_pack("[i,s,I,o,o,i,I,o]", (int)w->table, w->key, (json_int_t)w->seq0, cols,
			      seqs, (int)w->napprovals, (json_int_t)w->approvals_seq, appr);
		LSEC_ENSURE(r != NULL, LSEC_E_NOMEM, "cannot keep the replayed state: out of memory");
		for (unsigned c = 0; c < NCOL; c++) {
			LSEC_ENSURE(json_array_append_new(cols, w->col[c] != NULL
									? json_string(w->col[c])
									: json_null()) == 0 &&
					    json_array_append_new(seqs,
								  json_integer((json_int_t)w->seq[c])) == 0,
				    LSEC_E_NOMEM, "cannot keep the replayed state: out of memory");
		}
		for (unsigned a = 0; a < 2 && a < w->napprovals; a++) {
			LSEC_ENSURE(json_array_append_new(appr, json_string(w->approver[a])) == 0,
				    LSEC_E_NOMEM, "cannot keep the replayed state: out of memory");
		}
		LSEC_ENSURE(json_array_append_new(all, r) == 0, LSEC_E_NOMEM,
			    "cannot keep the replayed state: out of memory");
		r = NULL;
	}
	r = json_pack("[i,s,i,[],[],i,i,[]]", (int)T_COUNT, STATE_COLUMNS, 0, 0, 0);
	LSEC_ENSURE(r != NULL && json_array_append_new(all, r) == 0, LSEC_E_NOMEM,
		    "cannot keep the replayed state: out of memory");
	r = NULL;
	LSEC_TRY(lsec_json_canonical(out, all, err));
out:
	json_decref(r);
	json_decref(all);
	return rc;
}

/*
 * *older: the state was remembered by an older version (fewer columns, or
 * no STATE_COLUMNS row, from before identities.cert_der was compared):
 * nothing is kept of it.
 */
static int state_load(replay *rp, bool *older, const char *text, size_t len, lsec_err *err)
{
	int rc = 0;
	json_t *all = NULL;
	size_t i;
	const json_t *r;
	*older = false;
	LSEC_TRY(lsec_json_parse(&all, text, len, "the remembered state", err));
	LSEC_ENSURE(json_is_array(all), LSEC_E_PARSE,
		    "cannot read the remembered state: it is not a list of rows");
	size_t width = json_array_size(json_array_get(json_array_get(all, 0), 3));
	if (width != 0 && width != NCOL) {
		/* Rows of another width: kept by a version that compared fewer columns. */
		*older = true;
		goto out;
	}
	*older = true;
	json_array_foreach(all, i, r)
	{
		row *w = NULL;
		const json_t *cols = json_array_get(r, 3), *seqs = json_array_get(r, 4);
		const json_t *appr = json_array_get(r, 7);
		json_int_t table = json_integer_value(json_array_get(r, 0));
		const char *key = json_string_value(json_array_get(r, 1));
		if (key != NULL && strncmp(key, "columns:", 8) == 0) { /* lint:ok - public names */
			/* The marker row (no registry key has a colon); another version's: older. */
			*older = *older && !eq(key, STATE_COLUMNS);
			continue;
		}
		LSEC_ENSURE(json_array_size(r) == 8 && table >= 0 && table < T_COUNT && key != NULL &&
				    json_array_size(cols) == NCOL && json_array_size(seqs) == NCOL &&
				    json_array_size(appr) <= 2,
			    LSEC_E_PARSE, "cannot read the remembered state: row %zu is malformed", i);
		LSEC_TRY(row_get(&w, rp, (unsigned)table, key,
				 (uint64_t)json_integer_value(json_array_get(r, 2)), err));
		for (unsigned c = 0; c < NCOL; c++) {
			LSEC_TRY(set(w, c, json_string_value(json_array_get(cols, c)),
				     (uint64_t)json_integer_value(json_array_get(seqs, c)), err));
		}
		for (unsigned a = 0; a < json_array_size(appr); a++) {
			LSEC_TRY(approve(w, json_string_value(json_array_get(appr, a)), 0, err));
		}
		w->napprovals = (unsigned)json_integer_value(json_array_get(r, 5));
		w->approvals_seq = (uint64_t)json_integer_value(json_array_get(r, 6));
	}
out:
	json_decref(all);
	return rc;
}

int lsec_audit_state_verify_from(lsec_audit_state_report *out, char **state_out, lsec_store *st,
				 uint64_t from, const char *state, size_t state_len, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	replay rp;
	uint64_t count = 0;
	memset(&rp, 0, sizeof(rp));
	LSEC_ENSURE_REF(out);
	memset(out, 0, sizeof(*out));
	if (state_out != NULL) {
		*state_out = NULL;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(from == 0 || state != NULL, LSEC_E_USAGE,
		    "cannot replay the log from leaf %llu without the state before it",
		    (unsigned long long)from);
	rp.rep = out;
	if (state != NULL) {
		bool older = false;
		LSEC_TRY(state_load(&rp, &older, state, state_len, err));
		if (older) {
			/* Remembered before a column was compared: replayed from the start. */
			replay_release(&rp);
			memset(&rp, 0, sizeof(rp));
			rp.rep = out;
			from = 0;
		}
	}
	/* One snapshot: the leaves and the rows are read as of one moment. */
	LSEC_TRY(lsec_store_tx_begin_read(&tx, st, err));
	LSEC_TRY(lsec_store_leaf_count(&count, st, err));
	LSEC_ENSURE(from <= count, LSEC_E_AUDIT_TRUNCATED,
		    "cannot replay the log from leaf %llu: it has %llu leaves (leaves were deleted)",
		    (unsigned long long)from, (unsigned long long)count);
	LSEC_TRY(lsec_store_leaf_foreach(st, from, count, leaf_cb, &rp, err));
	LSEC_ENSURE(out->leaves == count - from, LSEC_E_AUDIT_LEAF_HASH,
		    "cannot replay the log: %llu leaves stored, %llu read",
		    (unsigned long long)count, (unsigned long long)(from + out->leaves));
	out->tree_size = count;
	LSEC_TRY(compare_units(&rp, st, err));
	LSEC_TRY(compare_runs(&rp, st, err));
	LSEC_TRY(compare_identities(&rp, st, err));
	LSEC_TRY(compare_approvables(&rp, st, T_RELEASES, err));
	LSEC_TRY(compare_approvables(&rp, st, T_SOPS, err));
	LSEC_TRY(compare_approvables(&rp, st, T_PRODUCT_KEYS, err));
	LSEC_TRY(compare_people(&rp, st, err));
	LSEC_TRY(compare_credentials(&rp, st, err));
	LSEC_TRY(compare_records(&rp, st, T_REVOCATIONS, err));
	LSEC_TRY(compare_records(&rp, st, T_SCRAP, err));
	LSEC_TRY(compare_changes(&rp, st, err));
	LSEC_TRY(compare_steps(&rp, st, err));
	LSEC_TRY(compare_sop_controls(&rp, st, err));
	for (unsigned t = 0; t < T_COUNT; t++) {
		for (size_t i = 0; i < rp.n; i++) {
			const row *r = &rp.rows[i];
			if (r->table == t && !r->seen && tables[t].name != NULL) {
				LSEC_TRY(diff_add(&rp, LSEC_AUDIT_ROW_MISSING, t, r->key, NULL,
						  NULL, NULL, true, r->seq0, err));
			}
		}
	}
	if (state_out != NULL) {
		LSEC_TRY(state_dump(state_out, &rp, err));
	}
	if (out->ndiffs > 0) {
		char first[512];
		lsec_audit_state_diff_text(first, sizeof(first), &out->diffs[0]);
		LSEC_BAIL(LSEC_E_AUDIT_STATE,
			  "the registry differs from the state its audit log records in %zu "
			  "place(s); first: %s",
			  out->ndiffs, first);
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	replay_release(&rp);
	if (rc < 0 && rc != LSEC_E_AUDIT_STATE && state_out != NULL) {
		lsec_free(*state_out);
		*state_out = NULL;
	}
	return rc;
}

int lsec_audit_state_verify(lsec_audit_state_report *out, lsec_store *st, lsec_err *err)
{
	return lsec_audit_state_verify_from(out, NULL, st, 0, NULL, 0, err);
}

void lsec_audit_state_report_release(lsec_audit_state_report *r)
{
	if (r == NULL) {
		return;
	}
	lsec_free(r->diffs);
	memset(r, 0, sizeof(*r));
}

const char *lsec_audit_diff_kind_name(lsec_audit_diff_kind k)
{
	static const char *const names[] = {
		[LSEC_AUDIT_ROW_DIFFERENT] = "different",
		[LSEC_AUDIT_ROW_EXTRA] = "extra",
		[LSEC_AUDIT_ROW_MISSING] = "missing",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

void lsec_audit_state_diff_text(char *out, size_t size, const lsec_audit_state_diff *d)
{
	switch (d->kind) {
	case LSEC_AUDIT_ROW_EXTRA:
		snprintf(out, size, "registry table %s, row '%s': no audit leaf records it",
			 d->table, d->key);
		break;
	case LSEC_AUDIT_ROW_MISSING:
		snprintf(out, size,
			 "registry table %s has no row '%s', which leaf %llu records", d->table,
			 d->key, (unsigned long long)d->seq);
		break;
	default:
		snprintf(out, size,
			 "registry table %s, row '%s': %s is '%s', but leaf %llu says '%s'",
			 d->table, d->key, d->column, d->registry, (unsigned long long)d->seq,
			 d->log);
		break;
	}
}
