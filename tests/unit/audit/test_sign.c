/*
 * Leaf signatures: each leaf is signed by the station that wrote it over
 * its log, position and hash; a checkpoint covers only leaves whose
 * signatures verify, and lsec_audit_verify names the first that does not.
 * Runs on SQLite, and on PostgreSQL when LSEC_TEST_PG_URL is set.
 */
#include "helpers/store_fixture.h"

#include "audit/audit_int.h"
#include "store/store_int.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define ORIGIN "linesec/" LSEC_TEST_LINE

static lsec_audit_signer *signer_for(const char *line, const char *name, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_signer *s = NULL;
	assert_lsec_ok(lsec_audit_signer_new(&s, line, name, key, &err), &err);
	return s;
}

static void expect_sig(lsec_audit__keyring *kr, const char *origin, uint64_t seq,
			 const uint8_t h[32], const uint8_t *sig, size_t len, int code,
			 const char *where)
{
	lsec_err err = LSEC_ERR_INIT;
	int rc = lsec_audit__leaf_sig_check(kr, origin, seq, h, sig, len, &err);
	if (rc != code || (where != NULL && strstr(err.msg, where) == NULL)) {
		fail_msg("expected %d naming '%s', got %d: %s", code, where ? where : "", rc,
			 err.msg);
	}
}

static void test_audit_sign__signature_binds_origin_seq_and_hash(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_signer *s = signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
					  lsec_test_station_key());
	lsec_audit__keyring *kr = lsec_audit__signer_keyring(s);
	uint8_t h[32], other[32], sig[LSEC_AUDIT_LEAF_SIG_LEN];
	memset(h, 0x11, sizeof(h));
	memset(other, 0x22, sizeof(other));
	assert_lsec_ok(lsec_audit__leaf_sign(sig, s, 5, h, &err), &err);
	/* The key id is the signed-note key id of the station. */
	uint8_t id[4];
	assert_lsec_ok(lsec_audit_key_id(id, LSEC_TEST_STATION, lsec_test_station_key(), &err),
		       &err);
	assert_memory_equal(sig, id, 4);
	expect_sig(kr, ORIGIN, 5, h, sig, sizeof(sig), 0, NULL);
	/* Moved to another seq, another line's log, another leaf: refused, naming the leaf. */
	expect_sig(kr, ORIGIN, 6, h, sig, sizeof(sig), LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "leaf 6 is bad");
	expect_sig(kr, "linesec/line2", 5, h, sig, sizeof(sig), LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "leaf 5 is bad");
	expect_sig(kr, ORIGIN, 5, other, sig, sizeof(sig), LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "does not verify");
	/* Missing, truncated or flipped. */
	expect_sig(kr, ORIGIN, 5, h, NULL, 0, LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "leaf 5 is not signed");
	expect_sig(kr, ORIGIN, 5, h, sig, sizeof(sig) - 1, LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "67 bytes");
	sig[10] ^= 1;
	expect_sig(kr, ORIGIN, 5, h, sig, sizeof(sig), LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "does not verify");
	sig[10] ^= 1;
	/* The key id beside the signature rewritten: a hint only, the genuine leaf still verifies. */
	sig[0] ^= 0xff;
	expect_sig(kr, ORIGIN, 5, h, sig, sizeof(sig), 0, NULL);
	expect_sig(kr, ORIGIN, 6, h, sig, sizeof(sig), LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "no trusted station key");
	lsec_audit_signer_free(s);
}

static void test_audit_sign__unknown_and_learned_keys(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k2);
	lsec_audit_signer *mine = signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
					     lsec_test_station_key());
	lsec_audit_signer *theirs = signer_for(LSEC_TEST_LINE, "st-2", k2);
	uint8_t h[32], sig[LSEC_AUDIT_LEAF_SIG_LEN];
	memset(h, 0x33, sizeof(h));
	assert_lsec_ok(lsec_audit__leaf_sign(sig, theirs, 9, h, &err), &err);
	/* A station this one does not trust. */
	expect_sig(lsec_audit__signer_keyring(mine), ORIGIN, 9, h, sig, sizeof(sig),
		     LSEC_E_AUDIT_LEAF_SIGNATURE, "no trusted station key");
	/* Trusted by its public key alone (a stations.pub holds no names): learned, then found. */
	assert_lsec_ok(lsec_audit_signer_trust(mine, k2, &err), &err);
	lsec_audit__keyring *kr = lsec_audit__signer_keyring(mine);
	assert_false(kr->k[1].id_known);
	expect_sig(kr, ORIGIN, 9, h, sig, sizeof(sig), 0, NULL);
	assert_true(kr->k[1].id_known);
	assert_memory_equal(kr->k[1].id, sig, 4);
	expect_sig(kr, ORIGIN, 10, h, sig, sizeof(sig), LSEC_E_AUDIT_LEAF_SIGNATURE,
		     "does not verify");
	/* Not Ed25519. */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	assert_lsec_code(lsec_audit_signer_trust(mine, ec, &err), LSEC_E_USAGE, &err);
	lsec_audit_signer *bad = NULL;
	assert_lsec_code(lsec_audit_signer_new(&bad, LSEC_TEST_LINE, "st-3", ec, &err),
			 LSEC_E_USAGE, &err);
	assert_null(bad);
	EVP_PKEY_free(ec);
	lsec_audit_signer_free(mine);
	lsec_audit_signer_free(theirs);
	EVP_PKEY_free(k2);
}

