/* Releases: two-person approval, every image check, the deny list, revocation. */
#include "station_fixture.h"
#include "station/station_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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
	/* MCUboot's published root-ec-p256 sample key is never registered as a product's key. */
	char *sample = lsec_test_data("../../data/denied-keys/mcuboot-root-ec-p256.pub.pem");
	assert_int_equal(lsec_station_product_key_submit(NULL, fx->st, "sensor", sample, "sec1",
							 &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	assert_non_null(strstr(err.msg, "'mcuboot-root-ec-p256'"));
	assert_non_null(strstr(err.msg, "https://github.com/mcu-tools/mcuboot/blob/"));
	lsec_free(sample);
}

/*
 * The flashing check (the one image.check runs) refuses an image signed
 * with a published key, whatever the product's firmware key: here
 * MCUboot's root-ed25519-unknown, whose private half MCUboot publishes.
 */
static void test_station_release__denied_key_refused_at_flashing(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *priv = lsec_test_data("denied-keys-private/root-ed25519-unknown.pem");
	char *path = lsec_test_path(fx->dir, "u.img");
	fx_sign_image(path, priv, "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
	lsec_buf bytes = LSEC_BUF_INIT(1 << 20);
	fx_ok(lsec_file_read(&bytes, path, &err), &err);
	lsec_image *img = NULL;
	fx_ok(lsec_image_parse(&img, bytes.data, bytes.len, "u.img", &err), &err);
	assert_int_equal(lsec_station__image_check(img, fx->st, "sensor", 0, &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	assert_non_null(strstr(err.msg, "'mcuboot-root-ed25519-unknown'"));
	assert_non_null(strstr(err.msg, "/root-ed25519-unknown.pem"));
	lsec_image_free(img);
	lsec_buf_release(&bytes);
	lsec_free(path);
	lsec_free(priv);
}

/*
 * A flashing run refuses a release signed with a published key though its
 * approval is recorded, as one made before the key joined the deny list
 * would be (row and leaves written here the way an approval writes them):
 * the run stops before its first step and the unit's flash stays blank.
 */
static void test_station_release__denied_release_not_flashed(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_store *store = lsec_station_store(fx->st);
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 1;
	fx_fleet(fx, &o);
	fx_line(fx, false);
	char *priv = lsec_test_data("denied-keys-private/root-ed25519-unknown.pem");
	char *img = lsec_test_path(fx->dir, "d.img");
	fx_sign_image(img, priv, "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
	fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err), &err);
	assert_int_equal(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec2", &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	lsec_station_release *l = NULL;
	size_t n = 0;
	fx_ok(lsec_station_release_list(&l, &n, fx->st, &err), &err);
	json_t *ev = json_pack("{s:s,s:s,s:s,s:b}", LSEC_EV_PRODUCT, "sensor", LSEC_EV_VERSION,
			       "1.0.0", LSEC_EV_IMAGE_SHA256, l[0].row.digest, "checks-passed", 1);
	lsec_free(l);
	fx_ok(lsec_store_tx_begin(&tx, store, &err), &err);
	fx_ok(lsec_store_release_approve(store, "sensor", "1.0.0", "sec2", &err), &err);
	fx_ok(lsec_station__leaf(fx->st, "sec2", NULL, "release.approve", "approved", ev, &err),
	      &err);
	fx_ok(lsec_store_tx_end(&tx, 0, &err), &err);
	json_decref(ev);
	char *u = fx_unit(fx, 1);
	assert_int_equal(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err),
			 LSEC_E_STATION_SAMPLE_KEY);
	assert_non_null(strstr(err.msg, "'mcuboot-root-ed25519-unknown'"));
	lsec_device *d = NULL;
	uint8_t first[16], blank[16];
	memset(blank, 0xff, sizeof(blank));
	fx_ok(lsec_device_open(&d, u, &err), &err);
	fx_ok(lsec_device_debug_attach(d, &err), &err);
	fx_ok(lsec_device_flash_read(first, d, 0, sizeof(first), &err), &err);
	assert_memory_equal(first, blank, sizeof(blank));
	lsec_device_close(d);
	lsec_free(u);
	lsec_free(img);
	lsec_free(priv);
}

/* SHA-256 of the DER that i2d writes for the public key in the PEM file rel. */
static void pem_hash(uint8_t out[32], const char *rel, int (*i2d)(const EVP_PKEY *, unsigned char **),
		     int *type)
{
	lsec_err err = LSEC_ERR_INIT;
	size_t len = 0;
	char *pem = lsec_test_source(rel, &len);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	assert_non_null(pk);
	unsigned char *der = NULL;
	int n = i2d(pk, &der);
	assert_true(n > 0);
	fx_ok(lsec_sha256(out, der, (size_t)n, &err), &err);
	*type = EVP_PKEY_get_base_id(pk);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	lsec_free(pem);
}

/*
 * Every row of data/denied-keys/KEYS.tsv names a key file of the folder
 * whose SubjectPublicKeyInfo has the listed SHA-256, and the station denies
 * that key under it (and, for RSA, under the PKCS#1 hash an MCUboot image
 * carries); every key file of the folder has a row; the compiled-in list
 * holds exactly the folder's keys.
 */
static void test_station_release__denied_keys_match_list(void **state)
{
	(void)state;
	char *list = lsec_test_source("data/denied-keys/KEYS.tsv", NULL);
	size_t rows = 0;
	char *save = NULL;
	for (char *line = strtok_r(list, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			continue;
		}
		char *f[6] = {0};
		char *fsave = NULL;
		size_t nf = 0;
		for (char *t = strtok_r(line, "\t", &fsave); t != NULL && nf < 6;
		     t = strtok_r(NULL, "\t", &fsave)) {
			f[nf++] = t;
		}
		assert_int_equal(nf, 6);
		char rel[256];
		snprintf(rel, sizeof(rel), "data/denied-keys/%s.pub.pem", f[0]);
		uint8_t want[32], h[32];
		char hex[65];
		int type = 0;
		lsec_err err = LSEC_ERR_INIT;
		fx_ok(lsec_hex_decode_fixed(want, 32, f[2], "sha256", &err), &err);
		pem_hash(h, rel, i2d_PUBKEY, &type);
		lsec_hex_encode(hex, h, 32);
		assert_string_equal(hex, f[2]);
		const char *name = NULL, *origin = NULL;
		assert_true(lsec_station_sample_key(&name, &origin, want));
		assert_string_equal(name, f[0]);
		assert_non_null(strstr(origin, "https://github.com/"));
		assert_null(strstr(origin, "no provenance"));
		if (type == EVP_PKEY_RSA) {
			pem_hash(h, rel, i2d_PublicKey, &type);
			assert_true(lsec_station_sample_key(&name, NULL, h));
			assert_string_equal(name, f[0]);
		}
		rows++;
	}
	assert_true(rows >= lsec_station_sample_key_count());
	/* Each key file of the folder is compiled in and listed. */
	char *dir = lsec_test_data("../../data/denied-keys");
	DIR *d = opendir(dir);
	size_t files = 0;
	assert_non_null(d);
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		size_t n = strlen(e->d_name);
		if (n <= 8 || strcmp(e->d_name + n - 8, ".pub.pem") != 0) {
			continue;
		}
		char row[80];
		snprintf(row, sizeof(row), "\n%.*s\t", (int)(n - 8), e->d_name);
		char *again = lsec_test_source("data/denied-keys/KEYS.tsv", NULL);
		assert_non_null(strstr(again, row));
		lsec_free(again);
		files++;
	}
	closedir(d);
	assert_int_equal(files, lsec_station_sample_key_count());
	for (size_t i = 0; i < lsec_station_sample_key_count(); i++) {
		const uint8_t *h = NULL;
		const char *name = NULL;
		assert_true(lsec_station_sample_key_at(i, &h, &name));
	}
	uint8_t zero[32] = {0};
	assert_false(lsec_station_sample_key(NULL, NULL, zero));
	lsec_free(dir);
	lsec_free(list);
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

/*
 * The image check is verified once per station for the same bytes, key,
 * product and counter floor, and never for anything else: the same image
 * with one byte of its signature changed (its SHA256 TLV unchanged) is
 * refused after the genuine one passed, and so is the genuine one under a
 * higher counter floor; the genuine one still passes.
 */
static void test_station_release__image_check_once_per_bytes(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *path = fx_image(fx, "c.img", "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
	lsec_buf bytes = LSEC_BUF_INIT(1 << 20);
	lsec_image *img = NULL, *bad = NULL;
	fx_ok(lsec_file_read(&bytes, path, &err), &err);
	fx_ok(lsec_image_parse(&img, bytes.data, bytes.len, "c.img", &err), &err);
	fx_ok(lsec_station__image_check(img, fx->st, "sensor", 1, &err), &err);
	fx_ok(lsec_station__image_check(img, fx->st, "sensor", 1, &err), &err);
	assert_int_equal(lsec_station__image_check(img, fx->st, "sensor", 2, &err),
			 LSEC_E_IMG_COUNTER);
	bytes.data[bytes.len - 1] ^= 0x01; /* the last TLV: the signature */
	fx_ok(lsec_image_parse(&bad, bytes.data, bytes.len, "c.img", &err), &err);
	assert_int_equal(lsec_station__image_check(bad, fx->st, "sensor", 1, &err),
			 LSEC_E_IMG_BAD_SIGNATURE);
	fx_ok(lsec_station__image_check(img, fx->st, "sensor", 1, &err), &err);
	lsec_image_free(bad);
	lsec_image_free(img);
	lsec_buf_release(&bytes);
	lsec_free(path);
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
		cmocka_unit_test_setup_teardown(test_station_release__denied_key_refused_at_flashing,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_release__denied_release_not_flashed,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test(test_station_release__denied_keys_match_list),
		cmocka_unit_test_setup_teardown(test_station_release__revoked_release_not_flashed,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_release__quota_stops_line,
						station_fx_setup, station_fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_station_release__approval_row_without_leaf_refused, station_fx_setup,
			station_fx_teardown),
		cmocka_unit_test_setup_teardown(test_station_release__image_check_once_per_bytes,
						station_fx_setup, station_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
