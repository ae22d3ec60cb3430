/*
 * SOP 5: decommissioning (reachable, locked, unreachable), returns (a
 * genuine unit, a clone), scrap with a witness, the retired identity never
 * reused, and the sanitisation report.
 */
#include "station_fixture.h"
#include "store/store_int.h"

#include <ctype.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

static lsec_store *store_of(station_fx *fx)
{
	return lsec_station_store(fx->st);
}

static lsec_unit_state state_of(station_fx *fx, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_unit u;
	fx_ok(lsec_store_unit_get(&u, store_of(fx), serial, &err), &err);
	return u.state;
}

/* Builds unit i (shipped) and returns its URI. */
static char *shipped_unit(station_fx *fx, unsigned i)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	char *u = fx_unit(fx, i);
	fx_ok(lsec_station_build(&res, fx->st, u, NULL, &err), &err);
	assert_true(res.shipped);
	return u;
}

/* The only identity of a unit. */
static lsec_store_identity identity_of(station_fx *fx, const char *serial)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store_identity *ids = NULL, id;
	size_t n = 0;
	fx_ok(lsec_store_identity_list(&ids, &n, store_of(fx), serial, &err), &err);
	assert_int_equal(n, 1);
	id = ids[0];
	lsec_free(ids);
	return id;
}

/* Whether the line's CRL lists cert_serial (hex) with reason. */
static bool crl_lists(station_fx *fx, const char *cert_serial, int reason)
{
	char *path = lsec_test_path(fx->dir, "crl/line.crl.pem");
	FILE *f = fopen(path, "r");
	bool found = false;
	assert_non_null(f);
	X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(crl);
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = BN_bn2hex(bn);
		ASN1_ENUMERATED *code = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		char want[64];
		snprintf(want, sizeof(want), "%s", cert_serial);
		for (char *p = want; *p; p++) {
			*p = (char)toupper((unsigned char)*p);
		}
		/* BN_bn2hex drops leading zeros. */
		const char *w = want;
		while (*w == '0' && w[1] != '\0') {
			w++;
		}
		if (strcmp(hex, w) == 0 && code != NULL && ASN1_ENUMERATED_get(code) == reason) {
			found = true;
		}
		ASN1_ENUMERATED_free(code);
		OPENSSL_free(hex);
		BN_free(bn);
	}
	X509_CRL_free(crl);
	lsec_free(path);
	return found;
}

/*
 * Asserts that the blank check the run recorded for serial (its
 * sanitisation record's readback-sha256) is the SHA-256 of the unit's
 * whole flash erased, computed here independently of the station.
 */
static void assert_recorded_erased(station_fx *fx, const char *serial, uint32_t flash_size)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_scrap_report *rep = NULL;
	const lsec_station_scrap_report_unit *e = NULL;
	uint8_t want[32];
	char hex[65];
	lsec_test_erased_sha256(want, flash_size);
	lsec_hex_encode(hex, want, sizeof(want));
	fx_ok(lsec_station_report_scrap(&rep, fx->st, "2000-01-01", &err), &err);
	for (size_t i = 0; i < rep->nunits; i++) {
		if (strcmp(rep->units[i].serial, serial) == 0) {
			e = &rep->units[i];
		}
	}
	assert_non_null(e);
	assert_true(e->verified.recorded);
	assert_string_equal(e->verified.readback_sha256, hex);
	lsec_station_scrap_report_free(rep);
}

