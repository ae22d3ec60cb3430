/*
 * fixture.c - the fixture file of a jig with many sockets: which probe each
 * socket of a gang run is wired to (docs/station.md, "Fixture files").
 *
 *     fixture: 1
 *     sockets:
 *       - {socket: 1, probe: "rsp://127.0.0.1:3333?profile=linesec-sim",
 *          probe-serial: JIG-A-1, serial: unit-001}
 *
 * @test tests/unit/station/test_fixture.c
 */
#include "station/station_int.h"

#include <stdarg.h>
#include <stdlib.h>

#include <libfyaml.h>

/* A fixture file is a few lines per socket: anything bigger is not one. */
#define FIXTURE_MAX_FILE (256u * 1024u)
#define FIXTURE_MAX_URI 512

struct lsec_station_fixture {
	char *file;
	lsec_station_fixture_socket *sockets;
	size_t n;
};

typedef struct fctx {
	const char *file;
	lsec_err *err;
} fctx;

void lsec_station_fixture_free(lsec_station_fixture *f)
{
	if (f == NULL) {
		return;
	}
	for (size_t i = 0; f->sockets != NULL && i < f->n; i++) {
		lsec_free((void *)(uintptr_t)f->sockets[i].probe);
		lsec_free((void *)(uintptr_t)f->sockets[i].probe_serial);
		lsec_free((void *)(uintptr_t)f->sockets[i].serial);
	}
	lsec_free(f->sockets);
	lsec_free(f->file);
	lsec_free(f);
}

size_t lsec_station_fixture_count(const lsec_station_fixture *f)
{
	return f != NULL ? f->n : 0;
}

const lsec_station_fixture_socket *lsec_station_fixture_at(const lsec_station_fixture *f, size_t i)
{
	return f != NULL && i < f->n ? &f->sockets[i] : NULL;
}

const char *lsec_station_fixture_file(const lsec_station_fixture *f)
{
	return f != NULL ? f->file : NULL;
}

/* The line and column a node starts at (0 when unknown). */
static void where(struct fy_node *n, int *line, int *col)
{
	/* A collection starts where its first scalar does. */
	for (int depth = 0; n != NULL && depth < 64 && !fy_node_is_scalar(n); depth++) {
		void *it = NULL;
		struct fy_node_pair *pair =
			fy_node_is_mapping(n) ? fy_node_mapping_iterate(n, &it) : NULL;
		n = pair != NULL		 ? fy_node_pair_key(pair)
		    : fy_node_is_sequence(n) ? fy_node_sequence_get_by_index(n, 0)
					     : NULL;
	}
	struct fy_token *t = n != NULL ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t != NULL ? fy_token_start_mark(t) : NULL;
	*line = m != NULL ? m->line + 1 : 0;
	*col = m != NULL ? m->column + 1 : 0;
}

/* LSEC_E_PARSE "FILE:LINE:COL: FIELD: message". */
static int ferr(fctx *c, struct fy_node *at, const char *field, const char *fmt, ...)
	LSEC_PRINTF(4, 5);
static int ferr(fctx *c, struct fy_node *at, const char *field, const char *fmt, ...)
{
	char msg[400];
	int line = 0, col = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(at, &line, &col);
	return lsec_err_set(c->err, LSEC_E_PARSE, __FILE__, __LINE__,
			    "fixture file %s:%d:%d: %s: %s", c->file, line, col, field, msg);
}

/* A plain scalar's text (aliases and collections are not), or NULL. */
static const char *scalar(struct fy_node *n)
{
	if (n == NULL || !fy_node_is_scalar(n) || fy_node_is_alias(n)) {
		return NULL;
	}
	return fy_node_get_scalar0(n);
}

/*
 * Walks map's keys: each is one of allowed (NULL-terminated), given once;
 * vals[i] gets allowed[i]'s value (NULL when absent).
 */
