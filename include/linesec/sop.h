/*
 * linesec/sop.h - line SOPs as data: load, validate, check against policy,
 * render as a written procedure.
 *
 * A SOP is one YAML file per procedure (flash, provision, secure-boot,
 * debug-lock, decommission; schema in docs/sop-format.md). The same file
 * drives the station and renders the written procedure, so the two cannot
 * drift apart.
 *
 * Invariants:
 *  - Every step names an action of the fixed vocabulary below (the action
 *    table is the one place declaring each action's parameters, what it
 *    verifies, what evidence it records, whether it is irreversible and which
 *    SOP kinds may use it).
 *  - A loaded lsec_sop has passed the schema check and the policy check: it
 *    holds every mandatory action of its kind in the mandatory order.
 *    lsec_sop_load never returns a SOP that fails either.
 *  - Every problem found while loading is reported with file:line:column
 *    (1-based) and what was expected; all problems are collected, not only
 *    the first.
 *  - The SOP keeps the SHA-256 of the exact bytes it was loaded from: that
 *    digest identifies the version in approvals and in every run's record.
 *
 * Idiom:
 *     lsec_sop *sop = NULL;
 *     lsec_sop_diags *d = NULL;
 *     rc = lsec_sop_load(&sop, &d, "sops/flash.yaml", err);
 *     if (rc < 0) {
 *         for (size_t i = 0; i < lsec_sop_diags_count(d); i++)
 *             puts(lsec_sop_diags_at(d, i)->text);   // "file:12:7: ..."
 *     }
 *     lsec_sop_diags_free(d);
 *     ...
 *     lsec_sop_free(sop);
 */
#ifndef LINESEC_SOP_H
#define LINESEC_SOP_H

#include "linesec/store.h"
#include "linesec/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Error codes of the sop module (-350..-399). Loading fails with the code
 * of the first problem found; every problem keeps its own code in the
 * diagnostics list.
 */
enum {
	LSEC_E_SOP_SYNTAX = -350,         /* not well-formed YAML (includes duplicate keys) */
	LSEC_E_SOP_UNKNOWN_KEY = -351,    /* a key the schema does not define */
	LSEC_E_SOP_MISSING = -352,        /* a required field is absent */
	LSEC_E_SOP_BAD_VALUE = -353,      /* wrong type or value for a field */
	LSEC_E_SOP_UNKNOWN_ACTION = -354, /* `do` names no action of the vocabulary */
	LSEC_E_SOP_BAD_PARAM = -355,      /* a `with` parameter the action does not declare or accept */
	LSEC_E_SOP_DUP_STEP = -356,       /* two steps share an id */
	LSEC_E_SOP_UNKNOWN_ROLE = -357,   /* a role that does not exist or is not declared */
	LSEC_E_SOP_BAD_ON_FAILURE = -358, /* malformed on-failure */
	LSEC_E_SOP_PLACEHOLDER = -359,    /* a {placeholder} that is not in the fixed list */
	LSEC_E_SOP_POLICY = -380,         /* refused by a named policy rule */
	LSEC_E_SOP_SELF_APPROVAL = -381,  /* the submitter cannot approve their own version */
	LSEC_E_SOP_DIGEST = -382,         /* the stored version is not the file the approver reviewed */
	LSEC_E_SOP_NOT_APPROVED = -390,   /* no approved version (only approved versions run) */
	LSEC_E_SOP_NOT_ACKNOWLEDGED = -391, /* the person acting has not acknowledged the version */
	LSEC_E_SOP_WITHDRAWN = -392,      /* the current version was withdrawn from every station */
};

/* Stable short name of a sop code ("unknown-key", "policy", ...); NULL for other codes. */
LSEC_API const char *lsec_sop_code_name(int code);

/* ---- SOP kinds --------------------------------------------------------- */

typedef enum lsec_sop_kind {
	LSEC_SOP_FLASH = 0,
	LSEC_SOP_PROVISION = 1,
	LSEC_SOP_SECURE_BOOT = 2,
	LSEC_SOP_DEBUG_LOCK = 3,
	LSEC_SOP_DECOMMISSION = 4,
	LSEC_SOP_KIND_COUNT = 5
} lsec_sop_kind;