static void test_station_decommission__failed_unit_wiped_and_blank(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	char *u = fx_quarantined_unit(fx, &res);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_QUARANTINED);
	/* The failed unit holds the flashed image. */
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	d.reason = LSEC_DECOM_FAILED;
	d.uri = u;
	fx_ok(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err), &err);
	assert_int_equal(res.state, LSEC_UNIT_DECOMMISSIONED);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	/*
	 * Read back independently: erased flash, empty slots; the digest the
	 * device returns and the one the run recorded are an erased flash's.
	 */
	lsec_device *t = NULL;
	lsec_device_info info;
	uint8_t dg[32], erased[32];
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_info_get(&info, t, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_blank_check(dg, t, &err), &err);
	lsec_device_close(t);
	lsec_test_erased_sha256(erased, info.flash_size);
	assert_memory_equal(dg, erased, sizeof(dg));
	assert_recorded_erased(fx, "unit-001", info.flash_size);
	/* Twice is refused; so is scrapping without a witness present. */
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err),
			 LSEC_E_STATION_WRONG_STATE);
	fx_log_verifies(fx);
	lsec_free(u);
}

static void test_station_decommission__locked_unit_authenticated_erase(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_station_rma_evidence ev;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 1;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *u = shipped_unit(fx, 1);
	lsec_store_identity id = identity_of(fx, "unit-001");
	assert_int_equal(id.state, LSEC_KEY_ACTIVE);
	/* Shipped: only a received return is decommissioned. */
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	d.reason = LSEC_DECOM_RETURNED;
	d.uri = u;
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err),
			 LSEC_E_STATION_WRONG_STATE);
	fx_ok(lsec_station_rma_receive(&ev, fx->st, "unit-001", u, &err), &err);
	assert_true(ev.genuine);
	assert_string_equal(ev.uid, ev.registered_uid);
	assert_int_equal(strlen(ev.challenge_sha256), 64);
	assert_true(ev.cert_serial[0] != '\0');
	assert_true(ev.issue_leaf > 0);
	json_t *evj = NULL;
	fx_ok(lsec_station_rma_evidence_json(&evj, &ev, &err), &err);
	assert_true(json_is_true(json_object_get(evj, "genuine")));
	assert_string_equal(json_string_value(json_object_get(evj, "cert-serial")), ev.cert_serial);
	assert_string_equal(json_string_value(json_object_get(evj, "challenge-sha256")),
			    ev.challenge_sha256);
	assert_int_equal(json_integer_value(json_object_get(evj, "issue-leaf")), ev.issue_leaf);
	json_decref(evj);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_RETURNED);

	/* Locked and no erase key: the erase step fails, the unit stays pending. */
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err),
			 LSEC_E_STATION_STEP);
	assert_string_equal(res.step, "erase");
	assert_non_null(strstr(res.message, "decommission pending"));
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSION_PENDING);
	assert_int_equal(identity_of(fx, "unit-001").state, LSEC_KEY_ACTIVE);

	/* With the product's debug-auth key, unlocked then: the UID-bound authenticated erase. */
	d.debug_auth_unlock = fx_debug_auth_unlock;
	fx_ok(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err), &err);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	id = identity_of(fx, "unit-001");
	assert_int_equal(id.state, LSEC_KEY_DESTROYED);
	assert_true(crl_lists(fx, id.cert_serial, 5 /* cessationOfOperation */));
	lsec_store_credential *cr = NULL;
	size_t n = 0;
	fx_ok(lsec_store_credential_list(&cr, &n, store_of(fx), "unit-001", &err), &err);
	assert_int_equal(n, 1);
	assert_true(cr[0].revoked[0] != '\0');
	lsec_free(cr);
	lsec_device *t = NULL;
	fx_ok(lsec_device_open(&t, u, &err), &err);
	lsec_device_slot_status ss;
	fx_ok(lsec_device_key_status(&ss, t, 0, &err), &err);
	assert_int_equal(ss.state, LSEC_SLOT_EMPTY);
	assert_false(ss.has_cert);
	lsec_device_close(t);

	/* The revoked identity is never reused: not by another unit, not by this one. */
	assert_int_equal(lsec_store_unit_create(store_of(fx), "unit-900", "ffee", "sensor", "st2",
						&err),
			 0);
	assert_int_equal(lsec_store_identity_add(store_of(fx), "unit-900", id.key_fp, NULL, NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS);
	assert_int_equal(lsec_store_identity_add(store_of(fx), "unit-001", "00aa", NULL, NULL, 0,
						 LSEC_KEY_ACTIVE, &err),
			 LSEC_E_STORE_TRANSITION);
	fx_log_verifies(fx);
	lsec_free(u);
}