/*
 * A signature one signer of the process made or checked spares another
 * signer its check only for the very same log, position, hash and bytes,
 * and only when that signer trusts the key itself: a verifier of another
 * line, one that does not trust the station, or another hash still meet
 * the full check and its refusal.
 */
static void test_audit_sign__seen_by_another_signer_needs_same_log_and_trust(void **state)
{
	(void)state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_signer *s = signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
					  lsec_test_station_key());
	lsec_audit_signer *same = NULL, *other_line = NULL, *untrusting = NULL;
	uint8_t h[32], other[32], sig[LSEC_AUDIT_LEAF_SIG_LEN];
	memset(h, 0x44, sizeof(h));
	memset(other, 0x45, sizeof(other));
	assert_lsec_ok(lsec_audit__leaf_sign(sig, s, 40, h, &err), &err);
	assert_lsec_ok(lsec_audit_signer_new_verifier(&same, LSEC_TEST_LINE, &err), &err);
	assert_lsec_ok(lsec_audit_signer_trust(same, lsec_test_station_key(), &err), &err);
	assert_lsec_ok(lsec_audit_signer_new_verifier(&other_line, "line2", &err), &err);
	assert_lsec_ok(lsec_audit_signer_trust(other_line, lsec_test_station_key(), &err), &err);
	assert_lsec_ok(lsec_audit_signer_new_verifier(&untrusting, LSEC_TEST_LINE, &err), &err);
	/* Another line's verifier: the signature binds this line's log. */
	assert_lsec_code(lsec_audit__signer_sig_check(other_line, 40, h, sig, sizeof(sig), &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	/* A verifier that does not trust the station. */
	assert_lsec_code(lsec_audit__signer_sig_check(untrusting, 40, h, sig, sizeof(sig), &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	/* Another hash, another position, a flipped bit: not the leaf that was seen. */
	assert_lsec_code(lsec_audit__signer_sig_check(same, 40, other, sig, sizeof(sig), &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_lsec_code(lsec_audit__signer_sig_check(same, 40 + 4096, h, sig, sizeof(sig), &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	sig[20] ^= 1;
	assert_lsec_code(lsec_audit__signer_sig_check(same, 40, h, sig, sizeof(sig), &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	sig[20] ^= 1;
	/* The same leaf of the same log, under a key it trusts: accepted. */
	assert_lsec_ok(lsec_audit__signer_sig_check(same, 40, h, sig, sizeof(sig), &err), &err);
	lsec_audit_signer_free(same);
	lsec_audit_signer_free(other_line);
	lsec_audit_signer_free(untrusting);
	lsec_audit_signer_free(s);
}

/* ---- over a store ------------------------------------------------------------ */

static void record(lsec_store *st, const char *unit)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_event ev = {.person = "alice", .station = LSEC_TEST_STATION, .unit = unit,
			       .action = "flash", .outcome = "pass"};
	assert_lsec_ok(lsec_audit_append(NULL, st, &ev, &err), &err);
}

static void checkpoint(lsec_store *st, int code, const char *where)
{
	lsec_err err = LSEC_ERR_INIT;
	int rc = lsec_audit_checkpoint_create(NULL, st, LSEC_TEST_LINE, LSEC_TEST_STATION,
					      lsec_test_station_key(), "auditor", &err);
	if (rc != code || (where != NULL && strstr(err.msg, where) == NULL)) {
		fail_msg("checkpoint: expected %d naming '%s', got %d: %s", code,
			 where ? where : "", rc, err.msg);
	}
}

static void verify(lsec_store *st, int code, const char *where)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_verify_report rep;
	int rc = lsec_audit_verify(&rep, st, LSEC_TEST_LINE, LSEC_TEST_STATION,
				   lsec_test_station_key(), NULL, 0, &err);
	if (rc != code || (where != NULL && strstr(err.msg, where) == NULL)) {
		fail_msg("verify: expected %d naming '%s', got %d: %s", code, where ? where : "",
			 rc, err.msg);
	}
}

/* Appends ev as leaf seq with a correct hash as SQL would, with sig (may be NULL). */
static void append_event_by_sql(lsec_store *st, uint64_t seq, const lsec_audit_event *ev,
				const uint8_t *sig, size_t sig_len)
{
	lsec_err err = LSEC_ERR_INIT;
	char *leaf = NULL;
	uint8_t h[32];
	assert_lsec_ok(lsec_audit_leaf_build(&leaf, ev, seq, NULL, &err), &err);
	assert_lsec_ok(lsec_audit_leaf_hash(h, (const uint8_t *)leaf, strlen(leaf), &err), &err);
	assert_lsec_ok(lsec_store_leaf_put(st, seq, ev->unit, (const uint8_t *)leaf, strlen(leaf),
					   h, sig, sig_len, &err),
		       &err);
	lsec_free(leaf);
}

/* Appends a well-formed leaf with a correct hash as SQL would, with sig (may be NULL). */
static void append_by_sql(lsec_store *st, uint64_t seq, const uint8_t *sig, size_t sig_len)
{
	lsec_audit_event ev = {.person = "mallory", .station = LSEC_TEST_STATION, .unit = "SN-A",
			       .action = "flash", .outcome = "pass"};
	append_event_by_sql(st, seq, &ev, sig, sig_len);
}

static void test_audit_sign__signed_log_checkpoints_and_verifies(void **state)
{
	lsec_test_db *db = *state;
	for (int i = 0; i < 3; i++) {
		record(db->st, "SN-A");
	}
	checkpoint(db->st, 0, NULL);
	record(db->st, "SN-B");
	checkpoint(db->st, 0, NULL);
	verify(db->st, 0, NULL);
}

static void test_audit_sign__leaf_appended_by_sql_is_refused(void **state)
{
	lsec_test_db *db = *state;
	for (int i = 0; i < 3; i++) {
		record(db->st, "SN-A");
	}
	checkpoint(db->st, 0, NULL); /* leaves 0-2, leaf 3 records it */
	append_by_sql(db->st, 4, NULL, 0);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, "leaf 4 is not signed");
	verify(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, "leaf 4 is not signed");
	/* A real leaf's signature copied onto it does not verify either. */
	lsec_err err = LSEC_ERR_INIT;
	store_val none[] = {SV_I(4)};
	assert_lsec_ok(lsec_store__query(db->st, "DELETE FROM audit_leaves WHERE seq = ?", none, 1,
					 NULL, NULL, &err),
		       &err);
	append_by_sql(db->st, 4, (const uint8_t *)"placeholder", 11);
	assert_lsec_ok(lsec_store__query(db->st,
					 "UPDATE audit_leaves SET leaf_sig ="
					 " (SELECT leaf_sig FROM audit_leaves WHERE seq = 1)"
					 " WHERE seq = 4",
					 NULL, 0, NULL, NULL, &err),
		       &err);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, "leaf 4 is bad");
	verify(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, "leaf 4 is bad");
	/* Nothing was signed over it. */
	uint64_t n = 0;
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 5);
}

static void test_audit_sign__other_stations_leaves_need_trust(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k2);
	record(db->st, "SN-A");
	/* A second station writes through its own handle with its own key. */
	lsec_store *st2 = NULL;
	assert_lsec_ok(lsec_store_open(&st2, db->location, &err), &err);
	lsec_audit_signer_attach(st2, signer_for(LSEC_TEST_LINE, "st-2", k2));
	record(st2, "SN-B");
	lsec_store_close(st2);
	/* Not trusted: its leaf stops the checkpoint (st-2's signer, in this very process, made
	 * and remembered its signature: what one signer checked counts for another only under a
	 * key the other trusts). */
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, "leaf 1 is bad");
	/* Trusted (as a stations.pub would make it): covered. */
	lsec_audit_signer *s = signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
					  lsec_test_station_key());
	assert_lsec_ok(lsec_audit_signer_trust(s, k2, &err), &err);
	lsec_audit_signer_attach(db->st, s);
	checkpoint(db->st, 0, NULL);
	/* verify_keys trusts exactly the keys it is given. */
	lsec_audit_verify_report rep;
	const EVP_PKEY *both[] = {lsec_test_station_key(), k2};
	assert_lsec_ok(lsec_audit_verify_keys(&rep, db->st, LSEC_TEST_LINE, both, 2, NULL, 0, &err),
		       &err);
	assert_int_equal(rep.leaves, 3);
	assert_lsec_code(lsec_audit_verify_keys(&rep, db->st, LSEC_TEST_LINE, both, 1, NULL, 0,
						&err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "leaf 1 "));
	/* Another line's origin: every leaf fails. */
	assert_lsec_code(lsec_audit_verify_keys(&rep, db->st, "line2", both, 2, NULL, 0, &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "leaf 0 "));
	EVP_PKEY_free(k2);
}

/* Records through st a leaf of action by person with evidence ev (taken). */
static void leaf_by(lsec_store *st, const char *person, const char *action, json_t *ev)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_event e = {.person = person, .station = LSEC_TEST_STATION, .action = action,
			      .outcome = "ok", .evidence = ev};
	assert_lsec_ok(lsec_audit_append(NULL, st, &e, &err), &err);
	json_decref(ev);
}

