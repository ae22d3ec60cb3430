/*
 * product_key.c - a product's firmware verification key as a registry
 * record: submitted by one security officer, approved by a second,
 * distinct one, never a key on the deny list.
 *
 * Each key a product has had is one row of product_keys (version 1, 2,
 * ...: a rotation submits the next) with its product-key.submit and
 * product-key.approve leaves (product, version, key SHA-256, who). The key
 * the station uses is the product's newest approved one, read through
 * those leaves (approvable.c): a row or approval changed by SQL stops the
 * action, naming the table, the key and the leaf. Its digest is what
 * secure boot fuses, and a release is approved and flashed only when its
 * signer is that key: no file in the line folder decides either.
 *
 * @test tests/unit/station/test_product_key.c
 * @test tests/e2e/test_product_key.sh
 */
#include "station/station_int.h"

#include <stdlib.h>

#include <jansson.h>

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
						    const lsec_store_approvable *list, size_t n)
{
	const lsec_store_approvable *best = NULL;
	int64_t best_seq = -1;
	for (size_t i = 0; i < n; i++) {
		int64_t seq = submit_seq(lv, &list[i]);
		if (list[i].approved && seq > best_seq) {
			best = &list[i];
			best_seq = seq;
		}
	}
	return best;
}

static int require_product(lsec_station *st, const char *product, lsec_err *err)
{
	int rc = 0;
	LSEC_ENSURE(product != NULL, LSEC_E_USAGE, "a product key needs a product");
	for (size_t i = 0; i < st->cfg->nproducts; i++) {
		if (lsec_station__eq(st->cfg->products[i].id, product)) {
			goto out;
		}
	}
	LSEC_BAIL(LSEC_E_STATION_CONFIG, "product '%s' is not a product of this line (line.yaml)",
		  product);
out:
	return rc;
}

/* LSEC_E_STATION_SAMPLE_KEY when the key of SHA-256 kh is on the deny list. */
static int not_denied(lsec_station *st, const uint8_t kh[32], const char *product,
		      lsec_err *err)
{
	int rc = 0;
	lsec_station__denial d;
	LSEC_TRY(lsec_station__denied(&d, st->store, kh, err));
	LSEC_ENSURE(!d.hit, LSEC_E_STATION_SAMPLE_KEY,
		    "cannot register the firmware key of '%s': it is the published key '%s' "
		    "(published at %s)",
		    product, d.name, d.origin);
out:
	return rc;
}

int lsec_station__product_key(lsec_key **out, lsec_station *st, const char *product, lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *list = NULL, row;
	size_t n = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	lsec_buf b64 = LSEC_BUF_INIT(1 << 16), der = LSEC_BUF_INIT(1 << 16);
	uint8_t fp[32];
	char hex[65];
	const lsec_store_approvable *best = NULL;
	*out = NULL;
	LSEC_TRY(require_product(st, product, err));
	LSEC_TRY(verified_keys(&list, &n, lv, st, product, err));
	best = newest_approved(lv, list, n);
	LSEC_ENSURE(best != NULL, LSEC_E_STATION_CONFIG,
		    "product '%s' has no registered firmware key (a security officer submits "
		    "it "
		    "with 'linesec product key submit %s PUB.pem', a second one approves it)",
		    product, product);
	LSEC_TRY(lsec_store_product_key_get(&row, &b64, st->store, best->name, best->version, err));
	LSEC_ENSURE(lsec_buf_cstr(&b64, err) != NULL, LSEC_E_AUDIT_INDEX,
		    "registry table product_keys: key %s@%s has no readable key", best->name,
		    best->version);
	LSEC_TRY(lsec_base64_decode(&der, (const char *)b64.data, strlen((const char *)b64.data),
				    "product_keys.spki", err));
	LSEC_TRY(lsec_key_from_spki(out, der.data, der.len, err));
	LSEC_TRY(lsec_key_fingerprint(fp, *out, err));
	lsec_hex_encode(hex, fp, 32);
	/* The row's digest is the leaves' (checked above); the key must be the one it
	 * names. */
	LSEC_ENSURE(lsec_station__eq(hex, best->digest), LSEC_E_AUDIT_INDEX,
		    "registry table product_keys holds key %s@%s whose SHA-256 is "
		    "%s, but its leaf "
		    "%lld recorded %s: the registry was changed outside linesec",
		    best->name, best->version, hex, (long long)submit_seq(lv, best), best->digest);
	LSEC_TRY(not_denied(st, fp, product, err));
out:
	if (rc < 0) {
		lsec_key_free(*out);
		*out = NULL;
	}
	lsec_buf_release(&b64);
	lsec_buf_release(&der);
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	return rc;
}

int lsec_station_product_key_submit(char version_out[LSEC_STORE_NAME_MAX + 1], lsec_station *st,
				    const char *product, const char *pub_path, const char *person,
				    lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	json_t *lv[LSEC_STATION__LV_COUNT] = {NULL};
	json_t *ev = NULL;
	lsec_key *k = NULL;
	lsec_buf der = LSEC_BUF_INIT(1 << 16);
	char *b64 = NULL;
	uint8_t fp[32];
	char hex[65], ver[24];
	if (version_out != NULL) {
		version_out[0] = '\0';
	}
	LSEC_ENSURE(pub_path != NULL, LSEC_E_USAGE, "product key submit needs a public key file");
	LSEC_TRY(require_product(st, product, err));
	LSEC_TRY(lsec_station__require_role(st, person, "security-officer", "submit a product key",
					    err));
	LSEC_TRY(lsec_key_load_public(&k, pub_path, err));
	LSEC_TRY(lsec_key_fingerprint(fp, k, err));
	LSEC_TRY(not_denied(st, fp, product, err));
	LSEC_TRY(lsec_key_spki_der(&der, k, err));
	LSEC_TRY(lsec_base64_encode(&b64, der.data, der.len, err));
	lsec_hex_encode(hex, fp, 32);
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(verified_keys(&list, &n, lv, st, product, err));
	snprintf(ver, sizeof(ver), "%zu", n + 1);
	ev = json_pack("{s:s,s:s,s:s}", LSEC_EV_PRODUCT, product, LSEC_EV_VERSION, ver,
		       LSEC_EV_KEY_SHA256, hex);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
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
	json_decref(ev);
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	lsec_free(b64);
	lsec_buf_release(&der);
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
	LSEC_TRY(not_denied(st, fp, a->name, err));
	ev = json_pack("{s:s,s:s,s:s}", LSEC_EV_PRODUCT, a->name, LSEC_EV_VERSION, a->version,
		       LSEC_EV_KEY_SHA256, a->digest);
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
		/* The active key of a product is its newest approved one. */
		bool newer = false;
		for (size_t j = 0; j < n; j++) {
			newer =
			    newer || (list[j].approved && lsec_station__eq(list[j].name, a->name) &&
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
		    json_pack("{s:s,s:s,s:s,s:s,s:o*,s:s,s:I,s:s}", "product", a->name, "version",
			      a->version, LSEC_EV_KEY_SHA256, a->digest, "submitted-by",
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
