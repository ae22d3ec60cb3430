/* Files: bounded reads and crash-safe writes (temporary file, fsync, rename). */
#include "linesec/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int lsec_file_read(lsec_buf *out, const char *path, lsec_err *err)
{
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	LSEC_ENSURE(fd >= 0, LSEC_E_IO, "cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		uint8_t chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		LSEC_ENSURE(n >= 0, LSEC_E_IO, "cannot read '%s': %s", path, strerror(errno));
		if (n == 0) {
			break;
		}
		rc = lsec_buf_append(out, chunk, (size_t)n, err);
		lsec_wipe(chunk, (size_t)n);
		if (rc == LSEC_E_LIMIT) {
			LSEC_BAIL(LSEC_E_LIMIT, "cannot read '%s': larger than %zu bytes", path,
				  out->max);
		}
		LSEC_TRY(rc);
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static int write_all(int fd, const void *data, size_t len, const char *path, bool sync,
		     lsec_err *err)
{
	int rc = 0;
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		LSEC_ENSURE(n > 0, LSEC_E_IO, "cannot write '%s': %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	LSEC_ENSURE(!sync || fsync(fd) == 0, LSEC_E_IO, "cannot sync '%s': %s", path,
		    strerror(errno));
out:
	return rc;
}

/* fsync the folder holding path, so that a rename or create is durable. */
static int sync_parent(const char *path, lsec_err *err)
{
	int rc = 0;
	char *copy = lsec_strdup(path);
	int dfd = -1;
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	const char *dir = dirname(copy);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	LSEC_ENSURE(dfd >= 0, LSEC_E_IO, "cannot open folder '%s': %s", dir, strerror(errno));
	LSEC_ENSURE(fsync(dfd) == 0, LSEC_E_IO, "cannot sync folder '%s': %s", dir, strerror(errno));
out:
	if (dfd >= 0) {
		close(dfd);
	}
	lsec_free(copy);
	return rc;
}

/* The one atomic replace; sync: durable as well (the file, then its folder). */
static int replace(const char *path, const void *data, size_t len, unsigned mode, bool sync,
		   lsec_err *err)
{
	int rc = 0;
	int fd = -1;
	char *tmp = lsec_asprintf("%s.tmp.%ld", path, (long)getpid());
	LSEC_ENSURE(tmp != NULL, LSEC_E_NOMEM, "out of memory");
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	LSEC_ENSURE(fd >= 0, LSEC_E_IO, "cannot create '%s': %s", tmp, strerror(errno));
	LSEC_ENSURE(fchmod(fd, (mode_t)mode) == 0, LSEC_E_IO, "cannot set mode of '%s': %s", tmp,
		    strerror(errno));
	LSEC_TRY(write_all(fd, data, len, tmp, sync, err));
	close(fd);
	fd = -1;
	LSEC_ENSURE(rename(tmp, path) == 0, LSEC_E_IO, "cannot replace '%s': %s", path,
		    strerror(errno));
	if (sync) {
		LSEC_TRY(sync_parent(path, err));
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	if (rc < 0 && tmp != NULL) {
		(void)unlink(tmp);
	}
	lsec_free(tmp);
	return rc;
}

int lsec_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
			   lsec_err *err)
{
	return replace(path, data, len, mode, true, err);
}

int lsec_file_write_atomic_unsynced(const char *path, const void *data, size_t len,
				    unsigned mode, lsec_err *err)
{
	return replace(path, data, len, mode, false, err);
}

int lsec_file_write_new(const char *path, const void *data, size_t len, unsigned mode,
			lsec_err *err)
{
	int rc = 0;
	bool created = false;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	LSEC_ENSURE(fd >= 0, errno == EEXIST ? LSEC_E_EXISTS : LSEC_E_IO, "cannot create '%s': %s",
		    path, strerror(errno));
	created = true;
	LSEC_ENSURE(fchmod(fd, (mode_t)mode) == 0, LSEC_E_IO, "cannot set mode of '%s': %s", path,
		    strerror(errno));
	LSEC_TRY(write_all(fd, data, len, path, true, err));
	LSEC_TRY(sync_parent(path, err));
out:
	if (fd >= 0) {
		close(fd);
	}
	if (rc < 0 && created) {
		(void)unlink(path);
	}
	return rc;
}

/* Overwrites the open file fd with zeros from its start to its size, and syncs it. */
static int zero_fd(int fd, const char *path, lsec_err *err)
{
	int rc = 0;
	uint8_t zeros[512];
	struct stat st;
	memset(zeros, 0, sizeof(zeros));
	LSEC_ENSURE(fstat(fd, &st) == 0, LSEC_E_IO, "cannot read the size of '%s': %s", path,
		    strerror(errno));
	for (off_t done = 0; done < st.st_size;) {
		size_t chunk = (size_t)(st.st_size - done) < sizeof(zeros)
				       ? (size_t)(st.st_size - done)
				       : sizeof(zeros);
		ssize_t n = pwrite(fd, zeros, chunk, done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		LSEC_ENSURE(n > 0, LSEC_E_IO, "cannot overwrite '%s': %s", path,
			    n < 0 ? strerror(errno) : "no byte written");
		done += n;
	}
	LSEC_ENSURE(fsync(fd) == 0, LSEC_E_IO, "cannot sync '%s': %s", path, strerror(errno));
out:
	return rc;
}

int lsec_file_names_fd(const char *path, int fd)
{
	struct stat a, b;
	if (fstat(fd, &a) != 0) {
		return -1;
	}
	if (lstat(path, &b) != 0) {
		return errno == ENOENT ? 0 : -1;
	}
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 1 : 0;
}

int lsec_file_destroy_held(bool *gone, int fd, const char *path, bool failed, lsec_err *err)
{
	int rc = 0;
	struct stat st;
	int named, why;
	*gone = false;
	LSEC_ENSURE(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), LSEC_E_IO,
		    "cannot destroy '%s': not a regular file", path);
	named = lsec_file_names_fd(path, fd);
	why = errno;
	if (named == 0 && !failed) {
		*gone = true; /* taken (moved or removed): what path names now is not ours */
		goto out;
	}
	/* Ours, or a failure nobody may use, or no telling what the name holds: zeroed. */
	LSEC_TRY(zero_fd(fd, path, err));
	LSEC_ENSURE(named >= 0, LSEC_E_IO,
		    "cannot tell whether '%s' is still the file written (%s): it was overwritten "
		    "with zeros and its name left",
		    path, strerror(why));
	*gone = named == 0;
	if (named == 1) {
		LSEC_ENSURE(unlink(path) == 0 || errno == ENOENT, LSEC_E_IO,
			    "cannot remove '%s': %s", path, strerror(errno));
		LSEC_TRY(sync_parent(path, err));
	}
out:
	return rc;
}

/*
 * An unnamed file in path's folder (O_TMPFILE), or, where the file system
 * has none, the hidden ".<name>.part" beside path (*part_out names it).
 */
static int open_unnamed(int *fd_out, char **part_out, const char *path, unsigned mode,
			lsec_err *err)
{
	int rc = 0;
	char *copy = lsec_strdup(path), *slash;
	const char *dir = ".", *name;
	*fd_out = -1;
	*part_out = NULL;
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	slash = strrchr(copy, '/');
	name = copy;
	if (slash != NULL) {
		*slash = '\0';
		dir = copy[0] != '\0' ? copy : "/";
		name = slash + 1;
	}
	/* An unnamed file is linked through /proc/self/fd: without /proc, the part file. */
	if (access("/proc/self/fd", X_OK) == 0) {
		*fd_out = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
		if (*fd_out >= 0) {
			goto out;
		}
		LSEC_ENSURE(errno == EOPNOTSUPP || errno == EISDIR, LSEC_E_IO,
			    "cannot create a file in folder '%s': %s", dir, strerror(errno));
	}
	LSEC_ENSURE((*part_out = lsec_asprintf("%s/.%s.part", dir, name)) != NULL, LSEC_E_NOMEM,
		    "out of memory");
	*fd_out = open(*part_out, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	LSEC_ENSURE(*fd_out >= 0, errno == EEXIST ? LSEC_E_EXISTS : LSEC_E_IO,
		    "cannot create '%s': %s", *part_out, strerror(errno));
out:
	if (rc < 0) {
		lsec_free(*part_out);
		*part_out = NULL;
	}
	lsec_free(copy);
	return rc;
}

/* Gives the unnamed file fd (or part) the name path; never replaces one. */
static int link_unnamed(int fd, const char *part, const char *path, lsec_err *err)
{
	int rc = 0;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	LSEC_ENSURE(part != NULL ? link(part, path) == 0
				 : linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0,
		    errno == EEXIST ? LSEC_E_EXISTS : LSEC_E_IO, "cannot create '%s': %s", path,
		    strerror(errno));
out:
	return rc;
}

int lsec_file_publish_held(int *fd_out, const char *path, const void *data, size_t len,
			   unsigned mode, lsec_err *err)
{
	int rc = 0;
	int fd = -1;
	char *part = NULL;
	*fd_out = -1;
	LSEC_TRY(open_unnamed(&fd, &part, path, mode, err));
	/* Held from the start: a sweep (LOCK_EX | LOCK_NB) leaves a held file alone. */
	LSEC_ENSURE(flock(fd, LOCK_SH | LOCK_NB) == 0, LSEC_E_IO, "cannot lock the new '%s': %s",
		    path, strerror(errno));
	LSEC_ENSURE(fchmod(fd, (mode_t)mode) == 0, LSEC_E_IO, "cannot set mode of '%s': %s", path,
		    strerror(errno));
	LSEC_TRY(write_all(fd, data, len, path, true, err));
	LSEC_TRY(link_unnamed(fd, part, path, err));
	LSEC_ENSURE(part == NULL || unlink(part) == 0, LSEC_E_IO, "cannot remove '%s': %s", part,
		    strerror(errno));
	LSEC_TRY(sync_parent(path, err));
	*fd_out = fd;
	fd = -1;
out:
	if (fd >= 0) {
		/* Failed: nothing of it stays, under either name, for a reader to find. */
		lsec_err ignored = LSEC_ERR_INIT;
		bool gone = false;
		if (lsec_file_destroy_held(&gone, fd, path, true, &ignored) < 0) {
			/* best effort: the error reported is the first one */
		}
		if (part != NULL) {
			(void)unlink(part);
		}
		close(fd);
	}
	lsec_free(part);
	return rc;
}

int lsec_mkdir_p(const char *path, unsigned mode, lsec_err *err)
{
	int rc = 0;
	char *p = lsec_strdup(path);
	LSEC_ENSURE(p != NULL, LSEC_E_NOMEM, "out of memory");
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
				LSEC_BAIL(LSEC_E_IO, "cannot create folder '%s': %s", p,
					  strerror(errno));
			}
			*s = c;
			if (c == 0) {
				break;
			}
		}
	}
	struct stat st;
	LSEC_ENSURE(stat(path, &st) == 0 && S_ISDIR(st.st_mode), LSEC_E_IO,
		    "cannot create folder '%s': not a folder", path);
out:
	lsec_free(p);
	return rc;
}

int lsec_sha256(uint8_t out[32], const void *data, size_t len, lsec_err *err)
{
	int rc = 0;
	unsigned int n = 0;
	LSEC_TRY_OSSL(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), LSEC_E_CRYPTO,
		      "cannot compute SHA-256");
out:
	return rc;
}