/* The evidence naming key as station name. */
static json_t *station_ev(const char *name, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	assert_true(n > 0);
	uint8_t h[32];
	char hex[65], *b64 = NULL;
	assert_lsec_ok(lsec_sha256(h, der, (size_t)n, &err), &err);
	lsec_hex_encode(hex, h, 32);
	assert_lsec_ok(lsec_base64_encode(&b64, der, (size_t)n, &err), &err);
	json_t *evj = json_pack("{s:s,s:s,s:s}", LSEC_EV_STATION, name, LSEC_EV_PUBKEY, b64,
				LSEC_EV_KEY_SHA256, hex);
	lsec_free(b64);
	OPENSSL_free(der);
	return evj;
}

/* Whether change_leaves3 writes change.request and change.approve, as a log written before
 * changes of station trust had leaves of their own did (each on its own). */
static bool legacy_request, legacy_approval;
static json_int_t change_id; /* the change change_leaves3 recorded last */

/*
 * Records a change of trust in key as name: the station.change.request leaf by
 * requester through req, the station.change.approve leaf by approver through st and
 * the station.trust (trust) or station.distrust leaf through st; a NULL req
 * records the station leaf alone, as one station key can (change_leaves3:
 * the approval through appr).
 */
static void change_leaves3(lsec_store *req, const char *requester, lsec_store *appr,
			   lsec_store *st, const char *approver, bool trust, const char *name,
			   EVP_PKEY *key)
{
	const char *kind = trust ? "station-trust" : "station-distrust";
	json_int_t id = ++change_id;
	if (req != NULL) {
		leaf_by(req, requester,
			legacy_request ? "change.request" : LSEC_AUDIT_STATION_CHANGE_REQUEST,
			json_pack("{s:I,s:s,s:s,s:o,s:s}", "change", id, "kind", kind, "subject",
				  name, "payload", station_ev(name, key), LSEC_EV_MEANING,
				  "submitted"));
		leaf_by(appr, approver,
			legacy_approval ? "change.approve" : LSEC_AUDIT_STATION_CHANGE_APPROVE,
			json_pack("{s:I,s:s,s:s,s:s,s:s}", "change", id, "kind", kind, "subject",
				  name, "requested-by", requester, LSEC_EV_MEANING, "approved"));
	}
	json_t *ev = station_ev(name, key);
	json_object_set_new(ev, "change", json_integer(id));
	json_object_set_new(ev, "requested-by", json_string(requester));
	leaf_by(st, approver, trust ? LSEC_AUDIT_STATION_TRUST : LSEC_AUDIT_STATION_DISTRUST, ev);
}