static void test_station_decommission__unreachable_revoked_not_wiped(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_station_scrap_report *rep = NULL;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *u = shipped_unit(fx, 1);
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	d.reason = LSEC_DECOM_COMPROMISED;
	d.uri = "sim:/nonexistent/unit.sim"; /* shipped, dead in the field: does not answer */
	fx_ok(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err), &err);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	lsec_store_identity id = identity_of(fx, "unit-001");
	assert_int_equal(id.state, LSEC_KEY_COMPROMISED);
	assert_true(crl_lists(fx, id.cert_serial, 1 /* keyCompromise */));
	/* The device still holds its key: nothing was erased. */
	lsec_device *t = NULL;
	lsec_device_slot_status ss;
	fx_ok(lsec_device_open(&t, u, &err), &err);
	fx_ok(lsec_device_key_status(&ss, t, 0, &err), &err);
	assert_int_not_equal(ss.state, LSEC_SLOT_EMPTY);
	lsec_device_close(t);

	fx_ok(lsec_station_report_scrap(&rep, fx->st, NULL, &err), &err);
	assert_int_equal(rep->nunits, 1);
	const lsec_station_scrap_report_unit *e = &rep->units[0];
	assert_string_equal(e->status, "decommissioned, not wiped, pending destruction");
	assert_string_equal(e->sanitisation, "none");
	assert_false(e->wiped.recorded);
	assert_true(e->revoked.recorded);
	assert_string_equal(e->revoked.crl_reason, "keyCompromise");
	assert_int_equal(rep->npending, 1);
	assert_string_equal(rep->pending[0], "unit-001");
	/* The JSON rendering: null for steps not recorded, evidence kept. */
	json_t *j = NULL;
	fx_ok(lsec_station_scrap_report_json(&j, rep, &err), &err);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
	assert_true(json_is_null(json_object_get(j, "since")));
	json_t *je = json_array_get(json_object_get(j, "units"), 0);
	assert_true(json_is_null(json_object_get(je, "wiped")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(je, "revoked"),
								"crl-reason")),
			    "keyCompromise");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(j, "pending-destruction"), 0)),
			    "unit-001");
	json_decref(j);
	lsec_station_scrap_report_free(rep);
	/* A report since tomorrow is empty, but the pending list stays. */
	fx_ok(lsec_station_report_scrap(&rep, fx->st, "2999-01-01", &err), &err);
	assert_int_equal(rep->nunits, 0);
	assert_int_equal(rep->npending, 1);
	lsec_station_scrap_report_free(rep);
	rep = NULL;
	assert_int_equal(lsec_station_report_scrap(&rep, fx->st, "yesterday", &err), LSEC_E_USAGE);
	fx_log_verifies(fx);
	lsec_free(u);
}