static int keys(fctx *c, struct fy_node *map, const char *field, const char *const *allowed,
		struct fy_node **vals)
{
	void *it = NULL;
	struct fy_node_pair *pair;
	size_t na = 0;
	char list[200];
	while (allowed[na] != NULL) {
		vals[na++] = NULL;
	}
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(pair);
		const char *key = scalar(k);
		size_t i = 0;
		if (key == NULL) {
			return ferr(c, k != NULL ? k : map, field, "a key is not plain text");
		}
		while (i < na && strcmp(allowed[i], key) != 0) { /* lint:ok */
			i++;
		}
		if (i == na) {
			return ferr(c, k, field, "unknown key '%.40s': expected %s", key,
				    lsec_name_list(list, sizeof(list), allowed, na));
		}
		if (vals[i] != NULL) {
			return ferr(c, k, field, "key '%s' given twice", key);
		}
		vals[i] = fy_node_pair_value(pair);
		if (vals[i] == NULL) {
			return ferr(c, k, field, "key '%s' has no value", key);
		}
	}
	return 0;
}

/* A text value of at most max bytes, printable ASCII, copied into *out. */
static int text(fctx *c, char **out, struct fy_node *n, const char *field, size_t max)
{
	const char *v = scalar(n);
	if (v == NULL || v[0] == '\0') {
		return ferr(c, n, field, "must be a single non-empty value");
	}
	size_t len = strlen(v);
	if (len > max) {
		return ferr(c, n, field, "%zu bytes, at most %zu", len, max);
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e) {
			return ferr(c, n, field, "'%.60s' holds a space or a character that is not "
						 "printable ASCII", v);
		}
	}
	*out = lsec_strdup(v);
	if (*out == NULL) {
		return lsec_err_set(c->err, LSEC_E_NOMEM, __FILE__, __LINE__, "out of memory");
	}
	return 0;
}


/*
 * The server a probe URI names, spelt one way: "HOST:PORT" of an rsp://
 * URI, the host lowercased, the port without leading zeros, and every
 * spelling of the loopback host (localhost, 127.x.x.x, ::1, [::1]) as
 * "loopback"; a sim: URI as it is. Two probes of one key are one server.
 */
static void probe_key(char *out, size_t cap, const char *probe)
{
	if (strncmp(probe, "rsp://", 6) != 0) { /* lint:ok */
		snprintf(out, cap, "%s", probe);
		return;
	}
	const char *h = probe + 6;
	size_t n = strcspn(h, "?/");
	const char *colon = memrchr(h, ':', n);
	size_t hlen = colon != NULL ? (size_t)(colon - h) : n;
	const char *port = colon != NULL ? colon + 1 : "";
	size_t plen = colon != NULL ? n - hlen - 1 : 0;
	char host[256];
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)hlen, h);
	for (char *p = host; *p != '\0'; p++) {
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}
	bool dotted = strncmp(host, "127.", 4) == 0 && /* lint:ok */
		      strspn(host, "0123456789.") == strlen(host);
	if (dotted || strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 || /* lint:ok */
	    strcmp(host, "0:0:0:0:0:0:0:1") == 0) { /* lint:ok */
		snprintf(host, sizeof(host), "loopback");
	}
	while (plen > 1 && port[0] == '0') {
		port++;
		plen--;
	}
	snprintf(out, cap, "%s:%.*s", host, (int)plen, port);
}

