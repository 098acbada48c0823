/*
 * host/rootfs.c - the entry points of rootfs.h and the tar source: each tar
 * entry's names are judged (rootfs_norm) and the entry handed to the rules
 * (rootfs_rules.c); a directory source is rootfs_dir.c.
 */
#include "rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs_stage.h"
#include "tarread.h"

/* ---- the tar source ------------------------------------------------------ */

static int tar_reader(void *ctx, void *buf, size_t n, size_t *got, struct wd_err *err)
{
	return wd_tar_read(ctx, buf, n, got, err);
}

/* One tar entry as a stage item: its names judged, its type mapped. */
static int tar_entry(struct stage *st, struct wd_tar *t, const struct wd_tar_entry *e, char *rel,
		     char *link_rel, struct wd_err *err)
{
	struct stage_item it = {
		.rel = rel,
		.type = (char)e->type,
		.mode = e->mode,
		.uid = e->uid,
		.gid = e->gid,
		.link = e->link,
		.devmajor = e->devmajor,
		.devminor = e->devminor,
		.has_caps = e->has_caps,
		.size = e->size,
		.read = tar_reader,
		.read_ctx = t,
	};
	const char *why;
	bool slash;

	if (rootfs_norm(e->path, rel, &slash, &why) < 0)
		return wd_err_set(err, EINVAL, "entry %s (header at byte %llu): %s", e->path,
				  (unsigned long long)e->header_offset, why);
	if (slash && e->type != WD_TAR_DIR)
		return wd_err_set(err, EINVAL,
				  "entry %s (header at byte %llu): a name ending in "
				  "'/' that is not a directory",
				  e->path, (unsigned long long)e->header_offset);
	if (e->type == WD_TAR_HARDLINK) {
		if (rootfs_norm(e->link, link_rel, &slash, &why) < 0)
			return wd_err_set(err, EINVAL,
					  "entry %s (header at byte %llu): hard link target %s: %s",
					  e->path, (unsigned long long)e->header_offset, e->link,
					  why);
		it.link = link_rel;
	}
	return stage_add(st, &it, err);
}

static int stage_tar_stream(struct stage *st, int fd, struct wd_err *err)
{
	struct wd_tar *t = NULL;
	struct wd_tar_entry *e = malloc(sizeof(*e));
	char *rel = malloc(2 * ((size_t)WD_ROOTFS_PATH_MAX + 1));
	int rc;

	if (e == NULL || rel == NULL) {
		free(e);
		free(rel);
		return wd_err_sys(err, ENOMEM, "tar entry");
	}
	rc = wd_tar_open(fd, &t, err);
	while (rc == 0) {
		rc = wd_tar_next(t, e, err);
		if (rc <= 0)
			break;
		rc = tar_entry(st, t, e, rel, rel + WD_ROOTFS_PATH_MAX + 1, err);
	}
	if (rc == 0)
		rc = wd_tar_finish(t, st->rep->source_sha256, err);
	wd_tar_close(t);
	free(e);
	free(rel);
	return rc;
}

/* ---- entry points -------------------------------------------------------- */

/* The staging directory must be a directory, empty, and writable by its owner only. */
static int check_stage_dir(int fd, struct wd_err *err)
{
	struct stat sb;
	DIR *d;
	const struct dirent *de;
	bool empty = true;

	if (fstat(fd, &sb) < 0)
		return wd_err_sys(err, errno, "staging directory");
	if (!S_ISDIR(sb.st_mode))
		return wd_err_set(err, ENOTDIR, "staging directory: not a directory");
	if ((sb.st_mode & 022) != 0 || sb.st_uid != geteuid())
		return wd_err_set(err, EPERM,
				  "staging directory: writable by others than its owner, or not "
				  "ours (mode %04o, owner %u)",
				  (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
	d = dir_stream(fd);
	if (d == NULL)
		return wd_err_sys(err, errno, "staging directory");
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	if (!empty)
		return wd_err_set(err, ENOTEMPTY, "staging directory: not empty");
	return 0;
}

static int stage_run(int src_fd, bool is_dir, int stage_dirfd, uint64_t epoch,
		     const struct wd_rootfs_opts *opts, struct wd_rootfs_report *rep,
		     struct wd_err *err)
{
	struct stage st;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->from_tar = !is_dir;
	rc = check_stage_dir(stage_dirfd, err);
	if (rc < 0)
		return rc;
	rc = stage_init(&st, stage_dirfd, epoch, opts, rep, err);
	if (rc == 0)
		rc = is_dir ? stage_dir(&st, src_fd, err) : stage_tar_stream(&st, src_fd, err);
	if (rc == 0)
		rc = stage_finish(&st, err);
	stage_free(&st);
	if (rc == 0 && is_dir)
		rc = wd_rootfs_tree(stage_dirfd, rep->all_root, rep->entries, -1,
				    rep->source_sha256, err);
	return rc;
}

int wd_rootfs_stage_tar(int tar_fd, const char *name, int stage_dirfd, uint64_t epoch,
			const struct wd_rootfs_opts *opts, struct wd_rootfs_report *rep,
			struct wd_err *err)
{
	int rc = stage_run(tar_fd, false, stage_dirfd, epoch, opts, rep, err);

	return rc < 0 ? wd_err_wrap(err, "rootfs %s", name) : 0;
}

int wd_rootfs_stage(const char *src, int stage_dirfd, uint64_t epoch,
		    const struct wd_rootfs_opts *opts, struct wd_rootfs_report *rep,
		    struct wd_err *err)
{
	struct stat sb;
	int fd, rc;

	memset(rep, 0, sizeof(*rep));
	/* The operator's own argument may be a symlink; nothing inside it is followed. */
	fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return wd_err_sys(err, errno, "rootfs %s", src);
	if (fstat(fd, &sb) < 0) {
		rc = wd_err_sys(err, errno, "rootfs %s", src);
		close(fd);
		return rc;
	}
	rc = stage_run(fd, S_ISDIR(sb.st_mode), stage_dirfd, epoch, opts, rep, err);
	close(fd);
	return rc < 0 ? wd_err_wrap(err, "rootfs %s", src) : 0;
}

void wd_rootfs_report_free(struct wd_rootfs_report *rep)
{
	for (size_t i = 0; i < rep->nstripped; i++)
		free(rep->stripped[i].path);
	free(rep->stripped);
	rep->stripped = NULL;
	rep->nstripped = 0;
}