static void test_station_decommission__clone_refused_as_return(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	o.clone_src = 1;
	o.clone_dst = 2;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *u1 = shipped_unit(fx, 1), *u2 = fx_unit(fx, 2);
	/* The clone carries unit-001's UID and no key. */
	assert_int_equal(lsec_station_rma_receive(NULL, fx->st, "unit-001", u2, &err),
			 LSEC_E_STATION_NOT_GENUINE);
	/* Nor with a key of its own: the signature does not verify under the certificate. */
	lsec_device *t = NULL;
	fx_ok(lsec_device_open(&t, u2, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_key_generate(t, 0, &err), &err);
	lsec_device_close(t);
	assert_int_equal(lsec_station_rma_receive(NULL, fx->st, "unit-001", u2, &err),
			 LSEC_E_STATION_NOT_GENUINE);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_SHIPPED);
	/* A device that does not answer cannot be received. */
	assert_int_equal(lsec_station_rma_receive(NULL, fx->st, "unit-001", "sim:/none.sim", &err),
			 LSEC_E_NOTFOUND);
	/* The genuine one passes; then rework retires its identity. */
	fx_ok(lsec_station_rma_receive(NULL, fx->st, "unit-001", u1, &err), &err);
	lsec_store_identity id = identity_of(fx, "unit-001");
	fx_ok(lsec_station_rma_rework(fx->st, "unit-001", &err), &err);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_QUARANTINED);
	id = identity_of(fx, "unit-001");
	assert_int_equal(id.state, LSEC_KEY_DEACTIVATED);
	assert_true(crl_lists(fx, id.cert_serial, 4 /* superseded */));
	assert_int_equal(lsec_station_rma_rework(fx->st, "unit-001", &err),
			 LSEC_E_STATION_WRONG_STATE);
	/*
	 * A rebuild of the reworked unit is refused before any step: it never
	 * reaches credential.generate to answer "already-delivered" with the
	 * revoked credential.
	 */
	{
		lsec_station_result res;
		uint64_t before = 0, after = 0;
		fx_ok(lsec_store_leaf_count(&before, store_of(fx), &err), &err);
		assert_int_equal(lsec_station_build(&res, fx->st, u1, NULL, &err),
				 LSEC_E_STATION_WRONG_STATE);
		fx_ok(lsec_store_leaf_count(&after, store_of(fx), &err), &err);
		assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_QUARANTINED);
		assert_null(strstr(err.msg, "already-delivered"));
		assert_true(after - before <= 1); /* at most the refusal's leaf */
	}
	/* The superseded key is never accepted again. */
	assert_int_equal(lsec_store_identity_add(store_of(fx), "unit-001", id.key_fp, "abcd", NULL,
						 0, LSEC_KEY_ACTIVE, &err),
			 LSEC_E_EXISTS);
	fx_log_verifies(fx);
	lsec_free(u1);
	lsec_free(u2);
}

