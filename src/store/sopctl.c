/*
 * sopctl.c - the rows of the SOP controls: acknowledgements of SOP versions
 * and versions withdrawn from every station. The sop module records each
 * with its leaf in the same transaction and decides from the leaves alone.
 */
#include "store/store_int.h"

#include <string.h>

int lsec_store_sop_ack_add(lsec_store *st, const char *sop, const char *version,
			   const char *digest, const char *person, lsec_err *err)
{
	int rc = 0;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(sop, "SOP name", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(version, "SOP version", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(digest, "SOP SHA-256", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(person, "person name", LSEC_STORE_NAME_MAX, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(sop), SV_S(version), SV_S(digest), SV_S(person), SV_S(now)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO sop_acknowledgements (sop, version, digest, person,"
				   " created) VALUES (?, ?, ?, ?, ?)",
				   p, 5, NULL, NULL, err));
out:
	return rc;
}

int lsec_store_sop_ack_exists(bool *out, lsec_store *st, const char *sop, const char *version,
			      const char *person, lsec_err *err)
{
	int rc = 0;
	int64_t n = 0;
	*out = false;
	LSEC_ENSURE_REF(st);
	store_val p[] = {SV_S(sop), SV_S(version), SV_S(person)};
	LSEC_TRY(lsec_store__query(st,
				   "SELECT COUNT(*) FROM sop_acknowledgements WHERE sop = ? AND"
				   " version = ? AND person = ?",
				   p, 3, lsec_store__row_int, &n, err));
	*out = n > 0;
out:
	return rc;
}

int lsec_store_sop_withdraw_add(lsec_store *st, const char *sop, const char *version,
				const char *reason, int64_t change_id, const char *by,
				lsec_err *err)
{
	int rc = 0;
	char now[32];
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store__check_name(sop, "SOP name", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(version, "SOP version", LSEC_STORE_NAME_MAX, err));
	LSEC_TRY(lsec_store__check_name(reason, "withdrawal reason", LSEC_STORE_PAYLOAD_MAX, err));
	LSEC_TRY(lsec_store__check_name(by, "person name", LSEC_STORE_NAME_MAX, err));
	lsec_time_utc(now);
	store_val p[] = {SV_S(sop),	 SV_S(version), SV_S(reason),
			 SV_I(change_id), SV_S(by),	SV_S(now)};
	LSEC_TRY(lsec_store__query(st,
				   "INSERT INTO sop_withdrawals (sop, version, reason, change_id,"
				   " withdrawn_by, created) VALUES (?, ?, ?, ?, ?, ?)",
				   p, 6, NULL, NULL, err));
out:
	return rc;
}

static void fill_control(void *rec, const store_val *c)
{
	lsec_store_sop_control *r = rec;
	lsec_store__copy(r->sop, sizeof(r->sop), &c[0]);
	lsec_store__copy(r->version, sizeof(r->version), &c[1]);
	lsec_store__copy(r->person, sizeof(r->person), &c[2]);
	lsec_store__copy(r->digest, sizeof(r->digest), &c[3]);
	r->change_id = c[4].i;
}

int lsec_store_sop_ack_list(lsec_store_sop_control **out, size_t *n_out, lsec_store *st,
			    lsec_err *err)
{
	return lsec_store__list(st,
				"SELECT sop, version, person, digest, CAST(0 AS BIGINT) FROM"
				" sop_acknowledgements"
				" ORDER BY id",
				NULL, 0, fill_control, sizeof(**out), (void **)out, n_out, err);
}

int lsec_store_sop_withdraw_list(lsec_store_sop_control **out, size_t *n_out, lsec_store *st,
				 lsec_err *err)
{
	return lsec_store__list(st,
				"SELECT sop, version, withdrawn_by, '', change_id FROM"
				" sop_withdrawals ORDER BY id",
				NULL, 0, fill_control, sizeof(**out), (void **)out, n_out, err);
}
