/*
 * host/imageio.h - file helpers the image tool shares between build,
 * inspect, verify and wd_image_open(): digests of whole files, read with
 * a size bound and without following a final symlink.
 */
#ifndef WARDEN_HOST_IMAGEIO_H
#define WARDEN_HOST_IMAGEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "image.h"

/* Parse 64 hex digits into 32 bytes; -EINVAL when s is not that. */
int wd_img_unhex32(const char *s, uint8_t out[32]);

/*
 * SHA-256 of everything `fd` reads from its current offset, at most `max`
 * bytes (-E2BIG beyond); *size gets the byte count (may be NULL). `what`
 * names the file in messages.
 */
int wd_img_digest_fd(int fd, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX], const char *what,
		     struct wd_err *err);

/* The same for the regular file `path` (O_NOFOLLOW). */
int wd_img_digest_file(const char *path, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX],
		       struct wd_err *err);

/* sha256 of a buffer, as hex. */
void wd_img_digest_buf(const void *p, size_t n, char hex[WD_IMAGE_HEX]);

/* Open `path` read-only (O_NOFOLLOW), and check it is a regular file;
 * its size in *size. Returns the fd or -errno. */
int wd_img_open_regular(const char *path, uint64_t *size, struct wd_err *err);

/*
 * A private copy of the regular file `path` (at most `max` bytes) in a
 * sealed memfd, and its SHA-256: what is checked is what is used later,
 * whoever writes to the file meanwhile. Returns the memfd or -errno.
 */
int wd_img_snapshot(const char *path, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX],
		    struct wd_err *err);

/*
 * `gzip -dc` of `in_fd` (read from its start) into a malloc'd buffer of at
 * most `max` bytes (gzip runs under RLIMIT_FSIZE, so a bomb stops there).
 */
int wd_img_gunzip(int in_fd, uint64_t max, uint8_t **out, size_t *len, struct wd_err *err);

/*
 * The kernel release at the start of a bzImage's version string (x86 boot
 * protocol 2.00 and later: "HdrS" at 0x202, the string's offset less 0x200
 * at 0x20e), read from `fd` at offset 0. -EINVAL when it has none.
 */
int wd_img_bzimage_kver(int fd, char *kver, size_t size, struct wd_err *err);

/*
 * All of the regular file `path` (at most `max` bytes) in a malloc'd,
 * NUL-terminated buffer; `follow`: whether a final symlink is followed (an
 * operator's input file) or refused (a file of an image directory).
 */
int wd_img_read_file(const char *path, size_t max, bool follow, char **out, size_t *len,
		     struct wd_err *err);

#endif
