/*
 * line_int.h - internals of the line module (the line folder, line.yaml,
 * people, sessions).
 */
#ifndef LINESEC_LINE_INT_H
#define LINESEC_LINE_INT_H

#include "linesec/line.h"

#include <jansson.h>

typedef struct line_product {
	char *id;
	char *target;
	json_t *policies;
	char *family;   /* the chip family the product is made on, or NULL */
	char *revision; /* the chip revision, or NULL (only with family) */
} line_product;

struct lsec_line {
	char *dir;
	char line_id[LSEC_STORE_NAME_MAX + 1];
	char station[LSEC_STORE_NAME_MAX + 1];
	char registry[512]; /* as written in line.yaml */
	char *registry_location; /* what lsec_store_open takes (relative paths resolved) */
	char *key_path;
	char *pub_path;
	char *sessions_dir;
	char ca[512];   /* the line CA folder as written in line.yaml ("ca" when absent) */
	char *ca_dir;   /* resolved against the line folder */
	char checkpoints[512]; /* line.yaml's `checkpoints` ("checkpoints" when absent) */
	char *checkpoint_dir;  /* resolved against the line folder */
	char labels[512];      /* line.yaml's `labels` ("labels" when absent) */
	char *label_dir;       /* resolved against the line folder */
	unsigned label_accept_seconds; /* labels.accept_seconds: the printer takes a label by then */
	unsigned session_minutes;
	unsigned idle_seconds; /* session.idle_minutes (or idle_seconds): a session ends after it */
	line_product *products;
	size_t nproducts;
	lsec_store *st;
};

/* Reads and checks dir/line.yaml into line (fields above the store). */
int lsec_line__config_read(lsec_line *line, const char *path, lsec_err *err);
/*
 * Parses line.yaml text (path names it in messages). On failure line may
 * hold some products already: release it with lsec_line_close.
 * @test tests/unit/line/test_config.c, tests/fuzz/fuzz_line.c
 */
int lsec_line__config_parse(lsec_line *line, const char *text, size_t len, const char *path,
			    lsec_err *err);
/* Fills the derived paths (key, pub, sessions, registry location) from dir and registry. */
int lsec_line__derive_paths(lsec_line *line, lsec_err *err);
/* Whether kind is station-trust or station-distrust (stations.c). */
bool lsec_line__station_kind(const char *kind);
/* The payload of a change of station name's trust: {station, pubkey, key-sha256} of pub_path. */
int lsec_line__station_payload(json_t **out, const char *name, const char *pub_path,
			       lsec_err *err);
/* Checks a change of a station's trust against the trusted keys as they are now. */
int lsec_line__station_check(lsec_line *line, const char *kind, const char *subject,
			     const json_t *payload, lsec_err *err);
/* Records the station.trust (trust) or station.distrust leaf: payload, plus extra's keys. */
int lsec_line__station_record(lsec_line *line, const char *person, bool trust,
			      const json_t *payload, const json_t *extra, lsec_err *err);
/* Records one audit event by person for this station inside the open transaction. */
int lsec_line__record(lsec_line *line, const char *person, const char *action,
		      const char *outcome, json_t *evidence, lsec_err *err);

/*
 * The password commitment a person leaf records: hex SHA-256 of the stored
 * password hash text (the Argon2id string). Fails only if hashing fails.
 */
int lsec_line__pw_commit(char out[65], const char *pw_hash, lsec_err *err);
/*
 * Adds what a person leaf records about the person to ev: role, disabled
 * ("yes"/"no") and the password commitment (lsec_line__pw_commit), so the
 * person's latest leaf alone says what their row must hold. LSEC_E_NOMEM.
 */
int lsec_line__person_evidence(json_t *ev, lsec_role role, bool disabled, const char *pw_commit,
			       lsec_err *err);

/*
 * What a people row's pw_hash starts with while the person has not set a
 * password yet: "enrol:<change id>:" then the Argon2id hash of the
 * approver's half of the enrolment code (the requester's half is hashed in
 * the change's row). No password verifies against it.
 */
#define LSEC_LINE__ENROL_PREFIX "enrol:"
/*
 * The refused passwords of name (login, signature, enrolment leaves) since
 * their last ok login, unlock or new password.
 */
int lsec_line__failures(unsigned *out, lsec_line *line, const char *name, lsec_err *err);

/* lsec_line_audit_verify from a point verified before (since may be NULL): lsec_audit_verify_since. */
int lsec_line__audit_verify(lsec_line_verify_report *out, lsec_line *line,
			    const struct evp_pkey_st *const *pubs, size_t npubs, const char *against,
			    const lsec_audit_checkpoint *since, lsec_err *err);

#endif
