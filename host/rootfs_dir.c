/*
 * host/rootfs_dir.c - a directory as the source of a root filesystem
 * (rootfs.h: `warden image build --rootfs DIR`).
 *
 * The walk never follows a symlink: each directory is opened from the
 * source's root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), each
 * entry is looked at with fstatat(AT_SYMLINK_NOFOLLOW) and a file is opened
 * with O_NOFOLLOW and checked to be the inode that was looked at, so a
 * source that someone changes during the build cannot lead the walk out of
 * it. Entries are visited in sorted order (one directory's names at a
 * time, depth first), so two builds of the same tree say the same lines in
 * the same order. Files with several links become one file and hard links
 * to its first path. The staging directory itself, if it lies inside the
 * source, is refused: the walk would copy its own output.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "rootfs.h"
#include "rootfs_stage.h"

struct file_src {
	int fd;
	const char *rel;
};

struct walk {
	struct stage *st;
	struct file_src file; /* the file being copied (stage_item.read_ctx) */
	int src;              /* the source's root */
	dev_t stage_dev;      /* the staging directory, to refuse walking into it */
	ino_t stage_ino;
	struct strv todo;    /* directories still to visit (a stack of rels) */
	struct ino_map inos; /* (dev, ino) of a multiply-linked file -> rels.v[] */
	struct strv rels;    /* where each was staged */
	char *target;        /* WD_ROOTFS_LINK_MAX + 2 bytes for readlinkat */
};

static int file_read(void *ctx, void *buf, size_t n, size_t *got, struct wd_err *err)
{
	const struct file_src *f = ctx;

	for (;;) {
		ssize_t r = read(f->fd, buf, n);

		if (r >= 0) {
			*got = (size_t)r;
			return 0;
		}
		if (errno != EINTR)
			return wd_err_sys(err, errno, "read");
	}
}

static int ino_add(struct walk *w, dev_t dev, ino_t ino, const char *rel, struct wd_err *err)
{
	if (strv_push(&w->rels, rel) < 0 || ino_map_add(&w->inos, dev, ino, w->rels.n - 1) < 0)
		return wd_err_sys(err, ENOMEM, "/%s: hard link table", rel);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A regular file: staged from an fd that is the inode fstatat saw. */
static int stage_file(struct walk *w, int dirfd, const char *name, const struct stat *sb,
		      struct stage_item *it, struct wd_err *err)
{
	struct file_src *f = &w->file;
	struct stat fsb;
	const struct ino_slot *s;
	int rc;

	if (sb->st_nlink > 1) {
		s = ino_map_find(&w->inos, sb->st_dev, sb->st_ino);
		if (s != NULL && s->value < w->rels.n) {
			it->type = 'h';
			it->link = w->rels.v[s->value];
			return stage_add(w->st, it, err);
		}
	}
	f->rel = it->rel;
	f->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (f->fd < 0)
		return wd_err_sys(err, errno, "/%s: open", it->rel);
	if (fstat(f->fd, &fsb) < 0) {
		rc = wd_err_sys(err, errno, "/%s: stat", it->rel);
	} else if (!S_ISREG(fsb.st_mode) || fsb.st_dev != sb->st_dev || fsb.st_ino != sb->st_ino) {
		rc = wd_err_set(err, EAGAIN, "/%s: changed while the tree was read", it->rel);
	} else {
		/* The value is never read: its presence is what the report says. */
		it->has_caps = fgetxattr(f->fd, "security.capability", NULL, 0) >= 0;
		it->size = (uint64_t)fsb.st_size;
		it->read = file_read;
		it->read_ctx = f;
		rc = stage_add(w->st, it, err);
		if (rc == 0 && sb->st_nlink > 1)
			rc = ino_add(w, sb->st_dev, sb->st_ino, it->rel, err);
	}
	close(f->fd);
	f->fd = -1;
	return rc;
}

static int stage_symlink(struct walk *w, int dirfd, const char *name, struct stage_item *it,
			 struct wd_err *err)
{
	ssize_t n = readlinkat(dirfd, name, w->target, WD_ROOTFS_LINK_MAX + 1);

	if (n < 0)
		return wd_err_sys(err, errno, "/%s: readlink", it->rel);
	if (n > WD_ROOTFS_LINK_MAX)
		return wd_err_set(err, ENAMETOOLONG, "/%s: symlink target longer than %d bytes",
				  it->rel, WD_ROOTFS_LINK_MAX);
	w->target[n] = '\0';
	it->link = w->target;
	return stage_add(w->st, it, err);
}

/* One entry of a directory being walked. */
static int walk_entry(struct walk *w, int dirfd, const char *dir_rel, const char *name,
		      struct wd_err *err)
{
	size_t dn = strlen(dir_rel), nn = strlen(name);
	char *rel;
	struct stat sb;
	struct stage_item it = {0};
	int rc;

	if (dn + 1 + nn > WD_ROOTFS_PATH_MAX)
		return wd_err_set(err, ENAMETOOLONG,
				  "/%s: a name in it makes a path longer than %d "
				  "bytes",
				  dir_rel, WD_ROOTFS_PATH_MAX);
	rel = malloc(dn + nn + 2);
	if (rel == NULL)
		return wd_err_sys(err, ENOMEM, "/%s", dir_rel);
	if (dn > 0) {
		memcpy(rel, dir_rel, dn);
		rel[dn] = '/';
		memcpy(rel + dn + 1, name, nn + 1);
	} else {
		memcpy(rel, name, nn + 1);
	}
	if (!rootfs_text_ok(name, nn)) {
		rc = wd_err_set(err, EINVAL,
				"/%s: a name that is not UTF-8 or holds a control "
				"character",
				rel);
		free(rel);
		return rc;
	}
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = wd_err_sys(err, errno, "/%s: stat", rel);
		free(rel);
		return rc;
	}
	it.rel = rel;
	it.mode = sb.st_mode & 07777;
	it.uid = sb.st_uid;
	it.gid = sb.st_gid;
	it.devmajor = major(sb.st_rdev);
	it.devminor = minor(sb.st_rdev);
	it.type = rootfs_type_char(sb.st_mode);
	if (it.type == 'd' && sb.st_dev == w->stage_dev && sb.st_ino == w->stage_ino)
		rc = wd_err_set(err, EINVAL, "/%s: the staging directory is inside the source",
				rel);
	else if (it.type == 'f')
		rc = stage_file(w, dirfd, name, &sb, &it, err);
	else if (it.type == 'l')
		rc = stage_symlink(w, dirfd, name, &it, err);
	else if (it.type == '?')
		rc = wd_err_set(err, EINVAL, "/%s: unknown file type 0%o", rel,
				(unsigned)(sb.st_mode & S_IFMT));
	else
		rc = stage_add(w->st, &it, err); /* d p s c b */
	if (rc == 0 && it.type == 'd' && strv_push(&w->todo, rel) < 0)
		rc = wd_err_sys(err, ENOMEM, "/%s", rel);
	free(rel);
	return rc;
}

