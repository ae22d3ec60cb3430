/*
 * release.c - firmware releases: submit, two-person approval after every
 * image check, revocation, and the approved release a flashing run takes.
 *
 * A release is a registry row (product, version, digest, manifest) and a
 * copy of the image in the line folder, releases/<sha256>.img. Revocation
 * marks the release's row (when, by whom), so it is a registry fact every
 * station sharing the registry sees, and it can never be undone.
 *
 * The rows are what the leaves say, or nothing is done: every release read
 * for a decision is checked against its release.submit, release.approve and
 * release.revoke leaves (product, version and image digest inside the
 * hash), so an approval row injected or deleted by SQL, a digest rewritten
 * or a revocation cleared stops the action, naming the table and the leaf.
 *
 * @test tests/unit/station/test_release.c
 */
#include "station/station_int.h"

#include <stdlib.h>

#include <jansson.h>

#define IMAGE_MAX (16u << 20)

static bool is_revoked(const lsec_store_approvable *a)
{
	return a->revoked[0] != '\0';
}

static char *image_path(const lsec_station *st, const char *digest)
{
	return lsec_asprintf("%s/releases/%s.img", st->cfg->line_dir, digest);
}

/* ---- the rows against the leaves ------------------------------------------------ */

static const lsec_station__approvable_kind release_kind = {
	"release",
	"releases",
	"release_approvals",
	LSEC_EV_IMAGE_SHA256,
	{"release.submit", "release.approve", "release.revoke"},
};

#define LV_COUNT LSEC_STATION__LV_COUNT
#define LV_SUBMIT LSEC_STATION__LV_SUBMIT

/* The release leaves of product (every product when NULL), by kind. */
static int release_leaves(json_t *lv[LV_COUNT], lsec_station *st, const char *product,
			  lsec_err *err)
{
	return lsec_station__approvable_leaves(lv, st, &release_kind, product, err);
}

static const json_t *submit_leaf(json_t *const lv[LV_COUNT], const lsec_store_approvable *a)
{
	return lsec_station__approvable_leaf(lv, &release_kind, LV_SUBMIT, a, NULL);
}

/*
 * Checks release row a against the leaves (lsec_station__approvable_check).
 * *quota_out (may be NULL) is the quota its submission leaf records.
 */
static int release_check(uint64_t *quota_out, json_t *const lv[LV_COUNT],
			 const lsec_store_approvable *a, lsec_err *err)
{
	int rc = 0;
	LSEC_TRY(lsec_station__approvable_check(lv, &release_kind, a, err));
	if (quota_out != NULL) {
		json_int_t q = json_integer_value(
			json_object_get(json_object_get(submit_leaf(lv, a), "evidence"), LSEC_EV_QUOTA));
		*quota_out = q > 0 ? (uint64_t)q : 0;
	}
out:
	return rc;
}

/*
 * The registry's releases of product (all when NULL) into *out (lsec_free),
 * each checked against its leaves (release_check). Errors: store errors,
 * those of lsec_audit_leaves_find and release_check.
 */
static int verified_list(lsec_store_approvable **out, size_t *n_out, lsec_station *st,
			 const char *product, lsec_err *err)
{
	int rc = 0;
	json_t *lv[LV_COUNT] = {NULL};
	LSEC_TRY(lsec_store_release_list(out, n_out, st->store, product, err));
	LSEC_TRY(release_leaves(lv, st, product, err));
	for (size_t i = 0; i < *n_out; i++) {
		LSEC_TRY(release_check(NULL, lv, &(*out)[i], err));
	}
out:
	if (rc < 0) {
		lsec_free(*out);
		*out = NULL;
		*n_out = 0;
	}
	lsec_station__approvable_leaves_free(lv);
	return rc;
}

const lsec_store_approvable *lsec_station__approvable_find(const lsec_store_approvable *list,
							   size_t n, const char *id)
{
	char *end = NULL;
	char want[2 * LSEC_STORE_NAME_MAX + 2];
	long long num = strtoll(id, &end, 10);
	bool numeric = end != NULL && end != id && *end == '\0';
	/* A release of build 0 is kept as "1.0.0" (release submit): "P@1.0.0+0" names it too. */
	snprintf(want, sizeof(want), "%s", id);
	size_t wl = strlen(want);
	if (wl > 2 && strchr(want, '@') != NULL && lsec_station__eq(want + wl - 2, "+0")) {
		want[wl - 2] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		char pv[2 * LSEC_STORE_NAME_MAX + 2];
		snprintf(pv, sizeof(pv), "%s@%s", list[i].name, list[i].version);
		if ((numeric && list[i].id == num) || lsec_station__eq(pv, want)) {
			return &list[i];
		}
	}
	return NULL;
}

