/*
 * host/rootfs.h - stage a root filesystem (a directory or a plain tar) into
 * a private directory, by the image's rules, for mkfs.erofs.
 *
 * Called by `warden image build --rootfs DIR|TAR` (host/image*.c) on the
 * host, as root or not. The source is untrusted input: a tar from anywhere,
 * or a directory someone else filled. The staged tree is what the guest's
 * verified root filesystem will hold, so every rule below is applied here,
 * once, and every outcome is one stderr line naming the entry (common/log,
 * level warn, "rootfs: /usr/bin/su: setuid bit stripped"), unless `quiet`.
 *
 * Nothing is created by following a symlink: every parent directory is
 * opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from the
 * staging directory's fd, and files, directories, links and FIFOs are made
 * with openat(O_CREAT|O_EXCL|O_NOFOLLOW), mkdirat, symlinkat, linkat and
 * mknodat relative to that parent. A directory source is walked the same
 * way (openat O_NOFOLLOW|O_DIRECTORY, fstatat AT_SYMLINK_NOFOLLOW), never
 * through a symlink.
 *
 * The rules (docs/image.md, "Root filesystem rules"):
 *
 *   stripped, with a line (the build goes on):
 *     setuid / setgid bits    cleared, the entry kept (directories too);
 *     char / block devices    left out;
 *     sockets                 left out;
 *     security.capability     never copied (no xattr is); a line per file
 *                             whose source carried one;
 *   kept: regular files, directories, symlinks (targets never followed;
 *   absolute targets kept, they resolve inside the image in the guest),
 *   hard links, FIFOs, the sticky bit;
 *   refused (the build fails, the error names the entry):
 *     an absolute name, a ".." component, an empty name;
 *     a name or symlink target that is not UTF-8 or holds a control
 *     character (C0, DEL, C1);
 *     a hard link whose target is not an earlier entry inside the tree (or
 *     is the entry itself, or a directory);
 *     a relative symlink whose target climbs above the tree root,
 *     lexically, from the link's own directory;
 *     an entry placed under a symlink (a parent component is a link);
 *     a second entry at a path of another type (a later entry of the same
 *     type replaces the earlier one, as tar does; a directory's mode and
 *     owner are updated);
 *     anything tarread.h refuses (sparse files, unknown types, ...).
 *   Ownership: kept (lchown) when running as root, unless `all_root`;
 *   otherwise every entry is 0:0 in the image (mkfs.erofs --all-root) and
 *   one line says how many entries changed owner (rep->chowned).
 *   Times: every mtime and atime becomes `epoch` (directories last).
 *   Modes: as in the source without setuid/setgid; directories are 0700
 *   while they are filled and get their mode at the end.
 *
 * Bounds: WD_ROOTFS_PATH_MAX bytes per path, WD_ROOTFS_LINK_MAX per
 * symlink target, the entries read from the source and the paths in the
 * staged tree besides "/" (each at most max_entries, default
 * WD_ROOTFS_MAX_ENTRIES) and the bytes charged for the staged tree
 * (default WD_ROOTFS_MAX_BYTES, `--max-size`), each an error naming the
 * entry that crossed it. Charged, each before it is made: every path in
 * the tree ("/" and the parents made for an entry too) WD_ROOTFS_ENTRY_BYTES
 * plus its name's last component, a directory WD_ROOTFS_DIR_BYTES more, a
 * symlink its target's length, a file its content (a hard link only its
 * name; an entry given again is charged again, a directory excepted). So directories, symlinks and hard
 * links, which hold no file bytes but cost an inode, a directory entry and
 * blocks in staging and in erofs, count as well; the paths held in memory (the index of staged paths that
 * the rules need, the listing's sort, the names of the source directory
 * being read) at most WD_ROOTFS_NAME_BYTES_MAX bytes in all. A source
 * directory's names are counted while it is read, against what is left
 * of both bounds, and the error names the directory: a directory of ten
 * million names costs no more memory than the bounds allow. Tar-level
 * bounds are in tarread.h.
 *
 * Failure: returns a negative errno with `err` set; the staging directory
 * is left part-filled, and the caller removes it with wd_rootfs_remove()
 * (which also gets into a staged directory whose mode keeps its owner out,
 * 0555 or 0000, as a build without root needs).
 */
#ifndef WARDEN_HOST_ROOTFS_H
#define WARDEN_HOST_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define WD_ROOTFS_PATH_MAX 4096                      /* bytes of a path in the tree */
#define WD_ROOTFS_LINK_MAX 4095                      /* bytes of a symlink target */
#define WD_ROOTFS_MAX_ENTRIES 1000000ULL             /* default: entries read from the source */
#define WD_ROOTFS_MAX_BYTES (8ULL << 30)             /* default: bytes charged (8 GiB) */
#define WD_ROOTFS_ENTRY_BYTES 256ULL                 /* charged per path: inode, dir entry */
#define WD_ROOTFS_DIR_BYTES 4096ULL                  /* charged per directory besides: a block */
#define WD_ROOTFS_NAME_BYTES_MAX (256ULL << 20)      /* bytes of all paths held in memory */
#define WD_ROOTFS_STRIPPED_MAX 4096                  /* stripped entries kept in the report */
#define WD_ROOTFS_TREE_FORMAT "warden-rootfs-tree 1" /* first line of the listing */

