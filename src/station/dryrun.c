/*
 * dryrun.c - what a build would do to a unit, resolved against the real
 * target and the registry, with nothing written to either: the unit is
 * identified, and for each SOP still to run its approved version, the
 * approved release (and whether the flash already holds it), and an
 * implementation for every step that applies (docs/station.md, "Dry run").
 *
 * @test tests/e2e/test_fixture.sh
 */
#include "station/station_int.h"

#include <stdio.h>

/*
 * The unit's serial, state and product as a build's identification takes
 * them (lsec_station__unit_serial, lsec_station__new_unit_product; the
 * registered product checked by lsec_station__device_open), without
 * registering it.
 */
static int dry_identify(lsec_station__run *r, lsec_unit_state *state, const char *uri,
			const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_store_unit by_uid, by_serial;
	lsec_err e = LSEC_ERR_INIT;
	char fallback[LSEC_STORE_NAME_MAX + 1];
	bool uid_known = lsec_store_unit_get_by_uid(&by_uid, r->st->store, r->uid_hex, &e) == 0;
	if (serial == NULL) {
		LSEC_TRY(lsec_station__unit_serial(fallback, sizeof(fallback), r->st, uri, r->uid_hex,
						   err));
		serial = fallback;
	}
	snprintf(r->serial, sizeof(r->serial), "%s", serial);
	bool serial_known = lsec_store_unit_get(&by_serial, r->st->store, r->serial, &e) == 0;
	LSEC_ENSURE(!(uid_known && !lsec_station__eq(by_uid.serial, r->serial)) &&
			    !(!uid_known && serial_known),
		    LSEC_E_STATION_CLONE,
		    "dry run: unit '%s' at '%s' would be refused: its UID %s is held by unit '%s'",
		    r->serial, uri, r->uid_hex, uid_known ? by_uid.serial : r->serial);
	*state = uid_known ? by_uid.state : LSEC_UNIT_NEW;
	if (uid_known) {
		snprintf(r->product, sizeof(r->product), "%s", by_uid.product);
	} else {
		const char *product = NULL;
		LSEC_TRY(lsec_station__new_unit_product(&product, r->st, r->serial, err));
		snprintf(r->product, sizeof(r->product), "%s", product);
	}
out:
	return rc;
}

/* One SOP: approved, for this product, every step that applies implemented. */
static int dry_sop(lsec_station__run *r, lsec_sop_kind kind, lsec_buf *plan, lsec_err *err)
{
	int rc = 0;
	lsec_sop *sop = NULL;
	unsigned steps = 0;
	LSEC_TRY(lsec_sop_fetch_approved(&sop, r->st->store, kind, err));
	r->sop = sop;
	const char *ap = lsec_sop_product(sop);
	LSEC_ENSURE(ap != NULL && (lsec_station__eq(ap, "any") || lsec_station__eq(ap, r->product)),
		    LSEC_E_STATION_CONFIG,
		    "dry run: the approved %s SOP applies to product '%s', not '%s'",
		    lsec_sop_kind_name(kind), ap ? ap : "?", r->product);
	if ((kind == LSEC_SOP_FLASH || kind == LSEC_SOP_SECURE_BOOT) && !r->have_release) {
		LSEC_TRY(lsec_station__release_load(r, err));
	}
	for (size_t i = 0; i < lsec_sop_step_count(sop); i++) {
		const lsec_sop_step *s = lsec_sop_step_at(sop, i);
		if (!lsec_station__step_applies(r, s)) {
			continue;
		}
		LSEC_ENSURE(lsec_station__action(s->action) != NULL, LSEC_E_STATION_CONFIG,
			    "dry run: step '%s' of SOP '%s' (action %s) has no implementation here",
			    s->id, lsec_sop_kind_name(kind), s->action->id);
		steps++;
	}
	LSEC_TRY(lsec_buf_printf(plan, err, "%s%s v%d (%u steps)", plan->len ? ", " : "",
				 lsec_sop_kind_name(kind), lsec_sop_version(sop), steps));
out:
	r->sop = NULL;
	lsec_sop_free(sop);
	return rc;
}

/* Whether the unit's flash already holds the approved image (read back, nothing written). */
static int dry_preverify(lsec_station__run *r, lsec_buf *plan, lsec_err *err)
{
	int rc = 0;
	size_t n = 0;
	bool same = false;
	const uint8_t *img = r->image != NULL ? lsec_image_bytes(r->image, &n) : NULL;
	if (img == NULL) {
		goto out;
	}
	LSEC_ENSURE(n <= r->info.flash_size, LSEC_E_LIMIT,
		    "dry run: release %s (%zu bytes) does not fit the flash of unit '%s'", r->release,
		    n, r->serial);
	LSEC_TRY(lsec_station__attach(r, err)); /* a debug session reads; it writes nothing */
	LSEC_TRY(lsec_device_flash_compare(&same, NULL, r->tgt, 0, img, n, err));
	LSEC_TRY(lsec_buf_printf(plan, err, "; release %s: %s", r->release,
				 same ? "already in flash (preverified, would not be written)"
				      : "would be written"));
out:
	return rc;
}

int lsec_station_dry_run(char *plan, size_t cap, lsec_station *st, const char *uri,
			 const char *serial, lsec_err *err)
{
	int rc = 0;
	lsec_station__run r;
	lsec_unit_state state = LSEC_UNIT_NEW;
	lsec_buf b = LSEC_BUF_INIT(4096);
	memset(&r, 0, sizeof(r));
	LSEC_ENSURE(plan != NULL && cap > 0, LSEC_E_USAGE, "missing argument 'plan'");
	plan[0] = '\0';
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE(uri != NULL, LSEC_E_USAGE, "no unit given");
	r.st = st;
	snprintf(r.socket, sizeof(r.socket), "%u", st->cfg->socket);
	r.dry_run = true;
	/* The early chip check of a build, its refusal not recorded. */
	LSEC_TRY(lsec_station__device_open(&r, uri, serial, err));
	LSEC_TRY(dry_identify(&r, &state, uri, serial, err));
	LSEC_TRY(lsec_buf_printf(&b, err, "unit %s (UID %s, chip %s, %s): ", r.serial, r.uid_hex,
				 r.info.chip_id, lsec_unit_state_name(state)));
	size_t head = b.len;
	LSEC_ENSURE(state <= LSEC_UNIT_LOCKED, LSEC_E_STATION_WRONG_STATE,
		    "dry run: unit '%s' is %s: a build does not start from there", r.serial,
		    lsec_unit_state_name(state));
	for (int kind = LSEC_SOP_FLASH; kind <= LSEC_SOP_DEBUG_LOCK; kind++) {
		if (state > (lsec_unit_state)kind) {
			continue;
		}
		lsec_buf tail = LSEC_BUF_INIT(1024);
		rc = dry_sop(&r, (lsec_sop_kind)kind, &tail, err);
		if (rc == 0) {
			rc = lsec_buf_printf(&b, err, "%s%.*s", b.len > head ? ", " : "",
					     (int)tail.len, (const char *)tail.data);
		}
		lsec_buf_release(&tail);
		LSEC_TRY(rc);
	}
	if (state == LSEC_UNIT_NEW) {
		LSEC_TRY(dry_preverify(&r, &b, err));
	}
	LSEC_TRY(lsec_buf_printf(&b, err, "; then the ship gate; nothing written"));
	snprintf(plan, cap, "%.*s", (int)b.len, (const char *)b.data);
out:
	lsec_buf_release(&b);
	lsec_station__run_release(&r);
	return rc;
}
