/*
 * A whole line for the station tests, made through the library's public
 * calls: registry, people, line CA, product firmware key, the five default
 * SOPs submitted and approved, a signed release approved, a fleet of
 * simulated units.
 */
#ifndef LSEC_STATION_FIXTURE_H
#define LSEC_STATION_FIXTURE_H

#include "helpers/testutil.h"
#include "linesec/audit.h"
#include "linesec/image.h"
#include "linesec/pki.h"
#include "linesec/sop.h"
#include "linesec/line.h"
#include "linesec/station.h"
#include "linesec/store.h"
#include "linesec/device.h"

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FX_HASH "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

/* A registry location for station_fx_setup (a PostgreSQL URL); NULL: SQLite in the test folder. */
static const char *fx_registry_at;

typedef struct station_fx {
	char *dir;
	char *registry;
	char *ca_dir;
	char *fleet;
	char *fw_key;      /* public key PEM */
	char *fw_priv;     /* private key PEM */
	char *station_key;
	lsec_secret *ca_pass;
	lsec_station_product product;
	lsec_station_config cfg;
	lsec_station *st;
	unsigned witness_signed; /* signatures fx_witness_sign gave */
	pid_t printer;           /* fx_printer: takes every label the station delivers */
	bool witness_refuses;    /* fx_witness_sign refuses to sign, as a wrong password would */
} station_fx;

/*
 * The witness's signature in unit tests (the password check itself is
 * lsec_line_sign's, tested in tests/unit/line and end to end): signs unless
 * told to refuse, counting the signatures.
 */
static inline int fx_witness_sign(void *ctx, const char *witness, const char *role,
				  const char *what, bool probe, lsec_err *err)
{
	station_fx *fx = ctx;
	(void)role;
	if (fx->witness_refuses && !probe) {
		return lsec_err_set(err, LSEC_E_AUTH, __FILE__, __LINE__,
				    "cannot witness %s: wrong name or password of '%s'", what,
				    witness);
	}
	fx->witness_signed += probe ? 0 : 1;
	return 0;
}

/*
 * The label printer's spooler: a process taking (removing) every *.label
 * file the station delivers to <dir>/labels, until it is killed (or its
 * parent dies). A process, not a thread: the crash tests fork while it
 * runs, and a child forked while a thread of its parent holds a lock
 * (the allocator's, under ASan) waits on it for ever.
 */
static pid_t fx_printer(const char *dir)
{
	char *spool = lsec_test_path(dir, "labels");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct timespec ts = {0, 10000000L};
		char path[4096];
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			DIR *d = opendir(spool);
			struct dirent *de;
			while (d != NULL && (de = readdir(d)) != NULL) {
				size_t n = strlen(de->d_name);
				if (n > 6 && strcmp(de->d_name + n - 6, ".label") == 0) {
					snprintf(path, sizeof(path), "%s/%s", spool, de->d_name);
					(void)unlink(path);
				}
			}
			if (d != NULL) {
				closedir(d);
			}
			nanosleep(&ts, NULL);
		}
	}
	lsec_free(spool);
	return pid;
}

static inline void fx_ok(int rc, const lsec_err *err)
{
	if (rc != 0) {
		fail_msg("expected success, got %d: %s", rc, err->msg);
	}
}

/* Signs a release image of product with key (private PEM path) into path. */
static inline void fx_sign_image(const char *path, const char *key_path, const char *product,
				 lsec_image_build build, const char *version, uint32_t counter)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *k = NULL;
	lsec_buf img = LSEC_BUF_INIT(1 << 20);
	uint8_t payload[3000];
	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)(i * 7 + 3);
	}
	lsec_image_sign_options so = LSEC_IMAGE_SIGN_OPTIONS_INIT;
	fx_ok(lsec_key_load_private(&k, key_path, NULL, &err), &err);
	so.key = k;
	so.product = product;
	so.build = build;
	fx_ok(lsec_image_version_parse(&so.image_version, version, &err), &err);
	so.has_security_counter = true;
	so.security_counter = counter;
	so.embed_pubkey = true;
	fx_ok(lsec_image_sign(&img, payload, sizeof(payload), &so, &err), &err);
	fx_ok(lsec_file_write_atomic(path, img.data, img.len, 0644, &err), &err);
	lsec_buf_release(&img);
	lsec_key_free(k);
}

