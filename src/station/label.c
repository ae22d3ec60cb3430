/*
 * label.c - the identity label carrying a unit's initial credential: its
 * delivery to the label printer's spool folder, the spooler's acceptance
 * (it takes the file), the operator's scan of the printed serial when a
 * terminal is attached, and the sweep of labels a killed run left behind.
 *
 * @test tests/e2e/test_label.sh
 */
#include "station/station_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <jansson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often the station looks whether the spooler took a label. */
#define POLL_MS 50

static char *spool_dir(const lsec_station_config *c)
{
	return c->label_dir != NULL ? lsec_strdup(c->label_dir)
				    : lsec_asprintf("%s/labels", c->line_dir);
}

/*
 * The spool folder may be written by the station's user and the printer
 * daemon's group, never by everyone: whoever can remove a label from it can
 * fake the printer's acceptance (a label gone is a label taken).
 */
static int spool_check(const char *dir, lsec_err *err)
{
	int rc = 0;
	struct stat sb;
	LSEC_ENSURE(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode), LSEC_E_IO, "'%s' is not a folder",
		    dir);
	LSEC_ENSURE((sb.st_mode & S_IWOTH) == 0, LSEC_E_STATION_CONFIG,
		    "the folder is writable by every user (mode %04o): anyone could remove a label "
		    "and so fake the printer's acceptance; let only the station's user and the "
		    "printer daemon's group write it (chmod o-w)",
		    (unsigned)(sb.st_mode & 07777));
	LSEC_ENSURE(sb.st_uid == geteuid() || sb.st_uid == 0, LSEC_E_STATION_CONFIG,
		    "the folder belongs to user id %u, neither the station's (%u) nor root",
		    (unsigned)sb.st_uid, (unsigned)geteuid());
out:
	return rc;
}

/*
 * Writes <spool>/<serial>.label (mode 0640: the printer daemon reads it as a
 * member of the folder's group, nobody else). The file appears complete and
 * is held with a shared lock from its creation (*lock_fd) while the run
 * waits, so a sweep by another run or station leaves it alone; nothing here
 * waits on a lock, so no run holding the registry can stall a sweep that
 * waits for the registry (or the reverse).
 */
static int label_deliver(char **path_out, int *lock_fd, const char *dir, lsec_station__run *r,
			 lsec_err *err)
{
	int rc = 0;
	*path_out = NULL;
	*lock_fd = -1;
	LSEC_TRY(lsec_mkdir_p(dir, 0750, err));
	LSEC_TRY(spool_check(dir, err));
	LSEC_TRY(lsec_cred_label_write_mode(path_out, lock_fd, dir, r->serial, r->credential, 0640,
					    err));
out:
	if (rc != 0) {
		char inner[sizeof(err->msg)];
		snprintf(inner, sizeof(inner), "%s", err->msg);
		lsec_err_set(err, rc, __FILE__, __LINE__,
			     "the identity label of unit '%s' could not be delivered to the label "
			     "printer's folder '%s': %s",
			     r->serial, dir, inner);
	}
	return rc;
}

/*
 * Waits up to seconds for the spooler to take the label held as fd: path no
 * longer names it (removed, or moved away). Woken by the folder's change
 * (inotify) the moment the spooler takes it, and looking every POLL_MS
 * anyway: a spooler on another machine (a network folder) is seen by no
 * local notification. *ms: how long it took.
 */
static bool label_wait(int fd, const char *dir, const char *path, unsigned seconds,
		       uint64_t *ms)
{
	uint64_t start = lsec_time_mono_ms(), limit = (uint64_t)seconds * 1000u;
	struct pollfd pfd = {inotify_init1(IN_NONBLOCK | IN_CLOEXEC), POLLIN, 0};
	bool taken = false;
	if (pfd.fd >= 0 && inotify_add_watch(pfd.fd, dir, IN_DELETE | IN_MOVED_FROM) < 0) {
		close(pfd.fd);
		pfd.fd = -1; /* poll() then only sleeps */
	}
	for (;;) {
		char events[4096];
		*ms = lsec_time_mono_ms() - start;
		if (lsec_file_names_fd(path, fd) == 0) {
			taken = true;
			break;
		}
		if (*ms >= limit) {
			break;
		}
		if (poll(&pfd, 1, (int)(limit - *ms < POLL_MS ? limit - *ms : POLL_MS)) > 0) {
			while (read(pfd.fd, events, sizeof(events)) > 0) {
				/* drained: whatever changed, the name is looked at again */
			}
		}
	}
	if (pfd.fd >= 0) {
		close(pfd.fd);
	}
	return taken;
}

