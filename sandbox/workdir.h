/*
 * sandbox/workdir.h - the agent's working directory.
 *
 * A fresh tmpfs on WARDEN_WORKDIR for every job: size-capped, nosuid and
 * nodev (not noexec: the agent runs the files it was given), owned by the
 * agent. Nothing on the way is a symlink: the mount point is checked with
 * lstat (created if missing), the directory is opened with O_NOFOLLOW and
 * checked to be the new tmpfs, and the job's cwd is resolved one component
 * at a time below it with O_NOFOLLOW, never climbing out ("..").
 * Runs as root before any untrusted process exists.
 */
#ifndef WARDEN_SANDBOX_WORKDIR_H
#define WARDEN_SANDBOX_WORKDIR_H

#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"

#define SUP_WORKDIR_DEFAULT_MIB 256 /* size cap when the job names no memory limit */
#define SUP_WORKDIR_MODE 0755

/*
 * Mount the tmpfs on `path` (absolute) with a cap of size_mib MiB, owned
 * by uid:gid, and open it: *dirfd is an O_DIRECTORY fd, close-on-exec.
 */
int sup_workdir_mount(const char *path, uint64_t size_mib, uid_t uid, gid_t gid, int *dirfd,
		      struct wd_err *err);

/*
 * Open the directory `rel` below `dirfd` ("" or "." is dirfd itself) as an
 * O_PATH fd for fchdir(): every component must be an existing directory,
 * not a symlink; ".." and absolute paths are refused (EINVAL).
 */
int sup_workdir_open_dir(int dirfd, const char *rel, int *fd, struct wd_err *err);

#endif