static void change_leaves(lsec_store *req, const char *requester, lsec_store *st,
			  const char *approver, bool trust, const char *name, EVP_PKEY *key)
{
	change_leaves3(req, requester, st, st, approver, trust, name, key);
}

/* A change of trust requested by alice and approved by bob, all through st. */
static void station_leaf(lsec_store *st, bool trust, const char *name, EVP_PKEY *key)
{
	change_leaves(st, "alice", st, "bob", trust, name, key);
}

/* The leaf a station joining a registry records for the station it joins. */
static void join_leaf(lsec_store *st, const char *name, EVP_PKEY *key)
{
	json_t *ev = station_ev(name, key);
	json_object_set_new(ev, LSEC_EV_MEANING, json_string("joined"));
	leaf_by(st, "alice", LSEC_AUDIT_STATION_TRUST, ev);
}

static size_t trusted_count(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY **keys = NULL;
	size_t n = 0;
	assert_lsec_ok(lsec_audit_signer_trust_log(lsec_audit__signer(st), st, &err), &err);
	assert_lsec_ok(lsec_audit_signer_pubkeys(&keys, &n, st, &err), &err);
	lsec_audit_pubkeys_free(keys, n);
	return n;
}

/* Whether st's signer trusts key now, the log read again. */
static bool trusts(lsec_store *st, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	bool t = false;
	assert_lsec_ok(lsec_audit_signer_trust_log(lsec_audit__signer(st), st, &err), &err);
	assert_lsec_ok(lsec_audit_signer_trusts(&t, st, key, &err), &err);
	return t;
}

/* A new Ed25519 key. */
static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	return k;
}

/* Another station on db's registry, signing as name with key. */
static lsec_store *station_open(lsec_test_db *db, const char *name, EVP_PKEY *key)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	assert_lsec_ok(lsec_store_open(&st, db->location, &err), &err);
	lsec_audit_signer_attach(st, signer_for(LSEC_TEST_LINE, name, key));
	return st;
}

static uint64_t next_seq(lsec_store *st)
{
	lsec_err err = LSEC_ERR_INIT;
	uint64_t next = 0;
	assert_lsec_ok(lsec_store_leaf_count(&next, st, &err), &err);
	return next;
}

static void test_audit_sign__trusted_stations_come_from_the_log(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *k3 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k2);
	assert_non_null(k3);
	lsec_store *st2 = NULL, *st3 = NULL;
	assert_lsec_ok(lsec_store_open(&st2, db->location, &err), &err);
	assert_lsec_ok(lsec_store_open(&st3, db->location, &err), &err);
	lsec_audit_signer_attach(st2, signer_for(LSEC_TEST_LINE, "st-2", k2));
	lsec_audit_signer_attach(st3, signer_for(LSEC_TEST_LINE, "st-3", k3));
	/* A station trusting itself trusts nothing. */
	station_leaf(st3, true, "st-3", k3);
	assert_int_equal(trusted_count(db->st), 1);
	/* This station trusts st-2; st-2 trusts st-3 (after it was trusted): both. */
	station_leaf(db->st, true, "st-2", k2);
	assert_int_equal(trusted_count(db->st), 2);
	station_leaf(st2, true, "st-3", k3);
	assert_int_equal(trusted_count(db->st), 3);
	record(st2, "SN-B");
	checkpoint(db->st, 0, NULL);
	/* Distrusted: st-2's later leaves are refused, its earlier ones kept. */
	station_leaf(db->st, false, "st-2", k2);
	assert_int_equal(trusted_count(db->st), 3); /* still listed, bounded */
	assert_false(trusts(db->st, k2));
	uint64_t next = next_seq(db->st);
	record(st2, "SN-B");
	char where[64];
	snprintf(where, sizeof(where), "leaf %llu is bad", (unsigned long long)next);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, where);
	lsec_store_close(st2);
	lsec_store_close(st3);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

/*
 * One trusted station key is not two officers: a station.trust leaf it signs
 * without a change requested and approved by two distinct persons (the
 * approval signed by a trusted key) trusts nothing, nor re-trusts a
 * distrusted station.
 */