static void test_station_decommission__scrap_batch_witnessed_with_photo(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_station_scrap_record *rec = NULL;
	lsec_station_scrap_report *rep = NULL;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 3;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	d.reason = LSEC_DECOM_END_OF_LIFE;
	char *uris[3];
	for (unsigned i = 0; i < 3; i++) {
		uris[i] = fx_unit(fx, i + 1);
		fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, uris[i], NULL, &err), &err);
	}
	/* Flashed units (a build state) are quarantined, then decommissioned. */
	d.uri = uris[0];
	fx_ok(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err), &err);
	d.uri = uris[1];
	fx_ok(lsec_station_decommission(&res, fx->st, "unit-002", &d, &err), &err);
	char *photo = lsec_test_path(fx->dir, "boards.JPG");
	fx_ok(lsec_file_write_new(photo, (const uint8_t *)"jpeg bytes", 10, 0644, &err), &err);
	lsec_station_scrap_options so = LSEC_STATION_SCRAP_OPTIONS_INIT;
	so.method = "shred";
	so.photo = photo;
	const char *batch[] = {"unit-001", "unit-002", "unit-003"};
	/* unit-003 is not decommissioned: the whole batch is refused, nothing recorded. */
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 3, &so, &err),
			 LSEC_E_STATION_WRONG_STATE);
	assert_non_null(strstr(err.msg, "unit-003"));
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	so.method = "microwave";
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err), LSEC_E_USAGE);
	/* A known method the approved SOP does not name is refused: the record follows the SOP. */
	so.method = "crush";
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err), LSEC_E_SOP_POLICY);
	assert_non_null(strstr(err.msg, "'shred', not 'crush'"));
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	so.method = "shred";
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 0, &so, &err), LSEC_E_USAGE);
	const char *twice[] = {"unit-001", "unit-001"};
	assert_int_equal(lsec_station_scrap(&rec, fx->st, twice, 2, &so, &err), LSEC_E_USAGE);
	/* The witness must be a second person, a supervisor. */
	fx->cfg.witness_name = "op";
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err),
			 LSEC_E_STATION_ROLE);
	fx->cfg.witness_name = "sec1";
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err),
			 LSEC_E_STATION_ROLE);
	fx->cfg.witness_name = NULL;
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err),
			 LSEC_E_STATION_ROLE);
	fx->cfg.witness_name = "sup";
	/* The supervisor logged in is not enough: they sign, or nothing is recorded. */
	fx->witness_refuses = true;
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err), LSEC_E_AUTH);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	fx->witness_refuses = false;
	fx->cfg.witness_sign = NULL;
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err), LSEC_E_AUTH);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	fx->cfg.witness_sign = fx_witness_sign;
	unsigned before = fx->witness_signed;
	fx_ok(lsec_station_scrap(&rec, fx->st, batch, 2, &so, &err), &err);
	assert_int_equal(fx->witness_signed, before + 1);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_SCRAPPED);
	assert_int_equal(state_of(fx, "unit-002"), LSEC_UNIT_SCRAPPED);
	/* The photo is kept under its SHA-256, which the record carries. */
	uint8_t sha[32];
	char hex[65];
	fx_ok(lsec_sha256(sha, "jpeg bytes", 10, &err), &err);
	lsec_hex_encode(hex, sha, 32);
	assert_string_equal(rec->photo_sha256, hex);
	char *kept = lsec_asprintf("%s/evidence/%s.jpg", fx->dir, hex);
	assert_string_equal(kept + strlen(kept) - strlen(rec->photo), rec->photo);
	lsec_buf b = LSEC_BUF_INIT(64);
	fx_ok(lsec_file_read(&b, kept, &err), &err);
	assert_memory_equal(b.data, "jpeg bytes", 10);
	lsec_buf_release(&b);
	lsec_free(kept);
	assert_string_equal(rec->witnessed_by, "sup");
	assert_int_equal(rec->nunits, 2);
	assert_string_equal(rec->units[1], "unit-002");
	assert_true(rec->seq > 0);
	json_t *rj = NULL;
	fx_ok(lsec_station_scrap_record_json(&rj, rec, &err), &err);
	assert_string_equal(json_string_value(json_object_get(rj, "photo-sha256")), hex);
	assert_int_equal(json_integer_value(json_object_get(rj, "seq")), (json_int_t)rec->seq);
	json_decref(rj);
	lsec_station_scrap_record_free(rec);
	rec = NULL;
	lsec_store_record *sr = NULL;
	size_t n = 0;
	fx_ok(lsec_store_scrap_list(&sr, &n, store_of(fx), &err), &err);
	assert_int_equal(n, 2);
	assert_string_equal(sr[1].witness, "sup");
	lsec_free(sr);
	/* Scrapped units are not scrapped again. */
	assert_int_equal(lsec_station_scrap(&rec, fx->st, batch, 1, &so, &err),
			 LSEC_E_STATION_WRONG_STATE);

	/* The sanitisation record: wiped (purge), verified, destroyed with the witness. */
	fx_ok(lsec_station_report_scrap(&rep, fx->st, "2000-01-01", &err), &err);
	assert_int_equal(rep->nunits, 2);
	assert_int_equal(rep->npending, 0);
	const lsec_station_scrap_report_unit *e = &rep->units[0];
	assert_string_equal(e->status, "scrapped");
	assert_string_equal(e->sanitisation, "destroy");
	assert_string_equal(e->verified.sanitisation, "purge");
	lsec_device *t = NULL;
	lsec_device_info info;
	fx_ok(lsec_device_open(&t, uris[0], &err), &err);
	fx_ok(lsec_device_info_get(&info, t, &err), &err);
	lsec_device_close(t);
	assert_recorded_erased(fx, "unit-001", info.flash_size);
	assert_recorded_erased(fx, "unit-002", info.flash_size);
	assert_string_equal(e->destroyed.witnessed_by, "sup");
	assert_string_equal(e->destroyed.by, "op");
	assert_string_equal(e->destroyed.photo_sha256, hex);
	lsec_station_scrap_report_free(rep);
	fx_log_verifies(fx);
	lsec_free(photo);
	for (unsigned i = 0; i < 3; i++) {
		lsec_free(uris[i]);
	}
}

