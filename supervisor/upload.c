/*
 * supervisor/upload.c - writing and verifying one uploaded file (upload.h).
 */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/tlog.h"
#include "measure.h"

int sup_upload_begin(struct sup_upload *u, int dirfd, const struct wd_job_file *file, uid_t uid,
		     gid_t gid, struct wd_err *err)
{
	const char *name = file->name;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->file = file;
	/* The decoder checked this already; creating a file is where it matters. */
	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return wd_err_set(err, EINVAL, "file '%s': not one path component",
				  name != NULL ? name : "");
	u->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		       0);
	if (u->fd < 0)
		return wd_err_sys(err, errno, "file %s: create", name);
	if (fchown(u->fd, uid, gid) < 0)
		return wd_err_sys(err, errno, "file %s: chown", name);
	wd_sha256_init(&u->sha);
	return 0;
}

int sup_upload_write(struct sup_upload *u, const uint8_t *p, size_t n, struct wd_err *err)
{
	int rc;

	if (n > u->file->size - u->got)
		return wd_err_set(err, E2BIG, "file %s: more than the %llu bytes declared",
				  u->file->name, (unsigned long long)u->file->size);
	rc = wd_write_all(u->fd, p, n);
	if (rc < 0)
		return wd_err_sys(err, -rc, "file %s: write", u->file->name);
	wd_sha256_update(&u->sha, p, n);
	u->got += n;
	return 0;
}

int sup_upload_finish(struct sup_upload *u, struct wd_err *err)
{
	uint8_t digest[SUP_SHA256_BYTES];
	char hex[WD_SHA256_HEX];
	int fd = u->fd;

	if (u->got != u->file->size)
		return wd_err_set(err, EBADMSG, "file %s: %llu bytes, %llu declared", u->file->name,
				  (unsigned long long)u->got, (unsigned long long)u->file->size);
	wd_sha256_final(&u->sha, digest);
	wd_hex(digest, sizeof(digest), hex);
	if (strcmp(hex, u->file->sha256) != 0)
		return wd_err_set(err, EBADMSG, "file %s: SHA-256 %s, %s declared", u->file->name,
				  hex, u->file->sha256);
	if (fchmod(fd, (mode_t)(u->file->mode & 0777)) < 0)
		return wd_err_sys(err, errno, "file %s: chmod", u->file->name);
	u->fd = -1;
	if (close(fd) < 0)
		return wd_err_sys(err, errno, "file %s: close", u->file->name);
	return 0;
}

void sup_upload_abort(struct sup_upload *u)
{
	if (u->fd >= 0)
		(void)close(u->fd);
	u->fd = -1;
}