static void test_audit_sign__one_station_key_cannot_trust(void **state)
{
	lsec_test_db *db = *state;
	EVP_PKEY *k2 = new_key();
	EVP_PKEY *k3 = new_key();
	EVP_PKEY *kx = new_key();
	lsec_store *st2 = station_open(db, "st-2", k2);
	lsec_store *stx = station_open(db, "st-x", kx);
	station_leaf(db->st, true, "st-2", k2);
	assert_true(trusts(db->st, k2));
	/* st-2's key alone: a bare station.trust leaf. */
	change_leaves(NULL, "mallory", st2, "mallory", true, "st-3", k3);
	assert_false(trusts(db->st, k3));
	/* One person requesting and approving. */
	change_leaves(st2, "mallory", st2, "mallory", true, "st-3", k3);
	assert_false(trusts(db->st, k3));
	/* The approval signed by a key no one trusts. */
	change_leaves3(st2, "alice", stx, st2, "bob", true, "st-3", k3);
	assert_false(trusts(db->st, k3));
	/* A "joined" leaf of st-2's carries no trust to this station. */
	join_leaf(st2, "st-3", k3);
	assert_false(trusts(db->st, k3));
	/* Nor does st-2 re-trust a distrusted station alone. */
	station_leaf(db->st, true, "st-x", kx);
	station_leaf(db->st, false, "st-x", kx);
	assert_false(trusts(db->st, kx));
	change_leaves(NULL, "mallory", st2, "mallory", true, "st-x", kx);
	change_leaves(st2, "mallory", st2, "mallory", true, "st-x", kx);
	assert_false(trusts(db->st, kx));
	/* Two officers through a trusted station: trusted. */
	change_leaves(st2, "alice", st2, "bob", true, "st-3", k3);
	assert_true(trusts(db->st, k3));
	/* This station's own "joined" leaf: the station it joined, its whole log. */
	lsec_store_close(stx);
	EVP_PKEY_free(kx);
	kx = new_key();
	assert_false(trusts(db->st, kx));
	join_leaf(db->st, "st-j", kx);
	assert_true(trusts(db->st, kx));
	lsec_store_close(st2);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(kx);
}

/*
 * A log written before changes of station trust had leaves of their own
 * holds change.request and change.approve leaves for them: its stations are
 * trusted and distrusted as before, with the same checks, and a change
 * requested then and approved now counts too.
 */
static void test_audit_sign__log_before_station_change_leaves(void **state)
{
	lsec_test_db *db = *state;
	EVP_PKEY *k2 = new_key();
	EVP_PKEY *k3 = new_key();
	lsec_store *st2 = station_open(db, "st-2", k2);
	legacy_request = legacy_approval = true;
	station_leaf(db->st, true, "st-2", k2);
	assert_true(trusts(db->st, k2));
	/* One person requesting and approving, through a trusted station: nothing. */
	change_leaves(st2, "mallory", st2, "mallory", true, "st-3", k3);
	assert_false(trusts(db->st, k3));
	/* Two officers through st-2, trusted by the old leaves: trusted, then distrusted. */
	change_leaves(st2, "alice", st2, "bob", true, "st-3", k3);
	assert_true(trusts(db->st, k3));
	station_leaf(db->st, false, "st-3", k3);
	assert_false(trusts(db->st, k3));
	/* Requested before, approved under the new leaves: trusted again. */
	legacy_approval = false;
	station_leaf(db->st, true, "st-3", k3);
	assert_true(trusts(db->st, k3));
	/* New leaves throughout, with older changes in the log: as before. */
	legacy_request = false;
	station_leaf(db->st, false, "st-2", k2);
	assert_false(trusts(db->st, k2));
	assert_true(trusts(db->st, k3)); /* st-3's trust leaf was signed by this station */
	legacy_request = legacy_approval = false;
	lsec_store_close(st2);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

/*
 * A distrust written before changes of station trust had leaves of their
 * own: a station.change.request leaf for its change added at the end of the
 * log by SQL (correct hash, a signature of the right length by no one) does
 * not stand for the change's older request, and the distrust holds.
 */
static void test_audit_sign__late_change_request_does_not_void_old_distrust(void **state)
{
	lsec_test_db *db = *state;
	EVP_PKEY *k2 = new_key();
	legacy_request = legacy_approval = true;
	station_leaf(db->st, true, "st-2", k2);
	station_leaf(db->st, false, "st-2", k2);
	legacy_request = legacy_approval = false;
	assert_false(trusts(db->st, k2));
	json_t *evd = json_pack("{s:I,s:s,s:s,s:o,s:s}", "change", change_id, "kind",
				"station-distrust", "subject", "st-2", "payload",
				station_ev("st-2", k2), LSEC_EV_MEANING, "submitted");
	assert_non_null(evd);
	lsec_audit_event ev = {.person = "mallory", .station = LSEC_TEST_STATION,
			       .action = LSEC_AUDIT_STATION_CHANGE_REQUEST, .outcome = "ok",
			       .evidence = evd};
	uint8_t sig[LSEC_AUDIT_LEAF_SIG_LEN];
	memset(sig, 0x5a, sizeof(sig));
	append_event_by_sql(db->st, next_seq(db->st), &ev, sig, sizeof(sig));
	json_decref(evd);
	assert_false(trusts(db->st, k2));
	EVP_PKEY_free(k2);
}

/* Runs one SQL statement on st with its n parameters p. */
static void sql(lsec_store *st, const char *q, const store_val *p, size_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store__query(st, q, p, n, NULL, NULL, &err), &err);
}

