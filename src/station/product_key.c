/*
 * product_key.c - a product's keys as registry records: submitted by one
 * security officer, approved by a second, distinct one, never a key on the
 * deny list. Two purposes share the mechanism:
 *  - firmware: the firmware verification key (versions "1", "2", ...);
 *  - debug-auth: the debug-authentication key that signs the UID-bound
 *    token of an authenticated erase (versions "debug-auth-1", ...). Its
 *    private half is kept by the station encrypted (PKCS#8, scrypt) in
 *    <line>/debug-auth/PRODUCT@VERSION.key.pem; its digest is fused into
 *    DEBUG_AUTH_KEY_DIGEST at secure boot.
 *
 * Each key a product has had is one row of product_keys with its
 * product-key.submit and product-key.approve leaves (product, version,
 * purpose, key SHA-256, who). The key the station uses for a purpose is
 * the product's newest approved one of that purpose, read through those
 * leaves (approvable.c): a row or approval changed by SQL stops the
 * action, naming the table, the key and the leaf. The firmware key's
 * digest is what secure boot fuses, and a release is approved and flashed
 * only when its signer is that key: no file in the line folder decides
 * either.
 *
 * @test tests/unit/station/test_product_key.c
 * @test tests/e2e/test_product_key.sh
 * @test tests/e2e/test_debug_auth.sh
 */
#include "station/station_int.h"

#include <stdlib.h>

#include <jansson.h>

#include "linesec/pki.h"

#define DEBUG_AUTH_PREFIX "debug-auth-"

const char *lsec_station__key_purpose(const char *version)
{
	return strncmp(version, DEBUG_AUTH_PREFIX, sizeof(DEBUG_AUTH_PREFIX) - 1) == 0
		   ? LSEC_STATION_KEY_DEBUG_AUTH
		   : LSEC_STATION_KEY_FIRMWARE;
}

static bool of_purpose(const lsec_store_approvable *a, const char *purpose)
{
	return purpose == NULL || lsec_station__eq(lsec_station__key_purpose(a->version), purpose);
}

static const lsec_station__approvable_kind key_kind = {
    "product key",
    "product_keys",
    "product_key_approvals",
    LSEC_EV_KEY_SHA256,
    {"product-key.submit", "product-key.approve", NULL},
};

/* The product's key rows, each checked against its leaves; lv filled for the
 * caller. */
static int verified_keys(lsec_store_approvable **out, size_t *n_out,
			 json_t *lv[LSEC_STATION__LV_COUNT], lsec_station *st, const char *product,
			 lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_store_product_key_list(out, n_out, st->store, product, err));
	LSEC_TRY(lsec_station__approvable_leaves(lv, st, &key_kind, product, err));
	for (size_t i = 0; i < *n_out; i++) {
		LSEC_TRY(lsec_station__approvable_check(lv, &key_kind, &(*out)[i], err));
	}
out:
	return rc;
}

/* The submission leaf's seq of row a. */
static int64_t submit_seq(json_t *const lv[LSEC_STATION__LV_COUNT], const lsec_store_approvable *a)
{
	return lsec_station__leaf_seq(
	    lsec_station__approvable_leaf(lv, &key_kind, LSEC_STATION__LV_SUBMIT, a, NULL));
}

/* The newest approved row (by its submission leaf) in list; NULL when none. */
static const lsec_store_approvable *newest_approved(json_t *const lv[LSEC_STATION__LV_COUNT],
						    const lsec_store_approvable *list, size_t n,
						    const char *purpose)
{
	const lsec_store_approvable *best = NULL;
	int64_t best_seq = -1;
	for (size_t i = 0; i < n; i++) {
		int64_t seq = submit_seq(lv, &list[i]);
		if (list[i].approved && of_purpose(&list[i], purpose) && seq > best_seq) {
			best = &list[i];
			best_seq = seq;
		}
	}
	return best;
}

/* LSEC_E_STATION_SAMPLE_KEY when the key of SHA-256 kh is on the deny list. */
static int not_denied(lsec_station *st, const uint8_t kh[32], const char *product,
		      const char *purpose, lsec_err *err)
{
	int rc = 0;
	lsec_station__denial d;
	LSEC_TRY(lsec_station__denied(&d, st->store, kh, err));
	LSEC_ENSURE(!d.hit, LSEC_E_STATION_SAMPLE_KEY,
		    "cannot register the %s key of '%s': it is the published key '%s' "
		    "(published at %s)",
		    purpose, product, d.name, d.origin);
out:
	return rc;
}

