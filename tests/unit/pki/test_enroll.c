/* Enrolment on simulated devices: device CSR, issuance, write-back, proof of possession. */
#include "helpers/pkitest.h"
#include "helpers/store_fixture.h"
#include "helpers/testutil.h"

#include <string.h>

#include <jansson.h>

#include "linesec/store.h"
#include "linesec/device.h"

typedef struct fixture {
	char *dir;
	lsec_store *st;
	lsec_ca *ca;
} fixture;

static const lsec_actor officer = {"olga", "st-1"};

static int setup(void **state)
{
	lsec_err err = LSEC_ERR_INIT;
	fixture *f = lsec_calloc(1, sizeof(*f));
	f->dir = lsec_test_tmpdir();
	char *cadir = lsec_test_path(f->dir, "ca");
	char *db = lsec_test_path(f->dir, "registry.db");
	f->ca = pkitest_file_ca(cadir);
	assert_lsec_ok(lsec_store_create(&f->st, db, &err), &err);
	lsec_test_attach_signer(f->st);
	lsec_free(db);
	lsec_free(cadir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	lsec_store_close(f->st);
	lsec_ca_free(f->ca);
	lsec_test_rmtree(f->dir);
	lsec_free(f);
	return 0;
}

/* A one-unit fleet in dir/name; opens and attaches it; registers it as serial. */
static lsec_device *device(fixture *f, const char *name, bool no_keygen, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 1;
	o.no_keygen = no_keygen;
	char *fleet = lsec_test_path(f->dir, name);
	assert_lsec_ok(lsec_device_sim_fleet_new(NULL, fleet, &o, &err), &err);
	char *uri = lsec_asprintf("sim:%s/unit-001.sim", fleet);
	lsec_device *t = NULL;
	assert_lsec_ok(lsec_device_open(&t, uri, &err), &err);
	assert_lsec_ok(lsec_device_debug_attach(t, &err), &err);
	if (serial != NULL) {
		lsec_device_info info;
		char hex[2 * LSEC_DEVICE_UID_LEN + 1];
		assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
		lsec_hex_encode(hex, info.uid, sizeof(info.uid));
		assert_lsec_ok(lsec_store_unit_create(f->st, serial, hex, "Sensor", "st-1", &err),
			       &err);
	}
	lsec_free(uri);
	lsec_free(fleet);
	return t;
}

static const char *last_origin(fixture *f)
{
	static char origin[32];
	lsec_err err = LSEC_ERR_INIT;
	uint64_t n = 0;
	lsec_buf leaf = LSEC_BUF_INIT(1 << 16);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_count(&n, f->st, &err), &err);
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, f->st, n - 1, &err), &err);
	json_t *j = NULL;
	assert_lsec_ok(lsec_json_parse(&j, (const char *)leaf.data, leaf.len, "leaf", &err), &err);
	const char *o = json_string_value(json_object_get(json_object_get(j, "evidence"),
							   "key_origin"));
	assert_non_null(o);
	snprintf(origin, sizeof(origin), "%s", o);
	json_decref(j);
	lsec_buf_release(&leaf);
	return origin;
}

