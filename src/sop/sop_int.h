/*
 * sop_int.h - internals of the sop module (loader, policy, renderer).
 * Nothing outside src/sop includes this file (tests may).
 */
#ifndef LINESEC_SOP_INT_H
#define LINESEC_SOP_INT_H

#include "linesec/sop.h"

/* Upper bounds that keep a hostile file from costing much. */
#define SOP_MAX_STEPS 200
#define SOP_MAX_DIAGS 100
#define SOP_MAX_LIST 50

/* Where a node starts (1-based; 0 when unknown). */
typedef struct sop_loc {
	int line, column;
} sop_loc;

typedef struct sop_named {
	char *name;
	char *text;
} sop_named;

/* A step as stored: the public view plus the storage behind its pointers. */
typedef struct sop_step {
	lsec_sop_step pub;
	sop_loc loc;        /* the step's first key */
	sop_loc when_loc;
	sop_loc then_loc;
	sop_loc witness_loc;
	sop_loc retry_loc;
	sop_loc who_loc;
	const char *names[8];
	const char *values[8];
} sop_step;

struct lsec_sop {
	lsec_sop_kind kind;
	bool kind_known;
	int version;
	char *title, *purpose, *scope, *change;
	char *product, *from_state, *to_state;
	sop_loc applies_loc, steps_loc;
	sop_named *roles;
	size_t nroles;
	char **prereqs;
	size_t nprereqs;
	char **records;
	size_t nrecords;
	sop_step *steps;
	size_t nsteps;
	uint8_t sha256[32];
	/* every string above, freed together */
	char **owned;
	size_t nowned, capowned;
};

struct lsec_sop_diags {
	lsec_sop_diag *items;
	size_t n, cap;
	const char *name; /* file label, borrowed during loading */
	bool truncated;
};

/* Adds a problem at loc ("name:line:col: message"); out of memory is noted as truncation. */
void lsec_sop__diag(lsec_sop_diags *d, int code, sop_loc loc, const char *rule, const char *fmt,
		    ...) LSEC_PRINTF(5, 6);

/* Runs every policy rule on a schema-valid SOP, adding a diagnostic per violation. */
void lsec_sop__policy_check(const lsec_sop *sop, lsec_sop_diags *d);

/* "string", "integer", ... */
const char *lsec_sop__param_type_name(lsec_sop_param_type t);

#endif
