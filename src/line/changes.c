/*
 * changes.c - changes of trust that take two security officers, and the
 * enrolment of a new person.
 *
 * One officer requests a change (a kind, a subject, a canonical JSON
 * payload): a change_requests row and a change.request leaf. Nothing else
 * changes until a second, distinct officer approves it, signing with their
 * password: the approval checks the row against its request leaf, records
 * change.approve and applies the change in the same transaction (the line's
 * own kinds here; any other kind through the caller's apply function). A
 * change of station trust records station.change.request, .approve and
 * .reject instead (audit.h), read alone when the trusted stations are
 * derived.
 *
 * A person added, or whose password is reset, gets no password from either
 * officer: the requester is shown one half of an enrolment code, the
 * approver the other, and each half is kept only as an Argon2id hash (the
 * requester's in the change's row, the approver's in the people row after
 * "enrol:<change id>:"). The person sets their own password with both
 * halves (lsec_line_enrol).
 *
 * @test tests/unit/line/test_changes.c, tests/e2e/test_two_officers.sh
 */
#include "line/line_int.h"

#include "linesec/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Public text (names, kinds, states), not secrets. */
static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0; /* lint:ok: public text */
}

static bool person_kind(const char *kind)
{
	return same(kind, LSEC_LINE_CHANGE_PERSON_ADD) ||
	       same(kind, LSEC_LINE_CHANGE_PERSON_DISABLE) || same(kind, LSEC_LINE_CHANGE_ROLE) ||
	       same(kind, LSEC_LINE_CHANGE_PASSWORD_RESET);
}

static bool line_kind(const char *kind)
{
	return person_kind(kind) || lsec_line__station_kind(kind);
}

/* The leaves of a change: its request, its approval, its rejection. */
enum change_phase { PHASE_REQUEST, PHASE_APPROVE, PHASE_REJECT };
static const char *const change_actions[] = {"change.request", "change.approve", "change.reject"};
static const char *const station_change_actions[] = {LSEC_AUDIT_STATION_CHANGE_REQUEST,
						     LSEC_AUDIT_STATION_CHANGE_APPROVE,
						     LSEC_AUDIT_STATION_CHANGE_REJECT};

/*
 * The actions of the leaves of a change of kind: a change of station trust
 * has its own, which the trusted-station derivation (at every open) reads
 * alone.
 */
static const char *const *phase_actions(const char *kind)
{
	return lsec_line__station_kind(kind) ? station_change_actions : change_actions;
}

/* Kinds that give the subject a new enrolment code. */
static bool enrol_kind(const char *kind)
{
	return same(kind, LSEC_LINE_CHANGE_PERSON_ADD) ||
	       same(kind, LSEC_LINE_CHANGE_PASSWORD_RESET);
}

/* A signing security officer (lsec_line_sign) with a live session. */
static int require_signing_officer(lsec_line *line, const lsec_line_actor *by, const char *act,
				   lsec_err *err)
{
	int rc = 0;
	lsec_line_actor fresh;
	LSEC_ENSURE(by != NULL && by->authenticated, LSEC_E_AUTH,
		    "cannot %s: the security officer must sign with their password at this moment",
		    act);
	LSEC_TRY(lsec_line_authorize(&fresh, line, by->name,
				     LSEC_ROLE_BIT(LSEC_ROLE_SECURITY_OFFICER), act, err));
out:
	return rc;
}

/* A random half of an enrolment code (hex) and its Argon2id hash. */
static int new_half(char half[LSEC_LINE_ENROL_HALF + 1], char *hash, size_t cap, lsec_err *err)
{
	int rc = 0;
	uint8_t raw[LSEC_LINE_ENROL_HALF / 2];
	lsec_secret *s = NULL;
	LSEC_TRY(lsec_random(raw, sizeof(raw), err));
	lsec_hex_encode(half, raw, sizeof(raw));
	LSEC_TRY(lsec_secret_from(&s, half, LSEC_LINE_ENROL_HALF, err));
	LSEC_TRY(lsec_line_password_hash(hash, cap, s, err));
out:
	lsec_wipe(raw, sizeof(raw));
	lsec_secret_free(s);
	return rc;
}

