/*
 * config.c - the line folder: finding it, line.yaml (libfyaml), opening the
 * registry, and `init`, which creates a line with its first security
 * officer.
 */
#include "line/line_int.h"

#include "linesec/audit.h"
#include "linesec/pki.h"

#include <errno.h>
#include <libfyaml.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SESSION_MINUTES 480
#define MAX_SESSION_MINUTES (7 * 24 * 60)
/* Idle time after which a session ends (session.idle_minutes), and its bounds. */
#define DEFAULT_IDLE_MINUTES 15
#define MAX_IDLE_MINUTES (24 * 60)
#define MAX_LABEL_ACCEPT_SECONDS 3600

static bool is_url(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

int lsec_line__derive_paths(lsec_line *line, lsec_err *err)
{
	int rc = 0;
	line->key_path = lsec_asprintf("%s/station.key", line->dir);
	line->pub_path = lsec_asprintf("%s/%s", line->dir, LSEC_LINE_STATION_PUB);
	line->sessions_dir = lsec_asprintf("%s/.sessions", line->dir);
	if (line->ca[0] == '\0') {
		snprintf(line->ca, sizeof(line->ca), "ca");
	}
	line->ca_dir = line->ca[0] == '/' ? lsec_strdup(line->ca)
					  : lsec_asprintf("%s/%s", line->dir, line->ca);
	if (line->checkpoints[0] == '\0') {
		snprintf(line->checkpoints, sizeof(line->checkpoints), LSEC_LINE_CHECKPOINTS);
	}
	line->checkpoint_dir = line->checkpoints[0] == '/'
				       ? lsec_strdup(line->checkpoints)
				       : lsec_asprintf("%s/%s", line->dir, line->checkpoints);
	if (line->labels[0] == '\0') {
		snprintf(line->labels, sizeof(line->labels), "labels");
	}
	line->label_dir = line->labels[0] == '/' ? lsec_strdup(line->labels)
						 : lsec_asprintf("%s/%s", line->dir, line->labels);
	if (is_url(line->registry) || line->registry[0] == '/') {
		line->registry_location = lsec_strdup(line->registry);
	} else {
		line->registry_location = lsec_asprintf("%s/%s", line->dir, line->registry);
	}
	LSEC_ENSURE(line->key_path && line->pub_path && line->sessions_dir &&
			    line->registry_location && line->ca_dir && line->checkpoint_dir &&
			    line->label_dir,
		    LSEC_E_NOMEM, "cannot open line '%s': out of memory", line->dir);
out:
	return rc;
}

/* ---- reading line.yaml --------------------------------------------------------- */

/*
 * The node at path ("/a/b": mapping keys) under root, or NULL. Walks the
 * mappings itself, comparing plain key text: libfyaml 0.8's fy_node_by_path
 * leaks on some malformed documents (found by tests/fuzz/fuzz_line.c).
 */
static struct fy_node *yaml_get(struct fy_node *root, const char *path)
{
	struct fy_node *n = root;
	while (n != NULL && *path == '/') {
		const char *key = path + 1;
		size_t klen = strcspn(key, "/");
		struct fy_node *found = NULL;
		void *it = NULL;
		struct fy_node_pair *pair;
		if (!fy_node_is_mapping(n)) {
			return NULL;
		}
		while (found == NULL && (pair = fy_node_mapping_iterate(n, &it)) != NULL) {
			struct fy_node *k = fy_node_pair_key(pair);
			size_t len = 0;
			const char *text = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
			if (text != NULL && len == klen && memcmp(text, key, klen) == 0) {
				found = fy_node_pair_value(pair);
			}
		}
		n = found;
		path = key + klen;
	}
	return n;
}

/* The scalar at path under root, or NULL when absent; LSEC_E_PARSE when not a scalar. */
static int yaml_scalar(const char **out, struct fy_node *root, const char *path,
		       const char *file, lsec_err *err)
{
	*out = NULL;
	struct fy_node *n = yaml_get(root, path);
	if (n == NULL) {
		return 0;
	}
	if (!fy_node_is_scalar(n)) {
		return lsec_err_set(err, LSEC_E_PARSE, __FILE__, __LINE__,
				    "cannot read '%s': field '%s' must be a single value", file,
				    path + 1);
	}
	*out = fy_node_get_scalar0(n);
	return 0;
}

static int yaml_required(const char **out, struct fy_node *root, const char *path,
			 const char *file, lsec_err *err)
{
	int rc = yaml_scalar(out, root, path, file, err);
	if (rc == 0 && *out == NULL) {
		rc = lsec_err_set(err, LSEC_E_PARSE, __FILE__, __LINE__,
				  "cannot read '%s': field '%s' is missing", file, path + 1);
	}
	return rc;
}

/* Where a node starts: "line L, column C" (1-based), or "" when libfyaml does not say. */
static void node_where(char *out, size_t n, struct fy_node *node)
{
	struct fy_token *t = node != NULL && fy_node_is_scalar(node) ? fy_node_get_scalar_token(node)
								      : NULL;
	const struct fy_mark *m = t != NULL ? fy_token_start_mark(t) : NULL;
	if (m != NULL) {
		snprintf(out, n, "line %d, column %d: ", m->line + 1, m->column + 1);
	} else if (n > 0) {
		out[0] = '\0';
	}
}

/*
 * Every key of map is one of allowed (NULL-terminated); where names the
 * mapping. An unknown key is refused at its line and column, naming what is
 * allowed (hint, when not NULL, says more): a typo is never dropped.
 */
static int check_keys(struct fy_node *map, const char *const *allowed, const char *where,
		      const char *hint, const char *file, lsec_err *err)
{
	int rc = 0;
	void *it = NULL;
	struct fy_node_pair *pair;
	size_t na = 0;
	char at[64], list[256];
	while (allowed[na] != NULL) {
		na++;
	}
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(pair);
		size_t len = 0;
		const char *key = k != NULL && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
		bool known = false;
		for (size_t i = 0; key != NULL && i < na && !known; i++) {
			known = strlen(allowed[i]) == len && memcmp(allowed[i], key, len) == 0;
		}
		if (known) {
			continue;
		}
		node_where(at, sizeof(at), k);
		LSEC_ENSURE(key != NULL, LSEC_E_PARSE, "cannot read '%s': %sa key in %s is not plain text",
			    file, at, where);
		LSEC_ENSURE(false, LSEC_E_PARSE,
			    "cannot read '%s': %sunknown key '%.*s' in %s: expected %s%s%s", file, at,
			    (int)(len > 40 ? 40 : len), key, where,
			    na > 0 ? lsec_name_list(list, sizeof(list), allowed, na) : "no keys",
			    hint ? "; " : "",
			    hint ? hint : "");
	}
out:
	return rc;
}

