/*
 * registry.c - SOP versions in the registry: submit, approve, list, fetch,
 * render with history, diff.
 *
 * The registry keeps each version's exact bytes and their SHA-256; whatever
 * is read back is checked against that digest and loaded again under the
 * policy as it stands, so neither a tampered row nor a rule added since can
 * let a weakened procedure run. Every submission and approval is recorded
 * in the audit log in the same transaction as the change.
 *
 * The rows are checked against the leaves before anything is decided from
 * them: each version's sop.submit leaf records its SHA-256 and submitter,
 * and each sop.approve leaf the SHA-256 its approver reviewed, all inside
 * the leaf hash. A body rewritten with a matching digest, an approval row
 * injected or deleted by SQL is refused naming the table, the SOP, the
 * version and the leaf (check_versions).
 *
 * Approval dates come from the audit log (the leaf of each approval), the
 * only record that carries them; listing therefore reads the log once,
 * filtering leaves by their action before parsing any of them.
 */
#include "sop/sop_int.h"

#include "linesec/audit.h"
#include "linesec/store.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#define BODY_MAX LSEC_SOP_MAX_FILE

/*
 * Whether person, of role role as the caller proved it from the person's
 * leaves (never read here from the bare people row), may submit (a
 * supervisor or security officer) or approve (officer_only). LSEC_E_AUTH.
 */
static int require_role(const char *person, lsec_role role, bool officer_only, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(person != NULL && person[0] != 0, LSEC_E_AUTH,
		    "cannot change SOP versions: no person given");
	if (officer_only) {
		LSEC_ENSURE(role == LSEC_ROLE_SECURITY_OFFICER, LSEC_E_AUTH,
			    "'%s' is a %s; approving a SOP version needs a security officer", person,
			    lsec_role_name(role));
	} else {
		LSEC_ENSURE(role == LSEC_ROLE_SECURITY_OFFICER || role == LSEC_ROLE_SUPERVISOR,
			    LSEC_E_AUTH,
			    "'%s' is a %s; submitting a SOP version needs a supervisor or security officer",
			    person, lsec_role_name(role));
	}
out:
	return rc;
}

static int record(lsec_store *st, const lsec_actor *who, const char *name, int version,
		  const char *action, const char *sha_hex, lsec_err *err)
{
	int rc = 0;
	/* What the signature means (21 CFR 11.50): the submitter's, or an approver's. */
	json_t *ev_json = json_pack("{s:s,s:s}", LSEC_EV_SOP_SHA256, sha_hex, LSEC_EV_MEANING,
				    strcmp(action, "sop.approve") == 0 ? LSEC_MEANING_APPROVED
								       : LSEC_MEANING_SUBMITTED);
	LSEC_ENSURE(ev_json != NULL, LSEC_E_NOMEM, "out of memory");
	lsec_audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.person = who->person;
	ev.station = who->station;
	ev.sop = name;
	ev.sop_version = version;
	ev.action = action;
	ev.outcome = "done";
	ev.evidence = ev_json;
	LSEC_TRY(lsec_audit_record(NULL, st, &ev, err));
out:
	json_decref(ev_json);
	return rc;
}

