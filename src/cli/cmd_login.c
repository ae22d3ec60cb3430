/*
 * cmd_login.c - `linesec login NAME` and `linesec logout [NAME]`: shift
 * sessions on this station; and the password prompt the people commands
 * share. Parses, calls liblinesec (linesec/line.h) and prints.
 */
#include "cli.h"

#include "linesec/line.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line from fd into a secret, without echo when fd is a terminal. */
static int read_line_secret(lsec_secret **out, int fd, const char *prompt, lsec_err *err)
{
	int rc = 0;
	struct termios old, quiet;
	bool restore = false;
	lsec_secret *buf = NULL;
	size_t n = 0;
	*out = NULL;
	LSEC_TRY(lsec_secret_new(&buf, LSEC_LINE_PASSWORD_MAX + 2, err));
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* The prompt is a courtesy; reading still works. */
	}
	uint8_t *p = lsec_secret_data(buf);
	for (;;) {
		uint8_t c;
		ssize_t r = read(fd, &c, 1);
		if (r <= 0 || c == '\n' || c == '\r') {
			break;
		}
		LSEC_ENSURE(n < LSEC_LINE_PASSWORD_MAX, LSEC_E_LIMIT,
			    "password refused: at most %d characters", LSEC_LINE_PASSWORD_MAX);
		p[n++] = c;
	}
	LSEC_TRY(lsec_secret_from(out, p, n ? n : 1, err));
	if (n == 0) {
		lsec_secret_free(*out);
		*out = NULL;
		LSEC_BAIL(LSEC_E_USAGE, "no password given");
	}
out:
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0) {
			/* nothing to do */
		}
	}
	lsec_secret_free(buf);
	return rc;
}

int cli_read_password(lsec_secret **out, const char *env, const char *prompt, bool confirm,
		      lsec_err *err)
{
	int rc = 0;
	lsec_secret *again = NULL;
	int fd = -1;
	*out = NULL;
	/* For scripts and tests only: an environment variable is visible to the user's processes. */
	const char *v = getenv(env);
	if (v != NULL && v[0] != '\0') {
		LSEC_TRY(lsec_secret_from(out, v, strlen(v), err));
		goto out;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* What was asked for, as the prompt says it ("the password of alice, to sign (...)"). */
		char what[256];
		size_t n = strlen(prompt);
		snprintf(what, sizeof(what), "%.*s", (int)(n >= 2 && prompt[n - 2] == ':' ? n - 2 : n),
			 prompt);
		if (what[0] >= 'A' && what[0] <= 'Z') {
			what[0] = (char)(what[0] - 'A' + 'a');
		}
		LSEC_BAIL(LSEC_E_USAGE,
			  "cannot ask for the %s: this process has no terminal to type it at; run "
			  "the command in a terminal (over ssh: ssh -t), never with the password on "
			  "its command line (unattended scripts only: %s)",
			  what, env);
	}
	LSEC_TRY(read_line_secret(out, fd, prompt, err));
	if (confirm) {
		LSEC_TRY(read_line_secret(&again, fd, "Repeat the password: ", err));
		LSEC_ENSURE(lsec_secret_len(*out) == lsec_secret_len(again) &&
				    lsec_secret_equal(*out, again),
			    LSEC_E_USAGE, "the two passwords differ");
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	lsec_secret_free(again);
	if (rc < 0) {
		lsec_secret_free(*out);
		*out = NULL;
	}
	return rc;
}

static int login_body(cli_ctx *c)
{
	int rc = 0;
	lsec_secret *pw = NULL;
	LSEC_TRY(cli_read_password(&pw, "LINESEC_PASSWORD", "Password: ", false, &c->err));
	LSEC_TRY(lsec_line_login(c->line, c->a.args[0], pw, &c->err));
	unsigned idle = lsec_line_session_idle_seconds(c->line);
	printf("%s logged in on station %s for %u minutes; the session ends after %u %s without "
	       "activity\n",
	       c->a.args[0], lsec_line_station(c->line), lsec_line_session_minutes(c->line),
	       idle % 60 == 0 ? idle / 60 : idle, idle % 60 == 0 ? "minutes" : "seconds");
out:
	lsec_secret_free(pw);
	return rc;
}

const cli_spec cli_login_spec = {
	.usage = "login [--line DIR] NAME",
	.summary = "open a shift session on this station",
	.min_args = 1,
	.max_args = 1,
	.details = "The password is read from the terminal; scripts and tests may set "
		   "LINESEC_PASSWORD.\nThe session token is kept in DIR/.sessions/NAME (mode 0600); "
		   "the registry keeps its\nSHA-256 only. Several people can be logged in at once "
		   "(e.g. an operator and a witness).",
	.body = login_body,
	.setup = CLI_LINE | CLI_NO_ACTOR,
};

static int logout_body(cli_ctx *c)
{
	int rc = 0;
	LSEC_TRY(lsec_line_logout(c->line, c->a.nargs ? c->a.args[0] : NULL, &c->err));
	printf("logged out\n");
out:
	return rc;
}

const cli_spec cli_logout_spec = {
	.usage = "logout [--line DIR] [NAME]",
	.summary = "end a shift session (NAME may be left out when only one person is logged in)",
	.max_args = 1,
	.body = logout_body,
	.setup = CLI_LINE | CLI_NO_ACTOR,
};
