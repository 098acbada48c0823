/*
 * host/rootfs_rules.c - the image's rules for a root filesystem (rootfs.h),
 * applied to each entry a source gives (rootfs_stage.h): the index of
 * staged paths, creating entries without following a symlink, and the
 * directories' modes, owners and times at the end. The sources are the tar
 * (rootfs.c) and a directory (rootfs_dir.c); the listing is rootfs_tree.c.
 *
 * Why an index: the rules are about the tree being built, not about the
 * disk. "A hard link's target is an earlier entry" is a lookup of a path
 * this run created; "a second entry of another type" compares with what
 * this run put there; a parent that is a symlink is known before the
 * kernel is asked (which refuses it anyway: RESOLVE_NO_SYMLINKS). The
 * staging directory is private, so nothing else changes it meanwhile.
 */
#include "rootfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/json.h"
#include "../common/log.h"
#include "rootfs_stage.h"

/* One staged path. Directories keep the mode and owner they get at the end. */
struct stage_node {
	uint64_t hash;
	char type; /* d f l p (a hard link is its target's type) */
	uint32_t mode;
	uint64_t uid, gid;
	char rel[]; /* normalised, NUL-terminated */
};

/* ---- text and name rules ------------------------------------------------- */

bool rootfs_text_ok(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;

	if (!wd_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
		/* C1: U+0080..U+009F, in UTF-8 0xc2 0x80..0x9f */
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

int rootfs_norm(const char *name, char *out, bool *dir_slash, const char **why)
{
	size_t n = strlen(name), o = 0;
	const char *c = name;

	*dir_slash = false;
	if (n == 0) {
		*why = "an empty name";
		return -EINVAL;
	}
	if (n > WD_ROOTFS_PATH_MAX) {
		*why = "a name longer than 4096 bytes";
		return -ENAMETOOLONG;
	}
	if (name[0] == '/') {
		*why = "an absolute name";
		return -EINVAL;
	}
	if (!rootfs_text_ok(name, n)) {
		*why = "a name that is not UTF-8 or holds a control character";
		return -EINVAL;
	}
	*dir_slash = name[n - 1] == '/';
	while (*c != '\0') {
		const char *slash = strchr(c, '/');
		size_t len = slash != NULL ? (size_t)(slash - c) : strlen(c);

		if (len == 2 && c[0] == '.' && c[1] == '.') {
			*why = "a \"..\" component";
			return -EINVAL;
		}
		if (len > 0 && !(len == 1 && c[0] == '.')) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, c, len);
			o += len;
		}
		c += len;
		if (*c == '/')
			c++;
	}
	out[o] = '\0';
	*why = NULL;
	return 0;
}

bool rootfs_link_climbs(const char *rel_dir, const char *target)
{
	long depth = 0;
	const char *c;

	if (target[0] == '/')
		return false;
	if (rel_dir[0] != '\0') {
		depth = 1;
		for (c = rel_dir; *c != '\0'; c++)
			depth += *c == '/';
	}
	c = target;
	while (*c != '\0') {
		const char *slash = strchr(c, '/');
		size_t len = slash != NULL ? (size_t)(slash - c) : strlen(c);

		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len > 0 && !(len == 1 && c[0] == '.')) {
			depth++;
		}
		c += len;
		if (*c == '/')
			c++;
	}
	return false;
}

int rootfs_open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, rel[0] != '\0' ? rel : ".", &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

