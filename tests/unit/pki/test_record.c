/* PKI acts recorded in the registry and the audit log (SQLite). */
#include "helpers/pkitest.h"
#include "helpers/store_fixture.h"
#include "helpers/testutil.h"

#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/x509v3.h>

#include "linesec/audit.h"
#include "linesec/store.h"

typedef struct fixture {
	lsec_test_db *tdb; /* SQLite file or PostgreSQL schema */
	char *dir;
	char *db; /* the registry's location */
	lsec_store *st;
	lsec_ca *ca;
} fixture;

static const lsec_actor officer = {"olga", "st-1"};

static int setup(void **state)
{
	lsec_err err = LSEC_ERR_INIT;
	fixture *f = lsec_calloc(1, sizeof(*f));
	f->tdb = lsec_test_db_new();
	f->dir = f->tdb->dir;
	f->db = f->tdb->location;
	char *cadir = lsec_test_path(f->dir, "ca");
	f->ca = pkitest_file_ca(cadir);
	lsec_free(cadir);
	assert_lsec_ok(lsec_store_create(&f->st, f->db, &err), &err);
	lsec_test_attach_signer(f->st);
	assert_lsec_ok(lsec_store_person_add(f->st, "olga", LSEC_ROLE_SECURITY_OFFICER,
					     "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaA",
					     &err),
		       &err);
	assert_lsec_ok(lsec_store_person_add(f->st, "otto", LSEC_ROLE_OPERATOR,
					     "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaA",
					     &err),
		       &err);
	assert_lsec_ok(lsec_store_unit_create(f->st, "SN-1", "a1b2c3d4", "Sensor", "st-1", &err),
		       &err);
	assert_lsec_ok(lsec_store_unit_create(f->st, "SN-2", "a1b2c3d5", "Sensor", "st-1", &err),
		       &err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	lsec_store_close(f->st);
	lsec_ca_free(f->ca);
	lsec_test_db_free(f->tdb);
	lsec_free(f);
	return 0;
}

static void test_pki_record__ca_init_and_import(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	uint64_t n0 = 0, n = 0;
	char *cadir = lsec_test_path(f->dir, "ca-recorded");
	lsec_secret *pass = pkitest_secret(PKITEST_PASSPHRASE);
	lsec_ca_options o = LSEC_CA_OPTIONS_INIT;
	o.common_name = "Recorded CA";
	o.passphrase = pass;
	assert_lsec_ok(lsec_store_leaf_count(&n0, f->st, &err), &err);
	assert_lsec_ok(lsec_pki_ca_init_recorded(cadir, &o, f->st, &officer, &err), &err);
	assert_lsec_ok(lsec_store_leaf_count(&n, f->st, &err), &err);
	assert_int_equal(n, n0 + 1);
	lsec_buf leaf = LSEC_BUF_INIT(1 << 16);
	uint8_t h[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, h, NULL, f->st, n0, &err), &err);
	assert_non_null(memmem(leaf.data, leaf.len, "pki.ca.init", 11));
	assert_non_null(memmem(leaf.data, leaf.len, "\"olga\"", 6));
	lsec_buf_release(&leaf);
	/* A refused ceremony records nothing. */
	assert_lsec_code(lsec_pki_ca_init_recorded(cadir, &o, f->st, &officer, &err),
			 LSEC_E_EXISTS, &err);
	assert_lsec_ok(lsec_store_leaf_count(&n, f->st, &err), &err);
	assert_int_equal(n, n0 + 1);
	/* Import into an active CA is refused and records nothing. */
	lsec_ca *ca = NULL;
	assert_lsec_ok(lsec_ca_open(&ca, cadir, NULL, &err), &err);
	char *certpath = lsec_test_path(cadir, "ca.cert.pem");
	assert_lsec_code(lsec_pki_ca_import_recorded(ca, certpath, NULL, f->st, &officer, &err),
			 LSEC_E_STATE, &err);
	assert_lsec_ok(lsec_store_leaf_count(&n, f->st, &err), &err);
	assert_int_equal(n, n0 + 1);
	lsec_ca_free(ca);
	lsec_free(certpath);
	lsec_secret_free(pass);
	lsec_free(cadir);
}