const char *lsec_station__product_names(char *buf, size_t cap, const lsec_station *st)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < st->cfg->nproducts; i++) {
		int w = snprintf(buf + used, cap - used, "%s'%s'", i ? ", " : "",
				 st->cfg->products[i].id);
		if (w > 0 && (size_t)w < cap - used) {
			used += (size_t)w;
		}
	}
	return st->cfg->nproducts ? buf : "none";
}

int lsec_station__require_product(lsec_station *st, const char *product, const char *what,
				  lsec_err *err)
{
	int rc = 0;
	char names[512];
	LSEC_ENSURE(product != NULL, LSEC_E_USAGE, "no product given");
	for (size_t i = 0; i < st->cfg->nproducts; i++) {
		if (lsec_station__eq(st->cfg->products[i].id, product)) {
			goto out;
		}
	}
	LSEC_BAIL(LSEC_E_STATION_CONFIG,
		  "cannot %s: product '%s' is not a product of line '%s': its products "
		  "(line.yaml) are %s; use one of them, or add '%s' to line.yaml's products",
		  what, product, st->cfg->line_id,
		  lsec_station__product_names(names, sizeof(names), st), product);
out:
	return rc;
}

/* Loads the kept image of a release and checks it still has the recorded digest. */
static int load_image(lsec_image **out, const lsec_station *st, const lsec_store_approvable *a,
		      lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(IMAGE_MAX);
	uint8_t sha[32];
	char hex[65];
	char *path = image_path(st, a->digest);
	*out = NULL;
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_image_parse(out, b.data, b.len, path, err));
	LSEC_ENSURE(lsec_image_digest(sha, *out), LSEC_E_IMG_HASH,
		    "cannot use release %s@%s: image '%s' has no SHA-256 TLV", a->name, a->version,
		    path);
	lsec_hex_encode(hex, sha, 32);
	LSEC_ENSURE(lsec_station__eq(hex, a->digest), LSEC_E_IMG_HASH,
		    "cannot use release %s@%s: image '%s' is not the recorded image (digest %s)",
		    a->name, a->version, path, hex);
out:
	if (rc < 0) {
		lsec_image_free(*out);
		*out = NULL;
	}
	lsec_free(path);
	lsec_buf_release(&b);
	return rc;
}

/* The verification st made of exactly these bytes under these options, or NULL. */
static lsec_station__image_ok *image_ok_find(lsec_station *st, const uint8_t image_sha256[32],
					     const uint8_t key_fp[32], const char *product,
					     uint32_t min_counter)
{
	for (size_t i = 0; i < LSEC_STATION__IMAGES; i++) {
		lsec_station__image_ok *e = &st->images[i];
		if (e->set && lsec_ct_equal(e->image_sha256, image_sha256, 32) &&
		    lsec_ct_equal(e->key_fp, key_fp, 32) && lsec_station__eq(e->product, product) &&
		    e->min_counter == min_counter) {
			return e;
		}
	}
	return NULL;
}

/*
 * Every check an approval makes: signature under the product's firmware
 * key, release build of this product, counter not below min_counter, no
 * published key of the deny list. The key and the deny list are read each
 * time (a rotation or a new denial counts at once); the image's signature
 * is verified once per station for the same bytes, key, product and
 * counter (docs/station.md).
 */
