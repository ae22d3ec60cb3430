/*
 * sign.c - what the record pages share: a signature on the web (the
 * password re-entered in the form, checked now by lsec_line_sign exactly as
 * a CLI_SIGN command does) and a station opened for the session's person
 * (lsec_station_setup_open, as a CLI_STATION command does).
 */
#include "sign.h"

#include "linesec/sop.h"

#include <string.h>

void lsec_web__sign_fields(lsec_web__page *p, const char *csrf, const char *meaning)
{
	lsec_web__csrf_field(p, csrf);
	lsec_web__raw(p, "<p class=\"meaning\">Your signature means: <strong>");
	lsec_web__text(p, meaning);
	lsec_web__raw(p, "</strong></p><label>Your password, to sign <input name=\"password\" "
			 "type=\"password\" autocomplete=\"current-password\" required></label>");
}

int lsec_web__sign(lsec_line_actor *out, lsec_web__request *r, unsigned roles, const char *action,
		   lsec_err *err)
{
	int rc = 0;
	lsec_secret *pw = NULL;
	const char *password = lsec_web_field_get(&r->form, "password");
	LSEC_ENSURE(password != NULL && password[0] != '\0', LSEC_E_USAGE,
		    "the form's field 'password' is empty: re-enter your password to sign (%s)",
		    action);
	LSEC_TRY(lsec_secret_from(&pw, password, strlen(password), err));
	LSEC_TRY(lsec_line_sign(out, r->srv->line, r->session->name, pw, roles, action, err));
out:
	lsec_secret_free(pw);
	return rc;
}

int lsec_web__station_open(lsec_station_setup **setup, lsec_station **st, lsec_web__request *r,
			   unsigned roles, const char *action, lsec_err *err)
{
	int rc = 0;
	*setup = NULL;
	*st = NULL;
	LSEC_TRY(lsec_station_setup_open(setup, lsec_line_dir(r->srv->line), r->session->name, roles,
					 action, err));
	lsec_station_config *cfg = lsec_station_setup_config(*setup);
	cfg->batch = true; /* a web page confirms nothing at a device */
	LSEC_TRY(lsec_station_open(st, cfg, err));
out:
	if (rc < 0) {
		lsec_station_setup_close(*setup);
		*setup = NULL;
	}
	return rc;
}

unsigned lsec_web__status_of(const lsec_err *err)
{
	switch (err->code) {
	case LSEC_E_AUTH:
	case LSEC_E_POLICY:
	case LSEC_E_STATION_SELF_APPROVAL:
	case LSEC_E_STATION_ROLE:
		return 403;
	case LSEC_E_NOTFOUND:
		return 404;
	case LSEC_E_USAGE:
	case LSEC_E_PARSE:
		return 400;
	case LSEC_E_STATE:
	case LSEC_E_EXISTS:
	case LSEC_E_STORE_APPROVAL:
	case LSEC_E_SOP_NOT_APPROVED:
	case LSEC_E_SOP_WITHDRAWN:
	case LSEC_E_SOP_DIGEST: /* the version is not the one the page showed */
		return 409;
	default:
		return 422;
	}
}