static void test_pki_record__issue_duplicate_revoke_crl(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *dev = pkitest_key("P-256");
	lsec_cert *cert = NULL, *again = NULL, *gen = NULL;
	lsec_secret *genkey = NULL;
	uint64_t leaves0 = 0, leaves = 0;
	assert_lsec_ok(lsec_store_leaf_count(&leaves0, f->st, &err), &err);

	assert_lsec_ok(lsec_pki_issue_recorded(&cert, f->ca, f->st, &officer, "SN-1", dev,
					       LSEC_KEY_ORIGIN_DEVICE, 365, &err),
		       &err);
	/* Subject and SAN from the registry. */
	X509 *x = lsec_cert_x509(cert);
	char cn[80] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "SN-1");
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, 0);
	assert_int_equal(g->type, GEN_URI);
	assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
			    "urn:linesec:uid:a1b2c3d4");
	GENERAL_NAMES_free(san);

	/* The identity is in the registry, active. */
	uint8_t fp[32];
	char fphex[65], sn[41];
	assert_lsec_ok(lsec_cert_key_fingerprint(fp, cert, &err), &err);
	lsec_hex_encode(fphex, fp, 32);
	lsec_cert_serial_hex(sn, cert);
	lsec_store_identity id;
	assert_lsec_ok(lsec_store_identity_get(&id, NULL, f->st, fphex, &err), &err);
	assert_string_equal(id.serial, "SN-1");
	assert_string_equal(id.cert_serial, sn);
	assert_int_equal(id.state, LSEC_KEY_ACTIVE);

	/* The same device key for another unit: refused by the registry, nothing recorded. */
	assert_lsec_ok(lsec_store_leaf_count(&leaves, f->st, &err), &err);
	assert_int_equal(leaves, leaves0 + 1);
	assert_lsec_code(lsec_pki_issue_recorded(&again, f->ca, f->st, &officer, "SN-2", dev,
						 LSEC_KEY_ORIGIN_DEVICE, 365, &err),
			 LSEC_E_EXISTS, &err);
	assert_non_null(strstr(err.msg, "SN-1"));
	assert_null(again);
	assert_lsec_ok(lsec_store_leaf_count(&leaves, f->st, &err), &err);
	assert_int_equal(leaves, leaves0 + 1);
	/* Unknown unit. */
	assert_lsec_code(lsec_pki_issue_recorded(&again, f->ca, f->st, &officer, "SN-9", dev,
						 LSEC_KEY_ORIGIN_DEVICE, 365, &err),
			 LSEC_E_NOTFOUND, &err);

	/* Station-generated key for SN-2. */
	EVP_PKEY *genpub = NULL;
	assert_lsec_ok(lsec_pki_station_keygen(&genkey, &genpub, &err), &err);
	assert_lsec_ok(lsec_pki_issue_recorded(&gen, f->ca, f->st, &officer, "SN-2", genpub,
					       LSEC_KEY_ORIGIN_STATION, 365, &err),
		       &err);
	EVP_PKEY_free(genpub);
	lsec_buf leaf = LSEC_BUF_INIT(1 << 16);
	uint8_t lh[32];
	assert_lsec_ok(lsec_store_leaf_get(&leaf, lh, NULL, f->st, leaves0 + 1, &err), &err);
	assert_non_null(memmem(leaf.data, leaf.len, "station-generated", 17));
	lsec_buf_release(&leaf);

	/* Revoke SN-1: key compromised, on the next CRL. */
	assert_lsec_ok(lsec_pki_revoke_recorded(f->st, &officer, cert, LSEC_CRL_KEY_COMPROMISE,
						&err),
		       &err);
	assert_lsec_ok(lsec_store_identity_get(&id, NULL, f->st, fphex, &err), &err);
	assert_int_equal(id.state, LSEC_KEY_COMPROMISED);
	assert_lsec_code(lsec_pki_revoke_recorded(f->st, &officer, cert, LSEC_CRL_SUPERSEDED,
						  &err),
			 LSEC_E_EXISTS, &err);
	lsec_buf crl = LSEC_BUF_INIT(1 << 20), list = LSEC_BUF_INIT(1 << 20);
	lsec_crl_options o = LSEC_CRL_OPTIONS_INIT;
	o.der = true;
	uint64_t num = 0;
	assert_lsec_ok(lsec_pki_crl_recorded(&crl, &list, &num, false, f->ca, f->st, &officer, &o,
					     &err),
		       &err);
	assert_int_equal(num, 1);
	const uint8_t *p = crl.data;
	X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)crl.len);
	assert_non_null(c);
	X509 *cax = lsec_cert_x509(lsec_ca_cert(f->ca));
	assert_int_equal(pkitest_verify(x, cax, c), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(pkitest_verify(lsec_cert_x509(gen), cax, c), X509_V_OK);
	char line[160];
	snprintf(line, sizeof(line), "%s %s keyCompromise\n", sn, fphex);
	assert_string_equal(lsec_buf_cstr(&list, &err), line);
	X509_CRL_free(c);
	lsec_buf_release(&list);
	lsec_buf_release(&crl);

	/* Every act left its leaf: issue, station-generated issue, revoke, CRL. */
	assert_lsec_ok(lsec_store_leaf_count(&leaves, f->st, &err), &err);
	assert_int_equal(leaves, leaves0 + 4);

	lsec_secret_free(genkey);
	lsec_cert_free(gen);
	lsec_cert_free(cert);
	EVP_PKEY_free(dev);
}