static void test_station_decommission__refusals_change_nothing(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	fx_fleet(fx, &o);
	char *u1 = fx_unit(fx, 1), *u2 = fx_unit(fx, 2);
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	d.uri = u1;
	/* Reasons: every name parses back; anything else is a usage error. */
	for (unsigned i = 0; i < LSEC_DECOM_REASON_COUNT; i++) {
		lsec_decom_reason r;
		fx_ok(lsec_decom_reason_parse(&r, lsec_decom_reason_name((lsec_decom_reason)i), &err),
		      &err);
		assert_int_equal(r, i);
	}
	lsec_decom_reason r;
	assert_int_equal(lsec_decom_reason_parse(&r, "lost", &err), LSEC_E_USAGE);
	assert_non_null(strstr(err.msg, "'lost'"));
	assert_string_equal(lsec_station_code_name(LSEC_E_STATION_NOT_GENUINE), "not-genuine");
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-404", &d, &err),
			 LSEC_E_NOTFOUND);
	fx_line(fx, true);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u1, NULL, &err), &err);
	fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u2, NULL, &err), &err);
	/* The device at the URI is another unit: refused before anything is erased. */
	d.uri = u2;
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err),
			 LSEC_E_STATION_CLONE);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_FLASHED);
	lsec_device *t = NULL;
	uint8_t page[16];
	fx_ok(lsec_device_open(&t, u2, &err), &err);
	fx_ok(lsec_device_debug_attach(t, &err), &err);
	fx_ok(lsec_device_flash_read(page, t, 0, sizeof(page), &err), &err);
	assert_int_not_equal(page[0], 0xff); /* still flashed */
	lsec_device_close(t);
	d.version = 99;
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err),
			 LSEC_E_USAGE);
	/* Scrap with a missing photo: nothing recorded. */
	d.version = LSEC_STATION_DECOM_OPTIONS_VERSION;
	d.uri = u1;
	fx_ok(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err), &err);
	lsec_station_scrap_options so = LSEC_STATION_SCRAP_OPTIONS_INIT;
	so.method = "shred";
	so.photo = "/nonexistent/photo.jpg";
	const char *one[] = {"unit-001"};
	assert_int_equal(lsec_station_scrap(NULL, fx->st, one, 1, &so, &err), LSEC_E_IO);
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
	/* Receiving a unit that was never shipped is refused. */
	assert_int_equal(lsec_station_rma_receive(NULL, fx->st, "unit-002", u2, &err),
			 LSEC_E_STATION_WRONG_STATE);
	fx_log_verifies(fx);
	lsec_free(u1);
	lsec_free(u2);
}

static void test_station_decommission__needs_approved_sop(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_store_unit u;
	fx_ok(lsec_store_unit_create(store_of(fx), "unit-001", "00ff", "sensor", "st1", &err), &err);
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	assert_int_equal(lsec_station_decommission(&res, fx->st, "unit-001", &d, &err),
			 LSEC_E_SOP_NOT_APPROVED);
	assert_true(res.stop_line);
	fx_ok(lsec_store_unit_get(&u, store_of(fx), "unit-001", &err), &err);
	assert_int_equal(u.state, LSEC_UNIT_NEW);
}