/* Hex SHA-256 of text ("" gives ""): what a leaf records of a hash it must not hold. */
static int commit_text(char out[65], const char *text, lsec_err *err)
{
	out[0] = '\0';
	return text[0] != '\0' ? lsec_line__pw_commit(out, text, err) : 0;
}

/*
 * Checks the line's kinds against the registry as it is now: the subject
 * and the role in payload. *role (may be NULL) is the role a person-add or
 * role-change names.
 */
static int check_line_change(lsec_role *role, lsec_line *line, const char *requester,
			     const char *kind, const char *subject, const json_t *payload,
			     lsec_err *err)
{
	int rc = 0;
	lsec_store_person p;
	lsec_role r = LSEC_ROLE_OPERATOR;
	memset(&p, 0, sizeof(p));
	LSEC_TRY(lsec_ident_check(subject, "person name", err));
	LSEC_ENSURE(!same(subject, requester), LSEC_E_POLICY,
		    "cannot request %s of '%s': a security officer cannot request a change of "
		    "their own account",
		    kind, subject);
	if (same(kind, LSEC_LINE_CHANGE_PERSON_ADD) || same(kind, LSEC_LINE_CHANGE_ROLE)) {
		LSEC_TRY(lsec_role_parse(&r, json_string_value(json_object_get(payload,
									       LSEC_EV_ROLE)),
					 err));
	}
	int got = lsec_line_person_get(&p, line->st, subject, err);
	if (same(kind, LSEC_LINE_CHANGE_PERSON_ADD)) {
		LSEC_ENSURE(got == LSEC_E_NOTFOUND, got < 0 && got != LSEC_E_NOTFOUND ? got
										 : LSEC_E_EXISTS,
			    "cannot add person '%s': the name is already taken", subject);
		lsec_err_clear(err);
	} else {
		LSEC_TRY(got);
		LSEC_ENSURE(!p.disabled, LSEC_E_STATE, "cannot request %s of '%s': the person is "
						       "disabled",
			    kind, subject);
	}
	if (role != NULL) {
		*role = same(kind, LSEC_LINE_CHANGE_PERSON_ADD) || same(kind, LSEC_LINE_CHANGE_ROLE)
				? r
				: p.role;
	}
out:
	lsec_wipe(&p, sizeof(p));
	return rc;
}