/* Out of memory at every allocation of a recorded issuance: it lands whole or not at all. */
static void test_pki_record__oom_leaves_nothing_half_done(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	EVP_PKEY *dev = pkitest_key("P-256");
	uint64_t n0 = 0, n = 0;
	int rc = -1;
	unsigned long fail_at;
	assert_lsec_ok(lsec_store_leaf_count(&n0, f->st, &err), &err);
	for (fail_at = 1; fail_at < 2000 && rc != 0; fail_at++) {
		lsec_cert *cert = NULL;
		lsec_alloc_fail_after(fail_at);
		rc = lsec_pki_issue_recorded(&cert, f->ca, f->st, &officer, "SN-1", dev,
					     LSEC_KEY_ORIGIN_DEVICE, 365, &err);
		lsec_alloc_fail_after(0);
		assert_lsec_ok(lsec_store_leaf_count(&n, f->st, &err), &err);
		if (rc != 0) {
			assert_null(cert);
			assert_int_equal(n, n0); /* no leaf without its identity */
		} else {
			assert_non_null(cert);
			assert_int_equal(n, n0 + 1);
		}
		lsec_cert_free(cert);
	}
	assert_int_equal(rc, 0);
	assert_true(fail_at > 2); /* allocation failures were really met on the way */
	/* Exactly one identity: the successful attempt's. */
	lsec_store_identity *ids = NULL;
	size_t nids = 0;
	assert_lsec_ok(lsec_store_identity_list(&ids, &nids, f->st, "SN-1", &err), &err);
	assert_int_equal(nids, 1);
	lsec_free(ids);
	EVP_PKEY_free(dev);
}

static bool file_has(const char *path, const uint8_t *needle, size_t n)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_buf b = LSEC_BUF_INIT(64u << 20);
	if (lsec_file_read(&b, path, &err) < 0) {
		return false;
	}
	bool found = memmem(b.data, b.len, needle, n) != NULL;
	lsec_buf_release(&b);
	return found;
}

/* The password a label file holds (its "password: " line), as a secret. */
static lsec_secret *label_password(const char *path)
{
	lsec_buf b = LSEC_BUF_INIT(4096);
	lsec_err err = LSEC_ERR_INIT;
	lsec_secret *pw = NULL;
	assert_lsec_ok(lsec_file_read(&b, path, &err), &err);
	const uint8_t *p = memmem(b.data, b.len, "password: ", 10);
	assert_non_null(p);
	p += 10;
	size_t n = (size_t)(b.data + b.len - p);
	assert_true(n > 1 && p[n - 1] == '\n');
	assert_lsec_ok(lsec_secret_from(&pw, p, n - 1, &err), &err);
	lsec_wipe(b.data, b.len);
	lsec_buf_release(&b);
	return pw;
}

static size_t credential_count(lsec_store *st, const char *serial)
{
	lsec_store_credential *c = NULL;
	size_t n = 0;
	lsec_err err = LSEC_ERR_INIT;
	assert_lsec_ok(lsec_store_credential_list(&c, &n, st, serial, &err), &err);
	lsec_free(c);
	return n;
}

