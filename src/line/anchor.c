/*
 * anchor.c - what the line keeps outside its registry: which registry is
 * its own and the last checkpoint this station signed (anchor.json), and
 * every checkpoint exported to the checkpoint folder line.yaml names.
 *
 * anchor.json (canonical JSON, 0644, replaced atomically):
 *     {"checkpoint":{"note":"<signed note>","root":"<hex>","tree_size":N},
 *      "format":"linesec-anchor/1","registry":"<registry id>"}
 * "checkpoint" is absent until the first checkpoint is signed.
 *
 * A checkpoint commits in the registry first, is exported next and
 * anchored last, so a crash in between leaves the anchor behind the
 * registry, which opens; a registry behind the anchor (an older copy put
 * back, a log cut short or rewritten) is refused.
 *
 * @test tests/unit/line/test_anchor.c, tests/e2e/test_tamper_anchor.sh
 */
#include "line/line_int.h"

#include "linesec/audit.h"
#include "linesec/pki.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ANCHOR_FORMAT "linesec-anchor/1"
#define ANCHOR_MAX (LSEC_AUDIT_NOTE_MAX + 1024)
/* Most exported checkpoints one verification reads from a folder. */
#define EXPORTED_MAX 1000000

typedef struct anchor {
	char registry[LSEC_STORE_ID_LEN + 1];
	bool has_checkpoint;
	uint64_t size;
	uint8_t root[32];
	char *note; /* lsec_free */
} anchor;

static void anchor_release(anchor *a)
{
	lsec_free(a->note);
	memset(a, 0, sizeof(*a));
}

static char *anchor_path(const char *line_dir)
{
	return lsec_asprintf("%s/%s", line_dir, LSEC_LINE_ANCHOR);
}

/* Reads line_dir/anchor.json strictly. LSEC_E_STORE_ANCHOR when it is missing. */
static int anchor_read(anchor *out, const char *line_dir, lsec_err *err)
{
	int rc = 0;
	lsec_buf text = LSEC_BUF_INIT(ANCHOR_MAX);
	json_t *j = NULL;
	char *path = anchor_path(line_dir);
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_ENSURE(access(path, F_OK) == 0, LSEC_E_STORE_ANCHOR,
		    "line folder '%s' has no " LSEC_LINE_ANCHOR
		    " (which registry is its own, its last checkpoint): restore it from the line "
		    "folder's backup",
		    line_dir);
	LSEC_TRY(lsec_file_read(&text, path, err));
	LSEC_TRY(lsec_json_parse(&j, text.data ? (const char *)text.data : "", text.len, path, err));
	const char *format = json_string_value(json_object_get(j, "format"));
	const char *reg = json_string_value(json_object_get(j, "registry"));
	LSEC_ENSURE(format != NULL && strcmp(format, ANCHOR_FORMAT) == 0, LSEC_E_PARSE,
		    "cannot read '%s': format must be '" ANCHOR_FORMAT "'", path);
	LSEC_ENSURE(reg != NULL && strlen(reg) == LSEC_STORE_ID_LEN, LSEC_E_PARSE,
		    "cannot read '%s': field 'registry' must be a registry id", path);
	snprintf(out->registry, sizeof(out->registry), "%s", reg);
	const json_t *cp = json_object_get(j, "checkpoint");
	if (cp == NULL) {
		goto out;
	}
	const json_t *size = json_object_get(cp, "tree_size");
	const char *root = json_string_value(json_object_get(cp, "root"));
	const char *note = json_string_value(json_object_get(cp, "note"));
	LSEC_ENSURE(json_is_integer(size) && json_integer_value(size) >= 0 && root != NULL &&
			    strlen(root) == 64 && note != NULL,
		    LSEC_E_PARSE, "cannot read '%s': field 'checkpoint' needs tree_size, root and note",
		    path);
	LSEC_TRY(lsec_hex_decode_fixed(out->root, 32, root, "checkpoint root", err));
	out->size = (uint64_t)json_integer_value(size);
	out->note = lsec_strdup(note);
	LSEC_ENSURE(out->note != NULL, LSEC_E_NOMEM, "out of memory");
	out->has_checkpoint = true;
out:
	if (rc < 0) {
		anchor_release(out);
	}
	json_decref(j);
	lsec_buf_release(&text);
	lsec_free(path);
	return rc;
}