/* Creates a fleet of n units in <dir>/fleet with the given options. */
static inline void fx_fleet(station_fx *fx, lsec_device_sim_options *o)
{
	lsec_err err = LSEC_ERR_INIT;
	o->has_seed = true;
	o->seed = 7;
	fx_ok(lsec_device_sim_fleet_new(NULL, fx->fleet, o, &err), &err);
}

static inline char *fx_unit(const station_fx *fx, unsigned i)
{
	return lsec_asprintf("sim:%s/unit-%03u.sim", fx->fleet, i);
}

/* The operator "op" acknowledges reading version of SOP name (docs/sop.md). */
static inline void fx_ack(lsec_store *st, const char *name, int version)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_actor op = {"op", "st1"};
	fx_ok(lsec_sop_acknowledge(NULL, st, &op, name, version, NULL, &err), &err);
}

/* Submits and approves the five default SOPs (acknowledged by "op") and a release 1.0.0
 * (counter 1). */
static inline void fx_line(station_fx *fx, bool with_release)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = lsec_station_store(fx->st);
	lsec_actor sup = {"sup", "st1"}, s1 = {"sec1", "st1"}, s2 = {"sec2", "st1"};
	for (size_t i = 0; i < lsec_station_default_sop_count(); i++) {
		const char *name = NULL;
		const uint8_t *data = NULL;
		size_t len = 0;
		lsec_sop *sop = NULL;
		assert_true(lsec_station_default_sop(i, &name, &data, &len));
		fx_ok(lsec_sop_submit(&sop, st, &sup, LSEC_ROLE_SUPERVISOR, data, len, name, &err), &err);
		fx_ok(lsec_sop_approve(st, &s1, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), lsec_sop_version(sop), &err),
		      &err);
		fx_ok(lsec_sop_approve(st, &s2, LSEC_ROLE_SECURITY_OFFICER, lsec_sop_name(sop), lsec_sop_version(sop), &err),
		      &err);
		fx_ack(st, lsec_sop_name(sop), lsec_sop_version(sop));
		lsec_sop_free(sop);
	}
	if (with_release) {
		char *img = lsec_test_path(fx->dir, "fw.img");
		fx_sign_image(img, fx->fw_priv, "sensor", LSEC_IMAGE_BUILD_RELEASE, "1.0.0", 1);
		fx_ok(lsec_station_release_submit(NULL, fx->st, img, "sensor", 0, "sec1", &err),
		      &err);
		fx_ok(lsec_station_release_approve(fx->st, "sensor@1.0.0", "sec2", &err), &err);
		lsec_free(img);
	}
}


/*
 * A one-unit line whose build fails at boot attestation, so the unit is
 * quarantined; res holds the build's result. Returns the unit's URI (lsec_free).
 */
static inline char *fx_quarantined_unit(station_fx *fx, lsec_station_result *res)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = 1;
	o.faults = "boot_fail=5";
	fx_fleet(fx, &o);
	fx_line(fx, true);
	char *u = fx_unit(fx, 1);
	assert_int_equal(lsec_station_build(res, fx->st, u, NULL, &err), LSEC_E_STATION_STEP);
	return u;
}
/* A plain fleet of n units, the SOPs approved and release 1.0.0 approved. */
static inline void fx_ready(station_fx *fx, unsigned n)
{
	lsec_device_sim_options o = LSEC_DEVICE_SIM_OPTIONS_INIT;
	o.count = n;
	fx_fleet(fx, &o);
	fx_line(fx, true);
}

/*
 * The person-add leaves of the fixture's people, as linesec person add
 * records them (role, enabled, the password hash's SHA-256): what a role
 * check reads instead of the bare row.
 */
