/*
 * init/rootfs.h - the image's root filesystem, verified before it is used.
 *
 * A golden image carries a read-only erofs root filesystem on one virtio
 * block device and its dm-verity hash tree on another; the initramfs pins
 * both in INIT_ROOTFS_PIN_FILE (format: docs/image.md, "The rootfs pin").
 * PID 1, in a VM, after the modules are loaded and locked:
 *
 *   1. parses the pin (init_rootfs_pin_parse, pure, fuzzed);
 *   2. finds the two devices by their virtio serial (/sys/block/NAME/serial)
 *      and checks their sizes;
 *   3. reads the whole hash tree and checks it against the pinned root hash
 *      (init_verity_check, pure over a read callback, unit-tested against
 *      veritysetup's output);
 *   4. creates the dm-verity device INIT_ROOTFS_DM_NAME through the
 *      device-mapper ioctls (dm.c), read-only;
 *   5. reads the filesystem's first block through it (the superblock, which
 *      dm-verity checks against the tree) and mounts it read-only, nodev,
 *      nosuid at INIT_ROOTFS_MOUNT.
 *
 * Every failure is one error (struct wd_err) that main.c prints as the
 * one line before the VM ends: there is no boot with an unverified root.
 * An image without the pin file has no root filesystem: reported, not an
 * error. Data blocks are not read here: dm-verity checks each one when it
 * is read, and a read of a block that does not match fails with EIO.
 *
 * Format 1 only (the one `veritysetup --format=1` writes): digest =
 * SHA-256(salt || block), 4096-byte data and hash blocks, no superblock,
 * the tree from byte 0 of the hash device, top level first (the layout of
 * the kernel's drivers/md/dm-verity-target.c and of
 * Documentation/admin-guide/device-mapper/verity.rst).
 */
#ifndef WARDEN_INIT_ROOTFS_H
#define WARDEN_INIT_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define INIT_ROOTFS_PIN_FILE "/etc/warden/rootfs"
#define INIT_ROOTFS_PIN_MAX_BYTES 4096 /* the whole pin file */
#define INIT_ROOTFS_SERIAL_MAX 20      /* bytes of a virtio-blk serial (VIRTIO_BLK_ID_BYTES) */
#define INIT_ROOTFS_BLOCK_BYTES 4096   /* data and hash blocks: the only size format 1 takes */
/* 2^28 blocks of 4 KiB: a 1 TiB root filesystem, a hash tree of about 8 GiB. */
#define INIT_ROOTFS_MAX_DATA_BLOCKS (1ULL << 28)
#define INIT_ROOTFS_SALT_BYTES 32
#define INIT_ROOTFS_HASH_BYTES 32 /* SHA-256 */
#define INIT_ROOTFS_MOUNT "/run/warden/rootfs"
#define INIT_ROOTFS_DM_NAME "warden-root"
#define INIT_ROOTFS_DEV_NAME_MAX 32 /* a kernel block device name ("vda") */

/* The pin, as parsed. Every field was present exactly once and is in range. */
struct init_rootfs_pin {
	char data_serial[INIT_ROOTFS_SERIAL_MAX + 1];
	char hash_serial[INIT_ROOTFS_SERIAL_MAX + 1];
	uint64_t data_blocks; /* 1 .. INIT_ROOTFS_MAX_DATA_BLOCKS */
	uint8_t salt[INIT_ROOTFS_SALT_BYTES];
	uint8_t root_hash[INIT_ROOTFS_HASH_BYTES];
	char salt_hex[2 * INIT_ROOTFS_SALT_BYTES + 1];      /* lower-case, as written */
	char root_hash_hex[2 * INIT_ROOTFS_HASH_BYTES + 1]; /* lower-case, as written */
};