/*
 * The public key of row best of the product's keys (verified against its
 * leaves in lv), checked against the row's digest and the deny list.
 */
static int row_key(const lsec_key **out, lsec_station *st,
		   json_t *const lv[LSEC_STATION__LV_COUNT],
		   const lsec_store_approvable *best, lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable row;
	lsec_buf b64 = LSEC_BUF_INIT(1 << 16), der = LSEC_BUF_INIT(1 << 16);
	uint8_t fp[32];
	char hex[65];
	*out = NULL;
	LSEC_TRY(lsec_store_product_key_get(&row, &b64, st->store, best->name, best->version, err));
	LSEC_ENSURE(lsec_buf_cstr(&b64, err) != NULL, LSEC_E_AUDIT_INDEX,
		    "registry table product_keys: key %s@%s has no readable key", best->name,
		    best->version);
	LSEC_TRY(lsec_base64_decode(&der, (const char *)b64.data, strlen((const char *)b64.data),
				    "product_keys.spki", err));
	LSEC_TRY(lsec_station__key_decode(out, fp, st, der.data, der.len, err));
	lsec_hex_encode(hex, fp, 32);
	/* The row's digest is the leaves' (checked above); the key must be the one it
	 * names. */
	LSEC_ENSURE(lsec_station__eq(hex, best->digest), LSEC_E_AUDIT_INDEX,
		    "registry table product_keys holds key %s@%s whose SHA-256 is "
		    "%s, but its leaf "
		    "%lld recorded %s: the registry was changed outside linesec",
		    best->name, best->version, hex, (long long)submit_seq(lv, best), best->digest);
	LSEC_TRY(not_denied(st, fp, best->name, lsec_station__key_purpose(best->version), err));
out:
	if (rc < 0) {
		*out = NULL;
	}
	lsec_buf_release(&b64);
	lsec_buf_release(&der);
	return rc;
}

int lsec_station__product_key(const lsec_key **out, lsec_station *st, const char *product,
			      lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	const lsec_store_approvable *best = NULL;
	*out = NULL;
	LSEC_TRY(lsec_station__require_product(st, product, "use a product key", err));
	LSEC_TRY(verified_keys(&list, &n, lv, st, product, err));
	best = newest_approved(lv, list, n, LSEC_STATION_KEY_FIRMWARE);
	LSEC_ENSURE(best != NULL, LSEC_E_STATION_CONFIG,
		    "product '%s' has no registered firmware key (a security officer submits "
		    "it "
		    "with 'linesec product key submit %s PUB.pem', a second one approves it)",
		    product, product);
	LSEC_TRY(row_key(out, st, lv, best, err));
out:
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	return rc;
}

int lsec_station__debug_auth_key(const lsec_key **out,
				 char version_out[LSEC_STORE_NAME_MAX + 1],
				 lsec_station *st, const char *product, const uint8_t *fused,
				 lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	const lsec_store_approvable *best = NULL;
	char hex[65] = "";
	*out = NULL;
	version_out[0] = '\0';
	LSEC_TRY(lsec_station__require_product(st, product, "use a product key", err));
	LSEC_TRY(verified_keys(&list, &n, lv, st, product, err));
	if (fused == NULL) {
		best = newest_approved(lv, list, n, LSEC_STATION_KEY_DEBUG_AUTH);
	} else {
		lsec_hex_encode(hex, fused, 32);
		for (size_t i = 0; i < n; i++) {
			if (list[i].approved && of_purpose(&list[i], LSEC_STATION_KEY_DEBUG_AUTH) &&
			    lsec_station__eq(list[i].digest, hex)) {
				best = &list[i];
			}
		}
		LSEC_ENSURE(best != NULL, LSEC_E_STATION_CONFIG,
			    "no approved debug-authentication key of product '%s' has the digest "
			    "%.16s... fused in the unit",
			    product, hex);
	}
	if (best != NULL) {
		LSEC_TRY(row_key(out, st, lv, best, err));
		snprintf(version_out, LSEC_STORE_NAME_MAX + 1, "%s", best->version);
	}
out:
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	return rc;
}

char *lsec_station__debug_auth_path(const lsec_station *st, const char *product,
				    const char *version)
{
	return lsec_asprintf("%s/debug-auth/%s@%s.key.pem", st->cfg->line_dir, product, version);
}