/* Bit of a kind in lsec_sop_action.kinds. */
#define LSEC_SOP_KIND_BIT(k) (1u << (unsigned)(k))
#define LSEC_SOP_KIND_ALL ((1u << LSEC_SOP_KIND_COUNT) - 1u)

/* "flash", "provision", "secure-boot", "debug-lock", "decommission"; NULL if out of range. */
LSEC_API const char *lsec_sop_kind_name(lsec_sop_kind kind);
/* Parses a kind name (lsec_name_lookup); LSEC_E_USAGE for any other string. */
LSEC_API LSEC_MUST_USE int lsec_sop_kind_parse(lsec_sop_kind *out, const char *name,
					       lsec_err *err);

/* ---- the action table -------------------------------------------------- */

typedef enum lsec_sop_param_type {
	LSEC_SOP_PARAM_STRING = 0, /* free text (placeholders allowed) */
	LSEC_SOP_PARAM_INT,        /* integer within [min, max] */
	LSEC_SOP_PARAM_BOOL,       /* true or false */
	LSEC_SOP_PARAM_ENUM,       /* one of `allowed` */
} lsec_sop_param_type;

/* One parameter an action accepts under `with:`. */
typedef struct lsec_sop_param {
	const char *name;
	lsec_sop_param_type type;
	bool required;
	const char *const *allowed; /* ENUM: NULL-terminated list; otherwise NULL */
	int64_t min, max;           /* INT: inclusive bounds */
	const char *deflt;          /* value used when absent (NULL: none) */
	const char *help;           /* one sentence */
} lsec_sop_param;

enum lsec_sop_action_flags {
	/* Cannot be undone (fuse burn, lock): the station records its intent first. */
	LSEC_SOP_ACTION_IRREVERSIBLE = 1u << 0,
	/* Done by a person and confirmed by them (no device operation). */
	LSEC_SOP_ACTION_MANUAL = 1u << 1,
	/* Checks a result read back from the device or the registry. */
	LSEC_SOP_ACTION_VERIFIES = 1u << 2,
	/* Needs a reachable device (a decommission step may skip it for a dead unit). */
	LSEC_SOP_ACTION_DEVICE = 1u << 3,
	/* Its failure does not touch the unit's security (e.g. a label): `continue` allowed. */
	LSEC_SOP_ACTION_ADVISORY = 1u << 4,
};

/*
 * One action of the fixed vocabulary. The table is static and read-only;
 * the station attaches an implementation to each entry through its own
 * table indexed by lsec_sop_action_index (so this module needs no device
 * code and the two tables cannot disagree on the set of actions).
 */
typedef struct lsec_sop_action {
	const char *id;                /* "device.flash" */
	const char *summary;           /* what it does, one sentence */
	const char *verifies;          /* what it verifies, one sentence */
	const char *const *evidence;   /* evidence fields recorded, NULL-terminated */
	const lsec_sop_param *params;  /* terminated by an entry with name NULL */
	unsigned kinds;                /* LSEC_SOP_KIND_BIT of the kinds that may use it */
	unsigned flags;                /* enum lsec_sop_action_flags */
	const char *const *roles;      /* roles that may perform it (a step's `who`), NULL-terminated */
} lsec_sop_action;

/* Number of actions in the vocabulary. */
LSEC_API size_t lsec_sop_action_count(void);
/* The i-th action (i < count); borrowed, static. NULL if out of range. */
LSEC_API const lsec_sop_action *lsec_sop_action_at(size_t i);
/* The action with this id, or NULL. Borrowed, static. */
LSEC_API const lsec_sop_action *lsec_sop_action_find(const char *id);
/* Index of an action of the table (for parallel executor tables). */
LSEC_API size_t lsec_sop_action_index(const lsec_sop_action *a);
/*
 * The action table as JSON (the reference docs/sop-format.md is generated
 * from): an array of objects, one per action. *out belongs to the caller
 * (json_decref).
 */