/* One person leaf (action: person-add, person-disable, ...) of the fixture's password hash. */
static inline void fx_person_leaf(lsec_store *st, const char *action, const char *name,
				  lsec_role role, const char *disabled)
{
	lsec_err err = LSEC_ERR_INIT;
	uint8_t h[32];
	char pw[65];
	fx_ok(lsec_sha256(h, (const uint8_t *)FX_HASH, strlen(FX_HASH), &err), &err);
	lsec_hex_encode(pw, h, sizeof(h));
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_NAME, name, LSEC_EV_ROLE,
			       lsec_role_name(role), LSEC_EV_DISABLED, disabled,
			       LSEC_EV_PW_HASH_SHA256, pw);
	lsec_audit_event e = {"sec1", "st1", NULL, NULL, 0, NULL, action, "ok", ev};
	fx_ok(lsec_audit_append(NULL, st, &e, &err), &err);
	json_decref(ev);
}

static inline void fx_person_leaves(lsec_store *st)
{
	fx_person_leaf(st, "person-add", "sec1", LSEC_ROLE_SECURITY_OFFICER, "no");
	fx_person_leaf(st, "person-add", "sec2", LSEC_ROLE_SECURITY_OFFICER, "no");
	fx_person_leaf(st, "person-add", "op", LSEC_ROLE_OPERATOR, "no");
	fx_person_leaf(st, "person-add", "sup", LSEC_ROLE_SUPERVISOR, "no");
}

#define FX_DEBUG_AUTH_PASS "debug-auth-passphrase"

/* The debug-auth key's passphrase, as the CLI would ask it (decommission). */
static inline int fx_debug_auth_unlock(lsec_secret **out, void *ctx, const char *what,
				       lsec_err *err)
{
	(void)ctx;
	(void)what;
	return lsec_secret_from(out, FX_DEBUG_AUTH_PASS, strlen(FX_DEBUG_AUTH_PASS), err);
}