/* Writes a (mode 0644, atomically; new: the file must not exist yet). */
static int anchor_write(const anchor *a, const char *line_dir, bool new_file, lsec_err *err)
{
	int rc = 0;
	char *text = NULL, *path = anchor_path(line_dir), hex[65];
	json_t *j = json_pack("{s:s,s:s}", "format", ANCHOR_FORMAT, "registry", a->registry);
	LSEC_ENSURE(j != NULL && path != NULL, LSEC_E_NOMEM, "out of memory");
	if (a->has_checkpoint) {
		lsec_hex_encode(hex, a->root, 32);
		LSEC_TRY(lsec_json_set(j, "checkpoint",
				       json_pack("{s:I,s:s,s:s}", "tree_size", (json_int_t)a->size,
						 "root", hex, "note", a->note),
				       err));
	}
	LSEC_TRY(lsec_json_canonical(&text, j, err));
	if (new_file) {
		LSEC_TRY(lsec_file_write_new(path, text, strlen(text), 0644, err));
	} else {
		LSEC_TRY(lsec_file_write_atomic(path, text, strlen(text), 0644, err));
	}
out:
	lsec_free(text);
	lsec_free(path);
	json_decref(j);
	return rc;
}

int lsec_line_anchor_create(const char *line_dir, lsec_store *st, lsec_err *err)
{
	int rc = 0;
	anchor a;
	memset(&a, 0, sizeof(a));
	LSEC_ENSURE_REF(line_dir);
	LSEC_ENSURE_REF(st);
	LSEC_TRY(lsec_store_registry_id(a.registry, st, err));
	LSEC_TRY(anchor_write(&a, line_dir, true, err));
out:
	return rc;
}

int lsec_line_anchor_check(lsec_store *st, const char *line_dir, lsec_err *err)
{
	int rc = 0;
	anchor a;
	char id[LSEC_STORE_ID_LEN + 1], hex[65];
	uint8_t root[32];
	uint64_t leaves = 0;
	lsec_err e = LSEC_ERR_INIT;
	memset(&a, 0, sizeof(a));
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(line_dir);
	LSEC_TRY(anchor_read(&a, line_dir, err));
	LSEC_TRY(lsec_store_registry_id(id, st, err));
	LSEC_ENSURE(strcmp(id, a.registry) == 0, LSEC_E_STORE_ANCHOR,
		    "registry of line '%s' is not this line's (id %.8s..., " LSEC_LINE_ANCHOR
		    " names %.8s...): restore this line's registry from its backup",
		    line_dir, id, a.registry);
	if (!a.has_checkpoint) {
		goto out;
	}
	LSEC_TRY(lsec_store_leaf_count(&leaves, st, err));
	LSEC_ENSURE(leaves >= a.size, LSEC_E_STORE_ANCHOR,
		    "registry of line '%s' is older than the last checkpoint this station signed: "
		    "%llu leaves, " LSEC_LINE_ANCHOR " has a checkpoint of %llu leaves; restore "
		    "the registry's latest backup",
		    line_dir, (unsigned long long)leaves, (unsigned long long)a.size);
	rc = lsec_store_checkpoint_get(root, NULL, st, a.size, &e);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_STORE_ANCHOR,
			  "registry of line '%s' was rewritten: it holds no checkpoint of %llu "
			  "leaves (" LSEC_LINE_ANCHOR "); restore the registry's latest backup",
			  line_dir, (unsigned long long)a.size);
	}
	if (rc < 0) {
		*err = e;
		goto out;
	}
	lsec_hex_encode(hex, a.root, 32);
	LSEC_ENSURE(lsec_ct_equal(root, a.root, 32), LSEC_E_STORE_ANCHOR,
		    "registry of line '%s' was rewritten: its checkpoint of %llu leaves differs "
		    "from " LSEC_LINE_ANCHOR " (root %.16s...); restore the registry's latest backup",
		    line_dir, (unsigned long long)a.size, hex);