/*
 * Stores, as SQL would, a checkpoint of the whole log signed by key as name
 * whose signed index files every leaf as linesec does except leaf hide under
 * action:station.distrust.
 */
static void forged_checkpoint(lsec_store *st, const char *name, EVP_PKEY *key, uint64_t hide)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit__index *x = NULL;
	lsec_audit_checkpoint cp;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	char keys[LSEC_AUDIT__INDEX_KEYS][LSEC_STORE_INDEX_KEY_MAX + 1];
	char *note = NULL;
	uint8_t h[32], empty[32];
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.size = next_seq(st);
	cp.has_index = true;
	assert_lsec_ok(lsec_audit__index_empty_root(empty, &err), &err);
	assert_lsec_ok(lsec_audit__index_new(&x, empty, 0, &err), &err);
	for (uint64_t seq = 0; seq < cp.size; seq++) {
		lsec_buf_reset(&leaf);
		assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, st, seq, &err), &err);
		size_t n = lsec_audit__index_leaf_keys(keys, leaf.data, leaf.len);
		for (size_t i = 0; i < n; i++) {
			if (seq != hide || strcmp(keys[i], "action:station.distrust") != 0) {
				assert_lsec_ok(lsec_audit__index_add(x, st, keys[i], seq, h, &err),
					       &err);
			}
		}
	}
	assert_lsec_ok(lsec_audit__index_commit(cp.index_root, x, st, &err), &err);
	assert_lsec_ok(lsec_audit_checkpoint_sign(&note, &cp, name, key, &err), &err);
	assert_lsec_ok(lsec_store_checkpoint_put(st, cp.size, cp.root, note, NULL, 0, &err), &err);
	lsec_audit__index_free(x);
	lsec_buf_release(&leaf);
	lsec_free(note);
}

/*
 * A checkpoint signed by the key of a station the log distrusted before its
 * size counts for nothing: one whose index omits another station's distrust
 * (its action column hidden too) does not make that station trusted again.
 */
static void test_audit_sign__distrusted_key_checkpoint_is_not_used(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k2 = new_key();
	EVP_PKEY *k3 = new_key();
	station_leaf(db->st, true, "st-2", k2);
	station_leaf(db->st, true, "st-3", k3);
	station_leaf(db->st, false, "st-3", k3);
	uint64_t d3 = next_seq(db->st) - 1;
	station_leaf(db->st, false, "st-2", k2);
	assert_false(trusts(db->st, k2));
	assert_false(trusts(db->st, k3));
	store_val at[] = {SV_I(d3)};
	sql(db->st, "UPDATE audit_leaves SET action = 'hidden' WHERE seq = ?", at, 1);
	forged_checkpoint(db->st, "st-2", k2, d3);
	assert_false(trusts(db->st, k3));
	assert_false(trusts(db->st, k2));
	lsec_audit_checkpoint cp;
	bool found = true;
	assert_lsec_code(lsec_audit__trusted_latest(&cp, &found, db->st, lsec_audit__signer(db->st),
						    &err),
			 LSEC_E_AUDIT_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, "trusted at its size"));
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

/*
 * A station.distrust leaf after the latest checkpoint whose bytes were
 * changed (its stored hash not, or its hash too) so that it no longer names
 * the action is refused, naming the leaf, not skipped. A bad node of the signed index
 * is read around by content only for leaves that hash to the checkpoint's
 * root: a distrust rewritten with its hash then is refused.
 */
