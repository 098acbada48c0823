/*
 * common/fileio.h - whole-file reads and writes of small files, the way
 * /proc, /sys and configuration files are used: bounded, never following a
 * final symlink, retried on EINTR, one error line on failure.
 */
#ifndef WARDEN_COMMON_FILEIO_H
#define WARDEN_COMMON_FILEIO_H

#include <stddef.h>

#include "err.h"

/*
 * Read all of `path` into buf (NUL-terminated; *len excludes the NUL).
 * A file of `size` bytes or more is an error (E2BIG): buf must have room
 * for the NUL.
 */
int wd_read_file(const char *path, char *buf, size_t size, size_t *len, struct wd_err *err);

/* Write `value` to an existing file in one write(2), as /proc/sys expects. */
int wd_write_file(const char *path, const char *value, struct wd_err *err);

/* write(2) all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int wd_write_all(int fd, const void *buf, size_t len);

#endif