/*
 * The names in one directory, sorted. They are counted while they are
 * read, against what is left of the source's entries (max_entries) and of
 * the paths held in memory (WD_ROOTFS_NAME_BYTES_MAX): a directory of ten
 * million names stops at the first name past the bound, before its
 * listing costs more memory than the tree may.
 */
static int list_dir(const struct stage *st, int fd, const char *rel, struct strv *names,
		    struct wd_err *err)
{
	uint64_t entries_left =
		st->read_entries < st->max_entries ? st->max_entries - st->read_entries : 0;
	uint64_t bytes_left = st->name_bytes < WD_ROOTFS_NAME_BYTES_MAX
				      ? WD_ROOTFS_NAME_BYTES_MAX - st->name_bytes
				      : 0;
	DIR *d = dir_stream(fd);
	const struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return wd_err_sys(err, errno, "/%s: read directory", rel);
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name) + 1;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			errno = 0;
			continue;
		}
		if (names->n >= entries_left)
			rc = wd_err_set(err, E2BIG,
					"/%s: more than %llu entries (it holds more names than "
					"the %llu left)",
					rel, (unsigned long long)st->max_entries,
					(unsigned long long)entries_left);
		else if (len > bytes_left)
			rc = wd_err_set(err, E2BIG,
					"/%s: the tree's paths exceed %llu MiB in all (with the "
					"names it holds)",
					rel, WD_ROOTFS_NAME_BYTES_MAX >> 20);
		else if (strv_push(names, de->d_name) < 0)
			rc = wd_err_sys(err, ENOMEM, "/%s", rel);
		else
			bytes_left -= len;
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = wd_err_sys(err, errno, "/%s: read directory", rel);
	closedir(d);
	if (rc == 0 && names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), by_name);
	return rc;
}

/* Visit one directory: stage its entries; its subdirectories go on the stack. */
static int walk_dir(struct walk *w, const char *rel, struct wd_err *err)
{
	struct strv names = {0};
	size_t before = w->todo.n;
	int fd = rootfs_open_beneath(w->src, rel, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return wd_err_sys(err, -fd, "/%s: open", rel);
	rc = list_dir(w->st, fd, rel, &names, err);
	for (size_t i = 0; rc == 0 && i < names.n; i++)
		rc = walk_entry(w, fd, rel, names.v[i], err);
	strv_free(&names);
	close(fd);
	/* Sorted order: the first subdirectory must come off the stack first. */
	for (size_t i = before, j = w->todo.n; rc == 0 && i + 1 < j; i++, j--) {
		char *t = w->todo.v[i];

		w->todo.v[i] = w->todo.v[j - 1];
		w->todo.v[j - 1] = t;
	}
	return rc;
}

int stage_dir(struct stage *st, int srcfd, struct wd_err *err)
{
	struct walk w = {.st = st, .src = srcfd};
	struct stat sb, stage_sb;
	struct stage_item root = {.rel = "", .type = 'd'};
	int rc;

	if (fstat(srcfd, &sb) < 0 || fstat(st->root, &stage_sb) < 0)
		return wd_err_sys(err, errno, "stat");
	if (sb.st_dev == stage_sb.st_dev && sb.st_ino == stage_sb.st_ino)
		return wd_err_set(err, EINVAL, "the source is the staging directory");
	w.stage_dev = stage_sb.st_dev;
	w.stage_ino = stage_sb.st_ino;
	w.target = malloc(WD_ROOTFS_LINK_MAX + 2);
	if (w.target == NULL)
		return wd_err_sys(err, ENOMEM, "directory walk");
	root.mode = sb.st_mode & 07777;
	root.uid = sb.st_uid;
	root.gid = sb.st_gid;
	rc = stage_add(st, &root, err);
	if (rc == 0 && strv_push(&w.todo, "") < 0)
		rc = wd_err_sys(err, ENOMEM, "directory walk");
	while (rc == 0 && w.todo.n > 0) {
		char *rel = strv_pop(&w.todo);

		rc = walk_dir(&w, rel, err);
		free(rel);
	}
	strv_free(&w.todo);
	strv_free(&w.rels);
	ino_map_free(&w.inos);
	free(w.target);
	return rc;
}