/* Not batch: the operator scans the serial printed on the label; it must be the unit's. */
static int label_scan(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const lsec_station_config *c = r->st->cfg;
	char prompt[256], got[128] = "";
	size_t n;
	LSEC_ENSURE(c->label_scan != NULL, LSEC_E_STATION_NOT_CONFIRMED,
		    "the identity label of unit '%s' was printed and nobody can scan it on the "
		    "unit: no terminal is attached",
		    r->serial);
	snprintf(prompt, sizeof(prompt),
		 "Stick the printed identity label on unit %s, then scan (or type) the serial "
		 "printed on it",
		 r->serial);
	LSEC_TRY(c->label_scan(c->confirm_ctx, r->person, prompt, got, sizeof(got), err));
	n = strnlen(got, sizeof(got));
	while (n > 0 && (got[n - 1] == '\n' || got[n - 1] == '\r' || got[n - 1] == ' ')) {
		got[--n] = '\0';
	}
	LSEC_ENSURE(lsec_station__eq(got, r->serial), LSEC_E_STATION_NOT_CONFIRMED,
		    "the identity label of unit '%s' was not confirmed on the unit by '%s': the "
		    "serial scanned from the label was '%s'",
		    r->serial, r->person, got);
	LSEC_TRY(lsec_station__ev_str(r, "label-confirmed-by", r->person, err));
	LSEC_TRY(lsec_station__ev_str(r, "label-confirm", "serial-scanned", err));
out:
	return rc;
}

