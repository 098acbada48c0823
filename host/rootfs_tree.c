/*
 * host/rootfs_tree.c - the sorted listing of a staged tree and its SHA-256
 * (wd_rootfs_tree, format in rootfs.h), and the (dev, ino) table that the
 * listing and the directory source use to find hard links.
 *
 * The whole tree's metadata is read first (bounded: entries and path
 * bytes), sorted by path, then written line by line, each file's content
 * hashed as its line is made. Nothing is followed: directories are opened
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), entries looked at
 * with fstatat(AT_SYMLINK_NOFOLLOW).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/sha256.h"
#include "rootfs.h"
#include "rootfs_stage.h"

#define TREE_OUT_FLUSH (64UL * 1024UL) /* listing bytes buffered before a write */
#define TREE_READ_BYTES (128UL * 1024UL)

/* ---- (dev, ino) -> index ---------------------------------------------- */

static size_t ino_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h =
		((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4fULL);

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct ino_slot *ino_slot(const struct ino_map *m, dev_t dev, ino_t ino)
{
	for (size_t i = ino_hash(dev, ino, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct ino_slot *s = &m->slots[i];

		if (!s->used || (s->dev == dev && s->ino == ino))
			return s;
	}
}

const struct ino_slot *ino_map_find(const struct ino_map *m, dev_t dev, ino_t ino)
{
	const struct ino_slot *s;

	if (m->cap == 0)
		return NULL;
	s = ino_slot(m, dev, ino);
	return s->used ? s : NULL;
}

int ino_map_add(struct ino_map *m, dev_t dev, ino_t ino, size_t value)
{
	struct ino_slot *s;

	if ((m->count + 1) * 10 > m->cap * 7) {
		struct ino_map bigger = {.cap = m->cap != 0 ? m->cap * 2 : 256};

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (bigger.slots == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++) {
			if (m->slots[i].used)
				*ino_slot(&bigger, m->slots[i].dev, m->slots[i].ino) = m->slots[i];
		}
		bigger.count = m->count;
		free(m->slots);
		*m = bigger;
	}
	s = ino_slot(m, dev, ino);
	if (!s->used)
		m->count++;
	s->used = true;
	s->dev = dev;
	s->ino = ino;
	s->value = value;
	return 0;
}

void ino_map_free(struct ino_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- small shared pieces ------------------------------------------------- */

int strv_push(struct strv *sv, const char *s)
{
	char *copy;

	if (sv->n == sv->cap) {
		size_t cap = sv->cap != 0 ? sv->cap * 2 : 64;
		char **more = realloc(sv->v, cap * sizeof(*more));

		if (more == NULL)
			return -ENOMEM;
		sv->v = more;
		sv->cap = cap;
	}
	copy = strdup(s);
	if (copy == NULL)
		return -ENOMEM;
	sv->v[sv->n++] = copy;
	return 0;
}

char *strv_pop(struct strv *sv)
{
	return sv->n > 0 ? sv->v[--sv->n] : NULL;
}

void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

DIR *dir_stream(int fd)
{
	/* A new open file description, not dup(): readdir moves the offset. */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (d == NULL && dfd >= 0) {
		int saved = errno;

		close(dfd);
		errno = saved;
	}
	return d;
}

/* ---- collecting the tree ------------------------------------------------ */

struct tnode {
	char *rel;
	char *target; /* symlinks */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	dev_t dev, rdev;
	ino_t ino;
	nlink_t nlink;
	uint64_t size;
};

struct tree {
	int root;
	uint64_t max_entries;
	uint64_t name_bytes;
	struct tnode *nodes;
	size_t n, cap;
	struct strv todo; /* directories still to read */
};

static int add_node(struct tree *t, const char *rel, const struct stat *sb, const char *target,
		    struct wd_err *err)
{
	struct tnode *nd;
	size_t len = strlen(rel) + 1 + (target != NULL ? strlen(target) + 1 : 0);

	if (t->n > t->max_entries) /* "/" is not counted */
		return wd_err_set(err, E2BIG, "/%s: more than %llu entries", rel,
				  (unsigned long long)t->max_entries);
	if (t->name_bytes + len > WD_ROOTFS_NAME_BYTES_MAX)
		return wd_err_set(err, E2BIG, "/%s: the tree's paths exceed %llu MiB in all", rel,
				  WD_ROOTFS_NAME_BYTES_MAX >> 20);
	if (t->n == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 1024;
		struct tnode *more = realloc(t->nodes, cap * sizeof(*more));

		if (more == NULL)
			return wd_err_sys(err, ENOMEM, "listing");
		t->nodes = more;
		t->cap = cap;
	}
	nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->rel = strdup(rel);
	nd->target = target != NULL ? strdup(target) : NULL;
	if (nd->rel == NULL || (target != NULL && nd->target == NULL)) {
		free(nd->rel);
		free(nd->target);
		return wd_err_sys(err, ENOMEM, "listing");
	}
	nd->mode = sb->st_mode;
	nd->uid = sb->st_uid;
	nd->gid = sb->st_gid;
	nd->dev = sb->st_dev;
	nd->rdev = sb->st_rdev;
	nd->ino = sb->st_ino;
	nd->nlink = sb->st_nlink;
	nd->size = S_ISREG(sb->st_mode) ? (uint64_t)sb->st_size : 0;
	t->name_bytes += len;
	t->n++;
	return 0;
}

static int one_entry(struct tree *t, int fd, const char *dir_rel, const char *name, char *target,
		     struct wd_err *err)
{
	size_t dn = strlen(dir_rel), nn = strlen(name);
	char *rel = malloc(dn + nn + 2);
	struct stat sb;
	int rc = 0;

	if (rel == NULL)
		return wd_err_sys(err, ENOMEM, "listing");
	snprintf(rel, dn + nn + 2, "%s%s%s", dir_rel, dn > 0 ? "/" : "", name);
	if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = wd_err_sys(err, errno, "/%s: stat", rel);
	} else if (S_ISLNK(sb.st_mode)) {
		ssize_t n = readlinkat(fd, name, target, WD_ROOTFS_LINK_MAX + 1);

		if (n < 0)
			rc = wd_err_sys(err, errno, "/%s: readlink", rel);
		else if (n > WD_ROOTFS_LINK_MAX)
			rc = wd_err_set(err, ENAMETOOLONG, "/%s: symlink target too long", rel);
		else
			target[n] = '\0';
		if (rc == 0)
			rc = add_node(t, rel, &sb, target, err);
	} else {
		rc = add_node(t, rel, &sb, NULL, err);
		if (rc == 0 && S_ISDIR(sb.st_mode) && strv_push(&t->todo, rel) < 0)
			rc = wd_err_sys(err, ENOMEM, "listing");
	}
	free(rel);
	return rc;
}

static int collect_dir(struct tree *t, const char *rel, char *target, struct wd_err *err)
{
	int fd = rootfs_open_beneath(t->root, rel, O_RDONLY | O_DIRECTORY);
	DIR *d;
	const struct dirent *de;
	int rc = 0;

	if (fd < 0)
		return wd_err_sys(err, -fd, "/%s: open", rel);
	d = dir_stream(fd);
	if (d == NULL) {
		rc = wd_err_sys(err, errno, "/%s: read directory", rel);
		close(fd);
		return rc;
	}
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = one_entry(t, fd, rel, de->d_name, target, err);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = wd_err_sys(err, errno, "/%s: read directory", rel);
	closedir(d);
	close(fd);
	return rc;
}

static int collect(struct tree *t, struct wd_err *err)
{
	struct stat sb;
	char *target = malloc(WD_ROOTFS_LINK_MAX + 2);
	int rc;

	if (target == NULL)
		return wd_err_sys(err, ENOMEM, "listing");
	if (fstat(t->root, &sb) < 0)
		rc = wd_err_sys(err, errno, "stat /");
	else if (!S_ISDIR(sb.st_mode))
		rc = wd_err_set(err, ENOTDIR, "/: not a directory");
	else
		rc = add_node(t, "", &sb, NULL, err);
	if (rc == 0 && strv_push(&t->todo, "") < 0)
		rc = wd_err_sys(err, ENOMEM, "listing");
	while (rc == 0 && t->todo.n > 0) {
		char *rel = strv_pop(&t->todo);

		rc = collect_dir(t, rel, target, err);
		free(rel);
	}
	free(target);
	return rc;
}

/* ---- writing the listing -------------------------------------------------- */

struct out {
	int fd;
	struct wd_sha256 sha;
	char *buf;
	size_t len, cap;
};

static int out_flush(struct out *o, struct wd_err *err)
{
	int rc;

	wd_sha256_update(&o->sha, o->buf, o->len);
	if (o->fd >= 0 && (rc = wd_write_all(o->fd, o->buf, o->len)) < 0)
		return wd_err_sys(err, -rc, "write the listing");
	o->len = 0;
	return 0;
}

static int out_bytes(struct out *o, const char *s, size_t n, struct wd_err *err)
{
	if (o->len + n > o->cap) {
		int rc = out_flush(o, err);

		if (rc < 0)
			return rc;
	}
	if (n > o->cap) { /* larger than the buffer: straight through */
		int rc = o->fd >= 0 ? wd_write_all(o->fd, s, n) : 0;

		wd_sha256_update(&o->sha, s, n);
		return rc < 0 ? wd_err_sys(err, -rc, "write the listing") : 0;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/* '%', space, the other bytes below 0x21 and 0x7f as %XX: a line splits on spaces. */
static int out_escaped(struct out *o, const char *s, struct wd_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const uint8_t *p = (const uint8_t *)s; *p != '\0' && rc == 0; p++) {
		if (*p == '%' || *p < 0x21 || *p == 0x7f) {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			rc = out_bytes(o, e, 3, err);
		} else {
			rc = out_bytes(o, (const char *)p, 1, err);
		}
	}
	return rc;
}

static int out_str(struct out *o, const char *s, struct wd_err *err)
{
	return out_bytes(o, s, strlen(s), err);
}

static int file_digest(int root, const struct tnode *nd, char *buf, char hex[65],
		       struct wd_err *err)
{
	struct wd_sha256 c;
	uint8_t d[32];
	uint64_t total = 0;
	int fd = rootfs_open_beneath(root, nd->rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return wd_err_sys(err, -fd, "/%s: open", nd->rel);
	wd_sha256_init(&c);
	for (;;) {
		ssize_t r = read(fd, buf, TREE_READ_BYTES);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = wd_err_sys(err, errno, "/%s: read", nd->rel);

			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		wd_sha256_update(&c, buf, (size_t)r);
		total += (uint64_t)r;
	}
	close(fd);
	if (total != nd->size)
		return wd_err_set(err, EAGAIN, "/%s: changed while it was listed", nd->rel);
	wd_sha256_final(&c, d);
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

char rootfs_type_char(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:
		return 'd';
	case S_IFREG:
		return 'f';
	case S_IFLNK:
		return 'l';
	case S_IFIFO:
		return 'p';
	case S_IFCHR:
		return 'c';
	case S_IFBLK:
		return 'b';
	case S_IFSOCK:
		return 's';
	default:
		return '?';
	}
}

static int write_line(struct tree *t, struct out *o, size_t i, struct ino_map *links, char *buf,
		      bool all_root, struct wd_err *err)
{
	const struct tnode *nd = &t->nodes[i];
	char type = rootfs_type_char(nd->mode), num[96], hex[65];
	const struct ino_slot *first = NULL;
	int rc;

	if (type == 'f' && nd->nlink > 1) {
		first = ino_map_find(links, nd->dev, nd->ino);
		if (first != NULL)
			type = 'h';
		else if (ino_map_add(links, nd->dev, nd->ino, i) < 0)
			return wd_err_sys(err, ENOMEM, "listing");
	}
	rc = out_str(o, "/", err);
	if (rc == 0)
		rc = out_escaped(o, nd->rel, err);
	snprintf(num, sizeof(num), " %c %04o %u %u %llu ", type, (unsigned)(nd->mode & 07777),
		 all_root ? 0U : (unsigned)nd->uid, all_root ? 0U : (unsigned)nd->gid,
		 (unsigned long long)nd->size);
	if (rc == 0)
		rc = out_str(o, num, err);
	if (rc < 0)
		return rc;
	switch (type) {
	case 'f':
		rc = file_digest(t->root, nd, buf, hex, err);
		if (rc == 0)
			rc = out_str(o, hex, err);
		break;
	case 'h':
		rc = out_str(o, "/", err);
		if (rc == 0)
			rc = out_escaped(o, t->nodes[first->value].rel, err);
		break;
	case 'l':
		rc = out_escaped(o, nd->target, err);
		break;
	case 'c':
	case 'b':
		snprintf(num, sizeof(num), "%u:%u", major(nd->rdev), minor(nd->rdev));
		rc = out_str(o, num, err);
		break;
	default:
		rc = out_str(o, "-", err);
		break;
	}
	return rc < 0 ? rc : out_str(o, "\n", err);
}

static int by_rel(const void *a, const void *b)
{
	return strcmp(((const struct tnode *)a)->rel, ((const struct tnode *)b)->rel);
}

int wd_rootfs_tree(int dirfd, bool all_root, uint64_t max_entries, int out_fd, uint8_t sha256[32],
		   struct wd_err *err)
{
	struct tree t = {.root = dirfd,
			 .max_entries = max_entries != 0 ? max_entries : WD_ROOTFS_MAX_ENTRIES};
	struct out o = {.fd = out_fd, .cap = TREE_OUT_FLUSH};
	struct ino_map links = {0};
	char *buf = malloc(TREE_READ_BYTES);
	int rc;

	o.buf = malloc(o.cap);
	wd_sha256_init(&o.sha);
	rc = buf == NULL || o.buf == NULL ? wd_err_sys(err, ENOMEM, "listing") : collect(&t, err);
	if (rc == 0 && t.nodes != NULL) {
		qsort(t.nodes, t.n, sizeof(*t.nodes), by_rel);
		rc = out_str(&o, WD_ROOTFS_TREE_FORMAT "\n", err);
	}
	for (size_t i = 0; rc == 0 && i < t.n; i++)
		rc = write_line(&t, &o, i, &links, buf, all_root, err);
	if (rc == 0)
		rc = out_flush(&o, err);
	if (rc == 0)
		wd_sha256_final(&o.sha, sha256);
	for (size_t i = 0; i < t.n; i++) {
		free(t.nodes[i].rel);
		free(t.nodes[i].target);
	}
	free(t.nodes);
	strv_free(&t.todo);
	ino_map_free(&links);
	free(o.buf);
	free(buf);
	return rc < 0 ? wd_err_wrap(err, "tree listing") : 0;
}

/* ---- removal ---------------------------------------------------------------- */

/* Empty one directory (0700 already): files go now, subdirectories are made
 * 0700 (so that a 0000 one can be opened without root) and appended to
 * `dirs` for later. */
static int empty_dir(int root, const char *rel, struct strv *dirs, struct wd_err *err)
{
	int fd = rootfs_open_beneath(root, rel, O_RDONLY | O_DIRECTORY);
	DIR *d = NULL;
	const struct dirent *de;
	int rc = 0;

	if (fd < 0)
		return wd_err_sys(err, -fd, "/%s: open", rel);
	if ((d = dir_stream(fd)) == NULL)
		rc = wd_err_sys(err, errno, "/%s: read directory", rel);
	while (d != NULL && rc == 0 && (de = readdir(d)) != NULL) {
		struct stat sb;
		size_t len = strlen(rel) + strlen(de->d_name) + 2;
		char *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = wd_err_sys(err, errno, "/%s/%s: stat", rel, de->d_name);
		} else if (!S_ISDIR(sb.st_mode)) {
			if (unlinkat(fd, de->d_name, 0) < 0)
				rc = wd_err_sys(err, errno, "/%s/%s: remove", rel, de->d_name);
		} else if (fchmodat(fd, de->d_name, 0700, 0) < 0) {
			/* a directory (fstatat said so) in a tree nothing else changes */
			rc = wd_err_sys(err, errno, "/%s/%s: chmod", rel, de->d_name);
		} else if ((child = malloc(len)) == NULL) {
			rc = wd_err_sys(err, ENOMEM, "remove");
		} else {
			snprintf(child, len, "%s%s%s", rel, rel[0] != '\0' ? "/" : "", de->d_name);
			if (strv_push(dirs, child) < 0)
				rc = wd_err_sys(err, ENOMEM, "remove");
			free(child);
		}
	}
	if (d != NULL)
		closedir(d);
	close(fd);
	return rc;
}

int wd_rootfs_remove(const char *path, struct wd_err *err)
{
	struct strv dirs = {0};
	struct stat sb;
	int root, rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	/* The caller's own staging directory, checked not to be a symlink; its
	 * staged mode (the tree's "/") may keep even its owner out. */
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : wd_err_sys(err, errno, "remove %s", path);
	if (!S_ISDIR(sb.st_mode))
		return wd_err_set(err, ENOTDIR, "remove %s: not a directory", path);
	if (chmod(path, 0700) < 0)
		return wd_err_sys(err, errno, "remove %s: chmod", path);
	root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return errno == ENOENT ? 0 : wd_err_sys(err, errno, "remove %s", path);
	if (strv_push(&dirs, "") < 0)
		rc = wd_err_sys(err, ENOMEM, "remove %s", path);
	/* Breadth first: a directory comes after its parent in `dirs`. */
	for (size_t i = 0; i < dirs.n && rc == 0; i++)
		rc = empty_dir(root, dirs.v[i], &dirs, err);
	/* Then backwards: each directory is empty when its turn comes. */
	for (size_t i = dirs.n; i-- > 1 && rc == 0;) {
		char *rel = dirs.v[i], *slash = strrchr(rel, '/');
		const char *base = slash != NULL ? slash + 1 : rel;
		int pfd;

		if (slash != NULL)
			*slash = '\0';
		pfd = rootfs_open_beneath(root, slash != NULL ? rel : "", O_RDONLY | O_DIRECTORY);
		if (pfd < 0) {
			rc = wd_err_sys(err, -pfd, "/%s: open", rel);
			break;
		}
		if (unlinkat(pfd, base, AT_REMOVEDIR) < 0)
			rc = wd_err_sys(err, errno, "%s: remove", base);
		close(pfd);
	}
	strv_free(&dirs);
	close(root);
	if (rc == 0 && rmdir(path) < 0)
		rc = wd_err_sys(err, errno, "remove %s", path);
	return rc < 0 ? wd_err_wrap(err, "remove %s", path) : 0;
}
