/*
 * sandbox/workdir.c - mounting the agent's tmpfs working directory and
 * resolving the job's cwd below it without following symlinks (workdir.h).
 */
#include "workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#define MOUNT_OPTS_BYTES 128

/* The mount point: a real directory, created if missing, never a symlink. */
static int check_mount_point(const char *path, struct wd_err *err)
{
	struct stat st;

	if (path[0] != '/')
		return wd_err_set(err, EINVAL, "workdir %s: not an absolute path", path);
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return wd_err_sys(err, errno, "workdir %s: lstat", path);
		if (mkdir(path, SUP_WORKDIR_MODE) < 0)
			return wd_err_sys(err, errno, "workdir %s: mkdir", path);
		if (lstat(path, &st) < 0)
			return wd_err_sys(err, errno, "workdir %s: lstat", path);
	}
	if (S_ISLNK(st.st_mode))
		return wd_err_set(err, ELOOP, "workdir %s: a symbolic link", path);
	if (!S_ISDIR(st.st_mode))
		return wd_err_set(err, ENOTDIR, "workdir %s: not a directory", path);
	return 0;
}

int sup_workdir_mount(const char *path, uint64_t size_mib, uid_t uid, gid_t gid, int *dirfd,
		      struct wd_err *err)
{
	char opts[MOUNT_OPTS_BYTES];
	struct statfs sfs;
	struct stat st;
	int fd;

	*dirfd = -1;
	if (check_mount_point(path, err) < 0)
		return -err->code;
	(void)snprintf(opts, sizeof(opts), "size=%" PRIu64 "m,mode=%o,uid=%u,gid=%u", size_mib,
		       SUP_WORKDIR_MODE, (unsigned)uid, (unsigned)gid);
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return wd_err_sys(err, errno, "workdir %s: mount tmpfs (%s)", path, opts);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wd_err_sys(err, errno, "workdir %s: open", path);
	/* What we opened must be the mount just made, not something swapped in. */
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "workdir %s: stat", path);
	}
	if (sfs.f_type != TMPFS_MAGIC || st.st_uid != uid || st.st_gid != gid) {
		(void)close(fd);
		return wd_err_set(err, EXDEV, "workdir %s: not the tmpfs just mounted", path);
	}
	*dirfd = fd;
	return 0;
}

int sup_workdir_open_dir(int dirfd, const char *rel, int *fd, struct wd_err *err)
{
	const char *p = rel;
	int cur;

	*fd = -1;
	if (rel[0] == '/')
		return wd_err_set(err, EINVAL, "cwd '%s': absolute", rel);
	cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return wd_err_sys(err, errno, "cwd: open the working directory");
	while (*p != '\0') {
		char name[NAME_MAX + 1];
		size_t n = strcspn(p, "/");
		int next;

		if (n > NAME_MAX) {
			(void)close(cur);
			return wd_err_set(err, ENAMETOOLONG, "cwd '%s': a component over %d bytes",
					  rel, NAME_MAX);
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (*p == '/')
			p++;
		if (n == 0 || strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			(void)close(cur);
			return wd_err_set(err, EINVAL, "cwd '%s': a '..' component", rel);
		}
		next = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;

			(void)close(cur);
			return wd_err_sys(err, e, "cwd '%s': %s", rel, name);
		}
		(void)close(cur);
		cur = next;
	}
	*fd = cur;
	return 0;
}