static int to_version(const char *s, int *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (end == s || *end != 0 || v < 1 || v > 1000000) {
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void fill_info(lsec_sop_version_info *vi, const lsec_store_approvable *a)
{
	memset(vi, 0, sizeof(*vi));
	snprintf(vi->name, sizeof(vi->name), "%s", a->name);
	if (to_version(a->version, &vi->version) < 0) {
		vi->version = 0;
	}
	snprintf(vi->sha256_hex, sizeof(vi->sha256_hex), "%.64s", a->digest);
	snprintf(vi->submitter, sizeof(vi->submitter), "%s", a->created_by);
	snprintf(vi->submitted, sizeof(vi->submitted), "%.31s", a->created);
	snprintf(vi->approvers[0], sizeof(vi->approvers[0]), "%s", a->approvers[0]);
	snprintf(vi->approvers[1], sizeof(vi->approvers[1]), "%s", a->approvers[1]);
	vi->napprovals = a->n_approvals;
	vi->approved = a->approved;
}

/* ---- the rows against the leaves ------------------------------------------- */

static json_int_t leaf_seq(const json_t *leaf)
{
	return json_integer_value(json_object_get(leaf, "seq"));
}

static const char *leaf_sha(const json_t *leaf)
{
	const json_t *e = json_object_get(leaf, "evidence");
	const char *v = json_string_value(json_object_get(e, LSEC_EV_SOP_SHA256));
	v = v != NULL ? v : json_string_value(json_object_get(e, LSEC_EV_OLD_SOP_SHA256));
	return v != NULL ? v : "(none)";
}

/* Same public text (names, hex digests). */
static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * Checks one version row a against the submission and approval leaves of
 * its SOP (sub, appr: arrays of parsed leaves). Errors: LSEC_E_AUDIT_INDEX
 * naming the table, the SOP, the version and the leaf.
 */
static int check_version(const lsec_store_approvable *a, const json_t *sub, const json_t *appr,
			 lsec_err *err)
{
	int rc = 0;
	const char *match[] = {"sop", a->name, "sop_version", a->version, NULL};
	const json_t *l, *s = NULL;
	size_t i;
	unsigned leaves = 0;
	/* An approval leaf recorded the SHA-256 its approver reviewed; the row must still hold it. */
	json_array_foreach(appr, i, l)
	{
		if (!lsec_audit_leaf_matches(l, "sop.approve", match)) {
			continue;
		}
		LSEC_ENSURE(same(leaf_sha(l), a->digest), LSEC_E_AUDIT_INDEX,
			    "registry table sop_versions holds SOP '%s' version %s with SHA-256 %s, "
			    "but approval leaf %lld recorded SHA-256 %s: the registry was changed "
			    "outside linesec",
			    a->name, a->version, a->digest, (long long)leaf_seq(l), leaf_sha(l));
		leaves++;
	}
	json_array_foreach(sub, i, l)
	{
		if (lsec_audit_leaf_matches(l, "sop.submit", match)) {
			s = l;
		}
	}
	LSEC_ENSURE(s != NULL, LSEC_E_AUDIT_INDEX,
		    "registry table sop_versions holds SOP '%s' version %s, but no sop.submit leaf "
		    "records it: the registry was changed outside linesec",
		    a->name, a->version);
	const char *by = json_string_value(json_object_get(s, "person"));
	LSEC_ENSURE(same(leaf_sha(s), a->digest) && same(by, a->created_by), LSEC_E_AUDIT_INDEX,
		    "registry table sop_versions holds SOP '%s' version %s with SHA-256 %s submitted "
		    "by '%s', but submission leaf %lld recorded SHA-256 %s by '%s': the registry was "
		    "changed outside linesec",
		    a->name, a->version, a->digest, a->created_by, (long long)leaf_seq(s), leaf_sha(s),
		    by != NULL ? by : "(none)");
	/* Two approvals are two people: one person's name twice is never two signatures. */
	LSEC_ENSURE(a->approvers[1][0] == 0 || !same(a->approvers[0], a->approvers[1]),
		    LSEC_E_AUDIT_INDEX,
		    "registry table sop_approvals approves SOP '%s' version %s twice by '%s': the "
		    "registry was changed outside linesec",
		    a->name, a->version, a->approvers[0]);
	for (unsigned k = 0; k < 2; k++) {
		const char *p = a->approvers[k];
		const char *pm[] = {"sop",	     a->name, "sop_version", a->version, "person", p,
				    "evidence." LSEC_EV_SOP_SHA256, a->digest, NULL};
		bool backed = false;
		if (p[0] == 0) {
			continue;
		}
		json_array_foreach(appr, i, l)
		{
			backed |= lsec_audit_leaf_matches(l, "sop.approve", pm);
		}
		LSEC_ENSURE(backed, LSEC_E_AUDIT_INDEX,
			    "registry table sop_approvals approves SOP '%s' version %s (SHA-256 %s) "
			    "by '%s', but no approval leaf backs it: the registry was changed outside "
			    "linesec",
			    a->name, a->version, a->digest, p);
	}
	LSEC_ENSURE(a->n_approvals >= leaves, LSEC_E_AUDIT_INDEX,
		    "registry table sop_approvals holds %u approvals of SOP '%s' version %s, but its "
		    "leaves record %u: the registry was changed outside linesec",
		    a->n_approvals, a->name, a->version, leaves);
out:
	return rc;
}

/*
 * Checks the n version rows a of SOP name (every SOP when NULL) against
 * their leaves, read once through the action index. Errors: those of
 * lsec_audit_leaves_find and check_version.
 */
static int check_versions(lsec_store *st, const char *name, const lsec_store_approvable *a,
			  size_t n, json_t **sub_out, json_t **appr_out, lsec_err *err)
{
	int rc = 0;
	json_t *sub = NULL, *appr = NULL;
	const char *match[] = {"sop", name, NULL};
	if (n == 0) {
		return 0;
	}
	LSEC_TRY(lsec_audit_leaves_find(&sub, st, "sop.submit", name ? match : NULL, err));
	LSEC_TRY(lsec_audit_leaves_find(&appr, st, "sop.approve", name ? match : NULL, err));
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(check_version(&a[i], sub, appr, err));
	}
	if (sub_out != NULL) {
		*sub_out = json_incref(sub);
		*appr_out = json_incref(appr);
	}
out:
	json_decref(sub);
	json_decref(appr);
	return rc;
}

/* ---- approval dates from the audit log ------------------------------- */

typedef struct dates_ctx {
	lsec_sop_version_info *v;
	size_t n;
} dates_ctx;

static int date_leaf(void *ctx, uint64_t seq, const char *unit, const uint8_t *leaf, size_t len,
		     const uint8_t leaf_hash[32], const uint8_t *sig, size_t sig_len, lsec_err *err)
{
	static const char needle[] = "\"action\":\"sop.approve\"";
	(void)seq;
	(void)unit;
	(void)leaf_hash;
	(void)sig;
	(void)sig_len;
	(void)err;
	dates_ctx *c = ctx;
	if (len < sizeof(needle) || memmem(leaf, len, needle, sizeof(needle) - 1) == NULL) {
		return 0;
	}
	json_error_t je;
	json_t *j = json_loadb((const char *)leaf, len, 0, &je);
	const char *sop = json_string_value(json_object_get(j, "sop"));
	const char *t = json_string_value(json_object_get(j, "time"));
	json_int_t ver = json_integer_value(json_object_get(j, "sop_version"));
	for (size_t i = 0; sop != NULL && t != NULL && i < c->n; i++) {
		lsec_sop_version_info *vi = &c->v[i];
		if (vi->approved && vi->version == ver && strcmp(vi->name, sop) == 0) {
			/* the last approval is the one that made it approved */
			snprintf(vi->approved_at, sizeof(vi->approved_at), "%.31s", t);
		}
	}
	json_decref(j);
	return 0;
}

static int fill_dates(lsec_store *st, lsec_sop_version_info *v, size_t n, lsec_err *err)
{
	int rc = 0;
	uint64_t count = 0;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		any |= v[i].approved;
	}
	if (!any) {
		return 0;
	}
	dates_ctx c = {v, n};
	LSEC_TRY(lsec_store_leaf_count(&count, st, err));
	LSEC_TRY(lsec_store_leaf_foreach(st, 0, count, date_leaf, &c, err));
out:
	return rc;
}