LSEC_API LSEC_MUST_USE int lsec_sop_actions_json(struct json_t **out, lsec_err *err);

/* Placeholders a text may use ("serial", "socket", ...), NULL-terminated. */
LSEC_API const char *const *lsec_sop_placeholders(void);
/* Roles of the line ("operator", ...), NULL-terminated. */
LSEC_API const char *const *lsec_sop_roles(void);

/* ---- policy rules ------------------------------------------------------ */

/* A named policy rule: the id a refusal cites, and what it demands. */
typedef struct lsec_sop_rule {
	const char *id;       /* "flash-order" */
	const char *sentence; /* "flash runs image.check, device.flash, ... in this order" */
} lsec_sop_rule;

LSEC_API size_t lsec_sop_rule_count(void);
LSEC_API const lsec_sop_rule *lsec_sop_rule_at(size_t i);

/* ---- diagnostics ------------------------------------------------------- */

typedef struct lsec_sop_diag {
	int code;          /* LSEC_E_SOP_* */
	int line, column;  /* 1-based; 0 when the problem concerns the whole file */
	const char *rule;  /* policy rule id for LSEC_E_SOP_POLICY, else NULL */
	const char *text;  /* "file:line:col: message" (or "file: message") */
} lsec_sop_diag;

typedef struct lsec_sop_diags lsec_sop_diags;

LSEC_API size_t lsec_sop_diags_count(const lsec_sop_diags *d);
/* Borrowed; lives as long as d. NULL if out of range. */
LSEC_API const lsec_sop_diag *lsec_sop_diags_at(const lsec_sop_diags *d, size_t i);
LSEC_API void lsec_sop_diags_free(lsec_sop_diags *d);

/* ---- loading ------------------------------------------------------------ */

typedef struct lsec_sop lsec_sop;

/* Largest SOP file accepted. */
#define LSEC_SOP_MAX_FILE (256u * 1024u)

/*
 * Largest sampling rate of the secure-boot negative test (one unit in this
 * many): a rarer test would let a batch with secure boot off go unseen.
 */
#define LSEC_SOP_MAX_NEGATIVE_SAMPLE 100

/*
 * Parses, validates and policy-checks a SOP from bytes; name labels the
 * diagnostics (usually the file name). On success *out holds the SOP (free
 * with lsec_sop_free). On failure *out stays NULL, err carries the code and
 * text of the first problem plus the total count, and, if diags_out is not
 * NULL, *diags_out receives every problem (free with lsec_sop_diags_free;
 * also set, empty, on success; left NULL when the failure found no
 * problem in the contents: bad arguments, size limit, out of memory).
 * Fails with LSEC_E_SOP_* (see above), LSEC_E_LIMIT (file too large),
 * LSEC_E_NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_parse(lsec_sop **out, lsec_sop_diags **diags_out,
					  const uint8_t *data, size_t len, const char *name,
					  lsec_err *err);
/* Reads path and calls lsec_sop_parse. Also fails with LSEC_E_IO. */
LSEC_API LSEC_MUST_USE int lsec_sop_load(lsec_sop **out, lsec_sop_diags **diags_out,
					 const char *path, lsec_err *err);
LSEC_API void lsec_sop_free(lsec_sop *sop);

/* ---- reading a loaded SOP ---------------------------------------------- */

typedef enum lsec_sop_then {
	LSEC_SOP_THEN_QUARANTINE = 0, /* the unit is quarantined; supervisor decides rework */
	LSEC_SOP_THEN_STOP_LINE,      /* the station stops for everyone; unit quarantined */
	LSEC_SOP_THEN_DECOMMISSION,   /* the unit goes to decommissioning */
	LSEC_SOP_THEN_CONTINUE,       /* recorded, the run goes on (advisory steps only) */
} lsec_sop_then;

LSEC_API const char *lsec_sop_then_name(lsec_sop_then t);

typedef enum lsec_sop_when {
	LSEC_SOP_WHEN_ALWAYS = 0,
	LSEC_SOP_WHEN_REACHABLE,   /* only when the unit answers on its debug/programming port */
	LSEC_SOP_WHEN_UNREACHABLE, /* only when it does not */
} lsec_sop_when;