int lsec_station__label_credential(lsec_station__run *r, lsec_err *err)
{
	int rc = 0;
	const lsec_station_config *c = r->st->cfg;
	unsigned secs = c->label_accept_seconds != 0 ? c->label_accept_seconds
						     : LSEC_LINE_LABEL_ACCEPT_SECONDS;
	char *dir = spool_dir(c), *path = NULL;
	int fd = -1;
	uint64_t ms = 0;
	bool taken = false;
	char at[32];
	LSEC_ENSURE(dir != NULL, LSEC_E_NOMEM, "out of memory");
	LSEC_TRY(label_deliver(&path, &fd, dir, r, err));
	taken = label_wait(fd, dir, path, secs, &ms);
	if (!taken) {
		/* Through the held file: whatever the name holds by now is never touched. */
		LSEC_TRY(lsec_file_destroy_held(&taken, fd, path, false, err));
	}
	LSEC_ENSURE(taken, LSEC_E_STATION_NOT_CONFIRMED,
		    "the identity label of unit '%s' was not taken by the label printer from '%s' "
		    "within %u s (labels.accept_seconds): the file was overwritten and removed",
		    r->serial, path, secs);
	lsec_time_utc(at);
	LSEC_TRY(lsec_station__ev_str(r, "label-accepted", "spooler-took-file", err));
	LSEC_TRY(lsec_station__ev_str(r, "label-accepted-at", at, err));
	LSEC_TRY(lsec_station__ev_int(r, "label-accept-ms", (int64_t)ms, err));
	if (!c->batch) {
		LSEC_TRY(label_scan(r, err));
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	lsec_free(path);
	lsec_free(dir);
	return rc;
}

/*
 * Whether the log shows unit serial with a credential generated by a run and
 * no accepted label since: a label file of it is a killed run's leftover.
 */
static int label_orphaned(bool *out, lsec_store *store, const char *serial, lsec_err *err)
{
	int rc = 0;
	json_t *leaves = NULL, *l;
	size_t i;
	*out = false;
	LSEC_TRY(lsec_station__unit_leaves(&leaves, store, serial, err));
	json_array_foreach(leaves, i, l)
	{
		const char *a = json_string_value(json_object_get(l, "action"));
		json_t *ev = json_object_get(l, "evidence");
		if (!lsec_station__eq(json_string_value(json_object_get(l, "outcome")), "passed")) {
			continue;
		}
		if (lsec_station__eq(a, "credential.generate")) {
			*out = true;
		} else if (lsec_station__eq(a, "label.print") &&
			   json_is_true(json_object_get(ev, "carries-credential"))) {
			*out = false;
		}
	}
out:
	json_decref(leaves);
	return rc;
}

/* A label file is small: a serial and a password. */
#define LABEL_MAX 4096

/*
 * Whether the file open as fd (sb: its fstat) is a label of unit serial as
 * this station writes them: at most LABEL_MAX bytes starting
 * "serial: <serial>\n", and no other name but its own or, left by a run
 * killed between the two names of a part-file publish, the other of
 * "<serial>.label" and ".<serial>.label.part" (*sibling, lsec_free, names it
 * then). A hard link to any other file the station owns is never a label.
 */
static bool is_label(char **sibling, int fd, const struct stat *sb, const char *dir,
		     const char *serial, bool part)
{
	char head[LSEC_STORE_NAME_MAX + 16];
	int n = snprintf(head, sizeof(head), "serial: %s\n", serial);
	char got[sizeof(head)];
	*sibling = NULL;
	if (sb->st_size > LABEL_MAX || sb->st_size < n || n <= 0 || (size_t)n >= sizeof(head) ||
	    pread(fd, got, (size_t)n, 0) != n ||
	    memcmp(got, head, (size_t)n) != 0) { /* lint:ok: the serial line, public */
		return false;
	}
	if (sb->st_nlink == 1) {
		return true;
	}
	*sibling = part ? lsec_asprintf("%s/%s.label", dir, serial)
			: lsec_asprintf("%s/.%s.label.part", dir, serial);
	if (sb->st_nlink == 2 && *sibling != NULL && lsec_file_names_fd(*sibling, fd) == 1) {
		return true;
	}
	lsec_free(*sibling);
	*sibling = NULL;
	return false;
}

/*
 * Sweeps one leftover label: a regular file of the station's user, named
 * after a unit the log shows with a credential no accepted label carried,
 * that nobody holds. Anything else under a label's name (a FIFO, a link, a
 * file of another user, a name that is no unit of this log) is left alone
 * and never waited on: it holds no credential of this line, and nothing is
 * recorded of it.
 */
static int sweep_one(lsec_station *st, const char *dir, const char *name, lsec_err *err)
{
	int rc = 0;
	char serial[LSEC_STORE_NAME_MAX + 1];
	size_t n = strlen(name);
	char *path = NULL, *sibling = NULL;
	int fd = -1;
	bool orphan = false, gone = false;
	struct stat sb;
	json_t *ev = NULL;
	lsec_audit_event e;
	lsec_store_tx tx = LSEC_STORE_TX_INIT;
	lsec_err ignored = LSEC_ERR_INIT;
	/* "<serial>.label", or ".<serial>.label.part": a run killed while writing one. */
	bool part = n > 12 && name[0] == '.' && lsec_station__eq(name + n - 11, ".label.part");
	size_t skip = part ? 1 : 0, tail = part ? 11 : 6;
	if (n <= skip + tail || n - skip - tail > LSEC_STORE_NAME_MAX ||
	    (!part && !lsec_station__eq(name + n - 6, ".label"))) {
		goto out;
	}
	memcpy(serial, name + skip, n - skip - tail);
	serial[n - skip - tail] = '\0';
	if (lsec_ident_check(serial, "unit serial", &ignored) != 0) {
		goto out;
	}
	LSEC_ENSURE((path = lsec_asprintf("%s/%s", dir, name)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	/* The file first (no registry read for what is no label), then the log. */
	fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	/* Read before locking: a part file still empty is a writer's, and never locked here. */
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    !is_label(&sibling, fd, &sb, dir, serial, part) || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		goto out; /* gone, not a label this station wrote, or a live run still waits */
	}
	LSEC_TRY(label_orphaned(&orphan, st->store, serial, err));
	if (!orphan) {
		goto out;
	}
	ev = json_pack("{s:s,s:s}", "file", name, "reason",
		       "a label of a credential with no accepted label, left by an interrupted "
		       "run: overwritten and removed; the unit is not shipped with it");
	LSEC_ENSURE(ev != NULL, LSEC_E_NOMEM, "out of memory");
	memset(&e, 0, sizeof(e));
	e.person = st->cfg->operator_name;
	e.station = st->cfg->station_id;
	e.unit = serial;
	e.action = "label.sweep";
	e.outcome = "ok";
	e.evidence = ev;
	/* The leaf and the destruction: one transaction (a file left stays to be swept). */
	LSEC_TRY(lsec_store_tx_begin(&tx, st->store, err));
	LSEC_TRY(lsec_audit_record(NULL, st->store, &e, err));
	LSEC_TRY(lsec_file_destroy_held(&gone, fd, path, false, err));
	LSEC_ENSURE(!gone, LSEC_E_STATE, "the label file '%s' went while it was swept", path);
	if (sibling != NULL && lsec_file_names_fd(sibling, fd) == 1) {
		LSEC_ENSURE(unlink(sibling) == 0 || errno == ENOENT, LSEC_E_IO,
			    "cannot remove '%s': %s", sibling, strerror(errno));
	}
out:
	rc = lsec_store_tx_end(&tx, rc, err);
	if (gone && rc == LSEC_E_STATE) {
		rc = 0; /* gone meanwhile: nothing left to sweep, nothing recorded */
	}
	if (fd >= 0) {
		close(fd);
	}
	json_decref(ev);
	lsec_free(sibling);
	lsec_free(path);
	return rc;
}

int lsec_station__label_sweep(lsec_station *st, lsec_err *err)
{
	int rc = 0;
	char *dir = NULL;
	DIR *d = NULL;
	struct dirent *de;
	if (st->station_key == NULL) {
		goto out; /* a station without its key writes nothing */
	}
	LSEC_ENSURE((dir = spool_dir(st->cfg)) != NULL, LSEC_E_NOMEM, "out of memory");
	d = opendir(dir);
	if (d == NULL) {
		goto out; /* no spool folder yet: nothing was left there */
	}
	/* A label being written or waiting is held (LOCK_SH) by its run from creation: skipped. */
	while ((de = readdir(d)) != NULL) {
		LSEC_TRY(sweep_one(st, dir, de->d_name, err));
	}
out:
	if (d != NULL) {
		closedir(d);
	}
	lsec_free(dir);
	return rc;
}