static void test_audit_sign__changed_tail_leaf_and_bad_index_are_refused(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k2 = new_key();
	station_leaf(db->st, true, "st-2", k2);
	checkpoint(db->st, 0, NULL);
	station_leaf(db->st, false, "st-2", k2);
	uint64_t d = next_seq(db->st) - 1;
	assert_false(trusts(db->st, k2));
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, db->st, d, &err), &err);
	char *named = strstr((char *)leaf.data, "\"station.distrust\"");
	assert_non_null(named);
	named[16] = 'x'; /* "station.distrusx": no longer the action */
	store_val p[] = {SV_B(leaf.data, leaf.len), SV_I(d)};
	sql(db->st, "UPDATE audit_leaves SET leaf = ? WHERE seq = ?", p, 2);
	char where[32];
	snprintf(where, sizeof(where), "leaf %llu ", (unsigned long long)d);
	assert_lsec_code(lsec_audit_signer_trust_log(lsec_audit__signer(db->st), db->st, &err),
			 LSEC_E_AUDIT_LEAF_HASH, &err);
	assert_non_null(strstr(err.msg, where));
	store_val back[] = {SV_B(leaf.data, leaf.len), SV_I(d)};
	named[16] = 't';
	sql(db->st, "UPDATE audit_leaves SET leaf = ? WHERE seq = ?", back, 2);
	assert_false(trusts(db->st, k2));
	/*
	 * Bytes and hash rewritten together (the signature left as it was): the
	 * tail leaf's station signature no longer verifies, and the derivation
	 * refuses it, naming the leaf, instead of skipping a leaf that no longer
	 * names station.distrust (which left st-2 trusted until audit verify).
	 */
	uint8_t good[32];
	memcpy(good, h, sizeof(good));
	named[16] = 'x';
	assert_lsec_ok(lsec_audit_leaf_hash(h, leaf.data, leaf.len, &err), &err);
	store_val rewritten[] = {SV_B(leaf.data, leaf.len), SV_B(h, 32), SV_I(d)};
	sql(db->st, "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = ?", rewritten, 3);
	lsec_audit_signer_attach(db->st, signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key()));
	assert_lsec_code(lsec_audit_signer_trust_log(lsec_audit__signer(db->st), db->st, &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, where));
	/*
	 * The checkpoint notes spoilt as well, so that no checkpoint verifies and
	 * the whole log is read by content: each leaf must still carry the
	 * signature of a station key the log knows, and the rewritten one does not.
	 */
	sql(db->st, "UPDATE checkpoints SET note = 'x' || note", NULL, 0);
	lsec_audit_signer_attach(db->st, signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key()));
	assert_lsec_code(lsec_audit_signer_trust_log(lsec_audit__signer(db->st), db->st, &err),
			 LSEC_E_AUDIT_LEAF_SIGNATURE, &err);
	assert_non_null(strstr(err.msg, where));
	sql(db->st, "UPDATE checkpoints SET note = substr(note, 2)", NULL, 0);
	named[16] = 't';
	store_val restored[] = {SV_B(leaf.data, leaf.len), SV_B(good, 32), SV_I(d)};
	sql(db->st, "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = ?", restored, 3);
	assert_false(trusts(db->st, k2));
	/* Covered by a checkpoint whose index nodes are then spoilt: read by content. */
	checkpoint(db->st, 0, NULL);
	uint8_t junk[32];
	memset(junk, 0x5a, sizeof(junk));
	store_val node[] = {SV_B(junk, sizeof(junk))};
	sql(db->st, "UPDATE audit_index_nodes SET hash = ?", node, 1);
	/* A new signer: nothing of the index remembered. */
	lsec_audit_signer_attach(db->st, signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key()));
	assert_false(trusts(db->st, k2));
	/* The distrust then rewritten with its hash: the leaves no longer hash to the root. */
	named[16] = 'x';
	assert_lsec_ok(lsec_audit_leaf_hash(h, leaf.data, leaf.len, &err), &err);
	store_val both[] = {SV_B(leaf.data, leaf.len), SV_B(h, 32), SV_I(d)};
	sql(db->st, "UPDATE audit_leaves SET leaf = ?, leaf_hash = ? WHERE seq = ?", both, 3);
	lsec_audit_signer_attach(db->st, signer_for(LSEC_TEST_LINE, LSEC_TEST_STATION,
						    lsec_test_station_key()));
	assert_lsec_code(lsec_audit_signer_trust_log(lsec_audit__signer(db->st), db->st, &err),
			 LSEC_E_AUDIT_ROOT, &err);
	lsec_buf_release(&leaf);
	EVP_PKEY_free(k2);
}

/*
 * Trust is judged at each leaf's position: changes of trust a key signed
 * before it was trusted stay void when it is trusted later; after it is
 * distrusted, void again.
 */
static void test_audit_sign__trust_counts_from_its_leaf_on(void **state)
{
	lsec_test_db *db = *state;
	EVP_PKEY *k2 = new_key();
	EVP_PKEY *k3 = new_key();
	EVP_PKEY *k4 = new_key();
	lsec_store *st2 = station_open(db, "st-2", k2);
	/* st-2 trusts st-3 (two officers' leaves, all its own) before it is trusted. */
	station_leaf(st2, true, "st-3", k3);
	station_leaf(db->st, true, "st-2", k2);
	assert_true(trusts(db->st, k2));
	assert_false(trusts(db->st, k3));
	/* Distrusted: what it signs afterwards counts no more. */
	station_leaf(db->st, false, "st-2", k2);
	station_leaf(st2, true, "st-4", k4);
	assert_false(trusts(db->st, k4));
	lsec_store_close(st2);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(k4);
}

/*
 * A distrusted station trusted again by a new two-officer change: its leaves
 * from the new trust leaf on verify, those between the two still do not.
 */
static void test_audit_sign__distrusted_station_trusted_again(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *k2 = new_key();
	lsec_store *st2 = station_open(db, "st-2", k2);
	station_leaf(db->st, true, "st-2", k2);
	record(st2, "SN-A");
	station_leaf(db->st, false, "st-2", k2);
	uint64_t gap = next_seq(db->st);
	record(st2, "SN-B"); /* while distrusted */
	station_leaf(db->st, true, "st-2", k2);
	assert_true(trusts(db->st, k2));
	assert_int_equal(trusted_count(db->st), 2);
	record(st2, "SN-C");
	char where[64];
	snprintf(where, sizeof(where), "leaf %llu is bad", (unsigned long long)gap);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, where);
	/* Its leaves after the new trust leaf verify. */
	lsec_audit__keyring *kr = lsec_audit__signer_keyring(lsec_audit__signer(db->st));
	uint64_t last = next_seq(db->st) - 1;
	lsec_buf leaf = LSEC_BUF_INIT(LSEC_AUDIT_LEAF_MAX), sig = LSEC_BUF_INIT(1u << 16);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, &sig, db->st, last, &err), &err);
	expect_sig(kr, ORIGIN, last, h, sig.data, sig.len, 0, NULL);
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, &sig, db->st, gap, &err), &err);
	expect_sig(kr, ORIGIN, gap, h, sig.data, sig.len, LSEC_E_AUDIT_LEAF_SIGNATURE, NULL);
	lsec_buf_release(&leaf);
	lsec_buf_release(&sig);
	lsec_store_close(st2);
	EVP_PKEY_free(k2);
}