LSEC_API const char *lsec_sop_when_name(lsec_sop_when w);

/* A step, as the executor reads it. All strings are borrowed from the SOP. */
typedef struct lsec_sop_step {
	const char *id;
	const char *title;              /* short heading; NULL if absent */
	const lsec_sop_action *action;  /* never NULL in a loaded SOP */
	const char *who;                /* role */
	const char *witness;            /* role, or NULL */
	const char *text;               /* operator instruction; NULL if absent */
	const char *verify;             /* the verification sentence (the action's if absent) */
	lsec_sop_when when;
	unsigned retry;                 /* extra attempts before `then` */
	lsec_sop_then then;
	const char *failure_message;    /* what the operator does when it fails */
	/* `with` parameters in the action's declared order, defaults filled in */
	size_t nparams;
	const char *const *param_names;
	const char *const *param_values;
} lsec_sop_step;

LSEC_API lsec_sop_kind lsec_sop_get_kind(const lsec_sop *sop);
LSEC_API const char *lsec_sop_name(const lsec_sop *sop); /* kind name */
LSEC_API const char *lsec_sop_title(const lsec_sop *sop);
/* applies-to.product: a product id, or "any"; the station runs the SOP on no other product. */
LSEC_API const char *lsec_sop_product(const lsec_sop *sop);
LSEC_API int lsec_sop_version(const lsec_sop *sop);
/* SHA-256 of the bytes the SOP was loaded from. */
LSEC_API const uint8_t *lsec_sop_sha256(const lsec_sop *sop);
LSEC_API size_t lsec_sop_step_count(const lsec_sop *sop);
/* Borrowed; NULL if out of range. */
LSEC_API const lsec_sop_step *lsec_sop_step_at(const lsec_sop *sop, size_t i);
/* Value of a step parameter (with defaults applied), or NULL. */
LSEC_API const char *lsec_sop_step_param(const lsec_sop_step *st, const char *name);
/*
 * Replaces {name} placeholders in text with values[i] for names[i]; a
 * placeholder with no value stays as written. Appends to out.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_expand(lsec_buf *out, const char *text,
					   const char *const *names, const char *const *values,
					   size_t n, lsec_err *err);

/* ---- rendering ---------------------------------------------------------- */

typedef enum lsec_sop_format {
	LSEC_SOP_FORMAT_MD = 0,
	LSEC_SOP_FORMAT_HTML = 1,
	/* The HTML document's content alone, in one <article class="sop">: no
	 * <html>, <head> or style, for a page that carries its own (the web
	 * console). Every text is escaped as in LSEC_SOP_FORMAT_HTML. */
	LSEC_SOP_FORMAT_HTML_BODY = 2,
} lsec_sop_format;

/* One entry of the revision history shown in the rendered document. */
typedef struct lsec_sop_revision {
	int version;
	const char *sha256_hex;  /* 64 hex digits */
	const char *submitter;
	const char *submitted;   /* RFC 3339 */
	const char *approvers;   /* "alice, bob"; NULL or "" when not approved */
	const char *approved;    /* RFC 3339 of the last approval; NULL when not approved */
	const char *change;      /* the version's change note; may be NULL */
} lsec_sop_revision;

typedef struct lsec_sop_render_options {
	unsigned version;            /* LSEC_SOP_RENDER_OPTIONS_VERSION */
	lsec_sop_format format;
	bool draft;                  /* mark every page "DRAFT - NOT APPROVED" */
	const lsec_sop_revision *history; /* oldest first; may be NULL */
	size_t nhistory;
} lsec_sop_render_options;

#define LSEC_SOP_RENDER_OPTIONS_VERSION 1u
#define LSEC_SOP_RENDER_OPTIONS_INIT {LSEC_SOP_RENDER_OPTIONS_VERSION, LSEC_SOP_FORMAT_MD, true, NULL, 0}

