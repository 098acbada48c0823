/*
 * supervisor/measure.h - SHA-256 measurements (common/sha256.c), in lowercase hex
 * (common/tlog.h wd_hex).
 *
 * The supervisor measures what runs in the guest for its HELLO (PID 1's
 * program, its own, the image manifest) and checks every uploaded file
 * against the digest the job declared. Files are read in bounded chunks of
 * SUP_MEASURE_CHUNK bytes; nothing is allocated.
 */
#ifndef WARDEN_SUPERVISOR_MEASURE_H
#define WARDEN_SUPERVISOR_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../vsock/msg.h"

#define SUP_MEASURE_CHUNK 65536
#define SUP_SHA256_BYTES 32

/*
 * SHA-256 of the whole file at `path` (a final symlink is followed: the
 * measured paths are /proc magic links). Returns 0, or -errno with `err`
 * naming the path; -ENOENT when it does not exist.
 */
int sup_sha256_file(const char *path, char hex[WD_SHA256_HEX], struct wd_err *err);

#endif