/* A registry failing at every query in turn: the batch lands whole or not at all. */
static void test_station_decommission__scrap_all_or_nothing_under_faults(void **state)
{
	station_fx *fx = *state;
	lsec_err err = LSEC_ERR_INIT;
	lsec_station_result res;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 2;
	fx_fleet(fx, &o);
	fx_line(fx, true);
	const char *batch[] = {"unit-001", "unit-002"};
	lsec_station_decom_options d = LSEC_STATION_DECOM_OPTIONS_INIT;
	for (unsigned i = 0; i < 2; i++) {
		char *u = fx_unit(fx, i + 1);
		fx_ok(lsec_station_run(&res, fx->st, LSEC_SOP_FLASH, u, NULL, &err), &err);
		d.uri = u;
		fx_ok(lsec_station_decommission(&res, fx->st, batch[i], &d, &err), &err);
		lsec_free(u);
	}
	lsec_station_scrap_options so = LSEC_STATION_SCRAP_OPTIONS_INIT;
	so.method = "shred";
	char *photo = lsec_test_path(fx->dir, "ashes.png");
	fx_ok(lsec_file_write_new(photo, (const uint8_t *)"png", 3, 0644, &err), &err);
	so.photo = photo;
	uint8_t sha[32];
	char hex[65];
	fx_ok(lsec_sha256(sha, "png", 3, &err), &err);
	lsec_hex_encode(hex, sha, 32);
	char *kept = lsec_asprintf("%s/evidence/%s.png", fx->dir, hex);
	lsec_store *st = store_of(fx);
	uint64_t leaves_before = 0, leaves = 0;
	int rc = -1;
	unsigned long n = 1;
	for (; rc != 0 && n < 200; n++) {
		fx_ok(lsec_store_leaf_count(&leaves_before, st, &err), &err);
		lsec_store__fail_after(st, n);
		rc = lsec_station_scrap(NULL, fx->st, batch, 2, &so, &err);
		lsec_store__fail_after(st, 0);
		if (rc == 0) {
			break;
		}
		/* The role check reads the failing registry too: it refuses the person. */
		assert_true(rc == LSEC_E_IO || rc == LSEC_E_STATION_ROLE);
		/* Nothing of the failed attempt remains. */
		lsec_store_record *sr = NULL;
		size_t k = 9;
		fx_ok(lsec_store_scrap_list(&sr, &k, st, &err), &err);
		assert_int_equal(k, 0);
		lsec_free(sr);
		assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_DECOMMISSIONED);
		assert_int_equal(state_of(fx, "unit-002"), LSEC_UNIT_DECOMMISSIONED);
		fx_ok(lsec_store_leaf_count(&leaves, st, &err), &err);
		assert_int_equal(leaves, leaves_before);
		assert_int_not_equal(access(kept, F_OK), 0); /* no stray evidence file */
	}
	assert_int_equal(access(kept, F_OK), 0);
	lsec_free(kept);
	lsec_free(photo);
	assert_int_equal(rc, 0);
	assert_true(n > 5); /* the faults reached inside the batch */
	assert_int_equal(state_of(fx, "unit-001"), LSEC_UNIT_SCRAPPED);
	assert_int_equal(state_of(fx, "unit-002"), LSEC_UNIT_SCRAPPED);
	fx_ok(lsec_store_leaf_count(&leaves, st, &err), &err);
	assert_int_equal(leaves, leaves_before + 3); /* the batch and one per unit */
	fx_log_verifies(fx);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, station_fx_setup, station_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_station_decommission__failed_unit_wiped_and_blank),
		T(test_station_decommission__locked_unit_authenticated_erase),
		T(test_station_decommission__unreachable_revoked_not_wiped),
		T(test_station_decommission__clone_refused_as_return),
		T(test_station_decommission__scrap_batch_witnessed_with_photo),
		T(test_station_decommission__refusals_change_nothing),
		T(test_station_decommission__needs_approved_sop),
		T(test_station_decommission__scrap_all_or_nothing_under_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