/*
 * Renders the written procedure (purpose, scope, roles, prerequisites, the
 * numbered sequence with who / what / verification / on failure, records
 * kept, revision history, document identity) and appends it to out. HTML is
 * one self-contained printable file with every text escaped.
 * Fails with LSEC_E_USAGE (bad options), LSEC_E_LIMIT (out->max), NOMEM.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_render(lsec_buf *out, const lsec_sop *sop,
					   const lsec_sop_render_options *opts, lsec_err *err);

/*
 * The document model behind lsec_sop_render, for writers of other formats
 * (the report module's PDF): lsec_sop_render_walk walks the same sections
 * in the same order with the same sentences and calls the sink for each
 * block, so every format says the same things. Texts are unescaped UTF-8
 * as the SOP file holds them, borrowed for the call only. A callback
 * returns 0, or an error (set in err) that stops the walk and is returned.
 */
typedef struct lsec_sop_render_head {
	const char *kind;         /* "flash" */
	const char *title;
	int version;
	const char *sha256_hex;   /* of the file */
	bool approved;            /* false: mark every page DRAFT - NOT APPROVED */
	const char *status;       /* "APPROVED by alice, bob on ..." or the DRAFT sentence */
	const char *approvers;    /* "alice, bob"; "" when not approved */
	const char *approved_at;  /* RFC 3339 of the approval; "" when not approved */
} lsec_sop_render_head;

typedef struct lsec_sop_render_sink {
	/* Before anything: the document's identity (title block, running header). */
	int (*begin)(void *ctx, const lsec_sop_render_head *h, lsec_err *err);
	/* A section (level 2) heading; id is a stable anchor ("purpose"). */
	int (*heading)(void *ctx, int level, const char *id, const char *text, lsec_err *err);
	/* A paragraph, with a bold label before it when label is not NULL. */
	int (*para)(void *ctx, const char *label, const char *text, lsec_err *err);
	int (*list)(void *ctx, const char *const *items, size_t n, lsec_err *err);
	/* cls names the table ("identity", "roles", "history", "rules", "sign"). */
	int (*table_begin)(void *ctx, const char *cls, const char *const *head, size_t n,
			   lsec_err *err);
	int (*table_row)(void *ctx, const char *const *cells, size_t n, lsec_err *err);
	int (*table_end)(void *ctx, lsec_err *err);
	/*
	 * A numbered step; irreversible is NULL for a step that can be undone,
	 * else the consequence in words, to be set apart.
	 */
	int (*step_begin)(void *ctx, size_t num, const char *title, const char *action,
			  const char *irreversible, lsec_err *err);
	/* A labelled field of the current step ("Who", "How it is verified", ...). */
	int (*field)(void *ctx, const char *label, const char *text, lsec_err *err);
	int (*step_end)(void *ctx, lsec_err *err);
	/* After everything (closing identity line). */
	int (*end)(void *ctx, const lsec_sop_render_head *h, lsec_err *err);
} lsec_sop_render_sink;

/*
 * Walks the written procedure of sop with opts (opts->format is not read)
 * through sink. Fails with LSEC_E_USAGE (bad options), or the sink's error.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_render_walk(const lsec_sop *sop,
						const lsec_sop_render_options *opts,
						const lsec_sop_render_sink *sink, void *ctx,
						lsec_err *err);

/*
 * A unified line diff of two texts (a and b labelled la and lb), appended to
 * out; empty when they are equal. Used by `sop diff` on two versions' bytes.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_diff_text(lsec_buf *out, const char *la, const uint8_t *a,
					      size_t alen, const char *lb, const uint8_t *b,
					      size_t blen, lsec_err *err);

/* ---- versions in the registry ------------------------------------------- */

/*
 * SOP versions live in the registry (table sop_versions: the file's exact
 * bytes, their SHA-256, the submitter, approvals with their people and
 * dates). Separation of duties: a version is approved once two distinct
 * security officers, neither of them its submitter, approved it (the
 * store's two-approval rule plus "not the submitter"). Only approved
 * versions run. Every submission and approval is recorded in the audit log
 * in the same transaction (lsec_store_tx_begin -> change -> lsec_audit_record
 * -> lsec_store_tx_end).
 */
struct lsec_store;