static int read_socket(fctx *c, lsec_station_fixture *f, struct fy_node *item, size_t idx)
{
	int rc = 0;
	static const char *const allowed[] = {"socket", "probe", "probe-serial", "serial", NULL};
	struct fy_node *v[4];
	char field[48];
	lsec_station_fixture_socket *s = &f->sockets[idx];
	lsec_err e = LSEC_ERR_INIT;
	int line = 0, col = 0;
	snprintf(field, sizeof(field), "sockets[%zu]", idx);
	if (item == NULL || !fy_node_is_mapping(item)) {
		return ferr(c, item, field, "must be a mapping {socket, probe, probe-serial, serial}");
	}
	LSEC_TRY(keys(c, item, field, allowed, v));
	where(item, &line, &col);
	s->line = (unsigned)line;
	if (v[0] == NULL) {
		return ferr(c, item, field, "socket is missing (its number, from 1)");
	}
	const char *num = scalar(v[0]);
	char *end = NULL;
	unsigned long k = num != NULL && num[0] >= '1' && num[0] <= '9' ? strtoul(num, &end, 10) : 0;
	if (k == 0 || *end != '\0' || k > LSEC_STATION_FIXTURE_MAX_SOCKETS) {
		return ferr(c, v[0], "socket", "'%.40s' is not a socket number (1..%u)",
			    num != NULL ? num : "(not a single value)",
			    LSEC_STATION_FIXTURE_MAX_SOCKETS);
	}
	s->socket = (unsigned)k;
	if (v[1] == NULL) {
		return ferr(c, item, field, "probe is missing (rsp://HOST:PORT?profile=NAME)");
	}
	LSEC_TRY(text(c, (char **)(uintptr_t)&s->probe, v[1], "probe", FIXTURE_MAX_URI));
	if (strncmp(s->probe, "rsp://", 6) != 0 && strncmp(s->probe, "sim:", 4) != 0) { /* lint:ok */
		return ferr(c, v[1], "probe", "'%.80s' is not a probe URI (rsp://HOST:PORT?profile=NAME)",
			    s->probe);
	}
	if (v[2] != NULL) {
		LSEC_TRY(text(c, (char **)(uintptr_t)&s->probe_serial, v[2], "probe-serial", 64));
	}
	if (v[3] != NULL) {
		LSEC_TRY(text(c, (char **)(uintptr_t)&s->serial, v[3], "serial", LSEC_IDENT_MAX));
		if (strcmp(s->serial, "scan") == 0) { /* lint:ok */
			lsec_free((void *)(uintptr_t)s->serial);
			s->serial = NULL;
		} else if (lsec_ident_check(s->serial, "unit serial", &e) < 0) {
			return ferr(c, v[3], "serial", "%s", e.msg);
		}
	}
	/* Each socket, probe, probe serial and unit serial is named once. */
	for (size_t j = 0; j < idx; j++) {
		const lsec_station_fixture_socket *o = &f->sockets[j];
		if (o->socket == s->socket) {
			return ferr(c, v[0], "socket", "socket %u is bound twice (line %u and here)",
				    s->socket, o->line);
		}
		if (strcmp(o->probe, s->probe) == 0) { /* lint:ok */
			return ferr(c, v[1], "probe", "probe '%.80s' is bound to sockets %u and %u",
				    s->probe, o->socket, s->socket);
		}
		char ka[320], kb[320];
		probe_key(ka, sizeof(ka), o->probe);
		probe_key(kb, sizeof(kb), s->probe);
		if (strcmp(ka, kb) == 0) { /* lint:ok */
			return ferr(c, v[1], "probe",
				    "probe '%.80s' of socket %u names the server of socket %u's probe "
				    "'%.80s' (%s): give each probe one spelling of its host and port",
				    s->probe, s->socket, o->socket, o->probe, kb);
		}
		if (o->probe_serial != NULL && s->probe_serial != NULL &&
		    strcmp(o->probe_serial, s->probe_serial) == 0) { /* lint:ok */
			return ferr(c, v[2], "probe-serial",
				    "probe serial '%s' is given to sockets %u and %u",
				    s->probe_serial, o->socket, s->socket);
		}
		if (o->serial != NULL && s->serial != NULL && strcmp(o->serial, s->serial) == 0) { /* lint:ok */
			return ferr(c, v[3], "serial", "unit '%s' is placed in sockets %u and %u",
				    s->serial, o->socket, s->socket);
		}
	}
out:
	return rc;
}

