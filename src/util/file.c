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

static int write_all(int fd, const void *data, size_t len, const char *path, lsec_err *err)
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
	LSEC_ENSURE(fsync(fd) == 0, LSEC_E_IO, "cannot sync '%s': %s", path, strerror(errno));
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

int lsec_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
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
	LSEC_TRY(write_all(fd, data, len, tmp, err));
	close(fd);
	fd = -1;
	LSEC_ENSURE(rename(tmp, path) == 0, LSEC_E_IO, "cannot replace '%s': %s", path,
		    strerror(errno));
	LSEC_TRY(sync_parent(path, err));
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
	LSEC_TRY(write_all(fd, data, len, path, err));
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

/* Overwrites the open file fd (of len bytes) with zeros; best effort. */
static void zero_fd(int fd, size_t len)
{
	uint8_t zeros[512];
	memset(zeros, 0, sizeof(zeros));
	if (lseek(fd, 0, SEEK_SET) != 0) {
		return;
	}
	while (len > 0) {
		size_t chunk = len < sizeof(zeros) ? len : sizeof(zeros);
		ssize_t n = write(fd, zeros, chunk);
		if (n <= 0) {
			return;
		}
		len -= (size_t)n;
	}
	(void)fsync(fd);
}

int lsec_file_publish_held(int *fd_out, const char *path, const void *data, size_t len,
			   unsigned mode, lsec_err *err)
{
	int rc = 0;
	int fd = -1;
	char *copy = lsec_strdup(path), *part = NULL, *slash;
	bool linked = false;
	*fd_out = -1;
	LSEC_ENSURE(copy != NULL, LSEC_E_NOMEM, "out of memory");
	slash = strrchr(copy, '/');
	if (slash != NULL) {
		*slash = '\0';
		part = lsec_asprintf("%s/.%s.part", copy, slash + 1);
	} else {
		part = lsec_asprintf(".%s.part", copy);
	}
	LSEC_ENSURE(part != NULL, LSEC_E_NOMEM, "out of memory");
	fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	LSEC_ENSURE(fd >= 0, errno == EEXIST ? LSEC_E_EXISTS : LSEC_E_IO, "cannot create '%s': %s",
		    part, strerror(errno));
	/* Held from the start: a sweep (LOCK_EX | LOCK_NB) leaves a held file alone. */
	LSEC_ENSURE(flock(fd, LOCK_SH | LOCK_NB) == 0, LSEC_E_IO,
		    "cannot hold '%s': another process locked it as it was created", part);
	LSEC_ENSURE(fchmod(fd, (mode_t)mode) == 0, LSEC_E_IO, "cannot set mode of '%s': %s", part,
		    strerror(errno));
	LSEC_TRY(write_all(fd, data, len, part, err));
	LSEC_ENSURE(link(part, path) == 0, errno == EEXIST ? LSEC_E_EXISTS : LSEC_E_IO,
		    "cannot create '%s': %s", path, strerror(errno));
	linked = true;
	LSEC_ENSURE(unlink(part) == 0, LSEC_E_IO, "cannot remove '%s': %s", part, strerror(errno));
	LSEC_TRY(sync_parent(path, err));
	*fd_out = fd;
	fd = -1;
out:
	if (fd >= 0) {
		if (!linked) {
			zero_fd(fd, len); /* the reader never saw it: nothing of it stays */
			(void)unlink(part);
		}
		close(fd);
	}
	lsec_free(part);
	lsec_free(copy);
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