static inline int station_fx_setup(void **state)
{
	station_fx *fx = lsec_calloc(1, sizeof(*fx));
	lsec_err err = LSEC_ERR_INIT;
	lsec_store *st = NULL;
	lsec_key *k = NULL;
	lsec_buf pem = LSEC_BUF_INIT(4096);
	fx->dir = lsec_test_tmpdir();
	fx->registry = fx_registry_at != NULL ? lsec_asprintf("%s", fx_registry_at)
					 : lsec_test_path(fx->dir, "registry.db");
	fx->ca_dir = lsec_test_path(fx->dir, "ca");
	fx->fleet = lsec_test_path(fx->dir, "fleet");
	fx->fw_key = lsec_test_path(fx->dir, "fw.pub.pem");
	fx->fw_priv = lsec_test_path(fx->dir, "fw.pem");
	fx->station_key = lsec_test_path(fx->dir, "station.key");
	/* People */
	fx_ok(lsec_store_create(&st, fx->registry, &err), &err);
	fx_ok(lsec_store_person_add(st, "sec1", LSEC_ROLE_SECURITY_OFFICER, FX_HASH, &err), &err);
	fx_ok(lsec_store_person_add(st, "sec2", LSEC_ROLE_SECURITY_OFFICER, FX_HASH, &err), &err);
	fx_ok(lsec_store_person_add(st, "op", LSEC_ROLE_OPERATOR, FX_HASH, &err), &err);
	fx_ok(lsec_store_person_add(st, "sup", LSEC_ROLE_SUPERVISOR, FX_HASH, &err), &err);
	fx_ok(lsec_line_anchor_create(fx->dir, st, &err), &err);
	lsec_store_close(st);
	/* Line CA */
	fx_ok(lsec_secret_from(&fx->ca_pass, "ca-passphrase", 13, &err), &err);
	lsec_ca_options co = LSEC_CA_OPTIONS_INIT;
	co.common_name = "Test Line CA";
	co.passphrase = fx->ca_pass;
	co.validity_days = 10950;
	fx_ok(lsec_ca_init(fx->ca_dir, &co, &err), &err);
	/* Product firmware key and station key */
	fx_ok(lsec_key_generate(&k, LSEC_KEY_ECDSA_P256, &err), &err);
	fx_ok(lsec_key_write_private(k, fx->fw_priv, NULL, &err), &err);
	fx_ok(lsec_key_public_pem(&pem, k, &err), &err);
	fx_ok(lsec_file_write_new(fx->fw_key, pem.data, pem.len, 0644, &err), &err);
	lsec_key_free(k);
	k = NULL;
	fx_ok(lsec_key_generate(&k, LSEC_KEY_ED25519, &err), &err);
	fx_ok(lsec_key_write_private(k, fx->station_key, NULL, &err), &err);
	lsec_key_free(k);
	lsec_buf_release(&pem);
	/* Station */
	fx->product.id = "sensor";
	lsec_station_config c = LSEC_STATION_CONFIG_INIT;
	c.registry = fx->registry;
	c.line_id = "line1";
	c.station_id = "st1";
	c.line_dir = fx->dir;
	c.ca_dir = fx->ca_dir;
	c.ca_unlock = fx->ca_pass;
	c.station_key = fx->station_key;
	c.products = &fx->product;
	c.nproducts = 1;
	c.operator_name = "op";
	c.witness_name = "sup";
	c.witness_sign = fx_witness_sign;
	c.witness_ctx = fx;
	c.batch = true;
	c.label_accept_seconds = 10;
	fx->cfg = c;
	fx->printer = fx_printer(fx->dir);
	fx_ok(lsec_station_open(&fx->st, &fx->cfg, &err), &err);
	fx_person_leaves(lsec_station_store(fx->st));
	/* The product's firmware key: submitted by one officer, approved by a second. */
	fx_ok(lsec_station_product_key_submit(NULL, fx->st, "sensor", fx->fw_key, "sec1", &err),
	      &err);
	fx_ok(lsec_station_product_key_approve(fx->st, "sensor@1", "sec2", &err), &err);
	/* Its debug-authentication key (Ed25519), kept by the station encrypted. */
	{
		char *dbg = lsec_test_path(fx->dir, "dbg.pem");
		lsec_secret *pass = NULL;
		fx_ok(lsec_key_generate(&k, LSEC_KEY_ED25519, &err), &err);
		fx_ok(lsec_key_write_private(k, dbg, NULL, &err), &err);
		lsec_key_free(k);
		fx_ok(lsec_secret_from(&pass, FX_DEBUG_AUTH_PASS, strlen(FX_DEBUG_AUTH_PASS), &err),
		      &err);
		fx_ok(lsec_station_debug_auth_key_submit(NULL, fx->st, "sensor", dbg, NULL, pass,
							 "sec1", &err),
		      &err);
		fx_ok(lsec_station_product_key_approve(fx->st, "sensor@debug-auth-1", "sec2", &err),
		      &err);
		lsec_secret_free(pass);
		lsec_free(dbg);
	}
	*state = fx;
	return 0;
}

static inline int station_fx_teardown(void **state)
{
	station_fx *fx = *state;
	if (fx->printer > 0) {
		kill(fx->printer, SIGKILL);
		(void)waitpid(fx->printer, NULL, 0);
	}
	lsec_station_close(fx->st);
	lsec_secret_free(fx->ca_pass);
	lsec_free(fx->registry);
	lsec_free(fx->ca_dir);
	lsec_free(fx->fleet);
	lsec_free(fx->fw_key);
	lsec_free(fx->fw_priv);
	lsec_free(fx->station_key);
	lsec_test_rmtree(fx->dir);
	lsec_free(fx);
	return 0;
}

/* The log verifies under the station key. */
static inline void fx_log_verifies(station_fx *fx)
{
	lsec_err err = LSEC_ERR_INIT;
	lsec_key *k = NULL, *pub = NULL;
	lsec_buf spki = LSEC_BUF_INIT(4096);
	lsec_audit_verify_report rep;
	fx_ok(lsec_key_load_private(&k, fx->station_key, NULL, &err), &err);
	fx_ok(lsec_key_spki_der(&spki, k, &err), &err);
	fx_ok(lsec_key_from_spki(&pub, spki.data, spki.len, &err), &err);
	fx_ok(lsec_audit_verify(&rep, lsec_station_store(fx->st), "line1", "st1",
				lsec_key_evp(pub), NULL, 0, &err),
	      &err);
	lsec_buf_release(&spki);
	lsec_key_free(pub);
	lsec_key_free(k);
}

#endif