int lsec_station__image_check(const lsec_image *img, lsec_station *st, const char *product,
			      uint32_t min_counter, lsec_err *err)
{
	int rc = 0;
	const lsec_key *key = NULL;
	lsec_buf spki = LSEC_BUF_INIT(4096);
	uint8_t kh[32], ih[32];
	size_t ilen = 0;
	const uint8_t *bytes = lsec_image_bytes(img, &ilen);
	lsec_station__denial d;
	lsec_image_verify_options vo = LSEC_IMAGE_VERIFY_OPTIONS_INIT;
	/* A denied key is named as such, before (and whatever) the key check says. */
	if (lsec_image_key_hash(kh, img)) {
		LSEC_TRY(lsec_station__denied(&d, st->store, kh, err));
		LSEC_ENSURE(!d.hit, LSEC_E_STATION_SAMPLE_KEY,
			    "cannot accept the release of '%s': the image is signed with the published "
			    "key '%s' (published at %s)",
			    product, d.name, d.origin);
	}
	LSEC_TRY(lsec_station__product_key(&key, st, product, err));
	LSEC_TRY(lsec_key_fingerprint(kh, key, err));
	LSEC_TRY(lsec_station__denied(&d, st->store, kh, err));
	LSEC_ENSURE(!d.hit, LSEC_E_STATION_SAMPLE_KEY,
		    "cannot accept the release of '%s': its firmware key is the published key '%s' "
		    "(published at %s)",
		    product, d.name, d.origin);
	LSEC_ENSURE(bytes != NULL, LSEC_E_USAGE, "cannot check the release of '%s': no image",
		    product);
	LSEC_TRY(lsec_sha256(ih, bytes, ilen, err));
	if (image_ok_find(st, ih, kh, product, min_counter) != NULL) {
		goto out;
	}
	LSEC_TRY(lsec_key_spki_der(&spki, key, err));
	vo.pubkey_der = spki.data;
	vo.pubkey_der_len = spki.len;
	vo.product = product;
	vo.require_release = true;
	vo.check_min_counter = true;
	vo.min_counter = min_counter;
	LSEC_TRY(lsec_image_verify(img, &vo, err));
	/* The boot ROM holds only the key digest: the image must carry its key. */
	vo.pubkey_der = NULL;
	vo.pubkey_der_len = 0;
	vo.key_hash = kh;
	LSEC_TRY(lsec_image_verify(img, &vo, err));
	lsec_station__image_ok *e = &st->images[st->images_next++ % LSEC_STATION__IMAGES];
	memcpy(e->image_sha256, ih, 32);
	memcpy(e->key_fp, kh, 32);
	snprintf(e->product, sizeof(e->product), "%s", product);
	e->min_counter = min_counter;
	e->set = true;
out:
	lsec_buf_release(&spki);
	return rc;
}