/* ---- the index ----------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static struct stage_slot *slot_of(const struct stage *st, const char *rel, uint64_t h)
{
	size_t i = (size_t)h & (st->nslots - 1);

	for (;; i = (i + 1) & (st->nslots - 1)) {
		const struct stage_node *n = st->slots[i].node;

		if (n == NULL || (n->hash == h && strcmp(n->rel, rel) == 0))
			return &st->slots[i];
	}
}

static struct stage_node *lookup(const struct stage *st, const char *rel)
{
	return slot_of(st, rel, fnv1a(rel))->node;
}

static int grow(struct stage *st, struct wd_err *err)
{
	size_t nslots = st->nslots * 2;
	struct stage_slot *old = st->slots, *slots = calloc(nslots, sizeof(*slots));

	if (slots == NULL)
		return wd_err_sys(err, ENOMEM, "index of %zu paths", st->nnodes);
	st->slots = slots;
	for (size_t i = 0, n = st->nslots; i < n; i++) {
		if (old[i].node != NULL) {
			st->nslots = nslots;
			*slot_of(st, old[i].node->rel, old[i].node->hash) = old[i];
		}
	}
	st->nslots = nslots;
	free(old);
	return 0;
}

static int insert(struct stage *st, const char *rel, char type, uint32_t mode, uint64_t uid,
		  uint64_t gid, struct stage_node **out, struct wd_err *err)
{
	size_t len = strlen(rel);
	struct stage_node *n;
	uint64_t h = fnv1a(rel);
	int rc;

	/* Parents made for an entry count too: the tree itself stays bounded. */
	if (st->nnodes > st->max_entries)
		return wd_err_set(err, E2BIG, "/%s: the tree would hold more than %llu entries",
				  rel, (unsigned long long)st->max_entries);
	if (st->name_bytes + len + 1 > WD_ROOTFS_NAME_BYTES_MAX)
		return wd_err_set(err, E2BIG, "/%s: the tree's paths exceed %llu MiB in all", rel,
				  WD_ROOTFS_NAME_BYTES_MAX >> 20);
	if ((st->nnodes + 1) * 10 > st->nslots * 7 && (rc = grow(st, err)) < 0)
		return rc;
	n = malloc(sizeof(*n) + len + 1);
	if (n == NULL)
		return wd_err_sys(err, ENOMEM, "/%s", rel);
	n->hash = h;
	n->type = type;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	memcpy(n->rel, rel, len + 1);
	slot_of(st, rel, h)->node = n;
	st->nnodes++;
	st->name_bytes += len + 1;
	st->rep->entries = st->nnodes;
	*out = n;
	return 0;
}

/* ---- the charge against max_bytes ---------------------------------------- */

/* `n` more bytes for /rel, refused past max_bytes (rep->charged stays at
 * most max_bytes, so the subtraction cannot wrap). */
static int charge(struct stage *st, const char *rel, uint64_t n, struct wd_err *err)
{
	if (n > st->max_bytes - st->rep->charged)
		return wd_err_set(
			err, E2BIG,
			"/%s: %llu bytes would take the tree past %llu bytes (--max-size)", rel,
			(unsigned long long)n, (unsigned long long)st->max_bytes);
	st->rep->charged += n;
	return 0;
}

/* A new path's cost besides a file's content (rootfs.h, "Bounds"): its
 * inode and directory entry, a directory's block, a symlink's target. */
static uint64_t path_cost(char type, const char *base, const char *link)
{
	uint64_t n = WD_ROOTFS_ENTRY_BYTES + strlen(base);

	if (type == 'd')
		n += WD_ROOTFS_DIR_BYTES;
	else if (type == 'l')
		n += strlen(link);
	return n;
}

/* ---- the stage ----------------------------------------------------------- */

int stage_init(struct stage *st, int root, uint64_t epoch, const struct wd_rootfs_opts *opts,
	       struct wd_rootfs_report *rep, struct wd_err *err)
{
	struct stage_node *n;
	int rc;

	memset(st, 0, sizeof(*st));
	st->root = root;
	st->cache_fd = -1;
	st->epoch = epoch;
	st->rep = rep;
	st->max_entries =
		opts != NULL && opts->max_entries != 0 ? opts->max_entries : WD_ROOTFS_MAX_ENTRIES;
	st->max_bytes =
		opts != NULL && opts->max_bytes != 0 ? opts->max_bytes : WD_ROOTFS_MAX_BYTES;
	st->quiet = opts != NULL && opts->quiet;
	st->keep_owners = geteuid() == 0 && !(opts != NULL && opts->all_root);
	rep->all_root = !st->keep_owners;
	if (epoch > (uint64_t)INT64_MAX)
		return wd_err_set(err, EINVAL, "epoch %llu out of range",
				  (unsigned long long)epoch);
	st->nslots = 1024;
	st->slots = calloc(st->nslots, sizeof(*st->slots));
	st->copybuf = malloc(STAGE_COPY_BYTES);
	if (st->slots == NULL || st->copybuf == NULL)
		return wd_err_sys(err, ENOMEM, "staging");
	/* The root is there from the start: 0755 0:0 unless the source says. */
	rc = charge(st, "", path_cost('d', "", NULL), err);
	if (rc < 0)
		return rc;
	return insert(st, "", 'd', 0755, 0, 0, &n, err);
}

