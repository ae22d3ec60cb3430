/*
 * cmd_serve.c - `linesec serve`: the web console (linesec/web.h) over this
 * station's line folder. Parses, calls, prints.
 */
#include "cli.h"

#include "linesec/web.h"

#include <stdio.h>

static const cli_opt serve_opts[] = {
    CLI_OPT("listen", "HOST:PORT",
	    "the IPv4 address and port to serve on (default 127.0.0.1:8080; "
	    "port 0: any free "
	    "one)"),
    CLI_OPT("tls-cert", "FILE", "serve HTTPS with this certificate (PEM; with --tls-key)"),
    CLI_OPT("tls-key", "FILE", "the certificate's private key (PEM)"),
    CLI_OPT("public-url", "URL",
	    "the console's address as a tablet at the station reaches it, put in the SOP "
	    "pages' QR codes (default: the address served on)"),
    CLI_OPT_END,
};

static void on_listen(void *ctx, const char *address)
{
	(void)ctx;
	printf("serving the web console on %s/ (Ctrl-C stops)\n", address);
	fflush(stdout);
}

static int serve_body(cli_ctx *c)
{
	lsec_web_options o = {
	    .listen = cli_get(&c->a, "listen"),
	    .tls_cert = cli_get(&c->a, "tls-cert"),
	    .tls_key = cli_get(&c->a, "tls-key"),
	    .on_listen = on_listen,
	    .public_url = cli_get(&c->a, "public-url"),
	};
	return lsec_web_serve(c->line, &o, &c->err);
}

const cli_spec cli_serve_spec = {
    .usage = "serve [--line DIR] [--listen HOST:PORT] [--tls-cert FILE "
	     "--tls-key FILE] [--public-url URL]",
    .summary = "serve the web console (dashboard, SOP library) of this station",
    .opts = serve_opts,
    .details = "People log in with their line password (the same back-off and lock as "
	       "'linesec login');\na web login opens their shift session on this "
	       "station. "
	       "Without TLS, serve on 127.0.0.1 only\nand reach it through an SSH "
	       "tunnel.\nBehind such a tunnel or a proxy, --public-url names the address a phone "
	       "or tablet\nopens from a SOP's QR code (127.0.0.1 is the tablet itself).",
    .body = serve_body,
    .setup = CLI_LINE | CLI_NO_ACTOR,
};