out:
	anchor_release(&a);
	return rc;
}

/* ---- signing, exporting, anchoring ---------------------------------------------- */

/*
 * Writes note as dir/<size>.note unless that file already holds it.
 * LSEC_E_EXISTS when it holds something else: an exported note is never
 * replaced.
 */
static int export_note(const char *dir, uint64_t size, const char *note, lsec_err *err)
{
	int rc = 0;
	char *path = NULL;
	lsec_buf old = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX + 1);
	LSEC_TRY(lsec_mkdir_p(dir, 0750, err));
	path = lsec_asprintf("%s/%llu.note", dir, (unsigned long long)size);
	LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
	if (access(path, F_OK) == 0) {
		LSEC_TRY(lsec_file_read(&old, path, err));
		LSEC_ENSURE(old.len == strlen(note) && memcmp(old.data, note, old.len) == 0, /* lint:ok: public note */
			    LSEC_E_EXISTS,
			    "cannot export the checkpoint of %llu leaves: '%s' already holds another "
			    "one (a checkpoint folder shared with another line?)",
			    (unsigned long long)size, path);
		goto out;
	}
	LSEC_TRY(lsec_file_write_atomic(path, note, strlen(note), 0644, err));
out:
	lsec_buf_release(&old);
	lsec_free(path);
	return rc;
}

/*
 * Records cp (and note) in line_dir's anchor unless it already names a
 * later checkpoint; the line folder is locked (flock) meanwhile, so
 * stations of one folder running in parallel never move it back.
 */