/* One stored version, as listed. Strings are owned by the list. */
typedef struct lsec_sop_version_info {
	char name[65];
	int version;
	char sha256_hex[65];
	char submitter[65];
	char submitted[32];
	char approvers[2][65]; /* "" when missing */
	unsigned napprovals;
	bool approved;
	char approved_at[32];  /* when it became approved (lsec_sop_versions_dated only), else "" */
	bool withdrawn;        /* a sop.withdraw leaf took it from every station */
} lsec_sop_version_info;

/*
 * Submitting and approving take who's role as the caller proved it from
 * the person's leaves (lsec_line_authorize, lsec_line_person_get), with
 * the person enabled: never the bare people row, which SQL can rewrite.
 */
/*
 * Submits a SOP file (its exact bytes) as a new version: the file must load
 * (schema and policy), its version must be above every stored version of
 * that SOP, and the submitter (of role role) must be a supervisor or
 * security officer. On success *sop_out (may be NULL) receives the loaded
 * SOP. Errors: those of lsec_sop_parse, LSEC_E_AUTH (another role),
 * LSEC_E_STATE (version not above the latest), LSEC_E_EXISTS (that version
 * exists), store and audit errors.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_submit(lsec_sop **sop_out, struct lsec_store *st,
					   const lsec_actor *who, lsec_role role,
					   const uint8_t *data, size_t len, const char *label,
					   lsec_err *err);
/*
 * Records who's approval of version of SOP name. The approver (of role
 * role) must be a security officer who did not submit the version; the
 * stored bytes are checked against their SHA-256 and against the policy as
 * it stands. Errors: LSEC_E_NOTFOUND, LSEC_E_AUTH (another role),
 * LSEC_E_SOP_SELF_APPROVAL, LSEC_E_STORE_APPROVAL (already approved by that
 * person), LSEC_E_CRYPTO (stored bytes do not match their digest),
 * lsec_sop_parse errors.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_approve(struct lsec_store *st, const lsec_actor *who,
					    lsec_role role, const char *name, int version,
					    lsec_err *err);
/*
 * As lsec_sop_approve, naming the SHA-256 (hex) of the file the approver
 * reviewed: the stored version must have exactly that digest, else
 * LSEC_E_SOP_DIGEST and nothing is recorded. sha256_hex NULL: no check.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_approve_reviewed(struct lsec_store *st,
						     const lsec_actor *who, lsec_role role,
						     const char *name, int version,
						     const char *sha256_hex, lsec_err *err);
/*
 * Lists the stored versions of SOP name (NULL: every SOP), by name then
 * version; approved_at is left empty (see lsec_sop_versions_dated).
 * Cheap enough for every run or ship decision.
 * *out belongs to the caller (lsec_free).
 */
LSEC_API LSEC_MUST_USE int lsec_sop_versions(lsec_sop_version_info **out, size_t *n_out,
					     struct lsec_store *st, const char *name,
					     lsec_err *err);
