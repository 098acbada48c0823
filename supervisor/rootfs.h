/*
 * supervisor/rootfs.h - the image's root filesystem, as warden-init left it
 * for the supervisor: verified (dm-verity), mounted read-only, and named in
 * three environment variables (docs/init.md, docs/image.md):
 *
 *   WARDEN_ROOTFS       where it is mounted (/run/warden/rootfs): the
 *                       agent's read-only binds come from it (sandbox.h)
 *   WARDEN_ROOTFS_HASH  its dm-verity root hash, 64 lowercase hex; HELLO's
 *                       rootfs_root_hash (which the host compares with the
 *                       image's manifest.json) is the kernel's table's, and
 *                       must be this
 *   WARDEN_ROOTFS_DM    the device-mapper device it is mounted from
 *                       (warden-root)
 *
 * All three or none: a guest without an image root filesystem sets none,
 * and one that sets only some is refused (the supervisor does not start
 * a job it cannot check).
 *
 * Fail closed on corruption. dm-verity answers a block whose hash is wrong
 * with EIO and remembers it: its status line turns from 'V' to 'C' and
 * stays so. The supervisor asks the kernel (DM_TABLE_STATUS on
 * /dev/mapper/control) before HELLO (whose root hash is the table's),
 * before the agent starts and after it ends (on every way out, taking
 * precedence over any other failure); a 'C', a device that is not the
 * verity target it should be, a table whose root hash is not
 * WARDEN_ROOTFS_HASH, or a query that fails while the root filesystem is
 * in use, fails the job (docs/image.md). What the agent read
 * meanwhile may have been refused by the kernel; what it did with what it
 * read is not trusted either way.
 *
 * The kernel's answer is parsed with every offset and length checked
 * (sup_verity_parse), though it comes from the trusted side: the parser is
 * unit-tested against malformed buffers.
 */
#ifndef WARDEN_SUPERVISOR_ROOTFS_H
#define WARDEN_SUPERVISOR_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../sandbox/sandbox.h"
#include "../vsock/msg.h"

#define SUP_ROOTFS_DM_NAME_MAX 127  /* bytes of a device-mapper name (DM_NAME_LEN - 1) */
#define SUP_ROOTFS_DEV_BYTES 32     /* a block device's name ("vda") or "MAJ:MIN" */
#define SUP_VERITY_IOCTL_BYTES 8192 /* DM_TABLE_STATUS's buffer: one verity target */

struct sup_rootfs {
	bool on;                             /* the three variables are set */
	char mount[SUP_SB_PATH_MAX];         /* WARDEN_ROOTFS */
	char root_hash[WD_SHA256_HEX];       /* WARDEN_ROOTFS_HASH */
	char dm[SUP_ROOTFS_DM_NAME_MAX + 1]; /* WARDEN_ROOTFS_DM */
};

/*
 * The three values (NULL: not set) checked into `r`: all or none, the
 * mount an absolute path under SUP_SB_PATH_MAX, the hash 64 lowercase hex,
 * the device a name of [A-Za-z0-9._-]. -EINVAL naming the variable.
 */
int sup_rootfs_settings(const char *mount, const char *hash, const char *dm, struct sup_rootfs *r,
			struct wd_err *err);

/* What the kernel says of the device. */
struct sup_verity {
	char state;                      /* 'V' verified so far, 'C' corruption seen */
	char data[SUP_ROOTFS_DEV_BYTES]; /* the data device: "vda", else "MAJ:MIN" */
	char root_hash[WD_SHA256_HEX];   /* the table's root digest */
};

/*
 * DM_TABLE_STATUS's answer, `len` bytes from a struct dm_ioctl on: the
 * one target's string (status or table) into text[size]. Refused (-EINVAL
 * or -E2BIG, naming what): offsets or sizes outside the buffer, a full
 * buffer (DM_BUFFER_FULL_FLAG), not exactly one target, a target that is
 * not "verity", a string without its NUL.
 */
int sup_verity_parse(const void *buf, size_t len, char *text, size_t size, struct wd_err *err);

/* The status string: 'V' or 'C' first, then the end or a space. */
int sup_verity_parse_status(const char *text, char *state, struct wd_err *err);

/*
 * The table string ("1 254:0 254:16 4096 4096 N 0 sha256 ROOT SALT ..."):
 * version 1, the data device's MAJ:MIN into data[SUP_ROOTFS_DEV_BYTES],
 * the root digest (64 lowercase hex, sha256) into root_hash.
 */
int sup_verity_parse_table(const char *text, char data[SUP_ROOTFS_DEV_BYTES],
			   char root_hash[WD_SHA256_HEX], struct wd_err *err);

/*
 * Ask the kernel about device `dm`: its status and table, the data
 * device named by /sys/dev/block/MAJ:MIN when it can be. Returns 0 with
 * `v` filled (the state may be 'C'), or -errno: the device is missing, is
 * not one verity target, or cannot be queried.
 */
int sup_verity_query(const char *dm, struct sup_verity *v, struct wd_err *err);

/*
 * The check the job depends on: query `r`'s device and compare its root
 * digest with r->root_hash. 0 when verified so far; -EIO when corruption
 * was seen, -errno otherwise; `v` holds what was learnt (data "" if
 * nothing) and `err` one line naming the device.
 */
int sup_rootfs_check(const struct sup_rootfs *r, struct sup_verity *v, struct wd_err *err);

#endif