/*
 * Distrusting a station also distrusts, from the same leaf, the stations it
 * trusted (transitively): its key's word trusts no one from then on. Their
 * earlier leaves still verify; trusted again by a new change, they verify on.
 */
static void test_audit_sign__distrust_bounds_the_stations_it_trusted(void **state)
{
	lsec_test_db *db = *state;
	EVP_PKEY *k2 = new_key();
	EVP_PKEY *k3 = new_key();
	EVP_PKEY *k4 = new_key();
	lsec_store *st2 = station_open(db, "st-2", k2);
	lsec_store *st3 = station_open(db, "st-3", k3);
	station_leaf(db->st, true, "st-2", k2);
	station_leaf(st2, true, "st-3", k3);
	station_leaf(st3, true, "st-4", k4);
	assert_true(trusts(db->st, k3));
	assert_true(trusts(db->st, k4));
	record(st3, "SN-A");
	checkpoint(db->st, 0, NULL);
	station_leaf(db->st, false, "st-2", k2);
	assert_false(trusts(db->st, k2));
	assert_false(trusts(db->st, k3));
	assert_false(trusts(db->st, k4));
	uint64_t next = next_seq(db->st);
	record(st3, "SN-B");
	char where[64];
	snprintf(where, sizeof(where), "leaf %llu is bad", (unsigned long long)next);
	checkpoint(db->st, LSEC_E_AUDIT_LEAF_SIGNATURE, where);
	station_leaf(db->st, true, "st-3", k3);
	assert_true(trusts(db->st, k3));
	assert_false(trusts(db->st, k4)); /* its earlier word is not revived */
	lsec_store_close(st2);
	lsec_store_close(st3);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(k4);
}

/* More trust leaves than a keyring holds: the log still opens, the extra keys untrusted. */
static void test_audit_sign__too_many_trusted_stations_do_not_lock_out(void **state)
{
	lsec_test_db *db = *state;
	EVP_PKEY *k[LSEC_AUDIT_MAX_KEYS + 4];
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "st-%zu", i);
		k[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(k[i]);
		station_leaf(db->st, true, name, k[i]);
	}
	assert_int_equal(trusted_count(db->st), LSEC_AUDIT_MAX_KEYS + 1);
	assert_true(trusts(db->st, k[0]));
	assert_false(trusts(db->st, k[LSEC_AUDIT_MAX_KEYS]));
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		EVP_PKEY_free(k[i]);
	}
}

static void test_audit_sign__no_signer_no_leaf(void **state)
{
	lsec_test_db *db = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_audit_signer_attach(db->st, NULL);
	lsec_audit_event ev = {.person = "alice", .action = "login"};
	assert_lsec_code(lsec_audit_append(NULL, db->st, &ev, &err), LSEC_E_AUDIT_NO_SIGNER, &err);
	assert_non_null(strstr(err.msg, "'login'"));
	checkpoint(db->st, LSEC_E_AUDIT_NO_SIGNER, "no station key");
	uint64_t n = 9;
	assert_lsec_ok(lsec_store_leaf_count(&n, db->st, &err), &err);
	assert_int_equal(n, 0);
	/* A signer for another line cannot checkpoint this one. */
	lsec_audit_signer_attach(db->st, signer_for("line2", LSEC_TEST_STATION,
						    lsec_test_station_key()));
	checkpoint(db->st, LSEC_E_USAGE, "linesec/line2");
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_audit_sign__signature_binds_origin_seq_and_hash),
		cmocka_unit_test(test_audit_sign__unknown_and_learned_keys),
		cmocka_unit_test(test_audit_sign__seen_by_another_signer_needs_same_log_and_trust),
	};
	const struct CMUnitTest stored[] = {
		cmocka_unit_test_setup_teardown(test_audit_sign__signed_log_checkpoints_and_verifies,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__leaf_appended_by_sql_is_refused,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__other_stations_leaves_need_trust,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__trusted_stations_come_from_the_log,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__one_station_key_cannot_trust,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__log_before_station_change_leaves,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(
			test_audit_sign__late_change_request_does_not_void_old_distrust,
			lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__distrusted_key_checkpoint_is_not_used,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(
			test_audit_sign__changed_tail_leaf_and_bad_index_are_refused,
			lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__trust_counts_from_its_leaf_on,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__distrusted_station_trusted_again,
						lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(
			test_audit_sign__distrust_bounds_the_stations_it_trusted, lsec_test_db_setup,
			lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(
			test_audit_sign__too_many_trusted_stations_do_not_lock_out,
			lsec_test_db_setup, lsec_test_db_teardown),
		cmocka_unit_test_setup_teardown(test_audit_sign__no_signer_no_leaf,
						lsec_test_db_setup, lsec_test_db_teardown),
	};
	int failed = cmocka_run_group_tests(pure, NULL, NULL);
	failed += lsec_test_run_backends("audit/sign", stored, sizeof(stored) / sizeof(stored[0]));
	return failed;
}
