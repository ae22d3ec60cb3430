/*
 * sopctl.c - the SOP controls at the station: a run of an approved SOP
 * version the person acting has not acknowledged reading is refused, and
 * so is a SOP whose current version two security officers withdrew from
 * every station (a sop-withdraw change: one requests it, a distinct one
 * approves it through lsec_line_change_approve). Each refusal is recorded
 * (a sop.refused leaf) before anything touches a unit.
 *
 * @test tests/e2e/test_sop_ack.sh
 */
#include "station/station_int.h"

#include "linesec/line.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/*
 * Records a refused run of SOP kind (sop may be NULL: none could be loaded),
 * about no unit: the unit may be new, and none was touched.
 */
static void refused(lsec_station *st, lsec_sop_kind kind, const lsec_sop *sop, int code,
		    const char *why)
{
	lsec_err ignored = LSEC_ERR_INIT;
	char hex[65] = "", ver[16] = "";
	if (sop != NULL) {
		lsec_hex_encode(hex, lsec_sop_sha256(sop), 32);
		snprintf(ver, sizeof(ver), "%d", lsec_sop_version(sop));
	}
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_SOP_NAME, lsec_sop_kind_name(kind),
			       LSEC_EV_SOP_VERSION, ver, LSEC_EV_SOP_SHA256, hex, LSEC_EV_REASON,
			       why);
	if (ev != NULL &&
	    lsec_station__record(st, NULL, LSEC_AUDIT_SOP_REFUSED,
				 code == LSEC_E_SOP_WITHDRAWN ? "refused-withdrawn"
							      : "refused-unacknowledged",
				 ev, &ignored) < 0) {
		/* the refusal stands; the caller's error says why */
	}
	json_decref(ev);
}

int lsec_station__sop_ready(lsec_sop **out, lsec_station *st, lsec_sop_kind kind,
			    lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	rc = lsec_sop_fetch_approved(out, st->store, kind, err);
	if (rc == 0) {
		rc = lsec_sop_require_acknowledged(st->store, st->cfg->operator_name, *out, err);
	}
	if (rc == LSEC_E_SOP_WITHDRAWN || rc == LSEC_E_SOP_NOT_ACKNOWLEDGED) {
		refused(st, kind, *out, rc, err->msg);
	}
	if (rc < 0) {
		lsec_sop_free(*out);
		*out = NULL;
	}
	return rc;
}

int lsec_station_sop_withdraw_request(int64_t *id_out, lsec_line *line,
				      const lsec_line_actor *by, const char *name, int version,
				      const char *reason, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	lsec_sop_version_info vi;
	json_t *payload = NULL;
	bool wd = false;
	*id_out = 0;
	LSEC_ENSURE_REF(line);
	LSEC_ENSURE_REF(name);
	LSEC_ENSURE(reason != NULL && reason[0] != '\0', LSEC_E_USAGE,
		    "cannot withdraw SOP '%s' version %d: give the reason (--reason TEXT)", name,
		    version);
	LSEC_ENSURE(version > 0, LSEC_E_USAGE, "cannot withdraw SOP '%s': version %d", name,
		    version);
	LSEC_TRY(lsec_sop_fetch(&sop, &vi, NULL, lsec_line_store(line), name, version, err));
	LSEC_TRY(lsec_sop_withdrawn(&wd, NULL, NULL, 0, lsec_line_store(line), name, version,
				    err));
	LSEC_ENSURE(!wd, LSEC_E_STATE, "SOP '%s' version %d was withdrawn already", name, version);
	payload = json_pack("{s:s,s:i,s:s,s:s}", LSEC_EV_SOP_NAME, name, LSEC_EV_SOP_VERSION,
			    version, LSEC_EV_SOP_SHA256, vi.sha256_hex, LSEC_EV_REASON, reason);
	LSEC_ENSURE(payload != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_line_change_request(id_out, NULL, 0, line, by, LSEC_STATION_CHANGE_SOP_WITHDRAW,
					  name, payload, err));
out:
	json_decref(payload);
	lsec_sop_free(sop);
	return rc;
}

/* The apply of a sop-withdraw change: its row's payload checked, then the withdrawal recorded. */
static int withdraw_apply(lsec_line *line, const lsec_store_change *change, const char *approver,
			  lsec_err *err)
{
	int rc = 0;
	json_t *payload = json_loads(change->payload, 0, NULL);
	const char *name = json_string_value(json_object_get(payload, LSEC_EV_SOP_NAME));
	const char *reason = json_string_value(json_object_get(payload, LSEC_EV_REASON));
	const char *sha = json_string_value(json_object_get(payload, LSEC_EV_SOP_SHA256));
	json_int_t version = json_integer_value(json_object_get(payload, LSEC_EV_SOP_VERSION));
	lsec_sop *sop = NULL;
	lsec_sop_version_info vi;
	lsec_actor who = {approver, lsec_line_station(line)};
	LSEC_ENSURE(lsec_station__eq(name, change->subject) && reason != NULL && sha != NULL &&
			    version > 0 && version < 1000000,
		    LSEC_E_AUDIT_INDEX,
		    "registry table change_requests holds change %lld whose payload is not a SOP "
		    "withdrawal",
		    (long long)change->id);
	LSEC_TRY(lsec_sop_fetch(&sop, &vi, NULL, lsec_line_store(line), name, (int)version, err));
	LSEC_ENSURE(lsec_station__eq(vi.sha256_hex, sha), LSEC_E_AUDIT_INDEX,
		    "cannot withdraw SOP '%s' version %d: change %lld names SHA-256 %s, the "
		    "version holds %s",
		    name, (int)version, (long long)change->id, sha, vi.sha256_hex);
	LSEC_TRY(lsec_sop_withdraw_record(lsec_line_store(line), &who, name, (int)version, reason,
					  change->id, change->requested_by, err));
out:
	lsec_sop_free(sop);
	json_decref(payload);
	return rc;
}

int lsec_station_change_apply(void *ctx, lsec_line *line, const lsec_store_change *change,
			      const char *approver, lsec_err *err)
{
	if (lsec_station__eq(change->kind, LSEC_STATION_CHANGE_SOP_WITHDRAW)) {
		return withdraw_apply(line, change, approver, err);
	}
	return lsec_station_denied_key_apply(ctx, line, change, approver, err);
}
