/* Releases: two-person approval, every image check, sample keys, revocation. */
#include "station_fixture.h"

#include <stdio.h>
#include <stdlib.h>

static char *fx_image(station_fx *fx, const char *name, const char *product,
		      lsec_image_build build, const char *version, uint32_t counter)
{
	char *img = lsec_test_path(fx->dir, name);
	fx_sign_image(img, fx->fw_priv, product, build, version, counter);
	return img;
}

static void test_station_release__same_person_cannot_approve(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *img = fx_image(fx, "a.img", "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err), &err);
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec1", &err),
			 LSEC_E_STATION_SELF_APPROVAL);
	/* An operator cannot approve at all. */
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "op", &err),
			 LSEC_E_STATION_ROLE);
	fx_ok(lsec_station_release_approve(fx->st, "1", "sec2", &err), &err);
	lsec_station_release *l = NULL;
	size_t n = 0;
	fx_ok(lsec_station_release_list(&l, &n, fx->st, &err), &err);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].state, LSEC_STATION_RELEASE_APPROVED);
	assert_string_equal(l[0].row.approvers[0], "sec1");
	assert_string_equal(l[0].row.approvers[1], "sec2");
	json_t *j = NULL;
	fx_ok(lsec_station_release_list_json(&j, l, n, &err), &err);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "state")),
			    "approved");
	json_decref(j);
	lsec_free(l);
	lsec_free(img);
}

static void test_station_release__debug_and_foreign_images_refused(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *dbg = fx_image(fx, "d.img", "sensor", LSEC_IMAGE_BUILD_DEBUG, "1.0.0", 1);
	char *other = fx_image(fx, "o.img", "router", LSEC_IMAGE_BUILD_RELEASE, "1.1.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, dbg, "sensor", 0, "sec1", &err), &err);
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec2", &err),
			 LSEC_E_IMG_DEBUG_BUILD);
	fx_ok(lsec_station_release_submit(NULL, fx->st, other, "sensor", 0, "sec1", &err), &err);
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.1.0", "sec2", &err),
			 LSEC_E_IMG_WRONG_PRODUCT);
	/* Signed by another key than the product's. */
	char *okey = lsec_test_path(fx->dir, "other.pem");
	lsec_key *k = NULL;
	fx_ok(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, &err), &err);
	fx_ok(lsec_key_write_private(k, okey, NULL, &err), &err);
	lsec_key_free(k);
	char *img = lsec_test_path(fx->dir, "k.img");
	fx_sign_image(img, okey, "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.2.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err), &err);
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.2.0", "sec2", &err),
			 LSEC_E_IMG_KEY_MISMATCH);
	lsec_free(img);
	lsec_free(okey);
	lsec_free(dbg);
	lsec_free(other);
}

static void test_station_release__sample_key_refused(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	/* A product whose "firmware key" is MCUboot's published root-ec-p256 sample key. */
	char *sample = lsec_test_data("mcuboot-sample-keys/root-ec-p256.pub.pem");
	fx->product.firmware_key = sample;
	char *img = fx_image(fx, "s.img", "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err), &err);
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec2", &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	assert_non_null(strstr(err.msg, "root-ec-p256"));
	fx->product.firmware_key = fx->fw_key;
	lsec_free(img);
	lsec_free(sample);
}

/* The compiled-in list equals KEYHASHES.txt, recomputed from the PEM files. */
static void test_station_release__sample_keys_match_keyhashes(void **state)
{
	(void)state;
	char *path = lsec_test_data("mcuboot-sample-keys/KEYHASHES.txt");
	FILE *f = fopen(path, "r");
	char line[512];
	size_t listed = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		uint8_t h[32];
		lsec_err err = LSEC_ERR_INIT;
		if (line[0] == '#' || strlen(line) < 64) {
			continue;
		}
		line[64] = '\0';
		fx_ok(lsec_hex_decode_fixed(h, 32, line, "hash", &err), &err);
		const char *name = NULL;
		assert_true(lsec_station_sample_key(&name, h));
		listed++;
	}
	fclose(f);
	assert_int_equal(listed, lsec_station_sample_key_count());
	uint8_t zero[32] = {0};
	assert_false(lsec_station_sample_key(NULL, zero));
	lsec_free(path);
}

