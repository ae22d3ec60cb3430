/* Product keys: two officers, the deny list, reads through the leaves, rotation. */
#include "station_fixture.h"
#include "station/station_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A fresh ECDSA P-256 key pair: private at <dir>/name.pem, public at <dir>/name.pub.pem. */
static void new_key(station_fx *fx, const char *name, char **priv, char **pub)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *k = NULL;
	lsec_buf pem = LSEC_BUF_INIT(4096);
	char file[64];
	snprintf(file, sizeof(file), "%s.pem", name);
	*priv = lsec_test_path(fx->dir, file);
	snprintf(file, sizeof(file), "%s.pub.pem", name);
	*pub = lsec_test_path(fx->dir, file);
	fx_ok(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, &err), &err);
	fx_ok(lsec_key_write_private(k, *priv, NULL, &err), &err);
	fx_ok(lsec_key_public_pem(&pem, k, &err), &err);
	fx_ok(lsec_file_write_new(*pub, pem.data, pem.len, 0644, &err), &err);
	lsec_buf_release(&pem);
	lsec_key_free(k);
}

static const char *state_of(json_t *keys, const char *version)
{
	size_t i;
	json_t *o;
	json_array_foreach(keys, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "version")), version) == 0) {
			return json_string_value(json_object_get(o, "state"));
		}
	}
	return "(none)";
}

static void test_product_key__two_officers(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char ver[LSEC_STORE_NAME_MAX + 1];
	char *priv = NULL, *pub = NULL;
	json_t *keys = NULL;
	new_key(fx, "k2", &priv, &pub);
	/* An operator submits nothing; a product the line does not build has no key. */
	assert_int_equal(lsec_station_product_key_submit(ver, fx->st, "sensor", pub, "op", &err),
			 LSEC_E_STATION_ROLE);
	assert_int_equal(lsec_station_product_key_submit(ver, fx->st, "other", pub, "sec1", &err),
			 LSEC_E_STATION_CONFIG);
	fx_ok(lsec_station_product_key_submit(ver, fx->st, "sensor", pub, "sec1", &err), &err);
	assert_string_equal(ver, "2");
	/* Its submitter cannot approve it; until a second officer does, key 1 stays. */
	assert_int_equal(lsec_station_product_key_approve(fx->st, "sensor@2", "sec1", &err),
			 LSEC_E_STATION_SELF_APPROVAL);
	assert_non_null(strstr(err.msg, "a second security officer must approve"));
	fx_ok(lsec_station_product_key_show(&keys, fx->st, "sensor", &err), &err);
	assert_string_equal(state_of(keys, "1"), "active");
	assert_string_equal(state_of(keys, "2"), "submitted");
	json_decref(keys);
	const lsec_key *k = NULL; /* borrowed from the station */
	uint8_t fp[32], want[32];
	lsec_key *fw = NULL;
	fx_ok(lsec_station__product_key(&k, fx->st, "sensor", &err), &err);
	fx_ok(lsec_key_fingerprint(fp, k, &err), &err);
	fx_ok(lsec_key_load_public(&fw, fx->fw_key, &err), &err);
	fx_ok(lsec_key_fingerprint(want, fw, &err), &err);
	assert_memory_equal(fp, want, 32);
	/* The second officer approves: key 2 is the product's now. */
	fx_ok(lsec_station_product_key_approve(fx->st, "sensor@2", "sec2", &err), &err);
	assert_int_equal(lsec_station_product_key_approve(fx->st, "sensor@2", "sec2", &err),
			 LSEC_E_EXISTS);
	fx_ok(lsec_station_product_key_show(&keys, fx->st, NULL, &err), &err);
	assert_string_equal(state_of(keys, "1"), "superseded");
	assert_string_equal(state_of(keys, "2"), "active");
	json_decref(keys);
	fx_ok(lsec_station__product_key(&k, fx->st, "sensor", &err), &err);
	fx_ok(lsec_key_fingerprint(fp, k, &err), &err);
	assert_memory_not_equal(fp, want, 32);
	lsec_key_free(fw);
	/* A release signed with the retired key is refused at approval. */
	char *img = lsec_test_path(fx->dir, "old.img");
	fx_sign_image(img, fx->fw_priv, "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err), &err);
	assert_int_not_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec2", &err),
			     0);
	fx_log_verifies(fx);
	lsec_audit_state_report rep;
	fx_ok(lsec_audit_state_verify(&rep, lsec_station_store(fx->st), &err), &err);
	lsec_audit_state_report_release(&rep);
	lsec_free(img);
	lsec_free(priv);
	lsec_free(pub);
}

