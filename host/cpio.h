/*
 * host/cpio.h - the initramfs's archive format, "newc" cpio (magic
 * 070701, the format the kernel unpacks; Documentation/driver-api/
 * early-userspace/buffer-format.rst): a bounded reader and a reproducible
 * writer, for the image tool (host/image*.c) and wd_image_policy().
 *
 * Reading takes an archive from outside (`--base FILE`, an image
 * directory) already decompressed in memory: every field is checked
 * before it is used, nothing is read beyond the buffer, and the archive
 * is refused, naming the entry, for: a bad magic or hex field, a name
 * that is empty, absolute, not NUL-terminated where namesize says, longer
 * than WD_CPIO_NAME_MAX or with ".", ".." or empty components; more than
 * WD_CPIO_MAX_ENTRIES entries; a file over WD_CPIO_FILE_MAX bytes; a type
 * other than regular file, directory, symlink or character device;
 * setuid, setgid or sticky bits; a hard link (nlink over 1 on a
 * non-directory); a symlink target empty, over WD_CPIO_TARGET_MAX or
 * holding a NUL; data on a directory or device; the same name twice; an
 * entry whose parent is not a directory of the archive; no TRAILER!!!;
 * anything but zero padding after it. Fuzz target: tests/fuzz/fuzz_cpio.c.
 *
 * Writing (wd_cpio_write) gives the bytes GNU cpio's `-o -H newc
 * --reproducible -R 0:0` gives for the same sorted tree, which is how
 * image/mkinitramfs.sh builds the base: entries sorted by name in byte
 * order, inode numbers 0, 1, 2... in that order, owner 0:0, device 0,
 * one mtime for all, a directory's nlink 2 plus its subdirectories, the
 * trailer, zeros up to a multiple of 512 bytes.
 *
 * Entries either point into the parsed buffer (which the caller keeps
 * alive until wd_cpio_free) or own copies (wd_cpio_add).
 */
#ifndef WARDEN_HOST_CPIO_H
#define WARDEN_HOST_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define WD_CPIO_MAX_ENTRIES 65536            /* entries of one archive */
#define WD_CPIO_NAME_MAX 4096                /* a name, bytes, its NUL included */
#define WD_CPIO_TARGET_MAX 4095              /* a symlink target, bytes */
#define WD_CPIO_FILE_MAX ((size_t)256 << 20) /* one file, bytes */
#define WD_CPIO_MAX_BYTES ((size_t)1 << 30)  /* a whole archive, decompressed */

struct wd_cpio_entry {
	const char *name;    /* relative, "bin/busybox" */
	uint32_t mode;       /* type and permission bits (S_IFREG | 0755) */
	uint32_t uid, gid;   /* as read; the writer writes 0 */
	uint64_t mtime;      /* as read; the writer writes its own */
	const uint8_t *data; /* file content, or a symlink's target (no NUL) */
	size_t size;
	uint32_t rmajor, rminor; /* character devices */
	char *own_name;          /* this archive's copies of name and data, */
	uint8_t *own_data;       /* freed with it; NULL when they point into the input */
};

struct wd_cpio {
	struct wd_cpio_entry *e;
	size_t n, cap;
};

/* Parse `len` bytes (at most WD_CPIO_MAX_BYTES) into `c` (initialised
 * here; freed on failure). */
int wd_cpio_parse(const uint8_t *p, size_t len, struct wd_cpio *c, struct wd_err *err);

/* The entry named `name` (relative, as in the archive), or NULL. */
const struct wd_cpio_entry *wd_cpio_find(const struct wd_cpio *c, const char *name);

/* Remove the entry `name`; true when there was one. */
bool wd_cpio_remove(struct wd_cpio *c, const char *name);

/*
 * Add an entry (name and data are copied). -EEXIST when the name is
 * there; -EINVAL for a name or mode the reader would refuse; the parent
 * directories must be there already (wd_cpio_add_dirs adds them).
 */
int wd_cpio_add(struct wd_cpio *c, const char *name, uint32_t mode, const void *data, size_t size,
		struct wd_err *err);

/* The parent directories of `name` that are missing, as 0755 dirs. */
int wd_cpio_add_dirs(struct wd_cpio *c, const char *name, struct wd_err *err);

/* Sort by name (byte order): the writer's order, parents first. */
void wd_cpio_sort(struct wd_cpio *c);

/* Write the sorted archive to `fd` as described above. */
int wd_cpio_write(const struct wd_cpio *c, uint64_t mtime, int fd, struct wd_err *err);

void wd_cpio_free(struct wd_cpio *c);

#endif