int lsec_line_change_request(int64_t *id_out, char *half_out, size_t half_cap, lsec_line *line,
			     const lsec_line_actor *by, const char *kind, const char *subject,
			     const json_t *payload, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	char *canon = NULL;
	char half[LSEC_LINE_ENROL_HALF + 1] = "", hash[160] = "", commit[65] = "";
	json_t *ev = NULL;
	int64_t id = 0;
	*id_out = 0;
	if (half_out != NULL && half_cap > 0) {
		half_out[0] = '\0';
	}
	LSEC_ENSURE_REF(line);
	LSEC_ENSURE_REF(kind);
	LSEC_ENSURE_REF(subject);
	LSEC_ENSURE(json_is_object(payload), LSEC_E_USAGE,
		    "cannot request %s of '%s': the payload must be a JSON object", kind, subject);
	LSEC_TRY(lsec_ident_check(kind, "change kind", err));
	LSEC_TRY(require_signing_officer(line, by, "request a change", err));
	if (person_kind(kind)) {
		LSEC_TRY(check_line_change(NULL, line, by->name, kind, subject, payload, err));
	} else if (lsec_line__station_kind(kind)) {
		LSEC_TRY(lsec_line__station_check(line, kind, subject, payload, err));
	}
	if (enrol_kind(kind)) {
		LSEC_ENSURE(half_out != NULL && half_cap > LSEC_LINE_ENROL_HALF, LSEC_E_USAGE,
			    "cannot request %s of '%s': nowhere to put the enrolment code", kind,
			    subject);
		LSEC_TRY(new_half(half, hash, sizeof(hash), err));
	}
	LSEC_TRY(commit_text(commit, hash, err));
	LSEC_TRY(lsec_json_canonical(&canon, payload, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_store_change_add(&id, line->st, kind, subject, canon,
				       hash[0] ? hash : NULL, by->name, err));
	ev = json_pack("{s:I,s:s,s:s,s:O,s:s,s:s}", LSEC_EV_CHANGE, (json_int_t)id, LSEC_EV_KIND,
		       kind, LSEC_EV_SUBJECT, subject, LSEC_EV_PAYLOAD, payload,
		       "enrol-hash-sha256", commit, LSEC_EV_MEANING, LSEC_MEANING_SUBMITTED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_line__record(line, by->name, phase_actions(kind)[PHASE_REQUEST], "ok", ev,
				   err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	*id_out = id;
	if (half_out != NULL && half[0] != '\0') {
		snprintf(half_out, half_cap, "%s", half);
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_free(canon);
	lsec_wipe(half, sizeof(half));
	lsec_wipe(hash, sizeof(hash));
	return rc;
}

/*
 * The leaves of phase matching match, under actions (those the request of
 * the change, of kind, was found under); a change of station trust
 * requested under the change.* actions may have been decided under its own
 * since.
 */
static int decisions(json_t **out, lsec_line *line, const char *kind, const char *const *actions,
		     enum change_phase phase, const char *const *match, lsec_err *err)
{
	int rc = 0;
	json_t *more = NULL;
	LSEC_TRY(lsec_audit_leaves_find(out, line->st, actions[phase], match, err));
	if (actions == change_actions && lsec_line__station_kind(kind)) {
		LSEC_TRY(lsec_audit_leaves_find(&more, line->st, station_change_actions[phase],
						match, err));
		LSEC_ENSURE(json_array_extend(*out, more) == 0, LSEC_E_NOMEM, "out of memory");
	}
out:
	json_decref(more);
	return rc;
}

/*
 * Checks change c against its change.request leaf: one leaf for its id,
 * naming the requester, kind, subject, payload and enrolment commitment the
 * row holds. LSEC_E_AUDIT_INDEX naming the table and the change otherwise.
 */
static int check_request_leaf(lsec_line *line, const lsec_store_change *c, lsec_err *err)
{
	int rc = 0;
	json_t *found = NULL, *approved = NULL, *rejected = NULL, *parsed = NULL;
	char idtext[24], commit[65], *canon = NULL, *row_canon = NULL;
	snprintf(idtext, sizeof(idtext), "%lld", (long long)c->id);
	const char *match[] = {"evidence." LSEC_EV_CHANGE, idtext, "outcome", "ok", NULL};
	const char *const *actions = phase_actions(c->kind);
	LSEC_TRY(lsec_audit_leaves_find(&found, line->st, actions[PHASE_REQUEST], match, err));
	if (json_array_size(found) == 0 && actions != change_actions) {
		/* Requested before a change of station trust had leaves of its own. */
		json_decref(found);
		found = NULL;
		actions = change_actions;
		LSEC_TRY(lsec_audit_leaves_find(&found, line->st, actions[PHASE_REQUEST], match,
						err));
	}
	json_t *leaf = json_array_get(found, 0);
	json_t *ev = json_object_get(leaf, "evidence");
	LSEC_TRY(commit_text(commit, c->enrol_hash, err));
	if (leaf != NULL) {
		LSEC_TRY(lsec_json_canonical(&canon, json_object_get(ev, LSEC_EV_PAYLOAD), err));
	}
	parsed = json_loads(c->payload, 0, NULL);
	if (parsed != NULL) {
		LSEC_TRY(lsec_json_canonical(&row_canon, parsed, err));
	}
	LSEC_ENSURE(json_array_size(found) == 1 &&
			    same(json_string_value(json_object_get(leaf, "person")),
				 c->requested_by) &&
			    same(json_string_value(json_object_get(ev, LSEC_EV_KIND)), c->kind) &&
			    same(json_string_value(json_object_get(ev, LSEC_EV_SUBJECT)),
				 c->subject) &&
			    same(json_string_value(json_object_get(ev, "enrol-hash-sha256")),
				 commit) &&
			    same(canon, c->payload) && same(row_canon, c->payload),
		    LSEC_E_AUDIT_INDEX,
		    "registry table change_requests holds change %lld (%s of '%s' by '%s') that no "
		    "%s leaf of the log records so: the registry was changed outside linesec",
		    (long long)c->id, c->kind, c->subject, c->requested_by,
		    phase_actions(c->kind)[PHASE_REQUEST]);
	/* The row's state is the one its decision leaves prove: a decided change
	 * set back to pending by SQL is neither approved twice nor un-rejected. */
	const char *dmatch[] = {"evidence." LSEC_EV_CHANGE, idtext, "outcome", "ok", NULL};
	LSEC_TRY(decisions(&approved, line, c->kind, actions, PHASE_APPROVE, dmatch, err));
	LSEC_TRY(decisions(&rejected, line, c->kind, actions, PHASE_REJECT, dmatch, err));
	size_t na = json_array_size(approved), nr = json_array_size(rejected);
	const json_t *decision = na > 0 ? json_array_get(approved, 0) : json_array_get(rejected, 0);
	const char *proven = na > 0 ? "approved" : nr > 0 ? "rejected" : "pending";
	LSEC_ENSURE(na + nr <= 1 && same(proven, c->state), LSEC_E_AUDIT_INDEX,
		    "registry table change_requests holds change %lld (%s of '%s') as %s, but the "
		    "log makes it %s (leaf %lld): the registry was changed outside linesec",
		    (long long)c->id, c->kind, c->subject, c->state, proven,
		    (long long)json_integer_value(json_object_get(decision, "seq")));
out:
	json_decref(found);
	json_decref(approved);
	json_decref(rejected);
	json_decref(parsed);
	lsec_free(canon);
	lsec_free(row_canon);
	return rc;
}

/* The person leaf an approved change of the line's kinds records, and the row it writes. */
static int apply_line_change(lsec_line *line, const lsec_store_change *c, const char *approver,
			     lsec_role role, const char *enrol_pw_hash, lsec_err *err)
{
	int rc = 0;
	lsec_store_person p;
	json_t *ev = NULL;
	char pw[65];
	memset(&p, 0, sizeof(p));
	ev = json_pack("{s:s,s:I,s:s}", LSEC_EV_NAME, c->subject, LSEC_EV_CHANGE,
		       (json_int_t)c->id, "requested-by", c->requested_by);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	if (same(c->kind, LSEC_LINE_CHANGE_PERSON_ADD)) {
		LSEC_TRY(lsec_line__pw_commit(pw, enrol_pw_hash, err));
		LSEC_TRY(lsec_line__person_evidence(ev, role, false, pw, err));
		LSEC_TRY(lsec_store_person_add(line->st, c->subject, role, enrol_pw_hash, err));
		LSEC_TRY(lsec_line__record(line, approver, "person-add", "ok", ev, err));
		goto out;
	}
	LSEC_TRY(lsec_line_person_get(&p, line->st, c->subject, err));
	if (same(c->kind, LSEC_LINE_CHANGE_PERSON_DISABLE)) {
		LSEC_TRY(lsec_line__pw_commit(pw, p.pw_hash, err));
		LSEC_TRY(lsec_line__person_evidence(ev, p.role, true, pw, err));
		LSEC_TRY(lsec_store_person_disable(line->st, c->subject, err));
		LSEC_TRY(lsec_line__record(line, approver, "person-disable", "ok", ev, err));
		goto out;
	}
	const char *hash = enrol_pw_hash != NULL ? enrol_pw_hash : p.pw_hash;
	LSEC_TRY(lsec_line__pw_commit(pw, hash, err));
	LSEC_TRY(lsec_line__person_evidence(ev, role, false, pw, err));
	LSEC_TRY(lsec_store_person_update(line->st, c->subject, role, hash, err));
	LSEC_TRY(lsec_line__record(line, approver, "person-update", "ok", ev, err));
out:
	json_decref(ev);
	lsec_wipe(&p, sizeof(p));
	return rc;
}

int lsec_line_change_approve(lsec_store_change *out, char *half_out, size_t half_cap,
			     lsec_line *line, const lsec_line_actor *by, int64_t id,
			     lsec_line_change_apply_fn apply, void *ctx, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_change c;
	json_t *payload = NULL, *ev = NULL;
	char half[LSEC_LINE_ENROL_HALF + 1] = "", hash[160] = "", pw_hash[200] = "";
	lsec_role role = LSEC_ROLE_OPERATOR;
	memset(&c, 0, sizeof(c));
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
	}
	if (half_out != NULL && half_cap > 0) {
		half_out[0] = '\0';
	}
	LSEC_ENSURE_REF(line);
	LSEC_TRY(require_signing_officer(line, by, "approve a change", err));
	LSEC_TRY(lsec_store_change_get(&c, line->st, id, err));
	LSEC_ENSURE(same(c.state, "pending"), LSEC_E_STATE,
		    "cannot approve change %lld: it is %s (by %s)", (long long)id, c.state,
		    c.decided_by);
	LSEC_TRY(check_request_leaf(line, &c, err));
	LSEC_ENSURE(!same(c.requested_by, by->name), LSEC_E_POLICY,
		    "cannot approve change %lld (%s of '%s'): '%s' requested it; a second, distinct "
		    "security officer must approve",
		    (long long)id, c.kind, c.subject, by->name);
	LSEC_ENSURE(!same(c.subject, by->name), LSEC_E_POLICY,
		    "cannot approve change %lld (%s of '%s'): a security officer cannot approve a "
		    "change of their own account",
		    (long long)id, c.kind, c.subject);
	payload = json_loads(c.payload, 0, NULL);
	LSEC_ENSURE(json_is_object(payload), LSEC_E_AUDIT_INDEX,
		    "registry table change_requests holds change %lld whose payload is not a JSON "
		    "object",
		    (long long)id);
	bool ours = line_kind(c.kind);
	LSEC_ENSURE(ours || apply != NULL, LSEC_E_USAGE,
		    "cannot approve change %lld: kind %s is applied by another command", (long long)id,
		    c.kind);
	bool station = lsec_line__station_kind(c.kind);
	if (station) {
		LSEC_TRY(lsec_line__station_check(line, c.kind, c.subject, payload, err));
	} else if (ours) {
		LSEC_TRY(check_line_change(&role, line, c.requested_by, c.kind, c.subject, payload,
					   err));
	}
	if (enrol_kind(c.kind)) {
		LSEC_ENSURE(half_out != NULL && half_cap > LSEC_LINE_ENROL_HALF, LSEC_E_USAGE,
			    "cannot approve change %lld: nowhere to put the enrolment code",
			    (long long)id);
		LSEC_TRY(new_half(half, hash, sizeof(hash), err));
		int n = snprintf(pw_hash, sizeof(pw_hash), "%s%lld:%s", LSEC_LINE__ENROL_PREFIX,
				 (long long)id, hash);
		LSEC_ENSURE(n > 0 && (size_t)n < sizeof(((lsec_store_person *)0)->pw_hash),
			    LSEC_E_INTERNAL, "enrolment hash too long");
	}
	ev = json_pack("{s:I,s:s,s:s,s:s,s:s}", LSEC_EV_CHANGE, (json_int_t)id, LSEC_EV_KIND,
		       c.kind, LSEC_EV_SUBJECT, c.subject, "requested-by", c.requested_by,
		       LSEC_EV_MEANING, LSEC_MEANING_APPROVED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_store_change_decide(line->st, id, "approved", by->name, err));
	LSEC_TRY(lsec_line__record(line, by->name, phase_actions(c.kind)[PHASE_APPROVE], "ok", ev,
				   err));
	if (station) {
		json_t *extra = json_pack("{s:I,s:s}", LSEC_EV_CHANGE, (json_int_t)id,
					  "requested-by", c.requested_by);
		LSEC_ENSURE(extra != NULL, LSEC_E_NOMEM, "out of memory");
		rc = lsec_line__station_record(line, by->name,
					       same(c.kind, LSEC_LINE_CHANGE_STATION_TRUST),
					       payload, extra, err);
		json_decref(extra);
		LSEC_TRY(rc);
	} else if (ours) {
		LSEC_TRY(apply_line_change(line, &c, by->name, role, pw_hash[0] ? pw_hash : NULL,
					   err));
	} else {
		LSEC_TRY(apply(ctx, line, &c, by->name, err));
	}
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (station) {
		/* The stations trusted from here on are those the log now says. */
		LSEC_TRY(lsec_line_trust_log(line->st, err));
	}
	/* A removal of trust is never left in the deletable tail after the last checkpoint. */
	if (same(c.kind, LSEC_LINE_CHANGE_PERSON_DISABLE) ||
	    same(c.kind, LSEC_LINE_CHANGE_STATION_DISTRUST)) {
		LSEC_TRY(lsec_line_checkpoint_now(line, by->name, err));
	}
	if (half_out != NULL && half[0] != '\0') {
		snprintf(half_out, half_cap, "%s", half);
	}
	if (out != NULL) {
		*out = c;
		snprintf(out->state, sizeof(out->state), "approved");
		snprintf(out->decided_by, sizeof(out->decided_by), "%s", by->name);
		lsec_wipe(out->enrol_hash, sizeof(out->enrol_hash));
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(payload);
	json_decref(ev);
	lsec_wipe(&c, sizeof(c));
	lsec_wipe(half, sizeof(half));
	lsec_wipe(hash, sizeof(hash));
	lsec_wipe(pw_hash, sizeof(pw_hash));
	return rc;
}

int lsec_line_change_reject(lsec_line *line, const lsec_line_actor *by, int64_t id,
			    lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_change c;
	json_t *ev = NULL;
	memset(&c, 0, sizeof(c));
	LSEC_ENSURE_REF(line);
	LSEC_TRY(require_signing_officer(line, by, "reject a change", err));
	LSEC_TRY(lsec_store_change_get(&c, line->st, id, err));
	LSEC_ENSURE(same(c.state, "pending"), LSEC_E_STATE,
		    "cannot reject change %lld: it is %s (by %s)", (long long)id, c.state,
		    c.decided_by);
	LSEC_TRY(check_request_leaf(line, &c, err));
	ev = json_pack("{s:I,s:s,s:s,s:s,s:s}", LSEC_EV_CHANGE, (json_int_t)id, LSEC_EV_KIND,
		       c.kind, LSEC_EV_SUBJECT, c.subject, "requested-by", c.requested_by,
		       LSEC_EV_MEANING, LSEC_MEANING_REJECTED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_store_change_decide(line->st, id, "rejected", by->name, err));
	LSEC_TRY(lsec_line__record(line, by->name, phase_actions(c.kind)[PHASE_REJECT], "ok", ev,
				   err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_wipe(&c, sizeof(c));
	return rc;
}

/* Checks half (hex) against an Argon2id hash; LSEC_E_AUTH when it differs. */
static int check_half(const char *hash, const char *half, size_t len, lsec_err *err)
{
	int rc = 0;
	lsec_secret *s = NULL;
	lsec_err ignored = LSEC_ERR_INIT;
	LSEC_TRY(lsec_secret_from(&s, half, len, err));
	LSEC_ENSURE(len == LSEC_LINE_ENROL_HALF && lsec_line_password_verify(hash, s, &ignored) == 0,
		    LSEC_E_AUTH, "wrong enrolment code");
out:
	lsec_secret_free(s);
	return rc;
}

/* Records a refused enrolment alone and fails with msg. */
static int refuse_enrol(lsec_line *line, const char *name, const char *outcome, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_line__record(line, name, "enrol", outcome, NULL, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	return rc < 0 ? rc
		      : lsec_err_set(err, LSEC_E_AUTH, __FILE__, __LINE__,
				     "cannot enrol '%s': wrong name or enrolment code", name);
}

int lsec_line_enrol(lsec_line *line, const char *name, const lsec_secret *code,
		    const lsec_secret *password, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_person p;
	lsec_store_change c;
	char hash[160] = "", pw[65], text[2 * LSEC_LINE_ENROL_HALF + 2] = "";
	json_t *ev = NULL;
	unsigned failures = 0;
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	LSEC_ENSURE_REF(line);
	LSEC_ENSURE_REF(code);
	LSEC_TRY(lsec_ident_check(name, "person name", err));
	/* The new password first: a bad one costs no attempt. */
	LSEC_TRY(lsec_line_password_hash(hash, sizeof(hash), password, err));
	LSEC_TRY(lsec_line__failures(&failures, line, name, err));
	if (failures >= LSEC_LINE_LOCK_AFTER) {
		LSEC_TRY(refuse_enrol(line, name, "refused-locked", err));
	}
	int got = lsec_line_person_get(&p, line->st, name, err);
	if (got == LSEC_E_NOTFOUND) {
		lsec_err_clear(err);
		LSEC_TRY(refuse_enrol(line, name, "refused", err));
	}
	LSEC_TRY(got);
	size_t plen = strlen(LSEC_LINE__ENROL_PREFIX);
	char *end = NULL;
	long long id = strncmp(p.pw_hash, LSEC_LINE__ENROL_PREFIX, plen) == 0
			       ? strtoll(p.pw_hash + plen, &end, 10)
			       : 0;
	if (id <= 0 || end == NULL || *end != ':' || p.disabled) {
		LSEC_TRY(refuse_enrol(line, name, "refused", err));
	}
	LSEC_TRY(lsec_store_change_get(&c, line->st, id, err));
	LSEC_TRY(check_request_leaf(line, &c, err));
	LSEC_ENSURE(same(c.state, "approved") && same(c.subject, name) && enrol_kind(c.kind),
		    LSEC_E_AUDIT_INDEX,
		    "registry table people holds an enrolment of '%s' that change %lld does not "
		    "grant: the registry was changed outside linesec",
		    name, id);
	/* "<requester half>-<approver half>"; the dash is optional. */
	size_t n = lsec_secret_len(code), k = 0;
	const uint8_t *cd = lsec_secret_cdata(code);
	for (size_t i = 0; i < n && k < sizeof(text) - 1; i++) {
		if (cd[i] != '-' && cd[i] != ' ') {
			text[k++] = (char)cd[i];
		}
	}
	if (k != 2 * LSEC_LINE_ENROL_HALF ||
	    check_half(c.enrol_hash, text, LSEC_LINE_ENROL_HALF, err) != 0 ||
	    check_half(end + 1, text + LSEC_LINE_ENROL_HALF, LSEC_LINE_ENROL_HALF, err) != 0) {
		lsec_err_clear(err);
		LSEC_TRY(refuse_enrol(line, name, "refused", err));
	}
	LSEC_TRY(lsec_line__pw_commit(pw, hash, err));
	ev = json_pack("{s:s,s:I,s:s}", LSEC_EV_NAME, name, LSEC_EV_CHANGE, (json_int_t)id,
		       LSEC_EV_MEANING, LSEC_MEANING_ENROLLED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_line__person_evidence(ev, p.role, false, pw, err));
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	LSEC_TRY(lsec_store_person_update(line->st, name, p.role, hash, err));
	LSEC_TRY(lsec_line__record(line, name, "person-update", "ok", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_wipe(&p, sizeof(p));
	lsec_wipe(&c, sizeof(c));
	lsec_wipe(hash, sizeof(hash));
	lsec_wipe(text, sizeof(text));
	return rc;
}
