/*
 * prompt.c - reading a CA passphrase or token PIN without it ever being on
 * the command line: a file, an environment variable (wiped once read) or
 * the terminal with echo off.
 *
 * @test tests/unit/pki/test_prompt.c
 */
#include "pki_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define SECRET_MAX 1024

static int from_env(lsec_secret **out, const char *env, bool *found, lsec_err *err)
{
	int rc = 0;
	char *v = getenv(env);
	*found = false;
	if (v == NULL) {
		goto out;
	}
	*found = true;
	size_t n = strlen(v);
	LSEC_ENSURE(n > 0, LSEC_E_USAGE, "cannot use %s: it is empty", env);
	LSEC_ENSURE(n <= SECRET_MAX, LSEC_E_LIMIT, "cannot use %s: longer than %d bytes", env,
		    SECRET_MAX);
	rc = lsec_secret_from(out, v, n, err);
	/* The environment block is ours: do not leave the value in it. */
	lsec_wipe(v, n);
	(void)unsetenv(env);
out:
	return rc;
}

static int from_tty(lsec_secret **out, const char *env, const char *prompt, lsec_err *err)
{
	int rc = 0;
	struct termios old, quiet;
	bool restore = false;
	lsec_secret *buf = NULL;
	size_t n = 0;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	LSEC_ENSURE(fd >= 0, LSEC_E_USAGE,
		    "no %s: set %s or run on a terminal to be prompted", prompt, env);
	LSEC_ENSURE(tcgetattr(fd, &old) == 0, LSEC_E_USAGE,
		    "no %s: set %s or run on a terminal to be prompted", prompt, env);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	LSEC_ENSURE(tcsetattr(fd, TCSAFLUSH, &quiet) == 0, LSEC_E_IO,
		    "cannot turn off echo on the terminal");
	restore = true;
	char *text = lsec_asprintf("%s: ", prompt);
	if (text != NULL) {
		(void)!write(fd, text, strlen(text));
		lsec_free(text);
	}
	LSEC_TRY(lsec_secret_new(&buf, SECRET_MAX, err));
	uint8_t *p = lsec_secret_data(buf);
	for (;;) {
		uint8_t c;
		ssize_t r = read(fd, &c, 1);
		LSEC_ENSURE(r >= 0, LSEC_E_IO, "cannot read the %s from the terminal", prompt);
		if (r == 0 || c == '\n') {
			break;
		}
		LSEC_ENSURE(n < SECRET_MAX, LSEC_E_LIMIT, "%s longer than %d bytes", prompt,
			    SECRET_MAX);
		p[n++] = c;
	}
	(void)!write(fd, "\n", 1);
	LSEC_ENSURE(n > 0, LSEC_E_USAGE, "empty %s", prompt);
	LSEC_TRY(lsec_secret_from(out, p, n, err));
out:
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	}
	if (fd >= 0) {
		close(fd);
	}
	lsec_secret_free(buf);
	return rc;
}

int lsec_pki_secret_read(lsec_secret **out, const char *file, const char *env,
			 const char *prompt, lsec_err *err)
{
	int rc = 0;
	bool found = false;
	*out = NULL;
	LSEC_ENSURE(env != NULL && prompt != NULL, LSEC_E_USAGE,
		    "cannot read a secret: missing variable name or prompt");
	if (file != NULL) {
		/* The key module's reader: one trailing newline dropped, empty refused. */
		LSEC_TRY(lsec_key_passphrase_load(out, file, err));
		goto out;
	}
	LSEC_TRY(from_env(out, env, &found, err));
	if (!found) {
		LSEC_TRY(from_tty(out, env, prompt, err));
	}
out:
	return rc;
}
