/*
 * sign.h - what the web's record pages share (sign.c): a signature with the
 * password re-entered, a station opened for the session's person, and the
 * HTTP status of a library refusal.
 */
#ifndef LINESEC_WEB_SIGN_H
#define LINESEC_WEB_SIGN_H

#include "web_int.h"

#include "linesec/station.h"

/* The form's CSRF field, what the signature means (escaped), the password field. */
void lsec_web__sign_fields(lsec_web__page *p, const char *csrf, const char *meaning);
/*
 * The session's person signs now with the form's password (lsec_line_sign:
 * a refusal is a "signature" leaf and counts towards the lock).
 * Errors: LSEC_E_USAGE (no password in the form), those of lsec_line_sign.
 */
int lsec_web__sign(lsec_line_actor *out, lsec_web__request *r, unsigned roles, const char *action,
		   lsec_err *err);
/* A station of this line for the session's person (closed with lsec_station_close, then
 * lsec_station_setup_close). Errors: those of lsec_station_setup_open and lsec_station_open. */
int lsec_web__station_open(lsec_station_setup **setup, lsec_station **st, lsec_web__request *r,
			   unsigned roles, const char *action, lsec_err *err);
/* 403 for a refusal of who, 404 not found, 400 bad input, 409 a state, 422 otherwise. */
unsigned lsec_web__status_of(const lsec_err *err);

#endif
