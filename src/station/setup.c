/*
 * setup.c - a station configured from its line folder: line.yaml, the
 * people logged in on this station, the line CA and the products'
 * firmware keys.
 *
 * Where things are (docs/station.md):
 *  - the line CA: line.yaml's `ca` folder (default <line>/ca), or $LINESEC_CA;
 *  - a product's firmware key: its registry record (product_key.c), never a
 *    file;
 *  - the witness: a second person logged in on this station.
 *
 * @test tests/e2e/test_station.sh
 */
#include "station/station_int.h"

#include <dirent.h>
#include <stdlib.h>

#include <jansson.h>

#include "linesec/line.h"

#define MAX_PRODUCTS 32

struct lsec_station_setup {
	lsec_line *line;
	lsec_line_actor who;
	lsec_line_actor witness;
	bool has_witness;
	char *registry;
	char *ca_dir;
	lsec_secret *ca_unlock;
	size_t nproducts;
	lsec_station_product products[MAX_PRODUCTS];
	lsec_station_config cfg;
};

static char *in_line(const lsec_line *line, const char *p)
{
	if (p[0] == '/' || strstr(p, "://") != NULL) {
		return lsec_strdup(p);
	}
	return lsec_asprintf("%s/%s", lsec_line_dir(line), p);
}

/* A second person logged in here who holds another role than the actor (the witness). */
static void find_witness(lsec_station_setup *s)
{
	char *dir = lsec_asprintf("%s/.sessions", lsec_line_dir(s->line));
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		lsec_err err = LSEC_ERR_INIT;
		if (e->d_name[0] == '.' || lsec_station__eq(e->d_name, s->who.name)) {
			continue;
		}
		unsigned any = (1u << LSEC_ROLE_COUNT) - 1u;
		/* Not their activity: finding the witness does not restart their idle clock. */
		if (lsec_line_session_check(&s->witness, s->line, e->d_name, any, "witness",
					    &err) == 0 &&
		    (!s->has_witness || s->witness.role == LSEC_ROLE_SUPERVISOR)) {
			s->has_witness = true;
			if (s->witness.role == LSEC_ROLE_SUPERVISOR) {
				break;
			}
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	lsec_free(dir);
}

int lsec_station_setup_open(lsec_station_setup **out, const char *dir, const char *as,
			    unsigned roles, const char *action, lsec_err *err)
{
	int rc = 0;
	lsec_station_setup *s = NULL;
	*out = NULL;
	s = lsec_calloc(1, sizeof(*s));
	LSEC_ENSURE(s != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_line_open(&s->line, dir, err));
	LSEC_TRY(lsec_line_authorize(&s->who, s->line, as, roles, action, err));
	find_witness(s);
	s->registry = in_line(s->line, lsec_line_registry(s->line));
	const char *ca = getenv("LINESEC_CA");
	s->ca_dir = lsec_strdup((ca != NULL && ca[0] != '\0') ? ca : lsec_line_ca_dir(s->line));
	LSEC_ENSURE(s->registry != NULL && s->ca_dir != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < lsec_line_product_count(s->line) && i < MAX_PRODUCTS; i++) {
		const char *id = NULL, *target = NULL;
		const json_t *pol = NULL;
		if (!lsec_line_product(s->line, i, &id, &target, &pol)) {
			break;
		}
		s->products[i].id = id;
		(void)lsec_line_product_chip(s->line, i, &s->products[i].family,
					     &s->products[i].revision);
		s->nproducts = i + 1;
	}
	lsec_station_config c = LSEC_STATION_CONFIG_INIT;
	c.registry = s->registry;
	c.line_id = lsec_line_id(s->line);
	c.station_id = lsec_line_station(s->line);
	c.line_dir = lsec_line_dir(s->line);
	c.ca_dir = s->ca_dir;
	c.checkpoint_dir = lsec_line_checkpoint_dir(s->line);
	c.label_dir = lsec_line_label_dir(s->line);
	c.label_accept_seconds = lsec_line_label_accept_seconds(s->line);
	c.station_key = lsec_line_station_key_path(s->line);
	c.products = s->products;
	c.nproducts = s->nproducts;
	c.operator_name = s->who.name;
	c.witness_name = s->has_witness ? s->witness.name : NULL;
	s->cfg = c;
	*out = s;
	s = NULL;
out:
	lsec_station_setup_close(s);
	return rc;
}

lsec_station_config *lsec_station_setup_config(lsec_station_setup *s)
{
	return s == NULL ? NULL : &s->cfg;
}

const char *lsec_station_setup_person(const lsec_station_setup *s)
{
	return s == NULL ? NULL : s->who.name;
}

int lsec_station_setup_witness(lsec_station_setup *s, const char *name, lsec_err *err)
{
	int rc = 0;
	unsigned any = (1u << LSEC_ROLE_COUNT) - 1u;
	lsec_line_actor w;
	LSEC_ENSURE_REF(s);
	LSEC_TRY(lsec_ident_check(name, "witness", err));
	LSEC_ENSURE(!lsec_station__eq(name, s->who.name), LSEC_E_STATION_ROLE,
		    "'%s' cannot witness what they do themselves: name a second person logged in "
		    "here",
		    name);
	LSEC_TRY(lsec_line_session_check(&w, s->line, name, any, "witness", err));
	s->witness = w;
	s->has_witness = true;
	s->cfg.witness_name = s->witness.name;
out:
	return rc;
}

lsec_line *lsec_station_setup_line(lsec_station_setup *s)
{
	return s == NULL ? NULL : s->line;
}

int lsec_station_setup_unlock_ca(lsec_station_setup *s, lsec_err *err)
{
	int rc = 0;
	lsec_ca *ca = NULL;
	if (s->ca_unlock != NULL) {
		goto out;
	}
	LSEC_TRY(lsec_ca_open(&ca, s->ca_dir, NULL, err));
	bool token = lsec_ca_uses_token(ca);
	LSEC_TRY(lsec_pki_secret_read(&s->ca_unlock, NULL,
				      token ? "LINESEC_PKCS11_PIN" : "LINESEC_CA_PASSPHRASE",
				      token ? "token PIN" : "CA passphrase", err));
	s->cfg.ca_unlock = s->ca_unlock;
out:
	lsec_ca_free(ca);
	return rc;
}

void lsec_station_setup_close(lsec_station_setup *s)
{
	if (s == NULL) {
		return;
	}
	lsec_secret_free(s->ca_unlock);
	lsec_free(s->registry);
	lsec_free(s->ca_dir);
	lsec_line_close(s->line);
	lsec_free(s);
}