int lsec_station_release_submit(int64_t *id_out, lsec_station *st, const char *image_path_in,
				const char *product, uint64_t quota, const char *person,
				lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_buf b = LSEC_BUF_INIT(IMAGE_MAX);
	lsec_image *img = NULL;
	json_t *man = NULL, *ev = NULL;
	char *mtext = NULL, *dir = NULL, *kept = NULL;
	uint8_t sha[32], mh[32];
	char hex[65], ver[24], mhex[65];
	uint32_t counter = 0;
	int64_t id = 0;
	if (id_out != NULL) {
		*id_out = 0;
	}
	LSEC_ENSURE(image_path_in != NULL && product != NULL, LSEC_E_USAGE,
		    "release submit needs an image and a product");
	LSEC_TRY(lsec_station__require_role(st, person, "security-officer", "submit a release",
					    err));
	LSEC_TRY(lsec_station__require_product(st, product, "submit a release", err));
	LSEC_TRY(lsec_file_read(&b, image_path_in, err));
	LSEC_TRY(lsec_image_parse(&img, b.data, b.len, image_path_in, err));
	LSEC_ENSURE(lsec_image_digest(sha, img), LSEC_E_IMG_HASH,
		    "cannot submit '%s': the image has no SHA-256 TLV", image_path_in);
	lsec_hex_encode(hex, sha, 32);
	LSEC_TRY(lsec_image_version_format(ver, sizeof(ver), lsec_image_get_version(img)));
	if (strlen(ver) > 2 && lsec_station__eq(ver + strlen(ver) - 2, "+0")) {
		ver[strlen(ver) - 2] = '\0'; /* "1.0.0", as people write it */
	}
	(void)lsec_image_security_counter(&counter, img);
	man = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "image-sha256", hex, "build",
			lsec_image_build_name(lsec_image_build_type(img)), "image-product",
			lsec_image_product(img) ? lsec_image_product(img) : "",
			"security-counter", (json_int_t)counter, "quota", (json_int_t)quota,
			"version", ver);
	LSEC_ENSURE(man != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_json_canonical(&mtext, man, err));
	dir = lsec_asprintf("%s/releases", st->cfg->line_dir);
	kept = image_path(st, hex);
	LSEC_ENSURE(dir != NULL && kept != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_mkdir_p(dir, 0755, err));
	/* Content-addressed: the same image submitted twice is one file. */
	LSEC_TRY(lsec_file_write_atomic(kept, b.data, b.len, 0644, err));
	LSEC_TRY(lsec_sha256(mh, (const uint8_t *)mtext, strlen(mtext), err));
	lsec_hex_encode(mhex, mh, sizeof(mh));
	ev = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", LSEC_EV_PRODUCT, product, LSEC_EV_VERSION, ver,
		       LSEC_EV_IMAGE_SHA256, hex, LSEC_EV_MANIFEST_SHA256, mhex, LSEC_EV_QUOTA,
		       (json_int_t)quota, LSEC_EV_MEANING, LSEC_MEANING_SUBMITTED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_release_add(&id, st->store, product, ver, hex, mtext, person, err));
	/*
	 * The submitter's signature is the first of the two the registry needs;
	 * the second, by another security officer, comes with every image check.
	 */
	LSEC_TRY(lsec_store_release_approve(st->store, product, ver, person, err));
	LSEC_TRY(lsec_station__leaf(st, person, NULL, "release.submit", "submitted", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (id_out != NULL) {
		*id_out = id;
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(man);
	json_decref(ev);
	lsec_free(mtext);
	lsec_free(dir);
	lsec_free(kept);
	lsec_image_free(img);
	lsec_buf_release(&b);
	return rc;
}

/*
 * The highest security counter of the product's approved releases (0 when
 * none) into *out. list is checked against the release leaves
 * (verified_list); each counter is read from the release's kept image, whose
 * digest must be the approved one, never from the manifest column, which no
 * leaf backs. An image that cannot be read stops the approval
 * (load_image's error).
 */
static int approved_counter(uint32_t *out, const lsec_store_approvable *list, size_t n,
			    const char *product, const lsec_station *st, lsec_err *err)
{
	int rc = 0;
	lsec_image *img = NULL;
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = 0;
		if (!list[i].approved || !lsec_station__eq(list[i].name, product) ||
		    is_revoked(&list[i])) {
			continue;
		}
		lsec_image_free(img);
		img = NULL;
		LSEC_TRY(load_image(&img, st, &list[i], err));
		(void)lsec_image_security_counter(&c, img);
		*out = c > *out ? c : *out;
	}
out:
	lsec_image_free(img);
	return rc;
}

/*
 * What approve and revoke check first: person is a security officer, and
 * release id exists and is not revoked (else revoked_code, saying
 * revoked_why). *list_out (lsec_free, set on failure too) holds the
 * registry's releases; *a_out points into it.
 */
static int officer_find(lsec_store_approvable **list_out, size_t *n_out,
			const lsec_store_approvable **a_out, lsec_station *st, const char *id,
			const char *person, const char *verb, int revoked_code,
			const char *revoked_why, lsec_err *err)
{
	int rc = 0;
	const lsec_store_approvable *a = NULL;
	char action[32];
	*list_out = NULL;
	*n_out = 0;
	*a_out = NULL;
	LSEC_ENSURE(id != NULL, LSEC_E_USAGE, "release %s needs a release id", verb);
	snprintf(action, sizeof(action), "%s a release", verb);
	LSEC_TRY(lsec_station__require_role(st, person, "security-officer", action, err));
	LSEC_TRY(verified_list(list_out, n_out, st, NULL, err));
	a = lsec_station__approvable_find(*list_out, *n_out, id);
	LSEC_ENSURE(a != NULL, LSEC_E_NOTFOUND,
		    "cannot %s release '%s': no such release; name it by its number or as "
		    "PRODUCT@VERSION, the version the image carries with its +build part "
		    "(sensor@1.4.0+27; a build 0 is written sensor@1.4.0): 'linesec release list' "
		    "shows them",
		    verb, id);
	LSEC_ENSURE(!is_revoked(a), revoked_code, "cannot %s release %s@%s: %s", verb, a->name,
		    a->version, revoked_why);
	*a_out = a;
out:
	return rc;
}

int lsec_station_release_approve(lsec_station *st, const char *id, const char *person,
				 lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	const lsec_store_approvable *a = NULL;
	lsec_image *img = NULL;
	json_t *ev = NULL;
	uint32_t floor = 0;
	LSEC_TRY(officer_find(&list, &n, &a, st, id, person, "approve", LSEC_E_STATION_RELEASE,
			      "it was revoked", err));
	LSEC_TRY(lsec_station__approvable_second(&release_kind, a, person, err));
	LSEC_TRY(load_image(&img, st, a, err));
	LSEC_TRY(approved_counter(&floor, list, n, a->name, st, err));
	LSEC_TRY(lsec_station__image_check(img, st, a->name, floor, err));
	/* The approver signed with their password just before (lsec_line_sign, docs/line.md). */
	ev = json_pack("{s:s,s:s,s:s,s:b,s:s}", LSEC_EV_PRODUCT, a->name, LSEC_EV_VERSION,
		       a->version, LSEC_EV_IMAGE_SHA256, a->digest, "checks-passed", 1,
		       LSEC_EV_MEANING, LSEC_MEANING_APPROVED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_release_approve(st->store, a->name, a->version, person, err));
	LSEC_TRY(lsec_station__leaf(st, person, NULL, "release.approve", "approved", ev, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_image_free(img);
	lsec_free(list);
	return rc;
}

int lsec_station_release_revoke(lsec_station *st, const char *id, const char *person,
				lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	const lsec_store_approvable *a = NULL;
	json_t *ev = NULL;
	LSEC_TRY(officer_find(&list, &n, &a, st, id, person, "revoke", LSEC_E_EXISTS,
			      "it is already revoked", err));
	ev = json_pack("{s:s,s:s,s:s,s:s}", LSEC_EV_PRODUCT, a->name, LSEC_EV_VERSION, a->version,
		       LSEC_EV_IMAGE_SHA256, a->digest, LSEC_EV_MEANING, LSEC_MEANING_REVOKED);
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_store_release_revoke(st->store, a->name, a->version, person, err));
	LSEC_TRY(lsec_station__leaf(st, person, NULL, "release.revoke", "revoked", ev, err));
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	/* The revocation is covered by a checkpoint at once: its tail cannot be deleted unseen. */
	LSEC_TRY(lsec_station_checkpoint(st, err));
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	lsec_free(list);
	return rc;
}

static const char *const release_state_names[LSEC_STATION_RELEASE_STATE_COUNT] = {
	[LSEC_STATION_RELEASE_SUBMITTED] = "submitted",
	[LSEC_STATION_RELEASE_APPROVED] = "approved",
	[LSEC_STATION_RELEASE_REVOKED] = "revoked",
};

const char *lsec_station_release_state_name(lsec_station_release_state s)
{
	return (unsigned)s < LSEC_STATION_RELEASE_STATE_COUNT ? release_state_names[s] : "unknown";
}

int lsec_station_release_list(lsec_station_release **out, size_t *n_out, lsec_station *st,
			      lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *list = NULL;
	lsec_station_release *rels = NULL;
	size_t n = 0;
	*out = NULL;
	*n_out = 0;
	LSEC_ENSURE_REF(st);
	LSEC_TRY(verified_list(&list, &n, st, NULL, err));
	rels = lsec_calloc(n + 1, sizeof(*rels));
	LSEC_ENSURE(rels != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		rels[i].row = list[i];
		rels[i].state = is_revoked(&list[i]) ? LSEC_STATION_RELEASE_REVOKED
				: list[i].approved   ? LSEC_STATION_RELEASE_APPROVED
						     : LSEC_STATION_RELEASE_SUBMITTED;
	}
	*out = rels;
	*n_out = n;
	rels = NULL;
out:
	lsec_free(rels);
	lsec_free(list);
	return rc;
}

int lsec_station_release_list_json(json_t **out, const lsec_station_release *rels, size_t n,
				   lsec_err *err)
{
	int rc = 0;
	json_t *arr = json_array();
	*out = NULL;
	LSEC_ENSURE(arr != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const lsec_store_approvable *a = &rels[i].row;
		json_t *approvers = json_array();
		for (unsigned k = 0; k < 2 && approvers != NULL; k++) {
			if (a->approvers[k][0] != '\0') {
				json_array_append_new(approvers, json_string(a->approvers[k]));
			}
		}
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o*,s:s,s:s}", "id", (json_int_t)a->id,
				      "product", a->name, "version", a->version, "digest", a->digest,
				      "submitted-by", a->created_by, "approvers", approvers, "state",
				      lsec_station_release_state_name(rels[i].state), "created",
				      a->created);
		LSEC_TRY(lsec_json_append(arr, o, err));
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	return rc;
}

/*
 * The production quota of the run's release: called inside the transaction
 * that begins a flash run, after the audit leaf has taken the log lock, so
 * that sockets and stations checking at once are serialised and the count
 * includes every unit whose flashing under this release has begun (other
 * releases of the product have quotas of their own). LSEC_E_STATION_QUOTA when
 * the quota is reached.
 */
int lsec_station__release_first(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	json_t *leaves = NULL;
	size_t i;
	const json_t *l;
	r->release_first = false;
	r->release_counted = false;
	if (!r->have_release || lsec_sop_get_kind(r->sop) != LSEC_SOP_FLASH) {
		return 0;
	}
	LSEC_TRY(lsec_station__unit_leaves(&leaves, r->st->store, r->serial, err));
	r->release_first = true;
	json_array_foreach(leaves, i, l)
	{
		const json_t *ev = json_object_get(l, "evidence");
		if (lsec_station__eq(json_string_value(json_object_get(l, "action")), "run.start") &&
		    lsec_station__eq(json_string_value(json_object_get(l, "sop")),
				     lsec_sop_name(r->sop)) &&
		    lsec_station__eq(json_string_value(json_object_get(ev, LSEC_EV_RELEASE)),
				     r->release)) {
			r->release_first = false;
			r->release_counted = r->release_counted ||
					     json_is_true(json_object_get(ev, LSEC_EV_RELEASE_FIRST));
		}
	}
	r->release_counted = r->release_counted || r->release_first;
out:
	json_decref(leaves);
	return rc;
}

int lsec_station__quota_check(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	uint64_t made = 0, filed = 0;
	if (!r->have_release || r->release_quota == 0 ||
	    lsec_sop_get_kind(r->sop) != LSEC_SOP_FLASH) {
		return 0;
	}
	LSEC_TRY(lsec_store_release_units_started(&made, r->st->store, r->release,
						  lsec_sop_name(r->sop), r->serial, err));
	/*
	 * The signed log's count of other units: the rows may count more (runs
	 * from before the index key, which the stricter count keeps), never
	 * fewer.
	 */
	LSEC_TRY(lsec_audit_leaves_count(&filed, r->st->store, "release", r->release, err));
	if (r->release_counted && filed > 0) {
		filed--;
	}
	LSEC_ENSURE(made >= filed, LSEC_E_AUDIT_INDEX,
		    "registry table runs holds flash runs of %llu other units under release %s, but "
		    "the signed index files the first flash of %llu other units under "
		    "'release:%s': the registry was changed outside linesec",
		    (unsigned long long)made, r->release, (unsigned long long)filed, r->release);
	LSEC_ENSURE(made < r->release_quota, LSEC_E_STATION_QUOTA,
		    "the production quota of release %s (%llu units) is reached: the line stops",
		    r->release, (unsigned long long)r->release_quota);
out:
	return rc;
}

int lsec_station__release_load(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	lsec_store_approvable *list = NULL;
	size_t n = 0;
	const lsec_store_approvable *best = NULL;
	json_t *lv[LV_COUNT] = {NULL};
	uint64_t quota = 0;
	uint32_t counter = 0;
	lsec_station *st = r->st;
	/* Every release of the product is checked: a deleted approval must not bring back an older one. */
	LSEC_TRY(lsec_store_release_list(&list, &n, st->store, r->product, err));
	LSEC_TRY(release_leaves(lv, st, r->product, err));
	/* The newest is the last submitted as the log orders them; row ids are bare. */
	json_int_t best_seq = -1;
	for (size_t i = 0; i < n; i++) {
		LSEC_TRY(release_check(NULL, lv, &list[i], err));
		json_int_t seq = lsec_station__leaf_seq(submit_leaf(lv, &list[i]));
		if (list[i].approved && !is_revoked(&list[i]) && seq > best_seq) {
			best = &list[i];
			best_seq = seq;
		}
	}
	LSEC_ENSURE(best != NULL, LSEC_E_STATION_RELEASE,
		    "no approved release of product '%s' (submit one and have a second security "
		    "officer approve it)",
		    r->product);
	lsec_image_free(r->image);
	r->image = NULL;
	LSEC_TRY(load_image(&r->image, st, best, err));
	LSEC_TRY(release_check(&quota, lv, best, err));
	/* The counter is the image's own (its digest is the approved one), not the manifest column. */
	(void)lsec_image_security_counter(&counter, r->image);
	/*
	 * Before any step: the release is still signed by the product's
	 * registered key (a rotation since its approval retires it) and by no
	 * published key, read through their leaves.
	 */
	LSEC_TRY(lsec_station__image_check(r->image, st, r->product, counter, err));
	snprintf(r->release, sizeof(r->release), "%s@%s", best->name, best->version);
	LSEC_TRY(lsec_hex_decode_fixed(r->release_digest, 32, best->digest, "release digest", err));
	r->release_counter = counter;
	r->have_release = true;
	r->release_quota = quota;
out:
	lsec_station__approvable_leaves_free(lv);
	lsec_free(list);
	return rc;
}