/* ---- API ---------------------------------------------------------------- */

/*
 * The stored versions, sorted; approval dates only when asked (they cost a
 * log scan). sub, appr not NULL: the submit and approve leaves the rows were
 * checked against (json_decref), NULL when there are no rows.
 */
static int list_versions_kept(lsec_sop_version_info **out, size_t *n_out, lsec_store *st,
			      const char *name, bool dates, json_t **sub, json_t **appr,
			      lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *a = NULL;
	size_t n = 0;
	lsec_sop_version_info *v = NULL;
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store_sop_list(&a, &n, st, name, err));
	LSEC_TRY(check_versions(st, name, a, n, sub, appr, err));
	if (n > 0) {
		v = lsec_calloc(n, sizeof(*v));
		LSEC_ENSURE(v != NULL, LSEC_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		fill_info(&v[i], &a[i]);
		LSEC_TRY(lsec_sop_withdrawn(&v[i].withdrawn, NULL, NULL, 0, st, v[i].name,
					    v[i].version, err));
	}
	/* by name, then version (the store lists by insertion) */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			int c = strcmp(v[j - 1].name, v[j].name);
			if (c < 0 || (c == 0 && v[j - 1].version <= v[j].version)) {
				break;
			}
			lsec_sop_version_info tmp = v[j - 1];
			v[j - 1] = v[j];
			v[j] = tmp;
		}
	}
	if (dates) {
		LSEC_TRY(fill_dates(st, v, n, err));
	}
	*out = v;
	*n_out = n;
	v = NULL;