struct wd_rootfs_opts {
	uint64_t max_entries; /* 0: WD_ROOTFS_MAX_ENTRIES */
	uint64_t max_bytes;   /* 0: WD_ROOTFS_MAX_BYTES */
	bool all_root;        /* every owner 0:0 even when running as root */
	bool quiet;           /* no per-entry lines (tests, fuzzing); the report is the same */
};

/* One stripped entry, for the manifest's rootfs.stripped. */
struct wd_rootfs_stripped {
	char *path;       /* "/usr/bin/su": rooted, valid UTF-8, no control character */
	const char *what; /* "setuid", "setgid", "setuid+setgid", "char-device",
			     "block-device", "socket", "capability" (static strings) */
};

struct wd_rootfs_report {
	uint64_t entries;          /* paths in the staged tree, "/" included */
	uint64_t bytes;            /* file bytes written (a hard-linked file once) */
	uint64_t charged;          /* bytes charged against max_bytes (above), at most it */
	uint64_t stripped_setid;   /* entries whose setuid/setgid bits were cleared */
	uint64_t stripped_devices; /* char and block devices left out */
	uint64_t stripped_sockets; /* sockets left out */
	uint64_t dropped_caps;     /* files whose security.capability was not copied */
	uint64_t chowned;          /* entries whose owner becomes 0:0 (when all_root) */
	bool all_root;             /* owners are not kept: pass --all-root to mkfs.erofs */
	bool from_tar;             /* the source was a tar (else a directory) */
	/* tar: SHA-256 of the tar's bytes; directory: of the staged tree's
	 * listing (wd_rootfs_tree), the manifest's sources[].sha256 */
	uint8_t source_sha256[32];
	/* The first WD_ROOTFS_STRIPPED_MAX stripped entries, in source order;
	 * stripped_more counts those left out of the list. */
	struct wd_rootfs_stripped *stripped;
	size_t nstripped;
	uint64_t stripped_more;
};

/*
 * Stage `src` (a directory, or anything else opened and read as a tar: a
 * file, a FIFO, /dev/stdin) into `stage_dirfd`, which must be an empty
 * directory that only the caller can write to. `epoch` is
 * SOURCE_DATE_EPOCH (at most INT64_MAX). `opts` may be NULL (defaults).
 * `rep` is filled (zeroed first) and must be freed with
 * wd_rootfs_report_free(), also after a failure.
 */
int wd_rootfs_stage(const char *src, int stage_dirfd, uint64_t epoch,
		    const struct wd_rootfs_opts *opts, struct wd_rootfs_report *rep,
		    struct wd_err *err);

/* The same with a tar already open on `tar_fd` (read to its end, not
 * closed); `name` is used in messages only. */
int wd_rootfs_stage_tar(int tar_fd, const char *name, int stage_dirfd, uint64_t epoch,
			const struct wd_rootfs_opts *opts, struct wd_rootfs_report *rep,
			struct wd_err *err);

void wd_rootfs_report_free(struct wd_rootfs_report *rep);

/*
 * Remove the staging directory `path` and everything in it, never following
 * a symlink, giving each directory mode 0700 first. "" or NULL does
 * nothing; a missing path is not an error.
 */
int wd_rootfs_remove(const char *path, struct wd_err *err);

/*
 * The listing of the tree under `dirfd` (a staged tree), sorted and
 * deterministic, and its SHA-256: the "tree digest" (the erofs UUID is made
 * from it; a directory source's manifest digest is it). Written to `out_fd`
 * as well unless it is -1. Format (text, one line per entry, "\n" ends each):
 *
 *   warden-rootfs-tree 1
 *   PATH TYPE MODE UID GID SIZE EXTRA
 *
 * PATH is rooted ("/", "/usr/bin/su"), with '%', space, the other bytes
 * below 0x21 and 0x7f written as %XX (upper-case hex), every other byte as
 * it is, so a line splits on spaces. Lines are sorted by PATH's raw bytes.
 * TYPE is one of d f h l p c b s; MODE four octal digits (07777 bits);
 * UID GID decimal, "0 0" for every entry when `all_root`; SIZE a file's
 * bytes (f and h; 0 for the others); EXTRA: for f the content's SHA-256 in lower-case
 * hex, for h the PATH (escaped) of the first path in sort order with the
 * same inode (that one is listed as f), for l the target (escaped), for c
 * and b "MAJOR:MINOR", "-" for the others. Times and xattrs are not listed
 * (times are all the epoch; xattrs are never copied). At most
 * `max_entries` paths besides "/" (0: WD_ROOTFS_MAX_ENTRIES), symlinks never
 * followed.
 */
int wd_rootfs_tree(int dirfd, bool all_root, uint64_t max_entries, int out_fd, uint8_t sha256[32],
		   struct wd_err *err);

#endif