static int anchor_advance(const char *line_dir, const lsec_audit_checkpoint *cp,
			  const char *note, lsec_err *err)
{
	int rc = 0;
	anchor a;
	memset(&a, 0, sizeof(a));
	int fd = open(line_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	LSEC_ENSURE(fd >= 0, LSEC_E_IO, "cannot open line folder '%s': %s", line_dir,
		    strerror(errno));
	LSEC_ENSURE(flock(fd, LOCK_EX) == 0, LSEC_E_IO, "cannot lock line folder '%s': %s",
		    line_dir, strerror(errno));
	LSEC_TRY(anchor_read(&a, line_dir, err));
	if (a.has_checkpoint && a.size >= cp->size) {
		goto out;
	}
	lsec_free(a.note);
	a.note = lsec_strdup(note);
	LSEC_ENSURE(a.note != NULL, LSEC_E_NOMEM, "out of memory");
	a.has_checkpoint = true;
	a.size = cp->size;
	memcpy(a.root, cp->root, 32);
	LSEC_TRY(anchor_write(&a, line_dir, false, err));
out:
	if (fd >= 0) {
		close(fd); /* releases the lock */
	}
	anchor_release(&a);
	return rc;
}

int lsec_line_checkpoint_sign(char **note_out, lsec_store *st,
			      const lsec_line_checkpoint_options *o, lsec_err *err)
{
	int rc = 0;
	char *note = NULL, *dir = NULL;
	lsec_audit_checkpoint cp;
	if (note_out != NULL) {
		*note_out = NULL;
	}
	LSEC_ENSURE_REF(st);
	LSEC_ENSURE_REF(o);
	LSEC_ENSURE(o->version == 1, LSEC_E_USAGE, "cannot sign a checkpoint: options version %u",
		    o->version);
	LSEC_ENSURE(o->line_dir != NULL && o->line_id != NULL && o->key != NULL, LSEC_E_USAGE,
		    "cannot sign a checkpoint: line folder, line id and key are required");
	dir = o->export_dir != NULL ? lsec_strdup(o->export_dir)
				    : lsec_asprintf("%s/" LSEC_LINE_CHECKPOINTS, o->line_dir);
	LSEC_ENSURE(dir != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(lsec_audit_checkpoint_create(&note, st, o->line_id, o->key_name, o->key,
					      o->person, err));
	LSEC_TRY(lsec_audit_checkpoint_parse(&cp, note, strlen(note), err));
	LSEC_TRY(export_note(dir, cp.size, note, err));
	LSEC_TRY(anchor_advance(o->line_dir, &cp, note, err));
	if (note_out != NULL) {
		*note_out = note;
		note = NULL;
	}
out:
	lsec_free(note);
	lsec_free(dir);
	return rc;
}

int lsec_line_checkpoint(char **note_out, lsec_line *line, const struct evp_pkey_st *key,
			 const char *person, lsec_err *err)
{
	lsec_line_checkpoint_options o = LSEC_LINE_CHECKPOINT_OPTIONS_INIT;
	o.line_dir = line->dir;
	o.export_dir = line->checkpoint_dir;
	o.line_id = line->line_id;
	o.key_name = line->station;
	o.key = key;
	o.person = person;
	return lsec_line_checkpoint_sign(note_out, line->st, &o, err);
}

int lsec_line_checkpoint_now(lsec_line *line, const char *person, lsec_err *err)
{
	int rc = 0;
	lsec_key *key = NULL;
	LSEC_TRY(lsec_key_load_private(&key, line->key_path, NULL, err));
	LSEC_TRY(lsec_line_checkpoint(NULL, line, lsec_key_evp(key), person, err));
out:
	lsec_key_free(key);
	return rc;
}

/* ---- verifying against the anchor and the exported checkpoints ---------------- */

/* The stored checkpoint of cp's size has cp's root (what names the note: where). */
static int matches_log(lsec_store *st, const lsec_audit_checkpoint *cp, uint64_t leaves,
		       const char *where, lsec_err *err)
{
	int rc = 0;
	uint8_t root[32];
	lsec_err e = LSEC_ERR_INIT;
	LSEC_ENSURE(cp->size <= leaves, LSEC_E_AUDIT_TRUNCATED,
		    "%s covers %llu leaves but the log has %llu (the registry is an older copy, or "
		    "leaves were deleted)",
		    where, (unsigned long long)cp->size, (unsigned long long)leaves);
	rc = lsec_store_checkpoint_get(root, NULL, st, cp->size, &e);
	if (rc == LSEC_E_NOTFOUND) {
		LSEC_BAIL(LSEC_E_AUDIT_ROOT,
			  "%s (%llu leaves) is not in the registry, which holds no checkpoint of "
			  "that size: the log was rewritten",
			  where, (unsigned long long)cp->size);
	}
	if (rc < 0) {
		*err = e;
		goto out;
	}
	LSEC_ENSURE(lsec_ct_equal(root, cp->root, 32), LSEC_E_AUDIT_ROOT,
		    "%s (%llu leaves) differs from the registry's checkpoint of that size: the log "
		    "was rewritten",
		    where, (unsigned long long)cp->size);
out:
	return rc;
}

typedef struct exported_set {
	uint64_t *sizes;
	size_t n, cap;
} exported_set;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Whether size is in s (sorted with cmp_u64 once it is complete). */
static bool exported_has(const exported_set *s, uint64_t size)
{
	return s->n > 0 && bsearch(&size, s->sizes, s->n, sizeof(*s->sizes), cmp_u64) != NULL;
}

static int exported_add(exported_set *s, uint64_t size, lsec_err *err)
{
	int rc = 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		LSEC_ENSURE(cap <= EXPORTED_MAX, LSEC_E_LIMIT,
			    "cannot verify more than %d exported checkpoints at once", EXPORTED_MAX);
		uint64_t *v = lsec_realloc(s->sizes, cap * sizeof(*v));
		LSEC_ENSURE(v != NULL, LSEC_E_NOMEM, "out of memory");
		s->sizes = v;
		s->cap = cap;
	}
	s->sizes[s->n++] = size;
out:
	return rc;
}

static bool is_note_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && ((n > 5 && strcmp(name + n - 5, ".note") == 0) ||
				  (n > 11 && strcmp(name + n - 11, ".checkpoint") == 0));
}