out:
	lsec_free(a);
	lsec_free(v);
	return rc;
}

static int list_versions(lsec_sop_version_info **out, size_t *n_out, lsec_store *st,
			 const char *name, bool dates, lsec_err *err)
{
	return list_versions_kept(out, n_out, st, name, dates, NULL, NULL, err);
}

int lsec_sop_versions(lsec_sop_version_info **out, size_t *n_out, lsec_store *st,
		      const char *name, lsec_err *err)
{
	return list_versions(out, n_out, st, name, false, err);
}

int lsec_sop_versions_dated(lsec_sop_version_info **out, size_t *n_out, lsec_store *st,
			    const char *name, lsec_err *err)
{
	return list_versions(out, n_out, st, name, true, err);
}

static int fetch(lsec_sop **out, lsec_sop_version_info *info_out, lsec_buf *body_out,
		 lsec_store *st, const char *name, int version, bool dates, lsec_err *err)
{
	int rc = 0;
	lsec_sop_version_info *all = NULL;
	size_t n = 0;
	lsec_store_approvable a;
	lsec_buf body = LSEC_BUF_INIT(BODY_MAX);
	char ver[16], label[96], hex[65];
	json_t *sub = NULL, *appr = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(name);
	if (version == 0) {
		LSEC_TRY(list_versions_kept(&all, &n, st, name, false, &sub, &appr, err));
		for (size_t i = 0; i < n; i++) {
			if (all[i].approved && all[i].version > version) {
				version = all[i].version;
			}
		}
		LSEC_ENSURE(version > 0, LSEC_E_SOP_NOT_APPROVED,
			    "SOP '%s' has no approved version (only approved versions run)", name);
		/* A withdrawn version is not run, and no older one is run in its place. */
		bool wd = false;
		int64_t seq = 0;
		char why[256];
		LSEC_TRY(lsec_sop_withdrawn(&wd, &seq, why, sizeof(why), st, name, version, err));
		LSEC_ENSURE(!wd, LSEC_E_SOP_WITHDRAWN,
			    "SOP '%s' version %d was withdrawn from every station (leaf %lld: %s) "
			    "and no newer version is approved: SOP '%s' cannot run until a new "
			    "version is submitted and approved (linesec sop submit, linesec sop "
			    "approve)",
			    name, version, (long long)seq, why, name);
	}
	snprintf(ver, sizeof(ver), "%d", version);
	LSEC_TRY(lsec_store_sop_get(&a, &body, st, name, ver, err));
	uint8_t digest[32];
	LSEC_TRY(lsec_sha256(digest, body.data, body.len, err));
	lsec_hex_encode(hex, digest, 32);
	LSEC_ENSURE(strlen(a.digest) == 64 && lsec_ct_equal(hex, a.digest, 64), LSEC_E_CRYPTO,
		    "cannot load SOP '%s' version %d: stored file does not match its SHA-256 %s",
		    name, version, a.digest);
	if (sub != NULL) {
		/* The row read now, against the leaves the listing was just checked against. */
		LSEC_TRY(check_version(&a, sub, appr, err));
	} else {
		LSEC_TRY(check_versions(st, name, &a, 1, NULL, NULL, err));
	}
	snprintf(label, sizeof(label), "%s v%d (registry)", name, version);
	LSEC_TRY(lsec_sop_parse(out, NULL, body.data, body.len, label, err));
	LSEC_ENSURE(strcmp(lsec_sop_name(*out), name) == 0 && lsec_sop_version(*out) == version,
		    LSEC_E_CRYPTO, "cannot load SOP '%s' version %d: the stored file says %s version %d",
		    name, version, lsec_sop_name(*out), lsec_sop_version(*out));
	if (info_out != NULL) {
		fill_info(info_out, &a);
		if (dates) {
			LSEC_TRY(fill_dates(st, info_out, 1, err));
		}
	}
	if (body_out != NULL) {
		LSEC_TRY(lsec_buf_append(body_out, body.data, body.len, err));
	}
out:
	if (rc < 0) {
		lsec_sop_free(*out);
		*out = NULL;
	}
	lsec_free(all);
	lsec_buf_release(&body);
	json_decref(sub);
	json_decref(appr);
	return rc;
}