/*
 * As lsec_sop_versions, with approved_at filled in. Approval dates are
 * read from the audit log (one pass over the leaves, filtered by action
 * before any is parsed), so this is for listings and documents.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_versions_dated(lsec_sop_version_info **out, size_t *n_out,
						   struct lsec_store *st, const char *name,
						   lsec_err *err);
/*
 * Loads a stored version (version 0: the latest approved one). The bytes
 * are checked against their stored SHA-256, then loaded as by
 * lsec_sop_parse. If info_out is not NULL it receives the version's entry
 * (approved_at left empty, as by lsec_sop_versions).
 * If body_out is not NULL the exact bytes are appended to it.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_SOP_NOT_APPROVED (version 0 and none is
 * approved), LSEC_E_CRYPTO (digest mismatch), lsec_sop_parse errors.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_fetch(lsec_sop **out, lsec_sop_version_info *info_out,
					  lsec_buf *body_out, struct lsec_store *st,
					  const char *name, int version, lsec_err *err);
/*
 * The station's entry point: the latest approved version of a SOP kind,
 * ready to run; its version is lsec_sop_version(*out) and the SHA-256 to
 * record with each run is lsec_sop_sha256(*out).
 * Errors: LSEC_E_SOP_NOT_APPROVED, and those of lsec_sop_fetch.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_fetch_approved(lsec_sop **out, struct lsec_store *st,
						   lsec_sop_kind kind, lsec_err *err);
/*
 * Renders a stored version with its revision history (every version of
 * the SOP up to this one, with submitter, approvers and dates); it is
 * marked DRAFT unless approved. version 0: the latest approved one.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_render_stored(lsec_buf *out, struct lsec_store *st,
						  const char *name, int version,
						  lsec_sop_format format, lsec_err *err);
/*
 * As lsec_sop_render_stored, through a sink (lsec_sop_render_walk): the
 * same version, history and DRAFT marking, for writers of other formats.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_render_stored_walk(struct lsec_store *st, const char *name,
						       int version,
						       const lsec_sop_render_sink *sink,
						       void *ctx, lsec_err *err);
/*
 * A unified diff of two stored versions' files, appended to out.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_CRYPTO, LSEC_E_LIMIT.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_diff(lsec_buf *out, struct lsec_store *st, const char *name,
					 int v1, int v2, lsec_err *err);

/* ---- SOP controls: read-and-acknowledge, withdrawal (docs/sop.md) --------- */

/*
 * Records who's acknowledgement that they read and understood version of
 * SOP name (version 0: the current one, the version a station would run):
 * a sop_acknowledgements row and a sop.acknowledge leaf (meaning
 * LSEC_MEANING_READ) in one transaction. The caller has had who sign with
 * their password at this moment (lsec_line_sign). sha256_hex (may be NULL)
 * is the SHA-256 of the file the person read: the version must have it.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_SOP_NOT_APPROVED (the version is not
 * approved), LSEC_E_SOP_WITHDRAWN, LSEC_E_SOP_DIGEST, LSEC_E_EXISTS
 * (acknowledged already; nothing recorded), store and audit errors.
 * *version_out (may be NULL) receives the version acknowledged.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_acknowledge(int *version_out, struct lsec_store *st,
						const lsec_actor *who, const char *name,
						int version, const char *sha256_hex,
						lsec_err *err);
/*
 * Whether person acknowledged version of SOP name with SHA-256
 * sha256_hex: a sop.acknowledge leaf says so. The registry row alone
 * never counts.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_acknowledged(bool *out, struct lsec_store *st,
						 const char *person, const char *name,
						 int version, const char *sha256_hex,
						 lsec_err *err);
/*
 * The station's check before a run of sop (a loaded stored version) by
 * person: LSEC_E_SOP_NOT_ACKNOWLEDGED naming the SOP, the version and the
 * command to acknowledge it (and a row no leaf backs, when SQL put one
 * there) unless lsec_sop_acknowledged.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_require_acknowledged(struct lsec_store *st,
							 const char *person,
							 const lsec_sop *sop, lsec_err *err);
/*
 * Records the withdrawal of version of SOP name, approved as change
 * change (requested by requested_by, approved by who): a sop_withdrawals
 * row and a sop.withdraw leaf, in the caller's transaction. From then on
 * lsec_sop_fetch_approved refuses the SOP with LSEC_E_SOP_WITHDRAWN until
 * a newer version is approved: no station falls back to an older one.
 * Errors: LSEC_E_NOTFOUND, LSEC_E_STATE (withdrawn already), store and
 * audit errors.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_withdraw_record(struct lsec_store *st, const lsec_actor *who,
						    const char *name, int version,
						    const char *reason, int64_t change,
						    const char *requested_by, lsec_err *err);
/*
 * Whether version of SOP name was withdrawn: a sop.withdraw leaf (the
 * registry row alone neither withdraws nor, deleted, restores). seq_out
 * and reason (may be NULL, cap bytes) receive its leaf and reason.
 */
LSEC_API LSEC_MUST_USE int lsec_sop_withdrawn(bool *out, int64_t *seq_out, char *reason,
					      size_t cap, struct lsec_store *st,
					      const char *name, int version, lsec_err *err);

#ifdef __cplusplus
}
#endif
#endif