static void test_pki_enroll__device_keygen(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = device(f, "fleet-a", false, "SN-A");
	lsec_cert *cert = NULL;
	assert_lsec_ok(lsec_pki_enroll(&cert, f->ca, f->st, &officer, "SN-A", t, 0, 365, &err),
		       &err);
	assert_string_equal(last_origin(f), "device");
	X509 *cax = lsec_cert_x509(lsec_ca_cert(f->ca));
	assert_int_equal(pkitest_verify(lsec_cert_x509(cert), cax, NULL), X509_V_OK);
	/* The certificate carries the device's key and sits on the device. */
	lsec_buf spki = LSEC_BUF_INIT(1024), back = LSEC_BUF_INIT(1 << 16), mine = LSEC_BUF_INIT(1 << 16);
	assert_lsec_ok(lsec_device_key_public(&spki, t, 0, &err), &err);
	const uint8_t *p = spki.data;
	EVP_PKEY *devkey = d2i_PUBKEY(NULL, &p, (long)spki.len);
	assert_int_equal(EVP_PKEY_eq(devkey, X509_get0_pubkey(lsec_cert_x509(cert))), 1);
	assert_lsec_ok(lsec_device_cert_read(&back, t, 0, &err), &err);
	assert_lsec_ok(lsec_cert_encode(&mine, cert, true, &err), &err);
	assert_int_equal(back.len, mine.len);
	assert_memory_equal(back.data, mine.data, mine.len);
	/* Proof of possession again, with its evidence. */
	uint8_t chh[32];
	assert_lsec_ok(lsec_pki_device_pop(chh, cert, t, 0, &err), &err);
	/* The device's CSR verifies and carries the device's key. */
	lsec_buf csr = LSEC_BUF_INIT(1 << 16);
	lsec_csr *parsed = NULL;
	assert_lsec_ok(lsec_pki_device_csr(&csr, t, 0, "SN-A", &err), &err);
	assert_lsec_ok(lsec_csr_parse(&parsed, csr.data, csr.len, &err), &err);
	assert_int_equal(EVP_PKEY_eq(lsec_csr_key(parsed), devkey), 1);
	lsec_csr_free(parsed);
	lsec_buf_release(&csr);
	/* Enrolling again into the same slot: the device refuses, nothing recorded twice. */
	lsec_cert *again = NULL;
	assert_lsec_code(lsec_pki_enroll(&again, f->ca, f->st, &officer, "SN-A", t, 0, 365, &err),
			 LSEC_E_TGT_SLOT_FULL, &err);
	assert_null(again);
	EVP_PKEY_free(devkey);
	lsec_buf_release(&mine);
	lsec_buf_release(&back);
	lsec_buf_release(&spki);
	lsec_cert_free(cert);
	lsec_device_close(t);
}

static void test_pki_enroll__station_keygen(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device *t = device(f, "fleet-b", true, "SN-B");
	lsec_device_info info;
	assert_lsec_ok(lsec_device_info_get(&info, t, &err), &err);
	assert_false(info.caps & LSEC_DEVICE_CAP_KEYGEN);
	lsec_cert *cert = NULL;
	assert_lsec_ok(lsec_pki_enroll(&cert, f->ca, f->st, &officer, "SN-B", t, 1, 365, &err),
		       &err);
	assert_string_equal(last_origin(f), "station-generated");
	assert_int_equal(pkitest_verify(lsec_cert_x509(cert), lsec_cert_x509(lsec_ca_cert(f->ca)),
					NULL),
			 X509_V_OK);
	lsec_cert_free(cert);
	lsec_device_close(t);
}

static void test_pki_enroll__refusals(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	/* A device whose UID is not the registered unit's. */
	lsec_device *t = device(f, "fleet-c", false, NULL);
	assert_lsec_ok(lsec_store_unit_create(f->st, "SN-C", "00112233445566778899aabbccddeeff",
					      "Sensor", "st-1", &err),
		       &err);
	lsec_cert *cert = NULL;
	assert_lsec_code(lsec_pki_enroll(&cert, f->ca, f->st, &officer, "SN-C", t, 0, 365, &err),
			 LSEC_E_POLICY, &err);
	assert_non_null(strstr(err.msg, "SN-C"));
	/* Nothing was generated on the device. */
	lsec_device_slot_status st;
	assert_lsec_ok(lsec_device_key_status(&st, t, 0, &err), &err);
	assert_int_equal(st.state, LSEC_SLOT_EMPTY);
	/* An unknown unit. */
	assert_lsec_code(lsec_pki_enroll(&cert, f->ca, f->st, &officer, "SN-X", t, 0, 365, &err),
			 LSEC_E_NOTFOUND, &err);
	assert_null(cert);
	lsec_device_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pki_enroll__device_keygen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_enroll__station_keygen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_enroll__refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