static void test_product_key__denied_key_refused(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *sample = lsec_test_data("../../data/denied-keys/mcuboot-root-ed25519-unknown.pub.pem");
	assert_int_equal(lsec_station_product_key_submit(NULL, fx->st, "sensor", sample, "sec1",
							 &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	assert_non_null(strstr(err.msg, "'mcuboot-root-ed25519-unknown'"));
	json_t *keys = NULL;
	fx_ok(lsec_station_product_key_show(&keys, fx->st, NULL, &err), &err);
	assert_int_equal(json_array_size(keys), 2); /* sensor@1 and sensor@debug-auth-1 */
	json_decref(keys);
	lsec_free(sample);
	/* Nor as a debug-authentication key. */
	char *priv = lsec_test_data("denied-keys-private/root-ed25519-unknown.pem");
	lsec_secret *pass = NULL;
	fx_ok(lsec_secret_from(&pass, "pw", 2, &err), &err);
	assert_int_equal(lsec_station_debug_auth_key_submit(NULL, fx->st, "sensor", priv, NULL,
							    pass, "sec1", &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	assert_non_null(strstr(err.msg, "debug-auth key"));
	/* The firmware key is never the debug-auth key. */
	assert_int_equal(lsec_station_debug_auth_key_submit(NULL, fx->st, "sensor", fx->fw_priv,
							    NULL, pass, "sec1", &err),
			 LSEC_E_EXISTS);
	lsec_secret_free(pass);
	lsec_free(priv);
}

static void test_product_key__rows_changed_outside_refused(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *store = lsec_station_store(fx->st);
	char *priv = NULL, *pub = NULL;
	const lsec_key *k = NULL;
	new_key(fx, "k2", &priv, &pub);
	/* A key row no leaf records, approved by two bare rows: never the product's key. */
	fx_ok(lsec_store_product_key_add(NULL, store, "sensor", "2", "00", "AAAA", "sec1", &err),
	      &err);
	fx_ok(lsec_store_product_key_approve(store, "sensor", "2", "sec1", &err), &err);
	fx_ok(lsec_store_product_key_approve(store, "sensor", "2", "sec2", &err), &err);
	assert_int_equal(lsec_station__product_key(&k, fx->st, "sensor", &err), LSEC_E_AUDIT_INDEX);
	assert_null(k);
	assert_non_null(strstr(err.msg, "registry table product_keys holds product key sensor@2"));
	assert_non_null(strstr(err.msg, "no product-key.submit leaf"));
	lsec_audit_state_report rep;
	assert_int_equal(lsec_audit_state_verify(&rep, store, &err), LSEC_E_AUDIT_STATE);
	assert_non_null(strstr(err.msg, "product_keys"));
	lsec_audit_state_report_release(&rep);
	lsec_free(priv);
	lsec_free(pub);
}

/*
 * A decoded key stays valid until the station closes, however many keys
 * are decoded after it, and a key that fails to decode leaves no entry.
 */
#define DECODED 20
static void test_product_key__decoded_keys_kept_until_close(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf der[DECODED];
	const lsec_key *held[DECODED];
	uint8_t fp[DECODED][32], again[32];
	for (size_t i = 0; i < DECODED; i++) {
		lsec_key *k = NULL;
		der[i] = (lsec_buf)LSEC_BUF_INIT(256);
		fx_ok(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, &err), &err);
		fx_ok(lsec_key_spki_der(&der[i], k, &err), &err);
		lsec_key_free(k);
		fx_ok(lsec_station__key_decode(&held[i], fp[i], fx->st, der[i].data, der[i].len,
					       &err),
		      &err);
	}
	/* A malformed key: refused, and nothing is kept for it. */
	const lsec_key *bad = NULL;
	size_t n = fx->st->nkeys;
	assert_true(lsec_station__key_decode(&bad, again, fx->st, der[0].data, der[0].len - 1,
					     &err) < 0);
	assert_null(bad);
	assert_int_equal(fx->st->nkeys, n);
	for (size_t i = 0; i < DECODED; i++) {
		const lsec_key *k = NULL;
		/* The key handed out first is still the one held, and still usable. */
		fx_ok(lsec_key_fingerprint(again, held[i], &err), &err);
		assert_memory_equal(again, fp[i], 32);
		fx_ok(lsec_station__key_decode(&k, again, fx->st, der[i].data, der[i].len, &err),
		      &err);
		assert_ptr_equal(k, held[i]);
		assert_memory_equal(again, fp[i], 32);
		lsec_buf_release(&der[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_product_key__decoded_keys_kept_until_close,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_product_key__two_officers, station_fx_setup,
						station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_product_key__denied_key_refused,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_product_key__rows_changed_outside_refused,
						station_fx_setup, station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