void stage_free(struct stage *st)
{
	for (size_t i = 0; st->slots != NULL && i < st->nslots; i++)
		free(st->slots[i].node);
	free(st->slots);
	free(st->cache_rel);
	if (st->cache_fd >= 0)
		close(st->cache_fd);
	free(st->copybuf);
	st->slots = NULL;
	st->cache_rel = NULL;
	st->cache_fd = -1;
	st->copybuf = NULL;
}

static const char *type_word(char type)
{
	switch (type) {
	case 'd':
		return "directory";
	case 'f':
		return "file";
	case 'l':
		return "symlink";
	case 'p':
		return "FIFO";
	default:
		return "entry";
	}
}

static void note(struct stage *st, const char *rel, const char *what)
{
	struct wd_rootfs_report *rep = st->rep;
	struct wd_rootfs_stripped *s;

	if (rep->nstripped >= WD_ROOTFS_STRIPPED_MAX) {
		rep->stripped_more++;
		return;
	}
	if (rep->stripped == NULL) {
		rep->stripped = calloc(WD_ROOTFS_STRIPPED_MAX, sizeof(*rep->stripped));
		if (rep->stripped == NULL) {
			rep->stripped_more++;
			return;
		}
	}
	s = &rep->stripped[rep->nstripped];
	s->path = malloc(strlen(rel) + 2);
	if (s->path == NULL) {
		rep->stripped_more++;
		return;
	}
	s->path[0] = '/';
	memcpy(s->path + 1, rel, strlen(rel) + 1);
	s->what = what;
	rep->nstripped++;
}

/*
 * The index says, lexically, how much of `path` exists: every prefix found
 * must be a directory. Returns the length of the longest existing prefix
 * (0: only the root), or a negative errno.
 */
static long existing_prefix(const struct stage *st, const char *entry, char *path,
			    struct wd_err *err)
{
	size_t len = strlen(path), have = 0;

	for (size_t i = 1; i <= len; i++) {
		const struct stage_node *n;

		if (i < len && path[i] != '/')
			continue;
		path[i] = '\0';
		n = lookup(st, path);
		if (n != NULL && n->type != 'd') {
			int rc = wd_err_set(err, ENOTDIR, "/%s: placed under a %s (/%s)", entry,
					    type_word(n->type), path);

			path[i] = i < len ? '/' : '\0';
			return rc;
		}
		if (i < len)
			path[i] = '/';
		if (n == NULL)
			break;
		have = i;
	}
	return (long)have;
}

/*
 * The directory `rel` (a parent of an entry) open, creating the missing
 * ones (0700 now, 0755 0:0 at the end, as tar does for a parent it was
 * not given). The deepest existing one is opened in one openat2 call from
 * the root; the kernel refuses a symlink anywhere on the way.
 */
static int open_dir(struct stage *st, const char *entry, const char *rel, int *out,
		    struct wd_err *err)
{
	size_t len = strlen(rel);
	char *path = malloc(len + 1);
	long have;
	int fd, rc = 0;