/*
 * session.<key>: an unsigned decimal 1..max into *out (left alone when the
 * key is absent); anything else is refused at its line and column.
 */
static int section_number(unsigned long *out, struct fy_node *root, const char *section,
			  const char *key, unsigned long max, const char *file, lsec_err *err)
{
	int rc = 0;
	char path[64], at[64];
	snprintf(path, sizeof(path), "/%s/%s", section, key);
	struct fy_node *n = yaml_get(root, path);
	if (n == NULL) {
		goto out;
	}
	node_where(at, sizeof(at), n);
	const char *v = fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
	char *end = NULL;
	errno = 0;
	unsigned long x = v != NULL && v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
	LSEC_ENSURE(v != NULL && end != NULL && end != v && *end == '\0' && errno == 0 &&
			    x >= 1 && x <= max,
		    LSEC_E_PARSE,
		    "cannot read '%s': %s%s.%s '%s' must be a whole number 1..%lu", file, at,
		    section, key, v != NULL ? v : "(not a single value)", max);
	*out = x;
out:
	return rc;
}

static int read_product(line_product *p, struct fy_node *n, size_t idx, const char *file,
			lsec_err *err)
{
	int rc = 0;
	const char *id = NULL, *target = NULL, *family = NULL, *revision = NULL;
	static const char *const product_keys[] = {"id", "target", "family", "revision",
						   "policies", NULL};
	static const char *const policy_keys[] = {NULL};
	char where[128];
	snprintf(where, sizeof(where), "products[%zu]", idx);
	LSEC_ENSURE(fy_node_is_mapping(n), LSEC_E_PARSE,
		    "cannot read '%s': %s must be a mapping with id, target and policies", file,
		    where);
	LSEC_TRY(check_keys(n, product_keys, where, NULL, file, err));
	LSEC_TRY(yaml_scalar(&id, n, "/id", file, err));
	LSEC_TRY(yaml_scalar(&target, n, "/target", file, err));
	LSEC_ENSURE(id != NULL, LSEC_E_PARSE, "cannot read '%s': %s has no id", file, where);
	LSEC_ENSURE(target != NULL, LSEC_E_PARSE, "cannot read '%s': product '%s' has no target",
		    file, id);
	LSEC_TRY(lsec_ident_check(id, "product id", err));
	LSEC_TRY(yaml_scalar(&family, n, "/family", file, err));
	LSEC_TRY(yaml_scalar(&revision, n, "/revision", file, err));
	if (family != NULL) {
		char at[64];
		node_where(at, sizeof(at), yaml_get(n, "/family"));
		LSEC_ENSURE(lsec_ident_check(family, "chip family", err) == 0, LSEC_E_PARSE,
			    "cannot read '%s': %sproduct '%s': family '%s' is not a chip family name "
			    "(as a device profile's family.name)",
			    file, at, id, family);
		p->family = lsec_strdup(family);
		LSEC_ENSURE(p->family != NULL, LSEC_E_NOMEM, "cannot read '%s': out of memory", file);
	}
	if (revision != NULL) {
		char at[64];
		node_where(at, sizeof(at), yaml_get(n, "/revision"));
		LSEC_ENSURE(family != NULL, LSEC_E_PARSE,
			    "cannot read '%s': %sproduct '%s': a revision needs its family", file, at,
			    id);
		LSEC_ENSURE(lsec_ident_check(revision, "chip revision", err) == 0, LSEC_E_PARSE,
			    "cannot read '%s': %sproduct '%s': revision '%s' is not a revision name "
			    "(as a device profile's revision.values)",
			    file, at, id, revision);
		p->revision = lsec_strdup(revision);
		LSEC_ENSURE(p->revision != NULL, LSEC_E_NOMEM, "cannot read '%s': out of memory",
			    file);
	}
	p->id = lsec_strdup(id);
	p->target = lsec_strdup(target);
	p->policies = json_object();
	LSEC_ENSURE(p->id && p->target && p->policies, LSEC_E_NOMEM,
		    "cannot read '%s': out of memory", file);
	struct fy_node *pol = yaml_get(n, "/policies");
	if (pol == NULL) {
		goto out;
	}
	snprintf(where, sizeof(where), "the policies of product '%s'", id);
	LSEC_ENSURE(fy_node_is_mapping(pol), LSEC_E_PARSE, "cannot read '%s': %s must be a mapping",
		    file, where);
	LSEC_TRY(check_keys(pol, policy_keys, where,
			    "the firmware key is a registry record ('linesec product key'); "
			    "retries and witnesses are set by the SOPs",
			    file, err));
out:
	return rc;
}