typedef struct folder_ctx {
	lsec_line *line;
	const struct evp_pkey_st *const *pubs;
	size_t npubs;
	const char *dir;
	const exported_set *set;
} folder_ctx;

/* Every stored checkpoint this station signed must be in the folder. */
static int row_exported(void *ctx, uint64_t id, uint64_t tree_size, const uint8_t *root,
			const char *note, lsec_err *err)
{
	int rc = 0;
	folder_ctx *f = ctx;
	lsec_audit_checkpoint cp;
	lsec_err e = LSEC_ERR_INIT;
	(void)root;
	if (lsec_audit_checkpoint_verify_keys(&cp, note, strlen(note), f->line->station, f->pubs,
					      f->npubs, &e) < 0) {
		goto out; /* signed by another station sharing the registry */
	}
	LSEC_ENSURE(exported_has(f->set, tree_size), LSEC_E_AUDIT_NO_CHECKPOINT,
		    "checkpoint %llu (%llu leaves) signed by station '%s' is not in the checkpoint "
		    "folder '%s' (an exported checkpoint was deleted, or never written)",
		    (unsigned long long)id, (unsigned long long)tree_size, f->line->station, f->dir);
out:
	return rc;
}

static int verify_folder(size_t *count_out, lsec_line *line,
			 const struct evp_pkey_st *const *pubs, size_t npubs, const char *dir,
			 uint64_t leaves, lsec_err *err)
{
	int rc = 0;
	DIR *d = NULL;
	struct dirent *e;
	exported_set set = {NULL, 0, 0};
	lsec_buf text = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX + 1);
	char *path = NULL, origin[sizeof(((lsec_audit_checkpoint *)0)->origin)];
	char where[600];
	LSEC_TRY(lsec_audit_origin(origin, sizeof(origin), line->line_id, err));
	d = opendir(dir);
	LSEC_ENSURE(d != NULL, LSEC_E_IO, "cannot read checkpoint folder '%s': %s", dir,
		    strerror(errno));
	while ((e = readdir(d)) != NULL) {
		lsec_audit_checkpoint cp;
		lsec_err ve = LSEC_ERR_INIT;
		if (!is_note_name(e->d_name)) {
			continue;
		}
		lsec_free(path);
		path = lsec_asprintf("%s/%s", dir, e->d_name);
		LSEC_ENSURE(path != NULL, LSEC_E_NOMEM, "out of memory");
		snprintf(where, sizeof(where), "the exported checkpoint '%s'", path);
		lsec_buf_reset(&text);
		text.len = 0;
		LSEC_TRY(lsec_file_read(&text, path, err));
		LSEC_ENSURE(lsec_buf_cstr(&text, err) != NULL, LSEC_E_NOMEM, "out of memory");
		rc = lsec_audit_checkpoint_verify_keys(&cp, (const char *)text.data, text.len, NULL,
						       pubs, npubs, &ve);
		if (rc < 0) {
			LSEC_BAIL(rc, "%s is bad: %s", where, ve.msg);
		}
		LSEC_ENSURE(strcmp(cp.origin, origin) == 0, LSEC_E_AUDIT_SIGNATURE,
			    "%s is of the log '%s', not of this line's '%s'", where, cp.origin,
			    origin);
		LSEC_TRY(matches_log(line->st, &cp, leaves, where, err));
		LSEC_TRY(exported_add(&set, cp.size, err));
	}
	if (set.n > 1) {
		qsort(set.sizes, set.n, sizeof(*set.sizes), cmp_u64);
	}
	folder_ctx f = {line, pubs, npubs, dir, &set};
	LSEC_TRY(lsec_store_checkpoint_foreach(line->st, row_exported, &f, err));
	*count_out = set.n;