	if (st->cache_rel != NULL && strcmp(st->cache_rel, rel) == 0) {
		free(path);
		*out = st->cache_fd;
		return 0;
	}
	if (path == NULL)
		return wd_err_sys(err, ENOMEM, "/%s", entry);
	memcpy(path, rel, len + 1);
	have = existing_prefix(st, entry, path, err);
	if (have < 0) {
		free(path);
		return (int)have;
	}
	path[have] = '\0';
	fd = rootfs_open_beneath(st->root, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		rc = wd_err_sys(err, -fd, "/%s: open /%s", entry, path);
	if (have < (long)len)
		path[have] = have > 0 ? '/' : rel[0];
	/* The missing ones, one component at a time. */
	for (size_t i = have > 0 ? (size_t)have + 1 : 0; rc == 0 && i < len;) {
		size_t end = i;
		struct stage_node *n;
		int next;

		while (end < len && path[end] != '/')
			end++;
		path[end] = '\0';
		rc = charge(st, path, path_cost('d', path + i, NULL), err);
		if (rc == 0 && mkdirat(fd, path + i, 0700) < 0)
			rc = wd_err_sys(err, errno, "/%s: mkdir /%s", entry, path);
		else if (rc == 0 && (rc = insert(st, path, 'd', 0755, 0, 0, &n, err)) == 0) {
			next = rootfs_open_beneath(fd, path + i, O_RDONLY | O_DIRECTORY);
			close(fd);
			fd = next;
			if (fd < 0)
				rc = wd_err_sys(err, -fd, "/%s: open /%s", entry, path);
		}
		if (end < len)
			path[end] = '/';
		i = end + 1;
	}
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		free(path);
		return rc;
	}
	if (st->cache_fd >= 0)
		close(st->cache_fd);
	free(st->cache_rel);
	st->cache_rel = path;
	st->cache_fd = fd;
	*out = fd;
	return 0;
}