/*
 * Records key k as product's next key of purpose by person; a debug-auth
 * key's private half is written, encrypted under pass, where the station
 * keeps it (removed again if the record fails).
 */
static int submit(char version_out[LSEC_STORE_NAME_MAX + 1], lsec_station *st,
		  const char *product, const lsec_key *k, const char *purpose,
		  const lsec_secret *pass, const char *person, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable *list = NULL;
	size_t n = 0, same = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	json_t *ev = NULL;
	lsec_buf der = LSEC_BUF_INIT(1 << 16);
	char *b64 = NULL, *path = NULL, *dir = NULL;
	bool debug = lsec_station__eq(purpose, LSEC_STATION_KEY_DEBUG_AUTH);
	uint8_t fp[32];
	char hex[65], ver[LSEC_STORE_NAME_MAX + 1];
	bool wrote = false;
	if (version_out != NULL) {
		version_out[0] = '\0';
	}
	LSEC_TRY(lsec_station__require_product(st, product, "register a product key", err));
	LSEC_TRY(lsec_station__require_role(st, person, "security-officer", "submit a product key",
					    err));
	LSEC_TRY(lsec_key_fingerprint(fp, k, err));
	LSEC_TRY(not_denied(st, fp, product, purpose, err));
	LSEC_TRY(lsec_key_spki_der(&der, k, err));
	LSEC_TRY(lsec_base64_encode(&b64, der.data, der.len, err));
	lsec_hex_encode(hex, fp, 32);
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(verified_keys(&list, &n, lv, st, product, err));
	for (size_t i = 0; i < n; i++) {
		same += of_purpose(&list[i], purpose) ? 1 : 0;
		LSEC_ENSURE(!lsec_station__eq(list[i].digest, hex), LSEC_E_EXISTS,
			    "cannot submit this key for product '%s': it is already its key %s@%s",
			    product, list[i].name, list[i].version);
	}
	snprintf(ver, sizeof(ver), "%s%zu", debug ? DEBUG_AUTH_PREFIX : "", same + 1);
	ev = json_pack("{s:s,s:s,s:s,s:s,s:s}", LSEC_EV_PRODUCT, product, LSEC_EV_VERSION, ver,
		       LSEC_EV_KEY_SHA256, hex, LSEC_EV_PURPOSE, purpose, LSEC_EV_MEANING,
		       LSEC_MEANING_SUBMITTED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	if (debug) {
		LSEC_ENSURE(pass != NULL, LSEC_E_USAGE,
			    "a debug-authentication key is kept encrypted: it needs a passphrase");
		dir = lsec_asprintf("%s/debug-auth", st->cfg->line_dir);
		path = lsec_station__debug_auth_path(st, product, ver);
		LSEC_ENSURE(dir != NULL && path != NULL, LSEC_E_NOMEM, "out of memory");
		LSEC_TRY(lsec_mkdir_p(dir, 0700, err));
		LSEC_TRY(lsec_key_write_private(k, path, pass, err));
		wrote = true;
	}
	LSEC_TRY(lsec_store_product_key_add(NULL, st->store, product, ver, hex, b64, person, err));
	/* The submitter's signature is the first of the two; a second officer
	 * approves. */
	LSEC_TRY(lsec_store_product_key_approve(st->store, product, ver, person, err));
	LSEC_TRY(lsec_station__leaf(st, person, NULL, "product-key.submit", "submitted", ev, err));
	if (version_out != NULL) {
		snprintf(version_out, LSEC_STORE_NAME_MAX + 1, "%s", ver);
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (rc < 0 && wrote) {
		(void)remove(path);
	}
	json_decref(ev);
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	lsec_free(b64);
	lsec_free(path);
	lsec_free(dir);
	lsec_buf_release(&der);
	return rc;
}

int lsec_station_product_key_submit(char version_out[LSEC_STORE_NAME_MAX + 1], lsec_station *st,
				    const char *product, const char *pub_path, const char *person,
				    lsec_err *err)
{
	int rc = 0;
	lsec_key *k = NULL;
	LSEC_ENSURE(pub_path != NULL, LSEC_E_USAGE, "product key submit needs a public key file");
	LSEC_TRY(lsec_key_load_public(&k, pub_path, err));
	LSEC_TRY(submit(version_out, st, product, k, LSEC_STATION_KEY_FIRMWARE, NULL, person, err));
out:
	lsec_key_free(k);
	return rc;
}

int lsec_station_debug_auth_key_submit(char version_out[LSEC_STORE_NAME_MAX + 1],
				       lsec_station *st, const char *product,
				       const char *key_path, const lsec_secret *key_pass,
				       const lsec_secret *keep_pass, const char *person,
				       lsec_err *err)
{
	int rc = 0;
	lsec_key *k = NULL;
	LSEC_ENSURE(key_path != NULL && keep_pass != NULL, LSEC_E_USAGE,
		    "a debug-authentication key submission needs a private key file and the "
		    "passphrase the station keeps it under");
	LSEC_TRY(lsec_key_load_private(&k, key_path, key_pass, err));
	LSEC_TRY(submit(version_out, st, product, k, LSEC_STATION_KEY_DEBUG_AUTH, keep_pass, person,
			err));
out:
	lsec_key_free(k);
	return rc;
}

int lsec_station_product_key_approve(lsec_station *st, const char *id, const char *person,
				     lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	json_t *ev = NULL;
	const lsec_store_approvable *a = NULL;
	uint8_t fp[32];
	LSEC_ENSURE(id != NULL, LSEC_E_USAGE, "product key approve needs PRODUCT@VERSION");
	LSEC_TRY(lsec_station__require_role(st, person, "security-officer", "approve a product key",
					    err));
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(verified_keys(&list, &n, lv, st, NULL, err));
	a = lsec_station__approvable_find(list, n, id);
	LSEC_ENSURE(a != NULL, LSEC_E_NOTFOUND,
		    "cannot approve product key '%s': no such key (PRODUCT@VERSION, as "
		    "'linesec product key show' lists them)",
		    id);
	LSEC_TRY(lsec_station__approvable_second(&key_kind, a, person, err));
	LSEC_ENSURE(!a->approved, LSEC_E_EXISTS,
		    "cannot approve product key %s@%s: '%s' and '%s' approved it already", a->name,
		    a->version, a->approvers[0], a->approvers[1]);
	LSEC_TRY(lsec_hex_decode_fixed(fp, 32, a->digest, "product key digest", err));
	LSEC_TRY(not_denied(st, fp, a->name, lsec_station__key_purpose(a->version), err));
	ev = json_pack("{s:s,s:s,s:s,s:s,s:s}", LSEC_EV_PRODUCT, a->name, LSEC_EV_VERSION, a->version,
		       LSEC_EV_KEY_SHA256, a->digest, LSEC_EV_PURPOSE,
		       lsec_station__key_purpose(a->version), LSEC_EV_MEANING, LSEC_MEANING_APPROVED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_product_key_approve(st->store, a->name, a->version, person, err));
	LSEC_TRY(lsec_station__leaf(st, person, NULL, "product-key.approve", "approved", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	return rc;
}

int lsec_station_product_key_show(json_t **out, lsec_station *st, const char *product,
				  lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	json_t *arr = json_array();
	*out = NULL;
	LSEC_ENSURE(arr != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(verified_keys(&list, &n, lv, st, product, err));
	for (size_t i = 0; i < n; i++) {
		const lsec_store_approvable *a = &list[i];
		/* The active key of a product, per purpose, is its newest approved one. */
		const char *purpose = lsec_station__key_purpose(a->version);
		bool newer = false;
		for (size_t j = 0; j < n; j++) {
			newer =
			    newer || (list[j].approved && lsec_station__eq(list[j].name, a->name) &&
				      of_purpose(&list[j], purpose) &&
				      submit_seq(lv, &list[j]) > submit_seq(lv, a));
		}
		const char *state = !a->approved ? "submitted" : newer ? "superseded" : "active";
		json_t *approvers = json_array();
		for (unsigned k = 0; k < 2 && approvers != NULL; k++) {
			if (a->approvers[k][0] != '\0') {
				json_array_append_new(approvers, json_string(a->approvers[k]));
			}
		}
		json_t *o =
		    json_pack("{s:s,s:s,s:s,s:s,s:s,s:o*,s:s,s:I,s:s}", "product", a->name,
			      "version", a->version, LSEC_EV_PURPOSE, purpose, LSEC_EV_KEY_SHA256,
			      a->digest, "submitted-by",
			      a->created_by, "approvers", approvers, "state", state, "leaf",
			      (json_int_t)submit_seq(lv, a), "created", a->created);
		LSEC_TRY(lsec_json_append(arr, o, err));
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	return rc;
}