out:
	if (d != NULL) {
		closedir(d);
	}
	lsec_free(set.sizes);
	lsec_free(path);
	lsec_buf_release(&text);
	return rc;
}

int lsec_line_audit_verify(lsec_line_verify_report *out, lsec_line *line,
			   const struct evp_pkey_st *const *pubs, size_t npubs, const char *against,
			   lsec_err *err)
{
	return lsec_line__audit_verify(out, line, pubs, npubs, against, NULL, err);
}

int lsec_line_audit_verify_since(lsec_line_verify_report *out, lsec_line *line,
				 const struct evp_pkey_st *const *pubs, size_t npubs,
				 const lsec_audit_checkpoint *since, lsec_err *err)
{
	return lsec_line__audit_verify(out, line, pubs, npubs, NULL, since, err);
}

int lsec_line__audit_verify(lsec_line_verify_report *out, lsec_line *line,
			    const struct evp_pkey_st *const *pubs, size_t npubs, const char *against,
			    const lsec_audit_checkpoint *since, lsec_err *err)
{
	int rc = 0;
	struct stat sb;
	bool folder = false;
	anchor a;
	lsec_buf note = LSEC_BUF_INIT(LSEC_AUDIT_NOTE_MAX + 1);
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	LSEC_ENSURE_REF(line);
	if (against != NULL) {
		LSEC_ENSURE(stat(against, &sb) == 0, LSEC_E_NOTFOUND, "cannot read '%s': %s",
			    against, strerror(errno));
		folder = S_ISDIR(sb.st_mode);
		if (!folder) {
			LSEC_TRY(lsec_file_read(&note, against, err));
			LSEC_ENSURE(lsec_buf_cstr(&note, err) != NULL, LSEC_E_NOMEM,
				    "out of memory");
		}
	}
	/* One snapshot for the log, the anchor's checkpoint and the folder. */
	LSEC_TRY(lsec_store_tx_begin_read(&tx, line->st, err));
	LSEC_TRY(lsec_audit_verify_since(&out->log, line->st, line->line_id, pubs, npubs, since,
					 note.data != NULL ? (const char *)note.data : NULL,
					 note.len, err));
	LSEC_TRY(anchor_read(&a, line->dir, err));
	if (a.has_checkpoint) {
		lsec_audit_checkpoint cp;
		lsec_err e = LSEC_ERR_INIT;
		char where[600];
		snprintf(where, sizeof(where), "the last checkpoint this station signed ('%s/%s')",
			 line->dir, LSEC_LINE_ANCHOR);
		rc = lsec_audit_checkpoint_verify_keys(&cp, a.note, strlen(a.note), line->station,
						       pubs, npubs, &e);
		if (rc < 0) {
			LSEC_BAIL(rc, "%s is bad: %s", where, e.msg);
		}
		LSEC_ENSURE(cp.size == a.size && lsec_ct_equal(cp.root, a.root, 32),
			    LSEC_E_AUDIT_ROOT, "%s is bad: its size or root differs from its note",
			    where);
		LSEC_TRY(matches_log(line->st, &cp, out->log.leaves, where, err));
		out->anchored = true;
		out->anchored_size = a.size;
	}
	if (folder) {
		LSEC_TRY(verify_folder(&out->exported, line, pubs, npubs, against, out->log.leaves,
				       err));
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	anchor_release(&a);
	lsec_buf_release(&note);
	return rc;
}