static int read_top(fctx *c, lsec_station_fixture *f, struct fy_node *root)
{
	int rc = 0;
	static const char *const allowed[] = {"fixture", "name", "sockets", NULL};
	struct fy_node *v[3];
	lsec_err *err = c->err;
	LSEC_TRY(keys(c, root, "top level", allowed, v));
	const char *ver = scalar(v[0]);
	if (v[0] == NULL) {
		return ferr(c, root, "fixture", "missing: the format version (fixture: 1)");
	}
	if (ver == NULL || strcmp(ver, "1") != 0) { /* lint:ok */
		return ferr(c, v[0], "fixture", "format version '%.20s' is not supported (expected 1)",
			    ver != NULL ? ver : "(not a single value)");
	}
	if (v[1] != NULL) {
		char *name = NULL;
		LSEC_TRY(text(c, &name, v[1], "name", 64));
		lsec_free(name);
	}
	if (v[2] == NULL) {
		return ferr(c, root, "sockets", "missing: a list of {socket, probe, ...}");
	}
	int n = fy_node_is_sequence(v[2]) ? fy_node_sequence_item_count(v[2]) : -1;
	if (n <= 0 || n > (int)LSEC_STATION_FIXTURE_MAX_SOCKETS) {
		return ferr(c, v[2], "sockets", "must be a list of 1 to %u sockets",
			    LSEC_STATION_FIXTURE_MAX_SOCKETS);
	}
	f->sockets = lsec_calloc((size_t)n, sizeof(*f->sockets));
	LSEC_ENSURE(f->sockets != NULL, LSEC_E_NOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		f->n = (size_t)i + 1;
		LSEC_TRY(read_socket(c, f, fy_node_sequence_get_by_index(v[2], i), (size_t)i));
	}
out:
	return rc;
}

int lsec_station_fixture_parse(lsec_station_fixture **out, const uint8_t *data, size_t len,
			       const char *file, lsec_err *err)
{
	int rc = 0;
	lsec_station_fixture *f = NULL;
	struct fy_document *doc = NULL;
	lsec_text_fault fault;
	LSEC_ENSURE(out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	*out = NULL;
	LSEC_ENSURE_REF(file);
	LSEC_ENSURE(data != NULL || len == 0, LSEC_E_USAGE, "missing argument 'data'");
	LSEC_ENSURE(len <= FIXTURE_MAX_FILE, LSEC_E_LIMIT, "fixture file %s: %zu bytes, at most %u",
		    file, len, FIXTURE_MAX_FILE);
	LSEC_ENSURE(len > 0, LSEC_E_PARSE, "fixture file %s: empty: expected fixture: 1 and sockets",
		    file);
	LSEC_ENSURE(lsec_yaml_text_check(&fault, data, len), LSEC_E_PARSE,
		    "fixture file %s:%zu:%zu: holds %s", file, fault.line, fault.column, fault.why);
	f = lsec_calloc(1, sizeof(*f));
	LSEC_ENSURE(f != NULL && (f->file = lsec_strdup(file)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	struct fy_parse_cfg cfg = {NULL, FYPCF_QUIET, NULL, NULL};
	doc = fy_document_build_from_string(&cfg, (const char *)data, len);
	LSEC_ENSURE(doc != NULL, LSEC_E_PARSE, "fixture file %s: not valid YAML", file);
	struct fy_node *root = fy_document_root(doc);
	LSEC_ENSURE(root != NULL && fy_node_is_mapping(root), LSEC_E_PARSE,
		    "fixture file %s: expected a mapping (fixture: 1, sockets: [...])", file);
	fctx c = {file, err};
	LSEC_TRY(read_top(&c, f, root));
	*out = f;
	f = NULL;
out:
	fy_document_destroy(doc);
	lsec_station_fixture_free(f);
	return rc;
}

int lsec_station_fixture_load(lsec_station_fixture **out, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(FIXTURE_MAX_FILE + 1);
	LSEC_ENSURE(out != NULL, LSEC_E_USAGE, "missing argument 'out'");
	*out = NULL;
	LSEC_ENSURE_REF(path);
	LSEC_TRY(lsec_file_read(&b, path, err));
	LSEC_TRY(lsec_station_fixture_parse(out, b.data, b.len, path, err));
out:
	lsec_buf_release(&b);
	return rc;
}