/* Keeps the first line of libfyaml's first diagnostic ("<file>:3:1: error: ..."). */
static void keep_first(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	char *first = user;
	if (first[0] != '\0') {
		return;
	}
	const char *tail = buf;
	/* Drop the file name: the caller's message already names the file. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == ':' && buf[i + 1] >= '0' && buf[i + 1] <= '9') {
			tail = buf + i + 1;
			break;
		}
	}
	size_t n = strcspn(tail, "\n");
	if (n > (size_t)(buf + len - tail)) {
		n = (size_t)(buf + len - tail);
	}
	const char *e = strstr(tail, ": error: ");
	if (e != NULL && e < tail + n) {
		snprintf(first, 200, "line %.*s: %.*s", (int)(e - tail), tail,
			 (int)(n - (size_t)(e + 9 - tail)), e + 9);
	} else {
		snprintf(first, 200, "line %.*s", (int)n, tail);
	}
}

int lsec_line__config_read(lsec_line *line, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_buf text = LSEC_BUF_INIT(1u << 20);
	LSEC_TRY(lsec_file_read(&text, path, err));
	LSEC_TRY(lsec_line__config_parse(line, text.data ? (const char *)text.data : "", text.len,
					 path, err));
out:
	lsec_buf_release(&text);
	return rc;
}

/* line.yaml passes the check every YAML text passes before the parser sees it. */
static int check_text(const char *text, size_t len, const char *path, lsec_err *err)
{
	int rc = 0;
	lsec_text_fault f;
	LSEC_ENSURE(lsec_yaml_text_check(&f, (const uint8_t *)text, len), LSEC_E_PARSE,
		    "cannot read '%s': line %zu, column %zu (offset %zu) holds %s", path, f.line,
		    f.column, f.offset, f.why);
out:
	return rc;
}

int lsec_line__config_parse(lsec_line *line, const char *text, size_t len, const char *path,
			    lsec_err *err)
{
	int rc = 0;
	struct fy_diag_cfg dcfg;
	char first[200] = "";
	struct fy_diag *diag = NULL;
	struct fy_document *doc = NULL;
	const char *v = NULL;
	LSEC_TRY(check_text(text, len, path, err));
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = keep_first;
	dcfg.user = first;
	dcfg.colorize = false;
	dcfg.show_source = false;
	/* Parse errors are captured, not printed: the first goes into err. */
	diag = fy_diag_create(&dcfg);
	struct fy_parse_cfg cfg = {NULL, FYPCF_QUIET, NULL, diag};
	doc = fy_document_build_from_string(&cfg, text, len);
	LSEC_ENSURE(doc != NULL, LSEC_E_PARSE, "cannot read '%s': not valid YAML%s%s", path,
		    first[0] ? " at " : " (or not readable)", first);
	struct fy_node *root = fy_document_root(doc);
	LSEC_ENSURE(root != NULL && fy_node_is_mapping(root), LSEC_E_PARSE,
		    "cannot read '%s': expected a mapping with line, station and registry", path);
	{
		static const char *const top[] = {"version", "line",        "station", "registry",
						  "ca",      "checkpoints", "session", "products",
						  "labels",  NULL};
		static const char *const session[] = {"lifetime_minutes", "idle_minutes",
						       "idle_seconds", NULL};
		struct fy_node *sn = yaml_get(root, "/session");
		LSEC_TRY(check_keys(root, top, "line.yaml", NULL, path, err));
		LSEC_ENSURE(sn == NULL || fy_node_is_mapping(sn), LSEC_E_PARSE,
			    "cannot read '%s': field 'session' must be a mapping", path);
		if (sn != NULL) {
			LSEC_TRY(check_keys(sn, session, "session", NULL, path, err));
		}
	}
	LSEC_TRY(yaml_required(&v, root, "/version", path, err));
	LSEC_ENSURE(strcmp(v, "1") == 0, LSEC_E_PARSE,
		    "cannot read '%s': version '%s' is not supported (expected 1)", path, v);
	LSEC_TRY(yaml_required(&v, root, "/line", path, err));
	LSEC_TRY(lsec_ident_check(v, "line id", err));
	snprintf(line->line_id, sizeof(line->line_id), "%s", v);
	LSEC_TRY(yaml_required(&v, root, "/station", path, err));
	LSEC_TRY(lsec_ident_check(v, "station id", err));
	snprintf(line->station, sizeof(line->station), "%s", v);
	LSEC_TRY(yaml_required(&v, root, "/registry", path, err));
	LSEC_ENSURE(strlen(v) < sizeof(line->registry), LSEC_E_PARSE,
		    "cannot read '%s': field 'registry' is too long", path);
	snprintf(line->registry, sizeof(line->registry), "%s", v);
	LSEC_TRY(yaml_scalar(&v, root, "/ca", path, err));
	if (v != NULL) {
		LSEC_ENSURE(v[0] != '\0' && strlen(v) < sizeof(line->ca), LSEC_E_PARSE,
			    "cannot read '%s': field 'ca' must be a folder name", path);
		snprintf(line->ca, sizeof(line->ca), "%s", v);
	}
	LSEC_TRY(yaml_scalar(&v, root, "/checkpoints", path, err));
	if (v != NULL) {
		LSEC_ENSURE(v[0] != '\0' && strlen(v) < sizeof(line->checkpoints), LSEC_E_PARSE,
			    "cannot read '%s': field 'checkpoints' must be a folder name", path);
		snprintf(line->checkpoints, sizeof(line->checkpoints), "%s", v);
	}
	{
		/* `labels: DIR`, or `labels: {spool: DIR, accept_seconds: N}`. */
		static const char *const labels[] = {"spool", "accept_seconds", NULL};
		struct fy_node *ln = yaml_get(root, "/labels");
		unsigned long acc = LSEC_LINE_LABEL_ACCEPT_SECONDS;
		if (ln != NULL && fy_node_is_mapping(ln)) {
			LSEC_TRY(check_keys(ln, labels, "labels", NULL, path, err));
			LSEC_TRY(section_number(&acc, root, "labels", "accept_seconds",
						MAX_LABEL_ACCEPT_SECONDS, path, err));
			LSEC_TRY(yaml_scalar(&v, root, "/labels/spool", path, err));
		} else {
			LSEC_TRY(yaml_scalar(&v, root, "/labels", path, err));
		}
		line->label_accept_seconds = (unsigned)acc;
	}
	if (v != NULL) {
		LSEC_ENSURE(v[0] != '\0' && strlen(v) < sizeof(line->labels), LSEC_E_PARSE,
			    "cannot read '%s': field 'labels' must be a folder name (the label "
			    "printer's spool folder)",
			    path);
		snprintf(line->labels, sizeof(line->labels), "%s", v);
	}
	unsigned long m = DEFAULT_SESSION_MINUTES, idle_m = 0, idle_s = 0;
	LSEC_TRY(section_number(&m, root, "session", "lifetime_minutes", MAX_SESSION_MINUTES, path, err));
	LSEC_TRY(section_number(&idle_m, root, "session", "idle_minutes", MAX_IDLE_MINUTES, path, err));
	LSEC_TRY(section_number(&idle_s, root, "session", "idle_seconds", MAX_IDLE_MINUTES * 60, path, err));
	line->session_minutes = (unsigned)m;
	{
		char at[64];
		struct fy_node *in = yaml_get(root, "/session/idle_minutes");
		struct fy_node *is = yaml_get(root, "/session/idle_seconds");
		node_where(at, sizeof(at), is);
		LSEC_ENSURE(in == NULL || is == NULL, LSEC_E_PARSE,
			    "cannot read '%s': %ssession.idle_seconds and session.idle_minutes "
			    "both set: give one",
			    path, at);
		line->idle_seconds = is != NULL   ? (unsigned)idle_s
				     : in != NULL ? (unsigned)idle_m * 60
						  : DEFAULT_IDLE_MINUTES * 60;
		node_where(at, sizeof(at), is != NULL ? is : in);
		LSEC_ENSURE(line->idle_seconds <= line->session_minutes * 60 ||
				    (is == NULL && in == NULL),
			    LSEC_E_PARSE,
			    "cannot read '%s': %ssession.%s is longer than "
			    "session.lifetime_minutes (%u): a session ends at its lifetime anyway",
			    path, at, is != NULL ? "idle_seconds" : "idle_minutes",
			    line->session_minutes);
		if (line->idle_seconds > line->session_minutes * 60) {
			line->idle_seconds = line->session_minutes * 60; /* a short lifetime */
		}
	}
	struct fy_node *prods = yaml_get(root, "/products");
	if (prods != NULL) {
		LSEC_ENSURE(fy_node_is_sequence(prods), LSEC_E_PARSE,
			    "cannot read '%s': field 'products' must be a list", path);
		int n = fy_node_sequence_item_count(prods);
		if (n > 0) {
			line->products = lsec_calloc((size_t)n, sizeof(*line->products));
			LSEC_ENSURE(line->products != NULL, LSEC_E_NOMEM,
				    "cannot read '%s': out of memory", path);
		}
		for (int i = 0; i < n; i++) {
			line->nproducts = (size_t)i + 1;
			LSEC_TRY(read_product(&line->products[i],
					      fy_node_sequence_get_by_index(prods, i), (size_t)i,
					      path, err));
		}
	}
out:
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return rc;
}

/* ---- finding and opening ------------------------------------------------------ */

static bool has_file(const char *dir, const char *name)
{
	char *p = lsec_asprintf("%s/%s", dir, name);
	struct stat sb;
	bool ok = p != NULL && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
	lsec_free(p);
	return ok;
}

static bool has_config(const char *dir)
{
	return has_file(dir, LSEC_LINE_CONFIG);
}

int lsec_line_find(char **out, const char *dir, lsec_err *err)
{
	int rc = 0;
	const char *from = "--line";
	*out = NULL;
	if (dir == NULL) {
		dir = getenv(LSEC_LINE_ENV);
		from = LSEC_LINE_ENV;
	}
	if (dir == NULL || dir[0] == '\0') {
		dir = ".";
		from = "the current folder";
	}
	LSEC_ENSURE(has_config(dir), LSEC_E_NOTFOUND,
		    "no line found: '%s' (from %s) has no " LSEC_LINE_CONFIG
		    "; give --line DIR, set " LSEC_LINE_ENV " or run 'linesec init'",
		    dir, from);
	*out = lsec_strdup(dir);
	LSEC_ENSURE(*out != NULL, LSEC_E_NOMEM, "out of memory");
out:
	return rc;
}

void lsec_line_close(lsec_line *line)
{
	if (line == NULL) {
		return;
	}
	lsec_store_close(line->st);
	for (size_t i = 0; i < line->nproducts; i++) {
		lsec_free(line->products[i].id);
		lsec_free(line->products[i].target);
		lsec_free(line->products[i].family);
		lsec_free(line->products[i].revision);
		json_decref(line->products[i].policies);
	}
	lsec_free(line->products);
	lsec_free(line->dir);
	lsec_free(line->registry_location);
	lsec_free(line->ca_dir);
	lsec_free(line->checkpoint_dir);
	lsec_free(line->label_dir);
	lsec_free(line->key_path);
	lsec_free(line->pub_path);
	lsec_free(line->sessions_dir);
	lsec_free(line);
}

int lsec_line_signer_new(lsec_audit_signer **out, const char *dir, const char *line_id,
			 const char *station_id, const struct evp_pkey_st *key, lsec_err *err)
{
	(void)dir; /* the other stations come from the log (lsec_line_trust_log), not a file */
	return lsec_audit_signer_new(out, line_id, station_id, key, err);
}

int lsec_line_verifier_new(lsec_audit_signer **out, const char *dir, const char *line_id,
			   lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s = NULL;
	char *own = NULL;
	*out = NULL;
	LSEC_ENSURE_REF(dir);
	LSEC_ENSURE((own = lsec_asprintf("%s/%s", dir, LSEC_LINE_STATION_PUB)) != NULL,
		    LSEC_E_NOMEM, "cannot open line: out of memory");
	LSEC_TRY(lsec_audit_signer_new_verifier(&s, line_id, err));
	LSEC_TRY(lsec_audit_signer_trust_file(s, own, err));
	*out = s;
	s = NULL;
out:
	lsec_audit_signer_free(s);
	lsec_free(own);
	return rc;
}

int lsec_line_trust_log(lsec_store *st, lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *s = lsec_store_signer(st);
	LSEC_ENSURE(s != NULL, LSEC_E_AUDIT_NO_SIGNER,
		    "cannot read the trusted stations: no station key attached");
	LSEC_TRY(lsec_audit_signer_trust_log(s, st, err));
out:
	return rc;
}

/*
 * Attaches the registry's leaf signer: the station key when the folder has
 * one and the line is written, otherwise a verifier of the line's station
 * keys, so every leaf read is checked either way.
 */
static int attach_signer(lsec_line *line, bool read_only, lsec_err *err)
{
	int rc = 0;
	lsec_key *key = NULL;
	lsec_audit_signer *s = NULL;
	if (read_only || access(line->key_path, F_OK) != 0) {
		/* an auditor's copy, or a folder without the station key: nothing is written */
		LSEC_TRY(lsec_line_verifier_new(&s, line->dir, line->line_id, err));
	} else {
		LSEC_TRY(lsec_key_load_private(&key, line->key_path, NULL, err));
		LSEC_TRY(lsec_line_signer_new(&s, line->dir, line->line_id, line->station,
					      lsec_key_evp(key), err));
	}
	lsec_audit_signer_attach(line->st, s);
	LSEC_TRY(lsec_line_trust_log(line->st, err));
out:
	lsec_key_free(key);
	return rc;
}

int lsec_line_trusted_keys(struct evp_pkey_st ***out, size_t *n_out, const lsec_line *line,
			   lsec_err *err)
{
	return lsec_audit_signer_pubkeys(out, n_out, line->st, err);
}

/*
 * Refuses path (when it exists) if its mode has any of the forbidden bits:
 * "writable by others" (022) for the folders and files that decide what
 * the station does, "readable by others" (077) for keys and secrets.
 */
static int check_mode(const char *path, const char *what, unsigned forbidden, lsec_err *err)
{
	int rc = 0;
	struct stat sb;
	if (path == NULL || lstat(path, &sb) != 0) {
		goto out;
	}
	bool dir = S_ISDIR(sb.st_mode);
	unsigned want = dir ? 0700u : 0600u; /* what linesec creates */
	LSEC_ENSURE(((unsigned)sb.st_mode & forbidden) == 0, LSEC_E_POLICY,
		    "%s '%s' is %s by others (mode %04o): run 'chmod %s %s' (expected %04o or "
		    "stricter)",
		    what, path, forbidden == 022 ? "writable" : "readable",
		    (unsigned)sb.st_mode & 07777u, forbidden == 022 ? "go-w" : "go-rwx", path, want);
out:
	return rc;
}

/*
 * The station runs only on a line nobody else can change or read the
 * secrets of: the line folder, line.yaml, the registry file and the
 * sessions folder writable by the owner alone; the station key, the CA key
 * and the credential key readable by the owner alone.
 */
static int check_modes(const lsec_line *line, const char *cfg, lsec_err *err)
{
	int rc = 0;
	char *ca_key = lsec_asprintf("%s/ca.key.pem", line->ca_dir);
	char *cred_key = lsec_asprintf("%s/cred.key", line->ca_dir);
	LSEC_ENSURE(ca_key != NULL && cred_key != NULL, LSEC_E_NOMEM,
		    "cannot open line: out of memory");
	LSEC_TRY(check_mode(line->dir, "line folder", 022, err));
	LSEC_TRY(check_mode(cfg, "line configuration", 022, err));
	if (!is_url(line->registry_location)) {
		LSEC_TRY(check_mode(line->registry_location, "registry", 022, err));
	}
	LSEC_TRY(check_mode(line->sessions_dir, "sessions folder", 022, err));
	LSEC_TRY(check_mode(line->key_path, "station key", 077, err));
	LSEC_TRY(check_mode(ca_key, "CA key", 077, err));
	LSEC_TRY(check_mode(cred_key, "credential key", 077, err));
out:
	lsec_free(ca_key);
	lsec_free(cred_key);
	return rc;
}

static int line_open(lsec_line **out, const char *dir, bool read_only, lsec_err *err)
{
	int rc = 0;
	char *cfg = NULL;
	lsec_line *line = lsec_calloc(1, sizeof(*line));
	*out = NULL;
	LSEC_ENSURE(line != NULL, LSEC_E_NOMEM, "cannot open line: out of memory");
	LSEC_TRY(lsec_line_find(&line->dir, dir, err));
	cfg = lsec_asprintf("%s/%s", line->dir, LSEC_LINE_CONFIG);
	LSEC_ENSURE(cfg != NULL, LSEC_E_NOMEM, "cannot open line: out of memory");
	LSEC_TRY(lsec_line__config_read(line, cfg, err));
	LSEC_TRY(lsec_line__derive_paths(line, err));
	read_only = read_only || access(line->dir, W_OK) != 0;
	if (!read_only) {
		LSEC_TRY(check_modes(line, cfg, err));
	}
	if (read_only) {
		LSEC_TRY(lsec_store_open_read_only(&line->st, line->registry_location, err));
	} else {
		LSEC_TRY(lsec_store_open(&line->st, line->registry_location, err));
	}
	/* Whose registry this is first: another line's log is named as such, not by its leaves. */
	LSEC_TRY(lsec_line_anchor_check(line->st, line->dir, err));
	LSEC_TRY(attach_signer(line, read_only, err));
	*out = line;
	line = NULL;
out:
	lsec_free(cfg);
	lsec_line_close(line);
	return rc;
}

int lsec_line_open(lsec_line **out, const char *dir, lsec_err *err)
{
	return line_open(out, dir, false, err);
}

int lsec_line_open_read_only(lsec_line **out, const char *dir, lsec_err *err)
{
	return line_open(out, dir, true, err);
}

const char *lsec_line_checkpoint_dir(const lsec_line *line)
{
	return line->checkpoint_dir;
}

const char *lsec_line_label_dir(const lsec_line *line)
{
	return line->label_dir;
}

unsigned lsec_line_label_accept_seconds(const lsec_line *line)
{
	return line->label_accept_seconds;
}

const char *lsec_line_dir(const lsec_line *line)
{
	return line->dir;
}

const char *lsec_line_id(const lsec_line *line)
{
	return line->line_id;
}

const char *lsec_line_station(const lsec_line *line)
{
	return line->station;
}

const char *lsec_line_registry(const lsec_line *line)
{
	return line->registry;
}

const char *lsec_line_station_key_path(const lsec_line *line)
{
	return line->key_path;
}

const char *lsec_line_station_pub_path(const lsec_line *line)
{
	return line->pub_path;
}

const char *lsec_line_ca_dir(const lsec_line *line)
{
	return line->ca_dir;
}

unsigned lsec_line_session_minutes(const lsec_line *line)
{
	return line->session_minutes;
}

unsigned lsec_line_session_idle_seconds(const lsec_line *line)
{
	return line->idle_seconds;
}

lsec_store *lsec_line_store(lsec_line *line)
{
	return line->st;
}

size_t lsec_line_product_count(const lsec_line *line)
{
	return line->nproducts;
}

bool lsec_line_product(const lsec_line *line, size_t i, const char **id, const char **target,
		       const struct json_t **policies)
{
	if (i >= line->nproducts) {
		return false;
	}
	*id = line->products[i].id;
	*target = line->products[i].target;
	*policies = line->products[i].policies;
	return true;
}

bool lsec_line_product_chip(const lsec_line *line, size_t i, const char **family,
			    const char **revision)
{
	if (i >= line->nproducts) {
		return false;
	}
	*family = line->products[i].family;
	*revision = line->products[i].revision;
	return true;
}

/* ---- init ------------------------------------------------------------------------ */

static int write_config(const char *path, const lsec_line *line, const char *product,
			lsec_err *err)
{
	int rc = 0;
	lsec_buf b = LSEC_BUF_INIT(1 << 16);
	LSEC_TRY(lsec_buf_printf(
		&b, err,
		"# linesec line configuration (see docs/line.md)\n"
		"version: 1\n"
		"line: %s\n"
		"station: %s\n"
		"# SQLite file beside this one, or a postgresql:// URL shared by many stations\n"
		"registry: \"%s\"\n"
		"# The line CA folder (linesec ca init --ca <line>/ca), relative to this one\n"
		"ca: ca\n"
		"# Every checkpoint this station signs is exported here (<tree size>.note):\n"
		"# a second disk or a share in practice, relative to this folder or absolute\n"
		"checkpoints: " LSEC_LINE_CHECKPOINTS "\n"
		"session:\n"
		"  lifetime_minutes: %u\n"
		"  # A session not used for this long ends: log in again\n"
		"  idle_minutes: %u\n"
		"# Products built on this line: the device target each is driven through.\n"
		"# A unit is registered as the product of its first flash (with several\n"
		"# products, the run names it: --product).\n"
		"products:\n"
		"  - id: %s\n"
		"    target: \"sim://\"\n",
		line->line_id, line->station, line->registry, line->session_minutes,
		line->idle_seconds / 60, product != NULL ? product : LSEC_LINE_EXAMPLE_PRODUCT));
	LSEC_TRY(lsec_file_write_new(path, b.data, b.len, 0600, err));
out:
	lsec_buf_release(&b);
	return rc;
}

/* The station key: made here, or the one given (a station joining a registry). */
static int write_station_key(const lsec_line *line, const char *given, lsec_err *err)
{
	int rc = 0;
	lsec_key *key = NULL;
	lsec_buf pem = LSEC_BUF_INIT(4096);
	if (given != NULL) {
		LSEC_TRY(lsec_key_load_private(&key, given, NULL, err));
		LSEC_ENSURE(lsec_key_get_type(key) == LSEC_KEY_ED25519, LSEC_E_USAGE,
			    "cannot create line: station key '%s' is not an Ed25519 key", given);
	} else {
		LSEC_TRY(lsec_key_generate(&key, LSEC_KEY_ED25519, err));
	}
	LSEC_TRY(lsec_key_write_private(key, line->key_path, NULL, err));
	LSEC_TRY(lsec_key_public_pem(&pem, key, err));
	LSEC_TRY(lsec_file_write_new(line->pub_path, pem.data, pem.len, 0644, err));
out:
	lsec_buf_release(&pem);
	lsec_key_free(key);
	return rc;
}

/*
 * A station joining a registry: the log, read trusting the joined station's
 * key alone, must already trust this station's key (two officers there
 * approved it), or it writes nothing. Leaves a verifier attached.
 */
static int join_check(lsec_line *line, const char *station, const char *pub_path, lsec_err *err)
{
	int rc = 0;
	lsec_audit_signer *v = NULL;
	lsec_key *joined = NULL, *own = NULL;
	bool trusted = false;
	LSEC_TRY(lsec_key_load_public(&joined, pub_path, err));
	LSEC_TRY(lsec_key_load_public(&own, line->pub_path, err));
	LSEC_TRY(lsec_audit_signer_new_verifier(&v, line->line_id, err));
	LSEC_TRY(lsec_audit_signer_trust(v, lsec_key_evp(joined), err));
	lsec_audit_signer_attach(line->st, v);
	v = NULL;
	LSEC_TRY(lsec_line_trust_log(line->st, err));
	/* Trusted now: a key the log distrusted since does not join. */
	LSEC_TRY(lsec_audit_signer_trusts(&trusted, line->st, lsec_key_evp(own), err));
	LSEC_ENSURE(trusted, LSEC_E_POLICY,
		    "cannot join the registry as station '%s': the log, read as station '%s' "
		    "signs it, does not trust this station's key; two security officers there "
		    "first run 'linesec station trust %s --pubkey PUB' and 'linesec change approve "
		    "ID' (PUB: the public key of --station-key)",
		    line->station, station, line->station);
out:
	lsec_audit_signer_free(v);
	lsec_key_free(joined);
	lsec_key_free(own);
	return rc;
}

/* Removes what a failed init created, so no half-made line is left behind. */
static void undo_init(const lsec_line *line, bool config, bool key, bool registry, bool anchor)
{
	char *cfg = lsec_asprintf("%s/%s", line->dir, LSEC_LINE_CONFIG);
	char *anc = lsec_asprintf("%s/%s", line->dir, LSEC_LINE_ANCHOR);
	if (config && cfg != NULL) {
		unlink(cfg);
	}
	if (anchor && anc != NULL) {
		unlink(anc);
	}
	lsec_free(cfg);
	lsec_free(anc);
	if (key) {
		unlink(line->key_path);
		unlink(line->pub_path);
	}
	if (registry) {
		lsec_store_discard(line->registry_location);
	}
}

int lsec_line_init(const lsec_line_init_options *opts, lsec_err *err)
{
	int rc = 0;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_line *line = NULL;
	char *cfg = NULL;
	bool made_config = false, made_key = false, made_registry = false, made_anchor = false;
	char hash[160] = "", hash2[160] = "";
	lsec_err ignored = LSEC_ERR_INIT;
	uint64_t people = 0;
	json_t *ev = NULL, *ev2 = NULL, *join = NULL, *join_extra = NULL;
	LSEC_ENSURE_REF(opts);
	LSEC_ENSURE(opts->version == 1, LSEC_E_USAGE, "cannot create line: options version %u",
		    opts->version);
	LSEC_ENSURE(opts->dir != NULL && opts->dir[0] != '\0', LSEC_E_USAGE,
		    "cannot create line: no folder given");
	line = lsec_calloc(1, sizeof(*line));
	LSEC_ENSURE(line != NULL, LSEC_E_NOMEM, "cannot create line: out of memory");
	line->dir = lsec_strdup(opts->dir);
	LSEC_ENSURE(line->dir != NULL, LSEC_E_NOMEM, "cannot create line: out of memory");
	snprintf(line->line_id, sizeof(line->line_id), "%s", opts->line_id ? opts->line_id : "line1");
	snprintf(line->station, sizeof(line->station), "%s",
		 opts->station_id ? opts->station_id : "station1");
	LSEC_TRY(lsec_ident_check(opts->line_id ? opts->line_id : "line1", "line id", err));
	LSEC_TRY(lsec_ident_check(opts->station_id ? opts->station_id : "station1",
				     "station id", err));
	const char *admin = opts->admin ? opts->admin : "admin";
	const char *second = opts->second_officer;
	LSEC_TRY(lsec_ident_check(admin, "person name", err));
	if (opts->product != NULL) {
		LSEC_TRY(lsec_ident_check(opts->product, "product id", err));
	}
	const char *reg = opts->registry ? opts->registry : "registry.db";
	LSEC_ENSURE(strlen(reg) < sizeof(line->registry) && strpbrk(reg, "\"\\\n\r") == NULL,
		    LSEC_E_USAGE, "cannot create line: registry location '%s' is not usable", reg);
	snprintf(line->registry, sizeof(line->registry), "%s", reg);
	line->session_minutes = opts->session_minutes ? opts->session_minutes
						      : DEFAULT_SESSION_MINUTES;
	LSEC_ENSURE(line->session_minutes <= MAX_SESSION_MINUTES, LSEC_E_USAGE,
		    "cannot create line: session lifetime %u minutes is over %d",
		    line->session_minutes, MAX_SESSION_MINUTES);
	line->idle_seconds = (line->session_minutes < DEFAULT_IDLE_MINUTES ? line->session_minutes
									   : DEFAULT_IDLE_MINUTES) *
			     60;
	LSEC_TRY(lsec_line__derive_paths(line, err));

	LSEC_TRY(lsec_mkdir_p(line->dir, 0700, err));
	cfg = lsec_asprintf("%s/%s", line->dir, LSEC_LINE_CONFIG);
	LSEC_ENSURE(cfg != NULL, LSEC_E_NOMEM, "cannot create line: out of memory");
	LSEC_ENSURE(!has_config(line->dir), LSEC_E_EXISTS,
		    "cannot create line in '%s': it already holds " LSEC_LINE_CONFIG, line->dir);
	LSEC_ENSURE(!has_file(line->dir, LSEC_LINE_ANCHOR), LSEC_E_EXISTS,
		    "cannot create line in '%s': it already holds " LSEC_LINE_ANCHOR, line->dir);
	LSEC_ENSURE(access(line->key_path, F_OK) != 0, LSEC_E_EXISTS,
		    "cannot create line in '%s': '%s' already exists", line->dir, line->key_path);
	if (!is_url(line->registry)) {
		LSEC_ENSURE(access(line->registry_location, F_OK) != 0, LSEC_E_EXISTS,
			    "cannot create line in '%s': registry '%s' already exists", line->dir,
			    line->registry_location);
	}

	LSEC_TRY(write_config(cfg, line, opts->product, err));
	made_config = true;
	made_key = true; /* a partly written key is removed too */
	LSEC_TRY(write_station_key(line, opts->station_key, err));
	if (is_url(line->registry)) {
		/* A second station joins the registry the first one created. */
		rc = lsec_store_create(&line->st, line->registry_location, err);
		if (rc == LSEC_E_EXISTS) {
			lsec_err_clear(err);
			rc = lsec_store_open(&line->st, line->registry_location, err);
		}
		LSEC_TRY(rc);
	} else {
		/* Made by this init, so removed by it if a later step fails. */
		LSEC_TRY(lsec_store_create(&line->st, line->registry_location, err));
		made_registry = true;
	}
	LSEC_TRY(attach_signer(line, false, err));
	made_anchor = true; /* a partly written anchor is removed too */
	LSEC_TRY(lsec_line_anchor_create(line->dir, line->st, err));

	LSEC_TRY(lsec_store_person_count(&people, line->st, err));
	if (people > 0) {
		/* A station joining a registry others write reads nothing it does not trust. */
		LSEC_ENSURE(opts->trust_station != NULL && opts->trust_pub != NULL, LSEC_E_USAGE,
			    "cannot join the registry: it already has a line; name the station it "
			    "joins and its public key (--trust-station NAME --trust-pubkey FILE)");
		LSEC_ENSURE(opts->station_key != NULL, LSEC_E_USAGE,
			    "cannot join the registry: give the station key the line already trusts "
			    "(--station-key FILE, made with 'linesec keygen --type ed25519')");
		LSEC_TRY(lsec_line__station_payload(&join, opts->trust_station, opts->trust_pub,
						    err));
		LSEC_TRY(join_check(line, opts->trust_station, opts->trust_pub, err));
		LSEC_TRY(attach_signer(line, false, err));
		LSEC_ENSURE((join_extra = json_pack("{s:s}", "meaning", "joined")) != NULL,
			    LSEC_E_NOMEM, "out of memory");
	} else {
		LSEC_ENSURE(opts->trust_station == NULL, LSEC_E_USAGE,
			    "cannot create line: --trust-station is for a station joining a "
			    "registry that already has a line");
	}
	if (people == 0) {
		LSEC_ENSURE(opts->admin_password != NULL, LSEC_E_USAGE,
			    "cannot create line: the first security officer '%s' needs a password",
			    admin);
		/* Every later change of trust takes two officers: a line starts with two. */
		LSEC_ENSURE(second != NULL && opts->second_password != NULL, LSEC_E_USAGE,
			    "cannot create line: a line starts with two security officers, each "
			    "present and typing their own password (--second-officer NAME)");
		LSEC_TRY(lsec_ident_check(second, "person name", err));
		LSEC_ENSURE(strcmp(second, admin) != 0, LSEC_E_USAGE, /* lint:ok: public names */
			    "cannot create line: the two security officers must be two people, not "
			    "'%s' twice",
			    admin);
		LSEC_TRY(lsec_line_password_hash(hash, sizeof(hash), opts->admin_password, err));
		LSEC_TRY(lsec_line_password_hash(hash2, sizeof(hash2), opts->second_password, err));
		LSEC_ENSURE(lsec_line_password_verify(hash, opts->second_password, &ignored) != 0,
			    LSEC_E_POLICY,
			    "cannot create line: the two security officers typed the same password; "
			    "each chooses their own");
	}
	LSEC_TRY(lsec_store_tx_begin(&tx, line->st, err));
	if (people == 0) {
		LSEC_TRY(lsec_store_person_add(line->st, admin, LSEC_ROLE_SECURITY_OFFICER, hash,
					       err));
	}
	ev = json_pack("{s:s,s:s,s:s,s:s}", "line", line->line_id, "station", line->station,
		       "registry", lsec_store_backend(line->st), LSEC_EV_FIRST_OFFICER,
		       people == 0 ? admin : "");
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "cannot create line: out of memory");
	if (people == 0) {
		/* The first officer's record, as any person leaf carries it. */
		char pw[65];
		LSEC_TRY(lsec_line__pw_commit(pw, hash, err));
		LSEC_TRY(lsec_line__person_evidence(ev, LSEC_ROLE_SECURITY_OFFICER, false, pw, err));
	}
	LSEC_TRY(lsec_line__record(line, admin, "line-init", "ok", ev, err));
	if (people == 0) {
		char pw2[65];
		LSEC_TRY(lsec_store_person_add(line->st, second, LSEC_ROLE_SECURITY_OFFICER, hash2,
					       err));
		ev2 = json_pack("{s:s,s:s}", LSEC_EV_NAME, second, LSEC_EV_MEANING, "line-init");
		LSEC_ENSURE(ev2 != NULL, LSEC_E_NOMEM, "cannot create line: out of memory");
		LSEC_TRY(lsec_line__pw_commit(pw2, hash2, err));
		LSEC_TRY(lsec_line__person_evidence(ev2, LSEC_ROLE_SECURITY_OFFICER, false, pw2,
						    err));
		LSEC_TRY(lsec_line__record(line, second, "person-add", "ok", ev2, err));
	}
	if (people > 0) {
		/* The station joined, recorded by this station's own signed leaf: what lets it
		 * read the log (docs/line.md, "Stations sharing a registry"). */
		LSEC_TRY(lsec_line__station_record(line, admin, true, join, join_extra, err));
	}
	LSEC_TRY(lsec_store_tx_end(&tx, 0, err));
	if (people > 0) {
		LSEC_TRY(lsec_line_trust_log(line->st, err));
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	json_decref(ev);
	json_decref(ev2);
	json_decref(join);
	json_decref(join_extra);
	lsec_wipe(hash, sizeof(hash));
	lsec_wipe(hash2, sizeof(hash2));
	if (line != NULL) {
		lsec_store_close(line->st);
		line->st = NULL;
		if (rc < 0) {
			undo_init(line, made_config, made_key, made_registry, made_anchor);
		}
	}
	lsec_free(cfg);
	lsec_line_close(line);
	return rc;
}
