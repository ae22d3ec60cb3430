/*
 * sop_int.h - internals of the sop module (loader, policy, renderer).
 * Nothing outside src/sop includes this file (tests may).
 */
#ifndef LINESEC_SOP_INT_H
#define LINESEC_SOP_INT_H

#include "linesec/sop.h"

/*
 * Limits of a SOP file. Each keeps a hostile file from costing much and
 * each is refused with a diagnostic, never applied silently; the ones a
 * writer can meet are stated in docs/sop-format.md.
 */
/* Steps of one SOP: the longest real procedure has about 20. */
#define SOP_MAX_STEPS 200
/* Problems reported for one file: beyond this a reader learns nothing new. */
#define SOP_MAX_DIAGS 100
/* Sentences of `prerequisites` or `records`: a page of a printed procedure. */
#define SOP_MAX_LIST 50
/*
 * Parameters of one step under `with`, which is also the most an action of
 * the table may declare (tests/unit/sop/test_actions.c checks it): the
 * actions declare at most two, and sop_step stores them in fixed arrays.
 */
#define SOP_MAX_STEP_PARAMS 8
/* Characters of a step id: it heads a rendered step and names it in every log line. */
#define SOP_MAX_ID_LEN 40
/*
 * Extra attempts of a failing step (on-failure.retry): a step that fails
 * five times more is not going to pass, and the unit must not wait longer.
 */
#define SOP_MAX_RETRY 5
/* Highest `version`: far above any real revision count, well inside int. */
#define SOP_MAX_VERSION 1000000
/* Digits of an integer field: any 18-digit number fits int64_t. */
#define SOP_MAX_INT_DIGITS 18
/* Characters of a bad value quoted back in a diagnostic: enough to recognise it. */
#define SOP_ECHO_MAX 40

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
	const char *names[SOP_MAX_STEP_PARAMS];
	const char *values[SOP_MAX_STEP_PARAMS];
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

/* ---- diag.c ---- */

/* Adds a problem at loc ("name:line:col: message"); out of memory is noted as truncation. */
void lsec_sop__diag(lsec_sop_diags *d, int code, sop_loc loc, const char *rule, const char *fmt,
		    ...) LSEC_PRINTF(5, 6);

/* Sorts the problems in file order (stable: problems at one place keep the order found). */
void lsec_sop__diags_sort(lsec_sop_diags *d);

/* ---- names.c ---- */

/* Names of lsec_sop_then and lsec_sop_when values, indexed by value (on-failure.then, when). */
#define SOP_THEN_COUNT 4
#define SOP_WHEN_COUNT 3
extern const char *const lsec_sop__then_names[SOP_THEN_COUNT];
extern const char *const lsec_sop__when_names[SOP_WHEN_COUNT];

/* ---- walk.c ---- */

struct fy_node;

/*
 * Where a YAML node starts: its token for a scalar, its first entry for a
 * collection; fallback when that is unknown.
 */
sop_loc lsec_sop__node_loc(struct fy_node *n, sop_loc fallback);
/*
 * Reads the document root into sop against the schema, adding a diagnostic
 * per problem to d. Returns false when memory ran out (sop then holds a
 * part of the file; the caller frees it).
 * @test tests/unit/sop/test_load.c
 */
bool lsec_sop__walk(lsec_sop *sop, lsec_sop_diags *d, struct fy_node *root);

/* ---- policy.c ---- */

/* Runs every policy rule on a schema-valid SOP, adding a diagnostic per violation. */
void lsec_sop__policy_check(const lsec_sop *sop, lsec_sop_diags *d);

/* ---- actions.c ---- */

/* "string", "integer", ... */
const char *lsec_sop__param_type_name(lsec_sop_param_type t);

#endif