/*
 * Parse the pin: `len` bytes (need not be NUL-terminated), at most
 * INIT_ROOTFS_PIN_MAX_BYTES. Lines are "key value" with exactly one space,
 * '\n'-terminated (the last may lack it); empty lines and lines starting
 * with '#' are comments. Keys: format (1), fs (erofs), data-serial,
 * hash-serial (1-20 of [A-Za-z0-9._-], different), data-blocks (decimal,
 * 1 .. INIT_ROOTFS_MAX_DATA_BLOCKS), data-block-size (4096),
 * hash-block-size (4096), hash-offset (0), algorithm (sha256), salt and
 * root-hash (64 lower-case hex digits). Every key exactly once; an
 * unknown key, a NUL, a control character or a value out of range is an
 * error naming the line. Returns 0 or -EINVAL / -E2BIG.
 */
int init_rootfs_pin_parse(const char *text, size_t len, struct init_rootfs_pin *pin,
			  struct wd_err *err);

/* ---- the hash tree (verity.c) --------------------------------------------- */

#define INIT_VERITY_HASHES_PER_BLOCK (INIT_ROOTFS_BLOCK_BYTES / INIT_ROOTFS_HASH_BYTES)
#define INIT_VERITY_MAX_LEVELS 8 /* 128^8 > 2^56: more than any data-blocks allowed */

/*
 * Where dm-verity finds each level of the tree on the hash device, in
 * blocks from its start. Level 0 holds the digests of the data blocks,
 * level `levels`-1 is one block whose digest is the root hash. With one
 * data block there is no tree at all (levels 0): the root hash is that
 * block's digest.
 */
struct init_verity_geom {
	uint64_t data_blocks;
	unsigned levels;
	uint64_t level_start[INIT_VERITY_MAX_LEVELS];  /* first block of level i */
	uint64_t level_blocks[INIT_VERITY_MAX_LEVELS]; /* blocks in level i */
	uint64_t hash_blocks;                          /* all levels: the tree's size */
};

/* The layout for `data_blocks` (1 .. INIT_ROOTFS_MAX_DATA_BLOCKS), hash offset 0. */
int init_verity_geometry(uint64_t data_blocks, struct init_verity_geom *g, struct wd_err *err);

enum init_verity_dev { INIT_VERITY_DATA, INIT_VERITY_HASH };

/* Read block `block` of device `dev` into buf (INIT_ROOTFS_BLOCK_BYTES). */
typedef int (*init_verity_read_fn)(enum init_verity_dev dev, uint64_t block, uint8_t *buf,
				   void *ctx, struct wd_err *err);

/*
 * Check the whole tree of `g` against `root`: every hash block is read
 * once, every block of level i+1 must be exactly the digests of the blocks
 * of level i below it (zero-padded, as veritysetup writes it), and the top
 * block's digest must be `root`. Only the data device's block 0 is read,
 * and only when there is no tree (levels 0). Memory: one block per level.
 * Returns 0; -EBADMSG when the tree does not match (err says where); or
 * the read callback's error.
 */
int init_verity_check(const struct init_verity_geom *g, const uint8_t salt[INIT_ROOTFS_SALT_BYTES],
		      const uint8_t root[INIT_ROOTFS_HASH_BYTES], init_verity_read_fn read,
		      void *ctx, struct wd_err *err);

/* ---- device-mapper (dm.c) -------------------------------------------------- */

/*
 * Create `name` as one read-only target of type `target` (init: "verity";
 * bench/rdbench: "linear") of `sectors` 512-byte sectors with `params`, and
 * activate it: DM_VERSION (major 4), then DM_DEV_CREATE, DM_TABLE_LOAD,
 * DM_DEV_SUSPEND (resume). `*dev` is the new device's number. On failure
 * after the create the device is removed again.
 */
int init_dm_create(const char *name, const char *target, uint64_t sectors, const char *params,
		   uint64_t *dev, struct wd_err *err);

/* ---- the phase (rootfs.c) ----------------------------------------------------- */

/* What the phase set up: for the supervisor's environment and init's record. */
struct init_rootfs {
	bool present; /* false: the image has no root filesystem */
	char root_hash_hex[2 * INIT_ROOTFS_HASH_BYTES + 1];
	char data_dev[INIT_ROOTFS_DEV_NAME_MAX]; /* "vda" */
	char hash_dev[INIT_ROOTFS_DEV_NAME_MAX]; /* "vdb" */
};

int init_rootfs_setup(struct init_rootfs *out, struct wd_err *err);

#endif
