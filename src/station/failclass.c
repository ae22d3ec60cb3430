/*
 * failclass.c - the one table that classes every failure transient (reseat,
 * retry) or permanent (the unit or the set-up is wrong). A code it does not
 * name is permanent: a fixture lamp never waits on a misconfiguration.
 *
 * @test tests/unit/station/test_fixture.c
 */
#include "station/station_int.h"

static const struct {
	int code;
	lsec_station_failure_class cls;
} classes[] = {
	/* transient: the link, the seating or the power, not the unit */
	{LSEC_E_TGT_LINK, LSEC_FAILURE_TRANSIENT},
	{LSEC_E_TGT_TIMEOUT, LSEC_FAILURE_TRANSIENT},
	{LSEC_E_TGT_ATTACH_FAILED, LSEC_FAILURE_TRANSIENT},
	{LSEC_E_TGT_POWER_LOSS, LSEC_FAILURE_TRANSIENT},
	{LSEC_E_TGT_FAILED, LSEC_FAILURE_TRANSIENT},
	{LSEC_E_TGT_NOT_ATTACHED, LSEC_FAILURE_TRANSIENT},
	/* permanent: the unit, its image or the line's set-up */
	{LSEC_E_TGT_WRONG_CHIP, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_DUPLICATE_UID, LSEC_FAILURE_PERMANENT},
	{LSEC_E_STATION_CLONE, LSEC_FAILURE_PERMANENT},
	{LSEC_E_STATION_HAS_IDENTITY, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_VERIFY, LSEC_FAILURE_PERMANENT},
	{LSEC_E_DEVICE, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_PROTOCOL, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_BOOT_REFUSED, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_ATTACH_REFUSED, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_OTP_LOCKED, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_OTP_CLEAR, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_UNSUPPORTED, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_BAD_URI, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_BAD_STATE, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_RANGE, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_NOT_BLANK, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_SLOT_EMPTY, LSEC_FAILURE_PERMANENT},
	{LSEC_E_TGT_SLOT_FULL, LSEC_FAILURE_PERMANENT},
	{LSEC_E_STATION_WRONG_STATE, LSEC_FAILURE_PERMANENT},
};

lsec_station_failure_class lsec_station_failure_classify(int code)
{
	if (code >= 0) {
		return LSEC_FAILURE_NONE;
	}
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (classes[i].code == code) {
			return classes[i].cls;
		}
	}
	return LSEC_FAILURE_PERMANENT;
}

int lsec_station__failure_cause(int first, int code)
{
	return code == LSEC_E_TGT_FAILED && first < 0 ? first : code;
}

const char *lsec_station_failure_class_name(lsec_station_failure_class c)
{
	switch (c) {
	case LSEC_FAILURE_TRANSIENT:
		return "transient";
	case LSEC_FAILURE_PERMANENT:
		return "permanent";
	default:
		return NULL;
	}
}