static void test_pki_record__credentials(void **state)
{
	fixture *f = *state;
	lsec_err err = LSEC_ERR_INIT;
	char *labels = lsec_test_path(f->dir, "labels");
	char *missing = lsec_test_path(f->dir, "no-such-folder");
	char *l1 = NULL, *l2 = NULL, *l3 = NULL;
	assert_int_equal(mkdir(labels, 0700), 0);
	/* A label folder that is missing: nothing is recorded. */
	assert_lsec_code(lsec_pki_cred_recorded(&l1, f->ca, f->st, &officer, "SN-1", missing, 16,
						LSEC_CRED_ALNUM, &err),
			 LSEC_E_IO, &err);
	assert_null(l1);
	assert_int_equal(credential_count(f->st, "SN-1"), 0);
	assert_lsec_ok(lsec_pki_cred_recorded(&l1, f->ca, f->st, &officer, "SN-1", labels, 16,
					      LSEC_CRED_ALNUM, &err), &err);
	assert_lsec_ok(lsec_pki_cred_recorded(&l2, f->ca, f->st, &officer, "SN-2", labels, 20,
					      LSEC_CRED_BASE32, &err), &err);
	lsec_secret *pw1 = label_password(l1), *pw2 = label_password(l2);
	assert_false(lsec_secret_equal(pw1, pw2));
	/* A second credential of a unit holding a valid one is refused, recording nothing. */
	assert_lsec_code(lsec_pki_cred_recorded(&l3, f->ca, f->st, &officer, "SN-1", missing, 16,
						LSEC_CRED_ALNUM, &err),
			 LSEC_E_STATE, &err);
	assert_non_null(strstr(err.msg, "at most one"));
	assert_int_equal(credential_count(f->st, "SN-1"), 1);
	/* A stale label file refuses the issue and records nothing. */
	assert_lsec_ok(lsec_cred_label_remove(l1, &err), &err);
	assert_lsec_ok(lsec_store_credential_revoke(NULL, f->st, "SN-1", &err), &err);
	/* Revoked in the row alone (as SQL would), the log still holds it valid: refused. */
	assert_lsec_code(lsec_pki_cred_recorded(&l3, f->ca, f->st, &officer, "SN-1", labels, 16,
						LSEC_CRED_ALNUM, &err),
			 LSEC_E_AUDIT_INDEX, &err);
	assert_non_null(strstr(err.msg, "registry table credentials"));
	assert_null(l3);
	assert_int_equal(credential_count(f->st, "SN-1"), 1);
	json_t *rev = json_pack("{s:i}", "revoked", 1);
	lsec_audit_event e = {.person = "olga", .station = "st-1", .unit = "SN-2",
			      .action = "credential.revoke", .outcome = "started", .evidence = rev};
	uint64_t seq = 0;
	/*
	 * A decommission step that started revoking SN-2's credential and
	 * failed revoked nothing: the credential still checks.
	 */
	assert_lsec_ok(lsec_audit_append(&seq, f->st, &e, &err), &err);
	e.outcome = "failed";
	assert_lsec_ok(lsec_audit_append(&seq, f->st, &e, &err), &err);
	assert_lsec_ok(lsec_pki_cred_check_recorded(f->ca, f->st, &officer, "SN-2", pw2, &err),
		       &err);
	e.unit = "SN-1";
	e.outcome = "revoked";
	assert_lsec_ok(lsec_audit_append(&seq, f->st, &e, &err), &err);
	json_decref(rev);
	assert_lsec_ok(lsec_file_write_new(l1, "stale\n", 6, 0600, &err), &err);
	assert_lsec_code(lsec_pki_cred_recorded(&l3, f->ca, f->st, &officer, "SN-1", labels, 16,
						LSEC_CRED_ALNUM, &err),
			 LSEC_E_EXISTS, &err);
	assert_int_equal(credential_count(f->st, "SN-1"), 1);
	/* A serial that is not an identifier never becomes a label file name. */
	assert_lsec_code(lsec_pki_cred_recorded(&l3, f->ca, f->st, &officer, "../SN-1", labels, 16,
						LSEC_CRED_ALNUM, &err),
			 LSEC_E_USAGE, &err);
	/* A duplicate credential fingerprint is refused by the registry. */
	uint8_t fp[32];
	char fphex[65];
	assert_lsec_ok(lsec_cred_fingerprint(fp, f->ca, lsec_secret_cdata(pw1), LSEC_CRED_LEN,
					     &err),
		       &err);
	lsec_hex_encode(fphex, fp, 32);
	assert_lsec_code(lsec_store_credential_add(f->st, "SN-1", fphex, &err), LSEC_E_EXISTS,
			 &err);
	if (f->tdb->backend == LSEC_TEST_SQLITE) {
		/* No password bytes in the database files or the audit log. */
		assert_int_equal(lsec_secret_len(pw2), 20);
		lsec_store_close(f->st);
		f->st = NULL;
		char *wal = lsec_asprintf("%s-wal", f->db);
		for (int i = 0; i < 2; i++) {
			const lsec_secret *pw = i ? pw2 : pw1;
			assert_false(file_has(f->db, lsec_secret_cdata(pw), lsec_secret_len(pw)));
			assert_false(file_has(wal, lsec_secret_cdata(pw), lsec_secret_len(pw)));
		}
		/* ...but the fingerprint is, so the check is real. */
		assert_true(file_has(f->db, (const uint8_t *)fphex, 64) ||
			    file_has(wal, (const uint8_t *)fphex, 64));
		lsec_free(wal);
		assert_lsec_ok(lsec_store_open(&f->st, f->db, &err), &err);
		lsec_test_attach_signer(f->st);
	}
	lsec_secret_free(pw2);
	lsec_secret_free(pw1);
	lsec_free(l1);
	lsec_free(l2);
	lsec_free(labels);
	lsec_free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pki_record__ca_init_and_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_record__issue_duplicate_revoke_crl, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pki_record__credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pki_record__oom_leaves_nothing_half_done, setup,
						teardown),
	};
	return lsec_test_run_backends("pki_record", tests, sizeof(tests) / sizeof(tests[0]));
}