static int set_owner(struct stage *st, int dirfd, const char *base, const char *rel, uint64_t uid,
		     uint64_t gid, struct wd_err *err)
{
	if (!st->keep_owners)
		return 0;
	if (fchownat(dirfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		return wd_err_sys(err, errno, "/%s: chown %llu:%llu", rel, (unsigned long long)uid,
				  (unsigned long long)gid);
	return 0;
}

static int set_time(struct stage *st, int dirfd, const char *base, const char *rel,
		    struct wd_err *err)
{
	struct timespec ts[2] = {{(time_t)st->epoch, 0}, {(time_t)st->epoch, 0}};

	if (utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return wd_err_sys(err, errno, "/%s: set times", rel);
	return 0;
}

/* A regular file: created 0600, filled, then owner, mode, times on its fd. */
static int make_file(struct stage *st, int dirfd, const char *base, const struct stage_item *it,
		     uint32_t mode, struct wd_err *err)
{
	struct timespec ts[2] = {{(time_t)st->epoch, 0}, {(time_t)st->epoch, 0}};
	uint64_t done = 0;
	int fd, rc = 0;

	if ((rc = charge(st, it->rel, it->size, err)) < 0)
		return rc;
	fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return wd_err_sys(err, errno, "/%s: create", it->rel);
	for (;;) {
		size_t got;

		rc = it->read(it->read_ctx, st->copybuf, STAGE_COPY_BYTES, &got, err);
		if (rc < 0) {
			rc = wd_err_wrap(err, "/%s", it->rel);
			break;
		}
		if (got == 0)
			break;
		done += got;
		if (done > it->size) {
			rc = wd_err_set(err, EIO, "/%s: grew past %llu bytes while read", it->rel,
					(unsigned long long)it->size);
			break;
		}
		rc = wd_write_all(fd, st->copybuf, got);
		if (rc < 0) {
			rc = wd_err_sys(err, -rc, "/%s: write", it->rel);
			break;
		}
	}
	if (rc == 0 && done != it->size)
		rc = wd_err_set(err, EIO, "/%s: %llu bytes read, %llu expected", it->rel,
				(unsigned long long)done, (unsigned long long)it->size);
	if (rc == 0 && st->keep_owners && fchown(fd, (uid_t)it->uid, (gid_t)it->gid) < 0)
		rc = wd_err_sys(err, errno, "/%s: chown %llu:%llu", it->rel,
				(unsigned long long)it->uid, (unsigned long long)it->gid);
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = wd_err_sys(err, errno, "/%s: chmod", it->rel);
	if (rc == 0 && futimens(fd, ts) < 0)
		rc = wd_err_sys(err, errno, "/%s: set times", it->rel);
	if (close(fd) < 0 && rc == 0)
		rc = wd_err_sys(err, errno, "/%s: close", it->rel);
	if (rc == 0)
		st->rep->bytes += done;
	return rc;
}

/* The checks on a symlink's target (rootfs.h's rules). */
static int check_symlink(const struct stage_item *it, const char *rel_dir, struct wd_err *err)
{
	size_t n = strlen(it->link);

	if (n == 0)
		return wd_err_set(err, EINVAL, "/%s: a symlink to nothing", it->rel);
	if (n > WD_ROOTFS_LINK_MAX)
		return wd_err_set(err, ENAMETOOLONG, "/%s: symlink target longer than %d bytes",
				  it->rel, WD_ROOTFS_LINK_MAX);
	if (!rootfs_text_ok(it->link, n))
		return wd_err_set(err, EINVAL,
				  "/%s: symlink target is not UTF-8 or holds a control character",
				  it->rel);
	if (rootfs_link_climbs(rel_dir, it->link))
		return wd_err_set(err, EINVAL, "/%s: symlink target %s climbs above the root",
				  it->rel, it->link);
	return 0;
}

static int strip_special(struct stage *st, const struct stage_item *it)
{
	const char *what = it->type == 'c'   ? "char-device"
			   : it->type == 'b' ? "block-device"
					     : "socket";

	if (it->type == 's') {
		st->rep->stripped_sockets++;
		if (!st->quiet)
			wd_warn("rootfs: /%s: socket left out", it->rel);
	} else {
		st->rep->stripped_devices++;
		if (!st->quiet)
			wd_warn("rootfs: /%s: %s device %u:%u left out", it->rel,
				it->type == 'c' ? "char" : "block", it->devmajor, it->devminor);
	}
	note(st, it->rel, what);
	return 0;
}

static void strip_setid(struct stage *st, const struct stage_item *it, uint32_t *mode)
{
	uint32_t bits = it->mode & (S_ISUID | S_ISGID);
	const char *what = bits == (S_ISUID | S_ISGID) ? "setuid+setgid"
			   : bits == S_ISUID           ? "setuid"
						       : "setgid";

	*mode = it->mode & 07777 & ~(uint32_t)(S_ISUID | S_ISGID);
	if (bits == 0)
		return;
	st->rep->stripped_setid++;
	if (!st->quiet)
		wd_warn("rootfs: /%s: %s bit%s stripped (mode %04o -> %04o)", it->rel, what,
			bits == (S_ISUID | S_ISGID) ? "s" : "", it->mode & 07777, *mode);
	note(st, it->rel, what);
}

/* Owners are checked before anything is made: a uid that cannot be one. */
static int check_owner(const struct stage_item *it, struct wd_err *err)
{
	if (it->uid >= UINT32_MAX || it->gid >= UINT32_MAX)
		return wd_err_set(err, ERANGE, "/%s: owner %llu:%llu out of range", it->rel,
				  (unsigned long long)it->uid, (unsigned long long)it->gid);
	return 0;
}

/* The root entry ("./"): only its mode and owner matter. */
static int stage_root(struct stage *st, const struct stage_item *it, uint32_t mode,
		      struct wd_err *err)
{
	struct stage_node *n = lookup(st, "");

	if (it->type != 'd')
		return wd_err_set(err, EINVAL, "/: the root must be a directory, not a %s",
				  type_word(it->type));
	n->mode = mode;
	n->uid = it->uid;
	n->gid = it->gid;
	return 0;
}

int stage_add(struct stage *st, const struct stage_item *it, struct wd_err *err)
{
	char *rel_dir;
	const char *base, *slash = strrchr(it->rel, '/');
	char type = it->type;
	struct stage_node *n, *target = NULL;
	uint32_t mode = 0;
	int dirfd = -1, rc = 0;

	if (++st->read_entries > st->max_entries)
		return wd_err_set(err, E2BIG, "/%s: more than %llu entries", it->rel,
				  (unsigned long long)st->max_entries);
	if ((rc = check_owner(it, err)) < 0)
		return rc;
	if (type == 'c' || type == 'b' || type == 's')
		return strip_special(st, it);
	/* A hard link's mode is its target's, stripped when that was staged. */
	if (type != 'h')
		strip_setid(st, it, &mode);
	if (it->rel[0] == '\0')
		return stage_root(st, it, mode, err);

	rel_dir = strdup(it->rel);
	if (rel_dir == NULL)
		return wd_err_sys(err, ENOMEM, "/%s", it->rel);
	rel_dir[slash != NULL ? (size_t)(slash - it->rel) : 0] = '\0';
	base = slash != NULL ? slash + 1 : it->rel;

	if (type == 'l') {
		rc = check_symlink(it, rel_dir, err);
	} else if (type == 'h') {
		target = lookup(st, it->link);
		if (target == NULL || target->type == 'd' || strcmp(it->link, it->rel) == 0)
			rc = wd_err_set(
				err, EINVAL,
				"/%s: hard link to /%s, which is not an earlier entry of the "
				"tree (or is a directory or the link itself)",
				it->rel, it->link);
		else
			type = target->type;
	}
	if (rc == 0)
		rc = open_dir(st, it->rel, rel_dir, &dirfd, err);
	free(rel_dir);
	if (rc < 0)
		return rc;

	/* A second entry at the same path: same type replaces, another refuses. */
	n = lookup(st, it->rel);
	if (n != NULL && n->type != type)
		return wd_err_set(err, EEXIST, "/%s: a %s, but an earlier entry made it a %s",
				  it->rel, type_word(type), type_word(n->type));
	if (n != NULL && type == 'd') {
		n->mode = mode;
		n->uid = it->uid;
		n->gid = it->gid;
		return 0;
	}
	/* Before it is made; a path given again is charged again (as its
	 * content is), so replacing cannot stage more than was charged. */
	if ((rc = charge(st, it->rel, path_cost(it->type, base, it->link), err)) < 0)
		return rc;
	if (n != NULL && unlinkat(dirfd, base, 0) < 0)
		return wd_err_sys(err, errno, "/%s: replace the earlier entry", it->rel);

	if (it->type == 'h') {
		char *tdir = strdup(target->rel);
		const char *tslash = strrchr(target->rel, '/');
		const char *tbase = tslash != NULL ? tslash + 1 : target->rel;
		int tfd;

		if (tdir == NULL)
			return wd_err_sys(err, ENOMEM, "/%s", it->rel);
		tdir[tslash != NULL ? (size_t)(tslash - target->rel) : 0] = '\0';
		tfd = rootfs_open_beneath(st->root, tdir, O_RDONLY | O_DIRECTORY);
		free(tdir);
		if (tfd < 0)
			return wd_err_sys(err, -tfd, "/%s: open the directory of /%s", it->rel,
					  target->rel);
		/* flags 0: a link to a symlink links the symlink, never its target */
		rc = linkat(tfd, tbase, dirfd, base, 0) < 0
			     ? wd_err_sys(err, errno, "/%s: link to /%s", it->rel, target->rel)
			     : 0;
		close(tfd);
		mode = target->mode;
	} else if (type == 'd') {
		rc = mkdirat(dirfd, base, 0700) < 0 ? wd_err_sys(err, errno, "/%s: mkdir", it->rel)
						    : 0;
	} else if (type == 'f') {
		rc = make_file(st, dirfd, base, it, mode, err);
	} else if (type == 'l') {
		rc = symlinkat(it->link, dirfd, base) < 0
			     ? wd_err_sys(err, errno, "/%s: symlink", it->rel)
			     : set_owner(st, dirfd, base, it->rel, it->uid, it->gid, err);
		if (rc == 0)
			rc = set_time(st, dirfd, base, it->rel, err);
		mode = 0777;
	} else if (type == 'p') {
		rc = mknodat(dirfd, base, S_IFIFO | 0600, 0) < 0
			     ? wd_err_sys(err, errno, "/%s: mkfifo", it->rel)
			     : set_owner(st, dirfd, base, it->rel, it->uid, it->gid, err);
		/* A FIFO this run just made in its private directory: no link to follow. */
		if (rc == 0 && fchmodat(dirfd, base, mode, 0) < 0)
			rc = wd_err_sys(err, errno, "/%s: chmod", it->rel);
		if (rc == 0)
			rc = set_time(st, dirfd, base, it->rel, err);
	} else {
		rc = wd_err_set(err, EINVAL, "/%s: unknown type '%c'", it->rel, type);
	}
	if (rc < 0)
		return rc;
	if (it->has_caps) {
		st->rep->dropped_caps++;
		if (!st->quiet)
			wd_warn("rootfs: /%s: security.capability not copied", it->rel);
		note(st, it->rel, "capability");
	}
	if (n != NULL) {
		n->mode = mode;
		n->uid = it->type == 'h' ? target->uid : it->uid;
		n->gid = it->type == 'h' ? target->gid : it->gid;
		return 0;
	}
	return insert(st, it->rel, type, mode, it->type == 'h' ? target->uid : it->uid,
		      it->type == 'h' ? target->gid : it->gid, &n, err);
}

static int by_rel_desc(const void *a, const void *b)
{
	const struct stage_node *x = ((const struct stage_slot *)a)->node;
	const struct stage_node *y = ((const struct stage_slot *)b)->node;

	return strcmp(y->rel, x->rel);
}

/*
 * Directories last, deepest first (a path sorts after its parent, so
 * descending order visits children first): owner, mode, times. Also counts
 * the owners that --all-root changes.
 */
int stage_finish(struct stage *st, struct wd_err *err)
{
	struct timespec ts[2] = {{(time_t)st->epoch, 0}, {(time_t)st->epoch, 0}};
	struct stage_slot *dirs;
	size_t ndirs = 0;
	int rc = 0;

	if (st->cache_fd >= 0) {
		close(st->cache_fd);
		st->cache_fd = -1;
		free(st->cache_rel);
		st->cache_rel = NULL;
	}
	dirs = malloc((st->nnodes + 1) * sizeof(*dirs));
	if (dirs == NULL)
		return wd_err_sys(err, ENOMEM, "finishing %zu directories", st->nnodes);
	for (size_t i = 0; i < st->nslots; i++) {
		const struct stage_node *n = st->slots[i].node;

		if (n == NULL)
			continue;
		if (!st->keep_owners && (n->uid != 0 || n->gid != 0))
			st->rep->chowned++;
		if (n->type == 'd')
			dirs[ndirs++] = st->slots[i];
	}
	qsort(dirs, ndirs, sizeof(*dirs), by_rel_desc);
	for (size_t i = 0; i < ndirs && rc == 0; i++) {
		const struct stage_node *n = dirs[i].node;
		int fd = rootfs_open_beneath(st->root, n->rel, O_RDONLY | O_DIRECTORY);

		if (fd < 0) {
			rc = wd_err_sys(err, -fd, "/%s: open", n->rel);
			break;
		}
		if (st->keep_owners && fchown(fd, (uid_t)n->uid, (gid_t)n->gid) < 0)
			rc = wd_err_sys(err, errno, "/%s: chown %llu:%llu", n->rel,
					(unsigned long long)n->uid, (unsigned long long)n->gid);
		if (rc == 0 && fchmod(fd, n->mode) < 0)
			rc = wd_err_sys(err, errno, "/%s: chmod", n->rel);
		if (rc == 0 && futimens(fd, ts) < 0)
			rc = wd_err_sys(err, errno, "/%s: set times", n->rel);
		close(fd);
	}
	free(dirs);
	if (rc == 0 && st->rep->chowned > 0 && !st->quiet)
		wd_warn("rootfs: %llu entries not owned by 0:0 become 0:0 (%s)",
			(unsigned long long)st->rep->chowned,
			geteuid() == 0 ? "all_root asked" : "not building as root");
	return rc;
}
