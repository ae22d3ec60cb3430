/*
 * names.c - the names of the sop module's values: error codes, the
 * `then` of on-failure and the `when` of a step. The loader parses then and
 * when with these same tables.
 */
#include "sop/sop_int.h"

const char *lsec_sop_code_name(int code)
{
	switch (code) {
	case LSEC_E_SOP_SYNTAX:
		return "syntax";
	case LSEC_E_SOP_UNKNOWN_KEY:
		return "unknown-key";
	case LSEC_E_SOP_MISSING:
		return "missing-field";
	case LSEC_E_SOP_BAD_VALUE:
		return "bad-value";
	case LSEC_E_SOP_UNKNOWN_ACTION:
		return "unknown-action";
	case LSEC_E_SOP_BAD_PARAM:
		return "bad-parameter";
	case LSEC_E_SOP_DUP_STEP:
		return "duplicate-step";
	case LSEC_E_SOP_UNKNOWN_ROLE:
		return "unknown-role";
	case LSEC_E_SOP_BAD_ON_FAILURE:
		return "bad-on-failure";
	case LSEC_E_SOP_PLACEHOLDER:
		return "unknown-placeholder";
	case LSEC_E_SOP_POLICY:
		return "policy";
	case LSEC_E_SOP_SELF_APPROVAL:
		return "self-approval";
	case LSEC_E_SOP_DIGEST:
		return "digest-mismatch";
	case LSEC_E_SOP_NOT_APPROVED:
		return "not-approved";
	case LSEC_E_SOP_NOT_ACKNOWLEDGED:
		return "not-acknowledged";
	case LSEC_E_SOP_WITHDRAWN:
		return "withdrawn";
	default:
		return NULL;
	}
}

const char *const lsec_sop__then_names[SOP_THEN_COUNT] = {
	[LSEC_SOP_THEN_QUARANTINE] = "quarantine",
	[LSEC_SOP_THEN_STOP_LINE] = "stop-line",
	[LSEC_SOP_THEN_DECOMMISSION] = "decommission",
	[LSEC_SOP_THEN_CONTINUE] = "continue",
};

const char *const lsec_sop__when_names[SOP_WHEN_COUNT] = {
	[LSEC_SOP_WHEN_ALWAYS] = "always",
	[LSEC_SOP_WHEN_REACHABLE] = "reachable",
	[LSEC_SOP_WHEN_UNREACHABLE] = "unreachable",
};

const char *lsec_sop_then_name(lsec_sop_then t)
{
	return (unsigned)t < SOP_THEN_COUNT ? lsec_sop__then_names[t] : NULL;
}

const char *lsec_sop_when_name(lsec_sop_when w)
{
	return (unsigned)w < SOP_WHEN_COUNT ? lsec_sop__when_names[w] : NULL;
}
