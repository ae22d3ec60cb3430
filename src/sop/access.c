/* access.c - reading a loaded SOP, and freeing it. */
#include "sop/sop_int.h"

#include <string.h>

void lsec_sop_free(lsec_sop *sop)
{
	if (sop == NULL) {
		return;
	}
	for (size_t i = 0; i < sop->nowned; i++) {
		lsec_free(sop->owned[i]);
	}
	lsec_free(sop->owned);
	lsec_free(sop->roles);
	lsec_free(sop->prereqs);
	lsec_free(sop->records);
	lsec_free(sop->steps);
	lsec_free(sop);
}

lsec_sop_kind lsec_sop_get_kind(const lsec_sop *sop)
{
	return sop->kind;
}

const char *lsec_sop_name(const lsec_sop *sop)
{
	return lsec_sop_kind_name(sop->kind);
}

const char *lsec_sop_title(const lsec_sop *sop)
{
	return sop->title;
}

const char *lsec_sop_product(const lsec_sop *sop)
{
	return sop->product;
}

int lsec_sop_version(const lsec_sop *sop)
{
	return sop->version;
}

const uint8_t *lsec_sop_sha256(const lsec_sop *sop)
{
	return sop->sha256;
}

size_t lsec_sop_step_count(const lsec_sop *sop)
{
	return sop->nsteps;
}

const lsec_sop_step *lsec_sop_step_at(const lsec_sop *sop, size_t i)
{
	return i < sop->nsteps ? &sop->steps[i].pub : NULL;
}

const char *lsec_sop_step_param(const lsec_sop_step *st, const char *name)
{
	for (size_t i = 0; i < st->nparams; i++) {
		if (strcmp(st->param_names[i], name) == 0) {
			return st->param_values[i];
		}
	}
	return NULL;
}