static void test_station_release__revoked_release_not_flashed(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	fx_ready(fx, 1);
	fx_ok(lsec_station_release_revoke(fx->st, "sensor@1.0.0", "sec1", &err), &err);
	assert_int_equal(lsec_station_release_revoke(fx->st, "sensor@1.0.0", "sec2", &err),
			 LSEC_E_EXISTS);
	assert_non_null(strstr(err.msg, "already revoked"));
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec2", &err),
			 LSEC_E_STATION_RELEASE);
	lsec_station_release *l = NULL;
	size_t n = 0;
	fx_ok(lsec_station_release_list(&l, &n, fx->st, &err), &err);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].state, LSEC_STATION_RELEASE_REVOKED);
	assert_string_equal(l[0].row.revoked_by, "sec1");
	assert_string_equal(lsec_station_release_state_name(l[0].state), "revoked");
	lsec_free(l);
	char *u = fx_unit(fx, 1);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err),
			 LSEC_E_STATION_RELEASE);
	assert_true(res.stop_line);
	lsec_free(u);
}

static void test_station_release__quota_stops_line(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 3;
	fx_fleet(fx, &o);
	fx_line(fx, false);
	char *img = fx_image(fx, "q.img", "sensor", LSEC_IMAGE_BUILD_RELEASE, "2.0.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 2, "sec1", &err), &err);
	fx_ok(lsec_station_release_approve(fx->st, "sensor@2.0.0", "sec2", &err), &err);
	for (unsigned i = 1; i <= 3; i++) {
		char *u = fx_unit(fx, i);
		int rc = lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err);
		if (i <= 2) {
			fx_ok(rc, &err);
		} else {
			assert_int_equal(rc, LSEC_E_STATION_QUOTA);
			assert_true(res.stop_line);
		}
		lsec_free(u);
	}
	lsec_free(img);
}

static void test_station_release__approval_row_without_leaf_refused(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_store *store = lsec_station_store(fx->st);
	fx_ready(fx, 1);
	/* An older image, submitted; its second approval is a bare row no leaf backs. */
	char *img = fx_image(fx, "old.img", "sensor", LSEC_IMAGE_BUILD_RELEASE, "0.9.0", 0);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err), &err);
	fx_ok(lsec_store_release_approve(store, "sensor", "0.9.0", "sec2", &err), &err);
	lsec_station_release *l = NULL;
	size_t n = 0;
	assert_int_equal(lsec_station_release_list(&l, &n, fx->st, &err), LSEC_E_AUDIT_INDEX);
	assert_null(l);
	assert_non_null(strstr(err.msg, "registry table release_approvals approves release "
					 "sensor@0.9.0"));
	assert_non_null(strstr(err.msg, "'sec2', but no approval leaf backs it"));
	char *u = fx_unit(fx, 1);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err),
			 LSEC_E_AUDIT_INDEX);
	assert_non_null(strstr(err.msg, "release_approvals"));
	/* Approving or revoking it through the station is refused the same way. */
	assert_int_equal(lsec_station_release_revoke(fx->st, "sensor@0.9.0", "sec1", &err),
			 LSEC_E_AUDIT_INDEX);
	lsec_free(u);
	lsec_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_station_release__same_person_cannot_approve,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_release__debug_and_foreign_images_refused,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_release__sample_key_refused,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test(test_station_release__sample_keys_match_keyhashes),
		cmocka_unit_test_setup_teardown(test_station_release__revoked_release_not_flashed,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_release__quota_stops_line,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_station_release__approval_row_without_leaf_refused, station_fx_setup,
			station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