int lsec_sop_fetch(lsec_sop **out, lsec_sop_version_info *info_out, lsec_buf *body_out,
		   lsec_store *st, const char *name, int version, lsec_err *err)
{
	return fetch(out, info_out, body_out, st, name, version, false, err);
}

int lsec_sop_fetch_approved(lsec_sop **out, lsec_store *st, lsec_sop_kind kind, lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	const char *name = lsec_sop_kind_name(kind);
	LSEC_ENSURE(name != NULL, LSEC_E_USAGE, "unknown SOP kind %d", (int)kind);
	LSEC_TRY(fetch(out, NULL, NULL, st, name, 0, false, err));
out:
	return rc;
}

int lsec_sop_submit(lsec_sop **sop_out, lsec_store *st, const lsec_actor *who, lsec_role role,
		    const uint8_t *data, size_t len, const char *label, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_version_info *all = NULL;
	size_t n = 0;
	char *body = NULL;
	char hex[65], ver[16];
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	if (sop_out != NULL) {
		*sop_out = NULL;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(who);
	LSEC_ENSURE_REF(label);
	LSEC_ENSURE(data != NULL && memchr(data, 0, len) == NULL, LSEC_E_SOP_BAD_VALUE,
		    "cannot submit SOP '%s': the file is not text (NUL byte)", label);
	LSEC_TRY(lsec_sop_parse(&sop, NULL, data, len, label, err));
	LSEC_TRY(require_role(who->person, role, false, err));
	const char *name = lsec_sop_name(sop);
	LSEC_TRY(list_versions(&all, &n, st, name, false, err));
	for (size_t i = 0; i < n; i++) {
		LSEC_ENSURE(all[i].version < lsec_sop_version(sop), all[i].version == lsec_sop_version(sop) ? LSEC_E_EXISTS : LSEC_E_STATE,
			    "cannot submit SOP '%s' version %d from '%s': version %d is already stored%s",
			    name, lsec_sop_version(sop), label, all[i].version,
			    all[i].version == lsec_sop_version(sop) ? "" : "; a new version must be above it");
	}
	body = lsec_malloc(len + 1);
	LSEC_ENSURE(body != NULL, LSEC_E_NOMEM, "out of memory");
	memcpy(body, data, len);
	body[len] = 0;
	lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
	snprintf(ver, sizeof(ver), "%d", lsec_sop_version(sop));
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_sop_add(NULL, st, name, ver, hex, body, who->person, err));
	LSEC_TRY(record(st, who, name, lsec_sop_version(sop), "sop.submit", hex, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (sop_out != NULL) {
		*sop_out = sop;
		sop = NULL;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_free(body);
	lsec_free(all);
	lsec_sop_free(sop);
	return rc;
}

int lsec_sop_approve(lsec_store *st, const lsec_actor *who, lsec_role role, const char *name,
		     int version, lsec_err *err)
{
	return lsec_sop_approve_reviewed(st, who, role, name, version, NULL, err);
}

int lsec_sop_approve_reviewed(lsec_store *st, const lsec_actor *who, lsec_role role,
			      const char *name, int version, const char *sha256_hex, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_version_info vi;
	char ver[16];
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(who);
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE(version > 0, LSEC_E_USAGE, "cannot approve SOP '%s': version %d", name, version);
	LSEC_TRY(require_role(who->person, role, true, err));
	/* the bytes as stored, checked against their digest and today's policy */
	LSEC_TRY(fetch(&sop, &vi, NULL, st, name, version, false, err));
	LSEC_ENSURE(strcmp(vi.submitter, who->person) != 0, LSEC_E_SOP_SELF_APPROVAL,
		    "'%s' submitted SOP '%s' version %d and cannot approve it: approval needs another person",
		    who->person, name, version);
	LSEC_ENSURE(sha256_hex == NULL || strcasecmp(sha256_hex, vi.sha256_hex) == 0,
		    LSEC_E_SOP_DIGEST,
		    "cannot approve SOP '%s' version %d: its SHA-256 is %s, not the reviewed %.64s",
		    name, version, vi.sha256_hex, sha256_hex);
	snprintf(ver, sizeof(ver), "%d", version);
	LSEC_TRY(lsec_store_tx_begin(&tx, st, err));
	LSEC_TRY(lsec_store_sop_approve(st, name, ver, who->person, err));
	LSEC_TRY(record(st, who, name, version, "sop.approve", vi.sha256_hex, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	lsec_sop_free(sop);
	return rc;
}

/* Context of render_stored: the format, or a caller's sink. */
typedef struct stored_to {
	lsec_buf *out;
	lsec_sop_format format;
	const lsec_sop_render_sink *sink;
	void *ctx;
} stored_to;

static int render_stored(lsec_store *st, const char *name, int version, const stored_to *to,
			 lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_version_info *all = NULL;
	lsec_sop_revision *hist = NULL;
	char (*approvers)[140] = NULL;
	size_t n = 0, nh = 0;
	lsec_sop_version_info cur;
	LSEC_TRY(fetch(&sop, &cur, NULL, st, name, version, false, err));
	LSEC_TRY(lsec_sop_versions_dated(&all, &n, st, name, err));
	hist = lsec_calloc(n + 1, sizeof(*hist));
	approvers = lsec_calloc(n + 1, sizeof(*approvers));
	LSEC_ENSURE(hist != NULL && approvers != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const lsec_sop_version_info *v = &all[i];
		if (v->version > lsec_sop_version(sop)) {
			continue;
		}
		snprintf(approvers[nh], sizeof(approvers[nh]), "%s%s%s", v->approvers[0],
			 v->approvers[1][0] ? ", " : "", v->approvers[1]);
		lsec_sop_revision *r = &hist[nh];
		r->version = v->version;
		r->sha256_hex = v->sha256_hex;
		r->submitter = v->submitter;
		r->submitted = v->submitted;
		r->approvers = approvers[nh];
		r->approved = v->approved && v->approved_at[0] ? v->approved_at : NULL;
		r->change = v->version == lsec_sop_version(sop) ? sop->change : NULL;
		nh++;
	}
	lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
	ro.format = to->format;
	ro.draft = !cur.approved;
	ro.history = hist;
	ro.nhistory = nh;
	if (to->sink != NULL) {
		LSEC_TRY(lsec_sop_render_walk(sop, &ro, to->sink, to->ctx, err));
	} else {
		LSEC_TRY(lsec_sop_render(to->out, sop, &ro, err));
	}
out:
	lsec_free(approvers);
	lsec_free(hist);
	lsec_free(all);
	lsec_sop_free(sop);
	return rc;
}

int lsec_sop_render_stored(lsec_buf *out, lsec_store *st, const char *name, int version,
			   lsec_sop_format format, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(out);
	stored_to to = {out, format, NULL, NULL};
	LSEC_TRY(render_stored(st, name, version, &to, err));
out:
	return rc;
}

int lsec_sop_render_stored_walk(lsec_store *st, const char *name, int version,
				const lsec_sop_render_sink *sink, void *ctx, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE_REF(sink);
	stored_to to = {NULL, LSEC_SOP_FORMAT_MD, sink, ctx};
	LSEC_TRY(render_stored(st, name, version, &to, err));
out:
	return rc;
}

int lsec_sop_diff(lsec_buf *out, lsec_store *st, const char *name, int v1, int v2, lsec_err *err)
{
	int rc = 0;
	lsec_sop *a = NULL, *b = NULL;
	lsec_buf ba = LSEC_BUF_INIT(BODY_MAX), bb = LSEC_BUF_INIT(BODY_MAX);
	char la[96], lb[96];
	LSEC_ENSURE(v1 > 0 && v2 > 0, LSEC_E_USAGE, "cannot diff SOP '%s': versions must be above 0",
		    name ? name : "?");
	LSEC_TRY(fetch(&a, NULL, &ba, st, name, v1, false, err));
	LSEC_TRY(fetch(&b, NULL, &bb, st, name, v2, false, err));
	snprintf(la, sizeof(la), "%s version %d", name, v1);
	snprintf(lb, sizeof(lb), "%s version %d", name, v2);
	LSEC_TRY(lsec_sop_diff_text(out, la, ba.data, ba.len, lb, bb.data, bb.len, err));
out:
	lsec_sop_free(a);
	lsec_sop_free(b);
	lsec_buf_release(&ba);
	lsec_buf_release(&bb);
	return rc;
}
