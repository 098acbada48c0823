/*
 * host/tarread.h - a bounded, streaming reader of plain tar archives.
 *
 * Owns the parsing of a tar stream that `warden image build --rootfs TAR`
 * was given: anything the operator (or whoever made the tar: a `docker
 * export`, a download) put there. It reads from a file descriptor, front to
 * back, never seeking, so a pipe works. host/rootfs.c is its user; the
 * reader itself creates no file.
 *
 * Formats: POSIX ustar ("ustar\0" "00", with its 155-byte prefix), GNU
 * ("ustar  \0"; no prefix), POSIX.1-2001 pax extended headers ('x', and
 * global 'g'), GNU long names ('L') and long link names ('K'); a GNU volume
 * label ('V') is read and ignored. Numbers in octal or in GNU base-256.
 * Every header's checksum is checked.
 *
 * Pax keywords honoured: path, linkpath, size, uid, gid, mtime (parsed, the
 * caller replaces it), SCHILY.xattr.security.capability and
 * LIBARCHIVE.xattr.security.capability (noticed: `has_caps`, the value is
 * never kept). GNU.sparse.* is refused (sparse files are not supported).
 * Other keywords (atime, ctime, uname, gname, charset, comment,
 * SCHILY.xattr.*, ...) are ignored, as POSIX asks. A global header ('g')
 * may carry uid, gid, mtime and ignorable keywords; a global path,
 * linkpath or size is refused.
 *
 * Refused, each with an error naming the header's byte offset and, when it
 * has one, the entry's name: a bad checksum or magic (v7 tars, compressed
 * data), sparse files ('S' and GNU.sparse.*), multi-volume ('M'), every
 * type not listed in enum wd_tar_type, a malformed pax record, a number
 * that does not fit, a name holding a NUL, a GNU long name and a pax path
 * for the same entry (which one wins differs between tools), two of the
 * same extension for one entry, and an archive that ends without its
 * end-of-archive marker (two zero blocks) or inside an entry's data: a
 * truncated tar is an error, never a smaller tree.
 *
 * Bounds (named constants below; exceeding one is an error, E2BIG or
 * ENAMETOOLONG, naming the entry): a path, a link target, one pax header,
 * the extension headers in front of one entry, the bytes after the
 * end-of-archive marker.
 *
 * Memory: one struct wd_tar (about 80 KiB, allocated by wd_tar_open for the
 * pax buffer) and the caller's struct wd_tar_entry (about 8 KiB). No other
 * allocation. Every byte read is hashed: wd_tar_finish() gives the SHA-256
 * of the whole stream, the tar's digest for the image's manifest.
 *
 * Names are handed on as they are in the archive (raw bytes, NUL-free,
 * possibly absolute or with ".."): judging them is the caller's job
 * (host/rootfs.c).
 */
#ifndef WARDEN_HOST_TARREAD_H
#define WARDEN_HOST_TARREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/sha256.h"

#define WD_TAR_BLOCK 512               /* bytes per header and data block */
#define WD_TAR_PATH_MAX 4096           /* bytes of an entry's name, NUL excluded */
#define WD_TAR_LINK_MAX 4095           /* bytes of a link target, NUL excluded */
#define WD_TAR_PAX_MAX (64UL * 1024UL) /* bytes of one pax header ('x', 'g'), of a 'V' label */
#define WD_TAR_EXT_MAX 8               /* extension headers (x, g, L, K, V) before one entry */
#define WD_TAR_TRAILER_MAX (1024UL * 1024UL) /* bytes after the end-of-archive marker */

/* What an entry is (the type flag, normalised). */
enum wd_tar_type {
	WD_TAR_FILE = 'f',     /* '0', '\0' and '7' (contiguous) */
	WD_TAR_HARDLINK = 'h', /* '1': `link` names an earlier entry */
	WD_TAR_SYMLINK = 'l',  /* '2': `link` is the target */
	WD_TAR_CHAR = 'c',     /* '3' */
	WD_TAR_BLOCKDEV = 'b', /* '4' */
	WD_TAR_DIR = 'd',      /* '5' */
	WD_TAR_FIFO = 'p',     /* '6' */
};

struct wd_tar_entry {
	char path[WD_TAR_PATH_MAX + 1]; /* as in the archive, NUL-terminated, never empty */
	char link[WD_TAR_LINK_MAX + 1]; /* hard link / symlink target, "" otherwise */
	enum wd_tar_type type;
	uint32_t mode;          /* permission bits with setuid, setgid, sticky (07777) */
	uint64_t uid, gid;      /* numeric owner (names are ignored) */
	uint64_t size;          /* data bytes that follow (files only; 0 for the others) */
	int64_t mtime;          /* seconds (the caller replaces it with the build epoch) */
	uint32_t devmajor;      /* for WD_TAR_CHAR and WD_TAR_BLOCKDEV */
	uint32_t devminor;      /* for WD_TAR_CHAR and WD_TAR_BLOCKDEV */
	bool has_caps;          /* a security.capability xattr came with it (pax) */
	uint64_t header_offset; /* byte offset of the entry's first header (for messages) */
};

struct wd_tar; /* opaque */

/* Start reading the tar on `fd` (not closed by the reader). */
int wd_tar_open(int fd, struct wd_tar **out, struct wd_err *err);

/*
 * The next entry into *e: returns 1 with *e filled, 0 at the end-of-archive
 * marker, or a negative errno with `err` set. The data of the previous
 * entry that the caller did not read is skipped (and hashed).
 */
int wd_tar_next(struct wd_tar *t, struct wd_tar_entry *e, struct wd_err *err);

/*
 * Up to `n` bytes of the current entry's data into buf; *got is the count,
 * 0 once all `size` bytes were read. Returns 0 or a negative errno (a
 * truncated archive is -EIO, "truncated").
 */
int wd_tar_read(struct wd_tar *t, void *buf, size_t n, size_t *got, struct wd_err *err);

/*
 * After wd_tar_next() returned 0: read what follows the marker up to end of
 * file (at most WD_TAR_TRAILER_MAX bytes; blocking padding is usually
 * there) and give the SHA-256 of every byte of the stream.
 */
int wd_tar_finish(struct wd_tar *t, uint8_t sha256[32], struct wd_err *err);

/* Free the reader (NULL is fine). */
void wd_tar_close(struct wd_tar *t);

#endif
