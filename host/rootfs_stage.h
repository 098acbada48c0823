/*
 * host/rootfs_stage.h - the inside of host/rootfs.c, shared by its sources
 * (the tar in rootfs.c, a directory in rootfs_dir.c), the tree listing
 * (rootfs_tree.c) and the fuzz target. Not for other callers: they use
 * rootfs.h.
 *
 * A source turns each of its entries into one struct stage_item and hands
 * it to stage_add(), which applies every rule of rootfs.h and creates the
 * entry in the staging directory; stage_finish() then gives directories
 * their modes, owners and times, deepest first.
 */
#ifndef WARDEN_HOST_ROOTFS_STAGE_H
#define WARDEN_HOST_ROOTFS_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/types.h>

#include "../common/err.h"

/* Defined in rootfs.h, which is not included here: rootfs.c includes both,
 * and a header must not include its includer's header back. */
struct wd_rootfs_opts;
struct wd_rootfs_report;

/* What stage_add() is given. Paths are relative to the tree's root,
 * normalised (rootfs_norm): "usr/bin/su", "" for the root itself. */
struct stage_item {
	const char *rel;
	char type;     /* f d h l p c b s (h: `link` is an earlier entry's rel) */
	uint32_t mode; /* 07777 */
	uint64_t uid, gid;
	const char *link; /* symlink target (as in the source) or hard link rel */
	uint32_t devmajor, devminor;
	bool has_caps;
	uint64_t size; /* files: the bytes `read` gives (a directory source checks it) */
	int (*read)(void *ctx, void *buf, size_t n, size_t *got, struct wd_err *err);
	void *read_ctx;
};

struct stage_node; /* one staged path (rootfs.c) */
struct stage_slot {
	struct stage_node *node; /* NULL: free */
};

struct stage {
	int root; /* the staging directory */
	uint64_t epoch;
	uint64_t max_entries, max_bytes;
	bool keep_owners; /* running as root and not all_root: lchown */
	bool quiet;
	struct wd_rootfs_report *rep;
	uint64_t read_entries; /* entries the source gave, stripped ones included */
	uint64_t name_bytes;   /* bytes of paths held (WD_ROOTFS_NAME_BYTES_MAX) */
	/* The index of staged paths: an open-addressing hash table. */
	struct stage_slot *slots;
	size_t nslots, nnodes;
	/* The last parent directory opened, kept open: entries come in runs. */
	char *cache_rel;
	int cache_fd;
	char *copybuf; /* STAGE_COPY_BYTES */
};

#define STAGE_COPY_BYTES (128UL * 1024UL)

int stage_init(struct stage *st, int root, uint64_t epoch, const struct wd_rootfs_opts *opts,
	       struct wd_rootfs_report *rep, struct wd_err *err);
int stage_add(struct stage *st, const struct stage_item *it, struct wd_err *err);
int stage_finish(struct stage *st, struct wd_err *err);
void stage_free(struct stage *st);

/* (dev, ino) -> a caller's index, for hard links (rootfs_tree.c). */
struct ino_slot {
	bool used;
	dev_t dev;
	ino_t ino;
	size_t value;
};
struct ino_map {
	struct ino_slot *slots; /* open addressing, a power of two */
	size_t cap, count;
};
const struct ino_slot *ino_map_find(const struct ino_map *m, dev_t dev, ino_t ino);
int ino_map_add(struct ino_map *m, dev_t dev, ino_t ino, size_t value); /* 0 or -ENOMEM */
void ino_map_free(struct ino_map *m);

/* A growing list of strings (rootfs_tree.c): the walks' stacks and tables. */
struct strv {
	char **v;
	size_t n, cap;
};
int strv_push(struct strv *sv, const char *s); /* a copy; 0 or -ENOMEM */
char *strv_pop(struct strv *sv);               /* the last, now the caller's; NULL if none */
void strv_free(struct strv *sv);

/* The listing's type letter for a st_mode: d f l p c b s, '?' for none of them. */
char rootfs_type_char(mode_t mode);

/* A directory stream of the directory `fd` (which stays the caller's, its
 * offset untouched), or NULL with errno set. */
DIR *dir_stream(int fd);

/* A directory source (rootfs_dir.c): `srcfd` is the opened directory. */
int stage_dir(struct stage *st, int srcfd, struct wd_err *err);

/*
 * A name from a source as a normalised relative path in out (at least
 * WD_ROOTFS_PATH_MAX + 1 bytes): "./usr//bin/" becomes "usr/bin", "./" and
 * "." become "". *dir_slash says the name ended in '/'. Refused (-EINVAL,
 * *why says which rule): empty, absolute, a ".." component, not UTF-8, a
 * control character (C0, DEL, C1); -ENAMETOOLONG past WD_ROOTFS_PATH_MAX.
 */
int rootfs_norm(const char *name, char *out, bool *dir_slash, const char **why);

/* Valid UTF-8 without a control character (C0, DEL, C1)? */
bool rootfs_text_ok(const char *s, size_t n);

/*
 * Does the relative symlink `target`, placed in the directory `rel_dir`
 * (normalised), climb above the root, lexically? Absolute targets never do
 * (they resolve inside the image).
 */
bool rootfs_link_climbs(const char *rel_dir, const char *target);

/* openat2(dirfd, rel or "." for "", flags, RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): an fd or -errno. */
int rootfs_open_beneath(int dirfd, const char *rel, int flags);

#endif
